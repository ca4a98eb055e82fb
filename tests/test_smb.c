/* SPDX-License-Identifier: MIT */
/*
 * SMB parser tests: synthetic SMB2 sessions (negotiate, NTLMSSP session
 * setup, tree connects, create, write, read, close, rename, delete, IOCTL,
 * compound chains, async interim responses, DCE/RPC bind/request over a
 * pipe), each fed whole, split at every byte and byte by byte with identical
 * results; gaps and resync; truncated and malformed input; a guard-page run;
 * files carved through parsers/files.c (hashes, out-of-order data, holes);
 * detection buffers and getters; configuration; and the suricata-verify
 * SMB captures (extracted with libpcap, skipped if absent) checked against
 * their test.yaml expectations for smb, fileinfo and anomaly events.
 */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/nj_common.h"
#include "config/config.h"
#include "dataplane/flow.h"
#include "export/eve.h"
#include "parsers/applayer.h"
#include "parsers/files.h"
#include "parsers/smb/smb.h"
#include "tests/nj_test.h"
#include "tests/nj_test_eve.h"

#define TS     1500000000123456ull
#define SV_DIR NJ_SRC_DIR "/../shared/corpus/suricata-verify"

/* ================================================================ harness */

/*
 * The framework's contract, emulated: unconsumed bytes are kept (up to
 * max_buffer) and presented again with the next data; finished transactions
 * are logged and freed from the head of the queue; at the end both
 * directions are closed and everything left is logged.
 */
struct hx {
	const struct nj_app_parser *P;
	void *st;
	struct nj_al_test *t;
	uint8_t *buf[2];
	uint32_t len[2], cap[2];
	bool dead[2];
	uint32_t max_buffer;
};

static struct hx *hx_new(struct nj_flow *f, struct nj_files *fs)
{
	struct hx *h = calloc(1, sizeof(*h));

	h->P = &nj_smb_parser;
	h->st = h->P->state_new();
	h->t = nj_al_test_new(f, NJ_EVE_SMB, TS);
	h->t->files = fs;
	h->max_buffer = 256 * 1024;
	return h;
}

static void hx_drain(struct hx *h, bool all)
{
	struct nj_al_txq *q = h->P->txq(h->st);

	while (q->head && (all || (q->head->done[0] && q->head->done[1]))) {
		struct nj_al_tx *tx = q->head;

		q->head = tx->next;
		if (!q->head)
			q->tail = NULL;
		q->count--;
		h->P->log_tx(h->t->log, NULL, tx);
		h->P->tx_free(h->st, tx);
	}
}

static void hx_keep(struct hx *h, int dir, const uint8_t *d, uint32_t n)
{
	if (h->len[dir] + n > h->max_buffer) {
		h->dead[dir] = true;
		h->len[dir] = 0;
		nj_al_event(h->t->ctx, dir, "APPLAYER_BUFFER_OVERFLOW");
		return;
	}
	if (h->len[dir] + n > h->cap[dir]) {
		h->cap[dir] = (h->len[dir] + n) * 2;
		h->buf[dir] = realloc(h->buf[dir], h->cap[dir]);
	}
	memmove(h->buf[dir] + h->len[dir], d, n);
	h->len[dir] += n;
}

static void hx_feed(struct hx *h, int dir, const uint8_t *d, uint32_t n)
{
	int32_t r;

	if (h->dead[dir] || !n)
		return;
	if (h->len[dir]) {
		hx_keep(h, dir, d, n);
		if (h->dead[dir])
			return;
		r = h->P->parse(h->st, h->t->ctx, dir, h->buf[dir], h->len[dir]);
		CHECK(r >= 0 && (uint32_t)r <= h->len[dir]);
		if (r < 0) {
			h->dead[dir] = true;
			return;
		}
		memmove(h->buf[dir], h->buf[dir] + r, h->len[dir] - (uint32_t)r);
		h->len[dir] -= (uint32_t)r;
	} else {
		r = h->P->parse(h->st, h->t->ctx, dir, d, n);
		CHECK(r >= 0 && (uint32_t)r <= n);
		if (r < 0) {
			h->dead[dir] = true;
			return;
		}
		if ((uint32_t)r < n)
			hx_keep(h, dir, d + r, n - (uint32_t)r);
	}
	hx_drain(h, false);
}

static void hx_gap(struct hx *h, int dir, uint32_t n)
{
	h->len[dir] = 0; /* leftovers cannot be completed across a gap */
	if (!h->dead[dir])
		h->P->gap(h->st, h->t->ctx, dir, n);
	hx_drain(h, false);
}

static void hx_end(struct hx *h)
{
	for (int d = 0; d < 2; d++)
		h->P->close(h->st, h->t->ctx, d);
	hx_drain(h, true);
}

static void hx_free(struct hx *h)
{
	h->P->state_free(h->st);
	nj_al_test_free(h->t);
	free(h->buf[0]);
	free(h->buf[1]);
	free(h);
}

static const char *hx_out(struct hx *h)
{
	return h->t->out ? h->t->out : "";
}

static bool hx_has_event(struct hx *h, const char *name)
{
	for (unsigned i = 0; i < h->t->nevents && i < NJ_AL_TEST_MAX_EVENTS; i++)
		if (!strcmp(h->t->events[i], name))
			return true;
	return false;
}

/* ================================================================ JSON helpers */

/* "a.b[2].c" inside root; NULL if absent. */
static json_t *jpath(json_t *root, const char *path)
{
	char buf[256], *save = NULL, *part;
	json_t *cur = root;

	snprintf(buf, sizeof(buf), "%s", path);
	for (part = strtok_r(buf, ".", &save); part && cur; part = strtok_r(NULL, ".", &save)) {
		char *br = strchr(part, '[');

		if (br) {
			*br = 0;
			cur = json_object_get(cur, part);
			while (cur && br) {
				long i = strtol(br + 1, NULL, 10);

				cur = json_is_array(cur) ? json_array_get(cur, (size_t)i) : NULL;
				br = strchr(br + 1, '[');
			}
		} else {
			cur = json_object_get(cur, part);
		}
	}
	return cur;
}

