#!/usr/bin/env bash
# Makes the local PostgreSQL ready for riacho's tests and demo: running on 127.0.0.1:5432,
# wal_level=logical with room for 32 replication slots and walsenders (needed by CDC and its
# tests), and a riacho database. Idempotent; safe to run often.
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

# CDC tests create several replication slots (and walsenders) at once.
MIN_SLOTS=32

level=$(psql -Atqc 'SHOW wal_level')
slots=$(psql -Atqc 'SHOW max_replication_slots')
senders=$(psql -Atqc 'SHOW max_wal_senders')
if [ "$level" != "logical" ] || [ "$slots" -lt "$MIN_SLOTS" ] || [ "$senders" -lt "$MIN_SLOTS" ]; then
	log "wal_level=$level max_replication_slots=$slots max_wal_senders=$senders; setting logical/$MIN_SLOTS/$MIN_SLOTS and restarting"
	psql -qc "ALTER SYSTEM SET wal_level = logical"
	[ "$slots" -ge "$MIN_SLOTS" ] || psql -qc "ALTER SYSTEM SET max_replication_slots = $MIN_SLOTS"
	[ "$senders" -ge "$MIN_SLOTS" ] || psql -qc "ALTER SYSTEM SET max_wal_senders = $MIN_SLOTS"
	ctl restart
	wait_ready
	level=$(psql -Atqc 'SHOW wal_level')
	slots=$(psql -Atqc 'SHOW max_replication_slots')
	senders=$(psql -Atqc 'SHOW max_wal_senders')
	[ "$level" = "logical" ] || { log "wal_level is still $level after restart"; exit 1; }
	[ "$slots" -ge "$MIN_SLOTS" ] || { log "max_replication_slots is still $slots after restart"; exit 1; }
	[ "$senders" -ge "$MIN_SLOTS" ] || { log "max_wal_senders is still $senders after restart"; exit 1; }
fi

if [ "$(psql -Atqc "SELECT 1 FROM pg_database WHERE datname = 'riacho'")" != "1" ]; then
	psql -qc "CREATE DATABASE riacho"
fi
log "ready: $PGHOST:$PGPORT wal_level=$level max_replication_slots=$slots max_wal_senders=$senders database=riacho"
