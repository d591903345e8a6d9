"""Gradio's queue protocol spoken by hand, to send what gradio_client never would.

gradio_client uploads any file value it is given and leaves a stream only when
the event ends. A hostile caller does neither: it sends file values as bare
dicts or strings naming server paths, and drops the connection mid-event.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx


class RawPage:
    """One browser session's worth of queue calls, by api_name and parameter name."""

    def __init__(self, url: str, headers: dict[str, str] | None = None,
                 login: tuple[str, str] | None = None) -> None:
        self.http = httpx.Client(base_url=url.rstrip("/"), trust_env=False, timeout=120,
                                 headers=headers)
        if login:
            username, password = login
            self.http.post("/login", data={"username": username, "password": password})
            assert self.http.cookies, "the login was refused"
        self.session = secrets.token_hex(8)
        config = self.http.get("/config").raise_for_status().json()
        self._states = {c["id"] for c in config["components"] if c.get("type") == "state"}
        self._calls = {d["api_name"]: d for d in config["dependencies"] if d.get("api_name")}
        info = self.http.get("/gradio_api/info").raise_for_status().json()
        self._params = info["named_endpoints"]

    def close(self) -> None:
        self.http.close()

    def direct(self, api_name: str, *data: Any) -> Any:
        """An event outside the queue (as the page sends `queue=False` ones), private ones
        included: they are hidden from the API, not closed to it."""
        answer = self.http.post("/gradio_api/run/predict", json={
            "data": list(data), "fn_index": self._calls[api_name]["id"],
            "session_hash": self.session, "event_data": None, "trigger_id": None})
        return answer.raise_for_status().json()

    def private(self, api_name: str | int, *data: Any, event_data: Any = None,
                query: str = "") -> tuple[bool, str]:
        """A queued event the API hides, called as the page calls it: by its index (or
        given one, as a render's events have), with raw data and event data (a click on a
        table row names the row itself). `query` is the page's own query string, which the
        page sends along. Returns whether it succeeded, and every message it sent, as
        text."""
        index = api_name if isinstance(api_name, int) else self._calls[api_name]["id"]
        joined = self.http.post(f"/gradio_api/queue/join{query}", json={
            "data": list(data), "fn_index": index,
            "session_hash": self.session, "event_data": event_data, "trigger_id": None})
        messages = list(self.messages(joined.raise_for_status().json()["event_id"]))
        return bool(messages[-1].get("success")), json.dumps(messages)

    def render(self, api_name: str) -> list[dict[str, Any]]:
        """A render's event, called as the page calls it: the events it built for this
        session, which the page calls by their index."""
        ok, said = self.private(api_name, *[None] * len(self._calls[api_name]["inputs"]))
        assert ok, said
        done = json.loads(said)[-1]["output"]["render_config"]
        return list(done["dependencies"])

    def upload(self, path: Path) -> dict[str, Any]:
        """A file sent as the page sends one: uploaded first, then named with `meta`."""
        with path.open("rb") as handle:
            answer = self.http.post("/gradio_api/upload", files={"files": (path.name, handle)})
        return {"path": answer.raise_for_status().json()[0], "orig_name": path.name,
                "meta": {"_type": "gradio.FileData"}}

    def join(self, api_name: str, **values: Any) -> str:
        """Joins the queue with named values (the others take their defaults)."""
        dependency = self._calls[api_name]
        params = iter(self._params["/" + api_name]["parameters"])
        data = []
        for component in dependency["inputs"]:
            if component in self._states:
                data.append(None)
                continue
            param = next(params)
            data.append(values.pop(param["parameter_name"], param.get("parameter_default")))
        assert not values, f"{api_name} has no parameters {sorted(values)}"
        joined = self.http.post("/gradio_api/queue/join", json={
            "data": data, "fn_index": dependency["id"], "session_hash": self.session,
            "event_data": None, "trigger_id": None})
        return joined.raise_for_status().json()["event_id"]

    def hang_up_once_started(self, api_name: str, **values: Any) -> str | None:
        """Joins, reads until the job has started, hangs up. Returns the refusal, if any."""
        for message in self.messages(self.join(api_name, **values)):
            # The job exists once its first event comes. A refusal also sends one update
            # first (its reason, for the page's status line), then its error.
            if message["msg"] == "process_generating" and "has-problem" not in json.dumps(
                    message):
                return None  # leaving the loop closes the connection
            if message["msg"] == "process_completed":
                return (message.get("output") or {}).get("error") or json.dumps(message)
        return None

    def messages(self, event_id: str) -> Iterator[dict[str, Any]]:
        """The event's messages as they come; leaving the loop closes the connection."""
        with self.http.stream("GET", "/gradio_api/queue/data",
                              params={"session_hash": self.session}) as stream:
            for line in stream.iter_lines():
                if line.startswith("data:"):
                    message = json.loads(line[5:])
                    if message.get("event_id") == event_id:
                        yield message
                        if message["msg"] == "process_completed":
                            return

    def call(self, api_name: str, **values: Any) -> tuple[bool, Any]:
        """(success, outputs or the error message) of one event run to its end."""
        return self._outcome(api_name, self.messages(self.join(api_name, **values)))

    @staticmethod
    def _outcome(api_name: str, messages: Iterator[dict[str, Any]]) -> tuple[bool, Any]:
        for message in messages:
            if message["msg"] == "process_completed":
                output = message.get("output") or {}
                if message.get("success"):
                    return True, output.get("data")
                return False, output.get("error") or str(output)
        raise RuntimeError(f"{api_name}: the stream ended before the event completed")
