"""The emulator's rules for Comprehend's entities and key phrases, on their own: the API's
entity types, offsets that point at the text, and the phrases a reader would pick."""

from __future__ import annotations

import pytest

from workshopctl.emulator.executors.comprehend_rules import entities, key_phrases

# Entity.Type's values in the Comprehend API reference (botocore's model of it).
ENTITY_TYPES = {"PERSON", "LOCATION", "ORGANIZATION", "COMMERCIAL_ITEM", "EVENT", "DATE",
                "QUANTITY", "TITLE", "OTHER"}  # fmt: skip
REVIEW = (
    "I am 5'8\" and 130 lbs, and bought it in May for a wedding on June 3, 2019 at Nordstrom "
    "in California. My husband loves the color! The fabric is soft but the zipper broke, "
    "so i may return it. Size 8 fits, $89 was too much."
)


def _typed(text: str) -> set[tuple[str, str]]:
    return {(e["Type"], e["Text"]) for e in entities(text)}


def test_entities_of_a_review_have_the_apis_types_and_offsets():
    found = entities(REVIEW)

    assert {e["Type"] for e in found} <= ENTITY_TYPES
    for entity in found:
        assert set(entity) == {"Score", "Type", "Text", "BeginOffset", "EndOffset"}
        assert REVIEW[entity["BeginOffset"] : entity["EndOffset"]] == entity["Text"]
        assert 0 < entity["Score"] <= 1
    assert [e["BeginOffset"] for e in found] == sorted(e["BeginOffset"] for e in found)
    assert _typed(REVIEW) >= {
        ("QUANTITY", "5'8\""),
        ("QUANTITY", "130 lbs"),
        ("QUANTITY", "Size 8"),
        ("QUANTITY", "$89"),
        ("DATE", "May"),
        ("DATE", "June 3, 2019"),
        ("EVENT", "a wedding"),
        ("ORGANIZATION", "Nordstrom"),
        ("LOCATION", "California"),
        ("PERSON", "My husband"),
    }


@pytest.mark.parametrize(
    "text", ["i may return it", "it may run small", "the fabric is lovely", "I love it"]
)
def test_no_entity_where_there_is_none(text):
    """ "may" the verb is no month; plain praise names nothing."""
    assert entities(text) == []


def test_overlapping_rules_claim_the_text_once():
    found = entities("ordered on May 3, 2019 in size 8")
    assert [(e["Type"], e["Text"]) for e in found] == [
        ("DATE", "May 3, 2019"),
        ("QUANTITY", "size 8"),
    ]


def test_key_phrases_are_the_noun_phrases_with_their_determiners():
    text = "Love this dress! it's sooo pretty. i bought a petite and love the length on me."
    phrases = key_phrases(text)

    assert [p["Text"] for p in phrases] == ["this dress", "sooo", "a petite", "the length"]
    for phrase in phrases:
        assert set(phrase) == {"Score", "Text", "BeginOffset", "EndOffset"}
        assert text[phrase["BeginOffset"] : phrase["EndOffset"]] == phrase["Text"]


def test_key_phrases_drop_verbs_adverbs_adjectives_and_bare_numbers():
    phrases = [p["Text"] for p in key_phrases("it fits perfectly, really cute. i am 5'8")]
    assert phrases == []


def test_a_phrase_keeps_its_modifiers_and_loses_a_trailing_adjective():
    phrases = [p["Text"] for p in key_phrases("a major design flaw. the fabric soft")]
    assert phrases == ["a major design flaw", "the fabric"]


def test_the_rules_are_deterministic():
    assert entities(REVIEW) == entities(REVIEW)
    assert key_phrases(REVIEW) == key_phrases(REVIEW)
