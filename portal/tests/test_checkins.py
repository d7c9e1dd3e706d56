"""The check-in the day after an infusion: the email's link, the questions, the questionnaires when due
(feeding the score chart), worrying answers in the clinicians' queue, and one check-in per visit."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from booking.models import VisitStatus
from concierge.opaque import encode as oid
from notifications import content
from notifications import services as notify
from notifications.models import Message
from patients import selectors
from patients.forms import screening_token
from patients.models import SafetyAlert, ScreeningResponse
from patients.tests.factories import cleared, screening
from portal import checkins
from portal.models import CheckInFlag, FollowUpCheckIn
from staff.review import review_queue

from .factories import home_visit, video_visit

pytestmark = pytest.mark.django_db

CALM_PCL5 = [1] * 20  # total 20


@pytest.fixture
def plan(profile, clinician, daytime):
    """The cast's patient, cleared for a PTSD plan, with a completed infusion that ended 20 hours ago."""
    cleared(profile.user, clinician, diagnosis="ptsd")
    return home_visit(profile.user)


def post_data(feeling=4, side_effects=(), severity="", other="", phq9=None, pcl5=None, difficulty=0):
    data = {"feeling": feeling, "side_effects": list(side_effects), "side_effect_severity": severity}
    data["other_side_effect"] = other
    for code, answers in (("phq9", phq9), ("pcl5", pcl5)):
        if answers is None:
            continue
        data[f"{code}-token"] = screening_token(code)
        for number, value in enumerate(answers, start=1):
            data[f"{code}-item_{number}"] = value
        if code == "phq9":
            data["phq9-difficulty"] = difficulty
    return data


# --- the link in the day-after email ------------------------------------------------------------


def test_the_day_after_email_links_to_this_visits_check_in_page(profile, daytime):
    visit = home_visit(profile.user, ended_hours_ago=-50, status=VisitStatus.CONFIRMED)  # in two days
    notify.visit_confirmed(visit=visit)

    message = Message.objects.get(template="checkin")
    rendered = content.render(message)
    link = f"http://testserver/dashboard/check-in/{oid(visit.pk)}/"
    assert link in rendered.text and f'href="{link}"' in rendered.html
    assert content.forbidden_words_in(rendered.subject + rendered.text) == []


def test_after_a_video_evaluation_the_check_in_email_links_to_the_dashboard(profile, daytime):
    visit = video_visit(profile.user)
    notify.visit_confirmed(visit=visit)

    rendered = content.render(Message.objects.get(template="checkin"))
    assert "http://testserver/dashboard/" in rendered.text and "check-in/" not in rendered.text


# --- answering it -------------------------------------------------------------------------------


def test_a_patient_checks_in_with_both_questionnaires_due_and_the_scores_join_the_chart(client, profile, plan):
    client.force_login(profile.user)
    assert f"/dashboard/check-in/{oid(plan.pk)}/" in client.get("/dashboard/").content.decode()

    page = client.get(f"/dashboard/check-in/{oid(plan.pk)}/").content.decode()
    assert "How are you feeling today?" in page and "PHQ-9" in page and "PCL-5" in page

    response = client.post(
        f"/dashboard/check-in/{oid(plan.pk)}/",
        post_data(feeling=4, side_effects=["nausea", "headache"], severity="mild", phq9=[1] * 8 + [0], pcl5=CALM_PCL5),
    )

    assert response["Location"] == f"/dashboard/check-in/{oid(plan.pk)}/thanks/"
    done = FollowUpCheckIn.objects.get()
    assert (done.visit, done.patient, done.feeling) == (plan, profile.user, 4)
    assert (done.side_effects, done.side_effect_severity, done.flags) == (["nausea", "headache"], "mild", [])
    assert (done.phq9.total, done.pcl5.total) == (8, 20)
    assert [r.instrument for r in selectors.screening_list_for_patient(patient=profile.user)] == ["phq9", "pcl5"]
    dashboard = client.get("/dashboard/").content.decode()
    assert "PHQ-9" in dashboard and "PCL-5" in dashboard and f'/dashboard/check-in/{oid(plan.pk)}/"' not in dashboard
    assert "Thank you for checking in" in client.get(response["Location"]).content.decode()
    assert not mail.outbox  # nothing worrying: nobody is paged


