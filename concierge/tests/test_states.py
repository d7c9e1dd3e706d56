"""US states as choices: by name, in the reader's language, sorted once per language."""

from django.utils import translation

from booking.models import Visit
from concierge import states
from patients.forms import ProfileForm
from patients.models import PatientProfile
from roster.models import Licence


def test_states_are_listed_by_name_and_every_model_field_uses_that_list():
    with translation.override("en"):
        choices = states.state_choices()
        names = [name for _code, name in choices]
        assert names == sorted(names) and ("NY", "New York") in choices and len(choices) > 50
        assert Visit(state="NY").get_state_display() == "New York"
        for model in (Visit, PatientProfile, Licence):
            assert list(model._meta.get_field("state").choices) == list(choices), model


def test_the_list_is_sorted_once_per_language_not_on_every_read():
    states._states_in.cache_clear()
    with translation.override("en"):
        for _ in range(3):
            states.state_choices()
            list(Visit._meta.get_field("state").flatchoices)
    with translation.override("es"):
        states.state_choices()

    info = states._states_in.cache_info()
    assert info.misses == 2  # English once, Spanish once
    assert info.hits >= 5  # every other read, the field's included, answered from what was sorted


def test_the_profile_form_offers_every_state_by_name_and_keeps_the_choice():
    form = ProfileForm(data={"state": "NY"})
    html = str(form["state"])

    assert '<option value="NY" selected>New York</option>' in html
    assert html.index(">Alabama<") < html.index(">Wyoming<")


def test_the_field_gives_its_flat_choices_from_that_list_as_django_would_flatten_them():
    from django.utils.choices import flatten_choices

    for model in (Visit, PatientProfile, Licence):
        field = model._meta.get_field("state")
        for language in ("en", "es"):
            with translation.override(language):
                assert field.flatchoices == list(flatten_choices(field.choices)), (model, language)
                assert field.flatchoices == list(states.state_choices())
    with translation.override("es"):
        assert Visit(state="NY").get_state_display() == "Nueva York"  # what the admin's cell shows
