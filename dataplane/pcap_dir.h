/* SPDX-License-Identifier: MIT */
#ifndef NJ_PCAP_DIR_H
#define NJ_PCAP_DIR_H

/*
 * If path is a directory: 0 with *out the one capture file in it (malloc'd)
 * or NULL when it holds none; -ENOTSUP if it holds several. 1 if path is not
 * a directory (read it as a file).
 */
int nj_pcap_dir_resolve(const char *path, char **out);

#endif
