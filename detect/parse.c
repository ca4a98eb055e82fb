/* SPDX-License-Identifier: MIT */
/*
 * The rule parser: header (action, protocol, addresses, ports, direction),
 * the option list (name[:value]; with \; \" \\ \: escapes), dispatch to the
 * keyword table, then the whole-rule checks and the compiled form (lists in
 * Suricata's order, the "retry" flags that drive backtracking, the fast
 * pattern). Reasons use Suricata's wording where it has one, so that rule
 * writers recognise them.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules_priv.h"

const char *const nj_detect_action_names[] = {
	"alert", "drop", "pass", "reject", "rejectsrc", "rejectdst", "rejectboth", "config",
};

/* ------------------------------------------------------------ errors */

static int vfail(struct nj_detect_parse *ps, bool unsup, const char *fmt, va_list ap)
{
	int n = 0;

	if (ps->unsupported && !unsup)
		ps->unsupported = false;
	if (ps->kw)
		n = snprintf(ps->err, ps->errlen, "%s: ", ps->kw);
	if (n < 0 || (size_t)n >= ps->errlen)
		n = 0;
	vsnprintf(ps->err + n, ps->errlen - n, fmt, ap);
	ps->unsupported = unsup;
	return -1;
}

int nj_detect_fail(struct nj_detect_parse *ps, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(ps, false, fmt, ap);
	va_end(ap);
	return -1;
}

int nj_detect_unsupported(struct nj_detect_parse *ps, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(ps, true, fmt, ap);
	va_end(ap);
	return -1;
}

/* ------------------------------------------------------------ helpers */

char *nj_detect_trim(char *s)
{
	size_t n;

	while (isspace((unsigned char)*s))
		s++;
	n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

unsigned nj_detect_split(char *s, char sep, char **parts, unsigned max)
{
	unsigned n = 0;
	char *start = s;

	if (!max)
		return 0;
	for (char *p = s;; p++) {
		if (*p == '\\' && p[1]) {
			p++;
			continue;
		}
		if (*p == sep || *p == '\0') {
			bool end = *p == '\0';

			if (n == max - 1 && !end)
				continue; /* the last part takes the rest */
			*p = '\0';
			parts[n++] = nj_detect_trim(start);
			if (end)
				break;
			start = p + 1;
		}
	}
	return n;
}

int nj_detect_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	char *end;
	long long v;

	while (isspace((unsigned char)*s))
		s++;
	if (!*s)
		return -1;
	errno = 0;
	if ((s[0] == '0' && (s[1] == 'x' || s[1] == 'X')))
		v = (long long)strtoull(s, &end, 16);
	else
		v = strtoll(s, &end, 10);
	while (isspace((unsigned char)*end))
		end++;
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

void nj_detect_unescape(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (*s == '\\' && (s[1] == '"' || s[1] == ';' || s[1] == '\\' || s[1] == ':'))
			s++;
		*o++ = *s;
	}
	*o = '\0';
}

int nj_detect_u64_parse(const char *in, uint64_t max, struct nj_detect_u64 *u, char *err,
			size_t errlen)
{
	char buf[128], *s, *sep;
	int64_t a, b;
	bool neg = false;

	snprintf(buf, sizeof(buf), "%s", in);
	s = nj_detect_trim(buf);
	memset(u, 0, sizeof(*u));
	if (*s == '!') {
		neg = true;
		s = nj_detect_trim(s + 1);
	}
	if ((sep = strstr(s, "<>")) || ((sep = strchr(s + 1, '-')) && isdigit((unsigned char)*s))) {
		int seplen = sep[0] == '<' ? 2 : 1;

		*sep = '\0';
		if (nj_detect_parse_i64(s, 0, (int64_t)max, &a) < 0 ||
		    nj_detect_parse_i64(sep + seplen, 0, (int64_t)max, &b) < 0 || a >= b) {
			snprintf(err, errlen, "invalid range: %s", in);
			return -1;
		}
		u->op = neg ? NJ_UOP_NOTRANGE : NJ_UOP_RANGE;
		u->a = (uint64_t)a;
		u->b = (uint64_t)b;
		return 0;
	}
	u->op = NJ_UOP_EQ;
	if (s[0] == '<' && s[1] == '=') {
		u->op = NJ_UOP_LE;
		s += 2;
	} else if (s[0] == '>' && s[1] == '=') {
		u->op = NJ_UOP_GE;
		s += 2;
	} else if (s[0] == '<') {
		u->op = NJ_UOP_LT;
		s++;
	} else if (s[0] == '>') {
		u->op = NJ_UOP_GT;
		s++;
	} else if (s[0] == '=') {
		s++;
	}
	if (nj_detect_parse_i64(s, 0, (int64_t)max, &a) < 0) {
		snprintf(err, errlen, "invalid value: %s", in);
		return -1;
	}
	u->a = (uint64_t)a;
	if (neg) {
		if (u->op != NJ_UOP_EQ) {
			snprintf(err, errlen, "invalid value: %s", in);
			return -1;
		}
		u->op = NJ_UOP_NE;
	}
	if ((u->op == NJ_UOP_LT && u->a == 0) || (u->op == NJ_UOP_GT && u->a == max)) {
		snprintf(err, errlen, "value can never match: %s", in);
		return -1;
	}
	return 0;
}

int64_t nj_detect_u64_max(const struct nj_detect_u64 *u)
{
	switch (u->op) {
	case NJ_UOP_EQ:
	case NJ_UOP_LE: return (int64_t)u->a;
	case NJ_UOP_LT: return (int64_t)u->a - 1;
	case NJ_UOP_RANGE: return (int64_t)u->b;
	default: return -1;
	}
}

/* ------------------------------------------------------------ elements and lists */

