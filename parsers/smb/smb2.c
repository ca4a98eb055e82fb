/* SPDX-License-Identifier: MIT */
/*
 * SMB2/SMB3 messages ([MS-SMB2] 2.2): the 64-byte header, compound chains
 * (NextCommand), async interim responses, and the commands Nightjar turns
 * into transactions: NEGOTIATE, SESSION_SETUP, TREE_CONNECT, CREATE, CLOSE,
 * READ, WRITE, IOCTL, SET_INFO (rename, delete), and a generic transaction
 * for the others. Transactions are created where Suricata creates them, so
 * EVE `smb` events (and their ids) line up with Suricata's.
 *
 * Buffer offsets in SMB2 bodies are relative to the header; every one is
 * checked against the command's own region (up to NextCommand).
 */
#include <stdio.h>
#include <string.h>

#include "../../common/nj_common.h"
#include "smb_priv.h"

#define SMB2_NEGOTIATE	   0
#define SMB2_SESSION_SETUP 1
#define SMB2_LOGOFF	   2
#define SMB2_TREE_CONNECT  3
#define SMB2_TREE_DISCONN  4
#define SMB2_CREATE	   5
#define SMB2_CLOSE	   6
#define SMB2_FLUSH	   7
#define SMB2_READ	   8
#define SMB2_WRITE	   9
#define SMB2_LOCK	   10
#define SMB2_IOCTL	   11
#define SMB2_CANCEL	   12
#define SMB2_KEEPALIVE	   13
#define SMB2_FIND	   14
#define SMB2_NOTIFY	   15
#define SMB2_GET_INFO	   16
#define SMB2_SET_INFO	   17
#define SMB2_OPLOCK_BREAK  18

#define SMB2_HDR_LEN	      64
#define SMB2_FLAG_RESPONSE    0x00000001u
#define SMB2_FLAG_ASYNC	      0x00000002u
#define FSCTL_PIPE_TRANSCEIVE 0x0011c017u
#define FILE_DIRECTORY_FILE   0x00000001u
#define FILE_DELETE_ON_CLOSE  0x00001000u
#define SMB2_INFO_FILE	      1
#define FILE_RENAME_INFO      10
#define FILE_DISPOSITION_INFO 13

static const char *const smb2_cmd_names[] = {
	"SMB2_COMMAND_NEGOTIATE_PROTOCOL",
	"SMB2_COMMAND_SESSION_SETUP",
	"SMB2_COMMAND_SESSION_LOGOFF",
	"SMB2_COMMAND_TREE_CONNECT",
	"SMB2_COMMAND_TREE_DISCONNECT",
	"SMB2_COMMAND_CREATE",
	"SMB2_COMMAND_CLOSE",
	"SMB2_COMMAND_FLUSH",
	"SMB2_COMMAND_READ",
	"SMB2_COMMAND_WRITE",
	"SMB2_COMMAND_LOCK",
	"SMB2_COMMAND_IOCTL",
	"SMB2_COMMAND_CANCEL",
	"SMB2_COMMAND_KEEPALIVE",
	"SMB2_COMMAND_FIND",
	"SMB2_COMMAND_CHANGE_NOTIFY",
	"SMB2_COMMAND_GET_INFO",
	"SMB2_COMMAND_SET_INFO",
	"SMB2_COMMAND_OPLOCK_BREAK",
};

const char *smb2_command_name(uint16_t cmd)
{
	return cmd < NJ_ARRAY_SIZE(smb2_cmd_names) ? smb2_cmd_names[cmd] : NULL;
}

const char *smb2_dialect_name(uint16_t d, char *buf, unsigned len)
{
	switch (d) {
	case 0x0202: return "2.02";
	case 0x0210: return "2.10";
	case 0x0222: return "2.22";
	case 0x0224: return "2.24";
	case 0x02ff: return "2.??";
	case 0x0300: return "3.00";
	case 0x0302: return "3.02";
	case 0x0310: return "3.10";
	case 0x0311: return "3.11";
	default: snprintf(buf, len, "%u", d); return buf;
	}
}

/* One SMB2 message of a record: the header and the extent of its command. */
struct smb2_msg {
	const uint8_t *h; /* header start; buffer offsets count from here */
	uint32_t lim;	  /* bytes of this command (to NextCommand or the record's end) */
	uint32_t hav;	  /* bytes at hand from h (< lim only while streaming) */
	uint16_t cmd;
	uint32_t status, flags, next;
	uint64_t msg, ssn;
	uint32_t tree;
	bool resp;
};

static bool msg_parse(struct smb2_msg *r, const uint8_t *h, uint32_t lim, uint32_t hav)
{
	if (hav < SMB2_HDR_LEN || smb_rd16(h + 4) != SMB2_HDR_LEN)
		return false;
	r->h = h;
	r->status = smb_rd32(h + 8);
	r->cmd = smb_rd16(h + 12);
	r->flags = smb_rd32(h + 16);
	r->next = smb_rd32(h + 20);
	r->msg = smb_rd64(h + 24);
	r->resp = (r->flags & SMB2_FLAG_RESPONSE) != 0;
	/* async responses carry an AsyncId where sync ones have the tree id */
	r->tree = (r->resp && (r->flags & SMB2_FLAG_ASYNC)) ? 0 : smb_rd32(h + 36);
	r->ssn = smb_rd64(h + 40);
	if (r->next) {
		/* compound: the next header starts NextCommand bytes from this one */
		if (r->next < SMB2_HDR_LEN || r->next > lim)
			return false;
		lim = r->next;
	}
	r->lim = lim;
	r->hav = hav < lim ? hav : lim;
	if (!r->resp)
		r->status = 0; /* ChannelSequence in requests, not a status */
	return true;
}

