"""Score reviews with Amazon Comprehend: sentiment in batches, key phrases and entities optional.

    import boto3
    from training_code.reviews.comprehend import score_reviews
    scores = score_reviews(boto3.client("comprehend"), bodies, key_phrases=True)

The module's notebook runs the low-rated-bodies query in Athena and scores a sample of the
answers. Comprehend takes at most 25 texts per ``BatchDetectSentiment`` call and at most
5,000 bytes of UTF-8 per text, so texts are cut at that many bytes on a character boundary
(never inside a multi-byte character) and sent 25 at a time; ``<br />`` (the data set's line
breaks) become real line breaks first. Empty texts are not sent (Comprehend rejects them) and
come back with an error instead of scores; so do texts the service lists in its ``ErrorList``.
Throttling is retried by the boto3 client (configure its retry mode, not this module).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import pandas as pd

MAX_BATCH_SIZE = 25  # BatchDetectSentiment's limit on TextList
MAX_TEXT_BYTES = 5_000  # the per-document limit of the sentiment APIs, in UTF-8 bytes
SCORE_NAMES = ("Positive", "Negative", "Neutral", "Mixed")
EMPTY_TEXT = "EmptyText"


def truncate_utf8(text: str, max_bytes: int = MAX_TEXT_BYTES) -> str:
    """``text`` cut to at most ``max_bytes`` of UTF-8, ending on a whole character."""
    encoded = text.encode("utf-8")
    if len(encoded) <= max_bytes:
        return text
    # A cut inside a multi-byte character leaves an incomplete tail, which "ignore" drops.
    return encoded[:max_bytes].decode("utf-8", errors="ignore")


def _with_line_breaks(text: str | None) -> str:
    return (text or "").replace("<br />", "\n").strip()


def prepare_text(text: str | None) -> str:
    """A review body as Comprehend should see it: real line breaks, within the byte limit."""
    return truncate_utf8(_with_line_breaks(text))


def _batches(indexes: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    for start in range(0, len(indexes), size):
        yield indexes[start : start + size]


def detect_sentiment(client: Any, texts: Sequence[str | None], language_code: str = "en"):
    """One result per text, in order: ``sentiment``, the four scores, or ``error``."""
    prepared = [prepare_text(text) for text in texts]
    results = [
        {
            "index": i,
            "text": text,
            "truncated": len(text) < len(_with_line_breaks(original)),
            "sentiment": None,
            **{name.lower(): None for name in SCORE_NAMES},
            "error": None,
        }
        for i, (text, original) in enumerate(zip(prepared, texts, strict=True))
    ]
    sendable = [i for i, text in enumerate(prepared) if text]
    for result in results:
        if not result["text"]:
            result["error"] = f"{EMPTY_TEXT}: nothing to score"
    for batch in _batches(sendable, MAX_BATCH_SIZE):
        response = client.batch_detect_sentiment(
            TextList=[prepared[i] for i in batch], LanguageCode=language_code
        )
        for item in response["ResultList"]:
            result = results[batch[item["Index"]]]
            result["sentiment"] = item["Sentiment"]
            for name in SCORE_NAMES:
                result[name.lower()] = item["SentimentScore"][name]
        for error in response["ErrorList"]:
            results[batch[error["Index"]]]["error"] = (
                f"{error['ErrorCode']}: {error['ErrorMessage']}"
            )
    return results


def detect_key_phrases(client: Any, texts: Sequence[str | None], language_code: str = "en"):
    """The key phrases of each text (an empty list for an empty text)."""
    phrases = []
    for text in map(prepare_text, texts):
        if not text:
            phrases.append([])
            continue
        response = client.detect_key_phrases(Text=text, LanguageCode=language_code)
        phrases.append([phrase["Text"] for phrase in response["KeyPhrases"]])
    return phrases


def detect_entities(client: Any, texts: Sequence[str | None], language_code: str = "en"):
    """The entities of each text as ``"text (TYPE)"`` (an empty list for an empty text)."""
    entities = []
    for text in map(prepare_text, texts):
        if not text:
            entities.append([])
            continue
        response = client.detect_entities(Text=text, LanguageCode=language_code)
        entities.append([f"{e['Text']} ({e['Type']})" for e in response["Entities"]])
    return entities


def score_reviews(
    client: Any,
    texts: Sequence[str | None],
    *,
    language_code: str = "en",
    key_phrases: bool = False,
    entities: bool = False,
) -> pd.DataFrame:
    """Sentiment (and optionally key phrases and entities) of each text, one row per text."""
    frame = pd.DataFrame(detect_sentiment(client, texts, language_code))
    if key_phrases:
        frame["key_phrases"] = detect_key_phrases(client, texts, language_code)
    if entities:
        frame["entities"] = detect_entities(client, texts, language_code)
    return frame
