/* SPDX-License-Identifier: MIT */
/*
 * HTTP/1.x header blocks, start line pieces and small value parsers, with
 * libhtp's (libhtp-rs, Suricata 8) tolerance rules: which byte sequences end
 * a line on each side (responses also end lines with a bare CR), folding,
 * header names continued on the next line, headers without a colon, repeated
 * headers joined with ", ". Everything works on complete blocks: the parser
 * gathers a whole header block before calling http_headers_parse, so the
 * outcome never depends on where packets ended.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "http_priv.h"

/* ------------------------------------------------------------------ buffers */

bool http_buf_add(struct nj_http_buf *b, const void *p, uint32_t n, uint32_t max)
{
	if (n == 0) {
		/* empty strings still point somewhere */
		if (!b->p) {
			b->p = malloc(16);
			if (!b->p)
				return false;
			b->cap = 16;
		}
		return true;
	}
	if ((uint64_t)b->len + n > max)
		return false;
	if (b->len + n > b->cap) {
		uint64_t cap = b->cap ? b->cap : 256;
		uint8_t *q;

		while (cap < (uint64_t)b->len + n)
			cap *= 2;
		if (cap > max)
			cap = max;
		q = realloc(b->p, cap);
		if (!q)
			return false;
		b->p = q;
		b->cap = (uint32_t)cap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	return true;
}

void http_buf_free(struct nj_http_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

/* A message's raw and derived buffers: header block, start line and what is built from them. */
static uint32_t msg_cap(void)
{
	const struct nj_http_config *cfg = nj_http_config_get();
	uint64_t cap = (uint64_t)cfg->header_bytes * 4 + (uint64_t)cfg->field_limit * 4 + 65536;

	return cap > 0x7fffffff ? 0x7fffffff : (uint32_t)cap;
}

struct nj_http_str http_str_add(struct nj_http_msg *m, bool der, const void *p, uint32_t n)
{
	struct nj_http_buf *b = der ? &m->der : &m->raw;
	struct nj_http_str s = {NJ_HTTP_NONE, 0, der};
	uint32_t off = b->len;

	if (!http_buf_add(b, p, n, msg_cap()))
		return s;
	s.off = off;
	s.len = n;
	return s;
}

/* ------------------------------------------------------------------ strings */

bool http_eq_nocase(const uint8_t *a, uint32_t n, const char *s)
{
	size_t l = strlen(s);

	if (n != l)
		return false;
	for (uint32_t i = 0; i < n; i++)
		if (http_lower(a[i]) != http_lower((uint8_t)s[i]))
			return false;
	return true;
}

bool http_eq_nocase_nozero(const uint8_t *a, uint32_t n, const char *s)
{
	size_t j = 0, l = strlen(s);

	if (n == l && !memchr(a, 0, n))
		return http_eq_nocase(a, n, s);
	if (n < l)
		return false;

	for (uint32_t i = 0; i < n; i++) {
		if (a[i] == 0)
			continue;
		if (j >= l || http_lower(a[i]) != http_lower((uint8_t)s[j]))
			return false;
		j++;
	}
	return j == l;
}

bool http_contains_nocase_nozero(const uint8_t *a, uint32_t n, const char *s)
{
	size_t l = strlen(s);

	for (uint32_t i = 0; i < n; i++) {
		uint32_t k = i;
		size_t j = 0;

		while (j < l && k < n) {
			if (a[k] == 0) {
				k++;
				continue;
			}
			if (http_lower(a[k]) != http_lower((uint8_t)s[j]))
				break;
			j++;
			k++;
		}
		if (j == l)
			return true;
	}
	return false;
}

void http_trim(const uint8_t **p, uint32_t *n)
{
	while (*n && http_is_space((*p)[0])) {
		(*p)++;
		(*n)--;
	}
	while (*n && http_is_space((*p)[*n - 1]))
		(*n)--;
}

/* ------------------------------------------------------------------ start line pieces */

static const struct {
	const char *name;
	uint8_t id;
} methods[] = {
	{"GET", NJ_HTTP_M_GET},
	{"POST", NJ_HTTP_M_POST},
	{"HEAD", NJ_HTTP_M_HEAD},
	{"PUT", NJ_HTTP_M_PUT},
	{"DELETE", NJ_HTTP_M_DELETE},
	{"CONNECT", NJ_HTTP_M_CONNECT},
	{"OPTIONS", NJ_HTTP_M_OPTIONS},
	{"TRACE", NJ_HTTP_M_TRACE},
	{"PATCH", NJ_HTTP_M_PATCH},
	{"PROPFIND", NJ_HTTP_M_OTHER_KNOWN},
	{"PROPPATCH", NJ_HTTP_M_OTHER_KNOWN},
	{"MKCOL", NJ_HTTP_M_OTHER_KNOWN},
	{"COPY", NJ_HTTP_M_OTHER_KNOWN},
	{"MOVE", NJ_HTTP_M_OTHER_KNOWN},
	{"LOCK", NJ_HTTP_M_OTHER_KNOWN},
	{"UNLOCK", NJ_HTTP_M_OTHER_KNOWN},
	{"VERSION-CONTROL", NJ_HTTP_M_OTHER_KNOWN},
	{"CHECKOUT", NJ_HTTP_M_OTHER_KNOWN},
	{"UNCHECKOUT", NJ_HTTP_M_OTHER_KNOWN},
	{"CHECKIN", NJ_HTTP_M_OTHER_KNOWN},
	{"UPDATE", NJ_HTTP_M_OTHER_KNOWN},
	{"LABEL", NJ_HTTP_M_OTHER_KNOWN},
	{"REPORT", NJ_HTTP_M_OTHER_KNOWN},
	{"MKWORKSPACE", NJ_HTTP_M_OTHER_KNOWN},
	{"MKACTIVITY", NJ_HTTP_M_OTHER_KNOWN},
	{"BASELINE-CONTROL", NJ_HTTP_M_OTHER_KNOWN},
	{"MERGE", NJ_HTTP_M_OTHER_KNOWN},
	{"INVALID", NJ_HTTP_M_OTHER_KNOWN},
};

/* libhtp matches methods case-sensitively. */
int http_method_id(const uint8_t *p, uint32_t n)
{
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strlen(methods[i].name) == n && memcmp(methods[i].name, p, n) == 0)
			return methods[i].id;
	return NJ_HTTP_M_UNKNOWN;
}

static bool ascii_ws(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == 0x0c;
}

int16_t http_proto_parse(const uint8_t *p, uint32_t n)
{
	uint32_t i = 0;
	int16_t v;

	while (i < n && ascii_ws(p[i]))
		i++;
	if (n - i < 4 || !http_eq_nocase(p + i, 4, "HTTP"))
		return NJ_HTTP_PROTO_INVALID;
	i += 4;
	while (i < n && ascii_ws(p[i]))
		i++;
	if (i >= n || p[i] != '/')
		return NJ_HTTP_PROTO_INVALID;
	i++;
	while (i < n && (ascii_ws(p[i]) || p[i] == '0'))
		i++;
	if (n - i >= 2 && p[i] == '.' && p[i + 1] == '9') {
		v = NJ_HTTP_PROTO_0_9;
		i += 2;
	} else if (n - i >= 3 && memcmp(p + i, "1.0", 3) == 0) {
		v = NJ_HTTP_PROTO_1_0;
		i += 3;
	} else if (n - i >= 3 && memcmp(p + i, "1.1", 3) == 0) {
		v = NJ_HTTP_PROTO_1_1;
		i += 3;
	} else {
		return NJ_HTTP_PROTO_INVALID;
	}
	while (i < n && ascii_ws(p[i]))
		i++;
	return i == n ? v : NJ_HTTP_PROTO_INVALID;
}

/* nom's is_space: blank and tab only. */
static bool nom_space(uint8_t c)
{
	return c == ' ' || c == '\t';
}

/* libhtp's ascii_digits: blanks, leading junk, digits, blanks, rest. */
static bool ascii_digits(const uint8_t *p, uint32_t n, uint32_t *lead, uint32_t *dstart,
			 uint32_t *dlen, uint32_t *rest)
{
	uint32_t i = 0, ls;

	while (i < n && nom_space(p[i]))
		i++;
	ls = i;
	while (i < n && !(p[i] >= '0' && p[i] <= '9'))
		i++;
	*lead = i - ls;
	*dstart = i;
	while (i < n && p[i] >= '0' && p[i] <= '9')
		i++;
	*dlen = i - *dstart;
	if (*dlen == 0)
		return false;
	while (i < n && nom_space(p[i]))
		i++;
	*rest = n - i;
	return true;
}

static bool digits_u64(const uint8_t *p, uint32_t n, uint64_t *out)
{
	uint64_t v = 0;

	for (uint32_t i = 0; i < n; i++) {
		if (v > (UINT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (uint64_t)(p[i] - '0');
	}
	*out = v;
	return true;
}

bool http_cl_parse(const uint8_t *p, uint32_t n, uint64_t *out)
{
	uint32_t lead, ds, dl, rest;

	if (!ascii_digits(p, n, &lead, &ds, &dl, &rest))
		return false;
	return digits_u64(p + ds, dl, out);
}

int16_t http_status_parse(const uint8_t *p, uint32_t n)
{
	uint32_t lead, ds, dl, rest;
	uint64_t v;

	if (!ascii_digits(p, n, &lead, &ds, &dl, &rest) || lead || rest)
		return -1;
	if (dl > 5 || !digits_u64(p + ds, dl, &v) || v < 100 || v > 999)
		return -1;
	return (int16_t)v;
}

/* ------------------------------------------------------------------ line ends */

/*
 * The line end at p[i] for side dir, if there is one: its length in *len.
 * Requests end lines with LF (a CR before it belongs to the line end),
 * responses also with a bare CR and LF CR; after a non-empty line both know
 * libhtp's "deformed" LF CR CR LF (and requests LF CR before CR LF). Returns 1
 * found, 0 no line end here, -1 cannot tell yet: the decision never depends on
 * how much data happens to be there.
 */
static int eol_at(int dir, const uint8_t *p, uint32_t n, uint32_t i, bool closing, bool empty,
		  uint32_t *len)
{
	uint32_t r = n - i;

	if (dir == NJ_DIR_TOSERVER) {
		if (p[i] == '\r') {
			if (r < 2)
				return closing ? 0 : -1;
			if (p[i + 1] != '\n')
				return 0;
			*len = 2;
			return 1;
		}
		if (p[i] != '\n')
			return 0;
		*len = 1;
		if (empty)
			return 1;
		if (r < 2)
			return closing ? 1 : -1;
		/* deformed: LF CR CR LF followed by LF or CR LF; LF CR followed by CR LF */
		if (p[i + 1] == '\r') {
			if (r < 6 && !closing)
				return -1;
			if (r >= 5 && p[i + 2] == '\r' && p[i + 3] == '\n' &&
			    (p[i + 4] == '\n' ||
			     (p[i + 4] == '\r' && r >= 6 && p[i + 5] == '\n'))) {
				*len = 4;
				return 1;
			}
			if (r >= 4 && p[i + 2] == '\r' && p[i + 3] == '\n') {
				*len = 2;
				return 1;
			}
		}
		return 1;
	}
	if (p[i] == '\r') {
		uint32_t k, k2;

		if (r < 2)
			return closing ? (*len = 1, 1) : -1;
		if (p[i + 1] != '\n') {
			*len = 1;
			return 1;
		}
		*len = 2;
		if (empty)
			return 1;
		/* deformed: CR LF CR, then CR/blank/tab, an optional LF, not followed by a line end */
		if (r < 3)
			return closing ? 1 : -1;
		if (p[i + 2] != '\r')
			return 1;
		for (k = i + 3; k < n && (p[k] == '\r' || p[k] == ' ' || p[k] == '\t'); k++)
			;
		if (k == i + 3)
			return (k < n || closing) ? 1 : -1;
		k2 = k < n && p[k] == '\n' ? k + 1 : k;
		if (k2 + 1 >= n && !closing)
			return -1;
		if (k2 < n && (p[k2] == '\n' || (p[k2] == '\r' && k2 + 1 < n && p[k2 + 1] == '\n')))
			return 1;
		*len = k2 - i;
		return 1;
	}
	if (p[i] != '\n')
		return 0;
	if (r < 2)
		return closing ? (*len = 1, 1) : -1;
	if (p[i + 1] == '\r') {
		if (empty) {
			*len = 2;
			return 1;
		}
		if (r < 6 && !closing)
			return -1;
		if (r >= 5 && p[i + 2] == '\r' && p[i + 3] == '\n' &&
		    (p[i + 4] == '\n' || (p[i + 4] == '\r' && r >= 6 && p[i + 5] == '\n'))) {
			*len = 4;
			return 1;
		}
		*len = 2;
		return 1;
	}
	*len = 1;
	return 1;
}

/* A "regular" line end (no deformed forms): what ends a header block after a header. */
static uint32_t eol_regular(int dir, const uint8_t *p, uint32_t n, uint32_t i)
{
	if (i >= n)
		return 0;
	if (p[i] == '\r' && i + 1 < n && p[i + 1] == '\n')
		return 2;
	if (p[i] == '\n') {
		if (dir == NJ_DIR_TOCLIENT && i + 1 < n && p[i + 1] == '\r')
			return 2;
		return 1;
	}
	if (dir == NJ_DIR_TOCLIENT && p[i] == '\r')
		return 1;
	return 0;
}

int http_eoh_find(int dir, const uint8_t *p, uint32_t n, uint32_t from, bool closing, uint32_t *end,
		  uint32_t *resume)
{
	uint32_t i = from, line = from;

	while (i < n) {
		uint32_t el;
		int r;

		if (p[i] != '\n' && p[i] != '\r') {
			const uint8_t *q1 = memchr(p + i, '\n', n - i);
			const uint8_t *q2 =
				dir == NJ_DIR_TOCLIENT ? memchr(p + i, '\r', n - i) : NULL;
			const uint8_t *q = q1;

			if (q2 && (!q || q2 < q))
				q = q2;
			if (dir == NJ_DIR_TOSERVER) {
				/* a CR right before the LF starts the line end */
				if (q && q > p + i && q[-1] == '\r')
					q--;
			}
			if (!q) {
				*resume = line;
				return 0;
			}
			i = (uint32_t)(q - p);
			continue;
		}
		r = eol_at(dir, p, n, i, closing, i == line, &el);
		if (r < 0) {
			*resume = line;
			return 0;
		}
		if (r == 0) {
			i++;
			continue;
		}
		if (i == line) {
			/* the first line of a response block is a header unless it is CR LF or LF
			 * (libhtp parses a lone CR or LF CR there as an empty header) */
			if (!(dir == NJ_DIR_TOCLIENT && line == 0 && !(el == 1 && p[i] == '\n') &&
			      !(el == 2 && p[i] == '\r'))) {
				*end = i + el;
				return 1;
			}
		}
		i += el;
		line = i;
	}
	*resume = line;
	return 0;
}

/* ------------------------------------------------------------------ header block */

/* libhtp's header flags */
#define HF_FOLDING	 0x001u
#define HF_NAME_EMPTY	 0x004u
#define HF_NON_TOKEN	 0x010u
#define HF_TRAILING_WS	 0x040u
#define HF_LEADING_WS	 0x080u
#define HF_MISSING_COLON (0x200u | HF_NAME_EMPTY)
#define HF_DEFORMED_EOL	 0x400u

/* once-per-transaction groups (tx->fevents) */
#define FE_INVALID  0x1u
#define FE_FOLDING  0x2u
#define FE_UNPARSED 0x4u
#define FE_TOO_MANY 0x8u

/* RFC 2616 token characters: visible ASCII except separators. */
static bool is_token(uint8_t c)
{
	static const uint32_t tok[8] = {
		0x00000000, /* 0x00-0x1f */
		0x03ff6cfa, /* ! # $ % & ' * + - . 0-9 */
		0xc7fffffe, /* A-Z ^ _ */
		0x57ffffff, /* ` a-z | ~ */
	};

	return (tok[c >> 5] >> (c & 31)) & 1;
}

/* A header as found in the block: name range, value pieces joined later. */
struct raw_hdr {
	uint32_t name, name_len; /* untrimmed */
	uint32_t flags;
	uint32_t v0, v0len; /* first value piece */
	bool folded;
};

/* The first line end byte at or after i: LF, or for responses LF or CR (n if none). */
static uint32_t line_end(int dir, const uint8_t *p, uint32_t n, uint32_t i)
{
	const uint8_t *lf = memchr(p + i, '\n', n - i);
	uint32_t e = lf ? (uint32_t)(lf - p) : n;

	if (dir == NJ_DIR_TOCLIENT) {
		const uint8_t *cr = memchr(p + i, '\r', e - i);

		if (cr)
			e = (uint32_t)(cr - p);
	}
	return e;
}

/*
 * The value starting at p[i]: its first piece, folded continuations joined
 * into out (only when folded). Returns the offset after the value's line end
 * (or where the next header starts).
 */
static uint32_t parse_value(int dir, const uint8_t *p, uint32_t n, uint32_t i, struct raw_hdr *h,
			    struct nj_http_buf *out)
{
	uint32_t e = i, el = 0, rest;
	uint8_t fold;

	/* take till the line end (LF, or CR too for responses) */
	e = line_end(dir, p, n, i);
	if (dir == NJ_DIR_TOSERVER && e > i && e <= n && p[e - 1] == '\r' && e < n)
		e--;
	h->v0 = i;
	h->v0len = e - i;
	h->folded = false;
	if (e >= n)
		return n;
	/* the line end: responses fold after a regular one only, the terminator may be deformed */
	if (eol_at(dir, p, n, e, true, false, &el) <= 0)
		el = 1;
	rest = e + el;
	if (dir == NJ_DIR_TOCLIENT) {
		uint32_t rl = eol_regular(dir, p, n, e);

		if (rl && e + rl < n && (p[e + rl] == ' ' || p[e + rl] == '\t' || p[e + rl] == 0))
			rest = e + rl;
		else if (el != rl)
			h->flags |= HF_DEFORMED_EOL;
	}
	if (rest >= n || (p[rest] != ' ' && p[rest] != '\t' && p[rest] != 0))
		return rest;
	/* folding: libhtp's value() loop; rest is where the value ends, i where parsing is */
	out->len = 0;
	if (!http_buf_add(out, p + h->v0, h->v0len, UINT32_MAX))
		return rest;
	h->folded = true;
	h->flags |= HF_FOLDING;
	fold = p[rest];
	rest++; /* the folding blank is consumed with the line end */
	{
		uint32_t i = rest;

		for (unsigned nfold = 0;; nfold++) {
			uint32_t s = i, ce, cel = 0, r2;
			bool more;

			if (dir == NJ_DIR_TOCLIENT) {
				/* "token:" after the blank is a header with leading blanks */
				uint32_t k = i;

				while (k < n && nom_space(p[k]))
					k++;
				if (k < n && is_token(p[k])) {
					while (k < n && is_token(p[k]))
						k++;
					while (k < n && nom_space(p[k]))
						k++;
					if (k < n && p[k] == ':')
						return i;
				}
			}
			ce = s;
			while (ce < n && p[ce] != '\n' &&
			       !(dir == NJ_DIR_TOCLIENT && p[ce] == '\r'))
				ce++;
			if (dir == NJ_DIR_TOSERVER && ce > s && ce < n && p[ce - 1] == '\r')
				ce--;
			if (ce >= n) {
				/* the block ends inside the value (close) */
				if (out->len)
					http_buf_add(out, &fold, 1, UINT32_MAX);
				http_buf_add(out, p + s, ce - s, UINT32_MAX);
				return n;
			}
			if (eol_at(dir, p, n, ce, true, false, &cel) <= 0)
				cel = 1;
			r2 = ce + cel;
			if (dir == NJ_DIR_TOCLIENT) {
				uint32_t rl = eol_regular(dir, p, n, ce);

				if (rl && ce + rl < n &&
				    (p[ce + rl] == ' ' || p[ce + rl] == '\t' || p[ce + rl] == 0))
					r2 = ce + rl;
			}
			more = r2 < n && (p[r2] == ' ' || p[r2] == '\t' || p[r2] == 0);
			if (out->len)
				http_buf_add(out, &fold, 1, UINT32_MAX);
			if (more) {
				fold = p[r2];
				r2++;
			}
			i = r2;
			if (ce > s || cel > 1) {
				http_buf_add(out, p + s, ce - s, UINT32_MAX);
				rest = r2;
			} else if (r2 < n && p[r2] == '\n') {
				/* an empty continuation right before a line end */
				rest = r2;
			}
			if (nfold >= 127 || !more)
				return rest;
		}
	}
}

/* libhtp's name(): up to a colon, across line ends followed by a blank. */
static bool find_colon(int dir, const uint8_t *p, uint32_t n, uint32_t i, uint32_t *colon)
{
	uint8_t term = 0;
	uint32_t e = line_end(dir, p, n, i);
	const uint8_t *q = memchr(p + i, ':', e - i);

	/* the usual case: a colon before the line end */
	if (q) {
		*colon = (uint32_t)(q - p);
		return true;
	}
	for (uint32_t k = e; k < n; k++) {
		uint8_t c = p[k];

		if (!term) {
			if (c == ':') {
				*colon = k;
				return true;
			}
			if (c == '\n' || (dir == NJ_DIR_TOCLIENT && c == '\r'))
				term = c;
		} else if (c == ' ') {
			term = 0;
		} else if (c == '\n' && term == '\r') {
			term = c;
		} else {
			return false;
		}
	}
	return false;
}

static void hdr_event(struct nj_al_ctx *c, struct nj_http_tx *tx, int dir, unsigned group,
		      const char *req, const char *resp)
{
	if (tx->fevents[dir] & group)
		return;
	tx->fevents[dir] |= (uint8_t)group;
	http_event(c, tx, dir, dir == NJ_DIR_TOSERVER ? req : resp);
}

int http_hdr_find(const struct nj_http_msg *m, const char *name)
{
	for (uint32_t i = 0; i < m->nhdrs; i++) {
		const struct nj_http_hdr *h = &m->hdrs[i];
		const uint8_t *np = (h->name.der ? m->der.p : m->raw.p) + h->name.off;

		if (http_eq_nocase(np, h->name.len, name))
			return (int)i;
	}
	return -1;
}

/* Adds one parsed header: repeats are joined (Content-Length kept), limits enforced. */
static int add_header(struct nj_al_ctx *c, struct nj_http_tx *tx, int dir, const uint8_t *name,
		      uint32_t name_len, struct nj_http_str nstr, const uint8_t *val,
		      uint32_t val_len, struct nj_http_str vstr, bool folded)
{
	struct nj_http_msg *m = &tx->m[dir];
	const struct nj_http_config *cfg = nj_http_config_get();

	for (uint32_t i = 0; i < m->nhdrs; i++) {
		struct nj_http_hdr *h = &m->hdrs[i];
		const uint8_t *hn = nj_http_ptr(tx, dir, h->name);
		const uint8_t *hv;
		struct nj_http_str ns;

		uint32_t k;

		if (h->name.len != name_len)
			continue;
		for (k = 0; k < name_len; k++)
			if (http_lower(hn[k]) != http_lower(name[k]))
				break;
		if (k < name_len)
			continue;
		if (!(h->flags & NJ_HTTP_HDR_REPEATED)) {
			http_event(c, tx, dir,
				   dir == NJ_DIR_TOSERVER ? "REQUEST_HEADER_REPETITION"
							  : "RESPONSE_HEADER_REPETITION");
		} else if (m->nrepeats >= 64) {
			return 0;
		} else {
			m->nrepeats++;
		}
		h->flags |= NJ_HTTP_HDR_REPEATED;
		hv = nj_http_ptr(tx, dir, h->value);
		if (http_eq_nocase(name, name_len, "content-length")) {
			uint64_t a, b;
			bool oka = http_cl_parse(hv, h->value.len, &a);
			bool okb = http_cl_parse(val, val_len, &b);

			if (!oka || !okb || a != b)
				http_event(c, tx, dir,
					   dir == NJ_DIR_TOSERVER
						   ? "DUPLICATE_CONTENT_LENGTH_FIELD_IN_REQUEST"
						   : "DUPLICATE_CONTENT_LENGTH_FIELD_IN_RESPONSE");
			return 0;
		}
		/* joined value: old ", " new, in der (both may live there: copy first) */
		{
			uint32_t jl = h->value.len + 2 + val_len;
			uint8_t *jv = malloc(jl ? jl : 1);

			if (!jv)
				return 0;
			memcpy(jv, hv, h->value.len);
			memcpy(jv + h->value.len, ", ", 2);
			memcpy(jv + h->value.len + 2, val, val_len);
			ns = http_str_add(m, true, jv, jl);
			free(jv);
			if (nj_http_has(ns))
				h->value = ns;
		}
		return 0;
	}
	if (m->nhdrs >= cfg->headers_limit) {
		hdr_event(c, tx, dir, FE_TOO_MANY, "REQUEST_TOO_MANY_HEADERS",
			  "RESPONSE_TOO_MANY_HEADERS");
		return -1;
	}
	if (m->nhdrs == m->hcap) {
		uint32_t cap = m->hcap ? m->hcap * 2 : 16;
		struct nj_http_hdr *nh = realloc(m->hdrs, cap * sizeof(*nh));

		if (!nh)
			return -1;
		m->hdrs = nh;
		m->hcap = cap;
	}
	m->hdrs[m->nhdrs].name = nstr;
	m->hdrs[m->nhdrs].value = vstr;
	m->hdrs[m->nhdrs].line = (struct nj_http_str){NJ_HTTP_NONE, 0, 1};
	m->hdrs[m->nhdrs].flags = (uint8_t)((folded ? NJ_HTTP_HDR_FOLDED : 0) |
					    (memchr(name, 0, name_len) ? NJ_HTTP_HDR_NUL : 0));
	m->nhdrs++;
	return 0;
}

int http_headers_parse(struct nj_al_ctx *c, struct nj_http_tx *tx, int dir, uint32_t off,
		       uint32_t len)
{
	struct nj_http_msg *m = &tx->m[dir];
	struct nj_http_buf fold = {0};
	uint32_t i = 0, n = len;
	int ret = 0;

	/* a block starting with CR LF or LF is empty (a response's lone CR or LF CR is not) */
	{
		const uint8_t *b = m->raw.p + off;

		if (n >= 2 && b[0] == '\r' && b[1] == '\n')
			return 2;
		if (n >= 1 && b[0] == '\n' && !(dir == NJ_DIR_TOCLIENT && n >= 2 && b[1] == '\r'))
			return 1;
	}
	while (i < n) {
		const uint8_t *p = m->raw.p + off; /* m->raw does not move while parsing */
		struct raw_hdr h = {0};
		uint32_t colon, next, nl, ns0, vs;
		const uint8_t *name, *val;
		uint32_t name_len, val_len;
		struct nj_http_str nstr, vstr;
		bool with_colon = find_colon(dir, p, n, i, &colon);

		if (with_colon) {
			uint32_t k;

			h.name = i;
			h.name_len = colon - i;
			if (h.name_len == 0) {
				h.flags |= HF_NAME_EMPTY;
			} else {
				if (http_is_space(p[i]))
					h.flags |= HF_LEADING_WS;
				if (http_is_space(p[colon - 1]))
					h.flags |= HF_TRAILING_WS;
				k = i;
				while (k < colon && nom_space(p[k]))
					k++;
				while (k < colon && is_token(p[k]))
					k++;
				while (k < colon && nom_space(p[k]))
					k++;
				if (k < colon)
					h.flags |= HF_NON_TOKEN;
			}
			vs = colon + 1;
			while (vs < n && nom_space(p[vs]))
				vs++;
		} else {
			if (n - i >= 2 && p[i] == '\r' && p[i + 1] == '\n')
				break;
			h.name = i;
			h.name_len = 0;
			h.flags |= HF_MISSING_COLON;
			vs = i;
		}
		next = parse_value(dir, p, n, vs, &h, &fold);
		if (next <= i)
			next = n; /* cannot happen; never loop */

		/* events, once per transaction and group (libhtp's warn_once) */
		if (h.flags & HF_TRAILING_WS)
			hdr_event(c, tx, dir, FE_INVALID, "REQUEST_HEADER_INVALID",
				  "RESPONSE_HEADER_INVALID");
		if (h.flags & HF_LEADING_WS)
			hdr_event(c, tx, dir, FE_FOLDING, "INVALID_REQUEST_FIELD_FOLDING",
				  "INVALID_RESPONSE_FIELD_FOLDING");
		if (h.flags & HF_NON_TOKEN)
			hdr_event(c, tx, dir, FE_INVALID, "REQUEST_HEADER_INVALID",
				  "RESPONSE_HEADER_INVALID");
		if ((h.flags & HF_MISSING_COLON) == HF_MISSING_COLON)
			hdr_event(c, tx, dir, FE_UNPARSED, "REQUEST_FIELD_MISSING_COLON",
				  "RESPONSE_FIELD_MISSING_COLON");
		else if (h.flags & HF_NAME_EMPTY)
			hdr_event(c, tx, dir, FE_INVALID, "REQUEST_HEADER_INVALID",
				  "RESPONSE_HEADER_INVALID");

		/* trimmed name (in raw) and value (raw, or folded into der) */
		name = p + h.name;
		name_len = h.name_len;
		http_trim(&name, &name_len);
		ns0 = (uint32_t)(name - m->raw.p);
		nstr = (struct nj_http_str){ns0, name_len, 0};
		if (h.folded) {
			val = fold.p;
			val_len = fold.len;
			http_trim(&val, &val_len);
			vstr = http_str_add(m, true, val, val_len);
			if (!nj_http_has(vstr)) {
				ret = -1;
				break;
			}
			val = m->der.p + vstr.off;
		} else {
			val = p + h.v0;
			val_len = h.v0len;
			http_trim(&val, &val_len);
			nl = (uint32_t)(val - m->raw.p);
			vstr = (struct nj_http_str){nl, val_len, 0};
		}
		if (add_header(c, tx, dir, m->raw.p + ns0, name_len, nstr, val, val_len, vstr,
			       h.folded) < 0) {
			ret = -1;
			break;
		}
		i = next;
		/* a regular empty line ends the block */
		nl = eol_regular(dir, p, n, i);
		if (nl) {
			i += nl;
			break;
		}
	}
	http_buf_free(&fold);
	return ret < 0 ? -1 : (int)i;
}

/* ------------------------------------------------------------------ host names */

static bool host_char_ok(uint8_t c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '_' || c == '-')
		return true;
	/* Latin-1 letters and digits count as alphanumeric (libhtp-rs: char::is_alphanumeric) */
	if (c == 0xaa || c == 0xb5 || c == 0xba || c == 0xb2 || c == 0xb3 || c == 0xb9 ||
	    (c >= 0xbc && c <= 0xbe))
		return true;
	return c >= 0xc0 && c != 0xd7 && c != 0xf7;
}

bool http_host_valid(const uint8_t *p, uint32_t n)
{
	uint32_t i, ls;

	if (n == 0 || n > 255)
		return false;
	if (p[0] == '[') {
		char tmp[64];
		struct in6_addr a6;

		for (i = 1; i < n && !strchr("#?/]", p[i]); i++)
			;
		if (i > 1 && i < n && p[i] == ']') {
			if (i - 1 >= sizeof(tmp))
				return false;
			memcpy(tmp, p + 1, i - 1);
			tmp[i - 1] = 0;
			return inet_pton(AF_INET6, tmp, &a6) == 1;
		}
	}
	if (p[0] == '.')
		return false;
	for (i = 0; i + 1 < n; i++)
		if (p[i] == '.' && p[i + 1] == '.')
			return false;
	ls = 0;
	for (i = 0; i <= n; i++) {
		if (i == n || p[i] == '.') {
			if (i - ls > 63)
				return false;
			ls = i + 1;
			continue;
		}
		if (!host_char_ok(p[i]))
			return false;
	}
	return true;
}

bool http_hostport(const uint8_t *p, uint32_t n, const uint8_t **host, uint32_t *host_len,
		   int32_t *port, bool *valid)
{
	uint32_t i = 0, hs, he;

	*port = -1;
	if (n >= 2 && p[0] == '/' && p[1] == '/')
		i = 2;
	if (i < n && p[i] == '/')
		return false;
	while (i < n && p[i] == ' ')
		i++;
	hs = i;
	if (i < n && p[i] == '[') {
		i++;
		while (i < n && p[i] != '/' && p[i] != '?' && p[i] != '#' && p[i] != ']')
			i++;
		if (i == hs + 1)
			return false;
		if (i < n && p[i] == ']')
			i++;
	} else {
		while (i < n && p[i] != '/' && p[i] != '?' && p[i] != '#' && p[i] != ':')
			i++;
		if (i == hs)
			return false;
	}
	he = i;
	while (he > hs && p[he - 1] == ' ')
		he--;
	*host = p + hs;
	*host_len = he - hs;
	*valid = http_host_valid(p + hs, he - hs);
	if (i < n && p[i] == ':') {
		uint32_t ps, pe, k;
		uint64_t v = 0;
		bool ok = true;

		i++;
		while (i < n && p[i] == ' ')
			i++;
		ps = i;
		while (i < n && p[i] != '/' && p[i] != '?' && p[i] != '#')
			i++;
		if (i == ps) {
			*valid = false;
			*port = -2;
			return true;
		}
		pe = ps;
		while (pe < i && p[pe] != ' ')
			pe++;
		if (pe == ps)
			ok = false;
		for (k = ps; k < pe && ok; k++) {
			if (p[k] < '0' || p[k] > '9' || v > 65535)
				ok = false;
			else
				v = v * 10 + (uint64_t)(p[k] - '0');
		}
		if (!ok || v == 0 || v > 65535) {
			*valid = false;
			*port = -2;
		} else {
			*port = (int32_t)v;
		}
	} else if (i < n) {
		*valid = false; /* trailing data after the host */
	}
	return true;
}
