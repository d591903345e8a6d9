"""A request as code a person can run on their own: Python (fal-client), JavaScript
(@fal-ai/client) and cURL (fal's queue API).

The arguments are the ones the app sends, or sent: the same JSON types (v2.2's duration is
the string "5", v2.1's the integer 5), the seed included. A media field that still names a
local file (a form before its run, a job that never reached fal's storage) becomes an
upload of that file by its name alone, read from the folder the code runs in: a path of
this server never goes into a snippet. No key either: each form reads `FAL_KEY`.

Text a person typed goes into string literals escaped for each language, so no prompt can
end its string, run a command in a shell, or hide code behind bidirectional marks.
"""

from __future__ import annotations

import json
import mimetypes
import re
import secrets
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from playground import catalog
from playground.history import MEDIA_FIELDS, JobRecord
from playground.requests import Request

QUEUE = "https://queue.fal.run"
_URL = re.compile(r"^(https?://|data:)", re.IGNORECASE)
_IDENTIFIER = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")


@dataclass(frozen=True)
class LocalFile:
    """A file the code reads from its own folder, by name, and sends to fal's storage."""

    name: str

    @property
    def content_type(self) -> str:
        return mimetypes.guess_type(self.name)[0] or "application/octet-stream"


@dataclass(frozen=True)
class Snippets:
    endpoint: str
    python: str
    javascript: str
    curl: str
    local_files: tuple[str, ...]  # the names the code expects beside it, in order

    def as_dict(self) -> dict[str, str]:
        return {"python": self.python, "javascript": self.javascript, "curl": self.curl}


def for_request(request: Request) -> Snippets:
    """The code for a form before its run: what Generate would send."""
    return for_arguments(request.endpoint.id, request.arguments, request.media_fields())


def for_record(record: JobRecord) -> Snippets:
    """The code for a job as it was sent (its uploaded URLs), or as it would have been
    (its files by name) where it never reached fal's storage."""
    endpoint = catalog.BY_ID.get(record.endpoint)
    media = (_media_of(endpoint) if endpoint else MEDIA_FIELDS)
    arguments = record.arguments or {k: v for k, v in record.form.items() if v is not None}
    return for_arguments(record.endpoint, arguments, media)


def for_arguments(endpoint_id: str, arguments: dict[str, Any],
                  media: Iterable[str] = MEDIA_FIELDS) -> Snippets:
    media = set(media)
    values = {name: _files(value) if name in media else value
              for name, value in arguments.items()}
    files = tuple(dict.fromkeys(f.name for f in _walk(values) if isinstance(f, LocalFile)))
    # No final line break: a page's code block shows and copies none (Gradio strips it).
    return Snippets(endpoint_id, _python(endpoint_id, values, files).rstrip("\n"),
                    _javascript(endpoint_id, values, files).rstrip("\n"),
                    _curl(endpoint_id, values).rstrip("\n"), files)


def _media_of(endpoint: catalog.Endpoint) -> set[str]:
    return {name for name, prop in endpoint.properties.items()
            if prop.get("x-media") or prop.get("items", {}).get("x-media")}


def _files(value: Any) -> Any:
    """A media value with every local path turned into a LocalFile named by its file name."""
    if isinstance(value, list):
        return [_files(v) for v in value]
    if isinstance(value, str) and value and not _URL.match(value):
        return LocalFile(PurePath(value.replace("\\", "/")).name or "file")
    return value


def _walk(value: Any) -> Iterable[Any]:
    if isinstance(value, dict):
        for v in value.values():
            yield from _walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from _walk(v)
    else:
        yield value


# -- string literals ------------------------------------------------------------------

def _hidden(char: str) -> bool:
    """Characters that change how code reads without showing: bidirectional marks,
    zero-width ones, line and paragraph separators, lone surrogates."""
    return unicodedata.category(char) in ("Cf", "Cs", "Zl", "Zp", "Co", "Cn")


