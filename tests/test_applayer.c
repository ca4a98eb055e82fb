/* SPDX-License-Identifier: MIT */
/*
 * The app-layer framework with a toy line protocol ("TOY <word>\n" requests,
 * "OK <word>\n" responses): detection by probing with port hints, buffering
 * of unconsumed bytes, gaps, transactions logged in order through a real EVE
 * file, "failed" detection, anomaly events, and the test-support logger.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "dataplane/flow.h"
#include "dataplane/stream.h"
#include "export/eve.h"
#include "parsers/applayer.h"
#include "tests/nj_test.h"

struct toy_tx {
	struct nj_al_tx hdr;
	char req[32], resp[32];
};

struct toy_state {
	struct nj_al_txq q;
	unsigned gaps, closes;
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
	struct nj_al_tx *tx = s->q.head;

	while (tx) {
		struct nj_al_tx *n = tx->next;

		free(tx);
		tx = n;
	}
	free(s);
}

static int32_t toy_parse(void *st, struct nj_al_ctx *c, int dir, const uint8_t *d, uint32_t len)
{
	struct toy_state *s = st;
	uint32_t used = 0;

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
			if (!t) {
				nj_al_event(c, dir, "UNMATCHED_RESPONSE");
			} else {
				struct toy_tx *tx = (struct toy_tx *)t;

				snprintf(tx->resp, sizeof(tx->resp), "%.*s",
					 (int)(n > 3 ? n - 3 : 0), d + used + 3);
				t->done[1] = 1;
				/* "OK SWITCH": what follows is detected again (a protocol
				 * change, as HTTP CONNECT) */
				if (strcmp(tx->resp, "SWITCH") == 0 &&
				    nj_al_request_proto_change(c, 7777))
					return (int32_t)(used + n + 1);
			}
		}
		used += n + 1;
	}
}

static void toy_gap(void *st, struct nj_al_ctx *c, int dir, uint32_t len)
{
	(void)c;
	(void)dir;
	(void)len;
	((struct toy_state *)st)->gaps++;
}

static void toy_close(void *st, struct nj_al_ctx *c, int dir)
{
	(void)c;
	(void)dir;
	((struct toy_state *)st)->closes++;
}

static struct nj_al_txq *toy_txq(void *st)
{
	return &((struct toy_state *)st)->q;
}

static void toy_log(struct nj_al_log *lg, const struct nj_flow *f, const struct nj_al_tx *t)
{
	const struct toy_tx *tx = (const struct toy_tx *)t;
	struct nj_json *j = nj_al_log_begin(lg, t, NJ_DIR_TOSERVER);

	(void)f;
	nj_json_open_obj(j, "toy");
	nj_json_str(j, "req", tx->req);
	if (t->done[1])
		nj_json_str(j, "resp", tx->resp);
	nj_json_close_obj(j);
	nj_al_log_commit(lg);
}

static bool toy_buf_req(const struct nj_al_tx *t, const uint8_t **d, uint32_t *len)
{
	const struct toy_tx *tx = (const struct toy_tx *)t;

	*d = (const uint8_t *)tx->req;
	*len = (uint32_t)strlen(tx->req);
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
	.gap = toy_gap,
	.close = toy_close,
	.txq = toy_txq,
	.tx_free = toy_free_tx,
	.log_tx = toy_log,
	.buffers = toy_buffers,
};
NJ_APP_PARSER_REGISTER(toy_parser)

static unsigned hook_calls[2];
static char hook_last_req[32];

static void hook(void *arg, struct nj_flow *f, const struct nj_app_parser *p, struct nj_al_tx *tx,
		 int dir)
{
	const uint8_t *d;
	uint32_t n;

	(void)arg;
	(void)f;
	if (p != &toy_parser)
		return; /* other registered parsers (HTTP, DNS) are not under test here */
	hook_calls[dir]++;
	if (dir == 0 && p->buffers[0].get(tx, &d, &n))
		snprintf(hook_last_req, sizeof(hook_last_req), "%.*s", (int)n, d);
}

static void feed(struct nj_al_worker *w, struct nj_flow *f, int dir, const char *s, unsigned flags)
{
	nj_al_stream_data(w, f, dir, (const uint8_t *)s, s ? (uint32_t)strlen(s) : 0, flags, NULL);
}

static void init_flow(struct nj_flow *f, uint16_t sport, uint16_t dport)
{
	memset(f, 0, sizeof(*f));
	f->proto = 6;
	f->addr[0][0] = 10;
	f->addr[1][0] = 10;
	f->addr[1][3] = 2;
	f->port[0] = sport;
	f->port[1] = dport;
	f->last_us = 1500000000000000ull;
}

