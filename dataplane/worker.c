/* SPDX-License-Identifier: MIT */
/*
 * The worker loop (one per worker lcore) and the software fan-out (main
 * lcore). A burst stays together through every stage: receive, decode, flow,
 * events, free.
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_prefetch.h>
#include <rte_ring.h>

#include "nightjar.h"
#include "detect/intel/intel_run.h"
#include "export/baseline/baseline_geoip.h"
#include "parsers/dns/dns.h"

/* Flows are swept at most this often (packet time) and this many at a time. */
#define NJ_EXPIRE_EVERY_US 1000000u
#define NJ_EXPIRE_BUDGET   512u
/* Idle polls before yielding the CPU (only when oversubscribed or offline). */
#define NJ_IDLE_YIELD 256u

static void on_flow_end(void *arg, struct nj_flow *f, enum nj_flow_end_reason why)
{
	struct nj_worker *w = arg;

	bool icmp = f->proto == 1 || f->proto == 58;

	if (f->stream_state)
		nj_stream_flow_end(w->stream, f);
	if (f->app_state && !icmp)
		nj_al_flow_end(w->al, f);
	if (f->detect_state) /* pending inspection; the state stays for the flow event */
		nj_detect_flow_finish(w->det, f);
	if (w->beacon && f->app_proto != w->dns_proto)
		nj_beacon_observe_flow(w->beacon, f);
	if (w->baseline)
		nj_baseline_flow_end(w->baseline, f);
	if (w->log_flow)
		nj_eve_log_flow_ex(w->eve, f, why, nj_app_proto_name(f->app_proto),
				   nj_app_proto_name(f->app_proto_orig),
				   icmp && f->app_state ? nj_icmp_log_flow : NULL);
	if (icmp && f->app_state)
		nj_icmp_flow_end(w->icmp, f);
	if (w->log_netflow)
		nj_eve_log_netflow(w->eve, f);
	if (f->detect_state)
		nj_detect_flow_end(w->det, f);
}

/* In-order TCP data: to the app-layer and to stream detection. */
static void on_stream_data(void *arg, struct nj_flow *f, int dir, const uint8_t *data, uint32_t len,
			   unsigned flags, const struct nj_pkt *p)
{
	struct nj_worker *w = arg;

	if (!(flags & NJ_STREAM_RAW_ONLY))
		nj_al_stream_data(w->al, f, dir, data, len, flags, p);
	if (len && (data || (flags & NJ_STREAM_GAP)))
		nj_detect_stream_data(w->det, f, dir, data, len, (flags & NJ_STREAM_GAP) != 0,
				      nj_stream_next_seq(f, dir), p);
}

/* Stream anomalies: {"anomaly":{"type":"stream","event":"stream.NAME"}} when asked for. */
static void on_stream_event(void *arg, struct nj_flow *f, const struct nj_pkt *p, const char *name)
{
	struct nj_worker *w = arg;
	struct nj_json *j;

	if (w->det)
		nj_detect_stream_event(w->det, f, p, name);
	if (!w->log_stream_anomaly)
		return;
	j = nj_eve_begin(w->eve, NJ_EVE_ANOMALY, p ? p->ts_us : f->last_us, f, p);
	nj_json_open_obj(j, "anomaly");
	nj_json_str(j, "type", "stream");
	nj_json_str(j, "event", name);
	nj_json_close_obj(j);
	nj_eve_commit(w->eve);
	w->st.anomalies++;
}

/* ICMP echo anomalies, as app-layer anomalies of "icmp". */
static void on_icmp_anomaly(void *arg, const struct nj_pkt *p, const char *name)
{
	struct nj_worker *w = arg;
	struct nj_json *j;

	if (!w->log_applayer_anomaly)
		return;
	j = nj_eve_begin(w->eve, NJ_EVE_ANOMALY, p->ts_us, p->flow, p);
	nj_json_open_obj(j, "anomaly");
	nj_json_str(j, "app_proto", "icmp");
	nj_json_str(j, "type", "applayer");
	nj_json_str(j, "event", name);
	nj_json_str(j, "layer", "proto_parser");
	nj_json_close_obj(j);
	nj_eve_commit(w->eve);
	w->st.anomalies++;
}

