/* SPDX-License-Identifier: MIT */
/*
 * pcapgen main: options, the host tables and the scheduler that interleaves
 * flows by timestamp (a binary heap of active flows; flows are admitted in
 * arrival order up to --concurrency).
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pg.h"
#include "pg_ep.h"

#define PG_NELEM(a) (sizeof(a) / sizeof((a)[0]))

struct pg_opts pg_opts;
struct pg_beacon pg_beacon_cfg;

enum { K_HTTP = 0, K_TLS, K_DNS, K_SMB, K_ICMP, K_NTP, K_NKINDS };
static const char *const kind_names[K_NKINDS] = {"http", "tls", "dns", "smb", "icmp", "ntp"};

static const char usage_text[] =
	"usage: pcapgen -o OUT.pcap [--seed N] [--flows N] [--concurrency N] [--duration SECONDS]\n"
	"               [--start EPOCH] [--mix http=40,tls=30,dns=20,smb=5,icmp=5[,ntp=N]] [--mss "
	"N]\n"
	"               [--ipv6-share PCT] [--packets N (stop after about N packets)]\n"
	"               [--beacon HOST:INTERVAL:JITTER_PCT:COUNT] [--reorder PCT] [--duplicate "
	"PCT]\n"
	"               [--http-file-size BYTES] [--smb-file-size BYTES]\n"
	"               [--scenario default|bench|http-file] [--truth FILE.jsonl]\n"
	"               [--http-file PATH]... [--smb-file PATH]...\n"
	"               [--population-seed N] [--inject-new CLIENT>SERVER:PORT/APP]\n"
	"\n"
	"Writes a deterministic classic pcap (same arguments, same bytes).\n"
	"  --scenario default    a few hundred varied flows: HTTP (chunked, gzip, keep-alive, "
	"404),\n"
	"                        TLS 1.2/1.3 with SNI and certificates, DNS over UDP and TCP, an "
	"SMB2\n"
	"                        file session, ICMP, NTP and a periodic ICMP beacon\n"
	"  --scenario bench      HTTP/TLS/DNS mix of any size (use --packets N)\n"
	"  --scenario http-file  one HTTP download of --http-file-size bytes (default 1 MiB);\n"
	"                        its SHA-256 is printed on stderr\n"
	"  --truth FILE          write one JSON line per application exchange generated\n"
	"                        (tuple, HTTP method/url/host/status, DNS query, TLS SNI, ...)\n"
	"  --http-file PATH      carry this file as an HTTP response body (GET /files/NAME),\n"
	"                        one flow per file, first; repeatable\n"
	"  --smb-file PATH       carry this file over SMB2 (written, then read back), one\n"
	"                        flow per file; repeatable. With only given files and no\n"
	"                        --scenario/--flows, the capture holds just those flows\n"
	"  --population-seed N   seed of the server addresses only (default: --seed), so\n"
	"                        captures of different seeds share one host population\n"
	"  --inject-new C>S:P/A  one extra flow from client C to a server S (IPv4) on port\n"
	"                        P speaking A (http or tls), halfway through the capture:\n"
	"                        a new communication for baseline tests\n"
	"\n"
	"Endpoint events (docs/fusion-pcapgen.md):\n"
	"  --endpoint-out FILE    also write the Sysmon/osquery events of the client hosts\n"
	"  --endpoint-format F    winlogbeat (default), sysmon-json or osquery\n"
	"  --endpoint-skew S      per-host clock offset drawn in [-S, +S] seconds (default 0)\n"
	"  --endpoint-net-skew S  network events only: a further per-host offset in [-S, +S]\n"
	"  --endpoint-batch S     network events delivered every S seconds (default 15, 0 = at "
	"once)\n"
	"  --endpoint-loss F      fraction of events lost in transport, 0..1 (default 0)\n"
	"  --endpoint-nat         clients leave through a NAT (198.18.0.1) on the wire\n"
	"  --endpoint-nat-map FILE  write the NAT map a fusion config needs\n"
	"  --endpoint-truth FILE  one JSON line per endpoint event: its flow, Community ID, loss\n";

/* ---- given files: the first flows of the capture, HTTP ones then SMB ones ---- */
#define PG_GIVEN_FILES 256
static struct pg_given given[PG_GIVEN_FILES];
static int given_kind[PG_GIVEN_FILES];
static unsigned int ngiven;

/* ---- servers and clients ---- */

