"""The fake's Platform API (`https://api.fal.ai/v1`): model search with OpenAPI documents,
prices, the estimate and usage, all drawn from the fake's own pydantic schemas.

The documents are what FastAPI writes for fal's apps: the input is a `$ref` to
`#/components/schemas/<Name>Input`, optional fields are `anyOf` with null, nested models
are `$ref`s, and every object has `x-fal-order-properties`. A test changes an endpoint's
schema here (a field added, an option added, a default changed, a field removed, a new
endpoint); the same schema then judges what is submitted, as at fal.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, create_model
from pydantic.fields import FieldInfo

from tests.fakefal import schemas

FAKE_ADMIN_KEY = "fake-admin-id:fake-admin-secret"
PAGE_WITH_SCHEMAS = 5  # fal pages schemas in small pages: a client must follow the cursor
PAGE = 100
CATEGORIES = {"text-to-video": "text-to-video", "image-to-video": "image-to-video",
              "pikaframes": "image-to-video", "pikascenes": "image-to-video",
              "pikaffects": "image-to-video", "pikadditions": "video-to-video",
              "pikaswaps": "video-to-video"}


class _Loose(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


def _pascal(endpoint_id: str) -> str:
    parts = endpoint_id.split("/")[1:]  # fal drops the owner
    return "".join(w[:1].upper() + w[1:] for p in parts for w in re.split(r"[-_.]", p))


def derive(model: type[BaseModel], name: str, *, add: dict[str, tuple[Any, Any]] | None = None,
           drop: tuple[str, ...] = ()) -> type[BaseModel]:
    """`model` with fields added or replaced (`add`: name -> (type, default)) and removed."""
    if not drop:
        return create_model(name, __base__=model, **(add or {}))  # type: ignore[call-overload]
    fields: dict[str, Any] = {n: (f.annotation, f) for n, f in model.model_fields.items()
                              if n not in drop}
    fields.update(add or {})
    return create_model(name, __base__=_Loose, **fields)  # type: ignore[call-overload]


@dataclass
class Listing:
    model: type[BaseModel]
    category: str
    display_name: str
    status: str = "active"
    listed: bool = True
    broken: bool = False  # the schema expansion fails: {"error": {"code": ...}}


def _default_listings() -> dict[str, Listing]:
    listings = {}
    for endpoint_id, model in schemas.SCHEMAS.items():
        task = endpoint_id.rsplit("/", 1)[-1]
        version = endpoint_id.split("/")[2]
        listings[endpoint_id] = Listing(model, CATEGORIES[task],
                                        f"Pika {version} {task.replace('-', ' ')}")
    # Not Pika, but found by a free-text search for "pika" (its description names it).
    listings["fal-ai/other/video-upscaler"] = Listing(
        create_model("Upscale", __base__=_Loose, video_url=(str, ...)), "video-to-video",
        "Upscaler (works with Pika videos)")
    return listings


@dataclass
class PlatformState:
    """What the Platform API says; tests change it through FakeFal's methods."""

    listings: dict[str, Listing] = field(default_factory=_default_listings)
    # By default fal publishes no prices here: the app's price lines stay the catalog's, as
    # every other test expects. Tests set some.
    prices: dict[str, tuple[float, str]] = field(default_factory=dict)
    estimates: dict[str, float] = field(default_factory=dict)
    usage: dict[str, float] = field(default_factory=dict)

    def model(self, endpoint_id: str) -> type[BaseModel] | None:
        listing = self.listings.get(endpoint_id)
        return listing.model if listing else None

    # -- scripting ---------------------------------------------------------------------------

    def change(self, endpoint_id: str, *, add: dict[str, tuple[Any, Any]] | None = None,
               drop: tuple[str, ...] = ()) -> None:
        listing = self.listings[endpoint_id]
        listing.model = derive(listing.model, listing.model.__name__, add=add, drop=drop)

    def add_option(self, endpoint_id: str, name: str, option: str) -> None:
        current = self.listings[endpoint_id].model.model_fields[name]
        options = (*_options(current), option)
        self.change(endpoint_id, add={name: (Literal[options], current.default)})

    def change_default(self, endpoint_id: str, name: str, value: Any) -> None:
        current = self.listings[endpoint_id].model.model_fields[name]
        self.change(endpoint_id, add={name: (current.annotation, value)})

    def add_endpoint(self, endpoint_id: str, model: type[BaseModel], category: str,
                     display_name: str) -> None:
        self.listings[endpoint_id] = Listing(model, category, display_name)

    # -- answers -----------------------------------------------------------------------------

    def document(self, endpoint_id: str) -> dict[str, Any]:
        listing = self.listings[endpoint_id]
        if listing.broken:
            return {"error": {"code": "expansion_failed", "message": "Could not expand"}}
        name = _pascal(endpoint_id) + "Input"
        schema = listing.model.model_json_schema(ref_template="#/components/schemas/{model}")
        components: dict[str, Any] = schema.pop("$defs", {})
        schema["x-fal-order-properties"] = list(listing.model.model_fields)
        for component in components.values():
            if "properties" in component:
                component["x-fal-order-properties"] = list(component["properties"])
        output = _pascal(endpoint_id) + "Output"
        components |= {name: schema, output: {
            "type": "object", "title": output, "required": ["video"],
            "properties": {"video": {"$ref": "#/components/schemas/File"}},
            "x-fal-order-properties": ["video"]}, "File": {
            "type": "object", "title": "File", "required": ["url"],
            "properties": {"url": {"type": "string"}, "content_type": {"type": "string"},
                           "file_name": {"type": "string"}, "file_size": {"type": "integer"}}},
            "QueueStatus": {"type": "object", "properties": {"status": {"type": "string"}}}}
        ok = {"200": {"description": "OK", "content": {"application/json": {
            "schema": {"$ref": f"#/components/schemas/{output}"}}}}}
        return {
            "openapi": "3.0.4",
            "info": {"title": listing.display_name, "version": "1.0.0",
                     "x-fal-metadata": {"endpointId": endpoint_id,
                                        "category": listing.category}},
            "paths": {
                f"/{endpoint_id}": {"post": {"requestBody": {"required": True, "content": {
                    "application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}},
                    "responses": {"200": {"description": "queued", "content": {
                        "application/json": {"schema": {
                            "$ref": "#/components/schemas/QueueStatus"}}}}}}},
                f"/{endpoint_id}/requests/{{request_id}}": {"get": {"responses": ok}},
            },
            "components": {"schemas": components},
        }

    def entry(self, endpoint_id: str, expand: bool) -> dict[str, Any]:
        listing = self.listings[endpoint_id]
        entry: dict[str, Any] = {"endpoint_id": endpoint_id, "metadata": {
            "display_name": listing.display_name, "category": listing.category,
            "description": "", "status": listing.status, "tags": [],
            "updated_at": "2026-11-01T00:00:00Z", "model_url": f"https://fal.run/{endpoint_id}"}}
        if expand:
            entry["openapi"] = self.document(endpoint_id)
        return entry

    def models(self, query: dict[str, list[str]]) -> tuple[int, dict[str, Any]]:
        ids = query.get("endpoint_id", [])
        if len(ids) > 50:
            return 400, _error("validation_error", "endpoint_id: at most 50 values")
        expand = "openapi-3.0" in query.get("expand", [])
        listed = [i for i, m in self.listings.items() if m.listed]
        found = [i for i in ids if i in listed] if ids else listed
        text = (query.get("q") or [""])[0].lower()
        if text:
            found = [i for i in found if text in i.lower()
                     or text in self.listings[i].display_name.lower()]
        status = (query.get("status") or [""])[0]
        if status:
            found = [i for i in found if self.listings[i].status == status]
        return 200, _page([self.entry(i, expand) for i in found], query,
                          PAGE_WITH_SCHEMAS if expand else PAGE, "models")

    def pricing(self, query: dict[str, list[str]]) -> tuple[int, dict[str, Any]]:
        ids = query.get("endpoint_id", [])
        if not ids or len(ids) > 50:
            return 400, _error("validation_error", "endpoint_id: 1 to 50 values")
        rows = [{"endpoint_id": i, "unit_price": self.prices[i][0], "unit": self.prices[i][1],
                 "currency": "USD"} for i in ids if i in self.prices]
        return 200, _page(rows, query, PAGE, "prices")

    def estimate(self, body: Any) -> tuple[int, dict[str, Any]]:
        if not isinstance(body, dict) or body.get("estimate_type") != "historical_api_price":
            return 400, _error("validation_error", "estimate_type")
        total = 0.0
        for endpoint_id, ask in (body.get("endpoints") or {}).items():
            if endpoint_id not in self.estimates:
                return 404, _error("not_found", f"no history for {endpoint_id}")
            total += self.estimates[endpoint_id] * int(ask.get("call_quantity", 1))
        return 200, {"estimate_type": "historical_api_price", "total_cost": round(total, 4),
                     "currency": "USD"}

    def usage_answer(self, query: dict[str, list[str]]) -> tuple[int, dict[str, Any]]:
        ids = query.get("endpoint_id") or list(self.usage)
        lines = [{"endpoint_id": i, "unit": "video", "quantity": 1, "unit_price": cost,
                  "cost_total": cost, "cost": cost, "currency": "USD"}
                 for i, cost in self.usage.items() if i in ids]
        return 200, {"summary": lines, "time_series": [], "next_cursor": None,
                     "has_more": False}


def _options(info: FieldInfo) -> tuple[str, ...]:
    args = getattr(info.annotation, "__args__", ())
    return tuple(a for a in args if isinstance(a, str))


def _error(kind: str, message: str) -> dict[str, Any]:
    return {"error": {"type": kind, "message": message}}


def _page(items: list[dict[str, Any]], query: dict[str, list[str]], size: int, key: str
          ) -> dict[str, Any]:
    limit = min(int((query.get("limit") or [size])[0]), size)
    cursor = (query.get("cursor") or [""])[0]
    start = int(base64.b64decode(cursor).decode()) if cursor else 0
    end = start + limit
    more = end < len(items)
    return {key: items[start:end], "has_more": more,
            "next_cursor": base64.b64encode(str(end).encode()).decode() if more else None}
