/* SPDX-License-Identifier: MIT */
/*
 * YARA on carved files: rule compilation (files and folders, file:line
 * errors), the shared rule set and its reload, and the per-core scanner that
 * keeps each open file's bytes in a chunk arena and scans it at close. See
 * yara.h for the contract.
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include <yara.h>

#include "common/nj_common.h"
#include "config/config.h"
#include "detect/engine_int.h"
#include "export/eve.h"
#include "export/json.h"
#include "parsers/files.h"
#include "yara.h"

NJ_CONF_KEY(yen, "yara.enabled", NJ_CT_BOOL, "no",
	    "Scan every carved file (HTTP, SMB) with YARA rules when it closes.")
NJ_CONF_KEY(yrules, "yara.rules", NJ_CT_LIST, "[]",
	    "Rule files and folders (.yar/.yara, searched recursively); includes are relative to "
	    "the including file.")
NJ_CONF_KEY(ygid, "yara.gid", NJ_CT_INT, "1", "gid of YARA alerts.")
NJ_CONF_KEY(ysid, "yara.sid-base", NJ_CT_INT, "9100000",
	    "signature_id of a YARA alert: sid-base + the rule's index in compiled order.")
NJ_CONF_KEY(ymax, "yara.max-file-size", NJ_CT_SIZE, "8mb",
	    "Bytes of a file kept for scanning; larger files follow yara.oversize (counted).")
NJ_CONF_KEY(ymemcap, "yara.memcap", NJ_CT_SIZE, "32mb",
	    "File bytes held per worker while files are open (a file that does not fit is not "
	    "scanned, counted); each worker also has one max-file-size scan buffer.")
NJ_CONF_KEY(yover, "yara.oversize", NJ_CT_STR, "skip",
	    "Files over max-file-size: skip (not scanned) or head (the first max-file-size bytes "
	    "are scanned; filesize is then that length).")
NJ_CONF_KEY(ytmo, "yara.scan-timeout", NJ_CT_INT, "1",
	    "Seconds one scan may take (0: no limit); a scan stopped is counted and logged.")
NJ_CONF_KEY(ymatch, "yara.max-matches", NJ_CT_INT, "32",
	    "Matching rules logged (and alerted) per file; more are counted.")
NJ_CONF_KEY(yalerts, "yara.alerts", NJ_CT_BOOL, "yes",
	    "Write an EVE alert per matching rule (besides the fileinfo \"yara\" list).")

#define YCHUNK	  16384u /* arena chunk: small files take one, scanned in place */
#define YNONE	  UINT32_MAX
#define YMAX_META 64u /* meta entries of one rule looked at for duplicate keys */

enum ystatus {
	YS_OK = 0,
	YS_PARTIAL,   /* over max-file-size, head scanned */
	YS_TOO_LARGE, /* over max-file-size, skipped */
	YS_MEMCAP,    /* the arena was full: skipped */
	YS_TIMEOUT,
	YS_TOO_MANY, /* libyara's match limit */
	YS_ERROR,
};

static const char *const ystatus_name[] = {"ok",      "partial",	  "too_large", "memcap",
					   "timeout", "too_many_matches", "error"};

/* ------------------------------------------------------------ configuration */

void nj_yara_config_defaults(struct nj_yara_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->gid = 1;
	cfg->sid_base = 9100000;
	cfg->max_file_size = 8u << 20;
	cfg->memcap = 32u << 20;
	cfg->scan_timeout = 1;
	cfg->max_matches = 32;
	cfg->alerts = true;
	cfg->alert_flow = true;
	cfg->alert_metadata = true;
}

static int rules_add(struct nj_yara_config *cfg, const struct nj_conf_node *n)
{
	if (!n->value || !n->value[0])
		return 0;
	if (cfg->nrules >= NJ_YARA_MAX_PATHS) {
		NJ_ERR("%s:%d: yara.rules: at most %d paths", n->file, n->line, NJ_YARA_MAX_PATHS);
		return -1;
	}
	cfg->rules[cfg->nrules++] = n->value;
	return 0;
}

