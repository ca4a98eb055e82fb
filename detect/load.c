/* SPDX-License-Identifier: MIT */
/*
 * Loading rule files: the configuration (default-rule-path, rule-files,
 * classification-file, reference-config-file, vars), line handling
 * (comments, backslash continuation), duplicate sids, the load summary
 * counted by reason.
 */
#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "config/config.h"
#include "rules_priv.h"

NJ_CONF_KEY(rulepath, "default-rule-path", NJ_CT_STR, ".",
	    "Directory of the rule-files given without a path.")
NJ_CONF_KEY(rulefiles, "rule-files", NJ_CT_LIST, "none",
	    "Rule files to load (-S replaces them, -s adds one).")
NJ_CONF_KEY(threshfile, "threshold-file", NJ_CT_STR, "",
	    "threshold.config (Suricata's format): threshold / event_filter override rule "
	    "thresholds, suppress drops alerts; rate_filter is validated, not applied. A line "
	    "that does not parse is a warning, an error with -T.")
NJ_CONF_KEY(classfile, "classification-file", NJ_CT_STR, "classification.config beside the rules",
	    "classtype definitions: config classification: name,description,priority.")
NJ_CONF_KEY(reffile, "reference-config-file", NJ_CT_STR, "reference.config beside the rules",
	    "Reference systems: config reference: type url-prefix.")
NJ_CONF_KEY(addrgroups, "vars.address-groups", NJ_CT_MAP, "Suricata's",
	    "Address variables ($HOME_NET ...); missing ones take Suricata's defaults.")
NJ_CONF_KEY(portgroups, "vars.port-groups", NJ_CT_MAP, "Suricata's",
	    "Port variables ($HTTP_PORTS ...); missing ones take Suricata's defaults.")

long nj_detect_guess_sid(const char *text);

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0;

	if (!f)
		return NULL;
	for (;;) {
		if (n + 65536 + 1 > cap) {
			size_t ncap = cap ? cap * 2 : 262144;
			char *nb = realloc(buf, ncap);

			if (!nb) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
			cap = ncap;
		}
		size_t r = fread(buf + n, 1, cap - n - 1, f);

		n += r;
		if (r == 0)
			break;
	}
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* ------------------------------------------------------------ etc files */

static int class_add(struct nj_detect_rules *r, const char *name, const char *desc, int prio)
{
	uint16_t idx;
	struct nj_detect_class *c;

	if (nj_detect_class_find(r, name, &idx)) {
		c = &r->classes[idx];
	} else {
		if (r->nclasses == UINT16_MAX)
			return -1;
		c = realloc(r->classes, (r->nclasses + 1u) * sizeof(*c));
		if (!c)
			return -1;
		r->classes = c;
		c = &r->classes[r->nclasses++];
		c->name = nj_detect_strdup(r, name);
	}
	c->desc = nj_detect_strdup(r, desc);
	c->priority = (uint8_t)prio;
	return c->name && c->desc ? 0 : -1;
}

/* Accepts any classtype when no classification file could be read. */
int nj_detect_class_lenient(struct nj_detect_rules *r, const char *name, uint16_t *idx)
{
	if (nj_detect_priv(r)->have_classes)
		return -1;
	if (class_add(r, name, name, 3) < 0)
		return -1;
	*idx = (uint16_t)(r->nclasses - 1);
	return 0;
}

static int load_classes(struct nj_detect_rules *r, const char *path, FILE *err)
{
	size_t len;
	char *buf = read_file(path, &len), *save = NULL;
	int n = 0;

	if (!buf)
		return -errno;
	for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *p = nj_detect_trim(line), *parts[4];
		int64_t prio;

		if (*p == '#' || !*p)
			continue;
		if (strncmp(p, "config classification:", 22) != 0 ||
		    nj_detect_split(p + 22, ',', parts, 4) != 3 ||
		    nj_detect_parse_i64(parts[2], 1, 255, &prio) < 0) {
			if (err)
				fprintf(err, "%s: invalid classification line: %s\n", path, p);
			nj_log_mod(NJ_LOG_ERR, NJ_LOG_TO_FILES, "classification-config",
				   "Invalid Classtype in classification.config file %s: \"%s\"",
				   path, p);
			continue;
		}
		if (class_add(r, parts[0], parts[1], (int)prio) < 0) {
			free(buf);
			return -ENOMEM;
		}
		n++;
	}
	free(buf);
	nj_detect_priv(r)->have_classes = true;
	return n;
}

