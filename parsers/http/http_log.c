/* SPDX-License-Identifier: MIT */
/*
 * The EVE "http" object (Suricata's output-json-http.c, key for key and in
 * its order), the http.* detection buffers, file names and X-Forwarded-For.
 *
 * Strings from the wire are written as Suricata's set_string_from_bytes
 * does: valid UTF-8 as is, anything else with bytes >= 0x80 written as the
 * text \xNN.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../export/json.h"
#include "http_priv.h"

/* ------------------------------------------------------------------ custom fields */

#define CF_REQUEST  0x1u
#define CF_EXTENDED 0x2u

/* Suricata's http_fields: config name, header name (as Suricata has it), flags. */
static const struct {
	const char *conf, *header;
	uint8_t flags;
} custom[] = {
	{"accept", "accept", CF_REQUEST},
	{"accept_charset", "accept-charset", CF_REQUEST},
	{"accept_encoding", "accept-encoding", CF_REQUEST},
	{"accept_language", "accept-language", CF_REQUEST},
	{"accept_datetime", "accept-datetime", CF_REQUEST},
	{"authorization", "authorization", CF_REQUEST},
	{"cache_control", "cache-control", CF_REQUEST},
	{"cookie", "cookie", CF_REQUEST},
	{"from", "from", CF_REQUEST},
	{"max_forwards", "max-forwards", CF_REQUEST},
	{"origin", "origin", CF_REQUEST},
	{"pragma", "pragma", CF_REQUEST},
	{"proxy_authorization", "proxy-authorization", CF_REQUEST},
	{"range", "range", CF_REQUEST},
	{"te", "te", CF_REQUEST},
	{"via", "via", CF_REQUEST},
	{"x_requested_with", "x-requested-with", CF_REQUEST},
	{"dnt", "dnt", CF_REQUEST},
	{"x_forwarded_proto", "x-forwarded-proto", CF_REQUEST},
	{"x_authenticated_user", "x-authenticated-user", CF_REQUEST},
	{"x_flash_version", "x-flash-version", CF_REQUEST},
	{"accept_range", "accept-range", 0},
	{"age", "age", 0},
	{"allow", "allow", 0},
	{"connection", "connection", 0},
	{"content_encoding", "content-encoding", 0},
	{"content_language", "content-language", 0},
	{"content_length", "content-length", 0},
	{"content_location", "content-location", 0},
	{"content_md5", "content-md5", 0},
	{"content_range", "content-range", 0},
	{"content_type", "content-type", 0},
	{"date", "date", 0},
	{"etag", "etags", 0},
	{"expires", "expires", 0},
	{"last_modified", "last-modified", 0},
	{"link", "link", 0},
	{"location", "location", 0},
	{"proxy_authenticate", "proxy-authenticate", 0},
	{"referer", "referer", CF_EXTENDED},
	{"refresh", "refresh", 0},
	{"retry_after", "retry-after", 0},
	{"server", "server", 0},
	{"set_cookie", "set-cookie", 0},
	{"trailer", "trailer", 0},
	{"transfer_encoding", "transfer-encoding", 0},
	{"upgrade", "upgrade", 0},
	{"vary", "vary", 0},
	{"warning", "warning", 0},
	{"www_authenticate", "www-authenticate", 0},
	{"true_client_ip", "true-client-ip", CF_REQUEST},
	{"org_src_ip", "org-src-ip", CF_REQUEST},
	{"x_bluecoat_via", "x-bluecoat-via", CF_REQUEST},
};
#define NCUSTOM (sizeof(custom) / sizeof(custom[0]))

