/* SPDX-License-Identifier: MIT */
/*
 * HTTP multipart/form-data request bodies (parsers/http/http_multipart.c):
 * each part with a file name becomes a file of its own (name, size, state,
 * content through the files interface), parts without one do not; the same
 * files, detection instances (file.data, file.name) and anomalies whether the
 * request arrives whole, cut in two at every byte, or byte by byte; closing
 * delimiter missing (TRUNCATED), chunked and gzip bodies, gaps, malformed part
 * headers (MULTIPART_* anomalies) and random garbage (no crash).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "common/nj_common.h"
#include "parsers/applayer.h"
#include "parsers/files.h"
#include "parsers/http/http.h"
#include "tests/nj_test.h"

static const struct nj_app_parser *P = &nj_http_parser;

struct sbuf {
	char *p;
	size_t n, cap;
};

static void sb_add(struct sbuf *b, const void *s, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		b->cap = (b->n + n + 1) * 2;
		b->p = realloc(b->p, b->cap);
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = 0;
}

static void sb_str(struct sbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

static void sb_esc(struct sbuf *b, const uint8_t *p, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		char t[8];

		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\') {
			sb_add(b, &p[i], 1);
		} else {
			snprintf(t, sizeof(t), "\\x%02x", p[i]);
			sb_str(b, t);
		}
	}
}

/* ------------------------------------------------------------------ file capture */

#define SLOTS 64
struct cap {
	struct sbuf content[SLOTS];
	struct sbuf out;
};

static void c_data(void *ctx, uint32_t slot, uint64_t off, const uint8_t *d, uint32_t n)
{
	struct cap *c = ctx;

	(void)off;
	if (slot < SLOTS)
		sb_add(&c->content[slot], d, n);
}
static void c_scan(void *ctx, uint32_t slot, const struct nj_file_view *v)
{
	(void)ctx;
	(void)slot;
	(void)v;
}
static void c_log(void *ctx, uint32_t slot, struct nj_json *j)
{
	(void)ctx;
	(void)slot;
	(void)j;
}
static void c_done(void *ctx, uint32_t slot, const struct nj_file_view *v)
{
	static const char *const st[] = {"OPEN", "CLOSED", "TRUNCATED", "ERROR"};
	struct cap *c = ctx;
	char t[160];

	sb_str(&c->out, "file name=");
	sb_esc(&c->out, v->name, v->name_len);
	snprintf(t, sizeof(t),
		 " size=%llu state=%s gaps=%d tx=%llu dir=%d data=", (unsigned long long)v->size,
		 st[v->state & 3], v->gaps, (unsigned long long)v->tx_id, v->dir);
	sb_str(&c->out, t);
	if (slot < SLOTS && c->content[slot].p)
		sb_esc(&c->out, (const uint8_t *)c->content[slot].p, (uint32_t)c->content[slot].n);
	sb_str(&c->out, "\n");
}
static void c_release(void *ctx, uint32_t slot)
{
	struct cap *c = ctx;

	if (slot < SLOTS)
		c->content[slot].n = 0;
}
static const struct nj_file_scanner_ops cap_ops = {c_data, c_scan, c_log, c_done, c_release};

/* ------------------------------------------------------------------ runner */

struct op {
	int gap; /* 0: data, else gap of n bytes */
	const uint8_t *p;
	uint32_t n;
};

struct runner {
	void *st;
	struct nj_al_test *t;
	uint8_t *keep;
	uint32_t klen, kcap;
	bool dead;
	struct sbuf *sum;
};

/* Detection instances and anomalies of a transaction. */
static void summarize(struct runner *r, const struct nj_al_tx *t)
{
	const struct nj_http_tx *tx = nj_http_tx_of(t);
	char s[96];

	snprintf(s, sizeof(s), "tx %llu evbits %llx multipart %u\n", (unsigned long long)t->id,
		 (unsigned long long)tx->evbits, tx->multipart);
	sb_str(r->sum, s);
	for (const struct nj_al_multibuffer *b = P->multi_buffers; b && b->name; b++) {
		const uint8_t *d;
		uint32_t n;

		if (strncmp(b->name, "file.", 5) != 0)
			continue;
		for (uint32_t i = 0; b->get(t, i, &d, &n); i++) {
			sb_str(r->sum, b->name);
			sb_str(r->sum, "=");
			sb_esc(r->sum, d, n);
			sb_str(r->sum, "\n");
		}
	}
}

