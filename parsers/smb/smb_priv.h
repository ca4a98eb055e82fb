/* SPDX-License-Identifier: MIT */
/*
 * Internals of the SMB parser shared by its files: transactions, flow state,
 * the small bounded maps that pair requests with responses, and helpers.
 *
 * Transaction matching follows Suricata: a response finds its request by
 * (kind, session id, message id); tree ids are stored but not compared
 * (async responses carry none). Names from the wire are kept as UTF-8
 * (UTF-16 converted), cut at SMB_NAME_MAX bytes, and only ever logged.
 */
#ifndef NJ_SMB_PRIV_H
#define NJ_SMB_PRIV_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "../applayer.h"
#include "../files.h"
#include "smb.h"

#define SMB_NAME_MAX	 1024 /* bytes of a name kept */
#define SMB_MAX_DIALECTS 32
#define SMB_MAX_SNAMES	 8
#define SMB_MAX_IFACES	 32
#define SMB_MAX_TREES	 64
#define SMB_MAX_NAMES	 512 /* file id -> name */
#define SMB_MAX_PEND	 256 /* outstanding READs, SMB1 CLOSE/TRANS fids */
#define SMB_MAX_FRAGS	 4   /* partial DCE/RPC READ data */
#define SMB_FILE_RANGES	 16  /* out-of-order ranges tracked per file */

/* Key kinds (Suricata's SMBHDR_TYPE_*): the same ids never pair across kinds. */
enum {
	SMB_K_GUID = 1,
	SMB_K_SHARE,
	SMB_K_FILENAME,
	SMB_K_OFFSET,
	SMB_K_GENERIC,
	SMB_K_HEADER,
	SMB_K_MAXSIZE,
	SMB_K_TRANSFRAG,
	SMB_K_TREE,
	SMB_K_DCERPC,
};

struct smb_key {
	uint64_t ssn;
	uint64_t msg;
	uint32_t tree;
	uint8_t kind;
};

static inline bool smb_key_eq(const struct smb_key *a, const struct smb_key *b)
{
	return a->kind == b->kind && a->ssn == b->ssn && a->msg == b->msg;
}

enum smb_txtype {
	SMB_TX_GENERIC = 0,
	SMB_TX_FILE,
	SMB_TX_TREE,
	SMB_TX_NEGOTIATE,
	SMB_TX_DCERPC,
	SMB_TX_CREATE,
	SMB_TX_SESSION,
	SMB_TX_IOCTL,
	SMB_TX_RENAME,
	SMB_TX_SETINFO,
};

/* A string in the transaction's string buffer (offset, length); len 0 is empty. */
struct smb_str {
	uint32_t off, len;
};

struct smb_fuid {
	uint8_t b[16];
	uint8_t len; /* 16: SMB2 FileId; 6: SMB1 fid + user id; 0: none */
};

static inline bool smb_fuid_eq(const struct smb_fuid *a, const struct smb_fuid *b)
{
	return a->len == b->len && memcmp(a->b, b->b, a->len) == 0;
}

/* Bytes of a file kept from its start for detection (file.data). */
#define SMB_FILE_HEAD_MAX 65536u

struct smb_tx_file {
	uint8_t dir;
	struct smb_fuid fuid;
	struct smb_str name, share;
	struct smb_str magic; /* libmagic's description with its NUL, once closed */
	struct nj_file *file;
	uint8_t *head;	      /* the first bytes in order, for file.data (SMB_FILE_HEAD_MAX) */
	uint32_t head_len;    /* bytes of head filled from offset 0 */
	bool closed, has_md5; /* file closed: size and md5 (when computed) are final */
	uint8_t md5[16];
	uint64_t size;
	uint64_t contig; /* bytes from offset 0 seen without a hole */
	uint64_t pend_bytes;
	uint8_t npend;
	struct {
		uint64_t off, end;
	} pend[SMB_FILE_RANGES]; /* data seen beyond contig */
};

struct smb_tx_tree {
	struct smb_str share, req_svc, res_svc;
	bool is_pipe, has_req_svc, has_res_svc;
	uint8_t share_type;
	uint32_t tree_id;
};

