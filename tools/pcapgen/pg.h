/* SPDX-License-Identifier: MIT */
/*
 * pcapgen: deterministic generator of realistic traffic.
 *
 * A flow is a sequence of application messages (struct pg_msg) produced on
 * demand by a protocol (struct pg_app_ops). The flow engine turns messages
 * into packets one at a time (TCP segmentation, ACKs, handshakes), and a
 * scheduler interleaves flows by timestamp, so the capture is written in
 * time order while only the active flows are held in memory.
 */
#ifndef PG_H
#define PG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- PRNG: splitmix64 to seed, xoshiro256** to draw. Never rand(). ---- */
struct pg_rng {
	uint64_t s[4];
};

static inline uint64_t pg_splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline void pg_rng_seed(struct pg_rng *r, uint64_t seed, uint64_t stream)
{
	uint64_t x = seed ^ (stream * 0xd1b54a32d192ed03ULL);

	for (int i = 0; i < 4; i++)
		r->s[i] = pg_splitmix64(&x);
}

static inline uint64_t pg_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static inline uint64_t pg_rand(struct pg_rng *r)
{
	uint64_t *s = r->s;
	uint64_t res = pg_rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = pg_rotl(s[3], 45);
	return res;
}

/* Uniform in [lo, hi] (inclusive); the tiny modulo bias does not matter here. */
static inline uint64_t pg_range(struct pg_rng *r, uint64_t lo, uint64_t hi)
{
	if (hi <= lo)
		return lo;
	return lo + pg_rand(r) % (hi - lo + 1);
}

static inline bool pg_chance(struct pg_rng *r, unsigned int pct)
{
	return pg_rand(r) % 100 < pct;
}

void pg_rand_fill(struct pg_rng *r, void *dst, size_t n);

/* ---- Growable byte buffer used by protocols to build messages. ---- */
struct pg_buf {
	uint8_t *p;
	size_t len;
	size_t cap;
};

