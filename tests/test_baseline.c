/* SPDX-License-Identifier: MIT */
/*
 * Baseline unit tests: configuration, learning on per-core tables and the
 * merge, the file round trip (write, read, write gives the same bytes; an
 * edit is honoured), the matcher's reasons (peer, service, app_proto,
 * country, ASN, volume, hour, unknown host), the rate limit, policy entries
 * and the memory bounds.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/nj_common.h"
#include "config/config.h"
#include "dataplane/flow.h"
#include "export/baseline/baseline.h"
#include "export/baseline/baseline_priv.h"
#include "nj_test.h"
#include "parsers/applayer.h"

#define HOUR_US 3600000000ULL
/* 2023-11-14 22:00 UTC */
#define T22 (1699999200ULL * 1000000ULL)

static char dir[] = "/tmp/nj-test-baseline-XXXXXX";

static uint16_t app_id(const char *name)
{
	const struct nj_app_parser *p = nj_app_parser_by_name(name);

	return p ? p->id : 0;
}

struct flow {
	uint8_t local[16], peer[16];
	struct nj_bl_flow v;
};

static struct nj_bl_flow *mk(struct flow *f, const char *local, const char *peer, uint8_t proto,
			     uint16_t port, const char *app, uint64_t ts, uint64_t bytes)
{
	memset(f, 0, sizeof(*f));
	f->v.ipv6 = strchr(local, ':') != NULL;
	inet_pton(f->v.ipv6 ? AF_INET6 : AF_INET, local, f->local);
	inet_pton(f->v.ipv6 ? AF_INET6 : AF_INET, peer, f->peer);
	f->v.local = f->local;
	f->v.peer = f->peer;
	f->v.local_is_client = 1;
	f->v.proto = proto;
	f->v.port = port;
	f->v.app_proto = app ? app_id(app) : 0;
	f->v.start_us = ts;
	f->v.bytes = bytes;
	return &f->v;
}

static struct nj_conf *conf_of(const char *const *ov, unsigned n)
{
	char err[256];
	struct nj_conf *c = nj_conf_load(NULL, ov, n, err, sizeof(err));

	if (!c)
		fprintf(stderr, "conf: %s\n", err);
	return c;
}

static struct nj_baseline_ctx *ctx_of(struct nj_conf *c, char *err, size_t errlen)
{
	struct nj_baseline_config cfg;

	nj_baseline_config_defaults(&cfg);
	if (nj_baseline_config_load(&cfg, c) < 0) {
		snprintf(err, errlen, "config");
		return NULL;
	}
	return nj_baseline_ctx_create(&cfg, c, err, errlen);
}

static char *slurp(const char *path)
{
	FILE *fp = fopen(path, "rb");
	char *buf;
	long n;

	if (!fp)
		return NULL;
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	buf = calloc(1, (size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, fp) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(fp);
	return buf;
}

static void write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	if (!fp)
		return;
	fputs(text, fp);
	fclose(fp);
}

