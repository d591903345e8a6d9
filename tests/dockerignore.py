"""What `docker build` sends as its context, read from .dockerignore by the documented rules.

There is no Docker daemon on our machines, so the tests cannot ask `docker build`.
The rules, from Docker's reference for .dockerignore (and moby's patternmatcher,
which implements them):
- one pattern a line; `#` in column 1 starts a comment; surrounding whitespace is
  trimmed and the pattern is cleaned like Go's filepath.Clean (`.` and `..`
  elements and a trailing `/` go), then a leading `/` goes; blank lines are ignored;
- Go's filepath.Match: `*` is any run of characters but `/`, `?` one character but
  `/`, `[...]` a class (`[^...]` negated), `\\` escapes the next character;
- `**` is any number of directories, none included (`**/` and `**` alike; at the
  end of a pattern, everything);
- `!` makes an exception; the last pattern that matches a path decides;
- a pattern that matches a directory matches everything under it.
"""

from __future__ import annotations

import os
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Rule:
    regex: re.Pattern[str]
    exception: bool
    depth: int | None  # how many path parts a match has: `*` never crosses a `/`, `**` does


def _clean(pattern: str) -> str:
    cleaned = posixpath.normpath(pattern) if pattern else ""
    cleaned = cleaned[1:] if cleaned.startswith("/") and len(cleaned) > 1 else cleaned
    return "" if cleaned == "." else cleaned


def _regex(pattern: str) -> re.Pattern[str]:
    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if pattern.startswith("**", i):
            i += 3 if pattern.startswith("/", i + 2) else 2
            out.append(".*" if i >= len(pattern) else "(.*/)?")
            continue
        if ch == "*":
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "\\" and i + 1 < len(pattern):
            i += 1
            out.append(re.escape(pattern[i]))
        elif ch == "[":
            end = pattern.index("]", i + 1)
            body = pattern[i + 1:end]
            negate = body.startswith("^")
            body = body[1:] if negate else body
            out.append(f"[{'^' if negate else ''}{body.replace(chr(92), chr(92) * 2)}]")
            i = end
        else:
            out.append(re.escape(ch))
        i += 1
    return re.compile("".join(out) + r"\Z")


def read_rules(text: str) -> list[Rule]:
    rules = []
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        line = line.strip()
        exception = line.startswith("!")
        pattern = _clean(line[1:].strip() if exception else line)
        if pattern:
            depth = None if "**" in pattern else pattern.count("/") + 1
            rules.append(Rule(_regex(pattern), exception, depth))
    return rules


def excluded(rules: list[Rule], path: str) -> bool:
    """Whether a path of the context (relative, with `/`) is left out."""
    parts = path.split("/")
    candidates = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    result = False
    for rule in rules:
        if any(rule.regex.match(c) for c in candidates):
            result = not rule.exception
    return result


def context(root: Path) -> list[str]:
    """Every file `docker build root` would send, as paths relative to root."""
    ignore = root / ".dockerignore"
    rules = read_rules(ignore.read_text() if ignore.exists() else "")
    sent = []
    for folder, dirs, files in os.walk(root):
        rel = Path(folder).relative_to(root).as_posix()
        # An excluded folder is not entered unless an exception could match deeper in it.
        dirs[:] = [d for d in dirs if not _closed(rules, d if rel == "." else f"{rel}/{d}")]
        for name in files:
            path = name if rel == "." else f"{rel}/{name}"
            if not excluded(rules, path):
                sent.append(path)
    return sorted(sent)


def _closed(rules: list[Rule], folder: str) -> bool:
    depth = folder.count("/") + 1
    return excluded(rules, folder) and all(
        r.depth is not None and r.depth <= depth for r in rules if r.exception)
