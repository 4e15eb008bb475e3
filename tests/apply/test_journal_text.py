"""The journal's text: the plan and saved resources are serialised once and spliced into
each flush; the file must be exactly what serialising the whole journal gives."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from almasync import engine
from almasync.emulator import Emulator
from almasync.journal import Journal, State
from tests.apply.test_workflow import client_for, plan_of
from tests.conftest import EXAMPLES

SECRETS = {"SIS_FTP_PASSWORD": "sis-secret", "RFID_API_TOKEN": "rfid-token"}


def test_each_flush_is_the_whole_journal_serialised(emulator: Emulator, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    with client_for(emulator) as client:
        plan = plan_of(client, EXAMPLES)
        touched = engine.read_touched(client, plan)
    assert len(plan.changes) > 5
    journal = Journal.start(plan, touched, tmp_path)

    def whole() -> str:
        return json.dumps(journal.body, indent=2, sort_keys=True, ensure_ascii=False) + "\n"

    assert journal.path.read_text(encoding="utf-8") == whole()
    journal.mark(0, State.STARTED)
    journal.mark(0, State.APPLIED)
    journal.record(1, State.FAILED, 'refused: "quoted" \u00e9 \\ note', "401652")
    journal.record(2, State.STARTED)
    journal.flush()
    journal.finish("interrupted by SIGINT")
    text = journal.path.read_text(encoding="utf-8")
    assert text == whole()
    again = Journal.load(journal.path)
    assert again.body == journal.body
    assert [again.state(i) for i in range(3)] == [State.APPLIED, State.FAILED,
                                                  State.STARTED]
