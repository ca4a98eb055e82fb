/* SPDX-License-Identifier: MIT */
/*
 * TCP reassembly (see stream.h for the contract).
 *
 * Each direction of a flow keeps a 64-bit stream offset of the next byte to
 * deliver; sequence numbers are turned into offsets relative to it with
 * serial-number arithmetic, so wrap-around needs no special case. The common
 * case, a segment that starts at or before the next expected byte, is
 * delivered straight from the packet without a copy. Segments ahead of it are
 * copied into a sorted, non-overlapping queue (overlaps resolved by the
 * target policy as they are inserted) and delivered when the hole fills, or
 * after a gap when the receiver acknowledges past the hole, when a limit
 * forces it, or at flow end.
 *
 * Memory: queued segment bytes are charged to the core's memcap and counted
 * per direction against max_segments; per-flow state is a small struct kept
 * on a free list, so flows recycle it without touching the allocator.
 */
#include <stdlib.h>
#include <string.h>

#include "../common/nj_common.h"
#include "stream.h"

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_ACK 0x10

#define DEFAULT_MAX_SEGMENTS 2048u

struct seg {
	struct seg *next;
	uint64_t off; /* stream offset of data[0] */
	uint32_t len;
	uint8_t data[];
};

struct sdir {
	uint32_t base_seq; /* sequence number of stream offset 0 */
	uint64_t next;	   /* offset of the next byte to deliver */
	uint64_t fin_off;  /* offset of the FIN (valid with fin) */
	uint64_t acked;	   /* highest offset the receiver acknowledged */
	struct seg *q;	   /* out-of-order segments, sorted, disjoint */
	uint32_t nseg;
	uint8_t base_set, fin, eof, depth_hit;
};

struct sflow {
	struct sdir d[2];
	struct sflow *free_next;
};

struct nj_stream_table {
	struct nj_stream_config cfg;
	nj_stream_data_fn data;
	nj_stream_event_fn event;
	void *arg;
	struct nj_stream_stats st;
	struct sflow *free_list;
	uint64_t free_count;
};

static const char *const policy_names[NJ_STREAM_POLICY_MAX] = {
	[NJ_STREAM_POLICY_FIRST] = "first",
	[NJ_STREAM_POLICY_LAST] = "last",
	[NJ_STREAM_POLICY_BSD] = "bsd",
	[NJ_STREAM_POLICY_LINUX] = "linux",
	[NJ_STREAM_POLICY_WINDOWS] = "windows",
	[NJ_STREAM_POLICY_SOLARIS] = "solaris",
	[NJ_STREAM_POLICY_HPUX10] = "hpux10",
	[NJ_STREAM_POLICY_HPUX11] = "hpux11",
	[NJ_STREAM_POLICY_IRIX] = "irix",
	[NJ_STREAM_POLICY_MACOS] = "macos",
	[NJ_STREAM_POLICY_OLD_LINUX] = "old-linux",
};

int nj_stream_policy_parse(const char *name)
{
	for (int i = 0; i < NJ_STREAM_POLICY_MAX; i++)
		if (strcmp(name, policy_names[i]) == 0)
			return i;
	if (strcmp(name, "vista") == 0 || strcmp(name, "windows2k3") == 0)
		return NJ_STREAM_POLICY_WINDOWS;
	return -1;
}

void nj_stream_config_defaults(struct nj_stream_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->memcap = 64ull << 20;
	cfg->depth = 1u << 20;
	cfg->max_segments = DEFAULT_MAX_SEGMENTS;
	cfg->policy = NJ_STREAM_POLICY_BSD;
}

struct nj_stream_table *nj_stream_create(const struct nj_stream_config *cfg, nj_stream_data_fn data,
					 nj_stream_event_fn event, void *arg)
{
	struct nj_stream_table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->cfg = *cfg;
	if (!t->cfg.max_segments)
		t->cfg.max_segments = DEFAULT_MAX_SEGMENTS;
	t->data = data;
	t->event = event;
	t->arg = arg;
	return t;
}

void nj_stream_destroy(struct nj_stream_table *t)
{
	if (!t)
		return;
	while (t->free_list) {
		struct sflow *s = t->free_list;

		t->free_list = s->free_next;
		free(s);
	}
	free(t);
}

const struct nj_stream_stats *nj_stream_stats(const struct nj_stream_table *t)
{
	return &t->st;
}

/* ------------------------------------------------------------------ helpers */

static void seg_free(struct nj_stream_table *t, struct sdir *d, struct seg *s)
{
	t->st.memuse -= sizeof(*s) + s->len;
	d->nseg--;
	free(s);
}

static void dir_clear(struct nj_stream_table *t, struct sdir *d)
{
	while (d->q) {
		struct seg *s = d->q;

		d->q = s->next;
		seg_free(t, d, s);
	}
}

