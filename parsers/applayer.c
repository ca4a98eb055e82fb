/* SPDX-License-Identifier: MIT */
/*
 * The app-layer framework: parser registry, protocol detection by probing,
 * per-direction buffering of what a parser did not consume, transaction
 * logging and release, anomaly events. One nj_al_worker per core; the
 * per-flow state (struct al_flow) hangs off flow->app_state and is allocated
 * once per flow that carries payload.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/nj_common.h"
#include "../dataplane/flow.h"
#include "../dataplane/pkt.h"
#include "../dataplane/stream.h"
#include "../export/eve_priv.h"
#include "applayer.h"
#include "files.h"

/* ------------------------------------------------------------------ registry */

static struct nj_app_parser *parsers[NJ_APP_MAX_PARSERS];
static unsigned nparsers;

void nj_app_parser_register(struct nj_app_parser *p)
{
	if (nparsers + 1 >= NJ_APP_MAX_PARSERS) {
		NJ_ERR("app-layer: too many parsers, %s not registered", p->name);
		return;
	}
	/* ids start at 1: 0 is "unknown" */
	parsers[nparsers] = p;
	p->id = (uint16_t)(nparsers + 1);
	nparsers++;
}

const struct nj_app_parser *nj_app_parser_by_id(uint16_t id)
{
	if (id == 0 || id > nparsers)
		return NULL;
	return parsers[id - 1];
}

const struct nj_app_parser *nj_app_parser_by_name(const char *name)
{
	for (unsigned i = 0; i < nparsers; i++)
		if (strcmp(parsers[i]->name, name) == 0)
			return parsers[i];
	return NULL;
}

const char *nj_app_proto_name(uint16_t id)
{
	const struct nj_app_parser *p;

	if (id == NJ_APP_PROTO_FAILED)
		return "failed";
	p = nj_app_parser_by_id(id);
	return p ? p->name : NULL;
}

int nj_app_parsers_configure(const struct nj_conf *conf)
{
	for (unsigned i = 0; i < nparsers; i++)
		if (parsers[i]->configure && parsers[i]->configure(conf) != 0)
			return -1;
	return 0;
}

void nj_al_config_defaults(struct nj_al_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->max_buffer = 256 * 1024;
	cfg->probe_max = 4096;
	cfg->log_anomaly = true;
}

/* ------------------------------------------------------------------ contexts */

/* Logger: writes events through the worker's EVE handle, or into memory (tests). */
struct nj_al_log {
	struct nj_eve_worker *eve;
	const struct nj_app_parser *parser;
	struct nj_flow *flow;
	uint64_t ts_us;
	uint64_t seq; /* packet number for pcap_cnt, 0 if none */
	/* test mode */
	struct nj_al_test *test;
	enum nj_eve_type type;
	struct nj_json tj;
	char tbuf[65536];
};

struct nj_al_ctx {
	struct nj_flow *flow;
	uint64_t ts_us;
	const struct nj_app_parser *parser;
	struct nj_al_worker *w; /* NULL in test mode */
	struct nj_al_test *test;
	const struct nj_pkt *pkt;
};

/* An announced connection (nj_al_expect). */
struct al_expect {
	uint8_t addr[2][16]; /* the announcing flow's two hosts */
	uint8_t ipv6;
	uint8_t used;
	uint16_t dport; /* server port of the expected flow */
	uint16_t proto; /* parser id */
	uint16_t vlan;	/* the announcing flow's outer VLAN key */
	uint16_t len;	/* bytes of data */
	uint64_t created_us;
	uint64_t parent_flow_id;
	uint8_t data[NJ_AL_EXPECT_DATA];
};

struct nj_al_worker {
	struct nj_al_config cfg;
	uint32_t nexpect; /* entries in use: new flows look only when not 0 */
	struct al_expect expect[NJ_AL_EXPECT_MAX];
	struct nj_eve_worker *eve;
	struct nj_al_stats st;
	nj_al_tx_hook tx_hook;
	void *tx_hook_arg;
	struct nj_files *files;
	struct nj_al_ctx ctx;
	struct nj_al_log log;
};

/* Per-flow state. */
struct al_dir {
	uint8_t *buf; /* unconsumed bytes (TCP) */
	uint32_t len, cap;
	uint32_t probed; /* bytes seen while detecting */
	uint8_t probe_res;
	uint8_t dead;	/* parser gave up, or buffer overflow */
	uint8_t closed; /* close() delivered */
};

