/* SPDX-License-Identifier: MIT */
/*
 * `-r DIR`: as Suricata, the capture files of a directory (*.pcap, *.pcapng,
 * sorted by name). One file is read as `-r FILE`; none means the run loads
 * its configuration and rules and ends without packets.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/nj_common.h"
#include "dataplane/pcap_dir.h"

static bool is_capture(const char *name)
{
	size_t n = strlen(name);

	return (n > 5 && !strcmp(name + n - 5, ".pcap")) ||
	       (n > 7 && !strcmp(name + n - 7, ".pcapng"));
}

int nj_pcap_dir_resolve(const char *path, char **out)
{
	struct stat st;
	struct dirent *de;
	unsigned n = 0;
	DIR *d;

	*out = NULL;
	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
		return 1;
	d = opendir(path);
	if (!d)
		return -errno;
	while ((de = readdir(d)) != NULL)
		if (is_capture(de->d_name) && n++ == 0 &&
		    asprintf(out, "%s/%s", path, de->d_name) < 0)
			*out = NULL;
	closedir(d);
	if (n >= 2) {
		free(*out);
		*out = NULL;
		NJ_ERR("%s: several capture files in a directory are not supported yet", path);
		return -ENOTSUP;
	}
	if (n == 1 && !*out)
		return -ENOMEM;
	return 0;
}