static void drain(struct runner *r, bool all)
{
	struct nj_al_txq *q = P->txq(r->st);

	while (q->head && (all || (q->head->done[0] && q->head->done[1]))) {
		struct nj_al_tx *tx = q->head;

		q->head = tx->next;
		if (!q->head)
			q->tail = NULL;
		q->count--;
		summarize(r, tx);
		P->tx_free(r->st, tx);
	}
}

static void feed(struct runner *r, const uint8_t *p, uint32_t n)
{
	int32_t c;

	if (r->dead || n == 0)
		return;
	if (r->klen) {
		if (r->klen + n > r->kcap) {
			r->kcap = (r->klen + n) * 2;
			r->keep = realloc(r->keep, r->kcap);
		}
		memcpy(r->keep + r->klen, p, n);
		r->klen += n;
		p = r->keep;
		n = r->klen;
	}
	c = P->parse(r->st, r->t->ctx, 0, p, n);
	if (c < 0) {
		r->dead = true;
		r->klen = 0;
		return;
	}
	CHECK((uint32_t)c <= n);
	if ((uint32_t)c < n) {
		uint32_t rest = n - (uint32_t)c;

		if (rest > r->kcap) {
			r->kcap = rest * 2;
			r->keep = realloc(r->keep, r->kcap);
		}
		memmove(r->keep, p + c, rest);
		r->klen = rest;
	} else {
		r->klen = 0;
	}
}

#define SPLIT_WHOLE 0u
#define SPLIT_BYTES UINT32_MAX

/*
 * Runs the request (ops, to the server) then a response: the files closed,
 * the transactions' file instances and the anomalies, as text.
 */
static char *run(const struct op *ops, unsigned nops, uint32_t split, bool respond)
{
	struct nj_files_config fc;
	struct cap cap;
	struct runner r;
	struct sbuf sum = {0};
	struct nj_files *fs;

	memset(&cap, 0, sizeof(cap));
	memset(&r, 0, sizeof(r));
	nj_files_config_defaults(&fc);
	fc.enabled = true;
	fs = nj_files_create(&fc, NULL);
	CHECK(fs != NULL);
	if (!fs)
		return strdup("");
	nj_files_set_scanner(fs, &cap_ops, &cap);
	r.t = nj_al_test_new(NULL, NJ_EVE_HTTP, 1000000);
	r.t->files = fs;
	r.st = P->state_new();
	r.sum = &sum;
	for (unsigned i = 0; i < nops; i++) {
		const struct op *o = &ops[i];

		if (o->gap) {
			r.klen = 0;
			if (!r.dead)
				P->gap(r.st, r.t->ctx, 0, o->n);
		} else if (split == SPLIT_WHOLE || o->n <= 1) {
			feed(&r, o->p, o->n);
		} else if (split == SPLIT_BYTES) {
			for (uint32_t k = 0; k < o->n; k++)
				feed(&r, o->p + k, 1);
		} else {
			uint32_t k = split < o->n ? split : o->n;

			feed(&r, o->p, k);
			feed(&r, o->p + k, o->n - k);
		}
		drain(&r, false);
	}
	if (respond) {
		static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";

		P->parse(r.st, r.t->ctx, 1, (const uint8_t *)resp, sizeof(resp) - 1);
	}
	drain(&r, false);
	P->close(r.st, r.t->ctx, 0);
	P->close(r.st, r.t->ctx, 1);
	drain(&r, true);
	for (unsigned i = 0; i < r.t->nevents && i < NJ_AL_TEST_MAX_EVENTS; i++) {
		sb_str(&sum, "event ");
		sb_str(&sum, r.t->events[i]);
		sb_str(&sum, "\n");
	}
	P->state_free(r.st);
	nj_al_test_free(r.t);
	nj_files_destroy(fs);
	free(r.keep);
	sb_str(&cap.out, sum.p ? sum.p : "");
	free(sum.p);
	for (unsigned i = 0; i < SLOTS; i++)
		free(cap.content[i].p);
	return cap.out.p ? cap.out.p : strdup("");
}

