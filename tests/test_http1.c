/* SPDX-License-Identifier: MIT */
/*
 * HTTP/1.x parser: exchanges fed whole, split at every byte and byte by byte
 * (emulating the framework's keeping of unconsumed bytes) must give the same
 * transactions and EVE JSON; chunked, gzip, pipelining, HEAD, 100-continue,
 * CONNECT, anomalies, URI normalisation, buffers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <zlib.h>

#include "parsers/applayer.h"
#include "parsers/http1/http.h"
#include "tests/nj_test.h"

static const struct nj_app_parser *P = &nj_http_parser;

/* Framework emulation: keeps unconsumed bytes per direction. */
struct feeder {
	void *st;
	struct nj_al_test *t;
	uint8_t keep[2][1 << 17];
	uint32_t klen[2];
};

static void feed(struct feeder *f, int dir, const uint8_t *d, uint32_t n)
{
	uint8_t *b = f->keep[dir];
	int32_t r;

	memcpy(b + f->klen[dir], d, n);
	f->klen[dir] += n;
	r = P->parse(f->st, f->t->ctx, dir, b, f->klen[dir]);
	if (r < 0) {
		f->klen[dir] = 0;
		return;
	}
	memmove(b, b + r, f->klen[dir] - (uint32_t)r);
	f->klen[dir] -= (uint32_t)r;
}

static void drain(struct feeder *f, bool all)
{
	struct nj_al_txq *q = P->txq(f->st);

	while (q->head && (all || (q->head->done[0] && q->head->done[1]))) {
		struct nj_al_tx *tx = q->head;

		q->head = tx->next;
		if (!q->head)
			q->tail = NULL;
		q->count--;
		P->log_tx(f->t->log, NULL, tx);
		P->tx_free(f->st, tx);
	}
}

/* Runs an exchange (request bytes, then response bytes) split every `step` bytes; returns the EVE lines. */
static char *run(const char *req, size_t reqlen, const char *resp, size_t resplen, uint32_t step,
		 unsigned *nevents)
{
	struct feeder *f = calloc(1, sizeof(*f));
	char *out;

	f->t = nj_al_test_new(NULL, NJ_EVE_HTTP, 1);
	f->st = P->state_new();
	for (size_t i = 0; i < reqlen; i += step)
		feed(f, 0, (const uint8_t *)req + i,
		     (uint32_t)(reqlen - i < step ? reqlen - i : step));
	drain(f, false);
	for (size_t i = 0; i < resplen; i += step)
		feed(f, 1, (const uint8_t *)resp + i,
		     (uint32_t)(resplen - i < step ? resplen - i : step));
	drain(f, false);
	P->close(f->st, f->t->ctx, 0);
	P->close(f->st, f->t->ctx, 1);
	drain(f, true);
	out = strdup(f->t->out ? f->t->out : "");
	if (nevents)
		*nevents = f->t->nevents;
	P->state_free(f->st);
	nj_al_test_free(f->t);
	free(f);
	return out;
}

/* Same output for every split. */
static char *run_all_splits(const char *req, size_t reqlen, const char *resp, size_t resplen)
{
	char *whole = run(req, reqlen, resp, resplen, 1u << 30, NULL);
	unsigned bad = 0;

	for (uint32_t step = 1; step < 40; step++) {
		char *o = run(req, reqlen, resp, resplen, step, NULL);

		if (strcmp(o, whole) != 0) {
			if (!bad)
				fprintf(stderr, "split %u:\n%s\nwhole:\n%s\n", step, o, whole);
			bad++;
		}
		free(o);
	}
	CHECK(bad == 0);
	return whole;
}

