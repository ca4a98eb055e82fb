/* SPDX-License-Identifier: MIT */
/*
 * SMB and DCE/RPC value keywords: smb.version, dcerpc.opnum (dce_opnum) and
 * dcerpc.iface (dce_iface). The SMB parser offers their values as buffers
 * (parsers/smb/smb_parser.c: one version byte, a host-order opnum, the flow's
 * bound interfaces as struct nj_smb_dce_iface[]); each keyword adds a
 * NJ_EL_EXT element on its buffer, so the engine inspects it per transaction
 * like any sticky buffer. dce_stub_data is a plain sticky buffer.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect_int.h"
#include "parsers/smb/smb.h"

#define BOTH (NJ_BUFF_TOSERVER | NJ_BUFF_TOCLIENT | NJ_BUFF_EACH_DIR)
NJ_DETECT_BUFFER(smb_version, "smb.version", "smb", BOTH)
NJ_DETECT_BUFFER(dce_opnum, "dcerpc.opnum", "smb", BOTH)
NJ_DETECT_BUFFER(dce_iface, "dcerpc.iface", "smb", BOTH)

static int add_func(struct nj_detect_parse *ps, const char *buf,
		    bool (*fn)(const void *, const uint8_t *, uint32_t), const void *arg)
{
	struct nj_detect_ext *f = nj_detect_alloc(ps->r, sizeof(*f));
	int id = nj_detect_buffer_id(buf);

	if (!f)
		return nj_detect_fail(ps, "out of memory");
	if (id < 0)
		return nj_detect_unsupported(ps, "buffer %s not registered", buf);
	f->match = fn;
	f->ctx = arg;
	if (nj_detect_set_app_proto(ps, "smb") < 0)
		return -1;
	return nj_detect_add_el_to(ps, id, NJ_EL_EXT, f) < 0 ? -1 : 0;
}

/* ------------------------------------------------------------ smb.version */

static bool m_version(const void *arg, const uint8_t *buf, uint32_t len)
{
	return len == 1 && buf[0] == (uint8_t)(uintptr_t)arg;
}

static int kw_smb_version(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *v)
{
	int64_t ver;

	(void)kw;
	if (ps->nsmbver++)
		return nj_detect_fail(ps, "Can't use 2 or more smb.version declarations in the "
					  "same sig");
	if (nj_detect_parse_i64(nj_detect_trim(v), 1, 2, &ver) < 0)
		return nj_detect_fail(ps, "smb.version: expected 1 or 2, got '%s'", v);
	return add_func(ps, "smb.version", m_version, (const void *)(uintptr_t)ver);
}
NJ_DETECT_KEYWORD(smb_version, .name = "smb.version", .flags = NJ_KWF_VALUE,
		  .parse = kw_smb_version, .doc = "1 (SMB1) or 2 (SMB2/3)")

/* ------------------------------------------------------------ dcerpc.opnum */

/* Ranges lo-hi (inclusive), a NUL-terminated list in the rule set. */
struct opnum_set {
	unsigned n;
	struct {
		uint16_t lo, hi;
	} r[];
};

static bool m_opnum(const void *arg, const uint8_t *buf, uint32_t len)
{
	const struct opnum_set *set = arg;
	uint16_t op;

	if (len != sizeof(op))
		return false;
	memcpy(&op, buf, sizeof(op));
	for (unsigned i = 0; i < set->n; i++)
		if (op >= set->r[i].lo && op <= set->r[i].hi)
			return true;
	return false;
}

