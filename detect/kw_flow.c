/* SPDX-License-Identifier: MIT */
/*
 * Flow and state keywords, stored in the signature for the engine: flow,
 * flowbits, flowint, xbits, threshold, detection_filter,
 * app-layer-protocol, app-layer-event, stream-event, stream_size, and the
 * app-layer state checks (tls.version, ssl_state, ...).
 */
#include <stdio.h>
#include <string.h>

#include "detect_int.h"

static int kw_flow(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *v)
{
	static const struct {
		const char *name;
		uint16_t flag;
	} opts[] = {
		{"to_server", NJ_FLOW_TOSERVER},      {"from_client", NJ_FLOW_TOSERVER},
		{"to_client", NJ_FLOW_TOCLIENT},      {"from_server", NJ_FLOW_TOCLIENT},
		{"established", NJ_FLOW_ESTABLISHED}, {"not_established", NJ_FLOW_NOT_ESTABLISHED},
		{"stateless", NJ_FLOW_STATELESS},     {"only_stream", NJ_FLOW_ONLY_STREAM},
		{"no_stream", NJ_FLOW_NO_STREAM},     {"only_frag", NJ_FLOW_ONLY_FRAG},
		{"no_frag", NJ_FLOW_NO_FRAG},
	};
	char *parts[8];
	unsigned n = nj_detect_split(v, ',', parts, 8);
	uint16_t f = 0;

	(void)kw;
	if (ps->has_flow)
		return nj_detect_fail(ps, "A signature may have only one flow keyword");
	ps->has_flow = true;
	for (unsigned i = 0; i < n; i++) {
		size_t j;

		for (j = 0; j < NJ_ARRAY_SIZE(opts); j++)
			if (strcmp(parts[i], opts[j].name) == 0)
				break;
		if (j == NJ_ARRAY_SIZE(opts))
			return nj_detect_fail(ps, "invalid flow option '%s'", parts[i]);
		if (f & opts[j].flag)
			return nj_detect_fail(ps, "duplicated flow option '%s'", parts[i]);
		f |= opts[j].flag;
	}
	if ((f & NJ_FLOW_TOSERVER) && (f & NJ_FLOW_TOCLIENT))
		return nj_detect_fail(ps,
				      "cannot set to_client and to_server flags at the same time");
	if ((f & NJ_FLOW_ESTABLISHED) && (f & (NJ_FLOW_NOT_ESTABLISHED | NJ_FLOW_STATELESS)))
		return nj_detect_fail(ps,
				      "cannot set established with not_established or stateless");
	if ((f & NJ_FLOW_NOT_ESTABLISHED) && (f & NJ_FLOW_STATELESS))
		return nj_detect_fail(ps, "cannot set not_established and stateless");
	if ((f & NJ_FLOW_ONLY_STREAM) && (f & NJ_FLOW_NO_STREAM))
		return nj_detect_fail(ps, "cannot set only_stream and no_stream at the same time");
	if ((f & NJ_FLOW_ONLY_FRAG) && (f & NJ_FLOW_NO_FRAG))
		return nj_detect_fail(ps, "cannot set only_frag and no_frag at the same time");
	ps->s->flow_flags = f;
	return 0;
}
NJ_DETECT_KEYWORD(flow, .name = "flow", .flags = NJ_KWF_VALUE | NJ_KWF_ENGINE, .parse = kw_flow,
		  .doc = "to_server/to_client, established/not_established/stateless, "
			 "only_stream/no_stream, only_frag/no_frag")

/* "a|b" or "a&b" into ids; returns the count or -1. */
static int bit_names(struct nj_detect_parse *ps, char *names, struct nj_detect_bitop *op,
		     bool allow_or)
{
	uint16_t ids[16];
	unsigned n = 0;
	bool has_or = strchr(names, '|') != NULL, has_and = strchr(names, '&') != NULL;
	char *save = NULL;

	if (has_or && has_and)
		return nj_detect_fail(ps, "can't combine | and & in one %s", ps->kw);
	if (has_or && !allow_or)
		return nj_detect_fail(ps, "| is only allowed with isset and isnotset");
	for (char *t = strtok_r(names, "|&", &save); t; t = strtok_r(NULL, "|&", &save)) {
		t = nj_detect_trim(t);
		if (!*t || strchr(t, ' ') || strchr(t, '\t'))
			return nj_detect_fail(ps, "invalid %s name '%s'", ps->kw, t);
		if (n >= NJ_ARRAY_SIZE(ids))
			return nj_detect_fail(ps, "too many names");
		ids[n++] = nj_detect_bitname(ps->r, t);
	}
	if (!n)
		return nj_detect_fail(ps, "missing %s name", ps->kw);
	op->ids = nj_detect_memdup(ps->r, ids, n * sizeof(ids[0]));
	if (!op->ids)
		return nj_detect_fail(ps, "out of memory");
	op->n = (uint8_t)n;
	op->and_ = has_and;
	return (int)n;
}

