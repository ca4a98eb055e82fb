/* SPDX-License-Identifier: MIT */
/*
 * Event writers for what the core itself produces: flow, netflow, decoder
 * anomalies and stats. Shapes and key order follow Suricata's EVE output
 * (output-json-flow.c, output-json-netflow.c, output-json-anomaly.c,
 * output-json-stats.c) so that Suricata consumers read them unchanged.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "../common/nj_common.h"
#include "../dataplane/flow.h"
#include "../dataplane/pkt.h"
#include "eve_priv.h"

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_PSH 0x08
#define TH_ACK 0x10
#define TH_URG 0x20
#define TH_ECN 0x40
#define TH_CWR 0x80

static void json_hex8(struct nj_json *j, const char *key, uint8_t v)
{
	static const char hex[] = "0123456789abcdef";
	char s[2] = {hex[v >> 4], hex[v & 15]};

	nj_json_strn(j, key, s, 2);
}

/* Suricata writes only the flags that are set, each as true. */
static void json_tcp_flags(struct nj_json *j, uint8_t fl)
{
	if (fl & TH_SYN)
		nj_json_bool(j, "syn", true);
	if (fl & TH_FIN)
		nj_json_bool(j, "fin", true);
	if (fl & TH_RST)
		nj_json_bool(j, "rst", true);
	if (fl & TH_PSH)
		nj_json_bool(j, "psh", true);
	if (fl & TH_ACK)
		nj_json_bool(j, "ack", true);
	if (fl & TH_URG)
		nj_json_bool(j, "urg", true);
	if (fl & TH_ECN)
		nj_json_bool(j, "ecn", true);
	if (fl & TH_CWR)
		nj_json_bool(j, "cwr", true);
}

static void json_ts(struct nj_json *j, const char *key, uint64_t ts_us)
{
	char buf[40];

	nj_eve_format_ts(buf, ts_us);
	nj_json_strn(j, key, buf, 31);
}

/* flow.age: whole seconds between first and last packet, as Suricata. */
static uint64_t flow_age(const struct nj_flow *f)
{
	uint64_t a = f->start_us / 1000000, b = f->last_us / 1000000;

	return b > a ? b - a : 0;
}

static bool app_proto_known(const char *app_proto)
{
	return app_proto && app_proto[0] && strcmp(app_proto, "unknown") != 0;
}

void nj_eve_log_flow(struct nj_eve_worker *w, struct nj_flow *f, enum nj_flow_end_reason why,
		     const char *app_proto)
{
	nj_eve_log_flow_ex(w, f, why, app_proto, NULL, NULL);
}

void nj_eve_log_flow_ex(struct nj_eve_worker *w, struct nj_flow *f, enum nj_flow_end_reason why,
			const char *app_proto, const char *app_proto_orig,
			void (*extra)(struct nj_json *j, const struct nj_flow *f))
{
	struct nj_json *j;

	if (!f || !nj_eve_wants(w, NJ_EVE_FLOW))
		return;
	j = nj_eve_begin_flow(w, NJ_EVE_FLOW, f->last_us, f, false);
	if (app_proto_known(app_proto))
		nj_json_str(j, "app_proto", app_proto);
	if (app_proto_known(app_proto_orig) &&
	    (!app_proto || strcmp(app_proto, app_proto_orig) != 0))
		nj_json_str(j, "app_proto_orig", app_proto_orig);

	nj_json_open_obj(j, "flow");
	nj_json_u64(j, "pkts_toserver", f->pkts_ts);
	nj_json_u64(j, "pkts_toclient", f->pkts_tc);
	nj_json_u64(j, "bytes_toserver", f->bytes_ts);
	nj_json_u64(j, "bytes_toclient", f->bytes_tc);
	json_ts(j, "start", f->start_us);
	json_ts(j, "end", f->last_us);
	nj_json_u64(j, "age", flow_age(f));
	nj_json_str(j, "state", nj_flow_state_name((enum nj_flow_state)f->state));
	nj_json_str(j, "reason", nj_flow_reason_name(why));
	nj_json_bool(j, "alerted", f->alerted != 0);
	nj_json_close_obj(j);

	if (f->proto == 6) {
		nj_json_open_obj(j, "tcp");
		json_hex8(j, "tcp_flags", f->tcp_flags_ts | f->tcp_flags_tc);
		json_hex8(j, "tcp_flags_ts", f->tcp_flags_ts);
		json_hex8(j, "tcp_flags_tc", f->tcp_flags_tc);
		json_tcp_flags(j, f->tcp_flags_ts | f->tcp_flags_tc);
		if (f->tcp_state != NJ_TCP_NONE)
			nj_json_str(j, "state", nj_tcp_state_name((enum nj_tcp_state)f->tcp_state));
		if (f->max_regions[0]) {
			nj_json_u64(j, "ts_max_regions", f->max_regions[0]);
			nj_json_u64(j, "tc_max_regions", f->max_regions[1]);
		}
		nj_json_close_obj(j);
	}
	if (extra)
		extra(j, f);
	nj_eve_commit(w);
}

