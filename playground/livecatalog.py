"""The catalog kept current from fal's Platform API: schemas, new and retired endpoints, prices.

What fal said is cached in the data directory (`fal-catalog.json`) with the date of each
part, and merged over the built-in catalog each time it is installed:

- a field fal added appears (when a form can draw it; else one log line says why not),
  a new option joins its choices, fal's default wins, a field fal removed is hidden;
- our own limits stay: prompt length, the seed's range, the 25-second rule, our labels;
- a Pika endpoint fal lists that is not built in joins the mode its inputs fit, as new;
  one fal marks deprecated says so; a built-in one fal no longer lists is hidden;
- fal's unit price, times the units a request counts, is the price (fal's per-call
  estimate where the unit says nothing countable; the built-in figures otherwise).

Start-up builds from the cache at once and refreshes in the background; with no cache yet
it waits for the first answer at most `WAIT_S`. Forms are built once per process, so a
refresh reaches prices and request checks at once, and forms at the next start. A broken
answer (down, slow, not JSON, missing what we read) never replaces a good cached one.
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import os
import re
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from playground import catalog
from playground.catalog import ENDPOINTS, MODES, SEED_MAX, Endpoint, Price, Schema
from playground.fetched import ENDPOINT_ID, Input, Unreadable, raw_properties, read_input
from playground.platform import Platform, PlatformError
from playground.settings import Settings

log = logging.getLogger(__name__)
CACHE_NAME = "fal-catalog.json"
WAIT_S = 2.0  # the longest start-up waits for fal, and only when there is no cache yet
SEARCH = "pika"
# Ours, whatever fal says: limits fal does not publish, and the form's own words.
OURS = ("title", "x-max-total", "x-media", "items")


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _day(stamp: str) -> str:
    return stamp[:10]


# -- what fal said, as cached ---------------------------------------------------------------

@dataclass
class Snapshot:
    """fal's answers, each part with when it was fetched. Plain JSON throughout."""

    models: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> model entry
    unlisted: list[str] = field(default_factory=list)  # built-in ids fal did not list
    prices: dict[str, dict[str, Any]] = field(default_factory=dict)
    estimates: dict[str, dict[str, Any]] = field(default_factory=dict)
    checked: str = ""  # when fal last answered the listing

    def to_json(self) -> dict[str, Any]:
        return {"version": 1, "checked": self.checked, "models": self.models,
                "unlisted": self.unlisted, "prices": self.prices, "estimates": self.estimates}

    @classmethod
    def from_json(cls, data: Any) -> Snapshot:
        if not isinstance(data, dict) or data.get("version") != 1:
            raise ValueError("not a catalog cache of this version")
        models = data.get("models")
        if not isinstance(models, dict) or not all(isinstance(m, dict) for m in models.values()):
            raise ValueError("no models")
        return cls(models=models, unlisted=[i for i in data.get("unlisted", [])
                                            if isinstance(i, str)],
                   prices=dict(data.get("prices") or {}),
                   estimates=dict(data.get("estimates") or {}),
                   checked=str(data.get("checked") or ""))


def load(path: Path) -> Snapshot | None:
    try:
        return Snapshot.from_json(json.loads(path.read_text()))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        log.warning("catalog cache %s unreadable (%s): using the built-in catalog", path.name,
                    exc)
        return None


def save(path: Path, snapshot: Snapshot) -> None:
    """Whole or not at all: a crash mid-write leaves the previous cache."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(snapshot.to_json(), indent=1, sort_keys=True))
    os.replace(tmp, path)


def _wrap(endpoint_id: str, schema: dict[str, Any]) -> dict[str, Any]:
    """A cached input schema as the OpenAPI document `fetched` reads."""
    return {"paths": {f"/{endpoint_id}": {"post": {"requestBody": {"content": {
        "application/json": {"schema": schema}}}}}}}


def cached_input(endpoint_id: str, entry: dict[str, Any]) -> Input:
    return read_input(_wrap(endpoint_id, entry["input"]), endpoint_id)


# -- asking fal -------------------------------------------------------------------------------

@dataclass
class Report:
    """What a refresh did, for the log and the command line."""

    fetched: list[str] = field(default_factory=list)
    kept: dict[str, str] = field(default_factory=dict)  # id -> why its older entry stays
    failed: list[str] = field(default_factory=list)  # parts fal did not answer
    prices: int = 0

    @property
    def ok(self) -> bool:
        return not self.failed and not self.kept

    def line(self) -> str:
        parts = [f"{len(self.fetched)} schemas fetched", f"{self.prices} prices"]
        if self.kept:
            parts.append(f"{len(self.kept)} kept from before")
        if self.failed:
            parts.append("not answered: " + "; ".join(self.failed))
        return ", ".join(parts)


def _is_pika(endpoint_id: str) -> bool:
    return "pika" in endpoint_id.lower()  # the search is free text: it may find others


def _entry(model: dict[str, Any], when: str) -> dict[str, Any]:
    """A model of fal's answer as the cache keeps it; `Unreadable` when its schema is not
    there or not this endpoint's input."""
    endpoint_id = model["endpoint_id"]
    doc = model.get("openapi")
    raw = raw_properties(doc, endpoint_id)
    read_input(_wrap(endpoint_id, raw), endpoint_id)  # it must read back
    metadata: dict[str, Any] = model.get("metadata") or {}
    if not isinstance(metadata, dict):
        metadata = {}
    status = metadata.get("status")
    return {"fetched": when, "input": raw,
            "status": status if status in ("active", "deprecated") else "active",
            "category": str(metadata.get("category") or "")[:80],
            "display_name": str(metadata.get("display_name") or "")[:80]}


