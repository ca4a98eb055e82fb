/* SPDX-License-Identifier: MIT */
/*
 * Evaluation at run time: packets (nj_detect_burst), the reassembled TCP
 * stream (nj_detect_stream) and app-layer transactions (nj_detect_tx).
 *
 * For each unit the group is looked up, its prefilter databases are scanned
 * once per buffer, and the candidates (prefilter hits merged with the
 * always-evaluated list, in signature order) get the full checks, cheapest
 * first: requirement mask, header, flow keyword, app protocol, flowbits and
 * flowint conditions, packet keywords, then the inspection lists. A match
 * runs the signature's flowbits/flowint actions and queues an alert for the
 * packet; alert.c sorts, thresholds and writes them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"
#include "parsers/files.h"
#include "tag.h"

/* ------------------------------------------------------------ flow state */

struct eng_flow *nj_eng_flow_get(struct nj_detect_thread *t, struct nj_flow *f)
{
	struct eng_flow *ef;

	if (!f)
		return NULL;
	if (f->detect_state)
		return f->detect_state;
	if (t->flow_states >= t->e->flow_states) {
		t->st.flow_state_full++;
		return NULL;
	}
	ef = calloc(1, t->e->fstate_size);
	if (!ef) {
		t->st.flow_state_full++;
		return NULL;
	}
	t->flow_states++;
	f->detect_state = ef;
	return ef;
}

void nj_eng_flow_free(struct nj_detect_thread *t, struct nj_flow *f)
{
	struct eng_flow *ef = f->detect_state;

	if (!ef)
		return;
	if (ef->tag_head)
		nj_tag_flow_free(t, ef);
	for (int d = 0; d < 2; d++) {
		t->tail_mem -= ef->tail_cap[d] + ef->rp[d].cap;
		free(ef->tail[d]);
		free(ef->rp[d].buf);
	}
	free(ef);
	t->flow_states--;
	f->detect_state = NULL;
}

static inline bool fbit(const struct nj_detect_engine *e, const struct eng_flow *ef, unsigned id)
{
	(void)e;
	return ef && (ef->data[id / 8] & (1u << (id % 8)));
}

static inline void fbit_set(struct eng_flow *ef, unsigned id, int v)
{
	if (v)
		ef->data[id / 8] |= (uint8_t)(1u << (id % 8));
	else
		ef->data[id / 8] &= (uint8_t) ~(1u << (id % 8));
}

static inline bool fint_isset(const struct nj_detect_engine *e, const struct eng_flow *ef,
			      unsigned id)
{
	return ef && (ef->data[e->off_intset + id / 8] & (1u << (id % 8)));
}

static inline uint32_t *fint(const struct nj_detect_engine *e, struct eng_flow *ef, unsigned id)
{
	return (uint32_t *)(void *)(ef->data + e->off_ints) + id;
}

/* flowbits isset/isnotset and flowint comparisons. */
static bool state_cond(const struct nj_detect_engine *e, const struct nj_detect_sig *s,
		       struct eng_flow *ef)
{
	for (unsigned i = 0; i < s->nbitops; i++) {
		const struct nj_detect_bitop *b = &s->bitops[i];
		bool any_set = false, all_set = true;

		if (b->cmd != NJ_BIT_ISSET && b->cmd != NJ_BIT_ISNOTSET)
			continue;
		for (unsigned k = 0; k < b->n; k++) {
			bool v = b->ids[k] < e->nbits && fbit(e, ef, b->ids[k]);

			any_set |= v;
			all_set &= v;
		}
		if (b->cmd == NJ_BIT_ISSET) {
			if (b->n > 1 && !b->and_ ? !any_set : !all_set)
				return false;
		} else {
			/* a|b: one of them unset; a&b (or one name): none set */
			if (b->n > 1 && !b->and_ ? all_set : any_set)
				return false;
		}
	}
	for (unsigned i = 0; i < s->nintops; i++) {
		const struct nj_detect_intop_s *o = &s->intops[i];
		bool set = o->id < e->nints && fint_isset(e, ef, o->id);
		uint64_t v, x;

		switch (o->op) {
		case NJ_INT_SET:
		case NJ_INT_ADD:
		case NJ_INT_SUB: continue;
		case NJ_INT_ISSET:
			if (!set)
				return false;
			continue;
		case NJ_INT_NOTSET:
			if (set)
				return false;
			continue;
		default: break;
		}
		if (!set)
			return false;
		v = *fint(e, ef, o->id);
		if (o->value_var) {
			if (o->value >= e->nints || !fint_isset(e, ef, (unsigned)o->value))
				return false;
			x = *fint(e, ef, (unsigned)o->value);
		} else {
			x = o->value;
		}
		switch (o->op) {
		case NJ_INT_EQ:
			if (!(v == x))
				return false;
			break;
		case NJ_INT_NE:
			if (!(v != x))
				return false;
			break;
		case NJ_INT_LT:
			if (!(v < x))
				return false;
			break;
		case NJ_INT_LE:
			if (!(v <= x))
				return false;
			break;
		case NJ_INT_GT:
			if (!(v > x))
				return false;
			break;
		case NJ_INT_GE:
			if (!(v >= x))
				return false;
			break;
		default: return false;
		}
	}
	return true;
}

/* flowbits set/unset/toggle and flowint =/+/- of a matching signature. */
static void state_actions(struct nj_detect_thread *t, const struct nj_detect_sig *s,
			  struct nj_flow *f)
{
	const struct nj_detect_engine *e = t->e;
	struct eng_flow *ef = NULL;

	for (unsigned i = 0; i < s->nbitops; i++) {
		const struct nj_detect_bitop *b = &s->bitops[i];

		if (b->cmd != NJ_BIT_SET && b->cmd != NJ_BIT_UNSET && b->cmd != NJ_BIT_TOGGLE)
			continue;
		if (!ef && !(ef = nj_eng_flow_get(t, f)))
			return;
		for (unsigned k = 0; k < b->n; k++) {
			unsigned id = b->ids[k];

			if (id >= e->nbits)
				continue;
			fbit_set(ef, id,
				 b->cmd == NJ_BIT_SET	  ? 1
				 : b->cmd == NJ_BIT_UNSET ? 0
							  : !fbit(e, ef, id));
		}
	}
	for (unsigned i = 0; i < s->nintops; i++) {
		const struct nj_detect_intop_s *o = &s->intops[i];
		uint32_t x, *v;

		if (o->op != NJ_INT_SET && o->op != NJ_INT_ADD && o->op != NJ_INT_SUB)
			continue;
		if (o->id >= e->nints)
			continue;
		if (!ef && !(ef = nj_eng_flow_get(t, f)))
			return;
		if (o->value_var) {
			if (o->value >= e->nints || !fint_isset(e, ef, (unsigned)o->value))
				continue;
			x = *fint(e, ef, (unsigned)o->value);
		} else {
			x = (uint32_t)o->value;
		}
		v = fint(e, ef, o->id);
		if (!fint_isset(e, ef, o->id))
			*v = 0;
		if (o->op == NJ_INT_SET)
			*v = x;
		else if (o->op == NJ_INT_ADD)
			*v += x;
		else
			*v -= x;
		ef->data[e->off_intset + o->id / 8] |= (uint8_t)(1u << (o->id % 8));
	}
}

/* ------------------------------------------------------------ cheap checks */

static inline bool flow_est(const struct nj_flow *f)
{
	if (f->proto == 6)
		return f->tcp_state >= NJ_TCP_ESTABLISHED;
	return f->pkts_ts && f->pkts_tc;
}

/*
 * Established as of this packet. The flow stage handles a whole burst before
 * detection, so the flow's state may already reflect later packets: a packet
 * inspected on its own uses what the flow stage recorded for it
 * (NJ_PKT_ESTABLISHED, Suricata's FLOW_PKT_ESTABLISHED). Stream data and
 * transactions are inspected where Suricata inspects them, once acknowledged
 * (a later packet): they use the flow's state.
 */
static inline bool pkt_est(const struct nj_pkt *p, const struct nj_flow *f, bool live)
{
	return live ? (p->flags & NJ_PKT_ESTABLISHED) != 0 : flow_est(f);
}

static inline uint8_t pkt_mask(const struct nj_pkt *p, const struct nj_flow *f, bool live)
{
	uint8_t m = 0;

	if (p->payload_len)
		m |= PM_PAYLOAD;
	if (f)
		m |= PM_FLOW | (pkt_est(p, f, live) ? PM_EST : PM_NOTEST);
	if (p->flags & NJ_PKT_IPV4)
		m |= PM_IPV4;
	if (p->flags & NJ_PKT_IPV6)
		m |= PM_IPV6;
	return m;
}

