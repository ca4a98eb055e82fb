/* SPDX-License-Identifier: MIT */
/*
 * Decoder and defragmentation unit tests: hand-built packets for every layer
 * and event, truncation at every length, checksums, hashes, reassembly
 * policies and limits, a mutation loop, and real captures from the corpus
 * (skipped with a message when ../shared/corpus is absent).
 *
 * Packets are copied into heap buffers of their exact length before decoding
 * so that ASan catches any read past the captured bytes.
 */
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/decode.h"

/* The corpus sits next to the repository; meson passes the source root. */
#ifdef NJ_DECODE_SRCROOT
#define CORPUS NJ_DECODE_SRCROOT "/../shared/corpus/"
#else
#define CORPUS "../shared/corpus/"
#endif

static int checks;

#define CHECK(cond, ...)                                                                         \
	do {                                                                                     \
		checks++;                                                                        \
		if (!(cond)) {                                                                   \
			fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);                                            \
			fprintf(stderr, "\n");                                                   \
			exit(1);                                                                 \
		}                                                                                \
	} while (0)

/* ------------------------------------------------------------ helpers */

static struct nj_decode_ctx *ctx_new(int csum)
{
	struct nj_decode_config cfg;
	struct nj_decode_ctx *c;

	nj_decode_config_defaults(&cfg);
	cfg.checksum_validation = csum;
	c = nj_decode_create(&cfg, 0);
	CHECK(c, "create");
	return c;
}

/* Decode a copy of buf in an exact-size heap buffer. */
static void decode_exact(struct nj_decode_ctx *c, struct nj_pkt *p, const uint8_t *buf,
			 uint32_t len, uint32_t wire_len, uint16_t linktype, uint8_t **keep)
{
	uint8_t *copy = malloc(len ? len : 1);

	CHECK(copy, "malloc");
	memcpy(copy, buf, len);
	memset(p, 0, sizeof(*p));
	p->data = copy;
	p->len = len;
	p->wire_len = wire_len;
	p->linktype = linktype;
	p->ts_us = 1000000;
	nj_decode_pkt(c, p);
	*keep = copy;
}

static struct nj_pkt decode(struct nj_decode_ctx *c, const uint8_t *buf, uint32_t len,
			    uint16_t linktype)
{
	struct nj_pkt p;
	uint8_t *copy;

	decode_exact(c, &p, buf, len, len, linktype, &copy);
	/* keep the caller's view valid: point back at the caller's buffer */
	if (!(p.flags & NJ_PKT_REASSEMBLED))
		p.data = buf;
	free(copy);
	return p;
}

static bool has_event(const struct nj_pkt *p, enum nj_decode_event e)
{
	for (unsigned i = 0; i < p->nevents; i++)
		if (p->events[i] == e)
			return true;
	return false;
}

static const char *events_str(const struct nj_pkt *p)
{
	static char s[256];
	size_t n = 0;

	s[0] = 0;
	for (unsigned i = 0; i < p->nevents && n < sizeof(s) - 64; i++)
		n += (size_t)snprintf(s + n, sizeof(s) - n, "%s ",
				      nj_decode_event_names[p->events[i]]);
	return s;
}

