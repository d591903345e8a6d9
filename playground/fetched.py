"""An endpoint's input schema, read out of the OpenAPI document fal's model search returns.

As fal-js reads it (libs/client/src/schema.ts): the request body of `POST /<endpoint id>`
names its input by `$ref`; that schema's properties are resolved here (`$ref`, `allOf` of
one, `anyOf` with null) into the catalog's shape. A field is kept only if a form can draw
it and the request builder can type it: text, whole or decimal numbers, yes/no, a choice,
an image or video file (fal marks files by name: `..._image_url`, `..._video_url`,
`..._urls`, or `ui.field`), a list of images. Anything else is left out, with its reason.
"""

from __future__ import annotations

import copy
import keyword
import re
from dataclasses import dataclass, field
from typing import Any

from playground.catalog import MAX_PROMPT_CHARS, Schema

# Nothing from fal is trusted: a field's name becomes an API parameter and an element id,
# so it is a plain identifier that is none of the page's own parameters; words are capped.
NAME = re.compile(r"[a-z_][a-z0-9_]{0,63}", re.IGNORECASE)
RESERVED = {"request", "profile", "version", "session_key", "visitor", "self"}
MAX_FIELDS = 24  # new fields drawn per endpoint; a form is not a spreadsheet
MAX_OPTIONS = 100
MAX_WORDS = {"title": 80, "description": 300}
ENDPOINT_ID = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}(/[a-z0-9][a-z0-9._-]{0,63}){1,5}",
                         re.IGNORECASE)


def usable_name(name: str) -> bool:
    return (bool(NAME.fullmatch(name)) and not keyword.iskeyword(name)
            and name not in RESERVED and not name.startswith("transition_"))


class Unreadable(ValueError):
    """The document does not hold this endpoint's input schema as fal describes it."""


@dataclass
class Input:
    properties: dict[str, Schema]
    required: list[str]
    order: list[str]
    skipped: dict[str, str] = field(default_factory=dict)  # field -> why it is left out


def _resolve(doc: dict[str, Any], node: Any, depth: int = 0) -> Any:
    if depth > 20:
        raise Unreadable("a $ref loop")
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str):
        if not ref.startswith("#/"):
            raise Unreadable(f"a $ref outside the document: {ref[:80]}")
        target: Any = doc
        for part in ref[2:].split("/"):
            if not isinstance(target, dict) or part not in target:
                raise Unreadable(f"a $ref to nothing: {ref[:80]}")
            target = target[part]
        merged = {**_resolve(doc, target, depth + 1), **{k: v for k, v in node.items()
                                                          if k != "$ref"}}
        return merged
    all_of = node.get("allOf")
    if isinstance(all_of, list) and len(all_of) == 1:
        rest = {k: v for k, v in node.items() if k != "allOf"}
        return {**_resolve(doc, all_of[0], depth + 1), **rest}
    return node


def input_schema(doc: Any, endpoint_id: str) -> tuple[str, dict[str, Any]]:
    """The input schema's `$ref` name and the schema itself, resolved one level."""
    if not isinstance(doc, dict):
        raise Unreadable("no OpenAPI document")
    if isinstance(doc.get("error"), dict):  # {"error": {"code": "expansion_failed", ...}}
        raise Unreadable(f"fal could not expand it: {str(doc['error'].get('code'))[:80]}")
    try:
        body = doc["paths"]["/" + endpoint_id]["post"]["requestBody"]
        schema = body["content"]["application/json"]["schema"]
    except (KeyError, TypeError):
        raise Unreadable(f"no POST /{endpoint_id} with a JSON body") from None
    ref = schema.get("$ref", "") if isinstance(schema, dict) else ""
    resolved = _resolve(doc, schema)
    if not isinstance(resolved, dict) or not isinstance(resolved.get("properties"), dict):
        raise Unreadable("the input is not an object with properties")
    return ref.rsplit("/", 1)[-1], resolved


def _media_kind(name: str, prop: Schema) -> str | None:
    ui = prop.get("ui")
    if isinstance(ui, dict) and isinstance(ui.get("field"), str):
        return ui["field"]
    for suffix, kind in (("image_url", "image"), ("image_urls", "image"),
                         ("video_url", "video"), ("video_urls", "video"),
                         ("audio_url", "audio"), ("audio_urls", "audio"),
                         ("file_url", "file"), ("file_urls", "file"), ("mask_url", "image")):
        if name == suffix or name.endswith("_" + suffix):
            return kind
    return None


def _nullable(doc: dict[str, Any], prop: Schema) -> Schema:
    """`anyOf: [X, {"type": "null"}]` (an optional field, as pydantic writes it) -> X."""
    prop = _resolve(doc, prop)
    if not isinstance(prop, dict):
        raise Unreadable("not a schema")
    options = prop.get("anyOf") or prop.get("oneOf")
    if isinstance(options, list):
        kept = [_resolve(doc, o) for o in options if not (isinstance(o, dict)
                                                          and o.get("type") == "null")]
        if len(kept) == 1 and isinstance(kept[0], dict):
            rest = {k: v for k, v in prop.items() if k not in ("anyOf", "oneOf")}
            prop = {**kept[0], **rest}
    return prop


