from .selectors import oncall_phone_now


def oncall(request):
    """The on-call clinician's number on every page (nurses' banners and protocol stops): the same
    answer as roster.selectors.oncall_phone_now, which services use."""
    line = oncall_phone_now()
    return {"ONCALL_PHONE": line.display, "ONCALL_PHONE_E164": line.e164}
