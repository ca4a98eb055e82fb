/* SPDX-License-Identifier: MIT */
/*
 * GeoIP and ASN enrichment from MaxMind DB files (libmaxminddb).
 *
 * Shape: the databases are opened once at start-up (read-only mmap, shared by
 * every core: libmaxminddb lookups take no lock and allocate nothing); each
 * core then owns a struct nj_geoip_cache, a bounded direct-mapped cache keyed
 * by address, so the hot path is a hash, a compare and a copy-free pointer to
 * the cached answer. Addresses inside HOME_NET (vars.address-groups, parsed by
 * the rule engine's address parser) are never looked up.
 *
 * A database that cannot be opened, has the wrong type, or fails a probe of
 * its search tree is a start-up error with the file and the reason. At run
 * time a lookup error (a corrupt tree past the probe) is counted and treated
 * as "no data"; it never stops the core.
 *
 * EVE: nj_geoip_json() writes the top-level "geoip" object of an event (see
 * docs/eve.md): {"src": {"geo": {...}, "as": {...}}, "dest": {...}} with only
 * the external side(s) and only the fields the databases have.
 *
 * Other modules (the worker, the baseline feature) use nj_geoip_lookup() on
 * their own core's cache and read struct nj_geoip_info, e.g. on a worker:
 *
 *	struct nj_geoip_cache *gc = nj_eve_worker_geoip(w->eve); // NULL: GeoIP off
 *	const struct nj_geoip_info *in = gc ? nj_geoip_lookup(gc, addr, 4) : NULL;
 *	if (in && (in->fields & NJ_GEOIP_COUNTRY)) ... in->country, in->asn ...
 *
 * which shares the cache (and its counters) with the EVE enrichment.
 */
#ifndef NJ_GEOIP_H
#define NJ_GEOIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nj_conf;
struct nj_json;

/* nj_geoip_info.fields: which members hold data. */
#define NJ_GEOIP_COUNTRY      0x01u /* country (ISO 3166-1 alpha-2) */
#define NJ_GEOIP_COUNTRY_NAME 0x02u
#define NJ_GEOIP_CONTINENT    0x04u
#define NJ_GEOIP_CITY	      0x08u
#define NJ_GEOIP_LOCATION     0x10u
#define NJ_GEOIP_ASN	      0x20u
#define NJ_GEOIP_AS_ORG	      0x40u

/* What the databases know about one address (English names, NUL-terminated). */
struct nj_geoip_info {
	uint32_t fields; /* NJ_GEOIP_*; 0 = nothing known */
	uint32_t asn;
	double lat, lon;
	char country[3]; /* "GB"; the location's country, never registered_country */
	char continent[3];
	char country_name[48];
	char city[64];
	char as_org[96];
};

/* ------------------------------------------------------------ one database */

enum nj_geoip_db_kind {
	NJ_GEOIP_DB_GEO, /* City or Country (GeoIP2, GeoLite2, DB-IP, Enterprise) */
	NJ_GEOIP_DB_ASN, /* ASN or ISP */
};

struct nj_geoip_db;

/*
 * Opens and checks a database: the metadata's database_type must fit kind and
 * a probe of the search tree must not fail. NULL with a one-line reason in err.
 */
struct nj_geoip_db *nj_geoip_db_open(const char *path, enum nj_geoip_db_kind kind, char *err,
				     size_t errlen);
void nj_geoip_db_close(struct nj_geoip_db *db);
/* A number unique to this opening (never reused): a key for caches of answers. */
uint32_t nj_geoip_db_serial(const struct nj_geoip_db *db);
/*
 * Adds what db knows about addr (alen 4 or 16) to out (fields are or-ed in).
 * 0: found, -ENOENT: no entry, -EIO: the database returned an error. No
 * allocation, lock or syscall: usable on the packet path.
 */
int nj_geoip_db_lookup(const struct nj_geoip_db *db, const uint8_t *addr, unsigned alen,
		       struct nj_geoip_info *out);
