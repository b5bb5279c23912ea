"""The policy evaluator against the examples and rules of AWS's IAM documentation.

Each test names the documented rule it checks; the pages are listed in the module under test.
"""

from __future__ import annotations

import pytest

from workshopctl.iam_evaluation import (
    Principal,
    Request,
    UnsupportedCondition,
    evaluate,
    wildcard_match,
)

ACCOUNT = "123456789012"
ROLE = Principal(f"arn:aws:iam::{ACCOUNT}:role/ada", ACCOUNT, {"attendee": "ada"})
SAGEMAKER = Principal("sagemaker.amazonaws.com", ACCOUNT)


def allow(action, resource, **extra):
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def policy(*statements):
    return ("p", {"Version": "2012-10-17", "Statement": list(statements)})


def decide(statements, action, resource, principal=ROLE, context=None, **kwargs):
    request = Request(principal, action, resource, context or {})
    return evaluate(request, [policy(*statements)], **kwargs)


BUCKET = "arn:aws:s3:::lake"


def test_no_statement_means_implicit_deny():
    assert not decide([], "s3:GetObject", f"{BUCKET}/a")


def test_explicit_deny_overrides_any_allow():
    """Evaluation logic: 'An explicit deny in any policy overrides any allows.'"""
    statements = [
        allow("s3:*", "*"),
        {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"},
    ]
    assert decide(statements, "s3:GetObject", f"{BUCKET}/a")
    decision = decide(statements, "s3:DeleteObject", f"{BUCKET}/a")
    assert not decision and "explicit deny" in decision.reason


def test_action_names_are_case_insensitive_and_wildcards_span_the_name():
    """Action element: 'action names are case-insensitive'; '*' matches any characters."""
    assert decide([allow("S3:get*", "*")], "s3:GetObjectVersion", BUCKET)
    assert not decide([allow("s3:Get?bject", "*")], "s3:GetObjectAcl", BUCKET)


def test_resource_arns_are_case_sensitive():
    """ARNs are case-sensitive in their resource part (Resource element)."""
    assert not decide(
        [allow("s3:GetObject", f"{BUCKET}/Data/*")], "s3:GetObject", f"{BUCKET}/data/x"
    )


def test_not_action_allows_everything_else():
    """NotAction with Allow: 'allows all of the actions except the ones listed'."""
    statement = {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}
    assert decide([statement], "s3:ListBucket", BUCKET)
    assert not decide([statement], "iam:PassRole", "arn:aws:iam::1:role/x")


def test_not_resource_with_deny_protects_all_but_the_listed():
    statements = [
        allow("s3:PutObject", "*"),
        {"Effect": "Deny", "Action": "s3:PutObject", "NotResource": f"{BUCKET}/mine/*"},
    ]
    assert decide(statements, "s3:PutObject", f"{BUCKET}/mine/x")
    assert not decide(statements, "s3:PutObject", f"{BUCKET}/yours/x")


def test_policy_variables_in_resources_come_from_the_request_context():
    """Policy variables: '${aws:PrincipalTag/...}' is replaced by the principal's tag value."""
    statement = allow("s3:PutObject", f"{BUCKET}/attendees/${{aws:PrincipalTag/attendee}}/*")
    assert decide([statement], "s3:PutObject", f"{BUCKET}/attendees/ada/model.tar.gz")
    assert not decide([statement], "s3:PutObject", f"{BUCKET}/attendees/grace/model.tar.gz")
    untagged = Principal(f"arn:aws:iam::{ACCOUNT}:role/x", ACCOUNT)
    assert not decide([statement], "s3:PutObject", f"{BUCKET}/attendees//x", principal=untagged)


def test_special_variables_are_literals():
    """'${*}' is a literal asterisk, not a wildcard."""
    statement = allow("s3:GetObject", f"{BUCKET}/a${{*}}b")
    assert decide([statement], "s3:GetObject", f"{BUCKET}/a*b")
    assert not decide([statement], "s3:GetObject", f"{BUCKET}/axxb")


def test_conditions_are_anded_across_keys_and_ored_within_values():
    statement = allow(
        "sagemaker:CreateTrainingJob",
        "*",
        Condition={
            "StringEquals": {"aws:RequestTag/workshop": ["mlws", "other"]},
            "StringLike": {"aws:RequestTag/attendee": "a*"},
        },
    )
    ok = {"aws:RequestTag/workshop": "other", "aws:RequestTag/attendee": "ada"}
    assert decide([statement], "sagemaker:CreateTrainingJob", "x", context=ok)
    wrong = {"aws:RequestTag/workshop": "mlws", "aws:RequestTag/attendee": "bob"}
    assert not decide([statement], "sagemaker:CreateTrainingJob", "x", context=wrong)


def test_absent_key_fails_a_positive_operator_and_passes_a_negated_one():
    """Condition operators: an absent key does not match, except that negated operators
    (StringNotEquals, ...) then evaluate to true."""
    positive = allow("s3:GetObject", "*", Condition={"StringEquals": {"s3:prefix": "x/"}})
    negated = allow("s3:GetObject", "*", Condition={"StringNotLike": {"s3:prefix": "x/*"}})
    assert not decide([positive], "s3:GetObject", BUCKET)
    assert decide([negated], "s3:GetObject", BUCKET)


def test_if_exists_passes_when_the_key_is_absent():
    statement = allow(
        "kms:Decrypt",
        "*",
        Condition={"StringEqualsIfExists": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}},
    )
    assert decide([statement], "kms:Decrypt", "k")
    assert not decide(
        [statement], "kms:Decrypt", "k", context={"kms:ViaService": "ec2.eu-west-1.amazonaws.com"}
    )


