/* SPDX-License-Identifier: MIT */
/*
 * The domain and tld transforms: the registrable domain ("www.bbc.co.uk" ->
 * "bbc.co.uk") and the public suffix ("co.uk") of a host name, by the Public
 * Suffix List (the system's copy, /usr/share/publicsuffix, loaded once when a
 * rule first uses one of them; without it such rules are skipped). The list
 * is read-only afterwards; lookups are binary searches, no allocation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect_int.h"

#define PSL_PATH "/usr/share/publicsuffix/public_suffix_list.dat"

static char **psl; /* sorted rules as written: "co.uk", "*.ck", "!www.ck" */
static size_t npsl;
static int psl_state; /* 0 not tried, 1 loaded, -1 unavailable */

static int scmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int nj_detect_psl_load(void)
{
	FILE *f;
	char line[512];
	size_t cap = 0;

	if (psl_state)
		return psl_state > 0 ? 0 : -1;
	psl_state = -1;
	f = fopen(PSL_PATH, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *s = nj_detect_trim(line), *sp;

		if (!*s || (s[0] == '/' && s[1] == '/'))
			continue;
		if ((sp = strpbrk(s, " \t")))
			*sp = '\0';
		for (char *c = s; *c; c++)
			if (*c >= 'A' && *c <= 'Z')
				*c = (char)(*c | 0x20);
		if (npsl == cap) {
			size_t ncap = cap ? 2 * cap : 8192;
			char **n = realloc(psl, ncap * sizeof(*n));

			if (!n)
				goto out_fail;
			psl = n;
			cap = ncap;
		}
		if (!(psl[npsl] = strdup(s)))
			goto out_fail;
		npsl++;
	}
	fclose(f);
	qsort(psl, npsl, sizeof(*psl), scmp);
	psl_state = 1;
	return 0;
out_fail:
	fclose(f);
	return -1;
}

/* Is rule "prefix + s[0..n)" in the list? (prefix "", "*." or "!") */
static bool psl_has(const char *prefix, const uint8_t *s, uint32_t n)
{
	char key[300];
	size_t pl = strlen(prefix);
	char *k = key;

	if (pl + n >= sizeof(key))
		return false;
	memcpy(key, prefix, pl);
	for (uint32_t i = 0; i < n; i++) {
		uint8_t c = s[i];

		key[pl + i] = (char)(c >= 'A' && c <= 'Z' ? c | 0x20 : c);
	}
	key[pl + n] = '\0';
	return bsearch(&k, psl, npsl, sizeof(*psl), scmp) != NULL;
}

/* Offset in h of its public suffix (the last label by the default rule). */
static uint32_t suffix_at(const uint8_t *h, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *dot;

		if (i && h[i - 1] != '.')
			continue;
		/* candidate h[i..n) */
		if (psl_has("!", h + i, n - i)) {
			dot = memchr(h + i, '.', n - i);
			return dot ? (uint32_t)(dot - h) + 1 : n;
		}
		if (psl_has("", h + i, n - i))
			return i;
		dot = memchr(h + i, '.', n - i);
		if (dot && psl_has("*.", dot + 1, n - (uint32_t)(dot - h) - 1))
			return i;
	}
	/* default rule "*": the last label */
	for (uint32_t i = n; i > 0; i--)
		if (h[i - 1] == '.')
			return i;
	return 0;
}

uint32_t nj_detect_tf_domain(const uint8_t *in, uint32_t n, uint8_t *out, bool tld)
{
	uint32_t s, d;

	if (psl_state <= 0 || !n)
		return 0;
	s = suffix_at(in, n);
	if (tld) {
		memcpy(out, in + s, n - s);
		return n - s;
	}
	if (s < 2)
		return 0; /* the name is a public suffix: no registrable domain */
	for (d = s - 1; d > 0 && in[d - 1] != '.'; d--)
		;
	memcpy(out, in + d, n - d);
	return n - d;
}
