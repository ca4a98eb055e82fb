/* SPDX-License-Identifier: MIT */
/*
 * DNS app-layer parser: probing, per-flow state, UDP datagrams and TCP
 * length-prefixed streams, transactions (request/response pairing),
 * anomaly events, detection buffers and configuration.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../../common/nj_common.h"
#include "../../config/config.h"
#include "../../dataplane/flow.h"
#include "dns.h"

NJ_CONF_KEY(dns_txmode, "app-layer.protocols.dns.transactions", NJ_CT_STR, "paired",
	    "paired: a request and its response (same id and question) are one transaction; "
	    "message: every message is its own transaction, logged at once (Suricata 8).")
NJ_CONF_KEY(dns_maxtx, "app-layer.protocols.dns.max-tx", NJ_CT_INT, "256",
	    "DNS transactions kept per flow; past it the oldest unanswered request is completed "
	    "(event flooded).")
NJ_CONF_KEY(dns_timeout, "app-layer.protocols.dns.request-timeout", NJ_CT_INT, "30",
	    "Seconds after which an unanswered request is completed and logged (paired; 0: only "
	    "at flow end).")
NJ_CONF_KEY(dns_tcpcfg, "app-layer.protocols.dns.tcp", NJ_CT_MAP, "",
	    "Suricata's per-transport settings: detection-ports.dp adds ports (a number or a "
	    "comma list) on which DNS is detected, besides 53; the rest is accepted and ignored.")
NJ_CONF_KEY(dns_udpcfg, "app-layer.protocols.dns.udp", NJ_CT_MAP, "", "As dns.tcp.")
NJ_CONF_KEY(dns_dports, "app-layer.protocols.dns.detection-ports", NJ_CT_MAP, "", "As dns.tcp.")
NJ_CONF_KEY(dns_eve, "outputs.*.eve-log.types.*.dns", NJ_CT_MAP, "version 3",
	    "DNS EVE options: version (2 or 3; else env SURICATA_EVE_DNS_VERSION), requests, "
	    "responses (yes), types (list of rrtypes to log; default all), formats ([detailed, "
	    "grouped]), rdata-extended (yes: rdata text for DS, DNSKEY, RRSIG, NSEC, HTTPS, SVCB, "
	    "CAA and hex for other types Suricata logs bare). The first eve-log listing dns "
	    "sets them for all outputs.")

/* ------------------------------------------------------------------ config */

static struct nj_dns_config dns_cfg = {
	.version = 3,
	.requests = true,
	.responses = true,
	.detailed = true,
	.grouped = true,
	.all_types = true,
	.rdata_extended = true,
	.paired = true,
	.max_tx = 256,
	.request_timeout_s = 30,
};

void nj_dns_config_defaults(struct nj_dns_config *c)
{
	memset(c, 0, sizeof(*c));
	c->version = 3;
	c->requests = c->responses = true;
	c->detailed = c->grouped = true;
	c->all_types = true;
	c->rdata_extended = true;
	c->paired = true;
	c->max_tx = 256;
	c->request_timeout_s = 30;
}

void nj_dns_config_set(const struct nj_dns_config *c)
{
	dns_cfg = *c;
	if (dns_cfg.max_tx == 0)
		dns_cfg.max_tx = 1;
}

const struct nj_dns_config *nj_dns_config_get(void)
{
	return &dns_cfg;
}

static bool null_scalar(const char *v)
{
	return !v || !*v || !strcmp(v, "~") || !strcasecmp(v, "null");
}

/* Calls fn for every scalar of a list value (a sequence, or one scalar). */
static void list_each(const struct nj_conf_node *n, void (*fn)(void *, const struct nj_conf_node *),
		      void *arg)
{
	if (!n)
		return;
	if (n->kind == NJ_CONF_SCALAR) {
		if (!null_scalar(n->value))
			fn(arg, n);
		return;
	}
	for (const struct nj_conf_node *it = n->child; it; it = it->next)
		if (it->kind == NJ_CONF_SCALAR && !null_scalar(it->value))
			fn(arg, it);
}

