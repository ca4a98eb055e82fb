/* SPDX-License-Identifier: MIT */
/*
 * The run-time detection engine, without EAL: rules are loaded from a
 * temporary file, packets are built as Ethernet frames and go through the
 * plain-C stages the worker runs (decode, flow, optionally TCP reassembly
 * and the app-layer), then nj_detect_burst; alerts are read back from a real
 * EVE file.
 *
 *  - the prefilter never loses a match: on random payloads built from the
 *    rules' own patterns, the engine's alerts equal those of the same engine
 *    with the prefilter off and those of a brute-force evaluation of every
 *    signature with the detect.h primitives (generated ET-like rules, and the
 *    ET Open packet rules when the corpus is present);
 *  - header matching (negated ports, lists, <>), once per packet, Suricata's
 *    alert order, pass suppression (packet and flow), flowbits and flowint
 *    across packets, thresholds and detection_filter;
 *  - stream inspection: a pattern split over two segments alerts once;
 *  - transactions of a toy parser (sticky buffer, tx_id, app protocol);
 *  - the EVE alert layout (alert object, metadata, flow, payload options).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "config/config.h"
#include "dataplane/decode.h"
#include "dataplane/flow.h"
#include "dataplane/stream.h"
#include "detect/detect.h"
#include "detect/detect_int.h"
#include "detect/engine.h"
#include "export/eve.h"
#include "parsers/applayer.h"
#include "tests/nj_test.h"

/* ------------------------------------------------------------ toy parser */

/* "TOY <word>\n" requests, "OK <word>\n" responses; buffer toy.req. */
struct toy_tx {
	struct nj_al_tx hdr;
	char req[64];
};

struct toy_state {
	struct nj_al_txq q;
};

static int toy_probe(const uint8_t *d, uint32_t len, int dir)
{
	const char *want = dir == NJ_DIR_TOSERVER ? "TOY " : "OK ";
	size_t n = strlen(want);

	if (len < n)
		return memcmp(d, want, len) == 0 ? NJ_PROBE_MORE : NJ_PROBE_NO;
	return memcmp(d, want, n) == 0 ? NJ_PROBE_YES : NJ_PROBE_NO;
}

static void *toy_new(void)
{
	return calloc(1, sizeof(struct toy_state));
}

static void toy_free_tx(void *st, struct nj_al_tx *tx)
{
	(void)st;
	free(tx);
}

static void toy_free(void *st)
{
	struct toy_state *s = st;

	for (struct nj_al_tx *tx = s->q.head, *n; tx; tx = n) {
		n = tx->next;
		free(tx);
	}
	free(s);
}

static int32_t toy_parse(void *st, struct nj_al_ctx *c, int dir, const uint8_t *d, uint32_t len)
{
	struct toy_state *s = st;
	uint32_t used = 0;

	(void)c;
	for (;;) {
		const uint8_t *nl = memchr(d + used, '\n', len - used);
		uint32_t n;

		if (!nl)
			return (int32_t)used;
		n = (uint32_t)(nl - (d + used));
		if (dir == NJ_DIR_TOSERVER) {
			struct toy_tx *tx = calloc(1, sizeof(*tx));

			if (!tx)
				return NJ_AL_ERROR;
			snprintf(tx->req, sizeof(tx->req), "%.*s", (int)(n > 4 ? n - 4 : 0),
				 d + used + 4);
			tx->hdr.done[0] = 1;
			nj_al_tx_add(&s->q, &tx->hdr);
		} else {
			struct nj_al_tx *t;

			for (t = s->q.head; t && t->done[1]; t = t->next)
				;
			if (t)
				t->done[1] = 1;
		}
		used += n + 1;
	}
}

static struct nj_al_txq *toy_txq(void *st)
{
	return &((struct toy_state *)st)->q;
}

static bool toy_buf_req(const struct nj_al_tx *t, const uint8_t **d, uint32_t *len)
{
	const struct toy_tx *tx = (const struct toy_tx *)t;

	*d = (const uint8_t *)tx->req;
	*len = (uint32_t)strlen(tx->req);
	return true;
}

/* The toy's "XFF": a request "xff ADDR" names ADDR (reverse: ignored). */
static bool toy_xff(const struct nj_al_tx *t, const char *header, bool reverse, char *out,
		    size_t outlen)
{
	const struct toy_tx *tx = (const struct toy_tx *)t;

	(void)header;
	(void)reverse;
	if (strncmp(tx->req, "xff ", 4) != 0)
		return false;
	snprintf(out, outlen, "%s", tx->req + 4);
	return true;
}

static const struct nj_al_buffer toy_buffers[] = {
	{"toy.req", NJ_DIR_TOSERVER, toy_buf_req},
	{NULL, 0, NULL},
};

static struct nj_app_parser toy_parser = {
	.name = "toy",
	.ipproto_mask = NJ_AL_TCP | NJ_AL_UDP,
	.ports = {7777},
	.probe_min = 1,
	.eve = NJ_EVE_OTHER,
	.probe = toy_probe,
	.state_new = toy_new,
	.state_free = toy_free,
	.parse = toy_parse,
	.txq = toy_txq,
	.tx_free = toy_free_tx,
	.buffers = toy_buffers,
	.alert_xff = toy_xff,
};
NJ_APP_PARSER_REGISTER(toy_parser)

/* The buffer and its sticky keyword, as a parser folder would register them. */
NJ_DETECT_BUFFER(toy_req, "toy.req", "toy", NJ_BUFF_TOSERVER)
static int kw_toy_req(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *v)
{
	(void)kw;
	(void)v;
	return nj_detect_set_sticky(ps, nj_detect_buffer_id("toy.req"));
}
NJ_DETECT_KEYWORD(toy_req_kw, .name = "toy.req", .flags = NJ_KWF_NOVALUE | NJ_KWF_STICKY,
		  .parse = kw_toy_req, .doc = "test sticky buffer")

/* ------------------------------------------------------------ harness */

#define MAXA 65536
struct alert {
	uint64_t pcap_cnt;
	uint32_t sid;
	int64_t tx_id;
	char dir[16];
	json_t *js; /* the whole event (kept for layout checks) */
};

struct h {
	struct nj_conf *conf;
	struct nj_detect_rules *r;
	struct nj_detect_engine *e;
	struct nj_detect_thread *t;
	struct nj_eve *eve;
	struct nj_decode_ctx *dec;
	struct nj_flow_table *ft;
	struct nj_stream_table *st;
	struct nj_al_worker *al;
	bool stream;
	char dir[64], path[128];
	struct nj_pkt pkts[NJ_BURST];
	uint8_t buf[NJ_BURST][1600];
	unsigned n;
	uint64_t seq, ts;
	struct alert *a;
	unsigned na;
	bool no_json;  /* keep only (pcap_cnt, sid) */
	bool ack_mode; /* stream data as the worker gives it (nj_detect_stream_data) */
	struct nj_detect_stats stats;
};

/* reassembly's IDS timing for the next h_open (most tests: off) */
static bool h_ack_delivery;

static void on_data(void *arg, struct nj_flow *f, int dir, const uint8_t *data, uint32_t len,
		    unsigned flags, const struct nj_pkt *p)
{
	struct h *h = arg;

	if (!(flags & NJ_STREAM_RAW_ONLY))
		nj_al_stream_data(h->al, f, dir, data, len, flags, p);
	if (h->ack_mode) {
		if (len && (data || (flags & NJ_STREAM_GAP)))
			nj_detect_stream_data(h->t, f, dir, data, len, (flags & NJ_STREAM_GAP) != 0,
					      nj_stream_next_seq(f, dir), p);
	} else if (data && len) {
		nj_detect_stream(h->t, f, dir, data, len, p);
	}
}

static void on_event(void *arg, struct nj_flow *f, const struct nj_pkt *p, const char *name)
{
	(void)arg;
	(void)f;
	(void)p;
	(void)name;
}

static void on_tx(void *arg, struct nj_flow *f, const struct nj_app_parser *p, struct nj_al_tx *tx,
		  int dir)
{
	struct h *h = arg;

	nj_detect_tx(h->t, f, p, tx, dir);
}

static void on_end(void *arg, struct nj_flow *f, enum nj_flow_end_reason why)
{
	struct h *h = arg;

	(void)why;
	if (f->stream_state)
		nj_stream_flow_end(h->st, f);
	if (f->app_state)
		nj_al_flow_end(h->al, f);
	if (f->detect_state)
		nj_detect_flow_end(h->t, f);
}

static struct nj_detect_rules *load_text(const char *text, unsigned *failed)
{
	char path[] = "/tmp/nj_engine_rules_XXXXXX";
	int fd = mkstemp(path);
	const char *files[1] = {path};
	struct nj_detect_load_stats st;
	struct nj_detect_load_opts o = {.err_out = stderr};
	struct nj_detect_rules *r;

	if (fd < 0)
		return NULL;
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		close(fd);
		return NULL;
	}
	close(fd);
	r = nj_detect_load(NULL, files, 1, &o, &st);
	unlink(path);
	if (failed)
		*failed = st.failed + st.skipped;
	return r;
}

/* A configuration: optional YAML text plus "key=value" overrides. */
static struct nj_conf *conf_from(const char *yaml, const char *const *sets, unsigned nsets)
{
	char path[] = "/tmp/nj_engine_conf_XXXXXX", err[256];
	struct nj_conf *c;
	int fd;

