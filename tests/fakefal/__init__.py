"""A fake of fal's cloud on loopback, reached by the unchanged app through env vars only."""

from tests.fakefal.server import FAKE_KEY, FakeFal, Record, Script

__all__ = ["FAKE_KEY", "FakeFal", "Record", "Script"]
