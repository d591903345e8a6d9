"""`python -m tests.fakefal`: serve the fake and print what a client needs to reach it."""

from __future__ import annotations

import shlex
import threading

from tests.fakefal import FakeFal


def main() -> None:
    fake = FakeFal().start()
    for name, value in {**fake.env, "FAKEFAL_CONTROL": fake.control_url}.items():
        print(f"export {name}={shlex.quote(value)}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        fake.stop()


if __name__ == "__main__":
    main()
