/* SPDX-License-Identifier: MIT */
/*
 * Files carried by protocols (HTTP bodies, multipart uploads, SMB reads and
 * writes): hashing, magic, size limits, filestore v2 and the EVE fileinfo
 * event. One nj_files worker per core; parsers reach it through their
 * app-layer context (nj_al_files). A parser opens a file, appends its bytes
 * (in order, or by offset for SMB), reports gaps, and closes it; the close
 * writes the fileinfo event with the parser's transaction metadata (e.g. the
 * "http" object) supplied by a callback.
 *
 * File names from the wire are only ever logged, never used as paths: stored
 * files are named by their SHA-256 in two-level folders (filestore v2).
 *
 * Semantics follow Suricata (util-file.c, output-json-file.c,
 * output-filestore.c):
 *  - Hashes are computed only when asked for (force-hash of the eve-log
 *    "files" type or of file-store; later also when rules need them);
 *    file-store v2 always turns SHA-256 on, as files are named by it.
 *  - "md5" and "sha1" are logged only for files that end CLOSED; "sha256" is
 *    logged for CLOSED and TRUNCATED files (of the bytes actually seen).
 *  - A gap (nj_file_gap, or a hole of nj_file_append_at still open at close)
 *    counts in "size" but its bytes are neither hashed nor stored; a file with
 *    a gap, cut at max_size, or closed as TRUNCATED ends "TRUNCATED" with
 *    "gaps": true when a gap was seen.
 *  - Stored files: written while carving to DIR/tmp/, renamed at close to
 *    DIR/xx/<sha256> (xx = its first two hex digits); an identical file already
 *    there is kept and the new copy dropped. TRUNCATED files are stored too
 *    (under the sha256 of what was seen), ERROR files are not.
 *
 * Everything is per core: no locks. Memory is bounded: a pool of max_open
 * files preallocated at creation, held out-of-order data within memcap, a
 * write buffer per file being stored (allocated once per pool entry).
 * Only files being stored make system calls (open, one write per 64 KiB,
 * rename at close).
 */
#ifndef NJ_FILES_H
#define NJ_FILES_H

#include <stdbool.h>
#include <stdint.h>

#include "../export/eve.h"
#include "../export/json.h"

struct nj_flow;
struct nj_conf;

enum nj_file_state {
	NJ_FILE_OPEN = 0,  /* given to nj_file_close: treated as TRUNCATED */
	NJ_FILE_CLOSED,	   /* "CLOSED": complete */
	NJ_FILE_TRUNCATED, /* "TRUNCATED": ended early (limit, flow end, gap at the end) */
	NJ_FILE_ERROR,	   /* "ERROR" */
};

struct nj_files_config {
	bool enabled;		/* fileinfo events at all (an eve-log asks for files) */
	bool md5, sha1, sha256; /* which hashes to compute (file-store force-hash, eve options) */
	bool magic;		/* libmagic on the first bytes (force-magic) */
	bool store;		/* filestore v2 enabled */
	bool store_all;	      /* force-filestore: store every file (else only on filestore rules) */
	char store_dir[4096]; /* filestore directory (created by nj_files_create) */
	bool store_fileinfo;  /* write-fileinfo: DIR/xx/<sha256>.<secs>.<file_id>.json */
	uint32_t store_max_fds; /* max-open-files: temp files kept open per core, 0 = all;
				   the others are reopened (O_APPEND) per buffer flush */
	uint64_t stream_depth;	/* file-store stream-depth (0: not set or no effect): a TCP
				   flow whose file may be stored gets this reassembly depth
				   when the file opens (nj_stream_flow_set_depth) */
	uint64_t max_size;	/* bytes per file tracked (nightjar.files.max-size); 0 = no limit */
	uint64_t memcap;	/* bytes of out-of-order (by offset) data held per core */
	uint32_t max_open;	/* files open at once per core */
	/* HTTP byte ranges (app-layer.protocols.http.byterange.*): the loader sets the
	 * total, the caller of nj_files_create the share of one core */
	uint64_t range_memcap;	/* bytes for range reassembly per core (0: no limit) */
	uint32_t range_timeout; /* seconds an idle reassembly is kept */
};

