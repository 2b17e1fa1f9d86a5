#!/bin/sh
# check-layers.sh: the layering rules of src/, checked by `make test`
# (make check-layers). Each rule is a grep; a line that breaks one is
# printed with the rule it breaks.
#
#   0. src/util/ (helpers below both layers) is pure C: no Kore, mongoc,
#      bson, sqlite or hiredis header, nothing of korio's but its own.
#   1. src/sio/codec/ is pure C: no Kore, mongoc, bson or sqlite header,
#      and nothing of the plugin outside codec/ (src/util/ is allowed).
#      src/sio/cluster/cluster_codec.[ch], cluster_req.c,
#      cluster_mp.[ch] and cluster_mpjs.c (the Redis adapter's wire
#      format), cluster_url.[ch] and cluster_ids.[ch] (presence's id sets)
#      are pure too: no Kore, mongoc, sqlite or hiredis header, and of the
#      plugin only codec/ and themselves.
#   2. src/sio/engine/ includes nothing from src/sio/server/.
#   3. src/app/ includes only sio.h from the plugin (and src/util/).
#   4. src/app/http/ reaches the store only through the store interface
#      (store/store.h, store/db.h): no backend header, no sqlite3.h,
#      mongoc.h or bson.h, no backend function.
set -u
cd "$(dirname "$0")/.."

fail=0

# check DESCRIPTION OUTPUT: OUTPUT, if any, are the offending lines.
check() {
	if [ -n "$2" ]; then
		echo "layers: $1:" >&2
		echo "$2" | sed 's/^/  /' >&2
		fail=1
	fi
}

# The quoted includes of file $1 that are not files under one of $2...
foreign() {
	f=$1
	shift
	sed -n 's/^#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f" |
	while read -r inc; do
		case "$inc" in
		*..*)	echo "$f: $inc"; continue ;;
		esac
		found=0
		for d in "$@"; do
			[ -f "$d/$inc" ] && found=1
		done
		[ "$found" = 1 ] || echo "$f: $inc"
	done
}

check "util/ includes Kore, mongoc, sqlite or hiredis" "$(grep -nE \
    '^#[[:space:]]*include[[:space:]]*[<"](kore/|mongoc|bson|sqlite3|hiredis)' \
    src/util/*.c src/util/*.h)"

check "util/ includes a header of korio's from outside util/" "$(
	for f in src/util/*.c src/util/*.h; do
		foreign "$f" src/util
	done)"

check "codec/ includes Kore, mongoc or sqlite" "$(grep -nE \
    '^#[[:space:]]*include[[:space:]]*[<"](kore/|mongoc|bson|sqlite3)' \
    src/sio/codec/*.c src/sio/codec/*.h)"

check "codec/ includes a header from outside codec/" "$(
	for f in src/sio/codec/*.c src/sio/codec/*.h; do
		foreign "$f" src/sio/codec src/util
	done)"

CLUSTER_PURE=$(ls src/sio/cluster/cluster_codec.[ch] \
    src/sio/cluster/cluster_req.c src/sio/cluster/cluster_mp.[ch] \
    src/sio/cluster/cluster_mpjs.c src/sio/cluster/cluster_url.[ch] \
    src/sio/cluster/cluster_ids.[ch] 2>/dev/null)
if [ -n "$CLUSTER_PURE" ]; then
	check "cluster_codec includes Kore, mongoc, sqlite or hiredis" \
	    "$(grep -nE '^#[[:space:]]*include[[:space:]]*[<"](kore/|mongoc|bson|sqlite3|hiredis)' \
	    $CLUSTER_PURE)"
	check "cluster_codec includes a plugin header other than codec/" "$(
		for f in $CLUSTER_PURE; do
			sed -n 's/^#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' \
			    "$f" | grep -vE '^(codec/[a-z_]+\.h|cluster_(codec|mp|url|ids)\.h)$' |
			    sed "s|^|$f: |"
		done)"
fi

check "engine/ includes server/" "$(grep -nE \
    '^#[[:space:]]*include[[:space:]]*"(\.\./)?(server/|server\.h)' \
    src/sio/engine/*.c src/sio/engine/*.h)"

check "src/app includes a plugin header other than sio.h" "$(
	for f in $(find src/app -name '*.[ch]'); do
		foreign "$f" src/app src/util "$(dirname "$f")" |
		    grep -v ': sio\.h$'
	done)"

check "http/ includes a store backend" "$(grep -nE \
    '^#[[:space:]]*include[[:space:]]*[<"](store/store_|store_|sqlite3|mongoc|bson)' \
    src/app/http/*.c src/app/http/*.h)"

check "http/ calls a store backend" "$(grep -nE \
    '\b(store_sqlite|store_mongo)_[a-z_]+\(|\b(sqlite3|mongoc|bson)_[a-z_]+\(' \
    src/app/http/*.c)"

[ "$fail" = 0 ] && echo "layers: ok"
exit "$fail"