int nj_yara_config_load(struct nj_yara_config *cfg, const struct nj_conf *conf)
{
	const struct nj_conf_node *r;
	const char *over = NULL;
	int64_t gid = 1, sid = 9100000, tmo = 1, mm = 32;
	struct alert_opts ao;

	nj_yara_config_defaults(cfg);
	if (!conf)
		return 0;
	if (nj_conf_bool(conf, NULL, "yara.enabled", &cfg->enabled) < 0 ||
	    nj_conf_int(conf, NULL, "yara.gid", 1, UINT32_MAX, &gid) < 0 ||
	    nj_conf_int(conf, NULL, "yara.sid-base", 1, UINT32_MAX, &sid) < 0 ||
	    nj_conf_size(conf, NULL, "yara.max-file-size", &cfg->max_file_size) < 0 ||
	    nj_conf_size(conf, NULL, "yara.memcap", &cfg->memcap) < 0 ||
	    nj_conf_str(conf, NULL, "yara.oversize", &over) < 0 ||
	    nj_conf_int(conf, NULL, "yara.scan-timeout", 0, 86400, &tmo) < 0 ||
	    nj_conf_int(conf, NULL, "yara.max-matches", 1, 4096, &mm) < 0 ||
	    nj_conf_bool(conf, NULL, "yara.alerts", &cfg->alerts) < 0)
		return -1;
	cfg->gid = (uint32_t)gid;
	cfg->sid_base = (uint32_t)sid;
	cfg->scan_timeout = (uint32_t)tmo;
	cfg->max_matches = (uint32_t)mm;
	if (over && strcasecmp(over, "head") == 0) {
		cfg->oversize_head = true;
	} else if (over && strcasecmp(over, "skip") != 0) {
		r = nj_conf_get(conf, "yara.oversize");
		NJ_ERR("%s:%d: yara.oversize: '%s' is not skip or head", r->file, r->line, over);
		return -1;
	}
	if (cfg->max_file_size == 0 || cfg->max_file_size > (1ull << 31)) {
		r = nj_conf_get(conf, "yara.max-file-size");
		NJ_ERR("%s:%d: yara.max-file-size: 1 byte .. 2gb", r ? r->file : "-",
		       r ? r->line : 0);
		return -1;
	}
	if (cfg->memcap < YCHUNK || cfg->memcap / YCHUNK >= UINT32_MAX) {
		r = nj_conf_get(conf, "yara.memcap");
		NJ_ERR("%s:%d: yara.memcap: at least %u bytes", r ? r->file : "-", r ? r->line : 0,
		       YCHUNK);
		return -1;
	}
	r = nj_conf_get(conf, "yara.rules");
	if (r && r->kind == NJ_CONF_SEQ) {
		for (const struct nj_conf_node *it = r->child; it; it = it->next)
			if (it->kind == NJ_CONF_SCALAR && rules_add(cfg, it) < 0)
				return -1;
	} else if (r && r->kind == NJ_CONF_SCALAR && rules_add(cfg, r) < 0) {
		return -1;
	}
	if (cfg->enabled && !cfg->nrules) {
		NJ_ERR("yara.enabled: yes needs yara.rules (files or folders)");
		return -1;
	}
	/* the alert options of the eve-log "alert" type apply to YARA alerts too */
	if (nj_alert_opts_load(conf, &ao) < 0)
		return -1;
	cfg->alert_flow = ao.flow;
	cfg->alert_metadata = ao.metadata;
	return 0;
}

/* ------------------------------------------------------------ rule sets */

struct yset {
	YR_RULES *rules;
	atomic_uint refs; /* the publisher's and each worker's */
	uint64_t gen;
};

struct nj_yara {
	struct nj_yara_config cfg;
	char *paths[NJ_YARA_MAX_PATHS]; /* owned copies of cfg.rules */
	pthread_mutex_t lock;		/* publish / acquire (never per file) */
	struct yset *cur;
	atomic_uint_fast64_t gen;
	uint32_t nrules;
};

static void set_put(struct yset *s)
{
	if (s && atomic_fetch_sub(&s->refs, 1) == 1) {
		yr_rules_destroy(s->rules);
		free(s);
	}
}

struct compile_ctx {
	FILE *err;
	unsigned errors, warnings;
};

static void compile_cb(int level, const char *file, int line, const YR_RULE *rule, const char *msg,
		       void *arg)
{
	struct compile_ctx *cc = arg;

	(void)rule;
	if (level == YARA_ERROR_LEVEL_ERROR)
		cc->errors++;
	else
		cc->warnings++;
	if (cc->err)
		fprintf(cc->err, "%s:%d: %s: %s\n", file ? file : "(rules)", line,
			level == YARA_ERROR_LEVEL_ERROR ? "error" : "warning", msg);
}

