/* SPDX-License-Identifier: MIT */
/*
 * nightjar-fuse units: every adapter on good and malformed lines (a counted
 * outcome, never a crash), the join window, offsets, expiry and caps, and the
 * zstd reader's resumable positions.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../export/fuse/fuse.h"
#include "../export/fuse/fuse_io.h"
#include "nj_test.h"

static int parse(enum nj_fuse_fmt fmt, const char *line, struct nj_fuse_ep *ep)
{
	memset(ep, 0, sizeof(*ep));
	return nj_fuse_parse_line(fmt, line, strlen(line), 7, ep);
}

static void test_adapters(void)
{
	struct nj_fuse_ep ep;
	double t;

	CHECK(nj_fuse_parse_time("2020-09-22 18:53:31.668", &t) == 0);
	CHECK(fabs(t - 1600800811.668) < 1e-6);
	CHECK(nj_fuse_parse_time("2022-05-13T08:54:05.1230000Z", &t) == 0);
	CHECK(fabs(t - 1652432045.123) < 1e-6);
	CHECK(nj_fuse_parse_time("2020-10-09T21:34:27.013272+0000", &t) == 0);
	CHECK(nj_fuse_parse_time("2020-10-09T23:34:27+02:00", &t) == 0 &&
	      fabs(t - 1602279267) < 1e-6);
	CHECK(nj_fuse_parse_time("2020-13-09 10:00:00", &t) < 0);
	CHECK(nj_fuse_parse_time("20", &t) < 0);
	CHECK(nj_fuse_parse_time("", &t) < 0);

	/* Mordor flat JSON, HTML-escaped image, no ProcessId */
	CHECK(parse(NJ_FUSE_FMT_AUTO,
		    "{\"EventID\":3,\"Channel\":\"Microsoft-Windows-Sysmon/Operational\","
		    "\"Hostname\":\"WS5.x\",\"RecordNumber\":42,\"UtcTime\":\"2020-09-22 "
		    "18:53:31.668\",\"Image\":\"&lt;unknown process&gt;\",\"Protocol\":\"tcp\","
		    "\"Initiated\":\"true\",\"SourceIp\":\"172.18.39.5\",\"SourcePort\":\"62782\","
		    "\"DestinationIp\":\"172.18.39.6\",\"DestinationPort\":\"445\"}",
		    &ep) == NJ_FUSE_OK);
	CHECK(ep.eid == 3 && ep.record_id == 42 && ep.pid == -1 && ep.proto == 6);
	CHECK(ep.initiated == 1 && ep.sport == 62782 && ep.dport == 445);
	CHECK(ep.image && !strcmp(ep.image, "<unknown process>"));
	CHECK(ep.fmt == NJ_FUSE_FMT_SYSMON_JSON);
	nj_fuse_ep_free(&ep);
	/* another channel is skipped, not an error */
	CHECK(parse(NJ_FUSE_FMT_AUTO,
		    "{\"EventID\":3,\"Channel\":\"Security\",\"Hostname\":\"h\",\"UtcTime\":\"2020-"
		    "09-22 18:53:31.668\"}",
		    &ep) == NJ_FUSE_SKIP_OTHER);
	/* Sentinel: EventData is a JSON string; no record id -> the line number */
	CHECK(parse(NJ_FUSE_FMT_AUTO,
		    "{\"Channel\":\"Microsoft-Windows-Sysmon/Operational\",\"Computer\":\"WS\","
		    "\"EventID\":1,\"EventData\":\"{\\\"UtcTime\\\":\\\"2022-05-13T08:54:08."
		    "4200000Z\\\","
		    "\\\"ProcessId\\\":\\\"2084\\\",\\\"Image\\\":\\\"C:\\\\\\\\p.exe\\\","
		    "\\\"Hashes\\\":\\\"MD5=AA,SHA256="
		    "5CFFEEBC4BE60D76E6A38B6C41E3BA993C47FB125B7B1DF5C2ED9A7F4F7B9D16\\\"}\"}",
		    &ep) == NJ_FUSE_OK);
	CHECK(ep.eid == 1 && ep.pid == 2084 && ep.record_id == 7);
	CHECK(ep.sha256 &&
	      !strcmp(ep.sha256,
		      "5cffeebc4be60d76e6a38b6c41e3ba993c47fb125b7b1df5c2ed9a7f4f7b9d16"));
	nj_fuse_ep_free(&ep);
	CHECK(parse(NJ_FUSE_FMT_SENTINEL,
		    "{\"Channel\":\"Microsoft-Windows-Sysmon/Operational\",\"Computer\":\"WS\","
		    "\"EventID\":1,\"EventData\":\"{not json\"}",
		    &ep) == NJ_FUSE_BAD_SHAPE);
	/* Winlogbeat ECS */
	CHECK(parse(NJ_FUSE_FMT_AUTO,
		    "{\"winlog\":{\"channel\":\"Microsoft-Windows-Sysmon/Operational\","
		    "\"event_id\":\"22\",\"record_id\":99,\"computer_name\":\"ws1\",\"event_data\":"
		    "{"
		    "\"UtcTime\":\"2024-01-01 00:00:00.000\",\"ProcessId\":\"10\","
		    "\"QueryName\":\"example.org\",\"QueryResults\":\"1.2.3.4;\"}}}",
		    &ep) == NJ_FUSE_OK);
	CHECK(ep.eid == 22 && ep.record_id == 99 && ep.fmt == NJ_FUSE_FMT_WINLOGBEAT);
	CHECK(ep.query_name && !strcmp(ep.query_name, "example.org"));
	nj_fuse_ep_free(&ep);
	CHECK(parse(NJ_FUSE_FMT_WINLOGBEAT, "{\"winlog\":5}", &ep) == NJ_FUSE_BAD_SHAPE);
	CHECK(parse(NJ_FUSE_FMT_WINLOGBEAT, "{\"winlog\":{\"event_id\":3,\"event_data\":[]}}",
		    &ep) == NJ_FUSE_BAD_SHAPE);
	/* Azure syslog XML, cut short: the fields before the cut are kept */
	CHECK(parse(NJ_FUSE_FMT_AUTO,
		    "{\"Computer\":\"UBUNTU5\",\"SyslogMessage\":\"<Event><System><Provider "
		    "Name=\\\"Linux-Sysmon\\\"/><EventID>1</EventID><EventRecordID>245760"
		    "</EventRecordID><Computer>UBUNTU5</Computer></System><EventData><Data "
		    "Name=\\\"UtcTime\\\">2022-05-11 18:10:22.000</Data><Data "
		    "Name=\\\"ProcessId\\\">17790</Data><Data Name=\\\"CommandLine\\\">bash -c "
		    "x &amp;&amp; y</Data><Data Name=\\\"ParentImage\\\">/usr/bin/ja\"}",
		    &ep) == NJ_FUSE_PARTIAL);
	CHECK(ep.partial && ep.pid == 17790 && ep.record_id == 245760 && !ep.parent_image);
	CHECK(ep.cmdline && !strcmp(ep.cmdline, "bash -c x && y"));
	nj_fuse_ep_free(&ep);
	CHECK(parse(NJ_FUSE_FMT_AZURE_XML,
		    "{\"SyslogMessage\":\"<Event><System><Provider Name=Linux-Sysmon/>\"}",
		    &ep) == NJ_FUSE_BAD_XML);
	CHECK(parse(NJ_FUSE_FMT_AUTO, "<Event><EventID>3</EventID><Data Name=\"Ut", &ep) ==
	      NJ_FUSE_BAD_SHAPE);
	/* osquery */
	CHECK(parse(NJ_FUSE_FMT_AUTO,
		    "{\"name\":\"pack_socket_events\",\"hostIdentifier\":\"lnx\",\"unixTime\":"
		    "1700000000,\"counter\":12,\"action\":\"added\",\"columns\":{\"action\":"
		    "\"connect\",\"pid\":\"55\",\"path\":\"/usr/bin/curl\",\"protocol\":\"6\","
		    "\"local_address\":\"10.0.0.2\",\"local_port\":\"40000\",\"remote_address\":"
		    "\"10.0.0.9\",\"remote_port\":\"443\",\"time\":\"1700000001\"}}",
		    &ep) == NJ_FUSE_OK);
	CHECK(ep.source == 1 && ep.eid == 3 && ep.record_id == 12 && ep.time == 1700000001.0);
	CHECK(ep.initiated == 1 && ep.sport == 40000 && ep.dport == 443 && ep.pid == 55);
	nj_fuse_ep_free(&ep);
	CHECK(parse(NJ_FUSE_FMT_OSQUERY,
		    "{\"name\":\"socket_events\",\"hostIdentifier\":\"lnx\",\"unixTime\":1,"
		    "\"columns\":{\"action\":\"connect\",\"local_port\":\"99999\"}}",
		    &ep) == NJ_FUSE_BAD_SHAPE);
	CHECK(parse(NJ_FUSE_FMT_OSQUERY, "{\"name\":\"hash\",\"columns\":{}}", &ep) ==
	      NJ_FUSE_BAD_SHAPE);

	/* garbage of every kind: counted outcomes */
	{
		static const char *const bad[] = {
			"",
			"   ",
			"not json",
			"[1,2,3]",
			"{",
			"{\"EventID\":\"x\"}",
			"null",
			"{\"EventID\":3}",
			"{\"EventID\":3,\"Hostname\":\"h\",\"UtcTime\":5}",
			"{\"EventID\":3,\"Hostname\":\"h\",\"UtcTime\":\"2020-01-01 00:00:00\","
			"\"SourcePort\":\"-5\",\"Protocol\":{}}",
			"{\"winlog\":{\"event_id\":1e99}}",
			"{\"columns\":1,\"name\":2}",
			"<Event><EventID>",
			"<Data Name=\"",
			"\xff\xfe\x00"};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			for (int f = 0; f < NJ_FUSE_FMT_MAX; f++) {
				int rc = parse((enum nj_fuse_fmt)f, bad[i], &ep);

				CHECK(rc >= NJ_FUSE_OK && rc <= NJ_FUSE_PARTIAL);
				if (rc == NJ_FUSE_OK || rc == NJ_FUSE_PARTIAL)
					nj_fuse_ep_free(&ep);
			}
		}
	}
	/* every prefix of a good line: no crash, no leak */
	{
		const char *good = "{\"EventID\":3,\"Hostname\":\"h\",\"RecordNumber\":1,"
				   "\"UtcTime\":\"2020-09-22 18:53:31.668\",\"Protocol\":\"udp\","
				   "\"SourceIp\":\"::1\",\"SourcePort\":\"1\",\"DestinationIp\":"
				   "\"::1\",\"DestinationPort\":\"2\"}";

		for (size_t n = 0; n <= strlen(good); n++) {
			int rc;

			memset(&ep, 0, sizeof(ep));
			rc = nj_fuse_parse_line(NJ_FUSE_FMT_AUTO, good, n, 1, &ep);
			CHECK(n == strlen(good) ? rc == NJ_FUSE_OK : rc != NJ_FUSE_OK);
			if (rc == NJ_FUSE_OK || rc == NJ_FUSE_PARTIAL)
				nj_fuse_ep_free(&ep);
		}
	}
}

