/* SPDX-License-Identifier: MIT */
/*
 * TLS parser tests: version strings, JA4 against FoxIO's published example
 * and its edge cases, X.509 text forms on certificates made here with
 * OpenSSL, synthetic handshakes (TLS 1.2 with a client certificate, one
 * certificate message over many records, several messages per record, TLS
 * 1.3, resumption, SSLv2-compatible hello, GREASE everywhere), malformed and
 * truncated records (anomaly events, no crash), configuration, detection
 * buffers, a guard-page over-read test, and the suricata-verify captures
 * (TCP payloads extracted with libpcap; skipped when the corpus is absent):
 * every EVE value the corpus tests expect (subject, issuer, serial,
 * fingerprint, validity, SNI, version, JA3, JA4, ALPN, handshake lists, client
 * certificate), JA3/JA3S against Wireshark's values, and every capture fed
 * whole, split at every byte and byte by byte with identical output.
 */
#include <errno.h>
#include <jansson.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "nj_test.h"
#include "../config/config.h"
#include "../dataplane/flow.h"
#include "../parsers/tls/tls.h"
#include "../parsers/tls/tls_priv.h"

#ifndef NJ_SRC_DIR
#define NJ_SRC_DIR "."
#endif
#define SV NJ_SRC_DIR "/../shared/corpus/suricata-verify/tests/"

static const struct nj_app_parser *P;

/* ------------------------------------------------------------------ harness */

/* Drives the parser as the framework does: bytes not consumed are presented again. */
struct hx {
	void *st;
	struct nj_al_test *t;
	struct nj_flow *f;
	bool dead[2];
	uint8_t *buf[2];
	uint32_t have[2], cap[2];
	unsigned logged; /* transactions logged */
};

static struct hx *hx_new(void)
{
	struct hx *h = calloc(1, sizeof(*h));

	h->f = aligned_alloc(64, (sizeof(struct nj_flow) + 63) & ~(size_t)63);
	memset(h->f, 0, sizeof(*h->f));
	h->f->proto = 6;
	h->t = nj_al_test_new(h->f, NJ_EVE_TLS, 1000000);
	h->st = P->state_new();
	return h;
}

static void hx_drain(struct hx *h, bool all)
{
	struct nj_al_txq *q = P->txq(h->st);

	while (q->head && (all || (q->head->done[0] && q->head->done[1]))) {
		struct nj_al_tx *tx = q->head;

		q->head = tx->next;
		if (!q->head)
			q->tail = NULL;
		q->count--;
		P->log_tx(h->t->log, h->f, tx);
		h->logged++;
		P->tx_free(h->st, tx);
	}
}

static void hx_feed(struct hx *h, int dir, const uint8_t *d, uint32_t n)
{
	int32_t r;

	if (h->dead[dir] || !n)
		return;
	if (h->have[dir] + n > h->cap[dir]) {
		uint32_t cap = (h->have[dir] + n) * 2;

		h->buf[dir] = realloc(h->buf[dir], cap);
		h->cap[dir] = cap;
	}
	memcpy(h->buf[dir] + h->have[dir], d, n);
	h->have[dir] += n;
	r = P->parse(h->st, h->t->ctx, dir, h->buf[dir], h->have[dir]);
	if (r < 0) {
		h->dead[dir] = true;
		h->have[dir] = 0;
	} else {
		CHECK((uint32_t)r <= h->have[dir]);
		memmove(h->buf[dir], h->buf[dir] + r, h->have[dir] - (uint32_t)r);
		h->have[dir] -= (uint32_t)r;
	}
	hx_drain(h, false);
}

static void hx_end(struct hx *h)
{
	P->close(h->st, h->t->ctx, 0);
	P->close(h->st, h->t->ctx, 1);
	hx_drain(h, true);
}

static void hx_free(struct hx *h)
{
	P->state_free(h->st);
	nj_al_test_free(h->t);
	free(h->f);
	free(h->buf[0]);
	free(h->buf[1]);
	free(h);
}

static const char *hx_out(const struct hx *h)
{
	return h->t->out ? h->t->out : "";
}

static bool hx_has_event(const struct hx *h, const char *name)
{
	for (unsigned i = 0; i < h->t->nevents && i < NJ_AL_TEST_MAX_EVENTS; i++)
		if (!strcmp(h->t->events[i], name))
			return true;
	return false;
}

/* Output and events as one comparable string (caller frees). */
static char *hx_summary(const struct hx *h)
{
	size_t n = strlen(hx_out(h)) + 64 * (h->t->nevents + 1) + 16;
	char *s = malloc(n), *p = s;

	p += sprintf(p, "%s", hx_out(h));
	for (unsigned i = 0; i < h->t->nevents && i < NJ_AL_TEST_MAX_EVENTS; i++)
		p += sprintf(p, "ev %d %s\n", h->t->event_dir[i], h->t->events[i]);
	return s;
}

/* The tls object of output line i (a new reference), NULL if absent. */
static json_t *hx_tls(const struct hx *h, unsigned i)
{
	const char *s = hx_out(h), *e;
	json_error_t err;
	json_t *j, *t;

	while (i--) {
		s = strchr(s, '\n');
		if (!s)
			return NULL;
		s++;
	}
	if (!*s)
		return NULL;
	e = strchr(s, '\n');
	j = json_loadb(s, e ? (size_t)(e - s) : strlen(s), JSON_ALLOW_NUL, &err);
	if (!j)
		return NULL;
	t = json_object_get(j, "tls");
	if (t)
		json_incref(t);
	json_decref(j);
	return t;
}

static unsigned hx_lines(const struct hx *h)
{
	unsigned n = 0;

	for (const char *s = hx_out(h); *s; s++)
		n += *s == '\n';
	return n;
}

static json_t *jget(json_t *o, const char *path)
{
	char key[128];
	const char *dot;

	while (o && path && *path) {
		dot = strchr(path, '.');
		snprintf(key, sizeof(key), "%.*s", dot ? (int)(dot - path) : (int)strlen(path),
			 path);
		o = json_object_get(o, key);
		path = dot ? dot + 1 : NULL;
	}
	return o;
}

static bool jeq(json_t *o, const char *path, const char *want)
{
	json_t *v = jget(o, path);
	const char *s = json_string_value(v);

	if (!s || strcmp(s, want)) {
		fprintf(stderr, "  %s: got %s, want %s\n", path, s ? s : "(absent)", want);
		return false;
	}
	return true;
}

static bool jhas(json_t *o, const char *path)
{
	return jget(o, path) != NULL;
}

/* An integer array equals the list. */
static bool jints(json_t *o, const char *path, const long long *v, size_t n)
{
	json_t *a = jget(o, path);

	if (!json_is_array(a) || json_array_size(a) != n) {
		fprintf(stderr, "  %s: array of %zu expected\n", path, n);
		return false;
	}
	for (size_t i = 0; i < n; i++)
		if (json_integer_value(json_array_get(a, i)) != v[i]) {
			fprintf(stderr, "  %s[%zu]: got %lld want %lld\n", path, i,
				(long long)json_integer_value(json_array_get(a, i)), v[i]);
			return false;
		}
	return true;
}

static void cfg_all(bool ja3)
{
	struct nj_tls_config c;

	nj_tls_config_defaults(&c);
	c.fields = NJ_TLS_LOG_EXTENDED | NJ_TLS_LOG_SESSION_RESUMED | NJ_TLS_LOG_CHAIN |
		   NJ_TLS_LOG_CERTIFICATE | NJ_TLS_LOG_CLIENT_CERT | NJ_TLS_LOG_CLIENT_CHAIN |
		   NJ_TLS_LOG_CLIENT_HANDSHAKE | NJ_TLS_LOG_SERVER_HANDSHAKE;
	c.ja3 = ja3 ? 1 : 0;
	nj_tls_config_set(&c);
}

/* ------------------------------------------------------------------ builder */

struct mb {
	uint8_t b[1 << 17];
	uint32_t n;
	uint32_t mark[8];
	unsigned nm;
};

static void mb_u8(struct mb *m, unsigned v)
{
	m->b[m->n++] = (uint8_t)v;
}

static void mb_u16(struct mb *m, unsigned v)
{
	mb_u8(m, v >> 8);
	mb_u8(m, v);
}

static void mb_u24(struct mb *m, uint32_t v)
{
	mb_u8(m, v >> 16);
	mb_u8(m, v >> 8);
	mb_u8(m, v);
}

static void mb_raw(struct mb *m, const void *d, uint32_t n)
{
	if (n)
		memcpy(m->b + m->n, d, n);
	m->n += n;
}

/* Length-prefixed block: open with the prefix size (1, 2, 3), close fills it. */
static void mb_open(struct mb *m, unsigned sz)
{
	m->mark[m->nm++] = m->n | sz << 24;
	m->n += sz;
}

static void mb_close(struct mb *m)
{
	uint32_t mk = m->mark[--m->nm], at = mk & 0xffffff, sz = mk >> 24;
	uint32_t len = m->n - at - sz;

	for (uint32_t i = 0; i < sz; i++)
		m->b[at + i] = (uint8_t)(len >> (8 * (sz - 1 - i)));
}

/* Wraps payload into records of at most frag bytes. */
static void mb_records(struct mb *out, unsigned ct, unsigned ver, const uint8_t *d, uint32_t n,
		       uint32_t frag)
{
	for (uint32_t o = 0; o < n || (n == 0 && o == 0); o += frag) {
		uint32_t k = n - o < frag ? n - o : frag;

		mb_u8(out, ct);
		mb_u16(out, ver);
		mb_u16(out, k);
		mb_raw(out, d + o, k);
		if (n == 0)
			break;
	}
}

struct ch_opts {
	unsigned version;
	const uint16_t *ciphers;
	unsigned nciphers;
	const char *sni;
	const char *alpn[3];
	const uint16_t *groups;
	unsigned ngroups;
	const uint16_t *sigalgs;
	unsigned nsigalgs;
	const uint16_t *versions; /* supported_versions */
	unsigned nversions;
	const uint8_t *sid;
	unsigned sid_len;
	bool ticket;
	bool sni_twice;
	uint16_t grease; /* extra GREASE extension type, 0 = none */
};

static void hs_client_hello(struct mb *m, const struct ch_opts *o)
{
	mb_u8(m, 1);
	mb_open(m, 3);
	mb_u16(m, o->version);
	for (int i = 0; i < 32; i++)
		mb_u8(m, i);
	mb_u8(m, o->sid_len);
	if (o->sid_len)
		mb_raw(m, o->sid, o->sid_len);
	mb_open(m, 2);
	for (unsigned i = 0; i < o->nciphers; i++)
		mb_u16(m, o->ciphers[i]);
	mb_close(m);
	mb_u8(m, 1);
	mb_u8(m, 0);
	mb_open(m, 2);
	if (o->grease) {
		mb_u16(m, o->grease);
		mb_u16(m, 0);
	}
	for (int k = 0; o->sni && k < (o->sni_twice ? 2 : 1); k++) {
		mb_u16(m, 0);
		mb_open(m, 2);
		mb_open(m, 2);
		mb_u8(m, 0);
		mb_u16(m, (unsigned)strlen(o->sni));
		mb_raw(m, o->sni, (uint32_t)strlen(o->sni));
		mb_close(m);
		mb_close(m);
	}
	if (o->ngroups) {
		mb_u16(m, 10);
		mb_open(m, 2);
		mb_open(m, 2);
		for (unsigned i = 0; i < o->ngroups; i++)
			mb_u16(m, o->groups[i]);
		mb_close(m);
		mb_close(m);
		mb_u16(m, 11);
		mb_u16(m, 2);
		mb_u8(m, 1);
		mb_u8(m, 0);
	}
	if (o->nsigalgs) {
		mb_u16(m, 13);
		mb_open(m, 2);
		mb_open(m, 2);
		for (unsigned i = 0; i < o->nsigalgs; i++)
			mb_u16(m, o->sigalgs[i]);
		mb_close(m);
		mb_close(m);
	}
	if (o->alpn[0]) {
		mb_u16(m, 16);
		mb_open(m, 2);
		mb_open(m, 2);
		for (int i = 0; i < 3 && o->alpn[i]; i++) {
			mb_u8(m, (unsigned)strlen(o->alpn[i]));
			mb_raw(m, o->alpn[i], (uint32_t)strlen(o->alpn[i]));
		}
		mb_close(m);
		mb_close(m);
	}
	if (o->ticket) {
		mb_u16(m, 35);
		mb_u16(m, 0);
	}
	if (o->nversions) {
		mb_u16(m, 43);
		mb_open(m, 2);
		mb_open(m, 1);
		for (unsigned i = 0; i < o->nversions; i++)
			mb_u16(m, o->versions[i]);
		mb_close(m);
		mb_close(m);
	}
	mb_close(m);
	mb_close(m);
}

