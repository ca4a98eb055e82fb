/* SPDX-License-Identifier: MIT */
/*
 * Flow table lookup cost: ns per packet for bursts of NJ_BURST packets that
 * hit flows chosen at random among 1k, 100k and 1M active flows, with and
 * without the prefetch pass. The burst is rebuilt before each call, as decode
 * would leave it (hot in cache); the cost of rebuilding is measured alone and
 * subtracted.
 *
 * usage: bench_flow [packets per run, default 20000000]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dataplane/flow.h"

struct desc {
	uint32_t src, dst, hash;
	uint16_t sport, dport;
};

struct bpkt {
	struct nj_pkt p;
	uint8_t buf[64];
};

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static inline uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static uint32_t mix32(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x7feb352du;
	x ^= x >> 15;
	x *= 0x846ca68bu;
	x ^= x >> 16;
	return x;
}

static inline void fill(struct bpkt *b, const struct desc *d, int reverse, uint64_t ts)
{
	uint32_t s = reverse ? d->dst : d->src, t = reverse ? d->src : d->dst;

	b->p.flags = NJ_PKT_IPV4 | NJ_PKT_HAS_L4;
	b->p.ts_us = ts;
	b->p.hash = d->hash;
	b->p.sport = reverse ? d->dport : d->sport;
	b->p.dport = reverse ? d->sport : d->dport;
	memcpy(b->buf + 12, &s, 4);
	memcpy(b->buf + 16, &t, 4);
}

static void run(uint32_t nflows, uint64_t npkts)
{
	struct nj_flow_config cfg;
	struct nj_flow_table *t;
	struct desc *d = malloc(sizeof(*d) * nflows);
	static struct bpkt b[NJ_BURST];
	struct nj_pkt pk[NJ_BURST];
	uint64_t ts = 1500000000ull * 1000000;
	uint32_t hs = 1;
	double base, res[2];

	if (!d)
		exit(1);
	while (hs < nflows)
		hs <<= 1;
	nj_flow_config_defaults(&cfg);
	cfg.memcap = (uint64_t)nflows * sizeof(struct nj_flow);
	cfg.hash_size = hs; /* one flow per bucket on average, as the default sizing gives */
	t = nj_flow_table_create(&cfg, 0, NULL, NULL);
	if (!t) {
		fprintf(stderr, "cannot create a table of %u flows\n", nflows);
		exit(1);
	}
	memset(b, 0, sizeof(b));
	for (unsigned i = 0; i < NJ_BURST; i++) {
		b[i].buf[0] = 0x45;
		b[i].p.data = b[i].buf;
		b[i].p.len = 64;
		b[i].p.proto = 17;
	}
	for (uint32_t i = 0; i < nflows; i++) {
		d[i].src = 0x0a000000u + i;
		d[i].dst = 0xc0a80001u;
		d[i].sport = (uint16_t)(1024 + (i & 0x7fff));
		d[i].dport = 53;
		d[i].hash = mix32(i * 2654435761u + 17); /* stands in for the tuple hash */
	}
	/* create every flow */
	for (uint32_t i = 0; i < nflows; i += NJ_BURST) {
		unsigned n = nflows - i < NJ_BURST ? nflows - i : NJ_BURST;

		for (unsigned k = 0; k < n; k++) {
			fill(&b[k], &d[i + k], 0, ts);
			pk[k] = b[k].p;
		}
		nj_flow_burst(t, pk, (uint16_t)n);
	}
	if (nj_flow_table_stats(t)->active != nflows)
		fprintf(stderr, "warning: %llu active of %u\n",
			(unsigned long long)nj_flow_table_stats(t)->active, nflows);

	/* baseline: building the bursts alone */
	{
		double t0 = now_ns();
		uint64_t sink = 0;

		for (uint64_t n = 0; n < npkts; n += NJ_BURST) {
			for (unsigned k = 0; k < NJ_BURST; k++) {
				uint64_t r = rnd();

				fill(&b[k], &d[(r >> 8) % nflows], r & 1, ts);
				pk[k] = b[k].p;
			}
			sink += pk[(n / NJ_BURST) % NJ_BURST].hash;
		}
		base = (now_ns() - t0) / (double)npkts;
		if (sink == 1)
			printf(" ");
	}
	for (int pf = 1; pf >= 0; pf--) {
		double t0;

		nj_flow_table_set_prefetch(t, pf);
		t0 = now_ns();
		for (uint64_t n = 0; n < npkts; n += NJ_BURST) {
			for (unsigned k = 0; k < NJ_BURST; k++) {
				uint64_t r = rnd();

				fill(&b[k], &d[(r >> 8) % nflows], r & 1, ts);
				pk[k] = b[k].p;
			}
			nj_flow_burst(t, pk, NJ_BURST);
		}
		res[pf] = (now_ns() - t0) / (double)npkts - base;
	}
	printf("%8u flows: %6.1f ns/pkt with prefetch, %6.1f ns/pkt without "
	       "(burst build %.1f ns/pkt subtracted), created %llu\n",
	       nflows, res[1], res[0], base, (unsigned long long)nj_flow_table_stats(t)->created);
	nj_flow_table_destroy(t);
	free(d);
}

int main(int argc, char **argv)
{
	uint64_t npkts = argc > 1 ? strtoull(argv[1], NULL, 0) : 20000000ull;
	static const uint32_t sizes[] = {1000, 100000, 1000000};

	printf("struct nj_flow: %zu bytes, burst %u\n", sizeof(struct nj_flow), NJ_BURST);
	for (unsigned i = 0; i < NJ_ARRAY_SIZE(sizes); i++)
		run(sizes[i], npkts);
	return 0;
}
