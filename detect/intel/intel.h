/* SPDX-License-Identifier: MIT */
/*
 * Threat intel: indicator sets (IP addresses and CIDRs, domains, host names,
 * URLs, md5/sha1/sha256 file hashes, JA3/JA4, TLS certificate fingerprints)
 * loaded from plain lists, CSV, the MISP feed JSON layout and MISP's CSV
 * export, each indicator carrying the context of where it came from (source,
 * event id / uuid / info, tags, threat level). docs/intel.md has the formats
 * and the EVE output.
 *
 * A set is built once (loaders below), then read-only: every core looks up
 * fields in it without locks. Lookups hash the field once and probe one
 * open-addressing table (8-byte slots holding a tag and the indicator
 * index); CIDRs are the same table keyed by (prefix length, masked address),
 * probed for each prefix length present, longest first; a domain is probed
 * for itself and each parent domain. No lookup allocates.
 *
 * Reload (intel_run.c): a new set is built off the hot path and published
 * with an atomic pointer swap; workers pick it up at their next burst and
 * the old one is freed once every worker has passed that point.
 */
#ifndef NJ_INTEL_H
#define NJ_INTEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum nj_intel_kind {
	NJ_IK_IP = 0,	   /* address or CIDR, v4 or v6 */
	NJ_IK_DOMAIN,	   /* the domain and every name below it */
	NJ_IK_HOST,	   /* exactly this host name */
	NJ_IK_URL,	   /* host + path (+ query), scheme and port dropped */
	NJ_IK_MD5,	   /* file hashes, stored binary */
	NJ_IK_SHA1,	   /* */
	NJ_IK_SHA256,	   /* */
	NJ_IK_JA3,	   /* JA3 md5, lowercase hex text */
	NJ_IK_JA4,	   /* JA4 fingerprint text */
	NJ_IK_CERT_SHA1,   /* TLS certificate SHA-1 fingerprint, binary */
	NJ_IK_CERT_SHA256, /* TLS certificate SHA-256 fingerprint, binary */
	NJ_IK_MAX
};
extern const char *const nj_intel_kind_names[NJ_IK_MAX];

/* Where an indicator came from: offsets of NUL-terminated strings in the
 * set's blob (0 = none; nj_intel_str resolves them). */
struct nj_intel_ctx {
	uint32_t source;     /* source name (config name or path) */
	uint32_t event_id;   /* MISP event id, CSV event_id column */
	uint32_t event_uuid; /* */
	uint32_t info;	     /* MISP Event.info / CSV info or comment */
	uint32_t tags;	     /* tags, each NUL-terminated, ntags of them back to back */
	uint16_t ntags;
	uint8_t threat_level; /* MISP threat_level_id: 1 high, 2 medium, 3 low, 4 undefined */
};

struct nj_intel_ind {
	uint32_t key_off, val_off; /* in the blob */
	uint16_t key_len, val_len;
	uint8_t kind; /* enum nj_intel_kind */
	uint8_t plen; /* CIDR prefix length (IP) */
	uint16_t pad;
	uint32_t ctx; /* index into ctxs */
};

/* Probe classes: one per kind, and per prefix length for IPv4 (33) and IPv6 (129). */
#define NJ_INTEL_NCLASS (NJ_IK_MAX + 33 + 129)

struct nj_intel_set {
	uint64_t *slots; /* hash tag << 32 | (indicator index + 1); 0 empty */
	uint32_t mask;
	struct nj_intel_ind *inds;
	uint32_t ninds, cap_inds;
	char *blob; /* keys, display values, context strings */
	uint64_t blob_len, blob_cap;
	struct nj_intel_ctx *ctxs;
	uint32_t nctxs, cap_ctxs;
	uint32_t kinds;	       /* bit per kind present: absent kinds cost nothing */
	uint64_t v4_plens;     /* bit p: some IPv4 prefix of length p (0..32) */
	uint64_t v6_plens[3];  /* bits 0..128 */
	uint64_t v4_top[1024]; /* bit per /16 that some IPv4 prefix shorter than /32 touches */
	uint64_t dom_labels, host_labels; /* bit L: a domain / host name of L labels (63: more) */
	uint64_t mem, memcap;		  /* bytes held, limit */
	uint64_t generation;		  /* distinguishes sets in per-flow de-duplication */
	uint64_t count[NJ_IK_MAX];	  /* indicators by kind */
	uint64_t bad, unsupported, dups, skipped_no_ids;
	uint64_t load_ns, load_cpu_ns; /* wall and CPU time of the load */
	/* Per probe class, a bitmap of the hash tags present (16 bits an entry,
	 * built by nj_intel_set_finish): most misses stop at a bit test in a
	 * small bitmap instead of a cache miss in the big table. */
	uint64_t *filt[NJ_INTEL_NCLASS];
	uint32_t filt_mask[NJ_INTEL_NCLASS];
};

/* ------------------------------------------------------------ building */

struct nj_intel_set *nj_intel_set_new(uint64_t memcap);
void nj_intel_set_free(struct nj_intel_set *s);
/* A context; tags is an array of ntags strings. Returns its index, or UINT32_MAX (memcap). */
uint32_t nj_intel_ctx_add(struct nj_intel_set *s, const char *source, const char *event_id,
			  const char *event_uuid, const char *info, const char *const *tags,
			  unsigned ntags, uint8_t threat_level);
