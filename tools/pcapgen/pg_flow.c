/* SPDX-License-Identifier: MIT */
/*
 * The flow engine: turns application messages into packets, one packet per
 * call, so that many flows can be interleaved by timestamp. TCP gets a
 * three-way handshake, MSS segmentation with ACKs every second segment,
 * optional deterministic reordering and duplication, and a FIN or RST close.
 */
#include <stdlib.h>
#include <string.h>

#include "pg.h"

enum {
	ST_SYN = 0,
	ST_SYNACK,
	ST_HSACK,
	ST_DATA,
	ST_ACK,
	ST_FIN1,
	ST_FIN2,
	ST_LASTACK,
	ST_RST,
	ST_DGRAM,
	ST_DONE,
};

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10

#define PG_STAGE_CAP (256u << 10)

/* ---- checksums ---- */

/* RFC 1071 sum in host order over 8-byte words; the result is stored as-is. */
static uint64_t pg_sum(const uint8_t *p, size_t n, uint64_t acc)
{
	uint64_t v;

	while (n >= 8) {
		memcpy(&v, p, 8);
		acc += v;
		acc += acc < v;
		p += 8;
		n -= 8;
	}
	if (n) {
		v = 0;
		memcpy(&v, p, n);
		acc += v;
		acc += acc < v;
	}
	return acc;
}

static uint16_t pg_fold(uint64_t acc)
{
	acc = (acc & 0xffffffffu) + (acc >> 32);
	acc = (acc & 0xffffffffu) + (acc >> 32);
	acc = (acc & 0xffff) + (acc >> 16);
	acc = (acc & 0xffff) + (acc >> 16);
	acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)~acc;
}

/* ---- packet building ---- */

static const struct pg_host *pg_src(const struct pg_flow *f, int dir)
{
	return dir == PG_C2S ? &f->cli_h : &f->srv_h;
}

static const struct pg_host *pg_dst(const struct pg_flow *f, int dir)
{
	return dir == PG_C2S ? &f->srv_h : &f->cli_h;
}

/*
 * Write Ethernet and IP headers for an L4 segment of l4len bytes; returns the
 * L4 header pointer.
 */
static uint8_t *pg_pkt_begin(struct pg_flow *f, struct pg_out *o, int dir, int proto, size_t l4len)
{
	const struct pg_host *s = pg_src(f, dir), *d = pg_dst(f, dir);
	size_t iplen = f->v6 ? 40 : 20;
	uint8_t *p = pg_out_packet(o, f->ts, 14 + iplen + l4len);
	uint8_t *ip = p + 14;

	memcpy(p, d->mac, 6);
	memcpy(p + 6, s->mac, 6);
	if (f->v6) {
		uint32_t fl = 0x60000000u | ((uint32_t)f->id * 2654435761u & 0xfffff);

		pg_put_be16(p + 12, 0x86dd);
		pg_put_be16(ip, fl >> 16);
		pg_put_be16(ip + 2, fl & 0xffff);
		pg_put_be16(ip + 4, (uint16_t)l4len);
		ip[6] = proto == PG_ICMP ? 58 : (uint8_t)proto;
		ip[7] = s->ttl;
		memcpy(ip + 8, s->ip, 16);
		memcpy(ip + 24, d->ip, 16);
	} else {
		uint16_t c;

		pg_put_be16(p + 12, 0x0800);
		ip[0] = 0x45;
		ip[1] = 0;
		pg_put_be16(ip + 2, (uint16_t)(20 + l4len));
		pg_put_be16(ip + 4, f->ip_id[dir]++);
		pg_put_be16(ip + 6, 0x4000);
		ip[8] = s->ttl;
		ip[9] = (uint8_t)proto;
		ip[10] = ip[11] = 0;
		memcpy(ip + 12, s->ip, 4);
		memcpy(ip + 16, d->ip, 4);
		c = pg_fold(pg_sum(ip, 20, 0));
		memcpy(ip + 10, &c, 2);
	}
	return ip + iplen;
}

