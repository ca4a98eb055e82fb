/* SPDX-License-Identifier: MIT */
/*
 * nightjar-fuse: joins endpoint telemetry (Sysmon, osquery) to Nightjar's
 * EVE. docs/fusion.md describes the inputs, the join rules and the output.
 *
 * Pieces: adapters (fuse_adapt.c) turn one input line of any supported shape
 * into a normalised endpoint event; the join state (fuse_join.c) holds
 * time-windowed indexes of both sides and writes `fusion` events; the readers
 * (fuse_io.c) follow plain or zstd files and checkpoint their offsets.
 */
#ifndef NJ_FUSE_H
#define NJ_FUSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

enum nj_fuse_fmt {
	NJ_FUSE_FMT_AUTO = 0,
	NJ_FUSE_FMT_WINLOGBEAT,
	NJ_FUSE_FMT_SYSMON_JSON,
	NJ_FUSE_FMT_SENTINEL,
	NJ_FUSE_FMT_AZURE_XML,
	NJ_FUSE_FMT_OSQUERY,
	NJ_FUSE_FMT_MAX
};

const char *nj_fuse_fmt_name(enum nj_fuse_fmt f);
int nj_fuse_fmt_parse(const char *s, enum nj_fuse_fmt *out);

/* Outcome of one endpoint line; each is a counter. */
enum nj_fuse_parse {
	NJ_FUSE_OK = 0,
	NJ_FUSE_SKIP_OTHER, /* well-formed but not an event we use (other channel, EID) */
	NJ_FUSE_BAD_JSON,   /* not JSON / not an object */
	NJ_FUSE_BAD_SHAPE,  /* JSON, but no event id / host / time where needed */
	NJ_FUSE_BAD_XML,    /* XML without EventID */
	NJ_FUSE_PARTIAL,    /* truncated record: the fields before the cut were kept */
};

/* One endpoint event, normalised. Strings are owned (NULL when absent). */
struct nj_fuse_ep {
	uint8_t source;	  /* 0 sysmon, 1 osquery */
	uint8_t fmt;	  /* enum nj_fuse_fmt actually used */
	uint8_t proto;	  /* 6, 17 or 0 */
	int8_t initiated; /* 1, 0, -1 unknown */
	bool partial;	  /* recovered from a truncated record */
	int eid;	  /* Sysmon EventID; osquery tables map to 1, 3, 11, 15 */
	uint64_t record_id;
	double time; /* UtcTime, seconds since the epoch */
	long pid, ppid;
	uint16_t sport, dport;
	char *host, *guid, *image, *cmdline, *user, *parent_guid, *parent_image, *parent_cmdline;
	char *sip, *dip, *dest_hostname, *query_name, *query_results, *target, *sha256, *table;
};

void nj_fuse_ep_free(struct nj_fuse_ep *ep);

/*
 * Parses one line of format fmt (AUTO sniffs each line) into ep (zeroed by the
 * caller). line_no stands in for the record id when the shape has none
 * (Sentinel exports). Returns an enum nj_fuse_parse; ep is filled for OK and
 * PARTIAL only, and must be freed with nj_fuse_ep_free in those cases.
 */
int nj_fuse_parse_line(enum nj_fuse_fmt fmt, const char *line, size_t len, uint64_t line_no,
		       struct nj_fuse_ep *ep);

/* Time "YYYY-MM-DD[ T]HH:MM:SS[.frac][Z|+hhmm|+hh:mm]" -> epoch seconds; -EINVAL if bad. */
int nj_fuse_parse_time(const char *s, double *out);
/* Writes ISO 8601 UTC with microseconds ("...Z"). */
void nj_fuse_fmt_time(double t, char *buf, size_t len);