struct al_flow {
	const struct nj_app_parser *parser;
	void *state;
	uint8_t failed;
	uint8_t change;	    /* parser asked for a protocol change (nj_al_request_proto_change) */
	uint8_t redetect;   /* detecting again after a change: app_proto is still the old one */
	uint16_t change_dp; /* server port for port hints after the change, 0 = the flow's */
	uint8_t nchanges;   /* protocol changes followed */
	struct al_dir d[2];
};

struct nj_flow *nj_al_flow(const struct nj_al_ctx *c)
{
	return c->flow;
}

uint64_t nj_al_ts(const struct nj_al_ctx *c)
{
	return c->ts_us;
}

struct nj_files *nj_al_files(const struct nj_al_ctx *c)
{
	if (c->test)
		return c->test->files;
	return c->w->files;
}

bool nj_al_request_proto_change(struct nj_al_ctx *c, uint16_t dp)
{
	struct al_flow *af;

	if (c->test) {
		c->test->proto_changes++;
		c->test->proto_change_dp = dp;
		return true;
	}
	af = c->flow ? c->flow->app_state : NULL;
	if (!af || !af->parser || af->change)
		return false;
	af->change = 1;
	af->change_dp = dp;
	return true;
}

bool nj_al_expect(struct nj_al_ctx *c, const char *proto, uint16_t dport, const void *data,
		  uint32_t len)
{
	const struct nj_app_parser *p = nj_app_parser_by_name(proto);
	struct nj_al_worker *w = c->w;
	struct al_expect *e = NULL;
	const struct nj_flow *f = c->flow;

	if (!p || !f || len > NJ_AL_EXPECT_DATA || !dport)
		return false;
	if (c->test) {
		c->test->expects++;
		c->test->expect_dport = dport;
		c->test->expect_len = len;
		memcpy(c->test->expect_data, data, len);
		return true;
	}
	if (w->cfg.disabled[p->id])
		return false;
	for (unsigned i = 0; i < NJ_AL_EXPECT_MAX; i++) {
		struct al_expect *x = &w->expect[i];

		if (x->used && c->ts_us > x->created_us + NJ_AL_EXPECT_TIMEOUT_US) {
			x->used = 0;
			w->nexpect--;
			w->st.expect_expired++;
		}
		if (!x->used) {
			if (!e || e->used)
				e = x;
		} else if (x->dport == dport && x->proto == p->id && x->ipv6 == f->ipv6 &&
			   memcmp(x->addr, f->addr, sizeof(x->addr)) == 0) {
			e = x; /* the same connection announced again: the newer wins */
			break;
		} else if (!e || (e->used && x->created_us < e->created_us)) {
			e = x;
		}
	}
	if (e->used && (e->dport != dport || e->proto != p->id ||
			memcmp(e->addr, f->addr, sizeof(e->addr)) != 0))
		w->st.expect_evicted++;
	if (!e->used)
		w->nexpect++;
	memcpy(e->addr, f->addr, sizeof(e->addr));
	e->ipv6 = f->ipv6;
	e->used = 1;
	e->dport = dport;
	e->proto = p->id;
	e->vlan = f->vlan[0];
	e->len = (uint16_t)len;
	e->created_us = c->ts_us;
	e->parent_flow_id = f->flow_id;
	memcpy(e->data, data, len);
	w->st.expect_new++;
	return true;
}

bool nj_al_depth_reached(const struct nj_al_ctx *c, int dir)
{
	if (c->test)
		return c->test->depth_reached[dir & 1];
	if (!c->flow || c->flow->proto != 6)
		return false;
	if (c->flow->swap_pending)
		dir = 1 - dir;
	return nj_stream_depth_reached(c->flow, dir);
}

/*
 * A new TCP flow: was it announced? Both hosts must be the announcing flow's
 * (in either order) and its server port the announced one.
 */
