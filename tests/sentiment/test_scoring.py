import pytest
from tocsin.sentiment.scoring import Scorer, looks_english
from tocsin.sentiment.synthetic import labelled_corpus
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

SENTENCES = [
    "I love this!",
    "The app is NOT good",
    "not bad at all",
    "This is kind of good",
    "Never so happy",
    "The service was great but the food sucks",
    "VERY BAD service",
    "wtf is going on?!?!",
    "At least it works",
    "no problems at all",
    "Great job 😀😀",
    "I don't like it, terrible",
    "the least helpful answer",
]


@pytest.fixture(scope="module")
def replica():
    return Scorer(domain=False)


@pytest.fixture(scope="module")
def scorer():
    return Scorer()


def test_replica_matches_vader(replica):
    vader = SentimentIntensityAnalyzer()
    texts = SENTENCES + [text for text, _ in labelled_corpus(300, seed=3)]
    for text in texts:
        assert replica.compound(text) == pytest.approx(vader.polarity_scores(text)["compound"], abs=5.1e-5), (
            text
        )  # VADER rounds to 4 places


def test_negation_flips_and_stops_at_clause_punctuation(scorer):
    assert scorer.compound("this is good") > 0.3
    assert scorer.compound("this is not good") < -0.2
    assert scorer.compound("I don't like it, terrible") < -0.4  # plain VADER: positive


def test_intensifiers_and_caps_strengthen(scorer):
    plain, boosted = scorer.compound("the service is bad"), scorer.compound("the service is extremely bad")
    assert boosted < plain < 0
    assert scorer.compound("the service is BAD today") < plain
    assert scorer.compound("super slow and bad") < scorer.compound("slow and bad")


def test_emoji_carry_sentiment(scorer):
    assert scorer.compound("my order 😡") < -0.3
    assert scorer.compound("my order 🤬") < -0.3  # no VADER word in its description: domain emoji
    assert scorer.compound("my order 😍") > 0.3
    assert scorer.compound("delivered😀") > 0.2  # glued to a word


@pytest.mark.parametrize(
    "text",
    [
        "Acme had a data breach",
        "my account was hacked, please help",
        "customer data leaked online",
        "another Acme outage",
        "I want a refund",
        "this is a scam",
        "passwords compromised",
        "phishing emails from Acme",
        "ransomware at Acme",
        "the app is not working",
        "locked out of my account again",
    ],
)
def test_complaint_terms_are_negative(scorer, text):
    assert scorer.compound(text) <= -0.05


def test_empty_and_non_english_are_not_scored(scorer):
    assert scorer.score("").compound is None
    assert scorer.score("   \n").compound is None
    assert scorer.score("😀").compound > 0
    assert scorer.score("サービスが最悪です").compound is None
    assert scorer.score("el servicio es terrible", lang="es").compound is None
    assert scorer.score("service is terrible", lang="en-GB").negative
    assert looks_english("plain ascii") and not looks_english("обслуживание ужасное")


def test_domain_scorer_beats_plain_vader_on_labelled_complaints(scorer, replica):
    corpus = labelled_corpus(600, seed=21)

    def accuracy(model):
        def label(value):
            return "neutral" if value is None or abs(value) < 0.05 else ("positive" if value > 0 else "negative")

        return sum(label(model.compound(text)) == truth for text, truth in corpus) / len(corpus)

    assert accuracy(scorer) > accuracy(replica) + 0.1