struct smb_tx_neg {
	uint8_t smb_ver;
	uint8_t ndialects;
	bool has_client_guid;
	uint8_t server_guid_len;
	struct smb_str dialects[SMB_MAX_DIALECTS];
	uint8_t client_guid[16], server_guid[16];
};

struct smb_tx_create {
	uint32_t disposition;
	bool delete_on_close, directory;
	struct smb_str name;
	struct smb_fuid guid;
	uint32_t created, accessed, modified, changed; /* unix seconds */
	uint64_t size;
};

struct smb_tx_session {
	bool has_ntlm, has_ver, ntlm_warning, has_krb, has_req_host, has_resp_host;
	struct smb_str domain, user, host;
	uint8_t ver_major, ver_minor, ver_rev;
	uint16_t ver_build;
	struct smb_str realm;
	uint8_t nsnames;
	struct smb_str snames[SMB_MAX_SNAMES];
	struct smb_str req_os, req_lm, resp_os, resp_lm;
};

struct smb_tx_rename {
	struct smb_str from, to;
	struct smb_fuid fuid;
};

struct smb_tx_setinfo {
	struct smb_str name;
	struct smb_fuid fid;
	uint16_t subcmd, loi;
	bool delete_on_close;
};

struct smb_tx_dce {
	uint16_t opnum, ctx_id;
	uint8_t req_cmd, res_cmd;
	bool req_set, res_set;
	uint32_t call_id;
	uint16_t frag_cnt[2];
	uint64_t stub_len[2]; /* all stub bytes seen (logged size) */
	uint8_t *stub[2];     /* the first cfg.max_stub of them (dce_stub_data) */
	uint32_t stub_have[2];
};

struct smb_state;

struct smb_tx {
	struct nj_al_tx al; /* first: the framework's header */
	struct smb_state *st;
	uint8_t type; /* enum smb_txtype */
	uint8_t ver;  /* 0 unset, 1, 2 */
	uint16_t cmd;
	bool status_set, dos;
	uint8_t errclass;
	uint32_t status;
	struct smb_key hdr;
	char *sbuf; /* strings of this transaction */
	uint32_t slen, scap;
	union {
		struct smb_tx_file file;
		struct smb_tx_tree tree;
		struct smb_tx_neg neg;
		struct smb_tx_create create;
		struct smb_tx_session sess;
		uint32_t ioctl_func;
		struct smb_tx_rename rename;
		struct smb_tx_setinfo setinfo;
		struct smb_tx_dce dce;
	} u;
};

struct smb_tree_ent {
	uint64_t ssn;
	uint32_t tree;
	bool is_pipe;
	uint16_t len;
	char *name;
};

struct smb_name_ent {
	struct smb_fuid fuid;
	uint16_t len;
	char *name;
};

struct smb_pend {
	struct smb_key key;
	struct smb_fuid fuid;
	uint64_t offset;
	bool used;
};

struct smb_frag {
	uint64_t ssn;
	uint32_t tree;
	struct smb_fuid fuid;
	uint8_t *data;
	uint32_t len;
};

/* Per direction: what of the current record is still to come. */
struct smb_dir {
	uint64_t skip;	     /* record bytes to pass over */
	uint64_t file_left;  /* streamed READ/WRITE data still to come */
	uint64_t file_off;   /* file offset of the next of those bytes */
	uint64_t skip_after; /* record bytes after the streamed data */
	struct smb_fuid file_fuid;
	uint32_t pending; /* bytes not consumed at the last parse (held by the framework) */
	bool resync;	  /* looking for the next record start */
	bool started;
	bool closed;
};