static const char *const web_names[] = {
	"www.example.com",
	"example.org",
	"www.example.net",
	"cdn.static-assets.net",
	"api.weather-report.io",
	"news.daily-courier.com",
	"shop.green-garden.store",
	"mail.northwind-traders.com",
	"portal.contoso-health.org",
	"img.photo-share.net",
	"docs.fabrikam.dev",
	"login.identity-hub.com",
	"update.softvendor.com",
	"downloads.opensource-mirror.org",
	"video.streamcast.tv",
	"analytics.metrics-cloud.io",
	"www.citylibrary.org",
	"blog.techjournal.dev",
	"files.cloudbox-storage.com",
	"ads.adnetwork-exchange.com",
	"telemetry.appvendor.net",
	"www.travel-planner.com",
	"status.service-health.io",
	"repo.package-index.org",
	"www.university-online.edu",
	"secure.bank-of-somewhere.com",
	"chat.messenger-app.net",
	"maps.geo-tiles.com",
	"www.recipes-daily.com",
	"support.helpdesk-portal.com",
	"static.fontcdn.net",
	"push.notify-service.io",
};

struct pg_range4 {
	uint32_t base;
	uint32_t size;
};

static const struct pg_range4 web_ranges[] = {
	{0x5db8d800, 256},   /* 93.184.216.0/24 */
	{0xc6336400, 256},   /* 198.51.100.0/24 */
	{0xcb007100, 256},   /* 203.0.113.0/24 */
	{0x97650000, 65536}, /* 151.101.0.0/16 */
	{0x68120000, 65536}, /* 104.18.0.0/16 */
	{0xb9c76c00, 1024},  /* 185.199.108.0/22 */
	{0x8efa0000, 65536}, /* 142.250.0.0/16 */
	{0x3414c000, 16384}, /* 52.20.192.0/18 */
};

#define N_WEB (sizeof(web_names) / sizeof(web_names[0]))
static struct pg_server web_srv[N_WEB];
static struct pg_server dns_srv[3];
static struct pg_server smb_srv[2];
static struct pg_server ntp_srv[2];

static void srv_init(struct pg_server *s, const char *name, uint32_t ip4, uint16_t v6tag,
		     uint32_t host, uint32_t rtt_us, uint8_t ttl)
{
	uint8_t ip6[16] = {0x20, 0x01, 0x0d, 0xb8};

	s->name = name;
	pg_host_v4(&s->h4, ip4, ttl);
	pg_put_be16(ip6 + 4, v6tag);
	ip6[12] = host >> 24;
	ip6[13] = host >> 16;
	ip6[14] = host >> 8;
	ip6[15] = host;
	pg_host_v6(&s->h6, ip6, ttl);
	s->rtt_us = rtt_us;
}

static void hosts_init(uint64_t seed)
{
	struct pg_rng r;
	static const uint8_t ttls[] = {52, 54, 56, 57, 114, 116, 119, 243};

	pg_rng_seed(&r, seed, 0x686f737473);
	for (size_t i = 0; i < N_WEB; i++) {
		const struct pg_range4 *rg = &web_ranges[i % PG_NELEM(web_ranges)];
		uint32_t host =
			(uint32_t)(1 + (i / PG_NELEM(web_ranges)) * 7 + pg_range(&r, 0, 5)) %
				(rg->size - 2) +
			1;

		srv_init(&web_srv[i], web_names[i], rg->base + host, (uint16_t)(0x100 + i), host,
			 (uint32_t)pg_range(&r, 1000, 80000), ttls[pg_rand(&r) % sizeof(ttls)]);
		web_srv[i].cert_idx = (int)i;
	}
	srv_init(&dns_srv[0], "dns.google", 0x08080808, 0x4860, 0x8888, 9000, 117);
	srv_init(&dns_srv[1], "one.one.one.one", 0x01010101, 0x4700, 0x1111, 6000, 57);
	srv_init(&dns_srv[2], "dns.quad9.net", 0x09090909, 0x0009, 0x9, 14000, 55);
	srv_init(&smb_srv[0], "FILESRV01", 0xac100a0a, 0x00fa, 10, 400, 128);
	srv_init(&smb_srv[1], "NAS02", 0xac100a14, 0x00fa, 20, 700, 64);
	srv_init(&ntp_srv[0], "time.cloudflare.com", 0xa29fc801, 0x4700, 0x123, 8000, 57);
	srv_init(&ntp_srv[1], "time.nist.gov", 0x81060f1c, 0x0129, 0x28, 45000, 49);
}

