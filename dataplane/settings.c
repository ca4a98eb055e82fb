/* SPDX-License-Identifier: MIT */
/*
 * From the YAML configuration (suricata.yaml layout) to the stage configs.
 * Every key read here is registered with its default and description, so
 * docs/configuration.md and the unknown-key warning stay true.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nightjar.h"

NJ_CONF_KEY(logdir, "default-log-dir", NJ_CT_STR, ".",
	    "Directory for output files when -l is not given.")
NJ_CONF_KEY(workers, "nightjar.workers", NJ_CT_INT, "1", "Worker cores (--workers overrides).")
NJ_CONF_KEY(stage, "nightjar.pipeline", NJ_CT_STR, "full",
	    "full, or for benchmarks: rx (receive and free) or flow (decode and flow, no output).")
NJ_CONF_KEY(memmb, "nightjar.dpdk.memory-mb", NJ_CT_INT, "128",
	    "DPDK memory (MB, no hugepages) for mbufs and rings.")
NJ_CONF_KEY(mbufs, "nightjar.dpdk.mbufs", NJ_CT_INT, "8192",
	    "Packet buffers in the pool (about 190 fit per MB).")
NJ_CONF_KEY(ringsz, "nightjar.dpdk.ring-size", NJ_CT_INT, "1024",
	    "Per-worker ring size for software fan-out (power of two).")
NJ_CONF_KEY(fmemcap, "flow.memcap", NJ_CT_SIZE, "128mb",
	    "Memory for flow state, split evenly over the workers.")
NJ_CONF_KEY(fhash, "flow.hash-size", NJ_CT_INT, "65536", "Flow hash buckets per worker.")
NJ_CONF_KEY(fprealloc, "flow.prealloc", NJ_CT_INT, "0",
	    "Flows preallocated per worker (0: as many as flow.memcap allows).")
NJ_CONF_KEY(femerg, "flow.emergency-recovery", NJ_CT_INT, "30",
	    "Percent of flows free before emergency mode ends.")
NJ_CONF_KEY(ftimeouts, "flow-timeouts.*.*", NJ_CT_INT, "see below",
	    "Per-protocol (default, tcp, udp, icmp) timeouts in seconds: new, established, closed, "
	    "emergency-new, emergency-established, emergency-closed.")
NJ_CONF_KEY(midstream, "stream.midstream", NJ_CT_BOOL, "no",
	    "Pick up TCP sessions without a 3-way handshake.")
NJ_CONF_KEY(vlantrack, "vlan.use-for-tracking", NJ_CT_BOOL, "yes",
	    "VLAN ids are part of the flow key (no: both sides of a flow may differ in VLAN).")
NJ_CONF_KEY(dmemcap, "defrag.memcap", NJ_CT_SIZE, "32mb",
	    "Memory for IP fragment reassembly per worker.")
NJ_CONF_KEY(dtrackers, "defrag.trackers", NJ_CT_INT, "65535",
	    "Datagrams reassembled at once per worker.")
NJ_CONF_KEY(dtimeout, "defrag.timeout", NJ_CT_INT, "60",
	    "Seconds before an incomplete datagram is dropped.")
NJ_CONF_KEY(tuntrack, "decoder.recursion-level.use-for-tracking", NJ_CT_BOOL, "yes",
	    "Keep flows seen at different tunnel depths (IP-in-IP, GRE) apart.")
NJ_CONF_KEY(csum, "pcap-file.checksum-checks", NJ_CT_STR, "auto",
	    "yes/no/auto: validate checksums (-k none turns it off).")
NJ_CONF_KEY(statsen, "stats.enabled", NJ_CT_BOOL, "yes", "Write stats events.")
NJ_CONF_KEY(statsint, "stats.interval", NJ_CT_INT, "8",
	    "Seconds between stats events (one more is written at exit).")
NJ_CONF_KEY(cid, "community-id", NJ_CT_BOOL, "yes",
	    "Add community_id to every EVE output (overrides each eve-log's setting).")
NJ_CONF_KEY(cidseed, "community-id-seed", NJ_CT_INT, "0",
	    "Community ID seed for every EVE output (overrides each eve-log's setting).")
NJ_CONF_KEY(outputs, "outputs", NJ_CT_LIST, "one eve-log", "Output list, as in suricata.yaml.")
NJ_CONF_KEY(eveen, "outputs.*.eve-log.enabled", NJ_CT_BOOL, "yes", "Enable this EVE output.")
NJ_CONF_KEY(evefile, "outputs.*.eve-log.filename", NJ_CT_STR, "eve.json.zst",
	    "File name, relative to the log directory; zstd when it ends in .zst.")
NJ_CONF_KEY(evetype, "outputs.*.eve-log.filetype", NJ_CT_STR, "regular",
	    "Only regular files are supported.")
NJ_CONF_KEY(evetypes, "outputs.*.eve-log.types", NJ_CT_LIST, "all",
	    "Event types written to this output.")
NJ_CONF_KEY(evecid, "outputs.*.eve-log.community-id", NJ_CT_BOOL, "no",
	    "Add community_id (Suricata's place for it).")
NJ_CONF_KEY(evecidseed, "outputs.*.eve-log.community-id-seed", NJ_CT_INT, "0", "Community ID seed.")
NJ_CONF_KEY(evecomp, "outputs.*.eve-log.compression", NJ_CT_STR, "by name",
	    "zstd or none; default from the file name.")
NJ_CONF_KEY(evelevel, "outputs.*.eve-log.zstd-level", NJ_CT_INT, "3",
	    "zstd compression level (1-19).")
NJ_CONF_KEY(everotsz, "outputs.*.eve-log.rotate-size", NJ_CT_SIZE, "0",
	    "Rotate the file at this size (0: never).")
NJ_CONF_KEY(everotint, "outputs.*.eve-log.rotate-interval", NJ_CT_INT, "0",
	    "Rotate the file every this many seconds (0: never).")
NJ_CONF_KEY(eveappend, "outputs.*.eve-log.append", NJ_CT_BOOL, "no",
	    "Append to an existing file instead of truncating.")
NJ_CONF_KEY(evebuf, "outputs.*.eve-log.buffer-size", NJ_CT_SIZE, "256kb",
	    "Per-worker buffer; one compressed frame at most this big.")
NJ_CONF_KEY(evev6, "outputs.*.eve-log.ipv6-compress", NJ_CT_BOOL, "no",
	    "Write IPv6 addresses in compressed RFC 5952 form instead of Suricata's full form.")
NJ_CONF_KEY(eveether, "outputs.*.eve-log.ethernet", NJ_CT_BOOL, "no",
	    "Log MAC addresses: ether.src_mac/dest_mac in events, src_macs/dest_macs in flow "
	    "records (the first MAC seen on each side).")
NJ_CONF_KEY(fasten, "outputs.*.fast.enabled", NJ_CT_BOOL, "yes",
	    "Enable this fast.log output (Suricata's one-line alert format).")
NJ_CONF_KEY(fastfile, "outputs.*.fast.filename", NJ_CT_STR, "fast.log",
	    "File name, relative to the log directory.")
NJ_CONF_KEY(fasttype, "outputs.*.fast.filetype", NJ_CT_STR, "regular",
	    "Only regular files are supported.")
NJ_CONF_KEY(fastappend, "outputs.*.fast.append", NJ_CT_BOOL, "yes",
	    "Append to an existing file (as Suricata); no truncates it at start-up.")
NJ_CONF_KEY(anomtypes, "outputs.*.eve-log.types.*.anomaly", NJ_CT_MAP, "applayer only",
	    "types: {decode, stream, applayer} (yes/no; decode anomalies are off unless enabled, "
	    "as Suricata) and packethdr (add the packet headers, base64).")
NJ_CONF_KEY(almaxbuf, "nightjar.app-layer.max-buffer", NJ_CT_SIZE, "256kb",
	    "Bytes a protocol parser may leave unconsumed per flow and direction (a longer "
	    "header or message abandons parsing of that direction, counted).")
NJ_CONF_KEY(alprobe, "nightjar.app-layer.probe-max", NJ_CT_SIZE, "4kb",
	    "Bytes per direction examined by protocol detection before it gives up (app_proto "
	    "failed).")
NJ_CONF_KEY(alprotos, "app-layer.protocols.*.enabled", NJ_CT_STR, "yes",
	    "yes, no or detection-only (treated as yes) for each protocol parser.")
NJ_CONF_KEY(stmemcap, "stream.reassembly.memcap", NJ_CT_SIZE, "256mb",
	    "Memory for out-of-order TCP segments, split evenly over the workers (counted when "
	    "full: the hole becomes a gap).")
NJ_CONF_KEY(stdepth, "stream.reassembly.depth", NJ_CT_SIZE, "1mb",
	    "Bytes of each TCP direction reassembled and given to the parsers (0: no limit).")
NJ_CONF_KEY(stsegs, "nightjar.stream.max-segments", NJ_CT_INT, "0",
	    "Out-of-order segments held per flow and direction (0: the built-in default).")
NJ_CONF_KEY(stpolicy, "nightjar.stream.policy", NJ_CT_STR, "bsd",
	    "Overlap policy for TCP reassembly: first, last, bsd, linux, windows, solaris, hpux10, "
	    "hpux11, irix, macos, old-linux.")
NJ_CONF_KEY(stssn, "stream.memcap", NJ_CT_SIZE, "128mb",
	    "Memory for per-flow TCP stream state, split evenly over the workers (counted as "
	    "tcp.ssn_memcap_drop when full: the flow is tracked but not reassembled).")
NJ_CONF_KEY(
	stcsum, "stream.checksum-validation", NJ_CT_BOOL, "no",
	"Ignore TCP segments whose checksum decode found wrong, as the receiver would "
	"(counted as tcp.invalid_checksum). Off by default, and off for pcap files unless "
	"pcap-file.checksum-checks is yes: captures from offloading NICs carry wrong checksums.")
NJ_CONF_KEY(stretrans, "nightjar.stream.check-retransmissions", NJ_CT_BOOL, "yes",
	    "Compare retransmitted bytes with those delivered (a hash per segment) and raise "
	    "stream.reassembly_overlap_different_data when they differ.")
NJ_CONF_KEY(hostos, "host-os-policy", NJ_CT_MAP, "",
	    "Overlap policy by receiving host, as Suricata: {windows: [CIDR, ...], linux: [...], "
	    "...}; the longest matching prefix wins, others get nightjar.stream.policy.")
NJ_CONF_KEY(vars, "vars", NJ_CT_MAP, "",
	    "address-groups and port-groups for rules (HOME_NET, ...).")

static int timeouts_load(struct nj_conf *c, struct nj_flow_config *fc)
{
	static const char *const cls[NJ_FPC_MAX] = {"tcp", "udp", "icmp", "default"};
	static const char *const keys[6] = {
		"new",		 "established",		  "closed",
		"emergency-new", "emergency-established", "emergency-closed"};
	char path[96];
	int64_t v;
	int ret;

	for (unsigned i = 0; i < NJ_FPC_MAX; i++) {
		uint32_t *t = &fc->timeouts[i].new_s;

		for (unsigned k = 0; k < 6; k++) {
			/* "default" applies to other protocols, as Suricata */
			snprintf(path, sizeof(path), "flow-timeouts.%s.%s", cls[i], keys[k]);
			v = t[k];
			ret = nj_conf_int(c, NULL, path, 0, 86400 * 7, &v);
			if (ret < 0)
				return -EINVAL;
			t[k] = (uint32_t)v;
		}
	}
	return 0;
}

