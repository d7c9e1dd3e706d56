"""Integration: the on-call chain through a real Celery worker on Redis and PostgreSQL.

A page is texted and emailed to the clinician on call by the worker; nobody acknowledges it; the
escalation task, delivered twice through the broker, pages the backup once. Sends are counted at
the gateways (the worker's SMS journal and email files), not inferred from rows.
"""

import time
from collections import Counter
from datetime import time as clock_time
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from concierge.tests.factories import UserFactory
from notifications.models import Message, MessageStatus
from notifications.tests.test_worker import (  # noqa: F401  (the worker fixture)
    celery_queue_empty,
    email_sends,
    sms_sends,
    wait_until,
    worker,
)
from roster import oncall, tasks
from roster.models import OnCallPage, OnCallShift, ProviderKind
from roster.services import provider_save


@pytest.mark.redis
@pytest.mark.postgres
def test_a_real_worker_pages_the_clinician_then_escalates_to_the_backup_once(worker, settings):  # noqa: F811
    inbox = settings.ONCALL_CLINICIAN_EMAIL  # the worker's settings are the test settings, unchanged
    cleo = provider_save(
        user=UserFactory(role="clinician", email="cleo@example.com"),
        kind=ProviderKind.CLINICIAN,
        home_zip="10001",
        phone="+12125550101",
    )
    bea = provider_save(
        user=UserFactory(role="clinician", email="bea@example.com"),
        kind=ProviderKind.CLINICIAN,
        home_zip="10001",
        phone="+12125550102",
    )
    today = timezone.now().astimezone(timezone.get_default_timezone()).date()
    for day in (today - timedelta(days=1), today, today + timedelta(days=1)):  # the whole day, whatever the hour
        OnCallShift.objects.create(
            clinician=cleo,
            backup=bea,
            date=day,
            start_time=clock_time(0, 0),
            end_time=clock_time(0, 0),
            time_zone="America/New_York",
        )

    with transaction.atomic():  # as a request commits: the page's rows are queued after commit
        page = oncall.oncall_page(key="safety-alert:1", link="/admin/patients/safetyalert/1/change/")
    assert page.clinician == cleo.user
    rows = Message.objects.filter(unique_key__startswith=f"oncall:{page.pk}:") | Message.objects.filter(
        unique_key__startswith=f"staff-alert:oncall:{page.pk}:"
    )
    assert wait_until(lambda: rows.count() == 2 and not rows.exclude(status=MessageStatus.SENT).exists())

    # Nobody acknowledges: 16 minutes later the clock (beat) runs the escalation; the broker
    # delivers it twice.
    OnCallPage.objects.filter(pk=page.pk).update(paged_at=timezone.now() - timedelta(minutes=16))
    tasks.oncall_pages_escalate.delay()
    tasks.oncall_pages_escalate.delay()

    assert wait_until(lambda: rows.count() == 5 and not rows.exclude(status=MessageStatus.SENT).exists()), list(
        rows.values_list("unique_key", "status")
    )
    time.sleep(1)  # let anything still queued run (it must do nothing)
    assert wait_until(celery_queue_empty)

    sent = {m.pk: m for m in rows}
    by_address = Counter(m.to_address for m in sent.values())
    assert by_address == Counter(
        {"+12125550101": 1, "cleo@example.com": 1, "+12125550102": 1, "bea@example.com": 1, inbox: 1}
    )
    texts = {pk for pk, m in sent.items() if m.channel == "sms"}
    emails = {pk for pk, m in sent.items() if m.channel == "email"}
    assert sms_sends(worker / "sms.jsonl") == Counter(dict.fromkeys(texts, 1))
    assert email_sends(worker / "mail") == Counter(dict.fromkeys(emails, 1))
    assert OnCallPage.objects.get(pk=page.pk).escalated_at is not None
