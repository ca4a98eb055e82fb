/* SPDX-License-Identifier: MIT */
/*
 * byte_test, byte_jump, byte_extract, byte_math: every option Suricata
 * documents, variables (byte_extract / byte_math results) usable as values,
 * offsets and counts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect_int.h"

#define MAX_PARTS 16

static struct nj_detect_byte *byte_new(struct nj_detect_parse *ps)
{
	struct nj_detect_byte *b = nj_detect_alloc(ps->r, sizeof(*b));

	if (!b)
		nj_detect_fail(ps, "out of memory");
	else
		b->multiplier = 1;
	return b;
}

/* Number (base 0: 0x hex, leading 0 octal, as Suricata) or variable. */
static int num_or_var(struct nj_detect_parse *ps, const char *v, const char *what, int64_t min,
		      int64_t max, int64_t *out, bool *var)
{
	*var = false;
	if (nj_detect_is_varname(v)) {
		int idx = nj_detect_var_find(ps, v);

		if (idx < 0)
			/* Suricata's two wordings: byte_test vs byte_jump/byte_math */
			return nj_detect_fail(ps,
					      strcmp(ps->kw, "byte_test") == 0
						      ? "Unknown byte_extract var seen in %s - %s"
						      : "unknown byte_ keyword var seen in %s - %s",
					      ps->kw, v);
		*out = idx;
		*var = true;
		return 0;
	}
	char *end;
	long long x;

	if (*v == '-')
		x = strtoll(v, &end, 0);
	else
		x = (long long)strtoull(v, &end, 0);
	if (end == v || *nj_detect_trim(end) || x < min || x > max)
		return nj_detect_fail(ps, "Malformed %s: %s", what, v);
	*out = x;
	return 0;
}

static int set_bitmask(struct nj_detect_parse *ps, struct nj_detect_byte *b, const char *v)
{
	char *end;
	unsigned long long m = strtoull(v, &end, 16);

	if (end == v || *end)
		return nj_detect_fail(ps, "invalid bitmask: %s", v);
	b->bitmask = m;
	b->flags |= NJ_BF_BITMASK;
	b->shift = m ? (uint8_t)__builtin_ctzll(m) : 0;
	return 0;
}

static int set_base(struct nj_detect_parse *ps, struct nj_detect_byte *b, const char *v)
{
	if (strcmp(v, "dec") == 0)
		b->base = 10;
	else if (strcmp(v, "hex") == 0)
		b->base = 16;
	else if (strcmp(v, "oct") == 0)
		b->base = 8;
	else
		return nj_detect_fail(ps, "invalid base '%s'", v);
	return 0;
}

/* Options shared by byte_test / byte_jump / byte_extract; 1 handled, 0 not, -1 error. */
static int common_opt(struct nj_detect_parse *ps, struct nj_detect_byte *b, const char *o)
{
	if (strcmp(o, "relative") == 0)
		b->flags |= NJ_BF_RELATIVE;
	else if (strcmp(o, "big") == 0)
		b->flags &= (uint16_t)~NJ_BF_LITTLE;
	else if (strcmp(o, "little") == 0)
		b->flags |= NJ_BF_LITTLE;
	else if (strcmp(o, "string") == 0)
		b->flags |= NJ_BF_STRING;
	else if (strcmp(o, "dec") == 0 || strcmp(o, "hex") == 0 || strcmp(o, "oct") == 0)
		return set_base(ps, b, o) < 0 ? -1 : 1;
	else if (strcmp(o, "dce") == 0)
		b->flags |= NJ_BF_DCE;
	else if (strncmp(o, "bitmask", 7) == 0 && (o[7] == ' ' || o[7] == '\t'))
		return set_bitmask(ps, b, nj_detect_trim((char *)o + 7)) < 0 ? -1 : 1;
	else
		return 0;
	return 1;
}

static int check_nbytes(struct nj_detect_parse *ps, struct nj_detect_byte *b, unsigned max_str,
			unsigned max_bin)
{
	if (b->flags & NJ_BF_NBYTES_VAR)
		return 0;
	/* nbytes 0 is accepted as Suricata does: a string runs to the first non-digit */
	if ((b->flags & NJ_BF_STRING) && b->nbytes > max_str)
		return nj_detect_fail(ps, "Cannot test more than %u bytes with \"string\"",
				      max_str);
	if (!(b->flags & NJ_BF_STRING) && b->nbytes > max_bin)
		return nj_detect_fail(ps, "Cannot test more than %u bytes without \"string\"",
				      max_bin);
	if (!(b->flags & NJ_BF_STRING) && b->base)
		return nj_detect_fail(ps, "Cannot use a base without \"string\"");
	if ((b->flags & NJ_BF_STRING) && !b->base)
		b->base = 10;
	return 0;
}

