/* SPDX-License-Identifier: MIT */
/*
 * Packet-level keywords: each compiles to a (match fn, ctx) pair evaluated
 * by nj_detect_match_pkt(). IP: ttl, ipopts, id, sameip, ip_proto, fragbits,
 * fragoffset, tos, checksums; TCP: flags, seq, ack, window, tcp.mss; ICMP:
 * itype, icode, icmp_id, icmp_seq; dsize; decode-event.
 */
#include <string.h>
#include <strings.h>

#include "dataplane/decode_events.h"
#include "dataplane/flow.h"
#include "dataplane/pkt.h"
#include "detect_int.h"

static const uint8_t *ip4_hdr(const struct nj_pkt *p)
{
	return (p->flags & NJ_PKT_IPV4) ? p->data + p->l3_off : NULL;
}

static bool is_tcp(const struct nj_pkt *p)
{
	return p->proto == 6 && (p->flags & NJ_PKT_HAS_L4);
}

static bool is_icmp(const struct nj_pkt *p)
{
	return (p->proto == 1 || p->proto == 58) && (p->flags & NJ_PKT_HAS_L4);
}

/* A keyword whose value is a generic unsigned comparison on one packet field. */
enum ufield { UF_DSIZE = 1, UF_TTL, UF_ID, UF_ITYPE, UF_ICODE, UF_MSS, UF_SEQ, UF_ACK, UF_WINDOW };

struct ucmp {
	struct nj_detect_u64 u;
	uint8_t field;
};

static bool tcp_mss(const struct nj_pkt *p, uint64_t *out)
{
	const uint8_t *th = p->data + p->l4_off;
	unsigned hlen = (unsigned)(th[12] >> 4) * 4, i = 20;

	if (hlen < 20 || (uint32_t)p->l4_off + hlen > p->len)
		return false;
	while (i < hlen) {
		uint8_t kind = th[i];

		if (kind == 0)
			break;
		if (kind == 1) {
			i++;
			continue;
		}
		if (i + 1 >= hlen || th[i + 1] < 2 || i + th[i + 1] > hlen)
			break;
		if (kind == 2 && th[i + 1] == 4) {
			*out = (uint64_t)th[i + 2] << 8 | th[i + 3];
			return true;
		}
		i += th[i + 1];
	}
	return false;
}

static bool m_ucmp(const struct nj_pkt *p, const void *ctx)
{
	const struct ucmp *c = ctx;
	uint64_t v;

	switch (c->field) {
	case UF_DSIZE:
		if (!(p->flags & NJ_PKT_HAS_L4))
			return false;
		v = p->payload_len;
		/* Suricata's signature mask: "!N" (like >, >=, a range, or N > 0)
		 * requires a payload, so an empty packet never matches it */
		if (!v && c->u.op == NJ_UOP_NE)
			return false;
		break;
	case UF_TTL:
		if (!(p->flags & (NJ_PKT_IPV4 | NJ_PKT_IPV6)))
			return false;
		v = p->ip_ttl;
		break;
	case UF_ID:
		if (!(p->flags & NJ_PKT_IPV4))
			return false;
		v = p->ip_id;
		break;
	case UF_ITYPE:
		if (!is_icmp(p))
			return false;
		v = p->icmp_type;
		break;
	case UF_ICODE:
		if (!is_icmp(p))
			return false;
		v = p->icmp_code;
		break;
	case UF_MSS:
		if (!is_tcp(p) || !tcp_mss(p, &v))
			return false;
		break;
	case UF_SEQ:
		if (!is_tcp(p))
			return false;
		v = p->tcp_seq;
		break;
	case UF_ACK:
		if (!is_tcp(p))
			return false;
		v = p->tcp_ack;
		break;
	case UF_WINDOW:
		if (!is_tcp(p))
			return false;
		v = p->tcp_win;
		break;
	default: return false;
	}
	return nj_detect_u64_match(&c->u, v);
}

