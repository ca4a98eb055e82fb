/* SPDX-License-Identifier: MIT */
/*
 * EVE output system: sinks with type masks, zstd frames readable while the
 * file is open, rotation, live-mode drops, tick flushing, and the JSON shape
 * of flow, netflow, anomaly and stats events.
 */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <zstd.h>

#include "dataplane/flow.h"
#include "dataplane/pkt.h"
#include "export/eve.h"

#include "tests/nj_test.h"

#define T(t) (1u << (t))

static char dir[256];

/* ------------------------------------------------------------ helpers */

static char *read_file(const char *path, size_t *n)
{
	FILE *fp = fopen(path, "rb");
	char *b;
	long sz;

	*n = 0;
	if (!fp)
		return NULL;
	fseek(fp, 0, SEEK_END);
	sz = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	b = malloc((size_t)sz + 1);
	if (b && fread(b, 1, (size_t)sz, fp) != (size_t)sz) {
		free(b);
		b = NULL;
	}
	fclose(fp);
	if (b) {
		b[sz] = '\0';
		*n = (size_t)sz;
	}
	return b;
}

/* Decompresses every frame; returns the text (NUL-terminated) or NULL if any frame is bad. */
static char *unzstd(const char *z, size_t zn, size_t *outn, unsigned *frames)
{
	size_t cap = 1 << 20, len = 0;
	char *out = malloc(cap);

	*frames = 0;
	while (zn) {
		size_t fs = ZSTD_findFrameCompressedSize(z, zn);
		unsigned long long cs = ZSTD_getFrameContentSize(z, zn);
		size_t r;

		if (ZSTD_isError(fs) || cs == ZSTD_CONTENTSIZE_ERROR ||
		    cs == ZSTD_CONTENTSIZE_UNKNOWN) {
			free(out);
			return NULL;
		}
		while (len + cs + 1 > cap)
			cap *= 2;
		out = realloc(out, cap);
		r = ZSTD_decompress(out + len, cap - len, z, fs);
		if (ZSTD_isError(r) || r != cs) {
			free(out);
			return NULL;
		}
		len += r;
		z += fs;
		zn -= fs;
		(*frames)++;
	}
	out[len] = '\0';
	*outn = len;
	return out;
}

struct counts {
	unsigned lines, bad, by_type[NJ_EVE_TYPE_MAX];
};

/* Every line must be one JSON object with an event_type. */
static void count_lines(const char *s, size_t n, struct counts *c)
{
	const char *p = s, *end = s + n;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		json_error_t e;
		json_t *v;
		int t;

		if (!nl) {
			c->bad++; /* a frame never ends mid-line */
			break;
		}
		v = json_loadb(p, (size_t)(nl - p), 0, &e);
		c->lines++;
		t = v ? nj_eve_type_parse(json_string_value(json_object_get(v, "event_type"))) : -1;
		if (t < 0)
			c->bad++;
		else
			c->by_type[t]++;
		json_decref(v);
		p = nl + 1;
	}
}

static void mk_flow(struct nj_flow *f, uint8_t proto, unsigned i)
{
	memset(f, 0, sizeof(*f));
	f->proto = proto;
	f->client = 1; /* client is the higher side: exercises orientation */
	f->addr[0][0] = 10;
	f->addr[0][3] = 1;
	f->addr[1][0] = 10;
	f->addr[1][3] = 2;
	f->port[0] = 80;
	f->port[1] = (uint16_t)(40000 + i % 1000);
	f->flow_id = 1000000 + i;
	f->start_us = 1491603877251547ull; /* 2017-04-07T22:24:37.251547 */
	f->last_us = f->start_us + 3 * 1000000 + 5;
	f->pkts_ts = 3;
	f->pkts_tc = 2;
	f->bytes_ts = 300;
	f->bytes_tc = 200;
	f->state = NJ_FLOW_STATE_CLOSED;
	if (proto == 6) {
		f->tcp_flags_ts = 0x1b;
		f->tcp_flags_tc = 0x12;
		f->tcp_state = NJ_TCP_CLOSED;
	}
	if (proto == 1) {
		f->port[0] = 0; /* reply type 0 <-> request 8 */
		f->port[1] = 8;
		f->icmp_seen[0] = f->icmp_seen[1] = 1;
		f->icmp_type[0] = 8;
		f->icmp_type[1] = 0;
	}
}

/* A packet whose IPv4 header is present but whose L4 is not. */
static uint8_t anom_bytes[34];