/* anomaly: {types: {decode, stream, applayer}, packethdr}: Suricata logs only
 * app-layer anomalies unless told otherwise. */
static int anomaly_load(struct nj_app *app, struct nj_conf *c, const struct nj_conf_node *a)
{
	bool dec = false, hdr = false, al = true, st = false;

	if (a && (nj_conf_bool(c, a, "types.decode", &dec) < 0 ||
		  nj_conf_bool(c, a, "types.stream", &st) < 0 ||
		  nj_conf_bool(c, a, "types.applayer", &al) < 0 ||
		  nj_conf_bool(c, a, "packethdr", &hdr) < 0))
		return -EINVAL;
	app->set.anomaly_decode |= dec;
	app->set.anomaly_applayer |= al;
	app->set.anomaly_stream |= st;
	app->set.anomaly_packethdr |= hdr;
	return 0;
}

static int types_load(struct nj_app *app, struct nj_conf *c, const struct nj_conf_node *types,
		      uint32_t *mask)
{
	const struct nj_conf_node *it;

	*mask = 0;
	for (it = types->child; it; it = it->next) {
		const char *name = it->kind == NJ_CONF_SCALAR ? it->value
				   : it->child		      ? it->child->key
							      : NULL;
		int t;

		if (!name)
			continue;
		/* a map entry may say enabled: no */
		if (it->kind == NJ_CONF_MAP && it->child && it->child->kind == NJ_CONF_MAP) {
			bool en = true;

			if (nj_conf_bool(c, it->child, "enabled", &en) < 0)
				return -EINVAL;
			if (!en)
				continue;
		}
		t = nj_eve_type_parse(name);
		if (t < 0) {
			/* protocols we do not parse yet (ssh, ftp, ...) are accepted and ignored */
			NJ_INFO("%s:%d: EVE type '%s' is not produced by this build", it->file,
				it->line, name);
			continue;
		}
		if (t == NJ_EVE_ANOMALY &&
		    anomaly_load(app, c, it->kind == NJ_CONF_MAP ? it->child : NULL) < 0)
			return -EINVAL;
		*mask |= 1u << t;
		if (t == NJ_EVE_ALERT) /* tagged packets go with the alerts, as in Suricata */
			*mask |= 1u << NJ_EVE_PACKET;
		if (t == NJ_EVE_FTP) /* Suricata's ftp logger writes ftp_data events too */
			*mask |= 1u << NJ_EVE_FTP_DATA;
	}
	return 0;
}