/* Learned on two cores: clients group (10/8) talks TLS and DNS; 172.16.0.5 is a host. */
static void learn(const char *file)
{
	char set_file[600], err[256];
	const char *ov[] = {"baseline.mode=learn", set_file, "baseline.groups.clients=[10.0.0.0/8]",
			    "baseline.min-flows=4"};
	struct nj_conf *c;
	struct nj_baseline_ctx *ctx;
	struct nj_baseline *core[2];
	struct flow f;

	snprintf(set_file, sizeof(set_file), "baseline.file=%s", file);
	c = conf_of(ov, NJ_ARRAY_SIZE(ov));
	CHECK(c != NULL);
	ctx = ctx_of(c, err, sizeof(err));
	CHECK(ctx != NULL);
	if (!ctx) {
		fprintf(stderr, "%s\n", err);
		return;
	}
	core[0] = nj_baseline_create(ctx, NULL);
	core[1] = nj_baseline_create(ctx, NULL);
	CHECK(core[0] && core[1]);
	for (unsigned i = 0; i < 20; i++) {
		struct nj_baseline *b = core[i & 1];
		char cl[32];

		snprintf(cl, sizeof(cl), "10.0.1.%u", 2 + i);
		nj_baseline_learn(b, mk(&f, cl, "93.184.216.3", 6, 443, "tls",
					T22 + i * 60000000ULL, 1000 + i * 100));
		nj_baseline_learn(
			b, mk(&f, cl, "8.8.8.8", 17, 53, "dns", T22 + 3600000000ULL / 2, 200));
	}
	/* a TLS flow on 443 whose detection failed: no app_proto added */
	nj_baseline_learn(core[0], mk(&f, "10.0.1.2", "93.184.216.3", 6, 443, NULL, T22, 60));
	nj_baseline_learn(core[1], mk(&f, "172.16.0.5", "10.9.9.9", 6, 22, NULL, T22, 5000));
	/* neither side profiled */
	nj_baseline_learn(core[1], mk(&f, "1.2.3.4", "5.6.7.8", 6, 80, "http", T22, 10));
	CHECK(nj_baseline_stats(core[1])->unscoped == 1);
	/* through the flow: TCP with a SYN is learned, without one (mid-stream) skipped */
	{
		struct nj_flow fl;
		uint64_t before = nj_baseline_stats(core[1])->learned;

		memset(&fl, 0, sizeof(fl));
		fl.proto = 6;
		fl.client = 1;
		memcpy(fl.addr[1], (uint8_t[]){10, 0, 1, 2}, 4);
		memcpy(fl.addr[0], (uint8_t[]){93, 184, 216, 3}, 4);
		fl.port[1] = 40000;
		fl.port[0] = 443;
		fl.app_proto = app_id("tls");
		fl.start_us = fl.last_us = T22;
		fl.bytes_ts = 100;
		fl.tcp_flags_ts = 0x18; /* no SYN: skipped */
		nj_baseline_flow_end(core[1], &fl);
		CHECK(nj_baseline_stats(core[1])->midstream == 1);
		CHECK(nj_baseline_stats(core[1])->learned == before);
		fl.tcp_flags_ts = 0x1b;
		nj_baseline_flow_end(core[1], &fl);
		CHECK(nj_baseline_stats(core[1])->learned == before + 1);
	}
	CHECK(nj_baseline_stats(core[0])->learned + nj_baseline_stats(core[1])->learned == 43);
	CHECK(nj_baseline_ctx_finish(ctx, core, 2) == 0);
	{
		struct nj_bl_model_stats st;

		nj_bl_model_stats(nj_baseline_ctx_model(ctx), &st);
		CHECK(st.flows == 43);
		CHECK(st.subjects == 2);
		/* clients: 2 peers + 2 services; 172.16.0.5: 1 + 1 */
		CHECK(st.entries == 6);
		CHECK(st.hosts_dropped == 0 && st.entries_dropped == 0);
	}
	nj_baseline_destroy(core[0]);
	nj_baseline_destroy(core[1]);
	nj_baseline_ctx_free(ctx);
	nj_conf_free(c);
}

