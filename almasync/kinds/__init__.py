"""One module per configuration kind; this registry is how the engine finds them."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from almasync.kinds.base import KindHandler
from almasync.kinds.code_table import CodeTableHandler
from almasync.kinds.integration_profile import IntegrationProfileHandler
from almasync.kinds.letter import LetterHandler
from almasync.kinds.license_term import LicenseTermHandler
from almasync.kinds.location import LocationHandler
from almasync.kinds.mapping_table import MappingTableHandler
from almasync.kinds.open_hours import OpenHoursHandler
from almasync.kinds.readonly.circ_desks import CircDeskHandler
from almasync.kinds.readonly.departments import DepartmentHandler
from almasync.kinds.readonly.general import GeneralHandler
from almasync.kinds.readonly.libraries import LibraryHandler
from almasync.kinds.readonly.printers import PrinterHandler
from almasync.kinds.readonly.profiles import DepositProfileHandler, ImportProfileHandler
from almasync.kinds.reminder import ReminderHandler
from almasync.kinds.set import SetHandler
from almasync.model import Kind

#: Handlers in dependency order: a kind comes after the kinds its resources refer to
#: (code tables hold the codes locations, letters and reminders use; letters' labels are code
#: tables; jobs refer to sets and integration profiles). Creates and updates run in this
#: order, deletes in reverse. Read-only kinds come first: everything else may refer to
#: them, and they are never written.
ORDER: tuple[KindHandler, ...] = (
    GeneralHandler(), LibraryHandler(), CircDeskHandler(), DepartmentHandler(),
    PrinterHandler(), DepositProfileHandler(), ImportProfileHandler(),
    CodeTableHandler(), MappingTableHandler(),
    LocationHandler(),
    LetterHandler(), LicenseTermHandler(),
    ReminderHandler(), OpenHoursHandler(),
    SetHandler(), IntegrationProfileHandler(),
)

HANDLERS: Mapping[Kind, KindHandler] = MappingProxyType({h.kind: h for h in ORDER})
BY_CONFIG_KEY: Mapping[str, KindHandler] = MappingProxyType(
    {h.kind.config_key: h for h in ORDER})


def rank(kind: Kind) -> int:
    """Position of ``kind`` in the dependency order."""
    return ORDER.index(HANDLERS[kind])
