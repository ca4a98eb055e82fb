/* SPDX-License-Identifier: MIT */
/*
 * EVE output system: per-handle (worker or control thread) staging buffers,
 * one single-producer single-consumer ring of preallocated frames per
 * (handle, sink), and one writer thread that moves frames to files.
 *
 * Memory is fixed at open: per handle a scratch buffer and, per sink, one
 * staging buffer plus ring_frames frame buffers (buffer_bytes each, or the
 * zstd bound of it for compressed sinks).
 *
 * Rotation names: the live file keeps its configured name; a rotated file gets
 * a UTC stamp inserted before its first extension, so that tools that pick
 * files by suffix still see ".json.zst":
 *   eve.json.zst -> eve.20170407-222437.json.zst (then .1, .2 ... on a clash
 *   within the same second: eve.20170407-222437.1.json.zst)
 * A name without an extension gets the stamp appended: eve -> eve.20170407-222437.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <zstd.h>

#include "../common/nj_common.h"
#include "../dataplane/flow.h"
#include "../dataplane/pkt.h"
#include "community_id.h"
#include "geoip.h"
#include "eve_priv.h"

/* Writer idle sleep, and the offline worker's wait for a free frame. */
#define NJ_EVE_WRITER_IDLE_NS 1000000L
#define NJ_EVE_WAIT_NS	      50000L
#define NJ_EVE_FLOW_ID_MASK   0x7ffffffffffffull

static const char *const type_names[NJ_EVE_TYPE_MAX] = {
	[NJ_EVE_ALERT] = "alert",	[NJ_EVE_ANOMALY] = "anomaly",
	[NJ_EVE_FLOW] = "flow",		[NJ_EVE_NETFLOW] = "netflow",
	[NJ_EVE_STATS] = "stats",	[NJ_EVE_HTTP] = "http",
	[NJ_EVE_DNS] = "dns",		[NJ_EVE_TLS] = "tls",
	[NJ_EVE_FILEINFO] = "fileinfo", [NJ_EVE_SMB] = "smb",
	[NJ_EVE_BEACON] = "beacon",	[NJ_EVE_PACKET] = "packet",
	[NJ_EVE_FTP] = "ftp",		[NJ_EVE_FTP_DATA] = "ftp_data",
	[NJ_EVE_OTHER] = "other",	[NJ_EVE_FAST] = "fast",
};

struct nj_eve_ring {
	_Atomic uint32_t head NJ_ALIGNED; /* frames published by the handle's thread */
	_Atomic uint32_t tail NJ_ALIGNED; /* frames consumed by the writer */
	uint32_t nframes;
	char **data;
	uint32_t *len;
};

/* One handle's view of one sink. */
struct nj_eve_out {
	struct nj_eve_ring ring;
	char *buf; /* staging: whole events, '\n'-terminated */
	uint32_t len, nev;
	uint64_t since_ms; /* tick time when the first staged event arrived */
	uint32_t types;
	int level;
	bool zstd;
};

struct nj_eve_worker {
	struct nj_eve *eve;
	struct nj_json j;
	enum nj_eve_type cur;
	uint32_t types; /* union over sinks */
	uint32_t cap;	/* buffer_bytes */
	bool offline, cid, v6c, ether;
	uint16_t seed;
	unsigned nsinks;
	char *scratch;
	ZSTD_CCtx *cctx;
	struct nj_geoip_cache *geo;    /* this handle's GeoIP cache, NULL: no enrichment */
	const char *ovr_src, *ovr_dst; /* address text replacing the next header's (XFF) */
	nj_eve_flow_meta_fn meta_fn;   /* flow variables (detection), NULL: none */
	void *meta_arg;
	uint64_t last_tick_ms;
	uint64_t ts_sec;    /* second of ts_prefix, UINT64_MAX = none */
	char ts_prefix[24]; /* "2017-04-07T22:24:37." */
	struct nj_eve_stats st;
	struct nj_eve_out out[NJ_EVE_MAX_SINKS];
	char *cap_buf; /* nj_eve_capture: commits land here, not in the sinks */
	uint32_t cap_size, *cap_len;
};

struct nj_eve_file {
	const struct nj_eve_sink_config *cfg;
	int fd;
	uint64_t bytes;	    /* in the current file */
	time_t first_write; /* when the current file got its first frame */
	uint64_t write_errors;
	bool warned;
};

struct nj_eve {
	struct nj_eve_config cfg;
	unsigned nhandles; /* workers + the control handle */
	struct nj_eve_worker **h;
	struct nj_eve_file files[NJ_EVE_MAX_SINKS];
	pthread_t writer;
	bool writer_running;
	atomic_bool stop;
};

const char *nj_eve_type_name(enum nj_eve_type t)
{
	return (unsigned)t < NJ_EVE_TYPE_MAX ? type_names[t] : "other";
}

