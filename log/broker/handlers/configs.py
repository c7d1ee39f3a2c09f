"""DescribeConfigs, AlterConfigs and IncrementalAlterConfigs.

Resource types as Kafka numbers them: TOPIC 2, BROKER 4, BROKER_LOGGER 8.
Topic configs are dynamic and can be changed; broker settings are static
(``server.properties`` and ``--set``), so they are described but not altered.
A broker resource is named by this node's id; the empty name means the
cluster-wide dynamic defaults, of which there are none here. Broker loggers
are described as an empty list (nothing to report) and are not alterable.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from functools import partial

from tidal.log.broker._context import RequestContext
from tidal.log.broker._describe_configs import ConfigEntry, describe_broker, describe_topic
from tidal.log.broker._topics import INTERNAL_TOPICS, TopicError, TopicInfo
from tidal.log.broker.handlers import handles
from tidal.log.protocol.errors import (
    InvalidConfigError,
    InvalidRequestError,
    InvalidTopicError,
    UnknownTopicOrPartitionError,
)
from tidal.log.protocol.messages import (
    AlterConfigsRequest,
    AlterConfigsResponse,
    DescribeConfigsRequest,
    DescribeConfigsResponse,
    IncrementalAlterConfigsRequest,
    IncrementalAlterConfigsResponse,
)
from tidal.log.protocol.messages import alter_configs as legacy
from tidal.log.protocol.messages import incremental_alter_configs as incremental
from tidal.log.protocol.messages.describe_configs import (
    DescribeConfigsResource,
    DescribeConfigsResourceResult,
    DescribeConfigsResult,
    DescribeConfigsSynonym,
)
from tidal.log.protocol.types import ZERO_UUID
from tidal.log.storage import LogConfig, validate_topic_name

__all__ = [
    "BROKER",
    "BROKER_LOGGER",
    "TOPIC",
    "alter_configs",
    "describe_configs",
    "incremental_alter_configs",
]

_log = logging.getLogger(__name__)

_TOPIC_KEYS = LogConfig.keys()

#: Kafka's ``ConfigResource.Type`` ids.
TOPIC = 2
BROKER = 4
BROKER_LOGGER = 8


def _check_broker_name(ctx: RequestContext, name: str) -> None:
    """Raise unless ``name`` is this node's id (the empty name is allowed)."""
    if name == "":
        return
    try:
        broker_id = int(name)
    except ValueError:
        raise TopicError(
            InvalidRequestError.code, f"Broker id must be an integer, but it is: {name}"
        ) from None
    if broker_id != ctx.broker.node_id:
        raise TopicError(
            InvalidRequestError.code,
            f"Unexpected broker id, expected {ctx.broker.node_id} or empty string, "
            f"but received {name}",
        )


def _existing_topic(ctx: RequestContext, name: str, *, internal: bool = False) -> TopicInfo:
    """The topic ``name``; with ``internal`` also ``__consumer_offsets`` & co."""
    try:
        validate_topic_name(name)
    except ValueError as exc:
        raise TopicError(InvalidTopicError.code, str(exc)) from None
    info = ctx.broker.topics.get(name)
    if info is None and internal:
        info = _internal_topic(ctx, name)
    if info is None:
        raise TopicError(UnknownTopicOrPartitionError.code, f"Topic '{name}' does not exist.")
    return info


def _internal_topic(ctx: RequestContext, name: str) -> TopicInfo | None:
    """An internal topic (not in the registry) as a ``TopicInfo`` whose
    overrides are the settings its logs differ from the broker's defaults in
    (``cleanup.policy=compact``, ...), as Kafka shows them."""
    broker = ctx.broker
    count = broker.internal_topics().get(name)
    log = next((log for (topic, _), log in broker.logs.logs().items() if topic == name), None)
    if count is None or log is None:
        return None
    defaults = broker.config.topic_defaults.to_properties()
    overrides = {k: v for k, v in log.config.to_properties().items() if defaults.get(k) != v}
    return TopicInfo(name, ZERO_UUID, count, overrides)


# ---- DescribeConfigs ------------------------------------------------------------------


