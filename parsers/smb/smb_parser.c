/* SPDX-License-Identifier: MIT */
/*
 * SMB app-layer parser: configuration, probing, NetBIOS session framing with
 * record reassembly, streaming of large READ/WRITE data, resync after gaps and
 * at mid-stream starts, transactions, the bounded request/response maps,
 * file carving through parsers/files.h, detection buffers and registration.
 *
 * Framing: every SMB message travels in a NetBIOS session service record
 * (type 0x00, 24-bit length). Records are parsed whole, except a READ response
 * or WRITE request whose data runs past the bytes at hand: its headers are
 * parsed as soon as they are there and the data is passed to the file as it
 * arrives, so a 1 MiB WRITE never waits in the framework's buffer. Other
 * records larger than max_record are skipped (record_overflow).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../../common/nj_common.h"
#include "../../config/config.h"
#include "smb_priv.h"

NJ_CONF_KEY(smb_maxtx, "app-layer.protocols.smb.max-tx", NJ_CT_INT, "1024",
	    "SMB transactions kept per flow; past it the oldest unfinished one is completed "
	    "(event too_many_transactions, unless only requests were ever seen).")
NJ_CONF_KEY(smb_maxrd, "app-layer.protocols.smb.max-read-size", NJ_CT_SIZE, "0",
	    "READ requests/responses larger than this raise read_request_too_large / "
	    "read_response_too_large and their data is skipped (0: no limit).")
NJ_CONF_KEY(smb_maxwr, "app-layer.protocols.smb.max-write-size", NJ_CT_SIZE, "0",
	    "WRITE requests larger than this raise write_request_too_large and their data is "
	    "skipped (0: no limit).")
NJ_CONF_KEY(smb_rdqs, "app-layer.protocols.smb.max-read-queue-size", NJ_CT_SIZE, "0",
	    "Out-of-order READ data per file beyond which more is skipped (event "
	    "read_queue_size_exceeded; 0: no limit besides the files memcap).")
NJ_CONF_KEY(smb_rdqc, "app-layer.protocols.smb.max-read-queue-cnt", NJ_CT_INT, "0",
	    "Out-of-order READ chunks per file (event read_queue_cnt_exceeded; 0: no limit).")
NJ_CONF_KEY(smb_wrqs, "app-layer.protocols.smb.max-write-queue-size", NJ_CT_SIZE, "0",
	    "As max-read-queue-size, for WRITE (event write_queue_size_exceeded).")
NJ_CONF_KEY(smb_wrqc, "app-layer.protocols.smb.max-write-queue-cnt", NJ_CT_INT, "0",
	    "As max-read-queue-cnt, for WRITE (event write_queue_cnt_exceeded).")
NJ_CONF_KEY(smb_maxfiles, "app-layer.protocols.smb.max-files", NJ_CT_INT, "64",
	    "Files carved at once per SMB flow; more READ/WRITE handles are logged but not "
	    "carved.")
NJ_CONF_KEY(smb_maxrec, "app-layer.protocols.smb.max-record", NJ_CT_SIZE, "192kb",
	    "Largest SMB record held whole when it cannot be streamed (anything but READ/WRITE "
	    "file data); larger ones are skipped with event record_overflow. Keep it below "
	    "nightjar.app-layer.max-buffer.")
NJ_CONF_KEY(smb_maxstub, "app-layer.protocols.smb.dcerpc.max-stub-size", NJ_CT_SIZE, "64kb",
	    "DCE/RPC stub bytes kept per transaction and direction for dce_stub_data (the "
	    "logged stub_data_size counts them all).")
NJ_CONF_KEY(smb_depth, "app-layer.protocols.smb.stream-depth", NJ_CT_SIZE, "0",
	    "Suricata's SMB stream depth: accepted; SMB data is not cut by depth here.")
NJ_CONF_KEY(smb_dports, "app-layer.protocols.smb.detection-ports", NJ_CT_MAP, "",
	    "Suricata's detection ports: accepted; SMB is probed on 139 and 445 first, then on "
	    "any port.")
NJ_CONF_KEY(smb_eve, "outputs.*.eve-log.types.*.smb", NJ_CT_MAP, "",
	    "SMB EVE options: types (list of file, tree_connect, negotiate, dcerpc, create, "
	    "session_setup, ioctl, rename, set_file_path_info, generic; default all). The first "
	    "eve-log listing smb sets it for all outputs.")

/* ------------------------------------------------------------------ config */

static struct nj_smb_config smb_config = {
	.max_tx = 1024,
	.max_files = 64,
	.max_record = 192 * 1024,
	.max_stub = 64 * 1024,
};

void nj_smb_config_defaults(struct nj_smb_config *c)
{
	memset(c, 0, sizeof(*c));
	c->max_tx = 1024;
	c->max_files = 64;
	c->max_record = 192 * 1024;
	c->max_stub = 64 * 1024;
}

void nj_smb_config_set(const struct nj_smb_config *c)
{
	smb_config = *c;
	if (!smb_config.max_tx)
		smb_config.max_tx = 1;
	if (smb_config.max_record < 1024)
		smb_config.max_record = 1024;
}

const struct nj_smb_config *nj_smb_config_get(void)
{
	return &smb_config;
}

const struct nj_smb_config *smb_cfg(void)
{
	return &smb_config;
}

static const struct {
	const char *name;
	uint32_t bit;
} log_type_names[] = {
	{"file", NJ_SMB_LOG_FILE},
	{"tree_connect", NJ_SMB_LOG_TREECONNECT},
	{"negotiate", NJ_SMB_LOG_NEGOTIATE},
	{"dcerpc", NJ_SMB_LOG_DCERPC},
	{"create", NJ_SMB_LOG_CREATE},
	{"session_setup", NJ_SMB_LOG_SESSION},
	{"ioctl", NJ_SMB_LOG_IOCTL},
	{"rename", NJ_SMB_LOG_RENAME},
	{"set_file_path_info", NJ_SMB_LOG_SETINFO},
	{"generic", NJ_SMB_LOG_GENERIC},
};

/* The smb entry of an eve-log's types: *listed, and its map when it has one. */
static const struct nj_conf_node *smb_entry(const struct nj_conf_node *eve, bool *listed)
{
	const struct nj_conf_node *types = nj_conf_node_get(eve, "types");

	*listed = false;
	if (!types)
		return NULL;
	for (const struct nj_conf_node *it = types->child; it; it = it->next) {
		if (it->kind == NJ_CONF_SCALAR && it->value && !strcmp(it->value, "smb")) {
			*listed = true;
			return NULL;
		}
		if (it->kind == NJ_CONF_MAP && it->child && it->child->key &&
		    !strcmp(it->child->key, "smb")) {
			*listed = true;
			return it->child->kind == NJ_CONF_MAP ? it->child : NULL;
		}
	}
	return NULL;
}