/* Completed transactions: detection, and DNS queries as beacon observations. */
static void on_tx(void *arg, struct nj_flow *f, const struct nj_app_parser *p, struct nj_al_tx *tx,
		  int dir)
{
	struct nj_worker *w = arg;

	nj_detect_tx(w->det, f, p, tx, dir);
	if (w->intel)
		nj_intel_tx(w->intel, f, p, tx, dir);
	if (w->beacon && p->id == w->dns_proto && dir == NJ_DIR_TOSERVER && w->observe_dns) {
		const struct nj_dns_msg *m = nj_dns_tx_msg(tx, NJ_DIR_TOSERVER);
		struct nj_beacon_key k;
		char name[256];

		if (!m || !m->qname)
			return;
		snprintf(name, sizeof(name), "%.*s", (int)m->qname_len, (const char *)m->qname);
		nj_beacon_key_dns(&k, f, m->qname, m->qname_len);
		nj_beacon_observe_ex(w->beacon, &k, m->ts_us, m->len, 0, name);
	}
}

struct nj_worker *nj_worker_create(struct nj_app *app, unsigned id)
{
	struct nj_worker *w;
	struct nj_flow_config fc = app->set.flow;

	w = rte_zmalloc_socket("nj_worker", sizeof(*w), NJ_CACHE_LINE, rte_socket_id());
	if (!w)
		return NULL;
	w->id = id;
	w->linktype = app->set.mode == NJ_MODE_OFFLINE ? app->linktype : NJ_LINK_ETHERNET;
	w->lin_buf = aligned_alloc(NJ_CACHE_LINE, NJ_LIN_BUF_SIZE);
	if (!w->lin_buf)
		goto out_free;
	w->dec = nj_decode_create(&app->set.decode, 0);
	if (!w->dec)
		goto out_free;
	fc.memcap = app->set.flow_memcap_total / app->set.workers;
	w->flows = nj_flow_table_create(&fc, 0, on_flow_end, w);
	if (!w->flows)
		goto out_free_dec;
	w->eve = nj_eve_worker(app->eve, id);
	{
		struct nj_stream_config sc = app->set.stream;

		sc.memcap = app->set.stream_memcap_total / app->set.workers;
		sc.ssn_memcap = app->set.stream_ssn_memcap_total / app->set.workers;
		w->stream = nj_stream_create(&sc, on_stream_data, on_stream_event, w);
		if (!w->stream)
			goto out_free_flows;
	}
	w->al = nj_al_worker_create(&app->set.applayer, w->eve);
	if (!w->al)
		goto out_free_stream;
	if (app->set.files.enabled || app->set.files.store || app->yara ||
	    nj_files_md5_required()) {
		struct nj_files_config fcfg = app->set.files;

		/* app-layer.protocols.http.byterange.memcap is for the process, as Suricata's */
		fcfg.range_memcap /= app->set.workers;
		if (app->set.files.range_memcap && !fcfg.range_memcap)
			fcfg.range_memcap = 1;
		w->files = nj_files_create(&fcfg, w->eve);
		if (!w->files)
			goto out_free_al;
		nj_al_worker_set_files(w->al, w->files);
	}
	if (app->yara) {
		w->yara = nj_yara_worker_create(app->yara, w->eve, nj_files_max_open(w->files));
		if (!w->yara)
			goto out_free_files;
		nj_files_set_scanner(w->files, &nj_yara_file_ops, w->yara);
	}
	w->det = nj_detect_thread_create(app->detect, w->eve);
	if (w->det)
		nj_detect_thread_set_files(w->det, w->files);
	if (!w->det)
		goto out_free_files;
	nj_al_worker_set_tx_hook(w->al, on_tx, w);
	{
		struct nj_beacon_config bc = app->set.beacon;
		struct nj_icmp_config ic = app->set.icmp;
		const struct nj_app_parser *dns = nj_app_parser_by_name("dns");

		bc.memcap /= app->set.workers;
		bc.periodic.memcap /= app->set.workers;
		ic.memcap /= app->set.workers;
		if (bc.enabled) {
			w->beacon = nj_beacon_create(&bc, w->eve);
			if (!w->beacon)
				goto out_free_det;
		}
		w->observe_dns = bc.observe_dns;
		if (ic.enabled) {
			w->icmp = nj_icmp_create(&ic);
			if (!w->icmp)
				goto out_free_beacon;
			nj_icmp_set_beacon(w->icmp, bc.observe_icmp ? w->beacon : NULL);
			nj_icmp_set_anomaly_cb(w->icmp, on_icmp_anomaly, w);
		}
		w->dns_proto = dns ? dns->id : 0xfffe;
	}
	if (app->baseline) {
		w->baseline = nj_baseline_create(app->baseline, w->eve);
		if (!w->baseline)
			goto out_free_icmp;
		/* GeoIP configured: the baseline learns and judges countries and ASNs */
		if (nj_eve_worker_geoip(w->eve))
			nj_baseline_use_geoip(w->baseline, nj_eve_worker_geoip(w->eve));
	}
	w->log_applayer_anomaly = nj_eve_wants(w->eve, NJ_EVE_ANOMALY) && app->set.anomaly_applayer;
	w->log_flow = nj_eve_wants(w->eve, NJ_EVE_FLOW);
	w->log_netflow = nj_eve_wants(w->eve, NJ_EVE_NETFLOW);
	w->log_anomaly = nj_eve_wants(w->eve, NJ_EVE_ANOMALY) && app->set.anomaly_decode;
	w->anomaly_packethdr = app->set.anomaly_packethdr;
	w->log_ether = app->set.eve.ethernet;
	w->log_stream_anomaly = nj_eve_wants(w->eve, NJ_EVE_ANOMALY) && app->set.anomaly_stream;
	w->stage = app->set.stage;
	if (w->stage != NJ_STAGE_FULL)
		w->log_flow = w->log_netflow = w->log_anomaly = false;
	w->intel = nj_intel_thread_create(w->eve);
	if (nj_intel_enabled() && !w->intel) {
		nj_icmp_destroy(w->icmp);
		goto out_free_beacon;
	}
	if (w->intel && w->files)
		nj_files_set_hash_hook(w->files, nj_intel_file, w->intel);
	return w;

out_free_icmp:
	nj_icmp_destroy(w->icmp);
out_free_beacon:
	nj_beacon_destroy(w->beacon);
out_free_det:
	nj_detect_thread_free(w->det);
out_free_files:
	nj_files_destroy(w->files);
	nj_yara_worker_destroy(w->yara);
out_free_al:
	nj_al_worker_destroy(w->al);
out_free_stream:
	nj_stream_destroy(w->stream);
out_free_flows:
	nj_flow_table_destroy(w->flows);
out_free_dec:
	nj_decode_destroy(w->dec);
out_free:
	free(w->lin_buf);
	rte_free(w);
	return NULL;
}