def _entries(ctx: RequestContext, resource: DescribeConfigsResource) -> list[ConfigEntry]:
    # Kafka treats an empty key list like a null one: every config.
    keys = resource.configuration_keys or None
    kind, name = resource.resource_type, resource.resource_name
    if kind == TOPIC:
        return describe_topic(_existing_topic(ctx, name, internal=True), ctx.broker.config, keys)
    if kind == BROKER:
        _check_broker_name(ctx, name)
        return describe_broker(ctx.broker.config, keys) if name else []
    if kind == BROKER_LOGGER:
        if name == "":
            raise TopicError(InvalidRequestError.code, "Broker id must not be empty")
        _check_broker_name(ctx, name)
        return []
    raise TopicError(InvalidRequestError.code, f"Unsupported resource type: {kind}")


def _described(
    ctx: RequestContext, request: DescribeConfigsRequest, entry: ConfigEntry
) -> DescribeConfigsResourceResult:
    version = ctx.api_version
    result = DescribeConfigsResourceResult(
        name=entry.name,
        value=None if entry.is_sensitive else entry.value,
        read_only=entry.read_only,
        config_source=int(entry.source),
        is_sensitive=entry.is_sensitive,
    )
    if version == 0:
        result.is_default = entry.is_default
    if request.include_synonyms:
        result.synonyms = [
            DescribeConfigsSynonym(name=s.name, value=s.value, source=int(s.source))
            for s in entry.synonyms
        ]
    if version >= 3:
        result.config_type = int(entry.config_type)
        if request.include_documentation:
            result.documentation = entry.documentation
    return result


@handles(DescribeConfigsRequest)
async def describe_configs(
    ctx: RequestContext, request: DescribeConfigsRequest
) -> DescribeConfigsResponse:
    """Every config (or the named ones) of each topic or broker resource."""
    results = []
    for resource in request.resources:
        result = DescribeConfigsResult(
            resource_type=resource.resource_type, resource_name=resource.resource_name
        )
        results.append(result)
        try:
            entries = _entries(ctx, resource)
        except TopicError as exc:
            result.error_code = exc.error_code
            result.error_message = exc.message
            continue
        result.configs = [_described(ctx, request, e) for e in entries]
    return DescribeConfigsResponse(results=results)


# ---- AlterConfigs and IncrementalAlterConfigs -----------------------------------------


def _alter_resource(
    ctx: RequestContext,
    kind: int,
    name: str,
    validate_only: bool,
    new_overrides: Callable[[TopicInfo], dict[str, str | None]],
) -> None:
    """Apply (or with ``validate_only`` only check) one resource's change."""
    if kind == BROKER:
        _check_broker_name(ctx, name)
        raise TopicError(
            InvalidRequestError.code,
            "Broker configs are static: set them in server.properties or with --set "
            "and restart the broker.",
        )
    if kind == BROKER_LOGGER:
        raise TopicError(InvalidRequestError.code, "Altering broker loggers is not supported.")
    if kind != TOPIC:
        raise TopicError(InvalidRequestError.code, f"Unsupported resource type: {kind}")
    if name in INTERNAL_TOPICS:
        raise TopicError(
            InvalidRequestError.code, f"The configs of internal topic '{name}' are fixed."
        )
    info = _existing_topic(ctx, name)
    configs = new_overrides(info)
    topics = ctx.broker.topics
    if validate_only:
        topics.check_configs(configs)
        return
    topics.set_configs(name, configs)
    _log.info("topic %s configs now %s (for %s)", name, info.configs, ctx.peer)


def _duplicates(names: Sequence[str]) -> list[str]:
    return sorted(name for name, times in Counter(names).items() if times > 1)


def _replace(
    configs: Sequence[legacy.AlterableConfig],
) -> Callable[[TopicInfo], dict[str, str | None]]:
    def overrides(_: TopicInfo) -> dict[str, str | None]:
        for config in configs:
            if config.value is None:
                raise TopicError(
                    InvalidRequestError.code, f"Null value not supported for : {config.name}"
                )
        duplicated = _duplicates([c.name for c in configs])
        if duplicated:
            raise TopicError(
                InvalidRequestError.code, f"Error due to duplicate config keys: {duplicated}"
            )
        return {c.name: c.value for c in configs}

    return overrides


Overrides = Callable[[TopicInfo], dict[str, str | None]]