/* Suricata's defaults: events on, no hash, no magic, no filestore. */
void nj_files_config_defaults(struct nj_files_config *cfg);
/*
 * Fills cfg (defaults first) from outputs.*.file-store (v2),
 * outputs.*.eve-log.types files options and nightjar.files.*; relative
 * file-store dirs are taken under log_dir. conf may be NULL (defaults, events
 * on). Returns 0, or -1 after printing "file:line: key: reason".
 */
int nj_files_config_load(struct nj_files_config *cfg, const struct nj_conf *conf,
			 const char *log_dir);

/* Per-core counters (all uint64_t: summed as arrays). */
struct nj_files_stats {
	uint64_t opened;
	uint64_t closed; /* ended CLOSED */
	uint64_t truncated, errors;
	uint64_t bytes; /* bytes delivered in order (hashed / stored) */
	uint64_t gaps;	/* holes: nj_file_gap calls and holes still open at close */
	uint64_t stored;
	uint64_t store_errors;	 /* Suricata's file_store.fs_errors: open/write/rename failures */
	uint64_t limit_size;	 /* files cut at max_size */
	uint64_t limit_open;	 /* opens refused: max_open */
	uint64_t limit_memcap;	 /* out-of-order chunks dropped: memcap */
	uint64_t store_dups;	 /* stored files already present (identical content kept once) */
	uint64_t store_late;	 /* store asked after bytes no longer held went by: not stored */
	uint64_t store_fd_limit; /* Suricata's file_store.open_files_max_hit */
	uint64_t ooo_bytes;	 /* gauge: out-of-order bytes held now (with chunk overhead) */
	uint64_t open_now;	 /* gauge: files open now */
	/* HTTP byte-range reassembly (nj_file_range_*) */
	uint64_t range_memuse;	    /* gauge: containers, range buffers, held data */
	uint64_t range_open;	    /* gauge: reassemblies in progress */
	uint64_t range_reassembled; /* reassembled files closed (logged) */
	uint64_t range_memcap;	    /* refused for memcap: containers, range data dropped */
	uint64_t range_timeouts;    /* idle reassemblies dropped at timeout (not logged) */
	uint64_t range_evicted;	    /* idle reassemblies dropped to make room (not logged) */
};

struct nj_files;
struct nj_file;

/*
 * One per core. eve may be NULL (no events). With cfg->store, creates
 * store_dir, its 256 leaf folders and tmp/ (NULL with a message when
 * impossible). Loads the magic database when cfg->magic.
 */
struct nj_files *nj_files_create(const struct nj_files_config *cfg, struct nj_eve_worker *eve);
/* Files still open are closed TRUNCATED without an event (their flows are gone). */
void nj_files_destroy(struct nj_files *fs);
const struct nj_files_stats *nj_files_stats(const struct nj_files *fs);
/*
 * The packet being processed (its pcap_cnt, 0 = none): events written by
 * nj_file_close carry it, as Suricata logs the packet that closed the file.
 * The app-layer framework sets it before calling parsers.
 */
void nj_files_set_pcap_cnt(struct nj_files *fs, uint64_t seq);
/* Called at every close with the digests computed (NULL when not): threat intel. */
typedef void (*nj_file_hash_fn)(void *arg, struct nj_flow *f, const uint8_t *md5,
				const uint8_t *sha1, const uint8_t *sha256, uint64_t ts_us);
void nj_files_set_hash_hook(struct nj_files *fs, nj_file_hash_fn fn, void *arg);

/*
 * Writes the protocol's part of the fileinfo event (e.g. "http":{...}) and
 * anything else at top level; called during nj_file_close.
 */
typedef void (*nj_file_meta_fn)(struct nj_json *j, const void *meta_arg);

/*
 * Opens a file of flow f for transaction tx_id in direction dir (0 to server,
 * 1 to client). name is the file name as seen on the wire (any bytes; logged
 * escaped, first 1024 bytes). app_proto is logged as "app_proto" and must
 * outlive the file (a string constant). Returns NULL when refused (limits;
 * counted). f must stay valid until nj_file_close: parsers close their files
 * (TRUNCATED) when their state is freed, at the latest.
 */
struct nj_file *nj_file_open(struct nj_files *fs, struct nj_flow *f, const char *app_proto,
			     const uint8_t *name, uint32_t name_len, uint64_t tx_id, int dir);
