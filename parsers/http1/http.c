/* SPDX-License-Identifier: MIT */
/*
 * HTTP/1.x parser. Each direction is a small state machine (start line,
 * headers, body by Content-Length / chunked / until close) driven by parse()
 * with whatever bytes are in order; a line that is not complete is left to
 * the framework, which presents it again with more bytes. Responses pair
 * with requests in order (pipelining). Everything a transaction keeps is
 * copied into its own bounded arena.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "../../config/config.h"
#include "../../dataplane/flow.h"
#include "../files.h"
#include "http.h"

#define MAX_LINE    (32 * 1024) /* a start or header line longer than this is invalid */
#define MAX_HEADERS (64 * 1024) /* header bytes kept per direction */
#define ARENA_MAX   (2u << 20)

NJ_CONF_KEY(http_reqlim, "app-layer.protocols.http.libhtp.default-config.request-body-limit",
	    NJ_CT_SIZE, "100kb", "Request body bytes kept for http.request_body inspection.")
NJ_CONF_KEY(http_resplim, "app-layer.protocols.http.libhtp.default-config.response-body-limit",
	    NJ_CT_SIZE, "100kb", "Response body bytes kept for http.response_body / file.data.")
NJ_CONF_KEY(http_maxtx, "app-layer.protocols.http.max-tx", NJ_CT_INT, "512",
	    "HTTP transactions open per flow; past it requests are not tracked (counted anomaly).")

static struct {
	uint32_t req_body_limit, resp_body_limit, max_tx;
} cfg = {100 * 1024, 100 * 1024, 512};

enum st {
	ST_LINE = 0,
	ST_HEADERS,
	ST_BODY_CL,
	ST_CHUNK_SIZE,
	ST_CHUNK_DATA,
	ST_CHUNK_CRLF,
	ST_TRAILERS,
	ST_BODY_CLOSE,
	ST_TUNNEL, /* CONNECT accepted, or an upgrade: no longer HTTP */
	ST_DEAD,
};

struct side {
	enum st st;
	uint64_t left;	       /* body or chunk bytes still to come */
	struct nj_http_tx *tx; /* transaction being filled */
	int64_t cl;	       /* Content-Length of the message, -1 none */
	uint8_t chunked, gzip, deflate;
	z_stream z;
	uint8_t z_on;
	struct nj_file *file;
	/* header blocks being collected (raw, and normalised for http.header) */
	struct hbuf {
		uint8_t *b;
		uint32_t len, cap;
	} hraw, hnorm;
};

struct state {
	struct nj_al_txq q;
	struct side s[2];
	uint32_t open;
};

/* ------------------------------------------------------------------ arena */

static bool arena_reserve(struct nj_http_tx *tx, uint32_t n)
{
	uint32_t cap = tx->buf_cap ? tx->buf_cap : 1024;
	uint8_t *b;

	if (tx->buf_len + n <= tx->buf_cap)
		return true;
	while (cap < tx->buf_len + n)
		cap *= 2;
	if (cap > ARENA_MAX)
		return false;
	b = realloc(tx->buf, cap);
	if (!b)
		return false;
	tx->buf = b;
	tx->buf_cap = cap;
	return true;
}

static bool arena_put(struct nj_http_tx *tx, struct nj_http_str *s, const void *d, uint32_t n)
{
	if (!arena_reserve(tx, n))
		return false;
	memcpy(tx->buf + tx->buf_len, d, n);
	if (s) {
		s->off = tx->buf_len;
		s->len = n;
	}
	tx->buf_len += n;
	return true;
}

/* Append to the view that ends the arena (bodies, header blocks), bounded by max. */
static void arena_append(struct nj_http_tx *tx, struct nj_http_str *s, const void *d, uint32_t n,
			 uint32_t max)
{
	if (s->len >= max)
		return;
	if (s->len + n > max)
		n = max - s->len;
	if (s->len && s->off + s->len != tx->buf_len) {
		/* not at the end any more: move it there first */
		if (!arena_reserve(tx, s->len))
			return;
		memcpy(tx->buf + tx->buf_len, tx->buf + s->off, s->len);
		s->off = tx->buf_len;
		tx->buf_len += s->len;
	}
	if (!s->len)
		s->off = tx->buf_len;
	if (arena_put(tx, NULL, d, n))
		s->len += n;
}

static void hbuf_add(struct hbuf *h, const void *d, uint32_t n)
{
	if (h->len + n > MAX_HEADERS)
		return;
	if (h->len + n > h->cap) {
		uint32_t cap = h->cap ? h->cap * 2 : 1024;
		uint8_t *b;

		while (cap < h->len + n)
			cap *= 2;
		b = realloc(h->b, cap);
		if (!b)
			return;
		h->b = b;
		h->cap = cap;
	}
	memcpy(h->b + h->len, d, n);
	h->len += n;
}

/* ------------------------------------------------------------------ helpers */

static const uint8_t *find_lf(const uint8_t *d, uint32_t len)
{
	return memchr(d, '\n', len);
}

