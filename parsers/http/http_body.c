/* SPDX-License-Identifier: MIT */
/*
 * Message bodies: Content-Encoding decompression (zlib) and the consumers of
 * the decoded bytes.
 *
 * Decompression follows libhtp-rs: "gzip"/"deflate"/"br" (brotli, libbrotlidec;
 * not retried as another format) as announced, several
 * encodings as a chain (the last listed is undone first, at most
 * response-body-decompress-layer-limit layers), the gzip header parsed
 * leniently (flags, extra, name, comment, header CRC; checksums ignored, as
 * browsers do), and a layer that fails before producing anything retried as
 * deflate, zlib, gzip in turn, three times at most, then passed through
 * untouched. A layer failing after it produced output stops. Data after the
 * end of the compressed stream is ignored. Unlike libhtp, the first bytes of a
 * layer are kept (up to HTTP_DZ_REPLAY) so a retry starts from the beginning
 * of the body whatever the segmentation was. Output is bounded: more than
 * compression-bomb-limit bytes out at a ratio above 2048:1 is a
 * COMPRESSION_BOMB and decompression stops.
 *
 * Consumers: today the inspection buffer (http.request_body, http.response_body,
 * file.data: the first request-body-limit / response-body-limit bytes). The
 * files interface (parsers/files.h) plugs in at body_open / body_append /
 * body_gap / body_close below: the name comes from nj_http_tx_filename, the
 * transaction id and direction are the file's, the end state is CLOSED for a
 * complete body and TRUNCATED otherwise. A multipart/form-data request body is
 * not one file: its bytes go to http_multipart.c, which makes a file of each
 * part with a file name.
 */
#include <stdlib.h>
#include <string.h>

#include <brotli/decode.h>
#include <zlib.h>

#include "../files.h"
#include "http_priv.h"

#define HTTP_DZ_LAYERS	4
#define HTTP_DZ_REPLAY	256
#define HTTP_DZ_CHUNK	8192
#define HTTP_BOMB_RATIO 2048

enum dz_enc { DZ_GZIP = 0, DZ_DEFLATE, DZ_ZLIB, DZ_BROTLI };

enum gz_st { GZ_MAGIC = 0, GZ_XLEN, GZ_EXTRA, GZ_NAME, GZ_COMMENT, GZ_HCRC, GZ_BODY };

struct dz_layer {
	uint8_t enc;
	uint8_t restarts;
	uint8_t passthrough, dead, produced, ended;
	uint8_t z_init;
	/* gzip header */
	uint8_t gz_st, gz_flags, gz_hdr_len;
	uint16_t gz_skip;
	z_stream z;
	BrotliDecoderState *br; /* DZ_BROTLI */
	/* the layer's first input bytes, replayed on a retry */
	uint16_t replay_len;
	uint8_t replay_over;
	uint8_t replay[HTTP_DZ_REPLAY];
};

struct http_dz {
	uint8_t nlayers;
	uint8_t stopped; /* bomb */
	struct dz_layer l[HTTP_DZ_LAYERS];
};

struct dz_ctx {
	struct http_state *s;
	struct nj_al_ctx *c;
	int dir;
};

/* ------------------------------------------------------------------ consumers */

/* fileinfo's protocol object */
static void file_meta(struct nj_json *j, const void *arg)
{
	nj_json_open_obj(j, "http");
	nj_http_log_fields(j, arg);
	nj_json_close_obj(j);
}

/* A body starts: it becomes a file named by nj_http_tx_filename. */
static void body_open(struct http_state *s, struct nj_al_ctx *c, int dir, struct nj_http_tx *tx)
{
	struct nj_files *fs = c ? nj_al_files(c) : NULL;
	const uint8_t *name = NULL;
	uint32_t len = 0;

	if (!fs || (dir == NJ_DIR_TOSERVER && s->d[0].mp))
		return; /* multipart: the parts are the files */
	nj_http_tx_filename(tx, dir, &name, &len);
	s->d[dir].file = nj_file_open(fs, nj_al_flow(c), "http", name, len, tx->al.id, dir);
	if (dir == NJ_DIR_TOCLIENT)
		http_range_open(s, c, tx, s->d[dir].file, name, len);
}