static void hs_server_hello(struct mb *m, unsigned version, unsigned cipher, const uint8_t *sid,
			    unsigned sid_len, unsigned sv, const char *alpn)
{
	mb_u8(m, 2);
	mb_open(m, 3);
	mb_u16(m, version);
	for (int i = 0; i < 32; i++)
		mb_u8(m, 0x40 + i);
	mb_u8(m, sid_len);
	if (sid_len)
		mb_raw(m, sid, sid_len);
	mb_u16(m, cipher);
	mb_u8(m, 0);
	mb_open(m, 2);
	mb_u16(m, 0xff01);
	mb_u16(m, 1);
	mb_u8(m, 0);
	if (alpn) {
		mb_u16(m, 16);
		mb_open(m, 2);
		mb_open(m, 2);
		mb_u8(m, (unsigned)strlen(alpn));
		mb_raw(m, alpn, (uint32_t)strlen(alpn));
		mb_close(m);
		mb_close(m);
	}
	if (sv) {
		mb_u16(m, 43);
		mb_u16(m, 2);
		mb_u16(m, sv);
	}
	mb_close(m);
	mb_close(m);
}

static void hs_certificate(struct mb *m, const uint8_t *const *der, const uint32_t *len, unsigned n)
{
	mb_u8(m, 11);
	mb_open(m, 3);
	mb_open(m, 3);
	for (unsigned i = 0; i < n; i++) {
		mb_u24(m, len[i]);
		mb_raw(m, der[i], len[i]);
	}
	mb_close(m);
	mb_close(m);
}

static void hs_empty(struct mb *m, unsigned type, unsigned len)
{
	mb_u8(m, type);
	mb_u24(m, len);
	for (unsigned i = 0; i < len; i++)
		mb_u8(m, 0x11);
}

/* ------------------------------------------------------------------ certificates */

static EVP_PKEY *test_key(void)
{
	static EVP_PKEY *k;

	if (!k)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	return k;
}

struct certspec {
	const char *subject[8][2]; /* attribute, value; attribute "+" joins the previous RDN */
	const char *issuer[8][2];
	const uint8_t *serial;
	unsigned serial_len;
	const char *not_before, *not_after; /* ASN.1 time strings */
	const char *san;		    /* X509V3 config string */
	bool bmp_ou;			    /* OU as BMPString "Dév" */
};

static void add_names(X509_NAME *nm, const char *const (*a)[2])
{
	for (int i = 0; i < 8 && a[i][0]; i++) {
		const char *attr = a[i][0];
		int set = 0;

		if (attr[0] == '+') {
			attr++;
			set = -1;
		}
		X509_NAME_add_entry_by_txt(nm, attr, MBSTRING_UTF8, (const unsigned char *)a[i][1],
					   -1, -1, set);
	}
}

/* A DER certificate (caller frees). */
static uint8_t *make_cert(const struct certspec *s, uint32_t *len)
{
	X509 *x = X509_new();
	X509_NAME *sn = X509_NAME_new(), *in = X509_NAME_new();
	ASN1_INTEGER *ser = ASN1_INTEGER_new();
	uint8_t *der = NULL;
	int n;

	X509_set_version(x, 2);
	ASN1_STRING_set(ser, s->serial, (int)s->serial_len);
	X509_set_serialNumber(x, ser);
	add_names(sn, s->subject);
	if (s->bmp_ou) {
		static const uint8_t dev[] = {0x00, 'D', 0x00, 0xe9, 0x00, 'v'};

		X509_NAME_add_entry_by_NID(sn, NID_organizationalUnitName, V_ASN1_BMPSTRING, dev,
					   sizeof(dev), -1, 0);
	}
	add_names(in, s->issuer);
	X509_set_subject_name(x, sn);
	X509_set_issuer_name(x, in);
	ASN1_TIME_set_string(X509_getm_notBefore(x), s->not_before);
	ASN1_TIME_set_string(X509_getm_notAfter(x), s->not_after);
	X509_set_pubkey(x, test_key());
	if (s->san) {
		X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, s->san);

		X509_add_ext(x, e, -1);
		X509_EXTENSION_free(e);
	}
	X509_sign(x, test_key(), EVP_sha256());
	n = i2d_X509(x, &der);
	*len = n > 0 ? (uint32_t)n : 0;
	X509_NAME_free(sn);
	X509_NAME_free(in);
	ASN1_INTEGER_free(ser);
	X509_free(x);
	return der;
}

/* Decoded fields of test_x509 land here (the parser uses its transaction arena). */
static void *arena(void *arg, size_t n)
{
	static uint8_t mem[1 << 18];
	static size_t used;
	void *p;

	(void)arg;
	n = (n + 8) & ~(size_t)7;
	if (used + n > sizeof(mem))
		used = 0;
	p = mem + used;
	used += n;
	memset(p, 0, n);
	return p;
}

static const uint8_t SER_HI[] = {0x00, 0x97, 0xe6, 0x47, 0x09};
static const uint8_t SER_1[] = {0x32};

static const struct certspec SERVER_CERT = {
	.subject =
		{{"C", "FR"}, {"ST", "IDF"}, {"O", "Stamus"}, {"+OU", "Dev"}, {"CN", "host.test"}},
	.issuer = {{"C", "FR"}, {"O", "Test CA"}, {"CN", "Test Root"}, {"emailAddress", "ca@test"}},
	.serial = SER_HI,
	.serial_len = sizeof(SER_HI),
	.not_before = "20150212180727Z",
	.not_after = "20250209180727Z",
	.san = "DNS:host.test, DNS:*.host.test, IP:10.1.2.3",
};

static const struct certspec CLIENT_CERT = {
	.subject = {{"CN", "client"}},
	.issuer = {{"CN", "Test Root"}},
	.serial = SER_1,
	.serial_len = 1,
	.not_before = "691231000000Z",
	.not_after = "20381231001003Z",
	.bmp_ou = true,
};

static void test_x509(void)
{
	uint32_t n;
	uint8_t *der = make_cert(&SERVER_CERT, &n);
	struct nj_tls_cert c;
	char t[32];
	uint8_t *d2;
	uint32_t n2;

	CHECK(der && n > 100);
	CHECK(nj_tls_x509_decode(der, n, &c, arena, NULL, 16) == NJ_TLS_X509_OK);
	CHECK(c.present);
	CHECK(c.subject && !strcmp(c.subject, "C=FR, ST=IDF, OU=Dev + O=Stamus, CN=host.test"));
	CHECK(c.issuer && !strcmp(c.issuer, "C=FR, O=Test CA, CN=Test Root, Email=ca@test"));
	CHECK(c.serial && !strcmp(c.serial, "00:97:E6:47:09"));
	CHECK(c.serial_len == strlen("00:97:E6:47:09"));
	CHECK(strlen(c.fingerprint) == 59);
	nj_tls_format_time(c.not_before, t);
	CHECK(!strcmp(t, "2015-02-12T18:07:27"));
	nj_tls_format_time(c.not_after, t);
	CHECK(!strcmp(t, "2025-02-09T18:07:27"));
	CHECK(c.nsans == 3);
	if (c.nsans == 3) {
		CHECK(!strcmp(c.sans[0], "host.test"));
		CHECK(!strcmp(c.sans[1], "*.host.test"));
		CHECK(!strcmp(c.sans[2], "10.1.2.3"));
	}
	/* SANs bounded */
	CHECK(nj_tls_x509_decode(der, n, &c, arena, NULL, 1) == NJ_TLS_X509_OK && c.nsans == 1);

	d2 = make_cert(&CLIENT_CERT, &n2);
	CHECK(nj_tls_x509_decode(d2, n2, &c, arena, NULL, 16) == NJ_TLS_X509_OK);
	CHECK(c.subject && !strcmp(c.subject, "CN=client, OU=Dév"));
	CHECK(c.serial && !strcmp(c.serial, "32"));
	nj_tls_format_time(c.not_before, t);
	CHECK(!strcmp(t, "1969-12-31T00:00:00"));
	CHECK(c.not_before == -86400);
	nj_tls_format_time(c.not_after, t);
	CHECK(!strcmp(t, "2038-12-31T00:10:03"));

	/* truncated and corrupted DER */
	CHECK(nj_tls_x509_decode(der, n - 1, &c, arena, NULL, 16) == NJ_TLS_X509_INVALID_LENGTH);
	CHECK(!c.present);
	der[4] ^= 0xff;
	CHECK(nj_tls_x509_decode(der, n, &c, arena, NULL, 16) != NJ_TLS_X509_OK);
	CHECK(nj_tls_x509_decode(der, 0, &c, arena, NULL, 16) != NJ_TLS_X509_OK);
	nj_tls_format_time(0, t);
	CHECK(!strcmp(t, "1970-01-01T00:00:00"));
	nj_tls_format_time(951782400, t); /* leap day */
	CHECK(!strcmp(t, "2000-02-29T00:00:00"));
	OPENSSL_free(der);
	OPENSSL_free(d2);
}

/* ------------------------------------------------------------------ fingerprints */

/* Same fields with and without the certificate cache; a changed DER is decoded again. */
static bool cert_eq(const struct nj_tls_cert *a, const struct nj_tls_cert *b)
{
	if (a->present != b->present || a->subject_len != b->subject_len ||
	    a->issuer_len != b->issuer_len || a->serial_len != b->serial_len ||
	    a->not_before != b->not_before || a->not_after != b->not_after ||
	    a->nsans != b->nsans || strcmp(a->fingerprint, b->fingerprint) != 0)
		return false;
	if (!a->present)
		return true;
	if (strcmp(a->subject, b->subject) || strcmp(a->issuer, b->issuer) ||
	    strcmp(a->serial, b->serial))
		return false;
	for (unsigned i = 0; i < a->nsans; i++)
		if (a->san_len[i] != b->san_len[i] || strcmp(a->sans[i], b->sans[i]))
			return false;
	return true;
}

static void test_x509_cache(void)
{
	uint32_t n, n2;
	uint8_t *der = make_cert(&SERVER_CERT, &n), *d2 = make_cert(&CLIENT_CERT, &n2);
	struct nj_tls_cert plain, c1, c2;
	uint64_t h0 = nj_tls_x509_cache_hits();

	CHECK(der && d2);
	if (!der || !d2)
		return;
	CHECK(nj_tls_x509_decode(der, n, &plain, arena, NULL, 16) == NJ_TLS_X509_OK);
	CHECK(nj_tls_x509_decode_cached(der, n, &c1, arena, NULL, 16) == NJ_TLS_X509_OK);
	CHECK(nj_tls_x509_decode_cached(der, n, &c2, arena, NULL, 16) == NJ_TLS_X509_OK);
	CHECK(nj_tls_x509_cache_hits() == h0 + 1);
	CHECK(cert_eq(&plain, &c1) && cert_eq(&plain, &c2) && c2.nsans == 3);
	/* another certificate, then the first one again: still right */
	CHECK(nj_tls_x509_decode_cached(d2, n2, &c1, arena, NULL, 16) == NJ_TLS_X509_OK);
	CHECK(c1.subject && !strcmp(c1.subject, "CN=client, OU=Dév"));
	CHECK(nj_tls_x509_decode_cached(der, n, &c2, arena, NULL, 16) == NJ_TLS_X509_OK);
	CHECK(cert_eq(&plain, &c2));
	/* one byte of the signature changed: decoded again (another fingerprint) */
	h0 = nj_tls_x509_cache_hits();
	der[n - 1] ^= 0x55;
	CHECK(nj_tls_x509_decode(der, n, &plain, arena, NULL, 16) == NJ_TLS_X509_OK);
	CHECK(nj_tls_x509_decode_cached(der, n, &c1, arena, NULL, 16) == NJ_TLS_X509_OK);
	CHECK(nj_tls_x509_cache_hits() == h0);
	CHECK(cert_eq(&plain, &c1) && strcmp(c1.fingerprint, c2.fingerprint) != 0);
	/* errors are cached as errors */
	der[4] ^= 0xff;
	CHECK(nj_tls_x509_decode_cached(der, n, &c1, arena, NULL, 16) != NJ_TLS_X509_OK);
	CHECK(nj_tls_x509_decode_cached(der, n, &c1, arena, NULL, 16) != NJ_TLS_X509_OK &&
	      !c1.present);
	OPENSSL_free(der);
	OPENSSL_free(d2);
}

