/* SPDX-License-Identifier: MIT */
/*
 * SMB2 over TCP 445 (NetBIOS session framing): NEGOTIATE with dialects
 * 2.0.2 to 3.1.1, SESSION_SETUP carrying NTLMSSP NEGOTIATE / CHALLENGE /
 * AUTHENTICATE, TREE_CONNECT, CREATE of a file, WRITE then READ of it in
 * 64 KiB chunks by offset, CLOSE, TREE_DISCONNECT and LOGOFF. File data is
 * taken from the noise pool by chunk index, so reads return what was written
 * and any size streams in constant memory.
 */
#include <string.h>

#include "pg.h"
#include "pg_ep.h"

#define SMB_CHUNK 65536u

enum {
	C_NEGOTIATE = 0,
	C_SESSION_SETUP = 1,
	C_LOGOFF = 2,
	C_TREE_CONNECT = 3,
	C_TREE_DISCONNECT = 4,
	C_CREATE = 5,
	C_CLOSE = 6,
	C_READ = 8,
	C_WRITE = 9
};

enum {
	P_NEG = 0,
	P_SS1,
	P_SS2,
	P_TREE,
	P_CREATE,
	P_WRITE,
	P_READ,
	P_CLOSE,
	P_TDIS,
	P_LOGOFF,
	P_END
};

struct smb_st {
	int phase;
	bool resp_next;
	uint64_t msg_id;
	uint64_t session_id;
	uint32_t tree_id;
	uint8_t file_id[16];
	uint64_t size;
	uint64_t off;	/* current chunk offset */
	uint32_t chunk; /* current chunk length */
	uint64_t created_ft;
	char user[32];
	char host[32];
	char fname[96];
	struct pg_buf b;
};

static const char *const users[] = {"alice",	  "bob",    "carol.jones", "dave",
				    "svc_backup", "emma.w", "frank",	   "grace.h"};
static const char *const files[] = {"Reports\\Q3-summary.xlsx",	  "Projects\\design-v2.pdf",
				    "Finance\\invoices-2023.zip", "HR\\handbook.docx",
				    "backup\\db-dump.bak",	  "Shared\\presentation.pptx"};

static uint64_t filetime(uint64_t us)
{
	return us * 10 + 116444736000000000ULL;
}

static const uint8_t *chunk_data(uint64_t off)
{
	uint64_t k = off / SMB_CHUNK;

	return pg_pool_rand + (k * 7919 * 64) % (PG_POOL_RAND - SMB_CHUNK);
}

/* NetBIOS header + SMB2 header; the NetBIOS length is patched by smb_end. */
static void smb_hdr(struct smb_st *s, uint16_t cmd, bool resp, uint32_t status)
{
	struct pg_buf *b = &s->b;

	pg_buf_reset(b);
	pg_buf_be32(b, 0);
	pg_buf_put(b, "\xfeSMB", 4);
	pg_buf_le16(b, 64);
	pg_buf_le16(b, 1); /* credit charge */
	pg_buf_le32(b, resp ? status : 0);
	pg_buf_le16(b, cmd);
	pg_buf_le16(b, resp ? 32 : 31); /* credits granted / requested */
	pg_buf_le32(b, resp ? 1 : 0);	/* SERVER_TO_REDIR */
	pg_buf_le32(b, 0);
	pg_buf_le64(b, s->msg_id);
	pg_buf_le32(b, 0xfeff); /* process id */
	pg_buf_le32(b, cmd == C_NEGOTIATE || cmd == C_SESSION_SETUP || cmd == C_TREE_CONNECT
			       ? (resp && cmd == C_TREE_CONNECT ? s->tree_id : 0)
			       : s->tree_id);
	pg_buf_le64(b, cmd == C_NEGOTIATE || (cmd == C_SESSION_SETUP && !resp && s->phase == P_SS1)
			       ? 0
			       : s->session_id);
	pg_buf_zero(b, 16); /* unsigned */
}

