"""The reports' figures on a hand-built data set (Monday 2 and Tuesday 3 March 2026), and the CSV export."""

import csv
import io
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from booking.models import VisitStatus as S
from booking.tests import factories as bf
from concierge.tests.factories import UserFactory
from patients.models import ScreeningResponse
from payments.models import Payment, PaymentStatus, Refund, RefundStatus
from staff import reports

from .conftest import MONDAY, TUESDAY, ny

pytestmark = pytest.mark.django_db
PHOENIX = ZoneInfo("America/Phoenix")
RANGE = {"first_day": MONDAY, "last_day": TUESDAY}


def visit(starts_at, status, *, provider=None, confirmed=True, cancelled_by="", cancelled_at=None, **kwargs):
    return bf.VisitFactory(
        starts_at=starts_at,
        status=status,
        provider=provider,
        confirmed_at=starts_at - timedelta(days=5) if confirmed else None,
        cancelled_by=cancelled_by,
        cancelled_at=cancelled_at,
        **kwargs,
    )


@pytest.fixture
def visits(clock, maya, priya):
    travel = timedelta(minutes=15)
    for hour, status in ((10, S.CONFIRMED), (14, S.COMPLETED)):
        starts = ny(MONDAY, hour)
        visit(
            starts,
            status,
            provider=maya,
            blocked_from=starts - travel,
            blocked_until=starts + timedelta(hours=2) + travel,
        )
    visit(ny(TUESDAY, 10), S.CANCELLED, provider=maya, cancelled_by="patient", cancelled_at=ny(MONDAY, 9))  # 25 h ahead
    visit(ny(TUESDAY, 15), S.CANCELLED, provider=maya, cancelled_by="patient", cancelled_at=ny(TUESDAY, 9))  # 6 h
    visit(ny(TUESDAY, 16), S.CANCELLED, provider=maya, cancelled_by="staff", cancelled_at=ny(TUESDAY, 9))
    visit(ny(TUESDAY, 17), S.NO_SHOW, provider=maya)
    # A hold the patient gave up: a cancelled visit, but never a confirmed one.
    visit(ny(TUESDAY, 18), S.CANCELLED, confirmed=False, cancelled_by="patient", cancelled_at=ny(TUESDAY, 9))
    visit(ny(TUESDAY, 8), S.EXPIRED, confirmed=False)
    # Phoenix: 11:30 PM on Tuesday there is Wednesday in UTC; 11:30 PM on Sunday is Monday in UTC.
    arizona = {"time_zone": "America/Phoenix", "state": "AZ", "zip_code": "85004", "city": "Phoenix"}
    visit(datetime.combine(TUESDAY, time(23, 30), tzinfo=PHOENIX).astimezone(UTC), S.CONFIRMED, **arizona)
    visit(datetime.combine(date(2026, 3, 1), time(23, 30), tzinfo=PHOENIX).astimezone(UTC), S.CONFIRMED, **arizona)
    bf.time_off(maya, ny(TUESDAY, 8), ny(TUESDAY, 10))


def test_visits_per_day_and_state_count_each_visits_own_local_day(visits):
    report = reports.visits_per_day(**RANGE)

    assert [str(c.label) for c in report.columns] == [
        "day", "state", "Held", "Confirmed", "Nurse on the way", "In progress", "Completed", "Cancelled", "No-show",
        "On hold — clinician review", "all",
    ]  # fmt: skip
    assert report.rows == [
        ["2026-03-02", "NY", 0, 1, 0, 0, 1, 0, 0, 0, 2],
        ["2026-03-03", "AZ", 0, 1, 0, 0, 0, 0, 0, 0, 1],
        ["2026-03-03", "NY", 0, 0, 0, 0, 0, 4, 1, 0, 5],
    ]
    assert report.totals == ["Total", "", 0, 2, 0, 0, 1, 4, 1, 0, 8]


def test_nurse_utilisation_is_booked_over_working_time(visits):
    report = reports.nurse_utilisation(**RANGE)

    # Maya: Monday 10 h, Tuesday 8 h (2 h off); two 2-hour visits with 15 minutes' travel each way.
    assert report.rows == [
        ["Maya Chen", "Nurse", 2, 2, 18.0, 4.0, 1.0, 22.2],
        ["Priya Shah", "Nurse", 2, 0, 20.0, 0.0, 0.0, 0.0],
    ]
    assert report.totals == ["Total", "", 4, 2, 38.0, 4.0, 1.0, 10.5]


def test_cancellations_and_no_shows_by_who(visits):
    report = reports.cancellations(**RANGE)

    assert [(str(label), n, pct) for label, n, pct in report.rows] == [
        ("Cancelled by the patient (24 h or more ahead)", 1, 14.3),
        ("Cancelled by the patient (later)", 1, 14.3),
        ("Cancelled by staff", 1, 14.3),
        ("Cancelled by ConciergeMD (system)", 0, 0.0),
        ("No-show", 1, 14.3),
    ]
    assert report.totals[1:] == [4, 57.1]
    assert str(report.notes[0]) == "Confirmed visits in the range: 7."


