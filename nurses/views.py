"""The nurse's pages: their day, one visit, and the chart steps (phone first).

Each view checks who may do it (a nurse, and the visit is theirs: anything else is a 404, so
nobody learns which visit ids exist), validates a form, calls one service, then redirects or
renders. Business errors come back beside the fields with everything typed kept; nothing here
ends in a 500.
"""

from datetime import timedelta
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET

from concierge.audit import record_view
from concierge.errors import ApplicationError
from concierge.inputs import day_from
from concierge.patient_state import page_kept
from roster.selectors import provider_for_nurse

from . import protocol, selectors, services
from .forms import (
    AmendForm,
    CheckInForm,
    DischargeForm,
    DoseForm,
    OnMyWayForm,
    OverrideForm,
    ReasonForm,
    SignForm,
    VitalsForm,
)

DRAFT_CLEAR_KEY = "nurses_draft_clear"


def nurse_required(view):
    """Logged in, a nurse, with a roster profile; anyone else gets 404 (not 403: nothing to learn)."""

    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        provider = provider_for_nurse(user=request.user)
        if provider is None:
            raise Http404
        request.provider = provider
        return view(request, *args, **kwargs)

    return wrapper


def own_visit(*methods):
    """A page about one visit: a nurse (else 404), the visit is theirs (else 404), then the method (405).

    The view is called with the visit's Briefing instead of its id.
    """

    def decorate(view):
        @wraps(view)
        @nurse_required
        def wrapper(request, pk):
            briefing = selectors.visit_briefing_for_nurse(provider=request.provider, pk=pk)
            if briefing is None:
                raise Http404
            if request.method not in methods:
                return HttpResponseNotAllowed(methods)
            return view(request, briefing)

        return wrapper

    return decorate


def _draft_key(visit, step):
    return f"visit-{visit.pk}-{step}"


def _done(request, visit, step, message):
    """After a successful step: the message, the saved draft to forget, back to the visit."""
    messages.success(request, message)
    request.session[DRAFT_CLEAR_KEY] = _draft_key(visit, step)
    return redirect("nurses:visit", pk=visit.pk)


def _apply_error(form, error):
    """An ApplicationError onto the form: beside the fields it names, else at the top."""
    fields = error.extra.get("fields") or {}
    field = error.extra.get("field")
    placed = False
    for name, message in fields.items():
        if name in form.fields:
            form.add_error(name, message)
            placed = True
    if field and field in form.fields:
        form.add_error(field, error.message)
        placed = True
    if not placed:
        form.add_error(None, error.message)


def _context(request, briefing, step, form=None, chart_view=None, **extra):
    """A step page's context; `chart_view` when the view has already read it (else read here)."""
    visit = briefing.visit
    return {
        "b": briefing,
        "visit": visit,
        "chart_view": chart_view if chart_view is not None else selectors.chart_view(visit=visit),
        "form": form,
        "step": step,
        "draft_key": _draft_key(visit, step),
        "draft_clear": request.session.pop(DRAFT_CLEAR_KEY, ""),
        **extra,
    }


