/* SPDX-License-Identifier: MIT */
/*
 * The rule set's memory: an arena that holds every signature's data (freed
 * at once with the set), interned strings, resources with their own free
 * function (PCRE2 codes), and the name tables (flowbits, flowint, classes,
 * reference systems, variables).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect_int.h"
#include "rules_priv.h"

/* ------------------------------------------------------------ arena */

#define ARENA_CHUNK (256u * 1024u)

struct arena_chunk {
	struct arena_chunk *next;
	size_t used, size;
	max_align_t data[];
};

void *nj_detect_alloc(struct nj_detect_rules *r, size_t n)
{
	struct nj_detect_priv *pv = r->priv;
	struct arena_chunk *c = pv->arena;

	n = (n + 15) & ~(size_t)15;
	if (!c || c->used + n > c->size) {
		size_t sz = n > ARENA_CHUNK / 4 ? n : ARENA_CHUNK;

		c = malloc(sizeof(*c) + sz);
		if (!c)
			return NULL;
		c->used = 0;
		c->size = sz;
		if (n > ARENA_CHUNK / 4 && pv->arena) {
			/* big block: keep the current chunk for small ones */
			c->next = pv->arena->next;
			pv->arena->next = c;
		} else {
			c->next = pv->arena;
			pv->arena = c;
		}
		pv->mem += sizeof(*c) + sz;
	}
	void *p = (char *)c->data + c->used;

	c->used += n;
	memset(p, 0, n);
	return p;
}

void *nj_detect_memdup(struct nj_detect_rules *r, const void *p, size_t n)
{
	char *d = nj_detect_alloc(r, n + 1);

	if (d && n)
		memcpy(d, p, n);
	return d;
}

char *nj_detect_strdup(struct nj_detect_rules *r, const char *s)
{
	return nj_detect_memdup(r, s, strlen(s));
}

/* ------------------------------------------------------------ string table */

uint32_t nj_detect_hash(const void *p, size_t n)
{
	const uint8_t *s = p;
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ s[i]) * 16777619u;
	return h;
}

/* Open-addressing map from strings to pointers, grown at 50% load. */
void *nj_strmap_get(const struct nj_strmap *m, const char *key)
{
	if (!m->cap)
		return NULL;
	for (uint32_t i = nj_detect_hash(key, strlen(key)) & (m->cap - 1); m->keys[i];
	     i = (i + 1) & (m->cap - 1))
		if (strcmp(m->keys[i], key) == 0)
			return m->vals[i];
	return NULL;
}

int nj_strmap_put(struct nj_strmap *m, const char *key, void *val)
{
	if ((m->n + 1) * 2 > m->cap) {
		uint32_t ncap = m->cap ? m->cap * 2 : 64;
		const char **nk = calloc(ncap, sizeof(*nk));
		void **nv = calloc(ncap, sizeof(*nv));

		if (!nk || !nv) {
			free(nk);
			free(nv);
			return -ENOMEM;
		}
		for (uint32_t i = 0; i < m->cap; i++) {
			if (!m->keys[i])
				continue;
			uint32_t j = nj_detect_hash(m->keys[i], strlen(m->keys[i])) & (ncap - 1);

			while (nk[j])
				j = (j + 1) & (ncap - 1);
			nk[j] = m->keys[i];
			nv[j] = m->vals[i];
		}
		free(m->keys);
		free(m->vals);
		m->keys = nk;
		m->vals = nv;
		m->cap = ncap;
	}
	uint32_t i = nj_detect_hash(key, strlen(key)) & (m->cap - 1);

	while (m->keys[i]) {
		if (strcmp(m->keys[i], key) == 0) {
			m->vals[i] = val;
			return 0;
		}
		i = (i + 1) & (m->cap - 1);
	}
	m->keys[i] = key;
	m->vals[i] = val;
	m->n++;
	return 0;
}

void nj_strmap_free(struct nj_strmap *m)
{
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof(*m));
}

