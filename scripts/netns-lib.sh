# SPDX-License-Identifier: GPL-2.0-only
# Sourced by the benchmark scripts.

# Deletes network namespace $1 if it exists, after killing every process left in it.
netns_delete() {
    local ns=$1 p
    ip netns list 2>/dev/null | grep -qw "^$ns" || return 0
    for p in $(ip netns pids "$ns" 2>/dev/null); do
        kill -KILL "$p" 2>/dev/null || true
    done
    ip netns del "$ns" 2>/dev/null || true
}
