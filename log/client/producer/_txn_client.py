"""The transactional requests of one producer, sent with retries.

Each method sends one step of the transaction protocol to the coordinator
that owns it: the transaction coordinator of ``transactional_id``
(InitProducerId, AddPartitionsToTxn, AddOffsetsToTxn, EndTxn) or the group's
coordinator (TxnOffsetCommit). A coordinator that moved, is loading or is
unreachable is looked up again (``Kernel.send_to_coordinator``);
CONCURRENT_TRANSACTIONS and the other codes of ``RETRY_CODES`` are retried
with backoff; each call ends by its deadline with ``KafkaTimeoutError``.
Other error codes are raised as their typed errors, for the transaction
manager to sort (``_txn_errors``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from typing import Any

from tidal.log.client._coordinators import COORDINATOR_ERRORS, CoordinatorType
from tidal.log.client._errors import KafkaTimeoutError
from tidal.log.client._group_metadata import ConsumerGroupMetadata
from tidal.log.client._kernel import Kernel
from tidal.log.client._types import OffsetAndMetadata, TopicPartition
from tidal.log.client.producer import _txn_requests as req
from tidal.log.client.producer._config import ProducerConfig
from tidal.log.client.producer._idempotence import IdempotenceState
from tidal.log.client.producer._txn_errors import RETRY_CODES
from tidal.log.protocol import Request
from tidal.log.protocol.errors import CoordinatorLoadInProgressError, error_for_code
from tidal.log.protocol.messages import (
    AddOffsetsToTxnRequest,
    AddPartitionsToTxnRequest,
    EndTxnRequest,
    InitProducerIdRequest,
    TxnOffsetCommitRequest,
)

__all__ = ["TransactionClient"]

_COORDINATOR_CODES = COORDINATOR_ERRORS | {CoordinatorLoadInProgressError.code}


def _top_level_code(response: Any) -> int:
    return int(response.error_code)


def _add_partitions_code(response: Any) -> int:
    """The code that means "ask another coordinator" in an AddPartitionsToTxn
    answer (partition codes are read by the caller)."""
    for t in response.results_by_topic_v3_and_below:
        for p in t.results_by_partition:
            if p.partition_error_code in _COORDINATOR_CODES:
                return int(p.partition_error_code)
    return 0


class TransactionClient:
    """Sends a transactional producer's requests (module docstring)."""

    def __init__(self, kernel: Kernel, config: ProducerConfig, idempotence: IdempotenceState):
        assert config.transactional_id is not None
        self.transactional_id: str = config.transactional_id
        self._kernel = kernel
        self._config = config
        self._idem = idempotence

    async def init_producer_id(self, deadline: float, *, bump: bool) -> tuple[int, int]:
        """InitProducerId: the producer id and the new epoch (``bump``: of
        the current id and epoch, see ``_txn_requests.init_producer_id``)."""
        tid = self.transactional_id
        timeout_ms = self._config.transaction_timeout_ms
        response = await self.call(
            tid,
            CoordinatorType.TRANSACTION,
            InitProducerIdRequest,
            req.init_producer_id(tid, timeout_ms, self._idem, bump=bump),
            _top_level_code,
            deadline,
        )
        return int(response.producer_id), int(response.producer_epoch)

    async def add_partitions(
        self, partitions: list[TopicPartition], deadline: float
    ) -> dict[TopicPartition, int]:
        """AddPartitionsToTxn; the error code of each partition."""
        tid, idem = self.transactional_id, self._idem
        response = await self.call(
            tid,
            CoordinatorType.TRANSACTION,
            AddPartitionsToTxnRequest,
            lambda _v: req.add_partitions(tid, idem, partitions),
            _add_partitions_code,
            deadline,
        )
        return req.add_partitions_results(response)

    async def send_offsets(
        self,
        offsets: Mapping[TopicPartition, OffsetAndMetadata],
        group: ConsumerGroupMetadata,
        deadline: float,
    ) -> None:
        """AddOffsetsToTxn to the transaction coordinator, then
        TxnOffsetCommit to the group coordinator."""
        tid, idem = self.transactional_id, self._idem
        await self.call(
            tid,
            CoordinatorType.TRANSACTION,
            AddOffsetsToTxnRequest,
            lambda _v: req.add_offsets(tid, idem, group.group_id),
            _top_level_code,
            deadline,
        )
        await self.call(
            group.group_id,
            CoordinatorType.GROUP,
            TxnOffsetCommitRequest,
            lambda _v: req.txn_offset_commit(tid, idem, offsets, group),
            req.txn_offset_commit_code,
            deadline,
        )

    async def end_txn(self, deadline: float, *, committed: bool) -> None:
        """EndTxn: commit or abort."""
        tid, idem = self.transactional_id, self._idem
        await self.call(
            tid,
            CoordinatorType.TRANSACTION,
            EndTxnRequest,
            lambda _v: req.end_txn(tid, idem, committed=committed),
            _top_level_code,
            deadline,
        )

    async def call(
        self,
        key: str,
        key_type: CoordinatorType,
        api: type[Request],
        build: Callable[[int], Request],
        code_of: Callable[[Any], int],
        deadline: float,
    ) -> Any:
        """Send to the coordinator of ``key`` until the answer has no error
        (``code_of`` reads it), retrying ``RETRY_CODES`` with backoff; another
        error code is raised as its typed error."""
        attempt = 0
        while True:
            remaining = int((deadline - time.monotonic()) * 1000)
            if remaining <= 0:
                raise KafkaTimeoutError(
                    f"{api.__name__} for '{key}' did not succeed before its deadline"
                )
            response = await self._kernel.send_to_coordinator(
                key, api, build, key_type=key_type, error_code=code_of, timeout_ms=remaining
            )
            code = code_of(response)
            if not code:
                return response
            error = error_for_code(code)(f"{api.__name__} for '{key}'")
            if code not in RETRY_CODES:
                raise error
            wait = self._kernel.backoff_ms(attempt) / 1000
            if time.monotonic() + wait > deadline:
                raise KafkaTimeoutError(f"gave up on {api.__name__}: {error}") from error
            attempt += 1
            await asyncio.sleep(wait)