static void mk_anomaly_pkt(struct nj_pkt *p)
{
	memset(p, 0, sizeof(*p));
	memset(anom_bytes, 0, sizeof(anom_bytes));
	anom_bytes[14] = 0x45;
	anom_bytes[14 + 9] = 6;
	memcpy(anom_bytes + 14 + 12, "\xc0\xa8\x01\x01\xc0\xa8\x01\x02", 8);
	p->data = anom_bytes;
	p->len = sizeof(anom_bytes);
	p->l3_off = 14;
	p->flags = NJ_PKT_IPV4 | NJ_PKT_INVALID;
	p->proto = 6;
	p->seq = 7;
	p->ts_us = 1491603877000001ull;
}

static void cfg_init(struct nj_eve_config *c)
{
	nj_eve_config_defaults(c);
	c->offline = true;
	c->nsinks = 2;
	snprintf(c->sinks[0].path, sizeof(c->sinks[0].path), "%s/eve.json.zst", dir);
	c->sinks[0].zstd = true;
	c->sinks[0].zstd_level = 3;
	c->sinks[0].types = T(NJ_EVE_FLOW) | T(NJ_EVE_ANOMALY) | T(NJ_EVE_STATS);
	snprintf(c->sinks[1].path, sizeof(c->sinks[1].path), "%s/flows.json", dir);
	c->sinks[1].zstd = false;
	c->sinks[1].types = T(NJ_EVE_FLOW) | T(NJ_EVE_NETFLOW);
}

/* ------------------------------------------------------------ tests */

static void test_defaults(void)
{
	struct nj_eve_config c;

	nj_eve_config_defaults(&c);
	CHECK(c.nsinks == 1 && c.sinks[0].zstd && c.sinks[0].zstd_level == 3);
	CHECK(strcmp(c.sinks[0].path, "eve.json.zst") == 0);
	CHECK(c.sinks[0].types == NJ_EVE_JSON_TYPES);
	CHECK(c.buffer_bytes == 256 * 1024 && c.flush_ms == 1000 && c.ring_frames == 8);
	CHECK(!c.community_id && c.community_id_seed == 0);
	CHECK(nj_eve_type_parse("files") == NJ_EVE_FILEINFO);
	CHECK(nj_eve_type_parse("flow") == NJ_EVE_FLOW);
	CHECK(nj_eve_type_parse("nope") == -1);
	CHECK(strcmp(nj_eve_type_name(NJ_EVE_NETFLOW), "netflow") == 0);
}

static void test_ts(void)
{
	char b[40];

	nj_eve_format_ts(b, 1491603877251547ull);
	CHECK(strcmp(b, "2017-04-07T22:24:37.251547+0000") == 0);
	nj_eve_format_ts(b, 0);
	CHECK(strcmp(b, "1970-01-01T00:00:00.000000+0000") == 0);
	nj_eve_format_ts(b, 951782400000000ull + 59); /* 2000-02-29 (leap day) */
	CHECK(strcmp(b, "2000-02-29T00:00:00.000059+0000") == 0);
	nj_eve_format_ts(b, 4102444799999999ull);
	CHECK(strcmp(b, "2099-12-31T23:59:59.999999+0000") == 0);
}