static bool flow_kw(const struct nj_detect_sig *s, const struct nj_pkt *p, const struct nj_flow *f,
		    int dir, bool live)
{
	uint16_t ff = s->flow_flags;

	if (!ff)
		return true;
	if ((ff & (NJ_FLOW_TOSERVER | NJ_FLOW_TOCLIENT | NJ_FLOW_ESTABLISHED |
		   NJ_FLOW_NOT_ESTABLISHED)) &&
	    !f)
		return false;
	if ((ff & NJ_FLOW_TOSERVER) && dir != 0)
		return false;
	if ((ff & NJ_FLOW_TOCLIENT) && dir != 1)
		return false;
	if ((ff & NJ_FLOW_ESTABLISHED) && !pkt_est(p, f, live))
		return false;
	if ((ff & NJ_FLOW_NOT_ESTABLISHED) && pkt_est(p, f, live))
		return false;
	if ((ff & NJ_FLOW_ONLY_FRAG) && !(p->flags & NJ_PKT_REASSEMBLED))
		return false;
	if ((ff & NJ_FLOW_NO_FRAG) && (p->flags & NJ_PKT_REASSEMBLED))
		return false;
	return true;
}

static bool app_name_match(uint16_t app, const char *name, bool neg)
{
	const char *have;

	if (app == 0)
		return false;
	have = nj_app_proto_name(app);
	if (!have)
		return false;
	bool eq = strcmp(have, name) == 0 ||
		  (strcmp(name, "http") == 0 && (!strcmp(have, "http1") || !strcmp(have, "http2")));

	return neg ? !eq : eq;
}

static bool app_ok(const struct eng_sig *es, const struct nj_flow *f, int cur_app)
{
	const struct nj_detect_sig *s = es->s;
	uint16_t app = !f ? 0 : cur_app >= 0 ? (uint16_t)cur_app : f->app_proto;

	if (es->app_id && app != es->app_id)
		return false;
	if (s->app_match) {
		bool neg = s->flags & NJ_SIG_APP_NEG, eq;

		if (app == 0)
			return false;
		eq = app == es->app_match;
		if (neg ? eq : !eq)
			return false;
	}
	for (unsigned i = 0; i < s->ndeferred; i++) {
		const char *v = s->deferred[i].value;
		bool neg = false;

		if (strcmp(s->deferred[i].kw, "app-layer-protocol") != 0)
			continue;
		while (*v == ' ')
			v++;
		if (*v == '!') {
			neg = true;
			v++;
		}
		{
			char name[32];
			size_t n = 0;

			while (v[n] && v[n] != ',' && v[n] != ' ' && n + 1 < sizeof(name)) {
				name[n] = v[n];
				n++;
			}
			name[n] = '\0';
			if (!app_name_match(app, name, neg))
				return false;
		}
	}
	return true;
}

/* Sizes as of packet p when the flow stage recorded them, else the flow's. */
static bool stream_size_ok(const struct nj_detect_sig *s, const struct nj_pkt *p,
			   const struct nj_flow *f)
{
	uint64_t cs, ss;

	if (!f || f->proto != 6)
		return false;
	if (p && p->flow == f && (p->flags & NJ_PKT_TCP_SIZES)) {
		cs = p->tcp_size[0];
		ss = p->tcp_size[1];
	} else {
		cs = (uint32_t)(f->tcp_next_seq[0] - f->tcp_isn[0]);
		ss = (uint32_t)(f->tcp_next_seq[1] - f->tcp_isn[1]);
	}
	switch (s->stream_size_side) {
	case 0: return nj_detect_u64_match(s->stream_size, ss);
	case 1: return nj_detect_u64_match(s->stream_size, cs);
	case 2:
		return nj_detect_u64_match(s->stream_size, ss) &&
		       nj_detect_u64_match(s->stream_size, cs);
	default:
		return nj_detect_u64_match(s->stream_size, ss) ||
		       nj_detect_u64_match(s->stream_size, cs);
	}
}

/* ------------------------------------------------------------ buffers */

static const uint8_t *transform(struct nj_detect_thread *t, const struct nj_detect_bufinst *inst,
				const uint8_t *in, uint32_t len, uint32_t *out_len)
{
	uint32_t need = nj_detect_transform_max(len);

	if (need > t->tfcap) {
		uint8_t *a = realloc(t->tfbuf, need), *b;

		if (!a)
			return NULL;
		t->tfbuf = a;
		b = realloc(t->tftmp, need);
		if (!b)
			return NULL;
		t->tftmp = b;
		t->tfcap = need;
	}
	*out_len = nj_detect_transform(inst, in, len, t->tfbuf, t->tftmp);
	return t->tfbuf;
}

/* Packet-header buffers (ipv4.hdr, tcp.hdr, ...). */
static bool hdr_buffer(const struct nj_detect_engine *e, unsigned base, const struct nj_pkt *p,
		       const uint8_t **b, uint32_t *l)
{
	int id = (int)base;

	if (!p->data)
		return false;
	if ((id == e->buf_ipsrc || id == e->buf_ipdst) &&
	    (p->flags & (NJ_PKT_IPV4 | NJ_PKT_IPV6))) {
		/* raw address bytes (4 or 16), as Suricata's ip.src / ip.dst */
		*b = id == e->buf_ipsrc ? nj_pkt_src(p) : nj_pkt_dst(p);
		*l = nj_pkt_addr_len(p);
		return true;
	}
	if (id == e->buf_ipv4 && (p->flags & NJ_PKT_IPV4)) {
		uint32_t ihl = (uint32_t)(p->data[p->l3_off] & 15) * 4;

		if ((uint32_t)p->l3_off + ihl > p->len)
			return false;
		*b = p->data + p->l3_off;
		*l = ihl;
		return true;
	}
	if (id == e->buf_ipv6 && (p->flags & NJ_PKT_IPV6)) {
		if ((uint32_t)p->l3_off + 40 > p->len)
			return false;
		*b = p->data + p->l3_off;
		*l = 40;
		/* with its extension headers, as Suricata's (up to the L4 header) */
		if ((p->flags & NJ_PKT_HAS_L4) && p->l4_off > p->l3_off + 40 && p->l4_off <= p->len)
			*l = (uint32_t)(p->l4_off - p->l3_off);
		return true;
	}
	if (!(p->flags & NJ_PKT_HAS_L4) || p->payload_off < p->l4_off)
		return false;
	if ((id == e->buf_tcp && p->proto == 6) || (id == e->buf_udp && p->proto == 17) ||
	    (id == e->buf_icmpv4 && p->proto == 1) || (id == e->buf_icmpv6 && p->proto == 58)) {
		*b = p->data + p->l4_off;
		*l = (uint32_t)(p->payload_off - p->l4_off);
		return true;
	}
	return false;
}

static inline void payload_of(const struct nj_pkt *p, const uint8_t **b, uint32_t *l)
{
	*b = p->data ? p->data + p->payload_off : NULL;
	*l = p->payload_len;
}

/* ------------------------------------------------------------ pseudo packets */

/* A packet describing flow f in direction dir, for checks that need one. */
const struct nj_pkt *nj_eng_pseudo_fill(struct nj_pkt *p, uint8_t hdr[64], const struct nj_flow *f,
					int dir)
{
	const uint8_t *src = dir ? nj_flow_dst(f) : nj_flow_src(f);
	const uint8_t *dst = dir ? nj_flow_src(f) : nj_flow_dst(f);

	memset(p, 0, sizeof(*p));
	memset(hdr, 0, 64);
	p->data = hdr;
	p->len = 64;
	if (f->ipv6) {
		hdr[0] = 0x60;
		hdr[6] = f->proto;
		memcpy(hdr + 8, src, 16);
		memcpy(hdr + 24, dst, 16);
		p->flags = NJ_PKT_IPV6;
		p->l4_off = p->payload_off = 40;
	} else {
		hdr[0] = 0x45;
		hdr[9] = f->proto;
		memcpy(hdr + 12, src, 4);
		memcpy(hdr + 16, dst, 4);
		p->flags = NJ_PKT_IPV4;
		p->l4_off = p->payload_off = 20;
	}
	p->flags |= NJ_PKT_HAS_L4 | (dir ? NJ_PKT_TOCLIENT : NJ_PKT_TOSERVER);
#ifdef NJ_PKT_ESTABLISHED
	if (flow_est(f))
		p->flags |= NJ_PKT_ESTABLISHED;
#endif
	p->proto = f->proto;
	p->sport = dir ? nj_flow_dport(f) : nj_flow_sport(f);
	p->dport = dir ? nj_flow_sport(f) : nj_flow_dport(f);
	p->ts_us = f->last_us;
	p->flow = (struct nj_flow *)f;
	p->linktype = NJ_LINK_RAW;
	return p;
}

