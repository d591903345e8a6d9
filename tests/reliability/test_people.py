"""One person cannot hold the server: jobs in flight are bounded per person, in the job
manager, whatever their pages do; another person still gets through."""

from __future__ import annotations

from pathlib import Path

from tests.apprunner import running_app
from tests.fakefal import FakeFal
from tests.rawqueue import RawPage
from tests.records import recorded
from tests.waiting import wait_for

VISITOR, OTHER = "203.0.113.5", "198.51.100.7"
QUICK = "fal-ai/pika/v2.5/text-to-video"


def test_one_visitor_hanging_up_in_a_loop_gets_the_limit_and_no_more(
        fakefal: FakeFal, tmp_path: Path) -> None:
    fakefal.script(queue_positions=0, run_time=8.0)
    fakefal.script(QUICK, queue_positions=0, run_time=0.3)
    env = {**fakefal.env, "PIKA_MAX_JOBS_PER_PERSON": "3", "PIKA_MAX_QUEUED_PER_PERSON": "2",
           "PIKA_TRUSTED_PROXIES": "127.0.0.1"}
    with running_app(env, tmp_path) as app:
        # One browser session, then a fresh session each time from the same address: the
        # session is one bound, the address behind the (trusted) proxy the other.
        same = RawPage(app.url, headers={"X-Forwarded-For": VISITOR})
        refusals = [same.hang_up_once_started("text_to_video", version="v2.2",
                                              prompt=f"same session {i}") for i in range(5)]
        for i in range(5):
            # The first hop is the visitor's to write: only the one our proxy added counts.
            fresh = RawPage(app.url, headers={"X-Forwarded-For": f"10.0.0.{i}, {VISITOR}"})
            refusals.append(fresh.hang_up_once_started("text_to_video", version="v2.2",
                                                       prompt=f"new session {i}"))
            fresh.close()
        refused = [text for text in refusals if text]
        assert len(refused) == 5  # 3 running, 2 waiting their turn, the rest refused
        assert all("You have 3 jobs running and 2 waiting" in text for text in refused), refused
        wait_for(lambda: fakefal.count("submit") == 3, what="the visitor's three submits")

        other = RawPage(app.url, headers={"X-Forwarded-For": OTHER})
        ok, outputs = other.call("text_to_video", version="v2.5", prompt="someone else")
        assert ok and "Done" in outputs[1], outputs
        assert fakefal.count("submit") == 4  # the visitor's waiting jobs still wait

        # As the visitor's jobs end, the two waiting take their turn, and nothing more.
        wait_for(lambda: sum(r.status == "done" for r in recorded(tmp_path)) == 6,
                 timeout=40, what="every job to land")
        assert fakefal.count("submit") == 6
