/* SPDX-License-Identifier: MIT */
/*
 * Per-core flow table: a preallocated pool of flows, hash buckets holding pool
 * indexes (chains through nj_flow.next), and one LRU list per (protocol class,
 * flow state) so that every list has a single timeout and expiry only ever
 * looks at list heads.
 *
 * A flow ended while a packet of the current burst still points at it is not
 * reused before the next burst (deferred list), so later stages never see a
 * packet's flow turn into another one under their feet.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "flow.h"

#define NIL UINT32_MAX

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_ACK 0x10

/* nj_flow.tcp_ssn_flags */
#define SSN_MIDSTREAM	      0x01
#define SSN_MIDSTREAM_SYNACK  0x02
#define SSN_4WHS	      0x04
#define SSN_3WHS_CONFIRMED    0x08
#define SSN_MIDSTREAM_COUNTED 0x10

/* Flows ended per packet when the pool ran dry, before falling back to eviction. */
#define EMERG_EXPIRE_BUDGET 64u

#define NLISTS (NJ_FPC_MAX * NJ_FLOW_STATE_MAX)

#define HUGE_2M (2ull << 20)

#define SEQ_LT(a, b)  ((int32_t)((a) - (b)) < 0)
#define SEQ_GT(a, b)  ((int32_t)((a) - (b)) > 0)
#define SEQ_GEQ(a, b) ((int32_t)((a) - (b)) >= 0)

/* Same layout as the head of struct nj_flow, so that one memcmp compares keys. */
struct flow_key {
	uint8_t addr[2][16];
	union {
		uint16_t port[2];
		uint32_t spi;
	};
	uint16_t vlan[NJ_ARRAY_SIZE(((struct nj_flow *)0)->vlan)];
	uint8_t proto;
	uint8_t ipv6 : 1;
	uint8_t depth : 7;
};

_Static_assert(offsetof(struct nj_flow, port) == offsetof(struct flow_key, port), "key layout");
_Static_assert(offsetof(struct nj_flow, vlan) == offsetof(struct flow_key, vlan), "key layout");
_Static_assert(offsetof(struct nj_flow, proto) == offsetof(struct flow_key, proto), "key layout");
_Static_assert(sizeof(struct flow_key) == offsetof(struct nj_flow, client), "key layout");

struct lru {
	uint32_t head, tail;
};

struct nj_flow_table {
	struct nj_flow *pool;
	uint32_t *buckets;
	uint32_t npool;
	uint32_t hash_shift; /* 32 - log2(buckets) */
	uint32_t free_head;
	uint32_t deferred_head; /* ended during this burst, freed at the next */
	uint32_t gen;		/* burst generation */
	bool in_burst;
	bool emergency;
	bool prefetch;
	bool midstream;
	bool vlan_tracking;
	uint32_t recovery_pct;
	nj_flow_end_fn on_end;
	void *arg;
	uint64_t timeout_us[2][NJ_FPC_MAX][NJ_FLOW_STATE_MAX]; /* [emergency][class][state] */
	struct lru lru[NLISTS];
	struct nj_flow_stats st;
};

void nj_flow_config_defaults(struct nj_flow_config *cfg)
{
	static const struct nj_flow_timeouts tcp = {60, 600, 60, 5, 100, 10};
	static const struct nj_flow_timeouts other = {30, 300, 0, 10, 100, 0};

	memset(cfg, 0, sizeof(*cfg));
	cfg->memcap = 128ull << 20;
	cfg->hash_size = 65536;
	cfg->emergency_recovery = 30;
	cfg->midstream = false;
	cfg->vlan_tracking = true;
	cfg->timeouts[NJ_FPC_TCP] = tcp;
	cfg->timeouts[NJ_FPC_UDP] = other;
	cfg->timeouts[NJ_FPC_ICMP] = other;
	cfg->timeouts[NJ_FPC_OTHER] = other;
}

static inline unsigned proto_class(uint8_t proto)
{
	switch (proto) {
	case 6: return NJ_FPC_TCP;
	case 17: return NJ_FPC_UDP;
	case 1:
	case 58: return NJ_FPC_ICMP;
	default: return NJ_FPC_OTHER;
	}
}

static inline unsigned list_of(const struct nj_flow *f)
{
	return proto_class(f->proto) * NJ_FLOW_STATE_MAX + f->state;
}

static inline uint64_t flow_timeout(const struct nj_flow_table *t, const struct nj_flow *f)
{
	return t->timeout_us[t->emergency][proto_class(f->proto)][f->state];
}

/*
 * Fan-out may pick workers from the low bits of the same hash, so take the
 * bucket from the high bits of a multiplicative mix instead.
 */
static inline uint32_t bucket_of(const struct nj_flow_table *t, uint32_t hash)
{
	return (uint32_t)((uint64_t)(uint32_t)(hash * 0x9e3779b1u) >> t->hash_shift);
}

