/* SPDX-License-Identifier: MIT */
/*
 * TLS (SSL 2.0 compatible hellos, SSL 3.0 to TLS 1.3): record layer,
 * handshake reassembly, hellos, certificates (OpenSSL libcrypto), JA3/JA3S
 * and JA4 fingerprints, detection buffers and the EVE "tls" writer.
 *
 * Behaviour follows Suricata 8 so that EVE output and anomaly events match:
 *  - one transaction per flow; a direction is done when its handshake is
 *    (client: ChangeCipherSpec or application data; server: application data;
 *    both: the server's first certificate was decoded, or the client's when
 *    the server asked for one), at a fatal alert, or at close();
 *  - the event is written only if the server's first certificate gave a
 *    subject and an issuer, or the session was resumed (logged with
 *    session-resumption), or the server chose TLS 1.3 / a draft (no
 *    certificate can be seen);
 *  - "version" is Suricata's server version string ("TLSv1", "TLS 1.2",
 *    "TLS 1.3 draft-23", "UNDETERMINED", ...); subject/issuer use Suricata's
 *    (x509-parser) text form; serial is the raw DER integer in upper-case
 *    colon hex; fingerprint is the SHA-1 of the DER in lower-case colon hex.
 *
 * Record bytes are consumed whole (the framework keeps partial records, at
 * most 16384 + 1024 bytes + header); application data is consumed as it
 * comes. Handshake messages that span records are reassembled in a
 * per-direction buffer bounded by app-layer.protocols.tls.max-handshake-message;
 * everything a transaction keeps (names, lists, chains) comes from one
 * per-transaction arena bounded by app-layer.protocols.tls.max-memory.
 *
 * JA3/JA3S: Salesforce's definition as Suricata computes it (GREASE removed
 * from ciphers, extensions and groups; the first hello of each side), set by
 * app-layer.protocols.tls.ja3-fingerprints: yes (Nightjar's default), no, or
 * auto (Suricata's default: only when a rule needs it, see
 * nj_tls_ja3_request). JA4: FoxIO's published specification (TCP "t" only),
 * on unless ja4-fingerprints: no.
 */
#ifndef NJ_TLS_H
#define NJ_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../applayer.h"

struct nj_conf;
struct nj_conf_node;

/* ------------------------------------------------------------------ versions */

#define NJ_TLS_V_UNKNOWN 0x0000
#define NJ_TLS_V_SSL2	 0x0002
#define NJ_TLS_V_SSL3	 0x0300
#define NJ_TLS_V_10	 0x0301
#define NJ_TLS_V_11	 0x0302
#define NJ_TLS_V_12	 0x0303
#define NJ_TLS_V_13	 0x0304
/* Suricata's value for TLS 1.3 drafts before 16 (which all said 0x0304 or 0x7f01..0x7f0f). */
#define NJ_TLS_V_13_PRE_DRAFT16 0x7f01

