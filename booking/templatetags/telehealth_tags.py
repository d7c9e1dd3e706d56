"""The video visit's join button on the patient's visit page (booking/telehealth.py decides)."""

from django import template

from booking.telehealth import join_state
from concierge.context_processors import clinic

register = template.Library()


@register.inclusion_tag("booking/_video_join_section.html", takes_context=True)
def video_join_for(context, visit):
    return {
        "visit": visit,
        "join": join_state(visit=visit),
        "viewer": "patient",
        **clinic(context.get("request")),  # an inclusion tag's context has no context processors
    }
