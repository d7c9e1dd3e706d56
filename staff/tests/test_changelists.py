"""Every admin changelist costs the same queries with a small clinic as with a bigger one, and
reads its first page from an index instead of sorting the whole table.

One test per registered model admin (a newly registered one is tested without being listed
here): its list page as a superuser, with one of everything, then again after more nurses, patients,
visits, payments, refunds, messages, threads, charts and audit rows were added. A list that reads
one more row per line (or per filter choice) shows up as a growing count.
"""

import re
from datetime import timedelta

import pytest
from django.apps import apps
from django.contrib import admin
from django.db import connection
from django.db.models import Max, Min
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from booking.models import Visit, VisitStatus
from booking.tests import factories as bf
from concierge.admin import values_in_use
from concierge.models import PatientRecordView, User
from concierge.testing import VerifiedClient
from concierge.tests.factories import UserFactory
from notifications.content import TEMPLATES
from notifications.models import Message
from notifications.tests.factories import MessageFactory
from patients.models import Clearance, PatientProfile
from patients.tests.factories import PatientProfileFactory, screening
from payments.models import Payment, PaymentStatus, Refund, RefundReason
from portal.tests.factories import thread_for

pytestmark = pytest.mark.django_db

CHANGELISTS = sorted(
    (model._meta.app_label, model._meta.model_name)
    for model, model_admin in admin.site._registry.items()
    if model_admin.has_module_permission  # every registered admin has a list page
)


def more_of_everything(admin_user, count, prefix):
    """Nurses, cleared patients with visits, payments, refunds, messages, threads, screenings."""
    service = bf.ServiceFactory(code=f"{prefix}-infusion")
    for i in range(count):
        provider = bf.ProviderFactory(user=bf.UserFactory(role="nurse"))  # with a New York licence
        patient = bf.cleared_patient(bf.UserFactory(role="patient"))
        for day in range(2):
            starts_at = timezone.now() + timedelta(days=3 + day, hours=i)
            visit = bf.VisitFactory(patient=patient, provider=provider, service=service, starts_at=starts_at)
            payment = Payment.objects.create(
                patient=patient, visit=visit, amount_cents=10000, gateway="fake", status=PaymentStatus.SUCCEEDED
            )
            Refund.objects.create(
                payment=payment, visit=visit, amount_cents=500, reason_code=RefundReason.STAFF, reason="Sorry"
            )
            MessageFactory(recipient=patient, visit=visit, template="reminder_24h", channel="sms")
        bf.VisitFactory(patient=patient, provider=provider, service=service, status=VisitStatus.COMPLETED)
        MessageFactory(recipient=None, to_address="oncall@example.com")  # a staff alert: no recipient
        thread_for(patient)
        screening(patient)
        PatientRecordView.objects.create(viewer=admin_user, patient=patient, what="profile")