static struct al_expect *expect_find(struct nj_al_worker *w, const struct nj_flow *f,
				     uint64_t ts_us)
{
	uint16_t dp = nj_flow_dport(f);

	for (unsigned i = 0; i < NJ_AL_EXPECT_MAX; i++) {
		struct al_expect *x = &w->expect[i];

		if (!x->used || x->dport != dp || x->ipv6 != f->ipv6 || x->vlan != f->vlan[0])
			continue;
		if (ts_us > x->created_us + NJ_AL_EXPECT_TIMEOUT_US) {
			x->used = 0;
			w->nexpect--;
			w->st.expect_expired++;
			continue;
		}
		/* flow keys are normalised (lower address first), so equal pairs compare equal */
		if (memcmp(x->addr, f->addr, sizeof(x->addr)) == 0)
			return x;
	}
	return NULL;
}

void nj_al_worker_set_files(struct nj_al_worker *w, struct nj_files *files)
{
	w->files = files;
}

#define AL_NO_TX UINT64_MAX

static void log_anomaly(struct nj_al_worker *w, struct nj_flow *f, const struct nj_pkt *p,
			uint64_t ts_us, const char *app, const char *name, uint64_t tx_id)
{
	struct nj_json *j;

	if (!w->cfg.log_anomaly || !nj_eve_wants(w->eve, NJ_EVE_ANOMALY))
		return;
	j = nj_eve_begin(w->eve, NJ_EVE_ANOMALY, ts_us, f, p);
	if (p)
		nj_json_str(j, "pkt_src", "wire/pcap");
	if (tx_id != AL_NO_TX)
		nj_json_u64(j, "tx_id", tx_id);
	nj_json_open_obj(j, "anomaly");
	if (app)
		nj_json_str(j, "app_proto", app);
	nj_json_str(j, "type", "applayer");
	nj_json_str(j, "event", name);
	nj_json_str(j, "layer", "proto_parser");
	nj_json_close_obj(j);
	nj_eve_commit(w->eve);
}

void nj_al_event(struct nj_al_ctx *c, int dir, const char *name)
{
	nj_al_event_tx(c, dir, name, AL_NO_TX);
}

void nj_al_event_tx(struct nj_al_ctx *c, int dir, const char *name, uint64_t tx_id)
{
	if (c->test) {
		struct nj_al_test *t = c->test;

		if (t->nevents < NJ_AL_TEST_MAX_EVENTS) {
			snprintf(t->events[t->nevents], sizeof(t->events[0]), "%s", name);
			t->event_dir[t->nevents] = dir;
		}
		t->nevents++;
		return;
	}
	c->w->st.events++;
	log_anomaly(c->w, c->flow, c->pkt, c->ts_us, c->parser ? c->parser->name : NULL, name,
		    tx_id);
}

struct nj_json *nj_al_log_begin(struct nj_al_log *lg, const struct nj_al_tx *tx, int dir)
{
	struct nj_json *j;

	if (lg->test) {
		nj_json_init(&lg->tj, lg->tbuf, sizeof(lg->tbuf));
		nj_json_open_obj(&lg->tj, NULL);
		nj_json_str(&lg->tj, "event_type", nj_eve_type_name(lg->type));
		nj_json_u64(&lg->tj, "tx_id", tx->id);
		nj_json_str(&lg->tj, "direction",
			    dir == NJ_DIR_TOCLIENT ? "to_client" : "to_server");
		return &lg->tj;
	}
	if (lg->flow->swap_pending)
		dir = 1 - dir; /* the flow is reversed once this packet is done */
	j = nj_eve_begin_flow_seq(lg->eve, lg->parser->eve, lg->ts_us, lg->flow,
				  dir == NJ_DIR_TOCLIENT, lg->seq);
	if (lg->seq)
		nj_json_str(j, "pkt_src", "wire/pcap"); /* Suricata 8: logged from a packet */
	if (!lg->parser->log_no_tx_id)
		nj_json_u64(j, "tx_id", tx->id);
	return j;
}

void nj_al_log_commit(struct nj_al_log *lg)
{
	if (lg->test) {
		struct nj_al_test *t = lg->test;
		size_t n;

		nj_json_close_obj(&lg->tj);
		if (!nj_json_ok(&lg->tj))
			return;
		n = lg->tj.len;
		if (t->out_len + n + 2 > t->out_cap) {
			size_t cap = (t->out_cap + n + 2) * 2;
			char *o = realloc(t->out, cap);

			if (!o)
				return;
			t->out = o;
			t->out_cap = cap;
		}
		memcpy(t->out + t->out_len, lg->tbuf, n);
		t->out_len += n;
		t->out[t->out_len++] = '\n';
		t->out[t->out_len] = 0;
		return;
	}
	nj_eve_commit(lg->eve);
}

