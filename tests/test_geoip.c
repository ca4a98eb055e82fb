/* SPDX-License-Identifier: MIT */
/*
 * GeoIP: configuration, checked opening (every bad-data database fails with
 * its name in the reason), answers of the corpus test databases, HOME_NET,
 * the per-core cache (hits, misses, eviction, negative answers, answers equal
 * to uncached lookups over many addresses, a shared slot in one event), the
 * JSON object and the geoip rule keyword's parsing. Skips without the corpus.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "common/nj_common.h"
#include "config/config.h"
#include "detect/detect.h"
#include "export/geoip.h"
#include "export/json.h"
#include "nj_test.h"

#define GEO   NJ_SRC_DIR "/../shared/corpus/geoip"
#define CITY  GEO "/test-data/GeoIP2-City-Test.mmdb"
#define CTRY  GEO "/test-data/GeoIP2-Country-Test.mmdb"
#define ASNDB GEO "/test-data/GeoLite2-ASN-Test.mmdb"

static unsigned addr(const char *s, uint8_t out[16])
{
	if (inet_pton(AF_INET, s, out) == 1)
		return 4;
	if (inet_pton(AF_INET6, s, out) == 1)
		return 16;
	fprintf(stderr, "bad address %s\n", s);
	exit(2);
}

static struct nj_conf *conf_of(const char *const *sets, unsigned n)
{
	char err[256];
	struct nj_conf *c = nj_conf_load(NULL, sets, n, err, sizeof(err));

	if (!c) {
		fprintf(stderr, "conf: %s\n", err);
		exit(2);
	}
	return c;
}

static struct nj_geoip *open_with(const char *const *sets, unsigned n, struct nj_conf **cp)
{
	struct nj_geoip_config cfg;
	struct nj_geoip *g;
	char err[512];

	*cp = conf_of(sets, n);
	nj_geoip_config_defaults(&cfg);
	CHECK(nj_geoip_config_load(&cfg, *cp) == 0);
	g = nj_geoip_open(&cfg, *cp, err, sizeof(err));
	if (!g)
		fprintf(stderr, "open: %s\n", err);
	CHECK(g != NULL);
	return g;
}

static void test_config(void)
{
	static const char *const bad_size[] = {"geoip.database=" CITY, "geoip.cache-size=-1"};
	static const char *const no_db[] = {"geoip.enabled=yes"};
	static const char *const off[] = {"geoip.database=" CITY, "geoip.enabled=no"};
	static const char *const sized[] = {"geoip.database=" CITY, "geoip.cache-size=5"};
	struct nj_geoip_config cfg;
	struct nj_conf *c;
	struct nj_geoip *g;
	struct nj_geoip_cache *cache;

	nj_geoip_config_defaults(&cfg);
	c = conf_of(NULL, 0);
	CHECK(nj_geoip_config_load(&cfg, c) == 0 && !cfg.enabled);
	nj_conf_free(c);
	c = conf_of(bad_size, 2);
	CHECK(nj_geoip_config_load(&cfg, c) == -EINVAL);
	nj_conf_free(c);
	nj_geoip_config_defaults(&cfg);
	c = conf_of(no_db, 1);
	CHECK(nj_geoip_config_load(&cfg, c) == -EINVAL);
	nj_conf_free(c);
	nj_geoip_config_defaults(&cfg);
	c = conf_of(off, 2);
	CHECK(nj_geoip_config_load(&cfg, c) == 0 && !cfg.enabled &&
	      strcmp(cfg.database, CITY) == 0);
	nj_conf_free(c);

	g = open_with(sized, 2, &c);
	cache = g ? nj_geoip_cache_new(g) : NULL;
	CHECK(cache && nj_geoip_cache_size(cache) == 8);
	nj_geoip_cache_free(cache);
	nj_geoip_close(g);
	nj_conf_free(c);
}

/* Every corrupt database, and files of the wrong kind, fail with their name. */
static void test_bad_data(void)
{
	DIR *d = opendir(GEO "/bad-data");
	struct dirent *de;
	unsigned n = 0;
	char err[512], path[4096];

	CHECK(d != NULL);
	while (d && (de = readdir(d))) {
		size_t len = strlen(de->d_name);

		if (len < 5 || strcmp(de->d_name + len - 5, ".mmdb") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/bad-data/%s", GEO, de->d_name);
		for (int kind = NJ_GEOIP_DB_GEO; kind <= NJ_GEOIP_DB_ASN; kind++) {
			err[0] = '\0';
			CHECK(nj_geoip_db_open(path, kind, err, sizeof(err)) == NULL);
			CHECK(strstr(err, de->d_name) != NULL);
			CHECK(nj_geoip_db_get(path, kind, err, sizeof(err)) == NULL);
		}
		n++;
	}
	if (d)
		closedir(d);
	CHECK(n >= 3);
	CHECK(nj_geoip_db_open(GEO "/no-such.mmdb", NJ_GEOIP_DB_GEO, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "no-such.mmdb") && strstr(err, "cannot read"));
	CHECK(nj_geoip_db_open(ASNDB, NJ_GEOIP_DB_GEO, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "GeoLite2-ASN") != NULL);
	CHECK(nj_geoip_db_open(CITY, NJ_GEOIP_DB_ASN, err, sizeof(err)) == NULL);
}

static void test_db(void)
{
	struct nj_geoip_db *city, *asn, *c2;
	struct nj_geoip_info in;
	uint8_t a[16];
	char err[512], cc[3];
	unsigned alen;

	city = nj_geoip_db_get(CITY, NJ_GEOIP_DB_GEO, err, sizeof(err));
	c2 = nj_geoip_db_get(CITY, NJ_GEOIP_DB_GEO, err, sizeof(err));
	CHECK(city && city == c2);
	CHECK(nj_geoip_db_serial(city) != 0);
	nj_geoip_db_put(c2);
	asn = nj_geoip_db_open(ASNDB, NJ_GEOIP_DB_ASN, err, sizeof(err));
	CHECK(asn != NULL);
	if (!city || !asn)
		return;

	memset(&in, 0, sizeof(in));
	alen = addr("89.160.20.128", a);
	CHECK(nj_geoip_db_lookup(city, a, alen, &in) == 0);
	CHECK(nj_geoip_db_lookup(asn, a, alen, &in) == 0);
	CHECK(strcmp(in.country, "SE") == 0 && strcmp(in.country_name, "Sweden") == 0);
	CHECK(strcmp(in.city, "Linköping") == 0 && strcmp(in.continent, "EU") == 0);
	CHECK(in.asn == 29518 && strcmp(in.as_org, "Bredband2 AB") == 0);
	CHECK((in.fields & NJ_GEOIP_LOCATION) && in.lat > 58 && in.lat < 59);

	/* registered_country (US) must not leak into country (GB) */
	CHECK(nj_geoip_db_country(city, a, addr("81.2.69.142", a), cc) == 0 &&
	      strcmp(cc, "GB") == 0);
	CHECK(nj_geoip_db_country(city, a, addr("2001:218::1", a), cc) == 0 &&
	      strcmp(cc, "JP") == 0);
	CHECK(nj_geoip_db_country(city, a, addr("8.8.8.8", a), cc) == -ENOENT);

	/* 216.160.83.57: ASN without an organisation */
	memset(&in, 0, sizeof(in));
	CHECK(nj_geoip_db_lookup(asn, a, addr("216.160.83.57", a), &in) == 0);
	CHECK(in.asn == 209 && (in.fields & NJ_GEOIP_ASN) && !(in.fields & NJ_GEOIP_AS_ORG));
	memset(&in, 0, sizeof(in));
	CHECK(nj_geoip_db_lookup(asn, a, addr("10.0.0.1", a), &in) == -ENOENT && in.fields == 0);

	nj_geoip_db_put(city);
	nj_geoip_db_close(asn);
}

static void test_cache(void)
{
	static const char *const sets[] = {
		"geoip.database=" CITY, "geoip.asn-database=" ASNDB, "geoip.cache-size=1",
		"vars.address-groups.HOME_NET=[192.168.0.0/16,81.2.69.0/24]"};
	const struct nj_geoip_stats *st;
	const struct nj_geoip_info *in;
	struct nj_geoip_cache *c;
	struct nj_conf *conf;
	struct nj_geoip *g = open_with(sets, NJ_ARRAY_SIZE(sets), &conf);
	uint8_t a[16], b[16];
	unsigned alen;

	if (!g)
		return;
	c = nj_geoip_cache_new(g);
	CHECK(c && nj_geoip_cache_size(c) == 1);
	st = nj_geoip_cache_stats(c);
	alen = addr("89.160.20.128", a);
	in = nj_geoip_lookup(c, a, alen);
	CHECK(in && strcmp(in->country, "SE") == 0 && in->asn == 29518);
	CHECK(st->misses == 1 && st->hits == 0);
	in = nj_geoip_lookup(c, a, alen);
	CHECK(in && strcmp(in->country, "SE") == 0);
	CHECK(st->misses == 1 && st->hits == 1);
	/* one slot: another address evicts the first */
	in = nj_geoip_lookup(c, b, addr("216.160.83.57", b));
	CHECK(in && strcmp(in->city, "Milton") == 0 && in->asn == 209);
	in = nj_geoip_lookup(c, a, alen);
	CHECK(in && strcmp(in->city, "Linköping") == 0);
	CHECK(st->misses == 3 && st->hits == 1 && st->lookups == 4);
	/* negative answers are cached too */
	CHECK(nj_geoip_lookup(c, a, addr("8.8.8.8", a)) == NULL);
	CHECK(nj_geoip_lookup(c, a, addr("8.8.8.8", a)) == NULL);
	CHECK(st->hits == 2 && st->lookups == 6);
	/* HOME_NET is not looked up (81.2.69.142 is GB in the database) */
	CHECK(nj_geoip_lookup(c, a, addr("81.2.69.142", a)) == NULL);
	CHECK(nj_geoip_lookup(c, a, addr("192.168.1.1", a)) == NULL);
	CHECK(nj_geoip_is_home(g, a, 4) && st->home == 2 && st->lookups == 6);
	CHECK(st->errors == 0);
	/* IPv6 */
	in = nj_geoip_lookup(c, a, addr("2a02:d300::1", a));
	CHECK(in && strcmp(in->country, "UA") == 0);
	in = nj_geoip_lookup(c, a, addr("2600:7000::1", a));
	CHECK(in && !(in->fields & NJ_GEOIP_COUNTRY) && in->asn == 6939);

	/* one slot for both sides of an event: each side keeps its own answer */
	{
		char buf[4096];
		struct nj_json j;
		json_t *root, *geo;
		json_error_t jerr;

		nj_json_init(&j, buf, sizeof(buf));
		nj_json_open_obj(&j, NULL);
		addr("89.160.20.128", a);
		addr("216.160.83.57", b);
		nj_geoip_json(c, &j, a, b, 4);
		nj_json_close_obj(&j);
		CHECK(nj_json_ok(&j));
		root = json_loadb(buf, j.len, 0, &jerr);
		CHECK(root != NULL);
		geo = json_object_get(root, "geoip");
		CHECK(json_is_string(json_object_get(
			json_object_get(json_object_get(geo, "src"), "geo"), "country_iso_code")));
		CHECK(strcmp(json_string_value(json_object_get(
				     json_object_get(json_object_get(geo, "src"), "geo"),
				     "country_iso_code")),
			     "SE") == 0);
		CHECK(strcmp(json_string_value(json_object_get(
				     json_object_get(json_object_get(geo, "dest"), "geo"),
				     "city_name")),
			     "Milton") == 0);
		CHECK(json_integer_value(json_object_get(
			      json_object_get(json_object_get(geo, "dest"), "as"), "number")) ==
		      209);
		CHECK(json_object_get(json_object_get(json_object_get(geo, "dest"), "as"),
				      "organization") == NULL);
		json_decref(root);

		/* neither side known: no geoip key at all */
		nj_json_init(&j, buf, sizeof(buf));
		nj_json_open_obj(&j, NULL);
		addr("8.8.8.8", a);
		addr("192.168.1.1", b);
		nj_geoip_json(c, &j, a, b, 4);
		nj_json_close_obj(&j);
		CHECK(j.len == 2 && memcmp(buf, "{}", 2) == 0);
	}
	nj_geoip_cache_free(c);
	nj_geoip_close(g);
	nj_conf_free(conf);
}

/* Two entries: one set of two ways, the least recently used way is replaced. */
static void test_cache_ways(void)
{
	static const char *const sets[] = {"geoip.database=" CITY, "geoip.cache-size=2"};
	struct nj_conf *conf;
	struct nj_geoip *g = open_with(sets, NJ_ARRAY_SIZE(sets), &conf);
	struct nj_geoip_cache *c = g ? nj_geoip_cache_new(g) : NULL;
	const struct nj_geoip_stats *st;
	uint8_t a[16], b[16], d[16];
	const struct nj_geoip_info *in;

	CHECK(c != NULL);
	if (!c)
		goto out;
	st = nj_geoip_cache_stats(c);
	addr("89.160.20.128", a);
	addr("216.160.83.57", b);
	addr("175.16.199.5", d);
	nj_geoip_lookup(c, a, 4);
	nj_geoip_lookup(c, b, 4);
	in = nj_geoip_lookup(c, a, 4); /* both fit */
	CHECK(in && strcmp(in->country, "SE") == 0);
	CHECK(st->hits == 1 && st->misses == 2);
	in = nj_geoip_lookup(c, d, 4); /* replaces b, the older */
	CHECK(in && strcmp(in->country, "CN") == 0);
	in = nj_geoip_lookup(c, a, 4);
	CHECK(in && strcmp(in->country, "SE") == 0);
	CHECK(st->hits == 2 && st->misses == 3);
	in = nj_geoip_lookup(c, b, 4);
	CHECK(in && strcmp(in->country, "US") == 0);
	CHECK(st->hits == 2 && st->misses == 4);
out:
	nj_geoip_cache_free(c);
	nj_geoip_close(g);
	nj_conf_free(conf);
}

/* A realistic cache answers exactly as the databases do, over many addresses. */
static void test_cache_consistency(void)
{
	static const char *const sets[] = {"geoip.database=" CITY, "geoip.asn-database=" ASNDB,
					   "geoip.cache-size=64"};
	struct nj_conf *conf;
	struct nj_geoip *g = open_with(sets, NJ_ARRAY_SIZE(sets), &conf);
	struct nj_geoip_db *city, *asn;
	struct nj_geoip_cache *c;
	char err[256];
	unsigned bad = 0, known = 0;
	uint32_t x = 12345;

	if (!g)
		return;
	c = nj_geoip_cache_new(g);
	city = nj_geoip_db_open(CITY, NJ_GEOIP_DB_GEO, err, sizeof(err));
	asn = nj_geoip_db_open(ASNDB, NJ_GEOIP_DB_ASN, err, sizeof(err));
	CHECK(c && city && asn);
	for (unsigned i = 0; c && city && asn && i < 20000; i++) {
		static const char *const bases[] = {"81.2.69.0",     "89.160.20.0", "216.160.83.0",
						    "175.16.199.0",  "1.0.0.0",	    "1.128.0.0",
						    "67.43.156.0",   "2.125.160.0", "214.78.120.0",
						    "202.196.224.0", "12.81.92.0",  "8.8.8.0"};
		struct nj_geoip_info want;
		const struct nj_geoip_info *got;
		uint8_t a[16];

		x = x * 1103515245u + 12345u;
		addr(bases[(x >> 16) % NJ_ARRAY_SIZE(bases)], a);
		a[3] = (uint8_t)(x >> 8);
		memset(&want, 0, sizeof(want));
		nj_geoip_db_lookup(city, a, 4, &want);
		nj_geoip_db_lookup(asn, a, 4, &want);
		got = nj_geoip_lookup(c, a, 4);
		if (nj_geoip_is_home(g, a, 4))
			continue;
		if (!want.fields) {
			bad += got != NULL;
			continue;
		}
		known++;
		bad += !got || got->fields != want.fields || got->asn != want.asn ||
		       strcmp(got->country, want.country) != 0 ||
		       strcmp(got->city, want.city) != 0 || strcmp(got->as_org, want.as_org) != 0;
	}
	CHECK(bad == 0);
	CHECK(known > 1000);
	CHECK(c && nj_geoip_cache_stats(c)->hits > 0 && nj_geoip_cache_stats(c)->misses > 64);
	nj_geoip_db_close(city);
	nj_geoip_db_close(asn);
	nj_geoip_cache_free(c);
	nj_geoip_close(g);
	nj_conf_free(conf);
}

/*
 * Damaged databases (random bytes changed anywhere in a good file) either
 * fail to open with a reason or answer every lookup with 0, -ENOENT or -EIO
 * and well-formed strings: never a crash or a hang (run under ASan/UBSan).
 */
static void test_mutated(void)
{
	static uint8_t good[1 << 16], buf[1 << 16];
	FILE *f = fopen(CITY, "rb");
	size_t n = f ? fread(good, 1, sizeof(good), f) : 0;
	unsigned opened = 0, failed = 0, eio = 0, found = 0;
	uint32_t x = 0x2545f491;
	char path[] = "/tmp/nj-geoip-mut-XXXXXX";
	int fd = mkstemp(path);

	if (f)
		fclose(f);
	CHECK(n > 1000 && n < sizeof(good) && fd >= 0);
	if (fd < 0 || n < 1000)
		return;
	close(fd);
	for (unsigned k = 0; k < 400; k++) {
		struct nj_geoip_db *db;
		char err[512];

		memcpy(buf, good, n);
		for (unsigned m = 0; m <= k % 8; m++) {
			x = x * 1103515245u + 12345u;
			/* half the changes in the search tree and data (the first 3/4) */
			size_t at = (m & 1) ? (x >> 8) % (n * 3 / 4) : (x >> 8) % n;

			buf[at] ^= (uint8_t)(1u << (x >> 29)) | (uint8_t)(k & 0x80 ? x : 0);
		}
		f = fopen(path, "wb");
		if (!f || fwrite(buf, 1, n, f) != n) {
			CHECK(0);
			if (f)
				fclose(f);
			break;
		}
		fclose(f);
		db = nj_geoip_db_open(path, NJ_GEOIP_DB_GEO, err, sizeof(err));
		if (!db) {
			CHECK(strstr(err, "nj-geoip-mut") != NULL);
			failed++;
			continue;
		}
		opened++;
		for (unsigned i = 0; i < 600; i++) {
			struct nj_geoip_info in;
			uint8_t a[16];
			unsigned alen;
			char cc[3];
			int r;

			x = x * 1103515245u + 12345u;
			if (i % 3 == 0) {
				alen = addr(i % 2 ? "89.160.20.128" : "2001:218::1", a);
			} else {
				alen = i % 5 ? 4 : 16;
				for (unsigned b = 0; b < alen; b++)
					a[b] = (uint8_t)((x >> (b % 4 * 8)) ^ b * 37);
			}
			memset(&in, 0, sizeof(in));
			r = nj_geoip_db_lookup(db, a, alen, &in);
			CHECK(r == 0 || r == -ENOENT || r == -EIO);
			eio += r == -EIO;
			found += r == 0;
			CHECK(strlen(in.country) < sizeof(in.country) &&
			      strlen(in.city) < sizeof(in.city) &&
			      strlen(in.country_name) < sizeof(in.country_name));
			r = nj_geoip_db_country(db, a, alen, cc);
			CHECK(r == 0 || r == -ENOENT || r == -EIO);
		}
		nj_geoip_db_close(db);
	}
	unlink(path);
	printf("mutated databases: %u opened, %u refused; %u lookups found, %u errors\n", opened,
	       failed, found, eio);
	CHECK(opened > 0 && failed > 0);
}

static void test_keyword(void)
{
	static const char *const sets[] = {"geoip-database=" CTRY};
	static const struct {
		const char *opts;
		bool ok;
		const char *reason;
	} cases[] = {
		{"geoip:dst,DE;", true, NULL},
		{"geoip: src,US,CA;", true, NULL},
		{"geoip:both,!US;", true, NULL},
		{"geoip:any,gb;", true, NULL},
		{"geoip:US;", true, NULL},
		{"geoip:!US,CN;", true, NULL},
		{"geoip:dst;", false, "no country code"},
		{"geoip:dst,GBR;", false, "two-letter"},
		{"geoip:;", false, NULL},
	};
	struct nj_conf *conf = conf_of(sets, 1), *none = conf_of(NULL, 0);
	struct nj_detect_rules *r = nj_detect_rules_new(conf), *r0 = nj_detect_rules_new(none);
	char rule[512], err[512];
	bool skipped;

	CHECK(r && r0);
	for (unsigned i = 0; r && i < NJ_ARRAY_SIZE(cases); i++) {
		struct nj_detect_sig *s;

		snprintf(rule, sizeof(rule), "alert tcp any any -> any any (%s sid:%u;)",
			 cases[i].opts, i + 1);
		err[0] = '\0';
		s = nj_detect_parse_rule(r, rule, err, sizeof(err), &skipped);
		if ((s != NULL) != cases[i].ok)
			fprintf(stderr, "%s: %s\n", cases[i].opts, err);
		CHECK((s != NULL) == cases[i].ok);
		CHECK(!cases[i].reason || strstr(err, cases[i].reason));
	}
	/* without a database the rule fails with the reason (as Suricata) */
	if (r0) {
		CHECK(nj_detect_parse_rule(r0, "alert tcp any any -> any any (geoip:US; sid:1;)",
					   err, sizeof(err), &skipped) == NULL);
		CHECK(!skipped && strstr(err, "geoip-database"));
	}
	nj_detect_rules_free(r);
	nj_detect_rules_free(r0);
	nj_conf_free(conf);
	nj_conf_free(none);
	/* a corrupt database fails the rule, naming the file */
	{
		static const char *const bad[] = {
			"geoip-database=" GEO "/bad-data/libmaxminddb-corrupt-search-tree.mmdb"};

		conf = conf_of(bad, 1);
		r = nj_detect_rules_new(conf);
		CHECK(r &&
		      nj_detect_parse_rule(r, "alert tcp any any -> any any (geoip:US; sid:1;)",
					   err, sizeof(err), &skipped) == NULL);
		CHECK(strstr(err, "corrupt-search-tree") != NULL);
		nj_detect_rules_free(r);
		nj_conf_free(conf);
	}
}

int main(void)
{
	FILE *f = fopen(CITY, "rb");

	if (!f) {
		printf("SKIP: %s is not here (the shared corpus is absent)\n", CITY);
		return 77;
	}
	fclose(f);
	test_config();
	test_bad_data();
	test_db();
	test_cache();
	test_cache_ways();
	test_cache_consistency();
	test_mutated();
	test_keyword();
	printf("%s\n", failures ? "FAIL" : "ok");
	return failures ? 1 : 0;
}
