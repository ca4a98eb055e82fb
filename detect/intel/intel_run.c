/* SPDX-License-Identifier: MIT */
/* Threat intel at run time (see intel_run.h). */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/nj_common.h"
#include "config/config.h"
#include "dataplane/flow.h"
#include "dataplane/pkt.h"
#include "dset.h"
#include "export/eve.h"
#include "export/json.h"
#include "intel.h"
#include "intel_run.h"
#include "parsers/applayer.h"
#include "parsers/dns/dns.h"

NJ_CONF_KEY(in_sec, "intel", NJ_CT_MAP, "", "Threat intel indicator matching (docs/intel.md).")
NJ_CONF_KEY(in_en, "intel.enabled", NJ_CT_BOOL, "no", "Match traffic against intel.sources.")
NJ_CONF_KEY(in_sid, "intel.sid-base", NJ_CT_INT, "9000000",
	    "Intel alerts use signature_id sid-base + indicator kind (0 ip .. 10 cert-sha256).")
NJ_CONF_KEY(in_mem, "intel.memcap", NJ_CT_SIZE, "512mb",
	    "Memory of one loaded indicator set; a reload holds two for a moment.")
NJ_CONF_KEY(in_dedup, "intel.dedup-entries", NJ_CT_INT, "65536",
	    "Per worker: (flow, indicator) pairs remembered so a flow alerts once per indicator.")
NJ_CONF_KEY(in_ids, "intel.to-ids-only", NJ_CT_BOOL, "yes",
	    "MISP sources: only attributes flagged to_ids.")
NJ_CONF_KEY(in_src, "intel.sources", NJ_CT_LIST, "[]",
	    "Indicator sources: - {path, format: plain|csv|misp-json|misp-csv, type, name}.")

#define MAX_SOURCES 32
#define NEG_SIZE    4096u
#define MAX_RETIRED 8

struct nj_intel_thread {
	_Atomic uint64_t epoch; /* last global epoch seen at a quiescent point */
	const struct nj_intel_set *set;
	struct nj_eve_worker *eve;
	bool alerts; /* eve wants alerts */
	uint64_t *seen;
	uint32_t seen_mask;
	/* values recently looked up without a match (keyed with the set's
	 * generation): servers, names and fingerprints repeat across flows, and a
	 * repeat then costs a hash and one L1/L2 read instead of cold probes */
	uint64_t neg[NEG_SIZE];
	struct nj_intel_stats st;
	/* per parser: the buffers intel reads */
	struct pf {
		uint8_t n;
		bool dns;
		bool (*host)(const struct nj_al_tx *, const uint8_t **, uint32_t *);
		bool (*uri)(const struct nj_al_tx *, const uint8_t **, uint32_t *);
		struct {
			uint8_t role, dir;
			const char *name;
			bool (*get)(const struct nj_al_tx *, const uint8_t **, uint32_t *);
		} f[8];
	} pf[NJ_APP_MAX_PARSERS];
} NJ_ALIGNED;

enum { R_DOMAIN, R_CERTFP, R_JA3, R_JA4 };

static struct {
	bool enabled;
	uint32_t sid_base;
	uint64_t memcap;
	uint32_t dedup;
	bool to_ids;
	struct nj_intel_source src[MAX_SOURCES];
	unsigned nsrc;
	_Atomic(struct nj_intel_set *) cur;
	_Atomic uint64_t epoch;
	struct nj_intel_thread *threads[NJ_MAX_WORKERS];
	pthread_mutex_t lock; /* threads[] and retired[]: control path only */
	struct nj_intel_set *retired[MAX_RETIRED];
	uint64_t retired_epoch[MAX_RETIRED];
	unsigned nretired;
	pthread_t reloader;
	bool reloader_on;
	atomic_int stop, reload_req;
	uint64_t reloads, reload_failures;
	struct nj_intel_stats total; /* of the threads freed (lock held) */
} G = {.lock = PTHREAD_MUTEX_INITIALIZER, .epoch = 1};

bool nj_intel_enabled(void)
{
	return G.enabled;
}

const struct nj_intel_set *nj_intel_current(void)
{
	return atomic_load(&G.cur);
}

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Loads every configured source into a new set; NULL with a message. */
static struct nj_intel_set *build(void)
{
	struct nj_intel_set *s = nj_intel_set_new(G.memcap);
	uint64_t t0 = clock_ns(CLOCK_MONOTONIC), c0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	char err[512];

