"""Amazon Comprehend's sentiment, entity and key-phrase calls, answered by local models (there is
no Comprehend on one machine), in the API's own shapes and limits, and labelled as local in every
answer.

The model: TF-IDF over word uni- and bigrams with a class-balanced logistic regression fitted by
SGD (0.3 s; lbfgs takes 17-24 s here for 0.05 more balanced accuracy: 0.62 against 0.66), trained
once per account on the star ratings of the reviews the workshop deploys (the raw bucket's
``reviews_tsv`` table: 1-2 stars NEGATIVE, 3 NEUTRAL, 4-5 POSITIVE). It has no MIXED class (its
score is 0). Each answer carries the header ``x-emulator-model`` naming it, which boto3 returns
in ``ResponseMetadata.HTTPHeaders``.

Entities and key phrases (DetectEntities, BatchDetectEntities, DetectKeyPhrases,
BatchDetectKeyPhrases) come from rules over word lists and text patterns
(:mod:`.comprehend_rules`), deterministic, labelled the same way.

Limits as the Comprehend API reference states them
(https://docs.aws.amazon.com/comprehend/latest/APIReference/API_DetectSentiment.html,
API_BatchDetectSentiment.html, API_DetectEntities.html, API_DetectKeyPhrases.html,
API_BatchDetectEntities.html, API_BatchDetectKeyPhrases.html) and the Developer Guide's
"Guidelines and quotas" (https://docs.aws.amazon.com/comprehend/latest/dg/guidelines-and-limits.html):
a batch takes 1 to 25 texts of at most 5 KB each; a single DetectSentiment text at most 5 KB, a
single DetectEntities or DetectKeyPhrases text at most 100 KB; an empty text is an error of its
own. Only English is accepted (``en`` is what the models know; other languages Comprehend
supports fail as unsupported here). Every operation is billed in the same 100-character units.
"""

from __future__ import annotations

import io
import threading

import pandas as pd

from workshopctl.emulator.executors import comprehend_rules
from workshopctl.emulator.server import Reply, ServiceError
from workshopctl.emulator.wire import Call

MAX_BATCH = 25
MAX_TEXT_BYTES = 5_000  # a batch's texts, and DetectSentiment's
MAX_SINGLE_TEXT_BYTES = 100_000  # DetectEntities' and DetectKeyPhrases' one text
MODEL_HEADER = "x-emulator-model"
RULES_DESCRIPTION = (
    "local stand-in for Amazon Comprehend: rules (word lists and text patterns, English only; "
    "workshopctl/emulator/executors/comprehend_rules.py), not Comprehend's models"
)


class SentimentModel:
    """Trained on first use from the deployed reviews (the catalog names where they are)."""

    def __init__(self, account):
        self.account = account
        self._lock = threading.Lock()
        self._fitted = None
        self.description = ""

    def _train(self):
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import SGDClassifier

        glue = self.account.client("glue", label="comprehend service")
        s3 = self.account.client("s3", label="comprehend service")
        database = glue.get_databases()["DatabaseList"][0]["Name"]
        table = glue.get_table(DatabaseName=database, Name="reviews_tsv")["Table"]
        bucket, _, prefix = table["StorageDescriptor"]["Location"][5:].partition("/")
        frames = []
        for item in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", []):
            body = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
            compression = "gzip" if item["Key"].endswith(".gz") else None
            frames.append(
                pd.read_csv(io.BytesIO(body), sep="\t", quoting=3, compression=compression,
                            usecols=["review_body", "star_rating"], dtype={"review_body": str})
            )  # fmt: skip
        reviews = pd.concat(frames).dropna()
        reviews = reviews[reviews["review_body"].str.strip() != ""]
        labels = pd.cut(
            reviews["star_rating"], [0, 2, 3, 5], labels=["NEGATIVE", "NEUTRAL", "POSITIVE"]
        ).astype(str)
        vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
        model = SGDClassifier(loss="log_loss", alpha=3e-5, class_weight="balanced", random_state=0)
        model.fit(vectorizer.fit_transform(reviews["review_body"]), labels)
        self.description = (
            "local stand-in for Amazon Comprehend: TF-IDF + logistic regression trained on "
            f"{len(reviews):,} star-rated reviews of the workshop's lake (no MIXED class)"
        )
        return vectorizer, model

    def score(self, texts: list[str]) -> list[dict]:
        with self._lock:
            if self._fitted is None:
                self._fitted = self._train()
        vectorizer, model = self._fitted
        probabilities = model.predict_proba(vectorizer.transform(texts))
        results = []
        for row in probabilities:
            scores = dict(zip(model.classes_, row, strict=True))
            results.append(
                {
                    "Sentiment": max(scores, key=scores.get),
                    "SentimentScore": {
                        "Positive": float(scores.get("POSITIVE", 0.0)),
                        "Negative": float(scores.get("NEGATIVE", 0.0)),
                        "Neutral": float(scores.get("NEUTRAL", 0.0)),
                        "Mixed": 0.0,
                    },
                }
            )
        return results


