"""infra/ templates: valid CloudFormation (cfn-lint), and the tables match the pynamodb models."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from cfnlint.api import ManualArgs, lint_file

from chalicelib.audit.models import AuditChainModel, AuditDigestModel, AuditEventModel
from chalicelib.store.models import AliasModel, KeyModel

INFRA = Path(__file__).resolve().parents[2] / "infra"
TEMPLATES = sorted(INFRA.glob("*.yaml"))


def _table(resource: str) -> dict[str, Any]:
    # The templates use only the long intrinsic form (Fn::Sub), so plain YAML reads them.
    template = yaml.safe_load((INFRA / "tables.yaml").read_text())
    return dict(template["Resources"][resource]["Properties"])


def _keys(schema: list[dict[str, str]]) -> dict[str, str]:
    return {k["AttributeName"]: k["KeyType"] for k in schema}


@pytest.mark.parametrize("template", TEMPLATES, ids=[t.name for t in TEMPLATES])
def test_template_passes_cfn_lint(template: Path) -> None:
    matches = lint_file(template, config=ManualArgs(regions=["us-east-1", "eu-west-1"]))
    assert [str(m) for m in matches] == []


@pytest.mark.parametrize(("resource", "model", "suffix"), [
    ("KeysTable", KeyModel, "-keys"),
    ("AliasesTable", AliasModel, "-aliases"),
    ("AuditEventsTable", AuditEventModel, "-audit-events"),
    ("AuditChainsTable", AuditChainModel, "-audit-chains"),
    ("AuditDigestsTable", AuditDigestModel, "-audit-digests"),
])
def test_table_matches_its_model(resource: str, model: Any, suffix: str) -> None:
    table = _table(resource)
    schema = model._get_schema()
    assert table["TableName"] == {"Fn::Sub": "${TablePrefix}" + suffix}
    assert model.Meta.table_name.endswith(suffix)
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert _keys(table["KeySchema"]) == _keys(schema["key_schema"])
    defined = {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]}
    assert defined == {a["AttributeName"]: a["AttributeType"] for a in schema["attribute_definitions"]}
    indexes = {i["IndexName"]: (_keys(i["KeySchema"]), i["Projection"])
               for i in table.get("GlobalSecondaryIndexes", [])}
    assert indexes == {i["index_name"]: (_keys(i["key_schema"]), i["projection"])
                       for i in schema["global_secondary_indexes"]}


def test_tables_holding_key_material_are_never_deleted_by_a_stack_change() -> None:
    template = yaml.safe_load((INFRA / "tables.yaml").read_text())
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::DynamoDB::Table":
            assert resource["DeletionPolicy"] == resource["UpdateReplacePolicy"] == "Retain"
            assert resource["Properties"]["DeletionProtectionEnabled"] is True
            assert resource["Properties"]["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