static int bit_cmd(const char *s)
{
	if (strcmp(s, "set") == 0)
		return NJ_BIT_SET;
	if (strcmp(s, "unset") == 0)
		return NJ_BIT_UNSET;
	if (strcmp(s, "toggle") == 0)
		return NJ_BIT_TOGGLE;
	if (strcmp(s, "isset") == 0)
		return NJ_BIT_ISSET;
	if (strcmp(s, "isnotset") == 0)
		return NJ_BIT_ISNOTSET;
	return -1;
}

static int kw_flowbits(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *v)
{
	char *parts[3];
	unsigned n = nj_detect_split(v, ',', parts, 2);
	struct nj_detect_bitop *op;
	int cmd;

	(void)kw;
	if (n == 1 && strcmp(parts[0], "noalert") == 0) {
		ps->s->flags |= NJ_SIG_NOALERT;
		return 0;
	}
	cmd = n ? bit_cmd(parts[0]) : -1;
	if (cmd < 0)
		return nj_detect_fail(ps, "invalid flowbits command '%s'", n ? parts[0] : "");
	if (n < 2)
		return nj_detect_fail(ps, "flowbits %s needs a name", parts[0]);
	if (ps->nbitops >= NJ_PS_MAX_BITOPS)
		return nj_detect_fail(ps, "too many flowbits");
	op = &ps->bitops[ps->nbitops];
	memset(op, 0, sizeof(*op));
	op->cmd = (uint8_t)cmd;
	if (bit_names(ps, parts[1], op, cmd == NJ_BIT_ISSET || cmd == NJ_BIT_ISNOTSET) < 0)
		return -1;
	ps->nbitops++;
	return 0;
}
NJ_DETECT_KEYWORD(flowbits, .name = "flowbits", .flags = NJ_KWF_VALUE | NJ_KWF_ENGINE,
		  .parse = kw_flowbits,
		  .doc = "set/unset/toggle/isset/isnotset,name (a|b or a&b), noalert")

static int kw_xbits(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *v)
{
	char *parts[6];
	unsigned n = nj_detect_split(v, ',', parts, 6);
	struct nj_detect_bitop *op;
	int cmd;

	(void)kw;
	if (n == 1 && strcmp(parts[0], "noalert") == 0) {
		ps->s->flags |= NJ_SIG_NOALERT;
		return 0;
	}
	cmd = n ? bit_cmd(parts[0]) : -1;
	if (cmd < 0 || n < 3)
		return nj_detect_fail(
			ps, "invalid xbits '%s': cmd,name,track ip_src|ip_dst|ip_pair", v);
	if (ps->nxbitops >= NJ_PS_MAX_BITOPS)
		return nj_detect_fail(ps, "too many xbits");
	op = &ps->xbitops[ps->nxbitops];
	memset(op, 0, sizeof(*op));
	op->cmd = (uint8_t)cmd;
	if (bit_names(ps, parts[1], op, cmd == NJ_BIT_ISSET || cmd == NJ_BIT_ISNOTSET) < 0)
		return -1;
	for (unsigned i = 2; i < n; i++) {
		int64_t x;

		if (strcmp(parts[i], "track ip_src") == 0)
			op->xbits_track = 1;
		else if (strcmp(parts[i], "track ip_dst") == 0)
			op->xbits_track = 2;
		else if (strcmp(parts[i], "track ip_pair") == 0)
			op->xbits_track = 3;
		else if (strcmp(parts[i], "track tx") == 0)
			op->xbits_track = 4;
		else if (strncmp(parts[i], "expire", 6) == 0 &&
			 nj_detect_parse_i64(parts[i] + 6, 1, UINT32_MAX, &x) == 0)
			op->expire = (uint32_t)x;
		else
			return nj_detect_fail(ps, "invalid xbits option '%s'", parts[i]);
	}
	if (!op->xbits_track)
		return nj_detect_fail(ps, "xbits needs track ip_src, ip_dst or ip_pair");
	ps->nxbitops++;
	return 0;
}
NJ_DETECT_KEYWORD(xbits, .name = "xbits", .flags = NJ_KWF_VALUE | NJ_KWF_ENGINE, .parse = kw_xbits,
		  .doc = "cmd,name,track ip_src|ip_dst|ip_pair[,expire N]")

