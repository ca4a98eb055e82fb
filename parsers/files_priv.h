/* SPDX-License-Identifier: MIT */
/*
 * Internals shared by files.c and files_range.c (HTTP byte-range
 * reassembly): per-file memory budgets, re-binding a file to the flow that
 * completes it, dropping a file without an event.
 */
#ifndef NJ_FILES_PRIV_H
#define NJ_FILES_PRIV_H

#include "files.h"

/* Where a file's out-of-order data is counted (default: the core's nightjar.files.memcap). */
struct nj_file_budget {
	uint64_t *used; /* bytes held, chunk overhead included */
	uint64_t cap;	/* 0: no limit */
	uint64_t *hits; /* data dropped for the cap */
};

void nj_file_set_budget(struct nj_file *f, struct nj_file_budget *b);
/* The flow, transaction and direction the close event is written for. */
void nj_file_rebind(struct nj_file *f, struct nj_flow *flow, uint64_t tx_id, int dir);
/* Frees an open file without an event (its reassembly timed out or was evicted). */
void nj_file_discard(struct nj_file *f);
struct nj_files_stats *nj_files_stats_rw(struct nj_files *fs);
const struct nj_files_config *nj_files_cfg(const struct nj_files *fs);

/* files_range.c */
struct nj_file_ranges;
struct nj_file_ranges *nj_file_ranges_create(struct nj_files *fs);
void nj_file_ranges_destroy(struct nj_file_ranges *t);
struct nj_file_ranges *nj_files_ranges(struct nj_files *fs);
/* Reads app-layer.protocols.http.byterange.{memcap,timeout} into cfg. */
int nj_file_ranges_config_load(struct nj_files_config *cfg, const struct nj_conf *conf);

#endif
