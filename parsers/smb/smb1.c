/* SPDX-License-Identifier: MIT */
/*
 * SMB1 / CIFS messages ([MS-CIFS], [MS-SMB]): the 32-byte header, AndX
 * chains, and NEGOTIATE, SESSION_SETUP_ANDX, TREE_CONNECT_ANDX,
 * NT_CREATE_ANDX, READ_ANDX, WRITE_ANDX / WRITE / WRITE_AND_CLOSE, CLOSE,
 * TRANS (named pipes: DCE/RPC), TRANS2 SET_PATH/FILE_INFO (rename, delete),
 * RENAME and LOGOFF_ANDX; a generic transaction for the others, as Suricata.
 *
 * Offsets in SMB1 (AndX offsets, data offsets) count from the header start.
 * File ids are made unique per user by appending the user id (Suricata's
 * "frankenfid"; logged as the 4-digit fid).
 */
#include <string.h>

#include "../../common/nj_common.h"
#include "smb_priv.h"

#define C_CLOSE		  0x04
#define C_RENAME	  0x07
#define C_WRITE		  0x0b
#define C_LOCKING_ANDX	  0x24
#define C_TRANS		  0x25
#define C_WRITE_AND_CLOSE 0x2c
#define C_OPEN_ANDX	  0x2d
#define C_READ_ANDX	  0x2e
#define C_WRITE_ANDX	  0x2f
#define C_TRANS2	  0x32
#define C_TRANS2_SEC	  0x33
#define C_TREE_DISCONN	  0x71
#define C_NEGOTIATE	  0x72
#define C_SESSION_SETUP	  0x73
#define C_LOGOFF	  0x74
#define C_TREE_CONNECT	  0x75
#define C_NT_TRANS	  0xa0
#define C_NT_CREATE	  0xa2
#define C_NT_CANCEL	  0xa4
#define C_NONE		  0xff

#define SMB1_HDR_LEN	     32
#define FLAGS_REPLY	     0x80
#define FLAGS2_UNICODE	     0x8000
#define FLAGS2_NT_STATUS     0x4000
#define FILE_DIRECTORY_FILE  0x00000001u
#define FILE_DELETE_ON_CLOSE 0x00001000u

static const struct {
	uint8_t cmd;
	const char *name;
} smb1_names[] = {
	{0x00, "SMB1_COMMAND_CREATE_DIRECTORY"},
	{0x01, "SMB1_COMMAND_DELETE_DIRECTORY"},
	{0x02, "SMB1_COMMAND_OPEN"},
	{0x03, "SMB1_COMMAND_CREATE"},
	{0x04, "SMB1_COMMAND_CLOSE"},
	{0x05, "SMB1_COMMAND_FLUSH"},
	{0x06, "SMB1_COMMAND_DELETE"},
	{0x07, "SMB1_COMMAND_RENAME"},
	{0x08, "SMB1_COMMAND_QUERY_INFORMATION"},
	{0x09, "SMB1_COMMAND_SET_INFORMATION"},
	{0x0a, "SMB1_COMMAND_READ"},
	{0x0b, "SMB1_COMMAND_WRITE"},
	{0x0c, "SMB1_COMMAND_LOCK_BYTE_RANGE"},
	{0x0d, "SMB1_COMMAND_UNLOCK_BYTE_RANGE"},
	{0x0e, "SMB1_COMMAND_CREATE_TEMPORARY"},
	{0x0f, "SMB1_COMMAND_CREATE_NEW"},
	{0x10, "SMB1_COMMAND_CHECK_DIRECTORY"},
	{0x11, "SMB1_COMMAND_PROCESS_EXIT"},
	{0x12, "SMB1_COMMAND_SEEK"},
	{0x13, "SMB1_COMMAND_LOCK_AND_READ"},
	{0x14, "SMB1_COMMAND_WRITE_AND_UNLOCK"},
	{0x24, "SMB1_COMMAND_LOCKING_ANDX"},
	{0x25, "SMB1_COMMAND_TRANS"},
	{0x2b, "SMB1_COMMAND_ECHO"},
	{0x2c, "SMB1_COMMAND_WRITE_AND_CLOSE"},
	{0x2d, "SMB1_COMMAND_OPEN_ANDX"},
	{0x2e, "SMB1_COMMAND_READ_ANDX"},
	{0x2f, "SMB1_COMMAND_WRITE_ANDX"},
	{0x32, "SMB1_COMMAND_TRANS2"},
	{0x33, "SMB1_COMMAND_TRANS2_SECONDARY"},
	{0x34, "SMB1_COMMAND_FIND_CLOSE2"},
	{0x71, "SMB1_COMMAND_TREE_DISCONNECT"},
	{0x72, "SMB1_COMMAND_NEGOTIATE_PROTOCOL"},
	{0x73, "SMB1_COMMAND_SESSION_SETUP_ANDX"},
	{0x74, "SMB1_COMMAND_LOGOFF_ANDX"},
	{0x75, "SMB1_COMMAND_TREE_CONNECT_ANDX"},
	{0x80, "SMB1_COMMAND_QUERY_INFO_DISK"},
	{0xa0, "SMB1_COMMAND_NT_TRANS"},
	{0xa1, "SMB1_COMMAND_NT_TRANS_SECONDARY"},
	{0xa2, "SMB1_COMMAND_NT_CREATE_ANDX"},
	{0xa4, "SMB1_COMMAND_NT_CANCEL"},
};

const char *smb1_command_name(uint8_t cmd)
{
	for (unsigned i = 0; i < NJ_ARRAY_SIZE(smb1_names); i++)
		if (smb1_names[i].cmd == cmd)
			return smb1_names[i].name;
	return NULL;
}

struct smb1_msg {
	const uint8_t *h;
	uint32_t len; /* the message's length (the record) */
	uint32_t hav; /* bytes at hand (< len only while streaming) */
	uint8_t cmd, flags;
	uint16_t flags2, tid, uid, mid;
	uint32_t status;
	bool dos, unicode;
};