static int add_byte(struct nj_detect_parse *ps, uint8_t type, struct nj_detect_byte *b)
{
	return nj_detect_add_el_rel(ps, b->flags & NJ_BF_RELATIVE, type, b) < 0 ? -1 : 0;
}

static int kw_byte_test(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *v)
{
	struct nj_detect_byte *b = byte_new(ps);
	char *p[MAX_PARTS], *op;
	unsigned n;
	int64_t x;
	bool var;

	(void)kw;
	if (!b)
		return -1;
	n = nj_detect_split(v, ',', p, MAX_PARTS);
	if (n < 4)
		return nj_detect_fail(
			ps, "byte_test needs nbytes, operator, value and offset: '%s'", v);
	if (num_or_var(ps, p[0], "number of bytes", 0, 255, &x, &var) < 0)
		return -1;
	b->nbytes = (uint8_t)x;
	if (var)
		b->flags |= NJ_BF_NBYTES_VAR;
	op = p[1];
	if (*op == '!') {
		b->flags |= NJ_BF_NEGOP;
		op = nj_detect_trim(op + 1);
	}
	if (strcmp(op, "=") == 0 || ((b->flags & NJ_BF_NEGOP) && *op == '\0'))
		b->op = NJ_BOP_EQ;
	else if (strcmp(op, "<") == 0)
		b->op = NJ_BOP_LT;
	else if (strcmp(op, ">") == 0)
		b->op = NJ_BOP_GT;
	else if (strcmp(op, "<=") == 0)
		b->op = NJ_BOP_LE;
	else if (strcmp(op, ">=") == 0)
		b->op = NJ_BOP_GE;
	else if (strcmp(op, "&") == 0)
		b->op = NJ_BOP_AND;
	else if (strcmp(op, "^") == 0)
		b->op = NJ_BOP_XOR;
	else
		return nj_detect_fail(ps, "Invalid operator '%s'", p[1]);
	if (num_or_var(ps, p[2], "value", INT64_MIN, INT64_MAX, &x, &var) < 0)
		return -1;
	b->value = (uint64_t)x;
	if (var)
		b->flags |= NJ_BF_VALUE_VAR;
	if (num_or_var(ps, p[3], "offset", INT32_MIN, INT32_MAX, &x, &var) < 0)
		return -1;
	b->offset = (int32_t)x;
	if (var)
		b->flags |= NJ_BF_OFFSET_VAR;
	for (unsigned i = 4; i < n; i++) {
		int r = common_opt(ps, b, p[i]);

		if (r < 0)
			return -1;
		if (r == 0)
			return nj_detect_fail(ps, "unknown byte_test option '%s'", p[i]);
	}
	if (check_nbytes(ps, b, 20, 8) < 0)
		return -1;
	return add_byte(ps, NJ_EL_BYTE_TEST, b);
}
NJ_DETECT_KEYWORD(byte_test, .name = "byte_test", .flags = NJ_KWF_VALUE, .parse = kw_byte_test,
		  .doc = "nbytes,[!]op,value,offset[,relative][,big|little][,string,dec|hex|oct]"
			 "[,bitmask M]")

