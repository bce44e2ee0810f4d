#!/usr/bin/env bash
# The metrics API benchmark (docs/benchmarks.md): the seed's mrr by month and
# customer_segment over a 10-million-row fct_subscriptions in the local
# PostgreSQL, through psql (the limit), the API uncached, and the API cached.
# ROWS, N and CACHED override the sizes. The database riacho_bench_metrics is
# kept between runs (filling it takes about a minute); drop it when done.
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/pg-setup.sh >/dev/null
scripts/ensure-tools.sh pgbench >/dev/null # brings the PostgreSQL client (psql)
go run ./services/metrics/cmd/metricsbench -rows "${ROWS:-10000000}" -n "${N:-60}" -cached "${CACHED:-5000}"
