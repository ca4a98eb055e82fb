/* SPDX-License-Identifier: MIT */
/*
 * Detection quality of the beacon detector (parsers/beacon) on synthetic
 * series, with the default configuration:
 *   - beacon sets: for each jitter (0..20 % of the interval, uniform) and
 *     interval (10 s .. 1 h), SERIES series of 20 intervals (21 contacts)
 *     with steady sizes; a series counts as found if a beacon event for it
 *     comes within those 20 intervals (and the contact number is reported);
 *   - benign sets: 10,000 series each of Poisson contacts (mean 10 s .. 1 h),
 *     of human sessions (bursts of contacts, hours apart) and of contacts at
 *     uniformly random times, 20 to 200 contacts each, with varied sizes; any
 *     beacon event on one of them is a false beacon.
 * Prints the detection rate per cell and the false beacons per 10,000 benign
 * series, against the targets (>= 95 % of beacons with <= 20 % jitter
 * found within 20 intervals; <= 1 false beacon per 10,000 benign series).
 * Usage: bench_beacon_rates [series-per-cell (default 400)] [seed]
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parsers/beacon/beacon.h"

#define SEC 1000000ull
#define T0  1700006400000000ull

static uint64_t rng = 88172645463325252ull;

static uint64_t xr(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static double unif(void) /* [0, 1) */
{
	return (double)(xr() >> 11) / 9007199254740992.0;
}

static double expo(double mean)
{
	return -log(1.0 - unif()) * mean;
}

/* One detector for a whole set; reports mark the series (key.tag) found. */
struct set {
	struct nj_beacon *b;
	uint32_t *found_at; /* contact number of the first event, 0 = none */
	uint32_t contact;   /* contact number being observed */
};

static void on_report(void *arg, const struct nj_beacon_report *r)
{
	struct set *s = arg;

	if (r->periodic || r->changed)
		return;
	if (!s->found_at[r->key->tag])
		s->found_at[r->key->tag] = s->contact;
}

static void set_open(struct set *s, unsigned nseries)
{
	struct nj_beacon_config bc;

	nj_beacon_config_defaults(&bc);
	bc.memcap = 512ull << 20;
	bc.periodic.enabled = false;
	s->b = nj_beacon_create(&bc, NULL);
	s->found_at = calloc(nseries, sizeof(*s->found_at));
	if (!s->b || !s->found_at) {
		fprintf(stderr, "bench_beacon_rates: cannot create the detector\n");
		exit(1);
	}
	nj_beacon_set_report_hook(s->b, on_report, s);
}

static void set_close(struct set *s)
{
	nj_beacon_destroy(s->b);
	free(s->found_at);
}

static void key_of(struct nj_beacon_key *k, uint32_t series)
{
	memset(k, 0, sizeof(*k));
	k->src[0] = 10;
	k->src[1] = (uint8_t)(series >> 16);
	k->src[2] = (uint8_t)(series >> 8);
	k->src[3] = (uint8_t)series;
	k->dst[0] = 203;
	k->dst[1] = 0;
	k->dst[2] = 113;
	k->dst[3] = (uint8_t)(series % 200 + 1);
	k->proto = 6;
	k->port = 443;
	k->tag = series; /* the set's index, carried into the report */
}

/* Contacts of one series, fed in time order. */
static void feed(struct set *s, uint32_t series, const uint64_t *ts, const uint32_t *bytes,
		 unsigned n)
{
	struct nj_beacon_key k;

	key_of(&k, series);
	for (unsigned i = 0; i < n; i++) {
		s->contact = i + 1;
		nj_beacon_observe(s->b, &k, ts[i], bytes[i], 0);
	}
}

#define MAXC 256

static double beacon_cell(unsigned nseries, double interval_s, double jitter, double *mean_at)
{
	static uint64_t ts[MAXC];
	static uint32_t bytes[MAXC];
	struct set s;
	unsigned found = 0;
	double at = 0;

	set_open(&s, nseries);
	for (uint32_t i = 0; i < nseries; i++) {
		uint64_t t = T0 + (uint64_t)(unif() * 3600.0 * SEC);
		uint32_t size = 200 + (uint32_t)(xr() % 2000);

		for (unsigned c = 0; c < 21; c++) {
			ts[c] = t;
			bytes[c] = size + (uint32_t)(xr() % 16); /* a few bytes of variation */
			t += (uint64_t)(interval_s * (1.0 + jitter * (2.0 * unif() - 1.0)) * SEC);
		}
		feed(&s, i, ts, bytes, 21);
	}
	for (uint32_t i = 0; i < nseries; i++)
		if (s.found_at[i]) {
			found++;
			at += s.found_at[i];
		}
	set_close(&s);
	*mean_at = found ? at / found : 0;
	return 100.0 * found / nseries;
}