#define CHECK_EVENT(p, e) \
	CHECK(has_event(&(p), NJ_DEV_##e), "want %s, got [%s]", #e, events_str(&(p)))
#define CHECK_NO_EVENTS(p) CHECK((p).nevents == 0, "unexpected events [%s]", events_str(&(p)))

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
	wr16(p, (uint16_t)(v >> 16));
	wr16(p + 2, (uint16_t)v);
}

/* Plain big-endian RFC 1071, independent of the decoder's version. */
static uint32_t sum16(uint32_t s, const uint8_t *p, uint32_t len)
{
	for (uint32_t i = 0; i + 1 < len; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		s += (uint32_t)p[len - 1] << 8;
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static const uint8_t ip4_a[4] = {10, 0, 0, 1}, ip4_b[4] = {192, 168, 7, 9};
static const uint8_t ip6_a[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
static const uint8_t ip6_b[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xab, 2};

static uint32_t eth(uint8_t *b, uint16_t type)
{
	static const uint8_t mac[12] = {0, 1, 2, 3, 4, 5, 0, 6, 7, 8, 9, 10};

	memcpy(b, mac, 12);
	wr16(b + 12, type);
	return 14;
}

/* IPv4 header with options; l4len bytes are expected to follow. */
static uint32_t ip4(uint8_t *b, uint8_t proto, const uint8_t *src, const uint8_t *dst,
		    uint32_t l4len, uint16_t id, uint16_t frag, const uint8_t *opt, uint32_t optlen)
{
	uint32_t hlen = 20 + optlen;

	memset(b, 0, hlen);
	b[0] = (uint8_t)(0x40 | (hlen / 4));
	wr16(b + 2, (uint16_t)(hlen + l4len));
	wr16(b + 4, id);
	wr16(b + 6, frag);
	b[8] = 64;
	b[9] = proto;
	memcpy(b + 12, src, 4);
	memcpy(b + 16, dst, 4);
	if (optlen)
		memcpy(b + 20, opt, optlen);
	wr16(b + 10, fold(sum16(0, b, hlen)));
	return hlen;
}

static uint32_t ip6(uint8_t *b, uint8_t nh, const uint8_t *src, const uint8_t *dst, uint32_t plen)
{
	memset(b, 0, 40);
	b[0] = 0x60;
	wr16(b + 4, (uint16_t)plen);
	b[6] = nh;
	b[7] = 64;
	memcpy(b + 8, src, 16);
	memcpy(b + 24, dst, 16);
	return 40;
}

/* Fill the L4 checksum at csum_off of the segment at l4 (ip: the IP header). */
static void l4_csum(const uint8_t *ip, uint8_t *l4, uint32_t len, uint8_t proto, uint32_t csum_off)
{
	uint32_t s = 0;

	wr16(l4 + csum_off, 0);
	if ((ip[0] >> 4) == 4) {
		s = sum16(s, ip + 12, 8);
		s += proto + len;
	} else {
		s = sum16(s, ip + 8, 32);
		s += proto + (len & 0xffff) + (len >> 16);
	}
	if (proto == 1) /* ICMPv4 has no pseudo-header */
		s = 0;
	s = sum16(s, l4, len);
	wr16(l4 + csum_off, fold(s));
}

static uint32_t tcp(uint8_t *b, uint16_t sp, uint16_t dp, uint8_t flags, const uint8_t *opt,
		    uint32_t optlen, uint32_t plen)
{
	uint32_t hlen = 20 + optlen;

	memset(b, 0, hlen);
	wr16(b, sp);
	wr16(b + 2, dp);
	wr32(b + 4, 0x01020304);
	wr32(b + 8, 0x0a0b0c0d);
	b[12] = (uint8_t)((hlen / 4) << 4);
	b[13] = flags;
	wr16(b + 14, 29200);
	if (optlen)
		memcpy(b + 20, opt, optlen);
	for (uint32_t i = 0; i < plen; i++)
		b[hlen + i] = (uint8_t)('A' + i % 26);
	return hlen + plen;
}

static uint32_t udp(uint8_t *b, uint16_t sp, uint16_t dp, uint32_t plen)
{
	wr16(b, sp);
	wr16(b + 2, dp);
	wr16(b + 4, (uint16_t)(8 + plen));
	wr16(b + 6, 0);
	for (uint32_t i = 0; i < plen; i++)
		b[8 + i] = (uint8_t)(i * 7 + 3);
	return 8 + plen;
}

/* Ethernet + IPv4 + TCP (payload plen) with correct checksums. */
static uint32_t pkt_tcp4(uint8_t *b, const uint8_t *src, const uint8_t *dst, uint16_t sp,
			 uint16_t dp, uint32_t plen)
{
	static const uint8_t opts[] = {2, 4, 0x05, 0xb4, 1, 3, 3, 7, 4, 2, 1, 1};
	uint32_t o = eth(b, 0x0800), l4;

	l4 = tcp(b + o + 20, sp, dp, 0x18, opts, sizeof(opts), plen);
	ip4(b + o, 6, src, dst, l4, 0x1234, 0x4000, NULL, 0);
	l4_csum(b + o, b + o + 20, l4, 6, 16);
	return o + 20 + l4;
}

static uint32_t pkt_udp6(uint8_t *b, const uint8_t *src, const uint8_t *dst, uint16_t sp,
			 uint16_t dp, uint32_t plen)
{
	uint32_t o = eth(b, 0x86dd), l4;

	l4 = udp(b + o + 40, sp, dp, plen);
	ip6(b + o, 17, src, dst, l4);
	l4_csum(b + o, b + o + 40, l4, 17, 6);
	return o + 40 + l4;
}

/* ------------------------------------------------------------ tunnels */

/* Outer Ethernet + IPv4/IPv6 with protocol proto around inner[n]. */
static uint32_t outer_ip(uint8_t *b, bool v6, uint8_t proto, const uint8_t *inner, uint32_t n)
{
	uint32_t o = eth(b, v6 ? 0x86dd : 0x0800);

	if (v6)
		o += ip6(b + o, proto, ip6_b, ip6_a, n);
	else
		o += ip4(b + o, proto, ip4_b, ip4_a, n, 7, 0, NULL, 0);
	memcpy(b + o, inner, n);
	return o + n;
}

static void test_tunnels(void)
{
	static const uint8_t in_a[4] = {1, 1, 1, 1}, in_b[4] = {2, 2, 2, 2};
	struct nj_decode_ctx *c = ctx_new(1);
	uint8_t inner[256], b[512], gre[300];
	uint32_t n, l4, len, plain_hash;
	struct nj_pkt p, q;

	/* inner IPv4 + TCP 1.1.1.1:1234 -> 2.2.2.2:80, 10 bytes of payload */
	l4 = tcp(inner + 20, 1234, 80, 0x18, NULL, 0, 10);
	n = ip4(inner, 6, in_a, in_b, l4, 1, 0, NULL, 0) + l4;
	l4_csum(inner, inner + 20, l4, 6, 16);
	len = eth(b, 0x0800);
	memcpy(b + len, inner, n);
	p = decode(c, b, len + n, NJ_LINK_ETHERNET);
	CHECK(p.tunnel_depth == 0 && (p.flags & NJ_PKT_HAS_L4), "plain");
	plain_hash = p.hash;

	/* IPv4 in IPv6 and in IPv4: the inner tuple, depth 1, own hash */
	for (int v6 = 0; v6 < 2; v6++) {
		len = outer_ip(b, v6, 4, inner, n);
		p = decode(c, b, len, NJ_LINK_ETHERNET);
		CHECK_NO_EVENTS(p);
		CHECK((p.flags & NJ_PKT_IPV4) && !(p.flags & NJ_PKT_IPV6), "inner v4 (outer v6 %d)",
		      v6);
		CHECK(p.proto == 6 && p.sport == 1234 && p.dport == 80 && p.payload_len == 10,
		      "inner tcp: proto %u %u->%u", p.proto, p.sport, p.dport);
		CHECK(!memcmp(nj_pkt_src(&p), in_a, 4) && !memcmp(nj_pkt_dst(&p), in_b, 4),
		      "inner addresses");
		CHECK(p.tunnel_depth == 1 && p.flow_depth == 1, "depth %u", p.tunnel_depth);
		CHECK(p.hash && p.hash != plain_hash, "depth takes part in the hash");
	}
	CHECK(nj_decode_stats(c)->ipv4_in_ipv4 == 1 && nj_decode_stats(c)->ipv4_in_ipv6 == 1,
	      "tunnel counters");

	/* the fan-out hash looks through the tunnel: same worker as the plain flow */
	{
		uint8_t pl[128];
		uint32_t pn = eth(pl, 0x0800);

		memcpy(pl + pn, inner, n);
		len = outer_ip(b, true, 4, inner, n);
		CHECK(nj_decode_fanout_hash(b, len, NJ_LINK_ETHERNET) ==
			      nj_decode_fanout_hash(pl, pn + n, NJ_LINK_ETHERNET),
		      "fan-out through IPv4-in-IPv6");
	}

	/* tracking off: the depth stays out of the key and the hash */
	{
		struct nj_decode_config cfg;
		struct nj_decode_ctx *c2;

		nj_decode_config_defaults(&cfg);
		cfg.tunnel_tracking = 0;
		c2 = nj_decode_create(&cfg, 0);
		CHECK(c2, "create");
		len = outer_ip(b, true, 4, inner, n);
		q = decode(c2, b, len, NJ_LINK_ETHERNET);
		CHECK(q.tunnel_depth == 1 && q.flow_depth == 0 && q.hash == plain_hash,
		      "untracked depth: hash %08x vs %08x", q.hash, plain_hash);
		nj_decode_destroy(c2);
	}

	/* IPv6 in IPv4 (6in4) and IPv6 in IPv6 */
	{
		uint8_t in6[128];
		uint32_t n6;

		l4 = udp(in6 + 40, 5353, 53, 4);
		n6 = ip6(in6, 17, ip6_a, ip6_b, l4) + l4;
		l4_csum(in6, in6 + 40, l4, 17, 6);
		for (int v6 = 0; v6 < 2; v6++) {
			len = outer_ip(b, v6, 41, in6, n6);
			p = decode(c, b, len, NJ_LINK_ETHERNET);
			CHECK_NO_EVENTS(p);
			CHECK((p.flags & NJ_PKT_IPV6) && p.proto == 17 && p.dport == 53 &&
				      p.tunnel_depth == 1,
			      "6in%d", v6 ? 6 : 4);
		}
		/* wrong inner version and too short inner headers are events */
		in6[0] = 0x45;
		len = outer_ip(b, true, 41, in6, n6);
		p = decode(c, b, len, NJ_LINK_ETHERNET);
		CHECK_EVENT(p, IPV6_IN_IPV6_WRONG_IP_VER);
		len = outer_ip(b, true, 4, inner, 12);
		p = decode(c, b, len, NJ_LINK_ETHERNET);
		CHECK_EVENT(p, IPV4_IN_IPV6_PKT_TOO_SMALL);
	}

	/* GRE v0 with a key and a sequence number, then IPv4 */
	memset(gre, 0, sizeof(gre));
	gre[0] = 0x30;
	wr16(gre + 2, 0x0800);
	memcpy(gre + 12, inner, n);
	len = outer_ip(b, false, 47, gre, 12 + n);
	p = decode(c, b, len, NJ_LINK_ETHERNET);
	CHECK_NO_EVENTS(p);
	CHECK(p.proto == 6 && p.sport == 1234 && p.tunnel_depth == 1 &&
		      !memcmp(nj_pkt_src(&p), in_a, 4),
	      "gre v0");
	CHECK(nj_decode_stats(c)->gre == 1, "gre counted");

	/* GRE transparent Ethernet bridging: inner Ethernet + VLAN + IPv4 */
	memset(gre, 0, sizeof(gre));
	wr16(gre + 2, 0x6558);
	{
		uint32_t o = 4 + eth(gre + 4, 0x8100);

		wr16(gre + o, 42);
		wr16(gre + o + 2, 0x0800);
		memcpy(gre + o + 4, inner, n);
		len = outer_ip(b, false, 47, gre, o + 4 + n);
	}
	p = decode(c, b, len, NJ_LINK_ETHERNET);
	CHECK_NO_EVENTS(p);
	CHECK(p.proto == 6 && p.nvlan == 1 && p.vlan[0] == 42 && p.eth_off == 14 + 20 + 4,
	      "gre teb: proto %u nvlan %u eth_off %u", p.proto, p.nvlan, p.eth_off);

	/* malformed GRE: events, no flow */
	memset(gre, 0, sizeof(gre));
	gre[1] = 2; /* version 2 */
	len = outer_ip(b, false, 47, gre, 8);
	p = decode(c, b, len, NJ_LINK_ETHERNET);
	CHECK_EVENT(p, GRE_WRONG_VERSION);
	CHECK(p.flags & NJ_PKT_INVALID, "wrong version invalid");
	gre[1] = 0;
	gre[0] = 0x01; /* recursion control */
	len = outer_ip(b, false, 47, gre, 8);
	p = decode(c, b, len, NJ_LINK_ETHERNET);
	CHECK_EVENT(p, GRE_VERSION0_RECUR);
	gre[0] = 0xb0; /* checksum, key, sequence: 16 bytes, only 8 there */
	len = outer_ip(b, false, 47, gre, 8);
	p = decode(c, b, len, NJ_LINK_ETHERNET);
	CHECK_EVENT(p, GRE_VERSION0_HDR_TOO_BIG);
	gre[0] = 0x30; /* PPTP GRE without the PPP protocol */
	gre[1] = 1;
	wr16(gre + 2, 0x0800);
	len = outer_ip(b, false, 47, gre, 16);
	p = decode(c, b, len, NJ_LINK_ETHERNET);
	CHECK_EVENT(p, GRE_VERSION1_WRONG_PROTOCOL);
	{
		/* each PPTP header check in turn: first byte, second byte, event */
		static const struct {
			uint8_t b0, b1;
			enum nj_decode_event ev;
		} v1[] = {
			{0xb0, 1, NJ_DEV_GRE_VERSION1_CHKSUM},
			{0x70, 1, NJ_DEV_GRE_VERSION1_ROUTE},
			{0x38, 1, NJ_DEV_GRE_VERSION1_SSR},
			{0x31, 1, NJ_DEV_GRE_VERSION1_RECUR},
			{0x30, 9, NJ_DEV_GRE_VERSION1_FLAGS},
			{0x10, 1, NJ_DEV_GRE_VERSION1_NO_KEY},
			{0x30, 0x81, NJ_DEV_GRE_VERSION1_HDR_TOO_BIG},
		};

		wr16(gre + 2, 0x880b);
		for (unsigned i = 0; i < NJ_ARRAY_SIZE(v1); i++) {
			gre[0] = v1[i].b0;
			gre[1] = v1[i].b1;
			len = outer_ip(b, false, 47, gre,
				       v1[i].ev == NJ_DEV_GRE_VERSION1_HDR_TOO_BIG ? 12 : 16);
			p = decode(c, b, len, NJ_LINK_ETHERNET);
			CHECK(has_event(&p, v1[i].ev) && (p.flags & NJ_PKT_INVALID),
			      "gre v1 case %u: want %s, got [%s]", i,
			      nj_decode_event_names[v1[i].ev], events_str(&p));
		}
		/* a good PPTP header with key and sequence: PPP inside is decoded */
		gre[0] = 0x30;
		gre[1] = 1;
		gre[12] = 0x00;
		gre[13] = 0x21; /* PPP: IPv4 */
		memcpy(gre + 14, inner, n);
		len = outer_ip(b, false, 47, gre, 14 + n);
		p = decode(c, b, len, NJ_LINK_ETHERNET);
		CHECK(p.proto == 6 && p.sport == 1234 && p.tunnel_depth == 1,
		      "gre v1 ppp: proto %u [%s]", p.proto, events_str(&p));
		wr16(gre + 2, 0x0800);
	}
	len = outer_ip(b, false, 47, gre, 2);
	p = decode(c, b, len, NJ_LINK_ETHERNET);
	CHECK_EVENT(p, GRE_PKT_TOO_SMALL);

	/* tunnels nested past the limit end in too_many_layers, never a loop */
	{
		uint8_t deep[2048];
		uint32_t dn = n;

		/* build outward: each layer an IPv4 header with proto 4 */
		memcpy(deep, inner, n);
		for (int i = 0; i < 12; i++) {
			memmove(deep + 20, deep, dn);
			ip4(deep, 4, ip4_a, ip4_b, dn, 0, 0, NULL, 0);
			dn += 20;
		}
		len = outer_ip(b, false, 4, deep, dn);
		p = decode(c, b, len, NJ_LINK_ETHERNET);
		CHECK_EVENT(p, TOO_MANY_LAYERS);
	}
	nj_decode_destroy(c);
}

/* ------------------------------------------------------------ basic layers */

static void test_tcp4(void)
{
	struct nj_decode_ctx *c = ctx_new(1);
	uint8_t b[256];
	uint32_t n = pkt_tcp4(b, ip4_a, ip4_b, 40000, 80, 33);
	struct nj_pkt p = decode(c, b, n, NJ_LINK_ETHERNET);

	CHECK(p.flags == (NJ_PKT_ETH | NJ_PKT_IPV4 | NJ_PKT_HAS_L4) && p.eth_off == 0, "flags %#x",
	      p.flags);
	CHECK_NO_EVENTS(p);
	CHECK(p.proto == 6 && p.sport == 40000 && p.dport == 80, "tuple");
	CHECK(p.l3_off == 14 && p.l4_off == 34 && p.payload_off == 34 + 32, "offsets");
	CHECK(p.payload_len == 33, "payload_len %u", p.payload_len);
	CHECK(p.tcp_seq == 0x01020304 && p.tcp_ack == 0x0a0b0c0d && p.tcp_win == 29200, "tcp");
	CHECK(p.tcp_flags == 0x18 && p.ip_ttl == 64 && p.ip_id == 0x1234, "flags/ttl/id");
	CHECK(p.l3_len == 20 + 32 + 33 && p.hash != 0, "l3_len/hash");
	CHECK(!memcmp(nj_pkt_src(&p), ip4_a, 4) && !memcmp(nj_pkt_dst(&p), ip4_b, 4), "addrs");

	/* Ethernet padding after the IP datagram is not payload */
	uint8_t pad[256];

	memcpy(pad, b, n);
	memset(pad + n, 0, 20);
	p = decode(c, pad, n + 20, NJ_LINK_ETHERNET);
	CHECK(p.payload_len == 33 && !(p.flags & NJ_PKT_L4_CSUM_BAD), "padding trimmed");

	const struct nj_decode_stats *st = nj_decode_stats(c);

	CHECK(st->pkts == 2 && st->tcp == 2 && st->ipv4 == 2 && st->ethernet == 2, "stats");
	CHECK(st->bytes == 2 * n + 20 && st->max_pkt_size == n + 20, "bytes");
	nj_decode_destroy(c);
}

/* Every prefix of a valid packet is invalid with the event of the layer cut. */
static void test_truncation(void)
{
	struct nj_decode_ctx *c = ctx_new(1);
	uint8_t b[256];
	uint32_t n = pkt_tcp4(b, ip4_a, ip4_b, 1, 2, 10);

	for (uint32_t len = 0; len < n; len++) {
		struct nj_pkt p = decode(c, b, len, NJ_LINK_ETHERNET);

		CHECK(p.flags & NJ_PKT_INVALID, "len %u valid", len);
		if (len < 14)
			CHECK_EVENT(p, ETHERNET_PKT_TOO_SMALL);
		else if (len < 34)
			CHECK_EVENT(p, IPV4_PKT_TOO_SMALL);
		else
			CHECK_EVENT(p, IPV4_TRUNC_PKT);
	}
	n = pkt_udp6(b, ip6_a, ip6_b, 53, 5353, 12);
	for (uint32_t len = 0; len < n; len++) {
		struct nj_pkt p = decode(c, b, len, NJ_LINK_ETHERNET);

		CHECK(p.flags & NJ_PKT_INVALID, "len %u valid", len);
		if (len >= 14 && len < 54)
			CHECK_EVENT(p, IPV6_PKT_TOO_SMALL);
		else if (len >= 54)
			CHECK_EVENT(p, IPV6_TRUNC_PKT);
	}

	/* IP claims fewer bytes than the L4 header needs: the L4 event */
	static const struct {
		uint8_t proto;
		uint32_t need;
		enum nj_decode_event e;
	} l4[] = {
		{6, 20, NJ_DEV_TCP_PKT_TOO_SMALL},
		{17, 8, NJ_DEV_UDP_HLEN_TOO_SMALL},
		{1, 8, NJ_DEV_ICMPV4_PKT_TOO_SMALL},
		{132, 12, NJ_DEV_SCTP_PKT_TOO_SMALL},
	};
	for (unsigned i = 0; i < NJ_ARRAY_SIZE(l4); i++) {
		for (uint32_t k = 0; k < l4[i].need; k++) {
			uint32_t o = eth(b, 0x0800);

			memset(b + o + 20, 0x11, k);
			o += ip4(b + o, l4[i].proto, ip4_a, ip4_b, k, 1, 0, NULL, 0);
			struct nj_pkt p = decode(c, b, o + k, NJ_LINK_ETHERNET);

			CHECK((p.flags & NJ_PKT_INVALID) && has_event(&p, l4[i].e),
			      "proto %u len %u: [%s]", l4[i].proto, k, events_str(&p));
			CHECK(!(p.flags & NJ_PKT_HAS_L4), "no l4");
		}
	}
	/* ICMPv6 short */
	for (uint32_t k = 0; k < 8; k++) {
		uint32_t o = eth(b, 0x86dd);

		memset(b + o + 40, 0x80, k);
		o += ip6(b + o, 58, ip6_a, ip6_b, k);
		struct nj_pkt p = decode(c, b, o + k, NJ_LINK_ETHERNET);

		CHECK_EVENT(p, ICMPV6_PKT_TOO_SMALL);
	}
	nj_decode_destroy(c);
}

static void test_checksums(void)
{
	struct nj_decode_ctx *c = ctx_new(1), *nc = ctx_new(0);
	uint8_t b[256];
	uint32_t n = pkt_tcp4(b, ip4_a, ip4_b, 1000, 2000, 17);
	struct nj_pkt p;

	p = decode(c, b, n, NJ_LINK_ETHERNET);
	CHECK(!(p.flags & (NJ_PKT_IPV4_CSUM_BAD | NJ_PKT_L4_CSUM_BAD)), "good csums");
	b[n - 1] ^= 0x40;
	p = decode(c, b, n, NJ_LINK_ETHERNET);
	CHECK((p.flags & NJ_PKT_L4_CSUM_BAD) && !(p.flags & NJ_PKT_IPV4_CSUM_BAD), "bad tcp");
	CHECK(p.flags & NJ_PKT_HAS_L4, "only flagged, still decoded");
	p = decode(nc, b, n, NJ_LINK_ETHERNET);
	CHECK(!(p.flags & NJ_PKT_L4_CSUM_BAD), "validation off");
	b[n - 1] ^= 0x40;
	b[14 + 8] = 3; /* TTL: IP header only */
	p = decode(c, b, n, NJ_LINK_ETHERNET);
	CHECK((p.flags & NJ_PKT_IPV4_CSUM_BAD) && !(p.flags & NJ_PKT_L4_CSUM_BAD), "bad ip");

	/* UDP over IPv4: zero checksum is "none" */
	uint32_t o = eth(b, 0x0800), l4 = udp(b + 34, 5, 6, 9);

	ip4(b + o, 17, ip4_a, ip4_b, l4, 7, 0, NULL, 0);
	p = decode(c, b, 34 + l4, NJ_LINK_ETHERNET);
	CHECK(!(p.flags & NJ_PKT_L4_CSUM_BAD) && p.payload_len == 9, "udp csum 0");
	l4_csum(b + 14, b + 34, l4, 17, 6);
	p = decode(c, b, 34 + l4, NJ_LINK_ETHERNET);
	CHECK(!(p.flags & NJ_PKT_L4_CSUM_BAD), "udp good (odd length)");
	b[34 + 8] ^= 1;
	p = decode(c, b, 34 + l4, NJ_LINK_ETHERNET);
	CHECK(p.flags & NJ_PKT_L4_CSUM_BAD, "udp bad");

	/* UDP over IPv6, good, bad, and zero (mandatory over v6) */
	n = pkt_udp6(b, ip6_a, ip6_b, 53, 53, 21);
	p = decode(c, b, n, NJ_LINK_ETHERNET);
	CHECK(!(p.flags & NJ_PKT_L4_CSUM_BAD) && (p.flags & NJ_PKT_HAS_L4), "udp6 good");
	b[n - 2] ^= 0x10;
	p = decode(c, b, n, NJ_LINK_ETHERNET);
	CHECK(p.flags & NJ_PKT_L4_CSUM_BAD, "udp6 bad");
	wr16(b + 14 + 40 + 6, 0);
	p = decode(c, b, n, NJ_LINK_ETHERNET);
	CHECK(p.flags & NJ_PKT_L4_CSUM_BAD, "udp6 zero");

	/* ICMPv4 and ICMPv6 */
	o = eth(b, 0x0800);
	memset(b + 34, 0, 16);
	b[34] = 8;
	wr16(b + 34 + 4, 77);
	ip4(b + o, 1, ip4_a, ip4_b, 16, 1, 0, NULL, 0);
	l4_csum(b + 14, b + 34, 16, 1, 2);
	p = decode(c, b, 50, NJ_LINK_ETHERNET);
	CHECK(!(p.flags & NJ_PKT_L4_CSUM_BAD) && p.sport == 8 && p.dport == 0, "icmp good");
	b[49] ^= 1;
	p = decode(c, b, 50, NJ_LINK_ETHERNET);
	CHECK(p.flags & NJ_PKT_L4_CSUM_BAD, "icmp bad");

	o = eth(b, 0x86dd);
	memset(b + 54, 0, 12);
	b[54] = 128;
	ip6(b + o, 58, ip6_a, ip6_b, 12);
	l4_csum(b + 14, b + 54, 12, 58, 2);
	p = decode(c, b, 66, NJ_LINK_ETHERNET);
	CHECK(!(p.flags & NJ_PKT_L4_CSUM_BAD) && p.sport == 128 && p.dport == 129, "icmp6 good");
	b[60] ^= 1;
	p = decode(c, b, 66, NJ_LINK_ETHERNET);
	CHECK(p.flags & NJ_PKT_L4_CSUM_BAD, "icmp6 bad");
	nj_decode_destroy(c);
	nj_decode_destroy(nc);
}

static void test_vlan(void)
{
	struct nj_decode_ctx *c = ctx_new(1);
	uint8_t b[256], in[256];
	uint32_t n = pkt_tcp4(in, ip4_a, ip4_b, 1, 2, 5);
	static const uint16_t tpid[] = {0x8100, 0x88a8, 0x9100};
	struct nj_pkt p;

	for (unsigned ntags = 1; ntags <= 4; ntags++) {
		uint32_t o = 12;

		memcpy(b, in, 12);
		for (unsigned i = 0; i < ntags; i++) {
			wr16(b + o, tpid[i % 3]);
			wr16(b + o + 2, (uint16_t)(0x2000 | (100 + i)));
			o += 4;
		}
		memcpy(b + o, in + 12, n - 12);
		p = decode(c, b, o + n - 12, NJ_LINK_ETHERNET);
		if (ntags <= 3) {
			CHECK(p.flags & NJ_PKT_HAS_L4, "%u tags: [%s]", ntags, events_str(&p));
			CHECK(p.nvlan == ntags && p.vlan[0] == 100 &&
				      p.vlan[ntags - 1] == 99 + ntags,
			      "vlan ids");
			CHECK(p.l3_off == 14 + 4 * ntags, "l3_off");
		} else {
			CHECK((p.flags & NJ_PKT_INVALID), "4 tags");
			CHECK_EVENT(p, VLAN_TOO_MANY_LAYERS);
		}
		/* every cut inside the tags is a VLAN event */
		for (uint32_t cut = 15; cut < 14 + 4 * ntags && ntags <= 3; cut++) {
			p = decode(c, b, cut, NJ_LINK_ETHERNET);
			CHECK(p.flags & NJ_PKT_INVALID, "cut %u", cut);
			if ((cut - 14) % 4)
				CHECK_EVENT(p, VLAN_HEADER_TOO_SMALL);
		}
	}
	const struct nj_decode_stats *st = nj_decode_stats(c);

	CHECK(st->vlan >= 4 && st->vlan_qinq >= 3 && st->vlan_qinqinq >= 2, "vlan stats");

	/* same tuple, other VLAN: other hash */
	uint32_t h0 = decode(c, in, n, NJ_LINK_ETHERNET).hash;

	memcpy(b, in, 12);
	wr16(b + 12, 0x8100);
	wr16(b + 14, 5);
	memcpy(b + 16, in + 12, n - 12);
	p = decode(c, b, n + 4, NJ_LINK_ETHERNET);
	CHECK(p.hash != h0, "vlan in hash");

	/* unknown type inside a VLAN; unknown ethertype; ARP; 802.3 */
	wr16(b + 16, 0x88cc);
	p = decode(c, b, n + 4, NJ_LINK_ETHERNET);
	CHECK_EVENT(p, VLAN_UNKNOWN_TYPE);
	wr16(b + 12, 0x88cc);
	p = decode(c, b, 60, NJ_LINK_ETHERNET);
	CHECK_EVENT(p, ETHERNET_UNKNOWN_ETHERTYPE);
	CHECK(p.hash == 0 && !(p.flags & (NJ_PKT_IPV4 | NJ_PKT_IPV6)), "non-ip");
	wr16(b + 12, 0x0806);
	p = decode(c, b, 60, NJ_LINK_ETHERNET);
	CHECK_NO_EVENTS(p);
	wr16(b + 12, 0x0026);
	p = decode(c, b, 60, NJ_LINK_ETHERNET);
	CHECK_NO_EVENTS(p);
	CHECK(st->arp == 1, "arp counted");
	nj_decode_destroy(c);
}

/*
 * Build in b: outer Ethernet + the encapsulation given by kind + the IPv4/TCP
 * packet `in` (an Ethernet frame of n bytes). Returns the length; *inner is
 * the offset of the innermost Ethernet header, *l3 of the IPv4 header.
 */
enum encap {
	ENC_VNTAG,
	ENC_VNTAG_VLAN,
	ENC_DCE,
	ENC_MPLS_V4NULL,
	ENC_MPLS_GUESS4,
	ENC_MPLS_PW,
	ENC_MAX
};

static uint32_t encap(uint8_t *b, enum encap kind, const uint8_t *in, uint32_t n, uint32_t *inner,
		      uint32_t *l3)
{
	uint32_t o = 12;

	memcpy(b, in, 12);
	*inner = 0;
	switch (kind) {
	case ENC_VNTAG:
	case ENC_VNTAG_VLAN:
		wr16(b + o, 0x8926);
		wr32(b + o + 2, 0x00000000);
		o += 6;
		if (kind == ENC_VNTAG_VLAN) {
			wr16(b + o, 0x8100);
			wr16(b + o + 2, 11);
			o += 4;
		}
		wr16(b + o, 0x0800);
		o += 2;
		break;
	case ENC_DCE:
		wr16(b + o, 0x8903);
		wr16(b + o + 2, 0x0020);
		o += 4;
		*inner = o;
		memcpy(b + o, in, 14); /* inner MACs + 0x0800 */
		b[o] ^= 0x40;
		o += 14;
		break;
	case ENC_MPLS_V4NULL:
	case ENC_MPLS_GUESS4:
		wr16(b + o, 0x8847);
		wr32(b + o + 2, 0x00012000); /* label 18, not bottom */
		wr32(b + o + 6, kind == ENC_MPLS_V4NULL ? 0x00000140 : 0x00013140);
		o += 10;
		break;
	case ENC_MPLS_PW:
		wr16(b + o, 0x8847);
		wr32(b + o + 2, 0x00010140); /* label 16, bottom */
		wr32(b + o + 6, 0);	     /* control word */
		o += 10;
		*inner = o;
		memcpy(b + o, in, 14);
		o += 14;
		break;
	default: break;
	}
	*l3 = o;
	memcpy(b + o, in + 14, n - 14);
	return o + n - 14;
}

static void test_encap(void)
{
	struct nj_decode_ctx *c = ctx_new(1);
	const struct nj_decode_stats *st = nj_decode_stats(c);
	uint8_t in[256], b[512];
	uint32_t n = pkt_tcp4(in, ip4_a, ip4_b, 1234, 80, 10), len, inner, l3;
	struct nj_pkt p, plain = decode(c, in, n, NJ_LINK_ETHERNET);

	for (unsigned k = 0; k < ENC_MAX; k++) {
		uint64_t eth0 = st->ethernet, vntag0 = st->vntag, mpls0 = st->mpls;

		len = encap(b, k, in, n, &inner, &l3);
		p = decode(c, b, len, NJ_LINK_ETHERNET);
		CHECK_NO_EVENTS(p);
		CHECK((p.flags & NJ_PKT_HAS_L4) && p.l3_off == l3 && p.sport == 1234, "encap %u",
		      k);
		CHECK((p.flags & NJ_PKT_ETH) && p.eth_off == inner, "encap %u: eth_off %u", k,
		      p.eth_off);
		CHECK(p.hash == plain.hash || k == ENC_VNTAG_VLAN, "encap %u: same flow", k);
		CHECK(nj_decode_fanout_hash(b, len, NJ_LINK_ETHERNET) != 0, "encap %u: fanout", k);
		CHECK(st->ethernet - eth0 == (k == ENC_DCE || k == ENC_MPLS_PW ? 2u : 1u),
		      "encap %u: ethernet count", k);
		CHECK(st->vntag - vntag0 == (k <= ENC_VNTAG_VLAN), "vntag count");
		CHECK(st->mpls - mpls0 == (k >= ENC_MPLS_V4NULL), "mpls count");
		if (k == ENC_VNTAG_VLAN)
			CHECK(p.nvlan == 1 && p.vlan[0] == 11, "vlan inside vntag");

		/* every cut in the encapsulation headers is that layer's event */
		for (uint32_t cut = 14; cut < l3; cut++) {
			p = decode(c, b, cut, NJ_LINK_ETHERNET);
			CHECK((p.flags & NJ_PKT_INVALID) && p.nevents >= 1 &&
				      !(p.flags & (NJ_PKT_IPV4 | NJ_PKT_IPV6)),
			      "encap %u cut %u", k, cut);
			switch (k) {
			case ENC_VNTAG: CHECK_EVENT(p, VNTAG_HEADER_TOO_SMALL); break;
			case ENC_VNTAG_VLAN:
				if (cut < 20)
					CHECK_EVENT(p, VNTAG_HEADER_TOO_SMALL);
				else
					CHECK_EVENT(p, VLAN_HEADER_TOO_SMALL);
				break;
			case ENC_DCE: CHECK_EVENT(p, DCE_PKT_TOO_SMALL); break;
			case ENC_MPLS_V4NULL:
			case ENC_MPLS_GUESS4: CHECK_EVENT(p, MPLS_HEADER_TOO_SMALL); break;
			case ENC_MPLS_PW:
				if (cut < 18)
					CHECK_EVENT(p, MPLS_HEADER_TOO_SMALL);
				else if (cut < 22)
					CHECK_EVENT(p, MPLS_PKT_TOO_SMALL);
				else
					CHECK_EVENT(p, ETHERNET_PKT_TOO_SMALL);
				break;
			default: break;
			}
		}
		/* and every cut after them is the IPv4 layer's */
		for (uint32_t cut = l3; cut < l3 + 20; cut++) {
			p = decode(c, b, cut, NJ_LINK_ETHERNET);
			CHECK(p.flags & NJ_PKT_INVALID, "encap %u ip cut %u", k, cut);
			if (k >= ENC_MPLS_GUESS4 && cut - l3 < 4 && k != ENC_MPLS_PW)
				CHECK_EVENT(p, MPLS_PKT_TOO_SMALL); /* guess needs 4 bytes */
			else
				CHECK_EVENT(p, IPV4_PKT_TOO_SMALL);
		}
	}

	/* unknown type after a VN-Tag */
	len = encap(b, ENC_VNTAG, in, n, &inner, &l3);
	wr16(b + l3 - 2, 0x88cc);
	p = decode(c, b, len, NJ_LINK_ETHERNET);
	CHECK_EVENT(p, VNTAG_UNKNOWN_TYPE);
	CHECK(p.flags & NJ_PKT_INVALID, "vntag unknown type invalid");

	/* MPLS bottom labels Suricata flags, and an unknown payload nibble */
	static const struct {
		uint32_t shim;
		uint8_t nibble;
		enum nj_decode_event e;
	} bad_mpls[] = {
		{0x00001140, 4, NJ_DEV_MPLS_BAD_LABEL_ROUTER_ALERT},
		{0x00003140, 4, NJ_DEV_MPLS_BAD_LABEL_IMPLICIT_NULL},
		{0x00005140, 4, NJ_DEV_MPLS_BAD_LABEL_RESERVED},
		{0x00015140, 1, NJ_DEV_MPLS_UNKNOWN_PAYLOAD_TYPE},
	};
	for (unsigned i = 0; i < NJ_ARRAY_SIZE(bad_mpls); i++) {
		len = encap(b, ENC_MPLS_V4NULL, in, n, &inner, &l3);
		wr32(b + 18, bad_mpls[i].shim);
		b[l3] = (uint8_t)(bad_mpls[i].nibble << 4 | 5);
		p = decode(c, b, len, NJ_LINK_ETHERNET);
		CHECK(has_event(&p, bad_mpls[i].e) && !(p.flags & NJ_PKT_IPV4), "mpls %u: [%s]", i,
		      events_str(&p));
	}

	/* Ethernet over MPLS over Ethernet ...: the 16th header is too many */
	for (unsigned depth = 1; depth <= 9; depth++) {
		uint32_t o = 0;
		uint64_t tml = st->too_many_layers;

		for (unsigned d = 0; d < depth; d++) {
			memcpy(b + o, in, 12);
			wr16(b + o + 12, 0x8847);
			wr32(b + o + 14, 0x00010140);
			wr32(b + o + 18, 0);
			o += 22;
		}
		memcpy(b + o, in, n);
		p = decode(c, b, o + n, NJ_LINK_ETHERNET);
		/* depth pairs + the inner Ethernet = 2 * depth + 1 headers */
		if (2 * depth + 1 < 16) {
			CHECK((p.flags & NJ_PKT_HAS_L4) && p.eth_off == o, "depth %u", depth);
		} else {
			CHECK_EVENT(p, TOO_MANY_LAYERS);
			CHECK((p.flags & NJ_PKT_INVALID) && st->too_many_layers == tml + 1,
			      "depth %u", depth);
		}
	}
	/* raw IP has no Ethernet header: no MACs */
	p = decode(c, in + 14, n - 14, NJ_LINK_RAW);
	CHECK((p.flags & NJ_PKT_HAS_L4) && !(p.flags & NJ_PKT_ETH), "raw: no ethernet");
	nj_decode_destroy(c);
}

/* ESP: the SPI at every length; 8 bytes are the minimum. */
static void test_esp(void)
{
	struct nj_decode_ctx *c = ctx_new(1);
	uint8_t b[128];
	uint32_t o = eth(b, 0x0800), n;
	struct nj_pkt p, q;

	n = o + ip4(b + o, 50, ip4_a, ip4_b, 16, 1, 0, NULL, 0);
	wr32(b + n, 123);
	wr32(b + n + 4, 1);
	memset(b + n + 8, 0xaa, 8);
	p = decode(c, b, n + 16, NJ_LINK_ETHERNET);
	CHECK_NO_EVENTS(p);
	CHECK(p.proto == 50 && (p.flags & NJ_PKT_HAS_L4) && p.esp_spi == 123 &&
		      p.payload_off == n + 8 && p.payload_len == 8,
	      "esp");
	wr32(b + n, 321);
	q = decode(c, b, n + 16, NJ_LINK_ETHERNET);
	CHECK(q.hash != p.hash, "spi in the hash");
	for (uint32_t l = 0; l < 8; l++) {
		ip4(b + o, 50, ip4_a, ip4_b, l, 1, 0, NULL, 0);
		p = decode(c, b, n + l, NJ_LINK_ETHERNET);
		CHECK((p.flags & NJ_PKT_INVALID) && !(p.flags & NJ_PKT_HAS_L4), "esp len %u", l);
		CHECK_EVENT(p, ESP_PKT_TOO_SMALL);
	}
	CHECK(nj_decode_stats(c)->esp == 10, "decoder.esp");
	nj_decode_destroy(c);
}

static void test_linktypes(void)
{
	struct nj_decode_ctx *c = ctx_new(1);
	uint8_t in[256], b[300], ip[256];
	uint32_t n = pkt_tcp4(in, ip4_a, ip4_b, 7, 8, 4), ipn = n - 14;

	memcpy(ip, in + 14, ipn);
	struct nj_pkt p;

	/* SLL: 16 bytes, protocol last */
	memset(b, 0, 16);
	wr16(b + 14, 0x0800);
	memcpy(b + 16, ip, ipn);
	p = decode(c, b, 16 + ipn, NJ_LINK_LINUX_SLL);
	CHECK((p.flags & NJ_PKT_HAS_L4) && p.l3_off == 16, "sll");
	p = decode(c, b, 10, NJ_LINK_LINUX_SLL);
	CHECK_EVENT(p, SLL_PKT_TOO_SMALL);
	/* SLL2: 20 bytes, protocol first */
	memset(b, 0, 20);
	wr16(b, 0x0800);
	memcpy(b + 20, ip, ipn);
	p = decode(c, b, 20 + ipn, NJ_LINK_LINUX_SLL2);
	CHECK((p.flags & NJ_PKT_HAS_L4) && p.l3_off == 20, "sll2");
	p = decode(c, b, 19, NJ_LINK_LINUX_SLL2);
	CHECK_EVENT(p, SLL2_PKT_TOO_SMALL);
	/* raw */
	p = decode(c, ip, ipn, NJ_LINK_RAW);
	CHECK((p.flags & NJ_PKT_HAS_L4) && p.l3_off == 0, "raw4");
	p = decode(c, ip, ipn, NJ_LINK_IPV4);
	CHECK(p.flags & NJ_PKT_HAS_L4, "dlt ipv4");
	memcpy(b, ip, ipn);
	b[0] = 0x55;
	p = decode(c, b, ipn, NJ_LINK_RAW);
	CHECK_EVENT(p, IPRAW_INVALID_IP_VERSION);
	p = decode(c, b, 0, NJ_LINK_RAW);
	CHECK(p.flags & NJ_PKT_INVALID, "raw empty");
	n = pkt_udp6(in, ip6_a, ip6_b, 1, 2, 3);
	p = decode(c, in + 14, n - 14, NJ_LINK_RAW);
	CHECK((p.flags & NJ_PKT_IPV6) && (p.flags & NJ_PKT_HAS_L4), "raw6");
	p = decode(c, in + 14, n - 14, NJ_LINK_IPV6);
	CHECK(p.flags & NJ_PKT_HAS_L4, "dlt ipv6");
	/* null/loopback: AF in either byte order */
	static const uint8_t af_le[4] = {2, 0, 0, 0}, af_be[4] = {0, 0, 0, 2};
	static const uint8_t af6[4] = {30, 0, 0, 0}, afx[4] = {99, 0, 0, 0};

	memcpy(b, af_le, 4);
	memcpy(b + 4, ip, ipn);
	p = decode(c, b, 4 + ipn, NJ_LINK_NULL);
	CHECK(p.flags & NJ_PKT_HAS_L4, "null le");
	memcpy(b, af_be, 4);
	p = decode(c, b, 4 + ipn, NJ_LINK_NULL);
	CHECK(p.flags & NJ_PKT_HAS_L4, "null be");
	memcpy(b, af6, 4);
	memcpy(b + 4, in + 14, n - 14);
	p = decode(c, b, 4 + n - 14, NJ_LINK_NULL);
	CHECK(p.flags & NJ_PKT_IPV6, "null v6");
	memcpy(b, afx, 4);
	p = decode(c, b, 4 + n - 14, NJ_LINK_NULL);
	CHECK_EVENT(p, LTNULL_UNSUPPORTED_TYPE);
	p = decode(c, b, 3, NJ_LINK_NULL);
	CHECK_EVENT(p, LTNULL_PKT_TOO_SMALL);
	/* unknown link type */
	p = decode(c, b, 40, 9999);
	CHECK(p.flags & NJ_PKT_INVALID, "unknown linktype");
	nj_decode_destroy(c);
}

static struct nj_pkt ip4_with(struct nj_decode_ctx *c, uint8_t *b, const uint8_t *opt,
			      uint32_t optlen, uint8_t proto)
{
	uint32_t o = eth(b, 0x0800), hl;

	hl = 20 + optlen;
	tcp(b + o + hl, 1, 2, 2, NULL, 0, 0);
	ip4(b + o, proto, ip4_a, ip4_b, 20, 9, 0, opt, optlen);
	l4_csum(b + o, b + o + hl, 20, 6, 16);
	return decode(c, b, o + hl + 20, NJ_LINK_ETHERNET);
}

static void test_ipv4(void)
{
	struct nj_decode_ctx *c = ctx_new(1);
	uint8_t b[2048];
	struct nj_pkt p;

	static const uint8_t rr[] = {7, 7, 4, 0, 0, 0, 0, 1};	/* RR + NOP */
	static const uint8_t ok[] = {148, 4, 0, 0, 1, 1, 0, 0}; /* RA, NOPs, EOL */
	static const uint8_t unk[] = {0x9e, 4, 0, 0};
	static const uint8_t dup[] = {148, 4, 0, 0, 148, 4, 0, 0};
	static const uint8_t blen[] = {148, 9, 0, 0};
	static const uint8_t zlen[] = {1, 1, 148, 0};
	static const uint8_t malf[] = {7, 7, 5, 0, 0, 0, 0, 1}; /* ptr not on 4 */
	static const uint8_t eol[] = {1, 1, 1, 148};
	static const uint8_t ts_ok[] = {68, 12, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0};
	static const uint8_t ts_bad[] = {68, 12, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0};
	static const uint8_t ra_len[] = {148, 3, 0, 1};

	p = ip4_with(c, b, rr, sizeof(rr), 6);
	CHECK((p.flags & NJ_PKT_HAS_L4) && p.l4_off == 14 + 28, "rr: [%s]", events_str(&p));
	CHECK_NO_EVENTS(p);
	p = ip4_with(c, b, ok, sizeof(ok), 6);
	CHECK_NO_EVENTS(p);
	p = ip4_with(c, b, ts_ok, sizeof(ts_ok), 6);
	CHECK_NO_EVENTS(p);
	p = ip4_with(c, b, unk, sizeof(unk), 6);
	CHECK_EVENT(p, IPV4_OPT_UNKNOWN);
	CHECK(p.flags & NJ_PKT_HAS_L4, "unknown option is only a warning");
	p = ip4_with(c, b, dup, sizeof(dup), 6);
	CHECK_EVENT(p, IPV4_OPT_DUPLICATE);
	p = ip4_with(c, b, blen, sizeof(blen), 6);
	CHECK_EVENT(p, IPV4_OPT_INVALID_LEN);
	CHECK(p.flags & NJ_PKT_INVALID, "bad option length is invalid");
	p = ip4_with(c, b, zlen, sizeof(zlen), 6);
	CHECK_EVENT(p, IPV4_OPT_INVALID_LEN);
	p = ip4_with(c, b, ra_len, sizeof(ra_len), 6);
	CHECK_EVENT(p, IPV4_OPT_INVALID_LEN);
	p = ip4_with(c, b, malf, sizeof(malf), 6);
	CHECK_EVENT(p, IPV4_OPT_MALFORMED);
	p = ip4_with(c, b, ts_bad, sizeof(ts_bad), 6);
	CHECK_EVENT(p, IPV4_OPT_MALFORMED);
	p = ip4_with(c, b, eol, sizeof(eol), 6);
	CHECK_EVENT(p, IPV4_OPT_EOL_REQUIRED);

	/* header field errors */
	uint32_t n = pkt_tcp4(b, ip4_a, ip4_b, 1, 2, 0);

	b[14] = 0x65;
	p = decode(c, b, n, NJ_LINK_ETHERNET);
	CHECK_EVENT(p, IPV4_WRONG_IP_VERSION);
	b[14] = 0x44;
	p = decode(c, b, n, NJ_LINK_ETHERNET);
	CHECK_EVENT(p, IPV4_HLEN_TOO_SMALL);
	b[14] = 0x45;
	wr16(b + 16, 19);
	p = decode(c, b, n, NJ_LINK_ETHERNET);
	CHECK_EVENT(p, IPV4_IPLEN_SMALLER_THAN_HLEN);
	/* total length 0 (TSO/LRO capture): the captured bytes are the datagram */
	{
		uint64_t tso = nj_decode_stats(c)->ipv4_tso;

		n = pkt_tcp4(b, ip4_a, ip4_b, 1, 2, 1400);
		wr16(b + 16, 0);
		p = decode(c, b, n, NJ_LINK_ETHERNET);
		CHECK_NO_EVENTS(p);
		CHECK((p.flags & NJ_PKT_HAS_L4) && p.payload_len == 1400 && p.l3_len == n - 14,
		      "tso frame: payload_len %u l3_len %u", p.payload_len, p.l3_len);
		CHECK(nj_decode_stats(c)->ipv4_tso == tso + 1, "decoder.ipv4_tso counted");
		n = pkt_tcp4(b, ip4_a, ip4_b, 1, 2, 0);
	}

	/* protocols without ports */
	p = ip4_with(c, b, NULL, 0, 103);
	CHECK((p.flags & NJ_PKT_IPV4) && !(p.flags & (NJ_PKT_HAS_L4 | NJ_PKT_INVALID)), "pim");
	CHECK_NO_EVENTS(p);
	CHECK(p.hash != 0 && p.proto == 103 && p.payload_len == 20, "pim tracked by address");
	p = ip4_with(c, b, NULL, 0, 200);
	CHECK_EVENT(p, IPV4_UNKNOWN_PROTOCOL);
	p = ip4_with(c, b, NULL, 0, 58);
	CHECK_EVENT(p, IPV4_ICMPV6);
	nj_decode_destroy(c);
}

static struct nj_pkt tcp_with(struct nj_decode_ctx *c, uint8_t *b, const uint8_t *opt,
			      uint32_t optlen)
{
	uint32_t o = eth(b, 0x0800), l4;

	l4 = tcp(b + o + 20, 1, 2, 2, opt, optlen, 3);
	ip4(b + o, 6, ip4_a, ip4_b, l4, 9, 0, NULL, 0);
	l4_csum(b + o, b + o + 20, l4, 6, 16);
	return decode(c, b, o + 20 + l4, NJ_LINK_ETHERNET);
}

static void test_tcp_udp(void)
{
	struct nj_decode_ctx *c = ctx_new(1);
	uint8_t b[256];
	struct nj_pkt p;

	static const uint8_t all[] = {2, 4, 5, 0xb4, 4, 2, 8, 10, 0,  0, 0, 1,
				      0, 0, 0, 0,    1, 3, 3, 7,  34, 2, 1, 1};
	static const uint8_t mss5[] = {2, 5, 5, 0xb4, 0, 0, 0, 0};
	static const uint8_t dupws[] = {3, 3, 7, 3, 3, 7, 0, 0};
	static const uint8_t zero[] = {1, 1, 8, 0};
	static const uint8_t over[] = {1, 1, 8, 10};
	static const uint8_t sack_short[] = {5, 6, 0, 0, 0, 0, 0, 0};
	static const uint8_t tfo_bad[] = {34, 5, 1, 2, 3, 0, 0, 0};
	static const uint8_t tfo_exp[] = {254, 12, 0xf9, 0x89, 1, 2, 3, 4, 5, 6, 7, 8};
	static const uint8_t last_byte[] = {1, 1, 1, 2};

	p = tcp_with(c, b, all, sizeof(all));
	CHECK((p.flags & NJ_PKT_HAS_L4) && p.payload_len == 3, "options ok");
	CHECK_NO_EVENTS(p);
	p = tcp_with(c, b, tfo_exp, sizeof(tfo_exp));
	CHECK_NO_EVENTS(p);
	p = tcp_with(c, b, mss5, sizeof(mss5));
	CHECK_EVENT(p, TCP_OPT_INVALID_LEN);
	CHECK(p.flags & NJ_PKT_HAS_L4, "opt_invalid_len is a warning");
	p = tcp_with(c, b, dupws, sizeof(dupws));
	CHECK_EVENT(p, TCP_OPT_DUPLICATE);
	p = tcp_with(c, b, sack_short, sizeof(sack_short));
	CHECK_EVENT(p, TCP_OPT_INVALID_LEN);
	p = tcp_with(c, b, tfo_bad, sizeof(tfo_bad));
	CHECK_EVENT(p, TCP_OPT_INVALID_LEN);
	p = tcp_with(c, b, zero, sizeof(zero));
	CHECK_EVENT(p, TCP_INVALID_OPTLEN);
	CHECK((p.flags & NJ_PKT_INVALID) && !(p.flags & NJ_PKT_HAS_L4), "invalid_optlen");
	p = tcp_with(c, b, over, sizeof(over));
	CHECK_EVENT(p, TCP_INVALID_OPTLEN);
	p = tcp_with(c, b, last_byte, sizeof(last_byte));
	CHECK_EVENT(p, TCP_INVALID_OPTLEN);

	/* data offset below 5, and beyond the segment */
	uint32_t n = pkt_tcp4(b, ip4_a, ip4_b, 1, 2, 0);

	b[14 + 20 + 12] = 0x40;
	p = decode(c, b, n, NJ_LINK_ETHERNET);
	CHECK_EVENT(p, TCP_HLEN_TOO_SMALL);
	b[14 + 20 + 12] = 0xf0;
	p = decode(c, b, n, NJ_LINK_ETHERNET);
	CHECK_EVENT(p, TCP_PKT_TOO_SMALL);

	/* UDP lengths */
	uint32_t o = eth(b, 0x0800), l4 = udp(b + 34, 1, 2, 10);

	ip4(b + o, 17, ip4_a, ip4_b, l4, 1, 0, NULL, 0);
	wr16(b + 34 + 4, 30);
	p = decode(c, b, 34 + l4, NJ_LINK_ETHERNET);
	CHECK_EVENT(p, UDP_PKT_TOO_SMALL);
	wr16(b + 34 + 4, 4);
	p = decode(c, b, 34 + l4, NJ_LINK_ETHERNET);
	CHECK_EVENT(p, UDP_LEN_INVALID);
	CHECK(p.flags & NJ_PKT_INVALID, "udp len invalid");
	wr16(b + 34 + 4, 12);
	p = decode(c, b, 34 + l4, NJ_LINK_ETHERNET);
	CHECK((p.flags & NJ_PKT_HAS_L4) && p.payload_len == 4, "udp len shorter than ip");
	CHECK_NO_EVENTS(p);

	/* SCTP ports */
	o = eth(b, 0x0800);
	memset(b + 34, 0, 16);
	wr16(b + 34, 2905);
	wr16(b + 36, 2906);
	ip4(b + o, 132, ip4_a, ip4_b, 16, 1, 0, NULL, 0);
	p = decode(c, b, 50, NJ_LINK_ETHERNET);
	CHECK((p.flags & NJ_PKT_HAS_L4) && p.sport == 2905 && p.dport == 2906, "sctp");
	nj_decode_destroy(c);
}

/* ------------------------------------------------------------ ICMP */

static struct nj_pkt icmp4(struct nj_decode_ctx *c, uint8_t *b, uint8_t type, uint8_t code,
			   const uint8_t *body, uint32_t blen)
{
	uint32_t o = eth(b, 0x0800);

	memset(b + 34, 0, 8);
	b[34] = type;
	b[35] = code;
	if (blen)
		memcpy(b + 42, body, blen);
	ip4(b + o, 1, ip4_a, ip4_b, 8 + blen, 1, 0, NULL, 0);
	l4_csum(b + 14, b + 34, 8 + blen, 1, 2);
	return decode(c, b, 42 + blen, NJ_LINK_ETHERNET);
}

static struct nj_pkt icmp6(struct nj_decode_ctx *c, uint8_t *b, uint8_t type, uint8_t code,
			   uint8_t hl, const uint8_t *body, uint32_t blen)
{
	uint32_t o = eth(b, 0x86dd);

	memset(b + 54, 0, 8);
	b[54] = type;
	b[55] = code;
	if (blen)
		memcpy(b + 62, body, blen);
	ip6(b + o, 58, ip6_a, ip6_b, 8 + blen);
	b[14 + 7] = hl;
	l4_csum(b + 14, b + 54, 8 + blen, 58, 2);
	return decode(c, b, 62 + blen, NJ_LINK_ETHERNET);
}

static void test_icmp(void)
{
	struct nj_decode_ctx *c = ctx_new(1);
	uint8_t b[300], inner[128];
	uint16_t s, d;
	struct nj_pkt p, q;

	CHECK(!nj_icmp_port_map(false, 8, 0, &s, &d) && s == 8 && d == 0, "echo");
	CHECK(!nj_icmp_port_map(false, 0, 0, &s, &d) && s == 0 && d == 8, "echo reply");
	CHECK(!nj_icmp_port_map(false, 13, 0, &s, &d) && d == 14, "timestamp");
	CHECK(!nj_icmp_port_map(false, 10, 0, &s, &d) && d == 9, "router sol");
	CHECK(!nj_icmp_port_map(false, 17, 0, &s, &d) && d == 18, "mask");
	CHECK(!nj_icmp_port_map(false, 16, 0, &s, &d) && d == 15, "info reply");
	CHECK(nj_icmp_port_map(false, 3, 1, &s, &d) && s == 3 && d == 1, "unreach one-way");
	CHECK(!nj_icmp_port_map(true, 128, 0, &s, &d) && d == 129, "echo6");
	CHECK(!nj_icmp_port_map(true, 129, 0, &s, &d) && d == 128, "echo6 reply");
	CHECK(!nj_icmp_port_map(true, 135, 0, &s, &d) && d == 136, "ns");
	CHECK(!nj_icmp_port_map(true, 130, 0, &s, &d) && d == 131, "mld");
	CHECK(!nj_icmp_port_map(true, 133, 0, &s, &d) && d == 134, "rs");
	CHECK(!nj_icmp_port_map(true, 139, 0, &s, &d) && d == 140, "wru");
	CHECK(!nj_icmp_port_map(true, 144, 0, &s, &d) && d == 145, "haad");
	CHECK(nj_icmp_port_map(true, 1, 4, &s, &d) && s == 1 && d == 4, "unreach6");

	/* request and reply hash alike once the addresses swap */
	p = icmp4(c, b, 8, 0, (const uint8_t *)"abcd", 4);
	CHECK((p.flags & NJ_PKT_HAS_L4) && p.icmp_type == 8 && p.payload_len == 4, "echo pkt");
	CHECK_NO_EVENTS(p);
	{
		uint32_t o = eth(b, 0x0800);

		memset(b + 34, 0, 8);
		memcpy(b + 42, "abcd", 4);
		ip4(b + o, 1, ip4_b, ip4_a, 12, 1, 0, NULL, 0);
		q = decode(c, b, 46, NJ_LINK_ETHERNET);
	}
	CHECK(q.sport == 0 && q.dport == 8 && q.hash == p.hash, "reply hash");

	p = icmp4(c, b, 50, 0, NULL, 0);
	CHECK_EVENT(p, ICMPV4_UNKNOWN_TYPE);
	p = icmp4(c, b, 9, 0, NULL, 0); /* Suricata does not know router adverts */
	CHECK_EVENT(p, ICMPV4_UNKNOWN_TYPE);
	p = icmp4(c, b, 3, 20, NULL, 0);
	CHECK_EVENT(p, ICMPV4_UNKNOWN_CODE);
	p = icmp4(c, b, 0, 1, NULL, 0);
	CHECK_EVENT(p, ICMPV4_UNKNOWN_CODE);

	uint32_t n = pkt_tcp4(inner, ip4_b, ip4_a, 80, 4000, 0);

	p = icmp4(c, b, 3, 3, inner + 14, 28);
	CHECK((p.flags & NJ_PKT_ICMP_ERROR) && p.sport == 3 && p.dport == 3, "unreach");
	CHECK_NO_EVENTS(p);
	p = icmp4(c, b, 11, 0, inner + 14, 12);
	CHECK_EVENT(p, ICMPV4_IPV4_TRUNC_PKT);
	CHECK(!(p.flags & NJ_PKT_ICMP_ERROR), "short quote");
	inner[14] = 0x65;
	p = icmp4(c, b, 11, 0, inner + 14, 28);
	CHECK_EVENT(p, ICMPV4_IPV4_UNKNOWN_VER);
	(void)n;

	/* ICMPv6 */
	p = icmp6(c, b, 128, 0, 64, (const uint8_t *)"xy", 2);
	CHECK((p.flags & NJ_PKT_HAS_L4) && !(p.flags & NJ_PKT_L4_CSUM_BAD), "echo6");
	CHECK_NO_EVENTS(p);
	p = icmp6(c, b, 50, 0, 64, NULL, 0);
	CHECK_EVENT(p, ICMPV6_UNASSIGNED_TYPE);
	p = icmp6(c, b, 170, 0, 64, NULL, 0);
	CHECK_EVENT(p, ICMPV6_UNASSIGNED_TYPE);
	p = icmp6(c, b, 100, 0, 64, NULL, 0);
	CHECK_EVENT(p, ICMPV6_EXPERIMENTATION_TYPE);
	p = icmp6(c, b, 255, 0, 64, NULL, 0);
	CHECK_EVENT(p, ICMPV6_UNKNOWN_TYPE);
	p = icmp6(c, b, 1, 9, 64, NULL, 0);
	CHECK_EVENT(p, ICMPV6_UNKNOWN_CODE);
	p = icmp6(c, b, 128, 1, 64, NULL, 0);
	CHECK_EVENT(p, ICMPV6_UNKNOWN_CODE);
	p = icmp6(c, b, 130, 0, 64, (const uint8_t *)"0123456789abcdef", 16);
	CHECK_EVENT(p, ICMPV6_MLD_MESSAGE_WITH_INVALID_HL);
	p = icmp6(c, b, 130, 0, 1, (const uint8_t *)"0123456789abcdef", 16);
	CHECK_NO_EVENTS(p);
	n = pkt_udp6(inner, ip6_b, ip6_a, 53, 1053, 0);
	p = icmp6(c, b, 1, 4, 64, inner + 14, 48);
	CHECK(p.flags & NJ_PKT_ICMP_ERROR, "unreach6");
	CHECK_NO_EVENTS(p);
	p = icmp6(c, b, 3, 0, 64, inner + 14, 30);
	CHECK_EVENT(p, ICMPV6_IPV6_TRUNC_PKT);
	inner[14] = 0x45;
	p = icmp6(c, b, 2, 0, 64, inner + 14, 48);
	CHECK_EVENT(p, ICMPV6_IPV6_UNKNOWN_VERSION);
	/* ICMPv4 inside IPv6 */
	{
		uint32_t o = eth(b, 0x86dd);

		memset(b + 54, 0, 8);
		ip6(b + o, 1, ip6_a, ip6_b, 8);
		p = decode(c, b, 62, NJ_LINK_ETHERNET);
		CHECK_EVENT(p, IPV6_ICMPV4);
	}
	nj_decode_destroy(c);
}

/* ------------------------------------------------------------ IPv6 ext headers */

/* Ethernet + IPv6 + ext (raw bytes, first header type nh) + UDP(4 bytes payload). */
static struct nj_pkt v6ext(struct nj_decode_ctx *c, uint8_t *b, uint8_t nh, const uint8_t *ext,
			   uint32_t elen, uint32_t *len_out)
{
	uint32_t o = eth(b, 0x86dd), l4;

	memcpy(b + 54, ext, elen);
	l4 = udp(b + 54 + elen, 1000, 2000, 4);
	ip6(b + o, nh, ip6_a, ip6_b, elen + l4);
	l4_csum(b + 14, b + 54 + elen, l4, 17, 6);
	if (len_out)
		*len_out = 54 + elen + l4;
	return decode(c, b, 54 + elen + l4, NJ_LINK_ETHERNET);
}

static void test_ipv6_ext(void)
{
	struct nj_decode_ctx *c = ctx_new(1);
	uint8_t b[600], ext[400];
	struct nj_pkt p;
	uint32_t n;

	/* HBH(RA + PadN) -> DST(PadN + HAO? no: unknown 0x1e) -> UDP */
	static const uint8_t hbh_ra[] = {17, 0, 5, 2, 0, 0, 0, 0};
	static const uint8_t hbh_pad[] = {17, 0, 1, 4, 0, 0, 0, 0};
	static const uint8_t hbh_pad0[] = {17, 0, 1, 0, 0, 1, 2, 0};
	static const uint8_t dst_unk[] = {17, 0, 0x1e, 2, 0, 0, 0, 0};
	static const uint8_t dst_optlen[] = {17, 0, 5, 9, 0, 0, 0, 0};
	static const uint8_t rh0[] = {17, 0, 0, 0, 0, 0, 0, 0};
	static const uint8_t rh2[] = {43, 2, 2, 1, 0, 0, 0, 0, 0,  0, 0, 0, 0, 0, 0, 0,
				      0,  0, 0, 0, 0, 0, 0, 0, 17, 0, 2, 0, 0, 0, 0, 0};
	static const uint8_t ah[] = {17, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1};
	static const uint8_t ah_res[] = {17, 1, 0, 5, 0, 0, 0, 1, 0, 0, 0, 1};
	static const uint8_t atomic[] = {17, 0, 0, 0, 0, 0, 0, 42};
	static const uint8_t atomic_res[] = {17, 3, 0, 0, 0, 0, 0, 42};
	static const uint8_t twofh[] = {44, 0, 0, 0, 0, 0, 0, 1, 17, 0, 0, 0, 0, 0, 0, 2};
	static const uint8_t hbh2[] = {0, 0, 5, 2, 0, 0, 1, 0, 17, 0, 5, 2, 0, 0, 1, 0};

	p = v6ext(c, b, 0, hbh_ra, sizeof(hbh_ra), &n);
	CHECK((p.flags & NJ_PKT_HAS_L4) && p.proto == 17 && p.l4_off == 62, "hbh: [%s]",
	      events_str(&p));
	CHECK(!(p.flags & NJ_PKT_L4_CSUM_BAD), "csum after ext");
	CHECK_NO_EVENTS(p);
	for (uint32_t len = 54; len < n; len++) {
		struct nj_pkt t = decode(c, b, len, NJ_LINK_ETHERNET);

		CHECK((t.flags & NJ_PKT_INVALID) && has_event(&t, NJ_DEV_IPV6_TRUNC_PKT),
		      "trunc %u", len);
	}
	p = v6ext(c, b, 0, hbh_pad, sizeof(hbh_pad), NULL);
	CHECK_EVENT(p, IPV6_HOPOPTS_ONLY_PADDING);
	p = v6ext(c, b, 0, hbh_pad0, sizeof(hbh_pad0), NULL);
	CHECK_EVENT(p, IPV6_ZERO_LEN_PADN);
	p = v6ext(c, b, 60, dst_unk, sizeof(dst_unk), NULL);
	CHECK_EVENT(p, IPV6_DSTOPTS_UNKNOWN_OPT);
	CHECK(p.flags & NJ_PKT_HAS_L4, "unknown dst opt is a warning");
	p = v6ext(c, b, 60, dst_optlen, sizeof(dst_optlen), NULL);
	CHECK_EVENT(p, IPV6_EXTHDR_INVALID_OPTLEN);
	p = v6ext(c, b, 0, hbh2, sizeof(hbh2), NULL);
	CHECK_EVENT(p, IPV6_EXTHDR_DUPL_HH);
	p = v6ext(c, b, 43, rh0, sizeof(rh0), NULL);
	CHECK_EVENT(p, IPV6_RH_TYPE_0);
	p = v6ext(c, b, 43, rh2, sizeof(rh2), NULL);
	CHECK_EVENT(p, IPV6_EXTHDR_DUPL_RH);
	p = v6ext(c, b, 51, ah, sizeof(ah), NULL);
	CHECK((p.flags & NJ_PKT_HAS_L4) && p.l4_off == 54 + 12, "ah");
	CHECK_NO_EVENTS(p);
	p = v6ext(c, b, 51, ah_res, sizeof(ah_res), NULL);
	CHECK_EVENT(p, IPV6_EXTHDR_AH_RES_NOT_NULL);
	memcpy(ext, ah, 12);
	ext[0] = 51;
	memcpy(ext + 12, ah, 12);
	p = v6ext(c, b, 51, ext, 24, NULL);
	CHECK_EVENT(p, IPV6_EXTHDR_DUPL_AH);
	p = v6ext(c, b, 44, atomic, sizeof(atomic), NULL);
	CHECK_EVENT(p, IPV6_EXTHDR_USELESS_FH);
	CHECK((p.flags & NJ_PKT_HAS_L4) && !(p.flags & NJ_PKT_FRAGMENT), "atomic decoded");
	p = v6ext(c, b, 44, atomic_res, sizeof(atomic_res), NULL);
	CHECK_EVENT(p, IPV6_FH_NON_ZERO_RES_FIELD);
	p = v6ext(c, b, 44, twofh, sizeof(twofh), NULL);
	CHECK_EVENT(p, IPV6_EXTHDR_DUPL_FH);
	/* truncated extension headers: chain longer than the payload */
	{
		static const uint8_t longdst[] = {17, 5, 1, 4, 0, 0, 0, 0};

		p = v6ext(c, b, 60, longdst, sizeof(longdst), NULL);
		CHECK_EVENT(p, IPV6_TRUNC_EXTHDR);
		CHECK(p.flags & NJ_PKT_INVALID, "trunc exthdr invalid");
	}
	/* no next header, with and without data after it */
	{
		uint32_t o = eth(b, 0x86dd);

		ip6(b + o, 59, ip6_a, ip6_b, 0);
		p = decode(c, b, 54, NJ_LINK_ETHERNET);
		CHECK_NO_EVENTS(p);
		CHECK((p.flags & NJ_PKT_IPV6) && !(p.flags & NJ_PKT_INVALID) && p.proto == 59,
		      "none");
		ip6(b + o, 59, ip6_a, ip6_b, 6);
		p = decode(c, b, 60, NJ_LINK_ETHERNET);
		CHECK_EVENT(p, IPV6_DATA_AFTER_NONE_HEADER);
		ip6(b + o, 200, ip6_a, ip6_b, 6);
		p = decode(c, b, 60, NJ_LINK_ETHERNET);
		CHECK_EVENT(p, IPV6_UNKNOWN_NEXT_HEADER);
		/* ESP needs its SPI and sequence number, as Suricata */
		ip6(b + o, 50, ip6_a, ip6_b, 6);
		p = decode(c, b, 60, NJ_LINK_ETHERNET);
		CHECK(p.proto == 50 && (p.flags & NJ_PKT_INVALID), "esp too small");
		CHECK_EVENT(p, ESP_PKT_TOO_SMALL);
		ip6(b + o, 50, ip6_a, ip6_b, 12);
		wr32(b + o + 40, 0xdeadbeef);
		p = decode(c, b, o + 52, NJ_LINK_ETHERNET);
		CHECK(p.proto == 50 && (p.flags & NJ_PKT_HAS_L4) && p.esp_spi == 0xdeadbeef &&
			      p.payload_len == 4,
		      "esp");
		b[14] = 0x40;
		p = decode(c, b, 60, NJ_LINK_ETHERNET);
		CHECK_EVENT(p, IPV6_WRONG_IP_VERSION);
	}
	/* fragment with MF and a length not a multiple of 8 */
	{
		static const uint8_t fh[] = {17, 0, 0, 1, 0, 0, 0, 9};

		p = v6ext(c, b, 44, fh, sizeof(fh), NULL); /* 12 bytes of data */
		CHECK_EVENT(p, IPV6_FRAG_INVALID_LENGTH);
	}
	/* too many headers */
	for (unsigned i = 0; i < 40; i++) {
		static const uint8_t d[] = {60, 0, 1, 4, 0, 0, 0, 0};

		memcpy(ext + i * 8, d, 8);
	}
	ext[39 * 8] = 17;
	p = v6ext(c, b, 60, ext, 320, NULL);
	CHECK_EVENT(p, TOO_MANY_LAYERS);
	CHECK(p.flags & NJ_PKT_INVALID, "too many");
	nj_decode_destroy(c);
}

/* ------------------------------------------------------------ hashes */

static void test_hash(void)
{
	struct nj_decode_ctx *c = ctx_new(1);
	uint8_t a[256], r[256];
	uint32_t na = pkt_tcp4(a, ip4_a, ip4_b, 1234, 80, 5);
	uint32_t nr = pkt_tcp4(r, ip4_b, ip4_a, 80, 1234, 5);
	struct nj_pkt pa = decode(c, a, na, NJ_LINK_ETHERNET);
	struct nj_pkt pr = decode(c, r, nr, NJ_LINK_ETHERNET);

	CHECK(pa.hash == pr.hash && pa.hash == nj_decode_tuple_hash(&pa), "tcp4 symmetric");
	CHECK(nj_decode_fanout_hash(a, na, NJ_LINK_ETHERNET) ==
		      nj_decode_fanout_hash(r, nr, NJ_LINK_ETHERNET),
	      "fanout symmetric");
	CHECK(nj_decode_fanout_hash(a, na, NJ_LINK_ETHERNET) != 0, "fanout ip");
	nr = pkt_tcp4(r, ip4_a, ip4_b, 1235, 80, 5);
	pr = decode(c, r, nr, NJ_LINK_ETHERNET);
	CHECK(pa.hash != pr.hash, "port changes hash");
	CHECK(nj_decode_fanout_hash(a, na, NJ_LINK_ETHERNET) ==
		      nj_decode_fanout_hash(r, nr, NJ_LINK_ETHERNET),
	      "fanout ignores ports");
	/* same addresses and ports both ways (src == dst) */
	nr = pkt_tcp4(r, ip4_a, ip4_a, 80, 1234, 0);
	pa = decode(c, r, nr, NJ_LINK_ETHERNET);
	nr = pkt_tcp4(r, ip4_a, ip4_a, 1234, 80, 0);
	pr = decode(c, r, nr, NJ_LINK_ETHERNET);
	CHECK(pa.hash == pr.hash, "same-ip symmetric");

	na = pkt_udp6(a, ip6_a, ip6_b, 5353, 53, 9);
	nr = pkt_udp6(r, ip6_b, ip6_a, 53, 5353, 9);
	pa = decode(c, a, na, NJ_LINK_ETHERNET);
	pr = decode(c, r, nr, NJ_LINK_ETHERNET);
	CHECK(pa.hash == pr.hash && pa.hash, "udp6 symmetric");
	CHECK(nj_decode_fanout_hash(a, na, NJ_LINK_ETHERNET) ==
		      nj_decode_fanout_hash(r, nr, NJ_LINK_ETHERNET),
	      "fanout6");
	/* fanout of a VLAN frame via raw link and a fragment: addresses only */
	uint8_t f[128];
	uint32_t o = eth(f, 0x0800);

	memset(f + 34, 0, 16);
	ip4(f + o, 17, ip4_b, ip4_a, 16, 99, 0x2000, NULL, 0);
	pa = decode(c, f, 50, NJ_LINK_ETHERNET);
	CHECK(pa.flags & NJ_PKT_FRAGMENT, "is fragment");
	na = pkt_tcp4(a, ip4_a, ip4_b, 1, 2, 3);
	CHECK(nj_decode_fanout_hash(f, 50, NJ_LINK_ETHERNET) ==
		      nj_decode_fanout_hash(a, na, NJ_LINK_ETHERNET),
	      "fragment meets its flow");
	CHECK(nj_decode_fanout_hash(f + 14, 36, NJ_LINK_RAW) ==
		      nj_decode_fanout_hash(a, na, NJ_LINK_ETHERNET),
	      "raw link same hash");
	wr16(f + 12, 0x0806);
	CHECK(nj_decode_fanout_hash(f, 50, NJ_LINK_ETHERNET) == 0, "arp -> 0");
	CHECK(nj_decode_fanout_hash(f, 10, NJ_LINK_ETHERNET) == 0, "short -> 0");
	CHECK(nj_decode_fanout_hash(f, 50, 12345) == 0, "unknown link -> 0");

	/* spread: 4096 flows over 16 buckets, none badly off */
	unsigned bucket[16] = {0};

	for (unsigned i = 0; i < 4096; i++) {
		uint8_t src[4] = {10, 1, (uint8_t)(i >> 8), (uint8_t)i};

		na = pkt_tcp4(a, src, ip4_b, (uint16_t)(1024 + i), 443, 0);
		bucket[decode(c, a, na, NJ_LINK_ETHERNET).hash >> 28]++;
	}
	for (unsigned i = 0; i < 16; i++)
		CHECK(bucket[i] > 160 && bucket[i] < 360, "bucket %u has %u", i, bucket[i]);
	nj_decode_destroy(c);
}

/* ------------------------------------------------------------ defrag */

struct frag {
	uint8_t b[1600];
	uint32_t len;
};

/*
 * IPv4 fragments of a UDP datagram with plen payload bytes, in fragments of
 * at most fsz payload bytes (multiple of 8). Returns the count.
 */
static unsigned frag4(struct frag *out, const uint8_t *dgram, uint32_t dlen, uint32_t fsz,
		      uint16_t id, uint16_t vlan)
{
	unsigned n = 0;

	for (uint32_t off = 0; off < dlen; off += fsz, n++) {
		uint32_t l = dlen - off < fsz ? dlen - off : fsz, o;
		uint16_t fl = (uint16_t)(off / 8) | (off + l < dlen ? 0x2000 : 0);

		if (vlan) {
			o = eth(out[n].b, 0x8100);
			wr16(out[n].b + 14, vlan);
			wr16(out[n].b + 16, 0x0800);
			o = 18;
		} else {
			o = eth(out[n].b, 0x0800);
		}
		memcpy(out[n].b + o + 20, dgram + off, l);
		ip4(out[n].b + o, 17, ip4_a, ip4_b, l, id, fl, NULL, 0);
		out[n].len = o + 20 + l;
	}
	return n;
}

/* A UDP datagram (header + payload) with a correct checksum for ip4_a -> ip4_b. */
static uint32_t udp_dgram4(uint8_t *d, uint32_t plen)
{
	uint8_t iph[20];

	udp(d, 4444, 53, plen);
	ip4(iph, 17, ip4_a, ip4_b, 8 + plen, 0, 0, NULL, 0);
	l4_csum(iph, d, 8 + plen, 17, 6);
	return 8 + plen;
}

static struct nj_pkt feed(struct nj_decode_ctx *c, const struct frag *f, uint64_t ts_us,
			  uint8_t **keep)
{
	struct nj_pkt p;

	memset(&p, 0, sizeof(p));
	*keep = malloc(f->len);
	memcpy(*keep, f->b, f->len);
	p.data = *keep;
	p.len = p.wire_len = f->len;
	p.linktype = NJ_LINK_ETHERNET;
	p.ts_us = ts_us;
	nj_decode_burst_begin(c);
	nj_decode_pkt(c, &p);
	return p;
}

static void check_reassembled4(const struct nj_pkt *p, const uint8_t *dgram, uint32_t dlen)
{
	CHECK(p->flags & NJ_PKT_REASSEMBLED, "reassembled flags %#x [%s]", p->flags, events_str(p));
	CHECK(!(p->flags &
		(NJ_PKT_FRAGMENT | NJ_PKT_INVALID | NJ_PKT_L4_CSUM_BAD | NJ_PKT_IPV4_CSUM_BAD)),
	      "flags %#x", p->flags);
	CHECK((p->flags & NJ_PKT_HAS_L4) && p->sport == 4444 && p->dport == 53, "l4");
	/* the completing fragment's Ethernet header stays in front, as Suricata */
	CHECK((p->l3_off == 14 || p->l3_off == 18) && p->linktype == NJ_LINK_ETHERNET &&
		      p->len == p->l3_off + 20u + dlen,
	      "layout");
	CHECK(p->payload_len == dlen - 8 && !memcmp(p->data + p->l3_off + 20, dgram, dlen),
	      "bytes");
}

static void test_defrag4(void)
{
	struct nj_decode_ctx *c = ctx_new(1);
	static struct frag fr[64];
	static uint8_t dgram[4000];
	uint32_t dlen = udp_dgram4(dgram, 3500);
	unsigned n = frag4(fr, dgram, dlen, 1480, 7, 0);
	const struct nj_decode_stats *st = nj_decode_stats(c);
	uint8_t *keep[64];
	struct nj_pkt p;

	CHECK(n == 3, "3 fragments");
	/* in order */
	for (unsigned i = 0; i < n; i++) {
		p = feed(c, &fr[i], 1000, &keep[i]);
		if (i < n - 1) {
			CHECK(p.flags & NJ_PKT_FRAGMENT, "frag %u", i);
			CHECK((p.flags & NJ_PKT_IPV4) && !(p.flags & NJ_PKT_HAS_L4),
			      "frag l3 only");
			CHECK(p.hash != 0, "fragment hashed on addresses");
		}
	}
	check_reassembled4(&p, dgram, dlen);
	CHECK_NO_EVENTS(p);
	for (unsigned i = 0; i < n; i++)
		free(keep[i]);
	CHECK(st->frag_ipv4_fragments == 3 && st->frag_ipv4_reassembled == 1, "stats");

	/* a late copy of a finished datagram is ignored */
	p = feed(c, &fr[1], 2000, &keep[0]);
	CHECK_EVENT(p, IPV4_FRAG_IGNORED);
	free(keep[0]);

	/* reverse order, new id; also with VLAN */
	n = frag4(fr, dgram, dlen, 1000, 8, 0);
	for (unsigned i = n; i-- > 0;)
		p = feed(c, &fr[i], 3000, &keep[i]);
	check_reassembled4(&p, dgram, dlen);
	for (unsigned i = 0; i < n; i++)
		free(keep[i]);

	/* two datagrams with the same id on different VLANs do not mix */
	static struct frag fv[8];
	unsigned nv = frag4(fv, dgram, dlen, 1480, 9, 10);

	n = frag4(fr, dgram, dlen, 1480, 9, 11);
	p = feed(c, &fv[0], 4000, &keep[0]);
	p = feed(c, &fr[1], 4000, &keep[1]);
	p = feed(c, &fv[2], 4000, &keep[2]);
	CHECK(p.flags & NJ_PKT_FRAGMENT, "vlan 10 incomplete");
	p = feed(c, &fv[1], 4000, &keep[3]);
	check_reassembled4(&p, dgram, dlen);
	CHECK(p.nvlan == 1 && p.vlan[0] == 10, "vlan kept");
	for (unsigned i = 0; i < 4; i++)
		free(keep[i]);
	(void)nv;

	/* shuffled small fragments; the reassembled packet outlives the others in its burst */
	n = frag4(fr, dgram, dlen, 64, 10, 0);
	CHECK(n > 50, "many fragments");
	uint32_t seed = 12345;

	for (unsigned i = n - 1; i > 0; i--) {
		seed = seed * 1103515245 + 12345;
		unsigned j = (seed >> 8) % (i + 1);
		struct frag t = fr[i];

		fr[i] = fr[j];
		fr[j] = t;
	}
	for (unsigned i = 0; i < n; i++) {
		p = feed(c, &fr[i], 5000, &keep[i]);
		CHECK(i == n - 1 || (p.flags & NJ_PKT_FRAGMENT), "frag %u", i);
	}
	check_reassembled4(&p, dgram, dlen);
	for (unsigned i = 0; i < n; i++)
		free(keep[i]);
	nj_decode_destroy(c);
}

/* Raw fragment with explicit offset, MF, and bytes. */
static struct frag rawfrag4(uint16_t id, uint32_t off, bool mf, const uint8_t *data, uint32_t len)
{
	struct frag f;
	uint32_t o = eth(f.b, 0x0800);

	memcpy(f.b + o + 20, data, len);
	ip4(f.b + o, 17, ip4_a, ip4_b, len, id, (uint16_t)((off / 8) | (mf ? 0x2000 : 0)), NULL, 0);
	f.len = o + 20 + len;
	return f;
}

static void test_defrag_overlap(void)
{
	struct nj_decode_ctx *c = ctx_new(0);
	uint8_t hdr_a[40], b16[16], c16[16], d8[8], x24[40];
	uint8_t *k[8];
	struct nj_pkt p;
	struct frag f;

	/* first fragment: UDP header (len 32) + 8 x 'a' */
	udp(hdr_a, 1, 2, 24);
	memset(hdr_a + 8, 'a', 8);
	memset(b16, 'b', 16);
	memset(c16, 'c', 16);
	memset(d8, 'd', 8);

	/* BSD: lowest offset wins, then first arrival */
	f = rawfrag4(20, 0, true, hdr_a, 16);
	p = feed(c, &f, 1, &k[0]);
	CHECK_NO_EVENTS(p);
	f = rawfrag4(20, 8, true, b16, 16);
	p = feed(c, &f, 1, &k[1]);
	CHECK_EVENT(p, IPV4_FRAG_OVERLAP);
	f = rawfrag4(20, 8, true, d8, 8); /* same offset, later: loses */
	p = feed(c, &f, 1, &k[2]);
	CHECK_EVENT(p, IPV4_FRAG_OVERLAP);
	f = rawfrag4(20, 16, false, c16, 16);
	p = feed(c, &f, 1, &k[3]);
	CHECK_EVENT(p, IPV4_FRAG_OVERLAP);
	CHECK(p.flags & NJ_PKT_REASSEMBLED, "complete");
	CHECK(p.len == p.l3_off + 20u + 32 && p.payload_len == 24, "len %u", p.len);
	CHECK(!memcmp(p.data + p.l3_off + 28, "aaaaaaaabbbbbbbbcccccccc", 24), "bsd bytes %.24s",
	      p.data + p.l3_off + 28);
	for (int i = 0; i < 4; i++)
		free(k[i]);

	/* a later fragment with a lower offset overwrites an earlier one */
	udp(x24, 1, 2, 24);
	memset(x24 + 8, 'x', 16);
	f = rawfrag4(21, 8, true, b16, 16);
	p = feed(c, &f, 1, &k[0]);
	f = rawfrag4(21, 0, true, x24, 24);
	p = feed(c, &f, 1, &k[1]);
	CHECK_EVENT(p, IPV4_FRAG_OVERLAP);
	f = rawfrag4(21, 24, false, c16, 8);
	p = feed(c, &f, 1, &k[2]);
	CHECK(p.flags & NJ_PKT_REASSEMBLED, "complete 2");
	CHECK(!memcmp(p.data + p.l3_off + 28, "xxxxxxxxxxxxxxxxcccccccc", 24), "bytes %.24s",
	      p.data + p.l3_off + 28);
	for (int i = 0; i < 3; i++)
		free(k[i]);

	/* too large: offset + length beyond 65535 */
	f = rawfrag4(22, 65528, false, b16, 16);
	p = feed(c, &f, 1, &k[0]);
	CHECK_EVENT(p, IPV4_FRAG_PKT_TOO_LARGE);
	free(k[0]);
	nj_decode_destroy(c);
}

static void test_defrag_limits(void)
{
	struct nj_decode_config cfg;
	struct nj_decode_ctx *c;
	const struct nj_decode_stats *st;
	uint8_t data[1480], *k;
	struct nj_pkt p;
	struct frag f;

	/* timeout */
	c = ctx_new(1);
	st = nj_decode_stats(c);
	memset(data, 'z', sizeof(data));
	f = rawfrag4(30, 0, true, data, 1480);
	p = feed(c, &f, 1000000, &k);
	free(k);
	nj_decode_expire(c, 30 * 1000000ull);
	CHECK(st->frag_ipv4_timeouts == 0, "not yet");
	nj_decode_expire(c, 62 * 1000000ull);
	CHECK(st->frag_ipv4_timeouts == 1 && st->frag_memuse == 0, "timed out");
	f = rawfrag4(30, 1480, false, data, 100);
	p = feed(c, &f, 63 * 1000000ull, &k);
	CHECK((p.flags & NJ_PKT_FRAGMENT) && !(p.flags & NJ_PKT_REASSEMBLED), "first is gone");
	free(k);
	nj_decode_destroy(c);

	/* tracker exhaustion */
	nj_decode_config_defaults(&cfg);
	cfg.defrag_max_trackers = 4;
	c = nj_decode_create(&cfg, 0);
	CHECK(c, "create");
	st = nj_decode_stats(c);
	for (uint16_t id = 0; id < 6; id++) {
		f = rawfrag4(id, 0, true, data, 64);
		p = feed(c, &f, 1000, &k);
		free(k);
	}
	CHECK(st->frag_max_trackers == 2, "max trackers %lu", (unsigned long)st->frag_max_trackers);
	/* stale trackers are reused once they time out */
	f = rawfrag4(100, 0, true, data, 64);
	p = feed(c, &f, 100 * 1000000ull, &k);
	free(k);
	CHECK(st->frag_max_trackers == 2 && st->frag_tracker_soft_reuse == 1, "reuse");
	nj_decode_destroy(c);

	/* memcap exhaustion, then recovery after expiry */
	nj_decode_config_defaults(&cfg);
	cfg.defrag_memcap = 64 * 1024;
	c = nj_decode_create(&cfg, 0);
	CHECK(c, "create small");
	st = nj_decode_stats(c);
	for (uint16_t id = 0; id < 200; id++) {
		f = rawfrag4(id, 0, true, data, 1480);
		p = feed(c, &f, 1000, &k);
		free(k);
	}
	CHECK(st->frag_memcap > 0, "memcap hit");
	CHECK(st->frag_memuse <= cfg.defrag_memcap, "memuse bounded");
	nj_decode_expire(c, 1000 * 1000000ull);
	CHECK(st->frag_memuse == 0, "all freed");
	{
		static uint8_t dg[3000];
		static struct frag fr[4];
		uint32_t dl = udp_dgram4(dg, 2000);
		unsigned n = frag4(fr, dg, dl, 1480, 999, 0);
		uint8_t *kk[4];

		for (unsigned i = 0; i < n; i++)
			p = feed(c, &fr[i], 2000 * 1000000ull, &kk[i]);
		check_reassembled4(&p, dg, dl);
		for (unsigned i = 0; i < n; i++)
			free(kk[i]);
	}
	nj_decode_destroy(c);
}

/* IPv6 fragments: base header + hop-by-hop (unfragmentable) + FH + data. */
static struct frag frag6(uint32_t id, uint32_t off, bool mf, const uint8_t *data, uint32_t len)
{
	static const uint8_t dst[] = {44, 0, 5, 2, 0, 0, 0, 0}; /* hop-by-hop, RA */
	struct frag f;
	uint32_t o = eth(f.b, 0x86dd);

	memcpy(f.b + 54, dst, 8);
	f.b[62] = 17;
	f.b[63] = 0;
	wr16(f.b + 64, (uint16_t)(off | (mf ? 1 : 0)));
	wr32(f.b + 66, id);
	memcpy(f.b + 70, data, len);
	ip6(f.b + o, 0, ip6_a, ip6_b, 16 + len);
	f.len = 70 + len;
	return f;
}

static void test_defrag6(void)
{
	struct nj_decode_ctx *c = ctx_new(1);
	const struct nj_decode_stats *st = nj_decode_stats(c);
	static uint8_t dg[3000];
	uint8_t iph[40], *k[8];
	struct nj_pkt p;
	struct frag f;

	udp(dg, 5000, 6000, 2392);
	ip6(iph, 17, ip6_a, ip6_b, 2400);
	l4_csum(iph, dg, 2400, 17, 6);

	for (int rev = 0; rev < 2; rev++) {
		uint32_t id = 0x10000 + (uint32_t)rev;
		struct frag fs[2] = {frag6(id, 0, true, dg, 1232),
				     frag6(id, 1232, false, dg + 1232, 1168)};

		p = feed(c, &fs[rev], 1, &k[0]);
		CHECK((p.flags & NJ_PKT_FRAGMENT) && (p.flags & NJ_PKT_IPV6), "v6 frag");
		CHECK_NO_EVENTS(p);
		p = feed(c, &fs[!rev], 1, &k[1]);
		CHECK(p.flags & NJ_PKT_REASSEMBLED, "v6 reassembled [%s]", events_str(&p));
		CHECK((p.flags & NJ_PKT_HAS_L4) && !(p.flags & NJ_PKT_L4_CSUM_BAD), "v6 l4 %#x",
		      p.flags);
		CHECK(p.sport == 5000 && p.payload_len == 2392 && p.l4_off == p.l3_off + 48u,
		      "v6 tuple");
		CHECK(p.len == p.l3_off + 48u + 2400 && !memcmp(p.data + p.l3_off + 48, dg, 2400),
		      "v6 bytes");
		CHECK(p.data[p.l3_off + 6] == 0 && p.data[p.l3_off + 40] == 17,
		      "frag header removed");
		free(k[0]);
		free(k[1]);
	}
	CHECK(st->frag_ipv6_fragments == 4 && st->frag_ipv6_reassembled == 2, "v6 stats");

	f = frag6(7, 0, true, dg, 64);
	p = feed(c, &f, 1, &k[0]);
	f = frag6(7, 32, true, dg, 64);
	p = feed(c, &f, 1, &k[1]);
	CHECK_EVENT(p, IPV6_FRAG_OVERLAP);
	f = frag6(8, 65528, false, dg, 16);
	p = feed(c, &f, 1, &k[2]);
	CHECK_EVENT(p, IPV6_FRAG_PKT_TOO_LARGE);
	for (int i = 0; i < 3; i++)
		free(k[i]);
	nj_decode_expire(c, 1000 * 1000000ull);
	CHECK(st->frag_ipv6_timeouts == 1, "v6 timeout");
	nj_decode_destroy(c);
}

/* ------------------------------------------------------------ names, stats */

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *s;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	s = malloc((size_t)n + 1);
	if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
		free(s);
		s = NULL;
	}
	if (s)
		s[n] = 0;
	fclose(f);
	return s;
}

struct names {
	const char *name[512];
	uint64_t val[512];
	unsigned n;
};

static void collect(void *arg, const char *name, uint64_t v)
{
	struct names *s = arg;

	CHECK(s->n < 512, "too many counters");
	s->name[s->n] = name;
	s->val[s->n++] = v;
}

static void test_names_stats(void)
{
	char *rules = slurp(CORPUS "rules/suricata/decoder-events.rules");
	char *schema = slurp(CORPUS "rules/suricata/etc/schema.json");
	struct nj_decode_stats st;
	struct names s = {.n = 0};

	for (unsigned i = 0; i < NJ_DEV_MAX; i++) {
		char pat[128];

		CHECK(nj_decode_event_names[i] && nj_decode_event_eve_names[i], "name %u", i);
		CHECK(!strncmp(nj_decode_event_eve_names[i], "decoder.", 8) &&
			      !strcmp(nj_decode_event_eve_names[i] + 8, nj_decode_event_names[i]),
		      "eve name");
		for (unsigned j = 0; j < i; j++)
			CHECK(strcmp(nj_decode_event_names[i], nj_decode_event_names[j]), "dup %s",
			      nj_decode_event_names[i]);
		if (!rules || !schema)
			continue;
		snprintf(pat, sizeof(pat), "decode-event:%s;", nj_decode_event_names[i]);
		if (strstr(rules, pat))
			continue;
		/* not in the bundled rules: must be a Suricata counter in the schema */
		const char *dot = strrchr(nj_decode_event_names[i], '.');

		snprintf(pat, sizeof(pat), "\"%s\"", dot ? dot + 1 : nj_decode_event_names[i]);
		CHECK(strstr(schema, pat), "%s is not a Suricata event name",
		      nj_decode_event_names[i]);
	}
	if (!rules || !schema)
		printf("  (corpus absent: event names not checked against Suricata's list)\n");
	free(rules);
	free(schema);

	memset(&st, 0, sizeof(st));
	st.pkts = 4;
	st.avg_pkt_size_sum = 400;
	st.frag_ipv6_reassembled = 3;
	st.events[NJ_DEV_IPV4_TRUNC_PKT] = 7;
	nj_decode_stats_foreach(&st, collect, &s);
	CHECK(s.n >= NJ_DEV_MAX + 20, "count %u", s.n);
	for (unsigned i = 0; i < s.n; i++) {
		for (unsigned j = 0; j < i; j++)
			CHECK(strcmp(s.name[i], s.name[j]), "dup counter %s", s.name[i]);
		if (!strcmp(s.name[i], "decoder.pkts"))
			CHECK(s.val[i] == 4, "pkts");
		if (!strcmp(s.name[i], "decoder.avg_pkt_size"))
			CHECK(s.val[i] == 100, "avg");
		if (!strcmp(s.name[i], "defrag.ipv6.reassembled"))
			CHECK(s.val[i] == 3, "v6 reassembled");
		if (!strcmp(s.name[i], "decoder.event.ipv4.trunc_pkt"))
			CHECK(s.val[i] == 7, "event counter");
	}
}

/* ------------------------------------------------------------ robustness */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

static void test_fuzz(void)
{
	struct nj_decode_config cfg;
	struct nj_decode_ctx *c;
	static struct frag tmpl[24];
	static uint8_t dg[3000];
	static const uint16_t links[] = {NJ_LINK_ETHERNET,  NJ_LINK_RAW,	NJ_LINK_NULL,
					 NJ_LINK_LINUX_SLL, NJ_LINK_LINUX_SLL2, NJ_LINK_IPV4,
					 NJ_LINK_IPV6,	    NJ_LINK_PPP,	NJ_LINK_CHDLC};
	unsigned nt = 0;
	struct nj_pkt pk[NJ_BURST];
	uint8_t *bufs[NJ_BURST];

	nj_decode_config_defaults(&cfg);
	cfg.defrag_memcap = 1 << 20;
	cfg.defrag_max_trackers = 64;
	c = nj_decode_create(&cfg, 0);
	CHECK(c, "create");

	tmpl[nt].len = pkt_tcp4(tmpl[nt].b, ip4_a, ip4_b, 1, 2, 40), nt++;
	tmpl[nt].len = pkt_udp6(tmpl[nt].b, ip6_a, ip6_b, 1, 2, 40), nt++;
	{
		static const uint8_t ext[] = {43, 0, 1,	 4, 0, 0, 0, 0, 51, 0, 2, 1, 0, 0,
					      0,  0, 17, 1, 0, 0, 0, 0, 0,  1, 0, 0, 0, 1};

		v6ext(c, tmpl[nt].b, 0, ext, sizeof(ext), &tmpl[nt].len), nt++;
	}
	{
		static const uint8_t opt[] = {7, 7, 4, 0, 0, 0, 0, 68, 12, 5,
					      0, 0, 0, 0, 0, 0, 0, 0,  0,  0};
		uint32_t o = eth(tmpl[nt].b, 0x0800);

		tcp(tmpl[nt].b + o + 40, 1, 2, 2, NULL, 0, 10);
		ip4(tmpl[nt].b + o, 6, ip4_a, ip4_b, 30, 1, 0, opt, 20);
		tmpl[nt].len = o + 70, nt++;
	}
	{
		uint8_t inner[128];

		pkt_tcp4(inner, ip4_b, ip4_a, 80, 1, 0);
		icmp4(c, tmpl[nt].b, 3, 1, inner + 14, 40);
		tmpl[nt].len = 42 + 40, nt++;
		icmp6(c, tmpl[nt].b, 1, 3, 64, inner + 14, 40);
		tmpl[nt].len = 62 + 40, nt++;
	}
	{
		uint32_t dl = udp_dgram4(dg, 1200);

		nt += frag4(tmpl + nt, dg, dl, 256, 77, 0);
		tmpl[nt++] = frag6(5, 0, true, dg, 512);
		tmpl[nt++] = frag6(5, 512, false, dg + 512, 300);
	}
	CHECK(nt <= NJ_ARRAY_SIZE(tmpl), "templates");
	uint64_t before = nj_decode_stats(c)->pkts;

	for (unsigned iter = 0; iter < 200000 / NJ_BURST; iter++) {
		nj_decode_burst_begin(c);
		for (unsigned i = 0; i < NJ_BURST; i++) {
			const struct frag *t = &tmpl[rnd() % nt];
			uint32_t len = t->len, r = rnd() % 8;
			uint8_t *buf;

			if (r == 0)
				len = rnd() % (t->len + 1);
			buf = malloc(len ? len : 1);
			CHECK(buf, "malloc");
			memcpy(buf, t->b, len);
			if (r == 1) {
				for (uint32_t j = 0; j < len; j++)
					buf[j] = (uint8_t)rnd();
			} else if (len) {
				for (uint32_t m = rnd() % 6; m; m--)
					buf[rnd() % len] = (uint8_t)rnd();
			}
			memset(&pk[i], 0, sizeof(pk[i]));
			pk[i].data = buf;
			pk[i].len = pk[i].wire_len = len;
			pk[i].linktype = (rnd() % 16) ? NJ_LINK_ETHERNET
						      : links[rnd() % NJ_ARRAY_SIZE(links)];
			pk[i].ts_us = (uint64_t)iter * 10000;
			bufs[i] = buf;
			nj_decode_pkt(c, &pk[i]);
		}
		/* every packet's view must stay readable until the next burst */
		for (unsigned i = 0; i < NJ_BURST; i++) {
			const struct nj_pkt *p = &pk[i];
			volatile uint8_t sink = 0;

			CHECK(p->payload_off + p->payload_len <= p->len, "payload in bounds");
			CHECK(p->nevents <= NJ_PKT_MAX_EVENTS, "nevents");
			if (p->payload_len)
				sink ^= p->data[p->payload_off + p->payload_len - 1];
			if (p->flags & (NJ_PKT_IPV4 | NJ_PKT_IPV6))
				sink ^= nj_pkt_dst(p)[nj_pkt_addr_len(p) - 1];
			(void)sink;
			free(bufs[i]);
		}
		if (iter % 64 == 0)
			nj_decode_expire(c, (uint64_t)iter * 10000);
	}
	const struct nj_decode_stats *st = nj_decode_stats(c);

	CHECK(st->pkts - before == 200000 / NJ_BURST * NJ_BURST, "all decoded");
	CHECK(st->invalid > 0 && st->frag_ipv4_reassembled > 0, "mix exercised");
	nj_decode_destroy(c);
}

/* ------------------------------------------------------------ captures */

struct pcap_result {
	unsigned pkts, ip, invalid, with_event;
	int linktype;
};

/* Decode a capture; count packets carrying event ev (or any event if ev < 0). */
static int run_pcap(const char *path, int csum, int ev, struct pcap_result *r)
{
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	struct nj_decode_ctx *c;
	pcap_t *pc = pcap_open_offline(path, err);

	memset(r, 0, sizeof(*r));
	if (!pc)
		return -1;
	c = ctx_new(csum);
	r->linktype = pcap_datalink(pc);
	while (pcap_next_ex(pc, &h, &data) == 1) {
		struct nj_pkt p;
		uint8_t *copy;

		nj_decode_burst_begin(c);
		decode_exact(c, &p, data, h->caplen, h->len, (uint16_t)r->linktype, &copy);
		p.ts_us = (uint64_t)h->ts.tv_sec * 1000000 + (uint64_t)h->ts.tv_usec;
		r->pkts++;
		if (p.flags & (NJ_PKT_IPV4 | NJ_PKT_IPV6))
			r->ip++;
		if (p.flags & NJ_PKT_INVALID)
			r->invalid++;
		if (ev < 0 ? p.nevents > 0 : has_event(&p, (enum nj_decode_event)ev))
			r->with_event++;
		free(copy);
	}
	nj_decode_destroy(c);
	pcap_close(pc);
	return 0;
}

static int event_by_name(const char *name)
{
	for (unsigned i = 0; i < NJ_DEV_MAX; i++)
		if (!strcmp(nj_decode_event_names[i], name))
			return (int)i;
	return -2;
}

static void test_pcaps(void)
{
	static const char *const cid[] = {"combined.pcap", "tcp.pcap",	"udp.pcap",  "icmp.pcap",
					  "icmp6.pcap",	   "ipv6.pcap", "sctp.pcap", "rsvp.pcap"};
	/* suricata-verify decoder tests: packets that must carry the event */
	static const struct {
		const char *pcap, *event;
		unsigned count;
	} sv[] = {
		{"ipv4-truncated/truncated.pcap", "ipv4.trunc_pkt", 1},
		{"tcp-empty-sack/tcp-opt.pcap", "tcp.opt_invalid_len", 0},
		{"tcp-fastopen-09/tcp-opt-invalid-warning.pcap", "tcp.opt_invalid_len", 0},
		{"ipv6-evasion/ipv6-covert-dstopts/covert_send6.pcap", "ipv6.dstopts_unknown_opt",
		 18},
		{"ipv6-evasion/ipv6-malformed-fragments-1/frag-1.pcap", "ipv6.frag_overlap", 1},
		{"ipv6-evasion/ipv6-malformed-fragments-10/frag-10.pcap", "ipv6.exthdr_useless_fh",
		 1},
		{"ipv6-evasion/ipv6-malformed-fragments-10/frag-10.pcap", "ipv6.exthdr_dupl_fh", 1},
		{"ipv6-evasion/ipv6-malformed-fragments-15/frag-15.pcap", "ipv6.frag_pkt_too_large",
		 1},
		{"ipv6-evasion/ipv6-malformed-fragments-18/frag-18.pcap", "ipv6.frag_overlap", 1},
		{"ipv6-evasion/ipv6-malformed-fragments-2/frag-2.pcap", "ipv6.frag_overlap", 1},
		{"ipv6-evasion/ipv6-malformed-fragments-22/frag-22.pcap",
		 "ipv6.frag_invalid_length", 1},
		{"ipv6-evasion/ipv6-malformed-fragments-24/frag-24.pcap",
		 "ipv6.frag_invalid_length", 1},
		{"ipv6-evasion/ipv6-malformed-fragments-25/frag-25.pcap", "ipv6.exthdr_useless_fh",
		 1},
		{"ipv6-evasion/ipv6-malformed-fragments-25/frag-25.pcap", "ipv6.trunc_exthdr", 1},
		{"ipv6-evasion/ipv6-malformed-fragments-26/frag-26.pcap", "ipv6.exthdr_useless_fh",
		 1},
		{"ipv6-evasion/ipv6-malformed-fragments-26/frag-26.pcap", "ipv6.trunc_exthdr", 1},
		{"ipv6-evasion/ipv6-malformed-fragments-28/frag-28.pcap", "ipv6.exthdr_useless_fh",
		 1},
		{"ipv6-evasion/ipv6-malformed-fragments-28/frag-28.pcap", "ipv6.trunc_exthdr", 1},
		{"ipv6-evasion/ipv6-malformed-fragments-29/frag-29.pcap", "ipv6.frag_overlap", 1},
		{"ipv6-evasion/ipv6-malformed-fragments-3/frag-3.pcap", "ipv6.frag_overlap", 1},
		{"ipv6-evasion/ipv6-malformed-fragments-31/frag-31.pcap", "ipv6.frag_pkt_too_large",
		 1},
		{"ipv6-evasion/ipv6-malformed-fragments-33/frag-33.pcap", "ipv6.frag_pkt_too_large",
		 1},
		{"ipv6-evasion/ipv6-malformed-fragments-33/frag-33.pcap",
		 "ipv6.frag_invalid_length", 1},
		{"ipv6-evasion/ipv6-malformed-fragments-4/frag-4.pcap", "ipv6.frag_overlap", 1},
		{"ipv6-evasion/ipv6-malformed-fragments-6/frag-6.pcap", "ipv6.frag_overlap", 1},
		{"ipv6-evasion/ipv6-malformed-fragments-7/frag-7.pcap", "ipv6.frag_overlap", 1},
		{"ipv6-evasion/ipv6-malformed-fragments-8/frag-8.pcap", "ipv6.frag_overlap", 1},
		{"ipv6-evasion/ipv6-malformed-fragments-9/frag-9.pcap", "ipv6.exthdr_useless_fh",
		 1},
		/* anomaly counts of output-eve-anomaly-packethdr (-k none) */
		{"output-eve-anomaly-packethdr/anomaly.pcap", "icmpv4.unknown_code", 4},
		{"output-eve-anomaly-packethdr/anomaly.pcap", "icmpv4.unknown_type", 42},
		{"output-eve-anomaly-packethdr/anomaly.pcap", "ipv4.trunc_pkt", 2},
	};
	struct pcap_result r;
	char path[512];
	unsigned ran = 0;

	for (unsigned i = 0; i < NJ_ARRAY_SIZE(cid); i++) {
		snprintf(path, sizeof(path), CORPUS "community-id/pcaps/%s", cid[i]);
		if (run_pcap(path, 1, -1, &r) < 0) {
			printf("  SKIP %s: not readable (corpus absent?)\n", path);
			continue;
		}
		ran++;
		CHECK(r.pkts > 0 && r.ip > 0, "%s: %u packets, %u ip", cid[i], r.pkts, r.ip);
		CHECK(r.invalid == 0, "%s: %u invalid packets", cid[i], r.invalid);
	}
	for (unsigned i = 0; i < NJ_ARRAY_SIZE(sv); i++) {
		int ev = event_by_name(sv[i].event);

		CHECK(ev >= 0, "unknown event %s", sv[i].event);
		snprintf(path, sizeof(path), CORPUS "suricata-verify/tests/%s", sv[i].pcap);
		if (run_pcap(path, 0, ev, &r) < 0) {
			printf("  SKIP %s: not readable\n", path);
			continue;
		}
		ran++;
		CHECK(r.with_event == sv[i].count, "%s: %u packets with %s, want %u", sv[i].pcap,
		      r.with_event, sv[i].event, sv[i].count);
	}
	printf("  %u captures checked\n", ran);
}

int main(void)
{
	static const struct {
		const char *name;
		void (*fn)(void);
	} tests[] = {
		{"tcp4", test_tcp4},
		{"truncation", test_truncation},
		{"checksums", test_checksums},
		{"vlan", test_vlan},
		{"encap", test_encap},
		{"esp", test_esp},
		{"linktypes", test_linktypes},
		{"ipv4", test_ipv4},
		{"tcp_udp", test_tcp_udp},
		{"icmp", test_icmp},
		{"ipv6_ext", test_ipv6_ext},
		{"hash", test_hash},
		{"tunnels", test_tunnels},
		{"defrag4", test_defrag4},
		{"defrag_overlap", test_defrag_overlap},
		{"defrag_limits", test_defrag_limits},
		{"defrag6", test_defrag6},
		{"names_stats", test_names_stats},
		{"fuzz", test_fuzz},
		{"pcaps", test_pcaps},
	};

	for (unsigned i = 0; i < NJ_ARRAY_SIZE(tests); i++) {
		printf("%s\n", tests[i].name);
		tests[i].fn();
	}
	printf("ok: %d checks\n", checks);
	return 0;
}
