/* SPDX-License-Identifier: MIT */
/*
 * Beacon and periodic-transfer detection: a perfect beacon, a jittered one,
 * Poisson arrivals (must stay quiet), an interval change ("changed"),
 * reordering and merging, the memory bound (evictions, no growth), the
 * DNS label, ignored ports, periodic schedules and their breaks, the
 * configuration keys; the EVE events are read back from a real EVE file.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "config/config.h"
#include "dataplane/flow.h"
#include "export/eve.h"
#include "parsers/beacon/beacon.h"
#include "tests/nj_test.h"
#include "tests/nj_test_eve.h"

#define T0  1700006400000000ull /* 2023-11-15 00:00:00 UTC, microseconds */
#define SEC 1000000ull
#define DAY (86400 * SEC)

static struct nj_eve *eve;
static struct nj_eve_worker *ew;
static char eve_path[256], eve_dir[64];

/* ------------------------------------------------------------------ helpers */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static double urand(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (double)((rng * 0x2545f4914f6cdd1dull) >> 11) / 9007199254740992.0;
}

static void key_v4(struct nj_beacon_key *k, uint8_t src_last, uint8_t dst_last, uint8_t proto,
		   uint16_t port, uint8_t kind)
{
	memset(k, 0, sizeof(*k));
	k->src[0] = 10;
	k->src[3] = src_last;
	k->dst[0] = 192;
	k->dst[1] = 0;
	k->dst[2] = 2;
	k->dst[3] = dst_last;
	k->proto = proto;
	k->port = port;
	k->kind = kind;
}

struct reports {
	unsigned n, nnew, nchanged, nperiodic;
	struct nj_beacon_report first, last;
	char first_label[64];
	unsigned nbreaks;
	char break_reason[8][16];
};

static void on_report(void *arg, const struct nj_beacon_report *r)
{
	struct reports *rp = arg;

	if (!rp->n) {
		rp->first = *r;
		if (r->label)
			snprintf(rp->first_label, sizeof(rp->first_label), "%s", r->label);
	}
	rp->last = *r;
	rp->n++;
	if (r->periodic)
		rp->nperiodic++;
	else if (r->changed)
		rp->nchanged++;
	else
		rp->nnew++;
}

static void on_break(void *arg, const struct nj_beacon_break *b)
{
	struct reports *rp = arg;

	CHECK(!strcmp(b->name, "periodic.schedule_break"));
	if (rp->nbreaks < 8)
		snprintf(rp->break_reason[rp->nbreaks], 16, "%s", b->reason);
	rp->nbreaks++;
}

static struct nj_beacon *mk(struct nj_beacon_config *bc, struct reports *rp)
{
	struct nj_beacon *b = nj_beacon_create(bc, ew);

	CHECK(b != NULL);
	memset(rp, 0, sizeof(*rp));
	if (b) {
		nj_beacon_set_report_hook(b, on_report, rp);
		nj_beacon_set_break_hook(b, on_break, rp);
	}
	return b;
}

static void defaults(struct nj_beacon_config *bc)
{
	nj_beacon_config_defaults(bc);
	bc->memcap = 4 << 20;
	bc->periodic.memcap = 1 << 20;
}

/* ------------------------------------------------------------------ beacons */

