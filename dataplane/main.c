/* SPDX-License-Identifier: MIT */
/*
 * nightjar: command line, start-up and shutdown. The user never sees EAL:
 * `nightjar -r file.pcap` sets up DPDK without hugepages or PCI and reads the
 * file through the net_pcap vdev; `nightjar -i PORT` captures live until
 * SIGINT/SIGTERM and drains cleanly.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>

#include "dataplane/log_outputs.h"
#include "dataplane/pcap_dir.h"
#include "detect/detect.h"
#include "export/geoip.h"
#include "detect/intel/dataset.h"
#include "detect/intel/intel_run.h"
#include "nightjar.h"

struct nj_app nj_app;

#define NJ_MAX_SETS	 256
#define NJ_MAX_RULE_ARGS 64

/* yara: section: compiles the rules when enabled (errors as FILE:LINE on stderr). */
static int yara_load(struct nj_app *app, struct nj_yara **out)
{
	struct nj_yara_config yc;

	*out = NULL;
	if (nj_yara_config_load(&yc, app->conf) < 0)
		return -1;
	if (!yc.enabled)
		return 0;
	*out = nj_yara_create(&yc, stderr);
	if (!*out)
		return -1;
	printf("yara: %u rules compiled\n", nj_yara_rule_count(*out));
	return 0;
}

/*
 * Loads the rules: -S files only, else the configuration's rule-files plus
 * the -s files. Prints the summary (and every failed rule) to out; *failed is
 * set if a rule failed or a rule file could not be read.
 */
static bool rules_bad;	   /* the last rules_load() met rules that failed to parse */
static bool threshold_bad; /* ... or a threshold-file line that does not parse */

static struct nj_detect_rules *rules_load(struct nj_app *app, const char *const *excl,
					  unsigned nexcl, const char *const *extra, unsigned nextra,
					  FILE *out, bool verbose, bool *failed)
{
	struct nj_detect_load_opts o = {.err_out = stderr, .verbose = verbose};
	struct nj_detect_load_stats st;
	struct nj_detect_rules *r;

	o.extra = extra;
	o.nextra = nextra;
	r = nj_detect_load(app->conf, nexcl ? excl : NULL, nexcl, &o, &st);
	nj_detect_print_summary(out, &st);
	if (r && !app->set.files.store && nj_detect_rules_use(r, "filestore"))
		fprintf(out,
			"warning: One or more rule(s) depends on the file-store output log which "
			"is not enabled. Enable the output \"file-store\".\n");
	*failed = !r || st.failed > 0 || st.files_missing > 0;
	rules_bad = st.failed > 0;
	threshold_bad = st.threshold_error;
	{
		struct timespec now;

		clock_gettime(CLOCK_REALTIME, &now);
		app->rules_load_us = (uint64_t)now.tv_sec * 1000000u + (uint64_t)now.tv_nsec / 1000;
		app->rules_ok = st.loaded;
		app->rules_failed = st.failed;
		app->rules_skipped = st.skipped;
	}
	return r;
}

static void usage(FILE *out)
{
	fprintf(out, "Usage: nightjar -r FILE.pcap [options]          read a capture file\n"
		     "       nightjar -i PORT[,PORT...] [options]      capture live until "
		     "SIGINT/SIGTERM\n"
		     "       nightjar --build-info | --version | --dump-config-keys\n"
		     "\n"
		     "Options:\n"
		     "  -r FILE            read packets from a pcap/pcapng file\n"
		     "  -i PORT            a PCI address (0000:3b:00.0) or a DPDK vdev string\n"
		     "                     (net_af_packet0,iface=eth1,framecnt=16384); repeat or "
		     "comma-list\n"
		     "  -l DIR             output directory (default: default-log-dir, else .)\n"
		     "  -c FILE            configuration file (suricata.yaml layout)\n"
		     "  -S FILE / -s FILE  rule file (exclusive / additional)\n"
		     "  --set KEY=VALUE    override a configuration key (repeatable)\n"
		     "  --workers N        worker cores (default 1)\n"
		     "  -k none|all        checksum validation off / on\n"
		     "  -T                 test the configuration (and rules) and exit\n"
		     "  -v                 more log output (repeat for more)\n"
		     "  -- EAL-ARGS        raw DPDK EAL arguments, appended to Nightjar's own\n");
}

