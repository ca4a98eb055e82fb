/* SPDX-License-Identifier: MIT */
/*
 * ICMP echo analysis per flow: requests and replies paired by (identifier,
 * sequence), round-trip times, payload sizes, unanswered requests, and the
 * "icmp" object of the flow event (docs/icmp-beacon.md).
 *
 * For ICMP flows (proto 1 and 58) struct nj_flow.app_state belongs to this
 * module: the app-layer framework only touches TCP/UDP flows. The state is
 * allocated at the flow's first ICMP packet, bounded by a per-core memcap
 * (refusals counted: such flows are still observed for beacons, only not
 * paired), and freed by nj_icmp_flow_end.
 *
 * Anomalies the decoder does not already raise are reported through a
 * callback, at most once per flow and name (every occurrence is counted):
 *   icmp.echo_reply_without_request   a reply that pairs with no request
 *   icmp.echo_duplicate_reply          a second reply to an answered request
 *   icmp.echo_reply_length_mismatch    reply payload size differs from the request's
 *   icmp.echo_reply_payload_mismatch   same size, other bytes (tunnels carry data back)
 *   icmp.echo_large_payload            echo payload above max_echo_payload
 * Malformed headers (too short, unknown type or code for the type, bad
 * quoted header) are the decoder's events (icmpv4.* / icmpv6.*, Suricata's
 * names), already in the packet's events.
 *
 * Each echo request is also an observation for the beacon detector
 * (nj_icmp_set_beacon): sender -> receiver, ICMP type, packet time, payload.
 *
 * One context per worker core; no locks.
 */
#ifndef NJ_ICMP_H
#define NJ_ICMP_H

#include <stdbool.h>
#include <stdint.h>

struct nj_conf;
struct nj_flow;
struct nj_json;
struct nj_pkt;
struct nj_beacon;

struct nj_icmp_config {
	bool enabled;
	uint32_t max_outstanding; /* echo requests remembered per flow (answered or not) */
	uint32_t echo_timeout_s; /* a request older than this is given up when its slot is needed */
	uint32_t max_echo_payload; /* icmp.echo_large_payload above this; 0: never */
	uint64_t memcap;	   /* bytes of per-flow state per core (config: total) */
};

void nj_icmp_config_defaults(struct nj_icmp_config *cfg);
/* Reads nightjar.icmp.*; 0, or -1 after printing file:line and the reason. */
int nj_icmp_config_load(struct nj_icmp_config *cfg, const struct nj_conf *c);

/* Per-core counters, all uint64_t (summed over cores as arrays). */
struct nj_icmp_stats {
	uint64_t pkts;	 /* ICMP packets seen */
	uint64_t flows;	 /* flows given state */
	uint64_t memcap; /* flows refused state: memcap reached */
	uint64_t echo_requests, echo_replies;
	uint64_t echo_matched;	   /* replies paired with a request */
	uint64_t echo_unanswered;  /* requests never answered (counted at flow end) */
	uint64_t echo_duplicates;  /* replies to an answered request */
	uint64_t echo_unsolicited; /* replies without a request */
	uint64_t echo_late;	   /* replies to a request pushed out of a full table */
	uint64_t table_full;	   /* outstanding requests pushed out before their timeout */
	uint64_t errors;	   /* ICMP error messages (unreachable, time exceeded, ...) */
	uint64_t anomalies;	   /* anomaly occurrences (all, not only the reported) */
	uint64_t memuse;	   /* gauge: bytes of state held */
};

void nj_icmp_stats_foreach(const struct nj_icmp_stats *s,
			   void (*fn)(void *arg, const char *name, uint64_t v), void *arg);

typedef void (*nj_icmp_anomaly_fn)(void *arg, const struct nj_pkt *p, const char *name);

struct nj_icmp;

struct nj_icmp *nj_icmp_create(const struct nj_icmp_config *cfg);
/* Frees the context; flows still holding state must have been ended first. */
void nj_icmp_destroy(struct nj_icmp *ctx);
const struct nj_icmp_stats *nj_icmp_stats(const struct nj_icmp *ctx);
void nj_icmp_set_anomaly_cb(struct nj_icmp *ctx, nj_icmp_anomaly_fn fn, void *arg);
/* Echo requests become beacon observations (NULL: none). */
void nj_icmp_set_beacon(struct nj_icmp *ctx, struct nj_beacon *b);

/*
 * Every ICMP packet (proto 1 or 58, decoded with NJ_PKT_HAS_L4) of flow f,
 * after the flow stage set NJ_PKT_TOSERVER/TOCLIENT. Other packets are ignored.
 */
void nj_icmp_pkt(struct nj_icmp *ctx, struct nj_flow *f, const struct nj_pkt *p);
/* Frees the flow's state (sets app_state NULL); call after the flow event is written. */
void nj_icmp_flow_end(struct nj_icmp *ctx, struct nj_flow *f);
/*
 * Writes "icmp":{...} into an event being built (the flow event), if the
 * flow has ICMP state with echo traffic or errors; nothing otherwise.
 */
void nj_icmp_log_flow(struct nj_json *j, const struct nj_flow *f);

#endif
