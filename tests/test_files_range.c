/* SPDX-License-Identifier: MIT */
/*
 * HTTP byte-range reassembly (parsers/files_range.c) through a real EVE file:
 * ranges in order, out of order (every order of four, concurrent and
 * interleaved), overlapping (first copy wins), across flows; a gap at the
 * end; the memcap (range data dropped, containers evicted), the container
 * cap, the timeout; memory back to zero; Content-Range parsing
 * (Suricata's parser and checks) and the configuration keys.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "config/config.h"
#include "dataplane/flow.h"
#include "export/eve.h"
#include "parsers/files.h"
#include "parsers/http/http_priv.h"
#include "tests/nj_test.h"
#include "tests/nj_test_eve.h"

#define TS  1500000000000000ull
#define SEC 1000000ull

struct env {
	char dir[64];
	char eve_path[128];
	struct nj_eve *eve;
	struct nj_files *fs;
	json_t *ev[256];
	unsigned nev;
};

static struct nj_flow flows[4];

static void init_flow(struct nj_flow *f, unsigned i)
{
	memset(f, 0, sizeof(*f));
	f->proto = 6;
	f->addr[0][0] = 10;
	f->addr[0][3] = 1;
	f->addr[1][0] = 10;
	f->addr[1][3] = 2;
	f->port[0] = (uint16_t)(40000 + i);
	f->port[1] = 80;
	f->flow_id = 1000 + i;
	f->last_us = TS;
}

static void cfg_base(struct nj_files_config *c)
{
	nj_files_config_defaults(c);
	c->md5 = c->sha256 = true;
}

static bool env_open(struct env *e, struct nj_files_config *cfg)
{
	memset(e, 0, sizeof(*e));
	snprintf(e->dir, sizeof(e->dir), "/tmp/nj_frange_XXXXXX");
	if (!mkdtemp(e->dir))
		return false;
	snprintf(e->eve_path, sizeof(e->eve_path), "%s/eve.json", e->dir);
	e->eve = nj_test_eve_open(e->eve_path, ~0u);
	CHECK(e->eve != NULL);
	if (!e->eve)
		return false;
	e->fs = nj_files_create(cfg, nj_eve_worker(e->eve, 0));
	CHECK(e->fs != NULL);
	for (unsigned i = 0; i < 4; i++)
		init_flow(&flows[i], i);
	return e->fs != NULL;
}

/* Destroys the files object (what is left is dropped), then reads the events. */
static void env_close(struct env *e)
{
	FILE *fp;
	char line[65536];

	nj_files_destroy(e->fs);
	e->fs = NULL;
	nj_eve_worker_flush(nj_eve_worker(e->eve, 0));
	nj_eve_close(e->eve);
	fp = fopen(e->eve_path, "r");
	CHECK(fp != NULL);
	while (fp && fgets(line, sizeof(line), fp)) {
		json_t *js = json_loads(line, 0, NULL);

		CHECK(js != NULL);
		if (js && e->nev < NJ_ARRAY_SIZE(e->ev))
			e->ev[e->nev++] = js;
		else
			json_decref(js);
	}
	if (fp)
		fclose(fp);
}

static void env_free(struct env *e)
{
	char cmd[128];

	for (unsigned i = 0; i < e->nev; i++)
		json_decref(e->ev[i]);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", e->dir);
	CHECK(system(cmd) == 0);
}

static const char *fi_str(json_t *ev, const char *k)
{
	return json_string_value(json_object_get(json_object_get(ev, "fileinfo"), k));
}

static long long fi_int(json_t *ev, const char *k)
{
	json_t *v = json_object_get(json_object_get(ev, "fileinfo"), k);

	return v ? json_integer_value(v) : -1;
}

static bool streq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

static void md5_hex(const void *d, size_t n, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	static const char x[] = "0123456789abcdef";

	EVP_Digest(d, n, md, &len, EVP_md5(), NULL);
	for (unsigned i = 0; i < len; i++) {
		out[2 * i] = x[md[i] >> 4];
		out[2 * i + 1] = x[md[i] & 15];
	}
	out[2 * len] = '\0';
}