def fetch(platform: Platform, before: Snapshot | None) -> tuple[Snapshot, Report]:
    """A new snapshot: each part fal answered well replaces its cached part; every other
    part stays as it was."""
    old = before or Snapshot()
    new = copy.deepcopy(old)
    report = Report()
    when = _now()
    builtin = [e.id for e in ENDPOINTS]
    found: list[str] = []
    try:  # which Pika endpoints fal has: ids only, the schemas come with the listing
        found = [m["endpoint_id"] for m in platform.search(SEARCH, schemas=False)
                 if _is_pika(m["endpoint_id"])]
    except PlatformError as exc:
        report.failed.append(str(exc))
    # Those found before stay asked for: a failed search must not lose them.
    ids = list(dict.fromkeys(builtin + list(old.models) + found))
    answered: dict[str, dict[str, Any]] = {}
    try:
        for model in platform.models(ids):
            answered[model["endpoint_id"]] = model
        if not any(i in answered for i in builtin):
            # fal lists every model it has; listing none of ours is a broken answer.
            answered.clear()
            raise PlatformError("/models: none of the Pika endpoints listed")
        new.unlisted = [i for i in builtin if i not in answered]
        new.checked = when
    except PlatformError as exc:
        report.failed.append(str(exc))
    for endpoint_id, model in answered.items():
        try:
            new.models[endpoint_id] = _entry(model, when)
            report.fetched.append(endpoint_id)
        except (Unreadable, TypeError, AttributeError, ValueError) as exc:  # fal's, not ours
            report.kept[endpoint_id] = str(exc)
            log.warning("fal's schema for %s unreadable (%s): %s", endpoint_id, exc,
                        "the cached one stays" if endpoint_id in old.models else "left out")
    if new.checked == when:  # a whole listing: endpoints found only before have gone
        for endpoint_id in [i for i in new.models if i not in answered and i not in builtin]:
            del new.models[endpoint_id]
    priced = [i for i in ids if i in new.models or i in builtin]
    try:
        prices = platform.prices(list(dict.fromkeys(priced)))
        new.prices = {i: {**p, "fetched": when} for i, p in prices.items()}
        report.prices = len(prices)
        for endpoint_id, price in prices.items():
            if _unit_counts(price["unit"]) or endpoint_id in new.estimates and _day(
                    new.estimates[endpoint_id]["fetched"]) == _day(when):
                continue
            try:  # a unit no request counts: fal's own estimate of one call
                new.estimates[endpoint_id] = {"usd": platform.estimate_per_call(endpoint_id),
                                              "fetched": when}
            except PlatformError as exc:
                report.failed.append(str(exc))
    except PlatformError as exc:
        report.failed.append(str(exc))
    return new, report


def _unit_counts(unit: str) -> bool:
    unit = unit.strip().lower()
    return unit in catalog.PER_VIDEO_UNITS or unit in catalog.PER_SECOND_UNITS


# -- merging -----------------------------------------------------------------------------------

@dataclass
class Built:
    endpoints: list[Endpoint]
    retired: list[Endpoint]
    notes: list[str]  # one line each: what was left out, and why


