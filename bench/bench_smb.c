/* SPDX-License-Identifier: MIT */
/*
 * SMB parsing throughput for an SMB2 file read: one session (negotiate, tree
 * connect, create) then READ requests of 1 MiB and their responses, the
 * to-client stream delivered in TCP-sized pieces (1448 bytes) and in 64 KiB
 * pieces, through the framework's contract (unconsumed bytes kept and given
 * again). Parsing only (the data goes to no file), with 64 KiB and 4 KiB
 * READs, and with the data carved through parsers/files.c (plain, and with
 * SHA-256). Compared with a memcpy of the same bytes in the same pieces (what
 * any parser that buffers its input pays at least), measured in the same
 * run. Usage: bench_smb [MiB per run (default 512)]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "parsers/applayer.h"
#include "parsers/files.h"
#include "parsers/smb/smb.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct buf {
	uint8_t *b;
	size_t n, cap;
};

static void put(struct buf *m, const void *p, size_t n)
{
	if (m->n + n > m->cap) {
		m->cap = (m->n + n) * 2;
		m->b = realloc(m->b, m->cap);
		if (!m->b)
			abort();
	}
	if (p)
		memcpy(m->b + m->n, p, n);
	else
		memset(m->b + m->n, 0x5a, n);
	m->n += n;
}

static void u16(struct buf *m, unsigned v)
{
	uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};

	put(m, b, 2);
}

static void u32(struct buf *m, uint32_t v)
{
	u16(m, v & 0xffff);
	u16(m, v >> 16);
}

static void u64(struct buf *m, uint64_t v)
{
	u32(m, (uint32_t)v);
	u32(m, (uint32_t)(v >> 32));
}

static size_t nb_begin(struct buf *m)
{
	put(m, "\0\0\0\0", 4);
	return m->n - 4;
}

static void nb_end(struct buf *m, size_t at)
{
	size_t len = m->n - at - 4;

	m->b[at + 1] = (uint8_t)(len >> 16);
	m->b[at + 2] = (uint8_t)(len >> 8);
	m->b[at + 3] = (uint8_t)len;
}

static void hdr(struct buf *m, unsigned cmd, uint32_t flags, uint64_t msg, uint32_t tree)
{
	put(m, "\xfeSMB", 4);
	u16(m, 64);
	u16(m, 1);
	u32(m, 0);
	u16(m, cmd);
	u16(m, 1);
	u32(m, flags);
	u32(m, 0);
	u64(m, msg);
	u32(m, 0);
	u32(m, tree);
	u64(m, 0x4000000045ull);
	put(m, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16);
}

static const uint8_t fid[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

/* The to-server and to-client streams of a session reading total bytes in chunk-sized READs. */
static void build(struct buf *ts, struct buf *tc, size_t total, uint32_t chunk)
{
	size_t at;
	uint64_t msg = 1;

	at = nb_begin(ts);
	hdr(ts, 3, 0, msg, 0);
	u16(ts, 9);
	u16(ts, 0);
	u16(ts, 72);
	u16(ts, 4);
	put(ts, "s\0x\0", 4);
	nb_end(ts, at);
	at = nb_begin(tc);
	hdr(tc, 3, 1, msg, 1);
	u16(tc, 16);
	put(tc, "\x01\0\0\0\0\0\0\0\0\0\0\0\0\0", 14);
	nb_end(tc, at);
	msg++;
	for (size_t off = 0; off < total; off += chunk, msg++) {
		at = nb_begin(ts);
		hdr(ts, 8, 0, msg, 1);
		u16(ts, 49);
		u16(ts, 0);
		u32(ts, chunk);
		u64(ts, off);
		put(ts, fid, 16);
		put(ts, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 17);
		nb_end(ts, at);
		at = nb_begin(tc);
		hdr(tc, 8, 1, msg, 1);
		u16(tc, 17);
		put(tc, "\x50\0", 2);
		u32(tc, chunk);
		u32(tc, 0);
		u32(tc, 0);
		put(tc, NULL, chunk);
		nb_end(tc, at);
	}
}

struct feeder {
	uint8_t *buf;
	uint32_t len;
};

/* The framework: leftovers kept and presented with the next piece. */
static void feed(void *st, struct nj_al_test *t, struct feeder *f, int dir, const uint8_t *d,
		 uint32_t n)
{
	const struct nj_app_parser *P = &nj_smb_parser;
	int32_t r;

	if (f->len) {
		memcpy(f->buf + f->len, d, n);
		f->len += n;
		r = P->parse(st, t->ctx, dir, f->buf, f->len);
		memmove(f->buf, f->buf + r, f->len - (uint32_t)r);
		f->len -= (uint32_t)r;
	} else {
		r = P->parse(st, t->ctx, dir, d, n);
		if ((uint32_t)r < n) {
			memcpy(f->buf, d + r, n - (uint32_t)r);
			f->len = n - (uint32_t)r;
		}
	}
}

