"""What can go wrong talking to Claude, each in one sentence a person can act on."""

from __future__ import annotations

from studio.core.errors import InvalidStateError, LimitReachedError, PermissionDeniedError


class AssistantError(LimitReachedError):
    """Claude could not answer now; the chat and the space are as they were."""


class NoKeyError(PermissionDeniedError):
    def __init__(self) -> None:
        super().__init__(
            "the assistant needs an Anthropic API key: run `studio keys set anthropic` "
            "(or set ANTHROPIC_API_KEY)"
        )


class BadKeyError(PermissionDeniedError):
    pass


class AssistantBusyError(AssistantError):
    pass


class RateLimitedError(AssistantError):
    def __init__(self, message: str, retry_after_s: float | None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class OfflineError(AssistantError):
    pass


class AssistantRequestError(InvalidStateError):
    """Claude refused the request itself (a bug on our side, or an input it can't take)."""