/* A `- fast:` output: a plain sink that takes the fast.log lines of the alerts. */
static int fast_load(struct nj_app *app, struct nj_conf *c, const struct nj_conf_node *n)
{
	struct nj_eve_config *ec = &app->set.eve;
	const char *fname = "fast.log", *ftype = "regular";
	struct nj_eve_sink_config *s;
	bool en = true, append = true;

	if (n->kind != NJ_CONF_MAP)
		return 0;
	if (nj_conf_bool(c, n, "enabled", &en) < 0 || nj_conf_str(c, n, "filename", &fname) < 0 ||
	    nj_conf_str(c, n, "filetype", &ftype) < 0 || nj_conf_bool(c, n, "append", &append) < 0)
		return -EINVAL;
	if (!en)
		return 0;
	if (strcmp(ftype, "regular") != 0 && strcmp(ftype, "file") != 0) {
		NJ_ERR("%s:%d: fast filetype '%s' is not supported (only regular files)", n->file,
		       n->line, ftype);
		return -EINVAL;
	}
	if (ec->nsinks >= NJ_EVE_MAX_SINKS) {
		NJ_ERR("%s:%d: at most %d eve-log and fast outputs", n->file, n->line,
		       NJ_EVE_MAX_SINKS);
		return -EINVAL;
	}
	s = &ec->sinks[ec->nsinks++];
	memset(s, 0, sizeof(*s));
	if (fname[0] == '/')
		snprintf(s->path, sizeof(s->path), "%s", fname);
	else
		snprintf(s->path, sizeof(s->path), "%s/%s", app->set.log_dir, fname);
	s->types = 1u << NJ_EVE_FAST;
	s->append = append;
	return 0;
}