def _checked(text: object, limit: int = MAX_TEXT_BYTES) -> str | None:
    """The error message Comprehend gives for this text, or None when it is scored."""
    if not isinstance(text, str) or not text.strip():
        return "Input text is empty"
    if len(text.encode()) > limit:
        return f"Input text size exceeds limit. Max length of request text allowed is {limit} bytes"
    return None


def units(texts) -> int:
    """Comprehend bills 100-character units, at least 3 per document (Amazon Comprehend
    pricing: "Requests are measured in units of 100 characters, with a 3 unit minimum")."""
    return sum(max(3, -(-len(text) // 100)) for text in texts if isinstance(text, str))


def _language(call: Call) -> None:
    if call.params.get("LanguageCode") != "en":
        raise ServiceError(
            "UnsupportedLanguageException",
            "the emulator's sentiment model knows English only, not "
            f"{call.params.get('LanguageCode')}",
        )


def _single(analyse, limit: int, label):
    """A Detect* operation: one text in, ``analyse(texts)[0]`` out."""

    def execute(call: Call, forward) -> Reply:
        _language(call)
        call.usage["comprehend_units"] = units([call.params.get("Text")])
        error = _checked(call.params.get("Text"), limit)
        if error:
            raise ServiceError(
                "TextSizeLimitExceededException" if "size" in error else "InvalidRequestException",
                error,
            )
        return label(analyse([call.params["Text"]])[0])

    return execute


def _batch(analyse, label):
    """A BatchDetect* operation: each text scored or reported in ErrorList by its index."""

    def execute(call: Call, forward) -> Reply:
        _language(call)
        texts = call.params.get("TextList") or []
        if not 1 <= len(texts) <= MAX_BATCH:
            raise ServiceError(
                "BatchSizeLimitExceededException", f"TextList takes 1 to {MAX_BATCH} texts"
            )
        errors = {i: e for i, text in enumerate(texts) if (e := _checked(text))}
        call.usage["comprehend_units"] = units([t for i, t in enumerate(texts) if i not in errors])
        scored = [i for i in range(len(texts)) if i not in errors]
        results = analyse([texts[i] for i in scored]) if scored else []
        return label(
            {
                "ResultList": [{"Index": i, **r} for i, r in zip(scored, results, strict=True)],
                "ErrorList": [
                    {
                        "Index": i,
                        "ErrorCode": "INTERNAL_SERVER_ERROR"
                        if "size" not in e
                        else "TEXT_SIZE_EXCEEDED",
                        "ErrorMessage": e,
                    }
                    for i, e in errors.items()
                ],
            }
        )

    return execute


def _labelled(description):
    """A JSON reply carrying the header that names the local model (``description()``)."""

    def label(value: dict) -> Reply:
        reply = Reply.of_json(value)
        reply.headers.append((MODEL_HEADER, description()))
        return reply

    return label


def _entities(texts: list[str]) -> list[dict]:
    return [{"Entities": comprehend_rules.entities(text)} for text in texts]


def _key_phrases(texts: list[str]) -> list[dict]:
    return [{"KeyPhrases": comprehend_rules.key_phrases(text)} for text in texts]


def install(account) -> None:
    model = SentimentModel(account)
    sentiment = _labelled(lambda: model.description)
    rules = _labelled(lambda: RULES_DESCRIPTION)
    operations = {
        "DetectSentiment": _single(model.score, MAX_TEXT_BYTES, sentiment),
        "BatchDetectSentiment": _batch(model.score, sentiment),
        "DetectEntities": _single(_entities, MAX_SINGLE_TEXT_BYTES, rules),
        "BatchDetectEntities": _batch(_entities, rules),
        "DetectKeyPhrases": _single(_key_phrases, MAX_SINGLE_TEXT_BYTES, rules),
        "BatchDetectKeyPhrases": _batch(_key_phrases, rules),
    }
    for operation, execute in operations.items():
        account.execute("comprehend", operation, execute)
