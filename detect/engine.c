/* SPDX-License-Identifier: MIT */
/*
 * Engine build: signatures are numbered in Suricata's evaluation order,
 * classified (packet, IP-only, stream, transaction, or not evaluable here),
 * grouped like Suricata's signature group heads (protocol class, direction,
 * server port for TCP/UDP; per parser and direction for transactions) and
 * each group's fast patterns are compiled into Hyperscan databases, once,
 * shared read-only by every core. Threads get a clone of one prototype
 * scratch and their own candidate arrays and tables.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/nj_common.h"
#include "config/config.h"
#include "engine_int.h"
#include "parsers/files.h"
#include "tag.h"
#include "rules_priv.h"

NJ_CONF_KEY(detect_sec, "detect", NJ_CT_MAP, "",
	    "Suricata's detect section. custom-values.toserver-groups (25) and "
	    "custom-values.toclient-groups (8) set how many server ports get their own "
	    "signature group; other keys are accepted and ignored.")
NJ_CONF_KEY(alert_max, "packet-alert-max", NJ_CT_INT, "15",
	    "Alerts written per packet (Suricata's packet-alert-max); more are counted.")
NJ_CONF_KEY(action_order, "action-order", NJ_CT_LIST, "pass, drop, reject, alert",
	    "Order in which matching signatures are applied to a packet, by action (Suricata's; "
	    "a matching pass rule stops the ones after it).")
NJ_CONF_KEY(det_states, "nightjar.detect.flow-states", NJ_CT_INT, "262144",
	    "Per-flow detection states (flowbits, flowint, stream tails) per worker.")
NJ_CONF_KEY(det_thr, "nightjar.detect.threshold-entries", NJ_CT_INT, "65536",
	    "threshold / detection_filter tracking entries per worker (oldest evicted when full).")
NJ_CONF_KEY(det_tags, "nightjar.detect.tag-sessions", NJ_CT_INT, "4096",
	    "Session tags (tag keyword) live at once per worker; more are not started (counted).")
NJ_CONF_KEY(det_tagh, "nightjar.detect.tag-hosts", NJ_CT_INT, "4096",
	    "Host tags (tag keyword) per worker; the oldest is replaced when its bucket is full.")
NJ_CONF_KEY(det_pf, "nightjar.detect.prefilter", NJ_CT_BOOL, "yes",
	    "no: evaluate every signature without the Hyperscan prefilter (tests, debugging).")
NJ_CONF_KEY(det_pfoff, "nightjar.detect.prefilter-offsets", NJ_CT_BOOL, "no",
	    "Compile packet fast patterns with their offset/depth (fewer candidates for anchored "
	    "patterns, several times slower to build).")
NJ_CONF_KEY(det_tail, "nightjar.detect.stream-tail", NJ_CT_SIZE, "2kb",
	    "Stream bytes kept per flow direction so patterns spanning segments match.")
NJ_CONF_KEY(det_tailcap, "nightjar.detect.stream-tail-memcap", NJ_CT_SIZE, "64mb",
	    "Memory for stream tails per worker; past it tails are not kept (counted).")
NJ_CONF_KEY(det_inline, "stream.inline", NJ_CT_STR, "auto",
	    "yes: stream data is inspected as it is reassembled (Suricata's inline mode); no / "
	    "auto (IDS): a direction's stream is inspected by its packets once the peer "
	    "acknowledged it, the rest at flow end.")

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static bool bit(const uint8_t *set, unsigned b)
{
	return set[b / 8] & (1u << (b % 8));
}

/* ------------------------------------------------------------ classification */

/* Header address token negated anywhere (after expanding variables): such
 * signatures are "like IP-only" in Suricata and are inspected on every packet. */
static bool addr_negated(const struct nj_detect_priv *pv, const char *s, int depth)
{
	if (depth > 16)
		return false;
	for (const char *p = s; *p; p++) {
		if (*p == '!')
			return true;
		if (*p == '$') {
			char name[128];
			size_t n = 0;
			const char *v;

			p++;
			while (*p &&
			       (isalnum((unsigned char)*p) || *p == '_' || *p == '-' ||
				*p == '.') &&
			       n + 1 < sizeof(name))
				name[n++] = *p++;
			name[n] = '\0';
			p--;
			v = nj_strmap_get(&pv->addr_vars, name);
			if (v && addr_negated(pv, v, depth + 1))
				return true;
		}
	}
	return false;
}

/* Source and destination tokens of the rule text's header. */
static bool header_negated(const struct nj_detect_rules *r, const char *raw)
{
	const struct nj_detect_priv *pv = nj_detect_priv(r);
	char tok[7][512];
	unsigned nt = 0;
	const char *p = raw;

	if (!raw || !pv)
		return false;
	while (*p && *p != '(' && nt < 7) {
		size_t n = 0;
		int level = 0;

		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || *p == '(')
			break;
		while (*p && (level > 0 || (*p != ' ' && *p != '\t' && *p != '('))) {
			if (*p == '[')
				level++;
			else if (*p == ']')
				level--;
			if (n + 1 < sizeof(tok[0]))
				tok[nt][n++] = *p;
			p++;
		}
		tok[nt++][n] = '\0';
	}
	if (nt < 7)
		return false;
	return addr_negated(pv, tok[2], 0) || addr_negated(pv, tok[5], 0);
}

static uint16_t parser_id(const char *name)
{
	const struct nj_app_parser *p;

	if (!name)
		return 0;
	p = nj_app_parser_by_name(name);
	if (!p && (strcmp(name, "http1") == 0 || strcmp(name, "http2") == 0))
		p = nj_app_parser_by_name("http");
	if (!p && strcmp(name, "http") == 0)
		p = nj_app_parser_by_name("http1");
	return p ? p->id : 0xffffu;
}

static bool pm_is(const struct nj_detect_sig *s, const char *kw)
{
	for (unsigned i = 0; i < s->npm; i++)
		if (s->pm[i].kw && strcmp(s->pm[i].kw, kw) == 0)
			return true;
	return false;
}

static bool ports_any(const struct nj_detect_ports *p)
{
	return p->any || (p->n == 1 && p->r[0].lo == 0 && p->r[0].hi == 65535);
}

/*
 * filestore[:direction[,scope]]: direction request|to_server, response|to_client
 * or both (with it the scope is the transaction), scope file|tx|ssn|flow. Without
 * a direction the files of the direction that matched are stored.
 */