static int outputs_load(struct nj_app *app, struct nj_conf *c)
{
	const struct nj_conf_node *outs = nj_conf_get(c, "outputs"), *o;
	struct nj_eve_config *ec = &app->set.eve;
	bool cid_global = true, cid_set;
	int64_t seed_global = 0;
	bool seed_set;
	int ret;

	ret = nj_conf_bool(c, NULL, "community-id", &cid_global);
	if (ret < 0)
		return -EINVAL;
	cid_set = ret == 0;
	ret = nj_conf_int(c, NULL, "community-id-seed", 0, 65535, &seed_global);
	if (ret < 0)
		return -EINVAL;
	seed_set = ret == 0;

	if (!outs) {
		/* Nightjar's default: one compressed EVE file with everything */
		ec->nsinks = 1;
		snprintf(ec->sinks[0].path, sizeof(ec->sinks[0].path), "%s/eve.json.zst",
			 app->set.log_dir);
		ec->sinks[0].zstd = true;
		ec->sinks[0].types = NJ_EVE_JSON_TYPES;
		ec->sinks[0].types &= ~(1u << NJ_EVE_NETFLOW);
		ec->community_id = cid_global;
		ec->community_id_seed = (uint16_t)seed_global;
		app->set.anomaly_decode = true;
		app->set.anomaly_applayer = true;
		return 0;
	}
	ec->nsinks = 0;
	ec->community_id = false;
	for (o = outs->child; o; o = o->next) {
		const struct nj_conf_node *e = nj_conf_node_get(o, "eve-log");
		const struct nj_conf_node *fast = nj_conf_node_get(o, "fast");
		struct nj_eve_sink_config *s;
		const char *fname = "eve.json", *ftype = "regular", *comp = NULL;
		bool en = true, cid = false, v6c = false, ether = false;
		uint64_t bufsz = 0;
		int64_t seed = 0, level = 3, rotint = 0;
		uint64_t rotsz = 0;
		size_t fl;

		if (fast && fast_load(app, c, fast) < 0)
			return -EINVAL;
		if (!e)
			continue;
		if (nj_conf_bool(c, e, "enabled", &en) < 0)
			return -EINVAL;
		if (!en)
			continue;
		if (ec->nsinks >= NJ_EVE_MAX_SINKS) {
			NJ_ERR("%s:%d: at most %d eve-log outputs", e->file, e->line,
			       NJ_EVE_MAX_SINKS);
			return -EINVAL;
		}
		s = &ec->sinks[ec->nsinks];
		if (nj_conf_str(c, e, "filename", &fname) < 0 ||
		    nj_conf_str(c, e, "filetype", &ftype) < 0 ||
		    nj_conf_str(c, e, "compression", &comp) < 0 ||
		    nj_conf_bool(c, e, "community-id", &cid) < 0 ||
		    nj_conf_int(c, e, "community-id-seed", 0, 65535, &seed) < 0 ||
		    nj_conf_int(c, e, "zstd-level", 1, 19, &level) < 0 ||
		    nj_conf_size(c, e, "rotate-size", &rotsz) < 0 ||
		    nj_conf_int(c, e, "rotate-interval", 0, 86400 * 366, &rotint) < 0 ||
		    nj_conf_bool(c, e, "append", &s->append) < 0 ||
		    nj_conf_bool(c, e, "ipv6-compress", &v6c) < 0 ||
		    nj_conf_bool(c, e, "ethernet", &ether) < 0 ||
		    nj_conf_size(c, e, "buffer-size", &bufsz) < 0)
			return -EINVAL;
		if (strcmp(ftype, "regular") != 0 && strcmp(ftype, "file") != 0) {
			const struct nj_conf_node *n = nj_conf_node_get(e, "filetype");

			NJ_ERR("%s:%d: eve-log filetype '%s' is not supported (only regular files)",
			       n ? n->file : "?", n ? n->line : 0, ftype);
			return -EINVAL;
		}
		if (fname[0] == '/')
			snprintf(s->path, sizeof(s->path), "%s", fname);
		else
			snprintf(s->path, sizeof(s->path), "%s/%s", app->set.log_dir, fname);
		fl = strlen(fname);
		s->zstd = fl > 4 && strcmp(fname + fl - 4, ".zst") == 0;
		if (comp) {
			if (strcmp(comp, "zstd") == 0)
				s->zstd = true;
			else if (strcmp(comp, "none") == 0 || strcmp(comp, "no") == 0)
				s->zstd = false;
			else {
				NJ_ERR("eve-log compression '%s': expected zstd or none", comp);
				return -EINVAL;
			}
		}
		s->zstd_level = (int)level;
		/* buffers and address form are per output system: any output may raise them */
		if (v6c)
			ec->ipv6_compress = true;
		if (ether)
			ec->ethernet = true;
		if (bufsz) {
			if (bufsz < 4096 || bufsz > (64u << 20)) {
				NJ_ERR("eve-log buffer-size must be 4kb..64mb");
				return -EINVAL;
			}
			if (bufsz > ec->buffer_bytes)
				ec->buffer_bytes = (uint32_t)bufsz;
		}
		s->rotate_bytes = rotsz;
		s->rotate_seconds = (uint32_t)rotint;
		{
			const struct nj_conf_node *types = nj_conf_node_get(e, "types");

			if (types) {
				if (types_load(app, c, types, &s->types) < 0)
					return -EINVAL;
			} else {
				s->types = NJ_EVE_JSON_TYPES & ~(1u << NJ_EVE_NETFLOW);
				app->set.anomaly_decode = true;
				app->set.anomaly_applayer = true;
			}
		}
		/* one community-id setting for all outputs: any output asking turns it on */
		if (cid) {
			ec->community_id = true;
			ec->community_id_seed = (uint16_t)seed;
		}
		ec->nsinks++;
	}
	if (cid_set)
		ec->community_id = cid_global;
	if (seed_set) {
		ec->community_id_seed = (uint16_t)seed_global;
		if (!cid_set)
			ec->community_id = true;
	}
	return 0;
}

