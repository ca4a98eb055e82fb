/* SPDX-License-Identifier: MIT */
/*
 * Suricata's IP reputation: reputation-categories-file (id,short name,
 * description), reputation-files under default-reputation-path (ip[/cidr],
 * category id,score) and the iprep keyword
 * (iprep:any|src|dst|both,category,<|>|=,score). The entries live in an
 * indicator set (intel.h) keyed by (prefix, address, category); the most
 * specific CIDR wins. Loaded once at start-up, read-only afterwards.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "dataplane/pkt.h"
#include "detect/detect_int.h"
#include "intel.h"
#include "iprep.h"

NJ_CONF_KEY(rep_cat, "reputation-categories-file", NJ_CT_STR, "",
	    "IP reputation categories: id,short name,description per line (iprep keyword).")
NJ_CONF_KEY(rep_path, "default-reputation-path", NJ_CT_STR, "",
	    "Directory of relative reputation-files.")
NJ_CONF_KEY(rep_files, "reputation-files", NJ_CT_LIST, "[]",
	    "IP reputation files: ip[/cidr],category id,score (0-127) per line.")

#define MAX_CATS 256

static struct nj_intel_set *rep;
static char *cat_names[MAX_CATS];

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		*--e = '\0';
	return s;
}

static int load_categories(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[512];
	unsigned lineno = 0;

	if (!f) {
		NJ_ERR("reputation-categories-file %s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *p = trim(line), *name, *end;
		long id;

		lineno++;
		if (!*p || *p == '#')
			continue;
		id = strtol(p, &end, 10);
		if (*end != ',' || id < 0 || id >= MAX_CATS) {
			NJ_WARN("%s:%u: malformed category line skipped", path, lineno);
			continue;
		}
		name = trim(end + 1);
		*strchrnul(name, ',') = '\0';
		free(cat_names[id]);
		cat_names[id] = strdup(trim(name));
	}
	fclose(f);
	return 0;
}

static int load_reputation(const char *path, uint64_t *bad)
{
	FILE *f = fopen(path, "r");
	char line[512];

	if (!f) {
		NJ_ERR("reputation file %s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *p = trim(line), *c1, *c2, *end;
		long cat, score;
		int r;

		if (!*p || *p == '#')
			continue;
		c1 = strchr(p, ',');
		c2 = c1 ? strchr(c1 + 1, ',') : NULL;
		if (!c2) {
			(*bad)++;
			continue;
		}
		*c1 = *c2 = '\0';
		cat = strtol(c1 + 1, &end, 10);
		score = strtol(c2 + 1, NULL, 10);
		if (cat < 0 || cat >= MAX_CATS || !cat_names[cat] || score < 0 || score > 127) {
			(*bad)++;
			continue;
		}
		r = nj_intel_add_rep(rep, trim(p), (uint8_t)cat, (uint8_t)score);
		if (r == -ENOSPC) {
			fclose(f);
			NJ_ERR("reputation file %s: memcap reached", path);
			return -1;
		}
		if (r < 0)
			(*bad)++;
	}
	fclose(f);
	return 0;
}

int nj_iprep_configure(const struct nj_conf *conf)
{
	const char *cats = NULL, *dir = NULL;
	const struct nj_conf_node *files = nj_conf_get(conf, "reputation-files");
	uint64_t bad = 0;

	if (nj_conf_str(conf, NULL, "reputation-categories-file", &cats) != 0 || !cats)
		return 0;
	nj_iprep_free();
	if (load_categories(cats) < 0)
		return -1;
	rep = nj_intel_set_new(0);
	if (!rep)
		return -1;
	nj_conf_str(conf, NULL, "default-reputation-path", &dir);
	for (const struct nj_conf_node *n = files ? files->child : NULL; n; n = n->next) {
		char path[PATH_MAX];

		if (!n->value)
			continue;
		if (n->value[0] == '/' || !dir)
			snprintf(path, sizeof(path), "%s", n->value);
		else
			snprintf(path, sizeof(path), "%s/%s", dir, n->value);
		if (load_reputation(path, &bad) < 0)
			return -1;
	}
	if (nj_intel_set_finish(rep) < 0)
		return -1;
	if (bad)
		NJ_WARN("reputation: %llu malformed or unknown-category line(s) skipped",
			(unsigned long long)bad);
	return 0;
}

void nj_iprep_free(void)
{
	nj_intel_set_free(rep);
	rep = NULL;
	for (unsigned i = 0; i < MAX_CATS; i++) {
		free(cat_names[i]);
		cat_names[i] = NULL;
	}
}

int nj_iprep_lookup(const uint8_t *addr, unsigned alen, uint8_t cat)
{
	return nj_intel_match_rep(rep, addr, alen, cat);
}

/* ------------------------------------------------------------ keyword */

