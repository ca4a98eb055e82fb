/* SPDX-License-Identifier: MIT */
/*
 * Alerts: the per-packet queue (Suricata's PacketAlertFinalize), thresholds
 * and detection_filter, and the EVE "alert" event in Suricata 8's layout.
 *
 * Matches are queued with the packet they belong to (stream and transaction
 * matches arrive before the packet's own evaluation and wait for it). When a
 * packet is finished its queue is sorted by signature order (action order,
 * then priority, then sid), duplicates are dropped (a signature alerts once
 * per packet, once per transaction), thresholds decide, a pass rule stops
 * the rest, and at most packet-alert-max alerts are written.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "config/config.h"
#include "engine_int.h"
#include "tag.h"
#include "export/eve_priv.h"
#include "parsers/files.h"

/* ------------------------------------------------------------ options */

/* xff: {enabled, mode: extra-data|overwrite, deployment: forward|reverse, header} */
static int xff_from(const struct nj_conf *conf, const struct nj_conf_node *x, struct alert_opts *ao)
{
	const char *v;
	bool en = false;

	if (!x || x->kind != NJ_CONF_MAP)
		return 0;
	if (nj_conf_bool(conf, x, "enabled", &en) < 0)
		return -1;
	if (!en) {
		ao->xff_mode = XFF_NONE;
		return 0;
	}
	ao->xff_mode = XFF_EXTRA_DATA;
	if (nj_conf_str(conf, x, "mode", &v) == 0 && v && strcasecmp(v, "overwrite") == 0)
		ao->xff_mode = XFF_OVERWRITE;
	if (nj_conf_str(conf, x, "deployment", &v) == 0 && v)
		ao->xff_reverse = strcasecmp(v, "reverse") == 0;
	if (nj_conf_str(conf, x, "header", &v) == 0 && v && *v && strcmp(v, "~") != 0)
		snprintf(ao->xff_header, sizeof(ao->xff_header), "%s", v);
	return 0;
}

static int opts_from(const struct nj_conf *conf, const struct nj_conf_node *n,
		     struct alert_opts *ao)
{
	const struct nj_conf_node *md;
	bool b;
	uint64_t sz;

	if (!n || n->kind != NJ_CONF_MAP)
		return 0;
#define FLAG(key, field)                                 \
	do {                                             \
		int r_ = nj_conf_bool(conf, n, key, &b); \
		if (r_ < 0)                              \
			return -1;                       \
		if (r_ == 0)                             \
			ao->field = b;                   \
	} while (0)
	FLAG("payload", payload);
	FLAG("payload-printable", payload_printable);
	FLAG("payload-length", payload_length);
	FLAG("packet", packet);
	FLAG("tagged-packets", tagged_packets);
	FLAG("verdict", verdict);
#undef FLAG
	if (nj_conf_size(conf, n, "payload-buffer-size", &sz) == 0 && sz > 0 && sz < (1u << 24))
		ao->payload_max = (uint32_t)sz;
	if (xff_from(conf, nj_conf_node_get(n, "xff"), ao) < 0)
		return -1;
	md = nj_conf_node_get(n, "metadata");
	if (md && md->kind == NJ_CONF_SCALAR) {
		if (nj_conf_bool(conf, n, "metadata", &b) < 0)
			return -1;
		ao->metadata = ao->flow = b;
	} else if (md && md->kind == NJ_CONF_MAP) {
		if (nj_conf_bool(conf, md, "rule.metadata", &b) == 0)
			ao->metadata = b;
		if (nj_conf_bool(conf, md, "rule.raw", &b) == 0)
			ao->raw = b;
		if (nj_conf_bool(conf, md, "rule.reference", &b) == 0)
			ao->references = b;
		if (nj_conf_bool(conf, md, "flow", &b) == 0)
			ao->flow = b;
	}
	return 0;
}

int nj_alert_opts_load(const struct nj_conf *conf, struct alert_opts *ao)
{
	const struct nj_conf_node *outs = nj_conf_get(conf, "outputs");

	memset(ao, 0, sizeof(*ao));
	ao->metadata = ao->flow = true;
	ao->payload_max = 4096;
	snprintf(ao->xff_header, sizeof(ao->xff_header), "X-Forwarded-For");
	if (!outs)
		return 0;
	for (const struct nj_conf_node *o = outs->child; o; o = o->next) {
		const struct nj_conf_node *ev = nj_conf_node_get(o, "eve-log"), *types;

		if (!ev)
			continue;
		types = nj_conf_node_get(ev, "types");
		if (!types)
			continue;
		for (const struct nj_conf_node *it = types->child; it; it = it->next) {
			if (it->kind == NJ_CONF_MAP && it->child && it->child->key &&
			    strcmp(it->child->key, "alert") == 0 &&
			    opts_from(conf, it->child, ao) < 0)
				return -1;
		}
	}
	return 0;
}

/* ------------------------------------------------------------ queue */

