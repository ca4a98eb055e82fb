/* SPDX-License-Identifier: MIT */
/*
 * Per-packet metadata. Workers keep one array of NJ_BURST of these per core and
 * fill it a burst at a time: decode, then flow, then (later) app-layer and
 * detection, then output. The first cache line holds what every stage reads.
 *
 * No DPDK types here: decode, flow and export are plain C and unit-tested
 * without EAL. `priv` carries the rte_mbuf pointer for the dataplane.
 */
#ifndef NJ_PKT_H
#define NJ_PKT_H

#include <stdbool.h>
#include <stdint.h>

#include "../common/nj_common.h"

/* Link types, numbered as pcap's DLT_ values so the pcap header maps directly. */
enum nj_linktype {
	NJ_LINK_NULL = 0, /* BSD loopback: 4-byte AF in host order */
	NJ_LINK_ETHERNET = 1,
	NJ_LINK_PPP = 9,
	NJ_LINK_RAW = 101,   /* raw IPv4/IPv6, version from the first nibble */
	NJ_LINK_CHDLC = 104, /* Cisco HDLC: address, control, ethertype */
	NJ_LINK_LINUX_SLL = 113,
	NJ_LINK_IPV4 = 228,
	NJ_LINK_IPV6 = 229,
	NJ_LINK_LINUX_SLL2 = 276,
};

/* pkt->flags */
#define NJ_PKT_IPV4	     0x0001u
#define NJ_PKT_IPV6	     0x0002u
#define NJ_PKT_HAS_L4	     0x0004u /* sport/dport (or ICMP type/code mapping) valid */
#define NJ_PKT_FRAGMENT	     0x0008u /* an IP fragment; not flow-tracked itself */
#define NJ_PKT_REASSEMBLED   0x0010u /* data points at a defrag buffer, not the mbuf */
#define NJ_PKT_INVALID	     0x0020u /* decode stopped early; counted, not flow-tracked */
#define NJ_PKT_TOSERVER	     0x0040u /* set by flow: direction relative to the flow */
#define NJ_PKT_TOCLIENT	     0x0080u
#define NJ_PKT_IPV4_CSUM_BAD 0x0100u
#define NJ_PKT_L4_CSUM_BAD   0x0200u
#define NJ_PKT_ICMP_ERROR    0x0400u /* ICMP error carrying an embedded header */
#define NJ_PKT_ETH	     0x0800u /* eth_off is an Ethernet header (MAC addresses) */
#define NJ_PKT_TCP_SIZES     0x1000u /* tcp_size[] holds the session's sizes as of this packet */
/* set by flow: the flow was established when this packet arrived (Suricata's
 * FLOW_PKT_ESTABLISHED: TCP state before this packet, else both directions seen) */
#define NJ_PKT_ESTABLISHED 0x2000u

/* Up to this many decoder events are remembered per packet (all are counted). */
#define NJ_PKT_MAX_EVENTS 4

struct nj_flow;

struct nj_pkt {
	/* --- first cache line: hot for every stage --- */
	const uint8_t *data;   /* start of the link header (or of L3 if reassembled) */
	uint64_t ts_us;	       /* capture time, microseconds since the epoch */
	struct nj_flow *flow;  /* set by the flow stage, NULL if not flow-tracked */
	void *priv;	       /* owner's handle (the rte_mbuf), untouched by stages */
	uint32_t len;	       /* bytes at data */
	uint32_t hash;	       /* symmetric flow hash (0 until decoded) */
	uint16_t flags;	       /* NJ_PKT_* */
	uint16_t l3_off;       /* offset of the IP header from data */
	uint16_t l4_off;       /* offset of the TCP/UDP/ICMP header */
	uint16_t payload_off;  /* offset of the L4 payload */
	uint16_t payload_len;  /* bytes of L4 payload actually present */
	uint16_t sport, dport; /* host order; ICMP: type and mapped counterpart */
	uint8_t proto;	       /* IP protocol (6, 17, 1, 58, ...) */
	uint8_t tcp_flags;
	uint8_t ip_ttl;
	uint8_t nevents;      /* entries used in events[] */
	uint8_t tunnel_depth; /* IP tunnels (IP-in-IP, GRE) looked through to reach l3_off */
	uint8_t flow_depth;   /* tunnel_depth if it takes part in the flow key, else 0 */

	/* --- second cache line: less hot --- */
	uint64_t seq;	   /* 1-based packet number in the capture (pcap_cnt) */
	uint32_t wire_len; /* original length on the wire */
	uint16_t vlan[3];  /* VLAN ids, outermost first, 0 = none (Suricata keeps 3) */
	uint8_t nvlan;
	uint8_t icmp_type, icmp_code;
	uint16_t linktype;		    /* enum nj_linktype of this packet's capture */
	uint16_t events[NJ_PKT_MAX_EVENTS]; /* enum nj_decode_event */
	uint32_t tcp_seq, tcp_ack;
	uint16_t tcp_win;
	uint16_t ip_id;
	uint16_t l3_len;  /* IP total length as claimed and validated */
	uint16_t eth_off; /* innermost Ethernet header if NJ_PKT_ETH (Suricata's ethh) */
	uint32_t esp_spi; /* ESP (proto 50) with NJ_PKT_HAS_L4: the SPI, host order */
	/*
	 * Set by the flow stage for TCP (NJ_PKT_TCP_SIZES): next_seq - isn of the client [0]
	 * and the server [1] right after this packet, for stream_size (the flow stage handles
	 * a whole burst before detection).
	 */
	uint32_t tcp_size[2];
};

_Static_assert(sizeof(struct nj_pkt) <= 128, "struct nj_pkt fits two cache lines");

/* Addresses are read in place: 4 or 16 bytes at data + l3_off + offset. */
static inline const uint8_t *nj_pkt_src(const struct nj_pkt *p)
{
	return p->data + p->l3_off + ((p->flags & NJ_PKT_IPV6) ? 8 : 12);
}

static inline const uint8_t *nj_pkt_dst(const struct nj_pkt *p)
{
	return p->data + p->l3_off + ((p->flags & NJ_PKT_IPV6) ? 24 : 16);
}

static inline unsigned nj_pkt_addr_len(const struct nj_pkt *p)
{
	return (p->flags & NJ_PKT_IPV6) ? 16 : 4;
}

#endif