/* Series 10.0.0.1 -> 192.0.2.1: ICMP echo every 60 s, 64 bytes. */
static void test_perfect(void)
{
	struct nj_beacon_config bc;
	struct nj_beacon_key k;
	struct reports rp;
	struct nj_beacon *b;
	int emitted_at = -1;

	defaults(&bc);
	b = mk(&bc, &rp);
	key_v4(&k, 1, 1, 1, 8, NJ_BEACON_ICMP);
	for (int i = 0; i < 100; i++)
		if (nj_beacon_observe(b, &k, T0 + (uint64_t)i * 60 * SEC, 64, 0) && emitted_at < 0)
			emitted_at = i;
	CHECK(rp.n == 1 && rp.nnew == 1);
	/*
	 * The score is 1 from min-count (6) on, but the regularity gate wants 10
	 * intervals in the band: a Poisson series has 10 of 10 with p = 0.174^10 <
	 * 1e-7 (9 of 9: 1.5e-7).
	 */
	CHECK(emitted_at == 10);
	CHECK(rp.first.score > 0.9);
	CHECK(rp.first.score == 1.0 && rp.first.regularity == 1.0);
	CHECK(rp.first.interval_median_s == 60 && rp.first.interval_mean_s == 60);
	CHECK(rp.first.jitter_s == 0 && rp.first.bytes_mean == 64 && rp.first.bytes_mad == 0);
	CHECK(rp.first.count == 11 && rp.first.window == 11);
	CHECK(nj_beacon_stats(b)->promoted == 1 && nj_beacon_stats(b)->tracked == 1);
	CHECK(nj_beacon_stats(b)->scored + nj_beacon_stats(b)->gated == 95);
	CHECK(nj_beacon_stats(b)->gated == 5);
	nj_beacon_destroy(b);
}

/* Series 10.0.0.2 -> 192.0.2.1 UDP/4444 flows: 60 s +- 5 %, sizes 200 +- 5 %. */
static void test_jitter(void)
{
	struct nj_beacon_config bc;
	struct nj_beacon_key k;
	struct reports rp;
	struct nj_beacon *b;
	uint64_t t = T0;

	defaults(&bc);
	b = mk(&bc, &rp);
	key_v4(&k, 2, 1, 17, 4444, NJ_BEACON_FLOW);
	for (int i = 0; i < 64; i++) {
		t += (uint64_t)((60.0 + (urand() * 2 - 1) * 3.0) * 1e6);
		nj_beacon_observe(b, &k, t, (uint64_t)(200 + (urand() * 2 - 1) * 10), 0);
	}
	CHECK(rp.nnew == 1);
	CHECK(rp.nchanged <= 1);
	CHECK(rp.first.score >= 0.8 && rp.last.score >= 0.8);
	CHECK(fabs(rp.first.interval_mean_s - 60) < 3);
	CHECK(rp.first.jitter_s > 0 && rp.first.jitter_s < 3);
	nj_beacon_destroy(b);
}

/*
 * Poisson arrivals (mean 60 s) with constant sizes, the worst case for the
 * size score: none of 2000 series of 64 observations may be reported.
 */
static void test_poisson(void)
{
	struct nj_beacon_config bc;
	struct nj_beacon_key k;
	struct nj_beacon_report r;
	struct reports rp;
	struct nj_beacon *b;
	unsigned reported = 0, above = 0, passing = 0;
	double sum = 0;

	defaults(&bc);
	b = nj_beacon_create(&bc, NULL);
	CHECK(b != NULL);
	if (!b)
		return;
	memset(&rp, 0, sizeof(rp));
	nj_beacon_set_report_hook(b, on_report, &rp);
	for (unsigned s = 0; s < 2000; s++) {
		uint64_t t = T0;
		unsigned before = rp.n;

		key_v4(&k, 3, 1, 6, 443, NJ_BEACON_FLOW);
		k.dst[2] = (uint8_t)(s >> 8);
		k.dst[3] = (uint8_t)s;
		for (int i = 0; i < 64; i++) {
			t += (uint64_t)(-log(1.0 - urand()) * 60e6) + 1;
			nj_beacon_observe(b, &k, t, 512, 0);
		}
		reported += rp.n != before;
		{
			bool passes = true;

			CHECK(nj_beacon_peek(b, &k, &r, &passes) == 0);
			sum += r.score;
			above += r.score >= bc.threshold;
			passing += passes;
		}
	}
	if (reported)
		fprintf(stderr, "poisson: %u of 2000 series reported\n", reported);
	CHECK(reported == 0);
	CHECK(passing == 0);
	/* after 64 observations: mean 0.66 (RITA's sub-scores alone), a few % above */
	CHECK(sum / 2000 < 0.7);
	CHECK(above < 100);
	CHECK(nj_beacon_stats(b)->gated > 0);
	nj_beacon_destroy(b);
}