static void smb_end(struct smb_st *s, uint64_t extra)
{
	uint64_t len = s->b.len - 4 + extra;

	s->b.p[0] = 0;
	pg_put_be24(s->b.p + 1, (uint32_t)len);
}

/* Offsets inside SMB2 messages count from the SMB2 header (after NetBIOS). */
static size_t hoff(const struct smb_st *s)
{
	return s->b.len - 4;
}

static void pad8(struct smb_st *s)
{
	while (hoff(s) % 8)
		pg_buf_u8(&s->b, 0);
}

static void neg_contexts(struct pg_flow *f, struct smb_st *s, bool resp)
{
	struct pg_buf *b = &s->b;

	pg_buf_le16(b, 1); /* PREAUTH_INTEGRITY_CAPABILITIES */
	pg_buf_le16(b, 38);
	pg_buf_le32(b, 0);
	pg_buf_le16(b, 1);
	pg_buf_le16(b, 32);
	pg_buf_le16(b, 1); /* SHA-512 */
	pg_buf_reserve(b, 32);
	pg_rand_fill(&f->rng, b->p + b->len, 32);
	b->len += 32;
	pad8(s);
	pg_buf_le16(b, 2); /* ENCRYPTION_CAPABILITIES */
	pg_buf_le16(b, resp ? 4 : 6);
	pg_buf_le32(b, 0);
	if (resp) {
		pg_buf_le16(b, 1);
		pg_buf_le16(b, 1); /* AES-128-CCM */
	} else {
		pg_buf_le16(b, 2);
		pg_buf_le16(b, 2); /* AES-128-GCM */
		pg_buf_le16(b, 1);
	}
}

static void ntlm_field(struct pg_buf *b, size_t at, size_t len, size_t off)
{
	pg_put_le16(b->p + at, (uint16_t)len);
	pg_put_le16(b->p + at + 2, (uint16_t)len);
	pg_put_le32(b->p + at + 4, (uint32_t)off);
}

static void av_pair(struct pg_buf *b, uint16_t id, const char *s)
{
	pg_buf_le16(b, id);
	pg_buf_le16(b, (uint16_t)(2 * strlen(s)));
	pg_buf_utf16(b, s);
}

static void target_info(struct pg_flow *f, struct pg_buf *b)
{
	char dns[96];

	snprintf(dns, sizeof(dns), "%s.corp.example.com", f->srv->name);
	av_pair(b, 2, "CORP");
	av_pair(b, 1, f->srv->name);
	av_pair(b, 4, "corp.example.com");
	av_pair(b, 3, dns);
	av_pair(b, 5, "corp.example.com");
	pg_buf_le16(b, 7);
	pg_buf_le16(b, 8);
	pg_buf_le64(b, filetime(f->ts));
	pg_buf_le32(b, 0); /* MsvAvEOL */
}

static const uint8_t ntlm_version[8] = {10, 0, 0x61, 0x4a, 0, 0, 0, 15};