void pg_buf_reserve(struct pg_buf *b, size_t extra);
void pg_buf_put(struct pg_buf *b, const void *d, size_t n);
void pg_buf_puts(struct pg_buf *b, const char *s);
void pg_buf_printf(struct pg_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void pg_buf_u8(struct pg_buf *b, uint8_t v);
void pg_buf_be16(struct pg_buf *b, uint16_t v);
void pg_buf_be24(struct pg_buf *b, uint32_t v);
void pg_buf_be32(struct pg_buf *b, uint32_t v);
void pg_buf_le16(struct pg_buf *b, uint16_t v);
void pg_buf_le32(struct pg_buf *b, uint32_t v);
void pg_buf_le64(struct pg_buf *b, uint64_t v);
void pg_buf_zero(struct pg_buf *b, size_t n);
void pg_buf_utf16(struct pg_buf *b, const char *ascii);
void pg_buf_free(struct pg_buf *b);
static inline void pg_buf_reset(struct pg_buf *b)
{
	b->len = 0;
}
/* Patch helpers for length fields written before the contents are known. */
void pg_put_be16(uint8_t *p, uint16_t v);
void pg_put_be24(uint8_t *p, uint32_t v);
void pg_put_le16(uint8_t *p, uint16_t v);
void pg_put_le32(uint8_t *p, uint32_t v);

/* ---- pcap output with its own large write buffer. ---- */
struct pg_out {
	FILE *fp;
	uint8_t *buf;
	size_t len;
	size_t cap;
	uint64_t packets;
	uint64_t bytes;
	int error;
};

int pg_out_open(struct pg_out *o, const char *path);
/* Reserve room for one record; returns the packet data pointer. */
uint8_t *pg_out_packet(struct pg_out *o, uint64_t ts_us, size_t len);
int pg_out_close(struct pg_out *o);

/* ---- Hosts ---- */
struct pg_host {
	bool v6;
	uint8_t ip[16]; /* IPv4 in the first 4 bytes */
	uint8_t mac[6];
	uint8_t ttl;
};

void pg_host_v4(struct pg_host *h, uint32_t ip, uint8_t ttl);
void pg_host_v6(struct pg_host *h, const uint8_t ip[16], uint8_t ttl);
void pg_ip_str(const struct pg_host *h, char *dst, size_t n);

/*
 * Ground truth (--truth FILE): one JSON line per application exchange that
 * the generator wrote, with the flow's client/server tuple and the values a
 * parser must find ("app":"http","method":..,"url":..). Tests compare the
 * sensor's EVE output against it. fmt continues the object after the tuple
 * (starting with a comma); strings passed must not need JSON escaping.
 */
extern FILE *pg_truth_fp;
struct pg_flow;
struct pg_ep_flow;
void pg_truth(const struct pg_flow *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

struct pg_server {
	const char *name; /* DNS name, SNI, HTTP Host */
	struct pg_host h4;
	struct pg_host h6;
	uint32_t rtt_us;
	int cert_idx; /* TLS certificate chain index */
};

/* ---- Application messages and protocol ops ---- */
enum { PG_C2S = 0, PG_S2C = 1 };
enum { PG_TCP = 6, PG_UDP = 17, PG_ICMP = 1 };
enum pg_close { PG_CLOSE_CFIN = 0, PG_CLOSE_SFIN, PG_CLOSE_RST, PG_CLOSE_NONE };

struct pg_flow;

/*
 * One application message: the bytes of part a followed by part b. Part b is
 * either memory or, when b is NULL, produced sequentially by gen (used for
 * files too large to hold). Pointers stay valid until the next call to next().
 */
struct pg_msg {
	int dir;
	uint64_t delay_us; /* think or processing time before it is sent */
	const uint8_t *a;
	size_t alen;
	const uint8_t *b;
	size_t blen;
	void (*gen)(struct pg_flow *f, uint8_t *dst, size_t n);
	uint16_t icmp_seq;
	bool no_split; /* never reorder or duplicate (e.g. UDP) */
};

struct pg_app_ops {
	const char *name;
	int proto;
	uint16_t port;
	size_t state_size;
	/* Fill *m and return true, or return false when the conversation ends. */
	bool (*next)(struct pg_flow *f, struct pg_msg *m);
	void (*fini)(struct pg_flow *f);
};

/* Options that shape every flow (set once by main). */
struct pg_opts {
	uint64_t seed;
	uint32_t mss;
	unsigned int reorder_pct;
	unsigned int dup_pct;
	unsigned int ipv6_pct;
	uint64_t http_file_size;
	uint64_t smb_file_size;
	int scenario; /* enum pg_scenario */
	uint64_t start_us;
};

enum pg_scenario { PG_SC_CUSTOM = 0, PG_SC_DEFAULT, PG_SC_BENCH, PG_SC_HTTP_FILE, PG_SC_GIVEN };

extern struct pg_opts pg_opts;

/* Variants a scenario can force on a flow (0 = random). */
enum {
	PG_VAR_RANDOM = 0,
	PG_VAR_HTTP_CHUNKED_GZIP,
	PG_VAR_HTTP_FILE,
	PG_VAR_TLS12,
	PG_VAR_TLS13,
	PG_VAR_DNS_TCP,
	PG_VAR_BEACON,
	PG_VAR_BENCH,
	PG_VAR_GIVEN, /* carries a file given on the command line (f->given) */
};

/*
 * A file given with --http-file / --smb-file (pg_given.c): read whole at
 * start-up, carried by one flow of its own (served as an HTTP response body,
 * or written then read back over SMB2).
 */
struct pg_given {
	const char *name; /* base name of the path */
	uint8_t *data;
	size_t len;
};
int pg_given_load(struct pg_given *g, const char *path);
void pg_given_free(struct pg_given *g);

struct pg_flow {
	uint64_t ts; /* timestamp of the next packet (us) */
	uint64_t id;
	struct pg_rng rng;
	const struct pg_app_ops *app;
	void *st; /* protocol state (app->state_size bytes) */
	int variant;
	const struct pg_server *srv;
	struct pg_host cli_h;
	struct pg_host srv_h;
	uint16_t cport, sport;
	uint32_t rtt_us;
	uint32_t ns_per_byte; /* serialisation time on the wire */
	uint16_t ip_id[2];
	uint16_t icmp_id;
	bool v6;
	const struct pg_given *given; /* PG_VAR_GIVEN */

	/* engine */
	int state;
	uint32_t seq[2]; /* next sequence number per direction */
	uint16_t win[2];
	uint16_t mss;
	struct pg_msg msg;
	bool have_msg;
	uint64_t off; /* next in-order offset in msg */
	uint32_t unacked[2];
	int close;
	int closer;
	int ack_dir;	    /* pure ACK pending from this side, or -1 */
	int after_ack;	    /* state once that ACK is sent */
	uint64_t resume_ts; /* time of the packet after that ACK */
	uint64_t hole_off;  /* reorder: the segment still to send */
	uint32_t hole_len;
	bool hole;
	bool dup;
	uint64_t dup_off;
	uint32_t dup_len;
	int dup_dir;
	/* staging for generated parts */
	uint8_t *stage;
	uint64_t stage_off; /* message offset of stage[0] */
	size_t stage_len;
	uint64_t gen_done;     /* bytes of part b generated so far */
	struct pg_ep_flow *ep; /* endpoint side (pg_ep.c), NULL when off */
};

/* Engine */
void pg_flow_start(struct pg_flow *f, uint64_t ts);
/* Write the next packet; returns false when the flow has finished. */
bool pg_flow_emit(struct pg_flow *f, struct pg_out *o);
void pg_flow_free(struct pg_flow *f);

/* Shared content pools, built once from the seed. */
extern const uint8_t *pg_pool_rand; /* PG_POOL_RAND bytes of noise */
extern const char *pg_pool_text;    /* PG_POOL_TEXT bytes of HTML-ish text */
#define PG_POOL_RAND (4u << 20)
#define PG_POOL_TEXT (256u << 10)
void pg_pools_init(uint64_t seed);
const char *pg_pick(struct pg_rng *r, const char *const *list, size_t n);
#define PG_PICK(r, list) pg_pick((r), (list), sizeof(list) / sizeof((list)[0]))

/* Protocols */
extern const struct pg_app_ops pg_app_http;
extern const struct pg_app_ops pg_app_tls;
extern const struct pg_app_ops pg_app_dns;
extern const struct pg_app_ops pg_app_dns_tcp;
extern const struct pg_app_ops pg_app_smb;
extern const struct pg_app_ops pg_app_icmp;
extern const struct pg_app_ops pg_app_ntp;

int pg_http_init(void);
void pg_http_report(void);
int pg_tls_init(const struct pg_server *srv, size_t nsrv);
void pg_tls_fini(void);
const char *pg_dns_random_name(struct pg_rng *r);

/* Beacon: host pings one address periodically. */
struct pg_beacon {
	uint32_t host;
	uint32_t interval_s;
	uint32_t jitter_pct;
	uint32_t count;
};
extern struct pg_beacon pg_beacon_cfg;

#endif