static bool rule_file_name(const char *name)
{
	size_t n = strlen(name);

	return (n > 4 && strcmp(name + n - 4, ".yar") == 0) ||
	       (n > 5 && strcmp(name + n - 5, ".yara") == 0);
}

/* Adds one file; returns the number of errors (or 1 when it cannot be read). */
static unsigned add_file(YR_COMPILER *c, struct compile_ctx *cc, const char *path)
{
	FILE *fp = fopen(path, "r");
	unsigned before = cc->errors;

	if (!fp) {
		if (cc->err)
			fprintf(cc->err, "%s:0: error: %s\n", path, strerror(errno));
		cc->errors++;
		return 1;
	}
	/* the file name makes includes relative to it and names it in messages */
	yr_compiler_add_file(c, fp, NULL, path);
	fclose(fp);
	return cc->errors - before;
}

/* A folder: its .yar/.yara files in name order, sub-folders too. Stops at the first error. */
static unsigned add_dir(YR_COMPILER *c, struct compile_ctx *cc, const char *dir, unsigned *nfiles,
			int depth)
{
	struct dirent **ents = NULL;
	unsigned errs = 0;
	int n = scandir(dir, &ents, NULL, alphasort);

	if (n < 0) {
		if (cc->err)
			fprintf(cc->err, "%s:0: error: %s\n", dir, strerror(errno));
		cc->errors++;
		return 1;
	}
	for (int i = 0; i < n; i++) {
		char path[4096];
		struct stat sb;

		if (!errs && ents[i]->d_name[0] != '.' &&
		    (size_t)snprintf(path, sizeof(path), "%s/%s", dir, ents[i]->d_name) <
			    sizeof(path) &&
		    stat(path, &sb) == 0) {
			if (S_ISDIR(sb.st_mode) && depth < 16) {
				errs += add_dir(c, cc, path, nfiles, depth + 1);
			} else if (S_ISREG(sb.st_mode) && rule_file_name(ents[i]->d_name)) {
				(*nfiles)++;
				errs += add_file(c, cc, path);
			}
		}
		free(ents[i]);
	}
	free(ents);
	return errs;
}

static struct yset *compile(struct nj_yara *y, FILE *err)
{
	struct compile_ctx cc = {.err = err};
	YR_COMPILER *c = NULL;
	YR_RULES *rules = NULL;
	struct yset *s = NULL;
	unsigned nfiles = 0;

	if (yr_compiler_create(&c) != ERROR_SUCCESS) {
		if (err)
			fprintf(err, "yara: cannot create a compiler\n");
		return NULL;
	}
	yr_compiler_set_callback(c, compile_cb, &cc);
	/* libyara refuses more input after a failed file: stop at the first one */
	for (unsigned i = 0; i < y->cfg.nrules && !cc.errors; i++) {
		const char *p = y->paths[i];
		struct stat sb;

		if (stat(p, &sb) != 0) {
			if (err)
				fprintf(err, "%s:0: error: %s\n", p, strerror(errno));
			cc.errors++;
		} else if (S_ISDIR(sb.st_mode)) {
			add_dir(c, &cc, p, &nfiles, 0);
		} else {
			nfiles++;
			add_file(c, &cc, p);
		}
	}
	if (!cc.errors && !nfiles) {
		if (err)
			fprintf(err, "yara: no rule file (.yar, .yara) found in yara.rules\n");
		cc.errors++;
	}
	if (cc.errors)
		goto out_compiler;
	if (yr_compiler_get_rules(c, &rules) != ERROR_SUCCESS) {
		if (err)
			fprintf(err, "yara: cannot build the rule set (out of memory?)\n");
		goto out_compiler;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		yr_rules_destroy(rules);
		goto out_compiler;
	}
	s->rules = rules;
	atomic_init(&s->refs, 1);
out_compiler:
	yr_compiler_destroy(c);
	return s;
}

static void yara_free(struct nj_yara *y)
{
	for (unsigned i = 0; i < NJ_YARA_MAX_PATHS; i++)
		free(y->paths[i]);
	pthread_mutex_destroy(&y->lock);
	free(y);
}

struct nj_yara *nj_yara_create(const struct nj_yara_config *cfg, FILE *err)
{
	struct nj_yara *y;