void nj_worker_destroy(struct nj_worker *w)
{
	if (!w)
		return;
	nj_flow_table_destroy(w->flows);
	nj_stream_destroy(w->stream);
	nj_al_worker_destroy(w->al);
	nj_files_destroy(w->files);
	nj_yara_worker_destroy(w->yara); /* after the files that call it */
	nj_icmp_destroy(w->icmp);
	nj_beacon_destroy(w->beacon);
	nj_baseline_destroy(w->baseline);
	nj_detect_thread_free(w->det);
	nj_intel_thread_free(w->intel);
	nj_decode_destroy(w->dec);
	free(w->lin_buf);
	rte_free(w);
}

static inline uint64_t wall_ms(void)
{
	return rte_get_tsc_cycles() / (rte_get_tsc_hz() / 1000);
}

/* Fill the packet descriptors of a burst from the mbufs. */
static inline void burst_to_pkts(struct nj_worker *w, struct rte_mbuf **m, uint16_t n, int seq_off,
				 int ts_off, uint64_t ts_flag, uint64_t live_us)
{
	for (uint16_t i = 0; i < n; i++) {
		struct nj_pkt *p = &w->pkts[i];
		struct rte_mbuf *mb = m[i];

		if (i + 2 < n)
			rte_prefetch0(rte_pktmbuf_mtod(m[i + 2], void *));
		p->priv = mb;
		p->linktype = w->linktype;
		p->wire_len = mb->pkt_len;
		if (likely(mb->nb_segs == 1)) {
			p->data = rte_pktmbuf_mtod(mb, const uint8_t *);
			p->len = mb->data_len;
		} else {
			/* rare: jumbo frames from net_pcap; copy to the scratch */
			uint32_t len = mb->pkt_len;

			if (len > 65536u) {
				len = 65536u;
				w->st.oversize++;
			}
			p->data = rte_pktmbuf_read(mb, 0, len, w->lin_buf + w->lin_used);
			w->lin_used += len;
			p->len = len;
			w->st.linearized++;
		}
		if (w->direct_pcap) {
			p->seq = ++w->next_seq;
		} else {
			p->seq = *RTE_MBUF_DYNFIELD(mb, seq_off, uint64_t *);
		}
		if (ts_off >= 0 && (mb->ol_flags & ts_flag))
			p->ts_us = *RTE_MBUF_DYNFIELD(mb, ts_off, rte_mbuf_timestamp_t *);
		else
			p->ts_us = live_us;
		w->st.bytes += p->len;
	}
}

