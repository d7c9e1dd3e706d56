"""The download: everything we hold about a patient, as JSON, section by section.

Each section of the table (sections.py) is one `.values()` query (joins for names and service
details), so the download costs the same few queries however long the history. Times are ISO
8601 in UTC (visits also in their own zone), decimals are strings, money is cents.
"""

import logging
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.db.models import F
from django.utils import timezone
from phonenumber_field.phonenumber import PhoneNumber

from concierge.models import User

from .sections import NOT_PATIENT_RECORDS, SECTIONS, Row, Section

logger = logging.getLogger(__name__)

EXPORT_FORMAT = "conciergemd-patient-data"
EXPORT_VERSION = 1

NOTES = (
    "Everything ConciergeMD holds about you, one section per kind of record.",
    "Times are ISO 8601 in UTC; visits also give their start and end in the visit's own time zone (_local).",
    "Amounts of money are whole US cents (45000 is $450.00). Decimal numbers are strings, so no digit is lost.",
    "Ids link the sections: a chart's visit_id is the id of a visit in `visits`.",
    "Nothing has been deleted: records are kept as medical-record law requires, also after an account is closed.",
)


def _plain(value: Any) -> Any:
    """A value from the database as JSON: ISO 8601 times, decimals and phone numbers as strings."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, PhoneNumber):
        return value.as_e164 if value.is_valid() else str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _rows(section: Section, patient: User, phone: str | None) -> list[Row]:
    model = apps.get_model(section.model)
    plain, expressions = [], {}
    for spec in section.fields:
        if isinstance(spec, str):
            plain.append(spec)
        else:
            name, lookup = spec
            expressions[name] = F(lookup) if isinstance(lookup, str) else lookup
    query = model.objects.filter(section.where(patient, phone)).order_by(*section.order_by)
    rows = []
    for row in query.values(*plain, **expressions):
        out = {name: row[name] for name in section.names()}
        for name, value in out.items():
            if isinstance(value, str) and name in expressions and not isinstance(expressions[name], F):
                out[name] = value.strip() or None  # a joined name with nobody there
        if section.derived is not None:
            out.update(section.derived(row, patient))
        rows.append({name: _plain(value) for name, value in out.items()})
    return rows


def patient_data_export(*, patient: User, now: datetime | None = None) -> dict[str, Any]:
    """Everything we hold about this patient, as a JSON-ready dict (the table: SECTIONS)."""
    now = now or timezone.now()
    phone = None
    profile_phone = (
        apps.get_model("patients.PatientProfile")
        .objects.filter(user=patient)
        .values_list("mobile_phone", flat=True)
        .first()
    )
    if profile_phone:
        phone = profile_phone.as_e164 if isinstance(profile_phone, PhoneNumber) else str(profile_phone)
    data = {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "generated_at": now.isoformat(),
        "notes": list(NOTES),
    }
    about = {}
    for section in SECTIONS:
        rows = _rows(section, patient, phone)
        data[section.key] = (rows[0] if rows else None) if section.one else rows
        about[section.key] = {
            "what": str(section.title),
            "left_out": {name: str(why) for name, why in section.left_out.items()},
        }
    data["about_each_section"] = about
    data["not_included"] = {label: str(why) for label, why in NOT_PATIENT_RECORDS.items()}
    logger.info("patient %s downloaded their data", patient.pk)
    return data


def export_filename(day: date) -> str:
    return f"conciergemd-my-data-{day:%Y-%m-%d}.json"
