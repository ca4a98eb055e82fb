/* SPDX-License-Identifier: MIT */
/*
 * ICMP echo analysis on packets built here, decoded by the real decoder and
 * tracked by the real flow table: pairing by (id, seq) with exact RTTs,
 * unanswered requests, the bound of the request table, the anomaly names,
 * IPv6, error messages, the memcap, the beacon observations, and the
 * flow event's "icmp" object read back with jansson.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config/config.h"
#include "dataplane/decode.h"
#include "dataplane/flow.h"
#include "export/json.h"
#include "parsers/beacon/beacon.h"
#include "parsers/icmp/icmp.h"
#include "tests/nj_test.h"

#define T0 1700000000000000ull /* 2023-11-14, microseconds */

struct harness {
	struct nj_decode_ctx *dec;
	struct nj_flow_table *ft;
	struct nj_icmp *icmp;
	/* anomalies reported */
	char an[16][64];
	unsigned nan;
	/* "icmp" objects of ended flows, in end order */
	json_t *logged[8];
	unsigned nlogged;
};

static void on_anomaly(void *arg, const struct nj_pkt *p, const char *name)
{
	struct harness *h = arg;

	CHECK(p != NULL);
	if (h->nan < 16)
		snprintf(h->an[h->nan++], sizeof(h->an[0]), "%s", name);
}

static bool has_anomaly(const struct harness *h, const char *name)
{
	for (unsigned i = 0; i < h->nan; i++)
		if (!strcmp(h->an[i], name))
			return true;
	return false;
}

/* Flow end as the worker will do it: the flow event's icmp object, then free the state. */
static void on_end(void *arg, struct nj_flow *f, enum nj_flow_end_reason why)
{
	struct harness *h = arg;
	char buf[2048];
	struct nj_json j;
	json_error_t je;
	json_t *o;

	(void)why;
	nj_json_init(&j, buf, sizeof(buf));
	nj_json_open_obj(&j, NULL);
	nj_icmp_log_flow(&j, f);
	nj_json_close_obj(&j);
	CHECK(nj_json_ok(&j));
	buf[j.len] = '\0';
	o = json_loads(buf, 0, &je);
	CHECK(o != NULL);
	if (o && h->nlogged < 8)
		h->logged[h->nlogged++] = o;
	else
		json_decref(o);
	nj_icmp_flow_end(h->icmp, f);
	CHECK(f->app_state == NULL);
}

static void h_init(struct harness *h, const struct nj_icmp_config *ic)
{
	struct nj_decode_config dc;
	struct nj_flow_config fc;

	memset(h, 0, sizeof(*h));
	nj_decode_config_defaults(&dc);
	dc.checksum_validation = 0;
	dc.defrag_memcap = 1 << 20;
	dc.defrag_max_trackers = 64;
	h->dec = nj_decode_create(&dc, 0);
	nj_flow_config_defaults(&fc);
	fc.memcap = 1 << 20;
	fc.hash_size = 1024;
	h->ft = nj_flow_table_create(&fc, 0, on_end, h);
	h->icmp = nj_icmp_create(ic);
	CHECK(h->dec && h->ft && h->icmp);
	nj_icmp_set_anomaly_cb(h->icmp, on_anomaly, h);
}

static void h_end(struct harness *h, uint64_t now)
{
	nj_flow_flush_all(h->ft, now);
}

static void h_free(struct harness *h)
{
	for (unsigned i = 0; i < h->nlogged; i++)
		json_decref(h->logged[i]);
	nj_flow_table_destroy(h->ft);
	nj_decode_destroy(h->dec);
	nj_icmp_destroy(h->icmp);
}

