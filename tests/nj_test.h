/* SPDX-License-Identifier: MIT */
/*
 * The check macro shared by the unit tests: a failed check prints file:line
 * and the expression, counts, and the test goes on (main returns non-zero
 * when failures > 0).
 */
#ifndef NJ_TEST_H
#define NJ_TEST_H

#include <stdio.h>

static int failures;

#define CHECK(c)                                                                     \
	do {                                                                         \
		if (!(c)) {                                                          \
			fprintf(stderr, "%s:%d: FAIL %s\n", __FILE__, __LINE__, #c); \
			failures++;                                                  \
		}                                                                    \
	} while (0)

#endif
