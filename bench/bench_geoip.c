/* SPDX-License-Identifier: MIT */
/*
 * Cost per event of GeoIP enrichment. One worker formats N flow events
 * (client in HOME_NET, server external: one lookup per event, as on a
 * perimeter link) into a plain /dev/null sink, so the figure is formatting
 * plus enrichment, no compression or disk. Every mode runs in the same
 * process and is printed as ns/event and as a ratio against the baseline
 * measured first (the same events without GeoIP):
 *   base        no GeoIP
 *   cache-hot   GeoIP, default cache, 1024 distinct external addresses
 *   cache-cold  GeoIP, default cache, random addresses (nearly every lookup misses)
 *   no-cache    GeoIP, cache-size 0, 1024 distinct addresses (a database walk each time)
 * and the bare nj_geoip_lookup() cost of a hit and of a miss. Times are the
 * worker thread's CPU time (the EVE writer thread is not counted).
 * Usage: bench_geoip [events] [city.mmdb] [asn.mmdb]
 *   (default 1000000 and the corpus test databases; real GeoLite2 files have
 *   deeper trees, so misses cost more there.)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/config.h"
#include "dataplane/flow.h"
#include "export/eve.h"
#include "export/geoip.h"

#define CORPUS NJ_BENCH_SRCROOT "/../shared/corpus/geoip/test-data/"
#define HOT    1024u
#define ROUNDS 3
#define NMODES 4

static double now_s(void)
{
	struct timespec ts;

	/*
	 * The worker thread's CPU time, not wall time: on a shared machine a
	 * neighbour's load then does not count as our cost.
	 */
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* External addresses: inside the networks of the test databases (most known). */
static void ext_addr(uint8_t *a, uint32_t x)
{
	static const uint8_t nets[][3] = {{81, 2, 69},	   {89, 160, 20}, {216, 160, 83},
					  {175, 16, 199},  {1, 0, 0},	  {1, 128, 0},
					  {67, 43, 156},   {2, 125, 160}, {214, 78, 120},
					  {202, 196, 224}, {12, 81, 92},  {8, 8, 8}};
	const uint8_t *n = nets[(x >> 8) % (sizeof(nets) / sizeof(nets[0]))];

	a[0] = n[0];
	a[1] = n[1];
	a[2] = n[2];
	a[3] = (uint8_t)x;
}

static void mk_flow(struct nj_flow *f, unsigned i, bool cold)
{
	/* a random pick among HOT addresses (a cyclic order would defeat any LRU) */
	uint32_t x = (uint32_t)(((i * 2654435761u) >> 7) % HOT) * 2654435761u;

	memset(f, 0, sizeof(*f));
	f->proto = 6;
	f->client = 0;
	f->addr[0][0] = 192;
	f->addr[0][1] = 168;
	f->addr[0][2] = (uint8_t)(i >> 8);
	f->addr[0][3] = (uint8_t)i;
	if (cold) {
		x = (uint32_t)i * 2654435761u ^ 0x5bd1e995u;
		memcpy(f->addr[1], &x, 4);
		f->addr[1][0] = (uint8_t)(f->addr[1][0] % 223 + 1);
		if (f->addr[1][0] == 192 || f->addr[1][0] == 10 || f->addr[1][0] == 172)
			f->addr[1][0]++;
	} else {
		ext_addr(f->addr[1], x >> 12);
	}
	f->port[0] = (uint16_t)(1024 + i % 60000);
	f->port[1] = 443;
	f->flow_id = (i * 0x9e3779b97f4a7c15ull) & 0x7ffffffffffffull;
	f->start_us = 1491603877251547ull + i * 1000ull;
	f->last_us = f->start_us + (i % 5000) * 1000ull;
	f->pkts_ts = i % 100;
	f->pkts_tc = i % 77;
	f->bytes_ts = i % 100 * 600;
	f->bytes_tc = i % 77 * 1200;
	f->state = NJ_FLOW_STATE_CLOSED;
	f->tcp_state = NJ_TCP_CLOSED;
}

/* ns per event; *bytes the JSON written. */
static double run(struct nj_geoip *g, unsigned n, bool cold, uint64_t *bytes,
		  struct nj_geoip_stats *gst)
{
	struct nj_eve_config c;
	struct nj_eve *eve;
	struct nj_eve_worker *w;
	struct nj_flow f;
	char err[256];
	double t0, t1;

	nj_eve_config_defaults(&c);
	c.offline = true;
	c.sinks[0].zstd = false;
	snprintf(c.sinks[0].path, sizeof(c.sinks[0].path), "/dev/null");
	eve = nj_eve_open(&c, 1, err, sizeof(err));
	if (!eve || (g && nj_eve_set_geoip(eve, g) < 0)) {
		fprintf(stderr, "eve: %s\n", eve ? "out of memory" : err);
		exit(1);
	}
	w = nj_eve_worker(eve, 0);
	t0 = now_s();
	for (unsigned i = 0; i < n; i++) {
		mk_flow(&f, i, cold);
		nj_eve_log_flow(w, &f, NJ_FLOW_END_TIMEOUT, "tls");
	}
	nj_eve_worker_flush(w);
	t1 = now_s();
	*bytes = nj_eve_worker_stats(w)->bytes_in;
	if (gst && nj_eve_worker_geoip(w))
		*gst = *nj_geoip_cache_stats(nj_eve_worker_geoip(w));
	nj_eve_close(eve);
	return (t1 - t0) * 1e9 / n;
}