static int list_for(struct nj_detect_parse *ps, int base, const struct nj_detect_tf *tf,
		    uint8_t ntf, bool fresh)
{
	for (unsigned i = 0; !fresh && i < ps->nlists; i++)
		if (ps->lists[i].base == base && ps->lists[i].ntf == ntf &&
		    (ntf == 0 || memcmp(ps->lists[i].tf, tf, ntf * sizeof(*tf)) == 0))
			return (int)i;
	if (ps->nlists >= NJ_PS_MAX_LISTS)
		return nj_detect_fail(ps, "too many buffers in one rule");
	ps->lists[ps->nlists].base = (uint16_t)base;
	ps->lists[ps->nlists].ntf = ntf;
	ps->list_absent[ps->nlists] = 0;
	if (ntf)
		memcpy(ps->lists[ps->nlists].tf, tf, ntf * sizeof(*tf));
	return (int)ps->nlists++;
}

static int add_el_list(struct nj_detect_parse *ps, int list, uint8_t type, void *ptr)
{
	if (ps->nel >= NJ_PS_MAX_EL)
		return nj_detect_fail(ps, "too many keywords in one rule");
	struct nj_detect_pel *e = &ps->el[ps->nel];

	e->el.type = type;
	e->el.u.ptr = ptr;
	e->list = (uint16_t)list;
	e->ord = ps->ord++;
	if (type == NJ_EL_CONTENT)
		ps->last_content = (int)ps->nel;
	ps->last_el = (int)ps->nel;
	return (int)ps->nel++;
}

int nj_detect_sticky_list(struct nj_detect_parse *ps)
{
	if (ps->sticky_list < 0) {
		/*
		 * Each use of a multi-instance buffer (file.data, dns.query, ...)
		 * is a list of its own, matched against any instance (Suricata's
		 * multi-capable buffers): "file.data; content:a; file.data;
		 * content:b" matches when a is in one file and b in another.
		 */
		const struct nj_detect_buffer *b = nj_detect_buffer_get((unsigned)ps->sticky);
		bool fresh = b && (b->flags & (NJ_BUFF_MULTI | NJ_BUFF_FILE));
		int list = list_for(ps, ps->sticky, ps->pend_tf, ps->pend_ntf, fresh);

		if (list < 0)
			return -1;
		ps->sticky_list = list;
	}
	return ps->sticky_list;
}

int nj_detect_add_el(struct nj_detect_parse *ps, uint8_t type, void *ptr)
{
	int list;

	if (ps->sticky >= 0) {
		list = nj_detect_sticky_list(ps);
		if (list < 0)
			return -1;
		if (ps->list_absent[list] == NJ_ABSENT)
			return nj_detect_fail(ps,
					      "absent cannot be mixed with keywords on its buffer "
					      "(absent:or_else can)");
	} else {
		list = list_for(ps, NJ_DETECT_BUF_PKT, NULL, 0, false);
		if (list < 0)
			return -1;
	}
	return add_el_list(ps, list, type, ptr);
}

int nj_detect_add_el_to(struct nj_detect_parse *ps, int base, uint8_t type, void *ptr)
{
	int list = list_for(ps, base, NULL, 0, false);

	if (list < 0)
		return -1;
	return add_el_list(ps, list, type, ptr);
}

struct nj_detect_content *nj_detect_last_content(struct nj_detect_parse *ps)
{
	if (ps->last_content < 0) {
		nj_detect_fail(ps,
			       "%s needs preceding content, uricontent option, http_client_body, "
			       "http_server_body, http_header option, http_raw_header option, "
			       "http_method option, http_cookie, http_raw_uri, http_stat_msg, "
			       "http_stat_code, http_user_agent, http_host, http_raw_host or "
			       "file_data/dce_stub_data sticky buffer options.",
			       ps->kw);
		return NULL;
	}
	return ps->el[ps->last_content].el.u.content;
}

int nj_detect_prev_match(const struct nj_detect_parse *ps, int idx)
{
	int best = -1;

	for (unsigned i = 0; i < ps->nel; i++) {
		const struct nj_detect_pel *e = &ps->el[i];

		if ((int)i == idx || e->list != ps->el[idx].list || e->ord > ps->el[idx].ord)
			continue;
		if (e->el.type != NJ_EL_CONTENT && e->el.type != NJ_EL_PCRE)
			continue;
		if (best < 0 || e->ord > ps->el[best].ord)
			best = (int)i;
	}
	return best;
}

int nj_detect_el_base(const struct nj_detect_parse *ps, int idx)
{
	return ps->lists[ps->el[idx].list].base;
}

int nj_detect_cur_base(const struct nj_detect_parse *ps)
{
	return ps->sticky >= 0 ? ps->sticky : NJ_DETECT_BUF_PKT;
}

/* Is the sig's app protocol compatible with one a keyword needs? */
static bool proto_compatible(const char *have, const char *want)
{
	if (strcmp(have, want) == 0)
		return true;
	if (strcmp(want, "http") == 0)
		return strcmp(have, "http1") == 0 || strcmp(have, "http2") == 0;
	if (strcmp(want, "tls") == 0)
		return strcmp(have, "ssl") == 0;
	if (strcmp(want, "dns") == 0)
		return strcmp(have, "doh2") == 0;
	return false;
}

int nj_detect_set_app_proto(struct nj_detect_parse *ps, const char *proto)
{
	struct nj_detect_sig *s = ps->s;

	if (!proto)
		return 0;
	if (s->app_proto) {
		if (proto_compatible(s->app_proto, proto))
			return 0;
		return nj_detect_fail(ps,
				      "rule contains conflicting protocols: protocol %s with a "
				      "%s keyword",
				      s->app_proto, proto);
	}
	s->app_proto = nj_detect_intern(ps->r, proto);
	return s->app_proto ? 0 : nj_detect_fail(ps, "out of memory");
}

int nj_detect_set_sticky(struct nj_detect_parse *ps, int base)
{
	const struct nj_detect_buffer *b = nj_detect_buffer_get((unsigned)base);

	if (b && nj_detect_set_app_proto(ps, b->app_proto) < 0)
		return -1;
	ps->sticky = base;
	ps->sticky_list = -1;
	ps->pend_ntf = 0;
	return 0;
}

