"""Configuration of the agent console, from ``VOICEPAY_CONSOLE__*`` environment variables."""

from __future__ import annotations

import secrets
from typing import Literal

from argon2 import PasswordHasher
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

MIN_SECRET_LENGTH = 32


class ConsoleConfigError(ValueError):
    """The console cannot start safely with this configuration."""


class ConsoleConfig(BaseSettings):
    """How the console signs sessions, times them out and limits log-in attempts.

    ``VOICEPAY_CONSOLE__SECRET_KEY`` keys the session and CSRF tokens. It is required outside the
    ``dev`` environment; in ``dev`` a random one is made per process, so sessions end on restart.
    """

    model_config = SettingsConfigDict(
        env_prefix="VOICEPAY_CONSOLE__", env_file=".env", extra="ignore"
    )

    secret_key: SecretStr | None = None
    secure_cookies: bool = True
    default_queues: list[str] = ["payments"]
    session_idle_s: int = Field(1800, ge=60)
    session_max_s: int = Field(12 * 3600, ge=60)
    login_max_failures: int = Field(5, ge=1)
    login_window_s: int = Field(900, ge=1)
    sse_block_ms: int = Field(1000, ge=50, le=4000)
    password_time_cost: int = Field(3, ge=1, le=20)
    password_memory_kib: int = Field(65536, ge=8192, le=4 * 1024 * 1024)
    metrics_token: SecretStr | None = Field(
        None, description="Bearer token Prometheus sends for /metrics (supervisors need none)."
    )


def password_hasher(config: ConsoleConfig) -> PasswordHasher:
    """Argon2id with the configured cost (default: RFC 9106's second recommendation)."""
    return PasswordHasher(
        time_cost=config.password_time_cost, memory_cost=config.password_memory_kib
    )


def session_secret(config: ConsoleConfig, environment: Literal["dev", "test", "prod"]) -> bytes:
    """The key for session and CSRF tokens.

    Raises:
        ConsoleConfigError: no key (outside ``dev``) or a key shorter than 32 characters.
    """
    if config.secret_key is None:
        if environment != "dev":
            raise ConsoleConfigError(
                "VOICEPAY_CONSOLE__SECRET_KEY must be set outside the dev environment"
            )
        return secrets.token_bytes(MIN_SECRET_LENGTH)
    key = config.secret_key.get_secret_value()
    if len(key) < MIN_SECRET_LENGTH:
        raise ConsoleConfigError(
            f"VOICEPAY_CONSOLE__SECRET_KEY must be at least {MIN_SECRET_LENGTH} characters"
        )
    return key.encode()