/* The first MAC of each side of a flow, for eve-log ethernet. */
static void flow_macs(struct nj_worker *w, uint16_t n)
{
	for (uint16_t i = 0; i < n; i++) {
		struct nj_pkt *p = &w->pkts[i];
		struct nj_flow *f = p->flow;
		const uint8_t *eh;
		unsigned s;

		if (!f || !(p->flags & NJ_PKT_ETH) || f->mac_seen == 3)
			continue;
		eh = p->data + p->eth_off;
		s = (p->flags & NJ_PKT_TOCLIENT) ? 1 : 0;
		if (!(f->mac_seen & (1u << s))) {
			memcpy(f->mac[s], eh + 6, 6);
			f->mac_seen |= 1u << s;
		}
		if (!(f->mac_seen & (2u >> s))) {
			memcpy(f->mac[1 - s], eh, 6);
			f->mac_seen |= 2u >> s;
		}
	}
}

/* Payload to the app-layer: UDP datagrams directly (TCP goes through reassembly). */
static inline void app_layer_burst(struct nj_worker *w, uint16_t n)
{
	nj_detect_app_burst(w->det, w->pkts, n);
	for (uint16_t i = 0; i < n; i++) {
		struct nj_pkt *p = &w->pkts[i];

		if (!p->flow)
			continue;
		nj_detect_app_pkt(w->det, p);
		if (p->proto == 6) {
			struct nj_flow *f = p->flow;

			nj_stream_pkt(w->stream, f, p);
			if (unlikely(f->swap_pending)) {
				/* the app-layer saw the server speak first on a mid-stream session */
				f->swap_pending = 0;
				nj_flow_swap(f);
				nj_stream_swap(f);
				nj_detect_flow_swap(f);
				nj_flow_pkt_swap(p);
				for (uint16_t k = i + 1; k < n; k++)
					if (w->pkts[k].flow == f)
						nj_flow_pkt_swap(&w->pkts[k]);
			}
			continue;
		}
		if ((p->proto == 1 || p->proto == 58) && w->icmp) {
			nj_icmp_pkt(w->icmp, p->flow, p);
			continue;
		}
		if (!p->payload_len)
			continue;
		if (p->proto == 17 && nj_al_udp(w->al, p->flow, p)) {
			for (uint16_t k = i + 1; k < n; k++)
				if (w->pkts[k].flow == p->flow)
					nj_flow_pkt_swap(&w->pkts[k]);
		}
	}
}