static void netflow_one(struct nj_eve_worker *w, struct nj_flow *f, bool to_client)
{
	struct nj_json *j = nj_eve_begin_flow(w, NJ_EVE_NETFLOW, f->last_us, f, to_client);
	uint8_t fl = to_client ? f->tcp_flags_tc : f->tcp_flags_ts;

	nj_json_open_obj(j, "netflow");
	nj_json_u64(j, "pkts", to_client ? f->pkts_tc : f->pkts_ts);
	nj_json_u64(j, "bytes", to_client ? f->bytes_tc : f->bytes_ts);
	json_ts(j, "start", f->start_us);
	json_ts(j, "end", f->last_us);
	nj_json_u64(j, "age", flow_age(f));
	nj_json_close_obj(j);
	if (f->proto == 6) {
		nj_json_open_obj(j, "tcp");
		json_hex8(j, "tcp_flags", fl);
		json_tcp_flags(j, fl);
		nj_json_close_obj(j);
	}
	nj_eve_commit(w);
}

void nj_eve_log_netflow(struct nj_eve_worker *w, struct nj_flow *f)
{
	if (!f || !nj_eve_wants(w, NJ_EVE_NETFLOW))
		return;
	netflow_one(w, f, false);
	/* as Suricata: a response record only when the server sent something */
	if (f->pkts_tc)
		netflow_one(w, f, true);
}

void nj_eve_log_decode_anomaly(struct nj_eve_worker *w, const struct nj_pkt *p,
			       const char *event_name, bool packethdr)
{
	static const char dec[] = "decoder.";
	struct nj_json *j;
	char name[128];
	const char *type = "decode";
	size_t n;

	if (!p || !nj_eve_wants(w, NJ_EVE_ANOMALY))
		return;
	if (!event_name)
		event_name = "unknown";
	n = strlen(event_name);
	/* Suricata's decoder event names carry "decoder."; stream events their own "stream." */
	if (strncmp(event_name, "stream.", 7) == 0) {
		type = "stream";
	} else if (strncmp(event_name, dec, sizeof(dec) - 1) != 0 &&
		   n + sizeof(dec) <= sizeof(name)) {
		memcpy(name, dec, sizeof(dec) - 1);
		memcpy(name + sizeof(dec) - 1, event_name, n + 1);
		event_name = name;
	}
	j = nj_eve_begin(w, NJ_EVE_ANOMALY, p->ts_us, p->flow, p);
	nj_json_open_obj(j, "anomaly");
	nj_json_str(j, "type", type);
	nj_json_str(j, "event", event_name);
	nj_json_close_obj(j);
	if (packethdr) {
		/* the packet's headers (through L4), as Suricata's packethdr option */
		unsigned char b64[4 * ((NJ_EVE_PACKETHDR_MAX + 2) / 3) + 1];
		uint32_t hl = p->payload_off && p->payload_off <= p->len ? p->payload_off : p->len;

		if (hl > NJ_EVE_PACKETHDR_MAX)
			hl = NJ_EVE_PACKETHDR_MAX;
		EVP_EncodeBlock(b64, p->data, (int)hl);
		nj_json_str(j, "packet", (const char *)b64);
		nj_json_open_obj(j, "packet_info");
		nj_json_u64(j, "linktype", p->linktype);
		nj_json_close_obj(j);
	}
	nj_eve_commit(w);
}