int nj_eve_type_parse(const char *name)
{
	if (!name)
		return -1;
	if (strcmp(name, "files") == 0 || strcmp(name, "file") == 0)
		return NJ_EVE_FILEINFO;
	if (strcmp(name, "drop") == 0)
		return NJ_EVE_ALERT;
	for (int i = 0; i < NJ_EVE_FAST; i++)
		if (strcmp(name, type_names[i]) == 0)
			return i;
	return -1;
}

void nj_eve_config_defaults(struct nj_eve_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->nsinks = 1;
	snprintf(cfg->sinks[0].path, sizeof(cfg->sinks[0].path), "eve.json.zst");
	cfg->sinks[0].zstd = true;
	cfg->sinks[0].zstd_level = 3;
	cfg->sinks[0].types = NJ_EVE_JSON_TYPES;
	cfg->buffer_bytes = 256 * 1024;
	cfg->flush_ms = 1000;
	cfg->ring_frames = 8;
	cfg->community_id = false;
	cfg->community_id_seed = 0;
}

/* ------------------------------------------------------------ timestamps */

/* Days since 1970-01-01 to civil date (H. Hinnant's algorithm). */
static void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
	int64_t era, yy;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	yy = (int64_t)yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int)(yy + (*m <= 2));
}

static inline void put2(char *p, unsigned v)
{
	p[0] = (char)('0' + v / 10);
	p[1] = (char)('0' + v % 10);
}

/* "YYYY-MM-DDTHH:MM:SS." for a second since the epoch (20 bytes, no NUL). */
static void ts_prefix(char *p, uint64_t sec)
{
	uint64_t days = sec / 86400, rem = sec % 86400;
	unsigned m, d;
	int y;

	civil_from_days((int64_t)days, &y, &m, &d);
	y %= 10000;
	put2(p, (unsigned)y / 100);
	put2(p + 2, (unsigned)y % 100);
	p[4] = '-';
	put2(p + 5, m);
	p[7] = '-';
	put2(p + 8, d);
	p[10] = 'T';
	put2(p + 11, (unsigned)(rem / 3600));
	p[13] = ':';
	put2(p + 14, (unsigned)(rem / 60 % 60));
	p[16] = ':';
	put2(p + 17, (unsigned)(rem % 60));
	p[19] = '.';
}

/* Microseconds and zone after a prefix: "251547+0000" (11 bytes). */
static void ts_suffix(char *p, uint64_t ts_us)
{
	unsigned us = (unsigned)(ts_us % 1000000);

	put2(p, us / 10000);
	put2(p + 2, us / 100 % 100);
	put2(p + 4, us % 100);
	memcpy(p + 6, "+0000", 5);
}

void nj_eve_format_ts(char out[40], uint64_t ts_us)
{
	ts_prefix(out, ts_us / 1000000);
	ts_suffix(out + 20, ts_us);
	out[31] = '\0';
}

static void json_ts(struct nj_eve_worker *w, struct nj_json *j, const char *key, uint64_t ts_us)
{
	char buf[40];
	uint64_t sec = ts_us / 1000000;

	if (sec != w->ts_sec) {
		ts_prefix(w->ts_prefix, sec);
		w->ts_sec = sec;
	}
	memcpy(buf, w->ts_prefix, 20);
	ts_suffix(buf + 20, ts_us);
	nj_json_strn(j, key, buf, 31);
}

/* ------------------------------------------------------------ header */

const char *nj_eve_proto_name(uint8_t proto, char out[4])
{
	/* Suricata's names (IANA keywords) for the protocols it names in EVE */
	switch (proto) {
	case 1: return "ICMP";
	case 2: return "IGMP";
	case 4: return "IP-in-IP";
	case 6: return "TCP";
	case 17: return "UDP";
	case 41: return "IPv6";
	case 46: return "RSVP";
	case 47: return "GRE";
	case 50: return "ESP";
	case 51: return "AH";
	case 58: return "IPv6-ICMP";
	case 89: return "OSPF";
	case 103: return "PIM";
	case 112: return "VRRP";
	case 132: return "SCTP";
	}
	if (proto >= 100) {
		out[0] = (char)('0' + proto / 100);
		out[1] = (char)('0' + proto / 10 % 10);
		out[2] = (char)('0' + proto % 10);
		out[3] = '\0';
	} else if (proto >= 10) {
		out[0] = (char)('0' + proto / 10);
		out[1] = (char)('0' + proto % 10);
		out[2] = '\0';
	} else {
		out[0] = (char)('0' + proto);
		out[1] = '\0';
	}
	return out;
}

static inline bool proto_has_ports(uint8_t proto)
{
	return proto == 6 || proto == 17 || proto == 132;
}

static inline bool proto_is_icmp(uint8_t proto)
{
	return proto == 1 || proto == 58;
}

