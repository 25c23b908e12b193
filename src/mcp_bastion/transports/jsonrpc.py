"""JSON-RPC helpers on the SDK's types: parse once, build errors, serialise.

The gateway parses each inbound body exactly once into the SDK's typed
``JSONRPCMessage`` (``mcp_types``); everything downstream reads that object.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from mcp_types import (
    ErrorData,
    JSONRPCError,
    JSONRPCMessage,
    JSONRPCNotification,
    JSONRPCRequest,
    JSONRPCResponse,
    RequestId,
)
from pydantic import TypeAdapter, ValidationError

__all__ = [
    "INTERNAL_ERROR",
    "INVALID_PARAMS",
    "INVALID_REQUEST",
    "METHOD_NOT_FOUND",
    "PARSE_ERROR",
    "MessageParseError",
    "RawCheck",
    "dump_message",
    "error_response",
    "framing_error",
    "message_id",
    "parse_message",
]

PARSE_ERROR: Final = -32700
INVALID_REQUEST: Final = -32600
METHOD_NOT_FOUND: Final = -32601
INVALID_PARAMS: Final = -32602
INTERNAL_ERROR: Final = -32603

_ADAPTER: TypeAdapter[JSONRPCMessage] = TypeAdapter(JSONRPCMessage)


class MessageParseError(ValueError):
    """The body is not one well-formed JSON-RPC 2.0 message; ``code`` is the JSON-RPC code."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def parse_message(data: bytes | str) -> JSONRPCMessage:
    """Parse one JSON-RPC message (batches are rejected by the caller's raw check)."""
    try:
        return _ADAPTER.validate_json(data)
    except ValidationError as exc:
        # Distinguish broken JSON (parse error) from valid JSON of the wrong shape.
        errors = exc.errors()
        if any(err.get("type") == "json_invalid" for err in errors):
            if any("recursion" in str(err.get("msg", "")).lower() for err in errors):
                raise MessageParseError(PARSE_ERROR, "parse error: message nested too deeply") from exc
            raise MessageParseError(PARSE_ERROR, "parse error: body is not valid JSON") from exc
        raise MessageParseError(INVALID_REQUEST, "invalid request: not a JSON-RPC 2.0 message") from exc


RawCheck = Callable[[bytes], "tuple[int, str] | None"]
"""Checks one raw message before parsing; returns (JSON-RPC code, reason) to refuse it."""


def framing_error(body: bytes) -> tuple[int, str] | None:
    """Framing checks before parsing: valid UTF-8, not empty, not a batch (JSON array).

    Returns (JSON-RPC code, message) for a body to refuse, else None.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return PARSE_ERROR, "parse error: message is not valid UTF-8"
    stripped = text.lstrip()
    if not stripped:
        return PARSE_ERROR, "parse error: empty message"
    if stripped.startswith("["):
        return INVALID_REQUEST, "JSON-RPC batches are not accepted"
    return None


def dump_message(message: JSONRPCMessage) -> bytes:
    """Serialise a message the way the SDK does on the wire."""
    return message.model_dump_json(by_alias=True, exclude_unset=True).encode("utf-8")


def message_id(message: JSONRPCMessage) -> RequestId | None:
    """The id of a request/response/error, None for notifications."""
    if isinstance(message, JSONRPCNotification):
        return None
    return message.id


def error_response(
    request_id: RequestId | None, code: int, message: str, data: Any | None = None
) -> JSONRPCError:
    """A JSON-RPC error answering ``request_id``; ``message`` must be safe for the caller."""
    error = (
        ErrorData(code=code, message=message)
        if data is None
        else ErrorData(code=code, message=message, data=data)
    )
    return JSONRPCError(jsonrpc="2.0", id=request_id, error=error)


def is_request(message: JSONRPCMessage) -> bool:
    return isinstance(message, JSONRPCRequest)


def is_response(message: JSONRPCMessage) -> bool:
    return isinstance(message, JSONRPCResponse | JSONRPCError)