static char *slurp(const char *path)
{
	FILE *fp = fopen(path, "rb");
	char *s;
	long n;

	if (!fp)
		return NULL;
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	s = calloc(1, (size_t)n + 1);
	if (s && fread(s, 1, (size_t)n, fp) != (size_t)n) {
		free(s);
		s = NULL;
	}
	fclose(fp);
	return s;
}

static void test_registry(void)
{
	CHECK(nj_app_parser_by_name("toy") == &toy_parser);
	CHECK(toy_parser.id >= 1);
	CHECK(nj_app_parser_by_id(toy_parser.id) == &toy_parser);
	CHECK(strcmp(nj_app_proto_name(toy_parser.id), "toy") == 0);
	CHECK(strcmp(nj_app_proto_name(NJ_APP_PROTO_FAILED), "failed") == 0);
	CHECK(nj_app_proto_name(0) == NULL);
	CHECK(nj_app_parsers_configure(NULL) == 0);
}

static void test_runtime(void)
{
	char dir[] = "/tmp/nj_applayer_XXXXXX", path[256], err[256];
	struct nj_eve_config ec;
	struct nj_eve *eve;
	struct nj_al_config cfg;
	struct nj_al_worker *w;
	struct nj_flow f, g, h;
	char *out;
	json_t *js;
	json_error_t je;
	unsigned lines = 0;

	CHECK(mkdtemp(dir) != NULL);
	nj_eve_config_defaults(&ec);
	ec.nsinks = 1;
	snprintf(ec.sinks[0].path, sizeof(ec.sinks[0].path), "%s/eve.json", dir);
	ec.sinks[0].types = ~0u;
	ec.sinks[0].zstd = false;
	ec.offline = true;
	eve = nj_eve_open(&ec, 1, err, sizeof(err));
	CHECK(eve != NULL);
	if (!eve)
		return;
	nj_al_config_defaults(&cfg);
	cfg.max_buffer = 64;
	w = nj_al_worker_create(&cfg, nj_eve_worker(eve, 0));
	nj_al_worker_set_tx_hook(w, hook, NULL);

	/* f: detected on a port hint, lines split across calls, response before logging */
	init_flow(&f, 40000, 7777);
	feed(w, &f, 0, "TO", 0);
	CHECK(f.app_proto == 0);
	feed(w, &f, 0, "Y a", 0);
	CHECK(f.app_proto == toy_parser.id);
	feed(w, &f, 0, "lpha\nTOY beta\nTOY ga", 0);
	CHECK(hook_calls[0] == 2);
	CHECK(strcmp(hook_last_req, "beta") == 0);
	feed(w, &f, 1, "OK 1\nOK 2\n", 0);
	CHECK(hook_calls[1] == 2);
	CHECK(nj_al_worker_stats(w)->tx[toy_parser.id] == 2);
	feed(w, &f, 0, NULL, NJ_STREAM_GAP);
	feed(w, &f, 0, "TOY delta\n", 0);
	feed(w, &f, 0, NULL, NJ_STREAM_EOF);
	feed(w, &f, 1, "OK 3\nOK 4\nOK 5\n", 0); /* "TOY ga" died in the gap: 2 unmatched */
	CHECK(nj_al_worker_stats(w)->events == 2);
	CHECK(nj_al_worker_stats(w)->gaps == 1);
	nj_al_flow_end(w, &f);
	CHECK(f.app_state == NULL);
	CHECK(nj_al_worker_stats(w)->tx[toy_parser.id] == 3);

	/* g: both directions say no (to every registered parser): failed */
	init_flow(&g, 40001, 22);
	feed(w, &g, 0, "SSH-2.0-OpenSSH_9.2p1\r\n", 0);
	CHECK(g.app_proto == 0);
	feed(w, &g, 1, "SSH-2.0-OpenSSH_8.4\r\n", 0);
	/* some parsers want more bytes (SMB looks for a record further in): at the latest the
	 * flow's end settles it */
	nj_al_flow_end(w, &g);
	CHECK(g.app_proto == NJ_APP_PROTO_FAILED);

	/* i: a protocol change; the bytes after the switch line are detected again (toy
	 * again: its transactions count from 0); app_proto_orig keeps the old protocol */
	{
		struct nj_flow i;
		uint64_t tx_before = nj_al_worker_stats(w)->tx[toy_parser.id];
		uint64_t flows_before = nj_al_worker_stats(w)->flows[toy_parser.id];

		init_flow(&i, 40003, 7777);
		feed(w, &i, 0, "TOY connect\n", 0);
		feed(w, &i, 1, "OK SWITCH\n", 0);
		CHECK(i.app_proto_orig == toy_parser.id);
		CHECK(nj_al_worker_stats(w)->tx[toy_parser.id] == tx_before + 1);
		CHECK(i.app_proto == toy_parser.id); /* kept until detection decides */
		feed(w, &i, 0, "TOY inner\nTO", 0);
		CHECK(nj_al_worker_stats(w)->flows[toy_parser.id] == flows_before + 2);
		feed(w, &i, 1, "OK x\n", 0);
		nj_al_flow_end(w, &i);
		CHECK(i.app_proto == toy_parser.id && i.app_proto_orig == toy_parser.id);
		CHECK(nj_al_worker_stats(w)->tx[toy_parser.id] == tx_before + 2);

		/* nothing recognisable after the switch: failed, the original kept */
		init_flow(&i, 40004, 7777);
		feed(w, &i, 0, "TOY connect\n", 0);
		feed(w, &i, 1, "OK SWITCH\n", 0);
		feed(w, &i, 0, "SSH-2.0-OpenSSH_9.2p1\r\n", 0);
		feed(w, &i, 1, "SSH-2.0-OpenSSH_8.4\r\n", 0);
		nj_al_flow_end(w, &i);
		CHECK(i.app_proto_orig == toy_parser.id);
	}

	/* h: a line longer than max_buffer: the direction is abandoned, counted */
	init_flow(&h, 40002, 7777);
	feed(w, &h, 0, "TOY ", 0);
	for (int i = 0; i < 10; i++)
		feed(w, &h, 0, "xxxxxxxxxxxxxxxxxxxx", 0);
	CHECK(nj_al_worker_stats(w)->buffer_overflow == 1);
	nj_al_flow_end(w, &h);

	nj_eve_worker_flush(nj_eve_worker(eve, 0));
	nj_al_worker_destroy(w);
	nj_eve_close(eve);

	out = slurp(ec.sinks[0].path);
	CHECK(out != NULL);
	for (char *line = out ? strtok(out, "\n") : NULL; line; line = strtok(NULL, "\n")) {
		const char *et, *req;

		js = json_loads(line, 0, &je);
		if (!js)
			fprintf(stderr, "bad json: %s (%s)\n", line, je.text);
		CHECK(js != NULL);
		if (!js)
			continue;
		et = json_string_value(json_object_get(js, "event_type"));
		if (et && strcmp(et, "other") == 0) {
			static const char *const want_req[] = {"alpha",	  "beta",  "delta",
							       "connect", "inner", "connect"};
			static const char *const want_resp[] = {"1",	  "2", "3",
								"SWITCH", "x", "SWITCH"};
			static const int64_t want_id[] = {0, 1, 2, 0, 0, 0};
			json_t *toy = json_object_get(js, "toy");

			req = json_string_value(json_object_get(toy, "req"));
			CHECK(lines < 6);
			if (lines < 6) {
				CHECK(json_integer_value(json_object_get(js, "tx_id")) ==
				      want_id[lines]);
				CHECK(req && strcmp(req, want_req[lines]) == 0);
				CHECK(strcmp(json_string_value(json_object_get(toy, "resp")),
					     want_resp[lines]) == 0);
			}
			lines++;
		} else if (et && strcmp(et, "anomaly") == 0) {
			json_t *a = json_object_get(js, "anomaly");

			CHECK(strcmp(json_string_value(json_object_get(a, "type")), "applayer") ==
			      0);
		}
		json_decref(js);
	}
	/* the gap dropped the partial line "TOY ga": tx 2 is "delta" */
	CHECK(lines == 6);
	free(out);
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	CHECK(system(path) == 0);
}

static void test_support(void)
{
	struct nj_al_test *t = nj_al_test_new(NULL, NJ_EVE_OTHER, 1);
	void *st = toy_new();
	json_t *js;
	json_error_t je;

	CHECK(toy_parse(st, t->ctx, 0, (const uint8_t *)"TOY x\n", 6) == 6);
	CHECK(toy_parse(st, t->ctx, 1, (const uint8_t *)"OK y\nOK z\n", 10) == 10);
	CHECK(t->nevents == 1 && strcmp(t->events[0], "UNMATCHED_RESPONSE") == 0);
	toy_log(t->log, NULL, toy_txq(st)->head);
	js = json_loads(t->out, JSON_DISABLE_EOF_CHECK, &je);
	CHECK(js != NULL);
	CHECK(strcmp(json_string_value(json_object_get(js, "event_type")), "other") == 0);
	CHECK(strcmp(json_string_value(json_object_get(json_object_get(js, "toy"), "resp")), "y") ==
	      0);
	json_decref(js);
	toy_free(st);
	nj_al_test_free(t);
}

int main(void)
{
	test_registry();
	test_runtime();
	test_support();
	if (failures)
		fprintf(stderr, "%d failures\n", failures);
	return failures ? 1 : 0;
}