static const struct nj_pkt *pseudo_pkt(struct nj_detect_thread *t, const struct nj_flow *f, int dir)
{
	return nj_eng_pseudo_fill(&t->pseudo, t->pseudo_hdr, f, dir);
}

/* ------------------------------------------------------------ candidates */

static void gen_next(struct nj_detect_thread *t)
{
	t->ncand = 0;
	if (++t->gen == 0) {
		memset(t->stamp, 0, t->e->nsigs * sizeof(*t->stamp));
		t->gen = 1;
	}
}

struct scan_ctx {
	struct nj_detect_thread *t;
	const struct pf_db *db;
};

static int on_match(unsigned id, unsigned long long from, unsigned long long to, unsigned flags,
		    void *arg)
{
	struct scan_ctx *sc = arg;
	struct nj_detect_thread *t = sc->t;
	const struct pf_db *db = sc->db;

	(void)from;
	(void)to;
	(void)flags;
	if (id >= db->npat)
		return 0;
	for (uint32_t k = db->map_off[id]; k < db->map_off[id + 1]; k++) {
		uint32_t num = db->map_num[k];

		if (t->stamp[num] != t->gen) {
			t->stamp[num] = t->gen;
			t->cand[t->ncand++] = num;
		}
	}
	return 0;
}

static void scan(struct nj_detect_thread *t, const struct pf_db *db, const uint8_t *b, uint32_t l)
{
	struct scan_ctx sc = {t, db};
	uint32_t before = t->ncand;

	/* no pattern fits: a Hyperscan call costs hundreds of cycles even then */
	if (!db->db || !l || l < db->minlen || !t->scratch)
		return;
	hs_scan(db->db, (const char *)b, l, 0, t->scratch, on_match, &sc);
	t->st.pf_scans++;
	t->st.pf_hit_scans += t->ncand != before;
}

static int u32cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static void sort_cand(struct nj_detect_thread *t)
{
	uint32_t *a = t->cand, n = t->ncand;

	t->st.prefilter_hits += n;
	if (n > 32) {
		qsort(a, n, sizeof(*a), u32cmp);
		return;
	}
	for (uint32_t i = 1; i < n; i++) {
		uint32_t v = a[i], j = i;

		while (j && a[j - 1] > v) {
			a[j] = a[j - 1];
			j--;
		}
		a[j] = v;
	}
}

/* k-way merge of sorted signature lists (candidates and always-evaluated lists). */
struct mlist {
	const uint32_t *v;
	uint32_t n, i;
};

static inline bool mnext(struct mlist *m, int k, uint32_t *out)
{
	int best = -1;

	for (int j = 0; j < k; j++)
		if (m[j].i < m[j].n && (best < 0 || m[j].v[m[j].i] < m[best].v[m[best].i]))
			best = j;
	if (best < 0)
		return false;
	*out = m[best].v[m[best].i];
	for (int j = 0; j < k; j++)
		while (m[j].i < m[j].n && m[j].v[m[j].i] == *out)
			m[j].i++;
	return true;
}

static inline bool flow_passed(const struct nj_flow *f)
{
	return f && f->detect_state &&
	       (((const struct eng_flow *)f->detect_state)->flags & EF_PASS);
}

/* ------------------------------------------------------------ packets */

static bool lists_pkt(struct nj_detect_thread *t, const struct nj_detect_sig *s,
		      const struct nj_pkt *p)
{
	const struct nj_detect_engine *e = t->e;

	nj_detect_sig_begin(t->ctx);
	for (unsigned i = 0; i < s->nlists; i++) {
		const struct nj_detect_list *l = &s->lists[i];
		const struct nj_detect_bufinst *inst = &e->rules->inst[l->inst];
		const uint8_t *b;
		uint32_t len;

		if (inst->base == NJ_DETECT_BUF_PKT || inst->base == NJ_DETECT_BUF_STREAM)
			payload_of(p, &b, &len);
		else if (!hdr_buffer(e, inst->base, p, &b, &len))
			return false;
		if (!len && (inst->base == NJ_DETECT_BUF_PKT || inst->base == NJ_DETECT_BUF_STREAM))
			return false;
		if (inst->ntf && !(b = transform(t, inst, b, len, &len)))
			return false;
		if (!nj_detect_inspect_buffer(t->ctx, s, l, b, len, NJ_DETECT_EOF))
			return false;
	}
	return true;
}

static void matched(struct nj_detect_thread *t, uint32_t num, struct nj_flow *f,
		    const struct nj_pkt *p, int dir, uint64_t tx_id, unsigned flags)
{
	const struct nj_detect_sig *s = t->e->sigs[num].s;

	if (s->nbitops || s->nintops)
		state_actions(t, s, f);
	nj_alert_add(t, num, f, p, dir, tx_id, flags);
}

/* Header, flow and state checks shared by every path. */
static inline bool common_checks(struct nj_detect_thread *t, const struct eng_sig *es,
				 const struct nj_pkt *hp, struct nj_flow *f, int dir, bool live)
{
	const struct nj_detect_sig *s = es->s;

	if (!nj_detect_match_header(s, hp))
		return false;
	if (!flow_kw(s, hp, f, dir, live))
		return false;
	if ((es->app_id || s->app_match || s->ndeferred) && !app_ok(es, f, t->cur_app))
		return false;
	if ((es->flags & ES_FLOWSTATE) && !state_cond(t->e, s, f ? f->detect_state : NULL))
		return false;
	if (s->stream_size && !stream_size_ok(s, hp, f))
		return false;
	return true;
}

static void eval_pkt(struct nj_detect_thread *t, uint32_t num, const struct nj_pkt *p,
		     struct nj_flow *f, int dir, uint8_t mask)
{
	const struct eng_sig *es = &t->e->sigs[num];
	const struct nj_detect_sig *s = es->s;

	if ((mask & es->req) != es->req)
		return;
	if ((es->flags & ES_NEEDS_FLOW) && !f)
		return;
	t->st.sigs_evaluated++;
	if (!common_checks(t, es, p, f, dir, true))
		return;
	if (!nj_detect_match_pkt(s, p))
		return;
	if (s->nlists && !lists_pkt(t, s, p))
		return;
	matched(t, num, f, p, dir, NOTX, 0);
}

void nj_detect_stream_event(struct nj_detect_thread *t, struct nj_flow *f, const struct nj_pkt *p,
			    const char *name)
{
	const struct nj_detect_engine *e = t->e;
	int dir;

	if (!e->nevsigs || !p || flow_passed(f))
		return;
	if (strncmp(name, "stream.", 7) == 0)
		name += 7;
	dir = (p->flags & NJ_PKT_TOCLIENT) ? 1 : 0;
	for (uint32_t i = 0; i < e->nevsigs; i++) {
		const char *want = e->sigs[e->evsigs[i]].s->stream_event;

		if (strncmp(want, "stream.", 7) == 0)
			want += 7;
		if (strcmp(want, name) == 0)
			eval_pkt(t, e->evsigs[i], p, f, dir, pkt_mask(p, f, true));
	}
}

/* Whether p is the first packet of its flow direction (IP-only signatures). */
static bool first_of_dir(const struct nj_pkt *pkts, uint16_t n, uint16_t i)
{
	const struct nj_pkt *p = &pkts[i];
	const struct nj_flow *f = p->flow;
	uint16_t flag = p->flags & (NJ_PKT_TOSERVER | NJ_PKT_TOCLIENT);
	uint64_t cnt, later = 0;

	if (!f)
		return true;
	cnt = (p->flags & NJ_PKT_TOCLIENT) ? f->pkts_tc : f->pkts_ts;
	if (cnt > n)
		return false;
	for (uint16_t k = i + 1; k < n; k++)
		if (pkts[k].flow == f &&
		    (pkts[k].flags & (NJ_PKT_TOSERVER | NJ_PKT_TOCLIENT)) == flag)
			later++;
	return cnt == later + 1;
}

