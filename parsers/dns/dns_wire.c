/* SPDX-License-Identifier: MIT */
/*
 * DNS wire format: header, names with compression, questions, resource
 * records and the rdata checks Suricata applies. Everything reads from one
 * message buffer by offset and never past its length; nothing allocates.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "dns.h"

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int nj_dns_hdr_parse(const uint8_t *msg, uint32_t len, struct nj_dns_hdr *h)
{
	if (len < NJ_DNS_HDR_LEN)
		return -1;
	h->id = rd16(msg);
	h->flags = rd16(msg + 2);
	h->qdcount = rd16(msg + 4);
	h->ancount = rd16(msg + 6);
	h->nscount = rd16(msg + 8);
	h->arcount = rd16(msg + 10);
	return 0;
}

bool nj_dns_hdr_plausible(const struct nj_dns_hdr *h, uint32_t len)
{
	uint32_t nb = (uint32_t)h->qdcount + h->ancount + h->nscount + h->arcount;

	/* every record takes at least 2 bytes */
	if (2 * nb > len)
		return false;
	/* no records: a bare header (FORMERR answers look like this) */
	if (nb == 0 && len > NJ_DNS_HDR_LEN)
		return false;
	/* a request asks something */
	if (!(h->flags & 0x8000) && h->qdcount == 0)
		return false;
	return true;
}

/*
 * The name walk; buf NULL only measures (validation does not need the bytes,
 * and copying them is most of the cost of checking a message).
 */
static inline int name_walk(const uint8_t *msg, uint32_t len, uint32_t pos, uint32_t end,
			    uint8_t *buf, uint16_t *olen, uint8_t *oflags, uint32_t *next)
{
	uint32_t cur = pos, lim = end, pivot = 0, n = 0;
	bool jumped = false;
	unsigned count = 0;
	uint8_t flags = 0;

	if (lim > len)
		lim = len;
	for (;;) {
		uint8_t l;

		if (cur >= lim)
			break; /* the data ends where a label would start: a name without root */
		l = msg[cur];
		if (l == 0) {
			cur++;
			break;
		}
		if ((l & 0xc0) == 0) {
			if ((uint32_t)l + 1 > lim - cur)
				return -1;
			/* once cut, the rest is only walked to find the end */
			if (!(flags & NJ_DNS_NAME_TRUNCATED)) {
				if (buf) {
					const uint8_t *in = msg + cur + 1;
					uint8_t *o;

					if (n)
						buf[n] = '.';
					o = buf + n + (n != 0);
					/*
					 * Labels are short: 8-byte moves where the message has
					 * room to read past the label (the name buffer has the
					 * slack to write past it), else bytes.
					 */
					if (len - cur - 1 >= (uint32_t)l + 8) {
						for (unsigned k = 0; k < l; k += 8) {
							uint64_t w;

							memcpy(&w, in + k, 8);
							memcpy(o + k, &w, 8);
						}
					} else {
						for (unsigned k = 0; k < l; k++)
							o[k] = in[k];
					}
				}
				n += l + (n != 0);
			}
			cur += 1u + l;
		} else if ((l & 0xc0) == 0xc0) {
			uint32_t off;

			if (lim - cur < 2)
				return -1;
			off = (uint32_t)(l & 0x3f) << 8 | msg[cur + 1];
			if (off > len)
				return -1;
			if (off == cur && lim == len) {
				/* pointer to itself */
				flags |= NJ_DNS_NAME_INFINITE_LOOP;
				if (jumped)
					break;
				return -1;
			}
			if (!jumped) {
				pivot = cur + 2;
				jumped = true;
			}
			cur = off;
			lim = len;
		} else {
			return -1; /* 0x40 / 0x80: extended and reserved label types */
		}
		if (++count > NJ_DNS_LABELS_MAX) {
			flags |= NJ_DNS_NAME_LABEL_LIMIT;
			/* without a pointer the end of the name is unknown: give up */
			if (!jumped)
				return -1;
			flags |= NJ_DNS_NAME_TRUNCATED;
			break;
		}
		if (n > NJ_DNS_NAME_MAX) {
			n = NJ_DNS_NAME_MAX;
			flags |= NJ_DNS_NAME_TRUNCATED;
			if (jumped)
				break;
		}
	}
	*olen = (uint16_t)n;
	*oflags = flags;
	*next = jumped ? pivot : cur;
	return 0;
}

