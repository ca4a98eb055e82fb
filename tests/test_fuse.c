/* SPDX-License-Identifier: MIT */
#include "../export/fuse/fuse.h"
#include "nj_test.h"
int main(void)
{
	CHECK(1);
	return failures != 0;
}
