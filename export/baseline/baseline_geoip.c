/* SPDX-License-Identifier: MIT */
/* The baseline's geo hook answered by the worker's GeoIP cache. */
#include <errno.h>
#include <string.h>

#include "baseline.h"
#include "baseline_geoip.h"
#include "export/geoip.h"

/* Hot path (flow end): one cached lookup, no allocation. */
static void geoip_geo(void *arg, const uint8_t *addr, unsigned alen, char cc[3], uint32_t *asn)
{
	const struct nj_geoip_info *in = nj_geoip_lookup(arg, addr, alen);

	if (!in)
		return;
	if (in->fields & NJ_GEOIP_COUNTRY)
		memcpy(cc, in->country, 3);
	if (in->fields & NJ_GEOIP_ASN)
		*asn = in->asn;
}

int nj_baseline_use_geoip(struct nj_baseline *b, struct nj_geoip_cache *gc)
{
	if (!b || !gc)
		return -EINVAL;
	nj_baseline_set_geo(b, geoip_geo, gc);
	return 0;
}