static void json_addr(struct nj_eve_worker *w, struct nj_json *j, const char *key, const uint8_t *a,
		      unsigned alen)
{
	if (alen == 16 && w->v6c) {
		char buf[INET6_ADDRSTRLEN];

		if (inet_ntop(AF_INET6, a, buf, sizeof(buf))) {
			nj_json_str(j, key, buf);
			return;
		}
	}
	nj_json_ip(j, key, a, alen);
}

/* The 5-tuple part of a header, shared by packet and flow events. */
struct tuple {
	const uint8_t *sa, *da;
	unsigned alen;
	uint16_t sp, dp;
	uint8_t proto;
	bool ports; /* log src_port/dest_port */
};

static void json_tuple(struct nj_eve_worker *w, struct nj_json *j, const struct tuple *t)
{
	char num[4];

	if (w->ovr_src)
		nj_json_str(j, "src_ip", w->ovr_src);
	else
		json_addr(w, j, "src_ip", t->sa, t->alen);
	if (t->ports)
		nj_json_u64(j, "src_port", t->sp);
	if (w->ovr_dst)
		nj_json_str(j, "dest_ip", w->ovr_dst);
	else
		json_addr(w, j, "dest_ip", t->da, t->alen);
	w->ovr_src = w->ovr_dst = NULL;
	if (t->ports)
		nj_json_u64(j, "dest_port", t->dp);
	nj_json_u64(j, "ip_v", t->alen == 16 ? 6 : 4);
	nj_json_str(j, "proto", nj_eve_proto_name(t->proto, num));
}

static struct nj_json *begin_common(struct nj_eve_worker *w, enum nj_eve_type t, uint64_t ts_us,
				    const struct nj_flow *f, const struct nj_pkt *p)
{
	struct nj_json *j = &w->j;

	w->cur = t;
	/* one byte kept back for the '\n' added at commit */
	nj_json_init(j, w->scratch, w->cap - 1);
	nj_json_open_obj(j, NULL);
	json_ts(w, j, "timestamp", ts_us);
	/*
	 * As Suricata: at most 51 bits, so that JSON readers that hold numbers
	 * as doubles or int64 (JavaScript, jansson) keep the id exact.
	 */
	if (f)
		nj_json_u64(j, "flow_id", f->flow_id & NJ_EVE_FLOW_ID_MASK);
	if (w->offline && p && p->seq)
		nj_json_u64(j, "pcap_cnt", p->seq);
	nj_json_str(j, "event_type", nj_eve_type_name(t));
	if (f && f->vlan_id[0]) {
		nj_json_open_arr(j, "vlan");
		for (unsigned i = 0; i < NJ_ARRAY_SIZE(f->vlan_id) && f->vlan_id[i]; i++)
			nj_json_u64(j, NULL, f->vlan_id[i]);
		nj_json_close_arr(j);
	} else if (!f && p && p->nvlan) {
		nj_json_open_arr(j, "vlan");
		for (unsigned i = 0; i < p->nvlan && i < NJ_ARRAY_SIZE(p->vlan); i++)
			nj_json_u64(j, NULL, p->vlan[i]);
		nj_json_close_arr(j);
	}
	return j;
}

/* Computed once per flow, in client -> server orientation, then cached. */
static void json_flow_cid(struct nj_eve_worker *w, struct nj_json *j, struct nj_flow *f)
{
	if (!f->community_id[0]) {
		bool ports = proto_has_ports(f->proto) || proto_is_icmp(f->proto);

		nj_community_id(w->seed, nj_flow_src(f), nj_flow_dst(f), f->ipv6 ? 16 : 4, f->proto,
				ports, nj_flow_sport(f), nj_flow_dport(f), true, f->community_id,
				sizeof(f->community_id));
	}
	if (f->community_id[0])
		nj_json_str(j, "community_id", f->community_id);
}

static void flow_tuple(const struct nj_flow *f, bool to_client, struct tuple *t)
{
	t->alen = f->ipv6 ? 16 : 4;
	t->proto = f->proto;
	t->ports = proto_has_ports(f->proto);
	t->sa = nj_flow_src(f);
	t->da = nj_flow_dst(f);
	t->sp = nj_flow_sport(f);
	t->dp = nj_flow_dport(f);
	if (to_client) {
		const uint8_t *a = t->sa;
		uint16_t pt = t->sp;

		t->sa = t->da;
		t->da = a;
		t->sp = t->dp;
		t->dp = pt;
	}
}

static void json_mac(struct nj_json *j, const char *key, const uint8_t *m)
{
	static const char hex[] = "0123456789abcdef";
	char s[17];

	for (int i = 0; i < 6; i++) {
		s[i * 3] = hex[m[i] >> 4];
		s[i * 3 + 1] = hex[m[i] & 15];
		if (i < 5)
			s[i * 3 + 2] = ':';
	}
	nj_json_strn(j, key, s, 17);
}