/* ------------------------------------------------------------------ test support */

struct al_test_priv {
	struct nj_al_test pub;
	struct nj_al_ctx ctx;
	struct nj_al_log log;
	struct nj_flow flow;
};

struct nj_al_test *nj_al_test_new(struct nj_flow *f, enum nj_eve_type type, uint64_t ts_us)
{
	struct al_test_priv *tp = calloc(1, sizeof(*tp));

	if (!tp)
		return NULL;
	if (!f) {
		f = &tp->flow;
		f->proto = 6;
	}
	tp->ctx.flow = f;
	tp->ctx.ts_us = ts_us;
	tp->ctx.test = &tp->pub;
	tp->log.test = &tp->pub;
	tp->log.type = type;
	tp->log.flow = f;
	tp->log.ts_us = ts_us;
	tp->pub.ctx = &tp->ctx;
	tp->pub.log = &tp->log;
	return &tp->pub;
}

void nj_al_test_free(struct nj_al_test *t)
{
	if (!t)
		return;
	free(t->out);
	free(t);
}

/* ------------------------------------------------------------------ runtime */

struct nj_al_worker *nj_al_worker_create(const struct nj_al_config *cfg, struct nj_eve_worker *eve)
{
	struct nj_al_worker *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->cfg = *cfg;
	w->eve = eve;
	w->log.eve = eve;
	w->ctx.w = w;
	return w;
}

void nj_al_worker_destroy(struct nj_al_worker *w)
{
	free(w);
}

void nj_al_worker_set_tx_hook(struct nj_al_worker *w, nj_al_tx_hook fn, void *arg)
{
	w->tx_hook = fn;
	w->tx_hook_arg = arg;
}

const struct nj_al_stats *nj_al_worker_stats(const struct nj_al_worker *w)
{
	return &w->st;
}

static struct nj_al_ctx *ctx_for(struct nj_al_worker *w, struct nj_flow *f, uint64_t ts_us,
				 const struct nj_pkt *p, const struct nj_app_parser *parser)
{
	w->ctx.flow = f;
	w->ctx.ts_us = ts_us;
	w->ctx.pkt = p;
	w->ctx.parser = parser;
	if (w->files) {
		nj_files_set_pcap_cnt(w->files, p ? p->seq : 0);
		nj_files_defer(w->files, true); /* until al_txs has run the hooks */
	}
	return &w->ctx;
}

/* Inspect newly completed directions, log and free finished transactions. */
static void al_txs(struct nj_al_worker *w, struct nj_flow *f, struct al_flow *af, uint64_t ts_us,
		   bool all, const struct nj_pkt *pkt)
{
	const struct nj_app_parser *p = af->parser;
	struct nj_al_txq *q = p->txq(af->state);
	bool want_log = (p->log_tx || p->log_tx_dir) && nj_eve_wants(w->eve, p->eve);

	if (w->tx_hook || (want_log && p->log_tx_dir)) {
		for (struct nj_al_tx *tx = q->head; tx; tx = tx->next)
			for (int d = 0; d < 2; d++) {
				if (!tx->done[d] && !all)
					continue;
				if (w->tx_hook && !tx->inspected[d]) {
					w->tx_hook(w->tx_hook_arg, f, p, tx, d);
					tx->inspected[d] = 1;
				}
				if (want_log && p->log_tx_dir && !(tx->logged & (1u << d))) {
					w->log.parser = p;
					w->log.flow = f;
					w->log.ts_us = ts_us;
					w->log.seq = pkt ? pkt->seq : 0;
					p->log_tx_dir(&w->log, f, tx, d);
					tx->logged |= (uint8_t)(1u << d);
				}
			}
	}
	if (w->files) {
		/* files closed while parsing: finished now that rules have seen them */
		nj_files_flush(w->files);
		nj_files_defer(w->files, false);
	}
	while (q->head && (all || (q->head->done[0] && q->head->done[1]))) {
		struct nj_al_tx *tx = q->head;

		q->head = tx->next;
		if (!q->head)
			q->tail = NULL;
		q->count--;
		if (want_log && p->log_tx && !(tx->logged & 0x80)) {
			w->log.parser = p;
			w->log.flow = f;
			w->log.ts_us = ts_us;
			w->log.seq = pkt ? pkt->seq : 0;
			p->log_tx(&w->log, f, tx);
		}
		tx->logged |= 0x80;
		if (!p->no_tx_stats)
			w->st.tx[p->id]++;
		p->tx_free(af->state, tx);
	}
}

