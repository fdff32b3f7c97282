"""Fast offline sentiment scoring: VADER's rules over VADER's shipped lexicon, plus a domain layer.

`vaderSentiment` rebuilds lists and lower-cases every word several times per lexicon hit, which caps it near
9k texts/s. `Scorer` applies the same rules (lexicon valence, boosters, ALL-CAPS emphasis, negation in the three
preceding words, 'least', 'but', '!'/'?' emphasis, emoji, normalisation to a compound in [-1, 1]) with one
split, one dict lookup per token and work only on lexicon hits. `Scorer(domain=False)` is the faithful
replica (measured against vaderSentiment in bench/sentiment_bench.py); `domain=True` (the default) adds
`lexicon_domain.yaml` and stops negation at clause punctuation ("not great, but fine").
"""

from __future__ import annotations

import importlib.util
import math
import string
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

B_INCR = 0.293
C_INCR = 0.733
N_SCALAR = -0.74
NEGATIVE_THRESHOLD = -0.05  # VADER's convention: compound <= -0.05 is negative

_PUNCT = string.punctuation
_CLAUSE_END = (",", ".", ";", ":", "!", "?")
# VADER's word lists, as in vaderSentiment 3.3.2 (kept as text: one long list per line would run for pages)
_NEGATE_TEXT = (
    "aint arent cannot cant couldnt darent didnt doesnt ain't aren't can't couldn't daren't didn't doesn't "
    "dont hadnt hasnt havent isnt mightnt mustnt neither don't hadn't hasn't haven't isn't mightn't mustn't "
    "neednt needn't never none nope nor not nothing nowhere oughtnt shant shouldnt uhuh wasnt werent "
    "oughtn't shan't shouldn't uh-uh wasn't weren't without wont wouldnt won't wouldn't rarely seldom despite"
)
_DECR_TEXT = (
    "almost barely hardly kinda kindof kind-of less little marginal marginally occasional occasionally partly "
    "scarce scarcely slight slightly somewhat sorta sortof sort-of"
)
_INCR_TEXT = (
    "absolutely amazingly awfully completely considerable considerably decidedly deeply effing enormous "
    "enormously entirely especially exceptional exceptionally extreme extremely fabulously flipping flippin "
    "frackin fracking fricking frickin frigging friggin fully fuckin fucking fuggin fugging greatly hella "
    "highly hugely incredible incredibly intensely major majorly more most particularly purely quite really "
    "remarkably so substantially thoroughly total totally tremendous tremendously uber unbelievably unusually "
    "utter utterly very"
)
NEGATE = frozenset(_NEGATE_TEXT.split())
_DECR = _DECR_TEXT.split()
_INCR = _INCR_TEXT.split()
BOOSTERS: dict[str, float] = {**dict.fromkeys(_INCR, B_INCR), **dict.fromkeys(_DECR, -B_INCR)}
_SO_THIS = ("so", "this")
_MULTI_WORD_DECR = frozenset(("kind of", "sort of", "just enough"))


def _vader_dir() -> Path:
    spec = importlib.util.find_spec("vaderSentiment")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("vaderSentiment is not installed; it ships the lexicon this scorer uses")
    return Path(next(iter(spec.submodule_search_locations)))


@lru_cache(maxsize=1)
def vader_lexicon() -> dict[str, float]:
    lexicon: dict[str, float] = {}
    for line in (_vader_dir() / "vader_lexicon.txt").read_text(encoding="utf-8").splitlines():
        parts = line.strip().split("\t")
        if len(parts) >= 2:
            lexicon[parts[0]] = float(parts[1])
    return lexicon


@lru_cache(maxsize=1)
def vader_emoji_descriptions() -> dict[str, str]:
    emoji: dict[str, str] = {}
    for line in (_vader_dir() / "emoji_utf8_lexicon.txt").read_text(encoding="utf-8").splitlines():
        parts = line.strip("\n").split("\t")
        if len(parts) >= 2 and len(parts[0]) == 1:  # single code points; modifiers/sequences add nothing
            emoji[parts[0]] = parts[1]
    return emoji


