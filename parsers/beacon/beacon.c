/* SPDX-License-Identifier: MIT */
/*
 * Beacon and periodic-transfer detection (see beacon.h and
 * docs/icmp-beacon.md). Two tables share one small hash/LRU layer: beacon
 * series (candidate and windowed tiers) and periodic schedules per
 * (client, protocol, server port).
 */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../../common/nj_common.h"
#include "../../config/config.h"
#include "../../dataplane/flow.h"
#include "../../dataplane/pkt.h"
#include "../../export/eve.h"
#include "beacon.h"

NJ_CONF_KEY(bc_enabled, "nightjar.beacon.enabled", NJ_CT_BOOL, "yes",
	    "Beacon detection over ICMP echo requests, DNS queries and flows "
	    "(docs/icmp-beacon.md).")
NJ_CONF_KEY(bc_memcap, "nightjar.beacon.memcap", NJ_CT_SIZE, "64mb",
	    "Memory for beacon series, split over workers; when full the least recently seen "
	    "series is evicted (counted).")
NJ_CONF_KEY(bc_maxseries, "nightjar.beacon.max-series", NJ_CT_INT, "0",
	    "Series with an observation window per worker (0: as many as half the worker's "
	    "memcap holds; the rest holds series seen fewer than 4 times).")
NJ_CONF_KEY(bc_window, "nightjar.beacon.window", NJ_CT_INT, "64",
	    "Observations in a series' sliding window (8-1024).")
NJ_CONF_KEY(bc_mincount, "nightjar.beacon.min-count", NJ_CT_INT, "6",
	    "Observations a series needs before it is scored (4 or more).")
NJ_CONF_KEY(bc_threshold, "nightjar.beacon.threshold", NJ_CT_STR, "0.8",
	    "Score (0-1) from which a series is a beacon and gets a beacon event.")
NJ_CONF_KEY(bc_hyst, "nightjar.beacon.hysteresis", NJ_CT_STR, "0.1",
	    "Score change, against the last event, that makes a \"changed\" event.")
NJ_CONF_KEY(bc_ichange, "nightjar.beacon.interval-change", NJ_CT_STR, "0.25",
	    "Relative change of the median interval, against the last event, that makes a "
	    "\"changed\" event.")
NJ_CONF_KEY(bc_pvalue, "nightjar.beacon.p-value", NJ_CT_STR, "1e-7",
	    "Largest chance that random (Poisson) arrivals show a reported beacon's interval "
	    "regularity; smaller needs more observations.")
NJ_CONF_KEY(bc_ignports, "nightjar.beacon.ignore-ports", NJ_CT_LIST, "[123]",
	    "Server ports whose flows are not beacon series (NTP polls are periodic by design).")
NJ_CONF_KEY(bc_ignmc, "nightjar.beacon.ignore-multicast", NJ_CT_BOOL, "yes",
	    "Skip observations to multicast and broadcast destinations (announcements).")
NJ_CONF_KEY(bc_sources, "nightjar.beacon.sources", NJ_CT_LIST, "[flow, dns, icmp]",
	    "What feeds beacon series: flow (at flow end), dns (each query), icmp (each echo "
	    "request).")
NJ_CONF_KEY(pd_enabled, "nightjar.periodic.enabled", NJ_CT_BOOL, "yes",
	    "Periodic-transfer detection over flow records (docs/icmp-beacon.md).")
NJ_CONF_KEY(pd_days, "nightjar.periodic.days", NJ_CT_INT, "3",
	    "Distinct days a transfer must repeat at a similar time with a similar size before "
	    "its schedule is reported (2 or more).")
NJ_CONF_KEY(pd_ttol, "nightjar.periodic.time-tolerance", NJ_CT_INT, "900",
	    "Seconds either side of a schedule's time of day (UTC) that still match.")
NJ_CONF_KEY(pd_btol, "nightjar.periodic.bytes-tolerance", NJ_CT_STR, "20%",
	    "Size difference from a schedule's mean that still matches (percent).")
NJ_CONF_KEY(pd_minb, "nightjar.periodic.min-bytes", NJ_CT_SIZE, "64kb",
	    "Flows smaller than this (both directions) are not transfers.")
NJ_CONF_KEY(pd_memcap, "nightjar.periodic.memcap", NJ_CT_SIZE, "16mb",
	    "Memory for transfer schedules, split over workers; least recently seen evicted.")

#define NONE	    UINT32_MAX
#define NO_INTERVAL UINT32_MAX
/* Observations a candidate keeps inline before it gets a window. */
#define INLINE 3
/* Observations closer than this to the previous one are the same check-in. */
#define MERGE_US 100000u
#define DAY_S	 86400u
/* Half-width of the regularity band around the median interval. */
#define BAND   0.25
#define PSLOTS 4

enum { LIST_CAND = 0, LIST_TRACK = 1, LIST_MAX };
enum { ST_QUIET = 0, ST_REPORTED };

/* ------------------------------------------------------------------ config */

void nj_beacon_config_defaults(struct nj_beacon_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->enabled = true;
	cfg->memcap = 64ull << 20;
	cfg->window = 64;
	cfg->min_count = 6;
	cfg->threshold = 0.8;
	cfg->hysteresis = 0.1;
	cfg->interval_change = 0.25;
	cfg->p_value = 1e-7;
	cfg->ignore_multicast = true;
	cfg->observe_flows = cfg->observe_dns = cfg->observe_icmp = true;
	cfg->n_ignore_ports = 1;
	cfg->ignore_ports[0] = 123;
	cfg->periodic.enabled = true;
	cfg->periodic.days = 3;
	cfg->periodic.time_tolerance_s = 900;
	cfg->periodic.bytes_tolerance_pct = 20;
	cfg->periodic.min_bytes = 64 << 10;
	cfg->periodic.memcap = 16ull << 20;
}