static int kw_byte_jump(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *v)
{
	struct nj_detect_byte *b = byte_new(ps);
	char *p[MAX_PARTS];
	unsigned n;
	int64_t x;
	bool var;

	(void)kw;
	if (!b)
		return -1;
	n = nj_detect_split(v, ',', p, MAX_PARTS);
	if (n < 2)
		return nj_detect_fail(ps, "byte_jump needs nbytes and offset: '%s'", v);
	if (num_or_var(ps, p[0], "number of bytes", 0, 255, &x, &var) < 0)
		return -1;
	b->nbytes = (uint8_t)x;
	if (var)
		b->flags |= NJ_BF_NBYTES_VAR;
	if (num_or_var(ps, p[1], "offset", -65535, 65535, &x, &var) < 0)
		return -1;
	b->offset = (int32_t)x;
	if (var)
		b->flags |= NJ_BF_OFFSET_VAR;
	for (unsigned i = 2; i < n; i++) {
		int r = common_opt(ps, b, p[i]);

		if (r < 0)
			return -1;
		if (r)
			continue;
		if (strcmp(p[i], "align") == 0) {
			b->flags |= NJ_BF_ALIGN;
		} else if (strcmp(p[i], "from_beginning") == 0) {
			b->flags |= NJ_BF_BEGIN;
		} else if (strcmp(p[i], "from_end") == 0) {
			b->flags |= NJ_BF_END;
		} else if (strncmp(p[i], "multiplier", 10) == 0) {
			if (nj_detect_parse_i64(p[i] + 10, 1, 65535, &x) < 0)
				return nj_detect_fail(ps, "Malformed multiplier: %s", p[i]);
			b->multiplier = (uint32_t)x;
		} else if (strncmp(p[i], "post_offset", 11) == 0) {
			if (nj_detect_parse_i64(p[i] + 11, -65535, 65535, &x) < 0)
				return nj_detect_fail(ps, "Malformed post_offset: %s", p[i]);
			b->post_offset = (int32_t)x;
		} else {
			return nj_detect_fail(ps, "Unknown option: \"%s\"", p[i]);
		}
	}
	if ((b->flags & NJ_BF_BEGIN) && (b->flags & NJ_BF_END))
		return nj_detect_fail(ps,
				      "'from_end' and 'from_beginning' cannot be used in the same "
				      "byte_jump statement");
	if (check_nbytes(ps, b, 23, 8) < 0)
		return -1;
	return add_byte(ps, NJ_EL_BYTE_JUMP, b);
}
NJ_DETECT_KEYWORD(byte_jump, .name = "byte_jump", .flags = NJ_KWF_VALUE, .parse = kw_byte_jump,
		  .doc = "nbytes,offset[,relative][,multiplier N][,align][,from_beginning|from_end]"
			 "[,post_offset N][,string,...][,bitmask M]")

static int kw_byte_extract(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *v)
{
	struct nj_detect_byte *b = byte_new(ps);
	char *p[MAX_PARTS];
	unsigned n;
	int64_t x;
	bool var;
	int idx;

	(void)kw;
	if (!b)
		return -1;
	n = nj_detect_split(v, ',', p, MAX_PARTS);
	if (n < 3)
		return nj_detect_fail(ps, "byte_extract needs nbytes, offset and a name: '%s'", v);
	if (num_or_var(ps, p[0], "number of bytes", 0, 255, &x, &var) < 0)
		return -1;
	if (var)
		return nj_detect_fail(ps, "byte_extract nbytes cannot be a variable");
	b->nbytes = (uint8_t)x;
	if (num_or_var(ps, p[1], "offset", -65535, 65535, &x, &var) < 0)
		return -1;
	if (var)
		return nj_detect_fail(ps, "byte_extract offset cannot be a variable");
	b->offset = (int32_t)x;
	if (!nj_detect_is_varname(p[2]))
		return nj_detect_fail(ps, "invalid byte_extract variable name '%s'", p[2]);
	for (unsigned i = 3; i < n; i++) {
		int r = common_opt(ps, b, p[i]);

		if (r < 0)
			return -1;
		if (r)
			continue;
		if (strncmp(p[i], "multiplier", 10) == 0) {
			if (nj_detect_parse_i64(p[i] + 10, 1, 65535, &x) < 0)
				return nj_detect_fail(ps, "multiplier out of range: %s", p[i]);
			b->multiplier = (uint32_t)x;
		} else if (strncmp(p[i], "align", 5) == 0) {
			if (nj_detect_parse_i64(p[i] + 5, 2, 4, &x) < 0 || x == 3)
				return nj_detect_fail(ps, "align can only be 2 or 4: %s", p[i]);
			b->align = (uint32_t)x;
		} else {
			return nj_detect_fail(ps, "unknown byte_extract option '%s'", p[i]);
		}
	}
	if (check_nbytes(ps, b, 20, 8) < 0)
		return -1;
	idx = nj_detect_var_add(ps, p[2]);
	if (idx < 0)
		return -1;
	b->var = (uint8_t)idx;
	return add_byte(ps, NJ_EL_BYTE_EXTRACT, b);
}
NJ_DETECT_KEYWORD(byte_extract, .name = "byte_extract", .flags = NJ_KWF_VALUE,
		  .parse = kw_byte_extract,
		  .doc = "nbytes,offset,name[,relative][,multiplier N][,big|little][,string,...]"
			 "[,align 2|4]")

