/* SPDX-License-Identifier: MIT */
/*
 * TCP reassembly cost, ns per segment and MB/s of payload, on 1460-byte
 * segments, with payloads hot in the cache (16 distinct, 23 KiB: the cost of
 * the code) and cold (16384 distinct, 24 MiB: the first pass over fresh
 * packet memory, which the parser would otherwise pay):
 *
 *   - in order, one flow and 4096 flows round robin, with and without the
 *     retransmission check (the fast path: no copy);
 *   - reordered: 10% of segments swapped with the next one, 5% sent twice
 *     (the workload of pcapgen's --reorder/--dup);
 *
 * against two baselines measured in the same run over the same bytes: the
 * data callback alone (what a parser would get with no reassembly at all),
 * and memcpy of every payload into a 64 KiB ring, the least a copying
 * reassembler does. The data callback reads the first and last byte.
 *
 * usage: bench_stream [segments per run, default 4000000]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dataplane/stream.h"

#define MSS   1460u
#define NCOLD 16384u /* distinct payloads: 24 MiB */
#define NHOT  16u
#define HDR   54u
#define NFLOW 4096u

static uint8_t *payloads; /* NCOLD frames of HDR + MSS bytes */
static uint32_t npay;	  /* frames in use: NHOT or NCOLD */
static volatile uint64_t sink_sum;
static uint64_t sum;

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static __attribute__((noinline)) void on_data(void *arg, struct nj_flow *f, int dir,
					      const uint8_t *data, uint32_t len, unsigned flags,
					      const struct nj_pkt *p)
{
	(void)arg;
	(void)f;
	(void)dir;
	(void)p;
	if (data && len && !(flags & NJ_STREAM_GAP))
		sum += data[0] + data[len - 1] + len;
}

static uint64_t rng = 0x243f6a8885a308d3ull;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

static struct nj_stream_table *mk_table(bool check)
{
	struct nj_stream_config c;

	nj_stream_config_defaults(&c);
	c.depth = 0;
	c.memcap = 256ull << 20;
	c.ssn_memcap = 64ull << 20;
	c.check_retrans = check;
	return nj_stream_create(&c, on_data, NULL, NULL);
}

static void pkt_init(struct nj_pkt *p, struct nj_flow *f, uint32_t k)
{
	memset(p, 0, sizeof(*p));
	p->data = payloads + (size_t)(k % npay) * (HDR + MSS);
	p->len = HDR + MSS;
	p->payload_off = HDR;
	p->payload_len = MSS;
	p->proto = 6;
	p->tcp_flags = 0x10;
	p->flags = NJ_PKT_HAS_L4 | NJ_PKT_TOSERVER;
	p->flow = f;
}

/* Segments in order, flows round robin. Returns ns per segment. */
static double run_in_order(uint32_t nflows, uint64_t nseg, bool check)
{
	struct nj_stream_table *t = mk_table(check);
	struct nj_flow *fl = calloc(nflows, sizeof(*fl));
	uint32_t *seq = calloc(nflows, sizeof(*seq));
	struct nj_pkt p;
	double t0, t1;

	if (!t || !fl || !seq) {
		fprintf(stderr, "bench_stream: out of memory\n");
		exit(1);
	}
	for (uint32_t i = 0; i < nflows; i++) {
		fl[i].proto = 6;
		seq[i] = 1000 + i * 7919u;
		pkt_init(&p, &fl[i], 0);
		p.tcp_flags = 0x02;
		p.payload_len = 0;
		p.tcp_seq = seq[i]++;
		nj_stream_pkt(t, &fl[i], &p);
	}
	pkt_init(&p, &fl[0], 0);
	t0 = now_ns();
	for (uint64_t k = 0; k < nseg; k++) {
		uint32_t i = (uint32_t)(k % nflows);

		p.data = payloads + (size_t)(k % npay) * (HDR + MSS);
		p.flow = &fl[i];
		p.tcp_seq = seq[i];
		seq[i] += MSS;
		nj_stream_pkt(t, &fl[i], &p);
	}
	t1 = now_ns();
	if (nj_stream_stats(t)->bytes_delivered != nseg * MSS)
		fprintf(stderr, "bench_stream: in-order run lost bytes\n");
	for (uint32_t i = 0; i < nflows; i++)
		nj_stream_flow_end(t, &fl[i]);
	nj_stream_destroy(t);
	free(fl);
	free(seq);
	return (t1 - t0) / (double)nseg;
}

