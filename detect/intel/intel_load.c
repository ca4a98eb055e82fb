/* SPDX-License-Identifier: MIT */
/*
 * Indicator loaders: plain lists, CSV with a header, MISP feed JSON
 * (manifest.json + <uuid>.json, or one event file) and MISP's CSV export.
 * A malformed line or attribute is counted (set->bad) and skipped; only an
 * unreadable source or the memcap stops a load.
 */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "common/nj_common.h"
#include "intel.h"

int nj_intel_format_parse(const char *s)
{
	if (!s || strcmp(s, "plain") == 0 || strcmp(s, "list") == 0)
		return NJ_IF_PLAIN;
	if (strcmp(s, "csv") == 0)
		return NJ_IF_CSV;
	if (strcmp(s, "misp") == 0 || strcmp(s, "misp-json") == 0)
		return NJ_IF_MISP_JSON;
	if (strcmp(s, "misp-csv") == 0)
		return NJ_IF_MISP_CSV;
	return -1;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		*--e = '\0';
	return s;
}

/* ------------------------------------------------------------ plain */

static int load_plain(struct nj_intel_set *s, const struct nj_intel_source *src, FILE *f,
		      uint32_t ctx, char *err, size_t errlen)
{
	char *line = NULL;
	size_t cap = 0;
	int ret = 0;

	while (getline(&line, &cap, f) > 0) {
		char *v = trim(line), *hash;

		if (!*v || *v == '#' || *v == ';')
			continue;
		/* "value # comment" */
		if ((hash = strstr(v, " #")) != NULL)
			*hash = '\0';
		v = trim(v);
		if (nj_intel_add_typed(s, src->type, v, ctx) == -ENOSPC) {
			snprintf(err, errlen, "%s: intel.memcap reached", src->path);
			ret = -ENOSPC;
			break;
		}
	}
	free(line);
	return ret;
}

/* ------------------------------------------------------------ CSV */

#define CSV_MAX_COLS 32

/* Splits one CSV record (RFC 4180 quotes, "" inside quotes) in place. Returns the column count. */
static unsigned csv_split(char *line, char **cols, unsigned max)
{
	unsigned n = 0;
	char *p = line;

	while (n < max) {
		char *out = p;

		cols[n++] = p;
		if (*p == '"') {
			char *r = p + 1;

			for (;;) {
				if (*r == '\0')
					break;
				if (*r == '"') {
					if (r[1] == '"') {
						*out++ = '"';
						r += 2;
						continue;
					}
					r++;
					break;
				}
				*out++ = *r++;
			}
			while (*r && *r != ',')
				r++;
			*out = '\0';
			if (*r == '\0')
				break;
			p = r + 1;
			continue;
		}
		while (*p && *p != ',')
			p++;
		if (*p == '\0')
			break;
		*p++ = '\0';
	}
	for (unsigned i = 0; i < n; i++)
		cols[i] = trim(cols[i]);
	return n;
}

/* Splits a tag list ("a,b" or "a;b" or "a|b") in place. */
static unsigned split_tags(char *t, const char **tags, unsigned max)
{
	unsigned n = 0;

	for (char *save = NULL, *tok = strtok_r(t, ",;|", &save); tok && n < max;
	     tok = strtok_r(NULL, ",;|", &save)) {
		tok = trim(tok);
		if (*tok)
			tags[n++] = tok;
	}
	return n;
}

static int col_of(char **hdr, unsigned n, const char *const *names)
{
	for (unsigned i = 0; i < n; i++)
		for (unsigned k = 0; names[k]; k++)
			if (strcasecmp(hdr[i], names[k]) == 0)
				return (int)i;
	return -1;
}

static bool truthy(const char *v)
{
	return strcasecmp(v, "1") == 0 || strcasecmp(v, "true") == 0 || strcasecmp(v, "yes") == 0 ||
	       strcasecmp(v, "True") == 0;
}

/*
 * Both CSV flavours: ours (value[,type,event_id,tags,threat_level,info]) and
 * MISP's export (uuid,event_id,category,type,value,comment,to_ids,date,...,
 * attribute_tag,...). The header names the columns; context repeats across
 * rows, so a row with the same context as the previous one shares it.
 */