def _merge_prop(name: str, ours: Schema, theirs: Schema) -> Schema:
    out = dict(ours)
    if "enum" in theirs:
        if "enum" in ours and ours.get("type") == theirs.get("type"):
            kept = [o for o in ours["enum"] if o in theirs["enum"]]
            out["enum"] = kept + [o for o in theirs["enum"] if o not in kept]
        else:  # fal made it a choice, or changed what it chooses among
            out["enum"] = list(theirs["enum"])
            out["type"] = theirs["type"]
            for bound in ("minimum", "maximum"):
                out.pop(bound, None)
    elif "enum" in ours and theirs.get("type") != ours.get("type"):
        out.pop("enum")  # no longer a choice
        out["type"] = theirs["type"]
    elif theirs.get("type") != ours.get("type") and "x-media" not in ours:
        out["type"] = theirs["type"]
    if "default" in theirs:
        out["default"] = theirs["default"]
    else:
        out.pop("default", None)
    for bound in ("minimum", "maximum", "minItems", "maxItems", "minLength"):
        if bound in theirs and "enum" not in out:
            out[bound] = theirs[bound]
    if "maxLength" in theirs:  # ours where shorter: a prompt's or a region's length
        out["maxLength"] = min(theirs["maxLength"], ours.get("maxLength", theirs["maxLength"]))
    if name == "seed":  # ours: seeds stay within what is shown in full and portable
        out["minimum"] = max(out.get("minimum", 0), 0)
        out["maximum"] = min(out.get("maximum", SEED_MAX), SEED_MAX)
    return out


def _ours_on_new(name: str, prop: Schema) -> Schema:
    if name == "seed" and prop.get("type") == "integer":
        return _merge_prop(name, {"type": "integer", "title": "Seed"}, prop)
    return prop


def merge(builtin: Endpoint, fal: Input, entry: dict[str, Any], notes: list[str]) -> Endpoint:
    """The built-in entry with fal's schema over it, or the entry unchanged (with a note)
    when fal requires a field no form can draw."""
    missing = [n for n in fal.required if n not in fal.properties and n not in builtin.properties]
    if missing:
        notes.append(f"{builtin.id}: fal requires {missing[0]}, which the form cannot draw "
                     f"({fal.skipped.get(missing[0], 'unknown')}); built-in form kept")
        return builtin
    props: dict[str, Schema] = {}
    for name, ours in builtin.properties.items():
        if name in fal.properties:
            props[name] = _merge_prop(name, ours, fal.properties[name])
        elif name in fal.skipped:
            props[name] = ours  # fal still has it; our own shape of it draws it
    for name in fal.order:
        if name in fal.properties and name not in props and name not in builtin.properties:
            props[name] = _ours_on_new(name, fal.properties[name])
    for name, why in fal.skipped.items():
        if name not in builtin.properties:
            notes.append(f"{builtin.id}: field {name} left out: {why}")
    required = [n for n in builtin.required if n in fal.required and n in props]
    required += [n for n in fal.required if n in props and n not in required]
    schema = {**builtin.schema, "properties": props, "required": required}
    return replace(builtin, schema=schema, fetched=_day(entry["fetched"]),
                   status=entry.get("status", "active"))


def _version(endpoint_id: str) -> str:
    """`fal-ai/pika/v2.6/text-to-video` -> "v2.6"; `.../v2/turbo/...` -> "v2 Turbo"."""
    parts = endpoint_id.split("/")
    try:
        middle = parts[parts.index("pika") + 1:-1]
    except ValueError:
        middle = parts[1:-1]
    words = [p if re.fullmatch(r"v[\d.]+", p) else p.replace("-", " ").title() for p in middle]
    return " ".join(words) or parts[-1]


def fit(endpoint_id: str, category: str, fal: Input) -> str | None:
    """The mode whose tab a new endpoint belongs in, from its id, category and inputs."""
    name, props = endpoint_id.lower(), fal.properties
    for word, mode in (("pikaffect", "effects"), ("pikaswap", "swaps"),
                       ("pikaddition", "additions"), ("pikaframe", "keyframes"),
                       ("pikascene", "scenes")):
        if word in name:
            return mode
    if "pikaffect" in props:
        return "effects"
    if "video_url" in props:
        return "additions" if "image_url" in fal.required else "swaps"
    if "image_urls" in props:
        return "scenes"
    if "image_url" in props or category == "image-to-video":
        return "image-to-video"
    if category == "text-to-video" or "prompt" in props:
        return "text-to-video"
    return None


