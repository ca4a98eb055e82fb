/* SPDX-License-Identifier: MIT */
/*
 * TCP reassembly (see stream.h for the contract).
 *
 * Each direction of a flow keeps a 64-bit stream offset of the next byte to
 * deliver; sequence numbers become offsets relative to it by serial-number
 * arithmetic, so wrap-around needs no special case.
 *
 * The common case, a segment that starts exactly at the next expected byte
 * while nothing is buffered, is delivered straight from the packet: no copy,
 * no allocation, a handful of compares. Everything else takes the slow path:
 *
 *  - Segments ahead of the next byte are copied into 2 KiB blocks of a
 *    per-core pool, addressed by stream offset (block n holds offsets
 *    [n*2048, n*2048+2048)), so a run of small segments shares blocks. Each
 *    stored segment also leaves a descriptor, its original [start, end), in a
 *    sorted list: overlaps are decided per pair of (new segment, stored
 *    segment) by the target policy, as in Suricata's engine, which needs the
 *    original boundaries and not the merged bytes. The union of the
 *    descriptors is exactly the set of stored bytes.
 *  - A segment at the next byte that overlaps stored data is resolved into a
 *    scratch buffer (new bytes, with the stored bytes put back where the
 *    policy keeps them) and delivered from there, without being stored.
 *  - When a segment cannot be stored (pool or per-direction limit), the holes
 *    below it are given up as gaps and it is delivered in order: the limit
 *    costs the holes, never the data in hand.
 *
 * Delivered bytes are final. To tell a retransmission with other bytes from
 * an identical one without keeping a copy of what was delivered, each
 * direction keeps prefix sums of a linear hash over the last few delivered
 * segments (HIST boundaries); a retransmission is checked over the boundaries
 * it covers.
 *
 * Memory: blocks, descriptors and per-flow state are preallocated arrays
 * sized from the two memcaps, handed out from free lists (never-used entries
 * are taken in order, so untouched memory costs nothing until traffic needs
 * it). Nothing is allocated per packet.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "../common/nj_common.h"
#include "stream.h"

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_ACK 0x10

#define NIL UINT32_MAX

#define BLK		     2048u /* bytes of segment data per pool block */
#define DESC_PER_BLK	     4u	   /* descriptors preallocated per block of the memcap */
#define DEFAULT_MAX_SEGMENTS 2048u
#define DEFAULT_SSN_MEMCAP   (64ull << 20)
#define HIST		     8u		/* retransmission check: delivered-range boundaries kept */
#define MAX_WIN		     (1u << 30) /* farther than this from the next byte: not this stream */
/* Data farther than this past the rest starts a region of its own (Suricata's streaming
 * buffer region gap): counted for the flow event's tcp.*_max_regions. */
#define REGION_GAP	(256u * 1024u)
#define TENTATIVE_SLACK (1u << 20) /* first data this far past an ACK-derived base: rebase */
#define MAX_SEG		65536u	   /* payload_len is 16 bits */
#define HUGE_2M		(2ull << 20)
#define CSUM_BAD	(NJ_PKT_IPV4_CSUM_BAD | NJ_PKT_L4_CSUM_BAD)

struct blk {
	uint64_t no;   /* block number: stream offset / BLK */
	uint32_t next; /* next block of the direction, ascending */
};

struct sdesc {
	uint64_t start, end; /* stream offsets of a stored segment */
	uint32_t next;	     /* sorted by start, then end */
};

struct hist {
	uint64_t off;  /* a boundary between delivered segments */
	uint64_t a, b; /* hash of the bytes from the oldest boundary to off */
};

enum { BASE_NONE = 0, BASE_SET, BASE_TENTATIVE /* from the peer's ACK, no data yet */ };

struct sdir {
	/* read by every segment */
	uint64_t next;	   /* stream offset of the next byte to deliver */
	uint32_t base_seq; /* sequence number of stream offset 0 */
	uint32_t q;	   /* first descriptor; NIL = nothing buffered */
	uint8_t base, fin, eof, depth_hit;
	uint8_t policy;
	uint8_t hn, hh;	   /* history entries, index of the oldest */
	uint8_t depth_seg; /* depth set by nj_stream_flow_set_depth: segments crossing it are
			      dropped whole (Suricata's rule) */
	uint32_t depth;	   /* app bytes reassembled; 0 = unlimited (cfg.depth at start) */
	/* slow path */
	uint32_t qtail, blks, btail, nseg;
	uint64_t qmax_end; /* upper bound of the descriptors' ends */
	uint64_t fin_off;  /* offset of the FIN (valid with fin) */
	uint64_t hi;	   /* end of what the sender was seen to send, at least (or next) */
	uint64_t acked;	   /* offset the receiver acknowledged up to (IDS timing) */
	struct hist h[HIST];
};

struct sflow {
	struct sdir d[2];
	uint32_t free_next;
	uint8_t rst;	    /* a RST ended both directions */
	uint8_t rst_dir;    /* direction that sent it */
	uint8_t rst_inject; /* stream.suspected_rst_inject raised */
};

struct nj_stream_table {
	struct nj_stream_config cfg;
	nj_stream_data_fn data;
	nj_stream_event_fn event;
	void *arg;
	struct nj_stream_stats st;

	uint8_t *bdata; /* nblk * BLK bytes */
	struct blk *bhdr;
	uint32_t nblk, bbump, bfree, bavail;
	struct sdesc *desc;
	uint32_t ndesc, dbump, dfree, davail;
	struct sflow *ssn;
	uint32_t nssn, sbump, sfree;
	uint8_t *scratch;   /* MAX_SEG bytes: overlap resolution of an in-order segment */
	uint16_t csum_mask; /* packet flags that make a segment ignored */
	unsigned xflags;    /* added to the data callback's flags (NJ_STREAM_RAW_ONLY) */
};

/* ------------------------------------------------------------------ policy */

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
	[NJ_STREAM_POLICY_VISTA] = "vista",
};

/* Suricata's other host-os-policy names, mapped to the policy that decides alike. */
static const struct {
	const char *name;
	enum nj_stream_policy pol;
} policy_alias[] = {
	{"none", NJ_STREAM_POLICY_BSD},	       {"windows2k3", NJ_STREAM_POLICY_WINDOWS},
	{"bsd-right", NJ_STREAM_POLICY_FIRST}, {"old-solaris", NJ_STREAM_POLICY_FIRST},
	{"hpux", NJ_STREAM_POLICY_HPUX11},
};

