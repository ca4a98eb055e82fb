/* SPDX-License-Identifier: MIT */
/*
 * HTTP/1.x parsing throughput over a typical request/response mix, fed as
 * 1448-byte TCP segments through the parser (request, then its response, in
 * order, as reassembly delivers them), with and without the EVE writer, and
 * against a baseline measured in the same run: a memchr scan for line ends
 * over the same bytes (the least any line-based parser has to do).
 *
 * The mix, per round: a browser GET with a 12 KiB HTML response
 * (Content-Length), a GET of a 48 KiB image, a POST of a 2 KiB form with a
 * small JSON answer, a chunked response (1 KiB chunks), a gzip response
 * (decompressed: 32 KiB of text), a 304 and a HEAD, on one keep-alive
 * connection; a new connection every 20 rounds.
 * Usage: bench_http [megabytes]   (default 256)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zlib.h>

#include "parsers/http/http.h"

#define SEG 1448

static const struct nj_app_parser *P = &nj_http_parser;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct buf {
	uint8_t *p;
	size_t len, cap;
};

static void add(struct buf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2;
		b->p = realloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void adds(struct buf *b, const char *s)
{
	add(b, s, strlen(s));
}

/* One exchange: request bytes and response bytes. */
struct exch {
	struct buf req, resp;
};

static const char browser[] =
	"Host: www.example.com\r\n"
	"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n"
	"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
	"Accept-Language: en-US,en;q=0.5\r\n"
	"Accept-Encoding: gzip, deflate, br\r\n"
	"Referer: https://www.example.com/index.html\r\n"
	"Cookie: session=8f3a0c1d2e4b5a69788796a5b4c3d2e1; theme=dark; consent=yes\r\n"
	"Connection: keep-alive\r\n";

static void text(struct buf *b, size_t n)
{
	static const char words[] =
		"lorem ipsum dolor sit amet consectetur adipiscing elit sed do ";

	for (size_t i = 0; i < n; i++)
		add(b, &words[i % (sizeof(words) - 1)], 1);
}

