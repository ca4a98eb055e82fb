/* SPDX-License-Identifier: MIT */
/*
 * app-layer-event on transactions: parsers that keep the anomalies of a
 * transaction (or can recompute them from it) register a provider for their
 * protocol; app-layer-event:proto.name then becomes a transaction check the
 * engine evaluates. Events without a provider keep the old behaviour (the
 * rule loads and never matches).
 */
#include <string.h>

#include "detect_int.h"

static struct nj_detect_event_provider *providers;

void nj_detect_event_provider_register(struct nj_detect_event_provider *p)
{
	for (struct nj_detect_event_provider *it = providers; it; it = it->next)
		if (it == p)
			return;
	p->next = providers;
	providers = p;
}

int nj_detect_event_txm(struct nj_detect_parse *ps, const char *event)
{
	const char *dot = strchr(event, '.');

	if (!dot)
		return 0;
	for (struct nj_detect_event_provider *p = providers; p; p = p->next) {
		const void *ctx;

		if (strlen(p->proto) != (size_t)(dot - event) ||
		    strncmp(p->proto, event, (size_t)(dot - event)) != 0)
			continue;
		ctx = p->lookup(dot + 1);
		if (!ctx)
			return 0;
		return nj_detect_add_txm(ps, p->match, ctx, p->proto) < 0 ? -1 : 1;
	}
	return 0;
}