static int kw_flowint(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *v)
{
	static const struct {
		const char *s;
		uint8_t op;
		bool needs_value;
	} ops[] = {
		{"=", NJ_INT_SET, true},	  {"+", NJ_INT_ADD, true},
		{"-", NJ_INT_SUB, true},	  {"==", NJ_INT_EQ, true},
		{"!=", NJ_INT_NE, true},	  {"<", NJ_INT_LT, true},
		{"<=", NJ_INT_LE, true},	  {">", NJ_INT_GT, true},
		{">=", NJ_INT_GE, true},	  {"isset", NJ_INT_ISSET, false},
		{"notset", NJ_INT_NOTSET, false}, {"isnotset", NJ_INT_NOTSET, false},
	};
	char *parts[4];
	unsigned n = nj_detect_split(v, ',', parts, 4);
	struct nj_detect_intop_s *op;
	size_t j;

	(void)kw;
	if (n < 2)
		return nj_detect_fail(ps, "flowint needs name,operator[,value]: '%s'", v);
	for (j = 0; j < NJ_ARRAY_SIZE(ops); j++)
		if (strcmp(parts[1], ops[j].s) == 0)
			break;
	if (j == NJ_ARRAY_SIZE(ops))
		return nj_detect_fail(ps, "invalid flowint operator '%s'", parts[1]);
	if (ops[j].needs_value != (n == 3))
		return nj_detect_fail(ps, "flowint %s %s a value", parts[1],
				      ops[j].needs_value ? "needs" : "takes no");
	if (ps->nintops >= NJ_PS_MAX_BITOPS)
		return nj_detect_fail(ps, "too many flowint");
	op = &ps->intops[ps->nintops];
	memset(op, 0, sizeof(*op));
	op->op = ops[j].op;
	op->id = nj_detect_intname(ps->r, parts[0]);
	if (n == 3) {
		int64_t x;

		if (nj_detect_is_varname(parts[2])) {
			op->value_var = true;
			op->value = nj_detect_intname(ps->r, parts[2]);
		} else if (nj_detect_parse_i64(parts[2], 0, UINT32_MAX, &x) < 0) {
			return nj_detect_fail(ps, "invalid flowint value '%s'", parts[2]);
		} else {
			op->value = (uint64_t)x;
		}
	}
	ps->nintops++;
	return 0;
}
NJ_DETECT_KEYWORD(flowint, .name = "flowint", .flags = NJ_KWF_VALUE | NJ_KWF_ENGINE,
		  .parse = kw_flowint, .doc = "name,op[,value]: = + - == != < <= > >= isset notset")

