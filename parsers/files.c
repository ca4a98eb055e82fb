/* SPDX-License-Identifier: MIT */
/*
 * Files carved from protocols: hashing (OpenSSL EVP, streaming), magic
 * (libmagic on the first 4 KiB), out-of-order data by offset, size and memory
 * limits, filestore v2 and the EVE fileinfo event. See files.h for the
 * contract and the Suricata semantics it follows.
 *
 * Shape: a per-core pool of max_open files, each with its digest contexts
 * allocated once at creation (EVP_DigestInit_ex per file reuses them), its
 * name and first 4 KiB inline, and a 64 KiB write buffer allocated the first
 * time that pool entry stores a file and kept. Out-of-order data is held in
 * a sorted list of disjoint chunks per file (malloc per chunk, bounded by the
 * per-core memcap including chunk overhead).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#ifdef NJ_HAVE_MAGIC
#include <magic.h>
#endif

#include "../common/nj_common.h"
#include "../config/config.h"
#include "../export/eve_priv.h"
#include "files.h"
#include "files_priv.h"
#include "../dataplane/stream.h"

NJ_CONF_KEY(fsen, "outputs.*.file-store.enabled", NJ_CT_BOOL, "no",
	    "Filestore v2: write carved files to DIR/xx/SHA256 (xx: its first two hex digits).")
NJ_CONF_KEY(fsver, "outputs.*.file-store.version", NJ_CT_INT, "none",
	    "Must be 2 (as Suricata, an enabled file-store without version 2 is ignored).")
NJ_CONF_KEY(fsdir, "outputs.*.file-store.dir", NJ_CT_STR, "filestore",
	    "Filestore directory; relative to the log directory unless absolute.")
NJ_CONF_KEY(fsinfo, "outputs.*.file-store.write-fileinfo", NJ_CT_BOOL, "no",
	    "Write the fileinfo record next to each stored file as "
	    "SHA256.SECONDS.FILE_ID.json.")
NJ_CONF_KEY(fsforce, "outputs.*.file-store.force-filestore", NJ_CT_BOOL, "no",
	    "Store every file (else only files selected by filestore rules).")
NJ_CONF_KEY(fsmagic, "outputs.*.file-store.force-magic", NJ_CT_BOOL, "no",
	    "Compute libmagic's description of every file.")
NJ_CONF_KEY(fshash, "outputs.*.file-store.force-hash", NJ_CT_LIST, "[]",
	    "Hashes computed for every file: md5, sha1, sha256 (filestore always adds sha256).")
NJ_CONF_KEY(fsdepth, "outputs.*.file-store.stream-depth", NJ_CT_SIZE, "0",
	    "TCP reassembly depth for flows whose files may be stored, as Suricata: used when "
	    "above stream.reassembly.depth (else a warning) or when that is 0 (unlimited, then "
	    "limited to this); set when such a file opens (force-filestore, or filestore rules "
	    "loaded), only raising the flow's depth; a segment crossing it is dropped whole and "
	    "the file ends TRUNCATED (0 or no: not used).")
NJ_CONF_KEY(fsfds, "outputs.*.file-store.max-open-files", NJ_CT_INT, "0",
	    "Temporary files kept open per worker while carving (0: all); the others are "
	    "reopened for each 64 KiB written.")
NJ_CONF_KEY(evefiles, "outputs.*.eve-log.types.*.files", NJ_CT_MAP, "",
	    "fileinfo events; options force-magic (yes/no), force-hash ([md5, sha1, sha256]), "
	    "force-filestore (yes/no).")
NJ_CONF_KEY(fmaxopen, "nightjar.files.max-open", NJ_CT_INT, "1024",
	    "Files carved at once per worker (more are not tracked, counted).")
NJ_CONF_KEY(fmemcap, "nightjar.files.memcap", NJ_CT_SIZE, "16mb",
	    "Out-of-order file data (SMB reads/writes by offset) held per worker.")
NJ_CONF_KEY(fmaxsize, "nightjar.files.max-size", NJ_CT_SIZE, "0",
	    "Bytes tracked per file; a longer file ends TRUNCATED (0: no limit).")

#define FILE_HEAD      4096u	    /* first bytes kept: magic, and a store decided late */
#define FILE_MAGIC_MAX 256u	    /* bytes of libmagic's description kept */
#define FILE_NAME_MAX  1024u	    /* bytes of the wire name kept for logging */
#define FILE_MAX_SIDS  16u	    /* "sid" entries kept */
#define FILE_WBUF      (64u * 1024) /* filestore write buffer per file being stored */
#define FILE_PATH_MAX  4200u	    /* store_dir (< 4096) + "/xx/" + sha256 + suffixes */

enum { H_MD5 = 0, H_SHA1, H_SHA256, H_MAX };

static const char *const hash_algo[H_MAX] = {"MD5", "SHA1", "SHA256"};
static const char *const hash_key[H_MAX] = {"md5", "sha1", "sha256"};
static const unsigned hash_len[H_MAX] = {16, 20, 32};

/* Process-wide, as Suricata's file_store_id: unique names in DIR/tmp and "file_id". */
static atomic_uint store_ids;

struct file_chunk {
	struct file_chunk *next;
	uint64_t off;
	uint32_t len;
	uint8_t data[];
};

struct nj_file {
	struct nj_files *fs;
	struct nj_file *next_free;
	struct nj_flow *flow;
	const char *app_proto;
	uint64_t tx_id;
	uint64_t cur; /* in-order end: bytes tracked so far, gaps included */
	uint64_t start, end;
	struct file_chunk *held;       /* out-of-order data: sorted, disjoint, all beyond cur */
	struct nj_file_budget *budget; /* where held data is counted (NULL: the core's memcap) */
	uint8_t dir;
	bool in_use;
	bool has_gaps;
	bool limited;	   /* cut at max_size */
	bool store_req;	   /* store asked (force-filestore or nj_file_store) */
	bool storing;	   /* the temp file is being written */
	bool store_failed; /* an open/write failed: not stored */
	bool fd_kept;	   /* fd stays open (counted in open_fds) */
	bool pending;	   /* closed by its parser, finished at nj_files_flush */
	uint8_t pend_state;
	uint64_t pend_ts, pend_seq;
	nj_file_meta_fn pend_meta;
	const void *pend_arg;
	struct nj_file *next_pending;
	int fd;
	uint32_t store_id;
	uint32_t wlen;
	uint8_t *wbuf; /* FILE_WBUF bytes, allocated once per pool entry */
	uint32_t nsids;
	uint32_t sids[FILE_MAX_SIDS];
	uint32_t head_len;
	uint32_t name_len;
	uint8_t magic_done; /* magic[] holds the description of the whole head */
	char magic[FILE_MAGIC_MAX];
	EVP_MD_CTX *md[H_MAX]; /* allocated once per pool entry for the configured hashes */
	uint8_t name[FILE_NAME_MAX];
	uint8_t head[FILE_HEAD];
};

