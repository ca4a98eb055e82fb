/* SPDX-License-Identifier: MIT */
/*
 * Internals shared by the HTTP parser's files: per-flow state, buffers,
 * header and URI helpers, body consumers.
 */
#ifndef NJ_HTTP_PRIV_H
#define NJ_HTTP_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include "../files.h"
#include "http.h"

/* Parser states, per direction. */
enum http_st {
	ST_IDLE = 0,	  /* between messages: next start line */
	ST_LINE,	  /* response: status line of the matched transaction */
	ST_PROTO09,	  /* request: line without protocol, 0.9 or headers? */
	ST_HEADERS,	  /* header block */
	ST_BODY_CL,	  /* body of known length */
	ST_CHUNK_LEN,	  /* chunk size line */
	ST_CHUNK_DATA,	  /* chunk bytes */
	ST_CHUNK_END,	  /* line end after chunk bytes */
	ST_TRAILERS,	  /* trailer block after the last chunk */
	ST_BODY_CLOSE,	  /* response body until the connection closes */
	ST_FINALIZE,	  /* response: body done, is what follows a new response? */
	ST_CONNECT_WAIT,  /* request: CONNECT sent, waiting for its response */
	ST_CONNECT_PROBE, /* request: CONNECT accepted, is the tunnel HTTP? */
	ST_IGNORE,	  /* request: data after an HTTP/0.9 request */
	ST_TUNNEL,	  /* no longer HTTP */
	ST_RESYNC,	  /* after a gap: looking for the next start line */
	ST_DEAD,	  /* parse error: the direction is ignored */
};

struct http_dz; /* decompression chain (http_body.c) */
struct http_mp; /* multipart/form-data request body (http_multipart.c) */

struct http_dir {
	uint8_t st;
	uint8_t closing;	 /* close() is being processed: incomplete elements are final */
	struct nj_http_buf pend; /* start of an element not complete yet (always consumed) */
	uint32_t scan;		 /* header end search resumes here (offset in the element) */
	uint64_t left;		 /* body or chunk bytes still to come */
	struct nj_http_tx *tx;	 /* message being parsed in this direction */
	struct http_dz *dz;	 /* decompression of the current body */
	uint8_t body_open;	 /* body set up (decoders) for the current message */
	uint8_t file_open;	 /* body consumers opened (first body byte seen) */
	uint8_t midline;	 /* response finalize: inside a line taken as body */
	struct nj_file *file;	 /* the body as a file (parsers/files.h), NULL when not carved */
	struct http_mp *mp;	 /* request: multipart body being split into files */
	struct nj_file_range_ref rng; /* response: its byte range's reassembly (http_range.c) */
};

struct http_state {
	struct nj_al_txq q;
	struct http_dir d[2];
	uint64_t ntx; /* transactions created (libhtp's index) */
	bool tunnel;
	/* a CONNECT tunnel handed the connection back to protocol detection: the
	 * bytes after the response headers are not consumed */
	bool proto_change;
	/* the request just completed, while no other request line came: bytes that
	 * are not one are more of its body (libhtp's finalize) */
	struct nj_http_tx *last_req;
	bool last_req_cl; /* it had a Content-Length body */
};

/* ------------------------------------------------------------------ buffers */

bool http_buf_add(struct nj_http_buf *b, const void *p, uint32_t n, uint32_t max);
/* Closes the direction's file if one is open (TRUNCATED unless complete). */
void http_body_file_close(struct http_state *s, struct nj_al_ctx *c, int dir, bool complete);
void http_buf_free(struct nj_http_buf *b);
/* Appends bytes to a message buffer; returns the range (NONE when refused). */
struct nj_http_str http_str_add(struct nj_http_msg *m, bool der, const void *p, uint32_t n);

static inline bool http_is_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == 0x0b || c == 0x0c;
}

static inline uint8_t http_lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

/* Value of a hex digit, -1 when c is not one. */
static inline int http_hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = http_lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

bool http_eq_nocase(const uint8_t *a, uint32_t n, const char *s);

/* A header's name against a lower-case name of length l (libhtp's nozero match). */
static inline bool http_hdr_is(const struct nj_http_hdr *h, const uint8_t *name, const char *s,
			       uint32_t l)
{
	bool http_eq_nocase_nozero(const uint8_t *a, uint32_t n, const char *s);

	if (h->flags & NJ_HTTP_HDR_NUL)
		return http_eq_nocase_nozero(name, h->name.len, s);
	if (h->name.len != l)
		return false;
	for (uint32_t i = 0; i < l; i++) {
		uint8_t c = name[i];

		if ((c >= 'A' && c <= 'Z' ? c + 32 : c) != (uint8_t)s[i])
			return false;
	}
	return true;
}
/* libhtp's nozero comparisons: NUL bytes in a are skipped. */
bool http_eq_nocase_nozero(const uint8_t *a, uint32_t n, const char *s);
bool http_contains_nocase_nozero(const uint8_t *a, uint32_t n, const char *s);
void http_trim(const uint8_t **p, uint32_t *n);

