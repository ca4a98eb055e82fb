/* SPDX-License-Identifier: MIT */
/*
 * The files interface through a real EVE file and a real filestore under
 * /tmp: hashes of known content (fed whole, split at every byte, byte by
 * byte), magic, out-of-order data in every order, holes and gaps, the size
 * limit, max_open, the out-of-order memcap, filestore v2 (content, no temp
 * file left, no duplicate, wire names never used as paths, write-fileinfo,
 * a store decided late, max-open-files), the meta callback and key order,
 * event orientation, and the configuration keys.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "config/config.h"
#include "dataplane/flow.h"
#include "export/eve.h"
#include "parsers/files.h"
#include "tests/nj_test.h"
#include "tests/nj_test_eve.h"

#define TS 1500000000123456ull

static const char fox[] = "The quick brown fox jumps over the lazy dog";
#define FOX_MD5	   "9e107d9d372bb6826bd81d3542a419d6"
#define FOX_SHA1   "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12"
#define FOX_SHA256 "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592"

struct env {
	char dir[64];
	char eve_path[128];
	struct nj_eve *eve;
	struct nj_files *fs;
	char *raw; /* the EVE file after env_close */
	json_t *ev[4096];
	unsigned nev;
};

static struct nj_flow flow;

static void init_flow(struct nj_flow *f)
{
	memset(f, 0, sizeof(*f));
	f->proto = 6;
	f->addr[0][0] = 10;
	f->addr[0][3] = 1;
	f->addr[1][0] = 10;
	f->addr[1][3] = 2;
	f->port[0] = 40000;
	f->port[1] = 80;
	f->client = 0;
	f->flow_id = 1234;
	f->last_us = TS;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *s;
	long n;

	if (!fp)
		return NULL;
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	s = calloc(1, (size_t)n + 1);
	if (s && fread(s, 1, (size_t)n, fp) != (size_t)n) {
		free(s);
		s = NULL;
	}
	fclose(fp);
	if (len)
		*len = (size_t)n;
	return s;
}

static void cfg_base(struct nj_files_config *c)
{
	nj_files_config_defaults(c);
	c->md5 = c->sha1 = c->sha256 = true;
}

/* cfg->store_dir is set to DIR/store when cfg->store. */
static bool env_open(struct env *e, struct nj_files_config *cfg)
{
	memset(e, 0, sizeof(*e));
	snprintf(e->dir, sizeof(e->dir), "/tmp/nj_files_XXXXXX");
	if (!mkdtemp(e->dir))
		return false;
	snprintf(e->eve_path, sizeof(e->eve_path), "%s/eve.json", e->dir);
	e->eve = nj_test_eve_open(e->eve_path, ~0u);
	CHECK(e->eve != NULL);
	if (!e->eve)
		return false;
	if (cfg->store)
		snprintf(cfg->store_dir, sizeof(cfg->store_dir), "%s/store", e->dir);
	e->fs = nj_files_create(cfg, nj_eve_worker(e->eve, 0));
	CHECK(e->fs != NULL);
	return e->fs != NULL;
}

/* Flushes the EVE output and parses every line. Keeps the store for inspection. */
static void env_close(struct env *e)
{
	char *line, *save = NULL;

	nj_eve_worker_flush(nj_eve_worker(e->eve, 0));
	nj_eve_close(e->eve);
	e->eve = NULL;
	e->raw = slurp(e->eve_path, NULL);
	CHECK(e->raw != NULL);
	if (!e->raw)
		return;
	{
		char *copy = strdup(e->raw);

		for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			json_error_t je;
			json_t *js = json_loads(line, 0, &je);

			if (!js)
				fprintf(stderr, "bad json: %s (%s)\n", line, je.text);
			CHECK(js != NULL);
			if (js && e->nev < NJ_ARRAY_SIZE(e->ev))
				e->ev[e->nev++] = js;
			else
				json_decref(js);
		}
		free(copy);
	}
}

static void env_free(struct env *e)
{
	char cmd[128];

	nj_files_destroy(e->fs);
	for (unsigned i = 0; i < e->nev; i++)
		json_decref(e->ev[i]);
	free(e->raw);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", e->dir);
	CHECK(system(cmd) == 0);
}

static json_t *fi(json_t *ev)
{
	return json_object_get(ev, "fileinfo");
}

static const char *fi_str(json_t *ev, const char *k)
{
	return json_string_value(json_object_get(fi(ev), k));
}

static long long fi_int(json_t *ev, const char *k)
{
	json_t *v = json_object_get(fi(ev), k);

	return v ? json_integer_value(v) : -1;
}

static int fi_bool(json_t *ev, const char *k)
{
	json_t *v = json_object_get(fi(ev), k);

	return v ? json_is_true(v) : -1;
}

static bool streq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

static void digest_hex(const char *algo, const void *d, size_t n, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	static const char x[] = "0123456789abcdef";

	EVP_Digest(d, n, md, &len, EVP_get_digestbyname(algo), NULL);
	for (unsigned i = 0; i < len; i++) {
		out[2 * i] = x[md[i] >> 4];
		out[2 * i + 1] = x[md[i] & 15];
	}
	out[2 * len] = '\0';
}

struct meta {
	const char *url;
};

static void http_meta(struct nj_json *j, const void *arg)
{
	const struct meta *m = arg;

	nj_json_open_obj(j, "http");
	nj_json_str(j, "url", m->url);
	nj_json_close_obj(j);
}

static void fill(uint8_t *b, size_t n, uint32_t seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		b[i] = (uint8_t)(seed >> 16);
	}
}