/* Two workers and the control handle into a zstd sink and a plain sink. */
static void test_sinks(void)
{
	enum { NW = 2, NFLOW = 3000 };
	struct nj_eve_config c;
	struct nj_eve *eve;
	struct nj_flow f;
	struct nj_pkt p;
	char err[256], path[4352];
	size_t n, tn;
	unsigned frames;
	char *z, *txt;
	struct counts cz = {0}, cp = {0};
	static const char *const names[] = {"flow.tcp", "decoder.pkts",
					    "decoder.event.ipv4.trunc_pkt"};
	static const uint64_t vals[] = {5, 10, 2};

	cfg_init(&c);
	c.buffer_bytes = 64 * 1024; /* several frames */
	eve = nj_eve_open(&c, NW, err, sizeof(err));
	CHECK(eve != NULL);
	if (!eve) {
		fprintf(stderr, "%s\n", err);
		return;
	}
	CHECK(nj_eve_worker(eve, NW) != NULL);
	CHECK(nj_eve_worker(eve, NW + 1) == NULL);
	CHECK(nj_eve_wants(nj_eve_worker(eve, 0), NJ_EVE_NETFLOW));
	CHECK(!nj_eve_wants(nj_eve_worker(eve, 0), NJ_EVE_ALERT));

	/* a flushed frame can be read while the file is open */
	mk_flow(&f, 6, 0);
	nj_eve_log_flow(nj_eve_worker(eve, 0), &f, NJ_FLOW_END_TIMEOUT, "http");
	nj_eve_worker_flush(nj_eve_worker(eve, 0));
	snprintf(path, sizeof(path), "%s/eve.json.zst", dir);
	for (int i = 0; i < 2000; i++) {
		struct stat st;

		if (stat(path, &st) == 0 && st.st_size > 0)
			break;
		usleep(1000);
	}
	z = read_file(path, &n);
	txt = z ? unzstd(z, n, &tn, &frames) : NULL;
	CHECK(txt != NULL && frames == 1);
	if (txt) {
		struct counts c1 = {0};

		count_lines(txt, tn, &c1);
		CHECK(c1.lines == 1 && c1.bad == 0 && c1.by_type[NJ_EVE_FLOW] == 1);
	}
	free(z);
	free(txt);

	for (unsigned i = 1; i < NFLOW; i++) {
		struct nj_eve_worker *w = nj_eve_worker(eve, i % NW);

		mk_flow(&f, i % 3 == 0 ? 17 : 6, i);
		nj_eve_log_flow(w, &f, NJ_FLOW_END_TIMEOUT, NULL);
		nj_eve_log_netflow(w, &f);
		if (i % 10 == 0) {
			mk_anomaly_pkt(&p);
			nj_eve_log_decode_anomaly(w, &p, "ipv4.trunc_pkt", false);
		}
	}
	nj_eve_log_stats(nj_eve_worker(eve, NW), 1491603877000000ull, 42, names, vals, 3);
	CHECK(nj_eve_worker_stats(nj_eve_worker(eve, 0))->events[NJ_EVE_FLOW] == NFLOW / 2);
	CHECK(nj_eve_worker_stats(nj_eve_worker(eve, 0))->frames > 2);
	for (unsigned i = 0; i <= NW; i++)
		nj_eve_worker_flush(nj_eve_worker(eve, i));
	nj_eve_close(eve);

	z = read_file(path, &n);
	txt = z ? unzstd(z, n, &tn, &frames) : NULL;
	CHECK(txt != NULL);
	if (txt)
		count_lines(txt, tn, &cz);
	CHECK(cz.bad == 0);
	CHECK(cz.by_type[NJ_EVE_FLOW] == NFLOW);
	CHECK(cz.by_type[NJ_EVE_ANOMALY] == (NFLOW - 1) / 10);
	CHECK(cz.by_type[NJ_EVE_STATS] == 1);
	CHECK(cz.by_type[NJ_EVE_NETFLOW] == 0);
	CHECK(frames > 2);
	free(z);
	free(txt);

	snprintf(path, sizeof(path), "%s/flows.json", dir);
	txt = read_file(path, &tn);
	CHECK(txt != NULL);
	if (txt)
		count_lines(txt, tn, &cp);
	CHECK(cp.bad == 0);
	CHECK(cp.by_type[NJ_EVE_FLOW] == NFLOW);
	CHECK(cp.by_type[NJ_EVE_NETFLOW] == 2 * (NFLOW - 1)); /* both directions saw packets */
	CHECK(cp.by_type[NJ_EVE_ANOMALY] == 0 && cp.by_type[NJ_EVE_STATS] == 0);
	free(txt);
}

/* Formats one event through a plain sink and returns it parsed. */
static json_t *one_event(struct nj_eve_config *c, void (*emit)(struct nj_eve_worker *, void *),
			 void *arg)
{
	struct nj_eve *eve;
	char err[256], path[4352];
	size_t n;
	char *txt;
	json_t *v = NULL;
	json_error_t e;

	c->nsinks = 1;
	c->sinks[0].zstd = false;
	c->sinks[0].types = NJ_EVE_JSON_TYPES;
	snprintf(c->sinks[0].path, sizeof(c->sinks[0].path), "%s/one.json", dir);
	snprintf(path, sizeof(path), "%s", c->sinks[0].path);
	eve = nj_eve_open(c, 1, err, sizeof(err));
	CHECK(eve != NULL);
	if (!eve)
		return NULL;
	emit(nj_eve_worker(eve, 0), arg);
	nj_eve_worker_flush(nj_eve_worker(eve, 0));
	nj_eve_close(eve);
	txt = read_file(path, &n);
	if (txt) {
		CHECK(n > 0 && txt[n - 1] == '\n' && memchr(txt, '\n', n) == txt + n - 1);
		v = json_loadb(txt, n, 0, &e);
	}
	CHECK(v != NULL);
	free(txt);
	return v;
}

static void emit_flow(struct nj_eve_worker *w, void *arg)
{
	nj_eve_log_flow(w, arg, NJ_FLOW_END_SHUTDOWN, "tls");
}

