/* SPDX-License-Identifier: MIT */
/*
 * pcrexform (Suricata's transform): the buffer becomes the first capture
 * group of a regex; without a match it is left as it is. The regex must
 * have a capture group. Evaluated through the transform chain
 * (nj_detect_transform), so the transformed buffer is computed once per
 * buffer instance like the other transforms.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <string.h>

#include "detect_int.h"

/* Suricata's pcre match limits. */
#define XFORM_MATCH_LIMIT 3500
#define XFORM_DEPTH_LIMIT 1500

/* Per-thread match data and limits, created on a thread's first pcrexform
 * (once: transforms run without a detection context). */
static __thread pcre2_match_data *xf_md;
static __thread pcre2_match_context *xf_mctx;

uint32_t nj_detect_pcrexform(const void *re, const uint8_t *in, uint32_t n, uint8_t *out)
{
	const PCRE2_SIZE *ov;
	int rc;

	if (!xf_md) {
		xf_md = pcre2_match_data_create(16, NULL);
		xf_mctx = pcre2_match_context_create(NULL);
		if (xf_mctx) {
			pcre2_set_match_limit(xf_mctx, XFORM_MATCH_LIMIT);
			pcre2_set_depth_limit(xf_mctx, XFORM_DEPTH_LIMIT);
		}
	}
	if (!xf_md || !re)
		goto out_same;
	rc = pcre2_match(re, in, n, 0, 0, xf_md, xf_mctx);
	if (rc < 2)
		goto out_same; /* no match, limit hit, or group 1 did not take part */
	ov = pcre2_get_ovector_pointer(xf_md);
	if (ov[2] == PCRE2_UNSET || ov[3] < ov[2] || ov[3] > n)
		goto out_same;
	memmove(out, in + ov[2], ov[3] - ov[2]);
	return (uint32_t)(ov[3] - ov[2]);
out_same:
	memmove(out, in, n);
	return n;
}

static void free_code(void *p)
{
	pcre2_code_free(p);
}

static int kw_pcrexform(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *v)
{
	struct nj_detect_tf tf;
	pcre2_code *code;
	uint32_t cap = 0;
	int errcode;
	PCRE2_SIZE erroff;
	size_t n;

	(void)kw;
	if (ps->sticky < 0 || ps->sticky_list >= 0)
		return nj_detect_fail(ps, "transforms must directly follow stickybuffers");
	if (ps->pend_ntf >= NJ_DETECT_MAX_TRANSFORM)
		return nj_detect_fail(ps, "too many transforms");
	/* Suricata's messages: the value is a quoted regular expression */
	if (!v || !*v)
		return nj_detect_fail(ps, "invalid formatting or malformed option to pcrexform "
					  "keyword: ''");
	n = strlen(v);
	if (n < 3 || v[0] != '"' || v[n - 1] != '"')
		return nj_detect_fail(ps, "invalid formatting to pcrexform keyword: '%s'", v);
	v[n - 1] = '\0';
	v++;
	code = pcre2_compile((PCRE2_SPTR)v, PCRE2_ZERO_TERMINATED, 0, &errcode, &erroff, NULL);
	if (!code) {
		PCRE2_UCHAR msg[160];

		pcre2_get_error_message(errcode, msg, sizeof(msg));
		return nj_detect_fail(ps, "pcrexform compile of \"%s\" failed at offset %zu: %s", v,
				      (size_t)erroff, (const char *)msg);
	}
	if (nj_detect_track(ps->r, code, free_code) < 0) {
		pcre2_code_free(code);
		return nj_detect_fail(ps, "out of memory");
	}
	pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &cap);
	if (cap == 0)
		return nj_detect_fail(ps, "pcrexform regex needs a capture group: %s", v);
	pcre2_jit_compile(code, PCRE2_JIT_COMPLETE); /* falls back to the interpreter */
	memset(&tf, 0, sizeof(tf));		     /* lists compare transforms with memcmp */
	tf.type = NJ_TF_PCREXFORM;
	tf.re = code;
	ps->pend_tf[ps->pend_ntf++] = tf;
	return 0;
}
NJ_DETECT_KEYWORD(tf_pcrexform, .name = "pcrexform", .flags = NJ_KWF_OPTVALUE | NJ_KWF_TRANSFORM,
		  .parse = kw_pcrexform,
		  .doc = "the buffer becomes the regex's first capture group")
