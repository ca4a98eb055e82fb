/* SPDX-License-Identifier: MIT */
/*
 * YAML configuration loader (libyaml event API), --set overrides and the
 * registry of documented keys.
 *
 * The tree is built straight from parser events so that every node keeps the
 * file and line it came from: error messages must point the operator at the
 * line to fix. Semantics follow Suricata's loader where files rely on them:
 * a key defined again in the same map replaces the earlier definition, and
 * `include:` merges another file's top-level map at the level where it
 * appears (so keys after the include override it, keys before are overridden).
 *
 * Everything here runs once at start-up; clarity beats speed (maps are lists).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "common/nj_common.h"
#include "config/config.h"

/* Bounds that keep a hostile or broken file from exhausting the host. */
#define NJ_CONF_MAX_INCLUDE_DEPTH 8
#define NJ_CONF_MAX_FILE_SIZE	  (16u << 20)
#define NJ_CONF_MAX_NODES	  (1u << 20) /* also bounds alias expansion */
#define NJ_CONF_MAX_NESTING	  64	     /* maps/sequences inside one file */
#define NJ_CONF_MAX_PARTS	  256	     /* path parts when walking the tree */

static const char nj_conf_set_file[] = "--set";

/* File names are interned so that nodes can point at them cheaply. */
struct nj_conf_file {
	struct nj_conf_file *next;
	char name[];
};

struct nj_conf {
	struct nj_conf_node *root;
	struct nj_conf_file *files;
	unsigned long nnodes; /* ever allocated: a bound on work, not a census */
};

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* ---- nodes ---- */

static struct nj_conf_node *node_new(struct nj_conf *c, enum nj_conf_kind kind, const char *file,
				     int line)
{
	struct nj_conf_node *n;

	if (c->nnodes >= NJ_CONF_MAX_NODES)
		return NULL;
	n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	c->nnodes++;
	n->kind = kind;
	n->file = file;
	n->line = line;
	return n;
}

static void node_free(struct nj_conf_node *n)
{
	struct nj_conf_node *ch, *next;

	if (!n)
		return;
	for (ch = n->child; ch; ch = next) {
		next = ch->next;
		node_free(ch);
	}
	free(n->key);
	free(n->value);
	free(n);
}

static void node_clear(struct nj_conf_node *n)
{
	struct nj_conf_node *ch, *next;

	for (ch = n->child; ch; ch = next) {
		next = ch->next;
		node_free(ch);
	}
	n->child = NULL;
	free(n->value);
	n->value = NULL;
}

static void node_append(struct nj_conf_node *parent, struct nj_conf_node *n)
{
	struct nj_conf_node **pp = &parent->child;

	while (*pp)
		pp = &(*pp)->next;
	n->parent = parent;
	n->next = NULL;
	*pp = n;
}

static struct nj_conf_node *map_find(const struct nj_conf_node *map, const char *key, size_t len)
{
	struct nj_conf_node *ch;

	for (ch = map->child; ch; ch = ch->next)
		if (ch->key && strlen(ch->key) == len && !memcmp(ch->key, key, len))
			return ch;
	return NULL;
}

/* Adds n to map; a key seen before is replaced in place (as Suricata does). */
static void map_put(struct nj_conf_node *map, struct nj_conf_node *n)
{
	struct nj_conf_node **pp;

	for (pp = &map->child; *pp; pp = &(*pp)->next) {
		struct nj_conf_node *old = *pp;

		if (strcmp(old->key, n->key))
			continue;
		n->parent = map;
		n->next = old->next;
		*pp = n;
		old->next = NULL;
		node_free(old);
		return;
	}
	node_append(map, n);
}

static bool parse_index(const char *s, size_t len, unsigned long *idx)
{
	unsigned long v = 0;
	size_t i;

	/* nine digits: far more items than a config holds, and no overflow */
	if (!len || len > 9)
		return false;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	*idx = v;
	return true;
}

static struct nj_conf_node *seq_nth(const struct nj_conf_node *seq, unsigned long idx,
				    unsigned long *count)
{
	struct nj_conf_node *ch;
	unsigned long i = 0;

	for (ch = seq->child; ch; ch = ch->next, i++)
		if (i == idx)
			return ch;
	if (count)
		*count = i;
	return NULL;
}

static const char *intern_file(struct nj_conf *c, const char *name)
{
	struct nj_conf_file *f;
	size_t len = strlen(name);

	for (f = c->files; f; f = f->next)
		if (!strcmp(f->name, name))
			return f->name;
	f = malloc(sizeof(*f) + len + 1);
	if (!f)
		return NULL;
	memcpy(f->name, name, len + 1);
	f->next = c->files;
	c->files = f;
	return f->name;
}

/* ---- YAML parsing ---- */

struct nj_conf_anchor {
	struct nj_conf_anchor *next;
	char *name;
	/* a private copy: the original may be replaced by a later duplicate key */
	struct nj_conf_node *copy;
};

/* The chain of files being loaded, innermost first, for cycle detection. */
struct nj_conf_incl {
	const struct nj_conf_incl *up;
	const char *real;
};

struct nj_conf_pctx {
	struct nj_conf *c;
	yaml_parser_t parser;
	const unsigned char *buf;
	size_t len;
	const char *file;
	const struct nj_conf_incl *incl;
	unsigned incl_depth;
	struct nj_conf_anchor *anchors;
	char *err;
	size_t errlen;
};

