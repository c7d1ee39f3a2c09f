"""Kafka Connect's REST API over a :class:`~tidal.connectors.runtime.Herder`, in FastAPI.

Paths, payloads, status codes and error bodies are Kafka Connect's, so ``curl`` recipes and
tools written for it work unchanged. Errors answer ``{"error_code": <status>, "message":
...}``: 404 for an unknown connector (``Connector x not found``), 409 for a duplicate, 400
for an invalid configuration (listing every problem) or request body, 500 otherwise.

=========================================================  ======  ========================
request                                                     status  body
=========================================================  ======  ========================
``GET /``                                                   200     version, commit, cluster
``GET /connector-plugins[?connectorsOnly=false]``           200     plugins
``GET /connector-plugins/{plugin}/config``                  200     config definitions
``PUT /connector-plugins/{plugin}/config/validate``         200     ``ConfigInfos``
``GET /connectors[?expand=status&expand=info]``             200     names (or expansions)
``POST /connectors``                                        201     ``ConnectorInfo``
``GET|DELETE /connectors/{name}``                           200/204 ``ConnectorInfo``
``GET|PUT|PATCH /connectors/{name}/config``                 200/201 config / info
``GET /connectors/{name}/status``                           200     ``ConnectorStateInfo``
``GET /connectors/{name}/tasks``                            200     ``TaskInfo`` list
``GET /connectors/{name}/tasks/{id}/status``                200     ``TaskState``
``POST /connectors/{name}/tasks/{id}/restart``              204
``PUT /connectors/{name}/pause`` / ``resume``               202
``PUT /connectors/{name}/stop``                             204
``POST /connectors/{name}/restart[?includeTasks&onlyFailed]`` 200/202 (202: states)
``GET|PATCH|DELETE /connectors/{name}/offsets``             200     offsets / message
``GET /connectors/{name}/topics``, ``PUT .../topics/reset`` 200/202
``GET /health``, ``GET /metrics``                           200     health, Prometheus text
=========================================================  ======  ========================
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from tidal.connectors.config import config_infos
from tidal.connectors.runtime import BadRequestError, Herder, HerderError, NotFoundError

from ._connectors import add_connector_routes, error_response, read_json, string_map

__all__ = ["create_app"]

_REASONS = {400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 409: "Conflict"}


def create_app(herder: Herder) -> FastAPI:
    """The REST application of one worker."""
    app = FastAPI(
        title="Tidal Connect", docs_url=None, redoc_url=None, openapi_url=None,
    )  # fmt: skip
    app.state.herder = herder

    @app.exception_handler(HerderError)
    async def _herder_error(request: Request, exc: HerderError) -> JSONResponse:
        return error_response(exc.status, exc.message)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        reason = _REASONS.get(exc.status_code, str(exc.detail))
        return error_response(exc.status_code, f"HTTP {exc.status_code} {reason}")

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        return error_response(400, f"Invalid request: {problems}")

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        return error_response(500, f"{type(exc).__name__}: {exc}")

    @app.get("/")
    async def server_info() -> dict[str, Any]:
        return herder.server_info()

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {
            "status": "healthy",
            "message": "Worker has completed startup and is ready to handle requests.",
        }

    @app.get("/metrics")
    async def metrics() -> Response:
        return Response(herder.metrics.render(), media_type="text/plain; version=0.0.4")

    @app.get("/connector-plugins")
    async def connector_plugins(
        connectors_only: Annotated[bool, Query(alias="connectorsOnly")] = True,
    ) -> Any:
        return herder.plugins.registry.connector_plugins(connectors_only=connectors_only)

    @app.get("/connector-plugins/{plugin}/config")
    async def plugin_config(plugin: str) -> Any:
        try:
            connector = herder.plugins.new_connector(plugin)
        except LookupError as exc:
            raise NotFoundError(str(exc)) from None
        infos = config_infos(plugin, connector.config(), [])
        return [entry["definition"] for entry in infos["configs"]]

    @app.put("/connector-plugins/{plugin}/config/validate")
    async def validate(plugin: str, request: Request) -> Any:
        props = string_map(await read_json(request), "The connector configuration")
        included = props.get("connector.class")
        if included is not None and not _same_plugin(herder, included, plugin):
            raise BadRequestError(
                f"Included connector type {included} does not match request type {plugin}"
            )
        props["connector.class"] = included or plugin
        return herder.validate(props)

    add_connector_routes(app, herder)
    return app


def _same_plugin(herder: Herder, included: str, plugin: str) -> bool:
    try:
        return herder.plugins.connector_class(included) is herder.plugins.connector_class(plugin)
    except LookupError:
        return included.rsplit(".", 1)[-1] == plugin.rsplit(".", 1)[-1]