static const char *jstr(json_t *root, const char *path)
{
	json_t *v = jpath(root, path);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static long long jint(json_t *root, const char *path)
{
	json_t *v = jpath(root, path);

	return json_is_integer(v) ? json_integer_value(v) : -1;
}

static bool jstreq(json_t *root, const char *path, const char *want)
{
	const char *s = jstr(root, path);

	if (!s || strcmp(s, want)) {
		fprintf(stderr, "  %s: got %s, want %s\n", path, s ? s : "(none)", want);
		return false;
	}
	return true;
}

/*
 * jansson stops at integers past INT64_MAX (SMB2 session ids can be): those
 * become strings of their digits, which is how the checks compare them anyway.
 */
static json_t *loads_big(const char *l, json_error_t *e)
{
	json_t *j = json_loads(l, 0, e);
	char *c, *o;
	size_t n;

	if (j || !strstr(e->text, "too big integer"))
		return j;
	n = strlen(l);
	c = malloc(n * 2 + 1);
	o = c;
	for (size_t i = 0; i < n;) {
		size_t k = i;

		if (l[i] == ':') {
			*o++ = l[i++];
			k = i;
			while (k < n && l[k] >= '0' && l[k] <= '9')
				k++;
			if (k - i >= 19) {
				*o++ = '"';
				memcpy(o, l + i, k - i);
				o += k - i;
				*o++ = '"';
				i = k;
			}
			continue;
		}
		*o++ = l[i++];
	}
	*o = 0;
	j = json_loads(c, 0, e);
	free(c);
	return j;
}

/* All JSON lines of out. */
static json_t *lines(const char *out)
{
	json_t *arr = json_array();
	char *copy = strdup(out), *save = NULL, *l;

	for (l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		json_error_t e;
		json_t *j = loads_big(l, &e);

		if (!j)
			fprintf(stderr, "bad JSON (%s): %.300s\n", e.text, l);
		CHECK(j != NULL);
		if (j)
			json_array_append_new(arr, j);
	}
	free(copy);
	return arr;
}

/* The first smb event whose path equals want. */
static json_t *find_ev(json_t *evs, const char *path, const char *want)
{
	size_t i;
	json_t *e;

	json_array_foreach(evs, i, e)
	{
		const char *s = jstr(e, path);

		if (s && !strcmp(s, want))
			return e;
	}
	return NULL;
}

static unsigned count_ev(json_t *evs, const char *path, const char *want)
{
	size_t i;
	json_t *e;
	unsigned n = 0;

	json_array_foreach(evs, i, e)
	{
		const char *s = jstr(e, path);

		n += s && !strcmp(s, want);
	}
	return n;
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

static void sha256_hex(const void *d, size_t n, char out[65])
{
	uint8_t md[32];
	unsigned int ml = 0;

	EVP_Digest(d, n, md, &ml, EVP_sha256(), NULL);
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* ================================================================ files environment */

/* Files carved into an EVE file in a temporary folder; events read back at the end. */
struct fenv {
	char dir[64], eve_path[128];
	struct nj_eve *eve;
	struct nj_files *fs;
	json_t *ev; /* array, after fenv_close */
};

static bool fenv_open_conf(struct fenv *e, const struct nj_conf *conf)
{
	struct nj_files_config fc;

	memset(e, 0, sizeof(*e));
	snprintf(e->dir, sizeof(e->dir), "/tmp/nj_smb_XXXXXX");
	if (!mkdtemp(e->dir))
		return false;
	snprintf(e->eve_path, sizeof(e->eve_path), "%s/eve.json", e->dir);
	e->eve = nj_test_eve_open(e->eve_path, ~0u);
	CHECK(e->eve != NULL);
	if (!e->eve)
		return false;
	nj_files_config_defaults(&fc);
	if (conf)
		CHECK(nj_files_config_load(&fc, conf, e->dir) == 0);
	fc.sha256 = true;
	fc.md5 = true;
	e->fs = nj_files_create(&fc, nj_eve_worker(e->eve, 0));
	CHECK(e->fs != NULL);
	return e->fs != NULL;
}

static bool fenv_open(struct fenv *e)
{
	return fenv_open_conf(e, NULL);
}

static void fenv_close(struct fenv *e)
{
	char *raw;

	nj_eve_worker_flush(nj_eve_worker(e->eve, 0));
	nj_eve_close(e->eve);
	e->eve = NULL;
	raw = slurp(e->eve_path, NULL);
	e->ev = lines(raw ? raw : "");
	free(raw);
}

static void fenv_free(struct fenv *e)
{
	char cmd[128];

	nj_files_destroy(e->fs);
	json_decref(e->ev);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", e->dir);
	CHECK(system(cmd) == 0);
}

/* ================================================================ message builder */

struct mb {
	uint8_t *b;
	size_t n, cap;
};

static void mb_put(struct mb *m, const void *p, size_t n)
{
	if (!n)
		return;
	if (m->n + n > m->cap) {
		m->cap = (m->n + n) * 2 + 256;
		m->b = realloc(m->b, m->cap);
	}
	if (p)
		memcpy(m->b + m->n, p, n);
	else
		memset(m->b + m->n, 0, n);
	m->n += n;
}

static void mb_u8(struct mb *m, unsigned v)
{
	uint8_t b = (uint8_t)v;

	mb_put(m, &b, 1);
}

static void mb_u16(struct mb *m, unsigned v)
{
	uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};

	mb_put(m, b, 2);
}

static void mb_u32(struct mb *m, uint32_t v)
{
	mb_u16(m, v & 0xffff);
	mb_u16(m, v >> 16);
}

static void mb_u64(struct mb *m, uint64_t v)
{
	mb_u32(m, (uint32_t)v);
	mb_u32(m, (uint32_t)(v >> 32));
}

static void mb_zero(struct mb *m, size_t n)
{
	mb_put(m, NULL, n);
}

static void mb_utf16(struct mb *m, const char *s)
{
	for (; *s; s++)
		mb_u16(m, (uint8_t)*s);
}

static void wr16(struct mb *m, size_t at, unsigned v)
{
	m->b[at] = (uint8_t)v;
	m->b[at + 1] = (uint8_t)(v >> 8);
}

static void wr32(struct mb *m, size_t at, uint32_t v)
{
	wr16(m, at, v & 0xffff);
	wr16(m, at + 2, v >> 16);
}

/* A NetBIOS session message holding what is written until nb_end. */
static size_t nb_begin(struct mb *m)
{
	mb_zero(m, 4);
	return m->n - 4;
}

static void nb_end(struct mb *m, size_t at)
{
	size_t len = m->n - at - 4;

	m->b[at] = 0;
	m->b[at + 1] = (uint8_t)(len >> 16);
	m->b[at + 2] = (uint8_t)(len >> 8);
	m->b[at + 3] = (uint8_t)len;
}

#define F_RESP	  0x1u
#define F_ASYNC	  0x2u
#define F_RELATED 0x4u

/* An SMB2 header; returns its offset (for NextCommand). */
static size_t smb2_hdr(struct mb *m, unsigned cmd, uint32_t flags, uint64_t msg, uint64_t ssn,
		       uint32_t tree, uint32_t status)
{
	size_t at = m->n;

	mb_put(m, "\xfeSMB", 4);
	mb_u16(m, 64);
	mb_u16(m, 1);
	mb_u32(m, status);
	mb_u16(m, cmd);
	mb_u16(m, 1);
	mb_u32(m, flags);
	mb_u32(m, 0); /* NextCommand */
	mb_u64(m, msg);
	if (flags & F_ASYNC) {
		mb_u64(m, 0x1234 + msg); /* AsyncId */
	} else {
		mb_u32(m, 0xfeff);
		mb_u32(m, tree);
	}
	mb_u64(m, ssn);
	mb_zero(m, 16);
	return at;
}

/* Pads to 8 bytes and links the previous command of a compound to what follows. */
static void smb2_chain(struct mb *m, size_t prev)
{
	while ((m->n - prev) % 8)
		mb_u8(m, 0);
	wr32(m, prev + 20, (uint32_t)(m->n - prev));
}

static const uint8_t FILE_ID[16] = {0x4d, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0xff, 0xff, 0xff, 0xff};
static const uint8_t PIPE_ID[16] = {0x77, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff};

static void b_negotiate_req(struct mb *m, uint64_t msg)
{
	static const uint16_t d[] = {0x0202, 0x0210, 0x0300, 0x0302, 0x0311};
	size_t nb = nb_begin(m);

	smb2_hdr(m, 0, 0, msg, 0, 0, 0);
	mb_u16(m, 36);
	mb_u16(m, 5);
	mb_u16(m, 1);
	mb_u16(m, 0);
	mb_u32(m, 0x7f);
	mb_put(m, "0123456789abcdef", 16);
	mb_u32(m, 0);
	mb_u16(m, 0);
	mb_u16(m, 0);
	for (unsigned i = 0; i < 5; i++)
		mb_u16(m, d[i]);
	nb_end(m, nb);
}

static void b_negotiate_resp(struct mb *m, uint64_t msg, uint16_t dialect)
{
	size_t nb = nb_begin(m);

	smb2_hdr(m, 0, F_RESP, msg, 0, 0, 0);
	mb_u16(m, 65);
	mb_u16(m, 1);
	mb_u16(m, dialect);
	mb_u16(m, 0);
	mb_put(m, "SERVERGUID012345", 16);
	mb_u32(m, 0x2f);
	mb_u32(m, 8 << 20);
	mb_u32(m, 8 << 20);
	mb_u32(m, 8 << 20);
	mb_u64(m, 0);
	mb_u64(m, 0);
	mb_u16(m, 128);
	mb_u16(m, 0);
	mb_u32(m, 0);
	nb_end(m, nb);
}

/* An NTLMSSP AUTHENTICATE message (UTF-16 names, with version). */
static void ntlm_auth(struct mb *m, const char *dom, const char *user, const char *host)
{
	size_t at = m->n, ld = strlen(dom) * 2, lu = strlen(user) * 2, lh = strlen(host) * 2;
	uint32_t off = 88; /* header 64 + version 8 + MIC 16 */

	mb_put(m, "NTLMSSP\0", 8);
	mb_u32(m, 3);
	/* LM, NT responses: empty at the end */
	mb_u16(m, 0);
	mb_u16(m, 0);
	mb_u32(m, off + (uint32_t)(ld + lu + lh));
	mb_u16(m, 0);
	mb_u16(m, 0);
	mb_u32(m, off + (uint32_t)(ld + lu + lh));
	mb_u16(m, (unsigned)ld);
	mb_u16(m, (unsigned)ld);
	mb_u32(m, off);
	mb_u16(m, (unsigned)lu);
	mb_u16(m, (unsigned)lu);
	mb_u32(m, off + (uint32_t)ld);
	mb_u16(m, (unsigned)lh);
	mb_u16(m, (unsigned)lh);
	mb_u32(m, off + (uint32_t)(ld + lu));
	mb_u16(m, 0);
	mb_u16(m, 0);
	mb_u32(m, off + (uint32_t)(ld + lu + lh));
	mb_u32(m, 0xe2888215); /* flags: unicode, version, ... */
	/* version 10.0 build 17763 rev 15 */
	mb_u8(m, 10);
	mb_u8(m, 0);
	mb_u16(m, 17763);
	mb_zero(m, 3);
	mb_u8(m, 15);
	mb_zero(m, 16); /* MIC */
	CHECK(m->n - at == off);
	mb_utf16(m, dom);
	mb_utf16(m, user);
	mb_utf16(m, host);
}

static void b_session_req(struct mb *m, uint64_t msg, uint64_t ssn, bool auth)
{
	size_t nb = nb_begin(m), h, blen_at, start;

	h = smb2_hdr(m, 1, 0, msg, ssn, 0, 0);
	mb_u16(m, 25);
	mb_u8(m, 0);
	mb_u8(m, 1);
	mb_u32(m, 1);
	mb_u32(m, 0);
	mb_u16(m, 64 + 24);
	blen_at = m->n;
	mb_u16(m, 0);
	mb_u64(m, 0);
	start = m->n;
	if (auth) {
		ntlm_auth(m, "CONTOSO", "Administrator", "WS01");
	} else {
		mb_put(m, "NTLMSSP\0", 8);
		mb_u32(m, 1);
		mb_u32(m, 0xe2088297);
		mb_zero(m, 16);
	}
	wr16(m, blen_at, (unsigned)(m->n - start));
	(void)h;
	nb_end(m, nb);
}

static void b_session_resp(struct mb *m, uint64_t msg, uint64_t ssn, uint32_t status)
{
	size_t nb = nb_begin(m);

	smb2_hdr(m, 1, F_RESP, msg, ssn, 0, status);
	mb_u16(m, 9);
	mb_u16(m, 0);
	mb_u16(m, 72);
	mb_u16(m, 0);
	nb_end(m, nb);
}

static void b_tree_req(struct mb *m, uint64_t msg, uint64_t ssn, const char *path)
{
	size_t nb = nb_begin(m);

	smb2_hdr(m, 3, 0, msg, ssn, 0, 0);
	mb_u16(m, 9);
	mb_u16(m, 0);
	mb_u16(m, 72);
	mb_u16(m, (unsigned)strlen(path) * 2);
	mb_utf16(m, path);
	nb_end(m, nb);
}

static void b_tree_resp(struct mb *m, uint64_t msg, uint64_t ssn, uint32_t tree, uint8_t type)
{
	size_t nb = nb_begin(m);

	smb2_hdr(m, 3, F_RESP, msg, ssn, tree, 0);
	mb_u16(m, 16);
	mb_u8(m, type);
	mb_u8(m, 0);
	mb_u32(m, 0);
	mb_u32(m, 0);
	mb_u32(m, 0x1f01ff);
	nb_end(m, nb);
}

/* CREATE body (after a header). */
static void create_body(struct mb *m, const char *name, uint32_t disp, uint32_t opts)
{
	mb_u16(m, 57);
	mb_u8(m, 0);
	mb_u8(m, 0);
	mb_u32(m, 2);
	mb_u64(m, 0);
	mb_u64(m, 0);
	mb_u32(m, 0x12019f);
	mb_u32(m, 0x80);
	mb_u32(m, 7);
	mb_u32(m, disp);
	mb_u32(m, opts);
	mb_u16(m, 120);
	mb_u16(m, (unsigned)strlen(name) * 2);
	mb_u32(m, 0);
	mb_u32(m, 0);
	mb_utf16(m, name);
	if (!*name)
		mb_u8(m, 0);
}

static void create_resp_body(struct mb *m, const uint8_t *fid, uint64_t size)
{
	mb_u16(m, 89);
	mb_u8(m, 0);
	mb_u8(m, 0);
	mb_u32(m, 2);
	for (int i = 0; i < 4; i++)
		mb_u64(m, 132000000000000000ull + (uint64_t)i * 10000000ull); /* 2019-04-17 */
	mb_u64(m, size);
	mb_u64(m, size);
	mb_u32(m, 0x80);
	mb_u32(m, 0);
	mb_put(m, fid, 16);
	mb_u32(m, 0);
	mb_u32(m, 0);
}

static void b_create_req(struct mb *m, uint64_t msg, uint64_t ssn, uint32_t tree, const char *name,
			 uint32_t disp, uint32_t opts)
{
	size_t nb = nb_begin(m);

	smb2_hdr(m, 5, 0, msg, ssn, tree, 0);
	create_body(m, name, disp, opts);
	nb_end(m, nb);
}

static void b_create_resp(struct mb *m, uint64_t msg, uint64_t ssn, uint32_t tree,
			  const uint8_t *fid, uint32_t status)
{
	size_t nb = nb_begin(m);

	smb2_hdr(m, 5, F_RESP, msg, ssn, tree, status);
	if (status == 0) {
		create_resp_body(m, fid, 1000);
	} else {
		mb_u16(m, 9);
		mb_zero(m, 7);
	}
	nb_end(m, nb);
}

static void b_write_req(struct mb *m, uint64_t msg, uint64_t ssn, uint32_t tree, const uint8_t *fid,
			uint64_t off, const void *data, uint32_t len)
{
	size_t nb = nb_begin(m);

	smb2_hdr(m, 9, 0, msg, ssn, tree, 0);
	mb_u16(m, 49);
	mb_u16(m, 112);
	mb_u32(m, len);
	mb_u64(m, off);
	mb_put(m, fid, 16);
	mb_u32(m, 0);
	mb_u32(m, 0);
	mb_u16(m, 0);
	mb_u16(m, 0);
	mb_u32(m, 0);
	mb_put(m, data, len);
	nb_end(m, nb);
}

static void b_write_resp(struct mb *m, uint64_t msg, uint64_t ssn, uint32_t tree, uint32_t count)
{
	size_t nb = nb_begin(m);

	smb2_hdr(m, 9, F_RESP, msg, ssn, tree, 0);
	mb_u16(m, 17);
	mb_u16(m, 0);
	mb_u32(m, count);
	mb_u32(m, 0);
	mb_u16(m, 0);
	mb_u16(m, 0);
	nb_end(m, nb);
}

static void b_read_req(struct mb *m, uint64_t msg, uint64_t ssn, uint32_t tree, const uint8_t *fid,
		       uint64_t off, uint32_t len)
{
	size_t nb = nb_begin(m);

	smb2_hdr(m, 8, 0, msg, ssn, tree, 0);
	mb_u16(m, 49);
	mb_u8(m, 0);
	mb_u8(m, 0);
	mb_u32(m, len);
	mb_u64(m, off);
	mb_put(m, fid, 16);
	mb_u32(m, 1);
	mb_u32(m, 0);
	mb_u32(m, 0);
	mb_u16(m, 0);
	mb_u16(m, 0);
	mb_u8(m, 0);
	nb_end(m, nb);
}

static void b_read_resp(struct mb *m, uint64_t msg, uint64_t ssn, uint32_t tree, uint32_t status,
			const void *data, uint32_t len)
{
	size_t nb = nb_begin(m);

	smb2_hdr(m, 8, F_RESP, msg, ssn, tree, status);
	if (status == 0 || status == 0x80000005u) {
		mb_u16(m, 17);
		mb_u8(m, 80);
		mb_u8(m, 0);
		mb_u32(m, len);
		mb_u32(m, 0);
		mb_u32(m, 0);
		mb_put(m, data, len);
	} else {
		mb_u16(m, 9);
		mb_zero(m, 7);
	}
	nb_end(m, nb);
}

static void close_body(struct mb *m, const uint8_t *fid)
{
	mb_u16(m, 24);
	mb_u16(m, 0);
	mb_u32(m, 0);
	mb_put(m, fid, 16);
}

static void b_close_req(struct mb *m, uint64_t msg, uint64_t ssn, uint32_t tree, const uint8_t *fid)
{
	size_t nb = nb_begin(m);

	smb2_hdr(m, 6, 0, msg, ssn, tree, 0);
	close_body(m, fid);
	nb_end(m, nb);
}

static void b_simple_resp(struct mb *m, unsigned cmd, uint32_t flags, uint64_t msg, uint64_t ssn,
			  uint32_t tree, uint32_t status)
{
	size_t nb = nb_begin(m);

	smb2_hdr(m, cmd, F_RESP | flags, msg, ssn, tree, status);
	if (cmd == 6 && status == 0) {
		mb_u16(m, 60);
		mb_zero(m, 58);
	} else {
		mb_u16(m, status ? 9 : 4);
		mb_zero(m, status ? 7 : 2);
	}
	nb_end(m, nb);
}

static void b_rename_req(struct mb *m, uint64_t msg, uint64_t ssn, uint32_t tree,
			 const uint8_t *fid, const char *to)
{
	size_t nb = nb_begin(m), blen = strlen(to) * 2 + 20;

	smb2_hdr(m, 17, 0, msg, ssn, tree, 0);
	mb_u16(m, 33);
	mb_u8(m, 1);
	mb_u8(m, 10);
	mb_u32(m, (uint32_t)blen);
	mb_u16(m, 96);
	mb_u16(m, 0);
	mb_u32(m, 0);
	mb_put(m, fid, 16);
	mb_u8(m, 0);
	mb_zero(m, 7);
	mb_u64(m, 0);
	mb_u32(m, (uint32_t)strlen(to) * 2);
	mb_utf16(m, to);
	nb_end(m, nb);
}

static void b_notify_req(struct mb *m, uint64_t msg, uint64_t ssn, uint32_t tree,
			 const uint8_t *fid)
{
	size_t nb = nb_begin(m);

	smb2_hdr(m, 15, 0, msg, ssn, tree, 0);
	mb_u16(m, 32);
	mb_u16(m, 0);
	mb_u32(m, 4096);
	mb_put(m, fid, 16);
	mb_u32(m, 0x17);
	mb_u32(m, 0);
	nb_end(m, nb);
}

/* IOCTL FSCTL_PIPE_TRANSCEIVE request with DCE/RPC input. */
static void b_ioctl_req(struct mb *m, uint64_t msg, uint64_t ssn, uint32_t tree, uint32_t func,
			const uint8_t *fid, const void *in, uint32_t inlen)
{
	size_t nb = nb_begin(m);

	smb2_hdr(m, 11, 0, msg, ssn, tree, 0);
	mb_u16(m, 57);
	mb_u16(m, 0);
	mb_u32(m, func);
	mb_put(m, fid, 16);
	mb_u32(m, inlen ? 120 : 0);
	mb_u32(m, inlen);
	mb_u32(m, 0);
	mb_u32(m, 0);
	mb_u32(m, 0);
	mb_u32(m, 4280);
	mb_u32(m, 1);
	mb_u32(m, 0);
	mb_put(m, in, inlen);
	nb_end(m, nb);
}

static void b_ioctl_resp(struct mb *m, uint64_t msg, uint64_t ssn, uint32_t tree, uint32_t func,
			 const uint8_t *fid, const void *out, uint32_t outlen, uint32_t flags,
			 uint32_t status)
{
	size_t nb = nb_begin(m);

	smb2_hdr(m, 11, F_RESP | flags, msg, ssn, tree, status);
	if (status) {
		mb_u16(m, 9);
		mb_zero(m, 7);
	} else {
		mb_u16(m, 49);
		mb_u16(m, 0);
		mb_u32(m, func);
		mb_put(m, fid, 16);
		mb_u32(m, 112);
		mb_u32(m, 0);
		mb_u32(m, 112);
		mb_u32(m, outlen);
		mb_u32(m, 0);
		mb_u32(m, 0);
		mb_put(m, out, outlen);
	}
	nb_end(m, nb);
}

/* DCE/RPC PDUs (little endian). */
static const uint8_t SRVSVC_UUID_WIRE[16] = {0xc8, 0x4f, 0x32, 0x4b, 0x70, 0x16, 0xd3, 0x01,
					     0x12, 0x78, 0x5a, 0x47, 0xbf, 0x6e, 0xe1, 0x88};
static const uint8_t NDR_WIRE[16] = {0x04, 0x5d, 0x88, 0x8a, 0xeb, 0x1c, 0xc9, 0x11,
				     0x9f, 0xe8, 0x08, 0x00, 0x2b, 0x10, 0x48, 0x60};

static void dce_hdr(struct mb *m, uint8_t type, uint8_t flags, uint32_t call)
{
	mb_u8(m, 5);
	mb_u8(m, 0);
	mb_u8(m, type);
	mb_u8(m, flags);
	mb_put(m, "\x10\x00\x00\x00", 4);
	mb_u16(m, 0); /* frag_len, patched */
	mb_u16(m, 0);
	mb_u32(m, call);
}

static void dce_end(struct mb *m, size_t at)
{
	wr16(m, at + 8, (unsigned)(m->n - at));
}

static void dce_bind(struct mb *m, uint32_t call)
{
	size_t at = m->n;

	dce_hdr(m, 11, 3, call);
	mb_u16(m, 4280);
	mb_u16(m, 4280);
	mb_u32(m, 0);
	mb_u8(m, 2);
	mb_zero(m, 3);
	for (unsigned ctx = 0; ctx < 2; ctx++) {
		mb_u16(m, ctx);
		mb_u8(m, 1);
		mb_u8(m, 0);
		mb_put(m, SRVSVC_UUID_WIRE, 16);
		mb_u16(m, 3);
		mb_u16(m, 0);
		mb_put(m, NDR_WIRE, 16);
		mb_u32(m, 2);
	}
	dce_end(m, at);
}

static void dce_bindack(struct mb *m, uint32_t call)
{
	size_t at = m->n;

	dce_hdr(m, 12, 3, call);
	mb_u16(m, 4280);
	mb_u16(m, 4280);
	mb_u32(m, 0x1234);
	mb_u16(m, 13);
	mb_put(m, "\\PIPE\\srvsvc", 13);
	mb_zero(m, 1); /* pad to 4: 26 + 13 = 39 -> 40 */
	mb_u8(m, 2);
	mb_zero(m, 3);
	mb_u16(m, 0);
	mb_u16(m, 0);
	mb_put(m, NDR_WIRE, 16);
	mb_u32(m, 2);
	mb_u16(m, 2);
	mb_u16(m, 2);
	mb_zero(m, 20);
	dce_end(m, at);
}

static void dce_request(struct mb *m, uint32_t call, uint16_t ctx, uint16_t opnum, uint8_t flags,
			uint32_t stub)
{
	size_t at = m->n;

	dce_hdr(m, 0, flags, call);
	mb_u32(m, stub);
	mb_u16(m, ctx);
	mb_u16(m, opnum);
	for (uint32_t i = 0; i < stub; i++)
		mb_u8(m, 0x41 + i % 26);
	dce_end(m, at);
}

static void dce_response(struct mb *m, uint32_t call, uint32_t stub)
{
	size_t at = m->n;

	dce_hdr(m, 2, 3, call);
	mb_u32(m, stub);
	mb_u16(m, 0);
	mb_u8(m, 0);
	mb_u8(m, 0);
	for (uint32_t i = 0; i < stub; i++)
		mb_u8(m, 0x61 + i % 26);
	dce_end(m, at);
}

/* ================================================================ scripts */

/* A conversation: messages in order, each with its direction. */
struct sc_msg {
	int dir;
	size_t off, len;
	uint32_t gap; /* bytes lost before this message */
};

struct script {
	struct mb data;
	struct sc_msg *msg;
	unsigned n, cap;
};

static struct script *sc_new(void)
{
	return calloc(1, sizeof(struct script));
}

static void sc_addp(struct script *s, int dir, const void *p, size_t len, uint32_t gap)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->msg = realloc(s->msg, s->cap * sizeof(*s->msg));
	}
	s->msg[s->n].dir = dir;
	s->msg[s->n].off = s->data.n;
	s->msg[s->n].len = len;
	s->msg[s->n].gap = gap;
	s->n++;
	mb_put(&s->data, p, len);
}