static int load_into(struct nj_conf *c, struct nj_conf_node *map, const char *path,
		     const struct nj_conf_incl *up, unsigned depth, char *err, size_t errlen);
static int parse_node(struct nj_conf_pctx *p, const yaml_event_t *ev, unsigned depth,
		      struct nj_conf_node **out);

static int perr(struct nj_conf_pctx *p, const yaml_mark_t *m, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int perr(struct nj_conf_pctx *p, const yaml_mark_t *m, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	set_err(p->err, p->errlen, "%s:%zu:%zu: %s", p->file, m->line + 1, m->column + 1, msg);
	return -EINVAL;
}

static int yaml_err(struct nj_conf_pctx *p)
{
	yaml_parser_t *y = &p->parser;
	yaml_mark_t m = y->problem_mark;
	const char *problem = y->problem ? y->problem : "syntax error";

	if (y->error == YAML_MEMORY_ERROR) {
		set_err(p->err, p->errlen, "%s: out of memory", p->file);
		return -ENOMEM;
	}
	if (y->error == YAML_READER_ERROR) {
		/* the reader reports a byte offset only: turn it into line:col */
		size_t i, off = y->problem_offset < p->len ? y->problem_offset : p->len;

		memset(&m, 0, sizeof(m));
		for (i = 0; i < off; i++) {
			if (p->buf[i] == '\n') {
				m.line++;
				m.column = 0;
			} else {
				m.column++;
			}
		}
		return perr(p, &m, "%s (byte 0x%02x)", problem,
			    (unsigned)(y->problem_value & 0xff));
	}
	if (y->context)
		return perr(p, &m, "%s (%s at line %zu)", problem, y->context,
			    y->context_mark.line + 1);
	return perr(p, &m, "%s", problem);
}

static int next_event(struct nj_conf_pctx *p, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&p->parser, ev))
		return yaml_err(p);
	return 0;
}

static struct nj_conf_node *pnode_new(struct nj_conf_pctx *p, enum nj_conf_kind kind,
				      const yaml_mark_t *m)
{
	struct nj_conf_node *n = node_new(p->c, kind, p->file, (int)m->line + 1);

	if (n)
		return n;
	if (p->c->nnodes >= NJ_CONF_MAX_NODES)
		perr(p, m, "more than %u configuration nodes (alias expansion?)",
		     NJ_CONF_MAX_NODES);
	else
		perr(p, m, "out of memory");
	return NULL;
}

static struct nj_conf_node *node_copy(struct nj_conf_pctx *p, const struct nj_conf_node *src,
				      const yaml_mark_t *m)
{
	struct nj_conf_node *n, *ch, *cc;

	n = pnode_new(p, src->kind, m);
	if (!n)
		return NULL;
	n->file = src->file;
	n->line = src->line;
	if ((src->key && !(n->key = strdup(src->key))) ||
	    (src->value && !(n->value = strdup(src->value))))
		goto out_nomem;
	for (ch = src->child; ch; ch = ch->next) {
		cc = node_copy(p, ch, m);
		if (!cc)
			goto out_free;
		node_append(n, cc);
	}
	return n;

out_nomem:
	perr(p, m, "out of memory");
out_free:
	node_free(n);
	return NULL;
}

static int anchor_add(struct nj_conf_pctx *p, const yaml_char_t *name, const struct nj_conf_node *n,
		      const yaml_mark_t *m)
{
	struct nj_conf_anchor *a = calloc(1, sizeof(*a));

	if (!a)
		return perr(p, m, "out of memory");
	a->name = strdup((const char *)name);
	if (!a->name) {
		free(a);
		return perr(p, m, "out of memory");
	}
	a->copy = node_copy(p, n, m);
	if (!a->copy) {
		free(a->name);
		free(a);
		return -EINVAL;
	}
	/* newest first: a redefined anchor shadows the older one, as YAML says */
	a->next = p->anchors;
	p->anchors = a;
	return 0;
}

static const struct nj_conf_node *anchor_find(struct nj_conf_pctx *p, const yaml_char_t *name)
{
	struct nj_conf_anchor *a;

	for (a = p->anchors; a; a = a->next)
		if (!strcmp(a->name, (const char *)name))
			return a->copy;
	return NULL;
}

static void anchors_free(struct nj_conf_pctx *p)
{
	struct nj_conf_anchor *a, *next;

	for (a = p->anchors; a; a = next) {
		next = a->next;
		node_free(a->copy);
		free(a->name);
		free(a);
	}
	p->anchors = NULL;
}

/* Loads name (relative to the including file's directory) into map. */
static int include_file(struct nj_conf_pctx *p, struct nj_conf_node *map, const char *name,
			const yaml_mark_t *m)
{
	const char *slash;
	char *path;
	int ret;

	if (!*name)
		return perr(p, m, "include: empty file name");
	if (p->incl_depth + 1 > NJ_CONF_MAX_INCLUDE_DEPTH)
		return perr(p, m, "include '%s': includes nested too deeply (limit %d)", name,
			    NJ_CONF_MAX_INCLUDE_DEPTH);
	slash = strrchr(p->file, '/');
	if (name[0] == '/' || !slash)
		path = strdup(name);
	else if (asprintf(&path, "%.*s/%s", (int)(slash - p->file), p->file, name) < 0)
		path = NULL;
	if (!path)
		return perr(p, m, "out of memory");
	ret = load_into(p->c, map, path, p->incl, p->incl_depth + 1, p->err, p->errlen);
	free(path);
	if (ret < 0 && p->err && p->errlen) {
		size_t used = strlen(p->err);

		snprintf(p->err + used, p->errlen - used, " (included from %s:%zu)", p->file,
			 m->line + 1);
	}
	return ret;
}

