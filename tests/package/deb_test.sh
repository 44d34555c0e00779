#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Builds the .deb from the build tree with CPack, installs it with apt-get, checks what it put
# where (binary in /usr/sbin, man page in section 8, completion, dependencies derived from the
# linked libraries), runs it, and removes it. Changes the machine: run alone (RUN_SERIAL).
set -euo pipefail
BUILD=${1:?usage: deb_test.sh BUILD_DIR}
if dpkg-query -W -f='${Status}' sstrace 2>/dev/null | grep -q "install ok installed"; then
    echo "sstrace is installed as a package on this machine: not replacing it (test skipped)"
    exit 77
fi
out=$(mktemp -d)
trap 'apt-get remove -y -qq sstrace >/dev/null 2>&1 || true; rm -rf "$out"' EXIT
(cd "$BUILD" && cpack -G DEB -B "$out" >/dev/null)
deb=$(ls "$out"/sstrace_*.deb)
echo "built $(basename "$deb"): $(stat -c %s "$deb") bytes"
depends=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $depends"
# linked (dpkg-shlibdeps), then opened with dlopen() by the modes that use them
for lib in libc6 libbpf1 libmnl0 libmicrohttpd12 libncurses6 libzstd1 libisal2; do
    grep -q "$lib" <<<"$depends" || { echo "Depends lacks $lib"; exit 1; }
done
# compiled in (spdlog and fmt header-only, libstdc++ static): never loaded, so no dependency
for lib in libspdlog libfmt libstdc++6; do
    if grep -q "$lib" <<<"$depends"; then echo "Depends has $lib"; exit 1; fi
done
contents=$(dpkg-deb -c "$deb")
grep -q './usr/sbin/sstrace$' <<<"$contents" || { echo "no /usr/sbin/sstrace"; exit 1; }
grep -q './usr/share/man/man8/sstrace.8' <<<"$contents" || { echo "no man page"; exit 1; }
grep -q './usr/share/bash-completion/completions/sstrace$' <<<"$contents" || {
    echo "no bash completion"; exit 1; }

DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$deb" >/dev/null
version=$(/usr/sbin/sstrace -V)
echo "installed: $version"
grep -q "sstrace" <<<"$version" || { echo "unexpected -V output: $version"; exit 1; }
# the installed binary works as root: a listing of this namespace
/usr/sbin/sstrace -tln >/dev/null
apt-get remove -y -qq sstrace >/dev/null
[ ! -e /usr/sbin/sstrace ] || { echo "/usr/sbin/sstrace left after apt-get remove"; exit 1; }
echo "package installed, ran and removed"
