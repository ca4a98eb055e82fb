/* SPDX-License-Identifier: MIT */
/*
 * HTTP/1.x parser: one state machine per direction driven by parse() with
 * whatever bytes arrived in order. The parser always consumes everything it
 * is given: an element that is not complete yet (a line, a header block) is
 * kept in the direction's pend buffer (bounded by meta-field-limit and
 * max-header-bytes) and completed with the next bytes, so close() can still
 * finish it. Bodies stream through without copies except into the bounded
 * inspection buffer.
 *
 * Transactions are created when a request line is complete (or when a
 * response comes without a request); responses are matched to requests in
 * order. See http.h for the semantics and where they differ from libhtp.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../../common/nj_common.h"
#include "../../config/config.h"
#include "http_priv.h"

NJ_CONF_KEY(http_max_tx, "app-layer.protocols.http.max-tx", NJ_CT_INT, "512",
	    "HTTP transactions kept open per flow; a request beyond it stops the flow's HTTP "
	    "parsing (event TOO_MANY_TRANSACTIONS), as libhtp.")
NJ_CONF_KEY(http_hdr_bytes, "app-layer.protocols.http.max-header-bytes", NJ_CT_SIZE, "256kb",
	    "Largest HTTP header block (or trailer) kept per message; larger stops the direction "
	    "(REQUEST_FIELD_TOO_LONG / RESPONSE_FIELD_TOO_LONG).")
NJ_CONF_KEY(http_req_lim, "app-layer.protocols.http.libhtp.default-config.request-body-limit",
	    NJ_CT_SIZE, "100kb", "Request body bytes kept for http.request_body / file.data.")
NJ_CONF_KEY(http_resp_lim, "app-layer.protocols.http.libhtp.default-config.response-body-limit",
	    NJ_CT_SIZE, "100kb",
	    "Response body bytes (decompressed) kept for http.response_body / file.data.")
NJ_CONF_KEY(http_field, "app-layer.protocols.http.libhtp.default-config.meta-field-limit",
	    NJ_CT_SIZE, "18kb", "Longest HTTP start line, header line or chunk line.")
NJ_CONF_KEY(http_hlimit, "app-layer.protocols.http.libhtp.default-config.headers-limit", NJ_CT_INT,
	    "1024", "Headers per HTTP message (REQUEST_TOO_MANY_HEADERS beyond).")
NJ_CONF_KEY(http_layers,
	    "app-layer.protocols.http.libhtp.default-config.response-body-decompress-layer-limit",
	    NJ_CT_INT, "2", "Content-Encoding layers decompressed (0: no limit).")
NJ_CONF_KEY(http_bomb, "app-layer.protocols.http.libhtp.default-config.compression-bomb-limit",
	    NJ_CT_SIZE, "1mb",
	    "Decompressed bytes per body allowed above a 2048:1 ratio (COMPRESSION_BOMB).")
NJ_CONF_KEY(http_incall, "app-layer.protocols.http.libhtp.default-config.uri-include-all",
	    NJ_CT_BOOL, "no", "http.uri includes scheme, host and port of absolute URIs.")
NJ_CONF_KEY(http_ddpath, "app-layer.protocols.http.libhtp.default-config.double-decode-path",
	    NJ_CT_BOOL, "no", "Percent-decode the URI path twice (DOUBLE_ENCODED_URI).")
NJ_CONF_KEY(http_ddquery, "app-layer.protocols.http.libhtp.default-config.double-decode-query",
	    NJ_CT_BOOL, "no", "Percent-decode the URI query twice (DOUBLE_ENCODED_URI).")
NJ_CONF_KEY(http_perso, "app-layer.protocols.http.libhtp.default-config.personality", NJ_CT_STR,
	    "IDS", "libhtp personality; only IDS (Suricata's default) is implemented.")
NJ_CONF_KEY(http_libhtp, "app-layer.protocols.http.libhtp", NJ_CT_MAP, "",
	    "Other libhtp settings (server-config, inspection windows...): accepted, not used.")
NJ_CONF_KEY(http_eve_xff, "outputs.*.eve-log.xff", NJ_CT_MAP, "",
	    "X-Forwarded-For: enabled, mode (extra-data), deployment (forward|reverse), header.")

static struct nj_http_config http_cfg = {
	.max_tx = 512,
	.req_body_limit = 100 * 1024,
	.resp_body_limit = 100 * 1024,
	.field_limit = 18 * 1024,
	.header_bytes = 256 * 1024,
	.headers_limit = 1024,
	.layer_limit = 2,
	.bomb_limit = 1024 * 1024,
	.request_decompression = true,
	.extended = true,
	.xff_header = "X-Forwarded-For",
};

void nj_http_config_defaults(struct nj_http_config *c)
{
	memset(c, 0, sizeof(*c));
	c->max_tx = 512;
	c->req_body_limit = 100 * 1024;
	c->resp_body_limit = 100 * 1024;
	c->field_limit = 18 * 1024;
	c->header_bytes = 256 * 1024;
	c->headers_limit = 1024;
	c->layer_limit = 2;
	c->bomb_limit = 1024 * 1024;
	c->request_decompression = true;
	c->extended = true;
	snprintf(c->xff_header, sizeof(c->xff_header), "X-Forwarded-For");
}

void nj_http_config_set(const struct nj_http_config *c)
{
	http_cfg = *c;
	if (http_cfg.max_tx == 0)
		http_cfg.max_tx = 1;
	if (http_cfg.field_limit < 64)
		http_cfg.field_limit = 64;
	if (http_cfg.header_bytes < 256)
		http_cfg.header_bytes = 256;
	if (http_cfg.headers_limit == 0)
		http_cfg.headers_limit = 1;
}

const struct nj_http_config *nj_http_config_get(void)
{
	return &http_cfg;
}

/* Every anomaly the parser raises; the index is the bit in nj_http_tx.evbits. */
const char *const nj_http_event_names[] = {
	"REQUEST_FIELD_MISSING_COLON",
	"RESPONSE_FIELD_MISSING_COLON",
	"REQUEST_HEADER_INVALID",
	"RESPONSE_HEADER_INVALID",
	"INVALID_REQUEST_FIELD_FOLDING",
	"INVALID_RESPONSE_FIELD_FOLDING",
	"REQUEST_HEADER_REPETITION",
	"RESPONSE_HEADER_REPETITION",
	"REQUEST_TOO_MANY_HEADERS",
	"RESPONSE_TOO_MANY_HEADERS",
	"REQUEST_FIELD_TOO_LONG",
	"RESPONSE_FIELD_TOO_LONG",
	"INVALID_REQUEST_CHUNK_LEN",
	"INVALID_RESPONSE_CHUNK_LEN",
	"REQUEST_CHUNK_EXTENSION",
	"RESPONSE_CHUNK_EXTENSION",
	"INVALID_CONTENT_LENGTH_FIELD_IN_REQUEST",
	"INVALID_CONTENT_LENGTH_FIELD_IN_RESPONSE",
	"DUPLICATE_CONTENT_LENGTH_FIELD_IN_REQUEST",
	"DUPLICATE_CONTENT_LENGTH_FIELD_IN_RESPONSE",
	"INVALID_TRANSFER_ENCODING_VALUE_IN_REQUEST",
	"MISSING_HOST_HEADER",
	"HOST_HEADER_AMBIGUOUS",
	"REQUEST_URI_HOST_INVALID",
	"REQUEST_HEADER_HOST_INVALID",
	"REQUEST_AUTH_UNRECOGNIZED",
	"REQUEST_LINE_INVALID",
	"REQUEST_LINE_MISSING_PROTOCOL",
	"REQUEST_LINE_LEADING_WHITESPACE",
	"METHOD_DELIM_NON_COMPLIANT",
	"URI_DELIM_NON_COMPLIANT",
	"DOUBLE_ENCODED_URI",
	"REQUEST_BODY_UNEXPECTED",
	"RESPONSE_BODY_UNEXPECTED",
	"RESPONSE_INVALID_PROTOCOL",
	"RESPONSE_INVALID_STATUS",
	"100_CONTINUE_ALREADY_SEEN",
	"UNABLE_TO_MATCH_RESPONSE_TO_REQUEST",
	"RESPONSE_ABNORMAL_TRANSFER_ENCODING",
	"RESPONSE_CHUNKED_OLD_PROTO",
	"RESPONSE_MULTIPART_BYTERANGES",
	"ABNORMAL_CE_HEADER",
	"TOO_MANY_ENCODING_LAYERS",
	"COMPRESSION_BOMB",
	"RANGE_INVALID",
	"TOO_MANY_TRANSACTIONS",
	"FAILED_PROTOCOL_CHANGE",
	"MULTIPART_GENERIC_ERROR",
	"MULTIPART_NO_FILEDATA",
	"MULTIPART_INVALID_HEADER",
	NULL,
};

int nj_http_event_index(const char *name)
{
	for (int i = 0; nj_http_event_names[i]; i++)
		if (strcasecmp(nj_http_event_names[i], name) == 0)
			return i;
	return -1;
}

void http_event(struct nj_al_ctx *c, struct nj_http_tx *tx, int dir, const char *name)
{
	if (tx) {
		int i = nj_http_event_index(name);

		if (i >= 0)
			tx->evbits |= 1ull << i;
	}
	if (c)
		nj_al_event(c, dir, name);
}

bool nj_http_state_tunnel(const void *state)
{
	return state && ((const struct http_state *)state)->tunnel;
}

/* ------------------------------------------------------------------ transactions */

