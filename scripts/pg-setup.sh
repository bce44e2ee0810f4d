#!/usr/bin/env bash
# Makes the local PostgreSQL ready for riacho's tests and demo: running on 127.0.0.1:5432,
# wal_level=logical (needed by CDC), and a riacho database. Idempotent; safe to run often.
set -euo pipefail

PGHOST=${PGHOST:-127.0.0.1}
PGPORT=${PGPORT:-5432}
PGUSER=${PGUSER:-postgres}
export PGHOST PGPORT PGUSER

log() { printf 'pg-setup: %s\n' "$*" >&2; }

cluster() {
	# Prints "<version> <name>" of the first local cluster, if pg_lsclusters exists.
	command -v pg_lsclusters >/dev/null 2>&1 || return 1
	pg_lsclusters --no-header 2>/dev/null | awk 'NR==1 {print $1, $2}'
}

ctl() {
	local c
	c=$(cluster) || { log "pg_lsclusters not found: start PostgreSQL with wal_level=logical yourself"; return 1; }
	[ -n "$c" ] || { log "no PostgreSQL cluster found"; return 1; }
	# shellcheck disable=SC2086
	pg_ctlcluster --skip-systemctl-redirect $c "$1"
}

wait_ready() {
	for _ in $(seq 1 60); do
		pg_isready -q && return 0
		sleep 0.5
	done
	log "PostgreSQL at $PGHOST:$PGPORT did not become ready"
	return 1
}

if ! pg_isready -q 2>/dev/null; then
	log "PostgreSQL not answering; starting the local cluster"
	ctl start || true
	wait_ready
fi

level=$(psql -Atqc 'SHOW wal_level')
if [ "$level" != "logical" ]; then
	log "wal_level is $level; setting logical and restarting"
	psql -qc "ALTER SYSTEM SET wal_level = logical"
	ctl restart
	wait_ready
	level=$(psql -Atqc 'SHOW wal_level')
	[ "$level" = "logical" ] || { log "wal_level is still $level after restart"; exit 1; }
fi

if [ "$(psql -Atqc "SELECT 1 FROM pg_database WHERE datname = 'riacho'")" != "1" ]; then
	psql -qc "CREATE DATABASE riacho"
fi
log "ready: $PGHOST:$PGPORT wal_level=$level database=riacho"