static void fill(uint8_t *b, size_t n, uint32_t seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		b[i] = (uint8_t)(seed >> 16);
	}
}

static void meta(struct nj_json *j, const void *arg)
{
	nj_json_open_obj(j, "http");
	nj_json_str(j, "url", arg);
	nj_json_close_obj(j);
}

static const uint8_t host[] = "example.com", name[] = "/big.bin";
#define HL ((uint32_t)sizeof(host) - 1)
#define NL ((uint32_t)sizeof(name) - 1)

static bool ropen(struct env *e, struct nj_file_range_ref *r, unsigned flow, uint64_t tx,
		  uint64_t start, uint64_t end, uint64_t total, uint64_t ts)
{
	return nj_file_range_open(e->fs, r, &flows[flow], host, HL, name, NL, "http", tx, 1, start,
				  end, total, ts);
}

/* Feeds [from, to) of buf (relative to the range) in pieces of step bytes. */
static void feed(struct nj_file_range_ref *r, const uint8_t *buf, uint64_t from, uint64_t to,
		 uint32_t step)
{
	for (uint64_t o = from; o < to; o += step)
		nj_file_range_append(r, buf + o, (uint32_t)(to - o < step ? to - o : step));
}

#define TOTAL 40000u
static uint8_t content[TOTAL];

/* One complete event: the reassembled file, its md5, the closing range's context. */
static void check_whole(struct env *e, uint64_t tx, unsigned flow, const char *state)
{
	char want[65];

	md5_hex(content, TOTAL, want);
	CHECK(e->nev == 1);
	if (e->nev != 1)
		return;
	CHECK(fi_int(e->ev[0], "size") == TOTAL);
	CHECK(streq(fi_str(e->ev[0], "state"), state));
	if (streq(state, "CLOSED"))
		CHECK(streq(fi_str(e->ev[0], "md5"), want));
	CHECK(streq(fi_str(e->ev[0], "filename"), "/big.bin"));
	CHECK(fi_int(e->ev[0], "tx_id") == (long long)tx);
	CHECK(fi_int(e->ev[0], "start") == -1); /* the whole file has no range */
	CHECK(json_integer_value(json_object_get(e->ev[0], "src_port")) == 80);
	CHECK(json_integer_value(json_object_get(e->ev[0], "dest_port")) == 40000 + flow);
	CHECK(streq(json_string_value(json_object_get(json_object_get(e->ev[0], "http"), "url")),
		    "/big.bin"));
}

/* Four ranges of 10000 bytes, each on its own flow, opened, fed and closed sequentially. */
static void test_in_order(void)
{
	struct env e;
	struct nj_files_config cfg;
	struct nj_file_range_ref r;

	cfg_base(&cfg);
	if (!env_open(&e, &cfg))
		return;
	for (unsigned i = 0; i < 4; i++) {
		CHECK(ropen(&e, &r, i, i, i * 10000u, i * 10000u + 9999, TOTAL, TS + i));
		feed(&r, content + i * 10000u, 0, 10000, 1460);
		CHECK(nj_file_range_close(&r, true, TS + i, meta, "/big.bin") == (i == 3));
		CHECK(r.r == NULL);
	}
	CHECK(nj_files_stats(e.fs)->range_reassembled == 1);
	CHECK(nj_files_stats(e.fs)->range_open == 0);
	CHECK(nj_files_stats(e.fs)->range_memuse == 0);
	env_close(&e);
	check_whole(&e, 3, 3, "CLOSED");
	env_free(&e);
}

