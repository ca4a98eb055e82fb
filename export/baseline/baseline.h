/* SPDX-License-Identifier: MIT */
/*
 * "Knowing your normal": a baseline of who talks to whom, learned from flows,
 * and a check of every flow against it and against a policy of approved
 * communications (docs/baseline.md has the rules and the file formats).
 *
 * A flow is seen from its subject: the client if the client is one of the
 * profiled hosts (baseline.hosts, default $HOME_NET), else the server if the
 * server is. A subject is the first configured host group that holds the
 * address, or the address itself. What a subject does is a profile: peers
 * (the other side's address), services (IP protocol, server port and the
 * app_protos seen on it), countries and ASNs of the peers (only when a geo
 * hook gives them), hours of day (UTC) with flows, and the distribution of
 * flow sizes.
 *
 * learn:  every worker fills its own bounded table at flow end (no locks, no
 *         allocation; a full table counts what it could not hold). At the end
 *         of the input the main thread merges the tables and writes the
 *         baseline file atomically (temporary file, then rename).
 * detect: the baseline and policy files are loaded once, before the workers
 *         start, into a read-only model shared by all workers. At flow end a
 *         flow allowed by a policy entry is counted and not reported; a flow
 *         that brings something the subject's profile lacks gets one EVE
 *         anomaly event of type "policy" naming what was new. Each (subject,
 *         what) is reported once per worker (repeats are counted).
 *
 * Per-core objects are not thread-safe; the shared context is read-only while
 * workers run.
 */
#ifndef NJ_BASELINE_H
#define NJ_BASELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct nj_conf;
struct nj_eve_worker;
struct nj_flow;

enum nj_baseline_mode { NJ_BASELINE_OFF = 0, NJ_BASELINE_LEARN, NJ_BASELINE_DETECT };

#define NJ_BASELINE_MAX_GROUPS 64
#define NJ_BASELINE_NAME_MAX   48
#define NJ_BASELINE_PATH_MAX   512
#define NJ_BASELINE_ADDRS_MAX  1024

struct nj_baseline_group_config {
	char name[NJ_BASELINE_NAME_MAX];
	char addrs[NJ_BASELINE_ADDRS_MAX]; /* address set, rule syntax ($HOME_NET, [a,b], !c) */
};

/* A static country/ASN answer for an address set (tests, small sites without GeoIP). */
#define NJ_BASELINE_MAX_GEO 64
struct nj_baseline_geo_config {
	char addrs[128];
	char cc[3];
	uint32_t asn;
};

struct nj_baseline_config {
	enum nj_baseline_mode mode;
	char file[NJ_BASELINE_PATH_MAX];   /* baseline YAML: written by learn, read by detect */
	char policy[NJ_BASELINE_PATH_MAX]; /* policy YAML ("" = none) */
	char hosts[NJ_BASELINE_ADDRS_MAX]; /* who is profiled */
	uint32_t max_hosts;		   /* profiles (hosts and groups) per core */
	uint32_t max_entries;		   /* peers+services+countries+ASNs per core */
	uint32_t max_entries_per_host;	   /* ... per profile */
	uint32_t max_reports;		   /* (subject, what) pairs remembered per core */
	uint32_t min_flows;		   /* flows a profile needs before volume/hour apply */
	uint32_t hour_slack;		   /* an hour within +- this of a learned hour is usual */
	double volume_factor;		   /* bytes above factor x learned max are unusual */
	uint32_t write_interval_s;	   /* learn, live: write the file this often (0: at exit) */
	bool log_allowed;		   /* EVE event for flows a policy entry allowed */
	unsigned ngroups;
	struct nj_baseline_group_config groups[NJ_BASELINE_MAX_GROUPS];
	unsigned ngeo; /* geo-static: first match wins; used when no geo hook is set */
	struct nj_baseline_geo_config geo[NJ_BASELINE_MAX_GEO];
};

