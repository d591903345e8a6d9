"""Configuration from the environment, read once at start-up."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

# Where a Hugging Face Space mounts its persistent storage, when the Space has it; anywhere
# else in a Space is lost at each restart, the history with it.
SPACES_PERSISTENT_DIR = Path("/data")


def _server_key(env: dict[str, str]) -> str | None:
    if env.get("FAL_KEY", "").strip():
        return env["FAL_KEY"].strip()
    if env.get("FAL_KEY_ID") and env.get("FAL_KEY_SECRET"):
        return f"{env['FAL_KEY_ID']}:{env['FAL_KEY_SECRET']}"
    return None


def _data_dir(env: dict[str, str], persistent_dir: Path) -> Path:
    if env.get("PIKA_DATA_DIR"):
        return Path(env["PIKA_DATA_DIR"])
    if _on_spaces(env) and persistent_dir.is_dir() and os.access(persistent_dir, os.W_OK):
        return persistent_dir
    return Path("data")


def _on_spaces(env: dict[str, str]) -> bool:
    return env.get("SYSTEM") == "spaces"  # set by Hugging Face on every Space


def _flag(value: str) -> bool:
    return value.strip().lower() in ("1", "true", "yes")


def _auth(value: str) -> list[tuple[str, str]]:
    pairs = []
    for item in value.split(","):
        user, sep, password = item.strip().partition(":")
        if sep and user and password:
            pairs.append((user, password))
    return pairs


def _usd(env: dict[str, str], name: str) -> float | None:
    return float(env[name]) if env.get(name, "").strip() else None


def _seconds_pair(value: str) -> tuple[int, int]:
    every, _, age = value.partition(",")
    return int(every), int(age or every)


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("data")
    # repr=False: settings get logged and printed; the key must not come along.
    server_key: str | None = field(default=None, repr=False)
    require_own_key: bool = False  # a public Space should not spend its owner's money
    auth: list[tuple[str, str]] = field(default_factory=list, repr=False)
    max_queue: int = 256
    # Jobs mostly wait on fal, so by default nobody waits on anybody: no limit.
    concurrency: int | None = None
    # Per kind, checked by the job manager before any work; Gradio's upload route holds
    # every file to the larger of the two, before anything else sees it.
    max_image_mb: int = 20  # a phone photo is 3-12 MB; we send fal at most 2 MB anyway
    max_video_mb: int = 100
    # Gradio's upload cache: every hour, uploads older than 6 hours go. A job copies what it
    # needs into the data directory when it starts, so only a page left open for 6 hours
    # between its upload and Generate loses its file, and hears "upload it again".
    delete_cache: tuple[int, int] = (3600, 6 * 3600)
    max_jobs: int = 64  # jobs in flight server-wide, from start until they end at fal
    max_jobs_per_person: int = 3
    max_queued_per_person: int = 2  # more than that many running wait their turn, this many
    # X-Forwarded-For is believed only from these (a Space's or a team's own proxy).
    trusted_proxies: str = ""
    keep_days: float = 30  # a finished job's files are removed after this; 0 keeps them
    max_data_gb: float | None = None  # the oldest finished jobs' files go first to stay under
    # USD a day on the server's key (UTC days), per person and for everyone; None: no budget.
    budget_per_person_day: float | None = None
    budget_server_day: float | None = None
    # Logged-in people see each other's jobs (a team's own server); off, everyone sees theirs.
    team_history: bool = False
    # PostgreSQL shared by several replicas (postgresql://...); None: SQLite in data_dir.
    # repr=False: the URL may hold the database's password.
    database_url: str | None = field(default=None, repr=False)
    lease_seconds: float = 30.0  # a dead replica's jobs are followed again after this
    # Hugging Face login: a Space with `hf_oauth: true` gets these from Hugging Face.
    hf_login: bool = False
    # fal's Platform API: schemas, new endpoints and prices every so many hours (0: never,
    # the built-in catalog only). Asked only with a fal key: the offline demo stays offline.
    catalog_refresh_hours: float = 24
    fal_api_url: str = "https://api.fal.ai/v1"
    # An ADMIN-scope fal key: fal's own usage figures beside our estimate in the spend view.
    admin_key: str | None = field(default=None, repr=False)
    # Gradio's MCP server, with one tool per mode (ui/mcp_tools.py): `--mcp` or PIKA_MCP=1.
    mcp: bool = False

    @property
    def max_upload_mb(self) -> int:
        return max(self.max_image_mb, self.max_video_mb)
    # On a Space whose data is not on its persistent storage: gone at the next restart.
    data_lost_on_restart: bool = False

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, *,
                 persistent_dir: Path = SPACES_PERSISTENT_DIR) -> Settings:
        env = dict(os.environ if env is None else env)
        data_dir = _data_dir(env, persistent_dir)
        return cls(
            data_dir=data_dir,
            data_lost_on_restart=_on_spaces(env) and not (
                persistent_dir.is_dir()
                and data_dir.resolve().is_relative_to(persistent_dir.resolve())),
            server_key=_server_key(env),
            require_own_key=_flag(env.get("PIKA_REQUIRE_OWN_KEY", "")),
            auth=_auth(env.get("PIKA_AUTH", "")),
            max_queue=int(env.get("PIKA_MAX_QUEUE", "256")),
            concurrency=int(env["PIKA_CONCURRENCY"]) if env.get("PIKA_CONCURRENCY") else None,
            max_image_mb=int(env.get("PIKA_MAX_IMAGE_MB", "20")),
            max_video_mb=int(env.get("PIKA_MAX_VIDEO_MB", "100")),
            delete_cache=_seconds_pair(env.get("PIKA_DELETE_CACHE", "3600,21600")),
            max_jobs=int(env.get("PIKA_MAX_JOBS", "64")),
            max_jobs_per_person=int(env.get("PIKA_MAX_JOBS_PER_PERSON", "3")),
            max_queued_per_person=int(env.get("PIKA_MAX_QUEUED_PER_PERSON", "2")),
            trusted_proxies=env.get("PIKA_TRUSTED_PROXIES", ""),
            keep_days=float(env.get("PIKA_KEEP_DAYS") or "30"),
            max_data_gb=float(env["PIKA_MAX_DATA_GB"]) if env.get("PIKA_MAX_DATA_GB") else None,
            budget_per_person_day=_usd(env, "PIKA_BUDGET_PER_PERSON_DAY"),
            budget_server_day=_usd(env, "PIKA_BUDGET_SERVER_DAY"),
            team_history=_flag(env.get("PIKA_TEAM_HISTORY", "")),
            database_url=env.get("PIKA_DATABASE_URL", "").strip() or None,
            lease_seconds=float(env.get("PIKA_LEASE_SECONDS") or "30"),
            hf_login=_on_spaces(env) and bool(env.get("OAUTH_CLIENT_ID")),
            catalog_refresh_hours=float(env.get("PIKA_CATALOG_REFRESH_HOURS") or "24"),
            fal_api_url=env.get("PIKA_FAL_API_URL") or "https://api.fal.ai/v1",
            admin_key=env.get("PIKA_FAL_ADMIN_KEY", "").strip() or None,
            mcp=_flag(env.get("PIKA_MCP", "")),
        )

    def describe(self) -> str:
        """One line for the start-up log: whose key pays, where the data lives. Never the key."""
        if not self.server_key:
            mode = ("offline demo (no FAL_KEY): local previews, not Pika, until a fal key is "
                    "pasted in the page")
        elif self.require_own_key:
            mode = ("own keys only (PIKA_REQUIRE_OWN_KEY): visitors paste their fal key; the "
                    "server's key serves logged-in people only")
        else:
            mode = "fal with the server's key"
        where = f"data in {self.data_dir.resolve()}"
        if self.database_url:
            from playground.database import redacted

            where += f", history in PostgreSQL at {redacted(self.database_url)}"
        if self.data_lost_on_restart:
            where += " (not the Space's persistent storage: lost when the Space restarts)"
        return f"Mode: {mode}; {where}"