/* "ether" of a packet event: the packet's own Ethernet header. */
static void json_ether_pkt(struct nj_json *j, const struct nj_pkt *p)
{
	const uint8_t *eh = p->data + p->eth_off;

	if (!(p->flags & NJ_PKT_ETH) || (uint32_t)p->eth_off + 14 > p->len)
		return;
	nj_json_open_obj(j, "ether");
	json_mac(j, "src_mac", eh + 6);
	json_mac(j, "dest_mac", eh);
	nj_json_close_obj(j);
}

/* "ether" from the flow's MACs in the event's orientation; arrays for flow records. */
static void json_ether_flow(struct nj_json *j, const struct nj_flow *f, bool to_client, bool sets)
{
	unsigned s = to_client ? 1 : 0, d = 1 - s;

	if (!f->mac_seen)
		return;
	nj_json_open_obj(j, "ether");
	if (sets) {
		nj_json_open_arr(j, "src_macs");
		if (f->mac_seen & (1u << s))
			json_mac(j, NULL, f->mac[s]);
		nj_json_close_arr(j);
		nj_json_open_arr(j, "dest_macs");
		if (f->mac_seen & (1u << d))
			json_mac(j, NULL, f->mac[d]);
		nj_json_close_arr(j);
	} else {
		if (f->mac_seen & (1u << s))
			json_mac(j, "src_mac", f->mac[s]);
		if (f->mac_seen & (1u << d))
			json_mac(j, "dest_mac", f->mac[d]);
	}
	nj_json_close_obj(j);
}

/* Whether the packet's IP header was decoded far enough to read its addresses. */
static bool pkt_has_addrs(const struct nj_pkt *p)
{
	if (p->flags & NJ_PKT_IPV6)
		return p->data && (uint32_t)p->l3_off + 40 <= p->len;
	if (p->flags & NJ_PKT_IPV4)
		return p->data && (uint32_t)p->l3_off + 20 <= p->len;
	return false;
}

static __thread struct nj_json dead_json;

void nj_eve_addr_override(struct nj_eve_worker *w, const char *src, const char *dst)
{
	if (w) {
		w->ovr_src = src;
		w->ovr_dst = dst;
	}
}

struct nj_json *nj_eve_begin(struct nj_eve_worker *w, enum nj_eve_type t, uint64_t ts_us,
			     struct nj_flow *f, const struct nj_pkt *p)
{
	struct nj_json *j;
	struct tuple tp;

	if (unlikely(!w)) {
		/* writes into a zero-sized buffer: everything is ignored */
		nj_json_init(&dead_json, NULL, 0);
		return &dead_json;
	}
	j = begin_common(w, t, ts_us, f, p);
	if (f) {
		flow_tuple(f, p && (p->flags & NJ_PKT_TOCLIENT), &tp);
		json_tuple(w, j, &tp);
		if (proto_is_icmp(f->proto)) {
			if (p && (p->flags & NJ_PKT_HAS_L4)) {
				nj_json_u64(j, "icmp_type", p->icmp_type);
				nj_json_u64(j, "icmp_code", p->icmp_code);
			} else if (f->icmp_seen[0]) {
				nj_json_u64(j, "icmp_type", f->icmp_type[0]);
				nj_json_u64(j, "icmp_code", f->icmp_code[0]);
			}
		}
		if (f->proto == 50)
			nj_json_u64(j, "spi", f->spi);
		if (w->cid)
			json_flow_cid(w, j, f);
		if (w->ether) {
			if (p && (p->flags & NJ_PKT_ETH))
				json_ether_pkt(j, p);
			else
				json_ether_flow(j, f, p && (p->flags & NJ_PKT_TOCLIENT), false);
		}
		if (w->geo)
			nj_geoip_json(w->geo, j, tp.sa, tp.da, tp.alen);
		if (w->meta_fn && f->detect_state)
			w->meta_fn(w->meta_arg, j, f, p);
	} else if (p && pkt_has_addrs(p)) {
		tp.alen = nj_pkt_addr_len(p);
		tp.sa = nj_pkt_src(p);
		tp.da = nj_pkt_dst(p);
		tp.proto = p->proto;
		tp.ports = proto_has_ports(p->proto) && (p->flags & NJ_PKT_HAS_L4);
		tp.sp = p->sport;
		tp.dp = p->dport;
		json_tuple(w, j, &tp);
		if (proto_is_icmp(p->proto) && (p->flags & NJ_PKT_HAS_L4)) {
			nj_json_u64(j, "icmp_type", p->icmp_type);
			nj_json_u64(j, "icmp_code", p->icmp_code);
		}
		if (w->cid && (p->flags & NJ_PKT_HAS_L4)) {
			char cid[NJ_COMMUNITY_ID_MAX];
			bool ports = proto_has_ports(p->proto) || proto_is_icmp(p->proto);

			if (nj_community_id(w->seed, tp.sa, tp.da, tp.alen, p->proto, ports,
					    p->sport, p->dport, true, cid, sizeof(cid)))
				nj_json_str(j, "community_id", cid);
		}
		if (w->ether)
			json_ether_pkt(j, p);
		if (w->geo)
			nj_geoip_json(w->geo, j, tp.sa, tp.da, tp.alen);
	}
	return j;
}

