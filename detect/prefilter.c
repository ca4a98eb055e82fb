/* SPDX-License-Identifier: MIT */
/*
 * Prefilter databases: the fast patterns of a candidate set compiled into one
 * Hyperscan block-mode database. Identical patterns (bytes, case, placement)
 * share one expression whose match yields every signature using it. A pattern
 * Hyperscan refuses is reported with its sids and its signatures fall back to
 * the always-evaluated list, so one odd rule never stops the engine.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"

static inline uint8_t fold(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c | 0x20) : c;
}

static int pat_cmp(const void *a, const void *b)
{
	const struct pf_pattern *x = a, *y = b;
	int c;

	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	if (x->nocase != y->nocase)
		return x->nocase ? 1 : -1;
	if (x->nocase) {
		for (uint32_t i = 0; i < x->len; i++) {
			uint8_t p = fold(x->bytes[i]), q = fold(y->bytes[i]);

			if (p != q)
				return p < q ? -1 : 1;
		}
	} else {
		c = memcmp(x->bytes, y->bytes, x->len);
		if (c)
			return c;
	}
	if (x->offset != y->offset)
		return x->offset < y->offset ? -1 : 1;
	if (x->depth != y->depth)
		return x->depth < y->depth ? -1 : 1;
	if (x->num != y->num)
		return x->num < y->num ? -1 : 1;
	return 0;
}

static bool pat_same(const struct pf_pattern *x, const struct pf_pattern *y)
{
	struct pf_pattern a = *x, b = *y;

	a.num = b.num = 0;
	return pat_cmp(&a, &b) == 0;
}

/* A literal as a Hyperscan expression: every byte as \xHH. */
static char *pat_expr(const struct pf_pattern *p)
{
	static const char hex[] = "0123456789abcdef";
	char *s = malloc((size_t)p->len * 4 + 1), *o = s;

	if (!s)
		return NULL;
	for (uint32_t i = 0; i < p->len; i++) {
		*o++ = '\\';
		*o++ = 'x';
		*o++ = hex[p->bytes[i] >> 4];
		*o++ = hex[p->bytes[i] & 15];
	}
	*o = '\0';
	return s;
}

static void report(const struct nj_detect_engine *e, const struct pf_pattern *pats, uint32_t lo,
		   uint32_t hi, const char *msg)
{
	fprintf(stderr, "detect: prefilter: cannot compile the fast pattern of sid");
	for (uint32_t i = lo; i < hi && i < lo + 8; i++)
		fprintf(stderr, " %u", e->sigs[pats[i].num].s->sid);
	fprintf(stderr, "%s: %s (evaluated without prefilter)\n", hi - lo > 8 ? " ..." : "", msg);
}