/* Series 10.0.0.4 -> 192.0.2.1 ICMP: 60 s, then 150 s: one "new", then "changed". */
static void test_change(void)
{
	struct nj_beacon_config bc;
	struct nj_beacon_key k;
	struct reports rp;
	struct nj_beacon *b;
	uint64_t t = T0;

	defaults(&bc);
	b = mk(&bc, &rp);
	key_v4(&k, 4, 1, 1, 8, NJ_BEACON_ICMP);
	for (int i = 0; i < 40; i++, t += 60 * SEC)
		nj_beacon_observe(b, &k, t, 64, 0);
	CHECK(rp.nnew == 1 && rp.nchanged == 0);
	for (int i = 0; i < 80; i++, t += 150 * SEC)
		nj_beacon_observe(b, &k, t, 64, 0);
	CHECK(rp.nnew == 1);
	CHECK(rp.nchanged >= 1 && rp.nchanged <= 3);
	CHECK(rp.last.changed && rp.last.interval_median_s == 150);
	CHECK(rp.last.score >= 0.8);
	nj_beacon_destroy(b);
}

/* Series 10.0.0.5: check-ins out of order by one and bursts of two within 50 ms. */
static void test_reorder_merge(void)
{
	static const int order[] = {0, 1, 3, 2, 4, 5, 7, 6, 8, 9, 10, 11};
	struct nj_beacon_config bc;
	struct nj_beacon_key k;
	struct reports rp;
	struct nj_beacon *b;

	defaults(&bc);
	b = mk(&bc, &rp);
	key_v4(&k, 5, 1, 6, 8080, NJ_BEACON_FLOW);
	for (unsigned i = 0; i < NJ_ARRAY_SIZE(order); i++) {
		uint64_t t = T0 + (uint64_t)order[i] * 30 * SEC;

		nj_beacon_observe(b, &k, t, 100, 0);
		nj_beacon_observe(b, &k, t + 50000, 100, 0); /* same check-in */
	}
	CHECK(nj_beacon_stats(b)->reordered == 2);
	CHECK(nj_beacon_stats(b)->merged == 12);
	CHECK(nj_beacon_stats(b)->late == 0);
	CHECK(rp.nnew == 1 && rp.first.interval_median_s == 30 && rp.first.score == 1.0);
	/* the event came with the 6th check-in, before its second half arrived */
	CHECK(rp.first.bytes_median == 200 && rp.first.count == 21);
	/* far out of order: dropped */
	nj_beacon_observe(b, &k, T0, 100, 0);
	CHECK(nj_beacon_stats(b)->late == 1);
	nj_beacon_destroy(b);
}

/* Many more series than fit: evictions in both tiers, bounded counts, no growth. */
static void test_memory_bound(void)
{
	struct nj_beacon_config bc;
	struct nj_beacon_key k;
	struct nj_beacon *b;
	const struct nj_beacon_stats *st;
	uint64_t mem0, max_series = 0, max_tracked = 0;

	defaults(&bc);
	bc.memcap = 64 << 10;
	bc.max_series = 8;
	bc.periodic.enabled = false;
	b = nj_beacon_create(&bc, NULL);
	CHECK(b != NULL);
	if (!b)
		return;
	st = nj_beacon_stats(b);
	mem0 = st->memuse;
	for (unsigned s = 0; s < 10000; s++) {
		key_v4(&k, 6, 1, 6, 443, NJ_BEACON_FLOW);
		k.dst[2] = (uint8_t)(s >> 8);
		k.dst[3] = (uint8_t)s;
		/* every 4th series repeats enough to get a window */
		for (unsigned i = 0; i < (s % 4 ? 1u : 5u); i++)
			nj_beacon_observe(b, &k, T0 + (uint64_t)(s * 10 + i) * SEC, 100, 0);
		if (st->series > max_series)
			max_series = st->series;
		if (st->tracked > max_tracked)
			max_tracked = st->tracked;
	}
	CHECK(st->created == 10000);
	CHECK(st->evicted_candidate > 0 && st->evicted_tracked > 0);
	CHECK(max_tracked == 8);
	CHECK(max_series < 600);
	CHECK(st->series + st->evicted_candidate + st->evicted_tracked == st->created);
	CHECK(st->memuse == mem0);
	CHECK(mem0 <= 64 << 10);
	nj_beacon_destroy(b);
}

