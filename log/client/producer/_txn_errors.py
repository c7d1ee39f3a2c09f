"""How a transactional producer reads errors: retry, abortable or fatal.

Kafka's ``TransactionManager`` sorts every error a transactional call can
meet into three kinds, and so does Tidal:

* **retry**: the coordinator moved or is loading, a previous transaction's
  markers are still being written (CONCURRENT_TRANSACTIONS), a partition is
  not known yet, a request timed out; the call retries with backoff within
  ``max_block_ms``;
* **fatal**: the producer was fenced by a newer instance with the same
  ``transactional_id`` (PRODUCER_FENCED, or INVALID_PRODUCER_EPOCH from an
  older broker), is not authorized for its transactional id, or the
  coordinator found the transaction in a state it cannot be in; the
  producer can only be closed, and every later call raises the error again;
* **abortable**: anything else that failed the transaction (a record that
  could not be written, a topic or group authorization failure, a consumer
  that left its group, TRANSACTION_ABORTABLE); ``abort_transaction()``
  recovers and the producer can begin a new transaction.

Abortable errors surface as :class:`TransactionAbortableError` (code 120's
class) with the original error as ``__cause__``; fatal ones as their own
class, a fenced producer always as :class:`ProducerFencedError`.
"""

from __future__ import annotations

import enum

from tidal.log.client._errors import KafkaConnectionError, KafkaTimeoutError
from tidal.log.protocol.errors import (
    ConcurrentTransactionsError,
    CoordinatorLoadInProgressError,
    CoordinatorNotAvailableError,
    InvalidProducerEpochError,
    InvalidTransactionTimeoutError,
    InvalidTxnStateError,
    KafkaError,
    NotCoordinatorError,
    OperationNotAttemptedError,
    ProducerFencedError,
    RequestTimedOutError,
    TransactionAbortableError,
    TransactionalIdAuthorizationFailedError,
    UnknownTopicOrPartitionError,
    UnsupportedVersionError,
)

__all__ = [
    "RETRY_CODES",
    "ErrorKind",
    "TransactionAbortedError",
    "TransactionStateError",
    "abortable",
    "classify",
    "fenced",
]


class TransactionStateError(KafkaError):
    """A transactional call made in a state that does not allow it: ``send``
    outside a transaction, ``begin_transaction`` twice, ``commit_transaction``
    before ``init_transactions`` (Java's ``IllegalStateException``). The
    producer's state is unchanged."""


class TransactionAbortedError(KafkaError):
    """The record's transaction was aborted before the record was sent; it
    was never written."""


class ErrorKind(enum.Enum):
    """What a transactional producer does after an error."""

    RETRY = "retry"
    ABORTABLE = "abortable"
    FATAL = "fatal"


#: Codes a transactional request retries after a backoff.
RETRY_CODES = frozenset(
    {
        ConcurrentTransactionsError.code,
        CoordinatorLoadInProgressError.code,
        CoordinatorNotAvailableError.code,
        NotCoordinatorError.code,
        UnknownTopicOrPartitionError.code,
        OperationNotAttemptedError.code,
        RequestTimedOutError.code,
    }
)

_FATAL = (
    ProducerFencedError,
    InvalidProducerEpochError,
    TransactionalIdAuthorizationFailedError,
    InvalidTxnStateError,
    InvalidTransactionTimeoutError,
    UnsupportedVersionError,
)


def classify(error: BaseException) -> ErrorKind:
    """The kind of ``error`` for a call inside a transaction (module doc)."""
    if isinstance(error, _FATAL):
        return ErrorKind.FATAL
    if isinstance(error, KafkaConnectionError | KafkaTimeoutError):
        return ErrorKind.RETRY
    if isinstance(error, KafkaError) and error.code in RETRY_CODES:
        return ErrorKind.RETRY
    return ErrorKind.ABORTABLE


_FENCED = (
    "the producer was fenced: a newer instance with the same transactional_id started, "
    "or the coordinator aborted the transaction after transaction_timeout_ms"
)


def fenced(error: BaseException) -> BaseException:
    """``error`` as the producer reports it: a stale epoch means fenced, and
    the message says the two ways it happens."""
    if isinstance(error, InvalidProducerEpochError | ProducerFencedError) and (
        _FENCED not in error.message
    ):
        fresh = ProducerFencedError(f"{error.message} ({_FENCED})")
        fresh.__cause__ = error
        return fresh
    return error


def abortable(error: BaseException) -> TransactionAbortableError:
    """The error raised to the application for an abortable ``error``."""
    if isinstance(error, TransactionAbortableError):
        return error
    wrapped = TransactionAbortableError(
        f"the transaction cannot commit and must be aborted: {error}"
    )
    wrapped.__cause__ = error
    return wrapped
