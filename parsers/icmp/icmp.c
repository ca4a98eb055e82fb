/* SPDX-License-Identifier: MIT */
/*
 * ICMP echo analysis (see icmp.h). Per flow, the echo requests live in a
 * small ring that grows by doubling up to max_outstanding entries; a reply
 * is paired by a linear scan (the ring is small, and ICMP is a sliver of
 * the traffic). A request keeps its slot after being answered, so that a
 * second reply is recognised as a duplicate, until the ring wraps over it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/nj_common.h"
#include "../../config/config.h"
#include "../../dataplane/flow.h"
#include "../../dataplane/pkt.h"
#include "../../export/json.h"
#include "../beacon/beacon.h"
#include "icmp.h"

NJ_CONF_KEY(icmp_enabled, "nightjar.icmp.enabled", NJ_CT_BOOL, "yes",
	    "ICMP echo pairing, round-trip times and the flow event's \"icmp\" object "
	    "(docs/icmp-beacon.md).")
NJ_CONF_KEY(icmp_maxout, "nightjar.icmp.max-outstanding", NJ_CT_INT, "64",
	    "Echo requests remembered per flow for pairing (1-4096); past it the oldest is given "
	    "up (counted as table_full if younger than echo-timeout).")
NJ_CONF_KEY(icmp_timeout, "nightjar.icmp.echo-timeout", NJ_CT_INT, "10",
	    "Seconds after which an unanswered echo request may be given up for a new one.")
NJ_CONF_KEY(icmp_large, "nightjar.icmp.max-echo-payload", NJ_CT_INT, "1472",
	    "Echo payload bytes above which icmp.echo_large_payload is raised (0: never).")
NJ_CONF_KEY(icmp_memcap, "nightjar.icmp.memcap", NJ_CT_SIZE, "16mb",
	    "Memory for per-flow ICMP state, split over workers; flows past it are not paired "
	    "(counted).")

#define ICMP_STATE_MAGIC 0x49434d50u /* "ICMP" */
#define TAB_MIN		 8
#define MAX_IDS		 4

enum { REQ_FREE = 0, REQ_OUT, REQ_ANSWERED };

enum { AN_WITHOUT_REQUEST = 0, AN_DUPLICATE, AN_LENGTH, AN_PAYLOAD, AN_LARGE, AN_MAX };

static const char *const an_names[AN_MAX] = {
	"icmp.echo_reply_without_request", "icmp.echo_duplicate_reply",
	"icmp.echo_reply_length_mismatch", "icmp.echo_reply_payload_mismatch",
	"icmp.echo_large_payload",
};

struct echo_req {
	uint64_t ts_us;
	uint32_t hash; /* of the payload bytes present */
	uint16_t id, seq;
	uint16_t len;	   /* payload length claimed by the IP header */
	uint8_t dir;	   /* 0: client to server */
	uint8_t state : 4; /* REQ_* */
	uint8_t whole : 1; /* the whole payload was captured (hash comparable) */
};

struct icmp_state {
	uint32_t magic;
	uint16_t cap, head; /* ring capacity and next slot */
	uint8_t reported;   /* anomalies already reported for this flow (bits) */
	uint8_t nids, more_ids;
	uint16_t ids[MAX_IDS];
	uint32_t late_budget; /* outstanding requests pushed out: their replies are not anomalies */
	uint64_t requests, replies, matched, duplicates, unsolicited, errors;
	uint64_t req_bytes, rep_bytes;
	uint32_t payload_min, payload_max;
	uint64_t rtt_min_us, rtt_max_us, rtt_sum_us;
	struct echo_req *tab;
};

struct nj_icmp {
	struct nj_icmp_config cfg;
	struct nj_icmp_stats st;
	nj_icmp_anomaly_fn anomaly;
	void *anomaly_arg;
	struct nj_beacon *beacon;
};

/* ------------------------------------------------------------------ config */

