/* SPDX-License-Identifier: MIT */
/*
 * Flow table unit tests: packets are built by hand (an IPv4 or IPv6 header in
 * a small buffer so nj_pkt_src/dst work, the decode fields filled directly).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/flow.h"

static int failures;

#define CHECK(c)                                                                             \
	do {                                                                                 \
		if (!(c)) {                                                                  \
			fprintf(stderr, "%s:%d: %s: check failed: %s\n", __FILE__, __LINE__, \
				__func__, #c);                                               \
			failures++;                                                          \
		}                                                                            \
	} while (0)

#define CHECK_EQ(a, b)                                                                            \
	do {                                                                                      \
		unsigned long long a_ = (unsigned long long)(a);                                  \
		unsigned long long b_ = (unsigned long long)(b);                                  \
		if (a_ != b_) {                                                                   \
			fprintf(stderr, "%s:%d: %s: %s == %llu, expected %s == %llu\n", __FILE__, \
				__LINE__, __func__, #a, a_, #b, b_);                              \
			failures++;                                                               \
		}                                                                                 \
	} while (0)

#define SEC 1000000ull
#define T0  (1500000000ull * SEC)

#define FIN 0x01
#define SYN 0x02
#define RST 0x04
#define PSH 0x08
#define ACK 0x10

/* A packet and the bytes it points at. */
struct tpkt {
	struct nj_pkt p;
	uint8_t buf[64];
};

/* Records every flow end: the flow's identity and its state at the time. */
#define MAX_ENDS 64
struct ends {
	unsigned n, by_reason[3];
	struct {
		uint64_t flow_id, pkts_ts, pkts_tc;
		uint8_t reason, state, tcp_state;
	} e[MAX_ENDS];
};

static void on_end(void *arg, struct nj_flow *f, enum nj_flow_end_reason why)
{
	struct ends *x = arg;

	if (x->n < MAX_ENDS) {
		x->e[x->n].flow_id = f->flow_id;
		x->e[x->n].pkts_ts = f->pkts_ts;
		x->e[x->n].pkts_tc = f->pkts_tc;
		x->e[x->n].reason = (uint8_t)why;
		x->e[x->n].state = f->state;
		x->e[x->n].tcp_state = f->tcp_state;
	}
	x->n++;
	x->by_reason[why]++;
}

static uint32_t fnv(uint32_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n--)
		h = (h ^ *b++) * 16777619u;
	return h;
}

/* A symmetric tuple hash (decode provides the real one). */
static uint32_t sym_hash(const struct nj_pkt *p)
{
	unsigned alen = nj_pkt_addr_len(p);
	const uint8_t *a = nj_pkt_src(p), *b = nj_pkt_dst(p);
	uint16_t pa = p->sport, pb = p->dport;
	uint32_t h = 2166136261u;

	if (memcmp(a, b, alen) > 0 || (memcmp(a, b, alen) == 0 && pa > pb)) {
		const uint8_t *t = a;
		uint16_t tp = pa;

		a = b;
		b = t;
		pa = pb;
		pb = tp;
	}
	h = fnv(h, a, alen);
	h = fnv(h, b, alen);
	h = fnv(h, &pa, 2);
	h = fnv(h, &pb, 2);
	h = fnv(h, &p->proto, 1);
	h = fnv(h, p->vlan, sizeof(p->vlan));
	return h;
}

static void mk4(struct tpkt *t, uint32_t src, uint32_t dst, uint8_t proto, uint16_t sport,
		uint16_t dport, uint64_t ts)
{
	memset(t, 0, sizeof(*t));
	t->buf[0] = 0x45;
	t->buf[9] = proto;
	for (int i = 0; i < 4; i++) {
		t->buf[12 + i] = (uint8_t)(src >> (24 - 8 * i));
		t->buf[16 + i] = (uint8_t)(dst >> (24 - 8 * i));
	}
	t->p.data = t->buf;
	t->p.len = 60;
	t->p.wire_len = 60;
	t->p.l3_off = 0;
	t->p.l4_off = 20;
	t->p.flags = NJ_PKT_IPV4 | NJ_PKT_HAS_L4;
	t->p.proto = proto;
	t->p.sport = sport;
	t->p.dport = dport;
	t->p.ts_us = ts;
	t->p.hash = sym_hash(&t->p);
}

static void mk6(struct tpkt *t, uint8_t src_last, uint8_t dst_last, uint8_t proto, uint16_t sport,
		uint16_t dport, uint64_t ts)
{
	memset(t, 0, sizeof(*t));
	t->buf[0] = 0x60;
	t->buf[6] = proto;
	t->buf[8] = 0x20;
	t->buf[9] = 0x01;
	t->buf[23] = src_last;
	t->buf[24] = 0x20;
	t->buf[25] = 0x01;
	t->buf[39] = dst_last;
	t->p.data = t->buf;
	t->p.len = 64;
	t->p.l4_off = 40;
	t->p.flags = NJ_PKT_IPV6 | NJ_PKT_HAS_L4;
	t->p.proto = proto;
	t->p.sport = sport;
	t->p.dport = dport;
	t->p.ts_us = ts;
	t->p.hash = sym_hash(&t->p);
}

#define CA 0x0a000001u /* 10.0.0.1 client */
#define SA 0x0a000002u /* 10.0.0.2 server */

/* TCP packet from the client (dir 0) or the server (dir 1) of the CA:1234 <-> SA:80 pair. */
static void mktcp(struct tpkt *t, int dir, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t plen,
		  uint64_t ts)
{
	if (dir == 0)
		mk4(t, CA, SA, 6, 1234, 80, ts);
	else
		mk4(t, SA, CA, 6, 80, 1234, ts);
	t->p.tcp_flags = flags;
	t->p.tcp_seq = seq;
	t->p.tcp_ack = ack;
	t->p.payload_len = plen;
}

static struct nj_flow_table *mktable(struct ends *x, bool midstream, uint64_t memcap)
{
	struct nj_flow_config cfg;
	struct nj_flow_table *t;

	nj_flow_config_defaults(&cfg);
	cfg.midstream = midstream;
	cfg.hash_size = 1024;
	cfg.memcap = memcap ? memcap : 4096 * sizeof(struct nj_flow);
	memset(x, 0, sizeof(*x));
	t = nj_flow_table_create(&cfg, 0, on_end, x);
	if (!t) {
		fprintf(stderr, "table create failed\n");
		exit(1);
	}
	return t;
}