int nj_dns_name_decode(const uint8_t *msg, uint32_t len, uint32_t pos, uint32_t end,
		       struct nj_dns_name *out, uint32_t *next)
{
	out->len = 0;
	out->flags = 0;
	return name_walk(msg, len, pos, end, out->data, &out->len, &out->flags, next);
}

/* Validation only: the length and flags of the name, not its bytes. */
static int name_skip(const uint8_t *msg, uint32_t len, uint32_t pos, uint32_t end, uint8_t *flags,
		     uint32_t *next)
{
	uint16_t n;
	uint8_t f = 0;

	if (name_walk(msg, len, pos, end, NULL, &n, &f, next) < 0)
		return -1;
	*flags |= f;
	return 0;
}

int nj_dns_question_read(const uint8_t *msg, uint32_t len, uint32_t *pos, struct nj_dns_name *name,
			 uint16_t *type, uint16_t *rclass)
{
	uint32_t p;

	if (nj_dns_name_decode(msg, len, *pos, len, name, &p) < 0 || len - p < 4)
		return -1;
	*type = rd16(msg + p);
	*rclass = rd16(msg + p + 2);
	*pos = p + 4;
	return 0;
}

int nj_dns_rr_read(const uint8_t *msg, uint32_t len, uint32_t *pos, struct nj_dns_name *name,
		   struct nj_dns_rr *rr)
{
	uint32_t p;

	if (nj_dns_name_decode(msg, len, *pos, len, name, &p) < 0 || len - p < 10)
		return -1;
	rr->type = rd16(msg + p);
	rr->rclass = rd16(msg + p + 2);
	rr->ttl = rd32(msg + p + 4);
	rr->rdata_len = rd16(msg + p + 8);
	rr->rdata_off = p + 10;
	if (rr->rdata_len > len - rr->rdata_off)
		return -1;
	*pos = rr->rdata_off + rr->rdata_len;
	return 0;
}

/* nj_dns_rr_read without the owner's bytes. */
static int rr_skip(const uint8_t *msg, uint32_t len, uint32_t *pos, uint8_t *flags,
		   struct nj_dns_rr *rr);

int nj_dns_rr_next(const uint8_t *msg, uint32_t len, uint32_t *pos, struct nj_dns_rr *rr)
{
	uint8_t f = 0;

	return rr_skip(msg, len, pos, &f, rr);
}

static int rr_skip(const uint8_t *msg, uint32_t len, uint32_t *pos, uint8_t *flags,
		   struct nj_dns_rr *rr)
{
	uint32_t p;

	if (name_skip(msg, len, *pos, len, flags, &p) < 0 || len - p < 10)
		return -1;
	rr->type = rd16(msg + p);
	rr->rclass = rd16(msg + p + 2);
	rr->ttl = rd32(msg + p + 4);
	rr->rdata_len = rd16(msg + p + 8);
	rr->rdata_off = p + 10;
	if (rr->rdata_len > len - rr->rdata_off)
		return -1;
	*pos = rr->rdata_off + rr->rdata_len;
	return 0;
}

int nj_dns_rdata_check(const uint8_t *msg, uint32_t len, const struct nj_dns_rr *rr,
		       uint8_t *name_flags)
{
	uint32_t p = rr->rdata_off, end = rr->rdata_off + rr->rdata_len;

	switch (rr->type) {
	case NJ_DNS_T_CNAME:
	case NJ_DNS_T_NS:
	case NJ_DNS_T_PTR: return name_skip(msg, len, p, end, name_flags, &p);
	case NJ_DNS_T_MX:
		if (end - p < 2)
			return -1;
		return name_skip(msg, len, p + 2, end, name_flags, &p);
	case NJ_DNS_T_SRV:
		if (end - p < 6)
			return -1;
		return name_skip(msg, len, p + 6, end, name_flags, &p);
	case NJ_DNS_T_SOA:
		if (name_skip(msg, len, p, end, name_flags, &p) < 0 ||
		    name_skip(msg, len, p, end, name_flags, &p) < 0)
			return -1;
		return end - p < 20 ? -1 : 0;
	case NJ_DNS_T_TXT:
		while (p < end) {
			if ((uint32_t)msg[p] + 1 > end - p)
				return -1;
			p += 1u + msg[p];
		}
		return 0;
	case NJ_DNS_T_SSHFP: return end - p < 2 ? -1 : 0;
	case NJ_DNS_T_OPT:
		while (p < end) {
			if (end - p < 4 || rd16(msg + p + 2) > end - p - 4)
				return -1;
			p += 4u + rd16(msg + p + 2);
		}
		return 0;
	default: return 0;
	}
}

