"""Who is asking: a login, else the visitor and the address, read only from trusted hops."""

from __future__ import annotations

from playground.identity import identify
from playground.people import Person, client_address, person, trusted_networks

PROXIES = trusted_networks("10.0.0.0/8, 127.0.0.1")


def test_a_login_is_the_person_wherever_they_come_from() -> None:
    ada = identify(login="ada", visitor="v" * 43)
    assert person(ada, "1.2.3.4") == Person(("login:ada",))


def test_a_visitor_is_bound_by_their_id_and_address() -> None:
    visitor = identify(visitor="v" * 43)
    assert visitor is not None and visitor.owner.startswith("visitor:")
    assert person(visitor, "1.2.3.4").names == (visitor.owner, "address:1.2.3.4")


def test_forwarded_for_is_ignored_from_an_untrusted_peer() -> None:
    assert client_address("203.0.113.9", "1.1.1.1", PROXIES) == "203.0.113.9"
    assert client_address("203.0.113.9", "1.1.1.1", []) == "203.0.113.9"


def test_forwarded_for_is_read_from_the_right_past_our_proxies() -> None:
    # A visitor wrote the first hop; our two proxies added the rest.
    assert client_address("127.0.0.1", "6.6.6.6, 198.51.100.7, 10.1.2.3",
                          PROXIES) == "198.51.100.7"
    assert client_address("127.0.0.1", "10.1.2.3", PROXIES) == "127.0.0.1"
    assert client_address("127.0.0.1", None, PROXIES) == "127.0.0.1"
