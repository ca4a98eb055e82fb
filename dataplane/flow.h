/* SPDX-License-Identifier: MIT */
/*
 * Per-core flow table. Each worker owns one table: no locks, no sharing. The
 * owning core expires its own flows. Memory is preallocated at create time
 * from the memcap; when the pool is empty the table evicts (counted).
 *
 * A flow is keyed by the symmetric tuple (addresses, ports or ICMP type
 * mapping, protocol, VLAN ids); ESP flows by (source, destination, SPI). The
 * side that sent the first packet is the client ("src" in EVE), except where
 * TCP flags show the first packet seen was the server's (SYN/ACK on pick-up),
 * as Suricata does.
 */
#ifndef NJ_FLOW_H
#define NJ_FLOW_H

#include <stdbool.h>
#include <stdint.h>

#include "pkt.h"

/* Flow states, with Suricata's EVE names (flow.state). */
enum nj_flow_state {
	NJ_FLOW_STATE_NEW = 0,	   /* "new" */
	NJ_FLOW_STATE_ESTABLISHED, /* "established" */
	NJ_FLOW_STATE_CLOSED,	   /* "closed" */
	NJ_FLOW_STATE_MAX
};

/* Why a flow ended (flow.reason). */
enum nj_flow_end_reason {
	NJ_FLOW_END_TIMEOUT = 0, /* "timeout" */
	NJ_FLOW_END_FORCED,	 /* "forced": evicted under memory pressure */
	NJ_FLOW_END_SHUTDOWN,	 /* "shutdown": end of input */
};

/* TCP connection states, with Suricata's EVE names (tcp.state). */
enum nj_tcp_state {
	NJ_TCP_NONE = 0,
	NJ_TCP_SYN_SENT,    /* "syn_sent" */
	NJ_TCP_SYN_RECV,    /* "syn_recv" */
	NJ_TCP_ESTABLISHED, /* "established" */
	NJ_TCP_FIN_WAIT1,   /* "fin_wait1" */
	NJ_TCP_FIN_WAIT2,   /* "fin_wait2" */
	NJ_TCP_TIME_WAIT,   /* "time_wait" */
	NJ_TCP_LAST_ACK,    /* "last_ack" */
	NJ_TCP_CLOSE_WAIT,  /* "close_wait" */
	NJ_TCP_CLOSING,	    /* "closing" */
	NJ_TCP_CLOSED,	    /* "closed" */
	NJ_TCP_STATE_MAX
};

/* Timeout classes: one set of timeouts per protocol class, as flow-timeouts in suricata.yaml. */
enum nj_flow_proto_class { NJ_FPC_TCP = 0, NJ_FPC_UDP, NJ_FPC_ICMP, NJ_FPC_OTHER, NJ_FPC_MAX };

struct nj_flow_timeouts {
	uint32_t new_s, established_s, closed_s;
	uint32_t emerg_new_s, emerg_established_s, emerg_closed_s;
};

struct nj_flow_config {
	uint64_t memcap;	     /* bytes for flows on this core (flow.memcap / workers) */
	uint32_t hash_size;	     /* buckets, rounded up to a power of two */
	uint32_t prealloc;	     /* flows preallocated; 0 = as many as the memcap allows */
	uint32_t emergency_recovery; /* percent of pool free before emergency mode ends */
	bool midstream;		     /* stream.midstream: pick up TCP without a handshake */
	bool vlan_tracking;	     /* vlan.use-for-tracking: VLAN ids are part of the flow key */
	struct nj_flow_timeouts timeouts[NJ_FPC_MAX];
};

void nj_flow_config_defaults(struct nj_flow_config *cfg);

#define NJ_COMMUNITY_ID_MAX 48

