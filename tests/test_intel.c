/* SPDX-License-Identifier: MIT */
/*
 * Threat intel: each loader (plain, CSV, MISP feed JSON, MISP CSV) with
 * malformed input counted and skipped, the CIDR / domain / URL / hash
 * lookups, IP reputation, and a reload under a worker that has not reached
 * its quiescent point yet.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "detect/intel/intel.h"
#include "detect/intel/intel_run.h"
#include "nj_test.h"

static char dir[] = "/tmp/nj_intel_XXXXXX";

static const char *write_file(const char *name, const char *text)
{
	static char path[8][512];
	static unsigned k;
	char *p = path[k++ % 8];
	FILE *f;

	snprintf(p, 512, "%s/%s", dir, name);
	f = fopen(p, "w");
	fputs(text, f);
	fclose(f);
	return p;
}

static const uint8_t *v4(const char *s)
{
	static uint8_t a[4];

	inet_pton(AF_INET, s, a);
	return a;
}

static const uint8_t *v6(const char *s)
{
	static uint8_t a[16];

	inet_pton(AF_INET6, s, a);
	return a;
}

#define S(x) (const uint8_t *)(x), (uint32_t)strlen(x)

static void test_plain_and_lookups(void)
{
	struct nj_intel_set *s = nj_intel_set_new(0);
	struct nj_intel_source src = {.format = NJ_IF_PLAIN, .name = "list"};
	char err[256];
	const struct nj_intel_ind *i;
	uint8_t d[32];

	src.path = write_file("plain.txt",
			      "# comment\n"
			      "192.0.2.1\n"
			      "198.51.100.0/24   # a net\n"
			      "10.0.0.0/8\n"
			      "10.1.0.0/16\n"
			      "2001:db8::/32\n"
			      "evil.example\n"
			      "*.wild.example\n"
			      "http://bad.example:8080/path/x.php\n"
			      "d41d8cd98f00b204e9800998ecf8427e\n"
			      "da39a3ee5e6b4b0d3255bfef95601890afd80709\n"
			      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
			      "t13d1516h2_8daaf6152771_e5627efa2ab1\n"
			      "not an indicator at all\n"
			      "300.1.2.3/8\n"
			      "192.0.2.1\n");
	CHECK(nj_intel_load(s, &src, err, sizeof(err)) == 0);
	CHECK(s->count[NJ_IK_IP] == 5);
	CHECK(s->count[NJ_IK_DOMAIN] == 2);
	CHECK(s->count[NJ_IK_URL] == 1);
	CHECK(s->count[NJ_IK_MD5] == 1 && s->count[NJ_IK_SHA1] == 1 && s->count[NJ_IK_SHA256] == 1);
	CHECK(s->count[NJ_IK_JA4] == 1);
	CHECK(s->bad == 2);
	CHECK(s->dups == 1);

	/* CIDR: exact host, /24, longest prefix wins, v6, misses */
	CHECK((i = nj_intel_match_ip(s, v4("192.0.2.1"), 4)) && i->plen == 32);
	CHECK(!nj_intel_match_ip(s, v4("192.0.2.2"), 4));
	CHECK((i = nj_intel_match_ip(s, v4("198.51.100.77"), 4)) && i->plen == 24);
	CHECK((i = nj_intel_match_ip(s, v4("10.1.2.3"), 4)) && i->plen == 16);
	CHECK((i = nj_intel_match_ip(s, v4("10.2.2.3"), 4)) && i->plen == 8);
	CHECK(!nj_intel_match_ip(s, v4("11.0.0.1"), 4));
	CHECK((i = nj_intel_match_ip(s, v6("2001:db8:1::5"), 16)) && i->plen == 32);
	CHECK(!nj_intel_match_ip(s, v6("2001:db9::1"), 16));
	CHECK(i && strcmp(nj_intel_str(s, nj_intel_ind_ctx(s, i)->source), "list") == 0);

	/* domains: the name and names below it, any case, trailing dot; not "xevil.example" */
	CHECK(nj_intel_match_domain(s, S("evil.example")));
	CHECK(nj_intel_match_domain(s, S("WWW.Evil.Example.")));
	CHECK(nj_intel_match_domain(s, S("a.b.c.evil.example")));
	CHECK(!nj_intel_match_domain(s, S("xevil.example")));
	CHECK(!nj_intel_match_domain(s, S("example")));
	CHECK(nj_intel_match_domain(s, S("x.wild.example")));
	CHECK(nj_intel_match_domain(s, S("wild.example")));

	/* URL: host case and port do not matter, the query is optional */
	CHECK(nj_intel_match_url(s, S("BAD.example"), S("/path/x.php")));
	CHECK(nj_intel_match_url(s, S("bad.example:8080"), S("/path/x.php?a=1")));
	CHECK(!nj_intel_match_url(s, S("bad.example"), S("/path/y.php")));
	CHECK(nj_intel_match_url(s, NULL, 0, S("http://bad.example/path/x.php")));

	/* hashes (binary), JA4 text */
	memset(d, 0, sizeof(d));
	CHECK(!nj_intel_match_hash(s, NJ_IK_SHA256, d, 32));
	inet_pton(AF_INET6, "e3b0:c442:98fc:1c14:9afb:f4c8:996f:b924", d);
	inet_pton(AF_INET6, "27ae:41e4:649b:934c:a495:991b:7852:b855", d + 16);
	CHECK(nj_intel_match_hash(s, NJ_IK_SHA256, d, 32));
	CHECK(!nj_intel_match_hash(s, NJ_IK_MD5, d, 16));
	CHECK(nj_intel_match_text(s, NJ_IK_JA4, S("T13D1516H2_8DAAF6152771_E5627EFA2AB1")));
	CHECK(!nj_intel_match_text(s, NJ_IK_JA3, S("d41d8cd98f00b204e9800998ecf8427e")));

	/* the same answers with the lookup filters built, and for an indicator added after */
	CHECK(nj_intel_set_finish(s) == 0);
	CHECK((i = nj_intel_match_ip(s, v4("10.1.2.3"), 4)) && i->plen == 16);
	CHECK((i = nj_intel_match_ip(s, v4("192.0.2.1"), 4)) && i->plen == 32);
	CHECK(!nj_intel_match_ip(s, v4("11.0.0.1"), 4));
	CHECK(nj_intel_match_ip(s, v6("2001:db8:1::5"), 16));
	CHECK(nj_intel_match_domain(s, S("a.b.c.evil.example")));
	CHECK(!nj_intel_match_domain(s, S("xevil.example")));
	CHECK(nj_intel_match_url(s, S("bad.example:8080"), S("/path/x.php?a=1")));
	CHECK(nj_intel_match_hash(s, NJ_IK_SHA256, d, 32));
	CHECK(nj_intel_add(s, NJ_IK_DOMAIN, "late.example", 12, 0) == 0);
	CHECK(nj_intel_match_domain(s, S("www.late.example")));
	for (unsigned k = 0; k < 1000; k++) {
		char v[32];

		snprintf(v, sizeof(v), "172.16.%u.%u", k / 256, k % 256);
		CHECK(nj_intel_add(s, NJ_IK_IP, v, strlen(v), 0) == 0);
	}
	CHECK(nj_intel_match_ip(s, v4("172.16.3.231"), 4));
	CHECK(!nj_intel_match_ip(s, v4("172.16.3.232"), 4));
	nj_intel_set_free(s);
}