	if (!s) {
		NJ_ERR("intel: out of memory");
		return NULL;
	}
	for (unsigned i = 0; i < G.nsrc; i++) {
		int r = nj_intel_load(s, &G.src[i], err, sizeof(err));

		if (r < 0) {
			NJ_ERR("intel: %s", err);
			nj_intel_set_free(s);
			return NULL;
		}
	}
	if (nj_intel_set_finish(s) < 0) {
		NJ_ERR("intel: out of memory");
		nj_intel_set_free(s);
		return NULL;
	}
	s->load_ns = clock_ns(CLOCK_MONOTONIC) - t0;
	s->load_cpu_ns = clock_ns(CLOCK_THREAD_CPUTIME_ID) - c0;
	return s;
}

static void print_summary(const struct nj_intel_set *s, const char *what)
{
	char kinds[512];
	size_t o = 0;

	kinds[0] = '\0';
	for (unsigned k = 0; k < NJ_IK_MAX; k++)
		if (s->count[k] && o < sizeof(kinds))
			o += (size_t)snprintf(kinds + o, sizeof(kinds) - o, "%s%s %llu",
					      o ? ", " : "", nj_intel_kind_names[k],
					      (unsigned long long)s->count[k]);
	printf("intel: %s %u indicators (%s) from %u source(s) in %.2f s (%.2f s CPU), %.1f MiB; "
	       "%llu malformed, %llu unsupported type, %llu duplicate, %llu not to_ids\n",
	       what, s->ninds, kinds, G.nsrc, (double)s->load_ns / 1e9,
	       (double)s->load_cpu_ns / 1e9, (double)s->mem / (1024.0 * 1024.0),
	       (unsigned long long)s->bad, (unsigned long long)s->unsupported,
	       (unsigned long long)s->dups, (unsigned long long)s->skipped_no_ids);
	fflush(stdout);
}

int nj_intel_init(const struct nj_conf *conf)
{
	const struct nj_conf_node *sec = nj_conf_get(conf, "intel"), *srcs;
	int64_t v;
	struct nj_intel_set *s;

	G.sid_base = 9000000;
	G.memcap = 512ull << 20;
	G.dedup = 65536;
	G.to_ids = true;
	if (!sec)
		return 0;
	if (nj_conf_bool(conf, sec, "enabled", &G.enabled) < 0)
		return -1;
	if (!G.enabled)
		return 0;
	if (nj_conf_int(conf, sec, "sid-base", 1, UINT32_MAX - NJ_IK_MAX, &v) < 0)
		return -1;
	if (nj_conf_int(conf, sec, "sid-base", 1, UINT32_MAX - NJ_IK_MAX, &v) == 0)
		G.sid_base = (uint32_t)v;
	if (nj_conf_size(conf, sec, "memcap", &G.memcap) < 0 ||
	    nj_conf_bool(conf, sec, "to-ids-only", &G.to_ids) < 0 ||
	    nj_conf_int(conf, sec, "dedup-entries", 64, 1 << 26, &v) < 0)
		return -1;
	if (nj_conf_int(conf, sec, "dedup-entries", 64, 1 << 26, &v) == 0)
		G.dedup = (uint32_t)v;
	srcs = nj_conf_node_get(sec, "sources");
	for (const struct nj_conf_node *n = srcs ? srcs->child : NULL; n; n = n->next) {
		struct nj_intel_source *src = &G.src[G.nsrc];
		const char *path = NULL, *fmt = NULL, *type = NULL, *name = NULL;
		int f;

		if (G.nsrc >= MAX_SOURCES) {
			NJ_ERR("intel.sources: at most %d sources", MAX_SOURCES);
			return -1;
		}
		if (n->kind == NJ_CONF_SCALAR) {
			path = n->value;
		} else {
			nj_conf_str(conf, n, "path", &path);
			nj_conf_str(conf, n, "format", &fmt);
			nj_conf_str(conf, n, "type", &type);
			nj_conf_str(conf, n, "name", &name);
		}
		if (!path || (f = nj_intel_format_parse(fmt)) < 0) {
			NJ_ERR("%s:%d: intel.sources: path missing or format not one of plain, "
			       "csv, "
			       "misp-json, misp-csv",
			       n->file ? n->file : "?", n->line);
			return -1;
		}
		src->path = strdup(path);
		src->name = name ? strdup(name) : NULL;
		src->type = type ? strdup(type) : NULL;
		src->format = (enum nj_intel_format)f;
		src->to_ids_only = G.to_ids;
		G.nsrc++;
	}
	s = build();
	if (!s)
		return -1;
	print_summary(s, "loaded");
	atomic_store(&G.cur, s);
	return 0;
}

