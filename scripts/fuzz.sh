#!/usr/bin/env bash
# Runs every Go fuzz target in the repository for a while each.
# Usage: scripts/fuzz.sh [fuzztime]   (default 10s per target)
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZTIME=${1:-10s}
status=0
while IFS= read -r file; do
	dir=$(dirname "$file")
	mod=$dir
	while [ ! -f "$mod/go.mod" ]; do mod=$(dirname "$mod"); done
	pkg="./${dir#"$mod"/}"
	[ "$dir" = "$mod" ] && pkg="."
	for target in $(grep -oE '^func Fuzz[A-Za-z0-9_]+' "$file" | sed 's/^func //'); do
		echo "== $pkg $target ($FUZZTIME)"
		(cd "$mod" && go test -run='^$' -fuzz="^${target}\$" -fuzztime="$FUZZTIME" "$pkg") || status=1
	done
done < <(git ls-files '*_test.go' | xargs grep -l '^func Fuzz' | sort)
exit $status
