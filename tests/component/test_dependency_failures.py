"""A failing store or HSM gives a retryable error and leaves stored state as it was."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from botocore.exceptions import ConnectTimeoutError, EndpointConnectionError
from pynamodb.connection.base import Connection

from chalicelib.actions import crypto, keys as key_actions, lifecycle
from chalicelib.errors import DependencyTimeoutException, KMSInternalException, KmsError

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


@pytest.fixture
def store_down(monkeypatch: pytest.MonkeyPatch):
    """Make every DynamoDB request fail the way an unreachable endpoint does."""

    def down(failure: Exception) -> None:
        def fail(self, operation_name, operation_kwargs):  # noqa: ANN001 - patched method
            raise failure

        monkeypatch.setattr(Connection, "_make_api_call", fail)

    return down


@pytest.mark.parametrize(
    "failure",
    [EndpointConnectionError(endpoint_url="http://127.0.0.1:1"), ConnectTimeoutError(endpoint_url="x")],
)
def test_store_outage_is_a_retryable_error_and_changes_nothing(
    call_at, store_down, keys, monkeypatch, failure
):
    key_id = key_actions.create_key(call_at(NOW))["key_metadata"]["key_id"]
    before = keys.get(key_id)
    store_down(failure)
    for action in (
        lambda: lifecycle.disable_key(call_at(NOW), key_id=key_id),
        lambda: crypto.encrypt(call_at(NOW), key_id=key_id, plaintext=b"x"),
        lambda: key_actions.create_key(call_at(NOW)),
    ):
        with pytest.raises(KmsError) as e:
            action()
        assert isinstance(e.value, (KMSInternalException, DependencyTimeoutException))
        assert e.value.status == 500
    monkeypatch.undo()
    assert keys.get(key_id) == before


def test_hsm_failure_is_a_retryable_error_and_stores_no_key(call_at, hsm, keys, monkeypatch):
    def broken(self):
        raise KMSInternalException("The HSM is unavailable.")

    monkeypatch.setattr(type(hsm), "generate_key_material", broken)
    listed_before = key_actions.list_keys(call_at(NOW), limit=1000)["keys"]
    with pytest.raises(KMSInternalException):
        key_actions.create_key(call_at(NOW))
    assert key_actions.list_keys(call_at(NOW), limit=1000)["keys"] == listed_before
