/* SPDX-License-Identifier: MIT */
/*
 * TLS parsing cost per handshake: a TLS 1.2 exchange (browser-like
 * ClientHello of ~520 bytes with GREASE, ServerHello, a Certificate message
 * with a 2-certificate RSA-2048 chain, ServerKeyExchange, ServerHelloDone,
 * the client's key exchange, ChangeCipherSpec and Finished both ways, one
 * application record each way), one new flow state per handshake, fed as
 * the segments of a capture. Rows: the parser without and with JA3, with
 * the EVE writer, the certificate decode alone, and the baseline of copying
 * the same bytes, measured in the same run.
 * Usage: bench_tls [handshakes [only]]   (default 20000; only: run just row 1..5)
 *        bench_tls --pcap FILE [rounds]  every TLS flow of a capture (pcapgen's
 *        TLS-heavy mix: pcapgen --scenario bench --mix tls=100), per packet
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <pcap/pcap.h>

#include "dataplane/flow.h"
#include "parsers/tls/tls.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct sb {
	uint8_t b[16384];
	uint32_t n;
};

static void put(struct sb *s, const void *d, uint32_t n)
{
	memcpy(s->b + s->n, d, n);
	s->n += n;
}

static void u8(struct sb *s, unsigned v)
{
	s->b[s->n++] = (uint8_t)v;
}

static void u16(struct sb *s, unsigned v)
{
	u8(s, v >> 8);
	u8(s, v);
}

static void u24(struct sb *s, unsigned v)
{
	u8(s, v >> 16);
	u16(s, v & 0xffff);
}

static void record(struct sb *s, unsigned ct, const uint8_t *d, uint32_t n)
{
	u8(s, ct);
	u16(s, 0x0303);
	u16(s, n);
	put(s, d, n);
}

static uint8_t *make_cert(EVP_PKEY *key, EVP_PKEY *signer, const char *cn, const char *issuer,
			  uint32_t *len)
{
	X509 *x = X509_new();
	X509_NAME *sn = X509_NAME_new(), *in = X509_NAME_new();
	X509_EXTENSION *e;
	uint8_t *der = NULL;
	int n;

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 0x3de23897);
	X509_NAME_add_entry_by_txt(sn, "C", MBSTRING_ASC, (const unsigned char *)"US", -1, -1, 0);
	X509_NAME_add_entry_by_txt(sn, "O", MBSTRING_ASC, (const unsigned char *)"Example Inc.", -1,
				   -1, 0);
	X509_NAME_add_entry_by_txt(sn, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_NAME_add_entry_by_txt(in, "C", MBSTRING_ASC, (const unsigned char *)"US", -1, -1, 0);
	X509_NAME_add_entry_by_txt(in, "O", MBSTRING_ASC, (const unsigned char *)"Let's Encrypt",
				   -1, -1, 0);
	X509_NAME_add_entry_by_txt(in, "CN", MBSTRING_ASC, (const unsigned char *)issuer, -1, -1,
				   0);
	X509_set_subject_name(x, sn);
	X509_set_issuer_name(x, in);
	ASN1_TIME_set_string(X509_getm_notBefore(x), "20240101000000Z");
	ASN1_TIME_set_string(X509_getm_notAfter(x), "20250101000000Z");
	X509_set_pubkey(x, key);
	e = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name,
				"DNS:www.example.com, DNS:example.com, DNS:api.example.com");
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	X509_sign(x, signer, EVP_sha256());
	n = i2d_X509(x, &der);
	*len = (uint32_t)n;
	X509_NAME_free(sn);
	X509_NAME_free(in);
	X509_free(x);
	return der;
}

/* The exchange: client and server streams, and segment boundaries. */
static struct sb cs, ss;
static uint32_t cseg[4], sseg[4]; /* segment ends */
static uint8_t *leaf;
static uint32_t leaf_len;

