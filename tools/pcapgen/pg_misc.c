/* SPDX-License-Identifier: MIT */
/*
 * ICMP echo (Linux and Windows style payloads), the periodic beacon, and
 * NTP client/server exchanges as UDP background noise.
 */
#include <string.h>

#include "pg.h"

struct icmp_st {
	uint32_t count;
	uint32_t i;
	bool reply_next;
	bool windows;
	uint16_t seq0;
	uint8_t payload[64];
	size_t plen;
};

static void icmp_payload(struct pg_flow *f, struct icmp_st *s)
{
	if (s->windows) {
		static const char w[] = "abcdefghijklmnopqrstuvwabcdefghi";

		memcpy(s->payload, w, 32);
		s->plen = 32;
		return;
	}
	/* Linux ping: struct timeval then 0x10, 0x11, ... */
	uint64_t sec = f->ts / 1000000, usec = f->ts % 1000000;

	for (int i = 0; i < 8; i++) {
		s->payload[i] = (uint8_t)(sec >> (8 * i));
		s->payload[8 + i] = (uint8_t)(usec >> (8 * i));
	}
	for (int i = 16; i < 56; i++)
		s->payload[i] = (uint8_t)(i - 8);
	s->plen = 56;
}

static bool icmp_next(struct pg_flow *f, struct pg_msg *m)
{
	struct icmp_st *s = f->st;
	bool beacon = f->variant == PG_VAR_BEACON;

	if (!s->count) {
		if (beacon) {
			s->count = pg_beacon_cfg.count;
			s->windows = true;
			s->seq0 = (uint16_t)pg_range(&f->rng, 1, 2000);
		} else {
			s->count = (uint32_t)pg_range(&f->rng, 1, 6);
			s->windows = pg_chance(&f->rng, 40);
			s->seq0 = s->windows ? (uint16_t)pg_range(&f->rng, 1, 5000) : 1;
		}
		if (!s->count)
			return false;
	}
	if (!s->reply_next) {
		if (s->i >= s->count)
			return false;
		m->dir = PG_C2S;
		if (s->i == 0) {
			m->delay_us = 0;
		} else if (beacon) {
			uint64_t iv = (uint64_t)pg_beacon_cfg.interval_s * 1000000ULL;
			uint64_t j = iv * pg_beacon_cfg.jitter_pct / 100;

			m->delay_us = iv - j + pg_range(&f->rng, 0, 2 * j);
		} else {
			m->delay_us = 1000000 - f->rtt_us + pg_range(&f->rng, 0, 400);
		}
		/* the payload carries the send time, so build it for that instant */
		uint64_t saved = f->ts;

		f->ts += m->delay_us;
		icmp_payload(f, s);
		f->ts = saved;
		s->reply_next = true;
	} else {
		m->dir = PG_S2C;
		m->delay_us = pg_range(&f->rng, 10, 200);
		s->reply_next = false;
	}
	/* a reply carries its request's sequence number */
	m->icmp_seq = (uint16_t)(s->seq0 + s->i);
	if (m->dir == PG_S2C)
		s->i++;
	m->a = s->payload;
	m->alen = s->plen;
	m->no_split = true;
	/* some pings go unanswered */
	if (m->dir == PG_S2C && !beacon && pg_chance(&f->rng, 3))
		return icmp_next(f, m);
	return true;
}

const struct pg_app_ops pg_app_icmp = {
	.name = "icmp",
	.proto = PG_ICMP,
	.port = 0,
	.state_size = sizeof(struct icmp_st),
	.next = icmp_next,
};

/* ---- NTP ---- */

struct ntp_st {
	int n;
	int i;
	bool reply_next;
	uint8_t pkt[48];
	uint8_t xmit[8];
};

static void ntp_ts(uint8_t *p, uint64_t us)
{
	uint32_t sec = (uint32_t)(us / 1000000 + 2208988800ULL);
	uint32_t frac = (uint32_t)(((us % 1000000) << 32) / 1000000);

	pg_put_be16(p, sec >> 16);
	pg_put_be16(p + 2, sec & 0xffff);
	pg_put_be16(p + 4, frac >> 16);
	pg_put_be16(p + 6, frac & 0xffff);
}

static bool ntp_next(struct pg_flow *f, struct pg_msg *m)
{
	struct ntp_st *s = f->st;

	if (!s->n)
		s->n = (int)pg_range(&f->rng, 1, 2);
	memset(s->pkt, 0, sizeof(s->pkt));
	if (!s->reply_next) {
		if (s->i >= s->n)
			return false;
		m->dir = PG_C2S;
		m->delay_us = s->i ? pg_range(&f->rng, 1000000, 2000000) : 0;
		s->pkt[0] = 0x23; /* LI 0, version 4, client */
		ntp_ts(s->xmit, f->ts + m->delay_us);
		memcpy(s->pkt + 40, s->xmit, 8);
		s->reply_next = true;
	} else {
		uint64_t now = f->ts + f->rtt_us;

		m->dir = PG_S2C;
		m->delay_us = 0;
		s->pkt[0] = 0x24; /* server */
		s->pkt[1] = 2;	  /* stratum */
		s->pkt[2] = 3;
		s->pkt[3] = 0xe9; /* precision 2^-23 */
		pg_put_be16(s->pkt + 6, 0x0123);
		pg_put_be16(s->pkt + 10, 0x0456);
		memcpy(s->pkt + 12, "\x0a\x14\x1e\x28", 4);
		ntp_ts(s->pkt + 16, now - 64000000);
		memcpy(s->pkt + 24, s->xmit, 8);
		ntp_ts(s->pkt + 32, now - f->rtt_us / 2);
		ntp_ts(s->pkt + 40, now - f->rtt_us / 2 + 20);
		s->reply_next = false;
		s->i++;
	}
	m->a = s->pkt;
	m->alen = 48;
	m->no_split = true;
	return true;
}

const struct pg_app_ops pg_app_ntp = {
	.name = "ntp",
	.proto = PG_UDP,
	.port = 123,
	.state_size = sizeof(struct ntp_st),
	.next = ntp_next,
};