static json_t *line(const char *out, int n)
{
	const char *p = out;

	while (n-- > 0 && p) {
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	if (!p || !*p)
		return NULL;
	return json_loadb(p, strcspn(p, "\n"), 0, NULL);
}

static const char *hs(json_t *e, const char *k)
{
	return json_string_value(json_object_get(json_object_get(e, "http"), k));
}

static long long hi(json_t *e, const char *k)
{
	return json_integer_value(json_object_get(json_object_get(e, "http"), k));
}

static void test_basic_pipelined(void)
{
	static const char req[] =
		"GET /a/./b//c/../d%41?x=%42 HTTP/1.1\r\nHost: WWW.Example.COM:8080\r\n"
		"User-Agent: ua/1.0\r\nReferer: http://r/\r\n\r\n"
		"POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello"
		"HEAD /h HTTP/1.1\r\nHost: h\r\n\r\n";
	static const char resp[] =
		"HTTP/1.1 301 Moved\r\nLocation: /new\r\nContent-Type: text/html\r\n"
		"Content-Length: 3\r\n\r\nabc"
		"HTTP/1.1 100 Continue\r\n\r\n"
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		"3;ext=1\r\nxyz\r\n2\r\nzz\r\n0\r\nTrailer: t\r\n\r\n"
		"HTTP/1.1 200 OK\r\nContent-Length: 999\r\n\r\n";
	char *out = run_all_splits(req, sizeof(req) - 1, resp, sizeof(resp) - 1);
	json_t *e0 = line(out, 0), *e1 = line(out, 1), *e2 = line(out, 2);

	CHECK(e0 && e1 && e2 && !line(out, 3));
	if (!e0 || !e1 || !e2) {
		fprintf(stderr, "%s\n", out);
		free(out);
		return;
	}
	CHECK(strcmp(hs(e0, "hostname"), "www.example.com") == 0);
	CHECK(hi(e0, "http_port") == 8080);
	CHECK(strcmp(hs(e0, "url"), "/a/./b//c/../d%41?x=%42") == 0);
	CHECK(strcmp(hs(e0, "http_user_agent"), "ua/1.0") == 0);
	CHECK(strcmp(hs(e0, "http_refer"), "http://r/") == 0);
	CHECK(strcmp(hs(e0, "http_method"), "GET") == 0);
	CHECK(strcmp(hs(e0, "protocol"), "HTTP/1.1") == 0);
	CHECK(hi(e0, "status") == 301);
	CHECK(strcmp(hs(e0, "redirect"), "/new") == 0);
	CHECK(strcmp(hs(e0, "http_content_type"), "text/html") == 0);
	CHECK(hi(e0, "length") == 3);
	CHECK(json_integer_value(json_object_get(e0, "tx_id")) == 0);
	CHECK(strcmp(hs(e1, "http_method"), "POST") == 0);
	CHECK(hi(e1, "status") == 200); /* after 100 Continue */
	CHECK(hi(e1, "length") == 5);	/* de-chunked */
	CHECK(strcmp(hs(e2, "http_method"), "HEAD") == 0);
	CHECK(hi(e2, "length") == 0); /* HEAD: no body despite Content-Length */
	json_decref(e0);
	json_decref(e1);
	json_decref(e2);
	free(out);
}

/* Buffers of a parsed request: normalised uri, host, headers without cookies. */
static void test_buffers(void)
{
	static const char req[] = "GET /x/../a%2fb?q=1 HTTP/1.1\r\nHost: Ex.Com\r\nCookie: c=1\r\n"
				  "X-A: 1\r\n\r\n";
	struct nj_al_test *t = nj_al_test_new(NULL, NJ_EVE_HTTP, 1);
	void *st = P->state_new();
	const struct nj_al_tx *tx;
	const uint8_t *d;
	uint32_t n;
	int found = 0;

	CHECK(P->parse(st, t->ctx, 0, (const uint8_t *)req, sizeof(req) - 1) == sizeof(req) - 1);
	tx = P->txq(st)->head;
	CHECK(tx && tx->done[0]);
	for (const struct nj_al_buffer *b = P->buffers; tx && b->name; b++) {
		if (!b->get(tx, &d, &n))
			continue;
		if (strcmp(b->name, "http.uri") == 0) {
			CHECK(n == 8 && memcmp(d, "/a/b?q=1", 8) == 0);
			found++;
		} else if (strcmp(b->name, "http.host") == 0) {
			CHECK(n == 6 && memcmp(d, "ex.com", 6) == 0);
			found++;
		} else if (strcmp(b->name, "http.header") == 0 && b->dir == 0) {
			CHECK(n == 22 && memcmp(d, "Host: Ex.Com\r\nX-A: 1\r\n", 22) == 0);
			found++;
		} else if (strcmp(b->name, "http.cookie") == 0) {
			CHECK(n == 3 && memcmp(d, "c=1", 3) == 0);
			found++;
		}
	}
	CHECK(found == 4);
	P->state_free(st);
	nj_al_test_free(t);
}

static void test_gzip(void)
{
	static const char body[] = "the quick brown fox jumps over the lazy dog, again and again";
	uint8_t gz[256];
	char resp[1024];
	z_stream z;
	size_t rl;
	struct nj_al_test *t = nj_al_test_new(NULL, NJ_EVE_HTTP, 1);
	void *st = P->state_new();
	static const char req[] = "GET /f.txt HTTP/1.1\r\nHost: h\r\n\r\n";
	const uint8_t *d;
	uint32_t n;
	bool ok = false;

	memset(&z, 0, sizeof(z));
	CHECK(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK);
	z.next_in = (Bytef *)body;
	z.avail_in = sizeof(body) - 1;
	z.next_out = gz;
	z.avail_out = sizeof(gz);
	CHECK(deflate(&z, Z_FINISH) == Z_STREAM_END);
	deflateEnd(&z);
	rl = (size_t)snprintf(
		resp, sizeof(resp),
		"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %lu\r\n\r\n",
		(unsigned long)z.total_out);
	memcpy(resp + rl, gz, z.total_out);
	rl += z.total_out;
	P->parse(st, t->ctx, 0, (const uint8_t *)req, sizeof(req) - 1);
	CHECK(P->parse(st, t->ctx, 1, (const uint8_t *)resp, (uint32_t)rl) == (int32_t)rl);
	for (const struct nj_al_buffer *b = P->buffers; b->name; b++)
		if (strcmp(b->name, "http.response_body") == 0 && P->txq(st)->head &&
		    b->get(P->txq(st)->head, &d, &n))
			ok = n == sizeof(body) - 1 && memcmp(d, body, n) == 0;
	CHECK(ok);
	P->state_free(st);
	nj_al_test_free(t);
}

static void test_anomalies(void)
{
	unsigned ev = 0;
	static const char req[] = "GET / HTTP/1.1\r\nContent-Length: x\r\nbadheader\r\n\r\n";
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
				   "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
	char *out = run(req, sizeof(req) - 1, resp, sizeof(resp) - 1, 1u << 30, &ev);

	/* missing host, bad content-length, invalid header, unmatched response */
	CHECK(ev == 4);
	free(out);
	/* probe */
	CHECK(P->probe((const uint8_t *)"GET / HTTP/1.0\r\n", 16, 0) == NJ_PROBE_YES);
	CHECK(P->probe((const uint8_t *)"GE", 2, 0) == NJ_PROBE_MORE);
	CHECK(P->probe((const uint8_t *)"\x16\x03\x01", 3, 0) == NJ_PROBE_NO);
	CHECK(P->probe((const uint8_t *)"HTTP/1.1 200", 12, 1) == NJ_PROBE_YES);
	CHECK(P->probe((const uint8_t *)"SSH-2.0", 7, 1) == NJ_PROBE_NO);
}

int main(void)
{
	test_basic_pipelined();
	test_buffers();
	test_gzip();
	test_anomalies();
	if (failures)
		fprintf(stderr, "%d failures\n", failures);
	return failures ? 1 : 0;
}
