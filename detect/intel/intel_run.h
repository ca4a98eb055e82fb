/* SPDX-License-Identifier: MIT */
/*
 * Threat intel at run time: the `intel:` configuration, the published set
 * (reloaded on request without a restart), the per-worker matcher and the
 * EVE alerts it writes (docs/intel.md).
 *
 * The worker calls, all optional (a NULL thread means intel is off):
 *  - nj_intel_burst after the flow stage: picks up a reloaded set (its
 *    quiescent point) and checks the addresses of flows that start;
 *  - nj_intel_tx for every completed direction of a transaction (DNS query
 *    and answers, HTTP host and URL, TLS SNI / certificate / JA3 / JA4);
 *  - nj_intel_file when a file closes (md5 / sha1 / sha256 as computed);
 *  - nj_intel_quiescent when idle, so a reload never waits on it.
 * A flow raises at most one alert per indicator (a per-worker table of
 * (flow, indicator) pairs, bounded by intel.dedup-entries).
 */
#ifndef NJ_INTEL_RUN_H
#define NJ_INTEL_RUN_H

#include <stdbool.h>
#include <stdint.h>

struct nj_conf;
struct nj_eve_worker;
struct nj_flow;
struct nj_pkt;
struct nj_app_parser;
struct nj_al_tx;
struct nj_intel_thread;
struct nj_intel_set;

/*
 * Reads intel: and loads every source (start-up, single-threaded). Returns 0
 * (also when intel is disabled) or -1 after a message (a source that cannot
 * be read, memcap, bad configuration).
 */
int nj_intel_init(const struct nj_conf *conf);
bool nj_intel_enabled(void);
/* Starts the thread that reloads the sources on request. */
int nj_intel_start_reloader(void);
/* Async-signal-safe: ask for a reload (SIGHUP). */
void nj_intel_request_reload(void);
/* Reloads now from the calling thread (the reloader, tests); 0 or -errno (old set kept). */
int nj_intel_reload(void);
/* Stops the reloader and frees every set (workers must be stopped). */
void nj_intel_shutdown(void);
/* The current set (tests, bench). */
const struct nj_intel_set *nj_intel_current(void);

struct nj_intel_stats {
	uint64_t lookups, matches, alerts, dedup_suppressed;
};

/* Per worker; NULL when intel is disabled. eve may be NULL (matches counted only). */
struct nj_intel_thread *nj_intel_thread_create(struct nj_eve_worker *eve);
void nj_intel_thread_free(struct nj_intel_thread *t);
const struct nj_intel_stats *nj_intel_thread_stats(const struct nj_intel_thread *t);

void nj_intel_quiescent(struct nj_intel_thread *t);
void nj_intel_burst(struct nj_intel_thread *t, struct nj_pkt *pkts, uint16_t n);
void nj_intel_tx(struct nj_intel_thread *t, struct nj_flow *f, const struct nj_app_parser *parser,
		 const struct nj_al_tx *tx, int dir);
/* nj_files close hook: digests not computed are NULL. */
void nj_intel_file(void *thread, struct nj_flow *f, const uint8_t *md5, const uint8_t *sha1,
		   const uint8_t *sha256, uint64_t ts_us);

#endif
