/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target for the TLS parser: probing, both directions' streams cut into
 * input-chosen chunks and fed with the framework's keep-what-was-not-consumed
 * rule, gaps, certificate decoding, fingerprints and the EVE writer under
 * several configurations.
 *
 * Input: one mode byte (configuration), then chunks: a control byte (bit 0 the
 * direction, the rest the length / 2 + 1; 0xff is a gap) and that many bytes.
 *
 * libFuzzer: clang -fsanitize=fuzzer,address,undefined -DNJ_LIBFUZZER with the
 * njcore sources. Without NJ_LIBFUZZER it is its own driver: with file
 * arguments it runs each file once; without, it mutates a built-in TLS 1.2
 * exchange (with a fixed certificate) deterministically
 * (NJ_TLS_FUZZ_ITERS iterations, default 20000): how it runs as a unit test.
 * NJ_TLS_FUZZ_SEED=FILE writes that seed input to FILE (a libFuzzer corpus).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../dataplane/flow.h"
#include "tls.h"

#define BUF_MAX (256u * 1024)

static struct nj_flow flow;
static struct nj_al_test *T;
static uint8_t *buf[2];
static unsigned long logged; /* events written (the driver checks its seed reaches the writer) */

static void drain(const struct nj_app_parser *p, void *st, bool all)
{
	struct nj_al_txq *q = p->txq(st);

	while (q->head && (all || (q->head->done[0] && q->head->done[1]))) {
		struct nj_al_tx *tx = q->head;

		q->head = tx->next;
		if (!q->head)
			q->tail = NULL;
		q->count--;
		p->log_tx(T->log, &flow, tx);
		p->tx_free(st, tx);
		logged += T->out_len > 0;
	}
	T->out_len = 0;
	if (T->out)
		T->out[0] = 0;
	T->nevents = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct nj_app_parser *p = &nj_tls_parser;
	struct nj_tls_config cfg;
	uint32_t have[2] = {0, 0};
	bool dead[2] = {false, false};
	uint8_t mode;
	size_t o;
	void *st;

	if (!T) {
		flow.proto = 6;
		T = nj_al_test_new(&flow, NJ_EVE_TLS, 1000000);
		buf[0] = malloc(BUF_MAX);
		buf[1] = malloc(BUF_MAX);
		if (!T || !buf[0] || !buf[1])
			abort();
	}
	if (size < 1)
		return 0;
	mode = data[0];
	nj_tls_config_defaults(&cfg);
	cfg.ja3 = (mode & 1) ? 1 : 0;
	cfg.fields = (mode & 2) ? 0xffffffffu : NJ_TLS_LOG_BASIC;
	cfg.session_resumption = !(mode & 4);
	cfg.max_msg = (mode & 8) ? 1024 : 128 * 1024;
	cfg.max_mem = (mode & 16) ? 4096 : 256 * 1024;
	cfg.max_sans = (mode & 32) ? 1 : 256;
	cfg.ja4 = !(mode & 64);
	nj_tls_config_set(&cfg);

	st = p->state_new();
	if (!st)
		return 0;
	for (o = 1; o < size;) {
		uint8_t c = data[o++];
		int dir = c & 1;
		uint32_t n = (uint32_t)(c >> 1) * 2 + 1;
		int32_t r;

		if (c == 0xff) {
			have[dir] = 0;
			if (!dead[dir])
				p->gap(st, T->ctx, dir, 100);
			continue;
		}
		if (n > size - o)
			n = (uint32_t)(size - o);
		p->probe(data + o, n, dir);
		if (!dead[dir]) {
			if (have[dir] + n > BUF_MAX) {
				dead[dir] = true;
			} else {
				memcpy(buf[dir] + have[dir], data + o, n);
				have[dir] += n;
				r = p->parse(st, T->ctx, dir, buf[dir], have[dir]);
				if (r < 0) {
					dead[dir] = true;
				} else {
					if ((uint32_t)r > have[dir])
						abort();
					memmove(buf[dir], buf[dir] + r, have[dir] - (uint32_t)r);
					have[dir] -= (uint32_t)r;
				}
			}
		}
		drain(p, st, false);
		o += n;
	}
	p->close(st, T->ctx, 0);
	p->close(st, T->ctx, 1);
	drain(p, st, true);
	p->state_free(st);
	return 0;
}

#ifndef NJ_LIBFUZZER