static const struct nj_http_str str_none = {NJ_HTTP_NONE, 0, 0};

static struct nj_http_tx *tx_new(struct http_state *s, struct nj_al_ctx *c, int dir)
{
	struct nj_http_tx *tx;

	if (s->q.count >= http_cfg.max_tx) {
		http_event(c, NULL, dir, "TOO_MANY_TRANSACTIONS");
		return NULL;
	}
	tx = calloc(1, sizeof(*tx));
	if (!tx)
		return NULL;
	for (int d = 0; d < 2; d++) {
		tx->m[d].line = str_none;
		tx->m[d].hraw = str_none;
	}
	tx->method = tx->uri = tx->protocol = str_none;
	tx->uri_norm = tx->path = tx->host = tx->host_raw = str_none;
	tx->resp_protocol = tx->status = tx->message = str_none;
	tx->file_magic[0] = tx->file_magic[1] = str_none;
	tx->port = -1;
	tx->status_num = -1;
	tx->req_proto = NJ_HTTP_PROTO_UNKNOWN;
	tx->resp_proto = NJ_HTTP_PROTO_UNKNOWN;
	nj_al_tx_add(&s->q, &tx->al);
	s->ntx++;
	return tx;
}

static void msg_free(struct nj_http_msg *m)
{
	http_buf_free(&m->raw);
	http_buf_free(&m->der);
	http_buf_free(&m->body);
	free(m->hdrs);
	m->hdrs = NULL;
	m->nhdrs = m->hcap = 0;
}

static void tx_free_mem(struct nj_http_tx *tx)
{
	http_mp_tx_free(tx);
	msg_free(&tx->m[0]);
	msg_free(&tx->m[1]);
	free(tx);
}

static void *http_state_new(void)
{
	return calloc(1, sizeof(struct http_state));
}

static void http_state_free(void *st)
{
	struct http_state *s = st;
	struct nj_al_tx *t, *next;

	if (!s)
		return;
	for (int d = 0; d < 2; d++)
		http_body_file_close(s, NULL, d, false);
	for (t = s->q.head; t; t = next) {
		next = t->next;
		tx_free_mem(nj_http_tx_of(t));
	}
	for (int d = 0; d < 2; d++) {
		http_buf_free(&s->d[d].pend);
		http_dz_free(s->d[d].dz);
	}
	free(s);
}

static struct nj_al_txq *http_txq(void *st)
{
	return &((struct http_state *)st)->q;
}

static void http_tx_free(void *st, struct nj_al_tx *t)
{
	struct http_state *s = st;

	if (s->last_req == nj_http_tx_of(t))
		s->last_req = NULL;
	/* a transaction is freed only when both directions are done (or at flow end) */
	for (int d = 0; d < 2; d++)
		if (s->d[d].tx == nj_http_tx_of(t)) {
			http_body_file_close(s, NULL, d, false);
			http_dz_free(s->d[d].dz);
			s->d[d].dz = NULL;
			s->d[d].body_open = 0;
			s->d[d].file_open = 0;
			s->d[d].tx = NULL;
		}
	tx_free_mem(nj_http_tx_of(t));
}

bool nj_http_header(const struct nj_http_tx *tx, int dir, const char *name, const uint8_t **val,
		    uint32_t *len)
{
	const struct nj_http_msg *m = &tx->m[dir];
	char lname[64];
	uint32_t l = (uint32_t)strlen(name);

	/* callers mostly pass lower case already; fold once here */
	if (l >= sizeof(lname))
		l = sizeof(lname) - 1;
	for (uint32_t i = 0; i < l; i++)
		lname[i] = (char)http_lower((uint8_t)name[i]);
	lname[l] = 0;
	for (uint32_t i = 0; i < m->nhdrs; i++) {
		const struct nj_http_hdr *h = &m->hdrs[i];

		if (http_hdr_is(h, nj_http_ptr(tx, dir, h->name), lname, l)) {
			*val = nj_http_ptr(tx, dir, h->value);
			*len = h->value.len;
			return true;
		}
	}
	return false;
}

/* name in lower case */
static const struct nj_http_hdr *hdr_get(const struct nj_http_tx *tx, int dir, const char *name)
{
	const struct nj_http_msg *m = &tx->m[dir];
	uint32_t l = (uint32_t)strlen(name);

	for (uint32_t i = 0; i < m->nhdrs; i++)
		if (http_hdr_is(&m->hdrs[i], nj_http_ptr(tx, dir, m->hdrs[i].name), name, l))
			return &m->hdrs[i];
	return NULL;
}

/* ------------------------------------------------------------------ completion */

static void set_dead(struct http_state *s, struct nj_al_ctx *c, int dir);

static void req_complete(struct http_state *s, struct nj_al_ctx *c, bool complete)
{
	struct http_dir *d = &s->d[0];
	struct nj_http_tx *tx = d->tx;

	if (!tx)
		return;
	s->last_req = complete && !tx->is09 ? tx : NULL;
	s->last_req_cl = d->st == ST_BODY_CL;
	http_body_end(s, c, 0, complete);
	if (!complete)
		tx->m[0].truncated = 1;
	tx->al.progress[0] = NJ_HTTP_PROGRESS_COMPLETE;
	tx->al.done[0] = 1;
	d->tx = NULL;
	d->left = 0;
}

static void resp_complete(struct http_state *s, struct nj_al_ctx *c, bool complete)
{
	struct http_dir *d = &s->d[1];
	struct nj_http_tx *tx = d->tx;

	if (!tx)
		return;
	http_body_end(s, c, 1, complete);
	if (!complete)
		tx->m[1].truncated = 1;
	tx->al.progress[1] = NJ_HTTP_PROGRESS_COMPLETE;
	tx->al.done[1] = 1;
	d->tx = NULL;
	d->left = 0;
	d->midline = 0;
}

static void set_dead(struct http_state *s, struct nj_al_ctx *c, int dir)
{
	if (dir == 0)
		req_complete(s, c, false);
	else
		resp_complete(s, c, false);
	s->d[dir].st = ST_DEAD;
}

static void set_tunnel(struct http_state *s)
{
	s->tunnel = true;
	for (int d = 0; d < 2; d++) {
		s->d[d].st = ST_TUNNEL;
		s->d[d].pend.len = 0;
	}
}

/* ------------------------------------------------------------------ request line */

static void req_line_parse(struct nj_al_ctx *c, struct nj_http_tx *tx)
{
	struct nj_http_msg *m = &tx->m[0];
	const uint8_t *p = m->raw.p + m->line.off;
	uint32_t n = m->line.len, i = 0, ms, me, rs, re, us, ue, ps = 0, pe = 0, sp;
	bool bad_delim = false, found = false;
	unsigned fl;

	while (i < n && http_is_space(p[i]))
		i++;
	if (i > 0)
		http_event(c, tx, 0, "REQUEST_LINE_LEADING_WHITESPACE");
	ms = i;
	while (i < n && !http_is_space(p[i]))
		i++;
	me = i;
	while (i < n && http_is_space(p[i])) {
		if (p[i] != ' ')
			bad_delim = true;
		i++;
	}
	if (bad_delim)
		http_event(c, tx, 0, "METHOD_DELIM_NON_COMPLIANT");
	tx->method = (struct nj_http_str){m->line.off + ms, me - ms, 0};
	tx->method_id = (uint8_t)http_method_id(p + ms, me - ms);
	if (i >= n) {
		/* method only: HTTP/0.9 */
		tx->is09 = 1;
		tx->req_proto = NJ_HTTP_PROTO_0_9;
		if (tx->method_id == NJ_HTTP_M_UNKNOWN)
			http_event(c, tx, 0, "REQUEST_LINE_INVALID");
		return;
	}
	rs = i;
	re = n;
	while (re > rs && http_is_space(p[re - 1]))
		re--;
	/* URI up to the last blank (spaces allowed in the URI, as Suricata configures libhtp) */
	for (sp = re; sp > rs; sp--)
		if (p[sp - 1] == ' ') {
			found = true;
			break;
		}
	if (found) {
		us = rs;
		ue = sp - 1;
		ps = sp;
		pe = re;
	} else {
		us = rs;
		ue = re;
	}
	while (ue > us && http_is_space(p[ue - 1]))
		ue--;
	while (ps < pe && http_is_space(p[ps]))
		ps++;
	{
		bool other = false;

		for (uint32_t k = us; k < ue; k++)
			if (http_is_space(p[k]) && p[k] != ' ')
				other = true;
		if (other) {
			http_event(c, tx, 0, "URI_DELIM_NON_COMPLIANT");
			if (!found) {
				/* retry splitting on any white space */
				for (sp = re; sp > rs; sp--)
					if (http_is_space(p[sp - 1]))
						break;
				if (sp > rs) {
					ue = sp - 1;
					ps = sp;
					pe = re;
					while (ue > us && http_is_space(p[ue - 1]))
						ue--;
					while (ps < pe && http_is_space(p[ps]))
						ps++;
					found = true;
				}
			}
		}
	}
	tx->uri = (struct nj_http_str){m->line.off + us, ue - us, 0};
	if (!found || ps >= pe) {
		tx->is09 = 1;
		tx->req_proto = NJ_HTTP_PROTO_0_9;
		if (tx->method_id == NJ_HTTP_M_UNKNOWN)
			http_event(c, tx, 0, "REQUEST_LINE_INVALID");
	} else {
		tx->protocol = (struct nj_http_str){m->line.off + ps, pe - ps, 0};
		tx->req_proto = http_proto_parse(p + ps, pe - ps);
		if (tx->method_id == NJ_HTTP_M_UNKNOWN && tx->req_proto == NJ_HTTP_PROTO_INVALID)
			http_event(c, tx, 0, "REQUEST_LINE_INVALID");
	}
	fl = http_uri_process(tx);
	if (fl & HTTP_URI_HOST_INVALID)
		tx->flags |= NJ_HTTP_TXF_HOSTU_BAD;
	if (fl & HTTP_URI_DOUBLE_ENC)
		http_event(c, tx, 0, "DOUBLE_ENCODED_URI");
}