/* `include: file` or `include: [a, b]` */
static int do_include(struct nj_conf_pctx *p, struct nj_conf_node *map,
		      const struct nj_conf_node *val, const yaml_mark_t *m)
{
	const struct nj_conf_node *it;
	int ret;

	if (val->kind == NJ_CONF_SCALAR)
		return include_file(p, map, val->value, m);
	if (val->kind == NJ_CONF_MAP)
		return perr(p, m, "include: expected a file name or a list of file names");
	for (it = val->child; it; it = it->next) {
		if (it->kind != NJ_CONF_SCALAR)
			return perr(p, m, "include: expected a file name or a list of file names");
		ret = include_file(p, map, it->value, m);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* YAML 1.1 merge key `<<: *base`: keys already in map win over merged ones. */
static int do_merge(struct nj_conf_pctx *p, struct nj_conf_node *map, struct nj_conf_node *val,
		    const yaml_mark_t *m)
{
	struct nj_conf_node *src, *ch, *next;

	if (val->kind == NJ_CONF_SCALAR)
		return perr(p, m, "merge key '<<' expects a mapping or a list of mappings");
	for (src = val->kind == NJ_CONF_MAP ? val : val->child; src; src = src->next) {
		if (src->kind != NJ_CONF_MAP)
			return perr(p, m, "merge key '<<' expects a mapping or a list of mappings");
		for (ch = src->child; ch; ch = next) {
			next = ch->next;
			if (map_find(map, ch->key, strlen(ch->key)))
				continue;
			/* detach from src: it is freed with val afterwards */
			if (src->child == ch)
				src->child = next;
			else {
				struct nj_conf_node *prev = src->child;

				while (prev->next != ch)
					prev = prev->next;
				prev->next = next;
			}
			node_append(map, ch);
		}
		if (val->kind == NJ_CONF_MAP)
			break;
	}
	return 0;
}

static int parse_map_body(struct nj_conf_pctx *p, struct nj_conf_node *map, unsigned depth)
{
	yaml_event_t kev, vev;
	struct nj_conf_node *val;
	yaml_mark_t km;
	char *key;
	int ret;

	for (;;) {
		ret = next_event(p, &kev);
		if (ret < 0)
			return ret;
		km = kev.start_mark;
		if (kev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&kev);
			return 0;
		}
		if (kev.type == YAML_SCALAR_EVENT) {
			key = strndup((const char *)kev.data.scalar.value, kev.data.scalar.length);
		} else if (kev.type == YAML_ALIAS_EVENT) {
			const struct nj_conf_node *a = anchor_find(p, kev.data.alias.anchor);

			if (!a || a->kind != NJ_CONF_SCALAR) {
				yaml_event_delete(&kev);
				return perr(p, &km, "alias used as a key must name a scalar");
			}
			key = strdup(a->value);
		} else {
			yaml_event_delete(&kev);
			return perr(p, &km, "mapping keys must be scalars");
		}
		yaml_event_delete(&kev);
		if (!key)
			return perr(p, &km, "out of memory");

		ret = next_event(p, &vev);
		if (ret < 0)
			goto out_free_key;
		ret = parse_node(p, &vev, depth, &val);
		yaml_event_delete(&vev);
		if (ret < 0)
			goto out_free_key;
		/* the key's line is where an operator looks for the setting */
		val->line = (int)km.line + 1;
		val->file = p->file;

		if (!strcmp(key, "include")) {
			ret = do_include(p, map, val, &km);
			node_free(val);
			free(key);
		} else if (!strcmp(key, "<<")) {
			ret = do_merge(p, map, val, &km);
			node_free(val);
			free(key);
		} else {
			val->key = key;
			map_put(map, val);
		}
		if (ret < 0)
			return ret;
	}

out_free_key:
	free(key);
	return ret;
}

static int parse_seq_body(struct nj_conf_pctx *p, struct nj_conf_node *seq, unsigned depth)
{
	struct nj_conf_node *tail = NULL, *item;
	yaml_event_t ev;
	int ret;

	for (;;) {
		ret = next_event(p, &ev);
		if (ret < 0)
			return ret;
		if (ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			return 0;
		}
		ret = parse_node(p, &ev, depth, &item);
		yaml_event_delete(&ev);
		if (ret < 0)
			return ret;
		item->parent = seq;
		if (tail)
			tail->next = item;
		else
			seq->child = item;
		tail = item;
	}
}

/* Builds a node from ev (owned by the caller) and the events that follow it. */
static int parse_node(struct nj_conf_pctx *p, const yaml_event_t *ev, unsigned depth,
		      struct nj_conf_node **out)
{
	const yaml_mark_t *m = &ev->start_mark;
	const yaml_char_t *anchor = NULL;
	struct nj_conf_node *n = NULL;
	int ret = 0;

	*out = NULL;
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		anchor = ev->data.scalar.anchor;
		if (ev->data.scalar.tag && !strcmp((const char *)ev->data.scalar.tag, "!include")) {
			/* Suricata's `key: !include file.yaml`: the file's map becomes the value */
			n = pnode_new(p, NJ_CONF_MAP, m);
			if (!n)
				return -EINVAL;
			ret = include_file(p, n, (const char *)ev->data.scalar.value, m);
			break;
		}
		n = pnode_new(p, NJ_CONF_SCALAR, m);
		if (!n)
			return -EINVAL;
		n->value = strndup((const char *)ev->data.scalar.value, ev->data.scalar.length);
		if (!n->value)
			ret = perr(p, m, "out of memory");
		break;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		if (depth >= NJ_CONF_MAX_NESTING)
			return perr(p, m, "nested more than %d levels deep", NJ_CONF_MAX_NESTING);
		if (ev->type == YAML_SEQUENCE_START_EVENT) {
			anchor = ev->data.sequence_start.anchor;
			n = pnode_new(p, NJ_CONF_SEQ, m);
			if (!n)
				return -EINVAL;
			ret = parse_seq_body(p, n, depth + 1);
		} else {
			anchor = ev->data.mapping_start.anchor;
			n = pnode_new(p, NJ_CONF_MAP, m);
			if (!n)
				return -EINVAL;
			ret = parse_map_body(p, n, depth + 1);
		}
		break;
	case YAML_ALIAS_EVENT: {
		const struct nj_conf_node *a = anchor_find(p, ev->data.alias.anchor);

		if (!a)
			return perr(p, m, "unknown alias '*%s'",
				    (const char *)ev->data.alias.anchor);
		n = node_copy(p, a, m);
		if (!n)
			return -EINVAL;
		free(n->key);
		n->key = NULL;
		break;
	}
	default: return perr(p, m, "unexpected YAML event %d", (int)ev->type);
	}
	if (ret == 0 && anchor)
		ret = anchor_add(p, anchor, n, m);
	if (ret < 0) {
		node_free(n);
		return ret;
	}
	*out = n;
	return 0;
}