struct nj_json *nj_eve_begin_flow(struct nj_eve_worker *w, enum nj_eve_type t, uint64_t ts_us,
				  struct nj_flow *f, bool to_client)
{
	return nj_eve_begin_flow_seq(w, t, ts_us, f, to_client, 0);
}

struct nj_json *nj_eve_begin_flow_seq(struct nj_eve_worker *w, enum nj_eve_type t, uint64_t ts_us,
				      struct nj_flow *f, bool to_client, uint64_t seq)
{
	struct nj_json *j;
	struct tuple tp;
	unsigned first = to_client ? 1 : 0;
	struct nj_pkt sp;

	if (unlikely(!w)) {
		nj_json_init(&dead_json, NULL, 0);
		return &dead_json;
	}
	/* begin_common reads only the packet number of p */
	sp.seq = seq;
	j = begin_common(w, t, ts_us, f, seq ? &sp : NULL);
	flow_tuple(f, to_client, &tp);
	json_tuple(w, j, &tp);
	if (proto_is_icmp(f->proto)) {
		if (f->icmp_seen[first]) {
			nj_json_u64(j, "icmp_type", f->icmp_type[first]);
			nj_json_u64(j, "icmp_code", f->icmp_code[first]);
		}
		if (t == NJ_EVE_FLOW && f->pkts_tc && f->icmp_seen[1]) {
			nj_json_u64(j, "response_icmp_type", f->icmp_type[1]);
			nj_json_u64(j, "response_icmp_code", f->icmp_code[1]);
		}
	}
	if (f->proto == 50)
		nj_json_u64(j, "spi", f->spi);
	if (w->cid)
		json_flow_cid(w, j, f);
	if (w->ether)
		json_ether_flow(j, f, to_client, t == NJ_EVE_FLOW || t == NJ_EVE_NETFLOW);
	if (w->geo)
		nj_geoip_json(w->geo, j, tp.sa, tp.da, tp.alen);
	if (w->meta_fn && f->detect_state)
		w->meta_fn(w->meta_arg, j, f, NULL);
	return j;
}

void nj_eve_set_flow_meta(struct nj_eve_worker *w, nj_eve_flow_meta_fn fn, void *arg)
{
	if (!w)
		return;
	w->meta_fn = fn;
	w->meta_arg = arg;
}

/* ------------------------------------------------------------ frames */

/*
 * Turns the staged events of o into one frame. Without a free frame: waits
 * when asked (offline, shutdown), else returns false and keeps the staging.
 */
static bool out_flush(struct nj_eve_worker *w, struct nj_eve_out *o, bool wait)
{
	struct nj_eve_ring *r = &o->ring;
	uint32_t h, slot;

	if (!o->len)
		return true;
	h = atomic_load_explicit(&r->head, memory_order_relaxed);
	while (h - atomic_load_explicit(&r->tail, memory_order_acquire) >= r->nframes) {
		struct timespec ts = {0, NJ_EVE_WAIT_NS};

		if (!wait)
			return false;
		nanosleep(&ts, NULL);
	}
	slot = h % r->nframes;
	if (o->zstd) {
		size_t n = ZSTD_compressCCtx(w->cctx, r->data[slot], ZSTD_compressBound(w->cap),
					     o->buf, o->len, o->level);

		if (ZSTD_isError(n)) {
			/* cannot happen with a bound-sized frame; never write a broken frame */
			w->st.dropped += o->nev;
			o->len = o->nev = 0;
			return true;
		}
		r->len[slot] = (uint32_t)n;
	} else {
		/* plain text: hand the staging buffer itself over, take the free frame's */
		char *tmp = r->data[slot];

		r->data[slot] = o->buf;
		r->len[slot] = o->len;
		o->buf = tmp;
	}
	atomic_store_explicit(&r->head, h + 1, memory_order_release);
	w->st.frames++;
	o->len = o->nev = 0;
	return true;
}

/* Copies the n bytes of scratch (one event line) to every interested sink. */
static void sinks_put(struct nj_eve_worker *w, uint32_t n)
{
	uint32_t mask;

	w->st.events[w->cur]++;
	w->st.bytes_in += n;
	mask = 1u << w->cur;
	for (unsigned i = 0; i < w->nsinks; i++) {
		struct nj_eve_out *o = &w->out[i];

		if (!(o->types & mask))
			continue;
		if (o->len + n > w->cap && !out_flush(w, o, w->offline)) {
			w->st.dropped++;
			continue;
		}
		if (!o->len)
			o->since_ms = w->last_tick_ms;
		memcpy(o->buf + o->len, w->scratch, n);
		o->len += n;
		o->nev++;
	}
}