static void emit_netflow(struct nj_eve_worker *w, void *arg)
{
	nj_eve_log_netflow(w, arg);
}

static void emit_anomaly(struct nj_eve_worker *w, void *arg)
{
	nj_eve_log_decode_anomaly(w, arg, "ipv4.trunc_pkt", false);
}

static void emit_stats(struct nj_eve_worker *w, void *arg)
{
	static const char *const names[] = {
		"flow.tcp",
		"decoder.pkts",
		"decoder.event.ipv4.trunc_pkt",
		"capture.kernel_packets",
		"decoder.event.ipv6.trunc_pkt",
		"decoder.bytes",
		"flow.udp",
		"decoder.event.ipv4.opt_pad_required",
	};
	static const uint64_t vals[] = {1, 2, 3, 4, 5, 6, 7, 8};

	(void)arg;
	nj_eve_log_stats(w, 1491603877000000ull, 99, names, vals, 8);
}

#define JS(v, path) json_string_value(json_object_get_path(v, path))
#define JI(v, path) json_integer_value(json_object_get_path(v, path))

/* "a.b.c" lookup. */
static json_t *json_object_get_path(json_t *v, const char *path)
{
	char key[128];
	const char *p = path;

	while (v && *p) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);

		memcpy(key, p, n);
		key[n] = '\0';
		v = json_object_get(v, key);
		p += n + (dot ? 1 : 0);
	}
	return v;
}

static bool keys_in_order(json_t *v, const char *const *keys)
{
	const char *k;
	json_t *x;
	unsigned i = 0;

	/* jansson keeps insertion order when iterating with json_object_foreach since 2.8 */
	json_object_foreach(v, k, x)
	{
		if (!keys[i])
			return true;
		if (strcmp(k, keys[i]) == 0)
			i++;
	}
	return keys[i] == NULL;
}