const char *const nj_http_custom_fields[NCUSTOM + 1] = {
	"accept",
	"accept_charset",
	"accept_encoding",
	"accept_language",
	"accept_datetime",
	"authorization",
	"cache_control",
	"cookie",
	"from",
	"max_forwards",
	"origin",
	"pragma",
	"proxy_authorization",
	"range",
	"te",
	"via",
	"x_requested_with",
	"dnt",
	"x_forwarded_proto",
	"x_authenticated_user",
	"x_flash_version",
	"accept_range",
	"age",
	"allow",
	"connection",
	"content_encoding",
	"content_language",
	"content_length",
	"content_location",
	"content_md5",
	"content_range",
	"content_type",
	"date",
	"etag",
	"expires",
	"last_modified",
	"link",
	"location",
	"proxy_authenticate",
	"referer",
	"refresh",
	"retry_after",
	"server",
	"set_cookie",
	"trailer",
	"transfer_encoding",
	"upgrade",
	"vary",
	"warning",
	"www_authenticate",
	"true_client_ip",
	"org_src_ip",
	"x_bluecoat_via",
	NULL,
};

int http_custom_index(const char *name)
{
	for (unsigned i = 0; i < NCUSTOM; i++)
		if (!strcmp(custom[i].conf, name) || !strcasecmp(custom[i].header, name))
			return (int)i;
	return -1;
}

const char *http_custom_header(unsigned bit)
{
	return bit < NCUSTOM ? custom[bit].header : NULL;
}

bool http_custom_request(unsigned bit)
{
	return bit < NCUSTOM && (custom[bit].flags & CF_REQUEST);
}

/* ------------------------------------------------------------------ strings */

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
		if (n - i - 1 < k || s[i + 1] < lo || s[i + 1] > hi)
			return false;
		for (size_t m = 2; m <= k; m++)
			if ((s[i + m] & 0xc0) != 0x80)
				return false;
		i += k + 1;
	}
	return true;
}

static void put_bytes(struct nj_json *j, const char *key, const uint8_t *s, size_t n)
{
	static const char hx[] = "0123456789abcdef";
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
			out[o++] = hx[s[i] >> 4];
			out[o++] = hx[s[i] & 15];
		}
	}
	nj_json_strn(j, key, out, o);
	if (out != stackbuf)
		free(out);
}

static void put_str(struct nj_json *j, const char *key, const struct nj_http_tx *tx, int dir,
		    struct nj_http_str s)
{
	if (nj_http_has(s))
		put_bytes(j, key, nj_http_ptr(tx, dir, s), s.len);
}

static void put_hdr(struct nj_json *j, const char *key, const struct nj_http_tx *tx, int dir,
		    const char *name)
{
	const uint8_t *v;
	uint32_t n;

	if (nj_http_header(tx, dir, name, &v, &n))
		put_bytes(j, key, v, n);
}

/* ------------------------------------------------------------------ EVE */

static void log_basic(struct nj_json *j, const struct nj_http_tx *tx)
{
	const uint8_t *v;
	uint32_t n;

	put_str(j, "hostname", tx, 0, tx->host);
	if (tx->port >= 0)
		nj_json_u64(j, "http_port", (uint64_t)tx->port);
	put_str(j, "url", tx, 0, tx->uri);
	put_hdr(j, "http_user_agent", tx, 0, "user-agent");
	put_hdr(j, "xff", tx, 0, "x-forwarded-for");
	if (nj_http_header(tx, 1, "content-type", &v, &n)) {
		const uint8_t *semi = memchr(v, ';', n);

		put_bytes(j, "http_content_type", v, semi ? (uint32_t)(semi - v) : n);
	}
	if (nj_http_header(tx, 1, "content-range", &v, &n)) {
		struct http_crange r;

		nj_json_open_obj(j, "content_range");
		put_bytes(j, "raw", v, n);
		if (http_content_range_parse(v, n, &r)) {
			if (r.start >= 0)
				nj_json_u64(j, "start", (uint64_t)r.start);
			if (r.end >= 0)
				nj_json_u64(j, "end", (uint64_t)r.end);
			if (r.size >= 0)
				nj_json_u64(j, "size", (uint64_t)r.size);
		}
		nj_json_close_obj(j);
	}
}

static void log_extended(struct nj_json *j, const struct nj_http_tx *tx)
{
	put_hdr(j, "http_refer", tx, 0, "referer");
	put_str(j, "http_method", tx, 0, tx->method);
	put_str(j, "protocol", tx, 0, tx->protocol);
	if (tx->status_num > 0)
		nj_json_u64(j, "status", (uint64_t)tx->status_num);
	else
		put_str(j, "status_string", tx, 1, tx->status);
	put_hdr(j, "redirect", tx, 1, "location");
	nj_json_u64(j, "length", tx->m[1].message_len);
}