/* Line without its CR LF or LF. */
static uint32_t line_len(const uint8_t *line, const uint8_t *lf)
{
	uint32_t n = (uint32_t)(lf - line);

	if (n && line[n - 1] == '\r')
		n--;
	return n;
}

static bool ieq(const uint8_t *a, uint32_t alen, const char *b)
{
	size_t n = strlen(b);

	return alen == n && strncasecmp((const char *)a, b, n) == 0;
}

static const char *const methods[] = {
	"GET",	  "POST",     "HEAD",	   "PUT",    "DELETE",	 "OPTIONS", "CONNECT", "TRACE",
	"PATCH",  "PROPFIND", "PROPPATCH", "MKCOL",  "COPY",	 "MOVE",    "LOCK",    "UNLOCK",
	"SEARCH", "REPORT",   "SUBSCRIBE", "NOTIFY", "M-SEARCH", NULL,
};

static bool known_method(const uint8_t *d, uint32_t n)
{
	for (int i = 0; methods[i]; i++)
		if (strlen(methods[i]) == n && memcmp(d, methods[i], n) == 0)
			return true;
	return false;
}

static int http_probe(const uint8_t *d, uint32_t len, int dir)
{
	uint32_t i;

	if (dir == NJ_DIR_TOCLIENT) {
		if (len < 5)
			return memcmp(d, "HTTP/", len) == 0 ? NJ_PROBE_MORE : NJ_PROBE_NO;
		return memcmp(d, "HTTP/", 5) == 0 ? NJ_PROBE_YES : NJ_PROBE_NO;
	}
	for (i = 0; i < len && i < 16 && d[i] != ' '; i++)
		if (!isupper(d[i]) && d[i] != '-' && d[i] != '_')
			return NJ_PROBE_NO;
	if (i == len)
		return i < 16 ? NJ_PROBE_MORE : NJ_PROBE_NO;
	if (d[i] != ' ' || !known_method(d, i))
		return NJ_PROBE_NO;
	return NJ_PROBE_YES;
}

/* Percent-decoding and path clean-up, as the normalised URI of http.uri. */
static uint32_t normalise_uri(const uint8_t *in, uint32_t n, uint8_t *out)
{
	uint32_t o = 0, q;

	for (q = 0; q < n && in[q] != '?'; q++)
		;
	for (uint32_t i = 0; i < n; i++) {
		uint8_t c = in[i];

		if (c == '%' && i + 2 < n && isxdigit(in[i + 1]) && isxdigit(in[i + 2])) {
			char h[3] = {(char)in[i + 1], (char)in[i + 2], 0};

			c = (uint8_t)strtoul(h, NULL, 16);
			i += 2;
		}
		if (i < q && c == '/' && o && out[o - 1] == '/')
			continue; /* compress // in the path */
		out[o++] = c;
		if (i < q && c == '/' && o >= 3 && out[o - 2] == '.' && out[o - 3] == '/') {
			o -= 2; /* "/./" -> "/" */
		} else if (i < q && c == '/' && o >= 4 && out[o - 2] == '.' && out[o - 3] == '.' &&
			   out[o - 4] == '/') {
			/* "/x/../" -> "/" */
			o -= 4;
			while (o && out[o - 1] != '/')
				o--;
			if (!o)
				out[o++] = '/';
		}
	}
	return o;
}

static struct nj_http_tx *tx_new(struct state *s)
{
	struct nj_http_tx *tx = calloc(1, sizeof(*tx));

	if (!tx)
		return NULL;
	nj_al_tx_add(&s->q, &tx->al);
	s->open++;
	return tx;
}

/* First transaction still waiting for its response. */
static struct nj_http_tx *tx_for_response(struct state *s)
{
	for (struct nj_al_tx *t = s->q.head; t; t = t->next)
		if (!t->done[1])
			return (struct nj_http_tx *)t;
	return NULL;
}

static void tx_done(struct state *s, struct nj_http_tx *tx, int dir)
{
	if (!tx->al.done[dir]) {
		tx->al.done[dir] = 1;
		tx->al.progress[dir] = 4;
		if (tx->al.done[0] && tx->al.done[1] && s->open)
			s->open--;
	}
}

/* ------------------------------------------------------------------ files */

static void write_http_obj(struct nj_json *j, const struct nj_http_tx *tx, bool files);

static void file_meta(struct nj_json *j, const void *arg)
{
	write_http_obj(j, arg, true);
}

static void file_open(struct nj_al_ctx *c, struct side *sd, struct nj_http_tx *tx, int dir)
{
	struct nj_files *fs = nj_al_files(c);
	const uint8_t *u = nj_http_str_ptr(tx, tx->uri);
	uint32_t n = tx->uri.len, start = 0, end;

	if (!fs)
		return;
	for (end = 0; end < n && u[end] != '?'; end++)
		;
	for (uint32_t i = 0; i < end; i++)
		if (u[i] == '/')
			start = i + 1;
	sd->file = nj_file_open(fs, nj_al_flow(c), "http", u + start, end - start, tx->al.id, dir);
}