static struct smb_key key2(const struct smb2_msg *r, uint8_t kind)
{
	struct smb_key k;

	k.kind = kind;
	k.ssn = r->ssn;
	k.tree = kind == SMB_K_TREE ? 0 : r->tree;
	k.msg = (kind == SMB_K_TRANSFRAG || kind == SMB_K_SHARE) ? 0 : r->msg;
	return k;
}

/* The same without the tree id: async responses have none. */
static struct smb_key key2_notree(const struct smb2_msg *r, uint8_t kind)
{
	struct smb_key k = key2(r, kind);

	k.tree = 0;
	return k;
}

/* Bytes at [off, off+len) of the message, if they lie within its command. */
static const uint8_t *field(const struct smb2_msg *r, uint32_t off, uint32_t len)
{
	if (off < SMB2_HDR_LEN || off > r->hav || len > r->hav - off)
		return NULL;
	return r->h + off;
}

static void fuid16(struct smb_fuid *f, const uint8_t *p)
{
	memcpy(f->b, p, 16);
	f->len = 16;
}

/* Suricata creates a generic transaction for every command but these. */
static bool smb2_new_tx(uint16_t cmd)
{
	return cmd != SMB2_READ && cmd != SMB2_WRITE && cmd != SMB2_GET_INFO &&
	       cmd != SMB2_SET_INFO;
}

static struct smb_tx *generic_tx(struct smb_state *s, const struct smb2_msg *r)
{
	struct smb_tx *tx = smb_tx_new(s, SMB_TX_GENERIC, 2, r->cmd);

	if (tx) {
		tx->hdr = key2(r, SMB_K_GENERIC);
		smb_tx_done(s, tx, 0);
	}
	return tx;
}

/* Is data (to or from a share we know nothing of) DCE/RPC? Then remember a pipe. */
static bool unknown_tree_dcerpc(struct smb_state *s, const struct smb2_msg *r,
				const struct smb_fuid *guid, const uint8_t *data, uint32_t len,
				bool *is_dcerpc)
{
	if (!smb_dcerpc_probe(data, len))
		return false;
	smb_tree_set(s, r->ssn, r->tree, "suricata::dcerpc", 16, true);
	if (!*is_dcerpc)
		smb_name_set(s, guid, "suricata::dcerpc", 16);
	*is_dcerpc = true;
	return true;
}

/* ------------------------------------------------------------------ WRITE / READ data */

/* Where a WRITE's data is: offset from the header and its length within the record. */
static void write_geom(const struct smb2_msg *r, uint32_t *doff, uint64_t *dlen, bool *cut)
{
	const uint8_t *b = r->h + SMB2_HDR_LEN;
	uint32_t off = smb_rd16(b + 2), len = smb_rd32(b + 4);

	if (off < SMB2_HDR_LEN + 48 || off > r->lim)
		off = SMB2_HDR_LEN + 48;
	*cut = len > r->lim - off;
	*doff = off;
	*dlen = *cut ? r->lim - off : len;
}

static void read_geom(const struct smb2_msg *r, uint32_t *doff, uint64_t *dlen, bool *cut)
{
	const uint8_t *b = r->h + SMB2_HDR_LEN;
	uint32_t off = b[2], len = smb_rd32(b + 4);

	if (off < SMB2_HDR_LEN + 16 || off > r->lim)
		off = SMB2_HDR_LEN + 16;
	*cut = len > r->lim - off;
	*doff = off;
	*dlen = *cut ? r->lim - off : len;
}

/* A chunk for a file transaction; false if refused (the rest is skipped). */
static bool file_chunk(struct smb_state *s, struct smb_tx *tx, uint64_t off, const uint8_t *data,
		       uint32_t have, uint64_t dlen)
{
	return smb_file_data(s, tx, off, data, have, dlen ? dlen : 1);
}

