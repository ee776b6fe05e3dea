"""Every wired handler accepts exactly the members its botocore input shape defines."""

import inspect

import pytest

from chalicelib.api.aws_json import HANDLERS
from chalicelib.api.shapes import operation, snake


@pytest.mark.parametrize("name", sorted(HANDLERS))
def test_handler_signature_matches_the_model(name):
    model = operation(name)
    assert model is not None, f"{name} is not a KMS operation"
    members = {snake(m) for m in (model.input_shape.members if model.input_shape else {})}
    params = inspect.signature(HANDLERS[name]).parameters
    accepted = {p for p in params if p != "ctx"}
    assert accepted == members
    required = {snake(m) for m in (model.input_shape.required_members if model.input_shape else [])}
    for p in accepted - required:
        assert params[p].default is not inspect.Parameter.empty, f"{name}.{p} must be optional"