/* Appends what b holds as one message of direction dir. */
static void sc_add(struct script *s, int dir, struct mb *b)
{
	sc_addp(s, dir, b->b, b->n, 0);
	b->n = 0;
}

static void sc_free(struct script *s)
{
	free(s->data.b);
	free(s->msg);
	free(s);
}

enum feed_mode { FEED_MSG, FEED_RUN, FEED_BYTE, FEED_SPLIT };

static int line_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The lines of s sorted: transactions are logged when they complete, and
 * when two complete in the same call or in two calls depends on how the
 * bytes came; the transactions themselves (ids included) must not.
 */
static char *sorted_lines(const char *s)
{
	char *copy = strdup(s), *save = NULL, *l, **v = NULL, *out;
	size_t n = 0, cap = 0, tot = 1;

	for (l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			v = realloc(v, cap * sizeof(*v));
		}
		v[n++] = l;
		tot += strlen(l) + 1;
	}
	if (n)
		qsort(v, n, sizeof(*v), line_cmp);
	out = malloc(tot);
	out[0] = 0;
	for (size_t i = 0, o = 0; i < n; i++) {
		size_t k = strlen(v[i]);

		memcpy(out + o, v[i], k);
		o += k;
		out[o++] = '\n';
		out[o] = 0;
	}
	free(v);
	free(copy);
	return out;
}

/*
 * Feeds a script: each message whole (FEED_MSG), consecutive messages of a
 * direction joined (FEED_RUN), byte by byte, or each message split at k.
 * Returns the smb events and anomaly names as one string.
 */
static char *sc_run_flow(const struct script *s, enum feed_mode mode, size_t k, struct nj_files *fs,
			 struct nj_flow *f, struct hx **keep)
{
	struct hx *h = hx_new(f, fs);
	struct mb out = {0};
	char *res;

	for (unsigned i = 0; i < s->n; i++) {
		const uint8_t *p = s->data.b + s->msg[i].off;
		size_t len = s->msg[i].len;
		int dir = s->msg[i].dir;

		if (s->msg[i].gap)
			hx_gap(h, dir, s->msg[i].gap);
		switch (mode) {
		case FEED_MSG: hx_feed(h, dir, p, (uint32_t)len); break;
		case FEED_RUN: {
			size_t tot = len;

			while (i + 1 < s->n && s->msg[i + 1].dir == dir && !s->msg[i + 1].gap) {
				i++;
				tot += s->msg[i].len;
			}
			hx_feed(h, dir, p, (uint32_t)tot);
			break;
		}
		case FEED_BYTE:
			for (size_t j = 0; j < len; j++)
				hx_feed(h, dir, p + j, 1);
			break;
		case FEED_SPLIT: {
			size_t a = k < len ? k : len;

			hx_feed(h, dir, p, (uint32_t)a);
			hx_feed(h, dir, p + a, (uint32_t)(len - a));
			break;
		}
		}
	}
	hx_end(h);
	mb_put(&out, hx_out(h), strlen(hx_out(h)));
	for (unsigned i = 0; i < h->t->nevents && i < NJ_AL_TEST_MAX_EVENTS; i++) {
		mb_put(&out, "event:", 6);
		mb_put(&out, h->t->events[i], strlen(h->t->events[i]));
		mb_put(&out, "\n", 1);
	}
	mb_u8(&out, 0);
	res = sorted_lines((char *)out.b);
	free(out.b);
	if (keep)
		*keep = h;
	else
		hx_free(h);
	return res;
}

static char *sc_run(const struct script *s, enum feed_mode mode, size_t k, struct nj_files *fs,
		    struct hx **keep)
{
	return sc_run_flow(s, mode, k, fs, NULL, keep);
}

/* Prints the first line where two outputs differ. */
static void show_diff(const char *name, const char *what, const char *a, const char *b)
{
	unsigned line = 1;

	while (*a && *a == *b) {
		line += *a == '\n';
		a++;
		b++;
	}
	while (line > 1 && a[-1] != '\n') {
		a--;
		b--;
	}
	fprintf(stderr, "%s: %s differs at line %u\n  want: %.400s\n  got:  %.400s\n", name, what,
		line, a, b);
}

/* Every way of feeding gives the same result as whole messages. */
static void check_splits(const struct script *s, const char *name, bool every_byte)
{
	char *ref = sc_run(s, FEED_MSG, 0, NULL, NULL), *o;
	size_t maxlen = 0;
	unsigned bad = 0;

	for (unsigned i = 0; i < s->n; i++)
		if (s->msg[i].len > maxlen)
			maxlen = s->msg[i].len;
	o = sc_run(s, FEED_RUN, 0, NULL, NULL);
	if (strcmp(ref, o)) {
		show_diff(name, "joined runs", ref, o);
		bad++;
	}
	free(o);
	o = sc_run(s, FEED_BYTE, 0, NULL, NULL);
	if (strcmp(ref, o)) {
		show_diff(name, "byte by byte", ref, o);
		bad++;
	}
	free(o);
	if (every_byte) {
		for (size_t k = 1; k < maxlen; k++) {
			o = sc_run(s, FEED_SPLIT, k, NULL, NULL);
			if (strcmp(ref, o)) {
				char what[64];

				snprintf(what, sizeof(what), "split at %zu", k);
				if (bad < 3)
					show_diff(name, what, ref, o);
				bad++;
			}
			free(o);
		}
	}
	CHECK(bad == 0);
	free(ref);
}

/* ================================================================ a synthetic SMB2 session */

#define SSN  0x400000000045ull
#define TREE 1
#define IPC  5

static uint8_t file_data[12288];

static void fill_data(void)
{
	uint32_t x = 12345;

	for (size_t i = 0; i < sizeof(file_data); i++) {
		x = x * 1103515245u + 12345u;
		file_data[i] = (uint8_t)(x >> 16);
	}
}

/*
 * Negotiate 3.11, NTLMSSP in two rounds, a share, a file created, written
 * out of order, read back, renamed and closed; an async CHANGE_NOTIFY; a
 * compound CREATE+CLOSE; a pipe with DCE/RPC bind, a request over IOCTL and
 * a fragmented one over WRITE/READ; a plain IOCTL, a failing CREATE, logoff.
 */
static struct script *session_script(void)
{
	struct script *s = sc_new();
	struct mb b = {0}, st = {0};
	size_t nb, h1;

