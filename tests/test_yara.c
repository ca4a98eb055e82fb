/* SPDX-License-Identifier: MIT */
/*
 * detect/yara without packets: compilation (includes relative to the
 * including file, folders, compile errors as FILE:LINE, missing files), the
 * configuration keys, and the per-core scanner driven through its files
 * interface ops: data in pieces, a match across arena chunks, gaps as zeros,
 * the size limit (skip and head), the memcap, the scan timeout, the fileinfo
 * "yara" list (tags, meta with repeated keys), and a reload adopted at the
 * next sync (a broken reload keeps the current set).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "config/config.h"
#include "detect/yara/yara.h"
#include "export/json.h"
#include "parsers/files.h"
#include "tests/nj_test.h"

static char dir[64];

static void write_file(const char *name, const char *text)
{
	char path[256];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "w");
	if (!fp) {
		perror(path);
		exit(1);
	}
	fputs(text, fp);
	fclose(fp);
}

static const char *path_of(const char *name)
{
	static char p[4][256];
	static int k;

	k = (k + 1) % 4;
	snprintf(p[k], sizeof(p[k]), "%s/%s", dir, name);
	return p[k];
}

/* Compiles cfg; returns the object and copies what went to err into out. */
static struct nj_yara *compile(struct nj_yara_config *cfg, char *out, size_t n)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *err = open_memstream(&buf, &len);
	struct nj_yara *y = nj_yara_create(cfg, err);

	fclose(err);
	snprintf(out, n, "%s", buf ? buf : "");
	free(buf);
	return y;
}

static void config_one(struct nj_yara_config *cfg, const char *rules)
{
	nj_yara_config_defaults(cfg);
	cfg->enabled = true;
	cfg->rules[0] = rules;
	cfg->nrules = 1;
}

/* Runs one file through the ops; returns the parsed fileinfo object of log. */
static json_t *scan_file(struct nj_yara_worker *w, uint32_t slot, const char *data, size_t len,
			 size_t piece, uint64_t start_off)
{
	static char buf[65536];
	struct nj_json j;
	struct nj_file_view v = {.state = NJ_FILE_CLOSED, .size = start_off + len};
	json_error_t e;
	json_t *o;

	for (size_t off = 0; off < len; off += piece) {
		size_t k = len - off < piece ? len - off : piece;

		nj_yara_file_ops.data(w, slot, start_off + off, (const uint8_t *)data + off,
				      (uint32_t)k);
	}
	nj_yara_file_ops.scan(w, slot, &v);
	nj_json_init(&j, buf, sizeof(buf));
	nj_json_open_obj(&j, NULL);
	nj_yara_file_ops.log(w, slot, &j);
	nj_json_close_obj(&j);
	nj_yara_file_ops.done(w, slot, &v);
	nj_yara_file_ops.release(w, slot);
	CHECK(nj_json_ok(&j));
	o = json_loadb(buf, j.len, 0, &e);
	CHECK(o != NULL);
	if (!o)
		fprintf(stderr, "not JSON: %.*s\n", (int)j.len, buf);
	return o;
}

/* Names of the rules in the "yara" list, comma-separated ("-" when scanned, none). */
static const char *rules_of(json_t *o)
{
	static char out[512];
	json_t *arr = json_object_get(o, "yara"), *m;
	size_t i;

	out[0] = '\0';
	if (!arr)
		return "(not scanned)";
	json_array_foreach(arr, i, m)
	{
		if (out[0])
			strcat(out, ",");
		strncat(out, json_string_value(json_object_get(m, "rule")),
			sizeof(out) - strlen(out) - 2);
	}
	return out[0] ? out : "-";
}

static const char *status_of(json_t *o)
{
	json_t *s = json_object_get(o, "yara_status");

	return s ? json_string_value(s) : "ok";
}