struct nj_files {
	struct nj_files_config cfg;
	struct nj_eve_worker *eve;
	struct nj_files_stats st;
	struct nj_file *pool;
	struct nj_file *free_list;
	EVP_MD *md[H_MAX];   /* fetched once: no algorithm lookup per file */
	EVP_MD_CTX *scratch; /* nj_file_md5: digest of a copy, the file's own goes on */
	bool keep_head;	     /* head bytes are needed (magic, or a late store decision) */
	bool rule_store;     /* filestore rules: every file is copied to tmp/ from its start */
	bool defer;	     /* closes wait for nj_files_flush (rules may still store) */
	struct nj_file *pend_head, *pend_tail;
	uint64_t seq;		 /* pcap_cnt of the current packet */
	nj_file_hash_fn hash_fn; /* threat intel: digests at close */
	void *hash_arg;
	uint32_t open_fds;
	int pid;
#ifdef NJ_HAVE_MAGIC
	magic_t magic;
#endif
	char *meta_buf; /* write-fileinfo record when there is no EVE worker */
	const struct nj_file_scanner_ops *scan; /* content scanner (YARA), or NULL */
	struct nj_file_ranges *ranges;		/* HTTP byte-range reassembly (files_range.c) */
	void *scan_ctx;
	char path[FILE_PATH_MAX], path2[FILE_PATH_MAX];
};

/* ------------------------------------------------------------ configuration */

void nj_files_config_defaults(struct nj_files_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->enabled = true;
	snprintf(cfg->store_dir, sizeof(cfg->store_dir), "filestore");
	cfg->memcap = 16u << 20;
	cfg->max_open = 1024;
	cfg->range_memcap = 100u << 20;
	cfg->range_timeout = 60;
}

static int hash_name_set(struct nj_files_config *cfg, const struct nj_conf_node *n,
			 const char *name, size_t len)
{
	for (unsigned h = 0; h < H_MAX; h++) {
		if (len == strlen(hash_key[h]) && strncasecmp(name, hash_key[h], len) == 0) {
			if (h == H_MD5)
				cfg->md5 = true;
			else if (h == H_SHA1)
				cfg->sha1 = true;
			else
				cfg->sha256 = true;
			return 0;
		}
	}
	/* Suricata ignores names it does not know; say so */
	NJ_WARN("%s:%d: force-hash: unknown hash '%.*s' ignored (md5, sha1, sha256)", n->file,
		n->line, (int)len, name);
	return 0;
}

/* force-hash: [md5, sha1] (a sequence) or a scalar "md5, sha1". */
static void force_hash_load(struct nj_files_config *cfg, const struct nj_conf_node *at)
{
	const struct nj_conf_node *n = at ? nj_conf_node_get(at, "force-hash") : NULL;

	if (!n)
		return;
	if (n->kind == NJ_CONF_SEQ) {
		for (const struct nj_conf_node *it = n->child; it; it = it->next)
			if (it->kind == NJ_CONF_SCALAR && it->value)
				hash_name_set(cfg, it, it->value, strlen(it->value));
		return;
	}
	if (n->kind == NJ_CONF_SCALAR && n->value) {
		const char *s = n->value;

		while (*s) {
			size_t l;

			s += strspn(s, " \t,[]");
			l = strcspn(s, " \t,[]");
			if (l)
				hash_name_set(cfg, n, s, l);
			s += l;
		}
	}
}

/* One eve-log output: does it want fileinfo, and with which forced options? */
static int eve_files_load(struct nj_files_config *cfg, const struct nj_conf *c,
			  const struct nj_conf_node *e, bool *force_store)
{
	const struct nj_conf_node *types, *it;
	bool en = true;

	if (nj_conf_bool(c, e, "enabled", &en) < 0)
		return -1;
	if (!en)
		return 0;
	types = nj_conf_node_get(e, "types");
	if (!types) {
		cfg->enabled = true; /* no list: every type, as settings.c */
		return 0;
	}
	for (it = types->child; it; it = it->next) {
		const char *name = it->kind == NJ_CONF_SCALAR ? it->value
				   : it->child		      ? it->child->key
							      : NULL;
		const struct nj_conf_node *o = NULL;

		if (nj_eve_type_parse(name) != NJ_EVE_FILEINFO)
			continue;
		if (it->kind == NJ_CONF_MAP && it->child && it->child->kind == NJ_CONF_MAP)
			o = it->child;
		if (o) {
			bool on = true, fm = false, fs = false;

			if (nj_conf_bool(c, o, "enabled", &on) < 0 ||
			    nj_conf_bool(c, o, "force-magic", &fm) < 0 ||
			    nj_conf_bool(c, o, "force-filestore", &fs) < 0)
				return -1;
			if (!on)
				continue;
			cfg->magic |= fm;
			*force_store |= fs;
			force_hash_load(cfg, o);
		}
		cfg->enabled = true;
	}
	return 0;
}

static int store_load(struct nj_files_config *cfg, const struct nj_conf *c,
		      const struct nj_conf_node *s, const char **dir)
{
	bool en = false, fm = false;
	int64_t ver = 0, fds = 0;
	const char *depth = NULL;

	if (nj_conf_bool(c, s, "enabled", &en) < 0)
		return -1;
	if (!en)
		return 0;
	if (nj_conf_int(c, s, "version", 0, 1000, &ver) < 0)
		return -1;
	if (ver < 2) {
		/* as Suricata: v1 is gone, an output without version 2 is not started */
		NJ_WARN("%s:%d: file-store without 'version: 2' is ignored (only filestore v2 "
			"exists)",
			s->file, s->line);
		return 0;
	}
	if (cfg->store) {
		NJ_WARN("%s:%d: a second file-store output is ignored", s->file, s->line);
		return 0;
	}
	cfg->store = true;
	if (nj_conf_str(c, s, "dir", dir) < 0 ||
	    nj_conf_bool(c, s, "write-fileinfo", &cfg->store_fileinfo) < 0 ||
	    nj_conf_bool(c, s, "force-filestore", &cfg->store_all) < 0 ||
	    nj_conf_bool(c, s, "force-magic", &fm) < 0 ||
	    nj_conf_int(c, s, "max-open-files", 0, 1 << 20, &fds) < 0 ||
	    nj_conf_str(c, s, "stream-depth", &depth) < 0)
		return -1;
	cfg->magic |= fm;
	cfg->store_max_fds = (uint32_t)fds;
	if (depth && strcasecmp(depth, "no") != 0 &&
	    nj_conf_size(c, s, "stream-depth", &cfg->stream_depth) < 0)
		return -1;
	force_hash_load(cfg, s);
	return 0;
}

