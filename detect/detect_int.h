/* SPDX-License-Identifier: MIT */
/*
 * Internals shared by the rule parser and the keyword implementations: the
 * state of one rule being parsed, the rule set's arena and string interning,
 * and small parsing helpers. Not used on the packet path.
 */
#ifndef NJ_DETECT_INT_H
#define NJ_DETECT_INT_H

#include <stdarg.h>

#include "common/nj_common.h"
#include "detect.h"

/* Limits of one rule (a rule past them fails with a reason). */
#define NJ_PS_MAX_EL	 256
#define NJ_PS_MAX_LISTS	 32
#define NJ_PS_MAX_PM	 32
#define NJ_PS_MAX_BITOPS 16
#define NJ_PS_MAX_REFS	 32
#define NJ_PS_MAX_META	 64

struct nj_detect_plist {
	uint16_t base;
	uint8_t ntf;
	struct nj_detect_tf tf[NJ_DETECT_MAX_TRANSFORM];
};

/* One element while the rule is parsed: its list can change (http_uri moves
 * the last content), ord keeps Suricata's "appended to the tail" order. */
struct nj_detect_pel {
	struct nj_detect_el el;
	uint16_t list;
	uint32_t ord;
};

struct nj_detect_parse {
	struct nj_detect_rules *r;
	struct nj_detect_sig *s;
	char *err;
	size_t errlen;
	bool unsupported; /* the failure is "unsupported", not an error */
	const char *kw;	  /* keyword being parsed (for messages) */
	bool negated;	  /* the value had a leading '!' before its quotes */
	unsigned nsmbver; /* smb.version keywords seen (one allowed) */

	struct nj_detect_plist lists[NJ_PS_MAX_LISTS];
	uint8_t list_absent[NJ_PS_MAX_LISTS]; /* NJ_ABSENT* of the list (absent keyword) */
	unsigned nlists;
	struct nj_detect_pel el[NJ_PS_MAX_EL];
	unsigned nel;
	uint32_t ord;

	int sticky;	  /* base buffer selected by a sticky keyword, -1 none */
	int sticky_list;  /* its list once the first element came, -1 before */
	uint8_t pend_ntf; /* transforms given after the sticky keyword */
	struct nj_detect_tf pend_tf[NJ_DETECT_MAX_TRANSFORM];
	int last_content; /* index in el[] of the last content, -1 none */
	int last_el;	  /* index of the last element */

	char *vars[NJ_DETECT_MAX_VARS];
	unsigned nvars;

	struct nj_detect_pmatch pm[NJ_PS_MAX_PM];
	unsigned npm;
	struct nj_detect_txmatch txm[NJ_PS_MAX_PM];
	unsigned ntxm;
	struct nj_detect_bitop bitops[NJ_PS_MAX_BITOPS], xbitops[NJ_PS_MAX_BITOPS];
	unsigned nbitops, nxbitops;
	struct nj_detect_intop_s intops[NJ_PS_MAX_BITOPS];
	unsigned nintops;
	struct nj_detect_ref refs[NJ_PS_MAX_REFS];
	unsigned nrefs;
	struct nj_detect_meta meta[NJ_PS_MAX_META];
	unsigned nmeta;
	struct nj_detect_deferred deferred[NJ_PS_MAX_BITOPS];
	unsigned ndeferred;
	bool has_flow, has_threshold;

	bool has_sid, has_rev, has_gid, has_classtype, has_priority, has_msg;
	bool has_dsize, has_fp, app_set_by_header;
	struct nj_detect_u64 dsize;
	const char *pkt_proto; /* tcp-pkt / tcp-stream restrictions */
};