void nj_alert_add(struct nj_detect_thread *t, uint32_t num, struct nj_flow *f,
		  const struct nj_pkt *p, int dir, uint64_t tx_id, unsigned flags)
{
	struct eng_alert *a;

	if (t->npend == PEND_MAX) {
		t->st.alert_queue_full++;
		nj_alert_flush_all(t);
		while (t->npend == PEND_MAX) /* all deferred: they go without their packet */
			nj_alert_flush_deferred(t, t->pend[0].f);
	}
	a = &t->pend[t->npend++];
	a->num = num;
	a->flags = (uint8_t)flags;
	a->dir = (uint8_t)dir;
	a->tx_id = tx_id;
	a->f = f;
	a->p = p;
	a->meta_key = NULL;
	a->xff[0] = '\0';
}

void nj_alert_tx_xff(struct nj_detect_thread *t, const struct nj_app_parser *p,
		     const struct nj_al_tx *tx)
{
	const struct alert_opts *ao = &t->e->ao;
	struct eng_alert *a;

	if (!t->npend || ao->xff_mode == XFF_NONE || !p->alert_xff)
		return;
	a = &t->pend[t->npend - 1];
	if (!p->alert_xff(tx, ao->xff_header, ao->xff_reverse, a->xff, sizeof(a->xff)))
		a->xff[0] = '\0';
}

void nj_alert_tx_meta(struct nj_detect_thread *t, const struct nj_app_parser *p,
		      const struct nj_flow *f, const struct nj_al_tx *tx, int dir)
{
	struct eng_alert *a;
	struct nj_json j;

	if (!t->npend || !t->meta)
		return;
	if (t->npend == 1)
		t->meta_used = 0; /* nothing else pending refers to the arena */
	a = &t->pend[t->npend - 1];
	nj_json_init(&j, t->meta + t->meta_used, ALERT_META_ARENA - t->meta_used);
	nj_json_open_obj(&j, NULL);
	if (p->alert_json)
		p->alert_json(&j, tx, dir);
	/* the transaction's files still held, as Suricata's alert "files" */
	if (t->files)
		nj_files_tx_json(t->files, f, tx->id, dir, &j);
	nj_json_close_obj(&j);
	if (!nj_json_ok(&j)) {
		t->st.alert_meta_full++;
		return;
	}
	if (j.len <= 2)
		return; /* {}: nothing for this alert */
	/* the members without the braces, inserted as they are */
	a->meta_key = p->name;
	a->meta_off = t->meta_used + 1;
	a->meta_len = (uint32_t)j.len - 2;
	t->meta_used += (uint32_t)j.len;
}

/* ------------------------------------------------------------ thresholds */

static uint32_t hash32(const void *d, size_t n, uint32_t h)
{
	const uint8_t *b = d;

	while (n--)
		h = (h ^ *b++) * 16777619u;
	return h;
}

/* 1: alert, 0: suppressed. */
/* threshold.config suppress: true when an entry drops this alert. */
static bool suppressed(const struct nj_detect_sig *s, const struct nj_pkt *p)
{
	for (const struct nj_detect_suppress *sp = s->suppress; sp; sp = sp->next) {
		unsigned alen;

		if (!sp->track)
			return true;
		if (!p || !(p->flags & (NJ_PKT_IPV4 | NJ_PKT_IPV6)))
			continue;
		alen = nj_pkt_addr_len(p);
		if ((sp->track == NJ_TRACK_SRC || sp->track == NJ_SUPPRESS_EITHER) &&
		    nj_detect_addr_match(sp->ip, nj_pkt_src(p), alen))
			return true;
		if ((sp->track == NJ_TRACK_DST || sp->track == NJ_SUPPRESS_EITHER) &&
		    nj_detect_addr_match(sp->ip, nj_pkt_dst(p), alen))
			return true;
	}
	return false;
}