static void type_item(void *arg, const struct nj_conf_node *n)
{
	struct nj_dns_config *c = arg;
	uint64_t bit;

	/* Suricata ignores names it does not know */
	if (nj_dns_type_filter_bit(n->value, &bit))
		c->type_mask |= bit;
	else
		NJ_WARN("%s:%d: dns types: unknown rrtype '%s' ignored", n->file, n->line,
			n->value);
}

struct fmt_acc {
	bool detailed, grouped;
};

static void format_item(void *arg, const struct nj_conf_node *n)
{
	struct fmt_acc *f = arg;

	if (!strcasecmp(n->value, "detailed"))
		f->detailed = true;
	else if (!strcasecmp(n->value, "grouped"))
		f->grouped = true;
	else
		NJ_WARN("%s:%d: invalid DNS log format '%s'", n->file, n->line, n->value);
}

/* The dns entry of an eve-log's types: *listed, and its map when it has one. */
static const struct nj_conf_node *dns_entry(const struct nj_conf_node *eve, bool *listed)
{
	const struct nj_conf_node *types = nj_conf_node_get(eve, "types");

	*listed = false;
	if (!types)
		return NULL;
	for (const struct nj_conf_node *it = types->child; it; it = it->next) {
		if (it->kind == NJ_CONF_SCALAR && it->value && !strcmp(it->value, "dns")) {
			*listed = true;
			return NULL;
		}
		if (it->kind == NJ_CONF_MAP && it->child && it->child->key &&
		    !strcmp(it->child->key, "dns")) {
			*listed = true;
			return it->child->kind == NJ_CONF_MAP ? it->child : NULL;
		}
	}
	return NULL;
}

int nj_dns_config_eve(const struct nj_conf *conf, const struct nj_conf_node *eve,
		      struct nj_dns_config *c)
{
	const struct nj_conf_node *d = NULL, *n;
	const char *vs;
	bool listed, b;
	int64_t v = 0;
	int r = 1;

	if (eve)
		d = dns_entry(eve, &listed);
	/* the version: the entry's key, else Suricata's environment variable */
	if (d && (r = nj_conf_int(conf, d, "version", 0, 255, &v)) < 0)
		return -1;
	if (r == 1) {
		vs = getenv("SURICATA_EVE_DNS_VERSION");
		v = vs ? strtol(vs, NULL, 10) : 3;
	}
	if (v == 2) {
		c->version = 2;
	} else {
		if (v != 3)
			NJ_WARN("dns: EVE version %lld not supported, using 3", (long long)v);
		c->version = 3;
	}
	if (!d)
		return 0;
	/* requests/responses, or the version 1 names query/answer */
	if ((r = nj_conf_bool(conf, d, "requests", &b)) < 0)
		return -1;
	if (r == 1 && (r = nj_conf_bool(conf, d, "query", &b)) < 0)
		return -1;
	if (r == 0)
		c->requests = b;
	if ((r = nj_conf_bool(conf, d, "responses", &b)) < 0)
		return -1;
	if (r == 1 && (r = nj_conf_bool(conf, d, "answer", &b)) < 0)
		return -1;
	if (r == 0)
		c->responses = b;
	if ((n = nj_conf_node_get(d, "types")) != NULL) {
		c->all_types = false;
		c->type_mask = 0;
		list_each(n, type_item, c);
	}
	if ((n = nj_conf_node_get(d, "formats")) != NULL) {
		struct fmt_acc f = {false, false};

		list_each(n, format_item, &f);
		if (f.detailed || f.grouped) {
			c->detailed = f.detailed;
			c->grouped = f.grouped;
		} else {
			NJ_WARN("%s:%d: empty EVE DNS format list, using defaults", n->file,
				n->line);
		}
	}
	if (nj_conf_bool(conf, d, "rdata-extended", &c->rdata_extended) < 0)
		return -1;
	return 0;
}