static uint8_t filestore_opts(const char *v)
{
	char a[32] = "", b[32] = "";
	uint8_t o = FS_ON;

	if (v)
		sscanf(v, " %31[^, ] , %31[^, ]", a, b);
	if (!strcasecmp(a, "request") || !strcasecmp(a, "to_server"))
		o |= FS_TS;
	else if (!strcasecmp(a, "response") || !strcasecmp(a, "to_client"))
		o |= FS_TC;
	else if (!strcasecmp(a, "both"))
		o |= FS_TS | FS_TC;
	else
		o |= FS_RULE_DIR;
	if (!strcasecmp(b, "ssn") || !strcasecmp(b, "flow"))
		o |= FS_FLOW;
	return o;
}

static void classify(struct nj_detect_engine *e, const struct nj_detect_sig *s, struct eng_sig *es)
{
	const struct nj_detect_rules *r = e->rules;
	bool tcp = bit(s->ipproto, 6), udp = bit(s->ipproto, 17);
	bool dsize = pm_is(s, "dsize");
	bool readonly_bits = false;

	memset(es, 0, sizeof(*es));
	es->s = s;
	switch (s->action) {
	case NJ_ACT_PASS: es->order = e->action_rank[0]; break;
	case NJ_ACT_DROP: es->order = e->action_rank[1]; break;
	case NJ_ACT_REJECT:
	case NJ_ACT_REJECTSRC:
	case NJ_ACT_REJECTDST:
	case NJ_ACT_REJECTBOTH: es->order = e->action_rank[2]; break;
	case NJ_ACT_CONFIG:
		/* only conditional logging (config:logging disable ... tx) is evaluated */
		if (!s->ntxm)
			es->never = "config rules do not alert";
		es->order = e->action_rank[3];
		break;
	default: es->order = e->action_rank[3]; break;
	}
	for (unsigned i = 0; i < s->nlists; i++) {
		unsigned base = r->inst[s->lists[i].inst].base;
		const struct nj_detect_buffer *b = nj_detect_buffer_get(base);

		if (base == NJ_DETECT_BUF_PKT || base == NJ_DETECT_BUF_STREAM)
			es->flags |= ES_PAYLOAD;
		else if (b && (b->flags & NJ_BUFF_PACKET))
			es->flags |= ES_HDRBUF;
		else
			es->flags |= ES_TX;
	}
	if (s->ntxm)
		es->flags |= ES_TX;
	if (s->nxbitops)
		es->never = "xbits are not evaluated";
	if (s->app_event)
		es->never = "app-layer-event is not evaluated";
	if (s->stream_event)
		es->flags |= ES_EVENT;
	for (unsigned i = 0; i < s->ndeferred; i++) {
		const char *kw = s->deferred[i].kw;

		if (strcmp(kw, "filestore") == 0) {
			es->fstore = filestore_opts(s->deferred[i].value);
			nj_files_require_rule_store();
			continue;
		}
		if (strcmp(kw, "app-layer-protocol") == 0)
			continue;
		es->never = kw;
	}
	if (s->app_proto) {
		es->app_id = parser_id(s->app_proto);
		if (es->app_id == 0xffffu)
			es->never = "no parser for the protocol";
	}
	if (s->app_match) {
		if (strcmp(s->app_match, "failed") == 0)
			es->app_match = NJ_APP_PROTO_FAILED;
		else
			es->app_match = parser_id(s->app_match);
	}
	if (s->nbitops || s->nintops)
		es->flags |= ES_FLOWSTATE;
	for (unsigned i = 0; i < s->nbitops; i++)
		if (s->bitops[i].cmd != NJ_BIT_SET)
			readonly_bits = true;
	if (s->flow_flags || s->app_proto || s->app_match || s->nbitops || s->nintops ||
	    s->stream_size)
		es->flags |= ES_NEEDS_FLOW;

	if (es->flags & ES_TX) {
		bool ts = s->flags & NJ_SIG_TOSERVER, tc = s->flags & NJ_SIG_TOCLIENT;
		bool each = s->nlists > 0 || s->ntxm > 0;

		for (unsigned i = 0; i < s->ntxm; i++)
			if (!s->txm[i].each_dir)
				each = false;
		for (unsigned i = 0; i < s->nlists; i++) {
			const struct nj_detect_buffer *b =
				nj_detect_buffer_get(r->inst[s->lists[i].inst].base);

			if (!b || !(b->flags & NJ_BUFF_EACH_DIR))
				each = false;
		}
		if (each)
			es->flags |= ES_TX_EACHDIR;

		if (tc)
			es->flags |= ES_TX_TC;
		else if (ts)
			es->flags |= ES_TX_TS;
		else
			es->flags |= ES_TX_TS | ES_TX_TC;
		if (!s->app_proto)
			es->flags |= ES_APP_ANY;
		es->flags |= ES_PASS_FLOW;
	} else {
		if (es->flags & ES_PAYLOAD) {
			if (tcp && (s->flags & NJ_SIG_MATCH_STREAM) && !dsize)
				es->flags |= ES_STREAM_OK;
			if ((s->flags & NJ_SIG_MATCH_PKT) || dsize || !tcp)
				es->flags |= ES_PKT_OK;
			es->req |= PM_PAYLOAD;
		} else {
			es->flags |= ES_PKT_OK;
		}
		if (!(es->flags & (ES_PAYLOAD | ES_HDRBUF)) && s->npm == 0 && !s->flow_flags &&
		    !s->app_proto && !s->app_match && !s->nintops && !readonly_bits &&
		    !s->stream_size && !s->nxbitops &&
		    (!(tcp || udp) || (ports_any(s->sp) && ports_any(s->dp))) &&
		    !header_negated(r, s->raw))
			es->flags |= ES_IPONLY | ES_PASS_FLOW;
		/* app-layer-protocol alone (Suricata's "protocol detection only") */
		if (!(es->flags & (ES_PAYLOAD | ES_HDRBUF)) && s->npm == 0 && s->app_match)
			es->flags |= ES_PASS_FLOW;
	}
	if (s->flow_flags &
	    (NJ_FLOW_TOSERVER | NJ_FLOW_TOCLIENT | NJ_FLOW_ESTABLISHED | NJ_FLOW_NOT_ESTABLISHED))
		es->req |= PM_FLOW;
	if (s->flow_flags & NJ_FLOW_ESTABLISHED)
		es->req |= PM_EST;
	if (s->flow_flags & NJ_FLOW_NOT_ESTABLISHED)
		es->req |= PM_NOTEST;
	if (s->flags & NJ_SIG_IPV4_ONLY)
		es->req |= PM_IPV4;
	if (s->flags & NJ_SIG_IPV6_ONLY)
		es->req |= PM_IPV6;
	if (es->flags & ES_TX)
		es->req &= (uint8_t) ~(PM_PAYLOAD | PM_EST | PM_NOTEST);
	if ((es->flags & ES_EVENT) && (es->flags & (ES_TX | ES_PAYLOAD | ES_HDRBUF)))
		es->never = "stream-event with content or app-layer buffers is not evaluated";
	if (es->never)
		es->flags |= ES_NEVER;
}

