/* SPDX-License-Identifier: MIT */
/*
 * EAL start-up, the pcap pre-scan, mbuf pool, ports and worker rings.
 * Everything here runs once at start-up or shutdown; rte_exit is not used so
 * that the caller can report and exit cleanly.
 */
#include <errno.h>
#include <limits.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_ring.h>

#include "nightjar.h"

static int seq_offset = -1;
static int ts_offset = -1;
static uint64_t ts_flag;

int nj_mbuf_seq_offset(void)
{
	return seq_offset;
}

int nj_mbuf_ts_offset(uint64_t *flag)
{
	*flag = ts_flag;
	return ts_offset;
}

/*
 * net_pcap gives no end-of-file signal, so count the complete records with
 * libpcap first: the reader stops when it has received that many. The same
 * library reads the file for the PMD, so truncated last records are treated
 * the same way by both.
 */
int nj_pcap_prescan(struct nj_app *app)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *hdr;
	const u_char *data;
	pcap_t *p;
	int ret;

	p = pcap_open_offline(app->set.pcap_path, errbuf);
	if (!p) {
		NJ_ERR("cannot read %s: %s", app->set.pcap_path, errbuf);
		return -EINVAL;
	}
	switch (pcap_datalink(p)) {
	case DLT_EN10MB: app->linktype = NJ_LINK_ETHERNET; break;
	case DLT_RAW: app->linktype = NJ_LINK_RAW; break;
#ifdef DLT_LINUX_SLL
	case DLT_LINUX_SLL: app->linktype = NJ_LINK_LINUX_SLL; break;
#endif
#ifdef DLT_LINUX_SLL2
	case DLT_LINUX_SLL2: app->linktype = NJ_LINK_LINUX_SLL2; break;
#endif
	case DLT_NULL: app->linktype = NJ_LINK_NULL; break;
	case DLT_PPP: app->linktype = NJ_LINK_PPP; break;
	case DLT_C_HDLC: app->linktype = NJ_LINK_CHDLC; break;
	case 14: app->linktype = NJ_LINK_RAW; break;
#ifdef DLT_IPV4
	case DLT_IPV4: app->linktype = NJ_LINK_IPV4; break;
	case DLT_IPV6: app->linktype = NJ_LINK_IPV6; break;
#endif
	default:
		NJ_WARN("%s: link type %d (%s) is not supported; packets will be counted as "
			"decoder.unsupported_linktype",
			app->set.pcap_path, pcap_datalink(p),
			pcap_datalink_val_to_name(pcap_datalink(p)) ?: "?");
		app->linktype = (uint16_t)pcap_datalink(p);
		break;
	}
	app->pcap_pkts = 0;
	while ((ret = pcap_next_ex(p, &hdr, &data)) == 1) {
		uint64_t us = (uint64_t)hdr->ts.tv_sec * 1000000u + (uint64_t)hdr->ts.tv_usec;

		if (app->pcap_pkts == 0)
			app->pcap_first_us = us;
		if (us > app->pcap_last_us)
			app->pcap_last_us = us;
		app->pcap_pkts++;
	}
	if (ret == PCAP_ERROR)
		NJ_WARN("%s: %s (reading the %lu complete packets before it)", app->set.pcap_path,
			pcap_geterr(p), (unsigned long)app->pcap_pkts);
	pcap_close(p);
	return 0;
}

static int add_arg(char **argv, int *argc, int max, const char *s)
{
	if (*argc >= max - 1)
		return -E2BIG;
	argv[(*argc)++] = strdup(s);
	argv[*argc] = NULL;
	return 0;
}

/*
 * EAL without hugepages, PCI or shared config: the user never sees EAL flags.
 * Lcore 0 is the main (control / fan-out) lcore, lcores 1..N the workers. When
 * there are more lcores than CPUs they float over all CPUs.
 */