def _string(text: str, lang: str) -> str:
    """A double-quoted literal that Python and JavaScript both read back as `text`."""
    quoted = json.dumps(text, ensure_ascii=False)
    if not any(_hidden(c) for c in quoted):
        return quoted
    out = []
    for char in quoted:
        if not _hidden(char):
            out.append(char)
        elif ord(char) <= 0xFFFF:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(f"\\U{ord(char):08x}" if lang == "python" else f"\\u{{{ord(char):x}}}")
    return "".join(out)


def _literal(value: Any, lang: str, depth: int = 0) -> str:
    """`value` as source text: dicts one key a line, short lists of scalars on one line."""
    unit = "    " if lang == "python" else "  "
    inner, outer = unit * (depth + 1), unit * depth
    if isinstance(value, LocalFile):
        name = _string(value.name, lang)
        if lang == "python":
            return f"fal_client.upload_file({name})"
        return f"await upload({name}, {_string(value.content_type, lang)})"
    if isinstance(value, bool):
        return ("True" if value else "False") if lang == "python" else json.dumps(value)
    if value is None:
        return "None" if lang == "python" else "null"
    if isinstance(value, int | float):
        return json.dumps(value)
    if isinstance(value, str):
        return _string(value, lang)
    if isinstance(value, list):
        items = [_literal(v, lang, depth + 1) for v in value]
        flat = ", ".join(items)
        if all(not isinstance(v, dict | list) for v in value) and len(flat) <= 60:
            return f"[{flat}]"
        return "[\n" + "".join(f"{inner}{item},\n" for item in items) + f"{outer}]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        pairs = [(key if lang == "javascript" and _IDENTIFIER.match(key)
                  else _string(str(key), lang), item) for key, item in value.items()]
        if depth > 1 and all(not isinstance(v, dict | list) for v in value.values()):
            flat = ", ".join(f"{k}: {_literal(v, lang)}" for k, v in pairs)
            if len(flat) <= 60:
                return f"{{ {flat} }}" if lang == "javascript" else f"{{{flat}}}"
        lines = []
        for name, item in pairs:
            lines.append(f"{inner}{name}: {_literal(item, lang, depth + 1)},\n")
        return "{\n" + "".join(lines) + f"{outer}}}"
    raise TypeError(f"no literal for {type(value).__name__}")


def _files_note(files: tuple[str, ...], comment: str) -> str:
    if not files:
        return ""
    names = ", ".join(files)
    return (f"{comment} Reads {names} from the folder it runs in and uploads "
            f"{'it' if len(files) == 1 else 'them'} to fal's storage first.\n")


# -- the three forms ------------------------------------------------------------------

def _python(endpoint_id: str, values: dict[str, Any], files: tuple[str, ...]) -> str:
    return (
        "# pip install fal-client    (your key is read from FAL_KEY)\n"
        + _files_note(files, "#")
        + "import fal_client\n\n"
        "printed = 0  # each update holds every log line so far\n\n\n"
        "def on_queue_update(update):\n"
        "    global printed\n"
        "    if isinstance(update, fal_client.InProgress):\n"
        "        for log in update.logs[printed:]:\n"
        '            print(log["message"])\n'
        "        printed = len(update.logs)\n\n\n"
        "result = fal_client.subscribe(\n"
        f"    {_string(endpoint_id, 'python')},\n"
        f"    arguments={_literal(values, 'python', 1)},\n"
        "    with_logs=True,\n"
        "    on_queue_update=on_queue_update,\n"
        ")\n"
        'print(result["video"]["url"])\n'
    )