struct nj_flow {
	/*
	 * key, normalised: addr[0]/port[0] is the lower (address, port) pair.
	 * ESP (proto 50) as Suricata: keyed by SPI and directional (addr[0] is
	 * the sender, client 0), so each SA is its own flow.
	 */
	uint8_t addr[2][16];
	union {
		uint16_t port[2];
		uint32_t spi; /* proto 50 only */
	};
	uint16_t vlan[3]; /* key part: zero when vlan.use-for-tracking is off */
	uint8_t proto;
	uint8_t ipv6 : 1;  /* 1 for IPv6, 0 for IPv4 */
	uint8_t depth : 7; /* tunnel depth (decoder.recursion-level.use-for-tracking) */
	uint8_t client;	   /* index (0 or 1) of the client side in addr/port */
	uint8_t state;	   /* enum nj_flow_state */

	uint32_t hash;
	uint32_t next;			    /* hash chain, index into the pool; UINT32_MAX = end */
	uint32_t lru_prev, lru_next;	    /* timeout-class list, pool indexes */
	uint8_t lru_list;		    /* which list the flow is on */
	uint8_t tcp_state;		    /* enum nj_tcp_state */
	uint8_t tcp_flags_ts, tcp_flags_tc; /* flags seen to server / to client */
	uint8_t alerted;
	uint8_t has_gap;
	uint16_t app_proto;	 /* 0 = unknown; ids handed out by the parser registry */
	uint16_t app_proto_orig; /* before a protocol change (HTTP CONNECT), else 0 */
	uint8_t icmp_type[2],
		icmp_code[2]; /* first ICMP type/code seen from client [0] and server [1] */
	uint8_t icmp_seen[2]; /* whether [0]/[1] were seen */

	uint64_t flow_id; /* Suricata-style 64-bit id, shared by all events of the flow */
	uint64_t start_us, last_us;
	uint64_t pkts_ts, pkts_tc, bytes_ts, bytes_tc;
	uint32_t tcp_isn[2]; /* initial sequence numbers (client, server) when seen */
	uint32_t tcp_next_seq[2];
	uint32_t tcp_fin_seq[2]; /* seq + payload of the first FIN from client / server */
	uint8_t tcp_fin_seen;	 /* bit 0: client sent FIN, bit 1: server sent FIN */
	uint8_t tcp_ssn_flags;	 /* flow.c private: midstream, 3whs confirmed, ... */
	uint8_t swap_pending;	 /* app-layer found the orientation reversed (worker swaps) */
	uint32_t burst_gen;	 /* flow.c private: last burst that touched the flow */

	uint16_t vlan_id[3]; /* VLAN ids of the flow's first packet (logged) */
	uint8_t mac[2][6]; /* first MAC seen of the client [0] and the server [1] (eve ethernet) */
	uint8_t mac_seen;  /* bit 0: mac[0] valid, bit 1: mac[1] valid */
	/* TCP reassembly: most separate regions a direction's buffer held at once (Suricata's
	 * tcp.ts_max_regions / tc_max_regions; 0 = no TCP session, saturates at 255) */
	uint8_t max_regions[2];
	void *stream_state;			/* owned by TCP reassembly (stream.c) */
	void *app_state;			/* owned by the app-layer framework */
	void *detect_state;			/* owned by detection */
	char community_id[NJ_COMMUNITY_ID_MAX]; /* filled lazily by export; "" until then */
} NJ_ALIGNED; /* the key, hash chain and LRU links share the first cache line */

/* Outcome counters for the flow stage (summed over cores for stats). */
struct nj_flow_stats {
	uint64_t created, active, timed_out, evicted, shutdown;
	uint64_t tcp, udp, icmpv4, icmpv6, other;
	uint64_t memcap_hits; /* allocation refused because the pool was empty */
	uint64_t emergency_entered;
	uint64_t not_tracked;		/* packets with no usable tuple */
	uint64_t tcp_midstream_ignored; /* TCP without SYN while midstream is off */
	uint64_t tcp_reuse;		/* SYN on a closed flow's tuple started a new flow */
	uint64_t spare;			/* free flows in the pool */
	uint64_t memuse;		/* bytes preallocated */
	/* compatible additions: keep every member a uint64_t (summed as arrays) */
	uint64_t timed_out_pkt; /* ended by a packet that found it past its timeout */
	uint64_t emergency_over;
	uint64_t midstream_pickups;
	uint64_t tcp_sessions;			  /* TCP flows whose state left NONE */
	uint64_t tcp_syn, tcp_synack, tcp_rst;	  /* packets with these flags on tracked flows */
	uint64_t end_state[NJ_FLOW_STATE_MAX];	  /* flows ended, by flow state */
	uint64_t end_tcp_state[NJ_TCP_STATE_MAX]; /* TCP flows ended, by TCP state */
};