static int threshold(struct nj_detect_thread *t, const struct eng_sig *es,
		     const struct eng_alert *a, const struct nj_pkt *p)
{
	const struct nj_detect_threshold *td = &es->s->threshold;
	const struct nj_detect_engine *e = t->e;
	uint8_t key[32] = {0};
	struct thr_entry *b, *ent = NULL, *victim = NULL;
	uint64_t now, win;
	uint32_t h;
	int ret = 0;

	if (!td->type)
		return 1;
	if (!p || !(p->flags & (NJ_PKT_IPV4 | NJ_PKT_IPV6)))
		return 1;
	switch (td->track) {
	case NJ_TRACK_SRC: memcpy(key, nj_pkt_src(p), nj_pkt_addr_len(p)); break;
	case NJ_TRACK_DST: memcpy(key, nj_pkt_dst(p), nj_pkt_addr_len(p)); break;
	case NJ_TRACK_BOTH: {
		const uint8_t *x = nj_pkt_src(p), *y = nj_pkt_dst(p);
		unsigned l = nj_pkt_addr_len(p);

		if (memcmp(x, y, l) > 0) {
			const uint8_t *z = x;

			x = y;
			y = z;
		}
		memcpy(key, x, l);
		memcpy(key + 16, y, l);
		break;
	}
	case NJ_TRACK_FLOW:
		if (!a->f)
			return 1;
		memcpy(key, &a->f->flow_id, sizeof(a->f->flow_id));
		key[31] = 1;
		break;
	default: break;
	}
	key[30] = (uint8_t)(nj_pkt_addr_len(p) == 16 ? 6 : 4);
	h = hash32(key, sizeof(key), hash32(&a->num, sizeof(a->num), 2166136261u));
	b = &t->thr[h & (e->thr_entries - 1) & ~3u];
	for (int i = 0; i < 4; i++) {
		if (b[i].num1 == a->num + 1 && !memcmp(b[i].key, key, sizeof(key))) {
			ent = &b[i];
			break;
		}
		if (!victim || !b[i].num1 || (victim->num1 && b[i].tv1_us < victim->tv1_us))
			victim = &b[i];
	}
	now = p->ts_us;
	win = (uint64_t)td->seconds * 1000000u;
	if (!ent) {
		if (victim->num1)
			t->st.threshold_evicted++;
		ent = victim;
		ent->num1 = a->num + 1;
		memcpy(ent->key, key, sizeof(key));
		ent->tv1_us = now;
		ent->count = 1;
		ent->next = td->count;
		switch (td->type) {
		case NJ_THR_LIMIT: return 1;
		case NJ_THR_THRESHOLD:
		case NJ_THR_BOTH: return td->count == 1;
		case NJ_THR_DETECTION_FILTER: return 0; /* alerts once the count is exceeded */
		case NJ_THR_BACKOFF:
			if (td->count != 1)
				return 0;
			ent->next *= td->multiplier ? td->multiplier : 1;
			return 1;
		default: return 1;
		}
	}
	switch (td->type) {
	case NJ_THR_LIMIT:
		if (now - ent->tv1_us < win) {
			ret = ent->count < td->count;
			ent->count++;
		} else {
			ent->tv1_us = now;
			ent->count = 1;
			ret = 1;
		}
		break;
	case NJ_THR_THRESHOLD:
		if (now - ent->tv1_us < win) {
			if (++ent->count >= td->count) {
				ret = 1;
				ent->count = 0;
			}
		} else {
			ent->tv1_us = now;
			ent->count = 1;
			ret = td->count == 1;
		}
		break;
	case NJ_THR_BOTH:
		if (now - ent->tv1_us < win) {
			ret = ++ent->count == td->count;
		} else {
			ent->tv1_us = now;
			ent->count = 1;
			ret = td->count == 1;
		}
		break;
	case NJ_THR_DETECTION_FILTER:
		if (now - ent->tv1_us < win) {
			ret = ++ent->count > td->count;
		} else {
			ent->tv1_us = now;
			ent->count = 1;
			ret = 0;
		}
		break;
	case NJ_THR_BACKOFF:
		/* alerts at the count-th match, then at count * multiplier^k */
		if (++ent->count == ent->next) {
			ret = 1;
			ent->next *= td->multiplier ? td->multiplier : 1;
		}
		break;
	default: ret = 1; break;
	}
	return ret;
}

/* ------------------------------------------------------------ EVE */

static void b64(struct nj_json *j, const char *key, const uint8_t *in, size_t n, char *out)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *o = out;
	size_t i = 0;

	for (; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];

		*o++ = tab[v >> 18];
		*o++ = tab[(v >> 12) & 63];
		*o++ = tab[(v >> 6) & 63];
		*o++ = tab[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;

		*o++ = tab[v >> 18];
		*o++ = tab[(v >> 12) & 63];
		*o++ = '=';
		*o++ = '=';
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;

		*o++ = tab[v >> 18];
		*o++ = tab[(v >> 12) & 63];
		*o++ = tab[(v >> 6) & 63];
		*o++ = '=';
	}
	nj_json_strn(j, key, out, (size_t)(o - out));
}

/* Suricata's payload_printable: printable ASCII, \r and \n kept, the rest '.'. */
static void printable(struct nj_json *j, const char *key, const uint8_t *in, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		out[i] = (in[i] >= 32 && in[i] < 127) || in[i] == '\r' || in[i] == '\n'
				 ? (char)in[i]
				 : '.';
	nj_json_strn(j, key, out, n);
}

static const char *linktype_name(uint16_t lt)
{
	switch (lt) {
	case NJ_LINK_NULL: return "NULL";
	case NJ_LINK_ETHERNET: return "EN10MB";
	case NJ_LINK_RAW: return "RAW";
	case NJ_LINK_LINUX_SLL: return "LINUX_SLL";
	case NJ_LINK_IPV4: return "IPv4";
	case NJ_LINK_IPV6: return "IPv6";
	case NJ_LINK_LINUX_SLL2: return "LINUX_SLL2";
	case 104: return "C_HDLC";
	default: return NULL;
	}
}

static void json_endpoint(struct nj_json *j, const char *key, const struct nj_pkt *p, bool src)
{
	nj_json_open_obj(j, key);
	nj_json_ip(j, "ip", src ? nj_pkt_src(p) : nj_pkt_dst(p), nj_pkt_addr_len(p));
	if ((p->proto == 6 || p->proto == 17 || p->proto == 132) && (p->flags & NJ_PKT_HAS_L4))
		nj_json_u64(j, "port", src ? p->sport : p->dport);
	nj_json_close_obj(j);
}

