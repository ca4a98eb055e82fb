/* SPDX-License-Identifier: MIT */
/*
 * Per-flow cost of the baseline at flow end: learning (view, profile and
 * entry upserts) and checking (view, policy, lookups, rate limit), against
 * rendering the flow's EVE flow event (to /dev/null, no compression),
 * measured in the same run on the same flows.
 * Population: 4096 clients (10.0.0.0/16), 2048 servers, 16 services; per-host
 * profiles, or with --group one group for all clients. The check runs on
 * flows of the learned population plus 1 in 1000 with a new peer. Tables
 * have the default sizes (max-entries 65536) except max-hosts 8192 and
 * max-entries-per-host 4096 (the group holds every peer). The lookups are
 * cache misses in tables of a few MB: that, not hashing, is the cost.
 * Usage: bench_baseline [flows] [--group]   (default 1000000)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/nj_common.h"
#include "config/config.h"
#include "dataplane/flow.h"
#include "export/baseline/baseline.h"
#include "export/eve.h"
#include "parsers/applayer.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rng = 88172645463325252ull;

static uint64_t xr(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static const uint16_t ports[16] = {80,	443, 53,  445,	123,  22,   25,	  993,
				   587, 389, 636, 3389, 8080, 8443, 1433, 5432};

static void mk_flows(struct nj_flow *v, unsigned n, bool novel, uint16_t tls)
{
	for (unsigned i = 0; i < n; i++) {
		struct nj_flow *f = &v[i];
		uint32_t cl = (uint32_t)(xr() % 4096), sv = (uint32_t)(xr() % 2048);
		/* each client uses a few servers and services, as hosts do */
		uint32_t k = (uint32_t)(xr() % 4);

		sv = (cl * 7 + k * 131) % 2048;
		memset(f, 0, sizeof(*f));
		f->proto = 6;
		f->client = 0;
		f->addr[0][0] = 10;
		f->addr[0][2] = (uint8_t)(cl >> 8);
		f->addr[0][3] = (uint8_t)cl;
		f->addr[1][0] = 93;
		f->addr[1][1] = 184;
		f->addr[1][2] = (uint8_t)(sv >> 8);
		f->addr[1][3] = (uint8_t)sv;
		if (novel && xr() % 1000 == 0)
			f->addr[1][0] = 94; /* a new peer */
		f->port[0] = (uint16_t)(32768 + xr() % 28000);
		f->port[1] = ports[(cl + k) % 16];
		f->app_proto = f->port[1] == 443 ? tls : 0;
		f->flow_id = (i * 0x9e3779b97f4a7c15ull) & 0x7ffffffffffffull;
		f->start_us = 1700000000000000ull + i * 1000ull;
		f->last_us = f->start_us + 5000;
		f->pkts_ts = 10;
		f->pkts_tc = 8;
		f->bytes_ts = 600 + xr() % 4000;
		f->bytes_tc = 1200 + xr() % 40000;
		f->state = NJ_FLOW_STATE_CLOSED;
		f->tcp_flags_ts = 0x1b;
		f->tcp_flags_tc = 0x1a;
		f->tcp_state = NJ_TCP_CLOSED;
	}
}

