/* SPDX-License-Identifier: MIT */
/*
 * IPv4 and IPv6 defragmentation, one context per worker core.
 *
 * Everything is carved out at create time from the memcap: a tracker table
 * (hash chains + an LRU list), a pool of fragment records and a pool of
 * fixed-size data blocks that hold each fragment's bytes. A fragment that
 * does not fit is counted and dropped, never allocated for.
 *
 * Overlaps are resolved with the "bsd" policy, Suricata's default: for every
 * byte the fragment with the lowest offset wins, and between equal offsets
 * the one that arrived first. Reassembly writes fragments from the lowest to
 * the highest priority, so the winners simply overwrite the losers.
 *
 * A completed tracker stays in the table as "done" until it times out, so
 * that late copies of its fragments are recognised (frag_ignored) instead of
 * starting a new datagram.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "defrag.h"

#define NIL		       UINT32_MAX
#define NJ_DEFRAG_BLOCK	       512 /* data block size */
#define NJ_DEFRAG_MAX_FRAGS    256 /* per datagram; legit senders use far fewer */
#define NJ_DEFRAG_MIN_DATAGRAM 1280
#define NJ_DEFRAG_MAX_DATAGRAM (65535 + 40)

enum { TRK_FREE = 0, TRK_ACTIVE, TRK_DONE };

struct nj_defrag_frag {
	uint32_t next;	   /* tracker list (by offset, then arrival) or free list */
	uint32_t block;	   /* first data block, NIL if no bytes */
	uint32_t off, len; /* payload offset and length */
	uint32_t hdr_len;  /* header bytes stored before the payload (offset 0 only) */
	uint32_t nh_off;
	uint8_t proto;
};

/* Compared and copied as a whole: no padding, unused address bytes zero. */
struct nj_defrag_key {
	uint8_t src[16], dst[16];
	uint32_t id;
	uint16_t vlan[3];
	uint8_t v6, proto;
};

_Static_assert(sizeof(struct nj_defrag_key) == 44, "nj_defrag_key has padding");

struct nj_defrag_tracker {
	struct nj_defrag_key key;
	uint8_t state, have_last;
	uint16_t nfrags;
	uint32_t total; /* payload length, known once the last fragment is in */
	uint32_t frags;
	uint32_t hnext, bucket;
	uint32_t lprev, lnext;
	uint32_t nblocks;
	uint64_t last_us;
};

struct nj_defrag {
	struct nj_decode_stats *st;
	struct nj_defrag_tracker *trk;
	uint32_t *buckets;
	uint32_t nbuckets_mask;
	uint32_t ntrk, trk_free;
	uint32_t lru_head, lru_tail;

	struct nj_defrag_frag *frags;
	uint32_t nfrags, frag_free;

	uint8_t *blocks;
	uint32_t *block_next;
	uint32_t nblocks, block_free, blocks_avail;

	uint64_t timeout_us;
	uint32_t max_datagram;

	uint8_t *ring; /* NJ_BURST reassembly buffers of max_datagram bytes */
	uint32_t ring_next;
};

/* ------------------------------------------------------------ pools */

static uint32_t blocks_alloc(struct nj_defrag *d, uint32_t n)
{
	uint32_t head = NIL, *link = &head;

	if (n > d->blocks_avail)
		return NIL;
	d->blocks_avail -= n;
	while (n--) {
		uint32_t b = d->block_free;

		d->block_free = d->block_next[b];
		*link = b;
		link = &d->block_next[b];
	}
	*link = NIL;
	return head;
}

static void blocks_free(struct nj_defrag *d, uint32_t b)
{
	while (b != NIL) {
		uint32_t next = d->block_next[b];

		d->block_next[b] = d->block_free;
		d->block_free = b;
		d->blocks_avail++;
		b = next;
	}
}

/* Copy len bytes into a block chain starting at byte pos of the chain. */
static uint32_t chain_write(struct nj_defrag *d, uint32_t b, uint32_t pos, const uint8_t *src,
			    uint32_t len)
{
	while (len) {
		uint32_t n = NJ_DEFRAG_BLOCK - pos;

		if (n > len)
			n = len;
		memcpy(d->blocks + (size_t)b * NJ_DEFRAG_BLOCK + pos, src, n);
		src += n;
		len -= n;
		pos += n;
		if (pos == NJ_DEFRAG_BLOCK) {
			pos = 0;
			b = d->block_next[b];
		}
	}
	return pos;
}

