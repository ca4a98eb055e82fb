/* SPDX-License-Identifier: MIT */
/*
 * nightjar-baseline: reads baseline files and writes them back normalised
 * (sorted, counts as written by nightjar), alone or merged. Merging takes the
 * union of profiles and entries, sums flow counts, ORs hours and keeps the
 * largest byte figures: baselines learned on several sensors or days become
 * one. Files are checked as nightjar reads them (errors name file:line).
 *
 *   nightjar-baseline show FILE            normalised to stdout
 *   nightjar-baseline merge -o OUT FILE... merged, written atomically to OUT
 *                                          (OUT "-": stdout)
 *   nightjar-baseline stats FILE...        profiles, entries, flows, dropped
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export/baseline/baseline.h"

/* Generous: a tool run, not a per-core table. */
#define MAX_SUBJECTS 200000u
#define MAX_ENTRIES  2000000u
#define MAX_PER	     2000000u

static int usage(FILE *out)
{
	fputs("usage: nightjar-baseline show FILE\n"
	      "       nightjar-baseline merge -o OUT FILE...\n"
	      "       nightjar-baseline stats FILE...\n",
	      out);
	return out == stdout ? 0 : 2;
}

static struct nj_bl_model *load_all(char **files, int n)
{
	struct nj_bl_model *m = nj_bl_model_create(MAX_SUBJECTS, MAX_ENTRIES, MAX_PER);
	char err[512];

	if (!m) {
		fprintf(stderr, "nightjar-baseline: out of memory\n");
		return NULL;
	}
	for (int i = 0; i < n; i++) {
		/* each file into its own model, then merged: the same rule as the workers' */
		struct nj_bl_model *one = nj_bl_model_create(MAX_SUBJECTS, MAX_ENTRIES, MAX_PER);

		if (!one || nj_bl_model_load(one, files[i], err, sizeof(err)) < 0) {
			fprintf(stderr, "nightjar-baseline: %s\n", one ? err : "out of memory");
			nj_bl_model_free(one);
			nj_bl_model_free(m);
			return NULL;
		}
		if (nj_bl_model_merge(m, one) < 0) {
			fprintf(stderr, "nightjar-baseline: %s: too many groups\n", files[i]);
			nj_bl_model_free(one);
			nj_bl_model_free(m);
			return NULL;
		}
		nj_bl_model_free(one);
	}
	return m;
}

int main(int argc, char **argv)
{
	struct nj_bl_model *m;
	const char *out = NULL;
	int ret = 0, first = 2;

	if (argc < 2)
		return usage(stderr);
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))
		return usage(stdout);
	if (!strcmp(argv[1], "merge")) {
		if (argc < 5 || strcmp(argv[2], "-o"))
			return usage(stderr);
		out = argv[3];
		first = 4;
	} else if (strcmp(argv[1], "show") && strcmp(argv[1], "stats")) {
		return usage(stderr);
	}
	if (first >= argc || (!strcmp(argv[1], "show") && argc != 3))
		return usage(stderr);
	m = load_all(argv + first, argc - first);
	if (!m)
		return 1;
	if (!strcmp(argv[1], "stats")) {
		struct nj_bl_model_stats st;

		nj_bl_model_stats(m, &st);
		printf("profiles: %llu\nentries: %llu\nflows: %llu\nhosts-dropped: %llu\n"
		       "entries-dropped: %llu\n",
		       (unsigned long long)st.subjects, (unsigned long long)st.entries,
		       (unsigned long long)st.flows, (unsigned long long)st.hosts_dropped,
		       (unsigned long long)st.entries_dropped);
	} else if (!out || !strcmp(out, "-")) {
		ret = nj_bl_model_write(m, stdout) < 0 || fflush(stdout) != 0;
	} else {
		int r = nj_bl_model_save(m, out);

		if (r < 0) {
			fprintf(stderr, "nightjar-baseline: %s: %s\n", out, strerror(-r));
			ret = 1;
		}
	}
	nj_bl_model_free(m);
	return ret;
}
