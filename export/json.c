/* SPDX-License-Identifier: MIT */
/*
 * JSON writer into a caller's fixed buffer. Escaping follows Suricata's EVE
 * output so that consumers written for Suricata see identical strings: '/'
 * is written as "\/" (Suricata's EVE has always done so, see the
 * suricata-verify expected outputs), control bytes use the short forms where
 * JSON has one and \u00XX otherwise, and bytes that are not part of a valid
 * UTF-8 sequence become \u00XX of the byte so that the line stays valid JSON.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/nj_common.h"
#include "json.h"

/* Byte classes for the string escaper: 0 copy as is, 1 escape, 2 UTF-8 lead/continuation. */
static const uint8_t esc_class[256] = {
	[0x00 ... 0x1f] = 1, ['"'] = 1, ['\\'] = 1, ['/'] = 1, [0x80 ... 0xff] = 2,
};

static const char hex_lc[16] = "0123456789abcdef";

static const char digit_pairs[201] = "00010203040506070809"
				     "10111213141516171819"
				     "20212223242526272829"
				     "30313233343536373839"
				     "40414243444546474849"
				     "50515253545556575859"
				     "60616263646566676869"
				     "70717273747576777879"
				     "80818283848586878889"
				     "90919293949596979899";

void nj_json_init(struct nj_json *j, char *buf, size_t cap)
{
	j->buf = buf;
	j->len = 0;
	j->cap = cap;
	j->overflow = false;
	j->depth = 0;
	j->need_comma[0] = false;
}

static inline bool room(struct nj_json *j, size_t n)
{
	if (unlikely(j->overflow || n > j->cap - j->len)) {
		j->overflow = true;
		return false;
	}
	return true;
}

static inline void put(struct nj_json *j, const void *s, size_t n)
{
	if (room(j, n)) {
		memcpy(j->buf + j->len, s, n);
		j->len += n;
	}
}

static inline void putc1(struct nj_json *j, char c)
{
	if (room(j, 1))
		j->buf[j->len++] = c;
}

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if invalid. */
static size_t utf8_seq(const uint8_t *s, size_t n)
{
	uint8_t c = s[0];
	size_t need;
	uint8_t lo = 0x80, hi = 0xbf;

	if (c >= 0xc2 && c <= 0xdf) {
		need = 1;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 2;
		if (c == 0xe0)
			lo = 0xa0; /* overlong */
		else if (c == 0xed)
			hi = 0x9f; /* surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 3;
		if (c == 0xf0)
			lo = 0x90; /* overlong */
		else if (c == 0xf4)
			hi = 0x8f; /* above U+10FFFF */
	} else {
		return 0;
	}
	if (n < need + 1)
		return 0;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i <= need; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return need + 1;
}

#define ONES 0x0101010101010101ull
#define HIGH 0x8080808080808080ull

/*
 * Non-zero if any of 8 bytes may need escaping: '"', '\\', '/', < 0x20 or
 * >= 0x80. False positives only send the word to the byte loop.
 */
static inline uint64_t word_needs_escape(uint64_t v)
{
	uint64_t q = v ^ (ONES * '"'), b = v ^ (ONES * '\\'), sl = v ^ (ONES * '/');

	return ((q - ONES) & ~q) | ((b - ONES) & ~b) | ((sl - ONES) & ~sl) |
	       ((v - ONES * 0x20) & ~v) | (v & HIGH);
}

static void put_escaped(struct nj_json *j, const uint8_t *s, size_t n)
{
	size_t i = 0;

	putc1(j, '"');
	while (i < n) {
		size_t run = i;

		/* plain text (nearly all of it) goes 8 bytes at a time */
		for (;;) {
			uint64_t v;

			if (run + 8 > n)
				break;
			memcpy(&v, s + run, 8);
			if (word_needs_escape(v) & HIGH)
				break;
			run += 8;
		}
		while (run < n && esc_class[s[run]] == 0)
			run++;
		if (run > i) {
			put(j, s + i, run - i);
			i = run;
			if (i == n)
				break;
		}
		if (esc_class[s[i]] == 2) {
			size_t k = utf8_seq(s + i, n - i);

			if (k) {
				put(j, s + i, k);
				i += k;
				continue;
			}
		}
		{
			char e[6] = {'\\', 0, 0, 0, 0, 0};
			uint8_t c = s[i++];

			switch (c) {
			case '"':
				e[1] = '"';
				put(j, e, 2);
				continue;
			case '\\':
				e[1] = '\\';
				put(j, e, 2);
				continue;
			case '/':
				e[1] = '/';
				put(j, e, 2);
				continue;
			case '\b':
				e[1] = 'b';
				put(j, e, 2);
				continue;
			case '\f':
				e[1] = 'f';
				put(j, e, 2);
				continue;
			case '\n':
				e[1] = 'n';
				put(j, e, 2);
				continue;
			case '\r':
				e[1] = 'r';
				put(j, e, 2);
				continue;
			case '\t':
				e[1] = 't';
				put(j, e, 2);
				continue;
			}
			e[1] = 'u';
			e[2] = '0';
			e[3] = '0';
			e[4] = hex_lc[c >> 4];
			e[5] = hex_lc[c & 15];
			put(j, e, 6);
		}
	}
	putc1(j, '"');
}

