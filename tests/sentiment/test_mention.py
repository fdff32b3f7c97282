import json
from datetime import UTC, datetime

import pytest
from tocsin.sentiment.connectors import FileConnector, StreamConnector, ingest_records, read_mentions
from tocsin.sentiment.mention import MentionError, parse_line, pseudonymise

from tocsin.core.errors import InvalidInput

KEY = b"test-key"


def line(**fields):
    record = {"id": "1", "created_at": "2026-03-02T10:00:00+02:00", "text": "hello"}
    record.update(fields)
    return json.dumps({k: v for k, v in record.items() if v is not None})


def test_valid_line_is_parsed_and_converted_to_utc():
    mention = parse_line(line(author="@Alice", lang="en", source="x", url="https://x/1"), KEY)
    assert mention.id == "1"
    assert mention.created_at == datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    assert mention.lang == "en" and mention.source == "x" and mention.url == "https://x/1"
    assert mention.author == pseudonymise("alice", KEY)
    assert "alice" not in mention.author.lower()


def test_z_suffix_and_numeric_ids_are_accepted():
    mention = parse_line(line(id=42, created_at="2026-03-02T10:00:00Z"), KEY)
    assert mention.id == "42" and mention.created_at.hour == 10


def test_pseudonym_is_stable_normalised_and_keyed():
    assert pseudonymise("@Alice ", KEY) == pseudonymise("alice", KEY)
    assert pseudonymise("alice", KEY) != pseudonymise("bob", KEY)
    assert pseudonymise("alice", KEY) != pseudonymise("alice", b"other-key")
    assert pseudonymise("alice", KEY).startswith("u_")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("{not json", "invalid JSON"),
        ("[1, 2]", "not a JSON object"),
        (line(id=None), "id is missing"),
        (line(text=None), "text is missing"),
        (line(text=5), "text must be a string"),
        (line(created_at="2026-03-02T10:00:00"), "no UTC offset"),
        (line(created_at="yesterday"), "not ISO 8601"),
        (line(author=7), "author must be a string"),
        (line(lang=3), "lang must be a string"),
    ],
)
def test_invalid_lines_say_why(raw, reason):
    with pytest.raises(MentionError, match=reason):
        parse_line(raw, KEY)


@pytest.mark.parametrize("fields", [{"visibility": "followers"}, {"private": True}, {"public": False}])
def test_only_public_posts_are_accepted(fields):
    with pytest.raises(MentionError) as error:
        parse_line(line(**fields), KEY)
    assert error.value.not_public
    assert parse_line(line(visibility="public"), KEY) is not None


def test_blank_lines_are_ignored_and_errors_carry_line_numbers(tmp_path):
    path = tmp_path / "m.jsonl"
    path.write_text("\n".join([line(id="a"), "", "{oops", line(id="b", created_at="bad"), line(id="c")]) + "\n")
    issues = []
    mentions = list(read_mentions(FileConnector(path), KEY, issues.append))
    assert [m.id for m in mentions] == ["a", "c"]
    assert [(i.line, i.not_public) for i in issues] == [(3, False), (4, False)]
    assert str(issues[0]).startswith("line 3: invalid JSON")


def test_unreadable_file_is_invalid_input(tmp_path):
    with pytest.raises(InvalidInput, match="cannot read"):
        list(read_mentions(FileConnector(tmp_path / "missing.jsonl"), KEY, print))


def test_stream_and_batch_connectors():
    import io

    stream = io.StringIO(line(id="s1") + "\n" + line(id="s2") + "\n")
    assert [m.id for m in read_mentions(StreamConnector(stream), KEY, print)] == ["s1", "s2"]
    mentions, issues = ingest_records([json.loads(line(id="d1")), {"id": "d2"}, line(id="d3")], KEY)
    assert [m.id for m in mentions] == ["d1", "d3"]
    assert [(i.line, i.reason) for i in issues] == [(2, "text is missing")]