static struct nj_flow *one(struct nj_flow_table *t, struct tpkt *tp)
{
	nj_flow_burst(t, &tp->p, 1);
	return tp->p.flow;
}

static void test_defaults_names(void)
{
	struct nj_flow_config c;

	nj_flow_config_defaults(&c);
	CHECK_EQ(c.memcap, 128ull << 20);
	CHECK_EQ(c.hash_size, 65536);
	CHECK_EQ(c.emergency_recovery, 30);
	CHECK_EQ(c.timeouts[NJ_FPC_TCP].established_s, 600);
	CHECK_EQ(c.timeouts[NJ_FPC_TCP].emerg_closed_s, 10);
	CHECK_EQ(c.timeouts[NJ_FPC_UDP].new_s, 30);
	CHECK_EQ(c.timeouts[NJ_FPC_ICMP].emerg_established_s, 100);
	CHECK_EQ(c.timeouts[NJ_FPC_OTHER].closed_s, 0);
	CHECK(!strcmp(nj_flow_state_name(NJ_FLOW_STATE_ESTABLISHED), "established"));
	CHECK(!strcmp(nj_flow_reason_name(NJ_FLOW_END_FORCED), "forced"));
	CHECK(!strcmp(nj_flow_reason_name(NJ_FLOW_END_SHUTDOWN), "shutdown"));
	CHECK(!strcmp(nj_tcp_state_name(NJ_TCP_CLOSE_WAIT), "close_wait"));
	CHECK(!strcmp(nj_tcp_state_name(NJ_TCP_FIN_WAIT1), "fin_wait1"));
	CHECK(!strcmp(nj_tcp_state_name(NJ_TCP_NONE), "none"));
	CHECK(!strcmp(nj_tcp_state_name(NJ_TCP_CLOSED), "closed"));
	CHECK(!strcmp(nj_tcp_state_name(NJ_TCP_STATE_MAX), "unknown"));
}

static void test_both_directions(void)
{
	struct ends x;
	struct nj_flow_table *t = mktable(&x, false, 0);
	struct tpkt a, b, c;
	struct nj_flow *f;

	mk4(&a, CA, SA, 17, 5000, 53, T0);
	mk4(&b, SA, CA, 17, 53, 5000, T0 + 10);
	mk4(&c, CA, SA, 17, 5000, 53, T0 + 20);
	c.p.len = 100;
	f = one(t, &a);
	CHECK(f != NULL);
	CHECK(a.p.flags & NJ_PKT_TOSERVER);
	CHECK_EQ(f->state, NJ_FLOW_STATE_NEW);
	CHECK(one(t, &b) == f);
	CHECK(b.p.flags & NJ_PKT_TOCLIENT);
	CHECK(!(b.p.flags & NJ_PKT_TOSERVER));
	CHECK_EQ(f->state, NJ_FLOW_STATE_ESTABLISHED);
	CHECK(one(t, &c) == f);
	CHECK_EQ(f->pkts_ts, 2);
	CHECK_EQ(f->pkts_tc, 1);
	CHECK_EQ(f->bytes_ts, 160);
	CHECK_EQ(f->bytes_tc, 60);
	CHECK_EQ(f->start_us, T0);
	CHECK_EQ(f->last_us, T0 + 20);
	CHECK_EQ(nj_flow_sport(f), 5000);
	CHECK_EQ(nj_flow_dport(f), 53);
	CHECK(!memcmp(nj_flow_src(f), a.buf + 12, 4));
	CHECK(!memcmp(nj_flow_dst(f), a.buf + 16, 4));
	CHECK_EQ(nj_flow_table_stats(t)->created, 1);
	CHECK_EQ(nj_flow_table_stats(t)->udp, 1);
	CHECK_EQ(nj_flow_table_stats(t)->active, 1);

	/* the same tuple with the server's port lower than the client's, IPv6 */
	{
		struct tpkt d, e;
		struct nj_flow *g;

		mk6(&d, 9, 1, 6, 40000, 22, T0);
		d.p.tcp_flags = SYN;
		mk6(&e, 1, 9, 6, 22, 40000, T0 + 1);
		e.p.tcp_flags = SYN | ACK;
		g = one(t, &d);
		CHECK(g && g != f);
		CHECK(one(t, &e) == g);
		CHECK(e.p.flags & NJ_PKT_TOCLIENT);
		CHECK_EQ(g->ipv6, 1);
		CHECK_EQ(nj_flow_sport(g), 40000);
		CHECK(!memcmp(nj_flow_src(g), d.buf + 8, 16));
	}

	/* timestamps going backwards do not move last_us back */
	mk4(&c, CA, SA, 17, 5000, 53, T0 + 5);
	CHECK(one(t, &c) == f);
	CHECK_EQ(f->last_us, T0 + 20);
	nj_flow_table_destroy(t);
}

static void test_not_tracked(void)
{
	struct ends x;
	struct nj_flow_table *t = mktable(&x, false, 0);
	struct tpkt p[4];

	mk4(&p[0], CA, SA, 17, 1, 2, T0);
	p[0].p.flags |= NJ_PKT_FRAGMENT;
	mk4(&p[1], CA, SA, 17, 1, 2, T0);
	p[1].p.flags |= NJ_PKT_INVALID;
	mk4(&p[2], CA, SA, 17, 1, 2, T0);
	p[2].p.flags &= ~NJ_PKT_IPV4;
	mk4(&p[3], CA, SA, 17, 1, 2, T0);
	p[3].p.flags |= NJ_PKT_REASSEMBLED;
	for (int i = 0; i < 4; i++)
		one(t, &p[i]);
	CHECK(p[0].p.flow == NULL && p[1].p.flow == NULL && p[2].p.flow == NULL);
	CHECK(!(p[0].p.flags & (NJ_PKT_TOSERVER | NJ_PKT_TOCLIENT)));
	CHECK(p[3].p.flow != NULL);
	CHECK_EQ(nj_flow_table_stats(t)->not_tracked, 3);
	CHECK_EQ(nj_flow_table_stats(t)->created, 1);

	/* no L4: ports are not part of the key */
	{
		struct tpkt a, b;

		mk4(&a, CA, SA, 47, 0, 0, T0);
		a.p.flags &= ~NJ_PKT_HAS_L4;
		a.p.sport = 99; /* garbage that must be ignored */
		mk4(&b, SA, CA, 47, 0, 0, T0 + 1);
		b.p.flags &= ~NJ_PKT_HAS_L4;
		b.p.dport = 7;
		CHECK(one(t, &a) != NULL);
		CHECK(one(t, &b) == a.p.flow);
		CHECK_EQ(nj_flow_table_stats(t)->other, 1);
	}
	nj_flow_table_destroy(t);
}

