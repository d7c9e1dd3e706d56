import logging
import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from concierge.opaque import encode as oid
from patients import services
from patients.forms import screening_token
from patients.models import PatientProfile, SafetyAlert, ScreeningResponse
from patients.selectors import booking_eligibility_for

from .factories import cleared, screening

pytestmark = pytest.mark.django_db


def post_data(answers, difficulty=None, token=None, instrument="phq9"):
    data = {"token": token or screening_token(instrument)}
    for number, answer in enumerate(answers, start=1):
        if answer is not None:
            data[f"item_{number}"] = str(answer)
    if difficulty is not None:
        data["difficulty"] = str(difficulty)
    return data


def test_phq9_is_stored_item_by_item_with_score_band_and_time_taken(client, profile):
    client.force_login(profile.user)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        page = client.get("/questionnaires/phq9/").content.decode()
        token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    with time_machine.travel(start + timedelta(minutes=3, seconds=20), tick=False):
        response = client.post("/questionnaires/phq9/", post_data([1, 2, 3, 0, 1, 2, 0, 1, 0], 1, token))

    saved = ScreeningResponse.objects.get(patient=profile.user)
    assert response["Location"] == f"/questionnaires/results/{oid(saved.pk)}/"
    assert saved.instrument == "phq9"
    assert saved.item_answers == [1, 2, 3, 0, 1, 2, 0, 1, 0]
    assert saved.difficulty == 1
    assert saved.total == 10
    assert saved.band == "moderate"
    assert saved.seconds_taken == 200
    result = client.get(response["Location"]).content.decode()
    assert "10</strong> of 27" in result and "Moderate" in result
    assert "Next: the GAD-7" in result
    assert not SafetyAlert.objects.exists()


def test_the_page_shows_the_published_wording_recall_and_options(client, profile):
    client.force_login(profile.user)

    page = client.get("/questionnaires/pcl5/").content.decode()

    assert "in the past month" in page
    assert "Repeated, disturbing dreams of the stressful experience?" in page
    assert page.count('value="4"') == 4  # "Extremely" on each of the first part's 4 items (of 20)
    assert "Part 1 of 5" in page
    assert "Public domain" in page


def test_a_missing_answer_is_marked_beside_that_item_and_the_other_answers_are_kept(client, profile):
    client.force_login(profile.user)

    response = client.post("/questionnaires/gad7/", post_data([1, 2, None, 0, 3, 1, 2], instrument="gad7"))

    content = response.content.decode()
    assert response.status_code == 200
    assert re.search(r'id="id_item_3_error"[^>]*>\s*Please choose an answer', content)
    assert re.search(r'value="3" id="id_item_5_3" checked', content)
    assert not ScreeningResponse.objects.exists()


def test_sending_the_same_form_twice_keeps_one_response(client, profile):
    client.force_login(profile.user)
    data = post_data([0] * 9)

    first = client.post("/questionnaires/phq9/", data)
    second = client.post("/questionnaires/phq9/", data)

    assert ScreeningResponse.objects.count() == 1
    assert first["Location"] == second["Location"]


def test_a_tampered_or_expired_form_asks_to_send_again_and_keeps_the_answers(client, profile):
    client.force_login(profile.user)

    response = client.post("/questionnaires/phq9/", post_data([1] * 9, token="forged"))

    content = response.content.decode()
    assert "please send them again" in content
    assert re.search(r'value="1" id="id_item_9_1" checked', content)
    assert not ScreeningResponse.objects.exists()


def test_retakes_are_kept_as_history(profile):
    screening(profile.user, "gad7", [3] * 7)
    screening(profile.user, "gad7", [1] * 7)

    assert list(ScreeningResponse.objects.order_by("submitted_at").values_list("total", flat=True)) == [21, 7]


# --- PHQ-9 item 9 --------------------------------------------------------------------------------


