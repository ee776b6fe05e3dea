"""The hand-built item of the hot path is exactly what the pynamodb model would store."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.audit.chain import Record
from chalicelib.audit.index import IndexFields
from chalicelib.audit.models import AuditEventModel
from chalicelib.audit.repository import event_item

optional = st.none() | st.text(min_size=1, max_size=20)


@given(
    seq=st.integers(1, 2**63), event=st.text(max_size=200), user=optional, key=optional, key2=optional,
    used=st.none() | st.just(True), ro=st.booleans(),
)
def test_event_item_matches_the_model(seq, event, user, key, key2, used, ro):
    record = Record("0123456789abcdef", seq, "a" * 64, "b" * 64, event)
    fields = IndexFields(day="2026-05-01", at="2026-05-01T00:00:00.000000Z#e", name="Encrypt", ro=ro,
                         user=user, key=key, key2=key2, used=used)
    model = AuditEventModel(
        chain=record.chain, seq=record.seq, prev=record.prev, hash=record.hash, event=record.event,
        day=fields.day, at=fields.at, name=fields.name, ro=fields.ro, user=fields.user, key=fields.key,
        key2=fields.key2, used=fields.used,
    )
    assert event_item(record, fields) == model.serialize()
