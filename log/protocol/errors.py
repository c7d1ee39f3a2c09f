"""Every Kafka error code as an exception class, plus the lookup helpers.

Example::

    from tidal.log.protocol.errors import UnknownTopicOrPartitionError, error_for_code

    assert error_for_code(3) is UnknownTopicOrPartitionError
    assert UnknownTopicOrPartitionError.retriable
"""

from __future__ import annotations

from tidal.log.protocol import _errors, _errors2
from tidal.log.protocol._errors import *  # noqa: F403 - the table is the API
from tidal.log.protocol._errors2 import *  # noqa: F403
from tidal.log.protocol._exceptions import KafkaError, error_for_code, raise_for_code

__all__ = ["KafkaError", "error_for_code", "raise_for_code"]
__all__ += _errors.__all__
__all__ += _errors2.__all__
