/* SPDX-License-Identifier: MIT */
/*
 * Files given on the command line (--http-file, --smb-file). They are small
 * test samples (YARA corpus, malware look-alikes), so each is read whole;
 * a limit keeps a wrong path (a device, a huge file) from eating memory.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg.h"

#define PG_GIVEN_MAX (256u << 20)

int pg_given_load(struct pg_given *g, const char *path)
{
	const char *slash = strrchr(path, '/');
	FILE *fp = fopen(path, "rb");
	size_t cap = 0;
	int ret = -1;

	memset(g, 0, sizeof(*g));
	if (!fp) {
		fprintf(stderr, "pcapgen: %s: %s\n", path, strerror(errno));
		return -1;
	}
	g->name = slash ? slash + 1 : path;
	for (;;) {
		size_t n;

		if (g->len == cap) {
			uint8_t *p;

			cap = cap ? cap * 2 : 65536;
			if (cap > PG_GIVEN_MAX) {
				fprintf(stderr, "pcapgen: %s: larger than %u bytes\n", path,
					PG_GIVEN_MAX);
				goto out_close;
			}
			p = realloc(g->data, cap);
			if (!p)
				goto out_close;
			g->data = p;
		}
		n = fread(g->data + g->len, 1, cap - g->len, fp);
		g->len += n;
		if (n == 0)
			break;
	}
	if (ferror(fp)) {
		fprintf(stderr, "pcapgen: %s: read error\n", path);
		goto out_close;
	}
	ret = 0;
out_close:
	fclose(fp);
	if (ret)
		pg_given_free(g);
	return ret;
}

void pg_given_free(struct pg_given *g)
{
	free(g->data);
	g->data = NULL;
	g->len = 0;
}
