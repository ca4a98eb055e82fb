/* SPDX-License-Identifier: MIT */
/*
 * EVE `smb` events in Suricata's layout (rust/src/smb/log.rs of Suricata
 * 8): id, dialect, command, status, status_code, session_id, tree_id and the
 * fields of the transaction's kind. The same object is the "smb" part of
 * fileinfo events of SMB files.
 */
#include <stdio.h>
#include <string.h>

#include "smb_priv.h"

static void guid_str(const uint8_t *g, char out[37])
{
	/* Microsoft GUID order: the first three fields little endian */
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 g[3], g[2], g[1], g[0], g[5], g[4], g[7], g[6], g[9], g[8], g[11], g[10], g[15],
		 g[14], g[13], g[12]);
}

/* A 16-byte FileId as a GUID, an SMB1 fid (2 bytes, or with the user id) as 4 hex digits. */
static void fuid_log(struct nj_json *j, const char *key, const struct smb_fuid *f)
{
	char buf[40];

	if (f->len == 16)
		guid_str(f->b, buf);
	else if (f->len == 2 || f->len == 6)
		snprintf(buf, sizeof(buf), "%02x%02x", f->b[1], f->b[0]);
	else
		buf[0] = 0;
	nj_json_str(j, key, buf);
}

static void str_log(struct nj_json *j, const char *key, const struct smb_tx *tx, struct smb_str s)
{
	nj_json_strn(j, key, smb_str_ptr(tx, s), s.len);
}

static const char *dos_error_name(uint32_t c)
{
	static const char *const n[] = {"DOS_SUCCESS",
					"DOS_BAD_FUNC",
					"DOS_BAD_FILE",
					"DOS_BAD_PATH",
					"DOS_TOO_MANY_OPEN_FILES",
					"DOS_ACCESS_DENIED"};

	return c < 6 ? n[c] : NULL;
}

static const char *srv_error_name(uint32_t c)
{
	switch (c) {
	case 1: return "SRV_ERROR";
	case 2: return "SRV_BADPW";
	case 3: return "SRV_BADTYPE";
	case 4: return "SRV_ACCESS";
	case 91: return "SRV_BADUID";
	default: return NULL;
	}
}

static void status_log(struct nj_json *j, const struct smb_tx *tx)
{
	char buf[32];
	const char *n;

	if (!tx->status_set)
		return;
	if (!tx->dos) {
		n = smb_ntstatus_name(tx->status);
		if (!n) {
			snprintf(buf, sizeof(buf), "%u", tx->status);
			n = buf;
		}
		nj_json_str(j, "status", n);
		snprintf(buf, sizeof(buf), "0x%x", tx->status);
		nj_json_str(j, "status_code", buf);
		return;
	}
	n = tx->errclass == 1	? dos_error_name(tx->status)
	    : tx->errclass == 2 ? srv_error_name(tx->status)
				: NULL;
	if (n) {
		nj_json_str(j, "status", n);
	} else if (tx->errclass == 1 || tx->errclass == 2) {
		snprintf(buf, sizeof(buf), "%u", tx->status);
		nj_json_str(j, "status", buf);
	} else {
		snprintf(buf, sizeof(buf), "UNKNOWN_%02x_%04x", tx->errclass, tx->status);
		nj_json_str(j, "status", buf);
	}
	snprintf(buf, sizeof(buf), "0x%04x", tx->status);
	nj_json_str(j, "status_code", buf);
}

static const char *const dispositions[] = {"FILE_SUPERSEDE", "FILE_OPEN",      "FILE_CREATE",
					   "FILE_OPEN_IF",   "FILE_OVERWRITE", "FILE_OVERWRITE_IF"};

static void log_create(struct nj_json *j, const struct smb_tx *tx)
{
	const struct smb_tx_create *c = &tx->u.create;

	if (c->name.len)
		str_log(j, c->directory ? "directory" : "filename", tx, c->name);
	else
		nj_json_str(j, "filename", "<share_root>"); /* Zeek's name for it */
	nj_json_str(j, "disposition",
		    c->disposition < 6 ? dispositions[c->disposition] : "UNKNOWN");
	nj_json_str(j, "access", c->delete_on_close ? "delete on close" : "normal");
	nj_json_u64(j, "created", c->created);
	nj_json_u64(j, "accessed", c->accessed);
	nj_json_u64(j, "modified", c->modified);
	nj_json_u64(j, "changed", c->changed);
	nj_json_u64(j, "size", c->size);
	fuid_log(j, "fuid", &c->guid);
}

