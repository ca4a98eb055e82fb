/* SPDX-License-Identifier: MIT */
/*
 * Datasets (see dataset.h): the process-wide registry, the file formats, the
 * `datasets:` configuration, the dataset keyword and the ip.src / ip.dst
 * sticky buffers it is used with.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "dataset.h"
#include "detect/detect_int.h"
#include "detect/rules_priv.h"
#include "dset.h"
#include "iprep.h"

NJ_CONF_KEY(ds_sec, "datasets", NJ_CT_MAP, "",
	    "Suricata datasets: named sets (name: {type, load, save, state, memcap, "
	    "hashsize}), defaults and rules options.")
NJ_CONF_KEY(ds_memcap, "datasets.defaults.memcap", NJ_CT_SIZE, "16mb",
	    "Memory of one dataset (slots and values) when neither rule nor set gives one.")
NJ_CONF_KEY(ds_hashsize, "datasets.defaults.hashsize", NJ_CT_INT, "4096",
	    "Entries a dataset is sized for at least when neither rule nor set gives one.")
NJ_CONF_KEY(ds_write, "datasets.rules.allow-write", NJ_CT_BOOL, "yes",
	    "Rules may name save / state files (no: such rules fail to load).")
NJ_CONF_KEY(ds_abs, "datasets.rules.allow-absolute-filenames", NJ_CT_BOOL, "no",
	    "Rules may name absolute save / state paths.")

static struct nj_dataset *sets;
static char *data_dir;
static uint64_t dflt_memcap = 16ull << 20;
static uint32_t dflt_hashsize = 4096;
static bool allow_write = true, allow_abs;
static const struct nj_conf *cur_conf;

void nj_datasets_set_data_dir(const char *dir)
{
	free(data_dir);
	data_dir = dir ? strdup(dir) : NULL;
}

enum nj_dataset_type nj_dataset_type_parse(const char *s)
{
	if (strcmp(s, "string") == 0)
		return NJ_DS_STRING;
	if (strcmp(s, "md5") == 0)
		return NJ_DS_MD5;
	if (strcmp(s, "sha256") == 0)
		return NJ_DS_SHA256;
	if (strcmp(s, "ipv4") == 0)
		return NJ_DS_IPV4;
	if (strcmp(s, "ip") == 0 || strcmp(s, "ipv6") == 0)
		return NJ_DS_IP;
	return NJ_DS_NOTSET;
}

/* ------------------------------------------------------------ values */

static int b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

static int b64_decode(const char *in, size_t n, uint8_t *out, size_t cap)
{
	uint32_t acc = 0;
	int bits = 0;
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		int v;

		if (in[i] == '=')
			break;
		if ((v = b64val((unsigned char)in[i])) < 0)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= cap)
				return -1;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	return (int)o;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int hex_decode(const char *in, size_t n, uint8_t *out, size_t want)
{
	if (n != want * 2)
		return -1;
	for (size_t i = 0; i < want; i++) {
		int a = hexval((unsigned char)in[2 * i]), b = hexval((unsigned char)in[2 * i + 1]);

		if (a < 0 || b < 0)
			return -1;
		out[i] = (uint8_t)(a << 4 | b);
	}
	return (int)want;
}