static void build(void)
{
	static const uint16_t ciphers[] = {0x3a3a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f,
					   0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014,
					   0x009c, 0x009d, 0x002f, 0x0035};
	static const uint16_t sig[] = {0x0403, 0x0804, 0x0401, 0x0503,
				       0x0805, 0x0501, 0x0806, 0x0601};
	EVP_PKEY *k1 = EVP_RSA_gen(2048), *k2 = EVP_RSA_gen(2048);
	static struct sb m, e;
	uint32_t ca_len;
	uint8_t *ca;

	leaf = make_cert(k1, k2, "www.example.com", "R3", &leaf_len);
	ca = make_cert(k2, k2, "R3", "ISRG Root X1", &ca_len);

	/* ClientHello */
	e.n = 0;
	u16(&e, 0x0a0a);
	u16(&e, 0);
	u16(&e, 0);
	u16(&e, 20);
	u16(&e, 18);
	u8(&e, 0);
	u16(&e, 15);
	put(&e, "www.example.com", 15);
	u16(&e, 23);
	u16(&e, 0);
	u16(&e, 0xff01);
	u16(&e, 1);
	u8(&e, 0);
	u16(&e, 10);
	u16(&e, 10);
	u16(&e, 8);
	u16(&e, 0x4a4a);
	u16(&e, 0x001d);
	u16(&e, 0x0017);
	u16(&e, 0x0018);
	u16(&e, 11);
	u16(&e, 2);
	u8(&e, 1);
	u8(&e, 0);
	u16(&e, 35);
	u16(&e, 0);
	u16(&e, 16);
	u16(&e, 14);
	u16(&e, 12);
	u8(&e, 2);
	put(&e, "h2", 2);
	u8(&e, 8);
	put(&e, "http/1.1", 8);
	u16(&e, 5);
	u16(&e, 5);
	u8(&e, 1);
	u16(&e, 0);
	u16(&e, 0);
	u16(&e, 13);
	u16(&e, 18);
	u16(&e, 16);
	for (int i = 0; i < 8; i++)
		u16(&e, sig[i]);
	u16(&e, 18);
	u16(&e, 0);
	u16(&e, 51);
	u16(&e, 43);
	u16(&e, 41);
	u16(&e, 0x2a2a);
	u16(&e, 1);
	u8(&e, 0);
	u16(&e, 0x001d);
	u16(&e, 32);
	for (int i = 0; i < 32; i++)
		u8(&e, i);
	u16(&e, 45);
	u16(&e, 2);
	u8(&e, 1);
	u8(&e, 1);
	u16(&e, 43);
	u16(&e, 7);
	u8(&e, 6);
	u16(&e, 0x6a6a);
	u16(&e, 0x0304);
	u16(&e, 0x0303);
	u16(&e, 21); /* padding to ~512 */
	u16(&e, 180);
	for (int i = 0; i < 180; i++)
		u8(&e, 0);
	m.n = 0;
	u8(&m, 1);
	u24(&m, 2 + 32 + 33 + 2 + sizeof(ciphers) + 2 + 2 + e.n);
	u16(&m, 0x0303);
	for (int i = 0; i < 32; i++)
		u8(&m, 0x55);
	u8(&m, 32);
	for (int i = 0; i < 32; i++)
		u8(&m, 0x77);
	u16(&m, sizeof(ciphers));
	for (size_t i = 0; i < sizeof(ciphers) / 2; i++)
		u16(&m, ciphers[i]);
	u8(&m, 1);
	u8(&m, 0);
	u16(&m, e.n);
	put(&m, e.b, e.n);
	record(&cs, 22, m.b, m.n);
	cseg[0] = cs.n;

	/* ServerHello, Certificate, ServerKeyExchange, ServerHelloDone */
	m.n = 0;
	u8(&m, 2);
	u24(&m, 2 + 32 + 1 + 2 + 1 + 2 + 5 + 4 + 4);
	u16(&m, 0x0303);
	for (int i = 0; i < 32; i++)
		u8(&m, 0x66);
	u8(&m, 0);
	u16(&m, 0xc02f);
	u8(&m, 0);
	u16(&m, 13);
	u16(&m, 0xff01);
	u16(&m, 1);
	u8(&m, 0);
	u16(&m, 11);
	u16(&m, 0);
	u16(&m, 23);
	u16(&m, 0);
	u8(&m, 11);
	u24(&m, 3 + 3 + leaf_len + 3 + ca_len);
	u24(&m, 3 + leaf_len + 3 + ca_len);
	u24(&m, leaf_len);
	put(&m, leaf, leaf_len);
	u24(&m, ca_len);
	put(&m, ca, ca_len);
	u8(&m, 12);
	u24(&m, 329);
	for (int i = 0; i < 329; i++)
		u8(&m, i);
	u8(&m, 14);
	u24(&m, 0);
	record(&ss, 22, m.b, m.n);
	sseg[0] = 1460; /* as an MSS cuts it */
	sseg[1] = ss.n;

	/* client key exchange, CCS, Finished; server CCS, Finished; data both ways */
	m.n = 0;
	u8(&m, 16);
	u24(&m, 33);
	for (int i = 0; i < 33; i++)
		u8(&m, i);
	record(&cs, 22, m.b, m.n);
	record(&cs, 20, (const uint8_t *)"\x01", 1);
	record(&cs, 22, m.b, 40);
	cseg[1] = cs.n;
	record(&ss, 20, (const uint8_t *)"\x01", 1);
	record(&ss, 22, m.b, 40);
	sseg[2] = ss.n;
	record(&cs, 23, m.b, 200);
	cseg[2] = cs.n;
	record(&ss, 23, m.b, 300);
	sseg[3] = ss.n;
	OPENSSL_free(ca);
	EVP_PKEY_free(k1);
	EVP_PKEY_free(k2);
}

