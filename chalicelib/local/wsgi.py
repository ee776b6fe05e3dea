"""WSGI callable that serves the Chalice app the way API Gateway's Lambda proxy integration does.

Each WSGI request becomes an API Gateway (REST, v1) proxy event and goes through the app's own
Lambda entry point, `app(event, context)`, so the local server runs exactly the code path that
Lambda runs. `chalice.local.LocalGateway` does the translation (route matching, 403 "Missing
Authentication Token" on unknown paths, CORS preflight); this module adds what it leaves out:

- a request id shared by `requestContext.requestId` and the `x-amzn-RequestId` response header,
  as API Gateway does (the app may set its own header; it is kept);
- bodies are handed over as API Gateway does: text when they are valid UTF-8, otherwise base64
  with `isBase64Encoded`, so any byte sequence reaches the app unchanged;
- the caller's address in `requestContext.identity.sourceIp`.

Run it under a multi-process WSGI server (the local launcher uses granian with one thread per
worker process, which is Lambda's one-event-per-container model).
"""

from __future__ import annotations

import base64
import os
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

from chalice.app import Chalice
from chalice.config import Config
from chalice.local import LocalGateway, LocalGatewayException

#: API Gateway's payload limit; larger requests get 413 as they would in AWS.
MAX_BODY_BYTES = 10 * 1024 * 1024

StartResponse = Callable[[str, list[tuple[str, str]]], Any]

#: granian puts the server's own environment into every WSGI environ; an inherited HTTP_PROXY
#: must not look like a request header (httpoxy).
_INHERITED = {k: v for k, v in os.environ.items() if k.startswith("HTTP_")}


class _ThreadLocalRequest:
    """Keep `app.current_request` per thread, as `chalice local` does, should a worker use threads.

    Chalice stores the request on the app object, which is safe in Lambda (one event per
    container at a time) but not when a server calls the app from several threads.
    """

    _local = threading.local()

    @property
    def current_request(self) -> Any:
        return getattr(self._local, "current_request", None)

    @current_request.setter
    def current_request(self, value: Any) -> None:
        self._local.current_request = value

    @property
    def lambda_context(self) -> Any:
        return getattr(self._local, "lambda_context", None)

    @lambda_context.setter
    def lambda_context(self, value: Any) -> None:
        self._local.lambda_context = value


class _Gateway(LocalGateway):
    """LocalGateway plus the event fields API Gateway sets and LocalGateway does not."""

    _request = threading.local()

    def handle(self, method: str, path: str, headers: dict[str, str], body: bytes | None,
               source_ip: str) -> dict[str, Any]:
        self._request.source_ip = source_ip
        self._request.id = None
        return self.handle_request(method=method, path=path, headers=headers, body=body)

    def request_id(self) -> str | None:
        """The id of this thread's current request (the Lambda context's), once it has one."""
        return getattr(self._request, "id", None)

    def _generate_lambda_context(self) -> Any:
        # One uuid4 per request: the context's id doubles as API Gateway's request id.
        context = super()._generate_lambda_context()
        self._request.id = context.aws_request_id
        return context

    def _generate_lambda_event(self, method: str, path: str, headers: dict[str, Any],
                               body: bytes | None) -> dict[str, Any]:
        event = super()._generate_lambda_event(method, path, headers, body)
        context = event["requestContext"]
        context["requestId"] = self._request.id
        context["identity"]["sourceIp"] = self._request.source_ip
        context["stage"] = "api"
        context["requestTimeEpoch"] = int(time.time() * 1000)
        event["httpMethod"] = method
        event["path"] = context["path"]
        event["resource"] = context["resourcePath"]
        raw = event.get("body")
        if isinstance(raw, bytes):
            try:
                event["body"], event["isBase64Encoded"] = raw.decode("utf-8"), False
            except UnicodeDecodeError:
                event["body"], event["isBase64Encoded"] = base64.b64encode(raw).decode("ascii"), True
        return event


def _wrap(app: Chalice) -> Chalice:
    if not isinstance(app, _ThreadLocalRequest):
        app.__class__ = type("LocalServedChalice", (_ThreadLocalRequest, app.__class__), {})
    return app