static int load_csv(struct nj_intel_set *s, const struct nj_intel_source *src, FILE *f, bool misp,
		    char *err, size_t errlen)
{
	static const char *const n_value[] = {"value", "indicator", "ioc", NULL};
	static const char *const n_type[] = {"type", NULL};
	static const char *const n_event[] = {"event_id", "event", NULL};
	static const char *const n_tags[] = {"tags", "attribute_tag", "tag", NULL};
	static const char *const n_level[] = {"threat_level", "threat_level_id", NULL};
	static const char *const n_info[] = {"info", "event_info", "comment", "description", NULL};
	static const char *const n_ids[] = {"to_ids", NULL};
	static const char *const n_uuid[] = {"event_uuid", NULL};
	char *line = NULL, *hdr = NULL, *cols[CSV_MAX_COLS], *hcols[CSV_MAX_COLS];
	char prev[2400] = "";
	size_t cap = 0;
	unsigned nh;
	int c_val, c_type, c_ev, c_tags, c_lvl, c_info, c_ids, c_uuid, ret = 0;
	uint32_t ctx = UINT32_MAX;

	if (getline(&hdr, &cap, f) <= 0) {
		free(hdr);
		return 0; /* empty file */
	}
	cap = 0;
	nh = csv_split(hdr, hcols, CSV_MAX_COLS);
	c_val = col_of(hcols, nh, n_value);
	if (c_val < 0) {
		snprintf(err, errlen, "%s: CSV header has no value column", src->path);
		free(hdr);
		return -EINVAL;
	}
	c_type = col_of(hcols, nh, n_type);
	c_ev = col_of(hcols, nh, n_event);
	c_tags = col_of(hcols, nh, n_tags);
	c_lvl = col_of(hcols, nh, n_level);
	c_info = col_of(hcols, nh, n_info);
	c_ids = col_of(hcols, nh, n_ids);
	c_uuid = col_of(hcols, nh, n_uuid);
	while (getline(&line, &cap, f) > 0) {
		unsigned n;
		const char *type, *ev, *lvl, *info, *uuid, *tags[64];
		char key[2400], tagbuf[1024];
		unsigned ntags = 0;
		int r;

		if (line[0] == '#' || line[0] == '\n' || line[0] == '\r')
			continue;
		n = csv_split(line, cols, CSV_MAX_COLS);
		if ((unsigned)c_val >= n || !*cols[c_val]) {
			s->bad++;
			continue;
		}
#define COL(c) ((c) >= 0 && (unsigned)(c) < n ? cols[c] : "")
		if (misp && c_ids >= 0 && src->to_ids_only && !truthy(COL(c_ids))) {
			s->skipped_no_ids++;
			continue;
		}
		type = src->type ? src->type : COL(c_type);
		ev = COL(c_ev);
		lvl = COL(c_lvl);
		info = COL(c_info);
		uuid = COL(c_uuid);
		snprintf(tagbuf, sizeof(tagbuf), "%s", COL(c_tags));
		snprintf(key, sizeof(key), "%.255s\x1f%.255s\x1f%.255s\x1f%.255s\x1f%.1023s", ev,
			 lvl, info, uuid, tagbuf);
		if (ctx == UINT32_MAX || strcmp(key, prev) != 0) {
			ntags = split_tags(tagbuf, tags, 64);
			ctx = nj_intel_ctx_add(s, src->name ? src->name : src->path, ev, uuid, info,
					       tags, ntags, (uint8_t)atoi(lvl));
			if (ctx == UINT32_MAX) {
				ret = -ENOSPC;
				break;
			}
			snprintf(prev, sizeof(prev), "%s", key);
		}
#undef COL
		r = nj_intel_add_typed(s, *type ? type : NULL, cols[c_val], ctx);
		if (r == -ENOSPC) {
			ret = r;
			break;
		}
	}
	if (ret == -ENOSPC)
		snprintf(err, errlen, "%s: intel.memcap reached", src->path);
	free(line);
	free(hdr);
	return ret;
}

/* ------------------------------------------------------------ MISP JSON */

