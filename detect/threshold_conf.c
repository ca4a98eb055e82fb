/* SPDX-License-Identifier: MIT */
/*
 * threshold.config (Suricata's threshold-file): lines of
 *
 *   threshold|event_filter gen_id G, sig_id S, type limit|threshold|both,
 *                          track by_src|by_dst|by_rule|by_both, count N, seconds M
 *   suppress gen_id G, sig_id S[, track by_src|by_dst|by_either, ip ADDRESSES]
 *   rate_filter gen_id G, sig_id S, track ..., count N, seconds M,
 *               new_action alert|drop|pass|log|sdrop|reject, timeout T
 *
 * sig_id 0 means every signature (of gen_id, or of every gid when gen_id is
 * 0 too). A threshold / event_filter for one signature replaces the rule's own
 * threshold; for every signature it applies to those without one. A suppress
 * drops the signature's alerts (those whose source, destination or either
 * address is in ip). rate_filter is validated; its action change is not
 * applied (IDS). '#' starts a comment; a line may continue after '\'.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rules_priv.h"

/* A decimal count or id up to max (no sign, no hex: threshold.config's syntax). */
static int num(const char *s, uint64_t max, uint64_t *out)
{
	int64_t v;

	if (!isdigit((unsigned char)*s) || s[1] == 'x' || s[1] == 'X' ||
	    nj_detect_parse_i64(s, 0, (int64_t)max, &v) < 0)
		return -1;
	*out = (uint64_t)v;
	return 0;
}

static int track_of(const char *v, bool suppress)
{
	if (strcmp(v, "by_src") == 0)
		return NJ_TRACK_SRC;
	if (strcmp(v, "by_dst") == 0)
		return NJ_TRACK_DST;
	if (suppress)
		return strcmp(v, "by_either") == 0 ? NJ_SUPPRESS_EITHER : -1;
	if (strcmp(v, "by_rule") == 0)
		return NJ_TRACK_RULE;
	if (strcmp(v, "by_both") == 0)
		return NJ_TRACK_BOTH;
	return -1;
}

enum { L_THRESHOLD, L_SUPPRESS, L_RATE };

struct tline {
	int kind;
	uint32_t gid, sid;
	struct nj_detect_threshold thr;
	int track;
	const struct nj_detect_addrs *ip;
};

/* One line (comment and continuation already handled); 0 or -1 with err. */
static int parse_line(struct nj_detect_rules *r, char *line, struct tline *t, char *err,
		      size_t errlen)
{
	char *kw = line, *rest, *opt[12];
	unsigned n = 0;
	bool have_type = false, have_track = false, have_count = false, have_secs = false,
	     have_action = false, have_timeout = false;
	uint64_t gid = UINT64_MAX, sid = UINT64_MAX;

	memset(t, 0, sizeof(*t));
	t->track = -1;
	rest = kw + strcspn(kw, " \t");
	if (*rest)
		*rest++ = '\0';
	if (strcmp(kw, "threshold") == 0 || strcmp(kw, "event_filter") == 0)
		t->kind = L_THRESHOLD;
	else if (strcmp(kw, "suppress") == 0)
		t->kind = L_SUPPRESS;
	else if (strcmp(kw, "rate_filter") == 0)
		t->kind = L_RATE;
	else
		goto bad;
	for (char *p = rest;;) {
		char *c = p;
		int depth = 0;
		bool more;

		/* commas inside an address list ([a,b]) do not separate options */
		for (; *c && (*c != ',' || depth > 0); c++)
			depth += *c == '[' ? 1 : *c == ']' ? -1 : 0;
		more = *c != '\0';
		*c = '\0';
		if (n == sizeof(opt) / sizeof(opt[0]))
			goto bad;
		opt[n++] = nj_detect_trim(p);
		if (!more)
			break;
		p = c + 1;
	}
	for (unsigned i = 0; i < n; i++) {
		char *k = opt[i], *v = k + strcspn(k, " \t");
		uint64_t x;

		if (!*v)
			goto bad;
		*v++ = '\0';
		v = nj_detect_trim(v);
		if (strcmp(k, "gen_id") == 0 && gid == UINT64_MAX) {
			if (num(v, UINT32_MAX, &gid) < 0)
				goto bad;
		} else if (strcmp(k, "sig_id") == 0 && sid == UINT64_MAX) {
			if (num(v, UINT32_MAX, &sid) < 0)
				goto bad;
		} else if (strcmp(k, "type") == 0 && t->kind == L_THRESHOLD && !have_type) {
			t->thr.type = strcmp(v, "limit") == 0	    ? NJ_THR_LIMIT
				      : strcmp(v, "threshold") == 0 ? NJ_THR_THRESHOLD
				      : strcmp(v, "both") == 0	    ? NJ_THR_BOTH
								    : 0;
			if (!t->thr.type)
				goto bad;
			have_type = true;
		} else if (strcmp(k, "track") == 0 && !have_track) {
			t->track = track_of(v, t->kind == L_SUPPRESS);
			if (t->track < 0)
				goto bad;
			have_track = true;
		} else if (strcmp(k, "count") == 0 && t->kind != L_SUPPRESS && !have_count) {
			if (num(v, UINT32_MAX, &x) < 0)
				goto bad;
			t->thr.count = (uint32_t)x;
			have_count = true;
		} else if (strcmp(k, "seconds") == 0 && t->kind != L_SUPPRESS && !have_secs) {
			if (num(v, UINT32_MAX, &x) < 0)
				goto bad;
			t->thr.seconds = (uint32_t)x;
			have_secs = true;
		} else if (strcmp(k, "ip") == 0 && t->kind == L_SUPPRESS && !t->ip) {
			char aerr[160];

			t->ip = nj_detect_addrs_get(r, v, aerr, sizeof(aerr));
			if (!t->ip) {
				snprintf(err, errlen, "suppress ip '%s': %s", v, aerr);
				return -1;
			}
		} else if (strcmp(k, "new_action") == 0 && t->kind == L_RATE && !have_action) {
			static const char *const acts[] = {"alert", "drop",  "pass",
							   "log",   "sdrop", "reject"};
			size_t j;

			for (j = 0; j < sizeof(acts) / sizeof(acts[0]); j++)
				if (strcmp(v, acts[j]) == 0)
					break;
			if (j == sizeof(acts) / sizeof(acts[0]))
				goto bad;
			have_action = true;
		} else if (strcmp(k, "timeout") == 0 && t->kind == L_RATE && !have_timeout) {
			if (num(v, UINT32_MAX, &x) < 0)
				goto bad;
			have_timeout = true;
		} else {
			goto bad;
		}
	}
	if (gid == UINT64_MAX || sid == UINT64_MAX)
		goto bad;
	t->gid = (uint32_t)gid;
	t->sid = (uint32_t)sid;
	switch (t->kind) {
	case L_THRESHOLD:
		if (!have_type || !have_track || !have_count || !have_secs)
			goto bad;
		t->thr.track = (uint8_t)t->track;
		break;
	case L_RATE:
		if (!have_track || !have_count || !have_secs || !have_action || !have_timeout)
			goto bad;
		break;
	default:
		/* suppress: track and ip come together */
		if (have_track != (t->ip != NULL))
			goto bad;
		break;
	}
	return 0;
bad:
	snprintf(err, errlen, "failed to parse threshold line");
	return -1;
}

