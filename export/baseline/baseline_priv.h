/* SPDX-License-Identifier: MIT */
/* Baseline internals shared by baseline.c (tables, runtime) and baseline_file.c (YAML). */
#ifndef NJ_BASELINE_PRIV_H
#define NJ_BASELINE_PRIV_H

#include "baseline.h"

/* Flow sizes: bucket i holds flows of [2^(i-1), 2^i) bytes (bucket 0: 0 bytes). */
#define NJ_BL_HBUCKETS 48
/* app_protos remembered per service; more means any. */
#define NJ_BL_MAX_APPS 4
/* app_proto wildcard in a service entry. */
#define NJ_BL_APP_ANY 0xffffu

enum nj_bl_kind { NJ_BL_PEER = 1, NJ_BL_SERVICE, NJ_BL_COUNTRY, NJ_BL_ASN };

/* Profile key: a group id, or an address. Compared and hashed as bytes. */
struct nj_bl_skey {
	uint8_t addr[16];
	uint16_t group; /* group id + 1; 0: a host */
	uint8_t ipv6;
	uint8_t pad;
};

struct nj_bl_subject {
	struct nj_bl_skey key;
	uint32_t hours; /* bit h: flows started in hour h (UTC) */
	uint32_t nentries;
	uint32_t ncountries, nasns; /* country / ASN entries (checked only if learned) */
	uint64_t flows;
	uint64_t bytes_max;
	uint64_t p50, p95; /* from a file (the histogram is not written) */
	uint32_t hist[NJ_BL_HBUCKETS];
};

/*
 * An entry: kind and value, within a subject. Peers with a prefix shorter
 * than the address (edited in by an analyst) are matched by prefix.
 */
struct nj_bl_entry {
	uint32_t subject; /* index + 1; 0 = empty slot */
	uint8_t kind;	  /* enum nj_bl_kind */
	uint8_t ipv6;
	uint8_t plen; /* peers: prefix length (32/128 for an address) */
	uint8_t proto;
	uint16_t port;
	uint8_t napps;
	uint8_t pad;
	uint16_t apps[NJ_BL_MAX_APPS]; /* services; napps 0 = any */
	uint8_t val[16];	       /* peer address, country code, ASN (host order u32) */
	uint64_t flows;
};

struct nj_bl_model {
	uint32_t max_subjects, max_entries, max_per_subject;
	uint32_t nsubjects, nentries;
	struct nj_bl_subject *subjects;
	uint32_t *shash; /* slot -> subject index + 1 */
	uint32_t smask;
	struct nj_bl_entry *entries; /* open addressing */
	uint32_t emask;
	uint32_t nprefix; /* peer entries with a short prefix (analyst edits) ... */
	uint32_t *pslots; /* ... their slots, scanned after an exact miss (allocated on the
			     first one: files and merges only; learning never makes one) */
	uint64_t flows, hosts_dropped, entries_dropped;
	uint64_t first_us, last_us;
	unsigned ngroups;
	char groups[NJ_BASELINE_MAX_GROUPS][NJ_BASELINE_NAME_MAX];
};

/* Hash of a byte string (not cryptographic; tables are per core and bounded). */
static inline uint64_t nj_bl_hash(const void *p, size_t n, uint64_t h)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ULL;
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ULL;
	return h ^ (h >> 32);
}

/* Subject lookup; create adds it when absent (NULL when full). */
struct nj_bl_subject *nj_bl_subject_get(struct nj_bl_model *m, const struct nj_bl_skey *k,
					bool create);
const struct nj_bl_subject *nj_bl_subject_find(const struct nj_bl_model *m,
					       const struct nj_bl_skey *k);
static inline uint32_t nj_bl_subject_index(const struct nj_bl_model *m,
					   const struct nj_bl_subject *s)
{
	return (uint32_t)(s - m->subjects) + 1;
}
/*
 * Entry lookup by (subject, kind, value); e is the probe (subject, kind,
 * ipv6, plen, proto, port, val). create adds it (NULL when full, counted).
 */
struct nj_bl_entry *nj_bl_entry_get(struct nj_bl_model *m, const struct nj_bl_entry *e,
				    bool create);
const struct nj_bl_entry *nj_bl_entry_find(const struct nj_bl_model *m,
					   const struct nj_bl_entry *e);
/* Adds app to a service entry's list (more than NJ_BL_MAX_APPS: any). */
void nj_bl_entry_add_app(struct nj_bl_entry *e, uint16_t app);
/* Bytes percentile from the histogram (or the file's value). */
uint64_t nj_bl_subject_pct(const struct nj_bl_subject *s, unsigned pct);
void nj_bl_subject_add_bytes(struct nj_bl_subject *s, uint64_t bytes);

/* "tcp"/"udp"/"icmp"/number -> proto; 0 and -1 on error. */
int nj_bl_proto_parse(const char *s, uint8_t *out);
const char *nj_bl_proto_name(uint8_t proto, char buf[4]);
/* app_proto name -> id (NJ_BL_APP_ANY for "any"/"*"); -1 if unknown. */
int nj_bl_app_parse(const char *s, uint16_t *out);
/*
 * "tcp/443/tls|http", "udp/53", "tcp/8443/any": proto, port, apps. 0 or -1
 * with the reason in err.
 */
int nj_bl_service_parse(const char *s, struct nj_bl_entry *e, char *err, size_t errlen);
/* Address or CIDR ("10.0.0.0/8", "2001:db8::1"). */
int nj_bl_cidr_parse(const char *s, uint8_t addr[16], uint8_t *ipv6, uint8_t *plen);
bool nj_bl_prefix_match(const uint8_t *a, const uint8_t *b, unsigned plen);

/* ------------------------------------------------------------------ policy */

struct nj_detect_addrs;
struct nj_detect_rules;

enum nj_bl_to { NJ_BL_TO_ANY = 0, NJ_BL_TO_ADDRS, NJ_BL_TO_COUNTRY, NJ_BL_TO_ASN };

/* One approved communication. */
struct nj_bl_policy {
	char name[NJ_BASELINE_NAME_MAX];
	char *justification, *approval;
	int line;
	int from_group;			    /* group id, or -1 */
	const struct nj_detect_addrs *from; /* with from_group -1: NULL = any */
	enum nj_bl_to to_kind;
	const struct nj_detect_addrs *to;
	char country[3];
	uint32_t asn;
	uint8_t proto; /* 0: any */
	uint16_t port; /* 0: any */
	uint16_t app;  /* NJ_BL_APP_ANY: any */
};

struct nj_baseline_ctx {
	struct nj_baseline_config cfg;
	struct nj_detect_rules *arena; /* owns the address sets (rule syntax, vars) */
	const struct nj_detect_addrs *hosts;
	const struct nj_detect_addrs *group_addrs[NJ_BASELINE_MAX_GROUPS];
	const struct nj_detect_addrs *geo_addrs[NJ_BASELINE_MAX_GEO];
	struct nj_bl_model *model; /* detect: loaded baseline; learn: merged result */
	struct nj_bl_policy *policies;
	unsigned npolicies;
	/* periodic writes (control thread only) */
	bool snap_pending;
	uint64_t next_write_s;
	uint64_t writes;
};

/* Parses an address set with the ctx's variables; NULL with the reason in err. */
const struct nj_detect_addrs *nj_bl_addrs(struct nj_baseline_ctx *ctx, const char *text, char *err,
					  size_t errlen);
/* Reads the policy file into ctx->policies; -1 with "file:line: reason" in err. */
int nj_bl_policy_load(struct nj_baseline_ctx *ctx, const char *path, char *err, size_t errlen);

#endif