/* Known content, all three hashes, orientation, the meta object, key order, escaping. */
static void test_hashes(void)
{
	struct nj_files_config cfg;
	struct env e;
	struct meta m = {"/fox.txt"};
	const uint8_t wire[] = {'a', '"', 'b', 0x01, '\\', 0xff};
	struct nj_file *f;
	const char *p_http, *p_app, *p_fi;

	cfg_base(&cfg);
	if (!env_open(&e, &cfg))
		return;
	init_flow(&flow);
	nj_files_set_pcap_cnt(e.fs, 7);
	/* a download: to the client */
	f = nj_file_open(e.fs, &flow, "http", (const uint8_t *)"fox.txt", 7, 3, 1);
	CHECK(f != NULL);
	nj_file_append(f, (const uint8_t *)fox, 10);
	nj_file_append(f, (const uint8_t *)fox + 10, (uint32_t)strlen(fox) - 10);
	CHECK(nj_file_size(f) == strlen(fox));
	nj_file_close(f, NJ_FILE_CLOSED, TS, http_meta, &m);
	/* an upload with a hostile name, no meta */
	f = nj_file_open(e.fs, &flow, "http", wire, sizeof(wire), 4, 0);
	nj_file_append(f, (const uint8_t *)fox, (uint32_t)strlen(fox));
	nj_file_add_sid(f, 1000001);
	nj_file_add_sid(f, 1000002);
	nj_file_add_sid(f, 1000001);
	nj_file_set_range(f, 100, 142);
	nj_file_close(f, NJ_FILE_CLOSED, TS, NULL, NULL);
	CHECK(nj_files_stats(e.fs)->opened == 2);
	CHECK(nj_files_stats(e.fs)->closed == 2);
	CHECK(nj_files_stats(e.fs)->bytes == 2 * strlen(fox));
	CHECK(nj_files_stats(e.fs)->open_now == 0);
	env_close(&e);
	CHECK(e.nev == 2);
	if (e.nev == 2) {
		json_t *a = e.ev[0], *b = e.ev[1];

		CHECK(streq(json_string_value(json_object_get(a, "event_type")), "fileinfo"));
		CHECK(streq(json_string_value(json_object_get(a, "app_proto")), "http"));
		CHECK(streq(json_string_value(json_object_get(a, "src_ip")), "10.0.0.2"));
		CHECK(json_integer_value(json_object_get(a, "src_port")) == 80);
		CHECK(streq(json_string_value(json_object_get(a, "dest_ip")), "10.0.0.1"));
		CHECK(json_integer_value(json_object_get(a, "pcap_cnt")) == 7);
		CHECK(json_integer_value(json_object_get(a, "flow_id")) == 1234);
		CHECK(streq(json_string_value(json_object_get(json_object_get(a, "http"), "url")),
			    "/fox.txt"));
		CHECK(streq(fi_str(a, "filename"), "fox.txt"));
		CHECK(streq(fi_str(a, "state"), "CLOSED"));
		CHECK(fi_bool(a, "gaps") == 0);
		CHECK(fi_bool(a, "stored") == 0);
		CHECK(fi_bool(a, "storing") == -1);
		CHECK(streq(fi_str(a, "md5"), FOX_MD5));
		CHECK(streq(fi_str(a, "sha1"), FOX_SHA1));
		CHECK(streq(fi_str(a, "sha256"), FOX_SHA256));
		CHECK(fi_int(a, "size") == (long long)strlen(fox));
		CHECK(fi_int(a, "tx_id") == 3);
		CHECK(fi_int(a, "start") == -1);
		CHECK(json_object_get(fi(a), "sid") == NULL);
		CHECK(json_object_get(fi(a), "magic") == NULL);

		CHECK(streq(json_string_value(json_object_get(b, "src_ip")), "10.0.0.1"));
		CHECK(json_integer_value(json_object_get(b, "src_port")) == 40000);
		CHECK(json_object_get(b, "http") == NULL);
		{
			const char *fn = fi_str(b, "filename");

			/* escaped on output; the invalid byte comes back as U+00FF */
			CHECK(fn && strncmp(fn, "a\"b\x01\\", 5) == 0);
		}
		CHECK(json_array_size(json_object_get(fi(b), "sid")) == 2);
		CHECK(json_integer_value(json_array_get(json_object_get(fi(b), "sid"), 1)) ==
		      1000002);
		CHECK(fi_int(b, "start") == 100);
		CHECK(fi_int(b, "end") == 142);
		CHECK(streq(fi_str(b, "sha256"), FOX_SHA256));
	}
	/* Suricata's key order: protocol object, app_proto, fileinfo; fileinfo's own order */
	p_http = e.raw ? strstr(e.raw, "\"http\":") : NULL;
	p_app = e.raw ? strstr(e.raw, "\"app_proto\":") : NULL;
	p_fi = e.raw ? strstr(e.raw, "\"fileinfo\":") : NULL;
	CHECK(p_http && p_app && p_fi && p_http < p_app && p_app < p_fi);
	CHECK(e.raw && strstr(e.raw, "\"fileinfo\":{\"filename\":\"fox.txt\",\"gaps\":false,"
				     "\"state\":\"CLOSED\",\"md5\":\"" FOX_MD5
				     "\",\"sha1\":\"" FOX_SHA1 "\",\"sha256\":\"" FOX_SHA256
				     "\",\"stored\":false,\"size\":43,\"tx_id\":3}"));
	env_free(&e);
}

/* Every split point, byte by byte, random chunking: one hash. */
static void test_splits(void)
{
	enum { N = 300 };
	struct nj_files_config cfg;
	struct env e;
	uint8_t buf[N];
	char want[65];
	unsigned files = 0, ok = 0;
	struct nj_file *f;

	fill(buf, N, 7);
	digest_hex("SHA256", buf, N, want);
	nj_files_config_defaults(&cfg);
	cfg.sha256 = true;
	if (!env_open(&e, &cfg))
		return;
	init_flow(&flow);
	for (unsigned cut = 0; cut <= N; cut++, files++) {
		f = nj_file_open(e.fs, &flow, "http", (const uint8_t *)"s", 1, cut, 1);
		nj_file_append(f, buf, cut);
		nj_file_append(f, buf + cut, N - cut);
		nj_file_close(f, NJ_FILE_CLOSED, TS, NULL, NULL);
	}
	f = nj_file_open(e.fs, &flow, "http", (const uint8_t *)"s", 1, 9999, 1);
	for (unsigned i = 0; i < N; i++)
		nj_file_append(f, buf + i, 1);
	nj_file_close(f, NJ_FILE_CLOSED, TS, NULL, NULL);
	files++;
	env_close(&e);
	CHECK(e.nev == files);
	for (unsigned i = 0; i < e.nev; i++)
		ok += streq(fi_str(e.ev[i], "sha256"), want) && fi_int(e.ev[i], "size") == N &&
		      streq(fi_str(e.ev[i], "state"), "CLOSED");
	CHECK(ok == files);
	env_free(&e);
}