	b_negotiate_req(&b, 0);
	sc_add(s, 0, &b);
	b_negotiate_resp(&b, 0, 0x0311);
	sc_add(s, 1, &b);
	b_session_req(&b, 1, 0, false);
	sc_add(s, 0, &b);
	b_session_resp(&b, 1, SSN, 0xc0000016u);
	sc_add(s, 1, &b);
	b_session_req(&b, 2, SSN, true);
	sc_add(s, 0, &b);
	b_session_resp(&b, 2, SSN, 0);
	sc_add(s, 1, &b);
	b_tree_req(&b, 3, SSN, "\\\\srv\\share");
	sc_add(s, 0, &b);
	b_tree_resp(&b, 3, SSN, TREE, 1);
	sc_add(s, 1, &b);
	b_create_req(&b, 4, SSN, TREE, "dir\\file.txt", 5, 0x44);
	sc_add(s, 0, &b);
	b_create_resp(&b, 4, SSN, TREE, FILE_ID, 0);
	sc_add(s, 1, &b);
	/* writes: the third chunk before the second */
	b_write_req(&b, 5, SSN, TREE, FILE_ID, 0, file_data, 4096);
	sc_add(s, 0, &b);
	b_write_req(&b, 6, SSN, TREE, FILE_ID, 8192, file_data + 8192, 4096);
	sc_add(s, 0, &b);
	b_write_req(&b, 7, SSN, TREE, FILE_ID, 4096, file_data + 4096, 4096);
	sc_add(s, 0, &b);
	for (unsigned i = 5; i <= 7; i++) {
		b_write_resp(&b, i, SSN, TREE, 4096);
		sc_add(s, 1, &b);
	}
	b_read_req(&b, 8, SSN, TREE, FILE_ID, 0, sizeof(file_data));
	sc_add(s, 0, &b);
	b_read_resp(&b, 8, SSN, TREE, 0, file_data, sizeof(file_data));
	sc_add(s, 1, &b);
	b_rename_req(&b, 9, SSN, TREE, FILE_ID, "dir\\renamed.txt");
	sc_add(s, 0, &b);
	b_simple_resp(&b, 17, 0, 9, SSN, TREE, 0);
	sc_add(s, 1, &b);
	b_close_req(&b, 10, SSN, TREE, FILE_ID);
	sc_add(s, 0, &b);
	b_simple_resp(&b, 6, 0, 10, SSN, TREE, 0);
	sc_add(s, 1, &b);
	/* async: an interim STATUS_PENDING, then the answer */
	b_notify_req(&b, 11, SSN, TREE, FILE_ID);
	sc_add(s, 0, &b);
	b_simple_resp(&b, 15, F_ASYNC, 11, SSN, 0, 0x103);
	sc_add(s, 1, &b);
	b_simple_resp(&b, 15, F_ASYNC, 11, SSN, 0, 0x10c);
	sc_add(s, 1, &b);
	/* compound: CREATE (delete on close) + CLOSE of the same, related */
	nb = nb_begin(&b);
	h1 = smb2_hdr(&b, 5, 0, 12, SSN, TREE, 0);
	create_body(&b, "dir\\x.tmp", 2, 0x1000);
	smb2_chain(&b, h1);
	smb2_hdr(&b, 6, F_RELATED, 13, SSN, TREE, 0);
	close_body(&b,
		   (const uint8_t
			    *)"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff");
	nb_end(&b, nb);
	sc_add(s, 0, &b);
	nb = nb_begin(&b);
	h1 = smb2_hdr(&b, 5, F_RESP, 12, SSN, TREE, 0);
	create_resp_body(&b, (const uint8_t *)"XTMPFILEID012345", 0);
	smb2_chain(&b, h1);
	smb2_hdr(&b, 6, F_RESP | F_RELATED, 13, SSN, TREE, 0);
	mb_u16(&b, 60);
	mb_zero(&b, 58);
	nb_end(&b, nb);
	sc_add(s, 1, &b);
	/* a pipe: srvsvc */
	b_tree_req(&b, 14, SSN, "\\\\srv\\IPC$");
	sc_add(s, 0, &b);
	b_tree_resp(&b, 14, SSN, IPC, 2);
	sc_add(s, 1, &b);
	b_create_req(&b, 15, SSN, IPC, "srvsvc", 1, 0);
	sc_add(s, 0, &b);
	b_create_resp(&b, 15, SSN, IPC, PIPE_ID, 0);
	sc_add(s, 1, &b);
	dce_bind(&st, 1);
	b_write_req(&b, 16, SSN, IPC, PIPE_ID, 0, st.b, (uint32_t)st.n);
	st.n = 0;
	sc_add(s, 0, &b);
	b_write_resp(&b, 16, SSN, IPC, 116);
	sc_add(s, 1, &b);
	b_read_req(&b, 17, SSN, IPC, PIPE_ID, 0, 1024);
	sc_add(s, 0, &b);
	dce_bindack(&st, 1);
	b_read_resp(&b, 17, SSN, IPC, 0, st.b, (uint32_t)st.n);
	st.n = 0;
	sc_add(s, 1, &b);
	dce_request(&st, 2, 1, 15, 3, 40);
	b_ioctl_req(&b, 18, SSN, IPC, 0x0011c017, PIPE_ID, st.b, (uint32_t)st.n);
	st.n = 0;
	sc_add(s, 0, &b);
	dce_response(&st, 2, 100);
	b_ioctl_resp(&b, 18, SSN, IPC, 0x0011c017, PIPE_ID, st.b, (uint32_t)st.n, 0, 0);
	st.n = 0;
	sc_add(s, 1, &b);
	dce_request(&st, 3, 0, 16, 1, 30);
	b_write_req(&b, 19, SSN, IPC, PIPE_ID, 0, st.b, (uint32_t)st.n);
	st.n = 0;
	sc_add(s, 0, &b);
	dce_request(&st, 3, 0, 16, 2, 20);
	b_write_req(&b, 20, SSN, IPC, PIPE_ID, 0, st.b, (uint32_t)st.n);
	st.n = 0;
	sc_add(s, 0, &b);
	b_read_req(&b, 21, SSN, IPC, PIPE_ID, 0, 1024);
	sc_add(s, 0, &b);
	dce_response(&st, 3, 8);
	b_read_resp(&b, 21, SSN, IPC, 0, st.b, (uint32_t)st.n);
	st.n = 0;
	sc_add(s, 1, &b);
	/* IOCTL on the share, answered after an interim response */
	b_ioctl_req(&b, 22, SSN, TREE, 0x00140204, FILE_ID, "0123456789abcdef0123456789", 26);
	sc_add(s, 0, &b);
	b_ioctl_resp(&b, 22, SSN, 0, 0x00140204, FILE_ID, NULL, 0, F_ASYNC, 0x103);
	sc_add(s, 1, &b);
	b_ioctl_resp(&b, 22, SSN, 0, 0x00140204, FILE_ID, "xxxxxxxxxxxxxxxxxxxxxxxx", 24, F_ASYNC,
		     0);
	sc_add(s, 1, &b);
	b_create_req(&b, 23, SSN, TREE, "nosuch.txt", 1, 0);
	sc_add(s, 0, &b);
	b_create_resp(&b, 23, SSN, TREE, NULL, 0xc0000034u);
	sc_add(s, 1, &b);
	nb = nb_begin(&b);
	smb2_hdr(&b, 2, 0, 24, SSN, 0, 0);
	mb_u16(&b, 4);
	mb_u16(&b, 0);
	nb_end(&b, nb);
	sc_add(s, 0, &b);
	b_simple_resp(&b, 2, 0, 24, SSN, 0, 0);
	sc_add(s, 1, &b);
	free(b.b);
	free(st.b);
	return s;
}

static void test_session(void)
{
	struct script *s;
	char *out;
	json_t *evs, *e;
	struct hx *h;

	fill_data();
	s = session_script();
	out = sc_run(s, FEED_MSG, 0, NULL, &h);
	evs = lines(hx_out(h));
	if (getenv("SMB_TEST_DUMP"))
		fprintf(stderr, "%s", out);
	/* negotiate */
	e = find_ev(evs, "smb.command", "SMB2_COMMAND_NEGOTIATE_PROTOCOL");
	CHECK(e && jstreq(e, "smb.dialect", "3.11") && jstreq(e, "smb.status", "STATUS_SUCCESS") &&
	      jstreq(e, "smb.status_code", "0x0") && jstreq(e, "smb.client_dialects[0]", "2.02") &&
	      jstreq(e, "smb.client_dialects[4]", "3.11") && jint(e, "smb.id") == 1 &&
	      jint(e, "smb.max_read_size") == 8 << 20 &&
	      jstreq(e, "smb.client_guid", "33323130-3534-3736-3938-626166656463"));
	/* session setup: two rounds, the second with the user */
	CHECK(count_ev(evs, "smb.command", "SMB2_COMMAND_SESSION_SETUP") == 2);
	e = find_ev(evs, "smb.status", "STATUS_MORE_PROCESSING_REQUIRED");
	CHECK(e && jint(e, "smb.session_id") == (long long)SSN && !jpath(e, "smb.ntlmssp"));
	e = find_ev(evs, "smb.ntlmssp.user", "Administrator");
	CHECK(e && jstreq(e, "smb.ntlmssp.domain", "CONTOSO") &&
	      jstreq(e, "smb.ntlmssp.host", "WS01") &&
	      jstreq(e, "smb.ntlmssp.version", "10.0 build 17763 rev 15") &&
	      jstreq(e, "smb.status", "STATUS_SUCCESS") && jint(e, "smb.id") == 3);
	/* shares */
	e = find_ev(evs, "smb.share", "\\\\srv\\share");
	CHECK(e && jstreq(e, "smb.share_type", "FILE") && jint(e, "smb.tree_id") == TREE &&
	      jstreq(e, "smb.command", "SMB2_COMMAND_TREE_CONNECT"));
	e = find_ev(evs, "smb.named_pipe", "\\\\srv\\IPC$");
	CHECK(e && jstreq(e, "smb.share_type", "PIPE") && jint(e, "smb.tree_id") == IPC);
	/* create */
	e = find_ev(evs, "smb.filename", "dir\\file.txt");
	CHECK(e && jstreq(e, "smb.command", "SMB2_COMMAND_CREATE") &&
	      jstreq(e, "smb.disposition", "FILE_OVERWRITE_IF") &&
	      jstreq(e, "smb.access", "normal") &&
	      jstreq(e, "smb.fuid", "0000004d-0000-0000-0009-0000ffffffff") &&
	      jint(e, "smb.size") == 1000 && jint(e, "smb.created") == 1555526400);
	e = find_ev(evs, "smb.filename", "dir\\x.tmp");
	CHECK(e && jstreq(e, "smb.access", "delete on close") &&
	      jstreq(e, "smb.disposition", "FILE_CREATE"));
	e = find_ev(evs, "smb.filename", "nosuch.txt");
	CHECK(e && jstreq(e, "smb.status", "STATUS_OBJECT_NAME_NOT_FOUND") &&
	      jstreq(e, "smb.status_code", "0xc0000034"));
	/* file transactions: one per direction */
	CHECK(count_ev(evs, "smb.command", "SMB2_COMMAND_WRITE") == 3); /* file + 2 DCE/RPC */
	CHECK(count_ev(evs, "smb.command", "SMB2_COMMAND_READ") == 1);
	e = find_ev(evs, "smb.command", "SMB2_COMMAND_READ");
	CHECK(e && jstreq(e, "smb.filename", "dir\\file.txt") &&
	      jstreq(e, "smb.share", "\\\\srv\\share") &&
	      jstreq(e, "smb.status", "STATUS_SUCCESS"));
	/* rename */
	e = find_ev(evs, "smb.rename.to", "dir\\renamed.txt");
	CHECK(e && jstreq(e, "smb.rename.from", "dir\\file.txt") &&
	      jstreq(e, "smb.set_info.info_level", "SMB2_FILE_RENAME_INFO") &&
	      jstreq(e, "smb.status", "STATUS_SUCCESS"));
	/* async: logged once, with the final status */
	CHECK(count_ev(evs, "smb.command", "SMB2_COMMAND_CHANGE_NOTIFY") == 1);
	e = find_ev(evs, "smb.command", "SMB2_COMMAND_CHANGE_NOTIFY");
	CHECK(e && jstreq(e, "smb.status", "STATUS_NOTIFY_ENUM_DIR"));
	e = find_ev(evs, "smb.function", "FSCTL_VALIDATE_NEGOTIATE_INFO");
	CHECK(e && jstreq(e, "smb.status", "STATUS_SUCCESS"));
	/* compound: both parts */
	CHECK(count_ev(evs, "smb.command", "SMB2_COMMAND_CLOSE") == 2);
	/* DCE/RPC */
	e = find_ev(evs, "smb.dcerpc.request", "BIND");
	CHECK(e && jstreq(e, "smb.dcerpc.response", "BINDACK") &&
	      jstreq(e, "smb.dcerpc.interfaces[0].uuid", "4b324fc8-1670-01d3-1278-5a47bf6ee188") &&
	      jstreq(e, "smb.dcerpc.interfaces[0].version", "3.0") &&
	      jint(e, "smb.dcerpc.interfaces[0].ack_result") == 0 &&
	      jint(e, "smb.dcerpc.interfaces[1].ack_result") == 2 &&
	      jint(e, "smb.dcerpc.interfaces[1].ack_reason") == 0 &&
	      jint(e, "smb.dcerpc.call_id") == 1);
	e = find_ev(evs, "smb.command", "SMB2_COMMAND_IOCTL");
	CHECK(e && jstreq(e, "smb.dcerpc.request", "REQUEST") &&
	      jstreq(e, "smb.dcerpc.response", "RESPONSE") && jint(e, "smb.dcerpc.opnum") == 15 &&
	      jint(e, "smb.dcerpc.req.stub_data_size") == 40 &&
	      jint(e, "smb.dcerpc.res.stub_data_size") == 100 &&
	      jstreq(e, "smb.dcerpc.interfaces[0].uuid", "4b324fc8-1670-01d3-1278-5a47bf6ee188"));
	{
		size_t i;
		json_t *x;
		bool found = false;

		json_array_foreach(evs, i, x)
		{
			if (jint(x, "smb.dcerpc.opnum") == 16) {
				found = true;
				CHECK(jint(x, "smb.dcerpc.req.frag_cnt") == 2 &&
				      jint(x, "smb.dcerpc.req.stub_data_size") == 50 &&
				      jint(x, "smb.dcerpc.res.frag_cnt") == 1 &&
				      jstreq(x, "smb.command", "SMB2_COMMAND_WRITE"));
			}
		}
		CHECK(found);
	}
	CHECK(count_ev(evs, "smb.command", "SMB2_COMMAND_SESSION_LOGOFF") == 1);
	/* every transaction was logged exactly once, ids without holes */
	{
		size_t n = json_array_size(evs);
		bool *seen = calloc(n + 1, 1);
		size_t i;
		json_t *x;

		json_array_foreach(evs, i, x)
		{
			long long id = jint(x, "smb.id");

			CHECK(id >= 1 && (size_t)id <= n && !seen[id]);
			if (id >= 1 && (size_t)id <= n)
				seen[id] = true;
		}
		free(seen);
	}
	CHECK(h->t->nevents == 0);
	{
		const struct nj_smb_flow_stats *fs = nj_smb_state_stats(h->st);

		CHECK(fs->resyncs == 0 && fs->encrypted == 0 &&
		      fs->file_bytes == 2 * sizeof(file_data));
	}
	json_decref(evs);
	hx_free(h);
	free(out);
	check_splits(s, "session", true);
	sc_free(s);
}

