/* SPDX-License-Identifier: MIT */
/*
 * FTP control parser: a session fed whole, split at every byte and byte by
 * byte gives the same transactions and events; multi-line and preliminary
 * replies; PORT / EPRT / PASV / EPSV ports and the data connection announced
 * by RETR / STOR; over-long lines (anomaly, truncation); malformed input.
 * FTP-DATA: the file direction from the announcement.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <jansson.h>

#include "dataplane/flow.h"
#include "parsers/applayer.h"
#include "parsers/ftp/ftp.h"
#include "tests/nj_test.h"

struct msg {
	int dir;
	const char *data;
};

/* The framework's buffering: what parse() leaves is presented again with the next bytes. */
struct feeder {
	const struct nj_app_parser *p;
	void *st;
	struct nj_al_test *t;
	uint8_t *buf[2];
	uint32_t len[2];
};

static void feed(struct feeder *f, int dir, const uint8_t *d, uint32_t n)
{
	uint8_t *b = realloc(f->buf[dir], f->len[dir] + n + 1);
	int32_t r;

	if (!b)
		abort();
	f->buf[dir] = b;
	memcpy(b + f->len[dir], d, n);
	f->len[dir] += n;
	r = f->p->parse(f->st, f->t->ctx, dir, b, f->len[dir]);
	CHECK(r >= 0 && (uint32_t)r <= f->len[dir]);
	if (r < 0)
		r = (int32_t)f->len[dir];
	memmove(b, b + r, f->len[dir] - (uint32_t)r);
	f->len[dir] -= (uint32_t)r;
}

/* Logs (and frees) every transaction; returns the JSON lines and anomaly names. */
static char *finish(struct feeder *f)
{
	struct nj_al_txq *q = f->p->txq(f->st);
	size_t cap = 4096, len = 0;
	char *out;

	for (int d = 0; d < 2; d++)
		f->p->close(f->st, f->t->ctx, d);
	while (q->head) {
		struct nj_al_tx *tx = q->head;

		q->head = tx->next;
		if (!q->head)
			q->tail = NULL;
		q->count--;
		f->p->log_tx(f->t->log, NULL, tx);
		f->p->tx_free(f->st, tx);
	}
	if (f->t->out_len + 1 > cap)
		cap = f->t->out_len + 1;
	out = malloc(cap);
	len = (size_t)snprintf(out, cap, "%s", f->t->out ? f->t->out : "");
	for (unsigned i = 0; i < f->t->nevents && i < NJ_AL_TEST_MAX_EVENTS; i++) {
		size_t need = len + strlen(f->t->events[i]) + 8;

		if (need > cap) {
			cap = need * 2;
			out = realloc(out, cap);
		}
		len += (size_t)snprintf(out + len, cap - len, "E:%d:%s\n", f->t->event_dir[i],
					f->t->events[i]);
	}
	f->p->state_free(f->st);
	free(f->buf[0]);
	free(f->buf[1]);
	return out;
}

static void start(struct feeder *f, struct nj_flow *fl)
{
	memset(f, 0, sizeof(*f));
	f->p = nj_app_parser_by_name("ftp");
	f->st = f->p->state_new();
	f->t = nj_al_test_new(fl, NJ_EVE_FTP, 1000);
}

/* Runs the session with every message split into pieces of at most `step` bytes (0: whole). */
static char *run(const struct msg *m, size_t nm, uint32_t step, struct nj_al_test **tout)
{
	struct feeder f;
	char *out;

	start(&f, NULL);
	for (size_t i = 0; i < nm; i++) {
		const uint8_t *d = (const uint8_t *)m[i].data;
		uint32_t n = (uint32_t)strlen(m[i].data);

		for (uint32_t o = 0; o < n;) {
			uint32_t k = step && n - o > step ? step : n - o;

			feed(&f, m[i].dir, d + o, k);
			o += k;
		}
	}
	out = finish(&f);
	if (tout)
		*tout = f.t;
	else
		nj_al_test_free(f.t);
	return out;
}

/* The same session split at every byte offset of the whole stream of each direction. */
static void check_splits(const struct msg *m, size_t nm, const char *whole)
{
	for (uint32_t step = 1; step <= 7; step++) {
		char *o = run(m, nm, step, NULL);

		CHECK(strcmp(o, whole) == 0);
		if (strcmp(o, whole) != 0)
			fprintf(stderr, "step %u:\n%s\nwhole:\n%s\n", step, o, whole);
		free(o);
	}
	/* each message cut once at every offset */
	for (size_t i = 0; i < nm; i++) {
		size_t n = strlen(m[i].data);

		for (size_t cut = 1; cut < n; cut++) {
			struct feeder f;
			char *o;

			start(&f, NULL);
			for (size_t k = 0; k < nm; k++) {
				const uint8_t *d = (const uint8_t *)m[k].data;
				uint32_t l = (uint32_t)strlen(m[k].data);

				if (k == i) {
					feed(&f, m[k].dir, d, (uint32_t)cut);
					feed(&f, m[k].dir, d + cut, l - (uint32_t)cut);
				} else {
					feed(&f, m[k].dir, d, l);
				}
			}
			o = finish(&f);
			CHECK(strcmp(o, whole) == 0);
			nj_al_test_free(f.t);
			free(o);
		}
	}
}

