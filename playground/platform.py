"""fal's Platform API (`https://api.fal.ai/v1`): model search with schemas, prices, usage.

Plain HTTPS with `Authorization: Key ...`, through httpx, which honours the proxy and CA
settings of the environment as fal-client does (the tests' fake fal cloud is reached so).
Every answer is checked for the shape this module reads; anything else is a
`PlatformError`, never a half-read answer. The key never appears in an error or a log.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx

DEFAULT_URL = "https://api.fal.ai/v1"
IDS_PER_CALL = 50  # fal's documented cap for `endpoint_id`
MAX_PAGES = 40  # a cursor that never ends is a broken answer, not a long list
TIMEOUT = httpx.Timeout(10.0, connect=5.0)


class PlatformError(Exception):
    """fal's Platform API could not be read: down, refused, slow or not making sense."""


def chunks(items: list[str], size: int = IDS_PER_CALL) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


class Platform:
    def __init__(self, key: str | None, base_url: str = DEFAULT_URL, *,
                 timeout: httpx.Timeout | float = TIMEOUT) -> None:
        headers = {"Accept": "application/json"}
        if key:
            headers["Authorization"] = f"Key {key}"
        self._client = httpx.Client(base_url=base_url.rstrip("/"), headers=headers,
                                    timeout=timeout, follow_redirects=False)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Platform:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transport -------------------------------------------------------------------

    def _json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = self._client.request(method, path, **kwargs)
        except httpx.TimeoutException:
            raise PlatformError(f"{path}: no answer in time") from None
        except httpx.HTTPError as exc:
            raise PlatformError(f"{path}: {type(exc).__name__}") from None
        if response.status_code != 200:
            raise PlatformError(f"{path}: HTTP {response.status_code}{_said(response)}")
        try:
            data = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise PlatformError(f"{path}: the answer is not JSON") from None
        if not isinstance(data, dict):
            raise PlatformError(f"{path}: the answer is not a JSON object")
        return data

    def _pages(self, path: str, items_key: str, params: list[tuple[str, str]]
               ) -> list[dict[str, Any]]:
        """Every item of a paged answer, following `next_cursor` while `has_more`."""
        items: list[dict[str, Any]] = []
        cursor: str | None = None
        for _ in range(MAX_PAGES):
            query = params + ([("cursor", cursor)] if cursor else [])
            data = self._json("GET", path, params=query)
            page = data.get(items_key)
            if not isinstance(page, list) or not all(isinstance(i, dict) for i in page):
                raise PlatformError(f"{path}: no list of {items_key} in the answer")
            items += page
            cursor = data.get("next_cursor")
            if not data.get("has_more"):
                return items
            if not isinstance(cursor, str) or not cursor:
                raise PlatformError(f"{path}: has_more without a next_cursor")
        raise PlatformError(f"{path}: more than {MAX_PAGES} pages")

    # -- the calls ---------------------------------------------------------------------

    def models(self, endpoint_ids: list[str], *, schemas: bool = True) -> list[dict[str, Any]]:
        """The models fal lists among these ids (any it no longer lists are absent), with
        their OpenAPI documents when `schemas`."""
        found: list[dict[str, Any]] = []
        for ids in chunks(endpoint_ids):
            params = [("endpoint_id", i) for i in ids]
            if schemas:
                params.append(("expand", "openapi-3.0"))
            found += self._pages("/models", "models", params)
        return [m for m in found if isinstance(m.get("endpoint_id"), str)]

    def search(self, query: str, *, schemas: bool = True) -> list[dict[str, Any]]:
        params = [("q", query)]
        if schemas:
            params.append(("expand", "openapi-3.0"))
        return [m for m in self._pages("/models", "models", params)
                if isinstance(m.get("endpoint_id"), str)]

    def prices(self, endpoint_ids: list[str]) -> dict[str, dict[str, Any]]:
        """endpoint id -> {"unit_price": float, "unit": str, "currency": str}."""
        prices: dict[str, dict[str, Any]] = {}
        for ids in chunks(endpoint_ids):
            for row in self._pages("/models/pricing", "prices",
                                   [("endpoint_id", i) for i in ids]):
                price, unit = row.get("unit_price"), row.get("unit")
                if (isinstance(row.get("endpoint_id"), str) and isinstance(unit, str)
                        and isinstance(price, int | float) and not isinstance(price, bool)
                        and price >= 0 and row.get("currency", "USD") == "USD"):
                    prices[row["endpoint_id"]] = {"unit_price": float(price), "unit": unit,
                                                  "currency": "USD"}
        return prices

    def estimate_per_call(self, endpoint_id: str) -> float:
        """What fal's history says one call of this endpoint costs (the estimate API)."""
        data = self._json("POST", "/models/pricing/estimate", json={
            "estimate_type": "historical_api_price",
            "endpoints": {endpoint_id: {"call_quantity": 1}}})
        total = data.get("total_cost")
        if not isinstance(total, int | float) or isinstance(total, bool) or total < 0 \
                or data.get("currency", "USD") != "USD":
            raise PlatformError("/models/pricing/estimate: no total_cost in USD")
        return float(total)

    def usage(self, endpoint_ids: list[str], start: datetime, end: datetime
              ) -> dict[str, float]:
        """endpoint id -> USD fal counts for it in [start, end). Needs an ADMIN key."""
        totals: dict[str, float] = {}
        for ids in chunks(endpoint_ids):
            params = [("endpoint_id", i) for i in ids] + [
                ("start", start.isoformat()), ("end", end.isoformat()), ("timezone", "UTC"),
                ("expand", "summary")]
            data = self._json("GET", "/models/usage", params=params)
            lines = data.get("summary")
            if not isinstance(lines, list):
                raise PlatformError("/models/usage: no summary in the answer")
            for line in lines:
                if not isinstance(line, dict) or not isinstance(line.get("endpoint_id"), str):
                    continue
                cost = line.get("cost_total", line.get("cost"))  # the older doc has only cost
                if isinstance(cost, int | float) and not isinstance(cost, bool):
                    totals[line["endpoint_id"]] = totals.get(line["endpoint_id"], 0.0) + cost
        return totals


def _said(response: httpx.Response) -> str:
    """fal's own error message, short: `{"error": {"type", "message"}}`."""
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        return ""
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return f" ({error['message'][:200]})"
    return ""
