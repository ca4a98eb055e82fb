/* SPDX-License-Identifier: MIT */
/*
 * Address and port sets of rule headers: "any", literals, CIDR (and
 * a.b.c.d/mask), ranges, IPv6, lists [a,b], negation (!), variables from
 * vars.address-groups / vars.port-groups. A set is flattened with Suricata's
 * rule for nested negation (each '!' flips the elements under it), then
 * computed as (positives, or everything if there are none) minus negatives,
 * and stored as sorted disjoint ranges. Sets are cached by their text, so the
 * thousands of "$HOME_NET" in a rule set share one.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "rules_priv.h"

#define MAX_VAR_DEPTH 16

bool nj_detect_addr_match(const struct nj_detect_addrs *a, const uint8_t *addr, unsigned alen)
{
	if (a->any)
		return true;
	if (alen == 4) {
		uint32_t v = ((uint32_t)addr[0] << 24) | ((uint32_t)addr[1] << 16) |
			     ((uint32_t)addr[2] << 8) | addr[3];
		uint32_t lo = 0, hi = a->n4;

		while (lo < hi) {
			uint32_t mid = (lo + hi) / 2;

			if (v < a->v4[mid].lo)
				hi = mid;
			else if (v > a->v4[mid].hi)
				lo = mid + 1;
			else
				return true;
		}
		return false;
	}
	uint32_t lo = 0, hi = a->n6;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;

		if (memcmp(addr, a->v6[mid].lo, 16) < 0)
			hi = mid;
		else if (memcmp(addr, a->v6[mid].hi, 16) > 0)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

bool nj_detect_port_match(const struct nj_detect_ports *p, uint16_t port)
{
	if (p->any)
		return true;
	uint32_t lo = 0, hi = p->n;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;

		if (port < p->r[mid].lo)
			hi = mid;
		else if (port > p->r[mid].hi)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

/* ------------------------------------------------------------ flattening */

struct item6 {
	uint8_t lo[16], hi[16];
	bool neg;
};
struct item4 {
	uint32_t lo, hi; /* ports use the same with 0..65535 */
	bool neg;
};

struct flat {
	struct item4 *v4;
	struct item6 *v6;
	unsigned n4, n6, cap4, cap6;
	char *err;
	size_t errlen;
	struct nj_detect_rules *r;
	bool ports;
};

static int ferr(struct flat *f, const char *fmt, const char *arg)
{
	snprintf(f->err, f->errlen, fmt, arg);
	return -1;
}

static int add4(struct flat *f, uint32_t lo, uint32_t hi, bool neg)
{
	if (f->n4 == f->cap4) {
		unsigned nc = f->cap4 ? f->cap4 * 2 : 16;
		struct item4 *n = realloc(f->v4, nc * sizeof(*n));

		if (!n)
			return -1;
		f->v4 = n;
		f->cap4 = nc;
	}
	f->v4[f->n4++] = (struct item4){lo, hi, neg};
	return 0;
}

static int add6(struct flat *f, const uint8_t *lo, const uint8_t *hi, bool neg)
{
	if (f->n6 == f->cap6) {
		unsigned nc = f->cap6 ? f->cap6 * 2 : 8;
		struct item6 *n = realloc(f->v6, nc * sizeof(*n));

		if (!n)
			return -1;
		f->v6 = n;
		f->cap6 = nc;
	}
	memcpy(f->v6[f->n6].lo, lo, 16);
	memcpy(f->v6[f->n6].hi, hi, 16);
	f->v6[f->n6].neg = neg;
	f->n6++;
	return 0;
}

static int add_any(struct flat *f, bool neg)
{
	static const uint8_t z[16], ff[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
					      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

	if (f->ports)
		return add4(f, 0, 65535, neg);
	if (add4(f, 0, 0xffffffffu, neg) < 0)
		return -1;
	return add6(f, z, ff, neg);
}

static int parse_v4(const char *s, uint32_t *out)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		return -1;
	*out = ntohl(a.s_addr);
	return 0;
}

