"""Every Pika endpoint on fal, as data.

Each entry's input schema keeps the JSON Schema shape of fal's OpenAPI
documents (type, enum, default, required, items), so an entry can be
refreshed from fal's `openapi.json?endpoint_id=...` when fal is reachable.
Two extensions of ours: `x-media` marks a file field ("image" or "video"),
and `x-max-total` on `transitions` carries fal's 25-second rule.
Limits that fal does not publish (prompt length, seed range) are ours and
say so, so a person gets a clear message instead of a paid-for failure.

`ENDPOINTS` is the built-in catalog, the offline fallback. What the app serves
is `current()`: the built-in entries with fal's live schemas merged over them
(playground/livecatalog.py installs it), plus the Pika endpoints fal lists that
are not built in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Schema = dict[str, Any]

MODES: dict[str, str] = {
    "text-to-video": "Text to video",
    "image-to-video": "Image to video",
    "keyframes": "Keyframes",
    "scenes": "Scenes",
    "effects": "Effects",
    "additions": "Additions",
    "swaps": "Swaps",
}

ASPECT_RATIOS = ["16:9", "9:16", "1:1", "4:5", "5:4", "3:2", "2:3"]
PIKAFFECTS = [
    "Cake-ify", "Crumble", "Crush", "Decapitate", "Deflate", "Dissolve", "Explode", "Eye-pop",
    "Inflate", "Levitate", "Melt", "Peel", "Poke", "Squish", "Ta-da", "Tear",
]  # fmt: skip
MAX_PROMPT_CHARS = 2000  # ours: fal publishes none, and a runaway paste should not cost a run
SEED_MAX = 2**32 - 1  # ours: fal takes any integer; this keeps seeds portable and shown in full


def _text(title: str, default: str | None = None, *, max_length: int = MAX_PROMPT_CHARS) -> Schema:
    prop: Schema = {"type": "string", "title": title, "maxLength": max_length}
    if default is not None:
        prop["default"] = default
    return prop


def _enum(title: str, options: list[str], default: str) -> Schema:
    return {"type": "string", "title": title, "enum": options, "default": default}


def _media(title: str, kind: str) -> Schema:
    return {"type": "string", "title": title, "x-media": kind}


SEED: Schema = {"type": "integer", "title": "Seed", "minimum": 0, "maximum": SEED_MAX}
ASPECT: Schema = _enum("Aspect ratio", ASPECT_RATIOS, "16:9")
RES_720_1080: Schema = _enum("Resolution", ["720p", "1080p"], "720p")
RES_ALL: Schema = _enum("Resolution", ["480p", "720p", "1080p"], "720p")
# v2.2 and v2.5 declare duration as a string enum; v2.1 and v2 Turbo as an integer.
DURATION_ENUM: Schema = _enum("Duration (s)", ["5", "10"], "5")
DURATION_INT: Schema = {"type": "integer", "title": "Duration (s)", "default": 5,
                        "minimum": 1, "maximum": 10}  # fmt: skip
PROMPT = _text("Prompt")
OPTIONAL_PROMPT = _text("Prompt")
NEG_UGLY = _text("Negative prompt", "ugly, bad, terrible")
NEG_EMPTY = _text("Negative prompt", "")
NEG_NONE = _text("Negative prompt")


# fal's pricing `unit` is free text: the ones whose count a request tells us.
PER_VIDEO_UNITS = {"video", "videos", "request", "requests", "call", "calls", "generation",
                   "generations", "output", "outputs"}
PER_SECOND_UNITS = {"second", "seconds", "video second", "video seconds", "video_second",
                    "video_seconds", "s", "sec"}


@dataclass(frozen=True)
class Price:
    """What fal publishes; shown as "about", since prices change and discounts apply."""

    per_video: float | None = None
    per_5s: dict[str, float] | None = None  # by resolution, scaled by duration
    per_second: dict[str, float] | None = None  # by resolution
    min_seconds: int = 0
    # From fal's pricing API: its unit price and unit, which win over the figures above
    # when the unit is one a request counts ("video", "second").
    unit_price: float | None = None
    unit: str = ""
    source: str = "built in"  # or "fal" (pricing API), "fal's estimate" (estimate API)

    def usd(self, resolution: str, seconds: int) -> float | None:
        """The price of a video this long at this resolution; None where fal names none."""
        if self.unit_price is not None:
            unit = self.unit.strip().lower()
            if unit in PER_VIDEO_UNITS:
                return self.unit_price
            if unit in PER_SECOND_UNITS:
                return self.unit_price * max(seconds, self.min_seconds)
        if self.per_video is not None:
            return self.per_video
        if self.per_5s and resolution in self.per_5s:
            return self.per_5s[resolution] * seconds / 5
        if self.per_second and resolution in self.per_second:
            return self.per_second[resolution] * max(seconds, self.min_seconds)
        return None


@dataclass(frozen=True)
class JobPrice:
    usd: float
    # fal publishes no price for it: counted at the highest known price of a similar job,
    # so that a budget errs on the side of the money.
    estimated: bool = False


@dataclass(frozen=True)
class Endpoint:
    id: str
    mode: str
    version: str
    title: str
    schema: Schema
    price: Price | None = None
    note: str = ""
    order: list[str] = field(default_factory=list)
    # Where the form comes from: "" built in, else the UTC date fal's schema was fetched.
    fetched: str = ""
    status: str = "active"  # or "deprecated", as fal marks it
    new: bool = False  # listed by fal, not built in: its form is drawn from fal's schema

    @property
    def properties(self) -> dict[str, Schema]:
        return self.schema["properties"]

    @property
    def required(self) -> list[str]:
        return self.schema.get("required", [])


def _schema(required: list[str], **properties: Schema) -> Schema:
    return {"type": "object", "properties": properties, "required": required}


def _t2v(negative: Schema, duration: Schema, *, aspect: bool, resolution: Schema) -> Schema:
    props: dict[str, Schema] = {"prompt": PROMPT, "negative_prompt": negative}
    if aspect:
        props["aspect_ratio"] = ASPECT
    props |= {"resolution": resolution, "duration": duration, "seed": SEED}
    return _schema(["prompt"], **props)


def _i2v(negative: Schema, duration: Schema, resolution: Schema) -> Schema:
    return _schema(
        ["image_url", "prompt"],
        image_url=_media("First frame", "image"),
        prompt=PROMPT,
        negative_prompt=negative,
        resolution=resolution,
        duration=duration,
        seed=SEED,
    )


TURBO_PRICE = Price(per_video=0.20)

ENDPOINTS: list[Endpoint] = [
    Endpoint("fal-ai/pika/v2.5/text-to-video", "text-to-video", "v2.5", "Pika 2.5",
             _t2v(NEG_UGLY, DURATION_ENUM, aspect=False, resolution=RES_ALL)),
    Endpoint("fal-ai/pika/v2.2/text-to-video", "text-to-video", "v2.2", "Pika 2.2",
             _t2v(NEG_UGLY, DURATION_ENUM, aspect=True, resolution=RES_720_1080),
             price=Price(per_5s={"720p": 0.20, "1080p": 0.45})),
    Endpoint("fal-ai/pika/v2.1/text-to-video", "text-to-video", "v2.1", "Pika 2.1",
             _t2v(NEG_EMPTY, DURATION_INT, aspect=True, resolution=RES_720_1080)),
    Endpoint("fal-ai/pika/v2/turbo/text-to-video", "text-to-video", "v2 Turbo", "Pika 2 Turbo",
             _t2v(NEG_EMPTY, DURATION_INT, aspect=True, resolution=RES_720_1080),
             price=TURBO_PRICE),
    Endpoint("fal-ai/pika/v2.5/image-to-video", "image-to-video", "v2.5", "Pika 2.5",
             _i2v(NEG_UGLY, DURATION_ENUM, RES_ALL),
             note="fal publishes no schema page for this id: its fields mirror v2.5 "
                  "text to video plus the first frame."),
    Endpoint("fal-ai/pika/v2.2/image-to-video", "image-to-video", "v2.2", "Pika 2.2",
             _i2v(NEG_EMPTY, DURATION_ENUM, RES_720_1080)),
    Endpoint("fal-ai/pika/v2.1/image-to-video", "image-to-video", "v2.1", "Pika 2.1",
             _i2v(NEG_EMPTY, DURATION_INT, RES_720_1080)),
    Endpoint("fal-ai/pika/v2/turbo/image-to-video", "image-to-video", "v2 Turbo", "Pika 2 Turbo",
             _i2v(NEG_EMPTY, DURATION_INT, RES_720_1080), price=TURBO_PRICE,
             note="Up to 3x faster."),
    Endpoint("fal-ai/pika/v2.2/pikaframes", "keyframes", "v2.2", "Pikaframes 2.2",
             _schema(
                 ["image_urls"],
                 image_urls={"type": "array", "title": "Keyframes", "minItems": 2, "maxItems": 5,
                             "items": _media("Keyframe", "image")},
                 transitions={
                     "type": "array", "title": "Transitions", "x-max-total": 25,
                     "items": {"type": "object", "properties": {
                         "duration": {"type": "integer", "title": "Duration (s)", "default": 5,
                                      "minimum": 1, "maximum": 25},
                         "prompt": _text("Transition prompt"),
                     }},
                 },
                 prompt=_text("Prompt (all transitions)"),
                 negative_prompt=NEG_EMPTY,
                 resolution=RES_720_1080,
                 seed=SEED,
             ),
             price=Price(per_second={"720p": 0.04, "1080p": 0.06}, min_seconds=5)),
    Endpoint("fal-ai/pika/v2.2/pikascenes", "scenes", "v2.2", "Pikascenes 2.2",
             _schema(
                 ["image_urls", "prompt"],
                 image_urls={"type": "array", "title": "Ingredients", "minItems": 1,
                             "maxItems": 6, "items": _media("Ingredient", "image")},
                 prompt=PROMPT,
                 negative_prompt=NEG_UGLY,
                 ingredients_mode=_enum("Ingredients mode", ["precise", "creative"], "precise"),
                 aspect_ratio=ASPECT,
                 resolution=_enum("Resolution", ["720p", "1080p"], "1080p"),
                 duration=DURATION_ENUM,
                 seed=SEED,
             )),
    Endpoint("fal-ai/pika/v1.5/pikaffects", "effects", "v1.5", "Pikaffects 1.5",
             _schema(
                 ["image_url", "pikaffect"],
                 image_url=_media("Image", "image"),
                 pikaffect={"type": "string", "title": "Pikaffect", "enum": PIKAFFECTS},
                 prompt=OPTIONAL_PROMPT,
                 negative_prompt=NEG_NONE,
                 seed=SEED,
             ),
             price=Price(per_video=0.465)),
    Endpoint("fal-ai/pika/v2/pikadditions", "additions", "v2", "Pikadditions 2",
             _schema(
                 ["video_url", "image_url"],
                 video_url=_media("Video", "video"),
                 image_url=_media("Object to add", "image"),
                 prompt=OPTIONAL_PROMPT,
                 negative_prompt=NEG_NONE,
                 seed=SEED,
             )),
    Endpoint("fal-ai/pika/v2/pikaswaps", "swaps", "v2", "Pikaswaps 2",
             _schema(
                 ["video_url"],
                 video_url=_media("Video", "video"),
                 image_url=_media("Swap in (image)", "image"),
                 modify_region=_text("Region to modify", max_length=500),
                 prompt=OPTIONAL_PROMPT,
                 negative_prompt=NEG_NONE,
                 seed=SEED,
             ),
             price=Price(per_video=0.465)),
]  # fmt: skip

BY_ID: dict[str, Endpoint] = {e.id: e for e in ENDPOINTS}  # the built-in entries

# What the app serves, swapped whole (one reference, so readers on any thread see the old
# list or the new one, never half of each). Endpoints fal no longer lists are kept aside:
# their jobs' history still reads them.
_current: tuple[Endpoint, ...] = tuple(ENDPOINTS)
_retired: dict[str, Endpoint] = {}


def install(endpoints: list[Endpoint], retired: list[Endpoint] | None = None) -> None:
    global _current, _retired
    _retired = {e.id: e for e in retired or []}
    _current = tuple(endpoints)


def current() -> list[Endpoint]:
    return list(_current)


def versions(mode: str) -> list[Endpoint]:
    return [e for e in _current if e.mode == mode]


def fields(mode: str) -> list[str]:
    """Every field any version of `mode` takes, each once, in the order they first come."""
    return list(dict.fromkeys(n for e in versions(mode) for n in e.properties))


def lookup(mode: str, version: str) -> Endpoint:
    for endpoint in versions(mode):
        if endpoint.version == version:
            return endpoint
    known = ", ".join(e.version for e in versions(mode)) or "none"
    raise KeyError(f"{mode} has no version {version!r} (known: {known})")


def by_id(endpoint_id: str) -> Endpoint:
    """Any endpoint a job may have used: served now, no longer listed by fal, or built in."""
    for endpoint in _current:
        if endpoint.id == endpoint_id:
            return endpoint
    if endpoint_id in _retired:
        return _retired[endpoint_id]
    return BY_ID[endpoint_id]


def known(mode: str, version: str) -> Endpoint:
    """`lookup`, and failing that an endpoint fal no longer lists (a past job's)."""
    try:
        return lookup(mode, version)
    except KeyError:
        for endpoint in [*_retired.values(), *ENDPOINTS]:
            if endpoint.mode == mode and endpoint.version == version:
                return endpoint
        raise


def version_label(endpoint: Endpoint) -> str:
    marks = ["new"] * endpoint.new + ["deprecated"] * (endpoint.status == "deprecated")
    return " · ".join([endpoint.version, *marks])


def origin(endpoint: Endpoint) -> str:
    """Where a form comes from, in the page's words."""
    return f"from fal, {endpoint.fetched}" if endpoint.fetched else "built in"


def job_price(endpoint: Endpoint, arguments: dict[str, Any]) -> JobPrice:
    """What a job with these arguments costs at fal. Without a published price: the highest
    known price of its mode for the same length and resolution, else of any mode."""
    resolution = str(arguments.get("resolution", "720p"))
    seconds = billable_seconds(endpoint, arguments)
    published = endpoint.price.usd(resolution, seconds) if endpoint.price else None
    if published is not None:
        return JobPrice(round(published, 4))
    for candidates in (versions(endpoint.mode), current()):
        known = [p for e in candidates if e.price
                 and (p := e.price.usd(resolution, seconds)) is not None]
        if known:
            return JobPrice(round(max(known), 4), estimated=True)
    return JobPrice(0.0, estimated=True)  # a catalog without a single price


def estimate_price(endpoint: Endpoint, arguments: dict[str, Any]) -> str:
    """The price line of the form, worded as an estimate: the numbers spend counts."""
    price = job_price(endpoint, arguments)
    if price.estimated:
        return (f"not published by fal; counted as about ${price.usd:.2f}, the highest "
                "known price of a similar job")
    assert endpoint.price is not None  # a published price is a price
    whose = {"fal": "fal's price", "fal's estimate": "fal's estimate per call"}.get(
        endpoint.price.source)
    seconds = max(billable_seconds(endpoint, arguments), endpoint.price.min_seconds)
    if endpoint.price.unit_price is not None and \
            endpoint.price.unit.strip().lower() in PER_SECOND_UNITS:
        per = f"${endpoint.price.unit_price:g} per second"
        return f"about ${price.usd:.2f} for {seconds} s ({per}, {whose})"
    if endpoint.price.per_video is not None or endpoint.price.unit_price is not None:
        return f"about ${price.usd:.2f} per video" + (f" ({whose})" if whose else "")
    return f"about ${price.usd:.2f} for {seconds} s"


def billable_seconds(endpoint: Endpoint, arguments: dict[str, Any]) -> int:
    if "transitions" in endpoint.properties:
        transitions = arguments.get("transitions")
        if transitions:
            return sum(int(t.get("duration", 5)) for t in transitions)
        return 5 * max(len(arguments.get("image_urls", [])) - 1, 1)
    return int(arguments.get("duration", 5))