static void write_request(struct smb_state *s, const struct smb2_msg *r, struct smb_stream *out)
{
	const struct nj_smb_config *cfg = smb_cfg();
	const uint8_t *b = r->h + SMB2_HDR_LEN;
	uint32_t doff, have, wr_len, nlen = 0;
	uint64_t dlen, wr_off;
	struct smb_fuid guid;
	const uint8_t *data;
	const char *name;
	struct smb_tx *tx;
	bool cut;

	if (r->hav < SMB2_HDR_LEN + 48) {
		smb_event(s, "malformed_data");
		return;
	}
	write_geom(r, &doff, &dlen, &cut);
	wr_len = smb_rd32(b + 4);
	wr_off = smb_rd64(b + 8);
	fuid16(&guid, b + 16);
	have = r->hav > doff ? r->hav - doff : 0;
	if (have > dlen)
		have = (uint32_t)dlen;
	data = r->h + doff;
	if (out) {
		out->doff = doff;
		out->dlen = dlen;
		out->off = wr_off;
		out->fuid = guid;
		out->file = false;
	}
	if (cut)
		smb_event(s, "malformed_data"); /* data length beyond the record */
	if ((s->max_write_size && wr_len > s->max_write_size) ||
	    (cfg->max_write_size && wr_len > cfg->max_write_size)) {
		smb_event(s, "write_request_too_large");
		return;
	}
	name = smb_name_get(s, &guid, &nlen);
	tx = smb_file_tx_find(s, &guid, NJ_DIR_TOSERVER);
	if (!tx) {
		const struct smb_tree_ent *t = smb_tree_get(s, r->ssn, r->tree);
		bool is_pipe = t && t->is_pipe, no_share = !t || (!t->len && !t->is_pipe);
		bool is_dcerpc = (is_pipe || no_share) ? smb_fuid_is_dcerpc(s, &guid) : false;

		/* without the TREE_CONNECT we cannot tell a pipe from a file: look */
		if (no_share && !is_pipe &&
		    unknown_tree_dcerpc(s, r, &guid, data, have, &is_dcerpc))
			is_pipe = true;
		if (is_pipe && is_dcerpc) {
			struct smb_key k = key2(r, SMB_K_HEADER);

			smb_dcerpc_write(s, 2, SMB2_WRITE, 0, false, &k, data, have);
			return;
		}
		if (is_pipe)
			return; /* a pipe but not DCE/RPC: skipped */
		tx = smb_file_tx_new(s, &guid, name ? name : "", name ? nlen : 0, NJ_DIR_TOSERVER);
		if (!tx)
			return;
		tx->ver = 2;
		tx->cmd = SMB2_WRITE;
		tx->hdr.kind = SMB_K_HEADER;
		tx->hdr.ssn = r->ssn;
		tx->hdr.tree = r->tree;
		if (t && t->len)
			tx->u.file.share = smb_tx_str(tx, t->name, t->len);
	}
	if (file_chunk(s, tx, wr_off, data, have, dlen) && out)
		out->file = true;
}

static void read_response(struct smb_state *s, const struct smb2_msg *r, struct smb_stream *out)
{
	const struct nj_smb_config *cfg = smb_cfg();
	const uint8_t *b = r->h + SMB2_HDR_LEN;
	uint32_t doff, have, rd_len;
	uint64_t dlen, off = 0;
	struct smb_fuid guid;
	struct smb_key k;
	const uint8_t *data;
	struct smb_tx *tx;
	bool cut;

	if (r->hav < SMB2_HDR_LEN + 16) {
		smb_event(s, "malformed_data");
		return;
	}
	read_geom(r, &doff, &dlen, &cut);
	rd_len = smb_rd32(b + 4);
	have = r->hav > doff ? r->hav - doff : 0;
	if (have > dlen)
		have = (uint32_t)dlen;
	data = r->h + doff;
	if (out) {
		out->doff = doff;
		out->dlen = dlen;
		out->file = false;
	}
	if (cut)
		smb_event(s, "malformed_data");
	if ((s->max_read_size && rd_len > s->max_read_size) ||
	    (cfg->max_read_size && rd_len > cfg->max_read_size)) {
		smb_event(s, "read_response_too_large");
		return;
	}
	/* the request says which file and where: without it the data is skipped */
	k = key2_notree(r, SMB_K_OFFSET);
	if (!smb_pend_take(s, &k, &guid, &off))
		return;
	if (out) {
		out->off = off;
		out->fuid = guid;
	}
	tx = smb_file_tx_find(s, &guid, NJ_DIR_TOCLIENT);
	if (!tx) {
		const struct smb_tree_ent *t = smb_tree_get(s, r->ssn, r->tree);
		bool is_pipe = t && t->is_pipe, no_share = !t || (!t->len && !t->is_pipe);
		bool is_dcerpc = (is_pipe || no_share) ? smb_fuid_is_dcerpc(s, &guid) : false;
		uint32_t nlen = 0;
		const char *name;

		if (no_share && !is_pipe &&
		    unknown_tree_dcerpc(s, r, &guid, data, have, &is_dcerpc))
			is_pipe = true;
		if (is_pipe && is_dcerpc) {
			struct smb_key hk = key2(r, SMB_K_HEADER);

			smb_dcerpc_read(s, 2, SMB2_READ, r->status, &hk, &guid, data, have);
			return;
		}
		if (is_pipe)
			return;
		name = smb_name_get(s, &guid, &nlen);
		if (!name) {
			name = "<unknown>";
			nlen = 9;
		}
		tx = smb_file_tx_new(s, &guid, name, nlen, NJ_DIR_TOCLIENT);
		if (!tx)
			return;
		tx->ver = 2;
		tx->cmd = SMB2_READ;
		tx->hdr.kind = SMB_K_HEADER;
		tx->hdr.ssn = r->ssn;
		tx->hdr.tree = r->tree;
		if (t && t->len)
			tx->u.file.share = smb_tx_str(tx, t->name, t->len);
	}
	if (file_chunk(s, tx, off, data, have, dlen) && out)
		out->file = true;
}