/* Decoded body bytes: inspection buffer (files: nj_file_append). */
static void body_append(struct http_state *s, struct nj_al_ctx *c, int dir, struct nj_http_tx *tx,
			const uint8_t *p, uint32_t n)
{
	const struct nj_http_config *cfg = nj_http_config_get();
	struct nj_http_msg *m = &tx->m[dir];
	uint32_t lim = dir == NJ_DIR_TOSERVER ? cfg->req_body_limit : cfg->resp_body_limit;

	m->entity_len += n;
	if (s->d[dir].file)
		nj_file_append(s->d[dir].file, p, n);
	else if (dir == NJ_DIR_TOSERVER && s->d[0].mp)
		http_mp_data(s, c, tx, p, n);
	if (s->d[dir].rng.r)
		nj_file_range_append(&s->d[dir].rng, p, n);
	if (m->body.len < lim) {
		uint32_t take = lim - m->body.len < n ? lim - m->body.len : n;

		/* a body of known length gets its buffer at once (no growth copies) */
		if (!m->body.cap && s->d[dir].left && !s->d[dir].dz) {
			uint64_t want = s->d[dir].left < lim ? s->d[dir].left : lim;

			if (want > take) {
				m->body.p = malloc(want);
				if (m->body.p)
					m->body.cap = (uint32_t)want;
			}
		}
		http_buf_add(&m->body, p, take, lim);
	}
}

/* Bytes lost. */
static void body_gap(struct http_state *s, struct nj_al_ctx *c, int dir, struct nj_http_tx *tx,
		     uint32_t n)
{
	tx->m[dir].gap_bytes += n;
	if (s->d[dir].file)
		nj_file_gap(s->d[dir].file, n);
	else if (dir == NJ_DIR_TOSERVER && s->d[0].mp)
		http_mp_gap(s, c, tx, n);
	if (s->d[dir].rng.r)
		nj_file_range_gap(&s->d[dir].rng, n);
}

/* The body ends: the file closes CLOSED or TRUNCATED with the transaction's http fields. */
static void body_close(struct http_state *s, struct nj_al_ctx *c, int dir, struct nj_http_tx *tx,
		       bool complete)
{
	if (!complete)
		tx->m[dir].truncated = 1;
	http_body_file_close(s, c, dir, complete);
}

void http_body_file_close(struct http_state *s, struct nj_al_ctx *c, int dir, bool complete)
{
	struct http_dir *d = &s->d[dir];

	if (d->mp)
		http_mp_end(s, c, d->tx, complete);
	if (!d->file)
		return;
	if (d->tx) {
		d->tx->file_seen[dir] = 1;
		d->tx->file_size[dir] = nj_file_size(d->file);
		d->tx->file_has_md5[dir] = nj_file_md5(d->file, d->tx->file_md5[dir]);
		const char *mg = nj_file_magic(d->file, true);

		if (mg)
			d->tx->file_magic[dir] =
				http_str_add(&d->tx->m[dir], true, mg, (uint32_t)strlen(mg) + 1);
	}
	if (d->tx)
		nj_file_close(d->file, complete ? NJ_FILE_CLOSED : NJ_FILE_TRUNCATED,
			      c ? nj_al_ts(c) : 0, file_meta, d->tx);
	else
		nj_file_close(d->file, NJ_FILE_TRUNCATED, c ? nj_al_ts(c) : 0, NULL, NULL);
	d->file = NULL;
	/* the reassembled file, when this range completed it, is logged after the range's */
	if (d->rng.r)
		nj_file_range_close(&d->rng, complete, c ? nj_al_ts(c) : 0,
				    d->tx ? file_meta : NULL, d->tx);
}

/* ------------------------------------------------------------------ decompression */

