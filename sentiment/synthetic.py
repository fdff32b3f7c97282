"""Seeded generators of labelled mention texts and mention streams, for tests and benchmarks.

Texts come from hand-written templates; each template's label (negative / neutral / positive) is the meaning
a reader would give it, decided when it was written, never computed by a scorer. Streams are Poisson
processes with a daily cycle, hour-to-hour overdispersion and harmless chatter bursts (routine weeks), onto
which a crisis surge can be laid (first posts minutes after the event, then a ramp to a peak).
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

NEGATIVE_TEMPLATES = (
    "{b} app is down again {ne}",
    "is {b} down? can't login since this morning",
    "I've been waiting {n} days for my refund from {b}",
    "{b} charged me twice and nobody answers",
    "my {b} account got hacked, please help",
    "got a phishing email pretending to be {b}, be careful",
    "{b} customer service is a joke",
    "never buying from {b} again",
    "so disappointed with {b} lately",
    "{b} leaked my data?? unbelievable",
    "not happy with {b} at all",
    "why does the {b} app keep crashing",
    "still no response from {b} support after {n} emails",
    "my order from {b} never arrived and they won't refund",
    "great, another {b} outage {ne}",
    "thanks for nothing {b}",
    "{b} data breach, my password was in it. changing everything",
    "{b} confirms customer data was compromised",
    "ransomware attack at {b}? their site has been offline for hours",
    "locked out of my {b} account for the third time",
    "WORST experience with {b} ever",
    "{b} is a total scam",
    "I hate how {b} treats its customers",
    "{b} please fix your app, it's unusable",
    "on hold with {b} for {n} minutes now {ne}",
    "someone used my card after the {b} leak",
    "{b} lost my package and doesn't care",
    "terrible update {b}, nothing works",
    "can't believe {b} exposed our emails",
    "cancelled my {b} subscription, not worth it",
)
NEUTRAL_TEMPLATES = (
    "{b} opens a new store in {city}",
    "anyone know if {b} ships to {city}?",
    "reading the {b} quarterly report",
    "{b} announced an app update today",
    "just ordered from {b}",
    "{b} store hours on sunday?",
    "switched my phone plan to {b}",
    "{b} is hiring engineers in {city}",
    "new {b} ad on tv tonight",
    "does {b} have a student discount",
    "{b} stock moved {n} percent today",
    "heading to the {b} store in {city}",
    "{b} security team posted an update on their blog",
    "what time does {b} support open",
    "{b} changes its logo",
    "is the {b} sale online only?",
    "{b} ceo interview this morning",
    "my {b} parcel is out for delivery",
    "{b} moved its headquarters to {city}",
    "comparing {b} and its competitors for my next phone",
)
POSITIVE_TEMPLATES = (
    "love the new {b} app {pe}",
    "{b} support fixed my issue in minutes, thank you!",
    "great service from {b} today",
    "{b} is not bad at all",
    "shoutout to {b} for the quick refund {pe}",
    "really impressed with {b}",
    "got my refund from {b} already, thanks",
    "best customer service ever, well done {b}",
    "{b} delivery was fast and easy",
    "thank you {b} for sorting out my account",
    "happy with my new {b} phone {pe}",
    "{b} did a nice job on this update",
    "no problems at all with {b} this year",
    "{b} staff in {city} were so helpful",
    "awesome deal at {b} today",
)
NEGATIVE_EMOJI = ("😡", "🤬", "🙄", "👎", "😤", "", "", "!!")
POSITIVE_EMOJI = ("😀", "😍", "👍", "❤", "", "", "!")
CITIES = ("Lyon", "Leeds", "Austin", "Porto", "Graz", "Turin", "Oslo", "Denver")
OTHER_LANGUAGE = ("{b} のアプリが動かない", "{b} обслуживание ужасное", "{b} 的服务很好")

LABELS = ("negative", "neutral", "positive")


def labelled_text(rng: random.Random, label: str, brand: str = "Acme") -> str:
    templates = {"negative": NEGATIVE_TEMPLATES, "neutral": NEUTRAL_TEMPLATES, "positive": POSITIVE_TEMPLATES}
    text = rng.choice(templates[label]).format(
        b=brand if rng.random() < 0.7 else "@" + brand.lower(),
        n=rng.randint(2, 40),
        city=rng.choice(CITIES),
        ne=rng.choice(NEGATIVE_EMOJI),
        pe=rng.choice(POSITIVE_EMOJI),
    )
    return text.strip()


def labelled_corpus(size: int, seed: int = 7, brand: str = "Acme") -> list[tuple[str, str]]:
    """`size` (text, label) pairs, labels drawn evenly."""
    rng = random.Random(seed)
    return [(labelled_text(rng, label, brand), label) for label in (rng.choice(LABELS) for _ in range(size))]


@dataclass(frozen=True, slots=True)
class RoutineProfile:
    """A brand's ordinary traffic: `per_hour` on average, peaking mid-afternoon UTC."""

    per_hour: float
    daily_amplitude: float = 0.6  # 0.6: the peak hour is 4x the quietest
    negative_share: float = 0.3
    overdispersion: float = 0.25  # hour-to-hour relative spread of the rate (gamma noise)
    chatter_per_day: float = 2.0  # short harmless bursts (a thread, a retweet chain)
    chatter_size: int = 6


