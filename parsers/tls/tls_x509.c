/* SPDX-License-Identifier: MIT */
/*
 * Certificates: decoded with OpenSSL's d2i_X509, printed the way Suricata
 * (x509-parser) prints them so that EVE values and detection buffers match:
 *  - names: RDNs joined by ", ", attributes of one multi-valued RDN by " + ",
 *    each "ABBREV=value" with x509-parser's abbreviations (CN, C, L, ST, O,
 *    OU, DC, Email), else oid-registry's short name, else "OID(1.2.3)";
 *    string values raw (BMP/Universal strings converted to UTF-8), other
 *    types or invalid UTF-8 as upper-case hex;
 *  - serial: the DER INTEGER content bytes as upper-case colon hex (leading
 *    zero kept, as x509-parser's raw_serial), read from the DER directly;
 *  - validity: seconds since 1970, negative before.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/provider.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "tls_priv.h"

/*
 * Start-up, read-only afterwards: a library context with only the "null"
 * provider, so that d2i_X509 does not decode the public key (OpenSSL 3 does it
 * through its decoder machinery: ~150 us of the ~175 us a certificate costs,
 * for a key that is never used here), and the digests fetched once.
 */
static OSSL_LIB_CTX *x509_ctx;
static OSSL_PROVIDER *x509_null;
static EVP_MD *md[3];

__attribute__((constructor)) static void tls_crypto_init(void)
{
	static const char *const names[3] = {"SHA1", "MD5", "SHA256"};

	x509_ctx = OSSL_LIB_CTX_new();
	if (x509_ctx)
		x509_null = OSSL_PROVIDER_load(x509_ctx, "null");
	for (int i = 0; i < 3; i++)
		md[i] = EVP_MD_fetch(NULL, names[i], NULL);
}

__attribute__((destructor)) static void tls_crypto_fini(void)
{
	for (int i = 0; i < 3; i++)
		EVP_MD_free(md[i]);
	if (x509_null)
		OSSL_PROVIDER_unload(x509_null);
	OSSL_LIB_CTX_free(x509_ctx);
}

const EVP_MD *nj_tls_md(int which)
{
	if (md[which])
		return md[which];
	return which == NJ_TLS_MD_SHA1	? EVP_sha1()
	       : which == NJ_TLS_MD_MD5 ? EVP_md5()
					: EVP_sha256();
}

const char *nj_tls_x509_err_event(enum nj_tls_x509_err e)
{
	switch (e) {
	case NJ_TLS_X509_INVALID_DER: return "CERTIFICATE_INVALID_DER";
	case NJ_TLS_X509_INVALID_LENGTH: return "CERTIFICATE_INVALID_LENGTH";
	case NJ_TLS_X509_INVALID_SUBJECT: return "CERTIFICATE_INVALID_SUBJECT";
	case NJ_TLS_X509_INVALID_ISSUER: return "CERTIFICATE_INVALID_ISSUER";
	case NJ_TLS_X509_INVALID_SERIAL: return "CERTIFICATE_INVALID_SERIAL";
	case NJ_TLS_X509_INVALID_VALIDITY: return "CERTIFICATE_INVALID_VALIDITY";
	default: return NULL;
	}
}

/* ------------------------------------------------------------------ DER */

/* One DER header at p[*off]; sets tag, content length; *off moves to the content. */
static int der_hdr(const uint8_t *p, uint32_t n, uint32_t *off, uint8_t *tag, uint32_t *len)
{
	uint32_t o = *off, l;

	if (o + 2 > n)
		return -1;
	*tag = p[o++];
	l = p[o++];
	if (l & 0x80) {
		unsigned k = l & 0x7f;

		if (k == 0 || k > 4 || o + k > n)
			return -1;
		l = 0;
		while (k--)
			l = l << 8 | p[o++];
	}
	if (l > n - o)
		return -1;
	*off = o;
	*len = l;
	return 0;
}

