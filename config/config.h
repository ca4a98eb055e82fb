/* SPDX-License-Identifier: MIT */
/*
 * Configuration: one YAML file in the layout of suricata.yaml (vars,
 * outputs, flow, flow-timeouts, stream, defrag, ...) plus Nightjar's own keys
 * under `nightjar:`. `include:` is honoured, `--set a.b.c=value` overrides any
 * key (numeric parts index sequences: outputs.0.eve-log.enabled=yes).
 *
 * Known keys are registered by the modules that read them (NJ_CONF_KEY), with
 * type, default and a one-line description: docs/configuration.md lists them,
 * unknown keys get a warning, and a typed getter that cannot parse a value
 * reports file:line and the reason, and start-up stops.
 *
 * Loaded once at start-up; not used on the packet path.
 */
#ifndef NJ_CONFIG_H
#define NJ_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum nj_conf_kind { NJ_CONF_SCALAR = 0, NJ_CONF_MAP, NJ_CONF_SEQ };

struct nj_conf_node {
	enum nj_conf_kind kind;
	char *key;	  /* key in the parent map, NULL for sequence items */
	char *value;	  /* scalar text, NULL for maps and sequences */
	const char *file; /* where the value came from ("--set" for overrides) */
	int line;
	struct nj_conf_node *child, *next; /* first child, next sibling (in order) */
	struct nj_conf_node *parent;
};

struct nj_conf;

/*
 * Loads path (NULL: an empty configuration) then applies "key=value" overrides.
 * A key defined again in the same map replaces the earlier definition.
 * `include: file` (or a list of files) at any map level merges that file's
 * top-level map there, relative paths resolved against the including file's
 * directory; `key: !include file` makes the file's map the value. Includes
 * nest at most 8 deep, a file may be at most 16 MiB, aliases (*name) are
 * copies of the anchored node. On failure returns NULL with "file:line:col:
 * reason" in err.
 */
struct nj_conf *nj_conf_load(const char *path, const char *const *overrides, unsigned noverrides,
			     char *err, size_t errlen);
void nj_conf_free(struct nj_conf *c);
const struct nj_conf_node *nj_conf_root(const struct nj_conf *c);

/* Node at a dotted path ("outputs.0.eve-log.types"), or NULL. */
const struct nj_conf_node *nj_conf_get(const struct nj_conf *c, const char *path);
/* Same, relative to a node. */
const struct nj_conf_node *nj_conf_node_get(const struct nj_conf_node *n, const char *path);
/* Writes n's dotted path from the root ("outputs.0.eve-log"); -ENOSPC if cut short. */
int nj_conf_node_path(const struct nj_conf_node *n, char *buf, size_t len);

/*
 * Typed getters relative to a node (NULL = root). They return 0 and store the
 * value, 1 if the key is absent (*out keeps the default), or -1 after
 * printing "file:line: key: reason" if the value does not parse; the caller
 * then stops start-up.
 * Booleans accept yes/no/true/false/on/off/1/0. Sizes accept 64kb, 128mb, 1gb
 * (1024 multiples, as Suricata). Durations are seconds.
 */
int nj_conf_str(const struct nj_conf *c, const struct nj_conf_node *at, const char *path,
		const char **out);
int nj_conf_bool(const struct nj_conf *c, const struct nj_conf_node *at, const char *path,
		 bool *out);
int nj_conf_int(const struct nj_conf *c, const struct nj_conf_node *at, const char *path,
		int64_t min, int64_t max, int64_t *out);
int nj_conf_size(const struct nj_conf *c, const struct nj_conf_node *at, const char *path,
		 uint64_t *out);

/* Registry of documented keys (patterns may use '*' for one path part, e.g. outputs.*.eve-log.filename). */
enum nj_conf_type { NJ_CT_STR, NJ_CT_BOOL, NJ_CT_INT, NJ_CT_SIZE, NJ_CT_LIST, NJ_CT_MAP };

struct nj_conf_key {
	const char *path;
	enum nj_conf_type type;
	const char *dflt;
	const char *doc;
	struct nj_conf_key *next;
};

void nj_conf_register(struct nj_conf_key *k);
#define NJ_CONF_KEY(id, path_, type_, dflt_, doc_)                                      \
	static struct nj_conf_key nj_conf_key_##id = {path_, type_, dflt_, doc_, NULL}; \
	__attribute__((constructor)) static void nj_conf_key_reg_##id(void)             \
	{                                                                               \
		nj_conf_register(&nj_conf_key_##id);                                    \
	}

/*
 * Warns (once per path, with file:line) about every key in the loaded file that
 * no module registered and returns how many. A key is known if it matches a
 * registered pattern, is an ancestor of one, or lies below a registered
 * NJ_CT_MAP / NJ_CT_LIST key (which covers everything under it).
 */
unsigned nj_conf_warn_unknown(const struct nj_conf *c);
/* True if a key at dotted_path would be known in the sense above. */
bool nj_conf_is_known(const char *dotted_path);
/* Writes the registered keys as a Markdown table (tools use it to keep docs true). */
void nj_conf_dump_keys_md(FILE *out);

#endif