static void test_versions_grease(void)
{
	char b[NJ_TLS_VERSION_STRLEN];

	CHECK(!strcmp(nj_tls_version_str(0x0301, b), "TLSv1"));
	CHECK(!strcmp(nj_tls_version_str(0x0302, b), "TLS 1.1"));
	CHECK(!strcmp(nj_tls_version_str(0x0303, b), "TLS 1.2"));
	CHECK(!strcmp(nj_tls_version_str(0x0304, b), "TLS 1.3"));
	CHECK(!strcmp(nj_tls_version_str(0x0300, b), "SSLv3"));
	CHECK(!strcmp(nj_tls_version_str(0x0002, b), "SSLv2"));
	CHECK(!strcmp(nj_tls_version_str(0, b), "UNDETERMINED"));
	CHECK(!strcmp(nj_tls_version_str(0x7f12, b), "TLS 1.3 draft-18"));
	CHECK(!strcmp(nj_tls_version_str(0x7f17, b), "TLS 1.3 draft-23"));
	CHECK(!strcmp(nj_tls_version_str(NJ_TLS_V_13_PRE_DRAFT16, b), "TLS 1.3 draft-<16"));
	CHECK(!strcmp(nj_tls_version_str(0xfb17, b), "TLS 1.3 draft-23-fb"));
	CHECK(!strcmp(nj_tls_version_str(0x1234, b), "0x1234"));
	for (unsigned v = 0; v < 0x10000; v++) {
		bool g = (v & 0xff) == (v >> 8) && (v & 0x0f) == 0x0a;

		if (nj_tls_is_grease((uint16_t)v) != g)
			CHECK(nj_tls_is_grease((uint16_t)v) == g);
	}
	CHECK(nj_tls_is_grease(0x0a0a) && nj_tls_is_grease(0xfafa) && !nj_tls_is_grease(0x0a1a));
	CHECK(nj_tls_version_valid(0x0303) && !nj_tls_version_valid(0x0305) &&
	      !nj_tls_version_valid(0x0a0a));
}

static void test_ja4_spec(void)
{
	/* FoxIO's JA4_r example: t13d1516h2 and its two hashes */
	static uint16_t ciphers[] = {0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9,
				     0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035};
	static uint16_t exts[] = {0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002d, 0x000d,
				  0x0005, 0x0023, 0x0012, 0x002b, 0xff01, 0x000b, 0x000a, 0x0015};
	static uint16_t sig[] = {0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601};
	static uint8_t alpn[] = {2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
	struct nj_tls_hello h = {0};
	char ja4[37];

	h.seen = true;
	h.legacy_version = 0x0303;
	h.has_supported_versions = true;
	h.sv_max = 0x0304;
	h.ciphers = ciphers;
	h.nciphers = 15;
	h.exts = exts;
	h.nexts = 16;
	h.sigalgs = sig;
	h.nsigalgs = 8;
	h.alpn = alpn;
	h.alpn_len = sizeof(alpn);
	h.sni = true;
	nj_tls_ja4(&h, ja4);
	CHECK(!strcmp(ja4, "t13d1516h2_8daaf6152771_e5627efa2ab1"));

	/* no supported_versions: the hello's version; no SNI; ALPN with a non-alphanumeric end */
	{
		static uint8_t a2[] = {3, 'h', '2', '-'};

		h.has_supported_versions = false;
		h.sni = false;
		h.alpn = a2;
		h.alpn_len = sizeof(a2);
		nj_tls_ja4(&h, ja4);
		CHECK(!strncmp(ja4, "t12i15166d_8daaf6152771_e5627efa2ab1", 36));
	}
	/* single-character ALPN, no ciphers, no signature algorithms: no "_" before the hash */
	{
		static uint8_t a3[] = {1, 'x'};

		h.alpn = a3;
		h.alpn_len = sizeof(a3);
		h.nciphers = 0;
		h.nsigalgs = 0;
		nj_tls_ja4(&h, ja4);
		/* sha256("0005,000a,...,4469,ff01_"): the "_" stays (as the corpus's JA4s) */
		CHECK(!strcmp(ja4, "t12i0016xx_000000000000_9381a8ef4792"));
		h.nexts = 0;
		h.alpn = NULL;
		h.alpn_len = 0;
		h.legacy_version = 0x0300;
		nj_tls_ja4(&h, ja4);
		CHECK(!strcmp(ja4, "ts3i000000_000000000000_000000000000"));
		h.legacy_version = 0x7f12;
		nj_tls_ja4(&h, ja4);
		CHECK(!strncmp(ja4, "t00i", 4));
	}
	/* counts stop at 99 */
	{
		static uint16_t many[150];

		for (int i = 0; i < 150; i++)
			many[i] = (uint16_t)(i + 1);
		h.ciphers = many;
		h.nciphers = 150;
		h.exts = many;
		h.nexts = 150;
		nj_tls_ja4(&h, ja4);
		CHECK(!strncmp(ja4 + 4, "9999", 4));
	}
	{
		char md5[33];

		nj_tls_md5_hex("", 0, md5);
		CHECK(!strcmp(md5, "d41d8cd98f00b204e9800998ecf8427e"));
	}
}

/* ------------------------------------------------------------------ synthetic sessions */

struct seg {
	int dir;
	uint32_t off, len;
};

/* A session: the two streams and the segments in wire order. */
struct sess {
	struct mb s[2];
	struct seg seg[64];
	unsigned nseg;
};

static void sess_add(struct sess *x, int dir, const struct mb *m)
{
	struct seg *g = &x->seg[x->nseg++];

	g->dir = dir;
	g->off = x->s[dir].n;
	g->len = m->n;
	mb_raw(&x->s[dir], m->b, m->n);
}

/* mode 0 whole segments, 1 each segment split at `at`, 2 byte by byte. */
static struct hx *sess_run(const struct sess *x, int mode, uint32_t at)
{
	struct hx *h = hx_new();

	for (unsigned i = 0; i < x->nseg; i++) {
		const struct seg *g = &x->seg[i];
		const uint8_t *d = x->s[g->dir].b + g->off;

		if (mode == 2) {
			for (uint32_t k = 0; k < g->len; k++)
				hx_feed(h, g->dir, d + k, 1);
		} else if (mode == 1 && at > 0 && at < g->len) {
			hx_feed(h, g->dir, d, at);
			hx_feed(h, g->dir, d + at, g->len - at);
		} else {
			hx_feed(h, g->dir, d, g->len);
		}
	}
	hx_end(h);
	return h;
}

/* Same output whole, split at every byte of every segment, and byte by byte. */
static void sess_check_splits(const struct sess *x, const char *name)
{
	struct hx *h = sess_run(x, 0, 0);
	char *want = hx_summary(h);
	uint32_t maxlen = 0;
	unsigned bad = 0;

	hx_free(h);
	for (unsigned i = 0; i < x->nseg; i++)
		if (x->seg[i].len > maxlen)
			maxlen = x->seg[i].len;
	for (uint32_t at = 1; at < maxlen; at++) {
		char *got;

		h = sess_run(x, 1, at);
		got = hx_summary(h);
		if (strcmp(got, want) && bad++ < 2)
			fprintf(stderr, "%s: split at %u differs:\n%s---\n%s", name, at, got, want);
		free(got);
		hx_free(h);
	}
	h = sess_run(x, 2, 0);
	{
		char *got = hx_summary(h);

		if (strcmp(got, want) && bad++ < 4)
			fprintf(stderr, "%s: byte by byte differs:\n%s---\n%s", name, got, want);
		free(got);
	}
	hx_free(h);
	CHECK(bad == 0);
	free(want);
}

static const uint16_t CIPHERS[] = {0x0a0a, 0xc02f, 0xc030, 0x009c, 0x1301};
static const uint16_t GROUPS[] = {0x1a1a, 0x001d, 0x0017, 0x0018};
static const uint16_t SIGALGS[] = {0x0403, 0x2a2a, 0x0804, 0x0401};
static const uint16_t VERS13[] = {0x3a3a, 0x0304, 0x0303};

/*
 * TLS 1.2 with mutual authentication: the server's Certificate message is
 * cut into 100-byte records, ServerKeyExchange/CertificateRequest/
 * ServerHelloDone share one record.
 */
static void build_tls12(struct sess *x, bool with_client_cert)
{
	static struct mb m, r;
	struct ch_opts o = {.version = 0x0303,
			    .ciphers = CIPHERS,
			    .nciphers = 5,
			    .sni = "host.test",
			    .alpn = {"h2", "http/1.1"},
			    .groups = GROUPS,
			    .ngroups = 4,
			    .sigalgs = SIGALGS,
			    .nsigalgs = 4,
			    .grease = 0xdada};
	uint32_t sl, cl;
	uint8_t *sder = make_cert(&SERVER_CERT, &sl), *cder = make_cert(&CLIENT_CERT, &cl);
	const uint8_t *chain[2] = {sder, cder};
	uint32_t lens[2] = {sl, cl};

	memset(x, 0, sizeof(*x));
	m.n = r.n = 0;
	hs_client_hello(&m, &o);
	mb_records(&r, 22, 0x0301, m.b, m.n, 16384);
	sess_add(x, 0, &r);

	m.n = r.n = 0;
	hs_server_hello(&m, 0x0303, 0xc02f, NULL, 0, 0, "h2");
	mb_records(&r, 22, 0x0303, m.b, m.n, 16384);
	m.n = 0;
	hs_certificate(&m, chain, lens, 2);
	mb_records(&r, 22, 0x0303, m.b, m.n, 100);
	m.n = 0;
	hs_empty(&m, 12, 40);
	if (with_client_cert)
		hs_empty(&m, 13, 4);
	hs_empty(&m, 14, 0);
	mb_records(&r, 22, 0x0303, m.b, m.n, 16384);
	sess_add(x, 1, &r);

	m.n = r.n = 0;
	if (with_client_cert)
		hs_certificate(&m, &chain[1], &lens[1], 1);
	hs_empty(&m, 16, 33);
	mb_records(&r, 22, 0x0303, m.b, m.n, 16384);
	mb_records(&r, 20, 0x0303, (const uint8_t *)"\x01", 1, 16384);
	m.n = 0;
	hs_empty(&m, 20, 12);
	mb_records(&r, 22, 0x0303, m.b, m.n, 16384); /* encrypted Finished after CCS */
	sess_add(x, 0, &r);

	r.n = 0;
	mb_records(&r, 20, 0x0303, (const uint8_t *)"\x01", 1, 16384);
	mb_records(&r, 22, 0x0303, (const uint8_t *)"\x99\x88\x77\x66\x55\x44", 6, 16384);
	sess_add(x, 1, &r);
	r.n = 0;
	mb_records(&r, 23, 0x0303, (const uint8_t *)"GET / HTTP/1.1 encrypted", 24, 16384);
	sess_add(x, 0, &r);
	sess_add(x, 1, &r);
	OPENSSL_free(sder);
	OPENSSL_free(cder);
}

static void test_tls12(void)
{
	static struct sess x;
	struct hx *h;
	json_t *t;

	cfg_all(true);
	build_tls12(&x, true);
	h = sess_run(&x, 0, 0);
	CHECK(hx_lines(h) == 1);
	CHECK(h->t->nevents == 0);
	t = hx_tls(h, 0);
	CHECK(t != NULL);
	if (t) {
		static const long long ciphers[] = {0xc02f, 0xc030, 0x009c, 0x1301};
		static const long long exts[] = {0, 10, 11, 13, 16};
		static const long long sig[] = {0x0403, 0x0804, 0x0401};

		CHECK(jeq(t, "subject", "C=FR, ST=IDF, OU=Dev + O=Stamus, CN=host.test"));
		CHECK(jeq(t, "issuerdn", "C=FR, O=Test CA, CN=Test Root, Email=ca@test"));
		CHECK(jeq(t, "serial", "00:97:E6:47:09"));
		CHECK(jeq(t, "sni", "host.test"));
		CHECK(jeq(t, "version", "TLS 1.2"));
		CHECK(jeq(t, "notbefore", "2015-02-12T18:07:27"));
		CHECK(jeq(t, "notafter", "2025-02-09T18:07:27"));
		CHECK(json_array_size(jget(t, "subjectaltname")) == 3);
		CHECK(json_array_size(jget(t, "chain")) == 2);
		CHECK(jhas(t, "certificate"));
		CHECK(!jhas(t, "session_resumed"));
		/* JA3 without GREASE: ciphers, extensions (GREASE type removed), groups, formats */
		CHECK(jeq(t, "ja3.string", "771,49199-49200-156-4865,0-10-11-13-16,29-23-24,0"));
		CHECK(strlen(json_string_value(jget(t, "ja3.hash")) ?: "") == 32);
		CHECK(jeq(t, "ja3s.string", "771,49199,65281-16"));
		CHECK(jhas(t, "ja4"));
		CHECK(!strncmp(json_string_value(jget(t, "ja4")) ?: "", "t12d0405h2_", 11));
		CHECK(jints(t, "client_handshake.ciphers", ciphers, 4));
		CHECK(jints(t, "client_handshake.exts", exts, 5));
		CHECK(jints(t, "client_handshake.sig_algs", sig, 3));
		CHECK(jeq(t, "client_handshake.version", "TLS 1.2"));
		CHECK(json_integer_value(jget(t, "server_handshake.cipher")) == 0xc02f);
		CHECK(json_array_size(jget(t, "client_alpns")) == 2);
		CHECK(json_array_size(jget(t, "server_alpns")) == 1);
		CHECK(jeq(t, "client.subject", "CN=client, OU=Dév"));
		CHECK(jeq(t, "client.serial", "32"));
		CHECK(jeq(t, "client.notbefore", "1969-12-31T00:00:00"));
		CHECK(jhas(t, "client.certificate") && jhas(t, "client.chain"));
		json_decref(t);
	}
	hx_free(h);
	sess_check_splits(&x, "tls12");

	/* key order: Suricata's */
	h = sess_run(&x, 0, 0);
	{
		const char *o = hx_out(h);
		const char *keys[] = {"\"subject\"",
				      "\"issuerdn\"",
				      "\"subjectaltname\"",
				      "\"serial\"",
				      "\"fingerprint\"",
				      "\"sni\"",
				      "\"version\"",
				      "\"notbefore\"",
				      "\"notafter\"",
				      "\"certificate\"",
				      "\"chain\"",
				      "\"ja3\"",
				      "\"ja3s\"",
				      "\"ja4\"",
				      "\"client_alpns\"",
				      "\"server_alpns\"",
				      "\"client_handshake\"",
				      "\"server_handshake\"",
				      "\"client\""};
		const char *prev = o;

		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			const char *p = strstr(o, keys[i]);

			CHECK(p && p >= prev);
			if (p)
				prev = p;
		}
	}
	hx_free(h);

	/* without CertificateRequest the event comes at the server's flight (both done) */
	build_tls12(&x, false);
	h = hx_new();
	for (unsigned i = 0; i < 2; i++)
		hx_feed(h, x.seg[i].dir, x.s[x.seg[i].dir].b + x.seg[i].off, x.seg[i].len);
	CHECK(h->logged == 1 && hx_lines(h) == 1);
	hx_free(h);
	sess_check_splits(&x, "tls12-nocc");
}