/* ------------------------------------------------------------------ requests */

static bool req_set_info(struct smb_state *s, const struct smb2_msg *r)
{
	const uint8_t *b = r->h + SMB2_HDR_LEN, *buf;
	uint8_t cls, lvl;
	uint32_t blen, boff;
	struct smb_fuid guid;
	struct smb_tx *tx;
	uint32_t nlen = 0;
	const char *name;

	if (r->hav < SMB2_HDR_LEN + 32) {
		smb_event(s, "malformed_data");
		return false;
	}
	cls = b[2];
	lvl = b[3];
	blen = smb_rd32(b + 4);
	boff = smb_rd16(b + 8);
	fuid16(&guid, b + 16);
	if (cls != SMB2_INFO_FILE || (lvl != FILE_RENAME_INFO && lvl != FILE_DISPOSITION_INFO))
		return false;
	buf = field(r, boff, blen);
	if (!buf)
		buf = field(r, SMB2_HDR_LEN + 32, blen);
	if (!buf) {
		smb_event(s, "malformed_data");
		return false;
	}
	name = smb_name_get(s, &guid, &nlen);
	if (lvl == FILE_RENAME_INFO) {
		uint32_t l;

		if (blen < 20 || (l = smb_rd32(buf + 16)) > blen - 20) {
			smb_event(s, "malformed_data");
			return false;
		}
		tx = smb_tx_new(s, SMB_TX_RENAME, 2, SMB2_SET_INFO);
		if (!tx)
			return true;
		tx->hdr = key2(r, SMB_K_GENERIC);
		tx->u.rename.fuid = guid;
		tx->u.rename.from =
			name ? smb_tx_str(tx, name, nlen) : smb_tx_str(tx, "<unknown>", 9);
		tx->u.rename.to = smb_tx_str16(tx, buf + 20, l);
		smb_tx_done(s, tx, 0);
		return true;
	}
	if (blen < 1) {
		smb_event(s, "malformed_data");
		return false;
	}
	tx = smb_tx_new(s, SMB_TX_SETINFO, 2, SMB2_SET_INFO);
	if (!tx)
		return true;
	tx->hdr = key2(r, SMB_K_GENERIC);
	if (name) {
		tx->u.setinfo.name = smb_tx_str(tx, name, nlen);
	} else {
		/* in a compound the CREATE just before names the file */
		struct smb_key k = key2_notree(r, SMB_K_GENERIC);
		struct smb_tx *ct = NULL;

		if (k.msg) {
			k.msg--;
			ct = smb_find_type(s, SMB_TX_CREATE, &k);
		}
		if (ct && ct->ver == 2)
			tx->u.setinfo.name = smb_tx_str(tx, smb_str_ptr(ct, ct->u.create.name),
							ct->u.create.name.len);
		else
			tx->u.setinfo.name = smb_tx_str(tx, "<unknown>", 9);
	}
	tx->u.setinfo.fid = guid;
	tx->u.setinfo.subcmd = cls;
	tx->u.setinfo.loi = lvl;
	tx->u.setinfo.delete_on_close = buf[0] & 1;
	smb_tx_done(s, tx, 0);
	return true;
}

static void req_ioctl(struct smb_state *s, const struct smb2_msg *r)
{
	const uint8_t *b = r->h + SMB2_HDR_LEN, *data;
	struct smb_key k = key2(r, SMB_K_HEADER);
	uint32_t func, in_off, in_len;
	struct smb_fuid guid;
	struct smb_tx *tx;

	if (r->hav < SMB2_HDR_LEN + 56)
		goto malformed;
	func = smb_rd32(b + 4);
	fuid16(&guid, b + 8);
	in_off = smb_rd32(b + 24);
	in_len = smb_rd32(b + 28);
	data = in_len ? field(r, in_off, in_len) : r->h + SMB2_HDR_LEN + 56;
	if (!data)
		data = field(r, SMB2_HDR_LEN + 56, in_len);
	if (!data)
		goto malformed;
	if (func == FSCTL_PIPE_TRANSCEIVE && smb_fuid_is_dcerpc(s, &guid)) {
		smb_dcerpc_write(s, 2, SMB2_IOCTL, 0, false, &k, data, in_len);
		return;
	}
	tx = smb_tx_new(s, SMB_TX_IOCTL, 2, SMB2_IOCTL);
	if (!tx)
		return;
	tx->hdr = k;
	tx->u.ioctl_func = func;
	smb_tx_done(s, tx, 0);
	return;
malformed:
	smb_event(s, "malformed_data");
	tx = smb_tx_new(s, SMB_TX_GENERIC, 2, SMB2_IOCTL);
	if (tx) {
		tx->hdr = k;
		smb_tx_done(s, tx, 0);
	}
}