static bool msg_parse(struct smb1_msg *r, const uint8_t *h, uint32_t len, uint32_t hav)
{
	if (hav < SMB1_HDR_LEN)
		return false;
	r->h = h;
	r->len = len;
	r->hav = hav < len ? hav : len;
	r->cmd = h[4];
	r->status = smb_rd32(h + 5);
	r->flags = h[9];
	r->flags2 = smb_rd16(h + 10);
	r->tid = smb_rd16(h + 24);
	r->uid = smb_rd16(h + 28);
	r->mid = smb_rd16(h + 30);
	r->dos = !(r->flags2 & FLAGS2_NT_STATUS);
	r->unicode = (r->flags2 & FLAGS2_UNICODE) != 0;
	return true;
}

static struct smb_key key1(const struct smb1_msg *r, uint8_t kind)
{
	struct smb_key k;

	k.kind = kind;
	k.ssn = r->uid;
	k.tree = kind == SMB_K_TREE ? 0 : r->tid;
	k.msg = (kind == SMB_K_TRANSFRAG || kind == SMB_K_SHARE) ? 0 : r->mid;
	return k;
}

/* fid + user id (big endian): unique per user */
static void franken(struct smb_fuid *f, const uint8_t *fid, uint16_t uid)
{
	f->b[0] = fid[0];
	f->b[1] = fid[1];
	f->b[2] = 0;
	f->b[3] = 0;
	f->b[4] = (uint8_t)(uid >> 8);
	f->b[5] = (uint8_t)uid;
	f->len = 6;
}

static bool have(const struct smb1_msg *r, uint32_t off, uint32_t n)
{
	return off <= r->hav && n <= r->hav - off;
}

/* Word count, parameter words and byte block of the command at off. */
struct smb1_blk {
	uint8_t wct;
	const uint8_t *w; /* parameter words */
	uint32_t boff;	  /* byte block offset from the header */
	uint16_t bcc;
	uint32_t bend; /* end of the byte block (bounded by what is at hand) */
};

static bool blk(const struct smb1_msg *r, uint32_t off, struct smb1_blk *b)
{
	if (!have(r, off, 1))
		return false;
	b->wct = r->h[off];
	if (!have(r, off + 1, 2u * b->wct + 2))
		return false;
	b->w = r->h + off + 1;
	b->bcc = smb_rd16(r->h + off + 1 + 2 * b->wct);
	b->boff = off + 3 + 2u * b->wct;
	b->bend = b->boff + b->bcc;
	if (b->bend > r->hav)
		b->bend = r->hav;
	return true;
}

/*
 * A NUL-terminated string at *pos (< end): UTF-16 when the message says so
 * (2-byte aligned from the header), else ASCII. Advances *pos. false if no
 * terminator (Suricata also accepts one NUL byte ending the block in UTF-16).
 */
static bool get_string(const struct smb1_msg *r, uint32_t *pos, uint32_t end, char *out,
		       uint32_t cap, uint32_t *olen)
{
	uint32_t p = *pos;

	*olen = 0;
	if (r->unicode) {
		uint32_t s;

		if (p & 1)
			p++;
		s = p;
		while (p + 1 < end && (r->h[p] || r->h[p + 1]))
			p += 2;
		if (p + 1 < end) {
			*olen = smb_utf16_to_utf8(r->h + s, p - s, out, cap);
			*pos = p + 2;
			return true;
		}
		if (p < end && r->h[p] == 0) {
			*olen = smb_utf16_to_utf8(r->h + s, p - s, out, cap);
			*pos = p + 1;
			return true;
		}
		return false;
	}
	{
		const uint8_t *z = p < end ? memchr(r->h + p, 0, end - p) : NULL;
		uint32_t n;

		if (!z)
			return false;
		n = (uint32_t)(z - (r->h + p));
		if (n > cap)
			n = cap;
		memcpy(out, r->h + p, n);
		*olen = n;
		*pos = (uint32_t)(z - r->h) + 1;
		return true;
	}
}

static struct smb_str tx_string(struct smb_tx *tx, const struct smb1_msg *r, uint32_t *pos,
				uint32_t end, bool *ok)
{
	char tmp[SMB_NAME_MAX];
	uint32_t n;

	*ok = get_string(r, pos, end, tmp, sizeof(tmp), &n);
	return *ok ? smb_tx_str(tx, tmp, n) : (struct smb_str){0, 0};
}

/* Suricata: every command gets a generic transaction but these. */
static bool smb1_new_tx(uint8_t cmd)
{
	return cmd != C_READ_ANDX && cmd != C_WRITE_ANDX && cmd != C_TRANS && cmd != C_TRANS2;
}

/* ... and responses look one up for all but these. */
static bool smb1_check_tx(uint8_t cmd)
{
	return cmd != C_READ_ANDX && cmd != C_WRITE_ANDX && cmd != C_TRANS;
}

static bool is_andx(uint8_t c)
{
	return c == C_LOCKING_ANDX || c == C_OPEN_ANDX || c == C_READ_ANDX ||
	       c == C_SESSION_SETUP || c == C_LOGOFF || c == C_TREE_CONNECT || c == C_NT_CREATE ||
	       c == C_WRITE_ANDX;
}

static struct smb_tx *generic_tx(struct smb_state *s, const struct smb1_msg *r, uint8_t cmd)
{
	struct smb_tx *tx = smb_tx_new(s, SMB_TX_GENERIC, 1, cmd);

	if (tx) {
		tx->hdr = key1(r, SMB_K_GENERIC);
		smb_tx_done(s, tx, 0);
	}
	return tx;
}

/* A generic transaction for the record's first command, if Suricata makes one. */
static void request_generic(struct smb_state *s, const struct smb1_msg *r, bool events)
{
	if (smb1_new_tx(r->cmd) || events)
		generic_tx(s, r, r->cmd);
}

static void response_generic(struct smb_state *s, const struct smb1_msg *r, bool events)
{
	struct smb_key k = key1(r, SMB_K_GENERIC);
	struct smb_tx *tx = smb_find_generic(s, 1, r->cmd, &k);

	if (!tx && events) {
		tx = smb_tx_new(s, SMB_TX_GENERIC, 1, r->cmd);
		if (tx)
			tx->hdr = k;
	}
	if (tx) {
		smb_tx_set_status(tx, r->status, r->dos);
		smb_tx_done_both(s, tx);
	}
}

