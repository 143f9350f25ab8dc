"""Turn a failed request into the one-line reason stored in `failures`."""

from __future__ import annotations

from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet import error as tx_error
from twisted.python.failure import Failure

from frwatch.errors import one_line

_REASONS: list[tuple[tuple[type[BaseException], ...], str]] = [
    ((DownloadTimeoutError, tx_error.TimeoutError, tx_error.TCPTimedOutError), "timeout"),
    ((CannotResolveHostError, tx_error.DNSLookupError), "DNS lookup failed"),
    ((DownloadConnectionRefusedError, tx_error.ConnectionRefusedError), "connection refused"),
    ((ResponseDataLossError,), "connection closed before the whole response arrived"),
    ((tx_error.ConnectionLost, tx_error.ConnectionDone), "connection lost"),
]


def describe_failure(failure: Failure) -> tuple[str, int | None]:
    """(reason, HTTP status or None) for a request's errback failure."""
    exc = failure.value
    if isinstance(exc, HttpError):
        status = exc.response.status
        retry_after = exc.response.headers.get(b"Retry-After")
        tail = f" (Retry-After: {retry_after.decode('latin-1')})" if retry_after else ""
        return f"HTTP {status}{tail}", status
    if isinstance(exc, IgnoreRequest):
        message = str(exc) or "request ignored"
        if "robots.txt" in message:
            return "disallowed by robots.txt", None
        if "during decompression" in message:
            return "too large: decompresses beyond the size cap (a gzip bomb?)", None
        if "max redirections" in message:
            return "redirect loop (too many redirects)", None
        return one_line(exc, 300), None
    if isinstance(exc, DownloadCancelledError) or "larger than download max size" in str(exc):
        return f"too large: {one_line(exc, 300)}", None
    for types, reason in _REASONS:
        if isinstance(exc, types):
            return reason, None
    if isinstance(exc, DownloadFailedError):
        # Twisted wraps the cause in a list of failures; name it in words.
        text = str(exc)
        if "ConnectionDone" in text or "ConnectionLost" in text:
            return "connection closed by the server before a full response", None
        if "reset" in text.lower():
            return "connection reset by the server", None
        return f"download failed: {one_line(exc, 300)}", None
    return f"{type(exc).__name__}: {one_line(exc, 300)}", None


