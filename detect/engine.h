/* SPDX-License-Identifier: MIT */
/*
 * The detection engine at run time: built once from the loaded rules
 * (nj_detect_rules, detect.h) into read-only tables shared by every core —
 * signatures numbered in Suricata's order, groups by protocol class,
 * direction and server port, one Hyperscan prefilter database per candidate
 * set and buffer, an address index of the IP-only signatures — and one
 * nj_detect_thread per worker core with its own scratch (a clone of the
 * prototype Hyperscan scratch, PCRE2 match data, candidate lists, threshold
 * table). The worker calls it at these points, per burst, in this order:
 *
 *  - nj_detect_app_pkt: before each packet goes to reassembly / the
 *    app-layer, so that transaction and stream matches are tied to it;
 *  - nj_detect_tx: when a direction of an app-layer transaction completes
 *    (sticky buffers of the parsers: http.uri, dns.query, tls.sni, ...);
 *  - nj_detect_stream: reassembled in-order TCP data of a direction (tcp
 *    rules with payload contents inspect the stream as Suricata does);
 *  - nj_detect_burst: after decode, flow and the app-layer, every packet of
 *    the burst (packet and IP-only rules, and the stream data of the packet,
 *    in one signature order); then the packet's alerts are written.
 *  - nj_detect_flow_end: at flow end, before the flow event.
 *
 * Alerts are EVE "alert" events (Suricata 8 layout) through the thread's EVE
 * handle. Per-flow detection state (flowbits, flowint, stream tails, pass,
 * per-transaction de-duplication) hangs off flow->detect_state and is
 * released by nj_detect_flow_end. docs/rules.md ("Engine") has the semantics.
 */
#ifndef NJ_DETECT_ENGINE_H
#define NJ_DETECT_ENGINE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct nj_conf;
struct nj_detect_rules;
struct nj_eve_worker;
struct nj_flow;
struct nj_pkt;
struct nj_app_parser;
struct nj_al_tx;

struct nj_detect_engine;
struct nj_detect_thread;

struct nj_detect_stats {
	uint64_t pkts_inspected, prefilter_hits, sigs_evaluated, alerts;
	uint64_t stream_bytes, txs_inspected;
	uint64_t alerts_suppressed; /* threshold / detection_filter */
	uint64_t alert_queue_full;  /* more alerts on a packet than the queue holds */
	uint64_t alert_meta_full;   /* alert app-layer objects left out: arena full */
	/* compatible additions: keep every member a uint64_t (summed as arrays) */
	uint64_t pass;		  /* pass rules that matched (the rest of the packet suppressed) */
	uint64_t flow_state_full; /* per-flow state refused: nightjar.detect.flow-states */
	uint64_t stream_tail_memcap;	 /* stream tails not kept: stream-tail-memcap */
	uint64_t threshold_evicted;	 /* threshold entries replaced while still in use */
	uint64_t pf_scans, pf_hit_scans; /* prefilter database scans, those with a candidate */
	uint64_t encrypted_flows; /* TLS flows whose encrypted stream is no longer inspected */
	uint64_t filestore_marks; /* files marked for storing by filestore signatures */
};

/*
 * Builds the engine from loaded rules (which must outlive it). conf may be
 * NULL. Returns NULL with a message on failure (a Hyperscan compile error
 * is reported with the signature that caused it). A NULL or empty rule set
 * gives an engine that inspects nothing.
 */
struct nj_detect_engine *nj_detect_engine_build(const struct nj_detect_rules *rules,
						const struct nj_conf *conf);
void nj_detect_engine_free(struct nj_detect_engine *e);
/* Signatures active in the engine. */
unsigned nj_detect_engine_sig_count(const struct nj_detect_engine *e);
/* One line: signatures by kind, groups, prefilter databases, build time. */
void nj_detect_engine_print_summary(FILE *out, const struct nj_detect_engine *e);

/* Per core; eve may be NULL (no alerts written, still counted). */
struct nj_detect_thread *nj_detect_thread_create(const struct nj_detect_engine *e,
						 struct nj_eve_worker *eve);
void nj_detect_thread_free(struct nj_detect_thread *t);
/* The core's files: a transaction signature with filestore marks its files for storing. */
struct nj_files;
void nj_detect_thread_set_files(struct nj_detect_thread *t, struct nj_files *fs);
const struct nj_detect_stats *nj_detect_thread_stats(const struct nj_detect_thread *t);

