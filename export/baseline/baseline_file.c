/* SPDX-License-Identifier: MIT */
/*
 * Baseline and policy files: YAML an analyst can read and edit
 * (docs/baseline.md has the formats). Read with libyaml's document API,
 * written by hand (so entries can carry comments) in a sorted order, so the
 * same model always gives the same file.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <yaml.h>

#include "baseline_priv.h"
#include "common/nj_common.h"
#include "parsers/applayer.h"

/* ------------------------------------------------------------------ values */

static const struct {
	const char *name;
	uint8_t proto;
} protos[] = {
	{"tcp", 6}, {"udp", 17}, {"icmp", 1}, {"ipv6-icmp", 58}, {"icmp6", 58}, {"sctp", 132},
};

int nj_bl_proto_parse(const char *s, uint8_t *out)
{
	char *end;
	long v;

	for (size_t i = 0; i < NJ_ARRAY_SIZE(protos); i++) {
		if (!strcasecmp(s, protos[i].name)) {
			*out = protos[i].proto;
			return 0;
		}
	}
	v = strtol(s, &end, 10);
	if (end == s || *end || v < 1 || v > 255)
		return -1;
	*out = (uint8_t)v;
	return 0;
}

const char *nj_bl_proto_name(uint8_t proto, char buf[4])
{
	for (size_t i = 0; i < NJ_ARRAY_SIZE(protos); i++)
		if (protos[i].proto == proto)
			return protos[i].name;
	snprintf(buf, 4, "%u", proto);
	return buf;
}

int nj_bl_app_parse(const char *s, uint16_t *out)
{
	const struct nj_app_parser *p;

	if (!strcmp(s, "any") || !strcmp(s, "*")) {
		*out = NJ_BL_APP_ANY;
		return 0;
	}
	p = nj_app_parser_by_name(s);
	if (!p)
		return -1;
	*out = p->id;
	return 0;
}

int nj_bl_service_parse(const char *s, struct nj_bl_entry *e, char *err, size_t errlen)
{
	char buf[256], *parts[3] = {NULL, NULL, NULL}, *save = NULL, *tok;
	unsigned n = 0;

	if (strlen(s) >= sizeof(buf)) {
		snprintf(err, errlen, "service too long");
		return -1;
	}
	snprintf(buf, sizeof(buf), "%s", s);
	for (tok = strtok_r(buf, "/", &save); tok && n < 3; tok = strtok_r(NULL, "/", &save))
		parts[n++] = tok;
	if (!n || tok) {
		snprintf(err, errlen, "service '%s': want proto[/port[/app_proto|...]]", s);
		return -1;
	}
	e->kind = NJ_BL_SERVICE;
	e->napps = 0;
	e->port = 0;
	if (nj_bl_proto_parse(parts[0], &e->proto) < 0) {
		snprintf(err, errlen, "service '%s': unknown protocol '%s'", s, parts[0]);
		return -1;
	}
	if (parts[1] && strcmp(parts[1], "*") && strcmp(parts[1], "any")) {
		char *end;
		long v = strtol(parts[1], &end, 10);

		if (end == parts[1] || *end || v < 0 || v > 65535) {
			snprintf(err, errlen, "service '%s': bad port '%s'", s, parts[1]);
			return -1;
		}
		e->port = (uint16_t)v;
	}
	if (parts[2]) {
		char *asave = NULL;

		for (tok = strtok_r(parts[2], "|", &asave); tok;
		     tok = strtok_r(NULL, "|", &asave)) {
			uint16_t app;

			if (nj_bl_app_parse(tok, &app) < 0) {
				snprintf(err, errlen, "service '%s': unknown app_proto '%s'", s,
					 tok);
				return -1;
			}
			nj_bl_entry_add_app(e, app);
		}
	}
	return 0;
}

