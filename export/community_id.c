/* SPDX-License-Identifier: MIT */
/*
 * Community ID v1. Called once per flow (the result is cached in the flow),
 * so one SHA-1 of at most 40 bytes per flow is all it costs.
 */
#include <string.h>

/*
 * The one-shot SHA1() of OpenSSL 3 fetches the algorithm on every call (about
 * a microsecond); the low-level functions, deprecated but kept, do not.
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include "../dataplane/decode.h"
#include "community_id.h"

static const char b64_tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static size_t b64_encode(const uint8_t *in, size_t n, char *out)
{
	char *p = out;
	size_t i;

	for (i = 0; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];

		*p++ = b64_tab[v >> 18];
		*p++ = b64_tab[(v >> 12) & 63];
		*p++ = b64_tab[(v >> 6) & 63];
		*p++ = b64_tab[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;

		*p++ = b64_tab[v >> 18];
		*p++ = b64_tab[(v >> 12) & 63];
		*p++ = '=';
		*p++ = '=';
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;

		*p++ = b64_tab[v >> 18];
		*p++ = b64_tab[(v >> 12) & 63];
		*p++ = b64_tab[(v >> 6) & 63];
		*p++ = '=';
	}
	return (size_t)(p - out);
}

size_t nj_community_id(uint16_t seed, const uint8_t *saddr, const uint8_t *daddr, unsigned alen,
		       uint8_t proto, bool has_ports, uint16_t sport, uint16_t dport, bool base64,
		       char *out, size_t outlen)
{
	uint8_t buf[2 + 16 + 16 + 2 + 4], md[SHA_DIGEST_LENGTH];
	const uint8_t *a1 = saddr, *a2 = daddr;
	uint16_t p1 = sport, p2 = dport;
	bool one_way = false;
	size_t n = 0, len;
	char *p;
	int c;

	if (!outlen)
		return 0;
	out[0] = '\0';
	if ((alen != 4 && alen != 16) || outlen < (base64 ? 2 + 28 + 1 : 2 + 40 + 1))
		return 0;

	/*
	 * ICMP messages without a counterpart type keep the sender first: the
	 * spec orders only flows that can be answered (pycommunityid's is_one_way).
	 */
	if (has_ports && (proto == 1 || proto == 58) && sport < 256) {
		uint16_t a, b;

		one_way = nj_icmp_port_map(proto == 58, (uint8_t)sport, 0, &a, &b);
	}
	if (!one_way) {
		c = memcmp(saddr, daddr, alen);
		if (c > 0 || (c == 0 && has_ports && sport > dport)) {
			a1 = daddr;
			a2 = saddr;
			p1 = dport;
			p2 = sport;
		}
	}

	buf[n++] = (uint8_t)(seed >> 8);
	buf[n++] = (uint8_t)seed;
	memcpy(buf + n, a1, alen);
	n += alen;
	memcpy(buf + n, a2, alen);
	n += alen;
	buf[n++] = proto;
	buf[n++] = 0;
	if (has_ports) {
		buf[n++] = (uint8_t)(p1 >> 8);
		buf[n++] = (uint8_t)p1;
		buf[n++] = (uint8_t)(p2 >> 8);
		buf[n++] = (uint8_t)p2;
	}
	{
		SHA_CTX sc;

		SHA1_Init(&sc);
		SHA1_Update(&sc, buf, n);
		SHA1_Final(md, &sc);
	}

	out[0] = '1';
	out[1] = ':';
	p = out + 2;
	if (base64) {
		len = b64_encode(md, sizeof(md), p);
	} else {
		static const char hex[] = "0123456789abcdef";

		for (size_t i = 0; i < sizeof(md); i++) {
			p[2 * i] = hex[md[i] >> 4];
			p[2 * i + 1] = hex[md[i] & 15];
		}
		len = 2 * sizeof(md);
	}
	p[len] = '\0';
	return len + 2;
}
