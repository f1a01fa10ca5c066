#!/bin/sh
# The man pages generated at build time (build/man, by docs/man/mkdocs.py): esximg(1) names
# every command, each command has its page with its synopsis, every long option and the
# hand-written examples; groff and man render them without a warning; the generator is
# deterministic and the check below does catch a missing command.
. "$(dirname "$0")/lib.sh"

BUILD=$(cd "$(dirname "$ESXIMG")" && pwd)
[ -f "$BUILD/CMakeCache.txt" ] || { echo "skipped: $BUILD is not a CMake build folder"; exit 77; }
[ -f "$BUILD/man/esximg.1" ] || { echo "skipped: no man pages (ESXIMG_DOCS=OFF?)"; exit 77; }
need_tool groff
SRC=$E2E_DIR/../..
commands=$("$ESXIMG" --help | sed -n 's/^  \([a-z][a-z-]*\)  *[a-z].*/\1/p')
[ -n "$commands" ] || fail "esximg --help lists no command"

# render PAGE: the page as text, 80 columns, without formatting
render() { LC_ALL=C.UTF-8 groff -man -Tutf8 -rLL=80n -P-cbou "$1" 2>/dev/null; }

# check_man DIR: every command in esximg(1) (COMMANDS and SEE ALSO) and in its own page
check_man() {
    [ -f "$1/esximg.1" ] || { echo "no esximg.1"; return 1; }
    render "$1/esximg.1" >main.txt
    for c in $commands; do
        sed -n '/^COMMANDS/,/^[A-Z]/p' main.txt | grep -Eq "^ +$c( |\$)" ||
            { echo "esximg(1) COMMANDS does not name '$c'"; return 1; }
        sed -n '/^SEE ALSO/,$p' main.txt | grep -q "esximg-$c(1)" ||
            { echo "esximg(1) SEE ALSO does not name esximg-$c(1)"; return 1; }
        [ -f "$1/esximg-$c.1" ] || { echo "no esximg-$c.1"; return 1; }
        render "$1/esximg-$c.1" >page.txt
        grep -q "^ *esximg-$c - " page.txt || { echo "esximg-$c.1: no NAME line"; return 1; }
        grep -Eq "^ +esximg $c( |\$)" page.txt || { echo "esximg-$c.1: no synopsis"; return 1; }
        for s in SYNOPSIS DESCRIPTION OPTIONS 'EXIT STATUS' EXAMPLES 'SEE ALSO'; do
            grep -q "^$s" page.txt || { echo "esximg-$c.1: no $s section"; return 1; }
        done
        # every long option of the command's source table
        for opt in $(sed -n 's/^ *{"\([a-z-]*\)", *\(no\|required\|optional\)_argument.*/\1/p' \
            "$SRC/programs/cmd_$(echo "$c" | tr - _).c"); do
            grep -q -- "--$opt\\b" page.txt ||
                { echo "esximg-$c.1 does not name --$opt"; return 1; }
        done
    done
}

step "'esximg help' lists the commands as --help does"
expect_ok "$ESXIMG" help
"$ESXIMG" --help >help.txt
expect_same_file help.txt out

step "every command has its page, and esximg(1) names them all"
for f in "$SRC"/programs/cmd_*.c; do
    c=$(basename "$f" .c); c=${c#cmd_}; c=$(echo "$c" | tr _ -)
    echo "$commands" | grep -qx "$c" || fail "programs/cmd_$c.c is not in the command table"
    [ -f "$SRC/docs/man/esximg-$c.txt" ] || fail "no docs/man/esximg-$c.txt for '$c'"
done
check_man "$BUILD/man" >why || fail "$(cat why)"

step "the check fails when a page or a command's entry is missing"
cp -r "$BUILD/man" broken
c=$(echo "$commands" | tail -1)
rm "broken/esximg-$c.1"
! check_man broken >why || fail "a missing esximg-$c.1 passed the check"
expect_grep "no esximg-$c\\.1" why
cp "$BUILD/man/esximg-$c.1" broken/
sed -i "/^\\\\fB$c\\\\fR\$/,+1d" broken/esximg.1
! check_man broken >why || fail "esximg.1 without '$c' passed the check"
expect_grep "COMMANDS does not name '$c'" why

step "groff -man -ww and man --warnings say nothing"
for f in "$BUILD"/man/*.1; do
    LC_ALL=C.UTF-8 groff -man -ww -z -Tutf8 "$f" 2>warn || fail "groff failed on $f"
    [ ! -s warn ] || { cat warn >&2; fail "groff warns about $(basename "$f")"; }
    if command -v man >/dev/null 2>&1; then
        LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$f" >/dev/null 2>warn ||
            fail "man -l failed on $f"
        [ ! -s warn ] || { cat warn >&2; fail "man --warnings warns about $(basename "$f")"; }
    fi
done

step "the text: synopsis, an option, the examples, exit status"
render "$BUILD/man/esximg-edit.1" >edit.txt
expect_grep '^ +esximg edit IN\.iso -o OUT\.iso \[options\]' edit.txt
expect_grep '^ +--ks FILE$' edit.txt
expect_grep '^ +\$ esximg edit .*\\$' edit.txt
expect_grep '^ +--add ESXi80U3-VMKUSB-NIC-FLING' edit.txt
expect_grep '^ +SOURCE_DATE_EPOCH' edit.txt
render "$BUILD/man/esximg.1" >main.txt
expect_grep '^ +3 +a check found problems' main.txt
expect_grep '^ +help \[COMMAND\]' main.txt

step "the generator is deterministic; SOURCE_DATE_EPOCH dates the pages"
need_tool python3
expect_ok python3 "$SRC/docs/man/mkdocs.py" --esximg "$ESXIMG" --src "$SRC/docs/man" --man again
for f in "$BUILD"/man/*.1; do
    grep -v '^\.TH' "$f" >a; grep -v '^\.TH' "again/$(basename "$f")" >b
    expect_same_file a b
done
SOURCE_DATE_EPOCH=86400 expect_ok python3 "$SRC/docs/man/mkdocs.py" --esximg "$ESXIMG" \
    --src "$SRC/docs/man" --man dated
expect_grep '^\.TH "ESXIMG-EDIT" "1" "1970-01-02" "esximg [0-9.]+"' dated/esximg-edit.1

step "a command without its docs/man text still gets a page, with a warning"
mkdir hand
cp "$SRC"/docs/man/*.txt hand/
rm "hand/esximg-$c.txt"
expect_ok python3 "$SRC/docs/man/mkdocs.py" --esximg "$ESXIMG" --src hand --man partial
expect_grep "warning: no hand/esximg-$c\\.txt" err
! check_man partial >why || fail "a page without EXAMPLES passed the check"
expect_grep "esximg-$c\\.1: no (EXIT STATUS|EXAMPLES) section" why

done_testing