static void test_file(const char *file)
{
	char *text = slurp(file), *again;
	char copy[600], err[256];
	struct nj_bl_model *m = nj_bl_model_create(100, 1000, 100);
	FILE *fp;

	CHECK(text != NULL);
	if (!text || !m)
		return;
	CHECK(strstr(text, "group: \"clients\"") != NULL);
	CHECK(strstr(text, "host: 172.16.0.5") != NULL);
	CHECK(strstr(text, "tcp/443/tls") != NULL);
	CHECK(strstr(text, "udp/53/dns") != NULL);
	CHECK(strstr(text, "\"93.184.216.3\": 22") != NULL);
	CHECK(strstr(text, "hours: [22]") != NULL);
	CHECK(strstr(text, "flows: 43") != NULL);
	/* round trip: read and write again gives the same bytes */
	CHECK(nj_bl_model_load(m, file, err, sizeof(err)) == 0);
	snprintf(copy, sizeof(copy), "%s.again", file);
	fp = fopen(copy, "w");
	CHECK(fp != NULL);
	if (fp) {
		CHECK(nj_bl_model_write(m, fp) == 0);
		fclose(fp);
	}
	again = slurp(copy);
	CHECK(again && !strcmp(text, again));
	if (again && strcmp(text, again))
		fprintf(stderr, "--- first\n%s--- again\n%s", text, again);
	free(again);
	free(text);
	nj_bl_model_free(m);

	/* errors name the file and line */
	m = nj_bl_model_create(100, 1000, 100);
	write_file(copy, "version: 1\nprofiles:\n  - group: x\n    peers: [10.0.0.300]\n");
	CHECK(nj_bl_model_load(m, copy, err, sizeof(err)) < 0);
	CHECK(strstr(err, ":4:") != NULL && strstr(err, "10.0.0.300") != NULL);
	write_file(copy, "version: 1\nprofiles:\n  - host: 10.0.0.1\n    services: [tcp/99999]\n");
	CHECK(nj_bl_model_load(m, copy, err, sizeof(err)) < 0);
	CHECK(strstr(err, "bad port") != NULL);
	write_file(copy, "version: 2\n");
	CHECK(nj_bl_model_load(m, copy, err, sizeof(err)) < 0);
	write_file(copy, "version: 1\nprofiles:\n  - peers: [1.2.3.4]\n");
	CHECK(nj_bl_model_load(m, copy, err, sizeof(err)) < 0);
	nj_bl_model_free(m);
	unlink(copy);
}

struct det {
	struct nj_conf *c;
	struct nj_baseline_ctx *ctx;
	struct nj_baseline *b;
};

static bool det_open(struct det *d, const char *file, const char *policy, char *err, size_t errlen)
{
	static char set_file[600], set_pol[600];
	const char *ov[] = {"baseline.mode=detect",
			    set_file,
			    "baseline.groups.clients=[10.0.0.0/8]",
			    "baseline.min-flows=4",
			    "baseline.hour-slack=1",
			    "baseline.volume-factor=4",
			    set_pol};

	snprintf(set_file, sizeof(set_file), "baseline.file=%s", file);
	snprintf(set_pol, sizeof(set_pol), "baseline.policy=%s", policy ? policy : "");
	memset(d, 0, sizeof(*d));
	d->c = conf_of(ov, NJ_ARRAY_SIZE(ov));
	if (!d->c)
		return false;
	d->ctx = ctx_of(d->c, err, errlen);
	if (!d->ctx)
		return false;
	d->b = nj_baseline_create(d->ctx, NULL);
	return d->b != NULL;
}

static void det_close(struct det *d)
{
	nj_baseline_destroy(d->b);
	nj_baseline_ctx_free(d->ctx);
	nj_conf_free(d->c);
}

#define BIT(r) (1u << (r))

