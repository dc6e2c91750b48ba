#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL server on 127.0.0.1 and
# CUSTOMS_IP_BOT_TEST_POSTGRES_URL pointing at it, then stops the server
# and deletes its data, whatever the command's outcome:
#
#     .ci/with-postgres.sh cargo test --release
#
# Installs PostgreSQL from Debian's packages when it is missing (apt-get;
# through sudo when not root). The server runs as the `postgres` user when
# this runs as root (initdb refuses root), else as the current user; trust
# authentication, on a free port, fsync off (the data is thrown away).
set -euo pipefail

find_bindir() {
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

bindir="$(find_bindir)"
if [[ -z "$bindir" || ! -x "$bindir/initdb" ]]; then
    echo "with-postgres: installing PostgreSQL from Debian's packages" >&2
    sudo=()
    if [[ "$(id -u)" != 0 ]]; then sudo=(sudo); fi
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" apt-get install -y -qq --no-install-recommends postgresql >/dev/null
    bindir="$(find_bindir)"
fi

as_server_user=()
if [[ "$(id -u)" == 0 ]]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql postgres
    as_server_user=(runuser -u postgres --)
fi

dir="$(mktemp -d /tmp/customs-ip-bot-pg.XXXXXX)"
if [[ "$(id -u)" == 0 ]]; then chown postgres: "$dir"; fi

# A free port: the first in a random range that nothing answers on.
port=$((20000 + RANDOM % 20000))
while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    port=$((port + 1))
done

stop_server() {
    "${as_server_user[@]}" "$bindir/pg_ctl" -D "$dir/data" -m immediate -s stop >/dev/null 2>&1 || true
    rm -rf "$dir"
}
trap stop_server EXIT

"${as_server_user[@]}" "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust \
    -E UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
"${as_server_user[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -s \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    start || { cat "$dir/server.log" >&2; exit 1; }

export CUSTOMS_IP_BOT_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres"
echo "with-postgres: PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port" >&2
"$@"