/* --inject-new: one extra conversation with a server outside the population. */
static struct {
	bool set;
	uint32_t client, server;
	uint16_t port;
	int kind;
} inject;
static struct pg_server inject_srv;

static int parse_inject(const char *s)
{
	unsigned int a, b, c, d, e, f, g, h, port;
	char app[8];

	if (sscanf(s, "%u.%u.%u.%u>%u.%u.%u.%u:%u/%7s", &a, &b, &c, &d, &e, &f, &g, &h, &port,
		   app) != 10 ||
	    (a | b | c | d | e | f | g | h) > 255 || !port || port > 65535)
		return -1;
	if (!strcmp(app, "http"))
		inject.kind = K_HTTP;
	else if (!strcmp(app, "tls"))
		inject.kind = K_TLS;
	else
		return -1;
	inject.client = a << 24 | b << 16 | c << 8 | d;
	inject.server = e << 24 | f << 16 | g << 8 | h;
	inject.port = (uint16_t)port;
	inject.set = true;
	return 0;
}

static void pick_client(struct pg_flow *f, bool v6)
{
	uint32_t n = (uint32_t)pg_range(&f->rng, 0, 999);
	uint32_t ip = 0x0a000000u | ((1 + n / 250) << 8) | (2 + n % 250);

	if (v6) {
		uint8_t ip6[16] = {0xfd, 0x00};

		ip6[8] = 0x02;
		ip6[13] = (ip >> 16) & 0xff;
		ip6[14] = (ip >> 8) & 0xff;
		ip6[15] = ip & 0xff;
		pg_host_v6(&f->cli_h, ip6, 64);
	} else {
		pg_host_v4(&f->cli_h, ip, n % 5 == 0 ? 128 : 64);
	}
}

/* ---- flow creation ---- */

static const struct pg_app_ops *kind_ops(int kind, int variant)
{
	switch (kind) {
	case K_HTTP: return &pg_app_http;
	case K_TLS: return &pg_app_tls;
	case K_DNS: return variant == PG_VAR_DNS_TCP ? &pg_app_dns_tcp : &pg_app_dns;
	case K_SMB: return &pg_app_smb;
	case K_ICMP: return &pg_app_icmp;
	default: return &pg_app_ntp;
	}
}

static struct pg_flow *flow_new(uint64_t idx, int kind, int variant)
{
	struct pg_flow *f = calloc(1, sizeof(*f));
	const struct pg_server *srv;
	bool v6;

	if (!f)
		return NULL;
	f->id = idx;
	pg_rng_seed(&f->rng, pg_opts.seed, idx + 1);
	f->variant = variant;
	f->app = kind_ops(kind, variant);
	f->st = calloc(1, f->app->state_size ? f->app->state_size : 1);
	if (!f->st) {
		free(f);
		return NULL;
	}
	switch (kind) {
	case K_DNS: srv = &dns_srv[pg_rand(&f->rng) % PG_NELEM(dns_srv)]; break;
	case K_SMB: srv = &smb_srv[pg_rand(&f->rng) % PG_NELEM(smb_srv)]; break;
	case K_NTP: srv = &ntp_srv[pg_rand(&f->rng) % PG_NELEM(ntp_srv)]; break;
	default: srv = &web_srv[pg_rand(&f->rng) % N_WEB]; break;
	}
	v6 = kind != K_SMB && kind != K_NTP && variant == PG_VAR_RANDOM && pg_opts.ipv6_pct &&
	     pg_chance(&f->rng, pg_opts.ipv6_pct);
	f->v6 = v6;
	f->srv = srv;
	f->srv_h = v6 ? srv->h6 : srv->h4;
	pick_client(f, v6);
	if (variant == PG_VAR_BEACON)
		pg_host_v4(&f->cli_h, pg_beacon_cfg.host, 64);
	f->cport = (uint16_t)pg_range(&f->rng, 32768, 60999);
	if (kind == K_NTP)
		f->cport = 123;
	f->sport = f->app->port;
	f->rtt_us = srv->rtt_us + (uint32_t)pg_range(&f->rng, 0, srv->rtt_us / 8 + 100);
	static const uint32_t speeds[] = {8, 8, 16, 40, 80};
	f->ns_per_byte = speeds[pg_rand(&f->rng) % PG_NELEM(speeds)];
	f->icmp_id = (uint16_t)pg_rand(&f->rng);
	if (variant == PG_VAR_GIVEN && idx < ngiven)
		f->given = &given[idx];
	return f;
}