static void build(struct exch *x, unsigned *n)
{
	char h[512];
	struct buf body = {0};
	uint8_t *gz;
	uLongf gzn;

	memset(x, 0, 7 * sizeof(*x));
	/* 1: page */
	adds(&x[0].req, "GET /articles/2024/http-parsing.html?ref=home HTTP/1.1\r\n");
	adds(&x[0].req, browser);
	adds(&x[0].req, "\r\n");
	text(&body, 12 * 1024);
	snprintf(h, sizeof(h),
		 "HTTP/1.1 200 OK\r\nServer: nginx/1.24.0\r\nDate: Mon, 01 Jan 2024 00:00:00 "
		 "GMT\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: %zu\r\n"
		 "Cache-Control: max-age=600\r\nConnection: keep-alive\r\n\r\n",
		 body.len);
	adds(&x[0].resp, h);
	add(&x[0].resp, body.p, body.len);
	/* 2: image */
	adds(&x[1].req, "GET /img/hero.jpg HTTP/1.1\r\n");
	adds(&x[1].req, browser);
	adds(&x[1].req, "\r\n");
	snprintf(h, sizeof(h),
		 "HTTP/1.1 200 OK\r\nServer: nginx/1.24.0\r\nContent-Type: image/jpeg\r\n"
		 "Content-Length: %u\r\nETag: \"5f3a-1a2b\"\r\n\r\n",
		 48 * 1024);
	adds(&x[1].resp, h);
	for (unsigned i = 0; i < 48 * 1024; i++) {
		uint8_t c = (uint8_t)(i * 2654435761u >> 24);

		add(&x[1].resp, &c, 1);
	}
	/* 3: form post */
	adds(&x[2].req, "POST /api/v1/login HTTP/1.1\r\n");
	adds(&x[2].req, browser);
	adds(&x[2].req,
	     "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 2048\r\n\r\n");
	body.len = 0;
	text(&body, 2048);
	add(&x[2].req, body.p, body.len);
	adds(&x[2].resp, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
			 "26\r\n\r\n{\"ok\":true,\"user\":\"alice\"}");
	/* 4: chunked */
	adds(&x[3].req, "GET /feed HTTP/1.1\r\n");
	adds(&x[3].req, browser);
	adds(&x[3].req, "\r\n");
	adds(&x[3].resp,
	     "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n");
	for (int i = 0; i < 16; i++) {
		adds(&x[3].resp, "400\r\n");
		body.len = 0;
		text(&body, 1024);
		add(&x[3].resp, body.p, body.len);
		adds(&x[3].resp, "\r\n");
	}
	adds(&x[3].resp, "0\r\n\r\n");
	/* 5: gzip */
	adds(&x[4].req, "GET /app.js HTTP/1.1\r\n");
	adds(&x[4].req, browser);
	adds(&x[4].req, "\r\n");
	body.len = 0;
	text(&body, 32 * 1024);
	gzn = compressBound(body.len) + 32;
	gz = malloc(gzn);
	{
		z_stream z;

		memset(&z, 0, sizeof(z));
		deflateInit2(&z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY);
		z.next_in = body.p;
		z.avail_in = (uInt)body.len;
		z.next_out = gz;
		z.avail_out = (uInt)gzn;
		deflate(&z, Z_FINISH);
		gzn = z.total_out;
		deflateEnd(&z);
	}
	snprintf(h, sizeof(h),
		 "HTTP/1.1 200 OK\r\nContent-Type: application/javascript\r\nContent-Encoding: "
		 "gzip\r\nContent-Length: %lu\r\nVary: Accept-Encoding\r\n\r\n",
		 (unsigned long)gzn);
	adds(&x[4].resp, h);
	add(&x[4].resp, gz, gzn);
	free(gz);
	/* 6: 304 */
	adds(&x[5].req, "GET /style.css HTTP/1.1\r\nIf-None-Match: \"abc\"\r\n");
	adds(&x[5].req, browser);
	adds(&x[5].req, "\r\n");
	adds(&x[5].resp, "HTTP/1.1 304 Not Modified\r\nETag: \"abc\"\r\n\r\n");
	/* 7: HEAD */
	adds(&x[6].req, "HEAD /download/file.iso HTTP/1.1\r\n");
	adds(&x[6].req, browser);
	adds(&x[6].req, "\r\n");
	adds(&x[6].resp,
	     "HTTP/1.1 200 OK\r\nContent-Length: 734003200\r\nAccept-Ranges: bytes\r\n\r\n");
	free(body.p);
	*n = 7;
}

static void drain(void *st, struct nj_al_test *t, bool log)
{
	struct nj_al_txq *q = P->txq(st);

	while (q->head && q->head->done[0] && q->head->done[1]) {
		struct nj_al_tx *tx = q->head;

		q->head = tx->next;
		if (!q->head)
			q->tail = NULL;
		q->count--;
		if (log)
			P->log_tx(t->log, NULL, tx);
		P->tx_free(st, tx);
	}
	if (log) {
		t->out_len = 0;
		if (t->out)
			t->out[0] = 0;
	}
}

static void feed(void *st, struct nj_al_test *t, int dir, const struct buf *b)
{
	for (size_t o = 0; o < b->len; o += SEG) {
		uint32_t n = (uint32_t)(b->len - o < SEG ? b->len - o : SEG);

		P->parse(st, t->ctx, dir, b->p + o, n);
	}
}

/* Parses `rounds` rounds of the mix; returns seconds. */
static double run(const struct exch *x, unsigned nx, unsigned rounds, bool log, size_t *bytes,
		  unsigned *ntx)
{
	struct nj_al_test *t = nj_al_test_new(NULL, NJ_EVE_HTTP, 1);
	void *st = P->state_new();
	double t0 = now_s();

	*bytes = 0;
	*ntx = 0;
	for (unsigned r = 0; r < rounds; r++) {
		if (r && r % 20 == 0) {
			P->close(st, t->ctx, 0);
			P->close(st, t->ctx, 1);
			drain(st, t, log);
			P->state_free(st);
			st = P->state_new();
		}
		for (unsigned i = 0; i < nx; i++) {
			feed(st, t, 0, &x[i].req);
			drain(st, t, log);
			feed(st, t, 1, &x[i].resp);
			drain(st, t, log);
			*bytes += x[i].req.len + x[i].resp.len;
			(*ntx)++;
		}
	}
	P->close(st, t->ctx, 0);
	P->close(st, t->ctx, 1);
	drain(st, t, log);
	t0 = now_s() - t0;
	P->state_free(st);
	nj_al_test_free(t);
	return t0;
}

