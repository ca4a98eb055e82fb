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

#endif