int nj_eal_start(struct nj_app *app, const char *argv0)
{
	char *argv[96];
	int argc = 0, ret, i;
	char buf[PATH_MAX + 64];
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned nl = app->set.workers + 1, l;

	if (ncpu < 1)
		ncpu = 1;
	add_arg(argv, &argc, 96, argv0);
	add_arg(argv, &argc, 96, "--no-huge");
	snprintf(buf, sizeof(buf), "%u", app->set.memory_mb);
	add_arg(argv, &argc, 96, "-m");
	add_arg(argv, &argc, 96, buf);
	add_arg(argv, &argc, 96, "--no-shconf");
	add_arg(argv, &argc, 96, "--no-telemetry");
	add_arg(argv, &argc, 96,
		nj_log_level >= NJ_LOG_DEBUG ? "--log-level=info" : "--log-level=error");
	if (app->set.mode == NJ_MODE_OFFLINE)
		add_arg(argv, &argc, 96, "--no-pci");
	/* lcore map */
	{
		size_t off = 0;

		off += snprintf(buf + off, sizeof(buf) - off, "--lcores=");
		for (l = 0; l < nl && off < sizeof(buf) - 32; l++) {
			if ((long)nl <= ncpu)
				off += snprintf(buf + off, sizeof(buf) - off, "%s%u@%u",
						l ? "," : "", l, l);
			else
				off += snprintf(buf + off, sizeof(buf) - off, "%s%u@(0-%ld)",
						l ? "," : "", l, ncpu - 1);
		}
		add_arg(argv, &argc, 96, buf);
	}
	if (app->set.mode == NJ_MODE_OFFLINE) {
		/* kvargs split on ',' and '=': such paths go through a private symlink */
		const char *path = app->set.pcap_path;
		char link[PATH_MAX];

		if (strpbrk(path, ",=;") || path[0] == '\0') {
			snprintf(link, sizeof(link), "/tmp/nightjar-%d.pcap", (int)getpid());
			unlink(link);
			if (symlink(realpath(path, NULL) ?: path, link) != 0) {
				NJ_ERR("cannot link %s: %s", path, strerror(errno));
				return -errno;
			}
			path = link;
		}
		snprintf(buf, sizeof(buf), "--vdev=net_pcap0,rx_pcap=%s", path);
		add_arg(argv, &argc, 96, buf);
	} else {
		for (i = 0; i < (int)app->set.nports; i++) {
			/* a PCI address is allowed as is; anything else is a vdev string */
			if (strchr(app->set.ports[i], ':') && !strchr(app->set.ports[i], '=') &&
			    strncmp(app->set.ports[i], "net_", 4) != 0) {
				add_arg(argv, &argc, 96, "-a");
				add_arg(argv, &argc, 96, app->set.ports[i]);
			} else {
				snprintf(buf, sizeof(buf), "--vdev=%s", app->set.ports[i]);
				add_arg(argv, &argc, 96, buf);
			}
		}
		if (app->set.nports && strncmp(app->set.ports[0], "net_", 4) == 0) {
			int pci = 0;

			for (i = 0; i < (int)app->set.nports; i++)
				pci |= strncmp(app->set.ports[i], "net_", 4) != 0;
			if (!pci)
				add_arg(argv, &argc, 96, "--no-pci");
		}
	}
	for (i = 0; i < app->set.eal_argc; i++)
		if (add_arg(argv, &argc, 96, app->set.eal_argv[i]) != 0)
			return -E2BIG;

	if (nj_log_level >= NJ_LOG_INFO) {
		fprintf(stderr, "nightjar: info: EAL:");
		for (i = 0; i < argc; i++)
			fprintf(stderr, " %s", argv[i]);
		fputc('\n', stderr);
	}
	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		NJ_ERR("DPDK EAL initialisation failed: %s", rte_strerror(rte_errno));
		return -EINVAL;
	}
	if (rte_lcore_count() < nl) {
		NJ_ERR("EAL gave %u lcores, %u needed", rte_lcore_count(), nl);
		return -EINVAL;
	}
	{
		static const struct rte_mbuf_dynfield seq_desc = {
			.name = "nightjar_seq",
			.size = sizeof(uint64_t),
			.align = __alignof__(uint64_t),
		};

		seq_offset = rte_mbuf_dynfield_register(&seq_desc);
		if (seq_offset < 0) {
			NJ_ERR("cannot register the mbuf sequence field");
			return -ENOSPC;
		}
		if (rte_mbuf_dyn_rx_timestamp_register(&ts_offset, &ts_flag) != 0) {
			NJ_ERR("cannot register the mbuf timestamp field");
			return -ENOSPC;
		}
	}
	return 0;
}

static int port_start(struct nj_app *app, uint16_t port, uint16_t nq, bool rss)
{
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	uint16_t q;
	int ret;
	/* Symmetric Toeplitz key: both directions of a flow hash alike. */
	static uint8_t sym_key[40] = {
		0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
		0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
		0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
	};

	memset(&conf, 0, sizeof(conf));
	ret = rte_eth_dev_info_get(port, &info);
	if (ret != 0)
		return ret;
	if (rss) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_key = sym_key;
		conf.rx_adv_conf.rss_conf.rss_key_len = sizeof(sym_key);
		/* addresses only: fragments and whole packets of a flow meet */
		conf.rx_adv_conf.rss_conf.rss_hf = RTE_ETH_RSS_IP & info.flow_type_rss_offloads;
	}
	if (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_TIMESTAMP)
		conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_TIMESTAMP;
	ret = rte_eth_dev_configure(port, nq, 1, &conf);
	if (ret != 0)
		return ret;
	for (q = 0; q < nq; q++) {
		uint16_t nd = 1024;

		ret = rte_eth_rx_queue_setup(port, q, nd, rte_eth_dev_socket_id(port), NULL,
					     app->pool);
		if (ret != 0)
			return ret;
	}
	ret = rte_eth_tx_queue_setup(port, 0, 512, rte_eth_dev_socket_id(port), NULL);
	if (ret != 0)
		return ret;
	ret = rte_eth_dev_start(port);
	if (ret != 0)
		return ret;
	rte_eth_promiscuous_enable(port);
	return 0;
}