int nj_stream_policy_parse(const char *name)
{
	for (int i = 0; i < NJ_STREAM_POLICY_MAX; i++)
		if (strcmp(name, policy_names[i]) == 0)
			return i;
	for (size_t i = 0; i < NJ_ARRAY_SIZE(policy_alias); i++)
		if (strcmp(name, policy_alias[i].name) == 0)
			return policy_alias[i].pol;
	return -1;
}

const char *nj_stream_policy_name(enum nj_stream_policy pol)
{
	return (unsigned)pol < NJ_STREAM_POLICY_MAX ? policy_names[pol] : "?";
}

/*
 * Do the new segment's bytes replace the stored segment's, over their
 * overlap? [ns, ne) new, [os, oe) stored: the decision table of stream.h.
 */
static bool new_wins(unsigned pol, uint64_t ns, uint64_t ne, uint64_t os, uint64_t oe)
{
	switch (pol) {
	case NJ_STREAM_POLICY_LAST: return true;
	case NJ_STREAM_POLICY_FIRST:
	case NJ_STREAM_POLICY_VISTA: return false;
	case NJ_STREAM_POLICY_LINUX: return ns < os || (ns == os && ne > oe);
	case NJ_STREAM_POLICY_OLD_LINUX: return ns < os || (ns == os && ne >= oe);
	case NJ_STREAM_POLICY_SOLARIS:
	case NJ_STREAM_POLICY_HPUX11: return ne > oe || (ne == oe && ns <= os);
	default: /* bsd, windows, hpux10, irix, macos */ return ns < os;
	}
}

/* ------------------------------------------------------------------ table */

void nj_stream_config_defaults(struct nj_stream_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->memcap = 64ull << 20;
	cfg->depth = 1u << 20;
	cfg->max_segments = DEFAULT_MAX_SEGMENTS;
	cfg->policy = NJ_STREAM_POLICY_BSD;
	cfg->ssn_memcap = DEFAULT_SSN_MEMCAP;
	cfg->check_retrans = true;
	cfg->ack_delivery = true;
}

/* Large pools on 2 MiB pages (fewer TLB misses); not touched here. */
static void *pool_alloc(size_t bytes)
{
	void *p;

	if (bytes >= HUGE_2M) {
		p = aligned_alloc(HUGE_2M, (bytes + HUGE_2M - 1) & ~(HUGE_2M - 1));
		if (p)
			madvise(p, bytes, MADV_HUGEPAGE);
		return p;
	}
	return aligned_alloc(NJ_CACHE_LINE,
			     (bytes + NJ_CACHE_LINE - 1) & ~(size_t)(NJ_CACHE_LINE - 1));
}