/* Append an NTLMSSP message (type 1, 2 or 3) at the current end of s->b. */
static void ntlmssp(struct pg_flow *f, struct smb_st *s, int type)
{
	struct pg_buf *b = &s->b;
	size_t base = b->len, p;

	pg_buf_put(b, "NTLMSSP", 8);
	pg_buf_le32(b, (uint32_t)type);
	if (type == 1) {
		pg_buf_le32(b, 0xe2088297);
		pg_buf_zero(b, 16);
		pg_buf_put(b, ntlm_version, 8);
		return;
	}
	if (type == 2) {
		size_t tn = b->len, ti;

		pg_buf_zero(b, 8);
		pg_buf_le32(b, 0xe28a8215);
		pg_buf_reserve(b, 8);
		pg_rand_fill(&f->rng, b->p + b->len, 8);
		b->len += 8;
		pg_buf_zero(b, 8);
		ti = b->len;
		pg_buf_zero(b, 8);
		pg_buf_put(b, ntlm_version, 8);
		p = b->len;
		pg_buf_utf16(b, "CORP");
		ntlm_field(b, tn, b->len - p, p - base);
		p = b->len;
		target_info(f, b);
		ntlm_field(b, ti, b->len - p, p - base);
		return;
	}
	/* AUTHENTICATE: six fields, flags, version, MIC, then the payload */
	size_t fields = b->len;

	pg_buf_zero(b, 48);
	pg_buf_le32(b, 0xe2888215);
	pg_buf_put(b, ntlm_version, 8);
	pg_buf_reserve(b, 16);
	pg_rand_fill(&f->rng, b->p + b->len, 16); /* MIC */
	b->len += 16;
	p = b->len;
	pg_buf_utf16(b, "CORP");
	ntlm_field(b, fields + 16, b->len - p, p - base);
	p = b->len;
	pg_buf_utf16(b, s->user);
	ntlm_field(b, fields + 24, b->len - p, p - base);
	p = b->len;
	pg_buf_utf16(b, s->host);
	ntlm_field(b, fields + 32, b->len - p, p - base);
	p = b->len;
	pg_buf_zero(b, 24); /* LMv2 disabled */
	ntlm_field(b, fields + 0, 24, p - base);
	p = b->len;
	pg_buf_reserve(b, 16);
	pg_rand_fill(&f->rng, b->p + b->len, 16); /* NTProofStr */
	b->len += 16;
	pg_buf_le32(b, 0x0101);
	pg_buf_le32(b, 0);
	pg_buf_le64(b, filetime(f->ts));
	pg_buf_reserve(b, 8);
	pg_rand_fill(&f->rng, b->p + b->len, 8); /* client challenge */
	b->len += 8;
	pg_buf_le32(b, 0);
	target_info(f, b);
	pg_buf_le32(b, 0);
	ntlm_field(b, fields + 8, b->len - p, p - base);
	p = b->len;
	pg_buf_reserve(b, 16);
	pg_rand_fill(&f->rng, b->p + b->len, 16); /* encrypted session key */
	b->len += 16;
	ntlm_field(b, fields + 40, 16, p - base);
}

static void times(struct smb_st *s, uint64_t now_ft)
{
	pg_buf_le64(&s->b, s->created_ft);
	pg_buf_le64(&s->b, now_ft);
	pg_buf_le64(&s->b, now_ft);
	pg_buf_le64(&s->b, now_ft);
}