int nj_detect_move_last_content(struct nj_detect_parse *ps, int base)
{
	const struct nj_detect_buffer *b = nj_detect_buffer_get((unsigned)base);

	if (ps->last_content < 0)
		return nj_detect_fail(ps, "%s needs preceding content option", ps->kw), -1;
	if (ps->sticky >= 0)
		return nj_detect_fail(ps, "%s rule can not be used with a sticky buffer (%s)",
				      ps->kw, nj_detect_buffer_get((unsigned)ps->sticky)->name);
	struct nj_detect_pel *e = &ps->el[ps->last_content];

	if (ps->lists[e->list].base != NJ_DETECT_BUF_PKT) {
		if (ps->lists[e->list].base == base)
			return 0; /* http_uri twice */
		return nj_detect_fail(ps, "content already has a buffer modifier (%s)",
				      nj_detect_buffer_get(ps->lists[e->list].base)->name);
	}
	if (b && nj_detect_set_app_proto(ps, b->app_proto) < 0)
		return -1;
	int list = list_for(ps, base, NULL, 0, false);

	if (list < 0)
		return -1;
	e->list = (uint16_t)list;
	e->ord = ps->ord++;
	return 0;
}

int nj_detect_add_pm(struct nj_detect_parse *ps, bool (*fn)(const struct nj_pkt *, const void *),
		     const void *ctx)
{
	if (ps->npm >= NJ_PS_MAX_PM)
		return nj_detect_fail(ps, "too many packet keywords");
	ps->pm[ps->npm].fn = fn;
	ps->pm[ps->npm].ctx = ctx;
	ps->pm[ps->npm].kw = ps->kw;
	ps->npm++;
	return 0;
}

int nj_detect_add_txm(struct nj_detect_parse *ps,
		      bool (*fn)(const struct nj_app_parser *, const struct nj_al_tx *, int,
				 const void *),
		      const void *ctx, const char *app_proto)
{
	if (ps->ntxm >= NJ_PS_MAX_PM)
		return nj_detect_fail(ps, "too many transaction keywords");
	ps->txm[ps->ntxm].fn = fn;
	ps->txm[ps->ntxm].ctx = ctx;
	ps->txm[ps->ntxm].kw = ps->kw;
	ps->txm[ps->ntxm].each_dir = false;
	ps->ntxm++;
	return app_proto ? nj_detect_set_app_proto(ps, app_proto) : 0;
}

int nj_detect_add_txm_eachdir(struct nj_detect_parse *ps,
			      bool (*fn)(const struct nj_app_parser *, const struct nj_al_tx *, int,
					 const void *),
			      const void *ctx, const char *app_proto)
{
	int r = nj_detect_add_txm(ps, fn, ctx, app_proto);

	if (r == 0)
		ps->txm[ps->ntxm - 1].each_dir = true;
	return r;
}

int nj_detect_var_find(const struct nj_detect_parse *ps, const char *name)
{
	for (unsigned i = 0; i < ps->nvars; i++)
		if (strcmp(ps->vars[i], name) == 0)
			return (int)i;
	return -1;
}

int nj_detect_var_add(struct nj_detect_parse *ps, const char *name)
{
	int i = nj_detect_var_find(ps, name);

	if (i >= 0)
		return i;
	if (ps->nvars >= NJ_DETECT_MAX_VARS)
		return nj_detect_fail(ps, "too many byte_extract/byte_math variables");
	ps->vars[ps->nvars] = nj_detect_strdup(ps->r, name);
	if (!ps->vars[ps->nvars])
		return nj_detect_fail(ps, "out of memory");
	return (int)ps->nvars++;
}

/* ------------------------------------------------------------ header */

struct proto_def {
	const char *name;
	const char *app;   /* app-layer protocol, NULL none */
	uint8_t tcp, udp;  /* transport for app protocols */
	uint8_t only;	   /* single IP protocol (tcp 6 ...), 0 = see below */
	uint32_t sigflags; /* NJ_SIG_* */
};

static const struct proto_def protos[] = {
	{"ip", NULL, 0, 0, 0, 0},
	{"pkthdr", NULL, 0, 0, 0, 0},
	{"ipv4", NULL, 0, 0, 0, NJ_SIG_IPV4_ONLY},
	{"ip4", NULL, 0, 0, 0, NJ_SIG_IPV4_ONLY},
	{"ipv6", NULL, 0, 0, 0, NJ_SIG_IPV6_ONLY},
	{"ip6", NULL, 0, 0, 0, NJ_SIG_IPV6_ONLY},
	{"tcp", NULL, 1, 0, 0, 0},
	{"tcp-pkt", NULL, 1, 0, 0, 0},
	{"tcp-stream", NULL, 1, 0, 0, 0},
	{"udp", NULL, 0, 1, 0, 0},
	{"icmp", NULL, 0, 0, 1, 0},
	{"icmpv4", NULL, 0, 0, 1, NJ_SIG_IPV4_ONLY},
	{"icmpv6", NULL, 0, 0, 58, NJ_SIG_IPV6_ONLY},
	{"sctp", NULL, 0, 0, 132, 0},
	{"http", "http", 1, 0, 0, 0},
	{"http1", "http1", 1, 0, 0, 0},
	{"http2", "http2", 1, 0, 0, 0},
	{"ftp", "ftp", 1, 0, 0, 0},
	{"ftp-data", "ftp-data", 1, 0, 0, 0},
	{"smtp", "smtp", 1, 0, 0, 0},
	{"tls", "tls", 1, 0, 0, 0},
	{"ssl", "tls", 1, 0, 0, 0},
	{"ssh", "ssh", 1, 0, 0, 0},
	{"imap", "imap", 1, 0, 0, 0},
	{"pop3", "pop3", 1, 0, 0, 0},
	{"dns", "dns", 1, 1, 0, 0},
	{"doh2", "doh2", 1, 0, 0, 0},
	{"smb", "smb", 1, 0, 0, 0},
	{"dcerpc", "dcerpc", 1, 1, 0, 0},
	{"nfs", "nfs", 1, 1, 0, 0},
	{"krb5", "krb5", 1, 1, 0, 0},
	{"ntp", "ntp", 0, 1, 0, 0},
	{"dhcp", "dhcp", 0, 1, 0, 0},
	{"tftp", "tftp", 0, 1, 0, 0},
	{"snmp", "snmp", 1, 1, 0, 0},
	{"sip", "sip", 1, 1, 0, 0},
	{"rdp", "rdp", 1, 0, 0, 0},
	{"rfb", "rfb", 1, 0, 0, 0},
	{"mqtt", "mqtt", 1, 0, 0, 0},
	{"ike", "ike", 0, 1, 0, 0},
	{"ikev2", "ike", 0, 1, 0, 0},
	{"quic", "quic", 0, 1, 0, 0},
	{"modbus", "modbus", 1, 0, 0, 0},
	{"dnp3", "dnp3", 1, 0, 0, 0},
	{"enip", "enip", 1, 1, 0, 0},
	{"pgsql", "pgsql", 1, 0, 0, 0},
	{"telnet", "telnet", 1, 0, 0, 0},
	{"ldap", "ldap", 1, 1, 0, 0},
	{"websocket", "websocket", 1, 0, 0, 0},
	{"irc", "irc", 1, 0, 0, 0},
	{"bittorrent-dht", "bittorrent-dht", 0, 1, 0, 0},
};

