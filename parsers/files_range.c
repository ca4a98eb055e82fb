/* SPDX-License-Identifier: MIT */
/*
 * HTTP byte-range reassembly (206 Partial Content): one table of containers
 * per core, each holding the file being put together from the ranges of one
 * host name + file name (Suricata's key). See files.h for the contract.
 *
 * Why per core: nothing on the packet path may lock, and the fan-out (RSS or
 * the software hash) spreads flows by their address pair only, so every
 * connection between one client and one server - the parallel or successive
 * range requests of a download - meets on the same core and so in the same
 * container. What is not reassembled: a file whose ranges come from several
 * server addresses (or several clients) that hash to different cores;
 * Suricata's process-wide table would join those.
 *
 * Memory: a container (its key inline) is allocated when a download's first
 * range starts and freed when its file is closed, times out or is evicted;
 * an out-of-order range's buffer grows geometrically (a few reallocations
 * per range, none per packet). All of it, and the data the file holds by
 * offset, is counted against range_memcap.
 */
#include <stdlib.h>
#include <string.h>

#include "../common/nj_common.h"
#include "../config/config.h"
#include "files_priv.h"

NJ_CONF_KEY(brmemcap, "app-layer.protocols.http.byterange.memcap", NJ_CT_SIZE, "100mb",
	    "HTTP byte-range reassembly: containers, out-of-order ranges and the data held for "
	    "them, split over the workers (0: no limit).")
NJ_CONF_KEY(brtimeout, "app-layer.protocols.http.byterange.timeout", NJ_CT_INT, "60",
	    "Seconds an HTTP byte-range reassembly with no range in progress is kept; then it is "
	    "dropped without a fileinfo event.")

#define RANGE_BUCKETS	256u
#define RANGE_NAME_MAX	1024u	      /* key: file name bytes used (Suricata's SC_FILENAME_MAX) */
#define RANGE_BUF_FIRST (64u * 1024)  /* an out-of-order range's first buffer */
#define RANGE_BUF_MAX	(1024u << 20) /* an out-of-order range buffered up to 1 GiB */

struct nj_file_range {
	struct nj_file_range *hnext;	   /* hash chain */
	struct nj_file_range *prev, *next; /* idle list (refs == 0), oldest first */
	struct nj_file_ranges *tab;
	struct nj_file *file; /* NULL once closed (the container waits for its last range) */
	uint64_t total;	      /* largest size announced */
	uint64_t expire_us, last_ts;
	uint32_t refs; /* ranges in progress */
	uint32_t hash, key_len;
	bool hashed;
	uint8_t key[];
};

struct nj_file_ranges {
	struct nj_files *fs;
	struct nj_files_stats *st;
	struct nj_file_budget budget;
	uint64_t timeout_us;
	uint64_t max_size; /* nightjar.files.max-size: a file stops there */
	uint32_t count, max_count;
	struct nj_file_range *idle_head, *idle_tail;
	struct nj_file_range *bucket[RANGE_BUCKETS];
};

int nj_file_ranges_config_load(struct nj_files_config *cfg, const struct nj_conf *conf)
{
	int64_t t = cfg->range_timeout;

	if (nj_conf_size(conf, NULL, "app-layer.protocols.http.byterange.memcap",
			 &cfg->range_memcap) < 0 ||
	    nj_conf_int(conf, NULL, "app-layer.protocols.http.byterange.timeout", 0, 86400 * 365,
			&t) < 0)
		return -1;
	cfg->range_timeout = (uint32_t)t;
	return 0;
}

struct nj_file_ranges *nj_file_ranges_create(struct nj_files *fs)
{
	const struct nj_files_config *cfg = nj_files_cfg(fs);
	struct nj_file_ranges *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->fs = fs;
	t->st = nj_files_stats_rw(fs);
	t->budget.used = &t->st->range_memuse;
	t->budget.hits = &t->st->range_memcap;
	t->budget.cap = cfg->range_memcap;
	t->timeout_us = (uint64_t)cfg->range_timeout * 1000000u;
	t->max_size = cfg->max_size;
	t->max_count = cfg->max_open / 2 ? cfg->max_open / 2 : 1;
	return t;
}

static uint32_t key_hash(const uint8_t *a, uint32_t an, const uint8_t *b, uint32_t bn)
{
	uint32_t h = 2166136261u;

	for (uint32_t i = 0; i < an; i++)
		h = (h ^ a[i]) * 16777619u;
	for (uint32_t i = 0; i < bn; i++)
		h = (h ^ b[i]) * 16777619u;
	return h;
}

static void idle_remove(struct nj_file_ranges *t, struct nj_file_range *r)
{
	if (r->prev)
		r->prev->next = r->next;
	else
		t->idle_head = r->next;
	if (r->next)
		r->next->prev = r->prev;
	else
		t->idle_tail = r->prev;
	r->prev = r->next = NULL;
}