struct nj_flow_table *nj_flow_table_create(const struct nj_flow_config *cfg, int socket,
					   nj_flow_end_fn on_end, void *arg)
{
	struct nj_flow_table *t;
	uint64_t count, nb = 1, pool_bytes;
	uint32_t shift = 32;

	(void)socket;
	count = cfg->memcap / sizeof(struct nj_flow);
	if (cfg->prealloc && cfg->prealloc < count)
		count = cfg->prealloc;
	if (count == 0 || count >= NIL) {
		errno = EINVAL;
		return NULL;
	}
	while (nb < cfg->hash_size && nb < (1u << 31)) {
		nb <<= 1;
		shift--;
	}

	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	pool_bytes = count * sizeof(struct nj_flow);
	if (pool_bytes >= HUGE_2M) {
		/* random access over the pool: 2 MiB pages save a TLB miss per lookup */
		t->pool = aligned_alloc(HUGE_2M, (pool_bytes + HUGE_2M - 1) & ~(HUGE_2M - 1));
		if (t->pool)
			madvise(t->pool, pool_bytes, MADV_HUGEPAGE);
	} else {
		t->pool = aligned_alloc(NJ_CACHE_LINE, pool_bytes);
	}
	if (!t->pool)
		goto out_free_t;
	t->buckets = aligned_alloc(NJ_CACHE_LINE, (nb * sizeof(uint32_t) + NJ_CACHE_LINE - 1) &
							  ~(uint64_t)(NJ_CACHE_LINE - 1));
	if (!t->buckets)
		goto out_free_pool;
	memset(t->buckets, 0xff, nb * sizeof(uint32_t));

	/* Touch the whole pool now so the hot path never page-faults. */
	memset(t->pool, 0, pool_bytes);
	for (uint32_t i = 0; i < count; i++)
		t->pool[i].next = i + 1 < count ? i + 1 : NIL;
	t->free_head = 0;
	t->deferred_head = NIL;
	t->npool = (uint32_t)count;
	t->hash_shift = shift;
	t->prefetch = true;
	t->midstream = cfg->midstream;
	t->vlan_tracking = cfg->vlan_tracking;
	t->recovery_pct = cfg->emergency_recovery;
	t->on_end = on_end;
	t->arg = arg;
	for (unsigned c = 0; c < NJ_FPC_MAX; c++) {
		const struct nj_flow_timeouts *to = &cfg->timeouts[c];

		t->timeout_us[0][c][NJ_FLOW_STATE_NEW] = to->new_s * 1000000ull;
		t->timeout_us[0][c][NJ_FLOW_STATE_ESTABLISHED] = to->established_s * 1000000ull;
		t->timeout_us[0][c][NJ_FLOW_STATE_CLOSED] = to->closed_s * 1000000ull;
		t->timeout_us[1][c][NJ_FLOW_STATE_NEW] = to->emerg_new_s * 1000000ull;
		t->timeout_us[1][c][NJ_FLOW_STATE_ESTABLISHED] =
			to->emerg_established_s * 1000000ull;
		t->timeout_us[1][c][NJ_FLOW_STATE_CLOSED] = to->emerg_closed_s * 1000000ull;
	}
	for (unsigned l = 0; l < NLISTS; l++)
		t->lru[l].head = t->lru[l].tail = NIL;
	t->st.spare = count;
	t->st.memuse = count * sizeof(struct nj_flow) + nb * sizeof(uint32_t);
	return t;

out_free_pool:
	free(t->pool);
out_free_t:
	free(t);
	return NULL;
}

void nj_flow_table_destroy(struct nj_flow_table *t)
{
	if (!t)
		return;
	free(t->buckets);
	free(t->pool);
	free(t);
}

const struct nj_flow_stats *nj_flow_table_stats(const struct nj_flow_table *t)
{
	return &t->st;
}

void nj_flow_table_set_prefetch(struct nj_flow_table *t, bool on)
{
	t->prefetch = on;
}

static inline uint32_t idx_of(const struct nj_flow_table *t, const struct nj_flow *f)
{
	return (uint32_t)(f - t->pool);
}

static inline void lru_unlink(struct nj_flow_table *t, struct nj_flow *f)
{
	struct lru *l = &t->lru[f->lru_list];

	if (f->lru_prev != NIL)
		t->pool[f->lru_prev].lru_next = f->lru_next;
	else
		l->head = f->lru_next;
	if (f->lru_next != NIL)
		t->pool[f->lru_next].lru_prev = f->lru_prev;
	else
		l->tail = f->lru_prev;
}

static inline void lru_append(struct nj_flow_table *t, struct nj_flow *f)
{
	unsigned li = list_of(f);
	struct lru *l = &t->lru[li];
	uint32_t i = idx_of(t, f);

	f->lru_list = (uint8_t)li;
	f->lru_next = NIL;
	f->lru_prev = l->tail;
	if (l->tail != NIL)
		t->pool[l->tail].lru_next = i;
	else
		l->head = i;
	l->tail = i;
}

