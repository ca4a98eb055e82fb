/* SPDX-License-Identifier: MIT */
/*
 * Counters: every stage keeps plain per-core counters; the control thread sums
 * them on read (racy reads of 64-bit words are benign on x86-64) and writes a
 * `stats` event with Suricata's counter names, periodically and at exit.
 */
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>

#include "export/geoip.h"
#include "nightjar.h"

#define NJ_MAX_COUNTERS 1024

struct counters {
	const char *names[NJ_MAX_COUNTERS];
	uint64_t vals[NJ_MAX_COUNTERS];
	const char *raw[NJ_MAX_COUNTERS]; /* finished JSON instead of the value, or NULL */
	unsigned n;
};

static void add_counter(void *arg, const char *name, uint64_t v)
{
	struct counters *c = arg;

	if (c->n < NJ_MAX_COUNTERS) {
		c->names[c->n] = name;
		c->raw[c->n] = NULL;
		c->vals[c->n++] = v;
	}
}

static void add_raw(struct counters *c, const char *name, const char *json)
{
	if (c->n < NJ_MAX_COUNTERS) {
		c->names[c->n] = name;
		c->raw[c->n] = json;
		c->vals[c->n++] = 0;
	}
}

/* Suricata's detect.engines: one entry for the rule set, with the load's counts. */
static void engines_json(const struct nj_app *app, char *out, size_t outlen)
{
	char ts[40];

	nj_eve_format_ts(ts, app->rules_load_us);
	snprintf(out, outlen,
		 "[{\"id\":0,\"last_reload\":\"%s\",\"rules_loaded\":%u,\"rules_failed\":%u,"
		 "\"rules_skipped\":%u}]",
		 ts, app->rules_ok, app->rules_failed, app->rules_skipped);
}

/* Both stats structs are arrays of uint64_t by contract. */
static void sum_u64(void *dst, const void *src, size_t size)
{
	uint64_t *d = dst;
	const uint64_t *s = src;

	for (size_t i = 0; i < size / sizeof(uint64_t); i++)
		d[i] += s[i];
}

struct totals {
	struct nj_decode_stats dec;
	struct nj_flow_stats flow;
	struct nj_worker_stats wk;
	struct nj_eve_stats eve;
	struct nj_al_stats al;
	struct nj_detect_stats det;
	struct nj_stream_stats stream;
	struct nj_yara_stats yara;
	struct nj_geoip_stats geo;
	bool have_geo;
	struct nj_baseline_stats baseline;
	struct nj_files_stats files;
	uint64_t imissed, ierrors, nombuf, ipackets;
};

static void collect(struct nj_app *app, struct totals *t)
{
	memset(t, 0, sizeof(*t));
	for (unsigned i = 0; i < app->nworkers; i++) {
		struct nj_worker *w = app->workers[i];

		if (!w)
			continue;
		sum_u64(&t->dec, nj_decode_stats(w->dec), sizeof(t->dec));
		sum_u64(&t->flow, nj_flow_table_stats(w->flows), sizeof(t->flow));
		sum_u64(&t->wk, &w->st, sizeof(t->wk));
		sum_u64(&t->eve, nj_eve_worker_stats(w->eve), sizeof(t->eve));
		if (w->al)
			sum_u64(&t->al, nj_al_worker_stats(w->al), sizeof(t->al));
		if (w->det)
			sum_u64(&t->det, nj_detect_thread_stats(w->det), sizeof(t->det));
		if (w->stream)
			sum_u64(&t->stream, nj_stream_stats(w->stream), sizeof(t->stream));
		if (w->yara)
			sum_u64(&t->yara, nj_yara_worker_stats(w->yara), sizeof(t->yara));
		if (nj_eve_worker_geoip(w->eve)) {
			sum_u64(&t->geo, nj_geoip_cache_stats(nj_eve_worker_geoip(w->eve)),
				sizeof(t->geo));
			t->have_geo = true;
		}
		if (w->baseline)
			sum_u64(&t->baseline, nj_baseline_stats(w->baseline), sizeof(t->baseline));
		if (w->files)
			sum_u64(&t->files, nj_files_stats(w->files), sizeof(t->files));
	}
	if (app->eve_ctl)
		sum_u64(&t->eve, nj_eve_worker_stats(app->eve_ctl), sizeof(t->eve));
	/* the YARA scanner threads' handles sit between the workers' and the control one */
	for (unsigned i = 0; app->eve && i < nj_yara_threads(app->yara); i++)
		sum_u64(&t->eve, nj_eve_worker_stats(nj_eve_worker(app->eve, app->set.workers + i)),
			sizeof(t->eve));
	for (unsigned i = 0; i < app->nsrc_ports; i++) {
		struct rte_eth_stats es;

		if (rte_eth_stats_get(app->src_ports[i], &es) == 0) {
			t->imissed += es.imissed;
			t->ierrors += es.ierrors;
			t->nombuf += es.rx_nombuf;
			t->ipackets += es.ipackets;
		}
	}
}