static void file_close(struct nj_al_ctx *c, struct side *sd, struct nj_http_tx *tx,
		       enum nj_file_state state)
{
	if (!sd->file)
		return;
	nj_file_close(sd->file, state, nj_al_ts(c), file_meta, tx);
	sd->file = NULL;
}

/* ------------------------------------------------------------------ bodies */

static void body_data(struct nj_al_ctx *c, struct side *sd, int dir, const uint8_t *d, uint32_t n)
{
	struct nj_http_tx *tx = sd->tx;
	uint8_t out[16384];

	if (!tx || !n)
		return;
	if (dir == NJ_DIR_TOSERVER)
		tx->req_len += n;
	else
		tx->resp_len += n;
	if (sd->z_on) {
		sd->z.next_in = (Bytef *)d;
		sd->z.avail_in = n;
		do {
			int r;

			sd->z.next_out = out;
			sd->z.avail_out = sizeof(out);
			r = inflate(&sd->z, Z_NO_FLUSH);
			if (r != Z_OK && r != Z_STREAM_END && r != Z_BUF_ERROR) {
				nj_al_event(c, dir, "GZIP_DECOMPRESSION_FAILED");
				inflateEnd(&sd->z);
				sd->z_on = 0;
				return;
			}
			if (sizeof(out) - sd->z.avail_out) {
				uint32_t got = (uint32_t)(sizeof(out) - sd->z.avail_out);

				if (dir == NJ_DIR_TOSERVER)
					arena_append(tx, &tx->req_body, out, got,
						     cfg.req_body_limit);
				else
					arena_append(tx, &tx->resp_body, out, got,
						     cfg.resp_body_limit);
				if (sd->file)
					nj_file_append(sd->file, out, got);
			}
			if (r == Z_STREAM_END || r == Z_BUF_ERROR)
				break;
		} while (sd->z.avail_in || !sd->z.avail_out);
		return;
	}
	if (dir == NJ_DIR_TOSERVER)
		arena_append(tx, &tx->req_body, d, n, cfg.req_body_limit);
	else
		arena_append(tx, &tx->resp_body, d, n, cfg.resp_body_limit);
	if (sd->file)
		nj_file_append(sd->file, d, n);
}

static void msg_end(struct nj_al_ctx *c, struct state *s, struct side *sd, int dir)
{
	struct nj_http_tx *tx = sd->tx;

	if (sd->z_on) {
		inflateEnd(&sd->z);
		sd->z_on = 0;
	}
	if (tx) {
		file_close(c, sd, tx, NJ_FILE_CLOSED);
		tx_done(s, tx, dir);
	}
	sd->tx = NULL;
	sd->st = ST_LINE;
}

/* After the headers of a message: how is its body framed? */
static void body_start(struct nj_al_ctx *c, struct state *s, struct side *sd, int dir)
{
	struct nj_http_tx *tx = sd->tx;
	bool has_body;

	if (dir == NJ_DIR_TOSERVER) {
		has_body = sd->chunked || sd->cl > 0;
	} else {
		uint16_t st = tx ? tx->status : 200;

		if (st >= 100 && st < 200) {
			/* interim response: the real one follows, same transaction */
			if (tx) {
				tx->resp_headers.len = tx->resp_headers_raw.len = 0;
				tx->resp_line.len = 0;
			}
			sd->st = ST_LINE;
			return;
		}
		has_body = !(tx && tx->head_req) && st != 204 && st != 304;
		if (tx && tx->connect_req && st >= 200 && st < 300) {
			tx_done(s, tx, dir);
			sd->tx = NULL;
			s->s[0].st = ST_TUNNEL;
			sd->st = ST_TUNNEL;
			return;
		}
	}
	if (!has_body || (!sd->chunked && sd->cl == 0) ||
	    (dir == NJ_DIR_TOSERVER && !sd->chunked && sd->cl < 0)) {
		msg_end(c, s, sd, dir);
		return;
	}
	if ((sd->gzip || sd->deflate) && dir == NJ_DIR_TOCLIENT) {
		memset(&sd->z, 0, sizeof(sd->z));
		/* 32+15: gzip or zlib header auto-detected; raw deflate retried below */
		if (inflateInit2(&sd->z, sd->gzip ? 16 + MAX_WBITS : 32 + MAX_WBITS) == Z_OK)
			sd->z_on = 1;
	}
	if (tx)
		file_open(c, sd, tx, dir);
	if (sd->chunked) {
		sd->st = ST_CHUNK_SIZE;
	} else if (sd->cl >= 0) {
		sd->st = ST_BODY_CL;
		sd->left = (uint64_t)sd->cl;
	} else {
		sd->st = ST_BODY_CLOSE;
	}
}

/* ------------------------------------------------------------------ lines */

