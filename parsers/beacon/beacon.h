/* SPDX-License-Identifier: MIT */
/*
 * Beacon and periodic-transfer detection, online and bounded in memory
 * (docs/icmp-beacon.md has the formulas and the EVE fields).
 *
 * Beacons: every observation (an ICMP echo request, a DNS query, a flow at
 * its end) belongs to a series keyed by (source, destination, protocol,
 * destination port or ICMP type, kind, tag). A series keeps a sliding window
 * of its last `window` observations (intervals and sizes, in a ring plus
 * sorted copies maintained incrementally, so re-scoring costs O(window) and
 * never allocates). From min_count observations on, each new observation
 * re-scores the series as RITA does (Bowley skew and MAD of intervals and of
 * sizes, a connection-count score and a coverage score, weights 0.25 each).
 * A series whose score reaches the threshold and whose intervals are too
 * regular for chance (a binomial test against Poisson arrivals at p-value)
 * gets an EVE "beacon" event ("new"); a material change of score or interval
 * while it still passes both emits "changed".
 *
 * Memory: series live in a fixed pool with two LRU tiers. A new series is a
 * small candidate entry (its first 3 observations inline); at the 4th
 * observation it gets a window ring from a second pool. One-off pairs, the
 * bulk of all flows, thus churn through the cheap tier without evicting
 * series that repeat. Either pool full: the least recently seen entry of the
 * tier is evicted (counted).
 *
 * Periodic transfers: flow observations of at least min_bytes are matched per
 * (client, protocol, server port) against up to 4 schedule slots (server,
 * time of day, bytes). A slot seen on `days` distinct days is established and
 * reported once (EVE "beacon" with "kind":"periodic"); a transfer that
 * deviates from an established slot in exactly one way (other time of day,
 * other size, other server at the scheduled time) is a
 * "periodic.schedule_break" anomaly.
 *
 * One instance per worker core; no locks. Not thread-safe.
 */
#ifndef NJ_BEACON_H
#define NJ_BEACON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nj_conf;
struct nj_eve_worker;
struct nj_flow;
struct nj_pkt;

/* What an observation is; part of the series key. */
enum nj_beacon_kind {
	NJ_BEACON_FLOW = 0, /* a flow at its end: start time, bytes to the server */
	NJ_BEACON_DNS,	    /* a DNS query: query time, message size; tag = query name */
	NJ_BEACON_ICMP,	    /* an ICMP echo request: packet time, payload size */
	NJ_BEACON_KIND_MAX
};

/*
 * Series key. Compared and hashed as bytes: build it with the helpers below
 * or memset it to zero first.
 */
struct nj_beacon_key {
	uint8_t src[16], dst[16]; /* IPv4 in the first 4 bytes, the rest zero */
	uint64_t tag;		  /* 0, or what else separates series (DNS: query name hash) */
	uint16_t port;		  /* destination port, or the ICMP type (8, 128) */
	uint8_t proto;		  /* IP protocol */
	uint8_t ipv6;		  /* 1: 16-byte addresses */
	uint8_t kind;		  /* enum nj_beacon_kind */
	uint8_t pad[3];
};

/* Client -> server of a flow; kind NJ_BEACON_FLOW. */
void nj_beacon_key_flow(struct nj_beacon_key *k, const struct nj_flow *f);
/* Client -> resolver of a DNS flow, tagged by the query name (case-insensitive). */
void nj_beacon_key_dns(struct nj_beacon_key *k, const struct nj_flow *f, const void *qname,
		       size_t qname_len);
/* Sender -> receiver of an ICMP packet; port = its ICMP type. */
void nj_beacon_key_icmp(struct nj_beacon_key *k, const struct nj_pkt *p);

/* ------------------------------------------------------------------ config */

struct nj_periodic_config {
	bool enabled;
	uint32_t days;		      /* distinct days before a schedule is established */
	uint32_t time_tolerance_s;    /* time-of-day match: +- this */
	uint32_t bytes_tolerance_pct; /* size match: +- this percent of the schedule's mean */
	uint64_t min_bytes;	      /* flows below this are not transfers */
	uint64_t memcap;	      /* bytes per core for schedules */
};

