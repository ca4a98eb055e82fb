/* SPDX-License-Identifier: MIT */
/*
 * The tag keyword at run time (Suricata's detect-engine-tag.c semantics):
 * an alert of a signature with tag keywords starts tags on its flow
 * (session) or on its source / destination address (host); every later
 * packet of that flow or host is tagged until the tag's count of packets,
 * bytes or seconds is used up. The packet that raised the alert counts but
 * is not itself tagged (its alert already carries it). Tagged packets are
 * written as EVE "packet" events when the alert output has
 * tagged-packets: yes.
 *
 * State is per core: session tags in a fixed pool linked from the flow's
 * detection state, host tags in a fixed set-associative table whose entries
 * expire after 600 s without a packet (Suricata's host timeout for tags).
 */
#ifndef NJ_DETECT_TAG_H
#define NJ_DETECT_TAG_H

#include <stdbool.h>
#include <stdint.h>

struct nj_detect_thread;
struct nj_detect_sig;
struct nj_flow;
struct nj_pkt;
struct eng_flow;
struct nj_tag_thread;

/* Limits from the engine's configuration (nightjar.detect.tag-*). */
struct nj_tag_limits {
	uint32_t sessions; /* session tag entries per worker */
	uint32_t hosts;	   /* host tag entries per worker (rounded up to 8-entry buckets) */
};

/* NULL when no signature uses tag (nothing to do per packet) or out of memory
 * (*err set to -ENOMEM then). */
struct nj_tag_thread *nj_tag_thread_new(const struct nj_detect_sig *const *sigs, uint32_t nsigs,
					const struct nj_tag_limits *lim, int *err);
void nj_tag_thread_free(struct nj_tag_thread *tt);

/* Signature s alerted on packet p (a pseudo packet for flow-only alerts) of flow f. */
void nj_tag_alert(struct nj_detect_thread *t, const struct nj_detect_sig *s, struct nj_flow *f,
		  const struct nj_pkt *p);
/* Called once per packet after its alerts: counts it against the tags of its
 * flow and hosts; true if it is tagged (and then logged when enabled). */
bool nj_tag_pkt(struct nj_detect_thread *t, const struct nj_pkt *p);
/* The flow's detection state goes away: its session tags are released. */
void nj_tag_flow_free(struct nj_detect_thread *t, struct eng_flow *ef);

struct nj_tag_stats {
	uint64_t tagged;   /* packets tagged */
	uint64_t full;	   /* tags not started: no free entry */
	uint64_t evicted;  /* host tags replaced while live */
	uint64_t no_state; /* session tags not started: no flow detection state */
};
const struct nj_tag_stats *nj_tag_stats(const struct nj_tag_thread *tt);

#endif