	if (!cfg || !cfg->nrules) {
		if (err)
			fprintf(err, "yara: no rules configured\n");
		return NULL;
	}
	if (yr_initialize() != ERROR_SUCCESS) {
		if (err)
			fprintf(err, "yara: libyara initialisation failed\n");
		return NULL;
	}
	/* matched bytes are never logged: keep libyara's per-match copy small */
	yr_set_configuration_uint32(YR_CONFIG_MAX_MATCH_DATA, 16);
	y = calloc(1, sizeof(*y));
	if (!y)
		goto out_fini;
	pthread_mutex_init(&y->lock, NULL);
	y->cfg = *cfg;
	for (unsigned i = 0; i < cfg->nrules; i++) {
		y->paths[i] = strdup(cfg->rules[i]);
		if (!y->paths[i])
			goto out_free;
		y->cfg.rules[i] = y->paths[i];
	}
	y->cur = compile(y, err);
	if (!y->cur)
		goto out_free;
	y->cur->gen = 1;
	atomic_init(&y->gen, 1);
	y->nrules = y->cur->rules->num_rules;
	if ((uint64_t)cfg->sid_base + y->nrules > UINT32_MAX) {
		if (err)
			fprintf(err, "yara.sid-base: %u + %u rules does not fit in 32 bits\n",
				cfg->sid_base, y->nrules);
		set_put(y->cur);
		goto out_free;
	}
	return y;
out_free:
	yara_free(y);
out_fini:
	yr_finalize();
	return NULL;
}

void nj_yara_destroy(struct nj_yara *y)
{
	if (!y)
		return;
	set_put(y->cur);
	yara_free(y);
	yr_finalize();
}

int nj_yara_reload(struct nj_yara *y, FILE *err)
{
	struct yset *s, *old;

	if (!y)
		return -EINVAL;
	/* compiled outside the lock: workers keep scanning with the current set */
	s = compile(y, err);
	if (!s)
		return -EINVAL;
	if ((uint64_t)y->cfg.sid_base + s->rules->num_rules > UINT32_MAX) {
		set_put(s);
		return -EINVAL;
	}
	pthread_mutex_lock(&y->lock);
	old = y->cur;
	s->gen = old->gen + 1;
	y->cur = s;
	y->nrules = s->rules->num_rules;
	atomic_store(&y->gen, s->gen);
	pthread_mutex_unlock(&y->lock);
	set_put(old);
	return 0;
}

uint32_t nj_yara_rule_count(const struct nj_yara *y)
{
	return y ? y->nrules : 0;
}

uint64_t nj_yara_generation(const struct nj_yara *y)
{
	return y ? atomic_load(&((struct nj_yara *)y)->gen) : 0;
}

static struct yset *set_get(struct nj_yara *y)
{
	struct yset *s;

	pthread_mutex_lock(&y->lock);
	s = y->cur;
	atomic_fetch_add(&s->refs, 1);
	pthread_mutex_unlock(&y->lock);
	return s;
}

/* ------------------------------------------------------------ per core */

struct yfile {
	uint32_t head, tail; /* chunk list (w->next links it) */
	uint32_t nchunks;
	uint8_t status; /* enum ystatus */
	bool used;
	uint64_t len; /* bytes held, from offset 0 */
};

struct nj_yara_worker {
	struct nj_yara *y;
	struct yset *set;
	YR_SCANNER *scanner;
	uint64_t gen;
	struct nj_eve_worker *eve;
	struct nj_yara_config cfg;
	uint32_t max_open;
	struct yfile *files;
	uint8_t *arena; /* nchunks * YCHUNK bytes */
	uint32_t *next; /* chunk links */
	uint32_t nchunks, free_head, nfree;
	uint8_t *scan_buf; /* max_file_size bytes: files of several chunks are copied here */
	/* the file being closed: scan -> log -> done happen in one nj_file_close */
	uint32_t cur_slot;
	bool cur_scanned;
	uint8_t cur_status;
	uint32_t nm;
	const YR_RULE **m;
	struct nj_yara_stats st;
};

static int scan_cb(YR_SCAN_CONTEXT *sc, int msg, void *data, void *arg)
{
	struct nj_yara_worker *w = arg;

	(void)sc;
	if (msg != CALLBACK_MSG_RULE_MATCHING)
		return CALLBACK_CONTINUE;
	w->st.matches++;
	if (w->nm < w->cfg.max_matches)
		w->m[w->nm++] = data;
	else
		w->st.matches_dropped++;
	return CALLBACK_CONTINUE;
}