/* TLS 1.3: nothing after the ServerHello is readable; logged without a certificate. */
static void test_tls13(void)
{
	static struct sess x;
	static struct mb m, r;
	struct ch_opts o = {.version = 0x0303,
			    .ciphers = CIPHERS,
			    .nciphers = 5,
			    .sni = "tls13.test",
			    .versions = VERS13,
			    .nversions = 3,
			    .groups = GROUPS,
			    .ngroups = 4,
			    .sigalgs = SIGALGS,
			    .nsigalgs = 4};
	static const uint8_t sid[32] = {1, 2, 3};
	struct hx *h;
	json_t *t;

	cfg_all(false);
	memset(&x, 0, sizeof(x));
	o.sid = sid;
	o.sid_len = 32;
	m.n = r.n = 0;
	hs_client_hello(&m, &o);
	mb_records(&r, 22, 0x0301, m.b, m.n, 16384);
	sess_add(&x, 0, &r);
	m.n = r.n = 0;
	hs_server_hello(&m, 0x0303, 0x1301, sid, 32, 0x0304, NULL);
	mb_records(&r, 22, 0x0303, m.b, m.n, 16384);
	mb_records(&r, 20, 0x0303, (const uint8_t *)"\x01", 1, 16384);
	mb_records(&r, 23, 0x0303, m.b, 200, 16384); /* encrypted extensions, certificate... */
	sess_add(&x, 1, &r);
	r.n = 0;
	mb_records(&r, 20, 0x0303, (const uint8_t *)"\x01", 1, 16384);
	mb_records(&r, 23, 0x0303, m.b, 53, 16384);
	sess_add(&x, 0, &r);
	h = sess_run(&x, 0, 0);
	CHECK(hx_lines(h) == 1);
	t = hx_tls(h, 0);
	CHECK(t && jeq(t, "version", "TLS 1.3") && jeq(t, "sni", "tls13.test"));
	/* same session id echoed is a TLS 1.3 compatibility id: no session_resumed */
	CHECK(t && !jhas(t, "session_resumed") && !jhas(t, "subject") && !jhas(t, "ja3"));
	CHECK(t && !strncmp(json_string_value(jget(t, "ja4")) ?: "", "t13d0405", 8));
	CHECK(t && jeq(t, "client_handshake.version", "TLS 1.3"));
	json_decref(t);
	CHECK(h->t->nevents == 0);
	hx_free(h);
	sess_check_splits(&x, "tls13");
}

/* Resumption: the server echoes the session id and sends no certificate. */
static void test_resumption(void)
{
	static struct sess x;
	static struct mb m, r;
	static const uint8_t sid[32] = {9, 9, 9, 9};
	struct ch_opts o = {.version = 0x0303, .ciphers = CIPHERS, .nciphers = 5, .sni = "r.test"};
	struct nj_tls_config c;
	struct hx *h;
	json_t *t;

	cfg_all(false);
	for (int variant = 0; variant < 2; variant++) {
		memset(&x, 0, sizeof(x));
		o.sid = variant ? NULL : sid;
		o.sid_len = variant ? 0 : 32;
		o.ticket = variant == 1;
		m.n = r.n = 0;
		hs_client_hello(&m, &o);
		mb_records(&r, 22, 0x0303, m.b, m.n, 16384);
		sess_add(&x, 0, &r);
		m.n = r.n = 0;
		hs_server_hello(&m, 0x0303, 0xc02f, sid, 32, 0, NULL);
		mb_records(&r, 22, 0x0303, m.b, m.n, 16384);
		mb_records(&r, 20, 0x0303, (const uint8_t *)"\x01", 1, 16384);
		mb_records(&r, 22, 0x0303, m.b, 40, 16384);
		sess_add(&x, 1, &r);
		r.n = 0;
		mb_records(&r, 20, 0x0303, (const uint8_t *)"\x01", 1, 16384);
		mb_records(&r, 23, 0x0303, m.b, 40, 16384);
		sess_add(&x, 0, &r);
		sess_add(&x, 1, &r);
		h = sess_run(&x, 0, 0);
		CHECK(hx_lines(h) == 1);
		t = hx_tls(h, 0);
		CHECK(t && json_is_true(jget(t, "session_resumed")));
		CHECK(t && jeq(t, "version", "TLS 1.2"));
		json_decref(t);
		hx_free(h);
		sess_check_splits(&x, "resumption");
	}
	/* not logged without session-resumption */
	nj_tls_config_defaults(&c);
	c.fields = NJ_TLS_LOG_BASIC;
	c.session_resumption = false;
	nj_tls_config_set(&c);
	h = sess_run(&x, 0, 0);
	CHECK(hx_lines(h) == 0);
	hx_free(h);
	cfg_all(false);
}

/* GREASE everywhere: nothing of it in JA3, JA4 or the handshake lists. */
static void test_grease(void)
{
	static struct mb m, r;
	static const uint16_t c1[] = {0x1301, 0x1302};
	static const uint16_t c2[] = {0x7a7a, 0x1301, 0xbaba, 0x1302};
	static const uint16_t g1[] = {0x001d};
	static const uint16_t g2[] = {0x8a8a, 0x001d, 0x9a9a};
	static const uint16_t s1[] = {0x0403};
	static const uint16_t s2[] = {0xcaca, 0x0403};
	static const uint16_t v1[] = {0x0304};
	static const uint16_t v2[] = {0xeaea, 0x0304};
	struct ch_opts a = {.version = 0x0303,
			    .ciphers = c1,
			    .nciphers = 2,
			    .sni = "g.test",
			    .alpn = {"h2"},
			    .groups = g1,
			    .ngroups = 1,
			    .sigalgs = s1,
			    .nsigalgs = 1,
			    .versions = v1,
			    .nversions = 1};
	struct ch_opts b = a;
	char out[2][2][300];

	cfg_all(true);
	b.ciphers = c2;
	b.nciphers = 4;
	b.groups = g2;
	b.ngroups = 3;
	b.sigalgs = s2;
	b.nsigalgs = 2;
	b.versions = v2;
	b.nversions = 2;
	b.grease = 0x4a4a;
	for (int k = 0; k < 2; k++) {
		struct hx *h = hx_new();
		json_t *t;

		m.n = r.n = 0;
		hs_client_hello(&m, k ? &b : &a);
		mb_records(&r, 22, 0x0301, m.b, m.n, 16384);
		hx_feed(h, 0, r.b, r.n);
		hx_end(h);
		/* not logged (no certificate): read the transaction through the buffers */
		t = NULL;
		(void)t;
		{
			const struct nj_al_buffer *bf;
			struct hx *h2 = hx_new();
			struct nj_al_tx *tx;

			hx_feed(h2, 0, r.b, r.n);
			tx = P->txq(h2->st)->head;
			CHECK(tx != NULL);
			out[k][0][0] = out[k][1][0] = 0;
			for (bf = P->buffers; tx && bf->name; bf++) {
				const uint8_t *d;
				uint32_t n;

				if (!strcmp(bf->name, "ja3.string") && bf->get(tx, &d, &n))
					snprintf(out[k][0], sizeof(out[k][0]), "%.*s", (int)n, d);
				if (!strcmp(bf->name, "ja4.hash") && bf->get(tx, &d, &n))
					snprintf(out[k][1], sizeof(out[k][1]), "%.*s", (int)n, d);
			}
			hx_free(h2);
		}
		hx_free(h);
	}
	CHECK(!strcmp(out[0][0], "771,4865-4866,0-10-11-13-16-43,29,0"));
	CHECK(!strcmp(out[0][0], out[1][0]));
	CHECK(!strncmp(out[0][1], "t13d0206h2_", 11));
	CHECK(!strcmp(out[0][1], out[1][1]));
}

/* SSLv2-compatible ClientHello, then TLS records from the server. */
static void test_sslv2(void)
{
	static struct sess x;
	static struct mb m, r;
	uint32_t sl;
	uint8_t *sder = make_cert(&SERVER_CERT, &sl);
	const uint8_t *chain[1] = {sder};
	struct hx *h;
	json_t *t;

	cfg_all(true);
	memset(&x, 0, sizeof(x));
	r.n = 0;
	/* 2-byte header, CLIENT-HELLO, version 3.1, 3 cipher specs, no session id, 16-byte challenge */
	mb_u8(&r, 0x80);
	mb_u8(&r, 9 + 9 + 16);
	mb_u8(&r, 1);
	mb_u16(&r, 0x0301);
	mb_u16(&r, 9);
	mb_u16(&r, 0);
	mb_u16(&r, 16);
	for (int i = 0; i < 9; i++)
		mb_u8(&r, i % 3 ? 0 : 0x39);
	for (int i = 0; i < 16; i++)
		mb_u8(&r, i);
	CHECK(P->probe(r.b, r.n, NJ_DIR_TOSERVER) == NJ_PROBE_YES);
	sess_add(&x, 0, &r);
	m.n = r.n = 0;
	hs_server_hello(&m, 0x0301, 0x0039, NULL, 0, 0, NULL);
	hs_certificate(&m, chain, &sl, 1);
	hs_empty(&m, 14, 0);
	mb_records(&r, 22, 0x0301, m.b, m.n, 16384);
	sess_add(&x, 1, &r);
	h = sess_run(&x, 0, 0);
	CHECK(hx_lines(h) == 1);
	t = hx_tls(h, 0);
	CHECK(t && jeq(t, "version", "TLSv1") && jeq(t, "serial", "00:97:E6:47:09"));
	CHECK(t && !jhas(t, "ja3") && jhas(t, "ja3s"));
	json_decref(t);
	hx_free(h);
	sess_check_splits(&x, "sslv2");
	OPENSSL_free(sder);
}