static void bit_set(uint8_t *set, unsigned b)
{
	set[b / 8] |= (uint8_t)(1u << (b % 8));
}

static int header_proto(struct nj_detect_parse *ps, const char *name)
{
	struct nj_detect_sig *s = ps->s;
	const struct proto_def *d = NULL;

	for (size_t i = 0; i < NJ_ARRAY_SIZE(protos); i++)
		if (strcasecmp(protos[i].name, name) == 0)
			d = &protos[i];
	if (!d)
		return nj_detect_fail(ps, "protocol \"%s\" cannot be used in a signature", name);
	s->flags |= d->sigflags;
	if (!d->tcp && !d->udp && !d->only) {
		memset(s->ipproto, 0xff, sizeof(s->ipproto));
	} else {
		if (d->tcp)
			bit_set(s->ipproto, 6);
		if (d->udp)
			bit_set(s->ipproto, 17);
		if (d->only) {
			bit_set(s->ipproto, d->only);
			if (d->only == 1 && !(d->sigflags & NJ_SIG_IPV4_ONLY))
				bit_set(s->ipproto, 58); /* icmp: both versions */
		}
	}
	if (d->app) {
		s->app_proto = nj_detect_intern(ps->r, d->app);
		ps->app_set_by_header = true;
	}
	if (strcmp(name, "tcp-pkt") == 0)
		ps->pkt_proto = "pkt";
	else if (strcmp(name, "tcp-stream") == 0)
		ps->pkt_proto = "stream";
	return 0;
}

/* Next header token: whitespace-separated, brackets keep spaces together. */
static char *header_token(char **pp)
{
	char *p = *pp, *start;
	int level = 0;

	while (isspace((unsigned char)*p))
		p++;
	if (!*p)
		return NULL;
	start = p;
	for (; *p; p++) {
		if (*p == '[')
			level++;
		else if (*p == ']')
			level--;
		else if (level <= 0 && isspace((unsigned char)*p))
			break;
	}
	if (*p)
		*p++ = '\0';
	*pp = p;
	return start;
}

static int parse_header(struct nj_detect_parse *ps, char **pp)
{
	struct nj_detect_sig *s = ps->s;
	char *tok[7];
	unsigned i;

	for (i = 0; i < 7; i++) {
		char *t = header_token(pp);

		if (!t)
			break;
		tok[i] = t;
	}
	if (i == 1 && strcmp(tok[0], "config") != 0)
		return nj_detect_fail(ps, "no rule options: incomplete header");
	if (i < 7)
		return nj_detect_fail(ps,
				      "invalid header: expected action, protocol, source, source "
				      "port, direction, destination, destination port");
	for (i = 0; i < NJ_ARRAY_SIZE(nj_detect_action_names); i++)
		if (strcmp(tok[0], nj_detect_action_names[i]) == 0)
			break;
	if (i == NJ_ARRAY_SIZE(nj_detect_action_names))
		return nj_detect_fail(ps, "unknown action \"%s\"", tok[0]);
	s->action = (uint8_t)i;
	if (header_proto(ps, tok[1]) < 0)
		return -1;
	/* => (Suricata 8 transactional): request buffers and response buffers of one
	 * transaction; the addresses are the flow's, as with -> */
	if (strcmp(tok[4], "->") == 0 || strcmp(tok[4], "=>") == 0)
		;
	else if (strcmp(tok[4], "<>") == 0)
		s->flags |= NJ_SIG_BIDIR;
	else
		return nj_detect_fail(ps, "invalid direction \"%s\" (-> or <>)", tok[4]);

	char err[256];

	s->src = nj_detect_addrs_get(ps->r, tok[2], err, sizeof(err));
	if (!s->src)
		return nj_detect_fail(ps, "source address: %s", err);
	s->dst = nj_detect_addrs_get(ps->r, tok[5], err, sizeof(err));
	if (!s->dst)
		return nj_detect_fail(ps, "destination address: %s", err);
	s->sp = nj_detect_ports_get(ps->r, tok[3], err, sizeof(err));
	if (!s->sp)
		return nj_detect_fail(ps, "source port: %s", err);
	s->dp = nj_detect_ports_get(ps->r, tok[6], err, sizeof(err));
	if (!s->dp)
		return nj_detect_fail(ps, "destination port: %s", err);
	return 0;
}

/* ------------------------------------------------------------ options */

static bool valid_kw_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '.' && *s != '-')
			return false;
	return true;
}