static int dz_layer_init(struct dz_layer *l)
{
	int wbits = l->enc == DZ_ZLIB ? 15 : -15;

	if (l->z_init)
		inflateEnd(&l->z);
	memset(&l->z, 0, sizeof(l->z));
	l->z_init = 0;
	if (l->br) {
		BrotliDecoderDestroyInstance(l->br);
		l->br = NULL;
	}
	if (l->enc == DZ_BROTLI) {
		l->br = BrotliDecoderCreateInstance(NULL, NULL, NULL);
		if (!l->br)
			return -1;
		l->gz_st = GZ_BODY;
		l->ended = 0;
		return 0;
	}
	if (inflateInit2(&l->z, wbits) != Z_OK)
		return -1;
	l->z_init = 1;
	l->gz_st = l->enc == DZ_GZIP ? GZ_MAGIC : GZ_BODY;
	l->gz_hdr_len = 0;
	l->gz_skip = 0;
	l->gz_flags = 0;
	l->ended = 0;
	return 0;
}

static void dz_forward(struct http_dz *z, const struct dz_ctx *x, unsigned idx, const uint8_t *p,
		       uint32_t n);

/* Delivers decoded bytes to the consumers, with the bomb check (libhtp's). */
static void dz_sink(struct http_dz *z, const struct dz_ctx *x, const uint8_t *p, uint32_t n)
{
	const struct nj_http_config *cfg = nj_http_config_get();
	struct nj_http_tx *tx = x->s->d[x->dir].tx;
	struct nj_http_msg *m;

	if (!tx || z->stopped)
		return;
	m = &tx->m[x->dir];
	body_append(x->s, x->c, x->dir, tx, p, n);
	if (m->entity_len > cfg->bomb_limit && (m->message_len > UINT64_MAX / HTTP_BOMB_RATIO ||
						m->entity_len > m->message_len * HTTP_BOMB_RATIO)) {
		http_event(x->c, tx, x->dir, "COMPRESSION_BOMB");
		z->stopped = 1;
	}
}

/* gzip header bytes; returns bytes used, or -1 when it is not gzip. */
static int gz_hdr_parse(struct dz_layer *l, const uint8_t *p, uint32_t n)
{
	uint32_t i = 0;

	while (i < n && l->gz_st != GZ_BODY) {
		uint8_t c = p[i];

		switch (l->gz_st) {
		case GZ_MAGIC:
			/* 1f 8b 08 flags mtime(4) xfl os */
			if ((l->gz_hdr_len == 0 && c != 0x1f) ||
			    (l->gz_hdr_len == 1 && c != 0x8b) || (l->gz_hdr_len == 2 && c != 0x08))
				return -1;
			if (l->gz_hdr_len == 3)
				l->gz_flags = c;
			i++;
			if (++l->gz_hdr_len == 10) {
				l->gz_hdr_len = 0;
				l->gz_st = (l->gz_flags & 4) ? GZ_XLEN : GZ_NAME;
			}
			break;
		case GZ_XLEN:
			l->gz_skip |= (uint16_t)(c << (8 * l->gz_hdr_len));
			i++;
			if (++l->gz_hdr_len == 2) {
				l->gz_hdr_len = 0;
				l->gz_st = GZ_EXTRA;
			}
			break;
		case GZ_EXTRA:
			if (l->gz_skip == 0) {
				l->gz_st = GZ_NAME;
				break;
			}
			{
				uint32_t take = n - i < l->gz_skip ? n - i : l->gz_skip;

				i += take;
				l->gz_skip = (uint16_t)(l->gz_skip - take);
			}
			break;
		case GZ_NAME:
			if (!(l->gz_flags & 8)) {
				l->gz_st = GZ_COMMENT;
				break;
			}
			i++;
			if (c == 0)
				l->gz_flags &= (uint8_t)~8;
			break;
		case GZ_COMMENT:
			if (!(l->gz_flags & 16)) {
				l->gz_st = GZ_HCRC;
				break;
			}
			i++;
			if (c == 0)
				l->gz_flags &= (uint8_t)~16;
			break;
		case GZ_HCRC:
			if (!(l->gz_flags & 2)) {
				l->gz_st = GZ_BODY;
				break;
			}
			i++;
			if (++l->gz_hdr_len == 2)
				l->gz_st = GZ_BODY;
			break;
		}
	}
	/* flags may end the header without a byte to look at */
	while (l->gz_st != GZ_BODY && i == n) {
		if (l->gz_st == GZ_NAME && !(l->gz_flags & 8))
			l->gz_st = GZ_COMMENT;
		else if (l->gz_st == GZ_COMMENT && !(l->gz_flags & 16))
			l->gz_st = GZ_HCRC;
		else if (l->gz_st == GZ_HCRC && !(l->gz_flags & 2))
			l->gz_st = GZ_BODY;
		else if (l->gz_st == GZ_EXTRA && l->gz_skip == 0)
			l->gz_st = GZ_NAME;
		else
			break;
	}
	return (int)i;
}

