/* SPDX-License-Identifier: MIT */
/*
 * SESSION_SETUP security blobs: SPNEGO (RFC 4178) NegTokenInit with a
 * Kerberos AP-REQ (RFC 4120: the ticket's realm and service name are logged)
 * or NTLMSSP ([MS-NLMP] AUTHENTICATE_MESSAGE: domain, user, workstation,
 * version). Anything else, e.g. NegTokenResp, is searched for an NTLMSSP
 * message, as Suricata does. A small bounded DER reader; nothing is
 * allocated but the transaction's strings.
 */
#include <string.h>

#include "smb_priv.h"

struct der {
	uint8_t tag;
	const uint8_t *v; /* value */
	uint32_t len;
};

/* Reads one TLV at *p (before end); advances *p past it. */
static bool der_next(const uint8_t **p, const uint8_t *end, struct der *o)
{
	const uint8_t *q = *p;
	uint32_t len;

	if (end - q < 2)
		return false;
	o->tag = q[0];
	if ((q[0] & 0x1f) == 0x1f)
		return false; /* high tag numbers: not in these structures */
	len = q[1];
	q += 2;
	if (len & 0x80) {
		unsigned n = len & 0x7f;

		if (n == 0 || n > 4 || end - q < n)
			return false;
		len = 0;
		for (unsigned i = 0; i < n; i++)
			len = (len << 8) | q[i];
		q += n;
	}
	if ((uint64_t)(end - q) < len)
		return false;
	o->v = q;
	o->len = len;
	*p = q + len;
	return true;
}

/* The single element inside a constructed value (e.g. a context tag [n]). */
static bool der_inner(const struct der *o, struct der *in)
{
	const uint8_t *p = o->v;

	return der_next(&p, o->v + o->len, in);
}

static const uint8_t oid_spnego[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x02};
static const uint8_t oid_krb5[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02};
static const uint8_t oid_mskrb5[] = {0x2a, 0x86, 0x48, 0x82, 0xf7, 0x12, 0x01, 0x02, 0x02};
static const uint8_t oid_ntlmssp[] = {0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a};

static bool oid_is(const struct der *o, const uint8_t *oid, uint32_t n)
{
	return o->tag == 0x06 && o->len == n && !memcmp(o->v, oid, n);
}

/* ------------------------------------------------------------------ NTLMSSP */

#define NTLMSSP_NEGOTIATE_UNICODE 0x00000001u
#define NTLMSSP_NEGOTIATE_VERSION 0x02000000u

static struct smb_str ntlm_str(struct smb_tx *tx, const uint8_t *p, uint32_t len, bool unicode)
{
	char tmp[SMB_NAME_MAX];
	uint32_t n = 0;

	if (unicode)
		return smb_tx_str16(tx, p, len);
	/* OEM strings: Suricata drops NUL bytes */
	for (uint32_t i = 0; i < len && n < sizeof(tmp); i++)
		if (p[i])
			tmp[n++] = (char)p[i];
	return smb_tx_str(tx, tmp, n);
}

/* An AUTHENTICATE_MESSAGE at m (len bytes from its "NTLMSSP\0"). false: malformed. */
static bool ntlm_auth(struct smb_tx *tx, const uint8_t *m, uint32_t len)
{
	struct smb_tx_session *x = &tx->u.sess;
	uint32_t off[6], data_start = UINT32_MAX, flags;
	uint16_t flen[6];
	bool unicode;

	if (len < 64)
		return false;
	for (int i = 0; i < 6; i++) {
		flen[i] = smb_rd16(m + 12 + 8 * i);
		off[i] = smb_rd32(m + 16 + 8 * i);
		/* an empty field may point at the end of the message */
		if (off[i] > len || flen[i] > len - off[i])
			return false;
		if (off[i] < data_start)
			data_start = off[i];
	}
	flags = smb_rd32(m + 60);
	unicode = (flags & NTLMSSP_NEGOTIATE_UNICODE) != 0;
	/* domain 2, user 3, workstation 4: offsets from the message start */
	for (int i = 2; i <= 4; i++)
		if (off[i] < 12 || (uint64_t)off[i] + flen[i] > len)
			return false;
	x->has_ntlm = true;
	x->domain = ntlm_str(tx, m + off[2], flen[2], unicode);
	x->user = ntlm_str(tx, m + off[3], flen[3], unicode);
	x->host = ntlm_str(tx, m + off[4], flen[4], unicode);
	/* the version is there if flagged and the fields leave room for it */
	if ((flags & NTLMSSP_NEGOTIATE_VERSION) && data_start >= 72 && len >= 72) {
		x->has_ver = true;
		x->ver_major = m[64];
		x->ver_minor = m[65];
		x->ver_build = smb_rd16(m + 66);
		x->ver_rev = m[71];
	}
	/* fields out of their usual order (user before domain, ...): Suricata warns */
	x->ntlm_warning = (off[3] > 0 && off[3] < off[2] + flen[2]) ||
			  (off[4] > 0 && off[4] < off[3] + flen[3]);
	return true;
}

/* Finds an NTLMSSP message in p; AUTHENTICATE fills the transaction. */
static void ntlmssp_search(struct smb_state *s, struct smb_tx *tx, const uint8_t *p, uint32_t len)
{
	static const uint8_t sig[8] = {'N', 'T', 'L', 'M', 'S', 'S', 'P', 0};

	for (uint32_t i = 0; i + 12 <= len; i++) {
		const uint8_t *m = memchr(p + i, 'N', len - i);

		if (!m)
			return;
		i = (uint32_t)(m - p);
		if (i + 12 > len)
			return;
		if (memcmp(m, sig, 8))
			continue;
		if (smb_rd32(m + 8) == 3 && !ntlm_auth(tx, m, len - i))
			smb_event(s, s->dir == NJ_DIR_TOSERVER ? "malformed_ntlmssp_request"
							       : "malformed_ntlmssp_response");
		return;
	}
}