/* ---- scheduler: a binary min-heap on (ts, id) ---- */

struct heap {
	struct pg_flow **v;
	size_t n;
	size_t cap;
};

static bool heap_less(const struct pg_flow *a, const struct pg_flow *b)
{
	return a->ts < b->ts || (a->ts == b->ts && a->id < b->id);
}

static int heap_push(struct heap *h, struct pg_flow *f)
{
	size_t i;

	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 64;
		struct pg_flow **v = realloc(h->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		h->v = v;
		h->cap = cap;
	}
	i = h->n++;
	while (i && heap_less(f, h->v[(i - 1) / 2])) {
		h->v[i] = h->v[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h->v[i] = f;
	return 0;
}

/* Restore the heap after the root's key grew (or the root was replaced). */
static void heap_sift_root(struct heap *h)
{
	size_t i = 0;
	struct pg_flow *f = h->v[0];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= h->n)
			break;
		if (c + 1 < h->n && heap_less(h->v[c + 1], h->v[c]))
			c++;
		if (!heap_less(h->v[c], f))
			break;
		h->v[i] = h->v[c];
		i = c;
	}
	h->v[i] = f;
}

static void heap_pop_root(struct heap *h)
{
	h->n--;
	if (h->n) {
		h->v[0] = h->v[h->n];
		heap_sift_root(h);
	}
}

/* ---- options ---- */

struct cfg {
	const char *out;
	uint64_t flows;
	bool flows_set;
	uint32_t concurrency;
	uint64_t duration_s;
	uint64_t packets;
	unsigned int mix[K_NKINDS];
	bool mix_set;
	bool beacon_set;
	uint64_t pop_seed;
	bool pop_seed_set;
};

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno || end == s || *end ? -1 : 0;
}