#define NJ_BEACON_MAX_IGNORE_PORTS 32

struct nj_beacon_config {
	bool enabled;
	uint64_t memcap;	/* bytes per core (config: total, divide by workers) */
	uint32_t max_series;	/* windowed series per core; 0: from memcap */
	uint32_t window;	/* observations per window, 8..1024 */
	uint32_t min_count;	/* observations before scoring, >= 4 */
	double threshold;	/* score that makes a beacon */
	double hysteresis;	/* score change that makes "changed" */
	double interval_change; /* relative median-interval change that makes "changed" */
	double p_value;		/* regularity gate: chance a Poisson series passes it */
	bool ignore_multicast;	/* skip multicast / broadcast destinations */
	bool observe_flows, observe_dns, observe_icmp; /* which sources the worker feeds */
	unsigned n_ignore_ports;
	uint16_t ignore_ports[NJ_BEACON_MAX_IGNORE_PORTS]; /* TCP/UDP server ports skipped */
	struct nj_periodic_config periodic;
};

void nj_beacon_config_defaults(struct nj_beacon_config *cfg);
/*
 * Reads nightjar.beacon.* and nightjar.periodic.*. Returns 0, or -1 after
 * printing file:line and the reason. memcap values are totals: the caller
 * divides them by the number of workers.
 */
int nj_beacon_config_load(struct nj_beacon_config *cfg, const struct nj_conf *c);

/* ------------------------------------------------------------------ results */

/* A beacon or periodic event, as written to EVE; given to the hook. */
struct nj_beacon_report {
	const struct nj_beacon_key *key;
	const char *label; /* DNS: the query name; else NULL */
	bool periodic;	   /* kind "periodic" (else "beacon") */
	bool changed;	   /* state "changed" (else "new") */
	uint64_t ts_us;	   /* the observation that triggered it */
	uint64_t first_seen_us, last_seen_us;
	uint64_t count;	 /* observations of the series, all time */
	uint32_t window; /* observations in the window */
	/* beacon */
	double score, score_interval, score_bytes, score_count, score_coverage;
	double interval_mean_s, interval_median_s, jitter_s; /* jitter: MAD of intervals */
	double skew_interval, skew_bytes;
	double regularity; /* share of intervals within +-25 % of the median */
	double bytes_mean, bytes_median, bytes_mad;
	double duration_mean_s; /* of the observations (flows), 0 if none had one */
	/* periodic */
	uint32_t time_of_day_s; /* seconds after 00:00 UTC */
	uint32_t days;
};

/* A transfer that broke an established schedule. */
struct nj_beacon_break {
	const char *name;		 /* "periodic.schedule_break" */
	const char *reason;		 /* "time", "size", "destination" */
	const struct nj_beacon_key *key; /* the transfer: client, server, proto, port */
	uint64_t ts_us, bytes;
	uint32_t time_of_day_s;
	const uint8_t *expected_dst; /* the schedule's server */
	uint32_t expected_time_of_day_s;
	double expected_bytes;
	uint32_t days; /* days the schedule was seen */
};

typedef void (*nj_beacon_report_fn)(void *arg, const struct nj_beacon_report *r);
typedef void (*nj_beacon_break_fn)(void *arg, const struct nj_beacon_break *b);

/* Per-core counters; all uint64_t so that cores sum as arrays. Gauges marked. */
struct nj_beacon_stats {
	uint64_t observations; /* observe calls accepted */
	uint64_t ignored;      /* skipped: ignored port, multicast destination */
	uint64_t merged;       /* within 100 ms of the previous one: same check-in */
	uint64_t reordered;    /* earlier than the last one, fitted in */
	uint64_t late;	       /* earlier than the last two: dropped */
	uint64_t series;       /* gauge: series held */
	uint64_t tracked;      /* gauge: series with a window */
	uint64_t created, promoted;
	uint64_t evicted_candidate, evicted_tracked; /* LRU evictions per tier */
	uint64_t scored; /* full re-scorings (series past the regularity gate) */
	uint64_t gated;	 /* evaluations stopped at the regularity gate (p-value) */
	uint64_t events_new, events_changed;
	uint64_t memuse; /* gauge: bytes allocated at create */
	uint64_t periodic_observations, periodic_entries /* gauge */, periodic_evicted;
	uint64_t periodic_established, periodic_breaks, periodic_slots_full;
};

