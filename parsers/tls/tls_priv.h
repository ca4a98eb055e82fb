/* SPDX-License-Identifier: MIT */
/* Internals shared by the TLS parser files (not for other folders). */
#ifndef NJ_TLS_PRIV_H
#define NJ_TLS_PRIV_H

#include <openssl/evp.h>

#include "tls.h"

/* Digests fetched once at start-up (tls_x509.c). */
#define NJ_TLS_MD_SHA1	 0
#define NJ_TLS_MD_MD5	 1
#define NJ_TLS_MD_SHA256 2
const EVP_MD *nj_tls_md(int which);

/*
 * nj_tls_x509_decode through the worker thread's certificate cache
 * (tls_x509_cache.c): the same result and fields, without decoding a
 * certificate seen before.
 */
enum nj_tls_x509_err nj_tls_x509_decode_cached(const uint8_t *der, uint32_t len,
					       struct nj_tls_cert *out, nj_tls_alloc_fn alloc,
					       void *arg, unsigned max_sans);
/* Certificates this thread took from the cache (tests). */
uint64_t nj_tls_x509_cache_hits(void);

/* The EVE writer (tls_log.c). */
void nj_tls_log_tx(struct nj_al_log *lg, const struct nj_flow *f, const struct nj_al_tx *tx);
/* Would log_tx write an event for this transaction with this configuration? */
bool nj_tls_tx_loggable(const struct nj_tls_tx *tx, const struct nj_tls_config *cfg);

/* tls_detect.c: detection buffers and keywords beyond tls_parser.c's */
extern const struct nj_al_multibuffer nj_tls_multi_buffers[];
bool nj_tls_buf_client_subject(const struct nj_al_tx *t, const uint8_t **d, uint32_t *n);
bool nj_tls_buf_client_issuer(const struct nj_al_tx *t, const uint8_t **d, uint32_t *n);
bool nj_tls_buf_client_serial(const struct nj_al_tx *t, const uint8_t **d, uint32_t *n);
bool nj_tls_buf_client_fingerprint(const struct nj_al_tx *t, const uint8_t **d, uint32_t *n);
bool nj_tls_buf_random_ts(const struct nj_al_tx *t, const uint8_t **d, uint32_t *n);
bool nj_tls_buf_random_tc(const struct nj_al_tx *t, const uint8_t **d, uint32_t *n);
bool nj_tls_buf_random_time_ts(const struct nj_al_tx *t, const uint8_t **d, uint32_t *n);
bool nj_tls_buf_random_time_tc(const struct nj_al_tx *t, const uint8_t **d, uint32_t *n);
bool nj_tls_buf_random_bytes_ts(const struct nj_al_tx *t, const uint8_t **d, uint32_t *n);
bool nj_tls_buf_random_bytes_tc(const struct nj_al_tx *t, const uint8_t **d, uint32_t *n);
/* tls_store.c: the tls-store output (outputs.*.tls-store); 0 or -1 */
int nj_tls_store_configure(const struct nj_conf *conf);
/* tls_log.c: the "tls" object of alerts on a transaction */
void nj_tls_alert_json(struct nj_json *j, const struct nj_al_tx *tx, int dir);

#endif
