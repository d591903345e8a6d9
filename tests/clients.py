"""API users as the server knows them: by the cookie it gave their client."""

from __future__ import annotations

from gradio_client import Client


def again(client: Client, url: str) -> Client:
    """The same API user back later, maybe on a restarted server: the same person, so the
    same history, as long as they kept their cookie (gradio_client keeps it per Client)."""
    return Client(url, verbose=False, httpx_kwargs={"cookies": dict(client.cookies)})