@dataclass(frozen=True, slots=True)
class Surge:
    """A crisis: starts at `start`, ramps to `peak_per_hour` over `ramp_minutes`, lasts `hours`."""

    start: datetime
    peak_per_hour: float
    ramp_minutes: float = 20.0
    hours: float = 6.0
    negative_share: float = 0.8


def _daily_factor(epoch: float, amplitude: float) -> float:
    hour = (epoch % 86400) / 3600
    return 1.0 + amplitude * math.sin(2 * math.pi * (hour - 9.0) / 24)  # peak near 15:00 UTC


def _poisson(rng: random.Random, mean: float) -> int:
    if mean > 50:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    threshold, count, product = math.exp(-mean), 0, rng.random()
    while product > threshold:
        count += 1
        product *= rng.random()
    return count


def routine_times(rng: random.Random, start: datetime, days: float, profile: RoutineProfile) -> Iterator[float]:
    """Event times (epoch seconds, increasing) of a routine stream, minute by minute."""
    t0 = start.timestamp()
    hourly_noise = 1.0
    shape = 1 / profile.overdispersion**2 if profile.overdispersion > 0 else 0.0
    for minute in range(int(days * 1440)):
        now = t0 + minute * 60
        if minute % 60 == 0 and shape:
            hourly_noise = rng.gammavariate(shape, 1 / shape)
        mean = profile.per_hour / 60 * _daily_factor(now, profile.daily_amplitude) * hourly_noise
        if rng.random() < profile.chatter_per_day / 1440:
            mean += profile.chatter_size
        yield from sorted(now + rng.random() * 60 for _ in range(_poisson(rng, mean)))


def surge_times(rng: random.Random, surge: Surge) -> Iterator[float]:
    t0 = surge.start.timestamp()
    for minute in range(int(surge.hours * 60)):
        ramp = min(1.0, (minute + 0.5) / surge.ramp_minutes) if surge.ramp_minutes > 0 else 1.0
        decay = math.exp(-max(0.0, minute - surge.ramp_minutes) / (surge.hours * 60 / 2))
        mean = surge.peak_per_hour / 60 * ramp * decay
        yield from sorted(t0 + minute * 60 + rng.random() * 60 for _ in range(_poisson(rng, mean)))


def mention_stream(
    start: datetime,
    days: float,
    profile: RoutineProfile,
    surges: tuple[Surge, ...] = (),
    seed: int = 1,
    brand: str = "Acme",
) -> Iterator[dict[str, str]]:
    """Mention records (JSONL-ready dicts) in time order: routine traffic plus any surges."""
    rng = random.Random(seed)
    events: list[tuple[float, float]] = [(t, profile.negative_share) for t in routine_times(rng, start, days, profile)]
    for surge in surges:
        events.extend((t, surge.negative_share) for t in surge_times(rng, surge))
    events.sort()
    for number, (epoch, negative_share) in enumerate(events):
        roll = rng.random()
        if roll < 0.01:
            text = rng.choice(OTHER_LANGUAGE).format(b=brand)
        else:
            label = "negative" if roll < negative_share else rng.choice(("neutral", "neutral", "positive"))
            text = labelled_text(rng, label, brand)
        moment = datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        yield {"id": f"m{seed}-{number}", "created_at": moment, "text": text, "author": f"@user{rng.randint(1, 5000)}"}