static int load_refs(struct nj_detect_rules *r, const char *path)
{
	size_t len;
	char *buf = read_file(path, &len), *save = NULL;
	struct nj_detect_priv *pv = nj_detect_priv(r);

	if (!buf)
		return -errno;
	for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *p = nj_detect_trim(line), *sp;

		if (strncmp(p, "config reference:", 17) != 0)
			continue;
		p = nj_detect_trim(p + 17);
		sp = p;
		while (*sp && !isspace((unsigned char)*sp))
			sp++;
		if (!*sp)
			continue;
		*sp++ = '\0';
		char *k = nj_detect_strdup(r, p), *v = nj_detect_strdup(r, nj_detect_trim(sp));

		for (char *q = k; q && *q; q++)
			*q = (char)tolower((unsigned char)*q);
		if (!k || !v || nj_strmap_put(&pv->refsys, k, v) < 0) {
			free(buf);
			return -ENOMEM;
		}
	}
	free(buf);
	return 0;
}

static bool file_exists(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* A config path, else a file of that name beside the first rule file. */
static const char *etc_path(const struct nj_conf *conf, const char *key, const char *name,
			    const char *first_rule, char *buf, size_t len)
{
	const char *v = NULL;

	if (conf && nj_conf_str(conf, NULL, key, &v) == 0 && v)
		return v;
	if (first_rule) {
		char tmp[4096];

		snprintf(tmp, sizeof(tmp), "%s", first_rule);
		snprintf(buf, len, "%s/%s", dirname(tmp), name);
		if (file_exists(buf))
			return buf;
	}
	snprintf(buf, len, "/etc/suricata/%s", name);
	return file_exists(buf) ? buf : NULL;
}

static struct nj_detect_rules *rules_new(const struct nj_conf *conf, const char *first_rule,
					 FILE *err)
{
	struct nj_detect_rules *r = nj_detect_rules_alloc();
	char msg[512], pbuf[4096];
	const char *path;

	if (!r)
		return NULL;
	((struct nj_detect_priv *)r->priv)->conf = conf;
	if (nj_detect_vars_load(r, conf, msg, sizeof(msg)) < 0) {
		if (err)
			fprintf(err, "%s\n", msg);
		nj_detect_rules_free(r);
		return NULL;
	}
	path = etc_path(conf, "classification-file", "classification.config", first_rule, pbuf,
			sizeof(pbuf));
	if (path && load_classes(r, path, err) < 0 && err)
		fprintf(err,
			"%s: cannot read classification file: %s (classtypes are not "
			"checked)\n",
			path, strerror(errno));
	path = etc_path(conf, "reference-config-file", "reference.config", first_rule, pbuf,
			sizeof(pbuf));
	if (path && load_refs(r, path) < 0 && err)
		fprintf(err, "%s: cannot read reference config: %s\n", path, strerror(errno));
	return r;
}

struct nj_detect_rules *nj_detect_rules_new(const struct nj_conf *conf)
{
	return rules_new(conf, NULL, NULL);
}

/* ------------------------------------------------------------ adding signatures */

static int sig_append(struct nj_detect_rules *r, struct nj_detect_sig *s)
{
	struct nj_detect_priv *pv = nj_detect_priv(r);

	if (r->nsigs == pv->sig_cap) {
		uint32_t ncap = pv->sig_cap ? pv->sig_cap * 2 : 1024;
		struct nj_detect_sig **n = realloc(r->sigs, ncap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		r->sigs = n;
		pv->sig_cap = ncap;
	}
	s->idx = r->nsigs;
	r->sigs[r->nsigs++] = s;
	return nj_detect_sid_put(r, s->gid, s->sid, s->idx);
}

/* Removes sigs[idx] (a duplicate replaced by a later revision). */
static void sig_remove(struct nj_detect_rules *r, uint32_t idx)
{
	memmove(&r->sigs[idx], &r->sigs[idx + 1], (r->nsigs - idx - 1) * sizeof(r->sigs[0]));
	r->nsigs--;
	for (uint32_t i = idx; i < r->nsigs; i++) {
		r->sigs[i]->idx = i;
		nj_detect_sid_put(r, r->sigs[i]->gid, r->sigs[i]->sid, i);
	}
}

/* ------------------------------------------------------------ reasons */

static void count_reason(struct nj_detect_reason_count *arr, uint32_t *n, const char *reason)
{
	for (uint32_t i = 0; i < *n; i++) {
		if (strcmp(arr[i].reason, reason) == 0) {
			arr[i].count++;
			return;
		}
	}
	if (*n == NJ_DETECT_MAX_REASONS - 1 && strcmp(reason, "other") != 0) {
		count_reason(arr, n, "other");
		return;
	}
	if (*n >= NJ_DETECT_MAX_REASONS)
		return;
	snprintf(arr[*n].reason, sizeof(arr[*n].reason), "%s", reason);
	arr[*n].count = 1;
	(*n)++;
}

/* A reason without the rule's own values: cut at quotes, digits as N. */
static void reason_key(const char *err, char *out, size_t len)
{
	size_t o = 0;

	for (const char *p = err; *p && o + 2 < len; p++) {
		bool word_start = p == err || !(isalnum((unsigned char)p[-1]) || p[-1] == '_');

		if (*p == '"' || *p == '|' || (*p == '\'' && word_start) ||
		    (p[0] == ' ' && p[1] == '-' && p[2] == ' '))
			break;
		if (isdigit((unsigned char)*p) && word_start) {
			while (isalnum((unsigned char)p[1]))
				p++;
			out[o++] = 'N';
			continue;
		}
		out[o++] = *p;
	}
	while (o && (out[o - 1] == ' ' || out[o - 1] == ':' || out[o - 1] == ','))
		o--;
	out[o] = '\0';
}

/*
 * The file log outputs get Suricata's sequence for a rule that fails: the
 * keyword's reason under the keyword's module ("detect-content"), then
 * `error parsing signature "..." from file F at line N` under "detect". The
 * console keeps its one "file:line: sid N: reason" line.
 */
static void log_rule_error(int level, const char *err, const char *rule, const char *file,
			   unsigned line, bool parse_error)
{
	const char *colon = strstr(err, ": ");
	const char *msg = err;
	char mod[80] = "detect-parse";

	if (colon && (size_t)(colon - err) < sizeof(mod) - 8 &&
	    memchr(err, ' ', (size_t)(colon - err)) == NULL) {
		snprintf(mod, sizeof(mod), "detect-%.*s", (int)(colon - err), err);
		for (char *c = mod; *c; c++)
			if (*c == '.' || *c == '_')
				*c = '-';
		msg = colon + 2;
	}
	if (!parse_error)
		snprintf(mod, sizeof(mod), "detect-unsupported");
	nj_log_mod(level, NJ_LOG_TO_FILES, mod, "%s", msg);
	if (parse_error)
		nj_log_mod(NJ_LOG_ERR, NJ_LOG_TO_FILES, "detect",
			   "error parsing signature \"%s\" from file %s at line %u", rule, file,
			   line);
}

static void load_text(struct nj_detect_rules *r, const char *file, char *text,
		      const struct nj_detect_load_opts *o, struct nj_detect_load_stats *st)
{
	struct nj_detect_priv *pv = nj_detect_priv(r);
	FILE *eo = o ? o->err_out : NULL;
	char *rule = NULL;
	size_t rcap = 0, rlen = 0;
	uint32_t line = 0, start_line = 0;
	char *p = text;

	pv->cur_file = nj_detect_intern(r, file);
	while (*p) {
		char *nl = strchr(p, '\n'), *l = p;
		size_t n = nl ? (size_t)(nl - p) : strlen(p);

		p = nl ? nl + 1 : p + n;
		line++;
		if (n && l[n - 1] == '\r')
			n--;
		if (rlen == 0) {
			size_t k = 0;

			while (k < n && isspace((unsigned char)l[k]))
				k++;
			if (k == n || l[k] == '#')
				continue;
			start_line = line;
		}
		bool cont = n && l[n - 1] == '\\';

		if (cont)
			n--;
		if (rlen + n + 1 > rcap) {
			size_t ncap = (rlen + n + 1) * 2;
			char *nr = realloc(rule, ncap);

			if (!nr)
				break;
			rule = nr;
			rcap = ncap;
		}
		memcpy(rule + rlen, l, n);
		rlen += n;
		rule[rlen] = '\0';
		if (cont && *p)
			continue;

		/* one complete rule */
		char err[512];
		bool skipped;
		struct nj_detect_sig *s;

		rlen = 0;
		st->rules++;
		pv->cur_line = start_line;
		s = nj_detect_parse_rule(r, rule, err, sizeof(err), &skipped);
		if (s) {
			long dup = nj_detect_sid_find(r, s->gid, s->sid);

			if (dup >= 0) {
				struct nj_detect_sig *old = r->sigs[dup];
				bool replace = s->rev > old->rev;
				const struct nj_detect_sig *lost = replace ? old : s;

				snprintf(err, sizeof(err),
					 "sid: duplicated sid %u (gid %u, rev %u %s)", s->sid,
					 s->gid, lost->rev,
					 replace ? "replaced by a higher rev" : "kept the first");
				if (eo)
					fprintf(eo, "%s:%u: sid %u: %s\n",
						lost->file ? lost->file : file, lost->line,
						lost->sid, err);
				if (!replace) {
					st->failed++;
					count_reason(st->failed_by, &st->nfailed_reasons,
						     "sid: duplicated sid");
					continue;
				}
				/* as Suricata: a higher rev replaces the older rule, no error */
				sig_remove(r, (uint32_t)dup);
				st->loaded--;
			}
			if (sig_append(r, s) < 0) {
				if (eo)
					fprintf(eo, "%s:%u: out of memory\n", file, start_line);
				break;
			}
			st->loaded++;
			continue;
		}
		long sid = nj_detect_guess_sid(rule);
		char key[96];

		reason_key(err, key, sizeof(key));
		if (skipped) {
			st->skipped++;
			count_reason(st->skipped_by, &st->nskipped_reasons, key);
			if (eo && o->verbose)
				fprintf(eo, "%s:%u: sid %ld: skipped: %s\n", file, start_line, sid,
					err);
			log_rule_error(NJ_LOG_WARN, err, rule, file, start_line, false);
		} else {
			st->failed++;
			count_reason(st->failed_by, &st->nfailed_reasons, key);
			log_rule_error(NJ_LOG_ERR, err, rule, file, start_line, true);
			if (eo) {
				if (sid >= 0)
					fprintf(eo, "%s:%u: sid %ld: %s\n", file, start_line, sid,
						err);
				else
					fprintf(eo, "%s:%u: sid ?: %s\n", file, start_line, err);
			}
		}
	}
	free(rule);
}

void nj_detect_rules_finish(struct nj_detect_rules *r)
{
	(void)r;
}

static int cmp_reason(const void *a, const void *b)
{
	const struct nj_detect_reason_count *x = a, *y = b;

	return x->count > y->count ? -1 : x->count < y->count;
}

struct nj_detect_rules *nj_detect_load(const struct nj_conf *conf, const char *const *files,
				       unsigned nfiles, const struct nj_detect_load_opts *opts,
				       struct nj_detect_load_stats *st)
{
	struct nj_detect_load_stats local;
	FILE *eo = opts ? opts->err_out : NULL;
	const char **list = NULL, *dir = NULL;
	char **owned = NULL;
	unsigned n = 0;
	uint64_t t0 = now_ns();
	struct nj_detect_rules *r = NULL;

	if (!st)
		st = &local;
	memset(st, 0, sizeof(*st));
	if (files) {
		list = calloc(nfiles + 1, sizeof(*list));
		if (!list)
			return NULL;
		for (unsigned i = 0; i < nfiles; i++)
			list[n++] = files[i];
	} else if (conf || (opts && opts->nextra)) {
		const struct nj_conf_node *rf = conf ? nj_conf_get(conf, "rule-files") : NULL;
		unsigned cnt = opts ? opts->nextra : 0;

		if (conf)
			nj_conf_str(conf, NULL, "default-rule-path", &dir);
		for (const struct nj_conf_node *c = rf ? rf->child : NULL; c; c = c->next)
			cnt++;
		list = calloc(cnt + 1, sizeof(*list));
		owned = calloc(cnt + 1, sizeof(*owned));
		if (!list || !owned) {
			free(list);
			free(owned);
			return NULL;
		}
		for (const struct nj_conf_node *c = rf ? rf->child : NULL; c; c = c->next) {
			if (!c->value)
				continue;
			if (dir && c->value[0] != '/') {
				size_t l = strlen(dir) + strlen(c->value) + 2;

				owned[n] = malloc(l);
				if (!owned[n])
					break;
				snprintf(owned[n], l, "%s/%s", dir, c->value);
				list[n] = owned[n];
			} else {
				list[n] = c->value;
			}
			n++;
		}
		for (unsigned i = 0; opts && i < opts->nextra; i++)
			list[n++] = opts->extra[i];
	}
	r = rules_new(conf, n ? list[0] : NULL, eo);
	if (!r)
		goto out;
	for (unsigned i = 0; i < n; i++) {
		size_t len;
		char *text = read_file(list[i], &len);

		st->files++;
		if (!text) {
			st->files_missing++;
			if (eo)
				fprintf(eo, "%s: cannot read rule file: %s\n", list[i],
					strerror(errno));
			nj_log_mod(NJ_LOG_WARN, NJ_LOG_TO_FILES, "detect",
				   "No rule files match the pattern %s", list[i]);
			continue;
		}
		load_text(r, list[i], text, opts, st);
		free(text);
	}
	if (conf) {
		const char *tf = NULL;
		char err[512];

		nj_conf_str(conf, NULL, "threshold-file", &tf);
		if (tf && *tf) {
			int rc = nj_detect_threshold_file(r, tf, err, sizeof(err));

			if (rc > 0) {
				nj_log_mod(NJ_LOG_WARN, NJ_LOG_TO_FILES, "detect", "%s", err);
			} else if (rc < 0) {
				/* Suricata: an error only when testing the configuration (-T) */
				st->threshold_error = true;
				nj_log_mod(NJ_LOG_WARN, NJ_LOG_TO_FILES, "detect", "%s", err);
				nj_log_mod(NJ_LOG_WARN, NJ_LOG_TO_FILES, "detect",
					   "Error loading threshold configuration from %s", tf);
			}
		}
	}
	nj_detect_rules_finish(r);
	if (n && st->loaded == 0)
		nj_log_mod(NJ_LOG_WARN, NJ_LOG_TO_FILES, "detect",
			   "%u rule files specified, but no rules were loaded!", n);
	else if (n)
		nj_log_mod(
			NJ_LOG_INFO, NJ_LOG_TO_FILES, "detect",
			"%u rule files processed. %u rules successfully loaded, %u rules failed, "
			"%u rules skipped",
			n, st->loaded, st->failed, st->skipped);
	for (uint32_t i = 0; i < r->nsigs; i++)
		if (r->sigs[i]->flags & NJ_SIG_PREFILTER_ALL)
			st->no_fast_pattern++;
	qsort(st->failed_by, st->nfailed_reasons, sizeof(st->failed_by[0]), cmp_reason);
	qsort(st->skipped_by, st->nskipped_reasons, sizeof(st->skipped_by[0]), cmp_reason);
	st->mem_bytes =
		nj_detect_priv(r)->mem + r->nsigs * sizeof(void *) + r->ninst * sizeof(*r->inst);
out:
	st->load_ns = now_ns() - t0;
	for (unsigned i = 0; owned && i < n; i++)
		free(owned[i]);
	free(owned);
	free(list);
	return r;
}

void nj_detect_print_summary(FILE *out, const struct nj_detect_load_stats *st)
{
	fprintf(out,
		"rules: %u loaded, %u failed, %u skipped (unsupported) of %u in %u file(s) in "
		"%.2f s, %.1f MiB; %u without fast pattern\n",
		st->loaded, st->failed, st->skipped, st->rules, st->files - st->files_missing,
		(double)st->load_ns / 1e9, (double)st->mem_bytes / (1024.0 * 1024.0),
		st->no_fast_pattern);
	for (uint32_t i = 0; i < st->nfailed_reasons; i++)
		fprintf(out, "  failed: %u x %s\n", st->failed_by[i].count,
			st->failed_by[i].reason);
	for (uint32_t i = 0; i < st->nskipped_reasons; i++)
		fprintf(out, "  skipped: %u x %s\n", st->skipped_by[i].count,
			st->skipped_by[i].reason);
}
