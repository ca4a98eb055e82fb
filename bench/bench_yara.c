/* SPDX-License-Identifier: MIT */
/*
 * Cost of YARA on carved files against the cost of hashing them, measured in
 * the same run on the same bytes: 1 MiB files delivered in 1448-byte pieces
 * (a TCP segment's payload) to SHA-256, to MD5+SHA-1+SHA-256, and to the
 * YARA scanner (bytes kept in its arena, one scan at close: what a worker
 * does per file), for two contents: random bytes and HTML-like text. Also the
 * per-file cost of small (4 KiB) files. Rules: the corpus set
 * (../shared/corpus/yara/index.yar) unless a path is given; with neither, a
 * small built-in set.
 * Usage: bench_yara [MiB [rules.yar]]   (default 64 MiB)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "detect/yara/yara.h"
#include "parsers/files.h"

#define FILE_BYTES (1u << 20)
#define SMALL	   4096u
#define PIECE	   1448u

#ifndef NJ_BENCH_SRCROOT
#define NJ_BENCH_SRCROOT "."
#endif

/* CPU time of this thread: the VM's other tenants do not count */
static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void fill_random(uint8_t *d, size_t n)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;

	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		d[i] = (uint8_t)x;
	}
}

static void fill_text(uint8_t *d, size_t n)
{
	static const char *const w[] = {"<div class=\"item\">",
					"the ",
					"weather ",
					"report ",
					"<a href=\"/news/\">",
					"function(",
					"var x = ",
					"</div>\n",
					"price ",
					"login ",
					"archive ",
					"2023 "};
	size_t i = 0, k = 0;

	while (i < n) {
		const char *s = w[(k * 7 + k / 3) % (sizeof(w) / sizeof(w[0]))];
		size_t l = strlen(s);

		if (l > n - i)
			l = n - i;
		memcpy(d + i, s, l);
		i += l;
		k++;
	}
}

/* Hashes nfiles files of size bytes in pieces; returns seconds. */
static double hash_run(const uint8_t *data, unsigned nfiles, uint32_t size, bool all)
{
	const char *names[3] = {"SHA256", "MD5", "SHA1"};
	EVP_MD *md[3] = {0};
	EVP_MD_CTX *ctx[3] = {0};
	unsigned nh = all ? 3 : 1;
	uint8_t out[64];
	unsigned int ol;
	double t0;

	for (unsigned h = 0; h < nh; h++) {
		md[h] = EVP_MD_fetch(NULL, names[h], NULL);
		ctx[h] = EVP_MD_CTX_new();
	}
	t0 = now_s();
	for (unsigned i = 0; i < nfiles; i++) {
		const uint8_t *f = data + (size_t)(i % 8) * size;

		for (unsigned h = 0; h < nh; h++)
			EVP_DigestInit_ex(ctx[h], md[h], NULL);
		for (uint32_t off = 0; off < size; off += PIECE) {
			uint32_t n = size - off < PIECE ? size - off : PIECE;

			for (unsigned h = 0; h < nh; h++)
				EVP_DigestUpdate(ctx[h], f + off, n);
		}
		for (unsigned h = 0; h < nh; h++)
			EVP_DigestFinal_ex(ctx[h], out, &ol);
	}
	t0 = now_s() - t0;
	for (unsigned h = 0; h < nh; h++) {
		EVP_MD_CTX_free(ctx[h]);
		EVP_MD_free(md[h]);
	}
	return t0;
}

static double yara_run(struct nj_yara_worker *w, const uint8_t *data, unsigned nfiles,
		       uint32_t size)
{
	struct nj_file_view v = {.state = NJ_FILE_CLOSED, .size = size};
	double t0 = now_s();

	for (unsigned i = 0; i < nfiles; i++) {
		const uint8_t *f = data + (size_t)(i % 8) * size;

		for (uint32_t off = 0; off < size; off += PIECE) {
			uint32_t n = size - off < PIECE ? size - off : PIECE;

			nj_yara_file_ops.data(w, 0, off, f + off, n);
		}
		nj_yara_file_ops.scan(w, 0, &v);
		nj_yara_file_ops.done(w, 0, &v);
		nj_yara_file_ops.release(w, 0);
	}
	return now_s() - t0;
}