static bool req_negotiate(struct smb_state *s, const struct smb2_msg *r)
{
	const uint8_t *b = r->h + SMB2_HDR_LEN;
	uint16_t n;
	struct smb_tx *tx;

	if (r->hav < SMB2_HDR_LEN + 36)
		goto malformed;
	n = smb_rd16(b + 2);
	if ((uint32_t)n * 2 > r->hav - SMB2_HDR_LEN - 36)
		goto malformed;
	/* one NEGOTIATE transaction per flow and version */
	for (struct nj_al_tx *t = s->q.head; t; t = t->next) {
		struct smb_tx *o = (struct smb_tx *)t;

		if (o->type == SMB_TX_NEGOTIATE && o->u.neg.smb_ver == 2)
			return true;
	}
	tx = smb_tx_new(s, SMB_TX_NEGOTIATE, 2, SMB2_NEGOTIATE);
	if (!tx)
		return true;
	tx->u.neg.smb_ver = 2;
	for (uint16_t i = 0; i < n && tx->u.neg.ndialects < SMB_MAX_DIALECTS; i++) {
		char buf[8];
		const char *d = smb2_dialect_name(smb_rd16(b + 36 + 2 * i), buf, sizeof(buf));

		tx->u.neg.dialects[tx->u.neg.ndialects++] = smb_tx_str(tx, d, (uint32_t)strlen(d));
	}
	memcpy(tx->u.neg.client_guid, b + 12, 16);
	tx->u.neg.has_client_guid = true;
	smb_tx_done(s, tx, 0);
	return true;
malformed:
	smb_event(s, "malformed_data");
	return false;
}

static void req_session_setup(struct smb_state *s, const struct smb2_msg *r)
{
	const uint8_t *b = r->h + SMB2_HDR_LEN, *blob;
	uint32_t boff, blen;
	struct smb_tx *tx;

	if (r->hav < SMB2_HDR_LEN + 24) {
		smb_event(s, "malformed_data");
		return;
	}
	boff = smb_rd16(b + 12);
	blen = smb_rd16(b + 14);
	blob = field(r, boff, blen);
	if (!blob) {
		/* Suricata reads what follows the fixed part */
		blob = r->h + SMB2_HDR_LEN + 24;
		blen = r->hav - SMB2_HDR_LEN - 24;
	}
	tx = smb_tx_new(s, SMB_TX_SESSION, 2, SMB2_SESSION_SETUP);
	if (!tx)
		return;
	tx->hdr = key2(r, SMB_K_HEADER);
	smb_auth_secblob(s, tx, blob, blen);
	smb_tx_done(s, tx, 0);
}

static bool req_tree_connect(struct smb_state *s, const struct smb2_msg *r)
{
	const uint8_t *b = r->h + SMB2_HDR_LEN, *path;
	uint32_t poff, plen;
	struct smb_tx *tx;

	if (r->hav < SMB2_HDR_LEN + 8)
		goto malformed;
	poff = smb_rd16(b + 4);
	plen = smb_rd16(b + 6);
	path = field(r, poff, plen);
	if (!path)
		path = field(r, SMB2_HDR_LEN + 8, plen);
	if (!path)
		goto malformed;
	tx = smb_tx_new(s, SMB_TX_TREE, 2, SMB2_TREE_CONNECT);
	if (!tx)
		return true;
	tx->hdr = key2(r, SMB_K_TREE);
	tx->u.tree.share = smb_tx_str16(tx, path, plen);
	smb_tx_done(s, tx, 0);
	return true;
malformed:
	smb_event(s, "malformed_data");
	return false;
}

static void req_read(struct smb_state *s, const struct smb2_msg *r)
{
	const struct nj_smb_config *cfg = smb_cfg();
	const uint8_t *b = r->h + SMB2_HDR_LEN;
	uint32_t len;
	struct smb_fuid guid;
	struct smb_key k;

	if (r->hav < SMB2_HDR_LEN + 48) {
		smb_event(s, "malformed_data");
		return;
	}
	len = smb_rd32(b + 4);
	if ((s->max_read_size && len > s->max_read_size) ||
	    (cfg->max_read_size && len > cfg->max_read_size)) {
		smb_event(s, "read_request_too_large");
		return;
	}
	/* the response names neither the file nor the offset: remember them */
	fuid16(&guid, b + 16);
	k = key2_notree(r, SMB_K_OFFSET);
	smb_pend_put(s, &k, &guid, smb_rd64(b + 8));
}

static bool req_create(struct smb_state *s, const struct smb2_msg *r)
{
	const uint8_t *b = r->h + SMB2_HDR_LEN, *name;
	uint32_t opts, noff, nlen;
	struct smb_tx *tx;

	if (r->hav < SMB2_HDR_LEN + 56) {
		smb_event(s, "malformed_data");
		return false;
	}
	opts = smb_rd32(b + 40);
	noff = smb_rd16(b + 44);
	nlen = smb_rd16(b + 46);
	name = nlen ? field(r, noff, nlen) : r->h;
	if (!name)
		name = field(r, SMB2_HDR_LEN + 56, nlen);
	if (!name) {
		smb_event(s, "malformed_data");
		return false;
	}
	tx = smb_tx_new(s, SMB_TX_CREATE, 2, SMB2_CREATE);
	if (!tx)
		return true;
	tx->hdr = key2(r, SMB_K_GENERIC);
	tx->u.create.disposition = smb_rd32(b + 36);
	tx->u.create.delete_on_close = (opts & FILE_DELETE_ON_CLOSE) != 0;
	tx->u.create.directory = (opts & FILE_DIRECTORY_FILE) != 0;
	tx->u.create.name = smb_tx_str16(tx, name, nlen);
	smb_tx_done(s, tx, 0);
	return true;
}

