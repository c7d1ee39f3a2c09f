"""The ``/connectors`` routes of the REST API (Kafka's ``ConnectorsResource``), and the
request and error bodies every route shares (JSON in, Kafka's ``ErrorMessage`` out)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import FastAPI, Query, Request
from fastapi.responses import JSONResponse, Response

from tidal.connectors.runtime import BadRequestError, Herder, NotFoundError

__all__ = ["add_connector_routes", "error_response", "read_json", "string_map"]


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


def add_connector_routes(app: FastAPI, herder: Herder) -> None:
    """Register every ``/connectors`` route on ``app``."""

    @app.get("/connectors")
    async def list_connectors(expand: Annotated[list[str] | None, Query()] = None) -> Any:
        if not expand:
            return herder.connectors()
        out: dict[str, dict[str, Any]] = {}
        for name in herder.connectors():
            entry: dict[str, Any] = {}
            try:
                if "status" in expand:
                    entry["status"] = herder.connector_status(name)
                if "info" in expand:
                    entry["info"] = herder.connector_info(name)
            except NotFoundError:
                continue  # deleted while we looked
            out[name] = entry
        return out

    @app.post("/connectors")
    async def create_connector(request: Request) -> JSONResponse:
        body = await read_json(request)
        if not isinstance(body, dict):
            raise BadRequestError("The request body must be a JSON object")
        name = str(body.get("name") or "").strip()
        config = string_map(body.get("config") or {}, "config")
        initial = body.get("initial_state")
        info = await herder.create_connector(
            name, config, initial_state=str(initial) if initial is not None else None
        )
        return JSONResponse(info, status_code=201, headers={"Location": f"/connectors/{name}"})

    @app.get("/connectors/{name}")
    async def connector_info(name: str) -> Any:
        return herder.connector_info(name)

    @app.delete("/connectors/{name}")
    async def delete_connector(name: str) -> Response:
        await herder.delete_connector(name)
        return Response(status_code=204)

    @app.get("/connectors/{name}/config")
    async def get_config(name: str) -> Any:
        return herder.connector_config(name)

    @app.put("/connectors/{name}/config")
    async def put_config(name: str, request: Request) -> JSONResponse:
        config = string_map(await read_json(request), "The connector configuration")
        created, info = await herder.put_connector_config(name, config)
        if created:
            return JSONResponse(info, status_code=201, headers={"Location": f"/connectors/{name}"})
        return JSONResponse(info)

    @app.patch("/connectors/{name}/config")
    async def patch_config(name: str, request: Request) -> JSONResponse:
        patch = await read_json(request)
        if not isinstance(patch, dict):
            raise BadRequestError("The config patch must be a JSON object")
        config = herder.connector_config(name)
        for key, value in patch.items():
            if value is None:
                config.pop(str(key), None)
            else:
                config.update(string_map({key: value}, "The config patch"))
        _, info = await herder.put_connector_config(name, config)
        return JSONResponse(info)

    @app.get("/connectors/{name}/status")
    async def status(name: str) -> Any:
        return herder.connector_status(name)

    @app.get("/connectors/{name}/tasks")
    async def tasks(name: str) -> Any:
        return herder.task_configs(name)

    @app.get("/connectors/{name}/tasks/{task}/status")
    async def task_status(name: str, task: int) -> Any:
        return herder.task_status(name, task)

    @app.post("/connectors/{name}/tasks/{task}/restart")
    async def restart_task(name: str, task: int) -> Response:
        await herder.restart_task(name, task)
        return Response(status_code=204)

    @app.put("/connectors/{name}/pause")
    async def pause(name: str) -> Response:
        await herder.pause_connector(name)
        return Response(status_code=202)

    @app.put("/connectors/{name}/resume")
    async def resume(name: str) -> Response:
        await herder.resume_connector(name)
        return Response(status_code=202)

    @app.put("/connectors/{name}/stop")
    async def stop(name: str) -> Response:
        await herder.stop_connector(name)
        return Response(status_code=204)

    @app.post("/connectors/{name}/restart")
    async def restart(
        name: str,
        include_tasks: Annotated[bool, Query(alias="includeTasks")] = False,
        only_failed: Annotated[bool, Query(alias="onlyFailed")] = False,
    ) -> Response:
        if not include_tasks and not only_failed:
            await herder.restart_connector(name)
            return Response(status_code=200)
        answer = await herder.restart_connector_and_tasks(
            name, only_failed=only_failed, include_tasks=include_tasks
        )
        return JSONResponse(answer, status_code=202)

    @app.get("/connectors/{name}/offsets")
    async def get_offsets(name: str) -> Any:
        return await herder.connector_offsets(name)

    @app.patch("/connectors/{name}/offsets")
    async def alter_offsets(name: str, request: Request) -> Any:
        herder.runner(name)  # 404 before looking at the body
        return await herder.alter_connector_offsets(name, await read_json(request))

    @app.delete("/connectors/{name}/offsets")
    async def reset_offsets(name: str) -> Any:
        return await herder.reset_connector_offsets(name)

    @app.get("/connectors/{name}/topics")
    async def topics(name: str) -> Any:
        return herder.active_topics(name)

    @app.put("/connectors/{name}/topics/reset")
    async def reset_topics(name: str) -> Response:
        herder.reset_active_topics(name)
        return Response(status_code=202)