/* ---- joins ---- */

static char last[8192];
static int n_out;

static int sink(void *arg, const char *line, size_t len)
{
	(void)arg;
	snprintf(last, sizeof(last), "%.*s", (int)len, line);
	n_out++;
	return 0;
}

static void add_ev(struct nj_fuse *f, const char *js);

static void eid3_from(struct nj_fuse *f, const char *host, const char *sip, uint64_t rec, double t,
		      unsigned sport)
{
	struct nj_fuse_ep ep = {0};

	ep.host = strdup(host);
	ep.eid = 3;
	ep.record_id = rec;
	ep.time = t;
	ep.pid = 100;
	ep.ppid = -1;
	ep.proto = 6;
	ep.initiated = 1;
	ep.sip = strdup(sip);
	ep.dip = strdup("10.0.0.9");
	ep.sport = (uint16_t)sport;
	ep.dport = 443;
	ep.image = strdup("C:\\a.exe");
	CHECK(nj_fuse_add_endpoint(f, &ep, false) == 0);
	nj_fuse_ep_free(&ep);
}

static void eid3(struct nj_fuse *f, const char *host, uint64_t rec, double t, unsigned sport)
{
	eid3_from(f, host, "10.0.0.2", rec, t, sport);
}

/* A flow from the NAT's outside address 198.51.100.7 to 10.0.0.9:443. */
static void nat_flow(struct nj_fuse *f, double start, unsigned sport, const char *cid)
{
	char buf[1024], ts[48], st[48];

	nj_fuse_fmt_time(start + 1, ts, sizeof(ts));
	nj_fuse_fmt_time(start, st, sizeof(st));
	snprintf(buf, sizeof(buf),
		 "{\"timestamp\":\"%s\",\"event_type\":\"flow\",\"community_id\":\"%s\","
		 "\"src_ip\":\"198.51.100.7\",\"src_port\":%u,\"dest_ip\":\"10.0.0.9\","
		 "\"dest_port\":443,\"proto\":\"TCP\",\"flow\":{\"start\":\"%s\"}}",
		 ts, cid, sport, st);
	add_ev(f, buf);
}