static void drain(void *st)
{
	const struct nj_app_parser *P = &nj_smb_parser;
	struct nj_al_txq *q = P->txq(st);

	while (q->head && q->head->done[0] && q->head->done[1]) {
		struct nj_al_tx *tx = q->head;

		q->head = tx->next;
		if (!q->head)
			q->tail = NULL;
		q->count--;
		P->tx_free(st, tx);
	}
}

/*
 * Both streams interleaved as a client reading sends and receives them: each
 * READ request, then its response in pieces (the first message of each
 * stream is the tree connect). Returns seconds.
 */
static double run(const struct buf *ts, const struct buf *tc, uint32_t chunk, uint32_t piece,
		  int files, uint64_t *sink)
{
	const struct nj_app_parser *P = &nj_smb_parser;
	void *st = P->state_new();
	struct nj_al_test *t = nj_al_test_new(NULL, NJ_EVE_SMB, 1500000000000000ull);
	struct nj_files_config fc;
	struct nj_files *fs = NULL;

	if (files) {
		nj_files_config_defaults(&fc);
		fc.enabled = false; /* no EVE here: the bytes only */
		fc.sha256 = files == 2;
		fs = nj_files_create(&fc, NULL);
		t->files = fs;
	}
	struct feeder f[2] = {{malloc(512 * 1024), 0}, {malloc(512 * 1024), 0}};
	const size_t tq = 4 + 64 + 18, tr = 4 + 64 + 12, rq = 4 + 64 + 49, rr = 4 + 64 + 16 + chunk;
	double t0 = now_s(), el;
	size_t a = tq, b = tr;

	feed(st, t, &f[0], 0, ts->b, (uint32_t)tq);
	feed(st, t, &f[1], 1, tc->b, (uint32_t)tr);
	while (a < ts->n) {
		feed(st, t, &f[0], 0, ts->b + a, (uint32_t)rq);
		a += rq;
		for (size_t o = 0; o < rr; o += piece)
			feed(st, t, &f[1], 1, tc->b + b + o,
			     (uint32_t)(rr - o < piece ? rr - o : piece));
		b += rr;
		drain(st);
	}
	el = now_s() - t0;
	*sink += nj_smb_state_stats(st)->file_bytes + nj_smb_state_stats(st)->skipped;
	if (fs)
		*sink += nj_files_stats(fs)->bytes;
	P->state_free(st);
	nj_al_test_free(t);
	nj_files_destroy(fs);
	free(f[0].buf);
	free(f[1].buf);
	return el;
}

static double baseline(const struct buf *tc, uint32_t piece, uint64_t *sink)
{
	uint8_t *dst = malloc(65536 + piece);
	double t0 = now_s(), el;

	for (size_t o = 0; o < tc->n; o += piece) {
		size_t n = tc->n - o < piece ? tc->n - o : piece;

		memcpy(dst + (o % 65536), tc->b + o, n);
		*sink += dst[(o * 7) % 65536];
	}
	el = now_s() - t0;
	free(dst);
	return el;
}

int main(int argc, char **argv)
{
	size_t mib = argc > 1 ? (size_t)atoi(argv[1]) : 512;
	static const struct {
		uint32_t chunk, piece;
		int files;
		const char *what;
	} rows[] = {
		{1u << 20, 1448, 0, "READ 1 MiB, 1448-byte segments"},
		{1u << 20, 65536, 0, "READ 1 MiB, 64 KiB pieces"},
		{65536, 1448, 0, "READ 64 KiB, 1448-byte segments"},
		{4096, 1448, 0, "READ 4 KiB, 1448-byte segments"},
		{1u << 20, 1448, 1, "READ 1 MiB + files (no hash)"},
		{1u << 20, 1448, 2, "READ 1 MiB + files (SHA-256)"},
	};
	uint64_t sink = 0;

	printf("SMB2 file read, %zu MiB per run, best of 3; the baseline copies the same bytes\n"
	       "in the same pieces\n",
	       mib);
	for (unsigned i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct buf ts = {0}, tc = {0};
		double tp = 1e9, tb = 1e9, segs;

		build(&ts, &tc, mib << 20, rows[i].chunk);
		segs = (double)tc.n / rows[i].piece;
		for (int rep = 0; rep < 3; rep++) {
			double a =
				run(&ts, &tc, rows[i].chunk, rows[i].piece, rows[i].files, &sink);
			double b = baseline(&tc, rows[i].piece, &sink);

			if (a < tp)
				tp = a;
			if (b < tb)
				tb = b;
		}
		printf("%-34s %9.0f MB/s %7.1f ns/piece | memcpy %7.0f MB/s | x%.2f memcpy time\n",
		       rows[i].what, (double)tc.n / tp / 1e6, tp / segs * 1e9,
		       (double)tc.n / tb / 1e6, tp / tb);
		free(ts.b);
		free(tc.b);
	}
	return sink == 42 ? 1 : 0;
}
