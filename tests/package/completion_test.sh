#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The bash completion offers what the binary has: every long option --help lists, the state
# names after `state`, and the `ip netns` names after -N (one made here).
set -euo pipefail
SSTRACE=${1:?usage: completion_test.sh SSTRACE COMPLETION_FILE}
COMPLETION=${2:?}
fail=0

complete_words() {  # complete_words WORD...: the candidates for the last word
    bash -c 'source "$0"; COMP_WORDS=("$@"); COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 )); _sstrace;
             printf "%s\n" "${COMPREPLY[@]}"' "$COMPLETION" sstrace "$@"
}

offered=$(complete_words --)
for opt in $("$SSTRACE" --help | grep -oE -- '--[a-z0-9-]+' | sort -u); do
    if ! grep -qx -- "$opt" <<<"$offered"; then
        echo "completion does not offer $opt (listed by --help)"
        fail=1
    fi
done
# and nothing --help does not list
help_text=$("$SSTRACE" --help)
for opt in $offered; do
    if ! grep -q -- "$opt\b" <<<"$help_text"; then
        echo "completion offers $opt, which --help does not list"
        fail=1
    fi
done

grep -qx time-wait <<<"$(complete_words -E state time)" || { echo "no time-wait after state"; fail=1; }

ns="sstrace-comp-$$"
ip netns add "$ns"
trap 'ip netns del "$ns" 2>/dev/null || true' EXIT
grep -qx "$ns" <<<"$(complete_words -N sstrace-comp-)" || { echo "no $ns after -N"; fail=1; }

[ "$fail" -eq 0 ] && echo "completion: every option of --help offered, states and netns names too"
exit "$fail"