static void test_synack_first(void)
{
	struct ends x;
	struct nj_flow_table *t = mktable(&x, true, 0);
	struct tpkt a, b;
	struct nj_flow *f;

	mktcp(&a, 1, SYN | ACK, 5000, 1001, 0, T0);
	f = one(t, &a);
	CHECK(f != NULL);
	CHECK(a.p.flags & NJ_PKT_TOCLIENT);
	CHECK(!memcmp(nj_flow_src(f), a.buf + 16, 4)); /* client is the SYN/ACK's receiver */
	CHECK_EQ(nj_flow_sport(f), 1234);
	CHECK_EQ(nj_flow_dport(f), 80);
	CHECK_EQ(f->pkts_tc, 1);
	CHECK_EQ(f->tcp_state, NJ_TCP_SYN_RECV);
	mktcp(&b, 0, ACK, 1001, 5001, 0, T0 + 1);
	CHECK(one(t, &b) == f);
	CHECK(b.p.flags & NJ_PKT_TOSERVER);
	CHECK_EQ(f->tcp_state, NJ_TCP_ESTABLISHED);
	CHECK_EQ(f->state, NJ_FLOW_STATE_ESTABLISHED);
	CHECK_EQ(nj_flow_table_stats(t)->midstream_pickups, 1);
	nj_flow_table_destroy(t);

	/* midstream off: orientation the same, TCP state stays none */
	t = mktable(&x, false, 0);
	f = one(t, &a);
	CHECK(!memcmp(nj_flow_src(f), a.buf + 16, 4));
	CHECK_EQ(f->tcp_state, NJ_TCP_NONE);
	CHECK(one(t, &b) == f);
	CHECK_EQ(f->tcp_state, NJ_TCP_NONE);
	CHECK_EQ(f->state, NJ_FLOW_STATE_NEW);
	CHECK_EQ(nj_flow_table_stats(t)->tcp_midstream_ignored, 1);
	CHECK_EQ(nj_flow_table_stats(t)->midstream_pickups, 0);
	nj_flow_table_destroy(t);
}

/* Runs a sequence of (dir, flags, seq, ack, len) and checks the TCP state after each. */
struct step {
	int dir;
	uint8_t flags;
	uint32_t seq, ack;
	uint16_t len;
	uint8_t tcp_state, flow_state;
};

static struct nj_flow *run_steps(struct nj_flow_table *t, const struct step *s, unsigned n,
				 int line)
{
	struct nj_flow *f = NULL;
	struct tpkt p;

	for (unsigned i = 0; i < n; i++) {
		mktcp(&p, s[i].dir, s[i].flags, s[i].seq, s[i].ack, s[i].len, T0 + i * 1000);
		nj_flow_burst(t, &p.p, 1);
		if (f && p.p.flow != f) {
			fprintf(stderr, "line %d step %u: packet landed in another flow\n", line,
				i);
			failures++;
		}
		f = p.p.flow;
		if (!f || f->tcp_state != s[i].tcp_state || f->state != s[i].flow_state) {
			fprintf(stderr, "line %d step %u: tcp %s flow %s, expected %s %s\n", line,
				i, f ? nj_tcp_state_name(f->tcp_state) : "-",
				f ? nj_flow_state_name(f->state) : "-",
				nj_tcp_state_name(s[i].tcp_state),
				nj_flow_state_name(s[i].flow_state));
			failures++;
		}
	}
	return f;
}

#define N NJ_FLOW_STATE_NEW
#define E NJ_FLOW_STATE_ESTABLISHED
#define C NJ_FLOW_STATE_CLOSED

