"""Local-mode admin routes: move the service clock, run the scheduled jobs now.

Registered only when KMS_LOCAL_ADMIN=1, which the local launcher sets and no deployment does,
so that a user's test can say "enable rotation, advance 366 days, run the jobs, see the new
version" in a second. Not part of the AWS API; JSON in, JSON out.
"""

from __future__ import annotations

import json
from typing import Any

from chalice.app import Blueprint, Response

from chalicelib import runtime

local_admin = Blueprint(__name__)


@local_admin.route("/_local/clock", methods=["GET"])
def get_clock() -> Response:
    return _json(200, {"now": runtime.now().isoformat()})


@local_admin.route("/_local/clock", methods=["POST"], content_types=["application/json"])
def advance_clock() -> Response:
    body = local_admin.current_request.json_body or {}
    seconds = body.get("advance_seconds", 0) + 86400 * body.get("advance_days", 0)
    if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or seconds < 0:
        return _json(400, {"message": "advance_seconds / advance_days must be non-negative numbers"})
    return _json(200, {"now": runtime.clock().advance(seconds).isoformat()})


@local_admin.route("/_local/jobs", methods=["POST"])
def run_jobs() -> Response:
    report = runtime.sweeper().run(runtime.now())
    return _json(200, {"rotated": report.rotated, "deleted": report.deleted, "failed": report.failed})


def _json(status: int, body: dict[str, Any]) -> Response:
    return Response(json.dumps(body), status_code=status, headers={"Content-Type": "application/json"})