static void smb_request(struct pg_flow *f, struct smb_st *s, struct pg_msg *m)
{
	struct pg_buf *b = &s->b;
	size_t at;

	switch (s->phase) {
	case P_NEG:
		smb_hdr(s, C_NEGOTIATE, false, 0);
		pg_buf_le16(b, 36);
		pg_buf_le16(b, 5);
		pg_buf_le16(b, 1); /* signing enabled */
		pg_buf_le16(b, 0);
		pg_buf_le32(b, 0x7f);
		pg_buf_reserve(b, 16);
		pg_rand_fill(&f->rng, b->p + b->len, 16);
		b->len += 16;
		at = b->len;
		pg_buf_le32(b, 0);
		pg_buf_le16(b, 2);
		pg_buf_le16(b, 0);
		pg_buf_le16(b, 0x0202);
		pg_buf_le16(b, 0x0210);
		pg_buf_le16(b, 0x0300);
		pg_buf_le16(b, 0x0302);
		pg_buf_le16(b, 0x0311);
		pad8(s);
		pg_put_le32(b->p + at, (uint32_t)hoff(s));
		neg_contexts(f, s, false);
		break;
	case P_SS1:
	case P_SS2:
		smb_hdr(s, C_SESSION_SETUP, false, 0);
		pg_buf_le16(b, 25);
		pg_buf_u8(b, 0);
		pg_buf_u8(b, 1);
		pg_buf_le32(b, 1);
		pg_buf_le32(b, 0);
		pg_buf_le16(b, 88);
		at = b->len;
		pg_buf_le16(b, 0);
		pg_buf_le64(b, 0);
		ntlmssp(f, s, s->phase == P_SS1 ? 1 : 3);
		pg_put_le16(b->p + at, (uint16_t)(b->len - 4 - 88));
		break;
	case P_TREE: {
		char path[96];

		snprintf(path, sizeof(path), "\\\\%s\\share", f->srv->name);
		smb_hdr(s, C_TREE_CONNECT, false, 0);
		pg_buf_le16(b, 9);
		pg_buf_le16(b, 0);
		pg_buf_le16(b, 72);
		pg_buf_le16(b, (uint16_t)(2 * strlen(path)));
		pg_buf_utf16(b, path);
		break;
	}
	case P_CREATE:
		smb_hdr(s, C_CREATE, false, 0);
		pg_buf_le16(b, 57);
		pg_buf_u8(b, 0);
		pg_buf_u8(b, 0);
		pg_buf_le32(b, 2); /* impersonation */
		pg_buf_zero(b, 16);
		pg_buf_le32(b, 0x0013019f); /* read, write, delete... */
		pg_buf_le32(b, 0x80);
		pg_buf_le32(b, 7);
		pg_buf_le32(b, 5); /* OVERWRITE_IF */
		pg_buf_le32(b, 0x44);
		pg_buf_le16(b, 120);
		pg_buf_le16(b, (uint16_t)(2 * strlen(s->fname)));
		pg_buf_le32(b, 0);
		pg_buf_le32(b, 0);
		pg_buf_utf16(b, s->fname);
		break;
	case P_WRITE:
		smb_hdr(s, C_WRITE, false, 0);
		pg_buf_le16(b, 49);
		pg_buf_le16(b, 0x70);
		pg_buf_le32(b, s->chunk);
		pg_buf_le64(b, s->off);
		pg_buf_put(b, s->file_id, 16);
		pg_buf_le32(b, 0);
		pg_buf_le32(b, 0);
		pg_buf_le16(b, 0);
		pg_buf_le16(b, 0);
		pg_buf_le32(b, 0);
		m->b = f->given ? f->given->data + s->off : chunk_data(s->off);
		m->blen = s->chunk;
		break;
	case P_READ:
		smb_hdr(s, C_READ, false, 0);
		pg_buf_le16(b, 49);
		pg_buf_u8(b, 0x50);
		pg_buf_u8(b, 0);
		pg_buf_le32(b, s->chunk);
		pg_buf_le64(b, s->off);
		pg_buf_put(b, s->file_id, 16);
		pg_buf_le32(b, 1);
		pg_buf_le32(b, 0);
		pg_buf_le32(b, 0);
		pg_buf_le16(b, 0);
		pg_buf_le16(b, 0);
		pg_buf_u8(b, 0);
		break;
	case P_CLOSE:
		smb_hdr(s, C_CLOSE, false, 0);
		pg_buf_le16(b, 24);
		pg_buf_le16(b, 1); /* POSTQUERY_ATTRIB */
		pg_buf_le32(b, 0);
		pg_buf_put(b, s->file_id, 16);
		break;
	case P_TDIS:
	case P_LOGOFF:
		smb_hdr(s, s->phase == P_TDIS ? C_TREE_DISCONNECT : C_LOGOFF, false, 0);
		pg_buf_le16(b, 4);
		pg_buf_le16(b, 0);
		break;
	}
	smb_end(s, m->blen);
}

/* The client copies the file it reads to its disk: tell the endpoint side. */
static void ep_read(struct pg_flow *f, struct smb_st *s, const uint8_t *p, size_t n)
{
	if (!f->ep)
		return;
	if (s->off == 0) {
		char unc[192];

		snprintf(unc, sizeof(unc), "\\\\%s\\share\\%s", f->srv->name, s->fname);
		pg_ep_file_begin(f, PG_EP_FILE_SMB, s->fname, unc);
	}
	pg_ep_file_update(f, p, n);
	if (s->off + n >= s->size)
		pg_ep_file_end(f);
}