/* TRUNCATED: md5/sha1 not logged, sha256 of the bytes seen; ERROR: none. */
static void test_states(void)
{
	struct nj_files_config cfg;
	struct env e;
	struct nj_file *f;
	char want[65];

	digest_hex("SHA256", fox, 20, want);
	cfg_base(&cfg);
	if (!env_open(&e, &cfg))
		return;
	init_flow(&flow);
	f = nj_file_open(e.fs, &flow, "http", (const uint8_t *)"t", 1, 0, 1);
	nj_file_append(f, (const uint8_t *)fox, 20);
	nj_file_close(f, NJ_FILE_TRUNCATED, TS, NULL, NULL);
	f = nj_file_open(e.fs, &flow, "http", (const uint8_t *)"e", 1, 1, 1);
	nj_file_append(f, (const uint8_t *)fox, 20);
	nj_file_close(f, NJ_FILE_ERROR, TS, NULL, NULL);
	f = nj_file_open(e.fs, &flow, "http", (const uint8_t *)"o", 1, 2, 1);
	nj_file_append(f, (const uint8_t *)fox, 20);
	nj_file_close(f, NJ_FILE_OPEN, TS, NULL, NULL); /* flow ended mid-file */
	/* an empty file */
	f = nj_file_open(e.fs, &flow, "http", (const uint8_t *)"z", 1, 3, 1);
	nj_file_close(f, NJ_FILE_CLOSED, TS, NULL, NULL);
	CHECK(nj_files_stats(e.fs)->truncated == 2);
	CHECK(nj_files_stats(e.fs)->errors == 1);
	CHECK(nj_files_stats(e.fs)->closed == 1);
	env_close(&e);
	CHECK(e.nev == 4);
	if (e.nev == 4) {
		CHECK(streq(fi_str(e.ev[0], "state"), "TRUNCATED"));
		CHECK(fi_str(e.ev[0], "md5") == NULL && fi_str(e.ev[0], "sha1") == NULL);
		CHECK(streq(fi_str(e.ev[0], "sha256"), want));
		CHECK(fi_bool(e.ev[0], "gaps") == 0);
		CHECK(fi_int(e.ev[0], "size") == 20);
		CHECK(streq(fi_str(e.ev[1], "state"), "ERROR"));
		CHECK(fi_str(e.ev[1], "sha256") == NULL && fi_str(e.ev[1], "md5") == NULL);
		CHECK(streq(fi_str(e.ev[2], "state"), "TRUNCATED"));
		CHECK(streq(fi_str(e.ev[3], "state"), "CLOSED"));
		CHECK(streq(fi_str(e.ev[3], "md5"), "d41d8cd98f00b204e9800998ecf8427e"));
		CHECK(streq(fi_str(e.ev[3], "sha256"),
			    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b"
			    "934ca495991b7852b855"));
		CHECK(fi_int(e.ev[3], "size") == 0);
	}
	env_free(&e);
}

static void test_magic(void)
{
#ifdef NJ_HAVE_MAGIC
	static const uint8_t png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0,	 0, 0, 13,
				      'I',  'H', 'D', 'R', 0,	 0,    0,    1,	   0,	 0, 0, 1,
				      8,    6,	 0,   0,   0,	 0x1f, 0x15, 0xc4, 0x89, 0, 0, 0,
				      0,    'I', 'E', 'N', 'D',	 0xae, 0x42, 0x60, 0x82};
	static const char pdf[] = "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\n"
				  "endobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n";
	uint8_t elf[64] = {0x7f, 'E', 'L', 'F', 2, 1, 1, 0};
	struct nj_files_config cfg;
	struct env e;
	struct nj_file *f;

	elf[16] = 2;  /* ET_EXEC */
	elf[18] = 62; /* x86-64 */
	elf[20] = 1;  /* version */
	elf[52] = 64; /* e_ehsize */
	nj_files_config_defaults(&cfg);
	cfg.magic = true;
	if (!env_open(&e, &cfg))
		return;
	init_flow(&flow);
	f = nj_file_open(e.fs, &flow, "http", (const uint8_t *)"a.png", 5, 0, 1);
	nj_file_append(f, png, sizeof(png));
	nj_file_close(f, NJ_FILE_CLOSED, TS, NULL, NULL);
	f = nj_file_open(e.fs, &flow, "http", (const uint8_t *)"a.pdf", 5, 1, 1);
	/* split: magic looks at the first bytes, however they arrived */
	nj_file_append(f, (const uint8_t *)pdf, 3);
	nj_file_append(f, (const uint8_t *)pdf + 3, (uint32_t)strlen(pdf) - 3);
	nj_file_close(f, NJ_FILE_CLOSED, TS, NULL, NULL);
	f = nj_file_open(e.fs, &flow, "http", (const uint8_t *)"a.elf", 5, 2, 1);
	nj_file_append(f, elf, sizeof(elf));
	nj_file_close(f, NJ_FILE_CLOSED, TS, NULL, NULL);
	f = nj_file_open(e.fs, &flow, "http", (const uint8_t *)"empty", 5, 3, 1);
	nj_file_close(f, NJ_FILE_CLOSED, TS, NULL, NULL);
	env_close(&e);
	CHECK(e.nev == 4);
	if (e.nev == 4) {
		const char *m0 = fi_str(e.ev[0], "magic"), *m1 = fi_str(e.ev[1], "magic");
		const char *m2 = fi_str(e.ev[2], "magic");

		CHECK(m0 && strstr(m0, "PNG image data"));
		CHECK(m1 && strstr(m1, "PDF document"));
		CHECK(m2 && strstr(m2, "ELF 64-bit"));
		CHECK(json_object_get(fi(e.ev[3]), "magic") == NULL);
		/* magic comes before gaps, as Suricata */
		CHECK(e.raw && strstr(e.raw, "\"filename\":\"a.png\",\"magic\":\"PNG"));
	}
	env_free(&e);
#else
	fprintf(stderr, "test_magic: built without libmagic, skipped\n");
#endif
}