static void close_file_dir(struct smb_state *s, const struct smb_fuid *guid, int dir)
{
	struct smb_tx *tx = smb_file_tx_find(s, guid, dir);

	if (!tx)
		return;
	smb_tx_set_status(tx, SMB_NT_SUCCESS, false);
	if (!tx->al.done[0])
		smb_file_close(s, tx, false);
	smb_tx_done_both(s, tx);
}

static void req_close(struct smb_state *s, const struct smb2_msg *r)
{
	struct smb_fuid guid;

	if (r->hav < SMB2_HDR_LEN + 24) {
		smb_event(s, "malformed_data");
		return;
	}
	fuid16(&guid, r->h + SMB2_HDR_LEN + 8);
	close_file_dir(s, &guid, NJ_DIR_TOSERVER);
	close_file_dir(s, &guid, NJ_DIR_TOCLIENT);
}

static void request(struct smb_state *s, const struct smb2_msg *r)
{
	bool have_tx = false;

	switch (r->cmd) {
	case SMB2_SET_INFO: have_tx = req_set_info(s, r); break;
	case SMB2_IOCTL:
		req_ioctl(s, r);
		have_tx = true;
		break;
	case SMB2_TREE_DISCONN: smb_tree_del(s, r->ssn, r->tree); break;
	case SMB2_NEGOTIATE: have_tx = req_negotiate(s, r); break;
	case SMB2_SESSION_SETUP:
		req_session_setup(s, r);
		have_tx = true;
		break;
	case SMB2_TREE_CONNECT: have_tx = req_tree_connect(s, r); break;
	case SMB2_READ: req_read(s, r); break;
	case SMB2_CREATE: have_tx = req_create(s, r); break;
	case SMB2_WRITE:
		write_request(s, r, NULL);
		have_tx = true;
		break;
	case SMB2_CLOSE: req_close(s, r); break;
	default: break;
	}
	if (!have_tx && smb2_new_tx(r->cmd))
		generic_tx(s, r);
}

/* ------------------------------------------------------------------ responses */

/* The response completes the transaction unless it is an interim STATUS_PENDING. */
static void complete(struct smb_state *s, struct smb_tx *tx, const struct smb2_msg *r)
{
	smb_tx_set_status(tx, r->status, false);
	if (r->status != SMB_NT_PENDING)
		smb_tx_done(s, tx, 1);
}

static void resp_ioctl(struct smb_state *s, const struct smb2_msg *r)
{
	const uint8_t *b = r->h + SMB2_HDR_LEN, *data;
	struct smb_key k = key2(r, SMB_K_HEADER);
	uint32_t func, in_len, out_off, out_len;
	struct smb_fuid guid;
	struct smb_tx *tx;

	if (r->hav < SMB2_HDR_LEN + 48 || smb_rd16(b) != 49)
		goto unparsed;
	func = smb_rd32(b + 4);
	fuid16(&guid, b + 8);
	in_len = smb_rd32(b + 28);
	out_off = smb_rd32(b + 32);
	out_len = smb_rd32(b + 36);
	data = out_len ? field(r, out_off, out_len) : r->h + SMB2_HDR_LEN + 48;
	if (!data && in_len <= r->hav - SMB2_HDR_LEN - 48)
		data = field(r, SMB2_HDR_LEN + 48 + in_len, out_len);
	if (!data)
		goto unparsed;
	if (func == FSCTL_PIPE_TRANSCEIVE && smb_fuid_is_dcerpc(s, &guid)) {
		struct smb_fuid none = {{0}, 0};

		smb_dcerpc_read(s, 2, SMB2_IOCTL, r->status, &k, &none, data, out_len);
		return;
	}
	tx = smb_find_generic(s, 2, SMB2_IOCTL, &k);
	if (tx)
		complete(s, tx, r);
	return;
unparsed:
	/* an error response has no IOCTL body */
	tx = smb_find_generic(s, 2, SMB2_IOCTL, &k);
	if (tx) {
		complete(s, tx, r);
		if (r->status == SMB_NT_SUCCESS)
			smb_event(s, "malformed_data");
	}
}

static void session_update(struct smb_state *s, struct smb_tx *tx, const struct smb2_msg *r)
{
	tx->hdr = key2(r, SMB_K_HEADER); /* the session id is known now */
	smb_tx_set_status(tx, r->status, false);
	smb_tx_done(s, tx, 1);
}

static void resp_session_setup(struct smb_state *s, const struct smb2_msg *r)
{
	struct smb_key k = key2(r, SMB_K_HEADER);
	struct smb_tx *tx = NULL;

	/* a later round (NTLMSSP AUTH) has the session id, the first has 0 */
	if (r->ssn)
		tx = smb_find_type(s, SMB_TX_SESSION, &k);
	if (!tx) {
		k.ssn = 0;
		tx = smb_find_type(s, SMB_TX_SESSION, &k);
	}
	if (tx)
		session_update(s, tx, r);
}

