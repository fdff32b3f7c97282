"""Issue #15: recipient files that are not UTF-8, or have no rows, are refused before a wave is created; the
`--encoding` option converts a Latin-1 / Windows-1252 file and says so (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select
from tocsin.models import AuditEvent, NoticeWave

from tests.helpers import ok, run_cli
from tests.wave.conftest import declare_incident, draft_for, wave_db  # noqa: F401  (wave_db: a fixture)
from tocsin.core.errors import InvalidInput
from tocsin.wave import recipient_text
from tocsin.wave.recipient_text import check_utf8
from tocsin.wave.recipients import read_recipients

LATIN1_ROWS = "email,name,first_name\nzoe@example.org,Zoë Lefèvre,Zoë\nrene@example.org,René,René\n"


def _nothing_created(incident: int) -> None:
    from tocsin.db.engine import session_scope

    with session_scope() as session:
        assert session.exec(select(NoticeWave).where(NoticeWave.incident_id == incident)).all() == []
        actions = session.exec(select(AuditEvent.action).where(AuditEvent.incident_id == incident)).all()
        assert not [action for action in actions if action.startswith("notice.wave")]


def _notify(incident: int, draft: int, path: Path, *extra: str):  # type: ignore[no-untyped-def]
    return run_cli("notify", str(incident), "--draft", str(draft), "--recipients", str(path), "--as", "carl", *extra)


def test_a_latin1_file_is_refused_with_line_offset_and_hint_and_nothing_is_created(
    wave_db: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    incident = declare_incident()
    draft = draft_for(incident)
    path = tmp_path / "customers.csv"
    path.write_bytes(LATIN1_ROWS.encode("latin-1"))
    refused = _notify(incident, draft, path)
    assert refused.exit_code == 2, refused.stderr
    assert "unexpected" not in refused.stderr
    offset = LATIN1_ROWS.encode("latin-1").index(b"\xeb")
    assert f"customers.csv:2: not UTF-8 text: byte 0xEB at byte offset {offset} (line 2)" in refused.stderr
    assert "iconv -f latin1 -t utf-8" in refused.stderr and "--encoding" in refused.stderr
    _nothing_created(incident)


def test_the_encoding_option_converts_a_copy_says_so_and_removes_it(wave_db: str, tmp_path: Path) -> None:  # noqa: F811
    incident = declare_incident()
    draft = draft_for(incident)
    path = tmp_path / "customers.csv"
    path.write_bytes(LATIN1_ROWS.encode("cp1252"))
    sent = ok(
        "notify",
        str(incident),
        "--draft",
        str(draft),
        "--recipients",
        str(path),
        "--as",
        "carl",
        "--encoding",
        "cp1252",
    )
    assert "customers.csv converted from cp1252 to UTF-8" in sent.stdout
    data = ok("waves", str(incident), "--json").json()
    assert [w["counts"]["sent"] for w in data["waves"]] == [2]
    from tocsin.core.config import get_settings

    outbox = "".join(p.read_text(errors="replace") for p in get_settings().outbox_dir.glob("*.eml"))
    assert "Zo=C3=AB" in outbox or "Zoë" in outbox or "Zo\u00eb" in outbox  # the name arrived as UTF-8
    assert not list((get_settings().home / "uploads").glob("*/*"))  # the converted copy is gone
    unknown = _notify(incident, draft, path, "--encoding", "klingon")
    assert unknown.exit_code == 2 and "--encoding: unknown encoding 'klingon'" in unknown.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "file empty.csv has no recipients: it is empty (0 bytes)"),
        (b"email,name\r\n", "file empty.csv has no recipients: line 1 is the header and nothing follows"),
        (b"\xef\xbb\xbfemail,name\n\n\n", "file empty.csv has no recipients: line 1 is the header and nothing follows"),
    ],
)
def test_an_empty_or_header_only_file_is_refused_before_anything_happens(
    wave_db: str,  # noqa: F811
    tmp_path: Path,
    content: bytes,
    message: str,
) -> None:
    incident = declare_incident()
    draft = draft_for(incident)
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    refused = _notify(incident, draft, path)
    assert refused.exit_code == 2 and f"empty.csv:1: {message}" in refused.stderr, refused.stderr
    _nothing_created(incident)


def test_utf8_with_or_without_bom_is_read(tmp_path: Path) -> None:
    text = "email,name\nzoe@example.org,Zoë\n"
    for name, data in (("plain.csv", text.encode()), ("bom.csv", b"\xef\xbb\xbf" + text.encode())):
        path = tmp_path / name
        path.write_bytes(data)
        rows = list(read_recipients(path))
        assert [(r.email, r.name) for r in rows] == [("zoe@example.org", "Zoë")]  # type: ignore[union-attr]


def test_the_utf8_check_streams_across_chunks_and_finds_a_late_bad_byte(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(recipient_text, "_CHUNK", 7)  # multi-byte characters split across chunk boundaries
    good = "email,name\n" + "".join(f"p{n}@example.org,Zoë Ÿ €{n}\n" for n in range(20))
    path = tmp_path / "r.csv"
    path.write_bytes(good.encode())
    check_utf8(path)  # accepted
    bad = good.encode() + b"late@example.org,Ren\xe9\n"
    path.write_bytes(bad)
    with pytest.raises(InvalidInput) as refused:
        check_utf8(path)
    assert refused.value.where == "r.csv:22"
    late = bad.index(b"\xe9")
    assert f"byte offset {late} (line 22)" in refused.value.message
    path.write_bytes(good.encode() + "é".encode()[:1])  # a character cut off at the end of the file
    with pytest.raises(InvalidInput, match="line 22"):
        check_utf8(path)
    path.write_bytes("email\nzoe@example.org\n".encode("utf-16"))
    with pytest.raises(InvalidInput, match="UTF-16"):
        check_utf8(path)


def test_the_console_upload_check_uses_the_same_reader(tmp_path: Path) -> None:
    from tocsin.web.console.uploads import recipient_problems

    latin = tmp_path / "recipients.csv"
    latin.write_bytes(LATIN1_ROWS.encode("latin-1"))
    assert recipient_problems(latin)[0].startswith("line 2: not UTF-8 text: byte 0xEB at byte offset")
    latin.write_bytes(b"email,name\n")
    assert recipient_problems(latin) == [
        "line 1: file recipients.csv has no recipients: line 1 is the header and nothing follows"
    ]
