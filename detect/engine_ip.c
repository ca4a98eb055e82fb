/* SPDX-License-Identifier: MIT */
/*
 * IP-only signatures (addresses, protocol, flowbits set: ET's CIARMY,
 * compromised-host and botnet lists) are inspected on the first packet of
 * each flow direction. There are over a thousand of them in ET Open, so they
 * are not evaluated one by one: each signature is indexed by the more
 * selective of its two address sets (per address family) in a sorted table of
 * elementary address intervals, and a packet's source and destination are
 * looked up there (Suricata uses radix trees for the same purpose). Only the
 * signatures whose indexed side contains the packet's address are evaluated;
 * signatures with two large sides are always evaluated.
 */
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"

/* Sides with more addresses than this are not worth indexing. */
#define IDX_MAX_V4 (1ull << 26)

struct ev4 {
	uint32_t at;
	uint32_t num;
	int add;
};

struct ev6 {
	uint8_t at[16];
	uint32_t num;
	int add;
};

static int ev4_cmp(const void *a, const void *b)
{
	const struct ev4 *x = a, *y = b;

	if (x->at != y->at)
		return x->at < y->at ? -1 : 1;
	return x->add - y->add; /* removals first at the same point */
}

static int ev6_cmp(const void *a, const void *b)
{
	const struct ev6 *x = a, *y = b;
	int c = memcmp(x->at, y->at, 16);

	return c ? c : x->add - y->add;
}

static int u32cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t v4_count(const struct nj_detect_addrs *a)
{
	uint64_t n = 0;

	if (a->any)
		return 1ull << 32;
	for (uint32_t i = 0; i < a->n4; i++)
		n += (uint64_t)a->v4[i].hi - a->v4[i].lo + 1;
	return n;
}

/* log2-ish size of an IPv6 set: prefix bits free in the widest range */
static unsigned v6_width(const struct nj_detect_addrs *a)
{
	unsigned w = 0;

	if (a->any)
		return 128;
	for (uint32_t i = 0; i < a->n6; i++) {
		unsigned k = 0;

		while (k < 16 && a->v6[i].lo[k] == a->v6[i].hi[k])
			k++;
		if ((16 - k) * 8 > w)
			w = (16 - k) * 8;
	}
	return w;
}

/* Active set during the sweep: small, kept as an array. */
struct act {
	uint32_t *v;
	uint32_t n, cap;
};

static int act_apply(struct act *a, uint32_t num, int add)
{
	if (add > 0) {
		if (a->n == a->cap) {
			uint32_t nc = a->cap ? a->cap * 2 : 16;
			uint32_t *nv = realloc(a->v, nc * sizeof(*nv));

			if (!nv)
				return -1;
			a->v = nv;
			a->cap = nc;
		}
		a->v[a->n++] = num;
		return 0;
	}
	for (uint32_t i = 0; i < a->n; i++)
		if (a->v[i] == num) {
			a->v[i] = a->v[--a->n];
			break;
		}
	return 0;
}

/* Appends the active set (sorted) as the list of a new segment. */
static int seg_emit(struct ip_index *x, const struct act *a, uint32_t *lcap)
{
	if (x->nlist + a->n > *lcap) {
		uint32_t nc = *lcap ? *lcap : 1024;
		uint32_t *nl;

		while (nc < x->nlist + a->n)
			nc *= 2;
		nl = realloc(x->list, nc * sizeof(*nl));
		if (!nl)
			return -1;
		x->list = nl;
		*lcap = nc;
	}
	if (!a->n)
		return 0;
	memcpy(x->list + x->nlist, a->v, a->n * sizeof(uint32_t));
	qsort(x->list + x->nlist, a->n, sizeof(uint32_t), u32cmp);
	x->nlist += a->n;
	return 0;
}

static int build4(struct ip_index *x, struct ev4 *ev, uint32_t nev)
{
	struct act a = {0};
	uint32_t lcap = 0, scap = 0;
	int ret = -1;

	if (!nev)
		return 0;
	qsort(ev, nev, sizeof(*ev), ev4_cmp);
	for (uint32_t i = 0; i < nev;) {
		uint32_t at = ev[i].at;

		while (i < nev && ev[i].at == at) {
			if (act_apply(&a, ev[i].num, ev[i].add) < 0)
				goto out;
			i++;
		}
		if (x->nseg + 1 >= scap) {
			uint32_t nc = scap ? scap * 2 : 1024;
			uint32_t *nlo = realloc(x->lo4, nc * sizeof(*nlo));

			if (!nlo)
				goto out;
			x->lo4 = nlo;
			nlo = realloc(x->off, (nc + 1) * sizeof(*nlo));
			if (!nlo)
				goto out;
			x->off = nlo;
			scap = nc;
		}
		x->lo4[x->nseg] = at;
		x->off[x->nseg] = x->nlist;
		if (seg_emit(x, &a, &lcap) < 0)
			goto out;
		x->nseg++;
	}
	if (x->off)
		x->off[x->nseg] = x->nlist;
	ret = 0;
out:
	free(a.v);
	return ret;
}

