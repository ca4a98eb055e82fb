/* SPDX-License-Identifier: MIT */
/*
 * Evaluation of one inspection list on one buffer, with Suricata's content
 * inspection semantics (detect-engine-content-inspection.c): a recursive
 * walk where every content/pcre match tries the rest of the list, and a
 * failure of a dependent (relative) element makes the earlier match look for
 * its next occurrence. The walk is bounded by a recursion budget per call.
 * Also: single-pattern search, transforms, header matching, per-core scratch.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <ctype.h>
#include <errno.h>
#include <openssl/evp.h>
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/pkt.h"
#include "detect.h"

#define RECURSION_LIMIT	   3000 /* Suricata's detect.inspection-recursion-limit */
#define PCRE_MATCH_LIMIT   3500 /* Suricata's pcre.match-limit */
#define PCRE_DEPTH_LIMIT   1500 /* Suricata's pcre.match-limit-recursion */
#define ISDATAAT_VAR_LIMIT 100000000u

/* ------------------------------------------------------------ search */

static uint8_t lower[256];

__attribute__((constructor)) static void lower_init(void)
{
	for (int i = 0; i < 256; i++)
		lower[i] = (uint8_t)tolower(i);
}

int nj_detect_search_init(struct nj_detect_search *s, const uint8_t *pat, uint32_t len, bool nocase)
{
	memset(s, 0, sizeof(*s));
	s->len = len;
	s->nocase = nocase;
	s->pat = pat;
	if (nocase) {
		uint8_t *f = malloc(len ? len : 1);

		if (!f)
			return -ENOMEM;
		for (uint32_t i = 0; i < len; i++)
			f[i] = lower[pat[i]];
		s->pat = f;
		if (len >= 3) {
			s->shift = malloc(256 * sizeof(*s->shift));
			if (!s->shift) {
				free(f);
				s->pat = NULL;
				return -ENOMEM;
			}
			for (int i = 0; i < 256; i++)
				s->shift[i] = (uint16_t)(len > 65535 ? 65535 : len);
			for (uint32_t i = 0; i + 1 < len; i++) {
				uint16_t sh = (uint16_t)(len - 1 - i);

				s->shift[f[i]] = sh;
				s->shift[toupper(f[i])] = sh;
			}
		}
	}
	return 0;
}

void nj_detect_search_free(struct nj_detect_search *s)
{
	if (s->nocase)
		free((void *)s->pat);
	free(s->shift);
	memset(s, 0, sizeof(*s));
}

static inline bool eq_nocase(const uint8_t *a, const uint8_t *folded, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (lower[a[i]] != folded[i])
			return false;
	return true;
}

const uint8_t *nj_detect_search(const struct nj_detect_search *s, const uint8_t *buf, uint32_t len)
{
	const uint32_t m = s->len;

	if (m > len)
		return NULL;
	if (!s->nocase) {
		if (m == 1)
			return memchr(buf, s->pat[0], len);
		return memmem(buf, len, s->pat, m);
	}
	if (!s->shift) {
		/* 1-2 byte patterns: scan for the first byte in either case */
		const uint8_t f0 = s->pat[0];

		for (uint32_t i = 0; i + m <= len; i++)
			if (lower[buf[i]] == f0 && (m == 1 || lower[buf[i + 1]] == s->pat[1]))
				return buf + i;
		return NULL;
	}
	/* Horspool on folded bytes: the shift table has both cases */
	const uint8_t last = s->pat[m - 1];

	for (uint32_t i = 0; i + m <= len;) {
		uint8_t c = buf[i + m - 1];

		if (lower[c] == last && eq_nocase(buf + i, s->pat, m - 1))
			return buf + i;
		i += s->shift[c];
	}
	return NULL;
}

/* ------------------------------------------------------------ transforms */

