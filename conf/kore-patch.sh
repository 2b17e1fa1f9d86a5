#!/bin/sh
# kore-patch.sh SOURCE TREE PATCH...: the Kore that korio builds. Copies
# the Kore sources Debian ships (SOURCE, /usr/share/kore; never modified)
# to TREE and applies each PATCH to the copy in the order given, strictly
# (no fuzz, no reversed patches). The new tree replaces the old one only
# when every patch applied, and TREE/.patched names the patches in it.
set -eu

[ $# -ge 2 ] || { echo "usage: $0 source tree [patch ...]" >&2; exit 2; }
src=$1
tree=$2
shift 2

tmp=$tree.tmp.$$
trap 'rm -rf "$tmp"' EXIT
rm -rf "$tmp"
mkdir -p "$(dirname "$tree")"
cp -R "$src" "$tmp"
chmod -R u+w "$tmp"

for p in "$@"; do
	if ! patch -s -p1 -F0 -N --no-backup-if-mismatch -d "$tmp" \
	    < "$p"; then
		echo "kore-patch: $p does not apply to $src" >&2
		exit 1
	fi
done

for p in "$@"; do
	echo "$p"
done > "$tmp/.patched"

rm -rf "$tree"
mv "$tmp" "$tree"
trap - EXIT
echo "kore-patch: $tree: $src with $# patch(es)"