/* L4 checksum over the pseudo header and the segment; field at l4 + csum_off. */
static void pg_l4_csum(struct pg_flow *f, int dir, int proto, uint8_t *l4, size_t l4len,
		       size_t csum_off)
{
	const struct pg_host *s = pg_src(f, dir), *d = pg_dst(f, dir);
	uint8_t ph[40];
	uint64_t acc;
	uint16_t c;

	if (f->v6) {
		memcpy(ph, s->ip, 16);
		memcpy(ph + 16, d->ip, 16);
		pg_put_be16(ph + 32, 0);
		pg_put_be16(ph + 34, (uint16_t)l4len);
		pg_put_be16(ph + 36, 0);
		ph[38] = 0;
		ph[39] = proto == PG_ICMP ? 58 : (uint8_t)proto;
		acc = pg_sum(ph, 40, 0);
	} else if (proto == PG_ICMP) {
		acc = 0; /* ICMPv4 has no pseudo header */
	} else {
		memcpy(ph, s->ip, 4);
		memcpy(ph + 4, d->ip, 4);
		ph[8] = 0;
		ph[9] = (uint8_t)proto;
		pg_put_be16(ph + 10, (uint16_t)l4len);
		acc = pg_sum(ph, 12, 0);
	}
	l4[csum_off] = l4[csum_off + 1] = 0;
	c = pg_fold(pg_sum(l4, l4len, acc));
	if (proto == PG_UDP && c == 0)
		c = 0xffff;
	memcpy(l4 + csum_off, &c, 2);
}

/* ---- message bytes ---- */

static uint64_t pg_msg_len(const struct pg_msg *m)
{
	return m->alen + m->blen;
}

/*
 * Copy message bytes [off, off+n) to dst. Generated parts are produced in
 * order into a staging window; keep is the lowest offset that may still be
 * asked for (a reordered or duplicated segment), so the window keeps it.
 */
static void pg_msg_copy(struct pg_flow *f, uint64_t off, uint8_t *dst, size_t n, uint64_t keep)
{
	const struct pg_msg *m = &f->msg;

	if (off < m->alen) {
		size_t k = m->alen - off < n ? (size_t)(m->alen - off) : n;

		memcpy(dst, m->a + off, k);
		dst += k;
		off += k;
		n -= k;
	}
	if (!n)
		return;
	off -= m->alen;
	keep = keep > m->alen ? keep - m->alen : 0;
	if (m->b) {
		memcpy(dst, m->b + off, n);
		return;
	}
	if (!m->gen || off < f->stage_off || keep < f->stage_off) {
		memset(dst, 0, n); /* cannot happen with monotonic requests */
		return;
	}
	if (!f->stage)
		f->stage = malloc(PG_STAGE_CAP);
	if (!f->stage) {
		memset(dst, 0, n);
		return;
	}
	while (off + n > f->stage_off + f->stage_len) {
		size_t drop = keep - f->stage_off;
		size_t room, want;

		if (drop > f->stage_len)
			drop = f->stage_len;
		if (drop) {
			memmove(f->stage, f->stage + drop, f->stage_len - drop);
			f->stage_len -= drop;
			f->stage_off += drop;
		}
		room = PG_STAGE_CAP - f->stage_len;
		want = m->blen - f->gen_done < room ? (size_t)(m->blen - f->gen_done) : room;
		if (!want) {
			memset(dst, 0, n);
			return;
		}
		m->gen(f, f->stage + f->stage_len, want);
		f->stage_len += want;
		f->gen_done += want;
	}
	memcpy(dst, f->stage + (off - f->stage_off), n);
}

/* ---- TCP ---- */