/* One raw IP packet with an ICMP header; payload filled with fill. */
static uint32_t build(uint8_t *b, bool v6, const uint8_t *src, const uint8_t *dst, uint8_t type,
		      uint16_t id, uint16_t seq, uint32_t plen, uint8_t fill)
{
	uint32_t ipl = v6 ? 40 : 20, l4 = 8 + plen;
	uint8_t *ic = b + ipl;

	memset(b, 0, ipl + l4);
	if (v6) {
		b[0] = 0x60;
		b[4] = (uint8_t)(l4 >> 8);
		b[5] = (uint8_t)l4;
		b[6] = 58;
		b[7] = 64;
		memcpy(b + 8, src, 16);
		memcpy(b + 24, dst, 16);
	} else {
		b[0] = 0x45;
		b[2] = (uint8_t)((ipl + l4) >> 8);
		b[3] = (uint8_t)(ipl + l4);
		b[8] = 64;
		b[9] = 1;
		memcpy(b + 12, src, 4);
		memcpy(b + 16, dst, 4);
	}
	ic[0] = type;
	ic[4] = (uint8_t)(id >> 8);
	ic[5] = (uint8_t)id;
	ic[6] = (uint8_t)(seq >> 8);
	ic[7] = (uint8_t)seq;
	memset(ic + 8, fill, plen);
	return ipl + l4;
}

/* Decodes, tracks and analyses one packet. */
static void feed(struct harness *h, bool v6, const uint8_t *src, const uint8_t *dst, uint8_t type,
		 uint16_t id, uint16_t seq, uint32_t plen, uint8_t fill, uint64_t ts)
{
	static uint8_t buf[4096];
	struct nj_pkt p;

	memset(&p, 0, sizeof(p));
	p.len = build(buf, v6, src, dst, type, id, seq, plen, fill);
	p.wire_len = p.len;
	p.data = buf;
	p.ts_us = ts;
	p.linktype = NJ_LINK_RAW;
	nj_decode_burst_begin(h->dec);
	nj_decode_pkt(h->dec, &p);
	CHECK(p.flags & NJ_PKT_HAS_L4);
	nj_flow_burst(h->ft, &p, 1);
	CHECK(p.flow != NULL);
	if (p.flow)
		nj_icmp_pkt(h->icmp, p.flow, &p);
}

static const uint8_t A[4] = {10, 0, 0, 1}, B[4] = {10, 0, 0, 2}, C[4] = {10, 0, 0, 3};