def _simple_step(request, briefing, step, form_class, act, done_message, **extra):
    """A step whose whole job is: a valid form, one service call, back to the visit.

    `act(visit, data)` calls the service; its ApplicationError lands on the form, which is shown
    again with what was typed. The template is nurses/<step>.html (`extra` in its context).
    """
    visit = briefing.visit
    form = form_class(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            act(visit, form.cleaned_data)
        except ApplicationError as error:
            _apply_error(form, error)
        else:
            return _done(request, visit, step, done_message)
    return render(request, f"nurses/{step}.html", _context(request, briefing, step, form, **extra))


def _local_date(visit):
    return services.visit_local_date(visit)


# --- the day --------------------------------------------------------------------------------


def _day_param(request, provider):
    day = day_from(request.GET.get("date"))
    return day or selectors.provider_today(provider)


def _day_people(request, *args, **kwargs):
    """Whose records the day page shows: the nurse's own and each patient with a visit that day
    (for concierge.patient_state: the visits themselves move the schedule version)."""
    provider = request.provider
    start, end = selectors.day_bounds(provider, _day_param(request, provider))
    return (
        "SELECT %s::bigint UNION SELECT patient_id FROM booking_visit"
        " WHERE provider_id = %s AND starts_at >= %s AND starts_at < %s",
        [request.user.pk, provider.pk, start, end],
    )


@nurse_required
@require_GET
@page_kept(_day_people)
def today(request):
    provider = request.provider
    day = _day_param(request, provider)
    visits = selectors.visit_list_for_nurse(provider=provider, day=day)
    today_ = selectors.provider_today(provider)
    return render(
        request,
        "nurses/today.html",
        {
            "day": day,
            "is_today": day == today_,
            "today": today_,
            "previous_day": day - timedelta(days=1),
            "next_day": day + timedelta(days=1),
            "briefings": visits,
            "provider": provider,
            "draft_clear": request.session.pop(DRAFT_CLEAR_KEY, ""),
        },
    )


@nurse_required
@require_GET
def week(request):
    provider = request.provider
    first = _day_param(request, provider)
    days = selectors.visit_week_for_nurse(provider=provider, first_day=first)
    return render(
        request,
        "nurses/week.html",
        {
            "days": days,
            "first": first,
            "previous_week": first - timedelta(days=7),
            "next_week": first + timedelta(days=7),
            "today": selectors.provider_today(provider),
        },
    )


# --- one visit ------------------------------------------------------------------------------


def _next_step(visit, chart_view):
    """(label, url name) of the one primary action for this visit now, or None."""
    chart = chart_view.chart
    status = visit.status
    if status == "confirmed":
        return _("On my way"), "nurses:on_my_way"
    if status == "en_route":
        return pgettext("nurse arrives", "Check in"), "nurses:check_in"
    if status == "in_progress" and chart is not None:
        dose = chart_view.dose
        if chart.stopped_at is None and dose is None:
            return _("Record the dose"), "nurses:dose"
        if not any(v.kind != "baseline" for v in chart_view.vitals) and chart.stopped_at is None:
            return _("Record vitals"), "nurses:vitals"
        if dose is not None and dose.stopped_at is None:
            return _("Record vitals"), "nurses:vitals"
        if chart_view.discharge is None:
            return _("Discharge checklist"), "nurses:discharge"
        return _("Sign the chart"), "nurses:sign"
    return None


@own_visit("GET")
def visit_detail(request, briefing):
    visit = briefing.visit
    # The nurse sees the patient's details and clinical flags here: kept in the record-view log.
    record_view(user=request.user, patient=visit.patient_id, what="visit page (nurse)", path=request.path)
    chart_view = selectors.chart_view(visit=visit)
    next_step = _next_step(visit, chart_view)
    missing = services.chart_missing(chart_view.chart, chart_view) if visit.status == "in_progress" else []
    return render(
        request,
        "nurses/visit.html",
        {
            "b": briefing,
            "visit": visit,
            "chart_view": chart_view,
            "next_step": next_step,
            "missing": missing,
            "is_visit_day": services.on_visit_day(visit, timezone.now()),  # what "On my way" and check-in ask
            "no_show_offered": services.no_show_refusal(visit=visit) is None,
            "draft_clear": request.session.pop(DRAFT_CLEAR_KEY, ""),
            "now": timezone.now(),
            # Shown only while en route (visit.html): not read from the outbox on every other visit page.
            "on_my_way_text": selectors.on_my_way_text_for(
                visit=visit, name=briefing.name, phone_display=briefing.phone_display
            )
            if visit.status == "en_route"
            else "",
        },
    )


# --- the steps ------------------------------------------------------------------------------


@own_visit("GET", "POST")
def on_my_way(request, briefing):
    visit = briefing.visit
    form = OnMyWayForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        eta_from = services.local_moment(visit, data["eta_from"]) if data.get("eta_from") else None
        eta_until = services.local_moment(visit, data["eta_until"]) if data.get("eta_until") else None
        try:
            services.visit_on_my_way(visit=visit, nurse=request.user, eta_from=eta_from, eta_until=eta_until)
        except ApplicationError as error:
            _apply_error(form, error)
        else:
            told = selectors.on_my_way_text_for(visit=visit, name=briefing.name, phone_display=briefing.phone_display)
            return _done(request, visit, "on_my_way", _("On your way.") + " " + told)
    estimate = None
    if visit.status == "confirmed":
        estimate = services.eta_estimate(visit=visit)
    return render(request, "nurses/on_my_way.html", _context(request, briefing, "on_my_way", form, estimate=estimate))


@own_visit("GET", "POST")
def check_in(request, briefing):
    visit = briefing.visit
    form = CheckInForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        latitude, longitude, accuracy = form.location()
        baseline = services.Vitals(
            taken_at=timezone.now(),
            **{name: data[name] for name in CheckInForm.VITALS_FIELDS},
            sedation_note=data["sedation_note"],
            action_taken=data["action_taken"],
            action_note=data["action_note"],
        )
        try:
            services.visit_check_in(
                visit=visit,
                nurse=request.user,
                adult_present=data["adult_present"],
                prep_followed=data["prep_followed"],
                baseline=baseline,
                latitude=latitude,
                longitude=longitude,
                accuracy_m=accuracy,
            )
        except ApplicationError as error:
            _apply_error(form, error)
        else:
            return _done(request, visit, "check_in", _("Checked in. Baseline vitals recorded."))
    return render(request, "nurses/check_in.html", _context(request, briefing, "check_in", form))


@own_visit("GET", "POST")
def vitals(request, briefing):
    visit = briefing.visit
    now_local = timezone.now().astimezone(services.visit_zone(visit))
    chart_view = selectors.chart_view(visit=visit)
    form = VitalsForm(
        request.POST if request.method == "POST" else None,
        initial={"taken_at": now_local.strftime("%H:%M")},
        paused=chart_view.paused,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        reading = services.Vitals(
            taken_at=services.local_moment(visit, data["taken_at"]),
            **{name: data[name] for name in VitalsForm.VITALS_FIELDS},
            sedation_note=data["sedation_note"],
            action_taken=data["action_taken"],
            action_note=data["action_note"],
        )
        try:
            services.vitals_record(visit=visit, nurse=request.user, vitals=reading, form_token=data["form_token"])
        except services.ActionRequired as error:
            form.alerts = error.extra.get("alerts", [])
            form.add_error("action_taken", error.message)
        except ApplicationError as error:
            _apply_error(form, error)
        else:
            return _done(request, visit, "vitals", _("Vitals recorded."))
    # Read once: a refused reading saved nothing, so the chart is as it was before the POST.
    return render(request, "nurses/vitals.html", _context(request, briefing, "vitals", form, chart_view=chart_view))


def _dose_initial(chart_view, briefing):
    dose = chart_view.dose
    if dose is None:
        profile = getattr(briefing.visit.patient, "patient_profile", None)
        now_local = timezone.now().astimezone(services.visit_zone(briefing.visit))
        return {"weight_unit": getattr(profile, "weight_unit", "lb") or "lb", "started_at": now_local.strftime("%H:%M")}
    return {
        "weight": dose.weight_entered,
        "weight_unit": dose.weight_unit,
        "lot_number": dose.lot_number,
        "volume_ml": dose.volume_ml,
        "started_at": dose.started_at.astimezone(services.visit_zone(briefing.visit)).strftime("%H:%M"),
        "stopped_at": dose.stopped_at.astimezone(services.visit_zone(briefing.visit)).strftime("%H:%M")
        if dose.stopped_at
        else "",
    }


@own_visit("GET", "POST")
def dose(request, briefing):
    """Two steps on one page: today's weight gives the dose (shown), the nurse confirms and records it."""
    visit = briefing.visit
    chart_view = selectors.chart_view(visit=visit)
    last_kg = services.last_weight_kg(visit)
    form = DoseForm(
        request.POST if request.method == "POST" else None,
        initial=_dose_initial(chart_view, briefing),
        last_weight_kg=last_kg,
    )
    computed, override_needed = None, False
    if request.method == "POST":
        valid = form.is_valid()
        kg = form.weight_kg()
        clearance = visit.clearance
        if kg is not None and clearance is not None:
            try:
                computed = {"weight_kg": kg, "dose_mg": services.dose_worked_out(clearance.dose_mg_per_kg, kg)}
            except services.ProtocolStop as stop:  # over the cap: no dose to show or give, on either button
                form.add_error("weight", stop.message)
        recording = request.POST.get("action") == "record"
        if recording and valid and form.check_record():
            data = form.cleaned_data
            try:
                services.dose_record(
                    visit=visit,
                    nurse=request.user,
                    weight=data["weight"],
                    weight_unit=data["weight_unit"],
                    confirmed_dose_mg=data["confirmed_dose_mg"],
                    lot_number=data["lot_number"],
                    volume_ml=data["volume_ml"],
                    started_at=services.local_moment(visit, data["started_at"]),
                    stopped_at=services.local_moment(visit, data["stopped_at"]) if data.get("stopped_at") else None,
                    adverse_events=data["adverse_events"],
                    adverse_event_note=data["adverse_event_note"],
                    weight_change_confirmed=data["weight_change_confirmed"],
                    short_reason=data["short_reason"],
                    form_token=data["form_token"],
                )
            except services.DoseChanged as error:
                form.add_error("confirm", error.message)
            except ApplicationError as error:
                override_needed = bool(error.extra.get("override"))
                _apply_error(form, error)
            else:
                if protocol.adverse_events_for_review(data["adverse_events"]):
                    return _done(
                        request,
                        visit,
                        "dose",
                        _(
                            "Dose recorded. The on-call clinician is told of the adverse event, and the patient's "
                            "next infusions wait for a clinician's review. Keep monitoring as usual."
                        ),
                    )
                return _done(request, visit, "dose", _("Dose recorded."))
        if computed is not None:
            # The page shows this dose; confirming it sends it back, checked again by the service.
            form.data = form.data.copy()
            form.data["confirmed_dose_mg"] = str(computed["dose_mg"])
            if not recording or "confirm" in form.errors:
                form.data.pop("confirm", None)
    elif chart_view.dose is not None and visit.clearance is not None:
        initial = form.initial
        kg = protocol.weight_kg(initial["weight"], initial["weight_unit"])
        computed = {"weight_kg": kg, "dose_mg": protocol.dose_mg(kg, visit.clearance.dose_mg_per_kg)}
        form.initial["confirmed_dose_mg"] = computed["dose_mg"]
    weight_warning = computed is not None and protocol.weight_changed_a_lot(computed["weight_kg"], last_kg)
    return render(
        request,
        "nurses/dose.html",
        _context(
            request,
            briefing,
            "dose",
            form,
            computed=computed,
            weight_warning=weight_warning,
            last_weight_kg=last_kg,
            override_needed=override_needed,
        ),
    )


@own_visit("GET", "POST")
def discharge(request, briefing):
    return _simple_step(
        request,
        briefing,
        "discharge",
        DischargeForm,
        lambda visit, data: services.discharge_record(
            visit=visit,
            nurse=request.user,
            baseline_mental_status=data["baseline_mental_status"],
            vitals_near_baseline=data["vitals_near_baseline"],
            adult_present=data["adult_present"],
            instructions_given=data["instructions_given"],
            note=data["note"],
            form_token=data["form_token"],
        ),
        _("Discharge checklist complete."),
    )


@own_visit("GET", "POST")
def sign(request, briefing):
    visit = briefing.visit
    form = SignForm(request.POST if request.method == "POST" else None)
    missing = []
    chart_view = selectors.chart_view(visit=visit)
    if chart_view.chart is not None and not chart_view.chart.is_locked:
        missing = services.chart_missing(chart_view.chart, chart_view)
    if request.method == "POST" and form.is_valid():
        try:
            services.chart_sign(
                visit=visit,
                nurse=request.user,
                signature_name=form.cleaned_data["signature_name"],
                confirm=form.cleaned_data["confirm"],
            )
        except services.ChartIncomplete as error:
            missing = error.extra.get("missing", [])
            form.add_error(None, error.message)
        except ApplicationError as error:
            _apply_error(form, error)
        else:
            return _done(request, visit, "sign", _("Chart signed. The visit is complete."))
    return render(
        request,
        "nurses/sign.html",
        _context(request, briefing, "sign", form, missing=missing, full_name=request.user.get_full_name()),
    )


@own_visit("GET", "POST")
def no_show(request, briefing):
    return _simple_step(
        request,
        briefing,
        "no_show",
        ReasonForm,
        lambda visit, data: services.visit_no_show(visit=visit, nurse=request.user, reason=data["reason"]),
        _("Recorded as a no-show."),
        # The service's own rule: the form is not offered when it would be refused.
        refusal=services.no_show_refusal(visit=briefing.visit),
    )


@own_visit("GET", "POST")
def stop(request, briefing):
    return _simple_step(
        request,
        briefing,
        "stop",
        ReasonForm,
        lambda visit, data: services.visit_stop(visit=visit, nurse=request.user, reason=data["reason"]),
        _("Visit stopped. Complete the discharge checklist, then sign the chart."),
    )


@own_visit("GET", "POST")
def amend(request, briefing):
    return _simple_step(
        request,
        briefing,
        "amend",
        AmendForm,
        lambda visit, data: services.chart_amend(
            visit=visit,
            nurse=request.user,
            section=data["section"],
            text=data["text"],
            reason=data["reason"],
            form_token=data["form_token"],
        ),
        _("Amendment added. The original chart is unchanged."),
    )


@own_visit("GET", "POST")
def override(request, briefing):
    """A clinician's override of a protocol stop (a baseline at the hard-stop pressure), from their call."""
    return _simple_step(
        request,
        briefing,
        "override",
        OverrideForm,
        lambda visit, data: services.protocol_override_record(
            visit=visit,
            nurse=request.user,
            clinician=data["clinician"],
            reason=data["reason"],
            form_token=data["form_token"],
        ),
        _("Override recorded. You may start the infusion."),
    )


def landing(request):
    """A nurse with a roster profile lands on today's visits (`/me/`); one without, on the account page."""
    if provider_for_nurse(user=request.user) is None:
        return None
    return redirect("nurses:today")
