"""Form values -> arguments for one endpoint, with the exact JSON types fal declares.

Everything here is pure: a bad value raises `InputError` naming the field, and
nothing has been sent anywhere. Media fields still hold local paths here; the
job prepares and uploads them, and swaps the paths for URLs.
"""

from __future__ import annotations

import math
import random
import unicodedata
from dataclasses import dataclass
from typing import Any

from playground.catalog import BY_ID, SEED_MAX, Endpoint, Schema, versions
from playground.errors import InputError

_ALLOWED_CONTROL = {"\n", "\t"}


@dataclass(frozen=True)
class Request:
    endpoint: Endpoint
    arguments: dict[str, Any]  # media fields hold local file paths
    seed: int | None  # None: the endpoint takes no seed

    def media_fields(self) -> dict[str, str]:
        """Media field name -> "image" or "video"."""
        kinds = {}
        for name, prop in self.endpoint.properties.items():
            kind = prop.get("x-media") or prop.get("items", {}).get("x-media")
            if kind and name in self.arguments:
                kinds[name] = kind
        return kinds


# What to say of a required choice left unpicked, in the words of the form.
PICK = {"pikaffect": "pick an effect"}


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == []


def _label(name: str, prop: Schema) -> str:
    return prop.get("title", name)


def _string(name: str, prop: Schema, value: Any) -> str:
    if not isinstance(value, str):
        raise InputError(name, f"{_label(name, prop)} must be text.")
    bad = [c for c in value if unicodedata.category(c) == "Cc" and c not in _ALLOWED_CONTROL]
    if bad:
        raise InputError(
            name,
            f"{_label(name, prop)} contains invisible control characters "
            f"(for example U+{ord(bad[0]):04X}); remove them and try again.",
        )
    limit = prop.get("maxLength")
    if limit and len(value) > limit:
        raise InputError(
            name, f"{_label(name, prop)} is {len(value)} characters long; shorten it to {limit}."
        )
    return value


def _integer(name: str, prop: Schema, value: Any) -> int:
    label = _label(name, prop)
    if isinstance(value, bool):
        raise InputError(name, f"{label} must be a whole number.")
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise InputError(name, f"{label} must be a whole number, not {value!r}.") from None
    if isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            raise InputError(name, f"{label} must be a whole number, not {value}.")
        value = int(value)
    if not isinstance(value, int):
        raise InputError(name, f"{label} must be a whole number.")
    low, high = prop.get("minimum"), prop.get("maximum")
    if (low is not None and value < low) or (high is not None and value > high):
        raise InputError(name, f"{label} must be between {low} and {high}; got {value}.")
    return value


def _number(name: str, prop: Schema, value: Any) -> float:
    label = _label(name, prop)
    if isinstance(value, bool):
        raise InputError(name, f"{label} must be a number.")
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise InputError(name, f"{label} must be a number, not {value!r}.") from None
    if not isinstance(value, int | float) or not math.isfinite(value):
        raise InputError(name, f"{label} must be a number.")
    low, high = prop.get("minimum"), prop.get("maximum")
    if (low is not None and value < low) or (high is not None and value > high):
        raise InputError(name, f"{label} must be between {low} and {high}; got {value}.")
    return float(value)


