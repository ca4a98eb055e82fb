/* SPDX-License-Identifier: MIT */
/*
 * Threat intel lookups with N indicators loaded (default 1 million, the mix
 * of tools/intel-gen): load time through the plain-list loader, then ns per
 * lookup for each field kind, hits and misses, and the cost per event of the
 * lookups the worker does for a flow start, a DNS, an HTTP and a TLS
 * transaction. Times are thread CPU time (steady on a shared machine); wall
 * time of the load is printed too.
 *
 * usage: bench_intel [N]
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "detect/intel/intel.h"

static uint64_t rng = 0x9E3779B97F4A7C15ull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static uint64_t ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static const char *const words[] = {"cdn", "update", "login", "secure", "mail",
				    "api", "static", "files", "auth",	"portal"};
static const char *const tlds[] = {"com", "net", "org", "io", "xyz"};

static void label(char *out, size_t cap)
{
	snprintf(out, cap, "%s%08llx", words[rnd() % 10],
		 (unsigned long long)(rnd() & 0xffffffffull));
}

/* One indicator of the intel-gen mix; fills the hit samples as it goes. */
#define NSAMPLE 4096
static uint8_t hit_ip[NSAMPLE][4], hit_sha[NSAMPLE][32];
static char hit_dom[NSAMPLE][64];
static unsigned nhit_ip, nhit_sha, nhit_dom;

static void gen(FILE *f)
{
	unsigned x = (unsigned)(rnd() % 100);
	char l[32];

	if (x < 38) {
		uint8_t a[4] = {(uint8_t)(1 + rnd() % 223), (uint8_t)rnd(), (uint8_t)rnd(),
				(uint8_t)(1 + rnd() % 254)};

		fprintf(f, "%u.%u.%u.%u\n", a[0], a[1], a[2], a[3]);
		if (nhit_ip < NSAMPLE)
			memcpy(hit_ip[nhit_ip++], a, 4);
	} else if (x < 40) {
		fprintf(f, "%u.%u.%u.0/%u\n", (unsigned)(1 + rnd() % 223), (unsigned)(rnd() & 255),
			(unsigned)(rnd() & 255), 16 + 4 * (unsigned)(rnd() % 4));
	} else if (x < 45) {
		fprintf(f, "2001:db8:%x:%x::%x\n", (unsigned)(rnd() & 0xffff),
			(unsigned)(rnd() & 0xffff), (unsigned)(rnd() & 0xffff));
	} else if (x < 75) {
		label(l, sizeof(l));
		fprintf(f, "%s.%s\n", l, tlds[rnd() % 5]);
		if (nhit_dom < NSAMPLE)
			snprintf(hit_dom[nhit_dom++], 64, "www.%s.%s", l, tlds[rnd() % 1]);
	} else if (x < 85) {
		label(l, sizeof(l));
		fprintf(f, "http://%s.%s/%s/x.php\n", l, tlds[rnd() % 5], words[rnd() % 10]);
	} else if (x < 95) {
		uint8_t d[32];

		for (unsigned i = 0; i < 32; i++)
			d[i] = (uint8_t)rnd();
		for (unsigned i = 0; i < 32; i++)
			fprintf(f, "%02x", d[i]);
		fputc('\n', f);
		if (nhit_sha < NSAMPLE)
			memcpy(hit_sha[nhit_sha++], d, 32);
	} else {
		fprintf(f, "%016llx%016llx\n", (unsigned long long)rnd(),
			(unsigned long long)rnd());
	}
}

#define REPS 2000000u

static volatile uintptr_t sink;

#define TIME(name, expr)                                                        \
	do {                                                                    \
		uint64_t t0_ = ns(CLOCK_THREAD_CPUTIME_ID);                     \
		for (unsigned r = 0; r < REPS; r++)                             \
			sink += (uintptr_t)(expr);                              \
		double v_ = (double)(ns(CLOCK_THREAD_CPUTIME_ID) - t0_) / REPS; \
		printf("  %-36s %7.1f ns\n", name, v_);                         \
		res[nres++] = v_;                                               \
	} while (0)

