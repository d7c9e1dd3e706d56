"""The nurse's pages: who sees what (404 otherwise), the day at a glance, forms that keep what was typed."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from booking.models import SafetyHold, VisitStatus
from concierge.models import PatientRecordView
from concierge.opaque import encode as oid
from concierge.tests.factories import UserFactory
from notifications.models import Message
from nurses.models import ChartEvent, DoseRecord, VisitChart, VitalsReading
from patients.models import PatientProfile

from . import factories as f
from .conftest import TODAY, ny

S = VisitStatus
pytestmark = pytest.mark.django_db

VISIT_URLS = [
    "visit",
    "on_my_way",
    "check_in",
    "vitals",
    "dose",
    "discharge",
    "sign",
    "no_show",
    "stop",
    "amend",
    "override",
]


def text(response):
    return re.sub(r"\s+", " ", response.content.decode())


def url(name, visit):
    return reverse(f"nurses:{name}", args=[visit.pk])


VITALS = {"systolic": "124", "diastolic": "78", "heart_rate": "72", "spo2": "98", "respiratory_rate": "14"}

DOSE = {
    "weight": "80",
    "weight_unit": "kg",
    "action": "record",
    "confirmed_dose_mg": "40.0",
    "confirm": "on",
    "lot_number": "KT-1",
    "volume_ml": "100",
    "form_token": "d1",
}


def check_in(client, visit, **changes):
    data = {"adult_present": "on", "prep_followed": "on", **VITALS, **changes}
    return client.post(url("check_in", visit), data)


# --- who may see what -------------------------------------------------------------------------


@pytest.mark.parametrize("name", VISIT_URLS)
@pytest.mark.parametrize("who", ["other_nurse", "patient", "staff_user", "clinician"])
def test_every_visit_url_is_404_for_anyone_but_its_nurse(client, visit, name, who, request, sms_outbox):
    if who == "other_nurse":
        person = UserFactory(role="nurse")
        f.ProviderFactory(user=person)  # a real nurse with their own roster profile
    else:
        person = request.getfixturevalue(who)
    client.force_login(person)

    assert client.get(url(name, visit)).status_code == 404
    assert client.post(url(name, visit), {"reason": "x", **VITALS, "adult_present": "on"}).status_code == 404
    visit.refresh_from_db()
    assert visit.status == S.CONFIRMED
    assert not VisitChart.objects.exists() and not Message.objects.filter(template="on_my_way").exists()


@pytest.mark.parametrize("who", ["patient", "staff_user", "clinician"])
def test_the_day_and_week_are_404_for_non_nurses(client, request, who, clock):
    client.force_login(request.getfixturevalue(who))
    assert client.get(reverse("nurses:today")).status_code == 404
    assert client.get(reverse("nurses:week")).status_code == 404


def test_a_nurse_without_a_roster_profile_gets_404_and_nobody_logged_out_gets_in(client, nurse, visit):
    assert client.get(reverse("nurses:today"))["Location"].startswith("/accounts/login/")
    assert client.get(url("visit", visit))["Location"].startswith("/accounts/login/")
    other = UserFactory(role="nurse")
    client.force_login(other)
    assert client.get(reverse("nurses:today")).status_code == 404


def test_unknown_ids_are_404(nurse_client, visit):
    assert nurse_client.get("/nurse/visits/999999/").status_code == 404


def test_another_nurses_visit_is_not_on_my_day(nurse_client, visit, other_patient):
    other = f.ProviderFactory(user=UserFactory(role="nurse"))
    user, clearance = f.patient_with_plan(other_patient, zip_code="10003")
    f.visit_for(other, user, clearance, ny(13))

    page = text(nurse_client.get(reverse("nurses:today")))
    assert "Pat" in page and "80 St Marks Pl" not in page and "Olive" not in page


def test_nurses_land_on_today(nurse_client, clock):
    response = nurse_client.get("/me/")
    assert response.status_code == 302 and response["Location"] == reverse("nurses:today")
    assert 'href="/nurse/"' in nurse_client.get(reverse("nurses:today")).content.decode()  # the "Today" link


# --- the day ----------------------------------------------------------------------------------


def test_the_day_shows_what_the_nurse_needs_in_time_order(nurse_client, visit, nia, other_patient):
    user, clearance = f.patient_with_plan(other_patient, zip_code="10003", weight_kg="91.2", benzodiazepines=True)
    f.visit_for(nia, user, clearance, ny(13))
    cancelled = f.visit_for(nia, f.patient_with_plan(zip_code="10001")[0], clearance, ny(16))
    cancelled.status = S.CANCELLED
    cancelled.save()

    page = text(nurse_client.get(reverse("nurses:today")))

    assert "Tuesday, March 3, 2026" in page and "2 visits" in page
    assert page.index("10:00 AM EST") < page.index("1:00 PM EST")  # in time order, the visit's zone
    assert "https://www.google.com/maps/search/?api=1&amp;query=75+9th+Ave%2C+New+York%2C+NY+10011" in page
    assert 'href="tel:+12125550143"' in page  # tap to call the patient
    assert "Robin Quinn" in page and 'href="tel:+12125550178"' in page  # the adult who stays
    assert "80.0 kg · 0.50 mg/kg · <strong>40.0 mg</strong> · 40 min" in page
    assert "91.2 kg · 0.50 mg/kg · <strong>45.6 mg</strong>" in page
    assert "Latex (hives)" in page and "None reported" in page
    assert "check blood pressure before each infusion" in page  # triage note (treated hypertension)
    assert "Takes a benzodiazepine" in page
    assert "Confirmed" in page and "4:00 PM" not in page  # the cancelled visit is not work
    assert page.count("On my way to") == 2


def test_the_day_costs_the_same_queries_for_one_visit_or_six(nurse_client, visit, nia, django_assert_max_num_queries):
    nurse_client.get(reverse("nurses:today"))  # warm up (session, content types)
    with django_assert_max_num_queries(7) as one:
        nurse_client.get(reverse("nurses:today"))
    for hour in (12, 13, 14, 15, 16):
        user, clearance = f.patient_with_plan(allergies="Penicillin", has_allergies=True)
        f.visit_for(nia, user, clearance, ny(hour, 30), minutes=30)
    with django_assert_max_num_queries(len(one.captured_queries)):
        response = nurse_client.get(reverse("nurses:today"))
    assert text(response).count("On my way to") == 6


def day_statements(client):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("nurses:today"))
    return [q["sql"] for q in queries.captured_queries], response


def test_the_days_cards_read_what_they_show_in_the_days_one_list(nurse_client, visit, nia, nurse):
    """The list reads only `DAY_CARD_FIELDS`: a card showing a field it did not read (a hold's
    words, a stopped chart, the adult who stays, the plan) would cost a statement per card."""
    nurse_client.get(reverse("nurses:today"))  # warm up (session, content types)
    before, response = day_statements(nurse_client)
    one = len(response.context["briefings"])
    for hour, status in ((12, S.ON_HOLD), (14, S.COMPLETED), (16, S.CONFIRMED)):
        user, clearance = f.patient_with_plan()
        PatientProfile.objects.filter(user=user).update(
            support_person_name="Sam Adult", support_person_phone="+12125550123"
        )
        later = f.visit_for(nia, user, clearance, ny(hour), status=status, minutes=60)
        if status == S.ON_HOLD:
            SafetyHold.objects.create(visit=later, previous_status=S.CONFIRMED, staff_words="PHQ-9 item 9 answered 2")
        if status == S.COMPLETED:
            VisitChart.objects.create(visit=later, nurse=nurse, outcome="stopped")
    after, response = day_statements(nurse_client)

    assert len(after) == len(before), "\n".join(after)
    page = text(response)
    assert len(response.context["briefings"]) == one + 3
    assert "PHQ-9 item 9 answered 2" in page and "Stopped early" in page
    assert page.count("Sam Adult") == 3 and page.count("(212) 555-0123") == 3


def test_other_days_and_the_week(nurse_client, visit, nia, patient, plan):
    tomorrow = f.visit_for(nia, patient, plan, ny(11, day=TODAY + timedelta(days=2)))

    page = text(nurse_client.get(reverse("nurses:today") + "?date=2026-03-05"))
    assert "Thursday, March 5, 2026" in page and "11:00 AM EST" in page
    assert "On my way to" not in page  # only on the day itself
    assert "?date=2026-03-04" in page and "?date=2026-03-06" in page
    assert "Tuesday, March 3, 2026" in text(nurse_client.get(reverse("nurses:today") + "?date=2026-02-31"))

    week = text(nurse_client.get(reverse("nurses:week")))
    assert "Tuesday, March 3" in week and "Monday, March 9" in week and "Tuesday, March 10" not in week
    assert f"/nurse/visits/{oid(visit.pk)}/" in week and f"/nurse/visits/{oid(tomorrow.pk)}/" in week


# --- the steps --------------------------------------------------------------------------------


def test_one_tap_on_my_way_from_the_day(nurse_client, visit):
    response = nurse_client.post(url("on_my_way", visit))

    assert response.status_code == 302 and response["Location"] == url("visit", visit)
    visit.refresh_from_db()
    assert visit.status == S.EN_ROUTE
    page = text(nurse_client.get(response["Location"]))
    # Exactly what went: the outbox row's state, not what was meant to go.
    assert "Texting Pat now: arriving 9:15 AM EST \N{EN DASH} 9:35 AM EST." in page
    assert f'data-draft-clear="visit-{visit.pk}-on_my_way"' in page
    assert Message.objects.filter(template="on_my_way", visit=visit).count() == 1


def test_on_my_way_with_the_nurses_own_window_and_a_bad_one(nurse_client, visit):
    page = text(nurse_client.get(url("on_my_way", visit)))
    assert "arriving <strong>9:15 AM EST \u2013 9:35 AM EST</strong>" in page

    bad = text(nurse_client.post(url("on_my_way", visit), {"eta_from": "10:00", "eta_until": "09:30"}))
    assert "The window must end after it starts." in bad and 'value="10:00"' in bad
    only_one = text(nurse_client.post(url("on_my_way", visit), {"eta_from": "10:00"}))
    assert "Give both times" in only_one

    nurse_client.post(url("on_my_way", visit), {"eta_from": "09:40", "eta_until": "10:00"})
    chart = VisitChart.objects.get()
    assert (chart.eta_from, chart.eta_until, chart.eta_entered) == (ny(9, 40), ny(10), True)


def test_check_in_keeps_what_was_typed_when_something_is_missing(nurse_client, visit):
    page = text(check_in(nurse_client, visit, adult_present="", spo2="150"))

    assert "The adult who stays must be there before you start." in page
    assert "Enter a value between 50 and 100." in page
    assert 'value="124"' in page and 'value="150"' in page and 'name="prep_followed" class' in page
    visit.refresh_from_db()
    assert visit.status == S.CONFIRMED

    response = check_in(nurse_client, visit, latitude="40.7418951", longitude="-73.9989", accuracy="12.4")
    assert response.status_code == 302
    chart = VisitChart.objects.get()
    assert chart.arrived_at == ny(9) and str(chart.arrival_latitude) == "40.741895" and chart.arrival_accuracy_m == 12


def test_a_location_the_phone_could_not_give_is_simply_left_out(nurse_client, visit):
    check_in(nurse_client, visit, latitude="not a number", longitude="", accuracy="")
    assert VisitChart.objects.get().arrival_latitude is None


def test_vitals_past_a_limit_warn_at_once_and_need_the_action(nurse_client, visit, clock):
    check_in(nurse_client, visit)
    clock.move_to(ny(9, 15))
    data = {"taken_at": "09:15", **VITALS, "systolic": "181", "sedation_note": "mild dissociation"}

    page = text(nurse_client.post(url("vitals", visit), data))
    assert "Past the protocol limits" in page and "Systolic above 180 mmHg" in page
    assert "choose what you did" in page and 'value="181"' in page and 'value="mild dissociation"' in page
    assert VitalsReading.objects.count() == 1

    response = nurse_client.post(url("vitals", visit), {**data, "action_taken": "slowed", "action_note": "to 50%"})
    assert response.status_code == 302
    reading = VitalsReading.objects.latest("id")
    assert (reading.alerts, reading.action_taken, reading.action_note) == (["systolic_high"], "slowed", "to 50%")

    at_limit = {**data, "systolic": "180", "form_token": "t2"}
    assert nurse_client.post(url("vitals", visit), at_limit).status_code == 302  # 180 is within the limit


def test_implausible_vitals_show_the_error_beside_the_field_and_keep_the_rest(nurse_client, visit, clock):
    check_in(nurse_client, visit)
    data = {"taken_at": "09:00", **VITALS, "spo2": "150", "heart_rate": "abc"}
    page = text(nurse_client.post(url("vitals", visit), data))

    assert re.search(r'name="spo2" value="150"[^>]*is-invalid|is-invalid[^>]*name="spo2"', page) or "is-invalid" in page
    assert "Enter a value between 50 and 100." in page and "Enter a whole number." in page
    assert 'value="124"' in page and 'value="78"' in page and 'value="09:00"' in page
    assert VitalsReading.objects.count() == 1


def test_the_same_vitals_form_sent_twice_records_once(nurse_client, visit, clock):
    check_in(nurse_client, visit)
    data = {"taken_at": "09:00", **VITALS, "form_token": "abc123"}
    nurse_client.post(url("vitals", visit), data)
    nurse_client.post(url("vitals", visit), data)
    assert VitalsReading.objects.count() == 2  # the baseline and one reading


def test_the_dose_is_shown_then_confirmed(nurse_client, visit, clock):
    check_in(nurse_client, visit)
    clock.move_to(ny(9, 30))
    data = {"weight": "180", "weight_unit": "lb", "action": "calculate", "lot_number": "KT-1", "form_token": "d1"}

    page = text(nurse_client.post(url("dose", visit), data))
    assert "40.8 mg" in page and "81.6 kg \u00d7 0.50 mg/kg" in page
    assert 'name="confirmed_dose_mg" value="40.8"' in page and 'value="KT-1"' in page

    record = {**data, "action": "record", "confirmed_dose_mg": "40.8", "volume_ml": "100", "started_at": "09:10"}
    unconfirmed = text(nurse_client.post(url("dose", visit), record))
    assert "Confirm the dose before recording it." in unconfirmed and not DoseRecord.objects.exists()

    changed = text(nurse_client.post(url("dose", visit), {**record, "confirm": "on", "weight": "190"}))
    assert "The dose changed with the weight you entered." in changed and "43.1 mg" in changed
    assert not DoseRecord.objects.exists()

    response = nurse_client.post(url("dose", visit), {**record, "confirm": "on", "adverse_events": ["nausea"]})
    assert response.status_code == 302
    dose = DoseRecord.objects.get()
    assert (dose.dose_mg, dose.weight_kg, dose.started_at, dose.stopped_at) == (
        f.Decimal("40.8"),
        f.Decimal("81.6"),
        ny(9, 10),
        None,
    )
    assert ChartEvent.objects.filter(kind="adverse_event").count() == 1


def test_a_serious_adverse_event_tells_the_nurse_that_the_next_infusions_wait(nurse_client, visit, clock):
    from patients.models import SafetyAlert

    check_in(nurse_client, visit)
    clock.move_to(ny(9, 30))
    data = {**DOSE, "started_at": "09:10", "adverse_events": ["allergic"], "adverse_event_note": "Hives, settled"}

    page = text(nurse_client.post(url("dose", visit), data, follow=True))

    assert "the patient&#x27;s next infusions wait for a clinician&#x27;s review" in page
    assert SafetyAlert.objects.get().adverse_event_visit == visit


def test_signing_from_the_page_after_the_discharge_checklist(nurse_client, visit, nurse, clock):
    check_in(nurse_client, visit)
    clock.move_to(ny(10, 30))
    nurse_client.post(url("dose", visit), {**DOSE, "started_at": "09:10", "stopped_at": "09:50"})
    for taken_at in ("09:20", "09:35", "09:50", "10:25"):  # every 15 minutes, then the observation's end
        nurse_client.post(url("vitals", visit), {"taken_at": taken_at, **VITALS})
    gate = text(nurse_client.get(url("sign", visit)))
    assert "Complete the discharge checklist." in gate and "disabled" in gate

    missing = text(nurse_client.post(url("discharge", visit), {"baseline_mental_status": "on"}))
    assert missing.count("Confirm this before the patient is discharged.") == 3
    nurse_client.post(
        url("discharge", visit),
        dict.fromkeys(("baseline_mental_status", "vitals_near_baseline", "adult_present", "instructions_given"), "on"),
    )
    wrong = text(nurse_client.post(url("sign", visit), {"signature_name": "Nobody", "confirm": "on"}))
    assert "Type your full name exactly" in wrong and 'value="Nobody"' in wrong

    response = nurse_client.post(url("sign", visit), {"signature_name": nurse.get_full_name(), "confirm": "on"})
    assert response.status_code == 302
    visit.refresh_from_db()
    assert visit.status == S.COMPLETED
    page = text(nurse_client.get(url("visit", visit)))
    assert "locked" in page and f"Signed by {nurse.get_full_name()}" in page and "Add an amendment" in page
    assert "signed and locked" in text(nurse_client.get(url("vitals", visit)))

    nurse_client.post(url("amend", visit), {"section": "dose", "text": "Lot KT-2", "reason": "typo", "form_token": "a"})
    assert "Lot KT-2" in text(nurse_client.get(url("visit", visit)))


def test_no_show_and_stop_pages(nurse_client, visit, clock, other_patient, nia):
    assert "can be recorded from the visit" in text(nurse_client.post(url("no_show", visit), {"reason": "Nobody home"}))
    clock.move_to(ny(10, 15))
    assert "Say what happened." in text(nurse_client.post(url("no_show", visit), {"reason": ""}))
    assert nurse_client.post(url("no_show", visit), {"reason": "Nobody home"}).status_code == 302
    visit.refresh_from_db()
    assert visit.status == S.NO_SHOW

    user, clearance = f.patient_with_plan(other_patient, zip_code="10003")
    second = f.visit_for(nia, user, clearance, ny(10, 30))
    check_in(nurse_client, second)
    assert nurse_client.post(url("stop", second), {"reason": "Patient felt unwell"}).status_code == 302
    assert VisitChart.objects.get(visit=second).stop_reason == "Patient felt unwell"
    assert "Stopped early" in text(nurse_client.get(url("visit", second)))


def test_every_step_page_renders_in_every_state(nurse_client, visit, clock):
    for name in VISIT_URLS:
        assert nurse_client.get(url(name, visit)).status_code == 200, name
    check_in(nurse_client, visit)
    for name in VISIT_URLS:
        assert nurse_client.get(url(name, visit)).status_code == 200, name


def test_opening_a_visit_is_kept_in_the_record_view_log(nurse_client, nurse, visit):
    nurse_client.get(url("visit", visit))

    row = PatientRecordView.objects.get()
    assert (row.viewer, row.patient_id, row.what) == (nurse, visit.patient_id, "visit page (nurse)")


@pytest.mark.parametrize(
    "where",
    [
        {"latitude": "NaN", "longitude": "-73.9989", "accuracy": "12"},
        {"latitude": "40.74", "longitude": "Infinity", "accuracy": "12"},
        {"latitude": "40.74", "longitude": "-73.99", "accuracy": "Infinity"},
        {"latitude": "-Infinity", "longitude": "nan", "accuracy": "NaN"},
    ],
)
def test_a_non_finite_location_never_loses_the_check_in(nurse_client, visit, where):
    """The hidden fields the page's script fills: NaN or Infinity mean "no location", not a 500."""
    response = check_in(nurse_client, visit, **where)

    assert response.status_code == 302
    chart = VisitChart.objects.get()
    assert chart.arrived_at is not None
    if where["accuracy"] == "Infinity" and where["latitude"] == "40.74":
        assert chart.arrival_latitude is not None and chart.arrival_accuracy_m is None
    else:
        assert chart.arrival_latitude is None