int main(int argc, char **argv)
{
	unsigned n = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 0) : 1000000;
	bool group = argc > 2 && !strcmp(argv[2], "--group");
	const struct nj_app_parser *tlsp = nj_app_parser_by_name("tls");
	char file[64], set_file[96], err[512];
	const char *ov[] = {
		NULL, set_file, "baseline.max-hosts=8192", "baseline.max-entries-per-host=4096",
		group ? "baseline.groups.clients=10.0.0.0/16" : "baseline.hosts=$HOME_NET"};
	struct nj_flow *flows = malloc(sizeof(*flows) * n);
	struct nj_eve_config ec;
	struct nj_eve *eve;
	struct nj_eve_worker *w;
	struct nj_conf *conf;
	struct nj_baseline_config cfg;
	struct nj_baseline_ctx *ctx;
	struct nj_baseline *b;
	double t0, t_flow, t_learn, t_check;

	if (!flows)
		return 1;
	snprintf(file, sizeof(file), "/tmp/bench_baseline.%d.yaml", getpid());
	snprintf(set_file, sizeof(set_file), "baseline.file=%s", file);

	nj_eve_config_defaults(&ec);
	ec.offline = true;
	ec.sinks[0].zstd = false;
	snprintf(ec.sinks[0].path, sizeof(ec.sinks[0].path), "/dev/null");
	eve = nj_eve_open(&ec, 1, err, sizeof(err));
	if (!eve) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	w = nj_eve_worker(eve, 0);

	/* learn */
	mk_flows(flows, n, false, tlsp ? tlsp->id : 0);
	ov[0] = "baseline.mode=learn";
	conf = nj_conf_load(NULL, ov, NJ_ARRAY_SIZE(ov), err, sizeof(err));
	nj_baseline_config_defaults(&cfg);
	if (!conf || nj_baseline_config_load(&cfg, conf) < 0)
		return 1;
	ctx = nj_baseline_ctx_create(&cfg, conf, err, sizeof(err));
	b = ctx ? nj_baseline_create(ctx, w) : NULL;
	if (!b) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	t0 = now_s();
	for (unsigned i = 0; i < n; i++)
		nj_baseline_flow_end(b, &flows[i]);
	t_learn = now_s() - t0;
	t0 = now_s();
	if (nj_baseline_ctx_finish(ctx, &b, 1) < 0)
		return 1;
	double t_merge = now_s() - t0;
	const struct nj_baseline_stats *ls = nj_baseline_stats(b);

	printf("learn: %llu flows learned, %llu hosts full, %llu entries full; merge+write %.1f "
	       "ms\n",
	       (unsigned long long)ls->learned, (unsigned long long)ls->hosts_full,
	       (unsigned long long)ls->entries_full, t_merge * 1e3);
	nj_baseline_destroy(b);
	nj_baseline_ctx_free(ctx);
	nj_conf_free(conf);

	/* check */
	ov[0] = "baseline.mode=detect";
	conf = nj_conf_load(NULL, ov, NJ_ARRAY_SIZE(ov), err, sizeof(err));
	nj_baseline_config_defaults(&cfg);
	if (!conf || nj_baseline_config_load(&cfg, conf) < 0)
		return 1;
	ctx = nj_baseline_ctx_create(&cfg, conf, err, sizeof(err));
	b = ctx ? nj_baseline_create(ctx, w) : NULL;
	if (!b) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	rng = 1234567;
	mk_flows(flows, n, true, tlsp ? tlsp->id : 0);
	t0 = now_s();
	for (unsigned i = 0; i < n; i++)
		nj_baseline_flow_end(b, &flows[i]);
	t_check = now_s() - t0;
	const struct nj_baseline_stats *cs = nj_baseline_stats(b);

	printf("check: %llu flows, %llu anomaly events, %llu repeats\n",
	       (unsigned long long)cs->flows, (unsigned long long)cs->anomalies,
	       (unsigned long long)cs->repeats);

	/* the reference: the flow event of the same flows */
	t0 = now_s();
	for (unsigned i = 0; i < n; i++)
		nj_eve_log_flow(w, &flows[i], NJ_FLOW_END_TIMEOUT, i % 3 ? "tls" : NULL);
	nj_eve_worker_flush(w);
	t_flow = now_s() - t0;

	printf("%s profiles, %u flows:\n", group ? "group" : "per-host", n);
	printf("  flow event rendering  %7.1f ns/flow\n", t_flow / n * 1e9);
	printf("  baseline learn        %7.1f ns/flow  (%.2fx the flow event)\n", t_learn / n * 1e9,
	       t_learn / t_flow);
	printf("  baseline check        %7.1f ns/flow  (%.2fx the flow event)\n", t_check / n * 1e9,
	       t_check / t_flow);
	nj_baseline_destroy(b);
	nj_baseline_ctx_free(ctx);
	nj_conf_free(conf);
	nj_eve_close(eve);
	unlink(file);
	free(flows);
	return 0;
}
