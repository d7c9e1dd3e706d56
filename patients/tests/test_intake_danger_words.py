"""The health questions' written answers are read for danger like every other thing a patient
writes to us (a portal message, a check-in, a text, a reason for cancelling): words that suggest
the patient may be in danger raise a safety alert when the version is sent, in the same
transaction, and the next page shows 988 and 911 first.
"""

import re

import pytest
from django.core import mail
from django.urls import reverse

from patients import services
from patients.models import IntakeResponse, SafetyAlert, SafetyReason
from patients.selectors import booking_eligibility_for

from .factories import CLEAN_ANSWERS, cleared, sent_intake

pytestmark = pytest.mark.django_db


def send(client, patient, **written):
    """The patient fills every section (clean answers plus these written ones) and presses Send."""
    services.intake_draft_save(patient=patient, answers={**CLEAN_ANSWERS, **written})
    client.force_login(patient)
    return client.post(reverse("patients:intake_review"))


def text(response):
    return re.sub(r"\s+", " ", response.content.decode())


@pytest.mark.parametrize(
    ("question", "words"),
    [
        ("treatment_details", "Nothing has worked. Honestly I plan to kill myself if this doesn't either."),
        ("medications", "Sertraline 100 mg. I've been saving up my pills to overdose."),
        ("substances", "Ya no quiero vivir, bebo todos los días"),
        ("heart_brain_details", "no heart problems but i want to die"),
    ],
    ids=["past-treatment", "medicines", "spanish", "after-a-denial"],
)
def test_danger_words_in_a_written_answer_alert_the_clinician_hold_infusions_and_show_988_first(
    client, profile, clinician, settings, django_capture_on_commit_callbacks, question, words
):
    settings.ONCALL_CLINICIAN_EMAIL = "oncall@clinic.example"
    cleared(profile.user, clinician)
    assert booking_eligibility_for(patient=profile.user).can_book_infusion

    with django_capture_on_commit_callbacks(execute=True):
        response = send(client, profile.user, **{question: words})

    version = IntakeResponse.objects.filter(patient=profile.user).latest("version")
    assert version.version == 2 and version.answers[question] == words  # the answers are kept as written
    assert response["Location"] == reverse("patients:intake_version", args=[version.pk])
    page = text(client.get(response["Location"]))
    assert 'href="tel:988"' in page and 'href="tel:911"' in page
    assert "Something in your answers tells us you may need help right away" in page
    assert page.index('href="tel:988"') < page.index('id="answers-heart"')  # before the answers themselves
    assert "Nothing in your answers stops you" not in page
    # The same panel on the health questions' own page while the alert is open.
    assert 'href="tel:988"' in text(client.get(reverse("patients:intake")))

    alert = SafetyAlert.objects.get()
    assert (alert.patient, alert.intake, alert.reason) == (profile.user, version, SafetyReason.INTAKE)
    assert alert.matched_words and words in alert.source_text
    # Infusions wait for a clinician; the on-call inbox hears of it without the words.
    profile.refresh_from_db()
    assert profile.safety_review_required is True
    assert not booking_eligibility_for(patient=profile.user).can_book_infusion
    urgent = [m for m in mail.outbox if m.to == ["oncall@clinic.example"]]
    assert len(urgent) == 1 and urgent[0].subject == "Urgent: a patient needs a safety review"
    assert "health questions" in urgent[0].body and words not in urgent[0].body


@pytest.mark.parametrize(
    "words",
    [
        "Sertraline 50 mg daily, vitamin D",
        "none",
        "I tried two SSRIs and talk therapy; work is killing me but I'm hopeful",
        "Penicillin: rash",
    ],
)
def test_everyday_written_answers_raise_nothing(client, profile, clinician, words):
    cleared(profile.user, clinician)

    response = send(client, profile.user, treatment_details=words, medications=words)

    assert not SafetyAlert.objects.exists()
    page = text(client.get(response["Location"]))
    assert 'href="tel:988"' not in page.split("</main>")[0].split("<main")[-1]
    profile.refresh_from_db()
    assert profile.safety_review_required is False


def test_words_a_clinician_has_seen_do_not_alert_again_but_new_words_do(profile, clinician):
    first = sent_intake(profile.user, treatment_details="Two years ago I tried to kill myself.")
    alert = SafetyAlert.objects.get()
    assert alert.intake == first
    services.safety_alert_resolve(alert=alert, clinician=clinician, note="Spoke with them: a past attempt, safe now.")

    # A new version to change the medicines: the same words, already seen, raise nothing new.
    second = sent_intake(
        profile.user, treatment_details="Two years ago I tried to kill myself.", medications="Bupropion 150 mg"
    )
    assert second.version == 2 and SafetyAlert.objects.count() == 1

    # New words in a later version do.
    third = sent_intake(
        profile.user, treatment_details="Two years ago I tried to kill myself.", medications="I want to die"
    )
    assert SafetyAlert.objects.filter(intake=third, resolved_at__isnull=True).exists()
    assert "I want to die" in SafetyAlert.objects.get(intake=third).source_text
    assert "kill myself" not in SafetyAlert.objects.get(intake=third).source_text


def test_resolving_the_alert_takes_the_panel_away(client, profile, clinician):
    version = sent_intake(profile.user, substances="sometimes I think about ending it all")
    client.force_login(profile.user)
    url = reverse("patients:intake_version", args=[version.pk])
    assert 'href="tel:988"' in text(client.get(url))

    services.safety_alert_resolve(alert=SafetyAlert.objects.get(), clinician=clinician, note="Called: safe.")

    assert 'href="tel:988"' not in text(client.get(url)).split("</main>")[0].split("<main")[-1]


def test_staff_see_which_answers_raised_the_alert(client, clinician, profile):
    version = sent_intake(profile.user, reaction_details="I wanted to kill myself after the last sedation")
    alert = SafetyAlert.objects.get()
    client.force_login(clinician)

    page = text(client.get(reverse("admin:patients_safetyalert_change", args=[alert.pk])))

    assert reverse("admin:patients_intakeresponse_change", args=[version.pk]) in page
    assert "I wanted to kill myself after the last sedation" in page
    assert alert.source_text.startswith("If you had a bad reaction, what happened? (optional): ")
