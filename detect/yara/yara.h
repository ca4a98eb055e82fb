/* SPDX-License-Identifier: MIT */
/*
 * YARA on carved files (libyara 4.2). Rules named in the configuration
 * (files, or folders of .yar/.yara files; includes relative to the including
 * file, as the yara command line does) are compiled once at start-up into
 * one YR_RULES shared read-only by every core; each worker has its own
 * YR_SCANNER and attaches to its files interface as a scanner
 * (nj_files_set_scanner, parsers/files.h).
 *
 * libyara 4.2 scans memory blocks, not streams, so every open file's bytes
 * are kept (per core: fixed-size chunks from a preallocated arena of
 * yara.memcap bytes, at most yara.max-file-size per file) and the file is
 * scanned when it closes, before its fileinfo event. A file over the size
 * limit is skipped (yara.oversize: skip) or scanned on its first
 * max-file-size bytes (head); a file the arena cannot hold is skipped; both
 * are counted and shown as "yara_status" in fileinfo. A gap in the file is
 * scanned as zero bytes (offsets and filesize stay those of the file).
 *
 * Matches are logged inside the fileinfo object ("yara": [{"rule",
 * "namespace", "tags", "meta"}]) and as EVE alert events: gid yara.gid,
 * signature_id yara.sid-base + the rule's index in compiled order (stable
 * for a given rule set), signature "YARA <rule>", category the rule's meta
 * "category" (else "YARA match"), severity its integer meta "severity"
 * (1..255, else 2), with the file's flow context.
 *
 * Reload: nj_yara_reload compiles the configured rules again (control
 * thread) and publishes the new set; each worker adopts it at its next burst
 * boundary (nj_yara_worker_sync) and the old set is freed by whoever drops
 * the last reference. A failed compile keeps the current set.
 */
#ifndef NJ_YARA_H
#define NJ_YARA_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct nj_conf;
struct nj_eve_worker;
struct nj_file_scanner_ops;

#define NJ_YARA_MAX_PATHS   64
#define NJ_YARA_MAX_THREADS 64
#define NJ_YARA_MAX_WORKERS 256

enum nj_yara_qfull { NJ_YARA_QFULL_AUTO, NJ_YARA_QFULL_WAIT, NJ_YARA_QFULL_SKIP };

struct nj_yara_config {
	bool enabled;
	const char *rules[NJ_YARA_MAX_PATHS]; /* files or folders (borrowed from the config) */
	unsigned nrules;
	uint32_t gid, sid_base;
	uint64_t max_file_size; /* bytes of one file kept for scanning */
	uint64_t memcap;	/* bytes of file data held per worker */
	uint32_t scan_timeout;	/* seconds per scan, 0 = none */
	uint32_t max_matches;	/* matches logged per file */
	bool oversize_head;	/* scan the first max_file_size bytes of larger files */
	bool alerts;		/* alert events */
	bool alert_flow;	/* the "flow" object in alerts (eve-log alert metadata) */
	bool alert_metadata;	/* rule meta as alert "metadata" */
	uint32_t threads;	/* scanner threads; 0: scan on the worker at close */
	uint32_t queue_size;	/* closed files queued per worker */
	enum nj_yara_qfull queue_full;
};

void nj_yara_config_defaults(struct nj_yara_config *cfg);
/* Reads the yara: section; returns 0, or -1 after printing "file:line: key: reason". */
int nj_yara_config_load(struct nj_yara_config *cfg, const struct nj_conf *conf);

struct nj_yara;
/*
 * Compiles the rules. Every compile error and warning is printed to err as
 * "FILE:LINE: error|warning: MESSAGE". Returns NULL on failure (or when no
 * rule file is found).
 */
struct nj_yara *nj_yara_create(const struct nj_yara_config *cfg, FILE *err);
/* After every worker is destroyed. */
void nj_yara_destroy(struct nj_yara *y);
/* Compiles the configured rules again and publishes them; -EINVAL (set kept) on errors. */
int nj_yara_reload(struct nj_yara *y, FILE *err);
uint32_t nj_yara_rule_count(const struct nj_yara *y);
uint64_t nj_yara_generation(const struct nj_yara *y);

/* Per-core counters (all uint64_t: summed as arrays). */
struct nj_yara_stats {
	uint64_t scanned;	   /* files scanned */
	uint64_t matched_files;	   /* files with at least one match */
	uint64_t matches;	   /* rule matches */
	uint64_t alerts;	   /* alert events written */
	uint64_t bytes;		   /* bytes scanned */
	uint64_t scan_us;	   /* time spent scanning */
	uint64_t timeouts;	   /* scans stopped by scan-timeout */
	uint64_t too_large;	   /* files over max-file-size (skipped or cut) */
	uint64_t memcap;	   /* files skipped: the per-worker arena was full */
	uint64_t too_many_matches; /* scans cut by libyara's match limit */
	uint64_t errors;	   /* other scan errors */
	uint64_t matches_dropped;  /* matches beyond max-matches, not logged */
	uint64_t reloads;	   /* rule sets adopted after a reload */
	uint64_t mem_used;	   /* gauge: arena bytes in use */
	uint64_t queued;	   /* files handed to a scanner thread */
	uint64_t queue_full;	   /* files not scanned: the queue was full (queue-full: skip) */
	uint64_t queue_waits;	   /* times the worker waited for a scanner (queue-full: wait) */
	uint64_t inline_scans;	   /* queued files scanned on the worker: event text too long */
};

struct nj_yara_worker;
/* One per core; max_open = nj_files_max_open() of the core's files. NULL on failure. */
struct nj_yara_worker *nj_yara_worker_create(struct nj_yara *y, struct nj_eve_worker *eve,
					     uint32_t max_open);
void nj_yara_worker_destroy(struct nj_yara_worker *w);
/* Burst boundary: adopt a reloaded rule set (one atomic load when there is none). */
void nj_yara_worker_sync(struct nj_yara_worker *w);
const struct nj_yara_stats *nj_yara_worker_stats(const struct nj_yara_worker *w);
void nj_yara_stats_foreach(const struct nj_yara_stats *st,
			   void (*fn)(void *arg, const char *name, uint64_t v), void *arg);

/*
 * Scanner threads (yara.threads; call before the workers are created, with
 * one EVE handle per thread): a worker created afterwards no longer scans at
 * close. It captures the file's fileinfo event and an alert template
 * (nj_eve_capture) and queues them with the file's chunks (no copy of the
 * bytes) on its single-producer single-consumer queue; the thread scans and
 * writes the events, with the yara results, through its own handle. A full
 * queue waits or skips (yara.queue-full; auto: wait when offline). stop waits
 * until every queued file is scanned and flushes the threads' handles: call
 * it once the workers are done, before their scanners and EVE are closed.
 */
int nj_yara_threads_start(struct nj_yara *y, struct nj_eve_worker *const *eve, unsigned n,
			  bool offline);
void nj_yara_threads_stop(struct nj_yara *y);
/* yara.threads of the configuration that made y (0 when y is NULL). */
unsigned nj_yara_threads(const struct nj_yara *y);

/* The scanner to give nj_files_set_scanner with the worker as context. */
extern const struct nj_file_scanner_ops nj_yara_file_ops;

#endif