int nj_files_config_load(struct nj_files_config *cfg, const struct nj_conf *conf,
			 const char *log_dir)
{
	const struct nj_conf_node *outs = conf ? nj_conf_get(conf, "outputs") : NULL;
	const char *dir = "filestore";
	bool force_store = false;
	int64_t maxopen;
	int n;

	nj_files_config_defaults(cfg);
	if (!log_dir)
		log_dir = ".";
	if (outs) {
		/* with an outputs list, events only when an eve-log asks for files */
		cfg->enabled = false;
		for (const struct nj_conf_node *o = outs->child; o; o = o->next) {
			const struct nj_conf_node *e = nj_conf_node_get(o, "eve-log");
			const struct nj_conf_node *s = nj_conf_node_get(o, "file-store");

			if (e && eve_files_load(cfg, conf, e, &force_store) < 0)
				return -1;
			if (s && store_load(cfg, conf, s, &dir) < 0)
				return -1;
		}
	}
	maxopen = cfg->max_open;
	if (conf && (nj_conf_int(conf, NULL, "nightjar.files.max-open", 1, 1 << 20, &maxopen) < 0 ||
		     nj_conf_size(conf, NULL, "nightjar.files.memcap", &cfg->memcap) < 0 ||
		     nj_conf_size(conf, NULL, "nightjar.files.max-size", &cfg->max_size) < 0))
		return -1;
	cfg->max_open = (uint32_t)maxopen;
	if (conf && nj_file_ranges_config_load(cfg, conf) < 0)
		return -1;
	if (cfg->store) {
		/* eve-log's force-filestore only means something with a file-store output */
		cfg->store_all |= force_store;
		/* files are named by their SHA-256 */
		cfg->sha256 = true;
		if (dir[0] == '/')
			n = snprintf(cfg->store_dir, sizeof(cfg->store_dir), "%s", dir);
		else
			n = snprintf(cfg->store_dir, sizeof(cfg->store_dir), "%s/%s", log_dir, dir);
		if (n < 0 || (size_t)n >= sizeof(cfg->store_dir) - 128) {
			NJ_ERR("file-store.dir: path too long");
			return -1;
		}
	}
#ifndef NJ_HAVE_MAGIC
	if (cfg->magic) {
		NJ_WARN("force-magic: this build has no libmagic; files are logged without magic");
		cfg->magic = false;
	}
#endif
	return 0;
}

/* ------------------------------------------------------------ filestore */

static void tmp_path(struct nj_files *fs, uint32_t id, char *out)
{
	/* the pid keeps two processes sharing a directory apart */
	snprintf(out, FILE_PATH_MAX, "%s/tmp/file.%d.%u", fs->cfg.store_dir, fs->pid, id);
}

/* mkdir -p, then check it is a writable directory. */
static int mkdir_tree(const char *dir)
{
	char p[FILE_PATH_MAX];
	struct stat sb;
	size_t n = strlen(dir);

	if (n == 0 || n >= sizeof(p))
		return -ENAMETOOLONG;
	memcpy(p, dir, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (p[i] != '/' && p[i] != '\0')
			continue;
		p[i] = '\0';
		if (mkdir(p, 0755) != 0 && errno != EEXIST)
			return -errno;
		if (i < n)
			p[i] = '/';
	}
	if (stat(dir, &sb) != 0)
		return -errno;
	if (!S_ISDIR(sb.st_mode))
		return -ENOTDIR;
	if (access(dir, W_OK | X_OK) != 0)
		return -errno;
	return 0;
}

static int store_dirs_create(struct nj_files *fs)
{
	const char *dir = fs->cfg.store_dir;
	int ret = mkdir_tree(dir);

	if (ret < 0) {
		NJ_ERR("file-store: cannot use directory '%s': %s", dir, strerror(-ret));
		return ret;
	}
	/* the 256 leaf folders and tmp/ exist before any file is carved, as Suricata */
	for (unsigned i = 0; i <= 256; i++) {
		if (i < 256)
			snprintf(fs->path, sizeof(fs->path), "%s/%02x", dir, i);
		else
			snprintf(fs->path, sizeof(fs->path), "%s/tmp", dir);
		if (mkdir(fs->path, 0755) != 0 && errno != EEXIST) {
			ret = -errno;
			NJ_ERR("file-store: cannot create '%s': %s", fs->path, strerror(errno));
			return ret;
		}
	}
	return 0;
}

/* An open or write failed: the file will not be stored (counted once). */
static void store_abort(struct nj_file *f)
{
	struct nj_files *fs = f->fs;

	fs->st.store_errors++;
	if (f->fd >= 0) {
		close(f->fd);
		f->fd = -1;
	}
	if (f->fd_kept) {
		fs->open_fds--;
		f->fd_kept = false;
	}
	tmp_path(fs, f->store_id, fs->path);
	unlink(fs->path);
	f->storing = false;
	f->store_failed = true;
	f->wlen = 0;
}

static void store_begin(struct nj_file *f)
{
	struct nj_files *fs = f->fs;
	int fd;

	if (f->storing || f->store_failed)
		return;
	if (!f->wbuf) {
		f->wbuf = malloc(FILE_WBUF);
		if (!f->wbuf) {
			fs->st.store_errors++;
			f->store_failed = true;
			return;
		}
	}
	f->store_id = atomic_fetch_add_explicit(&store_ids, 1, memory_order_relaxed) + 1;
	tmp_path(fs, f->store_id, fs->path);
	fd = open(fs->path, O_CREAT | O_TRUNC | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		fs->st.store_errors++;
		f->store_failed = true;
		return;
	}
	if (!fs->cfg.store_max_fds || fs->open_fds < fs->cfg.store_max_fds) {
		f->fd = fd;
		f->fd_kept = true;
		fs->open_fds++;
	} else {
		/* over max-open-files: reopened per flush, as Suricata */
		close(fd);
		f->fd = -1;
		fs->st.store_fd_limit++;
	}
	f->storing = true;
	f->wlen = 0;
}

static int write_all(int fd, const uint8_t *d, size_t n)
{
	while (n) {
		ssize_t r = write(fd, d, n);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		d += r;
		n -= (size_t)r;
	}
	return 0;
}

