"""Kafka's error codes -1 to 63, one exception class each.

Generated once from Kafka's ``Errors.java`` (names, codes, default messages)
and the retriable flags of its exception classes; the docstring of each class
is Kafka's default message. Look classes up with :func:`error_for_code`.
"""

from __future__ import annotations

from tidal.log.protocol._exceptions import KafkaError

__all__ = [
    "BrokerNotAvailableError",
    "ClusterAuthorizationFailedError",
    "ConcurrentTransactionsError",
    "CoordinatorLoadInProgressError",
    "CoordinatorNotAvailableError",
    "CorruptMessageError",
    "DelegationTokenAuthDisabledError",
    "DelegationTokenNotFoundError",
    "DelegationTokenOwnerMismatchError",
    "DuplicateSequenceNumberError",
    "GroupAuthorizationFailedError",
    "IllegalGenerationError",
    "IllegalSaslStateError",
    "InconsistentGroupProtocolError",
    "InvalidCommitOffsetSizeError",
    "InvalidConfigError",
    "InvalidFetchSizeError",
    "InvalidGroupIdError",
    "InvalidPartitionsError",
    "InvalidProducerEpochError",
    "InvalidProducerIdMappingError",
    "InvalidReplicaAssignmentError",
    "InvalidReplicationFactorError",
    "InvalidRequestError",
    "InvalidRequiredAcksError",
    "InvalidSessionTimeoutError",
    "InvalidTimestampError",
    "InvalidTopicError",
    "InvalidTransactionTimeoutError",
    "InvalidTxnStateError",
    "KafkaStorageError",
    "LeaderNotAvailableError",
    "LogDirNotFoundError",
    "MessageTooLargeError",
    "NetworkError",
    "NotControllerError",
    "NotCoordinatorError",
    "NotEnoughReplicasAfterAppendError",
    "NotEnoughReplicasError",
    "NotLeaderOrFollowerError",
    "OffsetMetadataTooLargeError",
    "OffsetOutOfRangeError",
    "OperationNotAttemptedError",
    "OutOfOrderSequenceNumberError",
    "PolicyViolationError",
    "ReassignmentInProgressError",
    "RebalanceInProgressError",
    "RecordListTooLargeError",
    "ReplicaNotAvailableError",
    "RequestTimedOutError",
    "SaslAuthenticationFailedError",
    "SecurityDisabledError",
    "StaleControllerEpochError",
    "TopicAlreadyExistsError",
    "TopicAuthorizationFailedError",
    "TransactionCoordinatorFencedError",
    "TransactionalIdAuthorizationFailedError",
    "UnknownMemberIdError",
    "UnknownProducerIdError",
    "UnknownServerError",
    "UnknownTopicOrPartitionError",
    "UnsupportedForMessageFormatError",
    "UnsupportedSaslMechanismError",
    "UnsupportedVersionError",
]


class UnknownServerError(KafkaError, code=-1):
    """The server experienced an unexpected error when processing the request."""


class OffsetOutOfRangeError(KafkaError, code=1):
    """The requested offset is not within the range of offsets maintained by the server."""


class CorruptMessageError(KafkaError, code=2, retriable=True):
    """This message has failed its CRC checksum, exceeds the valid size, has a null key for a
    compacted topic, or is otherwise corrupt.
    """


class UnknownTopicOrPartitionError(KafkaError, code=3, retriable=True):
    """This server does not host this topic-partition."""


class InvalidFetchSizeError(KafkaError, code=4):
    """The requested fetch size is invalid."""


class LeaderNotAvailableError(KafkaError, code=5, retriable=True):
    """There is no leader for this topic-partition as we are in the middle of a leadership
    election.
    """


class NotLeaderOrFollowerError(KafkaError, code=6, retriable=True):
    """For requests intended only for the leader, this error indicates that the broker is not the
    current leader. For requests intended for any replica, this error indicates that the
    broker is not a replica of the topic partition.
    """


class RequestTimedOutError(KafkaError, code=7, retriable=True):
    """The request timed out."""


class BrokerNotAvailableError(KafkaError, code=8):
    """The broker is not available."""


class ReplicaNotAvailableError(KafkaError, code=9, retriable=True):
    """The replica is not available for the requested topic-partition. Produce/Fetch requests and
    other requests intended only for the leader or follower return NOT_LEADER_OR_FOLLOWER if
    the broker is not a replica of the topic-partition.
    """


class MessageTooLargeError(KafkaError, code=10):
    """The request included a message larger than the max message size the server will accept."""


class StaleControllerEpochError(KafkaError, code=11):
    """The controller moved to another broker."""


class OffsetMetadataTooLargeError(KafkaError, code=12):
    """The metadata field of the offset request was too large."""


class NetworkError(KafkaError, code=13, retriable=True):
    """The server disconnected before a response was received."""


class CoordinatorLoadInProgressError(KafkaError, code=14, retriable=True):
    """The coordinator is loading and hence can't process requests."""


class CoordinatorNotAvailableError(KafkaError, code=15, retriable=True):
    """The coordinator is not available."""


class NotCoordinatorError(KafkaError, code=16, retriable=True):
    """This is not the correct coordinator."""


class InvalidTopicError(KafkaError, code=17):
    """The request attempted to perform an operation on an invalid topic."""


class RecordListTooLargeError(KafkaError, code=18):
    """The request included message batch larger than the configured segment size on the server."""


class NotEnoughReplicasError(KafkaError, code=19, retriable=True):
    """Messages are rejected since there are fewer in-sync replicas than required."""