enum { SIDE_ANY, SIDE_SRC, SIDE_DST, SIDE_BOTH };

struct iprep_kw {
	uint8_t side, cat, op;
	uint8_t value;
};

static bool cmp(const struct iprep_kw *k, int score)
{
	if (score < 0)
		return false;
	switch (k->op) {
	case '<': return score < k->value;
	case '>': return score > k->value;
	default: return score == k->value;
	}
}

static bool iprep_match(const struct nj_pkt *p, const void *ctx)
{
	const struct iprep_kw *k = ctx;
	unsigned alen;
	bool s, d;

	if (!rep || !(p->flags & (NJ_PKT_IPV4 | NJ_PKT_IPV6)))
		return false;
	alen = nj_pkt_addr_len(p);
	switch (k->side) {
	case SIDE_SRC: return cmp(k, nj_intel_match_rep(rep, nj_pkt_src(p), alen, k->cat));
	case SIDE_DST: return cmp(k, nj_intel_match_rep(rep, nj_pkt_dst(p), alen, k->cat));
	default:
		s = cmp(k, nj_intel_match_rep(rep, nj_pkt_src(p), alen, k->cat));
		if (k->side == SIDE_ANY && s)
			return true;
		d = cmp(k, nj_intel_match_rep(rep, nj_pkt_dst(p), alen, k->cat));
		return k->side == SIDE_ANY ? d : s && d;
	}
}

static int kw_iprep(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *v)
{
	char *parts[5];
	unsigned n = nj_detect_split(v, ',', parts, 5);
	struct iprep_kw *k;
	int64_t val;
	int cat = -1;

	(void)kw;
	if (n != 4)
		return nj_detect_fail(ps, "iprep needs side,category,operator,value");
	k = nj_detect_alloc(ps->r, sizeof(*k));
	if (!k)
		return nj_detect_fail(ps, "out of memory");
	if (strcmp(parts[0], "any") == 0)
		k->side = SIDE_ANY;
	else if (strcmp(parts[0], "src") == 0)
		k->side = SIDE_SRC;
	else if (strcmp(parts[0], "dst") == 0)
		k->side = SIDE_DST;
	else if (strcmp(parts[0], "both") == 0)
		k->side = SIDE_BOTH;
	else
		return nj_detect_fail(ps, "iprep side '%s' (any, src, dst, both)", parts[0]);
	for (int i = 0; i < MAX_CATS; i++)
		if (cat_names[i] && strcmp(cat_names[i], parts[1]) == 0)
			cat = i;
	if (cat < 0)
		return nj_detect_fail(ps, "iprep category '%s' not in reputation-categories-file",
				      parts[1]);
	k->cat = (uint8_t)cat;
	if (strcmp(parts[2], "<") && strcmp(parts[2], ">") && strcmp(parts[2], "="))
		return nj_detect_fail(ps, "iprep operator '%s' (<, >, =)", parts[2]);
	k->op = (uint8_t)parts[2][0];
	if (nj_detect_parse_i64(parts[3], 0, 127, &val) < 0)
		return nj_detect_fail(ps, "iprep value '%s' (0-127)", parts[3]);
	k->value = (uint8_t)val;
	return nj_detect_add_pm(ps, iprep_match, k);
}
NJ_DETECT_KEYWORD(iprep, .name = "iprep", .flags = NJ_KWF_VALUE, .parse = kw_iprep,
		  .doc = "any|src|dst|both,category,<|>|=,score: IP reputation of the addresses")
