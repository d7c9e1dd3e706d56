"""Changing a nurse's roster in admin when booked visits depend on it: the visits it would orphan are
listed and nothing is saved until staff choose (keep them, cancel them, or go back)."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from booking.models import Visit, VisitStatus
from booking.tests import factories as bf
from payments.models import Refund
from roster.models import Licence, Provider, TimeOff, WeeklyShift
from staff.board import board_for_day, visits_orphaned_by_roster

from .conftest import NOW, TUESDAY, book, ny, pay

pytestmark = pytest.mark.django_db


def change_url(provider):
    return reverse("admin:roster_provider_change", args=[provider.pk])


def roster_post(provider, **changes):
    """The provider's admin page as the browser would post it back, with `changes` on top."""
    provider = Provider.objects.get(pk=provider.pk)
    data = {
        "user": provider.user_id,
        "kind": provider.kind,
        "phone": "",
        "home_zip": provider.home_zip,
        "max_visits_per_day": provider.max_visits_per_day,
        "is_active": "on" if provider.is_active else "",
        "_save": "Save",
    }
    inlines = {
        "licences": (
            list(Licence.objects.filter(provider=provider).order_by("state", "-expires_on", "pk")),
            ("state", "licence_type", "number", "expires_on"),
        ),
        "weekly_shifts": (
            list(WeeklyShift.objects.filter(provider=provider).order_by("weekday", "start_time", "pk")),
            ("weekday", "start_time", "end_time"),
        ),
        "date_overrides": ([], ()),
        "time_off": (
            list(TimeOff.objects.filter(provider=provider, ends_at__gte=timezone.now()).order_by("starts_at", "pk")),
            ("starts_at", "ends_at", "reason"),
        ),
    }
    for prefix, (rows, fields) in inlines.items():
        data.update(
            {
                f"{prefix}-TOTAL_FORMS": len(rows),
                f"{prefix}-INITIAL_FORMS": len(rows),
                f"{prefix}-MIN_NUM_FORMS": 0,
                f"{prefix}-MAX_NUM_FORMS": 1000,
            }
        )
        for i, row in enumerate(rows):
            data[f"{prefix}-{i}-id"] = row.pk
            data[f"{prefix}-{i}-provider"] = provider.pk
            for name in fields:
                value = getattr(row, name)
                if hasattr(value, "isoformat") and name in ("starts_at", "ends_at"):
                    value = value.strftime("%Y-%m-%d %H:%M:%S")
                data[f"{prefix}-{i}-{name}"] = value
    data.update(changes)
    return data


def without_tuesday(provider, **more):
    tuesday = list(WeeklyShift.objects.filter(provider=provider).order_by("weekday", "start_time", "pk")).index(
        WeeklyShift.objects.get(provider=provider, weekday=1)
    )
    return roster_post(provider, **{f"weekly_shifts-{tuesday}-DELETE": "on"}, **more)


@pytest.fixture
def booked(cleared, infusion, maya):
    return book(cleared, infusion, ny(TUESDAY, 10), provider=maya)


def test_a_change_that_orphans_a_visit_lists_it_and_saves_nothing(clock, scheduler_client, booked, maya):
    response = scheduler_client.post(change_url(maya), without_tuesday(maya))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Nothing is saved yet. With this change Maya Chen could no longer do 1 booked visit" in page
    assert "Tue, Mar 3, 10:00 AM-12:00 PM EST" in page and "Pat Example" in page
    assert "it is outside the working hours" in page
    # Everything that was typed travels with the choice.
    assert 'name="weekly_shifts-1-DELETE" value="on"' in page and 'value="keep"' in page and 'value="cancel"' in page
    assert WeeklyShift.objects.filter(provider=maya, weekday=1).exists()
    assert Visit.objects.get(pk=booked.pk).status == VisitStatus.CONFIRMED


def test_save_and_keep_the_visits_marks_them_at_risk(clock, scheduler_client, booked, maya):
    response = scheduler_client.post(change_url(maya), without_tuesday(maya, _orphans="keep"), follow=True)

    assert "1 booked visits no longer fit this roster" in response.content.decode()
    assert not WeeklyShift.objects.filter(provider=maya, weekday=1).exists()
    assert Visit.objects.get(pk=booked.pk).status == VisitStatus.CONFIRMED
    risky = board_for_day(day=TUESDAY, now=NOW).at_risk
    assert [(v.visit.pk, [str(r) for r in v.risks]) for v in risky] == [
        (booked.pk, ["outside the nurse's working hours"])
    ]