/* One record carrying several handshakes, and one handshake over many 1-byte records. */
static void test_fragmentation(void)
{
	static struct sess x;
	static struct mb m, r;
	struct ch_opts o = {.version = 0x0303, .ciphers = CIPHERS, .nciphers = 5, .sni = "f.test"};
	uint32_t sl;
	uint8_t *sder = make_cert(&SERVER_CERT, &sl);
	const uint8_t *chain[1] = {sder};
	struct hx *h;
	json_t *t;

	cfg_all(false);
	memset(&x, 0, sizeof(x));
	m.n = r.n = 0;
	hs_client_hello(&m, &o);
	mb_records(&r, 22, 0x0303, m.b, m.n, 1); /* ClientHello one byte per record */
	sess_add(&x, 0, &r);
	m.n = r.n = 0;
	hs_server_hello(&m, 0x0303, 0xc02f, NULL, 0, 0, NULL);
	hs_certificate(&m, chain, &sl, 1);
	hs_empty(&m, 14, 0);
	mb_records(&r, 22, 0x0303, m.b, m.n, 16384); /* all in one record */
	sess_add(&x, 1, &r);
	h = sess_run(&x, 0, 0);
	CHECK(hx_lines(h) == 1);
	t = hx_tls(h, 0);
	CHECK(t && jeq(t, "sni", "f.test") && jeq(t, "serial", "00:97:E6:47:09"));
	json_decref(t);
	CHECK(h->t->nevents == 0);
	hx_free(h);
	sess_check_splits(&x, "fragmentation");
	OPENSSL_free(sder);
}

/* ------------------------------------------------------------------ anomalies */

static struct hx *feed_one(int dir, const uint8_t *d, uint32_t n)
{
	struct hx *h = hx_new();

	hx_feed(h, dir, d, n);
	hx_end(h);
	return h;
}

static void test_anomalies(void)
{
	static struct mb m, r;
	struct ch_opts o = {.version = 0x0303, .ciphers = CIPHERS, .nciphers = 5};
	struct hx *h;

	cfg_all(false);
	/* unknown record type (TLS 1.2: fatal) */
	r.n = 0;
	mb_records(&r, 25, 0x0303, (const uint8_t *)"xx", 2, 16384);
	h = feed_one(0, r.b, r.n);
	CHECK(hx_has_event(h, "INVALID_RECORD_TYPE") && h->dead[0]);
	hx_free(h);
	/* zero-length record, bad version, oversize record */
	r.n = 0;
	mb_records(&r, 22, 0x0303, NULL, 0, 16384);
	h = feed_one(0, r.b, r.n);
	CHECK(hx_has_event(h, "INVALID_RECORD_LENGTH"));
	hx_free(h);
	{
		static const uint8_t badver[] = {22, 3, 9, 0, 4, 1, 0, 0, 0};
		static const uint8_t big[] = {22, 3, 3, 0x50, 0x00};

		h = feed_one(0, badver, sizeof(badver));
		CHECK(hx_has_event(h, "INVALID_RECORD_VERSION"));
		hx_free(h);
		h = feed_one(0, big, sizeof(big));
		CHECK(hx_has_event(h, "INVALID_RECORD_LENGTH") && h->dead[0]);
		hx_free(h);
	}
	/* unknown handshake type; handshake record shorter than a message header */
	r.n = 0;
	hs_empty(&m, 99, 3);
	m.n = 0;
	hs_empty(&m, 99, 3);
	mb_records(&r, 22, 0x0303, m.b, m.n, 16384);
	h = feed_one(0, r.b, r.n);
	CHECK(hx_has_event(h, "INVALID_HANDSHAKE_MESSAGE"));
	hx_free(h);
	/* a record of a handshake message header's first byte alone is legal: no event */
	r.n = 0;
	mb_records(&r, 22, 0x0303, (const uint8_t *)"\x0e", 1, 16384);
	mb_records(&r, 22, 0x0303, (const uint8_t *)"\x00\x00\x00", 3, 16384);
	h = feed_one(1, r.b, r.n);
	CHECK(h->t->nevents == 0 && !h->dead[1]);
	hx_free(h);
	/* SNI: bad type, bad length, twice */
	for (int k = 0; k < 3; k++) {
		m.n = r.n = 0;
		o.sni = "x.test";
		hs_client_hello(&m, &o);
		if (k == 0) { /* name type 1 */
			uint8_t *p = memmem(m.b, m.n, "\x00\x06x.test", 8);

			CHECK(p != NULL);
			if (p)
				p[-1] = 1;
		} else if (k == 1) { /* name length 0 */
			uint8_t *p = memmem(m.b, m.n, "\x00\x06x.test", 8);

			if (p)
				p[1] = 0;
		} else { /* two SNI extensions */
			struct ch_opts o2 = o;

			o2.sni_twice = true;
			m.n = 0;
			hs_client_hello(&m, &o2);
		}
		mb_records(&r, 22, 0x0303, m.b, m.n, 16384);
		h = feed_one(0, r.b, r.n);
		CHECK(hx_has_event(h, k == 0   ? "INVALID_SNI_TYPE"
				      : k == 1 ? "INVALID_SNI_LENGTH"
					       : "MULTIPLE_SNI_EXTENSIONS"));
		hx_free(h);
	}
	o.sni = NULL;
	/* truncated ClientHello body (header says more than the message holds) */
	m.n = r.n = 0;
	hs_client_hello(&m, &o);
	mb_records(&r, 22, 0x0303, m.b, 20, 16384);
	{
		/* a 20-byte record of a longer message: reassembly waits, close ends it */
		h = feed_one(0, r.b, r.n);
		CHECK(h->t->nevents == 0 && hx_lines(h) == 0);
		hx_free(h);
	}
	m.b[1] = 0;
	m.b[2] = 0;
	m.b[3] = 20; /* message length 20: too short for a hello */
	r.n = 0;
	mb_records(&r, 22, 0x0303, m.b, 24, 16384);
	h = feed_one(0, r.b, r.n);
	CHECK(hx_has_event(h, "HANDSHAKE_INVALID_LENGTH"));
	hx_free(h);
	/* broken certificates */
	{
		static const uint8_t junk[] = {0x30, 0x03, 1, 2, 3};
		const uint8_t *ch[1] = {junk};
		uint32_t jl = sizeof(junk);

		m.n = r.n = 0;
		hs_certificate(&m, ch, &jl, 1);
		mb_records(&r, 22, 0x0303, m.b, m.n, 16384);
		h = feed_one(1, r.b, r.n);
		CHECK(hx_has_event(h, "CERTIFICATE_INVALID_DER"));
		hx_free(h);
		r.b[5 + 9] = 0x40; /* a certificate longer than the list */
		h = feed_one(1, r.b, r.n);
		CHECK(hx_has_event(h, "INVALID_CERTIFICATE"));
		hx_free(h);
	}
	/* alerts and heartbeats */
	r.n = 0;
	mb_records(&r, 21, 0x0303, (const uint8_t *)"\x02", 1, 16384);
	h = feed_one(1, r.b, r.n);
	CHECK(hx_has_event(h, "INVALID_ALERT_MESSAGE"));
	hx_free(h);
	{
		static uint8_t hb[3 + 100 + 16];

		hb[0] = 1;
		hb[1] = 0x40; /* payload 16384 > record */
		hb[2] = 0;
		r.n = 0;
		mb_records(&r, 24, 0x0303, hb, sizeof(hb), 16384);
		h = feed_one(0, r.b, r.n);
		CHECK(hx_has_event(h, "OVERFLOW_HEARTBEAT_MESSAGE"));
		hx_free(h);
		hb[1] = 0;
		hb[2] = 110; /* padding 6 < 16 */
		r.n = 0;
		mb_records(&r, 24, 0x0303, hb, sizeof(hb), 16384);
		h = feed_one(0, r.b, r.n);
		CHECK(hx_has_event(h, "INVALID_HEARTBEAT_MESSAGE"));
		hx_free(h);
		hb[2] = 100; /* valid request, then a second one the same way */
		r.n = 0;
		mb_records(&r, 24, 0x0303, hb, sizeof(hb), 16384);
		mb_records(&r, 24, 0x0303, hb, sizeof(hb), 16384);
		h = feed_one(0, r.b, r.n);
		CHECK(hx_has_event(h, "INVALID_HEARTBEAT_MESSAGE"));
		hx_free(h);
	}
	/* SSLv2: zero length, ERROR message */
	{
		static const uint8_t z[] = {0x80, 0x00, 0x01};
		static const uint8_t e[] = {0x80, 0x03, 0x00, 0x00, 0x01};

		h = feed_one(0, z, sizeof(z));
		CHECK(hx_has_event(h, "INVALID_SSLV2_HEADER"));
		hx_free(h);
		h = feed_one(1, e, sizeof(e));
		CHECK(hx_has_event(h, "ERROR_MESSAGE_ENCOUNTERED"));
		hx_free(h);
	}
	/* a handshake message over the reassembly limit is skipped */
	{
		struct nj_tls_config c;

		nj_tls_config_defaults(&c);
		c.max_msg = 1024;
		nj_tls_config_set(&c);
		m.n = r.n = 0;
		hs_empty(&m, 11, 5000);
		mb_records(&r, 22, 0x0303, m.b, m.n, 1000);
		h = feed_one(1, r.b, r.n);
		CHECK(hx_has_event(h, "HANDSHAKE_INVALID_LENGTH") && !h->dead[1]);
		hx_free(h);
		cfg_all(false);
	}
	/* gap: the direction is given up without error */
	{
		struct hx *g = hx_new();

		P->gap(g->st, g->t->ctx, 1, 100);
		r.n = 0;
		mb_records(&r, 22, 0x0303, (const uint8_t *)"\x0e\x00\x00\x00", 4, 16384);
		CHECK(P->parse(g->st, g->t->ctx, 1, r.b, r.n) == (int32_t)r.n);
		hx_end(g);
		hx_free(g);
	}
}

/* ------------------------------------------------------------------ probe, config, buffers */

static void test_probe(void)
{
	static const uint8_t ch[] = {22, 3, 1, 0, 200, 1};
	static const uint8_t sh[] = {22, 3, 3, 0, 90, 2};
	static const uint8_t ad[] = {23, 3, 3, 0, 90};
	static const uint8_t http[] = "GET / HTTP/1.1\r\n";
	static const uint8_t v2[] = {0x80, 0x2e, 0x01, 0x00, 0x02};

	CHECK(P->probe(ch, 2, NJ_DIR_TOSERVER) == NJ_PROBE_MORE);
	CHECK(P->probe(ch, sizeof(ch), NJ_DIR_TOSERVER) == NJ_PROBE_YES);
	CHECK(P->probe(sh, sizeof(sh), NJ_DIR_TOCLIENT) == NJ_PROBE_YES);
	CHECK(P->probe(ad, sizeof(ad), NJ_DIR_TOCLIENT) == NJ_PROBE_YES);
	CHECK(P->probe(ad, sizeof(ad), NJ_DIR_TOSERVER) == NJ_PROBE_NO);
	CHECK(P->probe(http, 16, NJ_DIR_TOSERVER) == NJ_PROBE_NO);
	CHECK(P->probe(v2, sizeof(v2), NJ_DIR_TOSERVER) == NJ_PROBE_YES);
	CHECK(P->probe(v2, 4, NJ_DIR_TOSERVER) == NJ_PROBE_MORE);
	{
		static const uint8_t zero[] = {22, 3, 1, 0, 0};

		/* an empty record: still TLS, as Suricata's pattern 16 03 0x */
		CHECK(P->probe(zero, sizeof(zero), NJ_DIR_TOSERVER) == NJ_PROBE_YES);
	}
	CHECK(P->ports[0] == 443);
	CHECK(P->ipproto_mask == NJ_AL_TCP && P->eve == NJ_EVE_TLS);
}

static struct nj_conf *load_yaml(const char *text)
{
	char path[] = "/tmp/test_tls_XXXXXX";
	int fd = mkstemp(path);
	char err[256];
	struct nj_conf *c;

