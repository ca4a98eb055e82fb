/* SPDX-License-Identifier: MIT */
/*
 * TCP reassembly (dataplane/stream.c) on hand-built segments: the zero-copy
 * in-order path, every permutation of a set of overlapping segments, the
 * overlap policies on the target-based scenarios (the expected streams are
 * those of Suricata's stream engine for the same segments), retransmissions
 * with other bytes, keep-alives, zero-window probes, SYN data, segments
 * without ACK, gaps from ACKs past a hole and at flow end, depth, memcap and
 * segment limits, sequence wrap-around, mid-stream pick-up, FIN and RST, and
 * a seeded random run that checks the delivery invariants.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/flow.h"
#include "dataplane/stream.h"
#include "tests/nj_test.h"

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_ACK 0x10

#define HDR 54
#ifndef FUZZ_ROUNDS
#define FUZZ_ROUNDS 2000
#endif
#ifndef FUZZ_SEED
#define FUZZ_SEED 0x5eed1234ull
#endif
#define SINKCAP (1u << 20)

/* What the callbacks saw, per direction. */
struct sink {
	uint8_t *buf[2]; /* the stream as delivered, gaps filled with gapc */
	uint64_t pos[2]; /* bytes accounted: data + gaps */
	uint64_t data_bytes[2], gap_bytes[2];
	unsigned gaps[2], eofs[2], calls[2], raw_only[2];
	unsigned calls_after_eof, empty_calls;
	const uint8_t *last_ptr[2];
	uint8_t gapc;
	unsigned ev_diff, ev_gap, ev_depth, ev_rst, ev_other;
};

static struct sink sink;

static void on_data(void *arg, struct nj_flow *f, int dir, const uint8_t *data, uint32_t len,
		    unsigned flags, const struct nj_pkt *p)
{
	struct sink *s = arg;

	(void)f;
	(void)p;
	if (dir != 0 && dir != 1) {
		failures++;
		return;
	}
	s->calls[dir]++;
	if (s->eofs[dir])
		s->calls_after_eof++;
	if (flags & NJ_STREAM_EOF) {
		s->eofs[dir]++;
		return;
	}
	if (len == 0)
		s->empty_calls++;
	if (flags & NJ_STREAM_RAW_ONLY)
		s->raw_only[dir]++;
	if (flags & NJ_STREAM_GAP) {
		s->gaps[dir]++;
		s->gap_bytes[dir] += len;
		for (uint32_t i = 0; i < len && s->pos[dir] + i < SINKCAP; i++)
			s->buf[dir][s->pos[dir] + i] = s->gapc;
	} else {
		s->data_bytes[dir] += len;
		s->last_ptr[dir] = data;
		for (uint32_t i = 0; i < len && s->pos[dir] + i < SINKCAP; i++)
			s->buf[dir][s->pos[dir] + i] = data[i];
	}
	s->pos[dir] += len;
}

static void on_event(void *arg, struct nj_flow *f, const struct nj_pkt *p, const char *name)
{
	struct sink *s = arg;

	(void)f;
	(void)p;
	if (strcmp(name, "stream.reassembly_overlap_different_data") == 0)
		s->ev_diff++;
	else if (strcmp(name, "stream.reassembly_seq_gap") == 0)
		s->ev_gap++;
	else if (strcmp(name, "stream.reassembly_depth_reached") == 0)
		s->ev_depth++;
	else if (strcmp(name, "stream.suspected_rst_inject") == 0)
		s->ev_rst++;
	else
		s->ev_other++;
}

static void reset(struct nj_flow *f)
{
	uint8_t *b0 = sink.buf[0], *b1 = sink.buf[1];

	memset(b0, 0, sink.pos[0] < SINKCAP ? sink.pos[0] : SINKCAP);
	memset(b1, 0, sink.pos[1] < SINKCAP ? sink.pos[1] : SINKCAP);
	memset(&sink, 0, sizeof(sink));
	sink.buf[0] = b0;
	sink.buf[1] = b1;
	sink.gapc = '#';
	memset(f, 0, sizeof(*f));
	f->proto = 6;
}

static uint8_t frame[HDR + 65536];

/* One segment of direction dir (0: client to server), its payload at frame + HDR. */
static void seg(struct nj_stream_table *t, struct nj_flow *f, int dir, uint32_t seq, uint32_t ack,
		uint8_t flags, const void *data, uint32_t len)
{
	struct nj_pkt p;

	memset(&p, 0, sizeof(p));
	if (len)
		memmove(frame + HDR, data, len);
	p.data = frame;
	p.len = HDR + len;
	p.payload_off = HDR;
	p.payload_len = (uint16_t)len;
	p.proto = 6;
	p.tcp_seq = seq;
	p.tcp_ack = ack;
	p.tcp_flags = flags;
	p.flags = NJ_PKT_HAS_L4 | (dir ? NJ_PKT_TOCLIENT : NJ_PKT_TOSERVER);
	p.flow = f;
	nj_stream_pkt(t, f, &p);
}

static struct nj_stream_table *table(enum nj_stream_policy pol, uint32_t depth, uint64_t memcap,
				     uint32_t max_segs)
{
	struct nj_stream_config c;

	nj_stream_config_defaults(&c);
	c.policy = pol;
	c.depth = depth;
	c.memcap = memcap ? memcap : 4u << 20;
	if (max_segs)
		c.max_segments = max_segs;
	c.ssn_memcap = 1u << 20;
	return nj_stream_create(&c, on_data, on_event, &sink);
}

static bool delivered(int dir, const char *s)
{
	size_t n = strlen(s);

	return sink.pos[dir] == n && memcmp(sink.buf[dir], s, n) == 0;
}

/* Handshake: client ISN ci, server ISN si. */
static void handshake(struct nj_stream_table *t, struct nj_flow *f, uint32_t ci, uint32_t si)
{
	seg(t, f, 0, ci, 0, TH_SYN, "", 0);
	seg(t, f, 1, si, ci + 1, TH_SYN | TH_ACK, "", 0);
	seg(t, f, 0, ci + 1, si + 1, TH_ACK, "", 0);
}

static void test_in_order(void)
{
	struct nj_flow f;
	struct nj_stream_table *t = table(NJ_STREAM_POLICY_BSD, 0, 0, 0);
	const struct nj_stream_stats *st = nj_stream_stats(t);

	reset(&f);
	handshake(t, &f, 1000, 5000);
	CHECK(f.stream_state != NULL && st->ssn_active == 1 && st->ssn_memuse > 0);
	seg(t, &f, 0, 1001, 5001, TH_ACK, "GET / ", 6);
	/* the fast path hands over the packet's own bytes */
	CHECK(sink.last_ptr[0] == frame + HDR);
	seg(t, &f, 0, 1007, 5001, TH_ACK, "HTTP/1.0\r\n", 10);
	CHECK(sink.last_ptr[0] == frame + HDR);
	seg(t, &f, 1, 5001, 1017, TH_ACK, "HTTP/1.0 200", 12);
	CHECK(delivered(0, "GET / HTTP/1.0\r\n"));
	CHECK(delivered(1, "HTTP/1.0 200"));
	CHECK(sink.calls[0] == 2 && sink.calls[1] == 1);
	/* an identical retransmission is neither delivered again nor an anomaly */
	seg(t, &f, 0, 1001, 5013, TH_ACK, "GET / ", 6);
	CHECK(delivered(0, "GET / HTTP/1.0\r\n") && sink.ev_diff == 0);
	CHECK(st->retransmissions == 1);
	/* FIN: EOF once everything before it is delivered */
	seg(t, &f, 0, 1017, 5013, TH_ACK | TH_FIN, "", 0);
	CHECK(sink.eofs[0] == 1 && sink.eofs[1] == 0);
	seg(t, &f, 1, 5013, 1018, TH_ACK | TH_FIN, "", 0);
	CHECK(sink.eofs[1] == 1);
	nj_stream_flow_end(t, &f);
	CHECK(sink.eofs[0] == 1 && sink.eofs[1] == 1 && f.stream_state == NULL);
	CHECK(sink.calls_after_eof == 0 && sink.empty_calls == 0);
	CHECK(st->memuse == 0 && st->ssn_active == 0 && st->ssn_memuse == 0);
	CHECK(st->bytes_delivered == 28 && st->gaps == 0 && st->ooo_segments == 0);
	CHECK(sink.ev_gap + sink.ev_diff + sink.ev_depth + sink.ev_rst + sink.ev_other == 0);
	nj_stream_destroy(t);
}