static void test_detect(const char *file)
{
	struct det d;
	struct flow f;
	char err[256];
	int pol;

	CHECK(det_open(&d, file, NULL, err, sizeof(err)));
	if (!d.b) {
		fprintf(stderr, "%s\n", err);
		det_close(&d);
		return;
	}
	/* usual: known peer and service, any client of the group, unknown app on the port */
	CHECK(nj_baseline_check(d.b, mk(&f, "10.0.1.99", "93.184.216.3", 6, 443, "tls", T22, 900),
				&pol) == 0);
	CHECK(nj_baseline_check(d.b, mk(&f, "10.0.1.99", "93.184.216.3", 6, 443, NULL, T22, 900),
				&pol) == 0);
	CHECK(nj_baseline_check(d.b, mk(&f, "10.0.7.1", "8.8.8.8", 17, 53, "dns", T22, 90), &pol) ==
	      0);
	/* new peer on a known service; reported once, then counted as a repeat */
	CHECK(nj_baseline_check(d.b, mk(&f, "10.0.1.5", "203.0.113.9", 6, 443, "tls", T22, 900),
				&pol) == BIT(NJ_BL_NEW_PEER));
	CHECK(nj_baseline_check(d.b, mk(&f, "10.0.1.6", "203.0.113.9", 6, 443, "tls", T22, 900),
				&pol) == 0);
	CHECK(nj_baseline_stats(d.b)->repeats == 1);
	/* new service to a known peer: new port; known port with another app_proto */
	CHECK(nj_baseline_check(d.b, mk(&f, "10.0.1.5", "93.184.216.3", 6, 8443, "tls", T22, 900),
				&pol) == BIT(NJ_BL_NEW_SERVICE));
	CHECK(nj_baseline_check(d.b, mk(&f, "10.0.1.5", "93.184.216.3", 6, 443, "http", T22, 900),
				&pol) == BIT(NJ_BL_NEW_SERVICE));
	/* both at once */
	CHECK(nj_baseline_check(d.b, mk(&f, "10.0.1.5", "198.51.100.1", 17, 4444, NULL, T22, 9),
				&pol) == (BIT(NJ_BL_NEW_PEER) | BIT(NJ_BL_NEW_SERVICE)));
	/* volume: max learned 2900 bytes, factor 4 */
	CHECK(nj_baseline_check(d.b, mk(&f, "10.0.1.5", "93.184.216.3", 6, 443, "tls", T22, 11600),
				&pol) == 0);
	CHECK(nj_baseline_check(d.b, mk(&f, "10.0.1.5", "93.184.216.3", 6, 443, "tls", T22, 11601),
				&pol) == BIT(NJ_BL_UNUSUAL_VOLUME));
	/* hour: learned 22 (and 22:30), slack 1: 23 and 21 usual, 3 is not (once per hour) */
	CHECK(nj_baseline_check(
		      d.b, mk(&f, "10.0.1.5", "93.184.216.3", 6, 443, "tls", T22 + HOUR_US, 900),
		      &pol) == 0);
	CHECK(nj_baseline_check(
		      d.b, mk(&f, "10.0.1.5", "93.184.216.3", 6, 443, "tls", T22 - HOUR_US, 900),
		      &pol) == 0);
	CHECK(nj_baseline_check(
		      d.b,
		      mk(&f, "10.0.1.5", "93.184.216.3", 6, 443, "tls", T22 + 5 * HOUR_US, 900),
		      &pol) == BIT(NJ_BL_UNUSUAL_HOUR));
	CHECK(nj_baseline_check(d.b,
				mk(&f, "10.0.1.8", "93.184.216.3", 6, 443, "tls",
				   T22 + 5 * HOUR_US + 60000000ULL, 900),
				&pol) == 0);
	/* 172.16.0.5 has 1 flow (< min-flows): no volume or hour judgement, peers still */
	CHECK(nj_baseline_check(
		      d.b,
		      mk(&f, "172.16.0.5", "10.9.9.9", 6, 22, NULL, T22 + 9 * HOUR_US, 1000000),
		      &pol) == 0);
	/* a profiled host without a profile */
	CHECK(nj_baseline_check(d.b, mk(&f, "192.168.1.1", "10.9.9.9", 6, 22, NULL, T22, 10),
				&pol) == BIT(NJ_BL_NEW_HOST));
	CHECK(nj_baseline_check(d.b, mk(&f, "192.168.1.1", "10.9.9.8", 6, 23, NULL, T22, 10),
				&pol) == 0);
	/* not profiled at all */
	CHECK(nj_baseline_check(d.b, mk(&f, "1.1.1.1", "2.2.2.2", 6, 22, NULL, T22, 10), &pol) ==
	      0);
	CHECK(nj_baseline_stats(d.b)->unscoped == 1);
	det_close(&d);
}

/* Country and ASN: only judged when learned (the geo hook filled them). */
static void fake_geo(void *ctx, const uint8_t *addr, unsigned alen, char cc[3], uint32_t *asn)
{
	(void)ctx;
	(void)alen;
	if (addr[0] == 93) {
		memcpy(cc, "GB", 3);
		*asn = 64500;
	} else if (addr[0] == 198) {
		memcpy(cc, "FR", 3);
		*asn = 64501;
	}
}