void nj_eve_commit(struct nj_eve_worker *w)
{
	struct nj_json *j;

	if (unlikely(!w))
		return;
	j = &w->j;
	nj_json_close_obj(j);
	if (unlikely(!nj_json_ok(j))) {
		w->st.too_large++;
		return;
	}
	if (unlikely(w->cap_buf)) {
		if (j->len <= w->cap_size) {
			memcpy(w->cap_buf, j->buf, j->len);
			*w->cap_len = (uint32_t)j->len;
		} else {
			*w->cap_len = UINT32_MAX;
		}
		return;
	}
	j->buf[j->len++] = '\n';
	sinks_put(w, (uint32_t)j->len);
}

void nj_eve_capture(struct nj_eve_worker *w, char *buf, uint32_t size, uint32_t *len)
{
	if (!w)
		return;
	w->cap_buf = buf;
	w->cap_size = size;
	w->cap_len = len;
	if (len)
		*len = 0;
}

void nj_eve_write_raw(struct nj_eve_worker *w, enum nj_eve_type t, const struct nj_eve_piece *pc,
		      unsigned n)
{
	size_t len = 0;

	if (!w || (unsigned)t >= NJ_EVE_TYPE_MAX)
		return;
	for (unsigned i = 0; i < n; i++)
		len += pc[i].len;
	if (len + 1 > w->cap) {
		w->st.too_large++;
		return;
	}
	len = 0;
	for (unsigned i = 0; i < n; i++) {
		memcpy(w->scratch + len, pc[i].p, pc[i].len);
		len += pc[i].len;
	}
	w->scratch[len++] = '\n';
	w->cur = t;
	sinks_put(w, (uint32_t)len);
}

void nj_eve_worker_tick(struct nj_eve_worker *w, uint64_t wall_ms)
{
	uint32_t flush_ms;

	if (!w)
		return;
	w->last_tick_ms = wall_ms;
	flush_ms = w->eve->cfg.flush_ms;
	for (unsigned i = 0; i < w->nsinks; i++) {
		struct nj_eve_out *o = &w->out[i];

		if (o->len && (wall_ms < o->since_ms || wall_ms - o->since_ms >= flush_ms))
			out_flush(w, o, w->offline);
	}
}

void nj_eve_worker_flush(struct nj_eve_worker *w)
{
	if (!w)
		return;
	for (unsigned i = 0; i < w->nsinks; i++)
		out_flush(w, &w->out[i], true);
}

struct nj_eve_worker *nj_eve_worker(struct nj_eve *eve, unsigned id)
{
	if (!eve || id >= eve->nhandles)
		return NULL;
	return eve->h[id];
}

const struct nj_eve_stats *nj_eve_worker_stats(const struct nj_eve_worker *w)
{
	static const struct nj_eve_stats none;

	return w ? &w->st : &none;
}

int nj_eve_set_geoip(struct nj_eve *eve, const struct nj_geoip *g)
{
	for (unsigned i = 0; i < eve->nhandles; i++) {
		nj_geoip_cache_free(eve->h[i]->geo);
		eve->h[i]->geo = g ? nj_geoip_cache_new(g) : NULL;
		if (g && !eve->h[i]->geo)
			return -ENOMEM;
	}
	return 0;
}

struct nj_geoip_cache *nj_eve_worker_geoip(const struct nj_eve_worker *w)
{
	return w ? w->geo : NULL;
}

bool nj_eve_wants(const struct nj_eve_worker *w, enum nj_eve_type t)
{
	return w && (unsigned)t < NJ_EVE_TYPE_MAX && (w->types >> t) & 1;
}

/* ------------------------------------------------------------ writer */

static int file_open(struct nj_eve_file *fl, bool append)
{
	int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC);

	fl->fd = open(fl->cfg->path, flags, 0644);
	if (fl->fd < 0)
		return -errno;
	fl->bytes = 0;
	if (append) {
		struct stat st;

		if (fstat(fl->fd, &st) == 0)
			fl->bytes = (uint64_t)st.st_size;
	}
	fl->first_write = time(NULL);
	return 0;
}