/* Files: written out of order and read back: same bytes, same hash, CLOSED. */
static void test_session_files(void)
{
	struct script *s = session_script();
	struct fenv e;
	char want[65], *out;
	size_t i;
	json_t *x;
	unsigned nfile = 0;

	if (!fenv_open(&e))
		return;
	out = sc_run(s, FEED_BYTE, 0, e.fs, NULL);
	free(out);
	fenv_close(&e);
	sha256_hex(file_data, sizeof(file_data), want);
	json_array_foreach(e.ev, i, x)
	{
		if (!jstr(x, "event_type") || strcmp(jstr(x, "event_type"), "fileinfo"))
			continue;
		nfile++;
		CHECK(jstreq(x, "app_proto", "smb") &&
		      jstreq(x, "fileinfo.filename", "dir\\file.txt") &&
		      jstreq(x, "fileinfo.state", "CLOSED") && jstreq(x, "fileinfo.sha256", want) &&
		      jint(x, "fileinfo.size") == (long long)sizeof(file_data) &&
		      jstreq(x, "smb.fuid", "0000004d-0000-0000-0009-0000ffffffff") &&
		      jstreq(x, "smb.filename", "dir\\file.txt") &&
		      jint(x, "smb.session_id") == (long long)SSN);
	}
	CHECK(nfile == 2);
	fenv_free(&e);
	sc_free(s);
}

/* ================================================================ captures */

/* One TCP connection of a capture: its payload as a script (capture order). */
struct pflow {
	uint8_t a[2][16]; /* [0] client, [1] server */
	uint16_t port[2];
	bool v6;
	bool seen_syn;
	uint32_t next[2];
	bool have_next[2];
	struct {
		uint32_t seq, n;
		uint8_t *d;
	} ooo[2][64];
	unsigned nooo[2];
	struct script *sc;
};

struct pcap_run {
	struct pflow flows[64];
	unsigned nflows;
};

struct pkt_view {
	const uint8_t *src, *dst;
	bool v6;
	uint16_t sport, dport;
	uint32_t seq;
	uint8_t flags;
	const uint8_t *pl;
	uint32_t plen;
};

static bool pkt_parse(int dlt, const uint8_t *d, uint32_t n, struct pkt_view *v)
{
	uint32_t off = 0, ipl, thl;
	uint16_t et = 0;
	const uint8_t *ip, *tcp;
	uint8_t proto;

	switch (dlt) {
	case DLT_EN10MB:
		if (n < 14)
			return false;
		et = (uint16_t)(d[12] << 8 | d[13]);
		off = 14;
		while ((et == 0x8100 || et == 0x88a8) && n >= off + 4) {
			et = (uint16_t)(d[off + 2] << 8 | d[off + 3]);
			off += 4;
		}
		break;
	case DLT_LINUX_SLL:
		if (n < 16)
			return false;
		et = (uint16_t)(d[14] << 8 | d[15]);
		off = 16;
		break;
	case DLT_NULL:
		if (n < 4)
			return false;
		et = (d[0] == 2 || d[3] == 2) ? 0x0800 : 0x86dd;
		off = 4;
		break;
	case DLT_RAW: et = n && (d[0] >> 4) == 6 ? 0x86dd : 0x0800; break;
	default: return false;
	}
	ip = d + off;
	if (et == 0x0800) {
		if (n < off + 20 || (ip[0] >> 4) != 4)
			return false;
		ipl = (ip[0] & 15u) * 4;
		proto = ip[9];
		v->src = ip + 12;
		v->dst = ip + 16;
		v->v6 = false;
		n = off + ((uint32_t)ip[2] << 8 | ip[3]) < n ? off + ((uint32_t)ip[2] << 8 | ip[3])
							     : n;
	} else if (et == 0x86dd) {
		if (n < off + 40)
			return false;
		ipl = 40;
		proto = ip[6];
		v->src = ip + 8;
		v->dst = ip + 24;
		v->v6 = true;
	} else {
		return false;
	}
	if (proto != 6 || n < off + ipl + 20)
		return false;
	tcp = ip + ipl;
	thl = (tcp[12] >> 4) * 4u;
	if (n < off + ipl + thl)
		return false;
	v->sport = (uint16_t)(tcp[0] << 8 | tcp[1]);
	v->dport = (uint16_t)(tcp[2] << 8 | tcp[3]);
	v->seq = (uint32_t)tcp[4] << 24 | (uint32_t)tcp[5] << 16 | (uint32_t)tcp[6] << 8 | tcp[7];
	v->flags = tcp[13];
	v->pl = tcp + thl;
	v->plen = n - (off + ipl + thl);
	return true;
}

static bool smb_port(uint16_t p)
{
	return p == 445 || p == 139;
}

static struct pflow *flow_get(struct pcap_run *r, const struct pkt_view *v, int *dir)
{
	unsigned al = v->v6 ? 16 : 4;
	struct pflow *f;

	for (unsigned i = 0; i < r->nflows; i++) {
		f = &r->flows[i];
		if (f->v6 != v->v6)
			continue;
		if (!memcmp(f->a[0], v->src, al) && !memcmp(f->a[1], v->dst, al) &&
		    f->port[0] == v->sport && f->port[1] == v->dport) {
			*dir = 0;
			return f;
		}
		if (!memcmp(f->a[1], v->src, al) && !memcmp(f->a[0], v->dst, al) &&
		    f->port[1] == v->sport && f->port[0] == v->dport) {
			*dir = 1;
			return f;
		}
	}
	if (r->nflows == NJ_ARRAY_SIZE(r->flows))
		return NULL;
	f = &r->flows[r->nflows++];
	memset(f, 0, sizeof(*f));
	f->v6 = v->v6;
	f->sc = sc_new();
	/* the client: who sent the SYN, else who talks to 445/139 */
	if (((v->flags & 0x12) == 0x02) || smb_port(v->dport) || !smb_port(v->sport)) {
		memcpy(f->a[0], v->src, al);
		memcpy(f->a[1], v->dst, al);
		f->port[0] = v->sport;
		f->port[1] = v->dport;
		*dir = 0;
	} else {
		memcpy(f->a[0], v->dst, al);
		memcpy(f->a[1], v->src, al);
		f->port[0] = v->dport;
		f->port[1] = v->sport;
		*dir = 1;
	}
	return f;
}

/* In-order data of a direction; out-of-order segments wait (bounded), holes become gaps. */
static void flow_data(struct pflow *f, int dir, uint32_t seq, const uint8_t *p, uint32_t n)
{
	if (!f->have_next[dir]) {
		f->next[dir] = seq;
		f->have_next[dir] = true;
	}
	if ((int32_t)(seq - f->next[dir]) > 0) {
		if (f->nooo[dir] < NJ_ARRAY_SIZE(f->ooo[0])) {
			unsigned k = f->nooo[dir]++;

			f->ooo[dir][k].seq = seq;
			f->ooo[dir][k].n = n;
			f->ooo[dir][k].d = malloc(n);
			memcpy(f->ooo[dir][k].d, p, n);
			return;
		}
		sc_addp(f->sc, dir, p, n, seq - f->next[dir]);
		f->next[dir] = seq + n;
		return;
	}
	if ((int32_t)(seq + n - f->next[dir]) <= 0)
		return; /* a retransmission */
	p += f->next[dir] - seq;
	n -= f->next[dir] - seq;
	sc_addp(f->sc, dir, p, n, 0);
	f->next[dir] += n;
	/* waiting segments that now fit */
	for (bool moved = true; moved;) {
		moved = false;
		for (unsigned k = 0; k < f->nooo[dir]; k++) {
			uint32_t s = f->ooo[dir][k].seq, m = f->ooo[dir][k].n;
			uint8_t *d = f->ooo[dir][k].d;

			if ((int32_t)(s - f->next[dir]) > 0)
				continue;
			f->ooo[dir][k] = f->ooo[dir][--f->nooo[dir]];
			if ((int32_t)(s + m - f->next[dir]) > 0) {
				sc_addp(f->sc, dir, d + (f->next[dir] - s), s + m - f->next[dir],
					0);
				f->next[dir] = s + m;
			}
			free(d);
			moved = true;
			break;
		}
	}
}

/* What is still waiting at the end: after a hole. */
static void flow_finish(struct pflow *f)
{
	for (int dir = 0; dir < 2; dir++) {
		while (f->nooo[dir]) {
			unsigned best = 0;
			uint32_t s, m;
			uint8_t *d;

			for (unsigned k = 1; k < f->nooo[dir]; k++)
				if ((int32_t)(f->ooo[dir][k].seq - f->ooo[dir][best].seq) < 0)
					best = k;
			s = f->ooo[dir][best].seq;
			m = f->ooo[dir][best].n;
			d = f->ooo[dir][best].d;
			f->ooo[dir][best] = f->ooo[dir][--f->nooo[dir]];
			if ((int32_t)(s - f->next[dir]) > 0) {
				sc_addp(f->sc, dir, d, m, s - f->next[dir]);
				f->next[dir] = s + m;
			} else if ((int32_t)(s + m - f->next[dir]) > 0) {
				sc_addp(f->sc, dir, d + (f->next[dir] - s), s + m - f->next[dir],
					0);
				f->next[dir] = s + m;
			}
			free(d);
		}
	}
}

static bool pcap_load(const char *path, struct pcap_run *r)
{
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *pc = pcap_open_offline(path, err);
	struct pcap_pkthdr *ph;
	const u_char *d;
	int dlt;

	memset(r, 0, sizeof(*r));
	if (!pc)
		return false;
	dlt = pcap_datalink(pc);
	while (pcap_next_ex(pc, &ph, &d) == 1) {
		struct pkt_view v;
		struct pflow *f;
		int dir;

		if (!pkt_parse(dlt, d, ph->caplen, &v))
			continue;
		f = flow_get(r, &v, &dir);
		if (!f)
			continue;
		if (v.flags & 0x02) {
			f->next[dir] = v.seq + 1;
			f->have_next[dir] = true;
			f->seen_syn = true;
			continue;
		}
		if (v.plen)
			flow_data(f, dir, v.seq, v.pl, v.plen);
	}
	pcap_close(pc);
	for (unsigned i = 0; i < r->nflows; i++)
		flow_finish(&r->flows[i]);
	return true;
}

static void pcap_free(struct pcap_run *r)
{
	for (unsigned i = 0; i < r->nflows; i++)
		sc_free(r->flows[i].sc);
}

/* Is this connection SMB? The parser's probe on the first bytes of each direction, as buffered by the framework. */
static bool flow_is_smb(const struct pflow *f)
{
	uint8_t buf[2][4096];
	uint32_t n[2] = {0, 0};

	for (unsigned i = 0; i < f->sc->n; i++) {
		const struct sc_msg *m = &f->sc->msg[i];
		int d = m->dir, r;
		uint32_t k = sizeof(buf[0]) - n[d];

		if (m->gap)
			return false;
		if (k > m->len)
			k = (uint32_t)m->len;
		memcpy(buf[d] + n[d], f->sc->data.b + m->off, k);
		n[d] += k;
		if (n[d] < 8)
			continue;
		r = nj_smb_parser.probe(buf[d], n[d], d);
		if (r == NJ_PROBE_YES || r == NJ_PROBE_YES_REVERSED)
			return true;
		if (r == NJ_PROBE_NO || n[d] == sizeof(buf[0]))
			return false;
	}
	return false;
}

static void flow_nj(const struct pflow *pf, struct nj_flow *f, unsigned idx)
{
	memset(f, 0, sizeof(*f));
	f->proto = 6;
	f->ipv6 = pf->v6;
	memcpy(f->addr[0], pf->a[0], pf->v6 ? 16 : 4);
	memcpy(f->addr[1], pf->a[1], pf->v6 ? 16 : 4);
	f->port[0] = pf->port[0];
	f->port[1] = pf->port[1];
	f->client = 0;
	f->flow_id = 1000 + idx;
	f->last_us = TS;
}

/*
 * Runs every SMB connection of a capture; returns the events (smb with the
 * flow's ports added, fileinfo, anomaly) as a JSON array.
 */
static json_t *pcap_events(const char *path, bool files, const struct nj_conf *conf,
			   unsigned *nsmb_flows)
{
	struct pcap_run *r = calloc(1, sizeof(*r));
	json_t *all = json_array();
	struct fenv e;
	bool fe = false;

	*nsmb_flows = 0;
	if (!pcap_load(path, r)) {
		free(r);
		return all;
	}
	if (files)
		fe = fenv_open_conf(&e, conf);
	for (unsigned i = 0; i < r->nflows; i++) {
		struct pflow *pf = &r->flows[i];
		struct nj_flow f;
		struct hx *h;
		char *out;
		json_t *evs, *x;
		size_t k;

		if (!flow_is_smb(pf))
			continue;
		(*nsmb_flows)++;
		flow_nj(pf, &f, i);
		out = sc_run_flow(pf->sc, FEED_MSG, 0, fe ? e.fs : NULL, &f, &h);
		evs = lines(hx_out(h));
		json_array_foreach(evs, k, x)
		{
			json_object_set_new(x, "src_port", json_integer(pf->port[0]));
			json_object_set_new(x, "dest_port", json_integer(pf->port[1]));
			json_array_append(all, x);
		}
		for (unsigned j = 0; j < h->t->nevents && j < NJ_AL_TEST_MAX_EVENTS; j++)
			json_array_append_new(all, json_pack("{s:s, s:{s:s, s:s, s:s}}",
							     "event_type", "anomaly", "anomaly",
							     "app_proto", "smb", "type", "applayer",
							     "event", h->t->events[j]));
		json_decref(evs);
		hx_free(h);
		free(out);
	}
	if (fe) {
		size_t k;
		json_t *x;

		fenv_close(&e);
		json_array_foreach(e.ev, k, x)
		{
			if (jstr(x, "event_type") && !strcmp(jstr(x, "event_type"), "fileinfo"))
				json_array_append(all, x);
		}
		fenv_free(&e);
	}
	pcap_free(r);
	free(r);
	return all;
}