static void hash_unlink(struct nj_flow_table *t, struct nj_flow *f)
{
	uint32_t *pp = &t->buckets[bucket_of(t, f->hash)];
	uint32_t i = idx_of(t, f);

	while (*pp != NIL) {
		if (*pp == i) {
			*pp = f->next;
			return;
		}
		pp = &t->pool[*pp].next;
	}
}

static inline void pool_put(struct nj_flow_table *t, struct nj_flow *f)
{
	f->next = t->free_head;
	t->free_head = idx_of(t, f);
	t->st.spare++;
	if (unlikely(t->emergency) && t->st.spare * 100 > (uint64_t)t->npool * t->recovery_pct) {
		t->emergency = false;
		t->st.emergency_over++;
	}
}

static void release_deferred(struct nj_flow_table *t)
{
	while (t->deferred_head != NIL) {
		struct nj_flow *f = &t->pool[t->deferred_head];

		t->deferred_head = f->next;
		pool_put(t, f);
	}
}

/* Ends a flow: reports it, then unlinks it and returns it to the pool. */
static void flow_end(struct nj_flow_table *t, struct nj_flow *f, enum nj_flow_end_reason why)
{
	if (t->on_end)
		t->on_end(t->arg, f, why);
	t->st.end_state[f->state]++;
	if (f->proto == 6)
		t->st.end_tcp_state[f->tcp_state]++;
	t->st.active--;
	hash_unlink(t, f);
	lru_unlink(t, f);
	if (t->in_burst && f->burst_gen == t->gen) {
		f->next = t->deferred_head;
		t->deferred_head = idx_of(t, f);
	} else {
		pool_put(t, f);
	}
}

static unsigned expire_lists(struct nj_flow_table *t, uint64_t now_us, unsigned budget)
{
	unsigned n = 0;

	for (unsigned li = 0; li < NLISTS && n < budget; li++) {
		struct lru *l = &t->lru[li];
		uint64_t to =
			t->timeout_us[t->emergency][li / NJ_FLOW_STATE_MAX][li % NJ_FLOW_STATE_MAX];

		while (l->head != NIL && n < budget) {
			struct nj_flow *f = &t->pool[l->head];

			if (f->last_us + to > now_us)
				break;
			t->st.timed_out++;
			flow_end(t, f, NJ_FLOW_END_TIMEOUT);
			n++;
		}
	}
	return n;
}

unsigned nj_flow_expire(struct nj_flow_table *t, uint64_t now_us, unsigned budget)
{
	release_deferred(t);
	return expire_lists(t, now_us, budget);
}

void nj_flow_flush_all(struct nj_flow_table *t, uint64_t now_us)
{
	release_deferred(t);
	for (unsigned li = 0; li < NLISTS; li++) {
		struct lru *l = &t->lru[li];

		while (l->head != NIL) {
			struct nj_flow *f = &t->pool[l->head];

			if (f->last_us + flow_timeout(t, f) <= now_us) {
				t->st.timed_out++;
				flow_end(t, f, NJ_FLOW_END_TIMEOUT);
			} else {
				t->st.shutdown++;
				flow_end(t, f, NJ_FLOW_END_SHUTDOWN);
			}
		}
	}
}

/* Least recently used flow over all lists that no packet of this burst holds. */
static struct nj_flow *lru_victim(struct nj_flow_table *t)
{
	struct nj_flow *best = NULL;

	for (unsigned li = 0; li < NLISTS; li++) {
		struct nj_flow *f;

		if (t->lru[li].head == NIL)
			continue;
		f = &t->pool[t->lru[li].head];
		if (f->burst_gen == t->gen)
			continue;
		if (!best || f->last_us < best->last_us)
			best = f;
	}
	return best;
}

static struct nj_flow *flow_get_free(struct nj_flow_table *t, uint64_t now_us)
{
	struct nj_flow *f;

	if (unlikely(t->free_head == NIL)) {
		t->st.memcap_hits++;
		if (!t->emergency) {
			t->emergency = true;
			t->st.emergency_entered++;
		}
		expire_lists(t, now_us, EMERG_EXPIRE_BUDGET);
		if (t->free_head == NIL) {
			f = lru_victim(t);
			if (!f)
				return NULL;
			t->st.evicted++;
			flow_end(t, f, NJ_FLOW_END_FORCED);
		}
	}
	f = &t->pool[t->free_head];
	t->free_head = f->next;
	t->st.spare--;
	return f;
}

