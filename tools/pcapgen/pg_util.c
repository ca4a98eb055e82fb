/* SPDX-License-Identifier: MIT */
/*
 * Byte buffers, the pcap writer, hosts and the shared content pools.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "pg.h"

void pg_rand_fill(struct pg_rng *r, void *dst, size_t n)
{
	uint8_t *d = dst;

	while (n >= 8) {
		uint64_t v = pg_rand(r);

		memcpy(d, &v, 8);
		d += 8;
		n -= 8;
	}
	if (n) {
		uint64_t v = pg_rand(r);

		memcpy(d, &v, n);
	}
}

/* Allocation failure has no sensible recovery in a generator: stop cleanly. */
static void *pg_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n);

	if (!q) {
		fprintf(stderr, "pcapgen: out of memory\n");
		exit(2);
	}
	return q;
}

void pg_buf_reserve(struct pg_buf *b, size_t extra)
{
	size_t need = b->len + extra;

	if (need <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 256;

	while (cap < need)
		cap *= 2;
	b->p = pg_xrealloc(b->p, cap);
	b->cap = cap;
}

void pg_buf_put(struct pg_buf *b, const void *d, size_t n)
{
	pg_buf_reserve(b, n);
	memcpy(b->p + b->len, d, n);
	b->len += n;
}

void pg_buf_puts(struct pg_buf *b, const char *s)
{
	pg_buf_put(b, s, strlen(s));
}

void pg_buf_printf(struct pg_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	pg_buf_reserve(b, 128);
	va_start(ap, fmt);
	n = vsnprintf((char *)b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= b->cap - b->len) {
		pg_buf_reserve(b, (size_t)n + 1);
		va_start(ap, fmt);
		vsnprintf((char *)b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
}

void pg_buf_u8(struct pg_buf *b, uint8_t v)
{
	pg_buf_put(b, &v, 1);
}

void pg_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

void pg_put_be24(uint8_t *p, uint32_t v)
{
	p[0] = (v >> 16) & 0xff;
	p[1] = (v >> 8) & 0xff;
	p[2] = v & 0xff;
}

void pg_put_le16(uint8_t *p, uint16_t v)
{
	p[0] = v & 0xff;
	p[1] = v >> 8;
}

void pg_put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (v >> (8 * i)) & 0xff;
}

void pg_buf_be16(struct pg_buf *b, uint16_t v)
{
	pg_buf_reserve(b, 2);
	pg_put_be16(b->p + b->len, v);
	b->len += 2;
}

void pg_buf_be24(struct pg_buf *b, uint32_t v)
{
	pg_buf_reserve(b, 3);
	pg_put_be24(b->p + b->len, v);
	b->len += 3;
}

void pg_buf_be32(struct pg_buf *b, uint32_t v)
{
	pg_buf_be16(b, v >> 16);
	pg_buf_be16(b, v & 0xffff);
}

void pg_buf_le16(struct pg_buf *b, uint16_t v)
{
	pg_buf_reserve(b, 2);
	pg_put_le16(b->p + b->len, v);
	b->len += 2;
}

void pg_buf_le32(struct pg_buf *b, uint32_t v)
{
	pg_buf_reserve(b, 4);
	pg_put_le32(b->p + b->len, v);
	b->len += 4;
}

void pg_buf_le64(struct pg_buf *b, uint64_t v)
{
	pg_buf_le32(b, v & 0xffffffffu);
	pg_buf_le32(b, v >> 32);
}

void pg_buf_zero(struct pg_buf *b, size_t n)
{
	pg_buf_reserve(b, n);
	memset(b->p + b->len, 0, n);
	b->len += n;
}

void pg_buf_utf16(struct pg_buf *b, const char *ascii)
{
	for (; *ascii; ascii++)
		pg_buf_le16(b, (uint8_t)*ascii);
}

void pg_buf_free(struct pg_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

/* ---- pcap writer ---- */

#define PG_OUT_BUF (8u << 20)

static void pg_out_flush(struct pg_out *o)
{
	if (o->len && fwrite(o->buf, 1, o->len, o->fp) != o->len)
		o->error = 1;
	o->len = 0;
}

static void pg_le32(uint8_t *p, uint32_t v)
{
	pg_put_le32(p, v);
}

int pg_out_open(struct pg_out *o, const char *path)
{
	uint8_t hdr[24];

	memset(o, 0, sizeof(*o));
	o->fp = fopen(path, "wb");
	if (!o->fp)
		return -1;
	/* Our buffer batches records; stdio's own buffering would only copy again. */
	setvbuf(o->fp, NULL, _IONBF, 0);
	o->cap = PG_OUT_BUF;
	o->buf = pg_xrealloc(NULL, o->cap);
	pg_le32(hdr, 0xa1b2c3d4);
	pg_put_le16(hdr + 4, 2);
	pg_put_le16(hdr + 6, 4);
	pg_le32(hdr + 8, 0);
	pg_le32(hdr + 12, 0);
	pg_le32(hdr + 16, 262144);
	pg_le32(hdr + 20, 1); /* LINKTYPE_ETHERNET */
	memcpy(o->buf, hdr, sizeof(hdr));
	o->len = sizeof(hdr);
	o->bytes = sizeof(hdr);
	return 0;
}

uint8_t *pg_out_packet(struct pg_out *o, uint64_t ts_us, size_t len)
{
	uint8_t *p;

	if (o->len + 16 + len > o->cap)
		pg_out_flush(o);
	p = o->buf + o->len;
	pg_le32(p, (uint32_t)(ts_us / 1000000));
	pg_le32(p + 4, (uint32_t)(ts_us % 1000000));
	pg_le32(p + 8, (uint32_t)len);
	pg_le32(p + 12, (uint32_t)len);
	o->len += 16 + len;
	o->packets++;
	o->bytes += 16 + len;
	return p + 16;
}

int pg_out_close(struct pg_out *o)
{
	int err;

	pg_out_flush(o);
	err = o->error;
	if (fclose(o->fp) != 0)
		err = 1;
	free(o->buf);
	o->buf = NULL;
	return err ? -1 : 0;
}

/* ---- hosts ---- */

/* Locally administered MAC built from the address, so one IP = one MAC. */
static void pg_mac_from(uint8_t mac[6], const uint8_t *ip, size_t iplen)
{
	mac[0] = 0x02;
	mac[1] = iplen == 16 ? 0x66 : 0x44;
	memcpy(mac + 2, ip + iplen - 4, 4);
}

void pg_host_v4(struct pg_host *h, uint32_t ip, uint8_t ttl)
{
	memset(h, 0, sizeof(*h));
	h->ip[0] = ip >> 24;
	h->ip[1] = ip >> 16;
	h->ip[2] = ip >> 8;
	h->ip[3] = ip;
	h->ttl = ttl;
	pg_mac_from(h->mac, h->ip, 4);
}

void pg_host_v6(struct pg_host *h, const uint8_t ip[16], uint8_t ttl)
{
	memset(h, 0, sizeof(*h));
	h->v6 = true;
	memcpy(h->ip, ip, 16);
	h->ttl = ttl;
	pg_mac_from(h->mac, h->ip, 16);
}

void pg_ip_str(const struct pg_host *h, char *dst, size_t n)
{
	if (!h->v6) {
		snprintf(dst, n, "%u.%u.%u.%u", h->ip[0], h->ip[1], h->ip[2], h->ip[3]);
		return;
	}
	snprintf(dst, n, "%x:%x:%x:%x:%x:%x:%x:%x", h->ip[0] << 8 | h->ip[1],
		 h->ip[2] << 8 | h->ip[3], h->ip[4] << 8 | h->ip[5], h->ip[6] << 8 | h->ip[7],
		 h->ip[8] << 8 | h->ip[9], h->ip[10] << 8 | h->ip[11], h->ip[12] << 8 | h->ip[13],
		 h->ip[14] << 8 | h->ip[15]);
}

FILE *pg_truth_fp;

void pg_truth(const struct pg_flow *f, const char *fmt, ...)
{
	char c[64], d[64];
	va_list ap;

	if (!pg_truth_fp)
		return;
	pg_ip_str(&f->cli_h, c, sizeof(c));
	pg_ip_str(&f->srv_h, d, sizeof(d));
	fprintf(pg_truth_fp,
		"{\"flow\":%llu,\"proto\":%d,\"src_ip\":\"%s\",\"src_port\":%u,\"dest_ip\":\"%s\","
		"\"dest_port\":%u",
		(unsigned long long)f->id, f->app->proto, c, f->cport, d, f->sport);
	va_start(ap, fmt);
	vfprintf(pg_truth_fp, fmt, ap);
	va_end(ap);
	fputs("}\n", pg_truth_fp);
}

/* ---- content pools ---- */

const uint8_t *pg_pool_rand;
const char *pg_pool_text;

static const char *const pg_words[] = {
	"network",   "policy",	 "update",	  "customer", "account",  "service",  "report",
	"order",     "shipping", "weather",	  "market",   "travel",	  "science",  "research",
	"quarterly", "results",	 "community",	  "support",  "download", "release",  "notes",
	"security",  "privacy",	 "terms",	  "contact",  "about",	  "careers",  "product",
	"pricing",   "features", "documentation", "garden",   "recipe",	  "football", "election",
	"museum",    "history",	 "energy",	  "climate",  "city",	  "council",  "library",
	"student",   "course",	 "online",	  "mobile",   "cloud",	  "storage",  "backup",
	"invoice",   "payment",	 "delivery",	  "review",   "rating",
};

const char *pg_pick(struct pg_rng *r, const char *const *list, size_t n)
{
	return list[pg_rand(r) % n];
}

void pg_pools_init(uint64_t seed)
{
	struct pg_rng r;
	uint8_t *rnd = pg_xrealloc(NULL, PG_POOL_RAND);
	char *txt = pg_xrealloc(NULL, PG_POOL_TEXT + 1);
	size_t n = 0;

	pg_rng_seed(&r, seed, 0x706f6f6c);
	pg_rand_fill(&r, rnd, PG_POOL_RAND);
	/* Paragraphs of words: compressible like real pages, cheap to slice. */
	while (n < PG_POOL_TEXT) {
		char para[1024];
		size_t pl = 0;
		int words = (int)pg_range(&r, 20, 80);

		pl += (size_t)snprintf(para + pl, sizeof(para) - pl, "<p class=\"%s\">",
				       PG_PICK(&r, pg_words));
		for (int i = 0; i < words && pl < sizeof(para) - 40; i++)
			pl += (size_t)snprintf(para + pl, sizeof(para) - pl, "%s%s", i ? " " : "",
					       PG_PICK(&r, pg_words));
		pl += (size_t)snprintf(para + pl, sizeof(para) - pl, ".</p>\n");
		if (n + pl > PG_POOL_TEXT)
			pl = PG_POOL_TEXT - n;
		memcpy(txt + n, para, pl);
		n += pl;
	}
	txt[PG_POOL_TEXT] = 0;
	pg_pool_rand = rnd;
	pg_pool_text = txt;
}
