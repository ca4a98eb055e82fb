/* SPDX-License-Identifier: MIT */
#include <stdio.h>

#include "nj_common.h"

int nj_log_level = NJ_LOG_WARN;

void nj_log(int level, const char *fmt, ...)
{
	static const char *const names[] = {"error", "warning", "info", "debug"};
	va_list ap;

	if (level > nj_log_level)
		return;
	fprintf(stderr, "nightjar: %s: ", names[level & 3]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