static void test_geo(const char *file)
{
	struct det d;
	struct flow f;
	char err[256];
	int pol;
	struct nj_bl_model *m = nj_bl_model_create(10, 100, 100);
	int g = nj_bl_model_group(m, "clients");
	struct nj_bl_skey k = {.group = (uint16_t)(g + 1)};
	struct nj_bl_subject *s = nj_bl_subject_get(m, &k, true);
	struct nj_bl_entry e = {.subject = 1, .kind = NJ_BL_COUNTRY, .val = {'G', 'B'}};
	FILE *fp;

	CHECK(s != NULL);
	s->flows = 100;
	s->hours = 0xffffff;
	nj_bl_entry_get(m, &e, true)->flows = 1;
	e.kind = NJ_BL_ASN;
	memset(e.val, 0, sizeof(e.val));
	uint32_t asn = 64500;

	memcpy(e.val, &asn, 4);
	nj_bl_entry_get(m, &e, true)->flows = 1;
	/* the analyst allowed all of 198.51.100.0/24 and any port for UDP */
	fp = fopen(file, "w");
	CHECK(fp && nj_bl_model_write(m, fp) == 0);
	if (fp) {
		fputs("    peers: [93.184.216.3, 198.51.100.0/24]\n"
		      "    services: [tcp/443/tls, udp/any]\n",
		      fp);
		fclose(fp);
	}
	nj_bl_model_free(m);
	CHECK(det_open(&d, file, NULL, err, sizeof(err)));
	if (!d.b) {
		fprintf(stderr, "%s\n", err);
		det_close(&d);
		return;
	}
	nj_baseline_set_geo(d.b, fake_geo, NULL);
	CHECK(nj_bl_prefix_match((const uint8_t[]){198, 51, 100, 0},
				 (const uint8_t[]){198, 51, 100, 77}, 24));
	{
		struct nj_bl_flow *v = mk(&f, "10.0.1.5", "93.184.216.3", 6, 443, "tls", T22, 9);

		fake_geo(NULL, v->peer, 4, v->country, &v->asn);
		CHECK(nj_baseline_check(d.b, v, &pol) == 0);
		v = mk(&f, "10.0.1.5", "198.51.100.77", 17, 5000, NULL, T22, 9);
		fake_geo(NULL, v->peer, 4, v->country, &v->asn);
		CHECK(nj_baseline_check(d.b, v, &pol) ==
		      (BIT(NJ_BL_NEW_COUNTRY) | BIT(NJ_BL_NEW_ASN)));
		/* no geo answer: nothing to judge */
		v = mk(&f, "10.0.1.5", "198.51.100.78", 17, 5000, NULL, T22, 9);
		CHECK(nj_baseline_check(d.b, v, &pol) == 0);
	}
	det_close(&d);
}

