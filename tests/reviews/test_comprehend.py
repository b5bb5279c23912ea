"""The Comprehend helper against botocore's Stubber (moto has no BatchDetectSentiment).

The Stubber checks every request against the service model, so a wrong parameter name or type
fails here as it would against the service.
"""

from __future__ import annotations

import boto3
import pandas as pd
import pytest
from botocore.stub import Stubber

from training_code.reviews.comprehend import (
    MAX_BATCH_SIZE,
    MAX_TEXT_BYTES,
    prepare_text,
    score_reviews,
    truncate_utf8,
)


@pytest.fixture
def comprehend(monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    client = boto3.client("comprehend", region_name="eu-west-1")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def sentiment_response(texts: list[str], failing: set[int] = frozenset()) -> dict:
    """Scores that depend on the text, so a mixed-up order would show."""
    results, errors = [], []
    for index, text in enumerate(texts):
        if index in failing:
            errors.append({"Index": index, "ErrorCode": "INTERNAL_SERVER_ERROR",
                           "ErrorMessage": "try again"})  # fmt: skip
            continue
        negative = 0.9 if "bad" in text else 0.05
        results.append({
            "Index": index,
            "Sentiment": "NEGATIVE" if negative > 0.5 else "POSITIVE",
            "SentimentScore": {"Positive": 1 - negative - 0.02, "Negative": negative,
                               "Neutral": 0.01, "Mixed": 0.01},
        })  # fmt: skip
    return {"ResultList": results, "ErrorList": errors}


def test_truncation_is_byte_exact_and_never_splits_a_character():
    text = "é" * 3000  # 2 bytes each: 6,000 bytes
    cut = truncate_utf8(text)
    assert len(cut.encode("utf-8")) == MAX_TEXT_BYTES and cut == "é" * 2500
    odd = "a" + "€" * 2000  # 1 + 3 bytes each: the limit falls inside a character
    cut = truncate_utf8(odd)
    assert len(cut.encode("utf-8")) <= MAX_TEXT_BYTES and odd.startswith(cut)
    assert cut.encode("utf-8").decode("utf-8") == cut
    assert truncate_utf8("short") == "short"
    assert prepare_text("runs small.<br />love it ") == "runs small.\nlove it"


def test_sentiment_goes_in_batches_of_25_and_comes_back_in_order(comprehend):
    client, stubber = comprehend
    texts = [f"review {i} is {'bad' if i % 3 == 0 else 'great'}" for i in range(60)]
    for start in range(0, 60, MAX_BATCH_SIZE):
        batch = texts[start : start + MAX_BATCH_SIZE]
        stubber.add_response(
            "batch_detect_sentiment", sentiment_response(batch),
            {"TextList": batch, "LanguageCode": "en"},
        )  # fmt: skip
    scores = score_reviews(client, texts)
    assert list(scores["index"]) == list(range(60))
    expected = ["NEGATIVE" if i % 3 == 0 else "POSITIVE" for i in range(60)]
    assert list(scores["sentiment"]) == expected
    assert scores["error"].isna().all()
    assert (scores["negative"] > 0.5).tolist() == [i % 3 == 0 for i in range(60)]


def test_empty_long_and_failed_texts(comprehend):
    client, stubber = comprehend
    long_text = "bad fit. " * 1000  # 9,000 bytes
    texts = ["", long_text, None, "great<br />dress", "bad zip"]
    sent = [truncate_utf8(long_text.strip()), "great\ndress", "bad zip"]
    stubber.add_response(
        "batch_detect_sentiment", sentiment_response(sent, failing={2}),
        {"TextList": sent, "LanguageCode": "en"},
    )  # fmt: skip
    scores = score_reviews(client, texts).set_index("index")
    assert scores.loc[0, "error"].startswith("EmptyText") and pd.isna(scores.loc[2, "sentiment"])
    assert scores.loc[1, "truncated"] and scores.loc[1, "sentiment"] == "NEGATIVE"
    assert not scores.loc[3, "truncated"] and scores.loc[3, "sentiment"] == "POSITIVE"
    assert scores.loc[4, "error"] == "INTERNAL_SERVER_ERROR: try again"
    assert pd.isna(scores.loc[4, "sentiment"])


def test_key_phrases_and_entities_are_optional_per_text_calls(comprehend):
    client, stubber = comprehend
    texts = ["The retailer sent a torn dress from Seattle", ""]
    stubber.add_response(
        "batch_detect_sentiment", sentiment_response(texts[:1]),
        {"TextList": texts[:1], "LanguageCode": "en"},
    )  # fmt: skip
    stubber.add_response(
        "detect_key_phrases",
        {"KeyPhrases": [{"Text": "a torn dress", "Score": 0.99, "BeginOffset": 17,
                         "EndOffset": 29}]},
        {"Text": texts[0], "LanguageCode": "en"},
    )  # fmt: skip
    stubber.add_response(
        "detect_entities",
        {"Entities": [{"Text": "Seattle", "Type": "LOCATION", "Score": 0.98, "BeginOffset": 35,
                       "EndOffset": 42}]},
        {"Text": texts[0], "LanguageCode": "en"},
    )  # fmt: skip
    scores = score_reviews(client, texts, key_phrases=True, entities=True)
    assert scores.loc[0, "key_phrases"] == ["a torn dress"]
    assert scores.loc[0, "entities"] == ["Seattle (LOCATION)"]
    assert scores.loc[1, "key_phrases"] == [] and scores.loc[1, "entities"] == []