int nj_pf_build(const struct nj_detect_engine *e, struct pf_db *db, struct pf_pattern *pats,
		uint32_t n, bool bounds, bool vectored, uint32_t **dropped, uint32_t *ndropped)
{
	unsigned mode = vectored ? HS_MODE_VECTORED : HS_MODE_BLOCK;
	uint32_t *first = NULL, nuniq = 0, ndrop = 0;
	char **exprs = NULL;
	unsigned *flags = NULL, *ids = NULL;
	hs_expr_ext_t *ext = NULL;
	const hs_expr_ext_t **extp = NULL;
	bool *dead = NULL;
	int ret = -1;

	*dropped = NULL;
	*ndropped = 0;
	db->db = NULL;
	db->npat = 0;
	db->maxlen = 0;
	db->minlen = 0;
	db->map_off = db->map_num = NULL;
	if (!n)
		return 0;
	if (!bounds)
		for (uint32_t i = 0; i < n; i++)
			pats[i].offset = pats[i].depth = 0;
	qsort(pats, n, sizeof(*pats), pat_cmp);
	first = malloc((n + 1) * sizeof(*first));
	if (!first)
		goto out;
	for (uint32_t i = 0; i < n; i++)
		if (i == 0 || !pat_same(&pats[i - 1], &pats[i]))
			first[nuniq++] = i;
	first[nuniq] = n;

	exprs = calloc(nuniq, sizeof(*exprs));
	flags = calloc(nuniq, sizeof(*flags));
	ids = calloc(nuniq, sizeof(*ids));
	ext = calloc(nuniq, sizeof(*ext));
	extp = calloc(nuniq, sizeof(*extp));
	dead = calloc(nuniq, sizeof(*dead));
	*dropped = malloc(n * sizeof(**dropped));
	if (!exprs || !flags || !ids || !ext || !extp || !dead || !*dropped)
		goto out;
	for (uint32_t u = 0; u < nuniq; u++) {
		const struct pf_pattern *p = &pats[first[u]];

		exprs[u] = pat_expr(p);
		if (!exprs[u])
			goto out;
		flags[u] = HS_FLAG_SINGLEMATCH | (p->nocase ? HS_FLAG_CASELESS : 0);
		if (p->depth && p->depth < p->offset + p->len) {
			/* unsatisfiable placement: let the full evaluation decide */
			extp[u] = NULL;
		} else if (p->offset || p->depth) {
			if (p->offset) {
				ext[u].flags |= HS_EXT_FLAG_MIN_OFFSET;
				ext[u].min_offset = (unsigned long long)p->offset + p->len;
			}
			if (p->depth) {
				ext[u].flags |= HS_EXT_FLAG_MAX_OFFSET;
				ext[u].max_offset = p->depth;
			}
			extp[u] = &ext[u];
		}
		if (p->len > db->maxlen)
			db->maxlen = p->len;
		if (!db->minlen || p->len < db->minlen)
			db->minlen = p->len;
	}

	/* compile; a refused expression is dropped and the rest compiled again */
	for (;;) {
		hs_compile_error_t *cerr = NULL;
		const char **ex = malloc(nuniq * sizeof(*ex));
		unsigned *fl = malloc(nuniq * sizeof(*fl)), *id = malloc(nuniq * sizeof(*id));
		const hs_expr_ext_t **xp = malloc(nuniq * sizeof(*xp));
		unsigned m = 0;
		hs_error_t err;

		if (!ex || !fl || !id || !xp) {
			free(ex);
			free(fl);
			free(id);
			free(xp);
			goto out;
		}
		for (uint32_t u = 0; u < nuniq; u++) {
			if (dead[u])
				continue;
			ex[m] = exprs[u];
			fl[m] = flags[u];
			id[m] = u;
			xp[m] = extp[u];
			m++;
		}
		if (m == 0) {
			free(ex);
			free(fl);
			free(id);
			free(xp);
			break;
		}
		if (bounds) {
			err = hs_compile_ext_multi(ex, fl, id, xp, m, mode, NULL, &db->db, &cerr);
		} else {
			/* plain literals: the literal API compiles several times faster */
			const char **lit = malloc(m * sizeof(*lit));
			size_t *len = malloc(m * sizeof(*len));

			if (!lit || !len) {
				free(lit);
				free(len);
				free(ex);
				free(fl);
				free(id);
				free(xp);
				goto out;
			}
			for (unsigned q = 0; q < m; q++) {
				lit[q] = (const char *)pats[first[id[q]]].bytes;
				len[q] = pats[first[id[q]]].len;
			}
			err = hs_compile_lit_multi(lit, fl, id, len, m, mode, NULL, &db->db, &cerr);
			free(lit);
			free(len);
		}
		if (err == HS_SUCCESS) {
			free(ex);
			free(fl);
			free(id);
			free(xp);
			break;
		}
		if (cerr && cerr->expression >= 0 && (unsigned)cerr->expression < m) {
			uint32_t u = id[cerr->expression];

			report(e, pats, first[u], first[u + 1], cerr->message);
			dead[u] = true;
			hs_free_compile_error(cerr);
			free(ex);
			free(fl);
			free(id);
			free(xp);
			continue;
		}
		fprintf(stderr, "detect: prefilter: Hyperscan compile failed: %s\n",
			cerr ? cerr->message : "unknown error");
		hs_free_compile_error(cerr);
		free(ex);
		free(fl);
		free(id);
		free(xp);
		goto out;
	}

	db->map_off = malloc((nuniq + 1) * sizeof(*db->map_off));
	db->map_num = malloc(n * sizeof(*db->map_num));
	if (!db->map_off || !db->map_num)
		goto out;
	{
		uint32_t k = 0;

		for (uint32_t u = 0; u < nuniq; u++) {
			db->map_off[u] = k;
			for (uint32_t i = first[u]; i < first[u + 1]; i++) {
				if (dead[u])
					(*dropped)[ndrop++] = pats[i].num;
				else
					db->map_num[k++] = pats[i].num;
			}
		}
		db->map_off[nuniq] = k;
	}
	db->npat = nuniq;
	*ndropped = ndrop;
	ret = 0;
out:
	if (exprs)
		for (uint32_t u = 0; u < nuniq; u++)
			free(exprs[u]);
	free(exprs);
	free(flags);
	free(ids);
	free(ext);
	free(extp);
	free(dead);
	free(first);
	if (ret < 0) {
		free(*dropped);
		*dropped = NULL;
		nj_pf_free(db);
	}
	return ret;
}

void nj_pf_free(struct pf_db *db)
{
	if (db->db)
		hs_free_database(db->db);
	free(db->map_off);
	free(db->map_num);
	db->db = NULL;
	db->map_off = db->map_num = NULL;
}

int nj_pf_scratch(struct nj_detect_engine *e, const struct pf_db *db)
{
	if (!db->db)
		return 0;
	return hs_alloc_scratch(db->db, &e->proto_scratch) == HS_SUCCESS ? 0 : -1;
}