def _javascript(endpoint_id: str, values: dict[str, Any], files: tuple[str, ...]) -> str:
    upload = (
        'import { readFile } from "node:fs/promises";\n'
        + 'import { fal } from "@fal-ai/client";\n\n'
        + "const upload = async (name, type) =>\n"
        + "  fal.storage.upload(new File([await readFile(name)], name, { type }));\n\n"
    ) if files else 'import { fal } from "@fal-ai/client";\n\n'
    return (
        "// npm install @fal-ai/client    (your key is read from FAL_KEY)\n"
        "// Save as pika.mjs, then: node pika.mjs\n"
        + _files_note(files, "//")
        + upload
        + "let printed = 0; // each update holds every log line so far\n"
        + f"const result = await fal.subscribe({_string(endpoint_id, 'javascript')}, {{\n"
        f"  input: {_literal(values, 'javascript', 1)},\n"
        "  logs: true,\n"
        "  onQueueUpdate: (update) => {\n"
        '    if (update.status === "IN_PROGRESS") {\n'
        "      update.logs.slice(printed).forEach((log) => console.log(log.message));\n"
        "      printed = update.logs.length;\n"
        "    }\n"
        "  },\n"
        "});\n"
        "console.log(result.data.video.url);\n"
    )


def _shell(text: str) -> str:
    """Single-quoted for a POSIX shell: nothing inside is expanded."""
    return "'" + text.replace("'", "'\\''") + "'"


def _curl(endpoint_id: str, values: dict[str, Any]) -> str:
    auth = '-H "Authorization: Key $FAL_KEY"'
    placeholders: dict[str, LocalFile] = {}

    def swap(value: Any) -> Any:
        if isinstance(value, LocalFile):
            token = f"file-{secrets.token_hex(8)}-{len(placeholders)}"
            placeholders[token] = value
            return token
        if isinstance(value, list):
            return [swap(v) for v in value]
        return value

    # ASCII only (\u escapes): what the shell and the terminal see is what fal reads.
    body = json.dumps({k: swap(v) for k, v in values.items()}, indent=2)
    lines = ["# Your key is read from FAL_KEY.",
             "# 1. Submit to fal's queue."]
    if placeholders:
        lines += ["# Local files go inline, as data: URIs (fal takes those as well as URLs).",
                  "data_uri() { printf 'data:%s;base64,' \"$2\"; base64 < \"$1\" | tr -d '\\n'; }",
                  "{"]
        rest = body
        for token, file in placeholders.items():
            before, rest = rest.split(f'"{token}"', 1)
            lines.append(f"  printf '%s' {_shell(before + chr(34))}")
            lines.append(f"  data_uri {_shell(file.name)} {file.content_type}")
            rest = '"' + rest
        lines += [f"  printf '%s' {_shell(rest)}", "} > body.json"]
        data = "--data-binary @body.json"
    else:
        data = f"-d {_shell(body)}"
    lines += [
        f"SUBMITTED=$(curl -sS --fail-with-body -X POST {_shell(QUEUE + '/' + endpoint_id)} \\",
        f"  {auth} \\",
        '  -H "Content-Type: application/json" \\',
        f"  {data})",
        'echo "$SUBMITTED"',
        "field() { grep -o \"\\\"$1\\\": *\\\"[^\\\"]*\\\"\" | cut -d'\"' -f4; }",
        'STATUS_URL=$(printf \'%s\' "$SUBMITTED" | field status_url)',
        'RESPONSE_URL=$(printf \'%s\' "$SUBMITTED" | field response_url)',
        "",
        "# 2. Its status every 2 s until COMPLETED (IN_QUEUE says the position, IN_PROGRESS",
        "# the model's logs).",
        f'while STATUS=$(curl -sS --fail-with-body "$STATUS_URL?logs=1" {auth}); do',
        '  echo "$STATUS"',
        "  case \"$STATUS\" in *'\"COMPLETED\"'*) break ;; esac",
        "  sleep 2",
        "done",
        "",
        '# 3. The result: the video\'s URL is at "video" -> "url".',
        f'curl -sS --fail-with-body "$RESPONSE_URL" {auth}',
        "echo",
    ]
    return "\n".join(lines) + "\n"