static const struct pkt_group *pkt_group(const struct nj_detect_engine *e, const struct nj_pkt *p,
					 int dir, int *cls)
{
	int c;

	switch (p->proto) {
	case 6: c = PC_TCP; break;
	case 17: c = PC_UDP; break;
	case 1:
	case 58: c = PC_ICMP; break;
	default: c = PC_OTHER; break;
	}
	*cls = c;
	if ((c == PC_TCP || c == PC_UDP) && (p->flags & NJ_PKT_HAS_L4)) {
		const uint16_t *map = e->portmap[c == PC_TCP ? 0 : 1][dir];

		if (map)
			return &e->groups[map[dir ? p->sport : p->dport]];
	}
	return &e->groups[0];
}

/* ------------------------------------------------------------ stream */

/*
 * One unit of stream data being inspected: the kept tail plus the new bytes.
 * The prefilter scans both pieces in place (vectored database); the
 * contiguous copy that full evaluation needs is made only for a candidate.
 */
struct sunit {
	struct nj_flow *f;
	struct eng_flow *ef;
	const struct nj_pkt *p;	 /* packet the data belongs to, NULL none */
	const struct nj_pkt *hp; /* packet for header checks (p or a pseudo packet) */
	const uint8_t *tail, *data;
	uint32_t tl, len;
	const uint8_t *buf; /* tail + data, contiguous; NULL until needed */
	uint32_t total;
	int dir;
	uint8_t mask;
	const struct cand_set *cs; /* the stream set */
	const struct pkt_group *g; /* its port group */
};

static const uint8_t *unit_buf(struct nj_detect_thread *t, struct sunit *u)
{
	if (u->buf)
		return u->buf;
	if (!u->tl) {
		u->buf = u->data;
		return u->buf;
	}
	if (u->total > t->scap) {
		uint8_t *nb = realloc(t->sbuf, u->total);

		if (!nb)
			return NULL;
		t->sbuf = nb;
		t->scap = u->total;
	}
	memcpy(t->sbuf, u->tail, u->tl);
	memcpy(t->sbuf + u->tl, u->data, u->len);
	u->buf = t->sbuf;
	return u->buf;
}

/* The stream set of flow f in direction dir and its port group. */
static const struct cand_set *stream_set(const struct nj_detect_engine *e, const struct nj_flow *f,
					 int dir, const struct pkt_group **g)
{
	const uint16_t *map = e->portmap[0][dir];
	const struct cand_set *cs = &e->cls[PC_TCP][dir].cs[CS_STREAM];

	*g = &e->groups[map ? map[nj_flow_dport(f)] : 0];
	return cs->nsigs ? cs : NULL;
}

static void scan_set(struct nj_detect_thread *t, const struct cand_set *cs, const uint8_t *b,
		     uint32_t l)
{
	for (unsigned k = 0; k < cs->ndb; k++) {
		const struct pf_db *db = &cs->db[k];
		const struct nj_detect_bufinst *inst = &t->e->rules->inst[db->inst];
		const uint8_t *x = b;
		uint32_t xl = l;

		if (inst->ntf && !(x = transform(t, inst, b, l, &xl)))
			continue;
		if (db->scan_max && xl > db->scan_max)
			xl = db->scan_max;
		scan(t, db, x, xl);
	}
}

/* Builds the unit and scans it; candidates are added to t->cand (no gen_next). */
static bool stream_begin(struct nj_detect_thread *t, struct sunit *u, struct nj_flow *f, int dir,
			 const uint8_t *data, uint32_t len, const struct nj_pkt *p)
{
	const struct nj_detect_engine *e = t->e;
	uint32_t start;

	u->cs = stream_set(e, f, dir, &u->g);
	if (!u->cs)
		return false;
	u->f = f;
	u->dir = dir;
	u->p = p;
	u->ef = nj_eng_flow_get(t, f);
	u->tl = u->ef ? u->ef->tail_len[dir] - u->ef->tail_skip[dir] : 0;
	u->tail = u->tl ? u->ef->tail[dir] + u->ef->tail_skip[dir] : NULL;
	u->data = data;
	u->len = len;
	u->total = u->tl + len;
	u->buf = NULL;
	u->hp = (p && p->flow == f && ((p->flags & NJ_PKT_TOCLIENT) ? 1 : 0) == dir)
			? p
			: pseudo_pkt(t, f, dir);
	if (u->hp != p)
		u->p = NULL;
	u->mask = pkt_mask(u->hp, f, false) | PM_PAYLOAD;
	/* the new bytes and the few before them a pattern could start in */
	start = u->tl > e->stream_overlap ? u->tl - e->stream_overlap : 0;
	for (unsigned k = 0; k < u->cs->ndb; k++) {
		const struct pf_db *db = &u->cs->db[k];
		const char *blk[2] = {(const char *)u->tail + start, (const char *)data};
		unsigned bl[2] = {u->tl - start, len};
		struct scan_ctx sc = {t, db};
		uint32_t before = t->ncand;

		if (!db->db || !t->scratch)
			continue;
		if (u->tl - start)
			hs_scan_vector(db->db, blk, bl, 2, 0, t->scratch, on_match, &sc);
		else
			hs_scan_vector(db->db, blk + 1, bl + 1, 1, 0, t->scratch, on_match, &sc);
		t->st.pf_scans++;
		t->st.pf_hit_scans += t->ncand != before;
	}
	return true;
}

static bool lists_stream(struct nj_detect_thread *t, const struct nj_detect_sig *s,
			 const struct nj_pkt *hp, const uint8_t *buf, uint32_t len)
{
	const struct nj_detect_engine *e = t->e;

	nj_detect_sig_begin(t->ctx);
	for (unsigned i = 0; i < s->nlists; i++) {
		const struct nj_detect_list *l = &s->lists[i];
		const struct nj_detect_bufinst *inst = &e->rules->inst[l->inst];
		const uint8_t *b = buf;
		uint32_t bl = len;

		if (inst->base != NJ_DETECT_BUF_PKT && inst->base != NJ_DETECT_BUF_STREAM &&
		    !hdr_buffer(e, inst->base, hp, &b, &bl))
			return false;
		if (inst->ntf && !(b = transform(t, inst, b, bl, &bl)))
			return false;
		if (!nj_detect_inspect_buffer(t->ctx, s, l, b, bl, 0))
			return false;
	}
	return true;
}

static void eval_stream(struct nj_detect_thread *t, uint32_t num, struct sunit *u)
{
	const struct eng_sig *es = &t->e->sigs[num];
	const struct nj_detect_sig *s = es->s;
	const uint8_t *buf;

	if ((u->mask & es->req) != es->req)
		return;
	t->st.sigs_evaluated++;
	if (!common_checks(t, es, u->hp, u->f, u->dir, false))
		return;
	if (s->npm && !nj_detect_match_pkt(s, u->hp))
		return;
	buf = unit_buf(t, u);
	if (!buf || !lists_stream(t, s, u->hp, buf, u->total))
		return;
	/*
	 * A match within the bytes already inspected was reported then: with a
	 * tail, the match must be in the new bytes alone, or not in the old ones.
	 */
	if (u->tl && !lists_stream(t, s, u->hp, u->data, u->len) &&
	    lists_stream(t, s, u->hp, buf, u->tl))
		return;
	matched(t, num, u->f, u->p, u->dir, NOTX, AF_STREAM);
}

/* Keeps the last stream-tail bytes of tail + data as the flow's new tail. */
static void tail_update(struct nj_detect_thread *t, struct eng_flow *ef, int dir,
			const uint8_t *data, uint32_t len)
{
	const struct nj_detect_engine *e = t->e;
	uint32_t tl, keep, drop;

	if (!ef || !len)
		return;
	tl = ef->tail_len[dir];
	keep = tl + len < e->stream_tail ? tl + len : e->stream_tail;
	if (keep > ef->tail_cap[dir]) {
		uint32_t cap = ef->tail_cap[dir] ? ef->tail_cap[dir] : 256;
		uint8_t *nb;

		while (cap < keep)
			cap *= 2;
		if (cap > e->stream_tail)
			cap = e->stream_tail;
		if (t->tail_mem + cap - ef->tail_cap[dir] > e->stream_tail_memcap) {
			t->st.stream_tail_memcap++;
			ef->tail_len[dir] = ef->tail_skip[dir] = 0;
			return;
		}
		nb = realloc(ef->tail[dir], cap);
		if (!nb) {
			ef->tail_len[dir] = ef->tail_skip[dir] = 0;
			return;
		}
		t->tail_mem += cap - ef->tail_cap[dir];
		ef->tail[dir] = nb;
		ef->tail_cap[dir] = cap;
	}
	if (len >= keep) {
		memcpy(ef->tail[dir], data + len - keep, keep);
		ef->tail_skip[dir] = 0;
	} else {
		drop = tl + len - keep;
		memmove(ef->tail[dir], ef->tail[dir] + drop, tl - drop);
		memcpy(ef->tail[dir] + tl - drop, data, len);
		ef->tail_skip[dir] = ef->tail_skip[dir] > drop ? ef->tail_skip[dir] - drop : 0;
	}
	ef->tail_len[dir] = keep;
}

