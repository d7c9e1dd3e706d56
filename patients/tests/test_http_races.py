"""A questionnaire sent twice at once over real HTTP (the live server, each request in its own
thread and connection): one result, one safety alert, both tabs on the crisis panel, never a 500."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from booking.models import VisitStatus
from concierge.opaque import encode as oid
from concierge.testing import HttpBrowser, http_race, page_text
from notifications.models import Message
from patients.models import SafetyAlert, ScreeningResponse

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_a_phq9_with_item_9_sent_twice_at_once_keeps_one_result_one_alert_and_holds_the_visit(
    live_server, patient, daytime
):
    from nurses.tests import factories as nf

    _user, plan = nf.patient_with_plan(patient)
    visit = nf.visit_for(nf.ProviderFactory(), patient, plan, timezone.now() + timedelta(days=1))
    pat = HttpBrowser(live_server.url, patient)
    token = re.search(r'name="token" value="([^"]+)"', pat.get("/questionnaires/phq9/").text).group(1)
    answers = {f"item_{n}": "1" for n in range(1, 10)} | {"difficulty": "1", "token": token}

    responses = http_race(*[lambda t=t: t.post("/questionnaires/phq9/", answers) for t in (pat.tab(), pat.tab())])

    saved = ScreeningResponse.objects.get()
    assert [r.status_code for r in responses] == [200, 200], [page_text(r)[:300] for r in responses]
    assert all(r.url.endswith(f"/questionnaires/results/{oid(saved.pk)}/support/") for r in responses)
    assert all("988" in page_text(r) for r in responses)
    assert SafetyAlert.objects.count() == 1
    assert Message.objects.filter(unique_key__startswith="staff-alert:safety-alert:").count() == 1
    visit.refresh_from_db()
    assert visit.status == VisitStatus.ON_HOLD