static bool custom_wanted(const struct nj_http_config *cfg, const uint8_t *name, uint32_t n)
{
	for (unsigned f = 0; f < NCUSTOM; f++) {
		if (!(cfg->custom & (1ull << f)))
			continue;
		/* a field logged by extended is not repeated */
		if (cfg->extended && (custom[f].flags & CF_EXTENDED))
			continue;
		if (http_eq_nocase(name, n, custom[f].header))
			return true;
	}
	return false;
}

static void log_headers(struct nj_json *j, const struct nj_http_tx *tx, int dir,
			const struct nj_http_config *cfg)
{
	const struct nj_http_msg *m = &tx->m[dir];
	unsigned want = dir ? NJ_HTTP_DUMP_RESPONSE : NJ_HTTP_DUMP_REQUEST;
	bool open = false;

	for (uint32_t i = 0; i < m->nhdrs; i++) {
		const struct nj_http_hdr *h = &m->hdrs[i];
		const uint8_t *name = nj_http_ptr(tx, dir, h->name);
		const uint8_t *val = nj_http_ptr(tx, dir, h->value);
		uint32_t nl = h->name.len, vl = h->value.len;
		const uint8_t *z;

		if (!(cfg->dump_headers & want) && cfg->custom && !custom_wanted(cfg, name, nl))
			continue;
		if (!open) {
			nj_json_open_arr(j, dir ? "response_headers" : "request_headers");
			open = true;
		}
		/* Suricata copies into C strings: cut at 255 / 2047 bytes and at a NUL */
		if (nl > 255)
			nl = 255;
		if (vl > 2047)
			vl = 2047;
		if ((z = memchr(name, 0, nl)) != NULL)
			nl = (uint32_t)(z - name);
		if ((z = memchr(val, 0, vl)) != NULL)
			vl = (uint32_t)(z - val);
		nj_json_open_obj(j, NULL);
		put_bytes(j, "name", name, nl);
		put_bytes(j, "value", val, vl);
		nj_json_close_obj(j);
	}
	if (open)
		nj_json_close_arr(j);
}

void nj_http_log_fields(struct nj_json *j, const struct nj_http_tx *tx)
{
	log_basic(j, tx);
	log_extended(j, tx);
}

/*
 * The parser's alert_json: an alert on an HTTP transaction carries "http" with
 * the basic and extended fields as they stand when the alert fires (Suricata's
 * EveHttpAddMetadata), whatever the http logger's own settings.
 */
void nj_http_alert_json(struct nj_json *j, const struct nj_al_tx *t, int dir);
void nj_http_alert_json(struct nj_json *j, const struct nj_al_tx *t, int dir)
{
	(void)dir;
	nj_json_open_obj(j, "http");
	nj_http_log_fields(j, nj_http_tx_of(t));
	nj_json_close_obj(j);
}

void nj_http_log_tx(struct nj_al_log *lg, const struct nj_flow *f, const struct nj_al_tx *t);
void nj_http_log_tx(struct nj_al_log *lg, const struct nj_flow *f, const struct nj_al_tx *t)
{
	const struct nj_http_config *cfg = nj_http_config_get();
	const struct nj_http_tx *tx = nj_http_tx_of(t);
	struct nj_json *j = nj_al_log_begin(lg, t, NJ_DIR_TOSERVER);

	(void)f;
	if (!j)
		return;
	nj_json_open_obj(j, "http");
	log_basic(j, tx);
	if (cfg->extended)
		log_extended(j, tx);
	if ((cfg->dump_headers & NJ_HTTP_DUMP_REQUEST) || cfg->custom)
		log_headers(j, tx, 0, cfg);
	if ((cfg->dump_headers & NJ_HTTP_DUMP_RESPONSE) || cfg->custom)
		log_headers(j, tx, 1, cfg);
	nj_json_close_obj(j);
	if (cfg->xff && !cfg->xff_overwrite) {
		char ip[64];

		if (nj_http_tx_xff(tx, cfg->xff_header, cfg->xff_reverse, ip, sizeof(ip)))
			nj_json_str(j, "xff", ip);
	}
	nj_al_log_commit(lg);
}