static uint32_t tf_one(const struct nj_detect_tf *t, const uint8_t *in, uint32_t n, uint8_t *out)
{
	uint32_t o = 0;

	switch (t->type) {
	case NJ_TF_DOMAIN:
	case NJ_TF_TLD: return nj_detect_tf_domain(in, n, out, t->type == NJ_TF_TLD);
	case NJ_TF_DOTPREFIX:
		out[0] = '.';
		memcpy(out + 1, in, n);
		return n + 1;
	case NJ_TF_TO_LOWER:
		for (uint32_t i = 0; i < n; i++)
			out[i] = lower[in[i]];
		return n;
	case NJ_TF_TO_UPPER:
		for (uint32_t i = 0; i < n; i++)
			out[i] = (uint8_t)toupper(in[i]);
		return n;
	case NJ_TF_STRIP_WS:
		for (uint32_t i = 0; i < n; i++)
			if (!isspace(in[i]))
				out[o++] = in[i];
		return o;
	case NJ_TF_COMPRESS_WS:
		for (uint32_t i = 0; i < n; i++) {
			if (isspace(in[i])) {
				if (o && out[o - 1] == ' ' && i && isspace(in[i - 1]))
					continue;
				out[o++] = ' ';
			} else {
				out[o++] = in[i];
			}
		}
		return o;
	case NJ_TF_URL_DECODE:
		for (uint32_t i = 0; i < n; i++) {
			if (in[i] == '%' && i + 2 < n + 0 && isxdigit(in[i + 1]) &&
			    isxdigit(in[i + 2])) {
				char h[3] = {(char)in[i + 1], (char)in[i + 2], 0};

				out[o++] = (uint8_t)strtoul(h, NULL, 16);
				i += 2;
			} else if (in[i] == '+') {
				out[o++] = ' ';
			} else {
				out[o++] = in[i];
			}
		}
		return o;
	case NJ_TF_TO_MD5:
	case NJ_TF_TO_SHA1:
	case NJ_TF_TO_SHA256: {
		const EVP_MD *md = t->type == NJ_TF_TO_MD5    ? EVP_md5()
				   : t->type == NJ_TF_TO_SHA1 ? EVP_sha1()
							      : EVP_sha256();
		unsigned int dl = 0;

		if (EVP_Digest(in, n, out, &dl, md, NULL) != 1)
			return 0;
		return dl;
	}
	case NJ_TF_XOR:
		for (uint32_t i = 0; i < n; i++)
			out[i] = in[i] ^ t->arg[i % t->arg_len];
		return n;
	case NJ_TF_HEADER_LOWER: {
		bool name = true;

		for (uint32_t i = 0; i < n; i++) {
			uint8_t c = in[i];

			if (c == '\n')
				name = true;
			else if (c == ':')
				name = false;
			out[i] = name ? lower[c] : c;
		}
		return n;
	}
	case NJ_TF_PCREXFORM: return nj_detect_pcrexform(t->re, in, n, out);
	case NJ_TF_STRIP_PSEUDO: {
		uint32_t i = 0;

		while (i < n) {
			uint32_t e = i;

			while (e < n && in[e] != '\n')
				e++;
			if (e < n)
				e++;
			if (in[i] != ':') {
				memcpy(out + o, in + i, e - i);
				o += e - i;
			}
			i = e;
		}
		return o;
	}
	}
	memcpy(out, in, n);
	return n;
}

uint32_t nj_detect_transform(const struct nj_detect_bufinst *inst, const uint8_t *in, uint32_t len,
			     uint8_t *out, uint8_t *tmp)
{
	const uint8_t *cur = in;
	uint32_t n = len;

	if (inst->ntf == 0) {
		memcpy(out, in, len);
		return len;
	}
	for (unsigned i = 0; i < inst->ntf; i++) {
		/* the last step writes to out */
		uint8_t *dst = ((inst->ntf - 1 - i) % 2 == 0) ? out : tmp;

		n = tf_one(&inst->tf[i], cur, n, dst);
		cur = dst;
	}
	return n;
}

/* ------------------------------------------------------------ byte extraction */

/* Suricata's ByteExtractString: strtoull over at most n chars; chars used, or -1. */
static int extract_string(uint64_t *res, int base, uint32_t n, const uint8_t *p)
{
	char buf[32], *end;

	if (n >= sizeof(buf))
		return -1;
	memcpy(buf, p, n);
	buf[n] = '\0';
	errno = 0;
	*res = strtoull(buf, &end, base);
	if (errno == ERANGE || end == buf)
		return -1;
	return (int)(end - buf);
}

static uint64_t extract_bin(const uint8_t *p, uint32_t n, bool little)
{
	uint64_t v = 0;

	if (little)
		for (uint32_t i = n; i > 0; i--)
			v = v << 8 | p[i - 1];
	else
		for (uint32_t i = 0; i < n; i++)
			v = v << 8 | p[i];
	return v;
}