/* Series 10.0.0.7 -> resolver, DNS queries for one name: the event names it. */
static void test_dns_label_and_ignore(void)
{
	struct nj_beacon_config bc;
	struct nj_beacon_key k, k2;
	struct nj_flow f;
	struct reports rp;
	struct nj_beacon *b;

	defaults(&bc);
	b = mk(&bc, &rp);
	memset(&f, 0, sizeof(f));
	f.addr[0][0] = 10;
	f.addr[0][3] = 7;
	f.addr[1][0] = 192;
	f.addr[1][2] = 2;
	f.addr[1][3] = 53;
	f.port[0] = 40000;
	f.port[1] = 53;
	f.proto = 17;
	nj_beacon_key_dns(&k, &f, "C2.Example.ORG", 14);
	nj_beacon_key_dns(&k2, &f, "c2.example.org", 14);
	CHECK(memcmp(&k, &k2, sizeof(k)) == 0 && k.tag != 0 && k.port == 53);
	nj_beacon_key_dns(&k2, &f, "www.example.org", 15);
	CHECK(k.tag != k2.tag);
	for (int i = 0; i < 16; i++) {
		nj_beacon_observe_ex(b, &k, T0 + (uint64_t)i * 300 * SEC, 45, 0, "c2.example.org");
		nj_beacon_observe_ex(b, &k2, T0 + (uint64_t)i * 7 * SEC * (uint64_t)(i % 3 + 1), 46,
				     0, "www.example.org");
	}
	CHECK(rp.nnew >= 1 && !strcmp(rp.first_label, "c2.example.org"));
	CHECK(rp.first.key->kind == NJ_BEACON_DNS);

	/* NTP (ignored port) and multicast destinations are not series */
	f.port[1] = 123;
	for (int i = 0; i < 10; i++) {
		f.start_us = f.last_us = T0 + (uint64_t)i * 64 * SEC;
		f.pkts_ts = 1;
		f.bytes_ts = 76;
		nj_beacon_observe_flow(b, &f);
	}
	key_v4(&k, 7, 251, 17, 5353, NJ_BEACON_FLOW);
	k.dst[0] = 224;
	nj_beacon_observe(b, &k, T0, 100, 0);
	CHECK(nj_beacon_stats(b)->ignored == 11);
	nj_beacon_destroy(b);
}

/*
 * Random abuse: few keys, a small window that wraps, timestamps that jump
 * back and forth, sizes from 0 to 2^64 - 1, tiny pools. Checked under
 * ASan/UBSan; scores stay in [0, 1] and the counters add up.
 */
