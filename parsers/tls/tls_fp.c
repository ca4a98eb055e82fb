/* SPDX-License-Identifier: MIT */
/*
 * Fingerprints of hellos: JA3 / JA3S (Salesforce; GREASE values removed, as
 * Suricata and Wireshark do) and JA4 (FoxIO's JA4 specification, TLS over
 * TCP): hashes through OpenSSL EVP. One JA4 detail follows the values the
 * corpus expects (Suricata's) rather than the specification's prose: with no
 * signature algorithms the hashed extension string still ends in "_". An
 * empty cipher or extension list gives "000000000000" (specification).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "tls_priv.h"

struct out {
	char *p;
	size_t len, cap;
	bool full;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->full || o->len + n + 1 > o->cap) {
		o->full = true;
		return;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
	o->p[o->len] = 0;
}

static void put_u(struct out *o, unsigned v)
{
	char t[12];
	int n = 12;

	do {
		t[--n] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put(o, t + n, (size_t)(12 - n));
}

static void put_list16(struct out *o, const uint16_t *v, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		if (i)
			put(o, "-", 1);
		put_u(o, v[i]);
	}
}

int nj_tls_ja3_string(const struct nj_tls_hello *h, bool server, char *buf, size_t cap)
{
	struct out o = {buf, 0, cap, cap == 0};

	if (cap)
		buf[0] = 0;
	put_u(&o, h->legacy_version);
	put(&o, ",", 1);
	if (server) {
		/* JA3S: the chosen cipher, then the extensions */
		if (h->nciphers)
			put_u(&o, h->ciphers[0]);
		put(&o, ",", 1);
		put_list16(&o, h->exts, h->nexts);
	} else {
		put_list16(&o, h->ciphers, h->nciphers);
		put(&o, ",", 1);
		put_list16(&o, h->exts, h->nexts);
		put(&o, ",", 1);
		put_list16(&o, h->groups, h->ngroups);
		put(&o, ",", 1);
		for (unsigned i = 0; i < h->npf; i++) {
			if (i)
				put(&o, "-", 1);
			put_u(&o, h->pf[i]);
		}
	}
	return o.full ? -1 : (int)o.len;
}

static void hex_lower(const uint8_t *d, unsigned n, char *out)
{
	static const char hx[] = "0123456789abcdef";

	for (unsigned i = 0; i < n; i++) {
		out[2 * i] = hx[d[i] >> 4];
		out[2 * i + 1] = hx[d[i] & 15];
	}
	out[2 * n] = 0;
}

void nj_tls_md5_hex(const char *s, size_t n, char out[33])
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;

	if (EVP_Digest(s, n, md, &mdlen, nj_tls_md(NJ_TLS_MD_MD5), NULL) != 1 || mdlen != 16) {
		out[0] = 0;
		return;
	}
	hex_lower(md, 16, out);
}

/* ------------------------------------------------------------------ JA4 */

static const char *ja4_version(uint16_t v)
{
	switch (v) {
	case 0x0304: return "13";
	case 0x0303: return "12";
	case 0x0302: return "11";
	case 0x0301: return "10";
	case 0x0300: return "s3";
	case 0x0002: return "s2";
	case 0xfeff: return "d1";
	case 0xfefd: return "d2";
	case 0xfefc: return "d3";
	default: return "00";
	}
}

static bool alnum(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static int cmp16(const void *a, const void *b)
{
	uint16_t x = *(const uint16_t *)a, y = *(const uint16_t *)b;

	return (x > y) - (x < y);
}

/* First 12 hex characters of SHA-256 of s. */
static void sha256_12(const char *s, size_t n, char out[13])
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	char hx[65];

	if (EVP_Digest(s, n, md, &mdlen, nj_tls_md(NJ_TLS_MD_SHA256), NULL) != 1 || mdlen != 32) {
		memset(out, '0', 12);
		out[12] = 0;
		return;
	}
	hex_lower(md, 32, hx);
	memcpy(out, hx, 12);
	out[12] = 0;
}

