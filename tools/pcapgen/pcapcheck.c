/* SPDX-License-Identifier: MIT */
/*
 * pcapcheck: reads a capture with libpcap and verifies what pcapgen promises:
 * IPv4 header, TCP, UDP, ICMP and ICMPv6 checksums and length fields, time
 * order, and per-direction TCP sequence continuity. With --http-body-sha256
 * it also reassembles the (single) server-to-client stream from port 80,
 * strips the HTTP headers and prints the SHA-256 of the body.
 *
 * usage: pcapcheck [--allow-reorder] [--http-body-sha256] [--quiet] FILE
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <pcap/pcap.h>

#define PC_BUCKETS     (1u << 20)
#define PC_MAX_REPORTS 20

struct pc_dir {
	struct pc_dir *next;
	uint8_t key[37]; /* v6 flag, src, dst, sport, dport */
	uint32_t next_seq;
	bool fin;
};

struct pc_state {
	bool allow_reorder;
	bool http_sha;
	bool quiet;
	struct pc_dir **tab;
	uint64_t packets, tcp, udp, icmp, other, errors, segs;
	uint64_t last_ts;
	/* http body */
	bool body_started;
	bool body_seen_syn;
	uint32_t body_next;
	uint8_t hdr[16384];
	size_t hdr_len;
	uint64_t body_len;
	EVP_MD_CTX *sha;
};

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t acc)
{
	while (n > 1) {
		acc += be16(p);
		p += 2;
		n -= 2;
	}
	if (n)
		acc += (uint32_t)p[0] << 8;
	return acc;
}

static uint16_t fold(uint32_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)acc;
}

static void err(struct pc_state *st, const char *what)
{
	st->errors++;
	if (!st->quiet && st->errors <= PC_MAX_REPORTS)
		fprintf(stderr, "pcapcheck: packet %llu: %s\n", (unsigned long long)st->packets,
			what);
}

static uint32_t hash_key(const uint8_t *k, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ k[i]) * 16777619u;
	return h;
}

static struct pc_dir *dir_get(struct pc_state *st, const uint8_t *key, bool *created)
{
	uint32_t b = hash_key(key, 37) & (PC_BUCKETS - 1);
	struct pc_dir *d;

	for (d = st->tab[b]; d; d = d->next)
		if (!memcmp(d->key, key, 37)) {
			*created = false;
			return d;
		}
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	memcpy(d->key, key, 37);
	d->next = st->tab[b];
	st->tab[b] = d;
	*created = true;
	return d;
}

static void http_body(struct pc_state *st, const uint8_t *th, uint32_t seq, bool syn,
		      const uint8_t *pl, size_t n)
{
	if (be16(th) != 80)
		return;
	if (syn) {
		st->body_seen_syn = true;
		st->body_next = seq + 1;
		return;
	}
	if (!st->body_seen_syn || !n || seq != st->body_next)
		return; /* in-order only: this mode is for captures without reordering */
	st->body_next += (uint32_t)n;
	if (!st->body_started) {
		size_t room = sizeof(st->hdr) - st->hdr_len, k = n < room ? n : room;
		uint8_t *end;

		memcpy(st->hdr + st->hdr_len, pl, k);
		st->hdr_len += k;
		end = memmem(st->hdr, st->hdr_len, "\r\n\r\n", 4);
		if (!end)
			return;
		size_t hlen = (size_t)(end + 4 - st->hdr);

		st->body_started = true;
		EVP_DigestUpdate(st->sha, st->hdr + hlen, st->hdr_len - hlen);
		st->body_len += st->hdr_len - hlen;
		if (k < n) {
			EVP_DigestUpdate(st->sha, pl + k, n - k);
			st->body_len += n - k;
		}
		return;
	}
	EVP_DigestUpdate(st->sha, pl, n);
	st->body_len += n;
}

