/* SPDX-License-Identifier: MIT */
/*
 * Request URI: split into scheme, credentials, host, port, path, query and
 * fragment the way libhtp does (including its quirks: anything before the
 * first ':' of a URI not starting with '/' is a scheme), then normalised as
 * Suricata's default configuration does (libhtp IDS personality without
 * lower-casing, which Suricata turns off): the path is percent-decoded (%uXXXX
 * too, through a best-fit map to one byte), encoded separators decoded,
 * backslashes turned into slashes, repeated slashes compressed, UTF-8 folded
 * to single bytes (invalid sequences become '?'), and dot segments removed
 * (RFC 3986 5.2.4); the query and fragment are percent-decoded ('+' kept).
 * http.uri is path?query#fragment (with scheme://host:port first when
 * uri-include-all is set).
 */
#include <stdlib.h>
#include <string.h>

#include "http_priv.h"

/* ------------------------------------------------------------------ best fit */

/* U+0100..U+017F to Windows-1252 (letters without their accents). */
static const char latin_ext_a[128] = "AaAaAaCcCcCcCcDdDdEeEeEeEeEeGgGgGgGgHhHhIiIiIiIiIi"
				     "\x3f\x3f"
				     "JjKk"
				     "\x3f"
				     "LlLlLlLlLlNnNnNn"
				     "\x3f\x3f\x3f"
				     "OoOoOo\x8c\x9c"
				     "RrRrRrSsSsSs\x8a\x9a"
				     "TtTtTtUuUuUuUuUuUuWwYy\x9f"
				     "ZzZz\x8e\x9e\x3f";

/* Windows-1252's characters outside Latin-1 (0x80..0x9f). */
static const struct {
	uint16_t cp;
	uint8_t b;
} cp1252[] = {
	{0x20ac, 0x80}, {0x201a, 0x82}, {0x0192, 0x83}, {0x201e, 0x84}, {0x2026, 0x85},
	{0x2020, 0x86}, {0x2021, 0x87}, {0x02c6, 0x88}, {0x2030, 0x89}, {0x2039, 0x8b},
	{0x2018, 0x91}, {0x2019, 0x92}, {0x201c, 0x93}, {0x201d, 0x94}, {0x2022, 0x95},
	{0x2013, 0x96}, {0x2014, 0x97}, {0x02dc, 0x98}, {0x2122, 0x99}, {0x203a, 0x9b},
};

/* One byte for a code point (libhtp's best-fit idea, with '?' for the rest). */
static uint8_t bestfit(uint32_t cp)
{
	if (cp < 0x100)
		return (uint8_t)cp;
	if (cp >= 0x100 && cp < 0x180)
		return (uint8_t)latin_ext_a[cp - 0x100];
	if (cp >= 0xff01 && cp <= 0xff5e) /* full-width ASCII */
		return (uint8_t)(cp - 0xff01 + 0x21);
	for (size_t i = 0; i < sizeof(cp1252) / sizeof(cp1252[0]); i++)
		if (cp1252[i].cp == cp)
			return cp1252[i].b;
	return '?';
}

/* ------------------------------------------------------------------ decoders */

/*
 * Generic URL decoding (query, fragment, host): %XX, %uXXXX (best fit),
 * invalid encodings keep their '%', '+' is kept (Suricata turns plus-space
 * decoding off). out has room for n bytes.
 */