static void log_type_item(uint32_t *mask, const struct nj_conf_node *n)
{
	for (unsigned i = 0; i < NJ_ARRAY_SIZE(log_type_names); i++)
		if (!strcmp(n->value, log_type_names[i].name)) {
			*mask |= log_type_names[i].bit;
			return;
		}
	/* Suricata warns and ignores unknown names */
	NJ_WARN("%s:%d: unknown type for smb logging: %s", n->file, n->line, n->value);
}

/* The eve-log smb options (types) of the first enabled eve-log listing smb. */
static void smb_config_eve(const struct nj_conf *conf, struct nj_smb_config *c)
{
	const struct nj_conf_node *outs = nj_conf_get(conf, "outputs");

	for (const struct nj_conf_node *o = outs ? outs->child : NULL; o; o = o->next) {
		const struct nj_conf_node *e = nj_conf_node_get(o, "eve-log"), *m, *t;
		bool en = true, listed;

		if (!e || e->kind != NJ_CONF_MAP)
			continue;
		if (nj_conf_bool(conf, e, "enabled", &en) == 0 && !en)
			continue;
		m = smb_entry(e, &listed);
		if (!listed)
			continue;
		t = m ? nj_conf_node_get(m, "types") : NULL;
		if (t) {
			uint32_t mask = 0;

			if (t->kind == NJ_CONF_SCALAR && t->value && *t->value)
				log_type_item(&mask, t);
			for (const struct nj_conf_node *it = t->child; it; it = it->next)
				if (it->kind == NJ_CONF_SCALAR && it->value)
					log_type_item(&mask, it);
			if (!mask)
				NJ_WARN("%s:%d: empty types list for smb is interpreted as "
					"logging all",
					t->file, t->line);
			c->log_types = mask;
		}
		return;
	}
}

static int conf_u32_size(const struct nj_conf *conf, const char *key, uint32_t *out)
{
	uint64_t v = *out;
	int r = nj_conf_size(conf, NULL, key, &v);

	if (r < 0)
		return -1;
	if (r == 0) {
		if (v > UINT32_MAX) {
			const struct nj_conf_node *n = nj_conf_get(conf, key);

			NJ_ERR("%s:%d: %s: at most 4gb", n ? n->file : "?", n ? n->line : 0, key);
			return -1;
		}
		*out = (uint32_t)v;
	}
	return 0;
}

static int conf_u32_int(const struct nj_conf *conf, const char *key, int64_t min, int64_t max,
			uint32_t *out)
{
	int64_t v = *out;

	if (nj_conf_int(conf, NULL, key, min, max, &v) < 0)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int smb_configure(const struct nj_conf *conf)
{
	struct nj_smb_config c;

	nj_smb_config_defaults(&c);
	if (!conf) {
		nj_smb_config_set(&c);
		return 0;
	}
	if (conf_u32_int(conf, "app-layer.protocols.smb.max-tx", 1, 1 << 20, &c.max_tx) < 0 ||
	    conf_u32_int(conf, "app-layer.protocols.smb.max-files", 0, 1 << 16, &c.max_files) < 0 ||
	    conf_u32_size(conf, "app-layer.protocols.smb.max-read-size", &c.max_read_size) < 0 ||
	    conf_u32_size(conf, "app-layer.protocols.smb.max-write-size", &c.max_write_size) < 0 ||
	    conf_u32_size(conf, "app-layer.protocols.smb.max-read-queue-size",
			  &c.max_read_queue_size) < 0 ||
	    conf_u32_int(conf, "app-layer.protocols.smb.max-read-queue-cnt", 0, UINT32_MAX,
			 &c.max_read_queue_cnt) < 0 ||
	    conf_u32_size(conf, "app-layer.protocols.smb.max-write-queue-size",
			  &c.max_write_queue_size) < 0 ||
	    conf_u32_int(conf, "app-layer.protocols.smb.max-write-queue-cnt", 0, UINT32_MAX,
			 &c.max_write_queue_cnt) < 0 ||
	    conf_u32_size(conf, "app-layer.protocols.smb.max-record", &c.max_record) < 0 ||
	    conf_u32_size(conf, "app-layer.protocols.smb.dcerpc.max-stub-size", &c.max_stub) < 0)
		return -1;
	smb_config_eve(conf, &c);
	nj_smb_config_set(&c);
	return 0;
}

/* ------------------------------------------------------------------ events */

void smb_event(struct smb_state *s, const char *name)
{
	if (s->c)
		nj_al_event(s->c, s->dir, name);
}

/* ------------------------------------------------------------------ strings */

uint32_t smb_utf16_to_utf8(const uint8_t *in, uint32_t inlen, char *out, uint32_t cap)
{
	uint32_t o = 0;

	for (uint32_t i = 0; i + 1 < inlen;) {
		uint32_t cp = smb_rd16(in + i), need;

		i += 2;
		if (cp == 0)
			continue; /* Suricata drops NULs */
		if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < inlen) {
			uint32_t lo = smb_rd16(in + i);

			if (lo >= 0xdc00 && lo <= 0xdfff) {
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				i += 2;
			} else {
				cp = 0xfffd;
			}
		} else if (cp >= 0xd800 && cp <= 0xdfff) {
			cp = 0xfffd;
		}
		need = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
		if (o + need > cap)
			break;
		switch (need) {
		case 1: out[o++] = (char)cp; break;
		case 2:
			out[o++] = (char)(0xc0 | (cp >> 6));
			out[o++] = (char)(0x80 | (cp & 0x3f));
			break;
		case 3:
			out[o++] = (char)(0xe0 | (cp >> 12));
			out[o++] = (char)(0x80 | ((cp >> 6) & 0x3f));
			out[o++] = (char)(0x80 | (cp & 0x3f));
			break;
		default:
			out[o++] = (char)(0xf0 | (cp >> 18));
			out[o++] = (char)(0x80 | ((cp >> 12) & 0x3f));
			out[o++] = (char)(0x80 | ((cp >> 6) & 0x3f));
			out[o++] = (char)(0x80 | (cp & 0x3f));
			break;
		}
	}
	return o;
}

/* A transaction's strings live in one buffer; at most this much per transaction. */
#define SMB_TX_STRBUF_MAX (64 * 1024)

struct smb_str smb_tx_str(struct smb_tx *tx, const void *p, uint32_t len)
{
	struct smb_str s = {0, 0};

	if (len > SMB_NAME_MAX)
		len = SMB_NAME_MAX;
	if (!len || tx->slen + len > SMB_TX_STRBUF_MAX)
		return s;
	if (tx->slen + len > tx->scap) {
		uint32_t cap = tx->scap ? tx->scap : 128;
		char *b;

		while (cap < tx->slen + len)
			cap *= 2;
		b = realloc(tx->sbuf, cap);
		if (!b)
			return s;
		tx->sbuf = b;
		tx->scap = cap;
	}
	memcpy(tx->sbuf + tx->slen, p, len);
	s.off = tx->slen;
	s.len = len;
	tx->slen += len;
	return s;
}