/* Whole, every split, byte by byte: identical. Returns the whole run's text. */
static char *run_all(const char *name, const struct op *ops, unsigned nops, bool respond)
{
	char *whole = run(ops, nops, SPLIT_WHOLE, respond);
	uint32_t maxn = 0;
	unsigned bad = 0;

	for (unsigned i = 0; i < nops; i++)
		if (!ops[i].gap && ops[i].n > maxn)
			maxn = ops[i].n;
	for (uint32_t k = 1; k <= maxn; k++) {
		char *o = run(ops, nops, k == maxn ? SPLIT_BYTES : k, respond);

		if (strcmp(o, whole)) {
			if (!bad)
				fprintf(stderr, "%s: split %u differs\n  whole:\n%s  got:\n%s",
					name, k, whole, o);
			bad++;
		}
		free(o);
	}
	CHECK(bad == 0);
	return whole;
}

static bool has(const char *out, const char *s)
{
	bool ok = strstr(out, s) != NULL;

	if (!ok)
		fprintf(stderr, "missing: %s\nin:\n%s", s, out);
	return ok;
}

static unsigned count(const char *out, const char *s)
{
	unsigned n = 0;

	for (const char *p = out; (p = strstr(p, s)); p += strlen(s))
		n++;
	return n;
}

/* A request with a Content-Length body (and the given extra header lines). */
static char *request(const char *ctype, const char *extra, const char *body, size_t blen,
		     size_t *len)
{
	char *r = malloc(blen + 1024);
	int h = snprintf(r, 1024,
			 "POST /upload.php HTTP/1.1\r\nHost: h\r\nContent-Type: %s\r\n%s"
			 "Content-Length: %zu\r\n\r\n",
			 ctype, extra, blen);

	memcpy(r + h, body, blen);
	*len = (size_t)h + blen;
	return r;
}

static const char body1[] =
	"This is the preamble.\r\n"
	"--XyZ\r\n"
	"Content-Disposition: form-data; name=\"field\"\r\n"
	"\r\n"
	"value of the field\r\n"
	"--XyZ\r\n"
	"Content-Disposition: form-data; name=\"up1\"; filename=\"a.txt\"\r\n"
	"Content-Type: text/plain\r\n"
	"\r\n"
	"first file\r\nx--XyZ not a delimiter\r\n\r\r\n-"
	"\r\n"
	"--XyZ  \r\n"
	"content-disposition: form-data; name=up2; filename*=UTF-8''b%20c.bin\r\n"
	"\r\n"
	"--XyY minet\r\n"
	"--XyZ--\r\n"
	"epilogue\r\n--XyZ\r\nContent-Disposition: form-data; filename=\"no\"\r\n\r\n";

static void test_basic(void)
{
	size_t n;
	char *req = request("multipart/form-data; boundary=XyZ", "", body1, sizeof(body1) - 1, &n);
	struct op ops[] = {{0, (const uint8_t *)req, (uint32_t)n}};
	char *out = run_all("basic", ops, 1, true);

	CHECK(has(out,
		  "file name=a.txt size=40 state=CLOSED gaps=0 tx=0 dir=0 "
		  "data=first file\\x0d\\x0ax--XyZ not a delimiter\\x0d\\x0a\\x0d\\x0d\\x0a-\n"));
	CHECK(has(out, "file name=b c.bin size=11 state=CLOSED gaps=0 tx=0 dir=0 data=--XyY "
		       "minet\n"));
	CHECK(count(out, "file name=") == 2);
	CHECK(has(out, "multipart 1\n"));
	CHECK(has(out, "file.data=first file"));
	CHECK(has(out, "file.data=--XyY minet\n"));
	CHECK(has(out, "file.name=a.txt\n"));
	CHECK(has(out, "file.name=b c.bin\n"));
	CHECK(!strstr(out, "event MULTIPART"));
	free(out);
	free(req);
}

/* The closing delimiter never comes: the open file ends TRUNCATED. */
static void test_truncated(void)
{
	static const char body[] =
		"--b\r\nContent-Disposition: form-data; filename=\"x\"\r\n\r\n"
		"abc\r\n--b\r\nContent-Disposition: attachment; filename=y\r\n\r\n"
		"partial\r\n--";
	size_t n;
	char *req = request("multipart/form-data; boundary=\"b\"", "", body, sizeof(body) - 1, &n);
	struct op ops[] = {{0, (const uint8_t *)req, (uint32_t)n}};
	char *out = run_all("truncated", ops, 1, true);

	CHECK(has(out, "file name=x size=3 state=CLOSED gaps=0 tx=0 dir=0 data=abc\n"));
	CHECK(has(out, "file name=y size=11 state=TRUNCATED gaps=0 tx=0 dir=0 "
		       "data=partial\\x0d\\x0a--\n"));
	free(out);
	free(req);

	/* the connection closes in the middle of the body */
	{
		char pb[sizeof(body) + 50];

		memset(pb, 'P', sizeof(pb));
		memcpy(pb, body, sizeof(body) - 1);
		req = request("multipart/form-data; boundary=b", "", pb, sizeof(pb) - 1, &n);
	}
	ops[0].p = (const uint8_t *)req;
	ops[0].n = (uint32_t)(n - 50);
	out = run_all("cut", ops, 1, false);
	CHECK(has(out, "file name=y size=11 state=TRUNCATED"));
	free(out);
	free(req);
}