static void close_file(struct smb_state *s, const struct smb_fuid *f, int dir)
{
	struct smb_tx *tx = smb_file_tx_find(s, f, dir);

	if (tx && !tx->al.done[0]) {
		smb_file_close(s, tx, false);
		smb_tx_done_both(s, tx);
	}
}

/* ------------------------------------------------------------------ READ / WRITE */

/* The data of a WRITE-type request at off: offset, length, fid. false: malformed. */
struct wr {
	const uint8_t *fid;
	uint64_t off;
	uint32_t doff;
	uint64_t dlen; /* within the record */
};

static bool write_geom(const struct smb1_msg *r, uint8_t cmd, uint32_t off, struct wr *w)
{
	struct smb1_blk b;
	uint64_t len;

	if (!blk(r, off, &b))
		return false;
	switch (cmd) {
	case C_WRITE_ANDX: {
		uint32_t doff;

		if (b.wct != 12 && b.wct != 14)
			return false;
		w->fid = b.w + 4;
		w->off = smb_rd32(b.w + 6);
		if (b.wct == 14)
			w->off |= (uint64_t)smb_rd32(b.w + 24) << 32;
		len = ((uint32_t)smb_rd16(b.w + 18) << 16) | smb_rd16(b.w + 20);
		doff = smb_rd16(b.w + 22);
		/* DataOffset counts from the header: it may point past padding or AndX parts */
		if (doff < b.boff || doff > r->len)
			doff = b.boff;
		w->doff = doff;
		break;
	}
	case C_WRITE:
		if (b.wct != 5 || b.bcc < 3)
			return false;
		w->fid = b.w;
		w->off = smb_rd32(b.w + 4);
		len = smb_rd16(r->h + b.boff + 1);
		w->doff = b.boff + 3;
		break;
	default: /* WRITE_AND_CLOSE */
		if ((b.wct != 6 && b.wct != 12) || b.bcc < smb_rd16(b.w + 2))
			return false;
		w->fid = b.w;
		w->off = smb_rd32(b.w + 4);
		len = smb_rd16(b.w + 2);
		/* the data ends the byte block (after one pad byte) */
		w->doff = b.boff + b.bcc - (uint32_t)len;
		break;
	}
	if (w->doff > r->len)
		return false;
	w->dlen = len > r->len - w->doff ? r->len - w->doff : len;
	return true;
}

static void write_request(struct smb_state *s, const struct smb1_msg *r, uint8_t cmd, uint32_t off,
			  struct smb_stream *out)
{
	struct wr w;
	struct smb_fuid fid;
	struct smb_tx *tx;
	const char *name;
	uint32_t nlen = 0, have_n;
	const uint8_t *data;
	bool events = false;

	if (!write_geom(r, cmd, off, &w)) {
		smb_event(s, "malformed_data");
		events = true;
		goto out;
	}
	franken(&fid, w.fid, r->uid);
	have_n = r->hav > w.doff ? r->hav - w.doff : 0;
	if (have_n > w.dlen)
		have_n = (uint32_t)w.dlen;
	data = r->h + w.doff;
	if (out) {
		out->doff = w.doff;
		out->dlen = w.dlen;
		out->off = w.off;
		out->fuid = fid;
		out->file = false;
	}
	name = smb_name_get(s, &fid, &nlen);
	if (!name) {
		name = "<unknown>";
		nlen = 9;
	}
	tx = smb_file_tx_find(s, &fid, NJ_DIR_TOSERVER);
	if (!tx) {
		const struct smb_tree_ent *t = smb_tree_get(s, r->uid, r->tid);

		if (t && t->is_pipe) {
			struct smb_key k = key1(r, SMB_K_HEADER);

			smb_dcerpc_write(s, 1, cmd, r->status, true, &k, data, have_n);
			goto close;
		}
		tx = smb_file_tx_new(s, &fid, name, nlen, NJ_DIR_TOSERVER);
		if (!tx)
			goto close;
		tx->ver = 1;
		tx->cmd = C_WRITE_ANDX;
		if (t && t->len)
			tx->u.file.share = smb_tx_str(tx, t->name, t->len);
	}
	if (smb_file_data(s, tx, w.off, data, have_n, w.dlen ? w.dlen : 1) && out)
		out->file = true;
close:
	if (cmd == C_WRITE_AND_CLOSE)
		close_file(s, &fid, NJ_DIR_TOSERVER);
out:
	request_generic(s, r, events);
}

static bool read_geom(const struct smb1_msg *r, uint32_t off, uint32_t *doff, uint64_t *dlen)
{
	struct smb1_blk b;
	uint64_t len;
	uint32_t d;

	if (!blk(r, off, &b) || b.wct != 12)
		return false;
	len = ((uint32_t)smb_rd16(b.w + 14) << 16) | smb_rd16(b.w + 10);
	d = smb_rd16(b.w + 12);
	if (d < b.boff || d > r->len)
		d = b.boff;
	*doff = d;
	*dlen = len > r->len - d ? r->len - d : len;
	return true;
}

static void read_response(struct smb_state *s, const struct smb1_msg *r, uint32_t off,
			  struct smb_stream *out)
{
	uint32_t doff, have_n;
	uint64_t dlen, foff = 0;
	struct smb_fuid fid;
	struct smb_key k;
	const struct smb_tree_ent *t;
	const uint8_t *data;
	bool events = false;

