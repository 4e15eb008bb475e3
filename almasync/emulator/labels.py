"""Human labels (the ``desc`` of ``{"value", "desc"}`` pairs) and the value sets Alma accepts.

Values marked "inferred" in docs/emulator.md are the emulator's choice where no public
source shows Alma's full code table.
"""

from __future__ import annotations

from typing import Final

YES_NO: Final = {True: "Yes", False: "No"}

ENVIRONMENT_TYPES: Final = {"SANDBOX": "Sandbox", "PRODUCTION": "Production"}

LOCATION_TYPES: Final = {
    "OPEN": "Open",
    "CLOSED": "Closed",
    "REMOTE_STORAGE": "Remote Storage",
}

# MARC 852 first-indicator values, as Alma's call number type code table uses them.
CALL_NUMBER_TYPES: Final = {
    "0": "Library of Congress classification",
    "1": "Dewey Decimal classification",
    "2": "National Library of Medicine classification",
    "3": "Superintendent of Documents classification",
    "4": "Shelving control number",
    "5": "Title",
    "6": "Shelved separately",
    "7": "Source specified in subfield $2",
    "8": "Other scheme",
}

ACCESSION_PLACEMENTS: Final = {
    "none": "None",
    "852h": "852 subfield h",
    "852i": "852 subfield i",
    "852j": "852 subfield j",
    "852k": "852 subfield k",
}

SUB_SYSTEMS: Final = {
    "ACQ": "Acquisitions",
    "FULFILLMENT": "Fulfillment",
    "INFRA": "Infra",
    "RESOURCE_MANAGEMENT": "Resource Management",
    "USER_MANAGEMENT": "User Management",
    "ERM": "Electronic Resource Management",
    "GENERAL": "General",
}

LANGUAGES: Final = {
    "en": "English",
    "fr": "French",
    "de": "German",
    "es": "Spanish",
    "it": "Italian",
    "he": "Hebrew",
    "nl": "Dutch",
}

CURRENCIES: Final = {
    "USD": "US Dollar",
    "EUR": "Euro",
    "GBP": "Pound Sterling",
    "CAD": "Canadian Dollar",
}

SET_TYPES: Final = {"ITEMIZED": "Itemized", "LOGICAL": "Logical"}

SET_CONTENT: Final = {
    "BIB_MMS": "All Titles",
    "IEP": "Physical titles",
    "IEE": "Electronic titles",
    "ITEM": "Physical items",
    "PORTFOLIO": "Electronic portfolios",
    "USER": "Users",
    "VENDOR": "Vendors",
    "PO_LINE": "Order lines",
    "HOLDING": "Physical holdings",
    "REPRESENTATION": "Digital representations",
}

SET_STATUSES: Final = {"ACTIVE": "Active", "INACTIVE": "Inactive"}
SET_ORIGINS: Final = {"UI": "Institution only", "UI_CZ": "Community Zone"}

JOB_TYPES: Final = {"MANUAL": "Manual", "SCHEDULED": "Scheduled", "OTHER": "Other"}

JOB_CATEGORIES: Final = {
    "NORMALIZATION": "Normalization",
    "EXPORT": "Export",
    "MD_IMPORT": "Metadata Import",
    "SIS": "Student Information System",
    "ERP": "ERP",
    "BURSAR": "Bursar",
    "FINANCE": "Finance",
    "PUBLISHING": "General Publishing",
    "REMOTE_STORAGE": "Remote Storage",
    "COURSES": "Courses",
    "CIRCULATION": "Circulation",
    "USERS": "Users",
    "INDEXING": "Indexing",
}

# Scheduled-job categories that the Jobs API may submit (conf.json, POST /conf/jobs/{job_id}).
SUBMITTABLE_SCHEDULED_CATEGORIES: Final = frozenset(
    {"ERP", "MD_IMPORT", "REMOTE_STORAGE", "BURSAR", "FINANCE", "PUBLISHING", "COURSES", "SIS"}
)

