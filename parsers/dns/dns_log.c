/* SPDX-License-Identifier: MIT */
/*
 * EVE "dns" events as Suricata 8 writes them (rust/src/dns/log.rs and
 * output-json-dns.c): version 3, one event per request and per response,
 * or version 2, one "query" event per question and one "answer" event per
 * response. Messages are stored as received and walked again here, so a
 * transaction costs its wire bytes, not its decoded (possibly expanded) names.
 *
 * Strings from the wire go out as Suricata does: valid UTF-8 as is, anything
 * else with bytes >= 0x80 written as the text \xNN.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dns.h"

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static const char hexd[16] = "0123456789abcdef";

/* ------------------------------------------------------------- strings */

static bool utf8_valid(const uint8_t *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint8_t c = s[i];
		size_t k;
		uint8_t lo = 0x80, hi = 0xbf;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			k = 1;
		} else if (c >= 0xe0 && c <= 0xef) {
			k = 2;
			if (c == 0xe0)
				lo = 0xa0;
			else if (c == 0xed)
				hi = 0x9f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			k = 3;
			if (c == 0xf0)
				lo = 0x90;
			else if (c == 0xf4)
				hi = 0x8f;
		} else {
			return false;
		}
		if (n - i - 1 < k)
			return false;
		if (s[i + 1] < lo || s[i + 1] > hi)
			return false;
		for (size_t m = 2; m <= k; m++)
			if ((s[i + m] & 0xc0) != 0x80)
				return false;
		i += k + 1;
	}
	return true;
}

/* Suricata's set_string_from_bytes. */
static void put_bytes(struct nj_json *j, const char *key, const uint8_t *s, size_t n)
{
	char stackbuf[2048], *out = stackbuf;
	size_t o = 0;

	if (utf8_valid(s, n)) {
		nj_json_strn(j, key, s, n);
		return;
	}
	if (n * 4 > sizeof(stackbuf)) {
		out = malloc(n * 4);
		if (!out) {
			nj_json_str(j, key, "");
			return;
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (s[i] < 0x80) {
			out[o++] = (char)s[i];
		} else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hexd[s[i] >> 4];
			out[o++] = hexd[s[i] & 15];
		}
	}
	nj_json_strn(j, key, out, o);
	if (out != stackbuf)
		free(out);
}

/* Suricata's dns_print_addr: dotted quad, eight 4-digit groups, or "" for other lengths. */
static void put_addr(struct nj_json *j, const char *key, const uint8_t *a, uint16_t len)
{
	char s[40];
	size_t o = 0;

	if (len == 4) {
		for (unsigned i = 0; i < 4; i++) {
			unsigned v = a[i];

			if (i)
				s[o++] = '.';
			if (v >= 100)
				s[o++] = (char)('0' + v / 100);
			if (v >= 10)
				s[o++] = (char)('0' + v / 10 % 10);
			s[o++] = (char)('0' + v % 10);
		}
	} else if (len == 16) {
		for (unsigned i = 0; i < 16; i++) {
			if (i && !(i & 1))
				s[o++] = ':';
			s[o++] = hexd[a[i] >> 4];
			s[o++] = hexd[a[i] & 15];
		}
	}
	nj_json_strn(j, key, s, o);
}

static void put_hex(struct nj_json *j, const char *key, const uint8_t *s, size_t n)
{
	char stackbuf[1024], *out = stackbuf;

	if (n == 0) {
		nj_json_str(j, key, "");
		return;
	}
	if (n * 2 > sizeof(stackbuf)) {
		out = malloc(n * 2);
		if (!out) {
			nj_json_str(j, key, "");
			return;
		}
	}
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hexd[s[i] >> 4];
		out[2 * i + 1] = hexd[s[i] & 15];
	}
	nj_json_strn(j, key, out, n * 2);
	if (out != stackbuf)
		free(out);
}

/* ------------------------------------------------- extended rdata text */

/* A bounded text buffer for rdata presentations; cut reports overflow. */
struct txt {
	char b[4096];
	size_t n;
	bool cut;
};

static void t_put(struct txt *t, const void *s, size_t n)
{
	if (n > sizeof(t->b) - t->n) {
		n = sizeof(t->b) - t->n;
		t->cut = true;
	}
	memcpy(t->b + t->n, s, n);
	t->n += n;
}

