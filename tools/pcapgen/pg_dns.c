/* SPDX-License-Identifier: MIT */
/*
 * DNS over UDP (A, AAAA, CNAME chains, MX, TXT, NXDOMAIN with SOA; answers
 * use name compression) and DNS over TCP (length-prefixed, large TXT).
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <string.h>

#include "pg.h"
#include "pg_ep.h"

enum { Q_A = 1, Q_NS = 2, Q_CNAME = 5, Q_SOA = 6, Q_MX = 15, Q_TXT = 16, Q_AAAA = 28, Q_OPT = 41 };

struct dns_st {
	int nq;
	int i;
	bool resp_next;
	uint16_t id;
	uint16_t qtype;
	int kind;
	char qname[128];
	char results[256]; /* the answer as Sysmon's QueryResults shows it */
	struct pg_buf q;
	struct pg_buf r;
};

static const char *const domains[] = {
	"example.com",
	"example.org",
	"example.net",
	"weather-report.io",
	"daily-courier.com",
	"green-garden.store",
	"northwind-traders.com",
	"contoso-health.org",
	"photo-share.net",
	"fabrikam.dev",
	"identity-hub.com",
	"softvendor.com",
	"opensource-mirror.org",
	"streamcast.tv",
	"metrics-cloud.io",
	"citylibrary.org",
	"techjournal.dev",
	"cloudbox-storage.com",
	"adnetwork-exchange.com",
	"appvendor.net",
	"travel-planner.com",
	"service-health.io",
	"package-index.org",
	"university-online.edu",
};

static const char *const hosts[] = {
	"www",	"api",	  "cdn",    "mail",	 "static", "login",  "img",  "update",
	"docs", "portal", "assets", "telemetry", "push",   "status", "shop", "m",
};

const char *pg_dns_random_name(struct pg_rng *r)
{
	return PG_PICK(r, domains);
}

/* Append a name in label form; returns the offset where it starts. */
static size_t put_name(struct pg_buf *b, const char *name, bool terminate)
{
	size_t start = b->len;

	while (*name) {
		const char *dot = strchr(name, '.');
		size_t l = dot ? (size_t)(dot - name) : strlen(name);

		if (l > 63)
			l = 63;
		pg_buf_u8(b, (uint8_t)l);
		pg_buf_put(b, name, l);
		name += l;
		if (*name == '.')
			name++;
	}
	if (terminate)
		pg_buf_u8(b, 0);
	return start;
}

static void put_ptr(struct pg_buf *b, size_t off)
{
	pg_buf_be16(b, (uint16_t)(0xc000 | off));
}

/* Resource record header with a compressed owner; returns the rdlength offset. */
static size_t rr_begin(struct pg_buf *b, size_t owner, uint16_t type, uint32_t ttl)
{
	size_t rdl;

	put_ptr(b, owner);
	pg_buf_be16(b, type);
	pg_buf_be16(b, 1);
	pg_buf_be32(b, ttl);
	rdl = b->len;
	pg_buf_be16(b, 0);
	return rdl;
}

static void rr_end(struct pg_buf *b, size_t rdl)
{
	pg_put_be16(b->p + rdl, (uint16_t)(b->len - rdl - 2));
}

static void put_opt(struct pg_buf *b)
{
	pg_buf_u8(b, 0);
	pg_buf_be16(b, Q_OPT);
	pg_buf_be16(b, 1232);
	pg_buf_be32(b, 0);
	pg_buf_be16(b, 0);
}

static void put_header(struct pg_buf *b, uint16_t id, uint16_t flags, uint16_t qd, uint16_t an,
		       uint16_t ns, uint16_t ar)
{
	pg_buf_be16(b, id);
	pg_buf_be16(b, flags);
	pg_buf_be16(b, qd);
	pg_buf_be16(b, an);
	pg_buf_be16(b, ns);
	pg_buf_be16(b, ar);
}

/* Offset of the registrable domain (last two labels) inside the name at off. */
static size_t zone_off(const char *qname, size_t off)
{
	const char *p = qname, *last = NULL, *prev = NULL;

	for (const char *d = strchr(p, '.'); d; d = strchr(d + 1, '.')) {
		prev = last;
		last = d;
	}
	if (!prev)
		return off;
	return off + (size_t)(prev + 1 - qname);
}

static void res_add(struct dns_st *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void res_add(struct dns_st *s, const char *fmt, ...)
{
	size_t l = strlen(s->results);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->results + l, sizeof(s->results) - l, fmt, ap);
	va_end(ap);
}

static void res_v4(struct dns_st *s, uint32_t ip)
{
	res_add(s, "::ffff:%u.%u.%u.%u;", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff);
}

enum { D_A = 0, D_AAAA, D_CNAME, D_MX, D_TXT, D_NX, D_TXT_BIG };