def test_questionnaires_are_asked_only_when_due(profile, clinician, daytime):
    cleared(profile.user, clinician, diagnosis="major_depression")
    assert checkins.due_instruments(patient=profile.user) == ["phq9"]  # no PCL-5 outside a PTSD plan
    screening(profile.user, "phq9")
    assert checkins.due_instruments(patient=profile.user) == []
    ScreeningResponse.objects.update(submitted_at=timezone.now() - timedelta(days=7))
    assert checkins.due_instruments(patient=profile.user) == ["phq9"]


def test_with_nothing_due_the_page_asks_only_how_they_feel(client, profile, plan):
    screening(profile.user, "phq9")
    screening(profile.user, "pcl5")
    client.force_login(profile.user)

    page = client.get(f"/dashboard/check-in/{oid(plan.pk)}/").content.decode()
    assert "PHQ-9" not in page and "PCL-5" not in page
    client.post(f"/dashboard/check-in/{oid(plan.pk)}/", post_data(feeling=5))
    assert FollowUpCheckIn.objects.get().phq9 is None


def test_a_mistake_is_shown_beside_its_question_and_the_rest_is_kept(client, profile, plan):
    client.force_login(profile.user)
    data = post_data(feeling=3, side_effects=["dizziness", "other"], other="", phq9=[1] * 9, pcl5=CALM_PCL5)
    del data["pcl5-item_20"]

    response = client.post(f"/dashboard/check-in/{oid(plan.pk)}/", data)

    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["side_effect_severity"] == ["Please say how bad the side effects were."]
    assert form.errors["other_side_effect"] == ["Please tell us what else you noticed."]
    assert response.context["screenings"][1]["form"].errors["item_20"] == ["Please choose an answer."]
    page = response.content.decode()
    assert 'value="dizziness" id="id_side_effects_2" checked' in page
    assert 'name="phq9-item_9" value="1" id="id_phq9-item_9_1" checked' in page
    assert not FollowUpCheckIn.objects.exists() and not ScreeningResponse.objects.exists()


# --- worrying answers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "flags"),
    [
        (post_data(feeling=1), [CheckInFlag.FEELING_VERY_BAD]),
        (post_data(feeling=3, side_effects=["sleep"], severity="moderate"), []),
    ],
    ids=["feels very bad", "moderate side effects"],
)
def test_worrying_answers_go_to_the_clinicians_queue_with_a_neutral_email(
    client, profile, plan, clinician, data, flags
):
    screening(profile.user, "phq9")
    screening(profile.user, "pcl5")
    client.force_login(profile.user)
    client.post(f"/dashboard/check-in/{oid(plan.pk)}/", data)

    done = FollowUpCheckIn.objects.get()
    assert done.flags == [str(f) for f in flags]
    to_review = FollowUpCheckIn.objects.filter(reviewed_at__isnull=True).exclude(flags=[])
    assert list(to_review) == ([done] if flags else [])
    alerts = Message.objects.filter(template="staff_alert", unique_key__startswith="staff-alert:checkin-flagged:")
    assert alerts.count() == (1 if flags else 0)
    if flags:
        alert = alerts.get()
        assert alert.to_address == "clinician@demo.conciergemd.example"
        assert alert.context["subject"] == "A patient's check-in needs a look"
        assert f"/admin/portal/followupcheckin/{done.pk}/change/" in alert.context["body"]
        assert "Pat" not in alert.context["body"] and "sleep" not in alert.context["body"].lower()
        assert profile.user in [entry.user for entry in review_queue()]


@pytest.mark.parametrize(
    ("after", "flagged"),
    [
        ([2] * 5 + [0] * 4, True),  # 5 -> 10: worse by 5, the clinically meaningful change
        ([2] * 4 + [1] + [0] * 4, False),  # 5 -> 9: worse by 4
        ([0] * 9, False),  # better
    ],
)
def test_a_phq9_worse_by_a_clinically_meaningful_change_is_flagged(profile, plan, after, flagged):
    earlier = screening(profile.user, "phq9", [1] * 5 + [0] * 4)
    ScreeningResponse.objects.filter(pk=earlier.pk).update(submitted_at=timezone.now() - timedelta(days=8))
    screening(profile.user, "pcl5")
    done = checkins.checkin_submit(
        patient=profile.user,
        visit=plan,
        feeling=3,
        screenings={"phq9": checkins.ScreeningAnswers(item_answers=after, form_token="t1")},
    )
    assert done.phq9.total == sum(after)
    assert done.flags == ([CheckInFlag.PHQ9_WORSE] if flagged else [])