	if (!yaml)
		return nj_conf_load(NULL, sets, nsets, err, sizeof(err));
	fd = mkstemp(path);
	if (fd < 0)
		return NULL;
	if (write(fd, yaml, strlen(yaml)) != (ssize_t)strlen(yaml)) {
		close(fd);
		unlink(path);
		return NULL;
	}
	close(fd);
	c = nj_conf_load(path, sets, nsets, err, sizeof(err));
	if (!c)
		fprintf(stderr, "conf: %s\n", err);
	unlink(path);
	return c;
}

static const char *yaml_cur;

/* Opens the harness; sets: "key=value" configuration overrides. */
static int h_open_rules(struct h *h, struct nj_detect_rules *r, const char *const *sets,
			unsigned nsets, bool stream)
{
	struct nj_eve_config ec;
	struct nj_decode_config dc;
	struct nj_flow_config fc;
	struct nj_stream_config sc;
	struct nj_al_config ac;
	char err[256];

	memset(h, 0, sizeof(*h));
	h->a = calloc(MAXA, sizeof(*h->a));
	if (!h->a)
		return -1;
	h->stream = stream;
	h->ts = 1600000000ull * 1000000u;
	h->r = r;
	h->conf = conf_from(yaml_cur, sets, nsets);
	yaml_cur = NULL;
	if (!h->conf || !h->r)
		return -1;
	h->e = nj_detect_engine_build(h->r, h->conf);
	if (!h->e)
		return -1;
	snprintf(h->dir, sizeof(h->dir), "/tmp/nj_engine_XXXXXX");
	if (!mkdtemp(h->dir))
		return -1;
	nj_eve_config_defaults(&ec);
	ec.nsinks = 1;
	snprintf(h->path, sizeof(h->path), "%s/eve.json", h->dir);
	snprintf(ec.sinks[0].path, sizeof(ec.sinks[0].path), "%s", h->path);
	ec.sinks[0].types = 1u << NJ_EVE_ALERT;
	ec.sinks[0].zstd = false;
	ec.offline = true;
	h->eve = nj_eve_open(&ec, 1, err, sizeof(err));
	if (!h->eve)
		return -1;
	h->t = nj_detect_thread_create(h->e, nj_eve_worker(h->eve, 0));
	nj_decode_config_defaults(&dc);
	dc.checksum_validation = 0;
	h->dec = nj_decode_create(&dc, 0);
	nj_flow_config_defaults(&fc);
	fc.memcap = 8u << 20;
	fc.midstream = true;
	h->ft = nj_flow_table_create(&fc, 0, on_end, h);
	nj_stream_config_defaults(&sc);
	sc.memcap = 8u << 20;
	sc.ack_delivery = h_ack_delivery; /* off: data as it comes, the timing these tests encode */
	h->st = nj_stream_create(&sc, on_data, on_event, h);
	nj_al_config_defaults(&ac);
	h->al = nj_al_worker_create(&ac, NULL);
	if (!h->t || !h->dec || !h->ft || !h->st || !h->al)
		return -1;
	nj_al_worker_set_tx_hook(h->al, on_tx, h);
	return 0;
}

static int h_open(struct h *h, const char *rules, const char *const *sets, unsigned nsets,
		  bool stream)
{
	unsigned failed = 0;
	struct nj_detect_rules *r = load_text(rules, &failed);

	CHECK(failed == 0);
	return h_open_rules(h, r, sets, nsets, stream);
}

static void h_flush(struct h *h)
{
	if (!h->n)
		return;
	nj_decode_burst_begin(h->dec);
	for (unsigned i = 0; i < h->n; i++)
		nj_decode_pkt(h->dec, &h->pkts[i]);
	nj_flow_burst(h->ft, h->pkts, (uint16_t)h->n);
	nj_detect_app_burst(h->t, h->pkts, (uint16_t)h->n);
	for (unsigned i = 0; i < h->n; i++) {
		struct nj_pkt *p = &h->pkts[i];

		if (!p->flow || !h->stream)
			continue;
		nj_detect_app_pkt(h->t, p);
		if (p->proto == 6)
			nj_stream_pkt(h->st, p->flow, p);
		else if (p->proto == 17 && p->payload_len)
			nj_al_udp(h->al, p->flow, p);
	}
	nj_detect_burst(h->t, h->pkts, (uint16_t)h->n);
	h->n = 0;
}

/* An Ethernet/IPv4 packet; proto 6 (flags, seq, ack used), 17 or 1 (sport: type). */
static void h_pkt4(struct h *h, uint8_t proto, const char *src, uint16_t sp, const char *dst,
		   uint16_t dp, uint8_t flags, uint32_t seq, uint32_t ack, const void *pl,
		   uint32_t len)
{
	struct nj_pkt *p;
	uint8_t *b;
	unsigned l4 = proto == 6 ? 20 : 8, tot;
	unsigned a[4], c[4];

	if (h->n == NJ_BURST)
		h_flush(h);
	p = &h->pkts[h->n];
	b = h->buf[h->n];
	h->n++;
	if (len > sizeof(h->buf[0]) - 14 - 20 - l4)
		len = sizeof(h->buf[0]) - 14 - 20 - l4;
	tot = 20 + l4 + len;
	memset(b, 0, 14 + tot);
	memcpy(b, "\x00\x01\x02\x03\x04\x05\x00\x0a\x0b\x0c\x0d\x0e\x08\x00", 14);
	b[14] = 0x45;
	b[16] = (uint8_t)(tot >> 8);
	b[17] = (uint8_t)tot;
	b[22] = 64;
	b[23] = proto;
	sscanf(src, "%u.%u.%u.%u", &a[0], &a[1], &a[2], &a[3]);
	sscanf(dst, "%u.%u.%u.%u", &c[0], &c[1], &c[2], &c[3]);
	for (int i = 0; i < 4; i++) {
		b[26 + i] = (uint8_t)a[i];
		b[30 + i] = (uint8_t)c[i];
	}
	if (proto == 1) {
		b[34] = (uint8_t)sp; /* type */
		b[35] = (uint8_t)dp; /* code */
	} else {
		b[34] = (uint8_t)(sp >> 8);
		b[35] = (uint8_t)sp;
		b[36] = (uint8_t)(dp >> 8);
		b[37] = (uint8_t)dp;
	}
	if (proto == 6) {
		b[38] = (uint8_t)(seq >> 24);
		b[39] = (uint8_t)(seq >> 16);
		b[40] = (uint8_t)(seq >> 8);
		b[41] = (uint8_t)seq;
		b[42] = (uint8_t)(ack >> 24);
		b[43] = (uint8_t)(ack >> 16);
		b[44] = (uint8_t)(ack >> 8);
		b[45] = (uint8_t)ack;
		b[46] = 0x50;
		b[47] = flags;
		b[48] = 0xff;
		b[49] = 0xff;
	} else if (proto == 17) {
		b[38] = (uint8_t)((8 + len) >> 8);
		b[39] = (uint8_t)(8 + len);
	}
	if (len)
		memcpy(b + 14 + 20 + l4, pl, len);
	memset(p, 0, sizeof(*p));
	p->data = b;
	p->len = 14 + tot;
	p->wire_len = p->len;
	p->linktype = NJ_LINK_ETHERNET;
	p->ts_us = h->ts;
	h->ts += 1000;
	p->seq = ++h->seq;
}

static void h_close(struct h *h)
{
	char *text = NULL;
	size_t cap = 0;
	FILE *fp;

	h_flush(h);
	nj_flow_flush_all(h->ft, h->ts);
	h->stats = *nj_detect_thread_stats(h->t);
	nj_eve_worker_flush(nj_eve_worker(h->eve, 0));
	nj_detect_thread_free(h->t);
	nj_al_worker_destroy(h->al);
	nj_stream_destroy(h->st);
	nj_flow_table_destroy(h->ft);
	nj_decode_destroy(h->dec);
	nj_eve_close(h->eve);
	fp = fopen(h->path, "r");
	while (fp && getline(&text, &cap, fp) > 0) {
		json_error_t je;
		json_t *js = json_loads(text, 0, &je), *al;
		const char *d;

		CHECK(js != NULL);
		if (!js)
			continue;
		al = json_object_get(js, "alert");
		if (h->na < MAXA && al) {
			struct alert *a = &h->a[h->na++];

			a->pcap_cnt = (uint64_t)json_integer_value(json_object_get(js, "pcap_cnt"));
			a->sid = (uint32_t)json_integer_value(json_object_get(al, "signature_id"));
			a->tx_id = json_object_get(js, "tx_id")
					   ? json_integer_value(json_object_get(js, "tx_id"))
					   : -1;
			d = json_string_value(json_object_get(js, "direction"));
			snprintf(a->dir, sizeof(a->dir), "%s", d ? d : "");
			a->js = js;
			if (h->no_json) {
				json_decref(js);
				a->js = NULL;
			}
		} else {
			json_decref(js);
		}
	}
	if (fp)
		fclose(fp);
	free(text);
	unlink(h->path);
	rmdir(h->dir);
}

static void h_free(struct h *h)
{
	for (unsigned i = 0; i < h->na; i++)
		json_decref(h->a[i].js);
	free(h->a);
	nj_detect_engine_free(h->e);
	nj_detect_rules_free(h->r);
	nj_conf_free(h->conf);
}

static unsigned count(const struct h *h, uint32_t sid)
{
	unsigned n = 0;

	for (unsigned i = 0; i < h->na; i++)
		n += h->a[i].sid == sid;
	return n;
}

