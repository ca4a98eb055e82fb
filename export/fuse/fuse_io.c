/* SPDX-License-Identifier: MIT */
/*
 * Readers and writer. A zstd EVE file is a sequence of frames (Nightjar ends
 * one per flush), so a position is "frame start + bytes into its output":
 * resuming decompresses that one frame again and skips, which needs no index
 * and survives the file growing. Plain files use a byte offset.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <zstd.h>

#include "fuse_io.h"

#define LINE_MAX_LEN (4u << 20) /* longer lines are skipped: bounded memory */
#define FRAMES_MAX   64

struct frame_mark {
	uint64_t comp; /* compressed offset of the frame start */
	uint64_t dec;  /* decompressed stream offset of its first byte */
};

struct nj_fuse_reader {
	char *path;
	FILE *fp;
	int lfd, cfd;	 /* "unix:PATH": listening socket and the connected writer */
	bool had_client; /* a writer connected and went away: the end, for --once */
	bool zst;
	ZSTD_DCtx *dctx;
	uint8_t in[1 << 16];
	size_t in_len, in_pos;
	uint64_t in_off; /* file offset of in[0] */
	bool mid_frame;	 /* a frame is being decoded */
	uint8_t out[1 << 16];
	size_t out_len, out_pos;
	uint64_t dec_total; /* decompressed bytes produced so far (stream offset of out_len) */
	uint64_t skip;	    /* bytes still to drop after a resume */
	struct frame_mark fr[FRAMES_MAX];
	unsigned n_fr;
	char *line;
	size_t len, cap;
	bool dropping;	     /* inside an over-long line */
	uint64_t line_start; /* stream offset of the pending line's first byte */
	uint64_t line_no;
	uint64_t overlong;
	char *ret;
	size_t ret_cap;
};

static bool is_zst(const char *p)
{
	size_t n = strlen(p);

	return n > 4 && !strcmp(p + n - 4, ".zst");
}

/*
 * "unix:PATH": listen on a unix stream socket, as an EVE writer with
 * filetype unix_stream expects, one writer at a time. A socket cannot be
 * rewound, so its positions are not resumable (docs/fusion.md).
 */
static int listen_unix(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 4)) {
		int e = -errno;

		close(fd);
		return e;
	}
	return fd;
}

struct nj_fuse_reader *nj_fuse_reader_open(const char *path, const struct nj_fuse_pos *from)
{
	struct nj_fuse_reader *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->lfd = r->cfd = -1;
	r->path = strdup(path);
	if (!strncmp(path, "unix:", 5)) {
		r->lfd = listen_unix(path + 5);
		if (r->lfd < 0 || !r->path)
			goto out_free;
		r->fr[0].comp = 0;
		r->n_fr = 1;
		return r;
	}
	r->fp = fopen(path, "rb");
	if (!r->path || !r->fp)
		goto out_free;
	r->zst = is_zst(path);
	if (r->zst) {
		r->dctx = ZSTD_createDCtx();
		if (!r->dctx)
			goto out_free;
	}
	if (from && (from->frame || from->skip)) {
		if (fseeko(r->fp, (off_t)from->frame, SEEK_SET))
			goto out_free;
		r->in_off = from->frame;
		r->dec_total = from->frame; /* any base works; marks are relative */
		r->skip = r->zst ? from->skip : 0;
	}
	r->line_no = from ? from->line_no : 0;
	r->fr[0].comp = r->in_off;
	r->fr[0].dec = r->dec_total;
	r->n_fr = 1;
	r->line_start = r->dec_total;
	return r;

out_free:
	nj_fuse_reader_close(r);
	return NULL;
}

void nj_fuse_reader_close(struct nj_fuse_reader *r)
{
	if (!r)
		return;
	if (r->fp)
		fclose(r->fp);
	if (r->cfd >= 0)
		close(r->cfd);
	if (r->lfd >= 0) {
		close(r->lfd);
		unlink(r->path + 5);
	}
	ZSTD_freeDCtx(r->dctx);
	free(r->path);
	free(r->line);
	free(r->ret);
	free(r);
}

const char *nj_fuse_reader_path(const struct nj_fuse_reader *r)
{
	return r->path;
}

uint64_t nj_fuse_reader_overlong(const struct nj_fuse_reader *r)
{
	return r->overlong;
}

