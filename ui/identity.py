"""Who is on the page, for every handler that reads or changes someone's jobs.

A page carries its visitor id in `gr.BrowserState` (the browser's localStorage, so a
reload or a return visit keeps it); a login wins over it. Every browser and API client
also gets a random cookie from the middleware here: a request for a video carries
nothing else, so each handler notes which owner the cookie last acted as, and the video
route (ui/videos.py) lets through only that owner's files. An API client that keeps
cookies (gradio_client does) is known by its cookie alone, and a page's first visitor id
is its cookie's value (playground/identity.py says why).
"""

from __future__ import annotations

from collections.abc import Callable
from http.cookies import CookieError, SimpleCookie
from typing import Any

import gradio as gr
from gradio.events import Dependency
from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from playground.history import UNFINISHED
from playground.identity import Identity, identify, new_secret, valid_secret
from playground.service import Playground
from ui.text import plain, text_view
from ui.weight import inspected_once

BROWSER_COOKIE = "pika_browser"
COOKIE_SECONDS = 400 * 24 * 3600  # the most browsers keep a cookie
# localStorage is the page's, readable by any script on it: the secret below only keeps
# the id from being read at a glance (Gradio sends it in /config).
VISITOR_STORAGE = ("pika-visitor", "pika-playground-visitor")


def cookie_of(header: str | None) -> str | None:
    if not header:
        return None
    try:
        morsel = SimpleCookie(header).get(BROWSER_COOKIE)
    except CookieError:
        return None
    return morsel.value if morsel and valid_secret(morsel.value) else None


def who(app: Playground, request: gr.Request | None, profile: Any, visitor: Any) -> Identity:
    """The person behind this request; raises a message when it says nothing of them."""
    browser = cookie_of(request.headers.get("cookie")) if request else None
    identity = identify(hf_user=getattr(profile, "username", None),
                        login=getattr(request, "username", None), visitor=visitor,
                        browser=browser)
    if identity is None:
        raise gr.Error("This request says nothing of who you are: reload the page (an API "
                       "client must keep the cookies the server sets).", title="Who are you?",
                       print_exception=False)
    if browser:
        app.bind_browser(browser, identity.owner)
    return identity


def arrive(app: Playground, request: gr.Request, profile: Any, visitor: Any, *,
           afresh: bool = False) -> tuple[Any, Identity]:
    """The visitor id to keep, and who this is. On a first visit the id is the browser's
    cookie: a job started before the page learnt its id is already the visitor's."""
    if afresh:
        visitor = new_secret()
    elif not valid_secret(visitor):
        visitor = cookie_of(request.headers.get("cookie")) or new_secret()
    return visitor, who(app, request, profile, visitor)


def introduce(identity: Identity, running: int) -> str:
    text = f"<b>{plain(identity.describe())}</b>"
    if not identity.logged_in:
        text += (" · your history is kept for this browser only (clearing its site data "
                 "loses it)")
    if running:
        text += (f" · <b>{running} job{'s' * (running > 1)} running</b>: each tab "
                 "follows its newest, the History tab follows each")
    return text