static void test_policy(const char *file, const char *pfile)
{
	struct det d;
	struct flow f;
	char err[256];
	int pol;

	write_file(pfile, "policy:\n"
			  "  - name: server-y-tls-dr\n"
			  "    from: clients\n"
			  "    to: 203.0.113.0/24\n"
			  "    service: tcp/8443/tls\n"
			  "    justification: backups to the DR site\n"
			  "    approval: CHG-1234\n"
			  "  - name: gb-anything\n"
			  "    from: 172.16.0.0/12\n"
			  "    to: GB\n"
			  "    service: {proto: tcp, port: any}\n"
			  "    justification: vendor support\n"
			  "    approval: CHG-7\n");
	CHECK(det_open(&d, file, pfile, err, sizeof(err)));
	if (!d.b) {
		fprintf(stderr, "%s\n", err);
		det_close(&d);
		return;
	}
	CHECK(nj_baseline_check(d.b, mk(&f, "10.0.1.7", "203.0.113.99", 6, 8443, "tls", T22, 9),
				&pol) == 0);
	CHECK(pol == 0);
	CHECK(nj_baseline_stats(d.b)->policy_allowed == 1);
	/* other port, other app_proto, other destination: not covered */
	CHECK(nj_baseline_check(d.b, mk(&f, "10.0.1.7", "203.0.113.99", 6, 8444, "tls", T22, 9),
				&pol) != 0);
	CHECK(pol == -1);
	CHECK(nj_baseline_check(d.b, mk(&f, "10.0.1.7", "203.0.113.98", 6, 8443, "http", T22, 9),
				&pol) != 0);
	CHECK(nj_baseline_check(d.b, mk(&f, "10.0.1.7", "192.0.2.1", 6, 8443, "tls", T22, 9),
				&pol) != 0);
	/* country entry: only with a geo answer */
	{
		struct nj_bl_flow *v = mk(&f, "172.16.0.9", "93.1.1.1", 6, 25, NULL, T22, 9);

		CHECK(nj_baseline_check(d.b, v, &pol) != 0);
		v = mk(&f, "172.16.0.9", "93.1.1.2", 6, 25, NULL, T22, 9);
		fake_geo(NULL, v->peer, 4, v->country, &v->asn);
		CHECK(nj_baseline_check(d.b, v, &pol) == 0 && pol == 1);
	}
	det_close(&d);

	/* an approval needs its justification and reference */
	write_file(pfile,
		   "policy:\n  - name: x\n    from: any\n    to: any\n    approval: CHG-1\n");
	CHECK(!det_open(&d, file, pfile, err, sizeof(err)));
	CHECK(strstr(err, "justification") != NULL && strstr(err, ":2:") != NULL);
	det_close(&d);
	write_file(pfile, "policy:\n  - name: x\n    justification: j\n    to: any\n");
	CHECK(!det_open(&d, file, pfile, err, sizeof(err)));
	CHECK(strstr(err, "approval") != NULL);
	det_close(&d);
	write_file(pfile, "policy:\n  - {name: x, justification: j, approval: a, from: nogroup}\n");
	CHECK(!det_open(&d, file, pfile, err, sizeof(err)));
	CHECK(strstr(err, "nogroup") != NULL);
	det_close(&d);
}

static void test_bounds(void)
{
	char err[256];
	const char *ov[] = {"baseline.mode=learn", "baseline.max-hosts=2",
			    "baseline.max-entries-per-host=3", "baseline.max-entries=5"};
	struct nj_conf *c = conf_of(ov, NJ_ARRAY_SIZE(ov));
	struct nj_baseline_ctx *ctx = c ? ctx_of(c, err, sizeof(err)) : NULL;
	struct nj_baseline *b = ctx ? nj_baseline_create(ctx, NULL) : NULL;
	struct flow f;

	CHECK(b != NULL);
	if (!b)
		goto out;
	/* three hosts: the third has no room */
	nj_baseline_learn(b, mk(&f, "10.0.0.1", "1.1.1.1", 6, 1, NULL, T22, 1));
	nj_baseline_learn(b, mk(&f, "10.0.0.2", "1.1.1.1", 6, 1, NULL, T22, 1));
	nj_baseline_learn(b, mk(&f, "10.0.0.3", "1.1.1.1", 6, 1, NULL, T22, 1));
	CHECK(nj_baseline_stats(b)->hosts_full == 1);
	/* 10.0.0.1: 2 entries held, 2 more fit per host but only 1 in total */
	nj_baseline_learn(b, mk(&f, "10.0.0.1", "1.1.1.2", 6, 2, NULL, T22, 1));
	CHECK(nj_baseline_stats(b)->entries_full == 1);
	nj_baseline_learn(b, mk(&f, "10.0.0.1", "1.1.1.3", 6, 3, NULL, T22, 1));
	CHECK(nj_baseline_stats(b)->entries_full == 3);
	CHECK(nj_baseline_ctx_finish(ctx, &b, 1) == 0 || true);
	{
		struct nj_bl_model_stats st;

		nj_bl_model_stats(nj_baseline_ctx_model(ctx), &st);
		CHECK(st.subjects == 2 && st.entries == 5);
		CHECK(st.hosts_dropped == 1 && st.entries_dropped == 3);
	}
out:
	unlink("baseline.yaml");
	nj_baseline_destroy(b);
	nj_baseline_ctx_free(ctx);
	nj_conf_free(c);
}

