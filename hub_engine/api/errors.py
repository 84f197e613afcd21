"""Every error the API returns: a 4xx with a machine-readable body, never a stack trace.

``{"error": {"status": 404, "code": "not_found", "message": "no charge point 'CP9'",
"detail": {}}}``. Validation errors (``422``) carry the failing fields in ``detail``.
"""

from __future__ import annotations

import logging
from typing import Any, TypeVar

from apiflask import APIFlask, HTTPError
from flask import request
from werkzeug.exceptions import HTTPException

from hub_engine.errors import CommandError
from hub_engine.i18n import Text, language_of, message_of, say
from hub_engine.jsonlimits import TooDeepError, loads_bounded

T = TypeVar("T")

__all__ = ["ERROR_SCHEMA", "ApiError", "install_error_handlers", "needed", "said"]

log = logging.getLogger(__name__)
_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
          405: "method_not_allowed", 409: "conflict", 413: "too_large",
          415: "unsupported_media_type", 422: "validation_error", 429: "too_many_requests",
          500: "internal", 503: "unavailable"}


ERROR_SCHEMA = {"type": "object", "required": ["error"], "properties": {"error": {
    "type": "object", "required": ["status", "code", "message", "detail"],
    "properties": {"status": {"type": "integer"}, "code": {"type": "string"},
                   "message": {"type": "string"}, "detail": {"type": "object"}}}}}


def said(message: str) -> str:
    """``message`` in the caller's language (``Accept-Language``; the UI sends its own) where
    it is a translatable :class:`~hub_engine.i18n.Text`; English by default."""
    return say(message, language_of(request.headers.get("Accept-Language")))


class ApiError(HTTPError):
    def __init__(self, status: int, message: str, code: str | None = None,
                 detail: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(status, message, detail=detail or {}, headers=headers,
                         extra_data={"code": code or _CODES.get(status, "error")})


def install_error_handlers(app: APIFlask) -> None:
    @app.error_processor
    def as_json(error: HTTPError) -> tuple[dict[str, Any], int, Any]:
        code = error.extra_data.get("code") or _CODES.get(error.status_code, "error")
        body = {"error": {"status": error.status_code, "code": code,
                          "message": said(error.message or ""), "detail": error.detail or {}}}
        return body, error.status_code, error.headers

    @app.before_request
    def not_too_deep() -> Any:
        """The body parsers (Flask's, webargs') recurse and raise RecursionError on a few
        thousand brackets: a deep body is refused here first, with its reason."""
        if request.is_json:
            try:  # deep enough for a configuration tree of 30 nested boards
                loads_bounded(request.get_data(cache=True), limit=64)
            except TooDeepError as exc:
                return as_json(ApiError(400, str(exc)))
            except ValueError:
                pass  # malformed: the route's own parser answers it
        return None

    @app.errorhandler(CommandError)
    def refused(exc: CommandError) -> Any:
        return as_json(ApiError(400, message_of(exc), "refused"))

    @app.errorhandler(HTTPException)
    def http(exc: HTTPException) -> Any:
        status = exc.code or 500
        headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
        return as_json(ApiError(status, exc.description or "", _CODES.get(status),
                                headers=headers or None))

    @app.errorhandler(Exception)
    def crash(exc: Exception) -> Any:  # a bug of ours: logged, answered without details
        log.exception("API request failed")
        return as_json(ApiError(500, Text("internal error (logged by the hub)")))


def needed(service: T | None, why: Text) -> T:
    """``service`` from the API context, or 503 with ``why`` when this engine has none."""
    if service is None:
        raise ApiError(503, why)
    return service