static const char *jstr(json_t *o, const char *key, char *buf, size_t cap)
{
	json_t *v = json_object_get(o, key);

	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v)) {
		snprintf(buf, cap, "%lld", (long long)json_integer_value(v));
		return buf;
	}
	return NULL;
}

static unsigned misp_tags(json_t *arr, const char **tags, unsigned n, unsigned max)
{
	for (size_t i = 0; i < json_array_size(arr); i++) {
		json_t *t = json_array_get(arr, i);
		const char *name = json_string_value(json_object_get(t, "name"));

		if (name && n < max)
			tags[n++] = name;
	}
	return n;
}

static bool misp_to_ids(json_t *a)
{
	json_t *v = json_object_get(a, "to_ids");

	if (json_is_boolean(v))
		return json_is_true(v);
	if (json_is_string(v))
		return truthy(json_string_value(v));
	if (json_is_integer(v))
		return json_integer_value(v) != 0;
	return false;
}

struct misp_event {
	const char *source, *id, *uuid, *info;
	const char *tags[64];
	unsigned ntags;
	uint8_t level;
	uint32_t ctx; /* the event's context (attributes without own tags) */
};

static int misp_attrs(struct nj_intel_set *s, const struct nj_intel_source *src,
		      struct misp_event *ev, json_t *attrs)
{
	for (size_t i = 0; i < json_array_size(attrs); i++) {
		json_t *a = json_array_get(attrs, i);
		const char *type = json_string_value(json_object_get(a, "type"));
		const char *value = json_string_value(json_object_get(a, "value"));
		json_t *atags = json_object_get(a, "Tag");
		uint32_t ctx = ev->ctx;
		int r;

		if (!type || !value) {
			s->bad++;
			continue;
		}
		if (src->to_ids_only && !misp_to_ids(a)) {
			s->skipped_no_ids++;
			continue;
		}
		if (json_array_size(atags)) {
			const char *tags[128];
			unsigned n = ev->ntags;

			memcpy(tags, ev->tags, sizeof(ev->tags[0]) * ev->ntags);
			n = misp_tags(atags, tags, n, 128);
			ctx = nj_intel_ctx_add(s, ev->source, ev->id, ev->uuid, ev->info, tags, n,
					       ev->level);
			if (ctx == UINT32_MAX)
				return -ENOSPC;
		}
		r = nj_intel_add_typed(s, type, value, ctx);
		if (r == -ENOSPC)
			return r;
	}
	return 0;
}

/* One {"Event": {...}} document (or a bare event object). */
static int misp_event(struct nj_intel_set *s, const struct nj_intel_source *src, json_t *doc)
{
	json_t *e = json_object_get(doc, "Event"), *objs;
	struct misp_event ev = {0};
	char idbuf[32], lvlbuf[32];
	const char *lvl;
	int r;

	if (!e)
		e = doc;
	if (!json_is_object(e)) {
		s->bad++;
		return 0;
	}
	ev.source = src->name ? src->name : src->path;
	ev.id = jstr(e, "id", idbuf, sizeof(idbuf));
	ev.uuid = json_string_value(json_object_get(e, "uuid"));
	ev.info = json_string_value(json_object_get(e, "info"));
	lvl = jstr(e, "threat_level_id", lvlbuf, sizeof(lvlbuf));
	ev.level = lvl ? (uint8_t)atoi(lvl) : 4;
	ev.ntags = misp_tags(json_object_get(e, "Tag"), ev.tags, 0, 64);
	ev.ctx = nj_intel_ctx_add(s, ev.source, ev.id, ev.uuid, ev.info, ev.tags, ev.ntags,
				  ev.level);
	if (ev.ctx == UINT32_MAX)
		return -ENOSPC;
	if ((r = misp_attrs(s, src, &ev, json_object_get(e, "Attribute"))) < 0)
		return r;
	objs = json_object_get(e, "Object");
	for (size_t i = 0; i < json_array_size(objs); i++) {
		json_t *o = json_array_get(objs, i);

		if ((r = misp_attrs(s, src, &ev, json_object_get(o, "Attribute"))) < 0)
			return r;
	}
	return 0;
}