static uint32_t decode_uri(const uint8_t *p, uint32_t n, uint8_t *out)
{
	uint32_t i = 0, o = 0;

	while (i < n) {
		if (p[i] != '%') {
			out[o++] = p[i++];
			continue;
		}
		if (i + 1 < n && (p[i + 1] == 'u' || p[i + 1] == 'U')) {
			if (i + 5 < n && http_hexval(p[i + 2]) >= 0 && http_hexval(p[i + 3]) >= 0 &&
			    http_hexval(p[i + 4]) >= 0 && http_hexval(p[i + 5]) >= 0) {
				uint32_t c1 = (uint32_t)(http_hexval(p[i + 2]) << 4 |
							 http_hexval(p[i + 3]));
				uint32_t c2 = (uint32_t)(http_hexval(p[i + 4]) << 4 |
							 http_hexval(p[i + 5]));

				out[o++] = c1 == 0 ? (uint8_t)c2 : bestfit(c1 << 8 | c2);
				i += 6;
				continue;
			}
			out[o++] = '%';
			i++;
			continue;
		}
		if (i + 2 < n && http_hexval(p[i + 1]) >= 0 && http_hexval(p[i + 2]) >= 0) {
			out[o++] = (uint8_t)(http_hexval(p[i + 1]) << 4 | http_hexval(p[i + 2]));
			i += 3;
			continue;
		}
		out[o++] = '%';
		i++;
	}
	return o;
}

/*
 * Path decoding (IDS personality, no lower-casing): as decode_uri, plus encoded
 * separators decoded, backslashes to slashes, repeated slashes compressed.
 */
static uint32_t decode_path(const uint8_t *p, uint32_t n, uint8_t *out)
{
	uint32_t i = 0, o = 0;

	while (i < n) {
		uint8_t b;

		if (p[i] != '%') {
			b = p[i++];
		} else if (i + 1 < n && (p[i + 1] == 'u' || p[i + 1] == 'U')) {
			if (i + 5 < n && http_hexval(p[i + 2]) >= 0 && http_hexval(p[i + 3]) >= 0 &&
			    http_hexval(p[i + 4]) >= 0 && http_hexval(p[i + 5]) >= 0) {
				uint32_t c1 = (uint32_t)(http_hexval(p[i + 2]) << 4 |
							 http_hexval(p[i + 3]));
				uint32_t c2 = (uint32_t)(http_hexval(p[i + 4]) << 4 |
							 http_hexval(p[i + 5]));

				b = c1 == 0 ? (uint8_t)c2 : bestfit(c1 << 8 | c2);
				i += 6;
			} else {
				b = '%';
				i++;
			}
		} else if (i + 2 < n && http_hexval(p[i + 1]) >= 0 && http_hexval(p[i + 2]) >= 0) {
			b = (uint8_t)(http_hexval(p[i + 1]) << 4 | http_hexval(p[i + 2]));
			i += 3;
		} else {
			b = '%';
			i++;
		}
		if (b == '\\')
			b = '/';
		if (b == '/' && o > 0 && out[o - 1] == '/')
			continue;
		out[o++] = b;
	}
	return o;
}

/*
 * UTF-8 to single bytes (libhtp's utf8 decoder with best fit): overlong forms
 * decoded, invalid bytes become '?', a sequence cut short by the end gives
 * one '?' per byte but the first.
 */
static uint32_t utf8_fold(uint8_t *p, uint32_t n)
{
	uint32_t i = 0, o = 0;

	while (i < n) {
		uint8_t c = p[i];
		uint32_t need, cp, k;
		uint8_t lo = 0x80, hi = 0xbf;

		if (c < 0x80) {
			p[o++] = c;
			i++;
			continue;
		}
		if (c >= 0xc0 && c <= 0xdf) {
			need = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2;
			cp = c & 0x0f;
			if (c == 0xed)
				hi = 0x9f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3;
			cp = c & 0x07;
			if (c == 0xf4)
				hi = 0x8f;
		} else {
			p[o++] = '?';
			i++;
			continue;
		}
		for (k = 1; k <= need; k++) {
			uint8_t d;

			if (i + k >= n) {
				/* cut short: one '?' per byte seen but the first */
				for (uint32_t m = 1; m < k; m++)
					p[o++] = '?';
				return o;
			}
			d = p[i + k];
			if (d < (k == 1 ? lo : 0x80) || d > (k == 1 ? hi : 0xbf))
				break;
			cp = cp << 6 | (d & 0x3f);
		}
		if (k <= need) {
			/* invalid: one '?', the offending byte starts again */
			p[o++] = '?';
			i += k;
			continue;
		}
		p[o++] = bestfit(cp);
		i += need + 1;
	}
	return o;
}

