"""Errors that service functions raise; sockets and HTTP turn them into error frames and 4xx."""


class ServiceError(Exception):
    """A refused write: nothing was stored. `code` is the wire error code."""

    code = "invalid"
    status = 400

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class Invalid(ServiceError):
    code = "invalid"
    status = 400


class Forbidden(ServiceError):
    code = "forbidden"
    status = 403


class NotFound(ServiceError):
    code = "not_found"
    status = 404


class Conflict(ServiceError):
    code = "conflict"
    status = 409


class TooLarge(ServiceError):
    code = "too_large"
    status = 413


class RateLimited(ServiceError):
    code = "rate_limited"
    status = 429


class NotSaved(ServiceError):
    """Storing failed for a reason that is not the sender's: keep the item queued and retry."""

    code = "not_saved"
    status = 503
