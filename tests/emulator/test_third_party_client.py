"""A client nobody here wrote: almapy (PyPI) drives the emulator through its configuration calls.

almapy is async (niquests); it accepts an injected session, which is pointed at the emulator.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from almasync.emulator import Emulator

try:  # the `compat` extra, installed on its own (see docs/emulator.md)
    import almapy
    import almapy.exceptions as exceptions
    import niquests
except ImportError:
    almapy = exceptions = niquests = None
    pytestmark = pytest.mark.skip(
        reason="almapy is not installed (pip install -e '.[compat]' in a venv of its own)")

Scenario = Callable[[Any], Awaitable[None]]


def _run(emu: Emulator, scenario: Scenario, key: str | None = None) -> None:
    async def main() -> None:
        session = niquests.AsyncSession(
            base_url=emu.base_url + "/almaws/v1", disable_http2=True, disable_http3=True
        )
        async with session:
            client = almapy.AlmaClient(
                key or emu.api_key, client=session, rate_limit=500.0, retry_attempts=1
            )
            await scenario(client)

    asyncio.run(main())


def test_libraries_locations_desks_departments(emu: Emulator) -> None:
    async def scenario(client: Any) -> None:
        libraries = await client.config.libraries.get_libraries()
        assert [lib.code for lib in libraries.library] == ["MAIN", "LAW", "MUSIC"]
        locations = await client.config.libraries.get_locations("MAIN")
        assert int(locations.total_record_count) == 4
        stacks = await client.config.libraries.get_location("MAIN", "STACKS")
        assert stacks.external_name == "Stacks" and stacks.type.value == "OPEN"
        desks = await client.config.libraries.get_circ_desks("MAIN")
        assert desks.circ_desk[0].code == "DEFAULT_CIRC_DESK"
        departments = await client.config.libraries.get_departments()
        assert len(departments.department) == 3
        with pytest.raises(exceptions.APIClientError) as caught:
            await client.config.libraries.get_location("MAIN", "NOPE")
        assert caught.value.code == "402119"

    _run(emu, scenario)


def test_code_tables_round_trip(emu: Emulator) -> None:
    async def scenario(client: Any) -> None:
        tables = await client.config.code_tables.get_code_tables()
        assert "UserGroups" in [t.name for t in tables.code_table]
        table = await client.config.code_tables.get_code_table("UserGroups")
        table.row.append({"code": "ALUMNI", "description": "Alumni", "enabled": "true"})
        updated = await client.config.code_tables.update_code_table("UserGroups", table)
        assert [r.code for r in updated.row][-1] == "ALUMNI"

    _run(emu, scenario)
    assert emu.store.code_tables["UserGroups"]["rows"][-1]["code"] == "ALUMNI"


def test_letters_xml_update(emu: Emulator) -> None:
    async def scenario(client: Any) -> None:
        letters = await client.config.letters.get_letters()
        assert len(letters.letter) == 3
        components = await client.config.letters.get_components()
        assert [c.code for c in components.letter] == ["header.xsl", "footer.xsl"]
        letter = await client.config.letters.get_letter("GeneralMessageEmailLetter")
        assert "<xsl:stylesheet" in letter.xsl
        xml = "<letter><code>GeneralMessageEmailLetter</code><enabled>true</enabled></letter>"
        updated = await client.config.letters.update_letter("GeneralMessageEmailLetter", xml)
        assert updated.enabled.value == "true"  # Alma sends letter flags as strings

    _run(emu, scenario)


def test_sets_and_members(emu: Emulator) -> None:
    async def scenario(client: Any) -> None:
        listing = await client.config.sets.get_list(set_type="ITEMIZED")
        assert [s.name for s in listing.set] == ["New acquisitions 2026"]
        created = await client.config.sets.create(
            {
                "name": "Weeding candidates 2026",
                "type": {"value": "ITEMIZED"},
                "content": {"value": "BIB_MMS"},
                "private": {"value": "false"},
            }
        )
        updated = await client.config.sets.manage_members(
            created.id, ["991234", "991235"], op="add_members"
        )
        assert updated.number_of_members.value == "2"
        members = await client.config.sets.get_members(created.id)
        assert [m.id for m in members.member] == ["991234", "991235"]
        await client.config.sets.delete_set(created.id)

    _run(emu, scenario)


def test_jobs_and_integration_profiles(make_emulator: Callable[..., Emulator]) -> None:
    emu = make_emulator(job_step_seconds=0)

    async def scenario(client: Any) -> None:
        jobs = await client.config.jobs.get_jobs(limit=100)
        assert int(jobs.total_record_count) == 8
        job = await client.config.jobs.get_job("M26714670000011")
        assert job.parameter[0].name.value == "set_id"
        submitted = await client.config.jobs.submit_job(
            "M26714670000011",
            {"parameter": [{"name": {"value": "set_id"}, "value": "3100000020005501"}]},
        )
        instance_id = submitted.additional_info.link.rsplit("/", 1)[-1]
        run = await client.config.jobs.get_job_instance("M26714670000011", instance_id)
        assert run.status.value == "COMPLETED_SUCCESS" and run.progress == 100
        runs = await client.config.jobs.get_job_instances("M26714670000011")
        assert int(runs.total_record_count) == 2
        matches = await client.config.jobs.get_job_instance_matches(
            "S99999900000011", "8100000030005501", "single"
        )
        assert int(matches.total_record_count) == 2
        profiles = await client.config.jobs.get_integration_profiles(profile_type="USERS")
        assert [p.code for p in profiles.integration_profile] == ["SIS_SYNC"]
        profile = await client.config.jobs.get_integration_profile(
            profiles.integration_profile[0].id
        )
        profile.description = "Nightly student load"
        saved = await client.config.jobs.update_integration_profile(profile.id, profile)
        assert saved.description == "Nightly student load"
        assert saved.parameter == profile.parameter and len(saved.parameter) == 3
        new = await client.config.jobs.create_integration_profile(
            {"code": "SELF1", "type": {"value": "SELF_CHECK"}}
        )
        assert new.id.isdigit()

    _run(emu, scenario)


def test_read_only_key_error_is_understood(emu: Emulator) -> None:
    async def scenario(client: Any) -> None:
        with pytest.raises(exceptions.APIClientError) as caught:
            await client.config.sets.delete_set("3100000020005501")
        assert caught.value.code == "UNAUTHORIZED"

    _run(emu, scenario, key=emu.read_only_key)