/* Offset of seq in d's stream, relative to the next expected byte. */
static inline uint64_t seq_off(const struct sdir *d, uint32_t seq)
{
	uint32_t next_seq = d->base_seq + (uint32_t)d->next;
	int32_t delta = (int32_t)(seq - next_seq);

	if (delta < 0 && (uint64_t)(-(int64_t)delta) > d->next)
		return 0; /* before the start of the stream */
	return d->next + (uint64_t)(int64_t)delta;
}

static inline int flow_dir(const struct nj_pkt *p)
{
	return (p->flags & NJ_PKT_TOCLIENT) ? 1 : 0;
}

/* Deliver len in-order bytes (respecting depth); returns bytes consumed from
 * the stream. */
static void deliver(struct nj_stream_table *t, struct nj_flow *f, int dir, struct sdir *d,
		    const uint8_t *data, uint32_t len, const struct nj_pkt *p)
{
	if (d->depth_hit)
		return;
	if (t->cfg.depth && d->next + len > t->cfg.depth) {
		uint32_t room = (uint32_t)(t->cfg.depth - d->next);

		len = room;
		d->depth_hit = 1;
		t->st.depth_reached++;
	}
	if (len) {
		d->next += len;
		t->st.bytes_delivered += len;
		t->data(t->arg, f, dir, data, len, 0, p);
	}
	if (d->depth_hit)
		dir_clear(t, d);
}

static void deliver_gap(struct nj_stream_table *t, struct nj_flow *f, int dir, struct sdir *d,
			uint64_t len, const struct nj_pkt *p)
{
	if (!len || d->depth_hit)
		return;
	t->st.gaps++;
	t->st.gap_bytes += len;
	if (t->event)
		t->event(t->arg, f, p, "stream.reassembly_seq_gap");
	if (t->cfg.depth && d->next + len >= t->cfg.depth) {
		len = t->cfg.depth - d->next;
		d->depth_hit = 1;
		t->st.depth_reached++;
	}
	d->next += len;
	t->data(t->arg, f, dir, NULL, (uint32_t)(len > UINT32_MAX ? UINT32_MAX : len),
		NJ_STREAM_GAP, p);
	if (d->depth_hit)
		dir_clear(t, d);
}

/* Deliver queued segments that have become in order. */
static void flush_queue(struct nj_stream_table *t, struct nj_flow *f, int dir, struct sdir *d,
			const struct nj_pkt *p)
{
	while (d->q && d->q->off <= d->next && !d->depth_hit) {
		struct seg *s = d->q;
		uint64_t end = s->off + s->len;

		d->q = s->next;
		if (end > d->next) {
			uint32_t skip = (uint32_t)(d->next - s->off);

			deliver(t, f, dir, d, s->data + skip, s->len - skip, p);
		}
		seg_free(t, d, s);
	}
}

static void maybe_eof(struct nj_stream_table *t, struct nj_flow *f, int dir, struct sdir *d,
		      const struct nj_pkt *p)
{
	if (d->eof || !d->fin)
		return;
	if (d->next >= d->fin_off || d->depth_hit) {
		d->eof = 1;
		t->data(t->arg, f, dir, NULL, 0, NJ_STREAM_EOF, p);
	}
}

/*
 * Does new data win an overlap with queued data, by target policy? ns/ne and
 * os/oe are the new and old segments' start and end offsets.
 */
static bool new_wins(enum nj_stream_policy pol, uint64_t ns, uint64_t ne, uint64_t os, uint64_t oe)
{
	switch (pol) {
	case NJ_STREAM_POLICY_LAST: return true;
	case NJ_STREAM_POLICY_FIRST:
	case NJ_STREAM_POLICY_WINDOWS: /* Windows and Solaris keep the original data
                                  */
	case NJ_STREAM_POLICY_SOLARIS:
	case NJ_STREAM_POLICY_HPUX11: return false;
	case NJ_STREAM_POLICY_LINUX:
		/* the new segment wins if it starts before, or at the same place and is
     * longer */
		return ns < os || (ns == os && ne > oe);
	case NJ_STREAM_POLICY_OLD_LINUX:
	case NJ_STREAM_POLICY_BSD:
	case NJ_STREAM_POLICY_HPUX10:
	case NJ_STREAM_POLICY_IRIX:
	case NJ_STREAM_POLICY_MACOS:
	default:
		/* BSD: the new segment wins where it starts before the original */
		return ns < os;
	}
}