/*
 * A hole of len bytes in the stream: the tail shows it as Suricata's payload
 * does ("[N bytes missing]") and no match may span it.
 */
static void tail_gap(struct nj_detect_thread *t, struct eng_flow *ef, int dir, uint32_t len)
{
	char m[40];
	int n = snprintf(m, sizeof(m), "[%u bytes missing]", len);

	if (!ef || n <= 0)
		return;
	tail_update(t, ef, dir, (const uint8_t *)m, (uint32_t)n);
	ef->tail_skip[dir] = ef->tail_len[dir];
}

/* A stream unit on its own (no packet to merge with). */
static void stream_now(struct nj_detect_thread *t, struct nj_flow *f, int dir, const uint8_t *data,
		       uint32_t len, const struct nj_pkt *p)
{
	struct sunit u;
	struct mlist m[3];
	uint32_t num;

	if (flow_passed(f))
		return;
	gen_next(t);
	if (!stream_begin(t, &u, f, dir, data, len, p))
		return;
	sort_cand(t);
	m[0] = (struct mlist){t->cand, t->ncand, 0};
	m[1] = (struct mlist){u.cs->always, u.cs->nalways, 0};
	m[2] = (struct mlist){u.g->always[CS_STREAM], u.g->nalways[CS_STREAM], 0};
	while (mnext(m, 3, &num)) {
		/* packet-only candidates of the shared database: no packet here */
		if (!(t->e->sigs[num].flags & ES_STREAM_OK))
			continue;
		eval_stream(t, num, &u);
		if (flow_passed(f))
			break;
	}
	tail_update(t, u.ef, dir, data, len);
	if (!u.p && !t->defer_null)
		nj_alert_flush_null(t, f);
}

static void stream_now_or_chunk(struct nj_detect_thread *t, struct nj_flow *f, int dir,
				const uint8_t *data, uint32_t len, const struct nj_pkt *p);

/* ------------------------------------------------------------ unacknowledged stream data */

#define RP_MAX (256u << 10) /* held bytes per direction; past it they are inspected at once */

/*
 * Inspects the first n bytes (data and gaps) of what direction dir holds, piece
 * by piece (a gap restarts matching), on packet p (NULL: a pseudo packet), and
 * drops them from the held span.
 */
static void rp_inspect(struct nj_detect_thread *t, struct nj_flow *f, struct eng_flow *ef, int dir,
		       uint32_t n, const struct nj_pkt *p)
{
	struct raw_pend *rp = &ef->rp[dir];
	uint32_t dn = 0, left = n < rp->span ? n : rp->span, taken = left;
	unsigned j = 0, k = 0;

	/* pieces: gap records before buf[at], data between them */
	while (left) {
		if (j < rp->ngap && rp->gap[j].at == dn) {
			uint32_t g = rp->gap[j].len < left ? rp->gap[j].len : left;

			if (g)
				tail_gap(t, ef, dir, g);
			rp->gap[j].len -= g;
			left -= g;
			if (!rp->gap[j].len)
				j++;
			continue;
		}
		{
			uint32_t lim = j < rp->ngap ? rp->gap[j].at : rp->len;
			uint32_t d = lim - dn < left ? lim - dn : left;

			if (!d)
				break; /* cannot happen: the span covers data and gaps */
			if (!flow_passed(f))
				stream_now(t, f, dir, rp->buf + rp->head + dn, d, p);
			dn += d;
			left -= d;
		}
	}
	for (unsigned i = j; i < rp->ngap; i++) {
		rp->gap[k] = rp->gap[i];
		rp->gap[k].at -= dn;
		k++;
	}
	rp->ngap = (uint8_t)k;
	/* no move: the space before head is reclaimed when the buffer is full */
	rp->head += dn;
	rp->len -= dn;
	if (!rp->len)
		rp->head = 0;
	rp->span -= taken - left;
}

/* Room for len more data bytes in rp (false: none, the caller inspects at once). */
static bool rp_room(struct nj_detect_thread *t, struct raw_pend *rp, uint32_t len)
{
	uint32_t cap;
	uint8_t *nb;

	if (rp->head + rp->len + len <= rp->cap)
		return true;
	if (rp->head) {
		memmove(rp->buf, rp->buf + rp->head, rp->len);
		rp->head = 0;
		if (rp->len + len <= rp->cap)
			return true;
	}
	if (rp->len + len > RP_MAX)
		return false;
	cap = rp->cap ? rp->cap : 4096;
	while (cap < rp->len + len)
		cap *= 2;
	if (cap > RP_MAX)
		cap = RP_MAX;
	if (t->tail_mem + cap - rp->cap > t->e->stream_tail_memcap) {
		t->st.stream_tail_memcap++;
		return false;
	}
	nb = realloc(rp->buf, cap);
	if (!nb)
		return false;
	t->tail_mem += cap - rp->cap;
	rp->buf = nb;
	rp->cap = cap;
	return true;
}

void nj_detect_stream_data(struct nj_detect_thread *t, struct nj_flow *f, int dir,
			   const uint8_t *data, uint32_t len, bool gap, uint32_t end_seq,
			   const struct nj_pkt *p)
{
	const struct nj_detect_engine *e = t->e;
	const struct pkt_group *g;
	struct eng_flow *ef;
	struct raw_pend *rp;

	if (!gap)
		t->st.stream_bytes += len;
	if (!e || !e->nsigs || !len || (!gap && !data) || dir < 0 || dir > 1 || flow_passed(f))
		return;
	if (f->detect_state && (((const struct eng_flow *)f->detect_state)->flags & EF_NO_RAW))
		return;
	if (!stream_set(e, f, dir, &g))
		return;
	if (f->tcp_state < NJ_TCP_ESTABLISHED || e->stream_inline ||
	    (p && p->flow == f && (p->tcp_flags & 0x02))) {
		/* no TCP session (no handshake, no mid-stream pick-up), inline mode,
		 * or data on a SYN (TCP Fast Open): Suricata inspects it as it comes */
		if (gap)
			tail_gap(t, nj_eng_flow_get(t, f), dir, len);
		else
			stream_now_or_chunk(t, f, dir, data, len, p);
		return;
	}
	ef = nj_eng_flow_get(t, f);
	if (!ef) {
		if (!gap)
			stream_now(t, f, dir, data, len, p);
		return;
	}
	rp = &ef->rp[dir];
	if (gap) {
		if (rp->ngap == RP_GAPS)
			rp_inspect(t, f, ef, dir, rp->span, p);
		if (!rp->span) {
			/* nothing held: the hole is marked at once */
			tail_gap(t, ef, dir, len);
		} else if (rp->ngap && rp->gap[rp->ngap - 1].at == rp->len) {
			rp->gap[rp->ngap - 1].len += len;
			rp->span += len;
		} else {
			rp->gap[rp->ngap].at = rp->len;
			rp->gap[rp->ngap].len = len;
			rp->ngap++;
			rp->span += len;
		}
		rp->end_seq = end_seq;
		return;
	}
	if (!rp_room(t, rp, len)) {
		/* past the limit: what is held, then this, inspected now */
		if (rp->span)
			rp_inspect(t, f, ef, dir, rp->span, p);
		stream_now(t, f, dir, data, len, p);
		rp->end_seq = end_seq;
		return;
	}
	memcpy(rp->buf + rp->head + rp->len, data, len);
	rp->len += len;
	rp->span += len;
	rp->end_seq = end_seq;
}

/*
 * Packet p of a TCP flow: its acknowledgement is noted for the other
 * direction, and what it acknowledged of its own direction is inspected.
 */