static void log_session(struct nj_json *j, const struct smb_tx *tx)
{
	const struct smb_tx_session *x = &tx->u.sess;

	if (x->has_ntlm) {
		nj_json_open_obj(j, "ntlmssp");
		str_log(j, "domain", tx, x->domain);
		str_log(j, "user", tx, x->user);
		str_log(j, "host", tx, x->host);
		if (x->has_ver) {
			char v[64];

			snprintf(v, sizeof(v), "%u.%u build %u rev %u", x->ver_major, x->ver_minor,
				 x->ver_build, x->ver_rev);
			nj_json_str(j, "version", v);
		}
		if (x->ntlm_warning)
			nj_json_bool(j, "warning", true);
		nj_json_close_obj(j);
	}
	if (x->has_krb) {
		nj_json_open_obj(j, "kerberos");
		str_log(j, "realm", tx, x->realm);
		nj_json_open_arr(j, "snames");
		for (unsigned i = 0; i < x->nsnames; i++)
			str_log(j, NULL, tx, x->snames[i]);
		nj_json_close_arr(j);
		nj_json_close_obj(j);
	}
	if (x->has_req_host) {
		nj_json_open_obj(j, "request");
		str_log(j, "native_os", tx, x->req_os);
		str_log(j, "native_lm", tx, x->req_lm);
		nj_json_close_obj(j);
	}
	if (x->has_resp_host) {
		nj_json_open_obj(j, "response");
		str_log(j, "native_os", tx, x->resp_os);
		str_log(j, "native_lm", tx, x->resp_lm);
		nj_json_close_obj(j);
	}
}

static void log_negotiate(struct nj_json *j, const struct smb_tx *tx)
{
	const struct smb_tx_neg *x = &tx->u.neg;
	const struct smb_state *s = tx->st;
	char g[40];

	nj_json_open_arr(j, "client_dialects");
	for (unsigned i = 0; i < x->ndialects; i++)
		str_log(j, NULL, tx, x->dialects[i]);
	nj_json_close_arr(j);
	if (x->has_client_guid) {
		guid_str(x->client_guid, g);
		nj_json_str(j, "client_guid", g);
	}
	if (x->server_guid_len == 16)
		guid_str(x->server_guid, g);
	else
		g[0] = 0;
	nj_json_str(j, "server_guid", g);
	if (s->max_read_size)
		nj_json_u64(j, "max_read_size", s->max_read_size);
	if (s->max_write_size)
		nj_json_u64(j, "max_write_size", s->max_write_size);
}

static void log_tree(struct nj_json *j, const struct smb_tx *tx)
{
	const struct smb_tx_tree *x = &tx->u.tree;
	static const char *const types[] = {"UNKNOWN", "FILE", "PIPE", "PRINT"};

	str_log(j, x->is_pipe ? "named_pipe" : "share", tx, x->share);
	if (tx->ver == 1) {
		nj_json_open_obj(j, "service");
		if (x->has_req_svc)
			str_log(j, "request", tx, x->req_svc);
		if (x->has_res_svc)
			str_log(j, "response", tx, x->res_svc);
		nj_json_close_obj(j);
	} else {
		nj_json_str(j, "share_type", x->share_type <= 3 ? types[x->share_type] : "UNKNOWN");
	}
}

static void uuid_str(const uint8_t *u, char out[37])
{
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
		 u[13], u[14], u[15]);
}

static void iface_log(struct nj_json *j, const struct nj_smb_dce_iface *f, bool ack)
{
	char u[40], v[16];

	nj_json_open_obj(j, NULL);
	uuid_str(f->uuid, u);
	nj_json_str(j, "uuid", u);
	snprintf(v, sizeof(v), "%u.%u", f->ver, f->ver_minor);
	nj_json_str(j, "version", v);
	if (ack && f->acked) {
		nj_json_u64(j, "ack_result", f->ack_result);
		/* Suricata logs 0 whatever the reason on the wire */
		nj_json_u64(j, "ack_reason", 0);
	}
	nj_json_close_obj(j);
}