static void check_tcp(struct pc_state *st, bool v6, const uint8_t *src, const uint8_t *dst,
		      const uint8_t *th, size_t len)
{
	uint8_t key[37] = {0};
	struct pc_dir *d;
	bool created;
	size_t doff;
	uint32_t seq, seglen;
	uint8_t flags;

	st->tcp++;
	if (len < 20 || (doff = (size_t)(th[12] >> 4) * 4) < 20 || doff > len) {
		err(st, "bad TCP header length");
		return;
	}
	flags = th[13];
	seq = be32(th + 4);
	seglen = (uint32_t)(len - doff);
	key[0] = v6;
	memcpy(key + 1, src, v6 ? 16 : 4);
	memcpy(key + 17, dst, v6 ? 16 : 4);
	memcpy(key + 33, th, 4);
	if (st->http_sha)
		http_body(st, th, seq, flags & 0x02, th + doff, seglen);
	d = dir_get(st, key, &created);
	if (!d)
		return;
	if (seglen)
		st->segs++;
	if (flags & 0x02) {
		/* a new SYN on a known 4-tuple is a new connection (port reuse) */
		d->next_seq = seq + 1;
		return;
	}
	if (created) {
		d->next_seq = seq + seglen + (flags & 0x01 ? 1 : 0);
		return;
	}
	if (flags & 0x04)
		return; /* RST: sequence is informative only */
	uint32_t end = seq + seglen + (flags & 0x01 ? 1 : 0);

	if (seq != d->next_seq) {
		if (!st->allow_reorder)
			err(st, "TCP seq is not the previous next seq of this direction");
		if ((int32_t)(end - d->next_seq) > 0)
			d->next_seq = end;
		return;
	}
	d->next_seq = end;
}

static void check_packet(struct pc_state *st, const struct pcap_pkthdr *h, const uint8_t *p)
{
	uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000 + (uint64_t)h->ts.tv_usec;
	size_t n = h->caplen, l4len;
	const uint8_t *ip, *l4, *src, *dst;
	uint32_t ph = 0;
	int proto;
	bool v6;

	st->packets++;
	if (ts < st->last_ts)
		err(st, "timestamp goes backwards");
	st->last_ts = ts;
	if (h->caplen != h->len)
		err(st, "truncated packet");
	if (n < 14) {
		err(st, "short frame");
		return;
	}
	ip = p + 14;
	n -= 14;
	if (be16(p + 12) == 0x0800) {
		size_t ihl, tot;

		v6 = false;
		if (n < 20 || (ip[0] >> 4) != 4 || (ihl = (size_t)(ip[0] & 15) * 4) < 20 ||
		    ihl > n) {
			err(st, "bad IPv4 header");
			return;
		}
		tot = be16(ip + 2);
		if (tot != n) {
			err(st, "IPv4 total length does not match the frame");
			return;
		}
		if (fold(sum16(ip, ihl, 0)) != 0xffff)
			err(st, "IPv4 header checksum");
		if (be16(ip + 6) & 0x3fff)
			err(st, "unexpected IPv4 fragment");
		proto = ip[9];
		src = ip + 12;
		dst = ip + 16;
		l4 = ip + ihl;
		l4len = tot - ihl;
		ph = sum16(src, 8, 0) + (uint32_t)proto + (uint32_t)l4len;
	} else if (be16(p + 12) == 0x86dd) {
		v6 = true;
		if (n < 40 || (ip[0] >> 4) != 6) {
			err(st, "bad IPv6 header");
			return;
		}
		if (be16(ip + 4) != n - 40) {
			err(st, "IPv6 payload length does not match the frame");
			return;
		}
		proto = ip[6];
		src = ip + 8;
		dst = ip + 24;
		l4 = ip + 40;
		l4len = n - 40;
		ph = sum16(src, 32, 0) + (uint32_t)proto + (uint32_t)l4len;
	} else {
		st->other++;
		return;
	}
	switch (proto) {
	case 6:
		if (fold(sum16(l4, l4len, ph)) != 0xffff)
			err(st, "TCP checksum");
		check_tcp(st, v6, src, dst, l4, l4len);
		break;
	case 17:
		st->udp++;
		if (l4len < 8 || be16(l4 + 4) != l4len) {
			err(st, "UDP length");
			break;
		}
		if ((be16(l4 + 6) || v6) && fold(sum16(l4, l4len, ph)) != 0xffff)
			err(st, "UDP checksum");
		break;
	case 1:
		st->icmp++;
		if (v6 || l4len < 8 || fold(sum16(l4, l4len, 0)) != 0xffff)
			err(st, "ICMP checksum");
		break;
	case 58:
		st->icmp++;
		if (!v6 || l4len < 8 || fold(sum16(l4, l4len, ph)) != 0xffff)
			err(st, "ICMPv6 checksum");
		break;
	default: st->other++; break;
	}
}

