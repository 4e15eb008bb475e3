"""Lists in Alma's JSON, read one way everywhere.

Alma's JSON is produced from its XML. A repeated element becomes an array, except that a
list holding one element may come back as that bare element (FACTS section 8: clients that
talk to real Alma normalise every list), and an empty list has no key at all (FACTS 2.0).
Every reader of a list in a payload (list envelopes, table rows, profile parameters,
open-hours entries and their days, job counters...) goes through :func:`as_list`.
"""

from __future__ import annotations

from typing import Any


def as_list(value: Any) -> list[Any]:
    """A list value as read from Alma -> a list: absent (None) or empty text is ``[]``, a
    bare element is a one-element list, and a list stays as it is (copied)."""
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return list(value)
    return [value]