/* ------------------------------------------------------------------ seeds */

struct sb {
	uint8_t b[1 << 16];
	size_t n;
};

static void put(struct sb *s, const void *d, size_t n)
{
	if (s->n + n <= sizeof(s->b)) {
		memcpy(s->b + s->n, d, n);
		s->n += n;
	}
}

static void u8(struct sb *s, unsigned v)
{
	uint8_t b = (uint8_t)v;

	put(s, &b, 1);
}

static void u16(struct sb *s, unsigned v)
{
	u8(s, v >> 8);
	u8(s, v);
}

static void u24(struct sb *s, unsigned v)
{
	u8(s, v >> 16);
	u16(s, v & 0xffff);
}

/* One record around a payload. */
static void record(struct sb *s, unsigned ct, const struct sb *m)
{
	u8(s, ct);
	u16(s, 0x0303);
	u16(s, (unsigned)m->n);
	put(s, m->b, m->n);
}

/* Adds a stream's bytes to the fuzz input as chunks of the given size. */
static void chunks(struct sb *in, int dir, const struct sb *m, unsigned chunk)
{
	for (size_t o = 0; o < m->n;) {
		size_t n = m->n - o < chunk ? m->n - o : chunk;

		u8(in, (unsigned)((n - 1) / 2) << 1 | (unsigned)dir);
		/* the control byte encodes odd lengths: pad with the stream's next byte */
		n = ((n - 1) / 2) * 2 + 1;
		put(in, m->b + o, n);
		o += n;
	}
}

/* A fixed self-signed P-256 certificate (C=FR, O=Fuzz Org, CN=fuzz.test, SANs): runs repeat. */
static const uint8_t cert[] = {
	0x30, 0x82, 0x01, 0x97, 0x30, 0x82, 0x01, 0x3d, 0xa0, 0x03, 0x02, 0x01, 0x02, 0x02, 0x04,
	0x00, 0x97, 0xe6, 0x47, 0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03,
	0x02, 0x30, 0x34, 0x31, 0x0b, 0x30, 0x09, 0x06, 0x03, 0x55, 0x04, 0x06, 0x13, 0x02, 0x46,
	0x52, 0x31, 0x11, 0x30, 0x0f, 0x06, 0x03, 0x55, 0x04, 0x0a, 0x0c, 0x08, 0x46, 0x75, 0x7a,
	0x7a, 0x20, 0x4f, 0x72, 0x67, 0x31, 0x12, 0x30, 0x10, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c,
	0x09, 0x66, 0x75, 0x7a, 0x7a, 0x2e, 0x74, 0x65, 0x73, 0x74, 0x30, 0x1e, 0x17, 0x0d, 0x32,
	0x36, 0x31, 0x31, 0x32, 0x39, 0x30, 0x31, 0x33, 0x38, 0x34, 0x38, 0x5a, 0x17, 0x0d, 0x33,
	0x36, 0x31, 0x31, 0x32, 0x36, 0x30, 0x31, 0x33, 0x38, 0x34, 0x38, 0x5a, 0x30, 0x34, 0x31,
	0x0b, 0x30, 0x09, 0x06, 0x03, 0x55, 0x04, 0x06, 0x13, 0x02, 0x46, 0x52, 0x31, 0x11, 0x30,
	0x0f, 0x06, 0x03, 0x55, 0x04, 0x0a, 0x0c, 0x08, 0x46, 0x75, 0x7a, 0x7a, 0x20, 0x4f, 0x72,
	0x67, 0x31, 0x12, 0x30, 0x10, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x09, 0x66, 0x75, 0x7a,
	0x7a, 0x2e, 0x74, 0x65, 0x73, 0x74, 0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48,
	0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03,
	0x42, 0x00, 0x04, 0x01, 0x4d, 0x01, 0x66, 0xd6, 0x1e, 0xc6, 0xca, 0x3f, 0xe7, 0x36, 0x94,
	0x15, 0xad, 0x9b, 0xe4, 0x13, 0x0f, 0xeb, 0x84, 0x33, 0x2d, 0x6e, 0xb6, 0xc8, 0xfe, 0x04,
	0x84, 0x6e, 0x13, 0x79, 0x36, 0x29, 0x8d, 0x41, 0xd7, 0x8a, 0x61, 0x76, 0x8b, 0x27, 0xe2,
	0xfe, 0xa0, 0xaf, 0x4e, 0x11, 0x76, 0x81, 0x34, 0xb2, 0x39, 0x19, 0xee, 0x34, 0x6b, 0x07,
	0x9e, 0x67, 0x7c, 0xfc, 0xbb, 0x97, 0xff, 0xa3, 0x3d, 0x30, 0x3b, 0x30, 0x1a, 0x06, 0x03,
	0x55, 0x1d, 0x11, 0x04, 0x13, 0x30, 0x11, 0x82, 0x09, 0x66, 0x75, 0x7a, 0x7a, 0x2e, 0x74,
	0x65, 0x73, 0x74, 0x87, 0x04, 0x0a, 0x00, 0x00, 0x01, 0x30, 0x1d, 0x06, 0x03, 0x55, 0x1d,
	0x0e, 0x04, 0x16, 0x04, 0x14, 0xda, 0xc7, 0x4e, 0xc7, 0xde, 0x29, 0xf7, 0x06, 0x44, 0x1b,
	0xe6, 0x76, 0xa1, 0xe7, 0x1e, 0xb0, 0x64, 0x89, 0x24, 0xc6, 0x30, 0x0a, 0x06, 0x08, 0x2a,
	0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02, 0x03, 0x48, 0x00, 0x30, 0x45, 0x02, 0x20, 0x7e,
	0x13, 0x9e, 0x77, 0x76, 0x7f, 0x0a, 0xd9, 0x2d, 0x21, 0x34, 0x5c, 0xc0, 0xb2, 0x01, 0xe5,
	0x7a, 0x9d, 0xeb, 0xf5, 0x15, 0xc9, 0xeb, 0xe6, 0x3e, 0x5e, 0x7d, 0xaa, 0xbe, 0x29, 0x1d,
	0x9a, 0x02, 0x21, 0x00, 0xdb, 0x54, 0xc0, 0xd3, 0x6d, 0xe0, 0x8d, 0x33, 0x71, 0x1d, 0xb5,
	0xa5, 0x11, 0x6a, 0xec, 0x12, 0xd3, 0x52, 0xd7, 0xa9, 0x0c, 0x02, 0x51, 0xd5, 0x7c, 0xdc,
	0x7e, 0x8e, 0x10, 0xe7, 0x56, 0x4b,
};

