"""Shorter local names for the widgets' scripts, as they are served: every variable, parameter and
function a script declares gets a one- or two-letter name, and runs of `var` statements become one.

The size budget of a product page (loader, stars, review list <= 5 KB gzip) is spent on names more than
on anything else. This is no general JavaScript minifier: it knows the code `scripts.minify_js` sends
(no comments, no `let`/`const`/`class`, no object patterns in declarations or parameters, no template
literals), and refuses what it does not know rather than guess. The renaming is one name for one name
across the whole file, to names the file does not use anywhere, so whatever a name meant in each scope,
the new one means the same; a property (`a.name`, `{name: ...}`) keeps its name, an object's
shorthand member (`{get, el}`) is spelled out (`{get:g,el:e}`), and exported names are kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import product
from string import ascii_letters

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<string>"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*')
  | (?P<name>[A-Za-z_$][\w$]*)
  | (?P<number>\d[\w.]*|\.\d[\w.]*)
  | (?P<punct>\.\.\.|=>|===|!==|==|!=|<=|>=|&&|\|\||\?\?|\?\.(?!\d)|\+\+|--|[-+*/%&|^]=|[^\s\w$])
""", re.X)
_REGEX = re.compile(r"/(?:\\.|\[(?:\\.|[^\]\\])*\]|[^/\\\[])+/[a-z]*")
_KEYWORDS = frozenset("""break case catch continue debugger default delete do else export extends false finally for
    function if import in instanceof new null return super switch this throw true try typeof var void while with
    yield let static enum await implements package protected interface private public of async as from""".split())
_REGEX_AFTER = frozenset("( , = : [ ! & | ? { } ; && || ?? => return typeof".split())
_DECLARE_AFTER = frozenset({"var", "function"})
# What a `{` that opens a block (not an object) follows.
_BLOCK_AFTER = frozenset({")", "=>", ";", "{", "}", "else", "try", "finally", "do", "\n", ""})