def _headers(environ: dict[str, Any]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            if key in _INHERITED and value is _INHERITED[key]:
                continue
            headers[key[5:].replace("_", "-").lower()] = value
    if environ.get("CONTENT_TYPE"):
        headers["content-type"] = environ["CONTENT_TYPE"]
    if environ.get("CONTENT_LENGTH"):
        headers["content-length"] = environ["CONTENT_LENGTH"]
    return headers


def _read_body(environ: dict[str, Any]) -> bytes | None:
    length = environ.get("CONTENT_LENGTH") or ""
    stream = environ["wsgi.input"]
    data: bytes = stream.read(int(length)) if length.isdigit() else stream.read()
    return data or None


def _status(code: int) -> str:
    try:
        return f"{code} {HTTPStatus(code).phrase}"
    except ValueError:
        return f"{code} Unknown"


def _json_error(code: int, error_type: str, message: str) -> tuple[int, dict[str, Any], bytes]:
    headers = {"Content-Type": "application/json", "x-amzn-ErrorType": error_type}
    return code, headers, ('{"message":"%s"}' % message).encode()


class WsgiAdapter:
    """The WSGI application: HTTP request -> proxy event -> `app(event, context)` -> HTTP response."""

    def __init__(self, app: Chalice) -> None:
        self._gateway = _Gateway(_wrap(app), Config.create(app_name=app.app_name, lambda_timeout=900,
                                                           lambda_memory_size=1024))

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        try:
            code, headers, body = self._respond(environ)
        except Exception:  # a bug here must not kill the worker; API Gateway answers 502 then
            # Only the stack, not the message: messages could carry request data.
            stack = "".join(traceback.format_tb(sys.exc_info()[2]))
            print(f"kms-local: adapter error {sys.exc_info()[0]!r}\n{stack}", file=sys.stderr)
            code, headers, body = _json_error(502, "InternalServerErrorException", "Internal server error")
        out: list[tuple[str, str]] = []
        for name, value in headers.items():
            if name.lower() in ("content-length", "connection", "transfer-encoding"):
                continue
            for item in value if isinstance(value, list) else [value]:
                out.append((name, str(item)))
        names = {name.lower() for name, _ in out}
        if "x-amzn-requestid" not in names:
            out.append(("x-amzn-RequestId", self._gateway.request_id() or str(uuid.uuid4())))
        if "content-type" not in names and body:
            out.append(("Content-Type", "application/json"))  # API Gateway's default
        if environ.get("REQUEST_METHOD") == "HEAD":
            body = b""
        out.append(("Content-Length", str(len(body))))
        start_response(_status(code), out)
        return [body]

    def _respond(self, environ: dict[str, Any]) -> tuple[int, dict[str, Any], bytes]:
        length = environ.get("CONTENT_LENGTH") or ""
        if length.isdigit() and int(length) > MAX_BODY_BYTES:
            return _json_error(413, "RequestEntityTooLargeException", "Request Too Long")
        path = environ.get("PATH_INFO") or "/"
        if environ.get("QUERY_STRING"):
            path = f"{path}?{environ['QUERY_STRING']}"
        try:
            response = self._gateway.handle(
                method=environ["REQUEST_METHOD"],
                path=path,
                headers=_headers(environ),
                body=_read_body(environ),
                source_ip=environ.get("REMOTE_ADDR") or "127.0.0.1",
            )
        except LocalGatewayException as e:
            return e.CODE, dict(e.headers), e.body or b""
        headers: dict[str, Any] = dict(response.get("headers") or {})
        headers.update(response.get("multiValueHeaders") or {})
        body = response.get("body")
        if body is None:
            data = b""
        elif response.get("isBase64Encoded"):
            data = base64.b64decode(body)
        elif isinstance(body, bytes):
            data = body
        else:
            data = body.encode("utf-8")
        return int(response["statusCode"]), headers, data


def _load() -> WsgiAdapter:
    from app import app as chalice_app

    return WsgiAdapter(chalice_app)


application = _load()