static int kw_ucmp(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *v)
{
	static const uint64_t maxes[] = {
		[UF_DSIZE] = 65535,    [UF_TTL] = 255,	      [UF_ID] = 65535,
		[UF_ITYPE] = 255,      [UF_ICODE] = 255,      [UF_MSS] = 65535,
		[UF_SEQ] = UINT32_MAX, [UF_ACK] = UINT32_MAX, [UF_WINDOW] = 65535,
	};
	struct ucmp *c = nj_detect_alloc(ps->r, sizeof(*c));
	char err[160];

	if (!c)
		return nj_detect_fail(ps, "out of memory");
	c->field = (uint8_t)kw->arg;
	if (nj_detect_u64_parse(v, maxes[c->field], &c->u, err, sizeof(err)) < 0)
		return nj_detect_fail(ps, "%s", err);
	if (c->field == UF_DSIZE) {
		if (ps->has_dsize)
			return nj_detect_fail(ps, "Can't use 2 or more dsizes in the same sig.  "
						  "Invalidating signature.");
		ps->has_dsize = true;
		ps->dsize = c->u;
	}
	return nj_detect_add_pm(ps, m_ucmp, c);
}
NJ_DETECT_KEYWORD(dsize, .name = "dsize", .flags = NJ_KWF_VALUE, .parse = kw_ucmp, .arg = UF_DSIZE,
		  .doc = "payload size: N, <N, >N, N<>M, !N")
NJ_DETECT_KEYWORD(ttl, .name = "ttl", .flags = NJ_KWF_VALUE, .parse = kw_ucmp, .arg = UF_TTL,
		  .doc = "IP TTL / hop limit")
NJ_DETECT_KEYWORD(id, .name = "id", .flags = NJ_KWF_VALUE, .parse = kw_ucmp, .arg = UF_ID,
		  .doc = "IPv4 identification")
NJ_DETECT_KEYWORD(itype, .name = "itype", .flags = NJ_KWF_VALUE, .parse = kw_ucmp, .arg = UF_ITYPE,
		  .doc = "ICMP type")
NJ_DETECT_KEYWORD(icode, .name = "icode", .flags = NJ_KWF_VALUE, .parse = kw_ucmp, .arg = UF_ICODE,
		  .doc = "ICMP code")
NJ_DETECT_KEYWORD(tcp_mss, .name = "tcp.mss", .flags = NJ_KWF_VALUE, .parse = kw_ucmp,
		  .arg = UF_MSS, .doc = "TCP MSS option value")
NJ_DETECT_KEYWORD(seq, .name = "seq", .flags = NJ_KWF_VALUE, .parse = kw_ucmp, .arg = UF_SEQ,
		  .doc = "TCP sequence number")
NJ_DETECT_KEYWORD(ack, .name = "ack", .flags = NJ_KWF_VALUE, .parse = kw_ucmp, .arg = UF_ACK,
		  .doc = "TCP acknowledgement number")
NJ_DETECT_KEYWORD(window, .name = "window", .flags = NJ_KWF_VALUE, .parse = kw_ucmp,
		  .arg = UF_WINDOW, .doc = "TCP window: [!]N")

/* ---------------------------------------------------------------- flow counters */

/*
 * flow.pkts, flow.bytes (Suricata 8): the flow's packet or byte count (link header
 * included) in a direction, as counted with this packet; flow.age: whole seconds since
 * the flow's first packet. No flow: no match.
 */
enum { FC_PKTS = 1, FC_BYTES = 2, FC_AGE = 3, FC_TOSERVER = 0x10, FC_TOCLIENT = 0x20 };

struct flowcnt {
	struct nj_detect_u64 u;
	uint8_t what; /* FC_PKTS, FC_BYTES, FC_AGE | direction bits (both: either) */
};

static bool m_flowcnt(const struct nj_pkt *p, const void *ctx)
{
	const struct flowcnt *c = ctx;
	const struct nj_flow *f = p->flow;
	uint64_t pk[2], by[2];
	const uint64_t *v;

	if (!f)
		return false;
	if ((c->what & 0x0f) == FC_AGE)
		return nj_detect_u64_match(&c->u, (p->ts_us / 1000000) - (f->start_us / 1000000));
	nj_detect_flow_counts_at(f, p, pk, by);
	v = (c->what & 0x0f) == FC_PKTS ? pk : by;
	return ((c->what & FC_TOCLIENT) && nj_detect_u64_match(&c->u, v[1])) ||
	       ((c->what & FC_TOSERVER) && nj_detect_u64_match(&c->u, v[0]));
}

