/* SPDX-License-Identifier: MIT */
/*
 * TLS app-layer parser: probing, record layer (SSLv2-compatible records,
 * SSL 3.0 to TLS 1.3), handshake message reassembly, hellos, certificates,
 * session resumption, heartbeat checks, anomaly events, the one transaction
 * per flow, detection buffers and configuration.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../../common/nj_common.h"
#include "../../config/config.h"
#include "tls_priv.h"

NJ_CONF_KEY(tls_ja3, "app-layer.protocols.tls.ja3-fingerprints", NJ_CT_STR, "yes",
	    "JA3/JA3S: yes, no, or auto (Suricata's default: computed only when a loaded rule "
	    "uses ja3.* or ja3s.*). Nightjar computes them unless told otherwise.")
NJ_CONF_KEY(tls_ja4, "app-layer.protocols.tls.ja4-fingerprints", NJ_CT_STR, "auto",
	    "JA4 of client hellos: no disables it; yes and auto compute it (it is cheap).")
NJ_CONF_KEY(tls_maxmsg, "app-layer.protocols.tls.max-handshake-message", NJ_CT_SIZE, "128kb",
	    "Largest handshake message reassembled across records (certificate chains); "
	    "larger ones are skipped (event HANDSHAKE_INVALID_LENGTH).")
NJ_CONF_KEY(tls_maxmem, "app-layer.protocols.tls.max-memory", NJ_CT_SIZE, "256kb",
	    "Memory one TLS transaction may keep (names, extension lists, certificate chains "
	    "for certificate/chain logging).")
NJ_CONF_KEY(tls_certcache, "app-layer.protocols.tls.certificate-cache", NJ_CT_SIZE, "1mb",
	    "Memory per worker for decoded certificates (4 KiB per certificate): a server "
	    "certificate seen before is not decoded again. 0 disables the cache.")
NJ_CONF_KEY(tls_dports, "app-layer.protocols.tls.detection-ports", NJ_CT_MAP, "",
	    "Suricata's setting: accepted, ignored; TLS is detected by probing on any port "
	    "(443, 465, 636, 993, 995, 8443 first).")
NJ_CONF_KEY(tls_enc, "app-layer.protocols.tls.encryption-handling", NJ_CT_STR, "track-only",
	    "Suricata's setting: accepted; encrypted records are always only counted.")
NJ_CONF_KEY(tls_enc_old, "app-layer.protocols.tls.encrypt-handling", NJ_CT_STR, "default",
	    "Older spelling of encryption-handling: accepted, ignored.")
NJ_CONF_KEY(tls_noreasm, "app-layer.protocols.tls.no-reassemble", NJ_CT_BOOL, "no",
	    "Suricata's setting: accepted, ignored.")
NJ_CONF_KEY(tls_eve, "outputs.*.eve-log.types.*.tls", NJ_CT_MAP, "",
	    "TLS EVE options: extended (yes: Suricata's extended fields), custom (list of "
	    "fields: subject, issuer, serial, fingerprint, sni, version, not_before, not_after, "
	    "certificate, chain, session_resumed, ja3, ja3s, ja4, subjectaltname, client, "
	    "client_certificate, client_chain, client_alpns, server_alpns, client_handshake, "
	    "server_handshake), session-resumption (yes). The first eve-log listing tls sets "
	    "them for all outputs.")

/* ------------------------------------------------------------------ config */

static struct nj_tls_config tls_cfg = {
	.fields = NJ_TLS_LOG_EXTENDED | NJ_TLS_LOG_SESSION_RESUMED,
	.session_resumption = true,
	.ja3 = 1,
	.ja4 = true,
	.max_msg = 128 * 1024,
	.max_mem = 256 * 1024,
	.max_sans = 256,
	.cert_cache = 1u << 20,
};
static bool ja3_requested;

void nj_tls_config_defaults(struct nj_tls_config *c)
{
	memset(c, 0, sizeof(*c));
	c->fields = NJ_TLS_LOG_EXTENDED | NJ_TLS_LOG_SESSION_RESUMED;
	c->session_resumption = true;
	c->ja3 = 1;
	c->ja4 = true;
	c->max_msg = 128 * 1024;
	c->max_mem = 256 * 1024;
	c->max_sans = 256;
	c->cert_cache = 1u << 20;
}

void nj_tls_config_set(const struct nj_tls_config *c)
{
	tls_cfg = *c;
	if (tls_cfg.max_msg < 1024)
		tls_cfg.max_msg = 1024;
	if (tls_cfg.max_mem < 4096)
		tls_cfg.max_mem = 4096;
}

const struct nj_tls_config *nj_tls_config_get(void)
{
	return &tls_cfg;
}

void nj_tls_ja3_request(void)
{
	ja3_requested = true;
}

bool nj_tls_ja3_enabled(void)
{
	return tls_cfg.ja3 == 1 || (tls_cfg.ja3 == NJ_TLS_JA3_AUTO && ja3_requested);
}

static const struct {
	const char *name;
	uint32_t flag;
} tls_fields[] = {
	{"version", NJ_TLS_LOG_VERSION},
	{"subject", NJ_TLS_LOG_SUBJECT},
	{"issuer", NJ_TLS_LOG_ISSUER},
	{"serial", NJ_TLS_LOG_SERIAL},
	{"fingerprint", NJ_TLS_LOG_FINGERPRINT},
	{"not_before", NJ_TLS_LOG_NOTBEFORE},
	{"not_after", NJ_TLS_LOG_NOTAFTER},
	{"sni", NJ_TLS_LOG_SNI},
	{"certificate", NJ_TLS_LOG_CERTIFICATE},
	{"chain", NJ_TLS_LOG_CHAIN},
	{"session_resumed", NJ_TLS_LOG_SESSION_RESUMED},
	{"ja3", NJ_TLS_LOG_JA3},
	{"ja3s", NJ_TLS_LOG_JA3S},
	{"client", NJ_TLS_LOG_CLIENT},
	{"client_certificate", NJ_TLS_LOG_CLIENT_CERT},
	{"client_chain", NJ_TLS_LOG_CLIENT_CHAIN},
	{"ja4", NJ_TLS_LOG_JA4},
	{"subjectaltname", NJ_TLS_LOG_SUBJECTALTNAME},
	{"client_alpns", NJ_TLS_LOG_CLIENT_ALPNS},
	{"server_alpns", NJ_TLS_LOG_SERVER_ALPNS},
	{"client_handshake", NJ_TLS_LOG_CLIENT_HANDSHAKE},
	{"server_handshake", NJ_TLS_LOG_SERVER_HANDSHAKE},
};

static void custom_field(struct nj_tls_config *c, const struct nj_conf_node *n)
{
	if (!n->value || !*n->value)
		return;
	for (size_t i = 0; i < NJ_ARRAY_SIZE(tls_fields); i++)
		if (!strcasecmp(n->value, tls_fields[i].name)) {
			c->fields |= tls_fields[i].flag;
			return;
		}
	NJ_WARN("%s:%d: eve.tls: unknown 'custom' field '%s'", n->file, n->line, n->value);
}

/* The tls entry of an eve-log's types: *listed, and its map when it has one. */
static const struct nj_conf_node *tls_entry(const struct nj_conf_node *eve, bool *listed)
{
	const struct nj_conf_node *types = nj_conf_node_get(eve, "types");

	*listed = false;
	if (!types)
		return NULL;
	for (const struct nj_conf_node *it = types->child; it; it = it->next) {
		if (it->kind == NJ_CONF_SCALAR && it->value && !strcmp(it->value, "tls")) {
			*listed = true;
			return NULL;
		}
		if (it->kind == NJ_CONF_MAP && it->child && it->child->key &&
		    !strcmp(it->child->key, "tls")) {
			*listed = true;
			return it->child->kind == NJ_CONF_MAP ? it->child : NULL;
		}
	}
	return NULL;
}

