"""Constants and small helpers shared by the integration tests."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

REGION = "us-east-1"
ACCOUNT_ID = os.environ.get("KMS_ACCOUNT_ID", "111122223333")
ACCESS_KEY = os.environ.get("KMS_TEST_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
SECRET_KEY = os.environ.get("KMS_TEST_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
KEY_ARN_PREFIX = f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/"
ALIAS_ARN_PREFIX = f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:"


def unique_alias(prefix: str = "alias/it") -> str:
    """An alias name no other test (or worker) uses."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def error_of(exc_info: pytest.ExceptionInfo[Any]) -> tuple[str, str, int]:
    """(code, message, HTTP status) of a botocore ClientError."""
    response = exc_info.value.response
    return (response["Error"]["Code"], response["Error"].get("Message", ""),
            response["ResponseMetadata"]["HTTPStatusCode"])


def expect_error(code: str, call: Callable[..., Any], /, **kwargs: Any) -> str:
    """Call a client method, assert it fails with `code` and HTTP 400; return the message."""
    with pytest.raises(ClientError) as exc_info:
        call(**kwargs)
    got_code, message, got_status = error_of(exc_info)
    assert (got_code, got_status) == (code, 400), message
    return message


def key_arn_of(key_id: str) -> str:
    return KEY_ARN_PREFIX + key_id