void nj_beacon_stats_foreach(const struct nj_beacon_stats *s,
			     void (*fn)(void *arg, const char *name, uint64_t v), void *arg);

/* ------------------------------------------------------------------ the detector */

struct nj_beacon;

/*
 * eve may be NULL (no EVE output; hooks only). NULL on bad configuration or
 * out of memory. All memory is allocated here.
 */
struct nj_beacon *nj_beacon_create(const struct nj_beacon_config *cfg, struct nj_eve_worker *eve);
void nj_beacon_destroy(struct nj_beacon *b);
const struct nj_beacon_stats *nj_beacon_stats(const struct nj_beacon *b);
const struct nj_beacon_config *nj_beacon_config(const struct nj_beacon *b);

/* Called for every beacon / periodic event (after its EVE event, if any). */
void nj_beacon_set_report_hook(struct nj_beacon *b, nj_beacon_report_fn fn, void *arg);
/* Called for every schedule break (after its EVE anomaly event, if any). */
void nj_beacon_set_break_hook(struct nj_beacon *b, nj_beacon_break_fn fn, void *arg);

/*
 * One observation. ts_us: when it happened (flows: their start); bytes: its
 * size (flows: bytes to the server; DNS: the query message; ICMP: the echo
 * payload); duration_us: 0 if none. Kind NJ_BEACON_FLOW observations also
 * feed the periodic detector with the same bytes. Returns 1 if a beacon event
 * was emitted, else 0. Observations should come in time order per series;
 * one that is earlier than the last but later than the one before is fitted
 * in, earlier ones are dropped (counted).
 */
int nj_beacon_observe(struct nj_beacon *b, const struct nj_beacon_key *k, uint64_t ts_us,
		      uint64_t bytes, uint64_t duration_us);
/* The same with a label logged in the event (DNS: the query name as "rrname"). */
int nj_beacon_observe_ex(struct nj_beacon *b, const struct nj_beacon_key *k, uint64_t ts_us,
			 uint64_t bytes, uint64_t duration_us, const char *label);
/*
 * A flow at its end: beacon series with bytes to the server (as RITA), and
 * the periodic detector with the bytes of both directions. Skips flows
 * without packets to the server and what the config ignores.
 */
void nj_beacon_observe_flow(struct nj_beacon *b, const struct nj_flow *f);

/*
 * The current scores of a series (for tools and tests; costs a re-scoring).
 * out->key points into the table until the next observe. *passes (may be
 * NULL): whether it would be reported now (threshold and regularity gate).
 * 0, -ENOENT (no such series) or -EAGAIN (fewer than 3 intervals so far).
 */
int nj_beacon_peek(const struct nj_beacon *b, const struct nj_beacon_key *k,
		   struct nj_beacon_report *out, bool *passes);

/* ------------------------------------------------------------------ periodic alone */

/*
 * The periodic detector on its own (nj_beacon embeds one): for a deployment
 * that routes flow records by client to one owner, since a client's flows to
 * different servers land on different workers.
 */
struct nj_periodic;

struct nj_periodic *nj_periodic_create(const struct nj_periodic_config *cfg,
				       struct nj_eve_worker *eve, struct nj_beacon_stats *stats);
void nj_periodic_destroy(struct nj_periodic *p);
void nj_periodic_set_hooks(struct nj_periodic *p, nj_beacon_report_fn report, void *report_arg,
			   nj_beacon_break_fn brk, void *brk_arg);
/* A transfer: key src = client, dst = server; bytes of both directions. */
void nj_periodic_observe(struct nj_periodic *p, const struct nj_beacon_key *k, uint64_t ts_us,
			 uint64_t bytes);

#endif
