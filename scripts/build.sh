#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Install dependencies (Debian 12 packages), configure and build sstrace into build/.
# Extra arguments are passed to the CMake configure step.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
./scripts/install-deps.sh
werror=OFF
[ "${CI:-}" = "true" ] && werror=ON
cmake -S . -B build -G Ninja -DSSTRACE_WERROR="$werror" "$@"
cmake --build build -j "$(nproc)"
