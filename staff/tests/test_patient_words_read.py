"""Every place a patient writes to us in their own words is read for danger, or says why not.

The danger-language matcher (patients/danger_words.py) reads a portal message, a check-in, a text
to the clinic's number, a reason for cancelling and the health questions' written answers. This
guard lists the free-text fields of every form a patient fills in: a new one fails here until
someone decides whether its words are read (and adds the reading, with its test) or records why
not. The health questions' written answers are read by their kind (`intake.written_answers`),
so a new written question is read without being listed.
"""

import importlib
import inspect

from django import forms

from patients import intake

PATIENT_FORM_MODULES = ("patients.forms", "portal.forms", "booking.forms", "payments.forms")

# form.field -> where its words are read for danger (the test that proves it), or why they are not.
READ = {
    "portal.forms.ThreadStartForm.subject": "portal.messaging._add (portal/tests/test_messaging.py)",
    "portal.forms.ThreadStartForm.body": "portal.messaging._add",
    "portal.forms.ReplyForm.body": "portal.messaging._add",
    "portal.forms.CheckInForm.other_side_effect": "portal.checkins.checkin_submit (portal/tests/test_checkins.py)",
    "booking.forms.CancelForm.reason": "booking.services.visits._cancellation_reason_read (test_experience.py)",
}
NOT_READ = {
    "patients.forms.ConsentForm.typed_name": "the patient's name, typed to sign",
    "patients.forms.ProfileForm.legal_first_name": "a name",
    "patients.forms.ProfileForm.legal_last_name": "a name",
    "patients.forms.ProfileForm.preferred_name": "a name",
    "patients.forms.ProfileForm.address_line1": "an address",
    "patients.forms.ProfileForm.address_line2": "an address",
    "patients.forms.ProfileForm.city": "an address",
    "patients.forms.ProfileForm.emergency_contact_name": "a name",
    "patients.forms.ProfileForm.emergency_contact_relationship": "a relationship ('sister')",
    "patients.forms.ProfileForm.support_person_name": "a name",
    "payments.forms.FakeCardForm.card_number": "the local run's test card",
    "payments.forms.FakeCardForm.expiry": "the local run's test card",
    "payments.forms.FakeCardForm.cvc": "the local run's test card",
    "payments.forms.StaffRefundForm.reason": "written by staff, not a patient",
}
NOT_WORDS = (forms.PasswordInput, forms.HiddenInput, forms.EmailInput)


def free_text_fields():
    for module_name in PATIENT_FORM_MODULES:
        module = importlib.import_module(module_name)
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if not issubclass(cls, forms.BaseForm) or cls.__module__ != module_name:
                continue
            for field_name, field in cls.base_fields.items():
                if isinstance(field.widget, NOT_WORDS):
                    continue
                if type(field) is forms.CharField or isinstance(field.widget, forms.Textarea):
                    yield f"{module_name}.{name}.{field_name}"


def test_every_free_text_field_a_patient_fills_in_is_read_for_danger_or_says_why_not():
    found = set(free_text_fields())

    assert not set(READ) & set(NOT_READ)
    assert found - set(READ) - set(NOT_READ) == set(), "decide whether these words are read for danger"
    assert set(READ) | set(NOT_READ) <= found, "a listed field no longer exists: take it off the list"


def test_every_written_health_question_is_read():
    written = {key for key, question in intake.QUESTIONS.items() if question.kind == intake.TEXT}
    answers = dict.fromkeys(written, "some words")

    assert written and set(intake.written_answers(answers)) == written