static bool is_null_scalar(const yaml_event_t *ev)
{
	const char *v = (const char *)ev->data.scalar.value;

	if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	return !*v || !strcmp(v, "~") || !strcasecmp(v, "null");
}

/* One document whose top level is a map (or empty), merged into map. */
static int parse_stream(struct nj_conf_pctx *p, struct nj_conf_node *map)
{
	yaml_event_t ev;
	int ret;

	ret = next_event(p, &ev); /* stream start */
	if (ret < 0)
		return ret;
	yaml_event_delete(&ev);
	ret = next_event(p, &ev);
	if (ret < 0)
		return ret;
	if (ev.type == YAML_STREAM_END_EVENT) /* empty file */
		goto out_delete;
	yaml_event_delete(&ev);

	ret = next_event(p, &ev); /* the document's top-level node */
	if (ret < 0)
		return ret;
	if (ev.type == YAML_MAPPING_START_EVENT)
		ret = parse_map_body(p, map, 1);
	else if (ev.type != YAML_SCALAR_EVENT || !is_null_scalar(&ev))
		ret = perr(p, &ev.start_mark, "the top level must be a mapping (key: value)");
	yaml_event_delete(&ev);
	if (ret < 0)
		return ret;

	ret = next_event(p, &ev); /* document end */
	if (ret < 0)
		return ret;
	yaml_event_delete(&ev);
	ret = next_event(p, &ev);
	if (ret < 0)
		return ret;
	if (ev.type != YAML_STREAM_END_EVENT)
		ret = perr(p, &ev.start_mark, "only one YAML document per file is supported");
out_delete:
	yaml_event_delete(&ev);
	return ret;
}