class NotEnoughReplicasAfterAppendError(KafkaError, code=20, retriable=True):
    """Messages are written to the log, but to fewer in-sync replicas than required."""


class InvalidRequiredAcksError(KafkaError, code=21):
    """Produce request specified an invalid value for required acks."""


class IllegalGenerationError(KafkaError, code=22):
    """Specified group generation id is not valid."""


class InconsistentGroupProtocolError(KafkaError, code=23):
    """The group member's supported protocols are incompatible with those of existing members or
    first group member tried to join with empty protocol type or empty protocol list.
    """


class InvalidGroupIdError(KafkaError, code=24):
    """The group id is invalid."""


class UnknownMemberIdError(KafkaError, code=25):
    """The coordinator is not aware of this member."""


class InvalidSessionTimeoutError(KafkaError, code=26):
    """The session timeout is not within the range allowed by the broker (as configured by
    group.min.session.timeout.ms and group.max.session.timeout.ms).
    """


class RebalanceInProgressError(KafkaError, code=27):
    """The group is rebalancing, so a rejoin is needed."""


class InvalidCommitOffsetSizeError(KafkaError, code=28):
    """The committing offset data size is not valid."""


class TopicAuthorizationFailedError(KafkaError, code=29):
    """Topic authorization failed."""


class GroupAuthorizationFailedError(KafkaError, code=30):
    """Group authorization failed."""


class ClusterAuthorizationFailedError(KafkaError, code=31):
    """Cluster authorization failed."""


class InvalidTimestampError(KafkaError, code=32):
    """The timestamp of the message is out of acceptable range."""


class UnsupportedSaslMechanismError(KafkaError, code=33):
    """The broker does not support the requested SASL mechanism."""


class IllegalSaslStateError(KafkaError, code=34):
    """Request is not valid given the current SASL state."""


class UnsupportedVersionError(KafkaError, code=35):
    """The version of API is not supported."""


class TopicAlreadyExistsError(KafkaError, code=36):
    """Topic with this name already exists."""


class InvalidPartitionsError(KafkaError, code=37):
    """Number of partitions is below 1."""


class InvalidReplicationFactorError(KafkaError, code=38):
    """Replication factor is below 1 or larger than the number of available brokers."""


class InvalidReplicaAssignmentError(KafkaError, code=39):
    """Replica assignment is invalid."""


class InvalidConfigError(KafkaError, code=40):
    """Configuration is invalid."""


class NotControllerError(KafkaError, code=41, retriable=True):
    """This is not the correct controller for this cluster."""


class InvalidRequestError(KafkaError, code=42):
    """This most likely occurs because of a request being malformed by the client library or the
    message was sent to an incompatible broker. See the broker logs for more details.
    """


class UnsupportedForMessageFormatError(KafkaError, code=43):
    """The message format version on the broker does not support the request."""


class PolicyViolationError(KafkaError, code=44):
    """Request parameters do not satisfy the configured policy."""


class OutOfOrderSequenceNumberError(KafkaError, code=45):
    """The broker received an out of order sequence number."""


class DuplicateSequenceNumberError(KafkaError, code=46):
    """The broker received a duplicate sequence number."""


class InvalidProducerEpochError(KafkaError, code=47):
    """Producer attempted to produce with an old epoch."""


class InvalidTxnStateError(KafkaError, code=48):
    """The producer attempted a transactional operation in an invalid state."""


class InvalidProducerIdMappingError(KafkaError, code=49):
    """The producer attempted to use a producer id which is not currently assigned to its
    transactional id.
    """


class InvalidTransactionTimeoutError(KafkaError, code=50):
    """The transaction timeout is larger than the maximum value allowed by the broker (as
    configured by transaction.max.timeout.ms).
    """


class ConcurrentTransactionsError(KafkaError, code=51, retriable=True):
    """The producer attempted to update a transaction while another concurrent operation on the
    same transaction was ongoing.
    """


class TransactionCoordinatorFencedError(KafkaError, code=52):
    """Indicates that the transaction coordinator sending a WriteTxnMarker is no longer the
    current coordinator for a given producer.
    """


class TransactionalIdAuthorizationFailedError(KafkaError, code=53):
    """Transactional Id authorization failed."""


class SecurityDisabledError(KafkaError, code=54):
    """Security features are disabled."""


class OperationNotAttemptedError(KafkaError, code=55):
    """The broker did not attempt to execute this operation. This may happen for batched RPCs
    where some operations in the batch failed, causing the broker to respond without trying
    the rest.
    """


class KafkaStorageError(KafkaError, code=56, retriable=True):
    """Disk error when trying to access log file on the disk."""


class LogDirNotFoundError(KafkaError, code=57):
    """The user-specified log directory is not found in the broker config."""


class SaslAuthenticationFailedError(KafkaError, code=58):
    """SASL Authentication failed."""


class UnknownProducerIdError(KafkaError, code=59):
    """This exception is raised by the broker if it could not locate the producer metadata
    associated with the producerId in question. This could happen if, for instance, the
    producer's records were deleted because their retention time had elapsed. Once the last
    records of the producerId are removed, the producer's metadata is removed from the broker,
    and future appends by the producer will return this exception.
    """


class ReassignmentInProgressError(KafkaError, code=60):
    """A partition reassignment is in progress."""


class DelegationTokenAuthDisabledError(KafkaError, code=61):
    """Delegation Token feature is not enabled."""


class DelegationTokenNotFoundError(KafkaError, code=62):
    """Delegation Token is not found on server."""


class DelegationTokenOwnerMismatchError(KafkaError, code=63):
    """Specified Principal is not valid Owner/Renewer."""