/* Brotli through layer idx; returns 0, or -1 on a decoding error. */
static int dz_unbrotli(struct http_dz *z, const struct dz_ctx *x, unsigned idx, const uint8_t *p,
		       uint32_t n)
{
	struct dz_layer *l = &z->l[idx];
	size_t avail_in = n;
	const uint8_t *next_in = p;

	for (;;) {
		uint8_t out[HTTP_DZ_CHUNK];
		size_t avail_out = sizeof(out);
		uint8_t *next_out = out;
		BrotliDecoderResult r = BrotliDecoderDecompressStream(l->br, &avail_in, &next_in,
								      &avail_out, &next_out, NULL);
		uint32_t got = (uint32_t)(sizeof(out) - avail_out);

		if (got) {
			l->produced = 1;
			dz_forward(z, x, idx + 1, out, got);
			if (z->stopped)
				return 0;
		}
		if (r == BROTLI_DECODER_RESULT_SUCCESS) {
			l->ended = 1; /* what follows the stream is ignored */
			return 0;
		}
		if (r == BROTLI_DECODER_RESULT_ERROR)
			return -1;
		if (r == BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT)
			return 0;
		/* NEEDS_MORE_OUTPUT: go on */
	}
}

/* Inflates p through layer idx; returns 0, or -1 on a decoding error. */
static int dz_inflate(struct http_dz *z, const struct dz_ctx *x, unsigned idx, const uint8_t *p,
		      uint32_t n)
{
	struct dz_layer *l = &z->l[idx];

	if (l->ended)
		return 0;
	if (l->enc == DZ_BROTLI)
		return n ? dz_unbrotli(z, x, idx, p, n) : 0;
	if (l->gz_st != GZ_BODY) {
		int used = gz_hdr_parse(l, p, n);

		if (used < 0)
			return -1;
		p += used;
		n -= (uint32_t)used;
	}
	if (l->gz_st != GZ_BODY || n == 0)
		return 0;
	l->z.next_in = (Bytef *)(uintptr_t)p;
	l->z.avail_in = n;
	for (;;) {
		uint8_t out[HTTP_DZ_CHUNK];
		uint32_t got;
		int r;

		l->z.next_out = out;
		l->z.avail_out = sizeof(out);
		r = inflate(&l->z, Z_NO_FLUSH);
		got = (uint32_t)(sizeof(out) - l->z.avail_out);
		if (got) {
			l->produced = 1;
			dz_forward(z, x, idx + 1, out, got);
			if (z->stopped)
				return 0;
		}
		if (r == Z_STREAM_END) {
			l->ended = 1; /* the rest (gzip trailer, more members) is ignored */
			return 0;
		}
		if (r == Z_NEED_DICT || r == Z_DATA_ERROR || r == Z_STREAM_ERROR ||
		    r == Z_MEM_ERROR)
			return -1;
		if (l->z.avail_in == 0 || (r == Z_BUF_ERROR && got == 0))
			return 0;
	}
}

