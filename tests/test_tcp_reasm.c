/* SPDX-License-Identifier: MIT */
/*
 * TCP reassembly (dataplane/stream.c) with hand-built segments: in-order fast
 * path, every permutation of out-of-order segments, overlap policies, gaps
 * from ACKs past a hole and at flow end, depth, memcap and segment limits,
 * sequence wrap-around, mid-stream pick-up, FIN/RST end of stream, and a
 * seeded random run checking the delivery invariants.
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

/* What the callback saw, per direction. */
struct sink {
	uint8_t buf[2][1 << 16];
	uint32_t len[2]; /* bytes written into buf (gaps as '#') */
	uint64_t gap_bytes[2];
	unsigned gaps[2], eofs[2], events, calls_after_eof;
};

static void on_data(void *arg, struct nj_flow *f, int dir, const uint8_t *data, uint32_t len,
		    unsigned flags, const struct nj_pkt *p)
{
	struct sink *s = arg;

	(void)f;
	(void)p;
	if (s->eofs[dir])
		s->calls_after_eof++;
	if (flags & NJ_STREAM_EOF) {
		s->eofs[dir]++;
		return;
	}
	if (flags & NJ_STREAM_GAP) {
		s->gaps[dir]++;
		s->gap_bytes[dir] += len;
		for (uint32_t i = 0; i < len && s->len[dir] < sizeof(s->buf[0]); i++)
			s->buf[dir][s->len[dir]++] = '#';
		return;
	}
	for (uint32_t i = 0; i < len && s->len[dir] < sizeof(s->buf[0]); i++)
		s->buf[dir][s->len[dir]++] = data[i];
}

static void on_event(void *arg, struct nj_flow *f, const struct nj_pkt *p, const char *name)
{
	struct sink *s = arg;

	(void)f;
	(void)p;
	(void)name;
	s->events++;
}

static struct sink sink;

static void reset(struct nj_flow *f)
{
	memset(&sink, 0, sizeof(sink));
	memset(f, 0, sizeof(*f));
	f->proto = 6;
}

/* One segment of direction dir (0 client->server), data copied into a static frame. */
static void seg(struct nj_stream_table *t, struct nj_flow *f, int dir, uint32_t seq, uint32_t ack,
		uint8_t flags, const char *data, uint32_t len)
{
	static uint8_t frame[70000];
	struct nj_pkt p;

	memset(&p, 0, sizeof(p));
	memcpy(frame + 54, data, len);
	p.data = frame;
	p.len = 54 + len;
	p.payload_off = 54;
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
	if (memcap)
		c.memcap = memcap;
	if (max_segs)
		c.max_segments = max_segs;
	return nj_stream_create(&c, on_data, on_event, &sink);
}

static void test_in_order(void)
{
	struct nj_flow f;
	struct nj_stream_table *t = table(NJ_STREAM_POLICY_BSD, 0, 0, 0);

	reset(&f);
	seg(t, &f, 0, 1000, 0, TH_SYN, "", 0);
	seg(t, &f, 1, 5000, 1001, TH_SYN | TH_ACK, "", 0);
	seg(t, &f, 0, 1001, 5001, TH_ACK, "GET / ", 6);
	seg(t, &f, 0, 1007, 5001, TH_ACK, "HTTP/1.0\r\n", 10);
	seg(t, &f, 1, 5001, 1017, TH_ACK, "HTTP/1.0 200", 12);
	CHECK(sink.len[0] == 16 && memcmp(sink.buf[0], "GET / HTTP/1.0\r\n", 16) == 0);
	CHECK(sink.len[1] == 12 && memcmp(sink.buf[1], "HTTP/1.0 200", 12) == 0);
	/* a retransmission of old data is not delivered again */
	seg(t, &f, 0, 1001, 5013, TH_ACK, "GET / ", 6);
	CHECK(sink.len[0] == 16);
	/* FIN: EOF once everything before it is delivered */
	seg(t, &f, 0, 1017, 5013, TH_ACK | TH_FIN, "", 0);
	CHECK(sink.eofs[0] == 1 && sink.eofs[1] == 0);
	nj_stream_flow_end(t, &f);
	CHECK(sink.eofs[1] == 1 && f.stream_state == NULL);
	CHECK(sink.calls_after_eof == 0);
	CHECK(nj_stream_stats(t)->memuse == 0);
	nj_stream_destroy(t);
}