static void test_csv(void)
{
	struct nj_intel_set *s = nj_intel_set_new(0);
	struct nj_intel_source src = {.format = NJ_IF_CSV, .name = "csv"};
	const struct nj_intel_ind *i;
	const struct nj_intel_ctx *c;
	char err[256];

	src.path = write_file("i.csv",
			      "value,type,event_id,tags,threat_level,info\n"
			      "203.0.113.9,ip-dst,7,\"tlp:amber;apt\",1,\"Campaign, \"\"X\"\"\"\n"
			      "cc.example,domain,8,,3,\n"
			      "771-769-49195,ja3,9,,2,\n"
			      "e7d705a3286e19ea42f587b344ee6865,ja3,9,,2,\n"
			      "aa:bb,cert-sha1,10,,2,\n"
			      "00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00:11:22:33,"
			      "x509-fingerprint-sha1,10,,2,\n"
			      "foo,mutex,11,,2,\n");
	CHECK(nj_intel_load(s, &src, err, sizeof(err)) == 0);
	CHECK(s->ninds == 4);
	CHECK(s->bad == 2);	    /* bad ja3 value, short fingerprint */
	CHECK(s->unsupported == 1); /* mutex */
	i = nj_intel_match_ip(s, v4("203.0.113.9"), 4);
	CHECK(i != NULL);
	if (i) {
		c = nj_intel_ind_ctx(s, i);
		CHECK(strcmp(nj_intel_str(s, c->event_id), "7") == 0);
		CHECK(c->ntags == 2 && strcmp(nj_intel_str(s, c->tags), "tlp:amber") == 0);
		CHECK(strcmp(nj_intel_str(s, c->info), "Campaign, \"X\"") == 0);
		CHECK(c->threat_level == 1);
	}
	CHECK(nj_intel_match_text(s, NJ_IK_JA3, S("E7D705A3286E19EA42F587B344EE6865")));
	CHECK(nj_intel_match_certfp(
		s, S("00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33")));
	CHECK(!nj_intel_match_certfp(
		s, S("00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:34")));
	nj_intel_set_free(s);

	/* no value column: a clear error */
	s = nj_intel_set_new(0);
	src.path = write_file("nohdr.csv", "1.2.3.4,ip\n");
	CHECK(nj_intel_load(s, &src, err, sizeof(err)) == -EINVAL);
	nj_intel_set_free(s);
}