static void test_tcp_states(void)
{
	struct ends x;
	struct nj_flow_table *t;
	struct nj_flow *f;
	/* handshake, data, client closes first */
	static const struct step client_close[] = {
		{0, SYN, 100, 0, 0, NJ_TCP_SYN_SENT, N},
		{1, SYN | ACK, 900, 101, 0, NJ_TCP_SYN_RECV, N},
		{0, ACK, 101, 901, 0, NJ_TCP_ESTABLISHED, E},
		{0, PSH | ACK, 101, 901, 10, NJ_TCP_ESTABLISHED, E},
		{1, PSH | ACK, 901, 111, 20, NJ_TCP_ESTABLISHED, E},
		{0, FIN | ACK, 111, 921, 0, NJ_TCP_CLOSE_WAIT, E},
		{1, ACK, 921, 112, 0, NJ_TCP_CLOSE_WAIT, E},
		{1, FIN | ACK, 921, 112, 0, NJ_TCP_LAST_ACK, C},
		{0, ACK, 112, 922, 0, NJ_TCP_CLOSED, C},
	};
	/* server closes first, FINs cross over ACKs */
	static const struct step server_close[] = {
		{0, SYN, 100, 0, 0, NJ_TCP_SYN_SENT, N},
		{1, SYN | ACK, 900, 101, 0, NJ_TCP_SYN_RECV, N},
		{0, ACK, 101, 901, 0, NJ_TCP_ESTABLISHED, E},
		{1, FIN | ACK, 901, 101, 0, NJ_TCP_FIN_WAIT1, E},
		{0, ACK, 101, 902, 0, NJ_TCP_FIN_WAIT2, E},
		{0, FIN | ACK, 101, 902, 0, NJ_TCP_TIME_WAIT, C},
		{1, ACK, 902, 102, 0, NJ_TCP_CLOSED, C},
	};
	static const struct step fin_retrans[] = {
		{0, SYN, 100, 0, 0, NJ_TCP_SYN_SENT, N},
		{1, SYN | ACK, 900, 101, 0, NJ_TCP_SYN_RECV, N},
		{0, ACK, 101, 901, 0, NJ_TCP_ESTABLISHED, E},
		{1, FIN | ACK, 901, 101, 0, NJ_TCP_FIN_WAIT1, E},
		{1, FIN | ACK, 901, 101, 0, NJ_TCP_FIN_WAIT1, E}, /* retransmitted */
		{1, ACK, 902, 101, 0, NJ_TCP_FIN_WAIT1, E},	  /* the server's own ACK */
		{0, FIN | ACK, 101, 902, 0, NJ_TCP_TIME_WAIT, C},
	};
	static const struct step rst[] = {
		{0, SYN, 100, 0, 0, NJ_TCP_SYN_SENT, N},
		{1, RST | ACK, 0, 101, 0, NJ_TCP_CLOSED, C},
	};
	static const struct step rst_est[] = {
		{0, SYN, 100, 0, 0, NJ_TCP_SYN_SENT, N},
		{1, SYN | ACK, 900, 101, 0, NJ_TCP_SYN_RECV, N},
		{0, ACK, 101, 901, 0, NJ_TCP_ESTABLISHED, E},
		{0, RST, 101, 0, 0, NJ_TCP_CLOSED, C},
		{1, ACK, 901, 101, 0, NJ_TCP_CLOSED, C},
	};
	/* the final ACK of the handshake with a wrong ack number does not establish */
	static const struct step bad_ack[] = {
		{0, SYN, 100, 0, 0, NJ_TCP_SYN_SENT, N},
		{1, SYN | ACK, 900, 101, 0, NJ_TCP_SYN_RECV, N},
		{0, ACK, 101, 5555, 0, NJ_TCP_SYN_RECV, N},
		{0, ACK, 101, 901, 0, NJ_TCP_ESTABLISHED, E},
		{1, SYN | ACK, 900, 101, 0, NJ_TCP_SYN_RECV, E}, /* resent, not confirmed */
	};
	/* both FIN without ACK: closing */
	static const struct step closing[] = {
		{0, SYN, 100, 0, 0, NJ_TCP_SYN_SENT, N},
		{1, SYN | ACK, 900, 101, 0, NJ_TCP_SYN_RECV, N},
		{0, ACK, 101, 901, 0, NJ_TCP_ESTABLISHED, E},
		{1, FIN | ACK, 901, 101, 0, NJ_TCP_FIN_WAIT1, E},
		{0, FIN, 101, 0, 0, NJ_TCP_CLOSING, E},
		{1, ACK, 902, 102, 0, NJ_TCP_TIME_WAIT, C},
	};
	static const struct step midstream_off[] = {
		{0, PSH | ACK, 100, 900, 10, NJ_TCP_NONE, N},
		{1, ACK, 900, 110, 0, NJ_TCP_NONE, N},
		{0, FIN | ACK, 110, 900, 0, NJ_TCP_NONE, N},
	};
	static const struct step midstream_on[] = {
		{0, PSH | ACK, 100, 900, 10, NJ_TCP_ESTABLISHED, E},
		{1, ACK, 900, 110, 0, NJ_TCP_ESTABLISHED, E},
		{0, FIN | ACK, 110, 900, 0, NJ_TCP_CLOSE_WAIT, E},
	};

	t = mktable(&x, false, 0);
	f = run_steps(t, client_close, NJ_ARRAY_SIZE(client_close), __LINE__);
	CHECK(f && f->tcp_flags_ts == (SYN | ACK | PSH | FIN));
	CHECK(f && f->tcp_flags_tc == (SYN | ACK | PSH | FIN));
	CHECK(f && f->tcp_isn[0] == 100 && f->tcp_isn[1] == 900);
	CHECK_EQ(nj_flow_table_stats(t)->tcp_syn, 1);
	CHECK_EQ(nj_flow_table_stats(t)->tcp_synack, 1);
	CHECK_EQ(nj_flow_table_stats(t)->tcp_sessions, 1);
	CHECK_EQ(nj_flow_table_stats(t)->tcp, 1);
	nj_flow_table_destroy(t);

	t = mktable(&x, false, 0);
	run_steps(t, server_close, NJ_ARRAY_SIZE(server_close), __LINE__);
	nj_flow_table_destroy(t);
	t = mktable(&x, false, 0);
	run_steps(t, fin_retrans, NJ_ARRAY_SIZE(fin_retrans), __LINE__);
	nj_flow_table_destroy(t);
	t = mktable(&x, false, 0);
	run_steps(t, rst, NJ_ARRAY_SIZE(rst), __LINE__);
	CHECK_EQ(nj_flow_table_stats(t)->tcp_rst, 1);
	nj_flow_table_destroy(t);
	t = mktable(&x, false, 0);
	run_steps(t, rst_est, NJ_ARRAY_SIZE(rst_est), __LINE__);
	nj_flow_table_destroy(t);
	t = mktable(&x, false, 0);
	run_steps(t, bad_ack, NJ_ARRAY_SIZE(bad_ack), __LINE__);
	nj_flow_table_destroy(t);
	t = mktable(&x, false, 0);
	run_steps(t, closing, NJ_ARRAY_SIZE(closing), __LINE__);
	nj_flow_table_destroy(t);

	t = mktable(&x, false, 0);
	f = run_steps(t, midstream_off, NJ_ARRAY_SIZE(midstream_off), __LINE__);
	CHECK_EQ(nj_flow_table_stats(t)->tcp_midstream_ignored, 1);
	CHECK_EQ(nj_flow_table_stats(t)->created, 1);
	CHECK(f && f->pkts_ts == 2 && f->pkts_tc == 1);
	nj_flow_flush_all(t, T0 + 10 * SEC);
	CHECK_EQ(x.n, 1);
	CHECK_EQ(x.e[0].reason, NJ_FLOW_END_SHUTDOWN);
	CHECK_EQ(x.e[0].tcp_state, NJ_TCP_NONE);
	CHECK_EQ(nj_flow_table_stats(t)->end_tcp_state[NJ_TCP_NONE], 1);
	nj_flow_table_destroy(t);

	t = mktable(&x, true, 0);
	run_steps(t, midstream_on, NJ_ARRAY_SIZE(midstream_on), __LINE__);
	CHECK_EQ(nj_flow_table_stats(t)->tcp_midstream_ignored, 0);
	CHECK_EQ(nj_flow_table_stats(t)->midstream_pickups, 1);
	nj_flow_table_destroy(t);
}

