"""Request and error bodies of the REST API: JSON in, Kafka's ``ErrorMessage`` out."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from tidal.connectors.runtime import BadRequestError

__all__ = ["error_response", "read_json", "string_map"]


def error_response(status: int, message: str) -> JSONResponse:
    """Kafka Connect's ``ErrorMessage`` body."""
    return JSONResponse({"error_code": status, "message": message}, status_code=status)


async def read_json(request: Request) -> Any:
    """The request body as JSON; BadRequestError when it is not."""
    body = await request.body()
    if not body.strip():
        raise BadRequestError("Request body is empty; a JSON document was expected")
    try:
        return json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadRequestError(f"Request body is not valid JSON: {exc}") from None


def string_map(value: Any, what: str) -> dict[str, str]:
    """A JSON object as a config map (numbers and booleans as Kafka prints them)."""
    if not isinstance(value, dict):
        raise BadRequestError(f"{what} must be a JSON object of strings")
    out: dict[str, str] = {}
    for key, item in value.items():
        if isinstance(item, dict | list):
            raise BadRequestError(f"{what}: the value of '{key}' must be a string")
        out[str(key)] = "" if item is None else _text(item)
    return out


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
