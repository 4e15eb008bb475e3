"""as_list: every list read from Alma, whatever form Alma gave it."""

from __future__ import annotations

from almasync.alma.payload import as_list


def test_lists_in_every_form_alma_sends() -> None:
    row = {"code": "STAFF"}
    assert as_list([row, {"code": "GRAD"}]) == [row, {"code": "GRAD"}]
    assert as_list(row) == [row]          # one element, served bare
    assert as_list("MONDAY") == ["MONDAY"]
    assert as_list(None) == []            # the key is absent when the list is empty
    assert as_list("") == []
    assert as_list([]) == []


def test_the_list_read_is_a_copy() -> None:
    rows = [{"code": "STAFF"}]
    copied = as_list(rows)
    copied.append({"code": "GRAD"})
    assert rows == [{"code": "STAFF"}]