static void flow(struct nj_fuse *f, double start, const char *cid)
{
	char buf[1024], ts[48], st[48];
	json_t *ev;

	nj_fuse_fmt_time(start + 5, ts, sizeof(ts));
	nj_fuse_fmt_time(start, st, sizeof(st));
	snprintf(buf, sizeof(buf),
		 "{\"timestamp\":\"%s\",\"event_type\":\"flow\",\"community_id\":\"%s\","
		 "\"src_ip\":\"10.0.0.2\",\"dest_ip\":\"10.0.0.9\",\"proto\":\"TCP\","
		 "\"flow\":{\"start\":\"%s\"},\"tcp\":{\"syn\":true}}",
		 ts, cid, st);
	ev = json_loads(buf, 0, NULL);
	CHECK(ev != NULL);
	CHECK(nj_fuse_add_eve(f, ev, false) == 0);
	json_decref(ev);
}

static void add_ev(struct nj_fuse *f, const char *js)
{
	json_t *ev = json_loads(js, 0, NULL);

	CHECK(ev != NULL);
	CHECK(nj_fuse_add_eve(f, ev, false) == 0);
	json_decref(ev);
}

static void test_joins(void)
{
	/* Community ID of tcp 10.0.0.2:40000 -> 10.0.0.9:443 and :40001 */
	const char *cid0 = "1:lXfwIhInK8+zjfbJT7W3DngahBc=";
	struct nj_fuse_cfg cfg;
	struct nj_fuse *f;
	unsigned e, n, p;
	double off;

	nj_fuse_cfg_default(&cfg);
	f = nj_fuse_create(&cfg, sink, NULL);
	CHECK(f != NULL);
	/* within the window (11 s skew): joined, once */
	eid3(f, "h1", 1, 1000.0, 40000);
	n_out = 0;
	flow(f, 1011.0, cid0);
	CHECK(n_out == 1);
	CHECK(strstr(last, "\"method\":\"community_id\"") && strstr(last, "\"record_id\":1"));
	/* a second sensor's copy of the flow: suppressed */
	flow(f, 1011.007, cid0);
	CHECK(n_out == 1 && nj_fuse_counters(f)->dup_suppressed == 1);
	/* a second unambiguous join teaches the host offset */
	eid3(f, "h1", 2, 2000.0, 40000);
	flow(f, 2011.2, cid0);
	CHECK(n_out == 2);
	CHECK(nj_fuse_host_offset(f, "h1", &off) && fabs(off - 11.1) < 0.2);
	/* late endpoint record: the flow came first */
	flow(f, 3011.0, cid0);
	CHECK(n_out == 2);
	eid3(f, "h1", 3, 3000.0, 40000);
	CHECK(n_out == 3 && strstr(last, "\"record_id\":3"));
	/* a file on a later reuse of the port is not the earlier record's (record 3's flow ended) */
	add_ev(f, "{\"timestamp\":\"1970-01-01T01:06:40.000000+0000\",\"event_type\":\"fileinfo\","
		  "\"community_id\":\"1:lXfwIhInK8+zjfbJT7W3DngahBc=\",\"fileinfo\":{\"filename\":"
		  "\"/x\",\"size\":3}}");
	CHECK(n_out == 3);
	/* within the flow's span it is */
	add_ev(f, "{\"timestamp\":\"1970-01-01T00:50:13.000000+0000\",\"event_type\":\"fileinfo\","
		  "\"community_id\":\"1:lXfwIhInK8+zjfbJT7W3DngahBc=\",\"fileinfo\":{\"filename\":"
		  "\"/y\",\"size\":3}}");
	CHECK(n_out == 4 && strstr(last, "\"record_id\":3") && strstr(last, "\"fileinfo\""));
	n_out = 3;
	/* outside the window: never joined */
	eid3(f, "h2", 4, 5000.0, 40000);
	flow(f, 5100.0, cid0);
	CHECK(n_out == 3);
	nj_fuse_destroy(f);

	/* expiry: counted, and an expired record cannot join */
	nj_fuse_cfg_default(&cfg);
	cfg.retention = 60;
	cfg.net_retention = 30;
	f = nj_fuse_create(&cfg, sink, NULL);
	n_out = 0;
	eid3(f, "h1", 1, 1000.0, 40000);
	nj_fuse_held(f, &e, &n, &p);
	CHECK(e == 1);
	nj_fuse_advance(f, 1059.0);
	nj_fuse_held(f, &e, &n, &p);
	CHECK(e == 1);
	nj_fuse_advance(f, 1061.0);
	nj_fuse_held(f, &e, &n, &p);
	CHECK(e == 0 && nj_fuse_counters(f)->expired_ep == 1);
	flow(f, 1001.0, cid0);
	CHECK(n_out == 0);
	nj_fuse_held(f, &e, &n, &p);
	CHECK(n == 1);
	nj_fuse_advance(f, 1200.0);
	nj_fuse_held(f, &e, &n, &p);
	CHECK(n == 0 && nj_fuse_counters(f)->expired_net == 1);
	nj_fuse_destroy(f);

	/* caps: memory stays bounded, evictions counted */
	nj_fuse_cfg_default(&cfg);
	cfg.max_ep = 10;
	f = nj_fuse_create(&cfg, sink, NULL);
	for (unsigned i = 0; i < 25; i++)
		eid3(f, "h1", i, 1000.0 + i, 30000 + i);
	nj_fuse_held(f, &e, &n, &p);
	CHECK(e == 10 && nj_fuse_counters(f)->evicted_ep == 15);
	nj_fuse_destroy(f);
}

