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
#include <sched.h>
#include <stdalign.h>
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

NJ_CONF_KEY(ythreads, "yara.threads", NJ_CT_INT, "1",
	    "Scanner threads that take closed files off the workers (0: scan on the worker, "
	    "in the packet path).")
NJ_CONF_KEY(yqsize, "yara.queue-size", NJ_CT_INT, "256",
	    "Closed files waiting per worker for a scanner thread (each slot holds 8 KiB of "
	    "pre-written event text; the file's bytes stay in the worker's memcap).")
NJ_CONF_KEY(yqfull, "yara.queue-full", NJ_CT_STR, "auto",
	    "A worker's queue is full: wait (results stay exact), skip (the file is not scanned, "
	    "yara_status queue_full, counted) or auto (wait reading a pcap, skip live).")

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
	YS_QUEUE_FULL, /* no scanner slot free (yara.queue-full: skip) */
};

static const char *const ystatus_name[] = {"ok",     "partial",	  "too_large",
					   "memcap", "timeout",	  "too_many_matches",
					   "error",  "queue_full"};

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
	cfg->threads = 0; /* the library default: scan in place; nightjar's config says 1 */
	cfg->queue_size = 256;
	cfg->queue_full = NJ_YARA_QFULL_AUTO;
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
	const char *qfull = NULL;
	int64_t gid = 1, sid = 9100000, tmo = 1, mm = 32, thr = 1, qs = 256;
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
	    nj_conf_bool(conf, NULL, "yara.alerts", &cfg->alerts) < 0 ||
	    nj_conf_int(conf, NULL, "yara.threads", 0, NJ_YARA_MAX_THREADS, &thr) < 0 ||
	    nj_conf_int(conf, NULL, "yara.queue-size", 1, 65536, &qs) < 0 ||
	    nj_conf_str(conf, NULL, "yara.queue-full", &qfull) < 0)
		return -1;
	cfg->threads = (uint32_t)thr;
	cfg->queue_size = (uint32_t)qs;
	if (qfull && strcasecmp(qfull, "wait") == 0) {
		cfg->queue_full = NJ_YARA_QFULL_WAIT;
	} else if (qfull && strcasecmp(qfull, "skip") == 0) {
		cfg->queue_full = NJ_YARA_QFULL_SKIP;
	} else if (qfull && strcasecmp(qfull, "auto") != 0) {
		r = nj_conf_get(conf, "yara.queue-full");
		NJ_ERR("%s:%d: yara.queue-full: '%s' is not wait, skip or auto", r->file, r->line,
		       qfull);
		return -1;
	}
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

struct nj_yara_worker;
struct ythread;