static int store_out(struct nj_file *f, const uint8_t *d, size_t n)
{
	int fd = f->fd, ret;

	if (fd < 0) {
		tmp_path(f->fs, f->store_id, f->fs->path);
		fd = open(f->fs->path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			store_abort(f);
			return -1;
		}
	}
	ret = write_all(fd, d, n);
	if (fd != f->fd)
		close(fd);
	if (ret < 0) {
		store_abort(f);
		return -1;
	}
	return 0;
}

static int store_flush(struct nj_file *f)
{
	uint32_t n = f->wlen;

	if (!n)
		return 0;
	f->wlen = 0;
	return store_out(f, f->wbuf, n);
}

static void store_write(struct nj_file *f, const uint8_t *d, uint32_t n)
{
	if (f->wlen + (uint64_t)n > FILE_WBUF && store_flush(f) < 0)
		return;
	if (n >= FILE_WBUF) {
		store_out(f, d, n);
		return;
	}
	memcpy(f->wbuf + f->wlen, d, n);
	f->wlen += n;
}

static void hex(char *out, const uint8_t *d, unsigned n)
{
	static const char digits[] = "0123456789abcdef";

	for (unsigned i = 0; i < n; i++) {
		out[2 * i] = digits[d[i] >> 4];
		out[2 * i + 1] = digits[d[i] & 15];
	}
	out[2 * n] = '\0';
}

/*
 * Moves the temp file to DIR/xx/<sha256> (fs->path2 holds that path after).
 * Returns true when the content is in place (new or already there).
 */
static bool store_finish(struct nj_file *f, bool keep, const uint8_t *sha256)
{
	struct nj_files *fs = f->fs;
	char sha[65];
	struct stat sb;
	int err;

	if (store_flush(f) < 0)
		return false;
	if (f->fd >= 0) {
		close(f->fd);
		f->fd = -1;
	}
	if (f->fd_kept) {
		fs->open_fds--;
		f->fd_kept = false;
	}
	f->storing = false;
	tmp_path(fs, f->store_id, fs->path);
	if (!keep) {
		unlink(fs->path);
		return false;
	}
	hex(sha, sha256, 32);
	snprintf(fs->path2, sizeof(fs->path2), "%s/%c%c/%s", fs->cfg.store_dir, sha[0], sha[1],
		 sha);
	/* never replaces: identical content already stored is kept once */
	if (renameat2(AT_FDCWD, fs->path, AT_FDCWD, fs->path2, RENAME_NOREPLACE) == 0)
		goto stored;
	err = errno;
	if (err == EINVAL || err == ENOSYS || err == ENOTSUP) {
		/* a file system without RENAME_NOREPLACE */
		if (stat(fs->path2, &sb) == 0)
			err = EEXIST;
		else if (rename(fs->path, fs->path2) == 0)
			goto stored;
		else
			err = errno;
	}
	if (err == EEXIST) {
		unlink(fs->path);
		/* as Suricata: the existing copy gets the new file's time */
		utimensat(AT_FDCWD, fs->path2, NULL, 0);
		fs->st.store_dups++;
		goto stored;
	}
	fs->st.store_errors++;
	unlink(fs->path);
	return false;
stored:
	fs->st.stored++;
	return true;
}

/* write-fileinfo: the event's record as DIR/xx/<sha256>.<secs>.<file_id>.json. */
static void store_meta(struct nj_files *fs, const struct nj_json *j, uint32_t id, uint64_t ts_us)
{
	size_t n = strlen(fs->path2);
	int fd;

	if (!nj_json_ok(j) || !j->len)
		return;
	snprintf(fs->path2 + n, sizeof(fs->path2) - n, ".%llu.%u.json",
		 (unsigned long long)(ts_us / 1000000), id);
	fd = open(fs->path2, O_CREAT | O_TRUNC | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		fs->st.store_errors++;
		return;
	}
	/* the writer is left inside the top-level object: close it in the copy */
	if (write_all(fd, (const uint8_t *)j->buf, j->len) < 0 ||
	    write_all(fd, (const uint8_t *)"}", 1) < 0)
		fs->st.store_errors++;
	close(fd);
}

/* ------------------------------------------------------------ data path */

/* A file longer than max_size: it ends TRUNCATED (counted once). */
static void limit_hit(struct nj_file *f)
{
	if (!f->limited) {
		f->limited = true;
		f->fs->st.limit_size++;
	}
}

/* Bytes at the current end, in order: limit, hash, head, store. */
static void consume(struct nj_file *f, const uint8_t *d, uint32_t n)
{
	struct nj_files *fs = f->fs;
	uint64_t max = fs->cfg.max_size;

	if (unlikely(max && f->cur + n > max)) {
		limit_hit(f);
		n = f->cur < max ? (uint32_t)(max - f->cur) : 0;
	}
	if (!n)
		return;
	for (unsigned h = 0; h < H_MAX; h++)
		if (f->md[h])
			EVP_DigestUpdate(f->md[h], d, n);
	if (fs->keep_head && f->head_len < FILE_HEAD) {
		uint32_t k = FILE_HEAD - f->head_len;

		if (k > n)
			k = n;
		memcpy(f->head + f->head_len, d, k);
		f->head_len += k;
	}
	if (f->storing)
		store_write(f, d, n);
	if (fs->scan)
		fs->scan->data(fs->scan_ctx, (uint32_t)(f - fs->pool), f->cur, d, n);
	f->cur += n;
	fs->st.bytes += n;
}

static void chunk_free(struct nj_file *f, struct file_chunk *c)
{
	uint64_t n = sizeof(*c) + c->len;

	if (f->budget)
		*f->budget->used -= n;
	else
		f->fs->st.ooo_bytes -= n;
	free(c);
}

static void held_free_all(struct nj_file *f)
{
	while (f->held) {
		struct file_chunk *c = f->held;

		f->held = c->next;
		chunk_free(f, c);
	}
}

/* Feeds held chunks that the current end has reached. */
static void drain(struct nj_file *f)
{
	while (f->held && f->held->off <= f->cur) {
		struct file_chunk *c = f->held;
		uint64_t end = c->off + c->len;

		f->held = c->next;
		if (end > f->cur)
			consume(f, c->data + (f->cur - c->off), (uint32_t)(end - f->cur));
		chunk_free(f, c);
	}
}

