"""Client mode: the CLI's `Gateway` over the JSON API of a `tocsin serve` (see `tocsin.cli.gateway`).

Every call carries the stored token; the server's answers are the same dicts the actions return locally.
Errors come back as the same exit codes: 422 and 404 → 2, 409 → 3, 403 → 4; a refused token (401) asks you to
log in again; a server that does not answer is one line naming its URL.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from tocsin.cli.credentials import Login
from tocsin.core.errors import Conflict, Forbidden, InvalidInput, NotFound, TocsinError

if TYPE_CHECKING:
    import httpx

Row = dict[str, Any]

CONNECT_SECONDS = 5.0
ANSWER_SECONDS = 120.0  # a launch runs the playbook's urgent steps before it answers
STATUS_ERRORS: dict[int, type[TocsinError]] = {
    400: InvalidInput,
    404: NotFound,
    409: Conflict,
    403: Forbidden,
    422: InvalidInput,
}


# Inputs the built-in playbooks read as files, by kind; the server takes them only as uploads (`upload:<id>`,
# as tocsin.flows.launch_files names them: not imported, so the client loads no playbook machinery).
FILE_INPUTS = {"recipients": "recipients", "mentions": "mentions"}
UPLOAD_PREFIX = "upload:"


class ServerUnreachable(TocsinError):
    exit_code = 1


class LoginRefused(TocsinError):
    """The server refused the token (expired, revoked, or for another server)."""

    exit_code = 4


def _segment(text: str) -> str:
    return quote(text.strip(), safe="")


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def error_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        error = body.get("error") or body.get("detail")
        if error:
            return str(error)
    text = response.text.strip().splitlines()
    return text[0][:300] if text else response.reason_phrase


def raise_for(response: httpx.Response, login: Login) -> None:
    """The server's refusal as the error the local action would have raised."""
    status = response.status_code
    if status < 400:
        return
    if status == 401:
        if login.from_env:
            raise LoginRefused(f"{login.url} refused the token in TOCSIN_TOKEN (unknown, expired or revoked)")
        raise LoginRefused(f"your login expired or was revoked: tocsin login {login.url}")
    kind = STATUS_ERRORS.get(status)
    message = error_message(response)
    if kind is not None:
        raise kind(message)
    raise TocsinError(f"{login.url} answered {status}: {message}")


def request(login: Login | str, method: str, path: str, *, token: str | None = None, **options: Any) -> Any:
    """One call to the API; `login` may be a bare URL (for `tocsin login`, before there is a token)."""
    import httpx

    url = login if isinstance(login, str) else login.url
    bearer = token if token is not None else (login.token if isinstance(login, Login) else None)
    headers = {"Accept": "application/json", "User-Agent": "tocsin-cli"}
    if bearer:
        headers["Authorization"] = f"Bearer {bearer}"
    timeout = httpx.Timeout(ANSWER_SECONDS, connect=CONNECT_SECONDS)
    try:
        response = httpx.request(method, f"{url}{path}", headers=headers, timeout=timeout, **options)
    except httpx.ConnectError as error:
        raise ServerUnreachable(f"cannot reach the Tocsin server at {url}: {_reason(error)}") from None
    except httpx.TimeoutException:
        raise ServerUnreachable(f"the Tocsin server at {url} did not answer in time ({method} {path})") from None
    except httpx.HTTPError as error:
        raise ServerUnreachable(f"talking to the Tocsin server at {url} failed: {_reason(error)}") from None
    if isinstance(login, Login):
        raise_for(response, login)
    return response


def _reason(error: Exception) -> str:
    text = str(error) or type(error).__name__
    if "refused" in text.lower():
        return "connection refused (is `tocsin serve` running there?)"
    return text.splitlines()[0]