def statements(client, url):
    """The SQL of one GET of the page (which must answer 200)."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return [q["sql"] for q in captured]


def queries(client, url):
    client.get(url)  # warm: session, content types, permissions
    return len(statements(client, url))


@pytest.mark.parametrize(("app_label", "model_name"), CHANGELISTS, ids=[".".join(c) for c in CHANGELISTS])
def test_the_changelist_costs_the_same_queries_as_the_clinic_grows(app_label, model_name):
    superuser = UserFactory(is_staff=True, is_superuser=True)
    client = VerifiedClient()
    client.force_login(superuser)
    url = reverse(f"admin:{app_label}_{model_name}_changelist")
    more_of_everything(superuser, 1, "small")
    small = queries(client, url)

    more_of_everything(superuser, 3, "large")

    assert queries(client, url) == small


def test_the_visit_list_offers_the_nurses_who_have_visits_by_name():
    superuser = UserFactory(is_staff=True, is_superuser=True)
    busy = bf.ProviderFactory(user=bf.UserFactory(role="nurse", first_name="Ada", last_name="Busy"))
    bf.ProviderFactory(user=bf.UserFactory(role="nurse", first_name="Idle", last_name="Nurse"))
    bf.VisitFactory(provider=busy)
    client = VerifiedClient()
    client.force_login(superuser)

    page = client.get(reverse("admin:booking_visit_changelist")).content.decode()

    assert f"?provider__id__exact={busy.pk}" in page and "Ada Busy" in page
    assert "Idle Nurse" not in page


@pytest.mark.parametrize(
    ("app_label", "model_name", "left_out"),
    [
        ("booking", "visit", ['"password"', '"mobile_phone"', '"address_line1"', '"clearance_id"']),
        ("notifications", "message", ['"body"', '"context"', '"password"', '"unique_key"']),
        ("payments", "payment", ['"client_secret"', '"password"', '"failure_message"', 'JOIN "booking_visit"']),
        ("patients", "patientprofile", ['"date_of_birth"', '"weight_kg"', '"emergency_contact_phone"', '"password"']),
        ("patients", "clearance", ['"note"', '"dose_mg_per_kg"', '"password"']),
        ("concierge", "user", ['"password"', '"last_login"']),
    ],
)
def test_the_busiest_lists_read_only_the_columns_they_show(app_label, model_name, left_out):
    """concierge.admin.ShownColumnsAdmin: the rows come without the columns no list column shows
    (a visit's address, the patient's phone, a message's text, anyone's password hash), and the
    page still shows what it did (a column left out would cost a query a row: the test above)."""
    superuser = UserFactory(is_staff=True, is_superuser=True)
    more_of_everything(superuser, 2, "shown")
    client = VerifiedClient()
    client.force_login(superuser)
    url = reverse(f"admin:{app_label}_{model_name}_changelist")
    client.get(url)

    with CaptureQueriesContext(connection) as captured:
        page = client.get(url).content.decode()

    table = f"{app_label}_{model_name}"
    # The page's rows: the last SELECT of the table (the user list also reads the signed-in login first).
    rows = [q["sql"] for q in captured if q["sql"].startswith(f'SELECT "{table}"."id"')]
    assert rows, "\n".join(q["sql"][:150] for q in captured)
    assert [column for column in left_out if column in rows[-1]] == []
    assert [text for text in shown_on_the_list(model_name) if escape(text) not in page] == []


def shown_on_the_list(model_name):
    """Texts a row of each busy list shows (every row is on the first page here; its checkbox names
    the row by its __str__)."""
    if model_name == "visit":
        row = Visit.objects.select_related("service", "patient__patient_profile").first()
        return {row.service.name, f"Select this object for an action - {row}"}
    if model_name == "message":
        row = Message.objects.select_related("recipient").first()
        return {row.recipient.email if row.recipient else "-", f"Select this object for an action - {row}"}
    if model_name == "payment":
        row = Payment.objects.select_related("patient").first()
        return {row.reference, row.patient.email, f"visit {row.visit_id}", f"Select this object for an action - {row}"}
    if model_name == "patientprofile":
        row = PatientProfile.objects.select_related("user").first()
        return {row.full_legal_name, row.user.email, row.city, f"Select this object for an action - {row}"}
    if model_name == "user":
        row = User.objects.filter(groups__name="nurse").first()
        return {row.email, "Nurse", f"Select this object for an action - {row}"}
    row = Clearance.objects.select_related("patient").first()
    return {row.patient.email, row.get_decision_display()}  # no actions here: no checkbox


# --- the first page comes from an index, not from sorting the whole table ----------------------------

# Tables that stay small whatever the clinic's size (reference data, one row per staff member or
# per configuration): sorting them whole costs nothing. Every other list's order must be one an
# index gives, so that its first page costs the same with 10,000 rows as with 10 million.
STAYS_SMALL = {
    "auth.group": "roles: a handful",
    "otp_totp.totpdevice": "one per staff login",
    "otp_static.staticdevice": "one per staff login",
    "axes.accessattempt": "pruned: failed logins within the cool-off",
    "booking.service": "the clinic's services",
    "booking.servicearea": "the areas served",
    "portal.publicholiday": "a dozen a year",
    "patients.consentdocument": "a version a year",
    "roster.provider": "the roster",
    "roster.oncallshift": "the on-call rota",
}


def test_every_table_said_to_stay_small_has_a_list():
    assert set(STAYS_SMALL) <= {".".join(c) for c in CHANGELISTS}


def first_page_is_sorted_whole(model, model_admin, user):
    """Whether PostgreSQL must sort the whole table to give the list's first page (index scans
    preferred where there is one: the question is whether an index can give the order)."""
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.user = user
    changelist = model_admin.get_changelist_instance(request)
    page = changelist.get_queryset(request)[: changelist.list_per_page]
    sql, params = page.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = [row[0] for row in cursor.fetchall()]
    # "Limit" first; right under it, a full "Sort" means every row is read and sorted.
    under_limit = plan[1].strip().removeprefix("->").strip() if len(plan) > 1 else ""
    return under_limit.startswith("Sort"), "\n".join(plan)


GROWING = [c for c in CHANGELISTS if ".".join(c) not in STAYS_SMALL]


@pytest.mark.postgres
@pytest.mark.parametrize(("app_label", "model_name"), GROWING, ids=[".".join(c) for c in GROWING])
def test_the_first_page_of_a_growing_list_is_read_from_an_index(app_label, model_name):
    superuser = UserFactory(is_staff=True, is_superuser=True)
    model = next(m for m in admin.site._registry if (m._meta.app_label, m._meta.model_name) == (app_label, model_name))

    sorted_whole, plan = first_page_is_sorted_whole(model, admin.site._registry[model], superuser)

    assert not sorted_whole, plan


# --- the date drill-down reads the ends of an index, not every row ------------------------------------

DATED = [
    (model._meta.app_label, model._meta.model_name)
    for model, model_admin in admin.site._registry.items()
    if model_admin.date_hierarchy
]


def index_definitions(table):
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = %s", [table])
        return [row[0] for row in cursor.fetchall()]


def an_index_leads_with(table, column):
    """Whether a whole-table (not partial) btree index starts with the column: PostgreSQL then answers
    MIN, MAX and "the first value after this one" from one end of it, whatever the table's size.

    Asked of the catalogue, not of a plan: on a test's few rows the planner may well prefer to read
    the whole (tiny) index, and with another index first in the list it still would not sort.
    """
    leading = re.compile(rf'USING btree \("?{column}"?[ ,)]')
    return any(leading.search(index) and " WHERE " not in index for index in index_definitions(table))


@pytest.mark.parametrize(("app_label", "model_name"), DATED, ids=[".".join(c) for c in DATED])
def test_no_date_drill_down_reads_every_row(app_label, model_name):
    """All dates and one year's months: no DISTINCT date_trunc over the table (whole, or a year)."""
    superuser = UserFactory(is_staff=True, is_superuser=True)
    more_of_everything(superuser, 1, "small")
    client = VerifiedClient()
    client.force_login(superuser)
    url = reverse(f"admin:{app_label}_{model_name}_changelist")
    field = admin.site._registry[
        next(m for m in admin.site._registry if (m._meta.app_label, m._meta.model_name) == (app_label, model_name))
    ].date_hierarchy
    year = timezone.localtime().year

    for page in (url, f"{url}?{field}__year={year}"):
        # Years and months come from MIN and MAX; only one month's days are listed from its rows.
        scans = [sql for sql in statements(client, page) if re.search(r"DATE_TRUNC\('(year|month)'", sql, re.I)]
        assert not scans, (page, scans)