static void test_tcp_reuse(void)
{
	struct ends x;
	struct nj_flow_table *t = mktable(&x, false, 0);
	static const struct step s[] = {
		{0, SYN, 100, 0, 0, NJ_TCP_SYN_SENT, N},
		{1, SYN | ACK, 900, 101, 0, NJ_TCP_SYN_RECV, N},
		{0, ACK, 101, 901, 0, NJ_TCP_ESTABLISHED, E},
		{0, RST, 101, 0, 0, NJ_TCP_CLOSED, C},
	};
	struct nj_flow *f = run_steps(t, s, NJ_ARRAY_SIZE(s), __LINE__);
	struct tpkt p;
	uint64_t old_id = f->flow_id;

	/* a retransmitted SYN with the old ISN is not a new connection */
	mktcp(&p, 0, SYN, 100, 0, 0, T0 + 5 * SEC);
	CHECK(one(t, &p) == f);
	CHECK_EQ(nj_flow_table_stats(t)->tcp_reuse, 0);
	mktcp(&p, 0, SYN, 7777, 0, 0, T0 + 6 * SEC);
	CHECK(one(t, &p) != NULL);
	CHECK_EQ(nj_flow_table_stats(t)->tcp_reuse, 1);
	CHECK_EQ(x.n, 1);
	CHECK_EQ(x.e[0].reason, NJ_FLOW_END_TIMEOUT);
	CHECK_EQ(x.e[0].flow_id, old_id);
	CHECK_EQ(x.e[0].tcp_state, NJ_TCP_CLOSED);
	CHECK_EQ(p.p.flow->tcp_state, NJ_TCP_SYN_SENT);
	CHECK_EQ(p.p.flow->pkts_ts, 1);
	CHECK(p.p.flow->flow_id != old_id);
	CHECK_EQ(nj_flow_table_stats(t)->created, 2);
	CHECK_EQ(nj_flow_table_stats(t)->active, 1);
	nj_flow_table_destroy(t);
}

static void test_icmp(void)
{
	struct ends x;
	struct nj_flow_table *t = mktable(&x, false, 0);
	struct tpkt req, rep, v6;
	struct nj_flow *f;

	/* echo request 8 maps to ports (8, 0), the reply 0 to (0, 8) */
	mk4(&req, CA, SA, 1, 8, 0, T0);
	req.p.icmp_type = 8;
	mk4(&rep, SA, CA, 1, 0, 8, T0 + 100);
	rep.p.icmp_type = 0;
	f = one(t, &req);
	CHECK(f != NULL);
	CHECK(one(t, &rep) == f);
	CHECK(rep.p.flags & NJ_PKT_TOCLIENT);
	CHECK_EQ(f->state, NJ_FLOW_STATE_ESTABLISHED);
	CHECK(f->icmp_seen[0] && f->icmp_seen[1]);
	CHECK_EQ(f->icmp_type[0], 8);
	CHECK_EQ(f->icmp_type[1], 0);
	CHECK_EQ(nj_flow_table_stats(t)->icmpv4, 1);

	mk6(&v6, 1, 2, 58, 128, 129, T0);
	v6.p.icmp_type = 128;
	CHECK(one(t, &v6) != NULL && v6.p.flow != f);
	CHECK_EQ(nj_flow_table_stats(t)->icmpv6, 1);
	nj_flow_table_destroy(t);
}

static void test_vlan(void)
{
	struct ends x;
	struct nj_flow_table *t = mktable(&x, false, 0);
	struct tpkt a, b, c;

	mk4(&a, CA, SA, 17, 1, 2, T0);
	mk4(&b, CA, SA, 17, 1, 2, T0);
	b.p.vlan[0] = 10;
	b.p.nvlan = 1;
	b.p.hash = sym_hash(&b.p);
	mk4(&c, SA, CA, 17, 2, 1, T0);
	c.p.vlan[0] = 10;
	c.p.vlan[1] = 20;
	c.p.nvlan = 2;
	c.p.hash = a.p.hash; /* same bucket and hash: the key alone must separate them */
	one(t, &a);
	one(t, &b);
	one(t, &c);
	CHECK(a.p.flow && b.p.flow && c.p.flow);
	CHECK(a.p.flow != b.p.flow && b.p.flow != c.p.flow && a.p.flow != c.p.flow);
	CHECK_EQ(nj_flow_table_stats(t)->created, 3);
	CHECK_EQ(c.p.flow->vlan[1], 20);
	nj_flow_table_destroy(t);
}

/* vlan.use-for-tracking: no: the sides of one flow may carry different VLANs; the first is logged. */
static void test_vlan_untracked(void)
{
	struct ends x;
	struct nj_flow_config cfg;
	struct nj_flow_table *t;
	struct tpkt a, b;

	nj_flow_config_defaults(&cfg);
	cfg.hash_size = 1024;
	cfg.memcap = 4096 * sizeof(struct nj_flow);
	cfg.vlan_tracking = false;
	memset(&x, 0, sizeof(x));
	t = nj_flow_table_create(&cfg, 0, on_end, &x);
	CHECK(t != NULL);
	mk4(&a, CA, SA, 17, 1, 2, T0);
	a.p.vlan[0] = 3136;
	a.p.nvlan = 1;
	mk4(&b, SA, CA, 17, 2, 1, T0);
	b.p.hash = a.p.hash; /* the decoder leaves VLANs out of the hash in this mode */
	one(t, &a);
	one(t, &b);
	CHECK(a.p.flow && a.p.flow == b.p.flow);
	CHECK_EQ(nj_flow_table_stats(t)->created, 1);
	CHECK_EQ(a.p.flow->vlan_id[0], 3136);
	CHECK_EQ(a.p.flow->vlan[0], 0);
	nj_flow_table_destroy(t);
}

