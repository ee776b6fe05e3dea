"""Events of the scheduled jobs: an EventBridge event shaped like AWS KMS's (source aws.kms) and
an AwsServiceEvent audit record (RotateKey, DeleteKey) as CloudTrail has them."""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any

import boto3

from chalicelib import audit
from chalicelib.config import Settings
from chalicelib.errors import KmsError

log = logging.getLogger(__name__)

ROTATION = "KMS CMK Rotation"
DELETION = "KMS CMK Deletion"
#: The CloudTrail eventName AWS KMS records for each job event.
_AUDIT_NAMES = {ROTATION: "RotateKey", DELETION: "DeleteKey"}


class EventPublisher:
    """Sends each job event to the configured EventBridge bus and to the log."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._client: Any = None

    def publish(self, detail_type: str, key_arn: str, key_id: str, now: datetime) -> None:
        """After the state change is stored: a failed send or audit write is logged, not retried
        (the change itself stands; the next sweep finds nothing left to do for this key)."""
        detail = {"key-id": key_id}
        log.info(json.dumps({"event": detail_type, "key": key_arn, "time": now.isoformat()}))
        try:
            audit.emit_service_event(_AUDIT_NAMES[detail_type], key_arn, {"keyId": key_id})
        except KmsError:
            log.exception("could not audit %s for %s", detail_type, key_arn)
        if not self._settings.event_bus:
            return
        entry = {
            "Time": now,
            "Source": self._settings.event_source,
            "Resources": [key_arn],
            "DetailType": detail_type,
            "Detail": json.dumps(detail),
            "EventBusName": self._settings.event_bus,
        }
        try:
            result = self._events().put_events(Entries=[entry])
            if result.get("FailedEntryCount"):
                log.error("EventBridge refused %s for %s: %s", detail_type, key_arn, result["Entries"])
        except Exception:  # the key already changed; a lost notification must not undo that
            log.exception("could not send %s for %s to EventBridge", detail_type, key_arn)

    def _events(self) -> Any:
        if self._client is None:
            self._client = boto3.client(
                "events",
                region_name=self._settings.region,
                endpoint_url=self._settings.events_endpoint,
            )
        return self._client
