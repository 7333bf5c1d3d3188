#!/usr/bin/env bash
# Make sure the MariaDB server the tests use is up on 127.0.0.1:3306, starting it if not.
set -euo pipefail

host=${MARIADB_HOST:-127.0.0.1}
ping() { mariadb-admin --host="$host" --user=root --connect-timeout=2 ping >/dev/null 2>&1; }

if ping; then
  exit 0
fi
if [[ ! -x /usr/sbin/mariadbd ]]; then
  echo "MariaDB is not installed; installing mariadb-server" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mariadb-server >/dev/null
fi
echo "MariaDB is down; starting it" >&2
mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld 2>/dev/null || true
start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
for _ in $(seq 1 60); do
  if ping; then
    echo "MariaDB is up" >&2
    exit 0
  fi
  sleep 0.5
done
echo "MariaDB did not come up on $host:3306 within 30 s" >&2
exit 1
