/* SPDX-License-Identifier: MIT */
/*
 * Cost of a beacon observation: the module with re-scoring on every
 * observation (windows of 64 and 256), the module below min-count (lookup,
 * LRU, sorted window upkeep, no scoring), against a baseline measured in the
 * same run: appending (interval, size) to a ring per series found by index,
 * the least any windowed detector does. Then the memory per series and the
 * periodic detector's cost per transfer.
 * Usage: bench_beacon [observations [series [p-value]]]   (default 4000000 over 4096;
 * with a p-value: only the module row with it, for perf)
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dataplane/flow.h"
#include "parsers/beacon/beacon.h"

static unsigned NSERIES = 4096u;
#define SEC 1000000ull
#define T0  1700006400000000ull

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rng = 88172645463325252ull;

static uint64_t xr(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Observations prepared up front so that the loops time only the work. */
struct obs {
	uint32_t series;
	uint32_t size;
	uint64_t ts;
};

/* poisson: random arrivals (mean 60 s), else 60 s beacons with 10 % jitter */
static struct obs *make_obs(unsigned n, bool poisson)
{
	struct obs *o = malloc(sizeof(*o) * n);
	uint64_t *t = calloc(NSERIES, sizeof(*t));

	for (unsigned i = 0; i < n; i++) {
		uint32_t s = (uint32_t)(xr() % NSERIES);

		if (poisson)
			t[s] += (uint64_t)(-log(((double)(xr() >> 11) + 1) / 9007199254740993.0) *
					   60e6) +
				1;
		else
			t[s] += 54 * SEC + xr() % (12 * SEC);
		o[i].series = s;
		o[i].size = 100 + (uint32_t)(xr() % 20);
		o[i].ts = T0 + t[s];
	}
	free(t);
	return o;
}

static void key_of(struct nj_beacon_key *k, uint32_t s)
{
	memset(k, 0, sizeof(*k));
	k->src[0] = 10;
	k->src[2] = (uint8_t)(s >> 8);
	k->src[3] = (uint8_t)s;
	k->dst[0] = 203;
	k->dst[3] = 7;
	k->proto = 6;
	k->port = 443;
}

/* Baseline: a ring of (interval, size) per series, found by index. */
static double run_baseline(const struct obs *o, unsigned n, unsigned win)
{
	uint32_t *ring = calloc((size_t)NSERIES * win * 2, sizeof(uint32_t));
	uint64_t *last = calloc(NSERIES, sizeof(uint64_t));
	uint16_t *head = calloc(NSERIES, sizeof(uint16_t));
	volatile uint32_t sink = 0;
	double t0 = now_s(), dt;

	for (unsigned i = 0; i < n; i++) {
		uint32_t s = o[i].series, *r = ring + (size_t)s * win * 2;
		uint32_t h = head[s];

		r[h] = (uint32_t)((o[i].ts - last[s]) / 1000);
		r[win + h] = o[i].size;
		last[s] = o[i].ts;
		head[s] = (uint16_t)((h + 1) % win);
	}
	dt = now_s() - t0;
	sink = ring[n % (NSERIES * win)];
	(void)sink;
	free(ring);
	free(last);
	free(head);
	return dt * 1e9 / n;
}

static double run_module(const struct obs *o, unsigned n, unsigned win, double p_value,
			 uint64_t *events, uint64_t *scored)
{
	struct nj_beacon_config bc;
	struct nj_beacon *b;
	struct nj_beacon_key k;
	double t0, dt;

	nj_beacon_config_defaults(&bc);
	bc.window = win;
	bc.p_value = p_value;
	bc.memcap = 256ull << 20;
	bc.periodic.enabled = false;
	b = nj_beacon_create(&bc, NULL);
	if (!b) {
		fprintf(stderr, "create failed\n");
		exit(1);
	}
	t0 = now_s();
	for (unsigned i = 0; i < n; i++) {
		key_of(&k, o[i].series);
		nj_beacon_observe(b, &k, o[i].ts, o[i].size, 0);
	}
	dt = now_s() - t0;
	*events = nj_beacon_stats(b)->events_new + nj_beacon_stats(b)->events_changed;
	*scored = nj_beacon_stats(b)->scored;
	nj_beacon_destroy(b);
	return dt * 1e9 / n;
}

