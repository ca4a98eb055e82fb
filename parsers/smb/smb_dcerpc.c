/* SPDX-License-Identifier: MIT */
/*
 * DCE/RPC (C706, connection-oriented) carried over SMB named pipes: PDUs
 * written (WRITE, IOCTL FSCTL_PIPE_TRANSCEIVE, SMB1 TRANS) and read back.
 * BIND gives the flow's interfaces (uuid, version, context id), BIND_ACK
 * their results, REQUEST/RESPONSE pairs by call id become transactions with
 * opnum, fragment counts and stub data.
 */
#include <stdlib.h>
#include <string.h>

#include "../../common/nj_common.h"
#include "smb_priv.h"

#define DCE_REQUEST  0
#define DCE_RESPONSE 2
#define DCE_BIND     11
#define DCE_BINDACK  12
#define DCE_HDR_LEN  16

#define SMB2_READ  8
#define SMB2_WRITE 9

static const char *const dce_types[] = {
	"REQUEST",   "PING",	 "RESPONSE",	  "FAULT",
	"WORKING",   "NOCALL",	 "REJECT",	  "ACK",
	"CL_CANCEL", "FACK",	 "CANCEL_ACK",	  "BIND",
	"BINDACK",   "BINDNAK",	 "ALTER_CONTEXT", "ALTER_CONTEXT_RESP",
	"AUTH3",     "SHUTDOWN", "CO_CANCEL",	  "ORPHANED",
	"RTS",
};

const char *smb_dcerpc_type_name(uint8_t t)
{
	return t < NJ_ARRAY_SIZE(dce_types) ? dce_types[t] : NULL;
}

struct dce_pdu {
	uint8_t vmaj, vmin, type;
	bool first, last, le;
	uint16_t frag_len;
	uint32_t call_id;
	const uint8_t *p; /* PDU start */
	uint32_t len;	  /* bytes at hand */
};