/* ------------------------------------------------------------------ start lines, headers */

int http_method_id(const uint8_t *p, uint32_t n);
/* libhtp's parse_protocol. */
int16_t http_proto_parse(const uint8_t *p, uint32_t n);
/* libhtp's parse_content_length: false if no digits. */
bool http_cl_parse(const uint8_t *p, uint32_t n, uint64_t *out);
/* libhtp's parse_status: 100..999 or -1. */
int16_t http_status_parse(const uint8_t *p, uint32_t n);

/*
 * Finds the end of a header block (its empty line) in p[from..n) for side dir;
 * the block starts at p[0]. Returns 1 with *end (after the empty line), 0 when
 * more bytes are needed (*resume: where to search again), -1 never.
 */
int http_eoh_find(int dir, const uint8_t *p, uint32_t n, uint32_t from, bool closing, uint32_t *end,
		  uint32_t *resume);

/*
 * Parses a header block (already copied to m->raw at off, len bytes) into the
 * message's header table; events through c. Returns 0, or -1 when a limit is
 * exceeded (too many headers: the direction stops, as libhtp).
 */
int http_headers_parse(struct nj_al_ctx *c, struct nj_http_tx *tx, int dir, uint32_t off,
		       uint32_t len);

/* Host header / authority: host name, port (-1 none, -2 invalid) and validity. */
bool http_hostport(const uint8_t *p, uint32_t n, const uint8_t **host, uint32_t *host_len,
		   int32_t *port, bool *valid);
bool http_host_valid(const uint8_t *p, uint32_t n);

/* The index of a header in m, or -1. */
int http_hdr_find(const struct nj_http_msg *m, const char *name);

/* ------------------------------------------------------------------ URI */

/* Parses tx->uri and fills uri_norm, path, host/port from the URI. Flags for events. */
#define HTTP_URI_HOST_INVALID 0x1u
#define HTTP_URI_DOUBLE_ENC   0x2u
unsigned http_uri_process(struct nj_http_tx *tx);
/* For http.host.raw when the URI has a host: the raw URI host (set by http_uri_process). */

/* ------------------------------------------------------------------ bodies */

/*
 * Sets up the body of message dir of tx: decompression from Content-Encoding
 * when decode (its anomalies fire even if no body follows). The consumers are
 * opened with the first body byte.
 */
void http_body_begin(struct http_state *s, struct nj_al_ctx *c, int dir, struct nj_http_tx *tx,
		     bool decode);
/* Body bytes as transferred (de-chunked); counts message_len. */
void http_body_data(struct http_state *s, struct nj_al_ctx *c, int dir, const uint8_t *p,
		    uint32_t n);
void http_body_gap(struct http_state *s, struct nj_al_ctx *c, int dir, uint32_t n);
/* Ends the body (complete or not); frees the decompression chain. */
void http_body_end(struct http_state *s, struct nj_al_ctx *c, int dir, bool complete);
void http_dz_free(struct http_dz *z);

/*
 * multipart/form-data (http_multipart.c). http_mp_begin: at the request body
 * start, sets s->d[0].mp (and tx->multipart) when tx is a POST whose
 * Content-Type has a boundary; the body is then not one file but its parts
 * with a file name are. http_mp_data / http_mp_gap: decoded body bytes / lost
 * bytes. http_mp_end: the body ended (closes a file still open TRUNCATED) and
 * frees the parser; tx may be NULL (flow end). http_mp_tx_free: the parts kept
 * on a transaction for detection.
 */
bool http_mp_begin(struct http_state *s, struct nj_al_ctx *c, struct nj_http_tx *tx);
void http_mp_data(struct http_state *s, struct nj_al_ctx *c, struct nj_http_tx *tx,
		  const uint8_t *p, uint32_t n);
void http_mp_gap(struct http_state *s, struct nj_al_ctx *c, struct nj_http_tx *tx, uint32_t n);
void http_mp_end(struct http_state *s, struct nj_al_ctx *c, struct nj_http_tx *tx, bool complete);
void http_mp_tx_free(struct nj_http_tx *tx);
/* ------------------------------------------------------------------ byte ranges */

/* Content-Range (Suricata's parser): -1 for a part given as '*'. */
struct http_crange {
	int64_t start, end, size;
};
bool http_content_range_parse(const uint8_t *p, uint32_t n, struct http_crange *r);
/*
 * A response body's file was opened: with a valid Content-Range, sets its
 * range and joins the byte-range reassembly (RANGE_INVALID when malformed).
 */
void http_range_open(struct http_state *s, struct nj_al_ctx *c, struct nj_http_tx *tx,
		     struct nj_file *file, const uint8_t *name, uint32_t name_len);

/* ------------------------------------------------------------------ anomalies, EVE */

void http_event(struct nj_al_ctx *c, struct nj_http_tx *tx, int dir, const char *name);

/* custom: field names (Suricata's http_fields): config name -> bit, header name of a bit */
int http_custom_index(const char *name);
const char *http_custom_header(unsigned bit);
bool http_custom_request(unsigned bit);

#endif