/* ------------------------------------------------------------------ XFF, file names */

bool nj_http_tx_xff(const struct nj_http_tx *tx, const char *header, bool reverse, char *out,
		    size_t outlen)
{
	const uint8_t *v, *s;
	uint32_t n, l;
	char tmp[256];
	uint8_t addr[16];

	if (!nj_http_header(tx, 0, header, &v, &n) || n < 7 || n >= 256)
		return false;
	if (reverse) {
		uint32_t k = n;

		while (k > 0 && v[k - 1] != ' ')
			k--;
		s = v + k;
		l = n - k;
	} else {
		const uint8_t *comma = memchr(v, ',', n);

		s = v;
		l = comma ? (uint32_t)(comma - v) : n;
	}
	if (l == 0)
		return false;
	if (s[0] == '[') {
		const uint8_t *rb = memchr(s, ']', l);

		if (!rb)
			return false;
		l = (uint32_t)(rb - s - 1);
		s++;
	} else {
		const uint8_t *colon = memchr(s, ':', l);

		if (colon)
			l = (uint32_t)(colon - s);
	}
	if (l == 0 || l >= sizeof(tmp) || l >= outlen)
		return false;
	memcpy(tmp, s, l);
	tmp[l] = 0;
	if (inet_pton(AF_INET, tmp, addr) != 1 && inet_pton(AF_INET6, tmp, addr) != 1)
		return false;
	memcpy(out, tmp, l + 1);
	return true;
}

/* filename= of a Content-Disposition value (Suricata: quotes removed). */
static bool disposition_name(const uint8_t *v, uint32_t n, const uint8_t **name, uint32_t *len)
{
	uint32_t i = 0;

	while (i < n) {
		uint32_t s, e;

		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ';'))
			i++;
		s = i;
		while (i < n && v[i] != ';')
			i++;
		e = i;
		if (e - s > 9 && !strncasecmp((const char *)v + s, "filename=", 9)) {
			s += 9;
			while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
				e--;
			if (e - s >= 2 && v[s] == '"' && v[e - 1] == '"') {
				s++;
				e--;
			}
			*name = v + s;
			*len = e - s;
			return e > s;
		}
	}
	return false;
}

bool nj_http_tx_filename(const struct nj_http_tx *tx, int dir, const uint8_t **name, uint32_t *len)
{
	const uint8_t *v;
	uint32_t n;

	if (nj_http_header(tx, dir, "content-disposition", &v, &n) &&
	    disposition_name(v, n, name, len))
		return true;
	if (!nj_http_has(tx->path))
		return false;
	*name = nj_http_ptr(tx, 0, tx->path);
	*len = tx->path.len;
	return true;
}

/* ------------------------------------------------------------------ buffers */

static bool ret_str(const struct nj_http_tx *tx, int dir, struct nj_http_str s, const uint8_t **d,
		    uint32_t *l)
{
	if (!nj_http_has(s))
		return false;
	*d = nj_http_ptr(tx, dir, s);
	*l = s.len;
	return true;
}

static bool headers_ready(const struct nj_http_tx *tx, int dir)
{
	return tx->al.progress[dir] >= NJ_HTTP_PROGRESS_HEADERS;
}

static bool ret_hdr(const struct nj_http_tx *tx, int dir, const char *name, const uint8_t **d,
		    uint32_t *l)
{
	return headers_ready(tx, dir) && nj_http_header(tx, dir, name, d, l);
}

#define CACHE_HEADER 0x1u
#define CACHE_NAMES  0x2u
#define CACHE_START  0x4u

/*
 * Buffers made of several headers are built on first use and kept in the
 * message's derived buffer (a transaction belongs to one flow on one core, so
 * filling the cache from a const getter is safe).
 */