/* Every permutation of 5 segments of "abcdefghijklmnopqrst" delivers the same bytes. */
static void permute(int *a, int k, int n, unsigned *count, unsigned *bad)
{
	if (k == n) {
		static const char data[] = "abcdefghijklmnopqrst";
		struct nj_flow f;
		struct nj_stream_table *t = table(NJ_STREAM_POLICY_BSD, 0, 0, 0);

		reset(&f);
		seg(t, &f, 0, 99, 0, TH_SYN, "", 0);
		for (int i = 0; i < n; i++)
			seg(t, &f, 0, 100 + (uint32_t)a[i] * 4, 0, TH_ACK, data + a[i] * 4, 4);
		nj_stream_flow_end(t, &f);
		(*count)++;
		if (sink.len[0] != 20 || memcmp(sink.buf[0], data, 20) != 0 || sink.gaps[0])
			(*bad)++;
		if (nj_stream_stats(t)->memuse != 0)
			(*bad)++;
		nj_stream_destroy(t);
		return;
	}
	for (int i = k; i < n; i++) {
		int x = a[k];

		a[k] = a[i];
		a[i] = x;
		permute(a, k + 1, n, count, bad);
		a[i] = a[k];
		a[k] = x;
	}
}

static void test_permutations(void)
{
	int a[5] = {0, 1, 2, 3, 4};
	unsigned count = 0, bad = 0;

	permute(a, 0, 5, &count, &bad);
	CHECK(count == 120);
	CHECK(bad == 0);
}

/* Old "AAAA" at 104..108 queued, new "BBBBBBBB" at 102..110, then the hole 100..102. */
static const char *overlap(enum nj_stream_policy pol)
{
	static char out[32];
	struct nj_flow f;
	struct nj_stream_table *t = table(pol, 0, 0, 0);

	reset(&f);
	seg(t, &f, 0, 99, 0, TH_SYN, "", 0);
	seg(t, &f, 0, 104, 0, TH_ACK, "AAAA", 4);
	seg(t, &f, 0, 102, 0, TH_ACK, "BBBBBBBB", 8);
	seg(t, &f, 0, 100, 0, TH_ACK, "xx", 2);
	nj_stream_flow_end(t, &f);
	snprintf(out, sizeof(out), "%.*s", (int)sink.len[0], (const char *)sink.buf[0]);
	CHECK(sink.events == 1); /* overlap with different data */
	nj_stream_destroy(t);
	return out;
}

static void test_policies(void)
{
	CHECK(strcmp(overlap(NJ_STREAM_POLICY_FIRST), "xxBBAAAABB") == 0);
	CHECK(strcmp(overlap(NJ_STREAM_POLICY_LAST), "xxBBBBBBBB") == 0);
	/* BSD and Linux: the new segment starts before the old one and wins */
	CHECK(strcmp(overlap(NJ_STREAM_POLICY_BSD), "xxBBBBBBBB") == 0);
	CHECK(strcmp(overlap(NJ_STREAM_POLICY_LINUX), "xxBBBBBBBB") == 0);
	/* Windows keeps the original */
	CHECK(strcmp(overlap(NJ_STREAM_POLICY_WINDOWS), "xxBBAAAABB") == 0);
	CHECK(nj_stream_policy_parse("linux") == NJ_STREAM_POLICY_LINUX);
	CHECK(nj_stream_policy_parse("vista") == NJ_STREAM_POLICY_WINDOWS);
	CHECK(nj_stream_policy_parse("nonsense") == -1);
}

static void test_gaps(void)
{
	struct nj_flow f;
	struct nj_stream_table *t = table(NJ_STREAM_POLICY_BSD, 0, 0, 0);

	/* the server ACKs bytes 0..20 but only 10..20 were captured: 10 missing */
	reset(&f);
	seg(t, &f, 0, 999, 0, TH_SYN, "", 0);
	seg(t, &f, 1, 4999, 1000, TH_SYN | TH_ACK, "", 0);
	seg(t, &f, 0, 1010, 5000, TH_ACK, "0123456789", 10);
	CHECK(sink.len[0] == 0);
	seg(t, &f, 1, 5000, 1020, TH_ACK, "", 0);
	CHECK(sink.gaps[0] == 1 && sink.gap_bytes[0] == 10);
	CHECK(sink.len[0] == 20 && memcmp(sink.buf[0] + 10, "0123456789", 10) == 0);
	/* a hole still open at flow end becomes a gap */
	seg(t, &f, 0, 1030, 5000, TH_ACK, "abc", 3);
	nj_stream_flow_end(t, &f);
	CHECK(sink.gaps[0] == 2 && sink.gap_bytes[0] == 20);
	CHECK(sink.len[0] == 33 && memcmp(sink.buf[0] + 30, "abc", 3) == 0);
	CHECK(nj_stream_stats(t)->gaps == 2);
	nj_stream_destroy(t);
}

