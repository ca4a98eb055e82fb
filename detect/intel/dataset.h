/* SPDX-License-Identifier: MIT */
/*
 * Suricata's datasets: named sets of strings, md5 / sha256 digests and IP
 * addresses that rules test and change (dataset:isset|isnotset|set|unset,
 * name, type T, load F, save F, state F, memcap N, hashsize N) on a sticky
 * buffer. Sets are process-wide (shared by every core and every rule that
 * names them), defined by the `datasets:` configuration section or by the
 * first rule that names them, loaded at start-up and saved at exit.
 *
 * File formats (Suricata's): one value a line; strings in base64, digests in
 * hex, addresses as text (type ip stores IPv4 in the first 4 of 16 bytes and
 * writes IPv6 in the full 8-group form). A trailing ",N" reputation value is
 * accepted and ignored.
 */
#ifndef NJ_INTEL_DATASET_H
#define NJ_INTEL_DATASET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nj_conf;
struct nj_dset;

enum nj_dataset_type {
	NJ_DS_NOTSET = 0,
	NJ_DS_STRING,
	NJ_DS_MD5,
	NJ_DS_SHA256,
	NJ_DS_IPV4,
	NJ_DS_IP, /* "ip" / "ipv6": 16 bytes */
};

struct nj_dataset {
	char name[64];
	enum nj_dataset_type type;
	char *load, *save; /* resolved paths, NULL none; state sets both */
	uint64_t memcap;
	uint32_t hashsize;
	struct nj_dset *set;
	uint32_t loaded, bad_lines;
	struct nj_dataset *next;
};

/* Reads the datasets: section (defaults, rules.allow-write, named sets). 0 or -1. */
int nj_datasets_configure(const struct nj_conf *conf);
/* Where relative save / state files go (Suricata's --data-dir). */
void nj_datasets_set_data_dir(const char *dir);
/*
 * Finds or creates a set. type NJ_DS_NOTSET finds an existing one only. load
 * and save are paths as resolved by the caller. Returns NULL with the reason
 * in err.
 */
struct nj_dataset *nj_dataset_get(const char *name, enum nj_dataset_type type, const char *load,
				  const char *save, uint64_t memcap, uint32_t hashsize, char *err,
				  size_t errlen);
/* Parses a file line of the set's type into out (max 32 bytes for non-strings); length or -1. */
int nj_dataset_parse_value(enum nj_dataset_type type, const char *line, uint8_t *out,
			   size_t outcap);
enum nj_dataset_type nj_dataset_type_parse(const char *s);
/* Writes every set that has a save (or state) file; returns the number written. */
int nj_datasets_save_all(void);
/* Frees every set (after the workers stopped). */
void nj_datasets_free_all(void);

#endif