struct nj_yara {
	struct nj_yara_config cfg;
	/* scanner threads (yara.threads): worker i's queue is served by thread i % nthreads */
	struct ythread *threads;
	unsigned nthreads, nalloc;
	bool wait_full; /* queue-full resolved: wait or skip */
	atomic_bool stop;
	atomic_uint nreg;
	struct nj_yara_worker *_Atomic reg[NJ_YARA_MAX_WORKERS];
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

static void threads_free(struct nj_yara *y);

void nj_yara_destroy(struct nj_yara *y)
{
	if (!y)
		return;
	threads_free(y);
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

/*
 * One scanner: a YR_SCANNER on the current rule set, its match list and a
 * scan buffer. A worker has one (yara.threads 0, and the fall-back for a
 * file whose event text does not fit a queue slot); so has each scanner
 * thread.
 */
struct yscan {
	struct nj_yara *y;
	struct yset *set;
	YR_SCANNER *scanner;
	uint64_t gen;
	struct nj_eve_worker *eve;
	struct nj_yara_stats *st; /* charged: the stats of the worker whose file is scanned */
	uint32_t max_matches, nm;
	const YR_RULE **m;
	uint8_t *scan_buf; /* max_file_size bytes: files of several chunks are copied here */
	char *out;	   /* YOUT bytes: the yara list / an alert object being written */
};

#define YJOB_TEXT 8192u	       /* event text of a queued file: fileinfo + alert template */
#define YSTAGE	  (256u << 10) /* a captured event: larger ones are dropped (counted) */
#define YOUT	  (256u << 10)

/*
 * A closed file handed to a scanner thread. The worker has written its
 * fileinfo event (captured, not sent: text[0, fi_len), the yara keys go in at
 * fi_at) and one alert with the file's flow context as a template
 * (text[fi_len, fi_len + al_len); its "alert" object spans [al_s, al_e)); the
 * scanner writes both out with the scan's results. The chunks stay the
 * worker's: it frees them once the job is done.
 */
struct yjob {
	uint32_t head, tail, nchunks;
	uint8_t status; /* YS_OK or YS_PARTIAL */
	uint64_t len;
	uint32_t fi_len, fi_at, al_len, al_s, al_e;
	char *text;
};

/* Single producer (the worker), single consumer (one scanner thread). */
struct yqueue {
	struct yjob *jobs;
	char *text;
	uint32_t mask;
	uint32_t reclaimed; /* worker: jobs whose chunks are freed */
	alignas(64) atomic_uint prod;
	alignas(64) atomic_uint cons;
};

struct nj_yara_worker {
	struct nj_yara *y;
	struct yscan sc;
	struct nj_yara_config cfg;
	uint32_t max_open;
	struct yfile *files;
	uint8_t *arena; /* nchunks * YCHUNK bytes */
	uint32_t *next; /* chunk links */
	uint32_t nchunks, free_head, nfree;
	/* the file being closed: scan -> log -> done happen in one nj_file_close */
	uint32_t cur_slot;
	bool cur_scanned, cur_defer;
	uint8_t cur_status;
	/* queueing to a scanner thread (NULL jobs: scans stay on this core) */
	struct yqueue q;
	bool wait_full;
	char *stage; /* 2 * YSTAGE: the captured fileinfo event, then the alert template */
	uint32_t fi_len, fi_at, al_len, al_end;
	struct nj_yara_stats st;
};

struct ythread {
	struct nj_yara *y;
	unsigned id;
	pthread_t tid;
	bool running;
	struct yscan sc;
};

static int scan_cb(YR_SCAN_CONTEXT *ctx, int msg, void *data, void *arg)
{
	struct yscan *sc = arg;

	(void)ctx;
	if (msg != CALLBACK_MSG_RULE_MATCHING)
		return CALLBACK_CONTINUE;
	sc->st->matches++;
	if (sc->nm < sc->max_matches)
		sc->m[sc->nm++] = data;
	else
		sc->st->matches_dropped++;
	return CALLBACK_CONTINUE;
}

static int scanner_make(struct yscan *sc, struct yset *s)
{
	YR_SCANNER *ys;

	if (yr_scanner_create(s->rules, &ys) != ERROR_SUCCESS)
		return -ENOMEM;
	yr_scanner_set_callback(ys, scan_cb, sc);
	if (sc->y->cfg.scan_timeout)
		yr_scanner_set_timeout(ys, (int)sc->y->cfg.scan_timeout);
	sc->scanner = ys;
	sc->set = s;
	sc->gen = s->gen;
	return 0;
}

static void yscan_fini(struct yscan *sc)
{
	if (sc->scanner)
		yr_scanner_destroy(sc->scanner);
	sc->scanner = NULL;
	set_put(sc->set);
	sc->set = NULL;
	free(sc->m);
	free(sc->scan_buf);
	free(sc->out);
	sc->m = NULL;
	sc->scan_buf = NULL;
	sc->out = NULL;
}

static int yscan_init(struct yscan *sc, struct nj_yara *y, struct nj_eve_worker *eve,
		      struct nj_yara_stats *st)
{
	struct yset *s;

	memset(sc, 0, sizeof(*sc));
	sc->y = y;
	sc->eve = eve;
	sc->st = st;
	sc->max_matches = y->cfg.max_matches;
	sc->m = calloc(y->cfg.max_matches, sizeof(*sc->m));
	/* large and mostly untouched: calloc maps them lazily */
	sc->scan_buf = calloc(1, y->cfg.max_file_size);
	sc->out = malloc(YOUT);
	if (!sc->m || !sc->scan_buf || !sc->out)
		goto out_free;
	s = set_get(y);
	if (scanner_make(sc, s) < 0) {
		set_put(s);
		goto out_free;
	}
	return 0;
out_free:
	yscan_fini(sc);
	return -ENOMEM;
}

/* Adopts a reloaded rule set; true when it did. */
static bool yscan_sync(struct yscan *sc)
{
	struct yset *s, *old;
	YR_SCANNER *osc;

	if (likely(atomic_load_explicit(&sc->y->gen, memory_order_acquire) == sc->gen))
		return false;
	/* a reload happened: rare, so a lock and an allocation are fine here */
	s = set_get(sc->y);
	old = sc->set;
	osc = sc->scanner;
	if (scanner_make(sc, s) < 0) {
		/* keep scanning with the old set; try again later */
		sc->scanner = osc;
		sc->set = old;
		set_put(s);
		return false;
	}
	yr_scanner_destroy(osc);
	set_put(old);
	return true;
}

static void queue_fini(struct yqueue *q)
{
	free(q->jobs);
	free(q->text);
	q->jobs = NULL;
	q->text = NULL;
}

static int queue_init(struct yqueue *q, uint32_t size)
{
	uint32_t n = 1;

	while (n < size)
		n <<= 1;
	q->jobs = calloc(n, sizeof(*q->jobs));
	q->text = malloc((size_t)n * YJOB_TEXT);
	if (!q->jobs || !q->text) {
		queue_fini(q);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < n; i++)
		q->jobs[i].text = q->text + (size_t)i * YJOB_TEXT;
	q->mask = n - 1;
	q->reclaimed = 0;
	atomic_init(&q->prod, 0);
	atomic_init(&q->cons, 0);
	return 0;
}

struct nj_yara_worker *nj_yara_worker_create(struct nj_yara *y, struct nj_eve_worker *eve,
					     uint32_t max_open)
{
	struct nj_yara_worker *w;

	if (!y || !max_open)
		return NULL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->y = y;
	w->cfg = y->cfg;
	w->max_open = max_open;
	w->nchunks = (uint32_t)(w->cfg.memcap / YCHUNK);
	w->files = calloc(max_open, sizeof(*w->files));
	/* large and mostly untouched: calloc maps them lazily */
	w->arena = calloc(w->nchunks, YCHUNK);
	w->next = calloc(w->nchunks, sizeof(*w->next));
	if (!w->files || !w->arena || !w->next)
		goto out_free;
	for (uint32_t i = 0; i < w->nchunks; i++)
		w->next[i] = i + 1 < w->nchunks ? i + 1 : YNONE;
	w->free_head = 0;
	w->nfree = w->nchunks;
	for (uint32_t i = 0; i < max_open; i++)
		w->files[i].head = w->files[i].tail = YNONE;
	w->cur_slot = YNONE;
	if (yscan_init(&w->sc, y, eve, &w->st) < 0)
		goto out_free;
	/* scanner threads running: this worker's closed files go to one of them */
	if (y->nthreads && eve) {
		unsigned id;

		w->stage = malloc(2 * (size_t)YSTAGE);
		if (!w->stage || queue_init(&w->q, w->cfg.queue_size) < 0)
			goto out_free;
		w->wait_full = y->wait_full;
		id = atomic_fetch_add(&y->nreg, 1);
		if (id >= NJ_YARA_MAX_WORKERS)
			goto out_free;
		/* a thread skips a slot still NULL: it sees the worker at its next pass */
		atomic_store_explicit(&y->reg[id], w, memory_order_release);
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
	if (w->q.jobs) {
		/* normally a no-op (stopped after the workers); on a failed start the threads
		 * must not look at this worker any more */
		nj_yara_threads_stop(w->y);
		for (unsigned i = 0; i < NJ_YARA_MAX_WORKERS; i++)
			if (atomic_load(&w->y->reg[i]) == w)
				atomic_store(&w->y->reg[i], NULL);
	}
	yscan_fini(&w->sc);
	queue_fini(&w->q);
	free(w->stage);
	free(w->files);
	free(w->arena);
	free(w->next);
	free(w);
}

static void chunk_list_free(struct nj_yara_worker *w, uint32_t head, uint32_t tail, uint32_t n)
{
	if (head == YNONE)
		return;
	w->next[tail] = w->free_head;
	w->free_head = head;
	w->nfree += n;
	w->st.mem_used -= (uint64_t)n * YCHUNK;
}

/* Frees the chunks of the files the scanner thread is done with. */
static void queue_reclaim(struct nj_yara_worker *w)
{
	struct yqueue *q = &w->q;
	uint32_t done = atomic_load_explicit(&q->cons, memory_order_acquire);

	while (q->reclaimed != done) {
		struct yjob *jb = &q->jobs[q->reclaimed & q->mask];

		chunk_list_free(w, jb->head, jb->tail, jb->nchunks);
		q->reclaimed++;
	}
}

static bool queue_inflight(const struct nj_yara_worker *w)
{
	return atomic_load_explicit(&w->q.prod, memory_order_relaxed) != w->q.reclaimed;
}

/* Waiting (yara.queue-full: wait) for the scanner: yields the CPU, rare by design. */
static void queue_wait(struct nj_yara_worker *w)
{
	w->st.queue_waits++;
	sched_yield();
	queue_reclaim(w);
}

void nj_yara_worker_sync(struct nj_yara_worker *w)
{
	if (!w)
		return;
	if (w->q.jobs)
		queue_reclaim(w);
	if (yscan_sync(&w->sc))
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
	fn(arg, "yara.queued", st->queued);
	fn(arg, "yara.queue_full", st->queue_full);
	fn(arg, "yara.queue_waits", st->queue_waits);
	fn(arg, "yara.inline", st->inline_scans);
}

/* ------------------------------------------------------------ file data */

static void chunks_free(struct nj_yara_worker *w, struct yfile *yf)
{
	chunk_list_free(w, yf->head, yf->tail, yf->nchunks);
	yf->head = yf->tail = YNONE;
	yf->nchunks = 0;
}

/* A free chunk; with queued files and yara.queue-full wait, waits for one to come back. */
static uint32_t chunk_get(struct nj_yara_worker *w)
{
	if (w->free_head == YNONE && w->q.jobs) {
		queue_reclaim(w);
		while (w->free_head == YNONE && w->wait_full && queue_inflight(w))
			queue_wait(w);
	}
	return w->free_head;
}

/* Appends n bytes (d NULL: zeros, a gap); false when the arena is full. */
static bool put(struct nj_yara_worker *w, struct yfile *yf, const uint8_t *d, uint64_t n)
{
	while (n) {
		uint32_t used = (uint32_t)(yf->len % YCHUNK), k;
		uint8_t *dst;

		if (used == 0 && yf->len == (uint64_t)yf->nchunks * YCHUNK) {
			uint32_t c = chunk_get(w);

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

/*
 * Scans the file held in chunks head.. (len bytes) of arena; returns the
 * status to log (status unless the scan ended badly). Matches in sc->m.
 */
static uint8_t scan_chunks(struct yscan *sc, const uint8_t *arena, const uint32_t *next,
			   uint32_t head, uint32_t nchunks, uint64_t len, uint8_t status)
{
	struct nj_yara_stats *st = sc->st;
	const uint8_t *buf;
	uint64_t t0;
	int rc;

	sc->nm = 0;
	if (nchunks <= 1) {
		buf = nchunks ? arena + (size_t)head * YCHUNK : sc->scan_buf;
	} else {
		uint64_t left = len;
		uint8_t *o = sc->scan_buf;

		/* libyara scans one contiguous block: strings may span chunks */
		for (uint32_t c = head; c != YNONE && left; c = next[c]) {
			uint32_t k = left < YCHUNK ? (uint32_t)left : YCHUNK;

			memcpy(o, arena + (size_t)c * YCHUNK, k);
			o += k;
			left -= k;
		}
		buf = sc->scan_buf;
	}
	t0 = now_us();
	rc = yr_scanner_scan_mem(sc->scanner, buf, len);
	st->scan_us += now_us() - t0;
	st->scanned++;
	st->bytes += len;
	switch (rc) {
	case ERROR_SUCCESS: break;
	case ERROR_SCAN_TIMEOUT:
		st->timeouts++;
		status = YS_TIMEOUT;
		break;
	case ERROR_TOO_MANY_MATCHES:
		st->too_many_matches++;
		status = YS_TOO_MANY;
		break;
	default:
		st->errors++;
		status = YS_ERROR;
		break;
	}
	if (sc->nm)
		st->matched_files++;
	return status;
}

/* Free queue slot for the file being closed; false: full (skip mode). */
static bool queue_slot(struct nj_yara_worker *w)
{
	struct yqueue *q = &w->q;
	uint32_t prod = atomic_load_explicit(&q->prod, memory_order_relaxed);

	if (prod - q->reclaimed <= q->mask)
		return true;
	queue_reclaim(w);
	if (prod - q->reclaimed <= q->mask)
		return true;
	if (!w->wait_full)
		return false;
	while (prod - q->reclaimed > q->mask)
		queue_wait(w);
	return true;
}

static void y_scan(void *ctx, uint32_t slot, const struct nj_file_view *v)
{
	struct nj_yara_worker *w = ctx;
	struct yfile *yf;

	w->cur_slot = slot;
	w->cur_scanned = false;
	w->cur_defer = false;
	w->sc.nm = 0;
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
	if (w->q.jobs) {
		if (!queue_slot(w)) {
			w->st.queue_full++;
			w->cur_status = YS_QUEUE_FULL;
			return;
		}
		/* the fileinfo event is captured, finished by the scanner thread (y_done) */
		w->cur_defer = true;
		w->fi_at = UINT32_MAX;
		nj_eve_capture(w->sc.eve, w->stage, YSTAGE, &w->fi_len);
		return;
	}
	w->cur_status =
		scan_chunks(&w->sc, w->arena, w->next, yf->head, yf->nchunks, yf->len, yf->status);
	w->cur_scanned = true;
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

/* The fileinfo keys: "yara" (when scanned) and "yara_status" (when not a plain success). */
static void yara_keys(struct nj_json *j, const struct yscan *sc, bool scanned, uint8_t status)
{
	if (scanned) {
		nj_json_open_arr(j, "yara");
		for (uint32_t i = 0; i < sc->nm; i++) {
			const YR_RULE *r = sc->m[i];
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
	if (status != YS_OK)
		nj_json_str(j, "yara_status", ystatus_name[status]);
}

static void y_log(void *ctx, uint32_t slot, struct nj_json *j)
{
	struct nj_yara_worker *w = ctx;

	if (slot != w->cur_slot)
		return;
	if (w->cur_defer) {
		/* the place of the yara keys in the captured event (the object has keys before) */
		w->fi_at = (uint32_t)j->len;
		return;
	}
	yara_keys(j, &w->sc, w->cur_scanned, w->cur_status);
}

struct alert_arg {
	const struct nj_yara_config *cfg;
	const struct nj_file_view *v;
	const YR_RULE *r;
	uint32_t *end; /* template: where the alert object closes */
};

static void alert_meta(struct nj_json *j, const void *arg)
{
	const struct alert_arg *a = arg;

	if (a->end) {
		*a->end = (uint32_t)j->len;
		return;
	}
	if (a->cfg->alert_metadata && a->r->metas)
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

static void alert_fill(struct nj_alert_ext *x, const struct yscan *sc, const YR_RULE *r, char *sig,
		       size_t siglen)
{
	const char *cat = meta_str(r, "category");

	x->gid = sc->y->cfg.gid;
	/* index in compiled order: the same rule set gives the same ids */
	x->sid = sc->y->cfg.sid_base + (uint32_t)(r - sc->set->rules->rules_table);
	x->rev = 1;
	x->severity = meta_severity(r);
	snprintf(sig, siglen, "YARA %s", r->identifier);
	x->signature = sig;
	x->category = cat ? cat : "YARA match";
}

/* An alert with the file's flow context; a's rule (or template end) says which. */
static struct nj_alert_ext alert_ext(const struct nj_yara_worker *w, const struct nj_file_view *v,
				     const struct alert_arg *a)
{
	return (struct nj_alert_ext){
		.flow = w->cfg.alert_flow,
		.tx_id_set = true,
		.tx_id = v->tx_id,
		.alert_fn = alert_meta,
		.pre_flow_fn = v->meta_fn,
		.post_flow_fn = alert_file,
		.arg = a,
		.pre_flow_arg = v->meta_arg,
	};
}

/* The alerts of the file just scanned, written with its flow context (on the worker). */
static void alerts_write(struct nj_yara_worker *w, const struct nj_file_view *v)
{
	char sig[300];

	for (uint32_t i = 0; i < w->sc.nm; i++) {
		const YR_RULE *r = w->sc.m[i];
		struct alert_arg a = {.cfg = &w->cfg, .v = v, .r = r};
		struct nj_alert_ext x = alert_ext(w, v, &a);

		alert_fill(&x, &w->sc, r, sig, sizeof(sig));
		nj_alert_write_ext(w->sc.eve, &x, v->flow, v->dir, v->ts_us, v->pcap_cnt);
		w->st.alerts++;
	}
}

/* Offset of the alert object's key in an alert template, or UINT32_MAX. */
static uint32_t alert_key_at(const char *t, uint32_t n)
{
	static const char key[] = "\"alert\":{\"action\"";
	const char *p = memmem(t, n, key, sizeof(key) - 1);

	/* a string value cannot hold this unescaped: the first one is the key */
	return p ? (uint32_t)(p - t) : UINT32_MAX;
}

/*
 * Writes a scanned file's events from its texts: the fileinfo event with the
 * yara keys put in, then one alert per match from the template, its "alert"
 * object replaced.
 */
static void job_write(struct yscan *sc, const struct yjob *jb, const char *text, bool scanned,
		      uint8_t status)
{
	struct nj_eve_piece pc[3];
	struct nj_json j;
	char sig[300];

	if (jb->fi_len) {
		nj_json_init(&j, sc->out, YOUT);
		nj_json_open_obj(&j, NULL);
		yara_keys(&j, sc, scanned, status);
		if (!nj_json_ok(&j)) {
			sc->st->errors++;
		} else {
			/* "{" + keys: the keys follow others in the captured object */
			sc->out[0] = ',';
			pc[0] = (struct nj_eve_piece){text, jb->fi_at};
			pc[1] = (struct nj_eve_piece){sc->out, j.len > 1 ? j.len : 0};
			pc[2] = (struct nj_eve_piece){text + jb->fi_at, jb->fi_len - jb->fi_at};
			nj_eve_write_raw(sc->eve, NJ_EVE_FILEINFO, pc, 3);
		}
	}
	if (!jb->al_len)
		return;
	for (uint32_t i = 0; i < sc->nm; i++) {
		const YR_RULE *r = sc->m[i];
		struct nj_alert_ext x = {0};
		const char *al = text + jb->fi_len;

		alert_fill(&x, sc, r, sig, sizeof(sig));
		/* the same keys, in the same order, as nj_alert_write_ext */
		nj_json_init(&j, sc->out, YOUT);
		nj_json_open_obj(&j, NULL);
		nj_json_open_obj(&j, "alert");
		nj_json_str(&j, "action", "allowed");
		nj_json_u64(&j, "gid", x.gid);
		nj_json_u64(&j, "signature_id", x.sid);
		nj_json_u64(&j, "rev", x.rev);
		nj_json_str(&j, "signature", x.signature);
		nj_json_str(&j, "category", x.category);
		nj_json_u64(&j, "severity", x.severity);
		if (sc->y->cfg.alert_metadata && r->metas)
			meta_write(&j, "metadata", r, true);
		nj_json_close_obj(&j);
		if (!nj_json_ok(&j)) {
			sc->st->errors++;
			continue;
		}
		pc[0] = (struct nj_eve_piece){al, jb->al_s};
		pc[1] = (struct nj_eve_piece){sc->out + 1, j.len - 1};
		pc[2] = (struct nj_eve_piece){al + jb->al_e, jb->al_len - jb->al_e};
		nj_eve_write_raw(sc->eve, NJ_EVE_ALERT, pc, 3);
		sc->st->alerts++;
	}
}

/* The deferred file: its texts captured, now queued (or scanned here if they do not fit). */
static void defer_finish(struct nj_yara_worker *w, const struct nj_file_view *v)
{
	struct yfile *yf = &w->files[w->cur_slot];
	struct yqueue *q = &w->q;
	struct yjob *jb;
	uint32_t prod;

	nj_eve_capture(w->sc.eve, NULL, 0, NULL);
	w->al_len = 0;
	if (w->fi_len == UINT32_MAX || (w->fi_len && w->fi_at >= w->fi_len)) {
		w->st.errors++; /* an event over YSTAGE bytes: not written */
		w->fi_len = 0;
	}
	/* an alert with the file's flow context, its alert object replaced per match later */
	if (w->cfg.alerts && nj_eve_wants(w->sc.eve, NJ_EVE_ALERT)) {
		struct alert_arg a = {.cfg = &w->cfg, .v = v, .end = &w->al_end};
		struct nj_alert_ext x = alert_ext(w, v, &a);

		w->al_end = UINT32_MAX;
		nj_eve_capture(w->sc.eve, w->stage + YSTAGE, YSTAGE, &w->al_len);
		nj_alert_write_ext(w->sc.eve, &x, v->flow, v->dir, v->ts_us, v->pcap_cnt);
		nj_eve_capture(w->sc.eve, NULL, 0, NULL);
		if (w->al_len == UINT32_MAX || w->al_end >= w->al_len) {
			w->st.errors++;
			w->al_len = 0;
		}
	}
	prod = atomic_load_explicit(&q->prod, memory_order_relaxed);
	jb = &q->jobs[prod & q->mask];
	jb->al_s = w->al_len ? alert_key_at(w->stage + YSTAGE, w->al_len) : 0;
	jb->al_e = w->al_end + 1;
	jb->fi_len = w->fi_len;
	jb->fi_at = w->fi_at;
	jb->al_len = w->al_len;
	jb->status = w->cur_status;
	if (jb->al_s == UINT32_MAX) {
		w->st.errors++;
		jb->al_len = 0;
	}
	if ((uint64_t)jb->fi_len + jb->al_len > YJOB_TEXT) {
		/* rare (a long URL, many headers): scanned here, as with yara.threads 0 */
		struct yjob tmp = *jb;
		uint8_t st;

		w->st.inline_scans++;
		memmove(w->stage + jb->fi_len, w->stage + YSTAGE, jb->al_len);
		st = scan_chunks(&w->sc, w->arena, w->next, yf->head, yf->nchunks, yf->len,
				 yf->status);
		job_write(&w->sc, &tmp, w->stage, true, st);
		return;
	}
	memcpy(jb->text, w->stage, jb->fi_len);
	memcpy(jb->text + jb->fi_len, w->stage + YSTAGE, jb->al_len);
	/* the chunks go with the job: the worker frees them when it is done */
	jb->head = yf->head;
	jb->tail = yf->tail;
	jb->nchunks = yf->nchunks;
	jb->len = yf->len;
	yf->head = yf->tail = YNONE;
	yf->nchunks = 0;
	w->st.queued++;
	atomic_store_explicit(&q->prod, prod + 1, memory_order_release);
}

static void y_done(void *ctx, uint32_t slot, const struct nj_file_view *v)
{
	struct nj_yara_worker *w = ctx;

	if (slot != w->cur_slot)
		goto out;
	if (w->cur_defer) {
		w->cur_defer = false;
		defer_finish(w, v);
		goto out;
	}
	if (w->cfg.alerts && w->sc.eve && w->sc.nm)
		alerts_write(w, v);
out:
	w->cur_slot = YNONE;
	w->sc.nm = 0;
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

/* ------------------------------------------------------------ scanner threads */

/* Runs the jobs queued by worker w; true when there was one. */
static bool thread_drain(struct ythread *t, struct nj_yara_worker *w)
{
	struct yqueue *q = &w->q;
	uint32_t cons = atomic_load_explicit(&q->cons, memory_order_relaxed);
	uint32_t prod = atomic_load_explicit(&q->prod, memory_order_acquire);

	if (cons == prod)
		return false;
	t->sc.st = &w->st;
	while (cons != prod) {
		const struct yjob *jb = &q->jobs[cons & q->mask];
		uint8_t st = scan_chunks(&t->sc, w->arena, w->next, jb->head, jb->nchunks, jb->len,
					 jb->status);

		job_write(&t->sc, jb, jb->text, true, st);
		atomic_store_explicit(&q->cons, ++cons, memory_order_release);
	}
	return true;
}

static void *thread_main(void *arg)
{
	struct ythread *t = arg;
	struct nj_yara *y = t->y;
	unsigned idle = 0;

	for (;;) {
		/* read before the pass: a stop seen means every job queued was in this pass */
		bool stopping = atomic_load_explicit(&y->stop, memory_order_acquire);
		unsigned n = atomic_load_explicit(&y->nreg, memory_order_acquire);
		bool any = false;
		struct timespec ts;

		yscan_sync(&t->sc);
		if (n > NJ_YARA_MAX_WORKERS)
			n = NJ_YARA_MAX_WORKERS;
		for (unsigned i = t->id; i < n; i += y->nthreads) {
			struct nj_yara_worker *w =
				atomic_load_explicit(&y->reg[i], memory_order_acquire);

			if (w)
				any |= thread_drain(t, w);
		}
		if (any) {
			idle = 0;
			continue;
		}
		if (stopping)
			break;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		nj_eve_worker_tick(t->sc.eve,
				   (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u);
		/* idle: sleep a little longer each time, up to 1 ms */
		if (idle < 10)
			idle++;
		ts.tv_sec = 0;
		ts.tv_nsec = 100000L * idle;
		nanosleep(&ts, NULL);
	}
	nj_eve_worker_flush(t->sc.eve);
	return NULL;
}

int nj_yara_threads_start(struct nj_yara *y, struct nj_eve_worker *const *eve, unsigned n,
			  bool offline)
{
	if (!y || !n || y->nthreads)
		return y && n ? -EBUSY : 0;
	y->threads = calloc(n, sizeof(*y->threads));
	if (!y->threads)
		return -ENOMEM;
	y->nalloc = n;
	y->wait_full = y->cfg.queue_full == NJ_YARA_QFULL_WAIT ||
		       (y->cfg.queue_full == NJ_YARA_QFULL_AUTO && offline);
	atomic_store(&y->stop, false);
	for (unsigned i = 0; i < n; i++) {
		struct ythread *t = &y->threads[i];

		t->y = y;
		t->id = i;
		if (yscan_init(&t->sc, y, eve[i], NULL) < 0)
			goto out_stop;
		y->nthreads = i + 1; /* thread ids modulo: set before any worker registers */
	}
	for (unsigned i = 0; i < n; i++) {
		if (pthread_create(&y->threads[i].tid, NULL, thread_main, &y->threads[i]) != 0)
			goto out_stop;
		y->threads[i].running = true;
		pthread_setname_np(y->threads[i].tid, "nj-yara");
	}
	return 0;
out_stop:
	nj_yara_threads_stop(y);
	y->nthreads = 0;
	return -ENOMEM;
}

void nj_yara_threads_stop(struct nj_yara *y)
{
	if (!y || !y->threads)
		return;
	atomic_store_explicit(&y->stop, true, memory_order_release);
	for (unsigned i = 0; i < y->nthreads; i++) {
		if (y->threads[i].running)
			pthread_join(y->threads[i].tid, NULL);
		y->threads[i].running = false;
	}
	/* the workers are done: give back the chunks of the files scanned (memuse gauge) */
	for (unsigned i = 0; i < atomic_load(&y->nreg) && i < NJ_YARA_MAX_WORKERS; i++)
		if (y->reg[i])
			queue_reclaim(y->reg[i]);
}

unsigned nj_yara_threads(const struct nj_yara *y)
{
	return y ? y->cfg.threads : 0;
}

static void threads_free(struct nj_yara *y)
{
	nj_yara_threads_stop(y);
	for (unsigned i = 0; i < y->nalloc; i++)
		yscan_fini(&y->threads[i].sc);
	free(y->threads);
	y->threads = NULL;
	y->nalloc = y->nthreads = 0;
}
