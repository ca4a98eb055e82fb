/* SPDX-License-Identifier: MIT */
/*
 * Configuration: the `fuse:` section of a YAML file (config/fuse.yaml is the
 * documented example) read with Nightjar's config loader, so --set works the
 * same way as for nightjar itself.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "../../config/config.h"
#include "fuse.h"

static int parse_double(const char *v, double lo, double hi, double *out)
{
	char *end;
	double d = strtod(v, &end);

	if (end == v || *end || d < lo || d > hi)
		return -EINVAL;
	*out = d;
	return 0;
}

static int parse_uint(const char *v, unsigned lo, unsigned hi, unsigned *out)
{
	char *end;
	unsigned long x = strtoul(v, &end, 10);

	if (end == v || *end || x < lo || x > hi)
		return -EINVAL;
	*out = (unsigned)x;
	return 0;
}

static int parse_bool(const char *v, bool *out)
{
	if (!strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcmp(v, "1") ||
	    !strcasecmp(v, "on"))
		*out = true;
	else if (!strcasecmp(v, "no") || !strcasecmp(v, "false") || !strcmp(v, "0") ||
		 !strcasecmp(v, "off"))
		*out = false;
	else
		return -EINVAL;
	return 0;
}

static bool valid_ip(const char *s)
{
	uint8_t a[16];

	return inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1;
}

/* "a=b" into two bounded strings. */
static int split_pair(const char *v, char *a, size_t al, char *b, size_t bl)
{
	const char *eq = strchr(v, '=');

	if (!eq || eq == v || !eq[1] || (size_t)(eq - v) >= al || strlen(eq + 1) >= bl)
		return -EINVAL;
	memcpy(a, v, (size_t)(eq - v));
	a[eq - v] = '\0';
	snprintf(b, bl, "%s", eq + 1);
	return 0;
}

int nj_fuse_cfg_set(struct nj_fuse_cfg *cfg, const char *kv)
{
	char key[64];
	const char *v, *eq = strchr(kv, '=');

	if (!strncmp(kv, "fuse.", 5))
		kv += 5;
	eq = strchr(kv, '=');
	if (!eq || (size_t)(eq - kv) >= sizeof(key))
		return -EINVAL;
	memcpy(key, kv, (size_t)(eq - kv));
	key[eq - kv] = '\0';
	v = eq + 1;
	if (!strcmp(key, "window"))
		return parse_double(v, 0, 86400, &cfg->window);
	if (!strcmp(key, "window-learned"))
		return parse_double(v, 0, 86400, &cfg->window_learned);
	if (!strcmp(key, "retention"))
		return parse_double(v, 1, 30 * 86400, &cfg->retention);
	if (!strcmp(key, "net-retention"))
		return parse_double(v, 1, 30 * 86400, &cfg->net_retention);
	if (!strcmp(key, "proc-retention"))
		return parse_double(v, 1, 365 * 86400.0, &cfg->proc_retention);
	if (!strcmp(key, "dns-window"))
		return parse_double(v, 0, 3600, &cfg->dns_window);
	if (!strcmp(key, "file-window"))
		return parse_double(v, 0, 3600, &cfg->file_window);
	if (!strcmp(key, "nat-window"))
		return parse_double(v, 0, 3600, &cfg->nat_window);
	if (!strcmp(key, "lateness"))
		return parse_double(v, 0, 3600, &cfg->lateness);
	if (!strcmp(key, "max-endpoint"))
		return parse_uint(v, 1, 100000000, &cfg->max_ep);
	if (!strcmp(key, "max-network"))
		return parse_uint(v, 1, 100000000, &cfg->max_net);
	if (!strcmp(key, "max-process"))
		return parse_uint(v, 1, 100000000, &cfg->max_proc);
	if (!strcmp(key, "offset-min"))
		return parse_uint(v, 1, 16, &cfg->offset_min);
	if (!strcmp(key, "dns-name-fallback"))
		return parse_bool(v, &cfg->dns_name_fallback);
	if (!strcmp(key, "nat-keep-port"))
		return parse_bool(v, &cfg->nat_keep_port);
	if (!strcmp(key, "nat")) {
		unsigned i = cfg->n_nat;

		if (i >= sizeof(cfg->nat) / sizeof(cfg->nat[0]) ||
		    split_pair(v, cfg->nat[i].inside, sizeof(cfg->nat[i].inside),
			       cfg->nat[i].outside, sizeof(cfg->nat[i].outside)) ||
		    !valid_ip(cfg->nat[i].inside) || !valid_ip(cfg->nat[i].outside))
			return -EINVAL;
		cfg->n_nat++;
		return 0;
	}
	if (!strcmp(key, "host")) {
		unsigned i = cfg->n_hosts;

		if (i >= sizeof(cfg->hosts) / sizeof(cfg->hosts[0]) ||
		    split_pair(v, cfg->hosts[i].name, sizeof(cfg->hosts[i].name), cfg->hosts[i].ip,
			       sizeof(cfg->hosts[i].ip)) ||
		    !valid_ip(cfg->hosts[i].ip))
			return -EINVAL;
		cfg->n_hosts++;
		return 0;
	}
	return -EINVAL;
}

static int set2(struct nj_fuse_cfg *cfg, const char *k, const char *v)
{
	char buf[512];

	snprintf(buf, sizeof(buf), "%s=%s", k, v ? v : "");
	if (nj_fuse_cfg_set(cfg, buf)) {
		fprintf(stderr, "nightjar-fuse: bad setting fuse.%s\n", buf);
		return -EINVAL;
	}
	return 0;
}

int nj_fuse_cfg_load(struct nj_fuse_cfg *cfg, const char *path, const char *const *sets,
		     unsigned nsets)
{
	char err[512];
	struct nj_conf *c = nj_conf_load(path, sets, nsets, err, sizeof(err));
	const struct nj_conf_node *fz, *n, *m;
	int rc = 0;

	if (!c) {
		fprintf(stderr, "nightjar-fuse: config: %s\n", err);
		return -EINVAL;
	}
	fz = nj_conf_get(c, "fuse");
	for (n = fz && fz->kind == NJ_CONF_MAP ? fz->child : NULL; n && !rc; n = n->next) {
		if (n->kind == NJ_CONF_SCALAR) {
			rc = set2(cfg, n->key, n->value);
		} else if (!strcmp(n->key, "nat") && n->kind == NJ_CONF_SEQ) {
			for (m = n->child; m && !rc; m = m->next)
				rc = m->kind == NJ_CONF_SCALAR ? set2(cfg, "nat", m->value)
							       : -EINVAL;
		} else if (!strcmp(n->key, "hosts") && n->kind == NJ_CONF_MAP) {
			/* hosts: {NAME: [ip, ...]} or {NAME: ip} */
			for (m = n->child; m && !rc; m = m->next) {
				char kv[300];

				if (m->kind == NJ_CONF_SCALAR) {
					snprintf(kv, sizeof(kv), "%s=%s", m->key, m->value);
					rc = set2(cfg, "host", kv);
				} else {
					for (const struct nj_conf_node *ip = m->child; ip && !rc;
					     ip = ip->next) {
						snprintf(kv, sizeof(kv), "%s=%s", m->key,
							 ip->value ? ip->value : "");
						rc = set2(cfg, "host", kv);
					}
				}
			}
		} else {
			fprintf(stderr, "nightjar-fuse: config: fuse.%s: not understood\n", n->key);
			rc = -EINVAL;
		}
	}
	nj_conf_free(c);
	return rc;
}