const char *nj_detect_intern(struct nj_detect_rules *r, const char *s)
{
	struct nj_detect_priv *pv = r->priv;
	const char *v = nj_strmap_get(&pv->strings, s);

	if (v)
		return v;
	char *d = nj_detect_strdup(r, s);

	if (!d || nj_strmap_put(&pv->strings, d, d) < 0)
		return NULL;
	return d;
}

/* ------------------------------------------------------------ tracked resources */

int nj_detect_track(struct nj_detect_rules *r, void *p, void (*fn)(void *))
{
	struct nj_detect_priv *pv = r->priv;

	if (pv->ntracked == pv->cap_tracked) {
		unsigned ncap = pv->cap_tracked ? pv->cap_tracked * 2 : 256;
		struct nj_tracked *t = realloc(pv->tracked, ncap * sizeof(*t));

		if (!t) {
			fn(p);
			return -ENOMEM;
		}
		pv->tracked = t;
		pv->cap_tracked = ncap;
	}
	pv->tracked[pv->ntracked].p = p;
	pv->tracked[pv->ntracked].fn = fn;
	pv->ntracked++;
	return 0;
}

/* ------------------------------------------------------------ names */

static uint16_t name_id(struct nj_detect_rules *r, struct nj_strmap *m, char ***arr, uint16_t *n,
			const char *name)
{
	void *v = nj_strmap_get(m, name);

	if (v)
		return (uint16_t)((uintptr_t)v - 1);
	if (*n == UINT16_MAX)
		return 0;
	char **na = realloc(*arr, (*n + 1u) * sizeof(char *));

	if (!na)
		return 0;
	*arr = na;
	na[*n] = nj_detect_strdup(r, name);
	if (!na[*n] || nj_strmap_put(m, na[*n], (void *)(uintptr_t)(*n + 1u)) < 0)
		return 0;
	return (*n)++;
}

uint16_t nj_detect_bitname(struct nj_detect_rules *r, const char *name)
{
	struct nj_detect_priv *pv = r->priv;

	return name_id(r, &pv->bitmap, &r->bitnames, &r->nbitnames, name);
}

uint16_t nj_detect_intname(struct nj_detect_rules *r, const char *name)
{
	struct nj_detect_priv *pv = r->priv;

	return name_id(r, &pv->intmap, &r->intnames, &r->nintnames, name);
}

const struct nj_detect_class *nj_detect_class_find(const struct nj_detect_rules *r,
						   const char *name, uint16_t *idx)
{
	for (uint16_t i = 1; i < r->nclasses; i++) {
		if (strcmp(r->classes[i].name, name) == 0) {
			if (idx)
				*idx = i;
			return &r->classes[i];
		}
	}
	return NULL;
}

const char *nj_detect_refsys_url(const struct nj_detect_rules *r, const char *name)
{
	return nj_strmap_get(&nj_detect_priv(r)->refsys, name);
}

struct nj_detect_priv *nj_detect_priv(const struct nj_detect_rules *r)
{
	return r->priv;
}

/* ------------------------------------------------------------ set */

struct nj_detect_rules *nj_detect_rules_alloc(void)
{
	struct nj_detect_rules *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->priv = calloc(1, sizeof(struct nj_detect_priv));
	if (!r->priv) {
		free(r);
		return NULL;
	}
	r->classes = calloc(1, sizeof(*r->classes));
	if (!r->classes) {
		free(r->priv);
		free(r);
		return NULL;
	}
	r->classes[0].name = (char *)"";
	r->classes[0].desc = (char *)"";
	r->classes[0].priority = 3;
	r->nclasses = 1;
	return r;
}

void nj_detect_rules_free(struct nj_detect_rules *r)
{
	if (!r)
		return;
	struct nj_detect_priv *pv = r->priv;

	for (unsigned i = 0; i < pv->ntracked; i++)
		pv->tracked[i].fn(pv->tracked[i].p);
	free(pv->tracked);
	for (struct arena_chunk *c = pv->arena, *n; c; c = n) {
		n = c->next;
		free(c);
	}
	nj_strmap_free(&pv->strings);
	nj_strmap_free(&pv->addr_vars);
	nj_strmap_free(&pv->port_vars);
	nj_strmap_free(&pv->addr_cache);
	nj_strmap_free(&pv->port_cache);
	nj_strmap_free(&pv->bitmap);
	nj_strmap_free(&pv->intmap);
	nj_strmap_free(&pv->refsys);
	free(pv->sid_keys);
	free(pv->sid_vals);
	free(pv);
	free(r->sigs);
	free(r->inst);
	free(r->classes);
	free(r->bitnames);
	free(r->intnames);
	free(r);
}

