"""The text of a recipient file: UTF-8 (with or without a BOM) or refused before anything happens.

A file saved by Excel or an older system in Latin-1 / Windows-1252 would otherwise fail part-way through a
wave. The refusal names the file, the line and the byte offset of the first byte that is not UTF-8, and how to
fix it; `tocsin notify --encoding cp1252` converts a copy instead (private, removed after the run, and said so).
"""

from __future__ import annotations

import codecs
import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tocsin.core.clocks import utcnow
from tocsin.core.errors import InvalidInput

_CHUNK = 1 << 20
_TRUNCATED = "unexpected end of data"  # a multi-byte character split across two chunks
_UTF8_NAMES = {"utf-8", "utf-8-sig"}
UPLOADS = "uploads"  # converted copies live where console uploads do, so `tocsin purge` also removes strays


def _hint(path: Path, head: bytes) -> str:
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return (
            f'the file is UTF-16 (Excel\'s "Unicode text"): save it as "CSV UTF-8", convert it with '
            f"`iconv -f utf-16 -t utf-8 {path.name} > utf8-{path.name}`, or pass --encoding utf-16"
        )
    return (
        f'save it as "CSV UTF-8", convert it with `iconv -f latin1 -t utf-8 {path.name} > utf8-{path.name}` '
        f"(Windows/Excel files: -f cp1252), or pass --encoding latin-1 (or cp1252) to `tocsin notify`"
    )


def check_utf8(path: Path) -> None:
    """Refuse a file that is not UTF-8 text, naming the first bad byte's line and offset (streamed)."""
    carry = b""
    offset = 0  # of data[0] in the file
    line = 1  # the line data[0] is on
    head = b""
    with path.open("rb") as handle:
        while True:
            block = handle.read(_CHUNK)
            head = head or block[:4]
            data = carry + block
            if not data:
                return
            carry = b""
            try:
                if not data.isascii():  # most files are ASCII: checked without decoding
                    data.decode("utf-8")
            except UnicodeDecodeError as error:
                if block and error.reason == _TRUNCATED:
                    carry = data[error.start :]  # completed by the next chunk, or refused at the end
                else:
                    at = offset + error.start
                    bad_line = line + data.count(b"\n", 0, error.start)
                    raise InvalidInput(
                        f"not UTF-8 text: byte 0x{data[error.start]:02X} at byte offset {at} (line {bad_line}) "
                        f"is not UTF-8; {_hint(path, head)}",
                        where=f"{path.name}:{bad_line}",
                    ) from None
            used = len(data) - len(carry)
            line += data.count(b"\n", 0, used)
            offset += used
            if not block:
                return


def checked_encoding(name: str) -> str:
    """The codec's canonical name, or a refusal naming the option."""
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise InvalidInput(f"unknown encoding {name!r} (e.g. latin-1, cp1252, utf-16)", where="--encoding") from None


def convert_to_utf8(source: Path, encoding: str, target: Path) -> None:
    """Write `source`, read as `encoding`, to `target` as UTF-8 (streamed); a byte the encoding lacks is refused
    with its line and offset."""
    decoder = codecs.getincrementaldecoder(encoding)()
    offset, line = 0, 1
    with source.open("rb") as reader, target.open("w", encoding="utf-8", newline="") as writer:
        while True:
            block = reader.read(_CHUNK)
            try:
                writer.write(decoder.decode(block, final=not block))
            except UnicodeDecodeError as error:
                at = offset + error.start
                bad_line = line + block.count(b"\n", 0, max(error.start, 0))
                raise InvalidInput(
                    f"byte offset {at} (line {bad_line}) is not {encoding} text; check the file's encoding",
                    where=f"{source.name}:{bad_line}",
                ) from None
            if not block:
                return
            offset += len(block)
            line += block.count(b"\n")


@contextmanager
def utf8_copy(source: Path, encoding: str, *, home: Path, label: str) -> Iterator[Path]:
    """A UTF-8 copy of `source` (named recipients.<its name>) in a private folder under home/uploads, removed
    afterwards. A UTF-8 `encoding` needs no copy: the file itself is checked and used."""
    codec = checked_encoding(encoding)
    if codec in _UTF8_NAMES:
        yield source
        return
    root = home / UPLOADS
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder = root / f"{label}-{utcnow().strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(4)}"
    folder.mkdir(mode=0o700)
    # named like a console upload (recipients.*) so `tocsin purge` finds a copy a crash left behind; the
    # original name stays visible in the wave's source name
    target = folder / f"recipients.{source.name}"
    try:
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # personal data: owner only
        os.close(descriptor)
        convert_to_utf8(source, codec, target)
        yield target
    finally:
        shutil.rmtree(folder, ignore_errors=True)