/* ------------------------------------------------------------ reload */

static bool all_passed(uint64_t epoch)
{
	for (unsigned i = 0; i < NJ_MAX_WORKERS; i++) {
		struct nj_intel_thread *t = G.threads[i];

		if (t && atomic_load(&t->epoch) < epoch)
			return false;
	}
	return true;
}

/* Frees retired sets every worker has moved past (lock held). */
static void reap(void)
{
	unsigned k = 0;

	for (unsigned i = 0; i < G.nretired; i++) {
		if (all_passed(G.retired_epoch[i]))
			nj_intel_set_free(G.retired[i]);
		else {
			G.retired[k] = G.retired[i];
			G.retired_epoch[k++] = G.retired_epoch[i];
		}
	}
	G.nretired = k;
}

int nj_intel_reload(void)
{
	struct nj_intel_set *s, *old;
	uint64_t epoch;

	if (!G.enabled)
		return -ENOTSUP;
	s = build();
	if (!s) {
		G.reload_failures++;
		NJ_ERR("intel: reload failed, the previous indicators stay in use");
		return -EINVAL;
	}
	pthread_mutex_lock(&G.lock);
	old = atomic_exchange(&G.cur, s);
	/* a worker that saw this epoch (or later) loaded the new pointer after it */
	epoch = atomic_fetch_add(&G.epoch, 1) + 1;
	if (old) {
		if (G.nretired == MAX_RETIRED) {
			pthread_mutex_unlock(&G.lock);
			/* too many in flight: wait for the oldest to drain */
			while (!all_passed(G.retired_epoch[0]) && !atomic_load(&G.stop))
				usleep(10000);
			pthread_mutex_lock(&G.lock);
		}
		if (G.nretired < MAX_RETIRED) {
			G.retired[G.nretired] = old;
			G.retired_epoch[G.nretired++] = epoch;
		}
	}
	pthread_mutex_unlock(&G.lock);
	/* give the workers a moment to pass a burst boundary, then free what we can */
	for (int i = 0; i < 200 && !all_passed(epoch); i++)
		usleep(5000);
	pthread_mutex_lock(&G.lock);
	reap();
	pthread_mutex_unlock(&G.lock);
	G.reloads++;
	print_summary(s, "reloaded");
	return 0;
}

void nj_intel_request_reload(void)
{
	atomic_store(&G.reload_req, 1);
}

static void *reloader_main(void *arg)
{
	(void)arg;
	while (!atomic_load(&G.stop)) {
		if (atomic_exchange(&G.reload_req, 0))
			nj_intel_reload();
		usleep(100000);
	}
	return NULL;
}

int nj_intel_start_reloader(void)
{
	int r;

	if (!G.enabled || G.reloader_on)
		return 0;
	r = pthread_create(&G.reloader, NULL, reloader_main, NULL);
	if (r)
		return -r;
	G.reloader_on = true;
	return 0;
}

void nj_intel_shutdown(void)
{
	atomic_store(&G.stop, 1);
	if (G.reloader_on)
		pthread_join(G.reloader, NULL);
	G.reloader_on = false;
	if (G.enabled && G.total.lookups)
		printf("intel: %llu lookups, %llu matches, %llu alerts, %llu repeats suppressed, "
		       "%llu "
		       "reloads\n",
		       (unsigned long long)G.total.lookups, (unsigned long long)G.total.matches,
		       (unsigned long long)G.total.alerts,
		       (unsigned long long)G.total.dedup_suppressed, (unsigned long long)G.reloads);
	memset(&G.total, 0, sizeof(G.total));
	for (unsigned i = 0; i < G.nretired; i++)
		nj_intel_set_free(G.retired[i]);
	G.nretired = 0;
	nj_intel_set_free(atomic_exchange(&G.cur, NULL));
	for (unsigned i = 0; i < G.nsrc; i++) {
		free((void *)G.src[i].path);
		free((void *)G.src[i].name);
		free((void *)G.src[i].type);
	}
	G.nsrc = 0;
	G.enabled = false;
	atomic_store(&G.stop, 0);
}

