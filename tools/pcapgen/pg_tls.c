/* SPDX-License-Identifier: MIT */
/*
 * TLS 1.2 and 1.3 sessions. ClientHellos look like real browsers (GREASE,
 * SNI, ALPN, supported_versions, key_share...) or like an older TLS 1.2-only
 * client, so JA3/JA4 differ meaningfully. TLS 1.2 servers send a real DER
 * certificate chain (leaf + intermediate) made with libcrypto from Ed25519
 * keys derived from the seed: Ed25519 signatures are deterministic, so the
 * certificates are the same on every run. Everything after the handshake is
 * opaque application data.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "pg.h"

#define TLS_MAX_STEPS 40
#define PG_N(a)	      (sizeof(a) / sizeof((a)[0]))

struct tls_step {
	int dir;
	uint64_t delay_us;
	size_t off;
	size_t len;
};

struct tls_st {
	bool built;
	int n;
	int i;
	struct pg_buf data; /* all messages back to back */
	struct tls_step step[TLS_MAX_STEPS];
};

struct tls_cert {
	uint8_t *der;
	int len;
	EVP_PKEY *key;
};

static struct tls_cert *leaf;
static size_t n_leaf;
static struct tls_cert inter;
static EVP_PKEY *root_key;

/* ---- certificates ---- */

static EVP_PKEY *derive_key(uint64_t tag)
{
	struct pg_rng r;
	uint8_t sk[32];

	pg_rng_seed(&r, pg_opts.seed, 0x6b6579000000ULL + tag);
	pg_rand_fill(&r, sk, sizeof(sk));
	return EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, sk, sizeof(sk));
}

static int add_ext(X509 *issuer, X509 *x, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ex;
	int ok;

	X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
	ex = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (!ex)
		return -1;
	ok = X509_add_ext(x, ex, -1);
	X509_EXTENSION_free(ex);
	return ok ? 0 : -1;
}

static X509_NAME *make_name(const char *cn, const char *o)
{
	X509_NAME *n = X509_NAME_new();

	if (!n)
		return NULL;
	X509_NAME_add_entry_by_txt(n, "C", MBSTRING_ASC, (const unsigned char *)"US", -1, -1, 0);
	X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC, (const unsigned char *)o, -1, -1, 0);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	return n;
}