static bool build(struct nj_http_tx *tx, int dir, unsigned what, struct nj_http_str *out)
{
	struct nj_http_msg *m = &tx->m[dir];
	struct nj_http_buf b = {0};
	bool ok = true;

	if (what == CACHE_NAMES)
		ok = http_buf_add(&b, "\r\n", 2, UINT32_MAX);
	if (what == CACHE_START && nj_http_has(m->line)) {
		ok = http_buf_add(&b, nj_http_ptr(tx, dir, m->line), m->line.len, UINT32_MAX) &&
		     http_buf_add(&b, "\r\n", 2, UINT32_MAX);
	}
	for (uint32_t i = 0; ok && i < m->nhdrs; i++) {
		const struct nj_http_hdr *h = &m->hdrs[i];
		const uint8_t *name = nj_http_ptr(tx, dir, h->name);

		if (what == CACHE_NAMES) {
			ok = http_buf_add(&b, name, h->name.len, UINT32_MAX) &&
			     http_buf_add(&b, "\r\n", 2, UINT32_MAX);
			continue;
		}
		if (what == CACHE_HEADER &&
		    http_eq_nocase(name, h->name.len, dir ? "set-cookie" : "cookie"))
			continue;
		ok = http_buf_add(&b, name, h->name.len, UINT32_MAX) &&
		     http_buf_add(&b, ": ", 2, UINT32_MAX) &&
		     http_buf_add(&b, nj_http_ptr(tx, dir, h->value), h->value.len, UINT32_MAX) &&
		     http_buf_add(&b, "\r\n", 2, UINT32_MAX);
	}
	if (ok && (what == CACHE_NAMES || what == CACHE_START))
		ok = http_buf_add(&b, "\r\n", 2, UINT32_MAX);
	if (ok && b.len)
		*out = http_str_add(m, true, b.p, b.len);
	else
		*out = (struct nj_http_str){NJ_HTTP_NONE, 0, 1};
	http_buf_free(&b);
	m->cached |= (uint8_t)what;
	return ok && nj_http_has(*out);
}

static bool cached(const struct nj_al_tx *t, int dir, unsigned what, const uint8_t **d, uint32_t *l)
{
	struct nj_http_tx *tx = nj_http_tx_of(t);
	struct nj_http_msg *m = &tx->m[dir];
	struct nj_http_str *s = what == CACHE_HEADER  ? &m->c_header
				: what == CACHE_NAMES ? &m->c_names
						      : &m->c_start;

	if (!headers_ready(tx, dir))
		return false;
	if (!(m->cached & what) && !build(tx, dir, what, s))
		return false;
	return ret_str(tx, dir, *s, d, l);
}

#define TX(t) nj_http_tx_of(t)