static int kw_byte_math(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *v)
{
	struct nj_detect_byte *b = byte_new(ps);
	char *p[MAX_PARTS];
	const char *result = NULL;
	bool have_bytes = false, have_off = false, have_op = false, have_rv = false;
	unsigned n;
	int64_t x;
	bool var;
	int idx;

	(void)kw;
	if (!b)
		return -1;
	n = nj_detect_split(v, ',', p, MAX_PARTS);
	for (unsigned i = 0; i < n; i++) {
		char *k = p[i], *val = k;

		while (*val && *val != ' ' && *val != '\t')
			val++;
		if (*val)
			*val++ = '\0';
		val = nj_detect_trim(val);
		if (strcmp(k, "bytes") == 0) {
			if (num_or_var(ps, val, "bytes", 1, 10, &x, &var) < 0)
				return -1;
			b->nbytes = (uint8_t)x;
			if (var)
				b->flags |= NJ_BF_NBYTES_VAR;
			have_bytes = true;
		} else if (strcmp(k, "offset") == 0) {
			if (nj_detect_parse_i64(val, -65535, 65535, &x) < 0)
				return nj_detect_fail(ps, "byte_math invalid offset value \"%s\"",
						      val);
			b->offset = (int32_t)x;
			have_off = true;
		} else if (strcmp(k, "oper") == 0) {
			static const char *const ops[] = {"+", "-", "*", "/", "<<", ">>"};
			static const uint8_t codes[] = {NJ_BOP_ADD, NJ_BOP_SUB, NJ_BOP_MUL,
							NJ_BOP_DIV, NJ_BOP_SHL, NJ_BOP_SHR};
			size_t j;

			for (j = 0; j < NJ_ARRAY_SIZE(ops); j++)
				if (strcmp(val, ops[j]) == 0)
					break;
			if (j == NJ_ARRAY_SIZE(ops))
				return nj_detect_fail(ps, "byte_math invalid operator \"%s\"", val);
			b->op = codes[j];
			have_op = true;
		} else if (strcmp(k, "rvalue") == 0) {
			if (num_or_var(ps, val, "rvalue", 0, UINT32_MAX, &x, &var) < 0)
				return -1;
			b->value = (uint64_t)x;
			if (var)
				b->flags |= NJ_BF_VALUE_VAR;
			have_rv = true;
		} else if (strcmp(k, "result") == 0) {
			if (!nj_detect_is_varname(val))
				return nj_detect_fail(ps,
						      "byte_math result must be a variable name. "
						      "Unable to find \"%s\"",
						      val);
			result = val;
		} else if (strcmp(k, "relative") == 0 && !*val) {
			b->flags |= NJ_BF_RELATIVE;
		} else if (strcmp(k, "endian") == 0) {
			if (strcmp(val, "little") == 0)
				b->flags |= NJ_BF_LITTLE;
			else if (strcmp(val, "dce") == 0)
				b->flags |= NJ_BF_DCE;
			else if (strcmp(val, "big") != 0)
				return nj_detect_fail(ps, "byte_math invalid endian \"%s\"", val);
		} else if (strcmp(k, "string") == 0) {
			b->flags |= NJ_BF_STRING;
			if (set_base(ps, b, val) < 0)
				return -1;
		} else if (strcmp(k, "dce") == 0 && !*val) {
			b->flags |= NJ_BF_DCE;
		} else if (strcmp(k, "bitmask") == 0) {
			if (set_bitmask(ps, b, val) < 0)
				return -1;
		} else {
			return nj_detect_fail(ps, "unknown byte_math option '%s'", k);
		}
	}
	if (!have_bytes || !have_off || !have_op || !have_rv || !result)
		return nj_detect_fail(ps, "byte_math needs bytes, offset, oper, rvalue and result");
	if (!(b->flags & (NJ_BF_STRING | NJ_BF_NBYTES_VAR)) && b->nbytes > 4)
		return nj_detect_fail(ps, "nbytes must be 1 through 4 (inclusive) when used with "
					  "non-string");
	if (b->op == NJ_BOP_DIV && !(b->flags & NJ_BF_VALUE_VAR) && b->value == 0)
		return nj_detect_fail(ps, "byte_math rvalue cannot be 0 with division");
	if ((b->flags & NJ_BF_RELATIVE) && ps->sticky >= 0) {
		/* as Suricata: in a sticky buffer, relative needs a content or pcre before it */
		bool prev = false;

		for (unsigned i = 0; i < ps->nel && !prev; i++)
			prev = ps->el[i].el.type == NJ_EL_CONTENT ||
			       ps->el[i].el.type == NJ_EL_PCRE;
		if (!prev)
			return nj_detect_fail(ps,
					      "relative specified without previous pattern match");
	}
	idx = nj_detect_var_add(ps, result);
	if (idx < 0)
		return -1;
	b->var = (uint8_t)idx;
	return add_byte(ps, NJ_EL_BYTE_MATH, b);
}
NJ_DETECT_KEYWORD(byte_math, .name = "byte_math", .flags = NJ_KWF_VALUE, .parse = kw_byte_math,
		  .doc = "bytes N, offset O, oper +|-|*|/|<<|>>, rvalue V, result NAME[, relative]"
			 "[, endian E][, string B][, bitmask M]")