static int kw_flowcnt(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *v)
{
	struct flowcnt *c = nj_detect_alloc(ps->r, sizeof(*c));
	uint64_t max;
	char err[160];

	if (!c)
		return nj_detect_fail(ps, "out of memory");
	c->what = (uint8_t)kw->arg;
	max = (c->what & 0x0f) == FC_BYTES ? (uint64_t)INT64_MAX : UINT32_MAX;
	if (!(c->what & (FC_TOSERVER | FC_TOCLIENT)) && (c->what & 0x0f) != FC_AGE) {
		/* flow.pkts / flow.bytes: direction, value */
		char *comma = strchr(v, ',');
		size_t n;

		while (*v == ' ' || *v == '\t')
			v++;
		n = comma ? (size_t)(comma - v) : 0;
		while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
			n--;
		if (n == 8 && strncmp(v, "toserver", 8) == 0)
			c->what |= FC_TOSERVER;
		else if (n == 8 && strncmp(v, "toclient", 8) == 0)
			c->what |= FC_TOCLIENT;
		else if (n == 6 && strncmp(v, "either", 6) == 0)
			c->what |= FC_TOSERVER | FC_TOCLIENT;
		else
			return nj_detect_fail(
				ps, "expected toserver, toclient or either, then a value");
		v = comma + 1;
		while (*v == ' ' || *v == '\t')
			v++;
	}
	if (nj_detect_u64_parse(v, max, &c->u, err, sizeof(err)) < 0)
		return nj_detect_fail(ps, "%s", err);
	return nj_detect_add_pm(ps, m_flowcnt, c);
}
NJ_DETECT_KEYWORD(flow_pkts, .name = "flow.pkts", .flags = NJ_KWF_VALUE, .parse = kw_flowcnt,
		  .arg = FC_PKTS,
		  .doc = "packets of the flow: toserver|toclient|either, N, <N, >N ...")
NJ_DETECT_KEYWORD(flow_pkts_ts, .name = "flow.pkts_toserver", .flags = NJ_KWF_VALUE,
		  .parse = kw_flowcnt, .arg = FC_PKTS | FC_TOSERVER,
		  .doc = "packets of the flow to the server: N, <N, >N ...")
NJ_DETECT_KEYWORD(flow_pkts_tc, .name = "flow.pkts_toclient", .flags = NJ_KWF_VALUE,
		  .parse = kw_flowcnt, .arg = FC_PKTS | FC_TOCLIENT,
		  .doc = "packets of the flow to the client: N, <N, >N ...")
NJ_DETECT_KEYWORD(flow_bytes, .name = "flow.bytes", .flags = NJ_KWF_VALUE, .parse = kw_flowcnt,
		  .arg = FC_BYTES,
		  .doc = "bytes of the flow: toserver|toclient|either, N, <N, >N ...")
NJ_DETECT_KEYWORD(flow_bytes_ts, .name = "flow.bytes_toserver", .flags = NJ_KWF_VALUE,
		  .parse = kw_flowcnt, .arg = FC_BYTES | FC_TOSERVER,
		  .doc = "bytes of the flow to the server: N, <N, >N ...")
NJ_DETECT_KEYWORD(flow_bytes_tc, .name = "flow.bytes_toclient", .flags = NJ_KWF_VALUE,
		  .parse = kw_flowcnt, .arg = FC_BYTES | FC_TOCLIENT,
		  .doc = "bytes of the flow to the client: N, <N, >N ...")
NJ_DETECT_KEYWORD(flow_age, .name = "flow.age", .flags = NJ_KWF_VALUE, .parse = kw_flowcnt,
		  .arg = FC_AGE, .doc = "seconds since the flow's first packet: N, <N, >N ...")

/* ---------------------------------------------------------------- ipopts */

static const struct {
	const char *name;
	uint8_t code;
} ipopt_names[] = {
	{"rr", 7},     {"eol", 0},     {"nop", 1},    {"ts", 68},     {"sec", 130}, {"esec", 133},
	{"lsrr", 131}, {"lsrre", 131}, {"ssrr", 137}, {"satid", 136}, {"any", 255},
};

