"""Read-only configuration: what Alma's API lets almasync read but never change.

Each kind here is exported (into ``readonly/`` of an exported tree), compared by ``drift``
and checked by ``plan``, which shows a difference as something to change in Alma's UI.
The capability is declared once, by ``read_only = True`` on :class:`ReadOnlyHandler`.
"""
