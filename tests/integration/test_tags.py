"""TagResource, UntagResource, ListResourceTags and tags given to CreateKey."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from kms_helpers import KEY_ARN_PREFIX, expect_error


def _tags(kms: Any, key_id: str) -> dict[str, str]:
    tags: dict[str, str] = {}
    kwargs: dict[str, Any] = {"KeyId": key_id}
    while True:
        page = kms.list_resource_tags(**kwargs)
        tags.update({t["TagKey"]: t["TagValue"] for t in page["Tags"]})
        if not page.get("Truncated"):
            return tags
        kwargs["Marker"] = page["NextMarker"]


@pytest.mark.aws
def test_new_key_has_no_tags(kms: Any, key_id: str) -> None:
    resp = kms.list_resource_tags(KeyId=key_id)

    assert resp["Tags"] == []
    assert resp["Truncated"] is False


@pytest.mark.aws
def test_tag_resource_adds_tags(kms: Any, key_id: str) -> None:
    kms.tag_resource(KeyId=key_id, Tags=[{"TagKey": "team", "TagValue": "payments"},
                                         {"TagKey": "cost-center", "TagValue": "42"}])

    assert _tags(kms, key_id) == {"team": "payments", "cost-center": "42"}


@pytest.mark.aws
def test_tag_resource_by_key_arn(kms: Any, key_id: str) -> None:
    kms.tag_resource(KeyId=KEY_ARN_PREFIX + key_id, Tags=[{"TagKey": "k", "TagValue": "v"}])

    assert _tags(kms, KEY_ARN_PREFIX + key_id) == {"k": "v"}


@pytest.mark.aws
def test_tag_resource_overwrites_value_of_existing_tag_key(kms: Any, key_id: str) -> None:
    kms.tag_resource(KeyId=key_id, Tags=[{"TagKey": "env", "TagValue": "dev"}])

    kms.tag_resource(KeyId=key_id, Tags=[{"TagKey": "env", "TagValue": "prod"}])

    assert _tags(kms, key_id) == {"env": "prod"}


@pytest.mark.aws
def test_tag_keys_are_case_sensitive(kms: Any, key_id: str) -> None:
    kms.tag_resource(KeyId=key_id, Tags=[{"TagKey": "Env", "TagValue": "a"}, {"TagKey": "env", "TagValue": "b"}])

    assert _tags(kms, key_id) == {"Env": "a", "env": "b"}


@pytest.mark.aws
def test_tag_value_may_be_empty(kms: Any, key_id: str) -> None:
    kms.tag_resource(KeyId=key_id, Tags=[{"TagKey": "flag", "TagValue": ""}])

    assert _tags(kms, key_id) == {"flag": ""}


@pytest.mark.aws
def test_untag_resource_removes_only_named_tags(kms: Any, key_id: str) -> None:
    kms.tag_resource(KeyId=key_id, Tags=[{"TagKey": "a", "TagValue": "1"}, {"TagKey": "b", "TagValue": "2"},
                                         {"TagKey": "c", "TagValue": "3"}])

    kms.untag_resource(KeyId=key_id, TagKeys=["a", "c"])

    assert _tags(kms, key_id) == {"b": "2"}


@pytest.mark.aws
def test_untag_resource_ignores_absent_tag_keys(kms: Any, key_id: str) -> None:
    kms.tag_resource(KeyId=key_id, Tags=[{"TagKey": "a", "TagValue": "1"}])

    kms.untag_resource(KeyId=key_id, TagKeys=["never-set"])

    assert _tags(kms, key_id) == {"a": "1"}


@pytest.mark.aws
def test_tags_of_keys_are_independent(kms: Any, new_key: Any) -> None:
    first = new_key(Tags=[{"TagKey": "owner", "TagValue": "first"}])["KeyId"]
    second = new_key(Tags=[{"TagKey": "owner", "TagValue": "second"}])["KeyId"]

    kms.untag_resource(KeyId=first, TagKeys=["owner"])

    assert _tags(kms, first) == {}
    assert _tags(kms, second) == {"owner": "second"}


@pytest.mark.aws
def test_tags_of_disabled_key_can_be_changed(kms: Any, key_id: str) -> None:
    kms.disable_key(KeyId=key_id)

    kms.tag_resource(KeyId=key_id, Tags=[{"TagKey": "k", "TagValue": "v"}])

    assert _tags(kms, key_id) == {"k": "v"}


# Not aws: moto ignores Limit and Marker on ListResourceTags.
def test_list_resource_tags_pages_with_limit_and_marker(kms: Any, key_id: str) -> None:
    wanted = {f"tag-{i}": f"value-{i}" for i in range(5)}
    kms.tag_resource(KeyId=key_id, Tags=[{"TagKey": k, "TagValue": v} for k, v in wanted.items()])

    seen: dict[str, str] = {}
    kwargs: dict[str, Any] = {"KeyId": key_id, "Limit": 2}
    for _ in range(10):
        page = kms.list_resource_tags(**kwargs)
        assert len(page["Tags"]) <= 2
        for tag in page["Tags"]:
            assert tag["TagKey"] not in seen
            seen[tag["TagKey"]] = tag["TagValue"]
        if not page["Truncated"]:
            assert "NextMarker" not in page
            break
        kwargs["Marker"] = page["NextMarker"]
    else:
        pytest.fail("ListResourceTags paging did not end after 10 pages for 5 tags")

    assert seen == wanted


# Not aws: moto ignores Marker on ListResourceTags.
def test_list_resource_tags_with_unknown_marker_is_invalid_marker(kms: Any, key_id: str) -> None:
    expect_error("InvalidMarkerException", kms.list_resource_tags, KeyId=key_id, Marker="not-a-marker")


@pytest.mark.aws
@pytest.mark.parametrize("operation", ["tag_resource", "untag_resource", "list_resource_tags"])
def test_tagging_unknown_key_is_not_found(kms: Any, operation: str) -> None:
    missing = str(uuid.uuid4())
    extra: dict[str, dict[str, Any]] = {
        "tag_resource": {"Tags": [{"TagKey": "k", "TagValue": "v"}]},
        "untag_resource": {"TagKeys": ["k"]},
        "list_resource_tags": {},
    }

    message = expect_error("NotFoundException", getattr(kms, operation), KeyId=missing, **extra[operation])

    assert message == f"Key '{KEY_ARN_PREFIX}{missing}' does not exist"


# Not aws: moto stores tags whose key starts with the reserved aws: prefix.
@pytest.mark.parametrize("tag_key", ["aws:owner", "aws:"])
def test_tag_key_with_reserved_aws_prefix_is_tag_exception(kms: Any, key_id: str, tag_key: str) -> None:
    expect_error("TagException", kms.tag_resource, KeyId=key_id, Tags=[{"TagKey": tag_key, "TagValue": "v"}])

    assert _tags(kms, key_id) == {}


# Not aws: moto stores tags whose key starts with the reserved aws: prefix.
def test_create_key_with_reserved_aws_tag_is_tag_exception(kms: Any) -> None:
    expect_error("TagException", kms.create_key, Tags=[{"TagKey": "aws:owner", "TagValue": "v"}])


# Not aws: moto does not check tag key and value lengths.
@pytest.mark.parametrize("tag", [
    {"TagKey": "k" * 129, "TagValue": "v"},
    {"TagKey": "k", "TagValue": "v" * 257},
    {"TagKey": "", "TagValue": "v"},
])
def test_tag_too_long_or_empty_key_is_validation_error(kms_unvalidated: Any, key_id: str, tag: dict[str, str]) -> None:
    expect_error("ValidationException", kms_unvalidated.tag_resource, KeyId=key_id, Tags=[tag])

    assert _tags(kms_unvalidated, key_id) == {}


# Not aws: moto does not check tag key and value lengths.
def test_create_key_with_too_long_tag_key_is_validation_error(kms_unvalidated: Any) -> None:
    expect_error("ValidationException", kms_unvalidated.create_key, Tags=[{"TagKey": "k" * 129, "TagValue": "v"}])


@pytest.mark.aws
def test_tag_of_maximum_lengths_is_accepted(kms: Any, key_id: str) -> None:
    kms.tag_resource(KeyId=key_id, Tags=[{"TagKey": "k" * 128, "TagValue": "v" * 256}])

    assert _tags(kms, key_id) == {"k" * 128: "v" * 256}


@pytest.mark.aws
def test_create_key_with_tags_lists_them(kms: Any) -> None:
    key_id = kms.create_key(Tags=[{"TagKey": "a", "TagValue": "1"}, {"TagKey": "b", "TagValue": "2"}])["KeyMetadata"]["KeyId"]

    assert _tags(kms, key_id) == {"a": "1", "b": "2"}