static bool m_ipopts(const struct nj_pkt *p, const void *ctx)
{
	uint8_t want = (uint8_t)(uintptr_t)ctx;
	const uint8_t *ip = ip4_hdr(p);
	unsigned hlen, i = 20;

	if (!ip)
		return false;
	hlen = (unsigned)(ip[0] & 0x0f) * 4;
	if (hlen <= 20 || (uint32_t)p->l3_off + hlen > p->len)
		return false;
	if (want == 255)
		return true;
	while (i < hlen) {
		uint8_t t = ip[i];

		if (t == want)
			return true;
		if (t == 0)
			break;
		if (t == 1) {
			i++;
			continue;
		}
		if (i + 1 >= hlen || ip[i + 1] < 2)
			break;
		i += ip[i + 1];
	}
	return false;
}

static int kw_ipopts(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *v)
{
	(void)kw;
	for (size_t i = 0; i < NJ_ARRAY_SIZE(ipopt_names); i++)
		if (strcmp(v, ipopt_names[i].name) == 0)
			return nj_detect_add_pm(ps, m_ipopts,
						(const void *)(uintptr_t)ipopt_names[i].code);
	return nj_detect_fail(ps, "unknown IP option '%s'", v);
}
NJ_DETECT_KEYWORD(ipopts, .name = "ipopts", .flags = NJ_KWF_VALUE, .parse = kw_ipopts,
		  .doc = "IPv4 option present: rr eol nop ts sec esec lsrr ssrr satid any")

/* ---------------------------------------------------------------- sameip, ip_proto */

static bool m_sameip(const struct nj_pkt *p, const void *ctx)
{
	(void)ctx;
	if (!(p->flags & (NJ_PKT_IPV4 | NJ_PKT_IPV6)))
		return false;
	return memcmp(nj_pkt_src(p), nj_pkt_dst(p), nj_pkt_addr_len(p)) == 0;
}

static int kw_sameip(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *v)
{
	(void)kw;
	(void)v;
	ps->s->flags |= NJ_SIG_SAMEIP;
	return nj_detect_add_pm(ps, m_sameip, NULL);
}
NJ_DETECT_KEYWORD(sameip, .name = "sameip", .flags = NJ_KWF_NOVALUE, .parse = kw_sameip,
		  .doc = "source address equals destination address")

static const struct {
	const char *name;
	uint8_t num;
} ipproto_names[] = {
	{"ip", 0},	    {"hopopt", 0},     {"icmp", 1},	  {"igmp", 2},
	{"ggp", 3},	    {"ipip", 4},       {"tcp", 6},	  {"egp", 8},
	{"pup", 12},	    {"udp", 17},       {"idp", 22},	  {"ipv6", 41},
	{"ipv6-route", 43}, {"ipv6-frag", 44}, {"rsvp", 46},	  {"gre", 47},
	{"esp", 50},	    {"ah", 51},	       {"ipv6-icmp", 58}, {"icmpv6", 58},
	{"ipv6-nonxt", 59}, {"ipv6-opts", 60}, {"eigrp", 88},	  {"ospf", 89},
	{"pim", 103},	    {"vrrp", 112},     {"l2tp", 115},	  {"sctp", 132},
	{"udplite", 136},
};

static bool m_ipproto(const struct nj_pkt *p, const void *ctx)
{
	if (!(p->flags & (NJ_PKT_IPV4 | NJ_PKT_IPV6)))
		return false;
	return nj_detect_u64_match(ctx, p->proto);
}

static int kw_ip_proto(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *v)
{
	struct nj_detect_u64 *u = nj_detect_alloc(ps->r, sizeof(*u));
	char buf[64], err[160], *s = buf;
	const char *pre = "";

	(void)kw;
	if (!u)
		return nj_detect_fail(ps, "out of memory");
	snprintf(buf, sizeof(buf), "%s", v);
	if (*s == '!' || *s == '<' || *s == '>') {
		pre = *s == '!' ? "!" : *s == '<' ? "<" : ">";
		s = nj_detect_trim(s + 1);
	}
	for (size_t i = 0; i < NJ_ARRAY_SIZE(ipproto_names); i++) {
		if (strcasecmp(s, ipproto_names[i].name) == 0) {
			snprintf(buf, sizeof(buf), "%s%u", pre, ipproto_names[i].num);
			s = buf;
			pre = "";
			break;
		}
	}
	{
		char tmp[80];

		snprintf(tmp, sizeof(tmp), "%s%s", pre, s);
		if (nj_detect_u64_parse(tmp, 255, u, err, sizeof(err)) < 0)
			return nj_detect_fail(ps, "invalid ip_proto '%s'", v);
	}
	return nj_detect_add_pm(ps, m_ipproto, u);
}
NJ_DETECT_KEYWORD(ip_proto, .name = "ip_proto", .flags = NJ_KWF_VALUE, .parse = kw_ip_proto,
		  .doc = "IP protocol number or name, with ! < >")

