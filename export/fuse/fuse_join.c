/* SPDX-License-Identifier: MIT */
/*
 * The join state. Both sides are held in time-ordered FIFOs (one per kind,
 * each with a count cap and an age limit, every drop counted) and indexed by
 * string keys in chained hash maps; whichever side of a pair arrives second
 * makes the join, so late events are handled as long as the other side is
 * still held. docs/fusion.md lists the rules and their confidences.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "../community_id.h"
#include "fuse.h"

enum item_kind { IT_EP = 0, IT_NET, IT_PROC, IT_KINDS };

/* Decisions that wait for late records: a DNS query, a NAT'd flow, an osquery file hash. */
enum pend_kind { PEND_DNS = 0, PEND_NAT, PEND_HASH };

#define ITEM_KEYS 4
#define WIRE_IPS  (1u << 17) /* at most half used: 65536 addresses */
#define HOST_IPS  16
#define OFF_N	  16

struct map;

struct item {
	struct item *prev, *next; /* FIFO of its kind */
	enum item_kind kind;
	double time; /* event time (flow start for flows) */
	double ts;   /* EVE timestamp (flow end for flows) */
	bool replayed;
	bool joined; /* EID 3: has its flow; EID 22 / 11: has its wire event; NET: used */
	double flow_start, flow_end; /* EID 3 joined: its flow's span */
	struct nj_fuse_ep ep;
	json_t *ev;
	char cid[48];
	struct {
		struct map *m;
		char *key;
	} keys[ITEM_KEYS];
	uint64_t *emitted; /* dedup: hashes of network objects this record was joined to */
	unsigned n_emitted;
	char *dkey;		    /* NET context events: their dedup key */
	struct item *pprev, *pnext; /* pending decisions (DNS wire queries) */
	bool pending;
	uint8_t pend_kind; /* enum pend_kind: what decide() does with it */
	double decide_at;
};

struct node {
	char *key;
	struct item *it;
	struct node *next;
};

struct map {
	struct node **b;
	size_t mask;
	unsigned per_key; /* most items under one key (newest kept): bounds every scan */
};

struct host {
	char *name;
	char *ips[HOST_IPS];
	unsigned n_ips;
	double off[OFF_N];
	unsigned n_off;
	struct host *next;
};

struct fifo {
	struct item *head, *tail;
	unsigned n;
};

struct nj_fuse {
	struct nj_fuse_cfg cfg;
	nj_fuse_emit_fn emit;
	void *arg;
	struct nj_fuse_counters c;
	struct fifo q[IT_KINDS];
	double now;
	/* endpoint side */
	struct map ep_cid, ep_nat, ep_name, ep_sha, ep_file, ep_dns, proc_pid, proc_guid;
	/* network side */
	struct map net_cid, net_nat, net_name, net_sha, net_file, net_dns;
	struct host *hosts;
	struct map ipname;  /* "host|ip" -> EID 22 item that resolved it (dns_name fallback) */
	struct map net_ctx; /* cid -> fileinfo / alert events (process of their flow) */
	struct map ep_guid; /* "host|guid" -> EID 3 records (identity when no EID 1 is held) */
	struct item *pend_head, *pend_tail;
	uint64_t wire_ips[WIRE_IPS]; /* addresses seen in flow events (dns_name guard) */
	size_t n_wire_ips;
	double ck_now;	     /* watermark of the checkpoint this run resumed from */
	json_t *join_extra;  /* merged into the next emit()'s join object */
	struct map net_resp; /* "cid|dns id" -> DNS responses (answers for dns_query joins) */
	bool deferring;	     /* emit() called from a deferred decision taken at defer_at */
	double defer_at;
	struct map ep_write; /* "host|path" -> records of a process writing it (osquery) */
};

/* Every map, for init and teardown. */
#define FUSE_MAPS(f)                                                                               \
	{                                                                                          \
		&(f)->ep_cid, &(f)->ep_nat, &(f)->ep_name, &(f)->ep_sha, &(f)->ep_file,            \
			&(f)->ep_dns, &(f)->proc_pid, &(f)->proc_guid, &(f)->net_cid,              \
			&(f)->net_nat, &(f)->net_name, &(f)->net_sha, &(f)->net_file,              \
			&(f)->net_dns, &(f)->ipname, &(f)->net_ctx, &(f)->ep_guid, &(f)->net_resp, \
			&(f)->ep_write                                                             \
	}

/* ---- small helpers ---- */