@lru_cache(maxsize=1)
def domain_lexicon() -> dict[str, dict[str, float]]:
    with (Path(__file__).parent / "lexicon_domain.yaml").open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    return {group: {str(k): float(v) for k, v in (data.get(group) or {}).items()} for group in data}


@dataclass(frozen=True, slots=True)
class Score:
    compound: float | None  # None: not scored (empty or not English)

    @property
    def negative(self) -> bool:
        return self.compound is not None and self.compound <= NEGATIVE_THRESHOLD


def looks_english(text: str, lang: str | None = None) -> bool:
    """Trust a declared language; otherwise refuse texts written mostly in a non-Latin script."""
    if lang:
        code = lang.lower()
        if code not in ("und", "unknown", "zxx"):
            return code.startswith("en")
    if text.isascii():
        return True
    letters = ascii_letters = 0
    for char in text:
        if char.isalpha():
            letters += 1
            ascii_letters += char.isascii()
    return letters == 0 or ascii_letters * 2 >= letters


class Scorer:
    """Compound sentiment in [-1, 1] for one text; reuse one instance (building it reads the lexicons)."""

    def __init__(self, domain: bool = True) -> None:
        self.domain = domain
        lexicon = dict(vader_lexicon())
        boosters = dict(BOOSTERS)
        emoji_valence: dict[str, float] = {}
        phrases: dict[str, dict[str, float]] = {}
        for char, description in vader_emoji_descriptions().items():
            valence = sum(lexicon.get(word, 0.0) for word in description.lower().split())
            if valence:
                emoji_valence[char] = valence
        if domain:
            extra = domain_lexicon()
            for word, value in extra.get("words", {}).items():
                if value == 0.0:
                    lexicon.pop(word, None)  # neutral here: also no longer blocks a booster before it
                else:
                    lexicon[word] = value
            boosters.update(extra.get("boosters", {}))
            emoji_valence.update({k[0]: v for k, v in extra.get("emoji", {}).items()})
            for phrase, value in extra.get("phrases", {}).items():
                head, tail = phrase.split(" ", 1)
                phrases.setdefault(head, {})[tail] = value
        for word in boosters:
            lexicon.pop(word, None)  # VADER gives a booster word no valence of its own
        self.lexicon = lexicon
        self.boosters = boosters
        self.phrases = phrases
        self.emoji_valence = emoji_valence
        self._emoji_blank = {ord(char): " " for char in vader_emoji_descriptions()}

    def score(self, text: str, lang: str | None = None) -> Score:
        if not text or not looks_english(text, lang):
            return Score(None)
        compound = self.compound(text)
        return Score(None if compound is None else compound)

    def compound(self, text: str) -> float | None:
        """The compound score, or None when the text has no words at all."""
        emoji_total = 0.0
        if not text.isascii():
            valences = self.emoji_valence
            for char in text:
                if char in valences:
                    emoji_total += valences[char]
            text = text.translate(self._emoji_blank)
        raw = text.split()
        if not raw and not emoji_total:
            return None
        tokens = []
        for word in text.lower().split():
            stripped = word.strip(_PUNCT)
            tokens.append(stripped if len(stripped) > 2 else word)
        lexicon = self.lexicon
        sentiments: list[tuple[int, float]] = []
        skip_next = False
        for i, token in enumerate(tokens):
            if skip_next:
                skip_next = False
                continue
            valence = lexicon.get(token)
            if self.phrases and token in self.phrases and i + 1 < len(tokens):
                phrase_value = self.phrases[token].get(tokens[i + 1])
                if phrase_value is not None:
                    valence, skip_next = phrase_value, True
            if valence is None:
                continue
            if token == "kind" and i + 1 < len(tokens) and tokens[i + 1] == "of":
                continue
            sentiments.append((i, self._modify(valence, i, token, tokens, raw)))
        if not sentiments and not emoji_total:
            return 0.0
        total = emoji_total
        if "but" in tokens:
            but_at = tokens.index("but")
            for i, valence in sentiments:
                total += valence * (0.5 if i < but_at else 1.5)
        else:
            for _, valence in sentiments:
                total += valence
        if total:
            emphasis = min(text.count("!"), 4) * 0.292
            questions = text.count("?")
            if questions > 1:
                emphasis += questions * 0.18 if questions <= 3 else 0.96
            total = total + emphasis if total > 0 else total - emphasis
        return max(-1.0, min(1.0, total / math.sqrt(total * total + 15)))

    def _modify(self, valence: float, i: int, token: str, tokens: list[str], raw: list[str]) -> float:
        """VADER's context rules for the lexicon hit at position i."""
        lexicon = self.lexicon
        if token == "no" and i + 1 < len(tokens) and tokens[i + 1] in lexicon:
            valence = 0.0
        base = valence
        first = 0
        if self.domain:  # negation and boosting do not cross clause punctuation
            first = i
            while first > 0 and first > i - 3 and not raw[first - 1].endswith(_CLAUSE_END):
                first -= 1
        if (
            (i > 0 and tokens[i - 1] == "no")
            or (i > 1 and tokens[i - 2] == "no")
            or (i > 2 and tokens[i - 3] == "no" and tokens[i - 1] in ("or", "nor"))
        ):
            valence = base * N_SCALAR
        cap_diff = raw[i].isupper() and self._cap_differential(raw)
        if cap_diff:
            valence = valence + C_INCR if valence > 0 else valence - C_INCR
        for back in range(3):
            j = i - back - 1
            if j < first or tokens[j] in lexicon:
                continue
            previous = tokens[j]
            boost = self.boosters.get(previous)
            if boost is not None:
                scalar = -boost if valence < 0 else boost
                if raw[j].isupper() and self._cap_differential(raw):
                    scalar = scalar + C_INCR if valence > 0 else scalar - C_INCR
                valence += scalar * (1.0, 0.95, 0.9)[back]
            valence = self._negation(valence, back, i, tokens)
        if i > 2 and tokens[i - 3] not in lexicon:
            # two-word dampeners before the hit ("kind of good"), as VADER's idiom check adds them
            for pair in (f"{tokens[i - 3]} {tokens[i - 2]}", f"{tokens[i - 2]} {tokens[i - 1]}"):
                if pair in _MULTI_WORD_DECR:
                    valence -= B_INCR
                    break
        least = i > 0 and tokens[i - 1] == "least" and tokens[i - 1] not in lexicon
        if least and (i == 1 or tokens[i - 2] not in ("at", "very")):
            valence *= N_SCALAR
        return valence

    @staticmethod
    def _negation(valence: float, back: int, i: int, tokens: list[str]) -> float:
        previous = tokens[i - back - 1]
        negated = previous in NEGATE or "n't" in previous
        if back == 0:
            return valence * N_SCALAR if negated else valence
        if back == 1:
            if previous == "never" and tokens[i - 1] in _SO_THIS:
                return valence * 1.25
            if previous == "without" and tokens[i - 1] == "doubt":
                return valence
            return valence * N_SCALAR if negated else valence
        if (previous == "never" and tokens[i - 2] in _SO_THIS) or tokens[i - 1] in _SO_THIS:
            return valence * 1.25
        if previous == "without" and "doubt" in (tokens[i - 2], tokens[i - 1]):
            return valence
        return valence * N_SCALAR if negated else valence

    @staticmethod
    def _cap_differential(raw: list[str]) -> bool:
        upper = sum(1 for word in raw if word.isupper())
        return 0 < len(raw) - upper < len(raw)