static int parse_one_addr(struct flat *f, char *s, bool neg)
{
	char *slash = strchr(s, '/'), *dash;
	uint32_t a4, b4;
	uint8_t a6[16], b6[16];

	if (strcmp(s, "any") == 0)
		return add_any(f, neg);
	if (slash) {
		*slash = '\0';
		const char *m = slash + 1;

		if (parse_v4(s, &a4) == 0) {
			uint32_t mask;

			if (strchr(m, '.')) {
				if (parse_v4(m, &mask) < 0)
					return ferr(f, "invalid netmask: %s", m);
			} else {
				char *end;
				long bits = strtol(m, &end, 10);

				if (*end || end == m || bits < 0 || bits > 32)
					return ferr(f, "invalid CIDR: %s", m);
				mask = bits ? 0xffffffffu << (32 - bits) : 0;
			}
			return add4(f, a4 & mask, (a4 & mask) | ~mask, neg);
		}
		if (inet_pton(AF_INET6, s, a6) == 1) {
			char *end;
			long bits = strtol(m, &end, 10);

			if (*end || end == m || bits < 0 || bits > 128)
				return ferr(f, "invalid CIDR: %s", m);
			for (int i = 0; i < 16; i++) {
				int keep = (int)bits - i * 8;
				uint8_t mk = keep >= 8	 ? 0xff
					     : keep <= 0 ? 0
							 : (uint8_t)(0xff << (8 - keep));

				a6[i] &= mk;
				b6[i] = a6[i] | (uint8_t)~mk;
			}
			return add6(f, a6, b6, neg);
		}
		return ferr(f, "invalid address: %s", s);
	}
	if (parse_v4(s, &a4) == 0)
		return add4(f, a4, a4, neg);
	if (inet_pton(AF_INET6, s, a6) == 1)
		return add6(f, a6, a6, neg);
	dash = strchr(s, '-');
	if (dash) {
		*dash = '\0';
		if (parse_v4(s, &a4) == 0 && parse_v4(dash + 1, &b4) == 0 && a4 <= b4)
			return add4(f, a4, b4, neg);
		if (inet_pton(AF_INET6, s, a6) == 1 && inet_pton(AF_INET6, dash + 1, b6) == 1 &&
		    memcmp(a6, b6, 16) <= 0)
			return add6(f, a6, b6, neg);
		*dash = '-';
	}
	return ferr(f, "invalid address: %s", s);
}

