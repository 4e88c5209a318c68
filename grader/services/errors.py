"""Errors the services raise. Only the web layer turns them into HTTP responses.

    ServiceError                 base class; ``message`` is fit to show a user
    ├── NotFound                 no such thing, or not one the caller may see
    ├── PermissionDenied         the caller is known but may not do this
    ├── AuthenticationFailed     wrong e-mail or password, or a bad/expired token
    ├── LaunchRefused            an LTI launch that does not check out (signature, issuer, nonce, deployment ...)
    ├── InvalidInput             a value is wrong; ``field`` names it when one is to blame
    │   ├── AlreadyExists        a unique value (an e-mail) is taken
    │   ├── TooLarge             an upload is over the size limit; ``limit`` is that size in bytes
    │   └── BadLines             lines of an uploaded file are wrong; ``problems`` names each one
    ├── RateLimited              too soon; ``retry_after`` seconds until allowed
    │   └── StillGrading         the learner's previous upload is still queued or running
    ├── Overloaded               the service is full (the grading queue); ``retry_after`` seconds
    ├── AttemptLimitReached      no quiz attempts left
    └── NotOpen                  an assignment not open yet, or closed to late work

Every service that raises one of these has stored nothing.
"""

from __future__ import annotations


class ServiceError(Exception):
    """Base of every domain error; ``message`` is meant for the person who caused it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(ServiceError):
    """The thing does not exist, or the caller may not know that it does."""


class PermissionDenied(ServiceError):
    """The caller is signed in but may not do this."""


class AuthenticationFailed(ServiceError):
    """Credentials or token did not identify anyone."""


class LaunchRefused(ServiceError):
    """An LTI launch (or its continuation) was refused; ``message`` says why in words a learner can act on."""


class InvalidInput(ServiceError):
    """Input was refused; ``field`` names the form field at fault, if one is."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class AlreadyExists(InvalidInput):
    """A value that must be unique is already taken."""


class TooLarge(InvalidInput):
    """An upload is larger than ``limit`` bytes, the most the service accepts."""

    def __init__(self, message: str, limit: int, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.limit = limit


class BadLines(InvalidInput):
    """Lines of an uploaded file (a CSV of accounts) are wrong; ``problems`` says what, one line each, in order."""

    def __init__(self, message: str, problems: list[str], field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.problems = problems


class RateLimited(ServiceError):
    """Too soon after the previous action; ``retry_after`` is whole seconds to wait."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class StillGrading(RateLimited):
    """The learner already has as many uploads waiting or running as allowed; ``pending_id`` is one."""

    def __init__(self, message: str, retry_after: int, pending_id: int) -> None:
        super().__init__(message, retry_after=retry_after)
        self.pending_id = pending_id


class Overloaded(ServiceError):
    """The service cannot take more work now (the grading queue is full); ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class StorageUnavailable(ServiceError):
    """Nothing can be stored right now (the disk is full, or the database is busy or down); ``retry_after`` seconds.

    full: the disk is full (answered 507), else the database is busy or unreachable (503).
    """

    def __init__(self, message: str, retry_after: int, *, full: bool) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.full = full


class AttemptLimitReached(ServiceError):
    """Every allowed attempt has been used."""


class NotOpen(ServiceError):
    """The assignment does not take work now: it has not opened, or it is past due and takes no late work."""