static struct al_flow *al_flow_get(struct nj_flow *f)
{
	struct al_flow *af = f->app_state;

	if (af)
		return af;
	af = calloc(1, sizeof(*af));
	f->app_state = af;
	return af;
}

static bool port_is_hint(const struct nj_app_parser *p, uint16_t port)
{
	for (unsigned i = 0; i < 8 && p->ports[i]; i++)
		if (p->ports[i] == port)
			return true;
	return false;
}

/* The server port for port hints: the flow's, or the one a protocol change gave. */
static uint16_t hint_dport(const struct nj_flow *f, const struct al_flow *af)
{
	return af && af->change_dp ? af->change_dp : nj_flow_dport(f);
}

static bool port_hint(const struct nj_app_parser *p, const struct nj_flow *f,
		      const struct al_flow *af)
{
	return port_is_hint(p, nj_flow_sport(f)) || port_is_hint(p, hint_dport(f, af));
}

/*
 * Probe data of direction dir. Parsers with a port hint go first. Returns the
 * chosen parser, or NULL with *all_no set when every parser said no.
 */
static const struct nj_app_parser *al_probe(struct nj_al_worker *w, const struct nj_flow *f,
					    const struct al_flow *af, uint8_t ipmask,
					    const uint8_t *data, uint32_t len, int dir,
					    bool *all_no, bool *reversed)
{
	bool more = false;

	*reversed = false;
	for (int pass = 0; pass < 2; pass++) {
		for (unsigned i = 0; i < nparsers; i++) {
			const struct nj_app_parser *p = parsers[i];
			int r;

			if (!(p->ipproto_mask & ipmask) || w->cfg.disabled[p->id] || !p->probe)
				continue;
			if (port_hint(p, f, af) != (pass == 0))
				continue;
			if (pass == 1 && p->probe_ports_only)
				continue;
			if (len < p->probe_min) {
				more = true;
				continue;
			}
			r = p->probe(data, len, dir);
			if (r == NJ_PROBE_OTHER_DIR)
				r = ipmask == NJ_AL_TCP && nj_flow_tcp_midstream(f)
					    ? NJ_PROBE_YES_REVERSED
					    : NJ_PROBE_NO;
			if (r == NJ_PROBE_YES || r == NJ_PROBE_YES_REVERSED) {
				*reversed = r == NJ_PROBE_YES_REVERSED;
				/* as Suricata: a hint that matches only the client's port means
				 * the side taken for the client is the server */
				if (pass == 0 && !*reversed &&
				    !port_is_hint(p, hint_dport(f, af)) &&
				    port_is_hint(p, nj_flow_sport(f)))
					*reversed = true;
				return p;
			}
			if (r == NJ_PROBE_MORE)
				more = true;
		}
	}
	*all_no = !more;
	return NULL;
}

static void al_start(struct nj_al_worker *w, struct nj_flow *f, struct al_flow *af,
		     const struct nj_app_parser *p)
{
	af->parser = p;
	af->state = p->state_new();
	if (!af->state) {
		af->failed = 1;
		af->parser = NULL;
		return;
	}
	f->app_proto = p->id;
	w->st.flows[p->id]++;
}

static bool buf_append(struct al_dir *d, const uint8_t *data, uint32_t len, uint32_t max)
{
	if (d->len + len > max)
		return false;
	if (d->len + len > d->cap) {
		uint32_t cap = d->cap ? d->cap : 2048;
		uint8_t *b;

		while (cap < d->len + len)
			cap *= 2;
		if (cap > max)
			cap = max;
		b = realloc(d->buf, cap);
		if (!b)
			return false;
		d->buf = b;
		d->cap = cap;
	}
	memcpy(d->buf + d->len, data, len);
	d->len += len;
	return true;
}