static int build6(struct ip_index *x, struct ev6 *ev, uint32_t nev)
{
	struct act a = {0};
	uint32_t lcap = 0, scap = 0;
	int ret = -1;

	if (!nev)
		return 0;
	qsort(ev, nev, sizeof(*ev), ev6_cmp);
	for (uint32_t i = 0; i < nev;) {
		uint8_t at[16];

		memcpy(at, ev[i].at, 16);
		while (i < nev && !memcmp(ev[i].at, at, 16)) {
			if (act_apply(&a, ev[i].num, ev[i].add) < 0)
				goto out;
			i++;
		}
		if (x->nseg + 1 >= scap) {
			uint32_t nc = scap ? scap * 2 : 256;
			void *nlo = realloc(x->lo6, nc * 16);
			uint32_t *noff;

			if (!nlo)
				goto out;
			x->lo6 = nlo;
			noff = realloc(x->off, (nc + 1) * sizeof(*noff));
			if (!noff)
				goto out;
			x->off = noff;
			scap = nc;
		}
		memcpy(x->lo6[x->nseg], at, 16);
		x->off[x->nseg] = x->nlist;
		if (seg_emit(x, &a, &lcap) < 0)
			goto out;
		x->nseg++;
	}
	if (x->off)
		x->off[x->nseg] = x->nlist;
	ret = 0;
out:
	free(a.v);
	return ret;
}

static bool v6_inc(uint8_t a[16])
{
	for (int i = 15; i >= 0; i--)
		if (++a[i])
			return true;
	return false; /* wrapped: the range ends at the top */
}

/* Events for the ranges of set a, for signature num. */
static int add4(struct ev4 **ev, uint32_t *n, uint32_t *cap, const struct nj_detect_addrs *a,
		uint32_t num)
{
	for (uint32_t i = 0; i < a->n4; i++) {
		if (*n + 2 > *cap) {
			uint32_t nc = *cap ? *cap * 2 : 4096;
			struct ev4 *ne = realloc(*ev, nc * sizeof(*ne));

			if (!ne)
				return -1;
			*ev = ne;
			*cap = nc;
		}
		(*ev)[(*n)++] = (struct ev4){a->v4[i].lo, num, 1};
		if (a->v4[i].hi != UINT32_MAX)
			(*ev)[(*n)++] = (struct ev4){a->v4[i].hi + 1, num, -1};
	}
	return 0;
}

static int add6(struct ev6 **ev, uint32_t *n, uint32_t *cap, const struct nj_detect_addrs *a,
		uint32_t num)
{
	for (uint32_t i = 0; i < a->n6; i++) {
		uint8_t end[16];

		if (*n + 2 > *cap) {
			uint32_t nc = *cap ? *cap * 2 : 1024;
			struct ev6 *ne = realloc(*ev, nc * sizeof(*ne));

			if (!ne)
				return -1;
			*ev = ne;
			*cap = nc;
		}
		(*ev)[*n].num = num;
		(*ev)[*n].add = 1;
		memcpy((*ev)[*n].at, a->v6[i].lo, 16);
		(*n)++;
		memcpy(end, a->v6[i].hi, 16);
		if (v6_inc(end)) {
			(*ev)[*n].num = num;
			(*ev)[*n].add = -1;
			memcpy((*ev)[*n].at, end, 16);
			(*n)++;
		}
	}
	return 0;
}