struct smb_str smb_tx_str16(struct smb_tx *tx, const uint8_t *p, uint32_t len)
{
	char tmp[SMB_NAME_MAX];
	uint32_t n = smb_utf16_to_utf8(p, len, tmp, sizeof(tmp));

	return smb_tx_str(tx, tmp, n);
}

/* ------------------------------------------------------------------ transactions */

/*
 * Keeps the queue as "finished transactions first, in id order, then the
 * unfinished ones": the framework logs and frees from the head, so an SMB2
 * request that never completes (CHANGE_NOTIFY) does not hold back the ones
 * after it. Suricata logs transactions as they complete too.
 */
static void txq_partition(struct smb_state *s)
{
	struct nj_al_tx *done_h = NULL, *done_t = NULL, *open_h = NULL, *open_t = NULL;

	for (struct nj_al_tx *t = s->q.head, *n; t; t = n) {
		n = t->next;
		t->next = NULL;
		if (t->done[0] && t->done[1]) {
			if (done_t)
				done_t->next = t;
			else
				done_h = t;
			done_t = t;
		} else {
			if (open_t)
				open_t->next = t;
			else
				open_h = t;
			open_t = t;
		}
	}
	if (done_t) {
		done_t->next = open_h;
		s->q.head = done_h;
		s->q.tail = open_t ? open_t : done_t;
	} else {
		s->q.head = open_h;
		s->q.tail = open_t;
	}
}

void smb_tx_done(struct smb_state *s, struct smb_tx *tx, int dir)
{
	(void)s;
	tx->al.done[dir] = 1;
	tx->al.progress[dir] = 1;
}

void smb_tx_done_both(struct smb_state *s, struct smb_tx *tx)
{
	smb_tx_done(s, tx, 0);
	smb_tx_done(s, tx, 1);
}

/* max_tx reached: the oldest unfinished transaction is completed now. */
static void tx_force_oldest(struct smb_state *s)
{
	for (struct nj_al_tx *t = s->q.head; t; t = t->next) {
		struct smb_tx *tx = (struct smb_tx *)t;

		if (t->done[0] && t->done[1])
			continue;
		if (tx->type == SMB_TX_FILE && tx->u.file.file)
			smb_file_close(s, tx, true);
		smb_tx_done_both(s, tx);
		s->stats.forced++;
		/*
		 * A capture with requests only (one-sided) fills the list by design:
		 * Suricata 8 does not flag it then either.
		 */
		if (s->seen_tc && !s->told_too_many) {
			s->told_too_many = true;
			smb_event(s, "too_many_transactions");
		}
		return;
	}
}

struct smb_tx *smb_tx_new(struct smb_state *s, uint8_t type, uint8_t ver, uint16_t cmd)
{
	struct smb_tx *tx;

	if (s->q.count >= smb_cfg()->max_tx)
		tx_force_oldest(s);
	tx = calloc(1, sizeof(*tx));
	if (!tx)
		return NULL;
	tx->st = s;
	tx->type = type;
	tx->ver = ver;
	tx->cmd = cmd;
	/* no more data in a direction: nothing will complete that side */
	if (s->d[0].closed)
		smb_tx_done(s, tx, 0);
	if (s->d[1].closed)
		smb_tx_done(s, tx, 1);
	nj_al_tx_add(&s->q, &tx->al);
	s->stats.txs++;
	return tx;
}

void smb_tx_set_status(struct smb_tx *tx, uint32_t status, bool dos)
{
	tx->status_set = true;
	tx->dos = dos;
	if (dos) {
		/* SMB1 DOS error: class in the low byte, code in the high word */
		tx->errclass = (uint8_t)(status & 0xff);
		tx->status = status >> 16;
	} else {
		tx->status = status;
	}
}

struct smb_tx *smb_find_generic(struct smb_state *s, uint8_t ver, uint16_t cmd,
				const struct smb_key *k)
{
	for (struct nj_al_tx *t = s->q.head; t; t = t->next) {
		struct smb_tx *tx = (struct smb_tx *)t;

		if (tx->ver == ver && tx->cmd == cmd && smb_key_eq(&tx->hdr, k))
			return tx;
	}
	return NULL;
}

struct smb_tx *smb_find_type(struct smb_state *s, uint8_t type, const struct smb_key *k)
{
	for (struct nj_al_tx *t = s->q.head; t; t = t->next) {
		struct smb_tx *tx = (struct smb_tx *)t;

		if (tx->type == type && smb_key_eq(&tx->hdr, k))
			return tx;
	}
	return NULL;
}

struct smb_tx *smb_last_tx(struct smb_state *s)
{
	struct smb_tx *last = NULL;

	/* the most recently created: the highest id (the queue is partitioned) */
	for (struct nj_al_tx *t = s->q.head; t; t = t->next)
		if (!last || t->id > last->al.id)
			last = (struct smb_tx *)t;
	return last;
}

static void tx_free_data(struct smb_state *s, struct smb_tx *tx)
{
	if (tx->type == SMB_TX_FILE && tx->u.file.file)
		smb_file_close(s, tx, true);
	if (tx->type == SMB_TX_FILE)
		free(tx->u.file.head);
	if (tx->type == SMB_TX_DCERPC)
		smb_dce_tx_free(tx);
	free(tx->sbuf);
	free(tx);
}

/* ------------------------------------------------------------------ maps */

void smb_tree_set(struct smb_state *s, uint64_t ssn, uint32_t tree, const char *name, uint32_t len,
		  bool is_pipe)
{
	struct smb_tree_ent *e = NULL;
	char *n;

	for (uint32_t i = 0; i < s->ntrees; i++)
		if (s->trees[i].ssn == ssn && s->trees[i].tree == tree)
			e = &s->trees[i];
	if (!e) {
		if (s->ntrees == SMB_MAX_TREES) {
			/* the oldest goes */
			free(s->trees[0].name);
			memmove(&s->trees[0], &s->trees[1],
				sizeof(s->trees[0]) * (SMB_MAX_TREES - 1));
			s->ntrees--;
		}
		e = &s->trees[s->ntrees++];
		memset(e, 0, sizeof(*e));
	}
	if (len > SMB_NAME_MAX)
		len = SMB_NAME_MAX;
	n = len ? malloc(len) : NULL;
	if (len && !n)
		len = 0;
	if (n)
		memcpy(n, name, len);
	free(e->name);
	e->name = n;
	e->len = (uint16_t)len;
	e->ssn = ssn;
	e->tree = tree;
	e->is_pipe = is_pipe;
}

const struct smb_tree_ent *smb_tree_get(const struct smb_state *s, uint64_t ssn, uint32_t tree)
{
	for (uint32_t i = 0; i < s->ntrees; i++)
		if (s->trees[i].ssn == ssn && s->trees[i].tree == tree)
			return &s->trees[i];
	return NULL;
}

