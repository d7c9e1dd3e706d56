"""A visit in admin: reassigning through the booking guard, cancelling, refunding in full, a reminder
now, a no-show; the visit's page with its payment, messages, chart and history; list search."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse

from booking.models import Series, Visit, VisitStatus
from booking.tests import factories as bf
from concierge import audit
from concierge.models import PatientRecordView
from concierge.tests.factories import UserFactory
from notifications.models import Message
from nurses.models import VisitChart
from payments.models import Payment, PaymentAllocation, PaymentStatus, Refund
from staff import services as staff_services
from staff.board import reassign_candidates

from .conftest import NOW, TUESDAY, book, ny, pay

pytestmark = pytest.mark.django_db


def reassign_url(visit):
    return reverse("admin:booking_visit_reassign", args=[visit.pk])


# --- reassigning -----------------------------------------------------------------------------------


def test_only_eligible_and_free_nurses_are_offered(cleared, cleared_too, infusion, maya, priya, nyc):
    visit = book(cleared, infusion, ny(TUESDAY, 10), provider=maya)
    busy = bf.ProviderFactory(user=UserFactory(role="nurse", first_name="Bo", last_name="Busy"))
    unlicensed = bf.ProviderFactory(
        user=UserFactory(role="nurse", first_name="Nia", last_name="Jersey"), licence_states=["NJ"]
    )
    nyc.providers.add(busy, unlicensed)
    book(cleared_too, infusion, ny(TUESDAY, 10), provider=busy)

    offered = reassign_candidates(visit=visit, now=NOW)

    assert [provider for provider, _candidate in offered] == [priya]


def test_staff_reassign_a_visit_to_a_free_nurse(clock, scheduler_client, scheduler, cleared, infusion, maya, priya):
    visit = book(cleared, infusion, ny(TUESDAY, 10), provider=maya)

    page = scheduler_client.get(reassign_url(visit)).content.decode()
    assert "Priya Shah" in page and "travel 15 min there" in page

    response = scheduler_client.post(reassign_url(visit), {"provider": priya.pk, "next": "/admin/"})

    assert response.status_code == 302 and response["Location"] == "/admin/"
    visit.refresh_from_db()
    assert visit.provider == priya and visit.status == VisitStatus.CONFIRMED
    # Priya's base is 10011: her own route's travel, recomputed by the guard.
    assert visit.blocked_from < visit.starts_at
    # In the audit trail, by the scheduler.
    entry = audit.log_entries_for(visit).first()
    assert entry.actor == scheduler and "provider" in entry.changes_dict


def test_reassigning_to_a_nurse_who_is_busy_then_is_refused_with_a_message(
    clock, scheduler_client, cleared, cleared_too, infusion, maya, priya
):
    visit = book(cleared, infusion, ny(TUESDAY, 10), provider=maya)
    # Priya was free when the page was shown; someone books her meanwhile (overlapping the visit).
    book(cleared_too, infusion, ny(TUESDAY, 11), provider=priya)

    response = scheduler_client.post(reassign_url(visit), {"provider": priya.pk})

    assert response.status_code == 200
    page = response.content.decode()
    assert "Priya Shah cannot take this visit: they are not free then" in page
    visit.refresh_from_db()
    assert visit.provider == maya


def test_reassigning_to_a_nurse_without_a_licence_in_the_state_is_refused(
    clock, scheduler_client, cleared, infusion, maya, nyc
):
    visit = book(cleared, infusion, ny(TUESDAY, 10), provider=maya)
    jersey = bf.ProviderFactory(
        user=UserFactory(role="nurse", first_name="Nia", last_name="Jersey"), licence_states=["NJ"]
    )
    nyc.providers.add(jersey)

    page = scheduler_client.get(reassign_url(visit)).content.decode()
    assert "Nia Jersey" not in page  # never offered
    response = scheduler_client.post(reassign_url(visit), {"provider": jersey.pk})

    assert "Nia Jersey cannot take this visit" in response.content.decode()
    visit.refresh_from_db()
    assert visit.provider == maya


def test_a_finished_or_cancelled_visit_cannot_be_reassigned_and_no_500(
    clock, scheduler_client, cleared, infusion, maya
):
    visit = book(cleared, infusion, ny(TUESDAY, 10), provider=maya)
    Visit.objects.filter(pk=visit.pk).update(status=VisitStatus.COMPLETED)

    page = scheduler_client.get(reassign_url(visit)).content.decode()
    assert "This visit is completed: it can no longer be given to someone else." in page
    assert scheduler_client.post(reassign_url(visit), {"provider": 999}).status_code == 200


def test_reassigning_twice_to_the_same_nurse_changes_it_once(clock, scheduler_client, cleared, infusion, maya, priya):
    visit = book(cleared, infusion, ny(TUESDAY, 10), provider=maya)

    scheduler_client.post(reassign_url(visit), {"provider": priya.pk})
    updated = Visit.objects.get(pk=visit.pk).updated_at
    scheduler_client.post(reassign_url(visit), {"provider": priya.pk})

    visit.refresh_from_db()
    assert visit.provider == priya and visit.updated_at == updated


def test_the_reassign_list_action_opens_the_page_for_one_visit(clock, scheduler_client, cleared, infusion, maya):
    visit = book(cleared, infusion, ny(TUESDAY, 10), provider=maya)
    url = reverse("admin:booking_visit_changelist")

    response = scheduler_client.post(url, {"action": "reassign_one", "_selected_action": [visit.pk]})

    assert response.status_code == 302 and response["Location"] == reassign_url(visit)


# --- cancelling, refunding --------------------------------------------------------------------------


def test_cancel_needs_a_reason_then_refunds_in_full_and_tells_the_patient(
    clock, scheduler_client, cleared, infusion, maya
):
    visit = book(cleared, infusion, ny(TUESDAY, 10), provider=maya)
    pay(visit)
    url = reverse("admin:booking_visit_cancel_visit", args=[visit.pk])

    page = scheduler_client.get(url).content.decode()
    assert "$100.00" in page  # the deposit paid goes back
    page = scheduler_client.post(url, {"reason": "  "}).content.decode()
    assert "This field is required." in page
    response = scheduler_client.post(url, {"reason": "Nurse ill, no cover"})

    assert response.status_code == 302
    visit.refresh_from_db()
    assert (visit.status, visit.cancelled_by, visit.cancellation_reason) == (
        "cancelled",
        "staff",
        "Nurse ill, no cover",
    )
    assert list(Refund.objects.filter(visit=visit).values_list("amount_cents", flat=True)) == [10000]
    assert Message.objects.filter(visit=visit, template="cancelled").count() == 2
    # Twice: the page says it cannot, nothing more happens.
    page = scheduler_client.post(url, {"reason": "again"}).content.decode()
    assert "it can no longer be cancelled" in page
    assert Refund.objects.filter(visit=visit).count() == 1


def test_refund_in_full_with_a_reason_once(clock, scheduler_client, scheduler, cleared, infusion, maya):
    visit = book(cleared, infusion, ny(TUESDAY, 10), provider=maya)
    payment = pay(visit)
    clock.move_to(ny(TUESDAY, 11))
    scheduler_client.force_login(scheduler)  # a new day, a new login (sessions last 12 hours)
    staff_services.visit_no_show_mark(visit=visit, actor=scheduler)  # the policy refunds nothing
    url = reverse("admin:booking_visit_refund", args=[visit.pk])

    assert "$100.00" in scheduler_client.get(url).content.decode()
    response = scheduler_client.post(url, {"reason": "Family emergency; forgiven by the manager"})

    assert response.status_code == 302
    refund = Refund.objects.get(payment=payment)
    assert refund.amount_cents == 10000 and refund.created_by == scheduler
    assert refund.reason == f"Visit {visit.pk}: Family emergency; forgiven by the manager"
    page = scheduler_client.post(url, {"reason": "again"}).content.decode()
    assert "Nothing is left to refund for this visit." in page
    assert Refund.objects.filter(payment=payment).count() == 1


def test_a_series_payment_refunds_only_this_visits_share(clock, scheduler, cleared, infusion, maya):
    first = book(cleared, infusion, ny(TUESDAY, 10), provider=maya)
    second = book(cleared, infusion, ny(TUESDAY + timedelta(days=2), 10), provider=maya)
    series = Series.objects.create(patient=cleared, clearance=first.clearance)
    payment = Payment.objects.create(
        patient=cleared, series=series, amount_cents=20000, gateway="fake", status=PaymentStatus.SUCCEEDED
    )
    PaymentAllocation.objects.create(payment=payment, visit=first, amount_cents=10000)
    PaymentAllocation.objects.create(payment=payment, visit=second, amount_cents=10000)

    staff_services.visit_refund_in_full(visit=first, reason="goodwill", actor=scheduler)

    assert staff_services.visit_refund_due(visit=first) == (payment, 0)
    assert staff_services.visit_refund_due(visit=second)[1] == 10000
    with pytest.raises(staff_services.NothingToRefund):
        staff_services.visit_refund_in_full(visit=first, reason="again", actor=scheduler)


def test_only_staff_who_may_refund_see_the_refund_page(clock, clinician_client, cleared, infusion, maya):
    visit = book(cleared, infusion, ny(TUESDAY, 10), provider=maya)
    pay(visit)
    assert clinician_client.get(reverse("admin:booking_visit_refund", args=[visit.pk])).status_code == 403


# --- reminders, no-shows ----------------------------------------------------------------------------


def test_a_reminder_now_is_an_email_and_a_text_once(clock, scheduler_client, cleared, infusion, maya):
    visit = book(cleared, infusion, ny(TUESDAY, 10), provider=maya)
    url = reverse("admin:booking_visit_remind", args=[visit.pk])
    before = set(Message.objects.filter(visit=visit).values_list("pk", flat=True))

    assert scheduler_client.get(url).status_code == 405  # a change: POST only
    scheduler_client.post(url)
    scheduler_client.post(url)

    new = Message.objects.filter(visit=visit).exclude(pk__in=before)
    assert sorted(new.values_list("template", "channel")) == [("reminder_24h", "email"), ("reminder_24h", "sms")]


def test_no_reminder_for_a_visit_that_has_started(clock, scheduler_client, scheduler, cleared, infusion, maya):
    visit = book(cleared, infusion, ny(TUESDAY, 10), provider=maya)
    clock.move_to(ny(TUESDAY, 10, 30))
    scheduler_client.force_login(scheduler)

    response = scheduler_client.post(reverse("admin:booking_visit_remind", args=[visit.pk]), follow=True)

    assert "A reminder is sent only for a confirmed visit that has not started." in response.content.decode()


def test_no_show_only_after_the_start_and_once(clock, scheduler_client, scheduler, cleared, infusion, maya):
    visit = book(cleared, infusion, ny(TUESDAY, 10), provider=maya)
    url = reverse("admin:booking_visit_no_show", args=[visit.pk])

    page = scheduler_client.post(url, follow=True).content.decode()
    assert "only once its start time has passed" in page
    assert Visit.objects.get(pk=visit.pk).status == VisitStatus.CONFIRMED

    clock.move_to(ny(TUESDAY, 10, 20))
    scheduler_client.force_login(scheduler)
    scheduler_client.post(url)
    updated = Visit.objects.get(pk=visit.pk)
    scheduler_client.post(url)

    visit.refresh_from_db()
    assert visit.status == VisitStatus.NO_SHOW and visit.updated_at == updated.updated_at


# --- the visit's page -------------------------------------------------------------------------------


def test_the_visit_page_shows_payment_messages_chart_and_history(
    clock, scheduler_client, manager_client, cleared, infusion, maya
):
    visit = book(cleared, infusion, ny(TUESDAY, 10), provider=maya)
    payment = pay(visit)
    chart = VisitChart.objects.create(visit=visit, nurse=maya.user)
    url = reverse("admin:booking_visit_change", args=[visit.pk])

    page = scheduler_client.get(url).content.decode()
    assert payment.reference in page and "$100.00" in page
    assert "reminder_24h" in page and "confirmation" in page
    assert "Charts are for clinicians and managers." in page
    assert reverse("admin:nurses_visitchart_change", args=[chart.pk]) not in page
    assert "History (audit trail)" in page and "held" in page and "confirmed" in page
    assert "Tue, Mar 3, 10:00 AM-12:00 PM EST" in page
    # The page's title names the time as the page does, in the visit's zone (not 15:00 UTC).
    assert "Home infusion 2026-03-03 10:00 EST (Confirmed)" in page
    for action in ("Reassign…", "Cancel…", "Send a reminder now", "Refund in full…"):
        assert action in page
    assert 'name="_save"' not in page  # nothing is edited as a form

    page = manager_client.get(url).content.decode()
    assert reverse("admin:nurses_visitchart_change", args=[chart.pk]) in page


def test_schedulers_do_not_see_the_visits_clearance_clinicians_do(
    clock, scheduler_client, clinician_client, cleared, infusion, maya
):
    visit = book(cleared, infusion, ny(TUESDAY, 10), provider=maya)
    url = reverse("admin:booking_visit_change", args=[visit.pk])

    assert "Clinical" not in scheduler_client.get(url).content.decode()
    page = clinician_client.get(url).content.decode()
    assert ">Clinical<" in page
    assert "Reassign…" not in page  # clinicians look; schedulers change


def test_opening_a_visit_is_logged_as_viewing_the_patients_record(
    clock, scheduler_client, scheduler, cleared, infusion, maya
):
    visit = book(cleared, infusion, ny(TUESDAY, 10), provider=maya)

    scheduler_client.get(reverse("admin:booking_visit_change", args=[visit.pk]))

    view = PatientRecordView.objects.get()
    assert (view.viewer, view.patient, view.what) == (scheduler, cleared, "visit in admin")


def test_the_list_finds_a_visit_by_the_patients_phone_and_filters_by_day(
    clock, scheduler_client, cleared, infusion, maya
):
    visit = book(cleared, infusion, ny(TUESDAY, 10), provider=maya)
    url = reverse("admin:booking_visit_changelist")

    page = scheduler_client.get(url, {"q": "(212) 555-0123"}).content.decode()
    assert reverse("admin:booking_visit_change", args=[visit.pk]) in page
    page = scheduler_client.get(url, {"q": "Example"}).content.decode()
    assert "Pat Example" in page
    assert "Pat Example" in scheduler_client.get(url, {"when": "tomorrow"}).content.decode()
    assert "Pat Example" not in scheduler_client.get(url, {"when": "today"}).content.decode()
    assert "0 visits" in scheduler_client.get(url, {"q": "(917) 000-0000"}).content.decode()


def test_the_nurse_filter_names_each_nurse_and_the_visits_without_one(clock, scheduler_client, cleared, infusion, maya):
    book(cleared, infusion, ny(TUESDAY, 10), provider=maya)
    page = scheduler_client.get(reverse("admin:booking_visit_changelist")).content.decode()

    assert re.search(rf'<a href="\?provider__id__exact={maya.pk}">\s*Maya Chen\s*</a>', page)
    # Not Django's bare "-", which reads as nothing at all.
    assert re.search(r'<a href="\?provider__isnull=True">\s*No nurse assigned\s*</a>', page)


def test_a_visits_page_links_only_to_pages_the_viewer_may_open(
    clock, scheduler_client, clinician_client, cleared, infusion, maya
):
    visit = book(cleared, infusion, ny(TUESDAY, 10), provider=maya)
    url = reverse("admin:booking_visit_change", args=[visit.pk])
    service_page = reverse("admin:booking_service_change", args=[infusion.pk])
    nurse_page = reverse("admin:roster_provider_change", args=[maya.pk])
    assert clinician_client.get(service_page).status_code == 403  # a clinician may not open these
    assert clinician_client.get(nurse_page).status_code == 403

    page = clinician_client.get(url).content.decode()
    assert service_page not in page and nurse_page not in page
    assert infusion.name in page and str(maya) in page  # named, not linked

    page = scheduler_client.get(url).content.decode()
    assert f'<a href="{service_page}">' in page and f'<a href="{nurse_page}">' in page