static struct seg *seg_new(struct nj_stream_table *t, struct sdir *d, uint64_t off,
			   const uint8_t *data, uint32_t len)
{
	struct seg *s;

	if (d->nseg >= t->cfg.max_segments) {
		t->st.segment_limit++;
		return NULL;
	}
	if (t->st.memuse + sizeof(*s) + len > t->cfg.memcap) {
		t->st.memcap_hits++;
		return NULL;
	}
	s = malloc(sizeof(*s) + len);
	if (!s) {
		t->st.memcap_hits++;
		return NULL;
	}
	s->next = NULL;
	s->off = off;
	s->len = len;
	memcpy(s->data, data, len);
	t->st.memuse += sizeof(*s) + len;
	d->nseg++;
	return s;
}

/*
 * Queue [off, off+len) ahead of the next expected byte. Parts that overlap
 * queued data are resolved by policy; the rest become new segments. Returns
 * false when a limit refused data (the caller turns the hole into a gap).
 */
static bool enqueue(struct nj_stream_table *t, struct nj_flow *f, struct sdir *d, uint64_t off,
		    const uint8_t *data, uint32_t len, const struct nj_pkt *p)
{
	struct seg **pp = &d->q;
	uint64_t ns = off, ne = off + len, cur = off;
	bool ok = true, diff = false;

	t->st.ooo_segments++;
	while (cur < ne) {
		struct seg *s = *pp;

		if (!s || s->off >= ne) {
			/* the rest fits before s (or at the end) */
			struct seg *n = seg_new(t, d, cur, data + (cur - ns), (uint32_t)(ne - cur));

			if (!n)
				return false;
			n->next = s;
			*pp = n;
			break;
		}
		if (s->off + s->len <= cur) {
			pp = &s->next;
			continue;
		}
		if (s->off > cur) {
			/* a hole before s: new data fills it */
			struct seg *n =
				seg_new(t, d, cur, data + (cur - ns), (uint32_t)(s->off - cur));

			if (!n) {
				ok = false;
				break;
			}
			n->next = s;
			*pp = n;
			pp = &n->next;
			cur = s->off;
			continue;
		}
		/* overlap of [cur, min(ne, s end)) with s */
		{
			uint64_t oe = s->off + s->len;
			uint64_t end = ne < oe ? ne : oe;
			uint8_t *old = s->data + (cur - s->off);
			const uint8_t *nw = data + (cur - ns);
			uint32_t n = (uint32_t)(end - cur);

			t->st.overlaps++;
			if (memcmp(old, nw, n) != 0) {
				diff = true;
				if (new_wins(t->cfg.policy, ns, ne, s->off, oe))
					memcpy(old, nw, n);
			}
			cur = end;
			pp = &s->next;
		}
	}
	if (diff) {
		t->st.overlaps_diff++;
		if (t->event)
			t->event(t->arg, f, p, "stream.reassembly_overlap_different_data");
	}
	return ok;
}

/* Queued data sits after an acknowledged hole: the hole will not be filled. */
static void acked_hole(struct nj_stream_table *t, struct nj_flow *f, int dir, struct sdir *d,
		       const struct nj_pkt *p)
{
	while (d->q && d->q->off > d->next && d->q->off <= d->acked && !d->depth_hit) {
		deliver_gap(t, f, dir, d, d->q->off - d->next, p);
		flush_queue(t, f, dir, d, p);
	}
	maybe_eof(t, f, dir, d, p);
}

static struct sflow *sflow_get(struct nj_stream_table *t, struct nj_flow *f)
{
	struct sflow *s = f->stream_state;

	if (s)
		return s;
	if (t->free_list) {
		s = t->free_list;
		t->free_list = s->free_next;
		t->free_count--;
		memset(s, 0, sizeof(*s));
	} else {
		s = calloc(1, sizeof(*s));
		if (!s)
			return NULL;
	}
	f->stream_state = s;
	return s;
}

static void sflow_put(struct nj_stream_table *t, struct nj_flow *f)
{
	struct sflow *s = f->stream_state;

	if (!s)
		return;
	dir_clear(t, &s->d[0]);
	dir_clear(t, &s->d[1]);
	f->stream_state = NULL;
	if (t->free_count < 4096) {
		s->free_next = t->free_list;
		t->free_list = s;
		t->free_count++;
	} else {
		free(s);
	}
}

/* ------------------------------------------------------------------ per packet
 */

/*
 * The receiver acknowledged past data we never saw (lost before the
 * capture). An ACK alone does not make a gap: captures often show the ACK
 * just before the data it acknowledges. The hole becomes a gap once data
 * after it has arrived (queued) and the hole is acknowledged, or at flow end.
 */
static void ack_gap(struct nj_stream_table *t, struct nj_flow *f, int dir, struct sdir *d,
		    uint32_t ack, const struct nj_pkt *p)
{
	uint64_t acked;

	if (!d->base_set || d->eof || d->depth_hit)
		return;
	acked = seq_off(d, ack);
	if (d->fin && acked > d->fin_off)
		acked = d->fin_off; /* the FIN's own sequence number is not data */
	if (acked > d->acked)
		d->acked = acked;
	acked_hole(t, f, dir, d, p);
}