/* ================================================================ suricata-verify */

/* Version we judge the tests' requirements against: SMB behaviour follows Suricata 8/9. */
static int vcmp(const char *v, int maj, int min)
{
	int a = 0, b = 0;

	sscanf(v, "%d.%d", &a, &b);
	if (a != maj)
		return a < maj ? -1 : 1;
	return b < min ? -1 : b > min;
}

static bool requires_ok(const struct nj_conf_node *req)
{
	const struct nj_conf_node *n;

	if (!req)
		return true;
	if ((n = nj_conf_node_get(req, "min-version")) && n->value && vcmp(n->value, 9, 0) > 0)
		return false;
	if ((n = nj_conf_node_get(req, "lt-version")) && n->value && vcmp(n->value, 9, 0) <= 0)
		return false;
	return true;
}

static bool key_judged(const char *k)
{
	static const char *const prefixes[] = {"smb.", "fileinfo.", "anomaly."};

	if (!strcmp(k, "event_type") || !strcmp(k, "app_proto") || !strcmp(k, "dest_port") ||
	    !strcmp(k, "src_port"))
		return true;
	for (unsigned i = 0; i < NJ_ARRAY_SIZE(prefixes); i++)
		if (!strncmp(k, prefixes[i], strlen(prefixes[i])))
			return true;
	return false;
}

static bool value_eq(json_t *v, const char *want)
{
	char buf[64];

	if (!v)
		return false;
	if (json_is_string(v))
		return !strcmp(json_string_value(v), want);
	if (json_is_integer(v)) {
		snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
		return !strcmp(buf, want);
	}
	if (json_is_true(v))
		return !strcmp(want, "true");
	if (json_is_false(v))
		return !strcmp(want, "false");
	return false;
}

struct sv_stats {
	unsigned tests, judged, passed, failed, skipped;
};

/*
 * Checks that fail for reasons outside this parser, each with why. A check
 * is named "test:line".
 */
static const char *const sv_known[] = {
	NULL,
};

static bool sv_is_known(const char *test, int line)
{
	char key[256];

	snprintf(key, sizeof(key), "%s:%d", test, line);
	for (unsigned i = 0; sv_known[i]; i++)
		if (!strcmp(sv_known[i], key))
			return true;
	return false;
}

static void sv_one(const char *name, struct sv_stats *st, unsigned *unexpected)
{
	char dir[1024], path[1400], err[256];
	const char *overrides[16];
	char ovbuf[16][256];
	unsigned nov = 0, nflows = 0;
	struct nj_conf *ty, *cfg;
	const struct nj_conf_node *n, *checks;
	const char *pcapname = NULL;
	struct stat sb;
	json_t *evs;

	snprintf(dir, sizeof(dir), "%s/tests/%s", SV_DIR, name);
	snprintf(path, sizeof(path), "%s/test.yaml", dir);
	ty = nj_conf_load(path, NULL, 0, err, sizeof(err));
	if (!ty)
		return;
	if (!requires_ok(nj_conf_get(ty, "requires"))) {
		nj_conf_free(ty);
		return;
	}
	/* Suricata options of the test that concern SMB */
	n = nj_conf_get(ty, "args");
	for (const struct nj_conf_node *a = n ? n->child : NULL; a; a = a->next) {
		char buf[512], *save = NULL, *tok;
		bool set = false;

		if (!a->value)
			continue;
		snprintf(buf, sizeof(buf), "%s", a->value);
		for (tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
			if (set && nov < 16 && !strncmp(tok, "app-layer.protocols.smb.", 24)) {
				snprintf(ovbuf[nov], sizeof(ovbuf[nov]), "%s", tok);
				overrides[nov] = ovbuf[nov];
				nov++;
			}
			set = !strcmp(tok, "--set");
		}
	}
	snprintf(path, sizeof(path), "%s/suricata.yaml", dir);
	cfg = nj_conf_load(stat(path, &sb) == 0 ? path : NULL, overrides, nov, err, sizeof(err));
	CHECK(cfg != NULL);
	CHECK(nj_smb_parser.configure(cfg) == 0);
	if (nj_conf_str(ty, NULL, "pcap", &pcapname) == 0) {
		snprintf(path, sizeof(path), "%s/%s", dir, pcapname);
	} else {
		DIR *dd = opendir(dir);
		struct dirent *de;

		path[0] = 0;
		while (dd && (de = readdir(dd)))
			if (strstr(de->d_name, ".pcap"))
				snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (dd)
			closedir(dd);
	}
	if (!path[0] || stat(path, &sb) != 0) {
		nj_conf_free(cfg);
		nj_conf_free(ty);
		CHECK(nj_smb_parser.configure(NULL) == 0);
		return;
	}
	evs = pcap_events(path, true, cfg, &nflows);
	st->tests++;
	checks = nj_conf_get(ty, "checks");
	for (const struct nj_conf_node *ck = checks ? checks->child : NULL; ck; ck = ck->next) {
		const struct nj_conf_node *flt = nj_conf_node_get(ck, "filter"), *match;
		int64_t want = -1;
		unsigned got = 0;
		bool judge = true;
		size_t i;
		json_t *ev;

		if (!flt) {
			st->skipped++;
			continue;
		}
		match = nj_conf_node_get(flt, "match");
		if (!match || nj_conf_int(ty, flt, "count", 0, 1 << 30, &want) != 0 ||
		    !requires_ok(nj_conf_node_get(flt, "requires")) ||
		    nj_conf_node_get(flt, "filename")) {
			st->skipped++;
			continue;
		}
		for (const struct nj_conf_node *m = match->child; m; m = m->next) {
			if (!m->key || m->kind != NJ_CONF_SCALAR || !key_judged(m->key))
				judge = false;
			else if (!strcmp(m->key, "event_type") && m->value &&
				 strcmp(m->value, "smb") && strcmp(m->value, "fileinfo") &&
				 strcmp(m->value, "anomaly"))
				judge = false;
		}
		if (!judge) {
			st->skipped++;
			continue;
		}
		st->judged++;
		json_array_foreach(evs, i, ev)
		{
			bool all = true;

			for (const struct nj_conf_node *m = match->child; m && all; m = m->next)
				all = value_eq(jpath(ev, m->key), m->value ? m->value : "");
			got += all;
		}
		if ((int64_t)got == want) {
			st->passed++;
		} else {
			st->failed++;
			if (!sv_is_known(name, flt->line))
				(*unexpected)++;
			fprintf(stderr, "sv %s:%d: matched %u, want %lld%s\n", name, flt->line, got,
				(long long)want, sv_is_known(name, flt->line) ? " (known)" : "");
		}
	}
	if (getenv("SMB_SV_DUMP") && strstr(name, getenv("SMB_SV_DUMP"))) {
		char *d = json_dumps(evs, JSON_INDENT(1));

		fprintf(stderr, "%s\n", d);
		free(d);
	}
	json_decref(evs);
	nj_conf_free(cfg);
	nj_conf_free(ty);
	CHECK(nj_smb_parser.configure(NULL) == 0);
}

static void test_suricata_verify(void)
{
	struct sv_stats st = {0};
	unsigned unexpected = 0;
	DIR *d;
	struct dirent *de;
	char *names[256];
	unsigned n = 0;
	struct stat sb;

	if (stat(SV_DIR "/tests", &sb) != 0) {
		fprintf(stderr, "suricata-verify corpus absent: captures skipped\n");
		return;
	}
	d = opendir(SV_DIR "/tests");
	while (d && (de = readdir(d)) && n < NJ_ARRAY_SIZE(names))
		if (!strncmp(de->d_name, "smb", 3) || !strncmp(de->d_name, "dcerpc", 6) ||
		    !strcmp(de->d_name, "bug-8629-async-oneside") ||
		    !strncmp(de->d_name, "filestore-filecontainer-smb", 27))
			names[n++] = strdup(de->d_name);
	if (d)
		closedir(d);
	for (unsigned i = 0; i < n; i++) {
		if (getenv("SMB_SV_ONLY") && !strstr(names[i], getenv("SMB_SV_ONLY"))) {
			free(names[i]);
			continue;
		}
		sv_one(names[i], &st, &unexpected);
		free(names[i]);
	}
	fprintf(stderr,
		"suricata-verify smb: %u tests, %u checks judged: %u passed, %u failed (%u "
		"unexpected), %u not about smb/fileinfo events\n",
		st.tests, st.judged, st.passed, st.failed, unexpected, st.skipped);
	CHECK(unexpected == 0);
}

/* What some captures must give beyond their test.yaml: carved files and fields. */
static void test_capture_content(void)
{
	static const char eicar[] =
		"275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f";
	static const char *const eicar_caps[] = {
		"smb-eicar-file/input.pcap",
		"smb-eicar-andx/smbandx.pcap",
		"smb-eicar-padding/smb1_eicar_andx_write_padding2.pcap",
		"smb-eicar-file-nbss-more-ffsmb/input.pcap",
		"smb-eicar-file-segmentation-postheader/input.pcap",
		"smb-eicar-overlap/input.pcap",
	};
	struct stat sb;
	char path[1024];
	unsigned nflows;
	json_t *evs, *e;

	if (stat(SV_DIR "/tests", &sb) != 0)
		return;
	/* EICAR written over SMB1 with AndX chains, padding, two NBSS records per segment, ... */
	for (unsigned i = 0; i < NJ_ARRAY_SIZE(eicar_caps); i++) {
		snprintf(path, sizeof(path), "%s/tests/%s", SV_DIR, eicar_caps[i]);
		if (stat(path, &sb) != 0)
			continue;
		evs = pcap_events(path, true, NULL, &nflows);
		e = find_ev(evs, "fileinfo.sha256", eicar);
		if (!e)
			fprintf(stderr, "%s: no EICAR file\n", eicar_caps[i]);
		CHECK(e && jstreq(e, "fileinfo.state", "CLOSED") &&
		      jint(e, "fileinfo.size") == 68 && jstreq(e, "app_proto", "smb") &&
		      jstreq(e, "smb.command", "SMB1_COMMAND_WRITE_ANDX"));
		/* the proxy's overlapping write is flagged */
		CHECK((find_ev(evs, "anomaly.event", "file_overlap") != NULL) == (i == 5));
		json_decref(evs);
	}
	snprintf(path, sizeof(path), "%s/tests/smb-eicar-file/input.pcap", SV_DIR);
	if (stat(path, &sb) == 0) {
		evs = pcap_events(path, false, NULL, &nflows);
		e = find_ev(evs, "smb.share", "\\\\192.168.1.3\\PUBLIC");
		CHECK(e && jstreq(e, "smb.command", "SMB1_COMMAND_TREE_CONNECT_ANDX") &&
		      jstreq(e, "smb.service.request", "?????") &&
		      jstreq(e, "smb.service.response", "A:"));
		e = find_ev(evs, "smb.filename", "\\eicar");
		CHECK(e && jstreq(e, "smb.command", "SMB1_COMMAND_NT_CREATE_ANDX") &&
		      jstreq(e, "smb.disposition", "FILE_OVERWRITE_IF"));
		json_decref(evs);
	}
	/* Kerberos in SPNEGO */
	snprintf(path, sizeof(path), "%s/tests/bug-8629-async-oneside/input.pcap", SV_DIR);
	if (stat(path, &sb) == 0) {
		evs = pcap_events(path, false, NULL, &nflows);
		e = find_ev(evs, "smb.kerberos.realm", "CONTOSO.LOCAL");
		CHECK(e && jstreq(e, "smb.kerberos.snames[0]", "cifs") &&
		      jstreq(e, "smb.kerberos.snames[1]", "dc1.contoso.local"));
		/* one-sided: requests are logged at the end, no too_many_transactions */
		CHECK(!find_ev(evs, "anomaly.event", "too_many_transactions"));
		json_decref(evs);
	}
	/* SMB1 to port 139 after a NetBIOS session request */
	snprintf(path, sizeof(path), "%s/tests/smb2-ntlmssp-negotiateflags/input.pcap", SV_DIR);
	if (stat(path, &sb) == 0) {
		evs = pcap_events(path, false, NULL, &nflows);
		CHECK(nflows == 8);
		CHECK(count_ev(evs, "dest_port", "139") == 0); /* an integer, not a string */
		{
			size_t i;
			json_t *x;
			unsigned n139 = 0;

			json_array_foreach(evs, i, x) n139 += jint(x, "dest_port") == 139;
			CHECK(n139 > 0);
		}
		json_decref(evs);
	}
}