/* Feed data to the parser; keep what it did not consume. */
static void al_parse(struct nj_al_worker *w, struct nj_flow *f, struct al_flow *af, int dir,
		     const uint8_t *data, uint32_t len, const struct nj_pkt *p, uint64_t ts_us)
{
	struct al_dir *d = &af->d[dir];
	const struct nj_app_parser *ap = af->parser;
	struct nj_al_ctx *c = ctx_for(w, f, ts_us, p, ap);
	int32_t r;

	if (d->dead)
		return;
	if (d->len) {
		/* earlier leftovers: append and parse the whole */
		if (!buf_append(d, data, len, w->cfg.max_buffer)) {
			w->st.buffer_overflow++;
			d->dead = 1;
			d->len = 0;
			nj_al_event(c, dir, "APPLAYER_BUFFER_OVERFLOW");
			return;
		}
		r = ap->parse(af->state, c, dir, d->buf, d->len);
		if (r < 0)
			goto error;
		if ((uint32_t)r >= d->len) {
			d->len = 0;
		} else {
			memmove(d->buf, d->buf + r, d->len - (uint32_t)r);
			d->len -= (uint32_t)r;
		}
		return;
	}
	r = ap->parse(af->state, c, dir, data, len);
	if (r < 0)
		goto error;
	if ((uint32_t)r < len && !buf_append(d, data + r, len - (uint32_t)r, w->cfg.max_buffer)) {
		w->st.buffer_overflow++;
		d->dead = 1;
		nj_al_event(c, dir, "APPLAYER_BUFFER_OVERFLOW");
	}
	return;
error:
	w->st.parse_errors++;
	if (ap->id < NJ_APP_MAX_PARSERS)
		w->st.parser_errors[ap->id][0]++;
	d->dead = 1;
	d->len = 0;
}

/* Drops what both directions buffered for protocol detection. */
static void al_bufs_free(struct al_flow *af)
{
	for (int k = 0; k < 2; k++) {
		free(af->d[k].buf);
		af->d[k].buf = NULL;
		af->d[k].len = af->d[k].cap = 0;
	}
}

/* Protocol changes followed per flow at most (each one re-runs detection). */
#define AL_MAX_CHANGES 4

static void al_change(struct nj_al_worker *w, struct nj_flow *f, struct al_flow *af, int dir,
		      unsigned flags, const struct nj_pkt *p, uint64_t ts_us);

/*
 * Protocol detection on the bytes buffered for direction dir (TCP). Once a
 * parser is chosen it gets what both directions buffered, to server first.
 */
static void al_detect(struct nj_al_worker *w, struct nj_flow *f, struct al_flow *af, int dir,
		      unsigned flags, const struct nj_pkt *p, uint64_t ts_us)
{
	struct al_dir *d = &af->d[dir];
	bool all_no = false, reversed;
	const struct nj_app_parser *ap;

	if (d->len == 0 || d->probe_res)
		goto detect_state;
	/* TCP: no reversal yet (the stream's per-direction state would have to follow) */
	ap = al_probe(w, f, af, NJ_AL_TCP, d->buf, d->len, dir, &all_no, &reversed);
	if (ap && reversed && nj_flow_tcp_midstream(f) && !af->redetect) {
		/* these bytes came from the server: swap our buffers now, the flow
		 * and the stream after this packet (Suricata reverses mid-stream
		 * sessions the same way) */
		struct al_dir x = af->d[0];

		af->d[0] = af->d[1];
		af->d[1] = x;
		f->swap_pending = 1;
		dir = 1 - dir;
		d = &af->d[dir];
	}
	if (ap) {
		/* parse what both directions have buffered, to server first */
		struct al_flow tmp = *af;

		al_start(w, f, af, ap);
		if (!af->parser)
			goto failed;
		af->redetect = 0;
		for (int k = 0; k < 2; k++) {
			af->d[k].buf = NULL;
			af->d[k].len = af->d[k].cap = 0;
		}
		for (int i = 0; i < 2; i++) {
			int k = ap->server_first ? 1 - i : i;

			if (tmp.d[k].len && !af->change)
				al_parse(w, f, af, k, tmp.d[k].buf, tmp.d[k].len, p, ts_us);
			else if (tmp.d[k].len && !buf_append(&af->d[k], tmp.d[k].buf, tmp.d[k].len,
							     w->cfg.max_buffer))
				af->d[k].dead = 1;
		}
		for (int k = 0; k < 2; k++)
			free(tmp.d[k].buf);
		if (af->change)
			al_change(w, f, af, dir, flags, p, ts_us);
		else if (flags & NJ_STREAM_EOF)
			nj_al_stream_data(w, f, dir, NULL, 0, NJ_STREAM_EOF, p);
		else
			al_txs(w, f, af, ts_us, false, p);
		return;
	}
	if (all_no || d->len >= w->cfg.probe_max)
		d->probe_res = 1;
detect_state:
	if (flags & NJ_STREAM_EOF)
		d->closed = 1;
	if (af->d[0].probe_res && af->d[1].probe_res)
		goto failed;
	return;
failed:
	af->failed = 1;
	f->app_proto = NJ_APP_PROTO_FAILED;
	w->st.failed_tcp++;
	al_bufs_free(af);
}

