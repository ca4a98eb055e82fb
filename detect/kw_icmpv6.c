/* SPDX-License-Identifier: MIT */
/*
 * icmpv6.mtu (Suricata's): the MTU field of an ICMPv6 Packet Too Big
 * message (type 2, code 0), compared as an unsigned 32-bit integer. Other
 * packets never match.
 */
#include <string.h>

#include "dataplane/pkt.h"
#include "detect_int.h"

static bool m_icmpv6_mtu(const struct nj_pkt *p, const void *ctx)
{
	const uint8_t *h;
	uint32_t mtu;

	if (!(p->flags & NJ_PKT_IPV6) || p->proto != 58 || !(p->flags & NJ_PKT_HAS_L4) ||
	    p->icmp_type != 2 || p->icmp_code != 0 || (uint32_t)p->l4_off + 8 > p->len)
		return false;
	h = p->data + p->l4_off + 4;
	mtu = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
	return nj_detect_u64_match(ctx, mtu);
}

static int kw_icmpv6_mtu(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *v)
{
	struct nj_detect_u64 *u = nj_detect_alloc(ps->r, sizeof(*u));
	char err[128];

	(void)kw;
	if (!u)
		return nj_detect_fail(ps, "out of memory");
	if (nj_detect_u64_parse(v, UINT32_MAX, u, err, sizeof(err)) < 0)
		return nj_detect_fail(ps, "invalid icmpv6.mtu value: %s", err);
	return nj_detect_add_pm(ps, m_icmpv6_mtu, u);
}
NJ_DETECT_KEYWORD(icmpv6_mtu, .name = "icmpv6.mtu", .flags = NJ_KWF_VALUE | NJ_KWF_STRIP_QUOTES,
		  .parse = kw_icmpv6_mtu,
		  .doc = "MTU of an ICMPv6 Packet Too Big: N, <N, >N, N-M ...")