static void parse_request_line(struct nj_al_ctx *c, struct state *s, struct side *sd,
			       const uint8_t *l, uint32_t n)
{
	struct nj_http_tx *tx;
	const uint8_t *sp1, *sp2;
	uint32_t mlen, ulen;
	uint8_t norm[8192];

	if (s->open >= cfg.max_tx) {
		nj_al_event(c, 0, "TOO_MANY_TRANSACTIONS");
		sd->tx = NULL;
		return;
	}
	tx = tx_new(s);
	sd->tx = tx;
	if (!tx)
		return;
	arena_put(tx, &tx->req_line, l, n);
	sp1 = memchr(l, ' ', n);
	if (!sp1) {
		nj_al_event(c, 0, "REQUEST_LINE_INVALID");
		arena_put(tx, &tx->method, l, n);
		return;
	}
	mlen = (uint32_t)(sp1 - l);
	arena_put(tx, &tx->method, l, mlen);
	while (sp1 < l + n && *sp1 == ' ')
		sp1++;
	sp2 = memchr(sp1, ' ', (size_t)(l + n - sp1));
	ulen = sp2 ? (uint32_t)(sp2 - sp1) : (uint32_t)(l + n - sp1);
	arena_put(tx, &tx->uri_raw, sp1, ulen);
	if (sp2) {
		while (sp2 < l + n && *sp2 == ' ')
			sp2++;
		arena_put(tx, &tx->protocol, sp2, (uint32_t)(l + n - sp2));
	}
	/* absolute URI: the host comes from it */
	if (ulen > 7 && (strncasecmp((const char *)sp1, "http://", 7) == 0 ||
			 (ulen > 8 && strncasecmp((const char *)sp1, "https://", 8) == 0))) {
		const uint8_t *h = sp1 + (sp1[4] == ':' ? 7 : 8);
		const uint8_t *e = memchr(h, '/', (size_t)(sp1 + ulen - h));
		const uint8_t *hend = e ? e : sp1 + ulen;
		const uint8_t *colon = memchr(h, ':', (size_t)(hend - h));

		arena_put(tx, &tx->host, h, (uint32_t)((colon ? colon : hend) - h));
		if (colon)
			arena_put(tx, &tx->port, colon + 1, (uint32_t)(hend - colon - 1));
	}
	{
		const uint8_t *u = nj_http_str_ptr(tx, tx->uri_raw);
		uint32_t un = tx->uri_raw.len, k = 0;

		if (tx->host.len) {
			/* strip scheme and authority for the normalised form */
			const uint8_t *slash = NULL;

			for (k = 8; k < un; k++)
				if (u[k] == '/') {
					slash = u + k;
					break;
				}
			k = slash ? (uint32_t)(slash - u) : un;
		}
		if (un - k > sizeof(norm))
			un = k + sizeof(norm);
		{
			uint32_t nn = normalise_uri(u + k, un - k, norm);

			arena_put(tx, &tx->uri, norm, nn);
		}
	}
	tx->head_req = ieq(l, mlen, "HEAD");
	tx->connect_req = ieq(l, mlen, "CONNECT");
	if (!known_method(l, mlen))
		nj_al_event(c, 0, "METHOD_UNKNOWN");
}

static void parse_status_line(struct nj_al_ctx *c, struct state *s, struct side *sd,
			      const uint8_t *l, uint32_t n)
{
	struct nj_http_tx *tx = tx_for_response(s);
	const uint8_t *sp1, *sp2;

	if (!tx) {
		nj_al_event(c, 1, "UNABLE_TO_MATCH_RESPONSE_TO_REQUEST");
		tx = tx_new(s);
		if (!tx)
			return;
		tx_done(s, tx, 0);
	}
	sd->tx = tx;
	arena_put(tx, &tx->resp_line, l, n);
	sp1 = memchr(l, ' ', n);
	if (!sp1) {
		nj_al_event(c, 1, "RESPONSE_LINE_INVALID");
		return;
	}
	arena_put(tx, &tx->resp_protocol, l, (uint32_t)(sp1 - l));
	while (sp1 < l + n && *sp1 == ' ')
		sp1++;
	sp2 = memchr(sp1, ' ', (size_t)(l + n - sp1));
	arena_put(tx, &tx->stat_code, sp1, (uint32_t)((sp2 ? sp2 : l + n) - sp1));
	if (sp2)
		arena_put(tx, &tx->stat_msg, sp2 + 1, (uint32_t)(l + n - sp2 - 1));
	tx->status = 0;
	for (const uint8_t *p = sp1; p < l + n && isdigit(*p) && p < sp1 + 3; p++)
		tx->status = (uint16_t)(tx->status * 10 + (*p - '0'));
	if (tx->stat_code.len != 3 || tx->status < 100)
		nj_al_event(c, 1, "INVALID_RESPONSE_FIELD_FOLDING");
}

