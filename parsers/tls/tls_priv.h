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

/* The EVE writer (tls_log.c). */
void nj_tls_log_tx(struct nj_al_log *lg, const struct nj_flow *f, const struct nj_al_tx *tx);
/* Would log_tx write an event for this transaction with this configuration? */
bool nj_tls_tx_loggable(const struct nj_tls_tx *tx, const struct nj_tls_config *cfg);

#endif