/* RFC 3986 5.2.4 remove_dot_segments, in place. */
static uint32_t remove_dots(uint8_t *s, uint32_t n)
{
	uint8_t stackbuf[1024];
	uint8_t *out = n < sizeof(stackbuf) ? stackbuf : malloc(n + 1);
	uint32_t i = 0, o = 0;

	if (!out)
		return n;
	/* nothing to do without a dot */
	if (!memchr(s, '.', n)) {
		if (out != stackbuf)
			free(out);
		return n;
	}
	while (i < n) {
		uint32_t r = n - i;

		if (r >= 3 && memcmp(s + i, "../", 3) == 0) {
			i += 3;
		} else if (r >= 2 && memcmp(s + i, "./", 2) == 0) {
			i += 2;
		} else if (r >= 3 && memcmp(s + i, "/./", 3) == 0) {
			i += 2;
		} else if (r == 2 && memcmp(s + i, "/.", 2) == 0) {
			i += 1;
			s[i] = '/';
		} else if ((r >= 4 && memcmp(s + i, "/../", 4) == 0) ||
			   (r == 3 && memcmp(s + i, "/..", 3) == 0)) {
			if (r == 3) {
				i += 2;
				s[i] = '/';
			} else {
				i += 3;
			}
			while (o > 0 && out[o - 1] != '/')
				o--;
			if (o > 0)
				o--;
		} else if ((r == 1 && s[i] == '.') || (r == 2 && memcmp(s + i, "..", 2) == 0)) {
			i = n;
		} else {
			uint32_t j = i;

			if (s[j] == '/')
				j++;
			while (j < n && s[j] != '/')
				j++;
			memcpy(out + o, s + i, j - i);
			o += j - i;
			i = j;
		}
	}
	memcpy(s, out, o);
	if (out != stackbuf)
		free(out);
	return o;
}

/* ------------------------------------------------------------------ parsing */

struct uri_parts {
	const uint8_t *scheme, *user, *pass, *host, *port, *path, *query, *frag;
	uint32_t scheme_len, user_len, pass_len, host_len, port_len, path_len, query_len, frag_len;
};

static const uint8_t *find(const uint8_t *p, uint32_t n, uint8_t c)
{
	return memchr(p, c, n);
}