/* Appends in order (at the current end). */
void nj_file_append(struct nj_file *file, const uint8_t *data, uint32_t len);
/*
 * Data at a given offset (SMB): bytes before the current end are ignored
 * (first copy wins), bytes after it are held (bounded by memcap, counted when
 * dropped) until the bytes before them arrive or a gap is declared.
 */
void nj_file_append_at(struct nj_file *file, uint64_t offset, const uint8_t *data, uint32_t len);
/* len bytes are missing at the current end (counted in "gaps"). */
void nj_file_gap(struct nj_file *file, uint32_t len);
/*
 * Mark the file for storing (a filestore rule matched). Honoured while every
 * byte seen so far is still held (the first 4 KiB kept for magic), else
 * counted as store_late and logged "stored": false, "storing": true.
 */
void nj_file_store(struct nj_file *file);
/* Signature ids for "sid":[...] (at most 16 kept). */
void nj_file_add_sid(struct nj_file *file, uint32_t sid);
/* Content range of a partial file (HTTP Content-Range): "start", "end" when end > 0. */
void nj_file_set_range(struct nj_file *file, uint64_t start, uint64_t end);
/*
 * Closes the file with the given end state, writes the fileinfo event (with
 * meta written by meta_fn, which may be NULL), finishes filestore (atomic
 * rename into place) and frees it. ts_us is the event time.
 */
void nj_file_close(struct nj_file *file, enum nj_file_state state, uint64_t ts_us,
		   nj_file_meta_fn meta_fn, const void *meta_arg);
/*
 * libmagic's description of the file's first 4 KiB, NULL when magic is off (no
 * force-magic and no file.magic rule) or nothing arrived. Kept once the head is full,
 * or once final is true (the file is complete); valid until the file is closed.
 */
const char *nj_file_magic(struct nj_file *file, bool final);
/* Rule loading: a rule inspects file.magic; files objects created afterwards compute it. */
void nj_files_require_magic(void);
/*
 * Alerts on a transaction: "files":[{fileinfo members}...] for the files of flow's
 * transaction tx_id in direction dir still held (open, or closed and waiting for the
 * transaction's rules); nothing when there is none.
 */
struct nj_json;
void nj_files_tx_json(struct nj_files *fs, const struct nj_flow *flow, uint64_t tx_id, int dir,
		      struct nj_json *j);
/* MD5 of the bytes so far (a copy is finished); false when MD5 is not computed. */
bool nj_file_md5(struct nj_file *file, uint8_t out[16]);
/* Rule loading: a rule needs file MD5s; files objects created afterwards compute them. */
void nj_files_require_md5(void);
bool nj_files_md5_required(void);
/*
 * filestore rules. Rules are evaluated when a transaction's direction is
 * complete, which for a body is after its file closed. So, when rules using
 * filestore are loaded (nj_files_require_rule_store, before files objects are
 * created) and file-store is on without force-filestore, every file is copied
 * to DIR/tmp/ from its first byte, and a close made while deferral is on
 * (nj_files_defer, the app-layer framework turns it on around parsing) only
 * queues the file: nj_files_flush, called by the framework after the
 * transaction hooks and before transactions are freed, finishes the queued
 * files in order (fileinfo event, rename into place if a rule asked for the
 * file, else the copy is removed). nj_files_store_tx marks the files of the
 * transactions tx_id..tx_last of flow f in the directions of dirs (bit 0 to
 * server, bit 1 to client), open or queued; returns how many.
 */
void nj_files_require_rule_store(void);
void nj_files_defer(struct nj_files *fs, bool on);
void nj_files_flush(struct nj_files *fs);
unsigned nj_files_store_tx(struct nj_files *fs, const struct nj_flow *f, uint64_t tx_id,
			   uint64_t tx_last, unsigned dirs);
/* Bytes tracked so far (gaps included, up to max_size): the logged "size". */
uint64_t nj_file_size(const struct nj_file *file);