/* Strips the quotes of a quoted value; checks escapes and trailing text. */
static int unquote(struct nj_detect_parse *ps, char **pv, bool required, bool *negated)
{
	char *v = *pv;
	size_t n;

	*negated = false;
	if (*v == '!' && required) {
		*negated = true;
		v = nj_detect_trim(v + 1);
	}
	n = strlen(v);
	if (v[0] != '"' && v[0] == '/' && strcmp(ps->kw, "pcre") == 0) {
		/* Suricata also takes an unquoted regex: pcre:/one/U; */
		*pv = v;
		return 0;
	}
	if (v[0] != '"') {
		if (required)
			return nj_detect_fail(ps,
					      "invalid formatting to %s keyword: value must be "
					      "double quoted '%s'",
					      ps->kw, ps->kw);
		return 0;
	}
	if (n < 2 || v[n - 1] != '"' || (n >= 3 && v[n - 2] == '\\' && (n < 4 || v[n - 3] != '\\')))
		return nj_detect_fail(ps,
				      "bad option value formatting (possible missing semicolon) "
				      "for keyword %s: '%s'",
				      ps->kw, *pv);
	v[n - 1] = '\0';
	v++;
	for (char *p = v; strcmp(ps->kw, "pcre") != 0 && *p; p++) {
		if (*p == '\\' && p[1]) {
			p++;
			continue;
		}
		if (*p == '"')
			return nj_detect_fail(ps, "Invalid unescaped double quote within content "
						  "section.");
	}
	*pv = v;
	return 0;
}

static int parse_options(struct nj_detect_parse *ps, char *p)
{
	for (;;) {
		char *name, *value = NULL;

		while (isspace((unsigned char)*p))
			p++;
		if (!*p)
			return 0;
		name = p;
		while (*p && *p != ':' && *p != ';')
			p++;
		if (!*p)
			return nj_detect_fail(ps, "no terminating \";\" found");
		if (*p == ':') {
			*p++ = '\0';
			value = p;
			for (; *p; p++) {
				if (*p == '\\' && p[1]) {
					p++;
					continue;
				}
				if (*p == ';')
					break;
			}
			if (!*p)
				return nj_detect_fail(ps, "no terminating \";\" found");
			*p++ = '\0';
			value = nj_detect_trim(value);
		} else {
			*p++ = '\0';
		}
		name = nj_detect_trim(name);
		ps->kw = NULL;
		if (!valid_kw_name(name))
			return nj_detect_fail(ps, "unknown rule keyword '%s'.", name);

		const struct nj_detect_keyword *kw = nj_detect_keyword_find(name);

		if (!kw)
			return nj_detect_unsupported(ps, "unsupported keyword %s", name);
		ps->kw = kw->name;
		if (kw->flags & NJ_KWF_UNSUPPORTED)
			return nj_detect_unsupported(ps, "unsupported keyword %s", kw->name);
		if (value && !*value && !(kw->flags & NJ_KWF_OPTVALUE))
			value = NULL;
		if (value && (kw->flags & NJ_KWF_NOVALUE))
			return nj_detect_fail(ps, "%s does not take a value: '%s'", kw->name,
					      value);
		if (!value && (kw->flags & NJ_KWF_VALUE))
			return nj_detect_fail(ps,
					      "invalid formatting or malformed option to %s "
					      "keyword: '%s'",
					      kw->name, name);
		ps->negated = false;
		if (value && (kw->flags & (NJ_KWF_QUOTED | NJ_KWF_STRIP_QUOTES))) {
			bool neg;

			if (unquote(ps, &value, kw->flags & NJ_KWF_QUOTED, &neg) < 0)
				return -1;
			ps->negated = neg;
		}
		if ((kw->flags & NJ_KWF_TRANSFORM) && kw->parse == NULL)
			return nj_detect_unsupported(ps, "unsupported transform %s", kw->name);
		if (kw->parse && kw->parse(ps, kw, value) < 0)
			return -1;
	}
}

/* ------------------------------------------------------------ finishing */

/* Required length of a list's contents (Suricata's estimate for dsize/bsize checks). */
static void required_len(struct nj_detect_parse *ps, unsigned list, int64_t *len, int64_t *off)
{
	bool first = true;

	*len = 0;
	*off = 0;
	for (unsigned i = 0; i < ps->nel; i++) {
		const struct nj_detect_pel *e = &ps->el[i];

		if (e->list != list || e->el.type != NJ_EL_CONTENT)
			continue;
		const struct nj_detect_content *c = e->el.u.content;

		/* as Suricata: after the first, only relative contents add to the length */
		if (!first && !(c->flags & (NJ_CF_DISTANCE | NJ_CF_WITHIN)))
			continue;
		first = false;

		if ((c->flags & NJ_CF_NEGATED) && (c->flags & NJ_CF_WITHIN) &&
		    !(c->flags & NJ_CF_WITHIN_VAR) && (uint32_t)c->within == c->len)
			continue;
		if ((c->flags & NJ_CF_WITHIN) && !(c->flags & NJ_CF_WITHIN_VAR))
			*len += c->within;
		else
			*len += c->len + ((c->flags & NJ_CF_DISTANCE) &&
							  !(c->flags & NJ_CF_DIST_VAR) &&
							  c->distance > 0
						  ? c->distance
						  : 0);
		if ((c->flags & NJ_CF_OFFSET) && !(c->flags & NJ_CF_OFFSET_VAR) && c->offset > *off)
			*off = c->offset;
	}
}

static bool has_upper(const uint8_t *p, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (p[i] >= 'A' && p[i] <= 'Z')
			return true;
	return false;
}

static int cmp_ord(const void *a, const void *b)
{
	const struct nj_detect_pel *x = *(const struct nj_detect_pel *const *)a;
	const struct nj_detect_pel *y = *(const struct nj_detect_pel *const *)b;

	return x->ord < y->ord ? -1 : x->ord > y->ord;
}

