"""The care-team portal on the patient dashboard: unread answers, check-ins to do, the next video visit."""

from django import template

from booking.telehealth import join_state, next_evaluation_for
from concierge.context_processors import clinic
from portal import checkins, live
from portal import messaging_selectors as selectors

register = template.Library()


@register.inclusion_tag("portal/_dashboard_messages_body.html", takes_context=True)
def care_portal_for(context, user):
    shown = 3
    threads = list(selectors.thread_list_for_patient(patient=user)[:shown]) if user else []
    evaluation = next_evaluation_for(patient=user) if user else None
    if len(threads) < shown:  # every thread is here: count them without asking again
        unread_total = sum(1 for thread in threads if thread.has_unread)
    else:
        unread_total = selectors.unread_count_for_patient(patient=user)
    return {
        "threads": threads,
        "unread_total": unread_total,
        "checkins_to_do": list(checkins.checkins_to_do(patient=user)[:3]) if user else [],
        "evaluation": evaluation,
        "join": join_state(visit=evaluation) if evaluation else None,
        "request": context.get("request"),
        **clinic(context.get("request")),  # an inclusion tag's context has no context processors
    }


@register.inclusion_tag("portal/_visit_live_body.html")
def visit_live_for(visit):
    """The live status on the patient's visit page (portal.live), polled while the visit is today."""
    return live.live_context(visit)
