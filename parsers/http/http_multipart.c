/* SPDX-License-Identifier: MIT */
/*
 * multipart/form-data request bodies (Suricata's HtpRequestBodyHandleMultipart
 * semantics, our own incremental parser): a POST whose Content-Type carries a
 * boundary= parameter is split into parts; every part whose
 * Content-Disposition names a file (filename=, else filename*= decoded) becomes
 * a file of its own (parsers/files.h) instead of the whole body; parts without
 * a file name stay request body only (the inspection buffer keeps the whole
 * body, as Suricata's http.request_body does).
 *
 * The parser sees the decoded body bytes in any segmentation (down to one
 * byte at a time) and gives the same files: delimiters ("\r\n--" boundary) are
 * matched with a KMP automaton whose pending bytes are a prefix of the
 * delimiter, so nothing but the part header block is buffered (bounded by
 * HTTP_MP_HDR_MAX). The body start and the end of a part header block count
 * as the line end that precedes a delimiter, so a body starting with the
 * delimiter, and a part with no data at all, are recognised.
 *
 * Preamble and epilogue are ignored. A body ending before the closing
 * delimiter closes the open file TRUNCATED; a gap inside a file part is a
 * file gap; a gap elsewhere loses the part (the next delimiter resyncs).
 *
 * Anomalies (Suricata's names): MULTIPART_INVALID_HEADER (a part header line
 * without a colon or without a value, or a header block larger than
 * HTTP_MP_HDR_MAX), MULTIPART_NO_FILEDATA (a file part directly followed by
 * the next delimiter, without even a line end), MULTIPART_GENERIC_ERROR
 * (garbage after a delimiter, body ending inside part headers).
 *
 * Detection: each file part's name and first bytes are kept on the
 * transaction (nj_http_tx.parts, at most HTTP_MP_PARTS_MAX parts, data bounded
 * by request-body-limit in total) for the file.data / file.name instances.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "../files.h"
#include "http_priv.h"

#define HTTP_MP_BOUNDARY_MAX 200 /* Suricata's HTP_BOUNDARY_MAX */
#define HTTP_MP_HDR_MAX	     4096
#define HTTP_MP_NAME_MAX     1024
#define HTTP_MP_PARTS_MAX    64

enum mp_st {
	MP_PREAMBLE = 0, /* before the first delimiter */
	MP_DELIM_TAIL,	 /* after a delimiter: "--", padding, line end */
	MP_DASH,	 /* one '-' seen after a delimiter */
	MP_SKIP_LINE,	 /* garbage after a delimiter, up to the line end */
	MP_HEADERS,	 /* part header block */
	MP_DATA,	 /* part data */
	MP_EPILOGUE,	 /* after the closing delimiter */
};

struct http_mp {
	uint8_t st;
	uint8_t nl;	  /* header block: line ends in a row */
	uint8_t virt;	  /* leading pending delimiter bytes that are virtual (not data) */
	uint8_t hdr_over; /* header block over HTTP_MP_HDR_MAX */
	uint8_t filepart; /* the current part has a file name */
	uint8_t store;	  /* the current part's bytes go to tx->parts[npart] */
	uint32_t k;	  /* delimiter bytes matched */
	uint32_t dlen;	  /* delimiter length */
	uint32_t hlen;	  /* header bytes kept */
	struct nj_file *file;
	uint32_t part; /* index in tx->parts of the current part when store */
	uint8_t delim[HTTP_MP_BOUNDARY_MAX + 4];
	uint32_t fail[HTTP_MP_BOUNDARY_MAX + 4];
	uint8_t hdr[HTTP_MP_HDR_MAX];
	uint8_t name[HTTP_MP_NAME_MAX];
};

/* ------------------------------------------------------------------ set-up */

/*
 * The boundary= parameter of a Content-Type value (Suricata's
 * HTTPParseContentTypeHeader: ';'-separated tokens, leading space skipped,
 * quotes removed).
 */
static bool ct_boundary(const uint8_t *v, uint32_t n, const uint8_t **b, uint32_t *bl)
{
	uint32_t i = 0;

	while (i < n) {
		uint32_t s, e;
		bool q = false;

		while (i < n && (http_is_space(v[i]) || v[i] == ';'))
			i++;
		s = i;
		while (i < n && (q || v[i] != ';')) {
			if (v[i] == '"')
				q = !q;
			i++;
		}
		e = i;
		if (e - s > 9 && http_eq_nocase(v + s, 9, "boundary=")) {
			s += 9;
			while (e > s && http_is_space(v[e - 1]))
				e--;
			if (e > s && v[s] == '"')
				s++;
			if (e > s && v[e - 1] == '"')
				e--;
			*b = v + s;
			*bl = e - s;
			return true;
		}
	}
	return false;
}