int main(int argc, char **argv)
{
	struct pc_state st;
	char ebuf[PCAP_ERRBUF_SIZE];
	const char *file = NULL;
	struct pcap_pkthdr *h;
	const u_char *data;
	pcap_t *pc;
	int rc;

	memset(&st, 0, sizeof(st));
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--allow-reorder"))
			st.allow_reorder = true;
		else if (!strcmp(argv[i], "--http-body-sha256"))
			st.http_sha = true;
		else if (!strcmp(argv[i], "--quiet"))
			st.quiet = true;
		else if (argv[i][0] != '-' && !file)
			file = argv[i];
		else {
			fprintf(stderr, "usage: pcapcheck [--allow-reorder] [--http-body-sha256] "
					"[--quiet] FILE\n");
			return 2;
		}
	}
	if (!file) {
		fprintf(stderr,
			"usage: pcapcheck [--allow-reorder] [--http-body-sha256] [--quiet] FILE\n");
		return 2;
	}
	pc = pcap_open_offline(file, ebuf);
	if (!pc) {
		fprintf(stderr, "pcapcheck: %s\n", ebuf);
		return 2;
	}
	if (pcap_datalink(pc) != DLT_EN10MB) {
		fprintf(stderr, "pcapcheck: not an Ethernet capture\n");
		pcap_close(pc);
		return 1;
	}
	st.tab = calloc(PC_BUCKETS, sizeof(*st.tab));
	st.sha = EVP_MD_CTX_new();
	if (!st.tab || !st.sha || !EVP_DigestInit_ex(st.sha, EVP_sha256(), NULL)) {
		fprintf(stderr, "pcapcheck: out of memory\n");
		return 2;
	}
	while ((rc = pcap_next_ex(pc, &h, &data)) == 1)
		check_packet(&st, h, data);
	if (rc == PCAP_ERROR) {
		fprintf(stderr, "pcapcheck: %s\n", pcap_geterr(pc));
		st.errors++;
	}
	pcap_close(pc);
	if (st.http_sha) {
		unsigned char md[32];
		unsigned int mdlen = 0;

		EVP_DigestFinal_ex(st.sha, md, &mdlen);
		printf("http-body size %llu sha256 ", (unsigned long long)st.body_len);
		for (unsigned int i = 0; i < mdlen; i++)
			printf("%02x", md[i]);
		printf("\n");
	}
	fprintf(stderr,
		"pcapcheck: %llu packets (tcp %llu, data segments %llu, udp %llu, icmp %llu, other "
		"%llu), %llu errors\n",
		(unsigned long long)st.packets, (unsigned long long)st.tcp,
		(unsigned long long)st.segs, (unsigned long long)st.udp,
		(unsigned long long)st.icmp, (unsigned long long)st.other,
		(unsigned long long)st.errors);
	for (size_t i = 0; i < PC_BUCKETS; i++) {
		struct pc_dir *d = st.tab[i], *nx;

		for (; d; d = nx) {
			nx = d->next;
			free(d);
		}
	}
	free(st.tab);
	EVP_MD_CTX_free(st.sha);
	return st.errors ? 1 : 0;
}