static bool el_is_relative(const struct nj_detect_el *e)
{
	switch (e->type) {
	case NJ_EL_CONTENT: return e->u.content->flags & (NJ_CF_DISTANCE | NJ_CF_WITHIN);
	case NJ_EL_PCRE: return e->u.pcre->flags & NJ_PCRE_RELATIVE;
	case NJ_EL_BYTE_TEST:
	case NJ_EL_BYTE_JUMP:
	case NJ_EL_BYTE_EXTRACT:
	case NJ_EL_BYTE_MATH: return e->u.byte->flags & NJ_BF_RELATIVE;
	case NJ_EL_ISDATAAT: return e->u.isdataat->flags & NJ_IDA_RELATIVE;
	case NJ_EL_B64DECODE: return e->u.b64->relative;
	default: return false;
	}
}

/* Sets the flags by which a content/pcre retries later occurrences (as
 * Suricata's *_NEXT flags): within, negated-distance and relative
 * byte/isdataat/pcre followers make the previous content retry. */
static void set_retry_flags(struct nj_detect_list *l)
{
	for (unsigned i = 0; i < l->n; i++) {
		const struct nj_detect_el *e = &l->el[i];
		int prev = -1;

		if (!el_is_relative(e))
			continue;
		for (int j = (int)i - 1; j >= 0; j--) {
			if (l->el[j].type == NJ_EL_B64DATA)
				break; /* another buffer before it */
			if (l->el[j].type == NJ_EL_CONTENT || l->el[j].type == NJ_EL_PCRE) {
				prev = j;
				break;
			}
		}
		if (prev < 0)
			continue;
		struct nj_detect_el *p = &l->el[prev];
		bool retry = true;

		if (e->type == NJ_EL_CONTENT) {
			const struct nj_detect_content *c = e->u.content;

			/* distance alone on a positive content: a later occurrence of
			 * the previous one cannot help */
			if (!(c->flags & NJ_CF_WITHIN) && !(c->flags & NJ_CF_NEGATED))
				retry = false;
		}
		if (p->type == NJ_EL_PCRE) {
			p->u.pcre->flags |= NJ_PCRE_RETRY;
		} else if (retry) {
			p->u.content->flags |= NJ_CF_RETRY;
		} else {
			p->u.content->flags |= NJ_CF_DIST_NEXT;
		}
	}
}

static void choose_fast_pattern(struct nj_detect_sig *s, struct nj_detect_rules *r)
{
	const struct nj_detect_content *best = NULL;
	unsigned bl = 0, be = 0;
	uint32_t best_len = 0;
	bool explicit_fp = false;

	for (unsigned li = 0; li < s->nlists; li++) {
		const struct nj_detect_list *l = &s->lists[li];

		for (unsigned ei = 0; ei < l->n; ei++) {
			const struct nj_detect_content *c;
			uint32_t len;

			if (l->el[ei].type == NJ_EL_B64DATA)
				break; /* decoded data: not in the buffer the prefilter scans */
			if (l->el[ei].type != NJ_EL_CONTENT)
				continue;
			c = l->el[ei].u.content;
			if (c->flags & NJ_CF_FP) {
				best = c;
				bl = li;
				be = ei;
				explicit_fp = true;
				goto found;
			}
			if (c->flags & NJ_CF_NEGATED)
				continue;
			len = c->len;
			/* prefer app-layer buffers on ties: they are inspected less often */
			if (!best || len > best_len ||
			    (len == best_len && s->lists[bl].inst != l->inst &&
			     r->inst[s->lists[bl].inst].base == NJ_DETECT_BUF_PKT)) {
				best = c;
				best_len = len;
				bl = li;
				be = ei;
			}
		}
	}
	if (!best) {
		s->flags |= NJ_SIG_PREFILTER_ALL;
		return;
	}
found:
	s->fp.inst = s->lists[bl].inst;
	s->fp.list = (uint16_t)bl;
	s->fp.el = (uint16_t)be;
	s->fp.nocase = best->flags & NJ_CF_NOCASE;
	s->fp.bytes = best->bytes;
	s->fp.len = best->len;
	if (best->flags & NJ_CF_FP_CHOP) {
		s->fp.bytes = best->bytes + best->chop_off;
		s->fp.len = best->chop_len;
	} else if (!(best->flags &
		     (NJ_CF_DISTANCE | NJ_CF_WITHIN | NJ_CF_OFFSET_VAR | NJ_CF_DEPTH_VAR))) {
		s->fp.offset = (best->flags & NJ_CF_OFFSET) ? (uint32_t)best->offset : 0;
		s->fp.depth = (best->flags & NJ_CF_DEPTH) ? (uint32_t)best->depth : 0;
	}
	if (explicit_fp && (best->flags & NJ_CF_NEGATED)) {
		s->fp.negated_only = true;
		s->flags |= NJ_SIG_PREFILTER_ALL;
	}
}

static int bitops_check(struct nj_detect_parse *ps)
{
	for (unsigned i = 0; i < ps->nbitops; i++) {
		for (unsigned j = 0; j < ps->nbitops; j++) {
			const struct nj_detect_bitop *a = &ps->bitops[i], *b = &ps->bitops[j];

			if (i == j || a->cmd != NJ_BIT_ISSET || b->cmd != NJ_BIT_ISNOTSET)
				continue;
			for (unsigned x = 0; x < a->n; x++)
				for (unsigned y = 0; y < b->n; y++)
					if (a->ids[x] == b->ids[y] && a->n == 1 && b->n == 1) {
						ps->kw = "flowbits";
						return nj_detect_fail(
							ps,
							"invalid flowbit command combination in "
							"the same signature: isset and isnotset");
					}
		}
	}
	return 0;
}

