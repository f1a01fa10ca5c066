#!/usr/bin/env python3
"""mkdocs.py: the man pages and the shell completions of esximg, from one source.

    mkdocs.py --esximg BUILD/esximg --src docs/man --man OUTDIR --completions OUTDIR

The commands, their summaries, synopses, descriptions and options come from the program
itself (`esximg --help` and `esximg CMD --help`, i.e. the usage strings of programs/cmd_*.c);
docs/man/esximg.txt and docs/man/esximg-CMD.txt add what --help does not say (description,
exit status, environment, files, examples, see also). Writes OUTDIR/esximg.1 and
OUTDIR/esximg-CMD.1 for every command, and the bash (esximg) and zsh (_esximg) completions.

The text format of the help and of the hand-written files is the same:
  - a line of capitals alone (DESCRIPTION, EXAMPLES, ...) starts a section (hand-written only);
  - a line at the left margin ending with ':' followed by an indented line is a heading;
  - an indented line `  TAG  description` starts a list entry, a line indented further
    continues it;
  - a line starting with '$ ' is a command line, shown verbatim with what follows it indented;
  - other lines are running text, a blank line ends a paragraph;
  - `code` is set in bold, as are option names and man page references like esximg-edit(1).
The output depends only on the inputs (the date is SOURCE_DATE_EPOCH's, none without it).
"""
import argparse
import os
import re
import subprocess
import sys
import time

SECTIONS = ["DESCRIPTION", "OPTIONS", "NOTES", "EXIT STATUS", "ENVIRONMENT", "FILES",
            "EXAMPLES", "SEE ALSO"]
TAG_MAX_INDENT = 8          # a list entry's tag starts at most this far in
OPT_RE = re.compile(r"(?<![\w`'\\-])(--?[A-Za-z][A-Za-z0-9-]*)")
MANREF_RE = re.compile(r"\b(esximg(?:-[a-z]+)?)\((1)\)")


