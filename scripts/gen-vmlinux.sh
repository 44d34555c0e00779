#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Regenerate vmlinux/<arch>/vmlinux_<ver>.h from a BTF file and record its provenance.
# Usage: scripts/gen-vmlinux.sh [BTF-FILE] [KERNEL-VERSION]
#   BTF-FILE defaults to /sys/kernel/btf/vmlinux, KERNEL-VERSION to `uname -r` (only
#   meaningful when the BTF file is the running kernel's).
# The build never runs this: it uses the committed header, so builds do not depend on the
# build host's kernel.
set -euo pipefail
btf=${1:-/sys/kernel/btf/vmlinux}
ver=${2:-$(uname -r)}
case "$(uname -m)" in
    x86_64) arch=x86 ;;
    aarch64) arch=arm64 ;;
    *) echo "gen-vmlinux: unsupported architecture $(uname -m)" >&2; exit 1 ;;
esac
root=$(cd "$(dirname "$0")/.." && pwd)
dir="$root/vmlinux/$arch"
mkdir -p "$dir"
short=${ver%%-*}
out="$dir/vmlinux_${short}.h"
bpftool btf dump file "$btf" format c > "$out.tmp"
mv "$out.tmp" "$out"
ln -sf "vmlinux_${short}.h" "$dir/vmlinux.h"
sum=$(sha256sum "$out" | cut -d' ' -f1)
btfsum=$(sha256sum "$btf" | cut -d' ' -f1)
tool=$(bpftool version | head -1)
cat > "$root/vmlinux/README.md" <<MD
# vmlinux headers

BPF programs are compiled against a committed \`vmlinux.h\` (CO-RE relocations adapt them to
the running kernel at load time), so the build never reads the build host's kernel BTF.

| arch | header | kernel | generated with | BTF sha256 | header sha256 |
|---|---|---|---|---|---|
| $arch | \`$arch/vmlinux_${short}.h\` (\`$arch/vmlinux.h\` links to it) | $ver | $tool | \`$btfsum\` | \`$sum\` |

Regenerate with \`scripts/gen-vmlinux.sh [BTF-FILE] [KERNEL-VERSION]\` (default: the running
kernel's \`/sys/kernel/btf/vmlinux\`). Fields that differ between kernels are handled with
\`bpf_core_field_exists\` and flavoured structs in \`bpf/compat.bpf.h\`, never with version checks.
MD
echo "gen-vmlinux: wrote $out ($(wc -l < "$out") lines)"
