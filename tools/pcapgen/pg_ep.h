/* SPDX-License-Identifier: MIT */
/*
 * pcapgen's endpoint side (--endpoint-out): the Sysmon (Winlogbeat ECS or
 * flat "Mordor" JSON) or osquery events that the client hosts of the
 * generated traffic would have logged, with per-host clock skew, Sysmon's
 * delayed network-event delivery, losses and an optional NAT, plus a truth
 * file saying which flow (Community ID on the wire) each event belongs to.
 *
 * The protocols report what happened on a flow (files, DNS answers); the
 * events are built when the flow ends and written, in delivery order, by
 * pg_ep_finish. Nothing here draws from the flow's own PRNG, so the capture is
 * byte-identical with and without --endpoint-out (except for --endpoint-nat,
 * which changes the client address on the wire on purpose).
 */
#ifndef PG_EP_H
#define PG_EP_H

#include "pg.h"

enum pg_ep_format { PG_EP_WINLOGBEAT = 0, PG_EP_SYSMON_JSON, PG_EP_OSQUERY };

struct pg_ep_cfg {
	const char *out;
	const char *truth;
	const char *nat_map;
	int format;
	uint64_t skew_us;     /* per-host clock offset drawn in [-skew, +skew] */
	uint64_t net_skew_us; /* extra per-host offset of network events only */
	uint64_t batch_us;    /* Sysmon network-event delivery period */
	uint32_t loss_ppm;    /* share of events lost in transport, per million */
	bool nat;
};

extern bool pg_ep_on;
extern struct pg_ep_cfg pg_ep_cfg;

/* Before pg_flow_start: remembers the start and applies the NAT on the wire. */
void pg_ep_flow_new(struct pg_flow *f, uint64_t ts);
/* When the flow wrote its last packet: builds its endpoint events. */
void pg_ep_flow_end(struct pg_flow *f, uint64_t ts);

/* A DNS answer as the resolver client saw it (QueryResults in Sysmon form). */
void pg_ep_dns(struct pg_flow *f, const char *qname, uint16_t qtype, int rcode,
	       const char *results);

/* A file the client stored: begin, feed its exact bytes, end. */
void pg_ep_file_begin(struct pg_flow *f, int kind, const char *name, const char *source);
void pg_ep_file_update(struct pg_flow *f, const void *p, size_t n);
void pg_ep_file_end(struct pg_flow *f);
/* A file held in memory; it counts as complete when the flow ends. */
void pg_ep_file_mem(struct pg_flow *f, int kind, const char *name, const char *source,
		    const void *p, size_t n);
enum { PG_EP_FILE_HTTP = 0, PG_EP_FILE_SMB };

/* The Windows name of the client host at h ("WS-0042"); -1 if h is no client. */
int pg_ep_host_name(const struct pg_host *h, char *dst, size_t n);

/* Writes the events, the truth and the NAT map; returns 0 or -errno. */
int pg_ep_finish(void);

#endif