static void test_compile(void)
{
	struct nj_yara_config cfg;
	struct nj_yara *y;
	char out[4096];

	/* includes are relative to the including file, as the yara CLI resolves them */
	write_file("index.yar", "include \"sub/a.yar\"\n");
	write_file("sub/a.yar", "rule Hello { strings: $a = \"hello\" condition: $a }\n"
				"rule Tagged : red blue {\n"
				"  meta:\n    category = \"Trojan\"\n    severity = 1\n"
				"    hash = \"aa\"\n    hash = \"bb\"\n    ok = true\n"
				"  strings: $w = \"world\"\n  condition: $w\n}\n"
				"private rule Hidden { condition: true }\n");
	config_one(&cfg, path_of("index.yar"));
	y = compile(&cfg, out, sizeof(out));
	CHECK(y != NULL);
	CHECK(nj_yara_rule_count(y) == 3);
	CHECK(nj_yara_generation(y) == 1);
	nj_yara_destroy(y);

	/* a folder: .yar and .yara files, sub-folders, other names ignored */
	write_file("dir/one.yar", "rule One { condition: false }\n");
	write_file("dir/x/two.yara", "rule Two { condition: false }\n");
	write_file("dir/readme.txt", "not a rule file {\n");
	config_one(&cfg, path_of("dir"));
	y = compile(&cfg, out, sizeof(out));
	CHECK(y != NULL && nj_yara_rule_count(y) == 2);
	nj_yara_destroy(y);

	/* an error names the file and the line, and fails */
	write_file("bad.yar", "rule Ok { condition: true }\n\nrule Bad {\n  condition:\n"
			      "    nosuchthing\n}\n");
	config_one(&cfg, path_of("bad.yar"));
	y = compile(&cfg, out, sizeof(out));
	CHECK(y == NULL);
	CHECK(strstr(out, "bad.yar:5: error:") != NULL);
	CHECK(strstr(out, "nosuchthing") != NULL);
	if (!strstr(out, "bad.yar:5: error:"))
		fprintf(stderr, "compile output: %s\n", out);

	/* through an include: the included file's name and line */
	write_file("inc_bad.yar", "include \"bad.yar\"\n");
	config_one(&cfg, path_of("inc_bad.yar"));
	y = compile(&cfg, out, sizeof(out));
	CHECK(y == NULL && strstr(out, "bad.yar:5: error:") != NULL);

	/* a duplicate rule name */
	write_file("syntax.yar", "rule A { condition: true }\n\nrule A { condition: false }\n");
	config_one(&cfg, path_of("syntax.yar"));
	y = compile(&cfg, out, sizeof(out));
	CHECK(y == NULL && strstr(out, "syntax.yar:3: error:") != NULL);
	if (!strstr(out, "syntax.yar:3: error:"))
		fprintf(stderr, "compile output: %s\n", out);

	/* missing path; a folder without rule files */
	config_one(&cfg, path_of("nope.yar"));
	y = compile(&cfg, out, sizeof(out));
	CHECK(y == NULL && strstr(out, "nope.yar:0: error:") != NULL);
	write_file("empty/readme.txt", "x");
	config_one(&cfg, path_of("empty"));
	y = compile(&cfg, out, sizeof(out));
	CHECK(y == NULL && strstr(out, "no rule file") != NULL);
}

static void test_config(void)
{
	struct nj_yara_config cfg;
	struct nj_conf *c;
	char err[256];
	const char *ok[] = {"yara.enabled=yes",	  "yara.rules=/x/a.yar", "yara.max-file-size=1mb",
			    "yara.memcap=2mb",	  "yara.oversize=head",	 "yara.scan-timeout=3",
			    "yara.sid-base=5000", "yara.gid=7"};
	const char *no_rules[] = {"yara.enabled=yes"};
	const char *bad_over[] = {"yara.oversize=sometimes"};
	const char *bad_size[] = {"yara.max-file-size=0"};

	c = nj_conf_load(NULL, ok, 8, err, sizeof(err));
	CHECK(c != NULL);
	CHECK(nj_yara_config_load(&cfg, c) == 0);
	CHECK(cfg.enabled && cfg.nrules == 1 && strcmp(cfg.rules[0], "/x/a.yar") == 0);
	CHECK(cfg.max_file_size == 1u << 20 && cfg.memcap == 2u << 20 && cfg.oversize_head);
	CHECK(cfg.scan_timeout == 3 && cfg.sid_base == 5000 && cfg.gid == 7);
	nj_conf_free(c);
	c = nj_conf_load(NULL, no_rules, 1, err, sizeof(err));
	CHECK(c && nj_yara_config_load(&cfg, c) < 0);
	nj_conf_free(c);
	c = nj_conf_load(NULL, bad_over, 1, err, sizeof(err));
	CHECK(c && nj_yara_config_load(&cfg, c) < 0);
	nj_conf_free(c);
	c = nj_conf_load(NULL, bad_size, 1, err, sizeof(err));
	CHECK(c && nj_yara_config_load(&cfg, c) < 0);
	nj_conf_free(c);
	/* defaults: off */
	CHECK(nj_yara_config_load(&cfg, NULL) == 0 && !cfg.enabled && !cfg.oversize_head);
}

