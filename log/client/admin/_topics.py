"""Admin operations on topics, partitions, configs and the cluster.

Each is one request, sent to the controller (topic changes) or any broker,
through the kernel; NOT_CONTROLLER and lost connections are retried within
``default_api_timeout_ms``; any other error is raised typed, naming the topic
(``topic 'orders'``) or broker it is about.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from tidal.log.client._errors import KafkaConnectionError, KafkaTimeoutError
from tidal.log.client._kernel import Kernel
from tidal.log.client.admin._results import (
    ClusterDescription,
    ConfigEntry,
    ConfigResource,
    ConfigSource,
    NewPartitions,
    NewTopic,
    ResourceType,
    TopicDescription,
)
from tidal.log.protocol import Request
from tidal.log.protocol.errors import KafkaError, NotControllerError, error_for_code
from tidal.log.protocol.messages import (
    AlterConfigsRequest,
    CreatePartitionsRequest,
    CreateTopicsRequest,
    DeleteTopicsRequest,
    DescribeClusterRequest,
    DescribeConfigsRequest,
    IncrementalAlterConfigsRequest,
)
from tidal.log.protocol.messages import alter_configs as ac
from tidal.log.protocol.messages import incremental_alter_configs as iac
from tidal.log.protocol.messages.create_partitions import CreatePartitionsTopic
from tidal.log.protocol.messages.create_topics import CreatableTopic, CreatableTopicConfig
from tidal.log.protocol.messages.describe_configs import DescribeConfigsResource

__all__ = [
    "alter_configs",
    "check",
    "create_partitions",
    "create_topics",
    "delete_topics",
    "describe_cluster",
    "describe_configs",
    "describe_topics",
    "incremental_alter_configs",
    "list_topics",
]

#: IncrementalAlterConfigs operations.
OPS = {"set": 0, "delete": 1, "append": 2, "subtract": 3}


def check(code: int, message: str | None, what: str) -> None:
    """Raise the typed error of ``code`` naming ``what``."""
    if code:
        cls = error_for_code(code)
        raise cls(f"{what}: {message or cls.default_message}")


async def to_controller(kernel: Kernel, api: type[Request], builder: Any) -> Any:
    """Send to the controller, following it on NOT_CONTROLLER."""

    async def once() -> Any:
        controller = kernel.cluster.metadata.controller_id
        if controller < 0:
            controller = (await kernel.refresh_metadata()).controller_id
        response = await kernel.send(controller, api, builder)
        codes = [getattr(r, "error_code", 0) for r in _results(response)]
        if NotControllerError.code in codes:
            await kernel.refresh_metadata()
            raise NotControllerError()
        return response

    return await kernel.retry(once, timeout_ms=kernel.config.default_api_timeout_ms, retriable=_io)


def _io(e: KafkaError) -> bool:
    return isinstance(e, KafkaConnectionError | KafkaTimeoutError | NotControllerError)


def _results(response: Any) -> list[Any]:
    for name in ("topics", "responses", "results"):
        value = getattr(response, name, None)
        if isinstance(value, list):
            return value
    return []


async def create_topics(
    kernel: Kernel, topics: Iterable[NewTopic], *, timeout_ms: int, validate_only: bool
) -> None:
    wanted = [
        CreatableTopic(
            name=t.name,
            num_partitions=t.num_partitions,
            replication_factor=t.replication_factor,
            configs=[CreatableTopicConfig(name=k, value=v) for k, v in t.configs.items()],
        )
        for t in topics
    ]
    response = await to_controller(
        kernel,
        CreateTopicsRequest,
        CreateTopicsRequest(topics=wanted, timeout_ms=timeout_ms, validate_only=validate_only),
    )
    for r in response.topics:
        check(r.error_code, r.error_message, f"topic '{r.name}'")


async def delete_topics(kernel: Kernel, names: Iterable[str], *, timeout_ms: int) -> None:
    topics = list(names)
    response = await to_controller(
        kernel,
        DeleteTopicsRequest,
        lambda v: DeleteTopicsRequest(topic_names=topics, timeout_ms=timeout_ms),
    )
    for r in response.responses:
        check(r.error_code, r.error_message, f"topic '{r.name}'")


async def create_partitions(
    kernel: Kernel, changes: Iterable[NewPartitions], *, timeout_ms: int, validate_only: bool
) -> None:
    topics = [
        CreatePartitionsTopic(name=c.topic, count=c.total_count, assignments=None) for c in changes
    ]
    response = await to_controller(
        kernel,
        CreatePartitionsRequest,
        CreatePartitionsRequest(topics=topics, timeout_ms=timeout_ms, validate_only=validate_only),
    )
    for r in response.results:
        check(r.error_code, r.error_message, f"topic '{r.name}'")


async def list_topics(kernel: Kernel, *, internal: bool) -> list[str]:
    md = await kernel.retry(
        lambda: kernel.fetch_metadata(None), timeout_ms=kernel.config.default_api_timeout_ms
    )
    return sorted(n for n, t in md.topics.items() if internal or not t.is_internal)


async def describe_topics(kernel: Kernel, names: Iterable[str]) -> dict[str, TopicDescription]:
    wanted = list(names)
    md = await kernel.retry(
        lambda: kernel.fetch_metadata(wanted, allow_auto_create=False),
        timeout_ms=kernel.config.default_api_timeout_ms,
    )
    out: dict[str, TopicDescription] = {}
    for name in wanted:
        md.raise_for_topic(name)
        t = md.topics[name]
        parts = [t.partitions[p] for p in sorted(t.partitions)]
        out[name] = TopicDescription(name, parts, t.is_internal, t.topic_id)
    return out


async def describe_configs(
    kernel: Kernel, resources: Iterable[ConfigResource]
) -> dict[ConfigResource, dict[str, ConfigEntry]]:
    wanted = list(resources)
    request = DescribeConfigsRequest(
        resources=[
            DescribeConfigsResource(
                resource_type=r.type, resource_name=r.name, configuration_keys=None
            )
            for r in wanted
        ]
    )
    response = await kernel.retry(
        lambda: kernel.send_to_any(DescribeConfigsRequest, request),
        timeout_ms=kernel.config.default_api_timeout_ms,
        retriable=_io,
    )
    out: dict[ConfigResource, dict[str, ConfigEntry]] = {}
    for r in response.results:
        resource = next(
            w for w in wanted if w.name == r.resource_name and w.type == r.resource_type
        )
        check(r.error_code, r.error_message, subject(r.resource_type, r.resource_name))
        out[resource] = {
            c.name: ConfigEntry(
                c.name, c.value, _source(c.config_source, c.is_default), c.read_only, c.is_sensitive
            )
            for c in r.configs
        }
    return out


def subject(resource_type: int, name: str) -> str:
    """How an error names a config resource: ``topic 'orders'``, ``broker 1``,
    ``broker logger 1``."""
    try:
        kind = ResourceType(resource_type)
    except ValueError:
        return f"resource {resource_type} '{name}'"
    if kind is ResourceType.TOPIC:
        return f"topic '{name}'"
    return f"{kind.name.lower().replace('_', ' ')} {name}"


def _source(code: int, is_default: bool) -> ConfigSource:
    if code < 0:
        return ConfigSource.DEFAULT_CONFIG if is_default else ConfigSource.UNKNOWN
    try:
        return ConfigSource(code)
    except ValueError:
        return ConfigSource.UNKNOWN


async def alter_configs(
    kernel: Kernel, configs: Mapping[ConfigResource, Mapping[str, str]], *, validate_only: bool
) -> None:
    """Replace the whole set of dynamic configs of each resource (legacy AlterConfigs)."""
    request = AlterConfigsRequest(
        resources=[
            ac.AlterConfigsResource(
                resource_type=r.type,
                resource_name=r.name,
                configs=[ac.AlterableConfig(name=k, value=v) for k, v in c.items()],
            )
            for r, c in configs.items()
        ],
        validate_only=validate_only,
    )
    response = await kernel.retry(
        lambda: kernel.send_to_any(AlterConfigsRequest, request),
        timeout_ms=kernel.config.default_api_timeout_ms,
        retriable=_io,
    )
    for r in response.responses:
        check(r.error_code, r.error_message, subject(r.resource_type, r.resource_name))


async def incremental_alter_configs(
    kernel: Kernel,
    changes: Mapping[ConfigResource, Mapping[str, tuple[str, str | None]]],
    *,
    validate_only: bool,
) -> None:
    """``changes[resource][name] = (op, value)`` with op ``set``, ``delete``,
    ``append`` or ``subtract``."""
    resources = []
    for r, c in changes.items():
        items = []
        for name, (op, value) in c.items():
            if op not in OPS:
                raise ValueError(f"config operation for '{name}' must be one of {sorted(OPS)}")
            items.append(iac.AlterableConfig(name=name, config_operation=OPS[op], value=value))
        resources.append(
            iac.AlterConfigsResource(resource_type=r.type, resource_name=r.name, configs=items)
        )
    request = IncrementalAlterConfigsRequest(resources=resources, validate_only=validate_only)
    response = await kernel.retry(
        lambda: kernel.send_to_any(IncrementalAlterConfigsRequest, request),
        timeout_ms=kernel.config.default_api_timeout_ms,
        retriable=_io,
    )
    for r in response.responses:
        check(r.error_code, r.error_message, subject(r.resource_type, r.resource_name))


async def describe_cluster(kernel: Kernel) -> ClusterDescription:
    node = kernel.least_loaded_node()
    conn = await kernel.connection(node)
    if DescribeClusterRequest.api_key in conn.api_versions:
        r = await kernel.send(node, DescribeClusterRequest, DescribeClusterRequest())
        check(r.error_code, r.error_message, "cluster")
        from tidal.log.client._types import Node  # noqa: PLC0415

        nodes = [Node(b.broker_id, b.host, b.port, b.rack) for b in r.brokers]
        return ClusterDescription(r.cluster_id, r.controller_id, nodes)
    md = await kernel.fetch_metadata([])
    return ClusterDescription(md.cluster_id, md.controller_id, list(md.nodes.values()))