static bool b_uri(const struct nj_al_tx *t, const uint8_t **d, uint32_t *l)
{
	return ret_str(TX(t), 0, TX(t)->uri_norm, d, l);
}
static bool b_uri_raw(const struct nj_al_tx *t, const uint8_t **d, uint32_t *l)
{
	return ret_str(TX(t), 0, TX(t)->uri, d, l);
}
static bool b_method(const struct nj_al_tx *t, const uint8_t **d, uint32_t *l)
{
	return ret_str(TX(t), 0, TX(t)->method, d, l);
}
static bool b_proto_ts(const struct nj_al_tx *t, const uint8_t **d, uint32_t *l)
{
	return ret_str(TX(t), 0, TX(t)->protocol, d, l);
}
static bool b_proto_tc(const struct nj_al_tx *t, const uint8_t **d, uint32_t *l)
{
	return ret_str(TX(t), 1, TX(t)->resp_protocol, d, l);
}
static bool b_req_line(const struct nj_al_tx *t, const uint8_t **d, uint32_t *l)
{
	return ret_str(TX(t), 0, TX(t)->m[0].line, d, l);
}
static bool b_resp_line(const struct nj_al_tx *t, const uint8_t **d, uint32_t *l)
{
	return ret_str(TX(t), 1, TX(t)->m[1].line, d, l);
}
static bool b_stat_code(const struct nj_al_tx *t, const uint8_t **d, uint32_t *l)
{
	return ret_str(TX(t), 1, TX(t)->status, d, l);
}
static bool b_stat_msg(const struct nj_al_tx *t, const uint8_t **d, uint32_t *l)
{
	return ret_str(TX(t), 1, TX(t)->message, d, l);
}
static bool b_host(const struct nj_al_tx *t, const uint8_t **d, uint32_t *l)
{
	return headers_ready(TX(t), 0) && ret_str(TX(t), 0, TX(t)->host, d, l);
}
static bool b_host_raw(const struct nj_al_tx *t, const uint8_t **d, uint32_t *l)
{
	return headers_ready(TX(t), 0) && ret_str(TX(t), 0, TX(t)->host_raw, d, l);
}
static bool b_ua(const struct nj_al_tx *t, const uint8_t **d, uint32_t *l)
{
	return ret_hdr(TX(t), 0, "user-agent", d, l);
}
static bool b_referer(const struct nj_al_tx *t, const uint8_t **d, uint32_t *l)
{
	return ret_hdr(TX(t), 0, "referer", d, l);
}
static bool b_cookie_ts(const struct nj_al_tx *t, const uint8_t **d, uint32_t *l)
{
	return ret_hdr(TX(t), 0, "cookie", d, l);
}
static bool b_cookie_tc(const struct nj_al_tx *t, const uint8_t **d, uint32_t *l)
{
	return ret_hdr(TX(t), 1, "set-cookie", d, l);
}
static bool b_ctype_ts(const struct nj_al_tx *t, const uint8_t **d, uint32_t *l)
{
	return ret_hdr(TX(t), 0, "content-type", d, l);
}
static bool b_ctype_tc(const struct nj_al_tx *t, const uint8_t **d, uint32_t *l)
{
	return ret_hdr(TX(t), 1, "content-type", d, l);
}
static bool b_clen_ts(const struct nj_al_tx *t, const uint8_t **d, uint32_t *l)
{
	return ret_hdr(TX(t), 0, "content-length", d, l);
}
static bool b_clen_tc(const struct nj_al_tx *t, const uint8_t **d, uint32_t *l)
{
	return ret_hdr(TX(t), 1, "content-length", d, l);
}
static bool b_accept(const struct nj_al_tx *t, const uint8_t **d, uint32_t *l)
{
	return ret_hdr(TX(t), 0, "accept", d, l);
}
static bool b_accept_enc(const struct nj_al_tx *t, const uint8_t **d, uint32_t *l)
{
	return ret_hdr(TX(t), 0, "accept-encoding", d, l);
}
static bool b_accept_lang(const struct nj_al_tx *t, const uint8_t **d, uint32_t *l)
{
	return ret_hdr(TX(t), 0, "accept-language", d, l);
}
static bool b_conn_ts(const struct nj_al_tx *t, const uint8_t **d, uint32_t *l)
{
	return ret_hdr(TX(t), 0, "connection", d, l);
}
static bool b_conn_tc(const struct nj_al_tx *t, const uint8_t **d, uint32_t *l)
{
	return ret_hdr(TX(t), 1, "connection", d, l);
}
static bool b_location(const struct nj_al_tx *t, const uint8_t **d, uint32_t *l)
{
	return ret_hdr(TX(t), 1, "location", d, l);
}
static bool b_server(const struct nj_al_tx *t, const uint8_t **d, uint32_t *l)
{
	return ret_hdr(TX(t), 1, "server", d, l);
}
static bool b_header_ts(const struct nj_al_tx *t, const uint8_t **d, uint32_t *l)
{
	return cached(t, 0, CACHE_HEADER, d, l);
}
static bool b_header_tc(const struct nj_al_tx *t, const uint8_t **d, uint32_t *l)
{
	return cached(t, 1, CACHE_HEADER, d, l);
}
static bool b_names_ts(const struct nj_al_tx *t, const uint8_t **d, uint32_t *l)
{
	return cached(t, 0, CACHE_NAMES, d, l);
}
static bool b_names_tc(const struct nj_al_tx *t, const uint8_t **d, uint32_t *l)
{
	return cached(t, 1, CACHE_NAMES, d, l);
}
static bool b_start_ts(const struct nj_al_tx *t, const uint8_t **d, uint32_t *l)
{
	return cached(t, 0, CACHE_START, d, l);
}
static bool b_start_tc(const struct nj_al_tx *t, const uint8_t **d, uint32_t *l)
{
	return cached(t, 1, CACHE_START, d, l);
}
static bool b_hraw_ts(const struct nj_al_tx *t, const uint8_t **d, uint32_t *l)
{
	return headers_ready(TX(t), 0) && ret_str(TX(t), 0, TX(t)->m[0].hraw, d, l);
}
static bool b_hraw_tc(const struct nj_al_tx *t, const uint8_t **d, uint32_t *l)
{
	return headers_ready(TX(t), 1) && ret_str(TX(t), 1, TX(t)->m[1].hraw, d, l);
}
static bool body(const struct nj_al_tx *t, int dir, const uint8_t **d, uint32_t *l)
{
	const struct nj_http_msg *m = &TX(t)->m[dir];

	if (m->body.len == 0)
		return false;
	*d = m->body.p;
	*l = m->body.len;
	return true;
}
static bool b_body_ts(const struct nj_al_tx *t, const uint8_t **d, uint32_t *l)
{
	return body(t, 0, d, l);
}
static bool b_body_tc(const struct nj_al_tx *t, const uint8_t **d, uint32_t *l)
{
	return body(t, 1, d, l);
}

