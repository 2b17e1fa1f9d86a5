#!/bin/sh
# mkdeb.sh BINARY OUTDIR: the Debian package of korio (make deb), written
# to OUTDIR/korio_<version>_<arch>.deb, its name printed last.
#
#   /usr/bin/korio                      BINARY, stripped
#   /lib/systemd/system/korio.service   pkg/korio.service
#   /etc/default/korio                  pkg/korio.env (a conffile, 0600)
#   /usr/share/doc/korio/README.md
#   /var/lib/korio                      not in the package: systemd makes
#                                       it (StateDirectory=korio)
#
# The version is KORIO_VERSION (src/app/app.h); Depends comes from
# dpkg-shlibdeps, from the libraries the binary links. The unit must pass
# `systemd-analyze verify` without a word (the check runs on a copy whose
# ExecStart names the staged binary: verify wants the program to exist).
# Plain dpkg-deb; no debhelper.
set -eu

[ $# -eq 2 ] || { echo "usage: $0 binary outdir" >&2; exit 2; }
bin=$1
out=$2
cd "$(dirname "$0")/.."

version=$(sed -n 's/^#define KORIO_VERSION "\(.*\)"$/\1/p' src/app/app.h)
[ -n "$version" ] || { echo "mkdeb: no KORIO_VERSION in app.h" >&2; exit 1; }
arch=$(dpkg --print-architecture)
maintainer=${DEB_MAINTAINER:-korio maintainers <korio@localhost>}

work=$out/work
pkg=$work/debian/korio
rm -rf "$work"
mkdir -p "$work/debian" "$out"

install -D -m 0755 "$bin" "$pkg/usr/bin/korio"
strip --strip-unneeded "$pkg/usr/bin/korio"
install -D -m 0644 pkg/korio.service "$pkg/lib/systemd/system/korio.service"
install -D -m 0600 pkg/korio.env "$pkg/etc/default/korio"
install -D -m 0644 README.md "$pkg/usr/share/doc/korio/README.md"
install -d -m 0755 "$pkg/DEBIAN"
install -m 0755 pkg/postinst pkg/prerm pkg/postrm "$pkg/DEBIAN/"
echo /etc/default/korio > "$pkg/DEBIAN/conffiles"

# dpkg-shlibdeps reads debian/control and wants the binary where a
# package build would put it (debian/<package>/).
printf 'Source: korio\n\nPackage: korio\nArchitecture: any\n' \
    > "$work/debian/control"
depends=$(cd "$work" && dpkg-shlibdeps -O debian/korio/usr/bin/korio |
    sed -n 's/^shlibs:Depends=//p')
[ -n "$depends" ] || { echo "mkdeb: dpkg-shlibdeps found nothing" >&2; exit 1; }

size=$(du -sk --exclude=DEBIAN "$pkg" | cut -f1)
cat > "$pkg/DEBIAN/control" <<CONTROL
Package: korio
Version: $version
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $size
Depends: $depends
Section: web
Priority: optional
Description: Terreno-style REST API and Socket.IO server in one binary
 korio serves a Terreno-style REST API (auth, todos, projects) and a
 Socket.IO-compatible realtime endpoint from one Kore application, with
 an embedded SQLite store or MongoDB.
 .
 The systemd unit korio.service runs it as a dynamic user, settings in
 /etc/default/korio, data in /var/lib/korio. It is not started on
 install: systemctl enable --now korio.
CONTROL

if command -v systemd-analyze >/dev/null 2>&1; then
	mkdir -p "$work/verify"
	staged=$(cd "$pkg/usr/bin" && pwd)/korio
	sed "s|^ExecStart=/usr/bin/korio|ExecStart=$staged|" \
	    pkg/korio.service > "$work/verify/korio.service"
	said=$(systemd-analyze verify "$work/verify/korio.service" 2>&1) ||
	    { echo "$said" >&2; exit 1; }
	if [ -n "$said" ]; then
		echo "mkdeb: systemd-analyze verify korio.service:" >&2
		echo "$said" >&2
		exit 1
	fi
	echo "mkdeb: systemd-analyze verify korio.service: ok"
else
	echo "mkdeb: no systemd-analyze: the unit is not verified" >&2
fi

deb=$out/korio_${version}_$arch.deb
dpkg-deb --root-owner-group -Zxz --build "$pkg" "$deb" >/dev/null
echo "mkdeb: $deb"