/* Every order of four ranges, each sequential, then each concurrent (interleaved). */
static void test_out_of_order(void)
{
	static const unsigned perms[24][4] = {
		{0, 1, 2, 3}, {0, 1, 3, 2}, {0, 2, 1, 3}, {0, 2, 3, 1}, {0, 3, 1, 2}, {0, 3, 2, 1},
		{1, 0, 2, 3}, {1, 0, 3, 2}, {1, 2, 0, 3}, {1, 2, 3, 0}, {1, 3, 0, 2}, {1, 3, 2, 0},
		{2, 0, 1, 3}, {2, 0, 3, 1}, {2, 1, 0, 3}, {2, 1, 3, 0}, {2, 3, 0, 1}, {2, 3, 1, 0},
		{3, 0, 1, 2}, {3, 0, 2, 1}, {3, 1, 0, 2}, {3, 1, 2, 0}, {3, 2, 0, 1}, {3, 2, 1, 0},
	};

	for (unsigned mode = 0; mode < 2; mode++) {
		for (unsigned p = 0; p < 24; p++) {
			struct env e;
			struct nj_files_config cfg;
			struct nj_file_range_ref r[4];
			unsigned last = perms[p][3];

			cfg_base(&cfg);
			if (!env_open(&e, &cfg))
				return;
			if (mode == 0) {
				for (unsigned k = 0; k < 4; k++) {
					unsigned i = perms[p][k];

					CHECK(ropen(&e, &r[i], i, i, i * 10000u, i * 10000u + 9999,
						    TOTAL, TS));
					feed(&r[i], content + i * 10000u, 0, 10000, 1000);
					nj_file_range_close(&r[i], true, TS, meta, "/big.bin");
				}
			} else {
				/* all open at once in this order, fed a piece each in turn,
				 * closed in the reverse order */
				for (unsigned k = 0; k < 4; k++) {
					unsigned i = perms[p][k];

					CHECK(ropen(&e, &r[i], i, i, i * 10000u, i * 10000u + 9999,
						    TOTAL, TS));
				}
				for (uint64_t o = 0; o < 10000; o += 700)
					for (unsigned k = 0; k < 4; k++) {
						unsigned i = perms[p][k];

						feed(&r[i], content + i * 10000u, o,
						     o + 700 < 10000 ? o + 700 : 10000, 700);
					}
				/* the buffered ranges (all but 0: nothing was there when
				 * they began) are added when they end: the last of them
				 * to end completes the file */
				for (unsigned k = 0; k < 4; k++)
					if (perms[p][k] != 0) {
						last = perms[p][k];
						break;
					}
				for (unsigned k = 4; k-- > 0;)
					nj_file_range_close(&r[perms[p][k]], true, TS, meta,
							    "/big.bin");
			}
			CHECK(nj_files_stats(e.fs)->range_memuse == 0);
			CHECK(nj_files_stats(e.fs)->ooo_bytes == 0);
			CHECK(nj_files_stats(e.fs)->range_open == 0);
			env_close(&e);
			check_whole(&e, last, last, "CLOSED");
			env_free(&e);
		}
	}
}

/*
 * Overlaps: ranges covering parts already seen or held; conflicting bytes in
 * an overlap keep the first copy. A duplicate range changes nothing.
 */
static void test_overlap(void)
{
	static const uint64_t rg[][2] = {
		{15000, 29999}, {5000, 19999},	{5000, 19999},
		{0, 9999},	{25000, 39999}, {9000, 26000},
	};
	struct env e;
	struct nj_files_config cfg;
	struct nj_file_range_ref r;
	uint8_t bad[TOTAL];

	cfg_base(&cfg);
	if (!env_open(&e, &cfg))
		return;
	memset(bad, 'X', sizeof(bad));
	for (unsigned i = 0; i < NJ_ARRAY_SIZE(rg); i++) {
		uint64_t n = rg[i][1] - rg[i][0] + 1;

		CHECK(ropen(&e, &r, i & 3, i, rg[i][0], rg[i][1], TOTAL, TS));
		/* the last range comes after every byte was seen: its bytes must not count */
		feed(&r, (i == NJ_ARRAY_SIZE(rg) - 1 ? bad : content) + rg[i][0], 0, n, 1337);
		CHECK(nj_file_range_close(&r, true, TS, meta, "/big.bin") == (i == 4));
	}
	/* the late range, after the file was done, began a new download (held data) */
	CHECK(nj_files_stats(e.fs)->range_open == 1);
	CHECK(nj_files_stats(e.fs)->range_memuse > 17000);
	env_close(&e);
	check_whole(&e, 4, 0, "CLOSED");
	env_free(&e);

	/* conflicting data: an out-of-order range held first wins over a later one */
	cfg_base(&cfg);
	if (!env_open(&e, &cfg))
		return;
	{
		struct nj_file_range_ref a, b, c;
		char want[65];

		CHECK(ropen(&e, &a, 0, 0, 20000, 39999, TOTAL, TS));
		feed(&a, content + 20000, 0, 20000, 1000);
		nj_file_range_close(&a, true, TS, meta, "/big.bin");
		CHECK(ropen(&e, &b, 1, 0, 0, 9999, TOTAL, TS));
		feed(&b, content, 0, 10000, 1000);
		nj_file_range_close(&b, true, TS, meta, "/big.bin");
		/* 10000..29999 with X: only 10000..19999 is new */
		CHECK(ropen(&e, &c, 2, 7, 10000, 29999, TOTAL, TS));
		feed(&c, bad + 10000, 0, 20000, 1000);
		CHECK(nj_file_range_close(&c, true, TS, meta, "/big.bin"));
		env_close(&e);
		memset(content + 10000, 'X', 10000);
		md5_hex(content, TOTAL, want);
		fill(content, TOTAL, 7);
		CHECK(e.nev == 1 && streq(fi_str(e.ev[0], "md5"), want));
		env_free(&e);
	}
}