def _tokens(code: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(code):
        if code[i] == "`":
            raise ValueError("template literals are not shortened")
        if code[i] == "/" and (not out or out[-1][1] in _REGEX_AFTER or (out[-1][0] == "punct" and
                               out[-1][1] not in (")", "]"))):
            found = _REGEX.match(code, i)
            if found:
                out.append(("regex", found.group()))
                i = found.end()
                continue
        m = _TOKEN.match(code, i)
        if m is None or m.lastgroup is None:
            raise ValueError(f"cannot read the script at {code[i:i + 20]!r}")
        if m.lastgroup != "space":
            out.append((m.lastgroup, m.group()))
        elif "\n" in m.group():
            out.append(("newline", "\n"))
        i = m.end()
    return out


def _closing(tokens: list[tuple[str, str]], start: int) -> int:
    """The index of the bracket that closes the one at `start`."""
    depth = 0
    for i in range(start, len(tokens)):
        if tokens[i][1] in "([{" and tokens[i][0] == "punct":
            depth += 1
        elif tokens[i][1] in ")]}" and tokens[i][0] == "punct":
            depth -= 1
            if depth == 0:
                return i
    raise ValueError("unbalanced brackets")


def _opening(tokens: list[tuple[str, str]], end: int) -> int:
    depth = 0
    for i in range(end, -1, -1):
        if tokens[i][1] in ")]}" and tokens[i][0] == "punct":
            depth += 1
        elif tokens[i][1] in "([{" and tokens[i][0] == "punct":
            depth -= 1
            if depth == 0:
                return i
    raise ValueError("unbalanced brackets")


def _var_names(tokens: list[tuple[str, str]], i: int) -> set[str]:
    """The names one `var` statement declares: its first name, and each after a comma at its level."""
    names: set[str] = set()
    depth, expect = 0, True
    while i < len(tokens):
        kind, text = tokens[i]
        if expect:
            if kind != "name":
                raise ValueError("patterns in declarations are not shortened")
            names.add(text)
            expect = False
        elif kind == "punct" and text in "([{":
            depth += 1
        elif kind == "punct" and text in ")]}":
            if depth == 0:
                break
            depth -= 1
        elif depth == 0 and text == ",":
            expect = True
        elif depth == 0 and (text == ";" or kind == "newline" or text == "in" or text == "of"):
            break
        i += 1
    return names


def _exported(tokens: list[tuple[str, str]]) -> set[str]:
    return {tokens[i + 2][1] for i in range(len(tokens) - 2)
            if tokens[i][1] == "export" and tokens[i + 1][1] in _DECLARE_AFTER}


@dataclass
class _Scope:
    start: int  # token indices, both included
    end: int
    parent: _Scope | None = None
    bindings: dict[str, int] = field(default_factory=dict)  # name -> how often it is used
    names: dict[str, str] = field(default_factory=dict)  # name -> its short name


def _expression_end(tokens: list[tuple[str, str]], i: int) -> int:
    """The last token of an arrow function's expression body starting at `i`."""
    depth = 0
    for j in range(i, len(tokens)):
        kind, text = tokens[j]
        if kind == "punct" and text in "([{":
            depth += 1
        elif kind == "punct" and text in ")]}":
            if depth == 0:
                return j - 1
            depth -= 1
        elif depth == 0 and text in (",", ";"):
            return j - 1
    return len(tokens) - 1


def _scopes(tokens: list[tuple[str, str]]) -> tuple[_Scope, list[tuple[_Scope, int, int]]]:
    """The top scope, and each function's scope with where its parameters are (first, last token)."""
    top = _Scope(0, len(tokens) - 1)
    found: list[tuple[_Scope, int, int]] = []
    for i, (kind, text) in enumerate(tokens):
        if text == "=>":
            if tokens[i - 1][0] == "name":
                first = last = i - 1
            elif tokens[i - 1][1] == ")":
                first, last = _opening(tokens, i - 1), i - 1
            else:
                raise ValueError("cannot read an arrow function's parameters")
            end = _closing(tokens, i + 1) if tokens[i + 1][1] == "{" else _expression_end(tokens, i + 1)
            found.append((_Scope(first, end), first, last))
        elif kind == "name" and text == "function":
            j = i + 2 if tokens[i + 1][0] == "name" else i + 1
            if tokens[j][1] != "(":
                raise ValueError("cannot read a function's parameters")
            close = _closing(tokens, j)
            found.append((_Scope(j, _closing(tokens, close + 1)), j, close))
    found.sort(key=lambda f: f[0].start)
    for n, (scope, _, _) in enumerate(found):
        scope.parent = next((f[0] for f in reversed(found[:n]) if f[0].end >= scope.end), top)
    return top, found


def _innermost(top: _Scope, scopes: list[tuple[_Scope, int, int]], at: int) -> _Scope:
    inside = [s for s, _, _ in scopes if s.start <= at <= s.end]
    return inside[-1] if inside else top


def _is_reference(tokens: list[tuple[str, str]], i: int, objects: set[int]) -> bool:
    """Whether the name at `i` names a variable: not a property (`a.name`) nor an object's key."""
    last = tokens[i - 1][1] if i else ""
    if last in (".", "?."):
        return False
    return not (i + 1 < len(tokens) and tokens[i + 1][1] == ":" and last in ("{", ",") and i in objects)


def _object_members(tokens: list[tuple[str, str]]) -> set[int]:
    """The indices of the tokens directly inside an object literal's braces."""
    inside: set[int] = set()
    stack: list[bool] = []
    last = ""
    for i, (kind, text) in enumerate(tokens):
        if stack and stack[-1]:
            inside.add(i)
        if kind == "punct" and text in "([{":
            stack.append(text == "{" and last not in _BLOCK_AFTER)
        elif kind == "punct" and text in ")]}":
            stack.pop()
        if kind != "newline":
            last = text
    return inside


def _fresh() -> Iterator[str]:
    yield from ascii_letters
    for pair in product(ascii_letters, ascii_letters + "0123456789_$"):
        name = "".join(pair)
        if name not in _KEYWORDS:
            yield name


def shorten(code: str) -> str:
    """The script with its own names shortened and its consecutive `var` statements joined."""
    tokens = _tokens(code)
    top, scopes = _scopes(tokens)
    objects = _object_members(tokens)
    # Where each name is declared: parameters in their function's scope, `var`, `catch` and
    # function names in the innermost function around them.
    for scope, first, last in scopes:
        for kind, text in tokens[first:last + 1]:
            if kind == "name":
                scope.bindings[text] = 0
            elif text == "{":
                raise ValueError("object patterns are not shortened")
            elif text not in (",", "[", "]", "...", "(", ")"):
                raise ValueError(f"parameter defaults are not shortened ({text!r})")
    for i, (kind, text) in enumerate(tokens):
        named: set[str] = set()
        if kind == "name" and text == "var":
            named = _var_names(tokens, i + 1)
        elif text == "function" and tokens[i + 1][0] == "name":
            named = {tokens[i + 1][1]}
        elif text == "catch" and tokens[i - 1][1] not in (".", "?.") and tokens[i + 1][1] == "(":
            named = {tokens[i + 2][1]}
        for name in named:
            _innermost(top, scopes, i).bindings.setdefault(name, 0)
    exported = _exported(tokens)
    # Each use of a name, to the scope that declares it; a name no scope declares is the page's (a global).
    kept = set(exported) | _KEYWORDS
    owner: dict[int, _Scope] = {}
    for i, (kind, text) in enumerate(tokens):
        if kind != "name" or text in _KEYWORDS or not _is_reference(tokens, i, objects):
            continue
        declaring: _Scope | None = _innermost(top, scopes, i)
        while declaring is not None and text not in declaring.bindings:
            declaring = declaring.parent
        if declaring is None or text in exported:
            kept.add(text)
        else:
            declaring.bindings[text] += 1
            owner[i] = declaring
    # Outer scopes first; a scope never takes a name an enclosing one gave, so nothing is shadowed.
    for scope in [top] + [s for s, _, _ in scopes]:
        taken = set(kept)
        outer = scope.parent
        while outer is not None:
            taken |= set(outer.names.values())
            outer = outer.parent
        fresh = (n for n in _fresh() if n not in taken)
        for name, _ in sorted(scope.bindings.items(), key=lambda b: -b[1]):
            if name not in exported:
                scope.names[name] = next(fresh)
    renamed = {i: scope.names[tokens[i][1]] for i, scope in owner.items()}
    return _write(tokens, renamed, objects)


def _write(tokens: list[tuple[str, str]], renamed: dict[int, str], objects: set[int]) -> str:
    out: list[str] = []
    # For each open bracket: whether the statement now running at its level began with `var`, and
    # whether the one before it did.
    stack: list[list[bool]] = [[False, False]]
    last = ""  # the last token written
    for i, (kind, text) in enumerate(tokens):
        level = stack[-1]
        if kind == "newline":
            out.append("\n")
            last = "\n"
            level[0] = False
            continue
        if text == "var" and last == ";" and level[1]:
            out[-1] = ","  # var a=1;var b=2 -> var a=1,b=2
            level[0], last = True, ","
            continue
        if text == "var":
            level[0] = last in ("", ";", "{", "}", "\n")
        piece = text
        if i in renamed:
            nxt = tokens[i + 1][1] if i + 1 < len(tokens) else ""
            shorthand = i in objects and last in ("{", ",") and nxt in (",", "}")
            piece = f"{text}:{renamed[i]}" if shorthand else renamed[i]  # a shorthand member, spelled out
        out.append(piece if _joins(out, piece) else " " + piece)
        if kind == "punct" and text in "([{":
            stack.append([False, False])
        elif kind == "punct" and text in ")]}":
            stack.pop()
        elif text == ";":
            level[1], level[0] = level[0], False
        last = text
    return "".join(out)


_WORDLIKE = re.compile(r"[\w$]")


def _joins(out: list[str], text: str) -> bool:
    """Whether `text` can follow what is written without a space."""
    if not out:
        return True
    before = out[-1][-1]
    if _WORDLIKE.match(before) and _WORDLIKE.match(text[0]):
        return False
    return not (before in "+-" and text[0] == before)