/* See the top of the file for the naming scheme. */
static int rotated_name(const char *path, time_t when, char *out, size_t outlen)
{
	const char *base = strrchr(path, '/');
	const char *dot;
	char stamp[32];
	struct tm tm;
	size_t pre;

	base = base ? base + 1 : path;
	dot = strchr(base + (base[0] == '.'), '.');
	pre = dot ? (size_t)(dot - path) : strlen(path);
	gmtime_r(&when, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	for (unsigned n = 0; n < 1000; n++) {
		char num[16] = "";
		int len;

		if (n)
			snprintf(num, sizeof(num), ".%u", n);
		len = snprintf(out, outlen, "%.*s.%s%s%s", (int)pre, path, stamp, num,
			       dot ? dot : "");
		if (len < 0 || (size_t)len >= outlen)
			return -ENAMETOOLONG;
		if (access(out, F_OK) != 0)
			return 0;
	}
	return -EEXIST;
}

static void file_rotate(struct nj_eve_file *fl)
{
	char name[4096 + 64];

	if (rotated_name(fl->cfg->path, time(NULL), name, sizeof(name)) == 0 &&
	    rename(fl->cfg->path, name) != 0 && !fl->warned) {
		NJ_WARN("eve: cannot rename %s to %s: %s", fl->cfg->path, name, strerror(errno));
		fl->warned = true;
	}
	if (fl->fd >= 0)
		close(fl->fd);
	if (file_open(fl, false) < 0 && !fl->warned) {
		NJ_WARN("eve: cannot reopen %s: %s", fl->cfg->path, strerror(errno));
		fl->warned = true;
	}
}

static void file_write(struct nj_eve_file *fl, const char *p, size_t n, time_t now)
{
	const struct nj_eve_sink_config *c = fl->cfg;

	if (fl->bytes &&
	    ((c->rotate_bytes && fl->bytes + n > c->rotate_bytes) ||
	     (c->rotate_seconds && now - fl->first_write >= (time_t)c->rotate_seconds)))
		file_rotate(fl);
	if (fl->fd < 0 && file_open(fl, false) < 0) {
		fl->write_errors++;
		return;
	}
	if (!fl->bytes)
		fl->first_write = now;
	while (n) {
		ssize_t k = write(fl->fd, p, n);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			if (!fl->warned) {
				NJ_WARN("eve: write to %s failed: %s", c->path, strerror(errno));
				fl->warned = true;
			}
			fl->write_errors++;
			return;
		}
		p += k;
		n -= (size_t)k;
		fl->bytes += (uint64_t)k;
	}
}

static void *writer_main(void *arg)
{
	struct nj_eve *eve = arg;

	for (;;) {
		bool stop = atomic_load_explicit(&eve->stop, memory_order_acquire);
		bool busy = false;
		time_t now = time(NULL);

		for (unsigned i = 0; i < eve->nhandles; i++) {
			struct nj_eve_worker *w = eve->h[i];

			for (unsigned s = 0; s < w->nsinks; s++) {
				struct nj_eve_ring *r = &w->out[s].ring;
				uint32_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
				uint32_t h = atomic_load_explicit(&r->head, memory_order_acquire);

				for (; t != h; t++) {
					uint32_t slot = t % r->nframes;

					file_write(&eve->files[s], r->data[slot], r->len[slot],
						   now);
					atomic_store_explicit(&r->tail, t + 1,
							      memory_order_release);
					busy = true;
				}
			}
		}
		if (!busy) {
			struct timespec ts = {0, NJ_EVE_WRITER_IDLE_NS};

			if (stop)
				break;
			nanosleep(&ts, NULL);
		}
	}
	return NULL;
}

/* ------------------------------------------------------------ open/close */

static void handle_free(struct nj_eve_worker *w)
{
	if (!w)
		return;
	for (unsigned i = 0; i < NJ_EVE_MAX_SINKS; i++) {
		struct nj_eve_out *o = &w->out[i];

		if (o->ring.data)
			for (uint32_t k = 0; k < o->ring.nframes; k++)
				free(o->ring.data[k]);
		free(o->ring.data);
		free(o->ring.len);
		free(o->buf);
	}
	ZSTD_freeCCtx(w->cctx);
	nj_geoip_cache_free(w->geo);
	free(w->scratch);
	free(w);
}

static struct nj_eve_worker *handle_new(struct nj_eve *eve)
{
	const struct nj_eve_config *c = &eve->cfg;
	struct nj_eve_worker *w;
	int levels[NJ_EVE_MAX_SINKS];
	unsigned nlevels = 0;