/* Total DER length of the outer element (header + content), 0 if not a valid header. */
static uint64_t der_total(const uint8_t *p, uint32_t n)
{
	uint32_t l;
	unsigned k, h = 2;

	if (n < 2)
		return 0;
	l = p[1];
	if (l & 0x80) {
		k = l & 0x7f;
		if (k == 0 || k > 4 || n < 2 + k)
			return 0;
		l = 0;
		for (unsigned i = 0; i < k; i++)
			l = l << 8 | p[2 + i];
		h += k;
	}
	return (uint64_t)h + l;
}

/* The serial number INTEGER's content bytes. */
static int der_serial(const uint8_t *p, uint32_t n, const uint8_t **s, uint32_t *slen)
{
	uint32_t off = 0, len, end;
	uint8_t tag;

	if (der_hdr(p, n, &off, &tag, &len) || tag != 0x30)
		return -1;
	if (der_hdr(p, n, &off, &tag, &len) || tag != 0x30) /* tbsCertificate */
		return -1;
	end = off + len;
	if (der_hdr(p, end, &off, &tag, &len))
		return -1;
	if (tag == 0xa0) { /* [0] version */
		off += len;
		if (der_hdr(p, end, &off, &tag, &len))
			return -1;
	}
	if (tag != 0x02 || len == 0)
		return -1;
	*s = p + off;
	*slen = len;
	return 0;
}

/* ------------------------------------------------------------------ strings */

struct sbuf {
	char *p;
	uint32_t len, cap;
	bool oom;
};

static void sb_put(struct sbuf *b, const void *d, uint32_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		uint32_t cap = b->cap ? b->cap : 128;
		char *q;

		while (cap < b->len + n + 1)
			cap *= 2;
		q = realloc(b->p, cap);
		if (!q) {
			b->oom = true;
			return;
		}
		b->p = q;
		b->cap = cap;
	}
	memcpy(b->p + b->len, d, n);
	b->len += n;
	b->p[b->len] = 0;
}

static void sb_str(struct sbuf *b, const char *s)
{
	sb_put(b, s, (uint32_t)strlen(s));
}

static void sb_hexupper(struct sbuf *b, const uint8_t *d, uint32_t n)
{
	static const char hx[] = "0123456789ABCDEF";
	char t[2];

	for (uint32_t i = 0; i < n; i++) {
		t[0] = hx[d[i] >> 4];
		t[1] = hx[d[i] & 15];
		sb_put(b, t, 2);
	}
}

static bool utf8_valid(const uint8_t *s, uint32_t n)
{
	uint32_t i = 0;

	while (i < n) {
		uint8_t c = s[i];
		uint32_t k, cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0) {
			k = 1;
			cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			k = 2;
			cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			k = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (i + k >= n) /* continuation bytes i+1 .. i+k must exist */
			return false;
		for (uint32_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + j] & 0x3f);
		}
		if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += k + 1;
	}
	return true;
}

