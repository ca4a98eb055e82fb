#!/usr/bin/env bash
# Every C file follows the one .clang-format (skips, 77, without clang-format or git).
set -u
cd "$(dirname "$0")/.."
if ! command -v clang-format >/dev/null || ! git rev-parse --git-dir >/dev/null 2>&1; then
	echo "SKIP: needs clang-format and a git checkout"
	exit 77
fi
bad=0
for f in $(git ls-files '*.c' '*.h'); do
	if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
		echo "not formatted: $f (clang-format -i $f)"
		bad=$((bad + 1))
	fi
done
echo "$bad file(s) not formatted"
[ "$bad" = 0 ]