/* libhtp's parse_uri. */
static void uri_split(const uint8_t *p, uint32_t n, struct uri_parts *u)
{
	uint32_t i = 0;
	const uint8_t *q;

	memset(u, 0, sizeof(*u));
	if (n && p[0] != '/' && (q = find(p, n, ':')) != NULL) {
		u->scheme = p;
		u->scheme_len = (uint32_t)(q - p);
		i = u->scheme_len + 1;
		/* credentials: "//" not followed by '/', up to an '@' */
		if (n - i >= 2 && p[i] == '/' && p[i + 1] == '/' &&
		    (n - i == 2 || p[i + 2] != '/')) {
			const uint8_t *at = find(p + i + 2, n - i - 2, '@');

			if (at) {
				const uint8_t *c = p + i + 2;
				const uint8_t *colon = find(c, (uint32_t)(at - c), ':');

				if (colon) {
					u->user = c;
					u->user_len = (uint32_t)(colon - c);
					u->pass = colon + 1;
					u->pass_len = (uint32_t)(at - colon - 1);
				} else {
					u->user = c;
					u->user_len = (uint32_t)(at - c);
				}
				i = (uint32_t)(at - p) + 1;
			}
		}
		/* host */
		{
			uint32_t k = i, hs, he;

			if (n - k >= 2 && p[k] == '/' && p[k + 1] == '/')
				k += 2;
			if (k < n && p[k] != '/') {
				while (k < n && p[k] == ' ')
					k++;
				hs = k;
				if (k < n && p[k] == '[') {
					k++;
					while (k < n && p[k] != '/' && p[k] != '?' && p[k] != '#' &&
					       p[k] != ']')
						k++;
					if (k < n && p[k] == ']')
						k++;
					if (k == hs + 1)
						k = hs;
				} else {
					while (k < n && p[k] != '/' && p[k] != '?' && p[k] != '#' &&
					       p[k] != ':')
						k++;
				}
				if (k > hs) {
					he = k;
					while (he > hs && p[he - 1] == ' ')
						he--;
					u->host = p + hs;
					u->host_len = he - hs;
					i = k;
					/* port: ':' blanks, up to / ? #, first non-blank run */
					if (i < n && p[i] == ':') {
						uint32_t ps = i + 1, pe, j;

						while (ps < n && p[ps] == ' ')
							ps++;
						j = ps;
						while (j < n && p[j] != '/' && p[j] != '?' &&
						       p[j] != '#')
							j++;
						pe = ps;
						while (pe < j && p[pe] != ' ')
							pe++;
						if (pe > ps) {
							u->port = p + ps;
							u->port_len = pe - ps;
							i = j;
						}
					}
				}
			}
		}
	}
	/* path, query, fragment */
	if (i < n && p[i] != '?' && p[i] != '#') {
		uint32_t s = i;

		while (i < n && p[i] != '?' && p[i] != '#')
			i++;
		u->path = p + s;
		u->path_len = i - s;
	}
	if (i < n && p[i] == '?') {
		uint32_t s = ++i;

		while (i < n && p[i] != '#')
			i++;
		u->query = p + s;
		u->query_len = i - s;
	}
	if (i < n && p[i] == '#') {
		u->frag = p + i + 1;
		u->frag_len = n - i - 1;
	}
}

static int32_t port_number(const uint8_t *p, uint32_t n)
{
	uint64_t v = 0;

	if (n == 0 || n > 5)
		return -1;
	for (uint32_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(p[i] - '0');
	}
	return (v == 0 || v > 65535) ? -1 : (int32_t)v;
}

/* Appends to the request's derived buffer; the result's range in *s. */
static bool der_add(struct nj_http_tx *tx, struct nj_http_str *s, const uint8_t *p, uint32_t n)
{
	*s = http_str_add(&tx->m[0], true, p, n);
	return nj_http_has(*s);
}