static unsigned count_at(const struct h *h, uint32_t sid, uint64_t pcap_cnt)
{
	unsigned n = 0;

	for (unsigned i = 0; i < h->na; i++)
		n += h->a[i].sid == sid && h->a[i].pcap_cnt == pcap_cnt;
	return n;
}

/* A TCP session with handshake; returns the next client / server sequence numbers. */
#define SYN 0x02
#define ACK 0x10
#define PSH 0x08
#define FIN 0x01

static void tcp_open(struct h *h, const char *c, uint16_t cp, const char *s, uint16_t sp)
{
	h_pkt4(h, 6, c, cp, s, sp, SYN, 1000, 0, NULL, 0);
	h_pkt4(h, 6, s, sp, c, cp, SYN | ACK, 5000, 1001, NULL, 0);
	h_pkt4(h, 6, c, cp, s, sp, ACK, 1001, 5001, NULL, 0);
}

/* ------------------------------------------------------------ header matching */

static void test_header(void)
{
	static const char rules[] =
		"alert udp any any -> any !53 (msg:\"not dns\"; content:\"abc\"; sid:1;)\n"
		"alert udp any any -> any [53,5353] (msg:\"dns ports\"; content:\"abc\"; sid:2;)\n"
		"alert udp 10.0.0.0/8 any <> 192.168.1.1 53 (msg:\"bidir\"; content:\"abc\"; "
		"sid:3;)\n"
		"alert udp ![10.0.0.1,10.0.0.2] any -> any any (msg:\"neg addr\"; content:\"abc\"; "
		"sid:4;)\n"
		"alert udp any 1024: -> any :1023 (msg:\"ranges\"; content:\"abc\"; sid:5;)\n"
		"alert icmp any any -> any any (msg:\"icmp echo\"; itype:8; sid:6;)\n";
	struct h h;

	if (h_open(&h, rules, NULL, 0, false) < 0) {
		CHECK(0);
		return;
	}
	/* 1: to 53 from 10.0.0.1: sid 2, 3 (forward), not 1 or 4; 5 (sport 40000 >= 1024, dport 53 <= 1023) */
	h_pkt4(&h, 17, "10.0.0.1", 40000, "192.168.1.1", 53, 0, 0, 0, "xxabcxx", 7);
	/* 2: the answer: sid 3 (reverse), sid 4 (src 192.168.1.1), 1 (dport 40000) */
	h_pkt4(&h, 17, "192.168.1.1", 53, "10.0.0.1", 40000, 0, 0, 0, "abc", 3);
	/* 3: no pattern: nothing */
	h_pkt4(&h, 17, "10.0.0.3", 40001, "192.168.1.1", 53, 0, 0, 0, "xyz", 3);
	/* 4: icmp echo */
	h_pkt4(&h, 1, "10.0.0.3", 8, "192.168.1.1", 0, 0, 0, 0, "ping", 4);
	h_close(&h);
	CHECK(count_at(&h, 1, 1) == 0);
	CHECK(count_at(&h, 2, 1) == 1);
	CHECK(count_at(&h, 3, 1) == 1);
	CHECK(count_at(&h, 4, 1) == 0);
	CHECK(count_at(&h, 5, 1) == 1);
	CHECK(count_at(&h, 1, 2) == 1);
	CHECK(count_at(&h, 2, 2) == 0);
	CHECK(count_at(&h, 3, 2) == 1);
	CHECK(count_at(&h, 4, 2) == 1);
	CHECK(count_at(&h, 5, 2) == 0);
	CHECK(count_at(&h, 6, 4) == 1);
	CHECK(h.na == 7);
	h_free(&h);
}

/* ------------------------------------------------------------ established, dsize */

/*
 * flow:established is the flow's state when the packet arrived (Suricata's
 * FLOW_PKT_ESTABLISHED), even when the whole handshake is in one burst: the
 * SYN, SYN/ACK and the handshake's ACK are not established, a UDP flow is from
 * its first reply. dsize:!N needs a payload.
 */
static void test_established_dsize(void)
{
	static const char rules[] =
		"alert tcp any any -> any 80 (msg:\"est\"; flow:established; sid:90;)\n"
		"alert tcp any any -> any 80 (msg:\"not est\"; flow:not_established; sid:91;)\n"
		"alert udp any any -> any any (msg:\"udp est\"; flow:established; sid:92;)\n"
		"alert udp any any -> any 99 (msg:\"not 9\"; dsize:!9; sid:93;)\n"
		"alert udp any any -> any 99 (msg:\"lt 9\"; dsize:<9; sid:94;)\n";
	struct h h;

	if (h_open(&h, rules, NULL, 0, false) < 0) {
		CHECK(0);
		return;
	}
	/* one burst: handshake, then data */
	h_pkt4(&h, 6, "10.9.0.1", 40000, "10.9.0.2", 80, SYN, 1000, 0, NULL, 0);
	h_pkt4(&h, 6, "10.9.0.2", 80, "10.9.0.1", 40000, SYN | ACK, 5000, 1001, NULL, 0);
	h_pkt4(&h, 6, "10.9.0.1", 40000, "10.9.0.2", 80, ACK, 1001, 5001, NULL, 0);
	h_pkt4(&h, 6, "10.9.0.1", 40000, "10.9.0.2", 80, ACK | 0x08, 1001, 5001, "data", 4);
	h_pkt4(&h, 17, "10.9.0.1", 5000, "10.9.0.2", 53, 0, 0, 0, "q", 1);
	h_pkt4(&h, 17, "10.9.0.2", 53, "10.9.0.1", 5000, 0, 0, 0, "a", 1);
	h_pkt4(&h, 17, "10.9.0.1", 5001, "10.9.0.2", 99, 0, 0, 0, NULL, 0);
	h_pkt4(&h, 17, "10.9.0.1", 5001, "10.9.0.2", 99, 0, 0, 0, "12345", 5);
	h_close(&h);
	CHECK(count(&h, 90) == 1 && count_at(&h, 90, 4) == 1);
	CHECK(count(&h, 91) == 2 && count_at(&h, 91, 1) == 1 && count_at(&h, 91, 3) == 1);
	CHECK(count(&h, 92) == 1 && count_at(&h, 92, 6) == 1); /* 7, 8: one direction only */
	CHECK(count(&h, 93) == 1 && count_at(&h, 93, 8) == 1);
	CHECK(count(&h, 94) == 2); /* <9: with or without a payload */
	h_free(&h);
}

/* ------------------------------------------------------------ threshold.config */

static struct nj_detect_rules *load_with_threshold(const char *rules, const char *tconf,
						   struct nj_detect_load_stats *st)
{
	char rpath[] = "/tmp/nj_engine_rules_XXXXXX", tpath[] = "/tmp/nj_engine_thr_XXXXXX";
	char set[128];
	const char *sets[1] = {set}, *files[1] = {rpath};
	struct nj_detect_load_opts o = {.err_out = stderr};
	struct nj_detect_rules *r = NULL;
	struct nj_conf *c;
	int fr = mkstemp(rpath), ft = mkstemp(tpath);

	if (fr < 0 || ft < 0 || write(fr, rules, strlen(rules)) != (ssize_t)strlen(rules) ||
	    write(ft, tconf, strlen(tconf)) != (ssize_t)strlen(tconf))
		goto out;
	snprintf(set, sizeof(set), "threshold-file=%s", tpath);
	c = conf_from(NULL, sets, 1);
	if (c) {
		r = nj_detect_load(c, files, 1, &o, st);
		nj_conf_free(c);
	}
out:
	if (fr >= 0)
		close(fr);
	if (ft >= 0)
		close(ft);
	unlink(rpath);
	unlink(tpath);
	return r;
}

static void test_threshold_file(void)
{
	static const char rules[] =
		"alert udp any any -> any 1 (msg:\"t\"; content:\"t\"; sid:80;)\n"
		"alert udp any any -> any 2 (msg:\"t\"; content:\"t\"; threshold:type limit, "
		"track by_src, count 5, seconds 60; sid:81;)\n"
		"alert udp any any -> any 3 (msg:\"t\"; content:\"t\"; sid:82;)\n"
		"alert udp any any -> any 4 (msg:\"t\"; content:\"t\"; sid:83;)\n"
		"alert udp any any -> any 5 (msg:\"t\"; content:\"t\"; sid:84;)\n";
	static const char tconf[] =
		"# comment\n"
		"\n"
		"threshold gen_id 1, sig_id 80, type limit, track by_src, count 1, seconds 60\n"
		"event_filter gen_id 1, sig_id 81, type limit, track by_src, \\\n"
		"   count 2, seconds 60\n"
		"suppress gen_id 1, sig_id 82\n"
		"suppress gen_id 1, sig_id 83, track by_src, ip [10.6.0.1,10.6.1.0/24]\n"
		"rate_filter gen_id 1, sig_id 84, track by_rule, count 10, seconds 1, "
		"new_action drop, timeout 10\n";
	struct nj_detect_load_stats st;
	struct nj_detect_rules *r = load_with_threshold(rules, tconf, &st);
	struct h h;

	CHECK(r && !st.threshold_error && st.loaded == 5);
	if (!r || h_open_rules(&h, r, NULL, 0, false) < 0) {
		CHECK(0);
		return;
	}
	for (uint16_t port = 1; port <= 5; port++)
		for (int i = 0; i < 4; i++)
			h_pkt4(&h, 17, "10.6.0.1", (uint16_t)(1000 + i), "10.6.0.2", port, 0, 0, 0,
			       "t", 1);
	h_pkt4(&h, 17, "10.6.0.7", 1000, "10.6.0.2", 4, 0, 0, 0, "t", 1);
	h_close(&h);
	CHECK(count(&h, 80) == 1);				/* threshold.config adds a limit */
	CHECK(count(&h, 81) == 2);				/* and replaces the rule's own */
	CHECK(count(&h, 82) == 0);				/* suppressed */
	CHECK(count(&h, 83) == 1 && count_at(&h, 83, 21) == 1); /* only the other source */
	CHECK(count(&h, 84) == 4);				/* rate_filter: not applied */
	h_free(&h);

	/* a line that does not parse is reported */
	r = load_with_threshold(rules, "threshold gen_id 1, sig_id 80, type sometimes\n", &st);
	CHECK(r && st.threshold_error);
	nj_detect_rules_free(r);
	r = load_with_threshold(rules, "This is not correct\n", &st);
	CHECK(r && st.threshold_error);
	nj_detect_rules_free(r);
	r = load_with_threshold(rules, "suppress gen_id 1, sig_id 82, track by_src\n", &st);
	CHECK(r && st.threshold_error);
	nj_detect_rules_free(r);
}