static json_t *line_n(const char *out, unsigned n)
{
	const char *p = out;

	for (unsigned i = 0; i < n && p; i++) {
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	if (!p || !*p)
		return NULL;
	return json_loadb(p, (size_t)(strchr(p, '\n') - p), 0, NULL);
}

static const char *jstr(json_t *o, const char *a, const char *b)
{
	json_t *x = json_object_get(o, a);

	if (b)
		x = json_object_get(x, b);
	return json_string_value(x);
}

static void test_session(void)
{
	static const struct msg m[] = {
		{1, "220-Welcome\r\n220-second line\r\nno code here\r\n220 ready\r\n"},
		{0, "USER anonymous\r\n"},
		{1, "331 Password required\r\n"},
		{0, "PASS x\r\nSYST\r\n"},
		{1, "230 OK\r\n215 UNIX Type: L8\r\n"},
		{0, "PORT 192,168,169,173,230,15\r\n"},
		{1, "200 PORT command successful\r\n"},
		{0, "RETR a b.txt\r\n"},
		{1, "150-Connecting\r\n150 153.9 kbytes\r\n"},
		{1, "226 done\n"},
		{0, "PASV\r\n"},
		{1, "227 Entering Passive Mode (10,0,0,1,4,1)\r\n"},
		{0, "EPSV\r\n"},
		{1, "229 Entering Extended Passive Mode (|||6446|)\r\n"},
		{0, "EPRT |2|::1|6275|\r\n"},
		{1, "200 ok\r\n"},
		{0, "stor up.bin\r\n"},
		{0, "QUIT\r\n"},
	};
	struct nj_al_test *t;
	char *whole = run(m, sizeof(m) / sizeof(m[0]), 0, &t);
	json_t *j;

	/* RETR and STOR announced the data connection */
	CHECK(t->expects == 2);
	CHECK(t->expect_dport == 6275);
	nj_al_test_free(t);
	/* 0 greeting, 1 USER, 2 PASS, 3 SYST, 4 PORT, 5 RETR, 6 PASV, 7 EPSV, 8 EPRT, 9 STOR, 10 QUIT */
	j = line_n(whole, 0);
	CHECK(j && !json_object_get(json_object_get(j, "ftp"), "command"));
	CHECK(j &&
	      json_array_size(json_object_get(json_object_get(j, "ftp"), "completion_code")) == 3);
	CHECK(j && json_array_size(json_object_get(json_object_get(j, "ftp"), "reply")) == 4);
	CHECK(j && jstr(j, "ftp", "reply_received") &&
	      !strcmp(jstr(j, "ftp", "reply_received"), "yes"));
	json_decref(j);
	j = line_n(whole, 1);
	CHECK(j && !strcmp(jstr(j, "ftp", "command"), "USER") &&
	      !strcmp(jstr(j, "ftp", "command_data"), "anonymous"));
	json_decref(j);
	j = line_n(whole, 4);
	CHECK(j && !strcmp(jstr(j, "ftp", "command"), "PORT") &&
	      json_integer_value(json_object_get(json_object_get(j, "ftp"), "dynamic_port")) ==
		      58895 &&
	      !strcmp(jstr(j, "ftp", "mode"), "active"));
	json_decref(j);
	j = line_n(whole, 5);
	CHECK(j && !strcmp(jstr(j, "ftp", "command"), "RETR") &&
	      !strcmp(jstr(j, "ftp", "command_data"), "a b.txt") &&
	      json_array_size(json_object_get(json_object_get(j, "ftp"), "completion_code")) == 3);
	json_decref(j);
	j = line_n(whole, 6);
	CHECK(j && json_integer_value(json_object_get(json_object_get(j, "ftp"), "dynamic_port")) ==
			   1025);
	json_decref(j);
	j = line_n(whole, 7);
	CHECK(j && json_integer_value(json_object_get(json_object_get(j, "ftp"), "dynamic_port")) ==
			   6446);
	json_decref(j);
	j = line_n(whole, 9);
	CHECK(j && !strcmp(jstr(j, "ftp", "command"), "STOR") &&
	      !strcmp(jstr(j, "ftp", "reply_received"), "no"));
	json_decref(j);
	j = line_n(whole, 10);
	CHECK(j && !strcmp(jstr(j, "ftp", "command"), "QUIT"));
	json_decref(j);
	CHECK(line_n(whole, 11) == NULL);
	check_splits(m, sizeof(m) / sizeof(m[0]), whole);
	free(whole);
}

static void test_long_lines(void)
{
	char *big = malloc(10000), *out;
	struct msg m[3];

	memcpy(big, "STOR ", 5);
	memset(big + 5, 'A', 9000);
	memcpy(big + 9005, "\r\nNOOP\r\n", 9);
	m[0] = (struct msg){1, "220 hi\r\n"};
	m[1] = (struct msg){0, big};
	m[2] = (struct msg){1, "200 x\r\n"};
	out = run(m, 3, 0, NULL);
	CHECK(strstr(out, "E:0:request_command_too_long\n") != NULL);
	CHECK(strstr(out, "\"command_truncated\":true") != NULL);
	CHECK(strstr(out, "\"command\":\"NOOP\"") != NULL);
	for (uint32_t step = 1; step < 4096; step = step * 3 + 1) {
		char *o = run(m, 3, step, NULL);

		CHECK(strcmp(o, out) == 0);
		free(o);
	}
	free(out);
	free(big);
}

/* Random and hostile input: never a crash, output the same however it is split. */
static void test_malformed(void)
{
	static const struct msg m[] = {
		{0, "PORT 999,1,1,1,1,1\r\nPORT 1,2,3\r\nEPRT |1|x\r\nEPRT ||||\r\n"},
		{1, "227 (1,2,3,4,5\r\n229 (|||99999|)\r\n2\r\n\r\n-\r\n123-\r\n"},
		{0, "\r\n\n\n PASV\r\nEPSV\r\nRETR\r\n"},
		{1, "227 Entering (1,2,3,4,300,1)\r\n229 (|||)\r\n"},
	};
	char *whole = run(m, sizeof(m) / sizeof(m[0]), 0, NULL);

	check_splits(m, sizeof(m) / sizeof(m[0]), whole);
	free(whole);
	srand(7);
	for (int it = 0; it < 300; it++) {
		uint8_t b[512];
		struct feeder f;
		size_t n = (size_t)(rand() % (int)sizeof(b));
		char *o;

		for (size_t i = 0; i < n; i++) {
			int r = rand() % 8;

			b[i] = r == 0 ? '\n' : r == 1 ? '\r' : r == 2 ? ' ' : (uint8_t)rand();
		}
		start(&f, NULL);
		for (size_t o2 = 0; o2 < n;) {
			size_t k = 1 + (size_t)(rand() % 40);

			if (k > n - o2)
				k = n - o2;
			feed(&f, rand() & 1, b + o2, (uint32_t)k);
			o2 += k;
		}
		o = finish(&f);
		nj_al_test_free(f.t);
		free(o);
	}
}

/*
 * Inputs that end against a PROT_NONE page: an over-read of a line, a
 * number or a reply crashes. Every prefix of each input is parsed alone.
 */
static void test_guard(void)
{
	static const char *const in[] = {
		"PORT 1,2,3,4,5,6",
		"EPRT |1|1.2.3.4|99",
		"227 (1,2,3,4,5,6",
		"229 (|||12",
		"220-",
		"123",
		"RETR",
		"USER ",
		"AUTH",
		"\r",
	};
	long pg = sysconf(_SC_PAGESIZE);
	uint8_t *m = mmap(NULL, (size_t)pg * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			  -1, 0);

	CHECK(m != MAP_FAILED);
	if (m == MAP_FAILED)
		return;
	CHECK(mprotect(m + pg, (size_t)pg, PROT_NONE) == 0);
	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		size_t n = strlen(in[i]);

		for (size_t k = 0; k <= n; k++) {
			uint8_t *d = m + pg - k, *dl = m + pg - k - 1;

			memcpy(d, in[i], k);
			for (int dir = 0; dir < 2; dir++) {
				struct feeder f;
				char *o;

				start(&f, NULL);
				/* a command first so that replies have a transaction */
				f.p->parse(f.st, f.t->ctx, 0, (const uint8_t *)"PASV\n", 5);
				f.p->parse(f.st, f.t->ctx, 0, (const uint8_t *)"EPSV\n", 5);
				f.p->parse(f.st, f.t->ctx, dir, d, (uint32_t)k);
				f.p->probe(d, (uint32_t)k, dir);
				/* the same as a whole line ending at the guard */
				memcpy(dl, in[i], k);
				dl[k] = '\n';
				f.p->parse(f.st, f.t->ctx, dir, dl, (uint32_t)k + 1);
				o = finish(&f);
				nj_al_test_free(f.t);
				free(o);
			}
		}
	}
	munmap(m, (size_t)pg * 2);
}