/* Four chunks in all 24 orders, with overlaps and duplicates: one result. */
static void test_out_of_order(void)
{
	enum { N = 1000 };
	static const unsigned cut[5] = {0, 137, 500, 501, N};
	struct nj_files_config cfg;
	struct env e;
	uint8_t buf[N];
	char want[65];
	unsigned perm[24][4], np = 0, ok = 0;

	fill(buf, N, 99);
	digest_hex("SHA256", buf, N, want);
	for (unsigned a = 0; a < 4; a++)
		for (unsigned b = 0; b < 4; b++)
			for (unsigned c = 0; c < 4; c++)
				for (unsigned d = 0; d < 4; d++)
					if (a != b && a != c && a != d && b != c && b != d &&
					    c != d) {
						perm[np][0] = a;
						perm[np][1] = b;
						perm[np][2] = c;
						perm[np][3] = d;
						np++;
					}
	CHECK(np == 24);
	nj_files_config_defaults(&cfg);
	cfg.sha256 = true;
	if (!env_open(&e, &cfg))
		return;
	init_flow(&flow);
	for (unsigned variant = 0; variant < 3; variant++) {
		for (unsigned i = 0; i < np; i++) {
			struct nj_file *f =
				nj_file_open(e.fs, &flow, "smb", (const uint8_t *)"x", 1, i, 0);

			for (unsigned k = 0; k < 4; k++) {
				unsigned q = perm[i][k];
				uint64_t s = cut[q], t = cut[q + 1];

				if (variant == 1) {
					/* overlapping chunks: 20 bytes into both neighbours */
					s = s >= 20 ? s - 20 : 0;
					t = t + 20 <= N ? t + 20 : N;
				}
				nj_file_append_at(f, s, buf + s, (uint32_t)(t - s));
				if (variant == 2) /* every chunk twice */
					nj_file_append_at(f, s, buf + s, (uint32_t)(t - s));
			}
			CHECK(nj_file_size(f) == N);
			nj_file_close(f, NJ_FILE_CLOSED, TS, NULL, NULL);
			CHECK(nj_files_stats(e.fs)->ooo_bytes == 0);
		}
	}
	CHECK(nj_files_stats(e.fs)->gaps == 0);
	CHECK(nj_files_stats(e.fs)->limit_memcap == 0);
	env_close(&e);
	CHECK(e.nev == 3 * np);
	for (unsigned i = 0; i < e.nev; i++)
		ok += streq(fi_str(e.ev[i], "sha256"), want) && fi_int(e.ev[i], "size") == N &&
		      streq(fi_str(e.ev[i], "state"), "CLOSED") && fi_bool(e.ev[i], "gaps") == 0;
	CHECK(ok == 3 * np);
	env_free(&e);
}

/* Holes that never fill, and declared gaps: size counts them, hashes skip them. */
static void test_holes(void)
{
	struct nj_files_config cfg;
	struct env e;
	uint8_t buf[400], seen[400];
	char want1[65], want2[65];
	struct nj_file *f;

	fill(buf, sizeof(buf), 5);
	memcpy(seen, buf, 100);
	memcpy(seen + 100, buf + 200, 100);
	digest_hex("SHA256", seen, 200, want1);
	memcpy(seen, buf, 50);
	memcpy(seen + 50, buf + 100, 300);
	digest_hex("SHA256", seen, 350, want2);
	cfg_base(&cfg);
	if (!env_open(&e, &cfg))
		return;
	init_flow(&flow);
	/* [0,100) and [200,300) by offset; [100,200) never comes */
	f = nj_file_open(e.fs, &flow, "smb", (const uint8_t *)"h1", 2, 0, 0);
	nj_file_append_at(f, 200, buf + 200, 100);
	nj_file_append_at(f, 0, buf, 100);
	CHECK(nj_file_size(f) == 100);
	CHECK(nj_files_stats(e.fs)->ooo_bytes > 100);
	nj_file_close(f, NJ_FILE_CLOSED, TS, NULL, NULL);
	CHECK(nj_files_stats(e.fs)->ooo_bytes == 0);
	CHECK(nj_files_stats(e.fs)->gaps == 1);
	/* a declared gap in the middle (HTTP after lost segments) */
	f = nj_file_open(e.fs, &flow, "http", (const uint8_t *)"h2", 2, 1, 1);
	nj_file_append(f, buf, 50);
	nj_file_gap(f, 50);
	nj_file_append(f, buf + 100, 300);
	CHECK(nj_file_size(f) == 400);
	nj_file_close(f, NJ_FILE_CLOSED, TS, NULL, NULL);
	/* a gap declared while later data waits: the waiting data follows it */
	f = nj_file_open(e.fs, &flow, "smb", (const uint8_t *)"h3", 2, 2, 0);
	nj_file_append_at(f, 100, buf + 100, 300);
	nj_file_append(f, buf, 50);
	nj_file_gap(f, 50);
	CHECK(nj_file_size(f) == 400);
	nj_file_close(f, NJ_FILE_CLOSED, TS, NULL, NULL);
	CHECK(nj_files_stats(e.fs)->gaps == 3);
	env_close(&e);
	CHECK(e.nev == 3);
	if (e.nev == 3) {
		CHECK(fi_bool(e.ev[0], "gaps") == 1);
		CHECK(streq(fi_str(e.ev[0], "state"), "TRUNCATED"));
		CHECK(fi_int(e.ev[0], "size") == 300);
		CHECK(streq(fi_str(e.ev[0], "sha256"), want1));
		CHECK(fi_str(e.ev[0], "md5") == NULL);
		for (unsigned i = 1; i < 3; i++) {
			CHECK(fi_bool(e.ev[i], "gaps") == 1);
			CHECK(streq(fi_str(e.ev[i], "state"), "TRUNCATED"));
			CHECK(fi_int(e.ev[i], "size") == 400);
			CHECK(streq(fi_str(e.ev[i], "sha256"), want2));
		}
	}
	env_free(&e);
}