/* "10", "10-12", "10,12,20-30" (Suricata's dce_opnum), whitespace allowed. */
static int kw_opnum(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *v)
{
	char *parts[64];
	unsigned n = nj_detect_split(v, ',', parts, NJ_ARRAY_SIZE(parts));
	struct opnum_set *set;

	(void)kw;
	if (n == 0 || n > NJ_ARRAY_SIZE(parts))
		return nj_detect_fail(ps, "dcerpc.opnum: bad list '%s'", v);
	set = nj_detect_alloc(ps->r, sizeof(*set) + n * sizeof(set->r[0]));
	if (!set)
		return nj_detect_fail(ps, "out of memory");
	set->n = n;
	for (unsigned i = 0; i < n; i++) {
		char *item = nj_detect_trim(parts[i]), *dash = strchr(item, '-');
		int64_t lo, hi;

		if (dash)
			*dash = '\0';
		if (nj_detect_parse_i64(nj_detect_trim(item), 0, 65535, &lo) < 0)
			return nj_detect_fail(ps, "dcerpc.opnum: bad opnum '%s'", item);
		hi = lo;
		if (dash && nj_detect_parse_i64(nj_detect_trim(dash + 1), lo, 65535, &hi) < 0)
			return nj_detect_fail(ps, "dcerpc.opnum: bad range end '%s'", dash + 1);
		set->r[i].lo = (uint16_t)lo;
		set->r[i].hi = (uint16_t)hi;
	}
	return add_func(ps, "dcerpc.opnum", m_opnum, set);
}
NJ_DETECT_KEYWORD(dce_opnum, .name = "dcerpc.opnum",
		  .aliases = (const char *const[]){"dce_opnum", NULL}, .flags = NJ_KWF_VALUE,
		  .parse = kw_opnum, .doc = "opnum list and ranges: 10,12,20-30")

/* ------------------------------------------------------------ dcerpc.iface */

struct iface_cond {
	uint8_t uuid[16];
	uint8_t op; /* 0: any version; '<' '>' '=' '!' */
	uint16_t ver;
};

static bool m_iface(const void *arg, const uint8_t *buf, uint32_t len)
{
	const struct iface_cond *c = arg;
	struct nj_smb_dce_iface it;

	for (uint32_t off = 0; off + sizeof(it) <= len; off += sizeof(it)) {
		memcpy(&it, buf + off, sizeof(it));
		if (!it.acked || it.ack_result != 0 || memcmp(it.uuid, c->uuid, 16) != 0)
			continue;
		switch (c->op) {
		case 0: return true;
		case '<':
			if (it.ver < c->ver)
				return true;
			break;
		case '>':
			if (it.ver > c->ver)
				return true;
			break;
		case '=':
			if (it.ver == c->ver)
				return true;
			break;
		case '!':
			if (it.ver != c->ver)
				return true;
			break;
		}
	}
	return false;
}

static int hexval(int ch)
{
	return isdigit(ch) ? ch - '0' : tolower(ch) - 'a' + 10;
}

/* uuid[,<op><version>][,any_frag] (Suricata's dce_iface) */
static int kw_iface(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *v)
{
	char *parts[3];
	unsigned n = nj_detect_split(v, ',', parts, 3);
	struct iface_cond *c = nj_detect_alloc(ps->r, sizeof(*c));
	const char *u;
	unsigned k = 0;

	(void)kw;
	if (!c)
		return nj_detect_fail(ps, "out of memory");
	if (n == 0 || n > 3)
		return nj_detect_fail(ps, "dcerpc.iface: bad value '%s'", v);
	u = nj_detect_trim(parts[0]);
	if (strlen(u) != 36)
		return nj_detect_fail(ps, "dcerpc.iface: bad uuid '%s'", u);
	for (unsigned i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (u[i] != '-')
				return nj_detect_fail(ps, "dcerpc.iface: bad uuid '%s'", u);
			continue;
		}
		if (!isxdigit((unsigned char)u[i]) || !isxdigit((unsigned char)u[i + 1]))
			return nj_detect_fail(ps, "dcerpc.iface: bad uuid '%s'", u);
		c->uuid[k++] = (uint8_t)(hexval(u[i]) << 4 | hexval(u[i + 1]));
		i++;
	}
	for (unsigned i = 1; i < n; i++) {
		char *p = nj_detect_trim(parts[i]);
		int64_t ver;

		if (strcmp(p, "any_frag") == 0)
			continue; /* every fragment is inspected anyway */
		if (!strchr("<>=!", p[0]) ||
		    nj_detect_parse_i64(nj_detect_trim(p + 1), 0, 65535, &ver) < 0)
			return nj_detect_fail(ps, "dcerpc.iface: bad version condition '%s'", p);
		c->op = (uint8_t)p[0];
		c->ver = (uint16_t)ver;
	}
	return add_func(ps, "dcerpc.iface", m_iface, c);
}
NJ_DETECT_KEYWORD(dce_iface, .name = "dcerpc.iface",
		  .aliases = (const char *const[]){"dce_iface", NULL}, .flags = NJ_KWF_VALUE,
		  .parse = kw_iface, .doc = "uuid[,<|>|=|!version][,any_frag]")