/*
 * Yields the counters under Suricata's stats names (flow.*, tcp.*), only names
 * that Suricata's EVE schema knows. s is usually a sum over cores.
 */
void nj_flow_stats_foreach(const struct nj_flow_stats *s,
			   void (*fn)(void *arg, const char *name, uint64_t v), void *arg);

/* Called for every flow that ends, before its memory is reused. */
typedef void (*nj_flow_end_fn)(void *arg, struct nj_flow *f, enum nj_flow_end_reason why);

struct nj_flow_table;

struct nj_flow_table *nj_flow_table_create(const struct nj_flow_config *cfg, int socket,
					   nj_flow_end_fn on_end, void *arg);
/* Frees the table without reporting its flows: call nj_flow_flush_all first. */
void nj_flow_table_destroy(struct nj_flow_table *t);
const struct nj_flow_stats *nj_flow_table_stats(const struct nj_flow_table *t);
/* Prefetch pass on (default) or off; for benchmarks. */
void nj_flow_table_set_prefetch(struct nj_flow_table *t, bool on);

/*
 * Look up or create the flow of each decoded packet in the burst, set
 * pkt->flow and NJ_PKT_TOSERVER/TOCLIENT, and update counters, TCP state and
 * last-seen time. Packets that are invalid, fragments, or have no tuple get
 * flow NULL. A packet whose flow has expired by its own timestamp ends the old
 * flow (reason timeout) and starts a new one, so results do not depend on how
 * often the table is swept.
 *
 * pkt->flow stays valid (not reused for another tuple) until the next call of
 * nj_flow_burst, nj_flow_expire or nj_flow_flush_all, even if the flow ended
 * within the burst. When every flow is held by a packet of the burst and the
 * pool is empty, a new tuple is not tracked (counted in memcap_hits and
 * not_tracked).
 */
void nj_flow_burst(struct nj_flow_table *t, struct nj_pkt *pkts, uint16_t n);

/*
 * End flows idle past their timeout at now_us; at most budget flows per call.
 * Returns the number ended. Call between bursts.
 */
unsigned nj_flow_expire(struct nj_flow_table *t, uint64_t now_us, unsigned budget);

/*
 * End every flow at end of input: reason timeout if now_us is past the flow's
 * timeout, else shutdown.
 */
void nj_flow_flush_all(struct nj_flow_table *t, uint64_t now_us);

/*
 * Reverse a flow's orientation: the side taken for the client was the server
 * (the app-layer saw a response first: a DNS answer on a flow picked up
 * mid-stream). Swaps client and every per-direction field. Packets of the
 * flow still in the current burst must be flipped with nj_flow_pkt_swap.
 */
void nj_flow_swap(struct nj_flow *f);
bool nj_flow_pkt_swap(struct nj_pkt *p);
/* TCP session picked up without its handshake (reversal by the app-layer is allowed). */
bool nj_flow_tcp_midstream(const struct nj_flow *f);

/* Names for EVE. */
const char *nj_flow_state_name(enum nj_flow_state s);
const char *nj_flow_reason_name(enum nj_flow_end_reason r);
const char *nj_tcp_state_name(enum nj_tcp_state s);

/* Client / server views of the normalised key. */
static inline const uint8_t *nj_flow_src(const struct nj_flow *f)
{
	return f->addr[f->client];
}
static inline const uint8_t *nj_flow_dst(const struct nj_flow *f)
{
	return f->addr[!f->client];
}
static inline uint16_t nj_flow_sport(const struct nj_flow *f)
{
	return f->port[f->client];
}
static inline uint16_t nj_flow_dport(const struct nj_flow *f)
{
	return f->port[!f->client];
}

#endif
