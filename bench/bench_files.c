/* SPDX-License-Identifier: MIT */
/*
 * Cost of carving files: the same bytes (1 MiB files in 1448-byte pieces, a
 * TCP segment's payload) appended through the files interface with no hash,
 * SHA-256 only, all three hashes, out of order by offset (every two pieces
 * swapped) with SHA-256, and SHA-256 with filestore v2 (temp file, rename
 * into DIR/xx/<sha256> at close), against a baseline of copying the same
 * pieces, measured in the same run. No EVE output (events cost the same per
 * file whatever the size). Open and close are included.
 * Usage: bench_files [MiB [dir]]   (default 256 MiB, filestore under /tmp)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dataplane/flow.h"
#include "parsers/files.h"

#define FILE_BYTES (1u << 20)
#define PIECE	   1448u

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint8_t *data;

/* The copy a reassembly path makes of the same pieces. */
static double baseline(unsigned nfiles)
{
	static uint8_t ring[65536];
	volatile uint8_t sink = 0;
	double t0 = now_s();

	for (unsigned i = 0; i < nfiles; i++) {
		uint32_t pos = 0;

		for (uint32_t off = 0; off < FILE_BYTES; off += PIECE) {
			uint32_t n = FILE_BYTES - off < PIECE ? FILE_BYTES - off : PIECE;

			if (pos + n > sizeof(ring))
				pos = 0;
			memcpy(ring + pos, data + off, n);
			pos += n;
			__asm__ volatile("" : : "r"(ring) : "memory");
		}
		sink ^= ring[i & 1023];
	}
	(void)sink;
	return now_s() - t0;
}

enum mode { M_PLAIN, M_SWAP };

static double run(const struct nj_files_config *cfg, unsigned nfiles, enum mode mode,
		  uint64_t *stored)
{
	struct nj_files *fs = nj_files_create(cfg, NULL);
	struct nj_flow flow;
	double t0;

	if (!fs)
		exit(1);
	memset(&flow, 0, sizeof(flow));
	t0 = now_s();
	for (unsigned i = 0; i < nfiles; i++) {
		struct nj_file *f = nj_file_open(fs, &flow, "http", (const uint8_t *)"f", 1, i, 1);
		uint32_t off = 0;

		/* a different first byte per file: distinct contents for the filestore */
		data[0] = (uint8_t)i;
		data[1] = (uint8_t)(i >> 8);
		while (off < FILE_BYTES) {
			uint32_t n = FILE_BYTES - off < PIECE ? FILE_BYTES - off : PIECE;

			if (mode == M_SWAP && off + n < FILE_BYTES) {
				uint32_t m = FILE_BYTES - (off + n) < PIECE ? FILE_BYTES - (off + n)
									    : PIECE;

				nj_file_append_at(f, off + n, data + off + n, m);
				nj_file_append_at(f, off, data + off, n);
				off += n + m;
				continue;
			}
			nj_file_append(f, data + off, n);
			off += n;
		}
		nj_file_close(f, NJ_FILE_CLOSED, 0, NULL, NULL);
	}
	t0 = now_s() - t0;
	if (nj_files_stats(fs)->bytes != (uint64_t)nfiles * FILE_BYTES)
		fprintf(stderr, "bench_files: byte count mismatch\n");
	*stored = nj_files_stats(fs)->stored;
	nj_files_destroy(fs);
	return t0;
}

int main(int argc, char **argv)
{
	unsigned mib = argc > 1 ? (unsigned)atoi(argv[1]) : 256;
	const char *base = argc > 2 ? argv[2] : "/tmp";
	char dir[256], cmd[300];
	struct nj_files_config cfg;
	double tb, mb;
	uint64_t stored = 0;
	struct {
		const char *name;
		bool md5, sha1, sha256, store;
		enum mode mode;
	} rows[] = {
		{"no hash (tracking only)", false, false, false, false, M_PLAIN},
		{"sha256", false, false, true, false, M_PLAIN},
		{"md5 + sha1 + sha256", true, true, true, false, M_PLAIN},
		{"sha256, out of order (pairs swapped)", false, false, true, false, M_SWAP},
		{"sha256 + filestore v2", false, false, true, true, M_PLAIN},
	};

	if (!mib)
		mib = 1;
	data = malloc(FILE_BYTES);
	if (!data)
		return 1;
	for (uint32_t i = 0, s = 1; i < FILE_BYTES; i++) {
		s = s * 1103515245u + 12345u;
		data[i] = (uint8_t)(s >> 16);
	}
	snprintf(dir, sizeof(dir), "%s/nj_bench_files_XXXXXX", base);
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	mb = (double)mib * FILE_BYTES / 1e6;
	baseline(mib / 8 + 1); /* warm-up */
	tb = baseline(mib);
	printf("files of 1 MiB in %u-byte pieces, %u MiB per row (MB = 1e6 bytes)\n", PIECE, mib);
	printf("%-40s %10s %10s\n", "", "MB/s", "time/base");
	printf("%-40s %10.0f %10.2f\n", "baseline: memcpy of the pieces", mb / tb, 1.0);
	for (unsigned r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		double t;

		nj_files_config_defaults(&cfg);
		cfg.md5 = rows[r].md5;
		cfg.sha1 = rows[r].sha1;
		cfg.sha256 = rows[r].sha256;
		cfg.store = cfg.store_all = rows[r].store;
		snprintf(cfg.store_dir, sizeof(cfg.store_dir), "%s", dir);
		t = run(&cfg, mib, rows[r].mode, &stored);
		printf("%-40s %10.0f %10.2f\n", rows[r].name, mb / t, t / tb);
		if (rows[r].store && stored != mib)
			fprintf(stderr, "bench_files: %llu of %u files stored\n",
				(unsigned long long)stored, mib);
	}
	printf("filestore in %s (page cache; the disk is not waited for)\n", base);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "bench_files: could not remove %s\n", dir);
	free(data);
	return 0;
}