/* ---------------------------------------------------------------- fragbits, fragoffset, tos */

#define FB_NONE 0
#define FB_PLUS 1
#define FB_ANY	2
#define FB_NOT	3

struct bits {
	uint8_t bits, mod, ignore;
};

static bool bits_match(const struct bits *b, uint8_t v)
{
	v &= (uint8_t)~b->ignore;
	switch (b->mod) {
	case FB_PLUS: return (v & b->bits) == b->bits;
	case FB_ANY: return b->bits ? (v & b->bits) != 0 : v == 0;
	case FB_NOT: return (v & b->bits) != b->bits;
	default: return v == b->bits;
	}
}

static bool m_fragbits(const struct nj_pkt *p, const void *ctx)
{
	const uint8_t *ip = ip4_hdr(p);

	if (!ip)
		return false;
	return bits_match(ctx, ip[6] & 0xe0);
}

static int parse_bits(struct nj_detect_parse *ps, const char *v, struct bits *b, bool tcp)
{
	for (const char *c = v; *c; c++) {
		switch (*c) {
		case '+': b->mod = FB_PLUS; break;
		case '*': b->mod = FB_ANY; break;
		case '!': b->mod = FB_NOT; break;
		case ' ': break;
		default:
			if (!tcp) {
				if (*c == 'M')
					b->bits |= 0x20;
				else if (*c == 'D')
					b->bits |= 0x40;
				else if (*c == 'R')
					b->bits |= 0x80;
				else
					return nj_detect_fail(ps, "invalid fragbits '%s'", v);
				break;
			}
			switch (*c) {
			case 'F': b->bits |= 0x01; break;
			case 'S': b->bits |= 0x02; break;
			case 'R': b->bits |= 0x04; break;
			case 'P': b->bits |= 0x08; break;
			case 'A': b->bits |= 0x10; break;
			case 'U': b->bits |= 0x20; break;
			case 'E':
			case '2': b->bits |= 0x40; break;
			case 'C':
			case '1': b->bits |= 0x80; break;
			case '0': break;
			default: return nj_detect_fail(ps, "invalid TCP flag '%c' in '%s'", *c, v);
			}
		}
	}
	return 0;
}

static int kw_fragbits(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *v)
{
	struct bits *b = nj_detect_alloc(ps->r, sizeof(*b));

	(void)kw;
	if (!b)
		return nj_detect_fail(ps, "out of memory");
	if (parse_bits(ps, v, b, false) < 0)
		return -1;
	return nj_detect_add_pm(ps, m_fragbits, b);
}
NJ_DETECT_KEYWORD(fragbits, .name = "fragbits", .flags = NJ_KWF_VALUE, .parse = kw_fragbits,
		  .doc = "IPv4 flags M D R with + * ! modifiers")

static bool m_tcpflags(const struct nj_pkt *p, const void *ctx)
{
	return is_tcp(p) && bits_match(ctx, p->tcp_flags);
}

static int kw_flags(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *v)
{
	struct bits *b = nj_detect_alloc(ps->r, sizeof(*b));
	char *parts[3];
	unsigned n;

	(void)kw;
	if (!b)
		return nj_detect_fail(ps, "out of memory");
	n = nj_detect_split(v, ',', parts, 3);
	if (n < 1 || n > 2 || !*parts[0])
		return nj_detect_fail(ps, "invalid flags '%s'", v);
	if (parse_bits(ps, parts[0], b, true) < 0)
		return -1;
	if (n == 2) {
		struct bits ign = {0};

		if (parse_bits(ps, parts[1], &ign, true) < 0 || ign.mod)
			return nj_detect_fail(ps, "invalid flags mask '%s'", parts[1]);
		b->ignore = ign.bits;
	}
	return nj_detect_add_pm(ps, m_tcpflags, b);
}
NJ_DETECT_KEYWORD(flags, .name = "flags", .aliases = (const char *const[]){"tcp.flags", NULL},
		  .flags = NJ_KWF_VALUE, .parse = kw_flags,
		  .doc = "TCP flags FSRPAUCE0 with + * ! modifiers and an ignore mask")

