"""AlmaClient.memo against the emulator: what is read once, what a write forgets; and the
read-back of a write (AlmaClient.recording and confirms)."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from almasync.alma.client import WriteOutcomeUnknown
from almasync.alma.readback import echoes
from almasync.emulator import Emulator
from almasync.kinds.location import update_body
from tests.alma.test_client import client_for

MAIN = "/conf/libraries/MAIN/locations"
STACKS = f"{MAIN}/STACKS"
REF = f"{MAIN}/REF"


def _gets(emu: Emulator, path: str) -> int:
    return sum(1 for r in emu.requests
               if r.method == "GET" and r.path == f"/almaws/v1{path}")


def test_without_a_memo_every_get_goes_to_alma(emulator: Emulator) -> None:
    client = client_for(emulator)
    client.get(STACKS)
    client.get(STACKS)
    assert _gets(emulator, STACKS) == 2


def test_within_a_memo_a_path_and_its_parameters_are_read_once(emulator: Emulator) -> None:
    client = client_for(emulator)
    with client.memo():
        first = client.get(STACKS)
        first["name"] = "changed by the caller"
        again = client.get(STACKS)
        client.get("/conf/open-hours", {"scope": "MAIN"})
        client.get("/conf/open-hours", {"scope": "LAW"})
        client.get("/conf/open-hours", {"scope": "MAIN"})
    assert again["name"] == "Main Stacks"  # an answer is a copy: callers may change theirs
    assert _gets(emulator, STACKS) == 1
    assert _gets(emulator, "/conf/open-hours") == 2
    client.get(STACKS)  # the memo ended with its block
    assert _gets(emulator, STACKS) == 2


def test_identical_reads_side_by_side_share_one_call(emulator: Emulator) -> None:
    client = client_for(emulator, workers=4)
    with client.memo():
        answers = client.map(lambda _: client.get("/conf/general"), range(8))
    assert len({str(a) for a in answers}) == 1
    assert _gets(emulator, "/conf/general") == 1


def test_a_put_forgets_the_path_and_the_list_that_holds_it(emulator: Emulator) -> None:
    client = client_for(emulator)
    with client.memo():
        for path in (MAIN, STACKS, REF, "/conf/libraries"):
            client.get(path)
        client.put(STACKS, update_body(client.get(STACKS), {"name": "Stacks, level 2"}))
        assert client.get(STACKS)["name"] == "Stacks, level 2"
        listed = {e["code"]: e for e in client.get(MAIN)["location"]}
        client.get(REF)
        client.get("/conf/libraries")
    assert listed["STACKS"]["name"] == "Stacks, level 2"
    assert _gets(emulator, STACKS) == 2     # read from Alma again
    assert _gets(emulator, MAIN) == 2       # and so is the list holding it
    assert _gets(emulator, REF) == 1        # not a sibling
    assert _gets(emulator, "/conf/libraries") == 1  # nor a list further up


def test_a_create_keeps_the_collections_members_and_other_posts_forget_below(
        emulator: Emulator) -> None:
    client = client_for(emulator)
    with client.memo():
        client.get(STACKS)
        client.post(MAIN, {"code": "NEW", "name": "New", "type": {"value": "OPEN"}})
        client.get(STACKS)
        client.get(MAIN)
        members = "/conf/sets/3100000020005501/members"
        client.get(members)
        client.post("/conf/sets/3100000020005501", {"members": {"member": [{"id": "991236"}]}},
                    {"op": "add_members", "id_type": "SYSTEM_ID"})
        client.get(members)
    assert _gets(emulator, STACKS) == 1
    assert _gets(emulator, MAIN) == 1
    assert _gets(emulator, members) == 2


def test_a_failed_write_forgets_what_it_may_have_changed(emulator: Emulator) -> None:
    client = client_for(emulator)
    with client.memo():
        client.get(STACKS)
        emulator.crash_after_writes = 0  # every call is now dropped unanswered
        with pytest.raises(WriteOutcomeUnknown):
            client.put(MAIN, {})
        emulator.recover()
        client.get(STACKS)
    assert _gets(emulator, STACKS) == 2


def test_forget_and_without_memo(emulator: Emulator) -> None:
    client = client_for(emulator)
    with client.memo():
        client.get(STACKS)
        with client.without_memo():
            client.get(STACKS)
        client.get(STACKS)
        client.forget()
        client.get(STACKS)
    assert _gets(emulator, STACKS) == 3


def test_a_write_is_confirmed_by_reading_its_path_again(emulator: Emulator) -> None:
    client, other = client_for(emulator), client_for(emulator)
    with client.memo(), client.recording() as writes:
        client.put(STACKS, update_body(client.get(STACKS), {"name": "Stacks, level 2"}))
    assert [(w.method, w.path, w.readable) for w in writes.made] == [("PUT", STACKS, True)]
    assert client.confirms(writes.made)
    other.put(STACKS, update_body(other.get(STACKS), {"name": "Someone else's"}))
    assert not client.confirms(writes.made)  # overwritten since


def test_a_create_stands_on_its_answer(emulator: Emulator) -> None:
    client = client_for(emulator)
    with client.recording() as writes:
        client.post(MAIN, {"code": "NEW", "name": "New", "type": {"value": "OPEN"}})
    assert [(w.method, w.path, w.answered) for w in writes.made] == [
        ("POST", f"{MAIN}/NEW", True)]  # where Alma's answer says it lives
    assert client.confirms(writes.made)
    assert _gets(emulator, f"{MAIN}/NEW") == 0


def test_writes_no_get_shows_are_never_confirmed(emulator: Emulator) -> None:
    client = client_for(emulator)
    with client.recording() as writes:
        client.post("/conf/sets/3100000020005501", {"members": {"member": [{"id": "991236"}]}},
                    {"op": "add_members", "id_type": "SYSTEM_ID"})
    assert [w.readable for w in writes.made] == [False]
    assert not client.confirms(writes.made)
    assert not client.confirms([])  # nothing written, nothing confirmed


@pytest.mark.parametrize(("sent", "held", "confirmed"), [
    ({"type": {"value": "OPEN"}}, {"type": {"value": "OPEN", "desc": "Open"}}, True),
    ({"type": "OPEN"}, {"type": {"value": "OPEN", "desc": "Open", "link": "x"}}, True),
    ({"flag": True}, {"flag": "true"}, True),
    ({"map": ""}, {}, True),
    ({"name": "A"}, {"name": "B"}, False),
    ({"name": "A"}, {}, False),
    ({"rows": [{"code": "A"}, {"code": "B"}]},
     {"rows": [{"code": "A"}, {"code": "X", "inherited": True}, {"code": "B"}]}, True),
    ({"rows": [{"code": "A"}, {"code": "B"}]}, {"rows": [{"code": "B"}, {"code": "A"}]}, False),
    ({"name": "A"}, None, False),
])
def test_echoes(sent: Any, held: Any, confirmed: bool) -> None:
    assert echoes(sent, held) is confirmed


@pytest.mark.parametrize(("written", "remembered"), [(REF, True), (STACKS, False)])
def test_a_read_in_flight_is_forgotten_only_for_a_write_that_may_change_it(
        emulator: Emulator, written: str, remembered: bool) -> None:
    """A GET of STACKS is answered only after a PUT has gone out: a PUT of a sibling (REF)
    cannot change it, so it is remembered; a PUT of STACKS itself may have, so it is not."""
    client = client_for(emulator, workers=2)
    arrived, written_ = threading.Event(), threading.Event()

    def hold(method: str, path: str) -> None:
        if method == "GET" and path == f"/almaws/v1{STACKS}" and not arrived.is_set():
            arrived.set()
            assert written_.wait(30)

    body = update_body(client.get(written), {"name": "Renamed"})  # before the memory
    with client.memo():
        emulator.on_request = hold
        try:
            reader = threading.Thread(target=client.get, args=(STACKS,))
            reader.start()
            assert arrived.wait(30)
            client.put(written, body)
            written_.set()
            reader.join(30)
        finally:
            emulator.on_request = None
        client.get(STACKS)
    assert _gets(emulator, STACKS) == (1 if remembered else 2) + (written == STACKS)
