"""Kafka's error codes 64 to 133, one exception class each.

Generated once from Kafka's ``Errors.java`` (names, codes, default messages)
and the retriable flags of its exception classes; the docstring of each class
is Kafka's default message. Look classes up with :func:`error_for_code`.
"""

from __future__ import annotations

from tidal.log.protocol._exceptions import KafkaError

__all__ = [
    "BrokerIdNotRegisteredError",
    "DelegationTokenAuthorizationFailedError",
    "DelegationTokenExpiredError",
    "DelegationTokenRequestNotAllowedError",
    "DuplicateBrokerRegistrationError",
    "DuplicateResourceError",
    "DuplicateVoterError",
    "ElectionNotNeededError",
    "EligibleLeadersNotAvailableError",
    "FeatureUpdateFailedError",
    "FencedInstanceIdError",
    "FencedLeaderEpochError",
    "FencedMemberEpochError",
    "FencedStateEpochError",
    "FetchSessionIdNotFoundError",
    "FetchSessionTopicIdError",
    "GroupIdNotFoundError",
    "GroupMaxSizeReachedError",
    "GroupSubscribedToTopicError",
    "InconsistentClusterIdError",
    "InconsistentTopicIdError",
    "InconsistentVoterSetError",
    "IneligibleReplicaError",
    "InvalidFetchSessionEpochError",
    "InvalidPrincipalTypeError",
    "InvalidRecordError",
    "InvalidRecordStateError",
    "InvalidRegistrationError",
    "InvalidRegularExpressionError",
    "InvalidShareSessionEpochError",
    "InvalidUpdateVersionError",
    "InvalidVoterKeyError",
    "ListenerNotFoundError",
    "MemberIdRequiredError",
    "MismatchedEndpointTypeError",
    "NewLeaderElectedError",
    "NoReassignmentInProgressError",
    "NonEmptyGroupError",
    "OffsetMovedToTieredStorageError",
    "OffsetNotAvailableError",
    "PositionOutOfRangeError",
    "PreferredLeaderNotAvailableError",
    "PrincipalDeserializationFailureError",
    "ProducerFencedError",
    "RebootstrapRequiredError",
    "ResourceNotFoundError",
    "ShareSessionLimitReachedError",
    "ShareSessionNotFoundError",
    "SnapshotNotFoundError",
    "StaleBrokerEpochError",
    "StaleMemberEpochError",
    "StreamsInvalidTopologyEpochError",
    "StreamsInvalidTopologyError",
    "StreamsTopologyFencedError",
    "TelemetryTooLargeError",
    "ThrottlingQuotaExceededError",
    "TopicDeletionDisabledError",
    "TransactionAbortableError",
    "TransactionalIdNotFoundError",
    "UnacceptableCredentialError",
    "UnknownControllerIdError",
    "UnknownLeaderEpochError",
    "UnknownSubscriptionIdError",
    "UnknownTopicIdError",
    "UnreleasedInstanceIdError",
    "UnstableOffsetCommitError",
    "UnsupportedAssignorError",
    "UnsupportedCompressionTypeError",
    "UnsupportedEndpointTypeError",
    "VoterNotFoundError",
]


class DelegationTokenRequestNotAllowedError(KafkaError, code=64):
    """Delegation Token requests are not allowed on PLAINTEXT/1-way SSL channels and on
    delegation token authenticated channels.
    """


class DelegationTokenAuthorizationFailedError(KafkaError, code=65):
    """Delegation Token authorization failed."""


class DelegationTokenExpiredError(KafkaError, code=66):
    """Delegation Token is expired."""


class InvalidPrincipalTypeError(KafkaError, code=67):
    """Supplied principalType is not supported."""


class NonEmptyGroupError(KafkaError, code=68):
    """The group is not empty."""


class GroupIdNotFoundError(KafkaError, code=69):
    """The group id does not exist."""


class FetchSessionIdNotFoundError(KafkaError, code=70, retriable=True):
    """The fetch session ID was not found."""