static int parse_mix(const char *s, unsigned int mix[K_NKINDS])
{
	char tmp[256];
	char *save = NULL, *tok;

	if (strlen(s) >= sizeof(tmp))
		return -1;
	strcpy(tmp, s);
	memset(mix, 0, sizeof(unsigned int) * K_NKINDS);
	for (tok = strtok_r(tmp, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		uint64_t v;
		int k;

		if (!eq)
			return -1;
		*eq = 0;
		for (k = 0; k < K_NKINDS; k++)
			if (!strcmp(tok, kind_names[k]))
				break;
		if (k == K_NKINDS || parse_u64(eq + 1, &v) || v > 1000000)
			return -1;
		mix[k] = (unsigned int)v;
	}
	return 0;
}

static int parse_beacon(const char *s)
{
	unsigned int a, b, c, d, iv, jit, cnt;

	if (sscanf(s, "%u.%u.%u.%u:%u:%u:%u", &a, &b, &c, &d, &iv, &jit, &cnt) != 7 || a > 255 ||
	    b > 255 || c > 255 || d > 255 || jit > 100 || !iv)
		return -1;
	pg_beacon_cfg.host = a << 24 | b << 16 | c << 8 | d;
	pg_beacon_cfg.interval_s = iv;
	pg_beacon_cfg.jitter_pct = jit;
	pg_beacon_cfg.count = cnt;
	return 0;
}

enum {
	O_SEED = 256,
	O_FLOWS,
	O_CONC,
	O_DUR,
	O_START,
	O_MIX,
	O_MSS,
	O_V6,
	O_PACKETS,
	O_BEACON,
	O_SCEN,
	O_HFS,
	O_SFS,
	O_REORDER,
	O_DUP,
	O_TRUTH,
	O_HTTP_FILE,
	O_SMB_FILE,
	O_POPSEED,
	O_INJECT,
	O_EP_OUT,
	O_EP_FMT,
	O_EP_SKEW,
	O_EP_NETSKEW,
	O_EP_BATCH,
	O_EP_LOSS,
	O_EP_NAT,
	O_EP_NATMAP,
	O_EP_TRUTH,
};

static const struct option long_opts[] = {
	{"output", required_argument, NULL, 'o'},
	{"help", no_argument, NULL, 'h'},
	{"seed", required_argument, NULL, O_SEED},
	{"flows", required_argument, NULL, O_FLOWS},
	{"concurrency", required_argument, NULL, O_CONC},
	{"duration", required_argument, NULL, O_DUR},
	{"start", required_argument, NULL, O_START},
	{"mix", required_argument, NULL, O_MIX},
	{"mss", required_argument, NULL, O_MSS},
	{"ipv6-share", required_argument, NULL, O_V6},
	{"packets", required_argument, NULL, O_PACKETS},
	{"beacon", required_argument, NULL, O_BEACON},
	{"scenario", required_argument, NULL, O_SCEN},
	{"http-file-size", required_argument, NULL, O_HFS},
	{"smb-file-size", required_argument, NULL, O_SFS},
	{"reorder", required_argument, NULL, O_REORDER},
	{"duplicate", required_argument, NULL, O_DUP},
	{"truth", required_argument, NULL, O_TRUTH},
	{"http-file", required_argument, NULL, O_HTTP_FILE},
	{"smb-file", required_argument, NULL, O_SMB_FILE},
	{"population-seed", required_argument, NULL, O_POPSEED},
	{"inject-new", required_argument, NULL, O_INJECT},
	{"endpoint-out", required_argument, NULL, O_EP_OUT},
	{"endpoint-format", required_argument, NULL, O_EP_FMT},
	{"endpoint-skew", required_argument, NULL, O_EP_SKEW},
	{"endpoint-net-skew", required_argument, NULL, O_EP_NETSKEW},
	{"endpoint-batch", required_argument, NULL, O_EP_BATCH},
	{"endpoint-loss", required_argument, NULL, O_EP_LOSS},
	{"endpoint-nat", no_argument, NULL, O_EP_NAT},
	{"endpoint-nat-map", required_argument, NULL, O_EP_NATMAP},
	{"endpoint-truth", required_argument, NULL, O_EP_TRUTH},
	{NULL, 0, NULL, 0},
};

static int bad(const char *opt, const char *val)
{
	fprintf(stderr, "pcapgen: bad value for %s: '%s'\n%s", opt, val, usage_text);
	return 2;
}

/* Seconds with an optional fraction ("2", "0.5") to microseconds. */
static int parse_seconds(const char *s, uint64_t *us)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= 0 && v <= 86400)) /* NaN too */
		return -1;
	*us = (uint64_t)(v * 1e6 + 0.5);
	return 0;
}

static int parse_endpoint_opt(int o, const char *a)
{
	char *end;
	double v;

	switch (o) {
	case O_EP_OUT:
		pg_ep_cfg.out = a;
		pg_ep_on = true;
		return 0;
	case O_EP_FMT:
		if (!strcmp(a, "winlogbeat"))
			pg_ep_cfg.format = PG_EP_WINLOGBEAT;
		else if (!strcmp(a, "sysmon-json"))
			pg_ep_cfg.format = PG_EP_SYSMON_JSON;
		else if (!strcmp(a, "osquery"))
			pg_ep_cfg.format = PG_EP_OSQUERY;
		else
			return bad("--endpoint-format", a);
		return 0;
	case O_EP_SKEW: return parse_seconds(a, &pg_ep_cfg.skew_us) ? bad("--endpoint-skew", a) : 0;
	case O_EP_NETSKEW:
		return parse_seconds(a, &pg_ep_cfg.net_skew_us) ? bad("--endpoint-net-skew", a) : 0;
	case O_EP_BATCH:
		return parse_seconds(a, &pg_ep_cfg.batch_us) ? bad("--endpoint-batch", a) : 0;
	case O_EP_LOSS:
		errno = 0;
		v = strtod(a, &end);
		if (errno || end == a || *end || !(v >= 0 && v <= 1))
			return bad("--endpoint-loss", a);
		pg_ep_cfg.loss_ppm = (uint32_t)(v * 1e6 + 0.5);
		return 0;
	case O_EP_NAT: pg_ep_cfg.nat = true; return 0;
	case O_EP_NATMAP: pg_ep_cfg.nat_map = a; return 0;
	default: pg_ep_cfg.truth = a; return 0;
	}
}

