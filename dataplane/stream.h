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
 * Timing (Suricata's IDS mode, ack_delivery): on an established session
 * (f->tcp_state) whose receiver has sent packets, in-order bytes are held in
 * the segment blocks until the receiver acknowledges them, then handed over
 * on the acknowledging packet (p of the other direction). A RST hands over
 * what is held in order, the flow's end everything, and a segment that
 * cannot be stored (limits) and data on a SYN (TCP Fast Open) are handed
 * over at once. Without a session, with
 * one side captured, or with ack_delivery off (stream.inline), bytes are
 * handed over as they become in order.
 *
 * Memory: segment storage comes from a per-core pool sized by
 * stream.reassembly.memcap (2 KiB blocks addressed by stream offset), the
 * per-flow state (520 bytes) from one sized by stream.memcap; nothing is
 * allocated per packet. Per-direction reassembly stops after
 * stream.reassembly.depth bytes of app data (0 = unlimited), as Suricata.
 * All are counted when hit.
 *
 * Segments are taken as the receiving host would take them: with
 * checksum_validation, a packet whose IP or TCP checksum decode found wrong
 * (NJ_PKT_*_CSUM_BAD) is ignored; data on a segment without the ACK
 * flag (other than a SYN) is ignored, as every stack drops it; keep-alives (one byte below the next sequence number) are
 * not data; data after the FIN, or after a RST, is not delivered (segments
 * held past a hole when the RST comes are, flagged NJ_STREAM_RAW_ONLY: the
 * hole is given up quietly, no gap counted, as Suricata inspects a reset
 * stream's unacknowledged data). Bytes
 * already delivered are final: a retransmission that carries different bytes
 * raises "stream.reassembly_overlap_different_data" but does not change what
 * was delivered (the check compares a hash of the bytes of the last few
 * delivered segments; see check_retrans).
 */
#ifndef NJ_STREAM_H
#define NJ_STREAM_H

#include <stdbool.h>
#include <stdint.h>

#include "flow.h"
#include "pkt.h"

/*
 * Overlap policies of the target-based table (Novak and Sturges), with the
 * decisions of Suricata's stream engine. For each stored segment that a new
 * segment overlaps, the new bytes win (over the overlapping part) when:
 *   first, vista:              never
 *   last:                      always
 *   bsd, windows, hpux10, irix, macos: the new segment starts before the stored one
 *   linux:                     it starts before, or at the same byte and ends after it
 *   old-linux:                 it starts before, or at the same byte and does not end before
 *   solaris, hpux11:           it ends after the stored one, or ends at the same byte
 *                              and does not start after it
 * and the stored bytes stay otherwise.
 */
enum nj_stream_policy {
	NJ_STREAM_POLICY_FIRST = 0, /* oldest data wins; also "bsd-right", "old-solaris" */
	NJ_STREAM_POLICY_LAST,	    /* newest data wins */
	NJ_STREAM_POLICY_BSD,	    /* also "none" (Suricata's default) */
	NJ_STREAM_POLICY_LINUX,
	NJ_STREAM_POLICY_WINDOWS, /* also "windows2k3" */
	NJ_STREAM_POLICY_SOLARIS,
	NJ_STREAM_POLICY_HPUX10,
	NJ_STREAM_POLICY_HPUX11,
	NJ_STREAM_POLICY_IRIX,
	NJ_STREAM_POLICY_MACOS,
	NJ_STREAM_POLICY_OLD_LINUX,
	NJ_STREAM_POLICY_VISTA, /* Windows Vista and later: keeps the oldest data */
	NJ_STREAM_POLICY_MAX
};

/* Parses a Suricata host-os-policy / stream policy name; -1 if unknown. */
int nj_stream_policy_parse(const char *name);
const char *nj_stream_policy_name(enum nj_stream_policy pol);

/*
 * Optional: the policy of the host that receives a direction (Suricata's
 * host-os-policy), asked once per direction when a flow's stream starts.
 * addr is 4 or 16 bytes (ipv6). Returns an enum nj_stream_policy, or -1 for
 * the configured default.
 */
typedef int (*nj_stream_host_policy_fn)(void *arg, const uint8_t *addr, bool ipv6);

struct nj_stream_config {
	uint64_t memcap;       /* bytes of segment storage on this core */
	uint32_t depth;	       /* app bytes reassembled per direction; 0 = unlimited */
	uint32_t max_segments; /* out-of-order segments held per direction (0 = default) */
	enum nj_stream_policy policy;
	/* compatible additions (nj_stream_config_defaults fills them) */
	uint64_t ssn_memcap;	  /* bytes of per-flow stream state on this core (stream.memcap) */
	bool check_retrans;	  /* hash delivered bytes to flag retransmissions with other data */
	bool checksum_validation; /* ignore packets decode found with a bad checksum (off) */
	/* IDS timing (on): on an established session a direction's data is handed over
	 * once the receiver acknowledged it (RST and flow end hand over the rest) */
	bool ack_delivery;
	nj_stream_host_policy_fn host_policy; /* NULL: policy for every host */
	void *host_policy_arg;
};

void nj_stream_config_defaults(struct nj_stream_config *cfg);

/* flags of the data callback */
#define NJ_STREAM_GAP 0x1u /* data is NULL, len bytes are missing */
#define NJ_STREAM_EOF 0x2u /* no more data in this direction (len 0) */
/* with data or GAP: held past a hole when a RST came; for raw inspection, not the app-layer */
#define NJ_STREAM_RAW_ONLY 0x4u

/*
 * In-order data for direction dir (NJ_DIR_TOSERVER 0 / NJ_DIR_TOCLIENT 1 of
 * parsers/applayer.h). data is valid only during the call. p is the packet
 * that made the data deliverable (it may be of the other direction: an ACK
 * past a hole), NULL at flow end.
 */
typedef void (*nj_stream_data_fn)(void *arg, struct nj_flow *f, int dir, const uint8_t *data,
				  uint32_t len, unsigned flags, const struct nj_pkt *p);

/*
 * Stream anomalies, with Suricata's stream event names (EVE anomaly type
 * "stream"): stream.reassembly_overlap_different_data,
 * stream.reassembly_seq_gap, stream.reassembly_depth_reached,
 * stream.suspected_rst_inject. p is NULL at flow end.
 */
typedef void (*nj_stream_event_fn)(void *arg, struct nj_flow *f, const struct nj_pkt *p,
				   const char *name);

/*
 * A per-flow reassembly depth (Suricata's TcpSessionSetReassemblyDepth, used
 * for file-store stream-depth): taken only when above the flow's current depth
 * or 0 (unlimited), as Suricata; from then on, as Suricata, a segment that
 * would cross the depth is dropped whole and ends reassembly of its
 * direction (the global stream.reassembly.depth cuts the segment instead).
 * No effect on a flow without stream state or a direction already past it.
 */
void nj_stream_flow_set_depth(struct nj_flow *f, uint32_t depth);
/* Direction dir of f stopped at its depth. */
bool nj_stream_depth_reached(const struct nj_flow *f, int dir);

/* Every member a uint64_t: the stats code sums them as arrays. */
struct nj_stream_stats {
	uint64_t segments, bytes_delivered; /* data segments taken; data bytes delivered */
	uint64_t ooo_segments;		    /* buffered because ahead of the next expected byte */
	/* segments over buffered or delivered data; of which with other bytes */
	uint64_t overlaps, overlaps_diff;
	uint64_t gaps, gap_bytes;
	uint64_t depth_reached; /* directions that hit stream.reassembly.depth */
	uint64_t memcap_hits;	/* segments refused: pool empty */
	uint64_t segment_limit; /* segments refused: per-direction limit */
	uint64_t memuse;	/* bytes of segment storage in use */
	/* compatible additions */
	uint64_t retransmissions; /* segments (partly) below the next expected byte */
	uint64_t keepalives;	  /* one byte below the next expected byte: not data */
	uint64_t no_ack;	  /* segments with data or FIN but no ACK flag: ignored */
	uint64_t out_of_window;	  /* segments more than 1 GiB off the stream: ignored */
	uint64_t after_eof;	  /* data after the FIN or a RST: not delivered */
	uint64_t rst_ignored;	  /* RSTs with a sequence number outside the stream */
	uint64_t ssn_memcap_hits; /* flows not reassembled: stream state pool empty */
	uint64_t ssn_active;	  /* flows holding stream state */
	uint64_t ssn_memuse;	  /* bytes of stream state in use */
	uint64_t bad_checksum;	  /* checksum verified by decode and wrong: ignored */
};

struct nj_stream_table;

/*
 * Preallocates (without touching) the segment pool from cfg->memcap and the
 * per-flow state pool from cfg->ssn_memcap. NULL on failure (errno).
 */
struct nj_stream_table *nj_stream_create(const struct nj_stream_config *cfg, nj_stream_data_fn data,
					 nj_stream_event_fn event, void *arg);
/* Per-flow state lives in the table: end every flow that holds some first. */
void nj_stream_destroy(struct nj_stream_table *t);
const struct nj_stream_stats *nj_stream_stats(const struct nj_stream_table *t);

/* One TCP packet of flow f (p->flow == f, direction flags set by the flow stage). */
void nj_stream_pkt(struct nj_stream_table *t, struct nj_flow *f, const struct nj_pkt *p);

/*
 * The flow ends: deliver what can be delivered (buffered segments after a
 * hole are delivered after a gap), then EOF for both directions, and free the
 * flow's stream state (f->stream_state).
 */
void nj_stream_flow_end(struct nj_stream_table *t, struct nj_flow *f);

/*
 * The sequence number of the next byte of direction dir to deliver (during
 * the data callback: the one just past the data or gap handed over); 0
 * without stream state.
 */
uint32_t nj_stream_next_seq(const struct nj_flow *f, int dir);

/*
 * The flow's orientation was reversed (nj_flow_swap): swap the per-direction
 * state (offsets, buffered data, policies, history, which side sent a RST).
 */
void nj_stream_swap(struct nj_flow *f);

#endif