static const struct nj_app_parser *P;
static struct nj_flow flow;

/* Logs and frees finished transactions; returns how many events were written. */
static unsigned drain(void *st, struct nj_al_test *t, bool log)
{
	struct nj_al_txq *q = P->txq(st);
	unsigned n = 0;

	while (q->head && q->head->done[0] && q->head->done[1]) {
		struct nj_al_tx *tx = q->head;

		q->head = tx->next;
		if (!q->head)
			q->tail = NULL;
		q->count--;
		if (log) {
			size_t before = t->out_len;

			P->log_tx(t->log, &flow, tx);
			n += t->out_len > before;
		}
		P->tx_free(st, tx);
	}
	if (log)
		t->out_len = 0;
	return n;
}

/* One handshake as the capture delivers it (segments interleaved as on the wire). */
static unsigned handshake(struct nj_al_test *t, bool log)
{
	void *st = P->state_new();
	unsigned logged = 0;
	const struct {
		int dir;
		uint32_t a, b;
	} segs[] = {
		{0, 0, cseg[0]},       {1, 0, sseg[0]},	      {1, sseg[0], sseg[1]},
		{0, cseg[0], cseg[1]}, {1, sseg[1], sseg[2]}, {0, cseg[1], cseg[2]},
		{1, sseg[2], sseg[3]},
	};
	static uint8_t pend[2][8192];
	uint32_t have[2] = {0, 0};

	for (size_t i = 0; i < sizeof(segs) / sizeof(segs[0]); i++) {
		int d = segs[i].dir;
		const uint8_t *s = (d ? ss.b : cs.b) + segs[i].a;
		uint32_t n = segs[i].b - segs[i].a;
		int32_t r;

		if (have[d]) {
			memcpy(pend[d] + have[d], s, n);
			have[d] += n;
			r = P->parse(st, t->ctx, d, pend[d], have[d]);
			memmove(pend[d], pend[d] + r, have[d] - (uint32_t)r);
			have[d] -= (uint32_t)r;
		} else {
			r = P->parse(st, t->ctx, d, s, n);
			if ((uint32_t)r < n) {
				memcpy(pend[d], s + r, n - (uint32_t)r);
				have[d] = n - (uint32_t)r;
			}
		}
		logged += drain(st, t, log);
	}
	P->close(st, t->ctx, 0);
	P->close(st, t->ctx, 1);
	logged += drain(st, t, log);
	P->state_free(st);
	return logged;
}

/* Decoded fields land in a static arena, reset per certificate. */
static void *bump(void *arg, size_t k)
{
	static uint8_t arena[65536];
	size_t *used = arg;
	void *p;

	k = (k + 7) & ~(size_t)7;
	if (*used + k > sizeof(arena))
		return NULL;
	p = arena + *used;
	*used += k;
	return p;
}