/* Build and sign one certificate; returns DER length or -1. */
static int make_cert(struct tls_cert *out, EVP_PKEY *key, const char *cn, const char *o,
		     X509 *issuer_cert, X509_NAME *issuer, EVP_PKEY *issuer_key, bool ca,
		     uint64_t serial, X509 **keep)
{
	X509 *x = X509_new();
	X509_NAME *subj = make_name(cn, o);
	time_t start = (time_t)(pg_opts.start_us / 1000000);
	int rc = -1;
	char san[300];

	if (!x || !subj)
		goto out;
	X509_set_version(x, 2);
	ASN1_INTEGER_set_uint64(X509_get_serialNumber(x), serial);
	ASN1_TIME_set(X509_getm_notBefore(x), start - 86400 * (ca ? 400 : 30));
	ASN1_TIME_set(X509_getm_notAfter(x), start + 86400 * (ca ? 1400 : 60));
	X509_set_subject_name(x, subj);
	X509_set_issuer_name(x, issuer ? issuer : subj);
	X509_set_pubkey(x, key);
	if (ca) {
		if (add_ext(issuer_cert, x, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") ||
		    add_ext(issuer_cert, x, NID_key_usage, "critical,keyCertSign,cRLSign"))
			goto out;
	} else {
		snprintf(san, sizeof(san), "DNS:%s", cn);
		if (add_ext(issuer_cert, x, NID_basic_constraints, "critical,CA:FALSE") ||
		    add_ext(issuer_cert, x, NID_key_usage, "critical,digitalSignature") ||
		    add_ext(issuer_cert, x, NID_ext_key_usage, "serverAuth,clientAuth") ||
		    add_ext(issuer_cert, x, NID_subject_alt_name, san))
			goto out;
	}
	if (add_ext(issuer_cert, x, NID_subject_key_identifier, "hash"))
		goto out;
	/* Ed25519 takes no digest */
	if (X509_sign(x, issuer_key, NULL) <= 0)
		goto out;
	out->der = NULL;
	out->len = i2d_X509(x, &out->der);
	if (out->len <= 0)
		goto out;
	out->key = key;
	rc = 0;
	if (keep) {
		*keep = x;
		x = NULL;
	}
out:
	X509_NAME_free(subj);
	X509_free(x);
	return rc;
}

int pg_tls_init(const struct pg_server *srv, size_t nsrv)
{
	X509 *inter_x = NULL;
	X509_NAME *root_name = make_name("Example Root CA X1", "Example Trust Services");
	X509_NAME *inter_name = make_name("Example Issuing CA G2", "Example Trust Services");
	EVP_PKEY *ik;
	int rc = -1;

	root_key = derive_key(0);
	ik = derive_key(1);
	if (!root_name || !inter_name || !root_key || !ik)
		goto out;
	if (make_cert(&inter, ik, "Example Issuing CA G2", "Example Trust Services", NULL,
		      root_name, root_key, true, 0x1000 + (pg_opts.seed & 0xffff), &inter_x))
		goto out;
	leaf = calloc(nsrv, sizeof(*leaf));
	if (!leaf)
		goto out;
	n_leaf = nsrv;
	for (size_t i = 0; i < nsrv; i++) {
		EVP_PKEY *k = derive_key(100 + i);
		char org[128];
		struct pg_rng r;

		if (!k)
			goto out;
		pg_rng_seed(&r, pg_opts.seed, 0x73657269616cULL + i);
		snprintf(org, sizeof(org), "%s Inc.", srv[i].name);
		if (make_cert(&leaf[i], k, srv[i].name, org, inter_x, inter_name, ik, false,
			      pg_rand(&r) >> 1, NULL)) {
			EVP_PKEY_free(k);
			goto out;
		}
	}
	rc = 0;
out:
	X509_free(inter_x);
	X509_NAME_free(root_name);
	X509_NAME_free(inter_name);
	return rc;
}

void pg_tls_fini(void)
{
	for (size_t i = 0; i < n_leaf; i++) {
		OPENSSL_free(leaf[i].der);
		EVP_PKEY_free(leaf[i].key);
	}
	free(leaf);
	leaf = NULL;
	n_leaf = 0;
	OPENSSL_free(inter.der);
	EVP_PKEY_free(inter.key);
	EVP_PKEY_free(root_key);
	memset(&inter, 0, sizeof(inter));
	root_key = NULL;
}

/* ---- message construction ---- */

static void step(struct tls_st *s, int dir, uint64_t delay, size_t start)
{
	if (s->n >= TLS_MAX_STEPS || s->data.len == start)
		return;
	s->step[s->n].dir = dir;
	s->step[s->n].delay_us = delay;
	s->step[s->n].off = start;
	s->step[s->n].len = s->data.len - start;
	s->n++;
}

/* Record with a handshake body written by the caller; patch lengths after. */
static size_t rec_begin(struct pg_buf *b, uint8_t type, uint16_t ver)
{
	size_t at = b->len;

	pg_buf_u8(b, type);
	pg_buf_be16(b, ver);
	pg_buf_be16(b, 0);
	return at;
}

static void rec_end(struct pg_buf *b, size_t at)
{
	pg_put_be16(b->p + at + 3, (uint16_t)(b->len - at - 5));
}

static size_t hs_begin(struct pg_buf *b, uint8_t type)
{
	size_t at = b->len;

	pg_buf_u8(b, type);
	pg_buf_be24(b, 0);
	return at;
}

static void hs_end(struct pg_buf *b, size_t at)
{
	pg_put_be24(b->p + at + 1, (uint32_t)(b->len - at - 4));
}

static size_t ext_begin(struct pg_buf *b, uint16_t type)
{
	size_t at = b->len;

	pg_buf_be16(b, type);
	pg_buf_be16(b, 0);
	return at;
}

static void ext_end(struct pg_buf *b, size_t at)
{
	pg_put_be16(b->p + at + 2, (uint16_t)(b->len - at - 4));
}

static void rand_bytes(struct pg_flow *f, struct pg_buf *b, size_t n)
{
	pg_buf_reserve(b, n);
	pg_rand_fill(&f->rng, b->p + b->len, n);
	b->len += n;
}

static uint16_t grease(struct pg_rng *r)
{
	uint8_t g = (uint8_t)(pg_range(r, 0, 15) << 4 | 0x0a);

	return (uint16_t)(g << 8 | g);
}

/* A handshake message split over records: some servers and clients do this. */
static void hs_in_records(struct pg_buf *b, const uint8_t *hs, size_t n, size_t max_frag)
{
	while (n) {
		size_t k = n < max_frag ? n : max_frag;
		size_t r = rec_begin(b, 22, 0x0303);

		pg_buf_put(b, hs, k);
		rec_end(b, r);
		hs += k;
		n -= k;
	}
}

static void client_hello(struct pg_flow *f, struct pg_buf *b, bool modern, const char *sni)
{
	struct pg_rng *r = &f->rng;
	uint16_t g1 = grease(r), g2 = grease(r), g3 = grease(r), g4 = grease(r);
	size_t rec = rec_begin(b, 22, 0x0301), hs = hs_begin(b, 1), x, el, l;
	static const uint16_t cs_modern[] = {0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f,
					     0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013,
					     0xc014, 0x009c, 0x009d, 0x002f, 0x0035};
	static const uint16_t cs_old[] = {0xc02c, 0xc02b, 0xc030, 0xc02f, 0xc024, 0xc023, 0xc028,
					  0xc027, 0xc00a, 0xc009, 0xc014, 0xc013, 0x009d, 0x009c,
					  0x003d, 0x003c, 0x0035, 0x002f, 0x000a};
	static const uint16_t sigalgs[] = {0x0403, 0x0804, 0x0401, 0x0503, 0x0805,
					   0x0501, 0x0806, 0x0601, 0x0807};

	if (g2 == g1)
		g2 ^= 0x1010;
	pg_buf_be16(b, 0x0303);
	rand_bytes(f, b, 32);
	if (modern) {
		pg_buf_u8(b, 32);
		rand_bytes(f, b, 32);
		pg_buf_be16(b, (uint16_t)(2 * (1 + PG_N(cs_modern))));
		pg_buf_be16(b, g1);
		for (size_t i = 0; i < PG_N(cs_modern); i++)
			pg_buf_be16(b, cs_modern[i]);
	} else {
		pg_buf_u8(b, 0);
		pg_buf_be16(b, (uint16_t)(2 * PG_N(cs_old)));
		for (size_t i = 0; i < PG_N(cs_old); i++)
			pg_buf_be16(b, cs_old[i]);
	}
	pg_buf_u8(b, 1);
	pg_buf_u8(b, 0);
	el = b->len;
	pg_buf_be16(b, 0);
	if (modern)
		ext_end(b, ext_begin(b, g2));
	/* server_name */
	x = ext_begin(b, 0x0000);
	l = strlen(sni);
	pg_buf_be16(b, (uint16_t)(l + 3));
	pg_buf_u8(b, 0);
	pg_buf_be16(b, (uint16_t)l);
	pg_buf_put(b, sni, l);
	ext_end(b, x);
	ext_end(b, ext_begin(b, 0x0017)); /* extended_master_secret */
	x = ext_begin(b, 0xff01);	  /* renegotiation_info */
	pg_buf_u8(b, 0);
	ext_end(b, x);
	x = ext_begin(b, 0x000a); /* supported_groups */
	if (modern) {
		pg_buf_be16(b, 8);
		pg_buf_be16(b, g3);
	} else {
		pg_buf_be16(b, 6);
	}
	pg_buf_be16(b, 0x001d);
	pg_buf_be16(b, 0x0017);
	pg_buf_be16(b, 0x0018);
	ext_end(b, x);
	x = ext_begin(b, 0x000b); /* ec_point_formats */
	pg_buf_u8(b, 1);
	pg_buf_u8(b, 0);
	ext_end(b, x);
	ext_end(b, ext_begin(b, 0x0023)); /* session_ticket */
	x = ext_begin(b, 0x0010);	  /* ALPN */
	if (modern) {
		pg_buf_be16(b, 12);
		pg_buf_u8(b, 2);
		pg_buf_puts(b, "h2");
	} else {
		pg_buf_be16(b, 9);
	}
	pg_buf_u8(b, 8);
	pg_buf_puts(b, "http/1.1");
	ext_end(b, x);
	if (modern) {
		x = ext_begin(b, 0x0005); /* status_request */
		pg_buf_u8(b, 1);
		pg_buf_be16(b, 0);
		pg_buf_be16(b, 0);
		ext_end(b, x);
	}
	x = ext_begin(b, 0x000d); /* signature_algorithms */
	pg_buf_be16(b, (uint16_t)(2 * PG_N(sigalgs)));
	for (size_t i = 0; i < PG_N(sigalgs); i++)
		pg_buf_be16(b, sigalgs[i]);
	ext_end(b, x);
	if (modern) {
		ext_end(b, ext_begin(b, 0x0012)); /* signed_certificate_timestamp */
		x = ext_begin(b, 0x0033);	  /* key_share */
		pg_buf_be16(b, 2 + 2 + 1 + 2 + 2 + 32);
		pg_buf_be16(b, g3);
		pg_buf_be16(b, 1);
		pg_buf_u8(b, 0);
		pg_buf_be16(b, 0x001d);
		pg_buf_be16(b, 32);
		rand_bytes(f, b, 32);
		ext_end(b, x);
		x = ext_begin(b, 0x002d); /* psk_key_exchange_modes */
		pg_buf_u8(b, 1);
		pg_buf_u8(b, 1);
		ext_end(b, x);
		x = ext_begin(b, 0x002b); /* supported_versions */
		pg_buf_u8(b, 6);
		pg_buf_be16(b, g4);
		pg_buf_be16(b, 0x0304);
		pg_buf_be16(b, 0x0303);
		ext_end(b, x);
		x = ext_begin(b, 0x001b); /* compress_certificate: brotli */
		pg_buf_u8(b, 2);
		pg_buf_be16(b, 2);
		ext_end(b, x);
		x = ext_begin(b, g4 ^ 0x2020); /* trailing GREASE */
		pg_buf_u8(b, 0);
		ext_end(b, x);
	}
	pg_put_be16(b->p + el, (uint16_t)(b->len - el - 2));
	hs_end(b, hs);
	rec_end(b, rec);
}

static void server_hello(struct pg_flow *f, struct pg_buf *b, bool v13, const uint8_t *sid)
{
	size_t rec = rec_begin(b, 22, 0x0303), hs = hs_begin(b, 2), el, x;

	pg_buf_be16(b, 0x0303);
	rand_bytes(f, b, 32);
	pg_buf_u8(b, 32);
	if (sid)
		pg_buf_put(b, sid, 32);
	else
		rand_bytes(f, b, 32);
	pg_buf_be16(b, v13 ? (pg_chance(&f->rng, 70) ? 0x1301 : 0x1302) : 0xc02b);
	pg_buf_u8(b, 0);
	el = b->len;
	pg_buf_be16(b, 0);
	if (v13) {
		x = ext_begin(b, 0x002b);
		pg_buf_be16(b, 0x0304);
		ext_end(b, x);
		x = ext_begin(b, 0x0033);
		pg_buf_be16(b, 0x001d);
		pg_buf_be16(b, 32);
		rand_bytes(f, b, 32);
		ext_end(b, x);
	} else {
		x = ext_begin(b, 0xff01);
		pg_buf_u8(b, 0);
		ext_end(b, x);
		ext_end(b, ext_begin(b, 0x0017));
		x = ext_begin(b, 0x000b);
		pg_buf_u8(b, 1);
		pg_buf_u8(b, 0);
		ext_end(b, x);
		x = ext_begin(b, 0x0010);
		pg_buf_be16(b, 9);
		pg_buf_u8(b, 8);
		pg_buf_puts(b, "http/1.1");
		ext_end(b, x);
	}
	pg_put_be16(b->p + el, (uint16_t)(b->len - el - 2));
	hs_end(b, hs);
	rec_end(b, rec);
}

static void ccs(struct pg_buf *b)
{
	size_t r = rec_begin(b, 20, 0x0303);

	pg_buf_u8(b, 1);
	rec_end(b, r);
}

/* Opaque (encrypted) records of total payload n, at most 16 KiB each. */
static void opaque(struct pg_flow *f, struct pg_buf *b, uint8_t type, size_t n)
{
	while (n) {
		size_t k = n < 16384 ? n : 16384;
		size_t r = rec_begin(b, type, 0x0303);

		pg_buf_put(b, pg_pool_rand + pg_range(&f->rng, 0, PG_POOL_RAND - k), k);
		rec_end(b, r);
		n -= k;
	}
}

static void server_flight12(struct pg_flow *f, struct pg_buf *b, const uint8_t *crand)
{
	const struct tls_cert *lc = &leaf[(size_t)f->srv->cert_idx % n_leaf];
	struct pg_buf hs = {0};
	size_t at;
	uint8_t srand[32], params[36], tbs[100], sig[64];
	size_t siglen = sizeof(sig);
	EVP_MD_CTX *md;

	size_t sh = b->len;

	server_hello(f, b, false, NULL);
	memcpy(srand, b->p + sh + 11, 32);
	/* Certificate */
	at = hs_begin(&hs, 11);
	pg_buf_be24(&hs, (uint32_t)(3 + lc->len + 3 + inter.len));
	pg_buf_be24(&hs, (uint32_t)lc->len);
	pg_buf_put(&hs, lc->der, (size_t)lc->len);
	pg_buf_be24(&hs, (uint32_t)inter.len);
	pg_buf_put(&hs, inter.der, (size_t)inter.len);
	hs_end(&hs, at);
	/* ServerKeyExchange, signed with the leaf key (verifiable) */
	at = hs_begin(&hs, 12);
	params[0] = 3;
	pg_put_be16(params + 1, 0x001d);
	params[3] = 32;
	pg_rand_fill(&f->rng, params + 4, 32);
	pg_buf_put(&hs, params, sizeof(params));
	pg_buf_be16(&hs, 0x0807);
	memcpy(tbs, crand, 32);
	memcpy(tbs + 32, srand, 32);
	memcpy(tbs + 64, params, sizeof(params));
	/* the bench skips the real signature: it costs more than the whole flow */
	md = f->variant == PG_VAR_BENCH ? NULL : EVP_MD_CTX_new();
	if (!md || EVP_DigestSignInit(md, NULL, NULL, NULL, lc->key) != 1 ||
	    EVP_DigestSign(md, sig, &siglen, tbs, sizeof(tbs)) != 1)
		memset(sig, 0, siglen = sizeof(sig));
	EVP_MD_CTX_free(md);
	pg_buf_be16(&hs, (uint16_t)siglen);
	pg_buf_put(&hs, sig, siglen);
	hs_end(&hs, at);
	/* ServerHelloDone */
	hs_end(&hs, hs_begin(&hs, 14));
	/* Usually one record; sometimes the Certificate is split over records. */
	hs_in_records(b, hs.p, hs.len,
		      pg_chance(&f->rng, 40) ? pg_range(&f->rng, 200, 700) : 16384);
	pg_buf_free(&hs);
}

static void tls_build(struct pg_flow *f, struct tls_st *s)
{
	struct pg_rng *r = &f->rng;
	struct pg_buf *b = &s->data;
	bool modern, v13;
	size_t at, split;
	uint8_t crand[32], sid[32];
	int nreq;

	if (f->variant == PG_VAR_TLS12) {
		modern = true;
		v13 = false;
	} else if (f->variant == PG_VAR_TLS13) {
		modern = true;
		v13 = true;
	} else {
		modern = pg_chance(r, 80);
		v13 = modern && pg_chance(r, 75);
	}
	/* ClientHello, sometimes in two TCP segments */
	at = b->len;
	client_hello(f, b, modern, f->srv->name);
	pg_truth(f, ",\"app\":\"tls\",\"sni\":\"%s\",\"version\":\"%s\"", f->srv->name,
		 v13 ? "TLS 1.3" : "TLS 1.2");
	memcpy(crand, b->p + at + 11, 32);
	memcpy(sid, b->p + at + 44, 32);
	split = pg_chance(r, 20) ? pg_range(r, 20, b->len - at - 20) : 0;
	if (split) {
		size_t total = b->len - at;

		b->len = at + split;
		step(s, PG_C2S, pg_range(r, 0, 300), at);
		b->len = at + total;
		step(s, PG_C2S, 0, at + split);
	} else {
		step(s, PG_C2S, pg_range(r, 0, 300), at);
	}
	at = b->len;
	if (v13) {
		server_hello(f, b, true, sid);
		ccs(b);
		/* EncryptedExtensions, Certificate, CertificateVerify, Finished */
		opaque(f, b, 23, pg_range(r, 2500, 5200));
		step(s, PG_S2C, pg_range(r, 300, 3000), at);
		at = b->len;
		ccs(b);
		opaque(f, b, 23, 53);
		step(s, PG_C2S, pg_range(r, 100, 2000), at);
	} else {
		server_flight12(f, b, crand);
		step(s, PG_S2C, pg_range(r, 300, 3000), at);
		at = b->len;
		size_t rec = rec_begin(b, 22, 0x0303), hs = hs_begin(b, 16);

		pg_buf_u8(b, 32);
		rand_bytes(f, b, 32);
		hs_end(b, hs);
		rec_end(b, rec);
		ccs(b);
		opaque(f, b, 22, 40); /* encrypted Finished */
		step(s, PG_C2S, pg_range(r, 100, 2000), at);
		at = b->len;
		rec = rec_begin(b, 22, 0x0303);
		hs = hs_begin(b, 4); /* NewSessionTicket */
		pg_buf_be32(b, 7200);
		pg_buf_be16(b, 192);
		rand_bytes(f, b, 192);
		hs_end(b, hs);
		rec_end(b, rec);
		ccs(b);
		opaque(f, b, 22, 40);
		step(s, PG_S2C, pg_range(r, 100, 2000), at);
	}
	if (v13) {
		/* NewSessionTicket(s), encrypted */
		at = b->len;
		opaque(f, b, 23, pg_range(r, 200, 300));
		step(s, PG_S2C, pg_range(r, 100, 1000), at);
	}
	nreq = (int)pg_range(r, 1, 4);
	for (int i = 0; i < nreq && s->n < TLS_MAX_STEPS - 3; i++) {
		at = b->len;
		opaque(f, b, 23, pg_range(r, 60, 700));
		step(s, PG_C2S, i ? pg_range(r, 2000, 500000) : pg_range(r, 0, 500), at);
		at = b->len;
		opaque(f, b, 23, pg_range(r, 200, f->variant == PG_VAR_BENCH ? 8000 : 60000));
		step(s, PG_S2C, pg_range(r, 300, 40000), at);
	}
	if (pg_chance(r, 70)) {
		at = b->len;
		opaque(f, b, 21, 26); /* close_notify */
		step(s, PG_C2S, pg_range(r, 1000, 800000), at);
		f->close = PG_CLOSE_CFIN;
	} else {
		f->close = pg_chance(r, 50) ? PG_CLOSE_RST : PG_CLOSE_CFIN;
	}
}

static bool tls_next(struct pg_flow *f, struct pg_msg *m)
{
	struct tls_st *s = f->st;

	if (!s->built) {
		s->built = true;
		if (!n_leaf)
			return false;
		tls_build(f, s);
	}
	if (s->i >= s->n)
		return false;
	const struct tls_step *st = &s->step[s->i++];

	m->dir = st->dir;
	m->delay_us = st->delay_us;
	m->a = s->data.p + st->off;
	m->alen = st->len;
	return true;
}

static void tls_fini(struct pg_flow *f)
{
	struct tls_st *s = f->st;

	pg_buf_free(&s->data);
}

const struct pg_app_ops pg_app_tls = {
	.name = "tls",
	.proto = PG_TCP,
	.port = 443,
	.state_size = sizeof(struct tls_st),
	.next = tls_next,
	.fini = tls_fini,
};
