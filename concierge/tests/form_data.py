"""Posting a page's own form back: what a browser would send, built from the form the view rendered.

Tests that change one field (a hostile value, a date out of range) start from everything else the
form shows filled in, so that the one change is what the server judges.
"""

from django import forms
from django.forms.widgets import CheckboxInput, MultiWidget


def form_data(form: forms.BaseForm) -> dict:
    """The fields of a bound or unbound form as a browser would post them (initial values)."""
    data: dict = {}
    for field in form:
        widget = field.field.widget
        value = field.value()
        if isinstance(widget, CheckboxInput):
            if widget.check_test(value):
                data[field.html_name] = "on"
            continue
        if isinstance(widget, MultiWidget):
            parts = value if isinstance(value, list | tuple) else widget.decompress(value)
            for suffix, sub, part in zip(widget.widgets_names, widget.widgets, parts, strict=False):
                data[f"{field.html_name}{suffix}"] = sub.format_value(part) or ""
            continue
        if isinstance(field.field, forms.MultipleChoiceField | forms.ModelMultipleChoiceField):
            data[field.html_name] = [str(v) for v in value or []]
        elif value is None:
            data[field.html_name] = ""
        elif isinstance(value, list | tuple):
            data[field.html_name] = [str(v) for v in value]
        else:
            data[field.html_name] = widget.format_value(value) or ""
    return data


def field_names(form: forms.BaseForm) -> dict[str, list[str]]:
    """Each field's name and the names its widget posts (a date and a time for a split field)."""
    names = {}
    for field in form:
        widget = field.field.widget
        if isinstance(widget, MultiWidget):
            names[field.html_name] = [f"{field.html_name}{suffix}" for suffix in widget.widgets_names]
        else:
            names[field.html_name] = [field.html_name]
    return names


def admin_post_data(response) -> dict:
    """What the admin's add or change page would post, inlines and their management forms included."""
    context = response.context
    data = form_data(context["adminform"].form)
    for inline in context.get("inline_admin_formsets", []):
        formset = inline.formset
        data.update(form_data(formset.management_form))
        for form in formset.forms:
            data.update(form_data(form))
    return data