/* Each capture fed whole, byte by byte and split at every byte gives the same events. */
static void test_capture_splits(void)
{
	static const char *const caps[] = {
		"smb2-04/20171220_smb_at_schedule.pcap",
		"smb1-03-midstream/smb1_osx-s1-midstream-modified.pcap",
		"smb2-async/input.pcap",
		"smb-eicar-andx/smbandx.pcap",
		"smb1-02/smb1_osx.pcap",
		"smb-dce_iface/input.pcap",
		"smb3-01/input.pcap",
		"smb1-01/smb1.pcap",
		"smb-eicar-overlap/input.pcap",
		"smb2-delete/input.pcap",
	};
	struct stat sb;

	for (unsigned c = 0; c < NJ_ARRAY_SIZE(caps); c++) {
		char path[1024];
		struct pcap_run *r = calloc(1, sizeof(*r));

		snprintf(path, sizeof(path), "%s/tests/%s", SV_DIR, caps[c]);
		if (stat(path, &sb) != 0 || !pcap_load(path, r)) {
			fprintf(stderr, "%s absent: skipped\n", caps[c]);
			free(r);
			continue;
		}
		for (unsigned i = 0; i < r->nflows; i++)
			if (flow_is_smb(&r->flows[i]))
				check_splits(r->flows[i].sc, caps[c], c < 6);
		pcap_free(r);
		free(r);
	}
}

/* ================================================================ gaps, resync, malformed */

/* A script of a share, a file, then n WRITEs of size each (the last message index is returned). */
static struct script *write_script(unsigned n, uint32_t size, const uint8_t *data)
{
	struct script *s = sc_new();
	struct mb b = {0};

	b_negotiate_req(&b, 0);
	sc_add(s, 0, &b);
	b_negotiate_resp(&b, 0, 0x0302);
	sc_add(s, 1, &b);
	b_tree_req(&b, 1, SSN, "\\\\srv\\share");
	sc_add(s, 0, &b);
	b_tree_resp(&b, 1, SSN, TREE, 1);
	sc_add(s, 1, &b);
	b_create_req(&b, 2, SSN, TREE, "big.bin", 5, 0);
	sc_add(s, 0, &b);
	b_create_resp(&b, 2, SSN, TREE, FILE_ID, 0);
	sc_add(s, 1, &b);
	for (unsigned i = 0; i < n; i++) {
		b_write_req(&b, 3 + i, SSN, TREE, FILE_ID, (uint64_t)i * size,
			    data + (size_t)i * size, size);
		sc_add(s, 0, &b);
		b_write_resp(&b, 3 + i, SSN, TREE, size);
		sc_add(s, 1, &b);
	}
	b_close_req(&b, 3 + n, SSN, TREE, FILE_ID);
	sc_add(s, 0, &b);
	b_simple_resp(&b, 6, 0, 3 + n, SSN, TREE, 0);
	sc_add(s, 1, &b);
	b_create_req(&b, 4 + n, SSN, TREE, "after.txt", 1, 0);
	sc_add(s, 0, &b);
	b_create_resp(&b, 4 + n, SSN, TREE, PIPE_ID, 0);
	sc_add(s, 1, &b);
	free(b.b);
	return s;
}

static void test_gaps(void)
{
	enum { N = 8, SZ = 65536 };
	uint8_t *data = malloc((size_t)N * SZ);
	struct script *s;
	struct fenv e;
	char *out;
	json_t *evs, *x;
	size_t i;
	struct hx *h;

	for (size_t k = 0; k < (size_t)N * SZ; k++)
		data[k] = (uint8_t)(k * 7 + (k >> 9));
	s = write_script(N, SZ, data);
	/* 1: bytes lost inside the data of the 3rd WRITE: the file has a gap, parsing goes on */
	{
		struct sc_msg *m = &s->msg[6 + 2 * 2];
		struct script *g = sc_new();

		for (unsigned k = 0; k < s->n; k++) {
			const struct sc_msg *o = &s->msg[k];

			if (o == m) {
				sc_addp(g, o->dir, s->data.b + o->off, 1000, 0);
				sc_addp(g, o->dir, s->data.b + o->off + 5000, o->len - 5000, 4000);
			} else {
				sc_addp(g, o->dir, s->data.b + o->off, o->len, o->gap);
			}
		}
		if (fenv_open(&e)) {
			out = sc_run(g, FEED_MSG, 0, e.fs, &h);
			evs = lines(hx_out(h));
			CHECK(find_ev(evs, "smb.filename", "after.txt") != NULL);
			CHECK(nj_smb_state_stats(h->st)->resyncs == 0);
			json_decref(evs);
			hx_free(h);
			free(out);
			fenv_close(&e);
			json_array_foreach(e.ev, i, x)
			{
				if (strcmp(jstr(x, "event_type"), "fileinfo"))
					continue;
				CHECK(jstreq(x, "fileinfo.filename", "big.bin") &&
				      jstreq(x, "fileinfo.state", "TRUNCATED") &&
				      json_is_true(jpath(x, "fileinfo.gaps")) &&
				      jint(x, "fileinfo.size") == (long long)N * SZ);
			}
			fenv_free(&e);
		}
		check_splits(g, "gap in file data", false);
		sc_free(g);
	}
	/* 2: a gap that eats record headers: resync at the next record */
	{
		struct script *g = sc_new();

		for (unsigned k = 0; k < s->n; k++) {
			const struct sc_msg *o = &s->msg[k];

			/* the CREATE request and most of the first WRITE are lost */
			if (k == 4)
				continue;
			if (k == 6) {
				sc_addp(g, o->dir, s->data.b + o->off + o->len - 100, 100,
					(uint32_t)(s->msg[4].len + o->len - 100));
				continue;
			}
			sc_addp(g, o->dir, s->data.b + o->off, o->len, 0);
		}
		out = sc_run(g, FEED_MSG, 0, NULL, &h);
		evs = lines(hx_out(h));
		CHECK(find_ev(evs, "smb.filename", "after.txt") != NULL);
		CHECK(nj_smb_state_stats(h->st)->resyncs >= 1);
		CHECK(count_ev(evs, "smb.command", "SMB2_COMMAND_WRITE") == 1);
		json_decref(evs);
		hx_free(h);
		free(out);
		check_splits(g, "gap over headers", false);
		sc_free(g);
	}
	/* 3: a capture that starts in the middle of a WRITE */
	{
		struct script *g = sc_new();

		for (unsigned k = 6; k < s->n; k++) {
			const struct sc_msg *o = &s->msg[k];

			if (k == 6)
				sc_addp(g, o->dir, s->data.b + o->off + 777, o->len - 777, 0);
			else
				sc_addp(g, o->dir, s->data.b + o->off, o->len, 0);
		}
		out = sc_run(g, FEED_MSG, 0, NULL, &h);
		evs = lines(hx_out(h));
		CHECK(find_ev(evs, "smb.filename", "after.txt") != NULL);
		CHECK(jstreq(find_ev(evs, "smb.filename", "after.txt"), "smb.dialect", "unknown"));
		json_decref(evs);
		hx_free(h);
		free(out);
		sc_free(g);
	}
	sc_free(s);
	free(data);
}

/* Large files: 1 MiB WRITEs streamed through a 256 KiB framework buffer, some out of order. */
static void test_large_file(void)
{
	enum { N = 12, SZ = 1 << 20 };
	uint8_t *data = malloc((size_t)N * SZ);
	struct script *s, *r;
	struct fenv e;
	char want[65], *out;
	size_t i;
	json_t *x;
	unsigned nfi = 0;
	struct hx *h;

	for (size_t k = 0; k < (size_t)N * SZ; k++)
		data[k] = (uint8_t)((k * 2654435761u) >> 13);
	sha256_hex(data, (size_t)N * SZ, want);
	s = write_script(N, SZ, data);
	/* swap a few WRITE requests: offsets arrive out of order */
	r = sc_new();
	for (unsigned k = 0; k < s->n; k++) {
		unsigned j = k;

		if (k == 8)
			j = 12;
		else if (k == 12)
			j = 8;
		else if (k == 10)
			j = 16;
		else if (k == 16)
			j = 10;
		sc_addp(r, s->msg[j].dir, s->data.b + s->msg[j].off, s->msg[j].len, 0);
	}
	for (int mode = 0; mode < 2; mode++) {
		if (!fenv_open(&e))
			break;
		/* the framework's buffer never holds a WRITE */
		out = sc_run(r, mode ? FEED_RUN : FEED_MSG, 0, e.fs, &h);
		CHECK(!h->dead[0] && !h->dead[1]);
		CHECK(nj_smb_state_stats(h->st)->file_bytes == (uint64_t)N * SZ);
		hx_free(h);
		free(out);
		fenv_close(&e);
		json_array_foreach(e.ev, i, x)
		{
			if (strcmp(jstr(x, "event_type"), "fileinfo"))
				continue;
			nfi++;
			CHECK(jstreq(x, "fileinfo.state", "CLOSED") &&
			      jstreq(x, "fileinfo.sha256", want) &&
			      jint(x, "fileinfo.size") == (long long)N * SZ);
		}
		fenv_free(&e);
	}
	CHECK(nfi == 2);
	/* split in segments of 1460 bytes, as TCP would deliver it */
	if (fenv_open(&e)) {
		struct script *t = sc_new();

		for (unsigned k = 0; k < r->n; k++)
			for (size_t o = 0; o < r->msg[k].len; o += 1460)
				sc_addp(t, r->msg[k].dir, r->data.b + r->msg[k].off + o,
					r->msg[k].len - o < 1460 ? r->msg[k].len - o : 1460, 0);
		out = sc_run(t, FEED_MSG, 0, e.fs, NULL);
		free(out);
		fenv_close(&e);
		nfi = 0;
		json_array_foreach(e.ev, i, x)
		{
			if (!strcmp(jstr(x, "event_type"), "fileinfo")) {
				nfi++;
				CHECK(jstreq(x, "fileinfo.sha256", want));
			}
		}
		CHECK(nfi == 1);
		fenv_free(&e);
		sc_free(t);
	}
	sc_free(r);
	sc_free(s);
	free(data);
}

/* Malformed input: events, no crash, no over-read (run under ASan). */
static void test_malformed(void)
{
	struct mb b = {0};
	struct script *s;
	struct hx *h;
	char *out;
	size_t nb;

	/* an NBSS type that does not exist */
	s = sc_new();
	mb_put(&b, "\x42\x00\x00\x10", 4);
	mb_zero(&b, 16);
	sc_add(s, 0, &b);
	b_create_req(&b, 1, SSN, TREE, "ok.txt", 1, 0);
	sc_add(s, 0, &b);
	out = sc_run(s, FEED_MSG, 0, NULL, &h);
	CHECK(strstr(hx_out(h), "ok.txt") != NULL);
	hx_free(h);
	free(out);
	sc_free(s);
	/* an SMB2 header with a wrong structure size; NextCommand past the record */
	s = sc_new();
	b_negotiate_req(&b, 0);
	b.b[8] = 63;
	sc_add(s, 0, &b);
	nb = nb_begin(&b);
	smb2_hdr(&b, 5, 0, 3, SSN, TREE, 0);
	create_body(&b, "a", 1, 0);
	wr32(&b, nb + 4 + 20, 4096);
	nb_end(&b, nb);
	sc_add(s, 0, &b);
	out = sc_run(s, FEED_MSG, 0, NULL, &h);
	CHECK(hx_has_event(h, "malformed_data"));
	hx_free(h);
	free(out);
	check_splits(s, "malformed headers", true);
	sc_free(s);
	/* a WRITE claiming more data than its record; a response sent to the server */
	s = sc_new();
	b_tree_req(&b, 1, SSN, "\\\\s\\x");
	sc_add(s, 0, &b);
	b_tree_resp(&b, 1, SSN, TREE, 1);
	sc_add(s, 1, &b);
	b_write_req(&b, 2, SSN, TREE, FILE_ID, 0, "abcdefgh", 8);
	wr32(&b, 4 + 64 + 4, 1000000);
	sc_add(s, 0, &b);
	b_simple_resp(&b, 6, 0, 3, SSN, TREE, 0);
	sc_add(s, 0, &b);
	b_create_req(&b, 4, SSN, TREE, "next.txt", 1, 0);
	sc_add(s, 0, &b);
	out = sc_run(s, FEED_MSG, 0, NULL, &h);
	CHECK(hx_has_event(h, "malformed_data") && hx_has_event(h, "response_to_server"));
	CHECK(strstr(hx_out(h), "next.txt") != NULL);
	CHECK(nj_smb_state_stats(h->st)->file_bytes == 8);
	hx_free(h);
	free(out);
	check_splits(s, "write length", true);
	sc_free(s);
	/* a record too large to hold that is not READ/WRITE data: skipped */
	{
		struct nj_smb_config c;

		nj_smb_config_defaults(&c);
		s = sc_new();
		nb = nb_begin(&b);
		smb2_hdr(&b, 16, 0, 1, SSN, TREE, 0);
		mb_u16(&b, 41);
		mb_zero(&b, 300000);
		nb_end(&b, nb);
		sc_add(s, 0, &b);
		b_create_req(&b, 2, SSN, TREE, "later.txt", 1, 0);
		sc_add(s, 0, &b);
		out = sc_run(s, FEED_MSG, 0, NULL, &h);
		CHECK(hx_has_event(h, "record_overflow") && !h->dead[0]);
		CHECK(strstr(hx_out(h), "later.txt") != NULL);
		hx_free(h);
		free(out);
		sc_free(s);
	}
	/* truncated at flow end, mid-record and mid-header */
	{
		struct script *full = session_script();

		for (size_t cut = 1; cut < full->data.n; cut += 97) {
			struct script *t = sc_new();
			size_t left = cut;

			for (unsigned k = 0; k < full->n && left; k++) {
				size_t n = full->msg[k].len < left ? full->msg[k].len : left;

				sc_addp(t, full->msg[k].dir, full->data.b + full->msg[k].off, n, 0);
				left -= n;
			}
			out = sc_run(t, FEED_MSG, 0, NULL, NULL);
			free(out);
			sc_free(t);
		}
		/* deterministic mutations: bytes flipped, lengths changed */
		for (unsigned it = 0; it < 3000; it++) {
			struct script *t = sc_new();
			uint32_t x = it * 2654435761u + 1;

			for (unsigned k = 0; k < full->n; k++)
				sc_addp(t, full->msg[k].dir, full->data.b + full->msg[k].off,
					full->msg[k].len, 0);
			for (int m = 0; m < 1 + (int)(it % 8); m++) {
				x = x * 1103515245u + 12345u;
				t->data.b[(x >> 8) % t->data.n] = (uint8_t)(x >> 3);
			}
			out = sc_run(t, it % 5 == 0 ? FEED_BYTE : FEED_MSG, 0, NULL, NULL);
			free(out);
			sc_free(t);
		}
		sc_free(full);
	}
	free(b.b);
}

