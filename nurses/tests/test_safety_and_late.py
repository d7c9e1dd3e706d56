"""Issue 18 in the field: the on-call number at hand, late visits flagged, the patient told the truth
(on my way whenever the visit has not started; running late when the earlier visit runs over).

The clock is Tuesday 3 March 2026, 9:00 in New York (nurses/tests/conftest.py).
"""

import re
from datetime import timedelta

import pytest
from django.urls import reverse

from booking.models import VisitStatus as S
from notifications.models import Message, MessageStatus
from nurses import services
from nurses.tests import factories as f
from nurses.tests.conftest import ny
from roster.selectors import oncall_phone_now

pytestmark = pytest.mark.django_db


def text(response):
    return re.sub(r"\s+", " ", response.content.decode())


# --- on my way: sent whenever the visit has not started ------------------------------------------------


def test_on_my_way_after_the_visits_end_still_texts_the_patient(
    visit, nurse, sms_outbox, clock, django_capture_on_commit_callbacks
):
    """The nurse runs so late that she sets off after the visit's planned end: the text still goes."""
    clock.move_to(visit.ends_at + timedelta(minutes=20))
    with django_capture_on_commit_callbacks(execute=True):
        services.visit_on_my_way(visit=visit, nurse=nurse)

    message = Message.objects.get(visit=visit, template="on_my_way")
    assert message.status == MessageStatus.SENT, message.last_error
    assert len(sms_outbox) == 1


def test_the_nurse_page_says_when_the_patient_was_not_texted(
    nurse_client, visit, patient, django_capture_on_commit_callbacks
):
    profile = patient.patient_profile
    profile.sms_opt_in = False
    profile.save()

    with django_capture_on_commit_callbacks(execute=True):
        nurse_client.post(reverse("nurses:on_my_way", args=[visit.pk]))
    page = text(nurse_client.get(reverse("nurses:visit", args=[visit.pk])))

    assert "Pat was not told: The patient has not agreed to text messages. Call them on" in page
    assert "was told you arrive" not in page


# --- running late ---------------------------------------------------------------------------------------


@pytest.fixture
def second(nia, plan, visit):
    """Nia's 12:30 visit for another patient, after Pat's 10:00-12:00."""
    other, clearance = f.patient_with_plan(zip_code="10011")
    return f.visit_for(nia, other, clearance, ny(12, 30))


def test_the_next_patient_hears_when_the_earlier_visit_runs_over(
    visit, second, nurse, clock, sms_outbox, django_capture_on_commit_callbacks
):
    visit.status = S.IN_PROGRESS
    visit.save(update_fields=["status"])

    clock.move_to(ny(11, 50))  # still inside Pat's visit: nobody is late yet
    with django_capture_on_commit_callbacks(execute=True):
        assert services.visits_running_late_notify() == []

    clock.move_to(ny(12, 5))  # past its end, still in progress
    with django_capture_on_commit_callbacks(execute=True):
        told = services.visits_running_late_notify()
        again = services.visits_running_late_notify()  # the next run: nothing more

    assert told == [second.pk] and again == [second.pk]
    late = Message.objects.filter(visit=second, template="running_late")
    assert late.count() == 1
    assert "running late for your ConciergeMD home visit" in sms_outbox[-1].body and len(sms_outbox) == 1
    assert not Message.objects.filter(visit=visit, template="running_late").exists()


def test_no_running_late_text_when_the_earlier_visit_finished(visit, second, clock):
    visit.status = S.COMPLETED
    visit.save(update_fields=["status"])
    clock.move_to(ny(12, 5))

    assert services.visits_running_late_notify() == []


# --- the on-call clinician and late flags ---------------------------------------------------------------


def test_every_visit_page_has_the_on_call_button(nurse_client, visit, settings):
    settings.ONCALL_PHONE, settings.ONCALL_PHONE_E164 = "(646) 555-0199", "+16465550199"

    for name in ("visit", "on_my_way"):
        page = text(nurse_client.get(reverse(f"nurses:{name}", args=[visit.pk])))
        assert 'href="tel:+16465550199"' in page, name
        assert "Call the on-call clinician · (646) 555-0199" in page, name


def test_the_on_call_number_defaults_to_the_clinic(settings):
    settings.ONCALL_PHONE = settings.ONCALL_PHONE_E164 = ""
    assert oncall_phone_now().e164 == settings.CLINIC_PHONE_E164


def test_a_visit_not_started_is_flagged_on_the_day(nurse_client, visit, clock):
    clock.move_to(ny(10, 10))
    assert "Late: not started" not in text(nurse_client.get(reverse("nurses:today")))

    clock.move_to(ny(12))
    assert "Late: not started" in text(nurse_client.get(reverse("nurses:today")))
    assert "Late: due at 10:00 AM EST and not started." in text(
        nurse_client.get(reverse("nurses:visit", args=[visit.pk]))
    )