/* memcmp order of two addresses, with whole-word loads */
static inline int addr_cmp(const uint8_t *a, const uint8_t *b, bool v6)
{
	uint64_t x, y;

	if (!v6) {
		uint32_t u, v;

		memcpy(&u, a, 4);
		memcpy(&v, b, 4);
		u = __builtin_bswap32(u);
		v = __builtin_bswap32(v);
		return (u > v) - (u < v);
	}
	memcpy(&x, a, 8);
	memcpy(&y, b, 8);
	if (x == y) {
		memcpy(&x, a + 8, 8);
		memcpy(&y, b + 8, 8);
	}
	x = __builtin_bswap64(x);
	y = __builtin_bswap64(y);
	return (x > y) - (x < y);
}

static inline bool key_eq(const struct nj_flow *f, const struct flow_key *k)
{
	const uint8_t *a = (const uint8_t *)f, *b = (const uint8_t *)k;
	uint64_t x, y, d = 0;
	uint32_t u, v;

	for (unsigned i = 0; i + 8 <= sizeof(*k); i += 8) {
		memcpy(&x, a + i, 8);
		memcpy(&y, b + i, 8);
		d |= x ^ y;
	}
	memcpy(&u, a + sizeof(*k) - 4, 4);
	memcpy(&v, b + sizeof(*k) - 4, 4);
	return !(d | (u ^ v));
}

/* Normalised key of a packet; returns the index in key->addr of the sender. */
static inline unsigned key_build(const struct nj_pkt *p, struct flow_key *k, bool vlans)
{
	const uint8_t *src = nj_pkt_src(p), *dst = nj_pkt_dst(p);
	unsigned alen = nj_pkt_addr_len(p);
	uint16_t sp = 0, dp = 0;
	unsigned s;
	int c;

	if (p->flags & NJ_PKT_HAS_L4) {
		sp = p->sport;
		dp = p->dport;
	}
	c = addr_cmp(src, dst, alen == 16);
	s = c > 0 || (c == 0 && sp > dp);
	memset(k, 0, sizeof(*k));
	if (unlikely(p->proto == 50 && (p->flags & NJ_PKT_HAS_L4))) {
		s = 0; /* ESP: one flow per direction and SPI */
		k->spi = p->esp_spi;
	} else {
		k->port[s] = sp;
		k->port[!s] = dp;
	}
	memcpy(k->addr[s], src, alen);
	memcpy(k->addr[!s], dst, alen);
	_Static_assert(sizeof(k->vlan) == sizeof(p->vlan), "vlan ids");
	if (vlans)
		memcpy(k->vlan, p->vlan, sizeof(k->vlan));
	k->proto = p->proto;
	k->ipv6 = !!(p->flags & NJ_PKT_IPV6);
	k->depth = p->flow_depth & 0x7f;
	return s;
}

static struct nj_flow *flow_create(struct nj_flow_table *t, const struct flow_key *k,
				   const struct nj_pkt *p, unsigned sender)
{
	struct nj_flow *f = flow_get_free(t, p->ts_us);
	uint32_t b;
	uint64_t id;

	if (unlikely(!f))
		return NULL;
	memset(f, 0, sizeof(*f));
	memcpy(f, k, sizeof(*k));
	f->client = (uint8_t)sender;
	memcpy(f->vlan_id, p->vlan, sizeof(f->vlan_id));
	/* A SYN/ACK first means we missed the SYN: its sender is the server. */
	if (p->proto == 6 && (p->flags & NJ_PKT_HAS_L4) &&
	    (p->tcp_flags & (TH_SYN | TH_ACK)) == (TH_SYN | TH_ACK))
		f->client = (uint8_t)!sender;
	f->state = NJ_FLOW_STATE_NEW;
	f->hash = p->hash;
	f->start_us = f->last_us = p->ts_us;
	/* 51 bits, as Suricata: JSON readers keep integers up to 2^53 exact */
	id = ((uint64_t)(p->hash & 0xfffff) << 31) | (p->ts_us & 0x7fffffff);
	f->flow_id = id ? id : 1;
	f->burst_gen = t->gen;

	b = bucket_of(t, p->hash);
	f->next = t->buckets[b];
	t->buckets[b] = idx_of(t, f);
	lru_append(t, f);

	t->st.created++;
	t->st.active++;
	switch (p->proto) {
	case 6: t->st.tcp++; break;
	case 17: t->st.udp++; break;
	case 1: t->st.icmpv4++; break;
	case 58: t->st.icmpv6++; break;
	default: t->st.other++; break;
	}
	return f;
}

static inline void tcp_set_state(struct nj_flow *f, unsigned s)
{
	f->tcp_state = (uint8_t)s;
	switch (s) {
	case NJ_TCP_ESTABLISHED:
	case NJ_TCP_FIN_WAIT1:
	case NJ_TCP_FIN_WAIT2:
	case NJ_TCP_CLOSING:
	case NJ_TCP_CLOSE_WAIT: f->state = NJ_FLOW_STATE_ESTABLISHED; break;
	case NJ_TCP_LAST_ACK:
	case NJ_TCP_TIME_WAIT:
	case NJ_TCP_CLOSED: f->state = NJ_FLOW_STATE_CLOSED; break;
	default: break;
	}
}