int nj_dns_msg_parse(const uint8_t *msg, uint32_t len, struct nj_dns_info *info,
		     struct nj_dns_name *qname)
{
	struct nj_dns_rr rr;
	uint32_t pos;
	uint8_t nf = 0;

	memset(info, 0, sizeof(*info));
	if (nj_dns_hdr_parse(msg, len, &info->hdr) < 0 || !nj_dns_hdr_plausible(&info->hdr, len))
		return NJ_DNS_ERR_HEADER;
	pos = NJ_DNS_HDR_LEN;
	info->off[NJ_DNS_SEC_QD] = pos;
	for (unsigned i = 0; i < info->hdr.qdcount; i++) {
		uint32_t p;

		if (i == 0 && qname) {
			if (nj_dns_name_decode(msg, len, pos, len, qname, &p) < 0)
				goto malformed;
			nf |= qname->flags;
		} else if (name_skip(msg, len, pos, len, &nf, &p) < 0) {
			goto malformed;
		}
		if (len - p < 4)
			goto malformed;
		if (i == 0) {
			info->qtype = rd16(msg + p);
			info->qclass = rd16(msg + p + 2);
		}
		pos = p + 4;
	}
	info->count[NJ_DNS_SEC_QD] = info->hdr.qdcount;
	info->off[NJ_DNS_SEC_AN] = pos;
	for (unsigned i = 0; i < info->hdr.ancount; i++) {
		if (rr_skip(msg, len, &pos, &nf, &rr) < 0 ||
		    nj_dns_rdata_check(msg, len, &rr, &nf) < 0)
			goto malformed;
	}
	info->count[NJ_DNS_SEC_AN] = info->hdr.ancount;
	info->off[NJ_DNS_SEC_NS] = pos;
	for (unsigned i = 0; i < info->hdr.nscount; i++) {
		if (rr_skip(msg, len, &pos, &nf, &rr) < 0 ||
		    nj_dns_rdata_check(msg, len, &rr, &nf) < 0) {
			/* the section is dropped and the additionals are not looked at */
			info->invalid_authorities = true;
			info->name_flags = nf;
			return NJ_DNS_OK;
		}
	}
	info->count[NJ_DNS_SEC_NS] = info->hdr.nscount;
	info->off[NJ_DNS_SEC_AR] = pos;
	for (unsigned i = 0; i < info->hdr.arcount; i++) {
		if (rr_skip(msg, len, &pos, &nf, &rr) < 0 ||
		    nj_dns_rdata_check(msg, len, &rr, &nf) < 0) {
			info->invalid_additionals = true;
			info->name_flags = nf;
			return NJ_DNS_OK;
		}
	}
	info->count[NJ_DNS_SEC_AR] = info->hdr.arcount;
	info->name_flags = nf;
	return NJ_DNS_OK;
malformed:
	info->name_flags = nf;
	return NJ_DNS_ERR_MALFORMED;
}

/* ------------------------------------------------------------------ names */

