/* SPDX-License-Identifier: MIT */
/*
 * EVE JSON output.
 *
 * Shape: an event is formatted once, by the worker that owns the data, into
 * that worker's scratch buffer with the json.h writer; then its bytes are
 * copied into the per-worker buffer of every sink (file) whose types include
 * the event type. A full buffer (or the flush tick, at least once a second, and
 * shutdown) becomes one zstd frame (or plain text) handed to the sink's writer
 * thread through a single-producer ring. The writer thread only moves bytes:
 * write(), rotation by size or time. Every zstd frame is complete, so
 * `zstd -dc` reads the file while it grows and after a crash up to the last
 * flush.
 *
 * No allocation, lock or syscall per event on the worker.
 */
#ifndef NJ_EVE_H
#define NJ_EVE_H

#include <stdbool.h>
#include <stdint.h>

#include "../dataplane/flow.h"
#include "json.h"

/* Event types (bit positions for sink filters). */
enum nj_eve_type {
	NJ_EVE_ALERT = 0,
	NJ_EVE_ANOMALY,
	NJ_EVE_FLOW,
	NJ_EVE_NETFLOW,
	NJ_EVE_STATS,
	NJ_EVE_HTTP,
	NJ_EVE_DNS,
	NJ_EVE_TLS,
	NJ_EVE_FILEINFO,
	NJ_EVE_SMB,
	NJ_EVE_BEACON,
	NJ_EVE_PACKET, /* tagged packets; written wherever alerts are */
	NJ_EVE_FTP,
	NJ_EVE_FTP_DATA, /* enabled with "ftp", as Suricata's eve-log ftp logger */
	NJ_EVE_OTHER,
	/*
	 * Not an EVE event: a line of Suricata's fast.log, written by
	 * nj_eve_write_raw to the sinks configured as `- fast:` outputs.
	 */
	NJ_EVE_FAST,
	NJ_EVE_TYPE_MAX
};

/* Every EVE JSON event type (all but the fast.log lines). */
#define NJ_EVE_JSON_TYPES ((1u << NJ_EVE_FAST) - 1)

const char *nj_eve_type_name(enum nj_eve_type t);
/* Parses a types: entry ("flow", "alert", "files" -> fileinfo...). -1 if unknown (and "fast"). */
int nj_eve_type_parse(const char *name);

#define NJ_EVE_MAX_SINKS 8
/* Bytes of packet headers an anomaly event carries with packethdr. */
#define NJ_EVE_PACKETHDR_MAX 256

struct nj_eve_sink_config {
	char path[4096]; /* full path of the output file */
	bool zstd;	 /* compress (default when path ends in .zst) */
	int zstd_level;
	uint32_t types;		 /* bitmask of 1u << enum nj_eve_type */
	uint64_t rotate_bytes;	 /* 0 = never */
	uint32_t rotate_seconds; /* 0 = never */
	bool append;		 /* append to an existing file (default: truncate) */
};

struct nj_eve_config {
	unsigned nsinks;
	struct nj_eve_sink_config sinks[NJ_EVE_MAX_SINKS];
	uint32_t buffer_bytes; /* per worker and sink; a frame is at most this */
	uint32_t flush_ms;     /* max time an event waits in a buffer (<= 1000) */
	uint32_t ring_frames;  /* frames in flight per worker and sink */
	bool community_id;     /* add community_id to events with a flow */
	uint16_t community_id_seed;
	bool offline;	    /* pcap_cnt in events; never drop: wait for the writer */
	bool ipv6_compress; /* IPv6 as RFC 5952 text (eve-log ipv6-compress), else full form */
	bool ethernet;	    /* "ether" MAC addresses in events (eve-log ethernet: yes) */
};

void nj_eve_config_defaults(struct nj_eve_config *cfg);

struct nj_eve_stats {
	uint64_t events[NJ_EVE_TYPE_MAX];
	uint64_t bytes_in, frames;
	uint64_t dropped;   /* events lost: writer could not keep up (live mode only) */
	uint64_t too_large; /* events over the buffer size, dropped */
};

struct nj_eve;	      /* the output system: sinks and writer threads */
struct nj_eve_worker; /* one worker's buffers for every sink */

/* Opens the files and starts the writer thread. NULL with *err set on failure. */
struct nj_eve *nj_eve_open(const struct nj_eve_config *cfg, unsigned nworkers, char *err,
			   size_t errlen);
/* Flushes and closes everything; call after every worker has called nj_eve_worker_flush. */
void nj_eve_close(struct nj_eve *eve);
/* Per-worker handle; id < nworkers. Handle id == nworkers is the control thread's. */
struct nj_eve_worker *nj_eve_worker(struct nj_eve *eve, unsigned id);
const struct nj_eve_stats *nj_eve_worker_stats(const struct nj_eve_worker *w);
bool nj_eve_wants(const struct nj_eve_worker *w, enum nj_eve_type t);
/*
 * GeoIP enrichment (geoip.h): gives every handle its own lookup cache on g
 * (NULL: none); events with addresses then carry a "geoip" object. Start-up only.
 */
struct nj_geoip;
struct nj_geoip_cache;
int nj_eve_set_geoip(struct nj_eve *eve, const struct nj_geoip *g);
/* The handle's GeoIP cache, for other users on the same core; NULL without GeoIP. */
struct nj_geoip_cache *nj_eve_worker_geoip(const struct nj_eve_worker *w);

