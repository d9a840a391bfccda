#!/bin/sh
# The man page and the bash completion list every command, subcommand and option that the
# commands themselves answer --help with; every command and subcommand answers --help (exit 0),
# and `hivewire help CMD [SUB]` prints the same text.
#
# usage: docs_test.sh HIVEWIRE MAN_PAGE BASH_COMPLETION
set -u
hw=$1 man=$2 comp=$3
failed=0
fail() {
    echo "docs_test: $*"
    failed=1
}

[ -s "$man" ] || { echo "docs_test: no man page at $man"; exit 1; }
[ -s "$comp" ] || { echo "docs_test: no bash completion at $comp"; exit 1; }
command -v bash >/dev/null || { echo "docs_test: bash is needed"; exit 1; }

# The options of a --help text: the labels at the start of its option lines.
options_of() {
    grep -oE '^  (-[a-zA-Z], )?--[a-z0-9-]+' | grep -oE -- '--[a-z0-9-]+'
}

# What the completion offers for the words "$@" (the last one being completed).
complete_words() {
    bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _hivewire;
             printf "%s\n" "${COMPREPLY[@]}"' sh "$comp" "$@"
}

# Checks one command or subcommand (its words: "run", "market stats").
check_key() {
    key=$1
    # shellcheck disable=SC2086
    help=$($hw $key --help) || fail "'hivewire $key --help' exits $?"
    # shellcheck disable=SC2086
    again=$($hw help $key) || fail "'hivewire help $key' exits $?"
    [ "$help" = "$again" ] || fail "'hivewire help $key' differs from 'hivewire $key --help'"
    section=$(awk -v t=".SS \"hivewire $key\"" '$0 == t {f = 1; next} /^\.SS / {f = 0} f' "$man")
    [ -n "$section" ] || fail "the man page has no section 'hivewire $key'"
    # shellcheck disable=SC2086
    offered=$(complete_words hivewire $key --)
    for opt in $(printf '%s\n' "$help" | options_of); do
        roff=$(printf '%s' "$opt" | sed 's/-/\\-/g')
        printf '%s\n' "$section" | grep -qF -- "$roff" ||
            fail "the man page's 'hivewire $key' lacks $opt"
        printf '%s\n' "$offered" | grep -qx -- "$opt" || fail "completion of 'hivewire $key' lacks $opt"
    done
    checked=$((checked + 1))
}

checked=0
commands=$($hw help | awk '/^commands:/ {f = 1; next} f && /^  [a-z]/ {print $1}')
[ -n "$commands" ] || { echo "docs_test: 'hivewire help' lists no command"; exit 1; }
top=$(complete_words hivewire "")
for cmd in $commands; do
    printf '%s\n' "$top" | grep -qx -- "$cmd" || fail "completion lacks the command $cmd"
    case $cmd in help | version) continue ;; esac
    out=$($hw "$cmd" --help) || fail "'hivewire $cmd --help' exits $?"
    if printf '%s\n' "$out" | grep -q '^commands:'; then
        subs=$(printf '%s\n' "$out" | awk '/^commands:/ {f = 1; next} f && /^  [a-z]/ {print $1}')
        subs_offered=$(complete_words hivewire "$cmd" "")
        grep -qF ".SS \"hivewire $cmd\"" "$man" || fail "the man page has no section 'hivewire $cmd'"
        for sub in $subs; do
            printf '%s\n' "$subs_offered" | grep -qx -- "$sub" ||
                fail "completion of 'hivewire $cmd' lacks $sub"
            check_key "$cmd $sub"
        done
    else
        check_key "$cmd"
    fi
done
[ "$checked" -ge 20 ] || fail "only $checked commands and subcommands checked"
[ "$failed" -eq 0 ] && echo "docs_test: $checked commands and subcommands, every option in the man page and the completion"
exit $failed