int nj_tls_config_eve(const struct nj_conf *conf, const struct nj_conf_node *eve,
		      struct nj_tls_config *c)
{
	const struct nj_conf_node *t, *custom;
	bool listed, b;
	int r;

	if (!eve)
		return 0;
	t = tls_entry(eve, &listed);
	if (!listed)
		return 0;
	/* Suricata: no options at all means basic fields and no resumed-session events */
	c->fields = NJ_TLS_LOG_BASIC;
	c->session_resumption = false;
	if (!t)
		return 0;
	b = false;
	if (nj_conf_bool(conf, t, "extended", &b) < 0)
		return -1;
	if (b)
		c->fields = NJ_TLS_LOG_EXTENDED;
	custom = nj_conf_node_get(t, "custom");
	if (custom) {
		c->fields = 0;
		if (custom->kind == NJ_CONF_SCALAR) {
			custom_field(c, custom);
		} else {
			for (const struct nj_conf_node *it = custom->child; it; it = it->next)
				if (it->kind == NJ_CONF_SCALAR)
					custom_field(c, it);
		}
	}
	b = true;
	if ((r = nj_conf_bool(conf, t, "session-resumption", &b)) < 0)
		return -1;
	if (b) {
		c->fields |= NJ_TLS_LOG_SESSION_RESUMED;
		c->session_resumption = true;
	}
	if ((c->fields & NJ_TLS_LOG_CERTIFICATE) && (c->fields & NJ_TLS_LOG_CHAIN))
		NJ_WARN("%s:%d: eve.tls: both 'certificate' and 'chain' contain the top "
			"certificate",
			t->file, t->line);
	if (c->fields & (NJ_TLS_LOG_CLIENT_CERT | NJ_TLS_LOG_CLIENT_CHAIN))
		c->fields |= NJ_TLS_LOG_CLIENT;
	return 0;
}

/* The first enabled eve-log that lists tls. */
static const struct nj_conf_node *first_tls_eve(const struct nj_conf *conf)
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
		tls_entry(e, &listed);
		if (listed)
			return e;
	}
	return NULL;
}

static int yes_no_auto(const struct nj_conf *conf, const char *key, int *out)
{
	const char *v = NULL;
	int r = nj_conf_str(conf, NULL, key, &v);

	if (r != 0 || !v)
		return r < 0 ? -1 : 0;
	if (!strcasecmp(v, "auto")) {
		*out = NJ_TLS_JA3_AUTO;
	} else if (!strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcasecmp(v, "on") ||
		   !strcmp(v, "1")) {
		*out = 1;
	} else if (!strcasecmp(v, "no") || !strcasecmp(v, "false") || !strcasecmp(v, "off") ||
		   !strcmp(v, "0")) {
		*out = 0;
	} else {
		const struct nj_conf_node *n = nj_conf_get(conf, key);

		NJ_ERR("%s:%d: %s: expected yes, no or auto", n ? n->file : "?", n ? n->line : 0,
		       key);
		return -1;
	}
	return 0;
}

static int tls_configure(const struct nj_conf *conf)
{
	struct nj_tls_config c;
	uint64_t sz;
	int ja4 = NJ_TLS_JA3_AUTO;

	nj_tls_config_defaults(&c);
	if (!conf) {
		nj_tls_config_set(&c);
		return 0;
	}
	if (yes_no_auto(conf, "app-layer.protocols.tls.ja3-fingerprints", &c.ja3) < 0 ||
	    yes_no_auto(conf, "app-layer.protocols.tls.ja4-fingerprints", &ja4) < 0)
		return -1;
	c.ja4 = ja4 != 0;
	sz = c.max_msg;
	if (nj_conf_size(conf, NULL, "app-layer.protocols.tls.max-handshake-message", &sz) < 0)
		return -1;
	c.max_msg = sz > (1u << 24) ? (1u << 24) : (uint32_t)sz;
	sz = c.max_mem;
	if (nj_conf_size(conf, NULL, "app-layer.protocols.tls.max-memory", &sz) < 0)
		return -1;
	c.max_mem = sz > (64u << 20) ? (64u << 20) : (uint32_t)sz;
	if (nj_conf_size(conf, NULL, "app-layer.protocols.tls.certificate-cache", &c.cert_cache) <
	    0)
		return -1;
	if (nj_tls_config_eve(conf, first_tls_eve(conf), &c) < 0)
		return -1;
	if (nj_tls_store_configure(conf) < 0)
		return -1;
	nj_tls_config_set(&c);
	return 0;
}

/* ------------------------------------------------------------------ versions */

bool nj_tls_version_valid(uint16_t v)
{
	return (v >= NJ_TLS_V_SSL3 && v <= NJ_TLS_V_13) || (v >= 0x7f01 && v <= 0x7f1c) ||
	       (v >= 0xfb14 && v <= 0xfb17) || v == 0xfb1a;
}

const char *nj_tls_version_str(uint16_t v, char buf[NJ_TLS_VERSION_STRLEN])
{
	switch (v) {
	case NJ_TLS_V_UNKNOWN: return "UNDETERMINED";
	case NJ_TLS_V_SSL2: return "SSLv2";
	case NJ_TLS_V_SSL3: return "SSLv3";
	case NJ_TLS_V_10: return "TLSv1";
	case NJ_TLS_V_11: return "TLS 1.1";
	case NJ_TLS_V_12: return "TLS 1.2";
	case NJ_TLS_V_13: return "TLS 1.3";
	case NJ_TLS_V_13_PRE_DRAFT16: return "TLS 1.3 draft-<16";
	case 0xfb14: return "TLS 1.3 draft-20-fb";
	case 0xfb15: return "TLS 1.3 draft-21-fb";
	case 0xfb16: return "TLS 1.3 draft-22-fb";
	case 0xfb17: return "TLS 1.3 draft-23-fb";
	case 0xfb1a: return "TLS 1.3 draft-26-fb";
	default: break;
	}
	if (v >= 0x7f10 && v <= 0x7f1c)
		snprintf(buf, NJ_TLS_VERSION_STRLEN, "TLS 1.3 draft-%u", v & 0xff);
	else
		snprintf(buf, NJ_TLS_VERSION_STRLEN, "0x%04x", v);
	return buf;
}

/* ------------------------------------------------------------------ state */

#define REC_HDR	    5
#define REC_MAX	    ((1u << 14) + 1024) /* RFC 5246 6.2.2: 2^14 + 1024 */
#define SID_MAX	    255
#define ALERT_FATAL 2

enum {
	CT_CCS = 20,
	CT_ALERT = 21,
	CT_HANDSHAKE = 22,
	CT_APPDATA = 23,
	CT_HEARTBEAT = 24,
};

enum {
	HS_HELLO_REQUEST = 0,
	HS_CLIENT_HELLO = 1,
	HS_SERVER_HELLO = 2,
	HS_NEW_SESSION_TICKET = 4,
	HS_CERTIFICATE = 11,
	HS_SERVER_KEY_EXCHANGE = 12,
	HS_CERTIFICATE_REQUEST = 13,
	HS_SERVER_HELLO_DONE = 14,
	HS_CERTIFICATE_VERIFY = 15,
	HS_CLIENT_KEY_EXCHANGE = 16,
	HS_FINISHED = 20,
	HS_CERTIFICATE_URL = 21,
	HS_CERTIFICATE_STATUS = 22,
};

enum {
	EXT_SNI = 0,
	EXT_GROUPS = 10,
	EXT_EC_POINT_FORMATS = 11,
	EXT_SIG_ALGS = 13,
	EXT_ALPN = 16,
	EXT_SESSION_TICKET = 35,
	EXT_EARLY_DATA = 42,
	EXT_SUPPORTED_VERSIONS = 43,
};