static void json_metadata(struct nj_json *j, const struct nj_detect_sig *s)
{
	nj_json_open_obj(j, "metadata");
	for (unsigned i = 0; i < s->nmeta; i++) {
		bool seen = false;

		for (unsigned k = 0; k < i; k++)
			if (strcmp(s->meta[k].key, s->meta[i].key) == 0)
				seen = true;
		if (seen)
			continue;
		nj_json_open_arr(j, s->meta[i].key);
		for (unsigned k = i; k < s->nmeta; k++)
			if (strcmp(s->meta[k].key, s->meta[i].key) == 0)
				nj_json_str(j, NULL, s->meta[k].value ? s->meta[k].value : "");
		nj_json_close_arr(j);
	}
	nj_json_close_obj(j);
}

/* Flowbits named traffic/id/X and traffic/label/X: Suricata 8's "traffic" object. */
static void json_traffic(struct nj_json *j, const struct nj_detect_engine *e,
			 const struct eng_flow *ef)
{
	static const char *const kinds[2] = {"id", "label"};
	bool open = false;

	for (int k = 0; k < 2; k++) {
		size_t pl = k ? 14 : 11;
		bool arr = false;

		for (uint32_t i = 0; i < e->ntraffic; i++) {
			unsigned id = e->traffic_bits[i];
			const char *name = e->rules->bitnames[id];

			if (!(ef->data[id / 8] & (1u << (id % 8))) ||
			    strncmp(name + 8, kinds[k], strlen(kinds[k])) != 0 ||
			    name[8 + strlen(kinds[k])] != '/')
				continue;
			if (!open) {
				nj_json_open_obj(j, "traffic");
				open = true;
			}
			if (!arr) {
				nj_json_open_arr(j, kinds[k]);
				arr = true;
			}
			nj_json_str(j, NULL, name + pl);
		}
		if (arr)
			nj_json_close_arr(j);
	}
	if (open)
		nj_json_close_obj(j);
}

/* The flow's part of an alert: app_proto, direction and (option) the "flow" object. */
static void json_flow_ctx(struct nj_json *j, const struct nj_flow *f, const struct nj_pkt *p,
			  int dir, bool flow_obj)
{
	const char *ap = f->app_proto ? nj_app_proto_name(f->app_proto) : NULL;

	if (ap)
		nj_json_str(j, "app_proto", ap);
	nj_json_str(j, "direction", dir ? "to_client" : "to_server");
	if (flow_obj) {
		char ts[40];
		bool ports = f->proto == 6 || f->proto == 17 || f->proto == 132;
		uint64_t pk[2], by[2];

		nj_detect_flow_counts_at(f, p, pk, by); /* as of the alerting packet */
		nj_json_open_obj(j, "flow");
		nj_json_u64(j, "pkts_toserver", pk[0]);
		nj_json_u64(j, "pkts_toclient", pk[1]);
		nj_json_u64(j, "bytes_toserver", by[0]);
		nj_json_u64(j, "bytes_toclient", by[1]);
		nj_eve_format_ts(ts, f->start_us);
		nj_json_str(j, "start", ts);
		nj_json_ip(j, "src_ip", nj_flow_src(f), f->ipv6 ? 16 : 4);
		nj_json_ip(j, "dest_ip", nj_flow_dst(f), f->ipv6 ? 16 : 4);
		if (ports) {
			nj_json_u64(j, "src_port", nj_flow_sport(f));
			nj_json_u64(j, "dest_port", nj_flow_dport(f));
		}
		nj_json_close_obj(j);
	}
}

static bool is_reject(uint8_t action)
{
	return action == NJ_ACT_REJECT || action == NJ_ACT_REJECTSRC ||
	       action == NJ_ACT_REJECTDST || action == NJ_ACT_REJECTBOTH;
}

/*
 * Suricata's fast.log line (alert-fastlog.c) for alert a on packet hp:
 *   MM/DD/YYYY-hh:mm:ss.uuuuuu  [wDrop] [**] [gid:sid:rev] msg [**]
 *   [Classification: desc] [Priority: N] {PROTO} src:sport -> dst:dport
 * (one line; "[wDrop] " only for drop and reject rules). ICMP gives type and code as the ports;
 * a packet without an IP header gives the first 32 bytes in hex and its pcap number instead of
 * the addresses. Time in UTC, as every Nightjar output.
 */