static void test_limits(void)
{
	struct nj_files_config cfg;
	struct env e;
	uint8_t buf[4000];
	char want[65];
	struct nj_file *f, *g, *h;

	fill(buf, sizeof(buf), 11);
	digest_hex("SHA256", buf, 100, want);
	nj_files_config_defaults(&cfg);
	cfg.sha256 = true;
	cfg.max_size = 100;
	cfg.max_open = 2;
	cfg.memcap = 1100;
	if (!env_open(&e, &cfg))
		return;
	init_flow(&flow);
	/* size limit, in order */
	f = nj_file_open(e.fs, &flow, "http", (const uint8_t *)"big", 3, 0, 1);
	nj_file_append(f, buf, 60);
	nj_file_append(f, buf + 60, 60);
	nj_file_append(f, buf + 120, 60);
	CHECK(nj_file_size(f) == 100);
	/* max_open: a second is fine, a third is refused */
	g = nj_file_open(e.fs, &flow, "http", (const uint8_t *)"g", 1, 1, 1);
	h = nj_file_open(e.fs, &flow, "http", (const uint8_t *)"h", 1, 2, 1);
	CHECK(g != NULL);
	CHECK(h == NULL);
	CHECK(nj_files_stats(e.fs)->limit_open == 1);
	nj_file_append(h, buf, 10); /* NULL file: ignored */
	nj_file_close(h, NJ_FILE_CLOSED, TS, NULL, NULL);
	nj_file_close(f, NJ_FILE_CLOSED, TS, NULL, NULL);
	/* size limit by offset: data past it dropped, data below it kept */
	nj_file_append_at(g, 150, buf + 150, 50);
	nj_file_append_at(g, 60, buf + 60, 60);
	nj_file_append_at(g, 0, buf, 60);
	CHECK(nj_file_size(g) == 100);
	nj_file_close(g, NJ_FILE_CLOSED, TS, NULL, NULL);
	CHECK(nj_files_stats(e.fs)->limit_size == 2);
	nj_files_destroy(e.fs);

	/* memcap: 1100 bytes of held data per core (chunk overhead included) */
	cfg.max_size = 0;
	e.fs = nj_files_create(&cfg, nj_eve_worker(e.eve, 0));
	f = nj_file_open(e.fs, &flow, "smb", (const uint8_t *)"m", 1, 3, 0);
	nj_file_append_at(f, 1000, buf + 1000, 1000); /* held */
	CHECK(nj_files_stats(e.fs)->limit_memcap == 0);
	nj_file_append_at(f, 3000, buf + 3000, 1000); /* over memcap: dropped */
	CHECK(nj_files_stats(e.fs)->limit_memcap == 1);
	nj_file_append(f, buf, 1000); /* releases the held chunk */
	CHECK(nj_file_size(f) == 2000);
	CHECK(nj_files_stats(e.fs)->ooo_bytes == 0);
	nj_file_append_at(f, 3000, buf + 3000, 1000); /* fits again */
	CHECK(nj_files_stats(e.fs)->limit_memcap == 1);
	nj_file_close(f, NJ_FILE_CLOSED, TS, NULL, NULL);
	/* a dropped chunk marks the file even when it was the last one */
	f = nj_file_open(e.fs, &flow, "smb", (const uint8_t *)"m2", 2, 4, 0);
	nj_file_append_at(f, 1000, buf + 1000, 1000);
	nj_file_append_at(f, 2000, buf + 2000, 1000);
	nj_file_append(f, buf, 1000);
	nj_file_close(f, NJ_FILE_CLOSED, TS, NULL, NULL);
	env_close(&e);
	CHECK(e.nev == 4);
	if (e.nev == 4) {
		CHECK(streq(fi_str(e.ev[0], "state"), "TRUNCATED"));
		CHECK(fi_int(e.ev[0], "size") == 100);
		CHECK(streq(fi_str(e.ev[0], "sha256"), want));
		CHECK(fi_bool(e.ev[0], "gaps") == 0);
		CHECK(streq(fi_str(e.ev[1], "state"), "TRUNCATED"));
		CHECK(fi_int(e.ev[1], "size") == 100);
		CHECK(streq(fi_str(e.ev[1], "sha256"), want));
		/* [0,2000) in order, hole [2000,3000), [3000,4000) */
		CHECK(fi_int(e.ev[2], "size") == 4000);
		CHECK(fi_bool(e.ev[2], "gaps") == 1);
		CHECK(streq(fi_str(e.ev[2], "state"), "TRUNCATED"));
		CHECK(fi_int(e.ev[3], "size") == 2000);
		CHECK(fi_bool(e.ev[3], "gaps") == 1);
		CHECK(streq(fi_str(e.ev[3], "state"), "TRUNCATED"));
	}
	env_free(&e);
}

static bool all_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[n] == '\0' || s[n] == '.';
}

/*
 * Walks the store: every entry must be a leaf folder xx/ with <sha256>[.json]
 * files in it, or tmp/ (which must be empty). Returns the number of content
 * files, -1 on anything else.
 */
static int store_walk(const char *dir, unsigned *json_files)
{
	DIR *d = opendir(dir), *leaf;
	struct dirent *de, *le;
	char p[512];
	int n = 0;

	if (!d)
		return -1;
	*json_files = 0;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		if (strcmp(de->d_name, "eve.json") == 0)
			continue;
		if (!(strlen(de->d_name) == 2 && all_hex(de->d_name, 2)) &&
		    strcmp(de->d_name, "tmp") != 0) {
			fprintf(stderr, "unexpected %s\n", p);
			n = -1;
			break;
		}
		leaf = opendir(p);
		if (!leaf) {
			n = -1;
			break;
		}
		while ((le = readdir(leaf))) {
			size_t l = strlen(le->d_name);

			if (le->d_name[0] == '.')
				continue;
			if (strcmp(de->d_name, "tmp") == 0 || l < 64 || !all_hex(le->d_name, 64) ||
			    strncmp(le->d_name, de->d_name, 2) != 0) {
				fprintf(stderr, "unexpected %s/%s\n", p, le->d_name);
				n = -1;
				break;
			}
			if (l == 64)
				n++;
			else if (strcmp(le->d_name + l - 5, ".json") == 0)
				(*json_files)++;
			else
				n = -1;
		}
		closedir(leaf);
		if (n < 0)
			break;
	}
	closedir(d);
	return n;
}

static bool file_is(const char *path, const void *want, size_t n)
{
	size_t len = 0;
	char *s = slurp(path, &len);
	bool ok = s && len == n && memcmp(s, want, n) == 0;

	free(s);
	return ok;
}