bool nj_fuse_reader_finished(const struct nj_fuse_reader *r)
{
	return r->lfd < 0 || (r->had_client && r->cfd < 0);
}

static int refill_socket(struct nj_fuse_reader *r)
{
	ssize_t n;

	if (r->cfd < 0) {
		r->cfd = accept4(r->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (r->cfd < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0
											 : -errno;
	}
	n = read(r->cfd, r->out, sizeof(r->out));
	if (n > 0) {
		r->out_len = (size_t)n;
		r->out_pos = 0;
		return (int)n;
	}
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return 0;
	/* the writer went away: wait for the next one */
	close(r->cfd);
	r->cfd = -1;
	r->had_client = true;
	return 0;
}

/* Refills out[]; returns bytes made available, 0 at EOF for now, -errno. */
static int refill(struct nj_fuse_reader *r)
{
	if (r->lfd >= 0)
		return refill_socket(r);
	if (!r->zst) {
		size_t n = fread(r->out, 1, sizeof(r->out), r->fp);

		if (!n) {
			if (ferror(r->fp))
				return -EIO;
			clearerr(r->fp); /* follow: the file may grow */
			return 0;
		}
		r->out_len = n;
		r->out_pos = 0;
		return (int)n;
	}
	for (;;) {
		ZSTD_inBuffer ib;
		ZSTD_outBuffer ob = {r->out, sizeof(r->out), 0};
		size_t ret;

		if (r->in_pos == r->in_len) {
			size_t n;

			r->in_off += r->in_len;
			r->in_len = r->in_pos = 0;
			n = fread(r->in, 1, sizeof(r->in), r->fp);
			if (!n) {
				if (ferror(r->fp))
					return -EIO;
				clearerr(r->fp);
				return 0;
			}
			r->in_len = n;
		}
		if (!r->mid_frame) {
			/* a new frame starts here: remember where, for checkpoints */
			struct frame_mark m = {r->in_off + r->in_pos, r->dec_total};

			if (r->n_fr == FRAMES_MAX) {
				memmove(r->fr, r->fr + 1, (FRAMES_MAX - 1) * sizeof(r->fr[0]));
				r->n_fr--;
			}
			r->fr[r->n_fr++] = m;
			r->mid_frame = true;
		}
		ib.src = r->in;
		ib.size = r->in_len;
		ib.pos = r->in_pos;
		ret = ZSTD_decompressStream(r->dctx, &ob, &ib);
		r->in_pos = ib.pos;
		if (ZSTD_isError(ret))
			return -EBADMSG;
		if (ret == 0)
			r->mid_frame = false;
		if (ob.pos) {
			r->out_len = ob.pos;
			r->out_pos = 0;
			return (int)ob.pos;
		}
	}
}

int nj_fuse_reader_next(struct nj_fuse_reader *r, bool at_end, const char **line, size_t *len)
{
	for (;;) {
		uint8_t *nl;
		size_t avail, take;

		if (r->out_pos == r->out_len) {
			int rc = refill(r);

			if (rc < 0)
				return rc;
			if (rc == 0) {
				if (at_end && r->len && !r->dropping &&
				    nj_fuse_reader_finished(r)) {
					/* a last line without its newline */
					*line = r->line;
					*len = r->len;
					r->len = 0;
					r->line_no++;
					r->line_start = r->dec_total;
					return 1;
				}
				return 0;
			}
			r->dec_total += (uint64_t)rc;
		}
		avail = r->out_len - r->out_pos;
		if (r->skip) {
			take = r->skip < avail ? (size_t)r->skip : avail;
			r->skip -= take;
			r->out_pos += take;
			r->line_start = r->dec_total - (r->out_len - r->out_pos);
			continue;
		}
		nl = memchr(r->out + r->out_pos, '\n', avail);
		take = nl ? (size_t)(nl - (r->out + r->out_pos)) : avail;
		if (!r->dropping) {
			if (r->len + take + 1 > LINE_MAX_LEN) {
				r->dropping = true;
				r->len = 0;
			} else {
				if (r->len + take + 1 > r->cap) {
					size_t nc = r->cap ? r->cap : 4096;
					char *n;

					while (nc < r->len + take + 1)
						nc *= 2;
					n = realloc(r->line, nc);
					if (!n)
						return -ENOMEM;
					r->line = n;
					r->cap = nc;
				}
				memcpy(r->line + r->len, r->out + r->out_pos, take);
				r->len += take;
			}
		}
		r->out_pos += take;
		if (!nl)
			continue;
		r->out_pos++; /* the newline */
		r->line_no++;
		r->line_start = r->dec_total - (r->out_len - r->out_pos);
		if (r->dropping) {
			r->dropping = false;
			r->overlong++;
			continue;
		}
		if (r->len + 1 > r->ret_cap) {
			char *n = realloc(r->ret, r->len + 1);

			if (!n)
				return -ENOMEM;
			r->ret = n;
			r->ret_cap = r->len + 1;
		}
		memcpy(r->ret, r->line, r->len);
		r->ret[r->len] = '\0';
		*line = r->ret;
		*len = r->len;
		r->len = 0;
		return 1;
	}
}

void nj_fuse_reader_pos(const struct nj_fuse_reader *r, struct nj_fuse_pos *pos)
{
	uint64_t at = r->line_start;

	pos->line_no = r->line_no;
	if (!r->zst) {
		pos->frame = at;
		pos->skip = 0;
		return;
	}
	/* the latest frame that starts at or before the next unread line */
	for (unsigned i = r->n_fr; i-- > 0;) {
		if (r->fr[i].dec <= at) {
			pos->frame = r->fr[i].comp;
			pos->skip = at - r->fr[i].dec;
			return;
		}
	}
	pos->frame = r->fr[0].comp;
	pos->skip = 0;
}

/* ---- writer ---- */

struct nj_fuse_writer {
	FILE *fp;
	bool zst;
	ZSTD_CCtx *cctx;
	bool dirty; /* bytes in the open frame */
	uint8_t buf[1 << 16];
};

struct nj_fuse_writer *nj_fuse_writer_open(const char *path, int64_t truncate_to)
{
	struct nj_fuse_writer *w = calloc(1, sizeof(*w));
	struct stat st;

	if (!w)
		return NULL;
	if (truncate_to >= 0 && !stat(path, &st) && st.st_size > truncate_to &&
	    truncate(path, truncate_to))
		goto out_free;
	w->fp = fopen(path, "ab");
	if (!w->fp)
		goto out_free;
	w->zst = is_zst(path);
	if (w->zst) {
		w->cctx = ZSTD_createCCtx();
		if (!w->cctx)
			goto out_free;
		ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_compressionLevel, 3);
	}
	return w;

out_free:
	if (w->fp)
		fclose(w->fp);
	free(w);
	return NULL;
}

static int zwrite(struct nj_fuse_writer *w, const void *p, size_t n, ZSTD_EndDirective mode)
{
	ZSTD_inBuffer ib = {p, n, 0};
	size_t left;

	do {
		ZSTD_outBuffer ob = {w->buf, sizeof(w->buf), 0};

		left = ZSTD_compressStream2(w->cctx, &ob, &ib, mode);
		if (ZSTD_isError(left))
			return -EIO;
		if (ob.pos && fwrite(w->buf, 1, ob.pos, w->fp) != ob.pos)
			return -EIO;
	} while (mode == ZSTD_e_end ? left != 0 : ib.pos < ib.size);
	return 0;
}

int nj_fuse_writer_line(struct nj_fuse_writer *w, const char *line, size_t len)
{
	if (!w->zst) {
		if (fwrite(line, 1, len, w->fp) != len || fputc('\n', w->fp) == EOF)
			return -EIO;
		return 0;
	}
	if (zwrite(w, line, len, ZSTD_e_continue) || zwrite(w, "\n", 1, ZSTD_e_continue))
		return -EIO;
	w->dirty = true;
	return 0;
}

int64_t nj_fuse_writer_flush(struct nj_fuse_writer *w)
{
	if (w->zst && w->dirty) {
		if (zwrite(w, "", 0, ZSTD_e_end))
			return -EIO;
		w->dirty = false;
	}
	if (fflush(w->fp) || fsync(fileno(w->fp)))
		return -EIO;
	return (int64_t)ftello(w->fp);
}

int nj_fuse_writer_close(struct nj_fuse_writer *w)
{
	int64_t rc;

	if (!w)
		return 0;
	rc = nj_fuse_writer_flush(w);
	fclose(w->fp);
	ZSTD_freeCCtx(w->cctx);
	free(w);
	return rc < 0 ? (int)rc : 0;
}
