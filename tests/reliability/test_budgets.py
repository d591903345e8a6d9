"""What people spend on the server's key, against the fake fal cloud through the API: each
job's price recorded and shown, the day's budgets refusing with the numbers before any
call to fal, and all of it still there after a SIGKILL and a restart."""

from __future__ import annotations

from pathlib import Path

import pytest
from gradio_client import Client

from tests.apprunner import running_app
from tests.fakefal import FakeFal
from tests.records import recorded

T2V = "/text_to_video"


def generate(client: Client, version: str, prompt: str, resolution: str = "720p") -> str:
    status, *_ = client.predict(version=version, prompt=prompt, resolution=resolution,
                                duration="5", api_name=T2V)
    return status


def same_person(client: Client, url: str) -> Client:
    """The API user back later: known by the cookie the server gave them."""
    return Client(url, verbose=False, httpx_kwargs={"cookies": client.cookies})


def test_spend_is_recorded_shown_and_held_to_a_persons_budget_across_a_restart(
        fakefal: FakeFal, tmp_path: Path) -> None:
    fakefal.script(queue_positions=0, run_time=0.2)
    env = {**fakefal.env, "PIKA_BUDGET_PER_PERSON_DAY": "0.50"}
    with running_app(env, tmp_path) as app:
        ada = Client(app.url, verbose=False)
        assert "Done" in generate(ada, "v2.2", "priced")  # $0.20, published
        assert "Done" in generate(ada, "v2.5", "unpriced")  # $0.20: v2.2's, the most known
        jobs = {r.form["prompt"]: r for r in recorded(tmp_path)}
        assert (jobs["priced"].price, jobs["priced"].price_estimated) == (0.20, False)
        assert (jobs["unpriced"].price, jobs["unpriced"].price_estimated) == (0.20, True)
        assert {r.key_source for r in jobs.values()} == {"server"}
        line = ada.predict(api_name="/spend")
        assert "today: <b>$0.40</b> (estimated) on the server's key;" in line
        assert "Left today on the server's key: $0.10 of $0.50." in line
        assert "today: nothing; this month: nothing." in Client(app.url, verbose=False).predict(
            api_name="/spend")  # someone else has spent nothing

        sent = len(fakefal.records)
        with pytest.raises(Exception) as refused:
            generate(ada, "v2.2", "too dear", resolution="1080p")
        assert ("This job is about $0.45; you have $0.10 left today on the server's key "
                "(budget $0.50 a day per person)") in str(refused.value)
        assert len(fakefal.records) == sent  # not one request reached fal
        app.kill()
    with running_app(env, tmp_path) as again:
        ada = same_person(ada, again.url)
        assert "today: <b>$0.40</b> (estimated) on the server's key;" in ada.predict(
            api_name="/spend")
        with pytest.raises(Exception, match=r"you have \$0\.10 left today"):
            generate(ada, "v2.2", "still too dear", resolution="1080p")
        assert len(fakefal.records) == sent
    assert sorted(r.form["prompt"] for r in recorded(tmp_path)) == ["priced", "unpriced"]


def test_the_server_budget_holds_across_people(fakefal: FakeFal, tmp_path: Path) -> None:
    fakefal.script(queue_positions=0, run_time=0.2)
    with running_app({**fakefal.env, "PIKA_BUDGET_SERVER_DAY": "0.50"}, tmp_path) as app:
        ada, bob, cy = (Client(app.url, verbose=False) for _ in range(3))
        assert "Done" in generate(ada, "v2.2", "ada's")
        assert "Done" in generate(bob, "v2.2", "bob's")
        sent = len(fakefal.records)
        with pytest.raises(Exception) as refused:
            generate(cy, "v2.2", "cy's")
        assert ("This job is about $0.20; the server's key has $0.10 left today for everyone "
                "(budget $0.50 a day)") in str(refused.value)
        assert len(fakefal.records) == sent
        assert fakefal.count("submit") == 2
        # Each person's line shows their own spend only.
        assert "today: <b>$0.20</b> on the server's key;" in bob.predict(api_name="/spend")
        assert "today: nothing;" in cy.predict(api_name="/spend")