/* A hole at the file's end is its gap: TRUNCATED, gaps true, size still the total. */
static void test_gap(void)
{
	struct env e;
	struct nj_files_config cfg;
	struct nj_file_range_ref r;

	cfg_base(&cfg);
	if (!env_open(&e, &cfg))
		return;
	CHECK(ropen(&e, &r, 0, 0, 0, 19999, TOTAL, TS));
	feed(&r, content, 0, 5000, 1000);
	nj_file_range_gap(&r, 1000);
	feed(&r, content, 6000, 20000, 1000);
	nj_file_range_close(&r, false, TS, meta, "/big.bin");
	CHECK(ropen(&e, &r, 0, 1, 20000, 39999, TOTAL, TS));
	feed(&r, content + 20000, 0, 20000, 1000);
	CHECK(nj_file_range_close(&r, true, TS, meta, "/big.bin"));
	env_close(&e);
	check_whole(&e, 1, 0, "TRUNCATED");
	CHECK(e.nev == 1 &&
	      json_is_true(json_object_get(json_object_get(e.ev[0], "fileinfo"), "gaps")));
	env_free(&e);
}

/* Memcap: a range that cannot be buffered is skipped (counted); the file never completes. */
static void test_memcap(void)
{
	struct env e;
	struct nj_files_config cfg;
	struct nj_file_range_ref r;
	const struct nj_files_stats *st;

	cfg_base(&cfg);
	cfg.range_memcap = 8192; /* a container fits, a 64 KiB buffer does not */
	if (!env_open(&e, &cfg))
		return;
	st = nj_files_stats(e.fs);
	CHECK(ropen(&e, &r, 0, 0, 20000, 39999, TOTAL, TS));
	feed(&r, content + 20000, 0, 20000, 1000);
	CHECK(st->range_memcap >= 1);
	CHECK(st->range_memuse > 0 && st->range_memuse <= 8192);
	nj_file_range_close(&r, true, TS, meta, "/big.bin");
	CHECK(ropen(&e, &r, 1, 1, 0, 19999, TOTAL, TS));
	feed(&r, content, 0, 20000, 1000);
	CHECK(!nj_file_range_close(&r, true, TS, meta, "/big.bin"));
	CHECK(st->range_reassembled == 0 && st->range_open == 1);
	/* nothing held: the container only */
	CHECK(st->range_memuse > 0 && st->range_memuse < 1024);
	env_close(&e);
	CHECK(e.nev == 0);
	env_free(&e);

	/* eviction: room for one container only */
	cfg_base(&cfg);
	cfg.max_open = 2; /* containers capped at max_open / 2 = 1 */
	if (!env_open(&e, &cfg))
		return;
	st = nj_files_stats(e.fs);
	{
		static const uint8_t other[] = "/other.bin";
		struct nj_file_range_ref a, b;

		CHECK(ropen(&e, &a, 0, 0, 0, 9, TOTAL, TS));
		CHECK(!nj_file_range_open(e.fs, &b, &flows[1], host, HL, other, sizeof(other) - 1,
					  "http", 1, 1, 0, 9, 100, TS));
		CHECK(st->range_memcap == 1 && st->range_evicted == 0);
		nj_file_range_close(&a, true, TS, NULL, NULL);
		CHECK(nj_file_range_open(e.fs, &b, &flows[1], host, HL, other, sizeof(other) - 1,
					 "http", 1, 1, 0, 9, 10, TS));
		CHECK(st->range_evicted == 1 && st->range_open == 1);
		nj_file_range_append(&b, content, 10);
		CHECK(nj_file_range_close(&b, true, TS, NULL, NULL));
		CHECK(st->range_open == 0 && st->range_memuse == 0);
	}
	env_close(&e);
	CHECK(e.nev == 1 && fi_int(e.ev[0], "size") == 10);
	env_free(&e);
}