/* Start of the bytes to extract: 0 and *pos, or -1 (no match). */
static int byte_pos(const struct nj_detect_ctx *c, uint16_t flags, int32_t offset, uint32_t nbytes,
		    uint32_t len, int64_t *pos)
{
	int64_t p = offset, avail;

	if (flags & NJ_BF_RELATIVE)
		p += c->buffer_offset;
	avail = (int64_t)len - p;
	if ((flags & NJ_BF_RELATIVE) && avail <= 0)
		return -1;
	if (p < 0 || (int64_t)nbytes > avail)
		return -1;
	*pos = p;
	return 0;
}

/* Extracts nbytes at pos; the number of bytes consumed or -1. */
static int byte_get(const struct nj_detect_byte *b, const uint8_t *buf, uint32_t len, int64_t pos,
		    uint32_t nbytes, uint64_t *val)
{
	uint32_t avail_cap = len - (uint32_t)pos > 31 ? 31 : len - (uint32_t)pos;
	int used;

	if (b->flags & NJ_BF_STRING) {
		if (nbytes == 0) /* the digits that are there (Suricata: the rest of the buffer) */
			nbytes = avail_cap;
		used = extract_string(val, b->base, nbytes, buf + pos);
		if (used <= 0)
			return -1;
	} else {
		*val = extract_bin(buf + pos, nbytes, b->flags & NJ_BF_LITTLE);
		used = (int)nbytes;
	}
	if (b->flags & NJ_BF_BITMASK) {
		*val &= b->bitmask;
		if (*val && b->shift)
			*val >>= b->shift;
	}
	return used;
}

static bool byte_test(struct nj_detect_ctx *c, const struct nj_detect_byte *b, const uint8_t *buf,
		      uint32_t len)
{
	int32_t offset = b->offset;
	uint64_t value = b->value, val;
	int64_t pos;
	bool m = false;

	if (len == 0)
		return false;
	if (b->flags & NJ_BF_OFFSET_VAR)
		offset = (int32_t)c->vars[b->offset];
	if (b->flags & NJ_BF_VALUE_VAR)
		value = c->vars[b->value];
	uint32_t nbytes = b->nbytes;

	if (b->flags & NJ_BF_NBYTES_VAR) {
		nbytes = (uint32_t)c->vars[b->nbytes];
		if (nbytes == 0 || nbytes > ((b->flags & NJ_BF_STRING) ? 20u : 8u))
			return false;
	}
	if (byte_pos(c, b->flags, offset, nbytes, len, &pos) < 0 ||
	    byte_get(b, buf, len, pos, nbytes, &val) < 0)
		return false;
	switch (b->op) {
	case NJ_BOP_EQ: m = val == value; break;
	case NJ_BOP_LT: m = val < value; break;
	case NJ_BOP_GT: m = val > value; break;
	case NJ_BOP_LE: m = val <= value; break;
	case NJ_BOP_GE: m = val >= value; break;
	case NJ_BOP_AND: m = (val & value) != 0; break;
	case NJ_BOP_XOR: m = (val ^ value) != 0; break;
	}
	return (b->flags & NJ_BF_NEGOP) ? !m : m;
}

static bool byte_jump(struct nj_detect_ctx *c, const struct nj_detect_byte *b, const uint8_t *buf,
		      uint32_t len)
{
	int32_t offset = b->offset;
	uint32_t nbytes = b->nbytes;
	uint64_t val;
	int64_t pos, jump;
	int used;

	if (len == 0)
		return false;
	if (b->flags & NJ_BF_OFFSET_VAR)
		offset = (int32_t)c->vars[b->offset];
	if (b->flags & NJ_BF_NBYTES_VAR) {
		nbytes = (uint32_t)c->vars[b->nbytes];
		if (nbytes > ((b->flags & NJ_BF_STRING) ? 23u : 8u))
			return false;
	}
	if (byte_pos(c, b->flags, offset, nbytes, len, &pos) < 0)
		return false;
	used = byte_get(b, buf, len, pos, nbytes, &val);
	if (used < 0)
		return false;
	val *= b->multiplier;
	if ((b->flags & NJ_BF_ALIGN) && (val % 4))
		val += 4 - (val % 4);
	val += (uint64_t)(int64_t)b->post_offset;
	if (b->flags & NJ_BF_BEGIN)
		jump = (int64_t)val;
	else if (b->flags & NJ_BF_END)
		jump = (int64_t)len + (int64_t)val;
	else
		jump = pos + (int64_t)val + used;
	if (jump < 0)
		jump = 0;
	else if (jump > (int64_t)len)
		return false;
	c->buffer_offset = (uint32_t)jump;
	return true;
}

