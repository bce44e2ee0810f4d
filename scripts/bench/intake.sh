#!/usr/bin/env bash
# Load benchmark of the intake: signed ~1 KiB WhatsApp notifications over real HTTP, each
# answered only after the embedded Kafka-protocol broker acknowledged it (acks=all).
# The broker, the registry, the intake (all in devstack) and the load generator (wrk) share
# this machine. Usage: scripts/bench/intake.sh [duration] [connections] [threads]
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION=${1:-20s}
CONNS=${2:-64}
THREADS=${3:-1}
scripts/ensure-tools.sh wrk

work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
(cd services/devstack && go build -o "$work/devstack" ./cmd/devstack)
(cd services/devstack && go run ./cmd/benchbody >"$work/body.json")

"$work/devstack" --data-dir "$work/data" --kafka-addr 127.0.0.1:19092 --registry-addr 127.0.0.1:18081 \
	--intake-addr 127.0.0.1:18080 --intake-control-addr 127.0.0.1:19101 --log-level warn \
	>"$work/devstack.out" 2>"$work/devstack.err" &
pid=$!
for _ in $(seq 1 300); do
	grep -q "devstack is ready" "$work/devstack.out" 2>/dev/null && break
	kill -0 "$pid" 2>/dev/null || { cat "$work/devstack.err"; exit 1; }
	sleep 0.2
done
secret=demo-whatsapp-app-secret
sig="sha256=$(openssl dgst -sha256 -hmac "$secret" -hex <"$work/body.json" | awk '{print $NF}')"
echo "body: $(wc -c <"$work/body.json") bytes; $(nproc) cores; $(go version | awk '{print $3}')"
# warm-up, then the measured run
BODY_FILE="$work/body.json" SIGNATURE="$sig" wrk -t"$THREADS" -c"$CONNS" -d3s -s scripts/bench/whatsapp.lua http://127.0.0.1:18080/webhooks/whatsapp >/dev/null
echo "== intake: signed WhatsApp notifications through to Kafka acks"
BODY_FILE="$work/body.json" SIGNATURE="$sig" wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -s scripts/bench/whatsapp.lua http://127.0.0.1:18080/webhooks/whatsapp

# The ceiling: a bare net/http server that only reads the body, under the same load.
(cd services/devstack && go build -o "$work/benchfloor" ./cmd/benchfloor)
"$work/benchfloor" --addr 127.0.0.1:18090 &
floor=$!
sleep 0.5
echo
echo "== reference: bare net/http server reading the body and answering 200 (no parsing, no Kafka)"
BODY_FILE="$work/body.json" SIGNATURE="$sig" wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -s scripts/bench/whatsapp.lua http://127.0.0.1:18090/webhooks/whatsapp
kill "$floor"