def test_the_drill_down_offers_years_then_months_then_days_of_the_rows():
    superuser = UserFactory(is_staff=True, is_superuser=True)
    tz = timezone.get_current_timezone()
    for when in ((2024, 11, 20), (2026, 2, 3), (2026, 5, 17), (2026, 5, 21)):
        bf.VisitFactory(starts_at=timezone.make_aware(timezone.datetime(*when, 10, 0), tz))
    client = VerifiedClient()
    client.force_login(superuser)
    url = reverse("admin:booking_visit_changelist")

    top = client.get(url).content.decode()
    assert all(f"?starts_at__year={y}" in top for y in (2024, 2025, 2026)), top  # first year to last
    assert "starts_at__month" not in top

    year = client.get(f"{url}?starts_at__year=2026").content.decode()
    months = re.findall(r"starts_at__month=(\d+)", year)
    assert months == ["2", "3", "4", "5"] and "All dates" in year  # the first month to the last
    assert "3 visits" in year

    may = client.get(f"{url}?starts_at__month=5&starts_at__year=2026").content.decode()
    assert re.findall(r"starts_at__day=(\d+)", may) == ["17", "21"]  # days: those with visits


DATED_GROWING = [c for c in DATED if ".".join(c) not in STAYS_SMALL]


@pytest.mark.postgres
@pytest.mark.parametrize(("app_label", "model_name"), DATED_GROWING, ids=[".".join(c) for c in DATED_GROWING])
def test_the_first_and_last_date_come_from_an_index(app_label, model_name):
    """The drill-down's MIN and MAX read the two ends of an index on the field, not every row."""
    model = next(m for m in admin.site._registry if (m._meta.app_label, m._meta.model_name) == (app_label, model_name))
    field = admin.site._registry[model].date_hierarchy
    with CaptureQueriesContext(connection) as captured:
        model._default_manager.aggregate(first=Min(field), last=Max(field))  # as the drill-down asks
    column = model._meta.get_field(field).column
    assert re.search(rf'MIN\("\w+"\."{column}"\)', captured[-1]["sql"]), captured[-1]["sql"]

    assert an_index_leads_with(model._meta.db_table, column), index_definitions(model._meta.db_table)