static bool m_fragoffset(const struct nj_pkt *p, const void *ctx)
{
	const uint8_t *ip = ip4_hdr(p);

	if (!ip)
		return false;
	return nj_detect_u64_match(ctx, (uint64_t)((ip[6] & 0x1f) << 8 | ip[7]));
}

static bool m_tos(const struct nj_pkt *p, const void *ctx)
{
	const uint8_t *ip = ip4_hdr(p);

	return ip && nj_detect_u64_match(ctx, ip[1]);
}

static int kw_ipfield(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *v)
{
	struct nj_detect_u64 *u = nj_detect_alloc(ps->r, sizeof(*u));
	char err[160];

	if (!u)
		return nj_detect_fail(ps, "out of memory");
	if (nj_detect_u64_parse(v, kw->arg ? 255 : 8191, u, err, sizeof(err)) < 0)
		return nj_detect_fail(ps, "%s", err);
	return nj_detect_add_pm(ps, kw->arg ? m_tos : m_fragoffset, u);
}
NJ_DETECT_KEYWORD(fragoffset, .name = "fragoffset", .flags = NJ_KWF_VALUE, .parse = kw_ipfield,
		  .arg = 0, .doc = "IPv4 fragment offset: [!|<|>]N")
NJ_DETECT_KEYWORD(tos, .name = "tos", .flags = NJ_KWF_VALUE, .parse = kw_ipfield, .arg = 1,
		  .doc = "IPv4 TOS byte: [!]N (decimal or 0x)")

/* ---------------------------------------------------------------- icmp_id, icmp_seq */

static bool icmp_has_id(const struct nj_pkt *p)
{
	if (p->proto == 1)
		return p->icmp_type == 0 || p->icmp_type == 8 ||
		       (p->icmp_type >= 13 && p->icmp_type <= 18);
	return p->icmp_type == 128 || p->icmp_type == 129;
}

static bool m_icmp_field(const struct nj_pkt *p, const void *ctx)
{
	const struct ucmp *c = ctx;
	const uint8_t *h;

	if (!is_icmp(p) || !icmp_has_id(p) || (uint32_t)p->l4_off + 8 > p->len)
		return false;
	h = p->data + p->l4_off + (c->field ? 6 : 4);
	return nj_detect_u64_match(&c->u, (uint64_t)h[0] << 8 | h[1]);
}

static int kw_icmp_field(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *v)
{
	struct ucmp *c = nj_detect_alloc(ps->r, sizeof(*c));
	char err[160];

	if (!c)
		return nj_detect_fail(ps, "out of memory");
	c->field = (uint8_t)kw->arg;
	if (nj_detect_u64_parse(v, 65535, &c->u, err, sizeof(err)) < 0)
		return nj_detect_fail(ps, "%s", err);
	return nj_detect_add_pm(ps, m_icmp_field, c);
}
NJ_DETECT_KEYWORD(icmp_id, .name = "icmp_id", .flags = NJ_KWF_VALUE | NJ_KWF_STRIP_QUOTES,
		  .parse = kw_icmp_field, .arg = 0, .doc = "ICMP echo identifier")
NJ_DETECT_KEYWORD(icmp_seq, .name = "icmp_seq", .flags = NJ_KWF_VALUE | NJ_KWF_STRIP_QUOTES,
		  .parse = kw_icmp_field, .arg = 1, .doc = "ICMP echo sequence")

/* ---------------------------------------------------------------- checksums */

struct csum {
	uint8_t l4proto; /* 0: IPv4 header */
	uint8_t family;	 /* 4 or 6 */
	bool valid;
};

static bool m_csum(const struct nj_pkt *p, const void *ctx)
{
	const struct csum *c = ctx;
	bool bad;

	if (c->family == 4 && !(p->flags & NJ_PKT_IPV4))
		return false;
	if (c->family == 6 && !(p->flags & NJ_PKT_IPV6))
		return false;
	if (c->l4proto) {
		if (p->proto != c->l4proto || !(p->flags & NJ_PKT_HAS_L4))
			return false;
		/* Suricata: a zero UDP/IPv4 checksum ("none") matches neither value */
		if (c->l4proto == 17 && c->family == 4 && p->data[p->l4_off + 6] == 0 &&
		    p->data[p->l4_off + 7] == 0)
			return false;
		/* the decoder validated it unless checksum checks are off, in which case
		 * Suricata (PKT_IGNORE_CHECKSUM) takes every checksum as valid too */
		bad = p->flags & NJ_PKT_L4_CSUM_BAD;
	} else {
		bad = p->flags & NJ_PKT_IPV4_CSUM_BAD;
	}
	return c->valid ? !bad : bad;
}