static void test_flow_shape(void)
{
	struct nj_eve_config c;
	struct nj_flow f;
	json_t *v;
	static const char *const order[] = {
		"timestamp", "flow_id",	  "event_type", "src_ip",	"src_port",
		"dest_ip",   "dest_port", "proto",	"community_id", "app_proto",
		"flow",	     "tcp",	  NULL};

	nj_eve_config_defaults(&c);
	c.community_id = true;
	mk_flow(&f, 6, 7);
	f.vlan[0] = f.vlan_id[0] = 6;
	f.vlan[1] = f.vlan_id[1] = 10;
	f.alerted = 1;
	v = one_event(&c, emit_flow, &f);
	if (!v)
		return;
	CHECK(keys_in_order(v, order));
	CHECK(strcmp(JS(v, "timestamp"), "2017-04-07T22:24:40.251552+0000") == 0);
	CHECK(JI(v, "flow_id") == 1000007);
	CHECK(json_object_get(v, "pcap_cnt") == NULL);
	CHECK(strcmp(JS(v, "event_type"), "flow") == 0);
	CHECK(json_array_size(json_object_get(v, "vlan")) == 2);
	CHECK(json_integer_value(json_array_get(json_object_get(v, "vlan"), 1)) == 10);
	/* client is addr[1]/port[1] */
	CHECK(strcmp(JS(v, "src_ip"), "10.0.0.2") == 0);
	CHECK(JI(v, "src_port") == 40007);
	CHECK(strcmp(JS(v, "dest_ip"), "10.0.0.1") == 0);
	CHECK(JI(v, "dest_port") == 80);
	CHECK(JI(v, "ip_v") == 4);
	CHECK(strcmp(JS(v, "proto"), "TCP") == 0);
	CHECK(JS(v, "community_id") && strncmp(JS(v, "community_id"), "1:", 2) == 0);
	CHECK(strcmp(f.community_id, JS(v, "community_id")) == 0); /* cached */
	CHECK(strcmp(JS(v, "app_proto"), "tls") == 0);
	CHECK(JI(v, "flow.pkts_toserver") == 3 && JI(v, "flow.pkts_toclient") == 2);
	CHECK(JI(v, "flow.bytes_toserver") == 300 && JI(v, "flow.bytes_toclient") == 200);
	CHECK(strcmp(JS(v, "flow.start"), "2017-04-07T22:24:37.251547+0000") == 0);
	CHECK(strcmp(JS(v, "flow.end"), "2017-04-07T22:24:40.251552+0000") == 0);
	CHECK(json_is_integer(json_object_get_path(v, "flow.age")) && JI(v, "flow.age") == 3);
	CHECK(strcmp(JS(v, "flow.state"), "closed") == 0);
	CHECK(strcmp(JS(v, "flow.reason"), "shutdown") == 0);
	CHECK(json_is_true(json_object_get_path(v, "flow.alerted")));
	CHECK(strcmp(JS(v, "tcp.tcp_flags"), "1b") == 0);
	CHECK(strcmp(JS(v, "tcp.tcp_flags_ts"), "1b") == 0);
	CHECK(strcmp(JS(v, "tcp.tcp_flags_tc"), "12") == 0);
	CHECK(json_is_true(json_object_get_path(v, "tcp.syn")));
	CHECK(json_is_true(json_object_get_path(v, "tcp.fin")));
	CHECK(json_is_true(json_object_get_path(v, "tcp.psh")));
	CHECK(json_is_true(json_object_get_path(v, "tcp.ack")));
	CHECK(json_object_get_path(v, "tcp.rst") == NULL);
	CHECK(json_object_get_path(v, "tcp.urg") == NULL);
	CHECK(strcmp(JS(v, "tcp.state"), "closed") == 0);
	json_decref(v);

	/* ICMP: no ports, type/code and the response pair */
	nj_eve_config_defaults(&c);
	mk_flow(&f, 1, 1);
	v = one_event(&c, emit_flow, &f);
	if (v) {
		CHECK(json_object_get(v, "src_port") == NULL &&
		      json_object_get(v, "dest_port") == NULL);
		CHECK(strcmp(JS(v, "proto"), "ICMP") == 0);
		/* the client (addr[1]) sent the echo request */
		CHECK(JI(v, "icmp_type") == 8 && json_object_get(v, "icmp_code"));
		CHECK(JI(v, "response_icmp_type") == 0 && json_object_get(v, "response_icmp_code"));
		CHECK(json_object_get(v, "tcp") == NULL);
		CHECK(json_object_get(v, "community_id") == NULL);
		json_decref(v);
	}

	/* IPv6 addresses in full form; unknown protocol as its number */
	nj_eve_config_defaults(&c);
	mk_flow(&f, 253, 1);
	f.ipv6 = 1;
	memset(f.addr, 0, sizeof(f.addr));
	f.addr[1][0] = 0xfe;
	f.addr[1][1] = 0x80;
	f.addr[1][15] = 0x38;
	v = one_event(&c, emit_flow, &f);
	if (v) {
		CHECK(strcmp(JS(v, "src_ip"), "fe80:0000:0000:0000:0000:0000:0000:0038") == 0);
		CHECK(strcmp(JS(v, "dest_ip"), "0000:0000:0000:0000:0000:0000:0000:0000") == 0);
		CHECK(strcmp(JS(v, "proto"), "253") == 0);
		CHECK(JI(v, "ip_v") == 6);
		CHECK(json_object_get(v, "app_proto") != NULL); /* "tls" given */
		json_decref(v);
	}
	c.ipv6_compress = true;
	v = one_event(&c, emit_flow, &f);
	if (v) {
		CHECK(strcmp(JS(v, "src_ip"), "fe80::38") == 0);
		CHECK(strcmp(JS(v, "dest_ip"), "::") == 0);
		json_decref(v);
	}
}