static void smb_response(struct pg_flow *f, struct smb_st *s, struct pg_msg *m)
{
	struct pg_buf *b = &s->b;
	uint64_t now_ft = filetime(f->ts);
	size_t at;

	switch (s->phase) {
	case P_NEG:
		smb_hdr(s, C_NEGOTIATE, true, 0);
		pg_buf_le16(b, 65);
		pg_buf_le16(b, 1);
		pg_buf_le16(b, 0x0311);
		pg_buf_le16(b, 2);
		pg_buf_reserve(b, 16);
		pg_rand_fill(&f->rng, b->p + b->len, 16);
		b->len += 16;
		pg_buf_le32(b, 0x2f);
		pg_buf_le32(b, 8388608);
		pg_buf_le32(b, 8388608);
		pg_buf_le32(b, 8388608);
		pg_buf_le64(b, now_ft);
		pg_buf_le64(b, 0);
		pg_buf_le16(b, 128);
		pg_buf_le16(b, 0);
		at = b->len;
		pg_buf_le32(b, 0);
		pad8(s);
		pg_put_le32(b->p + at, (uint32_t)hoff(s));
		neg_contexts(f, s, true);
		break;
	case P_SS1:
	case P_SS2:
		if (s->phase == P_SS1)
			s->session_id =
				(pg_rand(&f->rng) & 0x0000ffffffffffffULL) | 0x0000100000000001ULL;
		smb_hdr(s, C_SESSION_SETUP, true, s->phase == P_SS1 ? 0xc0000016 : 0);
		pg_buf_le16(b, 9);
		pg_buf_le16(b, 0);
		pg_buf_le16(b, 72);
		at = b->len;
		pg_buf_le16(b, 0);
		if (s->phase == P_SS1) {
			ntlmssp(f, s, 2);
			pg_put_le16(b->p + at, (uint16_t)(b->len - 4 - 72));
		} else {
			pg_put_le16(b->p + at - 2, 0);
		}
		break;
	case P_TREE:
		s->tree_id = (uint32_t)pg_range(&f->rng, 1, 15);
		smb_hdr(s, C_TREE_CONNECT, true, 0);
		pg_buf_le16(b, 16);
		pg_buf_u8(b, 1); /* disk */
		pg_buf_u8(b, 0);
		pg_buf_le32(b, 0x800);
		pg_buf_le32(b, 0);
		pg_buf_le32(b, 0x001f01ff);
		break;
	case P_CREATE:
		pg_rand_fill(&f->rng, s->file_id, 16);
		s->created_ft = now_ft;
		smb_hdr(s, C_CREATE, true, 0);
		pg_buf_le16(b, 89);
		pg_buf_u8(b, 0);
		pg_buf_u8(b, 0);
		pg_buf_le32(b, 2); /* FILE_CREATED */
		times(s, now_ft);
		pg_buf_le64(b, 0);
		pg_buf_le64(b, 0);
		pg_buf_le32(b, 0x80);
		pg_buf_le32(b, 0);
		pg_buf_put(b, s->file_id, 16);
		pg_buf_le32(b, 0);
		pg_buf_le32(b, 0);
		break;
	case P_WRITE:
		smb_hdr(s, C_WRITE, true, 0);
		pg_buf_le16(b, 17);
		pg_buf_le16(b, 0);
		pg_buf_le32(b, s->chunk);
		pg_buf_le32(b, 0);
		pg_buf_le16(b, 0);
		pg_buf_le16(b, 0);
		break;
	case P_READ:
		smb_hdr(s, C_READ, true, 0);
		pg_buf_le16(b, 17);
		pg_buf_u8(b, 0x50);
		pg_buf_u8(b, 0);
		pg_buf_le32(b, s->chunk);
		pg_buf_le32(b, 0);
		pg_buf_le32(b, 0);
		m->b = f->given ? f->given->data + s->off : chunk_data(s->off);
		m->blen = s->chunk;
		ep_read(f, s, m->b, m->blen);
		break;
	case P_CLOSE:
		smb_hdr(s, C_CLOSE, true, 0);
		pg_buf_le16(b, 60);
		pg_buf_le16(b, 1);
		pg_buf_le32(b, 0);
		times(s, now_ft);
		pg_buf_le64(b, (s->size + 4095) & ~4095ULL);
		pg_buf_le64(b, s->size);
		pg_buf_le32(b, 0x80);
		break;
	case P_TDIS:
	case P_LOGOFF:
		smb_hdr(s, s->phase == P_TDIS ? C_TREE_DISCONNECT : C_LOGOFF, true, 0);
		pg_buf_le16(b, 4);
		pg_buf_le16(b, 0);
		break;
	}
	smb_end(s, m->blen);
}

