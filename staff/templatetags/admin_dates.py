"""The admin's date drill-down, read from the ends of an index instead of the whole table.

Django's `date_hierarchy` lists the years (or a year's months) that have rows with
`SELECT DISTINCT date_trunc(...)` over every row: ~24 ms on 70,000 outbox rows, and growing
with the clinic. Here years and months come from the first and last row (MIN and MAX, which an
index on the field answers from its two ends); a year or month in between with no rows is still
offered, and opens an empty list. Days are still listed from the rows, within one month.

`templates/admin/change_list.html` puts this in place of Django's tag for every list, so a new
admin with a `date_hierarchy` gets it without asking (staff/tests/test_changelists.py checks it).
"""

import datetime

from django import template
from django.contrib.admin.templatetags.admin_list import date_hierarchy as django_date_hierarchy
from django.contrib.admin.templatetags.base import InclusionAdminNode
from django.contrib.admin.utils import get_fields_from_path
from django.db import models
from django.utils import formats, timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _

register = template.Library()


def _local_range(changelist, field_name, is_datetime):
    ends = changelist.queryset.aggregate(first=models.Min(field_name), last=models.Max(field_name))
    first, last = ends["first"], ends["last"]
    if first is None or last is None:
        return None
    if is_datetime:
        first, last = (timezone.localtime(v) if timezone.is_aware(v) else v for v in (first, last))
    return first, last


def _params(changelist):
    """The drill-down's three query parameters: the field's year, month and day."""
    field_name = changelist.date_hierarchy
    return f"{field_name}__year", f"{field_name}__month", f"{field_name}__day"


def _link(changelist, filters):
    """The list's address with these date filters in place of any other date filter."""
    return changelist.get_query_string(filters, [f"{changelist.date_hierarchy}__"])


def date_hierarchy(changelist):
    """What Django's date_hierarchy returns, with years and months from the ends of the range."""
    if not changelist.date_hierarchy:
        return None
    field_name = changelist.date_hierarchy
    year_field, month_field, day_field = _params(changelist)
    year = changelist.params.get(year_field)
    if changelist.params.get(month_field) or changelist.params.get(day_field):
        return django_date_hierarchy(changelist)  # a day, or the days of one month: bounded

    is_datetime = isinstance(get_fields_from_path(changelist.model, field_name)[-1], models.DateTimeField)
    ends = _local_range(changelist, field_name, is_datetime)
    if ends is None:  # no rows (in that year): nothing to offer, as Django shows it
        back = {"link": _link(changelist, {}), "title": _("All dates")}
        return {"show": True, "back": back if year else None, "choices": []}
    first, last = ends
    if year or first.year == last.year:
        # A chosen year, or one year of rows (Django opens it at once: one month of rows at its days).
        if not year and first.month == last.month:
            return _days(changelist, first, is_datetime=is_datetime)
        return _months(changelist, first, last)

    return {
        "show": True,
        "back": None,
        "choices": [
            {"link": _link(changelist, {year_field: str(y)}), "title": str(y)} for y in range(first.year, last.year + 1)
        ],
    }


def _months(changelist, first, last):
    """The months of one year from the first row's to the last's (`first`, `last` in that year)."""
    year_field, month_field, _day_field = _params(changelist)
    year = first.year
    return {
        "show": True,
        "back": {"link": _link(changelist, {}), "title": _("All dates")},
        "choices": [
            {
                "link": _link(changelist, {year_field: year, month_field: month}),
                "title": capfirst(formats.date_format(datetime.date(year, month, 1), "YEAR_MONTH_FORMAT")),
            }
            for month in range(first.month, last.month + 1)
        ],
    }


def _days(changelist, first, *, is_datetime):
    """The days with rows when every row is in the month of `first`, as Django lists them."""
    year_field, month_field, day_field = _params(changelist)
    read = changelist.queryset.datetimes if is_datetime else changelist.queryset.dates
    return {
        "show": True,
        "back": {"link": _link(changelist, {year_field: first.year}), "title": str(first.year)},
        "choices": [
            {
                "link": _link(changelist, {year_field: first.year, month_field: first.month, day_field: day.day}),
                "title": capfirst(formats.date_format(day, "MONTH_DAY_FORMAT")),
            }
            for day in read(changelist.date_hierarchy, "day")
        ],
    }


@register.tag(name="indexed_date_hierarchy")
def date_hierarchy_tag(parser, token):
    return InclusionAdminNode(
        parser, token, func=date_hierarchy, template_name="date_hierarchy.html", takes_context=False
    )
