/* SPDX-License-Identifier: MIT */
/*
 * Start-up / shutdown log: the console (stderr) plus the file outputs of
 * `logging.outputs` (plain text like suricata.log, or JSON lines in the form
 * of EVE `engine` events). Never used per packet.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "nj_common.h"

int nj_log_level = NJ_LOG_WARN;

#define NJ_LOG_MAX_SINKS 4

struct nj_log_sink {
	FILE *f;
	bool json;
	int level;
};

static struct nj_log_sink sinks[NJ_LOG_MAX_SINKS];
static unsigned nsinks;

int nj_log_sink_add(FILE *f, bool json, int level)
{
	if (nsinks >= NJ_LOG_MAX_SINKS)
		return -ENOSPC;
	sinks[nsinks].f = f;
	sinks[nsinks].json = json;
	sinks[nsinks].level = level;
	nsinks++;
	return 0;
}

void nj_log_sinks_close(void)
{
	for (unsigned i = 0; i < nsinks; i++)
		fclose(sinks[i].f);
	nsinks = 0;
}

/* "dir/name.c" -> "name" */
const char *nj_log_module_of(const char *file, char *buf, size_t len)
{
	const char *b = strrchr(file, '/');
	size_t n;

	b = b ? b + 1 : file;
	n = strcspn(b, ".");
	if (n >= len)
		n = len - 1;
	memcpy(buf, b, n);
	buf[n] = '\0';
	return buf;
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", f);
		else if (*p == '\t')
			fputs("\\t", f);
		else if (*p < 0x20)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static void to_sinks(int level, const char *module, const char *msg)
{
	static const char *const lvl[] = {"Error", "Warning", "Info", "Debug"};
	struct timeval tv;
	struct tm tm;
	char ts[64];

	if (!nsinks)
		return;
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	for (unsigned i = 0; i < nsinks; i++) {
		FILE *f = sinks[i].f;

		if (level > sinks[i].level)
			continue;
		if (sinks[i].json) {
			strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
			fprintf(f,
				"{\"timestamp\":\"%s.%06ld+0000\",\"log_level\":\"%s\","
				"\"event_type\":\"engine\",\"engine\":{\"message\":",
				ts, (long)tv.tv_usec, lvl[level & 3]);
			json_str(f, msg);
			fputs(",\"module\":", f);
			json_str(f, module);
			fputs("}}\n", f);
		} else {
			strftime(ts, sizeof(ts), "%d/%m/%Y -- %H:%M:%S", &tm);
			fprintf(f, "[%s] <%s> -- %s: %s\n", ts, lvl[level & 3], module, msg);
		}
		fflush(f);
	}
}

void nj_logv_mod(int level, unsigned where, const char *module, const char *fmt, va_list ap)
{
	static const char *const names[] = {"error", "warning", "info", "debug"};
	char msg[4096];

	if (level > nj_log_level && !nsinks)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if ((where & NJ_LOG_TO_CONSOLE) && level <= nj_log_level)
		fprintf(stderr, "nightjar: %s: %s\n", names[level & 3], msg);
	if (where & NJ_LOG_TO_FILES)
		to_sinks(level, module, msg);
}

void nj_log_mod(int level, unsigned where, const char *module, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	nj_logv_mod(level, where, module, fmt, ap);
	va_end(ap);
}

void nj_log_at(int level, const char *file, const char *fmt, ...)
{
	char mod[64];
	va_list ap;

	va_start(ap, fmt);
	nj_logv_mod(level, NJ_LOG_TO_CONSOLE | NJ_LOG_TO_FILES,
		    nj_log_module_of(file, mod, sizeof(mod)), fmt, ap);
	va_end(ap);
}

void nj_log(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	nj_logv_mod(level, NJ_LOG_TO_CONSOLE | NJ_LOG_TO_FILES, "nightjar", fmt, ap);
	va_end(ap);
}
