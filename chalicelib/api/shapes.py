"""The botocore KMS service model: the authoritative shape of every request and response."""

from __future__ import annotations

import re
from functools import lru_cache

import botocore.session
from botocore.model import OperationModel, ServiceModel

_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


@lru_cache(maxsize=None)
def service_model(service: str = "kms") -> ServiceModel:
    """Loaded once per process (about 40 ms); botocore ships it, so it matches the SDKs."""
    return botocore.session.get_session().get_service_model(service)


@lru_cache(maxsize=None)
def operation(name: str, service: str = "kms") -> OperationModel | None:
    """The operation named by an X-Amz-Target suffix, or None for an unknown one."""
    model = service_model(service)
    if name not in model.operation_names:
        return None
    return model.operation_model(name)


@lru_cache(maxsize=None)
def snake(member: str) -> str:
    """Wire member name to Python name: `AWSAccountId` -> `aws_account_id`."""
    return _BOUNDARY.sub("_", member).lower()


def camel(member: str) -> str:
    """Wire member name as AWS spells it in validation messages: `NumberOfBytes` -> `numberOfBytes`."""
    return member[:1].lower() + member[1:]