static void test_other_shapes(void)
{
	struct nj_eve_config c;
	struct nj_flow f;
	struct nj_pkt p;
	json_t *v;

	nj_eve_config_defaults(&c);
	c.offline = true;
	mk_anomaly_pkt(&p);
	v = one_event(&c, emit_anomaly, &p);
	if (v) {
		CHECK(strcmp(JS(v, "event_type"), "anomaly") == 0);
		CHECK(JI(v, "pcap_cnt") == 7);
		CHECK(json_object_get(v, "flow_id") == NULL);
		CHECK(strcmp(JS(v, "src_ip"), "192.168.1.1") == 0);
		CHECK(strcmp(JS(v, "dest_ip"), "192.168.1.2") == 0);
		CHECK(json_object_get(v, "src_port") == NULL);
		CHECK(strcmp(JS(v, "proto"), "TCP") == 0);
		CHECK(strcmp(JS(v, "anomaly.type"), "decode") == 0);
		CHECK(strcmp(JS(v, "anomaly.event"), "decoder.ipv4.trunc_pkt") == 0);
		json_decref(v);
	}
	/* too short for the addresses it claims: no tuple at all, but an event */
	p.len = 20;
	v = one_event(&c, emit_anomaly, &p);
	if (v) {
		CHECK(json_object_get(v, "src_ip") == NULL);
		CHECK(JS(v, "anomaly.event") != NULL);
		json_decref(v);
	}

	mk_flow(&f, 6, 3);
	nj_eve_config_defaults(&c);
	c.nsinks = 1;
	{
		/* netflow: two records, reversed tuple in the second */
		struct nj_eve *eve;
		char err[256], path[4352];
		size_t n;
		char *txt, *nl;
		json_error_t e;

		c.sinks[0].zstd = false;
		c.sinks[0].types = T(NJ_EVE_NETFLOW);
		snprintf(c.sinks[0].path, sizeof(c.sinks[0].path), "%s/netflow.json", dir);
		snprintf(path, sizeof(path), "%s", c.sinks[0].path);
		eve = nj_eve_open(&c, 1, err, sizeof(err));
		CHECK(eve != NULL);
		if (eve) {
			emit_netflow(nj_eve_worker(eve, 0), &f);
			nj_eve_close(eve);
		}
		txt = read_file(path, &n);
		nl = txt ? strchr(txt, '\n') : NULL;
		CHECK(nl != NULL);
		if (nl) {
			json_t *a = json_loadb(txt, (size_t)(nl - txt), 0, &e);
			json_t *b = json_loads(nl + 1, 0, &e);

			CHECK(a && b);
			if (a && b) {
				CHECK(strcmp(JS(a, "src_ip"), "10.0.0.2") == 0 &&
				      JI(a, "src_port") == 40003);
				CHECK(strcmp(JS(b, "src_ip"), "10.0.0.1") == 0 &&
				      JI(b, "src_port") == 80);
				CHECK(JI(a, "netflow.pkts") == 3 && JI(b, "netflow.pkts") == 2);
				CHECK(JI(a, "netflow.bytes") == 300 &&
				      JI(b, "netflow.bytes") == 200);
				CHECK(strcmp(JS(a, "tcp.tcp_flags"), "1b") == 0);
				CHECK(strcmp(JS(b, "tcp.tcp_flags"), "12") == 0);
				CHECK(JI(a, "flow_id") == JI(b, "flow_id"));
				CHECK(JI(a, "netflow.age") == 3);
			}
			json_decref(a);
			json_decref(b);
		}
		free(txt);
	}

	nj_eve_config_defaults(&c);
	v = one_event(&c, emit_stats, NULL);
	if (v) {
		CHECK(strcmp(JS(v, "event_type"), "stats") == 0);
		CHECK(json_object_get(v, "src_ip") == NULL);
		CHECK(JI(v, "stats.uptime") == 99);
		CHECK(JI(v, "stats.flow.tcp") == 1 && JI(v, "stats.flow.udp") == 7);
		CHECK(JI(v, "stats.decoder.pkts") == 2 && JI(v, "stats.decoder.bytes") == 6);
		CHECK(JI(v, "stats.decoder.event.ipv4.trunc_pkt") == 3);
		CHECK(JI(v, "stats.decoder.event.ipv4.opt_pad_required") == 8);
		CHECK(JI(v, "stats.decoder.event.ipv6.trunc_pkt") == 5);
		CHECK(JI(v, "stats.capture.kernel_packets") == 4);
		CHECK(json_object_size(json_object_get_path(v, "stats.decoder")) == 3);
		json_decref(v);
	}
}

static unsigned list_files(const char *prefix, char names[][600], unsigned max)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	unsigned n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)) && n < max)
		if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
			snprintf(names[n++], 600, "%s/%s", dir, e->d_name);
	closedir(d);
	return n;
}

static void test_rotation(void)
{
	enum { NEV = 2000 };
	struct nj_eve_config c;
	struct nj_eve *eve;
	struct nj_flow f;
	char err[256];
	static char names[64][600];
	unsigned nf, total = 0, ok_files = 0;

	nj_eve_config_defaults(&c);
	c.offline = true;
	c.buffer_bytes = 8192;
	snprintf(c.sinks[0].path, sizeof(c.sinks[0].path), "%s/rot.json.zst", dir);
	c.sinks[0].rotate_bytes = 16 * 1024;
	eve = nj_eve_open(&c, 1, err, sizeof(err));
	CHECK(eve != NULL);
	if (!eve)
		return;
	for (unsigned i = 0; i < NEV; i++) {
		mk_flow(&f, 6, i);
		f.flow_id = (uint64_t)i * 0x9e3779b97f4a7c15ull; /* less compressible */
		nj_eve_log_flow(nj_eve_worker(eve, 0), &f, NJ_FLOW_END_TIMEOUT, NULL);
	}
	nj_eve_worker_flush(nj_eve_worker(eve, 0));
	nj_eve_close(eve);

	nf = list_files("rot.", names, 64);
	CHECK(nf >= 3);
	for (unsigned i = 0; i < nf; i++) {
		size_t n, tn;
		unsigned frames;
		char *z = read_file(names[i], &n);
		char *txt = z ? unzstd(z, n, &tn, &frames) : NULL;
		struct counts cc = {0};

		/* rotated names keep the .json.zst suffix */
		CHECK(strlen(names[i]) > 9 &&
		      strcmp(names[i] + strlen(names[i]) - 9, ".json.zst") == 0);
		if (txt) {
			count_lines(txt, tn, &cc);
			CHECK(cc.bad == 0);
			total += cc.lines;
			ok_files++;
		}
		/* no file beyond the limit unless one frame alone is larger */
		CHECK(n <= 16 * 1024 || frames == 1);
		free(z);
		free(txt);
	}
	CHECK(ok_files == nf);
	CHECK(total == NEV);
}

