/* SPDX-License-Identifier: MIT */
/*
 * TLS detection beyond the single buffers of tls_parser.c: the multi-buffers
 * tls.certs (each DER certificate of the first Certificate message),
 * tls.subjectaltname and tls.alpn, the tls.random buffers, client-certificate
 * variants of tls.cert_* (to the server), and the transaction keywords
 * ssl_version, tls.version, tls.cert_chain_len and the legacy tls.subject /
 * tls.issuerdn. Everything reads the transaction as the parser left it.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "detect/detect_int.h"
#include "tls_priv.h"

#define TX(t) ((const struct nj_tls_tx *)(t))

/* ------------------------------------------------------------ multi-buffers */

/* The idx-th certificate of the chain of direction dir (3-byte length prefixed DER). */
static bool chain_at(const struct nj_al_tx *t, int dir, uint32_t idx, const uint8_t **d,
		     uint32_t *n)
{
	const uint8_t *c = TX(t)->chain[dir];
	uint32_t len = TX(t)->chain_len[dir], o = 0;

	if (!c)
		return false;
	for (uint32_t i = 0; o + 3 <= len; i++) {
		uint32_t cl = (uint32_t)c[o] << 16 | (uint32_t)c[o + 1] << 8 | c[o + 2];

		o += 3;
		if (cl > len - o)
			return false;
		if (i == idx) {
			*d = c + o;
			*n = cl;
			return true;
		}
		o += cl;
	}
	return false;
}

static bool certs_ts(const struct nj_al_tx *t, uint32_t idx, const uint8_t **d, uint32_t *n)
{
	return chain_at(t, 0, idx, d, n);
}

static bool certs_tc(const struct nj_al_tx *t, uint32_t idx, const uint8_t **d, uint32_t *n)
{
	return chain_at(t, 1, idx, d, n);
}

static bool san_at(const struct nj_al_tx *t, int dir, uint32_t idx, const uint8_t **d, uint32_t *n)
{
	const struct nj_tls_cert *c = &TX(t)->cert[dir];

	if (!c->present || idx >= c->nsans)
		return false;
	*d = (const uint8_t *)c->sans[idx];
	*n = c->san_len[idx];
	return true;
}

static bool san_ts(const struct nj_al_tx *t, uint32_t idx, const uint8_t **d, uint32_t *n)
{
	return san_at(t, 0, idx, d, n);
}

static bool san_tc(const struct nj_al_tx *t, uint32_t idx, const uint8_t **d, uint32_t *n)
{
	return san_at(t, 1, idx, d, n);
}

/* The idx-th protocol of a hello's ALPN list (length-prefixed entries). */
static bool alpn_at(const struct nj_al_tx *t, int dir, uint32_t idx, const uint8_t **d, uint32_t *n)
{
	const struct nj_tls_hello *h = &TX(t)->hello[dir];
	uint32_t o = 0;

	if (!h->alpn)
		return false;
	for (uint32_t i = 0; o < h->alpn_len; i++) {
		uint8_t l = h->alpn[o++];

		if (l > h->alpn_len - o)
			return false;
		if (i == idx) {
			*d = h->alpn + o;
			*n = l;
			return true;
		}
		o += l;
	}
	return false;
}

static bool alpn_ts(const struct nj_al_tx *t, uint32_t idx, const uint8_t **d, uint32_t *n)
{
	return alpn_at(t, 0, idx, d, n);
}

static bool alpn_tc(const struct nj_al_tx *t, uint32_t idx, const uint8_t **d, uint32_t *n)
{
	return alpn_at(t, 1, idx, d, n);
}

const struct nj_al_multibuffer nj_tls_multi_buffers[] = {
	{"tls.certs", NJ_DIR_TOSERVER, certs_ts},
	{"tls.certs", NJ_DIR_TOCLIENT, certs_tc},
	{"tls.subjectaltname", NJ_DIR_TOSERVER, san_ts},
	{"tls.subjectaltname", NJ_DIR_TOCLIENT, san_tc},
	{"tls.alpn", NJ_DIR_TOSERVER, alpn_ts},
	{"tls.alpn", NJ_DIR_TOCLIENT, alpn_tc},
	{NULL, 0, NULL},
};