/* Tunables (config file `fuse:` section or --set fuse.KEY=VALUE). */
struct nj_fuse_cfg {
	double window; /* |flow start - (EID 3 time + offset)| accepted before an offset is learned */
	double window_learned; /* same, once the host's offset is known */
	double retention;      /* endpoint records kept (seconds of watermark time) */
	double net_retention;  /* network events kept waiting for a late endpoint record */
	double proc_retention; /* process-create records kept for context */
	double dns_window;     /* EID 22 vs wire query */
	double file_window;    /* EID 11 vs SMB create */
	double nat_window;     /* NAT / dns_name fallbacks, after the offset */
	double lateness;       /* how late a record may arrive before a DNS join is decided */
	unsigned max_ep;       /* endpoint records held (network-relevant ones) */
	unsigned max_net;      /* network events held */
	unsigned max_proc;     /* process-create records held */
	unsigned offset_min;   /* unambiguous joins before a host offset is trusted */
	bool dns_name_fallback;
	bool nat_keep_port;
	unsigned n_nat;
	struct {
		char inside[64], outside[64];
	} nat[64];
	unsigned n_hosts;
	struct {
		char name[128], ip[64];
	} hosts[64];
};

void nj_fuse_cfg_default(struct nj_fuse_cfg *cfg);
/* Applies "key=value" (key with or without the "fuse." prefix). -EINVAL on bad key/value. */
int nj_fuse_cfg_set(struct nj_fuse_cfg *cfg, const char *kv);
/* Loads the `fuse:` section of a YAML file plus overrides. */
int nj_fuse_cfg_load(struct nj_fuse_cfg *cfg, const char *path, const char *const *sets,
		     unsigned nsets);

/* Counters, written to stderr at exit and into the checkpoint. */
#define NJ_FUSE_COUNTERS(X)   \
	X(ep_lines)           \
	X(ep_ok)              \
	X(ep_partial)         \
	X(ep_skip)            \
	X(ep_bad_json)        \
	X(ep_bad_shape)       \
	X(ep_bad_xml)         \
	X(eve_lines)          \
	X(eve_bad)            \
	X(joins_community_id) \
	X(joins_nat)          \
	X(joins_dns_name)     \
	X(joins_sha256)       \
	X(joins_dns_query)    \
	X(joins_file_name)    \
	X(joins_context)      \
	X(dup_suppressed)     \
	X(replay_suppressed)  \
	X(expired_ep)         \
	X(expired_net)        \
	X(expired_proc)       \
	X(evicted_ep)         \
	X(evicted_net)        \
	X(evicted_proc)       \
	X(offset_learned)     \
	X(key_trimmed)        \
	X(ambiguous)          \
	X(out_events)

struct nj_fuse_counters {
#define NJ_X(n) uint64_t n;
	NJ_FUSE_COUNTERS(NJ_X)
#undef NJ_X
};

struct nj_fuse;

/* Output sink: a function that takes one JSON line (without newline). */
typedef int (*nj_fuse_emit_fn)(void *arg, const char *line, size_t len);

struct nj_fuse *nj_fuse_create(const struct nj_fuse_cfg *cfg, nj_fuse_emit_fn emit, void *arg);
void nj_fuse_destroy(struct nj_fuse *f);

/*
 * Feeds one endpoint event (ownership of ep's strings moves to the state;
 * ep is left zeroed) / one EVE event. replayed: the event was read before the
 * last checkpoint, so joins between two replayed events are not written
 * again. Returns 0 or -errno.
 */
int nj_fuse_add_endpoint(struct nj_fuse *f, struct nj_fuse_ep *ep, bool replayed);
int nj_fuse_add_eve(struct nj_fuse *f, json_t *ev, bool replayed);
/* Moves the watermark (seconds since the epoch), takes due decisions, expires old state. */
void nj_fuse_advance(struct nj_fuse *f, double now);
/* Takes every pending decision now (end of input, shutdown). */
void nj_fuse_flush(struct nj_fuse *f);
double nj_fuse_now(const struct nj_fuse *f);
/* Resuming from a checkpoint taken at watermark ck_now (see emit()). */
void nj_fuse_set_resume(struct nj_fuse *f, double ck_now);
const struct nj_fuse_counters *nj_fuse_counters(const struct nj_fuse *f);
struct nj_fuse_counters *nj_fuse_counters_mut(struct nj_fuse *f);
/* Time of the oldest endpoint / network item held (the replay horizon); INFINITY if none. */
double nj_fuse_oldest(const struct nj_fuse *f);
/* Items currently held (endpoint, network, process), for tests. */
void nj_fuse_held(const struct nj_fuse *f, unsigned *ep, unsigned *net, unsigned *proc);
/* Learned offset of a host (pcap minus endpoint, seconds); false if none yet. */
bool nj_fuse_host_offset(const struct nj_fuse *f, const char *host, double *off);

#endif