/* An integer key into a uint32_t that already holds its default. */
static int conf_u32(struct nj_conf *c, const char *path, int64_t min, int64_t max, uint32_t *io)
{
	int64_t v = *io;

	if (nj_conf_int(c, NULL, path, min, max, &v) < 0)
		return -EINVAL;
	*io = (uint32_t)v;
	return 0;
}

/* ------------------------------------------------------------ host-os-policy */

static int host_os_policy(void *arg, const uint8_t *addr, bool ipv6)
{
	const struct nj_host_os *h = arg;
	int best = -1, best_len = -1;

	for (unsigned i = 0; i < h->n; i++) {
		const struct nj_host_os_net *e = &h->nets[i];
		unsigned full = e->plen / 8, rest = e->plen % 8;

		if (e->ipv6 != ipv6 || (int)e->plen <= best_len)
			continue;
		if (memcmp(addr, e->addr, full) != 0)
			continue;
		if (rest && ((addr[full] ^ e->addr[full]) & (uint8_t)(0xff00u >> rest)) != 0)
			continue;
		best = e->policy;
		best_len = e->plen;
	}
	return best;
}

/* "a.b.c.d[/len]" or "v6[/len]" into e; -1 if it does not parse. */
static int host_os_net(const char *text, struct nj_host_os_net *e)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash, *end;
	unsigned max;
	long len;

	if (strlen(text) >= sizeof(buf))
		return -1;
	strcpy(buf, text);
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = '\0';
	memset(e->addr, 0, sizeof(e->addr));
	if (inet_pton(AF_INET, buf, e->addr) == 1) {
		e->ipv6 = false;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, e->addr) == 1) {
		e->ipv6 = true;
		max = 128;
	} else {
		return -1;
	}
	len = max;
	if (slash) {
		len = strtol(slash, &end, 10);
		if (end == slash || *end || len < 0 || len > (long)max)
			return -1;
	}
	e->plen = (uint8_t)len;
	return 0;
}