static void header(struct nj_al_ctx *c, struct side *sd, int dir, const uint8_t *l, uint32_t n)
{
	struct nj_http_tx *tx = sd->tx;
	const uint8_t *colon = memchr(l, ':', n);
	const uint8_t *v;
	uint32_t nlen, vlen;
	char norm[512];

	if (!tx)
		return;
	hbuf_add(&sd->hraw, l, n);
	hbuf_add(&sd->hraw, "\r\n", 2);
	if (!colon || colon == l) {
		nj_al_event(c, dir, dir ? "RESPONSE_HEADER_INVALID" : "REQUEST_HEADER_INVALID");
		return;
	}
	nlen = (uint32_t)(colon - l);
	while (nlen && (l[nlen - 1] == ' ' || l[nlen - 1] == '\t'))
		nlen--;
	v = colon + 1;
	while (v < l + n && (*v == ' ' || *v == '\t'))
		v++;
	vlen = (uint32_t)(l + n - v);
	while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
		vlen--;
	/* http.header: "Name: value\r\n" for every header but the cookies */
	if (!ieq(l, nlen, "Cookie") && !ieq(l, nlen, "Set-Cookie")) {
		uint32_t k = (uint32_t)snprintf(norm, sizeof(norm),
						"%.*s: ", (int)(nlen < 400 ? nlen : 400),
						(const char *)l);

		hbuf_add(&sd->hnorm, norm, k);
		hbuf_add(&sd->hnorm, v, vlen);
		hbuf_add(&sd->hnorm, "\r\n", 2);
	}
	if (ieq(l, nlen, "Content-Length")) {
		int64_t cl = 0;
		uint32_t i;

		for (i = 0; i < vlen && isdigit(v[i]) && cl < (1ll << 50); i++)
			cl = cl * 10 + (v[i] - '0');
		if (i == 0 || i != vlen) {
			nj_al_event(c, dir,
				    dir ? "INVALID_CONTENT_LENGTH_FIELD_IN_RESPONSE"
					: "INVALID_CONTENT_LENGTH_FIELD_IN_REQUEST");
		} else {
			if (sd->cl >= 0 && sd->cl != cl)
				nj_al_event(c, dir,
					    dir ? "DUPLICATE_CONTENT_LENGTH_FIELD_IN_RESPONSE"
						: "DUPLICATE_CONTENT_LENGTH_FIELD_IN_REQUEST");
			sd->cl = cl;
		}
	} else if (ieq(l, nlen, "Transfer-Encoding")) {
		if (vlen >= 7 && strncasecmp((const char *)v + vlen - 7, "chunked", 7) == 0)
			sd->chunked = 1;
		else
			nj_al_event(c, dir,
				    dir ? "INVALID_TRANSFER_ENCODING_VALUE_IN_RESPONSE"
					: "INVALID_TRANSFER_ENCODING_VALUE_IN_REQUEST");
	} else if (ieq(l, nlen, "Content-Encoding")) {
		if (vlen >= 4 && (strncasecmp((const char *)v, "gzip", 4) == 0 ||
				  strncasecmp((const char *)v, "x-gzip", 6) == 0))
			sd->gzip = 1;
		else if (vlen >= 7 && strncasecmp((const char *)v, "deflate", 7) == 0)
			sd->deflate = 1;
	} else if (ieq(l, nlen, "Content-Type")) {
		if (dir)
			arena_put(tx, &tx->resp_ctype, v, vlen);
		else
			arena_put(tx, &tx->req_ctype, v, vlen);
	} else if (dir == NJ_DIR_TOSERVER) {
		if (ieq(l, nlen, "Host") && !tx->host.len) {
			const uint8_t *pc = memchr(v, ':', vlen);
			uint8_t low[256];
			uint32_t hl = pc ? (uint32_t)(pc - v) : vlen;

			if (hl > sizeof(low))
				hl = sizeof(low);
			for (uint32_t i = 0; i < hl; i++)
				low[i] = (uint8_t)tolower(v[i]);
			arena_put(tx, &tx->host, low, hl);
			if (pc)
				arena_put(tx, &tx->port, pc + 1, (uint32_t)(v + vlen - pc - 1));
		} else if (ieq(l, nlen, "User-Agent")) {
			arena_put(tx, &tx->ua, v, vlen);
		} else if (ieq(l, nlen, "Cookie")) {
			arena_put(tx, &tx->cookie, v, vlen);
		} else if (ieq(l, nlen, "Referer")) {
			arena_put(tx, &tx->referer, v, vlen);
		}
	} else if (ieq(l, nlen, "Location")) {
		arena_put(tx, &tx->location, v, vlen);
	}
}

/* ------------------------------------------------------------------ parse */