static void pg_tcp_send(struct pg_flow *f, struct pg_out *o, int dir, uint8_t flags, uint32_t seq,
			uint64_t off, size_t len, uint64_t keep)
{
	size_t optlen = (flags & TCP_SYN) ? 12 : 0;
	size_t l4len = 20 + optlen + len;
	uint8_t *t = pg_pkt_begin(f, o, dir, PG_TCP, l4len);
	uint32_t ack = (flags & TCP_ACK) ? f->seq[!dir] : 0;

	pg_put_be16(t, dir == PG_C2S ? f->cport : f->sport);
	pg_put_be16(t + 2, dir == PG_C2S ? f->sport : f->cport);
	pg_put_be16(t + 4, seq >> 16);
	pg_put_be16(t + 6, seq & 0xffff);
	pg_put_be16(t + 8, ack >> 16);
	pg_put_be16(t + 10, ack & 0xffff);
	t[12] = (uint8_t)(((20 + optlen) / 4) << 4);
	t[13] = flags;
	pg_put_be16(t + 14, (flags & TCP_SYN) ? 64240 : f->win[dir]);
	pg_put_be16(t + 16, 0);
	pg_put_be16(t + 18, 0);
	if (optlen) {
		uint8_t *op = t + 20;

		op[0] = 2; /* MSS */
		op[1] = 4;
		pg_put_be16(op + 2, f->mss);
		op[4] = 1; /* NOP */
		op[5] = 3; /* window scale */
		op[6] = 3;
		op[7] = dir == PG_C2S ? 7 : 8;
		op[8] = 1;
		op[9] = 1;
		op[10] = 4; /* SACK permitted */
		op[11] = 2;
	}
	if (len)
		pg_msg_copy(f, off, t + 20 + optlen, len, keep);
	pg_l4_csum(f, dir, PG_TCP, t, l4len, 16);
}

/* Small host-stack delays, in microseconds. */
static uint64_t pg_stack_us(struct pg_flow *f)
{
	return pg_range(&f->rng, 15, 120);
}

static uint64_t pg_ser_us(const struct pg_flow *f, size_t len)
{
	uint64_t us = ((uint64_t)len + 54) * f->ns_per_byte / 1000;

	return us ? us : 1;
}

static void pg_go_close(struct pg_flow *f, uint64_t now)
{
	f->have_msg = false;
	if (f->close == PG_CLOSE_RST) {
		f->state = ST_RST;
		f->ts = now + pg_range(&f->rng, 200, 20000);
	} else if (f->close == PG_CLOSE_NONE) {
		f->state = ST_DONE;
	} else {
		f->closer = f->close == PG_CLOSE_SFIN ? PG_S2C : PG_C2S;
		f->state = ST_FIN1;
		f->ts = now + (f->closer == PG_C2S ? pg_range(&f->rng, 500, 50000)
						   : pg_range(&f->rng, 50, 2000));
	}
}

/*
 * Fetch the next message after the side prev_dir finished sending at now,
 * and decide whether a pure ACK goes first (when nothing piggybacks it soon).
 */
static void pg_tcp_next_msg(struct pg_flow *f, uint64_t now, int prev_dir)
{
	uint64_t t, next_ts;
	bool more;

	f->have_msg = false;
	memset(&f->msg, 0, sizeof(f->msg));
	more = f->app->next(f, &f->msg);
	if (more) {
		f->have_msg = true;
		f->off = 0;
		f->stage_off = 0;
		f->stage_len = 0;
		f->gen_done = 0;
		t = now + f->msg.delay_us;
		if (prev_dir == PG_C2S && f->msg.dir == PG_S2C)
			t += f->rtt_us;
		f->state = ST_DATA;
	} else {
		t = now;
		pg_go_close(f, now);
	}
	next_ts = more ? t : f->ts;
	if (prev_dir >= 0 && f->unacked[prev_dir] &&
	    (!more || (f->msg.dir == prev_dir && f->msg.delay_us > 1000) ||
	     f->msg.delay_us > 40000)) {
		uint64_t ack_ts = now + (prev_dir == PG_C2S ? f->rtt_us / 2 + 40 : pg_stack_us(f));

		f->ack_dir = !prev_dir;
		f->after_ack = f->state;
		f->state = ST_ACK;
		f->ts = ack_ts;
		f->resume_ts = next_ts > ack_ts + 10 ? next_ts : ack_ts + 10;
		return;
	}
	f->ts = next_ts;
}