static void sb_cp(struct sbuf *b, uint32_t cp)
{
	uint8_t t[4];
	uint32_t n;

	if (cp < 0x80) {
		t[0] = (uint8_t)cp;
		n = 1;
	} else if (cp < 0x800) {
		t[0] = (uint8_t)(0xc0 | cp >> 6);
		t[1] = (uint8_t)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		t[0] = (uint8_t)(0xe0 | cp >> 12);
		t[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		t[2] = (uint8_t)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		t[0] = (uint8_t)(0xf0 | cp >> 18);
		t[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
		t[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		t[3] = (uint8_t)(0x80 | (cp & 0x3f));
		n = 4;
	}
	sb_put(b, t, n);
}

/* BMPString (UTF-16BE with surrogates) to UTF-8; false if malformed. */
static bool bmp_ok(const uint8_t *d, uint32_t n)
{
	if (n & 1)
		return false;
	for (uint32_t i = 0; i < n; i += 2) {
		uint32_t u = (uint32_t)d[i] << 8 | d[i + 1];

		if (u >= 0xd800 && u <= 0xdbff) {
			uint32_t v;

			if (i + 4 > n)
				return false;
			v = (uint32_t)d[i + 2] << 8 | d[i + 3];
			if (v < 0xdc00 || v > 0xdfff)
				return false;
			i += 2;
		} else if (u >= 0xdc00 && u <= 0xdfff) {
			return false;
		}
	}
	return true;
}

static void sb_bmp(struct sbuf *b, const uint8_t *d, uint32_t n)
{
	for (uint32_t i = 0; i + 1 < n; i += 2) {
		uint32_t u = (uint32_t)d[i] << 8 | d[i + 1];

		if (u >= 0xd800 && u <= 0xdbff && i + 3 < n) {
			uint32_t v = (uint32_t)d[i + 2] << 8 | d[i + 3];

			u = 0x10000 + ((u - 0xd800) << 10) + (v - 0xdc00);
			i += 2;
		}
		sb_cp(b, u);
	}
}

static bool ucs4_ok(const uint8_t *d, uint32_t n)
{
	if (n & 3)
		return false;
	for (uint32_t i = 0; i < n; i += 4) {
		uint32_t u = (uint32_t)d[i] << 24 | (uint32_t)d[i + 1] << 16 |
			     (uint32_t)d[i + 2] << 8 | d[i + 3];

		if (u > 0x10ffff || (u >= 0xd800 && u <= 0xdfff))
			return false;
	}
	return true;
}

static void sb_ucs4(struct sbuf *b, const uint8_t *d, uint32_t n)
{
	for (uint32_t i = 0; i + 3 < n; i += 4)
		sb_cp(b, (uint32_t)d[i] << 24 | (uint32_t)d[i + 1] << 16 | (uint32_t)d[i + 2] << 8 |
				 d[i + 3]);
}

/* x509-parser's abbreviations first, then oid-registry's short names. */
static const char *attr_name(int nid)
{
	switch (nid) {
	case NID_commonName: return "CN";
	case NID_countryName: return "C";
	case NID_localityName: return "L";
	case NID_stateOrProvinceName: return "ST";
	case NID_organizationName: return "O";
	case NID_organizationalUnitName: return "OU";
	case NID_domainComponent: return "DC";
	case NID_pkcs9_emailAddress: return "Email";
	case NID_surname: return "surname";
	case NID_serialNumber: return "serialNumber";
	case NID_streetAddress: return "streetAddress";
	case NID_title: return "title";
	case NID_description: return "description";
	case NID_searchGuide: return "searchGuide";
	case NID_businessCategory: return "businessCategory";
	case NID_postalAddress: return "postalAddress";
	case NID_postalCode: return "postalCode";
	case NID_name: return "name";
	case NID_givenName: return "givenName";
	case NID_initials: return "initials";
	case NID_generationQualifier: return "generationQualifier";
	case NID_x500UniqueIdentifier: return "uniqueIdentifier";
	case NID_dnQualifier: return "dnQualifier";
	case NID_pkcs9_unstructuredName: return "unstructuredName";
	case NID_pkcs9_contentType: return "contentType";
	case NID_jurisdictionLocalityName: return "msJurisdictionLocality";
	case NID_jurisdictionStateOrProvinceName: return "msJurisdictionStateOrProvince";
	case NID_jurisdictionCountryName: return "msJurisdictionCountry";
	default: return NULL;
	}
}

static void name_value(struct sbuf *b, const ASN1_STRING *s)
{
	const uint8_t *d = ASN1_STRING_get0_data(s);
	uint32_t n = (uint32_t)ASN1_STRING_length(s);

	switch (ASN1_STRING_type(s)) {
	case V_ASN1_UTF8STRING:
	case V_ASN1_NUMERICSTRING:
	case V_ASN1_PRINTABLESTRING:
	case V_ASN1_T61STRING:
	case V_ASN1_VIDEOTEXSTRING:
	case V_ASN1_IA5STRING:
	case V_ASN1_GRAPHICSTRING:
	case V_ASN1_VISIBLESTRING:
	case V_ASN1_GENERALSTRING:
	case V_ASN1_OBJECT_DESCRIPTOR:
		if (utf8_valid(d, n)) {
			sb_put(b, d, n);
			return;
		}
		break;
	case V_ASN1_BMPSTRING:
		if (bmp_ok(d, n)) {
			sb_bmp(b, d, n);
			return;
		}
		break;
	case V_ASN1_UNIVERSALSTRING:
		if (ucs4_ok(d, n)) {
			sb_ucs4(b, d, n);
			return;
		}
		break;
	default: break;
	}
	sb_hexupper(b, d, n);
}

static void name_format(struct sbuf *b, const X509_NAME *nm)
{
	int cnt = X509_NAME_entry_count(nm), prev = -1;

	for (int i = 0; i < cnt; i++) {
		const X509_NAME_ENTRY *e = X509_NAME_get_entry(nm, i);
		const ASN1_OBJECT *o = X509_NAME_ENTRY_get_object(e);
		int set = X509_NAME_ENTRY_set(e);
		const char *a = attr_name(OBJ_obj2nid(o));

		if (i)
			sb_str(b, set == prev ? " + " : ", ");
		prev = set;
		if (a) {
			sb_str(b, a);
		} else {
			char oid[128];
			int k = OBJ_obj2txt(oid, sizeof(oid), o, 1);

			sb_str(b, "OID(");
			if (k > 0)
				sb_put(b, oid,
				       (uint32_t)(k < (int)sizeof(oid) ? k : (int)sizeof(oid) - 1));
			sb_str(b, ")");
		}
		sb_str(b, "=");
		name_value(b, X509_NAME_ENTRY_get_data(e));
	}
}

/* Copies a built string into the caller's allocator (NUL-terminated). */
static char *dup_out(nj_tls_alloc_fn alloc, void *arg, const char *s, uint32_t n)
{
	char *p = alloc(arg, (size_t)n + 1);

	if (!p)
		return NULL;
	if (n)
		memcpy(p, s, n);
	p[n] = 0;
	return p;
}

/* ------------------------------------------------------------------ time */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static int asn1_time_epoch(const ASN1_TIME *t, int64_t *out)
{
	struct tm tm;

	if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
		return -1;
	*out = days_from_civil((int64_t)tm.tm_year + 1900, (unsigned)tm.tm_mon + 1,
			       (unsigned)tm.tm_mday) *
		       86400 +
	       (int64_t)tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
	return 0;
}

void nj_tls_format_time(int64_t t, char out[32])
{
	int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
	int64_t secs = t - days * 86400;
	int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t y = (int64_t)yoe + era * 400;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	unsigned d = doy - (153 * mp + 2) / 5 + 1;
	unsigned m = mp < 10 ? mp + 3 : mp - 9;

	char tmp[80];

	y += m <= 2;
	snprintf(tmp, sizeof(tmp), "%04lld-%02u-%02uT%02u:%02u:%02u", (long long)y, m % 100u,
		 d % 100u, (unsigned)(secs / 3600) % 100u, (unsigned)(secs / 60 % 60),
		 (unsigned)(secs % 60));
	tmp[31] = 0; /* years beyond 9999 are not in certificates */
	memcpy(out, tmp, 32);
}

/* ------------------------------------------------------------------ SANs */

static void sans_decode(X509 *x, struct nj_tls_cert *out, nj_tls_alloc_fn alloc, void *arg,
			unsigned max_sans)
{
	GENERAL_NAMES *gn = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	int n;
	unsigned k = 0;

	if (!gn)
		return;
	n = sk_GENERAL_NAME_num(gn);
	if (n > 0 && max_sans) {
		unsigned cap = (unsigned)n < max_sans ? (unsigned)n : max_sans;

		out->sans = alloc(arg, cap * sizeof(char *));
		out->san_len = alloc(arg, cap * sizeof(uint32_t));
		for (int i = 0; i < n && out->sans && out->san_len && k < cap; i++) {
			const GENERAL_NAME *g = sk_GENERAL_NAME_value(gn, i);
			const ASN1_STRING *s = NULL;
			char ip[48];
			const char *txt = NULL;
			uint32_t tl = 0;

			switch (g->type) {
			case GEN_DNS: s = g->d.dNSName; break;
			case GEN_EMAIL: s = g->d.rfc822Name; break;
			case GEN_URI: s = g->d.uniformResourceIdentifier; break;
			case GEN_IPADD:
				if (g->d.iPAddress->length == 4 || g->d.iPAddress->length == 16) {
					inet_ntop(g->d.iPAddress->length == 4 ? AF_INET : AF_INET6,
						  g->d.iPAddress->data, ip, sizeof(ip));
					txt = ip;
					tl = (uint32_t)strlen(ip);
				}
				break;
			default: break;
			}
			if (s) {
				txt = (const char *)ASN1_STRING_get0_data(s);
				tl = (uint32_t)ASN1_STRING_length(s);
			}
			if (!txt)
				continue;
			out->sans[k] = dup_out(alloc, arg, txt, tl);
			if (!out->sans[k])
				break;
			out->san_len[k++] = tl;
		}
	}
	out->nsans = (uint16_t)k;
	GENERAL_NAMES_free(gn);
}

/* ------------------------------------------------------------------ decode */

enum nj_tls_x509_err nj_tls_x509_decode(const uint8_t *der, uint32_t len, struct nj_tls_cert *out,
					nj_tls_alloc_fn alloc, void *arg, unsigned max_sans)
{
	static const char hxl[] = "0123456789abcdef";
	const uint8_t *p = der, *serial;
	uint32_t slen;
	struct sbuf b = {0};
	enum nj_tls_x509_err err = NJ_TLS_X509_OK;
	uint8_t dg[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	X509 *x;

	memset(out, 0, sizeof(*out));
	if (der_total(der, len) > len)
		return NJ_TLS_X509_INVALID_LENGTH;
	x = x509_ctx ? X509_new_ex(x509_ctx, NULL) : NULL;
	if (!d2i_X509(x509_ctx ? &x : NULL, &p, len)) {
		X509_free(x);
		ERR_clear_error();
		return NJ_TLS_X509_INVALID_DER;
	}
	if (!x509_ctx)
		return NJ_TLS_X509_INVALID_DER;

	name_format(&b, X509_get_subject_name(x));
	if (b.oom) {
		err = NJ_TLS_X509_INVALID_SUBJECT;
		goto out;
	}
	out->subject = dup_out(alloc, arg, b.p ? b.p : "", b.len);
	out->subject_len = b.len;
	b.len = 0;
	name_format(&b, X509_get_issuer_name(x));
	if (b.oom) {
		err = NJ_TLS_X509_INVALID_ISSUER;
		goto out;
	}
	out->issuer = dup_out(alloc, arg, b.p ? b.p : "", b.len);
	out->issuer_len = b.len;
	if (!out->subject || !out->issuer) {
		err = NJ_TLS_X509_NOMEM;
		goto out;
	}
	sans_decode(x, out, alloc, arg, max_sans);

	if (der_serial(der, len, &serial, &slen)) {
		err = NJ_TLS_X509_INVALID_SERIAL;
		goto out;
	}
	out->serial = alloc(arg, (size_t)slen * 3);
	if (!out->serial) {
		err = NJ_TLS_X509_NOMEM;
		goto out;
	}
	for (uint32_t i = 0; i < slen; i++) {
		static const char hxu[] = "0123456789ABCDEF";

		out->serial[i * 3] = hxu[serial[i] >> 4];
		out->serial[i * 3 + 1] = hxu[serial[i] & 15];
		out->serial[i * 3 + 2] = i + 1 < slen ? ':' : 0;
	}
	out->serial_len = slen * 3 - 1;

	if (asn1_time_epoch(X509_get0_notBefore(x), &out->not_before) ||
	    asn1_time_epoch(X509_get0_notAfter(x), &out->not_after)) {
		err = NJ_TLS_X509_INVALID_VALIDITY;
		goto out;
	}

	if (EVP_Digest(der, len, dg, &mdlen, nj_tls_md(NJ_TLS_MD_SHA1), NULL) == 1 && mdlen == 20) {
		for (unsigned i = 0; i < 20; i++) {
			out->fingerprint[i * 3] = hxl[dg[i] >> 4];
			out->fingerprint[i * 3 + 1] = hxl[dg[i] & 15];
			out->fingerprint[i * 3 + 2] = i + 1 < 20 ? ':' : 0;
		}
	}
	out->present = true;
out:
	free(b.p);
	X509_free(x);
	if (err != NJ_TLS_X509_OK) {
		/* nothing half-decoded is published */
		out->subject = out->issuer = out->serial = NULL;
		out->nsans = 0;
		out->present = false;
	}
	return err;
}