static void test_scan(void)
{
	struct nj_yara_config cfg;
	struct nj_yara *y;
	struct nj_yara_worker *w;
	const struct nj_yara_stats *st;
	char out[4096];
	static char big[40000];
	json_t *o, *m;

	config_one(&cfg, path_of("index.yar"));
	cfg.max_file_size = 1 << 20;
	cfg.memcap = 4 * 16384;
	y = compile(&cfg, out, sizeof(out));
	CHECK(y != NULL);
	if (!y)
		return;
	w = nj_yara_worker_create(y, NULL, 8);
	CHECK(w != NULL);
	if (!w) {
		nj_yara_destroy(y);
		return;
	}
	st = nj_yara_worker_stats(w);

	/* byte by byte; the private rule is never reported */
	o = scan_file(w, 0, "say hello world", 15, 1, 0);
	CHECK(strcmp(rules_of(o), "Hello,Tagged") == 0);
	CHECK(strcmp(status_of(o), "ok") == 0);
	m = json_array_get(json_object_get(o, "yara"), 1);
	CHECK(json_array_size(json_object_get(m, "tags")) == 2);
	CHECK(strcmp(json_string_value(json_array_get(json_object_get(m, "tags"), 0)), "red") == 0);
	m = json_object_get(m, "meta");
	CHECK(strcmp(json_string_value(json_object_get(m, "category")), "Trojan") == 0);
	CHECK(json_integer_value(json_object_get(m, "severity")) == 1);
	CHECK(json_is_true(json_object_get(m, "ok")));
	/* a repeated key keeps every value */
	CHECK(json_array_size(json_object_get(m, "hash")) == 2);
	json_decref(o);
	CHECK(st->scanned == 1 && st->matches == 2 && st->matched_files == 1 && st->bytes == 15);

	/* no match: an empty list, still scanned */
	o = scan_file(w, 1, "nothing here", 12, 5, 0);
	CHECK(strcmp(rules_of(o), "-") == 0);
	json_decref(o);

	/* a string across the 16 KiB arena chunks */
	memset(big, 'x', sizeof(big));
	memcpy(big + 16384 - 2, "hello", 5);
	o = scan_file(w, 2, big, sizeof(big), 1000, 0);
	CHECK(strcmp(rules_of(o), "Hello") == 0);
	json_decref(o);
	CHECK(st->mem_used == 0);

	/* a gap before the data: zeros keep the offsets */
	o = scan_file(w, 3, "hello", 5, 5, 100);
	CHECK(strcmp(rules_of(o), "Hello") == 0);
	json_decref(o);
	CHECK(st->bytes == 15 + 12 + sizeof(big) + 105);

	/* over the memcap (4 chunks): not scanned, counted, memory given back */
	{
		static char huge[5 * 16384];

		memset(huge, 'y', sizeof(huge));
		o = scan_file(w, 4, huge, sizeof(huge), 4096, 0);
		CHECK(strcmp(status_of(o), "memcap") == 0);
		CHECK(strcmp(rules_of(o), "(not scanned)") == 0);
		json_decref(o);
		CHECK(st->memcap == 1 && st->mem_used == 0);
	}
	nj_yara_worker_destroy(w);

	/* max-file-size: skip, then head */
	cfg.max_file_size = 10;
	cfg.memcap = 1 << 20;
	nj_yara_destroy(y);
	y = compile(&cfg, out, sizeof(out));
	w = y ? nj_yara_worker_create(y, NULL, 4) : NULL;
	CHECK(w != NULL);
	if (w) {
		st = nj_yara_worker_stats(w);
		o = scan_file(w, 0, "0123456789 hello", 16, 3, 0);
		CHECK(strcmp(status_of(o), "too_large") == 0);
		CHECK(strcmp(rules_of(o), "(not scanned)") == 0);
		json_decref(o);
		CHECK(st->too_large == 1 && st->scanned == 0);
		nj_yara_worker_destroy(w);
	}
	nj_yara_destroy(y);
	cfg.oversize_head = true;
	y = compile(&cfg, out, sizeof(out));
	w = y ? nj_yara_worker_create(y, NULL, 4) : NULL;
	CHECK(w != NULL);
	if (w) {
		st = nj_yara_worker_stats(w);
		o = scan_file(w, 0, "hello 6789 world", 16, 3, 0);
		/* the first 10 bytes hold "hello", not "world" */
		CHECK(strcmp(status_of(o), "partial") == 0);
		CHECK(strcmp(rules_of(o), "Hello") == 0);
		json_decref(o);
		CHECK(st->too_large == 1 && st->scanned == 1 && st->bytes == 10);
		nj_yara_worker_destroy(w);
	}
	nj_yara_destroy(y);
}