static void test_limits(void)
{
	struct nj_flow f;
	struct nj_stream_table *t = table(NJ_STREAM_POLICY_BSD, 8, 0, 0);
	char big[2000];

	/* depth: 8 bytes, then nothing */
	reset(&f);
	seg(t, &f, 0, 0, 0, TH_SYN, "", 0);
	seg(t, &f, 0, 1, 0, TH_ACK, "0123456789", 10);
	seg(t, &f, 0, 11, 0, TH_ACK, "abc", 3);
	CHECK(sink.len[0] == 8 && memcmp(sink.buf[0], "01234567", 8) == 0);
	CHECK(nj_stream_stats(t)->depth_reached == 1);
	nj_stream_flow_end(t, &f);
	nj_stream_destroy(t);

	/* memcap: out-of-order data refused (counted), the hole becomes a gap, no loss after */
	memset(big, 'z', sizeof(big));
	t = table(NJ_STREAM_POLICY_BSD, 0, 3000, 0);
	reset(&f);
	seg(t, &f, 0, 0, 0, TH_SYN, "", 0);
	seg(t, &f, 0, 101, 0, TH_ACK, big, 2000);
	seg(t, &f, 0, 2101, 0, TH_ACK, big, 2000); /* over the memcap */
	CHECK(nj_stream_stats(t)->memcap_hits >= 1);
	CHECK(sink.gaps[0] == 1 && sink.gap_bytes[0] == 100);
	CHECK(sink.len[0] == 4100);
	nj_stream_flow_end(t, &f);
	CHECK(nj_stream_stats(t)->memuse == 0);
	nj_stream_destroy(t);

	/* segment limit */
	t = table(NJ_STREAM_POLICY_BSD, 0, 0, 4);
	reset(&f);
	seg(t, &f, 0, 0, 0, TH_SYN, "", 0);
	for (uint32_t i = 0; i < 10; i++)
		seg(t, &f, 0, 11 + i * 2, 0, TH_ACK, "q", 1);
	CHECK(nj_stream_stats(t)->segment_limit >= 1);
	nj_stream_flow_end(t, &f);
	CHECK(nj_stream_stats(t)->memuse == 0);
	nj_stream_destroy(t);
}

static void test_wrap_midstream_rst(void)
{
	struct nj_flow f;
	struct nj_stream_table *t = table(NJ_STREAM_POLICY_BSD, 0, 0, 0);

	/* mid-stream pick-up across the 2^32 wrap, out of order */
	reset(&f);
	seg(t, &f, 0, 0xfffffffcu, 0, TH_ACK, "abcd", 4);
	seg(t, &f, 0, 4, 0, TH_ACK, "ijkl", 4);
	seg(t, &f, 0, 0, 0, TH_ACK, "efgh", 4);
	CHECK(sink.len[0] == 12 && memcmp(sink.buf[0], "abcdefghijkl", 12) == 0);
	/* RST: EOF both ways, nothing after */
	seg(t, &f, 1, 77, 8, TH_RST, "", 0);
	CHECK(sink.eofs[0] == 1 && sink.eofs[1] == 1);
	seg(t, &f, 0, 8, 0, TH_ACK, "more", 4);
	CHECK(sink.len[0] == 12);
	nj_stream_flow_end(t, &f);
	CHECK(sink.calls_after_eof == 0);
	nj_stream_destroy(t);
}

/* Random segments of a random stream: what is delivered is the stream, with '#' for gaps. */
static void test_random(void)
{
	static uint8_t ref[8192];
	uint64_t x = 12345;
	unsigned bad = 0;

	for (int round = 0; round < 300; round++) {
		struct nj_flow f;
		struct nj_stream_table *t = table((enum nj_stream_policy)(round % 3), 0, 0, 0);
		uint32_t isn = (uint32_t)(x * 2654435761u), n = 1 + (uint32_t)(x % 4000);

		for (uint32_t i = 0; i < n; i++) {
			x = x * 6364136223846793005ull + 1442695040888963407ull;
			ref[i] = (uint8_t)('a' + (x >> 33) % 26);
		}
		reset(&f);
		seg(t, &f, 0, isn, 0, TH_SYN, "", 0);
		for (int k = 0; k < 60; k++) {
			uint32_t o, l;

			x = x * 6364136223846793005ull + 1442695040888963407ull;
			o = (uint32_t)((x >> 20) % n);
			l = 1 + (uint32_t)((x >> 40) % 300);
			if (o + l > n)
				l = n - o;
			seg(t, &f, 0, isn + 1 + o, 0, TH_ACK, (const char *)ref + o, l);
		}
		nj_stream_flow_end(t, &f);
		/* every delivered byte is the reference byte or a gap marker */
		for (uint32_t i = 0; i < sink.len[0]; i++)
			if (sink.buf[0][i] != '#' && sink.buf[0][i] != ref[i])
				bad++;
		if (sink.len[0] > n || sink.eofs[0] != 1 || nj_stream_stats(t)->memuse != 0)
			bad++;
		nj_stream_destroy(t);
	}
	CHECK(bad == 0);
}

int main(void)
{
	test_in_order();
	test_permutations();
	test_policies();
	test_gaps();
	test_limits();
	test_wrap_midstream_rst();
	test_random();
	if (failures)
		fprintf(stderr, "%d failures\n", failures);
	return failures ? 1 : 0;
}
