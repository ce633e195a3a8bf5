"""embed.js and its families as they are served, built once per process from `static/`.

The sources keep their comments; what is sent leaves out comment lines, indentation and blank lines
(a plain, safe reduction for code written to allow it: no comment after code on a line, no string
spanning lines), has short local names (`jsnames`) and each family's style sheet inlined, so a family
is one request. The loader
carries each family's version (a hash of its bytes): a family's address changes with its content.

The review list's style sheet is also the SEO fragment's (`fragment.py`): one look, two renderers.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from widgets import jsnames

STATIC = Path(__file__).resolve().parent / "static"
# The families loaded as modules of their own (`extras`, the photo lightbox and the topic marks of the
# review list, only on the first click that needs it); the star snippet is the loader's (static/families/stars.css
# is its style sheet): it is at the top of the pages that use it, one request sooner.
FAMILIES = ("reviews", "carousel", "badge", "extras")
# The height (px) a family takes at least, kept from before its data comes: embed.js reserves it, and
# the console's snippets carry it as a placeholder the page draws before any script runs, so nothing
# moves when a widget comes. The review list's depends on how many reviews it shows (`reserved`).
HEIGHTS = {"stars": 20, "badge": 76, "carousel": 300}
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_CSS_SPACE = re.compile(r"\s*([{};,>])\s*|(:)\s+")


@dataclass(frozen=True)
class Scripts:
    loader: bytes
    families: dict[str, bytes]
    base_css: str  # every widget's shadow root starts with it
    reviews_css: str


def minify_js(source: str) -> str:
    """The code without comments and without the spaces and line breaks it does not need.

    Line by line, for code written to allow it: no string, template or comment spans lines; a
    regular expression literal follows one of `(,=:[!&|?{};` or `return`; every statement ends
    with a semicolon (a line break is kept before a line that could continue the previous one)."""
    lines: list[str] = []
    in_comment = False
    for line in source.splitlines():
        text = line.strip()
        if in_comment:
            in_comment = not text.endswith("*/")
            continue
        if text.startswith("/*"):
            in_comment = not text.endswith("*/")
            continue
        if text and not text.startswith("//"):
            lines.append(_ARROW.sub(r"\1=>", _squeeze(text)))
    out = ""
    for text in lines:
        if out and not (out[-1] in "{;,([}:?=&|+" or text[0] in "}).]:?,=&|"):
            out += "\n"
        if text[0] == "}" and out.endswith(";"):  # a block's last statement needs no semicolon
            out = out[:-1]
        out += text
    return out + "\n"


_WORD = re.compile(r"[A-Za-z0-9_$]")
# "(r)=>" is "r=>": one parameter needs no parentheses.
_ARROW = re.compile(r"(?<![\w$])\(([A-Za-z_$][\w$]*)\)=>")
_BEFORE_REGEX = "(,=:[!&|?{};"


def _squeeze(line: str) -> str:
    out: list[str] = []
    i, n = 0, len(line)
    while i < n:
        ch = line[i]
        if ch in "\"'`":
            j = i + 1
            while line[j] != ch:
                j += 2 if line[j] == "\\" else 1
            out.append(line[i:j + 1])
            i = j + 1
        elif ch == "/" and line.startswith("//", i):
            break
        elif ch == "/" and _regex_may_start("".join(out)):
            j, in_class = i + 1, False
            while in_class or line[j] != "/":
                if line[j] == "\\":
                    j += 1
                elif line[j] in "[]":
                    in_class = line[j] == "["
                j += 1
            j += 1
            while j < n and line[j].isalpha():
                j += 1
            out.append(line[i:j])
            i = j
        elif ch.isspace():
            while i < n and line[i].isspace():
                i += 1
            before = out[-1][-1] if out else ""
            after = line[i] if i < n else ""
            # A space stays only between two words ("var x", "return s") or where two signs would fuse.
            if (_WORD.match(before) and _WORD.match(after)) or (before in "+-" and after == before):
                out.append(" ")
        else:
            if ch == "}" and out and out[-1] == ";":
                out.pop()
            out.append(ch)
            i += 1
    return "".join(out)


def _regex_may_start(code: str) -> bool:
    code = code.rstrip()
    return not code or code[-1] in _BEFORE_REGEX or code.endswith("return")


def minify_css(source: str) -> str:
    text = " ".join(_CSS_COMMENT.sub("", source).split())
    return _CSS_SPACE.sub(lambda m: m.group(1) or m.group(2), text).strip().replace(";}", "}")


def _with_css(js: str, css: str) -> str:
    if '"__CSS__"' not in js:
        raise ValueError("no style sheet placeholder")
    return js.replace('"__CSS__"', json.dumps(css, ensure_ascii=False), 1)


def _js_object(values: dict[str, str] | dict[str, int]) -> str:
    """A literal of names (plain words) and JSON values, as a script spells it: {reviews:"1a2b3c4d"}."""
    return "{" + ",".join(f"{name}:{json.dumps(value)}" for name, value in values.items()) + "}"


def reserved(family: str, limit: int = 5) -> int:
    """The height to keep for a widget: its family's, or what a review list of `limit` reviews with its
    summary takes at most from 390 px wide up (embed.js estimates the same for a list given none)."""
    return HEIGHTS.get(family) or 390 + 150 * limit


def version(body: bytes) -> str:
    # Only tells a family's new address from its last: a million values are plenty, and each byte of
    # it is in the loader every page loads.
    return hashlib.sha256(body).hexdigest()[:5]


@cache
def build() -> Scripts:
    families: dict[str, bytes] = {}
    css: dict[str, str] = {}
    for name in FAMILIES:
        css[name] = minify_css((STATIC / "families" / f"{name}.css").read_text())
        js = minify_js((STATIC / "families" / f"{name}.js").read_text())
        families[name] = jsnames.shorten(_with_css(js, css[name])).encode()
    base_css = minify_css((STATIC / "embed.css").read_text())
    loader = _with_css(minify_js((STATIC / "embed.js").read_text()), base_css)
    stars_css = minify_css((STATIC / "families" / "stars.css").read_text())
    loader = loader.replace('"__STARS_CSS__"', json.dumps(stars_css, ensure_ascii=False), 1)
    versions = _js_object({name: version(body) for name, body in families.items()})
    loader = loader.replace('"__V__"', versions, 1).replace('"__H__"', _js_object(HEIGHTS), 1)
    loader = jsnames.shorten(loader)
    return Scripts(loader.encode(), families, base_css, css["reviews"])
