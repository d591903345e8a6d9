"""Who is asking, and whose jobs they may see. Pure functions of what the web layer knows.

Identity comes, in this order, from a Hugging Face login (on a Space), the server's own
login (`PIKA_AUTH`), the visitor id a browser keeps for the page, and last the browser's
cookie (what an API client keeps). A page's visitor id starts as its cookie's value, so
a page that runs a job before it has learnt its id is still the same visitor. The
history stores the owner string, which holds a login name, or a hash of the visitor's
secret id: never the id itself, which is as good as a password to that history.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

# 256 bits, URL-safe: unguessable, and short enough to keep in localStorage or a cookie.
_SECRET = re.compile(r"^[A-Za-z0-9_-]{32,64}$")
TEAM_KINDS = ("hf", "login")


@dataclass(frozen=True)
class Identity:
    owner: str  # "hf:<name>", "login:<name>" or "visitor:<hash>"
    name: str | None = None  # the login name; None for an anonymous visitor

    @property
    def kind(self) -> str:
        return self.owner.partition(":")[0]

    @property
    def logged_in(self) -> bool:
        return self.kind in TEAM_KINDS

    def describe(self) -> str:
        if self.kind == "hf":
            return f"Signed in as {self.name} (Hugging Face)"
        if self.kind == "login":
            return f"Signed in as {self.name}"
        return "Visitor on this browser"


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def valid_secret(value: object) -> bool:
    return isinstance(value, str) and bool(_SECRET.match(value))


def digest(secret: str) -> str:
    """What is stored of a secret id: 128 bits of its SHA-256."""
    return hashlib.sha256(secret.encode()).hexdigest()[:32]


def identify(*, hf_user: str | None = None, login: str | None = None,
             visitor: object = None, browser: str | None = None) -> Identity | None:
    """The first identity the request carries; None when it carries none we can trust."""
    if hf_user:
        return Identity(f"hf:{hf_user}", hf_user)
    if login:
        return Identity(f"login:{login}", login)
    for secret in (visitor, browser):
        if isinstance(secret, str) and valid_secret(secret):
            return Identity(f"visitor:{digest(secret)}")
    return None


def may_see(viewer: Identity, owner: str | None, *, team: bool) -> bool:
    """A job is its owner's. With team history on, logged-in people also see each other's
    jobs, and the rows from before jobs had owners; anonymous visitors never see others'."""
    if owner is not None and owner == viewer.owner:
        return True
    return team and viewer.logged_in and (owner is None
                                          or owner.partition(":")[0] in TEAM_KINDS)