static void dz_layer_write(struct http_dz *z, const struct dz_ctx *x, unsigned idx,
			   const uint8_t *p, uint32_t n)
{
	struct dz_layer *l = &z->l[idx];

	if (l->dead || z->stopped)
		return;
	if (l->passthrough) {
		dz_forward(z, x, idx + 1, p, n);
		return;
	}
	if (!l->produced) {
		if (!l->replay_over && l->replay_len + n <= HTTP_DZ_REPLAY) {
			memcpy(l->replay + l->replay_len, p, n);
			l->replay_len = (uint16_t)(l->replay_len + n);
		} else {
			l->replay_over = 1;
		}
	}
	while (dz_inflate(z, x, idx, p, n) < 0) {
		/* failed: stop if output was produced, else retry with the next decoder */
		if (l->produced) {
			l->dead = 1;
			return;
		}
		if (!l->replay_over) {
			p = l->replay;
			n = l->replay_len;
		}
		if (l->restarts >= 3 || l->enc == DZ_BROTLI) {
			/* (brotli is not retried as another format) */
			l->passthrough = 1;
			dz_forward(z, x, idx + 1, p, n);
			return;
		}
		l->restarts++;
		l->enc = l->enc == DZ_GZIP ? DZ_DEFLATE : l->enc == DZ_DEFLATE ? DZ_ZLIB : DZ_GZIP;
		if (dz_layer_init(l) < 0) {
			l->dead = 1;
			return;
		}
	}
}

static void dz_forward(struct http_dz *z, const struct dz_ctx *x, unsigned idx, const uint8_t *p,
		       uint32_t n)
{
	if (n == 0)
		return;
	if (idx >= z->nlayers)
		dz_sink(z, x, p, n);
	else
		dz_layer_write(z, x, idx, p, n);
}

void http_dz_free(struct http_dz *z)
{
	if (!z)
		return;
	for (unsigned i = 0; i < z->nlayers; i++) {
		if (z->l[i].z_init)
			inflateEnd(&z->l[i].z);
		if (z->l[i].br)
			BrotliDecoderDestroyInstance(z->l[i].br);
	}
	free(z);
}

/* ------------------------------------------------------------------ Content-Encoding */

/*
 * The decoders a Content-Encoding asks for, first to apply first (libhtp:
 * fast path for one known value, else a list split on ',' and ' ').
 */
static unsigned ce_layers(struct nj_al_ctx *c, struct nj_http_tx *tx, int dir, const uint8_t *v,
			  uint32_t n, uint8_t out[HTTP_DZ_LAYERS])
{
	const struct nj_http_config *cfg = nj_http_config_get();
	uint8_t list[HTTP_DZ_LAYERS];
	unsigned cnt = 0, layers = 0;
	uint32_t i = 0;

	if (http_eq_nocase_nozero(v, n, "gzip") || http_eq_nocase_nozero(v, n, "x-gzip")) {
		out[0] = DZ_GZIP;
		return 1;
	}
	if (http_eq_nocase_nozero(v, n, "deflate") || http_eq_nocase_nozero(v, n, "x-deflate")) {
		out[0] = DZ_DEFLATE;
		return 1;
	}
	if (http_eq_nocase_nozero(v, n, "br")) {
		out[0] = DZ_BROTLI;
		return 1;
	}
	if (http_eq_nocase_nozero(v, n, "lzma") || http_eq_nocase_nozero(v, n, "inflate") ||
	    http_eq_nocase_nozero(v, n, "none"))
		return 0; /* lzma: not decoded here (Suricata disables it by default) */
	while (i < n) {
		uint32_t s;
		const uint8_t *t;
		uint32_t tl;

		while (i < n && (v[i] == ',' || v[i] == ' '))
			i++;
		if (i >= n)
			break;
		s = i;
		while (i < n && v[i] != ',' && v[i] != ' ')
			i++;
		t = v + s;
		tl = i - s;
		layers++;
		if (cfg->layer_limit && layers > cfg->layer_limit) {
			http_event(c, tx, dir, "TOO_MANY_ENCODING_LAYERS");
			break;
		}
		if (http_contains_nocase_nozero(t, tl, "gzip")) {
			if (!(tl == 4 && memcmp(t, "gzip", 4) == 0) &&
			    !(tl == 6 && memcmp(t, "x-gzip", 6) == 0))
				http_event(c, tx, dir, "ABNORMAL_CE_HEADER");
			if (cnt < HTTP_DZ_LAYERS)
				list[cnt++] = DZ_GZIP;
		} else if (http_contains_nocase_nozero(t, tl, "deflate")) {
			if (!(tl == 7 && memcmp(t, "deflate", 7) == 0) &&
			    !(tl == 9 && memcmp(t, "x-deflate", 9) == 0))
				http_event(c, tx, dir, "ABNORMAL_CE_HEADER");
			if (cnt < HTTP_DZ_LAYERS)
				list[cnt++] = DZ_DEFLATE;
		} else if (tl == 2 && memcmp(t, "br", 2) == 0) {
			if (cnt < HTTP_DZ_LAYERS)
				list[cnt++] = DZ_BROTLI;
		} else if ((tl == 4 && memcmp(t, "lzma", 4) == 0) ||
			   (tl == 7 && memcmp(t, "inflate", 7) == 0) ||
			   (tl == 4 && memcmp(t, "none", 4) == 0)) {
			/* nothing to undo here */
		} else {
			http_event(c, tx, dir, "ABNORMAL_CE_HEADER");
		}
	}
	/* the last encoding applied is undone first */
	for (unsigned k = 0; k < cnt; k++)
		out[k] = list[cnt - 1 - k];
	return cnt;
}