unsigned http_uri_process(struct nj_http_tx *tx)
{
	const struct nj_http_config *cfg = nj_http_config_get();
	struct nj_http_msg *m = &tx->m[0];
	const uint8_t *uri;
	uint32_t n, total, o = 0, dl;
	struct uri_parts u;
	unsigned fl = 0;
	uint8_t *tmp, *t2;
	uint8_t stack1[1024], stack2[1024];
	bool part = false;

	if (!nj_http_has(tx->uri))
		return 0;
	n = tx->uri.len;
	/* scratch: decoded pieces never grow */
	tmp = (size_t)n * 2 + 16 <= sizeof(stack1) ? stack1 : malloc((size_t)n * 2 + 16);
	if (!tmp)
		return 0;
	uri = nj_http_ptr(tx, 0, tx->uri);
	if (tx->method_id == NJ_HTTP_M_CONNECT) {
		const uint8_t *h;
		uint32_t hl;
		int32_t port;
		bool valid;

		memset(&u, 0, sizeof(u));
		if (http_hostport(uri, n, &h, &hl, &port, &valid)) {
			u.host = h;
			u.host_len = hl;
			if (!valid)
				fl |= HTTP_URI_HOST_INVALID;
			if (port >= 0)
				tx->port = port;
			if (port != -1) {
				/* the port text after ':' */
				const uint8_t *c =
					memchr(h + hl, ':', (size_t)(uri + n - (h + hl)));

				if (c) {
					u.port = c + 1;
					u.port_len = (uint32_t)(uri + n - c - 1);
					while (u.port_len && u.port[0] == ' ') {
						u.port++;
						u.port_len--;
					}
				}
			}
		}
	} else {
		uri_split(uri, n, &u);
		if (u.port) {
			int32_t pn = port_number(u.port, u.port_len);

			if (pn < 0)
				fl |= HTTP_URI_HOST_INVALID;
			else
				tx->port = pn;
		}
	}
	/* host: decoded, lower case, trailing dots removed; raw kept for http.host.raw */
	if (u.host) {
		uint32_t hl = tx->method_id == NJ_HTTP_M_CONNECT
				      ? u.host_len
				      : decode_uri(u.host, u.host_len, tmp);

		if (tx->method_id == NJ_HTTP_M_CONNECT)
			memcpy(tmp, u.host, hl);
		for (uint32_t i = 0; i < hl; i++)
			tmp[i] = http_lower(tmp[i]);
		while (tx->method_id != NJ_HTTP_M_CONNECT && hl && tmp[hl - 1] == '.')
			hl--;
		der_add(tx, &tx->host, tmp, hl);
		tx->host_raw = (struct nj_http_str){(uint32_t)(u.host - m->raw.p), u.host_len, 0};
		if (!http_host_valid(tmp, hl))
			fl |= HTTP_URI_HOST_INVALID;
	}
	/* normalised path */
	if (u.path) {
		dl = decode_path(u.path, u.path_len, tmp);
		dl = utf8_fold(tmp, dl);
		dl = remove_dots(tmp, dl);
		der_add(tx, &tx->path, tmp, dl);
	}
	/* http.uri: [scheme://[user:pass@]host[:port]]path[?query][#fragment] */
	total = n * 2 + 16;
	t2 = total <= sizeof(stack2) ? stack2 : malloc(total);
	if (!t2) {
		if (tmp != stack1)
			free(tmp);
		return fl;
	}
	if (cfg->uri_include_all) {
		if (u.scheme) {
			for (uint32_t i = 0; i < u.scheme_len; i++)
				t2[o++] = http_lower(u.scheme[i]);
			memcpy(t2 + o, "://", 3);
			o += 3;
		}
		if (u.user || u.pass) {
			o += decode_uri(u.user, u.user_len, t2 + o);
			t2[o++] = ':';
			if (u.pass)
				o += decode_uri(u.pass, u.pass_len, t2 + o);
			t2[o++] = '@';
		}
		if (nj_http_has(tx->host)) {
			memcpy(t2 + o, nj_http_ptr(tx, 0, tx->host), tx->host.len);
			o += tx->host.len;
		}
		if (u.port) {
			t2[o++] = ':';
			memcpy(t2 + o, u.port, u.port_len);
			o += u.port_len;
		}
	}
	if (nj_http_has(tx->path)) {
		uint32_t pl = tx->path.len;

		memcpy(tmp, nj_http_ptr(tx, 0, tx->path), pl);
		if (cfg->double_decode_path) {
			uint32_t nl = decode_uri(tmp, pl, tmp);

			if (nl < pl)
				fl |= HTTP_URI_DOUBLE_ENC;
			pl = nl;
		}
		memcpy(t2 + o, tmp, pl);
		o += pl;
		part = true;
	}
	if (u.query) {
		uint32_t ql = decode_uri(u.query, u.query_len, tmp);

		if (cfg->double_decode_query) {
			uint32_t nl = decode_uri(tmp, ql, tmp);

			if (nl < ql)
				fl |= HTTP_URI_DOUBLE_ENC;
			ql = nl;
		}
		t2[o++] = '?';
		memcpy(t2 + o, tmp, ql);
		o += ql;
		part = true;
	}
	if (u.frag) {
		uint32_t fl2 = decode_uri(u.frag, u.frag_len, tmp);

		t2[o++] = '#';
		memcpy(t2 + o, tmp, fl2);
		o += fl2;
		part = true;
	}
	if (o && (part || cfg->uri_include_all))
		der_add(tx, &tx->uri_norm, t2, o);
	if (t2 != stack2)
		free(t2);
	if (tmp != stack1)
		free(tmp);
	return fl;
}
