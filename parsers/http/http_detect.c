/* SPDX-License-Identifier: MIT */
/*
 * app-layer-event:http.NAME on transactions: the anomalies the parser raised
 * while building a transaction are kept on it (nj_http_tx.evbits), so a rule
 * matches the transaction they belong to, as Suricata's per-transaction
 * decoder events. Names are the anomaly names, case-insensitive.
 */
#include <stdint.h>

#include "detect/detect_int.h"
#include "http.h"

static bool ev_match(const struct nj_app_parser *p, const struct nj_al_tx *tx, int dir,
		     const void *ctx)
{
	(void)p;
	(void)dir;
	/* ctx: the event's index + 1 */
	return (nj_http_tx_of(tx)->evbits >> ((uintptr_t)ctx - 1)) & 1;
}

static const void *ev_lookup(const char *name)
{
	int i = nj_http_event_index(name);

	if (i < 0 || i >= 64)
		return NULL;
	return (const void *)(uintptr_t)(i + 1);
}

static struct nj_detect_event_provider http_event_provider = {
	.proto = "http",
	.lookup = ev_lookup,
	.match = ev_match,
};
NJ_DETECT_EVENT_PROVIDER(http_event_provider)
