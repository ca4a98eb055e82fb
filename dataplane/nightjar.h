/* SPDX-License-Identifier: MIT */
/*
 * The dataplane's runtime: one struct nj_app for the process, one struct
 * nj_worker per worker lcore. Only this folder includes DPDK headers.
 *
 * Offline (-r): the pcap is read by the net_pcap vdev. With one worker that
 * worker reads the port itself; with more, the main lcore reads it and spreads
 * bursts over per-worker rings by a symmetric address hash, and every worker
 * reads its ring through a ring-backed ethdev port, so worker code is the same
 * as for a NIC queue. Live (-i): a port with enough queues gets symmetric RSS
 * and one queue per worker; otherwise the same software fan-out is used.
 */
#ifndef NJ_NIGHTJAR_H
#define NJ_NIGHTJAR_H

#include <stdbool.h>
#include <stdint.h>

#include "common/nj_common.h"
#include "config/config.h"
#include "dataplane/decode.h"
#include "dataplane/flow.h"
#include "dataplane/stream.h"
#include "export/eve.h"
#include "parsers/applayer.h"
#include "parsers/files.h"
#include "parsers/icmp/icmp.h"
#include "parsers/beacon/beacon.h"
#include "export/baseline/baseline.h"
#include "detect/engine.h"
#include "detect/yara/yara.h"

struct rte_mbuf;
struct rte_mempool;
struct rte_ring;

#define NJ_MAX_PORTS 16
/* Bytes for linearized multi-segment packets per worker and burst. */
#define NJ_LIN_BUF_SIZE	   (NJ_BURST * 65536u)
#define NJ_VERSION	   "0.1.0"
#define NJ_SURICATA_COMPAT "8.0.0"

enum nj_mode { NJ_MODE_OFFLINE = 0, NJ_MODE_LIVE };

/* How much of the pipeline runs (benchmarks measure each stage's cost). */
enum nj_stage { NJ_STAGE_FULL = 0, NJ_STAGE_RX, NJ_STAGE_FLOW };

/* Per-worker counters that are not owned by a stage. */
struct nj_worker_stats {
	uint64_t pkts, bytes, bursts;
	uint64_t linearized; /* multi-segment mbufs copied to scratch */
	uint64_t oversize;   /* packets larger than the scratch, truncated */
	uint64_t anomalies;  /* anomaly events written */
};

struct nj_worker {
	unsigned id;
	unsigned lcore;
	uint16_t port, queue; /* where this worker receives */
	bool direct_pcap;     /* reads the pcap port itself: assigns seq, counts EOF */
	uint16_t linktype;
	uint64_t next_seq;
	uint64_t expected; /* direct_pcap: packets in the file */
	uint64_t clock_us; /* latest packet time seen */
	uint64_t last_expire_us;
	uint64_t first_rx_tsc, last_rx_tsc;
	/* thread CPU time at the first packet, at the end of input, after the flush */
	uint64_t cpu_first_ns, cpu_input_ns, cpu_end_ns;

	struct nj_decode_ctx *dec;
	struct nj_flow_table *flows;
	struct nj_eve_worker *eve;
	struct nj_stream_table *stream;
	struct nj_al_worker *al;
	struct nj_files *files;
	struct nj_icmp *icmp;
	struct nj_beacon *beacon;
	struct nj_baseline *baseline; /* learn / check flows against the baseline */
	uint16_t dns_proto;	      /* app_proto id of DNS (beacon observations of queries) */
	struct nj_detect_thread *det;
	struct nj_yara_worker *yara;   /* YARA scanner of this core's files, or NULL */
	struct nj_intel_thread *intel; /* NULL: threat intel off */
	bool log_flow, log_netflow, log_anomaly;
	bool anomaly_packethdr;
	bool log_ether; /* remember MACs per flow (eve-log ethernet) */
	bool log_stream_anomaly;
	bool log_applayer_anomaly;
	bool observe_dns; /* DNS queries feed the beacon detector */
	enum nj_stage stage;

	struct nj_worker_stats st;
	volatile int input_done; /* set by the feeder: no more packets will come */
	volatile int finished;

	struct nj_pkt pkts[NJ_BURST] NJ_ALIGNED;
	/* Multi-segment packets are copied here, each to its own slot, so that
	 * every packet of a burst stays readable until the burst is done. */
	uint8_t *lin_buf;
	uint32_t lin_used;
} NJ_ALIGNED;