/*
 * file.data / file.name to the server: one instance per file. A multipart
 * body's files are its parts with a file name; any other body is one file.
 */
static bool mb_file_data_ts(const struct nj_al_tx *t, uint32_t idx, const uint8_t **d, uint32_t *l)
{
	const struct nj_http_tx *tx = TX(t);

	if (!tx->multipart)
		return idx == 0 && body(t, 0, d, l);
	if (idx >= tx->nparts)
		return false;
	*d = tx->parts[idx].data.p;
	*l = tx->parts[idx].data.len;
	return true;
}
static bool mb_file_name_ts(const struct nj_al_tx *t, uint32_t idx, const uint8_t **d, uint32_t *l)
{
	const struct nj_http_tx *tx = TX(t);

	if (!tx->multipart)
		return idx == 0 && (tx->m[0].message_len || tx->file_seen[0]) &&
		       nj_http_tx_filename(tx, 0, d, l);
	if (idx >= tx->nparts)
		return false;
	*d = tx->parts[idx].name;
	*l = tx->parts[idx].name_len;
	return true;
}
static bool b_file_name_tc(const struct nj_al_tx *t, const uint8_t **d, uint32_t *l)
{
	const struct nj_http_tx *tx = TX(t);

	return (tx->m[1].message_len || tx->file_seen[1]) && nj_http_tx_filename(tx, 1, d, l);
}

/*
 * http.request_header / http.response_header: one instance per header,
 * "name: value" (Suricata's), built on first use in the derived buffer.
 */
static bool hdr_line(const struct nj_al_tx *t, int dir, uint32_t idx, const uint8_t **d,
		     uint32_t *l)
{
	struct nj_http_tx *tx = TX(t);
	struct nj_http_msg *m = &tx->m[dir];
	struct nj_http_hdr *h;

	if (!headers_ready(tx, dir) || idx >= m->nhdrs)
		return false;
	h = &m->hdrs[idx];
	if (!nj_http_has(h->line)) {
		struct nj_http_buf b = {0};

		if (http_buf_add(&b, nj_http_ptr(tx, dir, h->name), h->name.len, UINT32_MAX) &&
		    http_buf_add(&b, ": ", 2, UINT32_MAX) &&
		    http_buf_add(&b, nj_http_ptr(tx, dir, h->value), h->value.len, UINT32_MAX))
			h->line = http_str_add(m, true, b.p, b.len);
		http_buf_free(&b);
		if (!nj_http_has(h->line))
			return false;
	}
	return ret_str(tx, dir, h->line, d, l);
}
static bool mb_hdr_ts(const struct nj_al_tx *t, uint32_t idx, const uint8_t **d, uint32_t *l)
{
	return hdr_line(t, 0, idx, d, l);
}
static bool mb_hdr_tc(const struct nj_al_tx *t, uint32_t idx, const uint8_t **d, uint32_t *l)
{
	return hdr_line(t, 1, idx, d, l);
}

