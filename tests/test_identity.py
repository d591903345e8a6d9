"""Who is asking, in order: a Hugging Face login, a PIKA_AUTH login, the page's visitor
id, the browser's cookie. The handlers are called as Gradio calls them, a profile
included: the Hugging Face login flow itself cannot reach Hugging Face from here."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import gradio as gr
import pytest

from playground.identity import identify, may_see, new_secret
from playground.settings import Settings
from ui.app import build_app

VISITOR, COOKIE = new_secret(), new_secret()


def test_identity_comes_from_the_first_thing_the_request_carries() -> None:
    everything = {"hf_user": "ada", "login": "bob", "visitor": VISITOR, "browser": COOKIE}
    assert identify(**everything).owner == "hf:ada"
    assert identify(**{**everything, "hf_user": None}).owner == "login:bob"
    visitor = identify(visitor=VISITOR, browser=COOKIE)
    assert visitor.owner.startswith("visitor:") and VISITOR not in visitor.owner
    assert identify(browser=COOKIE).owner == identify(visitor=COOKIE).owner
    assert identify(visitor="short", browser=None) is None  # not an id we issue
    assert identify() is None


def test_a_team_sees_logins_jobs_and_ownerless_rows_never_a_visitors() -> None:
    ada, bob = identify(login="ada"), identify(login="bob")
    visitor, other = identify(visitor=VISITOR), identify(visitor=COOKIE)
    assert may_see(visitor, visitor.owner, team=False)
    assert not may_see(other, visitor.owner, team=True)
    assert not may_see(bob, ada.owner, team=False)
    assert may_see(bob, ada.owner, team=True) and may_see(bob, None, team=True)
    assert not may_see(bob, visitor.owner, team=True)
    assert not may_see(visitor, ada.owner, team=True) and not may_see(visitor, None, team=True)


def handler(demo: gr.Blocks, api_name: str) -> Any:
    """The event's function, taking named values as the API does (defaults for the rest)."""
    fn = next(fn.fn for fn in demo.fns.values() if fn.api_name == api_name)

    def call(*args: Any, **values: Any) -> Any:
        bound = inspect.signature(fn).bind(*args, **values)
        bound.apply_defaults()
        return fn(*bound.args)

    return call


def request(cookie: str = COOKIE, username: str | None = None) -> gr.Request:
    return gr.Request(username=username, headers={"cookie": f"pika_browser={cookie}"},
                      client=None, query_params={})


def profile(username: str) -> gr.OAuthProfile:
    return gr.OAuthProfile({"name": username.title(), "preferred_username": username,
                            "profile": f"https://huggingface.co/{username}", "picture": ""})


@pytest.mark.parametrize("login", ["hf", "auth"])
async def test_a_login_owns_its_jobs_on_any_browser(tmp_path: Path, login: str) -> None:
    demo = build_app(Settings(data_dir=tmp_path))
    run, history = handler(demo, "text_to_video"), handler(demo, "history")

    def as_(name: str, cookie: str = COOKIE) -> tuple[gr.Request, gr.OAuthProfile | None]:
        if login == "hf":
            return request(cookie), profile(name)
        return request(cookie, username=name), None

    async for _update in run(*as_("ada"), "v2.2", prompt="a heron in the reeds"):
        pass
    rows = history(None, *as_("ada", cookie=new_secret()))  # another browser, same login
    assert [r[4] for r in rows] == ["a heron in the reeds"]
    record = demo.playground.history.get(rows[0][-1])
    assert record.owner == ("hf:ada" if login == "hf" else "login:ada")
    assert record.owner_name == "ada" and record.status == "done"
    assert history(None, *as_("bob")) == []  # same browser, another login
    assert history(VISITOR, request(), None) == []  # that browser's visitor