/* host-os-policy: networks and the overlap policy of their hosts */
struct nj_host_os_net {
	uint8_t addr[16];
	uint8_t plen;
	uint8_t policy; /* enum nj_stream_policy */
	bool ipv6;
};

struct nj_host_os {
	unsigned n;
	struct nj_host_os_net nets[256];
};

struct nj_settings {
	enum nj_mode mode;
	enum nj_stage stage;
	const char *pcap_path;
	char *ports[NJ_MAX_PORTS];
	unsigned nports;
	const char *log_dir;
	unsigned workers;
	unsigned memory_mb;
	unsigned mbufs;
	unsigned ring_size;
	uint32_t stats_interval_s;
	bool stats_enabled;
	bool anomaly_decode; /* anomaly types.decode of any output */
	bool anomaly_packethdr;
	bool anomaly_applayer; /* anomaly types.applayer of any output (default yes) */
	bool anomaly_stream;   /* anomaly types.stream of any output (default no) */
	int checksum;	       /* 1 on, 0 off (-k none) */
	struct nj_decode_config decode;
	struct nj_flow_config flow;
	struct nj_eve_config eve;
	struct nj_al_config applayer;
	struct nj_stream_config stream;
	uint64_t stream_memcap_total;
	uint64_t stream_ssn_memcap_total;
	struct nj_host_os host_os;
	struct nj_files_config files;
	struct nj_icmp_config icmp;
	struct nj_beacon_config beacon;
	struct nj_baseline_config baseline;
	uint64_t flow_memcap_total;
	int eal_argc;
	char **eal_argv; /* extra EAL args after -- */
};

struct nj_app {
	struct nj_settings set;
	/* the rule set's load (stats detect.engines); rules_load_us 0: no rules loaded */
	uint64_t rules_load_us;
	uint32_t rules_ok, rules_failed, rules_skipped;
	struct nj_conf *conf;
	unsigned nworkers;
	struct nj_worker *workers[NJ_MAX_WORKERS];
	struct nj_eve *eve;
	struct nj_eve_worker *eve_ctl;
	struct nj_detect_rules *rules;
	struct nj_detect_engine *detect;
	struct nj_yara *yara;		  /* compiled YARA rules (yara.enabled), or NULL */
	struct nj_baseline_ctx *baseline; /* shared, read-only while workers run */

	/* offline input */
	uint16_t linktype;
	uint64_t pcap_pkts; /* complete records found by the pre-scan */
	uint64_t pcap_first_us, pcap_last_us;

	/* ports */
	uint16_t src_ports[NJ_MAX_PORTS];
	unsigned nsrc_ports;
	bool fanout; /* main lcore spreads to rings */
	uint16_t ring_port;
	struct rte_ring *rings[NJ_MAX_WORKERS];
	struct rte_mempool *pool;

	/* fan-out counters (main lcore) */
	uint64_t rx_pkts, rx_bytes, ring_drops;
	volatile uint64_t clock_us; /* latest packet time seen by the feeder */
	/* offline: clock_us once every packet read so far is in a worker ring */
	uint64_t fed_us;

	volatile int stop; /* SIGINT/SIGTERM */
	uint64_t start_tsc;
};

extern struct nj_app nj_app;

/* settings.c */
int nj_settings_load(struct nj_app *app, const char *config_path, const char *const *sets,
		     unsigned nsets);

/* port.c */
int nj_eal_start(struct nj_app *app, const char *argv0);
int nj_ports_setup(struct nj_app *app);
void nj_ports_close(struct nj_app *app);
int nj_pcap_prescan(struct nj_app *app);
int nj_mbuf_seq_offset(void);
int nj_mbuf_ts_offset(uint64_t *flag);

/* worker.c */
struct nj_worker *nj_worker_create(struct nj_app *app, unsigned id);
void nj_worker_destroy(struct nj_worker *w);
int nj_worker_main(void *arg);
/* Control thread: periodic baseline writes (learn mode, live). */
void nj_baseline_poll_workers(struct nj_app *app);
void nj_fanout_main(struct nj_app *app);

/* stats.c */
void nj_stats_emit(struct nj_app *app, uint64_t ts_us);
void nj_stats_summary(struct nj_app *app);

#endif