# --- what the pages refuse, and what they offer --------------------------------------------------


def test_an_infusion_cannot_start_before_the_nurse_arrived_nor_in_the_future(nurse_client, visit, clock):
    clock.move_to(ny(10, 16) + timedelta(seconds=40))
    check_in(nurse_client, visit)  # the chart says "Arrived 10:16"

    before = text(nurse_client.post(url("dose", visit), {**DOSE, "started_at": "10:08"}))
    assert "The start time cannot be before 10:16 AM EST." in before and 'value="10:08"' in before
    future = text(nurse_client.post(url("dose", visit), {**DOSE, "started_at": "10:30"}))
    assert "The start time cannot be in the future." in future and 'value="10:30"' in future
    backwards = text(nurse_client.post(url("dose", visit), {**DOSE, "started_at": "10:16", "stopped_at": "10:12"}))
    assert "The stop time must be after the start time." in backwards and 'value="10:12"' in backwards
    assert not DoseRecord.objects.exists()

    # The minute the nurse checked in is a start time she can type (the clock said 10:16).
    assert nurse_client.post(url("dose", visit), {**DOSE, "started_at": "10:16"}).status_code == 302
    assert DoseRecord.objects.get().started_at == ny(10, 16)


@pytest.mark.parametrize("action", ["calculate", "record"])
def test_an_impossible_weight_gives_no_dose_on_either_button(nurse_client, visit, clock, action):
    check_in(nurse_client, visit)
    data = {**DOSE, "action": action, "weight": "1", "weight_unit": "lb", "started_at": "09:00"}

    page = text(nurse_client.post(url("dose", visit), data))

    assert "Enter a weight between 30 and 300 kg." in page and 'name="weight" value="1"' in page
    assert "data-dose-mg" not in page and "0.3 mg" not in page and "I weighed again" not in page
    assert not DoseRecord.objects.exists()