/* ------------------------------------------------------------ sid table */

/* Index of the signature with (gid, sid), or -1; open addressing on 64-bit keys. */
long nj_detect_sid_find(const struct nj_detect_rules *r, uint32_t gid, uint32_t sid)
{
	const struct nj_detect_priv *pv = r->priv;
	uint64_t key = ((uint64_t)gid << 32) | sid;

	if (!pv->sid_cap)
		return -1;
	for (uint32_t i = nj_detect_hash(&key, 8) & (pv->sid_cap - 1); pv->sid_vals[i];
	     i = (i + 1) & (pv->sid_cap - 1))
		if (pv->sid_keys[i] == key)
			return (long)pv->sid_vals[i] - 1;
	return -1;
}

int nj_detect_sid_put(struct nj_detect_rules *r, uint32_t gid, uint32_t sid, uint32_t idx)
{
	struct nj_detect_priv *pv = r->priv;
	uint64_t key = ((uint64_t)gid << 32) | sid;

	if ((pv->sid_n + 1) * 2 > pv->sid_cap) {
		uint32_t ncap = pv->sid_cap ? pv->sid_cap * 2 : 1024;
		uint64_t *nk = calloc(ncap, sizeof(*nk));
		uint32_t *nv = calloc(ncap, sizeof(*nv));

		if (!nk || !nv) {
			free(nk);
			free(nv);
			return -ENOMEM;
		}
		for (uint32_t i = 0; i < pv->sid_cap; i++) {
			if (!pv->sid_vals[i])
				continue;
			uint32_t j = nj_detect_hash(&pv->sid_keys[i], 8) & (ncap - 1);

			while (nv[j])
				j = (j + 1) & (ncap - 1);
			nk[j] = pv->sid_keys[i];
			nv[j] = pv->sid_vals[i];
		}
		free(pv->sid_keys);
		free(pv->sid_vals);
		pv->sid_keys = nk;
		pv->sid_vals = nv;
		pv->sid_cap = ncap;
	}
	uint32_t i = nj_detect_hash(&key, 8) & (pv->sid_cap - 1);

	while (pv->sid_vals[i]) {
		if (pv->sid_keys[i] == key) {
			pv->sid_vals[i] = idx + 1;
			return 0;
		}
		i = (i + 1) & (pv->sid_cap - 1);
	}
	pv->sid_keys[i] = key;
	pv->sid_vals[i] = idx + 1;
	pv->sid_n++;
	return 0;
}

/* ------------------------------------------------------------ buffer instances */

int nj_detect_inst_get(struct nj_detect_rules *r, const struct nj_detect_plist *pl)
{
	for (uint16_t i = 0; i < r->ninst; i++) {
		const struct nj_detect_bufinst *b = &r->inst[i];

		if (b->base == pl->base && b->ntf == pl->ntf &&
		    (pl->ntf == 0 || memcmp(b->tf, pl->tf, pl->ntf * sizeof(pl->tf[0])) == 0))
			return i;
	}
	if (r->ninst == UINT16_MAX)
		return -1;
	struct nj_detect_bufinst *ni = realloc(r->inst, (r->ninst + 1u) * sizeof(*ni));

	if (!ni)
		return -1;
	r->inst = ni;
	memset(&ni[r->ninst], 0, sizeof(ni[0]));
	ni[r->ninst].base = pl->base;
	ni[r->ninst].ntf = pl->ntf;
	memcpy(ni[r->ninst].tf, pl->tf, pl->ntf * sizeof(pl->tf[0]));
	return r->ninst++;
}