/* Copy len bytes out of a chain, starting skip bytes into it. */
static void chain_read(const struct nj_defrag *d, uint32_t b, uint32_t skip, uint8_t *dst,
		       uint32_t len)
{
	while (skip >= NJ_DEFRAG_BLOCK) {
		b = d->block_next[b];
		skip -= NJ_DEFRAG_BLOCK;
	}
	while (len) {
		uint32_t n = NJ_DEFRAG_BLOCK - skip;

		if (n > len)
			n = len;
		memcpy(dst, d->blocks + (size_t)b * NJ_DEFRAG_BLOCK + skip, n);
		dst += n;
		len -= n;
		skip = 0;
		b = d->block_next[b];
	}
}

/* ------------------------------------------------------------ trackers */

static void lru_unlink(struct nj_defrag *d, uint32_t i)
{
	struct nj_defrag_tracker *t = &d->trk[i];

	if (t->lprev != NIL)
		d->trk[t->lprev].lnext = t->lnext;
	else
		d->lru_head = t->lnext;
	if (t->lnext != NIL)
		d->trk[t->lnext].lprev = t->lprev;
	else
		d->lru_tail = t->lprev;
	t->lprev = t->lnext = NIL;
}

static void lru_append(struct nj_defrag *d, uint32_t i)
{
	struct nj_defrag_tracker *t = &d->trk[i];

	t->lnext = NIL;
	t->lprev = d->lru_tail;
	if (d->lru_tail != NIL)
		d->trk[d->lru_tail].lnext = i;
	else
		d->lru_head = i;
	d->lru_tail = i;
}

/* Give back a tracker's fragments and blocks; the tracker itself stays. */
static void tracker_clear(struct nj_defrag *d, struct nj_defrag_tracker *t)
{
	uint32_t f = t->frags;

	while (f != NIL) {
		struct nj_defrag_frag *fr = &d->frags[f];
		uint32_t next = fr->next;

		blocks_free(d, fr->block);
		fr->next = d->frag_free;
		d->frag_free = f;
		f = next;
	}
	d->st->frag_memuse -= (uint64_t)t->nblocks * NJ_DEFRAG_BLOCK;
	t->nblocks = 0;
	t->frags = NIL;
	t->nfrags = 0;
}

static void tracker_release(struct nj_defrag *d, uint32_t i)
{
	struct nj_defrag_tracker *t = &d->trk[i];
	uint32_t *link = &d->buckets[t->bucket];

	tracker_clear(d, t);
	while (*link != i)
		link = &d->trk[*link].hnext;
	*link = t->hnext;
	lru_unlink(d, i);
	t->state = TRK_FREE;
	t->hnext = d->trk_free;
	d->trk_free = i;
}

static void count_timeout(struct nj_defrag *d, const struct nj_defrag_tracker *t)
{
	if (t->state != TRK_ACTIVE)
		return;
	if (t->key.v6)
		d->st->frag_ipv6_timeouts++;
	else
		d->st->frag_ipv4_timeouts++;
	d->st->frag_timeouts++;
}

static uint32_t key_hash(const struct nj_defrag_key *k)
{
	uint64_t h = 0x9e3779b97f4a7c15ull, w[6] = {0};

	memcpy(w, k, sizeof(*k));
	for (unsigned i = 0; i < 6; i++) {
		h ^= w[i];
		h *= 0xbf58476d1ce4e5b9ull;
		h ^= h >> 31;
	}
	return (uint32_t)(h ^ (h >> 32));
}