/* Not multipart: one file named by the path, as before; PUT is never multipart. */
static void test_not_multipart(void)
{
	static const char body[] = "--b\r\nContent-Disposition: form-data; filename=\"x\"\r\n\r\n"
				   "abc\r\n--b--\r\n";
	size_t n;
	char *req = request("text/plain", "", body, sizeof(body) - 1, &n);
	struct op ops[] = {{0, (const uint8_t *)req, (uint32_t)n}};
	char *out = run(ops, 1, SPLIT_WHOLE, true);
	char want[96];

	snprintf(want, sizeof(want), "file name=/upload.php size=%zu state=CLOSED",
		 sizeof(body) - 1);
	CHECK(has(out, want));
	CHECK(has(out, "multipart 0\n"));
	CHECK(has(out, "file.name=/upload.php\n"));
	free(out);
	free(req);
	req = request("multipart/form-data; boundary=b", "", body, sizeof(body) - 1, &n);
	memcpy(req, "PUT ", 4);
	memmove(req + 3, req + 4, n - 4);
	ops[0].n = (uint32_t)n - 1;
	ops[0].p = (const uint8_t *)req;
	out = run(ops, 1, SPLIT_WHOLE, true);
	CHECK(has(out, want));
	free(out);
	free(req);
}

/* Chunked and gzip-encoded bodies are split after decoding. */
static void test_chunked_gzip(void)
{
	static const char body[] = "--q\r\nContent-Disposition: form-data; filename=\"z\"\r\n\r\n"
				   "zipped content\r\n--q--\r\n";
	char req[1024];
	uint8_t gz[512];
	z_stream z;
	int h;

	memset(&z, 0, sizeof(z));
	CHECK(deflateInit2(&z, 9, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) == Z_OK);
	z.next_in = (Bytef *)(uintptr_t)body;
	z.avail_in = sizeof(body) - 1;
	z.next_out = gz;
	z.avail_out = sizeof(gz);
	CHECK(deflate(&z, Z_FINISH) == Z_STREAM_END);
	h = snprintf(req, sizeof(req),
		     "POST / HTTP/1.1\r\nHost: h\r\nContent-Type: multipart/form-data; "
		     "boundary=q\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n"
		     "%lx\r\n",
		     (unsigned long)z.total_out);
	memcpy(req + h, gz, z.total_out);
	h += (int)z.total_out;
	memcpy(req + h, "\r\n0\r\n\r\n", 7);
	h += 7;
	deflateEnd(&z);
	{
		struct op ops[] = {{0, (const uint8_t *)req, (uint32_t)h}};
		char *out = run_all("gzip", ops, 1, true);

		CHECK(has(out, "file name=z size=14 state=CLOSED gaps=0 tx=0 dir=0 "
			       "data=zipped content\n"));
		free(out);
	}
}

/* A gap inside a file part is a hole of that file; elsewhere the part is lost. */
static void test_gap(void)
{
	static const char head[] =
		"POST / HTTP/1.1\r\nHost: h\r\nContent-Type: multipart/form-data; "
		"boundary=g\r\nContent-Length: 120\r\n\r\n";
	static const char p1[] = "--g\r\nContent-Disposition: form-data; filename=\"f\"\r\n\r\nab";
	static const char p2[] = "cd\r\n--g--\r\n";
	uint32_t l1 = sizeof(p1) - 1, l2 = sizeof(p2) - 1;
	struct op ops[] = {{0, (const uint8_t *)head, sizeof(head) - 1},
			   {0, (const uint8_t *)p1, l1},
			   {1, NULL, 120 - l1 - l2},
			   {0, (const uint8_t *)p2, l2}};
	char *out = run_all("gap", ops, 4, true);
	char want[64];

	snprintf(want, sizeof(want), "file name=f size=%u state=TRUNCATED gaps=1",
		 120 - l1 - l2 + 4);
	CHECK(has(out, want));
	CHECK(has(out, "data=abcd\n"));
	free(out);
}

