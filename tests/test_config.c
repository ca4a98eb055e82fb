/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for config/: YAML loading, include, --set, typed getters, the
 * key registry, and every suricata.yaml of the suricata-verify corpus.
 *
 * Fixtures: tests/data/config (argv[1], else $NJ_TEST_CONFIG_DATA, else from
 * the source root meson compiles in). The corpus is ../shared/corpus relative
 * to the source root; its part is skipped with a message when absent.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/nj_common.h"
#include "config/config.h"

#ifndef NJ_TEST_SRCROOT
#define NJ_TEST_SRCROOT "."
#endif

static unsigned failures, checks;

#define CHECK(cond)                                                                              \
	do {                                                                                     \
		checks++;                                                                        \
		if (!(cond)) {                                                                   \
			failures++;                                                              \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
		}                                                                                \
	} while (0)

#define CHECK_STR(a, b)                                                                   \
	do {                                                                              \
		const char *a_ = (a), *b_ = (b);                                          \
		checks++;                                                                 \
		if (!a_ || strcmp(a_, b_)) {                                              \
			failures++;                                                       \
			fprintf(stderr, "%s:%d: '%s' != '%s' (%s)\n", __FILE__, __LINE__, \
				a_ ? a_ : "(null)", b_, #a);                              \
		}                                                                         \
	} while (0)

static char data_dir[2048];
static char tmp_dir[] = "/tmp/nj-test-config-XXXXXX";

static const char *fixture(const char *name)
{
	static char buf[8][4096];
	static unsigned i;
	char *p = buf[i++ & 7];

	snprintf(p, sizeof(buf[0]), "%s/%s", data_dir, name);
	return p;
}

static const char *tmp_path(const char *name)
{
	static char buf[8][4096];
	static unsigned i;
	char *p = buf[i++ & 7];

	snprintf(p, sizeof(buf[0]), "%s/%s", tmp_dir, name);
	return p;
}

static void write_file(const char *name, const char *text)
{
	FILE *f = fopen(tmp_path(name), "w");

	if (!f) {
		perror(tmp_path(name));
		exit(1);
	}
	fputs(text, f);
	fclose(f);
}

/* Captures what nj_log writes to stderr between begin and end. */
static int saved_stderr = -1;
static FILE *capture_file;

static void capture_begin(void)
{
	fflush(stderr);
	capture_file = tmpfile();
	if (!capture_file) {
		perror("tmpfile");
		exit(1);
	}
	saved_stderr = dup(2);
	dup2(fileno(capture_file), 2);
}

static void capture_end(char *buf, size_t len)
{
	size_t n;

	fflush(stderr);
	dup2(saved_stderr, 2);
	close(saved_stderr);
	rewind(capture_file);
	n = fread(buf, 1, len - 1, capture_file);
	buf[n] = '\0';
	fclose(capture_file);
}

static struct nj_conf *load_ok(const char *path, const char *const *ov, unsigned nov)
{
	char err[1024];
	struct nj_conf *c = nj_conf_load(path, ov, nov, err, sizeof(err));

	if (!c)
		fprintf(stderr, "unexpected load failure: %s\n", err);
	CHECK(c != NULL);
	return c;
}

/* Loads, expecting failure; err receives the message. */
static void load_fail(const char *path, const char *const *ov, unsigned nov, char *err, size_t len)
{
	struct nj_conf *c = nj_conf_load(path, ov, nov, err, len);

	CHECK(c == NULL);
	if (c) {
		fprintf(stderr, "  (%s loaded but should not have)\n", path ? path : "NULL");
		nj_conf_free(c);
	}
}

static const char *val(const struct nj_conf *c, const char *path)
{
	const struct nj_conf_node *n = nj_conf_get(c, path);

	return n && n->kind == NJ_CONF_SCALAR ? n->value : NULL;
}

static int line_of(const struct nj_conf *c, const char *path)
{
	const struct nj_conf_node *n = nj_conf_get(c, path);

	return n ? n->line : -1;
}

static void test_basic(void)
{
	struct nj_conf *c = load_ok(fixture("basic.yaml"), NULL, 0);
	const struct nj_conf_node *n, *eve;
	char path[256];

	if (!c)
		return;
	CHECK_STR(val(c, "name"), "nightjar");
	CHECK_STR(val(c, "quoted"), "a: b");
	CHECK_STR(val(c, "empty"), "");
	CHECK_STR(val(c, "vars.address-groups.HOME_NET"), "[10.0.0.0/8]");
	CHECK_STR(val(c, "vars.port-groups.HTTP_PORTS"), "80");
	CHECK(line_of(c, "vars.port-groups.HTTP_PORTS") == 11);
	CHECK(line_of(c, "vars.port-groups") == 10);
	CHECK(strstr(nj_conf_get(c, "vars")->file, "basic.yaml") != NULL);

	/* sequences of maps and of scalars */
	n = nj_conf_get(c, "outputs");
	CHECK(n && n->kind == NJ_CONF_SEQ);
	CHECK(n && n->child && n->child->key == NULL);
	CHECK_STR(val(c, "outputs.0.fast.enabled"), "no");
	CHECK_STR(val(c, "outputs.1.eve-log.filename"), "eve.json");
	CHECK(line_of(c, "outputs.1.eve-log.filename") == 17);
	CHECK(line_of(c, "outputs.1") == 15);
	CHECK_STR(val(c, "outputs.1.eve-log.types.1"), "dns");
	CHECK(line_of(c, "outputs.1.eve-log.types.1") == 20);
	CHECK(nj_conf_get(c, "outputs.2") == NULL);
	CHECK(nj_conf_get(c, "outputs.x") == NULL);
	CHECK(nj_conf_get(c, "outputs.-1") == NULL);
	CHECK(nj_conf_get(c, "name.sub") == NULL);
	CHECK(nj_conf_get(c, "nope") == NULL);
	CHECK(nj_conf_get(c, "") == nj_conf_root(c));
	CHECK_STR(val(c, "flags.2"), "c");
	CHECK(nj_conf_get(c, "flags")->kind == NJ_CONF_SEQ);

	/* relative lookups and paths back */
	eve = nj_conf_get(c, "outputs.1.eve-log");
	CHECK_STR(nj_conf_node_get(eve, "types.0")->value, "alert");
	CHECK(nj_conf_node_path(nj_conf_node_get(eve, "types.0"), path, sizeof(path)) == 0);
	CHECK_STR(path, "outputs.1.eve-log.types.0");
	CHECK(nj_conf_node_path(nj_conf_node_get(eve, "types.0"), path, 8) == -ENOSPC);

	/* a key defined twice: the later one wins, there is only one node */
	CHECK_STR(val(c, "dup"), "second");
	CHECK(line_of(c, "dup") == 45);
	nj_conf_free(c);
}

static void test_getters(void)
{
	struct nj_conf *c = load_ok(fixture("basic.yaml"), NULL, 0);
	const struct nj_conf_node *v;
	const char *s = NULL;
	char log[4096];
	uint64_t sz;
	int64_t i;
	bool b;
	int ret;

	if (!c)
		return;
	v = nj_conf_get(c, "values");

	b = false;
	CHECK(nj_conf_bool(c, v, "t1", &b) == 0 && b);
	b = false;
	CHECK(nj_conf_bool(c, v, "t2", &b) == 0 && b);
	b = false;
	CHECK(nj_conf_bool(c, v, "t3", &b) == 0 && b);
	b = false;
	CHECK(nj_conf_bool(c, NULL, "values.t4", &b) == 0 && b);
	b = true;
	CHECK(nj_conf_bool(c, v, "f1", &b) == 0 && !b);
	b = true;
	CHECK(nj_conf_bool(c, v, "f2", &b) == 0 && !b);
	b = true;
	CHECK(nj_conf_bool(c, v, "f3", &b) == 0 && !b);
	b = true;
	CHECK(nj_conf_bool(c, v, "f4", &b) == 0 && !b);
	b = true;
	CHECK(nj_conf_bool(c, v, "absent", &b) == 1 && b);

	capture_begin();
	ret = nj_conf_bool(c, v, "bad-bool", &b);
	capture_end(log, sizeof(log));
	CHECK(ret == -1);
	CHECK(strstr(log, "basic.yaml:31: values.bad-bool: ") != NULL);
	CHECK(strstr(log, "(value 'maybe')") != NULL);

	CHECK(nj_conf_int(c, v, "int", -100, 100, &i) == 0 && i == -42);
	CHECK(nj_conf_int(c, v, "big", INT64_MIN, INT64_MAX, &i) == 0 && i == INT64_MAX);
	i = 7;
	CHECK(nj_conf_int(c, v, "absent", 0, 10, &i) == 1 && i == 7);
	capture_begin();
	ret = nj_conf_int(c, v, "int", 0, 100, &i);
	capture_end(log, sizeof(log));
	CHECK(ret == -1);
	CHECK(strstr(log, "basic.yaml:32: values.int: out of range [0, 100] (value '-42')") !=
	      NULL);
	capture_begin();
	ret = nj_conf_int(c, v, "huge", INT64_MIN, INT64_MAX, &i);
	capture_end(log, sizeof(log));
	CHECK(ret == -1 && strstr(log, "basic.yaml:34:") != NULL);
	capture_begin();
	ret = nj_conf_int(c, v, "bad-int", 0, 1000, &i);
	capture_end(log, sizeof(log));
	CHECK(ret == -1 &&
	      strstr(log, "basic.yaml:35: values.bad-int: not an integer (value '12abc')") != NULL);

	CHECK(nj_conf_size(c, v, "s1", &sz) == 0 && sz == 1024);
	CHECK(nj_conf_size(c, v, "s2", &sz) == 0 && sz == 64 * 1024);
	CHECK(nj_conf_size(c, v, "s3", &sz) == 0 && sz == 128ull << 20);
	CHECK(nj_conf_size(c, v, "s4", &sz) == 0 && sz == 1ull << 30);
	CHECK(nj_conf_size(c, v, "s5", &sz) == 0 && sz == 1536);
	capture_begin();
	ret = nj_conf_size(c, v, "bad-size", &sz);
	capture_end(log, sizeof(log));
	CHECK(ret == -1 && strstr(log, "basic.yaml:41: values.bad-size: ") != NULL);
	CHECK(strstr(log, "(value '12 parsecs')") != NULL);

	/* a map where a value is expected is an error too, not a crash */
	capture_begin();
	ret = nj_conf_str(c, v, "map-not-scalar", &s);
	capture_end(log, sizeof(log));
	CHECK(ret == -1 && strstr(log, "basic.yaml:42: values.map-not-scalar: ") != NULL);
	CHECK(nj_conf_str(c, NULL, "name", &s) == 0 && !strcmp(s, "nightjar"));
	nj_conf_free(c);

	/* sizes and booleans through --set, including edge cases */
	{
		static const char *const ov[] = {
			"a=0",
			"b=18446744073709551615",
			"c=18446744073709551616",
			"d=16777216 GB",
			"e=17179869184gb",
			"f=1.5",
			"g=-1",
			"h=",
			"i= 2 kb ",
			"j=3MiB",
			"k=kb",
			"l=1.",
			"m=YES",
			"n=yess",
			"o=",
		};
		c = load_ok(NULL, ov, NJ_ARRAY_SIZE(ov));
		if (!c)
			return;
		CHECK(nj_conf_size(c, NULL, "a", &sz) == 0 && sz == 0);
		CHECK(nj_conf_size(c, NULL, "b", &sz) == 0 && sz == UINT64_MAX);
		capture_begin();
		CHECK(nj_conf_size(c, NULL, "c", &sz) == -1);
		CHECK(nj_conf_size(c, NULL, "d", &sz) == 0 && sz == 16777216ull << 30);
		CHECK(nj_conf_size(c, NULL, "e", &sz) == -1);
		CHECK(nj_conf_size(c, NULL, "f", &sz) == -1);
		CHECK(nj_conf_size(c, NULL, "g", &sz) == -1);
		CHECK(nj_conf_size(c, NULL, "h", &sz) == -1);
		CHECK(nj_conf_size(c, NULL, "k", &sz) == -1);
		CHECK(nj_conf_size(c, NULL, "l", &sz) == -1);
		CHECK(nj_conf_bool(c, NULL, "n", &b) == -1);
		CHECK(nj_conf_bool(c, NULL, "o", &b) == -1);
		CHECK(nj_conf_int(c, NULL, "h", 0, 10, &i) == -1);
		capture_end(log, sizeof(log));
		CHECK(strstr(log, "--set: c: size too large (value '18446744073709551616')") !=
		      NULL);
		CHECK(nj_conf_size(c, NULL, "i", &sz) == 0 && sz == 2048);
		CHECK(nj_conf_size(c, NULL, "j", &sz) == 0 && sz == 3ull << 20);
		CHECK(nj_conf_bool(c, NULL, "m", &b) == 0 && b);
		nj_conf_free(c);
	}
}

static void test_include(void)
{
	struct nj_conf *c = load_ok(fixture("include_main.yaml"), NULL, 0);
	const struct nj_conf_node *n;
	char err[1024];

	if (c) {
		/* keys after the include override it, keys before are overridden */
		CHECK_STR(val(c, "top"), "from-a");
		CHECK_STR(val(c, "top2"), "main-after");
		CHECK_STR(val(c, "a-only"), "yes");
		n = nj_conf_get(c, "a-only");
		CHECK(n && strstr(n->file, "inc/a.yaml") && n->line == 5);
		/* nested include, relative to the including file's directory */
		CHECK_STR(val(c, "d-only"), "from-d");
		n = nj_conf_get(c, "d-only");
		CHECK(n && strstr(n->file, "inc/deeper/d.yaml") && n->line == 1);
		/* a list of includes inside a nested map */
		CHECK_STR(val(c, "nested.own"), "1");
		CHECK_STR(val(c, "nested.b-key"), "from-main");
		CHECK_STR(val(c, "nested.b-only"), "overridden-by-c");
		CHECK_STR(val(c, "nested.c-only"), "3");
		CHECK(nj_conf_get(c, "nested.include") == NULL);
		CHECK(nj_conf_get(c, "include") == NULL);
		/* !include: the file is the value */
		CHECK_STR(val(c, "tagged.c-only"), "3");
		nj_conf_free(c);
	}

	load_fail(fixture("cycle_a.yaml"), NULL, 0, err, sizeof(err));
	CHECK(strstr(err, "cycle") != NULL);
	CHECK(strstr(err, "cycle_a.yaml") != NULL);
	load_fail(fixture("self_include.yaml"), NULL, 0, err, sizeof(err));
	CHECK(strstr(err, "cycle") != NULL);
	load_fail(fixture("missing_include.yaml"), NULL, 0, err, sizeof(err));
	CHECK(strstr(err, "does-not-exist.yaml") && strstr(err, "No such file"));
	CHECK(strstr(err, "included from ") && strstr(err, "missing_include.yaml:2"));
	load_fail(fixture("no-such-file.yaml"), NULL, 0, err, sizeof(err));
	CHECK(strstr(err, "no-such-file.yaml: No such file or directory") != NULL);

	/* depth limit: a chain of 10 distinct files */
	{
		char name[32], text[64];
		int k;

		for (k = 0; k < 10; k++) {
			snprintf(name, sizeof(name), "chain%d.yaml", k);
			snprintf(text, sizeof(text), "level%d: 1\ninclude: chain%d.yaml\n", k,
				 k + 1);
			write_file(name, k == 9 ? "end: 1\n" : text);
		}
		load_fail(tmp_path("chain0.yaml"), NULL, 0, err, sizeof(err));
		CHECK(strstr(err, "nested too deeply") != NULL);
		/* 8 levels below the top file are allowed */
		c = load_ok(tmp_path("chain1.yaml"), NULL, 0);
		CHECK(val(c, "end") != NULL);
		nj_conf_free(c);
	}

	/* size limit: a sparse file bigger than 16 MiB is refused before reading */
	{
		int fd = open(tmp_path("big.yaml"), O_CREAT | O_WRONLY | O_TRUNC, 0600);

		CHECK(fd >= 0 && ftruncate(fd, (17 << 20)) == 0);
		close(fd);
		load_fail(tmp_path("big.yaml"), NULL, 0, err, sizeof(err));
		CHECK(strstr(err, "too large") != NULL);
		write_file("inc-big.yaml", "include: big.yaml\n");
		load_fail(tmp_path("inc-big.yaml"), NULL, 0, err, sizeof(err));
		CHECK(strstr(err, "too large") && strstr(err, "inc-big.yaml:1"));
		load_fail(tmp_dir, NULL, 0, err, sizeof(err));
		CHECK(strstr(err, "not a regular file") != NULL);
	}
	write_file("inc-map.yaml", "include:\n  a: b\n");
	load_fail(tmp_path("inc-map.yaml"), NULL, 0, err, sizeof(err));
	CHECK(strstr(err, "inc-map.yaml:1:1: include: expected a file name") != NULL);
	write_file("inc-empty.yaml", "include: ''\n");
	load_fail(tmp_path("inc-empty.yaml"), NULL, 0, err, sizeof(err));
	CHECK(strstr(err, "empty file name") != NULL);
	write_file("inc-seq.yaml", "include: seq-root.yaml\n");
	write_file("seq-root.yaml", "- a\n- b\n");
	load_fail(tmp_path("inc-seq.yaml"), NULL, 0, err, sizeof(err));
	CHECK(strstr(err, "seq-root.yaml:1:1: the top level must be a mapping") != NULL);
}

static void test_bad_yaml(void)
{
	char err[1024];
	struct nj_conf *c;

	load_fail(fixture("bad_syntax.yaml"), NULL, 0, err, sizeof(err));
	CHECK(strstr(err, "bad_syntax.yaml:5:2: ") != NULL);
	if (!strstr(err, "bad_syntax.yaml:5:2: "))
		fprintf(stderr, "  err: %s\n", err);
	load_fail(fixture("bad_tab.yaml"), NULL, 0, err, sizeof(err));
	CHECK(strstr(err, "bad_tab.yaml:3:") != NULL);

	write_file("two-docs.yaml", "a: 1\n---\nb: 2\n");
	load_fail(tmp_path("two-docs.yaml"), NULL, 0, err, sizeof(err));
	CHECK(strstr(err, "two-docs.yaml:2:1: only one YAML document") != NULL);
	write_file("scalar-root.yaml", "just text\n");
	load_fail(tmp_path("scalar-root.yaml"), NULL, 0, err, sizeof(err));
	CHECK(strstr(err, "top level must be a mapping") != NULL);
	write_file("complex-key.yaml", "? [a, b]\n: 1\n");
	load_fail(tmp_path("complex-key.yaml"), NULL, 0, err, sizeof(err));
	CHECK(strstr(err, "complex-key.yaml:1:3: mapping keys must be scalars") != NULL);
	write_file("bad-utf8.yaml", "a: 1\nb: \xff\xfe\n");
	load_fail(tmp_path("bad-utf8.yaml"), NULL, 0, err, sizeof(err));
	CHECK(strstr(err, "bad-utf8.yaml:2:4: ") != NULL);
	write_file("unknown-alias.yaml", "a: *nope\n");
	load_fail(tmp_path("unknown-alias.yaml"), NULL, 0, err, sizeof(err));
	CHECK(strstr(err, "unknown-alias.yaml:1:4: unknown alias '*nope'") != NULL);
	write_file("unterminated.yaml", "a: \"open\n");
	load_fail(tmp_path("unterminated.yaml"), NULL, 0, err, sizeof(err));
	CHECK(strstr(err, "unterminated.yaml:2:1: ") != NULL);

	/* deep nesting is refused, not a stack overflow */
	{
		char deep[1200];
		int k;

		for (k = 0; k < 500; k++)
			deep[k] = '[';
		for (; k < 1000; k++)
			deep[k] = ']';
		deep[k] = '\0';
		write_file("deep.yaml", "a: ");
		{
			FILE *f = fopen(tmp_path("deep.yaml"), "a");

			fputs(deep, f);
			fputs("\n", f);
			fclose(f);
		}
		load_fail(tmp_path("deep.yaml"), NULL, 0, err, sizeof(err));
		CHECK(strstr(err, "nested more than") != NULL);
	}

	/* an empty file and a YAML header alone are empty configurations */
	write_file("empty.yaml", "");
	c = load_ok(tmp_path("empty.yaml"), NULL, 0);
	CHECK(c && nj_conf_root(c)->child == NULL);
	nj_conf_free(c);
	write_file("header-only.yaml", "%YAML 1.1\n---\n");
	c = load_ok(tmp_path("header-only.yaml"), NULL, 0);
	CHECK(c && nj_conf_root(c)->child == NULL);
	nj_conf_free(c);
	/* err may be NULL */
	CHECK(nj_conf_load(fixture("bad_syntax.yaml"), NULL, 0, NULL, 0) == NULL);
}

static void test_anchors(void)
{
	struct nj_conf *c = load_ok(fixture("anchors.yaml"), NULL, 0);
	char err[1024];

	if (c) {
		CHECK_STR(val(c, "copy.memcap"), "32mb");
		CHECK_STR(val(c, "copy.depth"), "1");
		CHECK_STR(val(c, "derived.memcap"), "32mb");
		CHECK_STR(val(c, "derived.depth"), "2");
		CHECK_STR(val(c, "again"), "hello");
		CHECK_STR(val(c, "list2.1"), "2");
		CHECK(nj_conf_get(c, "copy") != nj_conf_get(c, "base"));
		nj_conf_free(c);
	}
	/* "billion laughs": expansion stops at the node limit */
	write_file("laughs.yaml", "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
				  "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
				  "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
				  "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
				  "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
				  "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
				  "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
				  "h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]\n"
				  "i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h, *h]\n");
	load_fail(tmp_path("laughs.yaml"), NULL, 0, err, sizeof(err));
	CHECK(strstr(err, "configuration nodes") != NULL);
	write_file("bad-merge.yaml", "a: &a 1\nb:\n  <<: *a\n");
	load_fail(tmp_path("bad-merge.yaml"), NULL, 0, err, sizeof(err));
	CHECK(strstr(err, "bad-merge.yaml:3:3: merge key") != NULL);
}

static void test_overrides(void)
{
	static const char *const ov[] = {
		"name=changed",			     /* replace a scalar */
		"brand.new.key=1",		     /* create intermediate maps */
		"outputs.1.eve-log.filename=x.json", /* index a sequence */
		"outputs.2.stats.enabled=yes",	     /* append one past the end */
		"flags.3=d",			     /* append to a scalar list */
		"vars=flat",			     /* a map replaced by a scalar */
		"empty.sub=1",			     /* a scalar turned into a map */
		"newlist.0.name=a",		     /* a new sequence */
		"with=eq=sign",
	};
	struct nj_conf *c = load_ok(fixture("basic.yaml"), ov, NJ_ARRAY_SIZE(ov));
	const struct nj_conf_node *n;
	char err[1024];

	if (c) {
		CHECK_STR(val(c, "name"), "changed");
		n = nj_conf_get(c, "name");
		CHECK(n && !strcmp(n->file, "--set") && n->line == 0);
		CHECK_STR(val(c, "brand.new.key"), "1");
		CHECK(nj_conf_get(c, "brand.new")->kind == NJ_CONF_MAP);
		CHECK_STR(val(c, "outputs.1.eve-log.filename"), "x.json");
		CHECK_STR(val(c, "outputs.1.eve-log.enabled"), "yes");
		CHECK_STR(val(c, "outputs.2.stats.enabled"), "yes");
		CHECK(nj_conf_get(c, "outputs.2")->key == NULL);
		CHECK_STR(val(c, "flags.3"), "d");
		CHECK_STR(val(c, "vars"), "flat");
		CHECK(nj_conf_get(c, "vars")->child == NULL);
		CHECK_STR(val(c, "empty.sub"), "1");
		CHECK(nj_conf_get(c, "newlist")->kind == NJ_CONF_SEQ);
		CHECK_STR(val(c, "newlist.0.name"), "a");
		CHECK_STR(val(c, "with"), "eq=sign");
		nj_conf_free(c);
	}

	{
		static const char *const noeq[] = {"novalue"};
		static const char *const nokey[] = {"=1"};
		static const char *const gap[] = {"outputs.5.x=1"};
		static const char *const notidx[] = {"outputs.abc=1"};
		static const char *const emptypart[] = {"a..b=1"};

		load_fail(fixture("basic.yaml"), noeq, 1, err, sizeof(err));
		CHECK(strstr(err, "override 'novalue': expected key=value") != NULL);
		load_fail(NULL, nokey, 1, err, sizeof(err));
		CHECK(strstr(err, "empty key") != NULL);
		load_fail(fixture("basic.yaml"), gap, 1, err, sizeof(err));
		CHECK(strstr(err, "index 5 out of range (the sequence has 2 items)") != NULL);
		load_fail(fixture("basic.yaml"), notidx, 1, err, sizeof(err));
		CHECK(strstr(err, "not an index") != NULL);
		load_fail(NULL, emptypart, 1, err, sizeof(err));
		CHECK(strstr(err, "empty part") != NULL);
	}
}

/* Keys under njtest: nobody else registers them, so counts are exact. */
NJ_CONF_KEY(t_known, "njtest.known", NJ_CT_INT, "0", "A known int.")
NJ_CONF_KEY(t_group, "njtest.group", NJ_CT_MAP, NULL, "Anything | below.")
NJ_CONF_KEY(t_items, "njtest.items.*.name", NJ_CT_STR, "x", "Item name.")
NJ_CONF_KEY(t_leaf, "njtest.subtree.leaf", NJ_CT_BOOL, "no", "A leaf.")
NJ_CONF_KEY(t_list, "njtest.list", NJ_CT_LIST, "", "A list.")

static void test_registry(void)
{
	struct nj_conf *c = load_ok(fixture("unknown.yaml"), NULL, 0);
	static const char *const ov[] = {"njtest.list.0=a", "njtest.list.1.x=b", "njtest.bogus=1"};
	char log[4096], *md = NULL;
	size_t mdlen = 0;
	unsigned count;
	FILE *f;

	if (c) {
		capture_begin();
		count = nj_conf_warn_unknown(c);
		capture_end(log, sizeof(log));
		CHECK(count == 4);
		if (count != 4)
			fprintf(stderr, "  warnings:\n%s", log);
		CHECK(strstr(log, "unknown.yaml:3: unknown configuration key 'njtest.typo-key'") !=
		      NULL);
		CHECK(strstr(log,
			     "unknown.yaml:10: unknown configuration key 'njtest.items.0.extra'") !=
		      NULL);
		CHECK(strstr(log,
			     "unknown.yaml:14: unknown configuration key 'njtest.subtree.other'") !=
		      NULL);
		CHECK(strstr(log, "unknown.yaml:15: unknown configuration key "
				  "'njtest-unregistered-top'") != NULL);
		CHECK(strstr(log, "child") == NULL);
		CHECK(strstr(log, "group") == NULL);
		nj_conf_free(c);
	}
	c = load_ok(NULL, ov, NJ_ARRAY_SIZE(ov));
	if (c) {
		capture_begin();
		count = nj_conf_warn_unknown(c);
		capture_end(log, sizeof(log));
		CHECK(count == 1 && strstr(log, "--set: unknown configuration key 'njtest.bogus'"));
		nj_conf_free(c);
	}

	CHECK(nj_conf_is_known("njtest.known"));
	CHECK(nj_conf_is_known("njtest"));
	CHECK(nj_conf_is_known("njtest.items"));
	CHECK(nj_conf_is_known("njtest.items.7"));
	CHECK(nj_conf_is_known("njtest.items.7.name"));
	CHECK(nj_conf_is_known("njtest.items.anything.name"));
	CHECK(!nj_conf_is_known("njtest.items.7.other"));
	CHECK(nj_conf_is_known("njtest.group.a.b.c"));
	CHECK(nj_conf_is_known("njtest.list.3"));
	CHECK(!nj_conf_is_known("njtest.known.sub"));
	CHECK(!nj_conf_is_known("njtest.unknown"));
	CHECK(!nj_conf_is_known("njtest..known"));
	CHECK(!nj_conf_is_known(""));
	CHECK(!nj_conf_is_known(NULL));

	/* registering twice must not make the list a loop */
	nj_conf_register(&nj_conf_key_t_known);
	CHECK(nj_conf_is_known("njtest.known"));

	f = open_memstream(&md, &mdlen);
	CHECK(f != NULL);
	if (f) {
		char *a, *b;

		nj_conf_dump_keys_md(f);
		fclose(f);
		CHECK(!strncmp(md, "| key | type | default | description |\n|---|---|---|---|\n",
			       56));
		CHECK(strstr(md, "| `njtest.known` | int | `0` | A known int. |\n") != NULL);
		CHECK(strstr(md, "| `njtest.group` | map |  | Anything \\| below. |\n") != NULL);
		CHECK(strstr(md, "| `njtest.list` | list |  | A list. |\n") != NULL);
		/* sorted by key */
		a = strstr(md, "`njtest.group`");
		b = strstr(md, "`njtest.items.*.name`");
		CHECK(a && b && a < b);
		a = strstr(md, "`njtest.subtree.leaf`");
		CHECK(a && b && b < a);
		free(md);
	}
}

static int corpus_failed, corpus_loaded;

static void corpus_load(const char *path)
{
	char err[1024];
	struct nj_conf *c = nj_conf_load(path, NULL, 0, err, sizeof(err));

	if (!c) {
		fprintf(stderr, "corpus: %s: failed: %s\n", path, err);
		corpus_failed++;
		return;
	}
	corpus_loaded++;
	nj_conf_free(c);
}

static void corpus_walk(const char *dir, int depth)
{
	struct dirent **ents;
	char path[4096];
	int n, k;

	if (depth > 8)
		return;
	n = scandir(dir, &ents, NULL, alphasort);
	if (n < 0)
		return;
	for (k = 0; k < n; k++) {
		struct stat st;

		if (ents[k]->d_name[0] == '.')
			goto next;
		snprintf(path, sizeof(path), "%s/%s", dir, ents[k]->d_name);
		if (lstat(path, &st) < 0)
			goto next;
		if (S_ISDIR(st.st_mode))
			corpus_walk(path, depth + 1);
		else if (S_ISREG(st.st_mode) && !strcmp(ents[k]->d_name, "suricata.yaml"))
			corpus_load(path);
	next:
		free(ents[k]);
	}
	free(ents);
}

static void test_corpus(void)
{
	char sv[2048], path[4096];
	struct nj_conf *c;
	struct stat st;

	snprintf(sv, sizeof(sv), "%s/../shared/corpus/suricata-verify", NJ_TEST_SRCROOT);
	if (stat(sv, &st) < 0) {
		printf("SKIP corpus: %s not found\n", sv);
		return;
	}
	snprintf(path, sizeof(path), "%s/tests", sv);
	corpus_walk(path, 0);
	snprintf(path, sizeof(path), "%s/etc/suricata-3.1.2.yaml", sv);
	corpus_load(path);
	snprintf(path, sizeof(path), "%s/etc/suricata-4.0.3.yaml", sv);
	corpus_load(path);
	printf("corpus: %d suricata.yaml files loaded, %d failed\n", corpus_loaded, corpus_failed);
	CHECK(corpus_failed == 0);
	CHECK(corpus_loaded >= 100);

	/* spot checks: include of the shared etc file, then local overrides */
	snprintf(path, sizeof(path), "%s/tests/ethernet-eve/suricata.yaml", sv);
	c = nj_conf_load(path, NULL, 0, NULL, 0);
	CHECK(c != NULL);
	if (c) {
		const struct nj_conf_node *n = nj_conf_get(c, "vars.address-groups.HOME_NET");

		CHECK_STR(val(c, "outputs.0.eve-log.ethernet"), "yes");
		CHECK(n && strstr(n->file, "etc/suricata-4.0.3.yaml"));
		nj_conf_free(c);
	}
	snprintf(path, sizeof(path), "%s/tests/issue-4407/suricata.yaml", sv);
	c = nj_conf_load(path, NULL, 0, NULL, 0);
	CHECK(c != NULL);
	if (c) {
		const struct nj_conf_node *n = nj_conf_get(c, "vars.address-groups.SUPPRESS");

		CHECK(n && strstr(n->file, "suppress.yaml"));
		CHECK(nj_conf_get(c, "vars.address-groups.HOME_NET") != NULL);
		nj_conf_free(c);
	}
}

static void test_repo_default(void)
{
	char path[4096];
	struct stat st;
	struct nj_conf *c;

	/* the shipped default configuration must always load */
	snprintf(path, sizeof(path), "%s/config/nightjar.yaml", NJ_TEST_SRCROOT);
	if (stat(path, &st) < 0)
		return;
	c = load_ok(path, NULL, 0);
	nj_conf_free(c);
}

static void rm_tmp(void)
{
	struct dirent **ents;
	int n, k;

	n = scandir(tmp_dir, &ents, NULL, alphasort);
	for (k = 0; k < n; k++) {
		if (ents[k]->d_name[0] != '.')
			unlink(tmp_path(ents[k]->d_name));
		free(ents[k]);
	}
	if (n >= 0)
		free(ents);
	rmdir(tmp_dir);
}

int main(int argc, char **argv)
{
	const char *env = getenv("NJ_TEST_CONFIG_DATA");

	if (argc > 1)
		snprintf(data_dir, sizeof(data_dir), "%s", argv[1]);
	else if (env)
		snprintf(data_dir, sizeof(data_dir), "%s", env);
	else
		snprintf(data_dir, sizeof(data_dir), "%s/tests/data/config", NJ_TEST_SRCROOT);
	if (!mkdtemp(tmp_dir)) {
		perror("mkdtemp");
		return 1;
	}

	test_basic();
	test_getters();
	test_include();
	test_bad_yaml();
	test_anchors();
	test_overrides();
	test_registry();
	test_corpus();
	test_repo_default();

	rm_tmp();
	printf("%u checks, %u failed\n", checks, failures);
	return failures ? 1 : 0;
}