/* ------------------------------------------------------------ per packet semantics */

static void test_packet_semantics(void)
{
	static const char rules[] =
		/* two occurrences in one packet: one alert */
		"alert udp any any -> any any (msg:\"twice\"; content:\"dup\"; sid:10; rev:2;)\n"
		/* alert order: action (pass, drop, reject, alert), then priority, then sid */
		"alert udp any any -> any 9999 (msg:\"a3\"; content:\"ord\"; priority:3; sid:20;)\n"
		"alert udp any any -> any 9999 (msg:\"a1\"; content:\"ord\"; priority:1; sid:21;)\n"
		"drop udp any any -> any 9999 (msg:\"d\"; content:\"ord\"; priority:3; sid:22;)\n"
		"alert udp any any -> any 9999 (msg:\"a1b\"; content:\"ord\"; priority:1; "
		"sid:19;)\n"
		/* pass on a packet: the packet's other alerts are suppressed */
		"pass udp any any -> any 8888 (msg:\"p\"; content:\"skip\"; sid:30;)\n"
		"alert udp any any -> any 8888 (msg:\"x\"; content:\"skip\"; sid:31;)\n"
		"alert udp any any -> any 8888 (msg:\"y\"; content:\"keep\"; sid:32;)\n"
		/* noalert */
		"alert udp any any -> any 7000 (msg:\"n\"; content:\"quiet\"; noalert; sid:40;)\n";
	struct h h;

	if (h_open(&h, rules, NULL, 0, false) < 0) {
		CHECK(0);
		return;
	}
	h_pkt4(&h, 17, "10.1.1.1", 1000, "10.1.1.2", 2000, 0, 0, 0, "dup dup dup", 11);
	h_pkt4(&h, 17, "10.1.1.1", 1000, "10.1.1.2", 9999, 0, 0, 0, "order", 5);
	h_pkt4(&h, 17, "10.1.1.1", 1001, "10.1.1.2", 8888, 0, 0, 0, "skip keep", 9);
	h_pkt4(&h, 17, "10.1.1.1", 1002, "10.1.1.2", 8888, 0, 0, 0, "keep", 4);
	h_pkt4(&h, 17, "10.1.1.1", 1003, "10.1.1.2", 7000, 0, 0, 0, "quiet", 5);
	h_close(&h);
	CHECK(count(&h, 10) == 1);
	/* the order of packet 2's alerts: drop 22, then alerts by priority then sid */
	{
		uint32_t want[] = {22, 19, 21, 20}, k = 0;

		for (unsigned i = 0; i < h.na; i++)
			if (h.a[i].pcap_cnt == 2) {
				CHECK(k < 4 && h.a[i].sid == want[k]);
				k++;
			}
		CHECK(k == 4);
	}
	CHECK(count_at(&h, 31, 3) == 0);
	CHECK(count_at(&h, 32, 3) == 0);
	CHECK(count_at(&h, 30, 3) == 0); /* a pass is not logged */
	CHECK(count_at(&h, 32, 4) == 1);
	CHECK(count(&h, 40) == 0);
	CHECK(h.stats.pass == 1);
	/* the alert object and the flow object (Suricata 8 layout) */
	for (unsigned i = 0; i < h.na; i++) {
		json_t *al = json_object_get(h.a[i].js, "alert"), *fl;

		if (h.a[i].sid != 10)
			continue;
		CHECK(!strcmp(json_string_value(json_object_get(al, "action")), "allowed"));
		CHECK(json_integer_value(json_object_get(al, "gid")) == 1);
		CHECK(json_integer_value(json_object_get(al, "rev")) == 2);
		CHECK(!strcmp(json_string_value(json_object_get(al, "signature")), "twice"));
		CHECK(json_integer_value(json_object_get(al, "severity")) == 3);
		CHECK(!strcmp(json_string_value(json_object_get(h.a[i].js, "direction")),
			      "to_server"));
		fl = json_object_get(h.a[i].js, "flow");
		CHECK(json_integer_value(json_object_get(fl, "pkts_toserver")) == 1);
		CHECK(!strcmp(json_string_value(json_object_get(fl, "src_ip")), "10.1.1.1"));
		CHECK(json_integer_value(json_object_get(fl, "dest_port")) == 2000);
		CHECK(!strcmp(json_string_value(json_object_get(h.a[i].js, "proto")), "UDP"));
		CHECK(json_integer_value(json_object_get(h.a[i].js, "pcap_cnt")) == 1);
		CHECK(json_object_get(h.a[i].js, "payload") == NULL);
	}
	h_free(&h);
}

/* A pass rule on the flow level (IP-only): the flow is not inspected any more. */
static void test_pass_flow(void)
{
	static const char rules[] =
		"pass ip 10.9.9.9 any -> any any (msg:\"trusted\"; sid:50;)\n"
		"alert udp any any -> any any (msg:\"x\"; content:\"bad\"; sid:51;)\n";
	struct h h;

	if (h_open(&h, rules, NULL, 0, false) < 0) {
		CHECK(0);
		return;
	}
	h_pkt4(&h, 17, "10.9.9.9", 1000, "10.1.1.2", 2000, 0, 0, 0, "bad", 3);
	h_pkt4(&h, 17, "10.1.1.2", 2000, "10.9.9.9", 1000, 0, 0, 0, "bad", 3);
	h_pkt4(&h, 17, "10.9.9.8", 1000, "10.1.1.2", 2000, 0, 0, 0, "bad", 3);
	h_close(&h);
	CHECK(count(&h, 51) == 1);
	CHECK(count_at(&h, 51, 3) == 1);
	h_free(&h);
}

/* ------------------------------------------------------------ flow state */

static void test_flowbits(void)
{
	static const char rules[] =
		"alert udp any any -> any any (msg:\"login\"; content:\"LOGIN\"; "
		"flowbits:set,auth; flowbits:noalert; sid:60;)\n"
		"alert udp any any -> any any (msg:\"after login\"; content:\"GET\"; "
		"flowbits:isset,auth; sid:61;)\n"
		"alert udp any any -> any any (msg:\"before login\"; content:\"GET\"; "
		"flowbits:isnotset,auth; sid:62;)\n"
		"alert udp any any -> any any (msg:\"logout\"; content:\"LOGOUT\"; "
		"flowbits:unset,auth; sid:63;)\n"
		"alert udp any any -> any any (msg:\"count\"; content:\"tick\"; "
		"flowint:ticks,+,1; noalert; sid:64;)\n"
		"alert udp any any -> any any (msg:\"third tick\"; content:\"tick\"; "
		"flowint:ticks,==,3; sid:65;)\n"
		/* same packet: the writer runs before the reader (Suricata's order) */
		"alert udp any any -> any any (msg:\"same packet read\"; content:\"both\"; "
		"flowbits:isset,both; sid:66;)\n"
		"alert udp any any -> any any (msg:\"same packet set\"; content:\"both\"; "
		"flowbits:set,both; sid:67;)\n";
	struct h h;

	if (h_open(&h, rules, NULL, 0, false) < 0) {
		CHECK(0);
		return;
	}
	h_pkt4(&h, 17, "10.2.0.1", 1000, "10.2.0.2", 2000, 0, 0, 0, "GET /", 5);  /* 1 */
	h_pkt4(&h, 17, "10.2.0.1", 1000, "10.2.0.2", 2000, 0, 0, 0, "LOGIN", 5);  /* 2 */
	h_pkt4(&h, 17, "10.2.0.1", 1000, "10.2.0.2", 2000, 0, 0, 0, "GET /", 5);  /* 3 */
	h_pkt4(&h, 17, "10.2.0.1", 1000, "10.2.0.2", 2000, 0, 0, 0, "LOGOUT", 6); /* 4 */
	h_pkt4(&h, 17, "10.2.0.1", 1000, "10.2.0.2", 2000, 0, 0, 0, "GET /", 5);  /* 5 */
	/* another flow does not see the bit */
	h_pkt4(&h, 17, "10.2.0.3", 1000, "10.2.0.2", 2000, 0, 0, 0, "GET /", 5); /* 6 */
	for (int i = 0; i < 4; i++)
		h_pkt4(&h, 17, "10.2.0.1", 1000, "10.2.0.2", 2000, 0, 0, 0, "tick", 4); /* 7-10 */
	h_pkt4(&h, 17, "10.2.0.4", 1000, "10.2.0.2", 2000, 0, 0, 0, "both", 4);		/* 11 */
	h_close(&h);
	CHECK(count(&h, 60) == 0);
	CHECK(count(&h, 61) == 1 && count_at(&h, 61, 3) == 1);
	CHECK(count(&h, 62) == 3 && count_at(&h, 62, 1) && count_at(&h, 62, 5) &&
	      count_at(&h, 62, 6));
	CHECK(count_at(&h, 63, 4) == 1);
	CHECK(count(&h, 64) == 0);
	CHECK(count(&h, 65) == 1 && count_at(&h, 65, 9) == 1);
	CHECK(count_at(&h, 66, 11) == 1 && count_at(&h, 67, 11) == 1);
	h_free(&h);
}