/* ------------------------------------------------------------ single buffers */

#define RANDOM_GETTER(fn_, dir_, off_, len_)                               \
	bool fn_(const struct nj_al_tx *t, const uint8_t **d, uint32_t *n) \
	{                                                                  \
		if (!TX(t)->random_set[dir_])                              \
			return false;                                      \
		*d = TX(t)->random[dir_] + (off_);                         \
		*n = (len_);                                               \
		return true;                                               \
	}
RANDOM_GETTER(nj_tls_buf_random_ts, 0, 0, 32)
RANDOM_GETTER(nj_tls_buf_random_tc, 1, 0, 32)
RANDOM_GETTER(nj_tls_buf_random_time_ts, 0, 0, 4)
RANDOM_GETTER(nj_tls_buf_random_time_tc, 1, 0, 4)
RANDOM_GETTER(nj_tls_buf_random_bytes_ts, 0, 4, 28)
RANDOM_GETTER(nj_tls_buf_random_bytes_tc, 1, 4, 28)

/* The client certificate's fields (tls.cert_* to the server). */
bool nj_tls_buf_client_subject(const struct nj_al_tx *t, const uint8_t **d, uint32_t *n)
{
	if (!TX(t)->cert[0].present)
		return false;
	*d = (const uint8_t *)TX(t)->cert[0].subject;
	*n = TX(t)->cert[0].subject_len;
	return true;
}

bool nj_tls_buf_client_issuer(const struct nj_al_tx *t, const uint8_t **d, uint32_t *n)
{
	if (!TX(t)->cert[0].present)
		return false;
	*d = (const uint8_t *)TX(t)->cert[0].issuer;
	*n = TX(t)->cert[0].issuer_len;
	return true;
}

bool nj_tls_buf_client_serial(const struct nj_al_tx *t, const uint8_t **d, uint32_t *n)
{
	if (!TX(t)->cert[0].present)
		return false;
	*d = (const uint8_t *)TX(t)->cert[0].serial;
	*n = TX(t)->cert[0].serial_len;
	return true;
}

bool nj_tls_buf_client_fingerprint(const struct nj_al_tx *t, const uint8_t **d, uint32_t *n)
{
	if (!TX(t)->cert[0].present || !TX(t)->cert[0].fingerprint[0])
		return false;
	*d = (const uint8_t *)TX(t)->cert[0].fingerprint;
	*n = (uint32_t)strlen(TX(t)->cert[0].fingerprint);
	return true;
}

/* Buffers only TLS has (the others are in detect/kw_buffers.c). */
static int kw_sticky(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *v)
{
	int id = nj_detect_buffer_id((const char *)kw->arg);

	(void)v;
	if (id < 0)
		return nj_detect_unsupported(ps, "buffer %s not registered", (const char *)kw->arg);
	return nj_detect_set_sticky(ps, id);
}
#define TLS_BUFFER(id_, name_)                                                                  \
	NJ_DETECT_BUFFER(id_, name_, "tls", NJ_BUFF_TOSERVER | NJ_BUFF_TOCLIENT)                \
	NJ_DETECT_KEYWORD(sticky_##id_, .name = name_, .flags = NJ_KWF_NOVALUE | NJ_KWF_STICKY, \
			  .parse = kw_sticky, .arg = (uintptr_t)name_, .doc = "sticky buffer")
TLS_BUFFER(tls_random, "tls.random")
TLS_BUFFER(tls_random_time, "tls.random_time")
TLS_BUFFER(tls_random_bytes, "tls.random_bytes")

/* ------------------------------------------------------------ transaction keywords */

/* ssl_version / tls.version: the negotiated version (the server's, else the client's). */
#define VB_SSL2 0x01u
#define VB_SSL3 0x02u
#define VB_10	0x04u
#define VB_11	0x08u
#define VB_12	0x10u
#define VB_13	0x20u
#define VB_ALL	0x3fu