/* Suricata's app_layer.flow.<proto>, app_layer.tx.<proto>, app_layer.error.<proto>.* */
static void applayer_counters(struct counters *c, const struct nj_al_stats *al)
{
	static char names[NJ_APP_MAX_PARSERS][4][64];
	const struct nj_app_parser *p;

	for (uint16_t id = 1; (p = nj_app_parser_by_id(id)) != NULL; id++) {
		if (!names[id][0][0]) {
			snprintf(names[id][0], sizeof(names[id][0]), "app_layer.flow.%s", p->name);
			snprintf(names[id][1], sizeof(names[id][1]), "app_layer.tx.%s", p->name);
		}
		add_counter(c, names[id][0], al->flows[id]);
		add_counter(c, names[id][1], al->tx[id]);
		/* Suricata's app_layer.error.<proto>.parser, or <proto>_tcp / <proto>_udp for a
		 * protocol parsed over both */
		for (int u = 0; u < 2; u++) {
			bool both = (p->ipproto_mask & NJ_AL_TCP) && (p->ipproto_mask & NJ_AL_UDP);

			if (!(p->ipproto_mask & (u ? NJ_AL_UDP : NJ_AL_TCP)))
				continue;
			if (!names[id][2 + u][0]) {
				if (both)
					snprintf(names[id][2 + u], sizeof(names[id][2 + u]),
						 "app_layer.error.%s_%s.parser", p->name,
						 u ? "udp" : "tcp");
				else
					snprintf(names[id][2 + u], sizeof(names[id][2 + u]),
						 "app_layer.error.%s.parser", p->name);
			}
			add_counter(c, names[id][2 + u], al->parser_errors[id][u]);
		}
	}
	add_counter(c, "app_layer.flow.failed_tcp", al->failed_tcp);
	add_counter(c, "app_layer.flow.failed_udp", al->failed_udp);
	add_counter(c, "app_layer.expectations", al->expect_new);
}

void nj_stats_emit(struct nj_app *app, uint64_t ts_us)
{
	static struct counters c;
	static struct totals t;
	uint64_t uptime = (rte_get_tsc_cycles() - app->start_tsc) / rte_get_tsc_hz();

	if (!nj_eve_wants(app->eve_ctl, NJ_EVE_STATS))
		return;
	collect(app, &t);
	c.n = 0;
	add_counter(&c, "capture.kernel_packets", t.ipackets);
	add_counter(&c, "capture.kernel_drops", t.imissed + t.nombuf + app->ring_drops);
	add_counter(&c, "capture.dpdk.imissed", t.imissed);
	add_counter(&c, "capture.dpdk.rx_errors", t.ierrors);
	add_counter(&c, "capture.dpdk.rx_no_mbufs", t.nombuf);
	add_counter(&c, "capture.dpdk.ring_drops", app->ring_drops);
	nj_decode_stats_foreach(&t.dec, add_counter, &c);
	nj_flow_stats_foreach(&t.flow, add_counter, &c);
	add_counter(&c, "tcp.reassembly_gap", t.stream.gaps);
	add_counter(&c, "tcp.overlap", t.stream.overlaps);
	add_counter(&c, "tcp.overlap_diff_data", t.stream.overlaps_diff);
	add_counter(&c, "tcp.segment_memcap_drop", t.stream.memcap_hits + t.stream.segment_limit);
	add_counter(&c, "tcp.reassembly_memuse", t.stream.memuse);
	add_counter(&c, "tcp.ssn_memcap_drop", t.stream.ssn_memcap_hits);
	add_counter(&c, "tcp.memuse", t.stream.ssn_memuse);
	add_counter(&c, "tcp.stream_depth_reached", t.stream.depth_reached);
	add_counter(&c, "tcp.invalid_checksum", t.stream.bad_checksum);
	applayer_counters(&c, &t.al);
	/* Suricata's HTTP byte-range counters (memcap: the configured limit), then ours */
	add_counter(&c, "http.byterange.memuse", t.files.range_memuse);
	add_counter(&c, "http.byterange.memcap", app->set.files.range_memcap);
	add_counter(&c, "nightjar.http.byterange.open", t.files.range_open);
	add_counter(&c, "nightjar.http.byterange.reassembled", t.files.range_reassembled);
	add_counter(&c, "nightjar.http.byterange.memcap_hit", t.files.range_memcap);
	add_counter(&c, "nightjar.http.byterange.timeouts", t.files.range_timeouts);
	add_counter(&c, "nightjar.http.byterange.evicted", t.files.range_evicted);
	if (app->set.files.store) {
		/* Suricata's file-store counters (only with file-store enabled, as there) */
		add_counter(&c, "file_store.fs_errors", t.files.store_errors);
		add_counter(&c, "file_store.open_files_max_hit", t.files.store_fd_limit);
	}
	if (app->rules_load_us) {
		static char engines[256];

		engines_json(app, engines, sizeof(engines));
		add_raw(&c, "detect.engines", engines);
	}
	add_counter(&c, "detect.alert", t.det.alerts);
	add_counter(&c, "detect.alerts_suppressed", t.det.alerts_suppressed);
	add_counter(&c, "detect.alert_queue_overflow", t.det.alert_queue_full);
	if (app->yara)
		nj_yara_stats_foreach(&t.yara, add_counter, &c);
	if (app->baseline)
		nj_baseline_stats_foreach(&t.baseline, add_counter, &c);
	add_counter(&c, "nightjar.linearized", t.wk.linearized);
	add_counter(&c, "nightjar.oversize", t.wk.oversize);
	add_counter(&c, "nightjar.eve.dropped", t.eve.dropped);
	add_counter(&c, "nightjar.eve.too_large", t.eve.too_large);
	add_counter(&c, "nightjar.eve.frames", t.eve.frames);
	if (t.have_geo) {
		add_counter(&c, "nightjar.geoip.lookups", t.geo.lookups);
		add_counter(&c, "nightjar.geoip.cache_hits", t.geo.hits);
		add_counter(&c, "nightjar.geoip.cache_misses", t.geo.misses);
		add_counter(&c, "nightjar.geoip.home_net", t.geo.home);
		add_counter(&c, "nightjar.geoip.errors", t.geo.errors);
	}
	if (!ts_us)
		ts_us = app->pcap_last_us;
	nj_eve_log_stats_raw(app->eve_ctl, ts_us, uptime, c.names, c.vals, c.raw, c.n);
}

