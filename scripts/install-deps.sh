#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Install every build and test dependency of sstrace from Debian 12 packages.
# Safe to run repeatedly; skips apt when everything is already present.
set -euo pipefail

pkgs=(
    build-essential g++ cmake ninja-build pkg-config
    clang llvm libclang-rt-14-dev libbpf-dev bpftool libelf-dev zlib1g-dev
    libspdlog-dev libfmt-dev libmnl-dev libgtest-dev libgmock-dev googletest
    libzstd-dev nlohmann-json3-dev libncurses-dev
    # the capture records' CRC-32 (zlib's polynomial, vectorised): ISA-L
    libisal-dev
    # --metrics: the HTTP server; promtool (in prometheus) checks the exposition in the tests
    libmicrohttpd-dev prometheus
    # --top: tmux drives the full screen in the tests
    iproute2 libbpf-tools python3 procps tmux
)

missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps: all ${#pkgs[@]} packages already installed"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: need root to install: ${missing[*]}" >&2
    exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# prometheus is installed for promtool only: its package would start the server from its init
# script; a policy-rc.d that denies every start (Debian's own mechanism) keeps it stopped
policy=/usr/sbin/policy-rc.d
made_policy=
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy"
    chmod 755 "$policy"
    made_policy=1
fi
cleanup() { [ -z "$made_policy" ] || rm -f "$policy"; }
trap cleanup EXIT
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