static void t_fmt(struct txt *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void t_fmt(struct txt *t, const char *fmt, ...)
{
	char s[64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(s, sizeof(s), fmt, ap);
	va_end(ap);
	if (n > 0)
		t_put(t, s, (size_t)n < sizeof(s) ? (size_t)n : sizeof(s) - 1);
}

static void t_hex(struct txt *t, const uint8_t *s, size_t n, bool upper)
{
	static const char hu[16] = "0123456789ABCDEF";
	const char *h = upper ? hu : hexd;

	for (size_t i = 0; i < n && !t->cut; i++) {
		char c[2] = {h[s[i] >> 4], h[s[i] & 15]};

		t_put(t, c, 2);
	}
}

static void t_b64(struct txt *t, const uint8_t *s, size_t n)
{
	static const char tb[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	for (size_t i = 0; i < n && !t->cut; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16;
		char c[4];

		if (i + 1 < n)
			v |= (uint32_t)s[i + 1] << 8;
		if (i + 2 < n)
			v |= s[i + 2];
		c[0] = tb[v >> 18];
		c[1] = tb[(v >> 12) & 63];
		c[2] = i + 1 < n ? tb[(v >> 6) & 63] : '=';
		c[3] = i + 2 < n ? tb[v & 63] : '=';
		t_put(t, c, 4);
	}
}

static void t_type(struct txt *t, uint16_t type)
{
	const char *s = nj_dns_type_name(type);

	if (s)
		t_put(t, s, strlen(s));
	else
		t_fmt(t, "TYPE%u", type);
}

/* A name inside rdata; root as ".". -1 if it does not decode. */
static int t_name(struct txt *t, const uint8_t *msg, uint32_t len, uint32_t off, uint32_t end,
		  uint32_t *next)
{
	struct nj_dns_name n;

	if (nj_dns_name_decode(msg, len, off, end, &n, next) < 0)
		return -1;
	if (n.len)
		t_put(t, n.data, n.len);
	else
		t_put(t, ".", 1);
	return 0;
}

static void t_time(struct txt *t, uint32_t v)
{
	time_t tt = (time_t)v;
	struct tm tm;
	char s[32];

	gmtime_r(&tt, &tm);
	strftime(s, sizeof(s), "%Y%m%d%H%M%S", &tm);
	t_put(t, s, strlen(s));
}

/* NSEC type bitmaps: window, length, bits. */
static int t_bitmaps(struct txt *t, const uint8_t *p, uint32_t n)
{
	uint32_t i = 0;

	while (i < n) {
		unsigned win, bl;

		if (n - i < 2)
			return -1;
		win = p[i];
		bl = p[i + 1];
		if (bl == 0 || bl > 32 || n - i - 2 < bl)
			return -1;
		for (unsigned b = 0; b < bl * 8; b++)
			if (p[i + 2 + b / 8] & (0x80 >> (b % 8))) {
				t_put(t, " ", 1);
				t_type(t, (uint16_t)(win * 256 + b));
			}
		i += 2 + bl;
	}
	return 0;
}

/* SVCB/HTTPS SvcParams in presentation form. */
static int t_svcparams(struct txt *t, const uint8_t *p, uint32_t n)
{
	static const char *const keys[] = {"mandatory", "alpn", "no-default-alpn", "port",
					   "ipv4hint",	"ech",	"ipv6hint"};
	uint32_t i = 0;

	while (i < n) {
		uint16_t key, vl;
		const uint8_t *v;

		if (n - i < 4)
			return -1;
		key = rd16(p + i);
		vl = rd16(p + i + 2);
		if (vl > n - i - 4)
			return -1;
		v = p + i + 4;
		t_put(t, " ", 1);
		if (key < sizeof(keys) / sizeof(keys[0]))
			t_put(t, keys[key], strlen(keys[key]));
		else
			t_fmt(t, "key%u", key);
		switch (key) {
		case 0: /* mandatory: keys */
			if (vl % 2)
				return -1;
			for (unsigned k = 0; k < vl; k += 2) {
				uint16_t m = rd16(v + k);

				t_put(t, k ? "," : "=", 1);
				if (m < sizeof(keys) / sizeof(keys[0]))
					t_put(t, keys[m], strlen(keys[m]));
				else
					t_fmt(t, "key%u", m);
			}
			break;
		case 1: /* alpn: length-prefixed ids */
			for (unsigned k = 0; k < vl;) {
				if (v[k] + 1u > vl - k)
					return -1;
				t_put(t, k ? "," : "=", 1);
				t_put(t, v + k + 1, v[k]);
				k += 1u + v[k];
			}
			break;
		case 2:
			if (vl)
				return -1;
			break;
		case 3:
			if (vl != 2)
				return -1;
			t_fmt(t, "=%u", rd16(v));
			break;
		case 4:
			if (vl % 4)
				return -1;
			for (unsigned k = 0; k < vl; k += 4)
				t_fmt(t, "%s%u.%u.%u.%u", k ? "," : "=", v[k], v[k + 1], v[k + 2],
				      v[k + 3]);
			break;
		case 5:
			t_put(t, "=", 1);
			t_b64(t, v, vl);
			break;
		case 6:
			if (vl % 16)
				return -1;
			for (unsigned k = 0; k < vl; k += 16) {
				t_put(t, k ? "," : "=", 1);
				for (unsigned g = 0; g < 16; g += 2)
					t_fmt(t, "%s%x", g ? ":" : "", rd16(v + k + g));
			}
			break;
		default:
			if (vl) {
				t_put(t, "=", 1);
				t_hex(t, v, vl, false);
			}
		}
		i += 4u + vl;
	}
	return 0;
}

/*
 * Presentation text (dig-like, names without the trailing dot) of types
 * Suricata logs without rdata; hex of the rdata for everything else.
 */
static void put_rdata_extended(struct nj_json *j, const uint8_t *msg, uint32_t len,
			       const struct nj_dns_rr *rr)
{
	const uint8_t *p = msg + rr->rdata_off;
	uint32_t n = rr->rdata_len, end = rr->rdata_off + rr->rdata_len, q;
	struct txt t;
	int ok = -1;

	t.n = 0;
	t.cut = false;
	switch (rr->type) {
	case NJ_DNS_T_DS:
	case 59: /* CDS */
		if (n >= 4) {
			t_fmt(&t, "%u %u %u ", rd16(p), p[2], p[3]);
			t_hex(&t, p + 4, n - 4, true);
			ok = 0;
		}
		break;
	case NJ_DNS_T_DNSKEY:
	case 60: /* CDNSKEY */
		if (n >= 4) {
			t_fmt(&t, "%u %u %u ", rd16(p), p[2], p[3]);
			t_b64(&t, p + 4, n - 4);
			ok = 0;
		}
		break;
	case NJ_DNS_T_RRSIG:
		if (n >= 18) {
			t_type(&t, rd16(p));
			t_fmt(&t, " %u %u %u ", p[2], p[3], rd32(p + 4));
			t_time(&t, rd32(p + 8));
			t_put(&t, " ", 1);
			t_time(&t, rd32(p + 12));
			t_fmt(&t, " %u ", rd16(p + 16));
			if (t_name(&t, msg, len, rr->rdata_off + 18, end, &q) == 0 && q <= end) {
				t_put(&t, " ", 1);
				t_b64(&t, msg + q, end - q);
				ok = 0;
			}
		}
		break;
	case NJ_DNS_T_NSEC:
		if (t_name(&t, msg, len, rr->rdata_off, end, &q) == 0 && q <= end)
			ok = t_bitmaps(&t, msg + q, end - q);
		break;
	case NJ_DNS_T_SVCB:
	case NJ_DNS_T_HTTPS:
		if (n >= 3) {
			t_fmt(&t, "%u ", rd16(p));
			if (t_name(&t, msg, len, rr->rdata_off + 2, end, &q) == 0 && q <= end)
				ok = t_svcparams(&t, msg + q, end - q);
		}
		break;
	case NJ_DNS_T_CAA:
		if (n >= 2 && p[1] && p[1] <= n - 2) {
			t_fmt(&t, "%u ", p[0]);
			t_put(&t, p + 2, p[1]);
			t_put(&t, " \"", 2);
			t_put(&t, p + 2 + p[1], n - 2 - p[1]);
			t_put(&t, "\"", 1);
			ok = 0;
		}
		break;
	}
	if (ok < 0) {
		t.n = 0;
		t.cut = false;
		t_hex(&t, p, n, false);
	}
	put_bytes(j, "rdata", (const uint8_t *)t.b, t.n);
	if (t.cut)
		nj_json_bool(j, "rdata_truncated", true);
}

/* ------------------------------------------------------------- records */

static void put_name_field(struct nj_json *j, const char *key, const char *tkey, const uint8_t *msg,
			   uint32_t len, uint32_t off, uint32_t end)
{
	struct nj_dns_name n;
	uint32_t next;

	if (nj_dns_name_decode(msg, len, off, end, &n, &next) < 0)
		n.len = n.flags = 0;
	put_bytes(j, key, n.data, n.len);
	if (tkey && (n.flags & NJ_DNS_NAME_TRUNCATED))
		nj_json_bool(j, tkey, true);
}

/* The n-th TXT string of rdata (false when there is none). */
static bool txt_string(const uint8_t *msg, const struct nj_dns_rr *rr, unsigned idx,
		       const uint8_t **s, uint8_t *len)
{
	uint32_t p = rr->rdata_off, end = rr->rdata_off + rr->rdata_len;

	while (p < end) {
		if (msg[p] + 1u > end - p)
			return false;
		if (idx-- == 0) {
			*s = msg + p + 1;
			*len = msg[p];
			return true;
		}
		p += 1u + msg[p];
	}
	return false;
}

static void put_soa(struct nj_json *j, const char *key, const uint8_t *msg, uint32_t len,
		    const struct nj_dns_rr *rr)
{
	struct nj_dns_name n;
	uint32_t p = rr->rdata_off, end = p + rr->rdata_len;

	nj_json_open_obj(j, key);
	for (int k = 0; k < 2; k++) {
		if (nj_dns_name_decode(msg, len, p, end, &n, &p) < 0)
			goto out;
		put_bytes(j, k ? "rname" : "mname", n.data, n.len);
		if (n.flags & NJ_DNS_NAME_TRUNCATED)
			nj_json_bool(j, k ? "rname_truncated" : "mname_truncated", true);
	}
	if (end - p >= 20) {
		nj_json_u64(j, "serial", rd32(msg + p));
		nj_json_u64(j, "refresh", rd32(msg + p + 4));
		nj_json_u64(j, "retry", rd32(msg + p + 8));
		nj_json_u64(j, "expire", rd32(msg + p + 12));
		nj_json_u64(j, "minimum", rd32(msg + p + 16));
	}
out:
	nj_json_close_obj(j);
}

static void put_sshfp(struct nj_json *j, const char *key, const uint8_t *msg,
		      const struct nj_dns_rr *rr)
{
	const uint8_t *p = msg + rr->rdata_off;
	uint32_t n = rr->rdata_len;
	char stackbuf[768], *s = stackbuf;
	size_t o = 0;

	nj_json_open_obj(j, key);
	if (n >= 2) {
		if ((n - 2) * 3 > sizeof(stackbuf))
			s = malloc((n - 2) * 3);
		if (s) {
			for (uint32_t i = 2; i < n; i++) {
				if (i > 2)
					s[o++] = ':';
				s[o++] = hexd[p[i] >> 4];
				s[o++] = hexd[p[i] & 15];
			}
			nj_json_strn(j, "fingerprint", s, o);
			if (s != stackbuf)
				free(s);
		}
		nj_json_u64(j, "algo", p[0]);
		nj_json_u64(j, "type", p[1]);
	}
	nj_json_close_obj(j);
}

static void put_srv(struct nj_json *j, const char *key, const uint8_t *msg, uint32_t len,
		    const struct nj_dns_rr *rr)
{
	const uint8_t *p = msg + rr->rdata_off;

	nj_json_open_obj(j, key);
	if (rr->rdata_len >= 6) {
		nj_json_u64(j, "priority", rd16(p));
		nj_json_u64(j, "weight", rd16(p + 2));
		nj_json_u64(j, "port", rd16(p + 4));
		put_name_field(j, "name", NULL, msg, len, rr->rdata_off + 6,
			       rr->rdata_off + rr->rdata_len);
	}
	nj_json_close_obj(j);
}

/* Number of OPT options (Suricata skips an additional OPT record without any). */
static unsigned opt_count(const uint8_t *msg, const struct nj_dns_rr *rr)
{
	uint32_t p = rr->rdata_off, end = p + rr->rdata_len;
	unsigned k = 0;

	while (end - p >= 4 && rd16(msg + p + 2) <= end - p - 4) {
		p += 4u + rd16(msg + p + 2);
		k++;
	}
	return k;
}

static unsigned txt_count(const uint8_t *msg, const struct nj_dns_rr *rr)
{
	const uint8_t *s;
	uint8_t l;
	unsigned k = 0;

	while (txt_string(msg, rr, k, &s, &l))
		k++;
	return k;
}

/* One record of answers/authorities/additionals (idx: which TXT string). */
static void put_rr_detail(struct nj_json *j, const struct nj_dns_config *cfg, const uint8_t *msg,
			  uint32_t len, const struct nj_dns_name *owner, const struct nj_dns_rr *rr,
			  unsigned idx)
{
	uint32_t off = rr->rdata_off, end = rr->rdata_off + rr->rdata_len;
	char tb[8];

	nj_json_open_obj(j, NULL);
	put_bytes(j, "rrname", owner->data, owner->len);
	if (owner->flags & NJ_DNS_NAME_TRUNCATED)
		nj_json_bool(j, "rrname_truncated", true);
	nj_json_str(j, "rrtype", nj_dns_type_str(rr->type, tb));
	nj_json_u64(j, "ttl", rr->ttl);
	switch (rr->type) {
	case NJ_DNS_T_A:
	case NJ_DNS_T_AAAA: put_addr(j, "rdata", msg + off, rr->rdata_len); break;
	case NJ_DNS_T_CNAME:
	case NJ_DNS_T_NS:
	case NJ_DNS_T_PTR: put_name_field(j, "rdata", "rdata_truncated", msg, len, off, end); break;
	case NJ_DNS_T_MX:
		put_name_field(j, "rdata", "rdata_truncated", msg, len, off + 2, end);
		break;
	case NJ_DNS_T_TXT: {
		const uint8_t *s;
		uint8_t l;

		if (txt_string(msg, rr, idx, &s, &l))
			put_bytes(j, "rdata", s, l);
		break;
	}
	case NJ_DNS_T_NULL: put_bytes(j, "rdata", msg + off, rr->rdata_len); break;
	case NJ_DNS_T_SOA: put_soa(j, "soa", msg, len, rr); break;
	case NJ_DNS_T_SSHFP: put_sshfp(j, "sshfp", msg, rr); break;
	case NJ_DNS_T_SRV: put_srv(j, "srv", msg, len, rr); break;
	case NJ_DNS_T_OPT: {
		uint32_t p = off;

		nj_json_open_arr(j, "opt");
		while (end - p >= 4 && rd16(msg + p + 2) <= end - p - 4) {
			uint16_t ol = rd16(msg + p + 2);

			nj_json_open_obj(j, NULL);
			nj_json_u64(j, "code", rd16(msg + p));
			put_hex(j, "data", msg + p + 4, ol);
			nj_json_close_obj(j);
			p += 4u + ol;
		}
		nj_json_close_arr(j);
		break;
	}
	default:
		if (cfg->rdata_extended)
			put_rdata_extended(j, msg, len, rr);
	}
	nj_json_close_obj(j);
}

/* Iterates count records of a section. */
struct rr_iter {
	const struct nj_dns_msg *m;
	uint32_t pos;
	unsigned left;
	struct nj_dns_name name;
	struct nj_dns_rr rr;
};

static void it_init(struct rr_iter *it, const struct nj_dns_msg *m, int sec)
{
	it->m = m;
	it->pos = m->info.off[sec];
	it->left = m->info.count[sec];
}

static bool it_next(struct rr_iter *it)
{
	if (!it->left)
		return false;
	it->left--;
	return nj_dns_rr_read(it->m->data, it->m->len, &it->pos, &it->name, &it->rr) == 0 ||
	       (it->left = 0);
}

/* The same without the owner name (grouped values do not need it). */
static bool it_next_rr(struct rr_iter *it)
{
	if (!it->left)
		return false;
	it->left--;
	return nj_dns_rr_next(it->m->data, it->m->len, &it->pos, &it->rr) == 0 || (it->left = 0);
}

/* Records of a section, one object each (TXT: one per string); OPT without options skipped. */
static void put_section(struct nj_json *j, const struct nj_dns_config *cfg,
			const struct nj_dns_msg *m, int sec, const char *key)
{
	struct rr_iter it;
	bool open = false;

	it_init(&it, m, sec);
	while (it_next(&it)) {
		unsigned nt = 1;

		if (sec == NJ_DNS_SEC_AR && it.rr.type == NJ_DNS_T_OPT &&
		    !opt_count(m->data, &it.rr))
			continue;
		if (!open) {
			nj_json_open_arr(j, key);
			open = true;
		}
		if (it.rr.type == NJ_DNS_T_TXT)
			nt = txt_count(m->data, &it.rr);
		for (unsigned i = 0; i < nt; i++)
			put_rr_detail(j, cfg, m->data, m->len, &it.name, &it.rr, i);
	}
	if (open)
		nj_json_close_arr(j);
}

static bool groupable(uint16_t t)
{
	switch (t) {
	case NJ_DNS_T_A:
	case NJ_DNS_T_AAAA:
	case NJ_DNS_T_CNAME:
	case NJ_DNS_T_MX:
	case NJ_DNS_T_NS:
	case NJ_DNS_T_PTR:
	case NJ_DNS_T_TXT:
	case NJ_DNS_T_NULL:
	case NJ_DNS_T_SOA:
	case NJ_DNS_T_SSHFP:
	case NJ_DNS_T_SRV: return true;
	}
	return false;
}

/* "grouped":{TYPE:[values...]}, types in order of first appearance. */
static void put_grouped(struct nj_json *j, const struct nj_dns_msg *m)
{
	uint16_t types[16];
	unsigned nt = 0;
	struct rr_iter it;

	it_init(&it, m, NJ_DNS_SEC_AN);
	while (it_next_rr(&it)) {
		unsigned k;

		if (!groupable(it.rr.type))
			continue;
		for (k = 0; k < nt && types[k] != it.rr.type; k++)
			;
		if (k == nt && nt < sizeof(types) / sizeof(types[0]))
			types[nt++] = it.rr.type;
	}
	nj_json_open_obj(j, "grouped");
	for (unsigned k = 0; k < nt; k++) {
		char tb[8];

		nj_json_open_arr(j, nj_dns_type_str(types[k], tb));
		it_init(&it, m, NJ_DNS_SEC_AN);
		while (it_next_rr(&it)) {
			const uint8_t *d = m->data;
			uint32_t off = it.rr.rdata_off, end = off + it.rr.rdata_len;

			if (it.rr.type != types[k])
				continue;
			switch (it.rr.type) {
			case NJ_DNS_T_A:
			case NJ_DNS_T_AAAA: put_addr(j, NULL, d + off, it.rr.rdata_len); break;
			case NJ_DNS_T_CNAME:
			case NJ_DNS_T_NS:
			case NJ_DNS_T_PTR:
				put_name_field(j, NULL, NULL, d, m->len, off, end);
				break;
			case NJ_DNS_T_MX:
				put_name_field(j, NULL, NULL, d, m->len, off + 2, end);
				break;
			case NJ_DNS_T_TXT: {
				const uint8_t *s;
				uint8_t l;

				for (unsigned i = 0; txt_string(d, &it.rr, i, &s, &l); i++)
					put_bytes(j, NULL, s, l);
				break;
			}
			case NJ_DNS_T_NULL: put_bytes(j, NULL, d + off, it.rr.rdata_len); break;
			case NJ_DNS_T_SOA: put_soa(j, NULL, d, m->len, &it.rr); break;
			case NJ_DNS_T_SSHFP: put_sshfp(j, NULL, d, &it.rr); break;
			case NJ_DNS_T_SRV: put_srv(j, NULL, d, m->len, &it.rr); break;
			}
		}
		nj_json_close_arr(j);
	}
	nj_json_close_obj(j);
}

static void put_answers(struct nj_json *j, const struct nj_dns_config *cfg,
			const struct nj_dns_msg *m)
{
	if (!m->info.count[NJ_DNS_SEC_AN])
		return;
	if (cfg->detailed) {
		struct rr_iter it;

		nj_json_open_arr(j, "answers");
		it_init(&it, m, NJ_DNS_SEC_AN);
		while (it_next(&it)) {
			unsigned nt = it.rr.type == NJ_DNS_T_TXT ? txt_count(m->data, &it.rr) : 1;

			for (unsigned i = 0; i < nt; i++)
				put_rr_detail(j, cfg, m->data, m->len, &it.name, &it.rr, i);
		}
		nj_json_close_arr(j);
	}
	if (cfg->grouped)
		put_grouped(j, m);
}

/* Header fields shared by v3 events and v2 answers: flags text and the set bits. */
static void put_flags(struct nj_json *j, uint16_t fl)
{
	char s[4];
	size_t o = 0;

	/* "%x": no leading zeros */
	for (int sh = 12; sh >= 0; sh -= 4)
		if (o || (fl >> sh) & 15 || sh == 0)
			s[o++] = hexd[(fl >> sh) & 15];
	nj_json_strn(j, "flags", s, o);
	if (fl & 0x8000)
		nj_json_bool(j, "qr", true);
	if (fl & 0x0400)
		nj_json_bool(j, "aa", true);
	if (fl & 0x0200)
		nj_json_bool(j, "tc", true);
	if (fl & 0x0100)
		nj_json_bool(j, "rd", true);
	if (fl & 0x0080)
		nj_json_bool(j, "ra", true);
	if (fl & 0x0040)
		nj_json_bool(j, "z", true);
	nj_json_u64(j, "opcode", (fl >> 11) & 0xf);
}

static void put_rcode(struct nj_json *j, uint16_t fl)
{
	const char *s = nj_dns_rcode_name(fl & 0xf);
	char b[4];

	if (!s) {
		snprintf(b, sizeof(b), "%u", fl & 0xf);
		s = b;
	}
	nj_json_str(j, "rcode", s);
}

/* Is any question's type logged? (Suricata logs nothing for a message without one.) */
static bool msg_enabled(const struct nj_dns_config *cfg, const struct nj_dns_msg *m)
{
	struct nj_dns_name n;
	uint32_t pos = m->info.off[NJ_DNS_SEC_QD];
	uint16_t t, c;

	if (cfg->all_types)
		return m->info.count[NJ_DNS_SEC_QD] > 0;
	for (unsigned i = 0; i < m->info.count[NJ_DNS_SEC_QD]; i++) {
		if (nj_dns_question_read(m->data, m->len, &pos, &n, &t, &c) < 0)
			return false;
		if (nj_dns_type_enabled(cfg, t))
			return true;
	}
	return false;
}

/* Version 3: one event for the message. */
/* The version 3 "dns" object of message m (key NULL: a bare value). */
static void put_v3(struct nj_json *j, const struct nj_dns_config *cfg, const struct nj_dns_msg *m,
		   bool is_req, const char *key)
{
	uint32_t pos;

	nj_json_open_obj(j, key);
	nj_json_i64(j, "version", 3);
	nj_json_str(j, "type", is_req ? "request" : "response");
	nj_json_u64(j, "tx_id", m->seq);
	nj_json_u64(j, "id", m->info.hdr.id);
	put_flags(j, m->info.hdr.flags);
	put_rcode(j, m->info.hdr.flags);
	pos = m->info.off[NJ_DNS_SEC_QD];
	if (m->info.count[NJ_DNS_SEC_QD]) {
		nj_json_open_arr(j, "queries");
		for (unsigned i = 0; i < m->info.count[NJ_DNS_SEC_QD]; i++) {
			struct nj_dns_name n;
			uint16_t t, c;
			char tb[8];

			if (nj_dns_question_read(m->data, m->len, &pos, &n, &t, &c) < 0)
				break;
			if (!nj_dns_type_enabled(cfg, t))
				continue;
			nj_json_open_obj(j, NULL);
			put_bytes(j, "rrname", n.data, n.len);
			nj_json_str(j, "rrtype", nj_dns_type_str(t, tb));
			if (n.flags & NJ_DNS_NAME_TRUNCATED)
				nj_json_bool(j, "rrname_truncated", true);
			nj_json_close_obj(j);
		}
		nj_json_close_arr(j);
	}
	put_answers(j, cfg, m);
	put_section(j, cfg, m, NJ_DNS_SEC_NS, "authorities");
	put_section(j, cfg, m, NJ_DNS_SEC_AR, "additionals");
	nj_json_close_obj(j);
}

static void log_v3(struct nj_al_log *lg, const struct nj_dns_config *cfg, const struct nj_al_tx *tx,
		   const struct nj_dns_msg *m, bool is_req)
{
	struct nj_json *j;

	if (!msg_enabled(cfg, m))
		return;
	j = nj_al_log_begin(lg, tx, m->dir);
	put_v3(j, cfg, m, is_req, "dns");
	nj_al_log_commit(lg);
}

/* Version 2 requests: one "query" event per question, up to the first filtered-out one. */
static void log_v2_queries(struct nj_al_log *lg, const struct nj_dns_config *cfg,
			   const struct nj_al_tx *tx, const struct nj_dns_msg *m)
{
	uint32_t pos = m->info.off[NJ_DNS_SEC_QD];
	uint16_t fl = m->info.hdr.flags;

	for (unsigned i = 0; i < m->info.count[NJ_DNS_SEC_QD]; i++) {
		struct nj_dns_name n;
		struct nj_json *j;
		uint16_t t, c;
		char tb[8];

		if (nj_dns_question_read(m->data, m->len, &pos, &n, &t, &c) < 0 ||
		    !nj_dns_type_enabled(cfg, t))
			return;
		j = nj_al_log_begin(lg, tx, m->dir);
		nj_json_open_obj(j, "dns");
		nj_json_i64(j, "version", 2);
		nj_json_str(j, "type", "query");
		nj_json_u64(j, "id", m->info.hdr.id);
		put_bytes(j, "rrname", n.data, n.len);
		if (n.flags & NJ_DNS_NAME_TRUNCATED)
			nj_json_bool(j, "rrname_truncated", true);
		nj_json_str(j, "rrtype", nj_dns_type_str(t, tb));
		nj_json_u64(j, "tx_id", m->seq);
		if (fl & 0x0040)
			nj_json_bool(j, "z", true);
		nj_json_u64(j, "opcode", (fl >> 11) & 0xf);
		nj_json_close_obj(j);
		nj_al_log_commit(lg);
	}
}

/* Version 2 responses: one "answer" event, addresses in the requester -> server direction. */
static void log_v2_answer(struct nj_al_log *lg, const struct nj_dns_config *cfg,
			  const struct nj_al_tx *tx, const struct nj_dns_msg *m)
{
	struct nj_json *j;

	if (!msg_enabled(cfg, m))
		return;
	j = nj_al_log_begin(lg, tx, m->dir ^ 1);
	nj_json_open_obj(j, "dns");
	nj_json_i64(j, "version", 2);
	nj_json_str(j, "type", "answer");
	nj_json_u64(j, "id", m->info.hdr.id);
	put_flags(j, m->info.hdr.flags);
	if (m->info.count[NJ_DNS_SEC_QD]) {
		struct nj_dns_name n;
		uint32_t pos = m->info.off[NJ_DNS_SEC_QD];
		uint16_t t, c;
		char tb[8];

		if (nj_dns_question_read(m->data, m->len, &pos, &n, &t, &c) == 0) {
			put_bytes(j, "rrname", n.data, n.len);
			if (n.flags & NJ_DNS_NAME_TRUNCATED)
				nj_json_bool(j, "rrname_truncated", true);
			nj_json_str(j, "rrtype", nj_dns_type_str(t, tb));
		}
	}
	put_rcode(j, m->info.hdr.flags);
	put_answers(j, cfg, m);
	put_section(j, cfg, m, NJ_DNS_SEC_NS, "authorities");
	put_section(j, cfg, m, NJ_DNS_SEC_AR, "additionals");
	nj_json_close_obj(j);
	nj_al_log_commit(lg);
}

void nj_dns_log_tx(struct nj_al_log *lg, const struct nj_flow *f, const struct nj_al_tx *tx)
{
	const struct nj_dns_config *cfg = nj_dns_config_get();
	const struct nj_dns_tx *t = nj_dns_tx_of(tx);

	(void)f;
	if (t->req && cfg->requests) {
		if (cfg->version == 2)
			log_v2_queries(lg, cfg, tx, t->req);
		else
			log_v3(lg, cfg, tx, t->req, true);
	}
	if (t->resp && cfg->responses) {
		if (cfg->version == 2)
			log_v2_answer(lg, cfg, tx, t->resp);
		else
			log_v3(lg, cfg, tx, t->resp, false);
	}
}

/* Per direction (paired transactions): the request when it is complete, the response later. */
void nj_dns_log_tx_dir(struct nj_al_log *lg, const struct nj_flow *f, const struct nj_al_tx *tx,
		       int dir)
{
	const struct nj_dns_config *cfg = nj_dns_config_get();
	const struct nj_dns_tx *t = nj_dns_tx_of(tx);

	(void)f;
	if (dir == 0 && t->req && cfg->requests) {
		if (cfg->version == 2)
			log_v2_queries(lg, cfg, tx, t->req);
		else
			log_v3(lg, cfg, tx, t->req, true);
	}
	if (dir == 1 && t->resp && cfg->responses) {
		if (cfg->version == 2)
			log_v2_answer(lg, cfg, tx, t->resp);
		else
			log_v3(lg, cfg, tx, t->resp, false);
	}
}

/* The parser's alert_json: "dns", the version 3 object of the message of dir. */
void nj_dns_alert_json(struct nj_json *j, const struct nj_al_tx *tx, int dir)
{
	const struct nj_dns_tx *t = nj_dns_tx_of(tx);
	const struct nj_dns_msg *m = dir == NJ_DIR_TOSERVER ? t->req : t->resp;

	if (m)
		put_v3(j, nj_dns_config_get(), m, m == t->req, "dns");
}