void smb_tree_del(struct smb_state *s, uint64_t ssn, uint32_t tree)
{
	for (uint32_t i = 0; i < s->ntrees; i++)
		if (s->trees[i].ssn == ssn && s->trees[i].tree == tree) {
			free(s->trees[i].name);
			memmove(&s->trees[i], &s->trees[i + 1],
				sizeof(s->trees[0]) * (s->ntrees - i - 1));
			s->ntrees--;
			return;
		}
}

void smb_name_set(struct smb_state *s, const struct smb_fuid *f, const char *name, uint32_t len)
{
	struct smb_name_ent *e = NULL;
	char *n;

	if (!f->len)
		return;
	if (!s->names) {
		s->names = calloc(SMB_MAX_NAMES, sizeof(*s->names));
		if (!s->names)
			return;
	}
	for (uint32_t i = 0; i < s->nnames; i++)
		if (smb_fuid_eq(&s->names[i].fuid, f))
			e = &s->names[i];
	if (!e) {
		/* a ring: past SMB_MAX_NAMES the oldest handle's name is forgotten */
		e = &s->names[s->names_next];
		s->names_next = (s->names_next + 1) % SMB_MAX_NAMES;
		if (s->nnames < SMB_MAX_NAMES)
			s->nnames++;
	}
	if (len > SMB_NAME_MAX)
		len = SMB_NAME_MAX;
	n = malloc(len ? len : 1);
	if (!n)
		return;
	memcpy(n, name, len);
	free(e->name);
	e->name = n;
	e->len = (uint16_t)len;
	e->fuid = *f;
}

const char *smb_name_get(const struct smb_state *s, const struct smb_fuid *f, uint32_t *len)
{
	if (!s->names || !f->len)
		return NULL;
	for (uint32_t i = 0; i < s->nnames; i++)
		if (smb_fuid_eq(&s->names[i].fuid, f)) {
			*len = s->names[i].len;
			return s->names[i].name;
		}
	return NULL;
}

/*
 * A ring: the newest entry overwrites the oldest. Lookups go from the newest
 * back, so the answer to a recent request is found in a few steps.
 */
void smb_pend_put(struct smb_state *s, const struct smb_key *k, const struct smb_fuid *f,
		  uint64_t off)
{
	struct smb_pend *p;

	if (!s->pend) {
		s->pend = calloc(SMB_MAX_PEND, sizeof(*s->pend));
		if (!s->pend)
			return;
	}
	p = &s->pend[s->pend_next];

	s->pend_next = (s->pend_next + 1) % SMB_MAX_PEND;
	p->key = *k;
	p->fuid = *f;
	p->offset = off;
	p->used = true;
}

bool smb_pend_take(struct smb_state *s, const struct smb_key *k, struct smb_fuid *f, uint64_t *off)
{
	if (!s->pend)
		return false;
	for (uint32_t n = 0, i = s->pend_next; n < SMB_MAX_PEND; n++) {
		i = i ? i - 1 : SMB_MAX_PEND - 1;
		if (s->pend[i].used && smb_key_eq(&s->pend[i].key, k)) {
			*f = s->pend[i].fuid;
			if (off)
				*off = s->pend[i].offset;
			s->pend[i].used = false;
			return true;
		}
	}
	return false;
}

const struct smb_pend *smb_pend_peek(const struct smb_state *s, const struct smb_key *k)
{
	if (!s->pend)
		return NULL;
	for (uint32_t n = 0, i = s->pend_next; n < SMB_MAX_PEND; n++) {
		i = i ? i - 1 : SMB_MAX_PEND - 1;
		if (s->pend[i].used && smb_key_eq(&s->pend[i].key, k))
			return &s->pend[i];
	}
	return NULL;
}

/* ------------------------------------------------------------------ files */

struct smb_tx *smb_file_tx_find(struct smb_state *s, const struct smb_fuid *f, int dir)
{
	for (struct nj_al_tx *t = s->q.head; t; t = t->next) {
		struct smb_tx *tx = (struct smb_tx *)t;

		if (tx->type == SMB_TX_FILE && tx->u.file.dir == dir &&
		    smb_fuid_eq(&tx->u.file.fuid, f))
			return tx;
	}
	return NULL;
}

struct smb_tx *smb_file_tx_new(struct smb_state *s, const struct smb_fuid *f, const char *name,
			       uint32_t name_len, int dir)
{
	struct smb_tx *tx = smb_tx_new(s, SMB_TX_FILE, 0, 0);
	struct nj_files *fs;

	if (!tx)
		return NULL;
	tx->u.file.dir = (uint8_t)dir;
	tx->u.file.fuid = *f;
	tx->u.file.name = smb_tx_str(tx, name, name_len);
	fs = s->c ? nj_al_files(s->c) : NULL;
	if (fs && s->open_files < smb_cfg()->max_files) {
		/* the wire name is only logged: files are stored by hash */
		tx->u.file.file = nj_file_open(fs, nj_al_flow(s->c), "smb", (const uint8_t *)name,
					       name_len, tx->al.id, dir);
		if (tx->u.file.file)
			s->open_files++;
	}
	return tx;
}

/* Records [off, end) as seen. */
static void file_track(struct smb_tx_file *tf, uint64_t off, uint64_t end)
{
	if (off <= tf->contig) {
		if (end > tf->contig)
			tf->contig = end;
	} else if (tf->npend < SMB_FILE_RANGES) {
		tf->pend[tf->npend].off = off;
		tf->pend[tf->npend].end = end;
		tf->npend++;
		tf->pend_bytes += end - off;
	}
	/* ranges the in-order end has reached are no longer pending */
	for (bool moved = true; moved;) {
		moved = false;
		for (unsigned i = 0; i < tf->npend; i++) {
			if (tf->pend[i].off > tf->contig)
				continue;
			if (tf->pend[i].end > tf->contig)
				tf->contig = tf->pend[i].end;
			tf->pend_bytes -= tf->pend[i].end - tf->pend[i].off;
			tf->pend[i] = tf->pend[--tf->npend];
			moved = true;
			break;
		}
	}
}

/*
 * Suricata's queue limits: data ahead of the in-order end waits in the file's
 * queue; past the configured size or count the chunk is refused.
 */
static bool file_queue_ok(struct smb_state *s, struct smb_tx *tx, uint64_t off, uint64_t total)
{
	const struct nj_smb_config *cfg = smb_cfg();
	struct smb_tx_file *tf = &tx->u.file;
	bool rd = tf->dir == NJ_DIR_TOCLIENT;
	uint32_t qsize = rd ? cfg->max_read_queue_size : cfg->max_write_queue_size;
	uint32_t qcnt = rd ? cfg->max_read_queue_cnt : cfg->max_write_queue_cnt;

	if (off <= tf->contig)
		return true;
	if (qsize && tf->pend_bytes + total > qsize) {
		smb_event(s, rd ? "read_queue_size_exceeded" : "write_queue_size_exceeded");
		return false;
	}
	if (qcnt && tf->npend >= qcnt) {
		smb_event(s, rd ? "read_queue_cnt_exceeded" : "write_queue_cnt_exceeded");
		return false;
	}
	return true;
}