int nj_bl_cidr_parse(const char *s, uint8_t addr[16], uint8_t *ipv6, uint8_t *plen)
{
	char buf[64], *slash;
	long p = -1;

	if (strlen(s) >= sizeof(buf))
		return -1;
	snprintf(buf, sizeof(buf), "%s", s);
	slash = strchr(buf, '/');
	if (slash) {
		char *end;

		*slash = 0;
		p = strtol(slash + 1, &end, 10);
		if (end == slash + 1 || *end)
			return -1;
	}
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, buf, addr) == 1) {
		*ipv6 = 0;
		if (p > 32)
			return -1;
		*plen = (uint8_t)(p < 0 ? 32 : p);
	} else if (inet_pton(AF_INET6, buf, addr) == 1) {
		*ipv6 = 1;
		if (p > 128)
			return -1;
		*plen = (uint8_t)(p < 0 ? 128 : p);
	} else {
		return -1;
	}
	/* keep the network part only, so equal prefixes are equal entries */
	for (unsigned bit = *plen; bit < 128; bit++)
		addr[bit / 8] &= (uint8_t) ~(0x80u >> (bit % 8));
	return 0;
}

/* ------------------------------------------------------------------ YAML helpers */

struct ydoc {
	yaml_document_t doc;
	const char *path;
	char *err;
	size_t errlen;
};

static int yerr(struct ydoc *d, const yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int yerr(struct ydoc *d, const yaml_node_t *n, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(d->err, d->errlen, "%s:%zu: %s", d->path, n ? n->start_mark.line + 1 : 0, msg);
	return -1;
}

static const char *yscalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static yaml_node_t *ymap_get(struct ydoc *d, const yaml_node_t *map, const char *key)
{
	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		const char *k = yscalar(yaml_document_get_node(&d->doc, p->key));

		if (k && !strcmp(k, key))
			return yaml_document_get_node(&d->doc, p->value);
	}
	return NULL;
}

static int yu64(struct ydoc *d, const yaml_node_t *n, uint64_t *out)
{
	const char *s = yscalar(n);
	char *end;

	if (!s)
		return yerr(d, n, "want a number");
	errno = 0;
	*out = strtoull(s, &end, 10);
	if (end == s || *end || errno || *s == '-')
		return yerr(d, n, "'%s' is not a number", s);
	return 0;
}

/* Calls fn for each item of a sequence (a lone scalar counts as one item). */
static int yeach(struct ydoc *d, yaml_node_t *n, int (*fn)(struct ydoc *, yaml_node_t *, void *),
		 void *arg)
{
	if (!n)
		return 0;
	if (n->type == YAML_SCALAR_NODE && *n->data.scalar.value)
		return fn(d, n, arg);
	if (n->type == YAML_SCALAR_NODE)
		return 0; /* empty */
	if (n->type != YAML_SEQUENCE_NODE)
		return yerr(d, n, "want a list");
	for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top;
	     i++)
		if (fn(d, yaml_document_get_node(&d->doc, *i), arg) < 0)
			return -1;
	return 0;
}

static int ydoc_load(struct ydoc *d, const char *path, char *err, size_t errlen)
{
	yaml_parser_t p;
	FILE *fp = fopen(path, "rb");
	int ret = 0;

	d->path = path;
	d->err = err;
	d->errlen = errlen;
	if (!fp) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!yaml_parser_initialize(&p)) {
		fclose(fp);
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	yaml_parser_set_input_file(&p, fp);
	if (!yaml_parser_load(&p, &d->doc)) {
		snprintf(err, errlen, "%s:%zu:%zu: %s", path, p.problem_mark.line + 1,
			 p.problem_mark.column + 1, p.problem ? p.problem : "YAML error");
		ret = -1;
	}
	yaml_parser_delete(&p);
	fclose(fp);
	return ret;
}

/* ------------------------------------------------------------------ baseline: read */

struct pctx {
	struct nj_bl_model *m;
	struct nj_bl_subject *s;
	uint32_t si;
	uint64_t count; /* flows of the entry being read (map form), else 1 */
};

/*
 * Entries: a map of value: flows (as written), or a list of values (as an
 * analyst may type them), or one value.
 */
static int yentries(struct ydoc *d, yaml_node_t *n, int (*fn)(struct ydoc *, yaml_node_t *, void *),
		    struct pctx *c)
{
	c->count = 1;
	if (!n || n->type != YAML_MAPPING_NODE)
		return yeach(d, n, fn, c);
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node(&d->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(&d->doc, p->value);
		const char *vs = yscalar(v);

		c->count = 1;
		if (vs && *vs && yu64(d, v, &c->count) < 0)
			return -1;
		if (fn(d, k, c) < 0)
			return -1;
	}
	return 0;
}