/* ESP as Suricata: one flow per (source, destination, SPI); the reply SA is another flow. */
static void test_esp(void)
{
	struct ends x;
	struct nj_flow_table *t = mktable(&x, false, 0);
	struct tpkt a, a2, b, r, r2;

	mk4(&a, CA, SA, 50, 0, 0, T0);
	a.p.esp_spi = 123;
	mk4(&a2, CA, SA, 50, 0, 0, T0 + 1);
	a2.p.esp_spi = 123;
	mk4(&b, CA, SA, 50, 0, 0, T0 + 2);
	b.p.esp_spi = 321;
	mk4(&r, SA, CA, 50, 0, 0, T0 + 3);
	r.p.esp_spi = 123; /* same SPI, other direction */
	mk4(&r2, SA, CA, 50, 0, 0, T0 + 4);
	r2.p.esp_spi = 0x00010001; /* halves equal: still directional */
	one(t, &a);
	one(t, &a2);
	one(t, &b);
	one(t, &r);
	one(t, &r2);
	CHECK(a.p.flow && a.p.flow == a2.p.flow);
	CHECK(b.p.flow && b.p.flow != a.p.flow);
	CHECK(r.p.flow && r.p.flow != a.p.flow && r.p.flow != b.p.flow);
	CHECK(r2.p.flow && r2.p.flow != r.p.flow);
	CHECK_EQ(nj_flow_table_stats(t)->created, 4);
	CHECK_EQ(a.p.flow->spi, 123);
	CHECK_EQ(a.p.flow->pkts_ts, 2);
	CHECK_EQ(a.p.flow->pkts_tc, 0);
	CHECK(!memcmp(nj_flow_src(r.p.flow), nj_pkt_src(&r.p), 4));
	CHECK(r.p.flags & NJ_PKT_TOSERVER);
	nj_flow_table_destroy(t);
}

static void test_timeouts(void)
{
	struct ends x;
	struct nj_flow_table *t = mktable(&x, false, 0);
	struct tpkt u, ue, i, o, tn;
	static const struct step closed[] = {
		{0, SYN, 100, 0, 0, NJ_TCP_SYN_SENT, N},
		{0, RST, 101, 0, 0, NJ_TCP_CLOSED, C},
	};

	/* udp new (30 s), udp established (300 s), icmp new (30 s), other new (30 s), tcp new (60 s) */
	mk4(&u, 1, 2, 17, 1, 2, T0);
	mk4(&ue, 3, 4, 17, 1, 2, T0);
	mk4(&i, 5, 6, 1, 8, 0, T0);
	mk4(&o, 7, 8, 132, 1, 2, T0);
	mk4(&tn, 9, 10, 6, 1, 2, T0);
	tn.p.tcp_flags = SYN;
	one(t, &u);
	one(t, &ue);
	one(t, &i);
	one(t, &o);
	one(t, &tn);
	mk4(&ue, 4, 3, 17, 2, 1, T0);
	one(t, &ue);
	CHECK_EQ(ue.p.flow->state, NJ_FLOW_STATE_ESTABLISHED);
	run_steps(t, closed, 2, __LINE__); /* tcp closed at T0 + 1 ms: 60 s */

	CHECK_EQ(nj_flow_expire(t, T0 + 30 * SEC - 1, 100), 0);
	CHECK_EQ(nj_flow_expire(t, T0 + 30 * SEC, 100), 3);
	CHECK_EQ(x.n, 3);
	CHECK_EQ(nj_flow_expire(t, T0 + 60 * SEC, 100), 1);	   /* tcp new */
	CHECK_EQ(nj_flow_expire(t, T0 + 60 * SEC + 1000, 100), 1); /* tcp closed */
	CHECK_EQ(x.e[4].tcp_state, NJ_TCP_CLOSED);
	CHECK_EQ(nj_flow_expire(t, T0 + 300 * SEC - 1, 100), 0);
	CHECK_EQ(nj_flow_expire(t, T0 + 300 * SEC, 100), 1);
	CHECK_EQ(x.by_reason[NJ_FLOW_END_TIMEOUT], 6);
	CHECK_EQ(nj_flow_table_stats(t)->timed_out, 6);
	CHECK_EQ(nj_flow_table_stats(t)->active, 0);
	CHECK_EQ(nj_flow_table_stats(t)->end_state[NJ_FLOW_STATE_NEW], 4);
	CHECK_EQ(nj_flow_table_stats(t)->end_state[NJ_FLOW_STATE_CLOSED], 1);
	CHECK_EQ(nj_flow_table_stats(t)->end_state[NJ_FLOW_STATE_ESTABLISHED], 1);
	CHECK_EQ(nj_flow_expire(t, T0 + 3000 * SEC, 100), 0);

	/* budget */
	for (uint32_t k = 0; k < 10; k++) {
		mk4(&u, 100 + k, 2, 17, 1, 2, T0);
		one(t, &u);
	}
	CHECK_EQ(nj_flow_expire(t, T0 + 31 * SEC, 4), 4);
	CHECK_EQ(nj_flow_expire(t, T0 + 31 * SEC, 100), 6);
	nj_flow_table_destroy(t);

	/* closed timeout 0: ends at the next sweep */
	{
		struct nj_flow_config cfg;

		nj_flow_config_defaults(&cfg);
		cfg.memcap = 64 * sizeof(struct nj_flow);
		cfg.timeouts[NJ_FPC_TCP].closed_s = 0;
		memset(&x, 0, sizeof(x));
		t = nj_flow_table_create(&cfg, 0, on_end, &x);
		CHECK(t != NULL);
		run_steps(t, closed, 2, __LINE__);
		CHECK_EQ(nj_flow_expire(t, T0 + 1000, 100), 1);
		nj_flow_table_destroy(t);
	}
}

static void test_packet_past_timeout(void)
{
	struct ends x;
	struct nj_flow_table *t = mktable(&x, false, 0);
	struct tpkt p[3];
	struct nj_flow *f;
	uint64_t id;

	mk4(&p[0], CA, SA, 17, 1, 2, T0);
	f = one(t, &p[0]);
	id = f->flow_id;
	/* just before the timeout: same flow */
	mk4(&p[0], CA, SA, 17, 1, 2, T0 + 30 * SEC - 1);
	CHECK(one(t, &p[0]) == f);
	CHECK_EQ(f->pkts_ts, 2);
	/* the same burst: one packet of the old flow, then one past its timeout */
	mk4(&p[1], SA, CA, 17, 2, 1, T0 + 30 * SEC);
	mk4(&p[2], SA, CA, 17, 2, 1, T0 + 330 * SEC); /* established now: 300 s */
	{
		struct nj_pkt b[2] = {p[1].p, p[2].p};

		nj_flow_burst(t, b, 2);
		CHECK(b[0].flow != NULL && b[1].flow != NULL);
		CHECK(b[0].flow != b[1].flow); /* the ended flow is not reused in the burst */
		CHECK_EQ(x.n, 1);
		CHECK_EQ(x.e[0].reason, NJ_FLOW_END_TIMEOUT);
		CHECK_EQ(x.e[0].flow_id, id);
		CHECK_EQ(x.e[0].pkts_ts, 2);
		CHECK_EQ(x.e[0].pkts_tc, 1);
		CHECK(b[1].flags & NJ_PKT_TOSERVER); /* the new flow's first packet */
		CHECK(!memcmp(nj_flow_src(b[1].flow), p[2].buf + 12, 4));
		CHECK(b[1].flow->flow_id != id);
	}
	CHECK_EQ(nj_flow_table_stats(t)->timed_out_pkt, 1);
	CHECK_EQ(nj_flow_table_stats(t)->created, 2);
	CHECK_EQ(nj_flow_table_stats(t)->active, 1);
	/* the old flow is never ended again */
	CHECK_EQ(nj_flow_expire(t, T0 + 331 * SEC, 100), 0);
	CHECK_EQ(x.n, 1);
	nj_flow_flush_all(t, T0 + 331 * SEC);
	CHECK_EQ(x.n, 2);
	CHECK_EQ(nj_flow_table_stats(t)->spare + nj_flow_table_stats(t)->active, 4096);
	nj_flow_table_destroy(t);
}