static void seed(struct sb *in)
{
	static struct sb c, s, m;
	static const uint16_t ciphers[] = {0x0a0a, 0x1301, 0xc02f, 0x009c};
	const uint8_t *der = cert;
	uint32_t cl = sizeof(cert);
	size_t el;

	c.n = s.n = m.n = in->n = 0;
	u8(in, 0x03);
	/* ClientHello */
	u8(&m, 1);
	u24(&m, 0); /* patched */
	u16(&m, 0x0303);
	for (int i = 0; i < 32; i++)
		u8(&m, i);
	u8(&m, 0);
	u16(&m, sizeof(ciphers));
	for (size_t i = 0; i < sizeof(ciphers) / 2; i++)
		u16(&m, ciphers[i]);
	u8(&m, 1);
	u8(&m, 0);
	el = m.n;
	u16(&m, 0); /* patched */
	u16(&m, 0); /* SNI */
	u16(&m, 11);
	u16(&m, 9);
	u8(&m, 0);
	u16(&m, 6);
	put(&m, "a.test", 6);
	u16(&m, 10); /* groups */
	u16(&m, 6);
	u16(&m, 4);
	u16(&m, 0x1a1a);
	u16(&m, 0x001d);
	u16(&m, 11); /* point formats */
	u16(&m, 2);
	u8(&m, 1);
	u8(&m, 0);
	u16(&m, 16); /* ALPN */
	u16(&m, 5);
	u16(&m, 3);
	u8(&m, 2);
	put(&m, "h2", 2);
	u16(&m, 43); /* supported versions */
	u16(&m, 5);
	u8(&m, 4);
	u16(&m, 0x0304);
	u16(&m, 0x0303);
	u16(&m, 13); /* signature algorithms */
	u16(&m, 4);
	u16(&m, 2);
	u16(&m, 0x0403);
	m.b[el] = (uint8_t)((m.n - el - 2) >> 8);
	m.b[el + 1] = (uint8_t)(m.n - el - 2);
	m.b[1] = (uint8_t)((m.n - 4) >> 16);
	m.b[2] = (uint8_t)((m.n - 4) >> 8);
	m.b[3] = (uint8_t)(m.n - 4);
	record(&c, 22, &m);
	/* ServerHello, Certificate, ServerHelloDone */
	m.n = 0;
	u8(&m, 2);
	u24(&m, 2 + 32 + 1 + 2 + 1 + 2 + 5);
	u16(&m, 0x0303);
	for (int i = 0; i < 32; i++)
		u8(&m, 0x80 + i);
	u8(&m, 0);
	u16(&m, 0xc02f);
	u8(&m, 0);
	u16(&m, 5);
	u16(&m, 0xff01);
	u16(&m, 1);
	u8(&m, 0);
	u8(&m, 11);
	u24(&m, cl + 6);
	u24(&m, cl + 3);
	u24(&m, cl);
	put(&m, der, cl);
	u8(&m, 13);
	u24(&m, 0);
	u8(&m, 14);
	u24(&m, 0);
	record(&s, 22, &m);
	/* CCS and application data both ways, a heartbeat, an alert */
	m.n = 0;
	u8(&m, 1);
	record(&c, 20, &m);
	record(&s, 20, &m);
	m.n = 0;
	put(&m, "\x01\x00\x10 0123456789abcdef0123456789abcdef", 35);
	record(&c, 24, &m);
	record(&c, 23, &m);
	record(&s, 23, &m);
	m.n = 0;
	u8(&m, 2);
	u8(&m, 40);
	record(&s, 21, &m);
	chunks(in, 0, &c, 100);
	chunks(in, 1, &s, 253);
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)rng;
}