/* The first enabled eve-log that lists dns (its settings apply to every output). */
static const struct nj_conf_node *first_dns_eve(const struct nj_conf *conf)
{
	const struct nj_conf_node *outs = nj_conf_get(conf, "outputs");

	if (!outs)
		return NULL;
	for (const struct nj_conf_node *o = outs->child; o; o = o->next) {
		const struct nj_conf_node *e = nj_conf_node_get(o, "eve-log");
		bool en = true, listed;

		if (!e || e->kind != NJ_CONF_MAP)
			continue;
		if (nj_conf_bool(conf, e, "enabled", &en) == 0 && !en)
			continue;
		dns_entry(e, &listed);
		if (listed)
			return e;
	}
	return NULL;
}

/* detection-ports.dp of dns, dns.tcp, dns.udp: added to the parser's port hints. */
static int dns_ports_configure(const struct nj_conf *conf)
{
	static const char *const keys[] = {"app-layer.protocols.dns.detection-ports.dp",
					   "app-layer.protocols.dns.tcp.detection-ports.dp",
					   "app-layer.protocols.dns.udp.detection-ports.dp"};

	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		const char *v = NULL;
		char buf[256], *save = NULL;

		if (nj_conf_str(conf, NULL, keys[k], &v) < 0)
			return -1;
		if (!v)
			continue;
		snprintf(buf, sizeof(buf), "%s", v);
		for (char *t = strtok_r(buf, ", []", &save); t; t = strtok_r(NULL, ", []", &save)) {
			char *end;
			unsigned long port = strtoul(t, &end, 10);
			unsigned i;

			if (*end || !port || port > 65535)
				continue; /* ranges and negations are Suricata's; not port hints here */
			for (i = 0; i < 7 && nj_dns_parser.ports[i]; i++)
				if (nj_dns_parser.ports[i] == port)
					break;
			if (i < 7 && !nj_dns_parser.ports[i])
				nj_dns_parser.ports[i] = (uint16_t)port;
		}
	}
	return 0;
}

static int dns_configure(const struct nj_conf *conf)
{
	struct nj_dns_config c;
	const char *mode = NULL;
	int64_t v;
	int r;

	nj_dns_config_defaults(&c);
	if (!conf) {
		nj_dns_config_eve(NULL, NULL, &c); /* the version may come from the environment */
		nj_dns_config_set(&c);
		return 0;
	}
	if (dns_ports_configure(conf) < 0)
		return -1;
	if ((r = nj_conf_str(conf, NULL, "app-layer.protocols.dns.transactions", &mode)) < 0)
		return -1;
	if (r == 0) {
		if (!strcasecmp(mode, "paired")) {
			c.paired = true;
		} else if (!strcasecmp(mode, "message")) {
			c.paired = false;
		} else {
			const struct nj_conf_node *n =
				nj_conf_get(conf, "app-layer.protocols.dns.transactions");

			NJ_ERR("%s:%d: app-layer.protocols.dns.transactions: expected paired or "
			       "message",
			       n->file, n->line);
			return -1;
		}
	}
	v = c.max_tx;
	if (nj_conf_int(conf, NULL, "app-layer.protocols.dns.max-tx", 1, 65536, &v) < 0)
		return -1;
	c.max_tx = (uint32_t)v;
	v = c.request_timeout_s;
	if (nj_conf_int(conf, NULL, "app-layer.protocols.dns.request-timeout", 0, 86400, &v) < 0)
		return -1;
	c.request_timeout_s = (uint32_t)v;
	if (nj_dns_config_eve(conf, first_dns_eve(conf), &c) < 0)
		return -1;
	nj_dns_config_set(&c);
	return 0;
}

/* ------------------------------------------------------------------ state */

struct dns_state {
	struct nj_al_txq q;
	uint64_t seq;	/* messages parsed: the next message's Suricata tx id */
	uint32_t open;	/* requests waiting for their response */
	bool seen;	/* a message was parsed */
	bool reversed;	/* the first message was a response sent towards the flow's server */
	bool gap[2];	/* resync after lost bytes (TCP) */
	uint8_t bad[2]; /* consecutive unusable TCP messages */
};

/* TCP directions give up after this many unusable messages in a row. */
#define DNS_TCP_BAD_MAX 8