/* ------------------------------------------------------------ flow counters */

/* flow.pkts / flow.bytes / flow.age: the counters as of each packet, although the flow
 * stage counts the whole burst before detection. */
static void test_flow_counters(void)
{
	static const char rules[] =
		"alert udp any any -> any any (flow.pkts:toserver,=3; sid:80;)\n"
		"alert udp any any -> any any (flow.pkts_toclient:2; sid:81;)\n"
		"alert udp any any -> any any (flow.pkts:either,=2; sid:82;)\n"
		/* 43 bytes a packet (Ethernet, IPv4, UDP, 1 byte) */
		"alert udp any any -> any any (flow.bytes:toserver,>=172; flow.bytes_toclient:<50; "
		"sid:83;)\n"
		"alert udp any any -> any any (flow.age:0; flow.pkts_toserver:1; sid:84;)\n"
		"alert udp any any -> any any (flow.age:>0; sid:85;)\n";
	struct h h;
	unsigned failed = 0;
	struct nj_detect_rules *bad =
		load_text("alert ip any any -> any any (flow.pkts:sideways,3; sid:1;)\n"
			  "alert ip any any -> any any (flow.bytes:toserver; sid:2;)\n",
			  &failed);

	CHECK(failed == 2);
	nj_detect_rules_free(bad);
	if (h_open(&h, rules, NULL, 0, false) < 0) {
		CHECK(0);
		return;
	}
	/* one burst: 1-5 to the server, 6-8 back */
	for (int i = 0; i < 5; i++)
		h_pkt4(&h, 17, "10.4.0.1", 1000, "10.4.0.2", 2000, 0, 0, 0, "x", 1);
	for (int i = 0; i < 3; i++)
		h_pkt4(&h, 17, "10.4.0.2", 2000, "10.4.0.1", 1000, 0, 0, 0, "x", 1);
	h_close(&h);
	CHECK(count(&h, 80) == 1 && count_at(&h, 80, 3) == 1);
	CHECK(count(&h, 81) == 1 && count_at(&h, 81, 7) == 1);
	CHECK(count(&h, 82) == 2 && count_at(&h, 82, 2) == 1 && count_at(&h, 82, 7) == 1);
	CHECK(count(&h, 83) == 3 && count_at(&h, 83, 4) == 1 && count_at(&h, 83, 5) == 1 &&
	      count_at(&h, 83, 6) == 1);
	CHECK(count(&h, 84) == 1 && count_at(&h, 84, 1) == 1);
	CHECK(count(&h, 85) == 0);
	h_free(&h);
}

/* stream_size: the session's sizes as of each packet of a burst */
static void test_stream_size(void)
{
	static const char rules[] =
		"alert tcp any any -> any any (flow:to_server; stream_size:server,<,5; sid:90;)\n"
		"alert tcp any any -> any any (stream_size:client,>=,6; sid:91;)\n";
	struct h h;

	if (h_open(&h, rules, NULL, 0, false) < 0) {
		CHECK(0);
		return;
	}
	tcp_open(&h, "10.5.0.1", 1000, "10.5.0.2", 80); /* 1-3 */
	h_pkt4(&h, 6, "10.5.0.1", 1000, "10.5.0.2", 80, ACK | PSH, 1001, 5001, "hello", 5); /* 4 */
	h_pkt4(&h, 6, "10.5.0.2", 80, "10.5.0.1", 1000, ACK | PSH, 5001, 1006, "abcdefghij",
	       10);									/* 5 */
	h_pkt4(&h, 6, "10.5.0.1", 1000, "10.5.0.2", 80, ACK | PSH, 1006, 5011, "x", 1); /* 6 */
	h_close(&h);
	CHECK(count(&h, 90) == 3 && count_at(&h, 90, 1) && count_at(&h, 90, 3) &&
	      count_at(&h, 90, 4));
	CHECK(count(&h, 91) == 3 && count_at(&h, 91, 4) && count_at(&h, 91, 5) &&
	      count_at(&h, 91, 6));
	h_free(&h);
}

/* action-order, the alert keyword on a pass rule, the verdict object */
static const char *verdict_of(const struct h *h, uint32_t sid)
{
	for (unsigned i = 0; i < h->na; i++) {
		json_t *v = h->a[i].js ? json_object_get(h->a[i].js, "verdict") : NULL;

		if (h->a[i].sid == sid)
			return v ? json_string_value(json_object_get(v, "action")) : "";
	}
	return NULL;
}

static void test_action_order(void)
{
	static const char rules[] = "alert udp any any -> any any (content:\"x\"; sid:100;)\n"
				    "pass udp any any -> any any (content:\"x\"; alert; sid:101;)\n"
				    "reject udp any any -> any any (content:\"r\"; sid:102;)\n"
				    "pass udp any any -> any any (content:\"q\"; sid:103;)\n"
				    "alert udp any any -> any any (content:\"q\"; sid:104;)\n";
	static const char verdict[] = "outputs:\n  - eve-log:\n      types:\n        - alert:\n"
				      "            verdict: yes\n";
	struct h h;
	unsigned failed = 0;
	struct nj_detect_rules *bad =
		load_text("pass ip any any -> any any (noalert; alert; sid:1;)\n", &failed);

	CHECK(failed == 1);
	nj_detect_rules_free(bad);
	/* default order: pass first; its alert keyword makes it alert, the rest is dropped */
	yaml_cur = verdict;
	if (h_open(&h, rules, NULL, 0, false) < 0) {
		CHECK(0);
		return;
	}
	h_pkt4(&h, 17, "10.6.0.1", 1000, "10.6.0.2", 2000, 0, 0, 0, "x", 1);
	h_pkt4(&h, 17, "10.6.0.1", 1001, "10.6.0.2", 2000, 0, 0, 0, "r", 1);
	h_pkt4(&h, 17, "10.6.0.1", 1002, "10.6.0.2", 2000, 0, 0, 0, "q", 1);
	h_close(&h);
	CHECK(count(&h, 100) == 0 && count(&h, 101) == 1);
	CHECK(verdict_of(&h, 101) && strcmp(verdict_of(&h, 101), "pass") == 0);
	CHECK(count(&h, 102) == 1 && verdict_of(&h, 102) &&
	      strcmp(verdict_of(&h, 102), "alert") == 0);
	CHECK(count(&h, 103) == 0 && count(&h, 104) == 0); /* a pass without alert is silent */
	for (unsigned i = 0; i < h.na; i++) {
		json_t *v = json_object_get(h.a[i].js, "verdict");

		if (h.a[i].sid == 102)
			CHECK(v &&
			      strcmp(json_string_value(json_object_get(v, "reject-target")),
				     "to_client") == 0 &&
			      json_array_size(json_object_get(v, "reject")) == 1);
	}
	h_free(&h);

	/* alerts first: both alert, and the packet's verdict is the pass */
	yaml_cur = "action-order: [alert, pass, drop, reject]\n"
		   "outputs:\n  - eve-log:\n      types:\n        - alert:\n"
		   "            verdict: yes\n";
	if (h_open(&h, rules, NULL, 0, false) < 0) {
		CHECK(0);
		return;
	}
	h_pkt4(&h, 17, "10.6.0.1", 1000, "10.6.0.2", 2000, 0, 0, 0, "x", 1);
	h_pkt4(&h, 17, "10.6.0.1", 1002, "10.6.0.2", 2000, 0, 0, 0, "q", 1);
	h_close(&h);
	CHECK(count(&h, 100) == 1 && count(&h, 101) == 1);
	CHECK(verdict_of(&h, 100) && strcmp(verdict_of(&h, 100), "pass") == 0);
	CHECK(count(&h, 104) == 1 && verdict_of(&h, 104) &&
	      strcmp(verdict_of(&h, 104), "pass") == 0);
	h_free(&h);

	/* an incomplete order is refused */
	{
		struct nj_detect_rules *r = load_text(rules, &failed);
		struct nj_conf *c = conf_from("action-order: [alert, pass]\n", NULL, 0);

		CHECK(c && r && nj_detect_engine_build(r, c) == NULL);
		nj_conf_free(c);
		nj_detect_rules_free(r);
	}
}

/* ------------------------------------------------------------ thresholds */