def _boolean(name: str, prop: Schema, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    raise InputError(name, f"{_label(name, prop)} must be yes or no, not {value!r}.")


def accepts(name: str, prop: Schema, value: Any) -> bool:
    """Whether the request builder takes `value` for `prop` (a choice among its options, a
    whole number within its bounds); any other kind of value is judged at Generate."""
    try:
        if "enum" in prop:
            _enum(name, prop, value)
        elif prop.get("type") == "integer":
            _integer(name, prop, value)
        elif prop.get("type") == "number":
            _number(name, prop, value)
    except InputError:
        return False
    return True


def _enum(name: str, prop: Schema, value: Any) -> str | int:
    options = [str(o) for o in prop["enum"]]
    # Numbers are accepted for string enums ("5" vs 5): the form means the same thing.
    text = str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
    if text not in options:
        raise InputError(
            name, f"{_label(name, prop)} must be one of {', '.join(options)}; got {value!r}."
        )
    # A choice among whole numbers goes to fal as the number it declares (the form's
    # choices are text).
    return int(text) if prop.get("type") == "integer" else text


def _media_list(name: str, prop: Schema, value: Any) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise InputError(name, f"{_label(name, prop)} must be a list of files.")
    low, high = prop.get("minItems", 0), prop.get("maxItems")
    label = _label(name, prop)
    if len(value) < low:
        raise InputError(name, f"{label}: add at least {low} images (you have {len(value)}).")
    if high is not None and len(value) > high:
        raise InputError(name, f"{label}: use at most {high} images (you have {len(value)}).")
    return list(value)


def _transitions(prop: Schema, value: Any, keyframes: int) -> list[dict[str, Any]]:
    if not isinstance(value, list | tuple):
        raise InputError("transitions", "Transitions must be a list of {duration, prompt}.")
    if len(value) != keyframes - 1:
        raise InputError(
            "transitions",
            f"{keyframes} keyframes need {keyframes - 1} transitions; got {len(value)}.",
        )
    item_props = prop["items"]["properties"]
    transitions = []
    for i, raw in enumerate(value, start=1):
        if not isinstance(raw, dict):
            raise InputError("transitions", f"Transition {i} must be {{duration, prompt}}.")
        unknown = set(raw) - set(item_props)
        if unknown:
            raise InputError("transitions", f"Transition {i} has unknown fields {sorted(unknown)}.")
        item: dict[str, Any] = {}
        duration = raw.get("duration")
        item["duration"] = 5 if _blank(duration) else _integer(
            "transitions", {**item_props["duration"], "title": f"Transition {i} length (s)"},
            duration,
        )
        if not _blank(raw.get("prompt")):
            item["prompt"] = _string(
                f"transitions[{i}].prompt", item_props["prompt"], raw["prompt"]
            )
        transitions.append(item)
    total = sum(t["duration"] for t in transitions)
    limit = prop["x-max-total"]
    if total > limit:
        raise InputError(
            "transitions",
            f"Transitions add up to {total} s; the limit is {limit} s. Shorten some of them.",
        )
    return transitions


def _not_a_field(endpoint: Endpoint, name: str) -> InputError:
    others = [e for e in versions(endpoint.mode) if name in e.properties]
    builtin = BY_ID.get(endpoint.id)
    if builtin and name in builtin.properties:  # the built-in form had it; fal's has not
        label = _label(name, builtin.properties[name])
        return InputError(name, f"{label} is no longer a setting of {endpoint.title} (fal "
                                "removed it); leave it out.")
    if not others:
        return InputError(name, f"{endpoint.id} has no field {name!r}.")
    label = _label(name, others[0].properties[name])
    names = [e.version for e in others]
    choice = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
    return InputError(name, f"{label} is not a setting of {endpoint.title}; leave it out, "
                            f"or pick {choice}.")


def build_request(
    endpoint: Endpoint, values: dict[str, Any], *, rng: random.Random | None = None
) -> Request:
    """Validate `values` for `endpoint`; blank optional fields take fal's default.

    None means "not given", for any field: the endpoint's own default applies, and a field
    this endpoint lacks is refused only when it was given, never dropped unseen.
    """
    props = endpoint.properties
    unknown = sorted(n for n, v in values.items() if n not in props and v is not None)
    if unknown:
        raise _not_a_field(endpoint, unknown[0])
    arguments: dict[str, Any] = {}
    for name, prop in props.items():
        value = values.get(name)
        if name == "transitions":
            continue  # needs the keyframe count, checked below
        if _blank(value):
            if name in endpoint.required:
                pick = f": {PICK.get(name, 'pick one')}" if "enum" in prop else ""
                raise InputError(name, f"{_label(name, prop)} is required{pick}.")
            if "default" in prop:
                # A cleared text field means "none", not "fal's default".
                cleared = isinstance(value, str) and "enum" not in prop
                arguments[name] = "" if cleared else prop["default"]
            continue
        if prop.get("type") == "array":
            arguments[name] = _media_list(name, prop, value)
        elif "enum" in prop:
            arguments[name] = _enum(name, prop, value)
        elif prop.get("type") == "integer":
            arguments[name] = _integer(name, prop, value)
        elif prop.get("type") == "number":
            arguments[name] = _number(name, prop, value)
        elif prop.get("type") == "boolean":
            arguments[name] = _boolean(name, prop, value)
        else:
            arguments[name] = _string(name, prop, value)
    if "transitions" in props and not _blank(values.get("transitions")):
        arguments["transitions"] = _transitions(
            props["transitions"], values["transitions"], len(arguments["image_urls"])
        )
    if "seed" in props and "seed" not in arguments:
        arguments["seed"] = (rng or random).randint(0, SEED_MAX)
    return Request(endpoint, arguments, arguments.get("seed"))