/*
 * Every order of a set of overlapping segments of one stream delivers the
 * stream, whatever the policy: the bytes agree, so there is nothing to
 * choose, and no anomaly.
 */
static const char perm_ref[] = "abcdefghijklmnopqrstuvwx";
static const struct {
	uint32_t off, len;
} perm_segs[] = {{0, 4}, {3, 6}, {9, 1}, {10, 6}, {12, 2}, {16, 8}};
#define NPERM NJ_ARRAY_SIZE(perm_segs)

static unsigned perm_bad, perm_count;

static void perm_run(struct nj_stream_table *t, const unsigned *ord, uint32_t isn)
{
	struct nj_flow f;

	reset(&f);
	seg(t, &f, 0, isn, 0, TH_SYN, "", 0);
	for (unsigned i = 0; i < NPERM; i++)
		seg(t, &f, 0, isn + 1 + perm_segs[ord[i]].off, 0, TH_ACK,
		    perm_ref + perm_segs[ord[i]].off, perm_segs[ord[i]].len);
	/* everything is in order before the flow ends */
	if (!delivered(0, perm_ref) || sink.gaps[0] || sink.ev_diff)
		perm_bad++;
	nj_stream_flow_end(t, &f);
	if (nj_stream_stats(t)->memuse != 0 || sink.eofs[0] != 1)
		perm_bad++;
	perm_count++;
}

static void permute(struct nj_stream_table *t, unsigned *a, unsigned k, uint32_t isn)
{
	if (k == NPERM) {
		perm_run(t, a, isn);
		return;
	}
	for (unsigned i = k; i < NPERM; i++) {
		unsigned x = a[k];

		a[k] = a[i];
		a[i] = x;
		permute(t, a, k + 1, isn);
		a[i] = a[k];
		a[k] = x;
	}
}

static void test_permutations(void)
{
	static const enum nj_stream_policy pols[] = {
		NJ_STREAM_POLICY_FIRST,	    NJ_STREAM_POLICY_LAST,    NJ_STREAM_POLICY_BSD,
		NJ_STREAM_POLICY_LINUX,	    NJ_STREAM_POLICY_WINDOWS, NJ_STREAM_POLICY_SOLARIS,
		NJ_STREAM_POLICY_OLD_LINUX,
	};
	static const uint32_t isns[] = {100, 0xfffffff0u};

	for (unsigned p = 0; p < NJ_ARRAY_SIZE(pols); p++)
		for (unsigned i = 0; i < NJ_ARRAY_SIZE(isns); i++) {
			struct nj_stream_table *t = table(pols[p], 0, 0, 0);
			unsigned a[NPERM];

			for (unsigned k = 0; k < NPERM; k++)
				a[k] = k;
			permute(t, a, 0, isns[i]);
			CHECK(nj_stream_stats(t)->ssn_active == 0);
			nj_stream_destroy(t);
		}
	CHECK(perm_count == 720 * 7 * 2);
	CHECK(perm_bad == 0);
}

/*
 * The target-based overlap scenarios: segments at relative sequence numbers
 * (rseq 1 = the first byte after a one-byte hole, which a last segment fills
 * so that all of them are buffered first), and the stream each policy
 * delivers ('\0' for bytes never sent). The expected streams are those of
 * Suricata's stream engine on the same segments.
 */
struct step {
	uint32_t rseq;
	const char *data;
};