static bool byte_extract(struct nj_detect_ctx *c, const struct nj_detect_byte *b,
			 const uint8_t *buf, uint32_t len)
{
	uint64_t val;
	int64_t pos;
	int used;

	if (byte_pos(c, b->flags, b->offset, b->nbytes, len, &pos) < 0)
		return false;
	used = byte_get(b, buf, len, pos, b->nbytes, &val);
	if (used < 0)
		return false;
	val *= b->multiplier;
	if (b->align && (val % b->align))
		val += b->align - (val % b->align);
	c->buffer_offset = (uint32_t)(pos + used);
	c->vars[b->var] = val;
	return true;
}

static bool byte_math(struct nj_detect_ctx *c, const struct nj_detect_byte *b, const uint8_t *buf,
		      uint32_t len)
{
	uint32_t nbytes = b->nbytes;
	uint64_t rvalue = b->value, val;
	int64_t pos;
	int used;

	if (len == 0)
		return false;
	if (b->flags & NJ_BF_VALUE_VAR)
		rvalue = c->vars[b->value];
	if (b->flags & NJ_BF_NBYTES_VAR) {
		nbytes = (uint32_t)c->vars[b->nbytes];
		if (nbytes == 0 || nbytes > 10)
			return false;
	}
	if (byte_pos(c, b->flags, b->offset, nbytes, len, &pos) < 0)
		return false;
	{
		struct nj_detect_byte tmp = *b;

		tmp.flags &= (uint16_t)~NJ_BF_BITMASK; /* byte_math masks the result */
		used = byte_get(&tmp, buf, len, pos, nbytes, &val);
	}
	if (used < 0)
		return false;
	c->buffer_offset = (uint32_t)(pos + used);
	switch (b->op) {
	case NJ_BOP_ADD: val += rvalue; break;
	case NJ_BOP_SUB: val -= rvalue; break;
	case NJ_BOP_MUL: val *= rvalue; break;
	case NJ_BOP_DIV:
		if (rvalue == 0)
			return false;
		val /= rvalue;
		break;
	case NJ_BOP_SHL: val = rvalue >= 64 ? 0 : val << rvalue; break;
	case NJ_BOP_SHR: val = rvalue >= 64 ? 0 : val >> rvalue; break;
	}
	if (b->flags & NJ_BF_BITMASK) {
		val &= b->bitmask;
		if (val && b->shift)
			val >>= b->shift;
	}
	c->vars[b->var] = val;
	return true;
}

/* ------------------------------------------------------------ pcre */

static int pcre_match(struct nj_detect_ctx *c, const struct nj_detect_pcre *pe, const uint8_t *buf,
		      uint32_t len)
{
	uint32_t base = (pe->flags & NJ_PCRE_RELATIVE) ? c->buffer_offset : 0;
	PCRE2_SIZE start = 0;
	int rc;

	if (base > len)
		return (pe->flags & NJ_PCRE_NEGATED) ? 1 : 0;
	if (c->pcre_start) {
		if (c->pcre_start < base || c->pcre_start > len)
			return 0;
		start = c->pcre_start - base;
	}
	rc = pcre2_match(pe->code, buf + base, len - base, start, 0, c->md, c->mctx);
	if (rc == PCRE2_ERROR_NOMATCH)
		return (pe->flags & NJ_PCRE_NEGATED) ? 1 : 0;
	if (rc < 0) {
		c->pcre_errors++;
		return 0;
	}
	if (pe->flags & NJ_PCRE_NEGATED)
		return 0;
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(c->md);

	c->buffer_offset = base + (uint32_t)ov[1];
	c->pcre_start = base + (uint32_t)ov[0] + 1;
	return 1;
}

/* ------------------------------------------------------------ the walk */

static int insp(struct nj_detect_ctx *c, const struct nj_detect_list *l, unsigned i,
		const uint8_t *buf, uint32_t len, unsigned flags);