static void *dns_state_new(void)
{
	return calloc(1, sizeof(struct dns_state));
}

static struct nj_al_txq *dns_txq(void *st)
{
	return &((struct dns_state *)st)->q;
}

static bool msg_inline(const struct nj_dns_tx *tx, const struct nj_dns_msg *m)
{
	return (const void *)m == (const void *)(tx + 1);
}

static void dns_tx_free(void *st, struct nj_al_tx *al)
{
	struct dns_state *s = st;
	struct nj_dns_tx *tx = (struct nj_dns_tx *)al;

	if (tx->req && !tx->resp && !tx->al.done[1] && s->open)
		s->open--;
	if (tx->req && !msg_inline(tx, tx->req))
		free(tx->req);
	if (tx->resp && !msg_inline(tx, tx->resp))
		free(tx->resp);
	free(tx);
}

static void dns_state_free(void *st)
{
	struct dns_state *s = st;
	struct nj_al_tx *tx, *next;

	if (!s)
		return;
	for (tx = s->q.head; tx; tx = next) {
		next = tx->next;
		dns_tx_free(s, tx);
	}
	free(s);
}

const struct nj_dns_msg *nj_dns_tx_msg(const struct nj_al_tx *tx, int dir)
{
	const struct nj_dns_tx *t = nj_dns_tx_of(tx);

	return dir == NJ_DIR_TOSERVER ? t->req : t->resp;
}

/* Fills a message record at m (len bytes of wire data, then the decoded first name). */
static void msg_fill(struct nj_dns_msg *m, const uint8_t *data, uint32_t len,
		     const struct nj_dns_info *info, const struct nj_dns_name *qn, uint64_t ts,
		     uint64_t seq, int dir)
{
	m->ts_us = ts;
	m->seq = seq;
	m->info = *info;
	m->dir = (uint8_t)dir;
	m->len = len;
	memcpy(m->data, data, len);
	m->qname = m->data + len;
	m->qname_len = info->hdr.qdcount ? qn->len : 0;
	m->qname_flags = info->hdr.qdcount ? qn->flags : 0;
	if (m->qname_len)
		memcpy(m->data + len, qn->data, m->qname_len);
}

static size_t msg_size(uint32_t len, const struct nj_dns_info *info, const struct nj_dns_name *qn)
{
	return sizeof(struct nj_dns_msg) + len + (info->hdr.qdcount ? qn->len : 0);
}

/* A transaction holding one message inline. */
static struct nj_dns_tx *tx_new(const uint8_t *data, uint32_t len, const struct nj_dns_info *info,
				const struct nj_dns_name *qn, uint64_t ts, uint64_t seq, int dir,
				bool is_req)
{
	struct nj_dns_tx *tx = malloc(sizeof(*tx) + msg_size(len, info, qn));
	struct nj_dns_msg *m;

	if (!tx)
		return NULL;
	memset(tx, 0, sizeof(*tx));
	m = (struct nj_dns_msg *)(tx + 1);
	msg_fill(m, data, len, info, qn, ts, seq, dir);
	if (is_req)
		tx->req = m;
	else
		tx->resp = m;
	return tx;
}

static void complete_unanswered(struct dns_state *s, struct nj_dns_tx *tx)
{
	tx->unanswered = true;
	tx->al.done[1] = 1;
	if (s->open)
		s->open--;
}

/* Paired mode: requests older than the timeout are completed, oldest first. */
static void expire_requests(struct dns_state *s, uint64_t now)
{
	uint64_t lim = (uint64_t)dns_cfg.request_timeout_s * 1000000u;

	if (!lim || !s->open)
		return;
	for (struct nj_al_tx *t = s->q.head; t && s->open; t = t->next) {
		struct nj_dns_tx *tx = (struct nj_dns_tx *)t;

		if (!tx->req || tx->resp || tx->al.done[1])
			continue;
		if (tx->req->ts_us + lim > now)
			break; /* the rest are younger */
		complete_unanswered(s, tx);
	}
}

