"""`DirectTextInput` writes the same markup as Django's template-rendered text input."""

import pytest
from django import forms
from django.utils import translation

from booking.forms import CoverageForm
from concierge.forms import DirectTextInput

PROBE = '"><script>alert(1)</script>'


class Both(forms.Form):
    direct = forms.CharField(max_length=10, required=False, widget=DirectTextInput)
    django = forms.CharField(max_length=10, required=False, widget=forms.TextInput)


@pytest.mark.parametrize("value", [None, "", "10018", "0", PROBE, "señor\u202e"])
@pytest.mark.parametrize(
    "attrs",
    [
        {},
        {"class": "form-control is-invalid", "aria-describedby": "a b", "inputmode": "numeric"},
        {"required": True, "autofocus": True, "disabled": False, "data-x": PROBE, "pattern": "[0-9-]*"},
    ],
)
def test_it_renders_what_djangos_templates_render(value, attrs):
    form = Both()
    for name in ("direct", "django"):
        form.fields[name].widget.attrs.update(attrs)

    direct = form.fields["direct"].widget.render("zip_code", value, attrs={"id": "id_zip_code"})
    django = form.fields["django"].widget.render("zip_code", value, attrs={"id": "id_zip_code"})

    assert direct == django
    assert "<script>" not in direct


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("data", [None, {"zip_code": "10018"}, {"zip_code": PROBE}, {"zip_code": ""}])
def test_the_coverage_field_is_drawn_as_django_would_draw_it(language, data):
    with translation.override(language):
        form = CoverageForm(data)
        if data is not None:
            form.is_valid()  # marks the field in error, as the page does
        field = form["zip_code"]
        direct = str(field)
        field.field.widget = forms.TextInput(attrs=field.field.widget.attrs)
        assert direct == str(form["zip_code"])