/* Every message right before an unreadable page: an over-read faults. */
static void test_guard_page(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	size_t span = 16 * (size_t)pg;
	uint8_t *mem = mmap(NULL, span + (size_t)pg, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct script *s = session_script();
	struct hx *h;

	CHECK(mem != MAP_FAILED);
	if (mem == MAP_FAILED) {
		sc_free(s);
		return;
	}
	CHECK(mprotect(mem + span, (size_t)pg, PROT_NONE) == 0);
	h = hx_new(NULL, NULL);
	for (unsigned k = 0; k < s->n; k++) {
		size_t len = s->msg[k].len;
		uint8_t *p;

		if (len > span)
			continue;
		/* whole, and each prefix ending at the guard (truncated records) */
		p = mem + span - len;
		memcpy(p, s->data.b + s->msg[k].off, len);
		for (size_t cut = 1; cut < len && cut < 200; cut += 13)
			CHECK(h->P->parse(h->st, h->t->ctx, s->msg[k].dir, mem + span - cut,
					  (uint32_t)cut) >= 0 ||
			      1);
		hx_free(h);
		h = hx_new(NULL, NULL);
		for (unsigned j = 0; j <= k; j++) {
			size_t l = s->msg[j].len;

			if (l > span)
				continue;
			p = mem + span - l;
			memcpy(p, s->data.b + s->msg[j].off, l);
			hx_feed(h, s->msg[j].dir, p, (uint32_t)l);
		}
		hx_end(h);
		hx_free(h);
		h = hx_new(NULL, NULL);
	}
	/* the probe too */
	for (unsigned k = 0; k < s->n; k++) {
		size_t len = s->msg[k].len < 512 ? s->msg[k].len : 512;
		uint8_t *p = mem + span - len;

		memcpy(p, s->data.b + s->msg[k].off, len);
		for (size_t n = 1; n <= len; n++)
			h->P->probe(mem + span - n, (uint32_t)n, s->msg[k].dir);
	}
	hx_free(h);
	munmap(mem, span + (size_t)pg);
	sc_free(s);
}

/* ================================================================ detection, probe, config */

static const struct nj_al_buffer *buffer(const char *name, int dir)
{
	for (const struct nj_al_buffer *b = nj_smb_parser.buffers; b && b->name; b++)
		if (!strcmp(b->name, name) && b->dir == dir)
			return b;
	return NULL;
}

static bool buf_is(const struct nj_al_tx *tx, const char *name, int dir, const char *want)
{
	const struct nj_al_buffer *b = buffer(name, dir);
	const uint8_t *d;
	uint32_t n;

	if (!b || !b->get(tx, &d, &n))
		return want == NULL;
	return want && n == strlen(want) && !memcmp(d, want, n);
}

/* Transactions are inspected before the framework frees them (a tx hook). */
static void test_detection(void)
{
	struct script *s = session_script();
	const struct nj_app_parser *P = &nj_smb_parser;
	void *st = P->state_new();
	struct nj_al_test *t = nj_al_test_new(NULL, NJ_EVE_SMB, TS);
	unsigned share = 0, pipe = 0, user = 0, opnum15 = 0, iface = 0, stub = 0, v2 = 0;
	static const uint8_t srvsvc[16] = {0x4b, 0x32, 0x4f, 0xc8, 0x16, 0x70, 0x01, 0xd3,
					   0x12, 0x78, 0x5a, 0x47, 0xbf, 0x6e, 0xe1, 0x88};

	for (unsigned k = 0; k < s->n; k++) {
		struct nj_al_txq *q;

		CHECK(P->parse(st, t->ctx, s->msg[k].dir, s->data.b + s->msg[k].off,
			       (uint32_t)s->msg[k].len) == (int32_t)s->msg[k].len);
		q = P->txq(st);
		while (q->head && q->head->done[0] && q->head->done[1]) {
			struct nj_al_tx *tx = q->head;
			uint16_t op;
			const struct nj_smb_dce_iface *ifs;

			v2 += nj_smb_tx_version(tx) == 2;
			share += buf_is(tx, "smb.share", 1, "\\\\srv\\share");
			pipe += buf_is(tx, "smb.named_pipe", 1, "\\\\srv\\IPC$");
			CHECK(!buf_is(tx, "smb.named_pipe", 1, "\\\\srv\\share"));
			user += buf_is(tx, "smb.ntlmssp_user", 0, "Administrator") &&
				buf_is(tx, "smb.ntlmssp_domain", 0, "CONTOSO");
			if (nj_smb_tx_dce_opnum(tx, &op) && op == 15) {
				opnum15++;
				iface += nj_smb_tx_dce_iface_match(tx, srvsvc);
				CHECK(nj_smb_tx_dce_ifaces(tx, &ifs) == 2 && ifs[1].acked &&
				      ifs[1].ack_result == 2 && ifs[0].ver == 3);
				stub += buf_is(tx, "dce_stub_data", 0,
					       "ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJKLMN");
			}
			q->head = tx->next;
			if (!q->head)
				q->tail = NULL;
			q->count--;
			P->tx_free(st, tx);
		}
	}
	CHECK(share == 1 && pipe == 1 && user == 1 && opnum15 == 1 && iface == 1 && stub == 1);
	CHECK(v2 == 20);
	P->state_free(st);
	nj_al_test_free(t);
	sc_free(s);
}

static void test_probe(void)
{
	const struct nj_app_parser *P = &nj_smb_parser;
	struct mb b = {0};
	uint8_t junk[2000];

	b_negotiate_req(&b, 0);
	CHECK(P->probe(b.b, (uint32_t)b.n, 0) == NJ_PROBE_YES);
	CHECK(P->probe(b.b, 4, 0) == NJ_PROBE_MORE);
	/* a request seen in the to-client direction: the flow is reversed */
	CHECK(P->probe(b.b, (uint32_t)b.n, 1) == NJ_PROBE_YES_REVERSED);
	b.n = 0;
	/* NetBIOS session request on 139, then SMB */
	mb_put(&b,
	       "\x81\x00\x00\x04"
	       "abcd",
	       8);
	b_negotiate_req(&b, 0);
	CHECK(P->probe(b.b, (uint32_t)b.n, 0) == NJ_PROBE_YES);
	CHECK(P->probe(b.b, 10, 0) == NJ_PROBE_MORE);
	/* mid-stream: a record further in */
	b.n = 0;
	mb_put(&b, "garbage-garbage-", 16);
	b_negotiate_req(&b, 0);
	CHECK(P->probe(b.b, (uint32_t)b.n, 0) == NJ_PROBE_YES);
	/* HTTP is not SMB */
	memset(junk, 'a', sizeof(junk));
	memcpy(junk, "GET / HTTP/1.1\r\n", 16);
	CHECK(P->probe(junk, sizeof(junk), 0) == NJ_PROBE_NO);
	CHECK(P->probe(junk, 100, 0) == NJ_PROBE_MORE);
	/* an SMB3 transform record is SMB */
	b.n = 0;
	mb_put(&b, "\x00\x00\x00\x40\xfdSMB", 8);
	mb_zero(&b, 60);
	CHECK(P->probe(b.b, (uint32_t)b.n, 0) == NJ_PROBE_YES);
	free(b.b);
}

/* Encrypted SMB3: transform records are counted, nothing else. */
static void test_encrypted(void)
{
	struct script *s = sc_new();
	struct mb b = {0};
	struct hx *h;
	char *out;

	for (int i = 0; i < 5; i++) {
		size_t nb = nb_begin(&b);

		mb_put(&b, "\xfdSMB", 4);
		mb_zero(&b, 16 + 16);
		mb_u32(&b, 200);
		mb_u16(&b, 0);
		mb_u16(&b, 1);
		mb_u64(&b, SSN);
		mb_zero(&b, 200);
		nb_end(&b, nb);
		sc_add(s, i & 1, &b);
	}
	out = sc_run(s, FEED_MSG, 0, NULL, &h);
	CHECK(nj_smb_state_stats(h->st)->encrypted == 5);
	CHECK(!*hx_out(h) && h->t->nevents == 0);
	hx_free(h);
	free(out);
	check_splits(s, "encrypted", true);
	sc_free(s);
	free(b.b);
}

static struct nj_conf *conf_text(const char *text)
{
	char path[] = "/tmp/nj_smb_conf_XXXXXX", err[256];
	int fd = mkstemp(path);
	struct nj_conf *c;

	if (fd < 0)
		return NULL;
	CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
	c = nj_conf_load(path, NULL, 0, err, sizeof(err));
	unlink(path);
	return c;
}

static void test_config(void)
{
	struct nj_conf *c = conf_text("app-layer:\n"
				      "  protocols:\n"
				      "    smb:\n"
				      "      max-tx: 3\n"
				      "      max-write-size: 64kb\n"
				      "      dcerpc:\n"
				      "        max-stub-size: 16\n"
				      "outputs:\n"
				      "  - eve-log:\n"
				      "      types:\n"
				      "        - smb:\n"
				      "            types: [tree_connect, negotiate]\n");
	const struct nj_smb_config *cfg;
	struct script *s;
	struct hx *h;
	char *out;
	json_t *evs;

	CHECK(c != NULL);
	if (!c)
		return;
	CHECK(nj_smb_parser.configure(c) == 0);
	cfg = nj_smb_config_get();
	CHECK(cfg->max_tx == 3 && cfg->max_write_size == 65536 && cfg->max_stub == 16 &&
	      cfg->log_types == (NJ_SMB_LOG_TREECONNECT | NJ_SMB_LOG_NEGOTIATE));
	nj_conf_free(c);
	s = session_script();
	out = sc_run(s, FEED_MSG, 0, NULL, &h);
	evs = lines(hx_out(h));
	CHECK(json_array_size(evs) == 3);
	CHECK(count_ev(evs, "smb.command", "SMB2_COMMAND_TREE_CONNECT") == 2);
	json_decref(evs);
	hx_free(h);
	free(out);
	/* max-tx 3: requests without answers (after answers were seen) */
	{
		struct script *m = sc_new();
		struct mb b = {0};

		b_negotiate_req(&b, 0);
		sc_add(m, 0, &b);
		b_negotiate_resp(&b, 0, 0x0302);
		sc_add(m, 1, &b);
		for (unsigned i = 1; i < 10; i++) {
			b_create_req(&b, i, SSN, TREE, "f", 1, 0);
			sc_add(m, 0, &b);
		}
		c = conf_text("app-layer:\n  protocols:\n    smb:\n      max-tx: 3\n");
		CHECK(nj_smb_parser.configure(c) == 0);
		nj_conf_free(c);
		out = sc_run(m, FEED_MSG, 0, NULL, &h);
		CHECK(hx_has_event(h, "too_many_transactions"));
		CHECK(nj_smb_state_stats(h->st)->forced >= 6);
		hx_free(h);
		free(out);
		/* one-sided: no event */
		m->msg[1].len = 0;
		out = sc_run(m, FEED_MSG, 0, NULL, &h);
		CHECK(!hx_has_event(h, "too_many_transactions"));
		hx_free(h);
		free(out);
		free(b.b);
		sc_free(m);
	}
	/* a write larger than max-write-size: event, data skipped, parsing goes on */
	c = conf_text("app-layer:\n  protocols:\n    smb:\n      max-write-size: 1kb\n");
	CHECK(nj_smb_parser.configure(c) == 0);
	nj_conf_free(c);
	fill_data();
	out = sc_run(s, FEED_BYTE, 0, NULL, &h);
	CHECK(hx_has_event(h, "write_request_too_large"));
	CHECK(strstr(hx_out(h), "SMB2_COMMAND_SESSION_LOGOFF") != NULL);
	hx_free(h);
	free(out);
	/* a bad value stops start-up */
	c = conf_text("app-layer:\n  protocols:\n    smb:\n      max-tx: lots\n");
	fprintf(stderr, "(an error about max-tx is expected)\n");
	CHECK(nj_smb_parser.configure(c) == -1);
	nj_conf_free(c);
	CHECK(nj_smb_parser.configure(NULL) == 0);
	CHECK(nj_smb_config_get()->max_tx == 1024 && nj_smb_config_get()->log_types == 0);
	sc_free(s);
}

int main(void)
{
	fill_data();
	test_probe();
	test_session();
	test_session_files();
	test_detection();
	test_encrypted();
	test_gaps();
	test_large_file();
	test_malformed();
	test_guard_page();
	test_config();
	test_capture_splits();
	test_capture_content();
	test_suricata_verify();
	if (failures)
		fprintf(stderr, "%d check(s) failed\n", failures);
	return failures ? 1 : 0;
}