class Remote:
    """The JSON API of a `tocsin serve`, as the person the stored token acts as."""

    mode = "client"

    def __init__(self, login: Login) -> None:
        self.login = login

    def _call(self, method: str, path: str, **options: Any) -> Any:
        response = request(self.login, method, f"/api{path}", **options)
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise TocsinError(f"{self.login.url} did not answer with JSON ({method} /api{path})") from None

    def _get(self, path: str, **params: Any) -> Any:
        return self._call("GET", path, params={k: v for k, v in params.items() if v is not None})

    def _post(self, path: str, body: Row | None = None) -> Any:
        return self._call("POST", path, json=body if body is not None else {})

    # Incidents

    def declare(self, **fields: Any) -> Row:
        body = {k: v for k, v in fields.items() if v is not None and k not in ("facts_where", "extra_event")}
        if fields.get("aware_at") is not None:
            body["aware_at"] = _iso(fields["aware_at"])
        if body.get("inputs"):
            body["inputs"] = self._with_uploads(body["inputs"])
        return self._post("/incidents", body)

    def assign_role(self, incident_id: int, role: str, person: str, *, expected_version: int | None) -> Row:
        body = {"role": role, "person": person, "if_version": expected_version}
        return self._post(f"/incidents/{incident_id}/roles", body)

    def unassign_role(self, incident_id: int, role: str, person: str, *, expected_version: int | None) -> Row:
        params = {"if_version": expected_version} if expected_version is not None else {}
        path = f"/incidents/{incident_id}/roles/{_segment(role)}/{_segment(person)}"
        return self._call("DELETE", path, params=params)

    def change_status(self, incident_id: int, status: str, *, reason: str | None, expected_version: int | None) -> Row:
        body = {"status": status, "reason": reason, "if_version": expected_version}
        return self._post(f"/incidents/{incident_id}/status", body)

    def close(self, incident_id: int, *, reason: str | None) -> Row:
        return self._post(f"/incidents/{incident_id}/close", {"reason": reason})

    def replace_facts(self, incident_id: int, document: Row, *, where: str) -> Row:
        return self._call("PUT", f"/incidents/{incident_id}/facts", json=document)

    def record_event(self, incident_id: int, name: str, *, at: datetime | None, note: str | None) -> Row:
        name = name.strip()
        if name.startswith("submitted:"):
            return self.record_submission(incident_id, name.removeprefix("submitted:"), at=at, note=note)
        return self._post(f"/incidents/{incident_id}/events", {"event": name, "at": _iso(at), "note": note})

    def record_submission(self, incident_id: int, rule: str, *, at: datetime | None, note: str | None) -> Row:
        body = {"submitted": rule, "at": _iso(at), "note": note}
        return self._post(f"/incidents/{incident_id}/events", body)

    def upload(self, path: Path, kind: str) -> str:
        """Send a local file to the server (`POST /api/uploads`); the `upload:<id>` a launch input names it by."""
        try:
            with path.open("rb") as handle:
                answer = self._call("POST", "/uploads", files={"file": (path.name, handle)}, data={"kind": kind})
        except OSError as error:
            raise InvalidInput(f"cannot read the {kind} file: {error.strerror}", where=str(path)) from None
        return str(answer["input"])

    def _with_uploads(self, inputs: Row) -> Row:
        """The inputs, with every local file a playbook reads uploaded first and named by its upload id (the
        server never opens a path it is sent)."""
        sent = dict(inputs)
        for name, kind in FILE_INPUTS.items():
            value = inputs.get(name)
            if isinstance(value, str) and not value.startswith(UPLOAD_PREFIX):
                sent[name] = self.upload(Path(value).expanduser(), kind)
        return sent

    def launch(self, incident_id: int, playbook: str, inputs: Row, *, wait: bool) -> Row:
        if wait:
            raise InvalidInput(f"--wait runs the phase in this process; {self.login.url} runs it on the server")
        body = {"playbook": playbook, "inputs": self._with_uploads(inputs)}
        return self._post(f"/incidents/{incident_id}/playbooks", body)

    def playbook_input(self, run_id: int, values: Row) -> Row:
        return self._post(f"/runs/{run_id}/inputs", {"inputs": self._with_uploads(values)})

    def task_done(self, task_id: int) -> Row:
        return self._post(f"/tasks/{task_id}/done")

    def acknowledge(self, escalation_id: int) -> Row:
        return self._post(f"/escalations/{escalation_id}/ack")

    # Drafts

    def create_draft(
        self, incident_id: int, template: str, *, inputs: Row, locale: str | None, recipient: str | None
    ) -> Row:
        body = {"template": template, "inputs": inputs, "locale": locale, "recipient": recipient}
        return self._post(f"/incidents/{incident_id}/drafts", body)

    def edit_draft(self, draft_id: int, *, inputs: Row | None, **parts: str) -> Row:
        return self._post(f"/drafts/{draft_id}/edit", {**parts, "inputs": inputs})

    def submit_for_review(self, draft_id: int) -> Row:
        return self._post(f"/drafts/{draft_id}/review")

    def approve(self, draft_id: int, *, sha256: str, comment: str | None) -> Row:
        return self._post(f"/drafts/{draft_id}/approve", {"sha256": sha256, "comment": comment})

    def reject(self, draft_id: int, *, comment: str) -> Row:
        return self._post(f"/drafts/{draft_id}/reject", {"comment": comment})

    def mark_sent(self, draft_id: int, *, reference: str | None) -> Row:
        return self._post(f"/drafts/{draft_id}/sent", {"reference": reference})

    # The directory

    def add_person(self, handle: str, **details: Any) -> Row:
        return self._post("/people", {"handle": handle, **details})

    def grant_admin(self, handle: str, *, admin: bool) -> Row:
        return self._post(f"/people/{_segment(handle)}/admin", {"admin": admin})

    def check_person(self, handle: str) -> str:
        wanted = handle.strip().lower()
        if not any(p.get("handle") == wanted for p in self.people()):
            raise NotFound(f"no person {handle!r} in the directory of {self.login.url}")
        return wanted

    def set_password(self, handle: str, password: str | None) -> Row:
        path = f"/people/{_segment(handle)}/password"
        if password is None:
            return self._call("DELETE", path)
        return self._call("PUT", path, json={"password": password})

    def mint_token(self, handle: str, *, name: str) -> Row:
        return self._post("/tokens", {"person": handle, "name": name})

    def revoke_token(self, token_id: int) -> Row:
        return self._call("DELETE", f"/tokens/{token_id}")

    def suppress(self, email: str, *, reason: str, note: str | None) -> Row:
        return self._post("/suppressions", {"email": email, "reason": reason, "note": note})

    # Notice waves

    def in_doubt(self, incident_id: int) -> Row:
        return self._get(f"/incidents/{incident_id}/waves/in-doubt")

    def resolve_in_doubt(self, incident_id: int, decision: str, *, reason: str) -> Row:
        return self._post(f"/incidents/{incident_id}/waves/in-doubt", {"decision": decision, "reason": reason})

    # Reads

    def incidents(self, *, status: str | None, kind: str | None, open_only: bool) -> list[Row]:
        return self._get("/incidents", status=status, kind=kind, open="true" if open_only else None)

    def incident(self, incident_id: int) -> Row:
        data = self._get(f"/incidents/{incident_id}")
        data["timeline"] = self._get(f"/incidents/{incident_id}/timeline")
        data["playbook_runs"] = self.runs(incident_id)
        return data

    def clock(self, incident_id: int, *, withdrawn: bool) -> Row:
        data = self._get(f"/incidents/{incident_id}/clock", withdrawn="true" if withdrawn else None)
        data.setdefault("title", self._get(f"/incidents/{incident_id}").get("title", ""))
        return data

    def drafts(self, incident_id: int) -> list[Row]:
        return self._get(f"/incidents/{incident_id}/drafts")

    def draft(self, draft_id: int, *, revision: int | None = None) -> Row:
        data = self._get(f"/drafts/{draft_id}", revision=revision)
        if revision is not None and data.get("shown_revision") != revision:  # a server without ?revision=
            raise InvalidInput(f"{self.login.url} shows only the current revision of D-{draft_id}, not {revision}")
        return data

    def escalations(self, incident_id: int | None) -> list[Row]:
        if incident_id is not None:
            return self._get(f"/incidents/{incident_id}/escalations")
        rows: list[Row] = []
        for incident in self.incidents(status=None, kind=None, open_only=True):
            rows.extend(self._get(f"/incidents/{incident['id']}/escalations"))
        return sorted(rows, key=lambda r: r.get("escalation") or 0)

    def runs(self, incident_id: int) -> list[Row]:
        return self._get(f"/incidents/{incident_id}/runs")

    def tasks(self, incident_id: int) -> list[Row]:
        return self._get(f"/incidents/{incident_id}/tasks")

    def people(self) -> list[Row]:
        return self._get("/people")

    def tokens(self) -> list[Row]:
        return self._get("/tokens")

    def suppressions(self, *, reason: str | None) -> list[Row]:
        return self._get("/suppressions", reason=reason)

    def whoami(self) -> Row:
        me = self._get("/me")
        return {"mode": "client", "server": self.login.url, **me}