/* One flow, 10% of segments swapped with the next, 5% sent twice. */
static double run_reordered(uint64_t nseg, bool check, uint64_t *sent)
{
	struct nj_stream_table *t = mk_table(check);
	struct nj_flow f;
	struct nj_pkt p;
	uint32_t *order = malloc(nseg * sizeof(*order) * 2);
	uint64_t n = 0;
	double t0, t1;

	if (!t || !order) {
		fprintf(stderr, "bench_stream: out of memory\n");
		exit(1);
	}
	for (uint32_t k = 0; k < nseg; k++) {
		if (k + 1 < nseg && rnd(100) < 10) {
			order[n++] = k + 1;
			order[n++] = k;
			k++;
		} else {
			order[n++] = k;
		}
		if (rnd(100) < 5) {
			uint32_t last = order[n - 1];

			order[n++] = last;
		}
	}
	memset(&f, 0, sizeof(f));
	f.proto = 6;
	pkt_init(&p, &f, 0);
	p.tcp_flags = 0x02;
	p.payload_len = 0;
	p.tcp_seq = 999;
	nj_stream_pkt(t, &f, &p);
	pkt_init(&p, &f, 0);
	t0 = now_ns();
	for (uint64_t i = 0; i < n; i++) {
		uint32_t k = order[i];

		p.data = payloads + (size_t)(k % npay) * (HDR + MSS);
		p.tcp_seq = 1000 + k * MSS;
		nj_stream_pkt(t, &f, &p);
	}
	t1 = now_ns();
	if (nj_stream_stats(t)->bytes_delivered != nseg * MSS)
		fprintf(stderr, "bench_stream: reordered run lost bytes (%llu of %llu)\n",
			(unsigned long long)nj_stream_stats(t)->bytes_delivered,
			(unsigned long long)(nseg * MSS));
	nj_stream_flow_end(t, &f);
	nj_stream_destroy(t);
	free(order);
	*sent = n;
	return (t1 - t0) / (double)n;
}

/* Baselines over the same payloads: the callback alone, and memcpy into a ring. */
static double run_callback(uint64_t nseg)
{
	nj_stream_data_fn volatile fn = on_data;
	struct nj_flow f;
	struct nj_pkt p;
	double t0, t1;

	memset(&f, 0, sizeof(f));
	pkt_init(&p, &f, 0);
	t0 = now_ns();
	for (uint64_t k = 0; k < nseg; k++) {
		p.data = payloads + (size_t)(k % npay) * (HDR + MSS);
		p.tcp_seq = (uint32_t)(k * MSS);
		fn(NULL, &f, 0, p.data + p.payload_off, p.payload_len, 0, &p);
	}
	t1 = now_ns();
	return (t1 - t0) / (double)nseg;
}

static double run_memcpy(uint64_t nseg)
{
	static uint8_t ring[1u << 16];
	uint32_t pos = 0;
	double t0, t1;

	t0 = now_ns();
	for (uint64_t k = 0; k < nseg; k++) {
		const uint8_t *src = payloads + (size_t)(k % npay) * (HDR + MSS) + HDR;

		if (pos + MSS > sizeof(ring))
			pos = 0;
		memcpy(ring + pos, src, MSS);
		sum += ring[pos] + ring[pos + MSS - 1] + MSS;
		pos += MSS;
	}
	t1 = now_ns();
	return (t1 - t0) / (double)nseg;
}

static void line(const char *name, double ns, double base_cb, double base_cp)
{
	printf("%-44s %8.1f ns/seg %9.0f MB/s   x%.2f of callback-only, x%.2f of memcpy\n", name,
	       ns, MSS / ns * 1e3, ns / base_cb, ns / base_cp);
}

static void run_all(uint64_t nseg, const char *what)
{
	double cb, cp, r;
	uint64_t sent;
	char name[96];

	run_memcpy(nseg / 4); /* warm up */
	cb = run_callback(nseg);
	cp = run_memcpy(nseg);
	printf("-- payloads %s\n", what);
	line("baseline: callback only", cb, cb, cp);
	line("baseline: memcpy into a ring + callback", cp, cb, cp);
	line("in order, 1 flow, retransmission check", run_in_order(1, nseg, true), cb, cp);
	line("in order, 1 flow, no check", run_in_order(1, nseg, false), cb, cp);
	line("in order, 4096 flows, retransmission check", run_in_order(NFLOW, nseg, true), cb, cp);
	line("in order, 4096 flows, no check", run_in_order(NFLOW, nseg, false), cb, cp);
	r = run_reordered(nseg, true, &sent);
	snprintf(name, sizeof(name), "reordered 10%% + dup 5%%, check");
	line(name, r, cb, cp);
	r = run_reordered(nseg, false, &sent);
	snprintf(name, sizeof(name), "reordered 10%% + dup 5%%, no check");
	line(name, r, cb, cp);
}

int main(int argc, char **argv)
{
	uint64_t nseg = argc > 1 ? strtoull(argv[1], NULL, 10) : 4000000;

	payloads = malloc((size_t)NCOLD * (HDR + MSS));
	if (!payloads || nseg < 2)
		return 1;
	for (size_t i = 0; i < (size_t)NCOLD * (HDR + MSS); i++)
		payloads[i] = (uint8_t)rnd(256);
	printf("bench_stream: %llu segments of %u bytes per run (reordered: per segment sent)\n",
	       (unsigned long long)nseg, MSS);
	npay = NHOT;
	run_all(nseg, "hot (16 x 1460 B)");
	npay = NCOLD;
	run_all(nseg, "cold (16384 x 1460 B)");
	sink_sum = sum;
	free(payloads);
	return 0;
}