int nj_iponly_build(struct nj_detect_engine *e, const uint32_t *nums, uint32_t n)
{
	struct iponly_index *ix = &e->ipx;
	struct ev4 *ev4[2] = {NULL, NULL};
	struct ev6 *ev6[2] = {NULL, NULL};
	uint32_t n4[2] = {0, 0}, c4[2] = {0, 0}, n6[2] = {0, 0}, c6[2] = {0, 0};
	int ret = -1;

	ix->always[0] = malloc((n ? n : 1) * sizeof(uint32_t));
	ix->always[1] = malloc((n ? n : 1) * sizeof(uint32_t));
	if (!ix->always[0] || !ix->always[1])
		goto out;
	for (uint32_t i = 0; i < n; i++) {
		const struct nj_detect_sig *s = e->sigs[nums[i]].s;
		bool bidir = s->flags & NJ_SIG_BIDIR;
		uint64_t cs = v4_count(s->src), cd = v4_count(s->dst);
		unsigned ws = v6_width(s->src), wd = v6_width(s->dst);
		const struct nj_detect_addrs *side;
		int k;

		/* IPv4: index the smaller side; its ranges are matched against the
		 * packet's source (k = 0) or destination (k = 1), both ways for <> */
		if (!(s->flags & NJ_SIG_IPV6_ONLY)) {
			if (cs > IDX_MAX_V4 && cd > IDX_MAX_V4) {
				ix->always[0][ix->nalways[0]++] = nums[i];
			} else {
				side = cs <= cd ? s->src : s->dst;
				k = cs <= cd ? 0 : 1;
				if (add4(&ev4[k], &n4[k], &c4[k], side, nums[i]) < 0)
					goto out;
				if (bidir && add4(&ev4[!k], &n4[!k], &c4[!k], side, nums[i]) < 0)
					goto out;
			}
		}
		if (!(s->flags & NJ_SIG_IPV4_ONLY)) {
			if (ws > 64 && wd > 64) {
				ix->always[1][ix->nalways[1]++] = nums[i];
			} else {
				side = ws <= wd ? s->src : s->dst;
				k = ws <= wd ? 0 : 1;
				if (add6(&ev6[k], &n6[k], &c6[k], side, nums[i]) < 0)
					goto out;
				if (bidir && add6(&ev6[!k], &n6[!k], &c6[!k], side, nums[i]) < 0)
					goto out;
			}
		}
	}
	for (int k = 0; k < 2; k++) {
		if (build4(&ix->v4[k], ev4[k], n4[k]) < 0 || build6(&ix->v6[k], ev6[k], n6[k]) < 0)
			goto out;
	}
	ix->n = n;
	ret = 0;
out:
	for (int k = 0; k < 2; k++) {
		free(ev4[k]);
		free(ev6[k]);
	}
	return ret;
}

void nj_iponly_free(struct nj_detect_engine *e)
{
	struct iponly_index *ix = &e->ipx;

	for (int k = 0; k < 2; k++) {
		free(ix->v4[k].lo4);
		free(ix->v4[k].off);
		free(ix->v4[k].list);
		free(ix->v6[k].lo6);
		free(ix->v6[k].off);
		free(ix->v6[k].list);
		free(ix->always[k]);
	}
	memset(ix, 0, sizeof(*ix));
}

/* Signatures of the segment holding addr (last segment start <= addr). */
static void lookup(const struct ip_index *x, const uint8_t *addr, bool v6, const uint32_t **v,
		   uint32_t *n)
{
	uint32_t lo = 0, hi = x->nseg;

	*n = 0;
	if (!x->nseg)
		return;
	if (!v6) {
		uint32_t a = ((uint32_t)addr[0] << 24) | ((uint32_t)addr[1] << 16) |
			     ((uint32_t)addr[2] << 8) | addr[3];

		while (lo < hi) {
			uint32_t mid = (lo + hi) / 2;

			if (x->lo4[mid] <= a)
				lo = mid + 1;
			else
				hi = mid;
		}
	} else {
		while (lo < hi) {
			uint32_t mid = (lo + hi) / 2;

			if (memcmp(x->lo6[mid], addr, 16) <= 0)
				lo = mid + 1;
			else
				hi = mid;
		}
	}
	if (!lo)
		return;
	*v = x->list + x->off[lo - 1];
	*n = x->off[lo] - x->off[lo - 1];
}

void nj_iponly_candidates(const struct nj_detect_engine *e, const struct nj_pkt *p,
			  const uint32_t **v0, uint32_t *n0, const uint32_t **v1, uint32_t *n1,
			  const uint32_t **al, uint32_t *nal)
{
	const struct iponly_index *ix = &e->ipx;
	bool v6 = p->flags & NJ_PKT_IPV6;

	if (v6) {
		lookup(&ix->v6[0], nj_pkt_src(p), true, v0, n0);
		lookup(&ix->v6[1], nj_pkt_dst(p), true, v1, n1);
	} else {
		lookup(&ix->v4[0], nj_pkt_src(p), false, v0, n0);
		lookup(&ix->v4[1], nj_pkt_dst(p), false, v1, n1);
	}
	*al = ix->always[v6];
	*nal = ix->nalways[v6];
}