static int kw_threshold(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *v)
{
	struct nj_detect_threshold *t = &ps->s->threshold;
	char *parts[8];
	unsigned n = nj_detect_split(v, ',', parts, 8);
	bool have_count = false, have_secs = false, have_track = false;

	if (ps->has_threshold && t->type != NJ_THR_DETECTION_FILTER && !kw->arg)
		return nj_detect_fail(
			ps, "multiple \"threshold\" options are not allowed in the same rule");
	if (ps->has_threshold)
		return nj_detect_fail(ps, "only one threshold or detection_filter per rule");
	ps->has_threshold = true;
	memset(t, 0, sizeof(*t));
	if (kw->arg)
		t->type = NJ_THR_DETECTION_FILTER;
	for (unsigned i = 0; i < n; i++) {
		char *k = parts[i], *val = k;
		int64_t x;

		while (*val && *val != ' ' && *val != '\t')
			val++;
		if (*val)
			*val++ = '\0';
		val = nj_detect_trim(val);
		if (strcmp(k, "type") == 0 && !kw->arg) {
			if (strcmp(val, "limit") == 0)
				t->type = NJ_THR_LIMIT;
			else if (strcmp(val, "threshold") == 0)
				t->type = NJ_THR_THRESHOLD;
			else if (strcmp(val, "both") == 0)
				t->type = NJ_THR_BOTH;
			else if (strcmp(val, "backoff") == 0)
				t->type = NJ_THR_BACKOFF;
			else
				return nj_detect_fail(ps, "invalid threshold type '%s'", val);
		} else if (strcmp(k, "track") == 0) {
			if (strcmp(val, "by_src") == 0)
				t->track = NJ_TRACK_SRC;
			else if (strcmp(val, "by_dst") == 0)
				t->track = NJ_TRACK_DST;
			else if (strcmp(val, "by_rule") == 0)
				t->track = NJ_TRACK_RULE;
			else if (strcmp(val, "by_both") == 0)
				t->track = NJ_TRACK_BOTH;
			else if (strcmp(val, "by_flow") == 0)
				t->track = NJ_TRACK_FLOW;
			else
				return nj_detect_fail(ps, "invalid track '%s'", val);
			have_track = true;
		} else if (strcmp(k, "count") == 0) {
			if (nj_detect_parse_i64(val, 1, UINT32_MAX, &x) < 0)
				return nj_detect_fail(ps, "invalid count '%s'", val);
			t->count = (uint32_t)x;
			have_count = true;
		} else if (strcmp(k, "seconds") == 0) {
			if (nj_detect_parse_i64(val, 1, UINT32_MAX, &x) < 0)
				return nj_detect_fail(ps, "invalid seconds '%s'", val);
			t->seconds = (uint32_t)x;
			have_secs = true;
		} else if (strcmp(k, "multiplier") == 0) {
			if (nj_detect_parse_i64(val, 1, UINT32_MAX, &x) < 0)
				return nj_detect_fail(ps, "invalid multiplier '%s'", val);
			t->multiplier = (uint32_t)x;
		} else {
			return nj_detect_fail(ps, "invalid option '%s'", k);
		}
	}
	if (!t->type || !have_track || !have_count)
		return nj_detect_fail(ps, "needs type, track and count");
	if (t->type == NJ_THR_BACKOFF ? !t->multiplier : !have_secs)
		return nj_detect_fail(ps, "%s",
				      t->type == NJ_THR_BACKOFF ? "backoff needs multiplier"
								: "needs seconds");
	return 0;
}
NJ_DETECT_KEYWORD(threshold, .name = "threshold", .flags = NJ_KWF_VALUE | NJ_KWF_ENGINE,
		  .parse = kw_threshold,
		  .doc = "type limit|threshold|both|backoff, track by_src|by_dst|by_rule|by_both|"
			 "by_flow, count N, seconds M")
NJ_DETECT_KEYWORD(detection_filter, .name = "detection_filter",
		  .flags = NJ_KWF_VALUE | NJ_KWF_ENGINE, .parse = kw_threshold, .arg = 1,
		  .doc = "track ..., count N, seconds M")

static int kw_app_proto(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *v)
{
	static const char *const modes[] = {"either",	 "final",     "original",
					    "to_server", "to_client", "exact"};
	char *parts[3];
	unsigned n = nj_detect_split(v, ',', parts, 3);
	char *name = n ? parts[0] : v;

	(void)kw;
	if (ps->s->app_match) {
		/* further ones are checked by the engine like the app-layer state checks */
		if (ps->ndeferred >= NJ_PS_MAX_BITOPS)
			return nj_detect_fail(ps, "too many app-layer-protocol keywords");
		ps->deferred[ps->ndeferred].kw = "app-layer-protocol";
		ps->deferred[ps->ndeferred].value = nj_detect_strdup(ps->r, v);
		if (!ps->deferred[ps->ndeferred].value)
			return nj_detect_fail(ps, "out of memory");
		ps->ndeferred++;
		return 0;
	}
	if (*name == '!') {
		ps->s->flags |= NJ_SIG_APP_NEG;
		name = nj_detect_trim(name + 1);
	}
	if (!*name)
		return nj_detect_fail(ps, "missing protocol");
	if (n == 2) {
		size_t j;

		for (j = 0; j < NJ_ARRAY_SIZE(modes); j++)
			if (strcmp(parts[1], modes[j]) == 0)
				break;
		if (j == NJ_ARRAY_SIZE(modes))
			return nj_detect_fail(ps, "invalid mode '%s'", parts[1]);
		ps->s->app_match_mode = (uint8_t)j;
	}
	ps->s->app_match = nj_detect_intern(ps->r, name);
	ps->s->flags |= NJ_SIG_NEEDS_FLOW;
	return 0;
}
NJ_DETECT_KEYWORD(app_layer_protocol, .name = "app-layer-protocol",
		  .flags = NJ_KWF_VALUE | NJ_KWF_ENGINE, .parse = kw_app_proto,
		  .doc = "[!]proto[,final|original|either|to_server|to_client]")