static bool resp_read(struct smb_state *s, const struct smb2_msg *r)
{
	if (r->status == SMB_NT_SUCCESS || r->status == SMB_NT_BUFFER_OVERFLOW) {
		read_response(s, r, NULL);
	} else if (r->status == SMB_NT_END_OF_FILE) {
		struct smb_key k = key2_notree(r, SMB_K_OFFSET);
		struct smb_fuid guid = {{0}, 0};
		struct smb_tx *tx;

		smb_pend_take(s, &k, &guid, NULL);
		tx = smb_file_tx_find(s, &guid, NJ_DIR_TOCLIENT);
		if (tx) {
			if (!tx->al.done[0])
				smb_file_close(s, tx, false);
			smb_tx_set_status(tx, r->status, false);
			smb_tx_done(s, tx, 0);
		}
	}
	return false;
}

static bool resp_create(struct smb_state *s, const struct smb2_msg *r)
{
	const uint8_t *b = r->h + SMB2_HDR_LEN;
	struct smb_key k = key2(r, SMB_K_GENERIC);
	struct smb_tx *tx;
	struct smb_fuid guid;

	if (r->status != SMB_NT_SUCCESS)
		return false;
	if (r->hav < SMB2_HDR_LEN + 88) {
		smb_event(s, "malformed_data");
		return true;
	}
	fuid16(&guid, b + 64);
	tx = smb_find_generic(s, 2, SMB2_CREATE, &k);
	if (!tx)
		return true;
	/* the handle's name, for READ/WRITE/SET_INFO on it later */
	if (tx->type == SMB_TX_CREATE)
		smb_name_set(s, &guid, smb_str_ptr(tx, tx->u.create.name), tx->u.create.name.len);
	smb_tx_set_status(tx, r->status, false);
	smb_tx_done(s, tx, 1);
	if (tx->type == SMB_TX_CREATE) {
		struct smb_tx_create *c = &tx->u.create;
		uint64_t ft[4];

		for (int i = 0; i < 4; i++) {
			ft[i] = smb_rd64(b + 8 + 8 * i);
			/* FILETIME (100 ns since 1601) to unix seconds; 0 before 1970 */
			ft[i] = ft[i] > 116444736000000000ull ? ft[i] / 10000000 - 11644473600ull
							      : 0;
		}
		c->created = (uint32_t)ft[0];
		c->accessed = (uint32_t)ft[1];
		c->modified = (uint32_t)ft[2];
		c->changed = (uint32_t)ft[3];
		c->size = smb_rd64(b + 48);
		c->guid = guid;
	}
	return true;
}

static bool resp_tree_connect(struct smb_state *s, const struct smb2_msg *r)
{
	struct smb_key k = key2(r, SMB_K_TREE);
	struct smb_tx *tx = smb_find_type(s, SMB_TX_TREE, &k);
	uint8_t type;

	if (r->status != SMB_NT_SUCCESS) {
		if (!tx)
			return false;
		smb_tx_set_status(tx, r->status, false);
		smb_tx_done(s, tx, 1);
		return true;
	}
	if (r->hav < SMB2_HDR_LEN + 16) {
		smb_event(s, "malformed_data");
		return false;
	}
	type = r->h[SMB2_HDR_LEN + 2];
	if (!tx)
		return true;
	tx->u.tree.share_type = type;
	tx->u.tree.is_pipe = type == 2;
	tx->u.tree.tree_id = r->tree;
	tx->hdr = key2(r, SMB_K_HEADER); /* now with the tree id */
	smb_tx_set_status(tx, r->status, false);
	smb_tx_done(s, tx, 1);
	smb_tree_set(s, r->ssn, r->tree, smb_str_ptr(tx, tx->u.tree.share), tx->u.tree.share.len,
		     type == 2);
	return true;
}

static struct smb_tx *negotiate_tx(struct smb_state *s, uint8_t ver)
{
	for (struct nj_al_tx *t = s->q.head; t; t = t->next) {
		struct smb_tx *tx = (struct smb_tx *)t;

		if (tx->type == SMB_TX_NEGOTIATE && tx->u.neg.smb_ver == ver)
			return tx;
	}
	return NULL;
}

