/* SPDX-License-Identifier: MIT */
/* Lock-free bounded byte-string set (see dset.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dset.h"

struct dent {
	uint32_t hash;
	uint32_t len;
	_Atomic uint8_t live; /* 1 member, 0 removed / never linked */
	uint8_t pad[7];
	uint8_t data[];
};

#define DENT_SIZE(len) ((sizeof(struct dent) + (len) + 7) & ~(uint64_t)7)

static inline struct dent *dent_at(const struct nj_dset *s, uint32_t slot)
{
	return (struct dent *)(s->arena + (uint64_t)(slot - 1) * 8);
}

struct nj_dset *nj_dset_new(uint32_t nentries, uint64_t memcap)
{
	struct nj_dset *s = calloc(1, sizeof(*s));
	uint64_t nslots = 1024;

	if (!s)
		return NULL;
	if (nentries < 64)
		nentries = 64;
	while (nslots * 3 / 4 < nentries && nslots < (1ull << 31))
		nslots <<= 1;
	s->mask = (uint32_t)(nslots - 1);
	s->max_entries = (uint32_t)(nslots * 3 / 4);
	/* the slots are part of the memcap; at least room for the entries asked */
	s->arena_size = memcap > nslots * 4 ? memcap - nslots * 4 : 0;
	if (s->arena_size < (uint64_t)nentries * 32)
		s->arena_size = (uint64_t)nentries * 32;
	if (s->arena_size > 8ull * UINT32_MAX)
		s->arena_size = 8ull * UINT32_MAX;
	s->slots = calloc(nslots, sizeof(*s->slots));
	/* calloc: pages of the arena are only touched as entries arrive */
	s->arena = calloc(1, s->arena_size);
	if (!s->slots || !s->arena) {
		nj_dset_free(s);
		return NULL;
	}
	return s;
}

void nj_dset_free(struct nj_dset *s)
{
	if (!s)
		return;
	free((void *)s->slots);
	free(s->arena);
	free(s);
}

static inline bool dent_eq(const struct dent *e, uint32_t h, const uint8_t *d, uint32_t len)
{
	return e->hash == h && e->len == len && memcmp(e->data, d, len) == 0;
}

int nj_dset_add(struct nj_dset *s, const uint8_t *d, uint32_t len)
{
	uint32_t h = (uint32_t)nj_intel_hash(d, len, 0x5eed);
	uint32_t i = h & s->mask, mine = 0;

	for (uint32_t probe = 0; probe <= s->mask; probe++, i = (i + 1) & s->mask) {
		uint32_t v = atomic_load_explicit(&s->slots[i], memory_order_acquire);

		if (v == 0) {
			if (!mine) {
				uint64_t sz = DENT_SIZE(len), off;

				if (atomic_load_explicit(&s->entries, memory_order_relaxed) >=
				    s->max_entries)
					goto full;
				off = atomic_fetch_add(&s->arena_used, sz);
				if (off + sz > s->arena_size) {
					atomic_fetch_sub(&s->arena_used, sz);
					goto full;
				}
				struct dent *e = (struct dent *)(s->arena + off);

				e->hash = h;
				e->len = len;
				memcpy(e->data, d, len);
				atomic_store_explicit(&e->live, 1, memory_order_relaxed);
				mine = (uint32_t)(off / 8) + 1;
			}
			if (atomic_compare_exchange_strong(&s->slots[i], &v, mine)) {
				atomic_fetch_add(&s->entries, 1);
				return 1;
			}
			/* another core took the slot: v is its entry, compare below */
		}
		struct dent *e = dent_at(s, v);

		if (dent_eq(e, h, d, len)) {
			uint8_t dead = 0;

			if (mine) /* ours never got linked: skipped by foreach */
				atomic_store(&dent_at(s, mine)->live, 0);
			return atomic_compare_exchange_strong(&e->live, &dead, 1) ? 1 : 0;
		}
	}
full:
	atomic_fetch_add_explicit(&s->full, 1, memory_order_relaxed);
	if (mine)
		atomic_store(&dent_at(s, mine)->live, 0);
	return -ENOSPC;
}

static struct dent *find(const struct nj_dset *s, const uint8_t *d, uint32_t len)
{
	uint32_t h = (uint32_t)nj_intel_hash(d, len, 0x5eed);
	uint32_t i = h & s->mask;

	for (uint32_t probe = 0; probe <= s->mask; probe++, i = (i + 1) & s->mask) {
		uint32_t v = atomic_load_explicit(&s->slots[i], memory_order_acquire);

		if (v == 0)
			return NULL;
		if (dent_eq(dent_at(s, v), h, d, len))
			return dent_at(s, v);
	}
	return NULL;
}

bool nj_dset_has(const struct nj_dset *s, const uint8_t *d, uint32_t len)
{
	const struct dent *e = find(s, d, len);

	return e && atomic_load_explicit(&e->live, memory_order_relaxed) == 1;
}

int nj_dset_remove(struct nj_dset *s, const uint8_t *d, uint32_t len)
{
	struct dent *e = find(s, d, len);
	uint8_t one = 1;

	return e && atomic_compare_exchange_strong(&e->live, &one, 0) ? 1 : 0;
}

int nj_dset_foreach(const struct nj_dset *s, int (*fn)(void *arg, const uint8_t *d, uint32_t len),
		    void *arg)
{
	uint64_t used = atomic_load(&s->arena_used);

	for (uint64_t off = 0; off < used;) {
		const struct dent *e = (const struct dent *)(s->arena + off);
		int r;

		if (e->len == 0 && e->hash == 0 && !e->live)
			break; /* reserved by a core that has not written it yet */
		if (atomic_load(&e->live) == 1 && (r = fn(arg, e->data, e->len)) != 0)
			return r;
		off += DENT_SIZE(e->len);
	}
	return 0;
}

static int count_one(void *arg, const uint8_t *d, uint32_t len)
{
	(void)d;
	(void)len;
	(*(uint32_t *)arg)++;
	return 0;
}

uint32_t nj_dset_count(const struct nj_dset *s)
{
	uint32_t n = 0;

	nj_dset_foreach(s, count_one, &n);
	return n;
}