/* ------------------------------------------------------------------ a capture */

/* TCP payload segments of a pcap, in order per flow (retransmissions dropped). */
struct cseg {
	uint32_t flow;
	uint8_t dir;
	uint32_t len;
	const uint8_t *data;
};

struct cflow {
	uint8_t a[2][16];
	uint16_t port[2];
	uint32_t next[2];
	bool started[2];
	void *st;
	uint8_t *pend[2];
	uint32_t have[2];
};

static struct cseg *segs;
static struct cflow *cflows;
static unsigned nsegs, ncflows, npkts;
static uint64_t cbytes;

static int load_pcap(const char *path)
{
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline(path, err);
	struct pcap_pkthdr *ph;
	const uint8_t *d;
	unsigned cap_s = 0, cap_f = 0;

	if (!p) {
		fprintf(stderr, "%s: %s\n", path, err);
		return -1;
	}
	while (pcap_next_ex(p, &ph, &d) == 1) {
		uint32_t n = ph->caplen, off = 14, ihl, l4, doff, seq;
		const uint8_t *ip, *tcp, *src, *dst;
		unsigned alen, f;
		uint16_t sp, dp, et;
		int dir = 0;

		npkts++;
		if (pcap_datalink(p) != DLT_EN10MB || n < 14 + 40)
			continue;
		et = (uint16_t)(d[12] << 8 | d[13]);
		ip = d + off;
		if (et == 0x0800) {
			ihl = (ip[0] & 15) * 4u;
			if (ip[9] != 6 || (uint32_t)(ip[2] << 8 | ip[3]) > n - off)
				continue;
			l4 = (uint32_t)(ip[2] << 8 | ip[3]) - ihl;
			src = ip + 12;
			dst = ip + 16;
			alen = 4;
			tcp = ip + ihl;
		} else if (et == 0x86dd) {
			if (ip[6] != 6 || n < off + 60)
				continue;
			l4 = (uint32_t)(ip[4] << 8 | ip[5]);
			src = ip + 8;
			dst = ip + 24;
			alen = 16;
			tcp = ip + 40;
		} else {
			continue;
		}
		sp = (uint16_t)(tcp[0] << 8 | tcp[1]);
		dp = (uint16_t)(tcp[2] << 8 | tcp[3]);
		doff = (tcp[12] >> 4) * 4u;
		seq = (uint32_t)tcp[4] << 24 | (uint32_t)tcp[5] << 16 | (uint32_t)tcp[6] << 8 |
		      tcp[7];
		if (doff < 20 || doff > l4)
			continue;
		for (f = 0; f < ncflows; f++) {
			struct cflow *c = &cflows[f];

			if (!memcmp(c->a[0], src, alen) && !memcmp(c->a[1], dst, alen) &&
			    c->port[0] == sp && c->port[1] == dp) {
				dir = 0;
				break;
			}
			if (!memcmp(c->a[1], src, alen) && !memcmp(c->a[0], dst, alen) &&
			    c->port[1] == sp && c->port[0] == dp) {
				dir = 1;
				break;
			}
		}
		if (f == ncflows) {
			if (ncflows == cap_f) {
				cap_f = cap_f ? cap_f * 2 : 1024;
				cflows = realloc(cflows, cap_f * sizeof(*cflows));
			}
			memset(&cflows[f], 0, sizeof(cflows[f]));
			memcpy(cflows[f].a[0], src, alen);
			memcpy(cflows[f].a[1], dst, alen);
			cflows[f].port[0] = sp;
			cflows[f].port[1] = dp;
			ncflows++;
		}
		if (tcp[13] & 0x02) {
			cflows[f].started[dir] = true;
			cflows[f].next[dir] = seq + 1;
			continue;
		}
		if (l4 == doff)
			continue;
		if (!cflows[f].started[dir]) {
			cflows[f].started[dir] = true;
			cflows[f].next[dir] = seq;
		}
		if (seq != cflows[f].next[dir])
			continue; /* retransmission or reordering: the bench keeps in-order data */
		cflows[f].next[dir] += l4 - doff;
		if (nsegs == cap_s) {
			cap_s = cap_s ? cap_s * 2 : 4096;
			segs = realloc(segs, cap_s * sizeof(*segs));
		}
		segs[nsegs].flow = f;
		segs[nsegs].dir = (uint8_t)dir;
		segs[nsegs].len = l4 - doff;
		segs[nsegs].data = malloc(l4 - doff);
		memcpy((void *)segs[nsegs].data, tcp + doff, l4 - doff);
		cbytes += l4 - doff;
		nsegs++;
	}
	pcap_close(p);
	return 0;
}