/* ------------------------------------------------------------------ request headers */

enum { CODING_NONE = 0, CODING_IDENTITY, CODING_CHUNKED, CODING_INVALID };

/* libhtp's process_request_headers and Suricata's request flag events. */
static int req_headers_done(struct http_state *s, struct nj_al_ctx *c, struct nj_http_tx *tx,
			    uint64_t *cl)
{
	const struct nj_http_hdr *te = hdr_get(tx, 0, "transfer-encoding");
	const struct nj_http_hdr *clh = hdr_get(tx, 0, "content-length");
	const struct nj_http_hdr *host = hdr_get(tx, 0, "host");
	const struct nj_http_hdr *auth = hdr_get(tx, 0, "authorization");
	int coding = CODING_NONE;

	(void)s;
	*cl = 0;
	if (te) {
		if (!http_contains_nocase_nozero(nj_http_ptr(tx, 0, te->value), te->value.len,
						 "chunked")) {
			coding = CODING_INVALID;
			http_event(c, tx, 0, "INVALID_TRANSFER_ENCODING_VALUE_IN_REQUEST");
		} else {
			if (tx->req_proto < NJ_HTTP_PROTO_1_1) {
				http_event(c, tx, 0, "INVALID_TRANSFER_ENCODING_VALUE_IN_REQUEST");
				tx->flags |= NJ_HTTP_TXF_SMUGGLING;
			}
			coding = CODING_CHUNKED;
			if (clh)
				tx->flags |= NJ_HTTP_TXF_SMUGGLING;
		}
	} else if (clh) {
		if (clh->flags & (NJ_HTTP_HDR_FOLDED | NJ_HTTP_HDR_REPEATED))
			tx->flags |= NJ_HTTP_TXF_SMUGGLING;
		if (http_cl_parse(nj_http_ptr(tx, 0, clh->value), clh->value.len, cl)) {
			coding = CODING_IDENTITY;
		} else {
			coding = CODING_INVALID;
			http_event(c, tx, 0, "INVALID_CONTENT_LENGTH_FIELD_IN_REQUEST");
		}
	}
	/* host: the URI's wins; the Host header fills in or disagrees */
	if (host) {
		const uint8_t *hp, *hv = nj_http_ptr(tx, 0, host->value);
		uint32_t hl;
		int32_t port;
		bool valid;

		if (!nj_http_has(tx->host_raw))
			tx->host_raw = host->value;
		if (http_hostport(hv, host->value.len, &hp, &hl, &port, &valid)) {
			if (!valid)
				http_event(c, tx, 0, "REQUEST_HEADER_HOST_INVALID");
			if (!nj_http_has(tx->host)) {
				uint8_t tmp[256];
				uint8_t *lw = hl <= sizeof(tmp) ? tmp : malloc(hl ? hl : 1);

				if (lw) {
					for (uint32_t k = 0; k < hl; k++)
						lw[k] = http_lower(hp[k]);
					tx->host = http_str_add(&tx->m[0], true, lw, hl);
					if (lw != tmp)
						free(lw);
				}
				if (port != -1)
					tx->port = port >= 0 ? port : -1;
			} else {
				bool amb = false;
				const uint8_t *uh = nj_http_ptr(tx, 0, tx->host);

				if (tx->host.len != hl)
					amb = true;
				else
					for (uint32_t k = 0; k < hl; k++)
						if (http_lower(uh[k]) != http_lower(hp[k]))
							amb = true;
				if (port != -1 && tx->port >= 0 && tx->port != port)
					amb = true;
				if (amb)
					http_event(c, tx, 0, "HOST_HEADER_AMBIGUOUS");
			}
		} else if (nj_http_has(tx->host)) {
			http_event(c, tx, 0, "HOST_HEADER_AMBIGUOUS");
		}
	} else if (tx->req_proto >= NJ_HTTP_PROTO_1_1) {
		http_event(c, tx, 0, "MISSING_HOST_HEADER");
	}
	if (tx->flags & NJ_HTTP_TXF_HOSTU_BAD)
		http_event(c, tx, 0, "REQUEST_URI_HOST_INVALID");
	if (auth) {
		const uint8_t *a = nj_http_ptr(tx, 0, auth->value);
		uint32_t al = auth->value.len;

		if (!(al >= 5 && strncasecmp((const char *)a, "basic", 5) == 0) &&
		    !(al >= 6 && strncasecmp((const char *)a, "digest", 6) == 0) &&
		    !(al >= 6 && strncasecmp((const char *)a, "bearer", 6) == 0))
			http_event(c, tx, 0, "REQUEST_AUTH_UNRECOGNIZED");
	}
	return coding;
}

/* ------------------------------------------------------------------ shared helpers */

/* Stores a start line (without its line end) in the message's raw buffer. */
static bool store_line(struct nj_http_msg *m, const uint8_t *p, uint32_t n)
{
	while (n && (p[n - 1] == '\r' || p[n - 1] == '\n'))
		n--;
	m->line = http_str_add(m, false, p, n);
	return nj_http_has(m->line);
}

/*
 * A header block or trailer starting at p: copies it to the message and parses
 * it. Returns bytes used (>0), 0 when more bytes are needed, -1 on a limit.
 */
static int64_t take_block(struct http_state *s, struct nj_al_ctx *c, int dir, struct nj_http_tx *tx,
			  const uint8_t *p, uint32_t n)
{
	struct http_dir *d = &s->d[dir];
	struct nj_http_msg *m = &tx->m[dir];
	uint32_t end, resume, off;
	int used;

	if (!http_eoh_find(dir, p, n, d->scan, d->closing, &end, &resume)) {
		if (!d->closing) {
			if (n > http_cfg.header_bytes) {
				http_event(c, tx, dir,
					   dir ? "RESPONSE_FIELD_TOO_LONG"
					       : "REQUEST_FIELD_TOO_LONG");
				return -1;
			}
			d->scan = resume;
			return 0;
		}
		end = n;
	}
	d->scan = 0;
	if (end > http_cfg.header_bytes) {
		http_event(c, tx, dir, dir ? "RESPONSE_FIELD_TOO_LONG" : "REQUEST_FIELD_TOO_LONG");
		return -1;
	}
	off = m->raw.len;
	if (!http_buf_add(&m->raw, p, end, UINT32_MAX))
		return -1;
	if (!nj_http_has(m->hraw))
		m->hraw = (struct nj_http_str){off, 0, 0};
	used = http_headers_parse(c, tx, dir, off, end);
	if (used < 0)
		return -1;
	if (used == 0)
		used = (int)end;
	/* the parser may end the block early (libhtp's grammar); the rest is body */
	m->raw.len = off + (uint32_t)used;
	m->hraw.len = m->raw.len - m->hraw.off;
	m->cached = 0;
	return used;
}

static bool is_chunk_ctl(uint8_t c)
{
	return c == '\r' || c == '\n' || c == ' ' || c == '\t' || c == 0x0b || c == 0x0c;
}