static int parse_args(int argc, char **argv, struct cfg *c)
{
	uint64_t v, start = 1700000000;
	int o;

	memset(c, 0, sizeof(*c));
	pg_opts.mss = 1460;
	pg_opts.ipv6_pct = 5;
	c->concurrency = 0;
	c->duration_s = 0;
	pg_ep_cfg.batch_us = 15000000;
	while ((o = getopt_long(argc, argv, "o:h", long_opts, NULL)) != -1) {
		const char *a = optarg;

		switch (o) {
		case 'o': c->out = a; break;
		case 'h': fputs(usage_text, stdout); exit(0);
		case O_SEED:
			if (parse_u64(a, &pg_opts.seed))
				return bad("--seed", a);
			break;
		case O_FLOWS:
			if (parse_u64(a, &c->flows))
				return bad("--flows", a);
			c->flows_set = true;
			break;
		case O_CONC:
			if (parse_u64(a, &v) || !v || v > 1000000)
				return bad("--concurrency", a);
			c->concurrency = (uint32_t)v;
			break;
		case O_DUR:
			if (parse_u64(a, &c->duration_s) || !c->duration_s)
				return bad("--duration", a);
			break;
		case O_START:
			if (parse_u64(a, &start) || start > 0xffffffffULL)
				return bad("--start", a);
			break;
		case O_MIX:
			if (parse_mix(a, c->mix))
				return bad("--mix", a);
			c->mix_set = true;
			break;
		case O_MSS:
			if (parse_u64(a, &v) || v < 100 || v > 8960)
				return bad("--mss", a);
			pg_opts.mss = (uint32_t)v;
			break;
		case O_V6:
			if (parse_u64(a, &v) || v > 100)
				return bad("--ipv6-share", a);
			pg_opts.ipv6_pct = (unsigned int)v;
			break;
		case O_PACKETS:
			if (parse_u64(a, &c->packets))
				return bad("--packets", a);
			break;
		case O_BEACON:
			if (parse_beacon(a))
				return bad("--beacon", a);
			c->beacon_set = true;
			break;
		case O_SCEN:
			if (!strcmp(a, "default"))
				pg_opts.scenario = PG_SC_DEFAULT;
			else if (!strcmp(a, "bench"))
				pg_opts.scenario = PG_SC_BENCH;
			else if (!strcmp(a, "http-file"))
				pg_opts.scenario = PG_SC_HTTP_FILE;
			else
				return bad("--scenario", a);
			break;
		case O_POPSEED:
			if (parse_u64(a, &c->pop_seed))
				return bad("--population-seed", a);
			c->pop_seed_set = true;
			break;
		case O_INJECT:
			if (parse_inject(a))
				return bad("--inject-new", a);
			break;
		case O_TRUTH:
			pg_truth_fp = fopen(a, "w");
			if (!pg_truth_fp) {
				fprintf(stderr, "pcapgen: %s: %s\n", a, strerror(errno));
				return 2;
			}
			break;
		case O_HFS:
			if (parse_u64(a, &pg_opts.http_file_size))
				return bad("--http-file-size", a);
			break;
		case O_SFS:
			if (parse_u64(a, &pg_opts.smb_file_size))
				return bad("--smb-file-size", a);
			break;
		case O_REORDER:
			if (parse_u64(a, &v) || v > 50)
				return bad("--reorder", a);
			pg_opts.reorder_pct = (unsigned int)v;
			break;
		case O_DUP:
			if (parse_u64(a, &v) || v > 50)
				return bad("--duplicate", a);
			pg_opts.dup_pct = (unsigned int)v;
			break;
		case O_HTTP_FILE:
		case O_SMB_FILE:
			if (ngiven >= PG_GIVEN_FILES) {
				fprintf(stderr, "pcapgen: at most %d given files\n",
					PG_GIVEN_FILES);
				return 2;
			}
			if (pg_given_load(&given[ngiven], a))
				return 2;
			given_kind[ngiven++] = o == O_HTTP_FILE ? K_HTTP : K_SMB;
			break;
		case O_EP_OUT:
		case O_EP_FMT:
		case O_EP_SKEW:
		case O_EP_NETSKEW:
		case O_EP_BATCH:
		case O_EP_LOSS:
		case O_EP_NAT:
		case O_EP_NATMAP:
		case O_EP_TRUTH:
			if (parse_endpoint_opt(o, a))
				return 2;
			break;
		default: fputs(usage_text, stderr); return 2;
		}
	}
	if (ngiven && pg_opts.scenario == PG_SC_CUSTOM && !c->flows_set)
		pg_opts.scenario = PG_SC_GIVEN;
	if (!pg_ep_on && (pg_ep_cfg.truth || pg_ep_cfg.nat || pg_ep_cfg.nat_map)) {
		fputs("pcapgen: --endpoint-truth/--endpoint-nat need --endpoint-out\n", stderr);
		return 2;
	}
	if (optind != argc || !c->out) {
		fputs(usage_text, stderr);
		return 2;
	}
	pg_opts.start_us = start * 1000000ULL;
	return 0;
}

