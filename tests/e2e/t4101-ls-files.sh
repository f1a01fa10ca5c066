#!/bin/sh
# t4101: `esximg ls --files` lists every file of the ISO with its size and first block, as
# isoinfo -l and xorriso (independent readers) see them, and every module the generator wrote.
. "$(dirname "$0")/lib.sh"

need_image_tools
export SOURCE_DATE_EPOCH=1600000000
need_tool isoinfo

# check_files LS_JSON ISOINFO_L XORRISO_LSDL MANIFEST
check_files() {
    python3 - "$@" <<'PY'
import json, re, sys
j = json.load(open(sys.argv[1]))
m = json.load(open(sys.argv[4]))
if list(j) != ['file', 'files']:
    sys.exit('top keys %r' % list(j))
ours = {}
for f in j['files']:
    if list(f) != ['path', 'type', 'size', 'lba']:
        sys.exit('keys %r' % list(f))
    if f['type'] != 'dir':
        ours[f['path']] = (f['size'], f['lba'])
    elif (f['size'], f['lba']) != (0, 0):
        sys.exit('%s: a directory with size or lba' % f['path'])
# isoinfo -l: "Directory listing of /EFI/BOOT/" then "... SIZE DATE [ LBA 00]  NAME;1"
theirs = {}
cur = None
for line in open(sys.argv[2]):
    d = re.match(r'Directory listing of (/.*)$', line)
    if d:
        cur = d.group(1)
        continue
    f = re.match(r'^-\S+\s+\d+\s+\d+\s+\d+\s+(\d+) .*\[\s*(\d+) 00\]\s+(\S+);1\s*$', line)
    if f:
        # a name without an extension is recorded "NAME.": the dot is a separator, not part
        # of the name (esximg, like Linux, drops it)
        theirs[cur + f.group(3).rstrip('.')] = (int(f.group(1)), int(f.group(2)))
if ours != theirs:
    sys.exit('esximg and isoinfo differ:\n only esximg: %r\n only isoinfo: %r'
             % (sorted(set(ours.items()) - set(theirs.items())),
                sorted(set(theirs.items()) - set(ours.items()))))
# xorriso -find / -exec lsdl: "-r-xr-xr-x 1 0 0 SIZE Mon DD YYYY '/PATH'"
xs = {}
for line in open(sys.argv[3]):
    f = re.match(r"^[-e]\S+\s+\d+\s+\d+\s+\d+\s+(\d+) .* '(/[^']*)'$", line)
    if f:
        xs[f.group(2)] = int(f.group(1))
if xs != {p: s for p, (s, _) in ours.items()}:
    sys.exit('esximg and xorriso sizes differ')
for mod, size in m['module_sizes'].items():
    if ours.get(mod, (None,))[0] != size:
        sys.exit('module %s: %r, manifest says %d' % (mod, ours.get(mod), size))
for mod in m['modules'] + [m['kernel']]:
    if mod.upper() not in ours:
        sys.exit('BOOT.CFG module %s not listed' % mod)
types = {f['path']: f['type'] for f in j['files']}
if types.get('/BOOT.CAT') != 'bootcat' or types.get('/EFI') != 'dir':
    sys.exit('types: BOOT.CAT %r, EFI %r' % (types.get('/BOOT.CAT'), types.get('/EFI')))
print('files ok: %d files' % len(ours))
PY
}

for v in 6.7 7.0 8.0; do
    step "build $v"
    expect_ok python3 "$GEN" --version "$v" -o "esx$v.iso" --manifest "m$v.json"
    isoinfo -l -i "esx$v.iso" >"isoinfo$v.txt" || fail "isoinfo -l failed"
    xorriso -indev "esx$v.iso" -find / -exec lsdl >"xorriso$v.txt" 2>/dev/null ||
        fail "xorriso -find failed"

    step "$v: ls --files --json equals isoinfo -l and xorriso, and holds every module"
    expect_ok "$ESXIMG" ls --files --json "esx$v.iso"
    mv out "files$v.json"
    expect_ok check_files "files$v.json" "isoinfo$v.txt" "xorriso$v.txt" "m$v.json"

    step "$v: ls --files (text): one line per file, size, block, path"
    expect_ok "$ESXIMG" ls --files "esx$v.iso"
    mv out "files$v.txt"
    expect_grep '^ +SIZE +LBA +PATH$' "files$v.txt"
    python3 -c '
import json, sys
for f in json.load(open(sys.argv[1]))["files"]:
    print("%12d %10d  %s%s" % (f["size"], f["lba"], f["path"], "/" if f["type"] == "dir" else ""))
' "files$v.json" >want.txt
    tail -n +2 "files$v.txt" >got.txt
    expect_same_file got.txt want.txt
    expect_grep '^ +[0-9]+ +[0-9]+  /IMGDB\.TGZ$' "files$v.txt"
    expect_grep '^ +0 +0  /EFI/BOOT/$' "files$v.txt"
done

step "a padded image lists PAD.V00 with its size, without reading it"
expect_ok python3 "$GEN" --version 8.0 --pad-mib 4 -o pad.iso --manifest mpad.json
isoinfo -l -i pad.iso >isoinfopad.txt || fail "isoinfo -l failed"
xorriso -indev pad.iso -find / -exec lsdl >xorrisopad.txt 2>/dev/null || fail "xorriso failed"
expect_ok "$ESXIMG" ls --files --json pad.iso
mv out filespad.json
expect_ok check_files filespad.json isoinfopad.txt xorrisopad.txt mpad.json
expect_grep '"path": "/PAD.V00"' filespad.json

step "ls --files lists any ISO, ESXi or not"
mkdir -p plain/DOCS
echo hello >plain/README.TXT
echo x >plain/DOCS/A.TXT
xorriso -as mkisofs -quiet -o plain.iso -V PLAIN plain 2>/dev/null || fail "xorriso failed"
expect_ok "$ESXIMG" ls --files plain.iso
expect_grep '^ +6 +[0-9]+  /README\.TXT$' out
expect_grep '^ +2 +[0-9]+  /DOCS/A\.TXT$' out

done_testing
