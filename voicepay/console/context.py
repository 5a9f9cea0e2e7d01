"""The console's services, built once per application start and shared by the routes."""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis
from starlette.requests import Request
from starlette.templating import Jinja2Templates

from voicepay.console.audit import AuditLog
from voicepay.console.claims import TransferActions
from voicepay.console.config import ConsoleConfig, password_hasher
from voicepay.console.feedback import FeedbackStore
from voicepay.console.rendering import make_templates
from voicepay.console.sessions import LoginLimiter, SessionStore
from voicepay.console.transfers import TransferReader
from voicepay.console.users import UserStore


@dataclass(frozen=True, slots=True)
class ConsoleContext:
    """Everything a request handler needs."""

    config: ConsoleConfig
    redis: Redis
    users: UserStore
    sessions: SessionStore
    limiter: LoginLimiter
    audit: AuditLog
    transfers: TransferReader
    actions: TransferActions
    feedback: FeedbackStore
    templates: Jinja2Templates

    @classmethod
    def build(cls, config: ConsoleConfig, redis: Redis, secret: bytes) -> ConsoleContext:
        """Wire the stores on one Redis client."""
        actions = TransferActions(redis)
        return cls(
            config=config,
            redis=redis,
            users=UserStore(redis, password_hasher(config)),
            sessions=SessionStore(
                redis, secret, idle_s=config.session_idle_s, max_s=config.session_max_s
            ),
            limiter=LoginLimiter(
                redis, max_failures=config.login_max_failures, window_s=config.login_window_s
            ),
            audit=AuditLog(redis),
            transfers=TransferReader(redis),
            actions=actions,
            feedback=FeedbackStore(redis, actions),
            templates=make_templates(),
        )


def context_of(request: Request) -> ConsoleContext:
    """The context of the application serving ``request``."""
    context: ConsoleContext = request.app.state.console
    return context