/*
 * HTTP byte ranges (Suricata's app-layer-htp-range.c): the 206 responses of
 * one file, each carved as a file of its own with "start"/"end", also feed a
 * container keyed by host name + file name, shared by the transactions and
 * flows of one core. The container holds one file (not tied to a flow while
 * it waits) that takes every range at its offset: bytes at its in-order end
 * go straight to hashing/storing, a range that starts beyond it is buffered
 * (one buffer per range, grown geometrically) and added when the range ends;
 * overlaps keep the first copy. When a range ends and the file has reached
 * the largest size announced, the file is closed in that range's
 * transaction (its flow, tx_id, direction and protocol metadata; the event
 * follows the range's own fileinfo) and the container is removed.
 * Memory (containers, range buffers, held data) is bounded by range_memcap
 * per core: a new container first evicts idle ones (oldest first), a range
 * that cannot be buffered is skipped; both counted. Containers are also
 * capped at half of max_open (each holds a file of the pool). An idle
 * container (no range in progress) is dropped without an event
 * range_timeout seconds after its last use (nj_files_expire).
 */
struct nj_file_range;
struct nj_file_range_ref {	 /* one range response feeding a container (kept by the parser) */
	struct nj_file_range *r; /* NULL: not reassembled */
	struct nj_flow *flow;
	uint64_t tx_id;
	uint64_t start, off, end; /* the range [start, end), next byte's offset */
	uint8_t *buf;		  /* out-of-order range: its bytes from start (len of cap) */
	uint32_t len, cap;
	uint8_t dir;
	bool buffering, stopped; /* buffer mode; buffer given up (gap, memcap) */
};

/*
 * A response carries bytes [start, end] (inclusive, as Content-Range) of a
 * file of total bytes: joins or creates the container of host + name and
 * fills ref. Returns false (ref->r NULL) when not reassembled (invalid
 * range, limits: counted).
 */
bool nj_file_range_open(struct nj_files *fs, struct nj_file_range_ref *ref, struct nj_flow *f,
			const uint8_t *host, uint32_t host_len, const uint8_t *name,
			uint32_t name_len, const char *app_proto, uint64_t tx_id, int dir,
			uint64_t start, uint64_t end, uint64_t total, uint64_t ts_us);
/* The response's next body bytes; bytes past the range are ignored. */
void nj_file_range_append(struct nj_file_range_ref *ref, const uint8_t *d, uint32_t n);
/* n body bytes lost. */
void nj_file_range_gap(struct nj_file_range_ref *ref, uint32_t n);
/*
 * The response ended (complete or not): releases ref; when the container's
 * file is complete, closes it (CLOSED, or TRUNCATED when !complete or with
 * gaps) with meta_fn/meta_arg in ref's transaction and returns true.
 * ts_us 0: the container's last time.
 */
bool nj_file_range_close(struct nj_file_range_ref *ref, bool complete, uint64_t ts_us,
			 nj_file_meta_fn meta_fn, const void *meta_arg);
/* Drops idle containers whose timeout passed (the worker's housekeeping). */
void nj_files_expire(struct nj_files *fs, uint64_t now_us);

/*
 * A content scanner (YARA) attached to one core's files. It sees every
 * file's bytes in order by offset (a gap shows as a jump of off), scans at
 * close before the fileinfo event, writes its findings inside that event's
 * "fileinfo" object, and may write events of its own (alerts) after it.
 * slot identifies the file (0 .. nj_files_max_open() - 1) for the time it is
 * open; release is called once per opened file (after done, or when the file
 * is dropped without close).
 */
struct nj_file_view {
	struct nj_flow *flow; /* may be NULL */
	const char *app_proto;
	const uint8_t *name;
	uint32_t name_len;
	int dir;
	enum nj_file_state state; /* final state (CLOSED, TRUNCATED, ERROR) */
	bool gaps;
	uint64_t size, tx_id, ts_us, pcap_cnt;
	const uint8_t *md5, *sha1, *sha256; /* NULL when not computed */
	nj_file_meta_fn meta_fn;	    /* the protocol's object (may be NULL) */
	const void *meta_arg;
};

struct nj_file_scanner_ops {
	void (*data)(void *ctx, uint32_t slot, uint64_t off, const uint8_t *d, uint32_t n);
	void (*scan)(void *ctx, uint32_t slot, const struct nj_file_view *v);
	void (*log)(void *ctx, uint32_t slot, struct nj_json *j);
	void (*done)(void *ctx, uint32_t slot, const struct nj_file_view *v);
	void (*release)(void *ctx, uint32_t slot);
};

/* Attaches a scanner (NULL ops: none); set before the first file opens. */
void nj_files_set_scanner(struct nj_files *fs, const struct nj_file_scanner_ops *ops, void *ctx);
uint32_t nj_files_max_open(const struct nj_files *fs);

#endif
