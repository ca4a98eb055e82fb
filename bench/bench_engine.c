/* SPDX-License-Identifier: MIT */
/*
 * Detection engine cost per packet on a realistic capture: the packets of a
 * pcap (default: pcapgen --scenario bench, see below) are read with libpcap
 * into memory and run through the plain-C stages the worker runs (decode,
 * flow, TCP reassembly, app-layer parsers, detection) with no rules, with the
 * example rules and with the whole ET Open set, in the same run. Prints
 * ns/packet, Mbit/s per core, the ratio to the no-rules baseline, the
 * prefilter hit rate, candidates and full evaluations per packet, and the
 * time per candidate evaluation.
 *
 * usage: bench_engine [PCAP] [RULES...]
 *   PCAP   default /tmp/x.pcap; make it with
 *          pcapgen -o /tmp/x.pcap --scenario bench --packets 300000
 *   RULES  rule files for the "ET Open" row (default: every file of
 *          ../shared/corpus/rules/et-open; the row is skipped if absent)
 * NJ_BENCH_RUNS (default 3): passes per configuration, interleaved; the best
 * pass of each is reported.
 */
#include <dirent.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dataplane/decode.h"
#include "dataplane/flow.h"
#include "dataplane/stream.h"
#include "detect/detect.h"
#include "detect/engine.h"
#include "parsers/applayer.h"

struct rec {
	uint32_t off, len, wire;
	uint64_t ts;
};

struct capture {
	uint8_t *data;
	size_t used, cap;
	struct rec *r;
	uint32_t n, ncap;
	uint16_t linktype;
	uint64_t bytes;
};

