/* SPDX-License-Identifier: MIT */
/*
 * Decoder micro-benchmark: a mix of built packets (TCP/IPv4 with options,
 * VLAN, UDP/IPv6, IPv6 with extension headers, ICMP) decoded in bursts of
 * NJ_BURST for about a second, with checksum validation on and off, plus the
 * RX-core fan-out hash on its own. Prints ns/packet and Mpps.
 * Usage: bench_decode [seconds]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dataplane/decode.h"

#define NPKT 64

struct tmpl {
	uint8_t b[1600];
	uint32_t len;
};

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint32_t build(struct tmpl *t, unsigned kind, unsigned i)
{
	uint8_t *b = t->b;
	uint32_t o = 12, payload = 64 + (i * 97) % 1200;

	memset(b, 0, sizeof(t->b));
	if (kind == 1) { /* one VLAN tag */
		wr16(b + o, 0x8100);
		wr16(b + o + 2, (uint16_t)(100 + i));
		o += 4;
	}
	if (kind <= 1 || kind == 4) { /* TCP/IPv4 (kind 4: ICMP echo) */
		uint8_t proto = kind == 4 ? 1 : 6;
		uint32_t l4 = kind == 4 ? 8 + 56 : 32 + payload;

		wr16(b + o, 0x0800);
		o += 2;
		b[o] = 0x45;
		wr16(b + o + 2, (uint16_t)(20 + l4));
		b[o + 8] = 64;
		b[o + 9] = proto;
		b[o + 12] = 10;
		b[o + 15] = (uint8_t)i;
		b[o + 16] = 192;
		b[o + 19] = (uint8_t)(i * 7);
		if (kind == 4) {
			b[o + 20] = 8;
		} else {
			wr16(b + o + 20, (uint16_t)(1024 + i));
			wr16(b + o + 22, 443);
			b[o + 32] = 8 << 4;
			b[o + 33] = 0x18;
			b[o + 40] = 1;
			b[o + 41] = 1;
			b[o + 42] = 8;
			b[o + 43] = 10;
		}
		return o + 20 + l4;
	}
	/* IPv6: kind 2 plain UDP, kind 3 hop-by-hop + UDP */
	uint32_t ext = kind == 3 ? 8 : 0, l4 = 8 + payload;

	wr16(b + o, 0x86dd);
	o += 2;
	b[o] = 0x60;
	wr16(b + o + 4, (uint16_t)(ext + l4));
	b[o + 6] = kind == 3 ? 0 : 17;
	b[o + 7] = 64;
	b[o + 8] = 0x20;
	b[o + 23] = (uint8_t)i;
	b[o + 24] = 0x20;
	b[o + 39] = (uint8_t)(i * 3);
	if (kind == 3) {
		b[o + 40] = 17;
		b[o + 42] = 5;
		b[o + 43] = 2;
	}
	wr16(b + o + 40 + ext, 5353);
	wr16(b + o + 42 + ext, 53);
	wr16(b + o + 44 + ext, (uint16_t)l4);
	return o + 40 + ext + l4;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void run(const struct tmpl *t, int csum, double secs)
{
	struct nj_decode_config cfg;
	struct nj_decode_ctx *c;
	struct nj_pkt pk[NJ_BURST];
	uint64_t n = 0, sink = 0;
	double t0, t1;

	nj_decode_config_defaults(&cfg);
	cfg.checksum_validation = csum;
	c = nj_decode_create(&cfg, 0);
	if (!c) {
		fprintf(stderr, "bench_decode: cannot create a decode context\n");
		exit(1);
	}
	memset(pk, 0, sizeof(pk));
	t0 = now_s();
	do {
		for (unsigned rep = 0; rep < 256; rep++) {
			nj_decode_burst_begin(c);
			for (unsigned i = 0; i < NJ_BURST; i++) {
				const struct tmpl *s = &t[(n + i) % NPKT];

				pk[i].data = s->b;
				pk[i].len = pk[i].wire_len = s->len;
				pk[i].linktype = NJ_LINK_ETHERNET;
				nj_decode_pkt(c, &pk[i]);
				sink = sink * 31 + pk[i].hash;
			}
			n += NJ_BURST;
		}
		t1 = now_s();
	} while (t1 - t0 < secs);
	printf("decode (checksums %-3s): %8.1f ns/packet %8.2f Mpps  (%lu packets, sink %lx)\n",
	       csum ? "on" : "off", (t1 - t0) * 1e9 / (double)n, (double)n / (t1 - t0) / 1e6,
	       (unsigned long)n, (unsigned long)(sink >> 48));
	nj_decode_destroy(c);
}

static void run_fanout(const struct tmpl *t, double secs)
{
	uint64_t n = 0, sink = 0;
	double t0 = now_s(), t1;

	do {
		for (unsigned rep = 0; rep < 8192; rep++, n++)
			sink = sink * 31 + nj_decode_fanout_hash(t[n % NPKT].b, t[n % NPKT].len,
								 NJ_LINK_ETHERNET);
		t1 = now_s();
	} while (t1 - t0 < secs);
	printf("fanout hash          : %8.1f ns/packet %8.2f Mpps  (sink %lx)\n",
	       (t1 - t0) * 1e9 / (double)n, (double)n / (t1 - t0) / 1e6,
	       (unsigned long)(sink >> 48));
}

int main(int argc, char **argv)
{
	static struct tmpl t[NPKT];
	double secs = argc > 1 ? atof(argv[1]) : 1.0;

	if (secs <= 0)
		secs = 1.0;
	for (unsigned i = 0; i < NPKT; i++)
		t[i].len = build(&t[i], i % 5, i);
	printf("mix: %u packets: TCP/IPv4, VLAN TCP/IPv4, UDP/IPv6, HBH+UDP/IPv6, ICMP echo\n",
	       NPKT);
	run(t, 0, secs);
	run(t, 1, secs);
	run_fanout(t, secs / 2);
	return 0;
}