static void gap_at_end(struct nj_file *f, uint64_t len)
{
	struct nj_files *fs = f->fs;
	uint64_t max = fs->cfg.max_size;

	if (!len)
		return;
	if (max && f->cur + len > max) {
		/* nothing past the limit is tracked: held data there is dropped */
		limit_hit(f);
		if (f->cur < max) {
			f->has_gaps = true;
			fs->st.gaps++;
			f->cur = max;
		}
		held_free_all(f);
		return;
	}
	f->has_gaps = true;
	fs->st.gaps++;
	f->cur += len;
	drain(f);
}

static struct file_chunk *chunk_new(struct nj_file *f, uint64_t off, const uint8_t *d, uint32_t n)
{
	struct nj_files *fs = f->fs;
	struct file_chunk *c;
	uint64_t need = sizeof(*c) + (uint64_t)n;
	uint64_t *used = f->budget ? f->budget->used : &fs->st.ooo_bytes;
	uint64_t cap = f->budget ? f->budget->cap : fs->cfg.memcap;
	uint64_t *hits = f->budget ? f->budget->hits : &fs->st.limit_memcap;

	if (cap && *used + need > cap) {
		(*hits)++;
		return NULL;
	}
	c = malloc(need);
	if (!c) {
		(*hits)++;
		return NULL;
	}
	c->off = off;
	c->len = n;
	memcpy(c->data, d, n);
	*used += need;
	return c;
}

/*
 * Holds [s, e) (data d starts at s) beyond the current end: only the parts not
 * already held are kept, so the list stays disjoint and a byte's first copy wins.
 */
static void hold(struct nj_file *f, uint64_t s, uint64_t e, const uint8_t *d)
{
	struct file_chunk **pp = &f->held;
	const uint64_t base = s;

	while (s < e) {
		struct file_chunk *c = *pp, *n;
		uint64_t pe;

		if (c && c->off + c->len <= s) {
			pp = &c->next;
			continue;
		}
		pe = c && c->off < e ? c->off : e;
		if (pe > s) {
			n = chunk_new(f, s, d + (s - base), (uint32_t)(pe - s));
			if (n) {
				n->next = c;
				*pp = n;
			} else if (!f->budget) {
				/* these bytes are lost even if nothing else is missing (a byte
				 * range's file may still get them from another range) */
				f->has_gaps = true;
			}
		}
		if (!c)
			break;
		if (c->off + c->len > s)
			s = c->off + c->len;
		pp = &c->next;
	}
}

void nj_file_append(struct nj_file *f, const uint8_t *data, uint32_t len)
{
	if (!f || !len)
		return;
	consume(f, data, len);
	if (unlikely(f->held))
		drain(f);
}

void nj_file_append_at(struct nj_file *f, uint64_t off, const uint8_t *data, uint32_t len)
{
	uint64_t end, max;

	if (!f || !len)
		return;
	end = off + len;
	if (end < off) /* wraps: nonsense offset */
		return;
	max = f->fs->cfg.max_size;
	if (max && end > max) {
		limit_hit(f);
		if (off >= max)
			return;
		end = max; /* what lies below the limit is still tracked */
	}
	if (end <= f->cur)
		return; /* already seen: the first copy wins */
	if (off <= f->cur) {
		consume(f, data + (f->cur - off), (uint32_t)(end - f->cur));
		if (f->held)
			drain(f);
		return;
	}
	hold(f, off, end, data);
}

void nj_file_gap(struct nj_file *f, uint32_t len)
{
	if (f)
		gap_at_end(f, len);
}

void nj_file_store(struct nj_file *f)
{
	struct nj_files *fs;

	if (!f)
		return;
	fs = f->fs;
	if (!fs->cfg.store || f->store_req)
		return;
	f->store_req = true;
	if (f->storing)
		return; /* copied since its start (filestore rules loaded) */
	if (f->cur == 0) {
		store_begin(f);
		return;
	}
	/* every byte so far is still in the head (no gap): store from the start */
	if (fs->keep_head && f->cur == f->head_len) {
		store_begin(f);
		if (f->storing)
			store_write(f, f->head, f->head_len);
		return;
	}
	fs->st.store_late++;
}

void nj_file_add_sid(struct nj_file *f, uint32_t sid)
{
	if (!f || f->nsids >= FILE_MAX_SIDS)
		return;
	for (uint32_t i = 0; i < f->nsids; i++)
		if (f->sids[i] == sid)
			return;
	f->sids[f->nsids++] = sid;
}

void nj_file_set_range(struct nj_file *f, uint64_t start, uint64_t end)
{
	if (!f)
		return;
	f->start = start;
	f->end = end;
}

uint64_t nj_file_size(const struct nj_file *f)
{
	return f ? f->cur : 0;
}

struct nj_file *nj_file_open(struct nj_files *fs, struct nj_flow *flow, const char *app_proto,
			     const uint8_t *name, uint32_t name_len, uint64_t tx_id, int dir)
{
	struct nj_file *f;

	if (!fs)
		return NULL;
	f = fs->free_list;
	if (unlikely(!f)) {
		fs->st.limit_open++;
		return NULL;
	}
	fs->free_list = f->next_free;
	f->next_free = NULL;
	f->flow = flow;
	f->app_proto = app_proto;
	f->tx_id = tx_id;
	f->cur = 0;
	f->start = f->end = 0;
	f->held = NULL;
	f->budget = NULL;
	f->dir = dir == 1;
	f->in_use = true;
	f->has_gaps = f->limited = false;
	f->store_req = f->storing = f->store_failed = f->fd_kept = false;
	f->pending = false;
	f->next_pending = NULL;
	f->fd = -1;
	f->store_id = 0;
	f->wlen = 0;
	f->nsids = 0;
	f->head_len = 0;
	f->magic_done = 0;
	if (name_len > FILE_NAME_MAX)
		name_len = FILE_NAME_MAX;
	if (name_len)
		memcpy(f->name, name, name_len);
	f->name_len = name_len;
	for (unsigned h = 0; h < H_MAX; h++)
		if (f->md[h])
			EVP_DigestInit_ex(f->md[h], fs->md[h], NULL);
	fs->st.opened++;
	fs->st.open_now++;
	if (fs->cfg.store && fs->cfg.store_all)
		nj_file_store(f);
	else if (fs->rule_store)
		store_begin(f); /* kept only if a rule asks for it by the time it is finished */
	/* file-store stream-depth: Suricata sets it on the TCP session when a
	 * filestore rule matches a file; rules see a file only once it is done
	 * here, so the depth is set when a file that may be stored opens */
	if (fs->cfg.stream_depth && flow && flow->proto == 6 &&
	    (fs->cfg.store_all || fs->rule_store))
		nj_stream_flow_set_depth(flow, (uint32_t)fs->cfg.stream_depth);
	return f;
}