class IdentityBar:
    """The line under the title: who you are, how many of your jobs run, Start afresh
    (for a visitor) and, on a Space, the Hugging Face login."""

    def __init__(self, app: Playground) -> None:
        self.app = app
        key, secret = VISITOR_STORAGE
        self.visitor = gr.BrowserState(None, storage_key=key, secret=secret)
        with gr.Row(equal_height=False, elem_classes=["whoami-row"]):
            # Wide enough that on a phone the button goes under it, not beside it.
            self.line = text_view("", elem_id="whoami", min_width=320)
            # Only a Hugging Face login makes some people visitors and others not: without
            # one, everyone is a visitor (or, with PIKA_AUTH, nobody is), known here, and
            # the page's arrival has one component fewer to build.
            self._per_person = app.settings.hf_login
            self.afresh = gr.Button("Start afresh", size="sm", scale=0,
                                    visible=not self._per_person and not app.settings.auth,
                                    elem_id="start-afresh")
            if app.settings.hf_login:  # only where Hugging Face can log people in: a Space
                gr.LoginButton(scale=0)

    def wire(self, demo: gr.Blocks, resume: dict[str, gr.Timer], mine: list[Any],
             fresh: Callable[[Identity], list[Any]]) -> Dependency:
        """Events: the page's arrival (returned, for what depends on who this is) and
        Start afresh, which sets the components showing the person's own things (`mine`)
        to what `fresh` says of the new visitor. `resume` holds, per mode, the timer whose
        tick opens that tab and brings the running job back to it (ModeTab.wire_reattach).
        The arrival itself leaves the tabs alone: Gradio answers any value for them, even
        a gr.skip(), by building a new Tabs and its config, on every page's load."""
        self.resume = resume
        self._fresh = fresh
        self.afresh.click(self.start_afresh, None, [self.visitor, self.line, *mine],
                          api_visibility="private")
        # Every output is given as the page takes it (HTML text, updates, the timers'
        # intervals): Gradio's postprocessing would cost a thread hop for each, on every load.
        afresh = [self.afresh] if self._per_person else []
        return demo.load(inspected_once(self.greet), [self.visitor],
                         [self.visitor, self.line, *afresh, *resume.values()],
                         api_visibility="private", queue=False, postprocess=False)

    def greet(self, visitor: Any, request: gr.Request, profile: gr.OAuthProfile | None
              ) -> tuple[Any, ...]:
        kept, identity = arrive(self.app, request, profile, visitor)
        running = [r for r in self.app.history.seen_by(identity, limit=50)
                   if r.status in UNFINISHED and r.owner == identity.owner]
        # Each mode with a running job gets it back in its tab: that mode's timer starts
        # (the newest job's tab is the one that opens). The others get their interval as
        # it is, a plain value: nothing is built, nothing ticks.
        modes = {r.mode for r in running}
        resumed = [gr.Timer(active=True) if mode in modes else timer.value
                   for mode, timer in self.resume.items()]
        afresh = [gr.Button(visible=not identity.logged_in)] if self._per_person else []
        return (kept if kept != visitor else gr.skip(), introduce(identity, len(running)),
                *afresh, *resumed)

    def start_afresh(self, request: gr.Request, profile: gr.OAuthProfile | None
                     ) -> list[Any]:
        kept, identity = arrive(self.app, request, profile, None, afresh=True)
        gr.Info("You start afresh: a new visitor id, an empty history. The jobs of the old "
                "id stay on the server, seen by nobody.")
        return [kept, introduce(identity, 0), *self._fresh(identity)]


class _Browsers:
    """Gives every browser and API client a random id cookie, and lets the request that
    got one carry it already, so that its handler knows the browser too."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        if cookie_of(headers.get(b"cookie", b"").decode("latin-1")):
            await self.app(scope, receive, send)
            return
        secret = new_secret()
        cookies = headers.get(b"cookie", b"")
        cookies = (cookies + b"; " if cookies else b"") + f"{BROWSER_COOKIE}={secret}".encode()
        scope = {**scope, "headers": [(k, v) for k, v in scope["headers"] if k != b"cookie"]
                 + [(b"cookie", cookies)]}
        https = (scope.get("scheme") == "https"
                 or headers.get(b"x-forwarded-proto", b"").split(b",")[0].strip() == b"https")
        # A Space shows the app in an iframe of huggingface.co: a cookie reaches it there
        # only when sent cross-site, which browsers allow over https, kept per top site.
        where = "Secure; SameSite=None; Partitioned" if https else "SameSite=Lax"
        value = (f"{BROWSER_COOKIE}={secret}; Path=/; Max-Age={COOKIE_SECONDS}; HttpOnly; "
                 f"{where}")

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).append("set-cookie", value)
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def browsers() -> Middleware:
    return Middleware(_Browsers)