static int kw_event(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *v)
{
	static const char *const alprotos[] = {
		"http",	  "dns",  "tls",  "smb",   "smtp", "ftp",  "ssh", "dcerpc", "nfs",
		"krb5",	  "dhcp", "snmp", "sip",   "rdp",  "mqtt", "ike", "http2",  "quic",
		"modbus", "dnp3", "enip", "pgsql", "ldap", "ntp",  "tftp"};
	const char *name = nj_detect_intern(ps->r, v);

	if (!name)
		return nj_detect_fail(ps, "out of memory");
	if (kw->arg) {
		ps->s->stream_event = name;
		return 0;
	}
	{
		int h = nj_detect_event_txm(ps, v);

		if (h)
			return h < 0 ? -1 : 0;
	}
	ps->s->app_event = name;
	{
		char proto[32];
		const char *dot = strchr(v, '.');

		if (dot && (size_t)(dot - v) < sizeof(proto)) {
			memcpy(proto, v, (size_t)(dot - v));
			proto[dot - v] = '\0';
			for (size_t i = 0; i < NJ_ARRAY_SIZE(alprotos); i++)
				if (strcmp(proto, alprotos[i]) == 0)
					return nj_detect_set_app_proto(ps, proto);
		}
	}
	return 0;
}
NJ_DETECT_KEYWORD(app_layer_event, .name = "app-layer-event", .flags = NJ_KWF_VALUE | NJ_KWF_ENGINE,
		  .parse = kw_event, .doc = "proto.event_name raised by a parser")
NJ_DETECT_KEYWORD(stream_event, .name = "stream-event", .flags = NJ_KWF_VALUE | NJ_KWF_ENGINE,
		  .parse = kw_event, .arg = 1, .doc = "TCP stream event name")

static int kw_stream_size(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *v)
{
	static const char *const sides[] = {"server", "client", "both", "either"};
	char *parts[4], err[160], expr[96];
	unsigned n = nj_detect_split(v, ',', parts, 4);
	size_t j;

	(void)kw;
	if (n != 3)
		return nj_detect_fail(ps, "stream_size needs side,operator,value: '%s'", v);
	for (j = 0; j < NJ_ARRAY_SIZE(sides); j++)
		if (strcmp(parts[0], sides[j]) == 0)
			break;
	if (j == NJ_ARRAY_SIZE(sides))
		return nj_detect_fail(ps, "invalid side '%s'", parts[0]);
	ps->s->stream_size = nj_detect_alloc(ps->r, sizeof(*ps->s->stream_size));
	if (!ps->s->stream_size)
		return nj_detect_fail(ps, "out of memory");
	if (strcmp(parts[1], "=") == 0)
		snprintf(expr, sizeof(expr), "%s", parts[2]);
	else if (strcmp(parts[1], "!=") == 0)
		snprintf(expr, sizeof(expr), "!%s", parts[2]);
	else if (!strcmp(parts[1], "<") || !strcmp(parts[1], ">") || !strcmp(parts[1], "<=") ||
		 !strcmp(parts[1], ">="))
		snprintf(expr, sizeof(expr), "%s%s", parts[1], parts[2]);
	else
		return nj_detect_fail(ps, "invalid operator '%s'", parts[1]);
	if (nj_detect_u64_parse(expr, UINT32_MAX, ps->s->stream_size, err, sizeof(err)) < 0)
		return nj_detect_fail(ps, "%s", err);
	ps->s->stream_size_side = (uint8_t)j;
	return 0;
}
NJ_DETECT_KEYWORD(stream_size, .name = "stream_size", .flags = NJ_KWF_VALUE | NJ_KWF_ENGINE,
		  .parse = kw_stream_size, .doc = "server|client|both|either,op,N")

/* App-layer state checks the engine evaluates on transactions. */
static int kw_deferred(struct nj_detect_parse *ps, const struct nj_detect_keyword *kw, char *v)
{
	if (ps->ndeferred >= NJ_PS_MAX_BITOPS)
		return nj_detect_fail(ps, "too many app-layer checks");
	if (v)
		nj_detect_unescape(v);
	ps->deferred[ps->ndeferred].kw = kw->name;
	ps->deferred[ps->ndeferred].value = nj_detect_strdup(ps->r, v ? v : "");
	if (!ps->deferred[ps->ndeferred].value)
		return nj_detect_fail(ps, "out of memory");
	ps->ndeferred++;
	return nj_detect_set_app_proto(ps, (const char *)kw->arg);
}
NJ_DETECT_KEYWORD(ssl_state, .name = "ssl_state", .flags = NJ_KWF_VALUE | NJ_KWF_ENGINE,
		  .parse = kw_deferred, .arg = (uintptr_t) "tls",
		  .doc = "client_hello|server_hello|client_keyx|server_keyx|unknown")