/* Suricata's DETECT_CONTENT_IS_SINGLE */
static inline bool content_single(const struct nj_detect_content *cd)
{
	return !(cd->flags & (NJ_CF_DISTANCE | NJ_CF_WITHIN | NJ_CF_RETRY | NJ_CF_DIST_NEXT |
			      NJ_CF_DEPTH | NJ_CF_OFFSET));
}

static int insp_content(struct nj_detect_ctx *c, const struct nj_detect_list *l, unsigned i,
			const uint8_t *buf, uint32_t len, unsigned flags)
{
	const struct nj_detect_content *cd = l->el[i].u.content;
	const uint32_t f = cd->flags;
	const bool last = i + 1 == l->n;
	uint32_t prev_offset = 0, prev_buffer_offset = c->buffer_offset;

	for (;;) {
		uint32_t depth = len, offset = 0;

		if (f & (NJ_CF_DISTANCE | NJ_CF_WITHIN)) {
			int32_t distance = cd->distance;

			offset = prev_buffer_offset;
			if (f & NJ_CF_DISTANCE) {
				if (f & NJ_CF_DIST_VAR)
					distance = (int32_t)c->vars[cd->distance];
				if (distance < 0 && (uint32_t)(-(int64_t)distance) > offset)
					offset = 0;
				else
					offset += (uint32_t)distance;
			}
			if (f & NJ_CF_WITHIN) {
				uint32_t w = (f & NJ_CF_WITHIN_VAR) ? (uint32_t)c->vars[cd->within]
								    : (uint32_t)cd->within;
				uint32_t lim = prev_buffer_offset + w + (uint32_t)distance;

				if ((int32_t)depth > (int32_t)lim)
					depth = lim;
			}
			if (f & NJ_CF_DEPTH_VAR) {
				if (c->vars[cd->depth] + prev_buffer_offset < depth)
					depth = prev_buffer_offset + (uint32_t)c->vars[cd->depth];
			} else if (cd->depth != 0 &&
				   (uint32_t)cd->depth + prev_buffer_offset < depth) {
				depth = prev_buffer_offset + (uint32_t)cd->depth;
			}
			if (f & NJ_CF_OFFSET_VAR) {
				if (c->vars[cd->offset] > offset)
					offset = (uint32_t)c->vars[cd->offset];
			} else if ((uint32_t)cd->offset > offset) {
				offset = (uint32_t)cd->offset;
			}
		} else {
			if (f & NJ_CF_DEPTH_VAR)
				depth = (uint32_t)c->vars[cd->depth];
			else if (cd->depth != 0)
				depth = (uint32_t)cd->depth;
			if (f & NJ_CF_OFFSET_VAR)
				offset = (uint32_t)c->vars[cd->offset];
			else
				offset = (uint32_t)cd->offset;
			prev_buffer_offset = 0;
		}
		/* a variable depth counts from the offset */
		if (f & (NJ_CF_OFFSET_VAR | NJ_CF_DEPTH_VAR))
			depth += offset;
		if (prev_offset != 0)
			offset = prev_offset;
		if (depth > len)
			depth = len;
		/* the window is empty: only a negated content can match */
		if (offset > depth || depth == 0) {
			if (f & NJ_CF_NEGATED)
				goto match;
			return 0;
		}

		const uint8_t *found = NULL;
		uint32_t slen = depth - offset;

		if (!((f & NJ_CF_ENDSWITH) && depth < len) && cd->len <= slen)
			found = nj_detect_search(&cd->srch, buf + offset, slen);
		if (!found) {
			if (!(f & NJ_CF_NEGATED))
				return (f & (NJ_CF_DISTANCE | NJ_CF_WITHIN)) ? 0 : -1;
			goto match;
		}

		uint32_t match_offset = (uint32_t)(found - buf) + cd->len;

		if (f & NJ_CF_NEGATED) {
			/* found, but not at the end: a negated endswith matches */
			if ((f & NJ_CF_ENDSWITH) && slen != match_offset)
				goto match;
			return content_single(cd) ? -1 : 0;
		}
		c->buffer_offset = match_offset;
		if (!(f & NJ_CF_ENDSWITH) || match_offset == len) {
			if (last)
				return 1;
			int r = insp(c, l, i + 1, buf, len, flags);

			if (r != 0)
				return r;
			/* only a dependent later element makes another occurrence worth it */
			if (!(f & NJ_CF_RETRY))
				return -1;
		}
		prev_offset = match_offset - (cd->len - 1);
	}
match:
	return last ? 1 : insp(c, l, i + 1, buf, len, flags);
}

