"""Typed errors with codes and a message a person can read."""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    VALIDATION_ERROR = "VALIDATION_ERROR"
    NOT_FOUND = "NOT_FOUND"
    PERMISSION_DENIED = "PERMISSION_DENIED"
    INVALID_STATE = "INVALID_STATE"
    CONFLICT = "CONFLICT"
    STORAGE_ERROR = "STORAGE_ERROR"


class StudioError(Exception):
    """Base of every error a user can cause. ``str(err)`` is the human message."""

    code: ErrorCode = ErrorCode.VALIDATION_ERROR

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def to_json(self) -> dict[str, str]:
        return {"code": self.code.value, "message": self.message}


class ValidationError(StudioError):
    code = ErrorCode.VALIDATION_ERROR


class NotFoundError(StudioError):
    code = ErrorCode.NOT_FOUND


class PermissionDeniedError(StudioError):
    code = ErrorCode.PERMISSION_DENIED


class InvalidStateError(StudioError):
    code = ErrorCode.INVALID_STATE


class ConflictError(StudioError):
    code = ErrorCode.CONFLICT


class LimitReachedError(ConflictError):
    """Not now: a limit (e.g. a provider's concurrent jobs) is reached; try later."""


class StorageError(StudioError):
    code = ErrorCode.STORAGE_ERROR


class NothingToUndoError(InvalidStateError):
    """Undo or redo with an empty history (for that actor)."""


class UndoRaceError(ConflictError):
    """Another process undid or redid the same history entry first."""


class HistoryMovedError(ConflictError):
    """A view asked to undo or redo an entry that is no longer the next one."""