static uint32_t tracker_get(struct nj_defrag *d, const struct nj_pkt *p,
			    const struct nj_defrag_frag_info *fi)
{
	unsigned alen = fi->v6 ? 16 : 4;
	const uint8_t *src = fi->l3 + (fi->v6 ? 8 : 12);
	struct nj_defrag_key k;
	struct nj_defrag_tracker *t;
	uint32_t b, i;

	memset(&k, 0, sizeof(k));
	memcpy(k.src, src, alen);
	memcpy(k.dst, src + alen, alen);
	memcpy(k.vlan, p->vlan, sizeof(k.vlan));
	k.id = fi->id;
	k.v6 = fi->v6;
	k.proto = fi->v6 ? 0 : fi->proto; /* RFC 8200: fragments may disagree on it */
	b = key_hash(&k) & d->nbuckets_mask;

	for (i = d->buckets[b]; i != NIL; i = d->trk[i].hnext)
		if (!memcmp(&d->trk[i].key, &k, sizeof(k)))
			return i;

	i = d->trk_free;
	if (i == NIL) {
		/* reuse the least recently used tracker only if it is finished or stale */
		i = d->lru_head;
		t = &d->trk[i];
		if (t->state == TRK_DONE || t->last_us + d->timeout_us < p->ts_us) {
			count_timeout(d, t);
			d->st->frag_tracker_soft_reuse++;
			tracker_release(d, i);
			i = d->trk_free;
		} else {
			d->st->frag_max_trackers++;
			return NIL;
		}
	}
	if (unlikely(i >= d->ntrk))
		return NIL; /* cannot happen: a release always frees one */
	t = &d->trk[i];
	d->trk_free = t->hnext;
	t->key = k;
	t->state = TRK_ACTIVE;
	t->have_last = 0;
	t->total = 0;
	t->frags = NIL;
	t->nfrags = 0;
	t->nblocks = 0;
	t->last_us = p->ts_us;
	t->bucket = b;
	t->hnext = d->buckets[b];
	d->buckets[b] = i;
	lru_append(d, i);
	return i;
}

/* ------------------------------------------------------------ reassembly */

/* Does the sorted list cover [0, total) starting with a header-bearing fragment? */
static bool tracker_complete(const struct nj_defrag *d, const struct nj_defrag_tracker *t)
{
	uint32_t covered = 0;

	if (!t->have_last || t->frags == NIL || d->frags[t->frags].off != 0)
		return false;
	for (uint32_t f = t->frags; f != NIL; f = d->frags[f].next) {
		const struct nj_defrag_frag *fr = &d->frags[f];

		if (fr->off > covered)
			return false;
		if (fr->off + fr->len > covered)
			covered = fr->off + fr->len;
		if (covered >= t->total)
			return true;
	}
	return covered >= t->total;
}

static uint32_t tracker_build(struct nj_defrag *d, struct nj_defrag_tracker *t, uint8_t **out)
{
	uint32_t order[NJ_DEFRAG_MAX_FRAGS], n = 0, hdr_len, len;
	const struct nj_defrag_frag *first = &d->frags[t->frags];
	uint8_t *buf;

	hdr_len = first->hdr_len;
	len = hdr_len + t->total;
	if (len > d->max_datagram)
		return 0;
	/* callers that skip burst_begin wrap around rather than overrun */
	buf = d->ring +
	      (size_t)(d->ring_next++ % NJ_BURST) * (NJ_DEFRAG_HEADROOM + d->max_datagram) +
	      NJ_DEFRAG_HEADROOM;

	chain_read(d, first->block, 0, buf, hdr_len);
	for (uint32_t f = t->frags; f != NIL; f = d->frags[f].next)
		order[n++] = f;
	while (n--) {
		const struct nj_defrag_frag *fr = &d->frags[order[n]];
		uint32_t l = fr->len;

		if (fr->off >= t->total)
			continue;
		if (fr->off + l > t->total)
			l = t->total - fr->off;
		chain_read(d, fr->block, fr->hdr_len, buf + hdr_len + fr->off, l);
	}

	if (t->key.v6) {
		uint32_t plen = len - 40;

		buf[4] = (uint8_t)(plen >> 8);
		buf[5] = (uint8_t)plen;
		buf[first->nh_off] = first->proto;
	} else {
		uint16_t sum;

		buf[2] = (uint8_t)(len >> 8);
		buf[3] = (uint8_t)len;
		buf[6] &= 0x40; /* keep DF, clear MF and the offset */
		buf[7] = 0;
		buf[10] = buf[11] = 0;
		sum = (uint16_t)~nj_csum_fold(nj_csum_add(0, buf, hdr_len));
		memcpy(buf + 10, &sum, 2);
	}
	*out = buf;
	return len;
}

