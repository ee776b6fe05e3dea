"""Translate pynamodb and botocore failures into KMS errors at the store's edge."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from pynamodb.exceptions import PynamoDBException

from chalicelib.errors import (
    DependencyTimeoutException,
    KMSInternalException,
    KmsError,
)

_THROTTLED = {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"}


class ConditionFailed(Exception):
    """A conditional write lost: the repository decides what that means for the caller."""


@contextmanager
def store_errors() -> Iterator[None]:
    """Every DynamoDB failure becomes a retryable KMS error; nothing foreign escapes."""
    try:
        yield
    except (KmsError, ConditionFailed):
        raise
    except PynamoDBException as e:
        code = getattr(e, "cause_response_code", None)
        if code == "ConditionalCheckFailedException":
            raise ConditionFailed() from e
        if code in _THROTTLED:
            raise DependencyTimeoutException("The key store is busy; retry the request.") from e
        raise KMSInternalException("The key store is unavailable; retry the request.") from e
    except Exception as e:  # botocore connection errors, timeouts
        raise DependencyTimeoutException("The key store did not answer; retry the request.") from e
