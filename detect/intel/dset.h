/* SPDX-License-Identifier: MIT */
/*
 * A bounded set of byte strings that every core may query and change at once
 * without locks: Suricata's datasets (dataset:set / isset / unset) live in it.
 *
 * Layout: an open-addressing table of 32-bit slots that point into one
 * arena. An entry is written in the arena first and then published with a
 * compare-and-swap on its slot, so a reader never sees half an entry.
 * Entries are never moved or freed while the set lives: unset clears the
 * entry's live flag and a later set revives it. The arena is filled in
 * order, which gives saved files in insertion order.
 *
 * Memory is fixed at creation (slots and arena from the memcap); an add past
 * it fails with -ENOSPC and is counted. Nothing here allocates after
 * nj_dset_new.
 */
#ifndef NJ_INTEL_DSET_H
#define NJ_INTEL_DSET_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nj_dset {
	_Atomic uint32_t *slots; /* entry offset / 8 + 1, 0 = empty */
	uint32_t mask;
	uint32_t max_entries; /* 3/4 of the slots: keeps probe chains short */
	uint8_t *arena;
	uint64_t arena_size;
	_Atomic uint64_t arena_used;
	_Atomic uint32_t entries; /* published entries, live or not */
	_Atomic uint64_t full;	  /* adds refused for lack of room */
};

/* Room for at least nentries entries of about avg_len bytes within memcap bytes. */
struct nj_dset *nj_dset_new(uint32_t nentries, uint64_t memcap);
void nj_dset_free(struct nj_dset *s);

/* 1 added (or revived), 0 already present, -ENOSPC full. */
int nj_dset_add(struct nj_dset *s, const uint8_t *d, uint32_t len);
/* 1 removed, 0 not present. */
int nj_dset_remove(struct nj_dset *s, const uint8_t *d, uint32_t len);
bool nj_dset_has(const struct nj_dset *s, const uint8_t *d, uint32_t len);

/* Calls fn for each live entry in insertion order; stops when fn returns non-zero. */
int nj_dset_foreach(const struct nj_dset *s, int (*fn)(void *arg, const uint8_t *d, uint32_t len),
		    void *arg);
/* Live entries. */
uint32_t nj_dset_count(const struct nj_dset *s);

/* The hash used by the intel sets too: fast on short keys, seeded. */
static inline uint64_t nj_intel_hash(const void *p, size_t n, uint64_t seed)
{
	const uint8_t *b = p;
	uint64_t h = seed ^ (n * 0x9E3779B97F4A7C15ull);

	while (n >= 8) {
		uint64_t v;

		__builtin_memcpy(&v, b, 8);
		h = (h ^ v) * 0xBF58476D1CE4E5B9ull;
		h ^= h >> 31;
		b += 8;
		n -= 8;
	}
	if (n) {
		uint64_t v = 0;

		__builtin_memcpy(&v, b, n);
		h = (h ^ v ^ ((uint64_t)n << 56)) * 0x94D049BB133111EBull;
	}
	h ^= h >> 29;
	h *= 0xBF58476D1CE4E5B9ull;
	h ^= h >> 32;
	return h;
}

#endif