/*
 * A range whose held copy is refused for the memcap is lost for now, not a
 * gap: the same bytes sent again later complete the file CLOSED.
 */
static void test_memcap_refill(void)
{
	struct env e;
	struct nj_files_config cfg;
	struct nj_file_range_ref r;
	const struct nj_files_stats *st;
	uint64_t one;

	/* the size of one container with this key */
	cfg_base(&cfg);
	if (!env_open(&e, &cfg))
		return;
	CHECK(ropen(&e, &r, 0, 0, 0, 9, TOTAL, TS));
	one = nj_files_stats(e.fs)->range_memuse;
	nj_file_range_close(&r, true, TS, NULL, NULL);
	env_close(&e);
	env_free(&e);

	cfg_base(&cfg);
	cfg.range_memcap = one + 10000 + 8; /* the range's buffer fits, its held copy not */
	if (!env_open(&e, &cfg))
		return;
	st = nj_files_stats(e.fs);
	CHECK(ropen(&e, &r, 0, 0, 10000, 19999, TOTAL, TS));
	feed(&r, content + 10000, 0, 10000, 1000);
	CHECK(st->range_memcap == 0);
	nj_file_range_close(&r, true, TS, meta, "/big.bin");
	CHECK(st->range_memcap == 1 && st->range_memuse == one);
	CHECK(ropen(&e, &r, 1, 1, 0, 9999, TOTAL, TS));
	feed(&r, content, 0, 10000, 1000);
	nj_file_range_close(&r, true, TS, meta, "/big.bin");
	CHECK(ropen(&e, &r, 2, 2, 10000, 19999, TOTAL, TS)); /* again: now in order */
	feed(&r, content + 10000, 0, 10000, 1000);
	nj_file_range_close(&r, true, TS, meta, "/big.bin");
	CHECK(ropen(&e, &r, 3, 3, 20000, 39999, TOTAL, TS));
	feed(&r, content + 20000, 0, 20000, 1000);
	CHECK(nj_file_range_close(&r, true, TS, meta, "/big.bin"));
	CHECK(st->range_memuse == 0 && st->range_open == 0);
	env_close(&e);
	check_whole(&e, 3, 3, "CLOSED");
	CHECK(e.nev == 1 &&
	      json_is_false(json_object_get(json_object_get(e.ev[0], "fileinfo"), "gaps")));
	env_free(&e);
}

/* Timeout: an idle container is dropped (no event); one in use is not. */
static void test_timeout(void)
{
	struct env e;
	struct nj_files_config cfg;
	struct nj_file_range_ref r, busy;
	const struct nj_files_stats *st;

	cfg_base(&cfg);
	cfg.range_timeout = 60;
	if (!env_open(&e, &cfg))
		return;
	st = nj_files_stats(e.fs);
	CHECK(ropen(&e, &r, 0, 0, 0, 19999, TOTAL, TS));
	feed(&r, content, 0, 20000, 1460);
	nj_file_range_close(&r, true, TS + 5 * SEC, meta, "/big.bin");
	nj_files_expire(e.fs, TS + 64 * SEC);
	CHECK(st->range_open == 1 && st->range_timeouts == 0);
	nj_files_expire(e.fs, TS + 66 * SEC);
	CHECK(st->range_open == 0 && st->range_timeouts == 1 && st->range_memuse == 0);
	/* the rest of the file now starts a new container that never completes */
	CHECK(ropen(&e, &r, 1, 1, 20000, 39999, TOTAL, TS + 70 * SEC));
	feed(&r, content + 20000, 0, 20000, 1460);
	CHECK(!nj_file_range_close(&r, true, TS + 71 * SEC, meta, "/big.bin"));
	/* in use: not expired however late */
	CHECK(ropen(&e, &busy, 2, 2, 0, 99, TOTAL, TS + 72 * SEC));
	nj_files_expire(e.fs, TS + 1000 * SEC);
	CHECK(st->range_open == 1 && st->range_timeouts == 1);
	nj_file_range_close(&busy, true, TS + 1000 * SEC, NULL, NULL);
	nj_files_expire(e.fs, TS + 1061 * SEC);
	CHECK(st->range_open == 0 && st->range_timeouts == 2 && st->range_memuse == 0);
	env_close(&e);
	CHECK(e.nev == 0);
	env_free(&e);
}