/* No session yet: a SYN starts one; anything else only on midstream pick-up. */
static void tcp_state_none(struct nj_flow_table *t, struct nj_flow *f, const struct nj_pkt *p,
			   unsigned d)
{
	uint8_t fl = p->tcp_flags;
	uint32_t seq = p->tcp_seq, ack = p->tcp_ack;

	if ((fl & (TH_SYN | TH_ACK)) == TH_SYN && !(fl & TH_RST)) {
		tcp_set_state(f, NJ_TCP_SYN_SENT);
		f->tcp_isn[d] = seq;
		f->tcp_next_seq[d] = seq + 1;
		t->st.tcp_sessions++;
		return;
	}
	if (!t->midstream || (fl & TH_RST) || !(fl & TH_ACK)) {
		if (!t->midstream && !(f->tcp_ssn_flags & SSN_MIDSTREAM_COUNTED)) {
			f->tcp_ssn_flags |= SSN_MIDSTREAM_COUNTED;
			t->st.tcp_midstream_ignored++;
		}
		return;
	}
	f->tcp_ssn_flags |= SSN_MIDSTREAM;
	t->st.midstream_pickups++;
	t->st.tcp_sessions++;
	f->tcp_next_seq[!d] = ack;
	if (fl & TH_SYN) {
		f->tcp_ssn_flags |= SSN_MIDSTREAM_SYNACK;
		f->tcp_isn[d] = seq;
		f->tcp_next_seq[d] = seq + 1;
		tcp_set_state(f, NJ_TCP_SYN_RECV);
	} else if (fl & TH_FIN) {
		f->tcp_next_seq[d] = seq + p->payload_len;
		f->tcp_fin_seen |= 1u << d;
		f->tcp_fin_seq[d] = seq + p->payload_len;
		tcp_set_state(f, NJ_TCP_FIN_WAIT1);
	} else {
		f->tcp_next_seq[d] = seq + p->payload_len;
		tcp_set_state(f, NJ_TCP_ESTABLISHED);
	}
}

/*
 * The TCP state machine, after Suricata's stream engine (the state names and
 * transitions, including its naming of the closing states after which side
 * sent the first FIN), without its window and timestamp validation. d is the
 * sending side: 0 client, 1 server.
 */