struct drain {
	int fd;
	unsigned lines;
};

static void *drain_main(void *arg)
{
	struct drain *d = arg;
	char b[65536];
	ssize_t k;

	while ((k = read(d->fd, b, sizeof(b))) != 0) {
		if (k < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				usleep(100);
				continue;
			}
			break;
		}
		for (ssize_t i = 0; i < k; i++)
			d->lines += b[i] == '\n';
	}
	return NULL;
}

/* Live mode: a writer stuck on a full pipe makes events drop, counted. */
static void test_live_drops(void)
{
	enum { NEV = 20000 };
	struct nj_eve_config c;
	struct nj_eve *eve;
	struct nj_flow f;
	struct drain d = {-1, 0};
	pthread_t th;
	char err[256], fifo[600];
	const struct nj_eve_stats *st;
	uint64_t dropped;

	snprintf(fifo, sizeof(fifo), "%s/fifo.json", dir);
	CHECK(mkfifo(fifo, 0600) == 0);
	d.fd = open(fifo, O_RDONLY | O_NONBLOCK);
	CHECK(d.fd >= 0);
	nj_eve_config_defaults(&c);
	c.offline = false;
	c.buffer_bytes = 4096;
	c.ring_frames = 2;
	c.sinks[0].zstd = false;
	c.sinks[0].append = true; /* no O_TRUNC on a fifo */
	snprintf(c.sinks[0].path, sizeof(c.sinks[0].path), "%s", fifo);
	eve = nj_eve_open(&c, 1, err, sizeof(err));
	CHECK(eve != NULL);
	if (!eve) {
		fprintf(stderr, "%s\n", err);
		close(d.fd);
		return;
	}
	for (unsigned i = 0; i < NEV; i++) {
		mk_flow(&f, 17, i);
		nj_eve_log_flow(nj_eve_worker(eve, 0), &f, NJ_FLOW_END_TIMEOUT, NULL);
	}
	st = nj_eve_worker_stats(nj_eve_worker(eve, 0));
	dropped = st->dropped;
	CHECK(dropped > 0);
	CHECK(st->events[NJ_EVE_FLOW] == NEV);

	/* too large: never fits in a 4 KiB buffer */
	{
		static char big[8192];
		struct nj_json *j =
			nj_eve_begin(nj_eve_worker(eve, 0), NJ_EVE_OTHER, 0, NULL, NULL);

		memset(big, 'a', sizeof(big));
		nj_json_strn(j, "big", big, sizeof(big));
		nj_eve_commit(nj_eve_worker(eve, 0));
		CHECK(st->too_large == 1);
	}

	pthread_create(&th, NULL, drain_main, &d);
	nj_eve_worker_flush(nj_eve_worker(eve, 0));
	nj_eve_close(eve);
	pthread_join(th, NULL);
	close(d.fd);
	CHECK(d.lines + dropped == NEV);
	printf("test_eve: live mode, ring of 2: %u written, %llu dropped\n", d.lines,
	       (unsigned long long)dropped);
}

