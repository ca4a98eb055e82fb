/* SPDX-License-Identifier: MIT */
/*
 * base64_decode and base64_data (Suricata's semantics): base64_decode decodes
 * part of the current buffer, from its start or after the previous match
 * (relative), skipping offset bytes and taking at most bytes bytes, into a
 * per-core buffer; the elements after base64_data inspect that buffer (see
 * NJ_EL_B64DATA in inspect.c). base64_decode fails when nothing decodes.
 */
#include <stdlib.h>
#include <string.h>

#include "detect_int.h"

static int8_t b64val(uint8_t ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return (int8_t)(ch - 'A');
	if (ch >= 'a' && ch <= 'z')
		return (int8_t)(ch - 'a' + 26);
	if (ch >= '0' && ch <= '9')
		return (int8_t)(ch - '0' + 52);
	if (ch == '+')
		return 62;
	if (ch == '/')
		return 63;
	return -1;
}

uint32_t nj_detect_b64_decode(const uint8_t *in, uint32_t len, uint8_t *out, uint32_t cap)
{
	uint32_t acc = 0, bits = 0, n = 0;

	for (uint32_t i = 0; i < len && n < cap; i++) {
		int8_t v = b64val(in[i]);

		if (v < 0)
			break; /* '=' padding or a character outside the alphabet */
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	return n;
}

static int kw_b64_decode(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *v)
{
	struct nj_detect_b64dec *d = nj_detect_alloc(ps->r, sizeof(*d));
	char *parts[3];
	unsigned n = v ? nj_detect_split(v, ',', parts, 3) : 0;

	(void)kw;
	if (!d)
		return nj_detect_fail(ps, "out of memory");
	for (unsigned i = 0; i < n; i++) {
		char *p = parts[i], *val;
		int64_t x;

		if (!*p)
			continue;
		if (strcmp(p, "relative") == 0) {
			d->relative = true;
			continue;
		}
		val = strpbrk(p, " \t");
		if (!val)
			return nj_detect_fail(ps, "invalid base64_decode option '%s'", p);
		*val++ = '\0';
		val = nj_detect_trim(val);
		if (nj_detect_parse_i64(val, 0, UINT32_MAX, &x) < 0)
			return nj_detect_fail(ps, "invalid base64_decode %s '%s'", p, val);
		if (strcmp(p, "bytes") == 0) {
			if (x == 0)
				return nj_detect_fail(ps, "base64_decode bytes must be > 0");
			d->bytes = (uint32_t)x;
		} else if (strcmp(p, "offset") == 0) {
			d->offset = (uint32_t)x;
		} else {
			return nj_detect_fail(ps, "invalid base64_decode option '%s'", p);
		}
	}
	/* relative without a sticky buffer: the buffer of the previous match (http_uri) */
	return nj_detect_add_el_rel(ps, d->relative, NJ_EL_B64DECODE, d);
}
NJ_DETECT_KEYWORD(base64_decode, .name = "base64_decode", .flags = NJ_KWF_OPTVALUE,
		  .parse = kw_b64_decode, .doc = "[bytes N][, offset N][, relative]")

static int kw_b64_data(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *v)
{
	int dec = -1;

	(void)kw;
	(void)v;
	for (unsigned i = 0; i < ps->nel; i++) {
		if (ps->el[i].el.type == NJ_EL_B64DATA)
			return nj_detect_fail(ps, "base64_data used twice");
		if (ps->el[i].el.type == NJ_EL_B64DECODE)
			dec = (int)i;
	}
	if (dec < 0)
		return nj_detect_fail(ps, "base64_data needs a preceding base64_decode");
	/* what follows goes to base64_decode's list, after this marker */
	ps->sticky = ps->lists[ps->el[dec].list].base;
	ps->sticky_list = ps->el[dec].list;
	return nj_detect_add_el(ps, NJ_EL_B64DATA, NULL);
}
NJ_DETECT_KEYWORD(base64_data, .name = "base64_data", .flags = NJ_KWF_NOVALUE, .parse = kw_b64_data,
		  .doc = "inspect base64_decode output (until the rule's end)")
