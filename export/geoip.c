/* SPDX-License-Identifier: MIT */
/*
 * GeoIP / ASN enrichment (see geoip.h for the shape and the contracts).
 */
#include <errno.h>
#include <libgen.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <maxminddb.h>

#include "common/nj_common.h"
#include "config/config.h"
#include "detect/detect_int.h"
#include "geoip.h"
#include "json.h"

NJ_CONF_KEY(geoipen, "geoip.enabled", NJ_CT_BOOL, "yes when a database is named",
	    "Add the geoip object (country, city, location, AS) to every EVE event with "
	    "addresses, for the addresses outside HOME_NET.")
NJ_CONF_KEY(geoipdb, "geoip.database", NJ_CT_STR, "none",
	    "City or Country MaxMind DB (GeoIP2/GeoLite2 .mmdb). Relative paths: working "
	    "directory, else the configuration file's directory.")
NJ_CONF_KEY(geoipasn, "geoip.asn-database", NJ_CT_STR, "none",
	    "ASN (or ISP) MaxMind DB for as.number and as.organization.name.")
NJ_CONF_KEY(geoipcache, "geoip.cache-size", NJ_CT_INT, "4096",
	    "Lookup cache entries per worker (rounded up to a power of two, 728 bytes each: "
	    "4096 = 2.9 MiB per worker); 0 disables the cache.")
NJ_CONF_KEY(geoipsuri, "geoip-database", NJ_CT_STR, "geoip.database",
	    "Suricata's key: the Country/City database of the geoip rule keyword.")

struct nj_geoip_db {
	MMDB_s mmdb;
	enum nj_geoip_db_kind kind;
	uint32_t serial;
	/* shared opening (nj_geoip_db_get) */
	char *path;
	unsigned refs;
	struct nj_geoip_db *next;
};

/* ------------------------------------------------------------ one database */

static _Atomic uint32_t db_serial;

uint32_t nj_geoip_db_serial(const struct nj_geoip_db *db)
{
	return db->serial;
}

static bool type_fits(const char *type, enum nj_geoip_db_kind kind)
{
	if (!type)
		return false;
	if (kind == NJ_GEOIP_DB_ASN)
		return strstr(type, "ASN") || strstr(type, "ISP");
	return strstr(type, "City") || strstr(type, "Country") || strstr(type, "Enterprise");
}

/*
 * libmaxminddb checks the metadata and the data section's offsets, but a
 * damaged search tree only shows on lookups: walk a few addresses of both
 * families (and their records) so that such a file fails at start-up.
 */
static int probe(MMDB_s *m, char *err, size_t errlen)
{
	static const char *const addrs[] = {"1.1.1.1",	      "8.8.8.8",     "81.2.69.142",
					    "89.160.20.128",  "2001:218::1", "2a02:d300::1",
					    "255.255.255.255"};

	for (unsigned i = 0; i < NJ_ARRAY_SIZE(addrs); i++) {
		MMDB_lookup_result_s r;
		MMDB_entry_data_list_s *list = NULL;
		int gai = 0, me = MMDB_SUCCESS;

		if (strchr(addrs[i], ':') && m->metadata.ip_version != 6)
			continue;
		r = MMDB_lookup_string(m, addrs[i], &gai, &me);
		if (gai) {
			snprintf(err, errlen, "cannot parse probe address %s", addrs[i]);
			return -EINVAL;
		}
		if (me != MMDB_SUCCESS) {
			snprintf(err, errlen, "lookup of %s fails: %s", addrs[i],
				 MMDB_strerror(me));
			return -EIO;
		}
		if (!r.found_entry)
			continue;
		me = MMDB_get_entry_data_list(&r.entry, &list);
		MMDB_free_entry_data_list(list);
		if (me != MMDB_SUCCESS) {
			snprintf(err, errlen, "record of %s is unreadable: %s", addrs[i],
				 MMDB_strerror(me));
			return -EIO;
		}
	}
	return 0;
}