/* Scenario defaults, for whatever the user did not set. */
static void apply_scenario(struct cfg *c)
{
	static const unsigned int mix_default[K_NKINDS] = {40, 30, 20, 5, 5, 2};
	static const unsigned int mix_bench[K_NKINDS] = {45, 35, 20, 0, 0, 0};

	switch (pg_opts.scenario) {
	case PG_SC_BENCH:
		if (!c->mix_set)
			memcpy(c->mix, mix_bench, sizeof(c->mix));
		if (!c->flows_set)
			c->flows = c->packets ? UINT64_MAX : 20000;
		if (!c->concurrency)
			c->concurrency = 256;
		if (!c->duration_s)
			c->duration_s = c->packets ? c->packets / 20000 + 1 : 60;
		break;
	case PG_SC_HTTP_FILE:
		c->flows = 1;
		c->concurrency = 1;
		if (!c->duration_s)
			c->duration_s = 1;
		if (!pg_opts.http_file_size)
			pg_opts.http_file_size = 1048576;
		break;
	case PG_SC_GIVEN:
		c->flows = ngiven;
		c->concurrency = 1;
		if (!c->duration_s)
			c->duration_s = ngiven;
		break;
	case PG_SC_DEFAULT:
		if (!c->flows_set)
			c->flows = 300;
		if (!c->beacon_set)
			parse_beacon("10.0.0.5:60:10:20");
		/* fall through */
	default:
		if (!c->mix_set)
			memcpy(c->mix, mix_default, sizeof(c->mix));
		if (!c->flows_set && pg_opts.scenario != PG_SC_DEFAULT)
			c->flows = c->packets ? UINT64_MAX : 100;
		if (!c->concurrency)
			c->concurrency = 24;
		if (!c->duration_s)
			c->duration_s = 120;
		break;
	}
}

/* Forced kinds first in the default scenario, so every feature is present. */
static const struct {
	int kind;
	int variant;
} default_specials[] = {
	{K_HTTP, PG_VAR_HTTP_CHUNKED_GZIP},
	{K_TLS, PG_VAR_TLS12},
	{K_TLS, PG_VAR_TLS13},
	{K_DNS, PG_VAR_RANDOM},
	{K_DNS, PG_VAR_DNS_TCP},
	{K_SMB, PG_VAR_RANDOM},
	{K_ICMP, PG_VAR_RANDOM},
	{K_NTP, PG_VAR_RANDOM},
	{K_HTTP, PG_VAR_RANDOM},
};