void nj_icmp_config_defaults(struct nj_icmp_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->enabled = true;
	cfg->max_outstanding = 64;
	cfg->echo_timeout_s = 10;
	cfg->max_echo_payload = 1472;
	cfg->memcap = 16ull << 20;
}

int nj_icmp_config_load(struct nj_icmp_config *cfg, const struct nj_conf *c)
{
	struct nj_icmp_config k = *cfg;
	int64_t v;

	if (!c)
		return 0;
	if (nj_conf_bool(c, NULL, "nightjar.icmp.enabled", &k.enabled) < 0 ||
	    nj_conf_size(c, NULL, "nightjar.icmp.memcap", &k.memcap) < 0)
		return -1;
	v = k.max_outstanding;
	if (nj_conf_int(c, NULL, "nightjar.icmp.max-outstanding", 1, 4096, &v) < 0)
		return -1;
	k.max_outstanding = (uint32_t)v;
	v = k.echo_timeout_s;
	if (nj_conf_int(c, NULL, "nightjar.icmp.echo-timeout", 0, 86400, &v) < 0)
		return -1;
	k.echo_timeout_s = (uint32_t)v;
	v = k.max_echo_payload;
	if (nj_conf_int(c, NULL, "nightjar.icmp.max-echo-payload", 0, 65535, &v) < 0)
		return -1;
	k.max_echo_payload = (uint32_t)v;
	*cfg = k;
	return 0;
}

/* ------------------------------------------------------------------ context */

struct nj_icmp *nj_icmp_create(const struct nj_icmp_config *cfg)
{
	struct nj_icmp *ctx;

	if (!cfg || cfg->max_outstanding < 1 || cfg->max_outstanding > 65535)
		return NULL;
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return NULL;
	ctx->cfg = *cfg;
	return ctx;
}

void nj_icmp_destroy(struct nj_icmp *ctx)
{
	free(ctx);
}

const struct nj_icmp_stats *nj_icmp_stats(const struct nj_icmp *ctx)
{
	return &ctx->st;
}

void nj_icmp_set_anomaly_cb(struct nj_icmp *ctx, nj_icmp_anomaly_fn fn, void *arg)
{
	ctx->anomaly = fn;
	ctx->anomaly_arg = arg;
}

void nj_icmp_set_beacon(struct nj_icmp *ctx, struct nj_beacon *b)
{
	ctx->beacon = b;
}

void nj_icmp_stats_foreach(const struct nj_icmp_stats *s,
			   void (*fn)(void *arg, const char *name, uint64_t v), void *arg)
{
	fn(arg, "icmp.pkts", s->pkts);
	fn(arg, "icmp.flows", s->flows);
	fn(arg, "icmp.memcap", s->memcap);
	fn(arg, "icmp.echo_requests", s->echo_requests);
	fn(arg, "icmp.echo_replies", s->echo_replies);
	fn(arg, "icmp.echo_matched", s->echo_matched);
	fn(arg, "icmp.echo_unanswered", s->echo_unanswered);
	fn(arg, "icmp.echo_duplicates", s->echo_duplicates);
	fn(arg, "icmp.echo_unsolicited", s->echo_unsolicited);
	fn(arg, "icmp.echo_late", s->echo_late);
	fn(arg, "icmp.table_full", s->table_full);
	fn(arg, "icmp.errors", s->errors);
	fn(arg, "icmp.anomalies", s->anomalies);
	fn(arg, "icmp.memuse", s->memuse);
}

/* ------------------------------------------------------------------ state */

static size_t state_bytes(const struct icmp_state *s)
{
	return sizeof(*s) + (size_t)s->cap * sizeof(struct echo_req);
}

static bool flow_is_icmp(const struct nj_flow *f)
{
	return f->proto == 1 || f->proto == 58;
}

static struct icmp_state *state_get(struct nj_icmp *ctx, struct nj_flow *f)
{
	struct icmp_state *s = f->app_state;