static void test_timeout(void)
{
	struct nj_yara_config cfg;
	struct nj_yara *y;
	struct nj_yara_worker *w;
	char out[4096];
	char *data;
	json_t *o;
	size_t n = 1 << 20;

	/* filesize^2 iterations: far more than one second */
	write_file("slow.yar",
		   "rule Slow {\n  condition:\n    for all i in (0..filesize - 1) : (\n"
		   "      for all k in (0..filesize - 1) : (uint8(i) + uint8(k) < 1000))\n"
		   "}\n");
	config_one(&cfg, path_of("slow.yar"));
	cfg.scan_timeout = 1;
	cfg.max_file_size = n;
	cfg.memcap = 2 * n;
	y = compile(&cfg, out, sizeof(out));
	w = y ? nj_yara_worker_create(y, NULL, 2) : NULL;
	CHECK(w != NULL);
	data = calloc(1, n);
	if (w && data) {
		o = scan_file(w, 0, data, n, 65536, 0);
		CHECK(strcmp(status_of(o), "timeout") == 0);
		json_decref(o);
		CHECK(nj_yara_worker_stats(w)->timeouts == 1);
	}
	free(data);
	nj_yara_worker_destroy(w);
	nj_yara_destroy(y);
}

static void test_reload(void)
{
	struct nj_yara_config cfg;
	struct nj_yara *y;
	struct nj_yara_worker *w;
	char out[4096];
	char *buf = NULL;
	size_t len = 0;
	FILE *err;
	json_t *o;

	write_file("reload.yar", "rule First { strings: $a = \"abc\" condition: $a }\n");
	config_one(&cfg, path_of("reload.yar"));
	y = compile(&cfg, out, sizeof(out));
	w = y ? nj_yara_worker_create(y, NULL, 2) : NULL;
	CHECK(w != NULL);
	if (!w) {
		nj_yara_destroy(y);
		return;
	}
	o = scan_file(w, 0, "xxabcxx", 7, 7, 0);
	CHECK(strcmp(rules_of(o), "First") == 0);
	json_decref(o);

	/* a broken file: the reload fails and the current set stays */
	write_file("reload.yar", "rule Broken { condition: nope }\n");
	err = open_memstream(&buf, &len);
	CHECK(nj_yara_reload(y, err) == -EINVAL);
	fclose(err);
	CHECK(buf && strstr(buf, "reload.yar:1: error:") != NULL);
	free(buf);
	CHECK(nj_yara_generation(y) == 1);
	nj_yara_worker_sync(w);
	CHECK(nj_yara_worker_stats(w)->reloads == 0);

	/* a good one: published, adopted at the next sync only */
	write_file("reload.yar", "rule Second { strings: $a = \"abc\" condition: $a }\n"
				 "rule Third { strings: $a = \"xx\" condition: $a }\n");
	CHECK(nj_yara_reload(y, NULL) == 0);
	CHECK(nj_yara_generation(y) == 2 && nj_yara_rule_count(y) == 2);
	o = scan_file(w, 0, "xxabcxx", 7, 7, 0);
	CHECK(strcmp(rules_of(o), "First") == 0);
	json_decref(o);
	nj_yara_worker_sync(w);
	CHECK(nj_yara_worker_stats(w)->reloads == 1);
	o = scan_file(w, 1, "xxabcxx", 7, 7, 0);
	CHECK(strcmp(rules_of(o), "Second,Third") == 0);
	json_decref(o);
	nj_yara_worker_destroy(w);
	nj_yara_destroy(y);
}

int main(void)
{
	char sub[128];

	snprintf(dir, sizeof(dir), "/tmp/nj-yara-XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	for (const char *d = "sub\0dir\0dir/x\0empty\0"; *d; d += strlen(d) + 1) {
		snprintf(sub, sizeof(sub), "%s/%s", dir, d);
		mkdir(sub, 0755);
	}
	test_compile();
	test_config();
	test_scan();
	test_timeout();
	test_reload();
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", dir);
	}
	if (failures)
		fprintf(stderr, "%d failure(s)\n", failures);
	return failures ? 1 : 0;
}