/*
 * The parser asked for a protocol change (nj_al_request_proto_change): its
 * transactions are logged and freed with its state, and detection starts
 * again on what it left (first in direction dir).
 */
static void al_change(struct nj_al_worker *w, struct nj_flow *f, struct al_flow *af, int dir,
		      unsigned flags, const struct nj_pkt *p, uint64_t ts_us)
{
	const struct nj_app_parser *old = af->parser;

	af->change = 0;
	al_txs(w, f, af, ts_us, true, p);
	old->state_free(af->state);
	af->state = NULL;
	af->parser = NULL;
	af->redetect = 1;
	f->app_proto_orig = old->id;
	for (int k = 0; k < 2; k++) {
		af->d[k].probe_res = 0;
		af->d[k].probed = 0;
		if (af->d[k].dead) {
			af->d[k].dead = 0;
			af->d[k].len = 0;
		}
	}
	if (++af->nchanges > AL_MAX_CHANGES) {
		/* a chain of tunnels: stop following (the flow keeps its last protocol) */
		af->failed = 1;
		al_bufs_free(af);
		return;
	}
	al_detect(w, f, af, dir, flags & ~(unsigned)NJ_STREAM_GAP, p, ts_us);
	if (!af->parser && !af->failed && af->d[1 - dir].len)
		al_detect(w, f, af, 1 - dir, 0, p, ts_us);
}

/* A new flow announced by nj_al_expect: its parser starts without probing. */
static void al_expected(struct nj_al_worker *w, struct nj_flow *f, struct al_flow *af,
			const struct nj_pkt *p, uint64_t ts_us)
{
	struct al_expect *x = expect_find(w, f, ts_us);
	const struct nj_app_parser *ap;

	if (!x)
		return;
	x->used = 0;
	w->nexpect--;
	w->st.expect_hit++;
	ap = nj_app_parser_by_id(x->proto);
	if (!ap || w->cfg.disabled[ap->id])
		return;
	al_start(w, f, af, ap);
	if (af->parser && ap->expect_start)
		ap->expect_start(af->state, ctx_for(w, f, ts_us, p, ap), x->data, x->len,
				 x->parent_flow_id);
}

void nj_al_stream_data(void *arg, struct nj_flow *f, int dir, const uint8_t *data, uint32_t len,
		       unsigned flags, const struct nj_pkt *p)
{
	struct nj_al_worker *w = arg;
	struct al_flow *af = f->app_state;
	uint64_t ts_us = p ? p->ts_us : f->last_us;
	struct al_dir *d;

	if (!af) {
		if (len == 0 || (flags & NJ_STREAM_GAP))
			return;
		af = al_flow_get(f);
		if (!af)
			return;
		if (unlikely(w->nexpect))
			al_expected(w, f, af, p, ts_us);
	}
	if (af->failed)
		return;
	if (f->swap_pending)
		dir = 1 - dir; /* the worker swaps the flow once this packet is done */
	d = &af->d[dir];
	if (!af->parser) {
		if (flags & NJ_STREAM_GAP) {
			/* a gap before detection: give up on this direction */
			d->probe_res = 1;
			d->len = 0;
		} else if (!d->probe_res && len &&
			   !buf_append(d, data, len, w->cfg.probe_max + 65536u)) {
			d->probe_res = 1;
		}
		al_detect(w, f, af, dir, flags, p, ts_us);
		return;
	}
	if (flags & NJ_STREAM_GAP) {
		struct nj_al_ctx *c = ctx_for(w, f, ts_us, p, af->parser);

		w->st.gaps++;
		d->len = 0; /* leftovers cannot be completed across a gap */
		if (af->parser->gap && !d->dead)
			af->parser->gap(af->state, c, dir, len);
	} else if (len) {
		al_parse(w, f, af, dir, data, len, p, ts_us);
		if (af->change) {
			al_change(w, f, af, dir, flags, p, ts_us);
			return;
		}
	}
	if ((flags & NJ_STREAM_EOF) && !d->closed) {
		d->closed = 1;
		if (af->parser->close)
			af->parser->close(af->state, ctx_for(w, f, ts_us, p, af->parser), dir);
	}
	al_txs(w, f, af, ts_us, false, p);
}