static void pg_tcp_data(struct pg_flow *f, struct pg_out *o)
{
	struct pg_msg *m = &f->msg;
	int d = m->dir;
	uint64_t total = pg_msg_len(m);
	uint32_t base = f->seq[d] - (uint32_t)f->off;
	uint64_t soff;
	size_t slen;
	bool split_ok = !m->no_split;

	if (f->dup) {
		soff = f->dup_off;
		slen = f->dup_len;
		f->dup = false;
		pg_tcp_send(f, o, d, TCP_ACK | (soff + slen == total ? TCP_PSH : 0),
			    base + (uint32_t)soff, soff, slen, soff);
		split_ok = false;
	} else if (f->hole) {
		soff = f->hole_off;
		slen = f->hole_len;
		f->hole = false;
		pg_tcp_send(f, o, d, TCP_ACK, base + (uint32_t)soff, soff, slen, soff);
		f->unacked[d]++;
	} else {
		soff = f->off;
		slen = total - soff < f->mss ? (size_t)(total - soff) : f->mss;
		if (split_ok && pg_opts.reorder_pct && total - soff > f->mss &&
		    pg_chance(&f->rng, pg_opts.reorder_pct)) {
			/* send the following segment first, leave a hole */
			uint64_t s2 = soff + f->mss;
			size_t l2 = total - s2 < f->mss ? (size_t)(total - s2) : f->mss;

			f->hole = true;
			f->hole_off = soff;
			f->hole_len = f->mss;
			f->off = s2 + l2;
			f->seq[d] = base + (uint32_t)f->off;
			pg_tcp_send(f, o, d, TCP_ACK | (s2 + l2 == total ? TCP_PSH : 0),
				    base + (uint32_t)s2, s2, l2, soff);
			soff = s2;
			slen = l2;
		} else {
			f->off = soff + slen;
			f->seq[d] = base + (uint32_t)f->off;
			pg_tcp_send(f, o, d, TCP_ACK | (soff + slen == total ? TCP_PSH : 0),
				    base + (uint32_t)soff, soff, slen, soff);
		}
		f->unacked[d]++;
	}
	if (split_ok && !f->hole && pg_opts.dup_pct && pg_chance(&f->rng, pg_opts.dup_pct)) {
		f->dup = true;
		f->dup_off = soff;
		f->dup_len = (uint32_t)slen;
		f->ts += pg_range(&f->rng, 20, 200);
		return;
	}
	if (f->hole || f->dup) {
		f->ts += pg_ser_us(f, slen);
		return;
	}
	if (f->off < total) {
		if (f->unacked[d] >= 2) {
			f->ack_dir = !d;
			f->after_ack = ST_DATA;
			f->state = ST_ACK;
			f->ts += pg_stack_us(f);
			f->resume_ts = f->ts + pg_ser_us(f, slen);
			return;
		}
		f->ts += pg_ser_us(f, slen);
		return;
	}
	pg_tcp_next_msg(f, f->ts + pg_ser_us(f, slen), d);
}

/* ---- datagrams (UDP, ICMP) ---- */

static void pg_dgram_send(struct pg_flow *f, struct pg_out *o)
{
	const struct pg_msg *m = &f->msg;
	int d = m->dir;
	size_t plen = (size_t)pg_msg_len(m);
	size_t l4len = 8 + plen;
	uint8_t *u = pg_pkt_begin(f, o, d, f->app->proto, l4len);

	if (f->app->proto == PG_ICMP) {
		if (f->v6)
			u[0] = d == PG_C2S ? 128 : 129;
		else
			u[0] = d == PG_C2S ? 8 : 0;
		u[1] = 0;
		pg_put_be16(u + 4, f->icmp_id);
		pg_put_be16(u + 6, m->icmp_seq);
	} else {
		pg_put_be16(u, d == PG_C2S ? f->cport : f->sport);
		pg_put_be16(u + 2, d == PG_C2S ? f->sport : f->cport);
		pg_put_be16(u + 4, (uint16_t)l4len);
	}
	pg_msg_copy(f, 0, u + 8, plen, 0);
	pg_l4_csum(f, d, f->app->proto, u, l4len, f->app->proto == PG_ICMP ? 2 : 6);
}

