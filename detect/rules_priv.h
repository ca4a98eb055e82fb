/* SPDX-License-Identifier: MIT */
/* Private state of a rule set (rules.c, load.c, addr.c, parse.c). */
#ifndef NJ_DETECT_RULES_PRIV_H
#define NJ_DETECT_RULES_PRIV_H

#include "detect_int.h"

struct nj_strmap {
	const char **keys;
	void **vals;
	uint32_t n, cap;
};
void *nj_strmap_get(const struct nj_strmap *m, const char *key);
int nj_strmap_put(struct nj_strmap *m, const char *key, void *val);
void nj_strmap_free(struct nj_strmap *m);
uint32_t nj_detect_hash(const void *p, size_t n);

struct nj_tracked {
	void *p;
	void (*fn)(void *);
};

struct arena_chunk;

struct nj_detect_priv {
	struct arena_chunk *arena;
	uint64_t mem;
	struct nj_strmap strings;
	struct nj_tracked *tracked;
	unsigned ntracked, cap_tracked;
	struct nj_strmap addr_vars, port_vars;	 /* name -> value text (arena) */
	struct nj_strmap addr_cache, port_cache; /* rule text -> parsed set */
	struct nj_strmap bitmap, intmap;	 /* name -> id + 1 */
	struct nj_strmap refsys;		 /* reference system -> url prefix */
	bool have_classes;			 /* a classification file was read */
	uint64_t *sid_keys;
	uint32_t *sid_vals;
	uint32_t sid_n, sid_cap;
	uint32_t sig_cap;
	const struct nj_conf *conf; /* while loading: keywords that read settings (geoip) */
	const char *cur_file;	    /* interned, while loading */
	uint32_t cur_line;
};

struct nj_detect_rules *nj_detect_rules_alloc(void);
long nj_detect_sid_find(const struct nj_detect_rules *r, uint32_t gid, uint32_t sid);
int nj_detect_sid_put(struct nj_detect_rules *r, uint32_t gid, uint32_t sid, uint32_t idx);
int nj_detect_inst_get(struct nj_detect_rules *r, const struct nj_detect_plist *pl);

#endif
