/* SPDX-License-Identifier: MIT */
/*
 * HTTP/1.x: requests and responses over one TCP connection (keep-alive and
 * pipelining), Content-Length, chunked (extensions, trailers), bodies until
 * close, gzip/deflate/brotli decompression, 1xx interim responses, HEAD, CONNECT,
 * HTTP/0.9; Suricata's (libhtp's) interpretation of malformed traffic and its
 * anomaly names; the EVE "http" object; the http.* detection buffers and
 * file.data.
 *
 * Semantics follow Suricata 8 with libhtp's IDS personality (Suricata's
 * defaults): request line split on the last space (spaces allowed in the
 * URI), header folding, repeated headers joined with ", " (Content-Length is
 * not joined: the first value counts), header names and values trimmed,
 * response lines that do not start with "HTTP" treated as body, bodies of
 * Content-Length responses followed by non-HTTP data extended with it, a
 * chunk length that does not parse turning the response into a body until
 * close, gzip/deflate/zlib decoders retried in turn when the announced one
 * fails (browsers do), URI paths percent-decoded (%u too), backslashes and
 * repeated slashes normalised, UTF-8 folded to single bytes, dot segments
 * removed; query percent-decoded ('+' kept).
 *
 * Deviations, all deterministic whatever the TCP segmentation (libhtp's
 * results sometimes depend on where packets end): a request is complete
 * when its body is (lines that follow and are not a request line are added
 * to its inspection body, REQUEST_BODY_UNEXPECTED); a response is complete
 * once the first bytes after its body show whether they start a new response
 * (or at close; otherwise they are more body, RESPONSE_BODY_UNEXPECTED); a
 * request line without protocol waits for the next bytes (or the response, or
 * close) to tell HTTP/0.9 from a missing protocol; every 1xx response except
 * 101 is interim (libhtp only skips 100); a decoder retried after a failure
 * starts again from the body's first bytes. A CONNECT answered 2xx or a 101
 * ends HTTP on the connection (nj_http_state_tunnel: re-detection hook).
 *
 * Anomalies (Suricata's names, nj_al_event): REQUEST/RESPONSE_FIELD_MISSING_COLON,
 * REQUEST/RESPONSE_HEADER_INVALID, INVALID_REQUEST/RESPONSE_FIELD_FOLDING,
 * REQUEST/RESPONSE_HEADER_REPETITION, REQUEST/RESPONSE_TOO_MANY_HEADERS,
 * REQUEST/RESPONSE_FIELD_TOO_LONG, INVALID_REQUEST/RESPONSE_CHUNK_LEN,
 * REQUEST/RESPONSE_CHUNK_EXTENSION, INVALID_CONTENT_LENGTH_FIELD_IN_REQUEST/RESPONSE,
 * DUPLICATE_CONTENT_LENGTH_FIELD_IN_REQUEST/RESPONSE,
 * INVALID_TRANSFER_ENCODING_VALUE_IN_REQUEST, MISSING_HOST_HEADER,
 * HOST_HEADER_AMBIGUOUS, REQUEST_URI_HOST_INVALID, REQUEST_HEADER_HOST_INVALID,
 * REQUEST_AUTH_UNRECOGNIZED, REQUEST_LINE_INVALID, REQUEST_LINE_MISSING_PROTOCOL,
 * REQUEST_LINE_LEADING_WHITESPACE, METHOD_DELIM_NON_COMPLIANT,
 * URI_DELIM_NON_COMPLIANT, DOUBLE_ENCODED_URI, REQUEST/RESPONSE_BODY_UNEXPECTED,
 * RESPONSE_INVALID_PROTOCOL, RESPONSE_INVALID_STATUS, 100_CONTINUE_ALREADY_SEEN,
 * UNABLE_TO_MATCH_RESPONSE_TO_REQUEST, RESPONSE_ABNORMAL_TRANSFER_ENCODING,
 * RESPONSE_CHUNKED_OLD_PROTO, RESPONSE_MULTIPART_BYTERANGES, ABNORMAL_CE_HEADER,
 * TOO_MANY_ENCODING_LAYERS, COMPRESSION_BOMB, RANGE_INVALID (Content-Range),
 * MULTIPART_GENERIC_ERROR, MULTIPART_NO_FILEDATA, MULTIPART_INVALID_HEADER (http_multipart.c);
 * and TOO_MANY_TRANSACTIONS (Nightjar's: max-tx reached).
 *
 * Everything a transaction keeps is copied into it (the framework's buffer is
 * transient) and bounded: start line and each header line by
 * meta-field-limit, the header block by app-layer.protocols.http.max-header-bytes,
 * headers by headers-limit, bodies kept for inspection by
 * request-body-limit / response-body-limit, decompressed output by
 * compression-bomb-limit (and libhtp's 2048:1 ratio), open transactions
 * per flow by max-tx.
 */