/*
 * Start an event: writes {"timestamp":..,"flow_id":..,"pcap_cnt":..,
 * "event_type":..,"src_ip":..,"src_port":..,"dest_ip":..,"dest_port":..,
 * "proto":..,"community_id":.. into the worker's scratch and returns the writer
 * positioned inside the top-level object, ready for the type's own keys. f and
 * p may be NULL. With a flow, addresses follow the flow's client/server
 * orientation unless p is given and is to_client (then reversed, as Suricata
 * logs packet direction for alerts).
 */
struct nj_json *nj_eve_begin(struct nj_eve_worker *w, enum nj_eve_type t, uint64_t ts_us,
			     struct nj_flow *f, const struct nj_pkt *p);
/*
 * The next nj_eve_begin writes these texts (NULL: the real address) as
 * src_ip / dest_ip: the alert xff option's overwrite mode. The strings must
 * live until that call.
 */
void nj_eve_addr_override(struct nj_eve_worker *w, const char *src, const char *dst);
/* Closes the object, appends '\n' and copies it to every interested sink. */
void nj_eve_commit(struct nj_eve_worker *w);

/*
 * Deferred events (YARA scanner threads): between nj_eve_capture(w, buf, size,
 * &len) and nj_eve_capture(w, NULL, 0, NULL) a commit copies the finished
 * event (no '\n') into buf and sets len (UINT32_MAX: over size) instead of
 * writing it out. nj_eve_write_raw writes an event given as pieces of
 * finished JSON (one object, no '\n') through a handle, as commit does.
 */
struct nj_eve_piece {
	const char *p;
	size_t len;
};
void nj_eve_capture(struct nj_eve_worker *w, char *buf, uint32_t size, uint32_t *len);
void nj_eve_write_raw(struct nj_eve_worker *w, enum nj_eve_type t, const struct nj_eve_piece *pc,
		      unsigned n);

/*
 * The flow's variables in every event of the flow written through handle w, as
 * Suricata's EveAddMetadata ("traffic" and "metadata": flowbits, flowints,
 * flowvars, and the packet's pktvars): fn is called by nj_eve_begin* after the
 * header for events with a flow whose detect_state is set, with the event's
 * packet (NULL for flow records). Set once by detection for its own core's handle.
 */
typedef void (*nj_eve_flow_meta_fn)(void *arg, struct nj_json *j, const struct nj_flow *f,
				    const struct nj_pkt *p);
void nj_eve_set_flow_meta(struct nj_eve_worker *w, nj_eve_flow_meta_fn fn, void *arg);

/* Time tick from the owning worker: flushes buffers older than flush_ms. */
void nj_eve_worker_tick(struct nj_eve_worker *w, uint64_t wall_ms);
/* Flush everything buffered now (end of input, shutdown). */
void nj_eve_worker_flush(struct nj_eve_worker *w);

/* Helpers used by event writers. */
void nj_eve_format_ts(char out[40], uint64_t ts_us); /* 2017-04-07T22:24:37.251547+0000 */
/* Suricata's protocol name ("TCP", "IPv6-ICMP", ...) or the number as text; out >= 4 bytes. */
const char *nj_eve_proto_name(uint8_t proto, char out[4]);

/*
 * Event writers (eve_flow.c). Each checks nj_eve_wants itself, so callers may
 * call them unconditionally; checking first saves the call.
 */
/* Suricata's "flow" event; app_proto NULL when unknown. Timestamp: the flow's last packet. */
void nj_eve_log_flow(struct nj_eve_worker *w, struct nj_flow *f, enum nj_flow_end_reason why,
		     const char *app_proto);
/* The same with extra keys written by extra (the ICMP echo summary) before the event closes. */
/* app_proto_orig: the protocol before a change (HTTP CONNECT), logged when it differs. */
void nj_eve_log_flow_ex(struct nj_eve_worker *w, struct nj_flow *f, enum nj_flow_end_reason why,
			const char *app_proto, const char *app_proto_orig,
			void (*extra)(struct nj_json *j, const struct nj_flow *f));
/* Suricata's "netflow" events: one per direction (to-client only if it saw packets). */
void nj_eve_log_netflow(struct nj_eve_worker *w, struct nj_flow *f);
/* {"event_type":"anomaly","anomaly":{"type":"decode","event":"decoder.<event_name>"}}. */
void nj_eve_log_decode_anomaly(struct nj_eve_worker *w, const struct nj_pkt *p,
			       const char *event_name, bool packethdr);
/*
 * "stats" event from the control handle: dotted counter names ("decoder.pkts",
 * "flow.tcp") become nested objects; names may come in any order, at most
 * NJ_EVE_STATS_MAX of them (the rest are ignored).
 */
#define NJ_EVE_STATS_MAX 4096
void nj_eve_log_stats(struct nj_eve_worker *w, uint64_t ts_us, uint64_t uptime_s,
		      const char *const *names, const uint64_t *vals, unsigned n);
/* The same where raw[i] (when raw and raw[i] are not NULL) is finished JSON written instead
 * of vals[i] (Suricata's detect.engines array). */
void nj_eve_log_stats_raw(struct nj_eve_worker *w, uint64_t ts_us, uint64_t uptime_s,
			  const char *const *names, const uint64_t *vals, const char *const *raw,
			  unsigned n);

#endif