/* Suricata's content-range parser (its Rust tests and edge cases). */
static void test_parse(void)
{
	static const struct {
		const char *s;
		bool ok;
		int64_t a, b, c;
	} v[] = {
		{" bytes */100", true, -1, -1, 100},
		{" bytes 10-20/200", true, 10, 20, 200},
		{" bytes 30-68/*", true, 30, 68, -1},
		{"bytes 500-1000/146515", true, 500, 1000, 146515},
		{"bytes  1-2/3 trailing", true, 1, 2, 3},
		{"items 1-2/3", true, 1, 2, 3},
		{"bytes", false, 0, 0, 0},
		{"1-2/3", false, 0, 0, 0},
		{"bytes 1-2", false, 0, 0, 0},
		{"bytes -2/3", false, 0, 0, 0},
		{"bytes 1-/3", false, 0, 0, 0},
		{"bytes 1-2/", false, 0, 0, 0},
		{"bytes */", false, 0, 0, 0},
		{"bytes 99999999999999999999-1/2", false, 0, 0, 0},
	};

	for (unsigned i = 0; i < NJ_ARRAY_SIZE(v); i++) {
		struct http_crange r;
		bool ok = http_content_range_parse((const uint8_t *)v[i].s,
						   (uint32_t)strlen(v[i].s), &r);

		if (ok != v[i].ok)
			fprintf(stderr, "parse '%s'\n", v[i].s);
		CHECK(ok == v[i].ok);
		if (ok && v[i].ok)
			CHECK(r.start == v[i].a && r.end == v[i].b && r.size == v[i].c);
	}
}

static void test_config(void)
{
	static const char yaml[] = "%YAML 1.1\n---\n"
				   "app-layer:\n"
				   "  protocols:\n"
				   "    http:\n"
				   "      byterange:\n"
				   "        memcap: 2mb\n"
				   "        timeout: 7\n";
	char dir[] = "/tmp/nj_frange_conf_XXXXXX", path[128], err[256];
	struct nj_files_config cfg;
	struct nj_conf *c;
	FILE *fp;

	nj_files_config_defaults(&cfg);
	CHECK(cfg.range_memcap == 100u << 20 && cfg.range_timeout == 60);
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/a.yaml", dir);
	fp = fopen(path, "w");
	if (!fp)
		return;
	fputs(yaml, fp);
	fclose(fp);
	c = nj_conf_load(path, NULL, 0, err, sizeof(err));
	CHECK(c != NULL);
	if (c) {
		CHECK(nj_files_config_load(&cfg, c, ".") == 0);
		CHECK(cfg.range_memcap == 2u << 20 && cfg.range_timeout == 7);
		CHECK(nj_conf_is_known("app-layer.protocols.http.byterange.memcap"));
		CHECK(nj_conf_is_known("app-layer.protocols.http.byterange.timeout"));
		nj_conf_free(c);
	}
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	CHECK(system(path) == 0);
}

int main(void)
{
	fill(content, TOTAL, 7);
	test_parse();
	test_config();
	test_in_order();
	test_out_of_order();
	test_overlap();
	test_gap();
	test_memcap();
	test_memcap_refill();
	test_timeout();
	if (failures)
		fprintf(stderr, "%d failures\n", failures);
	return failures ? 1 : 0;
}