static void choose_kind(struct cfg *c, struct pg_rng *r, uint64_t idx, int *kind, int *variant)
{
	unsigned int total = 0;
	uint64_t x;

	*variant = PG_VAR_RANDOM;
	if (idx < ngiven) {
		*kind = given_kind[idx];
		*variant = PG_VAR_GIVEN;
		return;
	}
	if (pg_opts.scenario == PG_SC_HTTP_FILE) {
		*kind = K_HTTP;
		*variant = PG_VAR_HTTP_FILE;
		return;
	}
	if (pg_opts.scenario == PG_SC_DEFAULT && idx < PG_NELEM(default_specials)) {
		*kind = default_specials[idx].kind;
		*variant = default_specials[idx].variant;
		return;
	}
	if (pg_opts.scenario == PG_SC_BENCH)
		*variant = PG_VAR_BENCH;
	for (int k = 0; k < K_NKINDS; k++)
		total += c->mix[k];
	if (!total) {
		*kind = K_HTTP;
		return;
	}
	x = pg_rand(r) % total;
	for (int k = 0; k < K_NKINDS; k++) {
		if (x < c->mix[k]) {
			*kind = k;
			return;
		}
		x -= c->mix[k];
	}
	*kind = K_HTTP;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct cfg c;
	struct pg_out out;
	struct heap h = {0};
	struct pg_rng arr;
	uint64_t next_idx = 0, next_start, mean, active = 0, done_flows = 0, last_ts = 0;
	double t0 = now_s();
	int rc;

	rc = parse_args(argc, argv, &c);
	if (rc)
		return rc;
	apply_scenario(&c);
	pg_pools_init(pg_opts.seed);
	hosts_init(c.pop_seed_set ? c.pop_seed : pg_opts.seed);
	if (pg_http_init() || pg_tls_init(web_srv, N_WEB)) {
		fprintf(stderr, "pcapgen: content initialisation failed\n");
		return 1;
	}
	if (pg_out_open(&out, c.out)) {
		fprintf(stderr, "pcapgen: cannot open %s: %s\n", c.out, strerror(errno));
		return 1;
	}
	pg_rng_seed(&arr, pg_opts.seed, 0x617272);
	mean = c.flows && c.flows != UINT64_MAX ? c.duration_s * 1000000ULL / c.flows
						: c.duration_s * 1000000ULL / (c.packets / 30 + 1);
	if (!mean)
		mean = 1;
	next_start = pg_opts.start_us;

	/* The beacon runs beside the other flows and does not count against them. */
	if (pg_beacon_cfg.count) {
		struct pg_flow *b = flow_new(UINT64_MAX - 1, K_ICMP, PG_VAR_BEACON);

		if (b) {
			pg_flow_start(b, pg_opts.start_us + pg_range(&arr, 0, 5000000));
			if (heap_push(&h, b))
				pg_flow_free(b);
		}
	}

	/* The injected flow too runs beside the others, halfway through. */
	if (inject.set) {
		struct pg_flow *f = flow_new(UINT64_MAX - 2, inject.kind, PG_VAR_RANDOM);

		if (f) {
			inject_srv = *f->srv;
			inject_srv.name = "new-peer.example.net";
			pg_host_v4(&inject_srv.h4, inject.server, 57);
			f->srv = &inject_srv;
			f->v6 = false;
			f->srv_h = inject_srv.h4;
			pg_host_v4(&f->cli_h, inject.client, 64);
			f->sport = inject.port;
			pg_flow_start(f, pg_opts.start_us + c.duration_s * 1000000ULL / 2);
			if (heap_push(&h, f))
				pg_flow_free(f);
		}
	}

	for (;;) {
		/* never start a flow before the last written packet */
		uint64_t start_ts = next_start > last_ts ? next_start : last_ts;
		bool admit = next_idx < c.flows && active < c.concurrency &&
			     (!c.packets || out.packets < c.packets) &&
			     (!h.n || start_ts <= h.v[0]->ts);

		if (admit) {
			int kind, variant;
			struct pg_flow *f;
			uint64_t ts = start_ts;

			choose_kind(&c, &arr, next_idx, &kind, &variant);
			f = flow_new(next_idx, kind, variant);
			next_idx++;
			next_start += pg_range(&arr, 0, 2 * mean);
			if (!f)
				continue;
			pg_ep_flow_new(f, ts);
			pg_flow_start(f, ts);
			if (heap_push(&h, f)) {
				pg_flow_free(f);
				continue;
			}
			active++;
			continue;
		}
		if (!h.n)
			break;
		struct pg_flow *f = h.v[0];

		last_ts = f->ts;
		if (pg_flow_emit(f, &out)) {
			heap_sift_root(&h);
			continue;
		}
		heap_pop_root(&h);
		pg_ep_flow_end(f, last_ts);
		if (f->variant != PG_VAR_BEACON && f->id != UINT64_MAX - 2) {
			active--;
			done_flows++;
		}
		pg_flow_free(f);
		if (out.error)
			break;
	}
	free(h.v);
	rc = pg_out_close(&out);
	if (pg_truth_fp && fclose(pg_truth_fp) != 0)
		rc = -1;
	if (pg_ep_finish())
		rc = -1;
	pg_http_report();
	pg_tls_fini();
	for (unsigned int i = 0; i < ngiven; i++)
		pg_given_free(&given[i]);
	if (rc) {
		fprintf(stderr, "pcapgen: write error on %s\n", c.out);
		return 1;
	}
	double el = now_s() - t0;
	fprintf(stderr, "pcapgen: %llu packets, %llu bytes, %llu flows in %.2f s (%.0f pkt/s)\n",
		(unsigned long long)out.packets, (unsigned long long)out.bytes,
		(unsigned long long)done_flows, el, el > 0 ? out.packets / el : 0.0);
	return 0;
}
