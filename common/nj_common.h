/* SPDX-License-Identifier: MIT */
/*
 * Small shared helpers: branch hints, logging, cache-line size.
 * Logging is for start-up, shutdown and rare events only, never per packet.
 */
#ifndef NJ_COMMON_H
#define NJ_COMMON_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifndef likely
#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#endif

#define NJ_CACHE_LINE	 64
#define NJ_ALIGNED	 __attribute__((aligned(NJ_CACHE_LINE)))
#define NJ_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define NJ_UNUSED	 __attribute__((unused))
/* Exchanges two lvalues of the same type (per-direction fields of a flow that turned around). */
#define NJ_SWAP(a, b)                             \
	do {                                      \
		__typeof__(a) nj_swap_tmp_ = (a); \
		(a) = (b);                        \
		(b) = nj_swap_tmp_;               \
	} while (0)

/* Maximum number of worker cores; per-core arrays are sized by it. */
#define NJ_MAX_WORKERS 64
/* Packets handled together by every stage. */
#define NJ_BURST 32

enum nj_log_level { NJ_LOG_ERR = 0, NJ_LOG_WARN, NJ_LOG_INFO, NJ_LOG_DEBUG };

/* Messages at or below this level are printed (stderr). Default: NJ_LOG_WARN. */
extern int nj_log_level;

void nj_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* As nj_log, the module named after the source file ("detect/load.c" -> "load"). */
void nj_log_at(int level, const char *file, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * A message with an explicit module (the `engine.module` of the JSON log
 * output) sent to the console, the file outputs or both: the rule loader
 * prints "file:line: sid N: reason" on the console and gives the file outputs
 * Suricata's module / message split.
 */
#define NJ_LOG_TO_CONSOLE 1u
#define NJ_LOG_TO_FILES	  2u
void nj_log_mod(int level, unsigned where, const char *module, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void nj_logv_mod(int level, unsigned where, const char *module, const char *fmt, va_list ap);

/*
 * File outputs (logging.outputs): f receives every message at or below level,
 * as JSON engine events if json, else as plain lines. At most 4; they are
 * closed by nj_log_sinks_close.
 */
int nj_log_sink_add(FILE *f, bool json, int level);
void nj_log_sinks_close(void);
const char *nj_log_module_of(const char *file, char *buf, size_t len);

#define NJ_ERR(...)  nj_log_at(NJ_LOG_ERR, __FILE__, __VA_ARGS__)
#define NJ_WARN(...) nj_log_at(NJ_LOG_WARN, __FILE__, __VA_ARGS__)
#define NJ_INFO(...) nj_log_at(NJ_LOG_INFO, __FILE__, __VA_ARGS__)

#endif