void nj_stats_summary(struct nj_app *app)
{
	struct totals t;
	uint64_t events = 0;
	double secs, gbps, mpps;
	uint64_t first = UINT64_MAX, last = 0;

	collect(app, &t);
	for (unsigned i = 0; i < NJ_EVE_FAST; i++) /* EVE events, not fast.log lines */
		events += t.eve.events[i];
	for (unsigned i = 0; i < app->nworkers; i++) {
		struct nj_worker *w = app->workers[i];

		if (w->first_rx_tsc && w->first_rx_tsc < first)
			first = w->first_rx_tsc;
		if (w->last_rx_tsc > last)
			last = w->last_rx_tsc;
	}
	if (first == UINT64_MAX || last <= first)
		secs = 0;
	else
		secs = (double)(last - first) / (double)rte_get_tsc_hz();
	gbps = secs > 0 ? (double)t.wk.bytes * 8 / secs / 1e9 : 0;
	mpps = secs > 0 ? (double)t.wk.pkts / secs / 1e6 : 0;
	printf("nightjar: %lu packets, %lu bytes in %.3f s (%.3f Gbit/s, %.3f Mpps, %u worker%s), "
	       "%lu flows, %lu events",
	       (unsigned long)t.wk.pkts, (unsigned long)t.wk.bytes, secs, gbps, mpps, app->nworkers,
	       app->nworkers == 1 ? "" : "s", (unsigned long)t.flow.created, (unsigned long)events);
	if (t.imissed + t.nombuf + app->ring_drops)
		printf(", %lu dropped", (unsigned long)(t.imissed + t.nombuf + app->ring_drops));
	printf("\n");
	{
		uint64_t cpu = 0, flush = 0;

		for (unsigned i = 0; i < app->nworkers; i++) {
			const struct nj_worker *w = app->workers[i];

			if (w->cpu_input_ns > w->cpu_first_ns)
				cpu += w->cpu_input_ns - w->cpu_first_ns;
			if (w->cpu_end_ns > w->cpu_input_ns)
				flush += w->cpu_end_ns - w->cpu_input_ns;
		}
		/* worker threads' CPU time from their first packet to their end of
		 * input, then for the final flow flush: steadier than the wall clock
		 * when the machine is shared */
		if (cpu)
			printf("nightjar: worker CPU %.3f s for the packets (%.3f Gbit/s per CPU "
			       "second), %.3f s for the final flush\n",
			       (double)cpu / 1e9, (double)t.wk.bytes * 8 / (double)cpu,
			       (double)flush / 1e9);
	}
	for (unsigned i = 0; i < app->set.eve.nsinks; i++)
		printf("nightjar: EVE output: %s\n", app->set.eve.sinks[i].path);
	fflush(stdout);
}
