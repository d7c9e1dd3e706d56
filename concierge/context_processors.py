from django.conf import settings


def clinic(request):
    """The clinic's name and phone number, shown on every page.

    An inclusion tag's section does not get context processors' values: the tags that show the
    clinic's number (the hold notice, the join button) merge this dict into what they return.
    """
    return {
        "CLINIC_NAME": settings.CLINIC_NAME,
        "CLINIC_PHONE": settings.CLINIC_PHONE,
        "CLINIC_PHONE_E164": settings.CLINIC_PHONE_E164,
    }
