/* SPDX-License-Identifier: MIT */
/*
 * The tag keyword at run time; see tag.h for the semantics and the limits.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/flow.h"
#include "dataplane/pkt.h"
#include "engine_int.h"
#include "tag.h"

/* Suricata: a host's tags are dropped after this long without a packet. */
#define TAG_HOST_TIMEOUT_US (600ull * 1000000ull)
/* Suricata's DETECT_TAG_MATCH_LIMIT: re-alerts restart a tag at most this often. */
#define TAG_MATCH_LIMIT 10
/* Suricata's DETECT_TAG_MAX_TAGS: session tags per flow. */
#define TAG_MAX_PER_FLOW 50
#define TAG_WAYS	 8

struct tag_ent {
	uint32_t sid, gid;
	uint32_t count;
	uint32_t next; /* session: next entry + 1 in the flow's list or the free list */
	uint64_t used; /* packets or bytes counted so far */
	uint64_t first_us, last_us;
	uint8_t metric;
	uint8_t skipped_first; /* the alerting packet was seen (counted, not tagged) */
	uint8_t matches;       /* re-alerts that restarted the tag */
	uint8_t alen;	       /* host: 4 or 16, 0 = free slot */
	uint8_t addr[16];
};

struct nj_tag_thread {
	struct tag_ent *sess; /* pool, linked through next */
	uint32_t nsess, free_head, sess_live;
	struct tag_ent *host; /* nbuckets * TAG_WAYS */
	uint32_t nbuckets;    /* power of two */
	uint32_t host_live;
	struct nj_tag_stats st;
};

struct nj_tag_thread *nj_tag_thread_new(const struct nj_detect_sig *const *sigs, uint32_t nsigs,
					const struct nj_tag_limits *lim, int *err)
{
	struct nj_tag_thread *tt;
	bool any = false;
	uint32_t nb = 1;

	*err = 0;
	for (uint32_t i = 0; i < nsigs && !any; i++)
		any = sigs[i] && sigs[i]->ntags;
	if (!any || (!lim->sessions && !lim->hosts))
		return NULL;
	tt = calloc(1, sizeof(*tt));
	if (!tt)
		goto out_nomem;
	while (nb * TAG_WAYS < lim->hosts)
		nb <<= 1;
	tt->nbuckets = lim->hosts ? nb : 0;
	tt->nsess = lim->sessions;
	if (tt->nsess) {
		tt->sess = calloc(tt->nsess, sizeof(*tt->sess));
		if (!tt->sess)
			goto out_free;
		for (uint32_t i = 0; i < tt->nsess; i++)
			tt->sess[i].next = i + 2 <= tt->nsess ? i + 2 : 0;
		tt->free_head = 1;
	}
	if (tt->nbuckets) {
		tt->host = calloc((size_t)tt->nbuckets * TAG_WAYS, sizeof(*tt->host));
		if (!tt->host)
			goto out_free;
	}
	return tt;
out_free:
	nj_tag_thread_free(tt);
out_nomem:
	*err = -ENOMEM;
	return NULL;
}

void nj_tag_thread_free(struct nj_tag_thread *tt)
{
	if (!tt)
		return;
	free(tt->sess);
	free(tt->host);
	free(tt);
}

const struct nj_tag_stats *nj_tag_stats(const struct nj_tag_thread *tt)
{
	return &tt->st;
}

static void ent_start(struct tag_ent *x, const struct nj_detect_sig *s,
		      const struct nj_detect_tag *tg, uint64_t ts_us)
{
	x->sid = s->sid;
	x->gid = s->gid;
	x->count = tg->count;
	x->metric = tg->metric;
	x->used = 0;
	x->first_us = x->last_us = ts_us;
	x->skipped_first = 0;
	x->matches = 0;
}