static void worker_burst(struct nj_worker *w, struct rte_mbuf **m, uint16_t n, int seq_off,
			 int ts_off, uint64_t ts_flag, uint64_t live_us)
{
	uint16_t i;

	w->lin_used = 0;
	if (unlikely(w->stage == NJ_STAGE_RX)) {
		for (i = 0; i < n; i++)
			w->st.bytes += m[i]->pkt_len;
		rte_pktmbuf_free_bulk(m, n);
		w->st.pkts += n;
		w->st.bursts++;
		return;
	}
	burst_to_pkts(w, m, n, seq_off, ts_off, ts_flag, live_us);
	if (w->yara)
		nj_yara_worker_sync(w->yara); /* a reloaded rule set is adopted between bursts */
	nj_decode_burst_begin(w->dec);
	for (i = 0; i < n; i++) {
		nj_decode_pkt(w->dec, &w->pkts[i]);
		if (w->pkts[i].ts_us > w->clock_us)
			w->clock_us = w->pkts[i].ts_us;
	}
	nj_flow_burst(w->flows, w->pkts, n);
	if (w->intel)
		nj_intel_burst(w->intel, w->pkts, n);
	if (unlikely(w->log_ether))
		flow_macs(w, n);
	if (likely(w->stage == NJ_STAGE_FULL)) {
		app_layer_burst(w, n);
		nj_detect_burst(w->det, w->pkts, n);
	}
	if (w->log_anomaly) {
		for (i = 0; i < n; i++) {
			const struct nj_pkt *p = &w->pkts[i];

			for (unsigned e = 0; e < p->nevents; e++) {
				nj_eve_log_decode_anomaly(w->eve, p,
							  nj_decode_event_eve_names[p->events[e]],
							  w->anomaly_packethdr);
				w->st.anomalies++;
			}
		}
	}
	rte_pktmbuf_free_bulk(m, n);
	w->st.pkts += n;
	w->st.bursts++;
}

/*
 * The time housekeeping may expire flows at. Offline, time is the packets'
 * time as this worker sees them: the feeder's clock runs ahead of packets
 * still queued in our ring, and expiring by it would end a flow whose next
 * packet is queued (the flow then splits, its rest picked up mid-stream).
 * The feeder's clock is safe only once our ring is empty: fed_us is published
 * after the enqueues it covers, so an empty ring read after it means every
 * packet up to fed_us that is ours has been processed.
 */
static uint64_t worker_now(const struct nj_worker *w, const struct nj_app *app, bool offline)
{
	uint64_t now = w->clock_us, fed;

	if (!offline) {
		if (app->clock_us > now)
			now = app->clock_us;
		return now;
	}
	if (!app->fanout || w->port != app->ring_port)
		return now;
	fed = __atomic_load_n(&app->fed_us, __ATOMIC_ACQUIRE);
	if (fed > now && rte_ring_count(app->rings[w->queue]) == 0)
		now = fed;
	return now;
}

static void worker_housekeeping(struct nj_worker *w, struct nj_app *app, bool offline)
{
	uint64_t now = worker_now(w, app, offline);

	if (now >= w->last_expire_us + NJ_EXPIRE_EVERY_US) {
		nj_flow_expire(w->flows, now, NJ_EXPIRE_BUDGET);
		nj_decode_expire(w->dec, now);
		if (w->files)
			nj_files_expire(w->files, now);
		w->last_expire_us = now;
	}
	nj_eve_worker_tick(w->eve, wall_ms());
	if (w->intel)
		nj_intel_quiescent(w->intel);
	if (w->baseline)
		nj_baseline_tick(w->baseline);
}