static void test_filestore(void)
{
	enum { BIG = 300000 };
	struct nj_files_config cfg;
	struct env e;
	struct meta m = {"/a"};
	uint8_t *big = malloc(BIG);
	char sha_fox[65], sha_big[65], sha_part[65], path[512], store[128];
	struct nj_file *f, *g;
	unsigned json_files = 0;
	struct stat sb;

	if (!big)
		return;
	fill(big, BIG, 3);
	digest_hex("SHA256", fox, strlen(fox), sha_fox);
	digest_hex("SHA256", big, BIG, sha_big);
	digest_hex("SHA256", big, 5000, sha_part);
	nj_files_config_defaults(&cfg);
	cfg.store = true;
	cfg.store_all = true;
	cfg.store_fileinfo = true;
	cfg.store_max_fds = 1;
	if (!env_open(&e, &cfg)) {
		free(big);
		return;
	}
	snprintf(store, sizeof(store), "%s/store", e.dir);
	snprintf(path, sizeof(path), "%s/tmp", store);
	CHECK(stat(path, &sb) == 0 && S_ISDIR(sb.st_mode));
	snprintf(path, sizeof(path), "%s/ff", store);
	CHECK(stat(path, &sb) == 0 && S_ISDIR(sb.st_mode));
	init_flow(&flow);
	/* two files at once, one over max-open-files (1): both come out exact */
	f = nj_file_open(e.fs, &flow, "http", (const uint8_t *)"../../etc/passwd", 16, 0, 1);
	g = nj_file_open(e.fs, &flow, "http", (const uint8_t *)"/etc/shadow", 11, 1, 1);
	CHECK(nj_files_stats(e.fs)->store_fd_limit == 1);
	for (uint32_t off = 0, k = 1; off < BIG; k = k * 7 % 65521) {
		uint32_t n = 1 + k % 9000;

		if (n > BIG - off)
			n = BIG - off;
		nj_file_append(f, big + off, n);
		nj_file_append(g, big + off, n);
		off += n;
	}
	nj_file_close(f, NJ_FILE_CLOSED, TS, http_meta, &m);
	nj_file_close(g, NJ_FILE_CLOSED, TS, NULL, NULL);
	/* identical content again: kept once */
	f = nj_file_open(e.fs, &flow, "http", (const uint8_t *)"fox", 3, 2, 1);
	nj_file_append(f, (const uint8_t *)fox, (uint32_t)strlen(fox));
	nj_file_close(f, NJ_FILE_CLOSED, TS, NULL, NULL);
	f = nj_file_open(e.fs, &flow, "http", (const uint8_t *)"fox2", 4, 3, 1);
	nj_file_append(f, (const uint8_t *)fox, (uint32_t)strlen(fox));
	nj_file_close(f, NJ_FILE_CLOSED, TS, NULL, NULL);
	/* truncated: stored under the hash of what was seen */
	f = nj_file_open(e.fs, &flow, "http", (const uint8_t *)"part", 4, 4, 1);
	nj_file_append(f, big, 5000);
	nj_file_close(f, NJ_FILE_TRUNCATED, TS, NULL, NULL);
	/* error: not stored, temp file removed */
	f = nj_file_open(e.fs, &flow, "http", (const uint8_t *)"err", 3, 5, 1);
	nj_file_append(f, big + 7, 5000);
	nj_file_close(f, NJ_FILE_ERROR, TS, NULL, NULL);
	CHECK(nj_files_stats(e.fs)->stored == 5);
	CHECK(nj_files_stats(e.fs)->store_dups == 2);
	CHECK(nj_files_stats(e.fs)->store_errors == 0);
	env_close(&e);

	snprintf(path, sizeof(path), "%s/%c%c/%s", store, sha_big[0], sha_big[1], sha_big);
	CHECK(file_is(path, big, BIG));
	snprintf(path, sizeof(path), "%s/%c%c/%s", store, sha_fox[0], sha_fox[1], sha_fox);
	CHECK(file_is(path, fox, strlen(fox)));
	snprintf(path, sizeof(path), "%s/%c%c/%s", store, sha_part[0], sha_part[1], sha_part);
	CHECK(file_is(path, big, 5000));
	/* three contents, five fileinfo records, nothing else (no tmp file, no wire name) */
	CHECK(store_walk(store, &json_files) == 3);
	CHECK(json_files == 5);
	CHECK(access("/tmp/etc/passwd", F_OK) != 0);
	CHECK(e.nev == 6);
	if (e.nev == 6) {
		CHECK(fi_bool(e.ev[0], "stored") == 1);
		CHECK(fi_int(e.ev[0], "file_id") > 0);
		CHECK(streq(fi_str(e.ev[0], "filename"), "../../etc/passwd"));
		CHECK(streq(fi_str(e.ev[0], "sha256"), sha_big));
		CHECK(fi_bool(e.ev[1], "stored") == 1);
		CHECK(fi_int(e.ev[1], "file_id") == fi_int(e.ev[0], "file_id") + 1);
		CHECK(fi_bool(e.ev[2], "stored") == 1 && fi_bool(e.ev[3], "stored") == 1);
		CHECK(streq(fi_str(e.ev[4], "state"), "TRUNCATED"));
		CHECK(fi_bool(e.ev[4], "stored") == 1);
		CHECK(streq(fi_str(e.ev[4], "sha256"), sha_part));
		CHECK(fi_bool(e.ev[5], "stored") == 0);
		CHECK(fi_bool(e.ev[5], "storing") == 1);
		/* write-fileinfo: the same record, with the meta object */
		snprintf(path, sizeof(path), "%s/%c%c/%s.%llu.%lld.json", store, sha_big[0],
			 sha_big[1], sha_big, TS / 1000000, fi_int(e.ev[0], "file_id"));
		{
			char *s = slurp(path, NULL);
			json_t *js = s ? json_loads(s, 0, NULL) : NULL;

			CHECK(js != NULL);
			CHECK(js && fi_bool(js, "stored") == 1);
			CHECK(js && streq(fi_str(js, "sha256"), sha_big));
			CHECK(js && json_integer_value(json_object_get(js, "flow_id")) == 1234);
			CHECK(js && streq(json_string_value(json_object_get(
						  json_object_get(js, "http"), "url")),
					  "/a"));
			json_decref(js);
			free(s);
		}
	}
	env_free(&e);
	free(big);
}