static int misp_file(struct nj_intel_set *s, const struct nj_intel_source *src, const char *path,
		     char *err, size_t errlen)
{
	json_error_t je;
	json_t *doc = NULL;
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n = -1;
	int r;

	/* the whole file, then parse: jansson's file reader goes a byte at a time */
	memset(&je, 0, sizeof(je));
	if (f && fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)n + 1)) && fread(buf, 1, (size_t)n, f) == (size_t)n)
		doc = json_loadb(buf, (size_t)n, JSON_DECODE_ANY, &je);
	else
		snprintf(je.text, sizeof(je.text), "cannot read: %s", strerror(errno));
	if (f)
		fclose(f);
	free(buf);
	if (!doc) {
		s->bad++;
		snprintf(err, errlen, "%s:%d: %s", path, je.line, je.text);
		return -EINVAL;
	}
	r = misp_event(s, src, doc);
	json_decref(doc);
	return r;
}

/* A feed directory: the events named by manifest.json (its keys are event uuids). */
static int load_misp_dir(struct nj_intel_set *s, const struct nj_intel_source *src, char *err,
			 size_t errlen)
{
	char path[PATH_MAX];
	json_error_t je;
	json_t *man;
	const char *uuid;
	int r = 0;

	snprintf(path, sizeof(path), "%s/manifest.json", src->path);
	man = json_load_file(path, 0, &je);
	if (!man) {
		snprintf(err, errlen, "%s:%d: %s", path, je.line, je.text);
		return -EINVAL;
	}
	{
		/* size the set once for the whole feed (~100 bytes of JSON an attribute) */
		uint64_t total = 0;
		struct stat st;

		for (void *it = json_object_iter(man); it; it = json_object_iter_next(man, it)) {
			uuid = json_object_iter_key(it);
			snprintf(path, sizeof(path), "%s/%s.json", src->path, uuid);
			if (!strchr(uuid, '/') && stat(path, &st) == 0)
				total += (uint64_t)st.st_size;
		}
		nj_intel_reserve(s, s->ninds + total / 100, s->blob_len + total / 2);
	}
	for (void *it = json_object_iter(man); it; it = json_object_iter_next(man, it)) {
		char e2[256];

		uuid = json_object_iter_key(it);

		if (strchr(uuid, '/') || strstr(uuid, "..")) {
			s->bad++;
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s.json", src->path, uuid);
		r = misp_file(s, src, path, e2, sizeof(e2));
		if (r == -ENOSPC) {
			snprintf(err, errlen, "%s: intel.memcap reached", src->path);
			break;
		}
		if (r < 0)
			NJ_WARN("intel: %s (event skipped)", e2);
		r = 0;
	}
	json_decref(man);
	return r;
}

int nj_intel_load(struct nj_intel_set *s, const struct nj_intel_source *src, char *err,
		  size_t errlen)
{
	struct stat st;
	FILE *f;
	uint32_t ctx;
	int r;

	if (stat(src->path, &st) != 0) {
		snprintf(err, errlen, "%s: %s", src->path, strerror(errno));
		return -errno;
	}
	if (src->format == NJ_IF_MISP_JSON) {
		if (S_ISDIR(st.st_mode))
			return load_misp_dir(s, src, err, errlen);
		return misp_file(s, src, src->path, err, errlen);
	}
	/* about 25 bytes a line in lists; keys and display values take ~2x the text */
	if (src->format != NJ_IF_MISP_CSV)
		nj_intel_reserve(s, s->ninds + (uint64_t)st.st_size / 25,
				 s->blob_len + 2 * (uint64_t)st.st_size);
	f = fopen(src->path, "r");
	if (!f) {
		snprintf(err, errlen, "%s: %s", src->path, strerror(errno));
		return -errno;
	}
	switch (src->format) {
	case NJ_IF_CSV: r = load_csv(s, src, f, false, err, errlen); break;
	case NJ_IF_MISP_CSV: r = load_csv(s, src, f, true, err, errlen); break;
	default:
		ctx = nj_intel_ctx_add(s, src->name ? src->name : src->path, NULL, NULL, NULL, NULL,
				       0, 4);
		r = ctx == UINT32_MAX ? -ENOSPC : load_plain(s, src, f, ctx, err, errlen);
		break;
	}
	fclose(f);
	return r;
}
