/* SPDX-License-Identifier: MIT */
/*
 * pcre: "/regex/flags" compiled once with PCRE2 (JIT when available).
 * Flags: i s m x A E G (PCRE options), R (relative), O (no match limit
 * override, accepted), B (rawbytes) and the buffer selectors U I P Q H D M C
 * S Y V W Z as in Suricata. Groups are compiled as non-capturing unless the
 * pattern refers back to one, as Suricata does.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <string.h>

#include "detect_int.h"

static void free_code(void *p)
{
	pcre2_code_free(p);
}

static const struct {
	char flag;
	const char *buf;
} pcre_bufs[] = {
	{'U', "http.uri"},	     {'I', "http.uri.raw"},    {'P', "http.request_body"},
	{'Q', "http.response_body"}, {'H', "http.header"},     {'D', "http.header.raw"},
	{'M', "http.method"},	     {'C', "http.cookie"},     {'S', "http.stat_code"},
	{'Y', "http.stat_msg"},	     {'V', "http.user_agent"}, {'W', "http.host"},
	{'Z', "http.host.raw"},
};

/* Suricata's descriptions of the buffers a pcre flag selects (its error names them). */
static const char *buffer_desc(const char *name)
{
	static const char *const map[][2] = {
		{"http.request_body", "http request body"},
		{"http.uri.raw", "raw http uri"},
		{"http.uri", "http request uri"},
		{"http.response_body", "data from tracked files"},
		{"http.header.raw", "raw http headers"},
		{"http.header", "http headers"},
		{"http.method", "http request method"},
		{"http.cookie", "http cookie header"},
		{"http.stat_code", "http response status code"},
		{"http.stat_msg", "http response status message"},
		{"http.user_agent", "http user agent"},
		{"http.host", "http host"},
		{"http.host.raw", "http raw host header"},
	};

	for (size_t i = 0; i < NJ_ARRAY_SIZE(map); i++)
		if (!strcmp(map[i][0], name))
			return map[i][1];
	return name;
}

static int kw_pcre(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *v)
{
	struct nj_detect_pcre *pd = nj_detect_alloc(ps->r, sizeof(*pd));
	uint32_t opts = 0;
	int base = -1, errcode;
	PCRE2_SIZE erroff;
	char *re, *end;
	bool rawbytes = false;

	(void)kw;
	if (!pd)
		return nj_detect_fail(ps, "out of memory");
	if (ps->negated)
		pd->flags |= NJ_PCRE_NEGATED;
	if (*v != '/')
		return nj_detect_fail(ps, "pcre parse error: %s (expected /regex/flags)", v);
	re = v + 1;
	end = strrchr(re, '/');
	if (!end)
		return nj_detect_fail(ps, "pcre parse error: %s (no closing /)", v);
	*end = '\0';
	for (const char *f = end + 1; *f; f++) {
		switch (*f) {
		case 'i':
			opts |= PCRE2_CASELESS;
			pd->flags |= NJ_PCRE_CASELESS;
			break;
		case 's': opts |= PCRE2_DOTALL; break;
		case 'm': opts |= PCRE2_MULTILINE; break;
		case 'x': opts |= PCRE2_EXTENDED; break;
		case 'A': opts |= PCRE2_ANCHORED; break;
		case 'E': opts |= PCRE2_DOLLAR_ENDONLY; break;
		case 'G': opts |= PCRE2_UNGREEDY; break;
		case 'R': pd->flags |= NJ_PCRE_RELATIVE; break;
		case 'O': break;
		case 'B':
			if (base >= 0)
				return nj_detect_fail(ps,
						      "regex modifier 'B' inconsistent with chosen "
						      "buffer");
			rawbytes = true;
			break;
		case ' ':
		case '\t': break;
		default: {
			size_t i;

			for (i = 0; i < NJ_ARRAY_SIZE(pcre_bufs); i++)
				if (pcre_bufs[i].flag == *f)
					break;
			if (i == NJ_ARRAY_SIZE(pcre_bufs))
				return nj_detect_fail(ps, "unknown regex modifier '%c'", *f);
			if (rawbytes)
				return nj_detect_fail(
					ps, "regex modifier '%c' inconsistent with 'B'", *f);
			if (base >= 0)
				return nj_detect_fail(ps,
						      "only one pcre option to specify a buffer "
						      "type is allowed");
			base = nj_detect_buffer_id(pcre_bufs[i].buf);
			if (base < 0)
				return nj_detect_unsupported(ps, "pcre buffer %s",
							     pcre_bufs[i].buf);
		}
		}
	}
	if (base >= 0 && ps->sticky >= 0) {
		if (ps->sticky != base)
			return nj_detect_fail(
				ps,
				"Expression seen with a sticky buffer still set; "
				"either (1) reset sticky buffer with pkt_data or (2) "
				"use a sticky buffer providing \"%s\".",
				buffer_desc(nj_detect_buffer_get((unsigned)base)->name));
		base = -1; /* same buffer: the current (sticky) list */
	}
	if (base == nj_detect_buffer_id("http.host") && !(pd->flags & NJ_PCRE_CASELESS)) {
		for (const char *p = re; *p; p++)
			if (*p >= 'A' && *p <= 'Z' && (p == re || p[-1] != '\\'))
				return nj_detect_fail(ps,
						      "pcre host(\"W\") specified has an uppercase "
						      "char.  Since the hostname buffer we match "
						      "against is actually lowercase, please "
						      "specify an all lowercase based pcre.");
	}
	pcre2_code *code = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED,
					 opts | PCRE2_NO_AUTO_CAPTURE, &errcode, &erroff, NULL);

	if (!code)
		code = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, opts, &errcode, &erroff,
				     NULL);
	if (!code) {
		PCRE2_UCHAR msg[160];

		pcre2_get_error_message(errcode, msg, sizeof(msg));
		return nj_detect_fail(ps, "pcre compile of \"%s\" failed at offset %zu: %s", v + 0,
				      (size_t)erroff, (const char *)msg);
	}
	pcre2_jit_compile(code, PCRE2_JIT_COMPLETE); /* falls back to the interpreter */
	if (nj_detect_track(ps->r, code, free_code) < 0)
		return nj_detect_fail(ps, "out of memory");
	{
		uint32_t cap = 0;

		pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &cap);
		if (cap + 1 > ps->r->max_captures)
			ps->r->max_captures = cap + 1;
	}
	pd->code = code;
	*end = '/';
	pd->text = nj_detect_strdup(ps->r, v);
	if (base >= 0) {
		const struct nj_detect_buffer *b = nj_detect_buffer_get((unsigned)base);

		if (nj_detect_set_app_proto(ps, b->app_proto) < 0)
			return -1;
		return nj_detect_add_el_to(ps, base, NJ_EL_PCRE, pd) < 0 ? -1 : 0;
	}
	return nj_detect_add_el_rel(ps, pd->flags & NJ_PCRE_RELATIVE, NJ_EL_PCRE, pd) < 0 ? -1 : 0;
}
NJ_DETECT_KEYWORD(pcre, .name = "pcre", .flags = NJ_KWF_VALUE | NJ_KWF_QUOTED, .parse = kw_pcre,
		  .doc = "PCRE2 regex with Suricata's flags (R relative; U I P Q H D M C S Y V W Z "
			 "buffers)")
