#!/bin/sh
# Builds the Debian package of the kit: earlybird-kit_<version>_amd64.deb
# with every program, man pages generated from --help (help2man), the docs
# (PROTOCOL.md, the guides, openapi.yaml, asyncapi.yaml, the report schemas)
# and the CI recipes of examples/ci. The version is EB_KIT_VERSION of
# net/eb_target.h; Depends comes from dpkg-shlibdeps over the programs.
# Usage: sh tools/deb.sh build/<config> OUTDIR   (`make deb` runs it)
# Prints the path of the .deb on its last line.
set -eu
B=${1:?usage: deb.sh build/<config> OUTDIR}
OUT=${2:?usage: deb.sh build/<config> OUTDIR}
PROGS="ebmock ebconform ebfuzz ebload ebclient"
PKG=earlybird-kit

die() { echo "deb: $*" >&2; exit 2; }

VERSION=$(sed -n 's/^#define EB_KIT_VERSION "\([^"]*\)".*/\1/p' net/eb_target.h)
[ -n "$VERSION" ] || die "no EB_KIT_VERSION in net/eb_target.h"
ARCH=$(dpkg --print-architecture)
for p in $PROGS; do
	[ -x "$B/bin/$p" ] || die "$B/bin/$p is missing (make first)"
done
command -v help2man >/dev/null 2>&1 || die "help2man is missing (make deps)"
command -v dpkg-shlibdeps >/dev/null 2>&1 || die "dpkg-shlibdeps is missing (make deps: dpkg-dev)"

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
S="$OUT/${PKG}_${VERSION}_$ARCH"
rm -rf "$S"
mkdir -p "$S/DEBIAN" "$S/usr/bin" "$S/usr/share/man/man1" \
	"$S/usr/share/doc/$PKG/schemas" "$S/usr/share/doc/$PKG/examples/ci"

for p in $PROGS; do
	install -m 0755 "$B/bin/$p" "$S/usr/bin/$p"
	# Sanitized builds keep their symbols (their reports need them).
	case "$B" in *sanitize*) ;; *) strip --strip-unneeded "$S/usr/bin/$p" ;; esac
	case "$p" in
	ebmock) desc="reference server of the Early Bird sync protocol" ;;
	ebconform) desc="conformance suites for Early Bird servers and client SDKs" ;;
	ebfuzz) desc="network fuzzer for Early Bird servers" ;;
	ebload) desc="WebSocket load generator for Early Bird servers" ;;
	*) desc="reference client SDK of the Early Bird sync protocol" ;;
	esac
	help2man --no-info --no-discard-stderr --section 1 --source "Early Bird kit $VERSION" \
		--name "$desc" \
		--output "$S/usr/share/man/man1/$p.1" "$B/bin/$p" ||
		die "help2man $p failed"
	gzip -9n "$S/usr/share/man/man1/$p.1"
done

D="$S/usr/share/doc/$PKG"
cp README.md docs/*.md docs/openapi.yaml docs/asyncapi.yaml "$D/"
cp docs/schemas/*.json "$D/schemas/"
cp -r examples/ci/. "$D/examples/ci/"
find "$D" -type f -exec chmod 0644 {} +
cat > "$D/copyright" <<EOF
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: $PKG
Comment: The Early Bird sync conformance kit, built from its source tree.
EOF

# Depends: the shared libraries the programs link (dpkg-shlibdeps reads
# the package database; it wants a debian/control beside it).
W="$OUT/shlibdeps"
rm -rf "$W"
mkdir -p "$W/debian"
printf 'Source: %s\n\nPackage: %s\nArchitecture: any\n' "$PKG" "$PKG" > "$W/debian/control"
set --
for p in $PROGS; do set -- "$@" "$S/usr/bin/$p"; done
deps=$(cd "$W" && dpkg-shlibdeps -O --ignore-missing-info "$@" 2>/dev/null |
	sed -n 's/^shlibs:Depends=//p')
rm -rf "$W"
[ -n "$deps" ] || die "dpkg-shlibdeps found no dependencies"

size=$(du -sk "$S/usr" | cut -f1)
cat > "$S/DEBIAN/control" <<EOF
Package: $PKG
Version: $VERSION
Architecture: $ARCH
Maintainer: Early Bird kit maintainers <earlybird@localhost>
Installed-Size: $size
Depends: $deps
Section: devel
Priority: optional
Description: conformance kit for the Early Bird sync protocol
 The reference test harness of the Early Bird sync protocol (HTTP sync and
 WebSocket notifications): ebconform (server and client conformance suites
 with rule ids, JUnit, JSON and HTML reports), ebmock (the reference server
 with injectable faults and defects), ebfuzz (network fuzzer), ebload
 (WebSocket load generator) and ebclient (the reference client SDK's CLI).
 The protocol's OpenAPI 3.1 and AsyncAPI 3.0 documents, the JSON Schemas of
 the reports and CI recipes for GitHub Actions and GitLab are in
 /usr/share/doc/earlybird-kit.
EOF
DEB="$OUT/${PKG}_${VERSION}_$ARCH.deb"
# A sanitized build's package is a test artifact (unstripped, ten times the
# size): the fastest xz level, 11 s less CPU on the test machine.
level=6
case "$B" in *sanitize*) level=1 ;; esac
dpkg-deb --root-owner-group -Zxz -z"$level" --build "$S" "$DEB" >/dev/null
rm -rf "$S"
echo "$DEB"
