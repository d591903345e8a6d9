"""The failures a person sees, worded for them: their input, fal, or a limit of ours."""

from __future__ import annotations


class PlaygroundError(Exception):
    """A failure worded for a person: `message` says what happened and what to do.

    `retryable` says whether trying again can help; `fields` carries the complaints about
    form fields by field name, so the page can show each next to its widget.
    """

    def __init__(self, message: str, *, retryable: bool = False,
                 fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.fields = fields or {}


class InputError(PlaygroundError, ValueError):
    """Bad input, caught before any call to fal. `field` names the form field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}", fields={field: message})
        self.field = field
        self.message = message


# Said of a job whose submit fal may have taken without our learning its request id.
MAYBE_QUEUED = ("It may have been queued at fal (request id unknown): check your fal dashboard "
                "before running it again.")


class FalError(PlaygroundError, RuntimeError):
    """A failure at fal. `fields` are fal's 422 messages; `maybe_queued` says fal may have
    the job although we never learnt its request id; `cancelled`, that fal ended it as
    cancelled while queued (nothing charged)."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retryable: bool = False,
        fields: dict[str, str] | None = None,
        maybe_queued: bool = False,
        cancelled: bool = False,
    ) -> None:
        super().__init__(message, retryable=retryable, fields=fields)
        self.status = status
        self.maybe_queued = maybe_queued
        self.cancelled = cancelled


class LimitReached(PlaygroundError, RuntimeError):
    """A limit on jobs in flight: nothing was recorded or sent. Worded for a person."""


class StorageFull(LimitReached):
    """The data directory is over its budget and nothing in it may go yet."""


class OverBudget(LimitReached):
    """The job would pass a day's budget on the server's key."""


def reason(exc: BaseException) -> str:
    """An unforeseen error in a few words for a person: its kind, and its reason when it has
    one, never its whole text, which names the file it was about (an OSError's, PyAV's):
    a path on this server. The log keeps the whole of it."""
    why = getattr(exc, "strerror", None)
    return f"{type(exc).__name__}: {why}" if isinstance(why, str) and why else type(exc).__name__