/* Advance to the next operation; WRITE and READ repeat per chunk. */
static void smb_advance(struct smb_st *s)
{
	if (s->phase == P_WRITE || s->phase == P_READ) {
		s->off += s->chunk;
		if (s->off < s->size) {
			s->chunk = s->size - s->off < SMB_CHUNK ? (uint32_t)(s->size - s->off)
								: SMB_CHUNK;
			return;
		}
	}
	s->phase++;
	if (s->phase == P_WRITE || s->phase == P_READ) {
		s->off = 0;
		s->chunk = s->size < SMB_CHUNK ? (uint32_t)s->size : SMB_CHUNK;
		if (!s->size)
			s->phase = P_CLOSE;
	}
}

static bool smb_next(struct pg_flow *f, struct pg_msg *m)
{
	struct smb_st *s = f->st;

	if (!s->user[0]) {
		snprintf(s->user, sizeof(s->user), "%s", PG_PICK(&f->rng, users));
		snprintf(s->host, sizeof(s->host), "WS-%04u",
			 (unsigned int)pg_range(&f->rng, 1, 9999));
		/* the workstation name the endpoint events use, when it has one */
		pg_ep_host_name(&f->cli_h, s->host, sizeof(s->host));
		snprintf(s->fname, sizeof(s->fname), "%s", PG_PICK(&f->rng, files));
		s->size = pg_opts.smb_file_size ? pg_opts.smb_file_size
						: pg_range(&f->rng, 8000, 300000);
		if (f->given) {
			/* the given file, by its own name, in a share folder */
			snprintf(s->fname, sizeof(s->fname), "Shared\\%s", f->given->name);
			s->size = f->given->len;
		}
	}
	if (s->phase >= P_END) {
		f->close = PG_CLOSE_CFIN;
		return false;
	}
	if (!s->resp_next) {
		m->dir = PG_C2S;
		m->delay_us = s->phase == P_NEG ? pg_range(&f->rng, 0, 300)
			      : s->phase == P_WRITE || s->phase == P_READ
				      ? pg_range(&f->rng, 20, 300)
				      : pg_range(&f->rng, 100, 5000);
		smb_request(f, s, m);
		s->resp_next = true;
	} else {
		m->dir = PG_S2C;
		m->delay_us = pg_range(&f->rng, 50, 2000);
		smb_response(f, s, m);
		s->resp_next = false;
		s->msg_id++;
		smb_advance(s);
	}
	m->a = s->b.p;
	m->alen = s->b.len;
	return true;
}

static void smb_fini(struct pg_flow *f)
{
	struct smb_st *s = f->st;

	pg_buf_free(&s->b);
}

const struct pg_app_ops pg_app_smb = {
	.name = "smb",
	.proto = PG_TCP,
	.port = 445,
	.state_size = sizeof(struct smb_st),
	.next = smb_next,
	.fini = smb_fini,
};
