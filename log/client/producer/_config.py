"""Producer settings: Kafka's ``ProducerConfig`` names and defaults (4.0).

``linger_ms`` defaults to 5 as in Kafka 4.0 (KIP-1030). Idempotence is on
unless turned off, or unless ``acks`` is not ``all`` or more than five
requests may be in flight and ``enable_idempotence`` was left unset (Kafka
then quietly turns it off; asking for both is an error naming the setting).
A ``transactional_id`` implies idempotence and the same three rules.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tidal.log.client._config import ClientConfig, ConfigError, at_least, one_of, setting
from tidal.log.records import Compression

__all__ = ["COMPRESSION", "ProducerConfig", "Serializer"]

#: A function from a key or value to bytes (``None`` stays ``None``).
Serializer = Callable[[Any], bytes | None]

COMPRESSION = {
    "none": Compression.NONE,
    "gzip": Compression.GZIP,
    "snappy": Compression.SNAPPY,
    "lz4": Compression.LZ4,
    "zstd": Compression.ZSTD,
}
_ACKS = {"all": -1, "-1": -1, -1: -1, "0": 0, 0: 0, "1": 1, 1: 1}


def _check_acks(name: str, value: Any) -> None:
    if isinstance(value, bool) or value not in _ACKS:
        raise ConfigError(name, f"must be 'all', -1, 0 or 1, got {value!r}")


def _check_callable_or_none(name: str, value: Any) -> None:
    if value is not None and not callable(value):
        raise ConfigError(name, f"expected a callable, got {value!r}")


def _check_partitioner(name: str, value: Any) -> None:
    if value is None or callable(value) or value in ("default", "murmur2_random"):
        return
    raise ConfigError(name, f"expected 'default', 'murmur2_random' or a callable, got {value!r}")


def _check_idempotence(name: str, value: Any) -> None:
    one_of(None, True, False)(name, value)


def _check_transactional_id(name: str, value: Any) -> None:
    if value is not None and (not isinstance(value, str) or not value):
        raise ConfigError(name, f"expected a non-empty str or None, got {value!r}")


@dataclass(frozen=True, kw_only=True)
class ProducerConfig(ClientConfig):
    """Settings of :class:`~tidal.log.client.producer.Producer`."""

    acks: int | str = setting("all", _check_acks)
    linger_ms: int = setting(5, at_least(0))
    batch_size: int = setting(16_384, at_least(0))
    buffer_memory: int = setting(33_554_432, at_least(1))
    max_block_ms: int = setting(60_000, at_least(0))
    max_request_size: int = setting(1_048_576, at_least(1))
    compression_type: str = setting("none", one_of(*COMPRESSION))
    enable_idempotence: bool | None = setting(None, _check_idempotence)
    max_in_flight_requests_per_connection: int = setting(5, at_least(1))
    retries: int = setting(2_147_483_647, at_least(0))
    delivery_timeout_ms: int = setting(120_000, at_least(1))
    partitioner: Any = setting(None, _check_partitioner)  # noqa: RUF009
    key_serializer: Serializer | None = setting(None, _check_callable_or_none)  # noqa: RUF009
    value_serializer: Serializer | None = setting(None, _check_callable_or_none)  # noqa: RUF009
    transactional_id: str | None = setting(None, _check_transactional_id)
    transaction_timeout_ms: int = setting(60_000, at_least(1))

    def validate(self) -> None:
        super().validate()
        if self.transactional_id is not None and self.enable_idempotence is False:
            raise ConfigError(
                "enable_idempotence", "must not be false when transactional_id is set"
            )
        if self.enable_idempotence or self.transactional_id is not None:
            why = (
                "enable_idempotence is true"
                if self.enable_idempotence
                else "transactional_id is set"
            )
            if self.acks_value != -1:
                raise ConfigError("acks", f"must be 'all' when {why}")
            if self.max_in_flight_requests_per_connection > 5:
                raise ConfigError(
                    "max_in_flight_requests_per_connection", f"must be at most 5 when {why}"
                )
            if self.retries == 0:
                raise ConfigError("retries", f"must be above 0 when {why}")
        floor = self.linger_ms + self.request_timeout_ms
        if self.delivery_timeout_ms < floor:
            raise ConfigError(
                "delivery_timeout_ms",
                f"must be at least linger_ms + request_timeout_ms ({floor}), "
                f"got {self.delivery_timeout_ms}",
            )

    @property
    def acks_value(self) -> int:
        """``acks`` as the wire's int16: -1 (all), 0 or 1."""
        return _ACKS[self.acks]

    @property
    def idempotent(self) -> bool:
        """Whether the producer runs idempotently (see the module docstring)."""
        if self.transactional_id is not None:
            return True
        if self.enable_idempotence is not None:
            return self.enable_idempotence
        return self.acks_value == -1 and self.max_in_flight_requests_per_connection <= 5

    @property
    def compression(self) -> Compression:
        return COMPRESSION[self.compression_type]
