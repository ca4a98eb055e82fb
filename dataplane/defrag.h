/* SPDX-License-Identifier: MIT */
/*
 * Private interface between the decoder and IP defragmentation. A defrag
 * context lives inside one decode context (one per worker core); all of its
 * memory is taken at create time and bounded by the decode config.
 */
#ifndef NJ_DEFRAG_H
#define NJ_DEFRAG_H

/* bytes free before every reassembled datagram, for the link header of its packet */
#define NJ_DEFRAG_HEADROOM 64

#include <stdbool.h>
#include <stdint.h>

#include "decode.h"

/* What the decoder learnt about one fragment. */
struct nj_defrag_frag_info {
	const uint8_t *l3;   /* IP header */
	const uint8_t *data; /* fragment payload */
	uint32_t hdr_len;    /* IPv4: IHL * 4; IPv6: bytes before the fragment header */
	uint32_t data_len;
	uint32_t off; /* payload offset in the datagram, bytes */
	uint32_t id;
	uint32_t nh_off; /* IPv6: header byte naming the fragment header */
	uint8_t proto;	 /* IPv4 protocol; IPv6 next header after the fragment header */
	bool more;
	bool v6;
};

struct nj_defrag;

struct nj_defrag *nj_defrag_create(const struct nj_decode_config *cfg, struct nj_decode_stats *st);
void nj_defrag_destroy(struct nj_defrag *d);
void nj_defrag_burst_begin(struct nj_defrag *d);

/*
 * Store one fragment of pkt. Returns the length of the reassembled datagram
 * and sets *out to it when this fragment completed one, else 0 (stored,
 * ignored or dropped; each case counted or raised as an event on pkt).
 */
uint32_t nj_defrag_add(struct nj_defrag *d, struct nj_pkt *pkt,
		       const struct nj_defrag_frag_info *fi, const uint8_t **out);

void nj_defrag_expire(struct nj_defrag *d, uint64_t now_us);

/*
 * Raise a decoder event on pkt: always counted; the first few distinct ones
 * are remembered (repeats would crowd the four slots out).
 */
static inline void nj_decode_event(struct nj_decode_stats *st, struct nj_pkt *p,
				   enum nj_decode_event e)
{
	st->events[e]++;
	for (unsigned i = 0; i < p->nevents; i++)
		if (p->events[i] == e)
			return;
	if (p->nevents < NJ_PKT_MAX_EVENTS)
		p->events[p->nevents++] = (uint16_t)e;
}

/* One's-complement sum helpers shared with defrag (IPv4 header rewrite). */
uint16_t nj_csum_fold(uint64_t sum);
uint64_t nj_csum_add(uint64_t sum, const uint8_t *p, uint32_t len);

#endif