static void test_tick(void)
{
	struct nj_eve_config c;
	struct nj_eve *eve;
	struct nj_eve_worker *w;
	struct nj_flow f;
	char err[256];

	nj_eve_config_defaults(&c);
	c.flush_ms = 500;
	c.sinks[0].zstd = false;
	snprintf(c.sinks[0].path, sizeof(c.sinks[0].path), "%s/tick.json", dir);
	eve = nj_eve_open(&c, 1, err, sizeof(err));
	CHECK(eve != NULL);
	if (!eve)
		return;
	w = nj_eve_worker(eve, 0);
	nj_eve_worker_tick(w, 10000);
	mk_flow(&f, 6, 1);
	nj_eve_log_flow(w, &f, NJ_FLOW_END_TIMEOUT, NULL);
	nj_eve_worker_tick(w, 10100);
	CHECK(nj_eve_worker_stats(w)->frames == 0);
	nj_eve_worker_tick(w, 10500);
	CHECK(nj_eve_worker_stats(w)->frames == 1);
	nj_eve_worker_tick(w, 20000); /* nothing staged: no empty frame */
	CHECK(nj_eve_worker_stats(w)->frames == 1);
	nj_eve_close(eve);

	/* invalid settings are refused with a message */
	c.flush_ms = 1001;
	err[0] = '\0';
	CHECK(nj_eve_open(&c, 1, err, sizeof(err)) == NULL && err[0]);
	/* a NULL handle is harmless */
	CHECK(!nj_eve_wants(NULL, NJ_EVE_FLOW));
	nj_eve_log_flow(NULL, &f, NJ_FLOW_END_TIMEOUT, NULL);
	nj_json_u64(nj_eve_begin(NULL, NJ_EVE_FLOW, 0, NULL, NULL), "x", 1);
	nj_eve_commit(NULL);
}

/* nj_eve_capture keeps a committed event; nj_eve_write_raw writes it back, spliced, unchanged */
static void test_capture_raw(void)
{
	struct nj_eve_config c;
	struct nj_eve *eve;
	struct nj_eve_worker *w, *w2;
	struct nj_flow f;
	struct nj_json *j;
	char err[256], cap[4096], path[600], *data, *nl;
	uint32_t len = 7, at;
	size_t n;

	nj_eve_config_defaults(&c);
	c.sinks[0].zstd = false;
	snprintf(c.sinks[0].path, sizeof(c.sinks[0].path), "%s/raw.json", dir);
	eve = nj_eve_open(&c, 2, err, sizeof(err));
	CHECK(eve != NULL);
	if (!eve)
		return;
	w = nj_eve_worker(eve, 0);
	w2 = nj_eve_worker(eve, 1);
	mk_flow(&f, 6, 1);
	nj_eve_capture(w, cap, sizeof(cap), &len);
	CHECK(len == 0);
	j = nj_eve_begin(w, NJ_EVE_FILEINFO, 1000000, &f, NULL);
	nj_json_open_obj(j, "fileinfo");
	nj_json_u64(j, "size", 5);
	at = (uint32_t)j->len;
	nj_json_close_obj(j);
	nj_eve_commit(w);
	nj_eve_capture(w, NULL, 0, NULL);
	CHECK(len > at && len < sizeof(cap) && cap[len - 1] == '}');
	CHECK(nj_eve_worker_stats(w)->events[NJ_EVE_FILEINFO] == 0);
	{
		struct nj_eve_piece pc[3] = {{cap, at}, {",\"yara\":[]", 10}, {cap + at, len - at}};

		nj_eve_write_raw(w2, NJ_EVE_FILEINFO, pc, 3);
	}
	CHECK(nj_eve_worker_stats(w2)->events[NJ_EVE_FILEINFO] == 1);
	/* too small a capture buffer: flagged, nothing written */
	nj_eve_capture(w, cap, 8, &len);
	j = nj_eve_begin(w, NJ_EVE_FILEINFO, 1000000, &f, NULL);
	nj_eve_commit(w);
	nj_eve_capture(w, NULL, 0, NULL);
	CHECK(len == UINT32_MAX);
	nj_eve_worker_flush(w);
	nj_eve_worker_flush(w2);
	nj_eve_close(eve);
	snprintf(path, sizeof(path), "%s/raw.json", dir);
	data = read_file(path, &n);
	CHECK(data != NULL);
	if (!data)
		return;
	nl = memchr(data, '\n', n);
	CHECK(nl && (size_t)(nl - data) + 1 == n);
	{
		json_error_t e;
		json_t *v = json_loadb(data, n, 0, &e);

		CHECK(v && json_is_array(json_object_get_path(v, "fileinfo.yara")) &&
		      json_integer_value(json_object_get_path(v, "fileinfo.size")) == 5 &&
		      json_object_get(v, "flow_id"));
		json_decref(v);
	}
	free(data);
}

static void rm_rf(void)
{
	static char names[256][600];
	unsigned n = list_files("", names, 256);

	for (unsigned i = 0; i < n; i++)
		unlink(names[i]);
	rmdir(dir);
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/nj_test_eve.XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_defaults();
	test_ts();
	test_sinks();
	test_flow_shape();
	test_other_shapes();
	test_rotation();
	test_live_drops();
	test_tick();
	test_capture_raw();
	if (failures) {
		fprintf(stderr, "test_eve: %d failure(s); files kept in %s\n", failures, dir);
		return 1;
	}
	rm_rf();
	printf("test_eve: ok\n");
	return 0;
}
