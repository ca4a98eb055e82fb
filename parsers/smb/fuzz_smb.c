/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target for the SMB parser. Input: messages [dir:1][len:2 LE][bytes],
 * fed to the parser as the framework would (unconsumed bytes kept and given
 * again; gaps when the direction byte says so), then the flow ends; every
 * transaction is logged. The first input byte also picks a split size so
 * records cross call boundaries.
 *
 * Built as a unit test it runs the seeds in tests/data/smb and deterministic
 * mutations of them; with clang -fsanitize=fuzzer -DNJ_LIBFUZZER it is a
 * libFuzzer target.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../applayer.h"
#include "smb.h"

#define TS 1500000000000000ull

struct fz {
	void *st;
	struct nj_al_test *t;
	uint8_t *buf[2];
	uint32_t len[2], cap[2];
};

static void fz_drain(struct fz *z, bool all)
{
	const struct nj_app_parser *P = &nj_smb_parser;
	struct nj_al_txq *q = P->txq(z->st);

	while (q->head && (all || (q->head->done[0] && q->head->done[1]))) {
		struct nj_al_tx *tx = q->head;

		q->head = tx->next;
		if (!q->head)
			q->tail = NULL;
		q->count--;
		P->log_tx(z->t->log, NULL, tx);
		P->tx_free(z->st, tx);
	}
	/* the test logger keeps everything: drop it now and then */
	if (z->t->out_len > (1u << 20)) {
		z->t->out_len = 0;
		z->t->out[0] = 0;
	}
}

static void fz_feed(struct fz *z, int dir, const uint8_t *d, uint32_t n)
{
	const struct nj_app_parser *P = &nj_smb_parser;
	int32_t r;

	if (!n)
		return;
	if (z->len[dir] + n > 256 * 1024) {
		z->len[dir] = 0; /* the framework gives up on the buffer; so do we */
		return;
	}
	if (z->len[dir] + n > z->cap[dir]) {
		z->cap[dir] = (z->len[dir] + n) * 2;
		z->buf[dir] = realloc(z->buf[dir], z->cap[dir]);
		if (!z->buf[dir])
			abort();
	}
	memcpy(z->buf[dir] + z->len[dir], d, n);
	z->len[dir] += n;
	r = P->parse(z->st, z->t->ctx, dir, z->buf[dir], z->len[dir]);
	if (r < 0 || (uint32_t)r > z->len[dir])
		abort(); /* the contract: 0..len */
	memmove(z->buf[dir], z->buf[dir] + r, z->len[dir] - (uint32_t)r);
	z->len[dir] -= (uint32_t)r;
	fz_drain(z, false);
}

static void run(const uint8_t *data, size_t size)
{
	const struct nj_app_parser *P = &nj_smb_parser;
	struct fz z = {0};
	uint32_t split;
	size_t pos = 1;

	if (size < 1)
		return;
	split = 1 + data[0] * 7u;
	z.st = P->state_new();
	z.t = nj_al_test_new(NULL, NJ_EVE_SMB, TS);
	while (pos + 3 <= size) {
		int dir = data[pos] & 1;
		uint32_t n = (uint32_t)(data[pos + 1] | data[pos + 2] << 8);

		if (data[pos] & 0x80) {
			/* a gap of n bytes */
			z.len[dir] = 0;
			P->gap(z.st, z.t->ctx, dir, n);
			pos += 3;
			continue;
		}
		pos += 3;
		if (n > size - pos)
			n = (uint32_t)(size - pos);
		for (uint32_t o = 0; o < n; o += split)
			fz_feed(&z, dir, data + pos + o, n - o < split ? n - o : split);
		pos += n;
	}
	for (int d = 0; d < 2; d++)
		P->close(z.st, z.t->ctx, d);
	fz_drain(&z, true);
	P->state_free(z.st);
	nj_al_test_free(z.t);
	free(z.buf[0]);
	free(z.buf[1]);
}

#ifdef NJ_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	run(data, size);
	return 0;
}
#else

#ifndef NJ_SRC_DIR
#define NJ_SRC_DIR "."
#endif

static uint8_t *load(const char *path, size_t *n)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *b = NULL;
	long l;

	if (!fp)
		return NULL;
	fseek(fp, 0, SEEK_END);
	l = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	if (l > 0 && (b = malloc((size_t)l + 1)) && fread(b + 1, 1, (size_t)l, fp) != (size_t)l) {
		free(b);
		b = NULL;
	}
	fclose(fp);
	if (b) {
		b[0] = 0; /* split byte */
		*n = (size_t)l + 1;
	}
	return b;
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : NJ_SRC_DIR "/tests/data/smb";
	unsigned iters = argc > 2 ? (unsigned)atoi(argv[2]) : 20000, nseeds = 0;
	DIR *d = opendir(dir);
	struct dirent *de;
	uint32_t x = 0x9e3779b9u;

	if (!d) {
		fprintf(stderr, "fuzz_smb: no seeds in %s: skipped\n", dir);
		return 77;
	}
	while ((de = readdir(d))) {
		char path[4096];
		uint8_t *b, *m;
		size_t n;

		if (!strstr(de->d_name, ".bin"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		b = load(path, &n);
		if (!b)
			continue;
		nseeds++;
		for (unsigned s = 0; s < 16; s++) {
			b[0] = (uint8_t)(s * 37);
			run(b, n);
		}
		m = malloc(n);
		for (unsigned it = 0; it < iters; it++) {
			unsigned flips = 1 + it % 16;

			memcpy(m, b, n);
			for (unsigned f = 0; f < flips; f++) {
				x = x * 1103515245u + 12345u;
				switch ((x >> 28) & 3) {
				case 0:
					m[1 + (x >> 4) % (n - 1)] ^= (uint8_t)(1u << (x & 7));
					break;
				case 1: m[1 + (x >> 4) % (n - 1)] = (uint8_t)x; break;
				case 2: m[1 + (x >> 4) % (n - 1)] = 0xff; break;
				default: m[1 + (x >> 4) % (n - 1)] = 0; break;
				}
			}
			m[0] = (uint8_t)(x >> 11);
			/* sometimes the input ends early */
			run(m, it % 7 == 0 ? 1 + (x >> 3) % n : n);
		}
		free(m);
		free(b);
	}
	closedir(d);
	printf("fuzz_smb: %u seeds, %u mutations each: no crash\n", nseeds, iters);
	return nseeds ? 0 : 77;
}
#endif