	if (fd < 0)
		return NULL;
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		close(fd);
		unlink(path);
		return NULL;
	}
	close(fd);
	c = nj_conf_load(path, NULL, 0, err, sizeof(err));
	if (!c)
		fprintf(stderr, "config: %s\n", err);
	unlink(path);
	return c;
}

static void test_config(void)
{
	struct nj_conf *c;
	const struct nj_tls_config *t;

	c = load_yaml("outputs:\n  - eve-log:\n      types:\n        - alert\n        - tls\n");
	CHECK(c && P->configure(c) == 0);
	t = nj_tls_config_get();
	CHECK(t->fields == NJ_TLS_LOG_BASIC && !t->session_resumption);
	CHECK(t->ja3 == 1 && nj_tls_ja3_enabled()); /* Nightjar's default */
	nj_conf_free(c);

	c = load_yaml("app-layer:\n  protocols:\n    tls:\n      ja3-fingerprints: yes\n"
		      "      max-handshake-message: 64kb\n"
		      "outputs:\n  - eve-log:\n      types:\n        - tls:\n"
		      "            extended: yes\n");
	CHECK(c && P->configure(c) == 0);
	t = nj_tls_config_get();
	CHECK(t->fields == (NJ_TLS_LOG_EXTENDED | NJ_TLS_LOG_SESSION_RESUMED));
	CHECK(t->session_resumption && nj_tls_ja3_enabled() && t->max_msg == 65536);
	nj_conf_free(c);

	c = load_yaml("outputs:\n  - eve-log:\n      types:\n        - tls:\n"
		      "            custom: [subject, ja4, client_certificate, bogus]\n"
		      "            session-resumption: no\n");
	CHECK(c && P->configure(c) == 0);
	t = nj_tls_config_get();
	CHECK(t->fields ==
	      (NJ_TLS_LOG_SUBJECT | NJ_TLS_LOG_JA4 | NJ_TLS_LOG_CLIENT_CERT | NJ_TLS_LOG_CLIENT));
	CHECK(!t->session_resumption);
	nj_conf_free(c);

	c = load_yaml("app-layer:\n  protocols:\n    tls:\n      ja3-fingerprints: maybe\n");
	CHECK(c && P->configure(c) == -1);
	nj_conf_free(c);

	/* auto becomes on when a rule asks */
	c = load_yaml("app-layer:\n  protocols:\n    tls:\n      ja3-fingerprints: auto\n");
	CHECK(c && P->configure(c) == 0);
	CHECK(!nj_tls_ja3_enabled());
	nj_tls_ja3_request();
	CHECK(nj_tls_ja3_enabled());
	nj_conf_free(c);
	cfg_all(false);
}

static void test_buffers(void)
{
	static struct sess x;
	struct hx *h;
	struct nj_al_tx *tx;
	unsigned found = 0;

	cfg_all(true);
	build_tls12(&x, false);
	h = hx_new();
	/* ClientHello and the server flight up to the certificate only */
	hx_feed(h, 0, x.s[0].b + x.seg[0].off, x.seg[0].len);
	hx_feed(h, 1, x.s[1].b + x.seg[1].off, x.seg[1].len - 20);
	tx = P->txq(h->st)->head;
	CHECK(tx != NULL);
	for (const struct nj_al_buffer *b = P->buffers; tx && b->name; b++) {
		const uint8_t *d;
		uint32_t n;

		if (!b->get(tx, &d, &n))
			continue;
		found++;
		if (!strcmp(b->name, "tls.sni"))
			CHECK(n == 9 && !memcmp(d, "host.test", 9));
		if (!strcmp(b->name, "tls.cert_serial"))
			CHECK(n == 14 && !memcmp(d, "00:97:E6:47:09", 14));
		if (!strcmp(b->name, "tls.cert_subject"))
			CHECK(n > 10 && !memcmp(d, "C=FR, ST=IDF", 12));
		if (!strcmp(b->name, "ja3.hash") || !strcmp(b->name, "ja3s.hash"))
			CHECK(n == 32);
		if (!strcmp(b->name, "ja4.hash"))
			CHECK(n == 36);
		if (!strcmp(b->name, "tls.cert_fingerprint"))
			CHECK(n == 59);
		if (!strcmp(b->name, "tls.random"))
			CHECK(n == 32);
		if (!strcmp(b->name, "tls.random_time"))
			CHECK(n == 4);
		if (!strcmp(b->name, "tls.random_bytes"))
			CHECK(n == 28);
	}
	/* 10, and tls.random{,_time,_bytes} both ways; no client certificate */
	CHECK(found == 16);
	for (const struct nj_al_multibuffer *b = P->multi_buffers; tx && b->name; b++) {
		const uint8_t *d;
		uint32_t n;

		if (!strcmp(b->name, "tls.certs") && b->dir == NJ_DIR_TOCLIENT)
			CHECK(b->get(tx, 0, &d, &n) && n > 100 && d[0] == 0x30);
		if (!strcmp(b->name, "tls.certs") && b->dir == NJ_DIR_TOSERVER)
			CHECK(!b->get(tx, 0, &d, &n));
	}
	CHECK(tx && nj_tls_tx_version(tx) == 0x0303);
	CHECK(tx && tx->progress[1] == NJ_TLS_S_CERT_DONE && !tx->done[1]);
	hx_free(h);
}

/* Every prefix of a session placed against a PROT_NONE page. */
static void test_guard_page(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	size_t span = (size_t)pg * 8;
	uint8_t *mem = mmap(NULL, span + (size_t)pg, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	static struct sess x;

	CHECK(mem != MAP_FAILED);
	if (mem == MAP_FAILED)
		return;
	CHECK(mprotect(mem + span, (size_t)pg, PROT_NONE) == 0);
	cfg_all(true);
	build_tls12(&x, true);
	for (int dir = 0; dir < 2; dir++) {
		uint32_t total = x.s[dir].n < span ? x.s[dir].n : (uint32_t)span;

		for (uint32_t n = 1; n <= total; n += (n < 600 ? 1 : 13)) {
			uint8_t *p = mem + span - n;
			struct hx *h = hx_new();

			memcpy(p, x.s[dir].b, n);
			P->probe(p, n, dir);
			P->parse(h->st, h->t->ctx, dir, p, n);
			hx_end(h);
			hx_free(h);
		}
	}
	munmap(mem, span + (size_t)pg);
}

/* ------------------------------------------------------------------ corpus captures */

struct pseg {
	int dir;
	uint32_t off, len;
	unsigned pkt;
};

struct pflow {
	uint8_t a[2][16];
	uint16_t port[2];
	unsigned alen;
	bool syn_seen[2], started[2];
	uint32_t next[2];
	struct mb *s[2];
	struct pseg *seg;
	unsigned nseg, capseg;
	/* out-of-order segments waiting */
	struct {
		uint32_t seq, len;
		uint8_t *d;
		unsigned pkt;
	} pend[2][32];
	unsigned npend[2];
};

struct pcapfile {
	struct pflow f[512];
	unsigned nf;
};

static void pf_append(struct pflow *f, int dir, const uint8_t *d, uint32_t n, unsigned pkt)
{
	struct pseg *g;

	if (!n || f->s[dir]->n + n > sizeof(f->s[dir]->b))
		return;
	if (f->nseg == f->capseg) {
		f->capseg = f->capseg ? f->capseg * 2 : 64;
		f->seg = realloc(f->seg, f->capseg * sizeof(*f->seg));
	}
	g = &f->seg[f->nseg++];
	g->dir = dir;
	g->off = f->s[dir]->n;
	g->len = n;
	g->pkt = pkt;
	mb_raw(f->s[dir], d, n);
}

/* In-order delivery of TCP payload (retransmissions trimmed, small reordering fixed). */
static void pf_data(struct pflow *f, int dir, uint32_t seq, const uint8_t *d, uint32_t n,
		    unsigned pkt)
{
	if (!f->started[dir]) {
		f->started[dir] = true;
		f->next[dir] = seq;
	}
	if ((int32_t)(seq - f->next[dir]) > 0) {
		if (f->npend[dir] < 32) {
			unsigned k = f->npend[dir]++;

			f->pend[dir][k].seq = seq;
			f->pend[dir][k].len = n;
			f->pend[dir][k].d = malloc(n);
			memcpy(f->pend[dir][k].d, d, n);
			f->pend[dir][k].pkt = pkt;
		}
		return;
	}
	if ((int32_t)(seq + n - f->next[dir]) <= 0)
		return;
	d += f->next[dir] - seq;
	n -= f->next[dir] - seq;
	pf_append(f, dir, d, n, pkt);
	f->next[dir] += n;
	for (bool again = true; again;) {
		again = false;
		for (unsigned k = 0; k < f->npend[dir]; k++)
			if ((int32_t)(f->pend[dir][k].seq - f->next[dir]) <= 0) {
				uint8_t *pd = f->pend[dir][k].d;
				uint32_t s = f->pend[dir][k].seq, l = f->pend[dir][k].len;
				unsigned pp = f->pend[dir][k].pkt;

				f->pend[dir][k] = f->pend[dir][--f->npend[dir]];
				if ((int32_t)(s + l - f->next[dir]) > 0) {
					pf_append(f, dir, pd + (f->next[dir] - s),
						  l - (f->next[dir] - s), pp);
					f->next[dir] = s + l;
				}
				free(pd);
				again = true;
				break;
			}
	}
}

static bool read_pcap(const char *path, struct pcapfile *pc)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline(path, errbuf);
	struct pcap_pkthdr *ph;
	const uint8_t *d;
	unsigned pkt = 0;
	int dlt;

	memset(pc, 0, sizeof(*pc));
	if (!p)
		return false;
	dlt = pcap_datalink(p);
	while (pcap_next_ex(p, &ph, &d) == 1) {
		uint32_t n = ph->caplen, off = 0, l4, ihl;
		uint16_t et;
		const uint8_t *ip, *src, *dst, *tcp;
		unsigned alen;
		struct pflow *f = NULL;
		int dir = 0;
		uint16_t sp, dp;

		pkt++;
		if (dlt == DLT_EN10MB) {
			if (n < 14)
				continue;
			et = (uint16_t)(d[12] << 8 | d[13]);
			off = 14;
			while ((et == 0x8100 || et == 0x88a8) && n >= off + 4) {
				et = (uint16_t)(d[off + 2] << 8 | d[off + 3]);
				off += 4;
			}
		} else if (dlt == DLT_LINUX_SLL) {
			if (n < 16)
				continue;
			et = (uint16_t)(d[14] << 8 | d[15]);
			off = 16;
		} else if (dlt == DLT_NULL || dlt == DLT_LOOP) {
			off = 4;
			et = n > 4 && (d[4] >> 4) == 6 ? 0x86dd : 0x0800;
		} else {
			et = n && (d[0] >> 4) == 6 ? 0x86dd : 0x0800;
		}
		if (n < off + 40)
			continue;
		ip = d + off;
		n -= off;
		if (et == 0x0800) {
			uint32_t tot = (uint32_t)(ip[2] << 8 | ip[3]);

			ihl = (ip[0] & 15) * 4u;
			if (ip[9] != 6 || tot > n || tot < ihl + 20)
				continue;
			src = ip + 12;
			dst = ip + 16;
			alen = 4;
			tcp = ip + ihl;
			l4 = tot - ihl;
		} else if (et == 0x86dd) {
			uint32_t pl = (uint32_t)(ip[4] << 8 | ip[5]);

			if (ip[6] != 6 || pl + 40 > n || pl < 20)
				continue;
			src = ip + 8;
			dst = ip + 24;
			alen = 16;
			tcp = ip + 40;
			l4 = pl;
		} else {
			continue;
		}
		sp = (uint16_t)(tcp[0] << 8 | tcp[1]);
		dp = (uint16_t)(tcp[2] << 8 | tcp[3]);
		for (unsigned i = 0; i < pc->nf && !f; i++) {
			struct pflow *g = &pc->f[i];

			if (g->alen != alen)
				continue;
			if (!memcmp(g->a[0], src, alen) && !memcmp(g->a[1], dst, alen) &&
			    g->port[0] == sp && g->port[1] == dp) {
				f = g;
				dir = 0;
			} else if (!memcmp(g->a[1], src, alen) && !memcmp(g->a[0], dst, alen) &&
				   g->port[1] == sp && g->port[0] == dp) {
				f = g;
				dir = 1;
			}
		}
		if (!f) {
			if (pc->nf == 512)
				continue;
			f = &pc->f[pc->nf++];
			memcpy(f->a[0], src, alen);
			memcpy(f->a[1], dst, alen);
			f->port[0] = sp;
			f->port[1] = dp;
			f->alen = alen;
			f->s[0] = calloc(1, sizeof(struct mb));
			f->s[1] = calloc(1, sizeof(struct mb));
			/* a SYN-ACK first: the sender is the server */
			dir = ((tcp[13] & 0x12) == 0x12) ? 1 : 0;
			if (dir) {
				memcpy(f->a[0], dst, alen);
				memcpy(f->a[1], src, alen);
				f->port[0] = dp;
				f->port[1] = sp;
			}
		}
		{
			uint32_t seq = (uint32_t)tcp[4] << 24 | (uint32_t)tcp[5] << 16 |
				       (uint32_t)tcp[6] << 8 | tcp[7];
			uint32_t doff = (tcp[12] >> 4) * 4u;

			if (doff < 20 || doff > l4)
				continue;
			if (tcp[13] & 0x02) {
				f->started[dir] = true;
				f->next[dir] = seq + 1;
				continue;
			}
			pf_data(f, dir, seq, tcp + doff, l4 - doff, pkt);
		}
	}
	pcap_close(p);
	return true;
}

