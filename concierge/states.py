"""US states as choices: sorted once per language, not on every read.

django-localflavor's `STATE_CHOICES` is a lazy object: every read of it (a form's select, a
model's validation, `get_state_display()`, each row of an admin list that shows a state) sorts
the ~60 translated names again, comparing lazy strings. The admin's list of visits spent 70 % of
its time there. Here the list is sorted once per language and kept.

Every model field for a state is `USStateField` from here (it migrates as localflavor's, so no
migration changes), and forms take `state_choices()`. Its `flatchoices` (what the admin and
`get_state_display()` read) is that list too, not flattened again on every read.
"""

from functools import cache

from django.conf import settings
from django.utils import translation
from localflavor.us import models as localflavor_models
from localflavor.us.us_states import STATE_CHOICES


@cache
def _states_in(language: str) -> tuple[tuple[str, str], ...]:
    with translation.override(language):
        return tuple((code, str(name)) for code, name in STATE_CHOICES)


def state_choices() -> tuple[tuple[str, str], ...]:
    """(code, name) for every state and territory, by name, in the active language."""
    return _states_in(translation.get_language() or settings.LANGUAGE_CODE)


class USStateField(localflavor_models.USStateField):
    """localflavor's two-letter state field, with `state_choices` for its choices."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.choices = state_choices  # a callable: asked on each read, answered from the cache

    @property
    def flatchoices(self):
        # Django flattens a field's choices again on each read (each admin cell, each
        # get_state_display()): ~0.1 ms for these ~60, 10-20 ms on an admin list's page. They are
        # flat already, and kept per language.
        return list(state_choices())

    def deconstruct(self):
        name, _path, args, kwargs = super().deconstruct()
        return name, "localflavor.us.models.USStateField", args, kwargs
