"""Key and alias identifiers: the four forms a KeyId parameter may take, and ARNs."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from chalicelib.errors import InvalidArnException, NotFoundException

ALIAS_PREFIX = "alias/"
RESERVED_ALIAS_PREFIX = "alias/aws/"
_ARN = re.compile(r"^arn:(aws[a-zA-Z-]*):kms:([a-z0-9-]+):(\d{12}):(key|alias)/(.+)$")


@dataclass(frozen=True)
class Scope:
    """Where this service answers: ARNs of other regions or accounts name nothing here."""

    region: str
    account_id: str

    def key_arn(self, key_id: str) -> str:
        return f"arn:aws:kms:{self.region}:{self.account_id}:key/{key_id}"

    def alias_arn(self, alias_name: str) -> str:
        return f"arn:aws:kms:{self.region}:{self.account_id}:{alias_name}"


@dataclass(frozen=True)
class KeyRef:
    """A parsed KeyId parameter: either a key id or an alias name (both in local form)."""

    key_id: str | None = None
    alias_name: str | None = None


def new_key_id() -> str:
    return str(uuid.uuid4())


def parse_key_ref(value: str, scope: Scope, *, allow_alias: bool = True) -> KeyRef:
    """Parse key id, key ARN, alias name or alias ARN; aliases only where the action accepts them."""
    match = _ARN.match(value)
    if match:
        _, region, account, kind, rest = match.groups()
        if (region, account) != (scope.region, scope.account_id):
            raise NotFoundException(_missing(value))
        value = rest if kind == "key" else ALIAS_PREFIX + rest
    elif value.startswith("arn:"):
        raise InvalidArnException(f"Invalid arn {value}")
    if value.startswith(ALIAS_PREFIX):
        if not allow_alias:
            raise NotFoundException(f"Invalid keyId {value}")
        return KeyRef(alias_name=value)
    if not _is_key_id(value):
        raise NotFoundException(f"Invalid keyId {value}")
    return KeyRef(key_id=value.lower())


def parse_key_id(value: str, scope: Scope) -> str:
    """A KeyId parameter that must name a key directly (key id or key ARN, no alias)."""
    ref = parse_key_ref(value, scope, allow_alias=False)
    assert ref.key_id is not None
    return ref.key_id


def _is_key_id(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False


def _missing(value: str) -> str:
    return f"Key '{value}' does not exist"