static void test_stress(void)
{
	struct nj_beacon_config bc;
	struct nj_beacon_key k;
	struct nj_beacon_report r;
	struct nj_beacon *b;
	const struct nj_beacon_stats *st;
	uint64_t t = T0;
	unsigned peeks = 0;

	defaults(&bc);
	bc.window = 8;
	bc.min_count = 4;
	bc.memcap = 24 << 10;
	bc.max_series = 3;
	bc.threshold = 0.0;
	bc.hysteresis = 0.0;
	bc.periodic.memcap = 4 << 10;
	bc.periodic.min_bytes = 0;
	b = nj_beacon_create(&bc, NULL);
	CHECK(b != NULL);
	if (!b)
		return;
	st = nj_beacon_stats(b);
	for (unsigned i = 0; i < 200000; i++) {
		uint64_t bytes, x = (uint64_t)(urand() * 1e6);

		key_v4(&k, (uint8_t)(x % 5), (uint8_t)(x / 5 % 7), x % 2 ? 6 : 17, 80,
		       NJ_BEACON_FLOW);
		switch (x % 8) {
		case 0: t -= x % (3600 * SEC); break; /* back */
		case 1: t += 50000; break;	      /* merge */
		case 2: t += x * x % (86400 * SEC * 40); break;
		default: t += x % (120 * SEC); break;
		}
		bytes = x % 16 == 0 ? UINT64_MAX : (x % 16 == 1 ? 0 : x % 5000);
		nj_beacon_observe(b, &k, t, bytes, x % 1000);
		if (i % 97 == 0 && nj_beacon_peek(b, &k, &r, NULL) == 0) {
			peeks++;
			CHECK(r.score >= 0 && r.score <= 1);
			CHECK(r.score_interval >= 0 && r.score_interval <= 1);
			CHECK(r.score_bytes >= 0 && r.score_bytes <= 1);
			CHECK(r.score_count >= 0 && r.score_count <= 1);
			CHECK(r.score_coverage >= 0 && r.score_coverage <= 1);
			CHECK(r.window <= 8 && r.regularity >= 0 && r.regularity <= 1);
			CHECK(r.jitter_s >= 0 && r.interval_median_s >= 0);
		}
	}
	CHECK(peeks > 100);
	CHECK(st->tracked <= 3);
	CHECK(st->series + st->evicted_candidate + st->evicted_tracked == st->created);
	CHECK(st->observations == 200000);
	CHECK(st->late > 0 && st->reordered > 0 && st->merged > 0);
	nj_beacon_destroy(b);
}

/* ------------------------------------------------------------------ periodic */

static void flow_at(struct nj_flow *f, uint8_t client, uint8_t server, uint64_t start,
		    uint64_t bytes)
{
	memset(f, 0, sizeof(*f));
	f->addr[0][0] = 10;
	f->addr[0][1] = 1;
	f->addr[0][3] = client;
	f->addr[1][0] = 10;
	f->addr[1][1] = 2;
	f->addr[1][3] = server;
	f->client = 0;
	f->port[0] = 49152;
	f->port[1] = 445;
	f->proto = 6;
	f->start_us = start;
	f->last_us = start + 20 * SEC;
	f->pkts_ts = 900;
	f->pkts_tc = 400;
	f->bytes_ts = bytes;
	f->bytes_tc = 30000;
}

