"""A patient's data rights: download everything we hold about them, and close their account.

THE EXPORT. `SECTIONS` (sections.py) is the one table of what a patient's download holds: for
each kind of record, the model, how its rows lead to the patient, the fields exported and the
fields left out with the reason. A test fails when a model in our apps is in neither `SECTIONS`
nor `NOT_PATIENT_RECORDS`, or when one of its fields is neither exported nor left out, so a new
field or table is a decision, not an accident. Each section is one `.values()` query (joins for
names and service details), so the download costs the same few queries however long the history.
Times are ISO 8601 in UTC (visits also in their own zone), decimals are strings, money is cents.

CLOSING AN ACCOUNT (closing.py). Records are never deleted (medical-record law).
`patient_account_close` does, in one transaction: refuses (before changing anything) when a
visit is inside the online change cut-off or under way; cancels every upcoming visit through
booking's `visit_cancel` as the patient would (the cancellation policy decides refunds); stops
text messages (consent withdrawn on the profile with its time, the number recorded as opted
out); cancels every message still waiting in the outbox; disables the login (`is_active =
False`: the login backend ends every session of theirs at its next request,
concierge/backends.py); stores when and why. The audit trail (django-auditlog) keeps the user's
and the profile's changes. `account_closed_at` is the flag anything that contacts patients
unasked (marketing, which does not exist yet) must check. `patients.services.patient_account_reopen`
is the way back (staff, when the patient calls).

One module per use case; this package re-exports their public names, so callers keep writing
`from portal import data_rights; data_rights.patient_data_export(...)`:

    sections  the table: Section, SECTIONS, NOT_PATIENT_RECORDS
    export    patient_data_export, export_filename, EXPORT_FORMAT, EXPORT_VERSION
    closing   patient_account_close, account_close_preview, refused_message,
              account_is_closed, AccountCloseRefused, AccountClosure, ClosePreview
"""

from .closing import (
    CLOSE_REASON_MAX_LENGTH,
    CLOSED_MESSAGE_REASON,
    CLOSED_SMS_KEYWORD,
    CLOSED_VISIT_REASON,
    AccountCloseRefused,
    AccountClosure,
    ClosePreview,
    account_close_preview,
    account_is_closed,
    patient_account_close,
    refused_message,
)
from .export import EXPORT_FORMAT, EXPORT_VERSION, NOTES, export_filename, patient_data_export
from .sections import NOT_PATIENT_RECORDS, SECTIONS, Section

__all__ = [
    "CLOSED_MESSAGE_REASON",
    "CLOSED_SMS_KEYWORD",
    "CLOSED_VISIT_REASON",
    "CLOSE_REASON_MAX_LENGTH",
    "EXPORT_FORMAT",
    "EXPORT_VERSION",
    "NOTES",
    "NOT_PATIENT_RECORDS",
    "SECTIONS",
    "AccountCloseRefused",
    "AccountClosure",
    "ClosePreview",
    "Section",
    "account_close_preview",
    "account_is_closed",
    "export_filename",
    "patient_account_close",
    "patient_data_export",
    "refused_message",
]