/* A transaction's memory: bump allocation from blocks, bounded by max_mem. */
struct tls_blk {
	struct tls_blk *next;
	size_t used, cap;
	uint8_t data[];
};

struct tls_dir {
	/* handshake message being reassembled across records */
	uint8_t hdr[4];
	uint8_t hdr_have; /* 0: between messages */
	bool keep;	  /* the body is stored (else dropped) */
	uint32_t body_len, body_have;
	uint8_t *body;
	uint32_t body_cap;
	uint32_t app_skip; /* application-data bytes still to come in the current record */
	uint16_t version;  /* Suricata's connp.version */
	bool gave_up;	   /* after a gap: the rest of the direction is only consumed */
	uint8_t sid_len;
	uint8_t sid[SID_MAX];
};

struct tls_state {
	struct nj_al_txq q;
	struct nj_tls_tx *tx;	/* NULL once logged and freed */
	struct nj_tls_tx spare; /* writes land here once tx is gone; it allocates nothing */
	uint32_t flags;		/* NJ_TLS_F_* */
	uint8_t cstate, sstate; /* progress */
	bool cert_ok[2];	/* a side's first certificate was decoded */
	uint32_t hb_record_len;
	struct tls_dir d[2];
	struct nj_tls_counts counts;
};

static inline uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t be24(const uint8_t *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

static void *tx_alloc(void *arg, size_t n)
{
	struct nj_tls_tx *tx = arg;
	struct tls_blk *b = tx->blk;
	void *p;

	n = (n + 7) & ~(size_t)7;
	if (!n)
		n = 8;
	if (!b || b->cap - b->used < n) {
		size_t cap = n > 4096 - sizeof(*b) ? n : 4096 - sizeof(*b);

		if (tx->mem + cap + sizeof(*b) > tls_cfg.max_mem) {
			tx->memcap_hit = true;
			return NULL;
		}
		b = malloc(sizeof(*b) + cap);
		if (!b) {
			tx->memcap_hit = true;
			return NULL;
		}
		b->cap = cap;
		b->used = 0;
		b->next = tx->blk;
		tx->blk = b;
		tx->mem += sizeof(*b) + cap;
	}
	p = b->data + b->used;
	b->used += n;
	return p;
}

static struct nj_tls_tx *cur_tx(struct tls_state *st)
{
	return st->tx ? st->tx : &st->spare;
}

static void *tls_state_new(void)
{
	struct tls_state *st = calloc(1, sizeof(*st));

	if (!st)
		return NULL;
	st->tx = calloc(1, sizeof(*st->tx));
	if (!st->tx) {
		free(st);
		return NULL;
	}
	/* the spare transaction may never allocate */
	st->spare.mem = SIZE_MAX / 2;
	nj_al_tx_add(&st->q, &st->tx->al);
	return st;
}

static void tx_release(struct nj_tls_tx *tx)
{
	struct tls_blk *b = tx->blk, *n;

	for (; b; b = n) {
		n = b->next;
		free(b);
	}
	tx->blk = NULL;
}

static void tls_tx_free(void *vst, struct nj_al_tx *atx)
{
	struct tls_state *st = vst;
	struct nj_tls_tx *tx = (struct nj_tls_tx *)atx;

	if (st && st->tx == tx)
		st->tx = NULL;
	tx_release(tx);
	free(tx);
}

static void tls_state_free(void *vst)
{
	struct tls_state *st = vst;
	struct nj_al_tx *t, *n;

	if (!st)
		return;
	for (t = st->q.head; t; t = n) {
		n = t->next;
		tx_release((struct nj_tls_tx *)t);
		free(t);
	}
	for (int d = 0; d < 2; d++)
		free(st->d[d].body);
	free(st);
}

static struct nj_al_txq *tls_txq(void *st)
{
	return &((struct tls_state *)st)->q;
}

const struct nj_tls_counts *nj_tls_state_counts(const void *st)
{
	return &((const struct tls_state *)st)->counts;
}

static void cstate_set(struct tls_state *st, uint8_t s)
{
	if (s > st->cstate)
		st->cstate = s;
}

static void sstate_set(struct tls_state *st, uint8_t s)
{
	if (s > st->sstate)
		st->sstate = s;
}

/*
 * Publishes the state into the transaction: flags, versions, progress, done.
 * A certificate completes both directions once the server's flight has ended
 * (ServerHelloDone, or the client answered), so that whether the server asked
 * for a client certificate is known whatever the segmentation.
 */
static void tls_sync(struct tls_state *st)
{
	bool flight_over = st->sstate >= NJ_TLS_S_HELLO_DONE || st->cstate >= NJ_TLS_C_CERT_DONE ||
			   (st->flags & NJ_TLS_F_CCS);
	struct nj_tls_tx *tx = st->tx;

	if (st->flags & NJ_TLS_F_NEED_CLIENT_CERT) {
		if (st->cert_ok[0]) {
			cstate_set(st, NJ_TLS_C_HANDSHAKE_DONE);
			sstate_set(st, NJ_TLS_S_HANDSHAKE_DONE);
		}
	} else if (st->cert_ok[1] && flight_over) {
		cstate_set(st, NJ_TLS_C_HANDSHAKE_DONE);
		sstate_set(st, NJ_TLS_S_HANDSHAKE_DONE);
	}
	if (!tx)
		return;
	tx->flags = st->flags;
	tx->version[0] = st->d[0].version;
	tx->version[1] = st->d[1].version;
	tx->al.progress[0] = st->cstate;
	tx->al.progress[1] = st->sstate;
	tx->al.done[0] = st->cstate >= NJ_TLS_C_HANDSHAKE_DONE;
	tx->al.done[1] = st->sstate >= NJ_TLS_S_HANDSHAKE_DONE;
}

/* ------------------------------------------------------------------ probe */

static int tls_probe(const uint8_t *d, uint32_t len, int dir)
{
	if (len < 3)
		return NJ_PROBE_MORE;
	if (d[1] == 3 && d[2] <= 4) {
		bool ok = dir == NJ_DIR_TOSERVER ? d[0] == CT_HANDSHAKE
						 : d[0] >= CT_ALERT && d[0] <= CT_APPDATA;

		if (!ok)
			return NJ_PROBE_NO;
		if (len >= 5) {
			uint16_t l = be16(d + 3);

			/* an empty record still is TLS to Suricata's pattern (16 03 0x) */
			if (l > REC_MAX + 1024)
				return NJ_PROBE_NO;
		}
		return NJ_PROBE_YES;
	}
	/* SSLv2-compatible ClientHello: 2-byte header, msg type 1, version 0x0002 or 0x03xx */
	if (dir == NJ_DIR_TOSERVER && (d[0] & 0x80) && d[2] == 1) {
		if (len < 5)
			return NJ_PROBE_MORE;
		if ((d[3] == 0 && d[4] == 2) || (d[3] == 3 && d[4] <= 4))
			return NJ_PROBE_YES;
	}
	return NJ_PROBE_NO;
}

/* ------------------------------------------------------------------ hellos */

static void ev(struct nj_al_ctx *c, int dir, const char *name)
{
	nj_al_event(c, dir, name);
}

/* Suricata's version value kept for a hello's version field. */
static uint16_t hello_version(uint16_t v)
{
	if ((v >= 0x7f01 && v < 0x7f10) || v == NJ_TLS_V_13)
		return NJ_TLS_V_13_PRE_DRAFT16;
	return v;
}

static void hs_version(struct nj_tls_hello *h, uint16_t v)
{
	if (!nj_tls_is_grease(v) && v > h->hs_version)
		h->hs_version = v;
}

/* u16 list of a hello (GREASE removed); count may be 0. NULL when out of memory. */
static uint16_t *list16(struct nj_tls_tx *tx, const uint8_t *p, uint32_t bytes, uint16_t *count)
{
	uint32_t n = bytes / 2, k = 0;
	uint16_t *v = n ? tx_alloc(tx, n * sizeof(uint16_t)) : NULL;

	*count = 0;
	if (!v)
		return NULL;
	for (uint32_t i = 0; i < n; i++) {
		uint16_t x = be16(p + 2 * i);

		if (!nj_tls_is_grease(x))
			v[k++] = x;
	}
	*count = (uint16_t)(k > 0xffff ? 0xffff : k);
	return v;
}

/* Validates an ALPN extension body; keeps the non-empty entries. 0, or -1 on a bad length. */
static int alpn_parse(struct nj_tls_tx *tx, struct nj_tls_hello *h, const uint8_t *p, uint32_t n,
		      bool keep)
{
	uint32_t al, o = 2, k = 0;
	uint8_t *out;

	if (n == 0)
		return 0;
	if (n < 2)
		return -1;
	al = be16(p);
	if (al > n - 2)
		return -1;
	out = keep ? tx_alloc(tx, al ? al : 1) : NULL;
	while (o < 2 + al) {
		uint8_t pl = p[o++];

		if (pl > n - o)
			return -1;
		if (o + pl > 2 + al) /* entry runs past the list: ignored, as Suricata */
			break;
		if (pl && out) {
			out[k++] = pl;
			memcpy(out + k, p + o, pl);
			k += pl;
		}
		o += pl;
	}
	if (keep && out && k) {
		h->alpn = out;
		h->alpn_len = (uint16_t)k;
	}
	return 0;
}

struct ext_lists {
	const uint8_t *groups, *pf, *sigalgs;
	uint32_t ngroups_b, npf, nsigalgs_b;
};

static void client_hello(struct tls_state *st, struct nj_al_ctx *c, const uint8_t *p, uint32_t n)
{
	struct nj_tls_tx *tx = cur_tx(st);
	struct nj_tls_hello *h = &tx->hello[0];
	struct tls_dir *d = &st->d[0];
	bool first = !h->seen, stop = false;
	struct ext_lists el = {0};
	uint32_t o, l, ext_end;
	uint16_t ver, *exts = NULL;
	uint32_t nexts = 0;

	st->flags |= NJ_TLS_F_CLIENT_HELLO;
	st->counts.handshakes[0]++;
	if (n < 2)
		goto bad_len;
	ver = be16(p);
	d->version = hello_version(ver);
	if (first) {
		h->legacy_version = ver;
		hs_version(h, ver);
	}
	if (n - 2 < 32)
		goto bad_len;
	if (first) {
		memcpy(tx->random[0], p + 2, 32);
		tx->random_set[0] = true;
	}
	o = 34;
	/* session id */
	if (o + 1 > n || o + 1 + p[o] > n)
		goto bad_len;
	l = p[o];
	if (l && !d->sid_len) {
		memcpy(d->sid, p + o + 1, l);
		d->sid_len = (uint8_t)l;
	}
	o += 1 + l;
	/* cipher suites */
	if (o + 2 > n)
		goto bad_len;
	l = be16(p + o);
	o += 2;
	if (l > n - o || (l & 1))
		goto bad_len;
	if (first)
		h->ciphers = list16(tx, p + o, l, &h->nciphers);
	o += l;
	/* compression methods */
	if (o + 1 > n || p[o] > n - o - 1)
		goto bad_len;
	o += 1 + p[o];
	if (first)
		h->seen = true;
	/* extensions are optional */
	if (o + 2 > n)
		goto done;
	l = be16(p + o);
	o += 2;
	if (l > n - o) {
		ev(c, 0, "HANDSHAKE_INVALID_LENGTH");
		goto done;
	}
	ext_end = o + l;
	if (first)
		exts = tx_alloc(tx, (l / 4 + 1) * sizeof(uint16_t));
	while (o < ext_end && !stop) {
		uint16_t type, len;
		const uint8_t *e;

		if (ext_end - o < 4) {
			ev(c, 0, "HANDSHAKE_INVALID_LENGTH");
			break;
		}
		type = be16(p + o);
		len = be16(p + o + 2);
		o += 4;
		if (len > ext_end - o) {
			ev(c, 0, "HANDSHAKE_INVALID_LENGTH");
			break;
		}
		e = p + o;
		switch (type) {
		case EXT_SNI:
			if (len == 0)
				break;
			if (len < 3) {
				ev(c, 0, "HANDSHAKE_INVALID_LENGTH");
				stop = true;
				break;
			}
			if (e[2] != 0) {
				ev(c, 0, "INVALID_SNI_TYPE");
				stop = true;
				break;
			}
			if (len < 5) {
				ev(c, 0, "HANDSHAKE_INVALID_LENGTH");
				stop = true;
				break;
			}
			l = be16(e + 3);
			if (l > (uint32_t)len - 5 || l > 255 || l == 0) {
				ev(c, 0, "INVALID_SNI_LENGTH");
				stop = true;
				break;
			}
			if (tx->sni) {
				ev(c, 0, "MULTIPLE_SNI_EXTENSIONS");
				break;
			}
			tx->sni = tx_alloc(tx, l + 1);
			if (tx->sni) {
				memcpy(tx->sni, e + 5, l);
				tx->sni[l] = 0;
				tx->sni_len = (uint16_t)l;
			}
			break;
		case EXT_GROUPS:
			if (len == 0)
				break;
			if (len < 2 || be16(e) > len - 2 || (be16(e) & 1)) {
				ev(c, 0, "HANDSHAKE_INVALID_LENGTH");
				stop = true;
				break;
			}
			el.groups = e + 2;
			el.ngroups_b = be16(e);
			break;
		case EXT_EC_POINT_FORMATS:
			if (len == 0)
				break;
			if (e[0] > len - 1) {
				ev(c, 0, "HANDSHAKE_INVALID_LENGTH");
				stop = true;
				break;
			}
			el.pf = e + 1;
			el.npf = e[0];
			break;
		case EXT_SIG_ALGS:
			if (len == 0)
				break;
			if (len < 2 || (be16(e) & 1) || be16(e) > len - 2) {
				ev(c, 0, "HANDSHAKE_INVALID_LENGTH");
				stop = true;
				break;
			}
			el.sigalgs = e + 2;
			el.nsigalgs_b = be16(e);
			break;
		case EXT_ALPN:
			if (alpn_parse(tx, h, e, len, first && !h->alpn) < 0) {
				ev(c, 0, "HANDSHAKE_INVALID_LENGTH");
				stop = true;
			}
			break;
		case EXT_EARLY_DATA: st->flags |= NJ_TLS_F_EARLY_DATA; break;
		case EXT_SUPPORTED_VERSIONS:
			if (len == 0)
				break;
			l = e[0];
			if (l < 2 || l > (uint32_t)len - 1) {
				ev(c, 0, "HANDSHAKE_INVALID_LENGTH");
				stop = true;
				break;
			}
			/* the first valid version is the client's (Suricata); JA4 takes the highest */
			for (uint32_t i = 0; i + 1 < l; i += 2)
				if (nj_tls_version_valid(be16(e + 1 + i))) {
					d->version = be16(e + 1 + i);
					if (first)
						hs_version(h, d->version);
					break;
				}
			if (first) {
				h->has_supported_versions = true;
				for (uint32_t i = 0; i + 1 < l; i += 2) {
					uint16_t v = be16(e + 1 + i);

					if (!nj_tls_is_grease(v) && v > h->sv_max)
						h->sv_max = v;
				}
			}
			st->flags |= NJ_TLS_F_CH_VERSIONS;
			break;
		case EXT_SESSION_TICKET:
			/* confirmed later by the absence of a server certificate */
			st->flags |= NJ_TLS_F_SESSION_RESUMED;
			break;
		default: break;
		}
		if (stop)
			break;
		if (type == EXT_SNI && first)
			h->sni = true;
		if (exts && !nj_tls_is_grease(type))
			exts[nexts++] = type;
		o += len;
	}
	if (first) {
		h->exts = exts;
		h->nexts = (uint16_t)nexts;
		if (el.groups)
			h->groups = list16(tx, el.groups, el.ngroups_b, &h->ngroups);
		if (el.npf && (h->pf = tx_alloc(tx, el.npf))) {
			memcpy(h->pf, el.pf, el.npf);
			h->npf = (uint16_t)el.npf;
		}
		if (el.sigalgs)
			h->sigalgs = list16(tx, el.sigalgs, el.nsigalgs_b, &h->nsigalgs);
	}
	goto done;
bad_len:
	ev(c, 0, "HANDSHAKE_INVALID_LENGTH");
done:
	if (first && h->seen) {
		char *s;
		int k;

		if (nj_tls_ja3_enabled() && !tx->ja3[0]) {
			size_t cap =
				64 + ((size_t)h->nciphers + h->nexts + h->ngroups + h->npf) * 6;

			s = tx_alloc(tx, cap);
			if (s && (k = nj_tls_ja3_string(h, false, s, cap)) >= 0) {
				tx->ja3[0] = s;
				tx->ja3_len[0] = (uint32_t)k;
				nj_tls_md5_hex(s, (size_t)k, tx->ja3_hash[0]);
			}
		}
		if (tls_cfg.ja4 && !tx->ja4[0])
			nj_tls_ja4(h, tx->ja4);
	}
	cstate_set(st, NJ_TLS_C_HELLO_DONE);
}

static void server_hello(struct tls_state *st, struct nj_al_ctx *c, const uint8_t *p, uint32_t n)
{
	struct nj_tls_tx *tx = cur_tx(st);
	struct nj_tls_hello *h = &tx->hello[1];
	struct tls_dir *d = &st->d[1];
	bool first = !h->seen;
	uint32_t o, l, ext_end;
	uint16_t ver, *exts = NULL;
	uint32_t nexts = 0;

	st->flags |= NJ_TLS_F_SERVER_HELLO;
	st->counts.handshakes[1]++;
	if (n < 2)
		goto bad_len;
	ver = be16(p);
	d->version = hello_version(ver);
	if (first) {
		h->legacy_version = ver;
		hs_version(h, ver);
	}
	/* TLS 1.3 drafts 1 to 21 put the version here, not in supported_versions */
	if (ver == NJ_TLS_V_13 || (ver >> 8) == 0x7f)
		st->flags |= NJ_TLS_F_LOG_WITHOUT_CERT;
	if (n - 2 < 32)
		goto bad_len;
	if (first) {
		memcpy(tx->random[1], p + 2, 32);
		tx->random_set[1] = true;
	}
	o = 34;
	/* session id: absent in TLS 1.3 drafts 1 to 21 */
	if (!(st->flags & NJ_TLS_F_LOG_WITHOUT_CERT)) {
		if (o + 1 > n || o + 1 + p[o] > n)
			goto bad_len;
		l = p[o];
		if (l && !d->sid_len) {
			memcpy(d->sid, p + o + 1, l);
			d->sid_len = (uint8_t)l;
			if (st->d[0].sid_len == l && !memcmp(st->d[0].sid, d->sid, l))
				st->flags |= NJ_TLS_F_SESSION_RESUMED;
		}
		o += 1 + l;
	}
	if (o + 2 > n)
		goto bad_len;
	if (first) {
		h->ciphers = list16(tx, p + o, 2, &h->nciphers);
		tx->chosen_cipher = be16(p + o);
	}
	o += 2;
	if (!(st->flags & NJ_TLS_F_LOG_WITHOUT_CERT)) {
		if (o + 1 > n)
			goto bad_len;
		o += 1;
	}
	if (first)
		h->seen = true;
	if (o + 2 > n)
		goto done;
	l = be16(p + o);
	o += 2;
	if (l > n - o) {
		ev(c, 1, "HANDSHAKE_INVALID_LENGTH");
		goto done;
	}
	ext_end = o + l;
	if (first)
		exts = tx_alloc(tx, (l / 4 + 1) * sizeof(uint16_t));
	while (o < ext_end) {
		uint16_t type, len;
		const uint8_t *e;
		bool stop = false;

		if (ext_end - o < 4) {
			ev(c, 1, "HANDSHAKE_INVALID_LENGTH");
			break;
		}
		type = be16(p + o);
		len = be16(p + o + 2);
		o += 4;
		if (len > ext_end - o) {
			ev(c, 1, "HANDSHAKE_INVALID_LENGTH");
			break;
		}
		e = p + o;
		if (type == EXT_SUPPORTED_VERSIONS && len) {
			if (len < 2) {
				ev(c, 1, "HANDSHAKE_INVALID_LENGTH");
				stop = true;
			} else {
				uint16_t v = be16(e);

				if ((st->flags & NJ_TLS_F_CH_VERSIONS) && v > NJ_TLS_V_12)
					st->flags |= NJ_TLS_F_LOG_WITHOUT_CERT;
				d->version = v;
			}
		} else if (type == EXT_ALPN) {
			if (alpn_parse(tx, h, e, len, first && !h->alpn) < 0) {
				ev(c, 1, "HANDSHAKE_INVALID_LENGTH");
				stop = true;
			}
		}
		if (stop)
			break;
		if (exts && !nj_tls_is_grease(type))
			exts[nexts++] = type;
		o += len;
	}
	if (first) {
		h->exts = exts;
		h->nexts = (uint16_t)nexts;
	}
	goto done;
bad_len:
	ev(c, 1, "HANDSHAKE_INVALID_LENGTH");
done:
	if (first && h->seen && nj_tls_ja3_enabled() && !tx->ja3[1]) {
		size_t cap = 32 + (size_t)h->nexts * 6;
		char *s = tx_alloc(tx, cap);
		int k;

		if (s && (k = nj_tls_ja3_string(h, true, s, cap)) >= 0) {
			tx->ja3[1] = s;
			tx->ja3_len[1] = (uint32_t)k;
			nj_tls_md5_hex(s, (size_t)k, tx->ja3_hash[1]);
		}
	}
	sstate_set(st, NJ_TLS_S_HELLO);
}

/* ------------------------------------------------------------------ certificates */

static void certificate(struct tls_state *st, struct nj_al_ctx *c, int dir, const uint8_t *p,
			uint32_t n)
{
	struct nj_tls_tx *tx = cur_tx(st);
	uint32_t ll, o = 3, end, count = 0, idx = 0;
	bool first_msg = tx->ncerts[dir] == 0 && !tx->chain[dir];

	if (n < 3)
		goto out;
	ll = be24(p);
	if (ll > n - 3)
		goto out;
	end = 3 + ll;
	while (o < end) {
		uint32_t cl;

		if (end - o < 3) {
			ev(c, dir, "INVALID_CERTIFICATE");
			break;
		}
		cl = be24(p + o);
		o += 3;
		if (cl > end - o) {
			ev(c, dir, "INVALID_CERTIFICATE");
			break;
		}
		if (idx++ == 0 && !st->cert_ok[dir]) {
			struct nj_tls_cert cert;
			enum nj_tls_x509_err e = nj_tls_x509_decode_cached(
				p + o, cl, &cert, tx_alloc, tx, tls_cfg.max_sans);

			if (e == NJ_TLS_X509_OK) {
				tx->cert[dir] = cert;
				st->cert_ok[dir] = true;
			} else if (e == NJ_TLS_X509_NOMEM) {
				st->counts.memcap++;
			} else {
				ev(c, dir, nj_tls_x509_err_event(e));
				if (e == NJ_TLS_X509_INVALID_DER ||
				    e == NJ_TLS_X509_INVALID_LENGTH) {
					/* not a certificate: the next one is not taken as first */
					o += cl;
					continue;
				}
				break;
			}
		}
		count++;
		o += cl;
	}
	if (first_msg) {
		bool want =
			dir ? (tls_cfg.fields & (NJ_TLS_LOG_CERTIFICATE | NJ_TLS_LOG_CHAIN))
			    : (tls_cfg.fields & (NJ_TLS_LOG_CLIENT_CERT | NJ_TLS_LOG_CLIENT_CHAIN));

		tx->ncerts[dir] = (uint16_t)(count > 0xffff ? 0xffff : count);
		tx->cert_ts[dir] = nj_al_ts(c);
		/* kept for detection too (tls.certs); bounded by the transaction's memory cap */
		(void)want;
		if (ll) {
			tx->chain[dir] = tx_alloc(tx, ll);
			if (tx->chain[dir]) {
				memcpy(tx->chain[dir], p + 3, ll);
				tx->chain_len[dir] = ll;
			} else {
				st->counts.memcap++;
			}
		}
	}
out:
	if (dir)
		sstate_set(st, NJ_TLS_S_CERT_DONE);
	else
		cstate_set(st, NJ_TLS_C_CERT_DONE);
}

/* ------------------------------------------------------------------ handshake messages */

static bool hs_supported(uint8_t t)
{
	switch (t) {
	case HS_HELLO_REQUEST:
	case HS_CLIENT_HELLO:
	case HS_SERVER_HELLO:
	case HS_NEW_SESSION_TICKET:
	case HS_CERTIFICATE:
	case HS_SERVER_KEY_EXCHANGE:
	case HS_CERTIFICATE_REQUEST:
	case HS_SERVER_HELLO_DONE:
	case HS_CERTIFICATE_VERIFY:
	case HS_CLIENT_KEY_EXCHANGE:
	case HS_FINISHED:
	case HS_CERTIFICATE_URL:
	case HS_CERTIFICATE_STATUS: return true;
	default: return false;
	}
}

/* Messages whose content is read (the others are only recognised). */
static bool hs_needs_body(uint8_t t, int dir)
{
	return (t == HS_CLIENT_HELLO && dir == 0) || (t == HS_SERVER_HELLO && dir == 1) ||
	       t == HS_CERTIFICATE;
}

static void hs_message(struct tls_state *st, struct nj_al_ctx *c, int dir, uint8_t type,
		       const uint8_t *body, uint32_t len)
{
	switch (type) {
	case HS_CLIENT_HELLO:
		if (dir == 0)
			client_hello(st, c, body, len);
		break;
	case HS_SERVER_HELLO:
		if (dir == 1)
			server_hello(st, c, body, len);
		break;
	case HS_CERTIFICATE: certificate(st, c, dir, body, len); break;
	case HS_CERTIFICATE_REQUEST:
		if (dir == 1)
			st->flags |= NJ_TLS_F_NEED_CLIENT_CERT;
		break;
	case HS_SERVER_HELLO_DONE:
		if (dir == 1)
			sstate_set(st, NJ_TLS_S_HELLO_DONE);
		break;
	default: break;
	}
}

/* A new message header: returns whether its body is stored; events for unknown types. */
static bool hs_start(struct tls_state *st, struct nj_al_ctx *c, int dir, uint8_t type, uint32_t len)
{
	if (!hs_supported(type)) {
		/* after its own ChangeCipherSpec a side sends encrypted handshake messages */
		if (!(st->flags & (dir ? NJ_TLS_F_CCS_SERVER : NJ_TLS_F_CCS_CLIENT)))
			ev(c, dir, "INVALID_HANDSHAKE_MESSAGE");
		return false;
	}
	if (!hs_needs_body(type, dir))
		return false;
	if (len > tls_cfg.max_msg) {
		ev(c, dir, "HANDSHAKE_INVALID_LENGTH");
		st->counts.memcap++;
		return false;
	}
	return true;
}

/* One handshake record's payload: messages parsed in place, or reassembled across records. */
static void hs_fragment(struct tls_state *st, struct nj_al_ctx *c, int dir, const uint8_t *p,
			uint32_t n)
{
	struct tls_dir *d = &st->d[dir];

	while (n) {
		uint32_t take;

		if (d->hdr_have == 0 && n >= 4) {
			uint32_t ml = be24(p + 1);

			if (n - 4 >= ml) {
				/* whole message in this record: no copy */
				bool keep = hs_start(st, c, dir, p[0], ml);

				if (keep || (hs_supported(p[0]) && !hs_needs_body(p[0], dir)))
					hs_message(st, c, dir, p[0], p + 4, ml);
				p += 4 + ml;
				n -= 4 + ml;
				continue;
			}
		}
		if (d->hdr_have < 4) {
			take = 4u - d->hdr_have < n ? 4u - d->hdr_have : n;
			memcpy(d->hdr + d->hdr_have, p, take);
			d->hdr_have = (uint8_t)(d->hdr_have + take);
			p += take;
			n -= take;
			if (d->hdr_have < 4)
				break;
			d->body_len = be24(d->hdr + 1);
			d->body_have = 0;
			d->keep = hs_start(st, c, dir, d->hdr[0], d->body_len);
			if (d->keep && d->body_cap < d->body_len) {
				uint8_t *b = realloc(d->body, d->body_len);

				if (!b) {
					d->keep = false;
					st->counts.memcap++;
				} else {
					d->body = b;
					d->body_cap = d->body_len;
				}
			}
		} else {
			take = d->body_len - d->body_have < n ? d->body_len - d->body_have : n;
			if (d->keep)
				memcpy(d->body + d->body_have, p, take);
			d->body_have += take;
			p += take;
			n -= take;
		}
		if (d->body_have == d->body_len) {
			uint8_t t = d->hdr[0];

			d->hdr_have = 0;
			if (d->keep || (hs_supported(t) && !hs_needs_body(t, dir)))
				hs_message(st, c, dir, t, d->body, d->body_len);
			d->keep = false;
		}
	}
}

/* ------------------------------------------------------------------ records */

/* Heartbeat (RFC 6520) checks, Suricata's. 0, or -1 to give up on the direction. */
static int heartbeat(struct tls_state *st, struct nj_al_ctx *c, int dir, const uint8_t *p,
		     uint32_t rlen)
{
	uint32_t payload, padding;

	if (rlen < 3)
		return 0;
	if (!(st->flags & NJ_TLS_F_CCS) && p[0] != 1 && p[0] != 2) {
		ev(c, dir, "INVALID_HEARTBEAT_MESSAGE");
		return -1;
	}
	if (!(st->flags & NJ_TLS_F_HB_INFLIGHT)) {
		st->flags |= NJ_TLS_F_HB_INFLIGHT | (dir ? NJ_TLS_F_HB_SERVER : NJ_TLS_F_HB_CLIENT);
		if (st->flags & NJ_TLS_F_CCS) {
			/* encrypted: only the length can be compared with the answer's */
			st->hb_record_len = rlen;
			return 0;
		}
		payload = be16(p + 1);
		if (payload + 3 > rlen) {
			ev(c, dir, "OVERFLOW_HEARTBEAT_MESSAGE");
			return -1;
		}
		padding = rlen - payload - 3;
		if (padding < 16) {
			ev(c, dir, "INVALID_HEARTBEAT_MESSAGE");
			return -1;
		}
		return 0;
	}
	if ((dir == 1 && (st->flags & NJ_TLS_F_HB_SERVER)) ||
	    (dir == 0 && (st->flags & NJ_TLS_F_HB_CLIENT))) {
		ev(c, dir, "INVALID_HEARTBEAT_MESSAGE");
		return -1;
	}
	st->flags &= ~(NJ_TLS_F_HB_INFLIGHT | NJ_TLS_F_HB_SERVER | NJ_TLS_F_HB_CLIENT);
	if ((st->flags & NJ_TLS_F_CCS) && st->hb_record_len > 0 && st->hb_record_len < rlen) {
		/* an encrypted answer longer than the request: heartbleed */
		ev(c, dir, "DATALEAK_HEARTBEAT_MISMATCH");
		st->hb_record_len = 0;
		return -1;
	}
	st->hb_record_len = 0;
	return 0;
}

/* Application data record seen (at its header): the side's handshake is over. */
static void app_record(struct tls_state *st, int dir, uint32_t rlen)
{
	st->counts.app_records[dir]++;
	st->counts.app_bytes[dir] += rlen;
	/* 0-RTT data before the ServerHello does not end the handshake */
	if ((st->flags & NJ_TLS_F_EARLY_DATA) && !(st->flags & NJ_TLS_F_SERVER_HELLO))
		return;
	if (dir)
		sstate_set(st, NJ_TLS_S_HANDSHAKE_DONE);
	else
		cstate_set(st, NJ_TLS_C_HANDSHAKE_DONE);
}

/* One complete TLS record body. 0, or -1 to give up. */
static int tls_record(struct tls_state *st, struct nj_al_ctx *c, int dir, uint8_t ct,
		      const uint8_t *p, uint32_t rlen)
{
	switch (ct) {
	case CT_CCS:
		st->flags |= NJ_TLS_F_CCS | (dir ? NJ_TLS_F_CCS_SERVER : NJ_TLS_F_CCS_CLIENT);
		if (dir == 0)
			cstate_set(st, NJ_TLS_C_HANDSHAKE_DONE);
		return 0;
	case CT_ALERT:
		st->counts.alerts[dir]++;
		if (rlen < 2) {
			ev(c, dir, "INVALID_ALERT_MESSAGE");
			return -1;
		}
		/* a 2-byte alert is in the clear: fatal ends the session */
		if (rlen == 2 && p[0] == ALERT_FATAL) {
			cstate_set(st, NJ_TLS_C_FINISHED);
			sstate_set(st, NJ_TLS_S_FINISHED);
		}
		return 0;
	case CT_APPDATA: app_record(st, dir, rlen); return 0;
	case CT_HANDSHAKE:
		if (st->flags & NJ_TLS_F_CCS) {
			/* TLS 1.3 middlebox CCS before the ServerHello: hellos still come in clear */
			if (!((st->flags & NJ_TLS_F_CLIENT_HELLO) &&
			      st->d[0].version > NJ_TLS_V_12 &&
			      !(st->flags & NJ_TLS_F_SERVER_HELLO)))
				return 0;
		}
		/* a message may be cut anywhere, its header too (Suricata gives up on a
		 * record shorter than 4 bytes; RFC 5246 6.2.1 allows it) */
		hs_fragment(st, c, dir, p, rlen);
		return 0;
	case CT_HEARTBEAT: return heartbeat(st, c, dir, p, rlen);
	default: return 0;
	}
}

/* One SSLv2 record (msg type and body). 0, or -1 to give up. */
static int sslv2_record(struct tls_state *st, struct nj_al_ctx *c, int dir, const uint8_t *p,
			uint32_t n)
{
	struct nj_tls_tx *tx = cur_tx(st);
	uint8_t mt = p[0];

	p++;
	n--;
	switch (mt) {
	case 0: /* ERROR */ ev(c, dir, "ERROR_MESSAGE_ENCOUNTERED"); break;
	case 1: /* CLIENT-HELLO */
		if (n < 6) {
			ev(c, dir, "INVALID_SSL_RECORD");
			return -1;
		}
		st->flags |= NJ_TLS_F_CLIENT_HELLO | NJ_TLS_F_SSL2_CLIENT_HS;
		st->counts.handshakes[dir]++;
		st->d[dir].version = be16(p);
		if (dir == 0 && !tx->hello[0].seen) {
			tx->hello[0].legacy_version = be16(p);
			tx->hello[0].hs_version = be16(p);
		}
		cstate_set(st, NJ_TLS_C_HELLO_DONE);
		break;
	case 4: /* SERVER-HELLO */
		st->flags |= NJ_TLS_F_SERVER_HELLO | NJ_TLS_F_SSL2_SERVER_HS;
		st->counts.handshakes[dir]++;
		sstate_set(st, NJ_TLS_S_HELLO);
		break;
	default: break;
	}
	return 0;
}

static int32_t tls_parse(void *vst, struct nj_al_ctx *c, int dir, const uint8_t *data, uint32_t len)
{
	struct tls_state *st = vst;
	struct tls_dir *d;
	uint32_t off = 0;

	if (dir != NJ_DIR_TOSERVER && dir != NJ_DIR_TOCLIENT)
		return NJ_AL_ERROR;
	d = &st->d[dir];
	if (d->gave_up)
		return (int32_t)len;
	while (off < len) {
		const uint8_t *p = data + off;
		uint32_t avail = len - off, rlen;
		uint16_t prev, ver;
		uint8_t ct;

		if (d->app_skip) {
			uint32_t take = d->app_skip < avail ? d->app_skip : avail;

			d->app_skip -= take;
			off += take;
			continue;
		}
		if (p[0] & 0xc0) {
			/* SSLv2 record: 2-byte header (bit 7) or 3-byte header (bit 6) */
			uint32_t hl = (p[0] & 0x80) ? 2 : 3;

			if (avail < hl + 1)
				break;
			rlen = (uint32_t)(p[0] & (hl == 2 ? 0x7f : 0x3f)) << 8 | p[1];
			d->version = NJ_TLS_V_SSL2;
			if (rlen == 0) {
				ev(c, dir, "INVALID_SSLV2_HEADER");
				goto error;
			}
			if (avail < hl + rlen)
				break;
			st->counts.records[dir]++;
			if (sslv2_record(st, c, dir, p + hl, rlen) < 0)
				goto error;
			off += hl + rlen;
			continue;
		}
		if (avail < REC_HDR)
			break;
		if (d->version == NJ_TLS_V_SSL2)
			d->version = NJ_TLS_V_UNKNOWN;
		prev = d->version;
		ct = p[0];
		ver = be16(p + 1);
		rlen = be16(p + 3);
		/* the version comes from record headers until the side's hello set it */
		if (!(st->flags & (dir ? NJ_TLS_F_SERVER_HELLO : NJ_TLS_F_CLIENT_HELLO)) ||
		    d->version == NJ_TLS_V_UNKNOWN)
			d->version = ver;
		if (ct < CT_CCS || ct > CT_HEARTBEAT) {
			ev(c, dir, "INVALID_RECORD_TYPE");
			/* TLS 1.0 and 1.1 peers are forgiven an unknown record (as Wireshark) */
			if ((prev == NJ_TLS_V_10 || prev == NJ_TLS_V_11) && rlen <= REC_MAX) {
				d->version = prev;
				if (avail < REC_HDR + rlen)
					break;
				off += REC_HDR + rlen;
				continue;
			}
			goto error;
		}
		if (rlen == 0) {
			ev(c, dir, "INVALID_RECORD_LENGTH");
			goto error;
		}
		if (!nj_tls_version_valid(d->version)) {
			ev(c, dir, "INVALID_RECORD_VERSION");
			goto error;
		}
		if (rlen > REC_MAX) {
			ev(c, dir, "INVALID_RECORD_LENGTH");
			goto error;
		}
		if (ct == CT_APPDATA && avail < REC_HDR + rlen) {
			/* encrypted data is never buffered: count it and let it stream past */
			st->counts.records[dir]++;
			app_record(st, dir, rlen);
			d->app_skip = rlen - (avail - REC_HDR);
			off = len;
			break;
		}
		if (avail < REC_HDR + rlen)
			break;
		st->counts.records[dir]++;
		if (tls_record(st, c, dir, ct, p + REC_HDR, rlen) < 0)
			goto error;
		off += REC_HDR + rlen;
	}
	tls_sync(st);
	return (int32_t)off;
error:
	tls_sync(st);
	return NJ_AL_ERROR;
}

static void tls_gap(void *vst, struct nj_al_ctx *c, int dir, uint32_t len)
{
	struct tls_state *st = vst;
	struct tls_dir *d;

	(void)c;
	(void)len;
	if (dir != NJ_DIR_TOSERVER && dir != NJ_DIR_TOCLIENT)
		return;
	d = &st->d[dir];
	/* record boundaries are lost: the rest of this direction is only consumed */
	d->gave_up = true;
	d->hdr_have = 0;
	d->app_skip = 0;
}

static void tls_close(void *vst, struct nj_al_ctx *c, int dir)
{
	struct tls_state *st = vst;

	(void)c;
	if (dir == NJ_DIR_TOSERVER)
		cstate_set(st, NJ_TLS_C_FINISHED);
	else if (dir == NJ_DIR_TOCLIENT)
		sstate_set(st, NJ_TLS_S_FINISHED);
	tls_sync(st);
}

/* ------------------------------------------------------------------ detection buffers */

#define TX(t) ((const struct nj_tls_tx *)(t))

static bool buf_sni(const struct nj_al_tx *t, const uint8_t **d, uint32_t *n)
{
	if (!TX(t)->sni)
		return false;
	*d = (const uint8_t *)TX(t)->sni;
	*n = TX(t)->sni_len;
	return true;
}

static bool buf_subject(const struct nj_al_tx *t, const uint8_t **d, uint32_t *n)
{
	if (!TX(t)->cert[1].present)
		return false;
	*d = (const uint8_t *)TX(t)->cert[1].subject;
	*n = TX(t)->cert[1].subject_len;
	return true;
}

static bool buf_issuer(const struct nj_al_tx *t, const uint8_t **d, uint32_t *n)
{
	if (!TX(t)->cert[1].present)
		return false;
	*d = (const uint8_t *)TX(t)->cert[1].issuer;
	*n = TX(t)->cert[1].issuer_len;
	return true;
}

static bool buf_serial(const struct nj_al_tx *t, const uint8_t **d, uint32_t *n)
{
	if (!TX(t)->cert[1].present)
		return false;
	*d = (const uint8_t *)TX(t)->cert[1].serial;
	*n = TX(t)->cert[1].serial_len;
	return true;
}

static bool buf_fingerprint(const struct nj_al_tx *t, const uint8_t **d, uint32_t *n)
{
	if (!TX(t)->cert[1].present || !TX(t)->cert[1].fingerprint[0])
		return false;
	*d = (const uint8_t *)TX(t)->cert[1].fingerprint;
	*n = (uint32_t)strlen(TX(t)->cert[1].fingerprint);
	return true;
}

static bool buf_ja3_hash(const struct nj_al_tx *t, const uint8_t **d, uint32_t *n)
{
	if (!TX(t)->ja3[0] || !TX(t)->ja3_hash[0][0])
		return false;
	*d = (const uint8_t *)TX(t)->ja3_hash[0];
	*n = 32;
	return true;
}

static bool buf_ja3_string(const struct nj_al_tx *t, const uint8_t **d, uint32_t *n)
{
	if (!TX(t)->ja3[0])
		return false;
	*d = (const uint8_t *)TX(t)->ja3[0];
	*n = TX(t)->ja3_len[0];
	return true;
}

static bool buf_ja3s_hash(const struct nj_al_tx *t, const uint8_t **d, uint32_t *n)
{
	if (!TX(t)->ja3[1] || !TX(t)->ja3_hash[1][0])
		return false;
	*d = (const uint8_t *)TX(t)->ja3_hash[1];
	*n = 32;
	return true;
}

static bool buf_ja3s_string(const struct nj_al_tx *t, const uint8_t **d, uint32_t *n)
{
	if (!TX(t)->ja3[1])
		return false;
	*d = (const uint8_t *)TX(t)->ja3[1];
	*n = TX(t)->ja3_len[1];
	return true;
}

static bool buf_ja4(const struct nj_al_tx *t, const uint8_t **d, uint32_t *n)
{
	if (!TX(t)->ja4[0])
		return false;
	*d = (const uint8_t *)TX(t)->ja4;
	*n = 36;
	return true;
}

static const struct nj_al_buffer tls_buffers[] = {
	{"tls.sni", NJ_DIR_TOSERVER, buf_sni},
	{"tls.cert_subject", NJ_DIR_TOCLIENT, buf_subject},
	{"tls.cert_issuer", NJ_DIR_TOCLIENT, buf_issuer},
	{"tls.cert_serial", NJ_DIR_TOCLIENT, buf_serial},
	{"tls.cert_fingerprint", NJ_DIR_TOCLIENT, buf_fingerprint},
	{"ja3.hash", NJ_DIR_TOSERVER, buf_ja3_hash},
	{"ja3.string", NJ_DIR_TOSERVER, buf_ja3_string},
	{"ja3s.hash", NJ_DIR_TOCLIENT, buf_ja3s_hash},
	{"ja3s.string", NJ_DIR_TOCLIENT, buf_ja3s_string},
	{"ja4.hash", NJ_DIR_TOSERVER, buf_ja4},
	/* tls_detect.c */
	{"tls.cert_subject", NJ_DIR_TOSERVER, nj_tls_buf_client_subject},
	{"tls.cert_issuer", NJ_DIR_TOSERVER, nj_tls_buf_client_issuer},
	{"tls.cert_serial", NJ_DIR_TOSERVER, nj_tls_buf_client_serial},
	{"tls.cert_fingerprint", NJ_DIR_TOSERVER, nj_tls_buf_client_fingerprint},
	{"tls.random", NJ_DIR_TOSERVER, nj_tls_buf_random_ts},
	{"tls.random", NJ_DIR_TOCLIENT, nj_tls_buf_random_tc},
	{"tls.random_time", NJ_DIR_TOSERVER, nj_tls_buf_random_time_ts},
	{"tls.random_time", NJ_DIR_TOCLIENT, nj_tls_buf_random_time_tc},
	{"tls.random_bytes", NJ_DIR_TOSERVER, nj_tls_buf_random_bytes_ts},
	{"tls.random_bytes", NJ_DIR_TOCLIENT, nj_tls_buf_random_bytes_tc},
	{NULL, 0, NULL},
};

/* ------------------------------------------------------------------ registration */

struct nj_app_parser nj_tls_parser = {
	.name = "tls",
	.ipproto_mask = NJ_AL_TCP,
	.ports = {443, 465, 636, 993, 995, 8443, 0},
	.probe_min = 3,
	.probe_ports_only = false,
	.eve = NJ_EVE_TLS,
	.no_tx_stats = true, /* Suricata: one transaction per flow, never counted */
	.probe = tls_probe,
	.state_new = tls_state_new,
	.state_free = tls_state_free,
	.parse = tls_parse,
	.gap = tls_gap,
	.close = tls_close,
	.txq = tls_txq,
	.tx_free = tls_tx_free,
	.log_tx = nj_tls_log_tx,
	.buffers = tls_buffers,
	.multi_buffers = nj_tls_multi_buffers,
	.alert_json = nj_tls_alert_json,
	.configure = tls_configure,
};

NJ_APP_PARSER_REGISTER(nj_tls_parser)