/* The same signature alerting again restarts its tag (a bounded number of times). */
static void ent_restart(struct tag_ent *x, uint64_t ts_us)
{
	if (x->matches < UINT8_MAX)
		x->matches++;
	if (x->matches < TAG_MATCH_LIMIT) {
		x->first_us = x->last_us = ts_us;
		x->used = 0;
	}
}

/* ------------------------------------------------------------ session */

static void sess_add(struct nj_detect_thread *t, const struct nj_detect_sig *s,
		     const struct nj_detect_tag *tg, struct nj_flow *f, uint64_t ts_us)
{
	struct nj_tag_thread *tt = t->tag;
	struct eng_flow *ef = nj_eng_flow_get(t, f);
	unsigned n = 0;
	uint32_t i;

	if (!ef) {
		tt->st.no_state++;
		return;
	}
	for (i = ef->tag_head; i; i = tt->sess[i - 1].next, n++) {
		struct tag_ent *x = &tt->sess[i - 1];

		if (x->sid == s->sid && x->gid == s->gid) {
			ent_restart(x, ts_us);
			return;
		}
	}
	if (n >= TAG_MAX_PER_FLOW || !tt->free_head) {
		tt->st.full++;
		return;
	}
	i = tt->free_head;
	tt->free_head = tt->sess[i - 1].next;
	ent_start(&tt->sess[i - 1], s, tg, ts_us);
	tt->sess[i - 1].next = ef->tag_head;
	ef->tag_head = i;
	tt->sess_live++;
}

void nj_tag_flow_free(struct nj_detect_thread *t, struct eng_flow *ef)
{
	struct nj_tag_thread *tt = t->tag;
	uint32_t i = ef->tag_head;

	while (tt && i) {
		uint32_t nx = tt->sess[i - 1].next;

		tt->sess[i - 1].next = tt->free_head;
		tt->free_head = i;
		tt->sess_live--;
		i = nx;
	}
	ef->tag_head = 0;
}

/* ------------------------------------------------------------ host */

static uint32_t addr_hash(const uint8_t *a, unsigned alen)
{
	uint32_t h = 2166136261u;

	for (unsigned i = 0; i < alen; i++)
		h = (h ^ a[i]) * 16777619u;
	return h ^ (h >> 15);
}

static inline bool host_live(const struct tag_ent *x, uint64_t now_us)
{
	return x->alen && x->last_us + TAG_HOST_TIMEOUT_US >= now_us;
}

static void host_add(struct nj_tag_thread *tt, const struct nj_detect_sig *s,
		     const struct nj_detect_tag *tg, const uint8_t *a, unsigned alen,
		     uint64_t ts_us)
{
	struct tag_ent *b = &tt->host[(addr_hash(a, alen) & (tt->nbuckets - 1)) * TAG_WAYS];
	struct tag_ent *slot = NULL, *oldest = NULL;

	for (unsigned k = 0; k < TAG_WAYS; k++) {
		struct tag_ent *x = &b[k];

		if (!host_live(x, ts_us)) {
			if (x->alen) { /* timed out */
				x->alen = 0;
				tt->host_live--;
			}
			if (!slot)
				slot = x;
			continue;
		}
		if (x->alen == alen && memcmp(x->addr, a, alen) == 0 && x->sid == s->sid &&
		    x->gid == s->gid) {
			ent_restart(x, ts_us);
			return;
		}
		if (!oldest || x->last_us < oldest->last_us)
			oldest = x;
	}
	if (!slot) {
		slot = oldest;
		slot->alen = 0;
		tt->host_live--;
		tt->st.evicted++;
	}
	ent_start(slot, s, tg, ts_us);
	memcpy(slot->addr, a, alen);
	slot->alen = (uint8_t)alen;
	tt->host_live++;
}