void nj_baseline_config_defaults(struct nj_baseline_config *cfg);
/* Reads baseline.*; 0, or -1 after printing file:line and the reason. */
int nj_baseline_config_load(struct nj_baseline_config *cfg, const struct nj_conf *c);

/* ------------------------------------------------------------------ model */

/*
 * A baseline: profiles and their entries in bounded open-addressing tables.
 * The same structure is a worker's learning table, the merged result and the
 * model loaded from a file.
 */
struct nj_bl_model;

struct nj_bl_model *nj_bl_model_create(uint32_t max_subjects, uint32_t max_entries,
				       uint32_t max_per_subject);
void nj_bl_model_free(struct nj_bl_model *m);
/* Empties m (group names stay). */
void nj_bl_model_reset(struct nj_bl_model *m);
/* dst := src; both made with the same limits. */
void nj_bl_model_copy(struct nj_bl_model *dst, const struct nj_bl_model *src);
/* Adds every profile and entry of src to dst (group names matched by name). */
int nj_bl_model_merge(struct nj_bl_model *dst, const struct nj_bl_model *src);
/* Registers a group name; returns its id or -1 when the table is full. */
int nj_bl_model_group(struct nj_bl_model *m, const char *name);

/* What the model could not hold (also written to the baseline file). */
struct nj_bl_model_stats {
	uint64_t flows;		  /* flows learned */
	uint64_t hosts_dropped;	  /* flows whose profile found no room */
	uint64_t entries_dropped; /* entries with no room (total or per profile) */
	uint64_t subjects, entries;
};
void nj_bl_model_stats(const struct nj_bl_model *m, struct nj_bl_model_stats *st);

/*
 * Reads a baseline YAML file into m (added to what m holds). On error returns
 * -1 with "file:line: reason" in err.
 */
int nj_bl_model_load(struct nj_bl_model *m, const char *path, char *err, size_t errlen);
/* Writes m as YAML to out (sorted, so equal models give equal files). */
int nj_bl_model_write(const struct nj_bl_model *m, FILE *out);
/* Writes m to path atomically (path.tmp, fsync, rename); 0 or -errno. */
int nj_bl_model_save(const struct nj_bl_model *m, const char *path);

/* ------------------------------------------------------------------ flows */

/*
 * One flow as the baseline sees it, filled from a struct nj_flow by
 * nj_baseline_flow_view or directly by tests and benchmarks.
 */
struct nj_bl_flow {
	const uint8_t *local, *peer; /* addresses (4 or 16 bytes) */
	uint8_t ipv6;
	uint8_t proto;
	uint8_t local_is_client;
	uint16_t port;	    /* the server's port (0 without ports) */
	uint16_t app_proto; /* 0 = unknown */
	uint64_t start_us;
	uint64_t bytes;	 /* both directions */
	char country[3]; /* "" = unknown (filled by the geo hook) */
	uint32_t asn;	 /* 0 = unknown */
};

/*
 * Geo hook for the integrator (GeoIP): fills the country code (2 letters) and
 * the ASN of addr, or leaves them empty / 0. Called on the hot path.
 */
typedef void (*nj_baseline_geo_fn)(void *ctx, const uint8_t *addr, unsigned alen, char cc[3],
				   uint32_t *asn);

/* What was new about a flow (bit set); also the EVE "event" names. */
enum nj_bl_reason {
	NJ_BL_NEW_HOST = 0, /* the subject has no profile at all */
	NJ_BL_NEW_COUNTRY,
	NJ_BL_NEW_ASN,
	NJ_BL_NEW_PEER,
	NJ_BL_NEW_SERVICE,
	NJ_BL_UNUSUAL_VOLUME,
	NJ_BL_UNUSUAL_HOUR,
	NJ_BL_REASON_MAX
};
extern const char *const nj_bl_reason_names[NJ_BL_REASON_MAX];

/* ------------------------------------------------------------------ runtime */

/* Shared, read-only while workers run: config, address sets, policy, model. */
struct nj_baseline_ctx;
/* Per worker. */
struct nj_baseline;