static int32_t http_parse(void *stp, struct nj_al_ctx *c, int dir, const uint8_t *data,
			  uint32_t len)
{
	struct state *s = stp;
	struct side *sd = &s->s[dir];
	uint32_t used = 0;

	while (used < len) {
		const uint8_t *d = data + used;
		uint32_t n = len - used;
		const uint8_t *lf;

		switch (sd->st) {
		case ST_LINE:
		case ST_HEADERS:
		case ST_CHUNK_SIZE:
		case ST_CHUNK_CRLF:
		case ST_TRAILERS:
			lf = find_lf(d, n);
			if (!lf) {
				if (n > MAX_LINE) {
					nj_al_event(c, dir,
						    dir ? "RESPONSE_FIELD_TOO_LONG"
							: "REQUEST_FIELD_TOO_LONG");
					sd->st = ST_DEAD;
					return (int32_t)len;
				}
				return (int32_t)used; /* wait for the rest of the line */
			}
			break;
		default: lf = NULL; break;
		}
		switch (sd->st) {
		case ST_LINE: {
			uint32_t ll = line_len(d, lf);

			used += (uint32_t)(lf - d) + 1;
			if (ll == 0)
				continue; /* empty lines between messages */
			sd->cl = -1;
			sd->chunked = sd->gzip = sd->deflate = 0;
			sd->hraw.len = sd->hnorm.len = 0;
			if (dir == NJ_DIR_TOSERVER) {
				parse_request_line(c, s, sd, d, ll);
				/* HTTP/0.9: a request line without a protocol has no headers */
				if (sd->tx && !sd->tx->protocol.len) {
					tx_done(s, sd->tx, 0);
					sd->tx = NULL;
					continue;
				}
			} else {
				if (ll < 5 || memcmp(d, "HTTP/", 5) != 0) {
					/* not a status line: body data of an unknown message */
					nj_al_event(c, dir, "RESPONSE_LINE_INVALID");
					continue;
				}
				parse_status_line(c, s, sd, d, ll);
			}
			sd->st = ST_HEADERS;
			break;
		}
		case ST_HEADERS: {
			uint32_t ll = line_len(d, lf);

			/* folded continuation line */
			if (ll && (d[0] == ' ' || d[0] == '\t')) {
				used += (uint32_t)(lf - d) + 1;
				continue;
			}
			used += (uint32_t)(lf - d) + 1;
			if (ll == 0) {
				if (dir == NJ_DIR_TOSERVER && sd->tx && !sd->tx->host.len &&
				    sd->tx->protocol.len >= 8 &&
				    memcmp(nj_http_str_ptr(sd->tx, sd->tx->protocol), "HTTP/1.1",
					   8) == 0)
					nj_al_event(c, dir, "MISSING_HOST_HEADER");
				if (sd->tx) {
					struct nj_http_tx *tx = sd->tx;

					arena_put(tx,
						  dir ? &tx->resp_headers_raw
						      : &tx->req_headers_raw,
						  sd->hraw.b, sd->hraw.len);
					arena_put(tx, dir ? &tx->resp_headers : &tx->req_headers,
						  sd->hnorm.b, sd->hnorm.len);
				}
				sd->hraw.len = sd->hnorm.len = 0;
				body_start(c, s, sd, dir);
				continue;
			}
			header(c, sd, dir, d, ll);
			break;
		}
		case ST_BODY_CL: {
			uint32_t k = n < sd->left ? n : (uint32_t)sd->left;

			body_data(c, sd, dir, d, k);
			used += k;
			sd->left -= k;
			if (!sd->left)
				msg_end(c, s, sd, dir);
			break;
		}
		case ST_CHUNK_SIZE: {
			uint64_t sz = 0;
			uint32_t i = 0, ll = line_len(d, lf);

			used += (uint32_t)(lf - d) + 1;
			while (i < ll && (d[i] == ' ' || d[i] == '\t'))
				i++;
			if (i == ll || !isxdigit(d[i])) {
				if (ll == 0)
					continue; /* tolerate an extra CRLF */
				nj_al_event(c, dir, "INVALID_CHUNK_LEN");
				sd->st = ST_DEAD;
				return (int32_t)len;
			}
			for (; i < ll && isxdigit(d[i]) && sz < (1ull << 40); i++)
				sz = sz * 16 + (uint64_t)(isdigit(d[i])
								  ? d[i] - '0'
								  : (tolower(d[i]) - 'a' + 10));
			sd->left = sz;
			sd->st = sz ? ST_CHUNK_DATA : ST_TRAILERS;
			break;
		}
		case ST_CHUNK_DATA: {
			uint32_t k = n < sd->left ? n : (uint32_t)sd->left;

			body_data(c, sd, dir, d, k);
			used += k;
			sd->left -= k;
			if (!sd->left)
				sd->st = ST_CHUNK_CRLF;
			break;
		}
		case ST_CHUNK_CRLF:
			used += (uint32_t)(lf - d) + 1;
			sd->st = ST_CHUNK_SIZE;
			break;
		case ST_TRAILERS:
			used += (uint32_t)(lf - d) + 1;
			if (line_len(d, lf) == 0)
				msg_end(c, s, sd, dir);
			break;
		case ST_BODY_CLOSE:
			body_data(c, sd, dir, d, n);
			used += n;
			break;
		case ST_TUNNEL:
		case ST_DEAD:
		default: return (int32_t)len;
		}
	}
	return (int32_t)used;
}

