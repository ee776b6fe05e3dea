"""Events of the scheduled jobs, shaped like AWS KMS's EventBridge events (source aws.kms)."""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any

import boto3

from chalicelib.config import Settings

log = logging.getLogger(__name__)

ROTATION = "KMS CMK Rotation"
DELETION = "KMS CMK Deletion"


class EventPublisher:
    """Sends each job event to the configured EventBridge bus and to the log."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._client: Any = None

    def publish(self, detail_type: str, key_arn: str, key_id: str, now: datetime) -> None:
        """Best effort after the state change is stored: a failed send is logged, not retried."""
        detail = {"key-id": key_id}
        log.info(json.dumps({"event": detail_type, "key": key_arn, "time": now.isoformat()}))
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
