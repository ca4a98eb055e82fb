/* SPDX-License-Identifier: MIT */
/*
 * The EVE "tls" event: Suricata 8's fields, in its order (subject, issuerdn,
 * subjectaltname, session_resumed, serial, fingerprint, sni, version,
 * notbefore, notafter, certificate, chain, ja3, ja3s, ja4, client_alpns,
 * server_alpns, client_handshake, server_handshake, client), each present
 * when configured and known.
 */
#include <string.h>

#include "tls_priv.h"

bool nj_tls_tx_loggable(const struct nj_tls_tx *tx, const struct nj_tls_config *cfg)
{
	if (tx->cert[1].present)
		return true;
	if ((tx->flags & NJ_TLS_F_SESSION_RESUMED) && cfg->session_resumption)
		return true;
	return (tx->flags & NJ_TLS_F_LOG_WITHOUT_CERT) != 0;
}

/* Appends raw bytes to the writer (a value opened with nj_json_raw). */
static void json_append(struct nj_json *j, const char *s, size_t n)
{
	if (j->overflow || j->len + n > j->cap) {
		j->overflow = true;
		return;
	}
	memcpy(j->buf + j->len, s, n);
	j->len += n;
}

/* A base64 string value (key NULL inside an array), encoded straight into the writer. */
static void json_base64(struct nj_json *j, const char *key, const uint8_t *d, uint32_t n)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char chunk[256];
	size_t k = 0;

	nj_json_raw(j, key, "\"", 1);
	for (uint32_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)d[i] << 16;

		if (i + 1 < n)
			v |= (uint32_t)d[i + 1] << 8;
		if (i + 2 < n)
			v |= d[i + 2];
		chunk[k++] = b64[v >> 18 & 63];
		chunk[k++] = b64[v >> 12 & 63];
		chunk[k++] = i + 1 < n ? b64[v >> 6 & 63] : '=';
		chunk[k++] = i + 2 < n ? b64[v & 63] : '=';
		if (k > sizeof(chunk) - 4) {
			json_append(j, chunk, k);
			k = 0;
		}
	}
	chunk[k++] = '"';
	json_append(j, chunk, k);
}

static void log_time(struct nj_json *j, const char *key, int64_t t)
{
	char buf[32];

	if (t == 0)
		return;
	nj_tls_format_time(t, buf);
	nj_json_str(j, key, buf);
}

/* Walks a certificate_list copy: calls one base64 value per certificate. */
static void log_certs(struct nj_json *j, const char *key, const uint8_t *c, uint32_t n, bool all)
{
	uint32_t o = 0;

	if (all)
		nj_json_open_arr(j, key);
	while (n - o >= 3) {
		uint32_t l = (uint32_t)c[o] << 16 | (uint32_t)c[o + 1] << 8 | c[o + 2];

		o += 3;
		if (l > n - o)
			break;
		json_base64(j, all ? NULL : key, c + o, l);
		o += l;
		if (!all)
			break;
	}
	if (all)
		nj_json_close_arr(j);
}

static void log_alpns(struct nj_json *j, const char *key, const struct nj_tls_hello *h)
{
	uint32_t o = 0;

	if (!h->alpn || !h->alpn_len)
		return;
	nj_json_open_arr(j, key);
	while (o < h->alpn_len) {
		uint8_t l = h->alpn[o++];

		if (l > h->alpn_len - o)
			break;
		nj_json_strn(j, NULL, h->alpn + o, l);
		o += l;
	}
	nj_json_close_arr(j);
}

static void log_u16s(struct nj_json *j, const char *key, const uint16_t *v, uint16_t n)
{
	if (!n || !v)
		return;
	nj_json_open_arr(j, key);
	for (uint16_t i = 0; i < n; i++)
		nj_json_u64(j, NULL, v[i]);
	nj_json_close_arr(j);
}

static void log_handshake(struct nj_json *j, const char *key, const struct nj_tls_hello *h,
			  bool server)
{
	char vb[NJ_TLS_VERSION_STRLEN];

	if (!h->seen)
		return;
	nj_json_open_obj(j, key);
	nj_json_str(j, "version", nj_tls_version_str(h->hs_version, vb));
	if (server) {
		nj_json_u64(j, "cipher", h->nciphers ? h->ciphers[0] : 0);
	} else {
		log_u16s(j, "ciphers", h->ciphers, h->nciphers);
	}
	log_u16s(j, "exts", h->exts, h->nexts);
	if (!server)
		log_u16s(j, "sig_algs", h->sigalgs, h->nsigalgs);
	nj_json_close_obj(j);
}

static void log_fingerprint_obj(struct nj_json *j, const char *key, const struct nj_tls_tx *tx,
				int side)
{
	if (!tx->ja3[side])
		return;
	nj_json_open_obj(j, key);
	if (tx->ja3_hash[side][0])
		nj_json_str(j, "hash", tx->ja3_hash[side]);
	nj_json_strn(j, "string", tx->ja3[side], tx->ja3_len[side]);
	nj_json_close_obj(j);
}