/* Live learning: snapshots on request, merged and written by the control thread. */
static void test_periodic(const char *file)
{
	char set_file[600], err[256];
	const char *ov[] = {"baseline.mode=learn", set_file, "baseline.write-interval=10"};
	struct nj_conf *c;
	struct nj_baseline_ctx *ctx;
	struct nj_baseline *core[2];
	struct nj_bl_model *m;
	struct flow f;

	snprintf(set_file, sizeof(set_file), "baseline.file=%s", file);
	unlink(file);
	c = conf_of(ov, NJ_ARRAY_SIZE(ov));
	ctx = c ? ctx_of(c, err, sizeof(err)) : NULL;
	core[0] = ctx ? nj_baseline_create(ctx, NULL) : NULL;
	core[1] = ctx ? nj_baseline_create(ctx, NULL) : NULL;
	CHECK(core[0] && core[1]);
	if (!core[0] || !core[1])
		goto out;
	nj_baseline_learn(core[0], mk(&f, "10.0.0.1", "1.1.1.1", 6, 443, "tls", T22, 100));
	nj_baseline_learn(core[1], mk(&f, "10.0.0.2", "1.1.1.2", 17, 53, "dns", T22, 100));
	CHECK(nj_baseline_ctx_poll(ctx, core, 2, 1000) == 0); /* arms: next at 1010 */
	CHECK(nj_baseline_ctx_poll(ctx, core, 2, 1005) == 0);
	CHECK(nj_baseline_ctx_poll(ctx, core, 2, 1010) == 0); /* asks */
	CHECK(access(file, F_OK) != 0);
	nj_baseline_tick(core[0]);
	CHECK(nj_baseline_ctx_poll(ctx, core, 2, 1011) == 0); /* core 1 has not answered */
	/* learned after the snapshot: not in this write */
	nj_baseline_learn(core[0], mk(&f, "10.0.0.1", "1.1.1.3", 6, 443, "tls", T22, 100));
	nj_baseline_tick(core[1]);
	nj_baseline_tick(core[1]);
	CHECK(nj_baseline_ctx_poll(ctx, core, 2, 1012) == 1);
	CHECK(nj_baseline_ctx_writes(ctx) == 1);
	m = nj_bl_model_create(10, 100, 100);
	CHECK(m && nj_bl_model_load(m, file, err, sizeof(err)) == 0);
	if (m) {
		struct nj_bl_model_stats st;

		nj_bl_model_stats(m, &st);
		CHECK(st.flows == 2 && st.subjects == 2 && st.entries == 4);
		nj_bl_model_free(m);
	}
	/* the end: everything, once (the periodic merge is not counted again) */
	CHECK(nj_baseline_ctx_finish(ctx, core, 2) == 0);
	m = nj_bl_model_create(10, 100, 100);
	CHECK(m && nj_bl_model_load(m, file, err, sizeof(err)) == 0);
	if (m) {
		struct nj_bl_model_stats st;

		nj_bl_model_stats(m, &st);
		CHECK(st.flows == 3 && st.subjects == 2 && st.entries == 5);
		nj_bl_model_free(m);
	}
out:
	unlink(file);
	nj_baseline_destroy(core[0]);
	nj_baseline_destroy(core[1]);
	nj_baseline_ctx_free(ctx);
	nj_conf_free(c);
}