static void pcap_free(struct pcapfile *pc)
{
	for (unsigned i = 0; i < pc->nf; i++) {
		free(pc->f[i].s[0]);
		free(pc->f[i].s[1]);
		free(pc->f[i].seg);
		for (int d = 0; d < 2; d++)
			for (unsigned k = 0; k < pc->f[i].npend[d]; k++)
				free(pc->f[i].pend[d][k].d);
	}
}

/* mode 0: segments as captured; 1: segment s split at `at`; 2: byte by byte. */
static struct hx *flow_run(const struct pflow *f, int mode, unsigned s, uint32_t at)
{
	struct hx *h = hx_new();

	for (unsigned i = 0; i < f->nseg; i++) {
		const struct pseg *g = &f->seg[i];
		const uint8_t *d = f->s[g->dir]->b + g->off;

		if (mode == 2) {
			for (uint32_t k = 0; k < g->len; k++)
				hx_feed(h, g->dir, d + k, 1);
		} else if (mode == 1 && i == s && at > 0 && at < g->len) {
			hx_feed(h, g->dir, d, at);
			hx_feed(h, g->dir, d + at, g->len - at);
		} else {
			hx_feed(h, g->dir, d, g->len);
		}
	}
	hx_end(h);
	return h;
}

static bool flow_is_tls(const struct pflow *f)
{
	for (unsigned i = 0; i < f->nseg; i++) {
		const struct pseg *g = &f->seg[i];
		int r = P->probe(f->s[g->dir]->b + g->off, g->len, g->dir);

		if (r != NJ_PROBE_MORE)
			return r == NJ_PROBE_YES;
	}
	return false;
}

/*
 * Runs every TLS flow of a capture: output of the whole run appended to
 * *out (all flows), and (when split) the same output for every split point of
 * every segment (up to max_split_bytes of stream) and byte by byte.
 */
static bool run_capture(const char *rel, char **out, bool split, unsigned *events)
{
	char path[1024];
	struct pcapfile *pc = malloc(sizeof(*pc));
	size_t cap = 1 << 16, len = 0;

	snprintf(path, sizeof(path), "%s%s", rel[0] == '/' ? "" : SV, rel);
	*out = calloc(1, cap);
	if (events)
		*events = 0;
	if (!read_pcap(path, pc)) {
		fprintf(stderr, "cannot read %s\n", path);
		free(pc);
		return false;
	}
	for (unsigned i = 0; i < pc->nf; i++) {
		struct pflow *f = &pc->f[i];
		struct hx *h;
		char *want;

		if (!f->nseg || !flow_is_tls(f))
			continue;
		h = flow_run(f, 0, 0, 0);
		want = hx_summary(h);
		if (events)
			*events += h->t->nevents;
		hx_free(h);
		if (len + strlen(want) + 1 > cap) {
			cap = (len + strlen(want) + 1) * 2;
			*out = realloc(*out, cap);
		}
		memcpy(*out + len, want, strlen(want) + 1);
		len += strlen(want);
		if (split && f->s[0]->n + f->s[1]->n <= 24000) {
			unsigned bad = 0;

			for (unsigned s = 0; s < f->nseg; s++)
				for (uint32_t at = 1; at < f->seg[s].len; at++) {
					char *got;

					h = flow_run(f, 1, s, at);
					got = hx_summary(h);
					if (strcmp(got, want) && bad++ < 1)
						fprintf(stderr,
							"%s: flow %u split %u@%u "
							"differs:\n%s---\n%s",
							rel, i, s, at, got, want);
					free(got);
					hx_free(h);
				}
			h = flow_run(f, 2, 0, 0);
			{
				char *got = hx_summary(h);

				if (strcmp(got, want) && bad++ < 2)
					fprintf(stderr, "%s: flow %u byte by byte differs\n", rel,
						i);
				free(got);
			}
			hx_free(h);
			CHECK(bad == 0);
		}
		free(want);
	}
	pcap_free(pc);
	free(pc);
	return true;
}

/* The tls object of the n-th tls line in a run's output. */
static json_t *out_tls(const char *out, unsigned n)
{
	const char *s = out;

	while (*s) {
		const char *e = strchr(s, '\n');
		json_error_t err;
		json_t *j;

		if (!e)
			break;
		if (!strncmp(s, "{\"event_type\":\"tls\"", 19)) {
			if (n-- == 0) {
				j = json_loadb(s, (size_t)(e - s), JSON_ALLOW_NUL, &err);
				if (j) {
					json_t *t = json_object_get(j, "tls");

					json_incref(t);
					json_decref(j);
					return t;
				}
				return NULL;
			}
		}
		s = e + 1;
	}
	return NULL;
}

static unsigned out_count(const char *out, const char *needle)
{
	unsigned n = 0;

	for (const char *s = out; (s = strstr(s, needle)); s++)
		n++;
	return n;
}

struct expect {
	const char *key, *val;
};

static void check_capture(const char *rel, bool split, unsigned nlines, unsigned line,
			  const struct expect *ex)
{
	char *out = NULL;
	json_t *t;

	if (!run_capture(rel, &out, split, NULL)) {
		CHECK(0);
		free(out);
		return;
	}
	if (out_count(out, "{\"event_type\":\"tls\"") != nlines) {
		fprintf(stderr, "%s: %u tls events, want %u\n%s", rel,
			out_count(out, "{\"event_type\":\"tls\""), nlines, out);
		CHECK(0);
	}
	t = out_tls(out, line);
	if (!t)
		fprintf(stderr, "%s: no tls event %u in:\n%s", rel, line, out);
	CHECK(t != NULL);
	for (; t && ex && ex->key; ex++)
		if (!jeq(t, ex->key, ex->val)) {
			fprintf(stderr, "  in %s\n", rel);
			CHECK(0);
		}
	json_decref(t);
	free(out);
}