int nj_ports_setup(struct nj_app *app)
{
	unsigned w, nw = app->set.workers;
	uint16_t port;
	int ret;
	char name[64];

	app->pool = rte_pktmbuf_pool_create("nj_mbufs", app->set.mbufs, 256, 0,
					    RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
	if (!app->pool) {
		NJ_ERR("cannot create a pool of %u mbufs: %s (raise nightjar.dpdk.memory-mb)",
		       app->set.mbufs, rte_strerror(rte_errno));
		return -ENOMEM;
	}
	app->nsrc_ports = 0;
	RTE_ETH_FOREACH_DEV (port) {
		if (app->nsrc_ports < NJ_MAX_PORTS)
			app->src_ports[app->nsrc_ports++] = port;
	}
	if (app->nsrc_ports == 0) {
		NJ_ERR("no usable port (check the -i argument)");
		return -ENODEV;
	}

	/* Queues per port: one per worker with RSS if the port can, else fan-out. */
	app->fanout = true;
	if (app->set.mode == NJ_MODE_LIVE && app->nsrc_ports == 1) {
		struct rte_eth_dev_info info;

		rte_eth_dev_info_get(app->src_ports[0], &info);
		if (nw == 1 ||
		    (info.max_rx_queues >= nw && info.flow_type_rss_offloads & RTE_ETH_RSS_IP))
			app->fanout = false;
	} else if (app->set.mode == NJ_MODE_OFFLINE && nw == 1) {
		app->fanout = false;
	}

	for (unsigned i = 0; i < app->nsrc_ports; i++) {
		uint16_t nq = app->fanout ? 1 : (uint16_t)nw;

		ret = port_start(app, app->src_ports[i], nq, !app->fanout && nw > 1);
		if (ret != 0) {
			NJ_ERR("cannot start port %u: %s", app->src_ports[i], strerror(-ret));
			return ret;
		}
	}

	if (app->fanout) {
		for (w = 0; w < nw; w++) {
			snprintf(name, sizeof(name), "nj_ring%u", w);
			app->rings[w] = rte_ring_create(name, app->set.ring_size, rte_socket_id(),
							RING_F_SP_ENQ | RING_F_SC_DEQ);
			if (!app->rings[w]) {
				NJ_ERR("cannot create ring %s: %s", name, rte_strerror(rte_errno));
				return -ENOMEM;
			}
		}
		ret = rte_eth_from_rings("nj_fanout", app->rings, nw, app->rings, nw,
					 rte_socket_id());
		if (ret < 0) {
			NJ_ERR("cannot create the ring port: %s", rte_strerror(rte_errno));
			return -ENODEV;
		}
		app->ring_port = (uint16_t)ret;
		{
			struct rte_eth_conf conf;

			memset(&conf, 0, sizeof(conf));
			ret = rte_eth_dev_configure(app->ring_port, nw, nw, &conf);
			for (w = 0; ret == 0 && w < nw; w++)
				ret = rte_eth_rx_queue_setup(app->ring_port, w, 1024,
							     rte_socket_id(), NULL, app->pool);
			for (w = 0; ret == 0 && w < nw; w++)
				ret = rte_eth_tx_queue_setup(app->ring_port, w, 1024,
							     rte_socket_id(), NULL);
			if (ret == 0)
				ret = rte_eth_dev_start(app->ring_port);
			if (ret != 0) {
				NJ_ERR("cannot start the ring port: %s", strerror(-ret));
				return ret;
			}
		}
	}
	return 0;
}

void nj_ports_close(struct nj_app *app)
{
	for (unsigned i = 0; i < app->nsrc_ports; i++) {
		rte_eth_dev_stop(app->src_ports[i]);
		rte_eth_dev_close(app->src_ports[i]);
	}
	if (app->fanout) {
		rte_eth_dev_stop(app->ring_port);
		rte_eth_dev_close(app->ring_port);
	}
}