def test_null_checks_presence():
    statement = allow("s3:PutObject", "*", Condition={"Null": {"aws:RequestTag/workshop": "false"}})
    assert decide([statement], "s3:PutObject", "x", context={"aws:RequestTag/workshop": "w"})
    assert not decide([statement], "s3:PutObject", "x")


def test_condition_keys_are_case_insensitive_values_are_not():
    statement = allow(
        "s3:ListBucket", BUCKET, Condition={"StringLike": {"S3:Prefix": "attendees/ada/*"}}
    )
    assert decide([statement], "s3:ListBucket", BUCKET, context={"s3:prefix": "attendees/ada/x"})
    assert not decide(
        [statement], "s3:ListBucket", BUCKET, context={"s3:prefix": "attendees/Ada/x"}
    )


def test_policy_variables_in_condition_values():
    statement = allow(
        "sagemaker:CreateTrainingJob",
        "*",
        Condition={"StringEquals": {"aws:RequestTag/attendee": "${aws:PrincipalTag/attendee}"}},
    )
    assert decide(
        [statement], "sagemaker:CreateTrainingJob", "x", context={"aws:RequestTag/attendee": "ada"}
    )
    assert not decide(
        [statement], "sagemaker:CreateTrainingJob", "x", context={"aws:RequestTag/attendee": "bob"}
    )


def test_for_all_values_and_for_any_value():
    """Multivalued keys: ForAllValues is true for an empty or absent key; ForAnyValue needs one."""
    all_values = allow(
        "sagemaker:AddTags",
        "*",
        Condition={"ForAllValues:StringEquals": {"aws:TagKeys": ["workshop", "attendee"]}},
    )
    any_value = allow(
        "sagemaker:AddTags",
        "*",
        Condition={"ForAnyValue:StringEquals": {"aws:TagKeys": ["workshop"]}},
    )
    assert decide([all_values], "sagemaker:AddTags", "x", context={"aws:TagKeys": ["workshop"]})
    assert not decide(
        [all_values], "sagemaker:AddTags", "x", context={"aws:TagKeys": ["workshop", "owner"]}
    )
    assert decide([all_values], "sagemaker:AddTags", "x")
    assert decide(
        [any_value], "sagemaker:AddTags", "x", context={"aws:TagKeys": ["owner", "workshop"]}
    )
    assert not decide([any_value], "sagemaker:AddTags", "x")


