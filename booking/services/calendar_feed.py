"""The patient's calendar subscription (an .ics address their calendar app follows)."""

from django.db import transaction

from concierge.models import User

from ..models import CalendarFeed, _feed_token


def calendar_feed_for(*, patient: User) -> CalendarFeed:
    """The patient's feed, made on first use."""
    feed, _created = CalendarFeed.objects.get_or_create(patient=patient)
    return feed


@transaction.atomic
def calendar_feed_reset(*, patient: User) -> CalendarFeed:
    """A new address for the patient's feed; the old one stops working at once."""
    feed, created = CalendarFeed.objects.select_for_update().get_or_create(patient=patient)
    if not created:
        feed.token = _feed_token()
        feed.full_clean()
        feed.save(update_fields=["token"])
    return feed