static const char *builtin_rules(void)
{
	static char path[] = "/tmp/bench_yara_XXXXXX.yar";
	int fd = mkstemps(path, 4);
	FILE *fp = fd >= 0 ? fdopen(fd, "w") : NULL;

	if (!fp)
		return NULL;
	fputs("rule Eicar { strings: $a = \"EICAR-STANDARD-ANTIVIRUS-TEST-FILE\" condition: $a }\n"
	      "rule Php_Eval { strings: $a = /eval\\s*\\(\\s*\\$_(GET|POST)/ nocase condition: $a "
	      "}\n"
	      "rule Mz { condition: uint16(0) == 0x5a4d and filesize < 10MB }\n",
	      fp);
	fclose(fp);
	return path;
}

int main(int argc, char **argv)
{
	unsigned mib = argc > 1 ? (unsigned)atoi(argv[1]) : 64;
	const char *rules =
		argc > 2 ? argv[2] : NJ_BENCH_SRCROOT "/../shared/corpus/yara/index.yar";
	struct nj_yara_config cfg;
	struct nj_yara *y;
	struct nj_yara_worker *w;
	uint8_t *data;
	bool builtin = false;

	if (!mib)
		mib = 64;
	if (access(rules, R_OK) != 0) {
		rules = builtin_rules();
		builtin = true;
	}
	if (!rules)
		return 1;
	nj_yara_config_defaults(&cfg);
	cfg.enabled = true;
	cfg.rules[0] = rules;
	cfg.nrules = 1;
	cfg.max_file_size = FILE_BYTES;
	cfg.memcap = 2 * FILE_BYTES;
	cfg.scan_timeout = 0;
	{
		double t0 = now_s();

		y = nj_yara_create(&cfg, stderr);
		if (!y)
			return 1;
		printf("rules: %s (%u rules%s), compiled in %.2f s\n", rules, nj_yara_rule_count(y),
		       builtin ? ", built-in set: corpus absent" : "", now_s() - t0);
	}
	w = nj_yara_worker_create(y, NULL, 1);
	data = malloc(8 * (size_t)FILE_BYTES);
	if (!w || !data)
		return 1;
	printf("%u MiB per measurement, 1 MiB files in %u-byte pieces; 4 KiB files for the "
	       "per-file cost\n\n",
	       mib, PIECE);
	printf("%-8s %-22s %10s %10s %12s\n", "content", "work", "MB/s", "us/MB", "vs SHA-256");
	for (int c = 0; c < 2; c++) {
		const char *cname = c ? "text" : "random";
		double t_sha, t_all, t_y, t_small, t_small_sha;
		unsigned nsmall = mib * 256;

		if (c)
			fill_text(data, 8 * (size_t)FILE_BYTES);
		else
			fill_random(data, 8 * (size_t)FILE_BYTES);
		/* warm up */
		hash_run(data, 2, FILE_BYTES, false);
		yara_run(w, data, 2, FILE_BYTES);
		t_sha = hash_run(data, mib, FILE_BYTES, false);
		t_all = hash_run(data, mib, FILE_BYTES, true);
		t_y = yara_run(w, data, mib, FILE_BYTES);
		t_small_sha = hash_run(data, nsmall, SMALL, false);
		t_small = yara_run(w, data, nsmall, SMALL);
#define ROW(name, t)                                                                   \
	printf("%-8s %-22s %10.1f %10.1f %12.2f\n", cname, name, mib * 1.048576 / (t), \
	       (t)*1e6 / (mib * 1.048576), (t) / t_sha)
		ROW("SHA-256", t_sha);
		ROW("MD5+SHA-1+SHA-256", t_all);
		ROW("YARA (keep + scan)", t_y);
#undef ROW
		printf("%-8s %-22s %10.1f %10.1f %12.2f   (%.1f us per 4 KiB file)\n", cname,
		       "YARA, 4 KiB files", mib * 1.048576 / t_small,
		       t_small * 1e6 / (mib * 1.048576), t_small / t_small_sha,
		       t_small * 1e6 / nsmall);
	}
	{
		const struct nj_yara_stats *st = nj_yara_worker_stats(w);

		printf("\nscanned %llu files, %llu matches, %llu timeouts\n",
		       (unsigned long long)st->scanned, (unsigned long long)st->matches,
		       (unsigned long long)st->timeouts);
	}
	nj_yara_worker_destroy(w);
	nj_yara_destroy(y);
	free(data);
	if (builtin)
		unlink(rules);
	return 0;
}
