"""AWS JSON 1.1 dialect (placeholder until the dispatcher lands)."""

from chalice import Response


def handle(request):  # type: ignore[no-untyped-def]
    return Response(
        body='{"__type":"UnknownOperationException","message":""}',
        status_code=400,
        headers={"Content-Type": "application/x-amz-json-1.1"},
    )