/* Suricata's DNSRecordType names; index = type for the dense part. */
static const char *const type_names[] = {
	[1] = "A",	[2] = "NS",	   [3] = "MD",		[4] = "MF",	[5] = "CNAME",
	[6] = "SOA",	[7] = "MB",	   [8] = "MG",		[9] = "MR",	[10] = "NULL",
	[11] = "WKS",	[12] = "PTR",	   [13] = "HINFO",	[14] = "MINFO", [15] = "MX",
	[16] = "TXT",	[17] = "RP",	   [18] = "AFSDB",	[19] = "X25",	[20] = "ISDN",
	[21] = "RT",	[22] = "NSAP",	   [23] = "NSAPPTR",	[24] = "SIG",	[25] = "KEY",
	[26] = "PX",	[27] = "GPOS",	   [28] = "AAAA",	[29] = "LOC",	[30] = "NXT",
	[33] = "SRV",	[34] = "ATMA",	   [35] = "NAPTR",	[36] = "KX",	[37] = "CERT",
	[38] = "A6",	[39] = "DNAME",	   [41] = "OPT",	[42] = "APL",	[43] = "DS",
	[44] = "SSHFP", [45] = "IPSECKEY", [46] = "RRSIG",	[47] = "NSEC",	[48] = "DNSKEY",
	[49] = "DHCID", [50] = "NSEC3",	   [51] = "NSEC3PARAM", [52] = "TLSA",	[55] = "HIP",
	[59] = "CDS",	[60] = "CDNSKEY",  [65] = "HTTPS",	[99] = "SPF",
};

const char *nj_dns_type_name(uint16_t type)
{
	if (type < sizeof(type_names) / sizeof(type_names[0]))
		return type_names[type];
	switch (type) {
	case 249: return "TKEY";
	case 250: return "TSIG";
	case 254: return "MAILA";
	case 255: return "ANY";
	case 256: return "URI";
	}
	return NULL;
}

const char *nj_dns_type_str(uint16_t type, char buf[8])
{
	const char *s = nj_dns_type_name(type);

	if (s)
		return s;
	snprintf(buf, 8, "%u", type);
	return buf;
}

const char *nj_dns_rcode_name(unsigned rcode)
{
	static const char *const names[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
					    "NOTIMP",  "REFUSED", "YXDOMAIN", "YXRRSET",
					    "NXRRSET", "NOTAUTH", "NOTZONE"};

	return rcode < sizeof(names) / sizeof(names[0]) ? names[rcode] : NULL;
}

/* types: filter entries of Suricata's dns logger, in its bit order. */
static const struct {
	const char *name;
	uint16_t type;
} filter_types[] = {
	{"a", 1},      {"ns", 2},	 {"md", 3},	     {"mf", 4},	    {"cname", 5},
	{"soa", 6},    {"mb", 7},	 {"mg", 8},	     {"mr", 9},	    {"null", 10},
	{"wks", 11},   {"ptr", 12},	 {"hinfo", 13},	     {"minfo", 14}, {"mx", 15},
	{"txt", 16},   {"rp", 17},	 {"afsdb", 18},	     {"x25", 19},   {"isdn", 20},
	{"rt", 21},    {"nsap", 22},	 {"nsapptr", 23},    {"sig", 24},   {"key", 25},
	{"px", 26},    {"gpos", 27},	 {"aaaa", 28},	     {"loc", 29},   {"nxt", 30},
	{"srv", 33},   {"atma", 34},	 {"naptr", 35},	     {"kx", 36},    {"cert", 37},
	{"a6", 38},    {"dname", 39},	 {"opt", 41},	     {"apl", 42},   {"ds", 43},
	{"sshfp", 44}, {"ipseckey", 45}, {"rrsig", 46},	     {"nsec", 47},  {"dnskey", 48},
	{"dhcid", 49}, {"nsec3", 50},	 {"nsec3param", 51}, {"tlsa", 52},  {"hip", 55},
	{"cds", 59},   {"cdnskey", 60},	 {"https", 65},	     {"spf", 99},   {"tkey", 249},
	{"tsig", 250}, {"maila", 254},	 {"any", 255},	     {"uri", 256},
};

bool nj_dns_type_filter_bit(const char *name, uint64_t *bit)
{
	for (unsigned i = 0; i < sizeof(filter_types) / sizeof(filter_types[0]); i++)
		if (strcasecmp(filter_types[i].name, name) == 0) {
			*bit = 1ull << i;
			return true;
		}
	return false;
}

bool nj_dns_type_enabled(const struct nj_dns_config *c, uint16_t type)
{
	if (c->all_types)
		return true;
	for (unsigned i = 0; i < sizeof(filter_types) / sizeof(filter_types[0]); i++)
		if (filter_types[i].type == type)
			return (c->type_mask >> i) & 1;
	return false;
}