	if (r->status != SMB_NT_SUCCESS)
		goto out;
	if (!read_geom(r, off, &doff, &dlen)) {
		smb_event(s, "malformed_data");
		events = true;
		goto out;
	}
	have_n = r->hav > doff ? r->hav - doff : 0;
	if (have_n > dlen)
		have_n = (uint32_t)dlen;
	data = r->h + doff;
	if (out) {
		out->doff = doff;
		out->dlen = dlen;
		out->file = false;
	}
	k = key1(r, SMB_K_OFFSET);
	if (!smb_pend_take(s, &k, &fid, &foff))
		goto out; /* a reply to a request we did not see: skipped */
	if (out) {
		out->off = foff;
		out->fuid = fid;
	}
	t = smb_tree_get(s, r->uid, r->tid);
	if (t && t->is_pipe) {
		struct smb_key hk = key1(r, SMB_K_HEADER);
		struct smb_fuid pure = fid;

		pure.len = 2; /* the pipe's own fid */
		smb_dcerpc_read(s, 1, C_READ_ANDX, SMB_NT_SUCCESS, &hk, &pure, data, have_n);
	} else {
		struct smb_tx *tx = smb_file_tx_find(s, &fid, NJ_DIR_TOCLIENT);

		if (!tx) {
			uint32_t nlen = 0;
			const char *name = smb_name_get(s, &fid, &nlen);

			tx = smb_file_tx_new(s, &fid, name ? name : "", name ? nlen : 0,
					     NJ_DIR_TOCLIENT);
			if (tx) {
				tx->ver = 1;
				tx->cmd = C_READ_ANDX;
				if (t && t->len)
					tx->u.file.share = smb_tx_str(tx, t->name, t->len);
			}
		}
		if (tx && smb_file_data(s, tx, foff, data, have_n, dlen ? dlen : 1) && out)
			out->file = true;
	}
out:
	response_generic(s, r, events);
}

/* ------------------------------------------------------------------ requests */

static bool req_negotiate(struct smb_state *s, const struct smb1_msg *r)
{
	struct smb1_blk b;
	struct smb_tx *tx;
	uint32_t p, end;
	bool bad = false;

	if (!blk(r, SMB1_HDR_LEN, &b) || !memchr(r->h + b.boff, 0, b.bend - b.boff)) {
		smb_event(s, "malformed_data");
		return false;
	}
	for (struct nj_al_tx *t = s->q.head; t; t = t->next) {
		struct smb_tx *o = (struct smb_tx *)t;

		if (o->type == SMB_TX_NEGOTIATE && o->u.neg.smb_ver == 1) {
			smb_event(s, "duplicate_negotiate");
			return true;
		}
	}
	tx = smb_tx_new(s, SMB_TX_NEGOTIATE, 1, C_NEGOTIATE);
	if (!tx)
		return true;
	tx->u.neg.smb_ver = 1;
	/* each dialect: a buffer format byte (0x02) and a NUL-terminated name */
	p = b.boff;
	end = b.bend;
	while (p < end) {
		const uint8_t *z = memchr(r->h + p, 0, end - p);
		uint32_t n;

		if (!z)
			break;
		n = (uint32_t)(z - (r->h + p));
		if (n == 0) {
			bad = true;
		} else {
			if (n == 1)
				bad = true;
			if (tx->u.neg.ndialects < SMB_MAX_DIALECTS)
				tx->u.neg.dialects[tx->u.neg.ndialects++] =
					smb_tx_str(tx, r->h + p + 1, n - 1);
		}
		p += n + 1;
	}
	smb_tx_done(s, tx, 0);
	if (bad)
		smb_event(s, "negotiate_malformed_dialects");
	return true;
}

/* Native OS / LAN manager strings after a SESSION_SETUP's fixed part. */
static void host_info(struct smb_tx *tx, const struct smb1_msg *r, uint32_t pos, uint32_t end,
		      bool request)
{
	struct smb_tx_session *x = &tx->u.sess;
	struct smb_str os = {0, 0}, lm = {0, 0};
	bool ok;

	os = tx_string(tx, r, &pos, end, &ok);
	if (ok)
		lm = tx_string(tx, r, &pos, end, &ok);
	if (request) {
		x->has_req_host = true;
		x->req_os = os;
		x->req_lm = lm;
	} else {
		x->has_resp_host = true;
		x->resp_os = os;
		x->resp_lm = lm;
	}
}

static void req_session_setup(struct smb_state *s, const struct smb1_msg *r, uint32_t off)
{
	struct smb1_blk b;
	struct smb_tx *tx;
	uint32_t pos;

	if (!blk(r, off, &b) || (b.wct != 12 && b.wct != 13 && b.wct != 10)) {
		smb_event(s, "malformed_data");
		return;
	}
	tx = smb_tx_new(s, SMB_TX_SESSION, 1, C_SESSION_SETUP);
	if (!tx)
		return;
	tx->hdr.kind = SMB_K_HEADER;
	tx->hdr.ssn = r->uid;
	tx->hdr.msg = r->mid;
	pos = b.boff;
	if (b.wct == 12) {
		/* extended security: a security blob, then the host strings */
		uint16_t bl = smb_rd16(b.w + 14);

		if (bl > b.bend - b.boff) {
			smb_event(s, "malformed_data");
			smb_tx_done(s, tx, 0);
			return;
		}
		smb_auth_secblob(s, tx, r->h + b.boff, bl);
		pos += bl;
	} else if (b.wct == 13) {
		/* NT LM 0.12 without extended security: passwords, account, domain first */
		uint32_t pw = (uint32_t)smb_rd16(b.w + 14) + smb_rd16(b.w + 16);
		char tmp[SMB_NAME_MAX];
		uint32_t n;

		if (pw > b.bend - b.boff) {
			smb_event(s, "malformed_data");
			smb_tx_done(s, tx, 0);
			return;
		}
		pos += pw;
		if (!get_string(r, &pos, b.bend, tmp, sizeof(tmp), &n) ||
		    !get_string(r, &pos, b.bend, tmp, sizeof(tmp), &n))
			pos = b.bend;
	} else {
		/* LANMAN: a password, then account and domain */
		uint32_t pw = smb_rd16(b.w + 14);
		char tmp[SMB_NAME_MAX];
		uint32_t n;

		pos += pw < b.bend - b.boff ? pw : b.bend - b.boff;
		if (!get_string(r, &pos, b.bend, tmp, sizeof(tmp), &n) ||
		    !get_string(r, &pos, b.bend, tmp, sizeof(tmp), &n))
			pos = b.bend;
	}
	host_info(tx, r, pos, b.bend, true);
	smb_tx_done(s, tx, 0);
}

