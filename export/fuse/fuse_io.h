/* SPDX-License-Identifier: MIT */
/*
 * Line readers over plain or zstd files that can be followed as they grow and
 * resumed from a checkpointed position, and the (optionally zstd) writer.
 */
#ifndef NJ_FUSE_IO_H
#define NJ_FUSE_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A resumable position: compressed offset of a zstd frame (or a plain byte
 * offset) plus decompressed bytes to skip inside it, and the line number. */
struct nj_fuse_pos {
	uint64_t frame, skip, line_no;
};

struct nj_fuse_reader;

/* path: a file (".zst": zstd frames) or "unix:SOCKET_PATH" (listen, plain lines). */
struct nj_fuse_reader *nj_fuse_reader_open(const char *path, const struct nj_fuse_pos *from);
void nj_fuse_reader_close(struct nj_fuse_reader *r);
/* False while a "unix:" socket input has not yet had a writer come and go. */
bool nj_fuse_reader_finished(const struct nj_fuse_reader *r);
/*
 * Next complete line (without '\n'): 1 and line, len (valid until the next
 * call), 0 if none yet (EOF so far; with at_end a last line without '\n' is
 * returned), or -errno. Lines over the cap are skipped and counted.
 */
int nj_fuse_reader_next(struct nj_fuse_reader *r, bool at_end, const char **line, size_t *len);
/* Position of the next unread line. */
void nj_fuse_reader_pos(const struct nj_fuse_reader *r, struct nj_fuse_pos *pos);
uint64_t nj_fuse_reader_overlong(const struct nj_fuse_reader *r);
const char *nj_fuse_reader_path(const struct nj_fuse_reader *r);

struct nj_fuse_writer;

/* Opens for append; truncate_to (if >= 0) first cuts a file back to a checkpointed size. */
struct nj_fuse_writer *nj_fuse_writer_open(const char *path, int64_t truncate_to);
int nj_fuse_writer_line(struct nj_fuse_writer *w, const char *line, size_t len);
/* Ends the current zstd frame and flushes to the file; returns the file size or -errno. */
int64_t nj_fuse_writer_flush(struct nj_fuse_writer *w);
int nj_fuse_writer_close(struct nj_fuse_writer *w);

#endif