def _alter_each(
    ctx: RequestContext,
    resources: Sequence[tuple[int, str, Callable[[], Overrides]]],
    validate_only: bool,
) -> list[TopicError | None]:
    """Alter each ``(kind, name, overrides)`` resource; one error or None each.

    ``overrides`` is called inside the error handling, so a bad config list
    fails its own resource only. A resource named twice fails both times.
    """
    keys = [(kind, name) for kind, name, _ in resources]
    errors: list[TopicError | None] = []
    for kind, name, overrides in resources:
        try:
            if keys.count((kind, name)) > 1:
                raise TopicError(
                    InvalidRequestError.code, "Each resource must appear at most once."
                )
            _alter_resource(ctx, kind, name, validate_only, overrides())
            errors.append(None)
        except TopicError as exc:
            errors.append(exc)
    return errors


@handles(AlterConfigsRequest)
async def alter_configs(ctx: RequestContext, request: AlterConfigsRequest) -> AlterConfigsResponse:
    """Replace each topic's config overrides; configs not named revert to defaults."""
    errors = _alter_each(
        ctx,
        [
            (r.resource_type, r.resource_name, partial(_replace, r.configs))
            for r in request.resources
        ],
        request.validate_only,
    )
    return AlterConfigsResponse(
        responses=[
            legacy.AlterConfigsResourceResponse(
                resource_type=r.resource_type,
                resource_name=r.resource_name,
                error_code=e.error_code if e else 0,
                error_message=e.message if e else None,
            )
            for r, e in zip(request.resources, errors, strict=True)
        ]
    )


def _list_value(current: str, key: str, op: str) -> list[str]:
    if LogConfig.kinds().get(key) != "list":
        raise TopicError(
            InvalidConfigError.code, f"Config value {op} is not allowed for config key: {key}"
        )
    return [item for item in current.split(",") if item]


def _incremental(
    ctx: RequestContext, configs: Sequence[incremental.AlterableConfig]
) -> Callable[[TopicInfo], dict[str, str | None]]:
    def overrides(info: TopicInfo) -> dict[str, str | None]:
        duplicated = _duplicates([c.name for c in configs])
        if duplicated:
            raise TopicError(
                InvalidRequestError.code, f"Error due to duplicate config keys: {duplicated}"
            )
        merged: dict[str, str | None] = dict(info.configs)
        effective = ctx.broker.topics.log_config(info.name).to_properties()
        for config in configs:
            key, op, value = config.name, config.config_operation, config.value
            if op not in (incremental.SET, incremental.DELETE, incremental.APPEND,
                          incremental.SUBTRACT):  # fmt: skip
                raise TopicError(InvalidRequestError.code, f"Unknown config operation {op}")
            if key not in _TOPIC_KEYS:
                raise TopicError(InvalidConfigError.code, f"Unknown topic config name: {key}")
            if op == incremental.DELETE:
                merged.pop(key, None)
                continue
            if value is None:
                raise TopicError(InvalidRequestError.code, f"Null value not supported for : {key}")
            if op == incremental.SET:
                merged[key] = value
                continue
            current = merged.get(key) or effective.get(key, "")
            if op == incremental.APPEND:
                items = _list_value(current, key, "append")
                items += [v for v in value.split(",") if v and v not in items]
            else:
                removed = set(value.split(","))
                items = [v for v in _list_value(current, key, "subtract") if v not in removed]
            merged[key] = ",".join(items)
        return merged

    return overrides


@handles(IncrementalAlterConfigsRequest)
async def incremental_alter_configs(
    ctx: RequestContext, request: IncrementalAlterConfigsRequest
) -> IncrementalAlterConfigsResponse:
    """SET, DELETE (back to the default), APPEND and SUBTRACT (list configs
    such as ``cleanup.policy``) single topic configs."""
    errors = _alter_each(
        ctx,
        [
            (r.resource_type, r.resource_name, partial(_incremental, ctx, r.configs))
            for r in request.resources
        ],
        request.validate_only,
    )
    return IncrementalAlterConfigsResponse(
        responses=[
            incremental.AlterConfigsResourceResponse(
                resource_type=r.resource_type,
                resource_name=r.resource_name,
                error_code=e.error_code if e else 0,
                error_message=e.message if e else None,
            )
            for r, e in zip(request.resources, errors, strict=True)
        ]
    )
