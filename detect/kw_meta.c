/* SPDX-License-Identifier: MIT */
/*
 * Rule metadata keywords: msg, sid, rev, gid, classtype, priority,
 * reference, metadata, target, noalert, tag, requires.
 */
#include <stdio.h>
#include <string.h>

#include "detect_int.h"

static int kw_msg(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *v)
{
	(void)kw;
	if (ps->has_msg)
		return nj_detect_fail(ps, "duplicated msg");
	nj_detect_unescape(v);
	ps->s->msg = nj_detect_strdup(ps->r, v);
	ps->has_msg = true;
	return ps->s->msg ? 0 : nj_detect_fail(ps, "out of memory");
}
NJ_DETECT_KEYWORD(msg, .name = "msg", .flags = NJ_KWF_VALUE | NJ_KWF_STRIP_QUOTES, .parse = kw_msg,
		  .doc = "alert message")

static int parse_u32(struct nj_detect_parse *ps, const char *v, int64_t min, uint32_t *out)
{
	int64_t x;

	if (nj_detect_parse_i64(v, min, UINT32_MAX, &x) < 0)
		return nj_detect_fail(ps, "invalid value: '%s'", v);
	*out = (uint32_t)x;
	return 0;
}

static int kw_sid(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *v)
{
	(void)kw;
	if (ps->has_sid)
		return nj_detect_fail(ps, "duplicated 'sid' keyword detected");
	if (parse_u32(ps, v, 1, &ps->s->sid) < 0)
		return -1;
	ps->has_sid = true;
	return 0;
}
NJ_DETECT_KEYWORD(sid, .name = "sid", .flags = NJ_KWF_VALUE | NJ_KWF_STRIP_QUOTES, .parse = kw_sid,
		  .doc = "signature id (1..2^32-1), required")

static int kw_rev(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *v)
{
	(void)kw;
	if (ps->has_rev)
		return nj_detect_fail(ps, "duplicated 'rev' keyword detected");
	ps->has_rev = true;
	return parse_u32(ps, v, 0, &ps->s->rev);
}
NJ_DETECT_KEYWORD(rev, .name = "rev", .flags = NJ_KWF_VALUE | NJ_KWF_STRIP_QUOTES, .parse = kw_rev,
		  .doc = "revision")

static int kw_gid(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *v)
{
	(void)kw;
	if (ps->has_gid)
		return nj_detect_fail(ps, "duplicated 'gid' keyword detected");
	ps->has_gid = true;
	return parse_u32(ps, v, 0, &ps->s->gid);
}
NJ_DETECT_KEYWORD(gid, .name = "gid", .flags = NJ_KWF_VALUE | NJ_KWF_STRIP_QUOTES, .parse = kw_gid,
		  .doc = "group id (default 1)")