static void test_misp_csv(void)
{
	struct nj_intel_set *s = nj_intel_set_new(0);
	struct nj_intel_source src = {
		.format = NJ_IF_MISP_CSV, .name = "misp", .to_ids_only = true};
	const struct nj_intel_ind *i;
	char err[256];

	src.path = write_file(
		"misp.csv",
		"uuid,event_id,category,type,value,comment,to_ids,date,object_relation,"
		"attribute_tag,object_uuid,object_name,object_meta_category\n"
		"u1,101,Network activity,ip-dst|port,198.18.0.5|443,c2,1,1700000000,,"
		"\"tlp:green,apt-x\",,,\n"
		"u2,101,Network activity,domain|ip,c2.example|198.18.0.6,,True,1700000000,,,,,\n"
		"u3,102,Payload "
		"delivery,filename|md5,a.exe|d41d8cd98f00b204e9800998ecf8427e,,1,1,,,,,\n"
		"u4,102,Network activity,ip-dst,198.18.0.7,,0,1700000000,,,,,\n"
		"u5,102,Network activity,ip-dst,not-an-ip,,1,1700000000,,,,,\n"
		"u6,102\n");
	CHECK(nj_intel_load(s, &src, err, sizeof(err)) == 0);
	CHECK(s->ninds == 4);
	CHECK(s->skipped_no_ids == 1);
	CHECK(s->bad == 2);
	i = nj_intel_match_ip(s, v4("198.18.0.5"), 4);
	CHECK(i && strcmp(nj_intel_str(s, nj_intel_ind_ctx(s, i)->event_id), "101") == 0);
	CHECK(i && nj_intel_ind_ctx(s, i)->ntags == 2);
	CHECK(nj_intel_match_ip(s, v4("198.18.0.6"), 4));
	CHECK(nj_intel_match_domain(s, S("www.c2.example")));
	CHECK(!nj_intel_match_ip(s, v4("198.18.0.7"), 4));
	nj_intel_set_free(s);
}