JOB_STATUSES: Final = {
    "QUEUED": "Queued",
    "PENDING": "Pending",
    "INITIALIZING": "Initializing",
    "RUNNING": "Running",
    "MANUAL_HANDLING_REQUIRED": "Manual handling required",
    "FINALIZING": "Finalizing",
    "COMPLETED_SUCCESS": "Completed Successfully",
    "COMPLETED_NO_BULKS": "Completed, no bulks",
    "COMPLETED_FAILED": "Completed with Errors",
    "FAILED": "Failed",
    "COMPLETED_WARNING": "Completed with Warnings",
    "USER_ABORTED": "Aborted by user",
    "SYSTEM_ABORTED": "Aborted by system",
    "SKIPPED": "Skipped",
}

JOB_SCHEDULES: Final = {
    "NOT_SCHEDULED": "Not scheduled",
    "DAILY": "Every day",
    "WEEKLY": "Every week",
    "HOURLY": "Every hour",
}

INTEGRATION_TYPES: Final = {
    "USERS": "Users",
    "SIS": "Student Information System",
    "BURSAR": "Bursar",
    "DISCOVERY": "Discovery Interaction",
    "REMOTE_STORAGE": "Remote Storage",
    "CENTRAL_CATALOG_INTEGRATION": "Central Catalog Integration",
    "ILL_INTEGRATION": "ILL Integration",
    "PROXY_DEFINITION": "Proxy Definition",
    "ACQUISITION": "Acquisition",
    "FINANCE": "Finance",
    "RFID": "RFID",
    "SELF_CHECK": "Self Check",
    "OAI_REPOSITORY": "OAI Repository Definitions",
    "LINKRESOLVER_PLUGIN": "Link resolver plugin",
}

LICENSE_TERM_TYPES: Final = {
    "USAGE": "Usage",
    "RESTRICTION": "Restriction",
    "PERPETUAL": "Perpetual rights",
    "ILL": "Interlibrary loan",
    "NOTES": "Notes",
}

LICENSE_VALUE_TYPES: Final = {
    "PERMITTED_PROHIBITED": "Permitted / Prohibited",
    "YES_NO": "Yes / No",
    "FREE_TEXT": "Free text",
    "NUMERIC": "Number",
    "DATE": "Date",
}

DEFAULT_REMINDER_TYPES: Final = {
    "GENERAL": "General",
    "RENEWAL": "Renewal",
    "REVIEW": "Review",
    "CLAIM": "Claim",
}
DEFAULT_REMINDER_STATUSES: Final = {"NEW": "New", "IN_PROGRESS": "In progress", "CLOSED": "Closed"}
REMINDER_ENTITY_TYPES: Final = {"BIB_MMS": "All Titles"}

OPEN_HOURS_TYPES: Final = {"WEEK": "Week", "EXCEPTION": "Exception"}
OPEN_HOURS_STATUSES: Final = {"OPEN": "Open", "CLOSE": "Closed"}
WEEKDAYS: Final = {
    "MONDAY": "Monday",
    "TUESDAY": "Tuesday",
    "WEDNESDAY": "Wednesday",
    "THURSDAY": "Thursday",
    "FRIDAY": "Friday",
    "SATURDAY": "Saturday",
    "SUNDAY": "Sunday",
}

RELATION_TYPES: Final = {
    "DELIVERY": "Delivery and pickup",
    "RESOURCE_SHARING": "Suggested for resource sharing",
    "INVENTORY": "Inventory relation",
}

DEPARTMENT_TYPES: Final = {
    "AcqWorkOrder": "Acquisitions",
    "DIGI": "Digitization",
    "BINDING": "Binding",
    "CATALOGING": "Cataloging",
}

FEE_TYPES: Final = {
    "OVERDUEFINE": "Overdue fine",
    "LOSTITEMREPLACEMENTFEE": "Lost item replacement fee",
    "CREDIT": "Credit",
}
FEE_TRANSACTION_TYPES: Final = {"PAYMENT": "Payment", "WAIVE": "Waive"}