uint32_t nj_defrag_add(struct nj_defrag *d, struct nj_pkt *p, const struct nj_defrag_frag_info *fi,
		       const uint8_t **out)
{
	enum nj_decode_event ev_overlap =
		fi->v6 ? NJ_DEV_IPV6_FRAG_OVERLAP : NJ_DEV_IPV4_FRAG_OVERLAP;
	enum nj_decode_event ev_large =
		fi->v6 ? NJ_DEV_IPV6_FRAG_PKT_TOO_LARGE : NJ_DEV_IPV4_FRAG_PKT_TOO_LARGE;
	uint32_t end = fi->off + fi->data_len, ti, fi_idx, blob, nb, *link, pos;
	uint32_t hdr = fi->off == 0 ? fi->hdr_len : 0;
	struct nj_defrag_tracker *t;
	struct nj_defrag_frag *fr;
	bool overlap = false;
	uint8_t *buf;

	/* the datagram's own length field must be able to describe it */
	if ((fi->v6 ? end + fi->hdr_len - 40 : end + fi->hdr_len) > 65535 ||
	    end + fi->hdr_len > d->max_datagram) {
		nj_decode_event(d->st, p, ev_large);
		return 0;
	}
	ti = tracker_get(d, p, fi);
	if (ti == NIL)
		return 0;
	t = &d->trk[ti];
	if (t->state == TRK_DONE) {
		nj_decode_event(d->st, p,
				fi->v6 ? NJ_DEV_IPV6_FRAG_IGNORED : NJ_DEV_IPV4_FRAG_IGNORED);
		return 0;
	}
	t->last_us = p->ts_us;
	lru_unlink(d, ti);
	lru_append(d, ti);

	if (!fi->more) {
		if (!t->have_last) {
			t->have_last = 1;
			t->total = end;
		} else if (t->total != end) {
			/* two different ends: the first one stands */
			overlap = true;
		}
	}
	link = &t->frags;
	for (uint32_t f = t->frags; f != NIL; f = d->frags[f].next) {
		const struct nj_defrag_frag *o = &d->frags[f];

		if (o->off < end && fi->off < o->off + o->len)
			overlap = true;
		if (o->off <= fi->off)
			link = &d->frags[f].next;
	}
	if (overlap)
		nj_decode_event(d->st, p, ev_overlap);

	if (t->nfrags >= NJ_DEFRAG_MAX_FRAGS || d->frag_free == NIL) {
		d->st->frag_memcap++;
		return 0;
	}
	blob = hdr + fi->data_len;
	nb = (blob + NJ_DEFRAG_BLOCK - 1) / NJ_DEFRAG_BLOCK;
	fi_idx = d->frag_free;
	fr = &d->frags[fi_idx];
	fr->block = NIL;
	if (nb) {
		fr->block = blocks_alloc(d, nb);
		if (fr->block == NIL) {
			d->st->frag_memcap++;
			return 0;
		}
	}
	d->frag_free = fr->next;
	fr->off = fi->off;
	fr->len = fi->data_len;
	fr->hdr_len = hdr;
	fr->nh_off = fi->nh_off;
	fr->proto = fi->proto;
	pos = 0;
	if (hdr)
		pos = chain_write(d, fr->block, 0, fi->l3, hdr);
	if (fi->data_len) {
		uint32_t b = fr->block;

		for (uint32_t skip = hdr / NJ_DEFRAG_BLOCK; skip; skip--)
			b = d->block_next[b];
		chain_write(d, b, pos, fi->data, fi->data_len);
	}
	fr->next = *link;
	*link = fi_idx;
	t->nfrags++;
	t->nblocks += nb;
	d->st->frag_memuse += (uint64_t)nb * NJ_DEFRAG_BLOCK;

	if (!tracker_complete(d, t))
		return 0;
	blob = tracker_build(d, t, &buf);
	if (!blob) {
		nj_decode_event(d->st, p, ev_large);
		tracker_release(d, ti);
		return 0;
	}
	if (t->key.v6)
		d->st->frag_ipv6_reassembled++;
	else
		d->st->frag_ipv4_reassembled++;
	tracker_clear(d, t);
	t->state = TRK_DONE;
	*out = buf;
	return blob;
}