static void test_misp_json(void)
{
	struct nj_intel_set *s = nj_intel_set_new(0);
	struct nj_intel_source src = {.format = NJ_IF_MISP_JSON, .to_ids_only = true};
	const struct nj_intel_ind *i;
	char err[256], feed[512];

	snprintf(feed, sizeof(feed), "%s/feed", dir);
	mkdir(feed, 0755);
	write_file("feed/manifest.json",
		   "{\"aaaa-1\": {\"info\": \"one\"}, \"bbbb-2\": {\"info\": \"two\"},"
		   " \"cccc-3\": {\"info\": \"missing\"}, \"../x\": {}}");
	write_file(
		"feed/aaaa-1.json",
		"{\"Event\": {\"id\": \"1\", \"uuid\": \"aaaa-1\", \"info\": \"Phish\","
		" \"threat_level_id\": \"2\", \"Tag\": [{\"name\": \"tlp:white\"}],"
		" \"Attribute\": [{\"type\": \"hostname\", \"value\": \"login.phish.example\","
		" \"to_ids\": true, \"Tag\": [{\"name\": \"phishing\"}]},"
		" {\"type\": \"url\", \"value\": \"https://phish.example/login\", \"to_ids\": "
		"true},"
		" {\"type\": \"ip-dst\", \"value\": \"192.0.2.50\", \"to_ids\": false},"
		" {\"type\": \"comment\", \"value\": \"x\", \"to_ids\": true},"
		" {\"type\": \"ip-src\", \"to_ids\": true}],"
		" \"Object\": [{\"name\": \"file\", \"Attribute\": [{\"type\": \"sha1\","
		" \"value\": \"da39a3ee5e6b4b0d3255bfef95601890afd80709\", \"to_ids\": true}]}]}}");
	write_file("feed/bbbb-2.json", "{\"Event\": {\"id\": 2, \"Attribute\": [ {broken");
	src.path = feed;
	CHECK(nj_intel_load(s, &src, err, sizeof(err)) == 0);
	CHECK(s->ninds == 3);
	CHECK(s->skipped_no_ids == 1);
	CHECK(s->unsupported == 1);
	CHECK(s->bad >= 3); /* attribute without value, broken event, missing event, bad name */
	i = nj_intel_match_domain(s, S("login.phish.example"));
	CHECK(i != NULL);
	CHECK(!nj_intel_match_domain(s, S("x.login.phish.example"))); /* hostname: exact */
	if (i) {
		const struct nj_intel_ctx *c = nj_intel_ind_ctx(s, i);

		CHECK(strcmp(nj_intel_str(s, c->event_id), "1") == 0);
		CHECK(strcmp(nj_intel_str(s, c->event_uuid), "aaaa-1") == 0);
		CHECK(strcmp(nj_intel_str(s, c->info), "Phish") == 0);
		CHECK(c->threat_level == 2);
		CHECK(c->ntags == 2); /* event tag + attribute tag */
	}
	CHECK(nj_intel_match_url(s, S("phish.example"), S("/login")));
	{
		uint8_t sha1[20] = {0xda, 0x39, 0xa3, 0xee, 0x5e, 0x6b, 0x4b, 0x0d, 0x32, 0x55,
				    0xbf, 0xef, 0x95, 0x60, 0x18, 0x90, 0xaf, 0xd8, 0x07, 0x09};

		CHECK(nj_intel_match_hash(s, NJ_IK_SHA1, sha1, 20));
	}
	nj_intel_set_free(s);

	/* a single event file works too; a missing path is an error */
	s = nj_intel_set_new(0);
	snprintf(feed, sizeof(feed), "%s/feed/aaaa-1.json", dir);
	CHECK(nj_intel_load(s, &src, err, sizeof(err)) == 0 && s->ninds == 3);
	src.path = "/nonexistent/feed";
	CHECK(nj_intel_load(s, &src, err, sizeof(err)) < 0);
	nj_intel_set_free(s);
}