static int insp_pcre(struct nj_detect_ctx *c, const struct nj_detect_list *l, unsigned i,
		     const uint8_t *buf, uint32_t len, unsigned flags)
{
	const struct nj_detect_pcre *pe = l->el[i].u.pcre;
	const bool last = i + 1 == l->n;
	uint32_t prev_buffer_offset = c->buffer_offset, prev_offset;

	c->pcre_start = 0;
	for (;;) {
		int r = pcre_match(c, pe, buf, len);

		if (r == 0)
			return 0;
		if (!(pe->flags & NJ_PCRE_RETRY) || last)
			return last ? 1 : insp(c, l, i + 1, buf, len, flags);
		prev_offset = c->pcre_start;
		r = insp(c, l, i + 1, buf, len, flags);
		if (r != 0)
			return r;
		if (prev_offset == 0)
			return 0; /* negated pcre: no other occurrence to try */
		c->buffer_offset = prev_buffer_offset;
		c->pcre_start = prev_offset;
	}
}

static int bsize_match(const struct nj_detect_u64 *u, uint64_t size, bool eof)
{
	if (nj_detect_u64_match(u, size))
		return 1;
	switch (u->op) {
	case NJ_UOP_EQ: return (size > u->a || eof) ? -1 : 0;
	case NJ_UOP_RANGE: return size <= u->a && !eof ? 0 : -1;
	case NJ_UOP_GT:
	case NJ_UOP_GE: return eof ? -1 : 0;
	default: return -1;
	}
}

static int insp(struct nj_detect_ctx *c, const struct nj_detect_list *l, unsigned i,
		const uint8_t *buf, uint32_t len, unsigned flags)
{
	const struct nj_detect_el *e = &l->el[i];
	bool ok;

	if (++c->recursion >= c->recursion_limit)
		return -1;
	switch (e->type) {
	case NJ_EL_CONTENT: return insp_content(c, l, i, buf, len, flags);
	case NJ_EL_PCRE: return insp_pcre(c, l, i, buf, len, flags);
	case NJ_EL_ISDATAAT: {
		const struct nj_detect_isdataat *d = e->u.isdataat;
		uint64_t at = d->dataat;
		bool neg = d->flags & NJ_IDA_NEGATED, var = d->flags & NJ_IDA_VAR;

		if (var) {
			at = c->vars[d->dataat];
			if (at >= ISDATAAT_VAR_LIMIT) {
				if (!neg)
					return 0;
				ok = true;
				break;
			}
		}
		if (d->flags & NJ_IDA_RELATIVE) {
			if ((uint64_t)c->buffer_offset + at > len) {
				if (neg) {
					ok = true;
					break;
				}
				return var ? 0 : -1;
			}
			if (neg)
				return 0;
			ok = true;
		} else {
			if (at < len) {
				if (neg)
					return var ? 0 : -1;
				ok = true;
			} else {
				if (neg) {
					ok = true;
					break;
				}
				return var ? 0 : -1;
			}
		}
		break;
	}
	case NJ_EL_BYTE_TEST: ok = byte_test(c, e->u.byte, buf, len); break;
	case NJ_EL_BYTE_JUMP: ok = byte_jump(c, e->u.byte, buf, len); break;
	case NJ_EL_BYTE_EXTRACT: ok = byte_extract(c, e->u.byte, buf, len); break;
	case NJ_EL_BYTE_MATH: ok = byte_math(c, e->u.byte, buf, len); break;
	case NJ_EL_BSIZE: {
		int r = bsize_match(e->u.size, len, flags & NJ_DETECT_EOF);

		if (r <= 0)
			return r;
		ok = true;
		break;
	}
	case NJ_EL_URILEN:
		if (!nj_detect_u64_match(e->u.size, len > 65535 ? 65535 : len))
			return -1;
		ok = true;
		break;
	case NJ_EL_EXT: ok = e->u.ext->match(e->u.ext->ctx, buf, len); break;
	case NJ_EL_B64DECODE: {
		const struct nj_detect_b64dec *d = e->u.b64;
		uint64_t at = (uint64_t)(d->relative ? c->buffer_offset : 0) + d->offset;
		uint32_t n;

		c->b64_len = 0;
		if (at >= len || !c->b64)
			return 0;
		n = len - (uint32_t)at;
		if (d->bytes && d->bytes < n)
			n = d->bytes;
		c->b64_len = nj_detect_b64_decode(buf + at, n, c->b64, NJ_DETECT_B64_MAX);
		ok = c->b64_len > 0;
		break;
	}
	case NJ_EL_B64DATA: {
		/* the rest of the list inspects the decoded data from its start */
		uint32_t save = c->buffer_offset;
		int r;

		if (i + 1 == l->n)
			return c->b64_len > 0;
		c->buffer_offset = 0;
		r = insp(c, l, i + 1, c->b64, c->b64_len, flags | NJ_DETECT_EOF);
		c->buffer_offset = save;
		return r;
	}
	default: return 0;
	}
	if (!ok)
		return 0;
	return i + 1 == l->n ? 1 : insp(c, l, i + 1, buf, len, flags);
}

