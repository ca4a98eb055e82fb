/* SPDX-License-Identifier: MIT */
/*
 * Baseline tables, configuration, learning and checking (baseline.h has the
 * model; docs/baseline.md the rules).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "baseline_priv.h"
#include "common/nj_common.h"
#include "config/config.h"
#include "dataplane/flow.h"
#include "detect/detect.h"
#include "detect/detect_int.h"
#include "export/eve.h"
#include "export/json.h"
#include "parsers/applayer.h"

NJ_CONF_KEY(blmode, "baseline.mode", NJ_CT_STR, "off",
	    "off, learn (build the baseline file from the flows) or detect (report flows that are "
	    "neither in the baseline nor allowed by the policy).")
NJ_CONF_KEY(blfile, "baseline.file", NJ_CT_STR, "baseline.yaml",
	    "Baseline YAML: written at the end of a learn run (atomically), read in detect mode.")
NJ_CONF_KEY(blpolicy, "baseline.policy", NJ_CT_STR, "",
	    "Policy YAML of approved communications (name, from, to, service, justification, "
	    "approval); empty: none.")
NJ_CONF_KEY(blhosts, "baseline.hosts", NJ_CT_STR, "$HOME_NET",
	    "Addresses that get a profile (rule address syntax); the other side of their flows is "
	    "the peer.")
NJ_CONF_KEY(blgroups, "baseline.groups", NJ_CT_MAP, "none",
	    "Host groups: name: address set (string or list). A host in a group shares the "
	    "group's profile; the first matching group wins.")
NJ_CONF_KEY(blmaxh, "baseline.max-hosts", NJ_CT_INT, "4096",
	    "Profiles (hosts and groups) per worker and in the merged baseline (full: counted).")
NJ_CONF_KEY(blmaxe, "baseline.max-entries", NJ_CT_INT, "65536",
	    "Peers, services, countries and ASNs per worker and in the merged baseline.")
NJ_CONF_KEY(blmaxeh, "baseline.max-entries-per-host", NJ_CT_INT, "256",
	    "Entries per profile (more: counted as entries dropped).")
NJ_CONF_KEY(blmaxr, "baseline.max-reports", NJ_CT_INT, "16384",
	    "(profile, new thing) pairs remembered per worker to report each once.")
NJ_CONF_KEY(blminf, "baseline.min-flows", NJ_CT_INT, "20",
	    "Flows a profile needs in the baseline before unusual volume and hour are reported.")
NJ_CONF_KEY(blslack, "baseline.hour-slack", NJ_CT_INT, "1",
	    "An hour of day (UTC) within this many hours of a learned one is usual.")
NJ_CONF_KEY(blvol, "baseline.volume-factor", NJ_CT_STR, "4",
	    "A flow with more than this times the profile's largest learned flow (bytes) is "
	    "unusual.")
NJ_CONF_KEY(blwrite, "baseline.write-interval", NJ_CT_INT, "600",
	    "Learn mode, live capture: seconds between writes of the baseline file (each a merge "
	    "of per-worker snapshots); 0: only at exit. Offline runs write at the end of the file.")
NJ_CONF_KEY(blgeo, "baseline.geo-static", NJ_CT_LIST, "none",
	    "Static country/ASN answers when no GeoIP hook is wired: a list of \"ADDRESSES CC "
	    "[ASN]\" (first match wins), e.g. \"203.0.113.0/24 GB AS64500\".")
NJ_CONF_KEY(bllog, "baseline.log-allowed", NJ_CT_BOOL, "no",
	    "Write an anomaly event (type policy, event allowed) with the policy entry's name, "
	    "justification and approval for each (profile, entry) a policy allowed.")

const char *const nj_bl_reason_names[NJ_BL_REASON_MAX] = {
	"new_host",    "new_country",	 "new_asn",	 "new_peer",
	"new_service", "unusual_volume", "unusual_hour",
};

/* ------------------------------------------------------------------ config */

void nj_baseline_config_defaults(struct nj_baseline_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->mode = NJ_BASELINE_OFF;
	snprintf(cfg->file, sizeof(cfg->file), "baseline.yaml");
	snprintf(cfg->hosts, sizeof(cfg->hosts), "$HOME_NET");
	cfg->max_hosts = 4096;
	cfg->max_entries = 65536;
	cfg->max_entries_per_host = 256;
	cfg->max_reports = 16384;
	cfg->min_flows = 20;
	cfg->hour_slack = 1;
	cfg->volume_factor = 4.0;
	cfg->write_interval_s = 600;
}

static int conf_err(const struct nj_conf *c, const char *path, const char *what)
{
	const struct nj_conf_node *n = nj_conf_get(c, path);

	NJ_ERR("%s:%d: %s: %s", n && n->file ? n->file : "?", n ? n->line : 0, path, what);
	return -1;
}