enum benign { BN_POISSON, BN_SESSIONS, BN_UNIFORM, BN_MAX };
static const char *const benign_names[BN_MAX] = {"Poisson contacts", "human sessions",
						 "uniform random times"};

static unsigned benign_set(enum benign kind, unsigned nseries)
{
	static uint64_t ts[MAXC];
	static uint32_t bytes[MAXC];
	struct set s;
	unsigned fp = 0;

	set_open(&s, nseries);
	for (uint32_t i = 0; i < nseries; i++) {
		unsigned n = 20 + (unsigned)(xr() % 181);
		double mean = 10.0 * pow(360.0, unif()); /* 10 s .. 1 h, log-uniform */
		uint64_t t = T0 + (uint64_t)(unif() * 3600.0 * SEC);
		uint32_t base = 100 + (uint32_t)(xr() % 5000);

		if (kind == BN_UNIFORM) {
			/* n contacts anywhere in a day, sorted */
			for (unsigned c = 0; c < n; c++)
				ts[c] = T0 + (uint64_t)(unif() * 86400.0 * SEC);
			for (unsigned a = 1; a < n; a++)
				for (unsigned b = a; b > 0 && ts[b - 1] > ts[b]; b--) {
					uint64_t x = ts[b];

					ts[b] = ts[b - 1];
					ts[b - 1] = x;
				}
		} else {
			for (unsigned c = 0; c < n; c++) {
				ts[c] = t;
				if (kind == BN_POISSON)
					t += (uint64_t)(expo(mean) * SEC) + 1;
				else /* a burst of ~8 contacts seconds apart, then a long pause */
					t += (uint64_t)((xr() % 8 ? expo(5.0) : expo(mean * 20.0)) *
							SEC) +
					     1;
			}
		}
		for (unsigned c = 0; c < n; c++)
			bytes[c] = base + (uint32_t)(expo(base)); /* varied sizes */
		feed(&s, i, ts, bytes, n);
	}
	for (uint32_t i = 0; i < nseries; i++)
		fp += s.found_at[i] != 0;
	set_close(&s);
	return fp;
}

int main(int argc, char **argv)
{
	/* beyond 20 %: shown, not part of the target */
	static const double jitters[] = {0.0, 0.05, 0.10, 0.15, 0.20, 0.35, 0.50};
	static const double intervals[] = {10, 60, 300, 3600};
	unsigned nseries = argc > 1 ? (unsigned)atoi(argv[1]) : 400;
	unsigned nbenign = 10000, total_fp = 0;
	double worst = 100.0;

	if (argc > 2)
		rng = strtoull(argv[2], NULL, 0) | 1;
	if (nseries == 0 || nseries > 1000000) {
		fprintf(stderr, "usage: bench_beacon_rates [series-per-cell] [seed]\n");
		return 2;
	}
	printf("beacon detection within 20 intervals (%u series per cell; found %% / mean "
	       "contact of the first event)\n",
	       nseries);
	printf("%-10s", "jitter");
	for (size_t j = 0; j < sizeof(intervals) / sizeof(intervals[0]); j++)
		printf("  %13.0f s", intervals[j]);
	printf("\n");
	for (size_t i = 0; i < sizeof(jitters) / sizeof(jitters[0]); i++) {
		printf("%8.0f %%", jitters[i] * 100);
		for (size_t j = 0; j < sizeof(intervals) / sizeof(intervals[0]); j++) {
			double at, r = beacon_cell(nseries, intervals[j], jitters[i], &at);

			if (r < worst && jitters[i] <= 0.20 + 1e-9)
				worst = r;
			printf("  %6.1f%% /%5.1f", r, at);
		}
		printf("\n");
	}
	printf("\nfalse beacons per %u benign series (20..200 contacts, mean gap 10 s..1 h)\n",
	       nbenign);
	for (int k = 0; k < BN_MAX; k++) {
		unsigned fp = benign_set((enum benign)k, nbenign);

		total_fp += fp;
		printf("  %-22s %u\n", benign_names[k], fp);
	}
	printf("\nworst detection rate %.1f %% (target >= 95 %%); false beacons %.2f per 10,000 "
	       "benign series (target <= 1)\n",
	       worst, total_fp * 10000.0 / (nbenign * BN_MAX));
	return 0;
}