const struct nj_al_multibuffer nj_http_multi_buffers[] = {
	{"http.request_header", NJ_DIR_TOSERVER, mb_hdr_ts},
	{"http.response_header", NJ_DIR_TOCLIENT, mb_hdr_tc},
	{"file.data", NJ_DIR_TOSERVER, mb_file_data_ts},
	{"file.name", NJ_DIR_TOSERVER, mb_file_name_ts},
	{NULL, 0, NULL},
};

const struct nj_al_buffer nj_http_buffers[] = {
	{"http.uri", NJ_DIR_TOSERVER, b_uri},
	{"http.uri.raw", NJ_DIR_TOSERVER, b_uri_raw},
	{"http.method", NJ_DIR_TOSERVER, b_method},
	{"http.protocol", NJ_DIR_TOSERVER, b_proto_ts},
	{"http.protocol", NJ_DIR_TOCLIENT, b_proto_tc},
	{"http.request_line", NJ_DIR_TOSERVER, b_req_line},
	{"http.response_line", NJ_DIR_TOCLIENT, b_resp_line},
	{"http.stat_code", NJ_DIR_TOCLIENT, b_stat_code},
	{"http.stat_msg", NJ_DIR_TOCLIENT, b_stat_msg},
	{"http.host", NJ_DIR_TOSERVER, b_host},
	{"http.host.raw", NJ_DIR_TOSERVER, b_host_raw},
	{"http.user_agent", NJ_DIR_TOSERVER, b_ua},
	{"http.referer", NJ_DIR_TOSERVER, b_referer},
	{"http.cookie", NJ_DIR_TOSERVER, b_cookie_ts},
	{"http.cookie", NJ_DIR_TOCLIENT, b_cookie_tc},
	{"http.content_type", NJ_DIR_TOSERVER, b_ctype_ts},
	{"http.content_type", NJ_DIR_TOCLIENT, b_ctype_tc},
	{"http.content_len", NJ_DIR_TOSERVER, b_clen_ts},
	{"http.content_len", NJ_DIR_TOCLIENT, b_clen_tc},
	{"http.accept", NJ_DIR_TOSERVER, b_accept},
	{"http.accept_enc", NJ_DIR_TOSERVER, b_accept_enc},
	{"http.accept_lang", NJ_DIR_TOSERVER, b_accept_lang},
	{"http.connection", NJ_DIR_TOSERVER, b_conn_ts},
	{"http.connection", NJ_DIR_TOCLIENT, b_conn_tc},
	{"http.location", NJ_DIR_TOCLIENT, b_location},
	{"http.server", NJ_DIR_TOCLIENT, b_server},
	{"http.header", NJ_DIR_TOSERVER, b_header_ts},
	{"http.header", NJ_DIR_TOCLIENT, b_header_tc},
	{"http.header.raw", NJ_DIR_TOSERVER, b_hraw_ts},
	{"http.header.raw", NJ_DIR_TOCLIENT, b_hraw_tc},
	{"http.header_names", NJ_DIR_TOSERVER, b_names_ts},
	{"http.header_names", NJ_DIR_TOCLIENT, b_names_tc},
	{"http.start", NJ_DIR_TOSERVER, b_start_ts},
	{"http.start", NJ_DIR_TOCLIENT, b_start_tc},
	{"http.request_body", NJ_DIR_TOSERVER, b_body_ts},
	{"http.response_body", NJ_DIR_TOCLIENT, b_body_tc},
	{"file.data", NJ_DIR_TOCLIENT, b_body_tc},
	{"file.name", NJ_DIR_TOCLIENT, b_file_name_tc},
	{NULL, 0, NULL},
};