/*
 * The packet the worker is about to give to the app-layer (before
 * nj_stream_pkt / nj_al_udp): transaction alerts raised while it is parsed
 * belong to it (pcap_cnt, payload, ordering with its other alerts). Reset by
 * nj_detect_burst. Without it, transaction alerts are written at once,
 * oriented by the transaction's direction, without pcap_cnt.
 */
void nj_detect_app_pkt(struct nj_detect_thread *t, const struct nj_pkt *p);
/*
 * The burst whose packets nj_detect_app_pkt will name: on an established TCP
 * session, a transaction direction completed by the peer's acknowledgement
 * alerts on the flow's next packet of that direction (in this burst, or a
 * later one, or at flow end), as Suricata's IDS mode inspects it then.
 */
void nj_detect_app_burst(struct nj_detect_thread *t, const struct nj_pkt *pkts, uint16_t n);

/* Packet rules over a decoded, flow-assigned burst. */
void nj_detect_burst(struct nj_detect_thread *t, struct nj_pkt *pkts, uint16_t n);

/*
 * In-order reassembled data of direction dir (0 to server, 1 to client) of a
 * TCP flow; p is the packet that made it available (NULL at flow end). With
 * a packet the data is inspected when nj_detect_burst reaches that packet
 * (data outside the packet's payload is copied until then); without one, at
 * once.
 */
void nj_detect_stream(struct nj_detect_thread *t, struct nj_flow *f, int dir, const uint8_t *data,
		      uint32_t len, const struct nj_pkt *p);

/*
 * In-order reassembled data (or, with gap, a hole of len bytes) of direction
 * dir, as the worker gets it from reassembly; end_seq is the sequence number
 * just past it. Inspected as Suricata does in IDS mode: by the packets of
 * that direction, up to what the peer has acknowledged, and what was never
 * acknowledged at flow end (nj_detect_flow_end). Held bytes are copied (up
 * to 256 KiB per direction, within nightjar.detect.stream-tail-memcap;
 * beyond, inspected at once). Matches do not span a hole; the alert payload
 * shows it as "[N bytes missing]".
 */
void nj_detect_stream_data(struct nj_detect_thread *t, struct nj_flow *f, int dir,
			   const uint8_t *data, uint32_t len, bool gap, uint32_t end_seq,
			   const struct nj_pkt *p);

/*
 * A TCP stream event (Suricata's name, "stream.reassembly_depth_reached") on
 * packet p of flow f: the stream-event signatures naming it are evaluated on p.
 */
void nj_detect_stream_event(struct nj_detect_thread *t, struct nj_flow *f, const struct nj_pkt *p,
			    const char *name);

/* A direction of an app-layer transaction is complete (nj_al_tx_hook signature). */
void nj_detect_tx(void *thread, struct nj_flow *f, const struct nj_app_parser *parser,
		  struct nj_al_tx *tx, int dir);

/* The flow's orientation was reversed (nj_flow_swap): swap the per-direction stream state. */
void nj_detect_flow_swap(struct nj_flow *f);

/* The flow ends: release its detection state. */
void nj_detect_flow_end(struct nj_detect_thread *t, struct nj_flow *f);

/*
 * The flow ends: inspect what is still pending and flush its alerts, but keep its
 * state (flowbits ...) for the flow event; nj_detect_flow_end then releases it.
 */
void nj_detect_flow_finish(struct nj_detect_thread *t, struct nj_flow *f);

/*
 * An alert raised outside the rules (YARA on a carved file): Suricata's
 * "alert" event with the same flow context as a rule's alert (tuple,
 * community_id, pcap_cnt, app_proto, direction, "flow"). The callbacks add
 * keys: alert_fn inside "alert" (metadata), pre_flow_fn before "app_proto"
 * (the protocol's object, e.g. "http"), post_flow_fn at the end (e.g.
 * "fileinfo"). Written only when the EVE output wants alerts.
 */
struct nj_json;
struct nj_alert_ext {
	uint32_t gid, sid, rev, severity;
	const char *signature, *category;
	bool flow; /* the "flow" object (eve-log alert metadata option) */
	bool tx_id_set;
	uint64_t tx_id;
	void (*alert_fn)(struct nj_json *j, const void *arg);
	void (*pre_flow_fn)(struct nj_json *j, const void *arg); /* gets pre_flow_arg */
	void (*post_flow_fn)(struct nj_json *j, const void *arg);
	const void *arg, *pre_flow_arg;
};
void nj_alert_write_ext(struct nj_eve_worker *eve, const struct nj_alert_ext *x, struct nj_flow *f,
			int dir, uint64_t ts_us, uint64_t pcap_cnt);

#endif