static void test_thresholds(void)
{
	static const char rules[] =
		"alert udp any any -> any 1 (msg:\"limit\"; content:\"t\"; threshold:type limit, "
		"track by_src, count 2, seconds 60; sid:70;)\n"
		"alert udp any any -> any 2 (msg:\"threshold\"; content:\"t\"; "
		"threshold:type threshold, track by_dst, count 3, seconds 60; sid:71;)\n"
		"alert udp any any -> any 3 (msg:\"both\"; content:\"t\"; threshold:type both, "
		"track by_rule, count 3, seconds 60; sid:72;)\n"
		"alert udp any any -> any 4 (msg:\"detection_filter\"; content:\"t\"; "
		"detection_filter:track by_src, count 3, seconds 60; sid:73;)\n";
	struct h h;

	if (h_open(&h, rules, NULL, 0, false) < 0) {
		CHECK(0);
		return;
	}
	for (uint16_t port = 1; port <= 4; port++)
		for (int i = 0; i < 7; i++)
			h_pkt4(&h, 17, "10.3.0.1", (uint16_t)(1000 + i), "10.3.0.2", port, 0, 0, 0,
			       "t", 1);
	/* by_src: another source has its own count */
	h_pkt4(&h, 17, "10.3.0.9", 1000, "10.3.0.2", 1, 0, 0, 0, "t", 1);
	h_close(&h);
	CHECK(count(&h, 70) == 3);				/* 2 + 1 from the other source */
	CHECK(count(&h, 71) == 2);				/* the 3rd and 6th */
	CHECK(count(&h, 71) == 2 && count_at(&h, 71, 10) == 1); /* packets 8..14: 10 and 13 */
	CHECK(count(&h, 72) == 1 && count_at(&h, 72, 17) == 1);
	CHECK(count(&h, 73) == 4 && count_at(&h, 73, 25) == 1); /* once the count is exceeded */
	CHECK(h.stats.alerts_suppressed == (7 - 2) + (7 - 2) + (7 - 1) + 3);
	h_free(&h);
}

/* ------------------------------------------------------------ stream */

static void test_stream(void)
{
	static const char rules[] =
		"alert tcp any any -> any 80 (msg:\"split\"; flow:established,to_server; "
		"content:\"EVILPATTERN\"; sid:80;)\n"
		"alert tcp any any -> any 80 (msg:\"pkt only\"; flow:to_server; "
		"content:\"PART\"; dsize:<10; sid:81;)\n"
		"alert tcp any any -> any 80 (msg:\"header only\"; flags:S; sid:82;)\n"
		"alert tcp any any -> any 80 (msg:\"relative\"; content:\"GET \"; depth:4; "
		"content:\"HTTP/1.\"; distance:0; sid:83;)\n";
	struct h h;

	yaml_cur = "outputs:\n  - eve-log:\n      types:\n        - alert:\n"
		   "            payload: yes\n            payload-printable: yes\n";
	if (h_open(&h, rules, NULL, 0, true) < 0) {
		CHECK(0);
		return;
	}
	tcp_open(&h, "10.4.0.1", 40000, "10.4.0.2", 80);
	h_pkt4(&h, 6, "10.4.0.1", 40000, "10.4.0.2", 80, ACK | PSH, 1001, 5001,
	       "GET / HTTP/1.1 EVILPAT", 22);
	h_pkt4(&h, 6, "10.4.0.1", 40000, "10.4.0.2", 80, ACK | PSH, 1023, 5001, "TERN more", 9);
	h_pkt4(&h, 6, "10.4.0.1", 40000, "10.4.0.2", 80, ACK | PSH, 1032, 5001, "PART", 4);
	h_pkt4(&h, 6, "10.4.0.1", 40000, "10.4.0.2", 80, ACK | PSH, 1036, 5001, "nothing", 7);
	h_close(&h);
	CHECK(count(&h, 80) == 1 && count_at(&h, 80, 5) == 1);
	CHECK(count(&h, 81) == 1 && count_at(&h, 81, 6) == 1);
	CHECK(count(&h, 82) == 1 && count_at(&h, 82, 1) == 1);
	CHECK(count(&h, 83) == 1 && count_at(&h, 83, 4) == 1);
	for (unsigned i = 0; i < h.na; i++) {
		const char *pp = json_string_value(json_object_get(h.a[i].js, "payload_printable"));

		CHECK(json_object_get(h.a[i].js, "stream") != NULL);
		if (h.a[i].sid == 80) {
			CHECK(json_integer_value(json_object_get(h.a[i].js, "stream")) == 1);
			CHECK(pp && strstr(pp, "EVILPATTERN"));
		}
		if (h.a[i].sid == 81) {
			CHECK(json_integer_value(json_object_get(h.a[i].js, "stream")) == 0);
			CHECK(pp && !strcmp(pp, "PART"));
			CHECK(!strcmp(json_string_value(json_object_get(h.a[i].js, "payload")),
				      "UEFSVA=="));
		}
	}
	h_free(&h);
}

/*
 * Stream data as the worker hands it over: inspected by a packet of its own
 * direction once the peer acknowledged it, the rest at flow end; a hole
 * restarts matching and shows in the payload.
 */
static void test_stream_ack(void)
{
	static const char rules[] =
		"alert tcp any any -> any 80 (msg:\"very\"; content:\"VERY\"; sid:1;)\n"
		"alert tcp any any -> any 80 (msg:\"data\"; content:\"DATA\"; sid:3;)\n"
		"alert tcp any any -> any 80 (msg:\"across\"; content:\"VERYDATA\"; sid:7;)\n"
		"alert tcp any any -> any 81 (msg:\"evil\"; content:\"EVIL\"; sid:10;)\n";
	struct h h;
	unsigned n1 = 0;

	yaml_cur = "outputs:\n  - eve-log:\n      types:\n        - alert:\n"
		   "            payload: yes\n            payload-printable: yes\n";
	if (h_open(&h, rules, NULL, 0, true) < 0) {
		CHECK(0);
		return;
	}
	h.ack_mode = true;
	/* a hole, everything acknowledged by the server, no client packet after */
	tcp_open(&h, "10.4.1.1", 40000, "10.4.1.2", 80);
	h_pkt4(&h, 6, "10.4.1.1", 40000, "10.4.1.2", 80, ACK, 1001, 5001, "VERY", 4);
	h_pkt4(&h, 6, "10.4.1.1", 40000, "10.4.1.2", 80, ACK, 1009, 5001, "DATA", 4);
	h_pkt4(&h, 6, "10.4.1.2", 80, "10.4.1.1", 40000, ACK, 5001, 1013, NULL, 0);
	/* acknowledged, then inspected by the client's next packet (pcap_cnt 12) */
	tcp_open(&h, "10.4.1.1", 40001, "10.4.1.2", 81);
	h_pkt4(&h, 6, "10.4.1.1", 40001, "10.4.1.2", 81, ACK, 1001, 5001, "hello EVIL", 10);
	h_pkt4(&h, 6, "10.4.1.2", 81, "10.4.1.1", 40001, ACK, 5001, 1011, NULL, 0);
	h_pkt4(&h, 6, "10.4.1.1", 40001, "10.4.1.2", 81, ACK, 1011, 5001, NULL, 0);
	h_close(&h);
	CHECK(count(&h, 1) == 1 && count_at(&h, 1, 0) == 1);
	CHECK(count(&h, 3) == 1 && count_at(&h, 3, 0) == 1);
	CHECK(count(&h, 7) == 0);
	CHECK(count(&h, 10) == 1 && count_at(&h, 10, 12) == 1);
	for (unsigned i = 0; i < h.na; i++) {
		const char *pp = json_string_value(json_object_get(h.a[i].js, "payload_printable"));

		if (h.a[i].sid == 1 || h.a[i].sid == 3) {
			n1++;
			CHECK(pp && !strcmp(pp, "VERY[4 bytes missing]DATA"));
		}
	}
	CHECK(n1 == 2);
	h_free(&h);
}

/* ------------------------------------------------------------ transactions */

/*
 * IDS timing: the request reaches the parser when the server acknowledges it
 * (packet 5), and its rules run with the client's next packet (6), as
 * Suricata inspects a direction's transactions on that direction's packets.
 */
static void test_tx_ack(void)
{
	static const char rules[] = "alert tcp any any -> any any (msg:\"toy evil\"; toy.req; "
				    "content:\"evil\"; sid:90;)\n";
	struct h h;

	h_ack_delivery = true;
	if (h_open(&h, rules, NULL, 0, true) < 0) {
		h_ack_delivery = false;
		CHECK(0);
		return;
	}
	h_ack_delivery = false;
	tcp_open(&h, "10.5.0.1", 40000, "10.5.0.2", 7777);
	h_pkt4(&h, 6, "10.5.0.1", 40000, "10.5.0.2", 7777, ACK | PSH, 1001, 5001, "TOY evil\n", 9);
	h_pkt4(&h, 6, "10.5.0.2", 7777, "10.5.0.1", 40000, ACK, 5001, 1010, NULL, 0);
	h_pkt4(&h, 6, "10.5.0.1", 40000, "10.5.0.2", 7777, ACK, 1010, 5001, NULL, 0);
	h_close(&h);
	CHECK(count(&h, 90) == 1 && count_at(&h, 90, 6) == 1);
	h_free(&h);
}

