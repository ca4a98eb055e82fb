/* SPDX-License-Identifier: MIT */
/*
 * Input adapters: one per shape of endpoint telemetry. Each turns a line into
 * a flat set of Sysmon EventData fields plus (event id, host, record id), and
 * one common routine builds the normalised event from that, so every shape
 * gets the same rules (HTML unescaping, "-" as absent, SHA256 from Hashes).
 *
 * Bad input is a counted outcome, never a crash: every lookup checks its type,
 * every copy is bounded, and truncated XML keeps the fields before the cut.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fuse.h"

static const char *const fmt_names[NJ_FUSE_FMT_MAX] = {
	[NJ_FUSE_FMT_AUTO] = "auto",
	[NJ_FUSE_FMT_WINLOGBEAT] = "winlogbeat",
	[NJ_FUSE_FMT_SYSMON_JSON] = "sysmon-json",
	[NJ_FUSE_FMT_SENTINEL] = "sentinel",
	[NJ_FUSE_FMT_AZURE_XML] = "azure-syslog-xml",
	[NJ_FUSE_FMT_OSQUERY] = "osquery",
};

const char *nj_fuse_fmt_name(enum nj_fuse_fmt f)
{
	return (unsigned)f < NJ_FUSE_FMT_MAX ? fmt_names[f] : "?";
}

int nj_fuse_fmt_parse(const char *s, enum nj_fuse_fmt *out)
{
	for (unsigned i = 0; i < NJ_FUSE_FMT_MAX; i++) {
		if (!strcmp(s, fmt_names[i])) {
			*out = (enum nj_fuse_fmt)i;
			return 0;
		}
	}
	return -EINVAL;
}

void nj_fuse_ep_free(struct nj_fuse_ep *ep)
{
	char **s[] = {&ep->host,	  &ep->guid,	    &ep->image,		&ep->cmdline,
		      &ep->user,	  &ep->parent_guid, &ep->parent_image,	&ep->parent_cmdline,
		      &ep->sip,		  &ep->dip,	    &ep->dest_hostname, &ep->query_name,
		      &ep->query_results, &ep->target,	    &ep->sha256,	&ep->table};

	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		free(*s[i]);
		*s[i] = NULL;
	}
}

/* ---- time ---- */

static int digits(const char **p, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)**p))
			return -EINVAL;
		v = v * 10 + (**p - '0');
		(*p)++;
	}
	*out = v;
	return 0;
}

int nj_fuse_parse_time(const char *s, double *out)
{
	struct tm tm = {0};
	int y, mo, d, h, mi, sec, oh = 0, om = 0;
	double frac = 0, scale = 0.1;
	const char *p = s;
	time_t t;

	if (!s)
		return -EINVAL;
	if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' ||
	    digits(&p, 2, &d) || (*p != 'T' && *p != ' '))
		return -EINVAL;
	p++;
	if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi) || *p++ != ':' ||
	    digits(&p, 2, &sec))
		return -EINVAL;
	if (*p == '.' || *p == ',') {
		p++;
		while (isdigit((unsigned char)*p)) {
			frac += (*p - '0') * scale;
			scale /= 10;
			p++;
		}
	}
	if (*p == '+' || *p == '-') {
		int sign = *p == '-' ? -1 : 1;

		p++;
		if (digits(&p, 2, &oh))
			return -EINVAL;
		if (*p == ':')
			p++;
		if (isdigit((unsigned char)*p) && digits(&p, 2, &om))
			return -EINVAL;
		oh *= sign;
		om *= sign;
	}
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return -EINVAL;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	*out = (double)t + frac - oh * 3600.0 - om * 60.0;
	return 0;
}

