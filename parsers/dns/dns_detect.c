/* SPDX-License-Identifier: MIT */
/*
 * DNS detection: the multi-buffers over the names of a message
 * (dns.queries.rrname, dns.answers.rrname, dns.authorities.rrname,
 * dns.additionals.rrname, dns.response.rrname, dns.answer.name), the header
 * keywords dns.opcode / dns.rcode / dns.rrtype and app-layer-event:dns.*.
 *
 * Everything is read from the message as stored by the parser: a name is
 * decoded when a rule asks for it, into per-core scratch (the engine inspects
 * one instance before it asks for the next), so nothing is allocated on the
 * packet path. The message of a detection direction is the request to the
 * server and the response to the client (nj_dns_tx_msg).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "detect/detect_int.h"
#include "dns.h"

/* ------------------------------------------------------------ names */

/* Which names of a message a buffer yields. */
#define SEL_QD	  0x01u /* question names */
#define SEL_AN	  0x02u /* answer owner names */
#define SEL_NS	  0x04u /* authority owner names */
#define SEL_AR	  0x08u /* additional owner names */
#define SEL_RDATA 0x10u /* names inside the rdata of the selected records */

static __thread struct nj_dns_name name_scratch;

/* Names inside rdata (CNAME, NS, PTR, MX, SRV target, SOA mname and rname): the k-th. */
static bool rdata_name(const struct nj_dns_msg *m, const struct nj_dns_rr *rr, unsigned k,
		       struct nj_dns_name *out, unsigned *count)
{
	uint32_t pos = rr->rdata_off, end = rr->rdata_off + rr->rdata_len, next;
	unsigned n = 0;

	switch (rr->type) {
	case NJ_DNS_T_CNAME:
	case NJ_DNS_T_NS:
	case NJ_DNS_T_PTR: n = 1; break;
	case NJ_DNS_T_MX:
		pos += 2;
		n = 1;
		break;
	case NJ_DNS_T_SRV:
		pos += 6;
		n = 1;
		break;
	case NJ_DNS_T_SOA: n = 2; break;
	default: break;
	}
	*count = n;
	if (k >= n || pos >= end)
		return false;
	if (nj_dns_name_decode(m->data, m->len, pos, end, out, &next) < 0)
		return false;
	if (k == 1 &&
	    (next >= end || nj_dns_name_decode(m->data, m->len, next, end, out, &next) < 0))
		return false;
	return true;
}

/* The idx-th selected name of m into out. */
static bool msg_name(const struct nj_dns_msg *m, unsigned sel, uint32_t idx,
		     struct nj_dns_name *out)
{
	const struct nj_dns_info *info = &m->info;
	uint32_t i = 0;

	if (sel & SEL_QD) {
		uint32_t pos = info->off[NJ_DNS_SEC_QD];

		for (unsigned q = 0; q < info->count[NJ_DNS_SEC_QD]; q++) {
			uint16_t type, rclass;

			if (nj_dns_question_read(m->data, m->len, &pos, out, &type, &rclass) < 0)
				return false;
			if (i++ == idx)
				return true;
		}
	}
	for (unsigned sec = NJ_DNS_SEC_AN; sec <= NJ_DNS_SEC_AR; sec++) {
		uint32_t pos = info->off[sec];

		if (!(sel & (SEL_AN << (sec - NJ_DNS_SEC_AN))))
			continue;
		for (unsigned r = 0; r < info->count[sec]; r++) {
			struct nj_dns_rr rr;
			unsigned n = 0;

			if (nj_dns_rr_read(m->data, m->len, &pos, out, &rr) < 0)
				return false;
			if (i++ == idx)
				return true;
			if (!(sel & SEL_RDATA))
				continue;
			rdata_name(m, &rr, 0, out, &n);
			if (idx < i + n)
				return rdata_name(m, &rr, idx - i, out, &n);
			i += n;
		}
	}
	return false;
}

static bool get_names(const struct nj_al_tx *tx, int dir, unsigned sel, uint32_t idx,
		      const uint8_t **data, uint32_t *len)
{
	const struct nj_dns_msg *m = nj_dns_tx_msg(tx, dir);

	if (!m || !msg_name(m, sel, idx, &name_scratch))
		return false;
	*data = name_scratch.data;
	*len = name_scratch.len;
	return true;
}

#define NAMES_GETTER(fn_, dir_, sel_)                                                            \
	static bool fn_(const struct nj_al_tx *tx, uint32_t idx, const uint8_t **d, uint32_t *l) \
	{                                                                                        \
		return get_names(tx, dir_, sel_, idx, d, l);                                     \
	}
