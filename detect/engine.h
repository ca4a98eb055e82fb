/* SPDX-License-Identifier: MIT */
/*
 * The detection engine at run time: built once from the loaded rules
 * (nj_detect_rules, detect.h) into read-only tables shared by every core —
 * Hyperscan prefilter databases per buffer, signature groups by protocol and
 * port, non-prefilterable signatures — and one nj_detect_thread per worker
 * core with its own scratch (Hyperscan scratch, PCRE2 match data, candidate
 * lists, thresholds). The worker calls it at three points:
 *
 *  - nj_detect_burst: after decode and flow, on every packet of the burst
 *    (packet rules: ip/icmp/udp/tcp rules that inspect the packet payload or
 *    headers only);
 *  - nj_detect_stream: reassembled in-order TCP data of a direction (tcp
 *    rules with content inspect the stream as Suricata does);
 *  - nj_detect_tx: when a direction of an app-layer transaction completes
 *    (sticky buffers of the parsers: http.uri, dns.query, tls.sni, ...).
 *
 * Alerts are written as EVE "alert" events through the thread's EVE handle.
 * Per-flow detection state (flowbits, flowint, which signatures alerted once
 * per tx) hangs off flow->detect_state and is released by nj_detect_flow_end.
 */
#ifndef NJ_DETECT_ENGINE_H
#define NJ_DETECT_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

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

/* Per core; eve may be NULL (no alerts written, still counted). */
struct nj_detect_thread *nj_detect_thread_create(const struct nj_detect_engine *e,
						 struct nj_eve_worker *eve);
void nj_detect_thread_free(struct nj_detect_thread *t);
const struct nj_detect_stats *nj_detect_thread_stats(const struct nj_detect_thread *t);

/* Packet rules over a decoded, flow-assigned burst. */
void nj_detect_burst(struct nj_detect_thread *t, struct nj_pkt *pkts, uint16_t n);

/*
 * In-order reassembled data of direction dir (0 to server, 1 to client) of a
 * TCP flow; p is the packet that made it available (may be NULL at flow end).
 */
void nj_detect_stream(struct nj_detect_thread *t, struct nj_flow *f, int dir, const uint8_t *data,
		      uint32_t len, const struct nj_pkt *p);

/* A direction of an app-layer transaction is complete (nj_al_tx_hook signature). */
void nj_detect_tx(void *thread, struct nj_flow *f, const struct nj_app_parser *parser,
		  struct nj_al_tx *tx, int dir);

/* The flow ends: release its detection state. */
void nj_detect_flow_end(struct nj_detect_thread *t, struct nj_flow *f);

#endif