static long long jint(json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

static double jdbl(json_t *o, const char *k)
{
	return json_number_value(json_object_get(o, k));
}

static void test_pairing(void)
{
	struct nj_icmp_config ic;
	struct harness h;
	json_t *o;

	nj_icmp_config_defaults(&ic);
	h_init(&h, &ic);
	/* 5 requests, 4 replies after 1.5, 1.6, 1.7, 1.8 ms; the last unanswered */
	for (int i = 0; i < 5; i++) {
		uint64_t t = T0 + (uint64_t)i * 1000000u;

		feed(&h, false, A, B, 8, 0x1234, (uint16_t)(i + 1), 56, 0xab, t);
		if (i < 4)
			feed(&h, false, B, A, 0, 0x1234, (uint16_t)(i + 1), 56, 0xab,
			     t + 1500 + (uint64_t)i * 100);
	}
	CHECK(h.nan == 0);
	CHECK(nj_icmp_stats(h.icmp)->echo_requests == 5);
	CHECK(nj_icmp_stats(h.icmp)->echo_matched == 4);
	h_end(&h, T0 + 10000000u);
	CHECK(h.nlogged == 1);
	o = h.nlogged ? json_object_get(h.logged[0], "icmp") : NULL;
	CHECK(o != NULL);
	if (o) {
		CHECK(jint(o, "echo_id") == 0x1234);
		CHECK(jint(o, "requests") == 5);
		CHECK(jint(o, "replies") == 4);
		CHECK(jint(o, "unanswered") == 1);
		CHECK(jdbl(o, "rtt_min_ms") == 1.5);
		CHECK(jdbl(o, "rtt_avg_ms") == 1.65);
		CHECK(jdbl(o, "rtt_max_ms") == 1.8);
		CHECK(jint(o, "request_bytes") == 280);
		CHECK(jint(o, "reply_bytes") == 224);
		CHECK(jint(o, "payload_min") == 56 && jint(o, "payload_max") == 56);
		CHECK(json_object_get(o, "duplicates") == NULL);
	}
	CHECK(nj_icmp_stats(h.icmp)->echo_unanswered == 1);
	CHECK(nj_icmp_stats(h.icmp)->memuse == 0);
	h_free(&h);
}

static void test_anomalies(void)
{
	struct nj_icmp_config ic;
	struct harness h;
	json_t *o;

	nj_icmp_config_defaults(&ic);
	h_init(&h, &ic);
	/* a reply nobody asked for, twice: reported once, counted twice */
	feed(&h, false, A, B, 8, 7, 1, 32, 0x11, T0);
	feed(&h, false, B, A, 0, 7, 1, 32, 0x11, T0 + 1000);
	feed(&h, false, B, A, 0, 7, 99, 32, 0x11, T0 + 2000);
	feed(&h, false, B, A, 0, 7, 98, 32, 0x11, T0 + 3000);
	CHECK(has_anomaly(&h, "icmp.echo_reply_without_request"));
	CHECK(h.nan == 1);
	CHECK(nj_icmp_stats(h.icmp)->echo_unsolicited == 2);
	CHECK(nj_icmp_stats(h.icmp)->anomalies == 2);
	/* the answered request answered again */
	feed(&h, false, B, A, 0, 7, 1, 32, 0x11, T0 + 4000);
	CHECK(has_anomaly(&h, "icmp.echo_duplicate_reply"));
	/* the reply does not carry the request's data back */
	feed(&h, false, A, B, 8, 7, 2, 32, 0x11, T0 + 5000);
	feed(&h, false, B, A, 0, 7, 2, 48, 0x11, T0 + 6000);
	CHECK(has_anomaly(&h, "icmp.echo_reply_length_mismatch"));
	feed(&h, false, A, B, 8, 7, 3, 32, 0x11, T0 + 7000);
	feed(&h, false, B, A, 0, 7, 3, 32, 0x22, T0 + 8000);
	CHECK(has_anomaly(&h, "icmp.echo_reply_payload_mismatch"));
	/* over max-echo-payload */
	feed(&h, false, A, B, 8, 7, 4, 2000, 0x11, T0 + 9000);
	CHECK(has_anomaly(&h, "icmp.echo_large_payload"));
	CHECK(h.nan == 5);
	h_end(&h, T0 + 20000000u);
	o = h.nlogged ? json_object_get(h.logged[0], "icmp") : NULL;
	CHECK(o != NULL);
	if (o) {
		CHECK(jint(o, "requests") == 4);
		CHECK(jint(o, "replies") == 6);
		CHECK(jint(o, "unanswered") == 1);
		CHECK(jint(o, "duplicates") == 1);
		CHECK(jint(o, "unsolicited") == 2);
		CHECK(jint(o, "payload_max") == 2000);
	}
	h_free(&h);
}

static void test_table_bound(void)
{
	struct nj_icmp_config ic;
	struct harness h;
	uint64_t mem8, mem_end;
	json_t *o;

	nj_icmp_config_defaults(&ic);
	ic.max_outstanding = 8;
	h_init(&h, &ic);
	/* 20 requests within 20 ms: the table holds 8, 12 are given up early */
	for (int i = 0; i < 8; i++)
		feed(&h, false, A, C, 8, 1, (uint16_t)i, 16, 0, T0 + (uint64_t)i * 1000);
	mem8 = nj_icmp_stats(h.icmp)->memuse;
	for (int i = 8; i < 20; i++)
		feed(&h, false, A, C, 8, 1, (uint16_t)i, 16, 0, T0 + (uint64_t)i * 1000);
	CHECK(nj_icmp_stats(h.icmp)->table_full == 12);
	CHECK(nj_icmp_stats(h.icmp)->memuse == mem8);
	/* replies to all 20: the first 12 are late (not anomalies), the last 8 pair */
	for (int i = 0; i < 20; i++)
		feed(&h, false, C, A, 0, 1, (uint16_t)i, 16, 0, T0 + 50000 + (uint64_t)i * 1000);
	CHECK(nj_icmp_stats(h.icmp)->echo_late == 12);
	CHECK(nj_icmp_stats(h.icmp)->echo_matched == 8);
	CHECK(h.nan == 0);
	/* requests older than echo-timeout (10 s) leave quietly: 8 slots, one every 2 s */
	for (int i = 100; i < 120; i++)
		feed(&h, false, A, C, 8, 1, (uint16_t)i, 16, 0, T0 + (uint64_t)i * 2000000u);
	CHECK(nj_icmp_stats(h.icmp)->table_full == 12);
	mem_end = nj_icmp_stats(h.icmp)->memuse;
	CHECK(mem_end == mem8);
	h_end(&h, T0 + 400000000ull);
	o = h.nlogged ? json_object_get(h.logged[0], "icmp") : NULL;
	CHECK(o && jint(o, "requests") == 40 && jint(o, "unanswered") == 32);
	CHECK(nj_icmp_stats(h.icmp)->echo_unanswered == 32);
	h_free(&h);
}

static void test_v6_errors_ids(void)
{
	static const uint8_t a6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
	static const uint8_t b6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};
	struct nj_icmp_config ic;
	struct harness h;
	json_t *o = NULL;

	nj_icmp_config_defaults(&ic);
	h_init(&h, &ic);
	feed(&h, true, a6, b6, 128, 5, 1, 64, 0x5a, T0);
	feed(&h, true, b6, a6, 129, 5, 1, 64, 0x5a, T0 + 250);
	feed(&h, true, a6, b6, 128, 6, 1, 64, 0x5a, T0 + 1000000);
	feed(&h, true, b6, a6, 129, 6, 1, 64, 0x5a, T0 + 1000750);
	CHECK(h.nan == 0);
	/* an IPv4 destination unreachable is its own flow: counted as an error */
	{
		static uint8_t buf[128];
		struct nj_pkt p;
		uint32_t n = build(buf, false, B, A, 3, 0, 0, 28, 0);

		/* quote a plausible IPv4 header so the decoder takes it as an error */
		buf[28] = 0x45;
		memset(&p, 0, sizeof(p));
		p.data = buf;
		p.len = p.wire_len = n;
		p.ts_us = T0 + 2000000;
		p.linktype = NJ_LINK_RAW;
		buf[21] = 1; /* host unreachable */
		nj_decode_pkt(h.dec, &p);
		nj_flow_burst(h.ft, &p, 1);
		CHECK(p.flow != NULL);
		if (p.flow)
			nj_icmp_pkt(h.icmp, p.flow, &p);
	}
	CHECK(nj_icmp_stats(h.icmp)->errors == 1);
	h_end(&h, T0 + 10000000u);
	CHECK(h.nlogged == 2);
	for (unsigned i = 0; i < h.nlogged; i++) {
		json_t *x = json_object_get(h.logged[i], "icmp");

		if (x && json_object_get(x, "requests"))
			o = x;
		else
			CHECK(x && jint(x, "errors") == 1);
	}
	CHECK(o != NULL);
	if (o) {
		json_t *ids = json_object_get(o, "echo_ids");

		CHECK(json_array_size(ids) == 2);
		CHECK(json_integer_value(json_array_get(ids, 0)) == 5);
		CHECK(json_integer_value(json_array_get(ids, 1)) == 6);
		CHECK(jint(o, "replies") == 2 && jint(o, "unanswered") == 0);
		CHECK(jdbl(o, "rtt_min_ms") == 0.25 && jdbl(o, "rtt_max_ms") == 0.75);
		CHECK(jdbl(o, "rtt_avg_ms") == 0.5);
	}
	h_free(&h);
}

