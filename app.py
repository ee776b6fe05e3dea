"""Wiring only: the Chalice app, its routes and schedules, each one line into chalicelib."""

from chalice import Chalice

from chalicelib.api import aws_json

app = Chalice(app_name="kms")


@app.route("/", methods=["POST"], content_types=["application/x-amz-json-1.1", "application/json"])
def aws_json_1_1():  # type: ignore[no-untyped-def]
    return aws_json.handle(app.current_request, app.lambda_context)