static int read_file(const char *path, unsigned char **bufp, size_t *lenp, char *err, size_t errlen)
{
	unsigned char *buf;
	struct stat st;
	size_t len = 0;
	ssize_t r;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		set_err(err, errlen, "%s: %s", path, strerror(errno));
		return ret;
	}
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		set_err(err, errlen, "%s: %s", path, strerror(errno));
		goto out_close;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = -EINVAL;
		set_err(err, errlen, "%s: not a regular file", path);
		goto out_close;
	}
	if (st.st_size > NJ_CONF_MAX_FILE_SIZE) {
		ret = -EFBIG;
		set_err(err, errlen, "%s: file too large (%lld bytes, limit %u MiB)", path,
			(long long)st.st_size, NJ_CONF_MAX_FILE_SIZE >> 20);
		goto out_close;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		ret = -ENOMEM;
		set_err(err, errlen, "%s: out of memory", path);
		goto out_close;
	}
	/* a file that grows while we read is cut at the size fstat saw */
	while (len < (size_t)st.st_size) {
		r = read(fd, buf + len, (size_t)st.st_size - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			ret = -errno;
			set_err(err, errlen, "%s: %s", path, strerror(errno));
			free(buf);
			goto out_close;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	buf[len] = '\0';
	*bufp = buf;
	*lenp = len;
	ret = 0;
out_close:
	close(fd);
	return ret;
}

static int load_into(struct nj_conf *c, struct nj_conf_node *map, const char *path,
		     const struct nj_conf_incl *up, unsigned depth, char *err, size_t errlen)
{
	struct nj_conf_pctx p = {.c = c, .incl_depth = depth, .err = err, .errlen = errlen};
	const struct nj_conf_incl *it;
	struct nj_conf_incl self;
	unsigned char *buf = NULL;
	size_t len = 0;
	char *real;
	int ret;

	real = realpath(path, NULL);
	if (!real) {
		ret = -errno;
		set_err(err, errlen, "%s: %s", path, strerror(errno));
		return ret;
	}
	for (it = up; it; it = it->up) {
		if (!strcmp(it->real, real)) {
			set_err(err, errlen, "%s: include cycle (the file includes itself)", path);
			ret = -ELOOP;
			goto out_free_real;
		}
	}
	ret = read_file(path, &buf, &len, err, errlen);
	if (ret < 0)
		goto out_free_real;
	p.file = intern_file(c, path);
	if (!p.file) {
		set_err(err, errlen, "%s: out of memory", path);
		ret = -ENOMEM;
		goto out_free_buf;
	}
	self.up = up;
	self.real = real;
	p.incl = &self;
	p.buf = buf;
	p.len = len;
	if (!yaml_parser_initialize(&p.parser)) {
		set_err(err, errlen, "%s: out of memory", path);
		ret = -ENOMEM;
		goto out_free_buf;
	}
	yaml_parser_set_input_string(&p.parser, buf, len);
	ret = parse_stream(&p, map);
	anchors_free(&p);
	yaml_parser_delete(&p.parser);
out_free_buf:
	free(buf);
out_free_real:
	free(real);
	return ret;
}

/* ---- overrides ---- */

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* "a.b.0.c=value": creates what is missing, the value replaces the node. */
static int apply_override(struct nj_conf *c, const char *ov, char *err, size_t errlen)
{
	const char *eq = strchr(ov, '=');
	char *path, *part, *next;
	struct nj_conf_node *cur = c->root, *n;
	unsigned nparts = 0;
	int ret = -EINVAL;

	if (!eq) {
		set_err(err, errlen, "override '%s': expected key=value", ov);
		return -EINVAL;
	}
	if (eq == ov) {
		set_err(err, errlen, "override '%s': empty key", ov);
		return -EINVAL;
	}
	path = strndup(ov, (size_t)(eq - ov));
	if (!path)
		goto out_nomem;
	for (part = path; part; part = next) {
		bool last;
		unsigned long idx, count = 0;

		next = strchr(part, '.');
		if (next)
			*next++ = '\0';
		last = !next;
		if (!*part) {
			set_err(err, errlen, "override '%s': empty part in the key", ov);
			goto out_free;
		}
		if (++nparts > NJ_CONF_MAX_NESTING) {
			set_err(err, errlen, "override '%s': key has more than %d parts", ov,
				NJ_CONF_MAX_NESTING);
			goto out_free;
		}
		if (cur->kind == NJ_CONF_SEQ) {
			if (!parse_index(part, strlen(part), &idx)) {
				set_err(err, errlen,
					"override '%s': '%s' is not an index into a sequence", ov,
					part);
				goto out_free;
			}
			n = seq_nth(cur, idx, &count);
			if (!n && idx != count) {
				set_err(err, errlen,
					"override '%s': index %lu out of range (the sequence has "
					"%lu items)",
					ov, idx, count);
				goto out_free;
			}
		} else {
			n = map_find(cur, part, strlen(part));
		}
		if (!n) {
			n = node_new(c, NJ_CONF_SCALAR, nj_conf_set_file, 0);
			if (!n)
				goto out_nomem;
			if (cur->kind == NJ_CONF_MAP && !(n->key = strdup(part))) {
				node_free(n);
				goto out_nomem;
			}
			node_append(cur, n);
		}
		if (last) {
			node_clear(n);
			n->kind = NJ_CONF_SCALAR;
			n->value = strdup(eq + 1);
			n->file = nj_conf_set_file;
			n->line = 0;
			if (!n->value)
				goto out_nomem;
		} else if (n->kind == NJ_CONF_SCALAR) {
			/* a new intermediate, or a scalar the override turns into a container */
			char *dot = strchr(next, '.');

			if (dot)
				*dot = '\0';
			n->kind = all_digits(next) ? NJ_CONF_SEQ : NJ_CONF_MAP;
			if (dot)
				*dot = '.';
			free(n->value);
			n->value = NULL;
			n->file = nj_conf_set_file;
			n->line = 0;
		}
		cur = n;
	}
	ret = 0;
	goto out_free;

out_nomem:
	set_err(err, errlen, "override '%s': out of memory", ov);
	ret = -ENOMEM;
out_free:
	free(path);
	return ret;
}

/* ---- public: load, free, lookup ---- */

struct nj_conf *nj_conf_load(const char *path, const char *const *overrides, unsigned noverrides,
			     char *err, size_t errlen)
{
	struct nj_conf *c;
	unsigned i;

	set_err(err, errlen, "%s", "");
	c = calloc(1, sizeof(*c));
	if (!c) {
		set_err(err, errlen, "out of memory");
		return NULL;
	}
	c->root = node_new(c, NJ_CONF_MAP, path ? path : "(none)", 0);
	if (!c->root) {
		set_err(err, errlen, "out of memory");
		goto out_free;
	}
	if (path) {
		c->root->file = intern_file(c, path);
		if (!c->root->file) {
			set_err(err, errlen, "out of memory");
			goto out_free;
		}
		if (load_into(c, c->root, path, NULL, 0, err, errlen) < 0)
			goto out_free;
	}
	for (i = 0; i < noverrides; i++) {
		if (!overrides[i]) {
			set_err(err, errlen, "override %u is NULL", i);
			goto out_free;
		}
		if (apply_override(c, overrides[i], err, errlen) < 0)
			goto out_free;
	}
	return c;

out_free:
	nj_conf_free(c);
	return NULL;
}

void nj_conf_free(struct nj_conf *c)
{
	struct nj_conf_file *f, *next;

	if (!c)
		return;
	node_free(c->root);
	for (f = c->files; f; f = next) {
		next = f->next;
		free(f);
	}
	free(c);
}

const struct nj_conf_node *nj_conf_root(const struct nj_conf *c)
{
	return c ? c->root : NULL;
}

const struct nj_conf_node *nj_conf_node_get(const struct nj_conf_node *n, const char *path)
{
	const char *part = path, *end;
	unsigned long idx;

	if (!n || !path)
		return NULL;
	if (!*path)
		return n;
	for (;;) {
		size_t len;

		end = strchr(part, '.');
		len = end ? (size_t)(end - part) : strlen(part);
		if (n->kind == NJ_CONF_MAP)
			n = map_find(n, part, len);
		else if (n->kind == NJ_CONF_SEQ && parse_index(part, len, &idx))
			n = seq_nth(n, idx, NULL);
		else
			n = NULL;
		if (!n || !end)
			return n;
		part = end + 1;
	}
}

const struct nj_conf_node *nj_conf_get(const struct nj_conf *c, const char *path)
{
	return nj_conf_node_get(nj_conf_root(c), path);
}

int nj_conf_node_path(const struct nj_conf_node *n, char *buf, size_t len)
{
	const struct nj_conf_node *chain[NJ_CONF_MAX_PARTS];
	unsigned depth = 0, i;
	size_t used = 0;
	int ret = 0;

	if (!len)
		return -ENOSPC;
	buf[0] = '\0';
	for (; n && n->parent && depth < NJ_CONF_MAX_PARTS; n = n->parent)
		chain[depth++] = n;
	if (n && n->parent) {
		used = (size_t)snprintf(buf, len, "...");
		ret = -ENOSPC;
	}
	for (i = depth; i-- > 0;) {
		const struct nj_conf_node *it = chain[i], *s;
		unsigned long idx = 0;
		int w;

		if (used >= len)
			return -ENOSPC;
		if (it->key) {
			w = snprintf(buf + used, len - used, "%s%s", used ? "." : "", it->key);
		} else {
			for (s = it->parent->child; s && s != it; s = s->next)
				idx++;
			w = snprintf(buf + used, len - used, "%s%lu", used ? "." : "", idx);
		}
		used += (size_t)w;
	}
	return used >= len ? -ENOSPC : ret;
}

/* ---- typed getters ---- */

static int bad_value(const struct nj_conf_node *n, const char *reason)
{
	char path[512];

	nj_conf_node_path(n, path, sizeof(path));
	if (n->line > 0)
		NJ_ERR("%s:%d: %s: %s (value '%s')", n->file, n->line, path, reason,
		       n->value ? n->value : "");
	else
		NJ_ERR("%s: %s: %s (value '%s')", n->file, path, reason, n->value ? n->value : "");
	return -1;
}

/* 1: absent, -1: not a scalar (reported), 0: *np is a scalar */
static int scalar_at(const struct nj_conf *c, const struct nj_conf_node *at, const char *path,
		     const struct nj_conf_node **np)
{
	const struct nj_conf_node *n = nj_conf_node_get(at ? at : nj_conf_root(c), path);

	if (!n)
		return 1;
	if (n->kind != NJ_CONF_SCALAR)
		return bad_value(n, n->kind == NJ_CONF_MAP ? "expected a value, found a mapping"
							   : "expected a value, found a sequence");
	*np = n;
	return 0;
}

int nj_conf_str(const struct nj_conf *c, const struct nj_conf_node *at, const char *path,
		const char **out)
{
	const struct nj_conf_node *n = NULL;
	int ret = scalar_at(c, at, path, &n);

	if (ret)
		return ret;
	*out = n->value;
	return 0;
}

int nj_conf_bool(const struct nj_conf *c, const struct nj_conf_node *at, const char *path,
		 bool *out)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};
	const struct nj_conf_node *n = NULL;
	int ret = scalar_at(c, at, path, &n);
	size_t i;

	if (ret)
		return ret;
	for (i = 0; i < NJ_ARRAY_SIZE(yes); i++) {
		if (!strcasecmp(n->value, yes[i])) {
			*out = true;
			return 0;
		}
		if (!strcasecmp(n->value, no[i])) {
			*out = false;
			return 0;
		}
	}
	return bad_value(n, "not a boolean (expected yes/no, true/false, on/off or 1/0)");
}