static bool req_tree_connect(struct smb_state *s, const struct smb1_msg *r, uint32_t off)
{
	struct smb1_blk b;
	struct smb_tx *tx;
	uint32_t pos, pw;
	char path[SMB_NAME_MAX];
	uint32_t plen;
	const uint8_t *z;

	if (!blk(r, off, &b) || b.wct != 4)
		goto bad;
	pw = smb_rd16(b.w + 6);
	if (pw > b.bend - b.boff)
		goto bad;
	pos = b.boff + pw;
	if (!get_string(r, &pos, b.bend, path, sizeof(path), &plen))
		goto bad;
	z = pos < b.bend ? memchr(r->h + pos, 0, b.bend - pos) : NULL;
	if (!z)
		goto bad;
	tx = smb_tx_new(s, SMB_TX_TREE, 1, C_TREE_CONNECT);
	if (!tx)
		return true;
	tx->hdr = key1(r, SMB_K_TREE);
	tx->u.tree.share = smb_tx_str(tx, path, plen);
	tx->u.tree.req_svc = smb_tx_str(tx, r->h + pos, (uint32_t)(z - (r->h + pos)));
	tx->u.tree.has_req_svc = true;
	smb_tx_done(s, tx, 0);
	return true;
bad:
	smb_event(s, "malformed_data");
	return false;
}

static bool req_nt_create(struct smb_state *s, const struct smb1_msg *r, uint32_t off)
{
	struct smb1_blk b;
	struct smb_tx *tx;
	uint32_t opts, pos;
	char name[SMB_NAME_MAX];
	uint32_t nlen = 0;

	if (!blk(r, off, &b) || b.wct != 24)
		goto bad;
	opts = smb_rd32(b.w + 39);
	pos = b.boff;
	if (!get_string(r, &pos, b.bend, name, sizeof(name), &nlen)) {
		/* a name without terminator: up to the block's end */
		uint32_t p = b.boff;

		if (r->unicode && (p & 1))
			p++;
		nlen = p < b.bend ? (r->unicode ? smb_utf16_to_utf8(r->h + p, b.bend - p, name,
								    sizeof(name))
						: b.bend - p)
				  : 0;
		if (!r->unicode) {
			if (nlen > sizeof(name))
				nlen = sizeof(name);
			memcpy(name, r->h + p, nlen);
		}
	}
	tx = smb_tx_new(s, SMB_TX_CREATE, 1, C_NT_CREATE);
	if (!tx)
		return true;
	tx->hdr = key1(r, SMB_K_GENERIC);
	tx->u.create.disposition = smb_rd32(b.w + 35);
	tx->u.create.delete_on_close = (opts & FILE_DELETE_ON_CLOSE) != 0;
	tx->u.create.directory = (opts & FILE_DIRECTORY_FILE) != 0;
	tx->u.create.name = smb_tx_str(tx, name, nlen);
	smb_tx_done(s, tx, 0);
	return true;
bad:
	smb_event(s, "malformed_data");
	return false;
}

static bool req_rename(struct smb_state *s, const struct smb1_msg *r)
{
	struct smb1_blk b;
	struct smb_tx *tx;
	char from[SMB_NAME_MAX], to[SMB_NAME_MAX];
	uint32_t fl, tl, pos;

	if (!blk(r, SMB1_HDR_LEN, &b) || b.bend <= b.boff)
		goto bad;
	pos = b.boff + 1; /* buffer format 0x04 */
	if (!get_string(r, &pos, b.bend, from, sizeof(from), &fl) || pos >= b.bend)
		goto bad;
	pos++;
	if (!get_string(r, &pos, b.bend, to, sizeof(to), &tl))
		goto bad;
	tx = smb_tx_new(s, SMB_TX_RENAME, 1, C_RENAME);
	if (!tx)
		return true;
	tx->hdr = key1(r, SMB_K_GENERIC);
	tx->u.rename.from = smb_tx_str(tx, from, fl);
	tx->u.rename.to = smb_tx_str(tx, to, tl);
	smb_tx_done(s, tx, 0);
	return true;
bad:
	smb_event(s, "malformed_data");
	return false;
}

#define TRANS2_SET_PATH_INFO 6
#define TRANS2_SET_FILE_INFO 8
#define LOI_RENAME	     1010
#define LOI_DISPOSITION	     1013

/* A name in a TRANS2 parameter or data block: UTF-16 or ASCII, length-delimited. */
static struct smb_str block_name(struct smb_tx *tx, const struct smb1_msg *r, const uint8_t *p,
				 uint32_t n)
{
	if (r->unicode)
		return smb_tx_str16(tx, p, n);
	while (n && p[n - 1] == 0)
		n--;
	return smb_tx_str(tx, p, n);
}

static bool req_trans2(struct smb_state *s, const struct smb1_msg *r)
{
	struct smb1_blk b;
	uint16_t pcnt, poff, dcnt, doff, sub, loi;
	const uint8_t *par, *dat;
	struct smb_tx *tx;

	if (!blk(r, SMB1_HDR_LEN, &b) || b.wct < 15)
		goto bad;
	pcnt = smb_rd16(b.w + 18);
	poff = smb_rd16(b.w + 20);
	dcnt = smb_rd16(b.w + 22);
	doff = smb_rd16(b.w + 24);
	sub = smb_rd16(b.w + 28);
	if (sub != TRANS2_SET_PATH_INFO && sub != TRANS2_SET_FILE_INFO)
		return false;
	if (!have(r, poff, pcnt) || !have(r, doff, dcnt) || pcnt < 4)
		goto bad;
	par = r->h + poff;
	dat = r->h + doff;
	loi = smb_rd16(par + (sub == TRANS2_SET_PATH_INFO ? 0 : 2));
	if (loi != LOI_RENAME && loi != LOI_DISPOSITION)
		return false;
	if (loi == LOI_DISPOSITION && dcnt < 1)
		goto bad;
	if (loi == LOI_RENAME && (dcnt < 12 || smb_rd32(dat + 8) > dcnt - 12u))
		goto bad;
	if (sub == TRANS2_SET_PATH_INFO && pcnt < 6)
		goto bad;
	tx = smb_tx_new(s, loi == LOI_RENAME ? SMB_TX_RENAME : SMB_TX_SETINFO, 1, C_TRANS2);
	if (!tx)
		return true;
	tx->hdr = key1(r, SMB_K_GENERIC);
	if (loi == LOI_RENAME) {
		struct smb_tx_rename *x = &tx->u.rename;

		if (sub == TRANS2_SET_PATH_INFO) {
			x->from = block_name(tx, r, par + 6, pcnt - 6u);
		} else {
			struct smb_fuid ff;
			uint32_t nl = 0;
			const char *n;

			franken(&ff, par, r->uid);
			n = smb_name_get(s, &ff, &nl);
			x->from = n ? smb_tx_str(tx, n, nl) : smb_tx_str(tx, "<unknown>", 9);
			memcpy(x->fuid.b, par, 2);
			x->fuid.len = 2;
		}
		x->to = block_name(tx, r, dat + 12, smb_rd32(dat + 8));
	} else {
		struct smb_tx_setinfo *x = &tx->u.setinfo;

		if (sub == TRANS2_SET_PATH_INFO) {
			x->name = block_name(tx, r, par + 6, pcnt - 6u);
		} else {
			struct smb_fuid ff;
			uint32_t nl = 0;
			const char *n;

			franken(&ff, par, r->uid);
			n = smb_name_get(s, &ff, &nl);
			x->name = n ? smb_tx_str(tx, n, nl) : smb_tx_str(tx, "<unknown>", 9);
			memcpy(x->fid.b, par, 2);
			x->fid.len = 2;
		}
		x->subcmd = sub;
		x->loi = loi;
		x->delete_on_close = dat[0] & 1;
	}
	smb_tx_done(s, tx, 0);
	return true;
bad:
	smb_event(s, "malformed_data");
	return false;
}