	if (posix_memalign((void **)&w, NJ_CACHE_LINE, sizeof(*w)))
		return NULL;
	memset(w, 0, sizeof(*w));
	w->eve = eve;
	w->cap = c->buffer_bytes;
	w->offline = c->offline;
	w->cid = c->community_id;
	w->seed = c->community_id_seed;
	w->v6c = c->ipv6_compress;
	w->ether = c->ethernet;
	w->nsinks = c->nsinks;
	w->ts_sec = UINT64_MAX;
	w->scratch = malloc(w->cap);
	if (!w->scratch)
		goto fail;
	for (unsigned i = 0; i < c->nsinks; i++) {
		const struct nj_eve_sink_config *s = &c->sinks[i];
		struct nj_eve_out *o = &w->out[i];
		size_t fcap = s->zstd ? ZSTD_compressBound(w->cap) : w->cap;

		o->types = s->types;
		o->zstd = s->zstd;
		o->level = s->zstd_level ? s->zstd_level : 3;
		w->types |= s->types;
		o->buf = malloc(w->cap);
		o->ring.nframes = c->ring_frames;
		o->ring.data = calloc(c->ring_frames, sizeof(*o->ring.data));
		o->ring.len = calloc(c->ring_frames, sizeof(*o->ring.len));
		if (!o->buf || !o->ring.data || !o->ring.len)
			goto fail;
		for (uint32_t k = 0; k < c->ring_frames; k++) {
			o->ring.data[k] = malloc(fcap);
			if (!o->ring.data[k])
				goto fail;
		}
		if (s->zstd) {
			unsigned k;

			for (k = 0; k < nlevels && levels[k] != o->level; k++)
				;
			if (k == nlevels)
				levels[nlevels++] = o->level;
		}
	}
	if (nlevels) {
		w->cctx = ZSTD_createCCtx();
		if (!w->cctx)
			goto fail;
		/*
		 * zstd sizes its work space on first use: compress one full buffer
		 * per level now so that the packet path never allocates.
		 */
		memset(w->scratch, 'x', w->cap);
		for (unsigned i = 0; i < c->nsinks; i++) {
			if (!w->out[i].zstd)
				continue;
			for (unsigned k = 0; k < nlevels; k++)
				ZSTD_compressCCtx(w->cctx, w->out[i].ring.data[0],
						  ZSTD_compressBound(w->cap), w->scratch, w->cap,
						  levels[k]);
			break;
		}
	}
	return w;
fail:
	handle_free(w);
	return NULL;
}

struct nj_eve *nj_eve_open(const struct nj_eve_config *cfg, unsigned nworkers, char *err,
			   size_t errlen)
{
	struct nj_eve *eve;
	int ret;

	if (cfg->nsinks > NJ_EVE_MAX_SINKS || cfg->buffer_bytes < 4096 ||
	    cfg->buffer_bytes > (1u << 30) || cfg->flush_ms > 1000 || cfg->ring_frames < 2 ||
	    cfg->ring_frames > 4096) {
		snprintf(err, errlen,
			 "eve: invalid settings (sinks <= %d, 4 KiB <= buffer <= 1 GiB, flush_ms "
			 "<= 1000, 2 <= ring_frames <= 4096)",
			 NJ_EVE_MAX_SINKS);
		return NULL;
	}
	eve = calloc(1, sizeof(*eve));
	if (!eve) {
		snprintf(err, errlen, "eve: out of memory");
		return NULL;
	}
	eve->cfg = *cfg;
	atomic_init(&eve->stop, false);
	for (unsigned i = 0; i < NJ_EVE_MAX_SINKS; i++) {
		eve->files[i].fd = -1;
		eve->files[i].cfg = &eve->cfg.sinks[i];
	}
	eve->nhandles = nworkers + 1;
	eve->h = calloc(eve->nhandles, sizeof(*eve->h));
	if (!eve->h)
		goto out_nomem;
	for (unsigned i = 0; i < eve->nhandles; i++) {
		eve->h[i] = handle_new(eve);
		if (!eve->h[i])
			goto out_nomem;
	}
	for (unsigned i = 0; i < cfg->nsinks; i++) {
		ret = file_open(&eve->files[i], cfg->sinks[i].append);
		if (ret < 0) {
			snprintf(err, errlen, "eve: cannot open %s: %s", cfg->sinks[i].path,
				 strerror(-ret));
			goto out_free;
		}
	}
	ret = pthread_create(&eve->writer, NULL, writer_main, eve);
	if (ret) {
		snprintf(err, errlen, "eve: cannot start the writer thread: %s", strerror(ret));
		goto out_free;
	}
	pthread_setname_np(eve->writer, "nj-eve-writer");
	eve->writer_running = true;
	return eve;

out_nomem:
	snprintf(err, errlen, "eve: out of memory for %u output buffers",
		 eve->nhandles * (cfg->ring_frames + 2));
out_free:
	nj_eve_close(eve);
	return NULL;
}

void nj_eve_close(struct nj_eve *eve)
{
	if (!eve)
		return;
	if (eve->writer_running) {
		for (unsigned i = 0; i < eve->nhandles; i++)
			nj_eve_worker_flush(eve->h[i]);
		atomic_store_explicit(&eve->stop, true, memory_order_release);
		pthread_join(eve->writer, NULL);
	}
	for (unsigned i = 0; i < NJ_EVE_MAX_SINKS; i++)
		if (eve->files[i].fd >= 0)
			close(eve->files[i].fd);
	if (eve->h)
		for (unsigned i = 0; i < eve->nhandles; i++)
			handle_free(eve->h[i]);
	free(eve->h);
	free(eve);
}
