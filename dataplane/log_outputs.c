/* SPDX-License-Identifier: MIT */
/*
 * logging.outputs of suricata.yaml: `- file: {enabled, filename, type, level}`
 * opens a file in the log directory that receives the start-up log, plain
 * (suricata.log) or as JSON `engine` events (type: json). console and syslog
 * items are accepted; the console is always stderr.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/nj_common.h"
#include "config/config.h"
#include "dataplane/log_outputs.h"

NJ_CONF_KEY(log_default_level, "logging.default-log-level", NJ_CT_STR, "info",
	    "Level of the file log outputs: error, warning, notice, info, config, debug.")
NJ_CONF_KEY(log_outputs, "logging.outputs", NJ_CT_LIST, "(none)",
	    "Log outputs: `- file: {enabled: yes, filename: suricata.log, type: plain|json, "
	    "level: info}` writes the start-up log (rule errors included) to the log "
	    "directory; type json writes EVE `engine` events. `console`/`syslog` items are "
	    "accepted (the console is stderr).")

static int parse_level(const char *s, int dflt)
{
	if (!s)
		return dflt;
	if (!strcasecmp(s, "error") || !strcasecmp(s, "critical") || !strcasecmp(s, "alert") ||
	    !strcasecmp(s, "emergency"))
		return NJ_LOG_ERR;
	if (!strcasecmp(s, "warning"))
		return NJ_LOG_WARN;
	if (!strcasecmp(s, "notice") || !strcasecmp(s, "info") || !strcasecmp(s, "perf") ||
	    !strcasecmp(s, "config"))
		return NJ_LOG_INFO;
	if (!strcasecmp(s, "debug"))
		return NJ_LOG_DEBUG;
	return dflt;
}

int nj_log_outputs_open(const struct nj_conf *c, const char *log_dir)
{
	const struct nj_conf_node *outs = nj_conf_get(c, "logging.outputs");
	const char *s = NULL;
	int dflt;

	nj_conf_str(c, NULL, "logging.default-log-level", &s);
	dflt = parse_level(s, NJ_LOG_INFO);
	for (const struct nj_conf_node *it = outs ? outs->child : NULL; it; it = it->next) {
		const struct nj_conf_node *f = nj_conf_node_get(it, "file");
		const char *name = "suricata.log", *type = "plain", *lv = NULL;
		bool enabled = true;
		char path[4096];
		FILE *fp;

		if (!f)
			continue;
		if (nj_conf_bool(c, f, "enabled", &enabled) < 0)
			return -EINVAL;
		if (!enabled)
			continue;
		nj_conf_str(c, f, "filename", &name);
		nj_conf_str(c, f, "type", &type);
		nj_conf_str(c, f, "level", &lv);
		if (name[0] == '/')
			snprintf(path, sizeof(path), "%s", name);
		else
			snprintf(path, sizeof(path), "%s/%s", log_dir ? log_dir : ".", name);
		fp = fopen(path, "a");
		if (!fp) {
			NJ_WARN("logging: cannot open %s: %s", path, strerror(errno));
			continue;
		}
		if (nj_log_sink_add(fp, !strcasecmp(type, "json"), parse_level(lv, dflt)) < 0) {
			fclose(fp);
			NJ_WARN("logging: too many file outputs, %s ignored", path);
		}
	}
	return 0;
}