void nj_stream_pkt(struct nj_stream_table *t, struct nj_flow *f, const struct nj_pkt *p)
{
	struct sflow *sf;
	int dir = flow_dir(p);
	struct sdir *d;
	uint32_t seq = p->tcp_seq;
	uint8_t fl = p->tcp_flags;
	uint32_t len = p->payload_len;
	uint64_t off;

	if (!len && !(fl & (TH_SYN | TH_FIN | TH_RST)) && !f->stream_state)
		return; /* pure ACKs before any data: nothing to do */
	sf = sflow_get(t, f);
	if (!sf)
		return;
	t->st.segments++;
	d = &sf->d[dir];

	if (fl & TH_SYN) {
		/* the SYN's own sequence number precedes the first data byte */
		if (!d->base_set || d->next == 0) {
			d->base_seq = seq + 1;
			d->base_set = 1;
			d->next = 0;
		}
		seq++;
	} else if (!d->base_set && (len || (fl & TH_FIN))) {
		/* picked up mid-stream: the stream starts here */
		d->base_seq = seq;
		d->base_set = 1;
	}

	/* ACKs reveal data of the other direction that was never captured */
	if ((fl & TH_ACK) && sf->d[!dir].base_set)
		ack_gap(t, f, !dir, &sf->d[!dir], p->tcp_ack, p);

	if (!d->base_set)
		goto flags;
	if (len && !d->eof && !d->depth_hit) {
		const uint8_t *data = p->data + p->payload_off;

		off = seq_off(d, seq);
		if (off + len <= d->next) {
			/* entirely old: a retransmission */
		} else if (off <= d->next) {
			/* in order (possibly overlapping the front): straight from the packet */
			uint32_t skip = (uint32_t)(d->next - off);

			if (d->q && d->q->off < off + len) {
				/* queued data overlaps: resolve it there, then flush */
				if (!enqueue(t, f, d, d->next, data + skip, len - skip, p)) {
					deliver(t, f, dir, d, data + skip, len - skip, p);
				}
				flush_queue(t, f, dir, d, p);
			} else {
				deliver(t, f, dir, d, data + skip, len - skip, p);
				flush_queue(t, f, dir, d, p);
			}
		} else if (enqueue(t, f, d, off, data, len, p)) {
			acked_hole(t, f, dir, d, p);
		} else {
			/* no room to hold it: give up on the holes before it, deliver what we
       * have */
			while (d->next < off && !d->depth_hit) {
				if (d->q && d->q->off <= off) {
					if (d->q->off > d->next)
						deliver_gap(t, f, dir, d, d->q->off - d->next, p);
					flush_queue(t, f, dir, d, p);
				} else {
					deliver_gap(t, f, dir, d, off - d->next, p);
				}
			}
			if (off + len > d->next && !d->depth_hit) {
				uint32_t skip = (uint32_t)(d->next - off);

				deliver(t, f, dir, d, data + skip, len - skip, p);
			}
			flush_queue(t, f, dir, d, p);
		}
	}
flags:
	if ((fl & TH_FIN) && d->base_set && !d->fin) {
		d->fin = 1;
		d->fin_off = seq_off(d, seq + len);
	}
	if (fl & TH_RST) {
		/* everything in order has been delivered; nothing more will come */
		for (int k = 0; k < 2; k++) {
			struct sdir *x = &sf->d[k];

			if (!x->eof) {
				x->eof = 1;
				dir_clear(t, x);
				t->data(t->arg, f, k, NULL, 0, NJ_STREAM_EOF, p);
			}
		}
		return;
	}
	maybe_eof(t, f, dir, d, p);
}

void nj_stream_swap(struct nj_flow *f)
{
	struct sflow *sf = f->stream_state;
	struct sdir tmp;

	if (!sf)
		return;
	tmp = sf->d[0];
	sf->d[0] = sf->d[1];
	sf->d[1] = tmp;
}

void nj_stream_flow_end(struct nj_stream_table *t, struct nj_flow *f)
{
	struct sflow *sf = f->stream_state;

	if (!sf)
		return;
	for (int k = 0; k < 2; k++) {
		struct sdir *d = &sf->d[k];

		while (d->q && !d->eof && !d->depth_hit) {
			if (d->q->off > d->next)
				deliver_gap(t, f, k, d, d->q->off - d->next, NULL);
			flush_queue(t, f, k, d, NULL);
		}
		if (!d->eof) {
			d->eof = 1;
			t->data(t->arg, f, k, NULL, 0, NJ_STREAM_EOF, NULL);
		}
	}
	sflow_put(t, f);
}