static void req_trans(struct smb_state *s, const struct smb1_msg *r)
{
	struct smb1_blk b;
	uint16_t dcnt, doff;
	uint8_t scnt;
	bool events = false;

	if (!blk(r, SMB1_HDR_LEN, &b) || b.wct < 14) {
		smb_event(s, "malformed_data");
		events = true;
		goto out;
	}
	dcnt = smb_rd16(b.w + 22);
	doff = smb_rd16(b.w + 24);
	scnt = b.w[26];
	/* TransactNmPipe: two setup words, the function and the pipe's fid */
	if (b.wct == 16 && scnt == 2 && dcnt > 0) {
		struct smb_key k = key1(r, SMB_K_GUID);
		struct smb_fuid pf, ff;

		memcpy(pf.b, b.w + 30, 2);
		pf.len = 2;
		smb_pend_put(s, &k, &pf, 0);
		franken(&ff, b.w + 30, r->uid);
		if (!have(r, doff, dcnt)) {
			smb_event(s, "malformed_data");
			events = true;
		} else if (smb_fuid_is_dcerpc(s, &ff)) {
			struct smb_key hk = key1(r, SMB_K_HEADER);

			smb_dcerpc_write(s, 1, C_TRANS, 0, false, &hk, r->h + doff, dcnt);
		}
	}
out:
	request_generic(s, r, events);
}

/* CLOSE, also when it ends an AndX chain (its words are then at off). */
static void req_close(struct smb_state *s, const struct smb1_msg *r, uint32_t off)
{
	struct smb1_blk b;
	struct smb_fuid ff;
	struct smb_key k;

	if (!blk(r, off, &b) || b.wct < 1) {
		smb_event(s, "malformed_data");
		return;
	}
	franken(&ff, b.w, r->uid);
	/* the response closes the to-client side: remember the fid */
	k = key1(r, SMB_K_GUID);
	smb_pend_put(s, &k, &ff, 0);
	close_file(s, &ff, NJ_DIR_TOSERVER);
}

static void req_read(struct smb_state *s, const struct smb1_msg *r, uint32_t off)
{
	struct smb1_blk b;
	struct smb_fuid ff;
	struct smb_key k;
	uint64_t o;

	if (!blk(r, off, &b) || (b.wct != 10 && b.wct != 12)) {
		smb_event(s, "malformed_data");
		return;
	}
	franken(&ff, b.w + 4, r->uid);
	o = smb_rd32(b.w + 6);
	if (b.wct == 12)
		o |= (uint64_t)smb_rd32(b.w + 20) << 32;
	k = key1(r, SMB_K_OFFSET);
	smb_pend_put(s, &k, &ff, o);
}

static void request_one(struct smb_state *s, const struct smb1_msg *r, uint8_t cmd, uint32_t off)
{
	bool have_tx = false, no_response = false;

	switch (cmd) {
	case C_RENAME: have_tx = req_rename(s, r); break;
	case C_TRANS2: have_tx = req_trans2(s, r); break;
	case C_READ_ANDX: req_read(s, r, off); break;
	case C_WRITE_ANDX:
	case C_WRITE:
	case C_WRITE_AND_CLOSE:
		write_request(s, r, cmd, off, NULL);
		have_tx = true;
		break;
	case C_TRANS:
		req_trans(s, r);
		have_tx = true;
		break;
	case C_NEGOTIATE: have_tx = req_negotiate(s, r); break;
	case C_NT_CREATE: have_tx = req_nt_create(s, r, off); break;
	case C_SESSION_SETUP:
		req_session_setup(s, r, off);
		have_tx = true;
		break;
	case C_TREE_CONNECT: have_tx = req_tree_connect(s, r, off); break;
	case C_TREE_DISCONN: smb_tree_del(s, r->uid, r->tid); break;
	case C_CLOSE: req_close(s, r, off); break;
	case C_NT_CANCEL:
	case C_TRANS2_SEC:
	case C_LOCKING_ANDX: no_response = true; break;
	default: break;
	}
	if (!have_tx && smb1_new_tx(cmd)) {
		struct smb_tx *tx = generic_tx(s, r, cmd);

		if (tx && no_response)
			smb_tx_done(s, tx, 1);
	}
}

/* ------------------------------------------------------------------ responses */