/* Room for one more transaction: complete the oldest open request when at the cap. */
static void make_room(struct dns_state *s, struct nj_al_ctx *c, int dir)
{
	if (s->q.count < dns_cfg.max_tx || !s->open)
		return;
	for (struct nj_al_tx *t = s->q.head; t; t = t->next) {
		struct nj_dns_tx *tx = (struct nj_dns_tx *)t;

		if (tx->req && !tx->resp && !tx->al.done[1]) {
			complete_unanswered(s, tx);
			nj_al_event(c, dir, "flooded");
			return;
		}
	}
}

static bool name_eq(const uint8_t *a, uint16_t al, const uint8_t *b, uint16_t bl)
{
	if (al != bl)
		return false;
	for (unsigned i = 0; i < al; i++) {
		uint8_t x = a[i], y = b[i];

		if (x >= 'A' && x <= 'Z')
			x |= 0x20;
		if (y >= 'A' && y <= 'Z')
			y |= 0x20;
		if (x != y)
			return false;
	}
	return true;
}

/* The oldest open request a response answers: same id and (if it has one) same question. */
static struct nj_dns_tx *find_request(struct dns_state *s, const struct nj_dns_info *info,
				      const struct nj_dns_name *qn)
{
	if (!s->open)
		return NULL;
	for (struct nj_al_tx *t = s->q.head; t; t = t->next) {
		struct nj_dns_tx *tx = (struct nj_dns_tx *)t;
		const struct nj_dns_msg *r = tx->req;

		if (!r || tx->resp || tx->al.done[1] || r->info.hdr.id != info->hdr.id)
			continue;
		if (!info->hdr.qdcount)
			return tx;
		if (r->info.hdr.qdcount && r->info.qtype == info->qtype &&
		    r->info.qclass == info->qclass &&
		    name_eq(r->qname, r->qname_len, qn->data, qn->len))
			return tx;
	}
	return NULL;
}

/* The message's events; tx_id: the message's number (Suricata's transaction id). */
static void msg_events(struct nj_al_ctx *c, int dir, const struct nj_dns_info *info, bool is_req,
		       uint64_t tx_id)
{
	uint16_t fl = info->hdr.flags;

	if (info->invalid_additionals)
		nj_al_event_tx(c, dir, "invalid_additionals", tx_id);
	if (info->invalid_authorities)
		nj_al_event_tx(c, dir, "invalid_authorities", tx_id);
	if (!is_req && !(fl & 0x8000))
		nj_al_event_tx(c, dir, "not_response", tx_id);
	if (fl & 0x0040)
		nj_al_event_tx(c, dir, "z_flag_set", tx_id);
	if (((fl >> 11) & 0xf) >= 7)
		nj_al_event_tx(c, dir, "invalid_opcode", tx_id);
	if (info->name_flags & NJ_DNS_NAME_TRUNCATED)
		nj_al_event_tx(c, dir, "name_too_long", tx_id);
	if (info->name_flags & NJ_DNS_NAME_INFINITE_LOOP)
		nj_al_event_tx(c, dir, "infinite_loop", tx_id);
	if (info->name_flags & NJ_DNS_NAME_LABEL_LIMIT)
		nj_al_event_tx(c, dir, "too_many_labels", tx_id);
}

/*
 * One complete DNS message of direction dir. Returns 0 when it was usable
 * (a transaction was created or completed), -1 otherwise.
 */