/* WorkstationA 10.1.0.1 copies ~1 MB to 10.2.0.9:445 at 09:00 every morning. */
static void test_periodic(void)
{
	struct nj_beacon_config bc;
	struct reports rp;
	struct nj_beacon *b;
	struct nj_flow f;

	defaults(&bc);
	b = mk(&bc, &rp);
	for (int d = 0; d < 5; d++) {
		/* 09:00 give or take 4 minutes, 1 MB give or take 3 % */
		uint64_t start = T0 + (uint64_t)d * DAY + 9 * 3600 * SEC +
				 (uint64_t)((urand() * 8 - 4) * 60e6) + 4 * 60 * SEC;

		flow_at(&f, 1, 9, start, (uint64_t)(1000000 * (1 + (urand() * 2 - 1) * 0.03)));
		nj_beacon_observe_flow(b, &f);
		CHECK(rp.nperiodic == (d >= 2 ? 1u : 0u));
		if (rp.nperiodic == 1 && d == 2) {
			CHECK(rp.last.periodic && rp.last.days == 3);
			CHECK(rp.last.time_of_day_s > 9 * 3600 - 600 &&
			      rp.last.time_of_day_s < 9 * 3600 + 900);
			CHECK(fabs(rp.last.bytes_mean - 1030000) < 50000);
		}
	}
	CHECK(rp.nperiodic == 1 && rp.nbreaks == 0);
	/* day 6: the same copy at 15:00 */
	flow_at(&f, 1, 9, T0 + 5 * DAY + 15 * 3600 * SEC, 1010000);
	nj_beacon_observe_flow(b, &f);
	CHECK(rp.nbreaks == 1 && !strcmp(rp.break_reason[0], "time"));
	/* day 7: at 09:02 to another server */
	flow_at(&f, 1, 10, T0 + 6 * DAY + 9 * 3600 * SEC + 120 * SEC, 990000);
	nj_beacon_observe_flow(b, &f);
	CHECK(rp.nbreaks == 2 && !strcmp(rp.break_reason[1], "destination"));
	/* day 8: at 09:01 to the usual server, 5 MB */
	flow_at(&f, 1, 9, T0 + 7 * DAY + 9 * 3600 * SEC + 60 * SEC, 5000000);
	nj_beacon_observe_flow(b, &f);
	CHECK(rp.nbreaks == 3 && !strcmp(rp.break_reason[2], "size"));
	/* day 8 again: a break per schedule and day at most */
	flow_at(&f, 1, 9, T0 + 7 * DAY + 9 * 3600 * SEC + 120 * SEC, 6000000);
	nj_beacon_observe_flow(b, &f);
	CHECK(rp.nbreaks == 3);
	/* day 9: the usual copy still matches */
	flow_at(&f, 1, 9, T0 + 8 * DAY + 9 * 3600 * SEC, 1000000);
	nj_beacon_observe_flow(b, &f);
	CHECK(rp.nbreaks == 3 && rp.nperiodic == 1);
	/* small flows are not transfers */
	CHECK(nj_beacon_stats(b)->periodic_observations == 10);
	flow_at(&f, 1, 9, T0 + 9 * DAY, 100);
	f.bytes_tc = 100;
	nj_beacon_observe_flow(b, &f);
	CHECK(nj_beacon_stats(b)->periodic_observations == 10);
	CHECK(nj_beacon_stats(b)->periodic_established == 1);
	CHECK(nj_beacon_stats(b)->periodic_breaks == 3);
	nj_beacon_destroy(b);
}

/* ------------------------------------------------------------------ config */

static void test_config(void)
{
	static const char *const ov[] = {
		"nightjar.beacon.threshold=0.9",	"nightjar.beacon.window=32",
		"nightjar.beacon.min-count=8",		"nightjar.beacon.hysteresis=5%",
		"nightjar.beacon.memcap=8mb",		"nightjar.beacon.ignore-ports=[123, 5353]",
		"nightjar.beacon.sources=[icmp]",	"nightjar.periodic.days=5",
		"nightjar.periodic.time-tolerance=600", "nightjar.periodic.bytes-tolerance=10",
		"nightjar.periodic.min-bytes=1mb",
	};
	static const char *const bad1[] = {"nightjar.beacon.threshold=1.5"};
	static const char *const bad2[] = {"nightjar.beacon.window=16",
					   "nightjar.beacon.min-count=20"};
	static const char *const bad3[] = {"nightjar.beacon.sources=[smtp]"};
	struct nj_beacon_config bc;
	struct nj_conf *c;
	char err[256];

	nj_beacon_config_defaults(&bc);
	c = nj_conf_load(NULL, ov, NJ_ARRAY_SIZE(ov), err, sizeof(err));
	CHECK(c != NULL);
	CHECK(nj_beacon_config_load(&bc, c) == 0);
	CHECK(bc.threshold == 0.9 && bc.window == 32 && bc.min_count == 8);
	CHECK(fabs(bc.hysteresis - 0.05) < 1e-12 && bc.memcap == 8 << 20);
	CHECK(bc.n_ignore_ports == 2 && bc.ignore_ports[0] == 123 && bc.ignore_ports[1] == 5353);
	CHECK(bc.observe_icmp && !bc.observe_dns && !bc.observe_flows);
	CHECK(bc.periodic.days == 5 && bc.periodic.time_tolerance_s == 600);
	CHECK(bc.periodic.bytes_tolerance_pct == 10 && bc.periodic.min_bytes == 1 << 20);
	CHECK(bc.interval_change == 0.25 && bc.enabled && bc.periodic.enabled);
	nj_conf_free(c);
	fprintf(stderr, "(three configuration error messages are expected)\n");
	c = nj_conf_load(NULL, bad1, 1, err, sizeof(err));
	CHECK(c && nj_beacon_config_load(&bc, c) == -1);
	nj_conf_free(c);
	c = nj_conf_load(NULL, bad2, 2, err, sizeof(err));
	CHECK(c && nj_beacon_config_load(&bc, c) == -1);
	nj_conf_free(c);
	c = nj_conf_load(NULL, bad3, 1, err, sizeof(err));
	CHECK(c && nj_beacon_config_load(&bc, c) == -1);
	nj_conf_free(c);
	CHECK(bc.threshold == 0.9); /* failed loads leave the config alone */
	/* nonsense is refused at create */
	nj_beacon_config_defaults(&bc);
	bc.min_count = 3;
	CHECK(nj_beacon_create(&bc, NULL) == NULL);
	CHECK(nj_conf_is_known("nightjar.periodic.bytes-tolerance"));
	CHECK(nj_conf_is_known("nightjar.beacon.threshold"));
}