class InvalidFetchSessionEpochError(KafkaError, code=71, retriable=True):
    """The fetch session epoch is invalid."""


class ListenerNotFoundError(KafkaError, code=72, retriable=True):
    """There is no listener on the leader broker that matches the listener on which metadata
    request was processed.
    """


class TopicDeletionDisabledError(KafkaError, code=73):
    """Topic deletion is disabled."""


class FencedLeaderEpochError(KafkaError, code=74, retriable=True):
    """The leader epoch in the request is older than the epoch on the broker."""


class UnknownLeaderEpochError(KafkaError, code=75, retriable=True):
    """The leader epoch in the request is newer than the epoch on the broker."""


class UnsupportedCompressionTypeError(KafkaError, code=76):
    """The requesting client does not support the compression type of given partition."""


class StaleBrokerEpochError(KafkaError, code=77):
    """Broker epoch has changed."""


class OffsetNotAvailableError(KafkaError, code=78, retriable=True):
    """The leader high watermark has not caught up from a recent leader election so the offsets
    cannot be guaranteed to be monotonically increasing.
    """


class MemberIdRequiredError(KafkaError, code=79):
    """The group member needs to have a valid member id before actually entering a consumer
    group.
    """


class PreferredLeaderNotAvailableError(KafkaError, code=80, retriable=True):
    """The preferred leader was not available."""


class GroupMaxSizeReachedError(KafkaError, code=81):
    """The group has reached its maximum size."""


class FencedInstanceIdError(KafkaError, code=82):
    """The broker rejected this static consumer since another consumer with the same
    group.instance.id has registered with a different member.id.
    """


class EligibleLeadersNotAvailableError(KafkaError, code=83, retriable=True):
    """Eligible topic partition leaders are not available."""


class ElectionNotNeededError(KafkaError, code=84, retriable=True):
    """Leader election not needed for topic partition."""


class NoReassignmentInProgressError(KafkaError, code=85):
    """No partition reassignment is in progress."""


class GroupSubscribedToTopicError(KafkaError, code=86):
    """Deleting offsets of a topic is forbidden while the consumer group is actively subscribed
    to it.
    """


class InvalidRecordError(KafkaError, code=87):
    """This record has failed the validation on broker and hence will be rejected."""


class UnstableOffsetCommitError(KafkaError, code=88, retriable=True):
    """There are unstable offsets that need to be cleared."""


class ThrottlingQuotaExceededError(KafkaError, code=89, retriable=True):
    """The throttling quota has been exceeded."""


class ProducerFencedError(KafkaError, code=90):
    """There is a newer producer with the same transactionalId which fences the current one."""


class ResourceNotFoundError(KafkaError, code=91):
    """A request illegally referred to a resource that does not exist."""


class DuplicateResourceError(KafkaError, code=92):
    """A request illegally referred to the same resource twice."""


class UnacceptableCredentialError(KafkaError, code=93):
    """Requested credential would not meet criteria for acceptability."""


class InconsistentVoterSetError(KafkaError, code=94):
    """Indicates that the either the sender or recipient of a voter-only request is not one of
    the expected voters.
    """


class InvalidUpdateVersionError(KafkaError, code=95):
    """The given update version was invalid."""


class FeatureUpdateFailedError(KafkaError, code=96):
    """Unable to update finalized features due to an unexpected server error."""


class PrincipalDeserializationFailureError(KafkaError, code=97):
    """Request principal deserialization failed during forwarding. This indicates an internal
    error on the broker cluster security setup.
    """


class SnapshotNotFoundError(KafkaError, code=98):
    """Requested snapshot was not found."""


class PositionOutOfRangeError(KafkaError, code=99):
    """Requested position is not greater than or equal to zero, and less than the size of the
    snapshot.
    """


class UnknownTopicIdError(KafkaError, code=100, retriable=True):
    """This server does not host this topic ID."""


class DuplicateBrokerRegistrationError(KafkaError, code=101):
    """This broker ID is already in use."""