static int handle_msg(struct dns_state *s, struct nj_al_ctx *c, int dir, const uint8_t *data,
		      uint32_t len)
{
	struct nj_dns_name qn;
	struct nj_dns_info info;
	struct nj_dns_tx *tx;
	uint64_t ts = nj_al_ts(c);
	bool is_req;
	int r;

	if (dns_cfg.paired)
		expire_requests(s, ts);
	r = nj_dns_msg_parse(data, len, &info, &qn);
	if (r == NJ_DNS_ERR_HEADER)
		return -1; /* as Suricata: not DNS enough to say anything about it */
	/*
	 * A flow whose first message is a response sent to the "server" side (or a
	 * request sent to the "client") is the wrong way round; Suricata turns it
	 * at detection, the framework does for UDP, this covers the rest (TCP).
	 */
	if (!s->seen && (dir == NJ_DIR_TOSERVER) == !!(info.hdr.flags & 0x8000))
		s->reversed = true;
	is_req = (dir ^ s->reversed) == NJ_DIR_TOSERVER;
	if (r == NJ_DNS_ERR_MALFORMED) {
		nj_al_event(c, dir, "malformed_data");
		return -1;
	}
	if (is_req && (info.hdr.flags & 0x8000)) {
		nj_al_event(c, dir, "not_request");
		return -1;
	}
	s->seen = true;
	/* the message's number: the tx_id its events and its dns event are logged with */
	msg_events(c, dir, &info, is_req, s->seq);
	if (is_req) {
		make_room(s, c, dir);
		tx = tx_new(data, len, &info, &qn, ts, s->seq++, dir, true);
		if (!tx)
			return -1;
		tx->al.done[0] = 1;
		tx->al.progress[0] = 1;
		if (dns_cfg.paired)
			s->open++;
		else
			tx->al.done[1] = 1;
		nj_al_tx_add(&s->q, &tx->al);
		return 0;
	}
	tx = dns_cfg.paired ? find_request(s, &info, &qn) : NULL;
	if (tx) {
		struct nj_dns_msg *m = malloc(msg_size(len, &info, &qn));

		if (!m)
			return -1;
		msg_fill(m, data, len, &info, &qn, ts, s->seq++, dir);
		tx->resp = m;
		tx->al.done[1] = 1;
		tx->al.progress[1] = 1;
		s->open--;
		return 0;
	}
	make_room(s, c, dir);
	tx = tx_new(data, len, &info, &qn, ts, s->seq++, dir, false);
	if (!tx)
		return -1;
	tx->al.done[0] = tx->al.done[1] = 1;
	tx->al.progress[1] = 1;
	nj_al_tx_add(&s->q, &tx->al);
	return 0;
}

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Does a TCP stream start with a DNS message here? 1 yes, 0 cannot tell yet, -1 no. */
static int probe_tcp(const uint8_t *data, uint32_t len)
{
	struct nj_dns_hdr h;
	struct nj_dns_info info;
	uint32_t dlen;

	if (len < 2 + NJ_DNS_HDR_LEN)
		return 0;
	dlen = rd16(data);
	if (dlen < NJ_DNS_HDR_LEN)
		return -1;
	nj_dns_hdr_parse(data + 2, len - 2, &h);
	if (!nj_dns_hdr_plausible(&h, dlen))
		return -1;
	if (len - 2 < dlen) {
		/*
		 * A message longer than what probing may buffer (app-layer.probe-max):
		 * as Suricata, a plausible header of an incomplete message is DNS.
		 */
		return len - 2 >= 512 ? 1 : 0;
	}
	return nj_dns_msg_parse(data + 2, dlen, &info, NULL) == NJ_DNS_OK ? 1 : -1;
}

static bool flow_is_tcp(struct nj_al_ctx *c)
{
	const struct nj_flow *f = nj_al_flow(c);

	return !f || f->proto == 6;
}

static int32_t dns_parse(void *st, struct nj_al_ctx *c, int dir, const uint8_t *data, uint32_t len)
{
	struct dns_state *s = st;
	uint32_t pos = 0;

	if (!flow_is_tcp(c)) {
		/* a datagram is one message */
		handle_msg(s, c, dir, data, len);
		return (int32_t)len;
	}
	if (s->gap[dir]) {
		/*
		 * After lost bytes, skip data until it starts like a DNS message (as
		 * Suricata: fewer than a prefix and a header is not DNS).
		 */
		if (len >= 2 && (len < 2 + NJ_DNS_HDR_LEN || probe_tcp(data, len) < 0))
			return (int32_t)len;
		s->gap[dir] = false;
	}
	while (len - pos >= 2) {
		uint32_t size = rd16(data + pos);

		if (size == 0) {
			pos += 2;
			continue;
		}
		if (len - pos - 2 < size)
			break;
		if (handle_msg(s, c, dir, data + pos + 2, size) < 0) {
			if (++s->bad[dir] >= DNS_TCP_BAD_MAX)
				return NJ_AL_ERROR;
		} else {
			s->bad[dir] = 0;
		}
		pos += 2 + size;
	}
	return (int32_t)pos;
}