/* ------------------------------------------------------------------ API */

void http_body_begin(struct http_state *s, struct nj_al_ctx *c, int dir, struct nj_http_tx *tx,
		     bool decode)
{
	const struct nj_http_config *cfg = nj_http_config_get();
	struct http_dir *d = &s->d[dir];
	const uint8_t *ce;
	uint32_t cel;
	uint8_t enc[HTTP_DZ_LAYERS];
	unsigned n = 0;

	if (d->body_open)
		return;
	d->body_open = 1;
	if (dir == NJ_DIR_TOSERVER)
		http_mp_begin(s, c, tx);
	if (decode && (dir == NJ_DIR_TOCLIENT || cfg->request_decompression) &&
	    nj_http_header(tx, dir, "content-encoding", &ce, &cel))
		n = ce_layers(c, tx, dir, ce, cel, enc);
	if (n) {
		struct http_dz *z = calloc(1, sizeof(*z));

		if (z) {
			z->nlayers = (uint8_t)n;
			for (unsigned i = 0; i < n; i++) {
				z->l[i].enc = enc[i];
				if (dz_layer_init(&z->l[i]) < 0) {
					http_dz_free(z);
					z = NULL;
					break;
				}
			}
		}
		d->dz = z;
	}
}

void http_body_data(struct http_state *s, struct nj_al_ctx *c, int dir, const uint8_t *p,
		    uint32_t n)
{
	struct http_dir *d = &s->d[dir];
	struct nj_http_tx *tx = d->tx;
	struct dz_ctx x = {s, c, dir};

	if (!tx || n == 0)
		return;
	if (!d->body_open)
		http_body_begin(s, c, dir, tx, true);
	if (!d->file_open) {
		d->file_open = 1;
		body_open(s, c, dir, tx);
	}
	tx->m[dir].message_len += n;
	if (d->dz)
		dz_forward(d->dz, &x, 0, p, n);
	else
		body_append(s, c, dir, tx, p, n);
}

void http_body_gap(struct http_state *s, struct nj_al_ctx *c, int dir, uint32_t n)
{
	struct http_dir *d = &s->d[dir];
	struct nj_http_tx *tx = d->tx;

	if (!tx)
		return;
	tx->m[dir].message_len += n;
	tx->flags |= NJ_HTTP_TXF_GAP;
	if (!d->file_open) {
		d->file_open = 1;
		body_open(s, c, dir, tx);
	}
	/* a hole ends decompression (libhtp) */
	if (d->dz) {
		http_dz_free(d->dz);
		d->dz = NULL;
	}
	body_gap(s, c, dir, tx, n);
}

void http_body_end(struct http_state *s, struct nj_al_ctx *c, int dir, bool complete)
{
	struct http_dir *d = &s->d[dir];

	if (d->dz) {
		http_dz_free(d->dz);
		d->dz = NULL;
	}
	if (d->mp)
		http_mp_end(s, c, d->tx, complete);
	if (d->file_open && d->tx)
		body_close(s, c, dir, d->tx, complete);
	d->body_open = 0;
	d->file_open = 0;
}