static int host_os_load(struct nj_host_os *h, struct nj_conf *c, struct nj_stream_config *sc)
{
	const struct nj_conf_node *root = nj_conf_get(c, "host-os-policy");

	h->n = 0;
	if (!root)
		return 0;
	for (const struct nj_conf_node *pn = root->child; pn; pn = pn->next) {
		int pol = pn->key ? nj_stream_policy_parse(pn->key) : -1;

		if (pol < 0) {
			NJ_ERR("%s:%d: host-os-policy: unknown policy '%s'", pn->file, pn->line,
			       pn->key ? pn->key : "?");
			return -EINVAL;
		}
		/* a scalar "[a, b]" or a sequence of addresses */
		for (const struct nj_conf_node *an = pn->value ? pn : pn->child; an;
		     an = pn->value ? NULL : an->next) {
			char list[1024], *save = NULL;

			if (!an->value)
				continue;
			snprintf(list, sizeof(list), "%s", an->value);
			for (char *tok = strtok_r(list, "[], \t", &save); tok;
			     tok = strtok_r(NULL, "[], \t", &save)) {
				struct nj_host_os_net *e;

				if (h->n == NJ_ARRAY_SIZE(h->nets)) {
					NJ_ERR("%s:%d: host-os-policy: more than %zu networks",
					       an->file, an->line, NJ_ARRAY_SIZE(h->nets));
					return -EINVAL;
				}
				e = &h->nets[h->n];
				if (host_os_net(tok, e) < 0) {
					NJ_ERR("%s:%d: host-os-policy.%s: not an address or CIDR: "
					       "'%s'",
					       an->file, an->line, pn->key, tok);
					return -EINVAL;
				}
				e->policy = (uint8_t)pol;
				h->n++;
			}
		}
	}
	if (h->n) {
		sc->host_policy = host_os_policy;
		sc->host_policy_arg = h;
	}
	return 0;
}

static int stream_load(struct nj_app *app, struct nj_conf *c)
{
	struct nj_stream_config *sc = &app->set.stream;
	uint64_t sz;
	const char *pol = "bsd";
	int p;

	nj_stream_config_defaults(sc);
	sz = 256ull << 20;
	if (nj_conf_size(c, NULL, "stream.reassembly.memcap", &sz) < 0)
		return -EINVAL;
	app->set.stream_memcap_total = sz;
	sz = 1u << 20;
	if (nj_conf_size(c, NULL, "stream.reassembly.depth", &sz) < 0)
		return -EINVAL;
	if (sz > UINT32_MAX) {
		NJ_ERR("stream.reassembly.depth must be below 4gb");
		return -EINVAL;
	}
	sc->depth = (uint32_t)sz;
	if (conf_u32(c, "nightjar.stream.max-segments", 0, 1 << 20, &sc->max_segments) < 0)
		return -EINVAL;
	if (nj_conf_str(c, NULL, "nightjar.stream.policy", &pol) < 0)
		return -EINVAL;
	p = nj_stream_policy_parse(pol);
	if (p < 0) {
		const struct nj_conf_node *n = nj_conf_get(c, "nightjar.stream.policy");

		NJ_ERR("%s:%d: nightjar.stream.policy: unknown policy '%s'", n ? n->file : "?",
		       n ? n->line : 0, pol);
		return -EINVAL;
	}
	sc->policy = (enum nj_stream_policy)p;
	sz = 128ull << 20;
	if (nj_conf_size(c, NULL, "stream.memcap", &sz) < 0)
		return -EINVAL;
	app->set.stream_ssn_memcap_total = sz;
	{
		const char *il = NULL;

		/* inline: data is inspected as it comes, not once acknowledged */
		if (nj_conf_str(c, NULL, "stream.inline", &il) < 0)
			return -EINVAL;
		if (il && (!strcmp(il, "yes") || !strcmp(il, "true") || !strcmp(il, "on") ||
			   !strcmp(il, "1")))
			sc->ack_delivery = false;
	}
	if (nj_conf_bool(c, NULL, "stream.checksum-validation", &sc->checksum_validation) < 0 ||
	    nj_conf_bool(c, NULL, "nightjar.stream.check-retransmissions", &sc->check_retrans) < 0)
		return -EINVAL;
	return host_os_load(&app->set.host_os, c, sc);
}