static void dns_build(struct pg_flow *f, struct dns_st *s, bool tcp)
{
	struct pg_rng *r = &f->rng;
	struct pg_buf *q = &s->q, *a = &s->r;
	const char *dom = PG_PICK(r, domains);
	size_t qoff, lenpos = 0, rdl;
	uint16_t an = 0, ns = 0;

	if (tcp) {
		s->kind = D_TXT_BIG;
	} else {
		static const unsigned int w[] = {45, 22, 12, 7, 7, 7};
		uint64_t x = pg_rand(r) % 100;

		s->kind = 0;
		while (s->kind < 5 && x >= w[s->kind])
			x -= w[s->kind++];
	}
	switch (s->kind) {
	case D_MX:
	case D_TXT:
		snprintf(s->qname, sizeof(s->qname), "%s", dom);
		s->qtype = s->kind == D_MX ? Q_MX : Q_TXT;
		break;
	case D_TXT_BIG:
		snprintf(s->qname, sizeof(s->qname), "_keys.%s", dom);
		s->qtype = Q_TXT;
		break;
	case D_NX:
		snprintf(s->qname, sizeof(s->qname), "%c%llx.%s", 'a' + (int)pg_range(r, 0, 25),
			 (unsigned long long)(pg_rand(r) & 0xffffffffffULL), dom);
		s->qtype = Q_A;
		break;
	default:
		snprintf(s->qname, sizeof(s->qname), "%s.%s", PG_PICK(r, hosts), dom);
		s->qtype = s->kind == D_AAAA ? Q_AAAA : Q_A;
		break;
	}
	s->id = (uint16_t)pg_rand(r);

	pg_buf_reset(q);
	if (tcp) {
		lenpos = q->len;
		pg_buf_be16(q, 0);
	}
	put_header(q, s->id, 0x0120, 1, 0, 0, 1);
	put_name(q, s->qname, true);
	pg_buf_be16(q, s->qtype);
	pg_buf_be16(q, 1);
	put_opt(q);
	if (tcp)
		pg_put_be16(q->p + lenpos, (uint16_t)(q->len - 2));

	pg_buf_reset(a);
	s->results[0] = 0;
	if (tcp)
		pg_buf_be16(a, 0);
	size_t base = a->len; /* compression offsets are relative to the DNS message */

	put_header(a, s->id, s->kind == D_NX ? 0x8183 : 0x8180, 1, 0, 0, 1);
	qoff = put_name(a, s->qname, true) - base;
	pg_buf_be16(a, s->qtype);
	pg_buf_be16(a, 1);
	switch (s->kind) {
	case D_A:
		for (int i = 0, n = (int)pg_range(r, 1, 3); i < n; i++, an++) {
			uint32_t ip;

			rdl = rr_begin(a, qoff, Q_A, (uint32_t)pg_range(r, 30, 3600));
			ip = 0x5db8d800u + (uint32_t)pg_range(r, 1, 250);
			ip += (uint32_t)pg_range(r, 0, 3) << 28;
			pg_buf_be32(a, ip);
			res_v4(s, ip);
			rr_end(a, rdl);
		}
		break;
	case D_AAAA: {
		char t[64];

		rdl = rr_begin(a, qoff, Q_AAAA, (uint32_t)pg_range(r, 30, 3600));
		pg_buf_be32(a, 0x20010db8);
		pg_buf_be32(a, (uint32_t)pg_range(r, 0x100, 0x120) << 16);
		pg_buf_be32(a, 0);
		pg_buf_be32(a, (uint32_t)pg_range(r, 1, 0xffff));
		if (inet_ntop(AF_INET6, a->p + a->len - 16, t, sizeof(t)))
			res_add(s, "%s;", t);
		rr_end(a, rdl);
		an = 1;
		break;
	}
	case D_CNAME: {
		size_t toff;
		char target[96];

		snprintf(target, sizeof(target), "edge-%d.cdn-provider.net",
			 (int)pg_range(r, 1, 64));
		rdl = rr_begin(a, qoff, Q_CNAME, 300);
		toff = put_name(a, target, true) - base;
		rr_end(a, rdl);
		rdl = rr_begin(a, toff, Q_A, 60);
		pg_buf_be32(a, 0x97650000u + (uint32_t)pg_range(r, 1, 65000));
		res_add(s, "type:  5 %s;", target);
		res_v4(s, 0x97650000u + ((uint32_t)a->p[a->len - 2] << 8 | a->p[a->len - 1]));
		rr_end(a, rdl);
		an = 2;
		break;
	}
	case D_MX:
		for (int i = 0; i < 2; i++, an++) {
			rdl = rr_begin(a, qoff, Q_MX, 3600);
			pg_buf_be16(a, (uint16_t)(10 * (i + 1)));
			put_name(a, i ? "mx2" : "mx1", false);
			put_ptr(a, qoff);
			res_add(s, "type:  15 %s.%s;", i ? "mx2" : "mx1", s->qname);
			rr_end(a, rdl);
		}
		break;
	case D_TXT:
	case D_TXT_BIG: {
		int n = s->kind == D_TXT ? 2 : (int)pg_range(r, 10, 14);

		for (int i = 0; i < n; i++, an++) {
			char t[256];
			int l;

			rdl = rr_begin(a, qoff, Q_TXT, 3600);
			if (i == 0)
				l = snprintf(t, sizeof(t),
					     "v=spf1 include:_spf.%s ip4:198.51.100.0/24 ~all",
					     dom);
			else if (s->kind == D_TXT)
				l = snprintf(t, sizeof(t), "site-verification=%016llx%016llx",
					     (unsigned long long)pg_rand(r),
					     (unsigned long long)pg_rand(r));
			else
				l = 0;
			if (l > 0) {
				pg_buf_u8(a, (uint8_t)l);
				pg_buf_put(a, t, (size_t)l);
			} else {
				/* a DKIM-like key split in 255-byte strings */
				static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmn"
							  "opqrstuvwxyz0123456789+/";

				for (int k = 0; k < 2; k++) {
					pg_buf_u8(a, 255);
					for (int j = 0; j < 255; j++)
						pg_buf_u8(a, (uint8_t)b64[pg_rand(r) & 63]);
				}
			}
			rr_end(a, rdl);
		}
		break;
	}
	case D_NX: {
		size_t z = zone_off(s->qname, qoff);

		rdl = rr_begin(a, z, Q_SOA, 900);
		put_name(a, "ns1", false);
		put_ptr(a, z);
		put_name(a, "hostmaster", false);
		put_ptr(a, z);
		pg_buf_be32(a, 2023110601);
		pg_buf_be32(a, 7200);
		pg_buf_be32(a, 3600);
		pg_buf_be32(a, 1209600);
		pg_buf_be32(a, 300);
		rr_end(a, rdl);
		ns = 1;
		break;
	}
	}
	put_opt(a);
	pg_put_be16(a->p + base + 6, an);
	pg_put_be16(a->p + base + 8, ns);
	if (tcp)
		pg_put_be16(a->p, (uint16_t)(a->len - 2));
}