int main(int argc, char **argv)
{
	unsigned n = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 1000000;
	char path[] = "/tmp/bench_intel_XXXXXX", err[256];
	int fd = mkstemp(path);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	struct nj_intel_set *s;
	struct nj_intel_source src = {.path = path, .format = NJ_IF_PLAIN, .name = "bench"};
	uint64_t w0, c0;
	double res[16];
	unsigned nres = 0;
	static uint8_t miss_ip[NSAMPLE][4], miss_sha[NSAMPLE][32];
	static char miss_dom[NSAMPLE][64], miss_host[NSAMPLE][64], miss_uri[NSAMPLE][64];

	if (!f) {
		perror("temp file");
		return 1;
	}
	for (unsigned i = 0; i < n; i++)
		gen(f);
	fclose(f);
	for (unsigned i = 0; i < NSAMPLE; i++) {
		char l[32];

		for (unsigned k = 0; k < 4; k++)
			miss_ip[i][k] = (uint8_t)rnd();
		for (unsigned k = 0; k < 32; k++)
			miss_sha[i][k] = (uint8_t)rnd();
		label(l, sizeof(l));
		snprintf(miss_dom[i], 64, "img.%s.example.com", l);
		snprintf(miss_host[i], 64, "%s.example.net", l);
		snprintf(miss_uri[i], 64, "/static/%s/app.js?v=3", l);
	}

	s = nj_intel_set_new(2ull << 30);
	w0 = ns(CLOCK_MONOTONIC);
	c0 = ns(CLOCK_THREAD_CPUTIME_ID);
	if (!s || nj_intel_load(s, &src, err, sizeof(err)) < 0 || nj_intel_set_finish(s) < 0) {
		fprintf(stderr, "load: %s\n", err);
		unlink(path);
		return 1;
	}
	printf("bench_intel: %u indicators loaded in %.3f s CPU (%.3f s wall), %.1f MiB, %.0f "
	       "ns/indicator\n",
	       s->ninds, (double)(ns(CLOCK_THREAD_CPUTIME_ID) - c0) / 1e9,
	       (double)(ns(CLOCK_MONOTONIC) - w0) / 1e9, (double)s->mem / (1 << 20),
	       (double)(ns(CLOCK_THREAD_CPUTIME_ID) - c0) / s->ninds);
	unlink(path);

	printf("per lookup (thread CPU time, %u lookups each):\n", REPS);
	TIME("ip miss (v4, all prefix lengths)", nj_intel_match_ip(s, miss_ip[r % NSAMPLE], 4));
	TIME("ip hit", nj_intel_match_ip(s, hit_ip[r % nhit_ip], 4));
	TIME("domain miss (4 labels)",
	     nj_intel_match_domain(s, (const uint8_t *)miss_dom[r % NSAMPLE],
				   (uint32_t)strlen(miss_dom[r % NSAMPLE])));
	TIME("domain hit (sub-domain)",
	     nj_intel_match_domain(s, (const uint8_t *)hit_dom[r % nhit_dom],
				   (uint32_t)strlen(hit_dom[r % nhit_dom])));
	TIME("url miss (with query)", nj_intel_match_url(s, (const uint8_t *)miss_host[r % NSAMPLE],
							 (uint32_t)strlen(miss_host[r % NSAMPLE]),
							 (const uint8_t *)miss_uri[r % NSAMPLE],
							 (uint32_t)strlen(miss_uri[r % NSAMPLE])));
	TIME("sha256 miss", nj_intel_match_hash(s, NJ_IK_SHA256, miss_sha[r % NSAMPLE], 32));
	TIME("sha256 hit", nj_intel_match_hash(s, NJ_IK_SHA256, hit_sha[r % nhit_sha], 32));
	TIME("ja3 miss",
	     nj_intel_match_text(s, NJ_IK_JA3, (const uint8_t *)"e7d705a3286e19ea42f587b344ee6865",
				 32));
	/* per event: what the worker looks up (misses, the common case) */
	printf("per event (sum of its lookups, misses):\n");
	printf("  %-36s %7.1f ns\n", "flow start (src + dst address)", 2 * res[0]);
	printf("  %-36s %7.1f ns\n", "DNS tx (query, answer name + A)", 2 * res[2] + res[0]);
	printf("  %-36s %7.1f ns\n", "HTTP tx (host, url)", res[2] + res[4]);
	printf("  %-36s %7.1f ns\n", "TLS tx (sni, ja3, ja4, cert)", res[2] + 3 * res[7]);
	printf("  %-36s %7.1f ns\n", "file close (sha256)", res[5]);
	nj_intel_set_free(s);
	return 0;
}