int nj_conf_int(const struct nj_conf *c, const struct nj_conf_node *at, const char *path,
		int64_t min, int64_t max, int64_t *out)
{
	const struct nj_conf_node *n = NULL;
	int ret = scalar_at(c, at, path, &n);
	char reason[96];
	long long v;
	char *end;

	if (ret)
		return ret;
	if (!*n->value || !(n->value[0] == '-' || n->value[0] == '+' ||
			    (n->value[0] >= '0' && n->value[0] <= '9')))
		return bad_value(n, "not an integer");
	errno = 0;
	v = strtoll(n->value, &end, 10);
	if (*end)
		return bad_value(n, "not an integer");
	if (errno == ERANGE || v < min || v > max) {
		snprintf(reason, sizeof(reason), "out of range [%" PRId64 ", %" PRId64 "]", min,
			 max);
		return bad_value(n, reason);
	}
	*out = v;
	return 0;
}

/* "1024", "64kb", "1.5 GB": 1024 multiples, as Suricata's ParseSizeString. */
static int parse_size(const char *s, uint64_t *out, const char **reason)
{
	static const struct {
		const char *sfx;
		unsigned shift;
	} units[] = {
		{"", 0},     {"b", 0},	 {"kb", 10},  {"kib", 10}, {"mb", 20},
		{"mib", 20}, {"gb", 30}, {"gib", 30}, {"tb", 40},  {"tib", 40},
	};
	uint64_t whole = 0, frac = 0, den = 1, mult = 0;
	bool have_frac = false;
	const char *p = s;
	size_t i, slen;

	*reason = "not a size (expected e.g. 4096, 64kb, 128mb, 1gb)";
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (whole > (UINT64_MAX - (uint64_t)(*p - '0')) / 10) {
			*reason = "size too large";
			return -ERANGE;
		}
		whole = whole * 10 + (uint64_t)(*p - '0');
	}
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -EINVAL;
		have_frac = true;
		/* six decimals are plenty; more are read and dropped */
		for (; *p >= '0' && *p <= '9'; p++) {
			if (den < 1000000) {
				frac = frac * 10 + (uint64_t)(*p - '0');
				den *= 10;
			}
		}
	}
	while (*p == ' ' || *p == '\t')
		p++;
	slen = strlen(p);
	while (slen && (p[slen - 1] == ' ' || p[slen - 1] == '\t'))
		slen--;
	for (i = 0; i < NJ_ARRAY_SIZE(units); i++) {
		if (strlen(units[i].sfx) == slen && !strncasecmp(p, units[i].sfx, slen)) {
			mult = (uint64_t)1 << units[i].shift;
			break;
		}
	}
	if (!mult)
		return -EINVAL;
	if (have_frac && mult == 1) {
		*reason = "a byte count cannot have a fraction";
		return -EINVAL;
	}
	if (whole > UINT64_MAX / mult || whole * mult > UINT64_MAX - frac * mult / den) {
		*reason = "size too large";
		return -ERANGE;
	}
	*out = whole * mult + frac * mult / den;
	return 0;
}