/* Store decided by a rule: before data, while the head still holds it all, too late. */
static void test_store_late(void)
{
	struct nj_files_config cfg;
	struct env e;
	uint8_t buf[6000];
	char sha_a[65], sha_b[65], path[512];
	struct nj_file *f;
	unsigned json_files;

	fill(buf, sizeof(buf), 77);
	digest_hex("SHA256", buf, 3000, sha_a);
	digest_hex("SHA256", buf, 4000, sha_b);
	nj_files_config_defaults(&cfg);
	cfg.store = true;
	if (!env_open(&e, &cfg))
		return;
	init_flow(&flow);
	f = nj_file_open(e.fs, &flow, "http", (const uint8_t *)"a", 1, 0, 1);
	nj_file_append(f, buf, 1000);
	nj_file_append(f, buf + 1000, 1000);
	nj_file_store(f); /* 2000 bytes seen, all in the head */
	nj_file_append(f, buf + 2000, 1000);
	nj_file_close(f, NJ_FILE_CLOSED, TS, NULL, NULL);
	f = nj_file_open(e.fs, &flow, "http", (const uint8_t *)"b", 1, 1, 1);
	nj_file_store(f);
	nj_file_add_sid(f, 42);
	nj_file_append(f, buf, 4000);
	nj_file_close(f, NJ_FILE_CLOSED, TS, NULL, NULL);
	f = nj_file_open(e.fs, &flow, "http", (const uint8_t *)"c", 1, 2, 1);
	nj_file_append(f, buf, 5000);
	nj_file_store(f); /* the head no longer has it all */
	nj_file_close(f, NJ_FILE_CLOSED, TS, NULL, NULL);
	f = nj_file_open(e.fs, &flow, "http", (const uint8_t *)"d", 1, 3, 1);
	nj_file_append(f, buf, 5000);
	nj_file_close(f, NJ_FILE_CLOSED, TS, NULL, NULL); /* no rule: not stored */
	CHECK(nj_files_stats(e.fs)->store_late == 1);
	CHECK(nj_files_stats(e.fs)->stored == 2);
	env_close(&e);
	snprintf(path, sizeof(path), "%s/store/%c%c/%s", e.dir, sha_a[0], sha_a[1], sha_a);
	CHECK(file_is(path, buf, 3000));
	snprintf(path, sizeof(path), "%s/store/%c%c/%s", e.dir, sha_b[0], sha_b[1], sha_b);
	CHECK(file_is(path, buf, 4000));
	snprintf(path, sizeof(path), "%s/store", e.dir);
	CHECK(store_walk(path, &json_files) == 2);
	CHECK(e.nev == 4);
	if (e.nev == 4) {
		CHECK(fi_bool(e.ev[0], "stored") == 1);
		CHECK(fi_bool(e.ev[1], "stored") == 1);
		CHECK(json_integer_value(json_array_get(json_object_get(fi(e.ev[1]), "sid"), 0)) ==
		      42);
		CHECK(fi_bool(e.ev[2], "stored") == 0 && fi_bool(e.ev[2], "storing") == 1);
		CHECK(fi_bool(e.ev[3], "stored") == 0 && fi_bool(e.ev[3], "storing") == -1);
		/* the filestore turns SHA-256 on by itself */
		CHECK(fi_str(e.ev[3], "sha256") != NULL);
		CHECK(fi_str(e.ev[3], "md5") == NULL);
	}
	env_free(&e);
}

/*
 * filestore rules: every file is copied from its start, closes made while
 * deferral is on wait for nj_files_flush, and nj_files_store_tx marks open or
 * queued files by flow, transactions and direction. Last: the rule-store
 * switch is process-wide.
 */
static void test_store_rules(void)
{
	struct nj_files_config cfg;
	struct nj_flow other;
	struct env e;
	uint8_t buf[20000];
	char sha_a[65], sha_c[65], path[512];
	struct nj_file *a, *b, *c, *d;
	unsigned json_files;

	fill(buf, sizeof(buf), 91);
	digest_hex("SHA256", buf, 20000, sha_a);
	digest_hex("SHA256", buf, 9000, sha_c);
	nj_files_require_rule_store();
	nj_files_config_defaults(&cfg);
	cfg.store = true;
	if (!env_open(&e, &cfg))
		return;
	init_flow(&flow);
	init_flow(&other);
	nj_files_defer(e.fs, true);
	a = nj_file_open(e.fs, &flow, "http", (const uint8_t *)"a", 1, 0, 1);
	b = nj_file_open(e.fs, &flow, "http", (const uint8_t *)"b", 1, 0, 0);
	c = nj_file_open(e.fs, &flow, "http", (const uint8_t *)"c", 1, 1, 1);
	d = nj_file_open(e.fs, &other, "http", (const uint8_t *)"d", 1, 0, 1);
	nj_file_append(a, buf, 20000); /* well past the head: only the copy has it all */
	nj_file_append(b, buf, 100);
	nj_file_append(c, buf, 9000);
	nj_file_append(d, buf, 500);
	nj_file_close(a, NJ_FILE_CLOSED, TS, NULL, NULL);
	nj_file_close(b, NJ_FILE_CLOSED, TS, NULL, NULL);
	nj_file_close(d, NJ_FILE_CLOSED, TS, NULL, NULL);
	CHECK(nj_files_stats(e.fs)->closed == 0); /* queued */
	/* tx 0 to client of flow: a only (b is to server, d another flow, c tx 1) */
	CHECK(nj_files_store_tx(e.fs, &flow, 0, 0, 2) == 1);
	nj_files_flush(e.fs);
	nj_files_defer(e.fs, false);
	CHECK(nj_files_stats(e.fs)->closed == 3);
	/* c still open: marked by a later match over transactions 1.. */
	CHECK(nj_files_store_tx(e.fs, &flow, 1, UINT64_MAX, 3) == 1);
	nj_file_close(c, NJ_FILE_CLOSED, TS, NULL, NULL); /* deferral off: at once */
	CHECK(nj_files_stats(e.fs)->closed == 4);
	CHECK(nj_files_stats(e.fs)->stored == 2);
	CHECK(nj_files_stats(e.fs)->store_late == 0);
	env_close(&e);
	snprintf(path, sizeof(path), "%s/store/%c%c/%s", e.dir, sha_a[0], sha_a[1], sha_a);
	CHECK(file_is(path, buf, 20000));
	snprintf(path, sizeof(path), "%s/store/%c%c/%s", e.dir, sha_c[0], sha_c[1], sha_c);
	CHECK(file_is(path, buf, 9000));
	snprintf(path, sizeof(path), "%s/store", e.dir);
	CHECK(store_walk(path, &json_files) == 2); /* and tmp/ is empty */
	CHECK(e.nev == 4);
	if (e.nev == 4) {
		CHECK(streq(fi_str(e.ev[0], "filename"), "a") && fi_bool(e.ev[0], "stored") == 1);
		CHECK(streq(fi_str(e.ev[1], "filename"), "b") && fi_bool(e.ev[1], "stored") == 0);
		CHECK(fi_bool(e.ev[1], "storing") == -1);
		CHECK(streq(fi_str(e.ev[2], "filename"), "d") && fi_bool(e.ev[2], "stored") == 0);
		CHECK(streq(fi_str(e.ev[3], "filename"), "c") && fi_bool(e.ev[3], "stored") == 1);
	}
	env_free(&e);
}