static void rp_pkt(struct nj_detect_thread *t, const struct nj_pkt *p, struct nj_flow *f, int dir)
{
	struct eng_flow *ef = f->detect_state;
	struct raw_pend *rp;

	if (p->tcp_flags & 0x10) {
		struct raw_pend *o = &ef->rp[!dir];

		if (!o->ack_set || (int32_t)(p->tcp_ack - o->ack) > 0) {
			o->ack = p->tcp_ack;
			o->ack_set = 1;
		}
	}
	rp = &ef->rp[dir];
	if (rp->span && rp->ack_set) {
		int32_t acked = (int32_t)(rp->ack - (rp->end_seq - rp->span));

		if (acked > 0)
			rp_inspect(t, f, ef, dir, (uint32_t)acked, p);
	}
}

void nj_detect_stream(struct nj_detect_thread *t, struct nj_flow *f, int dir, const uint8_t *data,
		      uint32_t len, const struct nj_pkt *p)
{
	t->st.stream_bytes += len;
	stream_now_or_chunk(t, f, dir, data, len, p);
}

static void stream_now_or_chunk(struct nj_detect_thread *t, struct nj_flow *f, int dir,
				const uint8_t *data, uint32_t len, const struct nj_pkt *p)
{
	const struct nj_detect_engine *e = t->e;
	const struct pkt_group *g;
	struct pchunk *c;

	if (!e || !e->nsigs || !len || !data || dir < 0 || dir > 1 || flow_passed(f))
		return;
	if (f->detect_state && (((const struct eng_flow *)f->detect_state)->flags & EF_NO_RAW))
		return;
	if (!stream_set(e, f, dir, &g))
		return;
	/*
	 * Data that came with a packet waits for that packet's detection pass, so
	 * stream and packet signatures run in one signature order (flowbits).
	 */
	if (p && p->flow == f && t->nchunk < NJ_ARRAY_SIZE(t->chunk)) {
		const uint8_t *pl = p->data ? p->data + p->payload_off : NULL;
		bool inpkt = pl && data >= pl && data + len <= pl + p->payload_len;

		c = t->nchunk ? &t->chunk[t->nchunk - 1] : NULL;
		if (inpkt) {
			/* straight from the packet: valid until the burst is freed */
			if (c && c->p == p && c->f == f && c->dir == dir && c->ptr &&
			    c->ptr + c->len == data) {
				c->len += len;
				return;
			}
		} else {
			if (t->clen + len > CHUNK_ARENA_MAX)
				goto now;
			if (t->clen + len > t->ccap) {
				uint32_t cap = t->ccap ? t->ccap : 65536;
				uint8_t *nb;

				while (cap < t->clen + len)
					cap *= 2;
				nb = realloc(t->carena, cap);
				if (!nb)
					goto now;
				t->carena = nb;
				t->ccap = cap;
			}
			memcpy(t->carena + t->clen, data, len);
			if (c && c->p == p && c->f == f && c->dir == dir && !c->ptr &&
			    c->off + c->len == t->clen) {
				c->len += len;
				t->clen += len;
				return;
			}
		}
		c = &t->chunk[t->nchunk++];
		c->p = p;
		c->f = f;
		c->dir = (uint8_t)dir;
		c->ptr = inpkt ? data : NULL;
		c->off = inpkt ? 0 : t->clen;
		c->len = len;
		c->done = 0;
		if (!inpkt)
			t->clen += len;
		return;
	}
now:
	stream_now(t, f, dir, data, len, p);
}

static inline const uint8_t *chunk_data(const struct nj_detect_thread *t, const struct pchunk *c)
{
	return c->ptr ? c->ptr : t->carena + c->off;
}

/* Chunks left over (a packet that was not in the burst): inspected alone. */
static void chunks_flush(struct nj_detect_thread *t)
{
	for (unsigned i = 0; i < t->nchunk; i++) {
		struct pchunk *c = &t->chunk[i];

		if (!c->done)
			stream_now(t, c->f, c->dir, chunk_data(t, c), c->len, NULL);
	}
	t->nchunk = 0;
	t->clen = 0;
}

/* ------------------------------------------------------------ packet pass */

static void pkt_detect(struct nj_detect_thread *t, const struct nj_pkt *pkts, uint16_t n,
		       uint16_t i)
{
	const struct nj_detect_engine *e = t->e;
	const struct nj_pkt *p = &pkts[i];
	struct nj_flow *f = p->flow;
	const struct pkt_group *g;
	const struct cand_set *cs;
	int dir = (p->flags & NJ_PKT_TOCLIENT) ? 1 : 0, cls, mode;
	uint8_t mask;
	struct pchunk *own = NULL;
	struct sunit u;
	bool have_u = false;
	struct mlist m[5];
	int nm = 0;
	uint32_t num;

	if (flow_passed(f))
		goto chunks;
	if (!(p->flags & (NJ_PKT_IPV4 | NJ_PKT_IPV6)))
		goto chunks;
	g = pkt_group(e, p, dir, &cls);
	mask = pkt_mask(p, f, true);
	if (e->ipx.n && first_of_dir(pkts, n, i)) {
		const uint32_t *v0, *v1, *al;
		uint32_t n0, n1, nal;
		struct mlist im[3];

		nj_iponly_candidates(e, p, &v0, &n0, &v1, &n1, &al, &nal);
		im[0] = (struct mlist){v0, n0, 0};
		im[1] = (struct mlist){v1, n1, 0};
		im[2] = (struct mlist){al, nal, 0};
		while (mnext(im, 3, &num)) {
			eval_pkt(t, num, p, f, dir, mask);
			if (flow_passed(f))
				goto chunks;
		}
	}
	mode = (cls == PC_TCP && f && f->stream_state) ? CS_PKT_INSTREAM : CS_PKT;
	cs = &e->cls[cls][dir].cs[mode];
	if (mode == CS_PKT_INSTREAM)
		for (unsigned k = 0; k < t->nchunk; k++)
			if (t->chunk[k].p == p && t->chunk[k].dir == dir && !t->chunk[k].done) {
				own = &t->chunk[k];
				break;
			}
	if (!cs->nsigs && !g->nalways[mode] && !own)
		goto chunks;
	gen_next(t);
	if (own) {
		/* one scan of the stream unit serves the packet-only signatures too */
		own->done = 1;
		have_u = stream_begin(t, &u, f, dir, chunk_data(t, own), own->len, p);
	}
	if (p->payload_len && (!have_u || own->len < p->payload_len) &&
	    !(f && f->detect_state &&
	      (((const struct eng_flow *)f->detect_state)->flags & EF_NO_RAW)))
		scan_set(t, cs, p->data + p->payload_off, p->payload_len);
	sort_cand(t);
	m[nm++] = (struct mlist){t->cand, t->ncand, 0};
	m[nm++] = (struct mlist){cs->always, cs->nalways, 0};
	m[nm++] = (struct mlist){g->always[mode], g->nalways[mode], 0};
	if (have_u) {
		m[nm++] = (struct mlist){u.cs->always, u.cs->nalways, 0};
		m[nm++] = (struct mlist){u.g->always[CS_STREAM], u.g->nalways[CS_STREAM], 0};
	}
	while (mnext(m, nm, &num)) {
		uint32_t fl = e->sigs[num].flags;

		if (mode == CS_PKT_INSTREAM && (fl & ES_STREAM_OK) && (fl & ES_PAYLOAD)) {
			if (have_u)
				eval_stream(t, num, &u);
		} else {
			eval_pkt(t, num, p, f, dir, mask);
		}
		if (flow_passed(f))
			break;
	}
	if (have_u)
		tail_update(t, u.ef, dir, u.data, u.len);
chunks:
	if (f && f->proto == 6 && f->detect_state && (p->flags & (NJ_PKT_IPV4 | NJ_PKT_IPV6)))
		rp_pkt(t, p, f, dir);
	/* stream data of p in the other direction, or beyond the first chunk */
	for (unsigned k = 0; k < t->nchunk; k++) {
		struct pchunk *c = &t->chunk[k];

		if (c->p == p && !c->done) {
			c->done = 1;
			stream_now(t, c->f, c->dir, chunk_data(t, c), c->len, p);
		}
	}
}

/* The burst nj_detect_burst is inspecting (the worker's; read by nj_detect_flow_counts_at). */
static __thread struct {
	const struct nj_pkt *pkts;
	uint16_t n;
} cur_burst;