static void http_gap(void *stp, struct nj_al_ctx *c, int dir, uint32_t len)
{
	struct state *s = stp;
	struct side *sd = &s->s[dir];

	if (sd->file)
		nj_file_gap(sd->file, len);
	if ((sd->st == ST_BODY_CL || sd->st == ST_CHUNK_DATA) && len <= sd->left) {
		/* inside a body: the message goes on after the hole */
		if (sd->tx) {
			if (dir == NJ_DIR_TOSERVER)
				sd->tx->req_len += len;
			else
				sd->tx->resp_len += len;
		}
		sd->left -= len;
		if (!sd->left) {
			if (sd->st == ST_BODY_CL)
				msg_end(c, s, sd, dir);
			else
				sd->st = ST_CHUNK_CRLF;
		}
		return;
	}
	if (sd->st == ST_BODY_CLOSE)
		return;
	/* lost sync: end the message and look for the next start line */
	if (sd->tx) {
		file_close(c, sd, sd->tx, NJ_FILE_TRUNCATED);
		tx_done(s, sd->tx, dir);
	}
	if (sd->z_on) {
		inflateEnd(&sd->z);
		sd->z_on = 0;
	}
	sd->tx = NULL;
	sd->st = sd->st == ST_TUNNEL ? ST_TUNNEL : ST_LINE;
}

static void http_close(void *stp, struct nj_al_ctx *c, int dir)
{
	struct state *s = stp;
	struct side *sd = &s->s[dir];

	if (sd->st == ST_BODY_CLOSE) {
		msg_end(c, s, sd, dir);
	} else if (sd->tx) {
		if (sd->z_on) {
			inflateEnd(&sd->z);
			sd->z_on = 0;
		}
		file_close(c, sd, sd->tx, NJ_FILE_TRUNCATED);
		tx_done(s, sd->tx, dir);
		sd->tx = NULL;
	}
	/* a closed direction completes the transactions still waiting on it */
	for (struct nj_al_tx *t = s->q.head; t; t = t->next)
		tx_done(s, (struct nj_http_tx *)t, dir);
}

static void *http_state_new(void)
{
	struct state *s = calloc(1, sizeof(*s));

	if (s)
		s->s[0].cl = s->s[1].cl = -1;
	return s;
}

static void http_tx_free(void *st, struct nj_al_tx *t)
{
	struct state *s = st;
	struct nj_http_tx *tx = (struct nj_http_tx *)t;

	for (int d = 0; d < 2; d++)
		if (s->s[d].tx == tx) {
			/* still being filled: the side forgets it */
			s->s[d].tx = NULL;
			if (s->s[d].file) {
				nj_file_close(s->s[d].file, NJ_FILE_TRUNCATED, 0, NULL, NULL);
				s->s[d].file = NULL;
			}
		}
	if (!(t->done[0] && t->done[1]) && s->open)
		s->open--;
	free(tx->buf);
	free(tx);
}

static void http_state_free(void *st)
{
	struct state *s = st;
	struct nj_al_tx *t = s->q.head;

	for (int d = 0; d < 2; d++) {
		free(s->s[d].hraw.b);
		free(s->s[d].hnorm.b);
		if (s->s[d].z_on)
			inflateEnd(&s->s[d].z);
		if (s->s[d].file)
			nj_file_close(s->s[d].file, NJ_FILE_TRUNCATED, 0, NULL, NULL);
	}
	while (t) {
		struct nj_al_tx *n = t->next;
		struct nj_http_tx *tx = (struct nj_http_tx *)t;

		free(tx->buf);
		free(tx);
		t = n;
	}
	free(s);
}

static struct nj_al_txq *http_txq(void *st)
{
	return &((struct state *)st)->q;
}

/* ------------------------------------------------------------------ EVE */

static void jstr(struct nj_json *j, const char *key, const struct nj_http_tx *tx,
		 struct nj_http_str s)
{
	if (s.len)
		nj_json_strn(j, key, nj_http_str_ptr(tx, s), s.len);
}

static void write_http_obj(struct nj_json *j, const struct nj_http_tx *tx, bool files)
{
	nj_json_open_obj(j, "http");
	jstr(j, "hostname", tx, tx->host);
	if (tx->port.len) {
		uint64_t port = 0;
		const uint8_t *p = nj_http_str_ptr(tx, tx->port);

		for (uint32_t i = 0; i < tx->port.len && isdigit(p[i]); i++)
			port = port * 10 + (uint64_t)(p[i] - '0');
		if (port && port < 65536)
			nj_json_u64(j, "http_port", port);
	}
	jstr(j, "url", tx, tx->uri_raw);
	jstr(j, "http_user_agent", tx, tx->ua);
	jstr(j, "http_content_type", tx, tx->resp_ctype);
	jstr(j, "http_refer", tx, tx->referer);
	jstr(j, "http_method", tx, tx->method);
	jstr(j, "protocol", tx, tx->protocol);
	if (tx->status)
		nj_json_u64(j, "status", tx->status);
	jstr(j, "redirect", tx, tx->location);
	if (tx->al.done[1] || files)
		nj_json_u64(j, "length", tx->resp_len);
	nj_json_close_obj(j);
}

static void http_log(struct nj_al_log *lg, const struct nj_flow *f, const struct nj_al_tx *t)
{
	struct nj_json *j = nj_al_log_begin(lg, t, NJ_DIR_TOSERVER);

	(void)f;
	write_http_obj(j, (const struct nj_http_tx *)t, false);
	nj_al_log_commit(lg);
}

/* ------------------------------------------------------------------ buffers */