static void write_fast(struct nj_detect_thread *t, const struct nj_detect_sig *s,
		       const struct nj_pkt *hp, const char *class_desc)
{
	static __thread char line[2048];
	char ts[96], src[48], dst[48], num[4], pbuf[16];
	struct nj_eve_piece pc;
	struct tm tm;
	time_t sec = (time_t)(hp->ts_us / 1000000);
	const char *action = "";
	const char *msg = s->msg ? s->msg : "(null)";
	const char *cls = class_desc ? class_desc : "(null)";
	bool ip = (hp->flags & (NJ_PKT_IPV4 | NJ_PKT_IPV6)) && hp->data &&
		  (uint32_t)hp->l3_off + ((hp->flags & NJ_PKT_IPV6) ? 40u : 20u) <= hp->len;
	int n;

	gmtime_r(&sec, &tm);
	snprintf(ts, sizeof(ts), "%02d/%02d/%04d-%02d:%02d:%02d.%06u", tm.tm_mon + 1, tm.tm_mday,
		 tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (unsigned)(hp->ts_us % 1000000));
	if (s->action == NJ_ACT_DROP || is_reject(s->action))
		action = "[wDrop] "; /* IDS: the packet would have been dropped */
	if (ip) {
		const char *pn = nj_eve_proto_name(hp->proto, num);
		unsigned sp = 0, dp = 0;

		if (pn == num) { /* a protocol without a name */
			snprintf(pbuf, sizeof(pbuf), "PROTO:%03u", hp->proto);
			pn = pbuf;
		}
		if (hp->flags & NJ_PKT_HAS_L4) {
			if (hp->proto == 1 || hp->proto == 58) {
				sp = hp->icmp_type;
				dp = hp->icmp_code;
			} else {
				sp = hp->sport;
				dp = hp->dport;
			}
		}
		nj_ip_to_str(nj_pkt_src(hp), nj_pkt_addr_len(hp), src, sizeof(src));
		nj_ip_to_str(nj_pkt_dst(hp), nj_pkt_addr_len(hp), dst, sizeof(dst));
		n = snprintf(
			line, sizeof(line),
			"%s  %s[**] [%u:%u:%u] %s [**] [Classification: %s] [Priority: %u] {%s} "
			"%s:%u -> %s:%u",
			ts, action, s->gid, s->sid, s->rev, msg, cls, s->priority, pn, src, sp, dst,
			dp);
	} else {
		uint32_t k = hp->data ? (hp->len < 32 ? hp->len : 32) : 0;

		n = snprintf(
			line, sizeof(line),
			"%s  %s[**] [%u:%u:%u] %s [**] [Classification: %s] [Priority: %u] [**] "
			"[Raw pkt: ",
			ts, action, s->gid, s->sid, s->rev, msg, cls, s->priority);
		for (uint32_t i = 0; i < k && n > 0 && (size_t)n + 4 < sizeof(line); i++)
			n += snprintf(line + n, sizeof(line) - (size_t)n, "%02X ", hp->data[i]);
		if (n > 0 && (size_t)n < sizeof(line)) {
			if (hp->seq)
				n += snprintf(line + n, sizeof(line) - (size_t)n,
					      "] [pcap file packet: %llu]",
					      (unsigned long long)hp->seq);
			else
				n += snprintf(line + n, sizeof(line) - (size_t)n, "]");
		}
	}
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = (int)sizeof(line) - 1; /* as Suricata's 2 KiB line: cut */
	pc.p = line;
	pc.len = (size_t)n;
	nj_eve_write_raw(t->eve, NJ_EVE_FAST, &pc, 1);
}

/*
 * The packet's verdict (Suricata's EveAddVerdict, IDS mode): "pass" when a pass rule
 * decided the packet, "alert" otherwise; a reject rule adds its target and the
 * response it sends.
 */
struct verdict {
	bool pass;
	uint8_t reject; /* NJ_ACT_REJECT* of a rejecting alert, 0 none */
};

static void json_verdict(struct nj_json *j, const struct verdict *v, uint8_t proto)
{
	nj_json_open_obj(j, "verdict");
	if (v->reject) {
		nj_json_str(j, "action", "alert");
		nj_json_str(j, "reject-target",
			    v->reject == NJ_ACT_REJECTDST    ? "to_server"
			    : v->reject == NJ_ACT_REJECTBOTH ? "both"
							     : "to_client");
		nj_json_open_arr(j, "reject");
		if (proto == 6)
			nj_json_str(j, NULL, "tcp-reset");
		else if (proto == 17 || proto == 1 || proto == 58)
			nj_json_str(j, NULL, "icmp-prohib");
		nj_json_close_arr(j);
	} else {
		nj_json_str(j, "action", v->pass ? "pass" : "alert");
	}
	nj_json_close_obj(j);
}