static void tcp_update(struct nj_flow_table *t, struct nj_flow *f, const struct nj_pkt *p,
		       unsigned d)
{
	uint8_t fl = p->tcp_flags;
	uint32_t seq = p->tcp_seq, ack = p->tcp_ack, end = seq + p->payload_len;
	unsigned o = !d;
	bool fin_retrans = false, in_order;

	if ((fl & (TH_SYN | TH_ACK)) == (TH_SYN | TH_ACK))
		t->st.tcp_synack++;
	else if (fl & TH_SYN)
		t->st.tcp_syn++;
	if (fl & TH_RST)
		t->st.tcp_rst++;

	if (f->tcp_state == NJ_TCP_NONE) {
		tcp_state_none(t, f, p, d);
		return;
	}
	if (fl & TH_FIN) {
		if (f->tcp_fin_seen & (1u << d)) {
			fin_retrans = f->tcp_fin_seq[d] == end;
		} else {
			f->tcp_fin_seen |= 1u << d;
			f->tcp_fin_seq[d] = end;
		}
	}
	/* the FIN itself does not move next_seq, hence the +1 allowance */
	in_order = seq == f->tcp_next_seq[d] || seq == f->tcp_next_seq[d] + 1;

	if (fl & TH_RST) {
		tcp_set_state(f, NJ_TCP_CLOSED);
		return;
	}

	switch (f->tcp_state) {
	case NJ_TCP_SYN_SENT:
		if (d == 1 && (fl & TH_SYN)) {
			/* SYN/ACK, or a SYN back: simultaneous open */
			if (!(fl & TH_ACK))
				f->tcp_ssn_flags |= SSN_4WHS;
			f->tcp_isn[1] = seq;
			f->tcp_next_seq[1] = seq + 1;
			tcp_set_state(f, NJ_TCP_SYN_RECV);
		} else if (d == 0 && (fl & (TH_SYN | TH_ACK)) == TH_SYN) {
			f->tcp_isn[0] = seq;
			f->tcp_next_seq[0] = seq + 1;
		}
		return;
	case NJ_TCP_SYN_RECV:
		if (fl & TH_FIN) {
			tcp_set_state(f, d == 0 ? NJ_TCP_CLOSE_WAIT : NJ_TCP_FIN_WAIT1);
		} else if ((fl & (TH_SYN | TH_ACK)) == TH_ACK &&
			   (d == 0 || (f->tcp_ssn_flags & (SSN_MIDSTREAM_SYNACK | SSN_4WHS))) &&
			   ack == f->tcp_next_seq[o] && SEQ_GEQ(seq, f->tcp_next_seq[d])) {
			tcp_set_state(f, NJ_TCP_ESTABLISHED);
		} else {
			/* rejected, as Suricata does: learn nothing from it */
			return;
		}
		break;
	case NJ_TCP_ESTABLISHED:
		if (fl & TH_FIN) {
			tcp_set_state(f, d == 0 ? NJ_TCP_CLOSE_WAIT : NJ_TCP_FIN_WAIT1);
		} else if ((fl & (TH_SYN | TH_ACK)) == (TH_SYN | TH_ACK)) {
			/* the server did not get the final ACK of the handshake */
			if (d == 1 && !(f->tcp_ssn_flags & SSN_3WHS_CONFIRMED) &&
			    seq == f->tcp_isn[1])
				tcp_set_state(f, NJ_TCP_SYN_RECV);
			return;
		} else if ((fl & TH_ACK) && d == 1) {
			f->tcp_ssn_flags |= SSN_3WHS_CONFIRMED;
		}
		break;
	case NJ_TCP_FIN_WAIT1:
		if ((fl & (TH_FIN | TH_ACK)) == (TH_FIN | TH_ACK)) {
			if (!fin_retrans)
				tcp_set_state(f, NJ_TCP_TIME_WAIT);
		} else if (fl & TH_FIN) {
			tcp_set_state(f, NJ_TCP_CLOSING);
		} else if ((fl & (TH_SYN | TH_ACK)) == TH_ACK && seq == f->tcp_next_seq[d]) {
			tcp_set_state(f, NJ_TCP_FIN_WAIT2);
		}
		break;
	case NJ_TCP_FIN_WAIT2:
		if ((fl & TH_FIN) && !fin_retrans)
			tcp_set_state(f, NJ_TCP_TIME_WAIT);
		break;
	case NJ_TCP_CLOSING:
		if ((fl & (TH_SYN | TH_FIN | TH_ACK)) == TH_ACK && in_order)
			tcp_set_state(f, NJ_TCP_TIME_WAIT);
		break;
	case NJ_TCP_CLOSE_WAIT:
		if ((fl & TH_FIN) && d == 1 && !fin_retrans)
			tcp_set_state(f, NJ_TCP_LAST_ACK);
		break;
	case NJ_TCP_LAST_ACK:
		if ((fl & (TH_SYN | TH_FIN | TH_ACK)) == TH_ACK && d == 0 && in_order)
			tcp_set_state(f, NJ_TCP_CLOSED);
		break;
	case NJ_TCP_TIME_WAIT:
		if ((fl & (TH_SYN | TH_FIN | TH_ACK)) == TH_ACK && in_order)
			tcp_set_state(f, NJ_TCP_CLOSED);
		break;
	default: break;
	}

	if (SEQ_GT(end, f->tcp_next_seq[d]))
		f->tcp_next_seq[d] = end;
	if ((fl & TH_ACK) && SEQ_LT(f->tcp_next_seq[o], ack))
		f->tcp_next_seq[o] = ack;
}

/* A new SYN on a tuple whose connection is shutting down is a new connection. */
static inline bool tcp_is_reuse(const struct nj_flow *f, const struct nj_pkt *p, unsigned d)
{
	if ((p->tcp_flags & (TH_SYN | TH_ACK | TH_RST)) != TH_SYN)
		return false;
	if (f->tcp_state < NJ_TCP_FIN_WAIT1)
		return false;
	return d == 1 || p->tcp_seq != f->tcp_isn[0];
}

static inline void flow_update(struct nj_flow_table *t, struct nj_flow *f, struct nj_pkt *p,
			       unsigned sender)
{
	unsigned d = sender != f->client; /* 0: to server */

	p->flow = f;
	p->flags |= d ? NJ_PKT_TOCLIENT : NJ_PKT_TOSERVER;
	if (p->ts_us > f->last_us)
		f->last_us = p->ts_us;
	f->burst_gen = t->gen;
	if (d) {
		f->pkts_tc++;
		f->bytes_tc += p->len;
	} else {
		f->pkts_ts++;
		f->bytes_ts += p->len;
	}

	if (f->proto == 6) {
		if (f->tcp_state >= NJ_TCP_ESTABLISHED)
			p->flags |= NJ_PKT_ESTABLISHED;
		if (p->flags & NJ_PKT_HAS_L4) {
			if (d)
				f->tcp_flags_tc |= p->tcp_flags;
			else
				f->tcp_flags_ts |= p->tcp_flags;
			tcp_update(t, f, p, d);
			p->tcp_size[0] = f->tcp_next_seq[0] - f->tcp_isn[0];
			p->tcp_size[1] = f->tcp_next_seq[1] - f->tcp_isn[1];
			p->flags |= NJ_PKT_TCP_SIZES;
		}
	} else {
		if ((f->proto == 1 || f->proto == 58) && !f->icmp_seen[d]) {
			f->icmp_seen[d] = 1;
			f->icmp_type[d] = p->icmp_type;
			f->icmp_code[d] = p->icmp_code;
		}
		if (f->state == NJ_FLOW_STATE_NEW && f->pkts_ts && f->pkts_tc)
			f->state = NJ_FLOW_STATE_ESTABLISHED;
		if (f->pkts_ts && f->pkts_tc)
			p->flags |= NJ_PKT_ESTABLISHED;
	}

	/* move to the tail of its (possibly new) timeout list */
	if (f->lru_list != list_of(f) || t->lru[f->lru_list].tail != idx_of(t, f)) {
		lru_unlink(t, f);
		lru_append(t, f);
	}
}

