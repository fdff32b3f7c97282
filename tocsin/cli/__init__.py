"""The `tocsin` command line. Each command group lives in its own module and registers on `app`.

Heavy imports (SQLAlchemy, Prefect, Jinja2) stay inside the command functions so that
`tocsin --help` and simple commands start fast.
"""

from __future__ import annotations

import os
import sys

import typer

from tocsin.cli import commands  # noqa: F401  (registers the commands on `app`)
from tocsin.cli.app import app
from tocsin.core.errors import TocsinError
from tocsin.core.redact import redact_text


def main() -> None:
    try:
        result = app(standalone_mode=False)
    except TocsinError as error:  # one line per problem (invalid settings: one per bad setting)
        for line in redact_text(str(error)).splitlines() or [""]:
            print(f"error: {line}", file=sys.stderr)
        sys.exit(error.exit_code)
    except typer.Abort:
        print("aborted", file=sys.stderr)
        sys.exit(1)
    except typer.TyperException as error:  # usage errors: Typer's own message and exit code 2
        show = getattr(error, "show", None)
        if show is not None:
            show()
        sys.exit(getattr(error, "exit_code", 2))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    except Exception as error:  # a bug, not bad input: one line unless debugging
        if os.environ.get("TOCSIN_DEBUG"):
            raise
        if _database_unusable(error):  # the server is down or refuses us: say so plainly, on one line
            reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
            print(f"error: the database cannot be used (TOCSIN_DATABASE_URL): {redact_text(reason)}", file=sys.stderr)
            sys.exit(1)
        print(  # the message may quote a database or host URL: its password is masked
            f"error: unexpected {type(error).__name__}: {redact_text(str(error))} "
            "(set TOCSIN_DEBUG=1 to see the traceback)",
            file=sys.stderr,
        )
        sys.exit(1)
    sys.exit(result if isinstance(result, int) else 0)


def _database_unusable(error: Exception) -> bool:
    """SQLAlchemy's OperationalError (connection refused, authentication failed, database missing), recognised
    without importing SQLAlchemy, which `tocsin --help` must not pay for."""
    kind = type(error)
    return kind.__name__ == "OperationalError" and kind.__module__.startswith("sqlalchemy")