static void idle_add(struct nj_file_ranges *t, struct nj_file_range *r)
{
	r->next = NULL;
	r->prev = t->idle_tail;
	if (t->idle_tail)
		t->idle_tail->next = r;
	else
		t->idle_head = r;
	t->idle_tail = r;
}

static void hash_unlink(struct nj_file_ranges *t, struct nj_file_range *r)
{
	struct nj_file_range **pp = &t->bucket[r->hash % RANGE_BUCKETS];

	if (!r->hashed)
		return;
	while (*pp && *pp != r)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = r->hnext;
	r->hnext = NULL;
	r->hashed = false;
}

/* Frees a container that no range references (idle, or closed). */
static void range_free(struct nj_file_ranges *t, struct nj_file_range *r)
{
	hash_unlink(t, r);
	if (r->file) {
		idle_remove(t, r);
		nj_file_discard(r->file); /* its held data leaves the budget */
		r->file = NULL;
	}
	*t->budget.used -= sizeof(*r) + r->key_len;
	t->count--;
	t->st->range_open--;
	free(r);
}

void nj_file_ranges_destroy(struct nj_file_ranges *t)
{
	if (!t)
		return;
	/* at shutdown (flows, and their ranges, are gone): what is left was never completed */
	for (uint32_t b = 0; b < RANGE_BUCKETS; b++) {
		while (t->bucket[b]) {
			struct nj_file_range *r = t->bucket[b];

			t->bucket[b] = r->hnext;
			if (r->file)
				nj_file_discard(r->file);
			*t->budget.used -= sizeof(*r) + r->key_len;
			t->st->range_open--;
			free(r);
		}
	}
	free(t);
}

void nj_files_expire(struct nj_files *fs, uint64_t now_us)
{
	struct nj_file_ranges *t = nj_files_ranges(fs);

	/* the idle list is in expiry order: the timeout is the same for all */
	while (t && t->idle_head && t->idle_head->expire_us < now_us) {
		t->st->range_timeouts++;
		range_free(t, t->idle_head);
	}
}

static struct nj_file_range *range_find(struct nj_file_ranges *t, uint32_t h, const uint8_t *host,
					uint32_t hl, const uint8_t *name, uint32_t nl)
{
	for (struct nj_file_range *r = t->bucket[h % RANGE_BUCKETS]; r; r = r->hnext)
		if (r->hash == h && r->key_len == hl + nl && memcmp(r->key, host, hl) == 0 &&
		    memcmp(r->key + hl, name, nl) == 0)
			return r;
	return NULL;
}

/* Room for need more bytes (and one more container when count): evicts idle containers. */
static bool make_room(struct nj_file_ranges *t, uint64_t need, bool count)
{
	for (;;) {
		bool over = t->budget.cap && *t->budget.used + need > t->budget.cap;

		if (count && t->count >= t->max_count)
			over = true;
		if (!over)
			return true;
		if (!t->idle_head)
			return false;
		t->st->range_evicted++;
		range_free(t, t->idle_head);
	}
}

bool nj_file_range_open(struct nj_files *fs, struct nj_file_range_ref *ref, struct nj_flow *flow,
			const uint8_t *host, uint32_t hl, const uint8_t *name, uint32_t nl,
			const char *app_proto, uint64_t tx_id, int dir, uint64_t start,
			uint64_t end, uint64_t total, uint64_t ts_us)
{
	struct nj_file_ranges *t = nj_files_ranges(fs);
	struct nj_file_range *r;
	uint32_t h;

	memset(ref, 0, sizeof(*ref));
	if (!t || end < start || end >= total || hl > UINT32_MAX / 2)
		return false;
	if (nl > RANGE_NAME_MAX)
		nl = RANGE_NAME_MAX;
	h = key_hash(host, hl, name, nl);
	r = range_find(t, h, host, hl, name, nl);
	if (!r) {
		uint64_t need = sizeof(*r) + (uint64_t)hl + nl;

		if (!make_room(t, need, true)) {
			t->st->range_memcap++;
			return false;
		}
		r = calloc(1, need);
		if (!r) {
			t->st->range_memcap++;
			return false;
		}
		/* counted by the files pool when refused (limit_open) */
		r->file = nj_file_open(fs, NULL, app_proto, name, nl, tx_id, dir);
		if (!r->file) {
			free(r);
			return false;
		}
		nj_file_set_budget(r->file, &t->budget);
		r->tab = t;
		r->hash = h;
		r->key_len = hl + nl;
		if (hl)
			memcpy(r->key, host, hl);
		if (nl)
			memcpy(r->key + hl, name, nl);
		r->hnext = t->bucket[h % RANGE_BUCKETS];
		t->bucket[h % RANGE_BUCKETS] = r;
		r->hashed = true;
		t->count++;
		t->st->range_open++;
		*t->budget.used += need;
	} else if (!r->refs) {
		idle_remove(t, r);
	}
	r->refs++;
	if (total > r->total)
		r->total = total;
	if (ts_us)
		r->last_ts = ts_us;
	ref->r = r;
	ref->flow = flow;
	ref->tx_id = tx_id;
	ref->dir = (uint8_t)(dir == 1);
	ref->start = ref->off = start;
	ref->end = end + 1;
	/* a range beyond what the file has: kept aside until it ends */
	ref->buffering = start > nj_file_size(r->file);
	return true;
}