static int add_entry(struct ydoc *d, yaml_node_t *n, struct pctx *c, const struct nj_bl_entry *p,
		     const struct nj_bl_entry *apps)
{
	struct nj_bl_entry *e = nj_bl_entry_get(c->m, p, true);

	if (!e)
		return yerr(d, n, "more entries than baseline.max-entries / max-entries-per-host");
	e->flows += c->count;
	if (apps) {
		/* no app_proto written: stays "any" (napps 0) */
		for (unsigned a = 0; a < apps->napps && a < NJ_BL_MAX_APPS; a++)
			nj_bl_entry_add_app(e, apps->apps[a]);
		if (apps->napps > NJ_BL_MAX_APPS)
			nj_bl_entry_add_app(e, NJ_BL_APP_ANY);
	}
	return 0;
}

static int peer_item(struct ydoc *d, yaml_node_t *n, void *arg)
{
	struct pctx *c = arg;
	struct nj_bl_entry p = {.subject = c->si, .kind = NJ_BL_PEER};
	const char *s = yscalar(n);

	if (!s || nj_bl_cidr_parse(s, p.val, &p.ipv6, &p.plen) < 0)
		return yerr(d, n, "peer '%s' is not an address or CIDR", s ? s : "?");
	return add_entry(d, n, c, &p, NULL);
}

static int service_item(struct ydoc *d, yaml_node_t *n, void *arg)
{
	struct pctx *c = arg;
	struct nj_bl_entry p = {.subject = c->si}, apps;
	const char *s = yscalar(n);
	char e[200];

	if (!s)
		return yerr(d, n, "service must be proto/port/app_proto");
	if (nj_bl_service_parse(s, &p, e, sizeof(e)) < 0)
		return yerr(d, n, "%s", e);
	apps = p;
	p.napps = 0;
	memset(p.apps, 0, sizeof(p.apps));
	return add_entry(d, n, c, &p, &apps);
}

static int country_item(struct ydoc *d, yaml_node_t *n, void *arg)
{
	struct pctx *c = arg;
	struct nj_bl_entry p = {.subject = c->si, .kind = NJ_BL_COUNTRY};
	const char *s = yscalar(n);

	if (!s || strlen(s) != 2)
		return yerr(d, n, "country must be a 2-letter ISO code");
	p.val[0] = (uint8_t)s[0];
	p.val[1] = (uint8_t)s[1];
	return add_entry(d, n, c, &p, NULL);
}