static inline bool pkt_trackable(const struct nj_pkt *p)
{
	return !(p->flags & (NJ_PKT_INVALID | NJ_PKT_FRAGMENT)) &&
	       (p->flags & (NJ_PKT_IPV4 | NJ_PKT_IPV6));
}

static void flow_handle(struct nj_flow_table *t, struct nj_pkt *p)
{
	struct flow_key k;
	unsigned sender = key_build(p, &k, t->vlan_tracking);
	uint32_t i = t->buckets[bucket_of(t, p->hash)];
	struct nj_flow *f = NULL;

	while (i != NIL) {
		struct nj_flow *c = &t->pool[i];

		if (c->hash == p->hash && key_eq(c, &k)) {
			f = c;
			break;
		}
		i = c->next;
	}

	if (f) {
		if (unlikely(p->ts_us >= f->last_us + flow_timeout(t, f))) {
			t->st.timed_out_pkt++;
			flow_end(t, f, NJ_FLOW_END_TIMEOUT);
			f = NULL;
		} else if (unlikely(f->proto == 6 && (p->flags & NJ_PKT_HAS_L4) &&
				    tcp_is_reuse(f, p, sender != f->client))) {
			t->st.tcp_reuse++;
			flow_end(t, f, NJ_FLOW_END_TIMEOUT);
			f = NULL;
		}
	}
	if (!f) {
		f = flow_create(t, &k, p, sender);
		if (unlikely(!f)) {
			/* every flow is held by a packet of this burst */
			t->st.not_tracked++;
			return;
		}
	}
	flow_update(t, f, p, sender);
}

void nj_flow_burst(struct nj_flow_table *t, struct nj_pkt *pkts, uint16_t n)
{
	uint32_t bidx[NJ_BURST];

	t->gen++;
	release_deferred(t);
	t->in_burst = true;
	for (uint16_t base = 0; base < n; base += NJ_BURST) {
		unsigned m = n - base < NJ_BURST ? n - base : NJ_BURST;
		struct nj_pkt *b = pkts + base;

		for (unsigned i = 0; i < m; i++) {
			b[i].flow = NULL;
			b[i].flags &= ~(NJ_PKT_TOSERVER | NJ_PKT_TOCLIENT | NJ_PKT_ESTABLISHED);
			if (unlikely(!pkt_trackable(&b[i]))) {
				bidx[i] = NIL;
				continue;
			}
			bidx[i] = bucket_of(t, b[i].hash);
			if (t->prefetch)
				__builtin_prefetch(&t->buckets[bidx[i]]);
		}
		if (t->prefetch) {
			/* the bucket lines are on their way: now fetch the chain heads */
			for (unsigned i = 0; i < m; i++) {
				uint32_t h;

				if (bidx[i] == NIL)
					continue;
				h = t->buckets[bidx[i]];
				if (h != NIL) {
					const char *fl = (const char *)&t->pool[h];

					/* key and links, counters, TCP tracking */
					__builtin_prefetch(fl);
					__builtin_prefetch(fl + 64, 1);
					__builtin_prefetch(fl + 128, 1);
				}
			}
		}
		for (unsigned i = 0; i < m; i++) {
			if (bidx[i] == NIL) {
				t->st.not_tracked++;
				continue;
			}
			flow_handle(t, &b[i]);
		}
	}
	t->in_burst = false;
}

const char *nj_flow_state_name(enum nj_flow_state s)
{
	static const char *const names[] = {"new", "established", "closed"};

	return (unsigned)s < NJ_ARRAY_SIZE(names) ? names[s] : "unknown";
}

const char *nj_flow_reason_name(enum nj_flow_end_reason r)
{
	static const char *const names[] = {"timeout", "forced", "shutdown"};

	return (unsigned)r < NJ_ARRAY_SIZE(names) ? names[r] : "unknown";
}