static uint32_t version_bit(uint16_t v)
{
	switch (v) {
	case NJ_TLS_V_SSL2: return VB_SSL2;
	case NJ_TLS_V_SSL3: return VB_SSL3;
	case NJ_TLS_V_10: return VB_10;
	case NJ_TLS_V_11: return VB_11;
	case NJ_TLS_V_12: return VB_12;
	case NJ_TLS_V_13: return VB_13;
	default:
		/* TLS 1.3 drafts (0x7fXX) count as 1.3 */
		return (v >> 8) == 0x7f ? VB_13 : 0;
	}
}

/*
 * ssl_version looks at the version of the direction inspected, as Suricata:
 * the client's (its hello) to the server, the server's to the client.
 */
static bool version_match(const struct nj_app_parser *p, const struct nj_al_tx *tx, int dir,
			  const void *ctx)
{
	const struct nj_tls_tx *t = (const struct nj_tls_tx *)tx;

	(void)p;
	return version_bit(t->version[dir & 1]) & *(const uint32_t *)ctx;
}

/*
 * ssl_version:[!]v[,[!]v...]: the versions listed, or all but a negated one
 * (Suricata 7.0.14 on: "!tls1.3,tls1.2" is every version but 1.3).
 */
static int kw_ssl_version(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *v)
{
	static const struct {
		const char *name;
		uint32_t bit;
	} names[] = {{"sslv2", VB_SSL2}, {"sslv3", VB_SSL3}, {"tls1.0", VB_10},
		     {"tls1.1", VB_11},	 {"tls1.2", VB_12},  {"tls1.3", VB_13}};
	uint32_t *set = nj_detect_alloc(ps->r, sizeof(*set));
	char *parts[8];
	unsigned np = nj_detect_split(v, ',', parts, 8);

	(void)kw;
	if (!set)
		return nj_detect_fail(ps, "out of memory");
	if (!np)
		return nj_detect_fail(ps, "missing version");
	for (unsigned i = 0; i < np; i++) {
		char *p = parts[i];
		bool neg = *p == '!';
		size_t k;

		if (neg)
			p = nj_detect_trim(p + 1);
		for (k = 0; k < sizeof(names) / sizeof(names[0]); k++)
			if (strcasecmp(p, names[k].name) == 0)
				break;
		if (k == sizeof(names) / sizeof(names[0]))
			return nj_detect_fail(ps, "invalid version '%s'", p);
		*set |= neg ? VB_ALL & ~names[k].bit : names[k].bit;
	}
	/* Suricata's tls_generic list is inspected in both directions */
	return nj_detect_add_txm_eachdir(ps, version_match, set, "tls");
}
NJ_DETECT_KEYWORD(ssl_version, .name = "ssl_version", .flags = NJ_KWF_VALUE,
		  .parse = kw_ssl_version, .doc = "[!]sslv2|sslv3|tls1.0|tls1.1|tls1.2|tls1.3, ...")

/* tls.version:1.2 (or 0x0303): exactly that version. */
static bool tls_version_match(const struct nj_app_parser *p, const struct nj_al_tx *tx, int dir,
			      const void *ctx)
{
	(void)p;
	uint16_t v = nj_tls_tx_version(tx);

	(void)dir;
	if ((v >> 8) == 0x7f)
		v = NJ_TLS_V_13;
	return v && v == *(const uint16_t *)ctx;
}

static int kw_tls_version(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *v)
{
	uint16_t *ver = nj_detect_alloc(ps->r, sizeof(*ver));
	int64_t x;

	(void)kw;
	if (!ver)
		return nj_detect_fail(ps, "out of memory");
	v = nj_detect_trim(v);
	if (strcmp(v, "1.0") == 0)
		*ver = NJ_TLS_V_10;
	else if (strcmp(v, "1.1") == 0)
		*ver = NJ_TLS_V_11;
	else if (strcmp(v, "1.2") == 0)
		*ver = NJ_TLS_V_12;
	else if (strcmp(v, "1.3") == 0)
		*ver = NJ_TLS_V_13;
	else if (nj_detect_parse_i64(v, 0, UINT16_MAX, &x) == 0)
		*ver = (uint16_t)x;
	else
		return nj_detect_fail(ps, "invalid version '%s'", v);
	return nj_detect_add_txm(ps, tls_version_match, ver, "tls");
}
NJ_DETECT_KEYWORD(tls_version, .name = "tls.version", .flags = NJ_KWF_VALUE,
		  .parse = kw_tls_version, .doc = "TLS version: 1.0, 1.1, 1.2, 1.3 or a number")

