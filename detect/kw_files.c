/* SPDX-License-Identifier: MIT */
/*
 * File keywords evaluated on a transaction's file through the parser's
 * tx_file op: filesize (size of the closed file) and filemd5 (its MD5 in a
 * list file of hex digests, one per line; "!list" negates). A rule using
 * filemd5 turns MD5 on for every file (nj_files_require_md5).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect_int.h"
#include "parsers/applayer.h"
#include "parsers/files.h"

static bool filesize_match(const struct nj_app_parser *p, const struct nj_al_tx *tx, int dir,
			   const void *ctx)
{
	struct nj_al_fileinfo fi;

	if (!p || !p->tx_file || !p->tx_file(tx, dir, &fi))
		return false;
	return nj_detect_u64_match(ctx, fi.size);
}

static int kw_filesize(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *v)
{
	struct nj_detect_u64 *u = nj_detect_alloc(ps->r, sizeof(*u));
	char err[160];

	(void)kw;
	if (!u)
		return nj_detect_fail(ps, "out of memory");
	if (nj_detect_u64_parse(nj_detect_trim(v), INT64_MAX, u, err, sizeof(err)) < 0)
		return nj_detect_fail(ps, "%s", err);
	return nj_detect_add_txm(ps, filesize_match, u, NULL);
}
NJ_DETECT_KEYWORD(filesize, .name = "filesize", .flags = NJ_KWF_VALUE, .parse = kw_filesize,
		  .doc = "size of the file: N, <N, >N, N-M, !N")

struct md5_list {
	uint32_t n;
	bool negated;
	uint8_t (*h)[16]; /* sorted */
};

static int md5cmp(const void *a, const void *b)
{
	return memcmp(a, b, 16);
}

static bool filemd5_match(const struct nj_app_parser *p, const struct nj_al_tx *tx, int dir,
			  const void *ctx)
{
	const struct md5_list *l = ctx;
	struct nj_al_fileinfo fi;
	bool found;

	if (!p || !p->tx_file || !p->tx_file(tx, dir, &fi) || !fi.has_md5)
		return false;
	found = bsearch(fi.md5, l->h, l->n, 16, md5cmp) != NULL;
	return found != l->negated;
}

static int hexval(int c)
{
	return isdigit(c) ? c - '0' : tolower(c) - 'a' + 10;
}

/* The list file: as given, or next to the rule file for a relative name. */
static FILE *list_open(struct nj_detect_parse *ps, const char *name)
{
	const char *rf = ps->s->file;
	const char *slash = rf ? strrchr(rf, '/') : NULL;
	char path[4096];

	if (name[0] != '/' && slash) {
		snprintf(path, sizeof(path), "%.*s/%s", (int)(slash - rf), rf, name);
		FILE *f = fopen(path, "r");

		if (f)
			return f;
	}
	return fopen(name, "r");
}

static int kw_filemd5(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *v)
{
	struct md5_list *l = nj_detect_alloc(ps->r, sizeof(*l));
	char line[256];
	uint32_t cap = 0;
	FILE *f;

	(void)kw;
	if (!l)
		return nj_detect_fail(ps, "out of memory");
	v = nj_detect_trim(v);
	if (*v == '!') {
		l->negated = true;
		v = nj_detect_trim(v + 1);
	}
	f = list_open(ps, v);
	if (!f)
		return nj_detect_fail(ps, "cannot open MD5 list '%s'", v);
	while (fgets(line, sizeof(line), f)) {
		char *s = nj_detect_trim(line);
		unsigned k;

		for (k = 0; k < 32 && isxdigit((unsigned char)s[k]); k++)
			;
		if (k != 32)
			continue; /* comments, blank lines, other text */
		if (l->n == cap) {
			uint32_t ncap = cap ? 2 * cap : 64;
			uint8_t(*nh)[16] = nj_detect_alloc(ps->r, ncap * 16u);

			if (!nh) {
				fclose(f);
				return nj_detect_fail(ps, "out of memory");
			}
			if (l->n)
				memcpy(nh, l->h, l->n * 16u);
			l->h = nh;
			cap = ncap;
		}
		for (k = 0; k < 16; k++)
			l->h[l->n][k] = (uint8_t)(hexval(s[2 * k]) << 4 | hexval(s[2 * k + 1]));
		l->n++;
	}
	fclose(f);
	if (l->n)
		qsort(l->h, l->n, 16, md5cmp);
	nj_files_require_md5();
	return nj_detect_add_txm(ps, filemd5_match, l, NULL);
}
NJ_DETECT_KEYWORD(filemd5, .name = "filemd5", .flags = NJ_KWF_VALUE, .parse = kw_filemd5,
		  .doc = "[!]file of MD5 digests: the file's MD5 is (not) listed")

bool nj_detect_rules_use(const struct nj_detect_rules *r, const char *kw)
{
	for (uint32_t i = 0; r && i < r->nsigs; i++)
		for (unsigned k = 0; k < r->sigs[i]->ndeferred; k++)
			if (strcmp(r->sigs[i]->deferred[k].kw, kw) == 0)
				return true;
	return false;
}