class BrokerIdNotRegisteredError(KafkaError, code=102):
    """The given broker ID was not registered."""


class InconsistentTopicIdError(KafkaError, code=103, retriable=True):
    """The log's topic ID did not match the topic ID in the request."""


class InconsistentClusterIdError(KafkaError, code=104):
    """The clusterId in the request does not match that found on the server."""


class TransactionalIdNotFoundError(KafkaError, code=105):
    """The transactionalId could not be found."""


class FetchSessionTopicIdError(KafkaError, code=106, retriable=True):
    """The fetch session encountered inconsistent topic ID usage."""


class IneligibleReplicaError(KafkaError, code=107):
    """The new ISR contains at least one ineligible replica."""


class NewLeaderElectedError(KafkaError, code=108):
    """The AlterPartition request successfully updated the partition state but the leader has
    changed.
    """


class OffsetMovedToTieredStorageError(KafkaError, code=109):
    """The requested offset is moved to tiered storage."""


class FencedMemberEpochError(KafkaError, code=110):
    """The member epoch is fenced by the group coordinator. The member must abandon all its
    partitions and rejoin.
    """


class UnreleasedInstanceIdError(KafkaError, code=111):
    """The instance ID is still used by another member in the consumer group. That member must
    leave first.
    """


class UnsupportedAssignorError(KafkaError, code=112):
    """The assignor or its version range is not supported by the consumer group."""


class StaleMemberEpochError(KafkaError, code=113):
    """The member epoch is stale. The member must retry after receiving its updated member epoch
    via the ConsumerGroupHeartbeat API.
    """


class MismatchedEndpointTypeError(KafkaError, code=114):
    """The request was sent to an endpoint of the wrong type."""


class UnsupportedEndpointTypeError(KafkaError, code=115):
    """This endpoint type is not supported yet."""


class UnknownControllerIdError(KafkaError, code=116):
    """This controller ID is not known."""


class UnknownSubscriptionIdError(KafkaError, code=117):
    """Client sent a push telemetry request with an invalid or outdated subscription ID."""


class TelemetryTooLargeError(KafkaError, code=118):
    """Client sent a push telemetry request larger than the maximum size the broker will accept."""


class InvalidRegistrationError(KafkaError, code=119):
    """The controller has considered the broker registration to be invalid."""


class TransactionAbortableError(KafkaError, code=120):
    """The server encountered an error with the transaction. The client can abort the transaction
    to continue using this transactional ID.
    """


class InvalidRecordStateError(KafkaError, code=121):
    """The record state is invalid. The acknowledgement of delivery could not be completed."""


class ShareSessionNotFoundError(KafkaError, code=122, retriable=True):
    """The share session was not found."""


class InvalidShareSessionEpochError(KafkaError, code=123, retriable=True):
    """The share session epoch is invalid."""


class FencedStateEpochError(KafkaError, code=124):
    """The share coordinator rejected the request because the share-group state epoch did not
    match.
    """


class InvalidVoterKeyError(KafkaError, code=125):
    """The voter key doesn't match the receiving replica's key."""


class DuplicateVoterError(KafkaError, code=126):
    """The voter is already part of the set of voters."""


class VoterNotFoundError(KafkaError, code=127):
    """The voter is not part of the set of voters."""


class InvalidRegularExpressionError(KafkaError, code=128):
    """The regular expression is not valid."""


class RebootstrapRequiredError(KafkaError, code=129):
    """Client metadata is stale. The client should rebootstrap to obtain new metadata."""


class StreamsInvalidTopologyError(KafkaError, code=130):
    """The supplied topology is invalid."""


class StreamsInvalidTopologyEpochError(KafkaError, code=131):
    """The supplied topology epoch is invalid."""


class StreamsTopologyFencedError(KafkaError, code=132):
    """The supplied topology epoch is outdated."""


class ShareSessionLimitReachedError(KafkaError, code=133):
    """The limit of share sessions has been reached."""