/* ------------------------------------------------------------ threads */

static void map_parser(struct pf *pf, const struct nj_app_parser *p)
{
	static const struct {
		const char *name;
		uint8_t role;
	} roles[] = {
		{"dns.query", R_DOMAIN}, {"http.host", R_DOMAIN},
		{"tls.sni", R_DOMAIN},	 {"tls.cert_fingerprint", R_CERTFP},
		{"ja3.hash", R_JA3},	 {"ja4.hash", R_JA4},
	};

	pf->dns = strcmp(p->name, "dns") == 0;
	for (const struct nj_al_buffer *b = p->buffers; b && b->name; b++) {
		if (strcmp(b->name, "http.host") == 0 && b->dir == NJ_DIR_TOSERVER)
			pf->host = b->get;
		if (strcmp(b->name, "http.uri") == 0 && b->dir == NJ_DIR_TOSERVER)
			pf->uri = b->get;
		for (unsigned r = 0; r < sizeof(roles) / sizeof(roles[0]); r++) {
			if (strcmp(b->name, roles[r].name) != 0 || pf->n >= 8)
				continue;
			pf->f[pf->n].role = roles[r].role;
			pf->f[pf->n].dir = (uint8_t)b->dir;
			pf->f[pf->n].name = b->name;
			pf->f[pf->n].get = b->get;
			pf->n++;
		}
	}
}

struct nj_intel_thread *nj_intel_thread_create(struct nj_eve_worker *eve)
{
	struct nj_intel_thread *t;
	uint32_t n = 4;

	if (!G.enabled)
		return NULL;
	if (posix_memalign((void **)&t, NJ_CACHE_LINE, sizeof(*t)) != 0)
		return NULL;
	memset(t, 0, sizeof(*t));
	while (n < G.dedup)
		n <<= 1;
	t->seen = calloc(n, sizeof(*t->seen));
	if (!t->seen) {
		free(t);
		return NULL;
	}
	t->seen_mask = n - 1;
	t->eve = eve;
	t->alerts = eve && nj_eve_wants(eve, NJ_EVE_ALERT);
	for (uint16_t id = 1; id < NJ_APP_MAX_PARSERS; id++) {
		const struct nj_app_parser *p = nj_app_parser_by_id(id);

		if (p)
			map_parser(&t->pf[id], p);
	}
	pthread_mutex_lock(&G.lock);
	atomic_store(&t->epoch, atomic_load(&G.epoch));
	t->set = atomic_load(&G.cur);
	for (unsigned i = 0; i < NJ_MAX_WORKERS; i++)
		if (!G.threads[i]) {
			G.threads[i] = t;
			break;
		}
	pthread_mutex_unlock(&G.lock);
	return t;
}

void nj_intel_thread_free(struct nj_intel_thread *t)
{
	if (!t)
		return;
	pthread_mutex_lock(&G.lock);
	for (unsigned i = 0; i < NJ_MAX_WORKERS; i++)
		if (G.threads[i] == t)
			G.threads[i] = NULL;
	G.total.lookups += t->st.lookups;
	G.total.matches += t->st.matches;
	G.total.alerts += t->st.alerts;
	G.total.dedup_suppressed += t->st.dedup_suppressed;
	pthread_mutex_unlock(&G.lock);
	free(t->seen);
	free(t);
}

const struct nj_intel_stats *nj_intel_thread_stats(const struct nj_intel_thread *t)
{
	return &t->st;
}

void nj_intel_quiescent(struct nj_intel_thread *t)
{
	/* epoch first: a worker that publishes epoch E has loaded the set of E or later */
	uint64_t e = atomic_load_explicit(&G.epoch, memory_order_acquire);

	t->set = atomic_load_explicit(&G.cur, memory_order_acquire);
	atomic_store_explicit(&t->epoch, e, memory_order_release);
}

/* ------------------------------------------------------------ alerts */

static const char *const level_names[5] = {"undefined", "high", "medium", "low", "undefined"};