#ifndef NJ_HTTP_H
#define NJ_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../applayer.h"

struct nj_conf;
struct nj_json;

/* ------------------------------------------------------------------ config */

/* dump-all-headers */
#define NJ_HTTP_DUMP_REQUEST  0x1u
#define NJ_HTTP_DUMP_RESPONSE 0x2u

struct nj_http_config {
	uint32_t max_tx;	  /* app-layer.protocols.http.max-tx: open transactions per flow */
	uint32_t req_body_limit;  /* request-body-limit: request body kept for inspection */
	uint32_t resp_body_limit; /* response-body-limit */
	uint32_t field_limit;	  /* meta-field-limit: longest start/header/chunk line */
	uint32_t header_bytes;	  /* max-header-bytes: raw header block per message */
	uint32_t headers_limit;	  /* headers-limit: headers per message */
	uint32_t layer_limit;	  /* response-body-decompress-layer-limit */
	uint64_t bomb_limit;	  /* compression-bomb-limit: decompressed bytes per body */
	bool uri_include_all;	  /* http.uri with scheme, host and port */
	bool double_decode_path;  /* double-decode-path */
	bool double_decode_query; /* double-decode-query */
	bool request_decompression; /* request bodies decompressed too (Suricata: yes) */
	/* EVE (outputs.*.eve-log.types http entry) */
	bool extended;	      /* extended: http_refer, method, protocol, status, ... */
	uint8_t dump_headers; /* NJ_HTTP_DUMP_* */
	uint64_t custom;      /* custom: bit i = nj_http_custom_fields[i] */
	bool xff;	      /* xff enabled (http entry or eve-log level) */
	bool xff_overwrite;   /* mode overwrite (not applied to http events: see report) */
	bool xff_reverse;     /* deployment reverse: last address of the chain */
	char xff_header[64];  /* header: X-Forwarded-For */
};

/* Suricata's defaults (default suricata.yaml, with extended: yes). */
void nj_http_config_defaults(struct nj_http_config *c);
/* Replaces the running configuration (start-up, or tests). */
void nj_http_config_set(const struct nj_http_config *c);
const struct nj_http_config *nj_http_config_get(void);

/* The custom: field names Suricata accepts (index = bit in custom). */
extern const char *const nj_http_custom_fields[];

/* ------------------------------------------------------------------ transactions */

/* A byte range in one of a message's buffers; off == NJ_HTTP_NONE: absent. */
#define NJ_HTTP_NONE UINT32_MAX
struct nj_http_str {
	uint32_t off, len;
	uint8_t der; /* in the message's derived buffer (else its raw buffer) */
};

struct nj_http_buf {
	uint8_t *p;
	uint32_t len, cap;
};