/* Suricata's ordering keys: writers of flowbits/flowint before readers. */
static int bits_type(const struct nj_detect_sig *s)
{
	unsigned rd = 0, wr = 0;

	for (unsigned i = 0; i < s->nbitops; i++) {
		if (s->bitops[i].cmd == NJ_BIT_ISSET || s->bitops[i].cmd == NJ_BIT_ISNOTSET)
			rd++;
		else
			wr++;
	}
	return rd && !wr ? 2 : !rd && wr ? 4 : rd && wr ? 3 : 1;
}

static int ints_type(const struct nj_detect_sig *s)
{
	unsigned rd = 0, wr = 0;

	for (unsigned i = 0; i < s->nintops; i++) {
		uint8_t op = s->intops[i].op;

		if (op == NJ_INT_SET || op == NJ_INT_ADD || op == NJ_INT_SUB)
			wr++;
		else
			rd++;
	}
	return rd && !wr ? 2 : !rd && wr ? 4 : rd && wr ? 3 : 1;
}

static const struct eng_sig *sort_base;

static int order_cmp(const void *a, const void *b)
{
	const struct eng_sig *x = &sort_base[*(const uint32_t *)a];
	const struct eng_sig *y = &sort_base[*(const uint32_t *)b];
	int d;

	if (x->order != y->order)
		return x->order < y->order ? -1 : 1;
	d = bits_type(y->s) - bits_type(x->s);
	if (d)
		return d;
	d = ints_type(y->s) - ints_type(x->s);
	if (d)
		return d;
	if (x->s->priority != y->s->priority)
		return x->s->priority < y->s->priority ? -1 : 1;
	if (x->s->sid != y->s->sid)
		return x->s->sid < y->s->sid ? -1 : 1;
	return x->s->gid < y->s->gid ? -1 : x->s->gid > y->s->gid;
}

/* ------------------------------------------------------------ candidate sets */

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Fast pattern of s usable on buffers of the given kind: 0 packet/stream, 1 app-layer. */
static bool fp_usable(const struct nj_detect_engine *e, const struct nj_detect_sig *s, int kind)
{
	unsigned base;
	const struct nj_detect_buffer *b;

	if (!s->fp.len || (s->flags & NJ_SIG_PREFILTER_ALL) || s->fp.negated_only)
		return false;
	base = e->rules->inst[s->fp.inst].base;
	b = nj_detect_buffer_get(base);
	if (kind == 0)
		return base == NJ_DETECT_BUF_PKT || base == NJ_DETECT_BUF_STREAM;
	return base != NJ_DETECT_BUF_PKT && base != NJ_DETECT_BUF_STREAM && b &&
	       !(b->flags & NJ_BUFF_PACKET);
}

#define PF_HEAD_KEY 0x8000u

static bool pf_head(uint32_t depth, uint32_t len)
{
	return depth && depth <= PF_HEAD_MAX && depth >= len;
}

/*
 * The pattern the packet prefilter (kind 0) looks for. The fast pattern,
 * unless it is short (3 bytes or less) and may be anywhere: such a pattern
 * matches most payloads and makes the whole scan slow, so another positive
 * content of the same list is taken instead, a longer one first, else one
 * placed in the payload's head. Any positive content of the list must be in
 * the payload for the signature to match, so the prefilter stays a superset.
 */
static void pf_pick(const struct nj_detect_sig *s, int kind, struct pf_pattern *p)
{
	const struct nj_detect_list *l = &s->lists[s->fp.list];
	uint32_t best = 0;

	p->bytes = s->fp.bytes;
	p->len = s->fp.len;
	p->nocase = s->fp.nocase;
	p->offset = s->fp.offset;
	p->depth = s->fp.depth;
	if (kind != 0 || p->len > 3 || pf_head(p->depth, p->len))
		return;
	for (unsigned i = 0; i < l->n; i++) {
		const struct nj_detect_content *c;
		bool abs, head;
		uint32_t score;

		if (l->el[i].type != NJ_EL_CONTENT)
			continue;
		c = l->el[i].u.content;
		if (c->flags & (NJ_CF_NEGATED | NJ_CF_OFFSET_VAR | NJ_CF_DEPTH_VAR) || !c->len)
			continue;
		abs = !(c->flags & (NJ_CF_DISTANCE | NJ_CF_WITHIN));
		head = abs && (c->flags & NJ_CF_DEPTH) && pf_head((uint32_t)c->depth, c->len);
		score = (c->len > 3 ? 1000 : 0) + (head ? 500 : 0) + c->len;
		if (score <= p->len || score <= best)
			continue;
		best = score;
		p->bytes = c->bytes;
		p->len = c->len;
		p->nocase = c->flags & NJ_CF_NOCASE;
		p->offset = abs && (c->flags & NJ_CF_OFFSET) ? (uint32_t)c->offset : 0;
		p->depth = abs && (c->flags & NJ_CF_DEPTH) ? (uint32_t)c->depth : 0;
	}
}

/*
 * kind: 0 packet (placement kept if configured), 1 stream (no placement, long
 * patterns cut to their prefix), 2 app-layer. canon (kind 2, may be NULL)
 * maps a buffer instance to the instance whose database holds its patterns:
 * buffers a parser serves from the same bytes share one scan.
 */