static int parse_asn(const char *s, uint32_t *out)
{
	char *end;
	unsigned long v;

	if (!strncasecmp(s, "AS", 2))
		s += 2;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (end == s || *end || errno || v == 0 || v > 0xffffffffUL)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int asn_item(struct ydoc *d, yaml_node_t *n, void *arg)
{
	struct pctx *c = arg;
	struct nj_bl_entry p = {.subject = c->si, .kind = NJ_BL_ASN};
	const char *s = yscalar(n);
	uint32_t asn;

	if (!s || parse_asn(s, &asn) < 0)
		return yerr(d, n, "ASN '%s' is not a number (AS64500 or 64500)", s ? s : "?");
	memcpy(p.val, &asn, sizeof(asn));
	return add_entry(d, n, c, &p, NULL);
}

static int hour_item(struct ydoc *d, yaml_node_t *n, void *arg)
{
	struct pctx *c = arg;
	const char *s = yscalar(n);
	unsigned lo, hi;
	char dash;

	if (s && !strcmp(s, "any")) {
		c->s->hours = 0xffffff;
		return 0;
	}
	if (s && sscanf(s, "%u%c%u", &lo, &dash, &hi) == 3 && dash == '-' && lo < 24 && hi < 24) {
		for (unsigned h = lo;; h = (h + 1) % 24) {
			c->s->hours |= 1u << h;
			if (h == hi)
				break;
		}
		return 0;
	}
	uint64_t v = 0;

	if (yu64(d, n, &v) < 0 || v > 23)
		return yerr(d, n, "hour must be 0..23, a range 8-18, or any");
	c->s->hours |= 1u << v;
	return 0;
}

static int profile_item(struct ydoc *d, yaml_node_t *n, void *arg)
{
	struct nj_bl_model *m = arg;
	yaml_node_t *g = ymap_get(d, n, "group"), *h = ymap_get(d, n, "host"), *x;
	struct nj_bl_skey k;
	struct pctx c = {.m = m};
	uint64_t v;

	if (!n || n->type != YAML_MAPPING_NODE)
		return yerr(d, n, "a profile must be a map with group: or host:");
	memset(&k, 0, sizeof(k));
	if (g && yscalar(g)) {
		int id = nj_bl_model_group(m, yscalar(g));

		if (id < 0)
			return yerr(d, g, "too many groups");
		k.group = (uint16_t)(id + 1);
	} else if (h && yscalar(h)) {
		uint8_t plen;

		if (nj_bl_cidr_parse(yscalar(h), k.addr, &k.ipv6, &plen) < 0 ||
		    plen != (k.ipv6 ? 128 : 32))
			return yerr(d, h, "host '%s' is not an address", yscalar(h));
	} else {
		return yerr(d, n, "a profile needs group: NAME or host: ADDRESS");
	}
	c.s = nj_bl_subject_get(m, &k, true);
	if (!c.s)
		return yerr(d, n, "more profiles than baseline.max-hosts");
	c.si = nj_bl_subject_index(m, c.s);
	if ((x = ymap_get(d, n, "flows")) && yu64(d, x, &v) < 0)
		return -1;
	if (x)
		c.s->flows += v;
	if ((x = ymap_get(d, n, "bytes"))) {
		yaml_node_t *y;

		if ((y = ymap_get(d, x, "max")) && yu64(d, y, &v) == 0 && v > c.s->bytes_max)
			c.s->bytes_max = v;
		if ((y = ymap_get(d, x, "p50")) && yu64(d, y, &v) == 0 && v > c.s->p50)
			c.s->p50 = v;
		if ((y = ymap_get(d, x, "p95")) && yu64(d, y, &v) == 0 && v > c.s->p95)
			c.s->p95 = v;
		if (d->err[0])
			return -1;
	}
	if (yeach(d, ymap_get(d, n, "hours"), hour_item, &c) < 0 ||
	    yentries(d, ymap_get(d, n, "peers"), peer_item, &c) < 0 ||
	    yentries(d, ymap_get(d, n, "services"), service_item, &c) < 0 ||
	    yentries(d, ymap_get(d, n, "countries"), country_item, &c) < 0 ||
	    yentries(d, ymap_get(d, n, "asns"), asn_item, &c) < 0)
		return -1;
	return 0;
}

static uint64_t parse_time(const char *s)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	if (!s)
		return 0;
	end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (!end || *end)
		return 0;
	return (uint64_t)timegm(&tm) * 1000000ULL;
}

int nj_bl_model_load(struct nj_bl_model *m, const char *path, char *err, size_t errlen)
{
	struct ydoc d;
	yaml_node_t *root, *x;
	int ret = -1;

	err[0] = 0;
	if (ydoc_load(&d, path, err, errlen) < 0)
		return -1;
	root = yaml_document_get_root_node(&d.doc);
	if (!root) {
		ret = 0; /* an empty file is an empty baseline */
		goto out;
	}
	if (root->type != YAML_MAPPING_NODE) {
		yerr(&d, root, "the baseline must be a map (version, learned, profiles)");
		goto out;
	}
	if ((x = ymap_get(&d, root, "version"))) {
		const char *v = yscalar(x);

		if (!v || strcmp(v, "1")) {
			yerr(&d, x, "unsupported baseline version '%s' (this reads 1)",
			     v ? v : "?");
			goto out;
		}
	}
	if ((x = ymap_get(&d, root, "learned"))) {
		yaml_node_t *y;
		uint64_t v, t;

		if ((y = ymap_get(&d, x, "flows")) && yu64(&d, y, &v) == 0)
			m->flows += v;
		if ((y = ymap_get(&d, x, "hosts-dropped")) && yu64(&d, y, &v) == 0)
			m->hosts_dropped += v;
		if ((y = ymap_get(&d, x, "entries-dropped")) && yu64(&d, y, &v) == 0)
			m->entries_dropped += v;
		if (err[0])
			goto out;
		t = parse_time(yscalar(ymap_get(&d, x, "first")));
		if (t && (!m->first_us || t < m->first_us))
			m->first_us = t;
		t = parse_time(yscalar(ymap_get(&d, x, "last")));
		if (t > m->last_us)
			m->last_us = t;
	}
	x = ymap_get(&d, root, "profiles");
	if (x && x->type != YAML_SEQUENCE_NODE &&
	    !(x->type == YAML_SCALAR_NODE && !*x->data.scalar.value)) {
		yerr(&d, x, "profiles must be a list");
		goto out;
	}
	if (yeach(&d, x, profile_item, m) < 0)
		goto out;
	ret = 0;
out:
	yaml_document_delete(&d.doc);
	return ret;
}