def test_save_and_cancel_the_visits_refunds_and_tells_the_patients(clock, scheduler_client, scheduler, booked, maya):
    pay(booked)

    scheduler_client.post(change_url(maya), without_tuesday(maya, _orphans="cancel"))

    assert not WeeklyShift.objects.filter(provider=maya, weekday=1).exists()
    booked.refresh_from_db()
    assert (booked.status, booked.cancelled_by, booked.cancelled_by_user) == ("cancelled", "staff", scheduler)
    assert Refund.objects.get(visit=booked).amount_cents == 10000


def test_cancelling_the_visits_of_several_patients_takes_their_locks_in_the_one_order(
    clock, scheduler_client, booked, maya, cleared_too, infusion
):
    """One save cancels each orphaned visit: one after another, the second patient would be locked
    after the first visit. The save locks them all first (the order is watched under the tests)."""
    olive = book(cleared_too, infusion, ny(TUESDAY, 14), provider=maya)

    response = scheduler_client.post(change_url(maya), without_tuesday(maya, _orphans="cancel"))

    assert response.status_code == 302
    assert set(Visit.objects.filter(pk__in=[booked.pk, olive.pk]).values_list("status", flat=True)) == {"cancelled"}


def test_a_change_that_orphans_nothing_saves_at_once(clock, scheduler_client, booked, maya):
    sunday = {
        "weekly_shifts-TOTAL_FORMS": WeeklyShift.objects.filter(provider=maya).count() + 1,
    }
    data = roster_post(maya)
    n = WeeklyShift.objects.filter(provider=maya).count()
    data.update(sunday)
    data.update(
        {
            f"weekly_shifts-{n}-weekday": 6,
            f"weekly_shifts-{n}-start_time": "09:00",
            f"weekly_shifts-{n}-end_time": "13:00",
        }
    )

    response = scheduler_client.post(change_url(maya), data)

    assert response.status_code == 302
    assert WeeklyShift.objects.filter(provider=maya, weekday=6).exists()


def test_why_a_visit_no_longer_fits(clock, booked, maya, cleared_too, infusion):
    second = book(cleared_too, infusion, ny(TUESDAY, 14), provider=maya)

    TimeOff.objects.create(provider=maya, starts_at=ny(TUESDAY, 13), ends_at=ny(TUESDAY, 17))
    assert [(o.visit, str(o.reason)) for o in visits_orphaned_by_roster(provider_id=maya.pk, now=NOW)] == [
        (second, "it falls in time off")
    ]
    TimeOff.objects.all().delete()

    Provider.objects.filter(pk=maya.pk).update(max_visits_per_day=1)
    assert [(o.visit, str(o.reason)) for o in visits_orphaned_by_roster(provider_id=maya.pk, now=NOW)] == [
        (second, "more visits that day than the nurse's maximum (1)")
    ]
    Provider.objects.filter(pk=maya.pk).update(max_visits_per_day=4)

    Licence.objects.filter(provider=maya).update(expires_on=date(2026, 3, 2))
    assert {str(o.reason) for o in visits_orphaned_by_roster(provider_id=maya.pk, now=NOW)} == {
        "no licence valid in NY on that day"
    }
    Licence.objects.filter(provider=maya).update(expires_on=bf.FAR_FUTURE)

    Provider.objects.filter(pk=maya.pk).update(is_active=False)
    assert len(visits_orphaned_by_roster(provider_id=maya.pk, now=NOW)) == 2
    Provider.objects.filter(pk=maya.pk).update(is_active=True)

    # A shorter day that still holds both visits and their travel orphans nothing.
    WeeklyShift.objects.filter(provider=maya, weekday=1).update(start_time="09:30", end_time="16:30")
    assert visits_orphaned_by_roster(provider_id=maya.pk, now=NOW) == []
    # Cutting into the travel home does.
    WeeklyShift.objects.filter(provider=maya, weekday=1).update(end_time="16:10")
    assert [str(o.reason) for o in visits_orphaned_by_roster(provider_id=maya.pk, now=NOW)] == [
        "the day's route no longer fits (travel between visits)"
    ]