def run_help(esximg, *args):
    r = subprocess.run([esximg, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       env=dict(os.environ, COLUMNS="100"), check=False)
    if r.returncode != 0:
        sys.exit("mkdocs: '%s %s' exited %d: %s" % (esximg, " ".join(args), r.returncode,
                                                     r.stderr.decode(errors="replace")))
    return r.stdout.decode("utf-8")


# ---- reading the help texts --------------------------------------------------------------

def split_usage(text):
    """(synopsis lines without 'usage: ', the rest of the lines)"""
    lines = text.rstrip("\n").split("\n")
    if not lines or not lines[0].startswith("usage: "):
        sys.exit("mkdocs: help text does not start with 'usage: '")
    syn = [lines[0][len("usage: "):]]
    i = 1
    while i < len(lines) and lines[i].startswith("       "):
        syn.append(lines[i][len("       "):])
        i += 1
    return syn, lines[i:]


def parse_commands(main_help):
    """[(name, summary)] from the 'Commands:' list of `esximg --help`"""
    cmds, on = [], False
    for line in main_help.split("\n"):
        if line.strip() == "Commands:":
            on = True
            continue
        if on:
            m = re.match(r"^  ([a-z][a-z0-9-]*)\s+(.*)$", line)
            if not m:
                break
            cmds.append((m.group(1), m.group(2).strip()))
    if not cmds:
        sys.exit("mkdocs: no 'Commands:' list in esximg --help")
    return cmds


def indent_of(line):
    return len(line) - len(line.lstrip(" "))


def split_tag(line, desc_col):
    """(tag, description) of a list entry line"""
    body = line.strip()
    m = re.match(r"^(\S(?:.*?\S)?)\s{2,}(\S.*)$", body)
    if m:
        return m.group(1), m.group(2)
    # `--acceptance LEVEL set the ...`: one space before the description column
    if desc_col and len(line) > desc_col and line[desc_col - 1] == " ":
        return line[:desc_col].strip(), line[desc_col:].strip()
    return body, ""


def desc_column(lines, start):
    """the most common column where descriptions start in the list beginning at start"""
    cols = {}
    for line in lines[start:]:
        if not line.strip() or indent_of(line) == 0:
            break
        if indent_of(line) > TAG_MAX_INDENT:
            col = indent_of(line)
        else:
            m = re.match(r"^(\s*\S(?:.*?\S)?\s{2,})\S", line)
            if not m:
                continue
            col = len(m.group(1))
        cols[col] = cols.get(col, 0) + 1
    return max(sorted(cols), key=lambda c: cols[c]) if cols else 0


def parse_blocks(lines):
    """the lines as [(kind, data)]: ('heading', text), ('para', text), ('entry', (tag, desc)),
    ('example', [lines]), ('section', NAME)"""
    out, para = [], []

    def flush():
        if para:
            out.append(("para", " ".join(para)))
            para.clear()

    i, col = 0, 0
    while i < len(lines):
        line = lines[i].rstrip()
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if not line.strip():
            flush()
            i += 1
            continue
        if line.startswith("$ "):
            flush()
            ex = [line]
            while i + 1 < len(lines) and lines[i + 1].startswith((" ", "$ ")):
                i += 1
                ex.append(lines[i].rstrip())
            out.append(("example", ex))
            i += 1
            continue
        if indent_of(line) == 0:
            if re.fullmatch(r"[A-Z][A-Z ]+", line) and line in SECTIONS:
                flush()
                out.append(("section", line))
            elif line.endswith(":") and nxt.startswith("  ") and not para:
                out.append(("heading", line[:-1]))
            else:
                para.append(line.strip())
            i += 1
            continue
        # an indented line: a list entry and its continuation lines
        flush()
        if not out or out[-1][0] != "entry":
            col = desc_column(lines, i)
        tag, desc = split_tag(line, col)
        desc_lines = [desc] if desc else []
        while (i + 1 < len(lines) and lines[i + 1].strip()
               and indent_of(lines[i + 1]) > TAG_MAX_INDENT):
            i += 1
            desc_lines.append(lines[i].strip())
        out.append(("entry", (tag, " ".join(desc_lines))))
        i += 1
    flush()
    return out


def parse_handwritten(path):
    """{SECTION: [blocks]} of a docs/man/*.txt file (comments: lines starting with '#')"""
    if not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8") as f:
        lines = [l.rstrip("\n") for l in f if not l.startswith("#")]
    sections, cur = {}, None
    for kind, data in parse_blocks(lines):
        if kind == "section":
            cur = sections.setdefault(data, [])
        elif cur is None:
            sys.exit("mkdocs: %s: text before the first section" % path)
        else:
            cur.append((kind, data))
    return sections


# ---- troff -----------------------------------------------------------------------------

def esc(s):
    """s as troff text: backslashes escaped, no control character at the start"""
    s = s.replace("\\", "\\e")
    return s


def line_safe(s):
    return "\\&" + s if s.startswith((".", "'")) else s


def hyph(s):
    return s.replace("-", "\\-")


def inline(s):
    """running text: `code`, options and man page references in bold"""
    parts = re.split(r"(`[^`]+`)", s)
    out = []
    for p in parts:
        if len(p) > 2 and p.startswith("`") and p.endswith("`"):
            out.append("\\fB" + hyph(esc(p[1:-1])) + "\\fR")
            continue
        p = esc(p)
        p = MANREF_RE.sub(lambda m: "\\fB" + hyph(m.group(1)) + "\\fR(" + m.group(2) + ")", p)
        p = OPT_RE.sub(lambda m: "\\fB" + hyph(m.group(1)) + "\\fR", p)
        out.append(p)
    return line_safe("".join(out))


def synopsis_words(s):
    """a synopsis or option tag: options bold, PLACEHOLDERS italic, the rest as is"""
    def word(m):
        w = m.group(0)
        if w.startswith("-"):
            return "\\fB" + hyph(esc(w)) + "\\fR"
        if re.match(r"[A-Z]([A-Z0-9_]|$)", w):
            return "\\fI" + esc(w) + "\\fR"
        return esc(w)
    return line_safe(re.sub(r"[^\s|\[\]()]+", word, s))


def render_tag(tag):
    # `--depends C   --conflicts C` in one tag, or a verb (`ls`): options and verbs in bold
    if not tag.startswith("-") and re.fullmatch(r"[a-z][a-z-]*", tag):
        return "\\fB" + hyph(tag) + "\\fR"
    return synopsis_words(re.sub(r"\s{2,}", ", ", tag))


def render_blocks(blocks, out):
    for kind, data in blocks:
        if kind == "para":
            out += [".PP", inline(data)]
        elif kind == "heading":
            out += [".SS " + inline(data)]
        elif kind == "entry":
            tag, desc = data
            # `--vendor VENDOR  --summary TEXT`: more options, no description
            m = re.match(r"^((?:--?[a-z][\w-]*(?: [A-Z][\w=:\[\]]*)?\s*)+?)(\s*\(.*|[a-z(].*)?$",
                         desc) if desc.startswith("-") else None
            if m and m.group(1).strip():
                tag = tag + "  " + m.group(1).strip()
                desc = (m.group(2) or "").strip()
            out += [".TP", render_tag(tag)]
            if desc:
                out.append(inline(desc))
        elif kind == "example":
            out += [".PP", ".RS 4", ".nf"]
            out += [line_safe(hyph(esc(l))) for l in data]
            out += [".fi", ".RE"]
        else:
            raise ValueError(kind)


def th(name, version, date):
    return ['.\\" Generated by docs/man/mkdocs.py from the --help texts and docs/man/*.txt;',
            '.\\" edit those, not this file.',
            '.TH "%s" "1" "%s" "esximg %s" "esximg manual"' % (name.upper(), date, version),
            '.\\" no hyphenation of names and versions, ragged right', '.nh', '.ad l']


def page_command(name, summary, help_text, hand, version, date, all_cmds):
    syn, rest = split_usage(help_text)
    out = th("esximg-" + name, version, date)
    out += [".SH NAME", "esximg\\-%s \\- %s" % (hyph(name), esc(summary))]
    out += [".SH SYNOPSIS", ".nf"] + [synopsis_words(l) for l in syn] + [".fi"]
    blocks = parse_blocks(rest)
    # --help: description first, then the options (a heading, or the first option entry);
    # running text after the options is a note
    desc, opts, notes = [], [], []
    where = desc
    for b in blocks:
        if where is desc and (b[0] == "heading" or (b[0] == "entry" and b[1][0].startswith("-"))):
            where = opts
        elif where is opts and b[0] == "para":
            where = notes
        elif where is notes and b[0] != "para":
            where = opts
        where.append(b)
    out.append(".SH DESCRIPTION")
    render_blocks(desc + hand.get("DESCRIPTION", []), out)
    if opts or hand.get("OPTIONS"):
        out.append(".SH OPTIONS")
        render_blocks([b for b in opts if not (b[0] == "heading"
                                              and b[1].lower() == "options")], out)
        render_blocks(hand.get("OPTIONS", []), out)
    if notes or hand.get("NOTES"):
        out.append(".SH NOTES")
        render_blocks(notes + hand.get("NOTES", []), out)
    for sec in ["EXIT STATUS", "ENVIRONMENT", "FILES", "EXAMPLES"]:
        if hand.get(sec):
            out.append(".SH " + sec)
            render_blocks(hand[sec], out)
    out += [".SH SEE ALSO", see_also(["esximg"] + [c for c, _ in all_cmds if c != name],
                                      hand.get("SEE ALSO"))]
    return out


def see_also(pages, extra):
    refs = ["\\fB%s\\fR(1)" % hyph(p if p == "esximg" else "esximg-" + p) for p in pages]
    text = ",\n".join(refs)
    if extra:
        body = []
        render_blocks(extra, body)
        text += "\n" + "\n".join(body)
    return text


def page_main(main_help, cmds, hand, version, date):
    syn, rest = split_usage(main_help)
    out = th("esximg", version, date)
    out += [".SH NAME", "esximg \\- build and inspect VMware ESXi installer images"]
    out += [".SH SYNOPSIS", ".nf"] + [synopsis_words(l) for l in syn]
    out += [synopsis_words("esximg help COMMAND"), ".fi"]
    blocks = parse_blocks(rest)
    out.append(".SH DESCRIPTION")
    head = []
    for b in blocks:
        if b[0] == "heading":
            break
        head.append(b)
    render_blocks(head + hand.get("DESCRIPTION", []), out)
    out.append(".SH COMMANDS")
    for c, summary in cmds:
        out += [".TP", "\\fB%s\\fR" % hyph(c), inline(summary + "; see esximg-%s(1)." % c)]
    out += [".TP", "\\fBhelp\\fR [\\fICOMMAND\\fR]",
            "the commands, or what " + inline("`esximg COMMAND --help`") + " prints"]
    out += [".SH OPTIONS",
            ".TP", "\\fB\\-\\-help\\fR, \\fB\\-h\\fR", "the commands and exit status",
            ".TP", "\\fB\\-\\-version\\fR", "the version of esximg"]
    for sec in ["OPTIONS", "NOTES"]:
        if hand.get(sec):
            render_blocks(hand[sec], out)
    # the exit status list of --help, then what the hand-written page adds
    exit_blocks, on = [], False
    for b in blocks:
        if b[0] == "heading":
            on = b[1].lower() == "exit status"
            continue
        if on:
            exit_blocks.append(b)
    out.append(".SH EXIT STATUS")
    render_blocks(exit_blocks + hand.get("EXIT STATUS", []), out)
    for sec in ["ENVIRONMENT", "FILES", "EXAMPLES"]:
        if hand.get(sec):
            out.append(".SH " + sec)
            render_blocks(hand[sec], out)
    out += [".SH SEE ALSO", see_also([c for c, _ in cmds], hand.get("SEE ALSO"))]
    return out


# ---- completions -----------------------------------------------------------------------

def command_data(name, help_text):
    """verbs, long options with their first description line, and which take a value"""
    syn, rest = split_usage(help_text)
    verbs = []
    for l in syn:
        m = re.match(r"^esximg %s ([a-z][a-z-]*)\b" % re.escape(name), l.strip())
        if m and m.group(1) not in verbs:
            verbs.append(m.group(1))
    opts = {}       # --long: description
    takes = {}      # -o / --output: 'dir' | 'file' | 'value'
    for kind, data in parse_blocks(rest):
        if kind != "entry":
            continue
        tag, desc = data
        for chunk in re.split(r"\s{2,}", tag + "  " + desc if desc.startswith("-") else tag):
            names = re.findall(r"--?[A-Za-z][\w-]*", chunk)
            arg = re.search(r"(?:^|[ ,])(?:--?[\w-]+)[ =]([A-Z][\w.=:\[\]|-]*)", chunk)
            for n in names:
                if n.startswith("--") and n not in opts:
                    opts[n] = re.sub(r"\s+", " ", desc).strip()
                if arg and n in names[:2]:
                    v = arg.group(1)
                    takes[n] = ("value" if "=" in v else "dir" if "DIR" in v else
                                "file" if re.search(r"FILE|PKG|OUT|\.zip|\.vib|\.iso", v)
                                else "value")
    for n in re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", help_text):
        opts.setdefault(n, "")
    opts.setdefault("--help", "print this help")
    return verbs, opts, takes


def words(items):
    return " ".join(sorted(items))


def bash_completion(cmds, data):
    out = ["# bash completion for esximg. Generated by docs/man/mkdocs.py from the --help texts.",
           "",
           "_esximg() {",
           "    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}",
           "    local verbs='' opts='' dirargs='' fileargs='' valueargs=''",
           "    COMPREPLY=()",
           "    if [ \"$COMP_CWORD\" -eq 1 ]; then",
           "        COMPREPLY=($(compgen -W '%s help --help --version' -- \"$cur\"))"
           % words(c for c, _ in cmds),
           "        return 0",
           "    fi",
           "    case ${COMP_WORDS[1]} in",
           "    help)",
           "        [ \"$COMP_CWORD\" -eq 2 ] && COMPREPLY=($(compgen -W '%s' -- \"$cur\"))"
           % words(c for c, _ in cmds),
           "        return 0 ;;"]
    for c, _ in cmds:
        verbs, opts, takes = data[c]
        out += ["    %s)" % c,
                "        verbs='%s'" % " ".join(verbs),
                "        opts='%s'" % words(opts),
                "        dirargs='%s'" % words(n for n, k in takes.items() if k == "dir"),
                "        fileargs='%s'" % words(n for n, k in takes.items() if k == "file"),
                "        valueargs='%s' ;;" % words(n for n, k in takes.items() if k == "value")]
    out += ["    *) return 0 ;;",
            "    esac",
            "    case \" $dirargs \" in *\" $prev \"*)",
            "        COMPREPLY=($(compgen -d -- \"$cur\")); return 0 ;; esac",
            "    case \" $fileargs \" in *\" $prev \"*)",
            "        COMPREPLY=($(compgen -f -- \"$cur\")); return 0 ;; esac",
            "    case \" $valueargs \" in *\" $prev \"*) return 0 ;; esac",
            "    case $cur in -*)",
            "        COMPREPLY=($(compgen -W \"$opts\" -- \"$cur\")); return 0 ;; esac",
            "    if [ -n \"$verbs\" ] && [ \"$COMP_CWORD\" -eq 2 ]; then",
            "        COMPREPLY=($(compgen -W \"$verbs\" -- \"$cur\")); return 0",
            "    fi",
            "    COMPREPLY=($(compgen -f -- \"$cur\"))",
            "}",
            "complete -o filenames -F _esximg esximg",
            ""]
    return out


def zq(s):
    """a zsh single-quoted word"""
    return "'" + s.replace("'", "'\\''") + "'"


def zsh_completion(cmds, data):
    out = ["#compdef esximg",
           "# zsh completion for esximg. Generated by docs/man/mkdocs.py from the --help texts.",
           "",
           "local -a commands verbs opts dirargs fileargs valueargs",
           "commands=("]
    out += ["    " + zq("%s:%s" % (c, s)) for c, s in cmds]
    out += [")",
            "if (( CURRENT == 2 )); then",
            "    if [[ $PREFIX == -* ]]; then",
            "        compadd -- --help --version",
            "    else",
            "        _describe -t commands 'esximg command' commands",
            "        compadd -- help",
            "    fi",
            "    return",
            "fi",
            "case ${words[2]} in",
            "help)",
            "    (( CURRENT == 3 )) && _describe -t commands 'esximg command' commands",
            "    return ;;"]
    for c, _ in cmds:
        verbs, opts, takes = data[c]
        out += ["%s)" % c,
                "    verbs=(%s)" % " ".join(verbs),
                "    opts=("]
        out += ["        " + zq("%s:%s" % (n.replace(":", "\\:"), opts[n][:70]))
                for n in sorted(opts)]
        out += ["    )",
                "    dirargs=(%s)" % words(n for n, k in takes.items() if k == "dir"),
                "    fileargs=(%s)" % words(n for n, k in takes.items() if k == "file"),
                "    valueargs=(%s) ;;" % words(n for n, k in takes.items() if k == "value")]
    out += ["*) return 1 ;;",
            "esac",
            "local prev=${words[CURRENT-1]}",
            "if (( ${dirargs[(Ie)$prev]} )); then _files -/; return; fi",
            "if (( ${fileargs[(Ie)$prev]} )); then _files; return; fi",
            "if (( ${valueargs[(Ie)$prev]} )); then _message -e values 'value'; return; fi",
            "if [[ $PREFIX == -* ]]; then",
            "    _describe -t options 'option' opts",
            "elif (( CURRENT == 3 && ${#verbs} )); then",
            "    compadd -- $verbs",
            "else",
            "    _files",
            "fi",
            ""]
    return out


# ---- main ------------------------------------------------------------------------------

def write(path, lines):
    text = "\n".join(lines)
    if not text.endswith("\n"):
        text += "\n"
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description="generate the man pages and completions")
    ap.add_argument("--esximg", required=True, help="the esximg binary")
    ap.add_argument("--src", required=True, help="docs/man, the hand-written parts")
    ap.add_argument("--man", help="write the man pages here")
    ap.add_argument("--completions", help="write the bash and zsh completions here")
    ap.add_argument("--version", help="the version (default: from esximg --version)")
    a = ap.parse_args()

    version = a.version or run_help(a.esximg, "--version").split()[-1]
    sde = os.environ.get("SOURCE_DATE_EPOCH", "")
    date = time.strftime("%Y-%m-%d", time.gmtime(int(sde))) if sde.isdigit() else ""
    main_help = run_help(a.esximg, "--help")
    cmds = parse_commands(main_help)
    helps = {c: run_help(a.esximg, c, "--help") for c, _ in cmds}
    if a.man:
        os.makedirs(a.man, exist_ok=True)
        hand = parse_handwritten(os.path.join(a.src, "esximg.txt"))
        write(os.path.join(a.man, "esximg.1"), page_main(main_help, cmds, hand, version, date))
        for c, summary in cmds:
            hand = parse_handwritten(os.path.join(a.src, "esximg-%s.txt" % c))
            if not hand:
                print("mkdocs: warning: no %s/esximg-%s.txt" % (a.src, c), file=sys.stderr)
            write(os.path.join(a.man, "esximg-%s.1" % c),
                  page_command(c, summary, helps[c], hand, version, date, cmds))
    if a.completions:
        os.makedirs(a.completions, exist_ok=True)
        data = {c: command_data(c, helps[c]) for c, _ in cmds}
        write(os.path.join(a.completions, "esximg"), bash_completion(cmds, data))
        write(os.path.join(a.completions, "_esximg"), zsh_completion(cmds, data))
    return 0


if __name__ == "__main__":
    sys.exit(main())
