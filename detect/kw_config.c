/* SPDX-License-Identifier: MIT */
/*
 * config:logging disable, type tx, scope tx (conditional logging): a config
 * rule that matches a transaction keeps the transaction out of the
 * protocol's EVE log. Other subjects, types and scopes are parsed and have
 * no effect (as before).
 */
#include <string.h>

#include "detect_int.h"
#include "parsers/applayer.h"

/* Marks every direction of tx as logged: the framework then writes nothing for it. */
static bool nolog_tx(const struct nj_app_parser *p, const struct nj_al_tx *tx, int dir,
		     const void *ctx)
{
	struct nj_al_tx *t = (struct nj_al_tx *)(uintptr_t)tx; /* the logged marks only */

	(void)p;
	(void)dir;
	(void)ctx;
	t->logged |= 0x83u;
	return true;
}

static int kw_config(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *v)
{
	char *parts[3], subj[32] = "", type[32] = "", scope[32] = "";
	unsigned n = nj_detect_split(v, ',', parts, 3);

	(void)kw;
	for (unsigned i = 0; i < n; i++) {
		char *sp = strchr(parts[i], ' ');
		const char *val = sp ? nj_detect_trim(sp + 1) : "";

		if (sp)
			*sp = '\0';
		if (strcmp(parts[i], "logging") == 0)
			snprintf(subj, sizeof(subj), "%s", val);
		else if (strcmp(parts[i], "type") == 0)
			snprintf(type, sizeof(type), "%s", val);
		else if (strcmp(parts[i], "scope") == 0)
			snprintf(scope, sizeof(scope), "%s", val);
	}
	if (ps->s->action != NJ_ACT_CONFIG || strcmp(subj, "disable") != 0 ||
	    strcmp(type, "tx") != 0 || strcmp(scope, "tx") != 0)
		return 0;
	return nj_detect_add_txm(ps, nolog_tx, NULL, NULL);
}
NJ_DETECT_KEYWORD(config, .name = "config", .flags = NJ_KWF_VALUE, .parse = kw_config,
		  .doc = "config rules: logging disable, type tx, scope tx keeps the transaction "
			 "out of the log; other forms have no effect")