static int cand_set_build(struct nj_detect_engine *e, struct cand_set *cs, const uint32_t *nums,
			  uint32_t n, int kind, const uint16_t *canon)
{
	struct pf_pattern *pats = NULL;
	uint32_t *always = NULL, nal = 0, np = 0;
	uint16_t insts[64], *pinst = NULL;
	unsigned ninst = 0;
	int ret = -1;

	memset(cs, 0, sizeof(*cs));
	cs->nsigs = n;
	if (!n)
		return 0;
	pats = malloc(n * sizeof(*pats));
	pinst = malloc(n * sizeof(*pinst));
	always = malloc(n * sizeof(*always));
	if (!pats || !always || !pinst)
		goto out;
	for (uint32_t i = 0; i < n; i++) {
		const struct nj_detect_sig *s = e->sigs[nums[i]].s;
		bool ok = e->prefilter && fp_usable(e, s, kind == 2);
		uint16_t inst = canon ? canon[s->fp.inst] : s->fp.inst;
		unsigned k;

		if (ok && kind != 2)
			inst = 0; /* every payload list: one database */
		if (ok) {
			for (k = 0; k < ninst; k++)
				if (insts[k] == inst)
					break;
			if (k == ninst) {
				if (ninst == NJ_ARRAY_SIZE(insts))
					ok = false;
				else
					insts[ninst++] = inst;
			}
		}
		if (!ok) {
			always[nal++] = nums[i];
			continue;
		}
		/* payload lists with transforms cannot share the plain payload scan */
		if (kind != 2 && e->rules->inst[s->fp.inst].ntf) {
			always[nal++] = nums[i];
			continue;
		}
		pf_pick(s, kind, &pats[np]);
		/* head patterns: a database of their own, keyed apart from the instance */
		if (kind == 0 && pf_head(pats[np].depth, pats[np].len)) {
			inst |= PF_HEAD_KEY;
			for (k = 0; k < ninst; k++)
				if (insts[k] == inst)
					break;
			if (k == ninst) {
				if (ninst == NJ_ARRAY_SIZE(insts)) {
					always[nal++] = nums[i];
					continue;
				}
				insts[ninst++] = inst;
			}
		}
		/* stream units are scanned from a few bytes before the new data: a
		 * prefix of a long pattern is enough and keeps that overlap short */
		if (kind == 1 && pats[np].len > STREAM_FP_MAX)
			pats[np].len = STREAM_FP_MAX;
		pats[np].num = nums[i];
		pinst[np] = inst;
		np++;
	}
	cs->db = calloc(ninst ? ninst : 1, sizeof(*cs->db));
	if (!cs->db)
		goto out;
	for (unsigned k = 0; k < ninst; k++) {
		struct pf_pattern *sub = malloc(np * sizeof(*sub));
		uint32_t nsub = 0, *dropped = NULL, ndropped = 0;
		struct pf_db *db = &cs->db[cs->ndb];

		if (!sub)
			goto out;
		for (uint32_t i = 0; i < np; i++)
			if (pinst[i] == insts[k])
				sub[nsub++] = pats[i];
		db->inst = insts[k] & ~PF_HEAD_KEY;
		db->base = e->rules->inst[db->inst].base;
		db->scan_max = 0;
		if (insts[k] & PF_HEAD_KEY)
			for (uint32_t i = 0; i < nsub; i++)
				if (sub[i].depth > db->scan_max)
					db->scan_max = sub[i].depth;
		if (nj_pf_build(e, db, sub, nsub, kind == 0 && e->pf_offsets, kind == 1, &dropped,
				&ndropped) < 0) {
			free(sub);
			goto out;
		}
		free(sub);
		for (uint32_t i = 0; i < ndropped; i++)
			always[nal++] = dropped[i];
		free(dropped);
		if (db->db) {
			if (nj_pf_scratch(e, db) < 0)
				goto out;
			e->ndbs++;
			e->npatterns += db->npat;
			if (kind == 1 && db->maxlen > e->stream_overlap)
				e->stream_overlap = db->maxlen;
			cs->ndb++;
		}
	}
	qsort(always, nal, sizeof(*always), u32_cmp);
	cs->always = always;
	cs->nalways = nal;
	always = NULL;
	ret = 0;
out:
	free(pats);
	free(pinst);
	free(always);
	return ret;
}

static void cand_set_free(struct cand_set *cs)
{
	for (unsigned i = 0; i < cs->ndb; i++)
		nj_pf_free(&cs->db[i]);
	free(cs->db);
	free(cs->always);
	memset(cs, 0, sizeof(*cs));
}

/* ------------------------------------------------------------ packet groups */

static bool in_class(const struct nj_detect_sig *s, int c)
{
	switch (c) {
	case PC_TCP: return bit(s->ipproto, 6);
	case PC_UDP: return bit(s->ipproto, 17);
	case PC_ICMP: return bit(s->ipproto, 1) || bit(s->ipproto, 58);
	default:
		for (unsigned p = 0; p < 256; p++)
			if (p != 6 && p != 17 && p != 1 && p != 58 && bit(s->ipproto, p))
				return true;
		return false;
	}
}

static bool dir_ok(const struct nj_detect_sig *s, int d)
{
	uint32_t f = s->flags & (NJ_SIG_TOSERVER | NJ_SIG_TOCLIENT);

	if (f == NJ_SIG_TOSERVER)
		return d == 0;
	if (f == NJ_SIG_TOCLIENT)
		return d == 1;
	return true;
}

/* The port set a group key is matched against: dp to server, sp to client (both for <>). */
static bool key_port_any(const struct nj_detect_sig *s, int d)
{
	const struct nj_detect_ports *a = d == 0 ? s->dp : s->sp;

	if (ports_any(a))
		return true;
	return (s->flags & NJ_SIG_BIDIR) && ports_any(d == 0 ? s->sp : s->dp);
}

static bool key_port_match(const struct nj_detect_sig *s, int d, uint16_t port)
{
	if (nj_detect_port_match(d == 0 ? s->dp : s->sp, port))
		return true;
	return (s->flags & NJ_SIG_BIDIR) && nj_detect_port_match(d == 0 ? s->sp : s->dp, port);
}

static int group_add(struct nj_detect_engine *e, uint32_t *cap)
{
	if (e->ngroups == *cap) {
		uint32_t nc = *cap ? *cap * 2 : 16;
		struct pkt_group *ng = realloc(e->groups, nc * sizeof(*ng));

		if (!ng)
			return -1;
		e->groups = ng;
		*cap = nc;
	}
	memset(&e->groups[e->ngroups], 0, sizeof(e->groups[0]));
	return (int)e->ngroups++;
}

/* Candidate sets of a class: which signatures go in, per set. */
static bool in_set(uint32_t f, int set)
{
	if (f & ES_IPONLY)
		return false;
	switch (set) {
	case CS_PKT: return f & ES_PKT_OK;
	case CS_PKT_INSTREAM: return (f & ES_PKT_OK) && (!(f & ES_PAYLOAD) || !(f & ES_STREAM_OK));
	default: return f & ES_STREAM_OK;
	}
}

/*
 * One (class, direction): a prefilter database per candidate set holding every
 * signature of the class (the stream set also holds the packet-only payload
 * signatures, so a TCP packet whose data is in its stream unit is scanned
 * once), and the always-evaluated signatures split the way Suricata splits
 * signature groups: TCP/UDP signatures for given server ports in port
 * groups (the most used ports get their own, every other port shares one),
 * the rest in the class.
 */