static void write_alert(struct nj_detect_thread *t, const struct eng_alert *a,
			const struct verdict *v)
{
	const struct nj_detect_engine *e = t->e;
	const struct alert_opts *ao = &e->ao;
	const struct eng_sig *es = &e->sigs[a->num];
	const struct nj_detect_sig *s = es->s;
	const struct nj_pkt *p = a->p;
	struct nj_flow *f = a->f;
	struct nj_pkt hp;
	uint8_t hdr[64];
	struct nj_json *j;
	static __thread char scratch[2 * 65536 + 16];

	if (!t->eve)
		return;
	if (p) {
		hp = *p;
	} else if (f) {
		nj_eng_pseudo_fill(&hp, hdr, f, a->dir);
		if (f->proto == 1 || f->proto == 58)
			hp.flags &= (uint16_t)~NJ_PKT_HAS_L4; /* ICMP type/code from the flow */
	} else {
		return;
	}
	if (nj_eve_wants(t->eve, NJ_EVE_FAST))
		write_fast(t, s, &hp,
			   s->classtype && s->classtype < e->rules->nclasses
				   ? e->rules->classes[s->classtype].desc
				   : NULL);
	if (!nj_eve_wants(t->eve, NJ_EVE_ALERT))
		return;
	if (ao->xff_mode == XFF_OVERWRITE && a->xff[0] && f) {
		/* the client's address: the destination when the header is the server's side */
		bool tc = p ? (p->flags & NJ_PKT_TOCLIENT) != 0 : a->dir == NJ_DIR_TOCLIENT;

		nj_eve_addr_override(t->eve, tc ? NULL : a->xff, tc ? a->xff : NULL);
	}
	j = nj_eve_begin(t->eve, NJ_EVE_ALERT, hp.ts_us, f, &hp);
	nj_json_str(j, "pkt_src", p ? "wire/pcap" : "stream (flow timeout)");
	if (a->flags & AF_TX)
		nj_json_u64(j, "tx_id", a->tx_id);
	nj_json_open_obj(j, "alert");
	nj_json_str(j, "action", is_reject(s->action) ? "blocked" : "allowed");
	nj_json_u64(j, "gid", s->gid);
	nj_json_u64(j, "signature_id", s->sid);
	nj_json_u64(j, "rev", s->rev);
	nj_json_str(j, "signature", s->msg ? s->msg : "");
	nj_json_str(j, "category",
		    s->classtype && s->classtype < e->rules->nclasses &&
				    e->rules->classes[s->classtype].desc
			    ? e->rules->classes[s->classtype].desc
			    : "");
	nj_json_u64(j, "severity", s->priority);
	if (s->flags & (NJ_SIG_TARGET_SRC | NJ_SIG_TARGET_DST)) {
		bool dst_target = s->flags & NJ_SIG_TARGET_DST;

		json_endpoint(j, "source", &hp, dst_target);
		json_endpoint(j, "target", &hp, !dst_target);
	}
	if (ao->references && s->nrefs) {
		nj_json_open_arr(j, "references");
		for (unsigned i = 0; i < s->nrefs; i++) {
			int n = snprintf(scratch, sizeof(scratch), "%s%s",
					 s->refs[i].url_prefix ? s->refs[i].url_prefix : "",
					 s->refs[i].value ? s->refs[i].value : "");

			if (n > 0)
				nj_json_strn(j, NULL, scratch,
					     (size_t)n < sizeof(scratch) ? (size_t)n
									 : sizeof(scratch) - 1);
		}
		nj_json_close_arr(j);
	}
	if (ao->metadata && s->nmeta)
		json_metadata(j, s);
	if (ao->raw && s->raw)
		nj_json_str(j, "rule", s->raw);
	if (ao->xff_mode == XFF_EXTRA_DATA && a->xff[0])
		nj_json_str(j, "xff", a->xff);
	nj_json_close_obj(j);
	if (a->meta_key)
		nj_json_raw(j, NULL, t->meta + a->meta_off, a->meta_len);
	if (f)
		json_flow_ctx(j, f, p, a->dir, ao->flow);
	if (ao->payload || ao->payload_printable || ao->payload_length) {
		bool stream = f && f->proto == 6 && (a->flags & (AF_STREAM | AF_TX));
		const uint8_t *d = NULL;
		uint32_t n = 0;
		const struct eng_flow *ef = f ? f->detect_state : NULL;

		if (stream && ef && ef->tail_len[a->dir]) {
			d = ef->tail[a->dir];
			n = ef->tail_len[a->dir];
			if (n > ao->payload_max) {
				d += n - ao->payload_max;
				n = ao->payload_max;
			}
		} else if (p && p->payload_len && p->data) {
			d = p->data + p->payload_off;
			n = p->payload_len;
		}
		if (n > 65536)
			n = 65536;
		if (d && n) {
			if (ao->payload)
				b64(j, "payload", d, n, scratch);
			if (ao->payload_length)
				nj_json_u64(j, "payload_length", n);
			if (ao->payload_printable)
				printable(j, "payload_printable", d, n, scratch);
		}
		nj_json_u64(j, "stream", stream ? 1 : 0);
	}
	if (ao->packet && p && p->data && p->len) {
		const char *ln = linktype_name(p->linktype);
		uint32_t n = p->len > 65536 ? 65536 : p->len;

		b64(j, "packet", p->data, n, scratch);
		nj_json_open_obj(j, "packet_info");
		nj_json_u64(j, "linktype", p->linktype);
		if (ln)
			nj_json_str(j, "linktype_name", ln);
		nj_json_close_obj(j);
	}
	if (ao->verdict && v)
		json_verdict(j, v, hp.proto);
	nj_eve_commit(t->eve);
}