struct smb_state {
	struct nj_al_txq q;
	struct smb_dir d[2];
	uint16_t dialect;     /* SMB2 dialect, 0 if none */
	uint8_t dialect1_len; /* SMB1 dialect name, when negotiated */
	bool has_dialect1;
	char dialect1[64];
	uint32_t max_read_size, max_write_size; /* negotiated (SMB2) */
	struct smb_tree_ent trees[SMB_MAX_TREES];
	uint32_t ntrees;
	struct smb_name_ent *names; /* ring of SMB_MAX_NAMES, allocated on first use */
	uint32_t nnames, names_next;
	struct smb_pend *pend; /* ring of SMB_MAX_PEND, allocated on first use */
	uint32_t pend_next;
	struct smb_frag frags[SMB_MAX_FRAGS];
	uint32_t frags_next;
	struct nj_smb_dce_iface ifaces[SMB_MAX_IFACES];
	uint16_t iface_reason[SMB_MAX_IFACES];
	uint32_t nifaces;
	bool has_ifaces;
	uint32_t open_files;
	uint64_t last_ts;
	bool seen_tc;	     /* to-client data seen (not a one-sided capture) */
	bool told_too_many;  /* too_many_transactions reported */
	struct nj_al_ctx *c; /* the current call's context (parse/gap/close only) */
	int dir;	     /* the current call's direction */
	struct nj_smb_flow_stats stats;
};

/* ---------------------------------------------------------------- helpers */

static inline uint16_t smb_rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t smb_rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
	       ((uint32_t)p[3] << 24);
}

static inline uint64_t smb_rd64(const uint8_t *p)
{
	return (uint64_t)smb_rd32(p) | ((uint64_t)smb_rd32(p + 4) << 32);
}

const struct nj_smb_config *smb_cfg(void);

/* Anomaly event in the current direction (Suricata's smb event name). */
void smb_event(struct smb_state *s, const char *name);

/* Transactions */
struct smb_tx *smb_tx_new(struct smb_state *s, uint8_t type, uint8_t ver, uint16_t cmd);
void smb_tx_done(struct smb_state *s, struct smb_tx *tx, int dir);
void smb_tx_done_both(struct smb_state *s, struct smb_tx *tx);
void smb_tx_set_status(struct smb_tx *tx, uint32_t status, bool dos);
/* smb_log.c: what an alert on a transaction carries ("smb", "files") */
void smb_alert_json(struct nj_json *j, const struct nj_al_tx *t, int dir);
struct smb_str smb_tx_str(struct smb_tx *tx, const void *p, uint32_t len);
/* UTF-16LE (length-delimited; NUL code units dropped) to UTF-8. */
struct smb_str smb_tx_str16(struct smb_tx *tx, const uint8_t *p, uint32_t len);
static inline const char *smb_str_ptr(const struct smb_tx *tx, struct smb_str s)
{
	return s.len ? tx->sbuf + s.off : "";
}
struct smb_tx *smb_find_generic(struct smb_state *s, uint8_t ver, uint16_t cmd,
				const struct smb_key *k);
struct smb_tx *smb_find_type(struct smb_state *s, uint8_t type, const struct smb_key *k);
struct smb_tx *smb_last_tx(struct smb_state *s);

/* UTF-16LE to UTF-8 into out (cap bytes); returns bytes written. */
uint32_t smb_utf16_to_utf8(const uint8_t *in, uint32_t inlen, char *out, uint32_t cap);

/* Maps */
void smb_tree_set(struct smb_state *s, uint64_t ssn, uint32_t tree, const char *name, uint32_t len,
		  bool is_pipe);
const struct smb_tree_ent *smb_tree_get(const struct smb_state *s, uint64_t ssn, uint32_t tree);
void smb_tree_del(struct smb_state *s, uint64_t ssn, uint32_t tree);
void smb_name_set(struct smb_state *s, const struct smb_fuid *f, const char *name, uint32_t len);
const char *smb_name_get(const struct smb_state *s, const struct smb_fuid *f, uint32_t *len);
void smb_pend_put(struct smb_state *s, const struct smb_key *k, const struct smb_fuid *f,
		  uint64_t off);
bool smb_pend_take(struct smb_state *s, const struct smb_key *k, struct smb_fuid *f, uint64_t *off);
const struct smb_pend *smb_pend_peek(const struct smb_state *s, const struct smb_key *k);

