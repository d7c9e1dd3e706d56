"""What every form field and URL takes from outside, refused cleanly when it makes no sense.

Nothing a person types, or puts in a link, may end in a 500. Python's dates end at year 1 and
year 9999, and the day after 9999-12-31 (or a time zone's midnight of 0001-01-01) is an
OverflowError; Decimal and float accept "NaN" and "Infinity", which compare badly or not at all.
So days from links go through ``day_from`` (or the ``<day:…>`` URL converter), dates typed in a
form through ``DayField`` (or ``DATE_RANGE_VALIDATORS`` on a model's DateField), and numbers
through ``finite_number``: each refuses what is out of range with a message, never an exception.
"""

from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.utils.dateparse import parse_date
from django.utils.translation import gettext_lazy as _

# Every date the clinic deals in: birth dates, visits, licences, clearances, reports.
EARLIEST_DAY = date(1900, 1, 1)
LATEST_DAY = date(2199, 12, 31)

OUT_OF_RANGE = _("Enter a date between %(first)s and %(last)s.")


def _range_message() -> str:
    return str(OUT_OF_RANGE) % {"first": EARLIEST_DAY.isoformat(), "last": LATEST_DAY.isoformat()}


def in_range(day: date) -> bool:
    return EARLIEST_DAY <= day <= LATEST_DAY


def day_from(value: object) -> date | None:
    """A YYYY-MM-DD day from a link or a query string, or None: malformed, impossible (2026-02-30)
    or outside the years the clinic deals in (arithmetic on 0001-01-01 or 9999-12-31 overflows)."""
    if isinstance(value, date):
        day: date | None = value
    elif isinstance(value, str):
        try:
            day = parse_date(value)
        except ValueError:
            return None
    else:
        return None
    return day if day is not None and in_range(day) else None


class DayConverter:
    """``<day:name>``: a YYYY-MM-DD day in the clinic's range, handed to the view as a date.

    Any other value does not match, so the URL answers 404 instead of reaching the view."""

    regex = r"\d{4}-\d{2}-\d{2}"

    def to_python(self, value: str) -> date:
        day = day_from(value)
        if day is None:
            raise ValueError("not a day in range")
        return day

    def to_url(self, value: object) -> str:
        day = day_from(value)
        if day is None:
            raise ValueError("not a day in range")
        return day.isoformat()


def validate_day_in_range(value: date) -> None:
    day = value.date() if isinstance(value, datetime) else value
    if isinstance(day, date) and not in_range(day):
        raise ValidationError(_range_message(), code="date_out_of_range")


# For a model's DateField: admin forms built from the model then refuse year 1 and year 9999.
DATE_RANGE_VALIDATORS = [validate_day_in_range]


class DayInput(forms.DateInput):
    """``<input type="date">``: its value is always yyyy-mm-dd (the browser shows it in the reader's
    own format). The localized format ("06/12/2026" in Spanish) is not a value it takes: the box
    shows empty and the form comes back without the date."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class DayField(forms.DateField):
    """A date field that refuses days outside the clinic's range, with a message beside the field."""

    widget = DayInput
    default_validators = [validate_day_in_range]


def finite_number(value: object) -> Decimal | None:
    """A finite Decimal from what a form or a phone's script sent, or None (empty, not a number,
    NaN or an infinity: Decimal("NaN") cannot even be compared)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def more_than_zero() -> MinValueValidator:
    """For money and durations: zero cents or zero minutes is never what staff meant."""
    return MinValueValidator(1, message=_("Must be more than zero."))