static int parse_num_port(const char *s, uint32_t *out)
{
	char *end;
	long v;

	if (!*s)
		return -1;
	v = strtol(s, &end, 10);
	if (*end || v < 0 || v > 65535)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int parse_one_port(struct flat *f, char *s, bool neg)
{
	char *colon = strchr(s, ':');
	uint32_t a, b;

	if (strcmp(s, "any") == 0)
		return add_any(f, neg);
	if (colon) {
		*colon = '\0';
		a = 0;
		b = 65535;
		if ((*s && parse_num_port(s, &a) < 0) ||
		    (colon[1] && parse_num_port(colon + 1, &b) < 0) || (!*s && !colon[1]) ||
		    a > b) {
			*colon = ':';
			return ferr(f, "invalid port range: %s", s);
		}
		return add4(f, a, b, neg);
	}
	if (parse_num_port(s, &a) < 0)
		return ferr(f, "invalid port: %s", s);
	return add4(f, a, a, neg);
}

static int flatten(struct flat *f, const char *text, bool neg, int depth);

/* One element: "!x", "[...]", "$VAR" or a literal. */
static int flatten_elem(struct flat *f, char *s, bool neg, int depth)
{
	s = nj_detect_trim(s);
	while (*s == '!') {
		neg = !neg;
		s = nj_detect_trim(s + 1);
	}
	if (!*s)
		return ferr(f, "empty %s", f->ports ? "port" : "address");
	if (*s == '[') {
		size_t n = strlen(s);

		if (s[n - 1] != ']')
			return ferr(f, "unbalanced brackets: %s", s);
		s[n - 1] = '\0';
		return flatten(f, s + 1, neg, depth + 1);
	}
	if (*s == '$') {
		struct nj_detect_priv *pv = nj_detect_priv(f->r);
		const char *v = nj_strmap_get(f->ports ? &pv->port_vars : &pv->addr_vars, s + 1);

		if (!v)
			return ferr(f, "unknown variable %s", s);
		return flatten(f, v, neg, depth + 1);
	}
	return f->ports ? parse_one_port(f, s, neg) : parse_one_addr(f, s, neg);
}

/* A comma-separated list at bracket depth 0 of text. */
static int flatten(struct flat *f, const char *text, bool neg, int depth)
{
	if (depth > MAX_VAR_DEPTH)
		return ferr(f, "variables or brackets nested too deep: %s", text);
	char *buf = strdup(text), *p, *start;
	int level = 0, ret = 0;

	if (!buf)
		return -1;
	for (p = start = buf;; p++) {
		if (*p == '[')
			level++;
		else if (*p == ']')
			level--;
		if (level < 0) {
			ret = ferr(f, "unbalanced brackets: %s", text);
			break;
		}
		if ((*p == ',' && level == 0) || *p == '\0') {
			char c = *p;

			*p = '\0';
			if (level != 0) {
				ret = ferr(f, "unbalanced brackets: %s", text);
				break;
			}
			ret = flatten_elem(f, start, neg, depth);
			if (ret < 0 || c == '\0')
				break;
			start = p + 1;
		}
	}
	free(buf);
	return ret;
}

/* ------------------------------------------------------------ set algebra */

static int cmp4(const void *a, const void *b)
{
	const struct item4 *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static int cmp6(const void *a, const void *b)
{
	return memcmp(((const struct item6 *)a)->lo, ((const struct item6 *)b)->lo, 16);
}

/* Merges sorted items in place; returns the new count. */
static unsigned merge4(struct item4 *v, unsigned n)
{
	unsigned o = 0;

	qsort(v, n, sizeof(*v), cmp4);
	for (unsigned i = 0; i < n; i++) {
		if (o && (uint64_t)v[o - 1].hi + 1 >= v[i].lo) {
			if (v[i].hi > v[o - 1].hi)
				v[o - 1].hi = v[i].hi;
		} else {
			v[o++] = v[i];
		}
	}
	return o;
}

static void inc6(uint8_t *a)
{
	for (int i = 15; i >= 0; i--)
		if (++a[i])
			break;
}

static void dec6(uint8_t *a)
{
	for (int i = 15; i >= 0; i--)
		if (a[i]--)
			break;
}

static bool is_max6(const uint8_t *a)
{
	for (int i = 0; i < 16; i++)
		if (a[i] != 0xff)
			return false;
	return true;
}

static unsigned merge6(struct item6 *v, unsigned n)
{
	unsigned o = 0;

	qsort(v, n, sizeof(*v), cmp6);
	for (unsigned i = 0; i < n; i++) {
		uint8_t next[16];
		bool adj = false;

		if (o) {
			memcpy(next, v[o - 1].hi, 16);
			adj = is_max6(next) || (inc6(next), memcmp(next, v[i].lo, 16) >= 0);
		}
		if (adj) {
			if (memcmp(v[i].hi, v[o - 1].hi, 16) > 0)
				memcpy(v[o - 1].hi, v[i].hi, 16);
		} else {
			v[o++] = v[i];
		}
	}
	return o;
}

/* pos minus neg (both merged), into out (capacity npos + nneg + 1). */
static unsigned sub4(const struct item4 *pos, unsigned np, const struct item4 *neg, unsigned nn,
		     struct item4 *out)
{
	unsigned o = 0, j = 0;

	for (unsigned i = 0; i < np; i++) {
		uint64_t lo = pos[i].lo, hi = pos[i].hi;

		while (j < nn && neg[j].hi < lo)
			j++;
		for (unsigned k = j; k < nn && neg[k].lo <= hi && lo <= hi; k++) {
			if (neg[k].lo > lo)
				out[o++] = (struct item4){(uint32_t)lo, neg[k].lo - 1, false};
			lo = (uint64_t)neg[k].hi + 1;
		}
		if (lo <= hi)
			out[o++] = (struct item4){(uint32_t)lo, (uint32_t)hi, false};
	}
	return o;
}

static unsigned sub6(const struct item6 *pos, unsigned np, const struct item6 *neg, unsigned nn,
		     struct item6 *out)
{
	unsigned o = 0;

	for (unsigned i = 0; i < np; i++) {
		uint8_t lo[16], hi[16];
		bool done = false;

		memcpy(lo, pos[i].lo, 16);
		memcpy(hi, pos[i].hi, 16);
		for (unsigned k = 0; k < nn && !done; k++) {
			if (memcmp(neg[k].hi, lo, 16) < 0 || memcmp(neg[k].lo, hi, 16) > 0)
				continue;
			if (memcmp(neg[k].lo, lo, 16) > 0) {
				memcpy(out[o].lo, lo, 16);
				memcpy(out[o].hi, neg[k].lo, 16);
				dec6(out[o].hi);
				o++;
			}
			if (is_max6(neg[k].hi) || memcmp(neg[k].hi, hi, 16) >= 0) {
				done = true;
			} else {
				memcpy(lo, neg[k].hi, 16);
				inc6(lo);
			}
		}
		if (!done) {
			memcpy(out[o].lo, lo, 16);
			memcpy(out[o].hi, hi, 16);
			o++;
		}
	}
	return o;
}

/* Splits f's items into merged positive and negative sets and subtracts. */
static int compute4(struct flat *f, struct item4 **res, unsigned *nres, bool any_if_empty,
		    bool *had_pos)
{
	unsigned np = 0, nn = 0;
	struct item4 *pos = calloc(f->n4 + 1, sizeof(*pos)), *neg = calloc(f->n4 + 1, sizeof(*neg));
	struct item4 *out = NULL;

	if (!pos || !neg)
		goto out_nomem;
	for (unsigned i = 0; i < f->n4; i++) {
		if (f->v4[i].neg)
			neg[nn++] = f->v4[i];
		else
			pos[np++] = f->v4[i];
	}
	*had_pos = np > 0;
	if (np == 0 && any_if_empty)
		pos[np++] = (struct item4){0, f->ports ? 65535u : 0xffffffffu, false};
	np = merge4(pos, np);
	nn = merge4(neg, nn);
	out = calloc(np + nn + 1, sizeof(*out));
	if (!out)
		goto out_nomem;
	*nres = sub4(pos, np, neg, nn, out);
	*res = out;
	free(pos);
	free(neg);
	return 0;
out_nomem:
	free(pos);
	free(neg);
	return -ENOMEM;
}

static int compute6(struct flat *f, struct item6 **res, unsigned *nres, bool any_if_empty)
{
	unsigned np = 0, nn = 0;
	struct item6 *pos = calloc(f->n6 + 1, sizeof(*pos)), *neg = calloc(f->n6 + 1, sizeof(*neg));
	struct item6 *out = NULL;

	if (!pos || !neg)
		goto out_nomem;
	for (unsigned i = 0; i < f->n6; i++) {
		if (f->v6[i].neg)
			neg[nn++] = f->v6[i];
		else
			pos[np++] = f->v6[i];
	}
	if (np == 0 && any_if_empty) {
		memset(pos[0].lo, 0, 16);
		memset(pos[0].hi, 0xff, 16);
		np = 1;
	}
	np = merge6(pos, np);
	nn = merge6(neg, nn);
	out = calloc(2 * (np + nn) + 1, sizeof(*out));
	if (!out)
		goto out_nomem;
	*nres = sub6(pos, np, neg, nn, out);
	*res = out;
	free(pos);
	free(neg);
	return 0;
out_nomem:
	free(pos);
	free(neg);
	return -ENOMEM;
}

const struct nj_detect_addrs *nj_detect_addrs_get(struct nj_detect_rules *r, const char *text,
						  char *err, size_t errlen)
{
	struct nj_detect_priv *pv = nj_detect_priv(r);
	struct nj_detect_addrs *a = nj_strmap_get(&pv->addr_cache, text);
	struct flat f = {.err = err, .errlen = errlen, .r = r};
	struct item4 *r4 = NULL;
	struct item6 *r6 = NULL;
	unsigned n4 = 0, n6 = 0;
	bool had4 = false, any_pos;

	if (a)
		return a;
	if (flatten(&f, text, false, 0) < 0)
		goto out;
	/* positives of either family restrict both: [1.2.3.4] has no IPv6 */
	any_pos = false;
	for (unsigned i = 0; i < f.n4; i++)
		any_pos |= !f.v4[i].neg;
	for (unsigned i = 0; i < f.n6; i++)
		any_pos |= !f.v6[i].neg;
	if (compute4(&f, &r4, &n4, !any_pos, &had4) < 0 || compute6(&f, &r6, &n6, !any_pos) < 0) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (n4 == 0 && n6 == 0) {
		snprintf(err, errlen, "address set is empty (everything negated): %s", text);
		goto out;
	}
	a = nj_detect_alloc(r, sizeof(*a));
	if (!a)
		goto out;
	a->n4 = n4;
	a->n6 = n6;
	a->v4 = nj_detect_alloc(r, (n4 + 1) * sizeof(*a->v4));
	a->v6 = nj_detect_alloc(r, (n6 + 1) * sizeof(*a->v6));
	if (!a->v4 || !a->v6) {
		a = NULL;
		goto out;
	}
	for (unsigned i = 0; i < n4; i++)
		a->v4[i] = (struct nj_detect_v4range){r4[i].lo, r4[i].hi};
	for (unsigned i = 0; i < n6; i++) {
		memcpy(a->v6[i].lo, r6[i].lo, 16);
		memcpy(a->v6[i].hi, r6[i].hi, 16);
	}
	a->any = n4 == 1 && r4[0].lo == 0 && r4[0].hi == 0xffffffffu && n6 == 1 &&
		 memcmp(r6[0].lo, (uint8_t[16]){0}, 16) == 0 && is_max6(r6[0].hi);
	{
		const char *key = nj_detect_strdup(r, text);

		if (!key || nj_strmap_put(&pv->addr_cache, key, a) < 0)
			a = NULL;
	}
out:
	free(f.v4);
	free(f.v6);
	free(r4);
	free(r6);
	return a;
}

const struct nj_detect_ports *nj_detect_ports_get(struct nj_detect_rules *r, const char *text,
						  char *err, size_t errlen)
{
	struct nj_detect_priv *pv = nj_detect_priv(r);
	struct nj_detect_ports *p = nj_strmap_get(&pv->port_cache, text);
	struct flat f = {.err = err, .errlen = errlen, .r = r, .ports = true};
	struct item4 *res = NULL;
	unsigned n = 0;
	bool had;

	if (p)
		return p;
	if (flatten(&f, text, false, 0) < 0)
		goto out;
	if (compute4(&f, &res, &n, true, &had) < 0) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (n == 0) {
		snprintf(err, errlen, "port set is empty (everything negated): %s", text);
		goto out;
	}
	p = nj_detect_alloc(r, sizeof(*p));
	if (!p)
		goto out;
	p->n = n;
	p->r = nj_detect_alloc(r, n * sizeof(*p->r));
	if (!p->r) {
		p = NULL;
		goto out;
	}
	for (unsigned i = 0; i < n; i++)
		p->r[i] = (struct nj_detect_portrange){(uint16_t)res[i].lo, (uint16_t)res[i].hi};
	p->any = n == 1 && res[0].lo == 0 && res[0].hi == 65535;
	{
		const char *key = nj_detect_strdup(r, text);

		if (!key || nj_strmap_put(&pv->port_cache, key, p) < 0)
			p = NULL;
	}
out:
	free(f.v4);
	free(res);
	return p;
}

/* ------------------------------------------------------------ variables */

/* Suricata's defaults (suricata.yaml), used for each variable the configuration lacks. */
static const char *const default_addr_vars[][2] = {
	{"HOME_NET", "[192.168.0.0/16,10.0.0.0/8,172.16.0.0/12]"},
	{"EXTERNAL_NET", "!$HOME_NET"},
	{"HTTP_SERVERS", "$HOME_NET"},
	{"SMTP_SERVERS", "$HOME_NET"},
	{"SQL_SERVERS", "$HOME_NET"},
	{"DNS_SERVERS", "$HOME_NET"},
	{"TELNET_SERVERS", "$HOME_NET"},
	{"AIM_SERVERS", "$EXTERNAL_NET"},
	{"DC_SERVERS", "$HOME_NET"},
	{"DNP3_SERVER", "$HOME_NET"},
	{"DNP3_CLIENT", "$HOME_NET"},
	{"MODBUS_CLIENT", "$HOME_NET"},
	{"MODBUS_SERVER", "$HOME_NET"},
	{"ENIP_CLIENT", "$HOME_NET"},
	{"ENIP_SERVER", "$HOME_NET"},
};

static const char *const default_port_vars[][2] = {
	{"HTTP_PORTS", "80"},
	{"SHELLCODE_PORTS", "!80"},
	{"ORACLE_PORTS", "1521"},
	{"SSH_PORTS", "22"},
	{"DNP3_PORTS", "20000"},
	{"MODBUS_PORTS", "502"},
	{"FILE_DATA_PORTS", "[$HTTP_PORTS,110,143]"},
	{"FTP_PORTS", "21"},
	{"GENEVE_PORTS", "6081"},
	{"VXLAN_PORTS", "4789"},
	{"TEREDO_PORTS", "3544"},
};

static int vars_from(struct nj_detect_rules *r, const struct nj_conf *conf, const char *path,
		     struct nj_strmap *m, char *err, size_t errlen)
{
	const struct nj_conf_node *n = conf ? nj_conf_get(conf, path) : NULL;

	if (!n)
		return 0;
	if (n->kind != NJ_CONF_MAP) {
		snprintf(err, errlen, "%s:%d: %s: must be a map", n->file ? n->file : "?", n->line,
			 path);
		return -1;
	}
	for (const struct nj_conf_node *c = n->child; c; c = c->next) {
		if (c->kind != NJ_CONF_SCALAR || !c->key || !c->value) {
			snprintf(err, errlen, "%s:%d: %s.%s: must be a string",
				 c->file ? c->file : "?", c->line, path, c->key ? c->key : "?");
			return -1;
		}
		char *k = nj_detect_strdup(r, c->key), *v = nj_detect_strdup(r, c->value);

		if (!k || !v || nj_strmap_put(m, k, v) < 0)
			return -1;
	}
	return 0;
}

int nj_detect_vars_load(struct nj_detect_rules *r, const struct nj_conf *conf, char *err,
			size_t errlen)
{
	struct nj_detect_priv *pv = nj_detect_priv(r);

	if (vars_from(r, conf, "vars.address-groups", &pv->addr_vars, err, errlen) < 0 ||
	    vars_from(r, conf, "vars.port-groups", &pv->port_vars, err, errlen) < 0)
		return -1;
	for (size_t i = 0; i < NJ_ARRAY_SIZE(default_addr_vars); i++)
		if (!nj_strmap_get(&pv->addr_vars, default_addr_vars[i][0]) &&
		    nj_strmap_put(&pv->addr_vars, default_addr_vars[i][0],
				  (void *)default_addr_vars[i][1]) < 0)
			return -1;
	for (size_t i = 0; i < NJ_ARRAY_SIZE(default_port_vars); i++)
		if (!nj_strmap_get(&pv->port_vars, default_port_vars[i][0]) &&
		    nj_strmap_put(&pv->port_vars, default_port_vars[i][0],
				  (void *)default_port_vars[i][1]) < 0)
			return -1;
	return 0;
}