/* tls.cert_chain_len: certificates in the server's first Certificate message. */
static bool chain_len_match(const struct nj_app_parser *p, const struct nj_al_tx *tx, int dir,
			    const void *ctx)
{
	(void)p;
	const struct nj_tls_tx *t = TX(tx);

	(void)dir;
	if (!(t->flags & NJ_TLS_F_SERVER_HELLO) || (!t->ncerts[1] && !t->chain[1]))
		return false;
	return nj_detect_u64_match(ctx, t->ncerts[1]);
}

static int kw_chain_len(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *v)
{
	struct nj_detect_u64 *u = nj_detect_alloc(ps->r, sizeof(*u));
	char err[160];

	(void)kw;
	if (!u)
		return nj_detect_fail(ps, "out of memory");
	if (nj_detect_u64_parse(nj_detect_trim(v), UINT32_MAX, u, err, sizeof(err)) < 0)
		return nj_detect_fail(ps, "%s", err);
	ps->s->flags |= NJ_SIG_TOCLIENT;
	return nj_detect_add_txm(ps, chain_len_match, u, "tls");
}
NJ_DETECT_KEYWORD(tls_cert_chain_len, .name = "tls.cert_chain_len", .flags = NJ_KWF_VALUE,
		  .parse = kw_chain_len,
		  .doc = "number of certificates in the chain: N, <N, >N, N<>M, !N")

/* Legacy tls.subject:"..." / tls.issuerdn:"...": substring of the server certificate's field. */
struct dn_ctx {
	bool issuer, negated;
	char *s;
};

static bool dn_match(const struct nj_app_parser *p, const struct nj_al_tx *tx, int dir,
		     const void *ctx)
{
	(void)p;
	const struct dn_ctx *c = ctx;
	const struct nj_tls_cert *cert = &TX(tx)->cert[1];
	const char *f;
	uint32_t fl;
	size_t n = strlen(c->s);
	bool found = false;

	(void)dir;
	if (!cert->present)
		return false;
	f = c->issuer ? cert->issuer : cert->subject;
	fl = c->issuer ? cert->issuer_len : cert->subject_len;
	for (uint32_t i = 0; f && n <= fl && i + n <= fl && !found; i++)
		found = memcmp(f + i, c->s, n) == 0;
	return found != c->negated;
}

static int kw_dn(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *v)
{
	struct dn_ctx *c = nj_detect_alloc(ps->r, sizeof(*c));

	if (!c)
		return nj_detect_fail(ps, "out of memory");
	c->issuer = kw->arg != 0;
	c->negated = ps->negated;
	v = nj_detect_trim(v);
	if (*v == '!') {
		c->negated = true;
		v = nj_detect_trim(v + 1);
	}
	if (*v == '"') {
		size_t n = strlen(v);

		if (n < 2 || v[n - 1] != '"')
			return nj_detect_fail(ps, "invalid value %s", v);
		v[n - 1] = '\0';
		v++;
	}
	nj_detect_unescape(v);
	c->s = nj_detect_strdup(ps->r, v);
	if (!c->s)
		return nj_detect_fail(ps, "out of memory");
	ps->s->flags |= NJ_SIG_TOCLIENT;
	return nj_detect_add_txm(ps, dn_match, c, "tls");
}
NJ_DETECT_KEYWORD(tls_subject, .name = "tls.subject", .flags = NJ_KWF_VALUE, .parse = kw_dn,
		  .arg = 0, .doc = "legacy: [!]substring of the server certificate's subject")
NJ_DETECT_KEYWORD(tls_issuerdn, .name = "tls.issuerdn", .flags = NJ_KWF_VALUE, .parse = kw_dn,
		  .arg = 1, .doc = "legacy: [!]substring of the server certificate's issuer")