bool nj_al_udp(struct nj_al_worker *w, struct nj_flow *f, struct nj_pkt *p)
{
	bool swapped = false;
	struct al_flow *af = f->app_state;
	int dir = (p->flags & NJ_PKT_TOCLIENT) ? NJ_DIR_TOCLIENT : NJ_DIR_TOSERVER;
	const uint8_t *data = p->data + p->payload_off;
	uint32_t len = p->payload_len;
	struct nj_al_ctx *c;
	int32_t r;

	if (len == 0)
		return false;
	if (!af) {
		af = al_flow_get(f);
		if (!af)
			return false;
	}
	if (af->failed)
		return false;
	if (!af->parser) {
		bool all_no = false, reversed;
		const struct nj_app_parser *ap =
			al_probe(w, f, af, NJ_AL_UDP, data, len, dir, &all_no, &reversed);

		if (!ap) {
			/* a datagram is all there is: no, or not enough, ends detection (Suricata
			 * marks a UDP flow failed on its first unrecognised datagram) */
			af->d[dir].probe_res = 1;
			{
				af->failed = 1;
				f->app_proto = NJ_APP_PROTO_FAILED;
				w->st.failed_udp++;
			}
			return false;
		}
		al_start(w, f, af, ap);
		if (!af->parser)
			return false;
		if (reversed) {
			nj_flow_swap(f);
			nj_flow_pkt_swap(p);
			dir = 1 - dir;
			swapped = true;
		}
	}
	if (af->d[dir].dead)
		return swapped;
	c = ctx_for(w, f, p->ts_us, p, af->parser);
	r = af->parser->parse(af->state, c, dir, data, len);
	af->change = 0; /* protocol changes are followed on TCP only */
	if (r < 0) {
		w->st.parse_errors++;
		if (af->parser->id < NJ_APP_MAX_PARSERS)
			w->st.parser_errors[af->parser->id][1]++;
		/* UDP: one bad datagram does not end the flow's parsing */
	}
	al_txs(w, f, af, p->ts_us, false, p);
	return swapped;
}

void nj_al_swap(struct nj_flow *f)
{
	struct al_flow *af = f->app_state;
	struct al_dir x;

	if (!af)
		return;
	x = af->d[0];
	af->d[0] = af->d[1];
	af->d[1] = x;
}

void nj_al_flow_end(struct nj_al_worker *w, struct nj_flow *f)
{
	struct al_flow *af = f->app_state;

	if (!af)
		return;
	if (af->parser) {
		for (int d = 0; d < 2; d++) {
			if (!af->d[d].closed && af->parser->close)
				af->parser->close(af->state,
						  ctx_for(w, f, f->last_us, NULL, af->parser), d);
			af->d[d].closed = 1;
		}
		al_txs(w, f, af, f->last_us, true, NULL);
		af->parser->state_free(af->state);
	} else if (!af->failed && !af->redetect && (af->d[0].len || af->d[1].len)) {
		/* data seen but never recognised */
		f->app_proto = NJ_APP_PROTO_FAILED;
		if (f->proto == 17)
			w->st.failed_udp++;
		else
			w->st.failed_tcp++;
	}
	al_bufs_free(af);
	free(af);
	f->app_state = NULL;
}

static const char *al_log_dir = ".";

void nj_al_set_log_dir(const char *dir)
{
	al_log_dir = dir && *dir ? dir : ".";
}

const char *nj_al_log_dir(void)
{
	return al_log_dir;
}