/* A capture cut at 40 bytes of payload: sizes from the IP header, no payload comparison. */
static void test_snaplen(void)
{
	static uint8_t buf[256];
	struct nj_icmp_config ic;
	struct harness h;
	json_t *o;

	nj_icmp_config_defaults(&ic);
	h_init(&h, &ic);
	for (int i = 0; i < 2; i++) {
		struct nj_pkt p;
		uint32_t n = build(buf, false, i ? B : A, i ? A : B, i ? 0 : 8, 3, 1, 100,
				   (uint8_t)(0x30 + i));

		memset(&p, 0, sizeof(p));
		p.data = buf;
		p.wire_len = n;
		p.len = i ? n : 20 + 8 + 40;
		p.ts_us = T0 + (uint64_t)i * 1000;
		p.linktype = NJ_LINK_RAW;
		nj_decode_pkt(h.dec, &p);
		nj_flow_burst(h.ft, &p, 1);
		CHECK(p.flow && (p.flags & NJ_PKT_HAS_L4));
		if (p.flow)
			nj_icmp_pkt(h.icmp, p.flow, &p);
	}
	CHECK(h.nan == 0);
	CHECK(nj_icmp_stats(h.icmp)->echo_matched == 1);
	h_end(&h, T0 + 1000000);
	o = h.nlogged ? json_object_get(h.logged[0], "icmp") : NULL;
	CHECK(o && jint(o, "request_bytes") == 100 && jint(o, "reply_bytes") == 100);
	CHECK(o && jdbl(o, "rtt_avg_ms") == 1.0);
	h_free(&h);
}