/* True the first time this flow meets this indicator (set-associative, 4 ways). */
static bool first_sighting(struct nj_intel_thread *t, const struct nj_flow *f,
			   const struct nj_intel_ind *ind)
{
	uint64_t k[3] = {f ? f->flow_id : 0, (uint64_t)(ind - t->set->inds), t->set->generation};
	uint64_t h = nj_intel_hash(k, sizeof(k), 0x1e7) | 1;
	uint64_t *b = &t->seen[(uint32_t)h & t->seen_mask & ~3u];

	for (unsigned i = 0; i < 4; i++)
		if (b[i] == h)
			return false;
	for (unsigned i = 0; i < 4; i++)
		if (!b[i]) {
			b[i] = h;
			return true;
		}
	b[(h >> 40) & 3] = h; /* evict one: bounded memory, rare repeat alert */
	return true;
}

static void meta_arr(struct nj_json *j, const char *key, const char *v)
{
	if (!v)
		return;
	nj_json_open_arr(j, key);
	nj_json_str(j, NULL, v);
	nj_json_close_arr(j);
}

static void intel_alert(struct nj_intel_thread *t, const struct nj_intel_ind *ind,
			struct nj_flow *f, const struct nj_pkt *p, int dir, const char *field,
			const uint8_t *matched, uint32_t mlen, uint64_t ts_us)
{
	const struct nj_intel_set *s = t->set;
	const struct nj_intel_ctx *c = nj_intel_ind_ctx(s, ind);
	const char *kind = nj_intel_kind_names[ind->kind], *src = nj_intel_str(s, c->source);
	const char *evid = nj_intel_str(s, c->event_id), *info = nj_intel_str(s, c->info);
	const char *tag = nj_intel_str(s, c->tags);
	char msg[512];
	struct nj_json *j;

	t->st.matches++;
	if (!first_sighting(t, f, ind)) {
		t->st.dedup_suppressed++;
		return;
	}
	t->st.alerts++;
	if (f)
		f->alerted = 1; /* flow events: "alerted": true */
	if (!t->alerts)
		return;
	snprintf(msg, sizeof(msg), "NIGHTJAR intel %s match: %s%s%s%s%s", kind,
		 nj_intel_ind_value(s, ind), evid || info ? " (" : "", evid ? "event " : "",
		 evid ? evid : "", evid || info ? (info ? (evid ? ": " : "") : ")") : "");
	if (info) {
		size_t o = strlen(msg);

		snprintf(msg + o, sizeof(msg) - o, "%s)", info);
	}
	j = nj_eve_begin(t->eve, NJ_EVE_ALERT, ts_us, f, p);
	nj_json_open_obj(j, "alert");
	nj_json_str(j, "action", "allowed");
	nj_json_u64(j, "gid", 1);
	nj_json_u64(j, "signature_id", G.sid_base + ind->kind);
	nj_json_u64(j, "rev", 1);
	nj_json_str(j, "signature", msg);
	nj_json_str(j, "category", "Threat Intelligence");
	nj_json_u64(j, "severity", c->threat_level == 1 ? 1 : c->threat_level == 2 ? 2 : 3);
	nj_json_open_obj(j, "metadata");
	meta_arr(j, "intel_source", src);
	meta_arr(j, "intel_event_id", evid);
	meta_arr(j, "intel_type", kind);
	if (c->ntags) {
		const char *tg = tag;

		nj_json_open_arr(j, "intel_tags");
		for (unsigned i = 0; i < c->ntags; i++, tg += strlen(tg) + 1)
			nj_json_str(j, NULL, tg);
		nj_json_close_arr(j);
	}
	nj_json_close_obj(j);
	nj_json_close_obj(j);
	if (f && f->app_proto)
		nj_json_str(j, "app_proto", nj_app_proto_name(f->app_proto));
	if (dir >= 0)
		nj_json_str(j, "direction", dir ? "to_client" : "to_server");
	nj_json_open_obj(j, "intel");
	nj_json_str(j, "indicator", nj_intel_ind_value(s, ind));
	nj_json_str(j, "type", kind);
	nj_json_str(j, "field", field);
	if (matched && mlen)
		nj_json_strn(j, "matched", matched, mlen);
	if (src)
		nj_json_str(j, "source", src);
	if (evid)
		nj_json_str(j, "event_id", evid);
	if (c->event_uuid)
		nj_json_str(j, "event_uuid", nj_intel_str(s, c->event_uuid));
	if (info)
		nj_json_str(j, "event_info", info);
	nj_json_open_arr(j, "tags");
	for (unsigned i = 0; i < c->ntags; i++, tag += strlen(tag) + 1)
		nj_json_str(j, NULL, tag);
	nj_json_close_arr(j);
	nj_json_u64(j, "threat_level_id", c->threat_level);
	nj_json_str(j, "threat_level", level_names[c->threat_level <= 4 ? c->threat_level : 4]);
	nj_json_close_obj(j);
	nj_eve_commit(t->eve);
}