NJ_DETECT_KEYWORD(tls_cert_expired, .name = "tls.cert_expired",
		  .flags = NJ_KWF_NOVALUE | NJ_KWF_ENGINE, .parse = kw_deferred,
		  .arg = (uintptr_t) "tls", .doc = "certificate expired")
NJ_DETECT_KEYWORD(tls_cert_valid, .name = "tls.cert_valid", .flags = NJ_KWF_NOVALUE | NJ_KWF_ENGINE,
		  .parse = kw_deferred, .arg = (uintptr_t) "tls",
		  .doc = "certificate within its validity")
NJ_DETECT_KEYWORD(tls_notbefore, .name = "tls_cert_notbefore",
		  .flags = NJ_KWF_VALUE | NJ_KWF_ENGINE, .parse = kw_deferred,
		  .arg = (uintptr_t) "tls", .doc = "certificate notBefore comparison")
NJ_DETECT_KEYWORD(tls_notafter, .name = "tls_cert_notafter", .flags = NJ_KWF_VALUE | NJ_KWF_ENGINE,
		  .parse = kw_deferred, .arg = (uintptr_t) "tls",
		  .doc = "certificate notAfter comparison")
NJ_DETECT_KEYWORD(filestore, .name = "filestore", .flags = NJ_KWF_OPTVALUE | NJ_KWF_ENGINE,
		  .parse = kw_deferred, .arg = 0, .doc = "store the file (engine/file output)")
NJ_DETECT_KEYWORD(filesha1, .name = "filesha1", .flags = NJ_KWF_VALUE | NJ_KWF_ENGINE,
		  .parse = kw_deferred, .arg = 0, .doc = "file SHA-1 in a list file")
NJ_DETECT_KEYWORD(filesha256, .name = "filesha256", .flags = NJ_KWF_VALUE | NJ_KWF_ENGINE,
		  .parse = kw_deferred, .arg = 0, .doc = "file SHA-256 in a list file")
NJ_DETECT_KEYWORD(http_protocol_legacy, .name = "ssh.protoversion",
		  .flags = NJ_KWF_VALUE | NJ_KWF_ENGINE, .parse = kw_deferred,
		  .arg = (uintptr_t) "ssh", .doc = "SSH protocol version")
NJ_DETECT_KEYWORD(ssh_softwareversion, .name = "ssh.softwareversion",
		  .flags = NJ_KWF_VALUE | NJ_KWF_ENGINE, .parse = kw_deferred,
		  .arg = (uintptr_t) "ssh", .doc = "SSH software version")

/* prefilter: Suricata's hint to prefilter on the previous keyword; the engine chooses itself. */
NJ_DETECT_KEYWORD(prefilter, .name = "prefilter", .flags = NJ_KWF_NOVALUE | NJ_KWF_IGNORED,
		  .doc = "prefilter on the previous keyword: accepted, the engine chooses")

/* Keywords Suricata has that Nightjar does not implement: the rule is skipped. */
#define UNSUP(id_, name_, doc_) \
	NJ_DETECT_KEYWORD(id_, .name = name_, .flags = NJ_KWF_UNSUPPORTED, .doc = doc_)
UNSUP(asn1, "asn1", "ASN.1 checks")
UNSUP(datarep, "datarep", "dataset reputation")
UNSUP(ftpbounce, "ftpbounce", "FTP bounce detection (PORT to a third host; not implemented)")
UNSUP(lua, "lua", "Lua scripts")
UNSUP(luajit, "luajit", "Lua scripts")
UNSUP(replace, "replace", "IPS payload replacement")
UNSUP(pktvar, "pktvar", "packet variables")
UNSUP(flowvar, "flowvar", "flow variables")
UNSUP(entropy, "entropy", "entropy of a buffer")
UNSUP(transform_luaxform, "luaxform", "Lua transform")
UNSUP(transform_from_base64, "from_base64", "base64 transform")
UNSUP(rpc, "rpc", "RPC program/version/procedure")