static int class_groups(struct nj_detect_engine *e, int c, int d, uint32_t ngroups_max,
			uint32_t *cap)
{
	struct pkt_class *pc = &e->cls[c][d];
	uint32_t *v = malloc((e->nsigs ? e->nsigs : 1) * sizeof(*v)), nv;
	uint32_t *spec = NULL, nspec = 0;
	bool ported = c == PC_TCP || c == PC_UDP, tcp = c == PC_TCP;
	uint32_t *cnt = NULL, chosen[64], nchosen = 0;
	uint16_t *pmap = NULL;
	int gidx[65], ret = -1;

	if (!v)
		return -1;
	for (int set = 0; set < CS_MAX; set++) {
		if (!tcp && set != CS_PKT)
			continue;
		nv = 0;
		for (uint32_t num = 0; num < e->nsigs; num++) {
			const struct eng_sig *es = &e->sigs[num];

			if (es->flags & (ES_NEVER | ES_TX | ES_EVENT))
				continue;
			if (!in_class(es->s, c) || !dir_ok(es->s, d))
				continue;
			if (in_set(es->flags, set) ||
			    (set == CS_STREAM && in_set(es->flags, CS_PKT_INSTREAM) &&
			     (es->flags & ES_PAYLOAD)))
				v[nv++] = num;
		}
		if (cand_set_build(e, &pc->cs[set], v, nv, set == CS_STREAM ? 1 : 0, NULL) < 0)
			goto out;
		if (set == CS_STREAM) {
			/* the packet-only ones are evaluated from the in-stream set's lists */
			struct cand_set *cs = &pc->cs[set];
			uint32_t k = 0;

			for (uint32_t i = 0; i < cs->nalways; i++)
				if (e->sigs[cs->always[i]].flags & ES_STREAM_OK)
					cs->always[k++] = cs->always[i];
			cs->nalways = k;
		}
	}
	for (int set = 0; set < CS_MAX; set++)
		e->nalways += pc->cs[set].nalways;
	e->classgrp[c][d] = 0;
	if (!ported)
		goto done;

	/* port-specific always-evaluated signatures: count per port */
	spec = malloc((e->nsigs ? e->nsigs : 1) * sizeof(*spec));
	cnt = calloc(65537, sizeof(*cnt));
	if (!spec || !cnt)
		goto out;
	for (int set = 0; set < CS_MAX; set++) {
		struct cand_set *cs = &pc->cs[set];

		for (uint32_t i = 0; i < cs->nalways; i++)
			if (!key_port_any(e->sigs[cs->always[i]].s, d))
				spec[nspec++] = cs->always[i];
	}
	if (!nspec)
		goto done;
	{
		int64_t run = 0, *diff = calloc(65537, sizeof(*diff));

		if (!diff)
			goto out;
		for (uint32_t i = 0; i < nspec; i++) {
			const struct nj_detect_sig *s = e->sigs[spec[i]].s;
			const struct nj_detect_ports *ps[2] = {d == 0 ? s->dp : s->sp,
							       d == 0 ? s->sp : s->dp};

			for (unsigned w = 0; w < ((s->flags & NJ_SIG_BIDIR) ? 2u : 1u); w++)
				for (uint32_t j = 0; j < ps[w]->n; j++) {
					diff[ps[w]->r[j].lo]++;
					diff[(uint32_t)ps[w]->r[j].hi + 1]--;
				}
		}
		for (uint32_t port = 0; port < 65536; port++) {
			run += diff[port];
			cnt[port] = (uint32_t)run;
		}
		free(diff);
	}
	if (ngroups_max > 64)
		ngroups_max = 64;
	while (nchosen < ngroups_max) {
		uint32_t best = 65536;

		for (uint32_t port = 0; port < 65536; port++)
			if (cnt[port] && (best == 65536 || cnt[port] > cnt[best]))
				best = port;
		if (best == 65536)
			break;
		chosen[nchosen++] = best;
		cnt[best] = 0;
	}
	/* groups: one per chosen port, then "every other port" (index nchosen) */
	for (uint32_t k = 0; k <= nchosen; k++) {
		gidx[k] = group_add(e, cap);
		if (gidx[k] < 0)
			goto out;
	}
	for (int set = 0; set < CS_MAX; set++) {
		struct cand_set *cs = &pc->cs[set];
		uint32_t keep = 0;

		for (uint32_t k = 0; k <= nchosen; k++) {
			e->groups[gidx[k]].always[set] =
				malloc((cs->nalways ? cs->nalways : 1) * sizeof(uint32_t));
			if (!e->groups[gidx[k]].always[set])
				goto out;
		}
		for (uint32_t i = 0; i < cs->nalways; i++) {
			uint32_t num = cs->always[i];
			const struct nj_detect_sig *s = e->sigs[num].s;
			const struct nj_detect_ports *ps[2] = {d == 0 ? s->dp : s->sp,
							       d == 0 ? s->sp : s->dp};
			uint64_t in = 0, tot = 0;

			if (key_port_any(s, d)) {
				cs->always[keep++] = num;
				continue;
			}
			for (uint32_t k = 0; k < nchosen; k++)
				if (key_port_match(s, d, (uint16_t)chosen[k])) {
					struct pkt_group *g = &e->groups[gidx[k]];

					g->always[set][g->nalways[set]++] = num;
					in++;
				}
			/* in "other" unless every port it matches has its own group */
			for (unsigned w = 0; w < ((s->flags & NJ_SIG_BIDIR) ? 2u : 1u); w++)
				for (uint32_t j = 0; j < ps[w]->n; j++)
					tot += (uint64_t)ps[w]->r[j].hi - ps[w]->r[j].lo + 1;
			if (in < tot) {
				struct pkt_group *g = &e->groups[gidx[nchosen]];

				g->always[set][g->nalways[set]++] = num;
			}
		}
		cs->nalways = keep;
	}
	pmap = malloc(65536 * sizeof(*pmap));
	if (!pmap)
		goto out;
	for (uint32_t port = 0; port < 65536; port++)
		pmap[port] = (uint16_t)gidx[nchosen];
	for (uint32_t k = 0; k < nchosen; k++)
		pmap[chosen[k]] = (uint16_t)gidx[k];
	e->portmap[tcp ? 0 : 1][d] = pmap;
	pmap = NULL;
done:
	ret = 0;
out:
	free(pmap);
	free(cnt);
	free(spec);
	free(v);
	return ret;
}

/* ------------------------------------------------------------ transaction groups */