static void put_hex4(struct out *o, uint16_t v)
{
	static const char hx[] = "0123456789abcdef";
	char t[4] = {hx[v >> 12], hx[(v >> 8) & 15], hx[(v >> 4) & 15], hx[v & 15]};

	put(o, t, 4);
}

void nj_tls_ja4(const struct nj_tls_hello *h, char out[37])
{
	uint16_t ver = h->has_supported_versions && h->sv_max ? h->sv_max : h->legacy_version;
	unsigned nc = h->nciphers < 99 ? h->nciphers : 99;
	unsigned ne = h->nexts < 99 ? h->nexts : 99;
	char alpn[3] = "00", b[13], c[13], s_stack[2048];
	uint16_t tmp_stack[256], *tmp;
	unsigned nt = 0;
	size_t cap;
	char *s;
	struct out o;

	/* ALPN: first and last characters of the first value, their hex when not alphanumeric */
	if (h->alpn_len >= 2 && h->alpn[0] > 0) {
		const uint8_t *v = h->alpn + 1;
		uint8_t l = h->alpn[0];

		if (alnum(v[0]) && alnum(v[l - 1])) {
			alpn[0] = (char)v[0];
			alpn[1] = (char)v[l - 1];
		} else {
			static const char hx[] = "0123456789abcdef";

			alpn[0] = hx[v[0] >> 4];
			alpn[1] = hx[v[l - 1] & 15];
		}
	}

	/* one scratch list, big enough for ciphers or extensions, and one string: on the
	 * stack for every real hello, from the heap for absurd ones */
	cap = (size_t)(h->nciphers > h->nexts ? h->nciphers : h->nexts) + 1;
	tmp = cap <= 256 ? tmp_stack : malloc(cap * sizeof(uint16_t));
	cap = ((size_t)h->nciphers + h->nexts + h->nsigalgs) * 5 + 8;
	s = cap <= sizeof(s_stack) ? s_stack : malloc(cap);
	if (!tmp || !s) {
		memset(b, '0', 12);
		b[12] = 0;
		memcpy(c, b, 13);
		goto done;
	}

	if (h->nciphers == 0) {
		memcpy(b, "000000000000", 13);
	} else {
		memcpy(tmp, h->ciphers, h->nciphers * sizeof(uint16_t));
		qsort(tmp, h->nciphers, sizeof(uint16_t), cmp16);
		o = (struct out){s, 0, cap, false};
		for (unsigned i = 0; i < h->nciphers; i++) {
			if (i)
				put(&o, ",", 1);
			put_hex4(&o, tmp[i]);
		}
		sha256_12(s, o.len, b);
	}

	/* extensions sorted, without SNI and ALPN, then "_" and the signature algorithms */
	for (unsigned i = 0; i < h->nexts; i++)
		if (h->exts[i] != 0x0000 && h->exts[i] != 0x0010)
			tmp[nt++] = h->exts[i];
	if (nt == 0) {
		memcpy(c, "000000000000", 13);
	} else {
		qsort(tmp, nt, sizeof(uint16_t), cmp16);
		o = (struct out){s, 0, cap, false};
		for (unsigned i = 0; i < nt; i++) {
			if (i)
				put(&o, ",", 1);
			put_hex4(&o, tmp[i]);
		}
		/* the "_" stays when there are no signature algorithms: the corpus's JA4
		 * values (Suricata, FoxIO's tools) are computed that way */
		put(&o, "_", 1);
		for (unsigned i = 0; i < h->nsigalgs; i++) {
			if (i)
				put(&o, ",", 1);
			put_hex4(&o, h->sigalgs[i]);
		}
		sha256_12(s, o.len, c);
	}
done:
	if (tmp != tmp_stack)
		free(tmp);
	if (s != s_stack)
		free(s);
	snprintf(out, 37, "t%s%c%02u%02u%c%c_%s_%s", ja4_version(ver), h->sni ? 'd' : 'i', nc, ne,
		 alpn[0], alpn[1], b, c);
}