/* Parses every flow of the capture the parser recognises; returns events written. */
static unsigned run_capture(struct nj_al_test *t)
{
	unsigned logged = 0;

	for (unsigned f = 0; f < ncflows; f++)
		cflows[f].st = NULL;
	for (unsigned i = 0; i < nsegs; i++) {
		struct cflow *c = &cflows[segs[i].flow];
		int d = segs[i].dir;
		int32_t r;

		if (!c->st) {
			if (c->have[0] == UINT32_MAX ||
			    P->probe(segs[i].data, segs[i].len, d) != 1) {
				c->have[0] = UINT32_MAX; /* not TLS: ignored */
				continue;
			}
			c->st = P->state_new();
			c->have[0] = c->have[1] = 0;
			c->pend[0] = c->pend[1] = NULL;
		}
		if (c->have[d]) {
			/* this flow's leftovers: presented again with the new bytes */
			memcpy(c->pend[d] + c->have[d], segs[i].data, segs[i].len);
			c->have[d] += segs[i].len;
			r = P->parse(c->st, t->ctx, d, c->pend[d], c->have[d]);
			if (r >= 0) {
				memmove(c->pend[d], c->pend[d] + r, c->have[d] - (uint32_t)r);
				c->have[d] -= (uint32_t)r;
			}
		} else {
			r = P->parse(c->st, t->ctx, d, segs[i].data, segs[i].len);
			if (r >= 0 && (uint32_t)r < segs[i].len) {
				if (!c->pend[d])
					c->pend[d] = malloc(1 << 16);
				memcpy(c->pend[d], segs[i].data + r, segs[i].len - (uint32_t)r);
				c->have[d] = segs[i].len - (uint32_t)r;
			}
		}
		logged += drain(c->st, t, true);
	}
	for (unsigned f = 0; f < ncflows; f++) {
		struct cflow *c = &cflows[f];

		if (!c->st)
			continue;
		P->close(c->st, t->ctx, 0);
		P->close(c->st, t->ctx, 1);
		logged += drain(c->st, t, true);
		P->state_free(c->st);
		for (int d = 0; d < 2; d++) {
			free(c->pend[d]);
			c->pend[d] = NULL;
		}
		c->have[0] = 0;
	}
	return logged;
}

static double baseline(unsigned n)
{
	static uint8_t dst[2][16384];
	volatile uint8_t sink = 0;
	double t0 = now_s();

	for (unsigned i = 0; i < n; i++) {
		memcpy(dst[0], cs.b, cs.n);
		memcpy(dst[1], ss.b, ss.n);
		__asm__ volatile("" : : "r"(dst) : "memory");
		sink ^= dst[i & 1][i % 1000];
	}
	(void)sink;
	return now_s() - t0;
}

static void row(const char *name, double secs, unsigned n, double base)
{
	double bytes = (double)(cs.n + ss.n) * n;

	printf("%-34s %9.0f handshakes/s %9.0f ns/handshake %8.1f MB/s %8.1fx baseline\n", name,
	       n / secs, secs * 1e9 / n, bytes / secs / 1e6, base > 0 ? secs / base : 1.0);
}