static struct nj_geoip *open_geoip(const char *city, const char *asn, uint32_t cache,
				   const struct nj_conf *conf)
{
	struct nj_geoip_config cfg;
	struct nj_geoip *g;
	char err[512];

	nj_geoip_config_defaults(&cfg);
	cfg.enabled = true;
	snprintf(cfg.database, sizeof(cfg.database), "%s", city);
	snprintf(cfg.asn_database, sizeof(cfg.asn_database), "%s", asn);
	cfg.cache_size = cache;
	g = nj_geoip_open(&cfg, conf, err, sizeof(err));
	if (!g) {
		fprintf(stderr, "%s\n", err);
		exit(1);
	}
	return g;
}

/* Bare lookup cost on one cache: hits (one address) and misses (a new address each time). */
static void bare(struct nj_geoip *g, unsigned n)
{
	struct nj_geoip_cache *c = nj_geoip_cache_new(g);
	volatile uint32_t sink = 0;
	uint8_t a[4];
	double t0, t1, t2;

	if (!c)
		exit(1);
	ext_addr(a, 0x12345);
	nj_geoip_lookup(c, a, 4);
	t0 = now_s();
	for (unsigned i = 0; i < n; i++) {
		const struct nj_geoip_info *in = nj_geoip_lookup(c, a, 4);

		sink += in ? in->fields : 0;
	}
	t1 = now_s();
	for (unsigned i = 0; i < n; i++) {
		const struct nj_geoip_info *in;

		/* same networks, last octet and network change every time: the slot is cold */
		ext_addr(a, i * 2654435761u);
		a[3] ^= (uint8_t)(i >> 20);
		in = nj_geoip_lookup(c, a, 4);
		sink += in ? in->fields : 0;
	}
	t2 = now_s();
	printf("nj_geoip_lookup: hit %.1f ns, miss %.1f ns (hit rate of the miss loop %.2f)\n",
	       (t1 - t0) * 1e9 / n, (t2 - t1) * 1e9 / n,
	       (double)(nj_geoip_cache_stats(c)->hits - n) / n);
	(void)sink;
	nj_geoip_cache_free(c);
}

int main(int argc, char **argv)
{
	unsigned n = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 0) : 1000000;
	const char *city = argc > 2 ? argv[2] : CORPUS "GeoIP2-City-Test.mmdb";
	const char *asn = argc > 3 ? argv[3] : CORPUS "GeoLite2-ASN-Test.mmdb";
	struct nj_geoip *hot, *none;
	static const char *const names[NMODES] = {"base", "cache-hot", "cache-cold", "no-cache"};
	struct nj_geoip_stats gs[NMODES];
	struct nj_conf *conf;
	char err[256];
	uint64_t bytes[NMODES];
	double best[NMODES], t;

	conf = nj_conf_load(NULL, NULL, 0, err, sizeof(err));
	if (!conf) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	hot = open_geoip(city, asn, NJ_GEOIP_CACHE_DEFAULT, conf);
	none = open_geoip(city, asn, 0, conf);
	/* warm-up: page in the databases and the code */
	run(hot, n / 10 + 1, false, &bytes[0], NULL);
	/*
	 * The machine may be shared: every mode runs ROUNDS times, interleaved,
	 * and the fastest round counts, so a busy neighbour hurts all alike.
	 */
	for (unsigned r = 0; r < ROUNDS; r++) {
		for (unsigned m = 0; m < NMODES; m++) {
			struct nj_geoip *g = m == 0 ? NULL : m == 3 ? none : hot;

			t = run(g, n, m == 2, &bytes[m], &gs[m]);
			if (r == 0 || t < best[m])
				best[m] = t;
		}
	}
	for (unsigned m = 0; m < NMODES; m++) {
		printf("%-11s %8.1f ns/event  %5.2fx  (%.0f B/event", names[m], best[m],
		       best[m] / best[0], (double)bytes[m] / n);
		if (m)
			printf(", %+.1f ns, cache hit rate %.3f", best[m] - best[0],
			       (double)gs[m].hits / (double)(gs[m].lookups ? gs[m].lookups : 1));
		printf(")\n");
	}
	{
		struct nj_geoip_cache *c = nj_geoip_cache_new(hot);

		printf("cache: %u entries, %zu bytes per worker\n", nj_geoip_cache_size(c),
		       nj_geoip_cache_bytes(c));
		nj_geoip_cache_free(c);
	}
	bare(hot, n);
	nj_geoip_close(hot);
	nj_geoip_close(none);
	nj_conf_free(conf);
	return 0;
}