static double now_s(void)
{
	struct timespec ts;

	/* NJ_BENCH_CLOCK=cpu: this thread's CPU time, steadier on a shared machine */
	clock_gettime(getenv("NJ_BENCH_CLOCK") && !strcmp(getenv("NJ_BENCH_CLOCK"), "cpu")
			      ? CLOCK_THREAD_CPUTIME_ID
			      : CLOCK_MONOTONIC,
		      &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int load(const char *path, struct capture *c)
{
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *pc = pcap_open_offline(path, err);
	struct pcap_pkthdr *h;
	const u_char *d;

	if (!pc) {
		fprintf(stderr, "bench_engine: %s: %s\n", path, err);
		return -1;
	}
	c->linktype = (uint16_t)pcap_datalink(pc);
	while (pcap_next_ex(pc, &h, &d) == 1) {
		if (c->n == c->ncap) {
			c->ncap = c->ncap ? c->ncap * 2 : 65536;
			c->r = realloc(c->r, c->ncap * sizeof(*c->r));
		}
		if (c->used + h->caplen > c->cap) {
			c->cap = c->cap ? c->cap * 2 : (64u << 20);
			c->data = realloc(c->data, c->cap);
		}
		if (!c->r || !c->data) {
			pcap_close(pc);
			return -1;
		}
		memcpy(c->data + c->used, d, h->caplen);
		c->r[c->n].off = (uint32_t)c->used;
		c->r[c->n].len = h->caplen;
		c->r[c->n].wire = h->len;
		c->r[c->n].ts = (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;
		c->used += h->caplen;
		c->bytes += h->caplen;
		c->n++;
	}
	pcap_close(pc);
	return 0;
}

/* The worker's plain-C stages, wired as dataplane/worker.c wires them. */
struct pipe {
	struct nj_decode_ctx *dec;
	struct nj_flow_table *ft;
	struct nj_stream_table *st;
	struct nj_al_worker *al;
	struct nj_detect_thread *det;
	struct nj_pkt pkts[NJ_BURST];
};

static void on_data(void *arg, struct nj_flow *f, int dir, const uint8_t *data, uint32_t len,
		    unsigned flags, const struct nj_pkt *p)
{
	struct pipe *w = arg;

	nj_al_stream_data(w->al, f, dir, data, len, flags, p);
	if (data && len)
		nj_detect_stream(w->det, f, dir, data, len, p);
}

static void on_event(void *arg, struct nj_flow *f, const struct nj_pkt *p, const char *name)
{
	(void)arg;
	(void)f;
	(void)p;
	(void)name;
}

static void on_tx(void *arg, struct nj_flow *f, const struct nj_app_parser *p, struct nj_al_tx *tx,
		  int dir)
{
	struct pipe *w = arg;

	nj_detect_tx(w->det, f, p, tx, dir);
}

static void on_end(void *arg, struct nj_flow *f, enum nj_flow_end_reason why)
{
	struct pipe *w = arg;
	bool icmp = f->proto == 1 || f->proto == 58;

	(void)why;
	if (f->stream_state)
		nj_stream_flow_end(w->st, f);
	if (f->app_state && !icmp)
		nj_al_flow_end(w->al, f);
	if (f->detect_state)
		nj_detect_flow_end(w->det, f);
}

struct result {
	double secs;
	struct nj_detect_stats st;
};

static int run(const struct capture *c, const struct nj_detect_engine *e, struct result *res)
{
	struct pipe *w = calloc(1, sizeof(*w));
	struct nj_decode_config dc;
	struct nj_flow_config fc;
	struct nj_stream_config sc;
	struct nj_al_config ac;
	uint64_t last = 0, next_expire = 0;
	double t0;

	if (!w)
		return -1;
	nj_decode_config_defaults(&dc);
	dc.checksum_validation = 0;
	nj_flow_config_defaults(&fc);
	fc.memcap = 64ull << 20;
	nj_stream_config_defaults(&sc);
	sc.memcap = 256ull << 20;
	nj_al_config_defaults(&ac);
	w->dec = nj_decode_create(&dc, 0);
	w->ft = nj_flow_table_create(&fc, 0, on_end, w);
	w->st = nj_stream_create(&sc, on_data, on_event, w);
	w->al = nj_al_worker_create(&ac, NULL);
	w->det = nj_detect_thread_create(e, NULL);
	if (!w->dec || !w->ft || !w->st || !w->al || !w->det) {
		fprintf(stderr, "bench_engine: cannot create the pipeline\n");
		return -1;
	}
	nj_al_worker_set_tx_hook(w->al, on_tx, w);

	t0 = now_s();
	for (uint32_t i = 0; i < c->n; i += NJ_BURST) {
		uint16_t n = (uint16_t)(c->n - i < NJ_BURST ? c->n - i : NJ_BURST);

		nj_decode_burst_begin(w->dec);
		for (uint16_t k = 0; k < n; k++) {
			struct nj_pkt *p = &w->pkts[k];
			const struct rec *r = &c->r[i + k];

			memset(p, 0, sizeof(*p));
			p->data = c->data + r->off;
			p->len = r->len;
			p->wire_len = r->wire;
			p->ts_us = r->ts;
			p->seq = i + k + 1;
			p->linktype = c->linktype;
			nj_decode_pkt(w->dec, p);
			if (p->ts_us > last)
				last = p->ts_us;
		}
		nj_flow_burst(w->ft, w->pkts, n);
		for (uint16_t k = 0; k < n; k++) {
			struct nj_pkt *p = &w->pkts[k];

			if (!p->flow)
				continue;
			nj_detect_app_pkt(w->det, p);
			if (p->proto == 6) {
				nj_stream_pkt(w->st, p->flow, p);
				continue;
			}
			if (p->proto == 17 && p->payload_len && nj_al_udp(w->al, p->flow, p))
				for (uint16_t q = k + 1; q < n; q++)
					if (w->pkts[q].flow == p->flow)
						nj_flow_pkt_swap(&w->pkts[q]);
		}
		nj_detect_burst(w->det, w->pkts, n);
		if (last >= next_expire) {
			nj_flow_expire(w->ft, last, 512);
			next_expire = last + 1000000;
		}
	}
	nj_flow_flush_all(w->ft, last);
	res->secs = now_s() - t0;
	res->st = *nj_detect_thread_stats(w->det);

	nj_detect_thread_free(w->det);
	nj_al_worker_destroy(w->al);
	nj_stream_destroy(w->st);
	nj_flow_table_destroy(w->ft);
	nj_decode_destroy(w->dec);
	free(w);
	return 0;
}

static void row(const char *name, unsigned nsigs, const struct capture *c, const struct result *r,
		const struct result *base)
{
	double ns = r->secs * 1e9 / c->n, mbps = c->bytes * 8.0 / r->secs / 1e6;
	const struct nj_detect_stats *s = &r->st;

	printf("%-16s %7u %9.0f %11.0f %7.2f %9.2f %9.2f %8llu\n", name, nsigs, ns, mbps,
	       base ? r->secs / base->secs : 1.0, (double)s->prefilter_hits / c->n,
	       (double)s->sigs_evaluated / c->n, (unsigned long long)s->alerts);
}

static struct nj_detect_rules *load_rules(const char *const *files, unsigned n)
{
	struct nj_detect_load_stats st;
	struct nj_detect_load_opts o = {.err_out = NULL};

	return nj_detect_load(NULL, files, n, &o, &st);
}

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "/tmp/x.pcap";
	struct capture c = {0};
	struct result base, ex, et;
	const char *example[] = {NJ_BENCH_SRCROOT "/rules/example.rules"};
	char *etfiles[256];
	unsigned net = 0;
	struct nj_detect_rules *rx = NULL, *ret = NULL;
	struct nj_detect_engine *e0, *ex_e = NULL, *et_e = NULL;
	double tb;
	int runs = getenv("NJ_BENCH_RUNS") ? atoi(getenv("NJ_BENCH_RUNS")) : 3;

	if (load(path, &c) < 0) {
		fprintf(stderr,
			"bench_engine: make the capture with: pcapgen -o %s --scenario bench "
			"--packets 300000\n",
			path);
		return 77;
	}
	if (nj_app_parsers_configure(NULL) < 0)
		return 1;
	if (argc > 2) {
		for (int i = 2; i < argc && net < 256; i++)
			etfiles[net++] = strdup(argv[i]);
	} else {
		const char *dir = NJ_BENCH_SRCROOT "/../shared/corpus/rules/et-open";
		DIR *d = opendir(dir);
		struct dirent *de;

		while (d && (de = readdir(d)) && net < 256) {
			size_t l = strlen(de->d_name);
			char buf[4096];

			if (l > 6 && strcmp(de->d_name + l - 6, ".rules") == 0) {
				snprintf(buf, sizeof(buf), "%s/%s", dir, de->d_name);
				etfiles[net++] = strdup(buf);
			}
		}
		if (d)
			closedir(d);
	}

	printf("bench_engine: %s: %u packets, %.1f MB, 1 core; decode + flow + reassembly + "
	       "app-layer + detection\n",
	       path, c.n, c.bytes / 1e6);
	e0 = nj_detect_engine_build(NULL, NULL);
	rx = load_rules(example, 1);
	if (rx)
		ex_e = nj_detect_engine_build(rx, NULL);
	if (net) {
		tb = now_s();
		ret = load_rules((const char *const *)etfiles, net);
		if (ret) {
			double tl = now_s() - tb;

			tb = now_s();
			et_e = nj_detect_engine_build(ret, NULL);
			printf("ET Open: %u rules loaded in %.2f s, engine built in %.2f s\n",
			       ret->nsigs, tl, now_s() - tb);
			nj_detect_engine_print_summary(stdout, et_e);
		}
	} else {
		printf("ET Open: not found, row skipped\n");
	}

	/* warm-up pass, then interleaved passes; the best of each (the machine may be shared) */
	run(&c, e0, &base);
	base.secs = ex.secs = et.secs = 1e30;
	for (int r = 0; r < runs; r++) {
		struct result x;

		if (run(&c, e0, &x) < 0)
			return 1;
		if (x.secs < base.secs)
			base = x;
		if (ex_e) {
			if (run(&c, ex_e, &x) < 0)
				return 1;
			if (x.secs < ex.secs)
				ex = x;
		}
		if (et_e) {
			if (run(&c, et_e, &x) < 0)
				return 1;
			if (x.secs < et.secs)
				et = x;
		}
	}

	printf("\n%-16s %7s %9s %11s %7s %9s %9s %8s\n", "rules", "sigs", "ns/pkt", "Mbit/s/core",
	       "ratio", "cand/pkt", "evals/pkt", "alerts");
	row("none", 0, &c, &base, NULL);
	if (ex_e)
		row("example.rules", nj_detect_engine_sig_count(ex_e), &c, &ex, &base);
	if (et_e) {
		const struct nj_detect_stats *s = &et.st;

		row("ET Open", nj_detect_engine_sig_count(et_e), &c, &et, &base);
		printf("\nET Open: prefilter scans %llu, %.1f%% with a candidate; %.3f candidates "
		       "per scan; %.2f full evaluations per packet; detection cost %.0f ns/packet, "
		       "%.0f ns per evaluation (upper bound: all detection time / evaluations)\n",
		       (unsigned long long)s->pf_scans,
		       s->pf_scans ? 100.0 * s->pf_hit_scans / s->pf_scans : 0.0,
		       s->pf_scans ? (double)s->prefilter_hits / s->pf_scans : 0.0,
		       (double)s->sigs_evaluated / c.n, (et.secs - base.secs) * 1e9 / c.n,
		       s->sigs_evaluated ? (et.secs - base.secs) * 1e9 / s->sigs_evaluated : 0.0);
		printf("ET Open: %llu packets, %llu stream bytes, %llu transactions inspected, "
		       "%llu "
		       "alerts, %llu TLS flows not inspected once encrypted\n",
		       (unsigned long long)s->pkts_inspected, (unsigned long long)s->stream_bytes,
		       (unsigned long long)s->txs_inspected, (unsigned long long)s->alerts,
		       (unsigned long long)s->encrypted_flows);
	}

	nj_detect_engine_free(e0);
	nj_detect_engine_free(ex_e);
	nj_detect_engine_free(et_e);
	nj_detect_rules_free(rx);
	nj_detect_rules_free(ret);
	for (unsigned i = 0; i < net; i++)
		free(etfiles[i]);
	free(c.data);
	free(c.r);
	return 0;
}
