/* SPDX-License-Identifier: MIT */
/*
 * Decoder events: one X-macro table (enum name, Suricata's event name). The
 * Suricata names are what EVE anomaly events and stats counters carry
 * (anomaly.event "ipv4.trunc_pkt", stats decoder.event.ipv4.trunc_pkt).
 * Entries are appended by the decoder module; nothing else enumerates them.
 */
#ifndef NJ_DECODE_EVENTS_H
#define NJ_DECODE_EVENTS_H

#define NJ_DECODE_EVENTS(X)                                   \
	X(ETHERNET_PKT_TOO_SMALL, "ethernet.pkt_too_small")   \
	X(VLAN_HEADER_TOO_SMALL, "vlan.header_too_small")     \
	X(VLAN_UNKNOWN_TYPE, "vlan.unknown_type")             \
	X(VLAN_TOO_MANY_LAYERS, "vlan.too_many_layers")       \
	X(SLL_PKT_TOO_SMALL, "sll.pkt_too_small")             \
	X(IPV4_PKT_TOO_SMALL, "ipv4.pkt_too_small")           \
	X(IPV4_HLEN_TOO_SMALL, "ipv4.hlen_too_small")         \
	X(IPV4_IPLEN_SMALLER_THAN_HLEN, "ipv4.iplen_smaller_than_hlen") \
	X(IPV4_TRUNC_PKT, "ipv4.trunc_pkt")                   \
	X(IPV4_WRONG_IP_VERSION, "ipv4.wrong_ip_version")     \
	X(IPV6_PKT_TOO_SMALL, "ipv6.pkt_too_small")           \
	X(IPV6_TRUNC_PKT, "ipv6.trunc_pkt")                   \
	X(IPV6_WRONG_IP_VERSION, "ipv6.wrong_ip_version")     \
	X(TCP_PKT_TOO_SMALL, "tcp.pkt_too_small")             \
	X(TCP_HLEN_TOO_SMALL, "tcp.hlen_too_small")           \
	X(TCP_INVALID_OPTLEN, "tcp.invalid_optlen")           \
	X(UDP_PKT_TOO_SMALL, "udp.pkt_too_small")             \
	X(UDP_HLEN_TOO_SMALL, "udp.hlen_too_small")           \
	X(UDP_HLEN_INVALID, "udp.hlen_invalid")               \
	X(ICMPV4_PKT_TOO_SMALL, "icmpv4.pkt_too_small")       \
	X(ICMPV6_PKT_TOO_SMALL, "icmpv6.pkt_too_small")       \
	X(DECODER_UNSUPPORTED_LINKTYPE, "decoder.unsupported_linktype")

enum nj_decode_event {
#define NJ_X(e, s) NJ_DEV_##e,
	NJ_DECODE_EVENTS(NJ_X)
#undef NJ_X
	NJ_DEV_MAX
};

extern const char *const nj_decode_event_names[NJ_DEV_MAX];

#endif