def no_show_offered(client, visit):
    return "Record a no-show" in text(client.get(url("visit", visit)))


def test_a_no_show_is_offered_only_when_it_can_be_recorded(nurse_client, visit, nia, patient, plan, clock):
    later = f.visit_for(nia, patient, plan, ny(10, day=TODAY + timedelta(days=7)))
    assert not no_show_offered(nurse_client, later)  # another day
    page = text(nurse_client.get(url("no_show", later)))
    assert "This can only be done on the day of the visit." in page and 'name="reason"' not in page
    refused = text(nurse_client.post(url("no_show", later), {"reason": "Nobody home"}))
    assert "This can only be done on the day of the visit." in refused
    later.refresh_from_db()
    assert later.status == S.CONFIRMED

    assert not no_show_offered(nurse_client, visit)  # 9:00: the visit is at 10:00
    before_start = text(nurse_client.get(url("no_show", visit)))
    assert "can be recorded from the visit&#x27;s start time (10:00 AM EST)" in before_start
    assert 'name="reason"' not in before_start
    clock.move_to(ny(10))
    assert no_show_offered(nurse_client, visit)
    assert 'name="reason"' in text(nurse_client.get(url("no_show", visit)))
    check_in(nurse_client, visit)
    assert not no_show_offered(nurse_client, visit)  # started: stop it instead


def test_a_dose_over_the_cap_is_never_shown_on_either_button(nurse_client, visit, clock):
    visit.clearance.dose_mg_per_kg = Decimal("1.0")  # the protocol's maximum per kg
    visit.clearance.save(update_fields=["dose_mg_per_kg"])
    check_in(nurse_client, visit)
    for action in ("calculate", "record"):
        data = {**DOSE, "action": action, "weight": "101", "weight_unit": "kg", "weight_change_confirmed": "on"}

        page = text(nurse_client.post(url("dose", visit), data))

        assert "101.0 mg is above the protocol&#x27;s maximum of 100 mg per infusion." in page, action
        assert "Do not start: call the on-call clinician" in page and "data-dose-mg" not in page, action
    assert not DoseRecord.objects.exists()