/* ------------------------------------------------------------------ baseline: write */

static int cmp_key(const struct nj_bl_model *m, const struct nj_bl_skey *a,
		   const struct nj_bl_skey *b)
{
	if (!!a->group != !!b->group)
		return a->group ? -1 : 1; /* groups first */
	if (a->group)
		return strcmp(m->groups[a->group - 1], m->groups[b->group - 1]);
	if (a->ipv6 != b->ipv6)
		return a->ipv6 - b->ipv6;
	return memcmp(a->addr, b->addr, 16);
}

static int cmp_subject(const void *x, const void *y, void *arg)
{
	const struct nj_bl_model *m = arg;
	const struct nj_bl_subject *a = *(const struct nj_bl_subject *const *)x;
	const struct nj_bl_subject *b = *(const struct nj_bl_subject *const *)y;

	return cmp_key(m, &a->key, &b->key);
}

static int cmp_entry(const void *x, const void *y)
{
	const struct nj_bl_entry *a = *(const struct nj_bl_entry *const *)x;
	const struct nj_bl_entry *b = *(const struct nj_bl_entry *const *)y;

	if (a->subject != b->subject)
		return a->subject < b->subject ? -1 : 1;
	if (a->kind != b->kind)
		return a->kind - b->kind;
	if (a->ipv6 != b->ipv6)
		return a->ipv6 - b->ipv6;
	if (a->proto != b->proto)
		return a->proto - b->proto;
	if (a->port != b->port)
		return a->port - b->port;
	if (a->kind == NJ_BL_ASN) {
		uint32_t u, v;

		memcpy(&u, a->val, 4);
		memcpy(&v, b->val, 4);
		return u < v ? -1 : u > v;
	}
	int c = memcmp(a->val, b->val, 16);

	return c ? c : a->plen - b->plen;
}