void nj_detect_flow_counts_at(const struct nj_flow *f, const struct nj_pkt *p, uint64_t pkts[2],
			      uint64_t bytes[2])
{
	const struct nj_pkt *end = cur_burst.pkts + cur_burst.n;

	pkts[0] = f->pkts_ts;
	pkts[1] = f->pkts_tc;
	bytes[0] = f->bytes_ts;
	bytes[1] = f->bytes_tc;
	if (!p || !cur_burst.pkts || p < cur_burst.pkts || p >= end)
		return;
	for (const struct nj_pkt *q = p + 1; q < end; q++) {
		unsigned d = (q->flags & NJ_PKT_TOCLIENT) ? 1 : 0;

		if (q->flow != f || pkts[d] == 0)
			continue;
		pkts[d]--;
		bytes[d] -= q->len < bytes[d] ? q->len : bytes[d];
	}
}

void nj_detect_burst(struct nj_detect_thread *t, struct nj_pkt *pkts, uint16_t n)
{
	const struct nj_detect_engine *e = t->e;

	t->st.pkts_inspected += n;
	if (!e || !e->nsigs) {
		t->app_pkt = NULL;
		t->nsnap = 0;
		return;
	}
	if (t->nsnap && t->snap[t->nsnap - 1].f)
		t->snap[t->nsnap - 1].app = t->snap[t->nsnap - 1].f->app_proto;
	t->snap_cur = 0;
	cur_burst.pkts = pkts;
	cur_burst.n = n;
	for (uint16_t i = 0; i < n; i++) {
		/* the app protocol as it was right after this packet was parsed */
		t->cur_app = -1;
		while (t->snap_cur < t->nsnap && t->snap[t->snap_cur].p != &pkts[i])
			t->snap_cur++;
		if (t->snap_cur < t->nsnap && t->snap[t->snap_cur].f == pkts[i].flow)
			t->cur_app = t->snap[t->snap_cur].app;
		else
			t->snap_cur = 0;
		if (t->ndefer && pkts[i].flow)
			nj_alert_adopt(t, &pkts[i]);
		pkt_detect(t, pkts, n, i);
		if (t->npend)
			nj_alert_flush_pkt(t, &pkts[i]);
		if (t->tag)
			nj_tag_pkt(t, &pkts[i]);
	}
	t->cur_app = -1;
	t->nsnap = 0;
	if (t->nchunk)
		chunks_flush(t);
	if (t->npend)
		nj_alert_flush_all(t);
	t->app_pkt = NULL;
	t->app_burst = NULL;
	t->burst_no++;
	cur_burst.pkts = NULL;
	cur_burst.n = 0;
}

void nj_detect_app_burst(struct nj_detect_thread *t, const struct nj_pkt *pkts, uint16_t n)
{
	t->app_burst = pkts;
	t->app_n = n;
}

void nj_detect_app_pkt(struct nj_detect_thread *t, const struct nj_pkt *p)
{
	t->app_pkt = p;
	if (!p)
		return;
	if (t->nsnap && t->snap[t->nsnap - 1].f)
		t->snap[t->nsnap - 1].app = t->snap[t->nsnap - 1].f->app_proto;
	if (t->nsnap < NJ_ARRAY_SIZE(t->snap)) {
		t->snap[t->nsnap].p = p;
		t->snap[t->nsnap].f = p->flow;
		t->snap[t->nsnap].app = 0;
		t->nsnap++;
	}
}

/* ------------------------------------------------------------ transactions */

struct tx_view {
	const struct nj_al_tx *tx;
	const struct al_getter *g;
	const struct nj_app_parser *parser;
	int dir;
};

/* file.name / file.magic of the transaction's file in direction d. */
static bool tx_file_prop(const struct tx_view *v, unsigned prop, int d, const uint8_t **b,
			 uint32_t *l)
{
	struct nj_al_fileinfo fi = {0};

	if (!v->parser || !v->parser->tx_file || !v->parser->tx_file(v->tx, d, &fi))
		return false;
	if (prop == AL_FILE_NAME && fi.name) {
		*b = fi.name;
		*l = fi.name_len;
		return true;
	}
	if (prop == AL_FILE_MAGIC && fi.magic) {
		*b = (const uint8_t *)fi.magic;
		*l = (uint32_t)strlen(fi.magic);
		return true;
	}
	return false;
}

/* Instance idx of a buffer (only 0 for single buffers); false when there is none. */
static bool tx_buffer(const struct nj_detect_engine *e, const struct tx_view *v, unsigned base,
		      uint32_t idx, const uint8_t **b, uint32_t *l)
{
	const struct nj_detect_buffer *bd = nj_detect_buffer_get(base);
	uint32_t f = bd ? bd->flags & (NJ_BUFF_TOSERVER | NJ_BUFF_TOCLIENT) : 0;
	int d = f == NJ_BUFF_TOSERVER ? 0 : f == NJ_BUFF_TOCLIENT ? 1 : v->dir;

	if (!v->g || base >= e->nbuffers)
		return false;
	if (v->g[base].get_multi[d])
		return idx < NJ_AL_MULTI_MAX && v->g[base].get_multi[d](v->tx, idx, b, l);
	if (!idx && v->g[base].file_prop)
		return tx_file_prop(v, v->g[base].file_prop, d, b, l);
	if (idx || !v->g[base].get[d])
		return false;
	return v->g[base].get[d](v->tx, b, l);
}

/* A list on a transaction buffer: matches when one instance does. */
static bool list_tx(struct nj_detect_thread *t, const struct nj_detect_sig *s,
		    const struct nj_detect_list *l, const struct tx_view *v)
{
	const struct nj_detect_bufinst *inst = &t->e->rules->inst[l->inst];

	for (uint32_t idx = 0;; idx++) {
		const uint8_t *b = NULL;
		uint32_t len = 0;

		if (!tx_buffer(t->e, v, inst->base, idx, &b, &len))
			return idx == 0 && l->absent; /* absent: the buffer does not exist */
		if (l->absent == NJ_ABSENT)
			return false;
		if (inst->ntf && !(b = transform(t, inst, b, len, &len)))
			continue;
		if (nj_detect_inspect_buffer(t->ctx, s, l, b, len, NJ_DETECT_EOF))
			return true;
	}
}

/* Transaction-level keywords of s (dns.opcode, app-layer-event, ...). */
static bool txm_ok(const struct nj_app_parser *p, const struct nj_detect_sig *s,
		   const struct tx_view *v)
{
	for (unsigned i = 0; i < s->ntxm; i++)
		if (!s->txm[i].fn(p, v->tx, v->dir, s->txm[i].ctx))
			return false;
	return true;
}

static bool lists_tx(struct nj_detect_thread *t, const struct nj_detect_sig *s,
		     const struct tx_view *v, const struct nj_pkt *p, const struct eng_flow *ef)
{
	const struct nj_detect_engine *e = t->e;

	nj_detect_sig_begin(t->ctx);
	for (unsigned i = 0; i < s->nlists; i++) {
		const struct nj_detect_list *l = &s->lists[i];
		const struct nj_detect_bufinst *inst = &e->rules->inst[l->inst];
		const struct nj_detect_buffer *bd = nj_detect_buffer_get(inst->base);
		const uint8_t *b = NULL;
		uint32_t len = 0;

		if (inst->base == NJ_DETECT_BUF_PKT || inst->base == NJ_DETECT_BUF_STREAM) {
			/* payload content in an app-layer rule: the packet, else the stream tail */
			if (p && p->payload_len) {
				payload_of(p, &b, &len);
			} else if (ef && ef->tail_len[v->dir] > ef->tail_skip[v->dir]) {
				b = ef->tail[v->dir] + ef->tail_skip[v->dir];
				len = ef->tail_len[v->dir] - ef->tail_skip[v->dir];
			} else {
				return false;
			}
		} else if (bd && (bd->flags & NJ_BUFF_PACKET)) {
			if (!p || !hdr_buffer(e, inst->base, p, &b, &len))
				return false;
		} else {
			if (!list_tx(t, s, l, v))
				return false;
			continue;
		}
		if (inst->ntf && !(b = transform(t, inst, b, len, &len)))
			return false;
		if (!nj_detect_inspect_buffer(t->ctx, s, l, b, len, NJ_DETECT_EOF))
			return false;
	}
	return true;
}

static bool txd_seen(const struct eng_flow *ef, uint64_t tx, uint32_t num)
{
	if (!ef)
		return false;
	for (unsigned i = 0; i < ef->ntxd; i++)
		if (ef->txd[i].tx == tx && ef->txd[i].num == num)
			return true;
	return false;
}

