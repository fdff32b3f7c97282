"""Pure parts of a notice wave: reading recipient files with line numbers, tags, draft choice."""

from __future__ import annotations

from pathlib import Path

import pytest
from tocsin.notifications.message import EmailMessage
from tocsin.notifications.sendgrid_batches import refusal

from tocsin.core.errors import InvalidInput
from tocsin.wave.plan import (
    MESSAGE_ID,
    DraftChooser,
    SendableContent,
    content_tags,
    message_id,
    plan_chunk,
    plan_recipient,
    substitutions_for,
    wave_draft,
)
from tocsin.wave.recipients import InvalidRow, Recipient, count_rows, make_row, read_recipients


def rows_of(path: Path) -> list[Recipient | InvalidRow]:
    return list(read_recipients(path))


def test_csv_rows_keep_their_line_numbers_and_invalid_rows_say_why(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text(
        "\ufeffEmail,Name,First_Name,Locale\n"  # BOM and mixed-case header
        " Ada@Example.COM ,Ada Lovelace,Ada,EN_gb\n"
        "\n"  # blank line: not a row
        'bob@example.com,"Bob\nSmith",Bob,fr\n'  # a quoted field over two lines
        "not-an-address,X,X,en\n"
        "carol@example.com,Carol\n"
        "dan@example.com,Dan,Dan,english!\n",
        encoding="utf-8",
    )
    rows = rows_of(path)
    assert [(type(r).__name__, r.line) for r in rows] == [
        ("Recipient", 2), ("Recipient", 4), ("InvalidRow", 6), ("InvalidRow", 7), ("InvalidRow", 8),
    ]  # fmt: skip
    ada = rows[0]
    assert isinstance(ada, Recipient)
    assert (ada.email, ada.name, ada.locale, ada.fields["first_name"]) == (
        "ada@example.com",
        "Ada Lovelace",
        "en-gb",
        "Ada",
    )
    assert [r.reason for r in rows[2:]] == [
        "not a valid email address",
        "2 fields, the header has 4",
        "locale is not a language tag (e.g. en, fr, pt-br)",
    ]
    assert "not-an-address" not in repr(rows[2])  # reasons carry no personal data
    assert count_rows(path) == 7


def test_jsonl_rows(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_text(
        '{"email": "a@example.org", "name": "A", "customer_no": 17, "note": null}\n'
        "\n"
        "{broken\n"
        "[1, 2]\n"
        '{"email": "b@example.org", "tags": ["x"]}\n'
        '{"name": "no address"}\n',
        encoding="utf-8",
    )
    rows = rows_of(path)
    assert isinstance(rows[0], Recipient) and rows[0].fields["customer_no"] == "17"
    assert [(r.line, r.reason) for r in rows[1:] if isinstance(r, InvalidRow)] == [
        (3, "not valid JSON"),
        (4, "not a JSON object"),
        (5, "field 'tags' is not a plain value"),
        (6, "no email address"),
    ]


def test_a_file_without_an_email_column_is_refused_whole(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("mail,name\na@example.org,A\n")
    with pytest.raises(InvalidInput, match="no `email` column") as caught:
        rows_of(path)
    assert caught.value.where == "r.csv:1"
    with pytest.raises(InvalidInput, match="not found"):
        read_recipients(tmp_path / "missing.csv")


@pytest.mark.parametrize(
    "address", ["a@example.org", "first.last+tag@sub.example.co.uk", "x@a-b.example", "bad@", "a b@example.org", "a@b"]
)
def test_addresses_the_parser_accepts_are_the_ones_sendgrid_accepts(address: str) -> None:
    row = make_row(2, {"email": address})
    message = EmailMessage(message_id="m", to=address.lower(), subject="s", text="t")
    assert isinstance(row, Recipient) == (refusal(message) is None)


def content(subject: str = "Hello -name-", text: str = "Dear -first_name-, a well-known-fact.", locale: str = "en"):
    return SendableContent(subject, text, "<p>Dear -first_name-</p>", locale, "0" * 64)


def test_tags_are_standalone_dash_words_only() -> None:
    assert content_tags("Hello -name-", "Dear -first_name-, a well-known-fact - and -x- -2bad-") == (
        "-first_name-",
        "-name-",
        "-x-",
    )


def test_each_recipient_gets_the_draft_of_their_locale_else_the_incident_default() -> None:
    english, french = wave_draft(1, content(locale="en")), wave_draft(2, content(locale="fr"))
    chooser = DraftChooser([english, french], default_locale="en")
    assert chooser.choose("fr") is french
    assert chooser.choose("fr-ca") is french  # language match
    assert chooser.choose("de") is english  # no German draft: the incident's locale
    assert chooser.choose(None) is english
    assert DraftChooser([french], default_locale="en").choose("de") is None
    with pytest.raises(InvalidInput, match="both in locale 'en'"):
        DraftChooser([english, wave_draft(3, content(locale="en"))], default_locale="en")


def test_substitutions_come_from_the_recipient_row_and_a_missing_one_makes_the_row_invalid() -> None:
    draft = wave_draft(7, content())
    assert substitutions_for(draft, {"name": "Ada L", "first_name": "Ada"}) == {
        "-first_name-": "Ada",
        "-name-": "Ada L",
    }
    assert substitutions_for(draft, {"name": "Ada L"}) == "no value for -first_name- (used by draft 7)"
    assert "contains <" in str(substitutions_for(draft, {"name": "<b>", "first_name": "Ada"}))
    row = make_row(9, {"email": "ada@example.org", "name": "Ada", "locale": "en"})
    assert isinstance(row, Recipient)
    assert plan_recipient(row, DraftChooser([draft], "en"), 1) == "no value for -first_name- (used by draft 7)"


def test_message_ids_are_unique_per_wave_draft_and_line_sort_in_file_order_and_hide_the_address() -> None:
    draft = wave_draft(7, content())
    row = make_row(12, {"email": "ada@example.org", "name": "Ada L", "first_name": "Ada"})
    assert isinstance(row, Recipient)
    planned = plan_recipient(row, DraftChooser([draft], "en"), wave_id=3)
    assert not isinstance(planned, str)
    assert planned[MESSAGE_ID] == message_id(3, 7, 12) == "notice-3-7-0000000012"
    assert "ada" not in planned[MESSAGE_ID]
    ids = {message_id(w, d, line) for w in (1, 2) for d in (7, 8) for line in (2, 12)}
    assert len(ids) == 8
    in_file_order = [message_id(3, 7, line) for line in (2, 9, 10, 99, 100, 12_345_678)]
    assert sorted(in_file_order) == in_file_order  # the unique index grows at its end


def test_a_chunk_is_planned_in_file_order_with_its_invalid_rows_and_duplicates() -> None:
    draft = wave_draft(7, content())
    rows = [
        make_row(2, {"email": "Ada@Example.org", "name": "Ada L", "first_name": "Ada"}),
        make_row(3, {"email": "not-an-address"}),
        make_row(4, {"email": "bob@example.org", "name": "Bob"}),  # no first_name for -first_name-
        make_row(5, {"email": "ada@example.org", "name": "Ada again", "first_name": "A"}),
    ]
    chunk = plan_chunk(rows, DraftChooser([draft], "en"), 5, seq=3)
    assert (chunk.seq, chunk.rows) == (3, 4)
    assert chunk.planned == [
        (2, 7, "ada@example.org", "Ada L", None, {"-first_name-": "Ada", "-name-": "Ada L"}, message_id(5, 7, 2))
    ]
    assert chunk.invalid == [
        (3, "not a valid email address"),
        (4, "no value for -first_name- (used by draft 7)"),
        (5, "duplicate of line 2 (same address and draft)"),
    ]
