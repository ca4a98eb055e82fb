/* SPDX-License-Identifier: MIT */
/*
 * content and its modifiers (nocase, depth, offset, distance, within,
 * startswith, endswith, fast_pattern, rawbytes), uricontent, isdataat,
 * bsize and urilen. Checks and messages follow Suricata.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect_int.h"

/* Decodes "text|41 42|\;" into bytes; NULL after nj_detect_fail. */
static uint8_t *content_decode(struct nj_detect_parse *ps, const char *v, uint32_t *out_len)
{
	size_t n = strlen(v);
	uint8_t *out = nj_detect_alloc(ps->r, n + 1);
	uint32_t o = 0;
	bool hex = false;
	int nib = -1;

	if (!out) {
		nj_detect_fail(ps, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		char c = v[i];

		if (hex) {
			if (c == '|') {
				if (nib >= 0) {
					nj_detect_fail(
						ps,
						"Invalid hex code assembly in content - %s.  "
						"Invalidating signature.",
						v);
					return NULL;
				}
				hex = false;
			} else if (isspace((unsigned char)c)) {
				continue;
			} else if (isxdigit((unsigned char)c)) {
				int d = isdigit((unsigned char)c) ? c - '0'
								  : (tolower(c) - 'a' + 10);

				if (nib < 0) {
					nib = d;
				} else {
					out[o++] = (uint8_t)(nib << 4 | d);
					nib = -1;
				}
			} else {
				nj_detect_fail(ps,
					       "Invalid hex code in content - %s, hex %c. "
					       "Invalidating signature.",
					       v, c);
				return NULL;
			}
			continue;
		}
		if (c == '|') {
			hex = true;
			continue;
		}
		if (c == '\\') {
			char e = v[i + 1];

			if (e != '\\' && e != '"' && e != ';' && e != ':' && e != '|') {
				nj_detect_fail(ps, "'\\%c' is not a valid escape in content",
					       e ? e : ' ');
				return NULL;
			}
			out[o++] = (uint8_t)e;
			i++;
			continue;
		}
		out[o++] = (uint8_t)c;
	}
	if (hex) {
		nj_detect_fail(ps,
			       "Invalid hex code assembly in content - %s.  Invalidating "
			       "signature.",
			       v);
		return NULL;
	}
	if (o == 0) {
		nj_detect_fail(ps, "content is empty");
		return NULL;
	}
	*out_len = o;
	return out;
}

static void free_shift(void *p)
{
	free(p);
}

static struct nj_detect_content *content_new(struct nj_detect_parse *ps, char *v)
{
	struct nj_detect_content *c = nj_detect_alloc(ps->r, sizeof(*c));

	if (!c) {
		nj_detect_fail(ps, "out of memory");
		return NULL;
	}
	c->bytes = content_decode(ps, v, &c->len);
	if (!c->bytes)
		return NULL;
	if (c->len > 65535) {
		nj_detect_fail(ps, "content longer than 65535 bytes");
		return NULL;
	}
	if (ps->negated)
		c->flags |= NJ_CF_NEGATED;
	return c;
}

/* Search context, built when the content is final (nocase may come later). */
int nj_detect_content_prepare(struct nj_detect_rules *r, struct nj_detect_content *c)
{
	if (nj_detect_search_init(&c->srch, c->bytes, c->len, c->flags & NJ_CF_NOCASE) < 0)
		return -1;
	if (c->srch.shift && nj_detect_track(r, c->srch.shift, free_shift) < 0)
		return -1;
	if (c->srch.pat != c->bytes && nj_detect_track(r, (void *)c->srch.pat, free_shift) < 0)
		return -1;
	return 0;
}

/* The transform name a content can never match after, or NULL (Suricata's checks). */
static const char *tf_incompatible(uint8_t type, const struct nj_detect_content *c)
{
	for (uint32_t i = 0; i < c->len; i++) {
		uint8_t b = c->bytes[i];

		switch (type) {
		case NJ_TF_TO_LOWER:
			if (isupper(b))
				return "to_lowercase";
			break;
		case NJ_TF_TO_UPPER:
			if (islower(b))
				return "to_uppercase";
			break;
		case NJ_TF_STRIP_WS:
			if (isspace(b))
				return "strip_whitespace";
			break;
		case NJ_TF_COMPRESS_WS:
			if (isspace(b) && i + 1 < c->len && isspace(c->bytes[i + 1]))
				return "compress_whitespace";
			break;
		default: return NULL;
		}
	}
	return NULL;
}

static int check_transforms(struct nj_detect_parse *ps, const struct nj_detect_content *c,
			    const char *raw)
{
	const struct nj_detect_tf *tf = ps->pend_tf;
	unsigned ntf = ps->pend_ntf;

	if (ps->sticky < 0)
		return 0;
	if (ps->sticky_list >= 0) {
		tf = ps->lists[ps->sticky_list].tf;
		ntf = ps->lists[ps->sticky_list].ntf;
	}
	for (unsigned i = 0; i < ntf; i++) {
		const char *bad = tf_incompatible(tf[i].type, c);

		if (bad)
			return nj_detect_fail(
				ps, "content string \"%s\" incompatible with %s transform", raw,
				bad);
	}
	return 0;
}

static int kw_content(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *v)
{
	char raw[256];
	struct nj_detect_content *c;

	snprintf(raw, sizeof(raw), "%s", v);
	c = content_new(ps, v);
	if (!c)
		return -1;
	if (!kw->arg && check_transforms(ps, c, raw) < 0)
		return -1;
	if (kw->arg) { /* uricontent */
		int base = nj_detect_buffer_id("http.uri");

		if (ps->sticky >= 0)
			return nj_detect_fail(ps,
					      "uricontent can not be used with a sticky buffer");
		if (nj_detect_set_app_proto(ps, "http") < 0)
			return -1;
		return nj_detect_add_el_to(ps, base, NJ_EL_CONTENT, c) < 0 ? -1 : 0;
	}
	return nj_detect_add_el(ps, NJ_EL_CONTENT, c) < 0 ? -1 : 0;
}
NJ_DETECT_KEYWORD(content, .name = "content", .flags = NJ_KWF_VALUE | NJ_KWF_QUOTED,
		  .parse = kw_content, .doc = "pattern with |hex| and \\ escapes; ! negates")
NJ_DETECT_KEYWORD(uricontent, .name = "uricontent", .flags = NJ_KWF_VALUE | NJ_KWF_QUOTED,
		  .parse = kw_content, .arg = 1, .doc = "legacy: content in http.uri")

static int kw_nocase(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *v)
{
	struct nj_detect_content *c = nj_detect_last_content(ps);

	(void)kw;
	(void)v;
	if (!c)
		return -1;
	if (c->flags & NJ_CF_NOCASE)
		return nj_detect_fail(ps,
				      "can't use multiple nocase modifiers with the same content");
	c->flags |= NJ_CF_NOCASE;
	return 0;
}
NJ_DETECT_KEYWORD(nocase, .name = "nocase", .flags = NJ_KWF_NOVALUE | NJ_KWF_MODIFIER,
		  .parse = kw_nocase, .doc = "case-insensitive content")

static int kw_rawbytes(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *v)
{
	struct nj_detect_content *c = nj_detect_last_content(ps);

	(void)kw;
	(void)v;
	if (!c)
		return -1;
	c->flags |= NJ_CF_RAWBYTES;
	return 0;
}
NJ_DETECT_KEYWORD(rawbytes, .name = "rawbytes", .flags = NJ_KWF_NOVALUE | NJ_KWF_MODIFIER,
		  .parse = kw_rawbytes, .doc = "accepted, no effect (as Suricata)")

/* A numeric or byte_extract variable value for depth/offset/distance/within. */
static int pos_value(struct nj_detect_parse *ps, const char *v, int64_t min, int64_t max,
		     int32_t *out, bool *is_var)
{
	int64_t x;

	*is_var = false;
	if (nj_detect_is_varname(v)) {
		int idx = nj_detect_var_find(ps, v);

		if (idx < 0)
			return nj_detect_fail(ps, "unknown byte_ keyword var seen in %s - %s.",
					      ps->kw, v);
		*out = idx;
		*is_var = true;
		return 0;
	}
	if (nj_detect_parse_i64(v, min, max, &x) < 0)
		/* Suricata's depth/offset reasons end with a full stop, within/distance not */
		return nj_detect_fail(ps, "invalid value for %s: %s%s", ps->kw, v,
				      strcmp(ps->kw, "within") && strcmp(ps->kw, "distance") ? "."
											     : "");
	*out = (int32_t)x;
	return 0;
}

static int check_absolute(struct nj_detect_parse *ps, struct nj_detect_content *c)
{
	if (c->flags & (NJ_CF_WITHIN | NJ_CF_DISTANCE))
		return nj_detect_fail(ps,
				      "can't use a relative keyword like within/distance with a "
				      "absolute relative keyword like depth/offset for the same "
				      "content.");
	if ((c->flags & NJ_CF_NEGATED) && (c->flags & NJ_CF_FP))
		return nj_detect_fail(ps, "can't have a relative negated keyword set along with "
					  "'fast_pattern'.");
	if (c->flags & NJ_CF_FP_ONLY)
		return nj_detect_fail(ps, "can't have a relative keyword set along with "
					  "'fast_pattern:only;'.");
	return 0;
}

static int check_relative(struct nj_detect_parse *ps, struct nj_detect_content *c)
{
	if (c->flags & (NJ_CF_DEPTH | NJ_CF_OFFSET))
		return nj_detect_fail(ps,
				      "can't use a relative keyword like within/distance with a "
				      "absolute relative keyword like depth/offset for the same "
				      "content.");
	if ((c->flags & NJ_CF_NEGATED) && (c->flags & NJ_CF_FP))
		return nj_detect_fail(ps, "can't have a relative negated keyword set along with "
					  "'fast_pattern'.");
	if (c->flags & NJ_CF_FP_ONLY)
		return nj_detect_fail(ps, "can't have a relative keyword set along with "
					  "'fast_pattern:only;'.");
	return 0;
}

static int kw_depth(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *v)
{
	struct nj_detect_content *c = nj_detect_last_content(ps);
	int32_t x = 0;
	bool var;

	(void)kw;
	if (!c)
		return -1;
	if (c->flags & NJ_CF_STARTSWITH)
		return nj_detect_fail(ps, "can't use depth with startswith");
	if (c->flags & NJ_CF_DEPTH)
		return nj_detect_fail(ps, "can't use multiple depths for the same content.");
	if (check_absolute(ps, c) < 0 || pos_value(ps, v, 0, 65535, &x, &var) < 0)
		return -1;
	if (!var && (uint32_t)x < c->len)
		return nj_detect_fail(ps, "depth - %d smaller than content length - %u", x, c->len);
	c->depth = x;
	c->flags |= NJ_CF_DEPTH | (var ? NJ_CF_DEPTH_VAR : 0);
	return 0;
}
NJ_DETECT_KEYWORD(depth, .name = "depth", .flags = NJ_KWF_VALUE | NJ_KWF_MODIFIER,
		  .parse = kw_depth, .doc = "content within the first N bytes (after offset)")

static int kw_offset(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *v)
{
	struct nj_detect_content *c = nj_detect_last_content(ps);
	int32_t x = 0;
	bool var;

	(void)kw;
	if (!c)
		return -1;
	if (c->flags & NJ_CF_STARTSWITH)
		return nj_detect_fail(ps, "can't use offset with startswith");
	if (c->flags & NJ_CF_OFFSET)
		return nj_detect_fail(ps, "can't use multiple offsets for the same content.");
	if (check_absolute(ps, c) < 0 || pos_value(ps, v, 0, 65535, &x, &var) < 0)
		return -1;
	c->offset = x;
	c->flags |= NJ_CF_OFFSET | (var ? NJ_CF_OFFSET_VAR : 0);
	return 0;
}
NJ_DETECT_KEYWORD(offset, .name = "offset", .flags = NJ_KWF_VALUE | NJ_KWF_MODIFIER,
		  .parse = kw_offset, .doc = "content starts at or after byte N")

static int kw_distance(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *v)
{
	struct nj_detect_content *c = nj_detect_last_content(ps);
	int32_t x = 0;
	bool var;

	(void)kw;
	if (!c)
		return -1;
	if (c->flags & NJ_CF_DISTANCE)
		return nj_detect_fail(ps, "can't use multiple distances for the same content.");
	if (check_relative(ps, c) < 0 || pos_value(ps, v, -65535, 65535, &x, &var) < 0)
		return -1;
	c->distance = x;
	c->flags |= NJ_CF_DISTANCE | (var ? NJ_CF_DIST_VAR : 0);
	return 0;
}
NJ_DETECT_KEYWORD(distance, .name = "distance", .flags = NJ_KWF_VALUE | NJ_KWF_MODIFIER,
		  .parse = kw_distance, .doc = "content starts N bytes after the previous match")

static int kw_within(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *v)
{
	struct nj_detect_content *c = nj_detect_last_content(ps);
	int32_t x = 0;
	bool var;

	(void)kw;
	if (!c)
		return -1;
	if (c->flags & NJ_CF_WITHIN)
		return nj_detect_fail(ps, "can't use multiple withins for the same content.");
	if (check_relative(ps, c) < 0 || pos_value(ps, v, -65535, 65535, &x, &var) < 0)
		return -1;
	if (!var && x < (int32_t)c->len)
		return nj_detect_fail(ps,
				      "within argument \"%d\" is less than the content length "
				      "\"%u\" which is invalid, since this will never match.  "
				      "Invalidating signature",
				      x, c->len);
	c->within = x;
	c->flags |= NJ_CF_WITHIN | (var ? NJ_CF_WITHIN_VAR : 0);
	return 0;
}
NJ_DETECT_KEYWORD(within, .name = "within", .flags = NJ_KWF_VALUE | NJ_KWF_MODIFIER,
		  .parse = kw_within, .doc = "content ends within N bytes of the previous match")

static int kw_startswith(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *v)
{
	struct nj_detect_content *c = nj_detect_last_content(ps);

	(void)kw;
	(void)v;
	if (!c)
		return -1;
	if (c->flags & NJ_CF_STARTSWITH)
		return nj_detect_fail(ps, "can't use multiple startswith modifiers for the same "
					  "content");
	if (c->flags & (NJ_CF_DEPTH | NJ_CF_OFFSET | NJ_CF_DISTANCE | NJ_CF_WITHIN))
		return nj_detect_fail(ps,
				      "startswith can't be mixed with depth, offset, distance or "
				      "within");
	c->flags |= NJ_CF_STARTSWITH | NJ_CF_DEPTH;
	c->depth = (int32_t)c->len;
	return 0;
}
NJ_DETECT_KEYWORD(startswith, .name = "startswith", .flags = NJ_KWF_NOVALUE | NJ_KWF_MODIFIER,
		  .parse = kw_startswith, .doc = "content at the start of the buffer")

static int kw_endswith(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *v)
{
	struct nj_detect_content *c = nj_detect_last_content(ps);

	(void)kw;
	(void)v;
	if (!c)
		return -1;
	if (c->flags & NJ_CF_ENDSWITH)
		return nj_detect_fail(ps, "can't use multiple endswith modifiers for the same "
					  "content");
	c->flags |= NJ_CF_ENDSWITH;
	return 0;
}
NJ_DETECT_KEYWORD(endswith, .name = "endswith", .flags = NJ_KWF_NOVALUE | NJ_KWF_MODIFIER,
		  .parse = kw_endswith, .doc = "content at the end of the buffer")

static int kw_fast_pattern(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *v)
{
	struct nj_detect_content *c = nj_detect_last_content(ps);

	(void)kw;
	if (!c)
		return -1;
	if (ps->has_fp)
		return nj_detect_fail(ps, "fast_pattern can be used on only one content in a rule");
	/* a content after base64_data inspects the decoded data, which the
	 * prefilter never sees (Suricata rejects the rule) */
	for (int i = 0; i < ps->last_content; i++)
		if (ps->el[i].el.type == NJ_EL_B64DATA &&
		    ps->el[i].list == ps->el[ps->last_content].list)
			return nj_detect_fail(ps, "fast_pattern cannot be used with base64_data");
	if (v && strcmp(v, "only") == 0) {
		if (c->flags & (NJ_CF_DEPTH | NJ_CF_OFFSET | NJ_CF_DISTANCE | NJ_CF_WITHIN))
			return nj_detect_fail(ps, "fast_pattern: only; cannot be used with "
						  "distance, within, offset, or depth");
		if (c->flags & NJ_CF_NEGATED)
			return nj_detect_fail(ps, "fast_pattern:only; cannot be used on a negated "
						  "content");
		c->flags |= NJ_CF_FP_ONLY;
	} else if (v) {
		char *parts[3];
		int64_t off, len;

		if (nj_detect_split(v, ',', parts, 3) != 2 ||
		    nj_detect_parse_i64(parts[0], 0, 65535, &off) < 0 ||
		    nj_detect_parse_i64(parts[1], 1, 65535, &len) < 0)
			return nj_detect_fail(ps,
					      "invalid fast_pattern value '%s' (only, or "
					      "offset,length)",
					      v);
		if ((uint64_t)off + (uint64_t)len > c->len)
			return nj_detect_fail(ps,
					      "fast_pattern offset (%lld) + length (%lld) exceeds "
					      "the content length %u",
					      (long long)off, (long long)len, c->len);
		c->chop_off = (uint16_t)off;
		c->chop_len = (uint16_t)len;
		c->flags |= NJ_CF_FP_CHOP;
	}
	if ((c->flags & NJ_CF_NEGATED) &&
	    (c->flags & (NJ_CF_DEPTH | NJ_CF_OFFSET | NJ_CF_DISTANCE | NJ_CF_WITHIN)))
		return nj_detect_fail(ps, "fast_pattern; cannot be used on a negated content with "
					  "distance, within, offset or depth");
	c->flags |= NJ_CF_FP;
	ps->has_fp = true;
	return 0;
}
NJ_DETECT_KEYWORD(fast_pattern, .name = "fast_pattern", .flags = NJ_KWF_OPTVALUE | NJ_KWF_MODIFIER,
		  .parse = kw_fast_pattern,
		  .doc = "choose this content for the prefilter (only; offset,length chop)")

/* The list a relative keyword without sticky buffer goes to: the previous match's. */
int nj_detect_relative_base(struct nj_detect_parse *ps, bool relative)
{
	if (ps->sticky >= 0 || !relative || ps->last_el < 0)
		return -1; /* current list */
	return nj_detect_el_base(ps, ps->last_el);
}

static int add_rel(struct nj_detect_parse *ps, bool relative, uint8_t type, void *ptr)
{
	int base = nj_detect_relative_base(ps, relative);

	if (base < 0)
		return nj_detect_add_el(ps, type, ptr);
	return nj_detect_add_el_to(ps, base, type, ptr);
}

int nj_detect_add_el_rel(struct nj_detect_parse *ps, bool relative, uint8_t type, void *ptr)
{
	return add_rel(ps, relative, type, ptr);
}

static int kw_isdataat(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *v)
{
	struct nj_detect_isdataat *d = nj_detect_alloc(ps->r, sizeof(*d));
	char *parts[4];
	unsigned n;
	int64_t x;

	(void)kw;
	if (!d)
		return nj_detect_fail(ps, "out of memory");
	n = nj_detect_split(v, ',', parts, 4);
	if (n < 1 || !*parts[0])
		return nj_detect_fail(ps, "invalid isdataat '%s'", v);
	char *val = parts[0];

	if (*val == '!') {
		d->flags |= NJ_IDA_NEGATED;
		val = nj_detect_trim(val + 1);
	}
	if (nj_detect_is_varname(val)) {
		int idx = nj_detect_var_find(ps, val);

		if (idx < 0)
			return nj_detect_fail(ps, "unknown byte_ keyword var seen in isdataat - %s",
					      val);
		d->dataat = (uint32_t)idx;
		d->flags |= NJ_IDA_VAR;
	} else if (nj_detect_parse_i64(val, 0, 65535, &x) < 0) {
		return nj_detect_fail(ps, "isdataat out of range: %s", val);
	} else {
		d->dataat = (uint32_t)x;
	}
	for (unsigned i = 1; i < n; i++) {
		if (strcmp(parts[i], "relative") == 0)
			d->flags |= NJ_IDA_RELATIVE;
		else if (strcmp(parts[i], "rawbytes") != 0)
			return nj_detect_fail(ps, "invalid isdataat option '%s'", parts[i]);
	}
	return add_rel(ps, d->flags & NJ_IDA_RELATIVE, NJ_EL_ISDATAAT, d) < 0 ? -1 : 0;
}
NJ_DETECT_KEYWORD(isdataat, .name = "isdataat", .flags = NJ_KWF_VALUE, .parse = kw_isdataat,
		  .doc = "[!]N[,relative]: data present at N")

static int kw_bsize(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *v)
{
	struct nj_detect_u64 *u = nj_detect_alloc(ps->r, sizeof(*u));
	char err[160];

	(void)kw;
	if (!u)
		return nj_detect_fail(ps, "out of memory");
	if (ps->sticky < 0)
		return nj_detect_fail(ps, "bsize must follow a sticky buffer");
	if (nj_detect_u64_parse(v, UINT32_MAX, u, err, sizeof(err)) < 0)
		return nj_detect_fail(ps, "%s", err);
	return nj_detect_add_el(ps, NJ_EL_BSIZE, u) < 0 ? -1 : 0;
}
NJ_DETECT_KEYWORD(bsize, .name = "bsize", .flags = NJ_KWF_VALUE, .parse = kw_bsize,
		  .doc = "length of the sticky buffer: N, <N, >N, N<>M ...")

static int kw_urilen(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *v)
{
	struct nj_detect_u64 *u = nj_detect_alloc(ps->r, sizeof(*u));
	char *parts[3], err[160];
	unsigned n = nj_detect_split(v, ',', parts, 3);
	const char *buf = "http.uri";

	(void)kw;
	if (!u)
		return nj_detect_fail(ps, "out of memory");
	if (n == 2) {
		if (strcmp(parts[1], "raw") == 0)
			buf = "http.uri.raw";
		else if (strcmp(parts[1], "norm") != 0)
			return nj_detect_fail(ps, "invalid urilen option '%s' (norm or raw)",
					      parts[1]);
	}
	if (n < 1 || nj_detect_u64_parse(parts[0], 65535, u, err, sizeof(err)) < 0)
		return nj_detect_fail(ps, "%s", n < 1 ? "missing value" : err);
	if (nj_detect_set_app_proto(ps, "http") < 0)
		return -1;
	return nj_detect_add_el_to(ps, nj_detect_buffer_id(buf), NJ_EL_URILEN, u) < 0 ? -1 : 0;
}
NJ_DETECT_KEYWORD(urilen, .name = "urilen", .flags = NJ_KWF_VALUE, .parse = kw_urilen,
		  .doc = "length of http.uri (or raw): N, <N, >N, N<>M")