	if (s)
		return s->magic == ICMP_STATE_MAGIC ? s : NULL;
	if (ctx->st.memuse + sizeof(*s) > ctx->cfg.memcap) {
		ctx->st.memcap++;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		ctx->st.memcap++;
		return NULL;
	}
	s->magic = ICMP_STATE_MAGIC;
	s->payload_min = UINT32_MAX;
	s->rtt_min_us = UINT64_MAX;
	f->app_state = s;
	ctx->st.flows++;
	ctx->st.memuse += sizeof(*s);
	return s;
}

/* Doubles the ring (up to max_outstanding), oldest first, head at the first new slot. */
static void tab_grow(struct nj_icmp *ctx, struct icmp_state *s)
{
	uint32_t ncap = s->cap ? s->cap * 2u : TAB_MIN;
	struct echo_req *t;
	size_t add;

	if (ncap > ctx->cfg.max_outstanding)
		ncap = ctx->cfg.max_outstanding;
	add = (size_t)(ncap - s->cap) * sizeof(*t);
	if (ctx->st.memuse + add > ctx->cfg.memcap)
		return;
	t = calloc(ncap, sizeof(*t));
	if (!t)
		return;
	if (s->cap) {
		memcpy(t, s->tab + s->head, (size_t)(s->cap - s->head) * sizeof(*t));
		memcpy(t + (s->cap - s->head), s->tab, (size_t)s->head * sizeof(*t));
	}
	free(s->tab);
	s->tab = t;
	s->head = s->cap;
	s->cap = (uint16_t)ncap;
	ctx->st.memuse += add;
}

/* Room for one more request: grow while allowed, else the oldest slot is reused. */
static struct echo_req *slot_next(struct nj_icmp *ctx, struct icmp_state *s, uint64_t now_us)
{
	struct echo_req *e;

	if ((!s->cap || s->tab[s->head].state == REQ_OUT) && s->cap < ctx->cfg.max_outstanding)
		tab_grow(ctx, s);
	if (!s->cap)
		return NULL;
	e = &s->tab[s->head];
	if (e->state == REQ_OUT &&
	    now_us < e->ts_us + (uint64_t)ctx->cfg.echo_timeout_s * 1000000u) {
		/* given up early; its reply, should it still come, is not an anomaly */
		ctx->st.table_full++;
		s->late_budget++;
	}
	s->head = (uint16_t)((s->head + 1) % s->cap);
	return e;
}