static void fmt_time(char *buf, size_t len, uint64_t us)
{
	time_t t = (time_t)(us / 1000000ULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void write_service(FILE *out, const struct nj_bl_entry *e)
{
	char pb[4];
	const char *names[NJ_BL_MAX_APPS];
	unsigned n = 0;

	if (!e->port && (e->proto == 6 || e->proto == 17 || e->proto == 132))
		fprintf(out, "      %s/any", nj_bl_proto_name(e->proto, pb));
	else
		fprintf(out, "      %s/%u", nj_bl_proto_name(e->proto, pb), e->port);
	if (e->napps > NJ_BL_MAX_APPS) {
		fputs("/any", out);
	} else {
		for (unsigned a = 0; a < e->napps; a++) {
			const char *an =
				e->apps[a] == NJ_BL_APP_ANY ? "any" : nj_app_proto_name(e->apps[a]);

			if (an)
				names[n++] = an;
		}
		qsort(names, n, sizeof(names[0]), cmp_str);
		for (unsigned a = 0; a < n; a++)
			fprintf(out, "%c%s", a ? '|' : '/', names[a]);
	}
	fprintf(out, ": %llu\n", (unsigned long long)e->flows);
}

static void write_entries(FILE *out, const struct nj_bl_entry *const *v, size_t n, uint8_t kind)
{
	static const char *const title[] = {NULL, "peers", "services", "countries", "asns"};
	bool any = false;

	for (size_t i = 0; i < n; i++) {
		const struct nj_bl_entry *e = v[i];
		char ab[INET6_ADDRSTRLEN];

		if (e->kind != kind)
			continue;
		if (!any)
			fprintf(out, "    %s:\n", title[kind]);
		any = true;
		switch (kind) {
		case NJ_BL_PEER:
			/* quoted: an IPv6 key holds colons */
			inet_ntop(e->ipv6 ? AF_INET6 : AF_INET, e->val, ab, sizeof(ab));
			if (e->plen != (e->ipv6 ? 128 : 32))
				fprintf(out, "      \"%s/%u\": %llu\n", ab, e->plen,
					(unsigned long long)e->flows);
			else
				fprintf(out, "      \"%s\": %llu\n", ab,
					(unsigned long long)e->flows);
			break;
		case NJ_BL_SERVICE: write_service(out, e); break;
		case NJ_BL_COUNTRY:
			fprintf(out, "      %c%c: %llu\n", e->val[0], e->val[1],
				(unsigned long long)e->flows);
			break;
		case NJ_BL_ASN: {
			uint32_t asn;

			memcpy(&asn, e->val, 4);
			fprintf(out, "      %u: %llu\n", asn, (unsigned long long)e->flows);
			break;
		}
		}
	}
}

/* YAML double-quoted string (group names come from the configuration). */
static void write_quoted(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', out);
		if ((unsigned char)*s < 0x20)
			fprintf(out, "\\x%02x", (unsigned char)*s);
		else
			fputc(*s, out);
	}
	fputc('"', out);
}

int nj_bl_model_write(const struct nj_bl_model *m, FILE *out)
{
	const struct nj_bl_subject **subs = calloc(m->nsubjects + 1, sizeof(*subs));
	const struct nj_bl_entry **ents = calloc(m->nentries + 1, sizeof(*ents));
	uint32_t *rank = calloc(m->nsubjects + 1, sizeof(*rank));
	size_t ne = 0, e0 = 0;
	char t1[32] = "", t2[32] = "";
	int ret = -ENOMEM;

	if (!subs || !ents || !rank)
		goto out;
	for (uint32_t i = 0; i < m->nsubjects; i++)
		subs[i] = &m->subjects[i];
	qsort_r(subs, m->nsubjects, sizeof(*subs), cmp_subject, (void *)m);
	for (uint32_t i = 0; i < m->nsubjects; i++)
		rank[nj_bl_subject_index(m, subs[i])] = i + 1;
	for (uint32_t i = 0; i <= m->emask && ne < m->nentries; i++)
		if (m->entries[i].subject)
			ents[ne++] = &m->entries[i];
	/* sort by the subject's rank: swap subject ids for ranks in a copy */
	struct nj_bl_entry *copy = calloc(ne + 1, sizeof(*copy));

	if (!copy)
		goto out;
	for (size_t i = 0; i < ne; i++) {
		copy[i] = *ents[i];
		copy[i].subject = rank[ents[i]->subject];
		ents[i] = &copy[i];
	}
	qsort(ents, ne, sizeof(*ents), cmp_entry);

	if (m->first_us)
		fmt_time(t1, sizeof(t1), m->first_us);
	if (m->last_us)
		fmt_time(t2, sizeof(t2), m->last_us);
	fprintf(out,
		"# Nightjar baseline (docs/baseline.md). Entries are value: flows seen.\n"
		"# Edit freely: add or remove peers (address or CIDR), services\n"
		"# (proto/port[/app_proto|...]; port any, app_proto any), countries, asns,\n"
		"# hours (0-23 UTC, ranges 8-18, any) and bytes.max. A list of values\n"
		"# (- 192.0.2.1) is read too. Comments are not kept when the file is rewritten.\n");
	fprintf(out, "version: 1\n");
	fprintf(out, "learned:\n  flows: %llu\n", (unsigned long long)m->flows);
	if (t1[0])
		fprintf(out, "  first: %s\n  last: %s\n", t1, t2);
	fprintf(out, "  hosts-dropped: %llu     # flows whose profile did not fit (max-hosts)\n",
		(unsigned long long)m->hosts_dropped);
	fprintf(out, "  entries-dropped: %llu   # entries that did not fit (max-entries*)\n",
		(unsigned long long)m->entries_dropped);
	fprintf(out, "profiles:%s\n", m->nsubjects ? "" : " []");
	for (uint32_t i = 0; i < m->nsubjects; i++) {
		const struct nj_bl_subject *s = subs[i];
		char ab[INET6_ADDRSTRLEN];
		size_t e1 = e0;
		bool first = true;

		if (s->key.group) {
			fputs("  - group: ", out);
			write_quoted(out, m->groups[s->key.group - 1]);
			fputc('\n', out);
		} else {
			inet_ntop(s->key.ipv6 ? AF_INET6 : AF_INET, s->key.addr, ab, sizeof(ab));
			fprintf(out, "  - host: %s\n", ab);
		}
		fprintf(out, "    flows: %llu\n", (unsigned long long)s->flows);
		fputs("    hours: [", out);
		for (unsigned h = 0; h < 24; h++) {
			if (s->hours & (1u << h)) {
				fprintf(out, "%s%u", first ? "" : ", ", h);
				first = false;
			}
		}
		fputs("]\n", out);
		fprintf(out, "    bytes: {p50: %llu, p95: %llu, max: %llu}\n",
			(unsigned long long)nj_bl_subject_pct(s, 50),
			(unsigned long long)nj_bl_subject_pct(s, 95),
			(unsigned long long)s->bytes_max);
		while (e1 < ne && ents[e1]->subject == i + 1)
			e1++;
		for (uint8_t k = NJ_BL_PEER; k <= NJ_BL_ASN; k++)
			write_entries(out, ents + e0, e1 - e0, k);
		e0 = e1;
	}
	free(copy);
	ret = ferror(out) ? -EIO : 0;
out:
	free(subs);
	free(ents);
	free(rank);
	return ret;
}

int nj_bl_model_save(const struct nj_bl_model *m, const char *path)
{
	char tmp[NJ_BASELINE_PATH_MAX + 16];
	FILE *fp;
	int ret;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return -ENAMETOOLONG;
	fp = fopen(tmp, "w");
	if (!fp)
		return -errno;
	ret = nj_bl_model_write(m, fp);
	if (fflush(fp) != 0 && !ret)
		ret = -errno;
	if (!ret && fsync(fileno(fp)) != 0)
		ret = -errno;
	if (fclose(fp) != 0 && !ret)
		ret = -errno;
	if (!ret && rename(tmp, path) != 0)
		ret = -errno;
	if (ret)
		unlink(tmp);
	return ret;
}

/* ------------------------------------------------------------------ policy */

static int policy_service(struct ydoc *d, yaml_node_t *n, struct nj_bl_policy *p)
{
	struct nj_bl_entry e = {0};
	char err[200];

	p->proto = 0;
	p->port = 0;
	p->app = NJ_BL_APP_ANY;
	if (!n)
		return 0;
	if (yscalar(n)) {
		if (!strcmp(yscalar(n), "any"))
			return 0;
		if (nj_bl_service_parse(yscalar(n), &e, err, sizeof(err)) < 0)
			return yerr(d, n, "%s", err);
		p->proto = e.proto;
		p->port = e.port;
		if (e.napps == 1)
			p->app = e.apps[0];
		else if (e.napps > 1 && e.napps <= NJ_BL_MAX_APPS)
			return yerr(d, n, "a policy service names one app_proto (or any)");
		return 0;
	}
	if (n->type != YAML_MAPPING_NODE)
		return yerr(d, n, "service: proto/port/app_proto or {proto, port, app_proto}");
	const char *s;
	uint64_t v;
	yaml_node_t *x;

	if ((s = yscalar(ymap_get(d, n, "proto"))) && strcmp(s, "any") &&
	    nj_bl_proto_parse(s, &p->proto) < 0)
		return yerr(d, n, "unknown protocol '%s'", s);
	if ((x = ymap_get(d, n, "port")) && (!yscalar(x) || strcmp(yscalar(x), "any"))) {
		if (yu64(d, x, &v) < 0 || v > 65535)
			return yerr(d, x, "port must be 0..65535 or any");
		p->port = (uint16_t)v;
	}
	if ((s = yscalar(ymap_get(d, n, "app_proto"))) && nj_bl_app_parse(s, &p->app) < 0)
		return yerr(d, n, "unknown app_proto '%s'", s);
	return 0;
}

static int policy_to(struct ydoc *d, yaml_node_t *n, struct nj_baseline_ctx *ctx,
		     struct nj_bl_policy *p)
{
	const char *s = yscalar(n);
	char err[256];

	p->to_kind = NJ_BL_TO_ANY;
	if (!n || (s && !strcmp(s, "any")))
		return 0;
	if (!s)
		return yerr(d, n, "to: an address set, a country (GB), an ASN (AS64500) or any");
	if (strlen(s) == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z') {
		p->to_kind = NJ_BL_TO_COUNTRY;
		memcpy(p->country, s, 2);
		return 0;
	}
	if (!strncasecmp(s, "AS", 2) && parse_asn(s, &p->asn) == 0) {
		p->to_kind = NJ_BL_TO_ASN;
		return 0;
	}
	p->to = nj_bl_addrs(ctx, s, err, sizeof(err));
	if (!p->to)
		return yerr(d, n, "to: %s", err);
	p->to_kind = NJ_BL_TO_ADDRS;
	return 0;
}

static int policy_from(struct ydoc *d, yaml_node_t *n, struct nj_baseline_ctx *ctx,
		       struct nj_bl_policy *p)
{
	const char *s = yscalar(n);
	char err[256];

	p->from_group = -1;
	p->from = NULL;
	if (!n || (s && !strcmp(s, "any")))
		return 0;
	if (!s)
		return yerr(d, n, "from: a group name, an address set or any");
	for (unsigned g = 0; g < ctx->cfg.ngroups; g++) {
		if (!strcmp(ctx->cfg.groups[g].name, s)) {
			p->from_group = (int)g;
			return 0;
		}
	}
	p->from = nj_bl_addrs(ctx, s, err, sizeof(err));
	if (!p->from)
		return yerr(d, n,
			    "from: '%s' is neither a group (baseline.groups) nor an address "
			    "set: %s",
			    s, err);
	return 0;
}

static int policy_item(struct ydoc *d, yaml_node_t *n, void *arg)
{
	struct nj_baseline_ctx *ctx = arg;
	struct nj_bl_policy *p, *np;
	const char *name, *just, *appr;

	if (!n || n->type != YAML_MAPPING_NODE)
		return yerr(d, n,
			    "a policy entry is a map (name, from, to, service, "
			    "justification, approval)");
	name = yscalar(ymap_get(d, n, "name"));
	just = yscalar(ymap_get(d, n, "justification"));
	appr = yscalar(ymap_get(d, n, "approval"));
	if (!name || !*name || strlen(name) >= NJ_BASELINE_NAME_MAX)
		return yerr(d, n, "a policy entry needs a name (at most 47 characters)");
	/* an approved communication without its reasons is not an approval */
	if (!just || !*just)
		return yerr(d, n, "policy '%s' has no justification", name);
	if (!appr || !*appr)
		return yerr(d, n, "policy '%s' has no approval reference", name);
	np = realloc(ctx->policies, (ctx->npolicies + 1) * sizeof(*np));
	if (!np)
		return yerr(d, n, "out of memory");
	ctx->policies = np;
	p = &ctx->policies[ctx->npolicies];
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->line = (int)n->start_mark.line + 1;
	p->justification = strdup(just);
	p->approval = strdup(appr);
	ctx->npolicies++; /* freed with ctx even if the rest fails */
	if (!p->justification || !p->approval)
		return yerr(d, n, "out of memory");
	if (policy_from(d, ymap_get(d, n, "from"), ctx, p) < 0 ||
	    policy_to(d, ymap_get(d, n, "to"), ctx, p) < 0 ||
	    policy_service(d, ymap_get(d, n, "service"), p) < 0)
		return -1;
	return 0;
}

int nj_bl_policy_load(struct nj_baseline_ctx *ctx, const char *path, char *err, size_t errlen)
{
	struct ydoc d;
	yaml_node_t *root, *list;
	int ret = -1;

	err[0] = 0;
	if (ydoc_load(&d, path, err, errlen) < 0)
		return -1;
	root = yaml_document_get_root_node(&d.doc);
	if (!root) {
		ret = 0;
		goto out;
	}
	list = root->type == YAML_MAPPING_NODE ? ymap_get(&d, root, "policy") : root;
	if (!list || (list->type != YAML_SEQUENCE_NODE &&
		      !(list->type == YAML_SCALAR_NODE && !*list->data.scalar.value))) {
		yerr(&d, root,
		     "want policy: [ {name, from, to, service, justification, approval} ]");
		goto out;
	}
	if (yeach(&d, list, policy_item, ctx) < 0)
		goto out;
	ret = 0;
out:
	yaml_document_delete(&d.doc);
	return ret;
}