/* ------------------------------------------------------------------ Kerberos */

/* The ticket of an AP-REQ: realm and service principal name parts. */
static bool krb_ticket(struct smb_tx *tx, const struct der *tkt)
{
	struct smb_tx_session *x = &tx->u.sess;
	struct der seq, f, v;
	const uint8_t *p, *end;
	bool realm = false, sname = false;

	/* Ticket ::= [APPLICATION 1] SEQUENCE { tkt-vno[0], realm[1], sname[2], enc-part[3] } */
	if (tkt->tag != 0x61 || !der_inner(tkt, &seq) || seq.tag != 0x30)
		return false;
	p = seq.v;
	end = seq.v + seq.len;
	while (p < end && der_next(&p, end, &f)) {
		if (f.tag == 0xa1 && der_inner(&f, &v) && v.tag == 0x1b) {
			x->realm = smb_tx_str(tx, v.v, v.len);
			realm = true;
		} else if (f.tag == 0xa2 && der_inner(&f, &v) && v.tag == 0x30) {
			/* PrincipalName ::= SEQUENCE { name-type[0], name-string[1] SEQUENCE OF } */
			const uint8_t *q = v.v, *qe = v.v + v.len;
			struct der g, names, n;

			while (q < qe && der_next(&q, qe, &g)) {
				const uint8_t *r, *re;

				if (g.tag != 0xa1 || !der_inner(&g, &names) || names.tag != 0x30)
					continue;
				r = names.v;
				re = names.v + names.len;
				while (r < re && der_next(&r, re, &n))
					if (n.tag == 0x1b && x->nsnames < SMB_MAX_SNAMES)
						x->snames[x->nsnames++] =
							smb_tx_str(tx, n.v, n.len);
				sname = true;
			}
		}
	}
	return realm && sname;
}

/* mechToken: the GSS-API wrapped AP-REQ (RFC 1964 / 4121). */
static bool krb_token(struct smb_tx *tx, const uint8_t *p, uint32_t len)
{
	const uint8_t *q = p, *end = p + len, *r, *re;
	struct der app, oid, apreq, seq, f, tkt;

	if (!der_next(&q, end, &app) || app.tag != 0x60)
		return false;
	r = app.v;
	re = app.v + app.len;
	if (!der_next(&r, re, &oid) || (!oid_is(&oid, oid_krb5, sizeof(oid_krb5)) &&
					!oid_is(&oid, oid_mskrb5, sizeof(oid_mskrb5))))
		return false;
	/* TOK_ID 01 00: KRB_AP_REQ */
	if (re - r < 2 || r[0] != 0x01 || r[1] != 0x00)
		return false;
	r += 2;
	if (!der_next(&r, re, &apreq) || apreq.tag != 0x6e || !der_inner(&apreq, &seq) ||
	    seq.tag != 0x30)
		return false;
	r = seq.v;
	re = seq.v + seq.len;
	while (r < re && der_next(&r, re, &f))
		if (f.tag == 0xa3 && der_inner(&f, &tkt))
			return krb_ticket(tx, &tkt);
	return false;
}

/* ------------------------------------------------------------------ SPNEGO */

/*
 * NegTokenInit: mechTypes tell what the mechToken is. Returns false when
 * the blob is not a NegTokenInit (the caller then looks for NTLMSSP).
 */
static bool spnego_init(struct smb_state *s, struct smb_tx *tx, const uint8_t *p, uint32_t len)
{
	const uint8_t *q = p, *end = p + len, *r, *re;
	struct der app, oid, init, seq, el, in;
	bool krb = false, ntlm = false;

	if (!der_next(&q, end, &app) || app.tag != 0x60)
		return false;
	r = app.v;
	re = app.v + app.len;
	if (!der_next(&r, re, &oid) || !oid_is(&oid, oid_spnego, sizeof(oid_spnego)))
		return false;
	if (!der_next(&r, re, &init) || !der_inner(&init, &seq) || seq.tag != 0x30)
		return false;
	r = seq.v;
	re = seq.v + seq.len;
	while (r < re && der_next(&r, re, &el)) {
		if (!der_inner(&el, &in))
			continue;
		if (in.tag == 0x30) {
			const uint8_t *m = in.v, *me = in.v + in.len;
			struct der o;

			/* Suricata counts the standard Kerberos OID only */
			while (m < me && der_next(&m, me, &o)) {
				if (oid_is(&o, oid_krb5, sizeof(oid_krb5)))
					krb = true;
				else if (oid_is(&o, oid_ntlmssp, sizeof(oid_ntlmssp)))
					ntlm = true;
			}
		} else if (in.tag == 0x04) {
			bool have_krb = false;

			if (krb)
				have_krb = krb_token(tx, in.v, in.len);
			if (have_krb)
				tx->u.sess.has_krb = true;
			else if (ntlm)
				ntlmssp_search(s, tx, in.v, in.len);
		}
	}
	return true;
}

void smb_auth_secblob(struct smb_state *s, struct smb_tx *tx, const uint8_t *p, uint32_t len)
{
	if (!len)
		return;
	if (!spnego_init(s, tx, p, len))
		ntlmssp_search(s, tx, p, len);
}