/* The members of a fileinfo object (dig: NULL when the digests are not final). */
static void fileinfo_fields(struct nj_json *j, const struct nj_file *f, enum nj_file_state fin,
			    uint8_t dig[H_MAX][32], const char *magic, bool stored)
{
	const struct nj_files *fs = f->fs;
	char hx[65];

	nj_json_strn(j, "filename", f->name, f->name_len);
	if (f->nsids) {
		nj_json_open_arr(j, "sid");
		for (uint32_t i = 0; i < f->nsids; i++)
			nj_json_u64(j, NULL, f->sids[i]);
		nj_json_close_arr(j);
	}
	if (magic)
		nj_json_str(j, "magic", magic);
	nj_json_bool(j, "gaps", f->has_gaps);
	switch (fin) {
	case NJ_FILE_OPEN: nj_json_str(j, "state", "OPEN"); break;
	case NJ_FILE_CLOSED:
		nj_json_str(j, "state", "CLOSED");
		for (unsigned h = H_MD5; h <= H_SHA1; h++) {
			if (!fs->md[h] || !dig)
				continue;
			hex(hx, dig[h], hash_len[h]);
			nj_json_str(j, hash_key[h], hx);
		}
		break;
	case NJ_FILE_TRUNCATED: nj_json_str(j, "state", "TRUNCATED"); break;
	default: nj_json_str(j, "state", "ERROR"); break;
	}
	/* Suricata finalises a forced SHA-256 for truncated files too: of the bytes seen */
	if (fs->md[H_SHA256] && dig && fin != NJ_FILE_ERROR && fin != NJ_FILE_OPEN) {
		hex(hx, dig[H_SHA256], 32);
		nj_json_str(j, "sha256", hx);
	}
	nj_json_bool(j, "stored", stored);
	if (stored)
		nj_json_u64(j, "file_id", f->store_id);
	else if (f->store_req)
		nj_json_bool(j, "storing", true);
	nj_json_u64(j, "size", f->cur);
	if (f->end > 0) {
		nj_json_u64(j, "start", f->start);
		nj_json_u64(j, "end", f->end);
	}
	nj_json_u64(j, "tx_id", f->tx_id);
	if (fs->scan)
		fs->scan->log(fs->scan_ctx, (uint32_t)(f - fs->pool), j);
}

static void fileinfo_write(struct nj_json *j, const struct nj_file *f, enum nj_file_state fin,
			   uint8_t dig[H_MAX][32], const char *magic, bool stored)
{
	nj_json_open_obj(j, "fileinfo");
	fileinfo_fields(j, f, fin, dig, magic, stored);
	nj_json_close_obj(j);
}

/*
 * libmagic's description of the head (computed once the head is complete or the
 * file closes, then kept: the fileinfo event and file.magic rules share it).
 */
const char *nj_file_magic(struct nj_file *f, bool final)
{
#ifdef NJ_HAVE_MAGIC
	struct nj_files *fs = f ? f->fs : NULL;
	const char *m;

	if (!fs || !fs->magic || !f->head_len)
		return NULL;
	if (f->magic_done)
		return f->magic[0] ? f->magic : NULL;
	m = magic_buffer(fs->magic, f->head, f->head_len);
	snprintf(f->magic, sizeof(f->magic), "%s", m ? m : "");
	if (final || f->head_len == FILE_HEAD)
		f->magic_done = 1;
	return f->magic[0] ? f->magic : NULL;
#else
	(void)f;
	(void) final;
	return NULL;
#endif
}

static void file_release(struct nj_file *f)
{
	struct nj_files *fs = f->fs;

	held_free_all(f);
	if (f->storing)
		store_finish(f, false, NULL);
	if (fs->scan)
		fs->scan->release(fs->scan_ctx, (uint32_t)(f - fs->pool));
	f->in_use = false;
	f->flow = NULL;
	f->next_free = fs->free_list;
	fs->free_list = f;
	fs->st.open_now--;
}

static void file_finish(struct nj_file *f, enum nj_file_state state, uint64_t ts_us,
			nj_file_meta_fn meta_fn, const void *meta_arg, uint64_t seq);

void nj_file_close(struct nj_file *f, enum nj_file_state state, uint64_t ts_us,
		   nj_file_meta_fn meta_fn, const void *meta_arg)
{
	struct nj_files *fs;

	if (!f || !f->in_use || f->pending)
		return;
	fs = f->fs;
	if (fs->defer && fs->rule_store) {
		/* the transaction's rules run before the file is finished */
		f->pending = true;
		f->pend_state = (uint8_t)state;
		f->pend_ts = ts_us;
		f->pend_seq = fs->seq;
		f->pend_meta = meta_fn;
		f->pend_arg = meta_arg;
		f->next_pending = NULL;
		if (fs->pend_tail)
			fs->pend_tail->next_pending = f;
		else
			fs->pend_head = f;
		fs->pend_tail = f;
		return;
	}
	file_finish(f, state, ts_us, meta_fn, meta_arg, fs->seq);
}

void nj_files_defer(struct nj_files *fs, bool on)
{
	if (fs)
		fs->defer = on;
}

void nj_files_flush(struct nj_files *fs)
{
	if (!fs)
		return;
	while (fs->pend_head) {
		struct nj_file *f = fs->pend_head;

		fs->pend_head = f->next_pending;
		if (!fs->pend_head)
			fs->pend_tail = NULL;
		f->pending = false;
		file_finish(f, (enum nj_file_state)f->pend_state, f->pend_ts, f->pend_meta,
			    f->pend_arg, f->pend_seq);
	}
}

unsigned nj_files_store_tx(struct nj_files *fs, const struct nj_flow *flow, uint64_t tx_id,
			   uint64_t tx_last, unsigned dirs)
{
	unsigned n = 0;

	if (!fs || !fs->cfg.store)
		return 0;
	for (uint32_t i = 0; i < fs->cfg.max_open; i++) {
		struct nj_file *f = &fs->pool[i];

		if (!f->in_use || f->flow != flow || !(dirs & (1u << f->dir)))
			continue;
		if (f->tx_id < tx_id || f->tx_id > tx_last)
			continue;
		nj_file_store(f);
		n++;
	}
	return n;
}

/* Digest h of the bytes appended so far, finished on a copy (the file's own goes on). */
static bool digest_copy(struct nj_file *f, unsigned h, uint8_t *out)
{
	unsigned int n = 0;

	return f->fs->scratch && EVP_MD_CTX_copy_ex(f->fs->scratch, f->md[h]) == 1 &&
	       EVP_DigestFinal_ex(f->fs->scratch, out, &n) == 1 && n == hash_len[h];
}