_KEEP = ("title", "description", "default", "minimum", "maximum", "minLength", "maxLength",
         "minItems", "maxItems")


def draw(doc: dict[str, Any], name: str, raw: Any) -> Schema:
    """One of fal's properties as a catalog property; `Unreadable` says why it cannot be."""
    if not isinstance(raw, dict):
        raise Unreadable("not a schema")
    prop = _nullable(doc, raw)
    kind = prop.get("type")
    out: Schema = {k: copy.deepcopy(prop[k]) for k in _KEEP if k in prop}
    if out.get("default", 0) is None:
        del out["default"]  # "none given" is how the catalog says it
    for key, most in MAX_WORDS.items():
        if key in out:
            out[key] = str(out[key])[:most]
    for key in ("minimum", "maximum", "minLength", "maxLength", "minItems", "maxItems"):
        if key in out and (not isinstance(out[key], int | float) or isinstance(out[key], bool)):
            del out[key]  # a bound that is not a number is no bound
    media = _media_kind(name, prop)
    if kind == "array":
        raw_items = prop.get("items")
        items = _nullable(doc, raw_items if isinstance(raw_items, dict) else {})
        if media not in ("image", "video") or items.get("type") != "string":
            raise Unreadable("a list the form cannot draw (only lists of image files)")
        if media == "video":
            raise Unreadable("a list of videos (the form takes lists of images only)")
        out |= {"type": "array", "items": {"type": "string", "x-media": media}}
        return out
    if media is not None:
        if kind != "string":
            raise Unreadable(f"a {media} file field that is not a URL string")
        if media not in ("image", "video"):
            raise Unreadable(f"an {media} file (the playground uploads images and videos)")
        out |= {"type": "string", "x-media": media}
        out.pop("default", None)  # a default file is fal's, never the person's upload
        return out
    enum = prop.get("enum")
    if isinstance(enum, list) and enum:
        if len(enum) > MAX_OPTIONS:
            raise Unreadable(f"a choice among {len(enum)} options (at most {MAX_OPTIONS})")
        if kind not in ("string", "integer", None) or not all(
                isinstance(o, str) or (isinstance(o, int) and not isinstance(o, bool))
                for o in enum):
            raise Unreadable("a choice among values that are not text or whole numbers")
        out |= {"type": kind or ("integer" if isinstance(enum[0], int) else "string"),
                "enum": list(enum)}
        return out
    if kind == "string":
        # Ours: no text goes to fal longer than a prompt may be (fal publishes no limit).
        out["maxLength"] = min(out.get("maxLength", MAX_PROMPT_CHARS), MAX_PROMPT_CHARS)
        return out | {"type": "string"}
    if kind in ("integer", "number", "boolean"):
        for bound in ("exclusiveMinimum", "exclusiveMaximum"):
            if isinstance(prop.get(bound), int | float) and not isinstance(prop[bound], bool):
                out["minimum" if bound == "exclusiveMinimum" else "maximum"] = prop[bound]
        return out | {"type": kind}
    raise Unreadable(f"a field of type {kind or 'unknown'} the form cannot draw")


def read_input(doc: Any, endpoint_id: str) -> Input:
    """Every drawable field of the endpoint's input, in fal's order; the rest in `skipped`."""
    _, schema = input_schema(doc, endpoint_id)
    properties: dict[str, Schema] = {}
    skipped: dict[str, str] = {}
    for name, raw in schema["properties"].items():
        if not usable_name(name):
            skipped[name[:64]] = "a name the page cannot use as a parameter"
            continue
        if len(properties) >= MAX_FIELDS:
            skipped[name] = f"more than {MAX_FIELDS} fields"
            continue
        try:
            properties[name] = draw(doc, name, raw)
        except Unreadable as exc:
            skipped[name] = str(exc)
    listed: list[list[Any]] = [v if isinstance(v := schema.get(k), list) else []
                               for k in ("required", "x-fal-order-properties")]
    required = [n for n in listed[0] if isinstance(n, str)]
    order = [n for n in listed[1] if isinstance(n, str) and n in schema["properties"]]
    order += [n for n in schema["properties"] if n not in order]
    return Input(properties, required, order, skipped)


def raw_properties(doc: Any, endpoint_id: str) -> dict[str, Any]:
    """The input's properties with every `$ref` in them resolved: a self-contained copy,
    what the cache keeps (so a later version of the merge can read it again)."""
    _, schema = input_schema(doc, endpoint_id)

    def inline(node: Any, depth: int = 0) -> Any:
        if depth > 12:
            raise Unreadable("a schema nested too deep")
        if isinstance(node, dict):
            node = _resolve(doc, node)
            return {k: inline(v, depth + 1) for k, v in node.items()}
        if isinstance(node, list):
            return [inline(v, depth + 1) for v in node]
        return node

    return inline({k: v for k, v in schema.items()
                   if k in ("properties", "required", "x-fal-order-properties", "title")})