/* Direction whose data a list on base buffer b reads when the transaction is inspected at d. */
static int buf_dir(unsigned base, int d)
{
	const struct nj_detect_buffer *b = nj_detect_buffer_get(base);
	uint32_t f = b ? b->flags & (NJ_BUFF_TOSERVER | NJ_BUFF_TOCLIENT) : 0;

	if (f == NJ_BUFF_TOSERVER)
		return 0;
	if (f == NJ_BUFF_TOCLIENT)
		return 1;
	return d;
}

static bool tx_possible(const struct nj_detect_engine *e, const struct nj_detect_sig *s,
			uint16_t pid, int d)
{
	const struct al_getter *g = e->getters[pid];

	for (unsigned i = 0; i < s->nlists; i++) {
		unsigned base = e->rules->inst[s->lists[i].inst].base;
		const struct nj_detect_buffer *b = nj_detect_buffer_get(base);

		if (base == NJ_DETECT_BUF_PKT || base == NJ_DETECT_BUF_STREAM ||
		    (b && (b->flags & NJ_BUFF_PACKET)))
			continue;
		if (!g || base >= e->nbuffers ||
		    !(g[base].get[buf_dir(base, d)] || g[base].get_multi[buf_dir(base, d)] ||
		      g[base].file_prop))
			return false;
	}
	return true;
}

/* Same getter for the direction and no transform: one scan serves both instances. */
static void tx_canon(const struct nj_detect_engine *e, uint16_t pid, int d, uint16_t *canon)
{
	const struct nj_detect_rules *r = e->rules;
	const struct al_getter *g = e->getters[pid];

	for (uint16_t i = 0; i < r->ninst; i++) {
		const struct nj_detect_bufinst *a = &r->inst[i];

		canon[i] = i;
		if (!g || a->ntf || a->base >= e->nbuffers)
			continue;
		for (uint16_t j = 0; j < i; j++) {
			const struct nj_detect_bufinst *b = &r->inst[j];

			if (!b->ntf && b->base < e->nbuffers && canon[j] == j &&
			    g[a->base].get[buf_dir(a->base, d)] &&
			    g[a->base].get[buf_dir(a->base, d)] ==
				    g[b->base].get[buf_dir(b->base, d)]) {
				canon[i] = j;
				break;
			}
		}
	}
}

static int tx_groups(struct nj_detect_engine *e)
{
	uint32_t *v = malloc((e->nsigs ? e->nsigs : 1) * sizeof(*v));
	uint16_t *canon = malloc((e->rules->ninst ? e->rules->ninst : 1) * sizeof(*canon));
	int ret = -1;

	if (!v || !canon)
		goto out;
	for (uint16_t pid = 1; pid < NJ_APP_MAX_PARSERS; pid++) {
		if (!nj_app_parser_by_id(pid))
			continue;
		for (int d = 0; d < 2; d++) {
			uint32_t n = 0;

			for (uint32_t num = 0; num < e->nsigs; num++) {
				const struct eng_sig *es = &e->sigs[num];

				if ((es->flags & (ES_TX | ES_NEVER)) != ES_TX)
					continue;
				if (!(es->flags & (d == 0 ? ES_TX_TS : ES_TX_TC)))
					continue;
				if (!(es->flags & ES_APP_ANY) && es->app_id != pid)
					continue;
				if (!tx_possible(e, es->s, pid, d))
					continue;
				v[n++] = num;
			}
			if (!n)
				continue;
			tx_canon(e, pid, d, canon);
			e->txg[pid][d] = calloc(1, sizeof(struct tx_group));
			if (!e->txg[pid][d] ||
			    cand_set_build(e, &e->txg[pid][d]->cs, v, n, 2, canon) < 0)
				goto out;
			e->nalways += e->txg[pid][d]->cs.nalways;
		}
	}
	ret = 0;
out:
	free(v);
	free(canon);
	return ret;
}

static int getters_build(struct nj_detect_engine *e)
{
	e->nbuffers = nj_detect_buffer_count();
	for (uint16_t pid = 1; pid < NJ_APP_MAX_PARSERS; pid++) {
		const struct nj_app_parser *p = nj_app_parser_by_id(pid);

		if (!p || (!p->buffers && !p->multi_buffers && !p->tx_file))
			continue;
		e->getters[pid] = calloc(e->nbuffers, sizeof(struct al_getter));
		if (!e->getters[pid])
			return -1;
		for (const struct nj_al_buffer *b = p->buffers; b && b->name; b++) {
			int id = nj_detect_buffer_id(b->name);

			if (id < 0 || (unsigned)id >= e->nbuffers || b->dir < 0 || b->dir > 1)
				continue;
			e->getters[pid][id].get[b->dir] = b->get;
		}
		for (const struct nj_al_multibuffer *b = p->multi_buffers; b && b->name; b++) {
			int id = nj_detect_buffer_id(b->name);

			if (id < 0 || (unsigned)id >= e->nbuffers || b->dir < 0 || b->dir > 1)
				continue;
			e->getters[pid][id].get_multi[b->dir] = b->get;
		}
		if (p->tx_file) {
			/* the file properties every protocol with files offers, unless the
			 * parser has its own getter (HTTP multipart: one name per part) */
			int nm = nj_detect_buffer_id("file.name"),
			    mg = nj_detect_buffer_id("file.magic");
			struct al_getter *g = e->getters[pid];

			if (nm >= 0 && (unsigned)nm < e->nbuffers && !g[nm].get[0] &&
			    !g[nm].get[1] && !g[nm].get_multi[0] && !g[nm].get_multi[1])
				g[nm].file_prop = AL_FILE_NAME;
			if (mg >= 0 && (unsigned)mg < e->nbuffers && !g[mg].get[0] &&
			    !g[mg].get[1] && !g[mg].get_multi[0] && !g[mg].get_multi[1])
				g[mg].file_prop = AL_FILE_MAGIC;
		}
	}
	return 0;
}

/* ------------------------------------------------------------ build */

