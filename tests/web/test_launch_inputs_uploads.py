"""Launch inputs that are files are uploads the server issued, never paths on the server (API, console, Slack
alike; only the local CLI names a path), and no playbook is launched on a closed incident at any door. Only who may
launch or give inputs somewhere may upload (policy upload.create), and each person's unused uploads are capped."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select
from tocsin.flows.launch_files import UPLOAD_PREFIX, resolve_file_inputs
from tocsin.models.playbook_run import PlaybookRun
from tocsin.playbooks.loader import get_built_in

from tests.web.conftest import Api, add_person, assign, declare
from tests.web.console_helpers import Console, csrf_token
from tocsin.core.acting import Actor, Via
from tocsin.core.config import get_settings
from tocsin.core.errors import InvalidInput
from tocsin.db.engine import session_scope

ROWS = "email,name\nana@example.org,Ana\n"
MENTION = '{"id": "1", "created_at": "2026-03-02T10:00:00Z", "text": "Acme lost my data"}\n'
SUMMARY = "A laptop with a customer export was stolen."


def runs_of(incident: int) -> list[PlaybookRun]:
    with session_scope() as session:
        return list(session.exec(select(PlaybookRun).where(PlaybookRun.incident_id == incident)))


def upload(api: Api, content: str = ROWS, *, kind: str = "recipients", person: str = "alice") -> Any:
    files = {"file": ("people.csv", content.encode(), "text/csv")}
    return api.post("/api/uploads", person, files=files, data={"kind": kind})


def launch(api: Api, incident: int, inputs: dict[str, str], person: str = "alice") -> Any:
    body = {"playbook": "data-breach", "inputs": {"summary": SUMMARY, **inputs}}
    return api.post(f"/api/incidents/{incident}/playbooks", person, json=body)


def test_a_server_path_as_a_launch_input_is_refused_naming_the_field(api: Api) -> None:
    incident = declare(api)["id"]
    for name, value in (("recipients", "/etc/passwd"), ("mentions", "../../tocsin.db"), ("recipients", "C:/x.csv")):
        refused = launch(api, incident, {name: value})
        assert refused.status_code == 422, refused.text
        assert f"inputs.{name}" in refused.json()["error"] and "upload:<id>" in refused.json()["error"]
    assert runs_of(incident) == []  # nothing stored, so nothing for a step to open later


def test_a_declaration_with_a_refused_file_input_declares_nothing(api: Api) -> None:
    declare(api)  # alice commands an open incident, so she may upload (policy upload.create)
    before = len(api.get("/api/incidents", "alice").json())
    for value in ("/etc/passwd", "upload:UP-20261205T120000Z-" + "0" * 32, "upload:INC-1-20261205T120000Z-" + "a" * 32):
        body = {
            "title": "Stolen laptop",
            "playbook": "data-breach",
            "inputs": {"summary": SUMMARY, "recipients": value},
        }
        refused = api.post("/api/incidents", "alice", json=body)
        assert refused.status_code == 422 and "inputs.recipients" in refused.json()["error"], refused.text
    assert len(api.get("/api/incidents", "alice").json()) == before  # a retry cannot make duplicates
    made = upload(api)
    body = {
        "title": "Stolen laptop",
        "playbook": "data-breach",
        "inputs": {"summary": SUMMARY, "recipients": made.json()["input"]},
    }
    declared = api.post("/api/incidents", "alice", json=body)
    assert declared.status_code == 201, declared.text
    [run] = runs_of(declared.json()["id"])
    assert Path(run.inputs["recipients"]).read_text() == ROWS


def test_a_server_path_given_to_a_waiting_run_is_refused_too(api: Api) -> None:
    incident = declare(api)["id"]
    run = launch(api, incident, {}).json()["run"]
    assign(api, incident, "legal", "lena")
    refused = api.post(f"/api/runs/{run}/inputs", "lena", json={"inputs": {"recipients": "/etc/passwd"}})
    assert refused.status_code == 422 and "inputs.recipients" in refused.json()["error"]
    made = upload(api, person="lena")
    given = api.post(f"/api/runs/{run}/inputs", "lena", json={"inputs": {"recipients": made.json()["input"]}})
    assert given.status_code == 200, given.text
    [stored] = runs_of(incident)
    assert Path(stored.inputs["recipients"]).read_text() == ROWS


def test_an_uploaded_file_is_checked_stored_privately_and_launched_by_its_id(api: Api) -> None:
    incident = declare(api)["id"]
    made = upload(api)
    assert made.status_code == 201, made.text
    answer = made.json()
    assert answer["kind"] == "recipients" and answer["input"] == f"{UPLOAD_PREFIX}{answer['id']}"
    launched = launch(api, incident, {"recipients": answer["input"]})
    assert launched.status_code == 201, launched.text
    [run] = runs_of(incident)
    stored = Path(run.inputs["recipients"])
    assert stored == get_settings().home / "uploads" / answer["id"] / "recipients.csv" and stored.read_text() == ROWS
    assert stored.stat().st_mode & 0o777 == 0o600 and stored.parent.stat().st_mode & 0o777 == 0o700


def test_bad_uploads_and_unknown_or_mismatched_ids_are_refused(api: Api) -> None:
    incident = declare(api)["id"]
    bad = upload(api, "email,name\nnot-an-address,Bo\n")
    assert bad.status_code == 422 and "line 2: not a valid email address" in bad.json()["error"]
    assert not list((get_settings().home / "uploads").glob("*/*"))  # the refused file is not kept
    assert upload(api, kind="passwd").status_code == 422
    mentions = upload(api, MENTION, kind="mentions").json()["input"]
    for value in (
        "upload:../../etc",
        "upload:UP-20261205T120000Z-" + "0" * 32,
        mentions,  # a mentions file is not a recipients list
        "upload:" + ("x" * 300),
    ):
        refused = launch(api, incident, {"recipients": value})
        assert refused.status_code == 422 and "inputs.recipients" in refused.json()["error"], value
    assert runs_of(incident) == []


def test_only_the_server_itself_may_name_a_path(tocsin_db: str, tmp_path: Path) -> None:
    playbook = get_built_in("data-breach")
    local = tmp_path / "people.csv"
    inputs = {"recipients": str(local), "summary": SUMMARY}
    home = get_settings().home
    for via in (Via.local, Via.system, Via.drill):
        kept = resolve_file_inputs(playbook, inputs, actor=Actor("op", via), incident_id=1, home=home)
        assert kept == inputs
    for via in (Via.api, Via.console, Via.slack):
        with pytest.raises(InvalidInput, match=r"inputs\.recipients"):
            resolve_file_inputs(playbook, inputs, actor=Actor("op", via), incident_id=1, home=home)


def test_no_launch_on_a_closed_incident_by_the_api_or_the_console(console: Console) -> None:
    api = console.api
    incident = declare(api)["id"]
    closed = api.post(f"/api/incidents/{incident}/close", json={"reason": "false alarm"})
    assert closed.status_code == 200, closed.text
    by_api = launch(api, incident, {})
    assert by_api.status_code == 422 and "is closed" in by_api.json()["error"]
    alice = console.as_person("alice")
    data = {"playbook": "data-breach", "input.summary": SUMMARY, "csrf_token": csrf_token(alice, "/incidents")}
    files = {"input.recipients": ("people.csv", ROWS, "text/csv")}
    by_console = alice.post(f"/incidents/{incident}/launch", data=data, files=files, follow_redirects=False)
    assert by_console.status_code == 422 and "is closed" in by_console.text
    assert runs_of(incident) == []
    assert not list((get_settings().home / "uploads").glob("*/*"))  # the console's upload is not kept either


def stored_folders() -> list[str]:
    root = get_settings().home / "uploads"
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


def test_only_who_may_launch_or_give_inputs_somewhere_may_upload(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    add_person(api, "root", admin=True)
    nobody = upload(api, person="bob")  # a valid token, no role anywhere
    assert nobody.status_code == 403, nobody.text
    assert "policy upload.create" in nobody.json()["error"] and "on any open incident" in nobody.json()["error"]
    assert "refused: upload.create by bob" in caplog.text and stored_folders() == []
    assert upload(api, person="root").status_code == 201  # an admin, holding no role
    incident = declare(api)["id"]
    assert upload(api).status_code == 201  # alice: the commander
    assign(api, incident, "legal", "lena")
    assign(api, incident, "comms", "carl")
    assert upload(api, person="lena").status_code == 201  # legal gives a waiting run its inputs
    assert upload(api, person="carl").status_code == 403  # comms neither launches nor gives inputs
    closed = api.post(f"/api/incidents/{incident}/close", json={"reason": "false alarm"})
    assert closed.status_code == 200, closed.text
    assert upload(api, person="lena").status_code == 403  # a role on a closed incident only
    assert len(stored_folders()) == 3


def test_each_persons_unused_uploads_are_capped(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    from tocsin.flows import uploads

    assert uploads.MAX_UNUSED_UPLOADS == 20
    monkeypatch.setattr(uploads, "MAX_UNUSED_UPLOADS", 3)
    incident = declare(api)["id"]
    assign(api, incident, "legal", "lena")
    made = [upload(api).json()["input"] for _ in range(3)]
    refused = upload(api)
    assert refused.status_code == 422, refused.text
    assert "already has 3 uploads that no launch has used (the limit per person)" in refused.json()["error"]
    assert len(stored_folders()) == 3  # the refused file was never stored
    assert upload(api, person="lena").status_code == 201  # the cap is per person

    launched = launch(api, incident, {"recipients": made[0]})  # a launch uses one: a place is free again
    assert launched.status_code == 201, launched.text
    assert upload(api).status_code == 201
    assert upload(api).status_code == 422
    shutil.rmtree(get_settings().home / "uploads" / made[1].removeprefix(UPLOAD_PREFIX))  # as `tocsin purge` does
    assert upload(api).status_code == 201
    assert upload(api).status_code == 422


def test_an_upload_form_without_a_file_or_with_another_kind_is_refused(api: Api) -> None:
    declare(api)
    no_file = api.post("/api/uploads", data={"kind": "recipients"}, files={"other": ("x.csv", ROWS.encode())})
    assert no_file.status_code == 422 and "a file part named `file`" in no_file.json()["error"]
    other_kind = upload(api, kind="passwd")
    assert other_kind.status_code == 422 and "'passwd' is not a kind of file" in other_kind.json()["error"]
    assert upload(api, MENTION, kind="mentions").status_code == 201
    assert len(stored_folders()) == 1