/* ------------------------------------------------------------ hooks */

enum { W_IP = 1, W_DOMAIN, W_CERTFP, W_JA3, W_JA4, W_URL };

static inline uint64_t neg_key(const struct nj_intel_thread *t, unsigned what, const void *d,
			       size_t n, uint64_t seed)
{
	return nj_intel_hash(d, n, (t->set->generation << 8 | what) ^ seed) | 1;
}

/* Looks up through the negative cache: fn is only called for values not seen missing lately. */
#define CACHED(t, what, d, n, seed, call)                      \
	({                                                     \
		uint64_t k_ = neg_key(t, what, d, n, seed);    \
		uint64_t *e_ = &(t)->neg[k_ & (NEG_SIZE - 1)]; \
		const struct nj_intel_ind *r_ = NULL;          \
		if (*e_ != k_ && !(r_ = (call)))               \
			*e_ = k_;                              \
		r_;                                            \
	})

void nj_intel_burst(struct nj_intel_thread *t, struct nj_pkt *pkts, uint16_t n)
{
	const struct nj_intel_set *s;

	nj_intel_quiescent(t);
	s = t->set;
	if (!s || !(s->kinds & (1u << NJ_IK_IP)))
		return;
	for (uint16_t i = 0; i < n; i++) {
		struct nj_pkt *p = &pkts[i];
		struct nj_flow *f = p->flow;
		const struct nj_intel_ind *ind;
		unsigned alen;

		/* the packet that started the flow: its addresses, once */
		if (!f || p->ts_us != f->start_us || !(p->flags & (NJ_PKT_IPV4 | NJ_PKT_IPV6)))
			continue;
		alen = nj_pkt_addr_len(p);
		t->st.lookups += 2;
		if ((ind = CACHED(t, W_IP, nj_pkt_src(p), alen, 0,
				  nj_intel_match_ip(s, nj_pkt_src(p), alen))))
			intel_alert(t, ind, f, p, -1, "src_ip", NULL, 0, p->ts_us);
		if ((ind = CACHED(t, W_IP, nj_pkt_dst(p), alen, 0,
				  nj_intel_match_ip(s, nj_pkt_dst(p), alen))))
			intel_alert(t, ind, f, p, -1, "dest_ip", NULL, 0, p->ts_us);
	}
}

static void dns_answers(struct nj_intel_thread *t, struct nj_flow *f, const struct nj_al_tx *tx)
{
	const struct nj_intel_set *s = t->set;
	const struct nj_dns_msg *m = nj_dns_tx_msg(tx, NJ_DIR_TOCLIENT);
	const struct nj_dns_msg *q = nj_dns_tx_msg(tx, NJ_DIR_TOSERVER);
	struct nj_dns_name name;
	uint32_t pos;

	if (!m || !m->info.count[NJ_DNS_SEC_AN])
		return;
	pos = m->info.off[NJ_DNS_SEC_AN];
	for (unsigned i = 0; i < m->info.count[NJ_DNS_SEC_AN]; i++) {
		struct nj_dns_rr rr;
		const struct nj_intel_ind *ind;
		const uint8_t *d = NULL;
		uint32_t dl = 0, next;

		if (nj_dns_rr_read(m->data, m->len, &pos, &name, &rr) < 0)
			return;
		/* the owner name (unless it is the query, checked with the request),
		 * then the data: both may be indicators */
		t->st.lookups += 2;
		if (!(q && q->qname_len == name.len &&
		      memcmp(q->qname, name.data, name.len) == 0) &&
		    (ind = CACHED(t, W_DOMAIN, name.data, name.len, 0,
				  nj_intel_match_domain(s, name.data, name.len))))
			intel_alert(t, ind, f, NULL, NJ_DIR_TOCLIENT, "dns.answer.rrname",
				    name.data, name.len, m->ts_us);
		ind = NULL;
		if ((rr.type == NJ_DNS_T_A && rr.rdata_len == 4) ||
		    (rr.type == NJ_DNS_T_AAAA && rr.rdata_len == 16)) {
			ind = CACHED(t, W_IP, m->data + rr.rdata_off, rr.rdata_len, 0,
				     nj_intel_match_ip(s, m->data + rr.rdata_off, rr.rdata_len));
		} else if (rr.type == NJ_DNS_T_CNAME &&
			   nj_dns_name_decode(m->data, m->len, rr.rdata_off,
					      rr.rdata_off + rr.rdata_len, &name, &next) == 0) {
			ind = CACHED(t, W_DOMAIN, name.data, name.len, 0,
				     nj_intel_match_domain(s, name.data, name.len));
			d = name.data;
			dl = name.len;
		}
		if (ind)
			intel_alert(t, ind, f, NULL, NJ_DIR_TOCLIENT, "dns.answer.rdata", d, dl,
				    m->ts_us);
	}
}