def test_one_month_of_rows_opens_at_its_days_as_django_does():
    from django.contrib.admin.templatetags.admin_list import date_hierarchy as django_date_hierarchy
    from django.test import RequestFactory

    from staff.templatetags.admin_dates import date_hierarchy

    superuser = UserFactory(is_staff=True, is_superuser=True)
    tz = timezone.get_current_timezone()
    for day in (4, 9, 9, 28):
        bf.VisitFactory(starts_at=timezone.make_aware(timezone.datetime(2026, 5, day, 23, 30), tz))
    request = RequestFactory().get("/")
    request.user = superuser
    changelist = admin.site._registry[Visit].get_changelist_instance(request)

    with CaptureQueriesContext(connection) as ours:
        offered = date_hierarchy(changelist)
    with CaptureQueriesContext(connection) as djangos:
        expected = django_date_hierarchy(changelist)

    assert offered == expected and [c["title"] for c in offered["choices"]] == ["May 4", "May 9", "May 28"]
    assert len(ours) == len(djangos) == 2  # MIN/MAX, then the month's days


# --- a filter lists its choices without reading every row -----------------------------------------------


@pytest.mark.postgres
@pytest.mark.parametrize(("app_label", "model_name"), GROWING, ids=[".".join(c) for c in GROWING])
def test_no_filter_of_a_growing_list_reads_every_row(app_label, model_name):
    """A filter's choices come from fixed choices, a table that stays small, or the column's index
    (concierge.admin.values_in_use): never a SELECT DISTINCT over the growing table itself."""
    superuser = UserFactory(is_staff=True, is_superuser=True)
    more_of_everything(superuser, 1, "small")
    client = VerifiedClient()
    client.force_login(superuser)
    url = reverse(f"admin:{app_label}_{model_name}_changelist")
    client.get(url)  # warm: session, content types, permissions
    small_tables = {apps.get_model(label)._meta.db_table for label in STAYS_SMALL}

    for sql in statements(client, url):
        # One month of rows opens at its days, listed from that month's rows (see the drill-down tests).
        if "DATE_TRUNC('day'" in sql:
            continue
        # A statement of its own or a subquery (Django's RelatedOnlyFieldListFilter asks for the
        # related rows IN (SELECT DISTINCT ... FROM the listed table)).
        for table in re.findall(r'SELECT DISTINCT .*? FROM "(\w+)"', sql):
            assert table in small_tables, sql
        # loose_index_scan: each step one probe of the column's index.
        for column, table in re.findall(r'MIN\("(\w+)"\) FROM "(\w+)"', sql if "WITH RECURSIVE" in sql else ""):
            assert an_index_leads_with(table, column), (sql, index_definitions(table))


def test_the_values_in_use_are_listed_in_order_without_the_blank_and_filter_the_list():
    superuser = UserFactory(is_staff=True, is_superuser=True)
    for state in ("NY", "CA", "", "NY", "TX", ""):
        PatientProfileFactory(state=state)
    client = VerifiedClient()
    client.force_login(superuser)
    url = reverse("admin:patients_patientprofile_changelist")

    assert values_in_use(PatientProfile._meta.get_field("state")) == ["CA", "NY", "TX"]
    page = client.get(url).content.decode()
    assert re.findall(r"\?state=(\w*)", page) == ["CA", "NY", "TX"]  # no link without text for the blank
    filtered = client.get(f"{url}?state=NY").content.decode()
    assert "2 patient profiles" in filtered and "6 patient profiles" not in filtered


def test_the_outbox_offers_every_template_the_clinic_sends_and_filters_by_one():
    superuser = UserFactory(is_staff=True, is_superuser=True)
    MessageFactory(template="reminder_24h", channel="sms")
    MessageFactory(template="confirmation", channel="email")
    client = VerifiedClient()
    client.force_login(superuser)
    url = reverse("admin:notifications_message_changelist")

    page = client.get(url).content.decode()
    # From the registry: templates never sent yet (the check-in) are offered too.
    assert re.findall(r"\?template=(\w+)", page) == sorted(TEMPLATES) and "checkin" in TEMPLATES
    filtered = client.get(f"{url}?template=confirmation").content.decode()
    assert "1 message" in filtered and "2 messages" not in filtered
    assert "Show all" in filtered  # the whole outbox is not counted a second time
