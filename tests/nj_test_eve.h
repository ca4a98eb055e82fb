/* SPDX-License-Identifier: MIT */
/*
 * The unit tests' EVE output: one offline, uncompressed sink writing the event
 * types in `types` (1u << enum nj_eve_type; ~0u: all) to path, which the test
 * reads back after nj_eve_close.
 */
#ifndef NJ_TEST_EVE_H
#define NJ_TEST_EVE_H

#include <stdio.h>

#include "export/eve.h"

static inline struct nj_eve *nj_test_eve_open(const char *path, uint32_t types)
{
	struct nj_eve_config ec;
	struct nj_eve *eve;
	char err[256];

	nj_eve_config_defaults(&ec);
	ec.nsinks = 1;
	snprintf(ec.sinks[0].path, sizeof(ec.sinks[0].path), "%s", path);
	ec.sinks[0].types = types;
	ec.sinks[0].zstd = false;
	ec.offline = true;
	eve = nj_eve_open(&ec, 1, err, sizeof(err));
	if (!eve)
		fprintf(stderr, "eve: %s\n", err);
	return eve;
}

#endif