static int kw_classtype(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *v)
{
	uint16_t idx;

	(void)kw;
	if (ps->has_classtype)
		return nj_detect_fail(ps, "duplicated 'classtype' keyword detected");
	ps->has_classtype = true;
	for (char *p = v; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
			return nj_detect_fail(ps, "invalid classtype '%s'", v);
	if (!nj_detect_class_find(ps->r, v, &idx) && nj_detect_class_lenient(ps->r, v, &idx) < 0)
		return nj_detect_fail(ps, "unknown classtype: '%s'", v);
	ps->s->classtype = idx;
	return 0;
}
NJ_DETECT_KEYWORD(classtype, .name = "classtype", .flags = NJ_KWF_VALUE | NJ_KWF_STRIP_QUOTES,
		  .parse = kw_classtype, .doc = "class from classification.config (sets priority)")

static int kw_priority(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *v)
{
	int64_t x;

	(void)kw;
	if (nj_detect_parse_i64(v, 1, 255, &x) < 0)
		return nj_detect_fail(ps, "invalid priority '%s' (1..255)", v);
	ps->s->priority = (uint8_t)x;
	ps->has_priority = true;
	return 0;
}
NJ_DETECT_KEYWORD(priority, .name = "priority", .flags = NJ_KWF_VALUE | NJ_KWF_STRIP_QUOTES,
		  .parse = kw_priority, .doc = "alert priority 1..255")

static int kw_reference(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *v)
{
	char *comma = strchr(v, ',');
	struct nj_detect_ref *ref;

	(void)kw;
	if (!comma)
		return nj_detect_fail(ps, "invalid reference '%s': expected type,value", v);
	*comma = '\0';
	char *type = nj_detect_trim(v), *val = nj_detect_trim(comma + 1);

	if (!*type || !*val)
		return nj_detect_fail(ps, "invalid reference: empty type or value");
	if (ps->nrefs >= NJ_PS_MAX_REFS)
		return 0; /* more references than we keep: the rule still loads */
	ref = &ps->refs[ps->nrefs];
	ref->type = nj_detect_strdup(ps->r, type);
	ref->value = nj_detect_strdup(ps->r, val);
	ref->url_prefix = nj_detect_refsys_url(ps->r, type);
	if (!ref->type || !ref->value)
		return nj_detect_fail(ps, "out of memory");
	ps->nrefs++;
	return 0;
}
NJ_DETECT_KEYWORD(reference, .name = "reference", .flags = NJ_KWF_VALUE | NJ_KWF_STRIP_QUOTES,
		  .parse = kw_reference, .doc = "type,value (reference.config systems)")

static int kw_metadata(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *v)
{
	char *parts[NJ_PS_MAX_META];
	unsigned n = nj_detect_split(v, ',', parts, NJ_PS_MAX_META);

	(void)kw;
	for (unsigned i = 0; i < n && ps->nmeta < NJ_PS_MAX_META; i++) {
		char *k = parts[i], *val = k;

		if (!*k)
			continue;
		while (*val && *val != ' ' && *val != '\t')
			val++;
		if (*val)
			*val++ = '\0';
		val = nj_detect_trim(val);
		ps->meta[ps->nmeta].key = nj_detect_strdup(ps->r, k);
		ps->meta[ps->nmeta].value = nj_detect_strdup(ps->r, val);
		if (!ps->meta[ps->nmeta].key || !ps->meta[ps->nmeta].value)
			return nj_detect_fail(ps, "out of memory");
		ps->nmeta++;
	}
	return 0;
}
NJ_DETECT_KEYWORD(metadata, .name = "metadata", .flags = NJ_KWF_VALUE | NJ_KWF_STRIP_QUOTES,
		  .parse = kw_metadata, .doc = "key value pairs, comma separated (alert.metadata)")

static int kw_target(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *v)
{
	(void)kw;
	if (strcmp(v, "src_ip") == 0)
		ps->s->flags |= NJ_SIG_TARGET_SRC;
	else if (strcmp(v, "dest_ip") == 0)
		ps->s->flags |= NJ_SIG_TARGET_DST;
	else
		return nj_detect_fail(ps, "only 'src_ip' and 'dest_ip' are supported, not '%s'", v);
	return 0;
}
NJ_DETECT_KEYWORD(target, .name = "target", .flags = NJ_KWF_VALUE | NJ_KWF_STRIP_QUOTES,
		  .parse = kw_target, .doc = "src_ip or dest_ip (alert source/target)")

static int kw_noalert(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *v)
{
	(void)kw;
	(void)v;
	ps->s->flags |= NJ_SIG_NOALERT;
	return 0;
}
NJ_DETECT_KEYWORD(noalert, .name = "noalert", .flags = NJ_KWF_NOVALUE, .parse = kw_noalert,
		  .doc = "match without an alert (for flowbits set rules)")

/* alert (Suricata 8): a pass rule also writes an alert (its verdict stays pass). */
static int kw_alert(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *v)
{
	(void)kw;
	(void)v;
	if (ps->s->flags & NJ_SIG_NOALERT)
		return nj_detect_fail(ps, "noalert and alert cannot be used together");
	ps->s->flags |= NJ_SIG_ALERT;
	return 0;
}
NJ_DETECT_KEYWORD(alert, .name = "alert", .flags = NJ_KWF_NOVALUE, .parse = kw_alert,
		  .doc = "a pass rule also alerts")

/* Suricata's limit on tag keywords per rule is its per-flow limit; 8 is plenty. */
#define TAG_MAX_PER_SIG 8

static int kw_tag(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *v)
{
	struct nj_detect_tag tg = {.metric = NJ_TAG_PACKETS, .dst = 1, .count = 256};
	struct nj_detect_tag *arr;
	char *parts[5];
	unsigned n = nj_detect_split(v, ',', parts, 5);
	int64_t cnt;

	(void)kw;
	if (n < 1 || (strcmp(parts[0], "session") != 0 && strcmp(parts[0], "host") != 0))
		return nj_detect_fail(ps, "invalid tag type '%s' (session or host)",
				      n ? parts[0] : "");
	tg.host = strcmp(parts[0], "host") == 0;
	if (n == 2 || n > 4)
		return nj_detect_fail(ps, "expected tag:session|host[,count,metric[,src|dst]]");
	if (n >= 3) {
		if (nj_detect_parse_i64(parts[1], 0, UINT32_MAX, &cnt) < 0)
			return nj_detect_fail(ps, "invalid tag count '%s'", parts[1]);
		tg.count = (uint32_t)cnt;
		if (strcmp(parts[2], "packets") == 0)
			tg.metric = NJ_TAG_PACKETS;
		else if (strcmp(parts[2], "bytes") == 0)
			tg.metric = NJ_TAG_BYTES;
		else if (strcmp(parts[2], "seconds") == 0)
			tg.metric = NJ_TAG_SECONDS;
		else
			return nj_detect_fail(ps, "invalid tag metric '%s'", parts[2]);
	}
	if (n == 4) {
		if (!tg.host)
			return nj_detect_fail(ps, "a tag direction needs the host scope");
		if (strcmp(parts[3], "src") == 0)
			tg.dst = 0;
		else if (strcmp(parts[3], "dst") != 0)
			return nj_detect_fail(ps, "invalid tag direction '%s'", parts[3]);
	}
	if (ps->s->ntags >= TAG_MAX_PER_SIG)
		return nj_detect_fail(ps, "more than %d tag keywords", TAG_MAX_PER_SIG);
	arr = nj_detect_alloc(ps->r, (ps->s->ntags + 1u) * sizeof(*arr));
	if (!arr)
		return nj_detect_fail(ps, "out of memory");
	if (ps->s->ntags)
		memcpy(arr, ps->s->tags, ps->s->ntags * sizeof(*arr));
	arr[ps->s->ntags++] = tg;
	ps->s->tags = arr;
	return 0;
}
NJ_DETECT_KEYWORD(tag, .name = "tag", .flags = NJ_KWF_VALUE, .parse = kw_tag,
		  .doc = "session/host tagging: tagged packets become EVE packet events")

static int kw_requires(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *v)
{
	(void)kw;
	if (strstr(v, "feature"))
		return nj_detect_unsupported(ps, "requires an optional feature: %s", v);
	return 0;
}
NJ_DETECT_KEYWORD(requires, .name = "requires", .flags = NJ_KWF_VALUE | NJ_KWF_IGNORED,
		  .parse = kw_requires,
		  .doc = "version requirements accepted; feature requirements skip the rule")

/* config: kw_config.c */
