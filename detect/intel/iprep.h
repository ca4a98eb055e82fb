/* SPDX-License-Identifier: MIT */
/* Suricata's IP reputation (iprep keyword, reputation-* configuration): see iprep.c. */
#ifndef NJ_INTEL_IPREP_H
#define NJ_INTEL_IPREP_H

#include <stdint.h>

struct nj_conf;

/* Loads categories and reputation files when configured; 0 or -1 after a message. */
int nj_iprep_configure(const struct nj_conf *conf);
void nj_iprep_free(void);
/* Score of addr in category cat, or -1. */
int nj_iprep_lookup(const uint8_t *addr, unsigned alen, uint8_t cat);

#endif
