/* SPDX-License-Identifier: MIT */
/*
 * TCP reassembly, one table per worker core (no locks). The flow stage gives
 * each TCP packet its flow and direction; nj_stream_pkt takes the segment,
 * buffers it if it is ahead of the next expected byte, resolves overlaps by
 * the configured target policy and hands every byte that has become in-order
 * to the data callback, per direction, exactly once and in order. Missing
 * bytes that will never come (the peer acknowledged past them, the per-flow
 * buffer or the memory cap is full, the flow ends) are reported as a gap of a
 * given length, and delivery goes on after it.
 *
 * Memory: segment storage comes from a per-core pool sized by stream.memcap;
 * per-direction reassembly stops after stream.reassembly.depth bytes of app
 * data (0 = unlimited), as Suricata. Both are counted when hit.
 */
#ifndef NJ_STREAM_H
#define NJ_STREAM_H

#include <stdbool.h>
#include <stdint.h>

#include "flow.h"
#include "pkt.h"

enum nj_stream_policy {
	NJ_STREAM_POLICY_FIRST = 0, /* oldest data wins ("first", "bsd"-like for full overlap) */
	NJ_STREAM_POLICY_LAST,	    /* newest data wins */
	NJ_STREAM_POLICY_BSD,
	NJ_STREAM_POLICY_LINUX,
	NJ_STREAM_POLICY_WINDOWS, /* also "vista", "windows2k3" */
	NJ_STREAM_POLICY_SOLARIS,
	NJ_STREAM_POLICY_HPUX10,
	NJ_STREAM_POLICY_HPUX11,
	NJ_STREAM_POLICY_IRIX,
	NJ_STREAM_POLICY_MACOS,
	NJ_STREAM_POLICY_OLD_LINUX,
	NJ_STREAM_POLICY_MAX
};

/* Parses a Suricata host-os-policy / stream policy name; -1 if unknown. */
int nj_stream_policy_parse(const char *name);

struct nj_stream_config {
	uint64_t memcap;       /* bytes of segment storage on this core */
	uint32_t depth;	       /* app bytes reassembled per direction; 0 = unlimited */
	uint32_t max_segments; /* out-of-order segments held per direction (0 = default) */
	enum nj_stream_policy policy;
};

void nj_stream_config_defaults(struct nj_stream_config *cfg);

/* flags of the data callback */
#define NJ_STREAM_GAP 0x1u /* data is NULL, len bytes are missing */
#define NJ_STREAM_EOF 0x2u /* no more data in this direction (len 0) */

/*
 * In-order data for direction dir (NJ_DIR_TOSERVER 0 / NJ_DIR_TOCLIENT 1 of
 * parsers/applayer.h). data is valid only during the call.
 */
typedef void (*nj_stream_data_fn)(void *arg, struct nj_flow *f, int dir, const uint8_t *data,
				  uint32_t len, unsigned flags, const struct nj_pkt *p);

/* Stream anomalies, with Suricata's stream event names (EVE anomaly type
 * "stream"). */
typedef void (*nj_stream_event_fn)(void *arg, struct nj_flow *f, const struct nj_pkt *p,
				   const char *name);

struct nj_stream_stats {
	uint64_t segments, bytes_delivered;
	uint64_t ooo_segments; /* buffered because ahead of the next expected byte */
	uint64_t overlaps, overlaps_diff;
	uint64_t gaps, gap_bytes;
	uint64_t depth_reached; /* directions that hit stream.reassembly.depth */
	uint64_t memcap_hits;	/* segments refused: pool empty */
	uint64_t segment_limit; /* segments refused: per-direction limit */
	uint64_t memuse;
};

struct nj_stream_table;

struct nj_stream_table *nj_stream_create(const struct nj_stream_config *cfg, nj_stream_data_fn data,
					 nj_stream_event_fn event, void *arg);
void nj_stream_destroy(struct nj_stream_table *t);
const struct nj_stream_stats *nj_stream_stats(const struct nj_stream_table *t);

/* One TCP packet of flow f (p->flow == f, direction flags set by the flow
 * stage). */
void nj_stream_pkt(struct nj_stream_table *t, struct nj_flow *f, const struct nj_pkt *p);

/*
 * The flow ends: deliver what can be delivered (buffered segments after a
 * hole are delivered after a gap), then EOF for both directions, and free the
 * flow's stream state (f->stream_state).
 */
void nj_stream_flow_end(struct nj_stream_table *t, struct nj_flow *f);

/* The flow's orientation was reversed (nj_flow_swap): swap the per-direction
 * state. */
void nj_stream_swap(struct nj_flow *f);

#endif