static bool dns_next_common(struct pg_flow *f, struct pg_msg *m, bool tcp)
{
	struct dns_st *s = f->st;

	if (!s->nq)
		s->nq = tcp ? (int)pg_range(&f->rng, 1, 2) : (int)pg_range(&f->rng, 1, 3);
	if (!s->resp_next) {
		if (s->i >= s->nq) {
			f->close = PG_CLOSE_CFIN;
			return false;
		}
		dns_build(f, s, tcp);
		m->dir = PG_C2S;
		m->delay_us = s->i == 0 ? pg_range(&f->rng, 0, 200) : pg_range(&f->rng, 100, 20000);
		m->a = s->q.p;
		m->alen = s->q.len;
		m->no_split = !tcp;
		s->resp_next = true;
		return true;
	}
	m->dir = PG_S2C;
	m->delay_us = pg_range(&f->rng, 50, 5000);
	pg_truth(
		f,
		",\"app\":\"dns\",\"tx\":%d,\"id\":%u,\"rrname\":\"%s\",\"rrtype\":%u,\"rcode\":%d",
		s->i, s->id, s->qname, s->qtype, s->kind == D_NX ? 3 : 0);
	pg_ep_dns(f, s->qname, s->qtype, s->kind == D_NX ? 3 : 0, s->results);
	m->a = s->r.p;
	m->alen = s->r.len;
	m->no_split = !tcp;
	s->resp_next = false;
	s->i++;
	return true;
}

static bool dns_next(struct pg_flow *f, struct pg_msg *m)
{
	return dns_next_common(f, m, false);
}

static bool dns_tcp_next(struct pg_flow *f, struct pg_msg *m)
{
	return dns_next_common(f, m, true);
}

static void dns_fini(struct pg_flow *f)
{
	struct dns_st *s = f->st;

	pg_buf_free(&s->q);
	pg_buf_free(&s->r);
}

const struct pg_app_ops pg_app_dns = {
	.name = "dns",
	.proto = PG_UDP,
	.port = 53,
	.state_size = sizeof(struct dns_st),
	.next = dns_next,
	.fini = dns_fini,
};

const struct pg_app_ops pg_app_dns_tcp = {
	.name = "dns-tcp",
	.proto = PG_TCP,
	.port = 53,
	.state_size = sizeof(struct dns_st),
	.next = dns_tcp_next,
	.fini = dns_fini,
};