/* ------------------------------------------------------------------ EVE */

static char *slurp(const char *path)
{
	FILE *fp = fopen(path, "rb");
	long n;
	char *s;

	if (!fp)
		return NULL;
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	s = malloc((size_t)n + 1);
	if (s && fread(s, 1, (size_t)n, fp) != (size_t)n) {
		free(s);
		s = NULL;
	}
	if (s)
		s[n] = '\0';
	fclose(fp);
	return s;
}

static const char *js(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

/* The events written by the tests above, as an analyst's tools will read them. */
static void check_eve(void)
{
	unsigned perfect = 0, dns = 0, periodic = 0, breaks = 0, changed = 0, other = 0;
	char *out, *line, *save = NULL;

	out = slurp(eve_path);
	CHECK(out != NULL);
	for (line = out ? strtok_r(out, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		json_error_t je;
		json_t *o = json_loads(line, 0, &je), *bo;
		const char *et, *src;

		CHECK(o != NULL);
		if (!o) {
			fprintf(stderr, "bad json: %s\n", line);
			continue;
		}
		et = js(o, "event_type");
		src = js(o, "src_ip");
		CHECK(js(o, "timestamp")[0] != '\0');
		bo = json_object_get(o, "beacon");
		if (!strcmp(et, "beacon") && !strcmp(src, "10.0.0.1")) {
			perfect++;
			CHECK(!strcmp(js(o, "dest_ip"), "192.0.2.1"));
			CHECK(!strcmp(js(o, "proto"), "ICMP"));
			CHECK(json_integer_value(json_object_get(o, "icmp_type")) == 8);
			CHECK(json_object_get(o, "dest_port") == NULL);
			CHECK(!strcmp(js(bo, "kind"), "beacon") && !strcmp(js(bo, "state"), "new"));
			CHECK(!strcmp(js(bo, "source"), "icmp"));
			CHECK(json_number_value(json_object_get(bo, "score")) == 1.0);
			CHECK(json_number_value(json_object_get(bo, "interval_mean_s")) == 60);
			CHECK(json_number_value(json_object_get(bo, "interval_median_s")) == 60);
			CHECK(json_number_value(json_object_get(bo, "jitter_s")) == 0);
			CHECK(json_integer_value(json_object_get(bo, "count")) == 11);
			CHECK(json_number_value(json_object_get(bo, "bytes_mean")) == 64);
			CHECK(json_number_value(json_object_get(bo, "bytes_mad")) == 0);
			CHECK(json_object_get(bo, "skew_interval") &&
			      json_object_get(bo, "skew_bytes"));
			CHECK(json_object_size(json_object_get(bo, "scores")) == 4);
			CHECK(!strcmp(js(bo, "first_seen"), "2023-11-15T00:00:00.000000+0000"));
			CHECK(!strcmp(js(bo, "last_seen"), "2023-11-15T00:10:00.000000+0000"));
			CHECK(!strcmp(js(o, "timestamp"), "2023-11-15T00:10:00.000000+0000"));
			CHECK(json_number_value(json_object_get(bo, "regularity")) == 1.0);
		} else if (!strcmp(et, "beacon") && !strcmp(src, "10.0.0.4")) {
			changed += !strcmp(js(bo, "state"), "changed");
		} else if (!strcmp(et, "beacon") && !strcmp(src, "10.0.0.7")) {
			if (!strcmp(js(bo, "rrname"), "c2.example.org")) {
				dns++;
				CHECK(!strcmp(js(bo, "source"), "dns"));
				CHECK(json_integer_value(json_object_get(o, "dest_port")) == 53);
				CHECK(!strcmp(js(o, "proto"), "UDP"));
			}
		} else if (!strcmp(et, "beacon") && !strcmp(js(bo, "kind"), "periodic")) {
			periodic++;
			CHECK(!strcmp(src, "10.1.0.1") && !strcmp(js(o, "dest_ip"), "10.2.0.9"));
			CHECK(json_integer_value(json_object_get(o, "dest_port")) == 445);
			CHECK(!strcmp(js(o, "proto"), "TCP"));
			CHECK(!strncmp(js(bo, "time_of_day"), "09:", 3));
			CHECK(json_integer_value(json_object_get(bo, "days")) == 3);
		} else if (!strcmp(et, "anomaly")) {
			json_t *an = json_object_get(o, "anomaly"),
			       *pd = json_object_get(o, "periodic");

			breaks++;
			CHECK(!strcmp(js(an, "type"), "periodic"));
			CHECK(!strcmp(js(an, "event"), "periodic.schedule_break"));
			CHECK(!strcmp(js(pd, "expected_dest_ip"), "10.2.0.9"));
			CHECK(!strncmp(js(pd, "expected_time_of_day"), "09:", 3));
			if (breaks == 1) {
				CHECK(!strcmp(js(pd, "reason"), "time"));
				CHECK(!strcmp(js(pd, "time_of_day"), "15:00:00"));
				CHECK(json_integer_value(json_object_get(pd, "bytes")) == 1040000);
				CHECK(json_integer_value(json_object_get(pd, "days")) == 5);
			}
		} else {
			other++;
		}
		json_decref(o);
	}
	CHECK(perfect == 1);
	CHECK(changed >= 1);
	CHECK(dns >= 1);
	CHECK(periodic == 1);
	CHECK(breaks == 3);
	free(out);
}

int main(void)
{
	char cmd[300];

	snprintf(eve_dir, sizeof(eve_dir), "/tmp/nj_beacon_XXXXXX");
	CHECK(mkdtemp(eve_dir) != NULL);
	snprintf(eve_path, sizeof(eve_path), "%s/eve.json", eve_dir);
	eve = nj_test_eve_open(eve_path, ~0u);
	CHECK(eve != NULL);
	if (!eve)
		return 1;
	ew = nj_eve_worker(eve, 0);

	test_perfect();
	test_jitter();
	test_poisson();
	test_change();
	test_reorder_merge();
	test_memory_bound();
	test_stress();
	test_dns_label_and_ignore();
	test_periodic();
	test_config();

	nj_eve_worker_flush(ew);
	nj_eve_close(eve);
	check_eve();
	/* NJ_KEEP=1 keeps the EVE file for a look */
	snprintf(cmd, sizeof(cmd), getenv("NJ_KEEP") ? "echo kept %s" : "rm -rf %s", eve_dir);
	CHECK(system(cmd) == 0);
	if (failures)
		fprintf(stderr, "%d check(s) failed\n", failures);
	return failures ? 1 : 0;
}