static int applayer_load(struct nj_app *app, struct nj_conf *c)
{
	struct nj_al_config *ac = &app->set.applayer;
	uint64_t sz;

	nj_al_config_defaults(ac);
	ac->log_anomaly = app->set.anomaly_applayer;
	sz = ac->max_buffer;
	if (nj_conf_size(c, NULL, "nightjar.app-layer.max-buffer", &sz) < 0)
		return -EINVAL;
	if (sz < 1024 || sz > (64u << 20)) {
		NJ_ERR("nightjar.app-layer.max-buffer must be 1kb..64mb");
		return -EINVAL;
	}
	ac->max_buffer = (uint32_t)sz;
	sz = ac->probe_max;
	if (nj_conf_size(c, NULL, "nightjar.app-layer.probe-max", &sz) < 0)
		return -EINVAL;
	if (sz < 16 || sz > (1u << 20)) {
		NJ_ERR("nightjar.app-layer.probe-max must be 16..1mb");
		return -EINVAL;
	}
	ac->probe_max = (uint32_t)sz;
	for (uint16_t id = 1; nj_app_parser_by_id(id); id++) {
		const struct nj_app_parser *p = nj_app_parser_by_id(id);
		char path[128];
		const char *en = "yes";

		snprintf(path, sizeof(path), "app-layer.protocols.%s.enabled", p->name);
		if (nj_conf_str(c, NULL, path, &en) < 0)
			return -EINVAL;
		if (strcmp(en, "no") == 0 || strcmp(en, "false") == 0)
			ac->disabled[id] = true;
	}
	nj_al_set_log_dir(app->set.log_dir);
	return nj_app_parsers_configure(c) < 0 ? -EINVAL : 0;
}

