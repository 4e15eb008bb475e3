"""``almasync doctor``: check almasync's assumptions about Alma against a live institution.

:mod:`~almasync.doctor.sample` reads a small sample per kind, read-only;
:mod:`~almasync.doctor.assumptions` lists what almasync assumes and checks each assumption
on the sample; :mod:`~almasync.doctor.noop` runs the kinds' own writes for a declaration
of what is live without sending them; :mod:`~almasync.doctor.sanitise` cleans what
``--record`` writes. See docs/doctor.md.
"""
