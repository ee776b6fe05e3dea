"""A lean DynamoDB PutItem for the one write on every call's path: the audit record.

Through pynamodb and the botocore client, a PutItem costs ~1.2 ms of Python (event hooks, user
agent, validation, serialisation, parsing) on top of what the store itself spends; this path
signs with botocore's own SigV4 signer and credentials and sends the JSON over a kept-alive
connection for ~0.2 ms (measured: docs/decisions/0004-audit-chain.md). The item still comes from
the pynamodb model (`Model.serialize()`), so the table's shape has one definition.
"""

from __future__ import annotations

import http.client
import json
import os
import ssl
import threading
import time
from typing import Any
from urllib.parse import urlsplit

import botocore.session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.httpsession import where

from chalicelib.errors import DependencyTimeoutException, KMSInternalException
from chalicelib.store.errors import ConditionFailed

_THROTTLED = ("ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded")
_CONTENT_TYPE = "application/x-amz-json-1.0"


class DirectTable:
    """PutItem/GetItem on one table through one persistent connection per process."""

    def __init__(self, table: str, region: str, endpoint: str | None, timeout: float = 5.0) -> None:
        self.table = table
        self._region = region
        self._url = endpoint or f"https://dynamodb.{region}.amazonaws.com"
        parts = urlsplit(self._url)
        self._secure = parts.scheme == "https"
        self._host = parts.hostname or "localhost"
        self._port = parts.port
        self._timeout = timeout
        self._conn: http.client.HTTPConnection | None = None
        self._pid = 0
        self._credentials: Any = None
        self._lock = threading.Lock()

    def put(self, item: dict[str, Any], condition: str) -> None:
        """Conditional PutItem; raises ConditionFailed, or a retryable KmsError when unsure."""
        self._call("PutItem", {"TableName": self.table, "Item": item, "ConditionExpression": condition})

    def get(self, key: dict[str, Any]) -> dict[str, Any] | None:
        """Consistent GetItem: the item in DynamoDB JSON, or None."""
        out = self._call("GetItem", {"TableName": self.table, "Key": key, "ConsistentRead": True})
        item = out.get("Item")
        return item if isinstance(item, dict) else None

    def batch_put(self, items: list[bytes], attempts: int = 5) -> None:
        """Unconditional BatchWriteItem of up to 25 items, each given as its DynamoDB JSON text.

        Unprocessed items are retried with a short backoff; raises a retryable KmsError if some
        are still unwritten after `attempts` rounds.
        """
        if not 0 < len(items) <= 25:
            raise ValueError("BatchWriteItem takes 1 to 25 items")
        # Built as text: the items are already JSON, and parsing them only to re-encode is waste.
        prefix = b'{"RequestItems":{' + json.dumps(self.table).encode() + b':['
        data = prefix + b",".join(b'{"PutRequest":{"Item":' + item + b"}}" for item in items) + b"]}}"
        for attempt in range(attempts):
            out = self._call("BatchWriteItem", data)
            unprocessed = (out.get("UnprocessedItems") or {}).get(self.table) or []
            if not unprocessed:
                return
            body = {"RequestItems": {self.table: unprocessed}}
            data = json.dumps(body, separators=(",", ":")).encode()
            time.sleep(0.01 * 2**attempt)
        raise DependencyTimeoutException("The audit store is busy; retry the request.")

    def _call(self, operation: str, body: dict[str, Any] | bytes) -> dict[str, Any]:
        data = body if isinstance(body, bytes) else json.dumps(body, separators=(",", ":")).encode()
        with self._lock:
            # One retry on a fresh connection: a kept-alive connection the server closed fails
            # on first use. A retried PutItem that had landed comes back as ConditionFailed,
            # which the caller resolves by reading the item.
            for attempt in (1, 2):
                try:
                    status, payload = self._send(operation, data)
                    break
                except (OSError, http.client.HTTPException):
                    self._close()
                    if attempt == 2:
                        raise DependencyTimeoutException("The audit store did not answer; retry the request.") from None
        if status == 200:
            result: dict[str, Any] = json.loads(payload) if payload else {}
            return result
        try:
            kind = str(json.loads(payload).get("__type", ""))
        except ValueError:
            kind = ""
        if kind.endswith("ConditionalCheckFailedException"):
            raise ConditionFailed()
        if kind.endswith(_THROTTLED) or status >= 500:
            raise DependencyTimeoutException("The audit store is busy; retry the request.")
        raise KMSInternalException("The audit store refused the write; retry the request.")

    def _send(self, operation: str, data: bytes) -> tuple[int, bytes]:
        request = AWSRequest("POST", self._url + "/", data=data, headers={
            "X-Amz-Target": f"DynamoDB_20120810.{operation}", "Content-Type": _CONTENT_TYPE,
        })
        SigV4Auth(self._frozen_credentials(), "dynamodb", self._region).add_auth(request)
        conn = self._connection()
        conn.request("POST", "/", body=data, headers=dict(request.headers.items()))
        response = conn.getresponse()
        return response.status, response.read()

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None or self._pid != os.getpid():
            # After a fork the parent's socket is shared: never reuse it.
            if self._secure:
                context = ssl.create_default_context(cafile=where())
                self._conn = http.client.HTTPSConnection(self._host, self._port, timeout=self._timeout,
                                                         context=context)
            else:
                self._conn = http.client.HTTPConnection(self._host, self._port, timeout=self._timeout)
            self._pid = os.getpid()
        return self._conn

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
        self._conn = None

    def _frozen_credentials(self) -> Any:
        if self._credentials is None:
            self._credentials = botocore.session.get_session().get_credentials()
            if self._credentials is None:
                raise KMSInternalException("No credentials for the audit store.")
        # Refreshable (Lambda role) credentials renew themselves here.
        return self._credentials.get_frozen_credentials()
