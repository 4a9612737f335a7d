"""Settings from the environment: one typed object, refusing unsafe secrets outside development."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# A secret that works out of the box is a convenience for a laptop and a hole in production:
# it is accepted only when PANJEREH_ENV is development or test.
DEVELOPMENT_SECRET = "panjereh-development-secret-do-not-use-in-production"  # noqa: S105


class Settings(BaseSettings):
    """Everything Panjereh reads from its environment (prefix ``PANJEREH_``)."""

    model_config = SettingsConfigDict(env_prefix="PANJEREH_", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    database_url: str = "sqlite:///./var/panjereh.db"
    secret_key: str = DEVELOPMENT_SECRET
    token_ttl_minutes: int = Field(default=15, ge=1, le=24 * 60)
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    timezone: str = "Asia/Tehran"
    sql_echo: bool = False
    password_hash_profile: Literal["default", "cheapest"] = "default"  # noqa: S105
    smtp_host: str | None = None
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_sender: str = "panjereh@localhost"
    # none: plain SMTP (a relay on this host or network); starttls: upgrade the connection
    # (submission, port 587); tls: TLS from the first byte (port 465). The server's
    # certificate is verified against the system's CAs, or smtp_ca_file's.
    smtp_security: Literal["none", "starttls", "tls"] = "none"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_ca_file: Path | None = None
    channel_timeout_seconds: float = Field(default=10.0, gt=0)
    worker_poll_seconds: float = Field(default=0.5, gt=0, le=60)
    worker_batch: int = Field(default=200, ge=1, le=10_000)
    job_lease_seconds: float = Field(default=60.0, gt=0)
    # How long a stored answer to an Idempotency-Key (or an agency's message id) is kept.
    idempotency_hours: int = Field(default=72, ge=1, le=24 * 366)
    # How long an agency's old signing secret keeps working after a rotation (0: not at all).
    secret_overlap_hours: int = Field(default=24, ge=0, le=24 * 30)
    # How long refused machine requests stay in the security log.
    security_log_days: int = Field(default=365, ge=1, le=3660)
    # Failed sign-ins in a row under one username before it is locked, and the first lock.
    sign_in_attempts: int = Field(default=5, ge=1, le=100)
    sign_in_lock_minutes: int = Field(default=15, ge=1, le=24 * 60)
    # How many pushes to agencies' systems one worker keeps in flight at once.
    push_concurrency: int = Field(default=32, ge=1, le=256)

    @model_validator(mode="after")
    def _refuse_clear_text_smtp_password(self) -> Settings:
        if (self.smtp_username is None) != (self.smtp_password is None):
            raise ValueError("PANJEREH_SMTP_USERNAME and PANJEREH_SMTP_PASSWORD go together")
        if self.smtp_username is not None and self.smtp_security == "none":
            raise ValueError(
                "an SMTP password is sent only over TLS: set PANJEREH_SMTP_SECURITY to "
                "starttls or tls"
            )
        return self

    @model_validator(mode="after")
    def _refuse_unsafe_secret(self) -> Settings:
        if self.password_hash_profile == "cheapest" and self.env != "test":  # noqa: S105
            raise ValueError("PANJEREH_PASSWORD_HASH_PROFILE=cheapest is for the test suite only")
        if self.env in ("development", "test"):
            return self
        if self.secret_key == DEVELOPMENT_SECRET:
            raise ValueError(
                "PANJEREH_SECRET_KEY still has the development default; "
                "set a random secret of at least 32 characters outside development"
            )
        if len(self.secret_key) < 32:
            raise ValueError("PANJEREH_SECRET_KEY must be at least 32 characters long")
        return self


@lru_cache
def get_settings() -> Settings:
    """The process's settings, read once from the environment."""
    return Settings()