bool smb_file_data(struct smb_state *s, struct smb_tx *tx, uint64_t off, const uint8_t *data,
		   uint32_t len, uint64_t total)
{
	struct smb_tx_file *tf = &tx->u.file;

	/* the start of a chunk: limits and overlap are judged on the whole of it */
	if (total) {
		bool overlap = off < tf->contig;

		if (!file_queue_ok(s, tx, off, total))
			return false;
		for (unsigned i = 0; i < tf->npend; i++)
			if (off < tf->pend[i].end && off + total > tf->pend[i].off)
				overlap = true;
		if (overlap)
			smb_event(s, "file_overlap");
	}
	if (!len)
		return true;
	file_track(tf, off, off + len);
	if (tf->file)
		nj_file_append_at(tf->file, off, data, len);
	/* the in-order start of the file, kept for file.data */
	if (off <= tf->head_len && off + len > tf->head_len && tf->head_len < SMB_FILE_HEAD_MAX) {
		uint64_t skip = tf->head_len - off;
		uint32_t n = (uint32_t)(len - skip);

		if (n > SMB_FILE_HEAD_MAX - tf->head_len)
			n = SMB_FILE_HEAD_MAX - tf->head_len;
		if (!tf->head)
			tf->head = malloc(SMB_FILE_HEAD_MAX);
		if (tf->head) {
			memcpy(tf->head + tf->head_len, data + skip, n);
			tf->head_len += n;
		}
	}
	s->stats.file_bytes += len;
	return true;
}

void smb_file_gap(struct smb_state *s, struct smb_tx *tx, uint64_t off, uint64_t len)
{
	struct smb_tx_file *tf = &tx->u.file;

	(void)s;
	if (!len)
		return;
	/* a hole at the in-order end is a gap now; elsewhere it stays a hole until close */
	if (off == tf->contig && tf->file) {
		while (len) {
			uint32_t k = len > UINT32_MAX ? UINT32_MAX : (uint32_t)len;

			nj_file_gap(tf->file, k);
			file_track(tf, off, off + k);
			off += k;
			len -= k;
		}
	}
}

void smb_file_close(struct smb_state *s, struct smb_tx *tx, bool truncated)
{
	struct smb_tx_file *tf = &tx->u.file;

	if (!tf->file)
		return;
	tf->size = nj_file_size(tf->file);
	tf->has_md5 = nj_file_md5(tf->file, tf->md5);
	const char *mg = nj_file_magic(tf->file, true);

	if (mg)
		tf->magic = smb_tx_str(tx, mg, (uint32_t)strlen(mg) + 1);
	tf->closed = true;
	nj_file_close(tf->file, truncated ? NJ_FILE_TRUNCATED : NJ_FILE_CLOSED, s->last_ts,
		      smb_file_meta, tx);
	tf->file = NULL;
	if (s->open_files)
		s->open_files--;
}

bool smb_fuid_is_dcerpc(const struct smb_state *s, const struct smb_fuid *f)
{
	static const char *const pipes[] = {"svcctl", "srvsvc",	 "atsvc",  "lsarpc",
					    "samr",   "spoolss", "winreg", "suricata::dcerpc"};
	uint32_t len;
	const char *n = smb_name_get(s, f, &len);

	if (!n)
		return false;
	if (len > 1 && n[0] == '\\') {
		n++;
		len--;
	}
	/* Suricata's list: other pipes (PSEXESVC, ...) are not parsed as DCE/RPC */
	for (unsigned i = 0; i < NJ_ARRAY_SIZE(pipes); i++)
		if (strlen(pipes[i]) == len && !memcmp(pipes[i], n, len))
			return true;
	return false;
}

/* ------------------------------------------------------------------ state */

static void *smb_state_new(void)
{
	return calloc(1, sizeof(struct smb_state));
}

static void smb_state_free(void *st)
{
	struct smb_state *s = st;

	if (!s)
		return;
	while (s->q.head) {
		struct nj_al_tx *t = s->q.head;

		s->q.head = t->next;
		tx_free_data(s, (struct smb_tx *)t);
	}
	for (uint32_t i = 0; i < s->ntrees; i++)
		free(s->trees[i].name);
	if (s->names) {
		for (uint32_t i = 0; i < s->nnames; i++)
			free(s->names[i].name);
		free(s->names);
	}
	for (uint32_t i = 0; i < SMB_MAX_FRAGS; i++)
		free(s->frags[i].data);
	free(s->pend);
	free(s);
}

static struct nj_al_txq *smb_txq(void *st)
{
	return &((struct smb_state *)st)->q;
}

static void smb_tx_free(void *st, struct nj_al_tx *t)
{
	tx_free_data(st, (struct smb_tx *)t);
}

const struct nj_smb_flow_stats *nj_smb_state_stats(const void *state)
{
	return &((const struct smb_state *)state)->stats;
}

/* ------------------------------------------------------------------ framing */

#define NBSS_SESSION_MESSAGE 0x00

static bool nbss_type_valid(uint8_t t)
{
	return t == NBSS_SESSION_MESSAGE || (t >= 0x81 && t <= 0x85);
}

static bool smb_magic(const uint8_t *p)
{
	return p[1] == 'S' && p[2] == 'M' && p[3] == 'B' &&
	       (p[0] == 0xff || p[0] == 0xfe || p[0] == 0xfd || p[0] == 0xfc);
}

static uint32_t be24(const uint8_t *p)
{
	return ((uint32_t)p[0] << 16) | ((uint32_t)p[1] << 8) | p[2];
}

/* A plausible record start at p: NBSS session message holding an SMB header. */
static bool record_start(const uint8_t *p)
{
	uint32_t rl = be24(p + 1);

	return p[0] == NBSS_SESSION_MESSAGE && smb_magic(p + 4) && rl >= 32 &&
	       rl <= 16 * 1024 * 1024;
}

/* Offset of the first record start in p, or UINT32_MAX. Needs 8 bytes of a match. */
static uint32_t find_record(const uint8_t *p, uint32_t len)
{
	for (uint32_t i = 0; i + 8 <= len;) {
		const uint8_t *m = memchr(p + i + 5, 'S', len - i - 5);
		uint32_t at;

		if (!m)
			return UINT32_MAX;
		at = (uint32_t)(m - p) - 5; /* NBSS header 4 bytes, then 0xff/0xfe/.. */
		if (at + 8 <= len && record_start(p + at))
			return at;
		i = at + 1;
	}
	return UINT32_MAX;
}

/*
 * Non-file transactions of a direction that lost bytes cannot complete that
 * side any more (as Suricata after a gap: requests done for to-server, both
 * sides for to-client). File transactions survive gaps.
 */