struct nj_stream_table *nj_stream_create(const struct nj_stream_config *cfg, nj_stream_data_fn data,
					 nj_stream_event_fn event, void *arg)
{
	struct nj_stream_table *t;
	uint64_t nblk, nssn;

	if (!data || (unsigned)cfg->policy >= NJ_STREAM_POLICY_MAX) {
		errno = EINVAL;
		return NULL;
	}
	nblk = cfg->memcap / (BLK + sizeof(struct blk) + DESC_PER_BLK * sizeof(struct sdesc));
	if (nblk > (NIL - 1) / DESC_PER_BLK)
		nblk = (NIL - 1) / DESC_PER_BLK;
	nssn = cfg->ssn_memcap / sizeof(struct sflow);
	if (nssn > NIL - 1)
		nssn = NIL - 1;
	if (nssn == 0) {
		errno = EINVAL;
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->cfg = *cfg;
	if (!t->cfg.max_segments)
		t->cfg.max_segments = DEFAULT_MAX_SEGMENTS;
	t->data = data;
	t->event = event;
	t->arg = arg;
	t->csum_mask = cfg->checksum_validation ? CSUM_BAD : 0;
	t->nblk = t->bavail = (uint32_t)nblk;
	t->ndesc = t->davail = (uint32_t)(nblk * DESC_PER_BLK);
	t->nssn = (uint32_t)nssn;
	t->bfree = t->dfree = t->sfree = NIL;
	t->scratch = malloc(MAX_SEG);
	t->ssn = pool_alloc(nssn * sizeof(struct sflow));
	if (!t->scratch || !t->ssn)
		goto out_free;
	if (nblk) {
		t->bdata = pool_alloc(nblk * BLK);
		t->bhdr = pool_alloc(nblk * sizeof(struct blk));
		t->desc = pool_alloc(nblk * DESC_PER_BLK * sizeof(struct sdesc));
		if (!t->bdata || !t->bhdr || !t->desc)
			goto out_free;
	}
	return t;
out_free:
	nj_stream_destroy(t);
	errno = ENOMEM;
	return NULL;
}

void nj_stream_destroy(struct nj_stream_table *t)
{
	if (!t)
		return;
	free(t->bdata);
	free(t->bhdr);
	free(t->desc);
	free(t->ssn);
	free(t->scratch);
	free(t);
}

const struct nj_stream_stats *nj_stream_stats(const struct nj_stream_table *t)
{
	return &t->st;
}

/* ------------------------------------------------------------------ pools */

static uint32_t blk_get(struct nj_stream_table *t)
{
	uint32_t i;

	if (t->bfree != NIL) {
		i = t->bfree;
		t->bfree = t->bhdr[i].next;
	} else if (t->bbump < t->nblk) {
		i = t->bbump++;
	} else {
		return NIL;
	}
	t->bavail--;
	t->st.memuse += BLK + sizeof(struct blk);
	return i;
}

static void blk_put(struct nj_stream_table *t, uint32_t i)
{
	t->bhdr[i].next = t->bfree;
	t->bfree = i;
	t->bavail++;
	t->st.memuse -= BLK + sizeof(struct blk);
}

static inline uint8_t *blk_data(const struct nj_stream_table *t, uint32_t i)
{
	return t->bdata + (size_t)i * BLK;
}

static uint32_t desc_get(struct nj_stream_table *t)
{
	uint32_t i;

	if (t->dfree != NIL) {
		i = t->dfree;
		t->dfree = t->desc[i].next;
	} else if (t->dbump < t->ndesc) {
		i = t->dbump++;
	} else {
		return NIL;
	}
	t->davail--;
	t->st.memuse += sizeof(struct sdesc);
	return i;
}

static void desc_put(struct nj_stream_table *t, uint32_t i)
{
	t->desc[i].next = t->dfree;
	t->dfree = i;
	t->davail++;
	t->st.memuse -= sizeof(struct sdesc);
}

static void blks_clear(struct nj_stream_table *t, struct sdir *d)
{
	while (d->blks != NIL) {
		uint32_t b = d->blks;

		d->blks = t->bhdr[b].next;
		blk_put(t, b);
	}
	d->btail = NIL;
}

/* Drops everything buffered in d. */
static void dir_clear(struct nj_stream_table *t, struct sdir *d)
{
	while (d->q != NIL) {
		uint32_t i = d->q;

		d->q = t->desc[i].next;
		desc_put(t, i);
	}
	d->qtail = NIL;
	d->nseg = 0;
	d->qmax_end = 0;
	blks_clear(t, d);
}

static struct sflow *sflow_new(struct nj_stream_table *t, struct nj_flow *f)
{
	struct sflow *sf;
	uint32_t i;

	if (t->sfree != NIL) {
		i = t->sfree;
		t->sfree = t->ssn[i].free_next;
	} else if (t->sbump < t->nssn) {
		i = t->sbump++;
	} else {
		t->st.ssn_memcap_hits++;
		return NULL;
	}
	sf = &t->ssn[i];
	memset(sf, 0, sizeof(*sf));
	for (int k = 0; k < 2; k++) {
		struct sdir *d = &sf->d[k];
		int pol = -1;

		d->q = d->qtail = d->blks = d->btail = NIL;
		d->depth = t->cfg.depth;
		if (t->cfg.host_policy) {
			/* the receiver of direction 0 (to server) is the server */
			const uint8_t *rcv = f->addr[k == 0 ? !f->client : f->client];

			pol = t->cfg.host_policy(t->cfg.host_policy_arg, rcv, f->ipv6);
		}
		d->policy = (uint8_t)(pol >= 0 && pol < NJ_STREAM_POLICY_MAX ? pol
									     : (int)t->cfg.policy);
	}
	f->stream_state = sf;
	f->max_regions[0] = f->max_regions[1] = 1; /* one region from the start, as Suricata */
	t->st.ssn_active++;
	t->st.ssn_memuse += sizeof(*sf);
	return sf;
}

static void sflow_put(struct nj_stream_table *t, struct nj_flow *f)
{
	struct sflow *sf = f->stream_state;

	dir_clear(t, &sf->d[0]);
	dir_clear(t, &sf->d[1]);
	sf->free_next = t->sfree;
	t->sfree = (uint32_t)(sf - t->ssn);
	f->stream_state = NULL;
	t->st.ssn_active--;
	t->st.ssn_memuse -= sizeof(*sf);
}

/* ------------------------------------------------------------------ retransmission check */

static inline uint64_t load_le64(const uint8_t *p)
{
	uint64_t w;

	memcpy(&w, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	w = __builtin_bswap64(w);
#endif
	return w;
}

/*
 * m blocks of 64 bytes as 8 lanes of 64-bit words: s[j] the sum of lane j,
 * r[j] the sum of its running sums before each add (for the weighted sum).
 */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
typedef uint64_t v4u64 __attribute__((vector_size(32)));

static void hash_body(const uint8_t *p, uint32_t m, uint64_t *s, uint64_t *r)
{
	v4u64 s0 = {0}, s1 = {0}, r0 = {0}, r1 = {0};

	for (uint32_t i = 0; i < m; i++, p += 64) {
		v4u64 w0, w1;

		memcpy(&w0, p, 32);
		memcpy(&w1, p + 32, 32);
		r0 += s0;
		r1 += s1;
		s0 += w0;
		s1 += w1;
	}
	for (unsigned j = 0; j < 4; j++) {
		s[j] = s0[j];
		s[4 + j] = s1[j];
		r[j] = r0[j];
		r[4 + j] = r1[j];
	}
}
#else
static void hash_body(const uint8_t *p, uint32_t m, uint64_t *s, uint64_t *r)
{
	memset(s, 0, 8 * sizeof(*s));
	memset(r, 0, 8 * sizeof(*r));
	for (uint32_t i = 0; i < m; i++, p += 64)
		for (unsigned j = 0; j < 8; j++) {
			r[j] += s[j];
			s[j] += load_le64(p + 8 * j);
		}
}
#endif

/*
 * Linear hash of len bytes at stream offset off. Over the 8-byte cells of
 * the stream (cell c holds offsets 8c..8c+7, little-endian), A = sum of the
 * cells' words and B = sum of c * word, mod 2^64. Being linear, the hash of a
 * range is the sum of the hashes of its parts wherever they are cut, so the
 * per-direction prefix sums answer for any range between two boundaries. Any
 * single changed byte changes A; a change must cancel in both sums to go
 * unseen. The body runs 8 independent lanes (B by running sums, no
 * multiply) as two 4-word vectors.
 */
static __attribute__((noinline)) void hash_bytes(const uint8_t *p, uint64_t off, uint32_t len,
						 uint64_t *pa, uint64_t *pb)
{
	const uint8_t *end = p + len;
	uint32_t total = len;
	uint64_t a = 0, b = 0, c = off >> 3, w;
	unsigned lane = (unsigned)(off & 7);
	uint32_t nw;

	if (lane) {
		unsigned n = 8 - lane < len ? 8 - lane : len;

		if (len >= 8) {
			/* the first word of the segment, its bytes moved up to their lanes */
			w = load_le64(p) << (8 * lane);
		} else {
			uint8_t cell[8] = {0};

			memcpy(cell + lane, p, n);
			w = load_le64(cell);
		}
		a += w;
		b += c * w;
		c++;
		p += n;
		len -= n;
	}
	nw = len >> 3;
	if (nw >= 8) {
		uint64_t s[8], r[8], sa = 0, sk = 0;
		uint32_t m = nw >> 3;

		hash_body(p, m, s, r);
		p += 64ull * m;
		/* lane j holds words k = 8i + j: sum k*w = 8 * ((m-1) s - r) + j s */
		for (unsigned j = 0; j < 8; j++) {
			sa += s[j];
			sk += 8 * ((uint64_t)(m - 1) * s[j] - r[j]) + j * s[j];
		}
		a += sa;
		b += c * sa + sk;
		c += 8ull * m;
		nw -= 8 * m;
		len -= 64 * m;
	}
	for (; nw; nw--, p += 8, len -= 8, c++) {
		w = load_le64(p);
		a += w;
		b += c * w;
	}
	if (len) {
		if (total >= 8) {
			/* the last word of the segment, shifted down to the lanes it fills */
			w = load_le64(end - 8) >> (8 * (8 - len));
		} else {
			uint8_t cell[8] = {0};

			memcpy(cell, p, len);
			w = load_le64(cell);
		}
		a += w;
		b += c * w;
	}
	*pa = a;
	*pb = b;
}

static inline struct hist *hist_at(struct sdir *d, unsigned i)
{
	return &d->h[(d->hh + i) & (HIST - 1)];
}

/* Delivered [from, to) with hash (a, b): a new boundary at to. */
static void hist_add(struct sdir *d, uint64_t from, uint64_t to, uint64_t a, uint64_t b)
{
	struct hist *last = d->hn ? hist_at(d, d->hn - 1u) : NULL;

	if (!last || last->off != from) {
		d->hh = 0;
		d->hn = 1;
		d->h[0] = (struct hist){from, 0, 0};
		last = &d->h[0];
	}
	a += last->a;
	b += last->b;
	if (d->hn == HIST) {
		d->hh = (uint8_t)((d->hh + 1) & (HIST - 1));
		d->hn--;
	}
	*hist_at(d, d->hn) = (struct hist){to, a, b};
	d->hn++;
}

/* The bytes about to be delivered at next, for the retransmission check. */
static __attribute__((noinline)) void hist_note(struct sdir *d, const uint8_t *data, uint32_t len)
{
	uint64_t a, b;

	hash_bytes(data, d->next, len, &a, &b);
	hist_add(d, d->next, d->next + len, a, b);
}

static inline void event(struct nj_stream_table *t, struct nj_flow *f, const struct nj_pkt *p,
			 const char *name)
{
	if (t->event)
		t->event(t->arg, f, p, name);
}

/*
 * A retransmission of delivered bytes: [s, s+len) < next. Compares the part
 * between the outermost history boundaries it covers. Returns true when the
 * bytes differ.
 */
static bool retrans_differs(struct sdir *d, uint64_t s, const uint8_t *data, uint32_t len)
{
	uint64_t e = s + len, a, b;
	int i = -1, j = -1;

	for (unsigned k = 0; k < d->hn; k++) {
		uint64_t o = hist_at(d, k)->off;

		if (o >= s && i < 0)
			i = (int)k;
		if (o <= e)
			j = (int)k;
	}
	if (i < 0 || j <= i)
		return false;
	{
		const struct hist *hi = hist_at(d, (unsigned)i), *hj = hist_at(d, (unsigned)j);

		hash_bytes(data + (hi->off - s), hi->off, (uint32_t)(hj->off - hi->off), &a, &b);
		return a != hj->a - hi->a || b != hj->b - hi->b;
	}
}

/* ------------------------------------------------------------------ delivery */

static void depth_reached(struct nj_stream_table *t, struct nj_flow *f, struct sdir *d,
			  const struct nj_pkt *p)
{
	d->depth_hit = 1;
	t->st.depth_reached++;
	event(t, f, p, "stream.reassembly_depth_reached");
	dir_clear(t, d);
}

/* Hands len in-order bytes to the parser, cut at the depth. */
static void deliver(struct nj_stream_table *t, struct nj_flow *f, int dir, struct sdir *d,
		    const uint8_t *data, uint32_t len, const struct nj_pkt *p)
{
	bool hit = false;

	if (d->depth && d->next + len >= d->depth) {
		if (unlikely(d->depth_seg) && d->next + len > d->depth)
			len = 0; /* Suricata: a segment crossing the depth is not taken */
		else
			len = d->next < d->depth ? (uint32_t)(d->depth - d->next) : 0;
		hit = true;
	}
	if (likely(len)) {
		if (t->cfg.check_retrans)
			hist_note(d, data, len);
		d->next += len;
		t->st.bytes_delivered += len;
		t->data(t->arg, f, dir, data, len, t->xflags, p);
	}
	if (unlikely(hit))
		depth_reached(t, f, d, p);
}

/* quiet: a hole the flow's end gives up on (after a RST), neither counted nor an event */
static void deliver_gap_q(struct nj_stream_table *t, struct nj_flow *f, int dir, struct sdir *d,
			  uint64_t len, const struct nj_pkt *p, bool quiet)
{
	bool hit = false;

	if (!len || d->depth_hit)
		return;
	if (d->depth && d->next + len >= d->depth) {
		len = d->next < d->depth ? d->depth - d->next : 0;
		hit = true;
	}
	if (len) {
		if (!quiet) {
			t->st.gaps++;
			t->st.gap_bytes += len;
			event(t, f, p, "stream.reassembly_seq_gap");
		}
		d->next += len;
		d->hn = 0; /* the history is of contiguous bytes */
		t->data(t->arg, f, dir, NULL, (uint32_t)len, NJ_STREAM_GAP | t->xflags, p);
	}
	if (hit)
		depth_reached(t, f, d, p);
}

static void deliver_gap(struct nj_stream_table *t, struct nj_flow *f, int dir, struct sdir *d,
			uint64_t len, const struct nj_pkt *p)
{
	deliver_gap_q(t, f, dir, d, len, p, false);
}

/*
 * IDS timing: a direction's bytes go to the callback once the receiver has
 * acknowledged them, on a TCP session (the flow stage saw it established)
 * whose receiver was seen sending; without one (one side captured, as
 * Suricata's stream.async-oneside), or inline, as they come.
 */
static inline uint64_t dlim(const struct nj_stream_table *t, const struct nj_flow *f, int dir,
			    const struct sdir *d)
{
	return t->cfg.ack_delivery && f->tcp_state >= NJ_TCP_ESTABLISHED &&
			       (dir == 0 ? f->pkts_tc : f->pkts_ts) != 0
		       ? d->acked
		       : UINT64_MAX;
}

static void maybe_eof(struct nj_stream_table *t, struct nj_flow *f, int dir, struct sdir *d,
		      const struct nj_pkt *p)
{
	if (d->eof || !d->fin || (d->next < d->fin_off && !d->depth_hit))
		return;
	d->eof = 1;
	dir_clear(t, d);
	t->data(t->arg, f, dir, NULL, 0, NJ_STREAM_EOF, p);
}

/* The block numbered no of d, or the first one after it, or NIL. */
static uint32_t blk_find(const struct nj_stream_table *t, const struct sdir *d, uint64_t no)
{
	uint32_t b = d->blks;

	if (d->btail != NIL && t->bhdr[d->btail].no <= no)
		b = d->btail;
	while (b != NIL && t->bhdr[b].no < no)
		b = t->bhdr[b].next;
	return b;
}

/* Stored bytes [x, y) equal to cmp? (They are all stored.) */
static bool stored_equal(const struct nj_stream_table *t, const struct sdir *d, uint64_t x,
			 uint64_t y, const uint8_t *cmp)
{
	uint32_t b = blk_find(t, d, x / BLK);

	while (x < y && b != NIL) {
		uint64_t bend = (t->bhdr[b].no + 1) * BLK;
		uint32_t n = (uint32_t)((y < bend ? y : bend) - x);

		if (memcmp(blk_data(t, b) + x % BLK, cmp, n) != 0)
			return false;
		cmp += n;
		x += n;
		b = t->bhdr[b].next;
	}
	return true;
}

static void stored_copy(const struct nj_stream_table *t, const struct sdir *d, uint64_t x,
			uint64_t y, uint8_t *out)
{
	uint32_t b = blk_find(t, d, x / BLK);

	while (x < y && b != NIL) {
		uint64_t bend = (t->bhdr[b].no + 1) * BLK;
		uint32_t n = (uint32_t)((y < bend ? y : bend) - x);

		memcpy(out, blk_data(t, b) + x % BLK, n);
		out += n;
		x += n;
		b = t->bhdr[b].next;
	}
}

/* Delivers stored bytes [next, to) block by block, freeing blocks left behind. */
static void deliver_stored(struct nj_stream_table *t, struct nj_flow *f, int dir, struct sdir *d,
			   uint64_t to, const struct nj_pkt *p)
{
	while (d->next < to && !d->depth_hit) {
		uint32_t b = d->blks;
		uint64_t bend;

		while (b != NIL && (t->bhdr[b].no + 1) * BLK <= d->next) {
			d->blks = t->bhdr[b].next;
			blk_put(t, b);
			b = d->blks;
		}
		if (unlikely(b == NIL || t->bhdr[b].no * BLK > d->next)) {
			/* cannot happen: descriptors cover stored bytes only */
			dir_clear(t, d);
			return;
		}
		bend = (t->bhdr[b].no + 1) * BLK;
		deliver(t, f, dir, d, blk_data(t, b) + d->next % BLK,
			(uint32_t)((to < bend ? to : bend) - d->next), p);
		if (d->depth_hit)
			return; /* everything was freed */
		if (d->next >= bend) {
			d->blks = t->bhdr[b].next;
			if (d->blks == NIL)
				d->btail = NIL;
			blk_put(t, b);
		}
	}
}

/*
 * Delivers the stored segments that have become in order, up to offset lim
 * (what the receiver acknowledged; UINT64_MAX: all). A segment that lim cuts
 * keeps its undelivered end stored.
 */
static void flush(struct nj_stream_table *t, struct nj_flow *f, int dir, struct sdir *d,
		  const struct nj_pkt *p, uint64_t lim)
{
	while (d->q != NIL && !d->depth_hit && t->desc[d->q].start <= d->next && d->next < lim) {
		uint64_t cov = d->next;
		uint32_t i = d->q, prev = NIL;

		for (uint32_t k = d->q; k != NIL && t->desc[k].start <= cov; k = t->desc[k].next)
			if (t->desc[k].end > cov)
				cov = t->desc[k].end;
		if (d->fin && cov > d->fin_off)
			cov = d->fin_off; /* bytes past the FIN are not the stream's */
		if (cov > lim)
			cov = lim;
		/* descriptors wholly below cov go; those across it keep [cov, end) */
		while (i != NIL && t->desc[i].start < cov) {
			uint32_t nx = t->desc[i].next;

			if (t->desc[i].end <= cov) {
				if (prev == NIL)
					d->q = nx;
				else
					t->desc[prev].next = nx;
				if (d->qtail == i)
					d->qtail = prev;
				desc_put(t, i);
				d->nseg--;
			} else {
				t->desc[i].start = cov;
				prev = i;
			}
			i = nx;
		}
		if (d->q == NIL) {
			d->qtail = NIL;
			d->qmax_end = 0;
		}
		if (cov > d->next)
			deliver_stored(t, f, dir, d, cov, p);
		if (d->q == NIL && !d->depth_hit)
			blks_clear(t, d); /* no segment needs what is left */
		if (cov <= d->next && d->q != NIL && t->desc[d->q].start <= d->next)
			break; /* no progress (a FIN at or below next byte): stop */
	}
}

/*
 * Overlap of the new segment (original start ns; bytes [s, e), data at s)
 * with stored segments: compares, and where the policy keeps the stored
 * bytes puts them into a scratch copy. Returns the bytes to use for [s, e).
 */
static const uint8_t *resolve(struct nj_stream_table *t, struct nj_flow *f, struct sdir *d,
			      uint64_t ns, uint64_t s, uint64_t e, const uint8_t *data,
			      const struct nj_pkt *p)
{
	const uint8_t *src = data;
	bool ov = false, diff = false;

	if (s >= d->qmax_end)
		return data;
	for (uint32_t i = d->q; i != NIL && t->desc[i].start < e; i = t->desc[i].next) {
		const struct sdesc *o = &t->desc[i];
		uint64_t x, y;

		if (o->end <= s)
			continue;
		x = o->start > s ? o->start : s;
		y = o->end < e ? o->end : e;
		ov = true;
		if (stored_equal(t, d, x, y, data + (x - s)))
			continue;
		diff = true;
		if (!new_wins(d->policy, ns, e, o->start, o->end)) {
			if (src == data) {
				memcpy(t->scratch, data, (size_t)(e - s));
				src = t->scratch;
			}
			stored_copy(t, d, x, y, t->scratch + (x - s));
		}
	}
	if (ov)
		t->st.overlaps++;
	if (diff) {
		t->st.overlaps_diff++;
		event(t, f, p, "stream.reassembly_overlap_different_data");
	}
	return src;
}

/* A segment whose bytes [next, next+len) are in order, stored data or not. */
static void in_order(struct nj_stream_table *t, struct nj_flow *f, int dir, struct sdir *d,
		     uint64_t ns, const uint8_t *data, uint32_t len, const struct nj_pkt *p)
{
	uint64_t e = d->next + len;

	if (d->q != NIL && t->desc[d->q].start < e)
		data = resolve(t, f, d, ns, d->next, e, data, p);
	deliver(t, f, dir, d, data, len, p);
	flush(t, f, dir, d, p, UINT64_MAX);
}

/* Blocks missing for [s, e). */
static uint32_t blks_missing(const struct nj_stream_table *t, const struct sdir *d, uint64_t s,
			     uint64_t e)
{
	uint64_t no = s / BLK, last = (e - 1) / BLK;
	uint32_t b = blk_find(t, d, no), n = 0;

	for (; no <= last; no++) {
		if (b != NIL && t->bhdr[b].no == no)
			b = t->bhdr[b].next;
		else
			n++;
	}
	return n;
}

/* Writes [s, e) from src into d's blocks, adding the missing ones (counted beforehand). */
static void store(struct nj_stream_table *t, struct sdir *d, uint64_t s, uint64_t e,
		  const uint8_t *src)
{
	uint32_t prev = NIL, cur = d->blks;

	if (d->btail != NIL && t->bhdr[d->btail].no <= s / BLK) {
		prev = t->bhdr[d->btail].no < s / BLK ? d->btail : NIL;
		cur = t->bhdr[d->btail].no < s / BLK ? NIL : d->btail;
	} else {
		while (cur != NIL && t->bhdr[cur].no < s / BLK) {
			prev = cur;
			cur = t->bhdr[cur].next;
		}
	}
	while (s < e) {
		uint64_t no = s / BLK, bend = (no + 1) * BLK;
		uint32_t n = (uint32_t)((e < bend ? e : bend) - s);

		if (cur == NIL || t->bhdr[cur].no != no) {
			uint32_t b = blk_get(t);

			t->bhdr[b].no = no;
			t->bhdr[b].next = cur;
			if (prev == NIL)
				d->blks = b;
			else
				t->bhdr[prev].next = b;
			if (cur == NIL)
				d->btail = b;
			cur = b;
		}
		memcpy(blk_data(t, cur) + s % BLK, src, n);
		src += n;
		s += n;
		prev = cur;
		cur = t->bhdr[cur].next;
	}
}

static void desc_insert(struct nj_stream_table *t, struct sdir *d, uint32_t n)
{
	struct sdesc *x = &t->desc[n];
	uint32_t prev = NIL, cur = d->q;

	if (d->qtail != NIL &&
	    (t->desc[d->qtail].start < x->start ||
	     (t->desc[d->qtail].start == x->start && t->desc[d->qtail].end <= x->end))) {
		prev = d->qtail;
		cur = NIL;
	} else {
		while (cur != NIL &&
		       (t->desc[cur].start < x->start ||
			(t->desc[cur].start == x->start && t->desc[cur].end <= x->end))) {
			prev = cur;
			cur = t->desc[cur].next;
		}
	}
	x->next = cur;
	if (prev == NIL)
		d->q = n;
	else
		t->desc[prev].next = n;
	if (cur == NIL)
		d->qtail = n;
	if (x->end > d->qmax_end)
		d->qmax_end = x->end;
	d->nseg++;
}

/*
 * Data stored far past the rest may open a region: the regions are the held data
 * from the next byte on, split wherever REGION_GAP bytes or more are missing.
 */
static __attribute__((noinline)) void
count_regions(const struct nj_stream_table *t, struct nj_flow *f, int dir, const struct sdir *d)
{
	uint64_t end = d->next;
	unsigned n = 1;

	for (uint32_t i = d->q; i != NIL; i = t->desc[i].next) {
		if (t->desc[i].start > end + REGION_GAP)
			n++;
		if (t->desc[i].end > end)
			end = t->desc[i].end;
	}
	if (n > 255)
		n = 255;
	if (n > f->max_regions[dir])
		f->max_regions[dir] = (uint8_t)n;
}

static bool has_desc(const struct nj_stream_table *t, const struct sdir *d, uint64_t s, uint64_t e)
{
	for (uint32_t i = d->q; i != NIL && t->desc[i].start <= s; i = t->desc[i].next)
		if (t->desc[i].start == s && t->desc[i].end == e)
			return true;
	return false;
}

/*
 * Store [s, e) (ahead of the next byte). Returns false, before changing
 * anything, when a limit refuses it.
 */
static bool enqueue(struct nj_stream_table *t, struct nj_flow *f, int dir, struct sdir *d,
		    uint64_t s, uint64_t e, const uint8_t *data, const struct nj_pkt *p, bool ahead)
{
	bool dup = s < d->qmax_end && has_desc(t, d, s, e);
	uint32_t n = NIL;

	if (!dup) {
		if (d->nseg >= t->cfg.max_segments) {
			t->st.segment_limit++;
			return false;
		}
		if (!t->davail) {
			t->st.memcap_hits++;
			return false;
		}
	}
	if (blks_missing(t, d, s, e) > t->bavail) {
		t->st.memcap_hits++;
		return false;
	}
	if (ahead)
		t->st.ooo_segments++;
	store(t, d, s, e, resolve(t, f, d, s, s, e, data, p));
	if (!dup) {
		n = desc_get(t);
		t->desc[n].start = s;
		t->desc[n].end = e;
		desc_insert(t, d, n);
		if (s > d->next + REGION_GAP)
			count_regions(t, f, dir, d);
	}
	return true;
}

/*
 * A segment that could not be stored: the holes below it are given up
 * (gaps, with the stored data between them), then it is taken in order.
 */
static void forced(struct nj_stream_table *t, struct nj_flow *f, int dir, struct sdir *d,
		   uint64_t s, uint64_t e, const uint8_t *data, const struct nj_pkt *p)
{
	while (d->next < s && !d->depth_hit) {
		uint64_t to = s;

		if (d->q != NIL && t->desc[d->q].start < to)
			to = t->desc[d->q].start;
		deliver_gap(t, f, dir, d, to - d->next, p);
		flush(t, f, dir, d, p, UINT64_MAX);
	}
	if (!d->depth_hit && e > d->next)
		in_order(t, f, dir, d, s, data + (d->next - s), (uint32_t)(e - d->next), p);
}

/*
 * The receiver acknowledged past d's next byte: what we hold up to there is
 * delivered (IDS timing), what it acknowledged and we do not hold was lost
 * before the capture.
 */
static void ack_gap(struct nj_stream_table *t, struct nj_flow *f, int dir, struct sdir *d,
		    uint32_t ack, const struct nj_pkt *p)
{
	int32_t delta = (int32_t)(ack - (d->base_seq + (uint32_t)d->next));
	uint64_t acked, upto;

	if (likely(delta <= 0) || (uint32_t)delta > MAX_WIN || d->eof || d->depth_hit)
		return;
	acked = d->next + (uint32_t)delta;
	if (d->fin && acked > d->fin_off)
		acked = d->fin_off; /* the FIN's own sequence number is not data */
	if (acked > d->acked)
		d->acked = acked;
	while (d->next < acked && !d->depth_hit) {
		if (d->q != NIL && t->desc[d->q].start < acked)
			upto = t->desc[d->q].start; /* a hole before data we hold */
		else if (acked <= d->hi)
			upto = acked; /* acknowledged, seen, not held */
		else
			break; /* past all we saw: the data may yet come (ACKs captured first) */
		deliver_gap(t, f, dir, d, upto - d->next, p);
		flush(t, f, dir, d, p, dlim(t, f, dir, d));
	}
	maybe_eof(t, f, dir, d, p);
}

/* The payload of a segment of direction dir; seq is that of its first byte. */
static void seg_data(struct nj_stream_table *t, struct nj_flow *f, int dir, struct sdir *d,
		     uint32_t seq, const uint8_t *data, uint32_t len, uint8_t fl,
		     const struct nj_pkt *p)
{
	int32_t delta = (int32_t)(seq - (d->base_seq + (uint32_t)d->next));
	uint64_t s, e;
	bool ahead;
	/* data on a SYN (TCP Fast Open) is not held: it is inspected with its SYN */
	uint64_t lim = (fl & TH_SYN) ? UINT64_MAX : dlim(t, f, dir, d);

	t->st.segments++;
	if (likely(delta == 0 && d->q == NIL && !d->fin && !d->depth_hit && !d->eof &&
		   d->next + len <= lim)) {
		deliver(t, f, dir, d, data, len, p);
		return;
	}
	if (d->eof || d->depth_hit) {
		if (d->eof && delta >= 0)
			t->st.after_eof++;
		return;
	}
	if (delta > (int32_t)MAX_WIN || delta < -(int32_t)MAX_WIN) {
		t->st.out_of_window++;
		return;
	}
	if (delta < 0) {
		uint32_t old = (uint32_t)-delta;

		if (old > d->next) {
			/* bytes before the stream's first byte are not stream data */
			uint32_t cut = old - (uint32_t)d->next;

			if (cut >= len)
				return;
			data += cut;
			len -= cut;
			old -= cut;
		}
		if (old == 1 && len == 1 && !(fl & (TH_SYN | TH_FIN))) {
			t->st.keepalives++;
			return;
		}
		t->st.retransmissions++;
		if (old) {
			uint32_t n = len < old ? len : old;

			t->st.overlaps++; /* over delivered data, as Suricata's tcp.overlap */
			if (t->cfg.check_retrans && retrans_differs(d, d->next - old, data, n)) {
				t->st.overlaps_diff++;
				event(t, f, p, "stream.reassembly_overlap_different_data");
			}
		}
		if (len <= old)
			return;
		data += old;
		len -= old;
		delta = 0;
		s = d->next;
	} else {
		s = d->next + (uint32_t)delta;
	}
	e = s + len;
	ahead = s > d->hi; /* past all the sender was seen to send: out of order */
	if (e > d->hi)
		d->hi = e;
	if (d->fin && e > d->fin_off) {
		if (s >= d->fin_off) {
			t->st.after_eof++;
			return;
		}
		e = d->fin_off;
	}
	if (d->depth && e > d->depth) {
		if (unlikely(d->depth_seg)) {
			/* as Suricata: a segment that crosses the depth is not taken, and
			 * reassembly ends before it */
			uint64_t cut = s > d->next ? s : d->next;

			d->depth = (uint32_t)cut;
			if (cut == d->next)
				depth_reached(t, f, d, p);
			return;
		}
		e = s < d->depth ? d->depth : s; /* nothing past the depth is kept */
	}
	if (e <= s)
		return;
	if (delta == 0 && e <= lim)
		in_order(t, f, dir, d, s, data, (uint32_t)(e - s), p);
	else if (!enqueue(t, f, dir, d, s, e, data, p, ahead))
		forced(t, f, dir, d, s, e, data, p);
	else if (delta == 0 && d->acked > d->next)
		flush(t, f, dir, d, p, lim); /* partly acknowledged already */
}

static void seg_fin(struct sdir *d, uint32_t seq_end)
{
	int32_t delta = (int32_t)(seq_end - (d->base_seq + (uint32_t)d->next));

	/* the first FIN counts; one below delivered data, or far off, is not believed */
	if (d->fin || delta < 0 || (uint32_t)delta > MAX_WIN)
		return;
	d->fin = 1;
	d->fin_off = d->next + (uint32_t)delta;
	if (d->fin_off > d->hi)
		d->hi = d->fin_off;
}

/* A RST ends both directions, if its sequence number belongs to the stream. */
static void seg_rst(struct nj_stream_table *t, struct nj_flow *f, struct sflow *sf, int dir,
		    const struct nj_pkt *p)
{
	struct sdir *d = &sf->d[dir];

	if (d->base == BASE_SET) {
		int32_t delta = (int32_t)(p->tcp_seq - (d->base_seq + (uint32_t)d->next));

		/* the sender's next sequence number is at or past what we delivered (a RST
		 * after a FIN may carry the FIN's number) */
		if (delta < -1 || delta > (int32_t)MAX_WIN) {
			t->st.rst_ignored++;
			return;
		}
	}
	sf->rst = 1;
	sf->rst_dir = (uint8_t)dir;
	for (int k = 0; k < 2; k++) {
		struct sdir *x = &sf->d[k];

		if (!x->eof) {
			/* in-order data not yet acknowledged: the reset ends the wait */
			if (x->q != NIL && t->desc[x->q].start <= x->next)
				flush(t, f, k, x, p, UINT64_MAX);
			/* segments held past a hole were sent before the RST: they are
			 * delivered for raw inspection only (the hole given up without a
			 * gap event), as Suricata inspects a reset stream's data */
			t->xflags = NJ_STREAM_RAW_ONLY;
			while (x->q != NIL && !x->depth_hit &&
			       (!x->fin || t->desc[x->q].start < x->fin_off)) {
				deliver_gap_q(t, f, k, x, t->desc[x->q].start - x->next, p, true);
				flush(t, f, k, x, p, UINT64_MAX);
			}
			t->xflags = 0;
			x->eof = 1;
			dir_clear(t, x);
			t->data(t->arg, f, k, NULL, 0, NJ_STREAM_EOF, p);
		}
	}
}

/* Everything but an in-order data segment of an established stream. */
static __attribute__((noinline)) void pkt_slow(struct nj_stream_table *t, struct nj_flow *f,
					       const struct nj_pkt *p, int dir)
{
	struct sflow *sf = f->stream_state;
	uint8_t fl = p->tcp_flags;
	uint32_t len = p->payload_len, seq = p->tcp_seq;
	struct sdir *d, *o;

	if (unlikely(p->flags & t->csum_mask)) {
		/* checked and wrong (stream.checksum-validation): the receiver drops it */
		t->st.bad_checksum++;
		return;
	}
	if (unlikely(!sf)) {
		/* state starts with a SYN or data: pure ACKs, lone FINs and RSTs have nothing */
		if (!len && !(fl & TH_SYN))
			return;
		if (!(fl & (TH_ACK | TH_SYN | TH_RST))) {
			t->st.no_ack++;
			return;
		}
		if (fl & TH_RST)
			return;
		sf = sflow_new(t, f);
		if (!sf)
			return;
	}
	d = &sf->d[dir];
	o = &sf->d[!dir];
	if (unlikely(sf->rst)) {
		if (len) {
			t->st.after_eof++;
			/* the side that reset goes on talking: the RST was not its own */
			if (dir == sf->rst_dir && !sf->rst_inject && !(fl & TH_RST)) {
				sf->rst_inject = 1;
				event(t, f, p, "stream.suspected_rst_inject");
			}
		}
		return;
	}
	if (unlikely(fl & TH_RST)) {
		seg_rst(t, f, sf, dir, p);
		return;
	}
	if (unlikely(!(fl & (TH_ACK | TH_SYN)))) {
		/* every stack drops a segment without ACK once synchronised */
		if (len || (fl & TH_FIN))
			t->st.no_ack++;
		return;
	}
	if (fl & TH_ACK) {
		if (likely(o->base != BASE_NONE)) {
			ack_gap(t, f, !dir, o, p->tcp_ack, p);
		} else {
			/* the peer's next byte, until its own segments say otherwise */
			o->base_seq = p->tcp_ack;
			o->base = BASE_TENTATIVE;
		}
	}
	if (unlikely(fl & TH_SYN)) {
		fl &= (uint8_t)~TH_FIN; /* SYN+FIN is not a close */
		if (d->base != BASE_SET || (d->next == 0 && d->q == NIL && !d->fin)) {
			d->base_seq = seq + 1;
			d->base = BASE_SET;
			d->hn = 0;
		}
		seq++; /* the SYN's own sequence number precedes the first data byte */
	} else if (unlikely(d->base != BASE_SET)) {
		if (!len && !(fl & TH_FIN))
			return;
		if (d->base == BASE_NONE) {
			d->base_seq = seq; /* picked up mid-stream: the stream starts here */
		} else if (d->next == 0 && d->q == NIL && !d->fin) {
			int32_t delta = (int32_t)(seq - d->base_seq);

			/* data before what the peer acknowledged, or far past it: the
			 * ACK-derived start was wrong */
			if (delta < 0 || (uint32_t)delta > TENTATIVE_SLACK)
				d->base_seq = seq;
		}
		d->base = BASE_SET;
	}
	/* the FIN first: it bounds the data, this segment's and what is buffered */
	if (unlikely(fl & TH_FIN))
		seg_fin(d, seq + len);
	if (len)
		seg_data(t, f, dir, d, seq, p->data + p->payload_off, len, fl, p);
	if (unlikely(d->fin))
		maybe_eof(t, f, dir, d, p);
}

/*
 * The fast path: data with ACK (no SYN, FIN or RST) at exactly the next byte,
 * nothing buffered, nothing to learn from the ACK. Delivered from the packet.
 */
void nj_stream_pkt(struct nj_stream_table *t, struct nj_flow *f, const struct nj_pkt *p)
{
	struct sflow *sf = f->stream_state;
	int dir = (p->flags & NJ_PKT_TOCLIENT) ? 1 : 0;

	if (likely(sf && (p->tcp_flags & (TH_SYN | TH_FIN | TH_RST | TH_ACK)) == TH_ACK &&
		   p->payload_len && !sf->rst && !(p->flags & t->csum_mask))) {
		struct sdir *d = &sf->d[dir], *o = &sf->d[!dir];

		if (likely(d->base == BASE_SET && d->q == NIL &&
			   !(d->fin | d->eof | d->depth_hit) &&
			   p->tcp_seq == d->base_seq + (uint32_t)d->next && o->base != BASE_NONE &&
			   d->next + p->payload_len <= dlim(t, f, dir, d) &&
			   ((int32_t)(p->tcp_ack - (o->base_seq + (uint32_t)o->next)) <= 0 ||
			    (o->eof | o->depth_hit)))) {
			t->st.segments++;
			deliver(t, f, dir, d, p->data + p->payload_off, p->payload_len, p);
			return;
		}
	}
	pkt_slow(t, f, p, dir);
}

void nj_stream_flow_end(struct nj_stream_table *t, struct nj_flow *f)
{
	struct sflow *sf = f->stream_state;

	if (!sf)
		return;
	for (int k = 0; k < 2; k++) {
		struct sdir *d = &sf->d[k];

		if (!d->eof) {
			while (d->q != NIL && !d->depth_hit &&
			       (!d->fin || t->desc[d->q].start < d->fin_off)) {
				deliver_gap(t, f, k, d, t->desc[d->q].start - d->next, NULL);
				flush(t, f, k, d, NULL, UINT64_MAX);
			}
			if (d->fin && d->next < d->fin_off)
				deliver_gap(t, f, k, d, d->fin_off - d->next, NULL);
			d->eof = 1;
			t->data(t->arg, f, k, NULL, 0, NJ_STREAM_EOF, NULL);
		}
	}
	sflow_put(t, f);
}

void nj_stream_flow_set_depth(struct nj_flow *f, uint32_t depth)
{
	struct sflow *sf = f->stream_state;

	if (!sf)
		return;
	for (int k = 0; k < 2; k++) {
		struct sdir *d = &sf->d[k];

		/* Suricata's TcpSessionSetReassemblyDepth: only raised, or 0 (unlimited) */
		if (d->depth_hit || !(depth > d->depth || depth == 0))
			continue;
		d->depth = depth;
		d->depth_seg = 1;
	}
}

bool nj_stream_depth_reached(const struct nj_flow *f, int dir)
{
	const struct sflow *sf = f->stream_state;

	return sf && dir >= 0 && dir <= 1 && sf->d[dir].depth_hit;
}

uint32_t nj_stream_next_seq(const struct nj_flow *f, int dir)
{
	const struct sflow *sf = f->stream_state;

	if (!sf || dir < 0 || dir > 1)
		return 0;
	return sf->d[dir].base_seq + (uint32_t)sf->d[dir].next;
}

void nj_stream_swap(struct nj_flow *f)
{
	struct sflow *sf = f->stream_state;

	if (!sf)
		return;
	NJ_SWAP(sf->d[0], sf->d[1]);
	sf->rst_dir = (uint8_t)!sf->rst_dir;
}
