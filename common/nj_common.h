/* SPDX-License-Identifier: MIT */
/*
 * Small shared helpers: branch hints, logging, cache-line size.
 * Logging is for start-up, shutdown and rare events only, never per packet.
 */
#ifndef NJ_COMMON_H
#define NJ_COMMON_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifndef likely
#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#endif

#define NJ_CACHE_LINE	 64
#define NJ_ALIGNED	 __attribute__((aligned(NJ_CACHE_LINE)))
#define NJ_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define NJ_UNUSED	 __attribute__((unused))

/* Maximum number of worker cores; per-core arrays are sized by it. */
#define NJ_MAX_WORKERS 64
/* Packets handled together by every stage. */
#define NJ_BURST 32

enum nj_log_level { NJ_LOG_ERR = 0, NJ_LOG_WARN, NJ_LOG_INFO, NJ_LOG_DEBUG };

/* Messages at or below this level are printed (stderr). Default: NJ_LOG_WARN. */
extern int nj_log_level;

void nj_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define NJ_ERR(...)  nj_log(NJ_LOG_ERR, __VA_ARGS__)
#define NJ_WARN(...) nj_log(NJ_LOG_WARN, __VA_ARGS__)
#define NJ_INFO(...) nj_log(NJ_LOG_INFO, __VA_ARGS__)

#endif
