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

/* Appends s as a JSON string to buf (at *o, cut short at len). */
static void json_str(char *buf, size_t len, size_t *o, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	if (*o + 1 < len)
		buf[(*o)++] = '"';
	for (const unsigned char *p = (const unsigned char *)s; *p && *o + 8 < len; p++) {
		if (*p == '"' || *p == '\\') {
			buf[(*o)++] = '\\';
			buf[(*o)++] = (char)*p;
		} else if (*p < 0x20) {
			memcpy(buf + *o, "\\u00", 4);
			*o += 4;
			buf[(*o)++] = hex[*p >> 4];
			buf[(*o)++] = hex[*p & 15];
		} else {
			buf[(*o)++] = (char)*p;
		}
	}
	if (*o + 1 < len)
		buf[(*o)++] = '"';
	buf[*o < len ? *o : len - 1] = '\0';
}

/*
 * Each line is formatted whole and written with one call, so that lines from
 * several threads do not interleave.
 */
static void to_sinks(int level, const char *module, const char *msg)
{
	static const char *const lvl[] = {"Error", "Warning", "Info", "Debug"};
	struct timeval tv;
	struct tm tm;
	char ts[64], line[10240];
	size_t o;

	if (!nsinks)
		return;
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	for (unsigned i = 0; i < nsinks; i++) {
		if (level > sinks[i].level)
			continue;
		if (sinks[i].json) {
			strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
			o = (size_t)snprintf(
				line, sizeof(line),
				"{\"timestamp\":\"%s.%06ld+0000\",\"log_level\":\"%s\","
				"\"event_type\":\"engine\",\"engine\":{\"message\":",
				ts, (long)tv.tv_usec, lvl[level & 3]);
			json_str(line, sizeof(line) - 32, &o, msg);
			o += (size_t)snprintf(line + o, sizeof(line) - o, ",\"module\":");
			json_str(line, sizeof(line) - 8, &o, module);
			snprintf(line + o, sizeof(line) - o, "}}\n");
		} else {
			strftime(ts, sizeof(ts), "%d/%m/%Y -- %H:%M:%S", &tm);
			snprintf(line, sizeof(line), "[%s] <%s> -- %s: %s\n", ts, lvl[level & 3],
				 module, msg);
		}
		fputs(line, sinks[i].f);
		fflush(sinks[i].f);
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