int nj_settings_load(struct nj_app *app, const char *config_path, const char *const *sets,
		     unsigned nsets)
{
	struct nj_settings *s = &app->set;
	struct nj_conf *c;
	char err[512];
	int64_t v;
	const char *str;
	bool csum_auto = false;
	uint64_t sz;

	c = nj_conf_load(config_path, sets, nsets, err, sizeof(err));
	if (!c) {
		NJ_ERR("%s", err);
		return -EINVAL;
	}
	app->conf = c;
	nj_conf_warn_unknown(c);

	nj_decode_config_defaults(&s->decode);
	nj_flow_config_defaults(&s->flow);
	nj_eve_config_defaults(&s->eve);
	s->flow_memcap_total = s->flow.memcap;

	if (!s->log_dir) {
		str = ".";
		if (nj_conf_str(c, NULL, "default-log-dir", &str) < 0)
			return -EINVAL;
		s->log_dir = str;
	}
	if (!s->workers) {
		v = 1;
		if (nj_conf_int(c, NULL, "nightjar.workers", 1, NJ_MAX_WORKERS, &v) < 0)
			return -EINVAL;
		s->workers = (unsigned)v;
	}
	str = "full";
	if (nj_conf_str(c, NULL, "nightjar.pipeline", &str) < 0)
		return -EINVAL;
	if (strcmp(str, "full") == 0)
		s->stage = NJ_STAGE_FULL;
	else if (strcmp(str, "rx") == 0)
		s->stage = NJ_STAGE_RX;
	else if (strcmp(str, "flow") == 0)
		s->stage = NJ_STAGE_FLOW;
	else {
		const struct nj_conf_node *n = nj_conf_get(c, "nightjar.pipeline");

		NJ_ERR("%s:%d: nightjar.pipeline: expected full, rx or flow (value '%s')", n->file,
		       n->line, str);
		return -EINVAL;
	}
	s->memory_mb = 128;
	if (conf_u32(c, "nightjar.dpdk.memory-mb", 16, 1 << 20, &s->memory_mb) < 0)
		return -EINVAL;
	s->mbufs = 8192;
	if (conf_u32(c, "nightjar.dpdk.mbufs", 1024, 1 << 24, &s->mbufs) < 0)
		return -EINVAL;
	v = 1024;
	if (nj_conf_int(c, NULL, "nightjar.dpdk.ring-size", 64, 1 << 20, &v) < 0)
		return -EINVAL;
	if (v & (v - 1)) {
		NJ_ERR("nightjar.dpdk.ring-size must be a power of two (%ld)", (long)v);
		return -EINVAL;
	}
	s->ring_size = (unsigned)v;
	/* the pool must cover every ring plus bursts in flight */
	if (s->mbufs < s->workers * (s->ring_size + 512) + 1024)
		s->mbufs = s->workers * (s->ring_size + 512) + 1024;

	sz = s->flow_memcap_total;
	if (nj_conf_size(c, NULL, "flow.memcap", &sz) < 0)
		return -EINVAL;
	s->flow_memcap_total = sz;
	if (conf_u32(c, "flow.hash-size", 16, 1 << 28, &s->flow.hash_size) < 0)
		return -EINVAL;
	if (conf_u32(c, "flow.prealloc", 0, 1 << 30, &s->flow.prealloc) < 0)
		return -EINVAL;
	if (conf_u32(c, "flow.emergency-recovery", 1, 100, &s->flow.emergency_recovery) < 0)
		return -EINVAL;
	if (timeouts_load(c, &s->flow) < 0)
		return -EINVAL;
	if (nj_conf_bool(c, NULL, "stream.midstream", &s->flow.midstream) < 0)
		return -EINVAL;
	if (nj_conf_bool(c, NULL, "vlan.use-for-tracking", &s->flow.vlan_tracking) < 0)
		return -EINVAL;
	nj_decode_set_vlan_tracking(s->flow.vlan_tracking);

	sz = s->decode.defrag_memcap;
	if (nj_conf_size(c, NULL, "defrag.memcap", &sz) < 0)
		return -EINVAL;
	s->decode.defrag_memcap = sz;
	if (conf_u32(c, "defrag.trackers", 1, 1 << 24, &s->decode.defrag_max_trackers) < 0)
		return -EINVAL;
	if (conf_u32(c, "defrag.timeout", 1, 3600, &s->decode.defrag_timeout_s) < 0)
		return -EINVAL;
	{
		bool track = s->decode.tunnel_tracking != 0;

		if (nj_conf_bool(c, NULL, "decoder.recursion-level.use-for-tracking", &track) < 0)
			return -EINVAL;
		s->decode.tunnel_tracking = track;
	}

	if (s->checksum < 0) {
		str = "auto";
		if (nj_conf_str(c, NULL, "pcap-file.checksum-checks", &str) < 0)
			return -EINVAL;
		s->checksum = strcmp(str, "no") != 0;
		/* auto: captures often hold offloaded (wrong) checksums, so the
		 * stream does not drop on them unless checks are asked for */
		csum_auto = s->mode == NJ_MODE_OFFLINE && strcmp(str, "auto") == 0;
	}
	s->decode.checksum_validation = s->checksum;

	s->stats_enabled = true;
	if (nj_conf_bool(c, NULL, "stats.enabled", &s->stats_enabled) < 0)
		return -EINVAL;
	s->stats_interval_s = 8;
	if (conf_u32(c, "stats.interval", 0, 86400, &s->stats_interval_s) < 0)
		return -EINVAL;

	if (outputs_load(app, c) < 0)
		return -EINVAL;
	s->eve.offline = s->mode == NJ_MODE_OFFLINE;
	if (applayer_load(app, c) < 0)
		return -EINVAL;
	if (stream_load(app, c) < 0)
		return -EINVAL;
	if (!s->checksum || csum_auto) /* -k none, checksum-checks: no or auto */
		s->stream.checksum_validation = false;
	if (nj_files_config_load(&s->files, c, s->log_dir) < 0)
		return -EINVAL;
	if (s->files.store && s->files.stream_depth) {
		/* as Suricata's file-store: only a depth above stream.reassembly.depth
		 * (0 there counts as lower) applies, to flows whose files are stored */
		if (s->files.stream_depth > UINT32_MAX) {
			NJ_ERR("file-store.stream-depth must be below 4gb");
			return -EINVAL;
		}
		if (s->files.stream_depth <= s->stream.depth) {
			NJ_WARN("file-store.stream-depth value %" PRIu64
				" has no effect since it's less than stream.reassembly.depth "
				"value.",
				s->files.stream_depth);
			s->files.stream_depth = 0;
		}
	}
	nj_icmp_config_defaults(&s->icmp);
	nj_beacon_config_defaults(&s->beacon);
	if (nj_icmp_config_load(&s->icmp, c) < 0 || nj_beacon_config_load(&s->beacon, c) < 0)
		return -EINVAL;
	nj_baseline_config_defaults(&s->baseline);
	if (nj_baseline_config_load(&s->baseline, c) < 0)
		return -EINVAL;
	/* fileinfo events only if an output asks for them */
	s->files.enabled = false;
	for (unsigned i = 0; i < s->eve.nsinks; i++)
		if (s->eve.sinks[i].types & (1u << NJ_EVE_FILEINFO))
			s->files.enabled = true;
	return 0;
}