static struct nj_fuse_ep mk(const char *host, int eid, uint64_t rec, double t)
{
	struct nj_fuse_ep ep = {0};

	ep.host = strdup(host);
	ep.eid = eid;
	ep.record_id = rec;
	ep.time = t;
	ep.pid = 200;
	ep.ppid = -1;
	ep.initiated = -1;
	return ep;
}

/* The fallbacks and the non-flow joins. */
static void test_other_joins(void)
{
	struct nj_fuse_cfg cfg;
	struct nj_fuse *f;
	struct nj_fuse_ep ep;

	/* NAT: 10.0.0.2 leaves as 198.51.100.7 with a new source port */
	nj_fuse_cfg_default(&cfg);
	CHECK(nj_fuse_cfg_set(&cfg, "nat=10.0.0.2=198.51.100.7") == 0);
	f = nj_fuse_create(&cfg, sink, NULL);
	n_out = 0;
	eid3(f, "h1", 1, 1000.0, 40000);
	add_ev(f,
	       "{\"timestamp\":\"2023-11-14T22:13:30.000000+0000\",\"event_type\":\"flow\","
	       "\"community_id\":\"1:x\",\"src_ip\":\"198.51.100.7\",\"src_port\":61000,"
	       "\"dest_ip\":\"10.0.0.9\",\"dest_port\":443,\"proto\":\"TCP\",\"flow\":{\"start\":"
	       "\"1970-01-01T00:16:41.000000+0000\"}}");
	/* decided once late records had their chance */
	CHECK(n_out == 0);
	nj_fuse_flush(f);
	CHECK(n_out == 1 && strstr(last, "\"method\":\"nat\""));
	/* a flow to another port does not join */
	eid3(f, "h1", 2, 1100.0, 40001);
	add_ev(f,
	       "{\"timestamp\":\"1970-01-01T00:18:25.000000+0000\",\"event_type\":\"flow\","
	       "\"community_id\":\"1:y\",\"src_ip\":\"198.51.100.7\",\"src_port\":61001,"
	       "\"dest_ip\":\"10.0.0.9\",\"dest_port\":8443,\"proto\":\"TCP\",\"flow\":{\"start\":"
	       "\"1970-01-01T00:18:21.000000+0000\"}}");
	nj_fuse_flush(f);
	CHECK(n_out == 1);
	nj_fuse_destroy(f);

	/*
	 * NAT ambiguity: two inside hosts behind one address, their clocks known
	 * only to the window. A flow two records fit, or a record two flows fit,
	 * is declined and counted, never guessed; a pair far from the others joins.
	 */
	nj_fuse_cfg_default(&cfg);
	CHECK(nj_fuse_cfg_set(&cfg, "nat=10.0.0.2=198.51.100.7") == 0);
	CHECK(nj_fuse_cfg_set(&cfg, "nat=10.0.0.3=198.51.100.7") == 0);
	f = nj_fuse_create(&cfg, sink, NULL);
	n_out = 0;
	eid3_from(f, "h1", "10.0.0.2", 1, 2000.0, 40000);
	eid3_from(f, "h2", "10.0.0.3", 2, 2001.0, 40000);
	nat_flow(f, 2000.6, 61000, "1:n1");
	nj_fuse_advance(f, 2100);
	CHECK(n_out == 0 && nj_fuse_counters(f)->ambiguous == 1);
	/* one record, two flows that fit it */
	eid3_from(f, "h1", "10.0.0.2", 3, 3000.0, 40001);
	nat_flow(f, 3000.2, 61001, "1:n2");
	nat_flow(f, 3001.0, 61002, "1:n3");
	nj_fuse_advance(f, 3100);
	CHECK(n_out == 0 && nj_fuse_counters(f)->ambiguous == 3);
	/* apart in time: each flow has one record and each record one flow */
	eid3_from(f, "h1", "10.0.0.2", 4, 4000.0, 40002);
	eid3_from(f, "h2", "10.0.0.3", 5, 4010.0, 40002);
	nat_flow(f, 4000.3, 61003, "1:n4");
	nat_flow(f, 4010.2, 61004, "1:n5");
	nj_fuse_advance(f, 4100);
	CHECK(n_out == 2 && nj_fuse_counters(f)->joins_nat == 2 &&
	      nj_fuse_counters(f)->ambiguous == 3);
	/* a record written after its flow was decided still joins when it is the one */
	nat_flow(f, 5000.0, 61005, "1:n6");
	nj_fuse_advance(f, 5100);
	CHECK(n_out == 2);
	eid3_from(f, "h2", "10.0.0.3", 6, 5000.5, 40003);
	CHECK(n_out == 3 && strstr(last, "\"record_id\":6") && strstr(last, "\"nat\""));
	/*
	 * A key so busy that its oldest entries were trimmed from the index while
	 * they could still have competed: not joined (here the trimmed ones were
	 * 10 s off and would not have fitted, but that is no longer known).
	 */
	for (unsigned i = 0; i < 1024; i++)
		eid3_from(f, "h1", "10.0.0.2", 100 + i, 5990.0 + i * 0.001, 41000 + i);
	eid3_from(f, "h2", "10.0.0.3", 7, 6000.0, 40004);
	nat_flow(f, 6000.3, 61006, "1:n7");
	nj_fuse_advance(f, 6100);
	CHECK(n_out == 3 && nj_fuse_counters(f)->ambiguous == 4);
	nj_fuse_destroy(f);

	/* dns_name: the endpoint resolved a name; a proxy's flow names it in TLS SNI */
	nj_fuse_cfg_default(&cfg);
	f = nj_fuse_create(&cfg, sink, NULL);
	n_out = 0;
	ep = mk("h1", 22, 5, 999.0);
	ep.query_name = strdup("evil.example");
	ep.query_results = strdup("::ffff:10.0.0.9;");
	CHECK(nj_fuse_add_endpoint(f, &ep, false) == 0);
	nj_fuse_ep_free(&ep);
	eid3(f, "h1", 6, 1000.0, 40000);
	add_ev(f,
	       "{\"timestamp\":\"1970-01-01T00:16:41.000000+0000\",\"event_type\":\"tls\","
	       "\"community_id\":\"1:proxied\",\"src_ip\":\"192.0.2.1\",\"src_port\":5000,"
	       "\"dest_ip\":\"203.0.113.5\",\"dest_port\":443,\"tls\":{\"sni\":\"EVIL.example\"}}");
	CHECK(n_out == 1 && strstr(last, "\"method\":\"dns_name\"") &&
	      strstr(last, "\"record_id\":6"));
	/* once the endpoint's own address shows on the wire, no guessing by name */
	flow(f, 900.0, "1:other");
	eid3(f, "h1", 12, 1010.0, 40002);
	add_ev(f,
	       "{\"timestamp\":\"1970-01-01T00:16:51.000000+0000\",\"event_type\":\"tls\","
	       "\"community_id\":\"1:proxied2\",\"src_ip\":\"192.0.2.1\",\"src_port\":5001,"
	       "\"dest_ip\":\"203.0.113.5\",\"dest_port\":443,\"tls\":{\"sni\":\"evil.example\"}}");
	CHECK(n_out == 1);
	/* an IP-literal name never joins by name */
	add_ev(f, "{\"timestamp\":\"1970-01-01T00:16:41.000000+0000\",\"event_type\":\"http\","
		  "\"community_id\":\"1:ip\",\"src_ip\":\"192.0.2.1\",\"dest_ip\":\"10.0.0.9\","
		  "\"dest_port\":443,\"http\":{\"hostname\":\"10.0.0.9\"}}");
	CHECK(n_out == 1);

	/* dns_query: suffix added on the wire; the nearest record wins; decided late */
	ep = mk("h1", 22, 7, 1500.000);
	ep.query_name = strdup("WORKSTATION6");
	CHECK(nj_fuse_add_endpoint(f, &ep, false) == 0);
	nj_fuse_ep_free(&ep);
	add_ev(f, "{\"timestamp\":\"1970-01-01T00:25:01.100000+0000\",\"event_type\":\"dns\","
		  "\"community_id\":\"1:dns\",\"src_ip\":\"10.0.0.2\",\"src_port\":5353,"
		  "\"dest_ip\":\"10.0.0.53\",\"dest_port\":53,\"dns\":{\"type\":\"request\","
		  "\"id\":7,\"queries\":[{\"rrname\":\"workstation6.corp.local\",\"rrtype\":\"A\"}]"
		  "}}");
	CHECK(n_out == 1); /* pending */
	ep = mk("h1", 22, 8, 1501.050);
	ep.query_name = strdup("WORKSTATION6");
	CHECK(nj_fuse_add_endpoint(f, &ep, false) == 0);
	nj_fuse_ep_free(&ep);
	add_ev(f, "{\"timestamp\":\"1970-01-01T00:25:01.101000+0000\",\"event_type\":\"dns\","
		  "\"community_id\":\"1:dns\",\"dns\":{\"type\":\"response\",\"id\":7,"
		  "\"answers\":[{\"rrtype\":\"A\",\"rdata\":\"10.0.0.6\"}]}}");
	nj_fuse_advance(f, 1600);
	CHECK(strstr(last, "\"answers_match\":false") && strstr(last, "\"wire_answers\""));
	CHECK(n_out == 2 && strstr(last, "\"method\":\"dns_query\"") &&
	      strstr(last, "\"record_id\":8"));
	nj_fuse_destroy(f);

	/* sha256 (case-insensitive, either order) and SMB file name -> EID 11 */
	nj_fuse_cfg_default(&cfg);
	CHECK(nj_fuse_cfg_set(&cfg, "host=WS6=172.18.39.6") == 0);
	f = nj_fuse_create(&cfg, sink, NULL);
	n_out = 0;
	ep = mk("WS6", 11, 9, 2000.0);
	ep.target = strdup("C:\\Windows\\System32\\wbem\\wbemcomn.dll");
	CHECK(nj_fuse_add_endpoint(f, &ep, false) == 0);
	nj_fuse_ep_free(&ep);
	add_ev(f,
	       "{\"timestamp\":\"1970-01-01T00:33:20.012000+0000\",\"event_type\":\"fileinfo\","
	       "\"community_id\":\"1:smb\",\"src_ip\":\"172.18.39.5\",\"src_port\":50963,"
	       "\"dest_ip\":\"172.18.39.6\",\"dest_port\":445,\"smb\":{},\"fileinfo\":{"
	       "\"filename\":\"Windows\\\\System32\\\\wbem\\\\wbemcomn.dll\",\"size\":214528,"
	       "\"sha256\":\"5cffeebc4be60d76e6a38b6c41e3ba993c47fb125b7b1df5c2ed9a7f4f7b9d16\"}}");
	CHECK(n_out == 1 && strstr(last, "\"method\":\"file_name\""));
	ep = mk("WS6", 7, 10, 2030.0);
	ep.sha256 = strdup("5cffeebc4be60d76e6a38b6c41e3ba993c47fb125b7b1df5c2ed9a7f4f7b9d16");
	CHECK(nj_fuse_add_endpoint(f, &ep, false) == 0);
	nj_fuse_ep_free(&ep);
	CHECK(n_out == 2 && strstr(last, "\"method\":\"sha256\"") &&
	      strstr(last, "\"record_id\":10"));
	/* the same file from a second sensor: no second join */
	add_ev(f,
	       "{\"timestamp\":\"1970-01-01T00:33:20.019000+0000\",\"event_type\":\"fileinfo\","
	       "\"community_id\":\"1:smb\",\"src_ip\":\"172.18.39.5\",\"src_port\":50963,"
	       "\"dest_ip\":\"172.18.39.6\",\"dest_port\":445,\"smb\":{},\"fileinfo\":{"
	       "\"filename\":\"Windows\\\\System32\\\\wbem\\\\wbemcomn.dll\",\"size\":214528,"
	       "\"sha256\":\"5cffeebc4be60d76e6a38b6c41e3ba993c47fb125b7b1df5c2ed9a7f4f7b9d16\"}}");
	CHECK(n_out == 2);
	/* a file written on another host's share never joins WS6's EID 11 */
	ep = mk("WS6", 11, 11, 2100.0);
	ep.target = strdup("C:\\x\\a.exe");
	CHECK(nj_fuse_add_endpoint(f, &ep, false) == 0);
	nj_fuse_ep_free(&ep);
	add_ev(f, "{\"timestamp\":\"1970-01-01T00:35:00.000000+0000\",\"event_type\":\"smb\","
		  "\"src_ip\":\"172.18.39.5\",\"src_port\":5000,\"dest_ip\":\"172.18.39.7\","
		  "\"dest_port\":445,\"smb\":{\"command\":\"SMB2_COMMAND_CREATE\",\"filename\":"
		  "\"x\\\\a.exe\"}}");
	CHECK(n_out == 2);
	nj_fuse_destroy(f);
}

