/* SPDX-License-Identifier: MIT */
/*
 * Packet decoder: link layer to L4, checksums, decoder events, tuple hashes.
 *
 * Every length is checked against what was captured before a byte is read,
 * and every early stop is a counted event; nothing here allocates, locks or
 * logs. Event choice and order follow Suricata's decoders so that rules
 * using decode-event and the decoder.event.* counters mean the same thing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "defrag.h"

const char *const nj_decode_event_names[NJ_DEV_MAX] = {
#define NJ_X(e, s) [NJ_DEV_##e] = s,
	NJ_DECODE_EVENTS(NJ_X)
#undef NJ_X
};

const char *const nj_decode_event_eve_names[NJ_DEV_MAX] = {
#define NJ_X(e, s) [NJ_DEV_##e] = "decoder." s,
	NJ_DECODE_EVENTS(NJ_X)
#undef NJ_X
};

/* An IPv6 chain longer than this is an attack, not a packet. */
#define NJ_IPV6_MAX_EXTHDRS 32
/* Offsets in nj_pkt are 16 bits; leave room for an L4 header after them. */
#define NJ_MAX_L4_OFF (UINT16_MAX - 64)

#define ETH_P_IPV4     0x0800
#define ETH_P_ARP      0x0806
#define ETH_P_VLAN     0x8100
#define ETH_P_QINQ     0x88a8
#define ETH_P_QINQ_OLD 0x9100
#define ETH_P_IPV6     0x86dd
#define ETH_P_MPLS_UC  0x8847
#define ETH_P_MPLS_MC  0x8848
#define ETH_P_DCE      0x8903
#define ETH_P_VNTAG    0x8926

/* Suricata's default decoder.max-layers: the 16th link-level header is too many. */
#define NJ_MAX_LAYERS 16

struct nj_decode_ctx {
	struct nj_decode_stats st;
	struct nj_defrag *defrag;
	int csum;
	/* decoding a reassembled datagram: no second defrag, no double counts */
	int in_reasm;
	/* this packet was cut by the capture snaplen: lengths cannot be checked */
	int snap;
	struct nj_decode_config cfg;
} NJ_ALIGNED;

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void ev(struct nj_decode_ctx *c, struct nj_pkt *p, enum nj_decode_event e)
{
	nj_decode_event(&c->st, p, e);
}

static inline void bad(struct nj_decode_ctx *c, struct nj_pkt *p, enum nj_decode_event e)
{
	nj_decode_event(&c->st, p, e);
	p->flags |= NJ_PKT_INVALID;
}

/*
 * RFC 1071 sum in host byte order: 32-bit words added into 64 bits cannot
 * overflow for any IP packet, and the folded result is byte-order
 * independent when compared with 0xffff or stored back with memcpy.
 */
uint64_t nj_csum_add(uint64_t sum, const uint8_t *p, uint32_t len)
{
	while (len >= 8) {
		uint64_t v;

		memcpy(&v, p, 8);
		sum += (v & 0xffffffffu) + (v >> 32);
		p += 8;
		len -= 8;
	}
	if (len >= 4) {
		uint32_t v;

		memcpy(&v, p, 4);
		sum += v;
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		uint16_t v;

		memcpy(&v, p, 2);
		sum += v;
		p += 2;
		len -= 2;
	}
	if (len) {
		uint8_t b[2] = {p[0], 0};
		uint16_t v;

		memcpy(&v, b, 2);
		sum += v;
	}
	return sum;
}