int main(int argc, char **argv)
{
	static struct sb in, mut;
	unsigned iters = 20000;
	const char *e = getenv("NJ_TLS_FUZZ_ITERS");

	if (argc > 1) {
		for (int i = 1; i < argc; i++) {
			FILE *f = fopen(argv[i], "rb");
			size_t n;

			if (!f) {
				perror(argv[i]);
				return 1;
			}
			n = fread(in.b, 1, sizeof(in.b), f);
			fclose(f);
			LLVMFuzzerTestOneInput(in.b, n);
		}
		return 0;
	}
	if (e)
		iters = (unsigned)strtoul(e, NULL, 10);
	seed(&in);
	if (getenv("NJ_TLS_FUZZ_SEED")) {
		/* writes the seed input (a starting corpus for libFuzzer) and stops */
		FILE *f = fopen(getenv("NJ_TLS_FUZZ_SEED"), "wb");

		if (!f || fwrite(in.b, 1, in.n, f) != in.n) {
			perror("NJ_TLS_FUZZ_SEED");
			return 1;
		}
		fclose(f);
		return 0;
	}
	LLVMFuzzerTestOneInput(in.b, in.n);
	if (!logged) {
		fprintf(stderr, "fuzz_tls: the seed exchange wrote no event\n");
		return 1;
	}
	for (unsigned it = 0; it < iters; it++) {
		unsigned k = 1 + rnd() % 3;

		memcpy(mut.b, in.b, in.n);
		mut.n = in.n;
		mut.b[0] = (uint8_t)rnd();
		while (k--) {
			size_t at = 1 + rnd() % (mut.n - 1);

			switch (rnd() % 6) {
			case 0: mut.b[at] ^= (uint8_t)(1u << (rnd() % 8)); break;
			case 1: mut.b[at] = (uint8_t)rnd(); break;
			case 2: mut.b[at] = (uint8_t)(rnd() % 2 ? 0xff : 0x00); break;
			case 3: mut.n = at; break; /* truncate */
			case 4: {		   /* duplicate a slice */
				size_t len = 1 + rnd() % 64;

				if (at + len <= mut.n && mut.n + len <= sizeof(mut.b)) {
					memmove(mut.b + at + len, mut.b + at, mut.n - at);
					mut.n += len;
				}
				break;
			}
			default: { /* drop a slice */
				size_t len = 1 + rnd() % 64;

				if (at + len < mut.n) {
					memmove(mut.b + at, mut.b + at + len, mut.n - at - len);
					mut.n -= len;
				}
				break;
			}
			}
			if (mut.n < 2)
				break;
		}
		LLVMFuzzerTestOneInput(mut.b, mut.n);
	}
	printf("fuzz_tls: %u iterations ok, %lu events written\n", iters, logged);
	return 0;
}

#endif