#define BUF_GETTER(name, field)                                                    \
	static bool name(const struct nj_al_tx *t, const uint8_t **d, uint32_t *n) \
	{                                                                          \
		const struct nj_http_tx *tx = (const struct nj_http_tx *)t;        \
		if (!tx->field.len)                                                \
			return false;                                              \
		*d = nj_http_str_ptr(tx, tx->field);                               \
		*n = tx->field.len;                                                \
		return true;                                                       \
	}

BUF_GETTER(b_uri, uri)
BUF_GETTER(b_uri_raw, uri_raw)
BUF_GETTER(b_method, method)
BUF_GETTER(b_protocol, protocol)
BUF_GETTER(b_host, host)
BUF_GETTER(b_ua, ua)
BUF_GETTER(b_cookie, cookie)
BUF_GETTER(b_referer, referer)
BUF_GETTER(b_req_headers, req_headers)
BUF_GETTER(b_req_headers_raw, req_headers_raw)
BUF_GETTER(b_req_line, req_line)
BUF_GETTER(b_req_body, req_body)
BUF_GETTER(b_stat_code, stat_code)
BUF_GETTER(b_stat_msg, stat_msg)
BUF_GETTER(b_resp_line, resp_line)
BUF_GETTER(b_resp_headers, resp_headers)
BUF_GETTER(b_resp_headers_raw, resp_headers_raw)
BUF_GETTER(b_resp_body, resp_body)
BUF_GETTER(b_resp_ctype, resp_ctype)
BUF_GETTER(b_req_ctype, req_ctype)

static const struct nj_al_buffer http_buffers[] = {
	{"http.uri", NJ_DIR_TOSERVER, b_uri},
	{"http.uri.raw", NJ_DIR_TOSERVER, b_uri_raw},
	{"http.method", NJ_DIR_TOSERVER, b_method},
	{"http.protocol", NJ_DIR_TOSERVER, b_protocol},
	{"http.host", NJ_DIR_TOSERVER, b_host},
	{"http.user_agent", NJ_DIR_TOSERVER, b_ua},
	{"http.cookie", NJ_DIR_TOSERVER, b_cookie},
	{"http.referer", NJ_DIR_TOSERVER, b_referer},
	{"http.header", NJ_DIR_TOSERVER, b_req_headers},
	{"http.header.raw", NJ_DIR_TOSERVER, b_req_headers_raw},
	{"http.request_line", NJ_DIR_TOSERVER, b_req_line},
	{"http.request_body", NJ_DIR_TOSERVER, b_req_body},
	{"http.content_type", NJ_DIR_TOSERVER, b_req_ctype},
	{"file.data", NJ_DIR_TOSERVER, b_req_body},
	{"http.stat_code", NJ_DIR_TOCLIENT, b_stat_code},
	{"http.stat_msg", NJ_DIR_TOCLIENT, b_stat_msg},
	{"http.response_line", NJ_DIR_TOCLIENT, b_resp_line},
	{"http.header", NJ_DIR_TOCLIENT, b_resp_headers},
	{"http.response_header", NJ_DIR_TOCLIENT, b_resp_headers},
	{"http.header.raw", NJ_DIR_TOCLIENT, b_resp_headers_raw},
	{"http.response_body", NJ_DIR_TOCLIENT, b_resp_body},
	{"http.content_type", NJ_DIR_TOCLIENT, b_resp_ctype},
	{"file.data", NJ_DIR_TOCLIENT, b_resp_body},
	{NULL, 0, NULL},
};

static int http_configure(const struct nj_conf *conf)
{
	uint64_t v;
	int64_t m = cfg.max_tx;

	if (!conf)
		return 0;
	v = cfg.req_body_limit;
	if (nj_conf_size(conf, NULL,
			 "app-layer.protocols.http.libhtp.default-config.request-body-limit",
			 &v) < 0)
		return -1;
	cfg.req_body_limit = v > (1u << 20) ? (1u << 20) : (uint32_t)v;
	v = cfg.resp_body_limit;
	if (nj_conf_size(conf, NULL,
			 "app-layer.protocols.http.libhtp.default-config.response-body-limit",
			 &v) < 0)
		return -1;
	cfg.resp_body_limit = v > (1u << 20) ? (1u << 20) : (uint32_t)v;
	if (nj_conf_int(conf, NULL, "app-layer.protocols.http.max-tx", 1, 1 << 20, &m) < 0)
		return -1;
	cfg.max_tx = (uint32_t)m;
	return 0;
}

struct nj_app_parser nj_http_parser = {
	.name = "http",
	.ipproto_mask = NJ_AL_TCP,
	.ports = {80, 8080, 8000, 3128, 8008, 8081, 0},
	.probe_min = 4,
	.eve = NJ_EVE_HTTP,
	.probe = http_probe,
	.state_new = http_state_new,
	.state_free = http_state_free,
	.parse = http_parse,
	.gap = http_gap,
	.close = http_close,
	.txq = http_txq,
	.tx_free = http_tx_free,
	.log_tx = http_log,
	.buffers = http_buffers,
	.configure = http_configure,
};

NJ_APP_PARSER_REGISTER(nj_http_parser)