struct nj_geoip_db *nj_geoip_db_open(const char *path, enum nj_geoip_db_kind kind, char *err,
				     size_t errlen)
{
	struct nj_geoip_db *db = calloc(1, sizeof(*db));
	const char *what = kind == NJ_GEOIP_DB_ASN ? "ASN/ISP" : "City/Country";
	int st;

	if (!db) {
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	db->kind = kind;
	db->serial = atomic_fetch_add(&db_serial, 1) + 1;
	if (access(path, R_OK) != 0) {
		snprintf(err, errlen, "%s: cannot read the %s database: %s", path, what,
			 strerror(errno));
		goto out_free;
	}
	st = MMDB_open(path, MMDB_MODE_MMAP, &db->mmdb);
	if (st != MMDB_SUCCESS) {
		snprintf(err, errlen, "%s: not a valid MaxMind DB (%s database): %s", path, what,
			 st == MMDB_IO_ERROR ? strerror(errno) : MMDB_strerror(st));
		goto out_free;
	}
	if (!type_fits(db->mmdb.metadata.database_type, kind)) {
		snprintf(err, errlen,
			 "%s: database type '%s' is not a%s %s database (expected a type naming "
			 "%s)",
			 path,
			 db->mmdb.metadata.database_type ? db->mmdb.metadata.database_type : "",
			 kind == NJ_GEOIP_DB_ASN ? "n" : "", what,
			 kind == NJ_GEOIP_DB_ASN ? "ASN or ISP" : "City, Country or Enterprise");
		goto out_close;
	}
	{
		char why[256];

		if (probe(&db->mmdb, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "%s: corrupt MaxMind DB: %s", path, why);
			goto out_close;
		}
	}
	return db;

out_close:
	MMDB_close(&db->mmdb);
out_free:
	free(db);
	return NULL;
}

void nj_geoip_db_close(struct nj_geoip_db *db)
{
	if (!db)
		return;
	MMDB_close(&db->mmdb);
	free(db->path);
	free(db);
}

static int db_find(const struct nj_geoip_db *db, const uint8_t *addr, unsigned alen,
		   MMDB_entry_s *entry)
{
	union {
		struct sockaddr sa;
		struct sockaddr_in in4;
		struct sockaddr_in6 in6;
	} u;
	MMDB_lookup_result_s r;
	int me = MMDB_SUCCESS;

	memset(&u, 0, sizeof(u));
	if (alen == 4) {
		u.in4.sin_family = AF_INET;
		memcpy(&u.in4.sin_addr, addr, 4);
	} else if (alen == 16) {
		/* an IPv6 address in an IPv4-only database: nothing to find */
		if (db->mmdb.metadata.ip_version != 6)
			return -ENOENT;
		u.in6.sin6_family = AF_INET6;
		memcpy(&u.in6.sin6_addr, addr, 16);
	} else {
		return -EINVAL;
	}
	r = MMDB_lookup_sockaddr((MMDB_s *)&db->mmdb, &u.sa, &me);
	if (me != MMDB_SUCCESS)
		return -EIO;
	if (!r.found_entry)
		return -ENOENT;
	*entry = r.entry;
	return 0;
}

/*
 * Copies a string value into out (NUL-terminated), cut at a UTF-8 character
 * boundary. 1 if copied, 0 if absent or not a string, -EIO on a data error.
 */
static int get_str(MMDB_entry_s *e, char *out, size_t cap, const char *const *path)
{
	MMDB_entry_data_s d;
	size_t n;
	int me = MMDB_aget_value(e, &d, path);

	if (me != MMDB_SUCCESS)
		return me == MMDB_LOOKUP_PATH_DOES_NOT_MATCH_DATA_ERROR ? 0 : -EIO;
	if (!d.has_data || d.type != MMDB_DATA_TYPE_UTF8_STRING || !d.data_size)
		return 0;
	n = d.data_size < cap - 1 ? d.data_size : cap - 1;
	if (n < d.data_size)
		while (n && ((uint8_t)d.utf8_string[n] & 0xc0) == 0x80)
			n--;
	memcpy(out, d.utf8_string, n);
	out[n] = '\0';
	return n ? 1 : 0;
}

static int get_dbl(MMDB_entry_s *e, double *out, const char *const *path)
{
	MMDB_entry_data_s d;
	int me = MMDB_aget_value(e, &d, path);

	if (me != MMDB_SUCCESS)
		return me == MMDB_LOOKUP_PATH_DOES_NOT_MATCH_DATA_ERROR ? 0 : -EIO;
	if (!d.has_data)
		return 0;
	if (d.type == MMDB_DATA_TYPE_DOUBLE)
		*out = d.double_value;
	else if (d.type == MMDB_DATA_TYPE_FLOAT)
		*out = d.float_value;
	else
		return 0;
	return 1;
}

static int get_u32(MMDB_entry_s *e, uint32_t *out, const char *const *path)
{
	MMDB_entry_data_s d;
	int me = MMDB_aget_value(e, &d, path);

	if (me != MMDB_SUCCESS)
		return me == MMDB_LOOKUP_PATH_DOES_NOT_MATCH_DATA_ERROR ? 0 : -EIO;
	if (!d.has_data)
		return 0;
	switch (d.type) {
	case MMDB_DATA_TYPE_UINT16: *out = d.uint16; break;
	case MMDB_DATA_TYPE_UINT32: *out = d.uint32; break;
	case MMDB_DATA_TYPE_INT32:
		if (d.int32 < 0)
			return 0;
		*out = (uint32_t)d.int32;
		break;
	case MMDB_DATA_TYPE_UINT64:
		if (d.uint64 > UINT32_MAX)
			return 0;
		*out = (uint32_t)d.uint64;
		break;
	default: return 0;
	}
	return 1;
}

static const char *const p_cc[] = {"country", "iso_code", NULL};
static const char *const p_iso[] = {"iso_code", NULL};
static const char *const p_en[] = {"names", "en", NULL};
static const char *const p_code[] = {"code", NULL};
static const char *const p_lat[] = {"latitude", NULL};
static const char *const p_lon[] = {"longitude", NULL};
static const char *const p_asn[] = {"autonomous_system_number", NULL};
static const char *const p_asorg[] = {"autonomous_system_organization", NULL};

/*
 * The map under a top-level key as an entry of its own. Every path lookup
 * walks (and skips over) the maps before its key, so looking up each
 * top-level map once and the leaves inside it halves the work of a miss.
 * 1 found, 0 absent, -EIO on a data error.
 */
static int get_map(MMDB_entry_s *e, const char *key, MMDB_entry_s *out)
{
	const char *const path[] = {key, NULL};
	MMDB_entry_data_s d;
	int me = MMDB_aget_value(e, &d, path);

	if (me != MMDB_SUCCESS)
		return me == MMDB_LOOKUP_PATH_DOES_NOT_MATCH_DATA_ERROR ? 0 : -EIO;
	if (!d.has_data || d.type != MMDB_DATA_TYPE_MAP)
		return 0;
	out->mmdb = e->mmdb;
	out->offset = d.offset;
	return 1;
}

/* r of a get_*: sets flag on success, remembers an error. */
static inline void took(int r, struct nj_geoip_info *out, uint32_t flag, bool *err)
{
	if (r > 0)
		out->fields |= flag;
	else if (r < 0)
		*err = true;
}

int nj_geoip_db_lookup(const struct nj_geoip_db *db, const uint8_t *addr, unsigned alen,
		       struct nj_geoip_info *out)
{
	MMDB_entry_s e, m;
	bool err = false;
	int ret = db_find(db, addr, alen, &e), r;

	if (ret < 0)
		return ret;
	if (db->kind == NJ_GEOIP_DB_ASN) {
		took(get_u32(&e, &out->asn, p_asn), out, NJ_GEOIP_ASN, &err);
		took(get_str(&e, out->as_org, sizeof(out->as_org), p_asorg), out, NJ_GEOIP_AS_ORG,
		     &err);
		return err ? -EIO : 0;
	}
	if ((r = get_map(&e, "country", &m)) > 0) {
		took(get_str(&m, out->country, sizeof(out->country), p_iso), out, NJ_GEOIP_COUNTRY,
		     &err);
		took(get_str(&m, out->country_name, sizeof(out->country_name), p_en), out,
		     NJ_GEOIP_COUNTRY_NAME, &err);
	}
	err |= r < 0;
	if ((r = get_map(&e, "continent", &m)) > 0)
		took(get_str(&m, out->continent, sizeof(out->continent), p_code), out,
		     NJ_GEOIP_CONTINENT, &err);
	err |= r < 0;
	if ((r = get_map(&e, "city", &m)) > 0)
		took(get_str(&m, out->city, sizeof(out->city), p_en), out, NJ_GEOIP_CITY, &err);
	err |= r < 0;
	if ((r = get_map(&e, "location", &m)) > 0) {
		int r1 = get_dbl(&m, &out->lat, p_lat), r2 = get_dbl(&m, &out->lon, p_lon);

		if (r1 > 0 && r2 > 0)
			out->fields |= NJ_GEOIP_LOCATION;
		err |= r1 < 0 || r2 < 0;
	}
	err |= r < 0;
	return err ? -EIO : 0;
}

int nj_geoip_db_country(const struct nj_geoip_db *db, const uint8_t *addr, unsigned alen,
			char cc[3])
{
	MMDB_entry_s e;
	int ret = db_find(db, addr, alen, &e);

	if (ret < 0)
		return ret;
	ret = get_str(&e, cc, 3, p_cc);
	return ret > 0 ? 0 : ret < 0 ? -EIO : -ENOENT;
}

/* ------------------------------------------------------------ shared opening */

static pthread_mutex_t shared_lock = PTHREAD_MUTEX_INITIALIZER;
static struct nj_geoip_db *shared;

struct nj_geoip_db *nj_geoip_db_get(const char *path, enum nj_geoip_db_kind kind, char *err,
				    size_t errlen)
{
	struct nj_geoip_db *db;

	pthread_mutex_lock(&shared_lock);
	for (db = shared; db; db = db->next)
		if (db->kind == kind && strcmp(db->path, path) == 0) {
			db->refs++;
			goto out;
		}
	db = nj_geoip_db_open(path, kind, err, errlen);
	if (!db)
		goto out;
	db->path = strdup(path);
	if (!db->path) {
		snprintf(err, errlen, "%s: out of memory", path);
		nj_geoip_db_close(db);
		db = NULL;
		goto out;
	}
	db->refs = 1;
	db->next = shared;
	shared = db;
out:
	pthread_mutex_unlock(&shared_lock);
	return db;
}

void nj_geoip_db_put(struct nj_geoip_db *db)
{
	struct nj_geoip_db **pp;

	if (!db)
		return;
	pthread_mutex_lock(&shared_lock);
	if (--db->refs == 0) {
		for (pp = &shared; *pp; pp = &(*pp)->next)
			if (*pp == db) {
				*pp = db->next;
				break;
			}
		nj_geoip_db_close(db);
	}
	pthread_mutex_unlock(&shared_lock);
}

/* ------------------------------------------------------------ configuration */

void nj_geoip_config_defaults(struct nj_geoip_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->cache_size = NJ_GEOIP_CACHE_DEFAULT;
}

int nj_geoip_conf_path(const struct nj_conf *c, const char *key, char *out, size_t outlen)
{
	const struct nj_conf_node *n;
	const char *v = NULL;
	int ret = nj_conf_str(c, NULL, key, &v);
	int len;

	if (ret != 0)
		return ret < 0 ? -EINVAL : 1;
	if (!v || !*v)
		return 1;
	n = nj_conf_get(c, key);
	len = snprintf(out, outlen, "%s", v);
	/*
	 * Suricata resolves relative names from its working directory; a test
	 * or package often keeps the database beside its configuration file, so
	 * that directory is the fall-back when the name is not found here.
	 */
	if (v[0] != '/' && access(v, F_OK) != 0 && n && n->file && strcmp(n->file, "--set") != 0) {
		char tmp[4096];

		snprintf(tmp, sizeof(tmp), "%s", n->file);
		len = snprintf(out, outlen, "%s/%s", dirname(tmp), v);
		if (access(out, F_OK) != 0)
			len = snprintf(out, outlen, "%s", v);
	}
	if (len < 0 || (size_t)len >= outlen) {
		NJ_ERR("%s:%d: %s: path too long", n ? n->file : "?", n ? n->line : 0, key);
		return -EINVAL;
	}
	return 0;
}

int nj_geoip_config_load(struct nj_geoip_config *cfg, const struct nj_conf *c)
{
	bool named = false, en;
	int64_t v = cfg->cache_size;
	int ret;

	ret = nj_geoip_conf_path(c, "geoip.database", cfg->database, sizeof(cfg->database));
	if (ret < 0)
		return -EINVAL;
	named |= ret == 0;
	ret = nj_geoip_conf_path(c, "geoip.asn-database", cfg->asn_database,
				 sizeof(cfg->asn_database));
	if (ret < 0)
		return -EINVAL;
	named |= ret == 0;
	en = named;
	if (nj_conf_bool(c, NULL, "geoip.enabled", &en) < 0)
		return -EINVAL;
	if (en && !named) {
		const struct nj_conf_node *n = nj_conf_get(c, "geoip.enabled");

		NJ_ERR("%s:%d: geoip.enabled: no geoip.database or geoip.asn-database is named",
		       n ? n->file : "?", n ? n->line : 0);
		return -EINVAL;
	}
	cfg->enabled = en;
	if (nj_conf_int(c, NULL, "geoip.cache-size", 0, NJ_GEOIP_CACHE_MAX, &v) < 0)
		return -EINVAL;
	cfg->cache_size = (uint32_t)v;
	return 0;
}

/* ------------------------------------------------------------ enrichment */

struct nj_geoip {
	struct nj_geoip_db *geo, *asn;
	struct nj_detect_rules *vars; /* owns home */
	const struct nj_detect_addrs *home;
	uint32_t cache_size;
};

struct nj_geoip *nj_geoip_open(const struct nj_geoip_config *cfg, const struct nj_conf *conf,
			       char *err, size_t errlen)
{
	struct nj_geoip *g = calloc(1, sizeof(*g));
	char why[256];

	if (!g) {
		snprintf(err, errlen, "geoip: out of memory");
		return NULL;
	}
	if (cfg->database[0]) {
		g->geo = nj_geoip_db_open(cfg->database, NJ_GEOIP_DB_GEO, err, errlen);
		if (!g->geo)
			goto out_free;
	}
	if (cfg->asn_database[0]) {
		g->asn = nj_geoip_db_open(cfg->asn_database, NJ_GEOIP_DB_ASN, err, errlen);
		if (!g->asn)
			goto out_free;
	}
	/* the rule engine's variables and address parser: one meaning of HOME_NET */
	g->vars = nj_detect_rules_new(conf);
	if (!g->vars) {
		snprintf(err, errlen, "geoip: cannot read vars.address-groups");
		goto out_free;
	}
	g->home = nj_detect_addrs_get(g->vars, "$HOME_NET", why, sizeof(why));
	if (!g->home) {
		snprintf(err, errlen, "geoip: HOME_NET: %s", why);
		goto out_free;
	}
	g->cache_size = 0;
	if (cfg->cache_size) {
		g->cache_size = 1;
		while (g->cache_size < cfg->cache_size)
			g->cache_size <<= 1;
	}
	return g;

out_free:
	nj_geoip_close(g);
	return NULL;
}

void nj_geoip_close(struct nj_geoip *g)
{
	if (!g)
		return;
	nj_geoip_db_close(g->geo);
	nj_geoip_db_close(g->asn);
	nj_detect_rules_free(g->vars);
	free(g);
}

int nj_geoip_start(const struct nj_conf *conf, struct nj_geoip **out)
{
	struct nj_geoip_config cfg;
	char err[512];

	*out = NULL;
	nj_geoip_config_defaults(&cfg);
	if (nj_geoip_config_load(&cfg, conf) < 0)
		return -EINVAL;
	if (!cfg.enabled)
		return 0;
	*out = nj_geoip_open(&cfg, conf, err, sizeof(err));
	if (!*out) {
		NJ_ERR("geoip: %s", err);
		return -EINVAL;
	}
	return 0;
}

bool nj_geoip_is_home(const struct nj_geoip *g, const uint8_t *addr, unsigned alen)
{
	return g->home && nj_detect_addr_match(g->home, addr, alen);
}

/*
 * Two-way set-associative: a direct-mapped cache loses about a fifth of its
 * hits to pairs of busy addresses sharing a slot, and a miss costs a tree
 * walk plus several map walks (microseconds), so the second way pays for
 * itself. The older way of a set is replaced.
 */
#define NJ_GEOIP_JSON_MAX 448

static void json_side(struct nj_json *j, const char *key, const struct nj_geoip_info *in);

struct cache_ent {
	uint8_t addr[16];
	uint8_t alen; /* 0: empty */
	bool found;
	uint64_t used; /* the cache's clock at the last use */
	uint16_t jlen; /* bytes of json, 0: render from info */
	struct nj_geoip_info info;
	/*
	 * The side's object ({"geo":..,"as":..}) rendered once at fill time: a
	 * hit then costs a copy instead of nested objects and two doubles
	 * printed and read back.
	 */
	char json[NJ_GEOIP_JSON_MAX];
};

struct nj_geoip_cache {
	const struct nj_geoip *g;
	uint32_t mask; /* sets - 1 */
	uint32_t n;    /* entries */
	uint8_t ways;  /* 2, or 1 for a one-entry cache */
	uint64_t clock;
	struct nj_geoip_stats st;
	struct cache_ent scratch; /* the answer when there is no cache */
	struct cache_ent *ent;
};

struct nj_geoip_cache *nj_geoip_cache_new(const struct nj_geoip *g)
{
	struct nj_geoip_cache *c;

	if (posix_memalign((void **)&c, NJ_CACHE_LINE, sizeof(*c)))
		return NULL;
	memset(c, 0, sizeof(*c));
	c->g = g;
	c->n = g->cache_size;
	if (c->n) {
		c->ent = calloc(c->n, sizeof(*c->ent));
		if (!c->ent) {
			free(c);
			return NULL;
		}
		c->ways = c->n >= 2 ? 2 : 1;
		c->mask = c->n / c->ways - 1;
	}
	return c;
}

void nj_geoip_cache_free(struct nj_geoip_cache *c)
{
	if (!c)
		return;
	free(c->ent);
	free(c);
}

uint32_t nj_geoip_cache_size(const struct nj_geoip_cache *c)
{
	return c->n;
}

size_t nj_geoip_cache_bytes(const struct nj_geoip_cache *c)
{
	return (size_t)c->n * sizeof(struct cache_ent);
}

const struct nj_geoip_stats *nj_geoip_cache_stats(const struct nj_geoip_cache *c)
{
	return &c->st;
}

static inline uint32_t addr_hash(const uint8_t *a, unsigned alen)
{
	uint64_t h;

	if (alen == 4) {
		uint32_t v;

		memcpy(&v, a, 4);
		h = v;
	} else {
		uint64_t x, y;

		memcpy(&x, a, 8);
		memcpy(&y, a + 8, 8);
		h = x ^ (y * 0x9e3779b97f4a7c15ull);
	}
	/* murmur3's finaliser: every input bit reaches the low bits used as index */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return (uint32_t)h;
}

static void fill(struct nj_geoip_cache *c, struct cache_ent *e, const uint8_t *addr, unsigned alen)
{
	const struct nj_geoip *g = c->g;
	bool err = false;

	memset(&e->info, 0, sizeof(e->info));
	if (g->geo)
		err |= nj_geoip_db_lookup(g->geo, addr, alen, &e->info) == -EIO;
	if (g->asn)
		err |= nj_geoip_db_lookup(g->asn, addr, alen, &e->info) == -EIO;
	c->st.errors += err;
	memcpy(e->addr, addr, alen);
	e->alen = (uint8_t)alen;
	e->found = e->info.fields != 0;
	e->jlen = 0;
	if (e->found) {
		struct nj_json j;

		nj_json_init(&j, e->json, sizeof(e->json));
		json_side(&j, NULL, &e->info);
		if (nj_json_ok(&j))
			e->jlen = (uint16_t)j.len;
	}
}

static struct cache_ent *lookup_ent(struct nj_geoip_cache *c, const uint8_t *addr, unsigned alen)
{
	struct cache_ent *e;

	if (unlikely(alen != 4 && alen != 16))
		return NULL;
	if (nj_geoip_is_home(c->g, addr, alen)) {
		c->st.home++;
		return NULL;
	}
	c->st.lookups++;
	if (!c->n) {
		e = &c->scratch;
		c->st.misses++;
		fill(c, e, addr, alen);
	} else {
		struct cache_ent *set = &c->ent[(addr_hash(addr, alen) & c->mask) * c->ways];

		e = NULL;
		for (unsigned w = 0; w < c->ways; w++)
			if (set[w].alen == alen && memcmp(set[w].addr, addr, alen) == 0) {
				e = &set[w];
				break;
			}
		if (e) {
			c->st.hits++;
		} else {
			c->st.misses++;
			e = set;
			if (c->ways == 2 && set[1].used < set[0].used)
				e = &set[1];
			fill(c, e, addr, alen);
		}
		e->used = ++c->clock;
	}
	return e->found ? e : NULL;
}

const struct nj_geoip_info *nj_geoip_lookup(struct nj_geoip_cache *c, const uint8_t *addr,
					    unsigned alen)
{
	struct cache_ent *e = lookup_ent(c, addr, alen);

	return e ? &e->info : NULL;
}

static void put_side(struct nj_json *j, const char *key, const struct cache_ent *e)
{
	if (e->jlen)
		nj_json_raw(j, key, e->json, e->jlen);
	else
		json_side(j, key, &e->info);
}

static void json_side(struct nj_json *j, const char *key, const struct nj_geoip_info *in)
{
	const uint32_t geo = NJ_GEOIP_COUNTRY | NJ_GEOIP_COUNTRY_NAME | NJ_GEOIP_CONTINENT |
			     NJ_GEOIP_CITY | NJ_GEOIP_LOCATION;

	nj_json_open_obj(j, key);
	if (in->fields & geo) {
		nj_json_open_obj(j, "geo");
		if (in->fields & NJ_GEOIP_COUNTRY)
			nj_json_str(j, "country_iso_code", in->country);
		if (in->fields & NJ_GEOIP_COUNTRY_NAME)
			nj_json_str(j, "country_name", in->country_name);
		if (in->fields & NJ_GEOIP_CITY)
			nj_json_str(j, "city_name", in->city);
		if (in->fields & NJ_GEOIP_CONTINENT)
			nj_json_str(j, "continent_code", in->continent);
		if (in->fields & NJ_GEOIP_LOCATION) {
			nj_json_open_obj(j, "location");
			nj_json_dbl(j, "lat", in->lat);
			nj_json_dbl(j, "lon", in->lon);
			nj_json_close_obj(j);
		}
		nj_json_close_obj(j);
	}
	if (in->fields & (NJ_GEOIP_ASN | NJ_GEOIP_AS_ORG)) {
		nj_json_open_obj(j, "as");
		if (in->fields & NJ_GEOIP_ASN)
			nj_json_u64(j, "number", in->asn);
		if (in->fields & NJ_GEOIP_AS_ORG) {
			nj_json_open_obj(j, "organization");
			nj_json_str(j, "name", in->as_org);
			nj_json_close_obj(j);
		}
		nj_json_close_obj(j);
	}
	nj_json_close_obj(j);
}

void nj_geoip_json(struct nj_geoip_cache *c, struct nj_json *j, const uint8_t *sa,
		   const uint8_t *da, unsigned alen)
{
	const struct cache_ent *e;
	bool open = false;

	/* src is written before dest is looked up: both may share a cache slot */
	e = lookup_ent(c, sa, alen);
	if (e) {
		nj_json_open_obj(j, "geoip");
		open = true;
		put_side(j, "src", e);
	}
	e = lookup_ent(c, da, alen);
	if (e) {
		if (!open) {
			nj_json_open_obj(j, "geoip");
			open = true;
		}
		put_side(j, "dest", e);
	}
	if (open)
		nj_json_close_obj(j);
}