static void test_memcap(void)
{
	struct nj_icmp_config ic;
	struct harness h;

	nj_icmp_config_defaults(&ic);
	ic.memcap = 16; /* not even one state */
	h_init(&h, &ic);
	feed(&h, false, A, B, 8, 1, 1, 8, 0, T0);
	feed(&h, false, B, A, 0, 1, 1, 8, 0, T0 + 100);
	CHECK(nj_icmp_stats(h.icmp)->memcap >= 1);
	CHECK(nj_icmp_stats(h.icmp)->flows == 0);
	h_end(&h, T0 + 1000000);
	CHECK(h.nlogged == 1 && json_object_size(h.logged[0]) == 0);
	h_free(&h);
}

static unsigned beacon_reports;
static void on_report(void *arg, const struct nj_beacon_report *r)
{
	(void)arg;
	CHECK(r->key->kind == NJ_BEACON_ICMP && r->key->port == 8 && r->key->proto == 1);
	CHECK(r->bytes_mean == 56);
	beacon_reports++;
}

static void test_beacon_feed(void)
{
	struct nj_icmp_config ic;
	struct nj_beacon_config bc;
	struct nj_beacon *b;
	struct harness h;

	nj_icmp_config_defaults(&ic);
	nj_beacon_config_defaults(&bc);
	bc.memcap = 1 << 20;
	b = nj_beacon_create(&bc, NULL);
	CHECK(b != NULL);
	h_init(&h, &ic);
	nj_icmp_set_beacon(h.icmp, b);
	nj_beacon_set_report_hook(b, on_report, NULL);
	/* a ping every 30 s: one flow per request (the flow times out in between) */
	for (int i = 0; i < 12; i++) {
		feed(&h, false, A, B, 8, 9, (uint16_t)i, 56, 0, T0 + (uint64_t)i * 30000000u);
		feed(&h, false, B, A, 0, 9, (uint16_t)i, 56, 0, T0 + (uint64_t)i * 30000000u + 900);
	}
	CHECK(nj_beacon_stats(b)->observations == 12);
	CHECK(beacon_reports == 1);
	h_end(&h, T0 + 3600000000ull);
	h_free(&h);
	nj_beacon_destroy(b);
}

static void test_config(void)
{
	static const char *const ov[] = {
		"nightjar.icmp.max-outstanding=16", "nightjar.icmp.echo-timeout=3",
		"nightjar.icmp.max-echo-payload=0", "nightjar.icmp.memcap=1mb"};
	static const char *const bad[] = {"nightjar.icmp.max-outstanding=0"};
	struct nj_icmp_config ic;
	struct nj_conf *c;
	char err[256];

	nj_icmp_config_defaults(&ic);
	c = nj_conf_load(NULL, ov, 4, err, sizeof(err));
	CHECK(c != NULL);
	CHECK(nj_icmp_config_load(&ic, c) == 0);
	CHECK(ic.max_outstanding == 16 && ic.echo_timeout_s == 3 && ic.max_echo_payload == 0);
	CHECK(ic.memcap == 1 << 20 && ic.enabled);
	nj_conf_free(c);
	c = nj_conf_load(NULL, bad, 1, err, sizeof(err));
	CHECK(c != NULL);
	fprintf(stderr, "(an error message about max-outstanding is expected)\n");
	CHECK(nj_icmp_config_load(&ic, c) == -1);
	CHECK(ic.max_outstanding == 16);
	nj_conf_free(c);
	CHECK(nj_conf_is_known("nightjar.icmp.max-outstanding"));
}

int main(void)
{
	test_pairing();
	test_anomalies();
	test_table_bound();
	test_v6_errors_ids();
	test_snaplen();
	test_memcap();
	test_beacon_feed();
	test_config();
	if (failures)
		fprintf(stderr, "%d check(s) failed\n", failures);
	return failures ? 1 : 0;
}
