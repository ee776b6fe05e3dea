"""What every action receives: the clock reading, the repositories, the HSM and the caller's scope."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from chalicelib.domain.ids import Scope, parse_key_id, parse_key_ref
from chalicelib.domain.key import Key
from chalicelib.hsm.protocol import Backend
from chalicelib.store.aliases import AliasRepository
from chalicelib.store.keys import KeyRepository


@dataclass(frozen=True)
class Call:
    now: datetime
    scope: Scope
    keys: KeyRepository
    aliases: AliasRepository
    hsm: Backend

    def key(self, key_id: str) -> Key:
        """The key a KeyId parameter names in any of its four forms (id, ARN, alias, alias ARN)."""
        ref = parse_key_ref(key_id, self.scope)
        if ref.alias_name is not None:
            return self.keys.get(self.aliases.get(ref.alias_name).target_key_id)
        assert ref.key_id is not None
        return self.keys.get(ref.key_id)

    def key_id(self, key_id: str) -> str:
        """The key id a management call's KeyId names; those calls take no aliases."""
        return parse_key_id(key_id, self.scope)