/* One header, as libhtp keeps it: name and value trimmed, repeats joined. */
#define NJ_HTTP_HDR_REPEATED 0x01u
#define NJ_HTTP_HDR_FOLDED   0x02u
#define NJ_HTTP_HDR_NUL	     0x04u /* the name has NUL bytes (ignored when looked up, as libhtp) */
struct nj_http_hdr {
	struct nj_http_str name, value;
	struct nj_http_str line; /* "name: value" (http.request_header), built on first use */
	uint8_t flags;
};

/* al.progress[dir]: how far a message got (libhtp's progress). */
enum {
	NJ_HTTP_PROGRESS_NONE = 0,
	NJ_HTTP_PROGRESS_LINE,
	NJ_HTTP_PROGRESS_HEADERS, /* headers complete */
	NJ_HTTP_PROGRESS_BODY,
	NJ_HTTP_PROGRESS_TRAILER,
	NJ_HTTP_PROGRESS_COMPLETE,
};

/* Protocol versions (libhtp's numbering, ordered). */
#define NJ_HTTP_PROTO_INVALID (-2)
#define NJ_HTTP_PROTO_UNKNOWN (-1)
#define NJ_HTTP_PROTO_0_9     9
#define NJ_HTTP_PROTO_1_0     100
#define NJ_HTTP_PROTO_1_1     101

/* Methods libhtp knows (0: unknown). */
enum {
	NJ_HTTP_M_UNKNOWN = 0,
	NJ_HTTP_M_GET,
	NJ_HTTP_M_HEAD,
	NJ_HTTP_M_POST,
	NJ_HTTP_M_PUT,
	NJ_HTTP_M_DELETE,
	NJ_HTTP_M_CONNECT,
	NJ_HTTP_M_OPTIONS,
	NJ_HTTP_M_TRACE,
	NJ_HTTP_M_PATCH,
	NJ_HTTP_M_OTHER_KNOWN, /* PROPFIND, MKCOL, ... (WebDAV and friends) */
};

/* One direction of a transaction. */
struct nj_http_msg {
	struct nj_http_buf raw; /* start line, then the raw header block, then the trailer */
	struct nj_http_buf der; /* derived strings: joined values, normalised forms, caches */
	struct nj_http_hdr *hdrs;
	uint32_t nhdrs, hcap;
	struct nj_http_str line; /* start line without its line end */
	struct nj_http_str hraw; /* raw header block, with its empty line, and the trailer */
	struct nj_http_buf body; /* decoded body, its first body-limit bytes (inspection) */
	uint64_t message_len;	 /* body as transferred (chunk framing counted, as libhtp) */
	uint64_t entity_len;	 /* body after de-chunking and decompression */
	uint64_t gap_bytes;	 /* body bytes lost in gaps */
	uint8_t truncated;	 /* ended early (close, gap, error) */
	uint8_t has_trailer;
	uint16_t nrepeats; /* header repetitions counted (libhtp stops at 64) */
	/* detection buffers built on first use (in der) */
	uint8_t cached;
	struct nj_http_str c_header, c_names, c_start;
};

/* tx flags */
#define NJ_HTTP_TXF_UNMATCHED 0x0001u /* response without a request */
#define NJ_HTTP_TXF_CONNECT   0x0002u /* tunnel established after this transaction */
#define NJ_HTTP_TXF_UPGRADE   0x0004u /* 101 Switching Protocols */
#define NJ_HTTP_TXF_GAP	      0x0008u /* bytes were lost */
#define NJ_HTTP_TXF_SMUGGLING 0x0010u /* CL and TE, or repeated/folded CL (libhtp) */
#define NJ_HTTP_TXF_HOSTU_BAD 0x0020u /* host or port in the URI invalid */

/* A file part of a multipart request body, for detection (file.name, file.data). */
struct nj_http_part {
	uint8_t *name; /* Content-Disposition filename (NULL when empty) */
	uint32_t name_len;
	struct nj_http_buf data; /* first bytes (request-body-limit over all parts) */
};