def test_arn_like_and_bool_and_numeric():
    statement = allow(
        "iam:PassRole",
        "*",
        Condition={
            "ArnLike": {"aws:SourceArn": "arn:aws:sagemaker:*:123456789012:training-job/mlws-*"},
            "Bool": {"aws:SecureTransport": True},
            "NumericLessThanEquals": {"s3:max-keys": "10"},
        },
    )
    context = {
        "aws:SourceArn": "arn:aws:sagemaker:eu-west-1:123456789012:training-job/mlws-a",
        "s3:max-keys": "5",
    }
    assert decide([statement], "iam:PassRole", "r", context=context)
    assert not decide([statement], "iam:PassRole", "r", context={**context, "s3:max-keys": "50"})


def test_unknown_operators_raise_instead_of_guessing():
    statement = allow(
        "s3:GetObject",
        "*",
        Condition={"DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}},
    )
    with pytest.raises(UnsupportedCondition):
        decide(
            [statement], "s3:GetObject", "x", context={"aws:CurrentTime": "2026-01-01T00:00:00Z"}
        )


def test_a_resource_policy_naming_the_principal_allows_within_the_account():
    """Within one account, an Allow in the resource-based policy for the principal suffices."""
    topic = "arn:aws:sns:eu-west-1:123456789012:alerts"
    resource_policy = (
        "topic",
        {
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "budgets.amazonaws.com"},
                    "Action": "SNS:Publish",
                    "Resource": topic,
                }
            ]
        },
    )
    budgets = Principal("budgets.amazonaws.com", ACCOUNT)
    assert evaluate(Request(budgets, "sns:Publish", topic), [], resource_policy)
    cloudwatch = Principal("cloudwatch.amazonaws.com", ACCOUNT)
    assert not evaluate(Request(cloudwatch, "sns:Publish", topic), [], resource_policy)


def test_a_deny_in_the_resource_policy_wins_over_an_identity_allow():
    bucket_policy = (
        "bucket",
        {
            "Statement": [
                {
                    "Effect": "Deny",
                    "Principal": {"AWS": "*"},
                    "Action": "s3:*",
                    "Resource": f"{BUCKET}/*",
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                }
            ]
        },
    )
    request = Request(ROLE, "s3:GetObject", f"{BUCKET}/x")
    assert evaluate(request, [policy(allow("s3:GetObject", "*"))], bucket_policy)
    insecure = Request(ROLE, "s3:GetObject", f"{BUCKET}/x", {"aws:SecureTransport": "false"})
    assert not evaluate(insecure, [policy(allow("s3:GetObject", "*"))], bucket_policy)


def test_a_key_policy_must_allow_or_delegate_to_iam():
    """KMS: 'no principal has any permissions to a KMS key unless the key policy allows it'."""
    key = "arn:aws:kms:eu-west-1:123456789012:key/k"
    delegating = (
        "key",
        {
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                    "Action": "kms:*",
                    "Resource": "*",
                }
            ]
        },
    )
    closed = (
        "key",
        {
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": "arn:aws:iam::1:role/other"},
                    "Action": "kms:*",
                    "Resource": "*",
                }
            ]
        },
    )
    identity = [policy(allow("kms:Decrypt", key))]
    request = Request(ROLE, "kms:Decrypt", key)
    assert evaluate(request, identity, delegating, key_policy=True)
    assert not evaluate(request, [], delegating, key_policy=True)
    assert not evaluate(request, identity, closed, key_policy=True)
    assert not evaluate(
        Request(SAGEMAKER, "kms:Decrypt", key), identity, delegating, key_policy=True
    )


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("arn:aws:s3:::b/*", "arn:aws:s3:::b/", True),
        ("arn:aws:s3:::b/a?c", "arn:aws:s3:::b/abc", True),
        ("arn:aws:s3:::b/a+c", "arn:aws:s3:::b/aac", False),  # regex characters are literal
        ("arn:aws:s3:::b/(x)", "arn:aws:s3:::b/(x)", True),
    ],
)
def test_wildcards_are_the_only_special_characters(pattern, value, expected):
    assert wildcard_match(pattern, value) is expected