/* ------------------------------------------------------------ stats */

#define STATS_MAX_DEPTH 16

static int name_cmp(const void *a, const void *b, void *arg)
{
	const char *const *names = arg;

	return strcmp(names[*(const uint16_t *)a], names[*(const uint16_t *)b]);
}

/* Splits "a.b.c" into component offsets/lengths; returns the count, 0 if too deep. */
static unsigned split(const char *s, uint16_t *off, uint16_t *len)
{
	unsigned k = 0;
	size_t start = 0, i;

	for (i = 0;; i++) {
		if (s[i] == '.' || s[i] == '\0') {
			if (k == STATS_MAX_DEPTH || i - start > 255)
				return 0;
			off[k] = (uint16_t)start;
			len[k++] = (uint16_t)(i - start);
			if (s[i] == '\0')
				break;
			start = i + 1;
		}
		if (i > 4000)
			return 0;
	}
	return k;
}

void nj_eve_log_stats(struct nj_eve_worker *w, uint64_t ts_us, uint64_t uptime_s,
		      const char *const *names, const uint64_t *vals, unsigned n)
{
	nj_eve_log_stats_raw(w, ts_us, uptime_s, names, vals, NULL, n);
}

void nj_eve_log_stats_raw(struct nj_eve_worker *w, uint64_t ts_us, uint64_t uptime_s,
			  const char *const *names, const uint64_t *vals, const char *const *raw,
			  unsigned n)
{
	uint16_t idx[NJ_EVE_STATS_MAX];
	/* currently open objects: the name and component of their path */
	const char *open_name[STATS_MAX_DEPTH];
	uint16_t open_off[STATS_MAX_DEPTH], open_len[STATS_MAX_DEPTH];
	unsigned nopen = 0, m = 0;
	struct nj_json *j;

	if (!nj_eve_wants(w, NJ_EVE_STATS))
		return;
	if (n > NJ_EVE_STATS_MAX)
		n = NJ_EVE_STATS_MAX;
	for (unsigned i = 0; i < n; i++)
		if (names[i] && names[i][0])
			idx[m++] = (uint16_t)i;
	/* sorting brings every dotted prefix together, so each object opens once */
	qsort_r(idx, m, sizeof(idx[0]), name_cmp, (void *)names);

	j = nj_eve_begin(w, NJ_EVE_STATS, ts_us, NULL, NULL);
	nj_json_open_obj(j, "stats");
	nj_json_u64(j, "uptime", uptime_s);
	for (unsigned i = 0; i < m; i++) {
		const char *s = names[idx[i]];
		uint16_t off[STATS_MAX_DEPTH], len[STATS_MAX_DEPTH];
		unsigned k = split(s, off, len), common = 0;
		char key[256];

		if (!k)
			continue;
		/* objects still open that are a prefix of this name stay open */
		while (common < nopen && common < k - 1 && open_len[common] == len[common] &&
		       memcmp(open_name[common] + open_off[common], s + off[common], len[common]) ==
			       0)
			common++;
		while (nopen > common) {
			nj_json_close_obj(j);
			nopen--;
		}
		for (; nopen < k - 1; nopen++) {
			memcpy(key, s + off[nopen], len[nopen]);
			key[len[nopen]] = '\0';
			nj_json_open_obj(j, key);
			open_name[nopen] = s;
			open_off[nopen] = off[nopen];
			open_len[nopen] = len[nopen];
		}
		memcpy(key, s + off[k - 1], len[k - 1]);
		key[len[k - 1]] = '\0';
		if (raw && raw[idx[i]])
			nj_json_raw(j, key, raw[idx[i]], strlen(raw[idx[i]]));
		else
			nj_json_u64(j, key, vals[idx[i]]);
	}
	while (nopen--)
		nj_json_close_obj(j);
	nj_json_close_obj(j);
	nj_eve_commit(w);
}
