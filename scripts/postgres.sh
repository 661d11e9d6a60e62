#!/usr/bin/env bash
# Start (or stop) a throwaway PostgreSQL server on loopback for the tests.
#   scripts/postgres.sh start DIR PORT   -> prints the connection URL
#   scripts/postgres.sh stop DIR
# Uses Debian's postgresql package; installs it with apt-get when missing
# (CI runs as root). The cluster lives in DIR and trusts local connections.
set -euo pipefail
action=$1 dir=$2 port=${3:-55432}
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ "$action" = stop ]; then
  [ -n "$pgbin" ] && [ -d "$dir/data" ] && runuser -u postgres -- "$pgbin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  exit 0
fi
if [ -z "$pgbin" ]; then
  echo "installing PostgreSQL (Debian package postgresql)" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
  pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
fi
mkdir -p "$dir"
chmod 755 "$dir"
chown postgres "$dir"
runuser -u postgres -- "$pgbin/initdb" -D "$dir/data" -A trust -U vga --no-instructions >/dev/null
runuser -u postgres -- "$pgbin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
  -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
echo "postgresql://vga@127.0.0.1:$port/postgres"
