/* SPDX-License-Identifier: MIT */
/*
 * Packet decoding: link layer (Ethernet, 802.1Q/QinQ, SLL, raw, null), IPv4
 * with options, IPv6 with extension headers, TCP with options, UDP, ICMPv4/v6,
 * and IPv4/IPv6 defragmentation.
 *
 * Contract: decode never fails. A malformed packet gets decoder events
 * (counted in nj_decode_stats.events[], the first few distinct ones kept in
 * pkt->events) and the NJ_PKT_INVALID flag if decoding could not reach a
 * usable L3/L4. Events and their order follow Suricata's decoders.
 *
 * Up to 3 VLAN tags (802.1Q, 802.1ad, 0x9100) are kept in pkt->vlan, as
 * Suricata does; a 4th is vlan.too_many_layers. VN-Tag (0x8926), Cisco DCE
 * (0x8903, an Ethernet header inside) and MPLS (0x8847/0x8848, with IPv4,
 * IPv6 or Ethernet pseudowire inside) are looked through. As Suricata's
 * decoder.max-layers, the 16th link-level header (Ethernet, VLAN, VN-Tag,
 * MPLS) makes the packet invalid with the too_many_layers event.
 *
 * Snaplen cuts: when wire_len > len and the IP header is complete but claims
 * more bytes than were captured, the packet is decoded as far as captured
 * (payload_len = bytes present), without ipv4/ipv6.trunc_pkt and without L4
 * checksum checks; such fragments are flagged but not reassembled. Set
 * wire_len = len to get Suricata's strict behaviour (trunc_pkt, invalid).
 *
 * Defragmentation: a fragment is flagged NJ_PKT_FRAGMENT. When the fragment
 * that completes a datagram arrives, that nj_pkt is rewritten to describe the
 * whole datagram (data points at a per-core reassembly buffer, flag
 * NJ_PKT_REASSEMBLED, l3_off 0) and decoded up to L4. Reassembly buffers stay
 * valid until the next nj_decode_burst_begin() on the same context.
 *
 * One context per worker core; no locks, no allocation after create.
 */
#ifndef NJ_DECODE_H
#define NJ_DECODE_H

#include <stdbool.h>
#include <stdint.h>

#include "decode_events.h"
#include "pkt.h"

struct nj_decode_config {
	int checksum_validation;      /* 1: verify IPv4/TCP/UDP/ICMP checksums (-k none: 0) */
	uint64_t defrag_memcap;	      /* bytes for fragment state and buffers */
	uint32_t defrag_max_trackers; /* datagrams being reassembled at once */
	uint32_t defrag_timeout_s;    /* an incomplete datagram is dropped after this */
	uint32_t max_datagram;	      /* largest reassembled datagram (<= 65535 + hdrs) */
	int tunnel_tracking; /* decoder.recursion-level.use-for-tracking: depth in the flow key */
};

/*
 * Defaults: checksums on, 32 MiB memcap, 65535 trackers (fewer if the memcap
 * cannot hold them), 60 s timeout, 65535 + 40 bytes per datagram.
 */
void nj_decode_config_defaults(struct nj_decode_config *cfg);

/*
 * Counters, plain per core, summed by the stats reader (races are benign).
 * Only uint64_t members: readers sum per-core copies as uint64_t arrays.
 */
struct nj_decode_stats {
	uint64_t pkts, bytes, invalid;
	uint64_t ipv4, ipv6, ethernet, vlan, vlan_qinq, tcp, udp, icmpv4, icmpv6, other_l4;
	uint64_t avg_pkt_size_sum; /* bytes, for decoder.avg_pkt_size */
	uint64_t max_pkt_size;
	uint64_t frag_ipv4_fragments, frag_ipv6_fragments;
	uint64_t frag_ipv4_reassembled, frag_ipv6_reassembled;
	uint64_t frag_memcap, frag_max_trackers, frag_timeouts;
	uint64_t events[NJ_DEV_MAX];
	/* added after the first cut */
	uint64_t vlan_qinqinq, sctp, raw, null, sll, sll2, arp, unknown_ethertype;
	uint64_t too_many_layers;
	uint64_t frag_ipv4_timeouts, frag_ipv6_timeouts;
	uint64_t frag_memuse; /* bytes held by stored fragments now (a gauge) */
	uint64_t frag_tracker_soft_reuse;
	uint64_t vntag, mpls, esp;
	uint64_t ppp, pppoe, chdlc;
	uint64_t ipv4_tso; /* IPv4 total length 0 taken as the captured length */
	uint64_t gre, ipv4_in_ipv4, ipv6_in_ipv4, ipv4_in_ipv6, ipv6_in_ipv6;
};

/*
 * Yields every counter under Suricata's stats name (decoder.pkts,
 * defrag.ipv4.fragments, decoder.event.ipv4.trunc_pkt, ...). The names are
 * static strings.
 */
void nj_decode_stats_foreach(const struct nj_decode_stats *s,
			     void (*fn)(void *arg, const char *name, uint64_t v), void *arg);

struct nj_decode_ctx;

struct nj_decode_ctx *nj_decode_create(const struct nj_decode_config *cfg, int socket);
void nj_decode_destroy(struct nj_decode_ctx *ctx);
const struct nj_decode_stats *nj_decode_stats(const struct nj_decode_ctx *ctx);

/* Start a burst: reassembly buffers handed out for the previous burst are reused. */
void nj_decode_burst_begin(struct nj_decode_ctx *ctx);

/*
 * Decode one packet. The caller has set data, len, wire_len, ts_us, seq,
 * priv and linktype; everything else is filled here.
 */
void nj_decode_pkt(struct nj_decode_ctx *ctx, struct nj_pkt *pkt);

/* Expire incomplete datagrams older than now_us - timeout (call once per burst or less). */
void nj_decode_expire(struct nj_decode_ctx *ctx, uint64_t now_us);

/*
 * Symmetric hash of the flow tuple of a decoded packet, also filled into
 * pkt->hash by nj_decode_pkt. Both directions give the same value. Used to
 * spread packets over workers and as the flow-table hash.
 */
uint32_t nj_decode_tuple_hash(const struct nj_pkt *pkt);
/*
 * vlan.use-for-tracking (default on): with it off, VLAN ids are left out of
 * the tuple and fan-out hashes (and of the flow key, nj_flow_config). Set once
 * at start-up.
 */
void nj_decode_set_vlan_tracking(bool on);

/*
 * Light-weight parse used by the software fan-out (RX core): finds the
 * symmetric tuple hash without full validation. Returns 0 for packets with no
 * IP tuple (they go to worker 0). Fragments hash on addresses only so that all
 * fragments of a datagram meet on one worker.
 */
uint32_t nj_decode_fanout_hash(const uint8_t *data, uint32_t len, uint16_t linktype);

/*
 * ICMP "port equivalents" (as Community ID defines them, and used as the flow
 * key so that request and reply meet): *sport = type, *dport = counterpart type
 * for request/reply pairs, else the code. Returns true for one-way messages.
 */
bool nj_icmp_port_map(bool v6, uint8_t type, uint8_t code, uint16_t *sport, uint16_t *dport);

#endif