/* Buffer mode: adds bytes at ref->off (always start + len while not stopped). */
static void buf_add(struct nj_file_range_ref *ref, const uint8_t *d, uint32_t n)
{
	struct nj_file_ranges *t = ref->r->tab;

	if (ref->len + (uint64_t)n > ref->cap) {
		uint64_t want = ref->cap ? ref->cap : RANGE_BUF_FIRST,
			 range = ref->end - ref->start;
		uint8_t *nb;

		while (want < ref->len + (uint64_t)n)
			want *= 2;
		if (want > range)
			want = range;
		if (want > RANGE_BUF_MAX || ref->len + (uint64_t)n > want ||
		    !make_room(t, want - ref->cap, false)) {
			t->st->range_memcap++;
			ref->stopped = true;
			return;
		}
		nb = realloc(ref->buf, want);
		if (!nb) {
			t->st->range_memcap++;
			ref->stopped = true;
			return;
		}
		*t->budget.used += want - ref->cap;
		ref->buf = nb;
		ref->cap = (uint32_t)want;
	}
	memcpy(ref->buf + ref->len, d, n);
	ref->len += n;
}

void nj_file_range_append(struct nj_file_range_ref *ref, const uint8_t *d, uint32_t n)
{
	struct nj_file_range *r = ref->r;
	uint64_t off = ref->off;

	if (!r || !n)
		return;
	ref->off += n;
	if (!r->file || off >= ref->end)
		return;
	if (n > ref->end - off)
		n = (uint32_t)(ref->end - off); /* a body longer than its range */
	if (!ref->buffering) {
		nj_file_append_at(r->file, off, d, n);
		return;
	}
	if (!ref->stopped)
		buf_add(ref, d, n);
}

void nj_file_range_gap(struct nj_file_range_ref *ref, uint32_t n)
{
	struct nj_file_range *r = ref->r;
	uint64_t off = ref->off, len = n, cur;

	if (!r || !n)
		return;
	ref->off += n;
	if (!r->file || off >= ref->end)
		return;
	if (len > ref->end - off)
		len = ref->end - off;
	if (ref->buffering) {
		/* what was buffered before the hole is still added; another range may fill it */
		ref->stopped = true;
		return;
	}
	/* a hole at the file's end becomes its gap (first copy wins, as for data);
	 * elsewhere it stays open for another range to fill */
	cur = nj_file_size(r->file);
	if (off <= cur && off + len > cur)
		nj_file_gap(r->file, (uint32_t)(off + len - cur));
}

bool nj_file_range_close(struct nj_file_range_ref *ref, bool complete, uint64_t ts_us,
			 nj_file_meta_fn meta_fn, const void *meta_arg)
{
	struct nj_file_range *r = ref->r;
	struct nj_file_ranges *t;
	bool closed = false;

	if (!r)
		return false;
	t = r->tab;
	if (ts_us)
		r->last_ts = ts_us;
	else
		ts_us = r->last_ts;
	if (ref->buffering) {
		/* the buffer leaves the budget before the file holds what it still needs */
		uint8_t *b = ref->buf;
		uint32_t len = ref->len;

		if (ref->cap)
			*t->budget.used -= ref->cap;
		ref->buf = NULL;
		ref->len = ref->cap = 0;
		if (r->file && len)
			nj_file_append_at(r->file, ref->start, b, len);
		free(b);
	}
	if (r->file) {
		uint64_t want = r->total;

		if (t->max_size && want > t->max_size)
			want = t->max_size;
		if (nj_file_size(r->file) >= want) {
			struct nj_file *f = r->file;

			/* done: a new download of the same file starts a new container */
			r->file = NULL;
			hash_unlink(t, r);
			nj_file_rebind(f, ref->flow, ref->tx_id, ref->dir);
			nj_file_close(f, complete ? NJ_FILE_CLOSED : NJ_FILE_TRUNCATED, ts_us,
				      meta_fn, meta_arg);
			t->st->range_reassembled++;
			closed = true;
		}
	}
	if (--r->refs == 0) {
		if (!r->file) {
			range_free(t, r);
		} else {
			r->expire_us = r->last_ts + t->timeout_us;
			idle_add(t, r);
		}
	}
	memset(ref, 0, sizeof(*ref));
	return closed;
}