static void test_probe(void)
{
	const struct nj_app_parser *p = nj_app_parser_by_name("ftp");

	CHECK(p && p->probe((const uint8_t *)"USER x\r\n", 8, NJ_DIR_TOSERVER) == NJ_PROBE_YES);
	CHECK(p->probe((const uint8_t *)"US", 2, NJ_DIR_TOSERVER) == NJ_PROBE_MORE);
	CHECK(p->probe((const uint8_t *)"GET / HTTP/1.1\r\n", 16, NJ_DIR_TOSERVER) == NJ_PROBE_NO);
	CHECK(p->probe((const uint8_t *)"220 hi\r\n", 8, NJ_DIR_TOCLIENT) == NJ_PROBE_MORE);
	CHECK(p->probe((const uint8_t *)"HTTP/1.1 200", 12, NJ_DIR_TOCLIENT) == NJ_PROBE_NO);
	CHECK(nj_app_parser_by_name("ftp-data") && !nj_app_parser_by_name("ftp-data")->probe);
}

/* The data connection: the file's direction follows the command and who connected. */
static void test_data_dir(void)
{
	const struct nj_app_parser *fp = nj_app_parser_by_name("ftp");
	const struct nj_app_parser *dp = nj_app_parser_by_name("ftp-data");
	struct nj_flow ctl, data;
	struct nj_al_test *t, *t2;
	void *st, *ds;
	static const char retr[] = "RETR f.txt\r\n";

	/* control: client 10.0.0.2 (addr[1]) -> server 10.0.0.1 (addr[0]) */
	memset(&ctl, 0, sizeof(ctl));
	ctl.proto = 6;
	ctl.addr[0][0] = 10, ctl.addr[0][3] = 1;
	ctl.addr[1][0] = 10, ctl.addr[1][3] = 2;
	ctl.client = 1;
	t = nj_al_test_new(&ctl, NJ_EVE_FTP, 1);
	st = fp->state_new();
	fp->parse(st, t->ctx, 0, (const uint8_t *)"PASV\r\n", 6);
	fp->parse(st, t->ctx, 1, (const uint8_t *)"227 x (10,0,0,1,0,99)\r\n", 23);
	fp->parse(st, t->ctx, 0, (const uint8_t *)retr, sizeof(retr) - 1);
	CHECK(t->expects == 1 && t->expect_dport == 99);
	/* passive: the FTP client connects to the server; RETR data goes to the client */
	memset(&data, 0, sizeof(data));
	data.proto = 6;
	memcpy(data.addr, ctl.addr, sizeof(data.addr));
	data.client = 1;
	t2 = nj_al_test_new(&data, NJ_EVE_FTP_DATA, 2);
	ds = dp->state_new();
	dp->expect_start(ds, t2->ctx, t->expect_data, t->expect_len, 5);
	dp->parse(ds, t2->ctx, NJ_DIR_TOSERVER, (const uint8_t *)"junk", 4);
	dp->parse(ds, t2->ctx, NJ_DIR_TOCLIENT, (const uint8_t *)"file bytes", 10);
	dp->close(ds, t2->ctx, NJ_DIR_TOSERVER);
	CHECK(dp->txq(ds)->head && !dp->txq(ds)->head->done[1]);
	dp->close(ds, t2->ctx, NJ_DIR_TOCLIENT);
	CHECK(dp->txq(ds)->head && dp->txq(ds)->head->done[1]);
	dp->log_tx(t2->log, &data, dp->txq(ds)->head);
	CHECK(t2->out &&
	      strstr(t2->out, "\"ftp_data\":{\"filename\":\"f.txt\",\"command\":\"RETR\"}"));
	dp->state_free(ds);
	nj_al_test_free(t2);
	/* active: the FTP server connects (from port 20) to the client: RETR data to server */
	data.client = 0;
	t2 = nj_al_test_new(&data, NJ_EVE_FTP_DATA, 2);
	ds = dp->state_new();
	dp->expect_start(ds, t2->ctx, t->expect_data, t->expect_len, 5);
	dp->parse(ds, t2->ctx, NJ_DIR_TOSERVER, (const uint8_t *)"file", 4);
	dp->close(ds, t2->ctx, NJ_DIR_TOSERVER);
	CHECK(dp->txq(ds)->head && dp->txq(ds)->head->done[0]);
	dp->state_free(ds);
	nj_al_test_free(t2);
	fp->state_free(st);
	nj_al_test_free(t);
}

int main(void)
{
	test_probe();
	test_session();
	test_long_lines();
	test_malformed();
	test_guard();
	test_data_dir();
	if (failures)
		fprintf(stderr, "%d failures\n", failures);
	return failures ? 1 : 0;
}
