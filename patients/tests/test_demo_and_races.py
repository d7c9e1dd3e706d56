import pytest
from django.core.management import call_command

from concierge.models import User
from concierge.testing import race
from patients import services
from patients.models import Clearance, IntakeResponse, PatientProfile, SafetyAlert, ScreeningResponse
from patients.selectors import booking_eligibility_for, clearance_active_for
from staff.review import review_queue

from .factories import CLEAN_ANSWERS, PatientProfileFactory


@pytest.mark.django_db
def test_seed_demo_gives_three_patients_at_three_stages_and_twice_gives_the_same_data():
    call_command("seed_demo")
    counts = [m.objects.count() for m in (PatientProfile, IntakeResponse, ScreeningResponse, Clearance)]
    call_command("seed_demo")
    assert [m.objects.count() for m in (PatientProfile, IntakeResponse, ScreeningResponse, Clearance)] == counts

    alex = User.objects.get(email="patient@demo.conciergemd.example")
    profile = alex.patient_profile
    assert profile.is_complete and profile.full_legal_name == "Alex Morgan"
    assert (profile.address_line1, profile.city, profile.state, profile.zip_code) == (
        "350 W 31st St",
        "New York",
        "NY",
        "10001",
    )
    assert str(profile.mobile_phone) == "+12125550143" and profile.sms_opt_in
    assert float(profile.weight_kg) == 82.0 and profile.support_person_name
    assert profile.time_zone == "America/New_York"
    clearance = clearance_active_for(patient=alex)
    assert clearance.clinician.email == "clinician@demo.conciergemd.example"
    assert clearance.infusions_planned == 6
    assert booking_eligibility_for(patient=alex).can_book_infusion
    assert ScreeningResponse.objects.filter(patient=alex).count() == 6

    jordan = User.objects.get(email="patient2@demo.conciergemd.example")
    assert jordan.patient_profile.time_zone == "America/Phoenix" and jordan.patient_profile.zip_code == "85004"
    assert booking_eligibility_for(patient=jordan).can_book_evaluation
    assert list(review_queue().values_list("user__email", flat=True)) == [jordan.email]

    riley = User.objects.get(email="patient3@demo.conciergemd.example")
    assert riley.patient_profile.terms_accepted_at is not None
    assert not riley.patient_profile.is_complete
    assert not IntakeResponse.objects.filter(patient=riley).exists()
    assert not SafetyAlert.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_tabs_sending_the_intake_at_once_make_one_version():
    profile = PatientProfileFactory()
    services.intake_draft_save(patient=profile.user, answers=CLEAN_ANSWERS)

    outcomes = race(*[lambda: services.intake_submit(patient=profile.user)] * 2)

    assert [o.error for o in outcomes] == [None, None]
    assert IntakeResponse.objects.filter(patient=profile.user).count() == 1
    assert {o.value.pk for o in outcomes} == {IntakeResponse.objects.get().pk}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_double_click_on_a_phq9_with_item_9_makes_one_response_one_alert_one_email(mailoutbox):
    profile = PatientProfileFactory()

    def send():
        return services.screening_submit(
            patient=profile.user, instrument="phq9", item_answers=[0] * 8 + [2], form_token="same-form"
        )

    outcomes = race(send, send)

    assert [o.error for o in outcomes] == [None, None]
    assert ScreeningResponse.objects.count() == 1
    assert SafetyAlert.objects.count() == 1
    assert len(mailoutbox) == 1
    assert PatientProfile.objects.get(pk=profile.pk).safety_review_required
