"""htsget's errors (htsget 1.3 "Errors"): a type, its HTTP status, and a JSON body.

Every answer other than a ticket is ``{"htsget": {"error": TYPE, "message": TEXT}}`` with the
status the spec pairs with the type.  Messages say what was wrong with the request; they
never carry a token, a signed URL or a server path.
"""
from __future__ import annotations

import json
from http import HTTPStatus
from typing import Iterable, List, Optional, Sequence, Tuple

# htsget 1.3 "Errors": the defined types and their status codes.
ERROR_STATUS = {
    "InvalidAuthentication": 401,
    "PermissionDenied": 403,
    "NotFound": 404,
    "PayloadTooLarge": 413,
    "UnsupportedFormat": 400,
    "InvalidInput": 400,
    "InvalidRange": 400,
}
# htsget 1.3 "Protocol essentials": the media type of tickets and errors alike.
HTSGET_JSON = "application/vnd.ga4gh.htsget.v1.3.0+json; charset=utf-8"
Headers = List[Tuple[str, str]]
Response = Tuple[str, Headers, Iterable[bytes]]


class HtsgetError(Exception):
    """A refused request: ``error`` is one of :data:`ERROR_STATUS`'s types."""

    def __init__(self, error: str, message: str, headers: Sequence[Tuple[str, str]] = (),
                 status: Optional[int] = None):
        super().__init__(message)
        self.error = error
        self.message = message
        # ``status`` for the few HTTP answers the spec's table has no row for (405, 416).
        self.status = status or ERROR_STATUS[error]
        self.headers = list(headers)


def status_line(status: int) -> str:
    return f"{status} {HTTPStatus(status).phrase}"


def json_response(content: dict, status: int = 200, headers: Sequence[Tuple[str, str]] = (),
                  content_type: str = HTSGET_JSON) -> Response:
    body = json.dumps(content, separators=(",", ":")).encode()
    return (status_line(status), [("Content-Type", content_type), ("Content-Length", str(len(body))), *headers],
            [body])


def error_response(error: HtsgetError) -> Response:
    """The spec's JSON for ``error``; sent as plain ``application/json`` as the spec asks."""
    return json_response({"htsget": {"error": error.error, "message": error.message}}, error.status,
                         error.headers, "application/json")


def invalid_input(message: str) -> HtsgetError:
    return HtsgetError("InvalidInput", message)


def not_found(message: str) -> HtsgetError:
    return HtsgetError("NotFound", message)
