#!/usr/bin/env bash
# Runs a command against a fresh private PostgreSQL cluster (for machines where none is running). Needs root.
set -euo pipefail
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
PGPORT=${PGPORT:-5498}
PGDIR=$(mktemp -d)
chown postgres:postgres "$PGDIR"
su postgres -c "$PGBIN/initdb -D $PGDIR/data -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 -N" >/dev/null
su postgres -c "$PGBIN/pg_ctl -D $PGDIR/data -l $PGDIR/log -w -o '-p $PGPORT -k $PGDIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off' start" >/dev/null
trap 'su postgres -c "$PGBIN/pg_ctl -D $PGDIR/data -w -m fast stop" >/dev/null; rm -rf "$PGDIR"' EXIT
"$PGBIN/createdb" -h 127.0.0.1 -p "$PGPORT" -U postgres nexus
export DATABASE_URL="postgres://postgres@127.0.0.1:$PGPORT/nexus"
"$@"