static void log_dcerpc(struct nj_json *j, const struct smb_tx *tx)
{
	const struct smb_tx_dce *x = &tx->u.dce;
	const struct smb_state *s = tx->st;
	const char *n;
	char buf[8];

	nj_json_open_obj(j, "dcerpc");
	if (x->req_set) {
		n = smb_dcerpc_type_name(x->req_cmd);
		if (!n) {
			snprintf(buf, sizeof(buf), "%u", x->req_cmd);
			n = buf;
		}
		nj_json_str(j, "request", n);
	} else {
		nj_json_str(j, "request", "REQUEST_LOST");
	}
	if (x->res_set) {
		n = smb_dcerpc_type_name(x->res_cmd);
		if (!n) {
			snprintf(buf, sizeof(buf), "%u", x->res_cmd);
			n = buf;
		}
		nj_json_str(j, "response", n);
	} else {
		nj_json_str(j, "response", "UNREPLIED");
	}
	if (x->req_set && x->req_cmd == 0) {
		bool any = false;

		nj_json_u64(j, "opnum", x->opnum);
		nj_json_open_obj(j, "req");
		nj_json_u64(j, "frag_cnt", x->frag_cnt[0]);
		nj_json_u64(j, "stub_data_size", x->stub_len[0]);
		nj_json_close_obj(j);
		/* the interfaces of the request's presentation context */
		for (uint32_t i = 0; i < s->nifaces; i++) {
			if (s->ifaces[i].ctx_id != x->ctx_id)
				continue;
			if (!any)
				nj_json_open_arr(j, "interfaces");
			any = true;
			iface_log(j, &s->ifaces[i], false);
		}
		if (any)
			nj_json_close_arr(j);
	} else if (x->req_set && x->req_cmd == 11 && s->has_ifaces) {
		nj_json_open_arr(j, "interfaces");
		for (uint32_t i = 0; i < s->nifaces; i++)
			iface_log(j, &s->ifaces[i], true);
		nj_json_close_arr(j);
	}
	if (x->res_set && x->res_cmd == 2) {
		nj_json_open_obj(j, "res");
		nj_json_u64(j, "frag_cnt", x->frag_cnt[1]);
		nj_json_u64(j, "stub_data_size", x->stub_len[1]);
		nj_json_close_obj(j);
	}
	nj_json_u64(j, "call_id", x->call_id);
	nj_json_close_obj(j);
}

static void log_setinfo(struct nj_json *j, const struct smb_tx *tx)
{
	const struct smb_tx_setinfo *x = &tx->u.setinfo;

	if (x->name.len)
		str_log(j, "filename", tx, x->name);
	else
		nj_json_str(j, "filename", "<share_root>");
	nj_json_str(j, "access", x->delete_on_close ? "delete on close" : "normal");
	if (x->subcmd == 8)
		nj_json_str(j, "subcmd", "SET_FILE_INFO");
	else if (x->subcmd == 6)
		nj_json_str(j, "subcmd", "SET_PATH_INFO");
	if (x->loi == 1013)
		nj_json_str(j, "level_of_interest", "Set Disposition Information");
	fuid_log(j, "fuid", &x->fid);
}

static uint32_t type_bit(uint8_t type)
{
	switch (type) {
	case SMB_TX_FILE: return NJ_SMB_LOG_FILE;
	case SMB_TX_TREE: return NJ_SMB_LOG_TREECONNECT;
	case SMB_TX_NEGOTIATE: return NJ_SMB_LOG_NEGOTIATE;
	case SMB_TX_DCERPC: return NJ_SMB_LOG_DCERPC;
	case SMB_TX_CREATE: return NJ_SMB_LOG_CREATE;
	case SMB_TX_SESSION: return NJ_SMB_LOG_SESSION;
	case SMB_TX_IOCTL: return NJ_SMB_LOG_IOCTL;
	case SMB_TX_RENAME: return NJ_SMB_LOG_RENAME;
	case SMB_TX_SETINFO: return NJ_SMB_LOG_SETINFO;
	default: return NJ_SMB_LOG_GENERIC;
	}
}

