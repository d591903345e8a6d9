"""Who is asking, as the per-person limits count: a login, else the visitor and the
address they come from. Pure functions of what the web layer knows of a request."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

from playground.identity import Identity

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Person:
    """Each name is a bound of its own. An anonymous visitor is bound by their id and,
    because a new id costs nothing, by the address too."""

    names: tuple[str, ...] = ()


def person(identity: Identity | None, address: str | None) -> Person:
    if identity and identity.logged_in:
        return Person((identity.owner,))
    names = [identity.owner] if identity else []
    if address:
        names.append(f"address:{address}")
    return Person(tuple(names))


def trusted_networks(value: str) -> list[Network]:
    """`PIKA_TRUSTED_PROXIES`: addresses or networks, comma-separated."""
    return [ipaddress.ip_network(item.strip(), strict=False)
            for item in value.split(",") if item.strip()]


def client_address(peer: str | None, forwarded_for: str | None,
                   trusted: Sequence[Network]) -> str | None:
    """The address a request came from. `X-Forwarded-For` is anyone's to write, so it is
    read only when the peer is a proxy we trust, and then from the right: the first hop
    that is not one of our proxies is the client."""
    if not peer or not forwarded_for or not _is_trusted(peer, trusted):
        return peer
    for hop in reversed([h.strip() for h in forwarded_for.split(",") if h.strip()]):
        if not _is_trusted(hop, trusted):
            return hop
    return peer


def _is_trusted(address: str, trusted: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)