struct nj_http_tx {
	struct nj_al_tx al;
	struct nj_http_msg m[2];
	/* request line parts (m[0].raw) */
	struct nj_http_str method, uri, protocol;
	/* derived (m[0].der) */
	struct nj_http_str uri_norm; /* http.uri: normalised path?query#fragment */
	struct nj_http_str path;     /* normalised path (file name of the response body) */
	struct nj_http_str host;     /* normalised host name (lower case, no port) */
	struct nj_http_str host_raw; /* http.host.raw: URI host as sent, else the Host value */
	int32_t port;		     /* from the URI or Host header, -1 if none */
	int16_t req_proto;	     /* NJ_HTTP_PROTO_* */
	uint8_t method_id;	     /* NJ_HTTP_M_* */
	uint8_t is09;		     /* HTTP/0.9 request (no headers, response without status) */
	/* response line parts (m[1].raw) */
	struct nj_http_str resp_protocol, status, message;
	int16_t status_num; /* 100..999, -1 if absent or invalid */
	int16_t resp_proto;
	uint16_t flags; /* NJ_HTTP_TXF_* */
	uint8_t seen_100;
	uint8_t fevents[2]; /* per-direction once-only anomaly groups (libhtp's warn_once) */
	uint64_t evbits; /* anomalies raised on this transaction: bit i = nj_http_event_names[i] */
	/* the body's file when it was closed, for filesize / filemd5 / file.magic */
	uint8_t file_seen[2], file_has_md5[2];
	uint64_t file_size[2];
	uint8_t file_md5[2][16];
	struct nj_http_str file_magic[2]; /* in m[dir].der */
	/* multipart/form-data request: the body's files are its parts with a file name */
	uint8_t multipart;
	uint32_t nparts, parts_bytes;
	struct nj_http_part *parts;
};

static inline struct nj_http_tx *nj_http_tx_of(const struct nj_al_tx *t)
{
	return (struct nj_http_tx *)t;
}

static inline bool nj_http_has(struct nj_http_str s)
{
	return s.off != NJ_HTTP_NONE;
}

/* Bytes of s, a string of message dir of tx. */
static inline const uint8_t *nj_http_ptr(const struct nj_http_tx *tx, int dir, struct nj_http_str s)
{
	const struct nj_http_msg *m = &tx->m[dir];

	return (s.der ? m->der.p : m->raw.p) + s.off;
}

/* A header's value (first of that name, case-insensitive; repeats joined). */
bool nj_http_header(const struct nj_http_tx *tx, int dir, const char *name, const uint8_t **val,
		    uint32_t *len);

/*
 * Name of the file a body is (Suricata's): the Content-Disposition filename
 * when given, else the normalised URL path (requests: the path too).
 */
bool nj_http_tx_filename(const struct nj_http_tx *tx, int dir, const uint8_t **name, uint32_t *len);

/*
 * The client address from the XFF header (Suricata's HttpXFFGetIPFromTx):
 * first (forward) or last (reverse) element, port and brackets removed,
 * valid IPv4/IPv6 text only. Returns false when there is none.
 */
bool nj_http_tx_xff(const struct nj_http_tx *tx, const char *header, bool reverse, char *out,
		    size_t outlen);

/*
 * Writes Suricata's http metadata (EveHttpAddMetadata: basic and extended
 * fields, no headers) into an open object: for fileinfo and alert events.
 */
void nj_http_log_fields(struct nj_json *j, const struct nj_http_tx *tx);

/*
 * Whether parsing stopped because the connection is a tunnel now (CONNECT
 * accepted, 101 Switching Protocols): the hook for re-detecting the inner
 * protocol. Both directions then consume and ignore their data.
 */
bool nj_http_state_tunnel(const void *state);

/* The anomaly names the parser raises (NULL-terminated; index = bit in evbits). */
extern const char *const nj_http_event_names[];
/* Index of an anomaly name (case-insensitive), -1 if unknown. */
int nj_http_event_index(const char *name);

extern struct nj_app_parser nj_http_parser;

#endif