static void gap_housekeeping(struct smb_state *s, int dir)
{
	for (struct nj_al_tx *t = s->q.head; t; t = t->next) {
		struct smb_tx *tx = (struct smb_tx *)t;

		if (tx->type == SMB_TX_FILE)
			continue;
		smb_tx_done(s, tx, 0);
		if (dir == NJ_DIR_TOCLIENT)
			smb_tx_done(s, tx, 1);
	}
}

static void handle_record(struct smb_state *s, const uint8_t *p, uint32_t len)
{
	if (len < 4)
		return; /* an empty session message */
	switch (p[0]) {
	case 0xff:
		s->stats.smb1++;
		smb1_record(s, p, len);
		break;
	case 0xfe: smb2_record(s, p, len); break;
	case 0xfd:
		/* SMB3 transform: encrypted, recognised and counted */
		s->stats.encrypted++;
		if (len < 52)
			smb_event(s, "malformed_data");
		break;
	case 0xfc: s->stats.compressed++; break;
	default: smb_event(s, "malformed_data"); break;
	}
}

/* Passes streamed file data of direction dir; returns the bytes used. */
static uint32_t stream_file(struct smb_state *s, struct smb_dir *d, int dir, const uint8_t *p,
			    uint32_t len)
{
	uint32_t n = d->file_left < len ? (uint32_t)d->file_left : len;
	struct smb_tx *tx = d->file_fuid.len ? smb_file_tx_find(s, &d->file_fuid, dir) : NULL;

	if (tx)
		smb_file_data(s, tx, d->file_off, p, n, 0);
	else
		s->stats.skipped += n;
	d->file_off += n;
	d->file_left -= n;
	if (!d->file_left) {
		d->skip = d->skip_after;
		d->skip_after = 0;
	}
	return n;
}

/* The part of a record whose data is streamed was handled: what is still to come. */
static void stream_begin(struct smb_state *s, struct smb_dir *d, const struct smb_stream *ss,
			 uint32_t avail, uint32_t full)
{
	uint64_t have = avail > ss->doff ? avail - ss->doff : 0;

	if (have >= ss->dlen) {
		d->file_left = 0;
		d->skip = full - avail;
		return;
	}
	d->file_left = ss->dlen - have;
	d->file_off = ss->off + have;
	d->file_fuid = ss->fuid;
	if (!ss->file)
		d->file_fuid.len = 0; /* skipped: stream_file drops it */
	d->skip_after = full - ss->doff - ss->dlen;
	(void)s;
}

static int32_t smb_parse(void *st, struct nj_al_ctx *c, int dir, const uint8_t *data, uint32_t len)
{
	struct smb_state *s = st;
	struct smb_dir *d = &s->d[dir];
	uint32_t pos = 0;

	s->c = c;
	s->dir = dir;
	s->last_ts = nj_al_ts(c);
	if (dir == NJ_DIR_TOCLIENT)
		s->seen_tc = true;
	for (;;) {
		uint32_t left = len - pos, rlen, avail, have;
		const uint8_t *p = data + pos;
		struct smb_stream ss;
		int r;

		if (d->skip) {
			uint32_t n = d->skip < left ? (uint32_t)d->skip : left;

			d->skip -= n;
			s->stats.skipped += n;
			pos += n;
			if (d->skip)
				break;
			continue;
		}
		if (d->file_left) {
			if (!left)
				break;
			pos += stream_file(s, d, dir, p, left);
			continue;
		}
		if (!left)
			break;
		if (!d->started) {
			/* a capture that starts mid-stream: find a record start first */
			if (left < 8 && p[0] == NBSS_SESSION_MESSAGE)
				break;
			d->started = true;
			if (!nbss_type_valid(p[0]) ||
			    (p[0] == NBSS_SESSION_MESSAGE && !smb_magic(p + 4)))
				d->resync = true;
		}
		if (d->resync) {
			uint32_t at = find_record(p, left);

			if (at == UINT32_MAX) {
				/* keep what could be the start of a record */
				uint32_t k = left > 7 ? left - 7 : 0;

				s->stats.skipped += k;
				pos += k;
				break;
			}
			pos += at;
			s->stats.skipped += at;
			s->stats.resyncs++;
			d->resync = false;
			continue;
		}
		if (left < 4)
			break;
		rlen = be24(p + 1);
		if (p[0] != NBSS_SESSION_MESSAGE) {
			if (!nbss_type_valid(p[0])) {
				smb_event(s, "malformed_data");
				d->resync = true;
				continue;
			}
			/* session request/response, keep-alive: nothing for us (and small) */
			if (rlen > 4096) {
				smb_event(s, "malformed_data");
				d->resync = true;
				pos += 1;
				continue;
			}
			d->skip = 4 + (uint64_t)rlen;
			continue;
		}
		avail = left - 4;
		if (avail >= rlen && (uint64_t)rlen + 4 <= smb_cfg()->max_record) {
			s->stats.records[dir]++;
			handle_record(s, p + 4, rlen);
			pos += 4 + rlen;
			continue;
		}
		/*
		 * The record is not all here yet, or too large to hold: its
		 * READ/WRITE data can be streamed, anything else waits for the
		 * whole record or, past max_record, is skipped. The same is done
		 * whether the bytes came at once or in pieces.
		 */
		if (avail < 4)
			break;
		if (!smb_magic(p + 4)) {
			smb_event(s, "malformed_data");
			d->resync = true;
			pos += 1;
			continue;
		}
		have = avail < rlen ? avail : rlen;
		memset(&ss, 0, sizeof(ss));
		if (p[4] == 0xfe)
			r = smb2_partial(s, p + 4, have, rlen, &ss);
		else if (p[4] == 0xff)
			r = smb1_partial(s, p + 4, have, rlen, &ss);
		else
			r = -1;
		if (r == 1) {
			s->stats.records[dir]++;
			stream_begin(s, d, &ss, have, rlen);
			pos += 4 + have;
			continue;
		}
		if (r == 0 && have < rlen)
			break; /* more bytes before it can be told */
		if ((uint64_t)rlen + 4 > smb_cfg()->max_record) {
			smb_event(s, "record_overflow");
			s->stats.records[dir]++;
			if (p[4] == 0xfd)
				s->stats.encrypted++;
			else if (p[4] == 0xfc)
				s->stats.compressed++;
			d->skip = 4 + (uint64_t)rlen;
			continue;
		}
		break; /* held until it is whole */
	}
	d->pending = len - pos;
	txq_partition(s);
	s->c = NULL;
	return (int32_t)pos;
}