static void pg_dgram_next(struct pg_flow *f, uint64_t now)
{
	int prev = f->have_msg ? f->msg.dir : -1;

	memset(&f->msg, 0, sizeof(f->msg));
	f->have_msg = f->app->next(f, &f->msg);
	if (!f->have_msg) {
		f->state = ST_DONE;
		return;
	}
	f->state = ST_DGRAM;
	f->ts = now + f->msg.delay_us;
	if (prev == PG_C2S && f->msg.dir == PG_S2C)
		f->ts += f->rtt_us;
}

/* ---- public ---- */

void pg_flow_start(struct pg_flow *f, uint64_t ts)
{
	f->ts = ts;
	f->ack_dir = -1;
	f->seq[0] = (uint32_t)pg_rand(&f->rng);
	f->seq[1] = (uint32_t)pg_rand(&f->rng);
	f->ip_id[0] = (uint16_t)pg_rand(&f->rng);
	f->ip_id[1] = (uint16_t)pg_rand(&f->rng);
	f->win[0] = (uint16_t)pg_range(&f->rng, 500, 2048);
	f->win[1] = (uint16_t)pg_range(&f->rng, 200, 1024);
	f->mss = (uint16_t)(pg_opts.mss - (f->v6 ? 20 : 0));
	if (f->app->proto == PG_TCP) {
		f->state = ST_SYN;
		return;
	}
	f->have_msg = false;
	pg_dgram_next(f, ts);
	if (f->state == ST_DGRAM)
		f->ts = ts;
}

bool pg_flow_emit(struct pg_flow *f, struct pg_out *o)
{
	switch (f->state) {
	case ST_SYN:
		pg_tcp_send(f, o, PG_C2S, TCP_SYN, f->seq[0], 0, 0, 0);
		f->seq[0]++;
		f->state = ST_SYNACK;
		f->ts += f->rtt_us;
		break;
	case ST_SYNACK:
		pg_tcp_send(f, o, PG_S2C, TCP_SYN | TCP_ACK, f->seq[1], 0, 0, 0);
		f->seq[1]++;
		f->state = ST_HSACK;
		f->ts += pg_stack_us(f);
		break;
	case ST_HSACK:
		pg_tcp_send(f, o, PG_C2S, TCP_ACK, f->seq[0], 0, 0, 0);
		pg_tcp_next_msg(f, f->ts, -1);
		break;
	case ST_DATA: pg_tcp_data(f, o); break;
	case ST_ACK:
		pg_tcp_send(f, o, f->ack_dir, TCP_ACK, f->seq[f->ack_dir], 0, 0, 0);
		f->unacked[!f->ack_dir] = 0;
		f->ack_dir = -1;
		f->state = f->after_ack;
		if (f->state == ST_DONE)
			return false;
		f->ts = f->resume_ts > f->ts ? f->resume_ts : f->ts + 1;
		break;
	case ST_FIN1:
		pg_tcp_send(f, o, f->closer, TCP_FIN | TCP_ACK, f->seq[f->closer], 0, 0, 0);
		f->seq[f->closer]++;
		f->state = ST_FIN2;
		f->ts += f->closer == PG_C2S ? f->rtt_us : pg_stack_us(f);
		break;
	case ST_FIN2:
		pg_tcp_send(f, o, !f->closer, TCP_FIN | TCP_ACK, f->seq[!f->closer], 0, 0, 0);
		f->seq[!f->closer]++;
		f->state = ST_LASTACK;
		f->ts += f->closer == PG_C2S ? pg_stack_us(f) : f->rtt_us;
		break;
	case ST_LASTACK:
		pg_tcp_send(f, o, f->closer, TCP_ACK, f->seq[f->closer], 0, 0, 0);
		f->state = ST_DONE;
		return false;
	case ST_RST:
		pg_tcp_send(f, o, PG_C2S, TCP_RST | TCP_ACK, f->seq[0], 0, 0, 0);
		f->state = ST_DONE;
		return false;
	case ST_DGRAM:
		pg_dgram_send(f, o);
		pg_dgram_next(f, f->ts);
		return f->state != ST_DONE;
	default: return false;
	}
	return f->state != ST_DONE;
}

void pg_flow_free(struct pg_flow *f)
{
	if (f->app && f->app->fini)
		f->app->fini(f);
	free(f->st);
	free(f->stage);
	free(f);
}