void nj_alert_write_packet(struct nj_detect_thread *t, const struct nj_pkt *p)
{
	static __thread char scratch[2 * 65536 + 16];
	const char *ln = linktype_name(p->linktype);
	uint32_t n = p->len > 65536 ? 65536 : p->len;
	struct nj_json *j;

	if (!t->eve || !p->data || !p->len || !nj_eve_wants(t->eve, NJ_EVE_PACKET))
		return;
	j = nj_eve_begin(t->eve, NJ_EVE_PACKET, p->ts_us, p->flow, p);
	b64(j, "packet", p->data, n, scratch);
	nj_json_open_obj(j, "packet_info");
	nj_json_u64(j, "linktype", p->linktype);
	if (ln)
		nj_json_str(j, "linktype_name", ln);
	nj_json_close_obj(j);
	nj_eve_commit(t->eve);
}

/* ------------------------------------------------------------ finalize */

static void finalize(struct nj_detect_thread *t, struct eng_alert *q, unsigned n)
{
	const struct nj_detect_engine *e = t->e;
	unsigned emitted = 0, nout = 0;
	uint16_t out[PEND_MAX]; /* the alerts to write, in order */
	struct verdict v = {false, 0};

	/* signature order, then transaction id */
	for (unsigned i = 1; i < n; i++) {
		struct eng_alert v = q[i];
		unsigned k = i;

		while (k && (q[k - 1].num > v.num ||
			     (q[k - 1].num == v.num && q[k - 1].tx_id > v.tx_id))) {
			q[k] = q[k - 1];
			k--;
		}
		q[k] = v;
	}
	for (unsigned i = 0; i < n; i++) {
		const struct eng_alert *a = &q[i];
		const struct eng_sig *es = &e->sigs[a->num];
		const struct nj_pkt *p;
		struct nj_pkt pp;
		uint8_t hdr[64];

		/* once per packet and transaction; a rule that alerts once per direction of a
		 * transaction keeps both directions when they finish on one packet */
		if (i && q[i - 1].num == a->num && q[i - 1].tx_id == a->tx_id &&
		    !((a->flags & AF_TX) && (es->flags & ES_TX_EACHDIR) && q[i - 1].dir != a->dir))
			continue;
		p = a->p ? a->p : a->f ? nj_eng_pseudo_fill(&pp, hdr, a->f, a->dir) : NULL;
		if ((es->s->suppress && suppressed(es->s, p)) || !threshold(t, es, a, p)) {
			t->st.alerts_suppressed++;
			continue;
		}
		if (es->s->action == NJ_ACT_PASS) {
			if (a->f &&
			    ((a->flags & (AF_STREAM | AF_TX)) || (es->flags & ES_PASS_FLOW))) {
				struct eng_flow *ef = nj_eng_flow_get(t, a->f);

				if (ef)
					ef->flags |= EF_PASS;
			}
			t->st.pass++;
			v.pass = true;
			/* the alert keyword: the pass rule alerts too */
			if ((es->s->flags & NJ_SIG_ALERT) && emitted < e->alert_max) {
				out[nout++] = (uint16_t)i;
				emitted++;
			}
			break;
		}
		if (es->s->flags & NJ_SIG_NOALERT)
			continue;
		if (emitted >= e->alert_max) {
			t->st.alert_queue_full++;
			continue;
		}
		if (is_reject(es->s->action) && !v.reject)
			v.reject = es->s->action;
		out[nout++] = (uint16_t)i;
		emitted++;
	}
	for (unsigned k = 0; k < nout; k++) {
		const struct eng_alert *a = &q[out[k]];
		const struct eng_sig *es = &e->sigs[a->num];

		write_alert(t, a, &v);
		if (es->s->ntags) {
			struct nj_pkt pp;
			uint8_t hdr[64];

			nj_tag_alert(t, es->s, a->f,
				     a->p   ? a->p
				     : a->f ? nj_eng_pseudo_fill(&pp, hdr, a->f, a->dir)
					    : NULL);
		}
		t->st.alerts++;
		if (a->f)
			a->f->alerted = 1;
	}
}

static void flush_key(struct nj_detect_thread *t, const struct nj_pkt *p, const struct nj_flow *f,
		      bool deferred)
{
	struct eng_alert q[PEND_MAX];
	unsigned n = 0, k = 0;

	for (unsigned i = 0; i < t->npend; i++) {
		bool d = (t->pend[i].flags & AF_DEFER) != 0;

		if (t->pend[i].p == p && (p || t->pend[i].f == f) && (deferred || !d)) {
			q[n] = t->pend[i];
			q[n++].flags &= (uint8_t)~AF_DEFER;
			t->ndefer -= d;
		} else {
			t->pend[k++] = t->pend[i];
		}
	}
	t->npend = k;
	if (n)
		finalize(t, q, n);
}

void nj_alert_flush_pkt(struct nj_detect_thread *t, const struct nj_pkt *p)
{
	flush_key(t, p, NULL, false);
}

void nj_alert_flush_null(struct nj_detect_thread *t, const struct nj_flow *f)
{
	flush_key(t, NULL, f, false);
}

void nj_alert_flush_deferred(struct nj_detect_thread *t, const struct nj_flow *f)
{
	flush_key(t, NULL, f, true);
}

