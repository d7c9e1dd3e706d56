from django.conf import settings


def clinic(request):
    """The clinic's name and phone number, shown on every page."""
    return {
        "CLINIC_NAME": settings.CLINIC_NAME,
        "CLINIC_PHONE": settings.CLINIC_PHONE,
        "CLINIC_PHONE_E164": settings.CLINIC_PHONE_E164,
        # The on-call clinician's line (roster.selectors.oncall_phone_now answers the same).
        "ONCALL_PHONE": settings.ONCALL_PHONE or settings.CLINIC_PHONE,
        "ONCALL_PHONE_E164": settings.ONCALL_PHONE_E164 or settings.CLINIC_PHONE_E164,
    }
