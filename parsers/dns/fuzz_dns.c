/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target for the DNS parser: message decoding, probing, UDP and TCP
 * parsing (split at input-chosen points), pairing modes, and the EVE writer
 * in both versions.
 *
 * libFuzzer: clang -fsanitize=fuzzer,address,undefined -DNJ_LIBFUZZER with the
 * njcore sources. Without NJ_LIBFUZZER it is its own driver: with file
 * arguments it runs each file once; without, it mutates built-in seed
 * messages deterministically (NJ_DNS_FUZZ_ITERS iterations, default 20000),
 * which is how it runs as a unit test.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../dataplane/flow.h"
#include "dns.h"

static struct nj_flow flow_tcp, flow_udp;
static struct nj_al_test *t_tcp, *t_udp;

static void drain(const struct nj_app_parser *p, void *st, struct nj_al_test *t, struct nj_flow *f,
		  bool all)
{
	struct nj_al_txq *q = p->txq(st);

	while (q->head && (all || (q->head->done[0] && q->head->done[1]))) {
		struct nj_al_tx *tx = q->head;

		q->head = tx->next;
		if (!q->head)
			q->tail = NULL;
		q->count--;
		if (p->log_tx) {
			p->log_tx(t->log, f, tx);
		} else {
			p->log_tx_dir(t->log, f, tx, 0);
			p->log_tx_dir(t->log, f, tx, 1);
		}
		p->tx_free(st, tx);
	}
	t->out_len = 0;
	if (t->out)
		t->out[0] = 0;
	t->nevents = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct nj_app_parser *p = &nj_dns_parser;
	struct nj_dns_config cfg;
	struct nj_dns_info info;
	struct nj_dns_name qn;
	uint8_t mode;
	void *st;

	if (!t_tcp) {
		flow_tcp.proto = 6;
		flow_udp.proto = 17;
		t_tcp = nj_al_test_new(&flow_tcp, NJ_EVE_DNS, 1000000);
		t_udp = nj_al_test_new(&flow_udp, NJ_EVE_DNS, 1000000);
		if (!t_tcp || !t_udp)
			abort();
	}
	if (size < 1)
		return 0;
	mode = data[0];
	data++;
	size--;
	if (size > 70000)
		size = 70000;

	nj_dns_config_defaults(&cfg);
	cfg.paired = !(mode & 1);
	cfg.version = (mode & 2) ? 2 : 3;
	cfg.grouped = !(mode & 4);
	cfg.max_tx = (mode & 8) ? 2 : 256;
	cfg.request_timeout_s = (mode & 16) ? 1 : 0;
	nj_dns_config_set(&cfg);

	nj_dns_msg_parse(data, (uint32_t)size, &info, &qn);
	p->probe(data, (uint32_t)size, 0);

	st = p->state_new();
	if (!st)
		return 0;
	if (mode & 32) {
		/* TCP: both directions share the input; cut points from the mode byte */
		uint32_t step = 1u + (mode >> 6) * 7u, len = (uint32_t)size;
		uint8_t *buf[2] = {malloc(len + 1), malloc(len + 1)};
		uint32_t have[2] = {0, 0};

		for (uint32_t off = 0; off < len && buf[0] && buf[1]; off += step) {
			uint32_t n = len - off < step ? len - off : step;

			for (int d = 0; d < 2; d++) {
				int32_t r;

				memcpy(buf[d] + have[d], data + off, n);
				have[d] += n;
				r = p->parse(st, t_tcp->ctx, d, buf[d], have[d]);
				if (r < 0 || (uint32_t)r > have[d]) {
					have[d] = 0;
					continue;
				}
				memmove(buf[d], buf[d] + r, have[d] - (uint32_t)r);
				have[d] -= (uint32_t)r;
			}
			drain(p, st, t_tcp, &flow_tcp, false);
		}
		p->gap(st, t_tcp->ctx, 0, 10);
		p->parse(st, t_tcp->ctx, 0, data, (uint32_t)size);
		p->close(st, t_tcp->ctx, 0);
		p->close(st, t_tcp->ctx, 1);
		drain(p, st, t_tcp, &flow_tcp, true);
		free(buf[0]);
		free(buf[1]);
	} else {
		/* UDP: the input as a request, then as a response, then split in two */
		p->parse(st, t_udp->ctx, 0, data, (uint32_t)size);
		p->parse(st, t_udp->ctx, 1, data, (uint32_t)size);
		drain(p, st, t_udp, &flow_udp, false);
		if (size > 2) {
			p->parse(st, t_udp->ctx, 1, data, (uint32_t)size / 2);
			p->parse(st, t_udp->ctx, 0, data + size / 2, (uint32_t)(size - size / 2));
		}
		p->close(st, t_udp->ctx, 1);
		drain(p, st, t_udp, &flow_udp, true);
	}
	p->state_free(st);
	return 0;
}