/* Error / unsupported: write the reason, return -1. */
int nj_detect_fail(struct nj_detect_parse *ps, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int nj_detect_unsupported(struct nj_detect_parse *ps, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Rule-set arena (zeroed memory freed with the set) and interned strings. */
void *nj_detect_alloc(struct nj_detect_rules *r, size_t n);
char *nj_detect_strdup(struct nj_detect_rules *r, const char *s);
void *nj_detect_memdup(struct nj_detect_rules *r, const void *p, size_t n);
const char *nj_detect_intern(struct nj_detect_rules *r, const char *s);
/* Resources that need their own free (pcre2 codes, shift tables). */
int nj_detect_track(struct nj_detect_rules *r, void *p, void (*fn)(void *));
uint16_t nj_detect_bitname(struct nj_detect_rules *r, const char *name);
uint16_t nj_detect_intname(struct nj_detect_rules *r, const char *name);
const struct nj_detect_class *nj_detect_class_find(const struct nj_detect_rules *r,
						   const char *name, uint16_t *idx);
/* Without a classification file any classtype is accepted (added, priority 3). */
int nj_detect_class_lenient(struct nj_detect_rules *r, const char *name, uint16_t *idx);
const char *nj_detect_refsys_url(const struct nj_detect_rules *r, const char *name);

/* Adds an element to the current list (the sticky buffer, else the payload). */
int nj_detect_add_el(struct nj_detect_parse *ps, uint8_t type, void *ptr);
/* The list of the current sticky buffer (created if needed); -1 on error. */
int nj_detect_sticky_list(struct nj_detect_parse *ps);
/* Adds an element to a given base buffer's list (pcre /U, legacy modifiers). */
int nj_detect_add_el_to(struct nj_detect_parse *ps, int base, uint8_t type, void *ptr);
/* The content modifiers apply to: the last content of the rule, else error. */
struct nj_detect_content *nj_detect_last_content(struct nj_detect_parse *ps);
/* Previous content/pcre in the same list as element idx, -1 none. */
int nj_detect_prev_match(const struct nj_detect_parse *ps, int idx);
/* Base buffer of the list element idx is in. */
int nj_detect_el_base(const struct nj_detect_parse *ps, int idx);
/* Current list's base buffer: sticky or payload. */
int nj_detect_cur_base(const struct nj_detect_parse *ps);
/* Selects a sticky buffer (also implies its app protocol). */
int nj_detect_set_sticky(struct nj_detect_parse *ps, int base);
/* Legacy modifier: moves the last content to the base buffer's list. */
int nj_detect_move_last_content(struct nj_detect_parse *ps, int base);
/* Sets the app protocol implied by a keyword; conflicts fail. */
int nj_detect_set_app_proto(struct nj_detect_parse *ps, const char *proto);
int nj_detect_add_pm(struct nj_detect_parse *ps, bool (*fn)(const struct nj_pkt *, const void *),
		     const void *ctx);
/* A transaction-level check (parser keywords); app_proto is implied (may be NULL). */
int nj_detect_add_txm(struct nj_detect_parse *ps,
		      bool (*fn)(const struct nj_app_parser *, const struct nj_al_tx *, int,
				 const void *),
		      const void *ctx, const char *app_proto);
/* The same for a check that applies to either direction (nj_detect_txmatch.each_dir). */
int nj_detect_add_txm_eachdir(struct nj_detect_parse *ps,
			      bool (*fn)(const struct nj_app_parser *, const struct nj_al_tx *, int,
					 const void *),
			      const void *ctx, const char *app_proto);

/*
 * app-layer-event providers (kw_txevent.c): lookup() resolves an event name of
 * the protocol to the ctx of match(), NULL if the parser does not know it.
 */
struct nj_detect_event_provider {
	const char *proto;
	const void *(*lookup)(const char *name);
	bool (*match)(const struct nj_app_parser *p, const struct nj_al_tx *tx, int dir,
		      const void *ctx);
	struct nj_detect_event_provider *next;
};
void nj_detect_event_provider_register(struct nj_detect_event_provider *p);
#define NJ_DETECT_EVENT_PROVIDER(p)                                          \
	__attribute__((constructor)) static void nj_detect_evp_reg_##p(void) \
	{                                                                    \
		nj_detect_event_provider_register(&(p));                     \
	}
/* "proto.name" as a transaction check: 1 added, 0 no provider knows it, -1 error. */
int nj_detect_event_txm(struct nj_detect_parse *ps, const char *event);

/* byte_extract / byte_math variables: index, -1 unknown / full. */
int nj_detect_var_find(const struct nj_detect_parse *ps, const char *name);
int nj_detect_var_add(struct nj_detect_parse *ps, const char *name);

/* Parsing helpers. */
char *nj_detect_trim(char *s);
/* Splits s at unescaped commas into at most max trimmed parts; returns the count. */
unsigned nj_detect_split(char *s, char sep, char **parts, unsigned max);
/* Integer in [min, max] (decimal, 0x hex); 0 or -1. */
int nj_detect_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);
/* Removes \" \; \\ \: escapes in place. */
void nj_detect_unescape(char *s);
/* Name starts like a variable (byte_extract name), not a number. */
static inline bool nj_detect_is_varname(const char *s)
{
	return s[0] && s[0] != '-' &&
	       ((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_');
}

/* addr.c: sets parsed with variables from the rule set. */
const struct nj_detect_addrs *nj_detect_addrs_get(struct nj_detect_rules *r, const char *text,
						  char *err, size_t errlen);
const struct nj_detect_ports *nj_detect_ports_get(struct nj_detect_rules *r, const char *text,
						  char *err, size_t errlen);
int nj_detect_vars_load(struct nj_detect_rules *r, const struct nj_conf *conf, char *err,
			size_t errlen);

/* threshold_conf.c: applies a threshold.config to the loaded signatures.
 * 0 done, 1 the file cannot be opened, -1 a line does not parse (err). */
int nj_detect_threshold_file(struct nj_detect_rules *r, const char *path, char *err, size_t errlen);

/* kw_content.c */
int nj_detect_content_prepare(struct nj_detect_rules *r, struct nj_detect_content *c);
/* Adds to the current list, or for a relative keyword without sticky buffer
 * to the list of the previous match (Suricata's rule for http_* modifiers). */
int nj_detect_add_el_rel(struct nj_detect_parse *ps, bool relative, uint8_t type, void *ptr);

/* tf_domain.c: the Public Suffix List (0, or -1 when unavailable) and the transforms. */
int nj_detect_psl_load(void);

/* Finishing a signature: checks, lists, fast pattern (parse.c). */
int nj_detect_sig_finish(struct nj_detect_parse *ps);

/* Loader internals kept in rules->priv. */
struct nj_detect_priv;
struct nj_detect_priv *nj_detect_priv(const struct nj_detect_rules *r);

#endif