static uint32_t payload_hash(const uint8_t *d, uint32_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
	uint32_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t w;

		memcpy(&w, d + i, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	for (; i < n; i++)
		h = (h ^ d[i]) * 0x100000001b3ull;
	h ^= h >> 29;
	return (uint32_t)(h ^ (h >> 32));
}

static void anomaly(struct nj_icmp *ctx, struct icmp_state *s, const struct nj_pkt *p, int an)
{
	ctx->st.anomalies++;
	if (s->reported & (1u << an))
		return;
	s->reported |= (uint8_t)(1u << an);
	if (ctx->anomaly)
		ctx->anomaly(ctx->anomaly_arg, p, an_names[an]);
}

static bool is_error_type(uint8_t proto, uint8_t type)
{
	if (proto == 1)
		return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
	return type >= 1 && type <= 4;
}

/* 0: from the client side, 1: from the server side. */
static uint8_t pkt_dir(const struct nj_flow *f, const struct nj_pkt *p)
{
	if (p->flags & NJ_PKT_TOCLIENT)
		return 1;
	if (p->flags & NJ_PKT_TOSERVER)
		return 0;
	return memcmp(nj_pkt_src(p), nj_flow_src(f), nj_pkt_addr_len(p)) == 0 ? 0 : 1;
}

static void note_id(struct icmp_state *s, uint16_t id)
{
	for (unsigned i = 0; i < s->nids; i++)
		if (s->ids[i] == id)
			return;
	if (s->nids < MAX_IDS)
		s->ids[s->nids++] = id;
	else
		s->more_ids = 1;
}

static void echo_request(struct nj_icmp *ctx, struct icmp_state *s, const struct nj_pkt *p,
			 uint8_t dir, uint16_t id, uint16_t seq, uint32_t claimed)
{
	struct echo_req *e;

	s->requests++;
	s->req_bytes += claimed;
	if (claimed < s->payload_min)
		s->payload_min = claimed;
	if (claimed > s->payload_max)
		s->payload_max = claimed;
	note_id(s, id);
	e = slot_next(ctx, s, p->ts_us);
	if (!e)
		return;
	e->ts_us = p->ts_us;
	e->id = id;
	e->seq = seq;
	e->len = (uint16_t)(claimed > UINT16_MAX ? UINT16_MAX : claimed);
	e->dir = dir;
	e->whole = p->payload_len >= claimed;
	e->hash = payload_hash(p->data + p->payload_off, p->payload_len);
	e->state = REQ_OUT;
}

static void echo_reply(struct nj_icmp *ctx, struct icmp_state *s, const struct nj_pkt *p,
		       uint8_t dir, uint16_t id, uint16_t seq, uint32_t claimed)
{
	struct echo_req *hit = NULL, *answered = NULL;
	uint64_t rtt;

	s->replies++;
	s->rep_bytes += claimed;
	for (uint32_t i = 0; i < s->cap; i++) {
		struct echo_req *e = &s->tab[i];

		if (e->state == REQ_FREE || e->id != id || e->seq != seq || e->dir == dir)
			continue;
		if (e->state == REQ_OUT) {
			hit = e;
			break;
		}
		answered = e;
	}
	if (!hit) {
		if (answered) {
			s->duplicates++;
			ctx->st.echo_duplicates++;
			anomaly(ctx, s, p, AN_DUPLICATE);
		} else if (s->late_budget) {
			s->late_budget--;
			ctx->st.echo_late++;
		} else {
			s->unsolicited++;
			ctx->st.echo_unsolicited++;
			anomaly(ctx, s, p, AN_WITHOUT_REQUEST);
		}
		return;
	}
	hit->state = REQ_ANSWERED;
	s->matched++;
	ctx->st.echo_matched++;
	rtt = p->ts_us > hit->ts_us ? p->ts_us - hit->ts_us : 0;
	if (rtt < s->rtt_min_us)
		s->rtt_min_us = rtt;
	if (rtt > s->rtt_max_us)
		s->rtt_max_us = rtt;
	s->rtt_sum_us += rtt;
	/* RFC 792 / 4443: the reply returns the request's data unchanged */
	if (claimed != hit->len)
		anomaly(ctx, s, p, AN_LENGTH);
	else if (hit->whole && p->payload_len >= claimed &&
		 payload_hash(p->data + p->payload_off, p->payload_len) != hit->hash)
		anomaly(ctx, s, p, AN_PAYLOAD);
}

void nj_icmp_pkt(struct nj_icmp *ctx, struct nj_flow *f, const struct nj_pkt *p)
{
	struct icmp_state *s;
	bool v6, req, rep;
	uint32_t claimed;
	uint16_t id, seq;
	uint8_t dir;
	const uint8_t *h;

	if (!ctx || !ctx->cfg.enabled || !f || !p || !flow_is_icmp(f) ||
	    (p->proto != 1 && p->proto != 58) || !(p->flags & NJ_PKT_HAS_L4))
		return;
	ctx->st.pkts++;
	v6 = p->proto == 58;
	req = p->icmp_type == (v6 ? 128 : 8);
	rep = p->icmp_type == (v6 ? 129 : 0);
	if (req && ctx->beacon) {
		struct nj_beacon_key k;

		nj_beacon_key_icmp(&k, p);
		nj_beacon_observe(ctx->beacon, &k, p->ts_us, p->payload_len, 0);
	}
	if (!req && !rep && !is_error_type(p->proto, p->icmp_type))
		return;
	s = state_get(ctx, f);
	if (!s)
		return;
	if (!req && !rep) {
		s->errors++;
		ctx->st.errors++;
		return;
	}
	/* the decoder guarantees the 8-byte header: payload_off = header + 8 */
	if (p->payload_off < 8 || p->payload_off > p->len)
		return;
	h = p->data + p->payload_off - 8;
	id = (uint16_t)(h[4] << 8 | h[5]);
	seq = (uint16_t)(h[6] << 8 | h[7]);
	claimed = p->payload_len;
	if (p->l3_len && (uint32_t)p->l3_off + p->l3_len >= p->payload_off)
		claimed = (uint32_t)p->l3_off + p->l3_len - p->payload_off;
	dir = pkt_dir(f, p);
	if (ctx->cfg.max_echo_payload && claimed > ctx->cfg.max_echo_payload)
		anomaly(ctx, s, p, AN_LARGE);
	if (req) {
		ctx->st.echo_requests++;
		echo_request(ctx, s, p, dir, id, seq, claimed);
	} else {
		ctx->st.echo_replies++;
		echo_reply(ctx, s, p, dir, id, seq, claimed);
	}
}

void nj_icmp_flow_end(struct nj_icmp *ctx, struct nj_flow *f)
{
	struct icmp_state *s;

	if (!f || !flow_is_icmp(f) || !f->app_state)
		return;
	s = f->app_state;
	if (s->magic != ICMP_STATE_MAGIC)
		return;
	if (ctx) {
		ctx->st.echo_unanswered += s->requests - s->matched;
		ctx->st.memuse -= state_bytes(s);
	}
	s->magic = 0;
	free(s->tab);
	free(s);
	f->app_state = NULL;
}

/* Milliseconds with microsecond precision. */
static void json_ms(struct nj_json *j, const char *key, uint64_t us)
{
	nj_json_dbl(j, key, (double)us / 1000.0);
}

void nj_icmp_log_flow(struct nj_json *j, const struct nj_flow *f)
{
	const struct icmp_state *s;

	if (!j || !f || !flow_is_icmp(f) || !f->app_state)
		return;
	s = f->app_state;
	if (s->magic != ICMP_STATE_MAGIC || (!s->requests && !s->replies && !s->errors))
		return;
	nj_json_open_obj(j, "icmp");
	if (s->requests || s->replies) {
		if (s->nids == 1 && !s->more_ids) {
			nj_json_u64(j, "echo_id", s->ids[0]);
		} else if (s->nids) {
			nj_json_open_arr(j, "echo_ids");
			for (unsigned i = 0; i < s->nids; i++)
				nj_json_u64(j, NULL, s->ids[i]);
			nj_json_close_arr(j);
		}
		nj_json_u64(j, "requests", s->requests);
		nj_json_u64(j, "replies", s->replies);
		nj_json_u64(j, "unanswered", s->requests - s->matched);
		if (s->duplicates)
			nj_json_u64(j, "duplicates", s->duplicates);
		if (s->unsolicited)
			nj_json_u64(j, "unsolicited", s->unsolicited);
		if (s->matched) {
			json_ms(j, "rtt_min_ms", s->rtt_min_us);
			nj_json_dbl(j, "rtt_avg_ms", (double)(s->rtt_sum_us / s->matched) / 1000.0);
			json_ms(j, "rtt_max_ms", s->rtt_max_us);
		}
		nj_json_u64(j, "request_bytes", s->req_bytes);
		nj_json_u64(j, "reply_bytes", s->rep_bytes);
		if (s->requests) {
			nj_json_u64(j, "payload_min", s->payload_min);
			nj_json_u64(j, "payload_max", s->payload_max);
		}
	}
	if (s->errors)
		nj_json_u64(j, "errors", s->errors);
	nj_json_close_obj(j);
}