static int apply(struct nj_detect_rules *r, const struct tline *t)
{
	for (uint32_t i = 0; i < r->nsigs; i++) {
		struct nj_detect_sig *s = r->sigs[i];

		if (t->sid && (s->sid != t->sid || s->gid != t->gid))
			continue;
		if (!t->sid && t->gid && s->gid != t->gid)
			continue;
		if (t->kind == L_THRESHOLD) {
			/* for every signature: only those without a threshold of their own */
			if (!t->sid && s->threshold.type)
				continue;
			s->threshold = t->thr;
		} else if (t->kind == L_SUPPRESS) {
			struct nj_detect_suppress *sp = nj_detect_alloc(r, sizeof(*sp));

			if (!sp)
				return -1;
			sp->track = t->ip ? (uint8_t)t->track : 0;
			sp->ip = t->ip;
			sp->next = s->suppress;
			s->suppress = sp;
		}
	}
	return 0;
}

int nj_detect_threshold_file(struct nj_detect_rules *r, const char *path, char *err, size_t errlen)
{
	FILE *fp = fopen(path, "r");
	char buf[8192], line[16384];
	size_t used = 0;
	unsigned lineno = 0;
	int rc = 0;

	if (!fp) {
		snprintf(err, errlen, "Error opening file: \"%s\": %s", path, strerror(errno));
		return 1;
	}
	line[0] = '\0';
	while (fgets(buf, sizeof(buf), fp)) {
		size_t l = strlen(buf);
		char *s;
		struct tline t;

		lineno++;
		while (l && (buf[l - 1] == '\n' || buf[l - 1] == '\r'))
			buf[--l] = '\0';
		if (l && buf[l - 1] == '\\') {
			/* continued on the next line */
			buf[--l] = '\0';
			if (used + l + 1 < sizeof(line)) {
				memcpy(line + used, buf, l + 1);
				used += l;
			}
			continue;
		}
		if (used + l + 1 < sizeof(line))
			memcpy(line + used, buf, l + 1);
		used = 0;
		s = nj_detect_trim(line);
		if (!*s || *s == '#')
			continue;
		if (parse_line(r, s, &t, err, errlen) < 0 || apply(r, &t) < 0) {
			size_t el = strlen(err);

			snprintf(err + el, errlen - el, " (%s line %u)", path, lineno);
			rc = -1;
			break;
		}
	}
	fclose(fp);
	return rc;
}
