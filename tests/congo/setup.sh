#!/bin/sh
#
# Prepare the CongoDB test server used by korio's MongoDB tests.
#
# 1. npm ci in tests/congo (exact versions from package-lock.json).
# 2. Unpack the @push.rocks/smartmongo 2.2.0 tarball into node_modules:
#    only its CongoDB part is used, and its full dependency tree does not
#    resolve on the registry, so it is not a dependency in package.json.
#    The tarball comes from `npm pack` (npm's cache when warm) and is
#    checked against the registry's sha512 integrity pinned below.
#
# Idempotent: when the stamp in node_modules matches package-lock.json and
# the pinned tarball, it does nothing. Start the server afterwards with
#   node tests/congo/launcher.mjs 0      (prints READY mongodb://...)
#
set -eu

SMARTMONGO=@push.rocks/smartmongo@2.2.0
INTEGRITY='sha512-ovVCNoJ3D0aBuKtoKaQWWQKvBngaGJq9fAPQigzji1EHsS1XyGpXWCpe5nq/ptGvBROOcpqZcOFEGAcrnb+OjA=='

DIR=$(cd "$(dirname "$0")" && pwd)
cd "$DIR"

DEST=node_modules/@push.rocks/smartmongo
STAMP=node_modules/.korio-congo-stamp
WANT="$(sha256sum package-lock.json | cut -d' ' -f1) $INTEGRITY"

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ] &&
    [ -f "$DEST/dist_ts/congodb/index.js" ]; then
	echo "congo: up to date"
	exit 0
fi

npm ci --prefer-offline --ignore-scripts --no-audit --no-fund --loglevel=error

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
TGZ=$(npm pack --silent --prefer-offline --pack-destination "$TMP" \
    "$SMARTMONGO")
GOT="sha512-$(openssl dgst -sha512 -binary "$TMP/$TGZ" | base64 -w0)"
if [ "$GOT" != "$INTEGRITY" ]; then
	echo "congo: $SMARTMONGO integrity mismatch: $GOT" >&2
	exit 1
fi

rm -rf "$DEST"
mkdir -p "$DEST"
tar xzf "$TMP/$TGZ" -C "$DEST" --strip-components=1
echo "$WANT" > "$STAMP"
echo "congo: ready ($SMARTMONGO unpacked into $DEST)"