static void test_memcap(void)
{
	struct nj_intel_set *s = nj_intel_set_new(256 << 10);
	char v[32];
	int r = 0;

	for (unsigned k = 0; k < 100000 && r != -ENOSPC; k++) {
		snprintf(v, sizeof(v), "10.%u.%u.%u", k >> 16 & 255, k >> 8 & 255, k & 255);
		r = nj_intel_add(s, NJ_IK_IP, v, strlen(v), 0);
	}
	CHECK(r == -ENOSPC);
	CHECK(s->mem <= 256 << 10);
	nj_intel_set_free(s);
}

static void test_reputation(void)
{
	struct nj_intel_set *s = nj_intel_set_new(0);

	CHECK(nj_intel_add_rep(s, "192.0.2.0/24", 1, 50) == 0);
	CHECK(nj_intel_add_rep(s, "192.0.2.7", 1, 100) == 0);
	CHECK(nj_intel_add_rep(s, "192.0.2.7", 2, 3) == 0);
	CHECK(nj_intel_add_rep(s, "x", 2, 3) == -EINVAL);
	CHECK(nj_intel_match_rep(s, v4("192.0.2.7"), 4, 1) == 100);
	CHECK(nj_intel_match_rep(s, v4("192.0.2.8"), 4, 1) == 50);
	CHECK(nj_intel_match_rep(s, v4("192.0.2.7"), 4, 2) == 3);
	CHECK(nj_intel_match_rep(s, v4("192.0.2.8"), 4, 2) == -1);
	CHECK(nj_intel_match_rep(s, v4("192.0.3.1"), 4, 1) == -1);
	nj_intel_set_free(s);
}

static void test_reload(void)
{
	char yaml[1024], err[256];
	const char *list = write_file("r.txt", "192.0.2.1\n");
	const char *cfg;
	struct nj_conf *conf;
	struct nj_intel_thread *t;
	const struct nj_intel_set *first, *second;

	snprintf(yaml, sizeof(yaml),
		 "intel:\n  enabled: yes\n  sources:\n    - path: %s\n      format: plain\n", list);
	cfg = write_file("intel.yaml", yaml);
	conf = nj_conf_load(cfg, NULL, 0, err, sizeof(err));
	CHECK(conf != NULL);
	if (!conf)
		return;
	CHECK(nj_intel_init(conf) == 0);
	CHECK(nj_intel_enabled());
	first = nj_intel_current();
	CHECK(first && first->ninds == 1);
	t = nj_intel_thread_create(NULL);
	CHECK(t != NULL);

	write_file("r.txt", "192.0.2.1\n192.0.2.2\n198.51.100.0/24\n");
	CHECK(nj_intel_reload() == 0); /* t never passes its quiescent point meanwhile */
	second = nj_intel_current();
	CHECK(second != first && second->ninds == 3);
	/* the old set is still intact for the worker that did not move on */
	CHECK(first->ninds == 1 && nj_intel_match_ip(first, v4("192.0.2.1"), 4));
	nj_intel_quiescent(t);
	CHECK(nj_intel_current() == second);

	/* a reload that fails keeps the current set */
	unlink(list);
	CHECK(nj_intel_reload() < 0);
	CHECK(nj_intel_current() == second);

	nj_intel_thread_free(t);
	nj_intel_shutdown();
	CHECK(!nj_intel_enabled());
	nj_conf_free(conf);
}

int main(void)
{
	CHECK(mkdtemp(dir) != NULL);
	test_plain_and_lookups();
	test_csv();
	test_misp_csv();
	test_misp_json();
	test_memcap();
	test_reputation();
	test_reload();
	printf("intel: %s\n", failures ? "FAIL" : "ok");
	{
		char cmd[600];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", dir);
	}
	return failures ? 1 : 0;
}