bool http_mp_begin(struct http_state *s, struct nj_al_ctx *c, struct nj_http_tx *tx)
{
	struct http_dir *d = &s->d[0];
	const uint8_t *ct, *b;
	uint32_t ctl, bl;
	struct http_mp *mp;

	(void)c;
	if (d->mp || tx->method_id != NJ_HTTP_M_POST ||
	    !nj_http_header(tx, 0, "content-type", &ct, &ctl) || !ct_boundary(ct, ctl, &b, &bl) ||
	    bl == 0 || bl >= HTTP_MP_BOUNDARY_MAX)
		return false;
	mp = malloc(sizeof(*mp));
	if (!mp)
		return false;
	memset(mp, 0, offsetof(struct http_mp, hdr));
	memcpy(mp->delim, "\r\n--", 4);
	memcpy(mp->delim + 4, b, bl);
	mp->dlen = bl + 4;
	/* KMP failure function */
	mp->fail[0] = 0;
	for (uint32_t i = 1, k = 0; i < mp->dlen; i++) {
		while (k && mp->delim[i] != mp->delim[k])
			k = mp->fail[k - 1];
		if (mp->delim[i] == mp->delim[k])
			k++;
		mp->fail[i] = k;
	}
	/* the body start counts as a line end */
	mp->st = MP_PREAMBLE;
	mp->k = 2;
	mp->virt = 2;
	d->mp = mp;
	tx->multipart = 1;
	return true;
}

/* ------------------------------------------------------------------ consumers */

static void file_meta(struct nj_json *j, const void *arg)
{
	nj_json_open_obj(j, "http");
	nj_http_log_fields(j, arg);
	nj_json_close_obj(j);
}

/* Bytes of the current part's data. */
static void part_data(struct http_mp *mp, struct nj_http_tx *tx, const uint8_t *p, uint32_t n)
{
	const struct nj_http_config *cfg = nj_http_config_get();

	if (n == 0 || mp->st != MP_DATA || !mp->filepart)
		return;
	if (mp->file)
		nj_file_append(mp->file, p, n);
	if (mp->store && tx->parts_bytes < cfg->req_body_limit) {
		uint32_t take = cfg->req_body_limit - tx->parts_bytes;

		if (take > n)
			take = n;
		if (http_buf_add(&tx->parts[mp->part].data, p, take, cfg->req_body_limit))
			tx->parts_bytes += take;
	}
}

static void part_close(struct http_mp *mp, struct nj_al_ctx *c, struct nj_http_tx *tx,
		       bool complete)
{
	if (mp->file) {
		if (tx) {
			tx->file_seen[0] = 1;
			tx->file_size[0] = nj_file_size(mp->file);
			tx->file_has_md5[0] = nj_file_md5(mp->file, tx->file_md5[0]);
			nj_file_close(mp->file, complete ? NJ_FILE_CLOSED : NJ_FILE_TRUNCATED,
				      c ? nj_al_ts(c) : 0, file_meta, tx);
		} else {
			nj_file_close(mp->file, NJ_FILE_TRUNCATED, c ? nj_al_ts(c) : 0, NULL, NULL);
		}
		mp->file = NULL;
	}
	mp->filepart = 0;
	mp->store = 0;
}

/* ------------------------------------------------------------------ part headers */

/*
 * filename= (quotes removed) of a Content-Disposition value, else filename*=
 * (RFC 5987: charset'language'percent-encoded, decoded). The name goes to
 * mp->name; returns its length, -1 when there is none.
 */
