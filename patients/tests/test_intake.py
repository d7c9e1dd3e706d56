import re

import pytest
from django.utils import timezone

from concierge.opaque import encode as oid
from patients import intake, services
from patients.models import IntakeResponse, IntakeStatus, TriageOutcome
from patients.views import patient_zone

from .factories import CLEAN_ANSWERS, cleared, sent_intake

pytestmark = pytest.mark.django_db


def form_data(section_slug, answers, action="next"):
    """POST data for one section, as the browser sends it."""
    data = {"action": action}
    for question in intake.SECTIONS_BY_SLUG[section_slug].questions:
        value = answers.get(question.key)
        if value is None:
            continue
        if question.kind == intake.YESNO:
            data[question.key] = "yes" if value else "no"
        else:
            data[question.key] = value
    return data


def answer_everything(client, answers):
    for section in intake.SECTIONS:
        response = client.post(f"/intake/{section.slug}/", form_data(section.slug, answers))
        assert response.status_code == 302, response.content.decode()[:2000]
    return client.post("/intake/review/")


def test_a_patient_answers_every_section_reviews_and_sends(client, profile):
    client.force_login(profile.user)

    assert client.get("/intake/")["Location"] == "/intake/heart/"
    response = answer_everything(client, {**CLEAN_ANSWERS, "benzodiazepines": True})

    sent = IntakeResponse.objects.get(patient=profile.user)
    assert response["Location"] == f"/intake/versions/{oid(sent.pk)}/"
    assert sent.status == IntakeStatus.SUBMITTED
    assert sent.version == 1
    assert sent.questionnaire_version == intake.INTAKE_VERSION
    assert sent.answers["benzodiazepines"] is True
    assert sent.answers["hypertension"] == "no"
    assert sent.answers["medication_trials"] == 3
    assert sent.triage.outcome == TriageOutcome.CLINICIAN_REVIEW
    assert sent.triage.fired_rules == ["MED-1"]
    page = client.get(response["Location"]).content.decode()
    assert "medicines you take" in page
    assert "MED-1" not in page


def test_a_missing_answer_is_shown_beside_the_question_and_the_others_are_kept(client, profile):
    client.force_login(profile.user)
    data = form_data("heart", CLEAN_ANSWERS)
    del data["stroke"]
    data["bp_systolic"] = "131"

    response = client.post("/intake/heart/", data)

    content = response.content.decode()
    assert response.status_code == 200
    assert re.search(r'id="error_\d+_id_stroke"[^>]*>.*?Please answer this question', content, re.S)
    assert 'value="131"' in content
    assert re.search(r'value="no"[^>]*id="id_hypertension_0"[^>]*checked|id="id_hypertension_0"[^>]*checked', content)
    # the diastolic number is needed once the systolic one is given
    assert re.search(r'id="error_\d+_id_bp_diastolic"[^>]*>.*?Please answer this question', content, re.S)
    assert not IntakeResponse.objects.exists()


def test_a_conditional_answer_is_required_only_when_it_applies(client, profile):
    client.force_login(profile.user)
    recovery = {**CLEAN_ANSWERS, "substance_use": "recovery"}

    missing = client.post("/intake/substances/", form_data("substances", recovery))
    assert re.search(r'id="error_\d+_id_recovery_since"', missing.content.decode())

    future = client.post("/intake/substances/", form_data("substances", {**recovery, "recovery_since": "2099-01"}))
    assert "That month is in the future" in future.content.decode()

    ok = client.post("/intake/substances/", form_data("substances", {**recovery, "recovery_since": "2021-06"}))
    assert ok.status_code == 302


def test_save_and_come_back_later_keeps_a_partial_draft(client, profile):
    client.force_login(profile.user)

    response = client.post("/intake/heart/", {"action": "later", "hypertension": "controlled"})

    assert response["Location"] == "/dashboard/"
    draft = IntakeResponse.objects.get(patient=profile.user)
    assert draft.status == IntakeStatus.DRAFT and draft.version is None
    assert draft.answers == {"hypertension": "controlled"}
    # coming back opens the first unfinished part, with the answer in place
    assert client.get("/intake/")["Location"] == "/intake/heart/"
    assert "Continue the health questions" in client.get("/dashboard/").content.decode()
    page = client.get("/intake/heart/").content.decode()
    assert re.search(r'value="controlled"[^>]*checked|checked[^>]*value="controlled"', page)


