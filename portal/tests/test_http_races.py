"""A portal message sent twice at once over real HTTP (the live server, each request in its own
thread and connection): one message, one notice to the care team, both tabs on the thread."""

import pytest

from concierge.opaque import encode as oid
from concierge.testing import HttpBrowser, http_race, page_text
from notifications.models import Message
from portal.models import MessageThread, ThreadMessage

from .factories import thread_for, token

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def twice(browser, path, data):
    return http_race(*[lambda t=t: t.post(path, data) for t in (browser.tab(), browser.tab())])


def test_a_new_message_sent_twice_at_once_starts_one_thread(live_server, profile, daytime):
    pat = HttpBrowser(live_server.url, profile.user)

    responses = twice(
        pat,
        "/dashboard/messages/new/",
        {"topic": "logistics", "subject": "Parking", "body": "Where do I park?", "token": token()},
    )

    thread = MessageThread.objects.get()
    assert ThreadMessage.objects.count() == 1
    assert [r.status_code for r in responses] == [200, 200], [page_text(r)[:300] for r in responses]
    assert all(f"/dashboard/messages/{oid(thread.pk)}/" in r.url for r in responses), [r.url for r in responses]
    assert Message.objects.filter(unique_key__startswith="staff-alert:thread-message:").count() == 1


def test_a_reply_sent_twice_at_once_is_one_message(live_server, profile, daytime):
    thread = thread_for(profile.user).thread
    pat = HttpBrowser(live_server.url, profile.user)

    responses = twice(pat, f"/dashboard/messages/{oid(thread.pk)}/", {"body": "Thank you", "token": token()})

    assert [r.status_code for r in responses] == [200, 200], [page_text(r)[:300] for r in responses]
    assert ThreadMessage.objects.filter(body="Thank you").count() == 1