static int scanner_make(struct nj_yara_worker *w, struct yset *s)
{
	YR_SCANNER *sc;

	if (yr_scanner_create(s->rules, &sc) != ERROR_SUCCESS)
		return -ENOMEM;
	yr_scanner_set_callback(sc, scan_cb, w);
	if (w->cfg.scan_timeout)
		yr_scanner_set_timeout(sc, (int)w->cfg.scan_timeout);
	w->scanner = sc;
	w->set = s;
	w->gen = s->gen;
	return 0;
}

struct nj_yara_worker *nj_yara_worker_create(struct nj_yara *y, struct nj_eve_worker *eve,
					     uint32_t max_open)
{
	struct nj_yara_worker *w;
	struct yset *s;

	if (!y || !max_open)
		return NULL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->y = y;
	w->eve = eve;
	w->cfg = y->cfg;
	w->max_open = max_open;
	w->nchunks = (uint32_t)(w->cfg.memcap / YCHUNK);
	w->files = calloc(max_open, sizeof(*w->files));
	/* large and mostly untouched: calloc maps them lazily */
	w->arena = calloc(w->nchunks, YCHUNK);
	w->next = calloc(w->nchunks, sizeof(*w->next));
	w->scan_buf = calloc(1, w->cfg.max_file_size);
	w->m = calloc(w->cfg.max_matches, sizeof(*w->m));
	if (!w->files || !w->arena || !w->next || !w->scan_buf || !w->m)
		goto out_free;
	for (uint32_t i = 0; i < w->nchunks; i++)
		w->next[i] = i + 1 < w->nchunks ? i + 1 : YNONE;
	w->free_head = 0;
	w->nfree = w->nchunks;
	for (uint32_t i = 0; i < max_open; i++)
		w->files[i].head = w->files[i].tail = YNONE;
	w->cur_slot = YNONE;
	s = set_get(y);
	if (scanner_make(w, s) < 0) {
		set_put(s);
		goto out_free;
	}
	return w;
out_free:
	nj_yara_worker_destroy(w);
	return NULL;
}

void nj_yara_worker_destroy(struct nj_yara_worker *w)
{
	if (!w)
		return;
	if (w->scanner)
		yr_scanner_destroy(w->scanner);
	set_put(w->set);
	free(w->files);
	free(w->arena);
	free(w->next);
	free(w->scan_buf);
	free(w->m);
	free(w);
}

void nj_yara_worker_sync(struct nj_yara_worker *w)
{
	struct yset *s, *old;
	YR_SCANNER *osc;

	if (!w || likely(atomic_load_explicit(&w->y->gen, memory_order_acquire) == w->gen))
		return;
	/* a reload happened: rare, so a lock and an allocation are fine here */
	s = set_get(w->y);
	old = w->set;
	osc = w->scanner;
	if (scanner_make(w, s) < 0) {
		/* keep scanning with the old set; try again at the next burst */
		w->scanner = osc;
		w->set = old;
		set_put(s);
		return;
	}
	yr_scanner_destroy(osc);
	set_put(old);
	w->st.reloads++;
}

const struct nj_yara_stats *nj_yara_worker_stats(const struct nj_yara_worker *w)
{
	return &w->st;
}

void nj_yara_stats_foreach(const struct nj_yara_stats *st,
			   void (*fn)(void *arg, const char *name, uint64_t v), void *arg)
{
	fn(arg, "yara.scanned", st->scanned);
	fn(arg, "yara.matched_files", st->matched_files);
	fn(arg, "yara.matches", st->matches);
	fn(arg, "yara.alerts", st->alerts);
	fn(arg, "yara.bytes", st->bytes);
	fn(arg, "yara.scan_us", st->scan_us);
	fn(arg, "yara.timeouts", st->timeouts);
	fn(arg, "yara.too_large", st->too_large);
	fn(arg, "yara.memcap", st->memcap);
	fn(arg, "yara.too_many_matches", st->too_many_matches);
	fn(arg, "yara.errors", st->errors);
	fn(arg, "yara.matches_dropped", st->matches_dropped);
	fn(arg, "yara.reloads", st->reloads);
	fn(arg, "yara.memuse", st->mem_used);
}

/* ------------------------------------------------------------ file data */

