#!/usr/bin/env bash
# Installs the Debian tools riacho's tests and code generation use, when missing:
# kcat (an independent Kafka client the tests read topics with), protoc, pgbench (the CDC crash
# test and benchmark) and wrk (load benchmarks).
# Usage: scripts/ensure-tools.sh [kcat] [protoc] [pgbench] [wrk]
set -euo pipefail
want=("$@")
[ ${#want[@]} -gt 0 ] || want=(kcat protoc pgbench)

missing=()
for tool in "${want[@]}"; do
	case "$tool" in
	kcat) command -v kcat >/dev/null 2>&1 || missing+=(kcat) ;;
	protoc) command -v protoc >/dev/null 2>&1 || missing+=(protobuf-compiler) ;;
	pgbench) command -v pgbench >/dev/null 2>&1 || missing+=(postgresql-contrib) ;;
	wrk) command -v wrk >/dev/null 2>&1 || missing+=(wrk) ;;
	*) echo "ensure-tools: unknown tool $tool" >&2; exit 2 ;;
	esac
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "ensure-tools: installing ${missing[*]} with apt-get" >&2
$sudo apt-get update -qq >/dev/null
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