static void txd_add(struct nj_detect_thread *t, struct nj_flow *f, uint64_t tx, uint32_t num)
{
	struct eng_flow *ef = nj_eng_flow_get(t, f);

	if (!ef)
		return;
	ef->txd[ef->txd_next].tx = tx;
	ef->txd[ef->txd_next].num = num;
	ef->txd_next = (uint8_t)((ef->txd_next + 1) % EF_TXD);
	if (ef->ntxd < EF_TXD)
		ef->ntxd++;
}

void nj_detect_thread_set_files(struct nj_detect_thread *t, struct nj_files *fs)
{
	if (t)
		t->files = fs;
}

/* A filestore signature matched transaction tx_id in direction dir. */
static void filestore(struct nj_detect_thread *t, uint8_t o, struct nj_flow *f, uint64_t tx_id,
		      int dir)
{
	unsigned dirs = (o & FS_TS ? 1u : 0u) | (o & FS_TC ? 2u : 0u);

	if (o & FS_RULE_DIR)
		dirs = 1u << dir;
	/* scope flow: this transaction and the later ones (Suricata flags the flow for
	 * transactions created from then on; files of earlier ones are not stored) */
	t->st.filestore_marks +=
		nj_files_store_tx(t->files, f, tx_id, o & FS_FLOW ? UINT64_MAX : tx_id, dirs);
}

/* The first packet of flow f and direction dir after p in the app-layer's burst, or NULL. */
static const struct nj_pkt *next_of_dir(const struct nj_detect_thread *t, const struct nj_pkt *p,
					const struct nj_flow *f, int dir)
{
	const struct nj_pkt *end = t->app_burst + t->app_n;

	if (!t->app_burst || p < t->app_burst || p >= end)
		return NULL;
	for (const struct nj_pkt *q = p + 1; q < end; q++)
		if (q->flow == f && ((q->flags & NJ_PKT_TOCLIENT) ? 1 : 0) == dir &&
		    (q->flags & (NJ_PKT_IPV4 | NJ_PKT_IPV6)))
			return q;
	return NULL;
}

void nj_detect_tx(void *thread, struct nj_flow *f, const struct nj_app_parser *parser,
		  struct nj_al_tx *tx, int dir)
{
	struct nj_detect_thread *t = thread;
	const struct nj_detect_engine *e = t->e;
	const struct tx_group *tg;
	const struct nj_pkt *p, *hp;
	struct tx_view v;
	uint8_t mask;
	struct mlist m[2];
	uint32_t num;
	bool defer = false;

	t->st.txs_inspected++;
	if (!e || !e->nsigs || !parser || parser->id >= NJ_APP_MAX_PARSERS || dir < 0 || dir > 1)
		return;
	if (parser->id == e->tls_id && !e->tls_raw && tx->done[0] && tx->done[1]) {
		/* the handshake is over: what follows is encrypted */
		struct eng_flow *ef = nj_eng_flow_get(t, f);

		if (ef && !(ef->flags & EF_NO_RAW)) {
			ef->flags |= EF_NO_RAW;
			t->st.encrypted_flows++;
		}
	}
	tg = e->txg[parser->id][dir];
	if (!tg || !tg->cs.nsigs)
		return;
	if (flow_passed(f))
		return;
	p = t->app_pkt && t->app_pkt->flow == f ? t->app_pkt : NULL;
	if (p && ((p->flags & NJ_PKT_TOCLIENT) ? 1 : 0) != dir && f->proto == 6 &&
	    f->tcp_state >= NJ_TCP_ESTABLISHED && !e->stream_inline) {
		/* IDS timing: the peer's acknowledgement completed this direction; its
		 * rules run with the flow's next packet of the direction */
		const struct nj_pkt *q = next_of_dir(t, p, f, dir);

		/* none in this burst: the alert waits in the queue; the flow's detection
		 * state makes sure its end flushes it (without one: on this packet) */
		if (q) {
			p = q;
		} else if (nj_eng_flow_get(t, f)) {
			defer = true;
			p = NULL;
		}
	}
	hp = p && ((p->flags & NJ_PKT_TOCLIENT) ? 1 : 0) == dir ? p : pseudo_pkt(t, f, dir);
	mask = pkt_mask(hp, f, false);
	v.tx = tx;
	v.g = e->getters[parser->id];
	v.parser = parser;
	v.dir = dir;
	gen_next(t);
	for (unsigned k = 0; k < tg->cs.ndb; k++) {
		const struct pf_db *db = &tg->cs.db[k];
		const struct nj_detect_bufinst *inst = &e->rules->inst[db->inst];
		const uint8_t *b;
		uint32_t l;

		for (uint32_t idx = 0; tx_buffer(e, &v, db->base, idx, &b, &l); idx++) {
			if (!l)
				continue;
			if (inst->ntf && !(b = transform(t, inst, b, l, &l)))
				continue;
			scan(t, db, b, l);
		}
	}
	sort_cand(t);
	m[0] = (struct mlist){t->cand, t->ncand, 0};
	m[1] = (struct mlist){tg->cs.always, tg->cs.nalways, 0};
	while (mnext(m, 2, &num)) {
		const struct eng_sig *es = &e->sigs[num];
		const struct nj_detect_sig *s = es->s;
		bool both = (es->flags & (ES_TX_TS | ES_TX_TC | ES_TX_EACHDIR)) ==
				    (ES_TX_TS | ES_TX_TC) &&
			    !parser->detect_per_dir;

		if ((mask & es->req) != es->req)
			continue;
		if (both && txd_seen(f->detect_state, tx->id, num))
			continue;
		t->st.sigs_evaluated++;
		if (!common_checks(t, es, hp, f, dir, false))
			continue;
		if (s->npm && (!p || !nj_detect_match_pkt(s, p)))
			continue;
		if (!lists_tx(t, s, &v, p, f->detect_state))
			continue;
		if (s->ntxm && !txm_ok(parser, s, &v))
			continue;
		if (s->action == NJ_ACT_CONFIG)
			continue; /* its effect is done (txm), it never alerts */
		if (both)
			txd_add(t, f, tx->id, num);
		matched(t, num, f, p, dir,
			parser->alert_tx_id ? parser->alert_tx_id(tx, dir) : tx->id, AF_TX);
		if (defer) {
			t->pend[t->npend - 1].flags |= AF_DEFER;
			t->pend[t->npend - 1].burst = t->burst_no;
			t->ndefer++;
		}
		if (es->fstore && t->files)
			filestore(t, es->fstore, f, tx->id, dir);
		if (parser->alert_json || t->files)
			nj_alert_tx_meta(t, parser, f, tx, dir);
		if (parser->alert_xff)
			nj_alert_tx_xff(t, parser, tx);
		if (flow_passed(f))
			break;
	}
	if (!p)
		nj_alert_flush_null(t, f);
}

void nj_detect_flow_swap(struct nj_flow *f)
{
	struct eng_flow *ef = f->detect_state;

	if (!ef)
		return;
	NJ_SWAP(ef->rp[0], ef->rp[1]);
	NJ_SWAP(ef->tail[0], ef->tail[1]);
	NJ_SWAP(ef->tail_len[0], ef->tail_len[1]);
	NJ_SWAP(ef->tail_cap[0], ef->tail_cap[1]);
	NJ_SWAP(ef->tail_skip[0], ef->tail_skip[1]);
}

/* ------------------------------------------------------------ flow end */

void nj_detect_flow_finish(struct nj_detect_thread *t, struct nj_flow *f)
{
	struct eng_flow *ef = f->detect_state;

	/* transaction alerts still waiting for a packet of their direction */
	if (t->ndefer)
		nj_alert_flush_deferred(t, f);
	/* stream data never acknowledged: inspected now, its alerts logged together
	 * (their payload is what was inspected, gaps marked) */
	if (ef && t->e && (ef->rp[0].span || ef->rp[1].span)) {
		t->defer_null = true;
		for (int d = 0; d < 2; d++)
			if (ef->rp[d].span)
				rp_inspect(t, f, ef, d, ef->rp[d].span, NULL);
		t->defer_null = false;
	}
	/* data still waiting for a packet of this flow: inspect it now */
	for (unsigned i = 0; i < t->nchunk; i++) {
		struct pchunk *c = &t->chunk[i];

		if (c->f == f && !c->done) {
			c->done = 1;
			stream_now(t, f, c->dir, chunk_data(t, c), c->len, NULL);
		}
	}
	if (t->npend)
		nj_alert_flush_all(t);
}

void nj_detect_flow_end(struct nj_detect_thread *t, struct nj_flow *f)
{
	nj_detect_flow_finish(t, f);
	nj_eng_flow_free(t, f);
}