/*
 * Adds value as an indicator of kind. Returns 0 added, 1 already present
 * (first context kept), -EINVAL value not of that kind, -ENOSPC memcap.
 */
int nj_intel_add(struct nj_intel_set *s, enum nj_intel_kind kind, const char *value, size_t len,
		 uint32_t ctx);
/*
 * Adds a value of a named type: ours (ip, cidr, domain, hostname, url, md5,
 * sha1, sha256, ja3, ja4, cert-sha1, cert-sha256) or MISP's (ip-src, ip-dst,
 * ip-dst|port, domain|ip, hostname|port, filename|sha256, url,
 * ja3-fingerprint-md5, x509-fingerprint-sha1, ...; composite values split at
 * '|'). NULL type guesses from the value. Counts in s (bad, unsupported,
 * dups). Returns 0 if at least one indicator was added, else -errno
 * (-ENOTSUP for a type that is not an indicator we match, -ENOSPC memcap).
 */
int nj_intel_add_typed(struct nj_intel_set *s, const char *type, const char *value, uint32_t ctx);
/* The kind a value looks like (IP/CIDR, hashes by length, URL, JA4, domain); -1 if none. */
int nj_intel_guess_kind(const char *value, size_t len);
/* Builds the lookup filters once loading is done (lookups work without them, slower). */
int nj_intel_set_finish(struct nj_intel_set *s);
/* Sizes s for about n more indicators and bytes of values (best effort, within memcap). */
void nj_intel_reserve(struct nj_intel_set *s, uint64_t n, uint64_t bytes);
/* Total indicators. */
static inline uint32_t nj_intel_count(const struct nj_intel_set *s)
{
	return s ? s->ninds : 0;
}

/*
 * IP reputation entries (Suricata's iprep, in a set of their own): address or
 * CIDR, category 0..255 and score, kept in the indicator's ctx field. 0 added,
 * 1 already present, -EINVAL, -ENOSPC.
 */
int nj_intel_add_rep(struct nj_intel_set *s, const char *ip, uint8_t cat, uint8_t score);
/* Score of the most specific entry covering addr in category cat, or -1. */
int nj_intel_match_rep(const struct nj_intel_set *s, const uint8_t *addr, unsigned alen,
		       uint8_t cat);

/* ------------------------------------------------------------ loaders */

enum nj_intel_format {
	NJ_IF_PLAIN = 0, /* one indicator a line, '#' comments */
	NJ_IF_CSV,	 /* header with value[,type,event_id,tags,threat_level,info] */
	NJ_IF_MISP_JSON, /* feed directory (manifest.json + <uuid>.json) or one event file */
	NJ_IF_MISP_CSV,	 /* MISP CSV export: uuid,event_id,category,type,value,comment,to_ids,... */
};

struct nj_intel_source {
	const char *path;
	const char *name; /* label in alerts; NULL: path */
	enum nj_intel_format format;
	const char *type; /* plain / csv: type of every value (NULL: column or guess) */
	bool to_ids_only; /* MISP: attributes with to_ids only */
};

int nj_intel_format_parse(const char *s);
/*
 * Loads one source into s. Malformed lines / attributes are counted in s->bad
 * and skipped; returns 0, or -errno when the source cannot be read or the
 * memcap is reached (err gets the reason).
 */
int nj_intel_load(struct nj_intel_set *s, const struct nj_intel_source *src, char *err,
		  size_t errlen);

/* ------------------------------------------------------------ lookups (hot path) */

/* Each returns the matching indicator, or NULL. */
const struct nj_intel_ind *nj_intel_match_ip(const struct nj_intel_set *s, const uint8_t *addr,
					     unsigned alen);
/* name: as on the wire (any case, optional trailing dot); the longest match wins. */
const struct nj_intel_ind *nj_intel_match_domain(const struct nj_intel_set *s, const uint8_t *name,
						 uint32_t len);
/* host (optional :port) and the request target (path[?query]). */
const struct nj_intel_ind *nj_intel_match_url(const struct nj_intel_set *s, const uint8_t *host,
					      uint32_t hlen, const uint8_t *uri, uint32_t ulen);
/* md5 / sha1 / sha256 digests, binary. */
const struct nj_intel_ind *nj_intel_match_hash(const struct nj_intel_set *s,
					       enum nj_intel_kind kind, const uint8_t *d,
					       uint32_t len);
/* JA3 / JA4 text as the TLS parser offers it. */
const struct nj_intel_ind *nj_intel_match_text(const struct nj_intel_set *s,
					       enum nj_intel_kind kind, const uint8_t *d,
					       uint32_t len);
/* tls.cert_fingerprint text ("aa:bb:...", SHA-1). */
const struct nj_intel_ind *nj_intel_match_certfp(const struct nj_intel_set *s, const uint8_t *d,
						 uint32_t len);

static inline const struct nj_intel_ctx *nj_intel_ind_ctx(const struct nj_intel_set *s,
							  const struct nj_intel_ind *i)
{
	return &s->ctxs[i->ctx];
}
static inline const char *nj_intel_str(const struct nj_intel_set *s, uint32_t off)
{
	return off ? s->blob + off : NULL;
}
static inline const char *nj_intel_ind_value(const struct nj_intel_set *s,
					     const struct nj_intel_ind *i)
{
	return s->blob + i->val_off;
}

#endif
