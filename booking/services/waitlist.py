"""The waitlist: people outside our areas who want to hear when we come."""

from django.db import transaction

from ..models import WaitlistEntry


@transaction.atomic
def waitlist_join(*, zip_code: str, email: str = "", phone: str = "") -> WaitlistEntry:
    """Someone outside our areas wants to hear when we come. Asking twice keeps one entry."""
    email = (email or "").strip().lower()
    phone = str(phone or "").strip()
    existing = WaitlistEntry.objects.filter(
        zip_code=zip_code, email=email, phone=phone, contacted_at__isnull=True
    ).first()
    if existing is not None:
        return existing
    entry = WaitlistEntry(zip_code=zip_code, email=email, phone=phone)
    entry.full_clean()
    entry.save()
    return entry