static void test_flush_all(void)
{
	struct ends x;
	struct nj_flow_table *t = mktable(&x, false, 0);
	struct tpkt a, b;

	mk4(&a, 1, 2, 17, 1, 2, T0);		/* idle 40 s at the end: timed out */
	mk4(&b, 3, 4, 17, 1, 2, T0 + 20 * SEC); /* idle 20 s: shutdown */
	one(t, &a);
	one(t, &b);
	nj_flow_flush_all(t, T0 + 40 * SEC);
	CHECK_EQ(x.n, 2);
	CHECK_EQ(x.by_reason[NJ_FLOW_END_TIMEOUT], 1);
	CHECK_EQ(x.by_reason[NJ_FLOW_END_SHUTDOWN], 1);
	CHECK_EQ(nj_flow_table_stats(t)->active, 0);
	CHECK_EQ(nj_flow_table_stats(t)->shutdown, 1);
	CHECK_EQ(nj_flow_table_stats(t)->spare, 4096);
	nj_flow_flush_all(t, T0 + 40 * SEC);
	CHECK_EQ(x.n, 2);
	nj_flow_table_destroy(t);
}

static void test_memcap(void)
{
	struct ends x;
	struct nj_flow_table *t = mktable(&x, false, 4 * sizeof(struct nj_flow) + 100);
	const struct nj_flow_stats *st = nj_flow_table_stats(t);
	struct tpkt p;

	CHECK_EQ(st->spare, 4);
	CHECK(st->memuse >= 4 * sizeof(struct nj_flow));
	for (uint32_t k = 0; k < 10; k++) {
		mk4(&p, 100 + k, 2, 17, 1, 2, T0 + k * SEC);
		CHECK(one(t, &p) != NULL);
	}
	CHECK_EQ(st->created, 10);
	CHECK_EQ(st->active, 4);
	CHECK_EQ(st->spare, 0);
	CHECK_EQ(st->memcap_hits, 6);
	CHECK_EQ(st->evicted, 6);
	CHECK_EQ(st->emergency_entered, 1);
	CHECK_EQ(x.by_reason[NJ_FLOW_END_FORCED], 6);
	CHECK_EQ(x.n, 6);

	/* emergency timeouts apply now: udp new 10 s */
	CHECK_EQ(nj_flow_expire(t, T0 + 6 * SEC + 10 * SEC - 1, 100), 0);
	CHECK_EQ(nj_flow_expire(t, T0 + 7 * SEC + 10 * SEC, 100), 2);
	/* 2 of 4 free is over 30 %: emergency over, normal timeouts again */
	CHECK_EQ(st->emergency_over, 1);
	CHECK_EQ(nj_flow_expire(t, T0 + 9 * SEC + 10 * SEC, 100), 0);

	/* a burst of more new flows than the pool: flows held by the burst are never evicted */
	{
		struct tpkt b[8];
		struct nj_pkt pk[8];
		unsigned tracked = 0;

		for (uint32_t k = 0; k < 8; k++) {
			mk4(&b[k], 1000 + k, 2, 17, 1, 2, T0 + 20 * SEC);
			pk[k] = b[k].p;
		}
		nj_flow_burst(t, pk, 8);
		for (unsigned k = 0; k < 8; k++) {
			if (!pk[k].flow)
				continue;
			tracked++;
			/* the flow still holds this packet's tuple */
			CHECK(!memcmp(pk[k].flow->addr[0], b[k].buf + 12, 4) ||
			      !memcmp(pk[k].flow->addr[1], b[k].buf + 12, 4));
		}
		CHECK_EQ(tracked, 4);
		CHECK_EQ(st->not_tracked, 4);
	}
	nj_flow_flush_all(t, T0 + 21 * SEC);
	CHECK_EQ(st->active, 0);
	CHECK_EQ(st->spare, 4);
	CHECK_EQ(x.n, st->created);

	/* a memcap too small for one flow is refused */
	{
		struct nj_flow_config cfg;

		nj_flow_config_defaults(&cfg);
		cfg.memcap = sizeof(struct nj_flow) - 1;
		CHECK(nj_flow_table_create(&cfg, 0, NULL, NULL) == NULL);
		cfg.memcap = 1 << 20;
		cfg.prealloc = 3;
		cfg.hash_size = 1000;
		{
			struct nj_flow_table *u = nj_flow_table_create(&cfg, 0, NULL, NULL);

			CHECK(u != NULL);
			CHECK_EQ(nj_flow_table_stats(u)->spare, 3);
			CHECK_EQ(nj_flow_table_stats(u)->memuse,
				 3 * sizeof(struct nj_flow) + 1024 * 4);
			nj_flow_table_destroy(u);
		}
	}
	nj_flow_table_destroy(t);
}

static uint64_t rng_state = 88172645463325252ull;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static unsigned churn_ends;

static void count_end(void *arg, struct nj_flow *f, enum nj_flow_end_reason why)
{
	(void)arg;
	(void)f;
	(void)why;
	churn_ends++;
}

