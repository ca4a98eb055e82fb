/* SPDX-License-Identifier: MIT */
/* Shared between eve.c and the event writers of export/ only. */
#ifndef NJ_EVE_PRIV_H
#define NJ_EVE_PRIV_H

#include "eve.h"

/*
 * nj_eve_begin for flow records: header from the flow alone, in client ->
 * server orientation, or reversed when to_client (netflow's second record).
 * ICMP type/code come from the side that sent first in that orientation, and
 * for event type flow the response_icmp_* pair follows when the other side
 * sent packets.
 */
struct nj_json *nj_eve_begin_flow(struct nj_eve_worker *w, enum nj_eve_type t, uint64_t ts_us,
				  struct nj_flow *f, bool to_client);

/* The same with "pcap_cnt" (offline, seq != 0): app-layer events of the packet seq. */
struct nj_json *nj_eve_begin_flow_seq(struct nj_eve_worker *w, enum nj_eve_type t, uint64_t ts_us,
				      struct nj_flow *f, bool to_client, uint64_t seq);

#endif