static void smb_gap(void *st, struct nj_al_ctx *c, int dir, uint32_t len)
{
	struct smb_state *s = st;
	struct smb_dir *d = &s->d[dir];
	uint64_t n = len;

	s->c = c;
	s->dir = dir;
	s->last_ts = nj_al_ts(c);
	s->stats.gaps++;
	/* the framework drops what we left unconsumed: that record is lost */
	if (d->pending) {
		d->pending = 0;
		d->resync = true;
	}
	if (!d->resync) {
		if (d->skip) {
			uint64_t k = d->skip < n ? d->skip : n;

			d->skip -= k;
			n -= k;
		}
		if (n && d->file_left) {
			uint64_t k = d->file_left < n ? d->file_left : n;
			struct smb_tx *tx =
				d->file_fuid.len ? smb_file_tx_find(s, &d->file_fuid, dir) : NULL;

			if (tx)
				smb_file_gap(s, tx, d->file_off, k);
			d->file_off += k;
			d->file_left -= k;
			n -= k;
			if (!d->file_left) {
				d->skip = d->skip_after;
				d->skip_after = 0;
			}
		}
		if (n && d->skip) {
			uint64_t k = d->skip < n ? d->skip : n;

			d->skip -= k;
			n -= k;
		}
	}
	if (n || d->resync) {
		d->skip = d->file_left = d->skip_after = 0;
		d->resync = true;
		d->started = true;
		gap_housekeeping(s, dir);
	}
	txq_partition(s);
	s->c = NULL;
}

static void smb_close(void *st, struct nj_al_ctx *c, int dir)
{
	struct smb_state *s = st;

	s->c = c;
	s->dir = dir;
	s->last_ts = nj_al_ts(c);
	s->d[dir].closed = true;
	/* nothing more comes this way: files fed by it end, transactions stop waiting */
	for (struct nj_al_tx *t = s->q.head; t; t = t->next) {
		struct smb_tx *tx = (struct smb_tx *)t;

		if (tx->type == SMB_TX_FILE && tx->u.file.dir == dir) {
			smb_file_close(s, tx, true);
			smb_tx_done_both(s, tx);
		}
		smb_tx_done(s, tx, dir);
	}
	txq_partition(s);
	s->c = NULL;
}

/* ------------------------------------------------------------------ probe */

/* Direction of the SMB message at p (len >= 4): 0 request, 1 response, -1 unknown. */
static int msg_dir(const uint8_t *p, uint32_t len)
{
	if (p[0] == 0xff && len >= 10)
		return (p[9] & 0x80) ? 1 : 0;
	if (p[0] == 0xfe && len >= 20)
		return (p[16] & 0x01) ? 1 : 0;
	return -1;
}

static int probe_at(const uint8_t *p, uint32_t len, int dir)
{
	int md = msg_dir(p, len);

	/* a response sent towards the server: the flow is the other way round */
	if (md >= 0 && md != dir)
		return NJ_PROBE_YES_REVERSED;
	return NJ_PROBE_YES;
}

static int smb_probe(const uint8_t *data, uint32_t len, int dir)
{
	uint32_t at;

	if (len < 8)
		return NJ_PROBE_MORE;
	if (data[0] == NBSS_SESSION_MESSAGE && smb_magic(data + 4))
		return probe_at(data + 4, len - 4, dir);
	if (data[0] >= 0x81 && data[0] <= 0x85) {
		/* a NetBIOS session request (port 139) or keep-alive before SMB */
		uint32_t rl = be24(data + 1);

		if (rl > 1024)
			return NJ_PROBE_NO;
		if (len < 4 + rl + 8)
			return NJ_PROBE_MORE;
		if (data[4 + rl] == NBSS_SESSION_MESSAGE && smb_magic(data + 4 + rl + 4))
			return probe_at(data + 4 + rl + 4, len - 4 - rl - 4, dir);
		if (data[4 + rl] >= 0x81 && data[4 + rl] <= 0x85)
			return NJ_PROBE_MORE; /* positive session response next, etc. */
		return NJ_PROBE_NO;
	}
	/* picked up mid-stream: a record start further in */
	at = find_record(data, len);
	if (at != UINT32_MAX) {
		const uint8_t *m = data + at + 4;

		/* SMB2 headers are 64 bytes and say so: cheap extra certainty */
		if (m[0] == 0xfe && len - at - 4 >= 6 && smb_rd16(m + 4) != 64)
			return NJ_PROBE_NO;
		return probe_at(m, len - at - 4, dir);
	}
	return len < 1024 ? NJ_PROBE_MORE : NJ_PROBE_NO;
}

/* ------------------------------------------------------------------ detection */

static const struct smb_tx *as_smb(const struct nj_al_tx *t)
{
	return (const struct smb_tx *)t;
}

int nj_smb_tx_version(const struct nj_al_tx *t)
{
	return as_smb(t)->ver;
}

bool nj_smb_tx_dce_opnum(const struct nj_al_tx *t, uint16_t *opnum)
{
	const struct smb_tx *tx = as_smb(t);

	if (tx->type != SMB_TX_DCERPC || !tx->u.dce.req_set || tx->u.dce.req_cmd != 0)
		return false;
	*opnum = tx->u.dce.opnum;
	return true;
}

unsigned nj_smb_tx_dce_ifaces(const struct nj_al_tx *t, const struct nj_smb_dce_iface **out)
{
	const struct smb_tx *tx = as_smb(t);

	if (tx->type != SMB_TX_DCERPC || !tx->u.dce.req_set || tx->u.dce.req_cmd != 0 ||
	    !tx->st->has_ifaces)
		return 0;
	*out = tx->st->ifaces;
	return tx->st->nifaces;
}

bool nj_smb_tx_dce_iface_match(const struct nj_al_tx *t, const uint8_t uuid[16])
{
	const struct nj_smb_dce_iface *ifs;
	unsigned n = nj_smb_tx_dce_ifaces(t, &ifs);

	for (unsigned i = 0; i < n; i++)
		if (ifs[i].acked && ifs[i].ack_result == 0 && !memcmp(ifs[i].uuid, uuid, 16))
			return true;
	return false;
}

static bool tree_buf(const struct nj_al_tx *t, bool pipe, bool final, const uint8_t **data,
		     uint32_t *len)
{
	const struct smb_tx *tx = as_smb(t);

	if (tx->type != SMB_TX_TREE || !tx->u.tree.share.len)
		return false;
	/* the share type is known from the response only */
	if (final && !t->done[1])
		return false;
	if (tx->u.tree.is_pipe != pipe)
		return false;
	*data = (const uint8_t *)smb_str_ptr(tx, tx->u.tree.share);
	*len = tx->u.tree.share.len;
	return true;
}

static bool buf_share_ts(const struct nj_al_tx *t, const uint8_t **data, uint32_t *len)
{
	return tree_buf(t, false, false, data, len);
}

static bool buf_share_tc(const struct nj_al_tx *t, const uint8_t **data, uint32_t *len)
{
	return tree_buf(t, false, true, data, len);
}

static bool buf_pipe_ts(const struct nj_al_tx *t, const uint8_t **data, uint32_t *len)
{
	return tree_buf(t, true, false, data, len);
}

static bool buf_pipe_tc(const struct nj_al_tx *t, const uint8_t **data, uint32_t *len)
{
	return tree_buf(t, true, true, data, len);
}