/*
 * Parses the host and group address sets (with conf's vars), loads the
 * policy and, in detect mode, the baseline file. NULL with the reason in err.
 */
struct nj_baseline_ctx *nj_baseline_ctx_create(const struct nj_baseline_config *cfg,
					       const struct nj_conf *conf, char *err,
					       size_t errlen);
void nj_baseline_ctx_free(struct nj_baseline_ctx *ctx);
const struct nj_bl_model *nj_baseline_ctx_model(const struct nj_baseline_ctx *ctx);
/*
 * Learn mode, after the workers stopped: merges their tables and writes the
 * baseline file. Returns 0 or -errno.
 */
int nj_baseline_ctx_finish(struct nj_baseline_ctx *ctx, struct nj_baseline *const *cores,
			   unsigned n);
/*
 * Learn mode with write_interval_s (live), from the control thread, often:
 * every interval it asks each core for a snapshot of its table; once all
 * cores answered (nj_baseline_tick), it merges the snapshots and writes the
 * file. Never waits. Returns 1 after a write, 0, or -errno of a failed write.
 */
int nj_baseline_ctx_poll(struct nj_baseline_ctx *ctx, struct nj_baseline *const *cores, unsigned n,
			 uint64_t now_s);
/* Baseline files written by nj_baseline_ctx_poll so far. */
uint64_t nj_baseline_ctx_writes(const struct nj_baseline_ctx *ctx);

struct nj_baseline *nj_baseline_create(const struct nj_baseline_ctx *ctx,
				       struct nj_eve_worker *eve);
void nj_baseline_destroy(struct nj_baseline *b);
/* Replaces the geo hook (by default the geo-static table, if configured). */
void nj_baseline_set_geo(struct nj_baseline *b, nj_baseline_geo_fn fn, void *fn_ctx);
/*
 * From the worker's housekeeping (not per packet): answers a snapshot request
 * of nj_baseline_ctx_poll by copying this core's table (a memcpy of the
 * tables, once per write interval).
 */
void nj_baseline_tick(struct nj_baseline *b);

/*
 * Builds the view of f; false when neither side is a profiled host. TCP flows
 * without a SYN from either side are skipped by nj_baseline_flow_end: their
 * client and server are a guess (a flow picked up mid-stream), and a wrong
 * guess would make the client's port a "service".
 */
bool nj_baseline_flow_view(struct nj_baseline *b, const struct nj_flow *f, struct nj_bl_flow *v);
/* At flow end: learns or checks f (EVE event through f's header). */
void nj_baseline_flow_end(struct nj_baseline *b, struct nj_flow *f);
/*
 * The core of both modes, without EVE: learns v, or returns the bit set of
 * new things (1u << enum nj_bl_reason) after policy and rate limit; 0 = usual.
 * *policy gets the allowing entry's index or -1.
 */
void nj_baseline_learn(struct nj_baseline *b, const struct nj_bl_flow *v);
unsigned nj_baseline_check(struct nj_baseline *b, const struct nj_bl_flow *v, int *policy);

/* Per-core counters, all uint64_t. */
struct nj_baseline_stats {
	uint64_t flows;		 /* flows seen by the baseline */
	uint64_t unscoped;	 /* neither side profiled */
	uint64_t learned;	 /* learn: flows added */
	uint64_t hosts_full;	 /* learn: no room for the profile */
	uint64_t entries_full;	 /* learn: no room for an entry */
	uint64_t anomalies;	 /* detect: events written */
	uint64_t repeats;	 /* detect: new things already reported (no event) */
	uint64_t policy_allowed; /* detect: flows a policy entry allowed */
	uint64_t reports_full;	 /* detect: rate-limit table full (reported anyway) */
	uint64_t midstream;	 /* TCP flows without a SYN either way: sides unknown, skipped */
};
const struct nj_baseline_stats *nj_baseline_stats(const struct nj_baseline *b);
void nj_baseline_stats_foreach(const struct nj_baseline_stats *s,
			       void (*fn)(void *arg, const char *name, uint64_t v), void *arg);

#endif