/* libhtp's is_valid_chunked_length_data: the first non-control byte is a hex digit (or none). */
static bool chunk_data_valid(const uint8_t *p, uint32_t n)
{
	uint32_t i = 0;

	while (i < n && is_chunk_ctl(p[i]))
		i++;
	return i == n || (p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f') ||
	       (p[i] >= 'A' && p[i] <= 'F');
}

/*
 * libhtp's parse_chunked_length over a line (with its LF): 1 with *len, 0 for
 * a length too large (ignored), -1 invalid. *ext: a ';' follows the digits.
 */
static int chunk_len_parse(const uint8_t *p, uint32_t n, uint64_t *len, bool *ext)
{
	uint32_t i = 0, ds;
	uint64_t v = 0;

	*ext = false;
	while (i < n && is_chunk_ctl(p[i]))
		i++;
	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	ds = i;
	while (i < n && ((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f') ||
			 (p[i] >= 'A' && p[i] <= 'F'))) {
		int h = p[i] <= '9' ? p[i] - '0' : (p[i] | 0x20) - 'a' + 10;

		if (v >> 60)
			return -1; /* overflows u64: libhtp's parse error */
		v = v << 4 | (uint64_t)h;
		i++;
	}
	if (i == ds)
		return -1;
	if (memchr(p + i, ';', n - i))
		*ext = true;
	if (v > 0x7fffffff)
		return 0;
	*len = v;
	return 1;
}

/* ------------------------------------------------------------------ request state machine */

static void resp_connect_resolved(struct http_state *s, struct nj_al_ctx *c, bool tunnel);

/* Processes p[0..n) of the request direction; returns bytes consumed, -1 when dead. */
static int64_t req_run(struct http_state *s, struct nj_al_ctx *c, const uint8_t *p, uint32_t n)
{
	struct http_dir *d = &s->d[0];
	uint32_t pos = 0;

	for (;;) {
		struct nj_http_tx *tx = d->tx;

		/* a message state without its transaction (defensive): start over */
		if (!tx && d->st != ST_IDLE && d->st != ST_RESYNC && d->st != ST_CONNECT_WAIT &&
		    d->st != ST_IGNORE && d->st != ST_TUNNEL && d->st != ST_DEAD)
			d->st = ST_IDLE;
		switch (d->st) {
		case ST_IDLE: {
			const uint8_t *lf;
			uint32_t end;

			if (pos >= n)
				return pos;
			/* (d->scan: bytes of this line already searched in an earlier call) */
			lf = pos + d->scan < n ? memchr(p + pos + d->scan, '\n', n - pos - d->scan)
					       : NULL;
			if (!lf) {
				if (n - pos > http_cfg.field_limit) {
					http_event(c, tx, 0, "REQUEST_FIELD_TOO_LONG");
					set_dead(s, c, 0);
					return -1;
				}
				if (!d->closing) {
					d->scan = n - pos;
					return pos;
				}
				end = n;
			} else {
				end = (uint32_t)(lf - p) + 1;
			}
			d->scan = 0;
			/* after a request: a line that is not a request line is more of its body */
			if (s->last_req) {
				uint32_t k = pos, ms;

				while (k < end && http_is_space(p[k]))
					k++;
				ms = k;
				while (k < end && !http_is_space(p[k]))
					k++;
				if (k == ms ||
				    http_method_id(p + ms, k - ms) == NJ_HTTP_M_UNKNOWN) {
					struct nj_http_tx *lr = s->last_req;

					/* libhtp: a line with an unknown method is flagged (once);
					 * a blank line is body without an anomaly */
					if (k > ms && !(lr->fevents[0] & 0x80)) {
						lr->fevents[0] |= 0x80;
						http_event(c, lr, 0, "REQUEST_BODY_UNEXPECTED");
					}
					lr->m[0].entity_len += end - pos;
					{
						uint32_t lim = http_cfg.req_body_limit;
						struct nj_http_buf *b = &lr->m[0].body;

						if (b->len < lim)
							http_buf_add(b, p + pos,
								     end - pos < lim - b->len
									     ? end - pos
									     : lim - b->len,
								     lim);
					}
					pos = end;
					break;
				}
				s->last_req = NULL;
			}
			/* empty lines before a request are ignored */
			if ((end - pos == 1 && p[pos] == '\n') ||
			    (end - pos == 2 && p[pos] == '\r' && p[pos + 1] == '\n')) {
				pos = end;
				break;
			}
			if (end - pos > http_cfg.field_limit) {
				http_event(c, tx, 0, "REQUEST_FIELD_TOO_LONG");
				set_dead(s, c, 0);
				return -1;
			}
			tx = tx_new(s, c, 0);
			if (!tx) {
				d->st = ST_DEAD;
				return -1;
			}
			d->tx = tx;
			if (!store_line(&tx->m[0], p + pos, end - pos)) {
				set_dead(s, c, 0);
				return -1;
			}
			tx->al.progress[0] = NJ_HTTP_PROGRESS_LINE;
			req_line_parse(c, tx);
			pos = end;
			d->st = tx->is09 ? ST_PROTO09 : ST_HEADERS;
			d->scan = 0;
			break;
		}
		case ST_PROTO09: {
			uint32_t k = pos;

			/* HTTP/0.9, or a request line missing its protocol? (libhtp: > 16 blanks
			 * or anything else after the line means headers follow) */
			while (k < n && http_is_space(p[k]))
				k++;
			if (k < n || k - pos > 16) {
				http_event(c, tx, 0, "REQUEST_LINE_MISSING_PROTOCOL");
				tx->is09 = 0;
				d->st = ST_HEADERS;
				d->scan = 0;
				break;
			}
			if (!d->closing)
				return pos;
			req_complete(s, c, true);
			d->st = ST_IGNORE;
			break;
		}
		case ST_HEADERS:
		case ST_TRAILERS: {
			int64_t used = take_block(s, c, 0, tx, p + pos, n - pos);
			uint64_t cl;
			int coding;

			if (used < 0) {
				set_dead(s, c, 0);
				return -1;
			}
			if (used == 0)
				return pos;
			pos += (uint32_t)used;
			if (d->st == ST_TRAILERS) {
				tx->m[0].has_trailer = 1;
				req_complete(s, c, true);
				d->st = ST_IDLE;
				break;
			}
			tx->al.progress[0] = NJ_HTTP_PROGRESS_HEADERS;
			coding = req_headers_done(s, c, tx, &cl);
			if (tx->method_id == NJ_HTTP_M_CONNECT) {
				/* no body; what follows depends on the response */
				req_complete(s, c, true);
				d->st = ST_CONNECT_WAIT;
				break;
			}
			if (coding == CODING_CHUNKED) {
				tx->al.progress[0] = NJ_HTTP_PROGRESS_BODY;
				http_body_begin(s, c, 0, tx, true);
				d->st = ST_CHUNK_LEN;
			} else if (coding == CODING_IDENTITY && cl > 0) {
				tx->al.progress[0] = NJ_HTTP_PROGRESS_BODY;
				http_body_begin(s, c, 0, tx, true);
				d->left = cl;
				d->st = ST_BODY_CL;
			} else if (coding == CODING_INVALID) {
				/* libhtp stops the request stream */
				set_dead(s, c, 0);
				return -1;
			} else {
				req_complete(s, c, true);
				d->st = ST_IDLE;
			}
			break;
		}
		case ST_BODY_CL:
		case ST_CHUNK_DATA: {
			uint32_t take = n - pos;

			if (take == 0) {
				if (d->closing) {
					req_complete(s, c, false);
					d->st = ST_IDLE;
				}
				return pos;
			}
			if (take > d->left)
				take = (uint32_t)d->left;
			http_body_data(s, c, 0, p + pos, take);
			pos += take;
			d->left -= take;
			if (d->left == 0) {
				if (d->st == ST_CHUNK_DATA) {
					d->st = ST_CHUNK_END;
				} else {
					req_complete(s, c, true);
					d->st = ST_IDLE;
				}
			}
			break;
		}
		case ST_CHUNK_END: {
			const uint8_t *lf = pos < n ? memchr(p + pos, '\n', n - pos) : NULL;

			if (!lf) {
				tx->m[0].message_len += n - pos;
				pos = n;
				if (d->closing) {
					req_complete(s, c, false);
					d->st = ST_IDLE;
				}
				return pos;
			}
			tx->m[0].message_len += (uint32_t)(lf - p) + 1 - pos;
			pos = (uint32_t)(lf - p) + 1;
			d->st = ST_CHUNK_LEN;
			break;
		}
		case ST_CHUNK_LEN: {
			const uint8_t *lf = pos + d->scan < n ? memchr(p + pos + d->scan, '\n',
								       n - pos - d->scan)
							      : NULL;
			uint32_t end;
			uint64_t len;
			bool ext;
			int r;

			if (!lf) {
				if (!chunk_data_valid(p + pos, n - pos)) {
					http_event(c, tx, 0, "INVALID_REQUEST_CHUNK_LEN");
					set_dead(s, c, 0);
					return -1;
				}
				if (d->closing) {
					req_complete(s, c, false);
					d->st = ST_IDLE;
					return pos;
				}
				if (n - pos > http_cfg.field_limit) {
					http_event(c, tx, 0, "REQUEST_FIELD_TOO_LONG");
					set_dead(s, c, 0);
					return -1;
				}
				d->scan = n - pos;
				return pos;
			}
			d->scan = 0;
			end = (uint32_t)(lf - p) + 1;
			{
				uint32_t k = pos;

				while (k < end && is_chunk_ctl(p[k]))
					k++;
				if (k == end) {
					/* empty chunk line: skipped */
					tx->m[0].message_len += end - pos;
					pos = end;
					break;
				}
			}
			r = chunk_len_parse(p + pos, end - pos, &len, &ext);
			if (r <= 0) {
				/* (not counted: the same whether or not the line end was seen) */
				http_event(c, tx, 0, "INVALID_REQUEST_CHUNK_LEN");
				set_dead(s, c, 0);
				return -1;
			}
			tx->m[0].message_len += end - pos;
			pos = end;
			if (ext)
				http_event(c, tx, 0, "REQUEST_CHUNK_EXTENSION");
			if (len == 0) {
				tx->al.progress[0] = NJ_HTTP_PROGRESS_TRAILER;
				d->st = ST_TRAILERS;
				d->scan = 0;
			} else {
				d->left = len;
				d->st = ST_CHUNK_DATA;
			}
			break;
		}
		case ST_CONNECT_WAIT:
			/* kept until the response tells whether a tunnel follows */
			if (n - pos > http_cfg.header_bytes) {
				set_tunnel(s);
				return n;
			}
			return pos;
		case ST_RESYNC: {
			/* after lost bytes: skip to a line starting with a known method */
			for (;;) {
				const uint8_t *lf;
				uint32_t k = pos, ms;

				if (pos >= n)
					return pos;
				while (k < n && http_is_space(p[k]) && p[k] != '\n')
					k++;
				ms = k;
				while (k < n && !http_is_space(p[k]))
					k++;
				if (k < n && http_method_id(p + ms, k - ms) != NJ_HTTP_M_UNKNOWN) {
					d->st = ST_IDLE;
					break;
				}
				lf = memchr(p + pos, '\n', n - pos);
				if (!lf) {
					if (k == n && n - pos < 32 && !d->closing)
						return pos;
					return n;
				}
				pos = (uint32_t)(lf - p) + 1;
			}
			break;
		}
		case ST_IGNORE:
		case ST_TUNNEL:
		case ST_DEAD:
		default: return n;
		}
	}
}

/* ------------------------------------------------------------------ response */

/* The transaction the next response belongs to: the oldest without a response. */
static struct nj_http_tx *resp_match(struct http_state *s)
{
	for (struct nj_al_tx *t = s->q.head; t; t = t->next)
		if (t->progress[1] == NJ_HTTP_PROGRESS_NONE && !t->done[1])
			return nj_http_tx_of(t);
	return NULL;
}

/* libhtp's treat_response_line_as_body: not "HTTP" after blanks/NULs. */
static bool line_is_body(const uint8_t *p, uint32_t n)
{
	uint32_t i = 0;

	while (i < n && (http_is_space(p[i]) || p[i] == 0))
		i++;
	return !(n - i >= 4 && http_eq_nocase(p + i, 4, "http"));
}

static void resp_line_parse(struct nj_al_ctx *c, struct nj_http_tx *tx)
{
	struct nj_http_msg *m = &tx->m[1];
	const uint8_t *p = m->raw.p + m->line.off;
	uint32_t n = m->line.len, i = 0, s, ws;

	tx->resp_protocol = tx->status = tx->message = str_none;
	tx->resp_proto = NJ_HTTP_PROTO_INVALID;
	tx->status_num = -1;
	while (i < n && (http_is_space(p[i]) || p[i] == 0))
		i++;
	s = i;
	while (i < n && !http_is_space(p[i]))
		i++;
	if (i > s) {
		tx->resp_protocol = (struct nj_http_str){m->line.off + s, i - s, 0};
		tx->resp_proto = http_proto_parse(p + s, i - s);
		ws = i;
		while (i < n && http_is_space(p[i]))
			i++;
		s = i;
		while (i < n && !http_is_space(p[i]))
			i++;
		if (s > ws && i > s) {
			tx->status = (struct nj_http_str){m->line.off + s, i - s, 0};
			tx->status_num = http_status_parse(p + s, i - s);
			ws = i;
			while (i < n && (http_is_space(p[i]) && p[i] != 0x0b))
				i++;
			if (i > ws) {
				uint32_t e = n;

				while (e > i && (p[e - 1] == '\r' || p[e - 1] == '\n'))
					e--;
				tx->message = (struct nj_http_str){m->line.off + i, e - i, 0};
			}
		}
	}
	if (tx->resp_proto == NJ_HTTP_PROTO_INVALID)
		http_event(c, tx, 1, "RESPONSE_INVALID_PROTOCOL");
	if (tx->status_num < 0)
		http_event(c, tx, 1, "RESPONSE_INVALID_STATUS");
}

/* Restarts a message direction: an interim (1xx) response is forgotten. */
static void msg_reset(struct nj_http_msg *m)
{
	m->raw.len = 0;
	m->der.len = 0;
	m->nhdrs = 0;
	m->nrepeats = 0;
	m->line = str_none;
	m->hraw = str_none;
	m->cached = 0;
}

/*
 * Response headers are complete: libhtp's response_body_determine. Returns
 * the next state.
 */
static int resp_headers_done(struct http_state *s, struct nj_al_ctx *c, struct nj_http_tx *tx)
{
	struct http_dir *d = &s->d[1];
	const struct nj_http_hdr *te = hdr_get(tx, 1, "transfer-encoding");
	const struct nj_http_hdr *cl = hdr_get(tx, 1, "content-length");
	int st = tx->status_num;
	bool te_chunked;

	tx->al.progress[1] = NJ_HTTP_PROGRESS_HEADERS;
	if (tx->method_id == NJ_HTTP_M_CONNECT) {
		if (st >= 200 && st <= 299) {
			/* tunnel established: no longer HTTP. As Suricata, when the CONNECT
			 * is the connection's first transaction the protocol is detected
			 * again on what follows, the CONNECT port as the server port. */
			tx->flags |= NJ_HTTP_TXF_CONNECT;
			if (s->ntx == 1 &&
			    nj_al_request_proto_change(
				    c, tx->port > 0 && tx->port <= 65535 ? (uint16_t)tx->port : 0))
				s->proto_change = true;
			http_body_begin(s, c, 1, tx, true);
			resp_complete(s, c, true);
			resp_connect_resolved(s, c, true);
			return ST_TUNNEL;
		}
		resp_connect_resolved(s, c, false);
	}
	if (st == 101) {
		if (!te && !cl) {
			tx->flags |= NJ_HTTP_TXF_UPGRADE;
			http_body_begin(s, c, 1, tx, true);
			resp_complete(s, c, true);
			set_tunnel(s);
			return ST_TUNNEL;
		}
	} else if (st >= 100 && st <= 199 && !te) {
		uint64_t v = 0;

		if (!cl || !http_cl_parse(nj_http_ptr(tx, 1, cl->value), cl->value.len, &v) ||
		    v == 0) {
			/* interim response: the final one follows */
			if (st == 100) {
				if (tx->seen_100)
					http_event(c, tx, 1, "100_CONTINUE_ALREADY_SEEN");
				tx->seen_100 = 1;
			}
			msg_reset(&tx->m[1]);
			tx->al.progress[1] = NJ_HTTP_PROGRESS_LINE;
			return ST_LINE;
		}
	} else if (st >= 400 && st <= 499) {
		/* a request waiting for 100-continue gets no body after a 4xx */
		struct http_dir *rq = &s->d[0];
		const uint8_t *ex;
		uint32_t exl;
		uint64_t rcl;
		const struct nj_http_hdr *rclh = hdr_get(tx, 0, "content-length");

		if (rq->tx == tx && rq->st == ST_BODY_CL && rclh &&
		    http_cl_parse(nj_http_ptr(tx, 0, rclh->value), rclh->value.len, &rcl) &&
		    rq->left == rcl && nj_http_header(tx, 0, "expect", &ex, &exl) && exl == 12 &&
		    memcmp(ex, "100-continue", 12) == 0) {
			req_complete(s, c, true);
			rq->st = ST_IDLE;
		}
	}
	/* decoders are set up whatever follows (their anomalies fire for bodiless responses too) */
	http_body_begin(s, c, 1, tx, true);
	if (tx->method_id == NJ_HTTP_M_HEAD)
		return ST_FINALIZE;
	if ((st >= 100 && st <= 199) || st == 204 || st == 304) {
		if (!te && !cl)
			return ST_FINALIZE;
		http_event(c, tx, 1, "RESPONSE_BODY_UNEXPECTED");
	}
	te_chunked = te && http_contains_nocase_nozero(nj_http_ptr(tx, 1, te->value), te->value.len,
						       "chunked");
	if (te_chunked) {
		if (!http_eq_nocase(nj_http_ptr(tx, 1, te->value), te->value.len, "chunked"))
			http_event(c, tx, 1, "RESPONSE_ABNORMAL_TRANSFER_ENCODING");
		if (tx->resp_proto < NJ_HTTP_PROTO_1_1)
			http_event(c, tx, 1, "RESPONSE_CHUNKED_OLD_PROTO");
		if (cl)
			tx->flags |= NJ_HTTP_TXF_SMUGGLING;
		tx->al.progress[1] = NJ_HTTP_PROGRESS_BODY;
		return ST_CHUNK_LEN;
	}
	if (cl) {
		uint64_t v;

		if (cl->flags & NJ_HTTP_HDR_REPEATED)
			tx->flags |= NJ_HTTP_TXF_SMUGGLING;
		if (!http_cl_parse(nj_http_ptr(tx, 1, cl->value), cl->value.len, &v)) {
			http_event(c, tx, 1, "INVALID_CONTENT_LENGTH_FIELD_IN_RESPONSE");
			return ST_DEAD;
		}
		if (v == 0)
			return ST_FINALIZE;
		d->left = v;
		tx->al.progress[1] = NJ_HTTP_PROGRESS_BODY;
		return ST_BODY_CL;
	}
	{
		const uint8_t *ct;
		uint32_t ctl;

		if (nj_http_header(tx, 1, "content-type", &ct, &ctl) &&
		    http_contains_nocase_nozero(ct, ctl, "multipart/byteranges")) {
			http_event(c, tx, 1, "RESPONSE_MULTIPART_BYTERANGES");
			return ST_DEAD;
		}
	}
	tx->al.progress[1] = NJ_HTTP_PROGRESS_BODY;
	return ST_BODY_CLOSE;
}

/* Processes p[0..n) of the response direction; returns bytes consumed, -1 when dead. */
static int64_t resp_run(struct http_state *s, struct nj_al_ctx *c, const uint8_t *p, uint32_t n)
{
	struct http_dir *d = &s->d[1];
	uint32_t pos = 0;

	for (;;) {
		struct nj_http_tx *tx = d->tx;

		if (!tx && d->st != ST_IDLE && d->st != ST_RESYNC && d->st != ST_TUNNEL &&
		    d->st != ST_DEAD)
			d->st = ST_IDLE;
		switch (d->st) {
		case ST_IDLE:
			if (pos >= n)
				return pos;
			tx = resp_match(s);
			if (!tx) {
				static const char fake[] = "/libhtp::request_uri_not_seen";

				tx = tx_new(s, c, 1);
				if (!tx) {
					d->st = ST_DEAD;
					return -1;
				}
				http_event(c, tx, 1, "UNABLE_TO_MATCH_RESPONSE_TO_REQUEST");
				tx->flags |= NJ_HTTP_TXF_UNMATCHED;
				tx->uri = http_str_add(&tx->m[0], false, fake, sizeof(fake) - 1);
				tx->uri_norm =
					http_str_add(&tx->m[0], true, fake, sizeof(fake) - 1);
				tx->path = tx->uri_norm;
				tx->al.progress[0] = NJ_HTTP_PROGRESS_COMPLETE;
				tx->al.done[0] = 1;
			} else if (s->d[0].tx == tx && s->d[0].st == ST_PROTO09) {
				/* the server answers: the request was HTTP/0.9 */
				req_complete(s, c, true);
				s->d[0].st = ST_IGNORE;
				s->d[0].pend.len = 0;
			}
			d->tx = tx;
			tx->al.progress[1] = NJ_HTTP_PROGRESS_LINE;
			if (tx->is09) {
				/* no status line, no headers: a body until close */
				http_body_begin(s, c, 1, tx, false);
				tx->al.progress[1] = NJ_HTTP_PROGRESS_BODY;
				d->st = ST_BODY_CLOSE;
			} else {
				d->st = ST_LINE;
			}
			break;
		case ST_LINE: {
			uint32_t e = pos + d->scan, el, after;

			while (e < n && p[e] != '\n' && p[e] != '\r')
				e++;
			if (e >= n) {
				if (!d->closing) {
					if (n - pos > http_cfg.field_limit) {
						http_event(c, tx, 1, "RESPONSE_FIELD_TOO_LONG");
						set_dead(s, c, 1);
						return -1;
					}
					d->scan = n - pos;
					return pos;
				}
				if (pos >= n) {
					resp_complete(s, c, true);
					d->st = ST_IDLE;
					return pos;
				}
				el = 0;
			} else if (p[e] == '\r') {
				if (e + 1 >= n && !d->closing) {
					d->scan = e - pos;
					return pos;
				}
				el = (e + 1 < n && p[e + 1] == '\n') ? 2 : 1;
			} else {
				el = 1;
			}
			d->scan = 0;
			after = e + el;
			if (e == pos && el) {
				/* empty line: ignored */
				pos = after;
				break;
			}
			if (after - pos > http_cfg.field_limit) {
				http_event(c, tx, 1, "RESPONSE_FIELD_TOO_LONG");
				set_dead(s, c, 1);
				return -1;
			}
			if (line_is_body(p + pos, after - pos)) {
				/* browsers show such data: libhtp takes it as body, or skips it when
				 * a line starting with 'H' follows or it is at most 2 bytes */
				uint32_t chomped = e - pos;

				if (n - after < 2 && !d->closing) {
					d->scan = e - pos;
					return pos;
				}
				if (n - after >= 2 && (p[after] == 'H' || chomped <= 2)) {
					pos = after;
					break;
				}
				tx->al.progress[1] = NJ_HTTP_PROGRESS_BODY;
				/* no decompression for such a body */
				http_body_begin(s, c, 1, tx, false);
				http_body_data(s, c, 1, p + pos, after - pos);
				pos = after;
				break;
			}
			/* a status line (again, after lines taken as body: same transaction) */
			if (!store_line(&tx->m[1], p + pos, after - pos)) {
				set_dead(s, c, 1);
				return -1;
			}
			resp_line_parse(c, tx);
			pos = after;
			d->st = ST_HEADERS;
			d->scan = 0;
			break;
		}
		case ST_HEADERS:
		case ST_TRAILERS: {
			int64_t used = take_block(s, c, 1, tx, p + pos, n - pos);
			int next;

			if (used < 0) {
				set_dead(s, c, 1);
				return -1;
			}
			if (used == 0)
				return pos;
			pos += (uint32_t)used;
			if (d->st == ST_TRAILERS) {
				tx->m[1].has_trailer = 1;
				d->st = ST_FINALIZE;
				break;
			}
			if (d->body_open) {
				/* lines taken as body before the status line: that body ends */
				http_body_end(s, c, 1, true);
			}
			next = resp_headers_done(s, c, tx);
			if (next == ST_DEAD) {
				set_dead(s, c, 1);
				return -1;
			}
			if (next == ST_TUNNEL)
				return s->proto_change ? pos : n;
			d->st = (uint8_t)next;
			break;
		}
		case ST_BODY_CL:
		case ST_CHUNK_DATA: {
			uint32_t take = n - pos;

			if (take == 0) {
				if (d->closing) {
					resp_complete(s, c, false);
					d->st = ST_IDLE;
				}
				return pos;
			}
			if (take > d->left)
				take = (uint32_t)d->left;
			http_body_data(s, c, 1, p + pos, take);
			pos += take;
			d->left -= take;
			if (d->left == 0) {
				if (d->st == ST_CHUNK_DATA) {
					d->st = ST_CHUNK_END;
				} else {
					/* body done: decoders finish; what follows decides */
					if (d->dz) {
						http_dz_free(d->dz);
						d->dz = NULL;
					}
					d->st = ST_FINALIZE;
				}
			}
			break;
		}
		case ST_CHUNK_END: {
			const uint8_t *lf = pos < n ? memchr(p + pos, '\n', n - pos) : NULL;

			if (!lf) {
				/* libhtp consumes without buffering */
				tx->m[1].message_len += n - pos;
				pos = n;
				if (d->closing) {
					resp_complete(s, c, false);
					d->st = ST_IDLE;
				}
				return pos;
			}
			tx->m[1].message_len += (uint32_t)(lf - p) + 1 - pos;
			pos = (uint32_t)(lf - p) + 1;
			d->st = ST_CHUNK_LEN;
			break;
		}
		case ST_CHUNK_LEN: {
			const uint8_t *lf = pos + d->scan < n ? memchr(p + pos + d->scan, '\n',
								       n - pos - d->scan)
							      : NULL;
			uint32_t end;
			uint64_t len;
			bool ext;
			int r;

			if (!lf) {
				if (!chunk_data_valid(p + pos, n - pos)) {
					/* not a chunk length: the rest is a body until close */
					http_event(c, tx, 1, "INVALID_RESPONSE_CHUNK_LEN");
					d->scan = 0;
					d->st = ST_BODY_CLOSE;
					break;
				}
				if (d->closing) {
					resp_complete(s, c, false);
					d->st = ST_IDLE;
					return pos;
				}
				if (n - pos > http_cfg.field_limit) {
					http_event(c, tx, 1, "RESPONSE_FIELD_TOO_LONG");
					set_dead(s, c, 1);
					return -1;
				}
				d->scan = n - pos;
				return pos;
			}
			d->scan = 0;
			end = (uint32_t)(lf - p) + 1;
			{
				uint32_t k = pos;

				while (k < end && is_chunk_ctl(p[k]))
					k++;
				if (k == end) {
					tx->m[1].message_len += end - pos;
					pos = end;
					break;
				}
			}
			r = chunk_len_parse(p + pos, end - pos, &len, &ext);
			if (r < 0) {
				/* libhtp: the line and what follows become a body until close */
				http_event(c, tx, 1, "INVALID_RESPONSE_CHUNK_LEN");
				d->st = ST_BODY_CLOSE;
				break;
			}
			tx->m[1].message_len += end - pos;
			pos = end;
			if (ext)
				http_event(c, tx, 1, "RESPONSE_CHUNK_EXTENSION");
			if (r == 0)
				break; /* too large: libhtp ignores the line */
			if (len == 0) {
				tx->al.progress[1] = NJ_HTTP_PROGRESS_TRAILER;
				if (d->dz) {
					http_dz_free(d->dz);
					d->dz = NULL;
				}
				d->st = ST_TRAILERS;
				d->scan = 0;
			} else {
				d->left = len;
				d->st = ST_CHUNK_DATA;
			}
			break;
		}
		case ST_BODY_CLOSE:
			if (pos < n) {
				http_body_data(s, c, 1, p + pos, n - pos);
				pos = n;
			}
			if (d->closing) {
				resp_complete(s, c, true);
				d->st = ST_IDLE;
			}
			return pos;
		case ST_FINALIZE: {
			/* does a response start here, or is this more body (libhtp's finalize)? */
			uint32_t k = pos;
			const uint8_t *lf;
			uint32_t end;

			if (d->midline) {
				lf = pos < n ? memchr(p + pos, '\n', n - pos) : NULL;
				end = lf ? (uint32_t)(lf - p) + 1 : n;
				http_body_data(s, c, 1, p + pos, end - pos);
				pos = end;
				if (lf)
					d->midline = 0;
				if (pos >= n) {
					if (d->closing) {
						resp_complete(s, c, true);
						d->st = ST_IDLE;
					}
					return pos;
				}
				break;
			}
			if (pos >= n) {
				if (d->closing) {
					resp_complete(s, c, true);
					d->st = ST_IDLE;
				}
				return pos;
			}
			while (k < n && (http_is_space(p[k]) || p[k] == 0))
				k++;
			if (n - k >= 4 || d->closing || k < n) {
				bool http = n - k >= 4 && http_eq_nocase(p + k, 4, "http");

				if (!http && n - k < 4 && !d->closing) {
					/* a prefix of "http"? wait for more */
					static const char h[] = "http";
					bool prefix = k < n;

					for (uint32_t j = k; j < n; j++)
						if (http_lower(p[j]) != (uint8_t)h[j - k])
							prefix = false;
					if (prefix)
						return pos;
				}
				if (http) {
					resp_complete(s, c, true);
					d->st = ST_IDLE;
					break;
				}
				/* more body (libhtp's RESPONSE_BODY_UNEXPECTED, once per response) */
				if (!(tx->fevents[1] & 0x80)) {
					tx->fevents[1] |= 0x80;
					http_event(c, tx, 1, "RESPONSE_BODY_UNEXPECTED");
				}
				lf = memchr(p + pos, '\n', n - pos);
				end = lf ? (uint32_t)(lf - p) + 1 : n;
				http_body_data(s, c, 1, p + pos, end - pos);
				if (!lf)
					d->midline = 1;
				pos = end;
				break;
			}
			/* only blanks so far (a bounded wait) */
			if (!d->closing && n - pos <= http_cfg.field_limit)
				return pos;
			if (!(tx->fevents[1] & 0x80)) {
				tx->fevents[1] |= 0x80;
				http_event(c, tx, 1, "RESPONSE_BODY_UNEXPECTED");
			}
			http_body_data(s, c, 1, p + pos, n - pos);
			pos = n;
			break;
		}
		case ST_RESYNC:
			for (;;) {
				const uint8_t *lf;
				uint32_t k = pos;

				if (pos >= n)
					return pos;
				while (k < n && (p[k] == ' ' || p[k] == '\t' || p[k] == 0))
					k++;
				if (n - k >= 5 && http_eq_nocase(p + k, 5, "http/")) {
					d->st = ST_IDLE;
					break;
				}
				lf = memchr(p + pos, '\n', n - pos);
				if (!lf) {
					if (n - k < 5 && !d->closing)
						return pos;
					return n;
				}
				pos = (uint32_t)(lf - p) + 1;
			}
			break;
		case ST_TUNNEL:
		case ST_DEAD:
		default: return n;
		}
	}
}

/* The response to a CONNECT decided: tunnel, or the requests go on. */
static void resp_connect_resolved(struct http_state *s, struct nj_al_ctx *c, bool tunnel)
{
	struct http_dir *rq = &s->d[0];

	if (tunnel) {
		set_tunnel(s);
		return;
	}
	if (rq->st != ST_CONNECT_WAIT)
		return;
	rq->st = ST_IDLE;
	if (rq->pend.len) {
		int64_t r = req_run(s, c, rq->pend.p, rq->pend.len);

		if (r < 0) {
			rq->pend.len = 0;
		} else if (r > 0) {
			memmove(rq->pend.p, rq->pend.p + r, rq->pend.len - (uint32_t)r);
			rq->pend.len -= (uint32_t)r;
		}
	}
}

/* ------------------------------------------------------------------ ops */

static int64_t dir_run(struct http_state *s, struct nj_al_ctx *c, int dir, const uint8_t *p,
		       uint32_t n)
{
	return dir == 0 ? req_run(s, c, p, n) : resp_run(s, c, p, n);
}

static int32_t http_parse(void *st, struct nj_al_ctx *c, int dir, const uint8_t *data, uint32_t len)
{
	struct http_state *s = st;
	struct http_dir *d = &s->d[dir & 1];
	int64_t r;

	dir &= 1;
	if (d->st == ST_DEAD)
		return NJ_AL_ERROR;
	if (d->st == ST_TUNNEL || d->st == ST_IGNORE || len == 0)
		return (int32_t)len;
	if (d->pend.len == 0) {
		r = dir_run(s, c, dir, data, len);
		if (r < 0)
			return NJ_AL_ERROR;
		if (s->proto_change && d->st == ST_TUNNEL)
			return (int32_t)r; /* the rest is the tunnel's: detected again */
		if ((uint32_t)r < len && d->st != ST_DEAD && d->st != ST_TUNNEL &&
		    d->st != ST_IGNORE &&
		    !http_buf_add(&d->pend, data + r, len - (uint32_t)r, UINT32_MAX)) {
			set_dead(s, c, dir);
			return NJ_AL_ERROR;
		}
		return (int32_t)len;
	}
	/* complete the pending element with the new bytes */
	if (!http_buf_add(&d->pend, data, len, UINT32_MAX)) {
		set_dead(s, c, dir);
		return NJ_AL_ERROR;
	}
	r = dir_run(s, c, dir, d->pend.p, d->pend.len);
	if (r < 0) {
		d->pend.len = 0;
		return NJ_AL_ERROR;
	}
	if (s->proto_change && d->st == ST_TUNNEL) {
		uint32_t rest = d->pend.len - (uint32_t)r;

		d->pend.len = 0;
		return (int32_t)(len - (rest < len ? rest : len));
	}
	if (d->st == ST_TUNNEL || d->st == ST_IGNORE) {
		d->pend.len = 0;
	} else if (r > 0) {
		memmove(d->pend.p, d->pend.p + r, d->pend.len - (uint32_t)r);
		d->pend.len -= (uint32_t)r;
	}
	/* do not keep a large buffer around for a small remainder */
	if (d->pend.len == 0 && d->pend.cap > 65536)
		http_buf_free(&d->pend);
	return (int32_t)len;
}

static void http_close(void *st, struct nj_al_ctx *c, int dir)
{
	struct http_state *s = st;
	struct http_dir *d = &s->d[dir & 1];

	dir &= 1;
	if (d->closing)
		return;
	d->closing = 1;
	if (d->st != ST_DEAD && d->st != ST_TUNNEL && d->st != ST_IGNORE) {
		int64_t r = dir_run(s, c, dir, d->pend.p ? d->pend.p : (const uint8_t *)"",
				    d->pend.len);

		(void)r;
	}
	d->pend.len = 0;
	/* whatever is still open in this direction ends here */
	if (dir == 0) {
		if (d->st == ST_PROTO09)
			req_complete(s, c, true);
		else
			req_complete(s, c, false);
	} else {
		resp_complete(s, c, d->st == ST_BODY_CLOSE || d->st == ST_FINALIZE);
	}
	http_buf_free(&d->pend);
	/* nothing follows a close; should anything come, it is ignored */
	if (d->st != ST_DEAD && d->st != ST_TUNNEL)
		d->st = ST_IGNORE;
}

static void http_gap(void *st, struct nj_al_ctx *c, int dir, uint32_t len)
{
	struct http_state *s = st;
	struct http_dir *d = &s->d[dir & 1];

	dir &= 1;
	if (d->closing)
		return;
	switch (d->st) {
	case ST_DEAD:
	case ST_TUNNEL:
	case ST_IGNORE: return;
	case ST_BODY_CL:
	case ST_CHUNK_DATA:
		if (len <= d->left && d->pend.len == 0) {
			/* the body has a hole; framing is intact */
			http_body_gap(s, c, dir, len);
			d->left -= len;
			if (d->left == 0) {
				if (d->st == ST_CHUNK_DATA)
					d->st = ST_CHUNK_END;
				else if (dir == 0) {
					req_complete(s, c, false);
					d->st = ST_IDLE;
				} else {
					d->st = ST_FINALIZE;
				}
			}
			return;
		}
		http_body_gap(s, c, dir, (uint32_t)d->left);
		break;
	case ST_BODY_CLOSE:
		if (d->pend.len == 0) {
			http_body_gap(s, c, dir, len);
			return;
		}
		break;
	default: break;
	}
	/* the message cannot be completed: end it, look for the next one */
	if (d->tx)
		d->tx->flags |= NJ_HTTP_TXF_GAP;
	if (dir == 0) {
		if (d->st == ST_CONNECT_WAIT) {
			d->pend.len = 0;
			return;
		}
		req_complete(s, c, false);
	} else {
		resp_complete(s, c, d->st == ST_FINALIZE);
	}
	d->pend.len = 0;
	d->scan = 0;
	d->st = ST_RESYNC;
}

/* ------------------------------------------------------------------ probe */

static const char *const probe_methods[] = {
	"GET",
	"POST",
	"HEAD",
	"PUT",
	"DELETE",
	"CONNECT",
	"OPTIONS",
	"TRACE",
	"PATCH",
	"PROPFIND",
	"PROPPATCH",
	"MKCOL",
	"COPY",
	"MOVE",
	"LOCK",
	"UNLOCK",
	"CHECKOUT",
	"UNCHECKOUT",
	"CHECKIN",
	"UPDATE",
	"LABEL",
	"REPORT",
	"MKWORKSPACE",
	"MKACTIVITY",
	"MERGE",
	"INVALID",
	"VERSION-CONTROL",
	"BASELINE-CONTROL",
	NULL,
};

/* Suricata's HTTP patterns: a method and a blank (any case) to the server, "HTTP/" back. */
static int http_probe(const uint8_t *data, uint32_t len, int dir)
{
	bool more = false;

	if (dir == NJ_DIR_TOCLIENT) {
		static const char h[] = "HTTP/";

		for (uint32_t i = 0; i < 5; i++) {
			if (i >= len)
				return NJ_PROBE_MORE;
			if (http_lower(data[i]) != http_lower((uint8_t)h[i]))
				return NJ_PROBE_NO;
		}
		return NJ_PROBE_YES;
	}
	/* a response first (Suricata's to-client pattern "HTTP/1."): a session
	 * picked up mid-stream is turned around */
	{
		static const char h[] = "HTTP/1.";
		uint32_t i;

		for (i = 0; i < 7 && i < len; i++)
			if (data[i] != (uint8_t)h[i])
				break;
		if (i == 7)
			return NJ_PROBE_OTHER_DIR;
		if (i == len)
			more = true;
	}
	for (size_t k = 0; probe_methods[k]; k++) {
		const char *m = probe_methods[k];
		size_t ml = strlen(m);
		uint32_t i;

		for (i = 0; i < ml && i < len; i++)
			if (http_lower(data[i]) != http_lower((uint8_t)m[i]))
				break;
		if (i < ml && i < len)
			continue;
		if (len <= ml) {
			more = true;
			continue;
		}
		if (data[ml] == ' ' || data[ml] == '\t')
			return NJ_PROBE_YES;
	}
	return more ? NJ_PROBE_MORE : NJ_PROBE_NO;
}

/* ------------------------------------------------------------------ configuration */

static bool null_scalar(const char *v)
{
	return !v || !*v || !strcmp(v, "~") || !strcasecmp(v, "null");
}

/* The http entry of an eve-log's types: *listed, and its map when it has one. */
static const struct nj_conf_node *http_entry(const struct nj_conf_node *eve, bool *listed)
{
	const struct nj_conf_node *types = nj_conf_node_get(eve, "types");

	*listed = false;
	if (!types)
		return NULL;
	for (const struct nj_conf_node *it = types->child; it; it = it->next) {
		if (it->kind == NJ_CONF_SCALAR && it->value && !strcmp(it->value, "http")) {
			*listed = true;
			return NULL;
		}
		if (it->kind == NJ_CONF_MAP && it->child && it->child->key &&
		    !strcmp(it->child->key, "http")) {
			*listed = true;
			return it->child->kind == NJ_CONF_MAP ? it->child : NULL;
		}
	}
	return NULL;
}

static int xff_load(const struct nj_conf *conf, const struct nj_conf_node *x,
		    struct nj_http_config *c)
{
	const char *v;
	bool en = false;

	if (!x)
		return 0;
	if (nj_conf_bool(conf, x, "enabled", &en) < 0)
		return -1;
	c->xff = en;
	if (nj_conf_str(conf, x, "mode", &v) == 0 && !null_scalar(v))
		c->xff_overwrite = !strcasecmp(v, "overwrite");
	if (nj_conf_str(conf, x, "deployment", &v) == 0 && !null_scalar(v))
		c->xff_reverse = !strcasecmp(v, "reverse");
	if (nj_conf_str(conf, x, "header", &v) == 0 && !null_scalar(v))
		snprintf(c->xff_header, sizeof(c->xff_header), "%s", v);
	return 0;
}

static int http_configure(const struct nj_conf *conf)
{
	struct nj_http_config c;
	const struct nj_conf_node *outs;
	const char *dc = "app-layer.protocols.http.libhtp.default-config.";
	char key[192];
	uint64_t sz;
	int64_t v;
	const char *str;

	nj_http_config_defaults(&c);
	if (!conf) {
		nj_http_config_set(&c);
		return 0;
	}
	v = c.max_tx;
	if (nj_conf_int(conf, NULL, "app-layer.protocols.http.max-tx", 1, 1 << 20, &v) < 0)
		return -1;
	c.max_tx = (uint32_t)v;
	sz = c.header_bytes;
	if (nj_conf_size(conf, NULL, "app-layer.protocols.http.max-header-bytes", &sz) < 0)
		return -1;
	c.header_bytes = sz > 0x10000000 ? 0x10000000 : (uint32_t)sz;
#define SIZE_KEY(name, field)                                            \
	do {                                                             \
		snprintf(key, sizeof(key), "%s%s", dc, name);            \
		sz = c.field;                                            \
		if (nj_conf_size(conf, NULL, key, &sz) < 0)              \
			return -1;                                       \
		c.field = (sz > 0x40000000 ? 0x40000000 : (uint32_t)sz); \
	} while (0)
	SIZE_KEY("request-body-limit", req_body_limit);
	SIZE_KEY("response-body-limit", resp_body_limit);
	SIZE_KEY("meta-field-limit", field_limit);
#undef SIZE_KEY
	snprintf(key, sizeof(key), "%scompression-bomb-limit", dc);
	if (nj_conf_size(conf, NULL, key, &c.bomb_limit) < 0)
		return -1;
	snprintf(key, sizeof(key), "%sheaders-limit", dc);
	v = c.headers_limit;
	if (nj_conf_int(conf, NULL, key, 1, 1 << 20, &v) < 0)
		return -1;
	c.headers_limit = (uint32_t)v;
	snprintf(key, sizeof(key), "%sresponse-body-decompress-layer-limit", dc);
	v = c.layer_limit;
	if (nj_conf_int(conf, NULL, key, 0, 64, &v) < 0)
		return -1;
	c.layer_limit = (uint32_t)v;
	snprintf(key, sizeof(key), "%suri-include-all", dc);
	if (nj_conf_bool(conf, NULL, key, &c.uri_include_all) < 0)
		return -1;
	snprintf(key, sizeof(key), "%sdouble-decode-path", dc);
	if (nj_conf_bool(conf, NULL, key, &c.double_decode_path) < 0)
		return -1;
	snprintf(key, sizeof(key), "%sdouble-decode-query", dc);
	if (nj_conf_bool(conf, NULL, key, &c.double_decode_query) < 0)
		return -1;
	snprintf(key, sizeof(key), "%spersonality", dc);
	if (nj_conf_str(conf, NULL, key, &str) == 0 && !null_scalar(str) &&
	    strcasecmp(str, "IDS") != 0)
		NJ_WARN("%s: personality %s not implemented, IDS used", key, str);

	/* EVE options: the first enabled eve-log listing http */
	outs = nj_conf_get(conf, "outputs");
	for (const struct nj_conf_node *o = outs ? outs->child : NULL; o; o = o->next) {
		const struct nj_conf_node *e = nj_conf_node_get(o, "eve-log"), *h, *cu;
		bool en = true, listed;

		if (!e || e->kind != NJ_CONF_MAP)
			continue;
		if (nj_conf_bool(conf, e, "enabled", &en) == 0 && !en)
			continue;
		h = http_entry(e, &listed);
		if (!listed)
			continue;
		c.extended = false; /* Suricata: basic fields unless extended: yes */
		if (xff_load(conf, nj_conf_node_get(e, "xff"), &c) < 0)
			return -1;
		if (h) {
			if (nj_conf_bool(conf, h, "extended", &c.extended) < 0)
				return -1;
			if (nj_conf_str(conf, h, "dump-all-headers", &str) == 0 &&
			    !null_scalar(str)) {
				if (!strncmp(str, "both", 4))
					c.dump_headers =
						NJ_HTTP_DUMP_REQUEST | NJ_HTTP_DUMP_RESPONSE;
				else if (!strncmp(str, "request", 7))
					c.dump_headers = NJ_HTTP_DUMP_REQUEST;
				else if (!strncmp(str, "response", 8))
					c.dump_headers = NJ_HTTP_DUMP_RESPONSE;
			}
			cu = nj_conf_node_get(h, "custom");
			if (cu && cu->kind == NJ_CONF_SEQ) {
				for (const struct nj_conf_node *f = cu->child; f; f = f->next) {
					int idx;

					if (f->kind != NJ_CONF_SCALAR || null_scalar(f->value))
						continue;
					idx = http_custom_index(f->value);
					if (idx >= 0)
						c.custom |= 1ull << idx;
				}
			}
			if (xff_load(conf, nj_conf_node_get(h, "xff"), &c) < 0)
				return -1;
		}
		break;
	}
	nj_http_config_set(&c);
	return 0;
}

/* ------------------------------------------------------------------ registration */

void nj_http_log_tx(struct nj_al_log *lg, const struct nj_flow *f, const struct nj_al_tx *tx);
void nj_http_alert_json(struct nj_json *j, const struct nj_al_tx *t, int dir);
extern const struct nj_al_buffer nj_http_buffers[];
extern const struct nj_al_multibuffer nj_http_multi_buffers[];

static bool http_alert_xff(const struct nj_al_tx *tx, const char *header, bool reverse, char *out,
			   size_t outlen)
{
	return nj_http_tx_xff(nj_http_tx_of(tx), header, reverse, out, outlen);
}

/* The body's file, once it was closed (filesize / filemd5). */
static bool http_tx_file(const struct nj_al_tx *t, int dir, struct nj_al_fileinfo *out)
{
	const struct nj_http_tx *tx = nj_http_tx_of(t);

	if (!tx->file_seen[dir])
		return false;
	out->size = tx->file_size[dir];
	out->has_md5 = tx->file_has_md5[dir];
	memcpy(out->md5, tx->file_md5[dir], 16);
	nj_http_tx_filename(tx, dir, &out->name, &out->name_len);
	/* the magic string is kept with its terminating NUL */
	if (nj_http_has(tx->file_magic[dir]))
		out->magic = (const char *)nj_http_ptr(tx, dir, tx->file_magic[dir]);
	return true;
}

struct nj_app_parser nj_http_parser = {
	.name = "http",
	.ipproto_mask = NJ_AL_TCP,
	.ports = {80, 8080, 8000, 3128, 8008, 8888, 81, 0},
	.probe_min = 1,
	.eve = NJ_EVE_HTTP,
	.probe = http_probe,
	.state_new = http_state_new,
	.state_free = http_state_free,
	.parse = http_parse,
	.gap = http_gap,
	.close = http_close,
	.txq = http_txq,
	.tx_free = http_tx_free,
	.log_tx = nj_http_log_tx,
	.alert_json = nj_http_alert_json,
	.buffers = nj_http_buffers,
	.multi_buffers = nj_http_multi_buffers,
	.alert_xff = http_alert_xff,
	.tx_file = http_tx_file,
	.configure = http_configure,
};

NJ_APP_PARSER_REGISTER(nj_http_parser)