static void test_tx(void)
{
	static const char rules[] =
		"alert tcp any any -> any any (msg:\"toy evil\"; toy.req; content:\"evil\"; "
		"metadata:policy a, policy b, created_at 2024; classtype:bad-unknown; sid:90;)\n"
		"alert tcp any any -> any any (msg:\"toy pcre\"; toy.req; pcre:\"/^w[a-z]+d$/\"; "
		"sid:91;)\n"
		"alert tcp any any -> any any (msg:\"app proto\"; app-layer-protocol:toy; "
		"content:\"TOY\"; sid:92;)\n";
	struct h h;

	if (h_open(&h, rules, NULL, 0, true) < 0) {
		CHECK(0);
		return;
	}
	tcp_open(&h, "10.5.0.1", 40000, "10.5.0.2", 7777);
	h_pkt4(&h, 6, "10.5.0.1", 40000, "10.5.0.2", 7777, ACK | PSH, 1001, 5001,
	       "TOY nice\nTOY evil\n", 18);
	h_pkt4(&h, 6, "10.5.0.2", 7777, "10.5.0.1", 40000, ACK | PSH, 5001, 1019, "OK 1\nOK 2\n",
	       10);
	h_pkt4(&h, 6, "10.5.0.1", 40000, "10.5.0.2", 7777, ACK | PSH, 1019, 5011, "TOY word\n", 9);
	h_close(&h);
	CHECK(count(&h, 90) == 1);
	CHECK(count(&h, 91) == 1);
	CHECK(count(&h, 92) == 2);
	for (unsigned i = 0; i < h.na; i++) {
		json_t *js = h.a[i].js, *md;

		if (h.a[i].sid == 90) {
			CHECK(h.a[i].tx_id == 1);
			CHECK(h.a[i].pcap_cnt == 4);
			CHECK(!strcmp(json_string_value(json_object_get(js, "app_proto")), "toy"));
			md = json_object_get(json_object_get(js, "alert"), "metadata");
			CHECK(json_array_size(json_object_get(md, "policy")) == 2);
			CHECK(!strcmp(
				json_string_value(json_array_get(json_object_get(md, "policy"), 1)),
				"b"));
			CHECK(json_array_size(json_object_get(md, "created_at")) == 1);
		}
		if (h.a[i].sid == 91)
			CHECK(h.a[i].tx_id == 2 && h.a[i].pcap_cnt == 6);
	}
	h_free(&h);
}

/* The alert xff option: extra-data adds alert.xff, overwrite replaces the client address. */
static void test_tx_xff(void)
{
	static const char rules[] =
		"alert tcp any any -> any any (msg:\"xff\"; toy.req; content:\"xff\"; sid:95;)\n";
	static const char *const modes[2] = {"extra-data", "overwrite"};

	for (int m = 0; m < 2; m++) {
		static char yaml[256];
		struct h h;

		snprintf(yaml, sizeof(yaml),
			 "outputs:\n  - eve-log:\n      types:\n        - alert:\n"
			 "            xff:\n              enabled: yes\n              mode: %s\n",
			 modes[m]);
		yaml_cur = yaml;
		if (h_open(&h, rules, NULL, 0, true) < 0) {
			CHECK(0);
			return;
		}
		tcp_open(&h, "10.6.0.1", 40000, "10.6.0.2", 7777);
		h_pkt4(&h, 6, "10.6.0.1", 40000, "10.6.0.2", 7777, ACK | PSH, 1001, 5001,
		       "TOY xff 192.0.2.7\n", 18);
		h_close(&h);
		CHECK(count(&h, 95) == 1);
		for (unsigned i = 0; i < h.na; i++) {
			json_t *js = h.a[i].js;
			const char *x = json_string_value(
				json_object_get(json_object_get(js, "alert"), "xff"));
			const char *src = json_string_value(json_object_get(js, "src_ip"));
			const char *dst = json_string_value(json_object_get(js, "dest_ip"));

			if (m == 0) {
				CHECK(x && !strcmp(x, "192.0.2.7"));
				CHECK(src && !strcmp(src, "10.6.0.1"));
			} else {
				CHECK(!x);
				CHECK(src && !strcmp(src, "192.0.2.7"));
				CHECK(dst && !strcmp(dst, "10.6.0.2"));
			}
		}
		h_free(&h);
	}
}

/* ------------------------------------------------------------ prefilter property */

static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

static const char *const words[] = {"admin",	  "passwd",  "GET",    "POST",	 "User-Agent",
				    "cmd.exe",	  "/bin/sh", "select", "union",	 "\\x90",
				    "MZ",	  "PK",	     "eval(",  "base64", "%2e%2e",
				    "wget",	  "chmod",   "ABCD",   "zz",	 "|00 01|",
				    "powershell", "SMB",     "botnet", "login",	 "Authorization"};

/* Random ET-like packet rules: ports, contents with modifiers, pcre, byte_test, dsize. */
static char *gen_rules(unsigned n)
{
	size_t cap = n * 400 + 1, len = 0;
	char *out = malloc(cap);

	out[0] = '\0';
	for (unsigned i = 0; i < n; i++) {
		char opts[512] = "";
		unsigned nc = 1 + rnd(3);
		size_t ol = 0;
		const char *proto = rnd(3) == 0 ? "udp" : rnd(2) ? "tcp" : "ip";
		const char *dp = rnd(3) == 0 ? "any" : rnd(2) ? "80" : "![53,123]";

		for (unsigned k = 0; k < nc; k++) {
			const char *w = words[rnd(NJ_ARRAY_SIZE(words))];
			bool hex = w[0] == '|', neg = k > 0 && rnd(6) == 0;

			if (w[0] == '\\')
				w = "|90 90|";
			ol += (size_t)snprintf(opts + ol, sizeof(opts) - ol, "content:%s\"%s\"; ",
					       neg ? "!" : "", w);
			if (!hex && rnd(3) == 0)
				ol += (size_t)snprintf(opts + ol, sizeof(opts) - ol, "nocase; ");
			if (k == 0 && rnd(5) == 0)
				ol += (size_t)snprintf(opts + ol, sizeof(opts) - ol, "depth:%u; ",
						       20 + rnd(40));
			if (k == 0 && rnd(6) == 0)
				ol += (size_t)snprintf(opts + ol, sizeof(opts) - ol, "offset:%u; ",
						       rnd(4));
			if (k > 0 && !neg && rnd(3) == 0)
				ol += (size_t)snprintf(opts + ol, sizeof(opts) - ol,
						       "distance:0; within:%u; ", 40 + rnd(40));
		}
		if (rnd(6) == 0)
			ol += (size_t)snprintf(opts + ol, sizeof(opts) - ol,
					       "pcre:\"/[a-z]{3}\\d/i\"; ");
		if (rnd(8) == 0)
			ol += (size_t)snprintf(opts + ol, sizeof(opts) - ol, "dsize:>%u; ",
					       10 + rnd(30));
		if (rnd(10) == 0)
			ol += (size_t)snprintf(opts + ol, sizeof(opts) - ol,
					       "byte_test:1,>,64,0; ");
		if (rnd(12) == 0)
			snprintf(opts, sizeof(opts), "pcre:\"/(admin|root)[:=]/\"; ");
		len += (size_t)snprintf(out + len, cap - len,
					"alert %s any any -> any %s (msg:\"g%u\"; %ssid:%u;)\n",
					proto, dp, i, opts, 100000 + i);
	}
	return out;
}

static const char *const *wl = words;
static unsigned nwl = NJ_ARRAY_SIZE(words);

/* Random payloads of words, hex pieces and noise. */
static uint32_t gen_payload(uint8_t *b, uint32_t max)
{
	uint32_t n = 0, want = 1 + (max > 1 ? rnd(max - 1) : 0);

	while (n < want) {
		unsigned r = rnd(4);

		if (r == 0) {
			const char *w = wl[rnd(nwl)];
			size_t l = strlen(w);

			if (w[0] == '|' || w[0] == '\\') {
				b[n++] = w[0] == '|' ? 0 : 0x90;
				if (n < want)
					b[n++] = w[0] == '|' ? 1 : 0x90;
				continue;
			}
			for (size_t k = 0; k < l && n < want; k++)
				b[n++] = (uint8_t)(rnd(4) == 0 ? (w[k] ^ 0x20) * (w[k] >= 'A') +
									 w[k] * (w[k] < 'A')
							       : w[k]);
		} else if (r == 1) {
			b[n++] = (uint8_t)rnd(256);
		} else {
			b[n++] = (uint8_t)("abcdefghij0123456789 =:/"[rnd(24)]);
		}
	}
	return n;
}

struct hit {
	uint32_t pkt, sid;
};

static int hit_cmp(const void *a, const void *b)
{
	const struct hit *x = a, *y = b;

	if (x->pkt != y->pkt)
		return x->pkt < y->pkt ? -1 : 1;
	return x->sid < y->sid ? -1 : x->sid > y->sid;
}

static unsigned collect(const struct h *h, struct hit *out)
{
	unsigned n = 0;

	for (unsigned i = 0; i < h->na; i++) {
		out[n].pkt = (uint32_t)h->a[i].pcap_cnt;
		out[n].sid = h->a[i].sid;
		n++;
	}
	qsort(out, n, sizeof(*out), hit_cmp);
	return n;
}

#define PROP_PKTS 400

/* Runs the packets through an engine; returns the sorted (packet, sid) pairs. */
static unsigned prop_run(struct nj_detect_rules *r, bool prefilter, uint8_t (*pl)[1400],
			 const uint32_t *plen, const uint8_t *proto, const uint16_t *dport,
			 struct hit *out)
{
	const char *sets[] = {"packet-alert-max=1000", prefilter ? "nightjar.detect.prefilter=yes"
								 : "nightjar.detect.prefilter=no"};
	struct h *h = calloc(1, sizeof(*h));
	unsigned n;

	if (!h || h_open_rules(h, r, sets, 2, false) < 0) {
		CHECK(0);
		free(h);
		return 0;
	}
	h->no_json = true;
	for (unsigned i = 0; i < PROP_PKTS; i++)
		h_pkt4(h, proto[i], "10.6.0.1", (uint16_t)(20000 + i), "10.6.0.2", dport[i], ACK, 1,
		       1, pl[i], plen[i]);
	h_close(h);
	CHECK(h->na < MAXA);
	n = collect(h, out);
	free(h->a);
	nj_detect_engine_free(h->e);
	nj_conf_free(h->conf);
	free(h);
	return n;
}

