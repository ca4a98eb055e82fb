/* SPDX-License-Identifier: MIT */
/*
 * HTTP/1.x: requests and responses over one TCP connection (keep-alive and
 * pipelining), Content-Length, chunked, gzip/deflate bodies, 1xx, HEAD,
 * CONNECT; EVE "http" events, the http.* detection buffers and the files of
 * every request and response body.
 */
#ifndef NJ_HTTP_H
#define NJ_HTTP_H

#include <stdint.h>

#include "../applayer.h"

/* A (offset, length) view into a transaction's byte arena. */
struct nj_http_str {
	uint32_t off, len;
};

struct nj_http_tx {
	struct nj_al_tx al;
	/* request */
	struct nj_http_str method, uri_raw, uri, protocol, host, port, ua, cookie, referer,
		req_ctype, req_headers, req_headers_raw, req_line, req_body;
	/* response */
	struct nj_http_str resp_protocol, stat_code, stat_msg, resp_line, location, resp_ctype,
		resp_headers, resp_headers_raw, resp_body;
	uint16_t status;
	uint8_t head_req, connect_req;
	uint64_t resp_len; /* response body bytes (de-chunked, before decompression) */
	uint64_t req_len;
	/* arena */
	uint8_t *buf;
	uint32_t buf_len, buf_cap;
};

/* Bytes of a view. */
static inline const uint8_t *nj_http_str_ptr(const struct nj_http_tx *tx, struct nj_http_str s)
{
	return tx->buf + s.off;
}

extern struct nj_app_parser nj_http_parser;

#endif
