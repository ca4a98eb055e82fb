/* SPDX-License-Identifier: MIT */
#ifndef NJ_LOG_OUTPUTS_H
#define NJ_LOG_OUTPUTS_H

struct nj_conf;

/* Opens the file outputs of logging.outputs (relative names in log_dir). */
int nj_log_outputs_open(const struct nj_conf *c, const char *log_dir);

#endif
