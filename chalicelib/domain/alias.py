"""Aliases: friendly names that point at one key."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from chalicelib.domain.ids import ALIAS_PREFIX, RESERVED_ALIAS_PREFIX
from chalicelib.errors import NotAuthorizedException, ValidationException


@dataclass(frozen=True)
class Alias:
    name: str
    target_key_id: str
    created: datetime
    updated: datetime


def check_alias_name(name: str) -> None:
    """AWS's rules for a customer alias name beyond the wire pattern that api/ checks."""
    if not name.startswith(ALIAS_PREFIX) or name == ALIAS_PREFIX:
        raise ValidationException(
            'Alias must start with the prefix "alias/". Please see '
            "https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html"
        )
    if name.startswith(RESERVED_ALIAS_PREFIX):
        # AWS reserves alias/aws/ for AWS managed keys and answers NotAuthorizedException.
        raise NotAuthorizedException("")