#ifndef NJ_LIBFUZZER
/* dig www.suricata-ids.org A and its response (CNAME + 2 A); SOA/NXDOMAIN; TXT; SRV. */
static const uint8_t seed_query[] = {0x8d, 0x32, 0x01, 0x20, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
				     0x00, 0x01, 0x03, 0x77, 0x77, 0x77, 0x0c, 0x73, 0x75, 0x72,
				     0x69, 0x63, 0x61, 0x74, 0x61, 0x2d, 0x69, 0x64, 0x73, 0x03,
				     0x6f, 0x72, 0x67, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00,
				     0x29, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
static const uint8_t seed_resp[] = {
	0x8d, 0x32, 0x81, 0xa0, 0x00, 0x01, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x03, 0x77, 0x77,
	0x77, 0x0c, 0x73, 0x75, 0x72, 0x69, 0x63, 0x61, 0x74, 0x61, 0x2d, 0x69, 0x64, 0x73, 0x03,
	0x6f, 0x72, 0x67, 0x00, 0x00, 0x01, 0x00, 0x01, 0xc0, 0x0c, 0x00, 0x05, 0x00, 0x01, 0x00,
	0x00, 0x0d, 0xd8, 0x00, 0x12, 0x0c, 0x73, 0x75, 0x72, 0x69, 0x63, 0x61, 0x74, 0x61, 0x2d,
	0x69, 0x64, 0x73, 0x03, 0x6f, 0x72, 0x67, 0x00, 0xc0, 0x32, 0x00, 0x01, 0x00, 0x01, 0x00,
	0x00, 0x00, 0xf4, 0x00, 0x04, 0xc0, 0x00, 0x4e, 0x18, 0xc0, 0x32, 0x00, 0x01, 0x00, 0x01,
	0x00, 0x00, 0x00, 0xf4, 0x00, 0x04, 0xc0, 0x00, 0x4e, 0x19};
static const uint8_t seed_mixed[] = {
	/* response: SRV, TXT (2 strings), SOA in authority, OPT + RRSIG in additional */
	0x12, 0x34, 0x81, 0x80, 0x00, 0x01, 0x00, 0x02, 0x00, 0x01, 0x00, 0x02,
	/* q: _s._udp.x. SRV IN */
	0x02, '_', 's', 0x04, '_', 'u', 'd', 'p', 0x01, 'x', 0x00, 0x00, 0x21, 0x00, 0x01,
	/* SRV 10 1 5060 sip.x */
	0xc0, 0x0c, 0x00, 0x21, 0x00, 0x01, 0x00, 0x00, 0x00, 0x3c, 0x00, 0x0c, 0x00, 0x0a, 0x00,
	0x01, 0x13, 0xc4, 0x03, 's', 'i', 'p', 0xc0, 0x17,
	/* TXT "ab" "" */
	0xc0, 0x0c, 0x00, 0x10, 0x00, 0x01, 0x00, 0x00, 0x00, 0x3c, 0x00, 0x04, 0x02, 'a', 'b',
	0x00,
	/* SOA x. ns.x hm.x 1 2 3 4 5 */
	0xc0, 0x17, 0x00, 0x06, 0x00, 0x01, 0x00, 0x00, 0x00, 0x3c, 0x00, 0x1e, 0x02, 'n', 's',
	0xc0, 0x17, 0x02, 'h', 'm', 0xc0, 0x17, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02,
	0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x05,
	/* OPT with one option */
	0x00, 0x00, 0x29, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x06, 0x00, 0x0a, 0x00, 0x02,
	0xab, 0xcd,
	/* RRSIG */
	0xc0, 0x0c, 0x00, 0x2e, 0x00, 0x01, 0x00, 0x00, 0x00, 0x3c, 0x00, 0x17, 0x00, 0x21, 0x08,
	0x02, 0x00, 0x00, 0x00, 0x3c, 0x65, 0x00, 0x00, 0x00, 0x64, 0x00, 0x00, 0x00, 0x12, 0x34,
	0xc0, 0x17, 0x01, 0x02, 0x03};

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int run_file(const char *path)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *buf;
	long n;

	if (!fp)
		return -1;
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	buf = malloc(n > 0 ? (size_t)n : 1);
	if (buf && n > 0 && fread(buf, 1, (size_t)n, fp) == (size_t)n)
		LLVMFuzzerTestOneInput(buf, (size_t)n);
	free(buf);
	fclose(fp);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct {
		const uint8_t *d;
		size_t n;
	} seeds[] = {{seed_query, sizeof(seed_query)},
		     {seed_resp, sizeof(seed_resp)},
		     {seed_mixed, sizeof(seed_mixed)}};
	const char *e = getenv("NJ_DNS_FUZZ_ITERS");
	unsigned iters = e ? (unsigned)strtoul(e, NULL, 10) : 20000;
	uint8_t buf[1024];

	if (argc > 1) {
		for (int i = 1; i < argc; i++)
			if (run_file(argv[i]) < 0)
				fprintf(stderr, "%s: cannot read\n", argv[i]);
		return 0;
	}
	for (unsigned it = 0; it < iters; it++) {
		uint64_t r = next_rand();
		size_t si = r % 3, n = seeds[si].n;
		unsigned flips = 1 + (unsigned)((r >> 8) % 6);

		buf[0] = (uint8_t)(r >> 16);
		memcpy(buf + 1, seeds[si].d, n);
		for (unsigned f = 0; f < flips; f++) {
			uint64_t x = next_rand();
			size_t pos = 1 + (size_t)(x % n);

			switch ((x >> 32) % 4) {
			case 0: buf[pos] = (uint8_t)(x >> 40); break;
			case 1: buf[pos] ^= (uint8_t)(1u << ((x >> 40) % 8)); break;
			case 2: buf[pos] = (x >> 40) & 1 ? 0xc0 : 0x3f; break;
			default: n = 1 + (size_t)((x >> 40) % n); break; /* truncate */
			}
		}
		if (buf[0] & 32) {
			/* TCP: a length prefix in front, usually right */
			memmove(buf + 3, buf + 1, n);
			buf[1] = (uint8_t)(n >> 8);
			buf[2] = (uint8_t)(r >> 24) & 1 ? (uint8_t)n : (uint8_t)(n + 1);
			n += 2;
		}
		LLVMFuzzerTestOneInput(buf, n + 1);
	}
	nj_al_test_free(t_tcp);
	nj_al_test_free(t_udp);
	printf("fuzz_dns: %u inputs, no crash\n", iters);
	return 0;
}
#endif
