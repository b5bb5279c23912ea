"""The emulator's local stand-in for Comprehend's built-in entity and key-phrase models: rules,
not a trained model, deterministic, in the shapes the Comprehend API reference gives.

Amazon Comprehend's models are not available on one machine, and no tagger ships with the
project (NLTK's and spaCy's English models download from outside the package indexes). The
reviews the workshop deploys are mostly lower case ("i bought a petite and am 5'8\""), so
capitalisation says little; the rules therefore use the text's shape and small word lists:

* **entities** (the types of the API's ``Entity.Type``: PERSON, LOCATION, ORGANIZATION,
  COMMERCIAL_ITEM, EVENT, DATE, QUANTITY, TITLE, OTHER; "Entities" in the Comprehend Developer
  Guide, https://docs.aws.amazon.com/comprehend/latest/dg/how-entities.html): measures
  (heights, weights, sizes, prices, percentages, counted units) as QUANTITY; months, weekdays,
  years and relative days as DATE; holidays and occasions as EVENT; a gazetteer of shops and
  brands as ORGANIZATION and COMMERCIAL_ITEM, of places as LOCATION; family and people words
  after a possessive ("my husband") as PERSON. TITLE and OTHER are never given.
* **key phrases** ("Key phrases" in the Developer Guide: a noun and the modifiers that
  distinguish it, e.g. "a beautiful day",
  https://docs.aws.amazon.com/comprehend/latest/dg/how-key-phrases.html): each clause is cut at
  function words and common verbs; a run of content words, with the determiner or possessive
  before it, is a phrase once trailing adjectives and adverbs are trimmed off.

Offsets are zero-based character offsets into the text (``BeginOffset`` of the first character,
``EndOffset`` one past the last, as Comprehend's answers show). Scores are fixed per rule: they
say how the rule was matched, not a probability.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

_NUMBER = r"\d+(?:[.,]\d+)?"
# (pattern, score) for QUANTITY, most specific first; matched case-insensitively.
_QUANTITIES = [
    (r"\b(?:size|sz)\s+(?:\d{1,2}p?|xxs|xs|s|m|l|xl|xxl)\b", 0.95),  # size 8, size xs
    (r"\b\d\s*'\s*\d{1,2}\s*(?:\"|''|”)?", 0.99),  # a height: 5'8", 5' 4
    (rf"\b{_NUMBER}\s*(?:lbs?|pounds?|kg|kilos?)\b", 0.98),  # a weight
    (r"\b\d{1,2}(?:\.\d+)?\s*(?:inches|inch|in\b|cm|\"|”)", 0.97),  # a length, not "2019 in"
    (r"\$\s?\d+(?:[.,]\d+)?", 0.98),  # a price
    (rf"\b{_NUMBER}\s*(?:%|percent\b)", 0.97),
    (r"\b[23]\d\s?(?:aa|a|b|c|dd|ddd|d)\b", 0.9),  # a bra size: 34b, 36 dd
    (rf"\b{_NUMBER}\s+(?:sizes?|times|pairs?|colou?rs|pieces?|stars?|days?|weeks?|months?)\b",
     0.9),
]  # fmt: skip
_MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december"
    "|jan|feb|mar|apr|jun|jul|aug|sept|oct|nov|dec"
)
_DATES = [
    (rf"\b(?:{_MONTHS})\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+(?:19|20)\d\d)?\b", 0.98),
    (rf"\b(?:{_MONTHS})(?:\s+(?:19|20)\d\d)?\b", 0.9),
    (r"\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)s?\b", 0.95),
    (r"\b(?:19|20)\d\d\b", 0.85),
    (r"\b(?:today|yesterday|tomorrow|tonight)\b", 0.9),
    (r"\b(?:last|this|next)\s+(?:year|month|week|weekend|spring|summer|fall|autumn|winter)\b",
     0.9),
]  # fmt: skip
# "May" the month and "may" the verb: only a capitalised May, or May with a day, is a date.
_AMBIGUOUS_MONTHS = {"may", "mar", "jun", "dec", "jan"}
_EVENTS = (
    r"\b(?:christmas|thanksgiving|easter|halloween|new year'?s(?: eve)?|valentine'?s day"
    r"|mother'?s day|hanukkah|memorial day|labor day|fourth of july|black friday"
    r"|(?:a|the|my|our|her|his|their)\s+(?:wedding|rehearsal dinner|baby shower|bridal shower"
    r"|graduation|prom|birthday|anniversary|funeral|holiday party|christmas party))\b"
)
# "gap", "target" and "la" are left out of the gazetteers: in reviews they are mostly words.
_ORGANIZATIONS = (
    r"\b(?:retailer|nordstrom|anthropologie|macy'?s|j\.?\s?crew|banana republic"
    r"|old navy|zara|h&m|loft|ann taylor|talbots|kohl'?s|amazon|ebay|costco|walmart"
    r"|neiman marcus|saks|bloomingdale'?s|free people|urban outfitters|madewell)\b"
)
_COMMERCIAL_ITEMS = (
    r"\b(?:spanx|nydj|levi'?s|uggs?|birkenstocks?|converse|toms|lululemons?|iphone|kindle"
    r"|ag jeans|paige jeans|hudson jeans|seven jeans)\b"
)
_LOCATIONS = (
    r"\b(?:california|new york|texas|florida|hawaii|chicago|boston|seattle|portland|denver"
    r"|atlanta|miami|san francisco|los angeles|nyc|washington dc|arizona|colorado"
    r"|minnesota|europe|paris|london|italy|france|mexico|canada|the beach|the south"
    r"|the midwest|the east coast|the west coast|new england)\b"
)
_PEOPLE = (
    r"\b(?:my|her|his|our|their)\s+(?:husband|wife|daughters?|sons?|mom|mother|dad|father"
    r"|sisters?|brothers?|boyfriend|girlfriend|fianc[eé]e?|friends?|best friend|grandmother"
    r"|aunt|niece|mother-in-law|sister-in-law|coworkers?|co-workers?|kids?|children)\b"
)
_GAZETTEERS = [
    (_EVENTS, "EVENT", 0.9),
    (_ORGANIZATIONS, "ORGANIZATION", 0.85),
    (_COMMERCIAL_ITEMS, "COMMERCIAL_ITEM", 0.85),
    (_LOCATIONS, "LOCATION", 0.85),
    (_PEOPLE, "PERSON", 0.8),
]


def _matches(text: str, pattern: str, flags: int = re.IGNORECASE) -> Iterator[re.Match]:
    return re.finditer(pattern, text, flags)


def entities(text: str) -> list[dict]:
    """Comprehend ``Entity`` objects (Score, Type, Text, BeginOffset, EndOffset) in text order;
    where two rules claim overlapping text, the earlier rule in the list above wins."""
    claimed: list[tuple[int, int]] = []
    found: list[dict] = []

    def claim(match: re.Match, kind: str, score: float) -> None:
        begin, end = match.span()
        while end > begin and text[end - 1].isspace():
            end -= 1
        if any(begin < other_end and other_begin < end for other_begin, other_end in claimed):
            return
        claimed.append((begin, end))
        found.append(
            {"Score": score, "Type": kind, "Text": text[begin:end], "BeginOffset": begin,
             "EndOffset": end}
        )  # fmt: skip

    for pattern, score in _QUANTITIES:
        for match in _matches(text, pattern):
            claim(match, "QUANTITY", score)
    for pattern, score in _DATES:
        for match in _matches(text, pattern):
            word = match.group(0).split()[0].lower()
            alone = len(match.group(0).split()) == 1
            if word in _AMBIGUOUS_MONTHS and alone and not match.group(0)[0].isupper():
                continue
            claim(match, "DATE", score)
    for pattern, kind, score in _GAZETTEERS:
        for match in _matches(text, pattern):
            claim(match, kind, score)
    return sorted(found, key=lambda entity: entity["BeginOffset"])


# -- key phrases ---------------------------------------------------------------------------------
def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_DETERMINERS = _words(
    "a an the this that these those my your his her its our their some any every each no "
    "another both"
)
# Words that end a noun phrase: pronouns, prepositions, conjunctions, auxiliaries, the verbs and
# adverbs reviews use most. Content words are everything else.
_BREAKS = _words(
    """
    i me you he she it we they them him us myself yourself itself who whom whose which what
    where when why how there here than then so too very really quite just also even still only
    about above across after against along among around as at before behind below beneath
    beside between beyond but by down during except for from in inside into like near of off on
    onto out outside over past since through throughout till to toward towards under until up
    upon with within without and or nor yet if because although though while unless whether
    not no never always often sometimes usually ever again already almost enough rather
    am is are was were be been being have has had having do does did doing done will would
    shall should can could may might must ought get gets got getting gotten go goes went going
    gone make makes made making take takes took taking taken come comes came coming give gives
    gave given see sees saw seen look looks looked looking seem seems seemed feel feels
    felt feeling fit fits fitted fitting wear wears wore worn wearing love loves loved like
    likes liked want wants wanted need needs needed buy buys bought order ordered ordering
    return returned returning run runs ran keep kept think thought know knew say said tried try
    tries find found put hit hits hang hangs hung paired pull pulled wash washed
    washing bought received arrived decided hoped hope expected expect recommend recommended
    highly definitely probably actually absolutely totally completely extremely super pretty
    overall however otherwise maybe perhaps sure yes ok okay oh well lot lots bit much many
    more most less least all none one ones something anything everything nothing someone
    anyone everyone else own other such same work wish back right bc imo btw fyi lol broke
    tore ripped shrank shrunk faded pilled fell sent
    """
)
# Adjectives reviews use alone ("so pretty"): a phrase does not end on one of these.
_ADJECTIVES = _words(
    """
    good great nice beautiful gorgeous pretty cute lovely perfect comfortable comfy soft small
    large big little tight loose short long huge tiny true petite flattering unflattering
    fabulous amazing awesome wonderful terrible awful bad poor cheap expensive thin thick heavy
    light sheer warm cool happy sad disappointed glad sure excited worth fine real usual regular
    normal different similar new old easy hard wide narrow boxy baggy itchy stiff stretchy
    classic casual dressy elegant sexy fun flowy slim snug roomy high low full half whole
    beige black white blue red green pink navy grey gray brown tan cream ivory purple yellow
    orange
    """
)
_WORD = re.compile(r"[a-z0-9]+(?:['’-][a-z0-9]+)*", re.IGNORECASE)
_CLAUSE = re.compile(r"[^.,;:!?()\n\"“”-]+")
MAX_PHRASE_WORDS = 5


_CONTRACTION = re.compile(r"^(\w+)['’](t|m|re|ve|ll|d|s)$", re.IGNORECASE)
_NOT_ADVERBS = frozenset({"belly", "family", "jelly", "july", "assembly", "fly"})


def _ends_phrase(word: str) -> bool:
    """A function word, a common verb, a contraction of one ("it's", "didn't") or an -ly
    adverb: the phrase before it ends there."""
    lower = word.lower()
    if lower in _BREAKS:
        return True
    contraction = _CONTRACTION.match(lower)
    if contraction and (contraction.group(2) != "s" or contraction.group(1) in _BREAKS):
        return True
    return lower.endswith("ly") and len(lower) > 4 and lower not in _NOT_ADVERBS


def _is_phrase(words: list[re.Match], determiner: re.Match | None) -> bool:
    """Not a number alone ("5'8" is a quantity), and one word alone only when it looks like a
    noun: not an -ed or -ing form."""
    if all(any(c.isdigit() for c in w.group(0)) for w in words):
        return False
    if determiner is None and len(words) == 1:
        lone = words[0].group(0).lower()
        return len(lone) > 3 and not lone.endswith(("ed", "ing"))
    return True


def _phrase_end(words: list[re.Match]) -> int:
    """How many of ``words`` the phrase keeps once trailing adjectives are trimmed."""
    end = len(words)
    while end and words[end - 1].group(0).lower() in _ADJECTIVES:
        end -= 1
    return end


def key_phrases(text: str) -> list[dict]:
    """Comprehend ``KeyPhrase`` objects (Score, Text, BeginOffset, EndOffset) in text order."""
    phrases = []
    for clause in _CLAUSE.finditer(text):
        run: list[re.Match] = []
        determiner: re.Match | None = None
        for word in [*_WORD.finditer(clause.group(0)), None]:
            lower = word.group(0).lower() if word else ""
            if word is not None and not _ends_phrase(lower) and lower not in _DETERMINERS:
                run.append(word)
                continue
            # "a petite", "the black": an adjective after a determiner names the thing.
            kept = min(_phrase_end(run) or (len(run) if determiner else 0), MAX_PHRASE_WORDS)
            if kept and _is_phrase(run[:kept], determiner):
                first = determiner or run[0]
                last = run[kept - 1]
                begin, end = clause.start() + first.start(), clause.start() + last.end()
                score = 0.99 if determiner else 0.9
                phrases.append(
                    {"Score": score, "Text": text[begin:end], "BeginOffset": begin,
                     "EndOffset": end}
                )  # fmt: skip
            run = []
            determiner = word if lower in _DETERMINERS else None
    return phrases