void nj_intel_tx(struct nj_intel_thread *t, struct nj_flow *f, const struct nj_app_parser *parser,
		 const struct nj_al_tx *tx, int dir)
{
	const struct nj_intel_set *s = t->set;
	const struct pf *pf;
	uint64_t ts = f ? f->last_us : 0;

	if (!s || !s->ninds || !parser || !f || f->app_proto >= NJ_APP_MAX_PARSERS)
		return;
	pf = &t->pf[f->app_proto];
	for (unsigned i = 0; i < pf->n; i++) {
		const uint8_t *d;
		uint32_t len;
		const struct nj_intel_ind *ind = NULL;

		if (pf->f[i].dir != dir || !pf->f[i].get(tx, &d, &len) || !len)
			continue;
		t->st.lookups++;
		switch (pf->f[i].role) {
		case R_DOMAIN: {
			uint32_t hl = len;

			/* http.host may carry a port */
			for (uint32_t k = 0; k < len; k++)
				if (d[k] == ':') {
					hl = k;
					break;
				}
			ind = CACHED(t, W_DOMAIN, d, hl, 0, nj_intel_match_domain(s, d, hl));
			break;
		}
		case R_CERTFP:
			ind = CACHED(t, W_CERTFP, d, len, 0, nj_intel_match_certfp(s, d, len));
			break;
		case R_JA3:
			ind = CACHED(t, W_JA3, d, len, 0,
				     nj_intel_match_text(s, NJ_IK_JA3, d, len));
			break;
		case R_JA4:
			ind = CACHED(t, W_JA4, d, len, 0,
				     nj_intel_match_text(s, NJ_IK_JA4, d, len));
			break;
		}
		if (ind)
			intel_alert(t, ind, f, NULL, dir, pf->f[i].name, d, len, ts);
	}
	if (dir == NJ_DIR_TOSERVER && pf->uri && (s->kinds & (1u << NJ_IK_URL))) {
		const uint8_t *h = NULL, *u;
		uint32_t hl = 0, ul;
		const struct nj_intel_ind *ind;

		if (pf->uri(tx, &u, &ul)) {
			if (pf->host)
				pf->host(tx, &h, &hl);
			t->st.lookups++;
			if ((ind = CACHED(t, W_URL, u, ul, h ? nj_intel_hash(h, hl, 7) : 0,
					  nj_intel_match_url(s, h, hl, u, ul))))
				intel_alert(t, ind, f, NULL, dir, "http.url", u, ul, ts);
		}
	}
	if (pf->dns && dir == NJ_DIR_TOCLIENT &&
	    (s->kinds & ((1u << NJ_IK_IP) | (1u << NJ_IK_DOMAIN) | (1u << NJ_IK_HOST))))
		dns_answers(t, f, tx);
}

void nj_intel_file(void *thread, struct nj_flow *f, const uint8_t *md5, const uint8_t *sha1,
		   const uint8_t *sha256, uint64_t ts_us)
{
	struct nj_intel_thread *t = thread;
	const struct nj_intel_set *s = t ? t->set : NULL;
	const struct nj_intel_ind *ind = NULL;
	const char *field = NULL;

	if (!s)
		return;
	t->st.lookups++;
	if (sha256 && (ind = nj_intel_match_hash(s, NJ_IK_SHA256, sha256, 32)))
		field = "fileinfo.sha256";
	else if (sha1 && (ind = nj_intel_match_hash(s, NJ_IK_SHA1, sha1, 20)))
		field = "fileinfo.sha1";
	else if (md5 && (ind = nj_intel_match_hash(s, NJ_IK_MD5, md5, 16)))
		field = "fileinfo.md5";
	if (ind)
		intel_alert(t, ind, f, NULL, -1, field, NULL, 0, ts_us);
}