def new_endpoint(endpoint_id: str, fal: Input, entry: dict[str, Any],
                 taken: set[tuple[str, str]],
                 notes: list[str]) -> Endpoint | None:
    if not ENDPOINT_ID.fullmatch(endpoint_id):  # it goes into links and Markdown
        notes.append(f"{endpoint_id[:80]!r}: left out: not an endpoint id")
        return None
    mode = fit(endpoint_id, entry.get("category", ""), fal)
    if mode is None:
        notes.append(f"{endpoint_id}: left out: no tab fits its inputs")
        return None
    missing = [n for n in fal.required if n not in fal.properties]
    if missing:
        notes.append(f"{endpoint_id}: left out: fal requires {missing[0]}, which the form "
                     f"cannot draw ({fal.skipped.get(missing[0], 'unknown')})")
        return None
    for name, why in fal.skipped.items():
        notes.append(f"{endpoint_id}: field {name} left out: {why}")
    version = _version(endpoint_id)
    if (mode, version) in taken:
        version = f"{version} ({endpoint_id.rsplit('/', 1)[-1]})"
    props = {n: _ours_on_new(n, fal.properties[n]) for n in fal.order if n in fal.properties}
    title = str(entry.get("display_name") or f"Pika {version}")[:80]
    return Endpoint(endpoint_id, mode, version, title,
                    {"type": "object", "properties": props,
                     "required": [n for n in fal.required if n in props]},
                    fetched=_day(entry["fetched"]), status=entry.get("status", "active"),
                    new=True)


def _price(endpoint: Endpoint, snapshot: Snapshot) -> Price | None:
    ours = endpoint.price
    paid = snapshot.prices.get(endpoint.id)
    minimum = ours.min_seconds if ours else 0
    if paid and _unit_counts(paid["unit"]):
        return Price(unit_price=float(paid["unit_price"]), unit=paid["unit"],
                     min_seconds=minimum, source="fal")
    estimate = snapshot.estimates.get(endpoint.id)
    if paid and estimate:
        return Price(per_video=float(estimate["usd"]), source="fal's estimate")
    return ours


def build(snapshot: Snapshot | None) -> Built:
    """The catalog to serve: built-in entries with fal's schemas over them, plus new ones."""
    notes: list[str] = []
    if snapshot is None:
        return Built(list(ENDPOINTS), [], notes)
    endpoints: list[Endpoint] = []
    retired: list[Endpoint] = []
    for builtin in ENDPOINTS:
        entry = snapshot.models.get(builtin.id)
        endpoint = builtin
        if entry:
            try:
                endpoint = merge(builtin, cached_input(builtin.id, entry), entry, notes)
            except (Unreadable, KeyError, TypeError) as exc:
                notes.append(f"{builtin.id}: cached schema unreadable ({exc}); built-in form")
        endpoint = replace(endpoint, price=_price(endpoint, snapshot))
        (retired if builtin.id in snapshot.unlisted else endpoints).append(endpoint)
    for mode in MODES:  # never a tab with nothing in it: keep a mode's endpoints over that
        if not any(e.mode == mode for e in endpoints):
            back = [e for e in retired if e.mode == mode]
            if back:
                notes.append(f"fal lists no {mode} endpoint; the built-in ones stay")
                endpoints += back
                retired = [e for e in retired if e not in back]
    endpoints.sort(key=lambda e: [b.id for b in ENDPOINTS].index(e.id))
    taken = {(e.mode, e.version) for e in endpoints}
    for endpoint_id, entry in snapshot.models.items():
        if endpoint_id in catalog.BY_ID:
            continue
        try:
            fal = cached_input(endpoint_id, entry)
        except (Unreadable, KeyError, TypeError) as exc:
            notes.append(f"{endpoint_id}: cached schema unreadable ({exc})")
            continue
        made = new_endpoint(endpoint_id, fal, entry, taken, notes)
        if made:
            endpoints.append(replace(made, price=_price(made, snapshot)))
            taken.add((made.mode, made.version))
    return Built(endpoints, retired, notes)


# -- the running app's catalog ---------------------------------------------------------------