bool smb_log_fields(struct nj_json *j, const struct smb_tx *tx, uint32_t types)
{
	const struct smb_state *s = tx->st;
	const char *cmd = NULL;
	char buf[16];

	if (types && !(types & type_bit(tx->type)))
		return false;
	nj_json_u64(j, "id", tx->al.id + 1); /* Suricata's ids start at 1 */
	if (s->dialect)
		nj_json_str(j, "dialect", smb2_dialect_name(s->dialect, buf, sizeof(buf)));
	else if (s->has_dialect1)
		nj_json_strn(j, "dialect", s->dialect1, s->dialect1_len);
	else
		nj_json_str(j, "dialect", "unknown");
	if (tx->ver == 1 || tx->ver == 2) {
		cmd = tx->ver == 1 ? smb1_command_name((uint8_t)tx->cmd)
				   : smb2_command_name(tx->cmd);
		if (!cmd) {
			snprintf(buf, sizeof(buf), "%u", tx->cmd);
			cmd = buf;
		}
		nj_json_str(j, "command", cmd);
	}
	status_log(j, tx);
	nj_json_u64(j, "session_id", tx->hdr.ssn);
	nj_json_u64(j, "tree_id", tx->hdr.tree);
	switch (tx->type) {
	case SMB_TX_SESSION: log_session(j, tx); break;
	case SMB_TX_CREATE: log_create(j, tx); break;
	case SMB_TX_NEGOTIATE: log_negotiate(j, tx); break;
	case SMB_TX_TREE: log_tree(j, tx); break;
	case SMB_TX_FILE:
		str_log(j, "filename", tx, tx->u.file.name);
		str_log(j, "share", tx, tx->u.file.share);
		fuid_log(j, "fuid", &tx->u.file.fuid);
		break;
	case SMB_TX_RENAME:
		if (tx->ver == 2) {
			nj_json_open_obj(j, "set_info");
			nj_json_str(j, "class", "FILE_INFO");
			nj_json_str(j, "info_level", "SMB2_FILE_RENAME_INFO");
			nj_json_close_obj(j);
		}
		nj_json_open_obj(j, "rename");
		str_log(j, "from", tx, tx->u.rename.from);
		str_log(j, "to", tx, tx->u.rename.to);
		nj_json_close_obj(j);
		fuid_log(j, "fuid", &tx->u.rename.fuid);
		break;
	case SMB_TX_DCERPC: log_dcerpc(j, tx); break;
	case SMB_TX_IOCTL: {
		const char *f = smb_fsctl_name(tx->u.ioctl_func);

		if (!f) {
			snprintf(buf, sizeof(buf), "%u", tx->u.ioctl_func);
			f = buf;
		}
		nj_json_str(j, "function", f);
		break;
	}
	case SMB_TX_SETINFO: log_setinfo(j, tx); break;
	default: break;
	}
	return true;
}

void smb_log_tx(struct nj_al_log *lg, const struct nj_flow *f, const struct nj_al_tx *t)
{
	const struct smb_tx *tx = (const struct smb_tx *)t;
	uint32_t types = smb_cfg()->log_types;
	struct nj_json *j;

	(void)f;
	if (types && !(types & type_bit(tx->type)))
		return;
	j = nj_al_log_begin(lg, t, NJ_DIR_TOSERVER);
	nj_json_open_obj(j, "smb");
	smb_log_fields(j, tx, 0);
	nj_json_close_obj(j);
	nj_al_log_commit(lg);
}

void smb_file_meta(struct nj_json *j, const void *arg)
{
	const struct smb_tx *tx = arg;

	nj_json_open_obj(j, "smb");
	smb_log_fields(j, tx, 0);
	nj_json_close_obj(j);
}

/* The parser's alert_json: "smb", and "files" for a file transaction. */
void smb_alert_json(struct nj_json *j, const struct nj_al_tx *t, int dir)
{
	const struct smb_tx *tx = (const struct smb_tx *)t;

	(void)dir;
	smb_file_meta(j, tx);
	if (tx->type != SMB_TX_FILE)
		return;
	nj_json_open_arr(j, "files");
	nj_json_open_obj(j, NULL);
	nj_json_strn(j, "filename", smb_str_ptr(tx, tx->u.file.name), tx->u.file.name.len);
	if (tx->u.file.closed)
		nj_json_u64(j, "size", tx->u.file.size);
	nj_json_close_obj(j);
	nj_json_close_arr(j);
}