/* The baseline: find every line end of the same bytes, segment by segment. */
static double baseline(const struct exch *x, unsigned nx, unsigned rounds, size_t *sink)
{
	double t0 = now_s();
	size_t lines = 0;

	for (unsigned r = 0; r < rounds; r++)
		for (unsigned i = 0; i < nx; i++)
			for (int d = 0; d < 2; d++) {
				const struct buf *b = d ? &x[i].resp : &x[i].req;

				for (size_t o = 0; o < b->len; o += SEG) {
					size_t n = b->len - o < SEG ? b->len - o : SEG;
					const uint8_t *p = b->p + o, *e = p + n;

					while (p < e &&
					       (p = memchr(p, '\n', (size_t)(e - p))) != NULL) {
						lines++;
						p++;
					}
				}
			}
	*sink = lines;
	return now_s() - t0;
}

int main(int argc, char **argv)
{
	struct exch x[7];
	unsigned nx, rounds, ntx;
	size_t per = 0, bytes, sink;
	double mb = argc > 1 ? atof(argv[1]) : 256, tb, tp, tl;

	P->configure(NULL);
	build(x, &nx);
	for (unsigned i = 0; i < nx; i++)
		per += x[i].req.len + x[i].resp.len;
	rounds = (unsigned)(mb * 1048576 / (double)per) + 1;
	printf("HTTP mix: %u exchanges of %zu bytes per round, %u rounds, %zu-byte segments\n", nx,
	       per, rounds, (size_t)SEG);
	if (getenv("BENCH_HTTP_SMALL")) /* profiling the small exchanges only */
		rounds = 1;
	tb = baseline(x, nx, rounds, &sink);
	tp = run(x, nx, rounds, false, &bytes, &ntx);
	tl = run(x, nx, rounds, true, &bytes, &ntx);
	printf("%-46s %9.1f MB/s\n", "baseline: memchr line scan of the same bytes",
	       (double)bytes / tb / 1e6);
	printf("%-46s %9.1f MB/s %9.0f ns/tx  x%.2f baseline\n", "parser (decompression included)",
	       (double)bytes / tp / 1e6, tp * 1e9 / ntx, tb / tp);
	printf("%-46s %9.1f MB/s %9.0f ns/tx  x%.2f baseline\n", "parser + EVE http writer",
	       (double)bytes / tl / 1e6, tl * 1e9 / ntx, tb / tl);
	printf("(%zu line ends seen by the baseline)\n", sink);
	{
		/* header-heavy: the small exchanges only (form post, 304, HEAD) */
		struct exch small[3] = {x[2], x[5], x[6]};
		size_t sper = 0;
		unsigned sr;

		for (unsigned i = 0; i < 3; i++)
			sper += small[i].req.len + small[i].resp.len;
		sr = (unsigned)(mb / 4 * 1048576 / (double)sper) + 1;
		tb = baseline(small, 3, sr, &sink);
		tp = run(small, 3, sr, false, &bytes, &ntx);
		tl = run(small, 3, sr, true, &bytes, &ntx);
		printf("small exchanges only (%zu bytes per round of 3):\n", sper);
		printf("%-46s %9.1f MB/s\n", "baseline: memchr line scan of the same bytes",
		       (double)bytes / tb / 1e6);
		printf("%-46s %9.1f MB/s %9.0f ns/tx  x%.2f baseline\n", "parser",
		       (double)bytes / tp / 1e6, tp * 1e9 / ntx, tb / tp);
		printf("%-46s %9.1f MB/s %9.0f ns/tx  x%.2f baseline\n", "parser + EVE http writer",
		       (double)bytes / tl / 1e6, tl * 1e9 / ntx, tb / tl);
	}
	for (unsigned i = 0; i < nx; i++) {
		free(x[i].req.p);
		free(x[i].resp.p);
	}
	return 0;
}