int nj_detect_sig_finish(struct nj_detect_parse *ps)
{
	struct nj_detect_sig *s = ps->s;
	struct nj_detect_rules *r = ps->r;
	struct nj_detect_pel *order[NJ_PS_MAX_EL];

	ps->kw = NULL;
	if (!ps->has_sid)
		return nj_detect_fail(ps, "Signature missing required value \"sid\".");

	/* payload inspection modes */
	if (ps->pkt_proto && strcmp(ps->pkt_proto, "pkt") == 0)
		s->flags |= NJ_SIG_MATCH_PKT;
	else if (ps->pkt_proto)
		s->flags |= NJ_SIG_MATCH_STREAM;
	else if (s->flow_flags & NJ_FLOW_ONLY_STREAM)
		s->flags |= NJ_SIG_MATCH_STREAM;
	else if (s->flow_flags & NJ_FLOW_NO_STREAM)
		s->flags |= NJ_SIG_MATCH_PKT;
	else
		s->flags |= NJ_SIG_MATCH_PKT | NJ_SIG_MATCH_STREAM;
	if (s->flow_flags & NJ_FLOW_TOSERVER)
		s->flags |= NJ_SIG_TOSERVER;
	if (s->flow_flags & NJ_FLOW_TOCLIENT)
		s->flags |= NJ_SIG_TOCLIENT;
	if (s->flow_flags || s->app_proto || ps->nbitops || ps->nintops)
		s->flags |= NJ_SIG_NEEDS_FLOW;

	/* lists in first-use order, elements in Suricata's order */
	s->nlists = 0;
	s->lists = nj_detect_alloc(r, (ps->nlists + 1) * sizeof(*s->lists));
	if (!s->lists)
		return nj_detect_fail(ps, "out of memory");
	for (unsigned li = 0; li < ps->nlists; li++) {
		unsigned n = 0;

		for (unsigned i = 0; i < ps->nel; i++)
			if (ps->el[i].list == li)
				order[n++] = &ps->el[i];
		if (!n && !ps->list_absent[li])
			continue;
		if (n)
			qsort(order, n, sizeof(order[0]), cmp_ord);

		struct nj_detect_list *l = &s->lists[s->nlists];
		const struct nj_detect_buffer *b = nj_detect_buffer_get(ps->lists[li].base);
		int inst = nj_detect_inst_get(r, &ps->lists[li]);

		if (inst < 0)
			return nj_detect_fail(ps, "out of memory");
		l->inst = (uint16_t)inst;
		l->absent = ps->list_absent[li];
		l->n = (uint16_t)n;
		l->el = nj_detect_alloc(r, (n ? n : 1) * sizeof(*l->el));
		if (!l->el)
			return nj_detect_fail(ps, "out of memory");
		for (unsigned i = 0; i < n; i++) {
			l->el[i] = order[i]->el;
			if (l->el[i].type == NJ_EL_CONTENT) {
				struct nj_detect_content *c = l->el[i].u.content;

				/* depth counts from offset (Suricata), unless a variable */
				if ((c->flags & NJ_CF_DEPTH) && (c->flags & NJ_CF_OFFSET) &&
				    !(c->flags & (NJ_CF_DEPTH_VAR | NJ_CF_OFFSET_VAR)))
					c->depth += c->offset;
				if (nj_detect_content_prepare(r, c) < 0)
					return nj_detect_fail(ps, "out of memory");
			}
		}

		/* checks per list */
		for (unsigned i = 0; i < n; i++) {
			const struct nj_detect_el *e = &l->el[i];

			if (e->type == NJ_EL_PCRE && (e->u.pcre->flags & NJ_PCRE_RELATIVE) &&
			    ps->lists[li].base == NJ_DETECT_BUF_PKT) {
				bool prev = false;

				for (unsigned j = 0; j < i; j++)
					prev |= l->el[j].type == NJ_EL_CONTENT ||
						l->el[j].type == NJ_EL_PCRE;
				if (!prev) {
					ps->kw = "pcre";
					return nj_detect_fail(ps, "pcre with /R (relative) needs "
								  "preceding match in the same "
								  "buffer");
				}
			}
			if (e->type == NJ_EL_CONTENT && b && (b->flags & NJ_BUFF_LOWERCASE) &&
			    ps->lists[li].ntf == 0 && !(e->u.content->flags & NJ_CF_NOCASE) &&
			    has_upper(e->u.content->bytes, e->u.content->len)) {
				ps->kw = "content";
				return nj_detect_fail(
					ps,
					"rule %u: A pattern with uppercase characters detected "
					"for %s. The hostname buffer is normalized "
					"to lowercase, please specify a lowercase "
					"pattern.",
					ps->s->sid, b->name);
			}
			if (e->type == NJ_EL_BSIZE || e->type == NJ_EL_URILEN) {
				int64_t mx = nj_detect_u64_max(e->u.size), len, off;

				required_len(ps, li, &len, &off);
				if (mx >= 0 && (len > mx || len + off > mx)) {
					ps->kw = e->type == NJ_EL_BSIZE ? "bsize" : "urilen";
					/* Suricata's wording names the rule's own value(s) */
					if (e->u.size->op == NJ_UOP_RANGE)
						return nj_detect_fail(
							ps,
							"signature can't match as required "
							"content length %lld exceeds %s "
							"range: %llu-%llu",
							(long long)(len > mx ? len : len + off),
							ps->kw, (unsigned long long)e->u.size->a,
							(unsigned long long)e->u.size->b);
					return nj_detect_fail(
						ps,
						"signature can't match as required "
						"content length %lld exceeds %s "
						"value: %llu",
						(long long)(len > mx ? len : len + off), ps->kw,
						(unsigned long long)e->u.size->a);
				}
			}
		}
		if (ps->lists[li].base != NJ_DETECT_BUF_PKT &&
		    ps->lists[li].base != NJ_DETECT_BUF_STREAM && b && !(b->flags & NJ_BUFF_PACKET))
			s->flags |= NJ_SIG_APPLAYER;
		if (b && (b->flags & (NJ_BUFF_TOSERVER | NJ_BUFF_TOCLIENT)) == NJ_BUFF_TOSERVER)
			s->flags |= NJ_SIG_TOSERVER;
		if (b && (b->flags & (NJ_BUFF_TOSERVER | NJ_BUFF_TOCLIENT)) == NJ_BUFF_TOCLIENT)
			s->flags |= NJ_SIG_TOCLIENT;
		set_retry_flags(l);
		s->nlists++;
	}

	/* dsize against the payload's contents */
	if (ps->has_dsize) {
		int64_t mx = nj_detect_u64_max(&ps->dsize), len = 0, off = 0;

		for (unsigned li = 0; li < ps->nlists; li++)
			if (ps->lists[li].base == NJ_DETECT_BUF_PKT && ps->lists[li].ntf == 0)
				required_len(ps, li, &len, &off);
		if (mx >= 0 && (len > mx || len + off > mx)) {
			ps->kw = "dsize";
			return nj_detect_fail(ps,
					      "signature can't match as required content length "
					      "%lld exceeds dsize value %lld",
					      (long long)(len > mx ? len : len + off),
					      (long long)mx);
		}
	}
	if (bitops_check(ps) < 0)
		return -1;

	s->nvars = (uint8_t)ps->nvars;
	if (ps->nvars > r->max_vars)
		r->max_vars = (uint8_t)ps->nvars;

		/* copy the small arrays into the arena */
#define COPY_ARR(dst, src, n)                                                 \
	do {                                                                  \
		if (n) {                                                      \
			dst = nj_detect_memdup(r, src, (n) * sizeof(*(src))); \
			if (!dst)                                             \
				return nj_detect_fail(ps, "out of memory");   \
		}                                                             \
	} while (0)
	COPY_ARR(s->pm, ps->pm, ps->npm);
	s->npm = (uint16_t)ps->npm;
	COPY_ARR(s->txm, ps->txm, ps->ntxm);
	s->ntxm = (uint16_t)ps->ntxm;
	if (s->ntxm)
		s->flags |= NJ_SIG_APPLAYER;
	COPY_ARR(s->bitops, ps->bitops, ps->nbitops);
	s->nbitops = (uint16_t)ps->nbitops;
	COPY_ARR(s->xbitops, ps->xbitops, ps->nxbitops);
	s->nxbitops = (uint16_t)ps->nxbitops;
	COPY_ARR(s->intops, ps->intops, ps->nintops);
	s->nintops = (uint16_t)ps->nintops;
	COPY_ARR(s->refs, ps->refs, ps->nrefs);
	s->nrefs = (uint16_t)ps->nrefs;
	COPY_ARR(s->meta, ps->meta, ps->nmeta);
	s->nmeta = (uint16_t)ps->nmeta;
	COPY_ARR(s->deferred, ps->deferred, ps->ndeferred);
	s->ndeferred = (uint16_t)ps->ndeferred;
#undef COPY_ARR
	if (!ps->has_priority)
		s->priority = s->classtype ? r->classes[s->classtype].priority : 3;
	choose_fast_pattern(s, r);
	return 0;
}