void nj_baseline_poll_workers(struct nj_app *app)
{
	struct nj_baseline *cores[NJ_MAX_WORKERS];
	int ret;

	if (!app->baseline)
		return;
	for (unsigned i = 0; i < app->nworkers; i++)
		cores[i] = app->workers[i] ? app->workers[i]->baseline : NULL;
	ret = nj_baseline_ctx_poll(app->baseline, cores, app->nworkers, (uint64_t)time(NULL));
	if (ret < 0)
		NJ_WARN("baseline: cannot write %s: %s", app->set.baseline.file, strerror(-ret));
}

/* This thread's CPU time: read once at the first packet and once at the end
 * (benchmarks on a shared machine read it instead of the wall clock). */
static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int nj_worker_main(void *arg)
{
	struct nj_worker *w = arg;
	struct nj_app *app = &nj_app;
	struct rte_mbuf *m[NJ_BURST];
	uint64_t ts_flag = 0, hz = rte_get_tsc_hz();
	int seq_off = nj_mbuf_seq_offset();
	int ts_off = nj_mbuf_ts_offset(&ts_flag);
	unsigned idle = 0, since_tick = 0;
	bool offline = app->set.mode == NJ_MODE_OFFLINE;
	/* give the CPU away when idle only if it is shared or the input is a file */
	bool yield_idle = offline || rte_lcore_count() > (unsigned)sysconf(_SC_NPROCESSORS_ONLN);
	uint64_t wall0_us = (uint64_t)time(NULL) * 1000000u, tsc0 = rte_get_tsc_cycles();

	for (;;) {
		uint16_t n = rte_eth_rx_burst(w->port, w->queue, m, NJ_BURST);

		if (likely(n > 0)) {
			uint64_t tsc = rte_get_tsc_cycles();
			uint64_t live_us = wall0_us + (tsc - tsc0) * 1000000u / hz;

			if (!w->first_rx_tsc) {
				w->first_rx_tsc = tsc;
				w->cpu_first_ns = thread_cpu_ns();
			}
			w->last_rx_tsc = tsc;
			worker_burst(w, m, n, seq_off, ts_off, ts_flag, live_us);
			idle = 0;
			if (++since_tick >= 64) {
				since_tick = 0;
				worker_housekeeping(w, app, offline);
			}
			if (w->direct_pcap && w->st.pkts >= w->expected)
				w->input_done = 1;
			continue;
		}
		/* idle */
		if (w->input_done || app->stop) {
			/* drain: the feeder set the flag after its last enqueue */
			n = rte_eth_rx_burst(w->port, w->queue, m, NJ_BURST);
			if (n > 0) {
				worker_burst(w, m, n, seq_off, ts_off, ts_flag, wall0_us);
				continue;
			}
			break;
		}
		if (++idle % NJ_IDLE_YIELD == 0) {
			worker_housekeeping(w, app, offline);
			if (yield_idle)
				sched_yield();
		}
		if (w->direct_pcap && offline && idle > 2000000u) {
			/* the file reader stopped short of the pre-scanned count */
			NJ_WARN("worker %u: input ended after %lu of %lu packets", w->id,
				(unsigned long)w->st.pkts, (unsigned long)w->expected);
			w->input_done = 1;
		}
	}

	/* End of input: end every flow, flush events. */
	if (w->first_rx_tsc)
		w->cpu_input_ns = thread_cpu_ns();
	{
		uint64_t end = w->clock_us;

		if (app->clock_us > end)
			end = app->clock_us;
		if (offline && app->pcap_last_us > end)
			end = app->pcap_last_us;
		nj_flow_flush_all(w->flows, end);
		nj_eve_worker_flush(w->eve);
	}
	if (w->first_rx_tsc)
		w->cpu_end_ns = thread_cpu_ns();
	w->finished = 1;
	return 0;
}

/*
 * Software fan-out on the main lcore: read bursts from the source ports and
 * spread them over the worker rings by the symmetric address hash. Offline,
 * a full ring or a low mbuf pool means wait (nothing is lost); live, a full
 * ring drops and counts.
 */
