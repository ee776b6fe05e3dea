"""Wiring only: the Chalice app, its routes and schedules, each one line into chalicelib."""

from chalice import Chalice, Rate

from chalicelib import audit, runtime
from chalicelib.api import aws_json
from chalicelib.config import settings

app = Chalice(app_name="kms")


@app.route("/", methods=["POST"], content_types=["application/x-amz-json-1.1", "application/json"])
def aws_json_1_1():  # type: ignore[no-untyped-def]
    return aws_json.handle(app.current_request, app.lambda_context)


@app.schedule(Rate(1, unit=Rate.HOURS))
def scheduled_jobs(event):  # type: ignore[no-untyped-def]
    runtime.sweeper().run(runtime.now())


@app.schedule(Rate(5, unit=Rate.MINUTES))
def seal_audit_digest(event):  # type: ignore[no-untyped-def]
    audit.seal_digest()


if settings().local_admin:
    from chalicelib.api.local_admin import local_admin

    app.register_blueprint(local_admin)