def test_a_pcl5_worse_by_ten_points_is_flagged(profile, plan):
    earlier = screening(profile.user, "pcl5", CALM_PCL5)
    ScreeningResponse.objects.filter(pk=earlier.pk).update(submitted_at=timezone.now() - timedelta(days=8))
    screening(profile.user, "phq9")
    done = checkins.checkin_submit(
        patient=profile.user,
        visit=plan,
        feeling=3,
        screenings={"pcl5": checkins.ScreeningAnswers(item_answers=[1] * 10 + [2] * 10, form_token="t2")},
    )
    assert done.flags == [CheckInFlag.PCL5_WORSE]


def test_phq9_item_9_in_a_check_in_shows_the_crisis_panel_and_raises_the_usual_alert(client, profile, plan):
    client.force_login(profile.user)
    response = client.post(
        f"/dashboard/check-in/{oid(plan.pk)}/", post_data(feeling=2, phq9=[1] * 8 + [2], pcl5=CALM_PCL5)
    )

    assert response["Location"] == f"/dashboard/check-in/{oid(plan.pk)}/support/"
    page = client.get(response["Location"]).content.decode()
    assert 'href="tel:988"' in page and "You told us you have had thoughts" in page
    done = FollowUpCheckIn.objects.get()
    assert CheckInFlag.PHQ9_ITEM9 in done.flags
    alert = SafetyAlert.objects.get()
    assert (alert.reason, alert.screening) == ("phq9_item9", done.phq9)
    profile.refresh_from_db()
    assert profile.safety_review_required


def test_danger_words_in_a_check_in_raise_an_alert_and_show_911_and_988(
    client, profile, plan, django_capture_on_commit_callbacks
):
    screening(profile.user, "phq9")
    screening(profile.user, "pcl5")
    client.force_login(profile.user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/dashboard/check-in/{oid(plan.pk)}/",
            post_data(feeling=2, side_effects=["other"], severity="severe", other="chest pain since last night"),
        )

    assert response["Location"] == f"/dashboard/check-in/{oid(plan.pk)}/support/"
    page = client.get(response["Location"]).content.decode()
    assert 'href="tel:911"' in page and 'href="tel:988"' in page and "Something in your answers" in page
    done = FollowUpCheckIn.objects.get()
    alert = SafetyAlert.objects.get()
    assert (alert.reason, alert.checkin) == ("checkin", done)
    [email] = [m for m in mail.outbox if m.to == ["clinician@demo.conciergemd.example"]]
    assert email.subject == "Urgent: a patient needs a safety review" and "chest" not in email.body


def test_severe_side_effects_hold_the_next_infusion_until_a_clinician_has_spoken_with_them(
    client, profile, plan, settings, django_capture_on_commit_callbacks
):
    """Not a danger sign (no crisis panel), but the next infusion waits for a clinician's review:
    an alert holds it and tells the on-call clinician, and the patient reads why."""
    from booking.models import SafetyHold, Visit

    settings.ONCALL_CLINICIAN_EMAIL = "oncall@clinic.example"
    later = home_visit(profile.user, ended_hours_ago=-70, status=VisitStatus.CONFIRMED)  # in three days
    screening(profile.user, "phq9")
    screening(profile.user, "pcl5")
    client.force_login(profile.user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/dashboard/check-in/{oid(plan.pk)}/",
            post_data(feeling=3, side_effects=["sleep", "disconnected"], severity="severe", other="lasted two days"),
        )

    assert response["Location"] == f"/dashboard/check-in/{oid(plan.pk)}/thanks/"
    page = client.get(response["Location"]).content.decode()
    assert "a clinician will call you before your next infusion, and it waits until you have spoken" in page
    assert 'href="tel:988"' not in page.split("<main")[1].split("</main>")[0]
    done = FollowUpCheckIn.objects.get()
    alert = SafetyAlert.objects.get()
    assert (alert.reason, alert.checkin, alert.patient) == ("side_effects", done, profile.user)
    assert alert.matched_words == ["sleep", "disconnected"] and alert.source_text == "lasted two days"
    assert Visit.objects.get(pk=later.pk).status == VisitStatus.ON_HOLD
    assert SafetyHold.objects.get(visit=later).safety is False
    [email] = [m for m in mail.outbox if m.to == ["oncall@clinic.example"]]
    assert email.subject == "Urgent: a patient needs a safety review" and "sleep" not in email.body
    # One email: the alert's, not also the queue's "needs a look".
    assert not Message.objects.filter(unique_key__startswith="staff-alert:checkin-flagged:").exists()
    assert profile.user in [entry.user for entry in review_queue()]