void nj_fuse_fmt_time(double t, char *buf, size_t len)
{
	time_t s = (time_t)t;
	long us;
	struct tm tm;

	if ((double)s > t)
		s--;
	us = (long)((t - (double)s) * 1e6 + 0.5);
	if (us >= 1000000) {
		s++;
		us -= 1000000;
	}
	gmtime_r(&s, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%06ld+0000", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, us);
}

/* ---- strings ---- */

/* Entity decoding in place: &lt; &gt; &amp; &quot; &apos; &#N; &#xN; (ASCII only). */
static void unescape(char *s)
{
	static const struct {
		const char *e;
		char c;
	} ents[] = {
		{"&lt;", '<'}, {"&gt;", '>'}, {"&amp;", '&'}, {"&quot;", '"'}, {"&apos;", '\''}};
	char *r = s, *w = s;

	while (*r) {
		bool done = false;

		if (*r == '&') {
			for (size_t i = 0; i < sizeof(ents) / sizeof(ents[0]); i++) {
				size_t n = strlen(ents[i].e);

				if (!strncmp(r, ents[i].e, n)) {
					*w++ = ents[i].c;
					r += n;
					done = true;
					break;
				}
			}
			if (!done && r[1] == '#') {
				char *end;
				long v = r[2] == 'x' || r[2] == 'X' ? strtol(r + 3, &end, 16)
								    : strtol(r + 2, &end, 10);

				if (*end == ';' && v > 0 && v < 128 && end > r + 2) {
					*w++ = (char)v;
					r = end + 1;
					done = true;
				}
			}
		}
		if (!done)
			*w++ = *r++;
	}
	*w = '\0';
}

/* A field value as an owned, unescaped string; NULL for absent, empty or "-". */
static char *kv_str(json_t *kv, const char *key)
{
	json_t *v = json_object_get(kv, key);
	char buf[32], *s;

	if (json_is_string(v)) {
		const char *t = json_string_value(v);

		if (!*t || !strcmp(t, "-"))
			return NULL;
		s = strdup(t);
	} else if (json_is_integer(v)) {
		snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
		s = strdup(buf);
	} else if (json_is_true(v)) {
		s = strdup("true");
	} else if (json_is_false(v)) {
		s = strdup("false");
	} else {
		return NULL;
	}
	if (s)
		unescape(s);
	return s;
}

static bool kv_long(json_t *kv, const char *key, long *out)
{
	json_t *v = json_object_get(kv, key);
	char *end;

	if (json_is_integer(v)) {
		*out = (long)json_integer_value(v);
		return true;
	}
	if (json_is_string(v) && *json_string_value(v)) {
		long x = strtol(json_string_value(v), &end, 10);

		if (*end)
			return false;
		*out = x;
		return true;
	}
	return false;
}

static void lower(char *s)
{
	for (; s && *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* "SHA1=..,MD5=..,SHA256=..,IMPHASH=.." (or a bare 64-hex value) -> lowercase sha256. */
static char *sha256_of(const char *hashes)
{
	const char *p;
	char *out;

	if (!hashes)
		return NULL;
	p = strcasestr(hashes, "SHA256=");
	if (p)
		p += 7;
	else if (strlen(hashes) == 64)
		p = hashes;
	else
		return NULL;
	for (int i = 0; i < 64; i++)
		if (!isxdigit((unsigned char)p[i]))
			return NULL;
	out = strndup(p, 64);
	lower(out);
	return out;
}

static bool eid_wanted(int eid)
{
	switch (eid) {
	case 1:
	case 3:
	case 6:
	case 7:
	case 11:
	case 15:
	case 22:
	case 23:
	case 26:
	case 29: return true;
	default: return false;
	}
}

/*
 * The common step: kv holds Sysmon EventData fields (any shape's). Fills ep
 * from them; host and record id come from the shape's envelope.
 */
static int ep_from_kv(json_t *kv, int eid, const char *host, uint64_t rec, struct nj_fuse_ep *ep)
{
	char *t, *h;
	long v;

	if (!eid_wanted(eid))
		return NJ_FUSE_SKIP_OTHER;
	t = kv_str(kv, "UtcTime");
	if (!t || nj_fuse_parse_time(t, &ep->time) || !host || !*host) {
		free(t);
		return NJ_FUSE_BAD_SHAPE;
	}
	free(t);
	ep->eid = eid;
	ep->record_id = rec;
	ep->host = strdup(host);
	ep->guid = kv_str(kv, "ProcessGuid");
	ep->pid = kv_long(kv, "ProcessId", &v) ? v : -1;
	ep->image = kv_str(kv, "Image");
	ep->user = kv_str(kv, "User");
	ep->cmdline = kv_str(kv, "CommandLine");
	ep->parent_guid = kv_str(kv, "ParentProcessGuid");
	ep->ppid = kv_long(kv, "ParentProcessId", &v) ? v : -1;
	ep->parent_image = kv_str(kv, "ParentImage");
	ep->parent_cmdline = kv_str(kv, "ParentCommandLine");
	ep->initiated = -1;
	if (eid == 3) {
		char *p = kv_str(kv, "Protocol"), *in = kv_str(kv, "Initiated");

		ep->proto = p && !strcasecmp(p, "tcp") ? 6 : p && !strcasecmp(p, "udp") ? 17 : 0;
		if (in)
			ep->initiated = !strcasecmp(in, "true") ? 1 : 0;
		free(p);
		free(in);
		ep->sip = kv_str(kv, "SourceIp");
		ep->dip = kv_str(kv, "DestinationIp");
		ep->sport = kv_long(kv, "SourcePort", &v) && v >= 0 && v < 65536 ? (uint16_t)v : 0;
		ep->dport =
			kv_long(kv, "DestinationPort", &v) && v >= 0 && v < 65536 ? (uint16_t)v : 0;
		ep->dest_hostname = kv_str(kv, "DestinationHostname");
	}
	if (eid == 22) {
		ep->query_name = kv_str(kv, "QueryName");
		ep->query_results = kv_str(kv, "QueryResults");
	}
	ep->target = kv_str(kv, "TargetFilename");
	if (!ep->target && eid == 7)
		ep->target = kv_str(kv, "ImageLoaded");
	h = kv_str(kv, "Hashes");
	if (!h)
		h = kv_str(kv, "Hash");
	ep->sha256 = sha256_of(h);
	free(h);
	return NJ_FUSE_OK;
}

static bool is_sysmon_channel(json_t *o, const char *key)
{
	json_t *c = json_object_get(o, key);

	return !json_is_string(c) || strcasestr(json_string_value(c), "sysmon");
}

static uint64_t rec_of(json_t *o, const char *key, uint64_t dflt)
{
	long v;

	return kv_long(o, key, &v) && v >= 0 ? (uint64_t)v : dflt;
}

/* ---- shapes ---- */

/* Mordor / raw flat JSON: EventData keys at top level. */
static int parse_flat(json_t *o, uint64_t line_no, struct nj_fuse_ep *ep)
{
	char *host;
	long eid;
	uint64_t rec;
	int rc;

	if (!is_sysmon_channel(o, "Channel") || !is_sysmon_channel(o, "SourceName"))
		return NJ_FUSE_SKIP_OTHER;
	if (!kv_long(o, "EventID", &eid))
		return NJ_FUSE_BAD_SHAPE;
	host = kv_str(o, "Hostname");
	if (!host)
		host = kv_str(o, "Computer");
	rec = rec_of(o, "RecordNumber", rec_of(o, "EventRecordID", line_no));
	rc = ep_from_kv(o, (int)eid, host, rec, ep);
	free(host);
	ep->fmt = NJ_FUSE_FMT_SYSMON_JSON;
	return rc;
}

/* Winlogbeat 8 ECS: winlog.{event_id, record_id, computer_name, channel, event_data}. */
static int parse_winlogbeat(json_t *o, uint64_t line_no, struct nj_fuse_ep *ep)
{
	json_t *w = json_object_get(o, "winlog"), *ed;
	char *host;
	long eid;
	uint64_t rec;
	int rc;

	if (!json_is_object(w))
		return NJ_FUSE_BAD_SHAPE;
	if (!is_sysmon_channel(w, "channel") || !is_sysmon_channel(w, "provider_name"))
		return NJ_FUSE_SKIP_OTHER;
	ed = json_object_get(w, "event_data");
	if (!kv_long(w, "event_id", &eid) || !json_is_object(ed))
		return NJ_FUSE_BAD_SHAPE;
	host = kv_str(w, "computer_name");
	if (!host)
		host = kv_str(json_object_get(o, "host"), "name");
	rec = rec_of(w, "record_id", line_no);
	rc = ep_from_kv(ed, (int)eid, host, rec, ep);
	free(host);
	ep->fmt = NJ_FUSE_FMT_WINLOGBEAT;
	return rc;
}

/* Microsoft Sentinel WindowsEvent: EventData is a JSON string; no record id. */
static int parse_sentinel(json_t *o, uint64_t line_no, struct nj_fuse_ep *ep)
{
	json_t *ed = json_object_get(o, "EventData"), *inner = NULL;
	char *host;
	long eid;
	int rc;

	if (!is_sysmon_channel(o, "Channel") || !is_sysmon_channel(o, "Provider"))
		return NJ_FUSE_SKIP_OTHER;
	if (!kv_long(o, "EventID", &eid))
		return NJ_FUSE_BAD_SHAPE;
	if (json_is_string(ed)) {
		inner = json_loads(json_string_value(ed), 0, NULL);
		if (!json_is_object(inner)) {
			json_decref(inner);
			return NJ_FUSE_BAD_SHAPE;
		}
	} else if (json_is_object(ed)) {
		inner = json_incref(ed);
	} else {
		return NJ_FUSE_BAD_SHAPE;
	}
	host = kv_str(o, "Computer");
	rc = ep_from_kv(inner, (int)eid, host, rec_of(o, "EventRecordId", line_no), ep);
	free(host);
	json_decref(inner);
	ep->fmt = NJ_FUSE_FMT_SENTINEL;
	return rc;
}

/* Text between <tag ...> and </tag>, bounded by end; NULL if absent. */
static char *xml_elem(const char *s, const char *end, const char *tag)
{
	char open[64], close[64];
	const char *a, *b;

	snprintf(open, sizeof(open), "<%s", tag);
	snprintf(close, sizeof(close), "</%s>", tag);
	a = memmem(s, (size_t)(end - s), open, strlen(open));
	if (!a)
		return NULL;
	a = memchr(a, '>', (size_t)(end - a));
	if (!a || a[-1] == '/')
		return NULL;
	a++;
	b = memmem(a, (size_t)(end - a), close, strlen(close));
	if (!b)
		return NULL;
	return strndup(a, (size_t)(b - a));
}

/*
 * Sysmon <Event> XML (the Azure syslog shape carries it in SyslogMessage).
 * Cut records keep every <Data> that closed before the cut.
 */
static int parse_xml(const char *x, size_t len, const char *outer_host, uint64_t line_no,
		     struct nj_fuse_ep *ep)
{
	const char *p = x, *end = x + len;
	json_t *kv = json_object();
	char *eid_s, *rec_s, *host;
	bool cut = !memmem(x, len, "</Event>", 8);
	uint64_t rec = line_no;
	int rc;

	if (!kv)
		return NJ_FUSE_BAD_XML;
	eid_s = xml_elem(x, end, "EventID");
	if (!eid_s) {
		json_decref(kv);
		return NJ_FUSE_BAD_XML;
	}
	rec_s = xml_elem(x, end, "EventRecordID");
	if (rec_s)
		rec = strtoull(rec_s, NULL, 10);
	host = xml_elem(x, end, "Computer");
	while ((p = memmem(p, (size_t)(end - p), "<Data Name=\"", 12))) {
		const char *n = p + 12, *q = memchr(n, '"', (size_t)(end - n)), *v, *ve;
		char name[64];

		if (!q || q - n >= (long)sizeof(name))
			break;
		memcpy(name, n, (size_t)(q - n));
		name[q - n] = '\0';
		if (q + 1 < end && q[1] == '/') { /* <Data Name="x"/> */
			p = q + 1;
			continue;
		}
		v = q + 2;
		if (v > end)
			break;
		ve = memmem(v, (size_t)(end - v), "</Data>", 7);
		if (!ve)
			break; /* cut inside this value: drop it, keep the others */
		{
			char *val = strndup(v, (size_t)(ve - v));

			if (val) {
				unescape(val);
				json_object_set_new(kv, name, json_string(val));
				free(val);
			}
		}
		p = ve + 7;
	}
	rc = ep_from_kv(kv, atoi(eid_s), host ? host : outer_host, rec, ep);
	if (rc == NJ_FUSE_OK && cut) {
		ep->partial = true;
		rc = NJ_FUSE_PARTIAL;
	}
	free(eid_s);
	free(rec_s);
	free(host);
	json_decref(kv);
	ep->fmt = NJ_FUSE_FMT_AZURE_XML;
	return rc;
}

static int parse_azure(json_t *o, uint64_t line_no, struct nj_fuse_ep *ep)
{
	json_t *m = json_object_get(o, "SyslogMessage");
	char *host;
	int rc;

	if (!json_is_string(m))
		return NJ_FUSE_BAD_SHAPE;
	if (!strstr(json_string_value(m), "<Event"))
		return NJ_FUSE_SKIP_OTHER;
	if (!strstr(json_string_value(m), "Sysmon"))
		return NJ_FUSE_SKIP_OTHER;
	host = kv_str(o, "Computer");
	if (!host)
		host = kv_str(o, "HostName");
	rc = parse_xml(json_string_value(m), json_string_length(m), host, line_no, ep);
	free(host);
	return rc;
}

static bool ends_with(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);

	return a >= b && !strcmp(s + a - b, suf);
}

/* osquery results log: {"name", "hostIdentifier", "unixTime", "columns", "action", "counter"}. */
static int parse_osquery(json_t *o, uint64_t line_no, struct nj_fuse_ep *ep)
{
	json_t *c = json_object_get(o, "columns"), *nm = json_object_get(o, "name");
	const char *name;
	char *act;
	long v;

	if (!json_is_object(c) || !json_is_string(nm))
		return NJ_FUSE_BAD_SHAPE;
	name = json_string_value(nm);
	act = kv_str(o, "action");
	if (act && strcmp(act, "added") && strcmp(act, "snapshot")) {
		free(act);
		return NJ_FUSE_SKIP_OTHER; /* "removed" rows describe nothing new */
	}
	free(act);
	ep->source = 1;
	ep->fmt = NJ_FUSE_FMT_OSQUERY;
	ep->host = kv_str(o, "hostIdentifier");
	if (!ep->host)
		return NJ_FUSE_BAD_SHAPE;
	if (kv_long(c, "time", &v) && v > 0)
		ep->time = (double)v;
	else if (kv_long(o, "unixTime", &v) && v > 0)
		ep->time = (double)v;
	else
		return NJ_FUSE_BAD_SHAPE;
	ep->record_id = rec_of(o, "counter", line_no);
	ep->table = strdup(name);
	ep->pid = kv_long(c, "pid", &v) ? v : -1;
	ep->ppid = -1;
	ep->initiated = -1;
	ep->image = kv_str(c, "path");
	if (ends_with(name, "socket_events")) {
		char *a = kv_str(c, "action");
		bool acc = a && !strcmp(a, "accept");
		long lp = 0, rp = 0;

		if (!a || (strcmp(a, "connect") && !acc)) {
			free(a);
			return NJ_FUSE_SKIP_OTHER;
		}
		free(a);
		ep->eid = 3;
		/* socket_events leaves protocol 0 on some platforms: connect/accept is TCP then. */
		ep->proto = kv_long(c, "protocol", &v) && v == 17 ? 17 : 6;
		kv_long(c, "local_port", &lp);
		kv_long(c, "remote_port", &rp);
		if (lp < 0 || lp > 65535 || rp < 0 || rp > 65535)
			return NJ_FUSE_BAD_SHAPE;
		ep->initiated = acc ? 0 : 1;
		ep->sip = kv_str(c, acc ? "remote_address" : "local_address");
		ep->dip = kv_str(c, acc ? "local_address" : "remote_address");
		ep->sport = (uint16_t)(acc ? rp : lp);
		ep->dport = (uint16_t)(acc ? lp : rp);
	} else if (ends_with(name, "process_events")) {
		ep->eid = 1;
		ep->cmdline = kv_str(c, "cmdline");
		ep->ppid = kv_long(c, "parent", &v) ? v : -1;
		ep->user = kv_str(c, "username");
		if (!ep->user)
			ep->user = kv_str(c, "uid");
		ep->sha256 = sha256_of(json_string_value(json_object_get(c, "sha256")));
	} else if (ends_with(name, "process_file_events")) {
		/*
		 * Audit-based: which process wrote which file (pid, executable, path;
		 * dest_path for a rename or link). No hashes: the file's content comes
		 * from file_events / hash rows of the same path.
		 */
		char *dest = kv_str(c, "dest_path");

		ep->eid = 11;
		free(ep->image);
		ep->image = kv_str(c, "executable");
		ep->target = dest ? dest : kv_str(c, "path");
		ep->ppid = kv_long(c, "ppid", &v) ? v : -1;
		if (!ep->target)
			return NJ_FUSE_BAD_SHAPE;
	} else if (ends_with(name, "file_events") || ends_with(name, "hash")) {
		/*
		 * FIM file_events (target_path; md5/sha1/sha256 once hashing is
		 * configured) and the hash table (path): no process. With a SHA-256
		 * the row is a file-hash record (EID 15); the join state gives it the
		 * process of the process_file_events row that wrote the same path.
		 * A file_events row without hashes is a bare file change (EID 11).
		 */
		ep->target = kv_str(c, "target_path");
		if (ep->target)
			free(ep->image);
		else
			ep->target = ep->image; /* hash: "path" */
		ep->image = NULL;
		if (!ep->target)
			return NJ_FUSE_BAD_SHAPE;
		ep->sha256 = sha256_of(json_string_value(json_object_get(c, "sha256")));
		ep->eid = ep->sha256 ? 15 : 11;
		if (!ep->sha256 && ends_with(name, "hash"))
			return NJ_FUSE_BAD_SHAPE;
	} else {
		return NJ_FUSE_SKIP_OTHER;
	}
	return NJ_FUSE_OK;
}

static enum nj_fuse_fmt sniff(json_t *o)
{
	if (json_object_get(o, "winlog"))
		return NJ_FUSE_FMT_WINLOGBEAT;
	if (json_object_get(o, "SyslogMessage"))
		return NJ_FUSE_FMT_AZURE_XML;
	if (json_object_get(o, "columns") && json_object_get(o, "name"))
		return NJ_FUSE_FMT_OSQUERY;
	if (json_is_string(json_object_get(o, "EventData")))
		return NJ_FUSE_FMT_SENTINEL;
	if (json_object_get(o, "EventID"))
		return NJ_FUSE_FMT_SYSMON_JSON;
	return NJ_FUSE_FMT_AUTO;
}

int nj_fuse_parse_line(enum nj_fuse_fmt fmt, const char *line, size_t len, uint64_t line_no,
		       struct nj_fuse_ep *ep)
{
	json_t *o;
	int rc;

	while (len && isspace((unsigned char)*line)) {
		line++;
		len--;
	}
	if (!len)
		return NJ_FUSE_SKIP_OTHER;
	if (*line == '<') /* a raw Sysmon XML record, one per line */
		return parse_xml(line, len, NULL, line_no, ep);
	o = json_loadb(line, len, 0, NULL);
	if (!json_is_object(o)) {
		json_decref(o);
		return NJ_FUSE_BAD_JSON;
	}
	if (fmt == NJ_FUSE_FMT_AUTO)
		fmt = sniff(o);
	switch (fmt) {
	case NJ_FUSE_FMT_WINLOGBEAT: rc = parse_winlogbeat(o, line_no, ep); break;
	case NJ_FUSE_FMT_SYSMON_JSON: rc = parse_flat(o, line_no, ep); break;
	case NJ_FUSE_FMT_SENTINEL: rc = parse_sentinel(o, line_no, ep); break;
	case NJ_FUSE_FMT_AZURE_XML: rc = parse_azure(o, line_no, ep); break;
	case NJ_FUSE_FMT_OSQUERY: rc = parse_osquery(o, line_no, ep); break;
	default: rc = NJ_FUSE_SKIP_OTHER; break;
	}
	json_decref(o);
	if (rc != NJ_FUSE_OK && rc != NJ_FUSE_PARTIAL)
		nj_fuse_ep_free(ep);
	return rc;
}