static void test_config(void)
{
	struct nj_baseline_config cfg;
	const char *good[] = {"baseline.mode=detect", "baseline.volume-factor=2.5",
			      "baseline.groups.web=[192.0.2.0/24, 198.51.100.0/24]",
			      "baseline.groups.db=10.1.1.1"};
	const char *bad1[] = {"baseline.mode=sometimes"};
	const char *bad2[] = {"baseline.volume-factor=0.5"};
	struct nj_conf *c = conf_of(good, NJ_ARRAY_SIZE(good));

	nj_baseline_config_defaults(&cfg);
	CHECK(cfg.mode == NJ_BASELINE_OFF && !strcmp(cfg.hosts, "$HOME_NET"));
	CHECK(c && nj_baseline_config_load(&cfg, c) == 0);
	CHECK(cfg.mode == NJ_BASELINE_DETECT && cfg.volume_factor == 2.5);
	CHECK(cfg.ngroups == 2 && !strcmp(cfg.groups[0].name, "web") &&
	      !strcmp(cfg.groups[1].addrs, "10.1.1.1"));
	nj_conf_free(c);
	c = conf_of(bad1, 1);
	nj_baseline_config_defaults(&cfg);
	CHECK(c && nj_baseline_config_load(&cfg, c) < 0);
	nj_conf_free(c);
	c = conf_of(bad2, 1);
	CHECK(c && nj_baseline_config_load(&cfg, c) < 0);
	nj_conf_free(c);

	/* geo-static: a list of "ADDRESSES CC [ASN]"; the hook it makes answers first match */
	{
		char path[300], err[256];
		struct nj_baseline_ctx *ctx;
		struct nj_baseline *b;
		struct flow f;

		snprintf(path, sizeof(path), "%s/geo.yaml", dir);
		write_file(path,
			   "baseline:\n  mode: detect\n  geo-static:\n"
			   "    - 203.0.113.0/24 GB AS64511\n    - \"[0.0.0.0/0,::/0] US\"\n");
		c = nj_conf_load(path, NULL, 0, err, sizeof(err));
		nj_baseline_config_defaults(&cfg);
		CHECK(c && nj_baseline_config_load(&cfg, c) == 0);
		CHECK(cfg.ngeo == 2 && cfg.geo[0].asn == 64511 && !strcmp(cfg.geo[1].cc, "US") &&
		      cfg.geo[1].asn == 0);
		cfg.mode = NJ_BASELINE_OFF; /* no baseline file needed for the hook */
		ctx = c ? nj_baseline_ctx_create(&cfg, c, err, sizeof(err)) : NULL;
		b = ctx ? nj_baseline_create(ctx, NULL) : NULL;
		CHECK(b != NULL);
		if (b) {
			struct nj_flow fl;
			struct nj_bl_flow *v =
				mk(&f, "10.0.0.1", "203.0.113.5", 6, 443, NULL, T22, 1);

			memset(&fl, 0, sizeof(fl));
			fl.proto = 17;
			memcpy(fl.addr[0], v->local, 4);
			memcpy(fl.addr[1], v->peer, 4);
			CHECK(nj_baseline_flow_view(b, &fl, v));
			CHECK(!strcmp(v->country, "GB") && v->asn == 64511);
			fl.addr[1][0] = 8;
			CHECK(nj_baseline_flow_view(b, &fl, v));
			CHECK(!strcmp(v->country, "US") && v->asn == 0);
		}
		nj_baseline_destroy(b);
		nj_baseline_ctx_free(ctx);
		nj_conf_free(c);
		write_file(path, "baseline:\n  geo-static:\n    - 203.0.113.0/24 Britain\n");
		c = nj_conf_load(path, NULL, 0, err, sizeof(err));
		CHECK(c && nj_baseline_config_load(&cfg, c) < 0);
		nj_conf_free(c);
		unlink(path);
	}
}

int main(void)
{
	char file[256], pfile[256];

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(file, sizeof(file), "%s/baseline.yaml", dir);
	snprintf(pfile, sizeof(pfile), "%s/policy.yaml", dir);
	CHECK(app_id("tls") != 0 && app_id("dns") != 0);
	learn(file);
	test_file(file);
	test_detect(file);
	test_policy(file, pfile);
	test_geo(file);
	test_periodic(file);
	test_config();
	if (chdir(dir) == 0)
		test_bounds();
	unlink(file);
	unlink(pfile);
	rmdir(dir);
	printf("baseline: %s\n", failures ? "FAILED" : "ok");
	return failures ? 1 : 0;
}