/* Malformed parts: anomalies, no file for what cannot be parsed, never a crash. */
static void test_malformed(void)
{
	static const char body[] =
		"--m\r\nContent-Disposition: form-data; filename=\"e\"\r\n\r\n--m\r\n"
		"no colon here\r\nContent-Disposition: form-data; filename=n\r\n\r\nN\r\n"
		"--mgarbage\r\nContent-Disposition: form-data; filename=\"g\"\r\n\r\nG\r\n"
		"--m-x\r\n\r\nno headers\r\n"
		"--m\r\nX-Empty:\r\n\r\n\r\n--m--";
	size_t n;
	char *req = request("multipart/form-data; boundary=m", "", body, sizeof(body) - 1, &n);
	struct op ops[] = {{0, (const uint8_t *)req, (uint32_t)n}};
	char *out = run_all("malformed", ops, 1, true);

	CHECK(has(out, "event MULTIPART_NO_FILEDATA\n"));
	CHECK(has(out, "event MULTIPART_INVALID_HEADER\n"));
	CHECK(has(out, "event MULTIPART_GENERIC_ERROR\n"));
	CHECK(has(out, "file name=e size=0 state=CLOSED"));
	CHECK(has(out, "file name=n size=1 state=CLOSED"));
	CHECK(has(out, "file name=g size=1 state=CLOSED"));
	CHECK(count(out, "file name=") == 3);
	free(out);
	free(req);
}

/* A part header block over the limit: the anomaly, the data still parsed. */
static void test_big_header(void)
{
	size_t bl = 20000, n;
	char *body = malloc(bl + 200);
	size_t o = 0;
	char *req, *out;

	o += (size_t)sprintf(body + o, "--B\r\nContent-Disposition: form-data; filename=big\r\n");
	while (o < bl) {
		memcpy(body + o, "X-Pad: 0123456789\r\n", 19);
		o += 19;
	}
	o += (size_t)sprintf(body + o, "\r\nDATA\r\n--B--\r\n");
	req = request("multipart/form-data; boundary=B", "", body, o, &n);
	{
		struct op ops[] = {{0, (const uint8_t *)req, (uint32_t)n}};

		out = run(ops, 1, SPLIT_WHOLE, true);
		CHECK(has(out, "event MULTIPART_INVALID_HEADER\n"));
		CHECK(has(out, "file name=big size=4 state=CLOSED"));
		free(out);
		out = run(ops, 1, SPLIT_BYTES, true);
		CHECK(has(out, "file name=big size=4 state=CLOSED"));
		free(out);
	}
	free(req);
	free(body);
}

/* Random bodies made of boundary pieces and noise: no crash, same results split. */
static void test_random(void)
{
	static const char *const pieces[] = {"--r",
					     "\r\n",
					     "--r--",
					     "\r\n\r\n",
					     "Content-Disposition: form-data; filename=\"",
					     "filename*=x''%41",
					     ":",
					     "-",
					     "\r",
					     "\n",
					     "r",
					     "abc",
					     "\"",
					     ";",
					     " "};
	uint32_t seed = 12345;

	for (int t = 0; t < 16; t++) {
		char body[400];
		size_t o = 0, n;
		char *req, *out;

		while (o < 200) {
			const char *p;

			seed = seed * 1103515245u + 12345u;
			p = pieces[(seed >> 16) % NJ_ARRAY_SIZE(pieces)];
			memcpy(body + o, p, strlen(p));
			o += strlen(p);
		}
		req = request("multipart/form-data; boundary=r", "", body, o, &n);
		{
			struct op ops[] = {{0, (const uint8_t *)req, (uint32_t)n}};
			char name[32];

			snprintf(name, sizeof(name), "random %d", t);
			out = run_all(name, ops, 1, (t & 1) != 0);
			free(out);
		}
		free(req);
	}
}

int main(void)
{
	P->configure(NULL);
	test_basic();
	test_truncated();
	test_not_multipart();
	test_chunked_gzip();
	test_gap();
	test_malformed();
	test_big_header();
	test_random();
	printf("test_http_multipart: %s\n", failures ? "FAILED" : "ok");
	return failures ? 1 : 0;
}