class LiveCatalog:
    """Installs the cached catalog, then keeps it fresh from fal on a thread of its own
    (the refresh is a few blocking HTTPS calls every so many hours)."""

    def __init__(self, settings: Settings, *, timeout: float | None = None,
                 installer: Callable[[Built], None] | None = None) -> None:
        self.path = settings.data_dir / CACHE_NAME
        self.key = settings.server_key or settings.admin_key
        self.url = settings.fal_api_url
        self.every_s = settings.catalog_refresh_hours * 3600
        self.enabled = bool(self.key) and self.every_s > 0
        self._install = installer or _install
        self.timeout = timeout
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.snapshot: Snapshot | None = None
        self._said: set[str] = set()

    def start(self, wait: float = WAIT_S, *, background: bool = True) -> None:
        """Serve the cache now; refresh in the background. With no cache yet, wait at most
        `wait` seconds for fal's first answer."""
        self.snapshot = load(self.path)
        self._apply()
        if not self.enabled or not background:
            return
        first = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(first,), daemon=True,
                                        name="fal-catalog")
        self._thread.start()
        if self.snapshot is None:
            first.wait(wait)

    def stop(self, wait: float = 0.0) -> None:
        """No more refreshes, and none installed from now on; `wait`: for the one under way."""
        self._stop.set()
        if wait and self._thread is not None:
            self._thread.join(wait)

    def _run(self, first: threading.Event) -> None:
        while not self._stop.is_set():
            try:
                self.refresh()
            except Exception:  # a bug here must not end the refreshing, nor the app
                log.exception("catalog refresh failed")
            first.set()
            if self._stop.wait(self.every_s):
                return

    def refresh(self) -> Report:
        timeout = {} if self.timeout is None else {"timeout": self.timeout}
        with self._lock, Platform(self.key, self.url, **timeout) as platform:
            snapshot, report = fetch(platform, self.snapshot)
            if self._stop.is_set():  # stopped meanwhile: what is served stays
                return report
            if report.fetched or report.prices:
                save(self.path, snapshot)
                self.snapshot = snapshot
                self._apply()
            log.info("fal catalog: %s", report.line())
            return report

    def _apply(self) -> None:
        built = build(self.snapshot)
        for note in built.notes:
            if note not in self._said:  # once per process, not at every refresh
                self._said.add(note)
                log.warning("fal catalog: %s", note)
        self._install(built)


def _install(built: Built) -> None:
    catalog.install(built.endpoints, built.retired)


# -- for maintainers: `pika-playground catalog --refresh | --diff` ----------------------------

def differences(built: Built) -> list[str]:
    """What fal's live catalog changes in the built-in one, one line each."""
    lines: list[str] = []
    served = {e.id: e for e in built.endpoints}
    for ours in ENDPOINTS:
        live = served.get(ours.id)
        if live is None:
            lines.append(f"{ours.id}: no longer listed by fal (hidden)")
            continue
        if live.status != "active":
            lines.append(f"{ours.id}: {live.status}")
        if not live.fetched:
            continue
        for name in live.properties:
            if name not in ours.properties:
                lines.append(f"{ours.id}: field added: {name} "
                             f"({json.dumps(live.properties[name], sort_keys=True)})")
        for name, prop in ours.properties.items():
            theirs = live.properties.get(name)
            if theirs is None:
                lines.append(f"{ours.id}: field removed: {name}")
                continue
            for key in sorted(set(prop) | set(theirs)):
                if key in OURS or prop.get(key) == theirs.get(key):
                    continue
                if key == "enum" and set(map(str, prop.get("enum", []))) == set(
                        map(str, theirs.get("enum", []))):
                    continue
                lines.append(f"{ours.id}: {name}.{key}: {json.dumps(prop.get(key))} -> "
                             f"{json.dumps(theirs.get(key))}")
        if sorted(live.required) != sorted(ours.required):
            lines.append(f"{ours.id}: required: {sorted(ours.required)} -> "
                         f"{sorted(live.required)}")
    for live in built.endpoints:
        if live.new:
            lines.append(f"{live.id}: new ({MODES[live.mode]}, {live.version}"
                         f"{', deprecated' if live.status == 'deprecated' else ''})")
    return lines


def main(argv: list[str] | None = None, settings: Settings | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="pika-playground catalog",
        description="fal's live schemas for the Pika endpoints, against the built-in catalog")
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--refresh", action="store_true",
                      help="fetch fal's schemas and prices now into the data directory's cache")
    what.add_argument("--diff", action="store_true",
                      help="print what fal's live schemas change in the built-in catalog; "
                           "exit 1 when anything does")
    args = parser.parse_args(argv)
    settings = settings or Settings.from_env()
    key = settings.server_key or settings.admin_key
    if not key:
        print("No fal key: set FAL_KEY (fal's Platform API prices need one).", file=sys.stderr)
        return 2
    path = settings.data_dir / CACHE_NAME
    with Platform(key, settings.fal_api_url) as platform:
        before = load(path) if args.refresh else None
        snapshot, report = fetch(platform, before)
    if args.refresh:
        if report.fetched or report.prices:
            save(path, snapshot)
        print(f"{path}: {report.line()}")
        return 0 if report.fetched else 1
    if not report.fetched:
        print(f"fal did not answer: {report.line()}", file=sys.stderr)
        return 2
    built = build(snapshot)
    lines = differences(built)
    for note in built.notes:
        print(f"note: {note}")
    for line in lines:
        print(line)
    print(f"{len(lines)} difference{'s' * (len(lines) != 1)} from the built-in catalog")
    return 1 if lines else 0