NAMES_GETTER(qd_ts, NJ_DIR_TOSERVER, SEL_QD)
NAMES_GETTER(qd_tc, NJ_DIR_TOCLIENT, SEL_QD)
NAMES_GETTER(an_ts, NJ_DIR_TOSERVER, SEL_AN)
NAMES_GETTER(an_tc, NJ_DIR_TOCLIENT, SEL_AN)
NAMES_GETTER(ns_ts, NJ_DIR_TOSERVER, SEL_NS)
NAMES_GETTER(ns_tc, NJ_DIR_TOCLIENT, SEL_NS)
NAMES_GETTER(ar_ts, NJ_DIR_TOSERVER, SEL_AR)
NAMES_GETTER(ar_tc, NJ_DIR_TOCLIENT, SEL_AR)
NAMES_GETTER(resp_tc, NJ_DIR_TOCLIENT, SEL_QD | SEL_AN | SEL_NS | SEL_AR | SEL_RDATA)
NAMES_GETTER(answer_name_ts, NJ_DIR_TOSERVER, SEL_AN | SEL_RDATA)
NAMES_GETTER(answer_name_tc, NJ_DIR_TOCLIENT, SEL_AN | SEL_RDATA)

const struct nj_al_multibuffer nj_dns_multi_buffers[] = {
	{"dns.queries.rrname", NJ_DIR_TOSERVER, qd_ts},
	{"dns.queries.rrname", NJ_DIR_TOCLIENT, qd_tc},
	{"dns.answers.rrname", NJ_DIR_TOSERVER, an_ts},
	{"dns.answers.rrname", NJ_DIR_TOCLIENT, an_tc},
	{"dns.authorities.rrname", NJ_DIR_TOSERVER, ns_ts},
	{"dns.authorities.rrname", NJ_DIR_TOCLIENT, ns_tc},
	{"dns.additionals.rrname", NJ_DIR_TOSERVER, ar_ts},
	{"dns.additionals.rrname", NJ_DIR_TOCLIENT, ar_tc},
	{"dns.response.rrname", NJ_DIR_TOCLIENT, resp_tc},
	{"dns.answer.name", NJ_DIR_TOSERVER, answer_name_ts},
	{"dns.answer.name", NJ_DIR_TOCLIENT, answer_name_tc},
	{NULL, 0, NULL},
};

/* ------------------------------------------------------------ header keywords */

enum { HK_OPCODE = 1, HK_RCODE, HK_RRTYPE };

struct hk_ctx {
	int what; /* HK_* */
	struct nj_detect_u64 u;
};

static bool hk_match(const struct nj_app_parser *p, const struct nj_al_tx *tx, int dir,
		     const void *ctx)
{
	(void)p;
	const struct hk_ctx *c = ctx;
	const struct nj_dns_msg *m = nj_dns_tx_msg(tx, dir);
	uint16_t fl;

	if (!m)
		return false;
	fl = m->info.hdr.flags;
	switch (c->what) {
	case HK_OPCODE: return nj_detect_u64_match(&c->u, (fl >> 11) & 0xf);
	case HK_RCODE: return nj_detect_u64_match(&c->u, fl & 0xf);
	case HK_RRTYPE: {
		uint32_t pos = m->info.off[NJ_DNS_SEC_QD];

		for (unsigned q = 0; q < m->info.count[NJ_DNS_SEC_QD]; q++) {
			uint16_t type, rclass;

			if (nj_dns_question_read(m->data, m->len, &pos, &name_scratch, &type,
						 &rclass) < 0)
				return false;
			if (nj_detect_u64_match(&c->u, type))
				return true;
		}
		return false;
	}
	}
	return false;
}

static int kw_header(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *v)
{
	struct hk_ctx *c = nj_detect_alloc(ps->r, sizeof(*c));
	char err[160], num[16];
	const char *expr = nj_detect_trim(v);

	if (!c)
		return nj_detect_fail(ps, "out of memory");
	c->what = (int)kw->arg;
	if (c->what == HK_RCODE) {
		/* rcode by name: "nxdomain", "!servfail" */
		const char *name = expr[0] == '!' ? expr + 1 : expr;

		for (unsigned rc = 0; rc <= 15; rc++) {
			const char *n = nj_dns_rcode_name(rc);

			if (n && strcasecmp(n, name) == 0) {
				snprintf(num, sizeof(num), "%s%u", expr[0] == '!' ? "!" : "", rc);
				expr = num;
				break;
			}
		}
	}
	if (nj_detect_u64_parse(expr, c->what == HK_RRTYPE ? UINT16_MAX : UINT8_MAX, &c->u, err,
				sizeof(err)) < 0)
		return nj_detect_fail(ps, "%s", err);
	return nj_detect_add_txm(ps, hk_match, c, "dns");
}