uint16_t nj_csum_fold(uint64_t sum)
{
	sum = (sum & 0xffffffffu) + (sum >> 32);
	sum = (sum & 0xffffffffu) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* Sum of the TCP/UDP/ICMPv6 pseudo-header. */
static uint64_t pseudo_sum(const struct nj_pkt *p, uint8_t proto, uint32_t l4_len)
{
	uint64_t sum;

	if (p->flags & NJ_PKT_IPV6) {
		uint8_t ph[8] = {(uint8_t)(l4_len >> 24),
				 (uint8_t)(l4_len >> 16),
				 (uint8_t)(l4_len >> 8),
				 (uint8_t)l4_len,
				 0,
				 0,
				 0,
				 proto};

		sum = nj_csum_add(0, nj_pkt_src(p), 32);
		return nj_csum_add(sum, ph, 8);
	}
	uint8_t ph[4] = {0, proto, (uint8_t)(l4_len >> 8), (uint8_t)l4_len};

	sum = nj_csum_add(0, nj_pkt_src(p), 8);
	return nj_csum_add(sum, ph, 4);
}

static void check_l4_csum(struct nj_decode_ctx *c, struct nj_pkt *p, const uint8_t *l4,
			  uint32_t len, bool pseudo)
{
	uint64_t sum;

	if (c->snap)
		return;
	sum = pseudo ? pseudo_sum(p, p->proto, len) : 0;
	if (nj_csum_fold(nj_csum_add(sum, l4, len)) != 0xffff)
		p->flags |= NJ_PKT_L4_CSUM_BAD;
}

/* ------------------------------------------------------------------ ICMP */

bool nj_icmp_port_map(bool v6, uint8_t type, uint8_t code, uint16_t *sport, uint16_t *dport)
{
	int peer = -1;

	if (!v6) {
		switch (type) {
		case 0: peer = 8; break; /* echo reply / request */
		case 8: peer = 0; break;
		case 13: peer = 14; break; /* timestamp */
		case 14: peer = 13; break;
		case 15: peer = 16; break; /* information */
		case 16: peer = 15; break;
		case 10: peer = 9; break; /* router solicitation / advert */
		case 9: peer = 10; break;
		case 17: peer = 18; break; /* address mask */
		case 18: peer = 17; break;
		}
	} else {
		switch (type) {
		case 128: peer = 129; break; /* echo */
		case 129: peer = 128; break;
		case 130: peer = 131; break; /* MLD query / report */
		case 131: peer = 130; break;
		case 133: peer = 134; break; /* router solicitation / advert */
		case 134: peer = 133; break;
		case 135: peer = 136; break; /* neighbour solicitation / advert */
		case 136: peer = 135; break;
		case 139: peer = 140; break; /* node information (WRU) */
		case 140: peer = 139; break;
		case 144: peer = 145; break; /* home agent address discovery */
		case 145: peer = 144; break;
		}
	}
	*sport = type;
	if (peer >= 0) {
		*dport = (uint16_t)peer;
		return false;
	}
	*dport = code;
	return true;
}

/* Highest valid code per ICMPv4 type Suricata knows, -1 for unknown types. */
static int icmpv4_max_code(uint8_t type)
{
	switch (type) {
	case 0:
	case 4:
	case 8:
	case 13:
	case 14:
	case 15:
	case 16:
	case 17:
	case 18: return 0;
	case 3: return 15;
	case 5: return 3;
	case 11: return 1;
	case 12: return 2;
	default: return -1;
	}
}

static void decode_icmpv4(struct nj_decode_ctx *c, struct nj_pkt *p, uint32_t off, uint32_t len)
{
	const uint8_t *h = p->data + off;
	int max;

	c->st.icmpv4++;
	if (len < 8) {
		bad(c, p, NJ_DEV_ICMPV4_PKT_TOO_SMALL);
		return;
	}
	p->icmp_type = h[0];
	p->icmp_code = h[1];
	nj_icmp_port_map(false, h[0], h[1], &p->sport, &p->dport);
	p->flags |= NJ_PKT_HAS_L4;
	p->payload_off = (uint16_t)(off + 8);
	p->payload_len = (uint16_t)(len - 8);

	max = icmpv4_max_code(h[0]);
	if (max < 0)
		ev(c, p, NJ_DEV_ICMPV4_UNKNOWN_TYPE);
	else if (h[1] > max)
		ev(c, p, NJ_DEV_ICMPV4_UNKNOWN_CODE);

	/* errors quote the offending IP header after the 8-byte ICMP header */
	/* as Suricata: only when the code is valid, and not for source quench */
	if ((h[0] == 3 || h[0] == 5 || h[0] == 11 || h[0] == 12) && max >= 0 && h[1] <= max &&
	    len > 8 && !(c->snap && len - 8 < 20)) {
		if (len - 8 < 20)
			ev(c, p, NJ_DEV_ICMPV4_IPV4_TRUNC_PKT);
		else if ((h[8] >> 4) != 4)
			ev(c, p, NJ_DEV_ICMPV4_IPV4_UNKNOWN_VER);
		else
			p->flags |= NJ_PKT_ICMP_ERROR;
	}
	if (c->csum)
		check_l4_csum(c, p, h, len, false);
}

static void decode_icmpv6(struct nj_decode_ctx *c, struct nj_pkt *p, uint32_t off, uint32_t len)
{
	const uint8_t *h = p->data + off;
	uint8_t type, code;
	int max = 0;

	c->st.icmpv6++;
	if (len < 8) {
		bad(c, p, NJ_DEV_ICMPV6_PKT_TOO_SMALL);
		return;
	}
	type = h[0];
	code = h[1];
	p->icmp_type = type;
	p->icmp_code = code;
	nj_icmp_port_map(true, type, code, &p->sport, &p->dport);
	p->flags |= NJ_PKT_HAS_L4;
	p->payload_off = (uint16_t)(off + 8);
	p->payload_len = (uint16_t)(len - 8);

	switch (type) {
	case 1: max = 6; break;
	case 3: max = 1; break;
	case 4: max = 2; break;
	case 130:
	case 131:
	case 132:
	case 143:
		/* MLD is link-local: anything but hop limit 1 was routed or forged */
		if (p->ip_ttl != 1)
			ev(c, p, NJ_DEV_ICMPV6_MLD_MESSAGE_WITH_INVALID_HL);
		break;
	default:
		if (type == 2 || (type >= 128 && type <= 161))
			break;
		max = -1;
		if ((type > 4 && type < 100) || (type > 101 && type < 128) ||
		    (type > 161 && type < 200))
			ev(c, p, NJ_DEV_ICMPV6_UNASSIGNED_TYPE);
		else if (type == 100 || type == 101 || type == 200 || type == 201)
			ev(c, p, NJ_DEV_ICMPV6_EXPERIMENTATION_TYPE);
		else
			ev(c, p, NJ_DEV_ICMPV6_UNKNOWN_TYPE);
		break;
	}
	if (max >= 0 && code > max && (type <= 4 || (type >= 128 && type <= 137)))
		ev(c, p, NJ_DEV_ICMPV6_UNKNOWN_CODE);

	if (type >= 1 && type <= 4 && len > 8 && !(c->snap && len - 8 < 40)) {
		if (len - 8 < 40)
			ev(c, p, NJ_DEV_ICMPV6_IPV6_TRUNC_PKT);
		else if ((h[8] >> 4) != 6)
			ev(c, p, NJ_DEV_ICMPV6_IPV6_UNKNOWN_VERSION);
		else
			p->flags |= NJ_PKT_ICMP_ERROR;
	}
	if (c->csum)
		check_l4_csum(c, p, h, len, true);
}

/* ------------------------------------------------------------------- TCP */

#define TCPOPT_EOL    0
#define TCPOPT_NOP    1
#define TCPOPT_MSS    2
#define TCPOPT_WS     3
#define TCPOPT_SACKOK 4
#define TCPOPT_SACK   5
#define TCPOPT_TS     8
#define TCPOPT_MD5    19
#define TCPOPT_AO     29
#define TCPOPT_TFO    34
#define TCPOPT_EXP2   254

static bool tfo_len_bad(uint8_t olen)
{
	return olen != 2 && (olen < 6 || olen > 18 || ((olen - 2) & 1));
}

/* Returns -1 when the option area cannot be walked (the packet is invalid). */
static int decode_tcp_opts(struct nj_decode_ctx *c, struct nj_pkt *p, const uint8_t *o,
			   uint32_t len)
{
	uint64_t seen = 0;

	while (len) {
		uint8_t type = o[0], olen;
		bool badlen = false;
		int bit = -1;

		if (type == TCPOPT_EOL)
			break;
		if (type == TCPOPT_NOP) {
			o++;
			len--;
			continue;
		}
		if (len < 2 || o[1] < 2 || o[1] > len) {
			bad(c, p, NJ_DEV_TCP_INVALID_OPTLEN);
			return -1;
		}
		olen = o[1];
		switch (type) {
		case TCPOPT_MSS:
			badlen = olen != 4;
			bit = 0;
			break;
		case TCPOPT_WS:
			badlen = olen != 3;
			bit = 1;
			break;
		case TCPOPT_SACKOK:
			badlen = olen != 2;
			bit = 2;
			break;
		case TCPOPT_SACK:
			/* Suricata accepts an empty SACK option (length 2) */
			badlen = olen != 2 && (olen < 10 || olen > 34 || (olen - 2) % 8);
			bit = 3;
			break;
		case TCPOPT_TS:
			badlen = olen != 10;
			bit = 4;
			break;
		case TCPOPT_MD5:
			badlen = olen != 18;
			bit = 5;
			break;
		case TCPOPT_AO:
			badlen = olen < 4;
			bit = 6;
			break;
		case TCPOPT_TFO:
			badlen = tfo_len_bad(olen);
			bit = 7;
			break;
		case TCPOPT_EXP2:
			/* experimental TFO before option 34 was assigned (magic 0xf989) */
			if (olen >= 4 && rd16(o + 2) == 0xf989) {
				badlen = tfo_len_bad((uint8_t)(olen - 2));
				bit = 7;
			}
			break;
		}
		if (badlen)
			ev(c, p, NJ_DEV_TCP_OPT_INVALID_LEN);
		if (bit >= 0) {
			if (seen & (1ull << bit))
				ev(c, p, NJ_DEV_TCP_OPT_DUPLICATE);
			seen |= 1ull << bit;
		}
		o += olen;
		len -= olen;
	}
	return 0;
}

static void decode_tcp(struct nj_decode_ctx *c, struct nj_pkt *p, uint32_t off, uint32_t len)
{
	const uint8_t *h = p->data + off;
	uint32_t hlen;

	c->st.tcp++;
	if (len < 20) {
		bad(c, p, NJ_DEV_TCP_PKT_TOO_SMALL);
		return;
	}
	hlen = (uint32_t)(h[12] >> 4) * 4;
	if (hlen < 20) {
		bad(c, p, NJ_DEV_TCP_HLEN_TOO_SMALL);
		return;
	}
	if (len < hlen) {
		bad(c, p, NJ_DEV_TCP_PKT_TOO_SMALL);
		return;
	}
	p->sport = rd16(h);
	p->dport = rd16(h + 2);
	p->tcp_seq = rd32(h + 4);
	p->tcp_ack = rd32(h + 8);
	p->tcp_flags = h[13];
	p->tcp_win = rd16(h + 14);
	if (hlen > 20 && decode_tcp_opts(c, p, h + 20, hlen - 20) < 0)
		return;
	p->flags |= NJ_PKT_HAS_L4;
	p->payload_off = (uint16_t)(off + hlen);
	p->payload_len = (uint16_t)(len - hlen);
	if (c->csum)
		check_l4_csum(c, p, h, len, true);
}

static void decode_udp(struct nj_decode_ctx *c, struct nj_pkt *p, uint32_t off, uint32_t len)
{
	const uint8_t *h = p->data + off;
	uint32_t ulen;

	c->st.udp++;
	if (len < 8) {
		bad(c, p, NJ_DEV_UDP_HLEN_TOO_SMALL);
		return;
	}
	ulen = rd16(h + 4);
	if (c->snap && ulen > len)
		ulen = len;
	if (len < ulen) {
		bad(c, p, NJ_DEV_UDP_PKT_TOO_SMALL);
		return;
	}
	if (ulen < 8) {
		bad(c, p, NJ_DEV_UDP_LEN_INVALID);
		return;
	}
	p->sport = rd16(h);
	p->dport = rd16(h + 2);
	p->flags |= NJ_PKT_HAS_L4;
	p->payload_off = (uint16_t)(off + 8);
	p->payload_len = (uint16_t)(ulen - 8);
	/* a zero UDP checksum means "none" over IPv4 only */
	if (c->csum && (rd16(h + 6) != 0 || (p->flags & NJ_PKT_IPV6)))
		check_l4_csum(c, p, h, ulen, true);
}

static void decode_sctp(struct nj_decode_ctx *c, struct nj_pkt *p, uint32_t off, uint32_t len)
{
	const uint8_t *h = p->data + off;

	c->st.sctp++;
	if (len < 12) {
		bad(c, p, NJ_DEV_SCTP_PKT_TOO_SMALL);
		return;
	}
	p->sport = rd16(h);
	p->dport = rd16(h + 2);
	p->flags |= NJ_PKT_HAS_L4;
	p->payload_off = (uint16_t)(off + 12);
	p->payload_len = (uint16_t)(len - 12);
}

/* ESP: only the SPI and sequence number are in the clear; flows are keyed by SPI. */
static void decode_esp(struct nj_decode_ctx *c, struct nj_pkt *p, uint32_t off, uint32_t len)
{
	c->st.esp++;
	if (len < 8) {
		bad(c, p, NJ_DEV_ESP_PKT_TOO_SMALL);
		return;
	}
	p->esp_spi = rd32(p->data + off);
	p->sport = p->dport = 0;
	p->flags |= NJ_PKT_HAS_L4;
	p->payload_off = (uint16_t)(off + 8);
	p->payload_len = (uint16_t)(len - 8);
}

static void decode_ipv4(struct nj_decode_ctx *c, struct nj_pkt *p, uint32_t off);
static void decode_ipv6(struct nj_decode_ctx *c, struct nj_pkt *p, uint32_t off);
static void decode_gre(struct nj_decode_ctx *c, struct nj_pkt *p, uint32_t off, uint32_t len);

/* Deepest IP tunnel looked through (IP-in-IP, GRE); Suricata's max-layers bounds it too. */
#define NJ_MAX_TUNNELS 8

/*
 * Enter a tunnel: the packet is from now on described by its inner IP header
 * at off (addresses, ports, flow), as Suricata's tunnel pseudo packet; the
 * outer headers only count. The depth becomes part of the flow key when
 * decoder.recursion-level.use-for-tracking is on (the default).
 */
static bool tunnel_enter(struct nj_decode_ctx *c, struct nj_pkt *p)
{
	if (p->tunnel_depth >= NJ_MAX_TUNNELS) {
		c->st.too_many_layers++;
		bad(c, p, NJ_DEV_TOO_MANY_LAYERS);
		return false;
	}
	p->tunnel_depth++;
	p->flags &= ~(NJ_PKT_IPV4 | NJ_PKT_IPV6 | NJ_PKT_IPV4_CSUM_BAD | NJ_PKT_L4_CSUM_BAD |
		      NJ_PKT_HAS_L4);
	p->l4_off = p->payload_off = p->payload_len = 0;
	p->sport = p->dport = 0;
	p->proto = 0;
	return true;
}

/* IPv4 (proto 4) or IPv6 (proto 41) carried directly in IP. */
static void decode_ip_in_ip(struct nj_decode_ctx *c, struct nj_pkt *p, uint32_t off, uint32_t len,
			    uint8_t proto, bool outer_v6)
{
	unsigned ver = len ? p->data[off] >> 4 : 0;

	if (outer_v6) {
		if (len < (proto == 4 ? 20u : 40u)) {
			bad(c, p,
			    proto == 4 ? NJ_DEV_IPV4_IN_IPV6_PKT_TOO_SMALL
				       : NJ_DEV_IPV6_IN_IPV6_PKT_TOO_SMALL);
			return;
		}
		if (ver != (proto == 4 ? 4u : 6u)) {
			ev(c, p,
			   proto == 4 ? NJ_DEV_IPV4_IN_IPV6_WRONG_IP_VER
				      : NJ_DEV_IPV6_IN_IPV6_WRONG_IP_VER);
			return;
		}
	}
	if (!tunnel_enter(c, p))
		return;
	if (proto == 4) {
		if (outer_v6)
			c->st.ipv4_in_ipv6++;
		else
			c->st.ipv4_in_ipv4++;
		decode_ipv4(c, p, off);
	} else {
		if (outer_v6)
			c->st.ipv6_in_ipv6++;
		else
			c->st.ipv6_in_ipv4++;
		decode_ipv6(c, p, off);
	}
}

static void decode_l4(struct nj_decode_ctx *c, struct nj_pkt *p, uint32_t off, uint32_t len,
		      uint8_t proto, bool v6)
{
	p->proto = proto;
	if (unlikely(off > NJ_MAX_L4_OFF)) {
		/* only a pathological IPv6 header chain gets here */
		p->flags |= NJ_PKT_INVALID;
		return;
	}
	p->l4_off = (uint16_t)off;
	switch (proto) {
	case 6: decode_tcp(c, p, off, len); return;
	case 17: decode_udp(c, p, off, len); return;
	case 1:
		if (v6)
			ev(c, p, NJ_DEV_IPV6_ICMPV4);
		else
			decode_icmpv4(c, p, off, len);
		return;
	case 58:
		if (v6)
			decode_icmpv6(c, p, off, len);
		else
			ev(c, p, NJ_DEV_IPV4_ICMPV6);
		return;
	case 132: decode_sctp(c, p, off, len); return;
	case 50: decode_esp(c, p, off, len); return;
	case 4:
	case 41: decode_ip_in_ip(c, p, off, len, proto, v6); return;
	case 47: decode_gre(c, p, off, len); return;
	}
	c->st.other_l4++;
	p->payload_off = (uint16_t)off;
	p->payload_len = (uint16_t)len;
	if (!v6) {
		/* IANA unassigned range: nothing legitimate uses it */
		if (proto >= 143 && proto <= 252)
			ev(c, p, NJ_DEV_IPV4_UNKNOWN_PROTOCOL);
	} else {
		ev(c, p, NJ_DEV_IPV6_UNKNOWN_NEXT_HEADER);
	}
}

/* ------------------------------------------------------------------ IPv4 */

/* Known options, for duplicate detection: bit index or -1. */
static int ipv4_opt_bit(uint8_t type)
{
	switch (type) {
	case 7: return 0;   /* record route */
	case 25: return 1;  /* quick start */
	case 68: return 2;  /* timestamp */
	case 130: return 3; /* security */
	case 131: return 4; /* loose source route */
	case 133: return 5; /* extended security */
	case 134: return 6; /* CIPSO */
	case 136: return 7; /* stream id */
	case 137: return 8; /* strict source route */
	case 148: return 9; /* router alert */
	default: return -1;
	}
}

/* Returns -1 for options that make the header unusable (as Suricata does). */
static int decode_ipv4_opts(struct nj_decode_ctx *c, struct nj_pkt *p, const uint8_t *o,
			    uint32_t len)
{
	uint32_t seen = 0;

	while (len) {
		uint8_t type = o[0], olen, ptr;
		int bit;

		if (type == 0)
			break;
		if (type == 1) {
			o++;
			len--;
			continue;
		}
		if (len < 2) {
			bad(c, p, NJ_DEV_IPV4_OPT_EOL_REQUIRED);
			return -1;
		}
		olen = o[1];
		if (olen < 2 || olen > len) {
			bad(c, p, NJ_DEV_IPV4_OPT_INVALID_LEN);
			return -1;
		}
		bit = ipv4_opt_bit(type);
		if (bit < 0) {
			ev(c, p, NJ_DEV_IPV4_OPT_UNKNOWN);
		} else if (seen & (1u << bit)) {
			ev(c, p, NJ_DEV_IPV4_OPT_DUPLICATE);
		} else {
			seen |= 1u << bit;
			switch (type) {
			case 7:
			case 131:
			case 137:
				if (olen < 3) {
					bad(c, p, NJ_DEV_IPV4_OPT_INVALID_LEN);
					return -1;
				}
				ptr = o[2];
				if (ptr < 4 || ptr % 4 || ptr > olen + 1) {
					bad(c, p, NJ_DEV_IPV4_OPT_MALFORMED);
					return -1;
				}
				break;
			case 68:
				if (olen < 5) {
					bad(c, p, NJ_DEV_IPV4_OPT_INVALID_LEN);
					return -1;
				}
				ptr = o[2];
				if (ptr < 5 || ptr > olen + 1 ||
				    (ptr - 5) % ((o[3] & 0x0f) ? 8 : 4)) {
					bad(c, p, NJ_DEV_IPV4_OPT_MALFORMED);
					return -1;
				}
				break;
			case 25:
				if (olen != 8) {
					bad(c, p, NJ_DEV_IPV4_OPT_INVALID_LEN);
					return -1;
				}
				break;
			case 136:
			case 148:
				if (olen != 4) {
					bad(c, p, NJ_DEV_IPV4_OPT_INVALID_LEN);
					return -1;
				}
				break;
			case 134:
				if (olen < 10) {
					bad(c, p, NJ_DEV_IPV4_OPT_INVALID_LEN);
					return -1;
				}
				break;
			default: /* 130, 133: length checked above */
				if (olen < 3) {
					bad(c, p, NJ_DEV_IPV4_OPT_INVALID_LEN);
					return -1;
				}
				break;
			}
		}
		o += olen;
		len -= olen;
	}
	return 0;
}

/*
 * The completing fragment becomes the whole datagram. Its link header (the
 * bytes before the fragment's L3 at off) goes in front, as Suricata does, so
 * the packet logged with an alert and the linktype stay those of the wire;
 * a header longer than the defrag buffer's headroom leaves a raw IP packet.
 */
static void decode_reassembled(struct nj_decode_ctx *c, struct nj_pkt *p, uint32_t off,
			       const uint8_t *buf, uint32_t len, bool v6)
{
	uint8_t *head = (uint8_t *)buf - off;

	if (off <= NJ_DEFRAG_HEADROOM) {
		memmove(head, p->data, off);
	} else {
		head = (uint8_t *)buf;
		off = 0;
		p->linktype = NJ_LINK_RAW;
	}
	p->data = head;
	p->len = len + off;
	p->flags = (p->flags & NJ_PKT_ETH) | NJ_PKT_REASSEMBLED;
	p->l3_off = off;
	c->in_reasm = 1;
	if (v6)
		decode_ipv6(c, p, off);
	else
		decode_ipv4(c, p, off);
	c->in_reasm = 0;
}

static void decode_ipv4(struct nj_decode_ctx *c, struct nj_pkt *p, uint32_t off)
{
	const uint8_t *h = p->data + off;
	uint32_t caplen = p->len - off, hlen, iplen, frag;

	if (caplen < 20) {
		bad(c, p, NJ_DEV_IPV4_PKT_TOO_SMALL);
		return;
	}
	if ((h[0] >> 4) != 4) {
		bad(c, p, NJ_DEV_IPV4_WRONG_IP_VERSION);
		return;
	}
	hlen = (uint32_t)(h[0] & 0x0f) * 4;
	if (hlen < 20) {
		bad(c, p, NJ_DEV_IPV4_HLEN_TOO_SMALL);
		return;
	}
	iplen = rd16(h + 2);
	if (iplen == 0 && !c->in_reasm) {
		/*
		 * Total length 0 is what TCP segmentation offload leaves in a
		 * frame captured on the sending host (the NIC fills it in when
		 * it cuts the segments), and LRO/GRO merged frames on the
		 * receiver look the same. Like Suricata, Wireshark and tcpdump,
		 * take the captured bytes as the datagram; without this the
		 * payload of every such frame is lost to the stream.
		 */
		iplen = caplen > 0xffff ? 0xffff : caplen;
		c->st.ipv4_tso++;
	}
	if (iplen < hlen) {
		bad(c, p, NJ_DEV_IPV4_IPLEN_SMALLER_THAN_HLEN);
		return;
	}
	p->l3_len = (uint16_t)iplen;
	if (caplen < iplen) {
		/*
		 * A snaplen cut is not an anomaly of the packet: decode what was
		 * captured. Anything else claiming more than it carries is.
		 */
		if (p->wire_len <= p->len || caplen < hlen) {
			bad(c, p, NJ_DEV_IPV4_TRUNC_PKT);
			return;
		}
		c->snap = 1;
		iplen = caplen;
	}
	/* from here on bytes past iplen (Ethernet padding) are ignored */
	p->flags |= NJ_PKT_IPV4;
	p->l3_off = (uint16_t)off;
	p->ip_ttl = h[8];
	p->ip_id = rd16(h + 4);
	p->proto = h[9];
	if (!c->in_reasm)
		c->st.ipv4++;
	if (hlen > 20 && decode_ipv4_opts(c, p, h + 20, hlen - 20) < 0)
		return;
	if (c->csum && nj_csum_fold(nj_csum_add(0, h, hlen)) != 0xffff)
		p->flags |= NJ_PKT_IPV4_CSUM_BAD;

	frag = rd16(h + 6);
	if (unlikely(frag & 0x3fff)) {
		struct nj_defrag_frag_info fi = {
			.l3 = h,
			.data = h + hlen,
			.hdr_len = hlen,
			.data_len = iplen - hlen,
			.off = (frag & 0x1fff) * 8,
			.id = rd16(h + 4),
			.proto = h[9],
			.more = !!(frag & 0x2000),
			.v6 = false,
		};
		const uint8_t *buf;
		uint32_t n;

		c->st.frag_ipv4_fragments++;
		p->flags |= NJ_PKT_FRAGMENT;
		if (c->snap)
			return; /* part of its bytes are missing: cannot be reassembled */
		n = nj_defrag_add(c->defrag, p, &fi, &buf);
		if (n)
			decode_reassembled(c, p, off, buf, n, false);
		return;
	}
	decode_l4(c, p, off + hlen, iplen - hlen, h[9], false);
}

/* ------------------------------------------------------------------ IPv6 */

#define IP6_HOPOPTS  0
#define IP6_ROUTING  43
#define IP6_FRAGMENT 44
#define IP6_ESP	     50
#define IP6_AH	     51
#define IP6_NONE     59
#define IP6_DSTOPTS  60
#define IP6_MH	     135
#define IP6_HIP	     139
#define IP6_SHIM6    140

/* Hop-by-hop and destination options: TLVs padded to 8 bytes. */
static void decode_ipv6_opts(struct nj_decode_ctx *c, struct nj_pkt *p, const uint8_t *o,
			     uint32_t len, bool hop)
{
	bool only_pad = true;

	while (len) {
		uint8_t type = o[0], olen;

		if (type == 0) { /* Pad1 */
			o++;
			len--;
			continue;
		}
		if (len < 2 || (uint32_t)o[1] + 2 > len) {
			ev(c, p, NJ_DEV_IPV6_EXTHDR_INVALID_OPTLEN);
			return;
		}
		olen = o[1];
		if (type == 1) { /* PadN */
			if (olen == 0)
				ev(c, p, NJ_DEV_IPV6_ZERO_LEN_PADN);
		} else {
			only_pad = false;
			if (type == 0x05) { /* router alert */
				if (olen != 2)
					ev(c, p, NJ_DEV_IPV6_EXTHDR_INVALID_OPTLEN);
			} else if (type == 0xc2) { /* jumbo payload */
				if (olen != 4)
					ev(c, p, NJ_DEV_IPV6_EXTHDR_INVALID_OPTLEN);
			} else if (type == 0xc9) { /* home address */
				if (olen != 16)
					ev(c, p, NJ_DEV_IPV6_EXTHDR_INVALID_OPTLEN);
			} else {
				ev(c, p,
				   hop ? NJ_DEV_IPV6_HOPOPTS_UNKNOWN_OPT
				       : NJ_DEV_IPV6_DSTOPTS_UNKNOWN_OPT);
			}
		}
		o += 2 + olen;
		len -= 2u + olen;
	}
	/* a header of nothing but padding is a known covert channel */
	if (only_pad)
		ev(c, p, hop ? NJ_DEV_IPV6_HOPOPTS_ONLY_PADDING : NJ_DEV_IPV6_DSTOPTS_ONLY_PADDING);
}

static void decode_ipv6_frag(struct nj_decode_ctx *c, struct nj_pkt *p, uint32_t off, uint32_t pos,
			     uint32_t end, uint32_t nh_off)
{
	const uint8_t *h = p->data + off, *e = h + pos;
	uint32_t foff = rd16(e + 2) & 0xfff8;
	bool more = e[3] & 1;
	struct nj_defrag_frag_info fi = {
		.l3 = h,
		.data = e + 8,
		.hdr_len = pos,
		.data_len = end - pos - 8,
		.off = foff,
		.id = rd32(e + 4),
		.nh_off = nh_off,
		.proto = e[0],
		.more = more,
		.v6 = true,
	};
	const uint8_t *buf;
	uint32_t n;

	c->st.frag_ipv6_fragments++;
	p->flags |= NJ_PKT_FRAGMENT;
	p->proto = e[0];
	if (c->snap)
		return;
	n = nj_defrag_add(c->defrag, p, &fi, &buf);
	if (n)
		decode_reassembled(c, p, off, buf, n, true);
}

static void decode_ipv6(struct nj_decode_ctx *c, struct nj_pkt *p, uint32_t off)
{
	const uint8_t *h = p->data + off;
	uint32_t caplen = p->len - off, end, pos = 40, nh_off = 6;
	unsigned n_hh = 0, n_rh = 0, n_fh = 0, n_dh = 0, n_ah = 0, n;
	uint8_t nh;

	if (caplen < 40) {
		bad(c, p, NJ_DEV_IPV6_PKT_TOO_SMALL);
		return;
	}
	if ((h[0] >> 4) != 6) {
		bad(c, p, NJ_DEV_IPV6_WRONG_IP_VERSION);
		return;
	}
	end = 40u + rd16(h + 4);
	p->l3_len = (uint16_t)(end > UINT16_MAX ? UINT16_MAX : end);
	if (caplen < end) {
		if (p->wire_len <= p->len) {
			bad(c, p, NJ_DEV_IPV6_TRUNC_PKT);
			return;
		}
		c->snap = 1; /* snaplen cut: decode what was captured */
		end = caplen;
	}
	p->flags |= NJ_PKT_IPV6;
	p->l3_off = (uint16_t)off;
	p->ip_ttl = h[7];
	if (!c->in_reasm)
		c->st.ipv6++;
	nh = h[6];

	for (n = 0;; n++) {
		const uint8_t *e = h + pos;
		uint32_t rem = end - pos, elen;

		if (n == NJ_IPV6_MAX_EXTHDRS) {
			c->st.too_many_layers++;
			bad(c, p, NJ_DEV_TOO_MANY_LAYERS);
			return;
		}
		/* after an extension header, as Suricata: any header needs 2 bytes */
		if (n && rem < 2 && nh != IP6_NONE) {
			bad(c, p, NJ_DEV_IPV6_TRUNC_EXTHDR);
			return;
		}
		switch (nh) {
		case IP6_HOPOPTS:
		case IP6_DSTOPTS:
		case IP6_ROUTING:
		case IP6_MH:
		case IP6_HIP:
		case IP6_SHIM6:
		case 253:
		case 254:
			if (rem < 8 || (elen = ((uint32_t)e[1] + 1) * 8) > rem) {
				bad(c, p, NJ_DEV_IPV6_TRUNC_EXTHDR);
				return;
			}
			if (nh == IP6_HOPOPTS) {
				if (n_hh++)
					ev(c, p, NJ_DEV_IPV6_EXTHDR_DUPL_HH);
				decode_ipv6_opts(c, p, e + 2, elen - 2, true);
			} else if (nh == IP6_DSTOPTS) {
				/* one before the routing header, one before L4 */
				if (n_dh++ >= 2)
					ev(c, p, NJ_DEV_IPV6_EXTHDR_DUPL_DH);
				decode_ipv6_opts(c, p, e + 2, elen - 2, false);
			} else if (nh == IP6_ROUTING) {
				if (n_rh++)
					ev(c, p, NJ_DEV_IPV6_EXTHDR_DUPL_RH);
				if (e[2] == 0)
					ev(c, p, NJ_DEV_IPV6_RH_TYPE_0);
			}
			break;
		case IP6_AH:
			if (rem < 12 || (elen = ((uint32_t)e[1] + 2) * 4) > rem) {
				bad(c, p, NJ_DEV_IPV6_TRUNC_EXTHDR);
				return;
			}
			if (e[2] || e[3])
				ev(c, p, NJ_DEV_IPV6_EXTHDR_AH_RES_NOT_NULL);
			if (n_ah++)
				ev(c, p, NJ_DEV_IPV6_EXTHDR_DUPL_AH);
			break;
		case IP6_FRAGMENT:
			elen = 8;
			if (rem < 8) {
				bad(c, p, NJ_DEV_IPV6_TRUNC_EXTHDR);
				return;
			}
			if (e[1])
				ev(c, p, NJ_DEV_IPV6_FH_NON_ZERO_RES_FIELD);
			if (n_fh++ || c->in_reasm) {
				/* a nested datagram is not reassembled twice */
				ev(c, p, NJ_DEV_IPV6_EXTHDR_DUPL_FH);
				break;
			}
			if (!(rd16(e + 2) & 0xfff8) && !(e[3] & 1)) {
				/* atomic fragment (RFC 6946): nothing to reassemble */
				ev(c, p, NJ_DEV_IPV6_EXTHDR_USELESS_FH);
				break;
			}
			/* RFC 8200 4.5: all but the last fragment are multiples of
			 * 8 bytes; an event, and reassembly still tries (Suricata) */
			if ((e[3] & 1) && ((rem - 8) % 8))
				ev(c, p, NJ_DEV_IPV6_FRAG_INVALID_LENGTH);
			decode_ipv6_frag(c, p, off, pos, end, nh_off);
			return;
		case IP6_ESP: decode_l4(c, p, off + pos, rem, nh, true); return;
		case IP6_NONE:
			p->proto = nh;
			if (rem)
				ev(c, p, NJ_DEV_IPV6_DATA_AFTER_NONE_HEADER);
			return;
		default: decode_l4(c, p, off + pos, rem, nh, true); return;
		}
		if (pos + elen > NJ_MAX_L4_OFF) {
			p->flags |= NJ_PKT_INVALID;
			return;
		}
		nh_off = pos;
		nh = e[0];
		pos += elen;
	}
}

/* ------------------------------------------------------------ link layer */

/* Suricata's PacketIncreaseCheckLayers: false once the limit is reached. */
static bool next_layer(struct nj_decode_ctx *c, struct nj_pkt *p, unsigned *layers)
{
	if (++*layers < NJ_MAX_LAYERS)
		return true;
	c->st.too_many_layers++;
	bad(c, p, NJ_DEV_TOO_MANY_LAYERS);
	return false;
}

/* An Ethernet header at off: remembered for MAC logging; *type, *off past it. */
static bool decode_eth_hdr(struct nj_decode_ctx *c, struct nj_pkt *p, uint32_t *off, uint16_t *type,
			   unsigned *layers)
{
	c->st.ethernet++;
	if (p->len - *off < 14) {
		bad(c, p, NJ_DEV_ETHERNET_PKT_TOO_SMALL);
		return false;
	}
	if (!next_layer(c, p, layers))
		return false;
	p->flags |= NJ_PKT_ETH;
	p->eth_off = (uint16_t)*off;
	*type = rd16(p->data + *off + 12);
	*off += 14;
	return true;
}

/*
 * MPLS label stack at off, then Suricata's guess at the payload. Returns true
 * with *off at an inner Ethernet header (pseudowire) for the caller to go on.
 */
static bool decode_mpls(struct nj_decode_ctx *c, struct nj_pkt *p, uint32_t *off, unsigned *layers)
{
	uint32_t shim, label;

	c->st.mpls++;
	if (!next_layer(c, p, layers))
		return false;
	do {
		if (p->len - *off < 4) {
			bad(c, p, NJ_DEV_MPLS_HEADER_TOO_SMALL);
			return false;
		}
		shim = rd32(p->data + *off);
		*off += 4;
	} while (!(shim & 0x100)); /* bottom of stack */
	if (*off > NJ_MAX_L4_OFF) {
		p->flags |= NJ_PKT_INVALID; /* a 16 K label stack is no packet */
		return false;
	}
	label = shim >> 12;
	switch (label) {
	case 0: /* IPv4 explicit null */ decode_ipv4(c, p, *off); return false;
	case 2: /* IPv6 explicit null */ decode_ipv6(c, p, *off); return false;
	case 1:
		ev(c, p, NJ_DEV_MPLS_BAD_LABEL_ROUTER_ALERT); /* not valid at the bottom */
		return false;
	case 3:
		ev(c, p, NJ_DEV_MPLS_BAD_LABEL_IMPLICIT_NULL); /* never on the wire */
		return false;
	}
	if (label < 15) {
		ev(c, p, NJ_DEV_MPLS_BAD_LABEL_RESERVED);
		return false;
	}
	/* Ethernet needs its 4-byte control word; IP needs at least that too */
	if (p->len - *off < 4) {
		bad(c, p, NJ_DEV_MPLS_PKT_TOO_SMALL);
		return false;
	}
	switch (p->data[*off] >> 4) {
	case 4: decode_ipv4(c, p, *off); return false;
	case 6: decode_ipv6(c, p, *off); return false;
	case 0: *off += 4; return true;
	default: bad(c, p, NJ_DEV_MPLS_UNKNOWN_PAYLOAD_TYPE); return false;
	}
}

/* layers: link-level headers already decoded (1 after an outer Ethernet). */
/*
 * PPP (RFC 1661) from off: an optional HDLC address/control pair (ff 03),
 * then the protocol, one byte when compressed (odd first byte, RFC 1661 6.5).
 */
static void decode_ppp(struct nj_decode_ctx *c, struct nj_pkt *p, uint32_t off)
{
	const uint8_t *h = p->data + off;
	uint32_t len = p->len - off, proto;

	c->st.ppp++;
	if (len >= 2 && h[0] == 0xff && h[1] == 0x03) {
		h += 2;
		len -= 2;
		off += 2;
	}
	if (len < 1 || (!(h[0] & 1) && len < 2)) {
		bad(c, p, NJ_DEV_PPP_PKT_TOO_SMALL);
		return;
	}
	if (h[0] & 1) {
		proto = h[0];
		off += 1;
	} else {
		proto = rd16(h);
		off += 2;
	}
	switch (proto) {
	case 0x21: decode_ipv4(c, p, off); break;
	case 0x57: decode_ipv6(c, p, off); break;
	default: ev(c, p, NJ_DEV_PPP_UNSUP_PROTO); break;
	}
}

/* PPPoE session stage (RFC 2516): 6 bytes of header, then PPP. */
static void decode_pppoe_session(struct nj_decode_ctx *c, struct nj_pkt *p, uint32_t off)
{
	const uint8_t *h = p->data + off;

	c->st.pppoe++;
	if (p->len - off < 8) {
		bad(c, p, NJ_DEV_PPPOE_PKT_TOO_SMALL);
		return;
	}
	if (h[1] != 0) { /* session data carries code 0 */
		bad(c, p, NJ_DEV_PPPOE_WRONG_CODE);
		return;
	}
	decode_ppp(c, p, off + 6);
}

static void decode_ethertype(struct nj_decode_ctx *c, struct nj_pkt *p, uint16_t type, uint32_t off,
			     unsigned layers)
{
	bool in_vntag = false;

	for (;;) {
		switch (type) {
		case ETH_P_IPV4: decode_ipv4(c, p, off); return;
		case ETH_P_IPV6: decode_ipv6(c, p, off); return;
		case ETH_P_VLAN:
		case ETH_P_QINQ:
		case ETH_P_QINQ_OLD:
			if (p->nvlan == NJ_ARRAY_SIZE(p->vlan)) {
				bad(c, p, NJ_DEV_VLAN_TOO_MANY_LAYERS);
				return;
			}
			if (p->len - off < 4) {
				bad(c, p, NJ_DEV_VLAN_HEADER_TOO_SMALL);
				return;
			}
			if (!next_layer(c, p, &layers))
				return;
			if (p->nvlan == 0)
				c->st.vlan++;
			else if (p->nvlan == 1)
				c->st.vlan_qinq++;
			else
				c->st.vlan_qinqinq++;
			p->vlan[p->nvlan++] = rd16(p->data + off) & 0x0fff;
			type = rd16(p->data + off + 2);
			off += 4;
			in_vntag = false;
			continue;
		case ETH_P_VNTAG:
			/* 802.1Qbh: 4 bytes of tag, then the ethertype */
			c->st.vntag++;
			if (p->len - off < 6) {
				bad(c, p, NJ_DEV_VNTAG_HEADER_TOO_SMALL);
				return;
			}
			if (!next_layer(c, p, &layers))
				return;
			type = rd16(p->data + off + 4);
			off += 6;
			in_vntag = true;
			continue;
		case ETH_P_DCE:
			/* 2 bytes, then a whole Ethernet header */
			if (p->len - off < 16) {
				bad(c, p, NJ_DEV_DCE_PKT_TOO_SMALL);
				return;
			}
			off += 2;
			if (!decode_eth_hdr(c, p, &off, &type, &layers))
				return;
			in_vntag = false;
			continue;
		case ETH_P_MPLS_UC:
		case ETH_P_MPLS_MC:
			if (!decode_mpls(c, p, &off, &layers))
				return;
			if (!decode_eth_hdr(c, p, &off, &type, &layers))
				return;
			in_vntag = false;
			continue;
		case ETH_P_ARP: c->st.arp++; return;
		case 0x8864: decode_pppoe_session(c, p, off); return;
		case 0x8863: c->st.pppoe++; return; /* discovery: no payload to decode */
		default:
			/* below 0x0600 it is an 802.3 length: LLC, STP, ... */
			if (type < 0x0600)
				return;
			c->st.unknown_ethertype++;
			if (in_vntag) {
				ev(c, p, NJ_DEV_ETHERNET_UNKNOWN_ETHERTYPE);
				bad(c, p, NJ_DEV_VNTAG_UNKNOWN_TYPE);
				return;
			}
			ev(c, p,
			   p->nvlan ? NJ_DEV_VLAN_UNKNOWN_TYPE : NJ_DEV_ETHERNET_UNKNOWN_ETHERTYPE);
			return;
		}
	}
}

static void decode_ip_by_version(struct nj_decode_ctx *c, struct nj_pkt *p, uint32_t off)
{
	if (p->len <= off) {
		bad(c, p, NJ_DEV_IPV4_PKT_TOO_SMALL);
		return;
	}
	switch (p->data[off] >> 4) {
	case 4: decode_ipv4(c, p, off); break;
	case 6: decode_ipv6(c, p, off); break;
	default: bad(c, p, NJ_DEV_IPRAW_INVALID_IP_VERSION); break;
	}
}

/*
 * GRE (RFC 1701/2784/2890, version 0) and PPTP's enhanced GRE (RFC 2637,
 * version 1), checked as Suricata checks them; the payload (IPv4, IPv6,
 * transparent Ethernet bridging, ERSPAN type II, PPP) is decoded as a tunnel.
 */
static void decode_gre(struct nj_decode_ctx *c, struct nj_pkt *p, uint32_t off, uint32_t len)
{
	const uint8_t *h = p->data + off;
	uint32_t hlen = 4, poff;
	uint16_t type, etype;
	unsigned layers = 1;

	if (len < 4) {
		bad(c, p, NJ_DEV_GRE_PKT_TOO_SMALL);
		return;
	}
	type = rd16(h + 2);
	switch (h[1] & 0x07) {
	case 0:
		if (h[0] & 0x07) {
			bad(c, p, NJ_DEV_GRE_VERSION0_RECUR);
			return;
		}
		if (h[1] & 0xf8) {
			bad(c, p, NJ_DEV_GRE_VERSION0_FLAGS);
			return;
		}
		hlen += (h[0] & 0xc0) ? 4 : 0; /* checksum + offset (also with routing) */
		hlen += (h[0] & 0x20) ? 4 : 0; /* key */
		hlen += (h[0] & 0x10) ? 4 : 0; /* sequence */
		if (hlen > len) {
			bad(c, p, NJ_DEV_GRE_VERSION0_HDR_TOO_BIG);
			return;
		}
		if (h[0] & 0x40) {
			/* source route entries up to the NULL one */
			for (unsigned n = 0;; n++) {
				uint16_t af;
				uint8_t sre_len;

				if (len - hlen < 4 || n == 64) {
					bad(c, p, NJ_DEV_GRE_VERSION0_MALFORMED_SRE_HDR);
					return;
				}
				af = rd16(h + hlen);
				sre_len = h[hlen + 3];
				hlen += 4;
				if (af == 0 && sre_len == 0)
					break;
				if (len - hlen < sre_len) {
					bad(c, p, NJ_DEV_GRE_VERSION0_MALFORMED_SRE_HDR);
					return;
				}
				hlen += sre_len;
			}
		}
		break;
	case 1: {
		/* PPTP: flag bits that must be clear (first byte, second byte), the key
		 * that must be there, PPP inside; checked in Suricata's order */
		static const struct {
			uint8_t byte, mask, want;
			uint16_t ev;
		} v1[] = {
			{0, 0x80, 0, NJ_DEV_GRE_VERSION1_CHKSUM},
			{0, 0x40, 0, NJ_DEV_GRE_VERSION1_ROUTE},
			{0, 0x08, 0, NJ_DEV_GRE_VERSION1_SSR},
			{0, 0x07, 0, NJ_DEV_GRE_VERSION1_RECUR},
			{1, 0x78, 0, NJ_DEV_GRE_VERSION1_FLAGS},
			{0, 0x20, 0x20, NJ_DEV_GRE_VERSION1_NO_KEY},
		};

		for (unsigned i = 0; i < NJ_ARRAY_SIZE(v1); i++) {
			if ((h[v1[i].byte] & v1[i].mask) != v1[i].want) {
				bad(c, p, (enum nj_decode_event)v1[i].ev);
				return;
			}
		}
		if (type != 0x880b) {
			bad(c, p, NJ_DEV_GRE_VERSION1_WRONG_PROTOCOL);
			return;
		}
		hlen = 8 + ((h[0] & 0x10) ? 4 : 0) + ((h[1] & 0x80) ? 4 : 0);
		if (hlen > len) {
			bad(c, p, NJ_DEV_GRE_VERSION1_HDR_TOO_BIG);
			return;
		}
		break;
	}
	default: bad(c, p, NJ_DEV_GRE_WRONG_VERSION); return;
	}
	c->st.gre++;
	poff = off + hlen;
	switch (type) {
	case ETH_P_IPV4:
		if (tunnel_enter(c, p))
			decode_ipv4(c, p, poff);
		return;
	case ETH_P_IPV6:
		if (tunnel_enter(c, p))
			decode_ipv6(c, p, poff);
		return;
	case 0x880b: /* PPP */
		if (tunnel_enter(c, p))
			decode_ppp(c, p, poff);
		return;
	case 0x88be: /* ERSPAN type II: 8 bytes, then the mirrored frame */
		if (len - hlen < 8)
			return;
		poff += 8;
		/* fall through */
	case 0x6558: /* transparent Ethernet bridging */
		if (!tunnel_enter(c, p) || !decode_eth_hdr(c, p, &poff, &etype, &layers))
			return;
		decode_ethertype(c, p, etype, poff, layers);
		return;
	default: return; /* counted; nothing we decode further */
	}
}

/* BSD loopback: the address family in the capturing host's byte order. */
static void decode_null(struct nj_decode_ctx *c, struct nj_pkt *p)
{
	uint32_t af;

	c->st.null++;
	if (p->len < 4) {
		bad(c, p, NJ_DEV_LTNULL_PKT_TOO_SMALL);
		return;
	}
	af = (uint32_t)p->data[0] | (uint32_t)p->data[1] << 8 | (uint32_t)p->data[2] << 16 |
	     (uint32_t)p->data[3] << 24;
	if (af > 0xff)
		af = __builtin_bswap32(af);
	switch (af) {
	case 2: decode_ipv4(c, p, 4); break;
	case 10:
	case 23:
	case 24:
	case 26:
	case 28:
	case 30:
		decode_ipv6(c, p, 4); /* Linux, Winsock, *BSD, Solaris, FreeBSD, Darwin */
		break;
	default: ev(c, p, NJ_DEV_LTNULL_UNSUPPORTED_TYPE); break;
	}
}

void nj_decode_pkt(struct nj_decode_ctx *c, struct nj_pkt *p)
{
	p->flow = NULL;
	p->hash = 0;
	p->flags = 0;
	p->l3_off = p->l4_off = p->payload_off = p->payload_len = 0;
	p->sport = p->dport = 0;
	p->proto = p->tcp_flags = p->ip_ttl = 0;
	p->nevents = p->nvlan = 0;
	p->vlan[0] = p->vlan[1] = p->vlan[2] = 0;
	p->icmp_type = p->icmp_code = 0;
	p->tcp_seq = p->tcp_ack = 0;
	p->tcp_win = p->ip_id = p->l3_len = p->eth_off = 0;
	p->tunnel_depth = p->flow_depth = 0;

	c->snap = 0;
	c->st.pkts++;
	c->st.bytes += p->len;
	c->st.avg_pkt_size_sum += p->len;
	if (p->len > c->st.max_pkt_size)
		c->st.max_pkt_size = p->len;

	switch (p->linktype) {
	case NJ_LINK_ETHERNET:
		c->st.ethernet++;
		if (p->len < 14) {
			bad(c, p, NJ_DEV_ETHERNET_PKT_TOO_SMALL);
			break;
		}
		p->flags |= NJ_PKT_ETH;
		decode_ethertype(c, p, rd16(p->data + 12), 14, 1);
		break;
	case NJ_LINK_LINUX_SLL:
		c->st.sll++;
		if (p->len < 16) {
			bad(c, p, NJ_DEV_SLL_PKT_TOO_SMALL);
			break;
		}
		decode_ethertype(c, p, rd16(p->data + 14), 16, 0);
		break;
	case NJ_LINK_LINUX_SLL2:
		c->st.sll2++;
		if (p->len < 20) {
			bad(c, p, NJ_DEV_SLL2_PKT_TOO_SMALL);
			break;
		}
		decode_ethertype(c, p, rd16(p->data), 20, 0);
		break;
	case NJ_LINK_RAW:
		c->st.raw++;
		decode_ip_by_version(c, p, 0);
		break;
	case NJ_LINK_IPV4:
		c->st.raw++;
		decode_ipv4(c, p, 0);
		break;
	case NJ_LINK_IPV6:
		c->st.raw++;
		decode_ipv6(c, p, 0);
		break;
	case NJ_LINK_NULL: decode_null(c, p); break;
	case NJ_LINK_PPP: decode_ppp(c, p, 0); break;
	case NJ_LINK_CHDLC:
		c->st.chdlc++;
		if (p->len < 4) {
			bad(c, p, NJ_DEV_CHDLC_PKT_TOO_SMALL);
			break;
		}
		decode_ethertype(c, p, rd16(p->data + 2), 4, 0);
		break;
	default:
		/* no event name exists; counted as invalid */
		p->flags |= NJ_PKT_INVALID;
		break;
	}
	if (p->flags & NJ_PKT_INVALID)
		c->st.invalid++;
	if (c->cfg.tunnel_tracking)
		p->flow_depth = p->tunnel_depth;
	if (p->flags & (NJ_PKT_IPV4 | NJ_PKT_IPV6))
		p->hash = nj_decode_tuple_hash(p);
}

/* ------------------------------------------------------------ hashing */

static inline uint64_t mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

static inline uint64_t load64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static inline uint32_t load32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

/* Absorb one word: multiply-rotate keeps every input bit in play. */
static inline uint64_t absorb(uint64_t h, uint64_t v)
{
	h ^= v;
	h *= 0x9e3779b97f4a7c15ull;
	return (h << 31) | (h >> 33);
}

/* vlan.use-for-tracking; set once at start-up, before any worker runs */
static bool vlan_tracking = true;

void nj_decode_set_vlan_tracking(bool on)
{
	vlan_tracking = on;
}

static inline uint64_t vlan_word(const uint16_t *vlan, uint8_t nvlan)
{
	return nvlan && vlan_tracking
		       ? (uint64_t)vlan[0] | (uint64_t)vlan[1] << 16 | (uint64_t)vlan[2] << 32
		       : 0;
}

static inline uint64_t be64(const uint8_t *p)
{
	return __builtin_bswap64(load64(p));
}

static inline uint64_t finish(uint64_t h)
{
	h = mix64(h);
	return (uint32_t)(h ^ (h >> 32));
}

/*
 * The tuple is put in order (lower address, then port, first) with integer
 * compares so both directions give the same words, then mixed: no crypto, a
 * handful of multiplies per packet.
 */
static inline uint32_t hash_tuple4(const uint8_t *a, const uint8_t *b, uint16_t pa, uint16_t pb,
				   uint8_t proto, uint64_t vlans)
{
	uint64_t ka = (uint64_t)__builtin_bswap32(load32(a)) << 16 | pa;
	uint64_t kb = (uint64_t)__builtin_bswap32(load32(b)) << 16 | pb;
	uint64_t lo = ka < kb ? ka : kb, hi = ka < kb ? kb : ka;
	uint64_t h = 0x2545f4914f6cdd1dull ^ vlans;

	h = absorb(h, lo | (uint64_t)proto << 56);
	h = absorb(h, hi);
	return (uint32_t)finish(h);
}

static inline uint32_t hash_tuple6(const uint8_t *a, const uint8_t *b, uint16_t pa, uint16_t pb,
				   uint8_t proto, uint64_t vlans)
{
	uint64_t a0 = be64(a), a1 = be64(a + 8), b0 = be64(b), b1 = be64(b + 8);
	uint64_t h = 0x2545f4914f6cdd1dull ^ vlans;
	bool swap = a0 != b0 ? a0 > b0 : a1 != b1 ? a1 > b1 : pa > pb;

	if (swap) {
		uint64_t t0 = a0, t1 = a1;
		uint16_t tp = pa;

		a0 = b0;
		a1 = b1;
		b0 = t0;
		b1 = t1;
		pa = pb;
		pb = tp;
	}
	h = absorb(h, (uint64_t)proto << 32 | (uint64_t)pa << 16 | pb);
	h = absorb(h, a0);
	h = absorb(h, a1);
	h = absorb(h, b0);
	h = absorb(h, b1);
	return (uint32_t)finish(h);
}

uint32_t nj_decode_tuple_hash(const struct nj_pkt *p)
{
	uint16_t sp = 0, dp = 0;

	if (!(p->flags & (NJ_PKT_IPV4 | NJ_PKT_IPV6)))
		return 0;
	if (p->flags & NJ_PKT_HAS_L4) {
		sp = p->sport;
		dp = p->dport;
		if (p->proto == 50) /* ESP: the SPI, folded the same for both sides */
			sp = dp = (uint16_t)(p->esp_spi ^ p->esp_spi >> 16);
	}
	if (p->flags & NJ_PKT_IPV6)
		return hash_tuple6(nj_pkt_src(p), nj_pkt_dst(p), sp, dp, p->proto,
				   vlan_word(p->vlan, p->nvlan) ^ (uint64_t)p->flow_depth << 48);
	return hash_tuple4(nj_pkt_src(p), nj_pkt_dst(p), sp, dp, p->proto,
			   vlan_word(p->vlan, p->nvlan) ^ (uint64_t)p->flow_depth << 48);
}

uint32_t nj_decode_fanout_hash(const uint8_t *data, uint32_t len, uint16_t linktype)
{
	uint16_t vlan[3] = {0, 0, 0};
	uint8_t nvlan = 0;
	uint32_t off;
	uint16_t type;
	unsigned ver;

	switch (linktype) {
	case NJ_LINK_ETHERNET:
		if (len < 14)
			return 0;
		type = rd16(data + 12);
		off = 14;
		break;
	case NJ_LINK_LINUX_SLL:
		if (len < 16)
			return 0;
		type = rd16(data + 14);
		off = 16;
		break;
	case NJ_LINK_LINUX_SLL2:
		if (len < 20)
			return 0;
		type = rd16(data);
		off = 20;
		break;
	case NJ_LINK_NULL:
		off = 4;
		type = 0;
		break;
	case NJ_LINK_CHDLC:
		if (len < 4)
			return 0;
		type = rd16(data + 2);
		off = 4;
		break;
	case NJ_LINK_PPP:
		off = len >= 2 && data[0] == 0xff && data[1] == 0x03 ? 2 : 0;
		if (len <= off)
			return 0;
		off += data[off] & 1 ? 1 : 2;
		type = 0;
		break;
	case NJ_LINK_RAW:
	case NJ_LINK_IPV4:
	case NJ_LINK_IPV6:
		off = 0;
		type = 0;
		break;
	default: return 0;
	}
	/* the link-level headers nj_decode_pkt looks through, bounded as it is */
	for (unsigned layers = 1; layers < NJ_MAX_LAYERS && type; layers++) {
		if ((type == ETH_P_VLAN || type == ETH_P_QINQ || type == ETH_P_QINQ_OLD) &&
		    nvlan < 3 && len - off >= 4) {
			vlan[nvlan++] = rd16(data + off) & 0x0fff;
			type = rd16(data + off + 2);
			off += 4;
		} else if (type == ETH_P_VNTAG && len - off >= 6) {
			type = rd16(data + off + 4);
			off += 6;
		} else if (type == ETH_P_DCE && len - off >= 16) {
			type = rd16(data + off + 14);
			off += 16;
		} else if (type == ETH_P_MPLS_UC || type == ETH_P_MPLS_MC) {
			uint32_t shim = 0;

			while (len - off >= 4 && !(shim & 0x100)) {
				shim = rd32(data + off);
				off += 4;
			}
			if (!(shim & 0x100) || len <= off)
				return 0;
			if (shim >> 12 == 0 || shim >> 12 == 2 || data[off] >> 4 == 4 ||
			    data[off] >> 4 == 6) {
				type = 0; /* IP follows */
			} else if (data[off] >> 4 == 0 && len - off >= 18) {
				type = rd16(data + off + 16); /* control word, Ethernet */
				off += 18;
			} else {
				return 0;
			}
		} else {
			break;
		}
	}
	if (type && type != ETH_P_IPV4 && type != ETH_P_IPV6)
		return 0;
	if (len <= off)
		return 0;
	ver = data[off] >> 4;
	/* plain IP-in-IP and GRE tunnels: hash the inner addresses, so that a
	 * flow seen both tunnelled and not (or on two tunnels) meets one worker */
	for (unsigned t = 0; t < NJ_MAX_TUNNELS; t++) {
		uint32_t in;
		uint8_t proto;

		if (ver == 4 && len - off >= 20 && !(rd16(data + off + 6) & 0x3fff)) {
			proto = data[off + 9];
			in = off + (data[off] & 0x0fu) * 4;
		} else if (ver == 6 && len - off >= 40) {
			proto = data[off + 6];
			in = off + 40;
		} else {
			break;
		}
		if (proto == 47 && len - in >= 8 && !(data[in] & 0xdf) && data[in + 1] == 0 &&
		    (rd16(data + in + 2) == ETH_P_IPV4 || rd16(data + in + 2) == ETH_P_IPV6))
			in += (data[in] & 0x20) ? 8 : 4; /* GRE v0, at most a key */
		else if (proto != 4 && proto != 41)
			break;
		if (len <= in || (data[in] >> 4 != 4 && data[in] >> 4 != 6))
			break;
		off = in;
		ver = data[off] >> 4;
	}
	if (ver == 4 && len - off >= 20)
		return hash_tuple4(data + off + 12, data + off + 16, 0, 0, 0,
				   vlan_word(vlan, nvlan));
	if (ver == 6 && len - off >= 40)
		return hash_tuple6(data + off + 8, data + off + 24, 0, 0, 0,
				   vlan_word(vlan, nvlan));
	return 0;
}

/* ------------------------------------------------------------ context */

void nj_decode_config_defaults(struct nj_decode_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->checksum_validation = 1;
	cfg->defrag_memcap = 32ull << 20;
	cfg->defrag_max_trackers = 65535;
	cfg->defrag_timeout_s = 60;
	cfg->max_datagram = 65535 + 40;
	cfg->tunnel_tracking = 1;
}

struct nj_decode_ctx *nj_decode_create(const struct nj_decode_config *cfg, int socket)
{
	struct nj_decode_ctx *c;

	(void)socket; /* plain C; the dataplane may place it later */
	c = aligned_alloc(NJ_CACHE_LINE, sizeof(*c));
	if (!c)
		return NULL;
	memset(c, 0, sizeof(*c));
	if (cfg)
		c->cfg = *cfg;
	else
		nj_decode_config_defaults(&c->cfg);
	c->csum = !!c->cfg.checksum_validation;
	c->defrag = nj_defrag_create(&c->cfg, &c->st);
	if (!c->defrag)
		goto out_free_ctx;
	return c;

out_free_ctx:
	free(c);
	return NULL;
}

void nj_decode_destroy(struct nj_decode_ctx *c)
{
	if (!c)
		return;
	nj_defrag_destroy(c->defrag);
	free(c);
}

const struct nj_decode_stats *nj_decode_stats(const struct nj_decode_ctx *c)
{
	return &c->st;
}

void nj_decode_burst_begin(struct nj_decode_ctx *c)
{
	nj_defrag_burst_begin(c->defrag);
}

void nj_decode_expire(struct nj_decode_ctx *c, uint64_t now_us)
{
	nj_defrag_expire(c->defrag, now_us);
}

/* ------------------------------------------------------------ stats */

/* Event counter names, built once: "decoder.event." + the event name. */
static const char *const event_stat_names[NJ_DEV_MAX] = {
#define NJ_X(e, s) [NJ_DEV_##e] = "decoder.event." s,
	NJ_DECODE_EVENTS(NJ_X)
#undef NJ_X
};

void nj_decode_stats_foreach(const struct nj_decode_stats *s,
			     void (*fn)(void *arg, const char *name, uint64_t v), void *arg)
{
	fn(arg, "decoder.pkts", s->pkts);
	fn(arg, "decoder.bytes", s->bytes);
	fn(arg, "decoder.invalid", s->invalid);
	fn(arg, "decoder.ipv4", s->ipv4);
	fn(arg, "decoder.ipv6", s->ipv6);
	fn(arg, "decoder.ethernet", s->ethernet);
	fn(arg, "decoder.arp", s->arp);
	fn(arg, "decoder.unknown_ethertype", s->unknown_ethertype);
	fn(arg, "decoder.raw", s->raw);
	fn(arg, "decoder.null", s->null);
	fn(arg, "decoder.sll", s->sll);
	fn(arg, "decoder.sll2", s->sll2);
	fn(arg, "decoder.ppp", s->ppp);
	fn(arg, "decoder.pppoe", s->pppoe);
	fn(arg, "decoder.chdlc", s->chdlc);
	fn(arg, "decoder.vlan", s->vlan);
	fn(arg, "decoder.gre", s->gre);
	fn(arg, "decoder.vlan_qinq", s->vlan_qinq);
	fn(arg, "decoder.vlan_qinqinq", s->vlan_qinqinq);
	fn(arg, "decoder.tcp", s->tcp);
	fn(arg, "decoder.udp", s->udp);
	fn(arg, "decoder.sctp", s->sctp);
	fn(arg, "decoder.icmpv4", s->icmpv4);
	fn(arg, "decoder.icmpv6", s->icmpv6);
	fn(arg, "decoder.too_many_layers", s->too_many_layers);
	fn(arg, "decoder.vntag", s->vntag);
	fn(arg, "decoder.mpls", s->mpls);
	fn(arg, "decoder.esp", s->esp);
	fn(arg, "decoder.ipv4_tso", s->ipv4_tso);
	fn(arg, "decoder.ipv4_in_ipv4", s->ipv4_in_ipv4);
	fn(arg, "decoder.ipv6_in_ipv4", s->ipv6_in_ipv4);
	fn(arg, "decoder.ipv4_in_ipv6", s->ipv4_in_ipv6);
	fn(arg, "decoder.ipv6_in_ipv6", s->ipv6_in_ipv6);
	fn(arg, "decoder.avg_pkt_size", s->pkts ? s->avg_pkt_size_sum / s->pkts : 0);
	fn(arg, "decoder.max_pkt_size", s->max_pkt_size);
	fn(arg, "defrag.ipv4.fragments", s->frag_ipv4_fragments);
	fn(arg, "defrag.ipv4.reassembled", s->frag_ipv4_reassembled);
	fn(arg, "defrag.ipv4.timeouts", s->frag_ipv4_timeouts);
	fn(arg, "defrag.ipv6.fragments", s->frag_ipv6_fragments);
	fn(arg, "defrag.ipv6.reassembled", s->frag_ipv6_reassembled);
	fn(arg, "defrag.ipv6.timeouts", s->frag_ipv6_timeouts);
	fn(arg, "defrag.max_trackers_reached", s->frag_max_trackers);
	fn(arg, "defrag.max_frags_reached", s->frag_memcap);
	fn(arg, "defrag.tracker_soft_reuse", s->frag_tracker_soft_reuse);
	fn(arg, "defrag.memuse", s->frag_memuse);
	for (unsigned i = 0; i < NJ_DEV_MAX; i++)
		fn(arg, event_stat_names[i], s->events[i]);
}
