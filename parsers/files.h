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
	NJ_FILE_OPEN = 0,
	NJ_FILE_CLOSED,	   /* "CLOSED": complete */
	NJ_FILE_TRUNCATED, /* "TRUNCATED": ended early (limit, flow end, gap at the end) */
	NJ_FILE_ERROR,	   /* "ERROR" */
};

struct nj_files_config {
	bool enabled;		/* fileinfo events at all (an eve-log asks for files) */
	bool md5, sha1, sha256; /* which hashes to compute (file-store force-hash, eve options) */
	bool magic;		/* libmagic on the first bytes */
	bool store;		/* filestore v2 enabled */
	bool store_all;	      /* force-filestore: store every file (else only on filestore rules) */
	char store_dir[4096]; /* filestore directory (created at start-up) */
	uint64_t max_size;    /* bytes per file tracked (stream-depth for files); 0 = no limit */
	uint64_t memcap;      /* bytes of out-of-order (by offset) data held per core */
	uint32_t max_open;    /* files open at once per core */
};

void nj_files_config_defaults(struct nj_files_config *cfg);
/* Reads file-store (v2), outputs.*.eve-log.types files/fileinfo options; 0 or -1 with message. */
int nj_files_config_load(struct nj_files_config *cfg, const struct nj_conf *conf,
			 const char *log_dir);

struct nj_files_stats {
	uint64_t opened, closed, truncated, errors;
	uint64_t bytes, gaps;
	uint64_t stored, store_errors;
	uint64_t limit_size;   /* files cut at max_size */
	uint64_t limit_open;   /* opens refused: max_open */
	uint64_t limit_memcap; /* out-of-order data dropped: memcap */
};

struct nj_files;
struct nj_file;

struct nj_files *nj_files_create(const struct nj_files_config *cfg, struct nj_eve_worker *eve);
void nj_files_destroy(struct nj_files *fs);
const struct nj_files_stats *nj_files_stats(const struct nj_files *fs);

/*
 * Writes the protocol's part of the fileinfo event (e.g. "http":{...}) and
 * anything else at top level; called during nj_file_close.
 */
typedef void (*nj_file_meta_fn)(struct nj_json *j, const void *meta_arg);

/*
 * Opens a file of flow f for transaction tx_id in direction dir (0 to server,
 * 1 to client). name is the file name as seen on the wire (any bytes; logged
 * escaped). app_proto is logged as "app_proto". Returns NULL when refused
 * (limits; counted).
 */
struct nj_file *nj_file_open(struct nj_files *fs, struct nj_flow *f, const char *app_proto,
			     const uint8_t *name, uint32_t name_len, uint64_t tx_id, int dir);
/* Appends in order. */
void nj_file_append(struct nj_file *file, const uint8_t *data, uint32_t len);
/* Data at a given offset (SMB): buffered (bounded) until the bytes before it arrive. */
void nj_file_append_at(struct nj_file *file, uint64_t offset, const uint8_t *data, uint32_t len);
/* len bytes are missing at the current end (counted in "gaps"). */
void nj_file_gap(struct nj_file *file, uint32_t len);
/* Mark the file for storing (a filestore rule matched); sids for "sid":[...]. */
void nj_file_store(struct nj_file *file);
void nj_file_add_sid(struct nj_file *file, uint32_t sid);
/*
 * Closes the file with the given end state, writes the fileinfo event (with
 * meta written by meta_fn), finishes filestore (atomic rename into place) and
 * frees it. ts_us is the event time.
 */
void nj_file_close(struct nj_file *file, enum nj_file_state state, uint64_t ts_us,
		   nj_file_meta_fn meta_fn, const void *meta_arg);
/* Bytes tracked so far. */
uint64_t nj_file_size(const struct nj_file *file);

#endif