int nj_conf_size(const struct nj_conf *c, const struct nj_conf_node *at, const char *path,
		 uint64_t *out)
{
	const struct nj_conf_node *n = NULL;
	int ret = scalar_at(c, at, path, &n);
	const char *reason;
	uint64_t v;

	if (ret)
		return ret;
	if (parse_size(n->value, &v, &reason) < 0)
		return bad_value(n, reason);
	*out = v;
	return 0;
}

/* ---- registry ---- */

static struct nj_conf_key *nj_conf_keys;

void nj_conf_register(struct nj_conf_key *k)
{
	struct nj_conf_key *it;

	if (!k || !k->path)
		return;
	/* registering twice would make the list a loop */
	for (it = nj_conf_keys; it; it = it->next)
		if (it == k)
			return;
	k->next = nj_conf_keys;
	nj_conf_keys = k;
}

enum nj_conf_match { NJ_CM_NONE, NJ_CM_EXACT, NJ_CM_ANCESTOR, NJ_CM_BELOW };

/* How a path (parts) relates to a registered pattern ('*' = any one part). */
static enum nj_conf_match pattern_match(const char *pat, const char *const *parts, unsigned n)
{
	unsigned i = 0;

	for (;;) {
		const char *end = strchr(pat, '.');
		size_t len = end ? (size_t)(end - pat) : strlen(pat);

		if (i == n)
			return NJ_CM_ANCESTOR; /* the pattern goes deeper than the path */
		if (!(len == 1 && pat[0] == '*') &&
		    !(strlen(parts[i]) == len && !memcmp(parts[i], pat, len)))
			return NJ_CM_NONE;
		i++;
		if (!end)
			break;
		pat = end + 1;
	}
	return i == n ? NJ_CM_EXACT : NJ_CM_BELOW;
}

enum nj_conf_class { NJ_CC_UNKNOWN, NJ_CC_KNOWN, NJ_CC_COVERED };

static enum nj_conf_class classify(const char *const *parts, unsigned n)
{
	enum nj_conf_class cls = NJ_CC_UNKNOWN;
	const struct nj_conf_key *k;

	for (k = nj_conf_keys; k; k = k->next) {
		bool container = k->type == NJ_CT_MAP || k->type == NJ_CT_LIST;

		switch (pattern_match(k->path, parts, n)) {
		case NJ_CM_EXACT:
			if (container)
				return NJ_CC_COVERED;
			cls = NJ_CC_KNOWN;
			break;
		case NJ_CM_ANCESTOR: cls = NJ_CC_KNOWN; break;
		case NJ_CM_BELOW:
			if (container)
				return NJ_CC_COVERED;
			break;
		case NJ_CM_NONE: break;
		}
	}
	return cls;
}