/* Files */
struct smb_tx *smb_file_tx_find(struct smb_state *s, const struct smb_fuid *f, int dir);
struct smb_tx *smb_file_tx_new(struct smb_state *s, const struct smb_fuid *f, const char *name,
			       uint32_t name_len, int dir);
/*
 * Data of a READ/WRITE at a file offset. total is the chunk's declared length
 * (used for the queue limits); returns false when the data is not wanted
 * (limits: the caller skips the rest).
 */
bool smb_file_data(struct smb_state *s, struct smb_tx *tx, uint64_t off, const uint8_t *data,
		   uint32_t len, uint64_t total);
void smb_file_gap(struct smb_state *s, struct smb_tx *tx, uint64_t off, uint64_t len);
void smb_file_close(struct smb_state *s, struct smb_tx *tx, bool truncated);
/* Is the service behind this file id a DCE/RPC pipe Suricata knows? */
bool smb_fuid_is_dcerpc(const struct smb_state *s, const struct smb_fuid *f);

/*
 * What a record handler reports when it consumed the start of a record whose
 * READ/WRITE data continues past the bytes at hand: the data starts doff bytes
 * into the SMB message and is dlen bytes long, for file fuid at offset off.
 */
struct smb_stream {
	uint32_t doff;
	uint64_t dlen;
	uint64_t off;
	struct smb_fuid fuid;
	bool file; /* false: the data is skipped, not carved */
};

/* SMB2 (smb2.c) */
void smb2_record(struct smb_state *s, const uint8_t *p, uint32_t len);
/*
 * A record whose bytes are not all at hand (avail of full): 1 handled (out
 * filled), 0 more bytes needed to tell, 2 needs the whole record (pipe data),
 * -1 not a READ/WRITE that can be streamed.
 */
int smb2_partial(struct smb_state *s, const uint8_t *p, uint32_t avail, uint32_t full,
		 struct smb_stream *out);
const char *smb2_command_name(uint16_t cmd);
const char *smb2_dialect_name(uint16_t d, char *buf, unsigned len);

/* SMB1 (smb1.c) */
void smb1_record(struct smb_state *s, const uint8_t *p, uint32_t len);
int smb1_partial(struct smb_state *s, const uint8_t *p, uint32_t avail, uint32_t full,
		 struct smb_stream *out);
const char *smb1_command_name(uint8_t cmd);

/* DCE/RPC over pipes (smb_dcerpc.c) */
bool smb_dcerpc_probe(const uint8_t *p, uint32_t len);
void smb_dcerpc_write(struct smb_state *s, uint8_t ver, uint16_t cmd, uint32_t status,
		      bool status_set, const struct smb_key *hdr, const uint8_t *p, uint32_t len);
void smb_dcerpc_read(struct smb_state *s, uint8_t ver, uint16_t cmd, uint32_t status,
		     const struct smb_key *hdr, const struct smb_fuid *fuid, const uint8_t *p,
		     uint32_t len);
const char *smb_dcerpc_type_name(uint8_t t);
void smb_dce_tx_free(struct smb_tx *tx);

/* Security blobs (smb_auth.c): NTLMSSP AUTH and Kerberos AP-REQ into tx->u.sess. */
void smb_auth_secblob(struct smb_state *s, struct smb_tx *tx, const uint8_t *p, uint32_t len);

/* Logging (smb_log.c) */
void smb_log_tx(struct nj_al_log *lg, const struct nj_flow *f, const struct nj_al_tx *tx);
/* The "smb" object's fields for tx (also the fileinfo metadata); false if filtered out. */
bool smb_log_fields(struct nj_json *j, const struct smb_tx *tx, uint32_t types);
void smb_file_meta(struct nj_json *j, const void *arg);
const char *smb_ntstatus_name(uint32_t status);
const char *smb_fsctl_name(uint32_t f);

/* Status codes used by the logic */
#define SMB_NT_SUCCESS			0x00000000u
#define SMB_NT_PENDING			0x00000103u
#define SMB_NT_BUFFER_OVERFLOW		0x80000005u
#define SMB_NT_END_OF_FILE		0xc0000011u
#define SMB_NT_MORE_PROCESSING_REQUIRED 0xc0000016u

#endif