def test_checking_in_twice_has_one_effect(client, profile, plan):
    client.force_login(profile.user)
    data = post_data(feeling=1, phq9=[1] * 8 + [0], pcl5=CALM_PCL5)
    client.post(f"/dashboard/check-in/{oid(plan.pk)}/", data)
    again = client.post(f"/dashboard/check-in/{oid(plan.pk)}/", post_data(feeling=5, phq9=[0] * 9, pcl5=CALM_PCL5))

    assert again["Location"] == f"/dashboard/check-in/{oid(plan.pk)}/thanks/"
    assert FollowUpCheckIn.objects.get().feeling == 1
    assert ScreeningResponse.objects.count() == 2
    assert Message.objects.filter(unique_key__startswith="staff-alert:checkin-flagged:").count() == 1
    first = FollowUpCheckIn.objects.get()
    assert checkins.checkin_submit(patient=profile.user, visit=plan, feeling=5) == first


# --- who may open what ---------------------------------------------------------------------------------


def test_check_in_urls_are_404_for_another_patient_and_for_a_video_visit(client, profile, other_profile, plan):
    olive_visit = home_visit(other_profile.user)
    video = video_visit(profile.user, status=VisitStatus.COMPLETED)
    client.force_login(profile.user)

    for pk in (olive_visit.pk, video.pk, 999999):
        for url in (
            f"/dashboard/check-in/{oid(pk)}/",
            f"/dashboard/check-in/{oid(pk)}/thanks/",
            f"/dashboard/check-in/{oid(pk)}/support/",
        ):
            assert client.get(url).status_code == 404, url
        assert client.post(f"/dashboard/check-in/{oid(pk)}/", post_data()).status_code == 404
    assert not FollowUpCheckIn.objects.exists()


def test_a_visit_not_over_or_cancelled_cannot_be_checked_in(client, profile, plan):
    coming = home_visit(profile.user, ended_hours_ago=-30, status=VisitStatus.CONFIRMED)
    cancelled = home_visit(profile.user, ended_hours_ago=40, status=VisitStatus.CANCELLED)
    client.force_login(profile.user)

    assert "once your visit is over" in client.get(f"/dashboard/check-in/{oid(coming.pk)}/").content.decode()
    assert "did not take place" in client.get(f"/dashboard/check-in/{oid(cancelled.pk)}/").content.decode()
    client.post(f"/dashboard/check-in/{oid(coming.pk)}/", post_data())
    assert not FollowUpCheckIn.objects.exists()


def test_a_visit_past_its_end_but_not_yet_closed_by_the_nurse_can_be_checked_in(client, profile, plan):
    open_chart = home_visit(profile.user, ended_hours_ago=5, status=VisitStatus.IN_PROGRESS)
    client.force_login(profile.user)
    assert (
        client.post(
            f"/dashboard/check-in/{oid(open_chart.pk)}/", post_data(feeling=4, phq9=[0] * 9, pcl5=CALM_PCL5)
        ).status_code
        == 302
    )
    assert FollowUpCheckIn.objects.filter(visit=open_chart).exists()


# --- the clinicians' side ---------------------------------------------------------------------------------


def test_a_clinician_reviews_a_flagged_check_in_in_admin_and_it_leaves_the_queue(
    client, profile, plan, clinician, staff_user
):
    screening(profile.user, "phq9")
    screening(profile.user, "pcl5")
    done = checkins.checkin_submit(patient=profile.user, visit=plan, feeling=1)
    client.force_login(clinician)

    listing = client.get("/admin/portal/followupcheckin/").content.decode()
    assert f"/admin/portal/followupcheckin/{done.pk}/change/" in listing and "Feels very bad" in listing
    queue = client.get("/admin/patients/reviewqueueentry/").content.decode()
    assert "Check-in to review" in queue
    response = client.post(f"/admin/portal/followupcheckin/{done.pk}/change/", {"mark_reviewed": "on"})
    assert response.status_code == 302
    done.refresh_from_db()
    assert done.reviewed_by == clinician and done.reviewed_at is not None
    assert not FollowUpCheckIn.objects.filter(reviewed_at__isnull=True).exclude(flags=[]).exists()
    assert profile.user not in [entry.user for entry in review_queue()]

    client.force_login(staff_user)  # schedulers do not read check-ins (clinical answers)
    assert client.get(f"/admin/portal/followupcheckin/{done.pk}/change/").status_code == 403