NJ_DETECT_KEYWORD(dns_opcode, .name = "dns.opcode", .flags = NJ_KWF_VALUE, .parse = kw_header,
		  .arg = HK_OPCODE, .doc = "DNS header opcode: [!]N, N-M, <N, >N")
NJ_DETECT_KEYWORD(dns_rcode, .name = "dns.rcode", .flags = NJ_KWF_VALUE, .parse = kw_header,
		  .arg = HK_RCODE, .doc = "DNS header rcode: number or name (nxdomain), [!]")
NJ_DETECT_KEYWORD(dns_rrtype, .name = "dns.rrtype", .flags = NJ_KWF_VALUE, .parse = kw_header,
		  .arg = HK_RRTYPE, .doc = "rrtype of a question: [!]N, N-M, <N, >N")

/* ------------------------------------------------------------ app-layer-event:dns.* */

/* Event bits, from what the parser recorded of a message (see msg_events in dns_parser.c). */
#define EV_INVALID_ADDITIONALS 0x01u
#define EV_INVALID_AUTHORITIES 0x02u
#define EV_NOT_RESPONSE	       0x04u
#define EV_Z_FLAG_SET	       0x08u
#define EV_INVALID_OPCODE      0x10u
#define EV_NAME_TOO_LONG       0x20u
#define EV_INFINITE_LOOP       0x40u
#define EV_TOO_MANY_LABELS     0x80u

static const struct {
	const char *name;
	uint32_t bit;
} dns_events[] = {
	{"invalid_additionals", EV_INVALID_ADDITIONALS},
	{"invalid_authorities", EV_INVALID_AUTHORITIES},
	{"not_response", EV_NOT_RESPONSE},
	{"not_a_response", EV_NOT_RESPONSE},
	{"z_flag_set", EV_Z_FLAG_SET},
	{"invalid_opcode", EV_INVALID_OPCODE},
	{"name_too_long", EV_NAME_TOO_LONG},
	{"infinite_loop", EV_INFINITE_LOOP},
	{"too_many_labels", EV_TOO_MANY_LABELS},
	/* raised on messages that make no transaction: never on a transaction */
	{"malformed_data", 0},
	{"not_request", 0},
	{"not_a_request", 0},
	{"flooded", 0},
	{"unsolicited_response", 0},
};

static uint32_t msg_event_bits(const struct nj_dns_tx *t, const struct nj_dns_msg *m)
{
	const struct nj_dns_info *info = &m->info;
	uint16_t fl = info->hdr.flags;
	uint32_t b = 0;

	if (info->invalid_additionals)
		b |= EV_INVALID_ADDITIONALS;
	if (info->invalid_authorities)
		b |= EV_INVALID_AUTHORITIES;
	if (m != t->req && !(fl & 0x8000))
		b |= EV_NOT_RESPONSE;
	if (fl & 0x0040)
		b |= EV_Z_FLAG_SET;
	if (((fl >> 11) & 0xf) >= 7)
		b |= EV_INVALID_OPCODE;
	if (info->name_flags & NJ_DNS_NAME_TRUNCATED)
		b |= EV_NAME_TOO_LONG;
	if (info->name_flags & NJ_DNS_NAME_INFINITE_LOOP)
		b |= EV_INFINITE_LOOP;
	if (info->name_flags & NJ_DNS_NAME_LABEL_LIMIT)
		b |= EV_TOO_MANY_LABELS;
	return b;
}

static bool ev_match(const struct nj_app_parser *p, const struct nj_al_tx *tx, int dir,
		     const void *ctx)
{
	(void)p;
	const uint32_t *bit = ctx;
	const struct nj_dns_msg *m = nj_dns_tx_msg(tx, dir);

	return m && (msg_event_bits(nj_dns_tx_of(tx), m) & *bit);
}

static const void *ev_lookup(const char *name)
{
	for (size_t i = 0; i < sizeof(dns_events) / sizeof(dns_events[0]); i++)
		if (strcmp(dns_events[i].name, name) == 0)
			return &dns_events[i].bit;
	return NULL;
}

static struct nj_detect_event_provider dns_event_provider = {
	.proto = "dns",
	.lookup = ev_lookup,
	.match = ev_match,
};
NJ_DETECT_EVENT_PROVIDER(dns_event_provider)
