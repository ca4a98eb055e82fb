/* SPDX-License-Identifier: MIT */
/*
 * DNS parsing cost for a typical exchange (dig's A query for
 * www.suricata-ids.org with EDNS, and its answer: CNAME + 2 A), per message:
 * wire decoding alone, the parser over UDP (one flow, and a new flow per
 * exchange as for resolvers' random source ports), over TCP (length-prefixed),
 * with and without the EVE v3 writer, against a baseline of copying the same
 * bytes measured in the same run.
 * Usage: bench_dns [exchanges [only]]   (default 2000000; only: run just row 1..6, for
 * perf stat)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dataplane/flow.h"
#include "parsers/dns/dns.h"

static const uint8_t q_msg[] = {0x8d, 0x32, 0x01, 0x20, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
				0x00, 0x01, 0x03, 0x77, 0x77, 0x77, 0x0c, 0x73, 0x75, 0x72,
				0x69, 0x63, 0x61, 0x74, 0x61, 0x2d, 0x69, 0x64, 0x73, 0x03,
				0x6f, 0x72, 0x67, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00,
				0x29, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
static const uint8_t r_msg[] = {
	0x8d, 0x32, 0x81, 0xa0, 0x00, 0x01, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x03, 0x77, 0x77,
	0x77, 0x0c, 0x73, 0x75, 0x72, 0x69, 0x63, 0x61, 0x74, 0x61, 0x2d, 0x69, 0x64, 0x73, 0x03,
	0x6f, 0x72, 0x67, 0x00, 0x00, 0x01, 0x00, 0x01, 0xc0, 0x0c, 0x00, 0x05, 0x00, 0x01, 0x00,
	0x00, 0x0d, 0xd8, 0x00, 0x12, 0x0c, 0x73, 0x75, 0x72, 0x69, 0x63, 0x61, 0x74, 0x61, 0x2d,
	0x69, 0x64, 0x73, 0x03, 0x6f, 0x72, 0x67, 0x00, 0xc0, 0x32, 0x00, 0x01, 0x00, 0x01, 0x00,
	0x00, 0x00, 0xf4, 0x00, 0x04, 0xc0, 0x00, 0x4e, 0x18, 0xc0, 0x32, 0x00, 0x01, 0x00, 0x01,
	0x00, 0x00, 0x00, 0xf4, 0x00, 0x04, 0xc0, 0x00, 0x4e, 0x19};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const struct nj_app_parser *P;

/* What the framework does after each call: log and free finished transactions. */
static void drain(void *st, struct nj_al_test *t, struct nj_flow *f, bool log)
{
	struct nj_al_txq *q = P->txq(st);

	while (q->head && q->head->done[0] && q->head->done[1]) {
		struct nj_al_tx *tx = q->head;

		q->head = tx->next;
		if (!q->head)
			q->tail = NULL;
		q->count--;
		if (log)
			P->log_tx(t->log, f, tx);
		P->tx_free(st, tx);
	}
	if (log)
		t->out_len = 0;
}

static double baseline(unsigned n)
{
	static uint8_t dst[4096];
	volatile uint8_t sink = 0;
	double t0 = now_s();

	for (unsigned i = 0; i < n; i++) {
		/* the copy a capture path makes: the bytes of both messages */
		memcpy(dst + (i & 7) * 256, q_msg, sizeof(q_msg));
		memcpy(dst + (i & 7) * 256 + 128, r_msg, sizeof(r_msg));
		__asm__ volatile("" : : "r"(dst) : "memory");
		sink ^= dst[(i & 7) * 256 + 200];
	}
	(void)sink;
	return now_s() - t0;
}

static double decode_only(unsigned n)
{
	struct nj_dns_info info;
	struct nj_dns_name qn;
	unsigned ok = 0;
	double t0 = now_s();

	for (unsigned i = 0; i < n; i++) {
		ok += nj_dns_msg_parse(q_msg, sizeof(q_msg), &info, &qn) == NJ_DNS_OK;
		ok += nj_dns_msg_parse(r_msg, sizeof(r_msg), &info, &qn) == NJ_DNS_OK;
	}
	if (ok != 2 * n)
		fprintf(stderr, "decode failed\n");
	return now_s() - t0;
}