static int kw_csum(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *v)
{
	struct csum *c = nj_detect_alloc(ps->r, sizeof(*c));

	if (!c)
		return nj_detect_fail(ps, "out of memory");
	c->l4proto = (uint8_t)(kw->arg & 0xff);
	c->family = (uint8_t)(kw->arg >> 8);
	if (strcasecmp(v, "valid") == 0)
		c->valid = true;
	else if (strcasecmp(v, "invalid") != 0)
		return nj_detect_fail(ps, "expected valid or invalid, not '%s'", v);
	return nj_detect_add_pm(ps, m_csum, c);
}
NJ_DETECT_KEYWORD(ipv4_csum, .name = "ipv4-csum", .flags = NJ_KWF_VALUE | NJ_KWF_STRIP_QUOTES,
		  .parse = kw_csum, .arg = 4 << 8, .doc = "valid|invalid")
NJ_DETECT_KEYWORD(tcpv4_csum, .name = "tcpv4-csum", .flags = NJ_KWF_VALUE | NJ_KWF_STRIP_QUOTES,
		  .parse = kw_csum, .arg = 4 << 8 | 6, .doc = "valid|invalid")
NJ_DETECT_KEYWORD(tcpv6_csum, .name = "tcpv6-csum", .flags = NJ_KWF_VALUE | NJ_KWF_STRIP_QUOTES,
		  .parse = kw_csum, .arg = 6 << 8 | 6, .doc = "valid|invalid")
NJ_DETECT_KEYWORD(udpv4_csum, .name = "udpv4-csum", .flags = NJ_KWF_VALUE | NJ_KWF_STRIP_QUOTES,
		  .parse = kw_csum, .arg = 4 << 8 | 17, .doc = "valid|invalid")
NJ_DETECT_KEYWORD(udpv6_csum, .name = "udpv6-csum", .flags = NJ_KWF_VALUE | NJ_KWF_STRIP_QUOTES,
		  .parse = kw_csum, .arg = 6 << 8 | 17, .doc = "valid|invalid")
NJ_DETECT_KEYWORD(icmpv4_csum, .name = "icmpv4-csum", .flags = NJ_KWF_VALUE | NJ_KWF_STRIP_QUOTES,
		  .parse = kw_csum, .arg = 4 << 8 | 1, .doc = "valid|invalid")
NJ_DETECT_KEYWORD(icmpv6_csum, .name = "icmpv6-csum", .flags = NJ_KWF_VALUE | NJ_KWF_STRIP_QUOTES,
		  .parse = kw_csum, .arg = 6 << 8 | 58, .doc = "valid|invalid")

/* ---------------------------------------------------------------- decode-event */

static bool m_decode_event(const struct nj_pkt *p, const void *ctx)
{
	uint16_t ev = (uint16_t)(uintptr_t)ctx;

	for (unsigned i = 0; i < p->nevents && i < NJ_PKT_MAX_EVENTS; i++)
		if (p->events[i] == ev)
			return true;
	return false;
}

static int kw_decode_event(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *v)
{
	const char *name = v;

	(void)kw;
	if (strncmp(name, "decoder.", 8) == 0)
		name += 8;
	for (unsigned i = 0; i < NJ_DEV_MAX; i++)
		if (strcasecmp(nj_decode_event_names[i], name) == 0)
			return nj_detect_add_pm(ps, m_decode_event, (const void *)(uintptr_t)i);
	return nj_detect_unsupported(ps, "decode-event %s is not produced by the decoder", v);
}
NJ_DETECT_KEYWORD(decode_event, .name = "decode-event", .flags = NJ_KWF_VALUE,
		  .parse = kw_decode_event,
		  .doc = "decoder event (first 4 of the packet); events the decoder lacks skip the "
			 "rule")