bool nj_detect_inspect_buffer(struct nj_detect_ctx *c, const struct nj_detect_sig *s,
			      const struct nj_detect_list *l, const uint8_t *buf, uint32_t len,
			      unsigned flags)
{
	(void)s;
	if (l->n == 0)
		return true;
	if (!buf)
		return false;
	c->buffer_offset = 0;
	c->pcre_start = 0;
	c->recursion = 0;
	return insp(c, l, 0, buf, len, flags) == 1;
}

/* ------------------------------------------------------------ header */

bool nj_detect_match_header(const struct nj_detect_sig *s, const struct nj_pkt *p)
{
	const uint8_t *src, *dst;
	unsigned alen;
	bool ports;

	if (!(p->flags & (NJ_PKT_IPV4 | NJ_PKT_IPV6)))
		return false;
	if (!(s->ipproto[p->proto / 8] & (1u << (p->proto % 8))))
		return false;
	if (((s->flags & NJ_SIG_IPV4_ONLY) && !(p->flags & NJ_PKT_IPV4)) ||
	    ((s->flags & NJ_SIG_IPV6_ONLY) && !(p->flags & NJ_PKT_IPV6)))
		return false;
	src = nj_pkt_src(p);
	dst = nj_pkt_dst(p);
	alen = nj_pkt_addr_len(p);
	ports = (p->proto == 6 || p->proto == 17 || p->proto == 132) && (p->flags & NJ_PKT_HAS_L4);
	if (nj_detect_addr_match(s->src, src, alen) && nj_detect_addr_match(s->dst, dst, alen) &&
	    (!ports ||
	     (nj_detect_port_match(s->sp, p->sport) && nj_detect_port_match(s->dp, p->dport))))
		return true;
	if (!(s->flags & NJ_SIG_BIDIR))
		return false;
	return nj_detect_addr_match(s->src, dst, alen) && nj_detect_addr_match(s->dst, src, alen) &&
	       (!ports ||
		(nj_detect_port_match(s->sp, p->dport) && nj_detect_port_match(s->dp, p->sport)));
}

/* ------------------------------------------------------------ scratch */

struct nj_detect_ctx *nj_detect_ctx_new(const struct nj_detect_rules *r)
{
	struct nj_detect_ctx *c = calloc(1, sizeof(*c));
	uint32_t pairs = r && r->max_captures ? r->max_captures : 1;

	if (!c)
		return NULL;
	c->md = pcre2_match_data_create(pairs, NULL);
	c->mctx = pcre2_match_context_create(NULL);
	if (!c->md || !c->mctx) {
		nj_detect_ctx_free(c);
		return NULL;
	}
	pcre2_set_match_limit(c->mctx, PCRE_MATCH_LIMIT);
	pcre2_set_depth_limit(c->mctx, PCRE_DEPTH_LIMIT);
	c->recursion_limit = RECURSION_LIMIT;
	c->b64 = malloc(NJ_DETECT_B64_MAX);
	if (!c->b64) {
		nj_detect_ctx_free(c);
		return NULL;
	}
	return c;
}

void nj_detect_ctx_free(struct nj_detect_ctx *c)
{
	if (!c)
		return;
	pcre2_match_data_free(c->md);
	pcre2_match_context_free(c->mctx);
	free(c->b64);
	free(c);
}