def test_item_9_above_zero_shows_the_crisis_panel_next_alerts_the_clinician_and_holds_infusions(
    client, profile, clinician, settings, django_capture_on_commit_callbacks
):
    settings.ONCALL_CLINICIAN_EMAIL = "oncall@clinic.example"
    cleared(profile.user, clinician)
    assert booking_eligibility_for(patient=profile.user).can_book_infusion
    client.force_login(profile.user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/questionnaires/phq9/", post_data([2, 2, 2, 2, 2, 2, 2, 2, 1], 2))

    saved = ScreeningResponse.objects.get()
    # the very next page is the crisis panel
    assert response["Location"] == f"/questionnaires/results/{oid(saved.pk)}/support/"
    crisis = client.get(response["Location"]).content.decode()
    assert 'href="tel:988"' in crisis and 'href="sms:988"' in crisis and 'href="tel:911"' in crisis
    assert "988 Suicide &amp; Crisis Lifeline" in crisis
    assert "will call you soon" in crisis
    # an alert for the on-call clinician, by email with a neutral subject and only a link
    alert = SafetyAlert.objects.get()
    assert alert.patient == profile.user and alert.screening == saved and alert.is_open
    assert alert.notified_at is not None
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["oncall@clinic.example"]
    assert email.subject == "Urgent: a patient needs a safety review"
    assert f"http://testserver/admin/patients/safetyalert/{alert.pk}/change/" in email.body
    words = re.sub(r"https?://\S+", "", email.subject + email.body)  # the link's ids are not a score
    for private in ("17", "PHQ", "item", "score", profile.legal_last_name, profile.user.email, "suicid", "harm"):
        assert private.lower() not in words.lower(), private
    # infusion booking is held; evaluation booking is not
    profile.refresh_from_db()
    assert profile.safety_review_required is True
    eligibility = booking_eligibility_for(patient=profile.user)
    assert eligibility.can_book_evaluation and not eligibility.can_book_infusion
    assert "A clinician needs to speak with you" in str(eligibility.reason)
    # the dashboard says so calmly, with 988
    dashboard = client.get("/dashboard/").content.decode()
    assert (
        "needs to speak with you before your next infusion and will call you soon" in dashboard
        and 'href="tel:988"' in dashboard
    )


def test_item_9_at_zero_raises_nothing(client, profile, django_capture_on_commit_callbacks):
    client.force_login(profile.user)

    with django_capture_on_commit_callbacks(execute=True):
        client.post("/questionnaires/phq9/", post_data([3, 3, 3, 3, 3, 3, 3, 3, 0]))

    assert not SafetyAlert.objects.exists()
    assert mail.outbox == []
    assert PatientProfile.objects.get(user=profile.user).safety_review_required is False


def test_the_same_item_9_answer_sent_twice_raises_one_alert_and_one_email(
    client, profile, django_capture_on_commit_callbacks
):
    client.force_login(profile.user)
    data = post_data([0, 0, 0, 0, 0, 0, 0, 0, 3])

    with django_capture_on_commit_callbacks(execute=True):
        client.post("/questionnaires/phq9/", data)
    with django_capture_on_commit_callbacks(execute=True):
        again = client.post("/questionnaires/phq9/", data)

    assert again["Location"].endswith("/support/")
    assert SafetyAlert.objects.count() == 1
    assert len(mail.outbox) == 1


def test_raising_and_notifying_twice_has_one_effect(profile, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = screening(profile.user, "phq9", [0] * 8 + [1])
    with django_capture_on_commit_callbacks(execute=True):
        services.safety_alert_raise(screening=response)

    alert = SafetyAlert.objects.get()
    assert services.safety_alert_notify(alert_id=alert.pk) is False
    assert len(mail.outbox) == 1


def test_a_mail_server_failure_leaves_the_alert_open_and_the_email_in_the_outbox_for_a_retry(
    profile, settings, django_capture_on_commit_callbacks
):
    from notifications.models import Message, MessageStatus
    from notifications.services import messages_dispatch_due

    settings.ONCALL_CLINICIAN_EMAIL = "oncall@clinic.example"
    settings.EMAIL_BACKEND = "patients.tests.test_screening_and_safety.BrokenEmailBackend"

    with django_capture_on_commit_callbacks(execute=True):
        screening(profile.user, "phq9", [0] * 8 + [2])

    alert = SafetyAlert.objects.get()
    assert alert.is_open and alert.notified_at is not None  # the email is in the outbox
    assert PatientProfile.objects.get(user=profile.user).safety_review_required is True
    row = Message.objects.get(template="staff_alert", to_address="oncall@clinic.example")
    assert (row.status, row.attempts) == (MessageStatus.PENDING, 1)  # the outbox tries again later
    assert mail.outbox == []

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert services.safety_alert_notify(alert_id=alert.pk) is False  # written once: no second email
    with django_capture_on_commit_callbacks(execute=True):
        messages_dispatch_due(now=row.due_at + timedelta(seconds=1))
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["oncall@clinic.example"]


class BrokenEmailBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("mail server down")


def test_no_clinical_detail_in_the_logs_on_the_safety_path(profile, caplog, django_capture_on_commit_callbacks):
    caplog.set_level(logging.DEBUG)

    with django_capture_on_commit_callbacks(execute=True):
        screening(profile.user, "phq9", [3, 3, 3, 3, 3, 3, 3, 3, 3])

    text = " ".join(r.getMessage() for r in caplog.records).lower()
    assert "safety alert" in text
    text = re.sub(r"\b(alert|page|message) \d+", r"\1 #", text)  # row ids are not a score
    for private in ("27", "phq", "item", "score", "severe", profile.user.email, "quinn"):
        assert not re.search(rf"\b{re.escape(private)}\b", text), private


def test_resolving_the_only_open_alert_lifts_the_hold_and_records_who_and_when(profile, clinician):
    first = screening(profile.user, "phq9", [0] * 8 + [1])
    second = screening(profile.user, "phq9", [0] * 8 + [2])
    a1, a2 = SafetyAlert.objects.get(screening=first), SafetyAlert.objects.get(screening=second)

    services.safety_alert_resolve(alert=a1, clinician=clinician, note="Called; safe; plan agreed.")
    assert PatientProfile.objects.get(user=profile.user).safety_review_required is True  # a2 still open

    services.safety_alert_resolve(alert=a2, clinician=clinician, note="Follow-up call done.")
    a2.refresh_from_db()
    assert (a2.resolved_by, a2.acknowledged_by) == (clinician, clinician)
    assert a2.resolved_at is not None and a2.resolution_note == "Follow-up call done."
    assert PatientProfile.objects.get(user=profile.user).safety_review_required is False


def test_only_clinicians_resolve_and_never_twice(profile, clinician, staff_user):
    from concierge.errors import InvalidState, NotAllowed

    alert = SafetyAlert.objects.get(screening=screening(profile.user, "phq9", [0] * 8 + [1]))

    with pytest.raises(NotAllowed):
        services.safety_alert_resolve(alert=alert, clinician=staff_user, note="x")
    services.safety_alert_resolve(alert=alert, clinician=clinician, note="Done")
    with pytest.raises(InvalidState):
        services.safety_alert_resolve(alert=alert, clinician=clinician, note="Again")


# --- the hand-made review: item 9 alone, at its lowest, in both languages ------------------------------


@pytest.mark.parametrize(("language", "crisis_words"), [("en", "988 Suicide &amp; Crisis Lifeline"), ("es", "988")])
def test_item_9_at_one_with_a_total_of_one_still_shows_988_at_once_and_alerts_the_on_call_clinician(
    client, profile, clinician, settings, language, crisis_words, django_capture_on_commit_callbacks
):
    settings.ONCALL_CLINICIAN_EMAIL = "oncall@clinic.example"
    cleared(profile.user, clinician)
    profile.user.language = language
    profile.user.save(update_fields=["language"])
    client.force_login(profile.user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/questionnaires/phq9/", post_data([0, 0, 0, 0, 0, 0, 0, 0, 1], 0))

    saved = ScreeningResponse.objects.get()
    assert (saved.total, saved.band) == (1, "minimal")  # the lowest band, and still the safety path
    assert response["Location"] == f"/questionnaires/results/{oid(saved.pk)}/support/"
    crisis = client.get(response["Location"]).content.decode()
    assert 'href="tel:988"' in crisis and 'href="sms:988"' in crisis and crisis_words in crisis
    if language == "es":
        assert "Llame al 988" in crisis or "llame o escriba al 988" in crisis.lower()
    alert = SafetyAlert.objects.get()
    assert alert.screening == saved and alert.is_open and alert.notified_at is not None
    assert [m.to for m in mail.outbox] == [["oncall@clinic.example"]]
    assert booking_eligibility_for(patient=profile.user).can_book_infusion is False


def test_answers_whose_alert_cannot_be_raised_are_not_kept_without_it_and_stay_on_the_page(
    client, profile, monkeypatch, django_capture_on_commit_callbacks
):
    """Item 9 answered, and the alert's locks not granted in time: nothing is kept (no answers
    without their alert), the patient reads why with every answer still chosen, and sending
    again keeps the answers and raises the alert."""
    from concierge.errors import TryAgainLater

    client.force_login(profile.user)
    data = post_data([1, 1, 1, 1, 1, 1, 1, 1, 2])
    real_raise = services.safety_alert_raise

    def busy(**kwargs):
        raise TryAgainLater()

    monkeypatch.setattr(services, "safety_alert_raise", busy)
    page = client.post("/questionnaires/phq9/", data)

    assert page.status_code == 200
    html = page.content.decode()
    assert "We are busy with that right now" in html and "Your answers are kept: please send them again." in html
    assert html.count("checked") >= 9
    assert not ScreeningResponse.objects.exists() and not SafetyAlert.objects.exists()

    monkeypatch.setattr(services, "safety_alert_raise", real_raise)
    with django_capture_on_commit_callbacks(execute=True):
        again = client.post("/questionnaires/phq9/", data)
    assert again["Location"].endswith("/support/")
    assert ScreeningResponse.objects.get().item_answers[8] == 2
    assert SafetyAlert.objects.get().is_open
