"""Runtime configuration from the environment (prefix FLOWDESK_), validated at start."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import (
    BaseModel,
    Field,
    IPvAnyNetwork,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from flowdesk.engines.calendar import CalendarSpec, parse_calendar_spec
from flowdesk.engines.files import DEFAULT_EXTENSIONS, KNOWN_TYPES, FilePolicy
from flowdesk.kernel.errors import DefinitionInvalid
from flowdesk.services.attachment_storage import AttachmentStorage
from flowdesk.services.context import AuthPolicy
from flowdesk.services.webhook_policy import WebhookPolicy
from flowdesk.store.blobs import BlobStore, LocalBlobStore, S3BlobStore
from flowdesk.store.db import sqlite_file

SECRET_FILE_NAME = "flowdesk.secret"
MIN_SECRET_LENGTH = 16


class DatabaseSettings(BaseModel):
    url: str = "sqlite:///./flowdesk.db"
    sqlite_synchronous: Literal["NORMAL", "FULL"] = "NORMAL"
    pool_size: int = Field(default=10, ge=1, le=200)
    echo: bool = False


class AuthSettings(BaseModel):
    """Sessions and login throttling; ADR 0011 explains each limit."""

    session_hours: int = Field(default=12, ge=1, le=24 * 30)
    login_max_failures: int = Field(default=5, ge=1, le=100)
    login_lock_seconds: int = Field(default=300, ge=1, le=86400)
    login_client_max_failures: int = Field(default=50, ge=1, le=100_000)
    login_user_max_failures: int = Field(default=30, ge=1, le=100_000)
    login_user_window_seconds: int = Field(default=3600, ge=1, le=7 * 86400)
    login_known_client_days: int = Field(default=30, ge=0, le=366)
    # Off by default: X-Forwarded-For is believed only from these peers (CIDR list).
    trusted_proxies: list[IPvAnyNetwork] = []
    hash_workers: int = Field(default=2, ge=1, le=64)
    hash_queue: int = Field(default=8, ge=0, le=10_000)
    secure_cookies: bool = False

    def policy(self) -> AuthPolicy:
        return AuthPolicy(
            session_hours=self.session_hours,
            login_max_failures=self.login_max_failures,
            login_lock_seconds=self.login_lock_seconds,
            login_client_max_failures=self.login_client_max_failures,
            login_user_max_failures=self.login_user_max_failures,
            login_user_window_seconds=self.login_user_window_seconds,
            login_known_client_days=self.login_known_client_days,
            trusted_proxies=tuple(self.trusted_proxies),
            hash_workers=self.hash_workers,
            hash_queue=self.hash_queue,
        )


class AuditSettings(BaseModel):
    # sm3: GB/T 32905, for deployments held to the Chinese national standards (国密).
    # Chosen when the audit chain starts; a chain keeps it.
    hash_algorithm: Literal["sha256", "sm3"] = "sha256"


class CalendarSettings(BaseModel):
    """The business calendar's zone, usual working hours and holiday source; the days
    and years administrators enter live in the database (`flowdesk calendar`)."""

    timezone: str = "Asia/Shanghai"
    # FLOWDESK_CALENDAR__HOURS='["09:00-12:00","13:30-17:30"]': local times, in order.
    hours: list[str] = ["09:00-12:00", "13:30-17:30"]
    # cn: Chinese public holidays and make-up days (chinese-calendar); none: Mon-Fri.
    holidays: Literal["cn", "none"] = "cn"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        _calendar_spec({"timezone": value})
        return value

    @field_validator("hours")
    @classmethod
    def _valid_hours(cls, value: list[str]) -> list[str]:
        _calendar_spec({"hours": value})
        return value

    def spec(self) -> CalendarSpec:
        return _calendar_spec(
            {"timezone": self.timezone, "hours": self.hours, "holidays": self.holidays}
        )


def _calendar_spec(data: dict[str, object]) -> CalendarSpec:
    try:
        return parse_calendar_spec(data)
    except DefinitionInvalid as invalid:
        raise ValueError(
            "; ".join(f"{error.path}: {error.message}" for error in invalid.errors)
        ) from None


class TicketSettings(BaseModel):
    # 催办: minutes after an urge before the ticket may be urged again (objectstack: 4 h).
    urge_interval_minutes: int = Field(default=240, ge=1, le=7 * 24 * 60)
    # 加签: how deep add-signs nest (1: an added signer cannot add signers in turn).
    add_sign_depth: int = Field(default=1, ge=1, le=5)


class WebhookSettings(BaseModel):
    """Service tasks' webhooks (ADR 0024). Definitions name secrets; values live here."""

    # FLOWDESK_WEBHOOKS__SECRETS='{"core_hook": "…"}': a secret signs the body it is named for.
    secrets: dict[str, SecretStr] = {}
    # Networks webhooks may reach besides the public internet (CIDR list), such as an
    # internal integration gateway; loopback, private and link-local are refused otherwise.
    allow_networks: list[IPvAnyNetwork] = []
    timeout_seconds: float = Field(default=10.0, gt=0, le=30)
    max_response_bytes: int = Field(default=65_536, ge=1024, le=10_000_000)

    def policy(self) -> WebhookPolicy:
        return WebhookPolicy(
            secrets={name: value.get_secret_value() for name, value in self.secrets.items()},
            allow_networks=tuple(self.allow_networks),
            timeout_seconds=self.timeout_seconds,
            max_response_bytes=self.max_response_bytes,
        )


