"""STOP/START texts reach the patient's text consent through notifications' signal (the seam)."""

import pytest
from django.utils import timezone

from notifications import services as notifications
from notifications.models import SmsOptOut
from notifications.signals import sms_consent_changed
from patients.apps import SMS_CONSENT_RECEIVER
from patients.models import PatientProfile

from .factories import PatientProfileFactory

pytestmark = pytest.mark.django_db

NUMBER = "+12125550143"


def test_the_patients_app_listens_to_stop_and_start():
    # Connected in PatientsConfig.ready(): without it, STOP would stop texts but not the consent.
    assert any(lookup_key[0] == SMS_CONSENT_RECEIVER for lookup_key, *_ in sms_consent_changed.receivers)
    assert sms_consent_changed.has_listeners()


def test_stop_and_start_turn_the_consent_of_every_profile_with_the_number_off_and_on():
    sharing = [PatientProfileFactory(mobile_phone=NUMBER, sms_opt_in=True) for _ in range(2)]
    other = PatientProfileFactory(mobile_phone="+12125550199", sms_opt_in=True)
    before = timezone.now()

    notifications.sms_opt_out_record(phone_number="(212) 555-0143")

    profiles = PatientProfile.objects.filter(pk__in=[p.pk for p in sharing])
    assert [p.sms_opt_in for p in profiles] == [False, False]
    assert all(p.sms_opt_in_changed_at >= before for p in profiles)
    assert PatientProfile.objects.get(pk=other.pk).sms_opt_in is True

    notifications.sms_opt_in_record(phone_number=NUMBER)

    assert [p.sms_opt_in for p in profiles.all()] == [True, True]


def test_a_receiver_that_fails_rolls_the_stop_back():
    profile = PatientProfileFactory(mobile_phone=NUMBER, sms_opt_in=True)

    def broken(**kwargs):
        raise RuntimeError("receiver failed")

    sms_consent_changed.connect(broken, dispatch_uid="test-broken")
    try:
        with pytest.raises(RuntimeError):
            notifications.sms_opt_out_record(phone_number=NUMBER)
    finally:
        sms_consent_changed.disconnect(dispatch_uid="test-broken")

    assert not SmsOptOut.objects.exists()
    assert PatientProfile.objects.get(pk=profile.pk).sms_opt_in is True