static void log_fields(struct nj_json *j, const struct nj_tls_tx *tx,
		       const struct nj_tls_config *cfg)
{
	const struct nj_tls_cert *sc = &tx->cert[1], *cc = &tx->cert[0];
	uint32_t f = cfg->fields;
	char vb[NJ_TLS_VERSION_STRLEN];

	if ((f & NJ_TLS_LOG_SUBJECT) && sc->present)
		nj_json_strn(j, "subject", sc->subject, sc->subject_len);
	if ((f & NJ_TLS_LOG_ISSUER) && sc->present)
		nj_json_strn(j, "issuerdn", sc->issuer, sc->issuer_len);
	if ((f & NJ_TLS_LOG_SUBJECTALTNAME) && sc->present && sc->nsans) {
		nj_json_open_arr(j, "subjectaltname");
		for (uint16_t i = 0; i < sc->nsans; i++)
			nj_json_strn(j, NULL, sc->sans[i], sc->san_len[i]);
		nj_json_close_arr(j);
	}
	/* resumed: no certificate seen, a ServerHello, and not TLS 1.3 */
	if ((f & NJ_TLS_LOG_SESSION_RESUMED) && (tx->flags & NJ_TLS_F_SESSION_RESUMED) &&
	    !sc->present && (tx->flags & NJ_TLS_F_SERVER_HELLO) &&
	    !(tx->flags & NJ_TLS_F_LOG_WITHOUT_CERT))
		nj_json_bool(j, "session_resumed", true);
	if ((f & NJ_TLS_LOG_SERIAL) && sc->present)
		nj_json_str(j, "serial", sc->serial);
	if ((f & NJ_TLS_LOG_FINGERPRINT) && sc->present && sc->fingerprint[0])
		nj_json_str(j, "fingerprint", sc->fingerprint);
	if ((f & NJ_TLS_LOG_SNI) && tx->sni)
		nj_json_strn(j, "sni", tx->sni, tx->sni_len);
	if (f & NJ_TLS_LOG_VERSION)
		nj_json_str(j, "version", nj_tls_version_str(nj_tls_tx_version(&tx->al), vb));
	if ((f & NJ_TLS_LOG_NOTBEFORE) && sc->present)
		log_time(j, "notbefore", sc->not_before);
	if ((f & NJ_TLS_LOG_NOTAFTER) && sc->present)
		log_time(j, "notafter", sc->not_after);
	if ((f & NJ_TLS_LOG_CERTIFICATE) && tx->chain[1])
		log_certs(j, "certificate", tx->chain[1], tx->chain_len[1], false);
	if ((f & NJ_TLS_LOG_CHAIN) && tx->chain[1])
		log_certs(j, "chain", tx->chain[1], tx->chain_len[1], true);
	if (f & NJ_TLS_LOG_JA3)
		log_fingerprint_obj(j, "ja3", tx, 0);
	if (f & NJ_TLS_LOG_JA3S)
		log_fingerprint_obj(j, "ja3s", tx, 1);
	if ((f & NJ_TLS_LOG_JA4) && cfg->ja4 && tx->ja4[0])
		nj_json_str(j, "ja4", tx->ja4);
	if (f & NJ_TLS_LOG_CLIENT_ALPNS)
		log_alpns(j, "client_alpns", &tx->hello[0]);
	if (f & NJ_TLS_LOG_SERVER_ALPNS)
		log_alpns(j, "server_alpns", &tx->hello[1]);
	if (f & NJ_TLS_LOG_CLIENT_HANDSHAKE)
		log_handshake(j, "client_handshake", &tx->hello[0], false);
	if (f & NJ_TLS_LOG_SERVER_HANDSHAKE)
		log_handshake(j, "server_handshake", &tx->hello[1], true);
	if ((f & NJ_TLS_LOG_CLIENT) && cc->present) {
		nj_json_open_obj(j, "client");
		nj_json_strn(j, "subject", cc->subject, cc->subject_len);
		nj_json_strn(j, "issuerdn", cc->issuer, cc->issuer_len);
		if (cc->fingerprint[0])
			nj_json_str(j, "fingerprint", cc->fingerprint);
		nj_json_str(j, "serial", cc->serial);
		log_time(j, "notbefore", cc->not_before);
		log_time(j, "notafter", cc->not_after);
		if ((f & NJ_TLS_LOG_CLIENT_CERT) && tx->chain[0])
			log_certs(j, "certificate", tx->chain[0], tx->chain_len[0], false);
		if ((f & NJ_TLS_LOG_CLIENT_CHAIN) && tx->chain[0])
			log_certs(j, "chain", tx->chain[0], tx->chain_len[0], true);
		nj_json_close_obj(j);
	}
}

void nj_tls_log_tx(struct nj_al_log *lg, const struct nj_flow *f, const struct nj_al_tx *atx)
{
	const struct nj_tls_tx *tx = (const struct nj_tls_tx *)atx;
	const struct nj_tls_config *cfg = nj_tls_config_get();
	struct nj_json *j;

	(void)f;
	if (!nj_tls_tx_loggable(tx, cfg))
		return;
	j = nj_al_log_begin(lg, atx, NJ_DIR_TOSERVER);
	nj_json_open_obj(j, "tls");
	log_fields(j, tx, cfg);
	nj_json_close_obj(j);
	nj_al_log_commit(lg);
}

void nj_tls_alert_json(struct nj_json *j, const struct nj_al_tx *atx, int dir)
{
	(void)dir;
	nj_json_open_obj(j, "tls");
	log_fields(j, (const struct nj_tls_tx *)atx, nj_tls_config_get());
	nj_json_close_obj(j);
}
