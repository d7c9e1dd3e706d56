"""A number's consent to texts: STOP and START, whoever reports them.

A patient texting STOP, Twilio refusing a number that unsubscribed (21610) and a patient closing
their account all end here; the patients app hears of every change through
`signals.sms_consent_changed` (it owns the consent on the profile).
"""

import phonenumbers
from django.db import transaction
from django.utils import timezone

from ..models import SmsOptOut
from ..signals import sms_consent_changed


def normalize_number(value: str | None) -> str:
    try:
        number = phonenumbers.parse(value or "", "US")
    except phonenumbers.NumberParseException:
        return (value or "").strip()
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@transaction.atomic
def sms_opt_out_record(*, phone_number: str, keyword: str = "STOP") -> SmsOptOut:
    """This number said STOP: nothing more is texted to it, and its patients' consent is withdrawn."""
    now = timezone.now()
    number = normalize_number(phone_number)
    row, created = SmsOptOut.objects.select_for_update().get_or_create(
        phone_number=number, defaults={"is_opted_out": True, "keyword": keyword[:20], "changed_at": now}
    )
    if not created:
        if row.is_opted_out:
            return row
        row.is_opted_out, row.keyword, row.changed_at = True, keyword[:20], now
        row.full_clean()
        row.save()
    sms_consent_changed.send(sender=SmsOptOut, phone_number=number, opted_in=False, at=now)
    return row


@transaction.atomic
def sms_opt_in_record(*, phone_number: str, keyword: str = "START") -> SmsOptOut | None:
    """This number texted START: texts may go to it again, and its patients agree to them."""
    now = timezone.now()
    number = normalize_number(phone_number)
    row = SmsOptOut.objects.select_for_update().filter(phone_number=number).first()
    if row is not None and row.is_opted_out:
        row.is_opted_out, row.keyword, row.changed_at = False, keyword[:20], now
        row.save()
    sms_consent_changed.send(sender=SmsOptOut, phone_number=number, opted_in=True, at=now)
    return row