/* UDP: one flow for all exchanges, or a new flow state per exchange. */
static double udp(unsigned n, bool paired, bool new_flow, bool log)
{
	struct nj_dns_config c;
	struct nj_flow *f = aligned_alloc(64, (sizeof(*f) + 63) & ~(size_t)63);
	struct nj_al_test *t;
	void *st = NULL;
	double t0, dt;

	memset(f, 0, sizeof(*f));
	f->proto = 17;
	t = nj_al_test_new(f, NJ_EVE_DNS, 1000000);
	nj_dns_config_defaults(&c);
	c.paired = paired;
	nj_dns_config_set(&c);
	t0 = now_s();
	for (unsigned i = 0; i < n; i++) {
		if (!st)
			st = P->state_new();
		P->parse(st, t->ctx, NJ_DIR_TOSERVER, q_msg, sizeof(q_msg));
		drain(st, t, f, log);
		P->parse(st, t->ctx, NJ_DIR_TOCLIENT, r_msg, sizeof(r_msg));
		drain(st, t, f, log);
		if (new_flow) {
			P->state_free(st);
			st = NULL;
		}
	}
	dt = now_s() - t0;
	if (st)
		P->state_free(st);
	nj_al_test_free(t);
	free(f);
	return dt;
}

/* TCP: 16 exchanges per segment pair, length-prefixed. */
static double tcp(unsigned n)
{
	static uint8_t s0[16 * (sizeof(q_msg) + 2)], s1[16 * (sizeof(r_msg) + 2)];
	struct nj_flow *f = aligned_alloc(64, (sizeof(*f) + 63) & ~(size_t)63);
	struct nj_al_test *t;
	void *st;
	double t0, dt;

	for (unsigned k = 0; k < 16; k++) {
		uint8_t *a = s0 + k * (sizeof(q_msg) + 2), *b = s1 + k * (sizeof(r_msg) + 2);

		a[0] = 0;
		a[1] = sizeof(q_msg);
		memcpy(a + 2, q_msg, sizeof(q_msg));
		a[3] = (uint8_t)k; /* distinct ids: pairs match */
		b[0] = 0;
		b[1] = sizeof(r_msg);
		memcpy(b + 2, r_msg, sizeof(r_msg));
		b[3] = (uint8_t)k;
	}
	memset(f, 0, sizeof(*f));
	f->proto = 6;
	t = nj_al_test_new(f, NJ_EVE_DNS, 1000000);
	nj_dns_config_set(&(struct nj_dns_config){.version = 3,
						  .requests = true,
						  .responses = true,
						  .detailed = true,
						  .grouped = true,
						  .all_types = true,
						  .paired = true,
						  .max_tx = 256});
	st = P->state_new();
	t0 = now_s();
	for (unsigned i = 0; i < n / 16; i++) {
		P->parse(st, t->ctx, NJ_DIR_TOSERVER, s0, sizeof(s0));
		P->parse(st, t->ctx, NJ_DIR_TOCLIENT, s1, sizeof(s1));
		drain(st, t, f, false);
	}
	dt = now_s() - t0;
	P->state_free(st);
	nj_al_test_free(t);
	free(f);
	return dt;
}

static void row(const char *what, double dt, unsigned n, double base)
{
	double ns = dt * 1e9 / (2.0 * n);

	printf("%-44s %8.1f ns/msg %10.2f Mmsg/s %8.1f MB/s  x%.1f memcpy\n", what, ns,
	       2.0 * n / dt / 1e6, (double)(sizeof(q_msg) + sizeof(r_msg)) * n / dt / 1e6,
	       dt / base);
}

int main(int argc, char **argv)
{
	unsigned n = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 2000000;
	int only = argc > 2 ? atoi(argv[2]) : 0;
	double base;

	P = &nj_dns_parser;
	baseline(n / 10);
	base = baseline(n);
	printf("DNS exchange: query %zu bytes, response %zu bytes, %u exchanges\n", sizeof(q_msg),
	       sizeof(r_msg), n);
	printf("%-44s %8.1f ns/msg %10.2f Mmsg/s\n", "baseline: memcpy of the same bytes",
	       base * 1e9 / (2.0 * n), 2.0 * n / base / 1e6);
	if (!only || only == 1)
		row("wire decode (nj_dns_msg_parse)", decode_only(n), n, base);
	if (!only || only == 2)
		row("UDP parse, paired, one flow", udp(n, true, false, false), n, base);
	if (!only || only == 3)
		row("UDP parse, message tx, one flow", udp(n, false, false, false), n, base);
	if (!only || only == 4)
		row("UDP parse, paired, new flow state per pair", udp(n, true, true, false), n,
		    base);
	if (!only || only == 5)
		row("UDP parse + EVE v3 log, paired", udp(n, true, false, true), n, base);
	if (!only || only == 6)
		row("TCP parse (16 per segment), paired", tcp(n), n, base);
	return 0;
}