static void dns_gap(void *st, struct nj_al_ctx *c, int dir, uint32_t len)
{
	struct dns_state *s = st;

	(void)c;
	if (len)
		s->gap[dir] = true;
}

static void dns_close(void *st, struct nj_al_ctx *c, int dir)
{
	struct dns_state *s = st;

	(void)c;
	/* no more responses: what is still open stays unanswered */
	if ((dir ^ s->reversed) != NJ_DIR_TOCLIENT)
		return;
	for (struct nj_al_tx *t = s->q.head; t && s->open; t = t->next) {
		struct nj_dns_tx *tx = (struct nj_dns_tx *)t;

		if (tx->req && !tx->resp && !tx->al.done[1])
			complete_unanswered(s, tx);
	}
}

/*
 * Probe: a whole datagram that parses as DNS, or a TCP stream whose first
 * length-prefixed message does (the transport is not known here, so both
 * readings are tried). A response sent towards the server side, or a request
 * towards the client side, means the flow's orientation is the wrong way
 * round: NJ_PROBE_YES_REVERSED, as Suricata turns such flows around.
 */
static int dns_probe(const uint8_t *data, uint32_t len, int dir)
{
	struct nj_dns_info info;
	const uint8_t *msg = data;

	if (len >= NJ_DNS_HDR_LEN && nj_dns_msg_parse(data, len, &info, NULL) == NJ_DNS_OK) {
		/* a UDP message */
	} else {
		switch (probe_tcp(data, len)) {
		case 1: msg = data + 2; break;
		case 0: return NJ_PROBE_MORE;
		default: return NJ_PROBE_NO;
		}
	}
	if ((dir == NJ_DIR_TOSERVER) == !!(msg[2] & 0x80))
		return NJ_PROBE_YES_REVERSED;
	return NJ_PROBE_YES;
}

/* ------------------------------------------------------------- buffers */

static bool buf_query_ts(const struct nj_al_tx *tx, const uint8_t **data, uint32_t *len)
{
	const struct nj_dns_msg *m = nj_dns_tx_of(tx)->req;

	if (!m || !m->qname_len)
		return false;
	*data = m->qname;
	*len = m->qname_len;
	return true;
}

static const struct nj_al_buffer dns_buffers[] = {
	{"dns.query", NJ_DIR_TOSERVER, buf_query_ts},
	{NULL, 0, NULL},
};

/* An alert's tx_id: the number of the message inspected (the tx's own id without one). */
static uint64_t dns_alert_tx_id(const struct nj_al_tx *tx, int dir)
{
	const struct nj_dns_msg *m = nj_dns_tx_msg(tx, dir);

	return m ? m->seq : tx->id;
}

struct nj_app_parser nj_dns_parser = {
	.name = "dns",
	.ipproto_mask = NJ_AL_TCP | NJ_AL_UDP,
	.ports = {53, 0},
	.probe_min = NJ_DNS_HDR_LEN,
	.probe_ports_only = true,
	.eve = NJ_EVE_DNS,
	.probe = dns_probe,
	.state_new = dns_state_new,
	.state_free = dns_state_free,
	.parse = dns_parse,
	.gap = dns_gap,
	.close = dns_close,
	.txq = dns_txq,
	.tx_free = dns_tx_free,
	.log_tx_dir = nj_dns_log_tx_dir,
	.log_no_tx_id = true, /* Suricata writes dns.tx_id, not a top-level one */
	.buffers = dns_buffers,
	.multi_buffers = nj_dns_multi_buffers, /* dns_detect.c */
	.alert_json = nj_dns_alert_json,
	.detect_per_dir = true, /* Suricata 8: every message is a transaction */
	.alert_tx_id = dns_alert_tx_id,
	.configure = dns_configure,
};

NJ_APP_PARSER_REGISTER(nj_dns_parser)