@pytest.fixture
def money(clock, patient):
    def payment(cents, succeeded_at, status=PaymentStatus.SUCCEEDED):
        visit = bf.VisitFactory(patient=patient, starts_at=ny(TUESDAY, 8) + timedelta(days=Payment.objects.count()))
        return Payment.objects.create(
            patient=patient, visit=visit, amount_cents=cents, gateway="fake", status=status,
            succeeded_at=succeeded_at,
        )  # fmt: skip

    def refund(paid, cents, created_at, status):
        row = Refund.objects.create(payment=paid, amount_cents=cents, reason_code="staff", reason="x", status=status)
        Refund.objects.filter(pk=row.pk).update(created_at=created_at)

    first = payment(45000, ny(MONDAY, 10))
    payment(10000, ny(TUESDAY, 23, 30))  # Wednesday in UTC: Tuesday in New York
    payment(10000, ny(TUESDAY + timedelta(days=1), 9))
    payment(45000, None, status=PaymentStatus.FAILED)
    refund(first, 5000, ny(MONDAY, 15), RefundStatus.SUCCEEDED)
    refund(first, 10000, ny(TUESDAY, 12), RefundStatus.PENDING)
    refund(first, 45000, ny(TUESDAY, 13), RefundStatus.FAILED)


def test_revenue_and_refunds_per_day_in_dollars(money):
    report = reports.revenue(**RANGE)

    assert report.rows == [
        ["2026-03-02", 1, 45000, 1, 5000, 40000],
        ["2026-03-03", 1, 10000, 1, 10000, 0],
    ]
    assert report.totals == ["Total", 2, 55000, 2, 15000, 40000]
    rows = list(csv.reader(io.StringIO(report.csv())))
    assert rows[0] == ["day", "payments", "taken", "refunds", "refunded", "net"]
    assert rows[1] == ["2026-03-02", "1", "450.00", "1", "50.00", "400.00"]
    assert rows[-1] == ["Total", "2", "550.00", "2", "150.00", "400.00"]


@pytest.fixture
def scores(clock):
    def patient_with(instrument, *measures):
        user = UserFactory(role="patient")
        for i, (when, total) in enumerate(measures):
            ScreeningResponse.objects.create(
                patient=user, instrument=instrument, item_answers=[0], total=total, band="x", submitted_at=when,
                form_token=f"t{i}",
            )  # fmt: skip

    before = datetime(2026, 2, 1, 15, tzinfo=UTC)
    earlier = datetime(2026, 2, 15, 15, tzinfo=UTC)
    monday, tuesday = ny(MONDAY, 12), ny(TUESDAY, 12)
    patient_with("phq9", (before, 20), (monday, 12), (tuesday, 8))  # -60%: responds; 8: not in remission
    patient_with("phq9", (before, 10), (monday, 4))  # responds and remits
    patient_with("phq9", (monday, 15))  # one measure: left out
    patient_with("phq9", (before, 12), (tuesday, 7))  # -41.7%: no response
    patient_with("phq9", (before, 9), (earlier, 3))  # nothing in the range: left out
    patient_with("phq9", (before, 2), (monday, 1))  # exactly half: a response; remits
    patient_with("gad7", (before, 15), (tuesday, 4))
    patient_with("pcl5", (before, 50), (monday, 30))  # -40%: no response; below 33: remission
    patient_with("pcl5", (before, 40), (tuesday, 20))


def test_outcomes_change_from_baseline_response_and_remission(scores):
    report = reports.outcomes(**RANGE)

    assert [[str(row[0]), *row[1:]] for row in report.rows] == [
        ["PHQ-9", 4, 11.0, 5.0, -6.0, 3, 75.0, 5, 2, 50.0],
        ["GAD-7", 1, 15.0, 4.0, -11.0, 1, 100.0, 5, 1, 100.0],
        ["PCL-5", 2, 45.0, 25.0, -20.0, 1, 50.0, 33, 2, 100.0],
    ]


def test_the_remission_thresholds_are_settings(scores, settings):
    settings.OUTCOME_REMISSION_BELOW = {"phq9": 10, "gad7": 5, "pcl5": 33}

    phq9 = reports.outcomes(**RANGE).rows[0]

    assert (phq9[7], phq9[8], phq9[9]) == (10, 4, 100.0)


def test_managers_read_reports_and_download_csv(visits, manager_client):
    url = reverse("admin:staff_report", args=["visits"])

    page = manager_client.get(url, {"first_day": "2026-03-02", "last_day": "2026-03-03"}).content.decode()
    assert "Visits per day and state" in page and "2026-03-03" in page and "Download as CSV" in page

    response = manager_client.get(url, {"first_day": "2026-03-02", "last_day": "2026-03-03", "export": "csv"})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="conciergemd-visits-2026-03-02-2026-03-03.csv"' in response["Content-Disposition"]
    lines = response.content.decode().splitlines()
    assert lines[1] == "2026-03-02,NY,0,1,0,0,1,0,0,0,2" and lines[-1] == "Total,,0,2,0,0,1,4,1,0,8"


def test_a_bad_range_is_explained_beside_the_field_and_kept(manager_client):
    url = reverse("admin:staff_report", args=["revenue"])

    page = manager_client.get(url, {"first_day": "2026-03-05", "last_day": "2026-03-01"}).content.decode()

    assert "The end must be on or after the start." in page
    assert 'value="2026-03-05"' in page
    assert manager_client.get(reverse("admin:staff_report", args=["nope"])).status_code == 404
    index = manager_client.get(reverse("admin:staff_reports")).content.decode()
    assert "Nurse utilisation" in index and "Outcomes" in index