/* Everything pending but the deferred alerts (they outlive the burst). */
void nj_alert_flush_all(struct nj_detect_thread *t)
{
	while (t->npend > t->ndefer) {
		unsigned i = 0;

		while (t->pend[i].flags & AF_DEFER)
			i++;
		flush_key(t, t->pend[i].p, t->pend[i].f, false);
	}
}

void nj_alert_adopt(struct nj_detect_thread *t, const struct nj_pkt *p)
{
	unsigned dir = (p->flags & NJ_PKT_TOCLIENT) ? 1 : 0;

	for (unsigned i = 0; i < t->npend; i++) {
		struct eng_alert *a = &t->pend[i];

		/* packets of the burst it was raised in came before the one that raised it */
		if ((a->flags & AF_DEFER) && a->f == p->flow && a->dir == dir &&
		    a->burst != t->burst_no) {
			a->flags &= (uint8_t)~AF_DEFER;
			a->p = p;
			t->ndefer--;
		}
	}
}

/* Whether flowbit id is a traffic/id/X or traffic/label/X bit (logged in "traffic"). */
static bool is_traffic_bit(const struct nj_detect_engine *e, uint32_t id)
{
	for (uint32_t i = 0; i < e->ntraffic; i++)
		if (e->traffic_bits[i] == id)
			return true;
	return false;
}

/*
 * Next set bit at or after *id in bits[0 .. (n + 7) / 8), a whole zero byte skipped
 * at a time (most flows set few or no variables); false when there is none.
 */
static bool next_set(const uint8_t *bits, uint32_t n, uint32_t *id)
{
	for (uint32_t i = *id; i < n;) {
		uint8_t m = (uint8_t)(bits[i / 8] >> (i % 8));

		if (!m) {
			i = (i / 8 + 1) * 8;
			continue;
		}
		i += (uint32_t)__builtin_ctz(m);
		if (i >= n)
			break;
		*id = i;
		return true;
	}
	return false;
}

void nj_alert_flow_meta(void *arg, struct nj_json *j, const struct nj_flow *f,
			const struct nj_pkt *p)
{
	const struct nj_detect_thread *t = arg;
	const struct nj_detect_engine *e = t->e;
	const struct eng_flow *ef = f->detect_state;
	bool open = false, arr = false;
	uint32_t id;

	(void)p;
	if (!e || !ef)
		return;
	if (e->ntraffic)
		json_traffic(j, e, ef);
	for (id = 0; next_set(ef->data, e->nbits, &id); id++) {
		if (is_traffic_bit(e, id))
			continue;
		if (!open) {
			nj_json_open_obj(j, "metadata");
			open = true;
		}
		if (!arr) {
			nj_json_open_arr(j, "flowbits");
			arr = true;
		}
		nj_json_str(j, NULL, e->rules->bitnames[id]);
	}
	if (arr)
		nj_json_close_arr(j);
	arr = false;
	for (id = 0; next_set(ef->data + e->off_intset, e->nints, &id); id++) {
		uint32_t v;

		if (!open) {
			nj_json_open_obj(j, "metadata");
			open = true;
		}
		if (!arr) {
			nj_json_open_obj(j, "flowints");
			arr = true;
		}
		memcpy(&v, ef->data + e->off_ints + 4 * id, 4);
		nj_json_u64(j, e->rules->intnames[id], v);
	}
	if (arr)
		nj_json_close_obj(j);
	if (open)
		nj_json_close_obj(j);
}

void nj_alert_write_ext(struct nj_eve_worker *eve, const struct nj_alert_ext *x, struct nj_flow *f,
			int dir, uint64_t ts_us, uint64_t pcap_cnt)
{
	struct nj_json *j;

	if (!eve || !nj_eve_wants(eve, NJ_EVE_ALERT))
		return;
	if (f)
		j = nj_eve_begin_flow_seq(eve, NJ_EVE_ALERT, ts_us, f, dir == 1, pcap_cnt);
	else
		j = nj_eve_begin(eve, NJ_EVE_ALERT, ts_us, NULL, NULL);
	if (x->tx_id_set)
		nj_json_u64(j, "tx_id", x->tx_id);
	nj_json_open_obj(j, "alert");
	nj_json_str(j, "action", "allowed");
	nj_json_u64(j, "gid", x->gid);
	nj_json_u64(j, "signature_id", x->sid);
	nj_json_u64(j, "rev", x->rev);
	nj_json_str(j, "signature", x->signature ? x->signature : "");
	nj_json_str(j, "category", x->category ? x->category : "");
	nj_json_u64(j, "severity", x->severity);
	if (x->alert_fn)
		x->alert_fn(j, x->arg);
	nj_json_close_obj(j);
	if (x->pre_flow_fn)
		x->pre_flow_fn(j, x->pre_flow_arg);
	if (f)
		json_flow_ctx(j, f, NULL, dir, x->flow);
	if (x->post_flow_fn)
		x->post_flow_fn(j, x->arg);
	nj_eve_commit(eve);
}