static bool resp_negotiate(struct smb_state *s, const struct smb1_msg *r)
{
	struct smb1_blk b;
	struct smb_tx *tx = NULL;
	uint16_t idx = 0;

	if (!blk(r, SMB1_HDR_LEN, &b) || (b.wct != 0 && b.wct < 17 && b.wct != 1)) {
		smb_event(s, "malformed_data");
		return false;
	}
	if (b.wct)
		idx = smb_rd16(b.w);
	for (struct nj_al_tx *t = s->q.head; t; t = t->next) {
		struct smb_tx *o = (struct smb_tx *)t;

		if (o->type == SMB_TX_NEGOTIATE && o->u.neg.smb_ver == 1)
			tx = o;
	}
	if (!tx)
		return false;
	smb_tx_set_status(tx, r->status, r->dos);
	smb_tx_done(s, tx, 1);
	/* Suricata takes the first 16 bytes of the block as the server guid */
	if (b.wct >= 17 && b.bcc >= 16 && b.bend - b.boff >= 16) {
		memcpy(tx->u.neg.server_guid, r->h + b.boff, 16);
		tx->u.neg.server_guid_len = 16;
	}
	if (idx < tx->u.neg.ndialects) {
		struct smb_str d = tx->u.neg.dialects[idx];
		uint32_t n = d.len < sizeof(s->dialect1) ? d.len : sizeof(s->dialect1);

		memcpy(s->dialect1, smb_str_ptr(tx, d), n);
		s->dialect1_len = (uint8_t)n;
		s->has_dialect1 = true;
	} else {
		smb_event(s, "negotiate_malformed_dialects");
	}
	return true;
}

static bool resp_tree_connect(struct smb_state *s, const struct smb1_msg *r, uint32_t off)
{
	struct smb_key k = key1(r, SMB_K_TREE);
	struct smb_tx *tx = smb_find_type(s, SMB_TX_TREE, &k);
	struct smb1_blk b;
	const uint8_t *z;
	uint32_t slen;

	if (r->status != SMB_NT_SUCCESS) {
		if (tx) {
			tx->u.tree.tree_id = r->tid;
			smb_tx_set_status(tx, r->status, r->dos);
			smb_tx_done(s, tx, 1);
		}
		return true; /* Suricata stops here: no generic lookup */
	}
	if (!blk(r, off, &b) || b.wct < 2 || b.bend <= b.boff ||
	    !(z = memchr(r->h + b.boff, 0, b.bend - b.boff))) {
		smb_event(s, "malformed_data");
		return false;
	}
	if (!tx)
		return false;
	slen = (uint32_t)(z - (r->h + b.boff));
	tx->u.tree.is_pipe = slen == 3 && !memcmp(r->h + b.boff, "IPC", 3);
	tx->u.tree.tree_id = r->tid;
	tx->u.tree.res_svc = smb_tx_str(tx, r->h + b.boff, slen);
	tx->u.tree.has_res_svc = true;
	tx->hdr = key1(r, SMB_K_HEADER);
	smb_tx_set_status(tx, r->status, r->dos);
	smb_tx_done(s, tx, 1);
	smb_tree_set(s, r->uid, r->tid, smb_str_ptr(tx, tx->u.tree.share), tx->u.tree.share.len,
		     tx->u.tree.is_pipe);
	return true;
}

static bool resp_nt_create(struct smb_state *s, const struct smb1_msg *r, uint32_t off)
{
	struct smb_key k = key1(r, SMB_K_GENERIC);
	struct smb1_blk b;
	struct smb_tx *tx;
	struct smb_fuid ff;

	if (r->status != SMB_NT_SUCCESS)
		return false;
	if (!blk(r, off, &b) || b.wct < 34) {
		smb_event(s, "malformed_data");
		return false;
	}
	franken(&ff, b.w + 5, r->uid);
	tx = smb_find_generic(s, 1, C_NT_CREATE, &k);
	if (!tx)
		return true;
	if (tx->type == SMB_TX_CREATE) {
		struct smb_tx_create *c = &tx->u.create;
		uint64_t ft[4];

		smb_name_set(s, &ff, smb_str_ptr(tx, c->name), c->name.len);
		for (int i = 0; i < 4; i++) {
			ft[i] = smb_rd64(b.w + 11 + 8 * i);
			ft[i] = ft[i] > 116444736000000000ull ? ft[i] / 10000000 - 11644473600ull
							      : 0;
		}
		c->created = (uint32_t)ft[0];
		c->accessed = (uint32_t)ft[1];
		c->modified = (uint32_t)ft[2];
		c->changed = (uint32_t)ft[3];
		c->size = smb_rd64(b.w + 55); /* EndOfFile */
		memcpy(c->guid.b, b.w + 5, 2);
		c->guid.len = 2;
	}
	smb_tx_set_status(tx, r->status, false);
	smb_tx_done(s, tx, 1);
	return true;
}

static void resp_session_setup(struct smb_state *s, const struct smb1_msg *r, uint32_t off)
{
	struct smb_key k = {r->uid, r->mid, 0, SMB_K_HEADER};
	struct smb_tx *tx = NULL;
	struct smb1_blk b;

	if (r->uid)
		tx = smb_find_type(s, SMB_TX_SESSION, &k);
	if (!tx) {
		k.ssn = 0;
		tx = smb_find_type(s, SMB_TX_SESSION, &k);
	}
	if (!tx)
		return;
	if (blk(r, off, &b) && (b.wct == 0 || b.wct == 3 || b.wct == 4)) {
		uint32_t pos = b.boff;

		if (b.wct == 4) {
			uint16_t bl = smb_rd16(b.w + 6);

			pos += bl < b.bend - b.boff ? bl : b.bend - b.boff;
		}
		host_info(tx, r, pos, b.bend, false);
	} else {
		smb_event(s, "malformed_data");
	}
	tx->hdr = key1(r, SMB_K_HEADER); /* the user id is known now */
	smb_tx_set_status(tx, r->status, r->dos);
	smb_tx_done(s, tx, 1);
}