static const char *const tcp_state_names[NJ_TCP_STATE_MAX] = {
	"none",	     "syn_sent", "syn_recv",   "established", "fin_wait1", "fin_wait2",
	"time_wait", "last_ack", "close_wait", "closing",     "closed",
};

static uint8_t swap_bits01(uint8_t v)
{
	return (uint8_t)((v & ~3u) | ((v & 1u) << 1) | ((v >> 1) & 1u));
}

void nj_flow_swap(struct nj_flow *f)
{
	f->client ^= 1;
	NJ_SWAP(f->pkts_ts, f->pkts_tc);
	NJ_SWAP(f->max_regions[0], f->max_regions[1]);
	NJ_SWAP(f->bytes_ts, f->bytes_tc);
	NJ_SWAP(f->tcp_flags_ts, f->tcp_flags_tc);
	NJ_SWAP(f->icmp_type[0], f->icmp_type[1]);
	NJ_SWAP(f->icmp_code[0], f->icmp_code[1]);
	NJ_SWAP(f->icmp_seen[0], f->icmp_seen[1]);
	NJ_SWAP(f->tcp_isn[0], f->tcp_isn[1]);
	NJ_SWAP(f->tcp_next_seq[0], f->tcp_next_seq[1]);
	NJ_SWAP(f->tcp_fin_seq[0], f->tcp_fin_seq[1]);
	f->tcp_fin_seen = swap_bits01(f->tcp_fin_seen);
	for (int i = 0; i < 6; i++)
		NJ_SWAP(f->mac[0][i], f->mac[1][i]);
	f->mac_seen = swap_bits01(f->mac_seen);
}

bool nj_flow_tcp_midstream(const struct nj_flow *f)
{
	return (f->tcp_ssn_flags & SSN_MIDSTREAM) != 0;
}

bool nj_flow_pkt_swap(struct nj_pkt *p)
{
	if (!(p->flags & (NJ_PKT_TOSERVER | NJ_PKT_TOCLIENT)))
		return false;
	p->flags ^= NJ_PKT_TOSERVER | NJ_PKT_TOCLIENT;
	return true;
}

const char *nj_tcp_state_name(enum nj_tcp_state s)
{
	return (unsigned)s < NJ_TCP_STATE_MAX ? tcp_state_names[s] : "unknown";
}

void nj_flow_stats_foreach(const struct nj_flow_stats *s,
			   void (*fn)(void *arg, const char *name, uint64_t v), void *arg)
{
	static const char *const end_state[NJ_FLOW_STATE_MAX] = {
		"flow.end.state.new",
		"flow.end.state.established",
		"flow.end.state.closed",
	};
	static const char *const end_tcp[NJ_TCP_STATE_MAX] = {
		"flow.end.tcp_state.none",	 "flow.end.tcp_state.syn_sent",
		"flow.end.tcp_state.syn_recv",	 "flow.end.tcp_state.established",
		"flow.end.tcp_state.fin_wait1",	 "flow.end.tcp_state.fin_wait2",
		"flow.end.tcp_state.time_wait",	 "flow.end.tcp_state.last_ack",
		"flow.end.tcp_state.close_wait", "flow.end.tcp_state.closing",
		"flow.end.tcp_state.closed",
	};

	fn(arg, "flow.total", s->created);
	fn(arg, "flow.active", s->active);
	fn(arg, "flow.tcp", s->tcp);
	fn(arg, "flow.udp", s->udp);
	fn(arg, "flow.icmpv4", s->icmpv4);
	fn(arg, "flow.icmpv6", s->icmpv6);
	fn(arg, "flow.tcp_reuse", s->tcp_reuse);
	fn(arg, "flow.memcap", s->memcap_hits);
	fn(arg, "flow.spare", s->spare);
	fn(arg, "flow.emerg_mode_entered", s->emergency_entered);
	fn(arg, "flow.emerg_mode_over", s->emergency_over);
	/* Suricata: flows taken from the hash while in use when the spare pool is empty */
	fn(arg, "flow.get_used", s->evicted);
	fn(arg, "flow.mgr.flows_timeout", s->timed_out);
	fn(arg, "flow.mgr.flows_evicted", s->timed_out);
	fn(arg, "flow.wrk.flows_evicted", s->timed_out_pkt);
	for (unsigned i = 0; i < NJ_FLOW_STATE_MAX; i++)
		fn(arg, end_state[i], s->end_state[i]);
	for (unsigned i = 0; i < NJ_TCP_STATE_MAX; i++)
		fn(arg, end_tcp[i], s->end_tcp_state[i]);
	fn(arg, "flow.memuse", s->memuse);
	fn(arg, "tcp.sessions", s->tcp_sessions);
	fn(arg, "tcp.midstream_pickups", s->midstream_pickups);
	fn(arg, "tcp.syn", s->tcp_syn);
	fn(arg, "tcp.synack", s->tcp_synack);
	fn(arg, "tcp.rst", s->tcp_rst);
}