class AttachmentSettings(BaseModel):
    """Where attachments are stored and what they may be (ADR 0028)."""

    # local: files in `local_path`; s3: objects in an S3-compatible bucket.
    backend: Literal["local", "s3"] = "local"
    # Empty: an `attachments` folder beside the SQLite database, else in `data_dir`.
    local_path: Path | None = None
    max_bytes: int = Field(default=20 * 1024 * 1024, ge=1024, le=2 * 1024 * 1024 * 1024)
    # FLOWDESK_ATTACHMENTS__EXTENSIONS='["pdf","jpg","xlsx"]'; doc and xls are known but off.
    extensions: list[str] = sorted(DEFAULT_EXTENSIONS)
    archive_max_entries: int = Field(default=2000, ge=1)
    archive_max_uncompressed_bytes: int = Field(default=200 * 1024 * 1024, ge=1024)
    archive_max_ratio: int = Field(default=100, ge=2)
    unlinked_hours: int = Field(default=24, ge=1, le=24 * 30)
    s3_bucket: str = ""
    s3_prefix: str = "attachments"
    s3_endpoint_url: str | None = None  # MinIO, Ceph RGW …; empty: the provider's default
    s3_region: str | None = None
    s3_access_key_id: str | None = None
    s3_secret_access_key: SecretStr | None = None

    @field_validator("extensions")
    @classmethod
    def _known_extensions(cls, value: list[str]) -> list[str]:
        cleaned = [ext.lower().lstrip(".") for ext in value]
        unknown = sorted(set(cleaned) - set(KNOWN_TYPES))
        if unknown:
            raise ValueError(
                f"unknown extensions {unknown}; known: {', '.join(sorted(KNOWN_TYPES))}"
            )
        return cleaned

    @model_validator(mode="after")
    def _s3_needs_a_bucket(self) -> AttachmentSettings:
        if self.backend == "s3" and not self.s3_bucket:
            raise ValueError("FLOWDESK_ATTACHMENTS__S3_BUCKET is required with backend s3")
        return self

    def storage(self, default_root: Path) -> AttachmentStorage:
        blobs: BlobStore
        if self.backend == "s3":
            secret = self.s3_secret_access_key
            blobs = S3BlobStore(
                bucket=self.s3_bucket,
                prefix=self.s3_prefix,
                endpoint_url=self.s3_endpoint_url,
                region=self.s3_region,
                access_key_id=self.s3_access_key_id,
                secret_access_key=secret.get_secret_value() if secret else None,
            )
        else:
            blobs = LocalBlobStore(self.local_path or default_root)
        policy = FilePolicy(
            max_bytes=self.max_bytes,
            extensions=frozenset(self.extensions),
            archive_max_entries=self.archive_max_entries,
            archive_max_uncompressed=self.archive_max_uncompressed_bytes,
            archive_max_ratio=self.archive_max_ratio,
        )
        return AttachmentStorage(blobs, policy, timedelta(hours=self.unlinked_hours))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="FLOWDESK_", env_nested_delimiter="__", extra="ignore"
    )

    # Development mode: `serve` may create a local secret key file when there is none.
    dev: bool = False
    # Empty: read from `secret_key_file` (default: flowdesk.secret beside the database).
    # Only `serve` needs a key; commands that only read or migrate the database do not.
    secret_key: SecretStr = SecretStr("")
    secret_key_file: Path | None = None
    database_url: str | None = None
    db: DatabaseSettings = DatabaseSettings()
    auth: AuthSettings = AuthSettings()
    audit: AuditSettings = AuditSettings()
    calendar: CalendarSettings = CalendarSettings()
    tickets: TicketSettings = TicketSettings()
    webhooks: WebhookSettings = WebhookSettings()
    attachments: AttachmentSettings = AttachmentSettings()
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    run_worker: bool = True
    # Requests one server process works on at once (the rest wait their turn). More
    # threads than this only take turns for Python's GIL, and throughput falls: scale
    # with `serve --workers N` instead (bench/RESULTS.md). Logins have threads of their own.
    request_threads: int = Field(default=2, ge=1, le=256)
    max_body_bytes: int = Field(default=1_000_000, ge=1024)
    # When set, GET /metrics asks for `Authorization: Bearer <metrics_token>`.
    metrics_token: SecretStr | None = None
    data_dir: Path = Path()

    @model_validator(mode="after")
    def _refuse_a_short_secret(self) -> Settings:
        if 0 < len(self.secret_key.get_secret_value()) < MIN_SECRET_LENGTH:
            raise ValueError(f"FLOWDESK_SECRET_KEY must be at least {MIN_SECRET_LENGTH} characters")
        return self

    def secret_key_path(self) -> Path:
        """FLOWDESK_SECRET_KEY_FILE, else flowdesk.secret beside an SQLite database file,
        else in `data_dir` (PostgreSQL)."""
        if self.secret_key_file is not None:
            return self.secret_key_file
        database_file = sqlite_file(self.effective_database_url)
        if database_file is not None:
            return Path(database_file).parent / SECRET_FILE_NAME
        return self.data_dir / SECRET_FILE_NAME

    def load_secret_key(self, *, create: bool) -> str:
        """The secret key: FLOWDESK_SECRET_KEY, else the key file; with `create` (serve
        --dev) a missing file is made, readable by its owner only. ValueError says how
        to configure one."""
        configured = self.secret_key.get_secret_value()
        if configured:
            return configured
        path = self.secret_key_path()
        if not path.exists() and create:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w", encoding="ascii") as out:
                out.write(secrets.token_urlsafe(48) + "\n")
        if not path.exists():
            raise ValueError(
                f"no secret key: set FLOWDESK_SECRET_KEY to a long random value, or "
                f"FLOWDESK_SECRET_KEY_FILE to a file holding one (mode 600); none is in "
                f"{path}. On a development machine `flowdesk serve --dev` creates it."
            )
        if path.stat().st_mode & 0o077:
            raise ValueError(f"{path} is readable by others: chmod 600 {path}")
        key = path.read_text(encoding="utf-8").strip()
        if len(key) < MIN_SECRET_LENGTH:
            raise ValueError(
                f"the secret key in {path} must be at least {MIN_SECRET_LENGTH} characters"
            )
        return key

    def attachment_storage(self) -> AttachmentStorage:
        """The attachments' store: `attachments.local_path`, else an `attachments` folder
        beside an SQLite database file, else in `data_dir` (PostgreSQL)."""
        database_file = sqlite_file(self.effective_database_url)
        if database_file is not None:
            root = Path(database_file).parent / "attachments"
        else:
            root = self.data_dir / "attachments"
        return self.attachments.storage(root)

    @property
    def effective_database_url(self) -> str:
        """FLOWDESK_DATABASE_URL wins over FLOWDESK_DB__URL: it is the documented switch."""
        return self.database_url or self.db.url