int nj_dataset_parse_value(enum nj_dataset_type type, const char *line, uint8_t *out, size_t outcap)
{
	char buf[128];
	size_t n = strcspn(line, ",\r\n");

	switch (type) {
	case NJ_DS_STRING: return b64_decode(line, n, out, outcap);
	case NJ_DS_MD5: return outcap >= 16 ? hex_decode(line, n, out, 16) : -1;
	case NJ_DS_SHA256: return outcap >= 32 ? hex_decode(line, n, out, 32) : -1;
	case NJ_DS_IPV4:
	case NJ_DS_IP:
		if (n >= sizeof(buf) || outcap < 16)
			return -1;
		memcpy(buf, line, n);
		buf[n] = '\0';
		if (type == NJ_DS_IPV4)
			return inet_pton(AF_INET, buf, out) == 1 ? 4 : -1;
		memset(out, 0, 16);
		if (strchr(buf, ':')) {
			static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0,    0,
							     0, 0, 0, 0, 0xff, 0xff};

			if (inet_pton(AF_INET6, buf, out) != 1)
				return -1;
			/* ::ffff:a.b.c.d is kept as Suricata does: IPv4 in the first 4 bytes */
			if (memcmp(out, v4mapped, 12) == 0) {
				memmove(out, out + 12, 4);
				memset(out + 4, 0, 12);
			}
			return 16;
		}
		return inet_pton(AF_INET, buf, out) == 1 ? 16 : -1;
	default: return -1;
	}
}

/* ------------------------------------------------------------ load and save */