void nj_defrag_expire(struct nj_defrag *d, uint64_t now_us)
{
	while (d->lru_head != NIL) {
		uint32_t i = d->lru_head;
		struct nj_defrag_tracker *t = &d->trk[i];

		if (t->last_us + d->timeout_us >= now_us)
			break;
		count_timeout(d, t);
		tracker_release(d, i);
	}
}

void nj_defrag_burst_begin(struct nj_defrag *d)
{
	d->ring_next = 0;
}

/* ------------------------------------------------------------ create */

struct nj_defrag *nj_defrag_create(const struct nj_decode_config *cfg, struct nj_decode_stats *st)
{
	uint64_t memcap = cfg->defrag_memcap, trk_bytes, per_block;
	uint32_t ntrk, nblocks, nb;
	struct nj_defrag *d;

	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->st = st;
	d->timeout_us = (uint64_t)(cfg->defrag_timeout_s ? cfg->defrag_timeout_s : 60) * 1000000;
	d->max_datagram = cfg->max_datagram;
	if (d->max_datagram < NJ_DEFRAG_MIN_DATAGRAM)
		d->max_datagram = NJ_DEFRAG_MIN_DATAGRAM;
	if (d->max_datagram > NJ_DEFRAG_MAX_DATAGRAM)
		d->max_datagram = NJ_DEFRAG_MAX_DATAGRAM;

	/* trackers take at most an eighth of the memcap, the rest holds data */
	ntrk = cfg->defrag_max_trackers ? cfg->defrag_max_trackers : 1;
	if ((uint64_t)ntrk * (sizeof(struct nj_defrag_tracker) + 2 * sizeof(uint32_t)) > memcap / 8)
		ntrk = (uint32_t)(memcap / 8 /
				  (sizeof(struct nj_defrag_tracker) + 2 * sizeof(uint32_t)));
	if (ntrk < 1)
		ntrk = 1;
	for (nb = 1; nb < ntrk * 2; nb <<= 1)
		;
	trk_bytes =
		(uint64_t)ntrk * sizeof(struct nj_defrag_tracker) + (uint64_t)nb * sizeof(uint32_t);
	per_block = NJ_DEFRAG_BLOCK + sizeof(uint32_t) + sizeof(struct nj_defrag_frag);
	nblocks = memcap > trk_bytes ? (uint32_t)((memcap - trk_bytes) / per_block) : 0;
	if (nblocks < 4)
		nblocks = 4;

	d->ntrk = ntrk;
	d->nbuckets_mask = nb - 1;
	d->nblocks = nblocks;
	d->nfrags = nblocks;
	d->trk = calloc(ntrk, sizeof(*d->trk));
	d->buckets = malloc((size_t)nb * sizeof(uint32_t));
	d->frags = calloc(nblocks, sizeof(*d->frags));
	d->blocks = malloc((size_t)nblocks * NJ_DEFRAG_BLOCK);
	d->block_next = malloc((size_t)nblocks * sizeof(uint32_t));
	d->ring = malloc((size_t)NJ_BURST * (NJ_DEFRAG_HEADROOM + d->max_datagram));
	if (!d->trk || !d->buckets || !d->frags || !d->blocks || !d->block_next || !d->ring)
		goto out_free;

	for (uint32_t i = 0; i < nb; i++)
		d->buckets[i] = NIL;
	for (uint32_t i = 0; i < ntrk; i++) {
		d->trk[i].hnext = i + 1 < ntrk ? i + 1 : NIL;
		d->trk[i].lprev = d->trk[i].lnext = NIL;
	}
	d->trk_free = 0;
	d->lru_head = d->lru_tail = NIL;
	for (uint32_t i = 0; i < nblocks; i++) {
		d->frags[i].next = i + 1 < nblocks ? i + 1 : NIL;
		d->block_next[i] = i + 1 < nblocks ? i + 1 : NIL;
	}
	d->frag_free = 0;
	d->block_free = 0;
	d->blocks_avail = nblocks;
	return d;

out_free:
	nj_defrag_destroy(d);
	return NULL;
}

void nj_defrag_destroy(struct nj_defrag *d)
{
	if (!d)
		return;
	free(d->ring);
	free(d->block_next);
	free(d->blocks);
	free(d->frags);
	free(d->buckets);
	free(d->trk);
	free(d);
}