static int cd_filename(struct http_mp *mp, const uint8_t *v, uint32_t n)
{
	const uint8_t *ext = NULL;
	uint32_t extl = 0, i = 0;

	while (i < n) {
		uint32_t s, e;
		bool q = false;

		while (i < n && (http_is_space(v[i]) || v[i] == ';'))
			i++;
		s = i;
		while (i < n && (q || v[i] != ';')) {
			if (v[i] == '\\' && q && i + 1 < n)
				i++;
			else if (v[i] == '"')
				q = !q;
			i++;
		}
		e = i;
		while (e > s && http_is_space(v[e - 1]))
			e--;
		if (e - s >= 9 && http_eq_nocase(v + s, 9, "filename=")) {
			uint32_t l;

			s += 9;
			if (e > s && v[s] == '"')
				s++;
			if (e > s && v[e - 1] == '"')
				e--;
			l = e - s < HTTP_MP_NAME_MAX ? e - s : HTTP_MP_NAME_MAX;
			memcpy(mp->name, v + s, l);
			return (int)l;
		}
		if (e - s >= 10 && http_eq_nocase(v + s, 10, "filename*=") && !ext) {
			ext = v + s + 10;
			extl = e - s - 10;
		}
	}
	if (ext) {
		uint32_t j = 0, o = 0;
		const uint8_t *q;

		/* skip charset'language' */
		q = memchr(ext, '\'', extl);
		if (q) {
			const uint8_t *q2 = memchr(q + 1, '\'', extl - (uint32_t)(q + 1 - ext));

			if (q2)
				j = (uint32_t)(q2 + 1 - ext);
		}
		for (; j < extl && o < HTTP_MP_NAME_MAX; j++) {
			int h1, h2;

			if (ext[j] == '%' && j + 2 < extl && (h1 = http_hexval(ext[j + 1])) >= 0 &&
			    (h2 = http_hexval(ext[j + 2])) >= 0) {
				mp->name[o++] = (uint8_t)(h1 << 4 | h2);
				j += 2;
			} else if (ext[j] != '"') {
				mp->name[o++] = ext[j];
			}
		}
		return (int)o;
	}
	return -1;
}

/* The header block of a part is complete: is it a file? */
static void part_start(struct http_state *s, struct http_mp *mp, struct nj_al_ctx *c,
		       struct nj_http_tx *tx)
{
	const uint8_t *h = mp->hdr;
	uint32_t n = mp->hlen, i = 0;
	int fnl = -1;
	bool invalid = false;

	while (i < n) {
		uint32_t e = i, le;
		const uint8_t *colon;

		while (e < n && h[e] != '\n')
			e++;
		le = e;
		if (le > i && h[le - 1] == '\r')
			le--;
		if (le > i && h[i] != ' ' && h[i] != '\t') {
			colon = memchr(h + i, ':', le - i);
			if (!colon || colon == h + le - 1) {
				invalid = true;
			} else {
				const uint8_t *nm = h + i, *v = colon + 1;
				uint32_t nml = (uint32_t)(colon - nm), vl = (uint32_t)(h + le - v);

				http_trim(&nm, &nml);
				if (nml == 19 && http_eq_nocase(nm, 19, "content-disposition") &&
				    fnl < 0)
					fnl = cd_filename(mp, v, vl);
			}
		}
		i = e + 1;
	}
	if (invalid || mp->hdr_over)
		http_event(c, tx, 0, "MULTIPART_INVALID_HEADER");
	mp->st = MP_DATA;
	/* the header block's line end precedes a delimiter right after it */
	mp->k = 2;
	mp->virt = 2;
	if (fnl < 0)
		return;
	mp->filepart = 1;
	if (c && nj_al_files(c))
		mp->file = nj_file_open(nj_al_files(c), nj_al_flow(c), "http", mp->name,
					(uint32_t)fnl, tx->al.id, 0);
	if (tx->nparts < HTTP_MP_PARTS_MAX) {
		struct nj_http_part *np =
			realloc(tx->parts, (tx->nparts + 1u) * sizeof(struct nj_http_part));

		if (np) {
			struct nj_http_part *pt = &np[tx->nparts];

			tx->parts = np;
			memset(pt, 0, sizeof(*pt));
			if (fnl > 0) {
				pt->name = malloc((size_t)fnl);
				if (pt->name) {
					memcpy(pt->name, mp->name, (size_t)fnl);
					pt->name_len = (uint32_t)fnl;
				}
			}
			mp->part = tx->nparts++;
			mp->store = 1;
		}
	}
	(void)s;
}

/* ------------------------------------------------------------------ data */

/* Pending delimiter bytes d[0..n) turned out to be data (virtual ones are skipped). */
static void release(struct http_mp *mp, struct nj_http_tx *tx, uint32_t n)
{
	uint32_t skip = mp->virt < n ? mp->virt : n;

	mp->virt = (uint8_t)(mp->virt - skip);
	part_data(mp, tx, mp->delim + skip, n - skip);
}

/* A delimiter was matched. */
static void delimiter(struct http_mp *mp, struct nj_al_ctx *c, struct nj_http_tx *tx)
{
	if (mp->st == MP_DATA && mp->filepart) {
		if (mp->virt)
			http_event(c, tx, 0, "MULTIPART_NO_FILEDATA");
		part_close(mp, c, tx, true);
	}
	mp->k = 0;
	mp->virt = 0;
	mp->st = MP_DELIM_TAIL;
}

static void headers_begin(struct http_mp *mp)
{
	mp->st = MP_HEADERS;
	mp->nl = 1; /* the delimiter line's end */
	mp->hlen = 0;
	mp->hdr_over = 0;
}