static int load_file(struct nj_dataset *ds, const char *path, bool must_exist, char *err,
		     size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	uint8_t *val;
	int ret = 0;

	if (!f) {
		if (!must_exist && errno == ENOENT)
			return 0;
		snprintf(err, errlen, "dataset %s: cannot open %s: %s", ds->name, path,
			 strerror(errno));
		return -1;
	}
	val = malloc(1u << 20);
	if (!val) {
		fclose(f);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	while ((n = getline(&line, &cap, f)) > 0) {
		int len;

		if (line[0] == '\n' || line[0] == '#')
			continue;
		len = nj_dataset_parse_value(ds->type, line, val, 1u << 20);
		if (len < 0) {
			ds->bad_lines++;
			continue;
		}
		if (nj_dset_add(ds->set, val, (uint32_t)len) < 0) {
			snprintf(err, errlen, "dataset %s: %s: memcap reached after %u entries",
				 ds->name, path, ds->loaded);
			ret = -1;
			break;
		}
		ds->loaded++;
	}
	free(line);
	free(val);
	fclose(f);
	return ret;
}

static uint32_t count_lines(const char *path)
{
	FILE *f = path ? fopen(path, "r") : NULL;
	uint32_t n = 0;
	int c;

	if (!f)
		return 0;
	while ((c = getc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

struct save_ctx {
	FILE *f;
	enum nj_dataset_type type;
};

static int save_one(void *arg, const uint8_t *d, uint32_t len)
{
	static const char tbl[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	struct save_ctx *sc = arg;
	char ip[64];

	switch (sc->type) {
	case NJ_DS_STRING:
		for (uint32_t i = 0; i < len; i += 3) {
			uint32_t v = (uint32_t)d[i] << 16;

			if (i + 1 < len)
				v |= (uint32_t)d[i + 1] << 8;
			if (i + 2 < len)
				v |= d[i + 2];
			fputc(tbl[v >> 18 & 63], sc->f);
			fputc(tbl[v >> 12 & 63], sc->f);
			fputc(i + 1 < len ? tbl[v >> 6 & 63] : '=', sc->f);
			fputc(i + 2 < len ? tbl[v & 63] : '=', sc->f);
		}
		break;
	case NJ_DS_MD5:
	case NJ_DS_SHA256:
		for (uint32_t i = 0; i < len; i++)
			fprintf(sc->f, "%02x", d[i]);
		break;
	case NJ_DS_IPV4:
		inet_ntop(AF_INET, d, ip, sizeof(ip));
		fputs(ip, sc->f);
		break;
	case NJ_DS_IP: {
		bool v4 = true;

		for (unsigned i = 4; i < 16; i++)
			v4 &= d[i] == 0;
		if (v4) {
			inet_ntop(AF_INET, d, ip, sizeof(ip));
			fputs(ip, sc->f);
			break;
		}
		/* Suricata writes every group in full */
		for (unsigned i = 0; i < 16; i += 2)
			fprintf(sc->f, "%s%02x%02x", i ? ":" : "", d[i], d[i + 1]);
		break;
	}
	default: break;
	}
	fputc('\n', sc->f);
	return 0;
}

static int save_set(const struct nj_dataset *ds)
{
	char tmp[PATH_MAX];
	struct save_ctx sc = {.type = ds->type};

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", ds->save) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	sc.f = fopen(tmp, "w");
	if (!sc.f) {
		NJ_WARN("dataset %s: cannot write %s: %s", ds->name, tmp, strerror(errno));
		return -errno;
	}
	nj_dset_foreach(ds->set, save_one, &sc);
	if (fclose(sc.f) != 0 || rename(tmp, ds->save) != 0) {
		NJ_WARN("dataset %s: cannot write %s: %s", ds->name, ds->save, strerror(errno));
		return -EIO;
	}
	return 0;
}

int nj_datasets_save_all(void)
{
	int n = 0;

	for (struct nj_dataset *ds = sets; ds; ds = ds->next)
		if (ds->save && save_set(ds) == 0)
			n++;
	return n;
}

void nj_datasets_free_all(void)
{
	nj_iprep_free();
	while (sets) {
		struct nj_dataset *ds = sets;

		sets = ds->next;
		nj_dset_free(ds->set);
		free(ds->load);
		free(ds->save);
		free(ds);
	}
}

/* ------------------------------------------------------------ registry */

struct nj_dataset *nj_dataset_get(const char *name, enum nj_dataset_type type, const char *load,
				  const char *save, uint64_t memcap, uint32_t hashsize, char *err,
				  size_t errlen)
{
	struct nj_dataset *ds;
	uint32_t want;

	for (ds = sets; ds; ds = ds->next) {
		if (strcmp(ds->name, name) != 0)
			continue;
		if (type != NJ_DS_NOTSET && type != ds->type) {
			snprintf(err, errlen, "dataset %s already defined with another type", name);
			return NULL;
		}
		return ds;
	}
	if (type == NJ_DS_NOTSET) {
		snprintf(err, errlen, "dataset %s: type missing and no such set defined", name);
		return NULL;
	}
	if (strlen(name) >= sizeof(ds->name)) {
		snprintf(err, errlen, "dataset name too long");
		return NULL;
	}
	ds = calloc(1, sizeof(*ds));
	if (!ds)
		goto out_nomem;
	snprintf(ds->name, sizeof(ds->name), "%s", name);
	ds->type = type;
	ds->memcap = memcap ? memcap : dflt_memcap;
	ds->hashsize = hashsize ? hashsize : dflt_hashsize;
	if ((load && !(ds->load = strdup(load))) || (save && !(ds->save = strdup(save))))
		goto out_free;
	want = count_lines(load);
	if (want < ds->hashsize)
		want = ds->hashsize;
	ds->set = nj_dset_new(want, ds->memcap);
	if (!ds->set)
		goto out_free;
	/* a state file may not exist yet; a load file must */
	if (load && load_file(ds, load, !(save && strcmp(load, save) == 0), err, errlen) < 0) {
		nj_dset_free(ds->set);
		free(ds->load);
		free(ds->save);
		free(ds);
		return NULL;
	}
	if (ds->bad_lines)
		NJ_WARN("dataset %s: %u malformed line(s) of %s skipped", name, ds->bad_lines,
			load);
	ds->next = sets;
	sets = ds;
	return ds;
out_free:
	nj_dset_free(ds->set);
	free(ds->load);
	free(ds->save);
	free(ds);
out_nomem:
	snprintf(err, errlen, "dataset %s: out of memory (memcap too large?)", name);
	return NULL;
}

static int save_path(const char *f, char *out, size_t cap, char *err, size_t errlen)
{
	if (f[0] == '/') {
		if (!allow_abs) {
			snprintf(err, errlen,
				 "absolute filename %s not allowed "
				 "(datasets.rules.allow-absolute-filenames)",
				 f);
			return -1;
		}
		snprintf(out, cap, "%s", f);
		return 0;
	}
	if (strstr(f, "..")) {
		snprintf(err, errlen, "dataset filename %s may not contain '..'", f);
		return -1;
	}
	if (snprintf(out, cap, "%s/%s", data_dir ? data_dir : ".", f) >= (int)cap) {
		snprintf(err, errlen, "path too long");
		return -1;
	}
	return 0;
}

/* Suricata's order: beside the rule file, else under default-rule-path, else as given. */
static void load_path(const char *rule_file, const char *f, char *out, size_t cap)
{
	const char *dir = NULL;

	if (f[0] == '/') {
		snprintf(out, cap, "%s", f);
		return;
	}
	if (rule_file) {
		const char *slash = strrchr(rule_file, '/');

		if (slash) {
			snprintf(out, cap, "%.*s/%s", (int)(slash - rule_file), rule_file, f);
			if (access(out, R_OK) == 0)
				return;
		}
	}
	if (cur_conf && nj_conf_str(cur_conf, NULL, "default-rule-path", &dir) == 0 && dir) {
		snprintf(out, cap, "%s/%s", dir, f);
		if (access(out, R_OK) == 0)
			return;
	}
	snprintf(out, cap, "%s", f);
}

int nj_datasets_configure(const struct nj_conf *conf)
{
	const struct nj_conf_node *sec = nj_conf_get(conf, "datasets");
	uint64_t sz;
	int64_t v;

	cur_conf = conf;
	/* IP reputation shares this start-up step (no hook of its own in main) */
	if (nj_iprep_configure(conf) < 0)
		return -1;
	if (!sec)
		return 0;
	if (nj_conf_size(conf, sec, "defaults.memcap", &sz) < 0 ||
	    nj_conf_int(conf, sec, "defaults.hashsize", 1, 1 << 28, &v) == -1 ||
	    nj_conf_bool(conf, sec, "rules.allow-write", &allow_write) < 0 ||
	    nj_conf_bool(conf, sec, "rules.allow-absolute-filenames", &allow_abs) < 0)
		return -1;
	if (nj_conf_size(conf, sec, "defaults.memcap", &sz) == 0 && sz)
		dflt_memcap = sz;
	if (nj_conf_int(conf, sec, "defaults.hashsize", 1, 1 << 28, &v) == 0)
		dflt_hashsize = (uint32_t)v;
	for (const struct nj_conf_node *n = sec->child; n; n = n->next) {
		const char *type = NULL, *load = NULL, *save = NULL, *state = NULL;
		char lp[PATH_MAX], sp[PATH_MAX], err[256];
		uint64_t memcap = 0;
		int64_t hs = 0;

		if (!n->key || strcmp(n->key, "defaults") == 0 || strcmp(n->key, "rules") == 0 ||
		    strcmp(n->key, "limits") == 0 || n->kind != NJ_CONF_MAP)
			continue;
		nj_conf_str(conf, n, "type", &type);
		nj_conf_str(conf, n, "load", &load);
		nj_conf_str(conf, n, "save", &save);
		nj_conf_str(conf, n, "state", &state);
		if (nj_conf_size(conf, n, "memcap", &memcap) < 0 ||
		    nj_conf_int(conf, n, "hashsize", 1, 1 << 28, &hs) == -1)
			return -1;
		if (!type || nj_dataset_type_parse(type) == NJ_DS_NOTSET) {
			NJ_ERR("datasets.%s: type missing or unknown", n->key);
			return -1;
		}
		if (state)
			load = save = state;
		if (save && save_path(save, sp, sizeof(sp), err, sizeof(err)) < 0) {
			NJ_ERR("datasets.%s: %s", n->key, err);
			return -1;
		}
		if (load && !state)
			load_path(NULL, load, lp, sizeof(lp));
		if (!nj_dataset_get(n->key, nj_dataset_type_parse(type),
				    state ? sp : (load ? lp : NULL), save ? sp : NULL, memcap,
				    (uint32_t)hs, err, sizeof(err))) {
			NJ_ERR("datasets.%s: %s", n->key, err);
			return -1;
		}
	}
	return 0;
}

/* ------------------------------------------------------------ keyword */

enum { DS_ISSET = 1, DS_ISNOTSET, DS_SET, DS_UNSET };

struct ds_match {
	struct nj_detect_ext ext;
	struct nj_dataset *ds;
	uint8_t cmd;
};

/* Normalises the buffer to the set's key; NULL if it cannot be of that type. */
static inline const uint8_t *ds_key(const struct nj_dataset *ds, const uint8_t *buf, uint32_t *len,
				    uint8_t tmp[16])
{
	switch (ds->type) {
	case NJ_DS_STRING: return buf;
	case NJ_DS_MD5: return *len == 16 ? buf : NULL;
	case NJ_DS_SHA256: return *len == 32 ? buf : NULL;
	case NJ_DS_IPV4: return *len == 4 ? buf : NULL;
	case NJ_DS_IP:
		if (*len == 16)
			return buf;
		if (*len != 4)
			return NULL;
		memset(tmp, 0, 16);
		memcpy(tmp, buf, 4);
		*len = 16;
		return tmp;
	default: return NULL;
	}
}

static bool ds_match(const void *ctx, const uint8_t *buf, uint32_t len)
{
	const struct ds_match *m = ctx;
	uint8_t tmp[16];
	const uint8_t *k = ds_key(m->ds, buf, &len, tmp);

	if (!k)
		return false;
	switch (m->cmd) {
	case DS_ISSET: return nj_dset_has(m->ds->set, k, len);
	case DS_ISNOTSET: return !nj_dset_has(m->ds->set, k, len);
	case DS_SET: return nj_dset_add(m->ds->set, k, len) == 1; /* first sighting only */
	case DS_UNSET: return nj_dset_remove(m->ds->set, k, len) == 1;
	}
	return false;
}

static int kw_dataset(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *v)
{
	char *parts[12], err[256], lp[PATH_MAX], sp[PATH_MAX];
	unsigned n = nj_detect_split(v, ',', parts, 12);
	enum nj_dataset_type type = NJ_DS_NOTSET;
	const char *load = NULL, *save = NULL, *state = NULL;
	uint64_t memcap = 0;
	int64_t hashsize = 0;
	struct ds_match *m;
	struct nj_dataset *ds;
	uint8_t cmd;

	(void)kw;
	if (ps->sticky < 0)
		return nj_detect_fail(ps, "dataset must follow a sticky buffer");
	if (n < 2)
		return nj_detect_fail(ps, "dataset needs a command and a name");
	if (strcmp(parts[0], "isset") == 0)
		cmd = DS_ISSET;
	else if (strcmp(parts[0], "isnotset") == 0)
		cmd = DS_ISNOTSET;
	else if (strcmp(parts[0], "set") == 0)
		cmd = DS_SET;
	else if (strcmp(parts[0], "unset") == 0)
		cmd = DS_UNSET;
	else
		return nj_detect_fail(ps, "unknown dataset command '%s'", parts[0]);
	for (unsigned i = 2; i < n; i++) {
		char *key = parts[i], *val = strpbrk(key, " \t");

		if (!val)
			return nj_detect_fail(ps, "dataset option '%s' has no value", key);
		*val++ = '\0';
		val = nj_detect_trim(val);
		if (strcmp(key, "type") == 0) {
			if ((type = nj_dataset_type_parse(val)) == NJ_DS_NOTSET)
				return nj_detect_fail(ps, "unknown dataset type '%s'", val);
		} else if (strcmp(key, "load") == 0) {
			load = val;
		} else if (strcmp(key, "save") == 0) {
			save = val;
		} else if (strcmp(key, "state") == 0) {
			state = val;
		} else if (strcmp(key, "memcap") == 0) {
			char *end;
			double d = strtod(val, &end);
			uint64_t mul = 1;

			if (strncasecmp(end, "kb", 2) == 0)
				mul = 1ull << 10;
			else if (strncasecmp(end, "mb", 2) == 0)
				mul = 1ull << 20;
			else if (strncasecmp(end, "gb", 2) == 0)
				mul = 1ull << 30;
			if (d <= 0)
				return nj_detect_fail(ps, "bad dataset memcap '%s'", val);
			memcap = (uint64_t)(d * (double)mul);
		} else if (strcmp(key, "hashsize") == 0) {
			if (nj_detect_parse_i64(val, 1, 1 << 28, &hashsize) < 0)
				return nj_detect_fail(ps, "bad dataset hashsize '%s'", val);
		} else if (strcmp(key, "format") == 0) {
			if (strcmp(val, "csv") != 0)
				return nj_detect_unsupported(ps, "dataset format %s", val);
		} else {
			return nj_detect_unsupported(ps, "dataset option %s", key);
		}
	}
	if (state && (load || save))
		return nj_detect_fail(ps, "dataset: state cannot be combined with load or save");
	if ((save || state) && !allow_write)
		return nj_detect_fail(ps, "dataset: save / state not allowed by "
					  "datasets.rules.allow-write");
	if ((save || state) && save_path(save ? save : state, sp, sizeof(sp), err, sizeof(err)) < 0)
		return nj_detect_fail(ps, "%s", err);
	if (load)
		load_path(nj_detect_priv(ps->r)->cur_file, load, lp, sizeof(lp));
	ds = nj_dataset_get(parts[1], type, state ? sp : (load ? lp : NULL),
			    (save || state) ? sp : NULL, memcap, (uint32_t)hashsize, err,
			    sizeof(err));
	if (!ds)
		return nj_detect_fail(ps, "%s", err);
	m = nj_detect_alloc(ps->r, sizeof(*m));
	if (!m)
		return nj_detect_fail(ps, "out of memory");
	m->ds = ds;
	m->cmd = cmd;
	m->ext.match = ds_match;
	m->ext.ctx = m;
	return nj_detect_add_el(ps, NJ_EL_EXT, &m->ext) < 0 ? -1 : 0;
}
NJ_DETECT_KEYWORD(dataset, .name = "dataset", .flags = NJ_KWF_VALUE, .parse = kw_dataset,
		  .doc = "isset|isnotset|set|unset,name[,type T][,load F][,save F][,state F]: "
			 "set membership of the sticky buffer")

/* ------------------------------------------------------------ ip.src / ip.dst */

static int kw_ipbuf(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *v)
{
	int id = nj_detect_buffer_id((const char *)kw->arg);

	(void)v;
	if (id < 0)
		return nj_detect_unsupported(ps, "buffer %s not registered", (const char *)kw->arg);
	return nj_detect_set_sticky(ps, id);
}

#define TSC (NJ_BUFF_TOSERVER | NJ_BUFF_TOCLIENT)
NJ_DETECT_BUFFER(ip_src, "ip.src", NULL, TSC | NJ_BUFF_PACKET)
NJ_DETECT_BUFFER(ip_dst, "ip.dst", NULL, TSC | NJ_BUFF_PACKET)
NJ_DETECT_KEYWORD(ip_src, .name = "ip.src", .flags = NJ_KWF_NOVALUE | NJ_KWF_STICKY,
		  .parse = kw_ipbuf, .arg = (uintptr_t) "ip.src",
		  .doc = "sticky buffer: the source address (4 or 16 bytes)")
NJ_DETECT_KEYWORD(ip_dst, .name = "ip.dst", .flags = NJ_KWF_NOVALUE | NJ_KWF_STICKY,
		  .parse = kw_ipbuf, .arg = (uintptr_t) "ip.dst",
		  .doc = "sticky buffer: the destination address (4 or 16 bytes)")