def test_sending_with_unanswered_parts_goes_back_to_the_first_one(client, profile):
    client.force_login(profile.user)
    client.post("/intake/heart/", form_data("heart", CLEAN_ANSWERS))

    response = client.post("/intake/review/")

    assert response["Location"] == "/intake/mental-health/"
    assert IntakeResponse.objects.get().status == IntakeStatus.DRAFT


def test_a_changed_answer_makes_a_new_version_and_never_overwrites_the_old_one(client, profile):
    client.force_login(profile.user)
    first = sent_intake(profile.user)

    assert client.post("/intake/update/")["Location"] == "/intake/heart/"
    client.post("/intake/other-health/", form_data("other-health", {**CLEAN_ANSWERS, "pregnancy": "pregnant"}))
    response = client.post("/intake/review/")

    versions = list(IntakeResponse.objects.filter(patient=profile.user).order_by("version"))
    assert [v.version for v in versions] == [1, 2]
    first.refresh_from_db()
    assert first.answers["pregnancy"] == "no"
    assert first.triage.outcome == TriageOutcome.ELIGIBLE
    assert versions[1].answers["pregnancy"] == "pregnant"
    assert versions[1].triage.outcome == TriageOutcome.NOT_ELIGIBLE
    assert versions[1].triage.fired_rules == ["PREG-1"]
    assert response["Location"] == f"/intake/versions/{oid(versions[1].pk)}/"
    listing = client.get("/intake/versions/").content.decode()
    assert "Version 1" in listing and "Version 2" in listing


def test_sending_twice_sends_once(client, profile):
    client.force_login(profile.user)
    answer_everything(client, CLEAN_ANSWERS)

    again = client.post("/intake/review/")

    assert IntakeResponse.objects.filter(patient=profile.user).count() == 1
    assert again.status_code == 302


def test_unchanged_answers_after_update_make_no_new_version(profile):
    first = sent_intake(profile.user)
    services.intake_draft_start(patient=profile.user)

    result = services.intake_submit(patient=profile.user)

    assert result.pk == first.pk
    assert IntakeResponse.objects.filter(patient=profile.user).count() == 1


def test_discarding_an_update_keeps_the_sent_version(client, profile):
    client.force_login(profile.user)
    sent_intake(profile.user)
    client.post("/intake/update/")

    client.post("/intake/discard/")

    assert list(IntakeResponse.objects.values_list("status", flat=True)) == ["submitted"]


def test_answers_that_do_not_apply_are_not_kept_when_sent(profile):
    services.intake_draft_save(patient=profile.user, answers={"substance_use": "recovery", "recovery_since": "2020-01"})
    services.intake_draft_save(patient=profile.user, answers={**CLEAN_ANSWERS, "substance_use": "no"})

    sent = services.intake_submit(patient=profile.user)

    assert "recovery_since" not in sent.answers


def test_database_refuses_two_drafts_or_a_duplicate_version(profile):
    from django.db import IntegrityError, transaction

    services.intake_draft_start(patient=profile.user)
    with pytest.raises(IntegrityError), transaction.atomic():
        IntakeResponse.objects.create(patient=profile.user, questionnaire_version="x")
    sent_intake(profile.user)
    with pytest.raises(IntegrityError), transaction.atomic():
        IntakeResponse.objects.create(
            patient=profile.user,
            questionnaire_version="x",
            status="submitted",
            version=1,
            submitted_at="2026-01-01T00:00Z",
        )


def test_an_unknown_section_is_404(client, profile):
    client.force_login(profile.user)

    assert client.get("/intake/no-such-part/").status_code == 404


def test_once_a_clinician_has_decided_the_rules_first_word_is_not_repeated(client, profile, clinician):
    sent = sent_intake(profile.user)
    client.force_login(profile.user)
    before = client.get("/intake/").content.decode()
    assert "Nothing in your answers stops you booking your evaluation" in before

    decision = cleared(profile.user, clinician)

    for url in ("/intake/", f"/intake/versions/{oid(sent.pk)}/"):
        page = client.get(url).content.decode()
        assert "Nothing in your answers stops you" not in page, url
        # Shown in the patient's own zone: near midnight UTC that is still the day before.
        on = timezone.localtime(decision.decided_at, patient_zone(profile))
        assert f"A clinician reviewed these answers on {on:%b} {on.day}, {on.year}." in page, url