/* Fill a detector with one-off and repeating series to find its capacities. */
static void memory(unsigned win)
{
	struct nj_beacon_config bc;
	struct nj_beacon *b;
	struct nj_beacon_key k;
	uint64_t max_tracked = 0, max_series = 0;
	const struct nj_beacon_stats *st;

	nj_beacon_config_defaults(&bc);
	bc.window = win;
	bc.memcap = 16ull << 20;
	bc.periodic.enabled = false;
	b = nj_beacon_create(&bc, NULL);
	if (!b)
		return;
	st = nj_beacon_stats(b);
	for (uint32_t s = 0; s < 400000; s++) {
		key_of(&k, s);
		k.dst[1] = (uint8_t)(s >> 16);
		for (unsigned i = 0; i < (s % 2 ? 1u : 5u); i++)
			nj_beacon_observe(b, &k, T0 + (uint64_t)(s + i * 400000ull) * SEC, 100, 0);
		if (st->tracked > max_tracked)
			max_tracked = st->tracked;
		if (st->series > max_series)
			max_series = st->series;
	}
	printf("memory, window %u, memcap 16 MiB: %lu windowed series (%.0f B each, entry "
	       "included), %lu series in all (candidates %.0f B each)\n",
	       win, (unsigned long)max_tracked,
	       (double)(16u << 20) / 2 / (double)max_tracked +
		       (double)(16u << 20) / 2 / (double)max_series,
	       (unsigned long)max_series, (double)(16u << 20) / 2 / (double)max_series);
	nj_beacon_destroy(b);
}

static double run_periodic(unsigned n)
{
	struct nj_periodic_config pc;
	struct nj_periodic *p;
	struct nj_beacon_key k;
	double t0, dt;

	memset(&pc, 0, sizeof(pc));
	pc.enabled = true;
	pc.days = 3;
	pc.time_tolerance_s = 900;
	pc.bytes_tolerance_pct = 20;
	pc.min_bytes = 0;
	pc.memcap = 64ull << 20;
	p = nj_periodic_create(&pc, NULL, NULL);
	if (!p)
		return 0;
	t0 = now_s();
	for (unsigned i = 0; i < n; i++) {
		uint32_t s = (uint32_t)(xr() % 65536);

		key_of(&k, s);
		k.dst[3] = (uint8_t)(xr() % 4);
		nj_periodic_observe(p, &k, T0 + (uint64_t)i * 10 * SEC, 1000000 + xr() % 100000);
	}
	dt = now_s() - t0;
	nj_periodic_destroy(p);
	return dt * 1e9 / n;
}

int main(int argc, char **argv)
{
	unsigned n = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 4000000u;
	uint64_t ev, sc;
	double base, mod;
	struct obs *o;

	if (argc > 2)
		NSERIES = (unsigned)strtoul(argv[2], NULL, 10);
	o = make_obs(n, false);
	if (argc > 3) {
		/* one row only, for perf: the module with this p-value */
		mod = run_module(o, n, 64, strtod(argv[3], NULL), &ev, &sc);
		printf("module, window 64, scoring: %.1f ns\n", mod);
		free(o);
		return 0;
	}
	printf("%u observations over %u series (60 s +- 10 %% beacons), ns per observation\n", n,
	       NSERIES);
	base = run_baseline(o, n, 64);
	printf("  baseline: append to a per-series ring (by index)   %8.1f ns\n", base);
	mod = run_module(o, n, 64, 0, &ev, &sc);
	printf("  module, window 64: upkeep and gate only (p 0)      %8.1f ns  (%.1fx)  scored "
	       "%lu\n",
	       mod, mod / base, (unsigned long)sc);
	mod = run_module(o, n, 64, 1e-7, &ev, &sc);
	printf("  module, window 64, full scoring every observation  %8.1f ns  (%.1fx)  scored "
	       "%lu, events %lu\n",
	       mod, mod / base, (unsigned long)sc, (unsigned long)ev);
	free(o);
	o = make_obs(n, true);
	base = run_baseline(o, n, 64);
	mod = run_module(o, n, 64, 1e-7, &ev, &sc);
	printf("  module, window 64, Poisson arrivals (benign)       %8.1f ns  (%.1fx vs its "
	       "baseline %.1f ns)  scored %lu, events %lu\n",
	       mod, mod / base, base, (unsigned long)sc, (unsigned long)ev);
	free(o);
	o = make_obs(n, false);
	base = run_baseline(o, n, 256);
	mod = run_module(o, n, 256, 1e-7, &ev, &sc);
	printf("  module, window 256, scoring every observation      %8.1f ns  (%.1fx vs its "
	       "baseline %.1f ns)  events %lu\n",
	       mod, mod / base, base, (unsigned long)ev);
	memory(64);
	memory(256);
	printf("periodic: %.1f ns per transfer (65536 clients x 4 servers)\n", run_periodic(n / 4));
	free(o);
	return 0;
}