int main(int argc, char **argv)
{
	unsigned n = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 20000;
	int only = argc > 2 ? atoi(argv[2]) : 0;
	struct nj_al_test *t;
	struct nj_tls_config c;
	double base, t0;

	P = nj_app_parser_by_name("tls");
	if (!P)
		return 1;
	flow.proto = 6;
	t = nj_al_test_new(&flow, NJ_EVE_TLS, 1000000);
	if (argc > 2 && !strcmp(argv[1], "--pcap")) {
		unsigned rounds = argc > 3 ? (unsigned)strtoul(argv[3], NULL, 10) : 5, ev = 0;
		static uint8_t dst[65536];
		volatile uint8_t sink = 0;
		double tp, tb;

		if (load_pcap(argv[2]) < 0)
			return 1;
		nj_tls_config_defaults(&c);
		c.ja3 = 1;
		nj_tls_config_set(&c);
		t0 = now_s();
		for (unsigned r = 0; r < rounds; r++)
			ev = run_capture(t);
		tp = (now_s() - t0) / rounds;
		t0 = now_s();
		for (unsigned r = 0; r < rounds; r++)
			for (unsigned i = 0; i < nsegs; i++) {
				memcpy(dst, segs[i].data, segs[i].len);
				__asm__ volatile("" : : "r"(dst) : "memory");
				sink ^= dst[0];
			}
		tb = (now_s() - t0) / rounds;
		(void)sink;
		printf("bench_tls --pcap %s: %u packets, %u payload segments, %llu payload bytes, "
		       "%u flows, %u tls events\n",
		       argv[2], npkts, nsegs, (unsigned long long)cbytes, ncflows, ev);
		printf("%-34s %9.1f ns/packet %9.1f ns/segment %8.1f MB/s %8.1fx baseline\n",
		       "parse + JA3 + JA4 + EVE", tp * 1e9 / npkts, tp * 1e9 / nsegs,
		       (double)cbytes / tp / 1e6, tp / tb);
		printf("%-34s %9.1f ns/packet %9.1f ns/segment %8.1f MB/s\n",
		       "baseline: memcpy of the payloads", tb * 1e9 / npkts, tb * 1e9 / nsegs,
		       (double)cbytes / tb / 1e6);
		return 0;
	}
	if (!n)
		return 1;
	build();
	printf("bench_tls: %u handshakes, %u + %u bytes each (client + server), "
	       "certificate chain 2 x RSA-2048\n",
	       n, cs.n, ss.n);
	nj_tls_config_defaults(&c);
	c.ja3 = 0;
	nj_tls_config_set(&c);
	if (handshake(t, true) != 1) {
		fprintf(stderr, "bench_tls: the exchange was not logged once\n");
		for (unsigned i = 0; i < t->nevents && i < NJ_AL_TEST_MAX_EVENTS; i++)
			fprintf(stderr, "  event %s\n", t->events[i]);
		return 1;
	}
	base = baseline(n * 10) / 10;
	if (!only || only == 1)
		row("baseline: memcpy of the bytes", base, n, base);
	if (!only || only == 2) {
		t0 = now_s();
		for (unsigned i = 0; i < n; i++)
			handshake(t, false);
		row("parse (JA4, no JA3)", now_s() - t0, n, base);
	}
	if (!only || only == 3) {
		c.ja3 = 1;
		nj_tls_config_set(&c);
		t0 = now_s();
		for (unsigned i = 0; i < n; i++)
			handshake(t, false);
		row("parse + JA3/JA3S", now_s() - t0, n, base);
	}
	if (!only || only == 4) {
		c.ja3 = 1;
		c.fields |= NJ_TLS_LOG_CHAIN | NJ_TLS_LOG_CLIENT_HANDSHAKE |
			    NJ_TLS_LOG_SERVER_HANDSHAKE;
		nj_tls_config_set(&c);
		t0 = now_s();
		for (unsigned i = 0; i < n; i++)
			handshake(t, true);
		row("parse + JA3 + EVE (extended+chain)", now_s() - t0, n, base);
	}
	if (!only || only == 5) {
		struct nj_tls_cert cert;
		size_t used;

		t0 = now_s();
		for (unsigned i = 0; i < n; i++) {
			used = 0;
			nj_tls_x509_decode(leaf, leaf_len, &cert, bump, &used, 64);
		}
		row("leaf certificate decode only", now_s() - t0, n, base);
	}
	nj_al_test_free(t);
	OPENSSL_free(leaf);
	return 0;
}