static uint16_t d16(const struct dce_pdu *d, const uint8_t *p)
{
	return d->le ? smb_rd16(p) : (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t d32(const struct dce_pdu *d, const uint8_t *p)
{
	return d->le ? smb_rd32(p)
		     : ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) |
			       p[3];
}

static bool pdu_parse(struct dce_pdu *d, const uint8_t *p, uint32_t len)
{
	if (len < DCE_HDR_LEN)
		return false;
	d->p = p;
	d->len = len;
	d->vmaj = p[0];
	d->vmin = p[1];
	d->type = p[2];
	d->first = (p[3] & 0x01) != 0;
	d->last = (p[3] & 0x02) != 0;
	d->le = (p[4] & 0x10) != 0; /* data representation: integer byte order */
	d->frag_len = d16(d, p + 8);
	d->call_id = d32(d, p + 12);
	return true;
}

bool smb_dcerpc_probe(const uint8_t *p, uint32_t len)
{
	struct dce_pdu d;

	return pdu_parse(&d, p, len) && d.vmaj == 5 && d.vmin < 3 && d.frag_len > 0 && d.type <= 20;
}

/* REQUEST/RESPONSE stub: the frag_len - 24 bytes after the 24-byte header. */
static const uint8_t *pdu_stub(const struct dce_pdu *d, uint32_t *n)
{
	if (d->frag_len < 24 || d->len < d->frag_len)
		return NULL;
	*n = d->frag_len - 24u;
	return d->p + 24;
}

static void stub_add(struct smb_tx *tx, int dir, const uint8_t *p, uint32_t n)
{
	struct smb_tx_dce *x = &tx->u.dce;
	uint32_t cap = smb_cfg()->max_stub, k;

	x->stub_len[dir] += n;
	if (x->stub_have[dir] >= cap || !n)
		return;
	k = cap - x->stub_have[dir];
	if (k > n)
		k = n;
	if (!x->stub[dir]) {
		/* grown as needed up to cap */
		uint32_t want = x->stub_have[dir] + k;
		uint8_t *b = malloc(want < 256 ? 256 : want);

		if (!b)
			return;
		x->stub[dir] = b;
	} else {
		uint8_t *b = realloc(x->stub[dir], x->stub_have[dir] + k);

		if (!b)
			return;
		x->stub[dir] = b;
	}
	memcpy(x->stub[dir] + x->stub_have[dir], p, k);
	x->stub_have[dir] += k;
}

void smb_dce_tx_free(struct smb_tx *tx)
{
	free(tx->u.dce.stub[0]);
	free(tx->u.dce.stub[1]);
}

/*
 * The key a DCE/RPC transaction is found by: READ and WRITE on a pipe are
 * separate SMB exchanges, so only the session and call id pair them; IOCTL
 * carries both in one exchange and the message id counts too.
 */
static struct smb_key dce_key(const struct smb_key *h, uint8_t ver, uint16_t cmd)
{
	struct smb_key k = *h;

	k.kind = SMB_K_DCERPC;
	if (ver == 1 || (ver == 2 && (cmd == SMB2_READ || cmd == SMB2_WRITE)))
		k.msg = 0;
	return k;
}

static struct smb_tx *dce_find(struct smb_state *s, const struct smb_key *h, uint8_t ver,
			       uint16_t cmd, uint32_t call_id)
{
	struct smb_key want = dce_key(h, ver, cmd);

	for (struct nj_al_tx *t = s->q.head; t; t = t->next) {
		struct smb_tx *tx = (struct smb_tx *)t;
		struct smb_key have;

		if (tx->type != SMB_TX_DCERPC || tx->u.dce.call_id != call_id)
			continue;
		have = dce_key(&tx->hdr, ver, cmd);
		if (smb_key_eq(&have, &want))
			return tx;
	}
	return NULL;
}

static struct smb_tx *dce_new(struct smb_state *s, const struct smb_key *h, uint8_t ver,
			      uint16_t cmd, uint32_t call_id)
{
	struct smb_tx *tx = smb_tx_new(s, SMB_TX_DCERPC, ver, cmd);

	if (tx) {
		tx->hdr = *h;
		tx->u.dce.call_id = call_id;
	}
	return tx;
}

/* BIND: the interfaces of its context items become the flow's interfaces. */
static bool parse_bind(struct smb_state *s, const struct dce_pdu *d)
{
	const uint8_t *p = d->p + DCE_HDR_LEN, *end = d->p + d->len;
	uint8_t n;
	struct nj_smb_dce_iface ifs[SMB_MAX_IFACES];
	uint32_t nifs = 0;

	if (end - p < 12)
		return false;
	n = p[8];
	p += 12;
	for (uint8_t i = 0; i < n; i++) {
		uint8_t ntrans;
		const uint8_t *u;

		if (end - p < 24)
			return false;
		ntrans = p[2];
		u = p + 4;
		if (nifs < SMB_MAX_IFACES) {
			struct nj_smb_dce_iface *f = &ifs[nifs++];
			static const uint8_t le_order[16] = {3, 2, 1,  0,  5,  4,  7,  6,
							     8, 9, 10, 11, 12, 13, 14, 15};

			memset(f, 0, sizeof(*f));
			f->ctx_id = d16(d, p);
			/* the uuid's first three fields follow the PDU's byte order */
			for (int k = 0; k < 16; k++)
				f->uuid[k] = d->le ? u[le_order[k]] : u[k];
			if (d->le) {
				f->ver = smb_rd16(p + 20);
				f->ver_minor = smb_rd16(p + 22);
			} else {
				/* big endian: the u32 version has the minor in its high half */
				f->ver_minor = d16(d, p + 20);
				f->ver = d16(d, p + 22);
			}
		}
		p += 24;
		if ((size_t)(end - p) < (size_t)ntrans * 20)
			return false;
		p += (size_t)ntrans * 20;
	}
	memcpy(s->ifaces, ifs, sizeof(ifs[0]) * nifs);
	memset(s->iface_reason, 0, sizeof(s->iface_reason));
	s->nifaces = nifs;
	s->has_ifaces = nifs > 0;
	return true;
}

void smb_dcerpc_write(struct smb_state *s, uint8_t ver, uint16_t cmd, uint32_t status,
		      bool status_set, const struct smb_key *hdr, const uint8_t *p, uint32_t len)
{
	struct dce_pdu d;
	struct smb_tx *tx;
	const uint8_t *stub;
	uint32_t n;

	if (!pdu_parse(&d, p, len)) {
		smb_event(s, "malformed_data");
		return;
	}
	if (d.type == DCE_REQUEST && !d.first) {
		/* a later fragment: more stub data for the call's transaction */
		stub = pdu_stub(&d, &n);
		if (!stub || d.len < 24) {
			smb_event(s, "malformed_data");
			return;
		}
		tx = dce_find(s, hdr, ver, cmd, d.call_id);
		if (!tx)
			return;
		stub_add(tx, NJ_DIR_TOSERVER, stub, n);
		tx->u.dce.frag_cnt[0]++;
		if (d.last)
			smb_tx_done(s, tx, 0);
		return;
	}
	tx = dce_new(s, hdr, ver, cmd, d.call_id);
	if (!tx)
		return;
	if (status_set)
		smb_tx_set_status(tx, status, false);
	tx->u.dce.req_cmd = d.type;
	tx->u.dce.req_set = true;
	switch (d.type) {
	case DCE_REQUEST:
		stub = pdu_stub(&d, &n);
		if (!stub) {
			smb_event(s, "malformed_data");
			smb_tx_done(s, tx, 0);
			break;
		}
		tx->u.dce.ctx_id = d16(&d, d.p + 20);
		tx->u.dce.opnum = d16(&d, d.p + 22);
		stub_add(tx, NJ_DIR_TOSERVER, stub, n);
		tx->u.dce.frag_cnt[0]++;
		if (d.last)
			smb_tx_done(s, tx, 0);
		break;
	case DCE_BIND:
		if (!parse_bind(s, &d))
			smb_event(s, "malformed_data");
		smb_tx_done(s, tx, 0);
		break;
	default:
		if (d.type > 20)
			smb_event(s, "malformed_data");
		smb_tx_done(s, tx, 0);
		break;
	}
}

static void bindack(struct smb_state *s, const struct dce_pdu *d, const struct smb_key *hdr,
		    uint8_t ver, uint16_t cmd, uint32_t status)
{
	const uint8_t *p = d->p + DCE_HDR_LEN, *end = d->p + d->len;
	uint16_t alen;
	uint32_t pad;
	uint8_t n;
	struct smb_tx *tx;

	if (end - p < 10)
		goto bad;
	alen = smb_rd16(p + 8);
	p += 10;
	if (end - p < alen)
		goto bad;
	p += alen;
	pad = (alen + 2u) % 4u;
	if (pad) {
		if ((uint32_t)(end - p) < 4 - pad)
			goto bad;
		p += 4 - pad;
	}
	if (end - p < 4)
		goto bad;
	n = p[0];
	p += 4;
	if ((size_t)(end - p) < (size_t)n * 24)
		goto bad;
	tx = dce_find(s, hdr, ver, cmd, d->call_id);
	if (!tx)
		return;
	tx->u.dce.res_cmd = DCE_BINDACK;
	tx->u.dce.res_set = true;
	smb_tx_set_status(tx, status, false);
	smb_tx_done(s, tx, 1);
	for (uint32_t i = 0; i < n && i < s->nifaces; i++) {
		s->ifaces[i].acked = true;
		s->ifaces[i].ack_result = smb_rd16(p + 24 * i);
		/* kept, but logged as 0: Suricata never reads the reason */
		s->iface_reason[i] = smb_rd16(p + 24 * i + 2);
	}
	return;
bad:
	smb_event(s, "malformed_data");
}

static void response_handle(struct smb_state *s, struct smb_tx *tx, const struct dce_pdu *d,
			    uint32_t status)
{
	const uint8_t *stub;
	uint32_t n;

	switch (d->type) {
	case DCE_RESPONSE:
		stub = pdu_stub(d, &n);
		if (!stub) {
			smb_event(s, "malformed_data");
			return;
		}
		tx->u.dce.res_cmd = DCE_RESPONSE;
		tx->u.dce.res_set = true;
		stub_add(tx, NJ_DIR_TOCLIENT, stub, n);
		tx->u.dce.frag_cnt[1]++;
		smb_tx_set_status(tx, status, false);
		if (d->last)
			smb_tx_done(s, tx, 1);
		return;
	case DCE_BINDACK: return;
	default:
		tx->u.dce.res_cmd = d->type;
		tx->u.dce.res_set = true;
		smb_tx_set_status(tx, status, false);
		smb_tx_done(s, tx, 1);
		if (d->type > 20)
			smb_event(s, "malformed_data");
		return;
	}
}

/* Partial READ data (STATUS_BUFFER_OVERFLOW): kept per (session, tree, file) until the rest. */
static struct smb_frag *frag_get(struct smb_state *s, const struct smb_key *h,
				 const struct smb_fuid *f)
{
	for (uint32_t i = 0; i < SMB_MAX_FRAGS; i++) {
		struct smb_frag *fr = &s->frags[i];

		if (fr->data && fr->ssn == h->ssn && fr->tree == h->tree &&
		    smb_fuid_eq(&fr->fuid, f))
			return fr;
	}
	return NULL;
}

#define SMB_FRAG_MAX (64 * 1024)

void smb_dcerpc_read(struct smb_state *s, uint8_t ver, uint16_t cmd, uint32_t status,
		     const struct smb_key *hdr, const struct smb_fuid *fuid, const uint8_t *p,
		     uint32_t len)
{
	struct smb_frag *fr;
	uint8_t *joined = NULL;
	struct dce_pdu d;
	struct smb_tx *tx;

	if (status != SMB_NT_SUCCESS && status != SMB_NT_BUFFER_OVERFLOW) {
		/* an error instead of data: it ends the exchange */
		tx = smb_find_generic(s, ver, cmd, hdr);
		if (tx) {
			smb_tx_set_status(tx, status, false);
			smb_tx_done(s, tx, 1);
		}
		return;
	}
	fr = frag_get(s, hdr, fuid);
	if (fr) {
		/* earlier data of the same PDU goes first */
		uint64_t n = (uint64_t)fr->len + len;

		if (n > SMB_FRAG_MAX || !(joined = malloc(n))) {
			free(fr->data);
			fr->data = NULL;
			smb_event(s, "malformed_data");
			return;
		}
		memcpy(joined, fr->data, fr->len);
		memcpy(joined + fr->len, p, len);
		free(fr->data);
		fr->data = NULL;
		p = joined;
		len = (uint32_t)n;
	}
	if (!len)
		goto out;
	if (!pdu_parse(&d, p, len)) {
		smb_event(s, "malformed_data");
		goto out;
	}
	if (status == SMB_NT_BUFFER_OVERFLOW && len < d.frag_len) {
		/* the PDU continues in the next READ */
		if (len <= SMB_FRAG_MAX) {
			struct smb_frag *slot = &s->frags[s->frags_next];
			uint8_t *copy = malloc(len);

			if (copy) {
				memcpy(copy, p, len);
				s->frags_next = (s->frags_next + 1) % SMB_MAX_FRAGS;
				free(slot->data);
				slot->data = copy;
				slot->len = len;
				slot->ssn = hdr->ssn;
				slot->tree = hdr->tree;
				slot->fuid = *fuid;
			}
		}
		goto out;
	}
	if (d.type == DCE_BINDACK) {
		bindack(s, &d, hdr, ver, cmd, status);
		goto out;
	}
	tx = dce_find(s, hdr, ver, cmd, d.call_id);
	if (!tx) {
		/* the request was missed: the response still makes a transaction */
		tx = dce_new(s, hdr, ver, cmd, d.call_id);
		if (!tx)
			goto out;
	}
	response_handle(s, tx, &d, status);
out:
	free(joined);
}