/* Brute force with the detect.h primitives: header, packet keywords, every list. */
static unsigned brute(struct nj_detect_rules *r, uint8_t (*pl)[1400], const uint32_t *plen,
		      const uint8_t *proto, const uint16_t *dport, struct hit *out)
{
	struct nj_detect_ctx *c = nj_detect_ctx_new(r);
	struct nj_decode_config dc;
	struct nj_decode_ctx *dec;
	struct h *h = calloc(1, sizeof(*h));
	unsigned n = 0;

	if (!h)
		return 0;
	nj_decode_config_defaults(&dc);
	dc.checksum_validation = 0;
	dec = nj_decode_create(&dc, 0);
	for (unsigned i = 0; i < PROP_PKTS; i++) {
		struct nj_pkt *p;

		h->n = 0;
		h_pkt4(h, proto[i], "10.6.0.1", (uint16_t)(20000 + i), "10.6.0.2", dport[i], ACK, 1,
		       1, pl[i], plen[i]);
		p = &h->pkts[0];
		nj_decode_burst_begin(dec);
		nj_decode_pkt(dec, p);
		for (uint32_t k = 0; k < r->nsigs; k++) {
			const struct nj_detect_sig *s = r->sigs[k];
			bool ok = nj_detect_match_header(s, p) && nj_detect_match_pkt(s, p);

			nj_detect_sig_begin(c);
			for (unsigned l = 0; ok && l < s->nlists; l++)
				ok = p->payload_len &&
				     nj_detect_inspect_buffer(c, s, &s->lists[l],
							      p->data + p->payload_off,
							      p->payload_len, NJ_DETECT_EOF);
			if (ok) {
				out[n].pkt = i + 1;
				out[n].sid = s->sid;
				n++;
			}
		}
	}
	qsort(out, n, sizeof(*out), hit_cmp);
	nj_decode_destroy(dec);
	nj_detect_ctx_free(c);
	free(h);
	return n;
}

static bool same_hits(const struct hit *a, unsigned na, const struct hit *b, unsigned nb,
		      const char *what)
{
	unsigned i = 0, j = 0, shown = 0;

	while (i < na || j < nb) {
		int c = i >= na ? 1 : j >= nb ? -1 : hit_cmp(&a[i], &b[j]);

		if (c == 0) {
			i++;
			j++;
			continue;
		}
		if (shown++ < 5)
			fprintf(stderr, "%s: packet %u sid %u only in %s\n", what,
				c < 0 ? a[i].pkt : b[j].pkt, c < 0 ? a[i].sid : b[j].sid,
				c < 0 ? "the first" : "the second");
		if (c < 0)
			i++;
		else
			j++;
	}
	return shown == 0;
}

static void prop_check(struct nj_detect_rules *r, bool with_brute, const char *name)
{
	static uint8_t pl[PROP_PKTS][1400];
	static uint32_t plen[PROP_PKTS];
	static uint8_t proto[PROP_PKTS];
	static uint16_t dport[PROP_PKTS];
	struct hit *a = malloc(sizeof(*a) * 200000), *b = malloc(sizeof(*b) * 200000),
		   *c = malloc(sizeof(*c) * 200000);
	unsigned na, nb, nc;

	for (unsigned i = 0; i < PROP_PKTS; i++) {
		plen[i] = gen_payload(pl[i], 1 + rnd(1300));
		proto[i] = rnd(2) ? 6 : 17;
		dport[i] = (uint16_t)(rnd(3) == 0 ? 80 : rnd(2) ? 53 : 1024 + rnd(60000));
	}
	na = prop_run(r, true, pl, plen, proto, dport, a);
	nb = prop_run(r, false, pl, plen, proto, dport, b);
	fprintf(stderr, "prefilter property (%s): %u signatures, %u packets, %u alerts\n", name,
		r->nsigs, PROP_PKTS, na);
	CHECK(na > 0);
	CHECK(same_hits(a, na, b, nb, "prefilter vs none"));
	if (with_brute) {
		nc = brute(r, pl, plen, proto, dport, c);
		CHECK(same_hits(a, na, c, nc, "engine vs brute force"));
	}
	free(a);
	free(b);
	free(c);
}

static void test_prefilter_property(void)
{
	char *text = gen_rules(800);
	unsigned failed = 0;
	struct nj_detect_rules *r = load_text(text, &failed);

	CHECK(r && r->nsigs > 700);
	if (r)
		prop_check(r, true, "generated");
	nj_detect_rules_free(r);
	free(text);
}

/* The ET Open packet-level rules (no flow or app-layer keywords) on payloads built from their patterns. */
static void test_prefilter_et(void)
{
	static const char *const files[] = {
		NJ_TEST_SRCROOT "/../shared/corpus/rules/et-open/emerging-attack_response.rules",
		NJ_TEST_SRCROOT "/../shared/corpus/rules/et-open/emerging-exploit.rules",
		NJ_TEST_SRCROOT "/../shared/corpus/rules/et-open/emerging-shellcode.rules",
		NJ_TEST_SRCROOT "/../shared/corpus/rules/et-open/emerging-scan.rules",
		NJ_TEST_SRCROOT "/../shared/corpus/rules/et-open/emerging-malware.rules",
		NJ_TEST_SRCROOT "/../shared/corpus/rules/et-open/emerging-dos.rules",
	};
	struct nj_detect_load_stats st;
	struct nj_detect_load_opts o = {.err_out = NULL};
	struct nj_detect_rules *all = NULL, *r = NULL;
	size_t cap = 1 << 20, len = 0;
	char *text;
	unsigned nfiles = 0;
	const char *have[NJ_ARRAY_SIZE(files)];

	for (size_t i = 0; i < NJ_ARRAY_SIZE(files); i++)
		if (access(files[i], R_OK) == 0)
			have[nfiles++] = files[i];
	if (!nfiles) {
		fprintf(stderr, "prefilter property (ET Open): corpus absent, skipped\n");
		return;
	}
	all = nj_detect_load(NULL, have, nfiles, &o, &st);
	text = malloc(cap);
	if (!all || !text) {
		CHECK(0);
		free(text);
		nj_detect_rules_free(all);
		return;
	}
	/* packet rules without state: the engine's run-time keywords are tested above */
	for (uint32_t i = 0; i < all->nsigs; i++) {
		const struct nj_detect_sig *s = all->sigs[i];
		size_t l = strlen(s->raw);
		bool app = false;

		for (unsigned k = 0; k < s->nlists; k++)
			if (all->inst[s->lists[k].inst].base != NJ_DETECT_BUF_PKT)
				app = true;
		if (app || s->app_proto || s->nbitops || s->nintops || s->nxbitops ||
		    s->threshold.type || s->ndeferred || s->app_match ||
		    s->action != NJ_ACT_ALERT || (s->flags & NJ_SIG_NOALERT) || s->stream_size)
			continue;
		if (len + l + 2 > cap)
			break;
		/* without its flow keyword: these packets are single-packet flows */
		for (size_t k = 0; k < l; k++) {
			if (!strncmp(s->raw + k, "flow:", 5) &&
			    (k == 0 || s->raw[k - 1] == ' ' || s->raw[k - 1] == ';')) {
				while (k < l && s->raw[k] != ';')
					k++;
				continue;
			}
			text[len++] = s->raw[k];
		}
		text[len++] = '\n';
	}
	text[len] = '\0';
	r = load_text(text, NULL);
	CHECK(r && r->nsigs > 50);
	if (r) {
		/* payload words: the rules' own contents */
		static char wb[4096][64];
		unsigned nw = 0;

		for (uint32_t i = 0; i < r->nsigs && nw < 4096; i++) {
			const struct nj_detect_sig *s = r->sigs[i];

			for (unsigned k = 0; k < s->nlists && nw < 4096; k++)
				for (unsigned m = 0; m < s->lists[k].n && nw < 4096; m++) {
					const struct nj_detect_el *el = &s->lists[k].el[m];

					if (el->type == NJ_EL_CONTENT && el->u.content->len < 63 &&
					    !memchr(el->u.content->bytes, 0, el->u.content->len)) {
						memcpy(wb[nw], el->u.content->bytes,
						       el->u.content->len);
						wb[nw][el->u.content->len] = '\0';
						nw++;
					}
				}
		}
		static const char *wp[4096];

		for (unsigned i = 0; i < nw; i++)
			wp[i] = wb[i];
		if (nw) {
			wl = wp;
			nwl = nw;
		}
		prop_check(r, true, "ET Open packet rules");
		wl = words;
		nwl = NJ_ARRAY_SIZE(words);
	}
	nj_detect_rules_free(r);
	nj_detect_rules_free(all);
	free(text);
}

int main(void)
{
	if (nj_app_parsers_configure(NULL) < 0)
		return 1;
	test_header();
	test_packet_semantics();
	test_pass_flow();
	test_flowbits();
	test_flow_counters();
	test_stream_size();
	test_action_order();
	test_thresholds();
	test_established_dsize();
	test_threshold_file();
	test_stream();
	test_stream_ack();
	test_tx();
	test_tx_ack();
	test_tx_xff();
	test_prefilter_property();
	test_prefilter_et();
	if (failures)
		fprintf(stderr, "%d failures\n", failures);
	return failures ? 1 : 0;
}