static const struct step sc_main[] = {
	{2, "AAA"},  {6, "BB"},	 {8, "CCC"}, {12, "D"},	  {15, "EE"}, {17, "FFF"},
	{20, "GG"},  {22, "HH"}, {24, "I"},  {3, "JJJJ"}, {8, "KKK"}, {11, "LLL"},
	{14, "MMM"}, {18, "N"},	 {21, "O"},  {22, "P"},	  {24, "QQ"}, {1, "0"},
};
static const struct step sc_before[] = {
	{3, "B"}, {9, "D"}, {12, "EE"}, {2, "AA"}, {1, "JJJJ"}, {8, "LLL"}, {11, "MMM"},
};
static const struct step sc_same[] = {
	{1, "CCC"}, {15, "HH"}, {17, "II"}, {1, "KKK"}, {1, "LLLL"}, {15, "P"}, {15, "QQ"},
};
static const struct step sc_after[] = {
	{1, "AA"}, {16, "FFF"}, {19, "GG"}, {2, "JJ"}, {20, "O"}, {17, "N"},
};
static const struct step sc_30[] = {{3, "BBB"}, {1, "AA"}};
static const struct step sc_31[] = {{1, "AA"}, {3, "BBB"}};
static const struct step sc_32[] = {
	{11, "AAAAAAAAAA"},
	{21, "BBBBBBBBBB"},
	{41, "CCCCCCCCCC"},
	{6, "aaaaaaaaaaaaaaaaaaaa"},
	{1, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"},
};

static bool scenario(enum nj_stream_policy pol, uint32_t isn, const struct step *st, size_t n,
		     const char *exp, size_t explen)
{
	struct nj_flow f;
	struct nj_stream_table *t = table(pol, 0, 0, 0);
	bool ok;

	reset(&f);
	sink.gapc = 0;
	seg(t, &f, 0, isn, 0, TH_SYN, "", 0);
	for (size_t i = 0; i < n; i++)
		seg(t, &f, 0, isn + 1 + st[i].rseq, 0, TH_ACK, st[i].data,
		    (uint32_t)strlen(st[i].data));
	seg(t, &f, 0, isn + 1, 0, TH_ACK, "#", 1);
	nj_stream_flow_end(t, &f);
	ok = sink.pos[0] == explen + 1 && sink.buf[0][0] == '#' &&
	     memcmp(sink.buf[0] + 1, exp, explen) == 0 && nj_stream_stats(t)->memuse == 0;
	if (!ok)
		fprintf(stderr, "policy %s isn %u: got '%.*s' (%u bytes)\n",
			nj_stream_policy_name(pol), isn, (int)sink.pos[0],
			(const char *)sink.buf[0], (unsigned)sink.pos[0]);
	nj_stream_destroy(t);
	return ok;
}

#define SCEN(pol, isn, sc, exp) scenario(pol, isn, sc, NJ_ARRAY_SIZE(sc), exp, sizeof(exp) - 1)

static void policy_family(enum nj_stream_policy pol, const char *m, const char *b, size_t blen,
			  const char *s, size_t slen, const char *a, size_t alen)
{
	static const uint32_t isns[] = {0, 1, 0xffffffffu, 0xffffffffu - 10};

	for (unsigned i = 0; i < NJ_ARRAY_SIZE(isns); i++) {
		CHECK(scenario(pol, isns[i], sc_main, NJ_ARRAY_SIZE(sc_main), m, strlen(m)));
		CHECK(scenario(pol, isns[i], sc_before, NJ_ARRAY_SIZE(sc_before), b, blen));
		CHECK(scenario(pol, isns[i], sc_same, NJ_ARRAY_SIZE(sc_same), s, slen));
		CHECK(scenario(pol, isns[i], sc_after, NJ_ARRAY_SIZE(sc_after), a, alen));
	}
}

#define FAMILY(pol, m, b, s, a) \
	policy_family(pol, m, b, sizeof(b) - 1, s, sizeof(s) - 1, a, sizeof(a) - 1)

static void test_policies(void)
{
	static const enum nj_stream_policy bsd_like[] = {
		NJ_STREAM_POLICY_BSD,  NJ_STREAM_POLICY_WINDOWS, NJ_STREAM_POLICY_HPUX10,
		NJ_STREAM_POLICY_IRIX, NJ_STREAM_POLICY_MACOS,
	};

	for (unsigned i = 0; i < NJ_ARRAY_SIZE(bsd_like); i++)
		FAMILY(bsd_like[i], "0AAAJJBCCCLLLMMMFFFGGHHIQ", "JJJJ\0\0\0LLLMMM",
		       "CCCL\0\0\0\0\0\0\0\0\0\0HHII", "AAJ\0\0\0\0\0\0\0\0\0\0\0\0FFFGG");
	FAMILY(NJ_STREAM_POLICY_VISTA, "0AAAJBBCCCLDLMEEFFFGGHHIQ", "JABJ\0\0\0LDLMEE",
	       "CCCL\0\0\0\0\0\0\0\0\0\0HHII", "AAJ\0\0\0\0\0\0\0\0\0\0\0\0FFFGG");
	FAMILY(NJ_STREAM_POLICY_FIRST, "0AAAJBBCCCLDLMEEFFFGGHHIQ", "JABJ\0\0\0LDLMEE",
	       "CCCL\0\0\0\0\0\0\0\0\0\0HHII", "AAJ\0\0\0\0\0\0\0\0\0\0\0\0FFFGG");
	FAMILY(NJ_STREAM_POLICY_LINUX, "0AAAJJBCCCLLLMMMFFFGGHHQQ", "JJJJ\0\0\0LLLMMM",
	       "LLLL\0\0\0\0\0\0\0\0\0\0HHII", "AAJ\0\0\0\0\0\0\0\0\0\0\0\0FFFGG");
	FAMILY(NJ_STREAM_POLICY_OLD_LINUX, "0AAAJJBKKKLLLMMMFFFGGHHQQ", "JJJJ\0\0\0LLLMMM",
	       "LLLL\0\0\0\0\0\0\0\0\0\0QQII", "AAJ\0\0\0\0\0\0\0\0\0\0\0\0FFFGG");
	FAMILY(NJ_STREAM_POLICY_SOLARIS, "0AJJJBBKKKLLLMMMFFFGGHHQQ", "JJJJ\0\0\0LLLMMM",
	       "LLLL\0\0\0\0\0\0\0\0\0\0QQII", "AJJ\0\0\0\0\0\0\0\0\0\0\0\0FFFGG");
	FAMILY(NJ_STREAM_POLICY_HPUX11, "0AJJJBBKKKLLLMMMFFFGGHHQQ", "JJJJ\0\0\0LLLMMM",
	       "LLLL\0\0\0\0\0\0\0\0\0\0QQII", "AJJ\0\0\0\0\0\0\0\0\0\0\0\0FFFGG");
	FAMILY(NJ_STREAM_POLICY_LAST, "0AJJJJBKKKLLLMMMFNFGOPHQQ", "JJJJ\0\0\0LLLMMM",
	       "LLLL\0\0\0\0\0\0\0\0\0\0QQII", "AJJ\0\0\0\0\0\0\0\0\0\0\0\0FNFGO");
	CHECK(SCEN(NJ_STREAM_POLICY_BSD, 9, sc_30, "AABBB"));
	CHECK(SCEN(NJ_STREAM_POLICY_BSD, 9, sc_31, "AABBB"));
	CHECK(SCEN(NJ_STREAM_POLICY_BSD, 0, sc_32,
		   "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"));

	CHECK(nj_stream_policy_parse("linux") == NJ_STREAM_POLICY_LINUX);
	CHECK(nj_stream_policy_parse("windows2k3") == NJ_STREAM_POLICY_WINDOWS);
	CHECK(nj_stream_policy_parse("vista") == NJ_STREAM_POLICY_VISTA);
	CHECK(nj_stream_policy_parse("old-linux") == NJ_STREAM_POLICY_OLD_LINUX);
	CHECK(nj_stream_policy_parse("bsd-right") == NJ_STREAM_POLICY_FIRST);
	CHECK(nj_stream_policy_parse("nonsense") == -1);
	for (int i = 0; i < NJ_STREAM_POLICY_MAX; i++)
		CHECK(nj_stream_policy_parse(nj_stream_policy_name((enum nj_stream_policy)i)) == i);
}

/* The overlap of an in-order segment with buffered data, and the anomaly for it. */
static void test_inorder_overlap(void)
{
	struct nj_flow f;
	struct nj_stream_table *t = table(NJ_STREAM_POLICY_FIRST, 0, 0, 0);

	/* FIRST: the buffered "AAAA" at 4..8 stays under an in-order "xxxxxxxxxx" */
	reset(&f);
	handshake(t, &f, 99, 500);
	seg(t, &f, 0, 104, 501, TH_ACK, "AAAA", 4);
	CHECK(sink.pos[0] == 0 && nj_stream_stats(t)->ooo_segments == 1);
	seg(t, &f, 0, 100, 501, TH_ACK, "xxxxxxxxxx", 10);
	CHECK(delivered(0, "xxxxAAAAxx"));
	CHECK(sink.ev_diff == 1 && nj_stream_stats(t)->overlaps_diff == 1);
	CHECK(nj_stream_stats(t)->memuse == 0);
	/* identical bytes: no anomaly, the rest of the buffered segment follows */
	seg(t, &f, 0, 114, 501, TH_ACK, "klmnop", 6);
	seg(t, &f, 0, 110, 501, TH_ACK, "ghijkl", 6);
	CHECK(delivered(0, "xxxxAAAAxxghijklmnop") && sink.ev_diff == 1);
	nj_stream_flow_end(t, &f);
	nj_stream_destroy(t);

	/* LAST: the new bytes win */
	t = table(NJ_STREAM_POLICY_LAST, 0, 0, 0);
	reset(&f);
	handshake(t, &f, 99, 500);
	seg(t, &f, 0, 104, 501, TH_ACK, "AAAAAAAAAA", 10);
	seg(t, &f, 0, 100, 501, TH_ACK, "xxxxxxxx", 8);
	CHECK(delivered(0, "xxxxxxxxAAAAAA"));
	nj_stream_flow_end(t, &f);
	nj_stream_destroy(t);
}

static void test_retransmissions(void)
{
	struct nj_flow f;
	struct nj_stream_table *t = table(NJ_STREAM_POLICY_BSD, 0, 0, 0);
	const struct nj_stream_stats *st = nj_stream_stats(t);

	reset(&f);
	handshake(t, &f, 0, 7000);
	seg(t, &f, 0, 1, 7001, TH_ACK, "0123456789", 10);
	seg(t, &f, 0, 11, 7001, TH_ACK, "abcdefghij", 10);
	seg(t, &f, 0, 21, 7001, TH_ACK, "ABCDEFGHIJ", 10);
	/* the same segment with one byte changed: anomaly, delivered bytes unchanged */
	seg(t, &f, 0, 11, 7001, TH_ACK, "abcdeXghij", 10);
	CHECK(sink.ev_diff == 1 && st->overlaps_diff == 1);
	/* re-segmented: two segments in one, the change in the second */
	seg(t, &f, 0, 1, 7001, TH_ACK, "0123456789abcdefghiX", 20);
	CHECK(sink.ev_diff == 2);
	/* re-segmented and identical: silent */
	seg(t, &f, 0, 6, 7001, TH_ACK, "56789abcdefghijABCDEFGHIJ", 25);
	CHECK(sink.ev_diff == 2);
	/* partly old, partly new: the new part is delivered once */
	seg(t, &f, 0, 26, 7001, TH_ACK, "FGHIJklmno", 10);
	CHECK(delivered(0, "0123456789abcdefghijABCDEFGHIJklmno") && sink.ev_diff == 2);
	/* partly old with other old bytes, partly new */
	seg(t, &f, 0, 31, 7001, TH_ACK, "KLMNOpqr", 8);
	CHECK(sink.ev_diff == 3);
	CHECK(delivered(0, "0123456789abcdefghijABCDEFGHIJklmnopqr"));
	/* keep-alive: one garbage byte below the next: not data, not an anomaly */
	seg(t, &f, 0, 38, 7001, TH_ACK, "\0", 1);
	CHECK(st->keepalives == 1 && sink.ev_diff == 3);
	/* a zero-window probe of the next byte, then the segment it belongs to */
	seg(t, &f, 0, 39, 7001, TH_ACK, "s", 1);
	seg(t, &f, 0, 39, 7001, TH_ACK, "stuv", 4);
	CHECK(delivered(0, "0123456789abcdefghijABCDEFGHIJklmnopqrstuv") && sink.ev_diff == 3);
	CHECK(st->retransmissions == 6 && st->overlaps == 6 && st->bytes_delivered == 42);
	nj_stream_flow_end(t, &f);
	nj_stream_destroy(t);

	/* without the check, nothing is flagged (and nothing is hashed) */
	{
		struct nj_stream_config c;

		nj_stream_config_defaults(&c);
		c.check_retrans = false;
		c.ssn_memcap = 1u << 20;
		t = nj_stream_create(&c, on_data, on_event, &sink);
	}
	reset(&f);
	handshake(t, &f, 0, 7000);
	seg(t, &f, 0, 1, 7001, TH_ACK, "0123456789", 10);
	seg(t, &f, 0, 1, 7001, TH_ACK, "012345678X", 10);
	CHECK(sink.ev_diff == 0 && delivered(0, "0123456789"));
	nj_stream_flow_end(t, &f);
	nj_stream_destroy(t);
}

/* SYN data (TCP Fast Open), SYN retransmission, segments without ACK. */
static void test_syn_data_noack(void)
{
	struct nj_flow f;
	struct nj_stream_table *t = table(NJ_STREAM_POLICY_BSD, 0, 0, 0);
	const struct nj_stream_stats *st = nj_stream_stats(t);

	reset(&f);
	seg(t, &f, 0, 4000, 0, TH_SYN, "GET /tfo", 8);
	CHECK(delivered(0, "GET /tfo"));
	/* the SYN again, same data: nothing new */
	seg(t, &f, 0, 4000, 0, TH_SYN, "GET /tfo", 8);
	/* the server took only the SYN: the client sends the data again after the handshake */
	seg(t, &f, 1, 9000, 4001, TH_SYN | TH_ACK, "", 0);
	seg(t, &f, 0, 4001, 9001, TH_ACK, "GET /tfo HTTP/1.1", 17);
	CHECK(delivered(0, "GET /tfo HTTP/1.1") && sink.ev_diff == 0 && sink.gaps[0] == 0);
	/* data without ACK: dropped by every stack, so ignored */
	seg(t, &f, 0, 4018, 9001, 0x08, "evil", 4);
	seg(t, &f, 0, 4018, 9001, TH_FIN, "", 0);
	CHECK(st->no_ack == 2 && sink.eofs[0] == 0);
	seg(t, &f, 0, 4018, 9001, TH_ACK, "\r\n", 2);
	CHECK(delivered(0, "GET /tfo HTTP/1.1\r\n"));
	/* SYN data that differs from what is sent again: flagged */
	seg(t, &f, 1, 9000, 4001, TH_SYN | TH_ACK, "HTTP", 4);
	seg(t, &f, 1, 9001, 4020, TH_ACK, "XTTP/1.1", 8);
	CHECK(delivered(1, "HTTP/1.1") && sink.ev_diff == 1);
	nj_stream_flow_end(t, &f);
	nj_stream_destroy(t);

	/* a segment whose checksum decode found wrong is dropped by the receiver: ignored
	 * with checksum validation, taken without */
	for (int v = 0; v < 2; v++) {
		struct nj_stream_config c;

		nj_stream_config_defaults(&c);
		c.ssn_memcap = 1u << 20;
		c.checksum_validation = v;
		t = nj_stream_create(&c, on_data, on_event, &sink);
		reset(&f);
		handshake(t, &f, 0, 100);
		{
			struct nj_pkt p;

			memset(&p, 0, sizeof(p));
			memcpy(frame + HDR, "evil", 4);
			p.data = frame;
			p.payload_off = HDR;
			p.payload_len = 4;
			p.tcp_seq = 1;
			p.tcp_ack = 101;
			p.tcp_flags = TH_ACK;
			p.flags = NJ_PKT_HAS_L4 | NJ_PKT_TOSERVER | NJ_PKT_L4_CSUM_BAD;
			nj_stream_pkt(t, &f, &p);
		}
		seg(t, &f, 0, 1, 101, TH_ACK, "good", 4);
		if (v)
			CHECK(delivered(0, "good") && nj_stream_stats(t)->bad_checksum == 1 &&
			      !sink.ev_diff);
		else
			CHECK(delivered(0, "evil") && nj_stream_stats(t)->bad_checksum == 0 &&
			      sink.ev_diff);
		nj_stream_flow_end(t, &f);
		nj_stream_destroy(t);
	}

	/* no state for pure ACKs, lone RSTs or segments without ACK */
	t = table(NJ_STREAM_POLICY_BSD, 0, 0, 0);
	reset(&f);
	seg(t, &f, 0, 1, 1, TH_ACK, "", 0);
	seg(t, &f, 0, 1, 1, TH_RST | TH_ACK, "", 0);
	seg(t, &f, 0, 1, 1, 0x08, "x", 1);
	CHECK(f.stream_state == NULL && nj_stream_stats(t)->no_ack == 1);
	nj_stream_destroy(t);
}

static void test_gaps(void)
{
	struct nj_flow f;
	struct nj_stream_table *t = table(NJ_STREAM_POLICY_BSD, 0, 0, 0);
	const struct nj_stream_stats *st = nj_stream_stats(t);

	/* the server ACKs bytes 0..20 but only 10..20 were captured: 10 missing */
	reset(&f);
	handshake(t, &f, 999, 4999);
	seg(t, &f, 0, 1010, 5000, TH_ACK, "0123456789", 10);
	CHECK(sink.pos[0] == 0);
	seg(t, &f, 1, 5000, 1020, TH_ACK, "", 0);
	CHECK(sink.gaps[0] == 1 && sink.gap_bytes[0] == 10 && sink.ev_gap == 1);
	CHECK(sink.pos[0] == 20 && memcmp(sink.buf[0] + 10, "0123456789", 10) == 0);
	/* an ACK past everything seen is no gap yet: the ACK may have been captured before
	 * the data it acknowledges (as Suricata, a gap needs data after the hole) */
	seg(t, &f, 1, 5000, 1025, TH_ACK, "", 0);
	CHECK(sink.gaps[0] == 1 && sink.pos[0] == 20);
	seg(t, &f, 0, 1020, 5000, TH_ACK, "abcde", 5);
	CHECK(sink.gaps[0] == 1 && sink.pos[0] == 25 && memcmp(sink.buf[0] + 20, "abcde", 5) == 0);
	/* data after an acknowledged hole: now the hole is a gap */
	seg(t, &f, 0, 1030, 5000, TH_ACK, "xyz", 3);
	CHECK(sink.pos[0] == 25);
	seg(t, &f, 1, 5000, 1033, TH_ACK, "", 0);
	CHECK(sink.gaps[0] == 2 && sink.pos[0] == 33 &&
	      memcmp(sink.buf[0] + 25, "#####xyz", 8) == 0);
	/* holes still open at flow end become gaps, around the buffered data */
	seg(t, &f, 0, 1040, 5000, TH_ACK, "uvw", 3);
	seg(t, &f, 0, 1050, 5000, TH_ACK | TH_FIN, "end", 3);
	CHECK(sink.eofs[0] == 0);
	nj_stream_flow_end(t, &f);
	CHECK(sink.gaps[0] == 4 && sink.gap_bytes[0] == 10 + 5 + 7 + 7);
	CHECK(sink.pos[0] == 53 && memcmp(sink.buf[0] + 40, "uvw#######end", 13) == 0);
	CHECK(sink.eofs[0] == 1 && sink.eofs[1] == 1 && sink.calls_after_eof == 0);
	CHECK(st->gaps == 4 && st->gap_bytes == 29 && st->memuse == 0 && sink.ev_gap == 4);
	nj_stream_destroy(t);

	/* the ACK of a FIN after a hole: gap up to the FIN (not past it), then EOF */
	t = table(NJ_STREAM_POLICY_BSD, 0, 0, 0);
	reset(&f);
	handshake(t, &f, 0, 100);
	seg(t, &f, 0, 1, 101, TH_ACK, "abc", 3);
	seg(t, &f, 0, 10, 101, TH_ACK | TH_FIN, "", 0);
	CHECK(sink.eofs[0] == 0);
	seg(t, &f, 1, 101, 11, TH_ACK, "", 0);
	CHECK(sink.gap_bytes[0] == 6 && sink.pos[0] == 9 && sink.eofs[0] == 1);
	/* an absurd ACK (more than 1 GiB ahead) is not believed */
	seg(t, &f, 0, 11, 0x80000000u, TH_ACK, "", 0);
	CHECK(sink.gaps[1] == 0);
	nj_stream_flow_end(t, &f);
	nj_stream_destroy(t);
}

static void test_depth(void)
{
	struct nj_flow f;
	struct nj_stream_table *t = table(NJ_STREAM_POLICY_BSD, 8, 0, 0);
	const struct nj_stream_stats *st = nj_stream_stats(t);

	/* fast path: 8 bytes, then nothing, counted once per direction */
	reset(&f);
	handshake(t, &f, 0, 50);
	seg(t, &f, 0, 1, 51, TH_ACK, "0123456789", 10);
	seg(t, &f, 0, 11, 51, TH_ACK, "abc", 3);
	CHECK(delivered(0, "01234567") && st->depth_reached == 1 && sink.ev_depth == 1);
	/* past the depth nothing is stored */
	seg(t, &f, 0, 30, 51, TH_ACK, "zzz", 3);
	CHECK(st->memuse == 0 && st->ooo_segments == 0);
	seg(t, &f, 1, 51, 14, TH_ACK, "HTTP/1.1 200", 12);
	CHECK(delivered(1, "HTTP/1.1") && st->depth_reached == 2);
	/* EOF still comes at the FIN */
	seg(t, &f, 0, 14, 59, TH_ACK | TH_FIN, "", 0);
	CHECK(sink.eofs[0] == 1);
	nj_stream_flow_end(t, &f);
	CHECK(st->depth_reached == 2 && sink.eofs[1] == 1 && sink.calls_after_eof == 0);
	nj_stream_destroy(t);

	/* depth reached while flushing buffered data, and by a gap */
	t = table(NJ_STREAM_POLICY_BSD, 12, 0, 0);
	st = nj_stream_stats(t);
	reset(&f);
	handshake(t, &f, 0, 50);
	seg(t, &f, 0, 5, 51, TH_ACK, "456789abcdef", 12);
	CHECK(st->memuse > 0);
	seg(t, &f, 0, 1, 51, TH_ACK, "0123", 4);
	CHECK(delivered(0, "0123456789ab") && st->depth_reached == 1 && st->memuse == 0);
	seg(t, &f, 1, 61, 14, TH_ACK, "later", 5);
	seg(t, &f, 0, 14, 80, TH_ACK, "", 0);
	CHECK(sink.gap_bytes[1] == 10 && sink.pos[1] == 12 && st->depth_reached == 2);
	nj_stream_flow_end(t, &f);
	CHECK(st->memuse == 0);
	nj_stream_destroy(t);
}

/* tcp.*_max_regions: data 256 KiB or more past the rest holds a region of its own. */
static void test_regions(void)
{
	struct nj_flow f;
	struct nj_stream_table *t = table(NJ_STREAM_POLICY_BSD, 0, 0, 0);

	reset(&f);
	CHECK(f.max_regions[0] == 0 && f.max_regions[1] == 0); /* no session yet */
	handshake(t, &f, 0, 50);
	CHECK(f.max_regions[0] == 1 && f.max_regions[1] == 1);
	/* a hole of 100 KiB: the same region */
	seg(t, &f, 0, 1 + 100 * 1024, 51, TH_ACK, "near", 4);
	CHECK(f.max_regions[0] == 1);
	/* 300 KiB past the next byte and 200 KiB past the held data: still one */
	seg(t, &f, 0, 1 + 300 * 1024, 51, TH_ACK, "mid", 3);
	CHECK(f.max_regions[0] == 1);
	/* 600 KiB: more than the gap past everything held, a second region */
	seg(t, &f, 0, 1 + 600 * 1024, 51, TH_ACK, "far", 3);
	CHECK(f.max_regions[0] == 2 && f.max_regions[1] == 1);
	/* the maximum stays when the holes are given up */
	nj_stream_flow_end(t, &f);
	CHECK(f.max_regions[0] == 2);
	nj_stream_destroy(t);
}

static void test_limits(void)
{
	struct nj_flow f, g;
	struct nj_stream_table *t;
	const struct nj_stream_stats *st;
	static char big[4000];

	for (unsigned i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + i % 26);

	/* memcap of one block: a 2000-byte segment at offset 100 spans two blocks */
	t = table(NJ_STREAM_POLICY_BSD, 0, 2200, 0);
	st = nj_stream_stats(t);
	reset(&f);
	handshake(t, &f, 0, 50);
	seg(t, &f, 0, 101, 51, TH_ACK, big + 100, 2000);
	CHECK(st->memcap_hits == 1);
	/* the hole is given up, the segment in hand delivered */
	CHECK(sink.gaps[0] == 1 && sink.gap_bytes[0] == 100 && sink.pos[0] == 2100);
	CHECK(memcmp(sink.buf[0] + 100, big + 100, 2000) == 0);
	/* one block fits: buffered, then delivered */
	seg(t, &f, 0, 2201, 51, TH_ACK, big + 2200, 100);
	CHECK(st->memuse > 0 && sink.pos[0] == 2100);
	seg(t, &f, 0, 2101, 51, TH_ACK, big + 2100, 100);
	CHECK(sink.pos[0] == 2300 && memcmp(sink.buf[0] + 2100, big + 2100, 200) == 0);
	CHECK(st->memuse == 0);
	/* the pool is per core: one flow's buffered data crowds out another's */
	reset(&g);
	g.client = 1;
	seg(t, &f, 0, 2401, 51, TH_ACK, big, 50);
	seg(t, &g, 0, 10, 20, TH_SYN, "", 0);
	seg(t, &g, 0, 31, 20, TH_ACK, big, 500);
	CHECK(st->memcap_hits == 2);
	nj_stream_flow_end(t, &f);
	nj_stream_flow_end(t, &g);
	CHECK(st->memuse == 0 && st->ssn_active == 0);
	nj_stream_destroy(t);

	/* no segment storage at all: everything out of order is forced, in order */
	t = table(NJ_STREAM_POLICY_BSD, 0, 100, 0);
	st = nj_stream_stats(t);
	reset(&f);
	seg(t, &f, 0, 0, 0, TH_SYN, "", 0);
	seg(t, &f, 0, 5, 0, TH_ACK, "efgh", 4);
	seg(t, &f, 0, 1, 0, TH_ACK, "abcd", 4);
	CHECK(delivered(0, "####efgh") && st->memcap_hits == 1);
	nj_stream_flow_end(t, &f);
	nj_stream_destroy(t);

	/* per-direction segment limit */
	t = table(NJ_STREAM_POLICY_BSD, 0, 0, 4);
	st = nj_stream_stats(t);
	reset(&f);
	seg(t, &f, 0, 0, 0, TH_SYN, "", 0);
	for (uint32_t i = 0; i < 10; i++)
		seg(t, &f, 0, 11 + i * 2, 0, TH_ACK, "q", 1);
	/* the 5th and the 10th did not fit: the holes below them were given up, and every
	 * segment sent was delivered */
	CHECK(st->segment_limit == 2 && st->memuse == 0);
	CHECK(sink.data_bytes[0] == 10 && sink.pos[0] == 29 && sink.gap_bytes[0] == 19);
	nj_stream_flow_end(t, &f);
	CHECK(sink.pos[0] == 29 && st->memuse == 0);
	nj_stream_destroy(t);

	/* the stream-state pool: a flow that finds it empty is not reassembled (counted) */
	{
		struct nj_stream_config c;
		struct nj_flow fl[8];

		nj_stream_config_defaults(&c);
		c.ssn_memcap = 1200; /* room for two or three */
		t = nj_stream_create(&c, on_data, on_event, &sink);
		CHECK(t != NULL);
		if (!t)
			return;
		st = nj_stream_stats(t);
		reset(&f);
		for (int i = 0; i < 8; i++) {
			memset(&fl[i], 0, sizeof(fl[i]));
			seg(t, &fl[i], 0, 0, 0, TH_SYN, "", 0);
		}
		CHECK(st->ssn_active >= 1 && st->ssn_memcap_hits >= 1);
		CHECK(st->ssn_active + st->ssn_memcap_hits == 8);
		for (int i = 0; i < 8; i++)
			nj_stream_flow_end(t, &fl[i]);
		CHECK(st->ssn_active == 0 && st->ssn_memuse == 0);
		seg(t, &fl[7], 0, 0, 0, TH_SYN, "", 0);
		CHECK(fl[7].stream_state != NULL);
		nj_stream_flow_end(t, &fl[7]);
		nj_stream_destroy(t);
	}
}

static void test_wrap(void)
{
	struct nj_flow f;
	struct nj_stream_table *t = table(NJ_STREAM_POLICY_LINUX, 0, 0, 0);

	/* handshake just below 2^32, data across the wrap, out of order */
	reset(&f);
	handshake(t, &f, 0xfffffff8u, 0x7ffffffeu);
	seg(t, &f, 0, 0xfffffff9u, 0x7fffffffu, TH_ACK, "abcd", 4);
	seg(t, &f, 0, 5, 0x7fffffffu, TH_ACK, "mnop", 4);
	seg(t, &f, 0, 0xfffffffdu, 0x7fffffffu, TH_ACK, "efghijkl", 8);
	CHECK(delivered(0, "abcdefghijklmnop"));
	/* the server's sequence crosses 2^31 (serial arithmetic, not signed compares) */
	seg(t, &f, 1, 0x7fffffffu, 9, TH_ACK, "12345", 5);
	seg(t, &f, 1, 0x80000004u, 9, TH_ACK, "678", 3);
	CHECK(delivered(1, "12345678"));
	/* ACK across the wrap past a hole */
	seg(t, &f, 0, 13, 0x80000007u, TH_ACK, "uv", 2);
	seg(t, &f, 1, 0x80000007u, 15, TH_ACK, "", 0);
	CHECK(delivered(0, "abcdefghijklmnop####uv"));
	nj_stream_flow_end(t, &f);
	nj_stream_destroy(t);
}

static void test_midstream(void)
{
	struct nj_flow f;
	struct nj_stream_table *t = table(NJ_STREAM_POLICY_BSD, 0, 0, 0);

	/* picked up on the server's data: the client's stream starts at its ACK */
	reset(&f);
	seg(t, &f, 1, 800000, 300000, TH_ACK, "response", 8);
	CHECK(delivered(1, "response"));
	seg(t, &f, 0, 300010, 800008, TH_ACK, "klmno", 5);
	CHECK(sink.pos[0] == 0);
	/* the server acknowledges what we never saw: a gap, then the data */
	seg(t, &f, 1, 800008, 300015, TH_ACK, "", 0);
	CHECK(delivered(0, "##########klmno"));
	nj_stream_flow_end(t, &f);
	nj_stream_destroy(t);

	/* an ACK-derived start far from the first data is dropped for the data's */
	t = table(NJ_STREAM_POLICY_BSD, 0, 0, 0);
	reset(&f);
	seg(t, &f, 1, 800000, 0, TH_ACK, "x", 1);
	seg(t, &f, 0, 123456789, 800001, TH_ACK, "hello", 5);
	CHECK(delivered(0, "hello") && sink.gaps[0] == 0);
	/* data before what the peer acknowledged, and nothing delivered yet: rebased */
	seg(t, &f, 0, 123456789 + 5, 800001, TH_ACK, "!", 1);
	nj_stream_flow_end(t, &f);
	CHECK(delivered(0, "hello!"));
	nj_stream_destroy(t);

	t = table(NJ_STREAM_POLICY_BSD, 0, 0, 0);
	reset(&f);
	seg(t, &f, 1, 800000, 5000, TH_ACK, "x", 1);
	seg(t, &f, 0, 4990, 800001, TH_ACK, "0123456789", 10);
	CHECK(delivered(0, "0123456789"));
	nj_stream_flow_end(t, &f);
	nj_stream_destroy(t);
}

static void test_fin_rst(void)
{
	struct nj_flow f;
	struct nj_stream_table *t = table(NJ_STREAM_POLICY_BSD, 0, 0, 0);
	const struct nj_stream_stats *st = nj_stream_stats(t);

	/* a FIN ahead of missing data: EOF only once the data is in */
	reset(&f);
	handshake(t, &f, 0, 100);
	seg(t, &f, 0, 5, 101, TH_ACK | TH_FIN, "efg", 3);
	CHECK(sink.eofs[0] == 0);
	seg(t, &f, 0, 1, 101, TH_ACK, "abcd", 4);
	CHECK(delivered(0, "abcdefg") && sink.eofs[0] == 1);
	/* data after the FIN is not delivered */
	seg(t, &f, 0, 8, 101, TH_ACK, "more", 4);
	CHECK(sink.pos[0] == 7 && st->after_eof == 1 && sink.calls_after_eof == 0);
	/* data in the same segment as the FIN, past it, is cut */
	seg(t, &f, 1, 101, 9, TH_ACK, "12", 2);
	seg(t, &f, 1, 106, 9, TH_ACK, "6789", 4);
	seg(t, &f, 1, 103, 9, TH_ACK | TH_FIN, "345", 3);
	CHECK(delivered(1, "12345") && sink.eofs[1] == 1);
	nj_stream_flow_end(t, &f);
	CHECK(sink.calls_after_eof == 0 && st->memuse == 0);
	nj_stream_destroy(t);

	/*
	 * RST: EOF both ways at once; buffered data beyond a hole is delivered
	 * first, the hole given up quietly (no gap counted, no event)
	 */
	t = table(NJ_STREAM_POLICY_BSD, 0, 0, 0);
	st = nj_stream_stats(t);
	reset(&f);
	handshake(t, &f, 0, 100);
	seg(t, &f, 0, 1, 101, TH_ACK, "abc", 3);
	seg(t, &f, 0, 10, 101, TH_ACK, "xyz", 3);
	/* a RST far outside the sender's stream is not believed */
	seg(t, &f, 1, 100 + 0x40000000u + 5, 4, TH_RST | TH_ACK, "", 0);
	CHECK(st->rst_ignored == 1 && sink.eofs[0] == 0);
	seg(t, &f, 1, 101, 4, TH_RST | TH_ACK, "", 0);
	CHECK(sink.eofs[0] == 1 && sink.eofs[1] == 1 && delivered(0, "abc######xyz") &&
	      st->memuse == 0);
	CHECK(sink.gaps[0] == 1 && sink.gap_bytes[0] == 6 && st->gaps == 0 && sink.ev_gap == 0);
	CHECK(sink.raw_only[0] == 2 && sink.raw_only[1] == 0); /* the hole and "xyz" */
	/* the client's in-flight data after the RST: normal */
	seg(t, &f, 0, 4, 101, TH_ACK, "def", 3);
	CHECK(sink.ev_rst == 0);
	/* the side that reset goes on sending: the RST was not its own */
	seg(t, &f, 1, 101, 4, TH_ACK, "still here", 10);
	seg(t, &f, 1, 111, 4, TH_ACK, "again", 5);
	CHECK(sink.ev_rst == 1 && sink.pos[1] == 0 && st->after_eof == 3);
	nj_stream_flow_end(t, &f);
	CHECK(sink.eofs[0] == 1 && sink.eofs[1] == 1 && sink.calls_after_eof == 0);
	nj_stream_destroy(t);
}

static int host_pol(void *arg, const uint8_t *addr, bool ipv6)
{
	(void)arg;
	(void)ipv6;
	return addr[0] == 10 ? NJ_STREAM_POLICY_LAST : -1;
}

/* Per-host policy (host-os-policy) and the orientation swap. */
static void test_host_policy_swap(void)
{
	struct nj_stream_config c;
	struct nj_stream_table *t;
	struct nj_flow f;

	nj_stream_config_defaults(&c);
	c.policy = NJ_STREAM_POLICY_FIRST;
	c.ssn_memcap = 1u << 20;
	c.host_policy = host_pol;
	t = nj_stream_create(&c, on_data, on_event, &sink);
	reset(&f);
	f.client = 0;
	f.addr[1][0] = 10; /* the server (receiver of direction 0) runs "last" */
	f.addr[0][0] = 192;
	handshake(t, &f, 0, 100);
	seg(t, &f, 0, 3, 101, TH_ACK, "AA", 2);
	seg(t, &f, 0, 1, 101, TH_ACK, "xxxx", 4);
	CHECK(delivered(0, "xxxx"));
	seg(t, &f, 1, 103, 5, TH_ACK, "AA", 2);
	seg(t, &f, 1, 101, 5, TH_ACK, "xxxx", 4);
	CHECK(delivered(1, "xxAA"));
	/* swapped: what was direction 1 is now 0 */
	nj_stream_swap(&f);
	seg(t, &f, 0, 105, 5, TH_ACK, "zz", 2);
	CHECK(sink.pos[0] == 6 && memcmp(sink.buf[0] + 4, "zz", 2) == 0);
	nj_stream_flow_end(t, &f);
	nj_stream_destroy(t);
}

/* ------------------------------------------------------------------ model check */

static uint64_t rng_state;

static uint32_t rnd(uint32_t n)
{
	rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
	return n ? (uint32_t)((rng_state >> 33) % n) : 0;
}

/* The decision table of stream.h, restated. */
static bool model_new_wins(enum nj_stream_policy pol, uint32_t ns, uint32_t ne, uint32_t os,
			   uint32_t oe)
{
	switch (pol) {
	case NJ_STREAM_POLICY_LAST: return true;
	case NJ_STREAM_POLICY_FIRST:
	case NJ_STREAM_POLICY_VISTA: return false;
	case NJ_STREAM_POLICY_LINUX: return ns < os || (ns == os && ne > oe);
	case NJ_STREAM_POLICY_OLD_LINUX: return ns < os || (ns == os && ne >= oe);
	case NJ_STREAM_POLICY_SOLARIS:
	case NJ_STREAM_POLICY_HPUX11: return ne > oe || (ne == oe && ns <= os);
	default: return ns < os;
	}
}

/*
 * Random out-of-order segments with random bytes against a byte-array model
 * of the policy: a byte keeps its stored value when any stored segment over
 * it keeps its bytes against the new one, and takes the new value otherwise.
 * Checks the block and descriptor bookkeeping for every policy.
 */
static void test_policy_model(void)
{
	enum { M = 300, MAXS = 16 };
	unsigned bad = 0;

	rng_state = 42;
	for (int round = 0; round < 4000; round++) {
		enum nj_stream_policy pol = (enum nj_stream_policy)rnd(NJ_STREAM_POLICY_MAX);
		struct nj_stream_table *t = table(pol, 0, 0, 0);
		uint8_t model[M], present[M] = {0}, data[M];
		uint32_t ss[MAXS], se[MAXS], nsegs = 0,
					     isn = rnd(3) ? rnd(0xffffffffu) : 0xffffff00u;
		struct nj_flow f;

		reset(&f);
		sink.gapc = 0;
		memset(model, 0, sizeof(model));
		seg(t, &f, 0, isn, 0, TH_SYN, "", 0);
		for (uint32_t k = 0, nk = 1 + rnd(MAXS); k < nk; k++) {
			uint32_t s0 = 1 + rnd(M - 1), len = 1 + rnd(rnd(2) ? 8 : 60), dup = 0;

			if (s0 + len > M)
				len = M - s0;
			if (nsegs && rnd(4) == 0) { /* same start as an earlier one */
				uint32_t j = rnd(nsegs);

				s0 = ss[j];
				len = rnd(2) ? se[j] - ss[j] : 1 + rnd(40);
				if (s0 + len > M)
					len = M - s0;
			}
			for (uint32_t i = 0; i < len; i++)
				data[i] = (uint8_t)('A' + rnd(4));
			for (uint32_t x = s0; x < s0 + len; x++) {
				bool keep = false;

				for (uint32_t j = 0; j < nsegs; j++)
					if (ss[j] <= x && x < se[j] &&
					    !model_new_wins(pol, s0, s0 + len, ss[j], se[j]))
						keep = true;
				if (!keep || !present[x])
					model[x] = data[x - s0];
				present[x] = 1;
			}
			for (uint32_t j = 0; j < nsegs; j++)
				if (ss[j] == s0 && se[j] == s0 + len)
					dup = 1;
			if (!dup && nsegs < MAXS) {
				ss[nsegs] = s0;
				se[nsegs++] = s0 + len;
			}
			seg(t, &f, 0, isn + 1 + s0, 0, TH_ACK, data, len);
		}
		seg(t, &f, 0, isn + 1, 0, TH_ACK, "#", 1);
		nj_stream_flow_end(t, &f);
		{
			uint32_t end = M;

			while (end > 1 && !present[end - 1])
				end--;
			model[0] = '#';
			if (sink.pos[0] != end || memcmp(sink.buf[0], model, end) != 0) {
				if (bad++ < 3) {
					fprintf(stderr, "model: policy %s round %d:\n got  ",
						nj_stream_policy_name(pol), round);
					for (uint64_t i = 0; i < sink.pos[0] && i < M; i++)
						fputc(sink.buf[0][i] ? sink.buf[0][i] : '.',
						      stderr);
					fprintf(stderr, "\n want ");
					for (uint32_t i = 0; i < end; i++)
						fputc(model[i] ? model[i] : '.', stderr);
					fputc('\n', stderr);
				}
			}
		}
		if (nj_stream_stats(t)->memuse)
			bad++;
		nj_stream_destroy(t);
	}
	CHECK(bad == 0);
}

/* ------------------------------------------------------------------ random run */

/*
 * Random segments of two random streams, both directions, random ISNs (some
 * at the wrap), ACKs that sometimes run past holes, random limits and
 * policies. Invariants: every byte delivered is the stream's byte at that
 * offset or part of a gap; the gaps and the data add up to the stream
 * offset; nothing after EOF, exactly one EOF per direction; all memory back
 * at flow end; identical retransmissions never flagged. A second pass sends
 * some segments with other bytes and checks the same accounting.
 */
static void test_random(void)
{
	enum { N = 6000 };
	static uint8_t ref[2][N], alt[N];
	unsigned bad = 0, bad_content = 0, bad_acct = 0, bad_complete = 0, rounds = 0;
	uint64_t total_gap = 0, total_data = 0, total_diff = 0;

	rng_state = FUZZ_SEED;
	for (int round = 0; round < FUZZ_ROUNDS; round++) {
		bool corrupt = round % 4 == 3, complete = round % 4 == 1;
		enum nj_stream_policy pol = (enum nj_stream_policy)rnd(NJ_STREAM_POLICY_MAX);
		uint32_t depth = !complete && rnd(4) == 0 ? 1 + rnd(N) : 0;
		uint64_t memcap = !complete && rnd(4) == 0 ? rnd(40000) : 0;
		uint32_t maxseg = !complete && rnd(4) == 0 ? 1 + rnd(20) : 0;
		struct nj_stream_table *t = table(pol, depth, memcap, maxseg);
		const struct nj_stream_stats *st = nj_stream_stats(t);
		uint32_t isn[2], n[2], sent[2] = {0, 0};
		bool fin[2] = {false, false}, rst = false, lossy = !complete && rnd(3) != 0;
		struct nj_flow f;

		if (!t) {
			bad++;
			continue;
		}
		for (int d = 0; d < 2; d++) {
			isn[d] = rnd(3) == 0 ? 0xffffffffu - rnd(3000) : (uint32_t)rnd(0xffffffffu);
			n[d] = 1 + rnd(N);
			for (uint32_t i = 0; i < n[d]; i++)
				ref[d][i] = (uint8_t)('a' + rnd(26));
		}
		reset(&f);
		if (rnd(5)) {
			handshake(t, &f, isn[0], isn[1]);
		} else {
			/* mid-stream: both streams picked up at their first byte */
			for (int d = 0; d < 2; d++) {
				seg(t, &f, d, isn[d] + 1, isn[!d] + 1, TH_ACK, ref[d], 1);
				sent[d] = 1;
			}
		}
		for (int k = 0, nk = 20 + (int)rnd(200); k < nk; k++) {
			int d = (int)rnd(2);
			uint32_t o = rnd(n[d]), l = 1 + rnd(rnd(4) ? 1460 : 64);
			const uint8_t *src = ref[d] + o;
			uint8_t fl = TH_ACK;
			uint32_t ack;

			if (o + l > n[d])
				l = n[d] - o;
			if (corrupt && rnd(8) == 0) {
				memcpy(alt, ref[d] + o, l);
				alt[rnd(l)] ^= (uint8_t)(1 + rnd(255));
				src = alt;
			}
			if (o + l == n[d] && rnd(3) == 0) {
				fl |= TH_FIN;
				fin[d] = true;
			}
			if (o + l > sent[d])
				sent[d] = o + l;
			/* mostly what the peer has seen; sometimes past a hole */
			if (!lossy)
				ack = isn[!d] + 1;
			else
				ack = isn[!d] + 1 +
				      (rnd(40) == 0   ? sent[!d]
				       : rnd(60) == 0 ? sent[!d] + rnd(3000) /* past all sent */
						      : rnd(sent[!d] + 1));
			seg(t, &f, d, isn[d] + 1 + o, ack, fl, src, l);
			if (lossy && rnd(30) == 0)
				seg(t, &f, !d, isn[!d] + 1 + sent[!d], isn[d] + 1 + sent[d], TH_ACK,
				    "", 0);
		}
		if (complete) {
			/* everything once more, in order: no byte may be missing */
			for (int d = 0; d < 2; d++)
				for (uint32_t o = 0; o < n[d]; o += 1000)
					seg(t, &f, d, isn[d] + 1 + o, isn[!d] + 1, TH_ACK,
					    ref[d] + o, n[d] - o < 1000 ? n[d] - o : 1000);
			for (int d = 0; d < 2; d++)
				if (sink.pos[d] != n[d] || sink.gaps[d] || sink.eofs[d] != fin[d] ||
				    memcmp(sink.buf[d], ref[d], n[d]) != 0)
					bad_complete++;
		} else if (rnd(10) == 0) {
			seg(t, &f, (int)rnd(2), isn[0] + 1 + sent[0], 0, TH_RST | TH_ACK, "", 0);
			rst = true;
		}
		nj_stream_flow_end(t, &f);
		rounds++;
		for (int d = 0; d < 2; d++) {
			/* content: the stream's bytes, or gap markers */
			if (!corrupt)
				for (uint64_t i = 0; i < sink.pos[d] && i < N; i++)
					if (sink.buf[d][i] != '#' && sink.buf[d][i] != ref[d][i]) {
						bad_content++;
						break;
					}
			if (sink.pos[d] != sink.data_bytes[d] + sink.gap_bytes[d] ||
			    sink.pos[d] > n[d])
				bad_acct++;
			if (sink.eofs[d] != 1)
				bad++;
			/* a FIN seen, no RST, no depth: the whole stream is accounted for */
			if (fin[d] && !rst && !depth && sink.pos[d] != n[d])
				bad_acct++;
		}
		if (!corrupt && sink.ev_diff)
			bad_content++;
		/* holes a RST gave up are delivered but not counted as gaps */
		if (st->bytes_delivered != sink.data_bytes[0] + sink.data_bytes[1] ||
		    (rst ? st->gap_bytes > sink.gap_bytes[0] + sink.gap_bytes[1]
			 : st->gap_bytes != sink.gap_bytes[0] + sink.gap_bytes[1]))
			bad_acct++;
		if (sink.calls_after_eof || sink.empty_calls || st->memuse || st->ssn_active ||
		    f.stream_state)
			bad++;
		total_gap += st->gap_bytes;
		total_data += st->bytes_delivered;
		total_diff += st->overlaps_diff;
		nj_stream_destroy(t);
	}
	CHECK(rounds == FUZZ_ROUNDS);
	CHECK(bad == 0);
	CHECK(bad_content == 0);
	CHECK(bad_acct == 0);
	CHECK(bad_complete == 0);
	/* the run did exercise gaps, data and differing overlaps */
	CHECK(total_gap > 0 && total_data > 1000000 && total_diff > 0);
	printf("random: %u rounds, %llu bytes delivered, %llu gap bytes, %llu overlaps with other "
	       "data\n",
	       rounds, (unsigned long long)total_data, (unsigned long long)total_gap,
	       (unsigned long long)total_diff);
}

/*
 * IDS timing on an established session (both sides seen): data is handed over
 * once the receiver acknowledges it, in order and once; a RST hands over what
 * is held, as does the flow's end; a receiver never seen sending (one side
 * captured) is not waited for; inline (ack_delivery off) hands over at once.
 */
static void test_ack_delivery(void)
{
	struct nj_flow f;
	struct nj_stream_table *t = table(NJ_STREAM_POLICY_BSD, 0, 0, 0);
	const struct nj_stream_stats *st = nj_stream_stats(t);

	reset(&f);
	f.tcp_state = NJ_TCP_ESTABLISHED;
	f.pkts_ts = f.pkts_tc = 1;
	handshake(t, &f, 1000, 5000);
	seg(t, &f, 0, 1001, 5001, TH_ACK, "GET / ", 6);
	seg(t, &f, 0, 1007, 5001, TH_ACK, "HTTP/1.0\r\n", 10);
	CHECK(sink.pos[0] == 0 && st->memuse > 0 && st->ooo_segments == 0);
	/* a partial acknowledgement hands over the acknowledged part */
	seg(t, &f, 1, 5001, 1004, TH_ACK, "", 0);
	CHECK(delivered(0, "GET"));
	/* the response comes with the acknowledgement of the rest of the request */
	seg(t, &f, 1, 5001, 1017, TH_ACK, "HTTP/1.0 200", 12);
	CHECK(delivered(0, "GET / HTTP/1.0\r\n") && sink.pos[1] == 0);
	/* a retransmission of held bytes is not delivered twice */
	seg(t, &f, 1, 5001, 1017, TH_ACK, "HTTP/1.0 200", 12);
	seg(t, &f, 0, 1017, 5013, TH_ACK, "", 0);
	CHECK(delivered(1, "HTTP/1.0 200") && sink.calls[1] == 1);
	/* FIN: EOF only once the data before it is acknowledged and handed over */
	seg(t, &f, 1, 5013, 1017, TH_ACK | TH_FIN, " OK", 3);
	CHECK(delivered(1, "HTTP/1.0 200") && sink.eofs[1] == 0);
	seg(t, &f, 0, 1017, 5017, TH_ACK, "", 0);
	CHECK(delivered(1, "HTTP/1.0 200 OK") && sink.eofs[1] == 1);
	/* unacknowledged data at the flow's end is handed over then */
	seg(t, &f, 0, 1017, 5017, TH_ACK, "BYE", 3);
	CHECK(delivered(0, "GET / HTTP/1.0\r\n"));
	nj_stream_flow_end(t, &f);
	CHECK(delivered(0, "GET / HTTP/1.0\r\nBYE") && sink.eofs[0] == 1);
	CHECK(st->memuse == 0 && sink.calls_after_eof == 0 && sink.empty_calls == 0);

	/* out of order and unacknowledged: the hole is filled, then the ACK delivers all */
	reset(&f);
	f.tcp_state = NJ_TCP_ESTABLISHED;
	f.pkts_ts = f.pkts_tc = 1;
	handshake(t, &f, 1000, 5000);
	seg(t, &f, 0, 1005, 5001, TH_ACK, "efgh", 4);
	seg(t, &f, 0, 1001, 5001, TH_ACK, "abcd", 4);
	CHECK(sink.pos[0] == 0);
	seg(t, &f, 1, 5001, 1009, TH_ACK, "", 0);
	CHECK(delivered(0, "abcdefgh") && sink.gaps[0] == 0);
	/* a RST hands over what is held, then ends both directions */
	seg(t, &f, 0, 1009, 5001, TH_ACK, "ijk", 3);
	seg(t, &f, 1, 5001, 1009, TH_ACK, "xyz", 3);
	seg(t, &f, 0, 1012, 5001, TH_RST | TH_ACK, "", 0);
	CHECK(delivered(0, "abcdefghijk") && delivered(1, "xyz"));
	CHECK(sink.eofs[0] == 1 && sink.eofs[1] == 1 && sink.raw_only[0] == 0);
	nj_stream_flow_end(t, &f);
	CHECK(st->memuse == 0);

	/* data on a SYN (TCP Fast Open) goes with its SYN */
	reset(&f);
	f.tcp_state = NJ_TCP_ESTABLISHED;
	f.pkts_ts = f.pkts_tc = 1;
	seg(t, &f, 0, 1000, 0, TH_SYN, "tfo", 3);
	CHECK(delivered(0, "tfo"));
	nj_stream_flow_end(t, &f);

	/* the receiver never seen sending (one side captured): not waited for */
	reset(&f);
	f.tcp_state = NJ_TCP_ESTABLISHED;
	f.pkts_ts = 1;
	seg(t, &f, 0, 1001, 5001, TH_ACK, "data", 4);
	CHECK(delivered(0, "data"));
	nj_stream_flow_end(t, &f);
	nj_stream_destroy(t);

	/* inline: at once */
	{
		struct nj_stream_config c;

		nj_stream_config_defaults(&c);
		c.memcap = 4u << 20;
		c.ssn_memcap = 1u << 20;
		c.ack_delivery = false;
		t = nj_stream_create(&c, on_data, on_event, &sink);
	}
	reset(&f);
	f.tcp_state = NJ_TCP_ESTABLISHED;
	f.pkts_ts = f.pkts_tc = 1;
	handshake(t, &f, 1000, 5000);
	seg(t, &f, 0, 1001, 5001, TH_ACK, "now", 3);
	CHECK(delivered(0, "now"));
	nj_stream_flow_end(t, &f);
	nj_stream_destroy(t);
}

int main(void)
{
	sink.buf[0] = malloc(SINKCAP);
	sink.buf[1] = malloc(SINKCAP);
	if (!sink.buf[0] || !sink.buf[1])
		return 1;
	test_in_order();
	test_regions();
	test_permutations();
	test_policies();
	test_inorder_overlap();
	test_retransmissions();
	test_syn_data_noack();
	test_gaps();
	test_depth();
	test_limits();
	test_wrap();
	test_midstream();
	test_fin_rst();
	test_host_policy_swap();
	test_policy_model();
	test_random();
	test_ack_delivery();
	free(sink.buf[0]);
	free(sink.buf[1]);
	if (failures)
		fprintf(stderr, "%d failures\n", failures);
	return failures ? 1 : 0;
}