static void build_info(void)
{
	printf("This is Nightjar version %s\n", NJ_VERSION);
	printf("Version: %s (nightjar %s)\n", NJ_SURICATA_COMPAT, NJ_VERSION);
	/* Features that suricata-verify tests may require; only what really works. */
#ifdef NJ_HAVE_MAGIC
	printf("Features: HAVE_JA3 HAVE_JA4 GeoIP2 MAGIC\n");
#else
	printf("Features: HAVE_JA3 HAVE_JA4 GeoIP2\n");
#endif
	printf("DPDK support: yes\n");
	printf("zstd EVE output: yes\n");
}

static void on_signal(int sig)
{
	(void)sig;
	nj_app.stop = 1;
}

static void on_hup(int sig)
{
	(void)sig;
	nj_intel_request_reload(); /* loaded by the intel reloader thread */
}

/* SIGUSR2: reload the YARA rules (compiled by the control loop, adopted by workers per burst) */
static volatile sig_atomic_t yara_reload_req;

static void on_reload(int sig)
{
	(void)sig;
	yara_reload_req = 1;
}

static int mkdir_p(const char *path)
{
	char tmp[4096];
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(tmp))
		return -EINVAL;
	memcpy(tmp, path, len + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p == '/') {
			*p = '\0';
			if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
				return -errno;
			*p = '/';
		}
	}
	if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
		return -errno;
	return 0;
}

