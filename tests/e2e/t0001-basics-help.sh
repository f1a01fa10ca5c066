#!/bin/sh
# esximg basics: --help, --version, unknown commands, exit codes; every command answers --help
# on stdout with exit 0 and names all its long options.
. "$(dirname "$0")/lib.sh"

step "top-level help lists the commands and the exit codes"
expect_ok "$ESXIMG" --help
commands=$(sed -n 's/^  \([a-z][a-z-]*\)  *[a-z].*/\1/p' out)
for c in depot hcl info ks ls upgrade-check vib vmtar; do
    echo "$commands" | grep -qx "$c" || fail "esximg --help does not list '$c'"
done
# every command file in programs/ is in the table
for f in "$E2E_DIR"/../../programs/cmd_*.c; do
    c=$(basename "$f" .c); c=${c#cmd_}; c=$(echo "$c" | tr _ -)
    echo "$commands" | grep -qx "$c" || fail "programs/cmd_$c.c is not in the command table"
done
expect_grep "3  a check found problems" out

step "no arguments is a usage error on stderr"
expect_exit 2 "$ESXIMG"
expect_grep "usage: esximg" err

step "an unknown command is a usage error"
expect_exit 2 "$ESXIMG" frobnicate
expect_grep "'frobnicate' is not an esximg command" err

step "version"
expect_ok "$ESXIMG" --version
expect_grep '^esximg [0-9]+\.[0-9]+\.[0-9]+$' out

step "every command answers --help and 'esximg help CMD' alike"
for c in $commands; do
    expect_ok "$ESXIMG" "$c" --help
    expect_grep "^usage: esximg $c" out
    cp out help1
    expect_ok "$ESXIMG" help "$c"
    expect_same_file help1 out
done

step "every long option in a command's source appears in its --help or a verb's"
src=$E2E_DIR/../../programs
for c in $commands; do
    "$ESXIMG" "$c" --help >help.txt
    # a command with verbs (esximg vib create ...) has a --help per verb
    for verb in $(sed -n "s/^\(usage:\)\{0,1\} *esximg $c \([a-z][a-z-]*\) .*/\2/p" help.txt); do
        "$ESXIMG" "$c" "$verb" --help >>help.txt 2>&1 || true
    done
    files="$src/cmd_$(echo "$c" | tr - _).c"
    [ "$c" = vib ] && files="$files $src/vibauthor_cli.c"   # vib's authoring verbs
    # shellcheck disable=SC2086
    for opt in $(sed -n 's/^ *{ *"\([a-z-]*\)", *\(no\|required\|optional\)_argument.*/\1/p' $files); do
        grep -q -- "--$opt" help.txt || fail "esximg $c --help does not name --$opt"
    done
done

done_testing