bool nj_conf_is_known(const char *dotted_path)
{
	const char *parts[NJ_CONF_MAX_PARTS];
	unsigned n = 0;
	char *copy, *p, *dot;
	bool known = false;

	if (!dotted_path || !*dotted_path)
		return false;
	copy = strdup(dotted_path);
	if (!copy)
		return false;
	for (p = copy; p; p = dot) {
		dot = strchr(p, '.');
		if (dot)
			*dot++ = '\0';
		if (!*p || n == NJ_CONF_MAX_PARTS)
			goto out_free;
		parts[n++] = p;
	}
	known = classify(parts, n) != NJ_CC_UNKNOWN;
out_free:
	free(copy);
	return known;
}

struct nj_conf_walk {
	const char *parts[NJ_CONF_MAX_PARTS];
	char idx[NJ_CONF_MAX_PARTS][12];
	struct nj_conf_warned {
		struct nj_conf_warned *next;
		char path[];
	} * warned;
	unsigned count;
};

static void warn_once(struct nj_conf_walk *w, const struct nj_conf_node *n, unsigned nparts)
{
	struct nj_conf_warned *it;
	char path[1024];
	size_t used = 0, len;
	unsigned i;

	path[0] = '\0';
	for (i = 0; i < nparts && used < sizeof(path); i++)
		used += (size_t)snprintf(path + used, sizeof(path) - used, "%s%s", i ? "." : "",
					 w->parts[i]);
	for (it = w->warned; it; it = it->next)
		if (!strcmp(it->path, path))
			return;
	len = strlen(path);
	it = malloc(sizeof(*it) + len + 1);
	if (it) {
		memcpy(it->path, path, len + 1);
		it->next = w->warned;
		w->warned = it;
	}
	if (n->line > 0)
		NJ_WARN("%s:%d: unknown configuration key '%s'", n->file, n->line, path);
	else
		NJ_WARN("%s: unknown configuration key '%s'", n->file, path);
	w->count++;
}

static void walk_unknown(struct nj_conf_walk *w, const struct nj_conf_node *n, unsigned depth)
{
	const struct nj_conf_node *ch;
	unsigned long i = 0;

	/* deeper than any sane file: stop checking rather than overflow parts[] */
	if (depth >= NJ_CONF_MAX_PARTS)
		return;
	for (ch = n->child; ch; ch = ch->next, i++) {
		if (ch->key) {
			w->parts[depth] = ch->key;
		} else {
			snprintf(w->idx[depth], sizeof(w->idx[depth]), "%lu", i);
			w->parts[depth] = w->idx[depth];
		}
		switch (classify(w->parts, depth + 1)) {
		case NJ_CC_UNKNOWN:
			/* one warning for the top unknown key, not one per leaf below it */
			warn_once(w, ch, depth + 1);
			break;
		case NJ_CC_KNOWN: walk_unknown(w, ch, depth + 1); break;
		case NJ_CC_COVERED: break;
		}
	}
}

unsigned nj_conf_warn_unknown(const struct nj_conf *c)
{
	struct nj_conf_walk *w;
	struct nj_conf_warned *it, *next;
	unsigned count;

	if (!c)
		return 0;
	w = calloc(1, sizeof(*w));
	if (!w) {
		NJ_ERR("checking configuration keys: out of memory");
		return 0;
	}
	walk_unknown(w, c->root, 0);
	count = w->count;
	for (it = w->warned; it; it = next) {
		next = it->next;
		free(it);
	}
	free(w);
	return count;
}

static const char *type_name(enum nj_conf_type t)
{
	switch (t) {
	case NJ_CT_STR: return "string";
	case NJ_CT_BOOL: return "bool";
	case NJ_CT_INT: return "int";
	case NJ_CT_SIZE: return "size";
	case NJ_CT_LIST: return "list";
	case NJ_CT_MAP: return "map";
	}
	return "?";
}

static void md_cell(FILE *out, const char *s, bool code)
{
	fputs(" ", out);
	if (s && *s) {
		if (code)
			fputc('`', out);
		for (; *s; s++) {
			if (*s == '|')
				fputs("\\|", out);
			else if (*s == '\n' || *s == '\r')
				fputc(' ', out);
			else
				fputc(*s, out);
		}
		if (code)
			fputc('`', out);
	}
	fputs(" |", out);
}

static int key_cmp(const void *a, const void *b)
{
	const struct nj_conf_key *ka = *(const struct nj_conf_key *const *)a;
	const struct nj_conf_key *kb = *(const struct nj_conf_key *const *)b;

	return strcmp(ka->path, kb->path);
}

void nj_conf_dump_keys_md(FILE *out)
{
	const struct nj_conf_key **v;
	const struct nj_conf_key *k;
	size_t n = 0, i;

	for (k = nj_conf_keys; k; k = k->next)
		n++;
	fputs("| key | type | default | description |\n|---|---|---|---|\n", out);
	if (!n)
		return;
	v = malloc(n * sizeof(*v));
	if (!v) {
		NJ_ERR("listing configuration keys: out of memory");
		return;
	}
	for (i = 0, k = nj_conf_keys; k; k = k->next)
		v[i++] = k;
	qsort(v, n, sizeof(*v), key_cmp);
	for (i = 0; i < n; i++) {
		fputs("|", out);
		md_cell(out, v[i]->path, true);
		md_cell(out, type_name(v[i]->type), false);
		md_cell(out, v[i]->dflt, true);
		md_cell(out, v[i]->doc, false);
		fputc('\n', out);
	}
	free(v);
}
