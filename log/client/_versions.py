"""Which version of each API the client speaks: a pure function of the
broker's ApiVersions answer and the client's own declared range.

Kafka's rule (``NodeApiVersions.latestUsableVersion``): the highest version in
both ranges; none in common raises ``UnsupportedVersionError`` naming the API.
The client's ranges come from the message declarations, capped where a higher
version would need something the client does not do (topic ids in Produce 13,
OffsetCommit/OffsetFetch 10; Produce below 3 cannot carry record batch v2;
the transaction APIs stay on transaction protocol V1).
"""

from __future__ import annotations

from collections.abc import Mapping

from tidal.log.protocol import Request
from tidal.log.protocol.errors import UnsupportedVersionError
from tidal.log.protocol.messages import API_SPECS, SASL_SPECS, ApiVersionsResponse

__all__ = ["CLIENT_VERSIONS", "BrokerVersions", "broker_versions", "negotiate_version"]

#: Inclusive (min, max) versions per api key the broker answered with.
BrokerVersions = Mapping[int, tuple[int, int]]

_CAPS: dict[int, tuple[int, int]] = {
    0: (3, 11),  # Produce: record batch v2 needs 3+
    1: (4, 12),  # Fetch: 13+ needs topic ids
    2: (1, 7),  # ListOffsets
    8: (2, 9),  # OffsetCommit: 10 = topic ids
    9: (1, 9),  # OffsetFetch: 10 = topic ids
    20: (1, 5),  # DeleteTopics: 6 may carry topic ids only
    # Transaction protocol V1 (the client does not speak V2, KIP-890 part 2):
    24: (0, 3),  # AddPartitionsToTxn: 4+ is broker to broker
    26: (0, 4),  # EndTxn: 5 is V2's per-transaction epoch bump
    28: (0, 4),  # TxnOffsetCommit: 5 adds the group implicitly (V2)
}


def _client_versions() -> dict[int, tuple[int, int]]:
    out: dict[int, tuple[int, int]] = {}
    for key, spec in {**API_SPECS, **SASL_SPECS}.items():
        low, high = spec.request.valid_versions
        cap_low, cap_high = _CAPS.get(key, (low, high))
        out[key] = (max(low, cap_low), min(high, cap_high))
    return out


#: The client's own range for every API it can send.
CLIENT_VERSIONS: dict[int, tuple[int, int]] = _client_versions()


def broker_versions(response: ApiVersionsResponse) -> dict[int, tuple[int, int]]:
    """The ranges of an ApiVersions answer, by api key."""
    return {k.api_key: (k.min_version, k.max_version) for k in response.api_keys}


def negotiate_version(
    api: int | type[Request],
    broker: BrokerVersions,
    client: Mapping[int, tuple[int, int]] = CLIENT_VERSIONS,
) -> int:
    """The highest version of ``api`` both sides support.

    >>> negotiate_version(3, {3: (0, 12)}, {3: (0, 9)})
    9
    """
    key = api if isinstance(api, int) else api.api_key
    name = API_SPECS[key].name if key in API_SPECS else f"api key {key}"
    theirs = broker.get(key)
    ours = client.get(key)
    if theirs is None:
        raise UnsupportedVersionError(f"the broker does not support {name}")
    if ours is None:
        raise UnsupportedVersionError(f"the client does not implement {name}")
    high = min(ours[1], theirs[1])
    if high < max(ours[0], theirs[0]):
        raise UnsupportedVersionError(
            f"{name}: broker supports {theirs[0]}-{theirs[1]}, client {ours[0]}-{ours[1]}"
        )
    return high
