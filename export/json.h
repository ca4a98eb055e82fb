/* SPDX-License-Identifier: MIT */
/*
 * A small, fast JSON writer into a fixed buffer: no allocation. Keys and
 * values are escaped as JSON requires (control bytes as \u00XX, invalid UTF-8
 * bytes as \u00XX of the byte, as Suricata does). Commas are inserted
 * automatically. If the buffer fills, the writer marks itself overflowed and
 * ignores further writes; the caller checks nj_json_ok() before committing.
 */
#ifndef NJ_JSON_H
#define NJ_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NJ_JSON_MAX_DEPTH 32

struct nj_json {
	char *buf;
	size_t len, cap;
	bool overflow;
	uint8_t depth;
	bool need_comma[NJ_JSON_MAX_DEPTH];
};

void nj_json_init(struct nj_json *j, char *buf, size_t cap);
static inline bool nj_json_ok(const struct nj_json *j)
{
	return !j->overflow;
}

void nj_json_open_obj(struct nj_json *j, const char *key); /* key NULL: value position */
void nj_json_close_obj(struct nj_json *j);
void nj_json_open_arr(struct nj_json *j, const char *key);
void nj_json_close_arr(struct nj_json *j);

void nj_json_str(struct nj_json *j, const char *key, const char *s);
void nj_json_strn(struct nj_json *j, const char *key, const void *s, size_t n);
void nj_json_u64(struct nj_json *j, const char *key, uint64_t v);
void nj_json_i64(struct nj_json *j, const char *key, int64_t v);
void nj_json_dbl(struct nj_json *j, const char *key, double v);
void nj_json_bool(struct nj_json *j, const char *key, bool v);
void nj_json_null(struct nj_json *j, const char *key);
/* An IPv4 (len 4) or IPv6 (len 16) address in Suricata's text form. */
void nj_json_ip(struct nj_json *j, const char *key, const uint8_t *addr, unsigned len);
/* Already-formatted JSON value (trusted). */
void nj_json_raw(struct nj_json *j, const char *key, const char *raw, size_t n);

/* Text form of an address as Suricata prints it (IPv6 full, lower-case, no ::). */
void nj_ip_to_str(const uint8_t *addr, unsigned len, char *out, size_t outlen);

#endif