static void chunks_free(struct nj_yara_worker *w, struct yfile *yf)
{
	if (yf->head != YNONE) {
		w->next[yf->tail] = w->free_head;
		w->free_head = yf->head;
		w->nfree += yf->nchunks;
		w->st.mem_used -= (uint64_t)yf->nchunks * YCHUNK;
	}
	yf->head = yf->tail = YNONE;
	yf->nchunks = 0;
}

/* Appends n bytes (d NULL: zeros, a gap); false when the arena is full. */
static bool put(struct nj_yara_worker *w, struct yfile *yf, const uint8_t *d, uint64_t n)
{
	while (n) {
		uint32_t used = (uint32_t)(yf->len % YCHUNK), k;
		uint8_t *dst;

		if (used == 0 && yf->len == (uint64_t)yf->nchunks * YCHUNK) {
			uint32_t c = w->free_head;

			if (c == YNONE)
				return false;
			w->free_head = w->next[c];
			w->nfree--;
			w->next[c] = YNONE;
			if (yf->tail == YNONE)
				yf->head = c;
			else
				w->next[yf->tail] = c;
			yf->tail = c;
			yf->nchunks++;
			w->st.mem_used += YCHUNK;
		}
		k = YCHUNK - used;
		if (k > n)
			k = (uint32_t)n;
		dst = w->arena + (size_t)yf->tail * YCHUNK + used;
		if (d) {
			memcpy(dst, d, k);
			d += k;
		} else {
			memset(dst, 0, k);
		}
		yf->len += k;
		n -= k;
	}
	return true;
}

static void y_data(void *ctx, uint32_t slot, uint64_t off, const uint8_t *d, uint32_t n)
{
	struct nj_yara_worker *w = ctx;
	struct yfile *yf;
	uint64_t max = w->cfg.max_file_size, end = off + n;

	if (unlikely(slot >= w->max_open))
		return;
	yf = &w->files[slot];
	if (!yf->used) {
		yf->used = true;
		yf->status = YS_OK;
		yf->len = 0;
	}
	if (yf->status != YS_OK || end <= yf->len)
		return;
	if (off > yf->len) {
		/* a gap: zeros keep the offsets and filesize of the file */
		uint64_t z = (off < max ? off : max) - yf->len;

		if (!put(w, yf, NULL, z))
			goto out_memcap;
	} else if (off < yf->len) {
		d += yf->len - off;
		n -= (uint32_t)(yf->len - off);
		off = yf->len;
	}
	if (end > max) {
		w->st.too_large++;
		if (!w->cfg.oversize_head) {
			yf->status = YS_TOO_LARGE;
			chunks_free(w, yf);
			return;
		}
		yf->status = YS_PARTIAL;
		if (off >= max)
			return;
		n = (uint32_t)(max - off);
	}
	if (!put(w, yf, d, n))
		goto out_memcap;
	return;
out_memcap:
	w->st.memcap++;
	yf->status = YS_MEMCAP;
	chunks_free(w, yf);
}