static uint64_t fnv(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static int map_init(struct map *m, size_t n)
{
	size_t sz = 1024;

	while (sz < n && sz < (1u << 24))
		sz <<= 1;
	m->b = calloc(sz, sizeof(*m->b));
	m->mask = sz - 1;
	return m->b ? 0 : -ENOMEM;
}

static void map_free(struct map *m)
{
	if (!m->b)
		return;
	for (size_t i = 0; i <= m->mask; i++) {
		struct node *n = m->b[i], *nx;

		for (; n; n = nx) {
			nx = n->next;
			free(n->key);
			free(n);
		}
	}
	free(m->b);
	m->b = NULL;
}

/* Indexes it under key in m; the item remembers it so expiry can unlink it. */
/* Forgets that it is indexed under key in m (the node is already gone). */
static void item_unkey(struct item *it, struct map *m, const char *key)
{
	for (unsigned k = 0; k < ITEM_KEYS && it->keys[k].m; k++) {
		if (it->keys[k].m == m && !strcmp(it->keys[k].key, key)) {
			free(it->keys[k].key);
			memmove(&it->keys[k], &it->keys[k + 1],
				(ITEM_KEYS - 1 - k) * sizeof(it->keys[0]));
			it->keys[ITEM_KEYS - 1].m = NULL;
			it->keys[ITEM_KEYS - 1].key = NULL;
			return;
		}
	}
}

static uint64_t trimmed; /* summed into the counters by nj_fuse_counters */

static void map_add(struct map *m, const char *key, struct item *it)
{
	struct node *n, **pp, **oldest = NULL;
	size_t h = fnv(key) & m->mask;
	unsigned k, same = 0;

	for (k = 0; k < ITEM_KEYS && it->keys[k].m; k++)
		;
	if (k == ITEM_KEYS)
		return;
	/* a key shared by too many items (pid reuse, a name asked all day): drop the oldest */
	for (pp = &m->b[h]; *pp; pp = &(*pp)->next) {
		if (!strcmp((*pp)->key, key)) {
			same++;
			oldest = pp;
		}
	}
	if (m->per_key && same >= m->per_key && oldest) {
		struct node *o = *oldest;

		*oldest = o->next;
		item_unkey(o->it, m, key);
		free(o->key);
		free(o);
		trimmed++;
	}
	n = malloc(sizeof(*n));
	if (!n)
		return;
	n->key = strdup(key);
	if (!n->key) {
		free(n);
		return;
	}
	it->keys[k].key = strdup(key);
	if (!it->keys[k].key) {
		free(n->key);
		free(n);
		return;
	}
	it->keys[k].m = m;
	n->it = it;
	n->next = m->b[h];
	m->b[h] = n;
}

static void map_del(struct map *m, const char *key, struct item *it)
{
	struct node **pp = &m->b[fnv(key) & m->mask];

	for (; *pp; pp = &(*pp)->next) {
		if ((*pp)->it == it && !strcmp((*pp)->key, key)) {
			struct node *n = *pp;

			*pp = n->next;
			free(n->key);
			free(n);
			return;
		}
	}
}

/* Calls fn for every item under key; stops early when fn returns true. */
#define MAP_FOREACH(m, k, var)                                                                    \
	for (struct node *var##_n = (m)->b[fnv(k) & (m)->mask]; var##_n; var##_n = var##_n->next) \
		for (struct item *var = var##_n->it; var && !strcmp(var##_n->key, k); var = NULL)

static void lower(char *s)
{
	for (; s && *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

static const char *jstr(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static long jint(json_t *o, const char *k, long dflt)
{
	json_t *v = json_object_get(o, k);

	return json_is_integer(v) ? (long)json_integer_value(v) : dflt;
}

static bool ip_is_local_only(const char *ip)
{
	return !ip || !strncmp(ip, "127.", 4) || !strncmp(ip, "169.254.", 8) ||
	       !strncasecmp(ip, "fe80", 4) || !strcmp(ip, "::1") || !strcmp(ip, "0.0.0.0") ||
	       !strcmp(ip, "::") || !strcmp(ip, "0:0:0:0:0:0:0:1") ||
	       !strcmp(ip, "0:0:0:0:0:0:0:0");
}

/* Canonical text form of an address (Sysmon writes "0:0:0:0:0:0:0:1"). */
static bool ip_canon(const char *in, char *out, size_t len, uint8_t *raw, unsigned *alen)
{
	uint8_t a[16];

	if (!in)
		return false;
	if (inet_pton(AF_INET, in, a) == 1) {
		inet_ntop(AF_INET, a, out, (socklen_t)len);
		if (raw) {
			memcpy(raw, a, 4);
			*alen = 4;
		}
		return true;
	}
	if (inet_pton(AF_INET6, in, a) == 1) {
		/* ::ffff:a.b.c.d is the IPv4 flow on the wire */
		static const uint8_t v4m[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

		if (!memcmp(a, v4m, 12)) {
			inet_ntop(AF_INET, a + 12, out, (socklen_t)len);
			if (raw) {
				memcpy(raw, a + 12, 4);
				*alen = 4;
			}
			return true;
		}
		inet_ntop(AF_INET6, a, out, (socklen_t)len);
		if (raw) {
			memcpy(raw, a, 16);
			*alen = 16;
		}
		return true;
	}
	return false;
}

/* ---- hosts: addresses and clock offsets ---- */

static struct host *host_get(struct nj_fuse *f, const char *name, bool create)
{
	struct host *h;

	for (h = f->hosts; h; h = h->next)
		if (!strcasecmp(h->name, name))
			return h;
	if (!create)
		return NULL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->name = strdup(name);
	if (!h->name) {
		free(h);
		return NULL;
	}
	h->next = f->hosts;
	f->hosts = h;
	return h;
}

static void host_add_ip(struct nj_fuse *f, const char *name, const char *ip)
{
	char c[64];
	struct host *h;

	if (ip_is_local_only(ip) || !ip_canon(ip, c, sizeof(c), NULL, NULL) || ip_is_local_only(c))
		return;
	h = host_get(f, name, true);
	if (!h)
		return;
	for (unsigned i = 0; i < h->n_ips; i++)
		if (!strcmp(h->ips[i], c))
			return;
	if (h->n_ips < HOST_IPS)
		h->ips[h->n_ips++] = strdup(c);
}

/* 1: the host owns ip; 0: unknown (no addresses known); -1: it has others. */
static int host_owns(struct nj_fuse *f, const char *name, const char *ip)
{
	struct host *h = host_get(f, name, false);
	char c[64];

	if (!h || !h->n_ips || !ip_canon(ip, c, sizeof(c), NULL, NULL))
		return 0;
	for (unsigned i = 0; i < h->n_ips; i++)
		if (h->ips[i] && !strcmp(h->ips[i], c))
			return 1;
	return -1;
}

/* The other host known to own ip, if any. */
static struct host *ip_owner(struct nj_fuse *f, const char *ip)
{
	char c[64];

	if (!ip_canon(ip, c, sizeof(c), NULL, NULL))
		return NULL;
	for (struct host *h = f->hosts; h; h = h->next)
		for (unsigned i = 0; i < h->n_ips; i++)
			if (h->ips[i] && !strcmp(h->ips[i], c))
				return h;
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

bool nj_fuse_host_offset(const struct nj_fuse *f, const char *name, double *off)
{
	double s[OFF_N];
	unsigned n;

	for (struct host *h = f->hosts; h; h = h->next) {
		if (strcasecmp(h->name, name))
			continue;
		n = h->n_off < OFF_N ? h->n_off : OFF_N;
		if (n < f->cfg.offset_min || !n)
			return false;
		memcpy(s, h->off, n * sizeof(double));
		qsort(s, n, sizeof(double), cmp_double);
		*off = s[n / 2];
		return true;
	}
	return false;
}

static void host_learn(struct nj_fuse *f, const char *name, double off)
{
	struct host *h = host_get(f, name, true);

	if (!h)
		return;
	h->off[h->n_off % OFF_N] = off;
	h->n_off++;
	f->c.offset_learned++;
}

/* ---- items ---- */

static struct item *item_new(struct nj_fuse *f, enum item_kind k, double t, bool replayed)
{
	struct item *it = calloc(1, sizeof(*it));
	struct fifo *q = &f->q[k];

	if (!it)
		return NULL;
	it->kind = k;
	it->time = t;
	it->replayed = replayed;
	it->prev = q->tail;
	if (q->tail)
		q->tail->next = it;
	else
		q->head = it;
	q->tail = it;
	q->n++;
	return it;
}

static void item_free(struct nj_fuse *f, struct item *it)
{
	struct fifo *q = &f->q[it->kind];

	if (it->pending) {
		if (it->pprev)
			it->pprev->pnext = it->pnext;
		else
			f->pend_head = it->pnext;
		if (it->pnext)
			it->pnext->pprev = it->pprev;
		else
			f->pend_tail = it->pprev;
	}
	for (unsigned k = 0; k < ITEM_KEYS && it->keys[k].m; k++) {
		map_del(it->keys[k].m, it->keys[k].key, it);
		free(it->keys[k].key);
	}
	if (it->prev)
		it->prev->next = it->next;
	else
		q->head = it->next;
	if (it->next)
		it->next->prev = it->prev;
	else
		q->tail = it->prev;
	q->n--;
	nj_fuse_ep_free(&it->ep);
	json_decref(it->ev);
	free(it->emitted);
	free(it->dkey);
	free(it);
}

/* True (and remembers it) if this record was not yet joined to object key. */
static bool first_emit(struct nj_fuse *f, struct item *it, const char *key)
{
	uint64_t h = fnv(key);
	uint64_t *n;

	for (unsigned i = 0; i < it->n_emitted; i++) {
		if (it->emitted[i] == h) {
			f->c.dup_suppressed++;
			return false;
		}
	}
	if (it->n_emitted >= 4096)
		return true; /* bounded: past this, duplicates are possible */
	n = realloc(it->emitted, (it->n_emitted + 1) * sizeof(*n));
	if (!n)
		return true;
	it->emitted = n;
	it->emitted[it->n_emitted++] = h;
	return true;
}

/* ---- process context ---- */

static const char *base(const char *p)
{
	const char *a = p ? strrchr(p, '\\') : NULL, *b = p ? strrchr(p, '/') : NULL;

	if (!p)
		return "";
	if (b > a)
		a = b;
	return a ? a + 1 : p;
}

static bool image_is_full(const char *img)
{
	return img && (strchr(img, '\\') || strchr(img, '/')) && img[0] != '<';
}

static struct item *proc_find(struct nj_fuse *f, const struct nj_fuse_ep *ep)
{
	char key[512];
	struct item *by_guid = NULL, *by_pid = NULL;

	if (!ep->host)
		return NULL;
	if (ep->guid) {
		snprintf(key, sizeof(key), "%s|%s", ep->host, ep->guid);
		lower(key);
		MAP_FOREACH(&f->proc_guid, key, p) by_guid = p;
	}
	if (ep->pid >= 0) {
		double best = INFINITY;

		snprintf(key, sizeof(key), "%s|%ld", ep->host, ep->pid);
		lower(key);
		MAP_FOREACH(&f->proc_pid, key, p)
		{
			/* pid reuse: the latest start not far after the record (EID 3 may be skewed) */
			double d = ep->time - p->time;

			if (ep->guid && p->ep.guid && !strcasecmp(p->ep.guid, ep->guid)) {
				by_pid = p;
				best = -INFINITY;
			} else if (d > -60 && fabs(d) < best) {
				best = fabs(d);
				by_pid = p;
			}
		}
	}
	if (by_pid && by_guid && by_pid != by_guid) {
		/*
		 * Linux Sysmon stamps a forked child's connect with the parent's GUID:
		 * the pid is the process that acted, when its image agrees.
		 */
		if (!ep->image || !strcasecmp(base(ep->image), base(by_pid->ep.image)) ||
		    ep->image[0] == '<')
			return by_pid;
		return by_guid;
	}
	return by_guid ? by_guid : by_pid;
}

static void set_str(json_t *o, const char *k, const char *v)
{
	if (v)
		json_object_set_new(o, k, json_string(v));
}

static json_t *process_obj(struct nj_fuse *f, const struct nj_fuse_ep *ep)
{
	json_t *p = json_object(), *par = json_object();
	struct item *pi = proc_find(f, ep), *pp = NULL;
	const struct nj_fuse_ep *pr = pi ? &pi->ep : NULL;
	const char *img = ep->image, *user = ep->user;

	if (pr && !image_is_full(img) && pr->image)
		img = pr->image;
	if (!pr && ep->guid && ep->host && (!image_is_full(img) || !user)) {
		/*
		 * No process-create record held (the process predates the window):
		 * another record of the same process may carry the full image and user
		 * (Linux Sysmon sometimes writes only "java" and "-").
		 */
		char key[512];

		snprintf(key, sizeof(key), "%s|%s", ep->host, ep->guid);
		lower(key);
		MAP_FOREACH(&f->ep_guid, key, o)
		{
			if (!image_is_full(img) && image_is_full(o->ep.image) &&
			    (!img || !strcasecmp(base(img), base(o->ep.image))))
				img = o->ep.image;
			if (!user && o->ep.user)
				user = o->ep.user;
		}
	}
	if (ep->pid >= 0)
		json_object_set_new(p, "pid", json_integer(ep->pid));
	else if (pr && pr->pid >= 0)
		json_object_set_new(p, "pid", json_integer(pr->pid));
	else if (img && !strcmp(img, "System"))
		json_object_set_new(p, "pid", json_integer(4)); /* the Windows kernel's fixed pid */
	set_str(p, "guid", ep->guid);
	set_str(p, "image", img);
	set_str(p, "command_line", pr ? pr->cmdline : ep->cmdline);
	set_str(p, "user", user ? user : pr ? pr->user : NULL);
	if (pr) {
		long ppid = pr->ppid;
		const char *pimg = pr->parent_image, *pcmd = pr->parent_cmdline;

		if (ppid >= 0 && (!pimg || !pcmd)) {
			struct nj_fuse_ep q = {.host = pr->host,
					       .pid = ppid,
					       .guid = pr->parent_guid,
					       .time = pr->time};

			pp = proc_find(f, &q);
			if (pp) {
				pimg = pimg ? pimg : pp->ep.image;
				pcmd = pcmd ? pcmd : pp->ep.cmdline;
			}
		}
		if (ppid >= 0)
			json_object_set_new(par, "pid", json_integer(ppid));
		set_str(par, "image", pimg);
		set_str(par, "command_line", pcmd);
		set_str(par, "guid", pr->parent_guid);
		if (pr->guid && ep->guid && strcasecmp(pr->guid, ep->guid))
			json_object_set_new(p, "create_guid", json_string(pr->guid));
		f->c.joins_context++;
	} else if (ep->ppid >= 0 || ep->parent_image) {
		if (ep->ppid >= 0)
			json_object_set_new(par, "pid", json_integer(ep->ppid));
		set_str(par, "image", ep->parent_image);
		set_str(par, "command_line", ep->parent_cmdline);
	}
	if (json_object_size(par))
		json_object_set_new(p, "parent", par);
	else
		json_decref(par);
	{
		const char *sha = NULL;

		if (pr && pr->sha256)
			sha = pr->sha256;
		else if (ep->eid == 1 && ep->sha256)
			sha = ep->sha256;
		if (sha) {
			json_t *h = json_object();

			json_object_set_new(h, "sha256", json_string(sha));
			json_object_set_new(p, "hash", h);
		}
	}
	return p;
}

/* ---- output ---- */

static json_t *network_obj(json_t *ev)
{
	static const char *const keep[] = {
		"event_type", "timestamp", "flow_id", "tx_id", "app_proto", "flow", "fileinfo",
		"dns",	      "smb",	   "alert",   "http",  "tls",	    "tcp",  "pcap_cnt"};
	json_t *n = json_object();

	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
		json_t *v = json_object_get(ev, keep[i]);

		if (v)
			json_object_set(n, keep[i], v);
	}
	return n;
}

static int emit(struct nj_fuse *f, struct item *epi, struct item *neti, const char *method,
		double conf, double offset)
{
	static const char *const top[] = {"flow_id", "community_id", "src_ip", "src_port",
					  "dest_ip", "dest_port",    "proto",  "app_proto"};
	const struct nj_fuse_ep *ep = &epi->ep;
	json_t *o, *e, *j, *h;
	char tbuf[48];
	char *s;
	int rc;

	/*
	 * Both sides read before the checkpoint: written before it, unless it is a
	 * deferred decision that was still pending then.
	 */
	if (epi->replayed && neti->replayed && (!f->deferring || f->defer_at <= f->ck_now)) {
		f->c.replay_suppressed++;
		return 0;
	}
	o = json_object();
	if (!o)
		return -ENOMEM;
	set_str(o, "timestamp", jstr(neti->ev, "timestamp"));
	json_object_set_new(o, "event_type", json_string("fusion"));
	for (size_t i = 0; i < sizeof(top) / sizeof(top[0]); i++) {
		json_t *v = json_object_get(neti->ev, top[i]);

		if (v)
			json_object_set(o, top[i], v);
	}
	json_object_set_new(o, "network", network_obj(neti->ev));
	h = json_object();
	set_str(h, "name", ep->host);
	json_object_set_new(o, "host", h);
	json_object_set_new(o, "process", process_obj(f, ep));
	e = json_object();
	json_object_set_new(e, "source", json_string(ep->source ? "osquery" : "sysmon"));
	json_object_set_new(e, "format", json_string(nj_fuse_fmt_name(ep->fmt)));
	json_object_set_new(e, "event_id", json_integer(ep->eid));
	json_object_set_new(e, "record_id", json_integer((json_int_t)ep->record_id));
	nj_fuse_fmt_time(ep->time, tbuf, sizeof(tbuf));
	json_object_set_new(e, "time", json_string(tbuf));
	set_str(e, "table", ep->table);
	if (ep->eid == 3) {
		json_t *c = json_object();

		set_str(c, "src_ip", ep->sip);
		json_object_set_new(c, "src_port", json_integer(ep->sport));
		set_str(c, "dest_ip", ep->dip);
		json_object_set_new(c, "dest_port", json_integer(ep->dport));
		if (ep->initiated >= 0)
			json_object_set_new(c, "initiated", json_boolean(ep->initiated));
		json_object_set_new(e, "connection", c);
	}
	set_str(e, "query_name", ep->query_name);
	set_str(e, "query_results", ep->query_results);
	set_str(e, "target_filename", ep->target);
	set_str(e, "sha256", ep->sha256);
	if (ep->partial)
		json_object_set_new(e, "partial", json_true());
	json_object_set_new(o, "endpoint", e);
	j = json_object();
	json_object_set_new(j, "method", json_string(method));
	json_object_set_new(j, "confidence", json_real(round(conf * 100) / 100));
	json_object_set_new(j, "offset_s", json_real(round(offset * 1000) / 1000));
	if (f->join_extra)
		json_object_update(j, f->join_extra);
	json_object_set_new(o, "join", j);
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (!s)
		return -ENOMEM;
	rc = f->emit(f->arg, s, strlen(s));
	free(s);
	f->c.out_events++;
	if (!strcmp(method, "community_id"))
		f->c.joins_community_id++;
	else if (!strcmp(method, "nat"))
		f->c.joins_nat++;
	else if (!strcmp(method, "dns_name"))
		f->c.joins_dns_name++;
	else if (!strcmp(method, "sha256"))
		f->c.joins_sha256++;
	else if (!strcmp(method, "dns_query"))
		f->c.joins_dns_query++;
	else if (!strcmp(method, "file_name"))
		f->c.joins_file_name++;
	return rc;
}

/* ---- keys ---- */

static bool ep_cid(const struct nj_fuse_ep *ep, char *out, size_t len)
{
	uint8_t s[16], d[16];
	unsigned sl = 0, dl = 0;
	char tmp[64];

	if (!ep->proto || !ip_canon(ep->sip, tmp, sizeof(tmp), s, &sl) ||
	    !ip_canon(ep->dip, tmp, sizeof(tmp), d, &dl) || sl != dl)
		return false;
	return nj_community_id(0, s, d, sl, ep->proto, true, ep->sport, ep->dport, true, out, len) >
	       0;
}

static uint8_t proto_num(const char *p)
{
	if (!p)
		return 0;
	if (!strcasecmp(p, "TCP"))
		return 6;
	if (!strcasecmp(p, "UDP"))
		return 17;
	return (uint8_t)atoi(p);
}

static const char *nat_outside(struct nj_fuse *f, const char *inside)
{
	char c[64];

	if (!ip_canon(inside, c, sizeof(c), NULL, NULL))
		return NULL;
	for (unsigned i = 0; i < f->cfg.n_nat; i++)
		if (!strcmp(f->cfg.nat[i].inside, c))
			return f->cfg.nat[i].outside;
	return NULL;
}

static bool is_outside(struct nj_fuse *f, const char *ip)
{
	char c[64];

	if (!ip_canon(ip, c, sizeof(c), NULL, NULL))
		return false;
	for (unsigned i = 0; i < f->cfg.n_nat; i++)
		if (!strcmp(f->cfg.nat[i].outside, c))
			return true;
	return false;
}

static void nat_key(struct nj_fuse *f, uint8_t proto, const char *outside, unsigned sport,
		    const char *dip, unsigned dport, char *out, size_t len)
{
	char d[64];

	if (!ip_canon(dip, d, sizeof(d), NULL, NULL))
		snprintf(d, sizeof(d), "%s", dip ? dip : "");
	if (f->cfg.nat_keep_port)
		snprintf(out, len, "%u|%s|%u|%s|%u", proto, outside, sport, d, dport);
	else
		snprintf(out, len, "%u|%s|%s|%u", proto, outside, d, dport);
}

static bool name_is_ip(const char *n)
{
	char c[64];

	return ip_canon(n, c, sizeof(c), NULL, NULL);
}

static void first_label(const char *name, char *out, size_t len)
{
	size_t i;

	for (i = 0; name[i] && name[i] != '.' && i + 1 < len; i++)
		out[i] = (char)tolower((unsigned char)name[i]);
	out[i] = '\0';
}

/* The file name's last component, lowercased: SMB and Sysmon spell paths differently. */
static void file_key(const char *path, char *out, size_t len)
{
	snprintf(out, len, "%s", base(path));
	lower(out);
}

/* ---- joins ---- */

/* Residual after the host's offset; also the offset itself. */
static bool eid3_fits(struct nj_fuse *f, const struct item *ep, double net_time, double *resid,
		      double *off_out)
{
	double d = net_time - ep->ep.time, off;

	*off_out = d;
	if (nj_fuse_host_offset(f, ep->ep.host, &off)) {
		*resid = fabs(d - off);
		return *resid <= f->cfg.window_learned || fabs(d) <= f->cfg.window;
	}
	*resid = fabs(d);
	return *resid <= f->cfg.window;
}

static double conf_of(double resid, double top)
{
	double c = top - 0.02 * resid;

	return c < 0.5 ? 0.5 : c;
}

/* An EID 3 record and a flow event matched exactly; learns the offset when unambiguous. */
static int join_exact(struct nj_fuse *f, struct item *ep, struct item *net, double resid,
		      double off, bool unambiguous)
{
	bool tcp_syn = json_is_true(json_object_get(json_object_get(net->ev, "tcp"), "syn"));
	bool udp = ep->ep.proto == 17;

	ep->joined = true;
	ep->flow_start = net->time;
	ep->flow_end = net->ts;
	if (unambiguous && (tcp_syn || udp))
		host_learn(f, ep->ep.host, off);
	return emit(f, ep, net, "community_id", conf_of(resid, 1.0), off);
}

/* Queues a decision (a DNS wire query, a NAT'd flow) for the watermark passing at. */
static void pend_add(struct nj_fuse *f, struct item *it, double at, enum pend_kind kind)
{
	it->pending = true;
	it->pend_kind = (uint8_t)kind;
	it->decide_at = at;
	it->pprev = f->pend_tail;
	if (f->pend_tail)
		f->pend_tail->pnext = it;
	else
		f->pend_head = it;
	f->pend_tail = it;
}

/* The NAT key of a flow event from an outside address. */
static void net_nat_key(struct nj_fuse *f, json_t *ev, char *key, size_t len)
{
	nat_key(f, proto_num(jstr(ev, "proto")), jstr(ev, "src_ip"),
		(unsigned)jint(ev, "src_port", 0), jstr(ev, "dest_ip"),
		(unsigned)jint(ev, "dest_port", 0), key, len);
}

/* Time residual of a NAT'd record against a flow start (after the host offset). */
static bool nat_fits(struct nj_fuse *f, const struct item *ep, double net_time, double *r,
		     double *off)
{
	double o2;

	eid3_fits(f, ep, net_time, r, off);
	if (nj_fuse_host_offset(f, ep->ep.host, &o2))
		*r = fabs(*off - o2);
	return *r <= f->cfg.nat_window;
}

/*
 * A NAT'd flow and a record join only when each is the other's one candidate:
 * the unjoined records under the flow's key that fit its start, and the
 * unjoined flows under the record's key that fit the record. Two lookups from
 * different inside hosts to the same resolver a second apart cannot be told
 * apart when the hosts' clocks are only known to ±window; guessing would be a
 * wrong join half the time, so the flow is left unattributed and counted
 * `ambiguous`. count: this is the flow's own decision (a late record retrying
 * it does not count it again).
 */
static int nat_try(struct nj_fuse *f, struct item *net, bool count)
{
	/* how far apart in time a trimmed entry must be for it not to matter */
	double slack = f->cfg.window + f->cfg.nat_window + 60;
	double old_ep = INFINITY, old_net = INFINITY;
	char key[256];
	struct item *b = NULL;
	double br = 0, bo = 0;
	unsigned n = 0, nf = 0, all_ep = 0, all_net = 0;

	if (net->joined)
		return 0;
	net_nat_key(f, net->ev, key, sizeof(key));
	MAP_FOREACH(&f->ep_nat, key, e)
	{
		double r, off;

		all_ep++;
		old_ep = fmin(old_ep, e->time);
		if (e->joined || !nat_fits(f, e, net->time, &r, &off))
			continue;
		n++;
		b = e;
		br = r;
		bo = off;
	}
	if (!n)
		return 0;
	if (n == 1) {
		MAP_FOREACH(&f->net_nat, key, g)
		{
			double r, off;

			all_net++;
			old_net = fmin(old_net, g->time);
			if (g != net && !g->joined && nat_fits(f, b, g->time, &r, &off))
				nf++;
		}
	}
	/*
	 * A key at its per-key cap lost its oldest entries: if those may have been
	 * near this flow in time, a competitor may be missing, so no join either.
	 */
	if (n > 1 || nf || (all_ep >= f->ep_nat.per_key && old_ep > net->time - slack) ||
	    (all_net >= f->net_nat.per_key && old_net > b->time - slack)) {
		if (count)
			f->c.ambiguous++;
		return 0;
	}
	b->joined = true;
	net->joined = true;
	return emit(f, b, net, "nat", conf_of(br, 0.7), bo);
}

/* A flow event arrived: every host's best unjoined EID 3 for its Community ID. */
static int flow_arrived(struct nj_fuse *f, struct item *net)
{
	struct item *best[32];
	double bres[32], boff[32];
	unsigned nb = 0, ncand = 0;
	bool any = false;
	int rc = 0;

	MAP_FOREACH(&f->ep_cid, net->cid, e)
	{
		double r, off;
		unsigned k;

		any = true;
		if (!eid3_fits(f, e, net->time, &r, &off))
			continue;
		if (e->joined) {
			/* the same flow seen by a second sensor, or a port reused later */
			f->c.dup_suppressed++;
			continue;
		}
		ncand++;
		for (k = 0; k < nb; k++)
			if (!strcasecmp(best[k]->ep.host, e->ep.host))
				break;
		if (k == nb) {
			if (nb == 32)
				continue;
			nb++;
			best[k] = NULL;
		} else {
			f->c.ambiguous++;
		}
		if (!best[k] || r < bres[k]) {
			best[k] = e;
			bres[k] = r;
			boff[k] = off;
		}
	}
	for (unsigned k = 0; k < nb; k++) {
		rc = join_exact(f, best[k], net, bres[k], boff[k], ncand == nb);
		net->joined = true;
	}
	if (any)
		return rc;
	/*
	 * NAT: the wire shows the translated source, so only the destination and
	 * the time tell the inside hosts apart. Decided later, when records
	 * written out of order (Sysmon batches) and other flows to the same
	 * destination had their chance to compete.
	 */
	if (f->cfg.n_nat && is_outside(f, jstr(net->ev, "src_ip")))
		pend_add(f, net, net->ts + f->cfg.nat_window + f->cfg.lateness, PEND_NAT);
	return 0;
}

/* An EID 3 record arrived: its best held flow, if any. */
static int eid3_arrived(struct nj_fuse *f, struct item *ep)
{
	struct item *b = NULL;
	double br = INFINITY, bo = 0;
	unsigned n = 0;

	MAP_FOREACH(&f->net_cid, ep->cid, net)
	{
		double r, off;

		if (!eid3_fits(f, ep, net->time, &r, &off))
			continue;
		n++;
		if (r < br) {
			b = net;
			br = r;
			bo = off;
		}
	}
	if (b) {
		b->joined = true;
		return join_exact(f, ep, b, br, bo, n == 1);
	}
	return 0;
}

/* Network events after the flow started (alerts, files): the process of their flow. */
static int context_arrived(struct nj_fuse *f, struct item *net, const char *dedup)
{
	struct item *best[8];
	double bd[8];
	unsigned nb = 0;
	int rc = 0;

	MAP_FOREACH(&f->ep_cid, net->cid, e)
	{
		double off = 0, d;
		unsigned k;

		nj_fuse_host_offset(f, e->ep.host, &off);
		d = net->ts - (e->ep.time + off);
		/* the record precedes the event (allowing for the clock window) */
		if (d < -f->cfg.window)
			continue;
		/* a record already tied to a flow (a reused port) covers that flow's span only */
		if (e->joined && (net->ts < e->flow_start - 1 || net->ts > e->flow_end + 1))
			continue;
		for (k = 0; k < nb; k++)
			if (!strcasecmp(best[k]->ep.host, e->ep.host))
				break;
		if (k == nb) {
			if (nb == 8)
				continue;
			nb++;
			best[k] = NULL;
		}
		if (!best[k] || d < bd[k]) {
			best[k] = e;
			bd[k] = d;
		}
	}
	for (unsigned k = 0; k < nb; k++) {
		if (!first_emit(f, best[k], dedup))
			continue;
		rc = emit(f, best[k], net, "community_id", 0.9, net->ts - best[k]->ep.time);
	}
	return rc;
}

static bool sha_usable(const char *sha)
{
	/* the empty file's hash joins everything to everything */
	return sha && strlen(sha) == 64 &&
	       strcmp(sha, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static int sha_join(struct nj_fuse *f, struct item *ep, struct item *net)
{
	char key[96];

	snprintf(key, sizeof(key), "sha256|%s", ep->ep.sha256);
	if (!first_emit(f, ep, key))
		return 0;
	net->joined = true;
	return emit(f, ep, net, "sha256", 1.0, net->ts - ep->ep.time);
}

/* SMB server side of an event: the end on port 445/139, else the destination. */
static const char *smb_server(json_t *ev)
{
	long sp = jint(ev, "src_port", 0);

	return sp == 445 || sp == 139 ? jstr(ev, "src_ip") : jstr(ev, "dest_ip");
}

static bool path_suffix(const char *target, const char *fname)
{
	char a[1024], b[1024];
	size_t la, lb;

	snprintf(a, sizeof(a), "%s", target);
	snprintf(b, sizeof(b), "%s", fname);
	for (char *p = a; *p; p++)
		*p = *p == '/' ? '\\' : (char)tolower((unsigned char)*p);
	for (char *p = b; *p; p++)
		*p = *p == '/' ? '\\' : (char)tolower((unsigned char)*p);
	la = strlen(a);
	lb = strlen(b);
	while (lb && b[0] == '\\') {
		memmove(b, b + 1, lb);
		lb--;
	}
	return lb && la > lb && !strcmp(a + la - lb, b) && a[la - lb - 1] == '\\';
}

static int file_join(struct nj_fuse *f, struct item *ep, struct item *net, const char *fname)
{
	const char *server = smb_server(net->ev);
	int own = host_owns(f, ep->ep.host, server);
	double d = net->ts - ep->ep.time;
	struct host *o = own == 0 ? ip_owner(f, server) : NULL;

	if (own < 0 || (o && strcasecmp(o->name, ep->ep.host)) || fabs(d) > f->cfg.file_window ||
	    !path_suffix(ep->ep.target, fname))
		return 0;
	if (!first_emit(f, ep, "file_name"))
		return 0;
	ep->joined = true;
	return emit(f, ep, net, "file_name", own > 0 ? 0.8 : 0.5, d);
}

static bool dns_name_match(const char *wire, const char *q)
{
	size_t n = strlen(q);

	if (!strcasecmp(wire, q))
		return true;
	/* the DNS client appends the domain suffix to single-label names */
	return !strchr(q, '.') && !strncasecmp(wire, q, n) && wire[n] == '.';
}

static const char *dns_rrname(json_t *ev)
{
	json_t *d = json_object_get(ev, "dns"), *q = json_object_get(d, "queries");
	const char *t = jstr(d, "type");

	if (!t || (strcmp(t, "request") && strcmp(t, "query")))
		return NULL;
	if (json_is_array(q) && json_array_size(q))
		return jstr(json_array_get(q, 0), "rrname");
	return jstr(d, "rrname");
}

/*
 * The wire's answers next to the record's QueryResults: the join says whether
 * an address the host got is one the wire carried.
 */
static int emit_dns(struct nj_fuse *f, struct item *ep, struct item *net, double d)
{
	json_t *dns = json_object_get(net->ev, "dns"), *answers = json_array(), *extra;
	char key[128];
	bool any = false, match = false;
	int rc;

	snprintf(key, sizeof(key), "%s|%ld", net->cid, jint(dns, "id", -1));
	MAP_FOREACH(&f->net_resp, key, r)
	{
		json_t *a = json_object_get(json_object_get(r->ev, "dns"), "answers"), *v;
		size_t i;

		json_array_foreach(a, i, v)
		{
			const char *rd = jstr(v, "rdata");
			char c[64], q[64];

			if (!rd || !ip_canon(rd, c, sizeof(c), NULL, NULL))
				continue;
			any = true;
			json_array_append_new(answers, json_string(c));
			if (ep->ep.query_results) {
				char *dup = strdup(ep->ep.query_results), *save = NULL, *tok;

				for (tok = dup ? strtok_r(dup, ";", &save) : NULL; tok;
				     tok = strtok_r(NULL, ";", &save))
					if (ip_canon(tok, q, sizeof(q), NULL, NULL) &&
					    !strcmp(q, c))
						match = true;
				free(dup);
			}
		}
	}
	extra = json_object();
	if (any) {
		json_object_set_new(extra, "wire_answers", answers);
		json_object_set_new(extra, "answers_match", json_boolean(match));
	} else {
		json_decref(answers);
	}
	f->join_extra = extra;
	rc = emit(f, ep, net, "dns_query", conf_of(d, match ? 0.9 : 0.8), net->ts - ep->ep.time);
	f->join_extra = NULL;
	json_decref(extra);
	return rc;
}

/* The nearest EID 22 of the host that sent the query, by name and time. */
static int dns_wire_arrived(struct nj_fuse *f, struct item *net, const char *rr)
{
	char key[256];
	struct item *b = NULL;
	double bd = INFINITY;

	first_label(rr, key, sizeof(key));
	MAP_FOREACH(&f->ep_dns, key, e)
	{
		double d = fabs(net->ts - e->ep.time);

		if (e->joined || !e->ep.query_name || !dns_name_match(rr, e->ep.query_name) ||
		    d > f->cfg.dns_window || host_owns(f, e->ep.host, jstr(net->ev, "src_ip")) <= 0)
			continue;
		if (d < bd) {
			bd = d;
			b = e;
		}
	}
	if (!b)
		return 0;
	b->joined = true;
	net->joined = true;
	return emit_dns(f, b, net, bd);
}

/* dns_name fallback (proxies): the name the endpoint connected to, seen on the wire. */
/* Addresses seen in flow events: an open-addressed set of hashes, bounded. */
static uint64_t ip_hash(const char *ip)
{
	char c[64];

	if (!ip_canon(ip, c, sizeof(c), NULL, NULL))
		return 0;
	return fnv(c) | 1;
}

static void wire_ip_add(struct nj_fuse *f, const char *ip)
{
	uint64_t h = ip_hash(ip);
	size_t i;

	if (!h || f->n_wire_ips >= WIRE_IPS / 2)
		return;
	for (i = h & (WIRE_IPS - 1); f->wire_ips[i]; i = (i + 1) & (WIRE_IPS - 1))
		if (f->wire_ips[i] == h)
			return;
	f->wire_ips[i] = h;
	f->n_wire_ips++;
}

static bool wire_ip_seen(struct nj_fuse *f, const char *ip)
{
	uint64_t h = ip_hash(ip);

	if (!h)
		return false;
	for (size_t i = h & (WIRE_IPS - 1); f->wire_ips[i]; i = (i + 1) & (WIRE_IPS - 1))
		if (f->wire_ips[i] == h)
			return true;
	return false;
}

static int name_try(struct nj_fuse *f, struct item *ep, struct item *net)
{
	double off = 0, d;
	struct host *o;

	if (ep->joined || net->joined || ep->ep.initiated != 1)
		return 0;
	/*
	 * If the endpoint's own address is on the wire, the sensor sees its direct
	 * traffic and its flow may simply not have ended yet: no guessing by name.
	 */
	if (wire_ip_seen(f, ep->ep.sip) || !strcmp(jstr(net->ev, "src_ip") ?: "", ep->ep.sip ?: ""))
		return 0;
	o = ip_owner(f, jstr(net->ev, "src_ip"));
	if (o && strcasecmp(o->name, ep->ep.host))
		return 0; /* the wire's client is another known host */
	nj_fuse_host_offset(f, ep->ep.host, &off);
	d = net->ts - (ep->ep.time + off);
	if (d < -f->cfg.nat_window || d > f->cfg.window)
		return 0;
	ep->joined = true;
	net->joined = true;
	return emit(f, ep, net, "dns_name", conf_of(fabs(d), 0.5), net->ts - ep->ep.time);
}

static bool net_name_key(json_t *ev, char *key, size_t len)
{
	json_t *h = json_object_get(ev, "http"), *t = json_object_get(ev, "tls");
	const char *name = NULL;
	long port = jint(ev, "dest_port", 0);

	if (h) {
		name = jstr(h, "hostname");
		port = jint(h, "http_port", port);
	} else if (t) {
		name = jstr(t, "sni");
	}
	if (!name || name_is_ip(name))
		return false;
	snprintf(key, len, "%s|%ld", name, port);
	lower(key);
	return true;
}

/* ---- public ---- */

void nj_fuse_cfg_default(struct nj_fuse_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->window = 15;
	cfg->window_learned = 3;
	cfg->retention = 3600;
	cfg->net_retention = 120;
	cfg->proc_retention = 86400;
	cfg->dns_window = 5;
	cfg->file_window = 10;
	cfg->nat_window = 2;
	cfg->lateness = 30;
	cfg->max_ep = 200000;
	cfg->max_net = 200000;
	cfg->max_proc = 100000;
	cfg->offset_min = 2;
	cfg->dns_name_fallback = true;
}

struct nj_fuse *nj_fuse_create(const struct nj_fuse_cfg *cfg, nj_fuse_emit_fn emit_fn, void *arg)
{
	struct nj_fuse *f = calloc(1, sizeof(*f));
	struct map *maps[] = FUSE_MAPS(f);

	if (!f)
		return NULL;
	f->cfg = *cfg;
	f->emit = emit_fn;
	f->arg = arg;
	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		if (map_init(maps[i], (cfg->max_ep + cfg->max_net) / 4)) {
			nj_fuse_destroy(f);
			return NULL;
		}
		maps[i]->per_key = 16;
	}
	/* where many items legitimately share a key */
	f->proc_pid.per_key = 4;
	f->proc_guid.per_key = 2;
	f->ep_dns.per_key = 64;
	f->net_dns.per_key = 64;
	f->net_name.per_key = 64;
	f->net_ctx.per_key = 1024;
	/* every NAT'd host's lookups to one resolver share a key (see nat_try) */
	f->ep_nat.per_key = 1024;
	f->net_nat.per_key = 1024;
	for (unsigned i = 0; i < cfg->n_hosts; i++)
		host_add_ip(f, cfg->hosts[i].name, cfg->hosts[i].ip);
	return f;
}

void nj_fuse_destroy(struct nj_fuse *f)
{
	struct map *maps[] = FUSE_MAPS(f);
	struct host *h, *hn;

	if (!f)
		return;
	for (int k = 0; k < IT_KINDS; k++)
		while (f->q[k].head && f->ep_cid.b)
			item_free(f, f->q[k].head);
	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++)
		map_free(maps[i]);
	for (h = f->hosts; h; h = hn) {
		hn = h->next;
		for (unsigned i = 0; i < h->n_ips; i++)
			free(h->ips[i]);
		free(h->name);
		free(h);
	}
	free(f);
}

static void cap(struct nj_fuse *f, enum item_kind k, unsigned max, uint64_t *evicted)
{
	while (f->q[k].n > max && f->q[k].head) {
		item_free(f, f->q[k].head);
		(*evicted)++;
	}
}

static void path_key(const char *host, const char *path, char *out, size_t len)
{
	snprintf(out, len, "%s|%s", host, path);
	lower(out);
}

/*
 * osquery splits a stored file in two: process_file_events (pid, executable,
 * path; no content) and file_events / hash (path, hashes; no process). A
 * hash record with no process takes the process of the last write to its
 * path on its host, up to the record's time (+1 s: osquery times are whole
 * seconds). When different processes wrote the path in that last second, the
 * writer is not known and the record stays unattributed (`ambiguous`).
 */
static int attribute_writer(struct nj_fuse *f, struct item *it)
{
	char key[1024];
	struct item *b = NULL;
	bool amb = false;

	path_key(it->ep.host, it->ep.target, key, sizeof(key));
	MAP_FOREACH(&f->ep_write, key, w)
	{
		if (w->ep.time > it->ep.time + 1)
			continue;
		if (!b || w->ep.time > b->ep.time)
			b = w;
	}
	if (!b)
		return 0;
	MAP_FOREACH(&f->ep_write, key, w)
	{
		if (w != b && w->ep.time <= it->ep.time + 1 && w->ep.time >= b->ep.time - 1 &&
		    w->ep.pid != b->ep.pid)
			amb = true;
	}
	if (amb) {
		f->c.ambiguous++;
		return -1;
	}
	it->ep.pid = b->ep.pid;
	it->ep.ppid = b->ep.ppid;
	if (b->ep.image && !it->ep.image)
		it->ep.image = strdup(b->ep.image);
	if (b->ep.user && !it->ep.user)
		it->ep.user = strdup(b->ep.user);
	return 1;
}

/* Indexes a record's SHA-256 and joins it to the files held with that hash. */
static int sha_index(struct nj_fuse *f, struct item *it)
{
	int rc = 0;

	map_add(&f->ep_sha, it->ep.sha256, it);
	MAP_FOREACH(&f->net_sha, it->ep.sha256, net) rc = sha_join(f, it, net);
	return rc;
}

int nj_fuse_add_endpoint(struct nj_fuse *f, struct nj_fuse_ep *in, bool replayed)
{
	struct item *it;
	char key[768];
	int rc = 0;

	if (in->eid == 1) {
		it = item_new(f, IT_PROC, in->time, replayed);
		if (!it)
			return -ENOMEM;
		it->ep = *in;
		memset(in, 0, sizeof(*in));
		if (it->ep.pid >= 0) {
			snprintf(key, sizeof(key), "%s|%ld", it->ep.host, it->ep.pid);
			lower(key);
			map_add(&f->proc_pid, key, it);
		}
		if (it->ep.guid) {
			snprintf(key, sizeof(key), "%s|%s", it->ep.host, it->ep.guid);
			lower(key);
			map_add(&f->proc_guid, key, it);
		}
		/* the process image's hash may be a file seen on the wire */
		if (sha_usable(it->ep.sha256)) {
			map_add(&f->ep_sha, it->ep.sha256, it);
			MAP_FOREACH(&f->net_sha, it->ep.sha256, net) rc = sha_join(f, it, net);
		}
		cap(f, IT_PROC, f->cfg.max_proc, &f->c.evicted_proc);
		return rc;
	}
	it = item_new(f, IT_EP, in->time, replayed);
	if (!it)
		return -ENOMEM;
	it->ep = *in;
	memset(in, 0, sizeof(*in));
	if (it->ep.eid == 3) {
		if (it->ep.initiated == 1)
			host_add_ip(f, it->ep.host, it->ep.sip);
		else if (it->ep.initiated == 0)
			host_add_ip(f, it->ep.host, it->ep.dip);
		if (it->ep.guid) {
			snprintf(key, sizeof(key), "%s|%s", it->ep.host, it->ep.guid);
			lower(key);
			map_add(&f->ep_guid, key, it);
		}
		if (ep_cid(&it->ep, it->cid, sizeof(it->cid))) {
			const char *out = f->cfg.n_nat ? nat_outside(f, it->ep.sip) : NULL;

			map_add(&f->ep_cid, it->cid, it);
			rc = eid3_arrived(f, it);
			MAP_FOREACH(&f->net_ctx, it->cid, net)
			{
				double off = 0, d;

				nj_fuse_host_offset(f, it->ep.host, &off);
				d = net->ts - (it->ep.time + off);
				if (d >= -f->cfg.window && net->dkey &&
				    (!it->joined || (net->ts >= it->flow_start - 1 &&
						     net->ts <= it->flow_end + 1)) &&
				    first_emit(f, it, net->dkey))
					rc = emit(f, it, net, "community_id", 0.9,
						  net->ts - it->ep.time);
			}
			if (out) {
				nat_key(f, it->ep.proto, out, it->ep.sport, it->ep.dip,
					it->ep.dport, key, sizeof(key));
				map_add(&f->ep_nat, key, it);
				/*
				 * A record later than its flow's decision: the flows decided
				 * without it are tried again (a pending one decides later).
				 */
				MAP_FOREACH(&f->net_nat, key, net)
				{
					double r, off;

					if (it->joined)
						break;
					if (!net->pending && !net->joined &&
					    nat_fits(f, it, net->time, &r, &off))
						rc = nat_try(f, net, false);
				}
			}
		}
		if (f->cfg.dns_name_fallback && it->ep.initiated == 1) {
			const char *name = it->ep.dest_hostname;

			if (!name && it->ep.dip) {
				char ik[256];

				snprintf(ik, sizeof(ik), "%s|%s", it->ep.host, it->ep.dip);
				lower(ik);
				MAP_FOREACH(&f->ipname, ik, q) name = q->ep.query_name;
			}
			if (name && !name_is_ip(name)) {
				snprintf(key, sizeof(key), "%s|%u", name, it->ep.dport);
				lower(key);
				map_add(&f->ep_name, key, it);
				MAP_FOREACH(&f->net_name, key, net)
				{
					if (it->joined)
						break;
					rc = name_try(f, it, net);
				}
			}
		}
	}
	if (it->ep.eid == 22 && it->ep.query_name) {
		first_label(it->ep.query_name, key, sizeof(key));
		map_add(&f->ep_dns, key, it);
		if (it->ep.query_results) {
			/* "a;b;::ffff:c;" -> remember which name each address came from */
			char *dup = strdup(it->ep.query_results), *save = NULL, *tok;

			for (tok = dup ? strtok_r(dup, ";", &save) : NULL; tok;
			     tok = strtok_r(NULL, ";", &save)) {
				char c[64], ik[256];
				const char *a = strncmp(tok, "type:", 5) ? tok : NULL;

				if (!a || !ip_canon(a, c, sizeof(c), NULL, NULL))
					continue;
				snprintf(ik, sizeof(ik), "%s|%s", it->ep.host, c);
				lower(ik);
				map_add(&f->ipname, ik, it);
			}
			free(dup);
		}
		/* the wire query decides, once late records had their chance */
	}
	if (it->ep.eid == 11 && it->ep.target && it->ep.pid >= 0 && it->ep.source == 1) {
		path_key(it->ep.host, it->ep.target, key, sizeof(key));
		map_add(&f->ep_write, key, it);
	}
	if (it->ep.eid == 15 && it->ep.source == 1 && it->ep.target && it->ep.pid < 0 &&
	    !it->ep.guid && sha_usable(it->ep.sha256) && !attribute_writer(f, it)) {
		/*
		 * The write row may come after the hash row (same second, results
		 * batched): the hash joins once late rows had their chance, so its
		 * fusion events carry the process.
		 */
		pend_add(f, it, it->time + f->cfg.lateness, PEND_HASH);
		cap(f, IT_EP, f->cfg.max_ep, &f->c.evicted_ep);
		return rc;
	}
	if (it->ep.eid == 11 && it->ep.target) {
		file_key(it->ep.target, key, sizeof(key));
		map_add(&f->ep_file, key, it);
		MAP_FOREACH(&f->net_file, key, net)
		{
			const char *fn = jstr(json_object_get(net->ev, "smb"), "filename");

			if (!fn)
				fn = jstr(json_object_get(net->ev, "fileinfo"), "filename");
			if (fn)
				rc = file_join(f, it, net, fn);
		}
	}
	if (sha_usable(it->ep.sha256))
		rc = sha_index(f, it);
	cap(f, IT_EP, f->cfg.max_ep, &f->c.evicted_ep);
	return rc;
}

int nj_fuse_add_eve(struct nj_fuse *f, json_t *ev, bool replayed)
{
	const char *et = jstr(ev, "event_type"), *cid = jstr(ev, "community_id"), *ts_s;
	json_t *fi = json_object_get(ev, "fileinfo");
	struct item *it;
	double ts;
	char key[768];
	int rc = 0;

	ts_s = jstr(ev, "timestamp");
	if (!et || !ts_s || nj_fuse_parse_time(ts_s, &ts))
		return -EINVAL;
	if (strcmp(et, "flow") && strcmp(et, "fileinfo") && strcmp(et, "alert") &&
	    strcmp(et, "dns") && strcmp(et, "smb") && strcmp(et, "http") && strcmp(et, "tls"))
		return 0;
	it = item_new(f, IT_NET, ts, replayed);
	if (!it)
		return -ENOMEM;
	it->ev = json_incref(ev);
	it->ts = ts;
	if (cid)
		snprintf(it->cid, sizeof(it->cid), "%s", cid);
	if (!strcmp(et, "flow")) {
		const char *st = jstr(json_object_get(ev, "flow"), "start");

		if (st)
			nj_fuse_parse_time(st, &it->time);
		wire_ip_add(f, jstr(ev, "src_ip"));
		wire_ip_add(f, jstr(ev, "dest_ip"));
		if (cid) {
			map_add(&f->net_cid, cid, it);
			rc = flow_arrived(f, it);
		}
		if (f->cfg.n_nat && is_outside(f, jstr(ev, "src_ip"))) {
			net_nat_key(f, ev, key, sizeof(key));
			map_add(&f->net_nat, key, it);
		}
	} else if (!strcmp(et, "alert") && cid) {
		snprintf(key, sizeof(key), "alert|%ld|%ld|%.0f",
			 jint(json_object_get(ev, "alert"), "signature_id", 0),
			 jint(ev, "tx_id", -1), floor(ts));
		it->dkey = strdup(key);
		map_add(&f->net_ctx, cid, it);
		rc = context_arrived(f, it, key);
	} else if (!strcmp(et, "fileinfo") && json_is_object(fi)) {
		const char *sha = jstr(fi, "sha256"), *fn = jstr(fi, "filename");

		snprintf(key, sizeof(key), "fileinfo|%s|%ld|%s|%ld", fn ? fn : "",
			 jint(fi, "size", -1), sha ? sha : "", jint(fi, "tx_id", -1));
		if (cid) {
			it->dkey = strdup(key);
			map_add(&f->net_ctx, cid, it);
			rc = context_arrived(f, it, key);
		}
		if (sha_usable(sha) && jint(fi, "size", 0) > 0) {
			char s[65];

			snprintf(s, sizeof(s), "%s", sha);
			lower(s);
			map_add(&f->net_sha, s, it);
			MAP_FOREACH(&f->ep_sha, s, e) rc = sha_join(f, e, it);
		}
		if (fn && json_object_get(ev, "smb")) {
			file_key(fn, key, sizeof(key));
			map_add(&f->net_file, key, it);
			MAP_FOREACH(&f->ep_file, key, e) rc = file_join(f, e, it, fn);
		}
	} else if (!strcmp(et, "smb")) {
		json_t *s = json_object_get(ev, "smb");
		const char *fn = jstr(s, "filename"), *cmd = jstr(s, "command");

		if (fn && cmd && strstr(cmd, "CREATE")) {
			file_key(fn, key, sizeof(key));
			map_add(&f->net_file, key, it);
			MAP_FOREACH(&f->ep_file, key, e) rc = file_join(f, e, it, fn);
		}
	} else if (!strcmp(et, "dns")) {
		const char *rr = dns_rrname(ev);
		json_t *d = json_object_get(ev, "dns");
		const char *t = jstr(d, "type");

		if (!rr && cid && t && (!strcmp(t, "response") || !strcmp(t, "answer"))) {
			snprintf(key, sizeof(key), "%s|%ld", cid, jint(d, "id", -1));
			map_add(&f->net_resp, key, it);
		}
		if (rr) {
			first_label(rr, key, sizeof(key));
			map_add(&f->net_dns, key, it);
			pend_add(f, it, ts + f->cfg.dns_window + f->cfg.lateness, PEND_DNS);
		}
	} else if (f->cfg.dns_name_fallback && net_name_key(ev, key, sizeof(key))) {
		/* http / tls: only for flows no EID 3 record claims by Community ID */
		bool claimed = false;

		if (cid)
			MAP_FOREACH(&f->ep_cid, cid, e) claimed = true;
		if (!claimed) {
			map_add(&f->net_name, key, it);
			MAP_FOREACH(&f->ep_name, key, e)
			{
				if (it->joined)
					break;
				rc = name_try(f, e, it);
			}
		}
	}
	if (!it->keys[0].m) {
		/* nothing indexes it: no later event can join it */
		item_free(f, it);
		return rc;
	}
	cap(f, IT_NET, f->cfg.max_net, &f->c.evicted_net);
	return rc;
}

static void decide(struct nj_fuse *f, struct item *it)
{
	const char *rr = dns_rrname(it->ev);

	if (it->pprev)
		it->pprev->pnext = it->pnext;
	else
		f->pend_head = it->pnext;
	if (it->pnext)
		it->pnext->pprev = it->pprev;
	else
		f->pend_tail = it->pprev;
	it->pending = false;
	it->pprev = it->pnext = NULL;
	f->deferring = true;
	f->defer_at = it->decide_at;
	if (it->pend_kind == PEND_NAT) {
		nat_try(f, it, true);
	} else if (it->pend_kind == PEND_HASH) {
		attribute_writer(f, it);
		sha_index(f, it);
	} else if (rr) {
		dns_wire_arrived(f, it, rr);
	}
	f->deferring = false;
}

void nj_fuse_flush(struct nj_fuse *f)
{
	while (f->pend_head)
		decide(f, f->pend_head);
}

void nj_fuse_set_resume(struct nj_fuse *f, double ck_now)
{
	f->ck_now = ck_now;
}

double nj_fuse_now(const struct nj_fuse *f)
{
	return f->now;
}

void nj_fuse_advance(struct nj_fuse *f, double now)
{
	if (now > f->now)
		f->now = now;
	while (f->pend_head && f->pend_head->decide_at <= f->now)
		decide(f, f->pend_head);
	while (f->q[IT_EP].head && f->now - f->q[IT_EP].head->time > f->cfg.retention) {
		item_free(f, f->q[IT_EP].head);
		f->c.expired_ep++;
	}
	while (f->q[IT_NET].head && f->now - f->q[IT_NET].head->ts > f->cfg.net_retention) {
		item_free(f, f->q[IT_NET].head);
		f->c.expired_net++;
	}
	while (f->q[IT_PROC].head && f->now - f->q[IT_PROC].head->time > f->cfg.proc_retention) {
		item_free(f, f->q[IT_PROC].head);
		f->c.expired_proc++;
	}
}

const struct nj_fuse_counters *nj_fuse_counters(const struct nj_fuse *f)
{
	((struct nj_fuse *)f)->c.key_trimmed = trimmed;
	return &f->c;
}

struct nj_fuse_counters *nj_fuse_counters_mut(struct nj_fuse *f)
{
	return &f->c;
}

void nj_fuse_held(const struct nj_fuse *f, unsigned *ep, unsigned *net, unsigned *proc)
{
	*ep = f->q[IT_EP].n;
	*net = f->q[IT_NET].n;
	*proc = f->q[IT_PROC].n;
}

double nj_fuse_oldest(const struct nj_fuse *f)
{
	double t = INFINITY;

	if (f->q[IT_EP].head && f->q[IT_EP].head->time < t)
		t = f->q[IT_EP].head->time;
	if (f->q[IT_NET].head && f->q[IT_NET].head->ts < t)
		t = f->q[IT_NET].head->ts;
	return t;
}