/* Events off, no EVE worker, store dir impossible, files left open at destroy. */
static void test_misc(void)
{
	struct nj_files_config cfg;
	struct env e;
	struct nj_files *fs;
	struct nj_file *f;
	char path[256];

	cfg_base(&cfg);
	cfg.enabled = false;
	if (!env_open(&e, &cfg))
		return;
	init_flow(&flow);
	f = nj_file_open(e.fs, &flow, "http", (const uint8_t *)"q", 1, 0, 1);
	nj_file_append(f, (const uint8_t *)fox, 5);
	nj_file_close(f, NJ_FILE_CLOSED, TS, NULL, NULL);
	f = nj_file_open(e.fs, &flow, "http", (const uint8_t *)"left", 4, 1, 1);
	nj_file_append(f, (const uint8_t *)fox, 5);
	CHECK(nj_files_stats(e.fs)->open_now == 1);
	env_close(&e);
	CHECK(e.nev == 0);

	/* no EVE worker, store with fileinfo records: a minimal header */
	nj_files_config_defaults(&cfg);
	cfg.store = cfg.store_all = cfg.store_fileinfo = true;
	snprintf(cfg.store_dir, sizeof(cfg.store_dir), "%s/s2/deeper", e.dir);
	fs = nj_files_create(&cfg, NULL);
	CHECK(fs != NULL);
	f = nj_file_open(fs, NULL, "http", (const uint8_t *)"n", 1, 0, 1);
	nj_file_append(f, (const uint8_t *)fox, (uint32_t)strlen(fox));
	nj_file_close(f, NJ_FILE_CLOSED, TS, NULL, NULL);
	CHECK(nj_files_stats(fs)->stored == 1);
	f = nj_file_open(fs, NULL, "http", (const uint8_t *)"open", 4, 1, 1);
	nj_file_append(f, (const uint8_t *)fox, 3);
	nj_files_destroy(fs); /* an open stored file: its temp file goes away */
	snprintf(path, sizeof(path), "%s/s2/deeper/d7/" FOX_SHA256, e.dir);
	CHECK(file_is(path, fox, strlen(fox)));
	{
		unsigned jf = 0;

		snprintf(path, sizeof(path), "%s/s2/deeper", e.dir);
		CHECK(store_walk(path, &jf) == 1);
		CHECK(jf == 1);
	}

	/* a store directory that cannot exist */
	snprintf(cfg.store_dir, sizeof(cfg.store_dir), "%s/eve.json/sub", e.dir);
	fprintf(stderr, "(an error about eve.json/sub is expected)\n");
	CHECK(nj_files_create(&cfg, NULL) == NULL);
	cfg.max_open = 0;
	CHECK(nj_files_create(&cfg, NULL) == NULL);
	CHECK(nj_file_open(NULL, &flow, "http", NULL, 0, 0, 0) == NULL);
	env_free(&e);
}

static void test_config(void)
{
	static const char yaml[] = "%YAML 1.1\n---\n"
				   "outputs:\n"
				   "  - eve-log:\n"
				   "      enabled: yes\n"
				   "      types:\n"
				   "        - alert\n"
				   "        - files:\n"
				   "            force-magic: yes\n"
				   "            force-hash: [md5, SHA1]\n"
				   "  - file-store:\n"
				   "      version: 2\n"
				   "      enabled: yes\n"
				   "      dir: fstore\n"
				   "      write-fileinfo: yes\n"
				   "      force-filestore: yes\n"
				   "      stream-depth: 2mb\n"
				   "      max-open-files: 10\n"
				   "nightjar:\n"
				   "  files:\n"
				   "    max-open: 77\n"
				   "    memcap: 1mb\n"
				   "    max-size: 10mb\n";
	static const char yaml2[] = "outputs:\n"
				    "  - eve-log:\n"
				    "      types: [alert, flow]\n"
				    "  - file-store:\n"
				    "      enabled: yes\n"
				    "      stream-depth: no\n";
	char dir[] = "/tmp/nj_files_conf_XXXXXX", path[128], err[256];
	struct nj_files_config cfg;
	struct nj_conf *c;
	FILE *fp;

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
		CHECK(nj_files_config_load(&cfg, c, "/var/log/nj") == 0);
		CHECK(cfg.enabled);
		CHECK(cfg.md5 && cfg.sha1 && cfg.sha256);
#ifdef NJ_HAVE_MAGIC
		CHECK(cfg.magic);
#endif
		CHECK(cfg.store && cfg.store_all && cfg.store_fileinfo);
		CHECK(strcmp(cfg.store_dir, "/var/log/nj/fstore") == 0);
		CHECK(cfg.stream_depth == 2u << 20);
		CHECK(cfg.store_max_fds == 10);
		CHECK(cfg.max_open == 77);
		CHECK(cfg.memcap == 1u << 20);
		CHECK(cfg.max_size == 10u << 20);
		/* every key above is registered (eve-log's own keys live in dataplane/) */
		CHECK(nj_conf_is_known("outputs.1.file-store.write-fileinfo"));
		CHECK(nj_conf_is_known("outputs.1.file-store.force-hash"));
		CHECK(nj_conf_is_known("outputs.0.eve-log.types.1.files.force-magic"));
		CHECK(nj_conf_is_known("nightjar.files.max-size"));
		CHECK(!nj_conf_is_known("outputs.1.file-store.no-such-key"));
		nj_conf_free(c);
	}
	fp = fopen(path, "w");
	if (!fp)
		return;
	fputs(yaml2, fp);
	fclose(fp);
	c = nj_conf_load(path, NULL, 0, err, sizeof(err));
	CHECK(c != NULL);
	if (c) {
		fprintf(stderr, "(a warning about file-store version is expected)\n");
		CHECK(nj_files_config_load(&cfg, c, ".") == 0);
		CHECK(!cfg.enabled); /* no eve-log asks for files */
		CHECK(!cfg.store);   /* no version: 2 */
		CHECK(!cfg.md5 && !cfg.sha1 && !cfg.sha256 && !cfg.magic);
		nj_conf_free(c);
	}
	CHECK(nj_files_config_load(&cfg, NULL, NULL) == 0);
	CHECK(cfg.enabled && !cfg.store && !cfg.sha256 && cfg.max_open == 1024);
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	CHECK(system(path) == 0);
}

int main(void)
{
	test_hashes();
	test_splits();
	test_states();
	test_magic();
	test_out_of_order();
	test_holes();
	test_limits();
	test_filestore();
	test_store_late();
	test_misc();
	test_config();
	test_store_rules(); /* last: turns the rule-store mode on for the process */
	if (failures)
		fprintf(stderr, "%d failures\n", failures);
	return failures ? 1 : 0;
}
