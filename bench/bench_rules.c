/* SPDX-License-Identifier: MIT */
/*
 * Rule loading and single-buffer evaluation:
 *  - load time and memory of the ET Open set in ../shared/corpus (if present);
 *  - ns per nj_detect_inspect_buffer() for typical signatures on a 1.4 KB
 *    HTTP-like buffer, against a plain memmem() of the same pattern in the
 *    same run (the ratio is what the inspection machinery costs on top);
 *  - ns per list evaluation averaged over every ET Open signature.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "detect/detect.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint8_t buf[1400];
static volatile uintptr_t sink;

static void make_buffer(void)
{
	static const char head[] =
		"POST /index.php?page=1&id=42 HTTP/1.1\r\nHost: www.example.com\r\n"
		"User-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64)\r\n"
		"Accept: */*\r\nContent-Type: application/x-www-form-urlencoded\r\n"
		"Content-Length: 1200\r\n\r\n";
	size_t n = strlen(head);

	memcpy(buf, head, n);
	for (size_t i = n; i < sizeof(buf); i++)
		buf[i] = (uint8_t)("abcdefghijklmnopqrstuvwxyz0123456789=&"[(i * 7) % 38]);
	memcpy(buf + sizeof(buf) - 16, "cmd=whoami&x=1\r\n", 16);
}

struct bcase {
	const char *name;
	const char *opts;
	const char *baseline; /* pattern for memmem */
};

static const struct bcase cases[] = {
	{"content, no match", "content:\"/wp-login.php\";", "/wp-login.php"},
	{"content, match at end", "content:\"cmd=whoami\";", "cmd=whoami"},
	{"content nocase, match", "content:\"CMD=WHOAMI\"; nocase;", "cmd=whoami"},
	{"content + distance/within",
	 "content:\"POST\"; startswith; content:\"id=\"; distance:0; "
	 "within:40; content:\"whoami\"; distance:0;",
	 "whoami"},
	{"content + pcre", "content:\"cmd=\"; pcre:\"/cmd=(whoami|id|uname)/\";", "cmd="},
	{"content + byte_test", "content:\"Length: \"; byte_test:4,>,100,0,relative,string,dec;",
	 "Length: "},
	{"negated content", "content:\"POST\"; content:!\"wget\"; distance:0;", "wget"},
};

static double bench_case(struct nj_detect_rules *r, struct nj_detect_ctx *c, const struct bcase *b,
			 double *base_ns)
{
	char rule[1024], err[512];
	bool skipped;
	struct nj_detect_sig *s;
	const unsigned iters = 200000;
	uint64_t t0, t1;
	size_t pl = strlen(b->baseline);
	unsigned hits = 0;

	snprintf(rule, sizeof(rule), "alert tcp any any -> any any (%s sid:1;)", b->opts);
	s = nj_detect_parse_rule(r, rule, err, sizeof(err), &skipped);
	if (!s) {
		fprintf(stderr, "%s: %s\n", b->name, err);
		return -1;
	}
	t0 = now_ns();
	for (unsigned i = 0; i < iters; i++)
		hits += nj_detect_inspect_buffer(c, s, &s->lists[0], buf, sizeof(buf), 0);
	t1 = now_ns();
	sink += hits;
	double ns = (double)(t1 - t0) / iters;

	t0 = now_ns();
	for (unsigned i = 0; i < iters; i++)
		sink += (uintptr_t)memmem(buf, sizeof(buf), b->baseline, pl);
	t1 = now_ns();
	*base_ns = (double)(t1 - t0) / iters;
	return ns;
}

static void bench_et(void)
{
	const char *dir = NJ_BENCH_SRCROOT "/../shared/corpus/rules/et-open";
	const char *files[128];
	char *owned[128];
	unsigned n = 0;
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d) {
		printf("ET Open corpus absent: load benchmark skipped\n");
		return;
	}
	while ((de = readdir(d)) && n < 128) {
		size_t l = strlen(de->d_name);

		if (l < 7 || strcmp(de->d_name + l - 6, ".rules") != 0)
			continue;
		owned[n] = malloc(strlen(dir) + l + 2);
		sprintf(owned[n], "%s/%s", dir, de->d_name);
		files[n] = owned[n];
		n++;
	}
	closedir(d);

	struct nj_detect_load_stats st;
	struct nj_detect_rules *r = NULL;
	uint64_t best = UINT64_MAX;

	for (int run = 0; run < 3; run++) {
		nj_detect_rules_free(r);
		r = nj_detect_load(NULL, files, n, NULL, &st);
		if (st.load_ns < best)
			best = st.load_ns;
	}
	printf("ET Open load: %u rules, %u loaded, %u failed, %u skipped, best of 3: %.1f ms "
	       "(%.1f us/rule), %.1f MiB\n",
	       st.rules, st.loaded, st.failed, st.skipped, best / 1e6, best / 1e3 / st.rules,
	       st.mem_bytes / 1048576.0);

	struct nj_detect_ctx *c = nj_detect_ctx_new(r);
	uint64_t lists = 0, t0 = now_ns();

	for (int rep = 0; rep < 5; rep++) {
		for (uint32_t i = 0; i < r->nsigs; i++) {
			const struct nj_detect_sig *s = r->sigs[i];

			nj_detect_sig_begin(c);
			for (unsigned l = 0; l < s->nlists; l++, lists++)
				sink += nj_detect_inspect_buffer(c, s, &s->lists[l], buf,
								 sizeof(buf), NJ_DETECT_EOF);
		}
	}
	uint64_t t1 = now_ns();

	printf("ET Open evaluation: %lu list evaluations on a 1400 B buffer, %.0f ns each "
	       "(every list of every rule, no prefilter)\n",
	       (unsigned long)lists, (double)(t1 - t0) / (double)lists);
	nj_detect_ctx_free(c);
	nj_detect_rules_free(r);
	for (unsigned i = 0; i < n; i++)
		free(owned[i]);
}

int main(void)
{
	struct nj_detect_rules *r = nj_detect_rules_new(NULL);
	struct nj_detect_ctx *c = nj_detect_ctx_new(r);

	make_buffer();
	printf("%-28s %10s %12s %8s\n", "signature (1400 B buffer)", "ns/inspect", "memmem ns",
	       "ratio");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		double base, ns = bench_case(r, c, &cases[i], &base);

		if (ns < 0)
			continue;
		printf("%-28s %10.1f %12.1f %8.2f\n", cases[i].name, ns, base, ns / base);
	}
	nj_detect_ctx_free(c);
	nj_detect_rules_free(r);
	bench_et();
	return 0;
}