/* "0.8", "80%": a fraction; -1 after printing the reason. */
static int conf_frac(const struct nj_conf *c, const char *path, double max, double *out)
{
	const struct nj_conf_node *n = nj_conf_get(c, path);
	const char *s = NULL;
	char *end;
	double v;
	int r = nj_conf_str(c, NULL, path, &s);

	if (r)
		return r < 0 ? -1 : 0;
	v = strtod(s, &end);
	if (end != s && *end == '%') {
		v /= 100.0;
		end++;
	}
	if (end == s || *end || !(v >= 0 && v <= max)) {
		NJ_ERR("%s:%d: %s: '%s' is not a number between 0 and %g", n ? n->file : "?",
		       n ? n->line : 0, path, s, max);
		return -1;
	}
	*out = v;
	return 0;
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

/* "20%" or "20": a percent; -1 after printing the reason. */
static int conf_pct(const struct nj_conf *c, const char *path, double max, uint32_t *out)
{
	const struct nj_conf_node *n = nj_conf_get(c, path);
	const char *s = NULL;
	char *end;
	double v;
	int r = nj_conf_str(c, NULL, path, &s);

	if (r)
		return r < 0 ? -1 : 0;
	v = strtod(s, &end);
	if (end != s && *end == '%')
		end++;
	if (end == s || *end || !(v >= 0 && v <= max)) {
		NJ_ERR("%s:%d: %s: '%s' is not a percentage between 0 and %g", n ? n->file : "?",
		       n ? n->line : 0, path, s, max);
		return -1;
	}
	*out = (uint32_t)lround(v);
	return 0;
}

/* Scalars of a list value: a sequence, or one scalar with comma-separated items. */
static int conf_list(const struct nj_conf *c, const char *path,
		     int (*fn)(void *arg, const struct nj_conf_node *n, const char *item),
		     void *arg, bool *present)
{
	const struct nj_conf_node *n = nj_conf_get(c, path);

	*present = n != NULL;
	if (!n)
		return 0;
	if (n->kind == NJ_CONF_SEQ) {
		for (const struct nj_conf_node *it = n->child; it; it = it->next)
			if (it->kind == NJ_CONF_SCALAR && it->value && fn(arg, it, it->value) < 0)
				return -1;
		return 0;
	}
	if (n->kind == NJ_CONF_SCALAR && n->value) {
		char buf[512], *save = NULL, *tok;

		snprintf(buf, sizeof(buf), "%s", n->value);
		for (tok = strtok_r(buf, ", []", &save); tok; tok = strtok_r(NULL, ", []", &save))
			if (fn(arg, n, tok) < 0)
				return -1;
		return 0;
	}
	NJ_ERR("%s:%d: %s: expected a list", n->file, n->line, path);
	return -1;
}

static int port_item(void *arg, const struct nj_conf_node *n, const char *item)
{
	struct nj_beacon_config *cfg = arg;
	char *end;
	long v = strtol(item, &end, 10);

	if (!*item || *end || v < 0 || v > 65535) {
		NJ_ERR("%s:%d: nightjar.beacon.ignore-ports: '%s' is not a port", n->file, n->line,
		       item);
		return -1;
	}
	if (cfg->n_ignore_ports >= NJ_BEACON_MAX_IGNORE_PORTS) {
		NJ_ERR("%s:%d: nightjar.beacon.ignore-ports: more than %d ports", n->file, n->line,
		       NJ_BEACON_MAX_IGNORE_PORTS);
		return -1;
	}
	cfg->ignore_ports[cfg->n_ignore_ports++] = (uint16_t)v;
	return 0;
}

static int source_item(void *arg, const struct nj_conf_node *n, const char *item)
{
	struct nj_beacon_config *cfg = arg;

	if (!strcasecmp(item, "flow") || !strcasecmp(item, "flows"))
		cfg->observe_flows = true;
	else if (!strcasecmp(item, "dns"))
		cfg->observe_dns = true;
	else if (!strcasecmp(item, "icmp"))
		cfg->observe_icmp = true;
	else if (strcasecmp(item, "none") != 0) {
		NJ_ERR("%s:%d: nightjar.beacon.sources: unknown source '%s' (flow, dns, icmp)",
		       n->file, n->line, item);
		return -1;
	}
	return 0;
}

int nj_beacon_config_load(struct nj_beacon_config *cfg, const struct nj_conf *c)
{
	struct nj_beacon_config k = *cfg;
	bool present;

	if (!c)
		return 0;
	if (nj_conf_bool(c, NULL, "nightjar.beacon.enabled", &k.enabled) < 0 ||
	    nj_conf_size(c, NULL, "nightjar.beacon.memcap", &k.memcap) < 0 ||
	    conf_u32(c, "nightjar.beacon.max-series", 0, 100000000, &k.max_series) < 0 ||
	    conf_u32(c, "nightjar.beacon.window", 8, 1024, &k.window) < 0 ||
	    conf_u32(c, "nightjar.beacon.min-count", 4, 1024, &k.min_count) < 0 ||
	    conf_frac(c, "nightjar.beacon.threshold", 1.0, &k.threshold) < 0 ||
	    conf_frac(c, "nightjar.beacon.hysteresis", 1.0, &k.hysteresis) < 0 ||
	    conf_frac(c, "nightjar.beacon.interval-change", 100.0, &k.interval_change) < 0 ||
	    conf_frac(c, "nightjar.beacon.p-value", 1.0, &k.p_value) < 0 ||
	    nj_conf_bool(c, NULL, "nightjar.beacon.ignore-multicast", &k.ignore_multicast) < 0)
		return -1;
	k.n_ignore_ports = 0;
	if (conf_list(c, "nightjar.beacon.ignore-ports", port_item, &k, &present) < 0)
		return -1;
	if (!present)
		k.n_ignore_ports = cfg->n_ignore_ports;
	k.observe_flows = k.observe_dns = k.observe_icmp = false;
	if (conf_list(c, "nightjar.beacon.sources", source_item, &k, &present) < 0)
		return -1;
	if (!present) {
		k.observe_flows = cfg->observe_flows;
		k.observe_dns = cfg->observe_dns;
		k.observe_icmp = cfg->observe_icmp;
	}
	if (k.min_count > k.window) {
		const struct nj_conf_node *n = nj_conf_get(c, "nightjar.beacon.min-count");

		NJ_ERR("%s:%d: nightjar.beacon.min-count %u is larger than the window %u",
		       n ? n->file : "?", n ? n->line : 0, k.min_count, k.window);
		return -1;
	}
	if (nj_conf_bool(c, NULL, "nightjar.periodic.enabled", &k.periodic.enabled) < 0 ||
	    conf_u32(c, "nightjar.periodic.days", 2, 366, &k.periodic.days) < 0 ||
	    conf_u32(c, "nightjar.periodic.time-tolerance", 0, 43200,
		     &k.periodic.time_tolerance_s) < 0 ||
	    conf_pct(c, "nightjar.periodic.bytes-tolerance", 1000.0,
		     &k.periodic.bytes_tolerance_pct) < 0 ||
	    nj_conf_size(c, NULL, "nightjar.periodic.min-bytes", &k.periodic.min_bytes) < 0 ||
	    nj_conf_size(c, NULL, "nightjar.periodic.memcap", &k.periodic.memcap) < 0)
		return -1;
	*cfg = k;
	return 0;
}

/* ------------------------------------------------------------------ keys */

static void key_addrs(struct nj_beacon_key *k, const uint8_t *s, const uint8_t *d, unsigned alen)
{
	memcpy(k->src, s, alen);
	memcpy(k->dst, d, alen);
	k->ipv6 = alen == 16;
}

static bool proto_has_ports(uint8_t proto)
{
	return proto == 6 || proto == 17 || proto == 132;
}

void nj_beacon_key_flow(struct nj_beacon_key *k, const struct nj_flow *f)
{
	memset(k, 0, sizeof(*k));
	key_addrs(k, nj_flow_src(f), nj_flow_dst(f), f->ipv6 ? 16 : 4);
	k->proto = f->proto;
	k->kind = NJ_BEACON_FLOW;
	if (proto_has_ports(f->proto))
		k->port = nj_flow_dport(f);
	else if ((f->proto == 1 || f->proto == 58) && f->icmp_seen[0])
		k->port = f->icmp_type[0];
}

void nj_beacon_key_dns(struct nj_beacon_key *k, const struct nj_flow *f, const void *qname,
		       size_t qname_len)
{
	const uint8_t *q = qname;
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */

	nj_beacon_key_flow(k, f);
	k->kind = NJ_BEACON_DNS;
	for (size_t i = 0; i < qname_len; i++) {
		uint8_t ch = q[i];

		if (ch >= 'A' && ch <= 'Z')
			ch = (uint8_t)(ch + 32);
		h = (h ^ ch) * 0x100000001b3ull;
	}
	k->tag = h ? h : 1;
}

void nj_beacon_key_icmp(struct nj_beacon_key *k, const struct nj_pkt *p)
{
	memset(k, 0, sizeof(*k));
	key_addrs(k, nj_pkt_src(p), nj_pkt_dst(p), nj_pkt_addr_len(p));
	k->proto = p->proto;
	k->kind = NJ_BEACON_ICMP;
	k->port = p->icmp_type;
}

static uint32_t key_hash(const struct nj_beacon_key *k)
{
	uint64_t w[sizeof(*k) / 8], h = 0x2545f4914f6cdd1dull;

	memcpy(w, k, sizeof(w));
	for (unsigned i = 0; i < NJ_ARRAY_SIZE(w); i++) {
		h ^= w[i];
		h *= 0x9e3779b97f4a7c15ull;
		h ^= h >> 29;
	}
	return (uint32_t)(h ^ (h >> 32));
}

static bool addr_multicast(const struct nj_beacon_key *k)
{
	if (k->ipv6)
		return k->dst[0] == 0xff;
	if (k->dst[0] >= 224 && k->dst[0] <= 239)
		return true;
	return k->dst[0] == 255 && k->dst[1] == 255 && k->dst[2] == 255 && k->dst[3] == 255;
}

/* ------------------------------------------------------------------ hash + LRU */

/* The first member of every table entry; the key follows it directly. */
struct link {
	uint32_t next; /* hash chain or free list */
	uint32_t lru_prev, lru_next;
	uint32_t hash;
	uint8_t list;
	uint8_t pad[7];
};
_Static_assert(sizeof(struct link) % 8 == 0, "the key after the link must be aligned");

struct tbl {
	uint8_t *base;
	size_t stride;
	uint32_t *bucket;
	uint32_t mask, cap, used, free_head;
	uint32_t lru_old[LIST_MAX], lru_new[LIST_MAX]; /* per list: oldest, newest */
	uint32_t nlist[LIST_MAX];
};

static inline struct link *L(const struct tbl *t, uint32_t i)
{
	return (struct link *)(t->base + (size_t)i * t->stride);
}

static inline struct nj_beacon_key *K(const struct tbl *t, uint32_t i)
{
	return (struct nj_beacon_key *)(t->base + (size_t)i * t->stride + sizeof(struct link));
}

static int tbl_init(struct tbl *t, size_t stride, uint32_t cap)
{
	uint32_t nb = 16;

	memset(t, 0, sizeof(*t));
	while (nb < cap && nb < (1u << 30))
		nb <<= 1;
	t->stride = stride;
	t->cap = cap;
	t->mask = nb - 1;
	t->base = calloc(cap, stride);
	t->bucket = malloc(sizeof(uint32_t) * nb);
	if (!t->base || !t->bucket) {
		free(t->base);
		free(t->bucket);
		return -ENOMEM;
	}
	memset(t->bucket, 0xff, sizeof(uint32_t) * nb);
	for (uint32_t i = 0; i < cap; i++)
		L(t, i)->next = i + 1 < cap ? i + 1 : NONE;
	t->free_head = 0;
	for (unsigned l = 0; l < LIST_MAX; l++)
		t->lru_old[l] = t->lru_new[l] = NONE;
	return 0;
}

static void tbl_free(struct tbl *t)
{
	free(t->base);
	free(t->bucket);
	t->base = NULL;
	t->bucket = NULL;
}

static size_t tbl_bytes(const struct tbl *t)
{
	return (size_t)t->cap * t->stride + sizeof(uint32_t) * ((size_t)t->mask + 1);
}

static uint32_t tbl_find(const struct tbl *t, uint32_t h, const struct nj_beacon_key *k)
{
	for (uint32_t i = t->bucket[h & t->mask]; i != NONE; i = L(t, i)->next)
		if (L(t, i)->hash == h && memcmp(K(t, i), k, sizeof(*k)) == 0)
			return i;
	return NONE;
}

static void lru_unlink(struct tbl *t, uint32_t i)
{
	struct link *e = L(t, i);

	if (e->lru_prev != NONE)
		L(t, e->lru_prev)->lru_next = e->lru_next;
	else
		t->lru_old[e->list] = e->lru_next;
	if (e->lru_next != NONE)
		L(t, e->lru_next)->lru_prev = e->lru_prev;
	else
		t->lru_new[e->list] = e->lru_prev;
	t->nlist[e->list]--;
}

static void lru_append(struct tbl *t, uint32_t i, uint8_t list)
{
	struct link *e = L(t, i);

	e->list = list;
	e->lru_next = NONE;
	e->lru_prev = t->lru_new[list];
	if (e->lru_prev != NONE)
		L(t, e->lru_prev)->lru_next = i;
	else
		t->lru_old[list] = i;
	t->lru_new[list] = i;
	t->nlist[list]++;
}

static void tbl_touch(struct tbl *t, uint32_t i)
{
	if (t->lru_new[L(t, i)->list] == i)
		return;
	lru_unlink(t, i);
	lru_append(t, i, L(t, i)->list);
}

static void tbl_move(struct tbl *t, uint32_t i, uint8_t list)
{
	lru_unlink(t, i);
	lru_append(t, i, list);
}

/* Takes a free entry (zeroed past the link) or NONE. */
static uint32_t tbl_take(struct tbl *t)
{
	uint32_t i = t->free_head;

	if (i == NONE)
		return NONE;
	t->free_head = L(t, i)->next;
	memset(t->base + (size_t)i * t->stride, 0, t->stride);
	return i;
}

static void tbl_insert(struct tbl *t, uint32_t i, uint32_t h, const struct nj_beacon_key *k,
		       uint8_t list)
{
	struct link *e = L(t, i);

	memcpy(K(t, i), k, sizeof(*k));
	e->hash = h;
	e->next = t->bucket[h & t->mask];
	t->bucket[h & t->mask] = i;
	lru_append(t, i, list);
	t->used++;
}

static void tbl_remove(struct tbl *t, uint32_t i)
{
	struct link *e = L(t, i);
	uint32_t *pp = &t->bucket[e->hash & t->mask];

	while (*pp != i)
		pp = &L(t, *pp)->next;
	*pp = e->next;
	lru_unlink(t, i);
	e->next = t->free_head;
	t->free_head = i;
	t->used--;
}

/* ------------------------------------------------------------------ series */

struct series {
	struct link l;
	struct nj_beacon_key key;
	uint64_t first_us, last_us, prev_us; /* prev: the observation before the last */
	uint64_t dur_sum_us;
	uint32_t ring;		       /* window index, NONE while a candidate */
	uint32_t count;		       /* observations, saturating */
	float rep_score, rep_median_s; /* what the last event said */
	uint8_t state, ninl;
	uint8_t has_prev; /* prev_us is valid: the newest entry has an interval */
	uint8_t pad;
	uint32_t inl_int[INLINE], inl_size[INLINE];
};

_Static_assert(offsetof(struct series, key) == sizeof(struct link), "key after the link");

/* Window bookkeeping; the values live in b->rdata (4 arrays of `window` u32). */
struct ring {
	uint64_t sum_int; /* ms */
	uint64_t sum_size;
	uint32_t owner;
	uint16_t head, n, nint, pad;
};

struct nj_periodic {
	struct nj_periodic_config cfg;
	struct tbl t;
	struct nj_eve_worker *eve;
	struct nj_beacon_stats *st, own_st;
	nj_beacon_report_fn report;
	void *report_arg;
	nj_beacon_break_fn brk;
	void *brk_arg;
	uint32_t expire_days;
};

struct nj_beacon {
	struct nj_beacon_config cfg;
	struct nj_eve_worker *eve;
	struct tbl t;
	struct ring *rings;
	uint32_t *rdata;
	uint32_t nrings, free_ring, win;
	uint16_t *min_band; /* [k]: intervals in the band that k intervals need (gate) */
	struct nj_periodic *per;
	nj_beacon_report_fn report;
	void *report_arg;
	struct nj_beacon_stats st;
};

static inline struct series *S(const struct nj_beacon *b, uint32_t i)
{
	return (struct series *)L(&b->t, i);
}

/* The four arrays of window r: intervals and sizes in arrival order, then sorted. */
static inline uint32_t *R_INT(const struct nj_beacon *b, uint32_t r)
{
	return b->rdata + (size_t)r * 4 * b->win;
}
#define R_SIZE(b, r) (R_INT(b, r) + (b)->win)
#define R_SINT(b, r) (R_INT(b, r) + 2 * (b)->win)
#define R_SSZ(b, r)  (R_INT(b, r) + 3 * (b)->win)

static size_t ring_bytes(uint32_t win)
{
	return sizeof(struct ring) + (size_t)win * 4 * sizeof(uint32_t);
}

/* Index of the first element >= v in a sorted array; branch-free halving. */
static unsigned lower_bound(const uint32_t *a, unsigned n, uint32_t v)
{
	const uint32_t *base = a;

	if (!n)
		return 0;
	while (n > 1) {
		unsigned half = n / 2;

		base += (size_t)(base[half - 1] < v) *
			half; /* arithmetic: no branch to mispredict */
		n -= half;
	}
	return (unsigned)(base - a) + (*base < v);
}

static void sorted_insert(uint32_t *a, unsigned n, uint32_t v)
{
	unsigned i = lower_bound(a, n, v);

	memmove(a + i + 1, a + i, (n - i) * sizeof(*a));
	a[i] = v;
}

static void sorted_remove(uint32_t *a, unsigned n, uint32_t v)
{
	unsigned i = lower_bound(a, n, v);

	if (i < n && a[i] == v)
		memmove(a + i, a + i + 1, (n - i - 1) * sizeof(*a));
}

/* Replaces one old value by v in a sorted array: one shift of the values in between. */
static void sorted_replace(uint32_t *a, unsigned n, uint32_t old, uint32_t v)
{
	unsigned i = lower_bound(a, n, old), j;

	if (i >= n || a[i] != old)
		return;
	if (v >= old) {
		j = lower_bound(a + i + 1, n - i - 1, v) + i + 1; /* first >= v after i */
		memmove(a + i, a + i + 1, (j - i - 1) * sizeof(*a));
		a[j - 1] = v;
	} else {
		j = lower_bound(a, i, v); /* first >= v, before i */
		memmove(a + j + 1, a + j, (i - j) * sizeof(*a));
		a[j] = v;
	}
}

static void ring_push(struct nj_beacon *b, uint32_t r, uint32_t iv, uint32_t sz)
{
	struct ring *g = &b->rings[r];
	uint32_t *ri = R_INT(b, r), *rs = R_SIZE(b, r), *si = R_SINT(b, r), *ss = R_SSZ(b, r);

	if (g->n == b->win) {
		/* full: the slot at head is the oldest, replaced in place */
		uint32_t oi = ri[g->head], os = rs[g->head];

		if (oi != NO_INTERVAL && iv != NO_INTERVAL) {
			sorted_replace(si, g->nint, oi, iv);
			g->sum_int += (uint64_t)iv - oi;
		} else if (oi != NO_INTERVAL) {
			sorted_remove(si, g->nint, oi);
			g->nint--;
			g->sum_int -= oi;
		} else if (iv != NO_INTERVAL) {
			sorted_insert(si, g->nint, iv);
			g->nint++;
			g->sum_int += iv;
		}
		sorted_replace(ss, g->n, os, sz);
		g->sum_size += (uint64_t)sz - os;
		ri[g->head] = iv;
		rs[g->head] = sz;
		g->head = (uint16_t)((g->head + 1) % b->win);
		return;
	}
	ri[g->head] = iv;
	rs[g->head] = sz;
	g->head = (uint16_t)((g->head + 1) % b->win);
	if (iv != NO_INTERVAL) {
		sorted_insert(si, g->nint, iv);
		g->nint++;
		g->sum_int += iv;
	}
	sorted_insert(ss, g->n, sz);
	g->n++;
	g->sum_size += sz;
}

static uint32_t ring_newest(const struct nj_beacon *b, uint32_t r)
{
	return (b->rings[r].head + b->win - 1) % b->win;
}

static void ring_set_newest_int(struct nj_beacon *b, uint32_t r, uint32_t iv)
{
	struct ring *g = &b->rings[r];
	uint32_t k = ring_newest(b, r), *ri = R_INT(b, r), *si = R_SINT(b, r);

	if (ri[k] != NO_INTERVAL) {
		sorted_remove(si, g->nint, ri[k]);
		g->nint--;
		g->sum_int -= ri[k];
	}
	ri[k] = iv;
	sorted_insert(si, g->nint, iv);
	g->nint++;
	g->sum_int += iv;
}

static void ring_add_newest_size(struct nj_beacon *b, uint32_t r, uint32_t add)
{
	struct ring *g = &b->rings[r];
	uint32_t k = ring_newest(b, r), *rs = R_SIZE(b, r), *ss = R_SSZ(b, r);
	uint32_t nv = rs[k] > UINT32_MAX - add ? UINT32_MAX : rs[k] + add;

	sorted_remove(ss, g->n, rs[k]);
	g->sum_size -= rs[k];
	rs[k] = nv;
	sorted_insert(ss, g->n - 1, nv);
	g->sum_size += nv;
}

/* Evicts series i entirely (its window goes back to the pool). */
static void series_evict(struct nj_beacon *b, uint32_t i)
{
	struct series *s = S(b, i);

	if (s->ring != NONE) {
		b->rings[s->ring].owner = b->free_ring;
		b->free_ring = s->ring;
		b->st.evicted_tracked++;
		b->st.tracked--;
	} else {
		b->st.evicted_candidate++;
	}
	tbl_remove(&b->t, i);
	b->st.series--;
}

static uint32_t ring_take(struct nj_beacon *b)
{
	uint32_t r = b->free_ring;

	if (r == NONE) {
		/* every window in use: the least recently seen windowed series goes */
		uint32_t victim = b->t.lru_old[LIST_TRACK];

		if (victim == NONE)
			return NONE;
		series_evict(b, victim);
		r = b->free_ring;
	}
	b->free_ring = b->rings[r].owner;
	memset(&b->rings[r], 0, sizeof(b->rings[r]));
	return r;
}

/* A candidate's inline observations move into a window. */
static bool series_promote(struct nj_beacon *b, uint32_t i)
{
	struct series *s = S(b, i);
	uint32_t r = ring_take(b);

	if (r == NONE)
		return false;
	b->rings[r].owner = i;
	for (unsigned k = 0; k < s->ninl; k++)
		ring_push(b, r, s->inl_int[k], s->inl_size[k]);
	s->ring = r;
	s->ninl = 0;
	tbl_move(&b->t, i, LIST_TRACK);
	b->st.promoted++;
	b->st.tracked++;
	return true;
}

static void series_push(struct nj_beacon *b, uint32_t i, uint32_t iv, uint32_t sz)
{
	struct series *s = S(b, i);

	if (s->ring == NONE) {
		if (s->ninl < INLINE) {
			s->inl_int[s->ninl] = iv;
			s->inl_size[s->ninl++] = sz;
			return;
		}
		if (!series_promote(b, i)) {
			/* cannot happen with >= 1 window; keep the newest inline */
			memmove(s->inl_int, s->inl_int + 1, (INLINE - 1) * sizeof(uint32_t));
			memmove(s->inl_size, s->inl_size + 1, (INLINE - 1) * sizeof(uint32_t));
			s->inl_int[INLINE - 1] = iv;
			s->inl_size[INLINE - 1] = sz;
			return;
		}
	}
	ring_push(b, s->ring, iv, sz);
}

static void series_set_newest_int(struct nj_beacon *b, uint32_t i, uint32_t iv)
{
	struct series *s = S(b, i);

	if (s->ring == NONE)
		s->inl_int[s->ninl - 1] = iv;
	else
		ring_set_newest_int(b, s->ring, iv);
}

static void series_add_newest_size(struct nj_beacon *b, uint32_t i, uint32_t add)
{
	struct series *s = S(b, i);

	if (s->ring == NONE)
		s->inl_size[s->ninl - 1] = s->inl_size[s->ninl - 1] > UINT32_MAX - add
						   ? UINT32_MAX
						   : s->inl_size[s->ninl - 1] + add;
	else
		ring_add_newest_size(b, s->ring, add);
}

/* ------------------------------------------------------------------ scoring */

struct score {
	double score, ts, ds, cnt, cov;
	double mean_ms, median_ms, mad_ms, skew_i;
	double bytes_mean, bytes_median, bytes_mad, skew_b;
	unsigned nint, n;
	unsigned in_band; /* intervals within +-25 % of the median */
};

static double median_sorted(const uint32_t *a, unsigned n)
{
	if (!n)
		return 0;
	if (n & 1)
		return a[n / 2];
	return ((double)a[n / 2 - 1] + (double)a[n / 2]) / 2.0;
}

/*
 * The k-th smallest (0-based) of the doubled deviations |2 a[i] - m2| of a
 * sorted array, p of whose values lie at or below m2 / 2. Those deviations
 * form two ascending runs, leftwards from p - 1 and rightwards from p; the
 * k-th of their union is found by bisection on how many come from the left.
 */
static int64_t kth_dev2(const uint32_t *a, unsigned n, unsigned p, int64_t m2, unsigned k)
{
	unsigned q = n - p, lo = k + 1 > q ? k + 1 - q : 0, hi = k + 1 < p ? k + 1 : p;
	int64_t l, r;

	while (lo < hi) {
		unsigned i = (lo + hi) / 2, j = k + 1 - i;
		/* i from the left, j from the right: the right's last taken must not exceed the left's next */
		unsigned more = j > 0 && i < p &&
				2 * (int64_t)a[p + j - 1] - m2 > m2 - 2 * (int64_t)a[p - 1 - i];

		lo = more ? i + 1 : lo;
		hi = more ? hi : i;
	}
	l = lo > 0 ? m2 - 2 * (int64_t)a[p - lo] : -1;
	r = k + 1 - lo > 0 ? 2 * (int64_t)a[p + k - lo] - m2 : -1;
	return l > r ? l : r;
}

/* Median of |a[i] - m| over a sorted array (m its median): O(log n). */
static double mad_sorted(const uint32_t *a, unsigned n, double m)
{
	int64_t m2 = (int64_t)llround(2 * m);
	unsigned p;

	if (!n)
		return 0;
	p = lower_bound(a, n, (uint32_t)(m2 / 2 + 1)); /* values <= m */
	if (n & 1)
		return (double)kth_dev2(a, n, p, m2, n / 2) / 2.0;
	return (double)(kth_dev2(a, n, p, m2, n / 2 - 1) + kth_dev2(a, n, p, m2, n / 2)) / 4.0;
}

/*
 * Bowley skew with quartiles as medians of the lower and upper halves (the
 * median itself excluded for odd n), zero when the quartile spread is below
 * max(10 units, 10% of the median) or the median sits on a quartile (RITA).
 */
static double bowley(const uint32_t *a, unsigned n, double q2)
{
	double q1 = median_sorted(a, n / 2), q3 = median_sorted(a + (n + 1) / 2, n / 2);
	double den = q3 - q1, gate = q2 / 10.0 > 10.0 ? q2 / 10.0 : 10.0;

	if (n < 3 || den < gate || q2 == q1 || q2 == q3)
		return 0;
	return (q1 + q3 - 2.0 * q2) / den;
}

/* RITA's dispersion score: 1 - MAD/median, in [0, 1]. */
static double mad_score(double mad, double median)
{
	double s;

	if (median < 1)
		return mad == 0 ? 1.0 : 0.0;
	s = 1.0 - mad / median;
	return s < 0 ? 0 : s;
}

static double round3(double v)
{
	return floor(v * 1000.0 + 0.5) / 1000.0;
}

/* The regularity gate's part: median interval and intervals within +-25 % of it. */
static void score_band(const struct nj_beacon *b, uint32_t r, struct score *o)
{
	const struct ring *g = &b->rings[r];
	const uint32_t *si = R_SINT(b, r);
	uint32_t lo, hi;

	o->nint = g->nint;
	o->n = g->n;
	o->median_ms = median_sorted(si, g->nint);
	lo = (uint32_t)ceil(o->median_ms * (1.0 - BAND));
	/* intervals are clamped below NO_INTERVAL: the band's top must not wrap */
	hi = (uint32_t)fmin(floor(o->median_ms * (1.0 + BAND)), (double)(NO_INTERVAL - 1));
	o->in_band = lower_bound(si, g->nint, hi + 1) - lower_bound(si, g->nint, lo);
}

/* The RITA-style sub-scores and score, after score_band. */
static void score_window(const struct nj_beacon *b, uint32_t r, struct score *o)
{
	const struct ring *g = &b->rings[r];
	const uint32_t *si = R_SINT(b, r), *ss = R_SSZ(b, r);
	double lim, covered = 0;

	o->mean_ms = g->nint ? (double)g->sum_int / g->nint : 0;
	o->mad_ms = mad_sorted(si, g->nint, o->median_ms);
	o->skew_i = bowley(si, g->nint, o->median_ms);
	o->ts = (1.0 - fabs(o->skew_i) + mad_score(o->mad_ms, o->median_ms)) / 2.0;

	o->bytes_median = median_sorted(ss, g->n);
	o->bytes_mean = g->n ? (double)g->sum_size / g->n : 0;
	o->bytes_mad = mad_sorted(ss, g->n, o->bytes_median);
	o->skew_b = bowley(ss, g->n, o->bytes_median);
	o->ds = (1.0 - fabs(o->skew_b) + mad_score(o->bytes_mad, o->bytes_median)) / 2.0;

	/* connection count: observed intervals against span / median interval */
	o->cnt = g->sum_int ? (double)g->nint * o->median_ms / (double)g->sum_int : 0;
	if (o->cnt > 1.0)
		o->cnt = 1.0;
	/* coverage: share of the span kept at the cadence (no gap over 2 medians) */
	lim = 2.0 * o->median_ms;
	{
		unsigned nc = lower_bound(
			si, g->nint, (uint32_t)fmin(floor(lim), (double)(NO_INTERVAL - 1)) + 1);
		uint64_t cs = 0;

		for (unsigned k = 0; k < nc; k++)
			cs += si[k];
		covered = (double)cs;
	}
	o->cov = g->sum_int ? covered / (double)g->sum_int : 0;

	o->ts = round3(o->ts);
	o->ds = round3(o->ds);
	o->cnt = round3(o->cnt);
	o->cov = round3(o->cov);
	o->score = round3(0.25 * o->ts + 0.25 * o->ds + 0.25 * o->cnt + 0.25 * o->cov);
}

/* ------------------------------------------------------------------ EVE */

static void json_ts(struct nj_json *j, const char *key, uint64_t ts_us)
{
	char buf[40];

	nj_eve_format_ts(buf, ts_us);
	nj_json_str(j, key, buf);
}

static void json_tuple(struct nj_json *j, const struct nj_beacon_key *k)
{
	unsigned alen = k->ipv6 ? 16 : 4;
	char num[4];

	nj_json_ip(j, "src_ip", k->src, alen);
	nj_json_ip(j, "dest_ip", k->dst, alen);
	if (proto_has_ports(k->proto))
		nj_json_u64(j, "dest_port", k->port);
	nj_json_u64(j, "ip_v", k->ipv6 ? 6 : 4);
	nj_json_str(j, "proto", nj_eve_proto_name(k->proto, num));
	if (k->proto == 1 || k->proto == 58)
		nj_json_u64(j, "icmp_type", k->port);
}

static void json_tod(struct nj_json *j, const char *key, uint32_t tod)
{
	char buf[16];

	tod %= DAY_S;
	snprintf(buf, sizeof(buf), "%02u:%02u:%02u", tod / 3600, tod / 60 % 60, tod % 60);
	nj_json_str(j, key, buf);
}

static const char *const kind_names[NJ_BEACON_KIND_MAX] = {"flow", "dns", "icmp"};

static void eve_report(struct nj_eve_worker *w, const struct nj_beacon_report *r)
{
	const struct nj_beacon_key *k = r->key;
	struct nj_json *j;

	if (!w || !nj_eve_wants(w, NJ_EVE_BEACON))
		return;
	j = nj_eve_begin(w, NJ_EVE_BEACON, r->ts_us, NULL, NULL);
	json_tuple(j, k);
	nj_json_open_obj(j, "beacon");
	nj_json_str(j, "kind", r->periodic ? "periodic" : "beacon");
	nj_json_str(j, "source", k->kind < NJ_BEACON_KIND_MAX ? kind_names[k->kind] : "flow");
	nj_json_str(j, "state", r->changed ? "changed" : "new");
	if (r->label)
		nj_json_str(j, "rrname", r->label);
	if (!r->periodic) {
		nj_json_dbl(j, "score", r->score);
		nj_json_open_obj(j, "scores");
		nj_json_dbl(j, "interval", r->score_interval);
		nj_json_dbl(j, "bytes", r->score_bytes);
		nj_json_dbl(j, "count", r->score_count);
		nj_json_dbl(j, "coverage", r->score_coverage);
		nj_json_close_obj(j);
		nj_json_dbl(j, "interval_mean_s", r->interval_mean_s);
		nj_json_dbl(j, "interval_median_s", r->interval_median_s);
		nj_json_dbl(j, "jitter_s", r->jitter_s);
		nj_json_dbl(j, "skew_interval", r->skew_interval);
		nj_json_dbl(j, "regularity", r->regularity);
		nj_json_u64(j, "count", r->count);
		nj_json_u64(j, "window", r->window);
		nj_json_dbl(j, "bytes_mean", r->bytes_mean);
		nj_json_dbl(j, "bytes_median", r->bytes_median);
		nj_json_dbl(j, "bytes_mad", r->bytes_mad);
		nj_json_dbl(j, "skew_bytes", r->skew_bytes);
		if (r->duration_mean_s > 0)
			nj_json_dbl(j, "duration_mean_s", r->duration_mean_s);
	} else {
		json_tod(j, "time_of_day", r->time_of_day_s);
		nj_json_u64(j, "days", r->days);
		nj_json_u64(j, "count", r->count);
		nj_json_dbl(j, "bytes_mean", r->bytes_mean);
	}
	json_ts(j, "first_seen", r->first_seen_us);
	json_ts(j, "last_seen", r->last_seen_us);
	nj_json_close_obj(j);
	nj_eve_commit(w);
}

static void eve_break(struct nj_eve_worker *w, const struct nj_beacon_break *br)
{
	const struct nj_beacon_key *k = br->key;
	struct nj_json *j;

	if (!w || !nj_eve_wants(w, NJ_EVE_ANOMALY))
		return;
	j = nj_eve_begin(w, NJ_EVE_ANOMALY, br->ts_us, NULL, NULL);
	json_tuple(j, k);
	nj_json_open_obj(j, "anomaly");
	nj_json_str(j, "type", "periodic");
	nj_json_str(j, "event", br->name);
	nj_json_close_obj(j);
	nj_json_open_obj(j, "periodic");
	nj_json_str(j, "reason", br->reason);
	json_tod(j, "time_of_day", br->time_of_day_s);
	nj_json_u64(j, "bytes", br->bytes);
	json_tod(j, "expected_time_of_day", br->expected_time_of_day_s);
	nj_json_dbl(j, "expected_bytes", round(br->expected_bytes));
	nj_json_ip(j, "expected_dest_ip", br->expected_dst, k->ipv6 ? 16 : 4);
	nj_json_u64(j, "days", br->days);
	nj_json_close_obj(j);
	nj_eve_commit(w);
}

/* ------------------------------------------------------------------ beacon */

static void fill_report(struct nj_beacon_report *rp, const struct series *s, const struct score *sc,
			uint64_t ts, const char *label, bool changed)
{
	struct nj_beacon_report r;

	memset(&r, 0, sizeof(r));
	r.key = &s->key;
	r.label = label;
	r.changed = changed;
	r.ts_us = ts;
	r.first_seen_us = s->first_us;
	r.last_seen_us = s->last_us;
	r.count = s->count;
	r.window = sc->n;
	r.score = sc->score;
	r.score_interval = sc->ts;
	r.score_bytes = sc->ds;
	r.score_count = sc->cnt;
	r.score_coverage = sc->cov;
	r.interval_mean_s = round3(sc->mean_ms / 1000.0);
	r.interval_median_s = round3(sc->median_ms / 1000.0);
	r.jitter_s = round3(sc->mad_ms / 1000.0);
	r.skew_interval = round3(sc->skew_i);
	r.skew_bytes = round3(sc->skew_b);
	r.bytes_mean = round3(sc->bytes_mean);
	r.bytes_median = sc->bytes_median;
	r.bytes_mad = sc->bytes_mad;
	r.regularity = sc->nint ? round3((double)sc->in_band / sc->nint) : 0;
	r.duration_mean_s = s->count ? round3((double)s->dur_sum_us / s->count / 1e6) : 0;
	*rp = r;
}

static void emit(struct nj_beacon *b, uint32_t i, const struct score *sc, uint64_t ts,
		 const char *label, bool changed)
{
	struct series *s = S(b, i);
	struct nj_beacon_report r;

	fill_report(&r, s, sc, ts, label, changed);
	s->state = ST_REPORTED;
	s->rep_score = (float)sc->score;
	s->rep_median_s = (float)(sc->median_ms / 1000.0);
	if (changed)
		b->st.events_changed++;
	else
		b->st.events_new++;
	eve_report(b->eve, &r);
	if (b->report)
		b->report(b->report_arg, &r);
}

/* Re-scores a windowed series; 1 if an event went out. */
static int evaluate(struct nj_beacon *b, uint32_t i, uint64_t ts, const char *label)
{
	struct series *s = S(b, i);
	struct score sc;
	double med_s;

	if (s->ring == NONE || b->rings[s->ring].n < b->cfg.min_count || b->rings[s->ring].nint < 3)
		return 0;
	/* the gate first: it is cheap and turns away most series that are no beacon */
	score_band(b, s->ring, &sc);
	if (sc.in_band < b->min_band[sc.nint]) {
		/* chance (a Poisson process) explains this regularity as well */
		b->st.gated++;
		return 0;
	}
	score_window(b, s->ring, &sc);
	b->st.scored++;
	if (sc.score < b->cfg.threshold)
		return 0;
	if (s->state == ST_QUIET) {
		emit(b, i, &sc, ts, label, false);
		return 1;
	}
	med_s = sc.median_ms / 1000.0;
	if (fabs(sc.score - s->rep_score) >= b->cfg.hysteresis - 1e-6 ||
	    fabs(med_s - s->rep_median_s) >= b->cfg.interval_change * s->rep_median_s) {
		emit(b, i, &sc, ts, label, true);
		return 1;
	}
	return 0;
}

int nj_beacon_peek(const struct nj_beacon *b, const struct nj_beacon_key *k,
		   struct nj_beacon_report *out, bool *passes)
{
	uint32_t i = b ? tbl_find(&b->t, key_hash(k), k) : NONE;
	const struct series *s;
	struct score sc;

	if (i == NONE)
		return -ENOENT;
	s = S(b, i);
	if (s->ring == NONE || b->rings[s->ring].nint < 3)
		return -EAGAIN;
	score_band(b, s->ring, &sc);
	score_window(b, s->ring, &sc);
	fill_report(out, s, &sc, s->last_us, NULL, s->state != ST_QUIET);
	if (passes)
		*passes = b->rings[s->ring].n >= b->cfg.min_count && sc.score >= b->cfg.threshold &&
			  sc.in_band >= b->min_band[sc.nint];
	return 0;
}

static uint32_t to_ms(uint64_t us)
{
	uint64_t ms = (us + 500) / 1000;

	return ms >= NO_INTERVAL ? NO_INTERVAL - 1 : (uint32_t)ms;
}

static bool ignored(const struct nj_beacon *b, const struct nj_beacon_key *k)
{
	if ((k->kind == NJ_BEACON_DNS && !b->cfg.observe_dns) ||
	    (k->kind == NJ_BEACON_ICMP && !b->cfg.observe_icmp) ||
	    (k->kind == NJ_BEACON_FLOW && !b->cfg.observe_flows))
		return true;
	if (b->cfg.ignore_multicast && addr_multicast(k))
		return true;
	if (k->kind == NJ_BEACON_FLOW && proto_has_ports(k->proto))
		for (unsigned i = 0; i < b->cfg.n_ignore_ports; i++)
			if (b->cfg.ignore_ports[i] == k->port)
				return true;
	return false;
}

static int series_observe(struct nj_beacon *b, const struct nj_beacon_key *k, uint64_t ts,
			  uint64_t bytes, uint64_t dur, const char *label)
{
	uint32_t h = key_hash(k), i = tbl_find(&b->t, h, k);
	uint32_t sz = bytes > UINT32_MAX ? UINT32_MAX : (uint32_t)bytes;
	struct series *s;

	b->st.observations++;
	if (i == NONE) {
		i = tbl_take(&b->t);
		if (i == NONE) {
			uint32_t victim = b->t.lru_old[LIST_CAND];

			if (victim == NONE)
				victim = b->t.lru_old[LIST_TRACK];
			series_evict(b, victim);
			i = tbl_take(&b->t);
		}
		tbl_insert(&b->t, i, h, k, LIST_CAND);
		s = S(b, i);
		s->ring = NONE;
		s->first_us = s->last_us = ts;
		s->count = 1;
		s->dur_sum_us = dur;
		s->inl_int[0] = NO_INTERVAL;
		s->inl_size[0] = sz;
		s->ninl = 1;
		b->st.created++;
		b->st.series++;
		return 0;
	}
	tbl_touch(&b->t, i);
	s = S(b, i);
	if (ts >= s->last_us) {
		if (ts - s->last_us < MERGE_US) {
			series_add_newest_size(b, i, sz);
			b->st.merged++;
			goto counted;
		}
		series_push(b, i, to_ms(ts - s->last_us), sz);
		s->prev_us = s->last_us;
		s->last_us = ts;
		s->has_prev = 1;
	} else if (s->last_us - ts < MERGE_US) {
		series_add_newest_size(b, i, sz);
		b->st.merged++;
		goto counted;
	} else if (!s->has_prev) {
		/* earlier than the only check-in so far */
		series_push(b, i, to_ms(s->last_us - ts), sz);
		s->prev_us = s->first_us = ts;
		s->has_prev = 1;
		b->st.reordered++;
	} else if (ts > s->prev_us) {
		/* between the last two: split the newest interval in two */
		if (ts - s->prev_us < MERGE_US) {
			series_add_newest_size(b, i, sz);
			b->st.merged++;
			goto counted;
		}
		series_set_newest_int(b, i, to_ms(ts - s->prev_us));
		series_push(b, i, to_ms(s->last_us - ts), sz);
		s->prev_us = ts;
		b->st.reordered++;
	} else {
		b->st.late++;
		return 0;
	}
	if (s->count < UINT32_MAX)
		s->count++;
	s->dur_sum_us += dur;
	return evaluate(b, i, ts, label);
counted:
	if (s->count < UINT32_MAX)
		s->count++;
	s->dur_sum_us += dur;
	return 0;
}

int nj_beacon_observe_ex(struct nj_beacon *b, const struct nj_beacon_key *k, uint64_t ts_us,
			 uint64_t bytes, uint64_t duration_us, const char *label)
{
	int ret;

	if (!b || !k || !b->cfg.enabled)
		return 0;
	if (ignored(b, k)) {
		b->st.ignored++;
		return 0;
	}
	ret = series_observe(b, k, ts_us, bytes, duration_us, label);
	if (k->kind == NJ_BEACON_FLOW && b->per)
		nj_periodic_observe(b->per, k, ts_us, bytes);
	return ret;
}

int nj_beacon_observe(struct nj_beacon *b, const struct nj_beacon_key *k, uint64_t ts_us,
		      uint64_t bytes, uint64_t duration_us)
{
	return nj_beacon_observe_ex(b, k, ts_us, bytes, duration_us, NULL);
}

void nj_beacon_observe_flow(struct nj_beacon *b, const struct nj_flow *f)
{
	struct nj_beacon_key k;

	if (!b || !f || !b->cfg.enabled || f->proto == 1 || f->proto == 58 || !f->pkts_ts)
		return;
	nj_beacon_key_flow(&k, f);
	if (b->cfg.ignore_multicast && addr_multicast(&k)) {
		b->st.ignored++;
		return;
	}
	if (ignored(b, &k))
		b->st.ignored++;
	else
		series_observe(b, &k, f->start_us, f->bytes_ts,
			       f->last_us > f->start_us ? f->last_us - f->start_us : 0, NULL);
	if (b->per)
		nj_periodic_observe(b->per, &k, f->start_us, f->bytes_ts + f->bytes_tc);
}

/* ------------------------------------------------------------------ periodic */

struct pslot {
	uint8_t server[16];
	uint64_t first_us, last_us;
	double bytes_mean, tod_mean;		/* tod: seconds after 00:00 UTC */
	uint32_t n, ndays, last_day, break_day; /* break_day: day + 1 of the last break, 0: none */
	uint8_t used, established;
	uint8_t pad[6];
};

struct pentry {
	struct link l;
	struct nj_beacon_key key; /* client, proto, server port */
	struct pslot slot[PSLOTS];
};

_Static_assert(offsetof(struct pentry, key) == sizeof(struct link), "key after the link");

static inline struct pentry *P(const struct nj_periodic *p, uint32_t i)
{
	return (struct pentry *)L(&p->t, i);
}

struct nj_periodic *nj_periodic_create(const struct nj_periodic_config *cfg,
				       struct nj_eve_worker *eve, struct nj_beacon_stats *stats)
{
	struct nj_periodic *p = calloc(1, sizeof(*p));
	uint64_t cap;

	if (!p)
		return NULL;
	p->cfg = *cfg;
	if (p->cfg.days < 2)
		p->cfg.days = 2;
	p->eve = eve;
	p->st = stats ? stats : &p->own_st;
	p->expire_days = p->cfg.days * 2 > 7 ? p->cfg.days * 2 : 7;
	cap = cfg->memcap / (sizeof(struct pentry) + 6);
	if (cap < 16)
		cap = 16;
	if (cap > (1u << 28))
		cap = 1u << 28;
	if (tbl_init(&p->t, sizeof(struct pentry), (uint32_t)cap) < 0) {
		free(p);
		return NULL;
	}
	p->st->memuse += tbl_bytes(&p->t);
	return p;
}

void nj_periodic_destroy(struct nj_periodic *p)
{
	if (!p)
		return;
	tbl_free(&p->t);
	free(p);
}

void nj_periodic_set_hooks(struct nj_periodic *p, nj_beacon_report_fn report, void *report_arg,
			   nj_beacon_break_fn brk, void *brk_arg)
{
	p->report = report;
	p->report_arg = report_arg;
	p->brk = brk;
	p->brk_arg = brk_arg;
}

/* Signed distance a - b between two times of day, in (-43200, 43200]. */
static double tod_diff(double a, double b)
{
	double d = fmod(a - b, (double)DAY_S);

	if (d > DAY_S / 2)
		d -= DAY_S;
	else if (d <= -(double)(DAY_S / 2))
		d += DAY_S;
	return d;
}

static bool bytes_near(const struct nj_periodic *p, double bytes, double mean)
{
	return fabs(bytes - mean) <= mean * p->cfg.bytes_tolerance_pct / 100.0;
}

static void periodic_emit(struct nj_periodic *p, const struct pentry *e, const struct pslot *sl,
			  uint64_t ts)
{
	struct nj_beacon_key k = e->key;
	struct nj_beacon_report r;

	memcpy(k.dst, sl->server, 16);
	memset(&r, 0, sizeof(r));
	r.key = &k;
	r.periodic = true;
	r.ts_us = ts;
	r.first_seen_us = sl->first_us;
	r.last_seen_us = sl->last_us;
	r.count = sl->n;
	r.window = sl->n;
	r.bytes_mean = round(sl->bytes_mean);
	r.time_of_day_s = (uint32_t)lround(sl->tod_mean) % DAY_S;
	r.days = sl->ndays;
	p->st->periodic_established++;
	eve_report(p->eve, &r);
	if (p->report)
		p->report(p->report_arg, &r);
}

static void periodic_break(struct nj_periodic *p, const struct nj_beacon_key *k,
			   const struct pslot *sl, const char *reason, uint64_t ts, uint64_t bytes,
			   uint32_t tod)
{
	struct nj_beacon_break br;

	br.name = "periodic.schedule_break";
	br.reason = reason;
	br.key = k;
	br.ts_us = ts;
	br.bytes = bytes;
	br.time_of_day_s = tod;
	br.expected_dst = sl->server;
	br.expected_time_of_day_s = (uint32_t)lround(sl->tod_mean) % DAY_S;
	br.expected_bytes = sl->bytes_mean;
	br.days = sl->ndays;
	p->st->periodic_breaks++;
	eve_break(p->eve, &br);
	if (p->brk)
		p->brk(p->brk_arg, &br);
}

void nj_periodic_observe(struct nj_periodic *p, const struct nj_beacon_key *k, uint64_t ts_us,
			 uint64_t bytes)
{
	struct nj_beacon_key ek;
	struct pentry *e;
	struct pslot *best = NULL, *victim = NULL;
	uint64_t ts_s = ts_us / 1000000;
	uint32_t day = (uint32_t)(ts_s / DAY_S), tod = (uint32_t)(ts_s % DAY_S), h, i;
	double best_dt = INFINITY, tol = p ? p->cfg.time_tolerance_s : 0;

	if (!p || !p->cfg.enabled || bytes < p->cfg.min_bytes)
		return;
	p->st->periodic_observations++;
	/* keyed by client and service; the server is per slot */
	memset(&ek, 0, sizeof(ek));
	memcpy(ek.src, k->src, 16);
	ek.ipv6 = k->ipv6;
	ek.proto = k->proto;
	ek.port = k->port;
	h = key_hash(&ek);
	i = tbl_find(&p->t, h, &ek);
	if (i == NONE) {
		i = tbl_take(&p->t);
		if (i == NONE) {
			tbl_remove(&p->t, p->t.lru_old[LIST_CAND]);
			p->st->periodic_evicted++;
			p->st->periodic_entries--;
			i = tbl_take(&p->t);
		}
		tbl_insert(&p->t, i, h, &ek, LIST_CAND);
		p->st->periodic_entries++;
	} else {
		tbl_touch(&p->t, i);
	}
	e = P(p, i);

	for (unsigned s = 0; s < PSLOTS; s++) {
		struct pslot *sl = &e->slot[s];
		double dt;

		if (sl->used && sl->last_day + p->expire_days < day)
			sl->used = 0; /* a schedule not seen for long is forgotten */
		if (!sl->used || memcmp(sl->server, k->dst, 16) != 0)
			continue;
		dt = fabs(tod_diff(tod, sl->tod_mean));
		if (dt <= tol && bytes_near(p, (double)bytes, sl->bytes_mean) && dt < best_dt) {
			best = sl;
			best_dt = dt;
		}
	}
	if (best) {
		double t = best->tod_mean + tod_diff(tod, best->tod_mean) / (best->n + 1);

		best->n++;
		best->tod_mean = t < 0 ? t + DAY_S : (t >= DAY_S ? t - DAY_S : t);
		best->bytes_mean += ((double)bytes - best->bytes_mean) / best->n;
		if (day > best->last_day) {
			best->ndays++;
			best->last_day = day;
		}
		if (ts_us > best->last_us)
			best->last_us = ts_us;
		if (!best->established && best->ndays >= p->cfg.days) {
			best->established = 1;
			periodic_emit(p, e, best, ts_us);
		}
		return;
	}

	/* no schedule matches: does it break an established one in exactly one way? */
	for (unsigned s = 0; s < PSLOTS; s++) {
		struct pslot *sl = &e->slot[s];
		bool same, near_t, near_b;
		const char *reason = NULL;

		if (!sl->used || !sl->established || sl->break_day == day + 1)
			continue;
		same = memcmp(sl->server, k->dst, 16) == 0;
		near_t = fabs(tod_diff(tod, sl->tod_mean)) <= tol;
		near_b = bytes_near(p, (double)bytes, sl->bytes_mean);
		if (same && near_t && !near_b)
			reason = "size";
		else if (same && !near_t && near_b)
			reason = "time";
		else if (!same && near_t)
			reason = "destination";
		if (reason) {
			sl->break_day = day + 1;
			periodic_break(p, k, sl, reason, ts_us, bytes, tod);
			break;
		}
	}

	/* start a candidate schedule: a free slot, else the weakest unestablished one */
	for (unsigned s = 0; s < PSLOTS; s++) {
		struct pslot *sl = &e->slot[s];

		if (!sl->used) {
			victim = sl;
			break;
		}
		if (!sl->established &&
		    (!victim || sl->ndays < victim->ndays ||
		     (sl->ndays == victim->ndays && sl->last_us < victim->last_us)))
			victim = sl;
	}
	if (!victim) {
		p->st->periodic_slots_full++;
		return;
	}
	memset(victim, 0, sizeof(*victim));
	memcpy(victim->server, k->dst, 16);
	victim->first_us = victim->last_us = ts_us;
	victim->bytes_mean = (double)bytes;
	victim->tod_mean = tod;
	victim->n = 1;
	victim->ndays = 1;
	victim->last_day = day;
	victim->used = 1;
}

/* ------------------------------------------------------------------ life cycle */

/*
 * The gate: for k intervals, the fewest within the band such that a Poisson
 * process (exponential intervals; one falls within +-25 % of the median with
 * probability p0 = 2^-0.75 - 2^-1.25 = 0.174) gets as many with probability
 * at most p_value (binomial upper tail). k + 1 when even k of k is not enough.
 */
static void band_table(uint16_t *t, unsigned win, double p_value)
{
	const double p0 = pow(2.0, -(1.0 - BAND)) - pow(2.0, -(1.0 + BAND));

	for (unsigned k = 0; k <= win; k++) {
		double tail = 0;
		unsigned m = k + 1;

		for (unsigned i = k + 1; i-- > 0;) {
			tail += exp(lgamma(k + 1.0) - lgamma(i + 1.0) - lgamma(k - i + 1.0) +
				    i * log(p0) + (k - i) * log1p(-p0));
			if (tail > p_value)
				break;
			m = i;
		}
		t[k] = (uint16_t)m;
	}
}

struct nj_beacon *nj_beacon_create(const struct nj_beacon_config *cfg, struct nj_eve_worker *eve)
{
	struct nj_beacon *b;
	uint64_t nrings, nent, rb, eb;

	if (!cfg || cfg->window < 8 || cfg->window > 1024 || cfg->min_count < INLINE + 1 ||
	    cfg->min_count > cfg->window)
		return NULL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->cfg = *cfg;
	b->eve = eve;
	b->win = cfg->window;
	rb = ring_bytes(b->win);
	eb = sizeof(struct series) + 6; /* with its share of hash buckets */
	/* half for windows, half for entries: candidates must outlive a few slow intervals */
	nrings = cfg->max_series ? cfg->max_series : cfg->memcap / 2 / rb;
	if (nrings < 1)
		nrings = 1;
	if (nrings > (1u << 24))
		nrings = 1u << 24;
	nent = cfg->memcap > nrings * rb ? (cfg->memcap - nrings * rb) / eb : 0;
	/* every window belongs to an entry, and candidates need room besides */
	if (nent < 2 * nrings)
		nent = 2 * nrings;
	if (nent < 16)
		nent = 16;
	if (nent > (1u << 28))
		nent = 1u << 28;
	if (tbl_init(&b->t, sizeof(struct series), (uint32_t)nent) < 0)
		goto out_free;
	b->nrings = (uint32_t)nrings;
	b->rings = calloc(nrings, sizeof(*b->rings));
	b->rdata = calloc(nrings * 4 * b->win, sizeof(uint32_t));
	b->min_band = calloc(b->win + 1, sizeof(uint16_t));
	if (!b->rings || !b->rdata || !b->min_band)
		goto out_free_tbl;
	band_table(b->min_band, b->win, cfg->p_value);
	for (uint32_t r = 0; r < b->nrings; r++)
		b->rings[r].owner = r + 1 < b->nrings ? r + 1 : NONE;
	b->free_ring = 0;
	b->st.memuse = tbl_bytes(&b->t) + nrings * rb;
	if (cfg->periodic.enabled) {
		b->per = nj_periodic_create(&cfg->periodic, eve, &b->st);
		if (!b->per)
			goto out_free_tbl;
	}
	return b;

out_free_tbl:
	free(b->min_band);
	free(b->rings);
	free(b->rdata);
	tbl_free(&b->t);
out_free:
	free(b);
	return NULL;
}

void nj_beacon_destroy(struct nj_beacon *b)
{
	if (!b)
		return;
	nj_periodic_destroy(b->per);
	free(b->min_band);
	free(b->rings);
	free(b->rdata);
	tbl_free(&b->t);
	free(b);
}

const struct nj_beacon_stats *nj_beacon_stats(const struct nj_beacon *b)
{
	return &b->st;
}

const struct nj_beacon_config *nj_beacon_config(const struct nj_beacon *b)
{
	return &b->cfg;
}

void nj_beacon_set_report_hook(struct nj_beacon *b, nj_beacon_report_fn fn, void *arg)
{
	b->report = fn;
	b->report_arg = arg;
	if (b->per) {
		b->per->report = fn;
		b->per->report_arg = arg;
	}
}

void nj_beacon_set_break_hook(struct nj_beacon *b, nj_beacon_break_fn fn, void *arg)
{
	if (b->per) {
		b->per->brk = fn;
		b->per->brk_arg = arg;
	}
}

void nj_beacon_stats_foreach(const struct nj_beacon_stats *s,
			     void (*fn)(void *arg, const char *name, uint64_t v), void *arg)
{
	fn(arg, "beacon.observations", s->observations);
	fn(arg, "beacon.ignored", s->ignored);
	fn(arg, "beacon.merged", s->merged);
	fn(arg, "beacon.reordered", s->reordered);
	fn(arg, "beacon.late", s->late);
	fn(arg, "beacon.series", s->series);
	fn(arg, "beacon.tracked", s->tracked);
	fn(arg, "beacon.created", s->created);
	fn(arg, "beacon.promoted", s->promoted);
	fn(arg, "beacon.evicted_candidate", s->evicted_candidate);
	fn(arg, "beacon.evicted_tracked", s->evicted_tracked);
	fn(arg, "beacon.scored", s->scored);
	fn(arg, "beacon.gated", s->gated);
	fn(arg, "beacon.events_new", s->events_new);
	fn(arg, "beacon.events_changed", s->events_changed);
	fn(arg, "beacon.memuse", s->memuse);
	fn(arg, "periodic.observations", s->periodic_observations);
	fn(arg, "periodic.entries", s->periodic_entries);
	fn(arg, "periodic.evicted", s->periodic_evicted);
	fn(arg, "periodic.established", s->periodic_established);
	fn(arg, "periodic.breaks", s->periodic_breaks);
	fn(arg, "periodic.slots_full", s->periodic_slots_full);
}
