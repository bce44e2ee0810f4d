#!/usr/bin/env bash
# Load benchmark of the intake: signed ~1 KiB WhatsApp notifications over real HTTP, each
# answered only after the embedded Kafka-protocol broker acknowledged it (acks=all).
# The broker, the registry, the intake and the load generator (wrk) share this machine.
#
# Usage: scripts/bench/intake.sh [duration] [connections] [threads] [mode]
#   mode inprocess (default): devstack alone — broker, registry and intake in one process
#                  (the sink is left out: the benchmark is the intake through to the Kafka ack).
#   mode separate: devstack runs the broker and the registry; the intake runs as its own
#                  process (cmd/intake) pointed at them, so the broker's CPU is counted apart.
#   mode both:     inprocess, then separate.
# After each run it prints the CPU time each process spent per request (from /proc/<pid>/stat),
# wrk's own, the CPU used by everything else on the machine meanwhile (contention), and the
# server's resident memory. Then the same load against benchfloor (bare net/http) as reference.
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION=${1:-20s}
CONNS=${2:-64}
THREADS=${3:-1}
MODE=${4:-inprocess}
case "$MODE" in inprocess | separate | both) ;; *) echo "unknown mode $MODE" >&2; exit 2 ;; esac
scripts/ensure-tools.sh wrk

work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT
(cd services/devstack && go build -o "$work/devstack" ./cmd/devstack && go build -o "$work/benchfloor" ./cmd/benchfloor)
(cd services/intake && go build -o "$work/intake" ./cmd/intake)
(cd services/devstack && go run ./cmd/benchbody >"$work/body.json")
secret=demo-whatsapp-app-secret
sig="sha256=$(openssl dgst -sha256 -hmac "$secret" -hex <"$work/body.json" | awk '{print $NF}')"
tck=$(getconf CLK_TCK)
echo "body: $(wc -c <"$work/body.json") bytes; $(nproc) cores; $(go version | awk '{print $3}'); wrk -t$THREADS -c$CONNS -d$DURATION"

# cpu_ticks PID: user+system clock ticks the process used so far.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# busy_ticks: clock ticks all cores spent outside idle and iowait so far.
busy_ticks() { awk '/^cpu /{print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }
rss_mib() { awk '/^VmRSS/{printf "%.0f", $2 / 1024}' "/proc/$1/status"; }
hwm_mib() { awk '/^VmHWM/{printf "%.0f", $2 / 1024}' "/proc/$1/status"; }

# measure URL NAME:PID...: warm up, then a measured wrk run with the CPU accounting.
measure() {
	local url=$1
	shift
	BODY_FILE="$work/body.json" SIGNATURE="$sig" wrk -t"$THREADS" -c"$CONNS" -d3s -s scripts/bench/whatsapp.lua "$url" >/dev/null
	local before=() p
	for p in "$@"; do before+=("$(cpu_ticks "${p#*:}")"); done
	local busy0 t0
	busy0=$(busy_ticks)
	t0=$(date +%s.%N)
	BODY_FILE="$work/body.json" SIGNATURE="$sig" bash -c 'TIMEFORMAT="wrk_cpu_s=%U %S"; time wrk "$@"' wrk \
		-t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -s scripts/bench/whatsapp.lua "$url" >"$work/wrk.out" 2>&1
	local busy1 t1
	busy1=$(busy_ticks)
	t1=$(date +%s.%N)
	cat "$work/wrk.out"
	local reqs wrk_s
	reqs=$(awk -F'[= ]' '/^requests=/{print $2}' "$work/wrk.out")
	wrk_s=$(awk '/^wrk_cpu_s=/{sub("wrk_cpu_s=", ""); print $1 + $2}' "$work/wrk.out")
	local i=0 servers=0 line=""
	for p in "$@"; do
		local d=$(($(cpu_ticks "${p#*:}") - before[i]))
		servers=$((servers + d))
		line+=$(awk -v n="${p%%:*}" -v d="$d" -v t="$tck" -v r="$reqs" 'BEGIN{printf "%s %.1f µs/req; ", n, d / t * 1e6 / r}')
		line+="rss ${p%%:*} $(rss_mib "${p#*:}") MiB (peak $(hwm_mib "${p#*:}")); "
		i=$((i + 1))
	done
	awk -v l="$line" -v w="$wrk_s" -v r="$reqs" -v b="$((busy1 - busy0))" -v s="$servers" -v t="$tck" \
		-v e="$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b - a}')" 'BEGIN{
		printf "cpu: %swrk %.1f µs/req; rest of the machine %.2f cores busy\n", l, w * 1e6 / r, (b / t - s / t - w) / e
	}'
}

start_devstack() {
	"$work/devstack" --data-dir "$work/data-$1" --kafka-addr 127.0.0.1:19092 --registry-addr 127.0.0.1:18081 \
		--intake-addr 127.0.0.1:18080 --intake-control-addr 127.0.0.1:19101 --sink=false --log-level warn \
		>"$work/devstack.out" 2>"$work/devstack.err" &
	dpid=$!
	pids+=("$dpid")
	for _ in $(seq 1 300); do
		grep -q "devstack is ready" "$work/devstack.out" 2>/dev/null && return 0
		kill -0 "$dpid" 2>/dev/null || { cat "$work/devstack.err"; exit 1; }
		sleep 0.2
	done
	echo "devstack did not start" >&2
	exit 1
}
stop() { kill "$1"; wait "$1" 2>/dev/null || true; }

if [ "$MODE" != separate ]; then
	start_devstack inprocess
	echo
	echo "== intake in devstack (broker, registry and intake in one process): signed WhatsApp notifications through to Kafka acks"
	measure http://127.0.0.1:18080/webhooks/whatsapp "devstack:$dpid"
	stop "$dpid"
fi

if [ "$MODE" != inprocess ]; then
	start_devstack separate
	RIACHO_WHATSAPP_APP_SECRET=$secret RIACHO_WHATSAPP_VERIFY_TOKEN=demo-verify-token \
		RIACHO_KAFKA_BROKERS=127.0.0.1:19092 RIACHO_SCHEMA_REGISTRY_URL=http://127.0.0.1:18081 \
		RIACHO_INTAKE_ADDR=127.0.0.1:18088 RIACHO_CONTROL_ADDR=127.0.0.1:19111 \
		RIACHO_CONTROL_TOKENS=bench:bench-token RIACHO_LOG_LEVEL=warn \
		"$work/intake" >"$work/intake.out" 2>"$work/intake.err" &
	ipid=$!
	pids+=("$ipid")
	for _ in $(seq 1 300); do
		curl -sf http://127.0.0.1:18088/readyz >/dev/null 2>&1 && break
		kill -0 "$ipid" 2>/dev/null || { cat "$work/intake.err"; exit 1; }
		sleep 0.2
	done
	echo
	echo "== intake as its own process, broker and registry in devstack: signed WhatsApp notifications through to Kafka acks"
	measure http://127.0.0.1:18088/webhooks/whatsapp "intake:$ipid" "broker:$dpid"
	stop "$ipid"
	stop "$dpid"
fi

# The ceiling: a bare net/http server that only reads the body, under the same load.
"$work/benchfloor" --addr 127.0.0.1:18090 &
floor=$!
pids+=("$floor")
sleep 0.5
echo
echo "== reference: bare net/http server reading the body and answering 200 (no parsing, no Kafka)"
measure http://127.0.0.1:18090/webhooks/whatsapp "benchfloor:$floor"
