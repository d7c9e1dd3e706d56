"""The video visit's join button on the patient's visit page (booking/telehealth.py decides)."""

from django import template

from booking.telehealth import join_state

register = template.Library()


@register.inclusion_tag("booking/_video_join_section.html", takes_context=True)
def video_join_for(context, visit):
    return {
        "visit": visit,
        "join": join_state(visit=visit),
        "viewer": "patient",
        "CLINIC_PHONE": context.get("CLINIC_PHONE"),
        "CLINIC_PHONE_E164": context.get("CLINIC_PHONE_E164"),
    }