static void resp_trans(struct smb_state *s, const struct smb1_msg *r)
{
	struct smb_key k = key1(r, SMB_K_GUID);
	struct smb_fuid fid = {{0}, 0}, ff;
	struct smb1_blk b;
	const uint8_t *data = NULL;
	uint32_t dcnt = 0;
	bool events = false;

	if (!blk(r, SMB1_HDR_LEN, &b) || (b.wct != 0 && b.wct < 10)) {
		smb_event(s, "malformed_data");
		events = true;
		goto out;
	}
	if (b.wct) {
		uint16_t doff = smb_rd16(b.w + 14);

		dcnt = smb_rd16(b.w + 12);
		if (!have(r, doff, dcnt)) {
			smb_event(s, "malformed_data");
			events = true;
			goto out;
		}
		data = r->h + doff;
	}
	smb_pend_take(s, &k, &fid, NULL);
	if (fid.len == 2)
		franken(&ff, fid.b, r->uid);
	else
		ff = fid;
	if (r->status == SMB_NT_BUFFER_OVERFLOW || smb_fuid_is_dcerpc(s, &ff)) {
		/* more data follows (BUFFER_OVERFLOW) or a whole DCE/RPC answer */
		struct smb_key hk = key1(r, SMB_K_HEADER);

		if (data)
			smb_dcerpc_read(s, 1, C_TRANS, r->status, &hk, &fid, data, dcnt);
	}
out:
	response_generic(s, r, events);
}

static void response_one(struct smb_state *s, const struct smb1_msg *r, uint8_t cmd, uint32_t off)
{
	bool have_tx = false, sync = false;

	switch (cmd) {
	case C_READ_ANDX:
		read_response(s, r, off, NULL);
		have_tx = true;
		break;
	case C_NEGOTIATE: have_tx = resp_negotiate(s, r); break;
	case C_TREE_CONNECT:
		if (resp_tree_connect(s, r, off) && r->status != SMB_NT_SUCCESS)
			return;
		have_tx = true;
		break;
	case C_TREE_DISCONN: smb_tree_del(s, r->uid, r->tid); break;
	case C_NT_CREATE: have_tx = resp_nt_create(s, r, off); break;
	case C_CLOSE: {
		struct smb_key k = key1(r, SMB_K_GUID);
		struct smb_fuid ff;

		if (smb_pend_take(s, &k, &ff, NULL))
			close_file(s, &ff, NJ_DIR_TOCLIENT);
		break;
	}
	case C_TRANS:
		resp_trans(s, r);
		have_tx = true;
		break;
	case C_SESSION_SETUP:
		resp_session_setup(s, r, off);
		have_tx = true;
		break;
	case C_LOGOFF: sync = true; break;
	default: break;
	}
	if (have_tx)
		return;
	if (sync) {
		/* the last transaction, if it is this command */
		struct smb_tx *tx = smb_last_tx(s);

		if (tx && tx->ver == 1 && tx->cmd == cmd) {
			smb_tx_set_status(tx, r->status, r->dos);
			smb_tx_done(s, tx, 1);
		}
	} else if (smb1_check_tx(cmd)) {
		struct smb_key k = key1(r, SMB_K_GENERIC);
		struct smb_tx *tx = smb_find_generic(s, 1, cmd, &k);

		if (tx) {
			smb_tx_set_status(tx, r->status, r->dos);
			smb_tx_done_both(s, tx);
		}
	}
}

/* ------------------------------------------------------------------ records */

/* The next command of an AndX chain: false at its end. */
static bool andx_next(const struct smb1_msg *r, uint8_t *cmd, uint32_t *off)
{
	uint8_t next;
	uint16_t noff;

	if (!is_andx(*cmd) || !have(r, *off, 5))
		return false;
	next = r->h[*off + 1];
	noff = smb_rd16(r->h + *off + 3);
	/* forward only: a chain cannot loop */
	if (next == C_NONE || noff <= *off || noff >= r->len)
		return false;
	*cmd = next;
	*off = noff;
	return true;
}

void smb1_record(struct smb_state *s, const uint8_t *p, uint32_t len)
{
	struct smb1_msg r;
	uint32_t off = SMB1_HDR_LEN;
	uint8_t cmd;

	if (!msg_parse(&r, p, len, len)) {
		smb_event(s, "malformed_data");
		return;
	}
	cmd = r.cmd;
	if (s->dir == NJ_DIR_TOSERVER) {
		if (r.flags & FLAGS_REPLY) {
			smb_event(s, "response_to_server");
			return;
		}
		do
			request_one(s, &r, cmd, off);
		while (andx_next(&r, &cmd, &off));
	} else {
		if (!(r.flags & FLAGS_REPLY)) {
			smb_event(s, "request_to_client");
			return;
		}
		do
			response_one(s, &r, cmd, off);
		while (andx_next(&r, &cmd, &off));
	}
}

int smb1_partial(struct smb_state *s, const uint8_t *p, uint32_t avail, uint32_t full,
		 struct smb_stream *out)
{
	struct smb1_msg r;
	const struct smb_tree_ent *t;

	if (avail < SMB1_HDR_LEN)
		return 0;
	if (!msg_parse(&r, p, full, avail))
		return -1;
	t = smb_tree_get(s, r.uid, r.tid);
	if (s->dir == NJ_DIR_TOSERVER) {
		struct wr w;
		struct smb1_blk b;

		if ((r.flags & FLAGS_REPLY) || r.cmd != C_WRITE_ANDX)
			return -1;
		if (!blk(&r, SMB1_HDR_LEN, &b))
			return 0;
		if (!write_geom(&r, C_WRITE_ANDX, SMB1_HDR_LEN, &w))
			return -1;
		if (avail < w.doff)
			return 0;
		/* pipe data is parsed from the whole record */
		if (t && t->is_pipe)
			return 2;
		write_request(s, &r, C_WRITE_ANDX, SMB1_HDR_LEN, out);
		return 1;
	}
	if (!(r.flags & FLAGS_REPLY) || r.cmd != C_READ_ANDX || r.status != SMB_NT_SUCCESS)
		return -1;
	{
		struct smb1_blk b;
		uint32_t doff;
		uint64_t dlen;

		if (!blk(&r, SMB1_HDR_LEN, &b))
			return 0;
		if (!read_geom(&r, SMB1_HDR_LEN, &doff, &dlen))
			return -1;
		if (avail < doff)
			return 0;
		if (t && t->is_pipe)
			return 2;
	}
	read_response(s, &r, SMB1_HDR_LEN, out);
	return 1;
}
