#!/usr/bin/env python3
"""Fill a man page template with the reference of C headers.

usage: man-api.py TEMPLATE HEADER...

Prints TEMPLATE with its line `.\\" @API@` replaced by one subsection per header: every
IMGSYNC_EXTERN declaration, type definition and constant, each with the comment written above it
in the header (the headers are the specification: the page says what they say).
"""
import re
import sys


def roff(line):
    """A line of text as roff: backslashes escaped, no line taken for a request."""
    line = line.replace("\\", "\\e").replace("-", "\\-")
    return "\\&" + line if line.startswith((".", "'")) else line


def comment_text(lines):
    """The text of a /* ... */ block, without its frame."""
    text = []
    for line in lines:
        line = line.strip()
        line = re.sub(r"^/\*+ ?", "", line)
        line = re.sub(r" ?\*+/$", "", line)
        line = re.sub(r"^\* ?", "", line)
        text.append(line.rstrip())
    while text and not text[0]:
        text.pop(0)
    while text and not text[-1]:
        text.pop()
    return text


def take_until(lines, i, done):
    """Lines from i through the first one for which done(collected lines) holds."""
    block = []
    while i < len(lines):
        block.append(lines[i])
        i += 1
        if done(block):
            break
    return block, i


def balanced(block):
    text = "\n".join(block)
    return text.count("{") == text.count("}") and text.rstrip().endswith(";")


def items(path):
    """(comment lines, code lines) in the order of the header."""
    lines = open(path, encoding="utf-8").read().split("\n")
    out, comment, i = [], None, 0
    while i < len(lines):
        line = lines[i]
        s = line.strip()
        if s.startswith("/*"):
            if comment is not None:
                out.append((comment, []))
            block, i = take_until(lines, i, lambda b: "*/" in b[-1])
            comment = comment_text(block)
            continue
        if s.startswith("IMGSYNC_EXTERN"):
            block, i = take_until(lines, i, lambda b: b[-1].rstrip().endswith(";"))
            # continuation lines are aligned for the source's longer first line
            block = [block[0].replace("IMGSYNC_EXTERN ", "", 1)] + ["    " + b.strip() for b in block[1:]]
        elif re.match(r"typedef\b|(struct|enum|union)\b", s):
            block, i = take_until(lines, i, balanced)
        elif re.match(r"#define IMGSYNC_\w+\s+\S", s) or (s.startswith("#define IMGSYNC_") and not s.endswith("_H")
                                                        and "EXTERN" not in s):
            block, i = [line], i + 1
        else:
            if comment is not None and not s:
                out.append((comment, []))
                comment = None
            i += 1
            continue
        if comment is None and out and out[-1][1]:
            out[-1][1].extend(block)  # declarations under one comment
        else:
            out.append((comment or [], block))
        comment = None
    if comment is not None:
        out.append((comment, []))
    return out


def render(path):
    header = re.sub(r"^.*include/", "", path)
    yield ".SS <%s>" % header
    for comment, code in items(path):
        if "export macro" in " ".join(comment) or (not code and comment and comment[0].startswith("libimgsync")
                                                 and len(comment) == 1):
            if comment and not code:
                yield ".PP"
                yield roff(comment[0])
            continue
        if code:
            yield ".PP"
            yield ".nf"
            for line in code:
                yield "\\fB" + roff(line.rstrip()) + "\\fP" if line.strip() else ""
            yield ".fi"
        if comment:
            yield ".RS 4" if code else ".PP"
            yield ".nf"
            for line in comment:
                yield roff(line)
            yield ".fi"
            if code:
                yield ".RE"


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    template = open(argv[1], encoding="utf-8").read().split("\n")
    for line in template:
        if line.strip() == '.\\" @API@':
            for header in argv[2:]:
                previous = None
                for out in render(header):
                    if not (out == ".PP" and previous.startswith(".SS")):
                        print(out)
                    previous = out
        else:
            print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