static bool sess_buf(const struct nj_al_tx *t, bool user, const uint8_t **data, uint32_t *len)
{
	const struct smb_tx *tx = as_smb(t);
	struct smb_str s;

	if (tx->type != SMB_TX_SESSION || !tx->u.sess.has_ntlm)
		return false;
	s = user ? tx->u.sess.user : tx->u.sess.domain;
	*data = (const uint8_t *)smb_str_ptr(tx, s);
	*len = s.len;
	return true;
}

static bool buf_user(const struct nj_al_tx *t, const uint8_t **data, uint32_t *len)
{
	return sess_buf(t, true, data, len);
}

static bool buf_domain(const struct nj_al_tx *t, const uint8_t **data, uint32_t *len)
{
	return sess_buf(t, false, data, len);
}

static bool stub_buf(const struct nj_al_tx *t, int dir, const uint8_t **data, uint32_t *len)
{
	const struct smb_tx *tx = as_smb(t);

	if (tx->type != SMB_TX_DCERPC || !tx->u.dce.stub_have[dir])
		return false;
	*data = tx->u.dce.stub[dir];
	*len = tx->u.dce.stub_have[dir];
	return true;
}

static bool buf_stub_ts(const struct nj_al_tx *t, const uint8_t **data, uint32_t *len)
{
	return stub_buf(t, NJ_DIR_TOSERVER, data, len);
}

static bool buf_stub_tc(const struct nj_al_tx *t, const uint8_t **data, uint32_t *len)
{
	return stub_buf(t, NJ_DIR_TOCLIENT, data, len);
}

/*
 * Value buffers for the smb.version, dcerpc.opnum and dcerpc.iface keywords
 * (detect/kw_dcerpc.c): the transaction's version as one byte, its opnum as a
 * host-order uint16_t, the flow's bound interfaces as struct
 * nj_smb_dce_iface[]. Internal encodings, not wire bytes.
 */
static bool buf_version(const struct nj_al_tx *t, const uint8_t **data, uint32_t *len)
{
	static const uint8_t vers[3] = {0, 1, 2};
	int v = nj_smb_tx_version(t);

	if (v < 1 || v > 2)
		return false;
	*data = &vers[v];
	*len = 1;
	return true;
}

static bool buf_opnum(const struct nj_al_tx *t, const uint8_t **data, uint32_t *len)
{
	const struct smb_tx *tx = as_smb(t);

	if (tx->type != SMB_TX_DCERPC || !tx->u.dce.req_set || tx->u.dce.req_cmd != 0)
		return false;
	*data = (const uint8_t *)&tx->u.dce.opnum;
	*len = sizeof(tx->u.dce.opnum);
	return true;
}

static bool buf_ifaces(const struct nj_al_tx *t, const uint8_t **data, uint32_t *len)
{
	const struct nj_smb_dce_iface *ifs;
	unsigned n = nj_smb_tx_dce_ifaces(t, &ifs);

	if (!n)
		return false;
	*data = (const uint8_t *)ifs;
	*len = n * (uint32_t)sizeof(*ifs);
	return true;
}

/* file.data: the start of a file written (to the server) or read (to the client). */
static bool file_head(const struct nj_al_tx *t, int dir, const uint8_t **data, uint32_t *len)
{
	const struct smb_tx *tx = (const struct smb_tx *)t;

	if (tx->type != SMB_TX_FILE || tx->u.file.dir != dir || !tx->u.file.head_len)
		return false;
	*data = tx->u.file.head;
	*len = tx->u.file.head_len;
	return true;
}

static bool buf_file_ts(const struct nj_al_tx *t, const uint8_t **data, uint32_t *len)
{
	return file_head(t, NJ_DIR_TOSERVER, data, len);
}

static bool buf_file_tc(const struct nj_al_tx *t, const uint8_t **data, uint32_t *len)
{
	return file_head(t, NJ_DIR_TOCLIENT, data, len);
}

/* The file of a file transaction once closed (filesize / filemd5). */
static bool smb_tx_file(const struct nj_al_tx *t, int dir, struct nj_al_fileinfo *out)
{
	const struct smb_tx *tx = (const struct smb_tx *)t;

	if (tx->type != SMB_TX_FILE || tx->u.file.dir != dir || !tx->u.file.closed)
		return false;
	out->size = tx->u.file.size;
	out->has_md5 = tx->u.file.has_md5;
	memcpy(out->md5, tx->u.file.md5, 16);
	if (tx->u.file.name.len) {
		out->name = (const uint8_t *)smb_str_ptr(tx, tx->u.file.name);
		out->name_len = tx->u.file.name.len;
	}
	if (tx->u.file.magic.len)
		out->magic = smb_str_ptr(tx, tx->u.file.magic);
	return true;
}

static const struct nj_al_buffer smb_buffers[] = {
	{"smb.version", NJ_DIR_TOSERVER, buf_version},
	{"smb.version", NJ_DIR_TOCLIENT, buf_version},
	{"dcerpc.opnum", NJ_DIR_TOSERVER, buf_opnum},
	{"dcerpc.opnum", NJ_DIR_TOCLIENT, buf_opnum},
	{"dcerpc.iface", NJ_DIR_TOSERVER, buf_ifaces},
	{"dcerpc.iface", NJ_DIR_TOCLIENT, buf_ifaces},
	{"smb.share", NJ_DIR_TOSERVER, buf_share_ts},
	{"smb.share", NJ_DIR_TOCLIENT, buf_share_tc},
	{"smb.named_pipe", NJ_DIR_TOSERVER, buf_pipe_ts},
	{"smb.named_pipe", NJ_DIR_TOCLIENT, buf_pipe_tc},
	{"smb.ntlmssp_user", NJ_DIR_TOSERVER, buf_user},
	{"smb.ntlmssp_domain", NJ_DIR_TOSERVER, buf_domain},
	{"dce_stub_data", NJ_DIR_TOSERVER, buf_stub_ts},
	{"dce_stub_data", NJ_DIR_TOCLIENT, buf_stub_tc},
	{"file.data", NJ_DIR_TOSERVER, buf_file_ts},
	{"file.data", NJ_DIR_TOCLIENT, buf_file_tc},
	{NULL, 0, NULL},
};

struct nj_app_parser nj_smb_parser = {
	.name = "smb",
	.ipproto_mask = NJ_AL_TCP,
	.ports = {445, 139, 0},
	.probe_min = 8,
	.eve = NJ_EVE_SMB,
	.probe = smb_probe,
	.state_new = smb_state_new,
	.state_free = smb_state_free,
	.parse = smb_parse,
	.gap = smb_gap,
	.close = smb_close,
	.txq = smb_txq,
	.tx_free = smb_tx_free,
	.log_tx = smb_log_tx,
	.buffers = smb_buffers,
	.tx_file = smb_tx_file,
	.alert_json = smb_alert_json,
	.configure = smb_configure,
};

NJ_APP_PARSER_REGISTER(nj_smb_parser)