static bool resp_negotiate(struct smb_state *s, const struct smb2_msg *r)
{
	const struct nj_smb_config *cfg = smb_cfg();
	const uint8_t *b = r->h + SMB2_HDR_LEN;
	uint16_t dialect = 0;
	uint32_t mr = 0, mw = 0;
	struct smb_tx *tx;

	if (r->status == SMB_NT_SUCCESS) {
		if (r->hav < SMB2_HDR_LEN + 40) {
			smb_event(s, "malformed_data");
			return false;
		}
		dialect = smb_rd16(b + 4);
		mr = smb_rd32(b + 32);
		mw = smb_rd32(b + 36);
	} else if (r->hav < SMB2_HDR_LEN + 4) {
		smb_event(s, "malformed_data");
		return false;
	}
	if (cfg->max_read_size && mr > cfg->max_read_size)
		smb_event(s, "negotiate_max_read_size_too_large");
	if (cfg->max_write_size && mw > cfg->max_write_size)
		smb_event(s, "negotiate_max_write_size_too_large");
	s->dialect = dialect;
	s->max_read_size = mr;
	s->max_write_size = mw;
	/* an SMB2 answer to an SMB1 multi-protocol NEGOTIATE completes that one */
	tx = negotiate_tx(s, 2);
	if (!tx)
		tx = negotiate_tx(s, 1);
	if (!tx)
		return false;
	if (r->status == SMB_NT_SUCCESS) {
		memcpy(tx->u.neg.server_guid, b + 8, 16);
		tx->u.neg.server_guid_len = 16;
	}
	smb_tx_set_status(tx, r->status, false);
	smb_tx_done(s, tx, 1);
	return true;
}

static void response(struct smb_state *s, const struct smb2_msg *r)
{
	bool have_tx = false;

	switch (r->cmd) {
	case SMB2_IOCTL:
		resp_ioctl(s, r);
		have_tx = true;
		break;
	case SMB2_SESSION_SETUP:
		resp_session_setup(s, r);
		have_tx = true;
		break;
	case SMB2_READ: have_tx = resp_read(s, r); break;
	case SMB2_CREATE: have_tx = resp_create(s, r); break;
	case SMB2_TREE_DISCONN: smb_tree_del(s, r->ssn, r->tree); break;
	case SMB2_TREE_CONNECT: have_tx = resp_tree_connect(s, r); break;
	case SMB2_NEGOTIATE: have_tx = resp_negotiate(s, r); break;
	default: break;
	}
	if (!have_tx) {
		struct smb_key k = key2(r, SMB_K_GENERIC);
		struct smb_tx *tx = smb_find_generic(s, 2, r->cmd, &k);

		if (tx)
			complete(s, tx, r);
	}
}

/* ------------------------------------------------------------------ records */

void smb2_record(struct smb_state *s, const uint8_t *p, uint32_t len)
{
	uint32_t off = 0;

	while (off < len) {
		struct smb2_msg r;

		if (!msg_parse(&r, p + off, len - off, len - off)) {
			smb_event(s, "malformed_data");
			return;
		}
		s->stats.smb2++;
		if (s->dir == NJ_DIR_TOSERVER) {
			if (!r.resp)
				request(s, &r);
			else
				smb_event(s, "response_to_server");
		} else {
			if (r.resp)
				response(s, &r);
			else
				smb_event(s, "request_to_client");
		}
		if (!r.next)
			return;
		off += r.next;
	}
}

int smb2_partial(struct smb_state *s, const uint8_t *p, uint32_t avail, uint32_t full,
		 struct smb_stream *out)
{
	struct smb2_msg r;
	uint32_t doff, have;
	uint64_t dlen;
	bool cut;

	if (avail < SMB2_HDR_LEN)
		return 0;
	if (!msg_parse(&r, p, full, avail) || r.next)
		return -1;
	if (s->dir == NJ_DIR_TOSERVER) {
		struct smb_fuid guid;

		if (r.resp || r.cmd != SMB2_WRITE)
			return -1;
		if (avail < SMB2_HDR_LEN + 48)
			return 0;
		write_geom(&r, &doff, &dlen, &cut);
		if (avail < doff)
			return 0;
		have = avail - doff;
		fuid16(&guid, p + SMB2_HDR_LEN + 16);
		if (!smb_file_tx_find(s, &guid, NJ_DIR_TOSERVER)) {
			const struct smb_tree_ent *t = smb_tree_get(s, r.ssn, r.tree);

			/* pipe data (DCE/RPC) is parsed from the whole record */
			if (t && t->is_pipe)
				return 2;
			if (!t || !t->len) {
				if (have < dlen && have < 16)
					return 0;
				if (smb_dcerpc_probe(p + doff, have))
					return 2;
			}
		}
		s->stats.smb2++;
		write_request(s, &r, out);
		return 1;
	}
	if (!r.resp || r.cmd != SMB2_READ ||
	    (r.status != SMB_NT_SUCCESS && r.status != SMB_NT_BUFFER_OVERFLOW))
		return -1;
	if (avail < SMB2_HDR_LEN + 16)
		return 0;
	read_geom(&r, &doff, &dlen, &cut);
	if (avail < doff)
		return 0;
	have = avail - doff;
	{
		struct smb_key k = key2_notree(&r, SMB_K_OFFSET);
		struct smb_fuid guid;
		const struct smb_pend *pe = smb_pend_peek(s, &k);

		if (pe) {
			guid = pe->fuid;
			if (!smb_file_tx_find(s, &guid, NJ_DIR_TOCLIENT)) {
				const struct smb_tree_ent *t = smb_tree_get(s, r.ssn, r.tree);

				if (t && t->is_pipe)
					return 2;
				if (!t || !t->len) {
					if (have < dlen && have < 16)
						return 0;
					if (smb_dcerpc_probe(p + doff, have))
						return 2;
				}
			}
		}
	}
	s->stats.smb2++;
	read_response(s, &r, out);
	return 1;
}