enum {
	OPT_SET = 256,
	OPT_WORKERS,
	OPT_BUILD_INFO,
	OPT_VERSION,
	OPT_DUMP_KEYS,
	OPT_IGNORED_ARG,
	OPT_IGNORED,
	OPT_ENGINE_ANALYSIS,
	OPT_DATA_DIR,
	OPT_INIT_ERRORS_FATAL,
};

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"set", required_argument, NULL, OPT_SET},
		{"workers", required_argument, NULL, OPT_WORKERS},
		{"build-info", no_argument, NULL, OPT_BUILD_INFO},
		{"version", no_argument, NULL, OPT_VERSION},
		{"dump-config-keys", no_argument, NULL, OPT_DUMP_KEYS},
		{"runmode", required_argument, NULL, OPT_IGNORED_ARG},
		{"simulate-ips", no_argument, NULL, OPT_IGNORED},
		{"engine-analysis", no_argument, NULL, OPT_ENGINE_ANALYSIS},
		{"data-dir", required_argument, NULL, OPT_DATA_DIR},
		{"init-errors-fatal", no_argument, NULL, OPT_INIT_ERRORS_FATAL},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct nj_app *app = &nj_app;
	const char *sets[NJ_MAX_SETS];
	unsigned nsets = 0;
	const char *config_path = NULL;
	const char *rules_excl[NJ_MAX_RULE_ARGS], *rules_extra[NJ_MAX_RULE_ARGS];
	unsigned nrules_excl = 0, nrules_extra = 0;
	struct nj_detect_rules *rules = NULL;
	struct nj_geoip *geoip = NULL;
	bool test_mode = false, rules_failed = false, baseline_failed = false;
	bool errors_fatal = false;
	const char *data_dir = NULL;
	int c, ret, verbose = 0;
	unsigned w;

	memset(app, 0, sizeof(*app));
	app->set.checksum = -1;
	while ((c = getopt_long(argc, argv, "r:i:l:c:S:s:k:Tvh", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			app->set.mode = NJ_MODE_OFFLINE;
			app->set.pcap_path = optarg;
			break;
		case 'i': {
			char *s = strdup(optarg), *save = NULL, *tok;

			app->set.mode = NJ_MODE_LIVE;
			/* a vdev string has its own commas: split only on ",net_" / PCI items */
			if (strncmp(s, "net_", 4) == 0) {
				if (app->set.nports < NJ_MAX_PORTS)
					app->set.ports[app->set.nports++] = s;
				break;
			}
			for (tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
				if (app->set.nports < NJ_MAX_PORTS)
					app->set.ports[app->set.nports++] = tok;
			break;
		}
		case 'l': app->set.log_dir = optarg; break;
		case 'c': config_path = optarg; break;
		case 'S':
		case 's':
			if ((c == 'S' ? nrules_excl : nrules_extra) >= NJ_MAX_RULE_ARGS) {
				NJ_ERR("too many -%c options", c);
				return 1;
			}
			if (c == 'S')
				rules_excl[nrules_excl++] = optarg;
			else
				rules_extra[nrules_extra++] = optarg;
			break;
		case 'k':
			if (strcmp(optarg, "none") == 0)
				app->set.checksum = 0;
			else if (strcmp(optarg, "all") == 0)
				app->set.checksum = 1;
			else {
				NJ_ERR("-k takes none or all");
				return 1;
			}
			break;
		case 'T': test_mode = true; break;
		case 'v': verbose++; break;
		case OPT_SET:
			if (nsets >= NJ_MAX_SETS) {
				NJ_ERR("too many --set options");
				return 1;
			}
			sets[nsets++] = optarg;
			break;
		case OPT_WORKERS: {
			char *end;
			long n = strtol(optarg, &end, 10);

			if (*end || n < 1 || n > NJ_MAX_WORKERS) {
				NJ_ERR("--workers takes 1..%d", NJ_MAX_WORKERS);
				return 1;
			}
			app->set.workers = (unsigned)n;
			break;
		}
		case OPT_BUILD_INFO: build_info(); return 0;
		case OPT_VERSION: printf("nightjar %s\n", NJ_VERSION); return 0;
		case OPT_DUMP_KEYS: nj_conf_dump_keys_md(stdout); return 0;
		case OPT_IGNORED_ARG:
		case OPT_IGNORED: break;
		case OPT_DATA_DIR: data_dir = optarg; break;
		case OPT_INIT_ERRORS_FATAL: errors_fatal = true; break;
		case OPT_ENGINE_ANALYSIS: test_mode = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 1;
		}
	}
	nj_log_level = NJ_LOG_WARN + verbose;
	if (optind < argc) {
		/* everything after -- goes to EAL */
		app->set.eal_argc = argc - optind;
		app->set.eal_argv = &argv[optind];
	}

	if (test_mode) {
		if (nj_settings_load(app, config_path, sets, nsets) < 0 ||
		    nj_datasets_configure(app->conf) < 0 || nj_intel_init(app->conf) < 0)
			return 1;
		if (nj_log_outputs_open(app->conf, app->set.log_dir) < 0)
			return 1;
		if (nj_geoip_start(app->conf, &geoip) < 0)
			return 1;
		nj_geoip_close(geoip);
		nj_intel_shutdown();
		rules = rules_load(app, rules_excl, nrules_excl, rules_extra, nrules_extra, stdout,
				   verbose > 0, &rules_failed);
		if (rules_failed)
			nj_log_mod(NJ_LOG_ERR, NJ_LOG_TO_FILES, "nightjar",
				   "Loading signatures failed.");
		nj_detect_rules_free(rules);
		{
			struct nj_yara *y = NULL;
			int yr = yara_load(app, &y);

			nj_yara_destroy(y);
			if (yr < 0) {
				nj_conf_free(app->conf);
				printf("nightjar: YARA rules failed to compile\n");
				return 1;
			}
		}
		if (app->set.baseline.mode != NJ_BASELINE_OFF) {
			/* -T checks the baseline and policy files an analyst edited */
			char err[512];
			struct nj_baseline_ctx *bl = nj_baseline_ctx_create(
				&app->set.baseline, app->conf, err, sizeof(err));

			if (!bl) {
				printf("nightjar: baseline: %s\n", err);
				baseline_failed = true;
			}
			nj_baseline_ctx_free(bl);
		}
		nj_conf_free(app->conf);
		if (rules_failed) {
			printf("nightjar: rules failed to load\n");
			return 1;
		}
		if (threshold_bad) {
			/* Suricata fails on a bad threshold-file only when testing (-T) */
			printf("nightjar: threshold-file failed to load\n");
			return 1;
		}
		if (baseline_failed)
			return 1;
		printf("nightjar: configuration OK\n");
		return 0;
	}
	if (!app->set.pcap_path && app->set.nports == 0) {
		usage(stderr);
		return 1;
	}
	if (app->set.pcap_path) {
		char *one = NULL;

		ret = nj_pcap_dir_resolve(app->set.pcap_path, &one);
		if (ret < 0)
			return 1;
		if (ret == 0)
			app->set.pcap_path = one; /* NULL: a directory without captures */
	}
	if (nj_settings_load(app, config_path, sets, nsets) < 0)
		return 1;
	mkdir_p(app->set.log_dir);
	if (nj_log_outputs_open(app->conf, app->set.log_dir) < 0)
		return 1;
	if (nj_geoip_start(app->conf, &geoip) < 0)
		return 1;
	nj_datasets_set_data_dir(data_dir ? data_dir : app->set.log_dir);
	if (nj_datasets_configure(app->conf) < 0 || nj_intel_init(app->conf) < 0)
		return 1;
	rules = rules_load(app, rules_excl, nrules_excl, rules_extra, nrules_extra, stdout,
			   verbose > 0, &rules_failed);
	if (rules && rules_bad && errors_fatal) {
		/* as Suricata with --init-errors-fatal: a rule that fails stops start-up */
		nj_log_mod(NJ_LOG_ERR, NJ_LOG_TO_CONSOLE | NJ_LOG_TO_FILES, "nightjar",
			   "Loading signatures failed.");
		nj_detect_rules_free(rules);
		return 1;
	}
	if (rules && (nrules_excl || nrules_extra || rules->nsigs))
		nj_log_mod(NJ_LOG_INFO, NJ_LOG_TO_FILES, "detect", "%u signatures processed.",
			   rules->nsigs);
	app->rules = rules;
	app->detect = nj_detect_engine_build(rules, app->conf);
	if (!app->detect) {
		NJ_ERR("cannot build the detection engine");
		nj_detect_rules_free(rules);
		return 1;
	}
	if (yara_load(app, &app->yara) < 0) {
		NJ_ERR("YARA rules failed to compile");
		nj_detect_engine_free(app->detect);
		nj_detect_rules_free(rules);
		return 1;
	}
	if (app->set.baseline.mode != NJ_BASELINE_OFF) {
		char err[512];

		if (app->set.mode == NJ_MODE_OFFLINE)
			app->set.baseline.write_interval_s = 0; /* written at the end of the file */
		app->baseline =
			nj_baseline_ctx_create(&app->set.baseline, app->conf, err, sizeof(err));
		if (!app->baseline) {
			NJ_ERR("baseline: %s", err);
			nj_detect_engine_free(app->detect);
			nj_detect_rules_free(rules);
			return 1;
		}
	}
	if (app->set.mode == NJ_MODE_OFFLINE && !app->set.pcap_path) {
		/* -r DIR without captures: configuration and rules only, as Suricata */
		nj_detect_engine_free(app->detect);
		nj_detect_rules_free(rules);
		nj_yara_destroy(app->yara);
		nj_geoip_close(geoip);
		nj_datasets_free_all();
		nj_intel_shutdown();
		nj_baseline_ctx_free(app->baseline);
		nj_conf_free(app->conf);
		return 0;
	}
	ret = mkdir_p(app->set.log_dir);
	if (ret < 0) {
		NJ_ERR("cannot create output directory %s: %s", app->set.log_dir, strerror(-ret));
		return 1;
	}
	if (app->set.mode == NJ_MODE_OFFLINE && nj_pcap_prescan(app) < 0)
		return 1;

	if (nj_eal_start(app, argv[0]) < 0)
		return 1;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_hup);
	if (nj_intel_start_reloader() < 0)
		NJ_WARN("intel: no reloader thread: SIGHUP will not reload");
	if (app->yara)
		signal(SIGUSR2, on_reload);
	app->start_tsc = rte_get_tsc_cycles();

	{
		char err[512];

		unsigned ythr = nj_yara_threads(app->yara);

		/* handles: the workers', the YARA scanner threads', the control thread's */
		app->eve = nj_eve_open(&app->set.eve, app->set.workers + ythr, err, sizeof(err));
		if (!app->eve) {
			NJ_ERR("EVE output: %s", err);
			ret = 1;
			goto out_eal;
		}
		app->eve_ctl = nj_eve_worker(app->eve, app->set.workers + ythr);
		if (ythr) {
			struct nj_eve_worker *yeve[NJ_YARA_MAX_THREADS];

			for (unsigned i = 0; i < ythr; i++)
				yeve[i] = nj_eve_worker(app->eve, app->set.workers + i);
			if (nj_yara_threads_start(app->yara, yeve, ythr,
						  app->set.mode != NJ_MODE_LIVE) < 0) {
				NJ_ERR("yara: cannot start %u scanner threads", ythr);
				ret = 1;
				goto out_eve;
			}
		}
		if (geoip && nj_eve_set_geoip(app->eve, geoip) < 0) {
			NJ_ERR("geoip: out of memory for the lookup caches (geoip.cache-size)");
			ret = 1;
			goto out_eve;
		}
	}
	if (nj_ports_setup(app) < 0) {
		ret = 1;
		goto out_eve;
	}
	app->nworkers = app->set.workers;
	for (w = 0; w < app->nworkers; w++) {
		struct nj_worker *wk = nj_worker_create(app, w);

		if (!wk) {
			NJ_ERR("cannot create worker %u (flow.memcap / defrag.memcap too large?)",
			       w);
			ret = 1;
			goto out_workers;
		}
		app->workers[w] = wk;
		if (app->fanout) {
			wk->port = app->ring_port;
			wk->queue = (uint16_t)w;
		} else {
			wk->port = app->src_ports[0];
			wk->queue = (uint16_t)w;
			wk->direct_pcap = app->set.mode == NJ_MODE_OFFLINE;
			wk->expected = app->pcap_pkts;
			if (wk->direct_pcap && wk->expected == 0)
				wk->input_done = 1;
		}
	}

	/* Launch: worker i on the i-th worker lcore. */
	{
		unsigned lcore, i = 0;

		RTE_LCORE_FOREACH_WORKER (lcore) {
			if (i >= app->nworkers)
				break;
			app->workers[i]->lcore = lcore;
			rte_eal_remote_launch(nj_worker_main, app->workers[i], lcore);
			i++;
		}
	}

	if (app->set.mode == NJ_MODE_LIVE) {
		printf("nightjar: capturing on %u port(s) with %u worker(s); SIGINT or SIGTERM to "
		       "stop\n",
		       app->nsrc_ports, app->nworkers);
		fflush(stdout);
	}
	if (app->fanout) {
		nj_fanout_main(app);
	} else {
		uint64_t hz = rte_get_tsc_hz(), last = rte_get_tsc_cycles();

		for (;;) {
			bool all = true;

			for (w = 0; w < app->nworkers; w++)
				all &= app->workers[w]->finished != 0;
			if (all)
				break;
			if (app->stop)
				for (w = 0; w < app->nworkers; w++)
					app->workers[w]->input_done = 1;
			if (yara_reload_req) {
				yara_reload_req = 0;
				if (nj_yara_reload(app->yara, stderr) == 0)
					printf("yara: reloaded, %u rules\n",
					       nj_yara_rule_count(app->yara));
				else
					NJ_ERR("yara: reload failed, the current rules stay");
				fflush(stdout);
			}
			if (app->set.stats_enabled && app->set.stats_interval_s &&
			    rte_get_tsc_cycles() - last > app->set.stats_interval_s * hz) {
				last = rte_get_tsc_cycles();
				nj_stats_emit(app, app->workers[0]->clock_us);
			}
			nj_eve_worker_tick(app->eve_ctl, rte_get_tsc_cycles() / (hz / 1000));
			nj_baseline_poll_workers(app);
			usleep(2000);
		}
	}
	rte_eal_mp_wait_lcore();
	nj_yara_threads_stop(app->yara); /* scans what the workers queued, before the stats */

	if (app->baseline) {
		/* learn: merge the workers' tables off the hot path and write the file */
		struct nj_baseline *cores[NJ_MAX_WORKERS];

		for (w = 0; w < app->nworkers; w++)
			cores[w] = app->workers[w]->baseline;
		ret = nj_baseline_ctx_finish(app->baseline, cores, app->nworkers);
		if (ret < 0)
			NJ_ERR("baseline: cannot write %s: %s", app->set.baseline.file,
			       strerror(-ret));
		baseline_failed = ret < 0;
	}
	if (app->set.stats_enabled) {
		uint64_t ts = 0;

		for (w = 0; w < app->nworkers; w++)
			if (app->workers[w]->clock_us > ts)
				ts = app->workers[w]->clock_us;
		nj_stats_emit(app, ts);
	}
	nj_eve_worker_flush(app->eve_ctl);
	nj_stats_summary(app);
	nj_datasets_save_all();
	ret = baseline_failed ? 1 : 0;

out_workers:
	if (ret) {
		app->stop = 1;
		rte_eal_mp_wait_lcore();
	}
	nj_ports_close(app);
out_eve:
	nj_yara_threads_stop(app->yara);
	nj_eve_close(app->eve);
	for (w = 0; w < NJ_MAX_WORKERS; w++)
		nj_worker_destroy(app->workers[w]);
out_eal:
	rte_eal_cleanup();
	nj_detect_engine_free(app->detect);
	nj_detect_rules_free(rules);
	nj_yara_destroy(app->yara); /* after the workers' scanners */
	nj_geoip_close(geoip);
	nj_datasets_free_all();
	nj_intel_shutdown();
	nj_baseline_ctx_free(app->baseline);
	nj_conf_free(app->conf);
	return ret;
}