void http_mp_data(struct http_state *s, struct nj_al_ctx *c, struct nj_http_tx *tx,
		  const uint8_t *p, uint32_t n)
{
	struct http_mp *mp = s->d[0].mp;
	uint32_t i = 0;

	if (!mp)
		return;
	while (i < n) {
		switch (mp->st) {
		case MP_PREAMBLE:
		case MP_DATA:
			if (mp->k == 0) {
				const uint8_t *cr = memchr(p + i, '\r', n - i);
				uint32_t stop = cr ? (uint32_t)(cr - p) : n;

				part_data(mp, tx, p + i, stop - i);
				i = stop;
				if (cr) {
					mp->k = 1;
					i++;
				}
				break;
			}
			while (mp->k && mp->delim[mp->k] != p[i]) {
				uint32_t k2 = mp->fail[mp->k - 1];

				release(mp, tx, mp->k - k2);
				mp->k = k2;
			}
			if (mp->delim[mp->k] == p[i]) {
				if (++mp->k == mp->dlen)
					delimiter(mp, c, tx);
			} else {
				part_data(mp, tx, p + i, 1);
			}
			i++;
			break;
		case MP_DELIM_TAIL:
			if (p[i] == '-') {
				mp->st = MP_DASH;
			} else if (p[i] == '\n') {
				headers_begin(mp);
			} else if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r') {
				http_event(c, tx, 0, "MULTIPART_GENERIC_ERROR");
				mp->st = MP_SKIP_LINE;
			}
			i++;
			break;
		case MP_DASH:
			if (p[i] == '-') {
				mp->st = MP_EPILOGUE;
			} else {
				http_event(c, tx, 0, "MULTIPART_GENERIC_ERROR");
				mp->st = p[i] == '\n' ? MP_HEADERS : MP_SKIP_LINE;
				if (mp->st == MP_HEADERS)
					headers_begin(mp);
			}
			i++;
			break;
		case MP_SKIP_LINE: {
			const uint8_t *lf = memchr(p + i, '\n', n - i);

			if (!lf)
				return;
			i = (uint32_t)(lf - p) + 1;
			headers_begin(mp);
			break;
		}
		case MP_HEADERS:
			while (i < n && mp->st == MP_HEADERS) {
				uint8_t ch = p[i++];

				if (ch == '\n') {
					if (++mp->nl == 2) {
						/* drop the block's last line end */
						while (mp->hlen && (mp->hdr[mp->hlen - 1] == '\r' ||
								    mp->hdr[mp->hlen - 1] == '\n'))
							mp->hlen--;
						part_start(s, mp, c, tx);
						break;
					}
				} else if (ch != '\r') {
					mp->nl = 0;
				}
				if (mp->hlen < HTTP_MP_HDR_MAX)
					mp->hdr[mp->hlen++] = ch;
				else
					mp->hdr_over = 1;
			}
			break;
		case MP_EPILOGUE:
		default: return;
		}
	}
}

void http_mp_gap(struct http_state *s, struct nj_al_ctx *c, struct nj_http_tx *tx, uint32_t n)
{
	struct http_mp *mp = s->d[0].mp;

	(void)c;
	if (!mp)
		return;
	if (mp->st == MP_DATA && mp->filepart) {
		release(mp, tx, mp->k);
		mp->k = 0;
		mp->virt = 0;
		if (mp->file)
			nj_file_gap(mp->file, n);
		return;
	}
	if (mp->st != MP_EPILOGUE) {
		/* the part is lost: look for the next delimiter */
		mp->st = MP_DATA;
		mp->k = 0;
		mp->virt = 0;
	}
}

void http_mp_end(struct http_state *s, struct nj_al_ctx *c, struct nj_http_tx *tx, bool complete)
{
	struct http_mp *mp = s->d[0].mp;

	if (!mp)
		return;
	if (tx) {
		if (mp->st == MP_DATA && mp->filepart)
			release(mp, tx, mp->k); /* pending bytes were data after all */
		else if (complete && mp->st == MP_HEADERS)
			http_event(c, tx, 0, "MULTIPART_GENERIC_ERROR");
	}
	/* a file still open: the closing delimiter never came */
	part_close(mp, c, tx, false);
	free(mp);
	s->d[0].mp = NULL;
}

void http_mp_tx_free(struct nj_http_tx *tx)
{
	for (uint32_t i = 0; i < tx->nparts; i++) {
		free(tx->parts[i].name);
		http_buf_free(&tx->parts[i].data);
	}
	free(tx->parts);
	tx->parts = NULL;
	tx->nparts = 0;
}