static int conf_u32(const struct nj_conf *conf, const char *key, int64_t min, int64_t max,
		    uint32_t *out)
{
	int64_t v = *out;

	if (nj_conf_int(conf, NULL, key, min, max, &v) < 0)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int settings(struct nj_detect_engine *e, const struct nj_conf *conf, uint32_t *ts_groups,
		    uint32_t *tc_groups)
{
	uint64_t tail = 2048, cap = 64ull << 20;

	e->prefilter = true;
	e->flow_states = 262144;
	e->thr_entries = 65536;
	e->alert_max = 15;
	e->tag_sessions = e->tag_hosts = 4096;
	if (conf_u32(conf, "nightjar.detect.flow-states", 0, 1u << 30, &e->flow_states) < 0 ||
	    conf_u32(conf, "nightjar.detect.threshold-entries", 16, 1u << 26, &e->thr_entries) <
		    0 ||
	    conf_u32(conf, "packet-alert-max", 1, 1000, &e->alert_max) < 0 ||
	    conf_u32(conf, "nightjar.detect.tag-sessions", 0, 1u << 24, &e->tag_sessions) < 0 ||
	    conf_u32(conf, "nightjar.detect.tag-hosts", 0, 1u << 24, &e->tag_hosts) < 0 ||
	    conf_u32(conf, "detect.custom-values.toserver-groups", 0, 64, ts_groups) < 0 ||
	    conf_u32(conf, "detect.custom-values.toclient-groups", 0, 64, tc_groups) < 0 ||
	    nj_conf_bool(conf, NULL, "nightjar.detect.prefilter", &e->prefilter) < 0 ||
	    nj_conf_bool(conf, NULL, "nightjar.detect.prefilter-offsets", &e->pf_offsets) < 0 ||
	    nj_conf_size(conf, NULL, "nightjar.detect.stream-tail", &tail) < 0 ||
	    nj_conf_size(conf, NULL, "nightjar.detect.stream-tail-memcap", &cap) < 0)
		return -1;
	{
		const char *il = NULL;

		if (nj_conf_str(conf, NULL, "stream.inline", &il) < 0)
			return -1;
		e->stream_inline = il && (!strcmp(il, "yes") || !strcmp(il, "true") ||
					  !strcmp(il, "on") || !strcmp(il, "1"));
	}
	/* Suricata's track-only (the default): raw content is not inspected once TLS is
	 * encrypted; full: it is */
	{
		const char *enc = NULL;

		if (nj_conf_str(conf, NULL, "app-layer.protocols.tls.encryption-handling", &enc) <
		    0)
			return -1;
		e->tls_raw = enc && strcmp(enc, "full") == 0;
		e->tls_id = parser_id("tls") == 0xffffu ? 0 : parser_id("tls");
	}
	/* action-order: pass, drop, reject, alert by default (Suricata's) */
	for (uint8_t k = 0; k < 4; k++)
		e->action_rank[k] = k;
	{
		static const char *const kinds[4] = {"pass", "drop", "reject", "alert"};
		const struct nj_conf_node *ao = nj_conf_get(conf, "action-order"), *it;
		uint8_t rank = 0, seen = 0;

		for (it = ao ? ao->child : NULL; it; it = it->next) {
			int k = -1;

			for (int i = 0; i < 4 && it->kind == NJ_CONF_SCALAR && it->value; i++)
				if (strcmp(it->value, kinds[i]) == 0)
					k = i;
			if (k < 0 || (seen & (1u << k))) {
				NJ_ERR("%s:%d: action-order: '%s' is not pass, drop, reject or "
				       "alert "
				       "(or is given twice)",
				       it->file, it->line, it->value ? it->value : "?");
				return -1;
			}
			seen |= (uint8_t)(1u << k);
			e->action_rank[k] = rank++;
		}
		if (ao && seen != 0x0f) {
			NJ_ERR("%s:%d: action-order must name pass, drop, reject and alert",
			       ao->file, ao->line);
			return -1;
		}
	}
	if (tail > (1u << 20))
		tail = 1u << 20;
	e->stream_tail = (uint32_t)tail;
	e->stream_tail_memcap = cap;
	/* a power of two for the threshold table */
	{
		uint32_t p = 16;

		while (p < e->thr_entries)
			p <<= 1;
		e->thr_entries = p;
	}
	return nj_alert_opts_load(conf, &e->ao);
}

struct nj_detect_engine *nj_detect_engine_build(const struct nj_detect_rules *rules,
						const struct nj_conf *conf)
{
	struct nj_detect_engine *e = calloc(1, sizeof(*e));
	uint32_t *order = NULL, cap = 0, ts_groups = 25, tc_groups = 8;
	struct eng_sig *tmp = NULL;
	uint64_t t0 = now_ns();

	if (!e)
		return NULL;
	e->rules = rules;
	if (settings(e, conf, &ts_groups, &tc_groups) < 0)
		goto out_fail;
	e->buf_ipv4 = nj_detect_buffer_id("ipv4.hdr");
	e->buf_ipv6 = nj_detect_buffer_id("ipv6.hdr");
	e->buf_tcp = nj_detect_buffer_id("tcp.hdr");
	e->buf_udp = nj_detect_buffer_id("udp.hdr");
	e->buf_icmpv4 = nj_detect_buffer_id("icmpv4.hdr");
	e->buf_icmpv6 = nj_detect_buffer_id("icmpv6.hdr");
	e->buf_ipsrc = nj_detect_buffer_id("ip.src");
	e->buf_ipdst = nj_detect_buffer_id("ip.dst");
	if (getters_build(e) < 0)
		goto out_fail;
	if (!rules || !rules->nsigs)
		goto done;

	e->nbits = rules->nbitnames;
	e->nints = rules->nintnames;
	e->traffic_bits = malloc((e->nbits ? e->nbits : 1) * sizeof(*e->traffic_bits));
	if (!e->traffic_bits)
		goto out_fail;
	for (uint32_t i = 0; i < e->nbits; i++)
		if (!strncmp(rules->bitnames[i], "traffic/id/", 11) ||
		    !strncmp(rules->bitnames[i], "traffic/label/", 14))
			e->traffic_bits[e->ntraffic++] = (uint16_t)i;
	e->off_intset = (e->nbits + 7) / 8;
	e->off_ints = (e->off_intset + (e->nints + 7) / 8 + 3) & ~3u;
	e->fstate_size = (uint32_t)sizeof(struct eng_flow) + e->off_ints + 4 * e->nints;
	e->nsigs = rules->nsigs;
	tmp = calloc(e->nsigs, sizeof(*tmp));
	order = malloc(e->nsigs * sizeof(*order));
	e->sigs = calloc(e->nsigs, sizeof(*e->sigs));
	e->num_of_idx = malloc(e->nsigs * sizeof(*e->num_of_idx));
	e->evsigs = malloc((e->nsigs + 1) * sizeof(*e->evsigs));
	if (!tmp || !order || !e->sigs || !e->num_of_idx || !e->evsigs)
		goto out_fail;
	for (uint32_t i = 0; i < e->nsigs; i++) {
		classify(e, rules->sigs[i], &tmp[i]);
		order[i] = i;
	}
	sort_base = tmp;
	qsort(order, e->nsigs, sizeof(*order), order_cmp);
	for (uint32_t num = 0; num < e->nsigs; num++) {
		e->sigs[num] = tmp[order[num]];
		e->num_of_idx[rules->sigs[order[num]]->idx] = num;
		if (e->sigs[num].flags & ES_NEVER)
			e->nnever++;
		else if (e->sigs[num].flags & ES_EVENT)
			e->evsigs[e->nevsigs++] = num;
		else if (e->sigs[num].flags & ES_TX)
			e->ntx++;
		else if (e->sigs[num].flags & ES_IPONLY)
			e->niponly++;
		else
			e->npkt++;
	}
	e->nactive = e->nsigs - e->nnever;

	if (group_add(e, &cap) != 0) /* group 0: empty, for classes without port groups */
		goto out_fail;
	for (int c = 0; c < PC_MAX; c++)
		for (int d = 0; d < 2; d++)
			if (class_groups(e, c, d, d == 0 ? ts_groups : tc_groups, &cap) < 0)
				goto out_fail;
	if (tx_groups(e) < 0)
		goto out_fail;
	{
		uint32_t *ip = malloc(e->nsigs * sizeof(*ip)), nip = 0;

		if (!ip)
			goto out_fail;
		for (uint32_t num = 0; num < e->nsigs; num++)
			if ((e->sigs[num].flags & (ES_IPONLY | ES_NEVER | ES_EVENT)) == ES_IPONLY)
				ip[nip++] = num;
		if (nj_iponly_build(e, ip, nip) < 0) {
			free(ip);
			goto out_fail;
		}
		free(ip);
	}
	if (e->stream_overlap)
		e->stream_overlap--;
done:
	free(tmp);
	free(order);
	e->build_ns = now_ns() - t0;
	NJ_INFO("detect: %u signatures active (%u packet, %u ip-only, %u app-layer), %u not "
		"evaluated; %u groups, %u prefilter databases, %u patterns, %u always-evaluated "
		"entries; "
		"built in %.2f s",
		e->nactive, e->npkt, e->niponly, e->ntx, e->nnever, e->ngroups, e->ndbs,
		e->npatterns, e->nalways, (double)e->build_ns / 1e9);
	return e;
out_fail:
	free(tmp);
	free(order);
	nj_detect_engine_free(e);
	return NULL;
}

void nj_detect_engine_print_summary(FILE *out, const struct nj_detect_engine *e)
{
	if (!e || !out)
		return;
	fprintf(out,
		"detect: %u signatures active (%u packet, %u ip-only, %u app-layer), %u not "
		"evaluated; %u groups, %u prefilter databases (%u patterns), %u always-evaluated "
		"entries; built in %.2f s\n",
		e->nactive, e->npkt, e->niponly, e->ntx, e->nnever, e->ngroups, e->ndbs,
		e->npatterns, e->nalways, (double)e->build_ns / 1e9);
}

void nj_detect_engine_free(struct nj_detect_engine *e)
{
	if (!e)
		return;
	for (uint32_t g = 0; g < e->ngroups; g++)
		for (int k = 0; k < CS_MAX; k++)
			free(e->groups[g].always[k]);
	free(e->groups);
	for (int c = 0; c < PC_MAX; c++)
		for (int d = 0; d < 2; d++)
			for (int k = 0; k < CS_MAX; k++)
				cand_set_free(&e->cls[c][d].cs[k]);
	nj_iponly_free(e);
	for (int i = 0; i < 2; i++)
		for (int d = 0; d < 2; d++)
			free(e->portmap[i][d]);
	for (unsigned p = 0; p < NJ_APP_MAX_PARSERS; p++) {
		for (int d = 0; d < 2; d++) {
			if (e->txg[p][d]) {
				cand_set_free(&e->txg[p][d]->cs);
				free(e->txg[p][d]);
			}
		}
		free(e->getters[p]);
	}
	if (e->proto_scratch)
		hs_free_scratch(e->proto_scratch);
	free(e->sigs);
	free(e->num_of_idx);
	free(e->evsigs);
	free(e->traffic_bits);
	free(e);
}

unsigned nj_detect_engine_sig_count(const struct nj_detect_engine *e)
{
	return e ? e->nactive : 0;
}

/* ------------------------------------------------------------ threads */

struct nj_detect_thread *nj_detect_thread_create(const struct nj_detect_engine *e,
						 struct nj_eve_worker *eve)
{
	struct nj_detect_thread *t = calloc(1, sizeof(*t));
	uint32_t n;

	if (!t)
		return NULL;
	t->e = e;
	t->eve = eve;
	if (e && e->nsigs)
		nj_eve_set_flow_meta(eve, nj_alert_flow_meta, t);
	t->cur_app = -1;
	n = e && e->nsigs ? e->nsigs : 1;
	t->cand = malloc(n * sizeof(*t->cand));
	t->stamp = calloc(n, sizeof(*t->stamp));
	t->ctx = nj_detect_ctx_new(e ? e->rules : NULL);
	if (!t->cand || !t->stamp || !t->ctx)
		goto out_fail;
	if (e && e->proto_scratch && hs_clone_scratch(e->proto_scratch, &t->scratch) != HS_SUCCESS)
		goto out_fail;
	if (e && e->nsigs) {
		struct nj_tag_limits tl = {e->tag_sessions, e->tag_hosts};
		int terr;

		t->thr = calloc(e->thr_entries, sizeof(*t->thr));
		t->meta = malloc(ALERT_META_ARENA);
		if (!t->thr || !t->meta)
			goto out_fail;
		t->tag = nj_tag_thread_new((const struct nj_detect_sig *const *)e->rules->sigs,
					   e->rules->nsigs, &tl, &terr);
		if (terr)
			goto out_fail;
	}
	return t;
out_fail:
	nj_detect_thread_free(t);
	return NULL;
}

void nj_detect_thread_free(struct nj_detect_thread *t)
{
	if (!t)
		return;
	if (t->eve && t->e && t->e->nsigs)
		nj_eve_set_flow_meta(t->eve, NULL, NULL);
	if (t->scratch)
		hs_free_scratch(t->scratch);
	nj_detect_ctx_free(t->ctx);
	free(t->cand);
	free(t->stamp);
	free(t->tfbuf);
	free(t->tftmp);
	free(t->sbuf);
	free(t->carena);
	free(t->thr);
	free(t->meta);
	nj_tag_thread_free(t->tag);
	free(t);
}

const struct nj_detect_stats *nj_detect_thread_stats(const struct nj_detect_thread *t)
{
	return &t->st;
}