static void test_churn(void)
{
	struct nj_flow_config cfg;
	struct nj_flow_table *t;
	const struct nj_flow_stats *st;
	static struct tpkt tp[NJ_BURST];
	struct nj_pkt b[NJ_BURST];
	uint64_t ts = T0;

	nj_flow_config_defaults(&cfg);
	cfg.memcap = 60000 * sizeof(struct nj_flow);
	cfg.hash_size = 4096;
	cfg.midstream = true;
	t = nj_flow_table_create(&cfg, 0, count_end, NULL);
	CHECK(t != NULL);
	st = nj_flow_table_stats(t);
	for (unsigned n = 0; n < 1000000 / NJ_BURST; n++) {
		for (unsigned i = 0; i < NJ_BURST; i++) {
			uint64_t r = rnd();
			uint8_t proto = (r & 3) == 0   ? 6
					: (r & 3) == 1 ? 17
					: (r & 3) == 2 ? 1
						       : 47;

			uint32_t host = (uint32_t)(r >> 32) % 30000; /* tuples repeat */

			ts += r >> 57; /* 0-127 us: about a minute in all, past some timeouts */
			if ((r >> 20) & 1)
				mk4(&tp[i], host, 7, proto, (uint16_t)(host * 7), 80, ts);
			else
				mk6(&tp[i], (uint8_t)host, 7, proto, (uint16_t)(host >> 8), 443,
				    ts);
			if ((r >> 21) & 1)
				mk4(&tp[i], 7, host, proto, 80, (uint16_t)(host * 7), ts);
			tp[i].p.tcp_flags = (uint8_t)(r >> 24);
			tp[i].p.tcp_seq = (uint32_t)r;
			tp[i].p.tcp_ack = (uint32_t)(r >> 16);
			if ((r >> 50) % 64 == 0)
				tp[i].p.hash = 0; /* pile some into one chain */
			if ((r >> 56) % 128 == 0)
				tp[i].p.ts_us -= 50 * SEC; /* time going backwards */
			b[i] = tp[i].p;
		}
		nj_flow_burst(t, b, NJ_BURST);
		for (unsigned i = 0; i < NJ_BURST; i++) {
			if (b[i].flow && !(b[i].flags & (NJ_PKT_TOSERVER | NJ_PKT_TOCLIENT))) {
				failures++;
				break;
			}
		}
		if (n % 64 == 0)
			nj_flow_expire(t, ts, 512);
	}
	CHECK(st->created > 60000);
	CHECK(st->evicted > 0);
	CHECK_EQ(st->active + st->spare <= 60000, 1);
	CHECK_EQ(churn_ends, st->created - st->active);
	nj_flow_flush_all(t, ts);
	CHECK_EQ(churn_ends, st->created);
	CHECK_EQ(st->active, 0);
	CHECK_EQ(st->spare, 60000);
	printf("churn: created %llu evicted %llu timed out %llu+%llu reuse %llu\n",
	       (unsigned long long)st->created, (unsigned long long)st->evicted,
	       (unsigned long long)st->timed_out, (unsigned long long)st->timed_out_pkt,
	       (unsigned long long)st->tcp_reuse);
	nj_flow_table_destroy(t);
}

static void test_flow_id(void)
{
	struct ends x1;
	struct nj_flow_table *t1 = mktable(&x1, false, 0);
	struct nj_flow_config cfg;
	struct nj_flow_table *t2;
	struct tpkt a, b, filler;

	nj_flow_config_defaults(&cfg);
	cfg.memcap = 100 * sizeof(struct nj_flow);
	cfg.hash_size = 8;
	t2 = nj_flow_table_create(&cfg, 0, NULL, NULL);
	CHECK(t2 != NULL);
	/* other flows on the second table first, so pool slots differ */
	for (uint32_t k = 0; k < 5; k++) {
		mk4(&filler, 50 + k, 2, 17, 1, 2, T0);
		one(t2, &filler);
	}
	mk4(&a, CA, SA, 6, 1234, 80, T0 + 123456);
	mk4(&b, CA, SA, 6, 1234, 80, T0 + 123456);
	one(t1, &a);
	one(t2, &b);
	CHECK(a.p.flow && b.p.flow);
	CHECK(a.p.flow->flow_id != 0);
	CHECK_EQ(a.p.flow->flow_id, b.p.flow->flow_id);
	CHECK((int64_t)a.p.flow->flow_id > 0);
	mk4(&a, CA, SA, 6, 1235, 80, T0 + 123456);
	one(t1, &a);
	CHECK(a.p.flow->flow_id != b.p.flow->flow_id);
	/* hash 0 at a whole multiple of 2^31 us still gets a non-zero id */
	mk4(&a, CA, SA, 6, 1, 1, 1ull << 31);
	a.p.hash = 0;
	one(t1, &a);
	CHECK(a.p.flow->flow_id != 0);
	nj_flow_table_destroy(t1);
	nj_flow_table_destroy(t2);
}

struct counter_sink {
	unsigned n;
	int seen_total, seen_memcap, seen_active, seen_get_used;
	uint64_t total;
};

static void sink(void *arg, const char *name, uint64_t v)
{
	struct counter_sink *c = arg;

	c->n++;
	if (!strcmp(name, "flow.total")) {
		c->seen_total = 1;
		c->total = v;
	}
	c->seen_memcap |= !strcmp(name, "flow.memcap");
	c->seen_active |= !strcmp(name, "flow.active");
	c->seen_get_used |= !strcmp(name, "flow.get_used");
}

static void test_stats_foreach(void)
{
	struct nj_flow_stats s;
	struct counter_sink c = {0};

	memset(&s, 0, sizeof(s));
	s.created = 42;
	nj_flow_stats_foreach(&s, sink, &c);
	CHECK(c.seen_total && c.seen_memcap && c.seen_active && c.seen_get_used);
	CHECK_EQ(c.total, 42);
	CHECK(c.n > 20);
	CHECK_EQ(sizeof(s) % sizeof(uint64_t), 0);
}

int main(void)
{
	test_defaults_names();
	test_both_directions();
	test_not_tracked();
	test_synack_first();
	test_tcp_states();
	test_tcp_reuse();
	test_icmp();
	test_vlan();
	test_vlan_untracked();
	test_esp();
	test_timeouts();
	test_packet_past_timeout();
	test_flush_all();
	test_memcap();
	test_flow_id();
	test_stats_foreach();
	test_churn();
	if (failures) {
		fprintf(stderr, "test_flow: %d failures\n", failures);
		return 1;
	}
	printf("test_flow: ok\n");
	return 0;
}
