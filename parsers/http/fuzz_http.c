/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target for the HTTP parser: an input is a script of deliveries (a
 * control byte per delivery: direction, gap, close, length) fed to one flow,
 * with every transaction's buffers read and its EVE event written, under
 * small limits so that the limit paths run too.
 *
 * libFuzzer: clang -fsanitize=fuzzer,address,undefined -DNJ_LIBFUZZER with the
 * njcore sources. Without NJ_LIBFUZZER it is its own driver: with file
 * arguments it runs each file once; without, it mutates built-in seed
 * exchanges deterministically (NJ_HTTP_FUZZ_ITERS iterations, default 20000),
 * which is how it runs as a unit test.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

static struct nj_al_test *T;

static void drain(void *st, bool all)
{
	const struct nj_app_parser *p = &nj_http_parser;
	struct nj_al_txq *q = p->txq(st);

	while (q->head && (all || (q->head->done[0] && q->head->done[1]))) {
		struct nj_al_tx *tx = q->head;
		const uint8_t *fn;
		uint32_t fl;
		char ip[64];

		q->head = tx->next;
		if (!q->head)
			q->tail = NULL;
		q->count--;
		for (const struct nj_al_buffer *b = p->buffers; b->name; b++) {
			const uint8_t *d;
			uint32_t n;

			if (b->get(tx, &d, &n) && n) {
				volatile uint8_t x = d[0] ^ d[n - 1];

				(void)x;
			}
		}
		for (const struct nj_al_multibuffer *b = p->multi_buffers; b && b->name; b++) {
			const uint8_t *d;
			uint32_t n;

			for (uint32_t i = 0; i < NJ_AL_MULTI_MAX && b->get(tx, i, &d, &n); i++)
				if (n) {
					volatile uint8_t x = d[0] ^ d[n - 1];

					(void)x;
				}
		}
		nj_http_tx_filename(nj_http_tx_of(tx), 1, &fn, &fl);
		nj_http_tx_xff(nj_http_tx_of(tx), "X-Forwarded-For", tx->id & 1, ip, sizeof(ip));
		p->log_tx(T->log, NULL, tx);
		p->tx_free(st, tx);
	}
	T->out_len = 0;
	if (T->out)
		T->out[0] = 0;
	T->nevents = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct nj_app_parser *p = &nj_http_parser;
	struct nj_http_config cfg;
	size_t i = 0;
	void *st;

	if (!T)
		T = nj_al_test_new(NULL, NJ_EVE_HTTP, 1);
	if (size < 1)
		return 0;
	nj_http_config_defaults(&cfg);
	cfg.max_tx = 8;
	cfg.req_body_limit = 64;
	cfg.resp_body_limit = 128;
	cfg.field_limit = 256;
	cfg.header_bytes = 1024;
	cfg.headers_limit = 16;
	cfg.bomb_limit = 4096;
	cfg.dump_headers = data[0] & 3;
	cfg.xff = data[0] & 4;
	cfg.uri_include_all = data[0] & 8;
	cfg.double_decode_path = cfg.double_decode_query = data[0] & 16;
	nj_http_config_set(&cfg);
	p->probe(data, (uint32_t)size, data[0] & 1);
	st = p->state_new();
	i = 1;
	while (i < size) {
		uint8_t ctl = data[i++];
		int dir = ctl & 1;
		uint32_t n = (uint32_t)(ctl >> 2) * 3 + 1;

		if ((ctl & 2) && (ctl >> 2) == 63) {
			p->close(st, T->ctx, dir);
			drain(st, false);
			continue;
		}
		if ((ctl & 2) && (ctl >> 2) >= 60) {
			p->gap(st, T->ctx, dir, n);
			drain(st, false);
			continue;
		}
		if (n > size - i)
			n = (uint32_t)(size - i);
		if (n && p->parse(st, T->ctx, dir, data + i, n) >= 0)
			(void)0;
		i += n;
		drain(st, false);
	}
	p->close(st, T->ctx, 0);
	p->close(st, T->ctx, 1);
	drain(st, true);
	p->state_free(st);
	return 0;
}

#ifndef NJ_LIBFUZZER
static const char *const seeds[] = {
	"GET /a?b=%41 HTTP/1.1\r\nHost: h:81\r\nX-Forwarded-For: 1.2.3.4, 5.6.7.8\r\n\r\n",
	"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Range: bytes 0-4/5\r\n\r\nhello",
	"POST /p HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3;x\r\nabc\r\n0\r\nT: "
	"1\r\n\r\n",
	"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	"4\r\nWiki\r\n0\r\n\r\n",
	"HTTP/1.1 200 OK\r\nContent-Encoding: gzip, deflate\r\n\r\n\x1f\x8b\x08\x00\x00\x00\x00"
	"\x00\x00\x03\xcb\x48\xcd\xc9\xc9\x07\x00",
	"CONNECT a:443 HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET /\r\n",
	"HTTP/1.0 200 ok\rX: y\n\rContent-length: 68\n \nbody",
	"HEAD / HTTP/1.1\r\nHost: h\r\nFold: a\r\n b\r\n\r\n",
	"POST /u HTTP/1.1\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: "
	"96\r\n\r\n--b\r\nContent-Disposition: form-data; "
	"filename=\"f\"\r\nX\r\n\r\ndata\r\n--b\r\n"
	"Content-Disposition: x; filename*=a''%41\r\n\r\n\r\n--b--\r\n",
};

static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)rng;
}

int main(int argc, char **argv)
{
	unsigned long iters = 20000;
	const char *e = getenv("NJ_HTTP_FUZZ_ITERS");
	uint8_t buf[4096];

	if (argc > 1) {
		for (int a = 1; a < argc; a++) {
			FILE *f = fopen(argv[a], "rb");
			size_t n;

			if (!f)
				continue;
			n = fread(buf, 1, sizeof(buf), f);
			fclose(f);
			LLVMFuzzerTestOneInput(buf, n);
		}
		return 0;
	}
	if (e)
		iters = strtoul(e, NULL, 10);
	for (unsigned long it = 0; it < iters; it++) {
		size_t n = 0;
		unsigned parts = 1 + rnd() % 4;

		buf[n++] = (uint8_t)rnd();
		for (unsigned k = 0; k < parts; k++) {
			const char *s = seeds[rnd() % (sizeof(seeds) / sizeof(seeds[0]))];
			size_t l = strlen(s), off = 0;
			int dir = s[0] == 'H' && s[1] == 'T' ? 1 : 0;

			/* split into deliveries of random length */
			while (off < l && n + 2 < sizeof(buf)) {
				uint32_t q = rnd() % 40;
				uint32_t len = q * 3 + 1;

				if (len > l - off)
					len = (uint32_t)(l - off);
				q = (len - 1) / 3;
				len = q * 3 + 1;
				if (len > l - off)
					break;
				if (n + 1 + len > sizeof(buf))
					break;
				buf[n++] = (uint8_t)(q << 2 | (uint32_t)dir);
				memcpy(buf + n, s + off, len);
				n += len;
				off += len;
			}
			if (rnd() % 8 == 0 && n + 1 < sizeof(buf))
				buf[n++] = (uint8_t)(rnd() % 2 ? 0xfe : 0xf2 | (rnd() & 1));
		}
		/* mutate */
		for (unsigned m = rnd() % 6; m > 0 && n > 1; m--)
			buf[1 + rnd() % (n - 1)] = (uint8_t)rnd();
		LLVMFuzzerTestOneInput(buf, n);
	}
	nj_al_test_free(T);
	printf("fuzz_http: %lu iterations ok\n", iters);
	return 0;
}
#endif