/* An osquery results-log row, fed to the join state. */
static void osq(struct nj_fuse *f, const char *line)
{
	struct nj_fuse_ep ep;

	CHECK(parse(NJ_FUSE_FMT_OSQUERY, line, &ep) == NJ_FUSE_OK);
	CHECK(nj_fuse_add_endpoint(f, &ep, false) == 0);
	nj_fuse_ep_free(&ep);
}

#define OSQ_SHA "9f480191dd6d43eb7a0e1b838ca45c2e958eed9768c377ab74ccfb8ec93dc5ae"
#define OSQ_WRITE(t, rec, pid, exe, path)                                                      \
	"{\"name\":\"process_file_events\",\"hostIdentifier\":\"lnx\",\"unixTime\":" t         \
	",\"counter\":" rec ",\"action\":\"added\",\"columns\":{\"operation\":\"write\","      \
	"\"pid\":\"" pid "\",\"ppid\":\"1\",\"executable\":\"" exe "\",\"path\":\"" path "\"," \
	"\"dest_path\":\"\",\"time\":\"" t "\"}}"
#define OSQ_FILE(t, rec, path)                                                                     \
	"{\"name\":\"file_events\",\"hostIdentifier\":\"lnx\",\"unixTime\":" t ",\"counter\":" rec \
	",\"action\":\"added\",\"columns\":{\"target_path\":\"" path "\",\"action\":\"CREATED\","  \
	"\"md5\":\"0cc175b9c0f1b6a831c399e269772661\",\"sha256\":\"" OSQ_SHA                       \
	"\",\"hashed\":\"1\","                                                                     \
	"\"time\":\"" t "\"}}"