void nj_tag_alert(struct nj_detect_thread *t, const struct nj_detect_sig *s, struct nj_flow *f,
		  const struct nj_pkt *p)
{
	struct nj_tag_thread *tt = t->tag;

	if (!tt || !p)
		return;
	for (unsigned i = 0; i < s->ntags; i++) {
		const struct nj_detect_tag *tg = &s->tags[i];

		if (!tg->host) {
			if (f && tt->nsess)
				sess_add(t, s, tg, f, p->ts_us);
			continue;
		}
		if (!tt->nbuckets || !(p->flags & (NJ_PKT_IPV4 | NJ_PKT_IPV6)))
			continue;
		host_add(tt, s, tg, tg->dst ? nj_pkt_dst(p) : nj_pkt_src(p), nj_pkt_addr_len(p),
			 p->ts_us);
	}
}

/* ------------------------------------------------------------ per packet */

/* Counts p against x; true while the tag is live (p tagged unless it is the
 * alerting packet), false when it is used up. */
static bool ent_step(struct tag_ent *x, const struct nj_pkt *p, bool *tagged)
{
	x->last_us = p->ts_us;
	if (x->metric == NJ_TAG_PACKETS)
		x->used++;
	else if (x->metric == NJ_TAG_BYTES)
		x->used += p->len;
	if (!x->skipped_first) {
		x->skipped_first = 1;
		return true;
	}
	switch (x->metric) {
	case NJ_TAG_PACKETS:
	case NJ_TAG_BYTES:
		if (x->used > x->count)
			return false;
		break;
	case NJ_TAG_SECONDS:
		if (p->ts_us / 1000000 > x->first_us / 1000000 &&
		    p->ts_us / 1000000 - x->first_us / 1000000 > x->count)
			return false;
		break;
	}
	*tagged = true;
	return true;
}

static void sess_pkt(struct nj_tag_thread *tt, struct eng_flow *ef, const struct nj_pkt *p,
		     bool *tagged)
{
	uint32_t *link = &ef->tag_head;

	while (*link) {
		uint32_t i = *link;
		struct tag_ent *x = &tt->sess[i - 1];

		if (ent_step(x, p, tagged)) {
			link = &x->next;
			continue;
		}
		*link = x->next;
		x->next = tt->free_head;
		tt->free_head = i;
		tt->sess_live--;
	}
}

static void host_pkt(struct nj_tag_thread *tt, const uint8_t *a, unsigned alen,
		     const struct nj_pkt *p, bool *tagged)
{
	struct tag_ent *b = &tt->host[(addr_hash(a, alen) & (tt->nbuckets - 1)) * TAG_WAYS];

	for (unsigned k = 0; k < TAG_WAYS; k++) {
		struct tag_ent *x = &b[k];

		if (!x->alen || x->alen != alen || memcmp(x->addr, a, alen) != 0)
			continue;
		if (!host_live(x, p->ts_us) || !ent_step(x, p, tagged)) {
			x->alen = 0;
			tt->host_live--;
		}
	}
}

bool nj_tag_pkt(struct nj_detect_thread *t, const struct nj_pkt *p)
{
	struct nj_tag_thread *tt = t->tag;
	bool tagged = false;

	if (!tt || (!tt->sess_live && !tt->host_live))
		return false;
	if (tt->sess_live && p->flow && p->flow->detect_state) {
		struct eng_flow *ef = p->flow->detect_state;

		if (ef->tag_head)
			sess_pkt(tt, ef, p, &tagged);
	}
	if (tt->host_live && (p->flags & (NJ_PKT_IPV4 | NJ_PKT_IPV6))) {
		unsigned alen = nj_pkt_addr_len(p);

		host_pkt(tt, nj_pkt_src(p), alen, p, &tagged);
		if (memcmp(nj_pkt_src(p), nj_pkt_dst(p), alen) != 0)
			host_pkt(tt, nj_pkt_dst(p), alen, p, &tagged);
	}
	if (!tagged)
		return false;
	tt->st.tagged++;
	if (t->e->ao.tagged_packets)
		nj_alert_write_packet(t, p);
	return true;
}