static uint64_t now_us(void)
{
	struct timespec ts;

	/* vDSO: no system call */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void y_scan(void *ctx, uint32_t slot, const struct nj_file_view *v)
{
	struct nj_yara_worker *w = ctx;
	struct yfile *yf;
	const uint8_t *buf;
	uint64_t t0;
	int rc;

	w->cur_slot = slot;
	w->cur_scanned = false;
	w->nm = 0;
	if (unlikely(slot >= w->max_open))
		return;
	yf = &w->files[slot];
	if (!yf->used) {
		/* no byte arrived (an empty file, or only a trailing gap) */
		yf->used = true;
		yf->status = YS_OK;
		yf->len = 0;
	}
	/* a trailing gap (the file's size is larger than what was delivered) */
	if (yf->status == YS_OK && v->size > yf->len) {
		uint64_t want = v->size;

		if (want > w->cfg.max_file_size) {
			w->st.too_large++;
			if (w->cfg.oversize_head) {
				yf->status = YS_PARTIAL;
				want = w->cfg.max_file_size;
			} else {
				yf->status = YS_TOO_LARGE;
				chunks_free(w, yf);
			}
		}
		if (yf->status != YS_TOO_LARGE && want > yf->len &&
		    !put(w, yf, NULL, want - yf->len)) {
			w->st.memcap++;
			yf->status = YS_MEMCAP;
			chunks_free(w, yf);
		}
	}
	w->cur_status = yf->status;
	if (yf->status != YS_OK && yf->status != YS_PARTIAL)
		return;
	if (yf->nchunks <= 1) {
		buf = yf->nchunks ? w->arena + (size_t)yf->head * YCHUNK : w->scan_buf;
	} else {
		uint64_t left = yf->len;
		uint8_t *o = w->scan_buf;

		/* libyara scans one contiguous block: strings may span chunks */
		for (uint32_t c = yf->head; c != YNONE && left; c = w->next[c]) {
			uint32_t k = left < YCHUNK ? (uint32_t)left : YCHUNK;

			memcpy(o, w->arena + (size_t)c * YCHUNK, k);
			o += k;
			left -= k;
		}
		buf = w->scan_buf;
	}
	t0 = now_us();
	rc = yr_scanner_scan_mem(w->scanner, buf, yf->len);
	w->st.scan_us += now_us() - t0;
	w->st.scanned++;
	w->st.bytes += yf->len;
	w->cur_scanned = true;
	switch (rc) {
	case ERROR_SUCCESS: break;
	case ERROR_SCAN_TIMEOUT:
		w->st.timeouts++;
		w->cur_status = YS_TIMEOUT;
		break;
	case ERROR_TOO_MANY_MATCHES:
		w->st.too_many_matches++;
		w->cur_status = YS_TOO_MANY;
		break;
	default:
		w->st.errors++;
		w->cur_status = YS_ERROR;
		break;
	}
	if (w->nm)
		w->st.matched_files++;
}

/* Meta values: a key given once is a value, a key repeated is an array. */
static void meta_value(struct nj_json *j, const char *key, const YR_META *m, bool as_text)
{
	char num[24];

	if (m->type == META_TYPE_STRING) {
		nj_json_str(j, key, m->string ? m->string : "");
	} else if (m->type == META_TYPE_BOOLEAN) {
		if (as_text)
			nj_json_str(j, key, m->integer ? "true" : "false");
		else
			nj_json_bool(j, key, m->integer != 0);
	} else if (as_text) {
		snprintf(num, sizeof(num), "%lld", (long long)m->integer);
		nj_json_str(j, key, num);
	} else {
		nj_json_i64(j, key, m->integer);
	}
}

/*
 * as_text (alert "metadata", Suricata's layout): every key an array of
 * strings; else native types, arrays only for repeated keys.
 */
static void meta_write(struct nj_json *j, const char *key, const YR_RULE *r, bool as_text)
{
	const YR_META *metas[YMAX_META];
	const YR_META *m;
	unsigned n = 0;

	yr_rule_metas_foreach(r, m)
	{
		if (n < YMAX_META)
			metas[n++] = m;
	}
	nj_json_open_obj(j, key);
	for (unsigned i = 0; i < n; i++) {
		unsigned same = 0;
		bool seen = false;

		for (unsigned k = 0; k < i && !seen; k++)
			seen = strcmp(metas[k]->identifier, metas[i]->identifier) == 0;
		if (seen)
			continue;
		for (unsigned k = i; k < n; k++)
			same += strcmp(metas[k]->identifier, metas[i]->identifier) == 0;
		if (same == 1 && !as_text) {
			meta_value(j, metas[i]->identifier, metas[i], false);
			continue;
		}
		nj_json_open_arr(j, metas[i]->identifier);
		for (unsigned k = i; k < n; k++)
			if (strcmp(metas[k]->identifier, metas[i]->identifier) == 0)
				meta_value(j, NULL, metas[k], as_text);
		nj_json_close_arr(j);
	}
	nj_json_close_obj(j);
}

static void y_log(void *ctx, uint32_t slot, struct nj_json *j)
{
	struct nj_yara_worker *w = ctx;

	if (slot != w->cur_slot)
		return;
	if (w->cur_scanned) {
		nj_json_open_arr(j, "yara");
		for (uint32_t i = 0; i < w->nm; i++) {
			const YR_RULE *r = w->m[i];
			const char *tag;

			nj_json_open_obj(j, NULL);
			nj_json_str(j, "rule", r->identifier);
			nj_json_str(j, "namespace", r->ns ? r->ns->name : "default");
			nj_json_open_arr(j, "tags");
			yr_rule_tags_foreach(r, tag)
			{
				nj_json_str(j, NULL, tag);
			}
			nj_json_close_arr(j);
			meta_write(j, "meta", r, false);
			nj_json_close_obj(j);
		}
		nj_json_close_arr(j);
	}
	if (w->cur_status != YS_OK)
		nj_json_str(j, "yara_status", ystatus_name[w->cur_status]);
}

struct alert_arg {
	struct nj_yara_worker *w;
	const struct nj_file_view *v;
	const YR_RULE *r;
};

static void alert_meta(struct nj_json *j, const void *arg)
{
	const struct alert_arg *a = arg;

	if (a->w->cfg.alert_metadata && a->r->metas)
		meta_write(j, "metadata", a->r, true);
}

static void alert_file(struct nj_json *j, const void *arg)
{
	static const char hexd[] = "0123456789abcdef";
	const struct alert_arg *a = arg;
	const struct nj_file_view *v = a->v;
	char hx[65];

	nj_json_open_obj(j, "fileinfo");
	nj_json_strn(j, "filename", v->name, v->name_len);
	if (v->sha256) {
		for (unsigned i = 0; i < 32; i++) {
			hx[2 * i] = hexd[v->sha256[i] >> 4];
			hx[2 * i + 1] = hexd[v->sha256[i] & 15];
		}
		hx[64] = '\0';
		nj_json_str(j, "sha256", hx);
	}
	nj_json_str(j, "state",
		    v->state == NJ_FILE_CLOSED	    ? "CLOSED"
		    : v->state == NJ_FILE_TRUNCATED ? "TRUNCATED"
						    : "ERROR");
	nj_json_bool(j, "gaps", v->gaps);
	nj_json_u64(j, "size", v->size);
	nj_json_u64(j, "tx_id", v->tx_id);
	nj_json_close_obj(j);
}

static const char *meta_str(const YR_RULE *r, const char *key)
{
	const YR_META *m;

	yr_rule_metas_foreach(r, m)
	{
		if (m->type == META_TYPE_STRING && strcmp(m->identifier, key) == 0)
			return m->string;
	}
	return NULL;
}

static uint32_t meta_severity(const YR_RULE *r)
{
	const YR_META *m;

	yr_rule_metas_foreach(r, m)
	{
		if (m->type == META_TYPE_INTEGER && strcmp(m->identifier, "severity") == 0 &&
		    m->integer >= 1 && m->integer <= 255)
			return (uint32_t)m->integer;
	}
	return 2;
}

static void y_done(void *ctx, uint32_t slot, const struct nj_file_view *v)
{
	struct nj_yara_worker *w = ctx;
	char sig[300];

	if (slot != w->cur_slot || !w->cfg.alerts || !w->eve || !w->nm)
		goto out;
	for (uint32_t i = 0; i < w->nm; i++) {
		const YR_RULE *r = w->m[i];
		struct alert_arg a = {.w = w, .v = v, .r = r};
		const char *cat = meta_str(r, "category");
		struct nj_alert_ext x = {
			.gid = w->cfg.gid,
			/* index in compiled order: the same rule set gives the same ids */
			.sid = w->cfg.sid_base + (uint32_t)(r - w->set->rules->rules_table),
			.rev = 1,
			.severity = meta_severity(r),
			.signature = sig,
			.category = cat ? cat : "YARA match",
			.flow = w->cfg.alert_flow,
			.tx_id_set = true,
			.tx_id = v->tx_id,
			.alert_fn = alert_meta,
			.pre_flow_fn = v->meta_fn,
			.post_flow_fn = alert_file,
			.arg = &a,
			.pre_flow_arg = v->meta_arg,
		};

		snprintf(sig, sizeof(sig), "YARA %s", r->identifier);
		nj_alert_write_ext(w->eve, &x, v->flow, v->dir, v->ts_us, v->pcap_cnt);
		w->st.alerts++;
	}
out:
	w->cur_slot = YNONE;
	w->nm = 0;
}

static void y_release(void *ctx, uint32_t slot)
{
	struct nj_yara_worker *w = ctx;
	struct yfile *yf;

	if (unlikely(slot >= w->max_open))
		return;
	yf = &w->files[slot];
	chunks_free(w, yf);
	yf->used = false;
	yf->len = 0;
	yf->status = YS_OK;
}

const struct nj_file_scanner_ops nj_yara_file_ops = {
	.data = y_data,
	.scan = y_scan,
	.log = y_log,
	.done = y_done,
	.release = y_release,
};
