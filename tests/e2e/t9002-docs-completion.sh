#!/bin/sh
# The bash and zsh completions generated at build time (build/completions): every command,
# every verb and every long option of each command's source table completes; option values
# complete as files or folders; zsh parses its file; the generator is deterministic.
. "$(dirname "$0")/lib.sh"

BUILD=$(cd "$(dirname "$ESXIMG")" && pwd)
[ -f "$BUILD/CMakeCache.txt" ] || { echo "skipped: $BUILD is not a CMake build folder"; exit 77; }
[ -f "$BUILD/completions/esximg" ] ||
    { echo "skipped: no completions (ESXIMG_DOCS=OFF?)"; exit 77; }
need_tool bash
SRC=$E2E_DIR/../..
BASHC=$BUILD/completions/esximg
ZSHC=$BUILD/completions/_esximg
commands=$("$ESXIMG" --help | sed -n 's/^  \([a-z][a-z-]*\)  *[a-z].*/\1/p')
[ -n "$commands" ] || fail "esximg --help lists no command"

# complete WORD...: what bash completes for the last word (one per line, sorted)
complete_bash() {
    bash -c '. "$1" || exit 1; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _esximg
             [ ${#COMPREPLY[@]} -eq 0 ] || printf "%s\n" "${COMPREPLY[@]}"' \
        complete "$BASHC" "$@" | sort
}

step "bash registers the function for esximg"
expect_ok bash -c ". '$BASHC' && complete -p esximg"
expect_grep '^complete -o filenames -F _esximg esximg$' out

step "the commands, --help, --version and help COMMAND"
complete_bash esximg "" >got
for c in $commands help --help --version; do
    grep -qx -- "$c" got || fail "'esximg <TAB>' does not offer '$c'"
done
complete_bash esximg v >got
printf 'vib\nvmtar\n' >want
expect_same_file want got
complete_bash esximg help e >got
printf 'edit\nexport\n' >want
expect_same_file want got

step "every long option of every command (from programs/cmd_*.c), and the verbs"
for c in $commands; do
    complete_bash esximg "$c" -- >got
    for opt in $(sed -n 's/^ *{"\([a-z-]*\)", *\(no\|required\|optional\)_argument.*/\1/p' \
        "$SRC/programs/cmd_$(echo "$c" | tr - _).c"); do
        grep -qx -- "--$opt" got || fail "'esximg $c --<TAB>' does not offer --$opt"
    done
    # and nothing that is not in the command's --help
    "$ESXIMG" "$c" --help >help.txt
    while read -r opt; do
        grep -q -- "$opt" help.txt || fail "'esximg $c' completes $opt, not in its --help"
    done <got
done
complete_bash esximg vib --no-l >got
expect_grep '^--no-live-install$' got
complete_bash esximg vib "" >got
for v in info extract verify create from-oem map-only; do
    grep -qx "$v" got || fail "'esximg vib <TAB>' does not offer $v"
done
complete_bash esximg vmtar "" >got
printf 'c\nt\nx\n' >want
expect_same_file want got

step "option values: files, folders, nothing for free text"
mkdir sub.d
: >image.iso
complete_bash esximg edit -o "" >got
expect_grep '^image\.iso$' got
expect_grep '^sub\.d$' got
complete_bash esximg vmtar x f.vgz -C "" >got
expect_grep '^sub\.d$' got
expect_no_grep 'image\.iso' got
complete_bash esximg edit --title "" >got
expect_lines 0 got
complete_bash esximg info "" >got
expect_grep '^image\.iso$' got
complete_bash esximg frobnicate "" >got
expect_lines 0 got

step "zsh: the file parses and completes (its completion builtins replaced by printers)"
if command -v zsh >/dev/null 2>&1; then
    expect_ok zsh -n "$ZSHC"
    cat >fake.zsh <<'Z'
_describe() { local -a list; list=("${(@P)${@[-1]}}"); print -rl -- "${list[@]%%:*}" }
compadd() { while [[ $1 != -- ]]; do shift; done; shift; print -rl -- "$@" }
_files() { print -r -- "_files $*" }
_message() { print -r -- "_message" }
eval "_esximg() { $(<$1) }"
shift
words=("$@"); CURRENT=$#; PREFIX=${words[-1]}
_esximg
Z
    complete_zsh() { zsh -f fake.zsh "$ZSHC" "$@" | sort; }
    complete_zsh esximg "" >got
    for c in $commands help; do
        grep -qx -- "$c" got || fail "zsh: 'esximg <TAB>' does not offer '$c'"
    done
    for c in $commands; do
        complete_zsh esximg "$c" -- >got
        for opt in $(sed -n 's/^ *{"\([a-z-]*\)", *\(no\|required\|optional\)_argument.*/\1/p' \
            "$SRC/programs/cmd_$(echo "$c" | tr - _).c"); do
            grep -qx -- "--$opt" got || fail "zsh: 'esximg $c --<TAB>' does not offer --$opt"
        done
    done
    complete_zsh esximg vmtar "" >got
    printf 'c\nt\nx\n' >want
    expect_same_file want got
    complete_zsh esximg vmtar x f.vgz -C "" >got
    expect_grep '^_files -/$' got
    complete_zsh esximg edit --ks "" >got
    expect_grep '^_files $' got
else
    echo "zsh is not installed: not checked"
fi
expect_grep '^#compdef esximg$' "$ZSHC"
for c in $commands; do
    expect_grep "^    '$c:" "$ZSHC"
    sed -n "/^$c)\$/,/;;\$/p" "$ZSHC" >block
    for opt in $(sed -n 's/^ *{"\([a-z-]*\)", *\(no\|required\|optional\)_argument.*/\1/p' \
        "$SRC/programs/cmd_$(echo "$c" | tr - _).c"); do
        grep -q -- "'--$opt:" block || fail "_esximg does not offer --$opt for $c"
    done
done

step "the generator is deterministic"
need_tool python3
expect_ok python3 "$SRC/docs/man/mkdocs.py" --esximg "$ESXIMG" --src "$SRC/docs/man" \
    --completions again
expect_same_file "$BASHC" again/esximg
expect_same_file "$ZSHC" again/_esximg

done_testing