void nj_fanout_main(struct nj_app *app)
{
	struct rte_mbuf *m[NJ_BURST];
	struct rte_mbuf *out[NJ_MAX_WORKERS][NJ_BURST];
	uint16_t nout[NJ_MAX_WORKERS];
	unsigned nw = app->set.workers, p = 0, idle = 0;
	int seq_off = nj_mbuf_seq_offset();
	uint64_t ts_flag = 0, seq = 0, hz = rte_get_tsc_hz();
	int ts_off = nj_mbuf_ts_offset(&ts_flag);
	bool offline = app->set.mode == NJ_MODE_OFFLINE;
	uint64_t last_stats = rte_get_tsc_cycles(), stall_since = 0, polls = 0;
	unsigned reserve = NJ_BURST * 2 + (nw + 1) * 384;

	for (;;) {
		uint16_t n, i;
		uint16_t port = app->src_ports[p];

		if (app->stop)
			break;
		if (offline && seq >= app->pcap_pkts)
			break;
		if (offline && rte_mempool_avail_count(app->pool) < reserve) {
			/* wait for workers to free mbufs rather than let the PMD drop */
			rte_pause();
			continue;
		}
		n = rte_eth_rx_burst(port, 0, m, NJ_BURST);
		if (app->nsrc_ports > 1)
			p = (p + 1) % app->nsrc_ports;
		if (n == 0) {
			if (++idle % NJ_IDLE_YIELD == 0)
				sched_yield();
			if (offline) {
				uint64_t now = rte_get_tsc_cycles();

				if (!stall_since)
					stall_since = now;
				else if (now - stall_since > 3 * hz) {
					NJ_WARN("input ended after %lu of %lu packets",
						(unsigned long)seq, (unsigned long)app->pcap_pkts);
					break;
				}
			}
			goto stats;
		}
		idle = 0;
		stall_since = 0;
		memset(nout, 0, sizeof(uint16_t) * nw);
		for (i = 0; i < n; i++) {
			struct rte_mbuf *mb = m[i];
			uint32_t h = nj_decode_fanout_hash(
				rte_pktmbuf_mtod(mb, const uint8_t *), mb->data_len,
				offline ? app->linktype : NJ_LINK_ETHERNET);
			unsigned wi = (unsigned)(((uint64_t)h * nw) >> 32);

			*RTE_MBUF_DYNFIELD(mb, seq_off, uint64_t *) = ++seq;
			if (ts_off >= 0 && (mb->ol_flags & ts_flag)) {
				uint64_t us =
					*RTE_MBUF_DYNFIELD(mb, ts_off, rte_mbuf_timestamp_t *);

				if (us > app->clock_us)
					app->clock_us = us;
			}
			app->rx_bytes += mb->pkt_len;
			out[wi][nout[wi]++] = mb;
		}
		app->rx_pkts += n;
		for (unsigned w = 0; w < nw; w++) {
			uint16_t done = 0;

			while (done < nout[w]) {
				done += rte_ring_enqueue_burst(app->rings[w],
							       (void **)&out[w][done],
							       nout[w] - done, NULL);
				if (done < nout[w]) {
					if (!offline) {
						app->ring_drops += nout[w] - done;
						rte_pktmbuf_free_bulk(&out[w][done],
								      nout[w] - done);
						break;
					}
					if (app->workers[w]->finished)
						break;
					rte_pause();
				}
			}
		}
		if (offline)
			__atomic_store_n(&app->fed_us, app->clock_us, __ATOMIC_RELEASE);
	stats:
		if (app->baseline && ++polls % 1024 == 0)
			nj_baseline_poll_workers(app);
		if (app->set.stats_enabled && app->set.stats_interval_s) {
			uint64_t now = rte_get_tsc_cycles();

			if (now - last_stats > app->set.stats_interval_s * hz) {
				last_stats = now;
				nj_stats_emit(app, app->clock_us);
			}
		}
		nj_eve_worker_tick(app->eve_ctl, rte_get_tsc_cycles() / (hz / 1000));
	}
	for (unsigned w = 0; w < nw; w++)
		app->workers[w]->input_done = 1;
}
