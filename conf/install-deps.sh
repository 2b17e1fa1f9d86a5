#!/bin/sh
# install-deps.sh: install the Debian packages korio builds and tests with.
# As root it runs apt-get; otherwise it prints the one command to run.
set -eu

PKGS="kore dpkg-dev patch make gcc pkg-config clang libclang-rt-14-dev \
libjansson-dev libjwt-dev libmongoc-dev libsqlite3-dev libssl-dev libunistring-dev \
libhiredis-dev \
chromium sqlite3 python3-socketio python3-requests python3-websocket gnuplot-nox \
systemd nginx redis-server"

command -v node >/dev/null 2>&1 || PKGS="$PKGS nodejs"
command -v npm >/dev/null 2>&1 || PKGS="$PKGS npm"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
	    grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done

[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "korio needs these Debian packages; run as root:" >&2
	echo "  apt-get update && apt-get install -y --no-install-recommends$missing" >&2
	exit 1
fi

echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
