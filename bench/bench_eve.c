/* SPDX-License-Identifier: MIT */
/*
 * EVE throughput: formats N flow events on one worker into a plain sink and
 * into a zstd sink (separately), and prints events/s and MB/s of JSON.
 * Usage: bench_eve [events] [dir]   (defaults: 2000000, /tmp)
 * dir "null" writes to /dev/null: formatting and compression cost alone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "dataplane/flow.h"
#include "export/eve.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void mk_flow(struct nj_flow *f, unsigned i)
{
	memset(f, 0, sizeof(*f));
	f->proto = i % 4 ? 6 : 17;
	f->client = i & 1;
	f->addr[0][0] = 10;
	f->addr[0][2] = (uint8_t)(i >> 8);
	f->addr[0][3] = (uint8_t)i;
	f->addr[1][0] = 192;
	f->addr[1][1] = 168;
	f->addr[1][3] = (uint8_t)(i * 7);
	f->port[0] = (uint16_t)(1024 + i % 60000);
	f->port[1] = 443;
	f->flow_id = (i * 0x9e3779b97f4a7c15ull) & 0x7ffffffffffffull;
	f->start_us = 1491603877251547ull + i * 1000ull;
	f->last_us = f->start_us + (i % 5000) * 1000ull;
	f->pkts_ts = i % 100;
	f->pkts_tc = i % 77;
	f->bytes_ts = i % 100 * 600;
	f->bytes_tc = i % 77 * 1200;
	f->state = NJ_FLOW_STATE_CLOSED;
	f->tcp_flags_ts = 0x1b;
	f->tcp_flags_tc = 0x1a;
	f->tcp_state = NJ_TCP_CLOSED;
}

static int run(const char *dir, bool zstd, unsigned n, bool cid)
{
	struct nj_eve_config c;
	struct nj_eve *eve;
	struct nj_eve_worker *w;
	struct nj_flow f;
	char err[256];
	double t0, t1, t2;
	uint64_t bytes;
	struct stat st;

	nj_eve_config_defaults(&c);
	c.offline = true;
	c.community_id = cid;
	c.sinks[0].zstd = zstd;
	if (strcmp(dir, "null") == 0)
		snprintf(c.sinks[0].path, sizeof(c.sinks[0].path), "/dev/null");
	else
		snprintf(c.sinks[0].path, sizeof(c.sinks[0].path), "%s/bench_eve.%d.json%s", dir,
			 getpid(), zstd ? ".zst" : "");
	eve = nj_eve_open(&c, 1, err, sizeof(err));
	if (!eve) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	w = nj_eve_worker(eve, 0);
	t0 = now_s();
	for (unsigned i = 0; i < n; i++) {
		mk_flow(&f, i);
		nj_eve_log_flow(w, &f, NJ_FLOW_END_TIMEOUT, i % 3 ? "tls" : NULL);
	}
	nj_eve_worker_flush(w);
	t1 = now_s();
	bytes = nj_eve_worker_stats(w)->bytes_in;
	nj_eve_close(eve);
	t2 = now_s();
	if (strcmp(dir, "null") == 0 || stat(c.sinks[0].path, &st) != 0)
		st.st_size = 0;
	printf("%-5s%s: %u events in %.3f s (worker) / %.3f s (to disk): %.2f Mev/s, %.0f MB/s "
	       "JSON, %.0f B/event, file %.1f MB (%.1fx)\n",
	       zstd ? "zstd" : "plain", cid ? "+cid" : "", n, t1 - t0, t2 - t0, n / (t1 - t0) / 1e6,
	       bytes / (t1 - t0) / 1e6, (double)bytes / n, st.st_size / 1e6,
	       st.st_size ? (double)bytes / st.st_size : 0.0);
	if (strcmp(dir, "null") != 0)
		unlink(c.sinks[0].path);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned n = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 0) : 2000000;
	const char *dir = argc > 2 ? argv[2] : "/tmp";

	if (run(dir, false, n, false) || run(dir, true, n, false) || run(dir, true, n, true))
		return 1;
	return 0;
}