static int conf_u32(const struct nj_conf *c, const char *path, int64_t min, int64_t max,
		    uint32_t *out)
{
	int64_t v = *out;
	int r = nj_conf_int(c, NULL, path, min, max, &v);

	if (r < 0)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int conf_path(const struct nj_conf *c, const char *path, char *out, size_t len)
{
	const char *s = NULL;
	int r = nj_conf_str(c, NULL, path, &s);

	if (r < 0)
		return -1;
	if (r == 0) {
		if (strlen(s) >= len)
			return conf_err(c, path, "too long");
		snprintf(out, len, "%s", s);
	}
	return 0;
}

/* A group's addresses: a string, or a list joined into one set. */
static int group_load(const struct nj_conf *c, const struct nj_conf_node *n,
		      struct nj_baseline_group_config *g)
{
	size_t used = 0;

	if (strlen(n->key) >= sizeof(g->name)) {
		NJ_ERR("%s:%d: baseline.groups: name too long: %s", n->file ? n->file : "?",
		       n->line, n->key);
		return -1;
	}
	snprintf(g->name, sizeof(g->name), "%s", n->key);
	if (n->kind == NJ_CONF_SCALAR && n->value) {
		if (strlen(n->value) >= sizeof(g->addrs))
			goto out_long;
		snprintf(g->addrs, sizeof(g->addrs), "%s", n->value);
		return 0;
	}
	if (n->kind != NJ_CONF_SEQ)
		goto out_bad;
	used = (size_t)snprintf(g->addrs, sizeof(g->addrs), "[");
	for (const struct nj_conf_node *i = n->child; i; i = i->next) {
		if (i->kind != NJ_CONF_SCALAR || !i->value)
			goto out_bad;
		used += (size_t)snprintf(g->addrs + used, sizeof(g->addrs) - used, "%s%s",
					 i == n->child ? "" : ",", i->value);
		if (used >= sizeof(g->addrs) - 2)
			goto out_long;
	}
	snprintf(g->addrs + used, sizeof(g->addrs) - used, "]");
	(void)c;
	return 0;
out_long:
	NJ_ERR("%s:%d: baseline.groups.%s: address list too long", n->file ? n->file : "?", n->line,
	       n->key);
	return -1;
out_bad:
	NJ_ERR("%s:%d: baseline.groups.%s: must be an address set or a list of addresses",
	       n->file ? n->file : "?", n->line, n->key);
	return -1;
}

/* "ADDRESSES CC [ASN]" */
static int geo_load(const struct nj_conf_node *n, struct nj_baseline_geo_config *g)
{
	char addrs[128], cc[8], asn[24];
	int k;

	if (n->kind != NJ_CONF_SCALAR || !n->value)
		goto out_bad;
	k = sscanf(n->value, "%127s %7s %23s", addrs, cc, asn);
	if (k < 2 || strlen(cc) != 2 || cc[0] < 'A' || cc[0] > 'Z' || cc[1] < 'A' || cc[1] > 'Z')
		goto out_bad;
	snprintf(g->addrs, sizeof(g->addrs), "%s", addrs);
	memcpy(g->cc, cc, 3);
	g->asn = 0;
	if (k == 3) {
		const char *s = strncasecmp(asn, "AS", 2) ? asn : asn + 2;
		char *end;
		unsigned long v = strtoul(s, &end, 10);

		if (end == s || *end || !v || v > 0xffffffffUL)
			goto out_bad;
		g->asn = (uint32_t)v;
	}
	return 0;
out_bad:
	NJ_ERR("%s:%d: baseline.geo-static: want \"ADDRESSES CC [ASN]\" (203.0.113.0/24 GB "
	       "AS64500)",
	       n->file ? n->file : "?", n->line);
	return -1;
}

int nj_baseline_config_load(struct nj_baseline_config *cfg, const struct nj_conf *c)
{
	struct nj_baseline_config k = *cfg;
	const struct nj_conf_node *g;
	const char *s = NULL;
	int r;

	if (!c)
		return 0;
	r = nj_conf_str(c, NULL, "baseline.mode", &s);
	if (r < 0)
		return -1;
	if (r == 0) {
		if (!strcmp(s, "off") || !strcmp(s, "no"))
			k.mode = NJ_BASELINE_OFF;
		else if (!strcmp(s, "learn"))
			k.mode = NJ_BASELINE_LEARN;
		else if (!strcmp(s, "detect"))
			k.mode = NJ_BASELINE_DETECT;
		else
			return conf_err(c, "baseline.mode", "must be off, learn or detect");
	}
	if (conf_path(c, "baseline.file", k.file, sizeof(k.file)) < 0 ||
	    conf_path(c, "baseline.policy", k.policy, sizeof(k.policy)) < 0 ||
	    conf_path(c, "baseline.hosts", k.hosts, sizeof(k.hosts)) < 0 ||
	    conf_u32(c, "baseline.max-hosts", 1, 100000000, &k.max_hosts) < 0 ||
	    conf_u32(c, "baseline.max-entries", 1, 100000000, &k.max_entries) < 0 ||
	    conf_u32(c, "baseline.max-entries-per-host", 1, 100000000, &k.max_entries_per_host) <
		    0 ||
	    conf_u32(c, "baseline.max-reports", 16, 100000000, &k.max_reports) < 0 ||
	    conf_u32(c, "baseline.min-flows", 0, 1000000000, &k.min_flows) < 0 ||
	    conf_u32(c, "baseline.hour-slack", 0, 12, &k.hour_slack) < 0 ||
	    conf_u32(c, "baseline.write-interval", 0, 86400 * 365, &k.write_interval_s) < 0 ||
	    nj_conf_bool(c, NULL, "baseline.log-allowed", &k.log_allowed) < 0)
		return -1;
	r = nj_conf_str(c, NULL, "baseline.volume-factor", &s);
	if (r < 0)
		return -1;
	if (r == 0) {
		char *end;
		double v = strtod(s, &end);

		if (end == s || *end || !(v >= 1.0 && v <= 1e9))
			return conf_err(c, "baseline.volume-factor", "must be a number >= 1");
		k.volume_factor = v;
	}
	g = nj_conf_get(c, "baseline.groups");
	if (g) {
		if (g->kind != NJ_CONF_MAP)
			return conf_err(c, "baseline.groups", "must be a map of name: addresses");
		k.ngroups = 0;
		for (const struct nj_conf_node *i = g->child; i; i = i->next) {
			if (k.ngroups == NJ_BASELINE_MAX_GROUPS)
				return conf_err(c, "baseline.groups",
						"too many groups (64 at most)");
			if (group_load(c, i, &k.groups[k.ngroups]) < 0)
				return -1;
			k.ngroups++;
		}
	}
	g = nj_conf_get(c, "baseline.geo-static");
	if (g && !(g->kind == NJ_CONF_SCALAR && (!g->value || !*g->value))) {
		if (g->kind != NJ_CONF_SEQ)
			return conf_err(c, "baseline.geo-static", "must be a list");
		k.ngeo = 0;
		for (const struct nj_conf_node *i = g->child; i; i = i->next) {
			if (k.ngeo == NJ_BASELINE_MAX_GEO)
				return conf_err(c, "baseline.geo-static", "64 entries at most");
			if (geo_load(i, &k.geo[k.ngeo]) < 0)
				return -1;
			k.ngeo++;
		}
	}
	*cfg = k;
	return 0;
}

/* ------------------------------------------------------------------ tables */

static uint32_t pow2_at_least(uint64_t n)
{
	uint32_t p = 16;

	while (p < n && p < (1u << 31))
		p <<= 1;
	return p;
}

struct nj_bl_model *nj_bl_model_create(uint32_t max_subjects, uint32_t max_entries,
				       uint32_t max_per_subject)
{
	struct nj_bl_model *m = calloc(1, sizeof(*m));
	uint32_t ss, es;

	if (!m)
		return NULL;
	m->max_subjects = max_subjects ? max_subjects : 1;
	m->max_entries = max_entries ? max_entries : 1;
	m->max_per_subject = max_per_subject ? max_per_subject : 1;
	ss = pow2_at_least((uint64_t)m->max_subjects * 2);
	es = pow2_at_least((uint64_t)m->max_entries * 2);
	m->subjects = calloc(m->max_subjects, sizeof(*m->subjects));
	m->shash = calloc(ss, sizeof(*m->shash));
	m->entries = calloc(es, sizeof(*m->entries));
	if (!m->subjects || !m->shash || !m->entries) {
		nj_bl_model_free(m);
		return NULL;
	}
	m->smask = ss - 1;
	m->emask = es - 1;
	return m;
}

void nj_bl_model_free(struct nj_bl_model *m)
{
	if (!m)
		return;
	free(m->subjects);
	free(m->shash);
	free(m->entries);
	free(m->pslots);
	free(m);
}

void nj_bl_model_reset(struct nj_bl_model *m)
{
	memset(m->subjects, 0, (size_t)m->max_subjects * sizeof(*m->subjects));
	memset(m->shash, 0, ((size_t)m->smask + 1) * sizeof(*m->shash));
	memset(m->entries, 0, ((size_t)m->emask + 1) * sizeof(*m->entries));
	m->nsubjects = m->nentries = m->nprefix = 0;
	m->flows = m->hosts_dropped = m->entries_dropped = 0;
	m->first_us = m->last_us = 0;
}

void nj_bl_model_copy(struct nj_bl_model *dst, const struct nj_bl_model *src)
{
	struct nj_bl_subject *s = dst->subjects;
	uint32_t *sh = dst->shash;
	struct nj_bl_entry *e = dst->entries;

	memcpy(s, src->subjects, (size_t)src->nsubjects * sizeof(*s));
	memcpy(sh, src->shash, ((size_t)src->smask + 1) * sizeof(*sh));
	uint32_t *ps = dst->pslots;

	memcpy(e, src->entries, ((size_t)src->emask + 1) * sizeof(*e));
	/* learning tables (what is copied) hold no prefixes; a model that does keeps them only
	 * if dst already has room */
	if (ps && src->nprefix)
		memcpy(ps, src->pslots, (size_t)src->nprefix * sizeof(*ps));
	*dst = *src;
	dst->subjects = s;
	dst->shash = sh;
	dst->entries = e;
	dst->pslots = ps;
	if (!ps)
		dst->nprefix = 0;
}

int nj_bl_model_group(struct nj_bl_model *m, const char *name)
{
	for (unsigned i = 0; i < m->ngroups; i++)
		if (!strcmp(m->groups[i], name))
			return (int)i;
	if (m->ngroups == NJ_BASELINE_MAX_GROUPS || strlen(name) >= NJ_BASELINE_NAME_MAX)
		return -1;
	snprintf(m->groups[m->ngroups], NJ_BASELINE_NAME_MAX, "%s", name);
	return (int)m->ngroups++;
}

static uint32_t subject_slot(const struct nj_bl_model *m, const struct nj_bl_skey *k, bool *found)
{
	uint32_t i = (uint32_t)nj_bl_hash(k, sizeof(*k), 0xcbf29ce484222325ULL) & m->smask;

	for (;;) {
		uint32_t v = m->shash[i];

		if (!v) {
			*found = false;
			return i;
		}
		if (!memcmp(&m->subjects[v - 1].key, k, sizeof(*k))) {
			*found = true;
			return i;
		}
		i = (i + 1) & m->smask;
	}
}

const struct nj_bl_subject *nj_bl_subject_find(const struct nj_bl_model *m,
					       const struct nj_bl_skey *k)
{
	bool found;
	uint32_t i = subject_slot(m, k, &found);

	return found ? &m->subjects[m->shash[i] - 1] : NULL;
}

struct nj_bl_subject *nj_bl_subject_get(struct nj_bl_model *m, const struct nj_bl_skey *k,
					bool create)
{
	bool found;
	uint32_t i = subject_slot(m, k, &found);
	struct nj_bl_subject *s;

	if (found)
		return &m->subjects[m->shash[i] - 1];
	if (!create || m->nsubjects == m->max_subjects)
		return NULL;
	s = &m->subjects[m->nsubjects++];
	memset(s, 0, sizeof(*s));
	s->key = *k;
	m->shash[i] = m->nsubjects;
	return s;
}

/* The bytes of an entry that make its identity. */
struct entry_key {
	uint32_t subject;
	uint8_t kind, ipv6, plen, proto;
	uint16_t port;
	uint8_t val[16];
};

static void entry_key(const struct nj_bl_entry *e, struct entry_key *k)
{
	memset(k, 0, sizeof(*k));
	k->subject = e->subject;
	k->kind = e->kind;
	k->ipv6 = e->ipv6;
	k->plen = e->plen;
	k->proto = e->proto;
	k->port = e->port;
	memcpy(k->val, e->val, sizeof(k->val));
}

static uint32_t entry_slot(const struct nj_bl_model *m, const struct nj_bl_entry *e, bool *found)
{
	struct entry_key k, o;
	uint32_t i;

	entry_key(e, &k);
	i = (uint32_t)nj_bl_hash(&k, sizeof(k), 0x84222325cbf29ce4ULL) & m->emask;
	for (;;) {
		const struct nj_bl_entry *x = &m->entries[i];

		if (!x->subject) {
			*found = false;
			return i;
		}
		entry_key(x, &o);
		if (!memcmp(&o, &k, sizeof(k))) {
			*found = true;
			return i;
		}
		i = (i + 1) & m->emask;
	}
}

const struct nj_bl_entry *nj_bl_entry_find(const struct nj_bl_model *m, const struct nj_bl_entry *e)
{
	bool found;
	uint32_t i = entry_slot(m, e, &found);

	return found ? &m->entries[i] : NULL;
}

struct nj_bl_entry *nj_bl_entry_get(struct nj_bl_model *m, const struct nj_bl_entry *e, bool create)
{
	bool found;
	uint32_t i = entry_slot(m, e, &found);
	struct nj_bl_subject *s;
	struct nj_bl_entry *x = &m->entries[i];

	if (found)
		return x;
	if (!create)
		return NULL;
	s = &m->subjects[e->subject - 1];
	if (m->nentries >= m->max_entries || s->nentries >= m->max_per_subject) {
		m->entries_dropped++;
		return NULL;
	}
	if (e->kind == NJ_BL_PEER && e->plen != (e->ipv6 ? 128 : 32)) {
		if (!m->pslots)
			m->pslots = calloc(m->max_entries, sizeof(*m->pslots));
		if (!m->pslots) {
			m->entries_dropped++;
			return NULL;
		}
		m->pslots[m->nprefix++] = i;
	}
	*x = *e;
	x->napps = 0;
	x->flows = 0;
	m->nentries++;
	s->nentries++;
	if (e->kind == NJ_BL_COUNTRY)
		s->ncountries++;
	else if (e->kind == NJ_BL_ASN)
		s->nasns++;
	return x;
}

void nj_bl_entry_add_app(struct nj_bl_entry *e, uint16_t app)
{
	if (e->napps > NJ_BL_MAX_APPS)
		return; /* already any */
	if (app == NJ_BL_APP_ANY) {
		e->napps = NJ_BL_MAX_APPS + 1;
		return;
	}
	for (unsigned i = 0; i < e->napps; i++)
		if (e->apps[i] == app)
			return;
	if (e->napps == NJ_BL_MAX_APPS) {
		e->napps = NJ_BL_MAX_APPS + 1; /* too many to be telling: any */
		return;
	}
	e->apps[e->napps++] = app;
}

static unsigned bucket_of(uint64_t bytes)
{
	unsigned b = bytes ? 64 - (unsigned)__builtin_clzll(bytes) : 0;

	return b < NJ_BL_HBUCKETS ? b : NJ_BL_HBUCKETS - 1;
}

void nj_bl_subject_add_bytes(struct nj_bl_subject *s, uint64_t bytes)
{
	s->hist[bucket_of(bytes)]++;
	if (bytes > s->bytes_max)
		s->bytes_max = bytes;
}

uint64_t nj_bl_subject_pct(const struct nj_bl_subject *s, unsigned pct)
{
	uint64_t n = 0, want, acc = 0;

	for (unsigned i = 0; i < NJ_BL_HBUCKETS; i++)
		n += s->hist[i];
	if (!n)
		return pct >= 95 ? s->p95 : s->p50;
	want = (n * pct + 99) / 100;
	for (unsigned i = 0; i < NJ_BL_HBUCKETS; i++) {
		acc += s->hist[i];
		if (acc >= want) {
			/* the bucket's upper bound, capped by the largest flow */
			uint64_t hi = i ? (i >= 63 ? UINT64_MAX : (1ULL << i) - 1) : 0;

			return hi < s->bytes_max ? hi : s->bytes_max;
		}
	}
	return s->bytes_max;
}

int nj_bl_model_merge(struct nj_bl_model *dst, const struct nj_bl_model *src)
{
	int gmap[NJ_BASELINE_MAX_GROUPS];

	for (unsigned g = 0; g < src->ngroups; g++) {
		gmap[g] = nj_bl_model_group(dst, src->groups[g]);
		if (gmap[g] < 0)
			return -ENOSPC;
	}
	uint32_t *smap = calloc(src->nsubjects + 1, sizeof(*smap));

	if (!smap)
		return -ENOMEM;
	for (uint32_t i = 0; i < src->nsubjects; i++) {
		const struct nj_bl_subject *s = &src->subjects[i];
		struct nj_bl_skey k = s->key;
		struct nj_bl_subject *d;

		if (k.group)
			k.group = (uint16_t)(gmap[k.group - 1] + 1);
		d = nj_bl_subject_get(dst, &k, true);
		if (!d) {
			dst->hosts_dropped += s->flows;
			continue;
		}
		smap[i + 1] = nj_bl_subject_index(dst, d);
		d->hours |= s->hours;
		d->flows += s->flows;
		if (s->bytes_max > d->bytes_max)
			d->bytes_max = s->bytes_max;
		if (s->p50 > d->p50)
			d->p50 = s->p50;
		if (s->p95 > d->p95)
			d->p95 = s->p95;
		for (unsigned b = 0; b < NJ_BL_HBUCKETS; b++)
			d->hist[b] += s->hist[b];
	}
	for (uint32_t i = 0; i <= src->emask; i++) {
		const struct nj_bl_entry *e = &src->entries[i];
		struct nj_bl_entry p, *d;

		if (!e->subject || !smap[e->subject])
			continue;
		p = *e;
		p.subject = smap[e->subject];
		d = nj_bl_entry_get(dst, &p, true);
		if (!d)
			continue;
		d->flows += e->flows;
		if (e->kind == NJ_BL_SERVICE) {
			if (e->napps > NJ_BL_MAX_APPS)
				nj_bl_entry_add_app(d, NJ_BL_APP_ANY);
			for (unsigned a = 0; a < e->napps && a < NJ_BL_MAX_APPS; a++)
				nj_bl_entry_add_app(d, e->apps[a]);
		}
	}
	free(smap);
	dst->flows += src->flows;
	dst->hosts_dropped += src->hosts_dropped;
	dst->entries_dropped += src->entries_dropped;
	if (src->first_us && (!dst->first_us || src->first_us < dst->first_us))
		dst->first_us = src->first_us;
	if (src->last_us > dst->last_us)
		dst->last_us = src->last_us;
	return 0;
}

void nj_bl_model_stats(const struct nj_bl_model *m, struct nj_bl_model_stats *st)
{
	st->flows = m->flows;
	st->hosts_dropped = m->hosts_dropped;
	st->entries_dropped = m->entries_dropped;
	st->subjects = m->nsubjects;
	st->entries = m->nentries;
}

bool nj_bl_prefix_match(const uint8_t *a, const uint8_t *b, unsigned plen)
{
	unsigned full = plen / 8, rem = plen % 8;

	if (memcmp(a, b, full))
		return false;
	if (!rem)
		return true;
	return ((a[full] ^ b[full]) & (uint8_t)(0xff << (8 - rem))) == 0;
}

/* ------------------------------------------------------------------ context */

const struct nj_detect_addrs *nj_bl_addrs(struct nj_baseline_ctx *ctx, const char *text, char *err,
					  size_t errlen)
{
	return nj_detect_addrs_get(ctx->arena, text, err, errlen);
}

struct nj_baseline_ctx *nj_baseline_ctx_create(const struct nj_baseline_config *cfg,
					       const struct nj_conf *conf, char *err, size_t errlen)
{
	struct nj_baseline_ctx *ctx = calloc(1, sizeof(*ctx));
	char e[256];

	if (!ctx) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	ctx->cfg = *cfg;
	ctx->arena = nj_detect_rules_new(conf);
	if (!ctx->arena) {
		snprintf(err, errlen, "out of memory");
		goto out_free;
	}
	ctx->hosts = nj_bl_addrs(ctx, cfg->hosts, e, sizeof(e));
	if (!ctx->hosts) {
		snprintf(err, errlen, "baseline.hosts: %s", e);
		goto out_free;
	}
	ctx->model =
		nj_bl_model_create(cfg->max_hosts, cfg->max_entries, cfg->max_entries_per_host);
	if (!ctx->model) {
		snprintf(err, errlen, "out of memory for the baseline tables");
		goto out_free;
	}
	for (unsigned g = 0; g < cfg->ngroups; g++) {
		ctx->group_addrs[g] = nj_bl_addrs(ctx, cfg->groups[g].addrs, e, sizeof(e));
		if (!ctx->group_addrs[g]) {
			snprintf(err, errlen, "baseline.groups.%s: %s", cfg->groups[g].name, e);
			goto out_free;
		}
		if (nj_bl_model_group(ctx->model, cfg->groups[g].name) != (int)g) {
			snprintf(err, errlen, "baseline.groups: duplicate group %s",
				 cfg->groups[g].name);
			goto out_free;
		}
	}
	for (unsigned i = 0; i < cfg->ngeo; i++) {
		ctx->geo_addrs[i] = nj_bl_addrs(ctx, cfg->geo[i].addrs, e, sizeof(e));
		if (!ctx->geo_addrs[i]) {
			snprintf(err, errlen, "baseline.geo-static: %s", e);
			goto out_free;
		}
	}
	if (cfg->policy[0] && nj_bl_policy_load(ctx, cfg->policy, err, errlen) < 0)
		goto out_free;
	if (cfg->mode == NJ_BASELINE_DETECT &&
	    nj_bl_model_load(ctx->model, cfg->file, err, errlen) < 0)
		goto out_free;
	return ctx;
out_free:
	nj_baseline_ctx_free(ctx);
	return NULL;
}

void nj_baseline_ctx_free(struct nj_baseline_ctx *ctx)
{
	if (!ctx)
		return;
	for (unsigned i = 0; i < ctx->npolicies; i++) {
		free(ctx->policies[i].justification);
		free(ctx->policies[i].approval);
	}
	free(ctx->policies);
	nj_bl_model_free(ctx->model);
	nj_detect_rules_free(ctx->arena);
	free(ctx);
}

const struct nj_bl_model *nj_baseline_ctx_model(const struct nj_baseline_ctx *ctx)
{
	return ctx->model;
}

/* ------------------------------------------------------------------ per core */

struct nj_baseline {
	const struct nj_baseline_ctx *ctx;
	struct nj_eve_worker *eve;
	struct nj_bl_model *learn; /* learn mode: this core's table */
	struct nj_bl_model *snap;  /* periodic writes: copy of learn for the control thread */
	uint32_t snap_req;	   /* written by the control thread */
	uint32_t snap_done;	   /* written by this core: the request answered */
	uint64_t *reported;	   /* hashes of (profile, new thing) reported; 0 = empty */
	uint32_t rmask, nreported, max_reported;
	nj_baseline_geo_fn geo;
	void *geo_ctx;
	/* the last address classified: a flow's view, learn or check and event ask the same */
	uint8_t memo_addr[16];
	uint8_t memo_alen; /* 0: empty */
	bool memo_in;
	struct nj_bl_skey memo_key;
	struct nj_baseline_stats st;
};

static void static_geo(void *arg, const uint8_t *addr, unsigned alen, char cc[3], uint32_t *asn)
{
	const struct nj_baseline_ctx *ctx = arg;

	for (unsigned i = 0; i < ctx->cfg.ngeo; i++) {
		if (nj_detect_addr_match(ctx->geo_addrs[i], addr, alen)) {
			memcpy(cc, ctx->cfg.geo[i].cc, 3);
			*asn = ctx->cfg.geo[i].asn;
			return;
		}
	}
}

struct nj_baseline *nj_baseline_create(const struct nj_baseline_ctx *ctx, struct nj_eve_worker *eve)
{
	struct nj_baseline *b = calloc(1, sizeof(*b));
	uint32_t rs;

	if (!b)
		return NULL;
	b->ctx = ctx;
	b->eve = eve;
	if (ctx->cfg.ngeo) {
		b->geo = static_geo;
		b->geo_ctx = (void *)ctx;
	}
	if (ctx->cfg.mode == NJ_BASELINE_LEARN) {
		b->learn = nj_bl_model_create(ctx->cfg.max_hosts, ctx->cfg.max_entries,
					      ctx->cfg.max_entries_per_host);
		if (!b->learn)
			goto out_free;
		for (unsigned g = 0; g < ctx->model->ngroups; g++)
			nj_bl_model_group(b->learn, ctx->model->groups[g]);
		if (ctx->cfg.write_interval_s) {
			b->snap = nj_bl_model_create(ctx->cfg.max_hosts, ctx->cfg.max_entries,
						     ctx->cfg.max_entries_per_host);
			if (!b->snap)
				goto out_free;
		}
	}
	if (ctx->cfg.mode != NJ_BASELINE_DETECT)
		return b; /* the report set is detect mode's */
	b->max_reported = ctx->cfg.max_reports;
	rs = pow2_at_least((uint64_t)b->max_reported * 2);
	b->reported = calloc(rs, sizeof(*b->reported));
	if (!b->reported)
		goto out_free;
	b->rmask = rs - 1;
	return b;
out_free:
	nj_baseline_destroy(b);
	return NULL;
}

void nj_baseline_destroy(struct nj_baseline *b)
{
	if (!b)
		return;
	nj_bl_model_free(b->learn);
	nj_bl_model_free(b->snap);
	free(b->reported);
	free(b);
}

void nj_baseline_set_geo(struct nj_baseline *b, nj_baseline_geo_fn fn, void *fn_ctx)
{
	b->geo = fn;
	b->geo_ctx = fn_ctx;
}

const struct nj_baseline_stats *nj_baseline_stats(const struct nj_baseline *b)
{
	return &b->st;
}

void nj_baseline_stats_foreach(const struct nj_baseline_stats *s,
			       void (*fn)(void *arg, const char *name, uint64_t v), void *arg)
{
	fn(arg, "baseline.flows", s->flows);
	fn(arg, "baseline.unscoped", s->unscoped);
	fn(arg, "baseline.learned", s->learned);
	fn(arg, "baseline.hosts_full", s->hosts_full);
	fn(arg, "baseline.entries_full", s->entries_full);
	fn(arg, "baseline.anomalies", s->anomalies);
	fn(arg, "baseline.repeats", s->repeats);
	fn(arg, "baseline.policy_allowed", s->policy_allowed);
	fn(arg, "baseline.reports_full", s->reports_full);
	fn(arg, "baseline.midstream", s->midstream);
}

/* The profile of an address: its first group, else itself if profiled. */
static bool subject_of(const struct nj_baseline_ctx *ctx, const uint8_t *addr, unsigned alen,
		       struct nj_bl_skey *k)
{
	memset(k, 0, sizeof(*k));
	for (unsigned g = 0; g < ctx->cfg.ngroups; g++) {
		if (nj_detect_addr_match(ctx->group_addrs[g], addr, alen)) {
			k->group = (uint16_t)(g + 1);
			return true;
		}
	}
	if (!nj_detect_addr_match(ctx->hosts, addr, alen))
		return false;
	memcpy(k->addr, addr, alen);
	k->ipv6 = alen == 16;
	return true;
}

static bool subject_memo(struct nj_baseline *b, const uint8_t *addr, unsigned alen,
			 struct nj_bl_skey *k)
{
	if (b->memo_alen != alen || memcmp(b->memo_addr, addr, alen)) {
		b->memo_in = subject_of(b->ctx, addr, alen, &b->memo_key);
		memcpy(b->memo_addr, addr, alen);
		b->memo_alen = (uint8_t)alen;
	}
	*k = b->memo_key;
	return b->memo_in;
}

static bool in_scope(struct nj_baseline *b, const uint8_t *addr, unsigned alen)
{
	struct nj_bl_skey k;

	return subject_memo(b, addr, alen, &k);
}

static bool has_ports(uint8_t proto)
{
	return proto == 6 || proto == 17 || proto == 132;
}

bool nj_baseline_flow_view(struct nj_baseline *b, const struct nj_flow *f, struct nj_bl_flow *v)
{
	unsigned alen = f->ipv6 ? 16 : 4, c = f->client & 1, s = c ^ 1;

	memset(v, 0, sizeof(*v));
	if (f->proto == 50)
		return false; /* ESP flows are keyed by SPI, not a conversation */
	v->ipv6 = f->ipv6;
	v->proto = f->proto;
	v->port = has_ports(f->proto) ? f->port[s] : 0;
	v->app_proto = f->app_proto == NJ_APP_PROTO_FAILED ? 0 : f->app_proto;
	v->start_us = f->start_us;
	v->bytes = f->bytes_ts + f->bytes_tc;
	if (in_scope(b, f->addr[c], alen)) {
		v->local = f->addr[c];
		v->peer = f->addr[s];
		v->local_is_client = 1;
	} else if (in_scope(b, f->addr[s], alen)) {
		v->local = f->addr[s];
		v->peer = f->addr[c];
	} else {
		return false;
	}
	if (b->geo)
		b->geo(b->geo_ctx, v->peer, alen, v->country, &v->asn);
	return true;
}

static unsigned hour_of(uint64_t ts_us)
{
	return (unsigned)((ts_us / 3600000000ULL) % 24);
}

static void probe_peer(struct nj_bl_entry *e, uint32_t subject, const struct nj_bl_flow *v)
{
	memset(e, 0, sizeof(*e));
	e->subject = subject;
	e->kind = NJ_BL_PEER;
	e->ipv6 = v->ipv6;
	e->plen = v->ipv6 ? 128 : 32;
	memcpy(e->val, v->peer, v->ipv6 ? 16 : 4);
}

static void probe_service(struct nj_bl_entry *e, uint32_t subject, uint8_t proto, uint16_t port)
{
	memset(e, 0, sizeof(*e));
	e->subject = subject;
	e->kind = NJ_BL_SERVICE;
	e->proto = proto;
	e->port = port;
}

static void probe_country(struct nj_bl_entry *e, uint32_t subject, const char *cc)
{
	memset(e, 0, sizeof(*e));
	e->subject = subject;
	e->kind = NJ_BL_COUNTRY;
	e->val[0] = (uint8_t)cc[0];
	e->val[1] = (uint8_t)cc[1];
}

static void probe_asn(struct nj_bl_entry *e, uint32_t subject, uint32_t asn)
{
	memset(e, 0, sizeof(*e));
	e->subject = subject;
	e->kind = NJ_BL_ASN;
	memcpy(e->val, &asn, sizeof(asn));
}

static void learn_entry(struct nj_baseline *b, struct nj_bl_model *m, const struct nj_bl_entry *p,
			uint16_t app)
{
	struct nj_bl_entry *e = nj_bl_entry_get(m, p, true);

	if (!e) {
		b->st.entries_full++;
		return;
	}
	e->flows++;
	if (p->kind == NJ_BL_SERVICE && app)
		nj_bl_entry_add_app(e, app);
}

void nj_baseline_learn(struct nj_baseline *b, const struct nj_bl_flow *v)
{
	struct nj_bl_model *m = b->learn;
	struct nj_bl_subject *s;
	struct nj_bl_skey k;
	struct nj_bl_entry p;
	uint32_t si;

	b->st.flows++;
	if (!m || !subject_memo(b, v->local, v->ipv6 ? 16 : 4, &k)) {
		b->st.unscoped++;
		return;
	}
	s = nj_bl_subject_get(m, &k, true);
	if (!s) {
		b->st.hosts_full++;
		m->hosts_dropped++;
		return;
	}
	si = nj_bl_subject_index(m, s);
	s->flows++;
	s->hours |= 1u << hour_of(v->start_us);
	nj_bl_subject_add_bytes(s, v->bytes);
	probe_peer(&p, si, v);
	learn_entry(b, m, &p, 0);
	probe_service(&p, si, v->proto, v->port);
	learn_entry(b, m, &p, v->app_proto);
	if (v->country[0]) {
		probe_country(&p, si, v->country);
		learn_entry(b, m, &p, 0);
	}
	if (v->asn) {
		probe_asn(&p, si, v->asn);
		learn_entry(b, m, &p, 0);
	}
	m->flows++;
	if (!m->first_us || v->start_us < m->first_us)
		m->first_us = v->start_us;
	if (v->start_us > m->last_us)
		m->last_us = v->start_us;
	b->st.learned++;
}

/* ---- policy */

static bool policy_match(const struct nj_baseline_ctx *ctx, const struct nj_bl_policy *p,
			 const struct nj_bl_skey *k, const struct nj_bl_flow *v)
{
	unsigned alen = v->ipv6 ? 16 : 4;

	if (p->proto && p->proto != v->proto)
		return false;
	if (p->port && p->port != v->port)
		return false;
	if (p->app != NJ_BL_APP_ANY && p->app != v->app_proto)
		return false;
	if (p->from_group >= 0) {
		if (k->group != p->from_group + 1)
			return false;
	} else if (p->from && !nj_detect_addr_match(p->from, v->local, alen)) {
		return false;
	}
	switch (p->to_kind) {
	case NJ_BL_TO_ANY: return true;
	case NJ_BL_TO_ADDRS: return nj_detect_addr_match(p->to, v->peer, alen);
	case NJ_BL_TO_COUNTRY: return v->country[0] && !memcmp(v->country, p->country, 2);
	case NJ_BL_TO_ASN: return v->asn && v->asn == p->asn;
	}
	(void)ctx;
	return false;
}

/* ---- rate limit: one report per (profile, reason, what) */

static bool first_report(struct nj_baseline *b, const struct nj_bl_skey *k, unsigned reason,
			 const void *what, size_t len)
{
	uint64_t h = nj_bl_hash(k, sizeof(*k), 0x9e3779b97f4a7c15ULL + reason);
	uint32_t i;

	if (!b->reported)
		return true; /* not in detect mode: no memory of reports */
	h = nj_bl_hash(what, len, h) | 1;
	i = (uint32_t)h & b->rmask;
	for (;;) {
		if (b->reported[i] == h) {
			b->st.repeats++;
			return false;
		}
		if (!b->reported[i])
			break;
		i = (i + 1) & b->rmask;
	}
	if (b->nreported >= b->max_reported) {
		b->st.reports_full++;
		return true;
	}
	b->reported[i] = h;
	b->nreported++;
	return true;
}

static bool hour_usual(uint32_t hours, unsigned h, unsigned slack)
{
	for (int d = -(int)slack; d <= (int)slack; d++)
		if (hours & (1u << (unsigned)(((int)h + d + 24) % 24)))
			return true;
	return false;
}

static bool peer_known(const struct nj_bl_model *m, uint32_t si, const struct nj_bl_flow *v)
{
	struct nj_bl_entry p;

	probe_peer(&p, si, v);
	if (nj_bl_entry_find(m, &p))
		return true;
	if (!m->nprefix)
		return false;
	/* analyst-edited prefixes: few, scanned */
	for (uint32_t i = 0; i < m->nprefix; i++) {
		const struct nj_bl_entry *e = &m->entries[m->pslots[i]];

		if (e->subject == si && e->kind == NJ_BL_PEER && e->ipv6 == v->ipv6 &&
		    nj_bl_prefix_match(e->val, v->peer, e->plen))
			return true;
	}
	return false;
}

static bool app_known(const struct nj_bl_entry *e, uint16_t app)
{
	if (!app || e->napps == 0 || e->napps > NJ_BL_MAX_APPS)
		return true;
	for (unsigned i = 0; i < e->napps; i++)
		if (e->apps[i] == app || e->apps[i] == NJ_BL_APP_ANY)
			return true;
	return false;
}

/* New things of v for profile s (si its index), before rate limiting. */
static unsigned what_is_new(const struct nj_baseline_ctx *ctx, const struct nj_bl_model *m,
			    const struct nj_bl_subject *s, uint32_t si, const struct nj_bl_flow *v)
{
	const struct nj_bl_entry *e;
	struct nj_bl_entry p;
	unsigned r = 0;

	if (!peer_known(m, si, v))
		r |= 1u << NJ_BL_NEW_PEER;
	probe_service(&p, si, v->proto, v->port);
	e = nj_bl_entry_find(m, &p);
	if (!e && v->port) {
		probe_service(&p, si, v->proto, 0); /* "tcp/any": any port */
		e = nj_bl_entry_find(m, &p);
	}
	if (!e || !app_known(e, v->app_proto))
		r |= 1u << NJ_BL_NEW_SERVICE;
	if (v->country[0] && s->ncountries) {
		probe_country(&p, si, v->country);
		if (!nj_bl_entry_find(m, &p))
			r |= 1u << NJ_BL_NEW_COUNTRY;
	}
	if (v->asn && s->nasns) {
		probe_asn(&p, si, v->asn);
		if (!nj_bl_entry_find(m, &p))
			r |= 1u << NJ_BL_NEW_ASN;
	}
	if (s->flows >= ctx->cfg.min_flows) {
		if (s->bytes_max &&
		    (double)v->bytes > ctx->cfg.volume_factor * (double)s->bytes_max)
			r |= 1u << NJ_BL_UNUSUAL_VOLUME;
		if (s->hours && !hour_usual(s->hours, hour_of(v->start_us), ctx->cfg.hour_slack))
			r |= 1u << NJ_BL_UNUSUAL_HOUR;
	}
	return r;
}

unsigned nj_baseline_check(struct nj_baseline *b, const struct nj_bl_flow *v, int *policy)
{
	const struct nj_baseline_ctx *ctx = b->ctx;
	const struct nj_bl_model *m = ctx->model;
	const struct nj_bl_subject *s;
	struct nj_bl_skey k;
	unsigned r, out = 0;
	uint8_t what[20];

	*policy = -1;
	b->st.flows++;
	if (!subject_memo(b, v->local, v->ipv6 ? 16 : 4, &k)) {
		b->st.unscoped++;
		return 0;
	}
	for (unsigned i = 0; i < ctx->npolicies; i++) {
		if (policy_match(ctx, &ctx->policies[i], &k, v)) {
			b->st.policy_allowed++;
			*policy = (int)i;
			return 0;
		}
	}
	s = nj_bl_subject_find(m, &k);
	if (!s) {
		r = 1u << NJ_BL_NEW_HOST;
	} else {
		r = what_is_new(ctx, m, s, nj_bl_subject_index(m, s), v);
	}
	for (unsigned i = 0; i < NJ_BL_REASON_MAX; i++) {
		size_t len = 0;

		if (!(r & (1u << i)))
			continue;
		memset(what, 0, sizeof(what));
		switch (i) {
		case NJ_BL_NEW_PEER:
			len = v->ipv6 ? 16 : 4;
			memcpy(what, v->peer, len);
			break;
		case NJ_BL_NEW_SERVICE:
			what[0] = v->proto;
			memcpy(what + 1, &v->port, 2);
			memcpy(what + 3, &v->app_proto, 2);
			len = 5;
			break;
		case NJ_BL_NEW_COUNTRY: memcpy(what, v->country, len = 2); break;
		case NJ_BL_NEW_ASN: memcpy(what, &v->asn, len = 4); break;
		case NJ_BL_UNUSUAL_HOUR:
			what[0] = (uint8_t)hour_of(v->start_us);
			len = 1;
			break;
		default: break; /* new host, volume: once per profile */
		}
		if (first_report(b, &k, i, what, len))
			out |= 1u << i;
	}
	return out;
}

/* ---- EVE */

static void json_service(struct nj_json *j, const char *key, uint8_t proto, uint16_t port,
			 uint16_t app)
{
	char buf[64], pb[4];
	const char *an = app ? nj_app_proto_name(app) : NULL;

	if (an)
		snprintf(buf, sizeof(buf), "%s/%u/%s", nj_bl_proto_name(proto, pb), port, an);
	else
		snprintf(buf, sizeof(buf), "%s/%u", nj_bl_proto_name(proto, pb), port);
	nj_json_str(j, key, buf);
}

static void log_event(struct nj_baseline *b, struct nj_flow *f, const struct nj_bl_flow *v,
		      unsigned r, const struct nj_bl_policy *pol)
{
	const struct nj_bl_model *m = b->ctx->model;
	const struct nj_bl_subject *s;
	unsigned alen = v->ipv6 ? 16 : 4;
	struct nj_bl_skey k;
	struct nj_json *j;
	unsigned first = 0;

	if (!b->eve || !nj_eve_wants(b->eve, NJ_EVE_ANOMALY))
		return;
	while (r && !(r & (1u << first)))
		first++;
	subject_memo(b, v->local, alen, &k);
	s = nj_bl_subject_find(m, &k);
	j = nj_eve_begin(b->eve, NJ_EVE_ANOMALY, f->last_us, f, NULL);
	nj_json_open_obj(j, "anomaly");
	nj_json_str(j, "type", "policy");
	nj_json_str(j, "event", pol ? "allowed" : nj_bl_reason_names[first]);
	if (!pol) {
		nj_json_open_arr(j, "reasons");
		for (unsigned i = 0; i < NJ_BL_REASON_MAX; i++)
			if (r & (1u << i))
				nj_json_str(j, NULL, nj_bl_reason_names[i]);
		nj_json_close_arr(j);
	}
	nj_json_ip(j, "host", v->local, alen);
	if (k.group)
		nj_json_str(j, "group", m->groups[k.group - 1]);
	nj_json_str(j, "role", v->local_is_client ? "client" : "server");
	nj_json_ip(j, "peer", v->peer, alen);
	json_service(j, "service", v->proto, v->port, v->app_proto);
	if (v->country[0])
		nj_json_str(j, "country", v->country);
	if (v->asn)
		nj_json_u64(j, "asn", v->asn);
	nj_json_u64(j, "bytes", v->bytes);
	nj_json_u64(j, "hour", hour_of(v->start_us));
	if (pol) {
		nj_json_open_obj(j, "policy");
		nj_json_str(j, "name", pol->name);
		nj_json_str(j, "justification", pol->justification);
		nj_json_str(j, "approval", pol->approval);
		nj_json_close_obj(j);
	} else if (s) {
		/* what the profile expected, for the reasons given */
		nj_json_open_obj(j, "expected");
		nj_json_u64(j, "flows", s->flows);
		if (r & (1u << NJ_BL_UNUSUAL_VOLUME)) {
			nj_json_u64(j, "bytes_max", s->bytes_max);
			nj_json_dbl(j, "volume_factor", b->ctx->cfg.volume_factor);
		}
		if (r & (1u << NJ_BL_UNUSUAL_HOUR)) {
			nj_json_open_arr(j, "hours");
			for (unsigned h = 0; h < 24; h++)
				if (s->hours & (1u << h))
					nj_json_u64(j, NULL, h);
			nj_json_close_arr(j);
		}
		if (r & (1u << NJ_BL_NEW_SERVICE)) {
			struct nj_bl_entry p;
			const struct nj_bl_entry *e;

			probe_service(&p, nj_bl_subject_index(m, s), v->proto, v->port);
			e = nj_bl_entry_find(m, &p);
			if (e) {
				nj_json_open_arr(j, "app_protos");
				for (unsigned a = 0; a < e->napps && a < NJ_BL_MAX_APPS; a++) {
					const char *an = nj_app_proto_name(e->apps[a]);

					nj_json_str(j, NULL, an ? an : "?");
				}
				nj_json_close_arr(j);
			}
		}
		nj_json_close_obj(j);
	}
	nj_json_close_obj(j);
	nj_eve_commit(b->eve);
	if (!pol)
		b->st.anomalies++;
}

void nj_baseline_flow_end(struct nj_baseline *b, struct nj_flow *f)
{
	struct nj_bl_flow v;
	unsigned r;
	int pol;

	if (f->proto == 6 && !((f->tcp_flags_ts | f->tcp_flags_tc) & 0x02)) {
		b->st.flows++;
		b->st.midstream++;
		return;
	}
	if (!nj_baseline_flow_view(b, f, &v)) {
		b->st.flows++;
		b->st.unscoped++;
		return;
	}
	if (b->learn) {
		nj_baseline_learn(b, &v);
		return;
	}
	if (b->ctx->cfg.mode != NJ_BASELINE_DETECT)
		return;
	r = nj_baseline_check(b, &v, &pol);
	if (r) {
		log_event(b, f, &v, r, NULL);
	} else if (pol >= 0 && b->ctx->cfg.log_allowed) {
		struct nj_bl_skey k;

		subject_memo(b, v.local, v.ipv6 ? 16 : 4, &k);
		/* once per (profile, policy entry, peer, service) */
		uint8_t what[24] = {0};

		memcpy(what, &pol, sizeof(pol));
		memcpy(what + 4, v.peer, v.ipv6 ? 16 : 4);
		memcpy(what + 20, &v.port, 2);
		what[22] = v.proto;
		if (first_report(b, &k, NJ_BL_REASON_MAX, what, sizeof(what)))
			log_event(b, f, &v, 0, &b->ctx->policies[pol]);
	}
}

/* ------------------------------------------------------------------ merge */

int nj_baseline_ctx_finish(struct nj_baseline_ctx *ctx, struct nj_baseline *const *cores,
			   unsigned n)
{
	int ret;

	if (ctx->cfg.mode != NJ_BASELINE_LEARN)
		return 0;
	nj_bl_model_reset(ctx->model); /* a periodic write may have filled it */
	for (unsigned i = 0; i < n; i++) {
		if (!cores[i] || !cores[i]->learn)
			continue;
		ret = nj_bl_model_merge(ctx->model, cores[i]->learn);
		if (ret < 0)
			return ret;
	}
	return nj_bl_model_save(ctx->model, ctx->cfg.file);
}

void nj_baseline_tick(struct nj_baseline *b)
{
	uint32_t req;

	if (!b->snap)
		return;
	req = __atomic_load_n(&b->snap_req, __ATOMIC_ACQUIRE);
	if (req == b->snap_done)
		return;
	nj_bl_model_copy(b->snap, b->learn);
	/* the copy is visible before the answer */
	__atomic_store_n(&b->snap_done, req, __ATOMIC_RELEASE);
}

int nj_baseline_ctx_poll(struct nj_baseline_ctx *ctx, struct nj_baseline *const *cores, unsigned n,
			 uint64_t now_s)
{
	int ret;

	if (ctx->cfg.mode != NJ_BASELINE_LEARN || !ctx->cfg.write_interval_s)
		return 0;
	if (!ctx->snap_pending) {
		if (!ctx->next_write_s)
			ctx->next_write_s = now_s + ctx->cfg.write_interval_s;
		if (now_s < ctx->next_write_s)
			return 0;
		for (unsigned i = 0; i < n; i++)
			if (cores[i] && cores[i]->snap)
				__atomic_add_fetch(&cores[i]->snap_req, 1, __ATOMIC_RELEASE);
		ctx->snap_pending = true;
		return 0;
	}
	for (unsigned i = 0; i < n; i++)
		if (cores[i] && cores[i]->snap &&
		    __atomic_load_n(&cores[i]->snap_done, __ATOMIC_ACQUIRE) != cores[i]->snap_req)
			return 0; /* not yet */
	ctx->snap_pending = false;
	ctx->next_write_s = now_s + ctx->cfg.write_interval_s;
	nj_bl_model_reset(ctx->model);
	for (unsigned i = 0; i < n; i++) {
		if (!cores[i] || !cores[i]->snap)
			continue;
		ret = nj_bl_model_merge(ctx->model, cores[i]->snap);
		if (ret < 0)
			return ret;
	}
	ret = nj_bl_model_save(ctx->model, ctx->cfg.file);
	if (ret < 0)
		return ret;
	ctx->writes++;
	return 1;
}

uint64_t nj_baseline_ctx_writes(const struct nj_baseline_ctx *ctx)
{
	return ctx->writes;
}