static void fileinfo_at(struct nj_fuse *f, double t, const char *cid)
{
	char buf[1024], ts[48];

	nj_fuse_fmt_time(t, ts, sizeof(ts));
	snprintf(buf, sizeof(buf),
		 "{\"timestamp\":\"%s\",\"event_type\":\"fileinfo\",\"community_id\":\"%s\","
		 "\"src_ip\":\"10.0.0.9\",\"dest_ip\":\"10.0.0.2\",\"fileinfo\":{\"filename\":"
		 "\"/a.pdf\",\"size\":1000,\"sha256\":\"" OSQ_SHA "\"}}",
		 ts, cid);
	add_ev(f, buf);
}

/*
 * osquery's real file tables: process_file_events says who wrote a path,
 * file_events (with hashes) and hash say what is in it; the hash record joins
 * the carved file and carries the writer, in either arrival order.
 */
static void test_osquery_files(void)
{
	struct nj_fuse_cfg cfg;
	struct nj_fuse *f;
	struct nj_fuse_ep ep;

	CHECK(parse(NJ_FUSE_FMT_AUTO, OSQ_WRITE("2000", "20", "1664", "/usr/bin/curl", "/d/a.pdf"),
		    &ep) == NJ_FUSE_OK);
	CHECK(ep.eid == 11 && ep.pid == 1664 && ep.ppid == 1 && !strcmp(ep.target, "/d/a.pdf") &&
	      !strcmp(ep.image, "/usr/bin/curl") && !ep.sha256);
	nj_fuse_ep_free(&ep);
	CHECK(parse(NJ_FUSE_FMT_AUTO, OSQ_FILE("2002", "21", "/d/a.pdf"), &ep) == NJ_FUSE_OK);
	CHECK(ep.eid == 15 && ep.pid == -1 && !ep.image && !strcmp(ep.target, "/d/a.pdf") &&
	      !strcmp(ep.sha256, OSQ_SHA) && ep.record_id == 21);
	nj_fuse_ep_free(&ep);
	/* FIM without hashing: a bare file change */
	CHECK(parse(NJ_FUSE_FMT_OSQUERY,
		    "{\"name\":\"file_events\",\"hostIdentifier\":\"lnx\",\"unixTime\":5,"
		    "\"columns\":{\"target_path\":\"/etc/x\",\"action\":\"UPDATED\",\"md5\":\"\","
		    "\"sha256\":\"\",\"time\":\"5\"}}",
		    &ep) == NJ_FUSE_OK);
	CHECK(ep.eid == 11 && !ep.sha256 && !strcmp(ep.target, "/etc/x"));
	nj_fuse_ep_free(&ep);
	CHECK(parse(NJ_FUSE_FMT_OSQUERY,
		    "{\"name\":\"pack_fim_hash\",\"hostIdentifier\":\"lnx\",\"unixTime\":5,"
		    "\"columns\":{\"path\":\"/tmp/y\",\"directory\":\"/tmp\",\"sha256\":\"" OSQ_SHA
		    "\"}}",
		    &ep) == NJ_FUSE_OK);
	CHECK(ep.eid == 15 && !ep.image && !strcmp(ep.target, "/tmp/y") && ep.time == 5.0);
	nj_fuse_ep_free(&ep);

	nj_fuse_cfg_default(&cfg);
	f = nj_fuse_create(&cfg, sink, NULL);
	n_out = 0;
	/* write row, carved file, hash row */
	osq(f, OSQ_WRITE("2000", "20", "1664", "/usr/bin/curl", "/d/a.pdf"));
	fileinfo_at(f, 2001.5, "1:f1");
	osq(f, OSQ_FILE("2002", "21", "/d/a.pdf"));
	CHECK(n_out == 1 && strstr(last, "\"method\":\"sha256\"") && strstr(last, "\"pid\":1664") &&
	      strstr(last, "\"image\":\"/usr/bin/curl\"") && strstr(last, "\"record_id\":21"));
	nj_fuse_destroy(f);

	/* the hash row first (same second): decided once the write row had its chance */
	f = nj_fuse_create(&cfg, sink, NULL);
	n_out = 0;
	fileinfo_at(f, 2999.5, "1:f2");
	osq(f, OSQ_FILE("3000", "31", "/d/b.pdf"));
	osq(f, OSQ_WRITE("3000", "30", "777", "/usr/bin/wget", "/d/b.pdf"));
	CHECK(n_out == 0);
	nj_fuse_advance(f, 3040);
	CHECK(n_out == 1 && strstr(last, "\"pid\":777") && strstr(last, "\"record_id\":31"));
	nj_fuse_destroy(f);

	/* two processes wrote the path in that second: the file joins, the writer is not guessed */
	f = nj_fuse_create(&cfg, sink, NULL);
	n_out = 0;
	osq(f, OSQ_WRITE("4000", "40", "11", "/usr/bin/curl", "/d/c.pdf"));
	osq(f, OSQ_WRITE("4000", "41", "12", "/usr/bin/cp", "/d/c.pdf"));
	fileinfo_at(f, 4000.2, "1:f3");
	osq(f, OSQ_FILE("4001", "42", "/d/c.pdf"));
	CHECK(n_out == 1 && !strstr(last, "\"pid\"") && nj_fuse_counters(f)->ambiguous == 1);
	nj_fuse_destroy(f);
}