void nj_files_tx_json(struct nj_files *fs, const struct nj_flow *flow, uint64_t tx_id, int dir,
		      struct nj_json *j)
{
	bool open = false;
	uint64_t left = fs ? fs->st.open_now : 0; /* files in use (open or pending) */

	for (uint32_t i = 0; left && i < fs->cfg.max_open; i++) {
		struct nj_file *f = &fs->pool[i];
		enum nj_file_state st = NJ_FILE_OPEN;
		uint8_t dig[H_MAX][32];
		bool have = false;

		if (!f->in_use)
			continue;
		left--;
		if (f->flow != flow || f->tx_id != tx_id || f->dir != dir)
			continue;
		if (f->pending) {
			/* closed, finished after the rules: the digests of a copy */
			st = (enum nj_file_state)f->pend_state;
			if (st == NJ_FILE_OPEN)
				st = NJ_FILE_TRUNCATED;
			drain(f);
			have = true;
			for (unsigned h = 0; h < H_MAX && have; h++)
				if (f->md[h] && !digest_copy(f, h, dig[h]))
					have = false;
		}
		if (!open) {
			nj_json_open_arr(j, "files");
			open = true;
		}
		nj_json_open_obj(j, NULL);
		fileinfo_fields(j, f, st, have ? dig : NULL,
				fs->cfg.magic ? nj_file_magic(f, f->pending) : NULL, false);
		nj_json_close_obj(j);
	}
	if (open)
		nj_json_close_arr(j);
}

/* Set before workers start when filestore rules are loaded. */
static bool files_rule_store;

void nj_files_require_rule_store(void)
{
	files_rule_store = true;
}

static void file_finish(struct nj_file *f, enum nj_file_state state, uint64_t ts_us,
			nj_file_meta_fn meta_fn, const void *meta_arg, uint64_t seq)
{
	struct nj_files *fs = f->fs;
	enum nj_file_state fin;
	uint8_t dig[H_MAX][32];
	const char *magic = NULL;
	bool stored = false, log, meta;
	struct nj_json *j, local;
	struct nj_file_view view;

	/* holes still open become gaps; the data held after them is delivered */
	while (f->held) {
		if (f->held->off > f->cur)
			gap_at_end(f, f->held->off - f->cur);
		else
			drain(f);
	}
	if (state == NJ_FILE_ERROR)
		fin = NJ_FILE_ERROR;
	else if (state != NJ_FILE_CLOSED || f->has_gaps || f->limited)
		fin = NJ_FILE_TRUNCATED;
	else
		fin = NJ_FILE_CLOSED;
	for (unsigned h = 0; h < H_MAX; h++) {
		unsigned int n = 0;

		if (f->md[h])
			EVP_DigestFinal_ex(f->md[h], dig[h], &n);
	}
	if (fs->hash_fn)
		fs->hash_fn(fs->hash_arg, f->flow, f->md[H_MD5] ? dig[H_MD5] : NULL,
			    f->md[H_SHA1] ? dig[H_SHA1] : NULL,
			    f->md[H_SHA256] ? dig[H_SHA256] : NULL, ts_us);
	if (f->storing)
		stored = store_finish(f, fin != NJ_FILE_ERROR && f->store_req, dig[H_SHA256]);
	if (fs->cfg.magic)
		magic = nj_file_magic(f, true);
	if (fin == NJ_FILE_CLOSED)
		fs->st.closed++;
	else if (fin == NJ_FILE_TRUNCATED)
		fs->st.truncated++;
	else
		fs->st.errors++;

	if (fs->scan) {
		view = (struct nj_file_view){
			.flow = f->flow,
			.app_proto = f->app_proto,
			.name = f->name,
			.name_len = f->name_len,
			.dir = f->dir,
			.state = fin,
			.gaps = f->has_gaps,
			.size = f->cur,
			.tx_id = f->tx_id,
			.ts_us = ts_us,
			.pcap_cnt = seq,
			.md5 = fs->md[H_MD5] && fin == NJ_FILE_CLOSED ? dig[H_MD5] : NULL,
			.sha1 = fs->md[H_SHA1] && fin == NJ_FILE_CLOSED ? dig[H_SHA1] : NULL,
			.sha256 = fs->md[H_SHA256] && fin != NJ_FILE_ERROR ? dig[H_SHA256] : NULL,
			.meta_fn = meta_fn,
			.meta_arg = meta_arg,
		};
		fs->scan->scan(fs->scan_ctx, (uint32_t)(f - fs->pool), &view);
	}
	log = fs->cfg.enabled && nj_eve_wants(fs->eve, NJ_EVE_FILEINFO);
	meta = stored && fs->cfg.store_fileinfo;
	if (log || meta) {
		if (fs->eve && f->flow) {
			j = nj_eve_begin_flow_seq(fs->eve, NJ_EVE_FILEINFO, ts_us, f->flow, f->dir,
						  seq);
		} else if (fs->eve) {
			j = nj_eve_begin(fs->eve, NJ_EVE_FILEINFO, ts_us, NULL, NULL);
		} else {
			/* no EVE output: the metadata record gets a minimal header */
			char ts[40];

			j = &local;
			nj_json_init(j, fs->meta_buf, fs->meta_buf ? 65536 : 0);
			nj_json_open_obj(j, NULL);
			nj_eve_format_ts(ts, ts_us);
			nj_json_str(j, "timestamp", ts);
			nj_json_str(j, "event_type", "fileinfo");
		}
		/* Suricata's order: the protocol's object, app_proto, fileinfo */
		if (meta_fn)
			meta_fn(j, meta_arg);
		if (f->app_proto)
			nj_json_str(j, "app_proto", f->app_proto);
		fileinfo_write(j, f, fin, dig, magic, stored);
		if (meta)
			store_meta(fs, j, f->store_id, ts_us);
		if (log)
			nj_eve_commit(fs->eve);
	}
	if (fs->scan)
		fs->scan->done(fs->scan_ctx, (uint32_t)(f - fs->pool), &view);
	file_release(f);
}

/* ------------------------------------------------------------ lifetime */

/* Set before workers start when a rule needs MD5 (filemd5): every files object computes it. */
static bool files_need_md5;

void nj_files_require_md5(void)
{
	files_need_md5 = true;
}

bool nj_files_md5_required(void)
{
	return files_need_md5;
}

/* Set before workers start when a rule inspects file.magic: every files object computes it. */
static bool files_need_magic;

