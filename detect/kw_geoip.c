/* SPDX-License-Identifier: MIT */
/*
 * geoip: [src|dst|both|any,][!]CC[,CC...] with Suricata's semantics: the
 * country (ISO code of the database's "country", never registered_country)
 * of the packet's source and/or destination address is in the list (or, with
 * '!' anywhere in the list, not in it). An address the database does not
 * know never matches, negated or not. "any" (the default) matches on either
 * side, "both" needs both. Suricata looks up IPv4 only; Nightjar also looks
 * up IPv6 when the database has IPv6 data.
 *
 * The database is Suricata's geoip-database key, else geoip.database; it is
 * opened once per path for every rule that uses it. Lookups go through a
 * small per-thread direct-mapped cache of country codes: no allocation, lock
 * or syscall per packet.
 */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "dataplane/pkt.h"
#include "export/geoip.h"
#include "rules_priv.h"

#define GEO_MAX_CC 64

enum { GEO_SRC = 1, GEO_DST = 2, GEO_ANY = 3, GEO_BOTH = 4 };

struct kw_geoip {
	struct nj_geoip_db *db;
	uint32_t serial;
	uint8_t side; /* GEO_* */
	bool negated;
	uint8_t ncc;
	char cc[GEO_MAX_CC][3];
};

/* Per-thread answers: country code, "" when the database has none. */
#define GEO_TLS_CACHE 256u
struct tls_ent {
	uint32_t serial; /* 0: empty */
	uint8_t alen;
	uint8_t addr[16];
	char cc[3];
};
static __thread struct tls_ent tls_cache[GEO_TLS_CACHE];

static const char *country_of(const struct kw_geoip *g, const uint8_t *a, unsigned alen)
{
	uint32_t h = 2166136261u;
	struct tls_ent *e;

	for (unsigned i = 0; i < alen; i++)
		h = (h ^ a[i]) * 16777619u;
	e = &tls_cache[(h ^ (h >> 16)) & (GEO_TLS_CACHE - 1)];
	if (e->serial != g->serial || e->alen != alen || memcmp(e->addr, a, alen) != 0) {
		if (nj_geoip_db_country(g->db, a, alen, e->cc) < 0)
			e->cc[0] = '\0';
		e->serial = g->serial;
		e->alen = (uint8_t)alen;
		memcpy(e->addr, a, alen);
	}
	return e->cc;
}

static bool side_matches(const struct kw_geoip *g, const uint8_t *a, unsigned alen)
{
	const char *cc = country_of(g, a, alen);
	bool in = false;

	if (!cc[0])
		return false;
	for (unsigned i = 0; i < g->ncc && !in; i++)
		in = cc[0] == g->cc[i][0] && cc[1] == g->cc[i][1];
	return in != g->negated;
}

static bool m_geoip(const struct nj_pkt *p, const void *ctx)
{
	const struct kw_geoip *g = ctx;
	unsigned alen;
	bool s, d;

	if (!(p->flags & (NJ_PKT_IPV4 | NJ_PKT_IPV6)))
		return false;
	alen = nj_pkt_addr_len(p);
	if (g->side == GEO_BOTH)
		return side_matches(g, nj_pkt_src(p), alen) && side_matches(g, nj_pkt_dst(p), alen);
	s = (g->side & GEO_SRC) && side_matches(g, nj_pkt_src(p), alen);
	d = !s && (g->side & GEO_DST) && side_matches(g, nj_pkt_dst(p), alen);
	return s || d;
}

static void db_put(void *p)
{
	nj_geoip_db_put(p);
}

/* The rule keyword's database: geoip-database, else geoip.database. */
static int open_db(struct nj_detect_parse *ps, struct kw_geoip *g)
{
	const struct nj_conf *conf = nj_detect_priv(ps->r)->conf;
	char path[4096], err[512];
	int ret = 1;

	if (conf) {
		ret = nj_geoip_conf_path(conf, "geoip-database", path, sizeof(path));
		if (ret == 1)
			ret = nj_geoip_conf_path(conf, "geoip.database", path, sizeof(path));
	}
	if (ret < 0)
		return nj_detect_fail(ps, "geoip: bad geoip-database setting");
	if (ret == 1)
		return nj_detect_fail(ps, "geoip: no database configured (set geoip-database or "
					  "geoip.database to a Country or City .mmdb)");
	g->db = nj_geoip_db_get(path, NJ_GEOIP_DB_GEO, err, sizeof(err));
	if (!g->db)
		return nj_detect_fail(ps, "geoip: %s", err);
	if (nj_detect_track(ps->r, g->db, db_put) < 0)
		return nj_detect_fail(ps, "out of memory");
	g->serial = nj_geoip_db_serial(g->db);
	return 0;
}

static int kw_geoip(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *v)
{
	struct kw_geoip *g = nj_detect_alloc(ps->r, sizeof(*g));
	char *parts[GEO_MAX_CC + 1];
	unsigned n, first = 0;

	(void)kw;
	if (!g)
		return nj_detect_fail(ps, "out of memory");
	n = nj_detect_split(v, ',', parts, NJ_ARRAY_SIZE(parts));
	if (n == 0 || !parts[0][0])
		return nj_detect_fail(ps, "geoip: expected [src|dst|both|any,]CC[,CC...]");
	g->side = GEO_ANY;
	if (strcmp(parts[0], "src") == 0)
		g->side = GEO_SRC;
	else if (strcmp(parts[0], "dst") == 0)
		g->side = GEO_DST;
	else if (strcmp(parts[0], "both") == 0)
		g->side = GEO_BOTH;
	if (strcmp(parts[0], "src") == 0 || strcmp(parts[0], "dst") == 0 ||
	    strcmp(parts[0], "both") == 0 || strcmp(parts[0], "any") == 0)
		first = 1;
	for (unsigned i = first; i < n; i++) {
		char *cc = parts[i];

		if (cc[0] == '!') {
			/* as Suricata: a '!' on any code negates the whole list */
			g->negated = true;
			cc = nj_detect_trim(cc + 1);
		}
		if (strlen(cc) != 2 || !isalnum((unsigned char)cc[0]) ||
		    !isalnum((unsigned char)cc[1]))
			return nj_detect_fail(ps, "geoip: '%s' is not a two-letter country code",
					      cc);
		if (g->ncc >= GEO_MAX_CC)
			return nj_detect_fail(ps, "geoip: more than %d country codes", GEO_MAX_CC);
		g->cc[g->ncc][0] = (char)toupper((unsigned char)cc[0]);
		g->cc[g->ncc][1] = (char)toupper((unsigned char)cc[1]);
		g->ncc++;
	}
	if (!g->ncc)
		return nj_detect_fail(ps, "geoip: no country code");
	if (open_db(ps, g) < 0)
		return -1;
	return nj_detect_add_pm(ps, m_geoip, g);
}
NJ_DETECT_KEYWORD(
	geoip, .name = "geoip", .flags = NJ_KWF_VALUE, .parse = kw_geoip,
	.doc = "country of src/dst/both/any address: [side,][!]CC[,CC...] (geoip-database)")