static void test_config(void)
{
	struct nj_fuse_cfg cfg;

	nj_fuse_cfg_default(&cfg);
	CHECK(nj_fuse_cfg_set(&cfg, "fuse.window=20") == 0 && cfg.window == 20);
	CHECK(nj_fuse_cfg_set(&cfg, "nat=10.0.0.2=198.51.100.7") == 0 && cfg.n_nat == 1);
	CHECK(!strcmp(cfg.nat[0].outside, "198.51.100.7"));
	CHECK(nj_fuse_cfg_set(&cfg, "nat=10.0.0.2") < 0);
	CHECK(nj_fuse_cfg_set(&cfg, "window=-1") < 0);
	CHECK(nj_fuse_cfg_set(&cfg, "window=abc") < 0);
	CHECK(nj_fuse_cfg_set(&cfg, "nosuchkey=1") < 0);
	CHECK(nj_fuse_cfg_set(&cfg, "host=WS5=172.18.39.5") == 0 && cfg.n_hosts == 1);
}

/* The zstd reader resumes mid-frame from a saved position. */
static void test_reader(void)
{
	char path[] = "/tmp/nj-fuse-test-XXXXXX.zst";
	int fd = mkstemps(path, 4);
	struct nj_fuse_writer *w;
	struct nj_fuse_reader *r;
	struct nj_fuse_pos pos;
	const char *line;
	size_t len;
	char want[32];

	CHECK(fd >= 0);
	close(fd);
	w = nj_fuse_writer_open(path, 0);
	CHECK(w != NULL);
	for (int i = 0; i < 300; i++) {
		char l[32];

		snprintf(l, sizeof(l), "line %d", i);
		nj_fuse_writer_line(w, l, strlen(l));
		if (i % 7 == 6)
			nj_fuse_writer_flush(w); /* a frame per flush */
	}
	nj_fuse_writer_close(w);
	r = nj_fuse_reader_open(path, NULL);
	CHECK(r != NULL);
	for (int i = 0; i < 150; i++)
		CHECK(nj_fuse_reader_next(r, true, &line, &len) == 1);
	nj_fuse_reader_pos(r, &pos);
	CHECK(pos.line_no == 150 && pos.skip > 0);
	nj_fuse_reader_close(r);
	r = nj_fuse_reader_open(path, &pos);
	CHECK(nj_fuse_reader_next(r, true, &line, &len) == 1);
	CHECK(!strcmp(line, "line 150"));
	for (int i = 151; i < 300; i++)
		CHECK(nj_fuse_reader_next(r, true, &line, &len) == 1);
	snprintf(want, sizeof(want), "line %d", 299);
	CHECK(!strcmp(line, want));
	CHECK(nj_fuse_reader_next(r, true, &line, &len) == 0);
	nj_fuse_reader_close(r);
	unlink(path);
}

int main(void)
{
	test_adapters();
	test_joins();
	test_other_joins();
	test_osquery_files();
	test_config();
	test_reader();
	if (!failures)
		printf("fuse: all checks passed\n");
	return failures != 0;
}