/* ------------------------------------------------------------ one rule */

static struct nj_detect_parse *ps_get(void)
{
	static __thread struct nj_detect_parse *ps;

	if (!ps)
		ps = calloc(1, sizeof(*ps));
	return ps;
}

struct nj_detect_sig *nj_detect_parse_rule(struct nj_detect_rules *r, const char *text, char *err,
					   size_t errlen, bool *skipped)
{
	struct nj_detect_parse *ps = ps_get();
	struct nj_detect_priv *pv = nj_detect_priv(r);
	struct nj_detect_sig *s;
	char *buf, *p, *end, *opts;

	*skipped = false;
	if (!ps) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s = nj_detect_alloc(r, sizeof(*s));
	buf = strdup(text);
	if (!s || !buf) {
		free(buf);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	/* reset only what the previous rule used */
	ps->r = r;
	ps->s = s;
	ps->err = err;
	ps->errlen = errlen;
	ps->unsupported = false;
	ps->kw = NULL;
	ps->nlists = ps->nel = ps->nvars = ps->npm = ps->ntxm = 0;
	ps->nbitops = ps->nxbitops = ps->nintops = ps->nrefs = ps->nmeta = 0;
	ps->ndeferred = 0;
	ps->nsmbver = 0;
	ps->has_flow = ps->has_threshold = false;
	ps->ord = 0;
	ps->sticky = ps->sticky_list = -1;
	ps->pend_ntf = 0;
	ps->last_content = ps->last_el = -1;
	ps->has_sid = ps->has_rev = ps->has_gid = ps->has_classtype = ps->has_priority = false;
	ps->has_msg = ps->has_dsize = ps->has_fp = ps->app_set_by_header = false;
	ps->pkt_proto = NULL;
	err[0] = '\0';

	s->gid = 1;
	s->file = pv->cur_file;
	s->line = pv->cur_line;
	p = nj_detect_trim(buf);
	opts = strchr(p, '(');
	if (!opts) {
		nj_detect_fail(ps, "no rule options: expected '(' after the header");
		goto out_fail;
	}
	*opts = '\0';
	if (parse_header(ps, &p) < 0)
		goto out_fail;
	if (header_token(&p)) {
		nj_detect_fail(ps, "invalid header: extra text before the options");
		goto out_fail;
	}
	p = opts;
	end = p + 1 + strlen(p + 1);
	if (end == p + 1) {
		nj_detect_fail(ps, "no terminating ')' for the rule options");
		goto out_fail;
	}
	if (end[-1] != ')') {
		nj_detect_fail(ps, "no terminating ')' for the rule options");
		goto out_fail;
	}
	end[-1] = '\0';
	if (parse_options(ps, p + 1) < 0)
		goto out_fail;
	if (nj_detect_sig_finish(ps) < 0)
		goto out_fail;
	s->raw = nj_detect_strdup(r, text);
	free(buf);
	return s;
out_fail:
	*skipped = ps->unsupported;
	free(buf);
	return NULL;
}

/* The sid of a rule that failed, for the message (-1 if none found). */
long nj_detect_guess_sid(const char *text)
{
	const char *p = text;

	while ((p = strstr(p, "sid")) != NULL) {
		if ((p == text || p[-1] == ';' || p[-1] == ' ' || p[-1] == '(' || p[-1] == '\t')) {
			const char *q = p + 3;

			while (*q == ' ')
				q++;
			if (*q == ':')
				return strtol(q + 1, NULL, 10);
		}
		p += 3;
	}
	return -1;
}