def test_visits_already_outside_the_roster_are_not_asked_about_again(clock, scheduler_client, maya):
    bf.VisitFactory(provider=maya, starts_at=ny(TUESDAY, 19))  # booked before the hours changed
    data = roster_post(maya, max_visits_per_day=5)

    response = scheduler_client.post(change_url(maya), data)

    assert response.status_code == 302
    assert Provider.objects.get(pk=maya.pk).max_visits_per_day == 5


def test_the_roster_list_highlights_licences_expiring_within_30_days(clock, scheduler_client, maya, priya):
    Licence.objects.filter(provider=priya).update(expires_on=timezone.localdate() + timedelta(days=12))

    page = scheduler_client.get(reverse("admin:roster_provider_changelist")).content.decode()
    assert '<strong class="licence-expiring">expires in 12 days</strong>' in page
    page = scheduler_client.get(reverse("admin:roster_provider_changelist"), {"licences": "soon"}).content.decode()
    assert "Priya Shah" in page and "Maya Chen" not in page
    page = scheduler_client.get(change_url(priya)).content.decode()
    assert "expires in 12 days" in page


# --- the portrait patients see (a table of its own) ----------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def patient_sees(visit):
    from concierge.testing import VerifiedClient

    client = VerifiedClient()
    client.force_login(visit.patient)
    return client.get(reverse("booking:visit", args=[visit.pk])).content.decode()


def test_a_photo_uploaded_in_admin_is_what_the_patient_sees_and_can_be_removed(clock, scheduler_client, booked, maya):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from roster.models import ProviderPhoto

    response = scheduler_client.post(change_url(maya), roster_post(maya, photo_file=SimpleUploadedFile("me.png", PNG)))

    assert response.status_code == 302
    photo = ProviderPhoto.objects.get(provider=maya)
    assert (bytes(photo.data), photo.content_type) == (PNG, "image/png")
    assert '<img class="carer-photo" src="data:image/png;base64,iVBORw0KGgo' in patient_sees(booked)
    staff_page = scheduler_client.get(change_url(maya)).content.decode()
    assert '<img src="data:image/png;base64,iVBORw0KGgo' in staff_page  # what patients see, shown to staff

    scheduler_client.post(change_url(maya), roster_post(maya, remove_photo="on"))

    assert not ProviderPhoto.objects.exists()
    page = patient_sees(booked)
    assert "data:image" not in page and '<span class="carer-photo carer-initials" aria-hidden="true">MC</span>' in page
    assert "none: patients see the initials" in scheduler_client.get(change_url(maya)).content.decode()


@pytest.mark.parametrize(
    ("upload", "message"),
    [(b"GIF89a" + b"\x00" * 64, "Upload a PNG, JPEG or WebP image."), (PNG + b"\x00" * 300 * 1024, "too large")],
)
def test_a_photo_that_is_not_a_small_image_is_refused_and_nothing_changes(
    clock, scheduler_client, maya, upload, message
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from roster.models import ProviderPhoto

    response = scheduler_client.post(
        change_url(maya), roster_post(maya, photo_file=SimpleUploadedFile("me.png", upload), max_visits_per_day=5)
    )

    assert response.status_code == 200 and message in response.content.decode()
    assert not ProviderPhoto.objects.exists() and Provider.objects.get(pk=maya.pk).max_visits_per_day == 4


def test_no_list_of_visits_carries_a_photo(clock, booked, maya):
    """Lists of visits read their providers with them (select_related): the portrait is in its own
    table, so a provider's row stays small whatever photo they have."""
    from django.db import connection
    from django.db.models import BinaryField
    from django.test.utils import CaptureQueriesContext

    from roster.models import ProviderPhoto

    ProviderPhoto.objects.create(provider=maya, data=PNG * 1000, content_type="image/png")
    assert not [f.name for f in Provider._meta.concrete_fields if isinstance(f, BinaryField)]
    with CaptureQueriesContext(connection) as queries:
        [visit] = Visit.objects.select_related("provider__user")
    assert visit.provider == maya
    assert "roster_providerphoto" not in queries.captured_queries[0]["sql"]