/* Suricata's version strings; buf must hold NJ_TLS_VERSION_STRLEN bytes. */
#define NJ_TLS_VERSION_STRLEN 24
const char *nj_tls_version_str(uint16_t v, char buf[NJ_TLS_VERSION_STRLEN]);
/* A version Suricata accepts in a record header or supported_versions. */
bool nj_tls_version_valid(uint16_t v);
/* RFC 8701 GREASE value (0x?a?a with equal bytes). */
static inline bool nj_tls_is_grease(uint16_t v)
{
	return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

/* ------------------------------------------------------------------ X.509 */

/* What is kept of a side's first certificate. Strings are (pointer, length), not NUL-safe. */
struct nj_tls_cert {
	bool present;  /* decoded: subject, issuer, serial, validity */
	char *subject; /* Suricata's form: "C=US, O=Let's Encrypt, CN=R3" */
	uint32_t subject_len;
	char *issuer;
	uint32_t issuer_len;
	char *serial; /* "03:DE:23:...", NUL-terminated */
	uint32_t serial_len;
	char fingerprint[60];	       /* "cc:aa:...", NUL-terminated; "" when not computed */
	int64_t not_before, not_after; /* seconds since 1970 (negative before) */
	uint16_t nsans;
	char **sans; /* NUL-terminated strings (DNS names, addresses, URIs, e-mail) */
	uint32_t *san_len;
};

/* X.509 decode results (Suricata's certificate events). */
enum nj_tls_x509_err {
	NJ_TLS_X509_OK = 0,
	NJ_TLS_X509_INVALID_DER,      /* CERTIFICATE_INVALID_DER */
	NJ_TLS_X509_INVALID_LENGTH,   /* CERTIFICATE_INVALID_LENGTH */
	NJ_TLS_X509_INVALID_SUBJECT,  /* CERTIFICATE_INVALID_SUBJECT */
	NJ_TLS_X509_INVALID_ISSUER,   /* CERTIFICATE_INVALID_ISSUER */
	NJ_TLS_X509_INVALID_SERIAL,   /* CERTIFICATE_INVALID_SERIAL */
	NJ_TLS_X509_INVALID_VALIDITY, /* CERTIFICATE_INVALID_VALIDITY */
	NJ_TLS_X509_NOMEM,
};
/* Suricata's event name for an error, NULL for OK / NOMEM. */
const char *nj_tls_x509_err_event(enum nj_tls_x509_err e);

/* Allocator used for decoded fields (the transaction's arena). NULL = out of memory. */
typedef void *(*nj_tls_alloc_fn)(void *arg, size_t n);

/*
 * Decodes one DER certificate with d2i_X509 and fills out (strings from
 * alloc). max_sans bounds the SANs kept. Returns NJ_TLS_X509_OK or an error.
 */
enum nj_tls_x509_err nj_tls_x509_decode(const uint8_t *der, uint32_t len, struct nj_tls_cert *out,
					nj_tls_alloc_fn alloc, void *arg, unsigned max_sans);
/* "2015-02-12T18:07:27" (UTC); out >= 32 bytes. */
void nj_tls_format_time(int64_t t, char out[32]);

/* ------------------------------------------------------------------ fingerprints */

/* One side's hello parameters as the fingerprints and the handshake log need them. */
struct nj_tls_hello {
	bool seen;
	uint16_t legacy_version; /* the hello's version field */
	uint16_t hs_version;	 /* Suricata's: max(legacy, first valid supported_versions) */
	bool has_supported_versions;
	uint16_t sv_max;   /* highest non-GREASE supported_versions value (JA4) */
	uint16_t nciphers; /* non-GREASE, in order */
	uint16_t nexts;	   /* non-GREASE extension types, in order */
	uint16_t nsigalgs; /* non-GREASE signature algorithms, in order */
	uint16_t ngroups;  /* non-GREASE supported groups (JA3) */
	uint16_t npf;	   /* ec point formats (JA3) */
	uint16_t *ciphers, *exts, *sigalgs, *groups;
	uint8_t *pf;
	uint8_t *alpn; /* validated ALPN list: entries of len (1) + bytes, empties dropped */
	uint16_t alpn_len;
	bool sni;
};

/* JA3 ("771,4865-4866,0-23,29-23,0") of a client hello, JA3S of a server hello. NUL-terminated,
 * returns the length, or -1 if out is too small. */
int nj_tls_ja3_string(const struct nj_tls_hello *h, bool server, char *out, size_t cap);
/* Lower-case MD5 hex of s (33 bytes with NUL). */
void nj_tls_md5_hex(const char *s, size_t n, char out[33]);
/* JA4 of a client hello: 36 characters and NUL. */
void nj_tls_ja4(const struct nj_tls_hello *h, char out[37]);

/* ------------------------------------------------------------------ transactions */

/* Progress per direction (Suricata's TLS states; detection sees them in tx->al.progress). */
enum {
	NJ_TLS_C_IN_PROGRESS = 0,
	NJ_TLS_C_HELLO_DONE,
	NJ_TLS_C_CERT_DONE,
	NJ_TLS_C_HANDSHAKE_DONE,
	NJ_TLS_C_FINISHED,
};
enum {
	NJ_TLS_S_IN_PROGRESS = 0,
	NJ_TLS_S_HELLO,
	NJ_TLS_S_CERT_DONE,
	NJ_TLS_S_HELLO_DONE,
	NJ_TLS_S_HANDSHAKE_DONE,
	NJ_TLS_S_FINISHED,
};

/* Transaction flags. */
#define NJ_TLS_F_CLIENT_HELLO	  0x0001u
#define NJ_TLS_F_SERVER_HELLO	  0x0002u
#define NJ_TLS_F_SESSION_RESUMED  0x0004u /* same session id back, or a ticket offered */
#define NJ_TLS_F_LOG_WITHOUT_CERT 0x0008u /* TLS 1.3 or a draft chosen: no certificate visible */
#define NJ_TLS_F_CH_VERSIONS	  0x0010u /* the client sent supported_versions */
#define NJ_TLS_F_NEED_CLIENT_CERT 0x0020u /* CertificateRequest seen */
#define NJ_TLS_F_EARLY_DATA	  0x0040u
#define NJ_TLS_F_CCS		  0x0080u /* ChangeCipherSpec in either direction */
#define NJ_TLS_F_CCS_CLIENT	  0x0100u
#define NJ_TLS_F_CCS_SERVER	  0x0200u
#define NJ_TLS_F_SSL2_CLIENT_HS	  0x0400u
#define NJ_TLS_F_SSL2_SERVER_HS	  0x0800u
#define NJ_TLS_F_HB_INFLIGHT	  0x1000u
#define NJ_TLS_F_HB_CLIENT	  0x2000u
#define NJ_TLS_F_HB_SERVER	  0x4000u

struct tls_blk;

/* Index [0] is the client's (to server), [1] the server's (to client). */
struct nj_tls_tx {
	struct nj_al_tx al;
	uint32_t flags;
	uint16_t version[2]; /* Suricata's connp.version; [1] is the logged "version" */
	uint16_t chosen_cipher;
	char *sni; /* raw host name bytes (may hold anything), NULL if none */
	uint16_t sni_len;
	uint8_t session_id_len[2];
	uint8_t *session_id[2];
	uint8_t random[2][32];
	bool random_set[2];
	struct nj_tls_hello hello[2];
	struct nj_tls_cert cert[2];
	uint16_t ncerts[2]; /* certificates in the first Certificate message */
	uint8_t *chain[2];  /* certificate_list copy (detection, logging, tls-store) */
	uint32_t chain_len[2];
	uint64_t cert_ts[2]; /* time of the Certificate message (tls-store file names) */
	uint8_t stored;	     /* bit d: chain of direction d written by tls.store */
	char *ja3[2];	     /* JA3 string [0], JA3S [1]; NULL when not computed */
	uint32_t ja3_len[2];
	char ja3_hash[2][33];
	char ja4[37]; /* "" until the client hello was parsed */
	/* arena */
	struct tls_blk *blk;
	size_t mem;
	bool memcap_hit; /* a field was dropped: max-memory reached */
};

/*
 * What "version" logs and tls.version matches: the server's, or the client's
 * when the server said nothing (Suricata 8.0.3, issue 5713).
 */
static inline uint16_t nj_tls_tx_version(const struct nj_al_tx *tx)
{
	const struct nj_tls_tx *t = (const struct nj_tls_tx *)tx;

	return t->version[1] ? t->version[1] : t->version[0];
}

/* ------------------------------------------------------------------ configuration */

/* EVE fields (Suricata's custom names). */
#define NJ_TLS_LOG_VERSION	    (1u << 0)
#define NJ_TLS_LOG_SUBJECT	    (1u << 1)
#define NJ_TLS_LOG_ISSUER	    (1u << 2)
#define NJ_TLS_LOG_SERIAL	    (1u << 3)
#define NJ_TLS_LOG_FINGERPRINT	    (1u << 4)
#define NJ_TLS_LOG_NOTBEFORE	    (1u << 5)
#define NJ_TLS_LOG_NOTAFTER	    (1u << 6)
#define NJ_TLS_LOG_SNI		    (1u << 7)
#define NJ_TLS_LOG_CERTIFICATE	    (1u << 8)
#define NJ_TLS_LOG_CHAIN	    (1u << 9)
#define NJ_TLS_LOG_SESSION_RESUMED  (1u << 10)
#define NJ_TLS_LOG_JA3		    (1u << 11)
#define NJ_TLS_LOG_JA3S		    (1u << 12)
#define NJ_TLS_LOG_CLIENT	    (1u << 13)
#define NJ_TLS_LOG_CLIENT_CERT	    (1u << 14)
#define NJ_TLS_LOG_CLIENT_CHAIN	    (1u << 15)
#define NJ_TLS_LOG_JA4		    (1u << 16)
#define NJ_TLS_LOG_SUBJECTALTNAME   (1u << 17)
#define NJ_TLS_LOG_CLIENT_ALPNS	    (1u << 18)
#define NJ_TLS_LOG_SERVER_ALPNS	    (1u << 19)
#define NJ_TLS_LOG_CLIENT_HANDSHAKE (1u << 20)
#define NJ_TLS_LOG_SERVER_HANDSHAKE (1u << 21)

#define NJ_TLS_LOG_BASIC (NJ_TLS_LOG_SUBJECT | NJ_TLS_LOG_ISSUER | NJ_TLS_LOG_SUBJECTALTNAME)
#define NJ_TLS_LOG_EXTENDED                                                                       \
	(NJ_TLS_LOG_BASIC | NJ_TLS_LOG_VERSION | NJ_TLS_LOG_SERIAL | NJ_TLS_LOG_FINGERPRINT |     \
	 NJ_TLS_LOG_NOTBEFORE | NJ_TLS_LOG_NOTAFTER | NJ_TLS_LOG_JA3 | NJ_TLS_LOG_JA3S |          \
	 NJ_TLS_LOG_JA4 | NJ_TLS_LOG_CLIENT | NJ_TLS_LOG_CLIENT_ALPNS | NJ_TLS_LOG_SERVER_ALPNS | \
	 NJ_TLS_LOG_SNI)

#define NJ_TLS_JA3_AUTO (-1)

struct nj_tls_config {
	uint32_t fields;	 /* NJ_TLS_LOG_* */
	bool session_resumption; /* write resumed sessions that showed no certificate */
	int ja3;		 /* 1 yes, 0 no, NJ_TLS_JA3_AUTO */
	bool ja4;		 /* ja4-fingerprints not "no" */
	uint32_t max_msg;	 /* handshake message reassembly limit (bytes) */
	uint32_t max_mem;	 /* per-transaction arena limit (bytes) */
	uint16_t max_sans;	 /* subject alternative names kept per certificate */
	uint64_t cert_cache;	 /* certificate decode cache per worker thread (bytes), 0 off */
};

/* Extended fields (as "tls: extended: yes"), session resumption, JA3 and JA4 on. */
void nj_tls_config_defaults(struct nj_tls_config *c);
void nj_tls_config_set(const struct nj_tls_config *c);
const struct nj_tls_config *nj_tls_config_get(void);
/*
 * Reads one eve-log types entry for tls into c: eve is the eve-log map (NULL:
 * tls not listed). A plain "- tls" gives Suricata's basic fields without
 * session resumption, "extended: yes" the extended set, "custom: [...]" those
 * fields. Returns 0, or -1 after printing file:line: reason.
 */
int nj_tls_config_eve(const struct nj_conf *conf, const struct nj_conf_node *eve,
		      struct nj_tls_config *c);
/*
 * Rules that use ja3.* / ja3s.* call this once at start-up (before workers
 * run): with ja3-fingerprints: auto, JA3 is then computed.
 */
void nj_tls_ja3_request(void);
/* JA3 is computed with the current configuration. */
bool nj_tls_ja3_enabled(void);

/* The parser, its ops table (registered with NJ_APP_PARSER_REGISTER). */
extern struct nj_app_parser nj_tls_parser;

/* Parser statistics of one flow state (tests, benchmarks). */
struct nj_tls_counts {
	uint64_t records[2], app_records[2], app_bytes[2], alerts[2], handshakes[2];
	uint64_t memcap; /* handshake messages or certificate chains dropped for the limits */
};
const struct nj_tls_counts *nj_tls_state_counts(const void *st);

#endif
