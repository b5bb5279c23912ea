"""Comprehend's entity and key-phrase operations in the emulated account, called as the first
attendee's notebook role (so the synthesized policy must allow them): the API's response
shapes, its documented limits, and the header that says a local model answered."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.emulator.conftest import attendee_role_arn
from workshopctl.emulator.executors.comprehend import MODEL_HEADER

REVIEWS = [
    "I am 5'4\" and 120 lbs; the small fits. Wore it to a wedding in June.",
    " ",
    "The fabric is thin and the zipper broke after one wash.",
]


@pytest.fixture(scope="module")
def comprehend(emulated, assembly):
    return emulated.client("comprehend", "test comprehend", attendee_role_arn(assembly))


def _local(answer: dict) -> str:
    return answer["ResponseMetadata"]["HTTPHeaders"][MODEL_HEADER]


def test_batch_entities_answer_per_index_and_report_the_empty_text(comprehend):
    answer = comprehend.batch_detect_entities(TextList=REVIEWS, LanguageCode="en")

    by_index = {item["Index"]: item["Entities"] for item in answer["ResultList"]}
    assert set(by_index) == {0, 2}
    assert {(e["Type"], e["Text"]) for e in by_index[0]} >= {
        ("QUANTITY", "5'4\""), ("QUANTITY", "120 lbs"), ("EVENT", "a wedding"), ("DATE", "June"),
    }  # fmt: skip
    assert [(e["Index"], e["ErrorCode"]) for e in answer["ErrorList"]] == [
        (1, "INTERNAL_SERVER_ERROR")
    ]
    assert "rules" in _local(answer) and "local stand-in" in _local(answer)


def test_batch_key_phrases_answer_in_the_apis_shape(comprehend):
    answer = comprehend.batch_detect_key_phrases(TextList=REVIEWS[2:], LanguageCode="en")

    (result,) = answer["ResultList"]
    assert [p["Text"] for p in result["KeyPhrases"]] == ["The fabric", "the zipper"]
    for phrase in result["KeyPhrases"]:
        assert REVIEWS[2][phrase["BeginOffset"] : phrase["EndOffset"]] == phrase["Text"]
    assert answer["ErrorList"] == []


def test_single_text_operations_take_up_to_100_kb(comprehend):
    long_text = "The fabric is lovely. " * 1000  # 22 KB: over a batch's 5 KB, under 100 KB
    entities = comprehend.detect_entities(Text=REVIEWS[0], LanguageCode="en")
    phrases = comprehend.detect_key_phrases(Text=long_text, LanguageCode="en")

    assert {e["Type"] for e in entities["Entities"]} >= {"QUANTITY", "EVENT", "DATE"}
    assert len(phrases["KeyPhrases"]) == 1000
    assert "local stand-in" in _local(phrases)
    in_a_batch = comprehend.batch_detect_key_phrases(TextList=[long_text], LanguageCode="en")
    assert in_a_batch["ErrorList"][0]["ErrorCode"] == "TEXT_SIZE_EXCEEDED"
    with pytest.raises(ClientError) as too_long:
        comprehend.detect_entities(Text="a" * 100_001, LanguageCode="en")
    assert too_long.value.response["Error"]["Code"] == "TextSizeLimitExceededException"


@pytest.mark.parametrize("operation", ["batch_detect_entities", "batch_detect_key_phrases"])
def test_batches_hold_at_most_25_texts(comprehend, operation):
    with pytest.raises(ClientError) as too_many:
        getattr(comprehend, operation)(TextList=["a text"] * 26, LanguageCode="en")
    assert too_many.value.response["Error"]["Code"] == "BatchSizeLimitExceededException"


def test_a_language_the_rules_do_not_know_is_refused(comprehend):
    with pytest.raises(ClientError) as unsupported:
        comprehend.detect_key_phrases(Text="la robe est belle", LanguageCode="fr")
    assert unsupported.value.response["Error"]["Code"] == "UnsupportedLanguageException"


def test_each_call_is_billed_in_100_character_units(emulated, comprehend):
    comprehend.batch_detect_entities(TextList=["x" * 250, "short"], LanguageCode="en")
    calls = emulated.log.calls("test comprehend")
    last = [c for c in calls if c.operation == "BatchDetectEntities"]
    assert last[-1].usage["comprehend_units"] == 3 + 3  # 250 characters: 3 units; "short": 3