/* Country code only (the rule keyword): 0 and cc[3] filled, else -ENOENT/-EIO. */
int nj_geoip_db_country(const struct nj_geoip_db *db, const uint8_t *addr, unsigned alen,
			char cc[3]);

/*
 * Shared, reference-counted opening by path for users that load more than
 * once (every rule with geoip: uses the same database). Start-up only.
 */
struct nj_geoip_db *nj_geoip_db_get(const char *path, enum nj_geoip_db_kind kind, char *err,
				    size_t errlen);
void nj_geoip_db_put(struct nj_geoip_db *db);

/* ------------------------------------------------------------ enrichment */

#define NJ_GEOIP_CACHE_DEFAULT 4096u
#define NJ_GEOIP_CACHE_MAX     (1u << 22)

struct nj_geoip_config {
	bool enabled;		 /* default: on when a database is named */
	char database[4096];	 /* City or Country mmdb; "" none */
	char asn_database[4096]; /* ASN (or ISP) mmdb; "" none */
	uint32_t cache_size;	 /* entries per core, rounded up to a power of two; 0 = none */
};

void nj_geoip_config_defaults(struct nj_geoip_config *cfg);
/*
 * Reads geoip.* from the configuration; relative database paths are taken
 * from the working directory, else from the directory of the file that named
 * them. 0, or -EINVAL after printing file:line and the reason.
 */
int nj_geoip_config_load(struct nj_geoip_config *cfg, const struct nj_conf *c);
/*
 * A database path from configuration key `key` resolved as above into out;
 * 1 if the key is absent, 0 when set, -EINVAL on a bad value.
 */
int nj_geoip_conf_path(const struct nj_conf *c, const char *key, char *out, size_t outlen);

struct nj_geoip;

/*
 * Opens the configured databases and HOME_NET of conf (NULL: Suricata's
 * default HOME_NET). NULL with the reason in err (names the file).
 */
struct nj_geoip *nj_geoip_open(const struct nj_geoip_config *cfg, const struct nj_conf *conf,
			       char *err, size_t errlen);
void nj_geoip_close(struct nj_geoip *g);
/*
 * Start-up in one call: reads geoip.* and opens the databases when enabled.
 * 0 with *out NULL when GeoIP is off; -EINVAL after logging a clear error.
 */
int nj_geoip_start(const struct nj_conf *conf, struct nj_geoip **out);
bool nj_geoip_is_home(const struct nj_geoip *g, const uint8_t *addr, unsigned alen);

struct nj_geoip_stats {
	uint64_t lookups; /* addresses asked about (HOME_NET ones excluded) */
	uint64_t hits, misses;
	uint64_t home;	 /* HOME_NET addresses skipped */
	uint64_t errors; /* database errors (answer treated as "no data") */
};

/* One core's cache: created and used by that core only. */
struct nj_geoip_cache;

struct nj_geoip_cache *nj_geoip_cache_new(const struct nj_geoip *g);
void nj_geoip_cache_free(struct nj_geoip_cache *c);
/* Entries after rounding (0: lookups go to the databases every time). */
uint32_t nj_geoip_cache_size(const struct nj_geoip_cache *c);
/* Heap bytes held by the cache (its entries). */
size_t nj_geoip_cache_bytes(const struct nj_geoip_cache *c);
const struct nj_geoip_stats *nj_geoip_cache_stats(const struct nj_geoip_cache *c);
/*
 * What is known about an external address; NULL for HOME_NET or when the
 * databases know nothing. The pointer is valid until the next lookup on c.
 */
const struct nj_geoip_info *nj_geoip_lookup(struct nj_geoip_cache *c, const uint8_t *addr,
					    unsigned alen);
/* Writes "geoip": {"src":..,"dest":..} when either side has data; nothing otherwise. */
void nj_geoip_json(struct nj_geoip_cache *c, struct nj_json *j, const uint8_t *sa,
		   const uint8_t *da, unsigned alen);

#endif