void nj_files_require_magic(void)
{
	files_need_magic = true;
}

bool nj_file_md5(struct nj_file *f, uint8_t out[16])
{
	if (!f || !f->md[H_MD5])
		return false;
	drain(f);
	return digest_copy(f, H_MD5, out);
}

struct nj_files *nj_files_create(const struct nj_files_config *cfg, struct nj_eve_worker *eve)
{
	struct nj_files *fs;

	if (!cfg || !cfg->max_open) {
		NJ_ERR("files: max-open must be at least 1");
		return NULL;
	}
	fs = calloc(1, sizeof(*fs));
	if (!fs)
		return NULL;
	fs->cfg = *cfg;
	fs->eve = eve;
	if (files_need_md5)
		fs->cfg.md5 = true; /* a rule needs it (filemd5) */
#ifdef NJ_HAVE_MAGIC
	if (files_need_magic)
		fs->cfg.magic = true; /* a rule inspects file.magic (filemagic) */
#endif
	fs->pid = (int)getpid();
	if (fs->cfg.store) {
		fs->cfg.sha256 = true;
		if (strnlen(fs->cfg.store_dir, sizeof(fs->cfg.store_dir)) >=
		    sizeof(fs->cfg.store_dir) - 128) {
			NJ_ERR("file-store: directory name too long");
			goto out_free;
		}
		if (store_dirs_create(fs) < 0)
			goto out_free;
		if (fs->cfg.store_fileinfo && !eve) {
			fs->meta_buf = malloc(65536);
			if (!fs->meta_buf)
				goto out_free;
		}
	}
	fs->keep_head = fs->cfg.magic || (fs->cfg.store && !fs->cfg.store_all);
	fs->rule_store = files_rule_store && fs->cfg.store && !fs->cfg.store_all;
	{
		const bool want[H_MAX] = {fs->cfg.md5, fs->cfg.sha1, fs->cfg.sha256};

		for (unsigned h = 0; h < H_MAX; h++) {
			if (!want[h])
				continue;
			fs->md[h] = EVP_MD_fetch(NULL, hash_algo[h], NULL);
			if (!fs->md[h]) {
				NJ_ERR("files: OpenSSL has no %s", hash_algo[h]);
				goto out_free;
			}
		}
	}
	if ((fs->md[H_MD5] || fs->md[H_SHA1] || fs->md[H_SHA256]) &&
	    !(fs->scratch = EVP_MD_CTX_new()))
		goto out_free;
	fs->ranges = nj_file_ranges_create(fs);
	if (!fs->ranges)
		goto out_free;
	fs->pool = calloc(fs->cfg.max_open, sizeof(*fs->pool));
	if (!fs->pool) {
		NJ_ERR("files: cannot allocate %u files", fs->cfg.max_open);
		goto out_free;
	}
	for (uint32_t i = fs->cfg.max_open; i-- > 0;) {
		struct nj_file *f = &fs->pool[i];

		f->fs = fs;
		f->fd = -1;
		for (unsigned h = 0; h < H_MAX; h++) {
			if (!fs->md[h])
				continue;
			f->md[h] = EVP_MD_CTX_new();
			if (!f->md[h])
				goto out_free;
		}
		f->next_free = fs->free_list;
		fs->free_list = f;
	}
#ifdef NJ_HAVE_MAGIC
	if (fs->cfg.magic) {
		fs->magic = magic_open(MAGIC_NONE);
		if (!fs->magic || magic_load(fs->magic, NULL) != 0) {
			NJ_WARN("files: cannot load the magic database (%s): no magic",
				fs->magic ? magic_error(fs->magic) : "magic_open failed");
			if (fs->magic)
				magic_close(fs->magic);
			fs->magic = NULL;
			fs->cfg.magic = false;
		}
	}
#else
	fs->cfg.magic = false;
#endif
	return fs;
out_free:
	nj_files_destroy(fs);
	return NULL;
}

void nj_files_destroy(struct nj_files *fs)
{
	if (!fs)
		return;
	/* before the pool: containers hold files whose data is counted in them */
	nj_file_ranges_destroy(fs->ranges);
	fs->ranges = NULL;
	if (fs->pool) {
		for (uint32_t i = 0; i < fs->cfg.max_open; i++) {
			struct nj_file *f = &fs->pool[i];

			if (f->in_use)
				file_release(f);
			for (unsigned h = 0; h < H_MAX; h++)
				EVP_MD_CTX_free(f->md[h]);
			free(f->wbuf);
		}
		free(fs->pool);
	}
	for (unsigned h = 0; h < H_MAX; h++)
		EVP_MD_free(fs->md[h]);
	EVP_MD_CTX_free(fs->scratch);
#ifdef NJ_HAVE_MAGIC
	if (fs->magic)
		magic_close(fs->magic);
#endif
	free(fs->meta_buf);
	free(fs);
}

const struct nj_files_stats *nj_files_stats(const struct nj_files *fs)
{
	return &fs->st;
}

void nj_files_set_scanner(struct nj_files *fs, const struct nj_file_scanner_ops *ops, void *ctx)
{
	if (!fs)
		return;
	fs->scan = ops;
	fs->scan_ctx = ctx;
}

uint32_t nj_files_max_open(const struct nj_files *fs)
{
	return fs ? fs->cfg.max_open : 0;
}

void nj_files_set_hash_hook(struct nj_files *fs, nj_file_hash_fn fn, void *arg)
{
	fs->hash_fn = fn;
	fs->hash_arg = arg;
}

void nj_files_set_pcap_cnt(struct nj_files *fs, uint64_t seq)
{
	if (fs)
		fs->seq = seq;
}

/* ------------------------------------------------------------ for files_range.c */

void nj_file_set_budget(struct nj_file *f, struct nj_file_budget *b)
{
	if (f && !f->held)
		f->budget = b;
}

void nj_file_rebind(struct nj_file *f, struct nj_flow *flow, uint64_t tx_id, int dir)
{
	if (!f)
		return;
	f->flow = flow;
	f->tx_id = tx_id;
	f->dir = dir == 1;
}

void nj_file_discard(struct nj_file *f)
{
	if (f && f->in_use && !f->pending)
		file_release(f);
}

struct nj_files_stats *nj_files_stats_rw(struct nj_files *fs)
{
	return &fs->st;
}

const struct nj_files_config *nj_files_cfg(const struct nj_files *fs)
{
	return &fs->cfg;
}

struct nj_file_ranges *nj_files_ranges(struct nj_files *fs)
{
	return fs ? fs->ranges : NULL;
}