/* Comma and "key": for the next member or array element. */
static void put_key(struct nj_json *j, const char *key)
{
	size_t n = 0;
	bool comma = j->need_comma[j->depth];
	uint8_t bad = 0;
	char *p;

	j->need_comma[j->depth] = true;
	if (!key) {
		if (comma)
			putc1(j, ',');
		return;
	}
	/* keys are nearly always plain literals: one pass, one copy */
	for (; key[n]; n++)
		bad |= esc_class[(uint8_t)key[n]];
	if (unlikely(bad)) {
		if (comma)
			putc1(j, ',');
		put_escaped(j, (const uint8_t *)key, n);
		putc1(j, ':');
		return;
	}
	if (!room(j, n + 3 + comma))
		return;
	p = j->buf + j->len;
	if (comma)
		*p++ = ',';
	*p++ = '"';
	memcpy(p, key, n);
	p[n] = '"';
	p[n + 1] = ':';
	j->len += n + 3 + comma;
}

void nj_json_open_obj(struct nj_json *j, const char *key)
{
	put_key(j, key);
	putc1(j, '{');
	if (unlikely(j->depth + 1 >= NJ_JSON_MAX_DEPTH)) {
		j->overflow = true;
		return;
	}
	j->need_comma[++j->depth] = false;
}

void nj_json_close_obj(struct nj_json *j)
{
	putc1(j, '}');
	if (j->depth)
		j->depth--;
}

void nj_json_open_arr(struct nj_json *j, const char *key)
{
	put_key(j, key);
	putc1(j, '[');
	if (unlikely(j->depth + 1 >= NJ_JSON_MAX_DEPTH)) {
		j->overflow = true;
		return;
	}
	j->need_comma[++j->depth] = false;
}

void nj_json_close_arr(struct nj_json *j)
{
	putc1(j, ']');
	if (j->depth)
		j->depth--;
}

void nj_json_str(struct nj_json *j, const char *key, const char *s)
{
	put_key(j, key);
	put_escaped(j, (const uint8_t *)s, s ? strlen(s) : 0);
}

void nj_json_strn(struct nj_json *j, const char *key, const void *s, size_t n)
{
	put_key(j, key);
	put_escaped(j, s, n);
}

/* Decimal digits of v, written backwards ending at end; returns the first. */
static char *u64_digits(uint64_t v, char *end)
{
	char *p = end;

	while (v >= 100) {
		unsigned r = (unsigned)(v % 100);

		v /= 100;
		p -= 2;
		memcpy(p, digit_pairs + 2 * r, 2);
	}
	if (v >= 10) {
		p -= 2;
		memcpy(p, digit_pairs + 2 * v, 2);
	} else {
		*--p = (char)('0' + v);
	}
	return p;
}

void nj_json_u64(struct nj_json *j, const char *key, uint64_t v)
{
	char tmp[24], *p;

	put_key(j, key);
	p = u64_digits(v, tmp + sizeof(tmp));
	put(j, p, (size_t)(tmp + sizeof(tmp) - p));
}

void nj_json_i64(struct nj_json *j, const char *key, int64_t v)
{
	char tmp[24], *p;
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

	put_key(j, key);
	p = u64_digits(u, tmp + sizeof(tmp));
	if (v < 0)
		*--p = '-';
	put(j, p, (size_t)(tmp + sizeof(tmp) - p));
}

void nj_json_dbl(struct nj_json *j, const char *key, double v)
{
	char tmp[40];
	int n;

	put_key(j, key);
	if (!isfinite(v)) {
		/* JSON has no NaN or infinity */
		put(j, "null", 4);
		return;
	}
	/* shortest of 15 or 17 significant digits that reads back exactly */
	n = snprintf(tmp, sizeof(tmp), "%.15g", v);
	if (strtod(tmp, NULL) != v)
		n = snprintf(tmp, sizeof(tmp), "%.17g", v);
	put(j, tmp, (size_t)n);
}

void nj_json_bool(struct nj_json *j, const char *key, bool v)
{
	put_key(j, key);
	if (v)
		put(j, "true", 4);
	else
		put(j, "false", 5);
}

void nj_json_null(struct nj_json *j, const char *key)
{
	put_key(j, key);
	put(j, "null", 4);
}

/* Writes the address text at out (room for 40 bytes), returns its length. */
static size_t ip_text(const uint8_t *a, unsigned len, char *out)
{
	char *p = out;

	if (len == 4) {
		for (unsigned i = 0; i < 4; i++) {
			uint8_t b = a[i];

			if (b >= 100) {
				*p++ = (char)('0' + b / 100);
				memcpy(p, digit_pairs + 2 * (b % 100), 2);
				p += 2;
			} else if (b >= 10) {
				memcpy(p, digit_pairs + 2 * b, 2);
				p += 2;
			} else {
				*p++ = (char)('0' + b);
			}
			*p++ = '.';
		}
		return (size_t)(p - out - 1);
	}
	if (len == 16) {
		for (unsigned i = 0; i < 16; i += 2) {
			*p++ = hex_lc[a[i] >> 4];
			*p++ = hex_lc[a[i] & 15];
			*p++ = hex_lc[a[i + 1] >> 4];
			*p++ = hex_lc[a[i + 1] & 15];
			*p++ = ':';
		}
		return (size_t)(p - out - 1);
	}
	return 0;
}

void nj_json_ip(struct nj_json *j, const char *key, const uint8_t *addr, unsigned len)
{
	char tmp[48];
	size_t n = ip_text(addr, len, tmp);

	put_key(j, key);
	putc1(j, '"');
	put(j, tmp, n);
	putc1(j, '"');
}

void nj_json_raw(struct nj_json *j, const char *key, const char *raw, size_t n)
{
	put_key(j, key);
	put(j, raw, n);
}

void nj_ip_to_str(const uint8_t *addr, unsigned len, char *out, size_t outlen)
{
	char tmp[48];
	size_t n = ip_text(addr, len, tmp);

	if (!outlen)
		return;
	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, tmp, n);
	out[n] = '\0';
}