static void test_corpus(void)
{
	if (access(SV, R_OK) != 0) {
		printf("test_tls: corpus absent, capture checks skipped\n");
		return;
	}
	cfg_all(true);

	/* ja4-tls, tls/bug-7286-tls-metadata-0{1,2} */
	check_capture("ja4-tls/input.pcap", true, 1, 0,
		      (const struct expect[]){
			      {"ja4", "t12i1810s1_27d4652c4487_06a4338d0495"},
			      {"subject", "C=FR, ST=IDF, L=Paris, O=Stamus, CN=SELKS"},
			      {"issuerdn", "C=FR, ST=IDF, L=Paris, O=Stamus, CN=SELKS"},
			      {"serial", "00:97:E6:47:09:8E:EA:C9:B4"},
			      {"fingerprint",
			       "3a:0b:3b:23:15:2c:44:5c:27:ac:6a:0c:41:d6:fa:74:af:b4:09:5b"},
			      {"version", "TLS 1.2"},
			      {"notbefore", "2015-02-12T18:07:27"},
			      {"notafter", "2025-02-09T18:07:27"},
			      /* Wireshark 4.0's JA3 / JA3S */
			      {"ja3.hash", "308b0bd904abbef5e0034a1ff7a78920"},
			      {"ja3s.hash", "ccc514751b175866924439bdbb5bba34"},
			      {"ja3s.string", "771,49199,65281-11-35"},
			      {NULL, NULL}});
	/* bug-5713-01, bug-5713-02-ja4 */
	check_capture("bug-5713-01/TLSv1-Extracted-MaliciousC2.pcap", true, 1, 0,
		      (const struct expect[]){{"version", "TLSv1"},
					      {"ja4", "t10i070600_c50f5591e341_ce66f3b797c1"},
					      {"ja3.hash", "49ed2ef3f1321e5f044f1e71b0e6fdd5"},
					      {NULL, NULL}});
	/* tls/tls13-draft14, -18, -23 */
	check_capture("tls/tls13-draft14/tls13_draft14.pcap", true, 1, 0,
		      (const struct expect[]){
			      {"version", "TLS 1.3 draft-<16"},
			      {"ja3.hash", "65825469c473e48f3ee2571129256ab0"},
			      {"ja3.string",
			       "772,49195-49199-52393-52392-49196-49200-49162-49161-49171-"
			       "49172-51-57-47-53-10,0-23-65281-10-11-35-13172-16-5-65282-40-"
			       "13,23-24-25-256-257-258-259-260,0"},
			      {"sni", "tls13.crypto.mozilla.org"},
			      {NULL, NULL}});
	check_capture("tls/tls13-draft18/tls13_draft18.pcap", true, 1, 0,
		      (const struct expect[]){
			      {"version", "TLS 1.3 draft-18"},
			      {"ja3.hash", "23d254f72096d25c350e4a4a792f4948"},
			      {"ja3.string",
			       "771,4865-4866-4867-49195-49199-158-49196-49200-159-52393-52392-"
			       "52244-52243-49161-49187-49171-49191-51-103-49162-49188-49172-49192-"
			       "57-107-156-157-47-60-53-61-10,65281-23-35-13-11-40-45-43-10,29-23-"
			       "24,0"},
			      {"ja3s.hash", "b8a8031b301aef7618403061e9f33065"},
			      {NULL, NULL}});
	check_capture(
		"tls/tls13-draft23/tls13_draft23.pcap", true, 1, 0,
		(const struct expect[]){{"version", "TLS 1.3 draft-23"},
					{"ja3.hash", "0558cf38ebac58d332d7f39308fcd006"},
					{"ja3.string",
					 "771,4865-4866-4867-49195-49199-49196-49200-52393-52392-"
					 "49161-49187-49171-49191-49162-49188-49172-49192-156-157-"
					 "47-60-53-61-10,65281-23-35-13-11-51-45-43-10,29-23-24,0"},
					{"ja3s.hash", "eb1d94daa7e0344597e756a1fb6e7054"},
					{"ja3s.string", "771,4865,51-43"},
					{NULL, NULL}});
	/* tls-duplicate-hello: the first ClientHello's JA3 */
	check_capture(
		"tls-duplicate-hello/input.pcap", true, 1, 0,
		(const struct expect[]){{"ja3.string",
					 "771,4866-4867-4865-4868-49196-52393-49325-49162-49195-"
					 "49324-49161-49200-52392-49172-49199-49171-157-49309-53-"
					 "156-49308-47-159-52394-49311-57-158-49310-51,5-10-11-13-"
					 "22-23-35-51-43-65281-0-45,23,0"},
					{NULL, NULL}});
	/* bug-2646-01 */
	check_capture(
		"bug-2646-01/input.pcap", true, 1, 0,
		(const struct expect[]){
			{"fingerprint",
			 "cc:aa:48:48:66:46:0e:91:53:2c:9c:7c:23:2a:b1:74:4d:29:9d:33"},
			{"issuerdn", "C=US, O=DigiCert Inc, OU=www.digicert.com, CN=DigiCert SHA2 "
				     "High Assurance Server CA"},
			{"notafter", "2020-05-13T12:00:00"},
			{"notbefore", "2017-03-23T00:00:00"},
			{"serial", "08:3A:84:59:2F:77:F2:E7:95:1B:F8:87:CE:DE:C9:66"},
			{"sni", "raw.githubusercontent.com"},
			{"subject",
			 "C=US, ST=California, L=San Francisco, O=GitHub, Inc., CN=www.github.com"},
			{"version", "TLS 1.2"},
			{"ja3.hash", "316193effb467e51d0301cabd36b69e0"},
			{"ja3s.hash", "098e26e2609212ac1bfac552fbe04127"},
			{NULL, NULL}});
	check_capture("bug-2646-02/input.pcap", false, 1, 0,
		      (const struct expect[]){
			      {"sni", "raw.githubusercontent.com"},
			      {"serial", "08:3A:84:59:2F:77:F2:E7:95:1B:F8:87:CE:DE:C9:66"},
			      {NULL, NULL}});
	/* tls/tls-altname-zero (SSLv2-compatible ClientHello) */
	check_capture("tls/tls-altname-zero/input.pcap", true, 1, 0,
		      (const struct expect[]){
			      {"fingerprint",
			       "8d:97:4b:41:04:3f:55:37:d0:58:90:a4:13:3b:7b:85:c6:46:81:cb"},
			      {"issuerdn", "C=US, O=Let's Encrypt, CN=R3"},
			      {"notafter", "2023-03-01T06:47:30"},
			      {"notbefore", "2022-12-01T06:47:31"},
			      {"serial", "03:DE:23:89:7E:97:FB:86:8E:7C:C5:53:09:FE:AE:D0:AE:20"},
			      {"subject", "CN=xn--j1ahhq.xn--p1ai"},
			      {"version", "TLSv1"},
			      {"ja3s.hash", "e1691a31bfe345d2692da75636ddfb00"},
			      {NULL, NULL}});
	/* tls/tls-pre-1970 */
	check_capture(
		"tls/tls-pre-1970/input.pcap", true, 1, 0,
		(const struct expect[]){
			{"fingerprint",
			 "71:cd:fe:08:7f:3d:2a:18:32:69:38:fa:bd:64:7b:c6:cf:cc:44:8e"},
			{"issuerdn", "C=KR, ST=Kyunggido, L=Suwon, O=Samsung Electronics, OU=SW2 "
				     "SISC, CN=ROOT CA SISC FKP2_PLUS"},
			{"notafter", "2038-12-31T00:10:03"},
			{"notbefore", "1969-12-31T00:00:00"},
			{"serial", "32"},
			{"sni", "fkp.samsungcloudsolution.com"},
			{"subject", "OU=vd, CN=fkp.samsungcloudsolution.com"},
			{"version", "TLSv1"},
			{"ja3.hash", "f271b89dfd3fc1647182ed19a5c37285"},
			{"ja3s.hash", "6b96cf9c27b0223177b0e9f135fe4899"},
			{NULL, NULL}});
	/* sslv2-tls-upgrade-01 */
	check_capture(
		"sslv2-tls-upgrade-01/ssl-v2-s1.pcap", true, 1, 0,
		(const struct expect[]){
			{"subject", "C=US, ST=California, L=Sunnyvale, O=NetScreen Technologies, "
				    "Inc., OU=Security Team, CN=sigdb.secteam.netscreen.com, "
				    "Email=aturner@netscreen.com"},
			{"issuerdn", "C=US, ST=California, L=Sunnyvale, O=OneSecure, Inc., "
				     "OU=Fulfillment, CN=jumper.sv-staging.onesecure.com, "
				     "Email=fulfillment@onesecure.com"},
			{"serial", "55"},
			{"fingerprint",
			 "8c:90:bd:2a:b3:ae:e6:0b:d0:ea:b7:86:b0:1a:e4:b1:cc:57:ef:22"},
			{"version", "TLSv1"},
			{"notbefore", "2003-03-29T00:57:44"},
			{"notafter", "2008-03-27T00:57:44"},
			{"ja3s.hash", "9a2c6bfd476184689a786457f33ece3a"},
			{NULL, NULL}});
	/* tls/tls-eve-custom-fields: a client certificate */
	check_capture(
		"tls/tls-store-02/tls-client-auth.pcap", true, 1, 0,
		(const struct expect[]){
			{"subject", "C=HU, ST=Budapest, L=Budapest, O=TLSClientAuthSampleServer, "
				    "CN=SampleServer"},
			{"issuerdn", "C=HU, ST=Budapest, L=Budapest, O=TLSClientAuthSampleCA, "
				     "CN=SampleRoot"},
			{"serial", "00:C7:D4:28:8B:80:E0:1E:25"},
			{"fingerprint",
			 "06:39:f9:5d:fe:81:53:c4:9d:f0:ac:80:3e:2d:42:07:e8:96:de:09"},
			{"sni", "localhost"},
			{"version", "TLS 1.2"},
			{"notbefore", "2018-04-14T20:55:27"},
			{"notafter", "2018-05-14T20:55:27"},
			{"client.serial", "00:C7:D4:28:8B:80:E0:1E:27"},
			{"client.notbefore", "2018-04-14T20:55:27"},
			{"client.notafter", "2018-05-14T20:55:27"},
			{"ja3.hash", "2a26b1a62e40d25d4de3babc9d532f30"},
			{"ja3s.hash", "a9e3ed16ee3208291487c8d2aa2ad924"},
			{NULL, NULL}});
	{
		char *out = NULL;
		json_t *t;

		run_capture("tls/tls-store-02/tls-client-auth.pcap", &out, false, NULL);
		t = out_tls(out, 0);
		CHECK(t && json_is_string(json_array_get(jget(t, "subjectaltname"), 0)) &&
		      !strcmp(json_string_value(json_array_get(jget(t, "subjectaltname"), 0)),
			      "localhost"));
		CHECK(t && jhas(t, "certificate") && jhas(t, "chain") &&
		      jhas(t, "client.subject") && jhas(t, "client.issuerdn") &&
		      jhas(t, "client.fingerprint") && jhas(t, "client.chain") &&
		      jhas(t, "client.certificate"));
		json_decref(t);
		free(out);
	}
	/* ja4-cl-handshake and ja4-sv-handshake */
	{
		static const long long ciphers[] = {49196, 49200, 159,	 52393, 52392, 52394, 49195,
						    49199, 158,	  49188, 49192, 107,   49187, 49191,
						    103,   49162, 49172, 57,	49161, 49171, 51,
						    157,   156,	  61,	 60,	53,    47,    255};
		static const long long exts[] = {0, 11, 10, 35, 22, 23, 13};
		static const long long sig[] = {1027, 1283, 1539, 2055, 2056, 2057, 2058, 2059,
						2052, 2053, 2054, 1025, 1281, 1537, 771,  515,
						769,  513,  770,  514,	1026, 1282, 1538};
		static const long long sexts[] = {65281, 11, 35, 23};
		char *out = NULL;
		json_t *t;

		run_capture("ja4-cl-handshake/input.pcap", &out, true, NULL);
		t = out_tls(out, 0);
		CHECK(t && jeq(t, "client_handshake.version", "TLS 1.2"));
		CHECK(t && jints(t, "client_handshake.ciphers", ciphers, 28));
		CHECK(t && jints(t, "client_handshake.exts", exts, 7));
		CHECK(t && jints(t, "client_handshake.sig_algs", sig, 23));
		CHECK(t && jeq(t, "server_handshake.version", "TLS 1.2"));
		CHECK(t && json_integer_value(jget(t, "server_handshake.cipher")) == 49200);
		CHECK(t && jints(t, "server_handshake.exts", sexts, 4));
		CHECK(t && jeq(t, "ja3.hash", "871a754af286dfb70c1b53c6887c62e0"));
		CHECK(t && jeq(t, "ja3s.hash", "ec74a5c51106f0419184d0dd08fb05bc"));
		json_decref(t);
		free(out);
	}
	/* community-id-ipv4: TLS 1.3 */
	check_capture("community-id-ipv4/input.pcap", true, 1, 0,
		      (const struct expect[]){{"sni", "ipv4.google.com"},
					      {"version", "TLS 1.3"},
					      {"ja3.hash", "e690df036922288311144cc96acf6515"},
					      {"ja3s.hash", "907bf3ecef1c987c889946b737b43de8"},
					      {NULL, NULL}});
	/* tls-alpn-log-detect-02 */
	{
		char *out = NULL;
		json_t *t, *a;

		run_capture("tls-alpn-log-detect-02/input.pcap", &out, true, NULL);
		t = out_tls(out, 0);
		a = jget(t, "client_alpns");
		CHECK(json_array_size(a) == 2 &&
		      !strcmp(json_string_value(json_array_get(a, 0)) ?: "", "h2") &&
		      !strcmp(json_string_value(json_array_get(a, 1)) ?: "", "http/1.1"));
		a = jget(t, "server_alpns");
		CHECK(json_array_size(a) == 1 &&
		      !strcmp(json_string_value(json_array_get(a, 0)) ?: "", "http/1.1"));
		CHECK(t && jeq(t, "sni", "p130-contacts.icloud.com"));
		CHECK(t && jeq(t, "ja3.hash", "773906b0efdefa24a7f2b8eb6985bf37"));
		json_decref(t);
		free(out);
	}
	/* tls/tls-client-hello-frag-01: a ClientHello over several records */
	check_capture("tls/tls-client-hello-frag-01/dump_mtu300.pcap", false, 1, 0,
		      (const struct expect[]){{"sni", "www.google.com"},
					      {"ja3.hash", "a64c29923906f2a1be278be1da0714fa"},
					      {"ja3s.hash", "a27e76e64afe9199440ad714848966f8"},
					      {NULL, NULL}});
	/* tls/tls-cert-issuer: 4 sessions with a certificate, 1 resumed */
	{
		char *out = NULL;
		unsigned ev = 0;

		run_capture("tls/tls-cert-issuer/tls.pcap", &out, false, &ev);
		CHECK(out_count(out, "\"serial\":\"00:97:E6:47:09:8E:EA:C9:B4\"") == 4);
		CHECK(out_count(out,
				"\"issuerdn\":\"C=FR, ST=IDF, L=Paris, O=Stamus, CN=SELKS\"") == 4);
		CHECK(out_count(out, "\"session_resumed\":true") == 1);
		CHECK(out_count(out, "{\"event_type\":\"tls\"") == 5);
		CHECK(ev == 0);
		free(out);
	}
	/* tls/tls-subjectaltname: 28 sessions log subjectaltname */
	{
		char *out = NULL;

		run_capture("tls/tls-subjectaltname/input.pcap", &out, false, NULL);
		if (out_count(out, "\"subjectaltname\":[") != 28)
			fprintf(stderr, "tls-subjectaltname: %u tls, %u with SANs\n",
				out_count(out, "{\"event_type\":\"tls\""),
				out_count(out, "\"subjectaltname\":["));
		CHECK(out_count(out, "\"subjectaltname\":[") == 28);
		free(out);
	}
	/* tls/tls-subject-zero and tls-issuer-zero: names holding a NUL byte */
	{
		char *out = NULL;

		run_capture("tls/tls-subject-zero/input.pcap", &out, false, NULL);
		CHECK(strstr(out, "O=Microsoft Corporat\\u0000on, OU=Microsoft Corporation, "
				  "CN=go.microsoft.com") != NULL);
		free(out);
		run_capture("tls/tls-issuer-zero/input.pcap", &out, false, NULL);
		CHECK(strstr(out,
			     "C=US, O=Microsoft Corporation, CN=Microsoft RSA TL\\u0000 CA 01") !=
		      NULL);
		free(out);
		/* a certificate with an empty issuer still completes */
		run_capture("tls/tls-cert-noissuer/tls.pcap", &out, false, NULL);
		CHECK(strstr(out, "\"subject\":\"") && strstr(out, "localhost"));
		free(out);
	}
}

int main(int argc, char **argv)
{
	P = nj_app_parser_by_name("tls");
	if (argc == 2 && P) {
		/* unit_tls CAPTURE (absolute, or relative to the corpus tests): print the output */
		char *out = NULL;
		unsigned ev = 0;

		cfg_all(true);
		run_capture(argv[1], &out, false, &ev);
		printf("%s", out ? out : "");
		free(out);
		return 0;
	}
	CHECK(P != NULL);
	if (!P)
		return 1;
	CHECK(P == &nj_tls_parser);
	test_versions_grease();
	test_ja4_spec();
	test_x509();
	test_x509_cache();
	test_probe();
	test_tls12();
	test_tls13();
	test_resumption();
	test_grease();
	test_sslv2();
	test_fragmentation();
	test_anomalies();
	test_config();
	test_buffers();
	test_guard_page();
	test_corpus();
	printf("test_tls: %s (%d failures)\n", failures ? "FAIL" : "ok", failures);
	return failures ? 1 : 0;
}
