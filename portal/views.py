"""The care-team portal pages: a patient's secure messages and follow-up check-ins, and the staff inbox.

Patients reach only their own threads and visits (another id is 404). The staff inbox is for
schedulers and clinicians; which threads each may open is decided in messaging_selectors (a
health thread is 404 to a scheduler). Every view checks who may do it, validates a form, calls
one service and redirects or renders.
"""

import functools
import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from booking.selectors import infusion_starts_for, visit_get_for_patient
from concierge import two_factor
from concierge.errors import ApplicationError
from concierge.patient_state import patient_page_kept
from concierge.ratelimit import rate_limit
from patients import selectors as patient_selectors
from patients.forms import ScreeningForm, screening_steps, screening_token, step_number
from patients.instruments import INSTRUMENTS
from patients.journey import journey_for
from patients.views import add_service_errors, patient_required, patient_zone

from . import charts, checkins, live, messaging
from . import messaging_selectors as selectors
from .forms import CheckInForm, ReplyForm, ThreadStartForm, TopicForm, new_form_token
from .models import CheckInFlag, ThreadTopic
from .working_hours import describe as describe_working_hours
from .working_hours import working_hours

logger = logging.getLogger(__name__)


# --- the dashboard and the account page -------------------------------------------------------


@patient_required
def account(request):
    """The shared account page (password, two-step login) for patients, whose /me/ is the dashboard."""
    context = {"is_nurse": False, "two_factor_enabled": two_factor.two_factor_enabled(request.user)}
    context["two_factor_required"] = False
    return render(request, "account.html", context)


def _dashboard_sections():
    """The other apps' dashboard templates (settings.PATIENT_DASHBOARD_SECTIONS) that exist.

    A section whose template is missing is left out and logged, so that one app's mistake never
    takes a patient's dashboard down.
    """
    found = []
    for name in settings.PATIENT_DASHBOARD_SECTIONS:
        try:
            found.append(get_template(name))
        except TemplateDoesNotExist:
            logger.error("patient dashboard: section template %s is missing", name)
    return found


@patient_required
@patient_page_kept
def dashboard(request):
    profile = request.patient_profile
    record = patient_selectors.PatientRecord(request.user, profile=profile)  # each row read once
    journey = journey_for(patient=request.user, record=record)
    zone = patient_zone(profile)
    infusions = infusion_starts_for(patient=request.user)
    context = {
        "profile": profile,
        "journey": journey,
        "score_charts": [
            charts.chart_html(chart) for chart in charts.score_charts(record.screenings, zone, infusions=infusions)
        ],
        "clearance": record.clearance_active(),
        "dashboard_sections": _dashboard_sections(),
        "zone_name": timezone.localtime(timezone.now(), zone).tzname(),
    }
    return render(request, "portal/dashboard.html", context)


# --- the patient's messages -----------------------------------------------------------------------


def _own_thread(request, pk):
    thread = selectors.thread_get_for_patient(patient=request.user, pk=pk)
    if thread is None:
        raise Http404
    return thread


def _sent(request, message):
    """Where a patient goes after sending: the crisis panel at once when the words suggest danger."""
    if message.danger_words:
        return redirect("portal:thread_support", pk=message.thread_id)
    messages.success(request, _("Your message is sent. We will let you know when the care team answers."))
    return redirect("portal:thread", pk=message.thread_id)


@patient_required
def thread_list(request):
    threads = list(selectors.thread_list_for_patient(patient=request.user))
    return render(request, "portal/messages/list.html", {"threads": threads})


@patient_required
@require_http_methods(["GET", "POST"])
@rate_limit("messages", per_hour=60)
def thread_new(request):
    if request.method == "POST":
        form = ThreadStartForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                message = messaging.thread_start(
                    patient=request.user,
                    topic=data["topic"],
                    subject=data["subject"],
                    body=data["body"],
                    form_token=data["token"],
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                return _sent(request, message)
    else:
        form = ThreadStartForm(initial={"token": new_form_token(), "topic": request.GET.get("topic") or None})
    return render(request, "portal/messages/new.html", {"form": form})


@patient_required
@require_http_methods(["GET", "POST"])
@rate_limit("messages", per_hour=60)
def thread_detail(request, pk):
    thread = _own_thread(request, pk)
    if request.method == "POST":
        form = ReplyForm(request.POST)
        if form.is_valid():
            try:
                message = messaging.thread_message_post(
                    thread=thread,
                    author=request.user,
                    body=form.cleaned_data["body"],
                    form_token=form.cleaned_data["token"],
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                return _sent(request, message)
    else:
        form = ReplyForm(initial={"token": new_form_token()})
        messaging.thread_mark_read(thread=thread, user=request.user)
    context = {
        "thread": thread,
        "thread_messages": list(selectors.message_list_for_thread(thread=thread)),
        "form": form,
    }
    return render(request, "portal/messages/thread.html", context)


@patient_required
def thread_support(request, pk):
    """Right after a message whose words suggest danger: 988 and 911 first, then the way back."""
    thread = _own_thread(request, pk)
    if not thread.urgent:
        return redirect("portal:thread", pk=thread.pk)
    return render(
        request,
        "portal/messages/support.html",
        {"thread": thread, "continue_url": reverse("portal:thread", args=[thread.pk])},
    )


# --- follow-up check-ins --------------------------------------------------------------------------


def _own_visit(request, visit_id):
    visit = checkins.checkin_visit_get(patient=request.user, pk=visit_id)
    if visit is None:
        raise Http404
    return visit


def _screening_forms(due, data=None):
    bundles = []
    for code in due:
        definition = INSTRUMENTS[code]
        form = ScreeningForm(data, definition=definition, prefix=code, initial={"token": screening_token(code)})
        bundles.append({"definition": definition, "form": form, "fresh_token": None})
    return bundles


CHECKIN_FIELDS = ("feeling", "side_effects", "side_effect_severity", "other_side_effect")


def _checkin_steps(due) -> list[tuple[str | None, list[str]]]:
    """The check-in's screens: how you feel first, then each questionnaire due a few items a screen.
    Each screen is (instrument code or None, the html names of its fields)."""
    steps: list[tuple[str | None, list[str]]] = [(None, list(CHECKIN_FIELDS))]
    for code in due:
        steps += [(code, [f"{code}-{name}" for name in names]) for names in screening_steps(INSTRUMENTS[code])]
    return steps


def _checkin_draft_initial(draft, due):
    """Unbound forms showing the answers kept in the session (no error shown before a post)."""

    def value(name, many=False):
        values = draft.get(name) or []
        return values if many else (values[0] if values else None)

    form = CheckInForm(
        initial={name: value(name, many=name == "side_effects") for name in CHECKIN_FIELDS if name in draft}
    )
    bundles = []
    for code in due:
        definition = INSTRUMENTS[code]
        names = [n.split("-", 1)[1] for n in draft if n.startswith(f"{code}-")]
        initial = {name: value(f"{code}-{name}") for name in names}
        bundles.append(
            {
                "definition": definition,
                "form": ScreeningForm(definition=definition, prefix=code, initial=initial),
                "fresh_token": None,
            }
        )
    return form, bundles


@patient_required
@require_http_methods(["GET", "POST"])
def checkin(request, visit_id):
    """The check-in a few questions a screen with progress: how you feel, then each questionnaire due.
    Answers wait in the session between screens and through a failed send (which returns to the first
    screen with a gap). A post without a step (everything at once) is taken whole."""
    visit = _own_visit(request, visit_id)
    if checkins.checkin_get(visit=visit) is not None:
        return redirect("portal:checkin_done", visit_id=visit.pk)
    problem = checkins.checkin_problem(visit=visit)
    if problem:
        return render(request, "portal/checkin/closed.html", {"visit": visit, "problem": problem})
    due = checkins.due_instruments(patient=request.user)
    steps = _checkin_steps(due)
    key = f"checkin-draft:{visit.pk}"
    draft = request.session.get(key) or {}
    step = None  # a post of everything at once has no step
    if request.method == "GET":
        for code in due:
            draft.setdefault(f"{code}-token", [screening_token(code)])
        request.session[key] = draft
        step = step_number(request.GET.get("step"), steps)
        form, bundles = _checkin_draft_initial(draft, due)
        return _checkin_page(request, visit, form, bundles, steps, step)
    if "step" in request.POST:
        step = step_number(request.POST.get("step"), steps)
        draft = {**draft, **{name: request.POST.getlist(name) for name in steps[step][1]}}
        request.session[key] = draft
        go = request.POST.get("go", "next")
        if go == "back":
            return redirect(f"{request.path}?step={max(step - 1, 0)}")
        data = MultiValueDict(draft)
        form = CheckInForm(data)
        bundles = _screening_forms(due, data)
        if go == "next" and step < len(steps) - 1:
            if not _step_errors(steps[step], form, bundles):
                return redirect(f"{request.path}?step={step + 1}")
            return _checkin_page(request, visit, form, bundles, steps, step)
    else:
        form = CheckInForm(request.POST)
        bundles = _screening_forms(due, request.POST)
    # Every form is checked (no short cut), so each shows its own errors.
    checks = [form.is_valid()] + [b["form"].is_valid() for b in bundles]
    for bundle in bundles:
        if "token" in bundle["form"].errors:
            bundle["fresh_token"] = screening_token(bundle["definition"].code)
            if step is not None:
                draft[f"{bundle['definition'].code}-token"] = [bundle["fresh_token"]]
                request.session[key] = draft
    if all(checks):
        data = form.cleaned_data
        try:
            done = checkins.checkin_submit(
                patient=request.user,
                visit=visit,
                feeling=data["feeling"],
                side_effects=data["side_effects"],
                side_effect_severity=data["side_effect_severity"],
                other_side_effect=data["other_side_effect"],
                screenings={
                    b["definition"].code: checkins.ScreeningAnswers(
                        item_answers=b["form"].item_answers(),
                        form_token=b["form"].form_token(),
                        difficulty=b["form"].cleaned_data.get("difficulty"),
                        started_at=b["form"].started_at(),
                    )
                    for b in bundles
                },
            )
        except ValidationError as error:
            add_service_errors(form, error)
        except ApplicationError as error:
            messages.error(request, error.message)
            return redirect("portal:dashboard")
        else:
            request.session.pop(key, None)
            if {CheckInFlag.PHQ9_ITEM9, CheckInFlag.DANGER_WORDS} & set(done.flags):
                return redirect("portal:checkin_support", visit_id=visit.pk)
            return redirect("portal:checkin_done", visit_id=visit.pk)
    if step is not None:  # the first screen with something missing, its answers and the others kept
        step = next((i for i, s in enumerate(steps) if _step_errors(s, form, bundles)), step)
    return _checkin_page(request, visit, form, bundles, steps, step)


def _field_names(step):
    code, names = step
    return [name.removeprefix(f"{code}-") for name in names] if code else list(names)


def _step_errors(step, form, bundles):
    code = step[0]
    shown = form if code is None else next(b["form"] for b in bundles if b["definition"].code == code)
    return any(name in shown.errors for name in _field_names(step))


def _checkin_page(request, visit, form, bundles, steps, step):
    code = steps[step][0] if step is not None else None
    shown = set(_field_names(steps[step])) if step is not None else None
    for bundle in bundles:
        mine = step is None or bundle["definition"].code == code
        bundle["show"] = mine
        bundle["item_fields"] = [
            (number, field)
            for number, field in enumerate(bundle["form"].item_fields(), start=1)
            if mine and (shown is None or field.name in shown)
        ]
        bundle["show_difficulty"] = (
            mine and "difficulty" in bundle["form"].fields and (shown is None or "difficulty" in shown)
        )
    if step is None:
        has_errors = bool(form.errors) or any(b["form"].errors for b in bundles)
    else:
        has_errors = form.is_bound and _step_errors(steps[step], form, bundles)
    titles = {b["definition"].code: b["definition"].title for b in bundles}
    context = {
        "visit": visit,
        "form": form,
        "screenings": bundles,
        "screenings_have_errors": any(b["form"].errors for b in bundles) if step is None else False,
        "step_has_errors": has_errors,
        "step": step,
        "steps": len(steps),
        "show_feelings": step is None or code is None,
        "step_title": titles.get(code) if code else _("How you feel"),
        "questionnaires": list(titles.values()),
        "last_step": step is None or step == len(steps) - 1,
    }
    return render(request, "portal/checkin/form.html", context)


@patient_required
def checkin_done(request, visit_id):
    visit = _own_visit(request, visit_id)
    done = checkins.checkin_get(visit=visit)
    if done is None:
        return redirect("portal:checkin", visit_id=visit.pk)
    context = {
        "visit": visit,
        "checkin": done,
        "next_infusion_waits": checkins.holds_next_infusion(done),
    }
    return render(request, "portal/checkin/done.html", context)


@patient_required
def checkin_support(request, visit_id):
    visit = _own_visit(request, visit_id)
    done = checkins.checkin_get(visit=visit)
    if done is None or not ({CheckInFlag.PHQ9_ITEM9, CheckInFlag.DANGER_WORDS} & set(done.flags)):
        return redirect("portal:checkin", visit_id=visit.pk)
    return render(
        request,
        "portal/checkin/support.html",
        {
            "visit": visit,
            "checkin": done,
            "from_questionnaire": CheckInFlag.PHQ9_ITEM9 in done.flags,
            "continue_url": reverse("portal:checkin_done", args=[visit.pk]),
        },
    )


# --- the staff inbox ------------------------------------------------------------------------------


def care_team_required(view):
    """Schedulers and clinicians (two-step login is enforced by the middleware for both)."""

    @functools.wraps(view)
    @login_required
    def wrapped(request, *args, **kwargs):
        if not selectors.may_use_inbox(request.user):
            raise PermissionDenied
        # Times on these pages are the care team's (the zone its working hours are counted in).
        with timezone.override(working_hours().zone):
            return view(request, *args, **kwargs)

    return wrapped


@care_team_required
def staff_inbox(request):
    context = selectors.inbox_for(user=request.user)
    context["reply_within"] = selectors.reply_due_within().total_seconds() / 3600
    context["can_health"] = selectors.may_answer_health(request.user)
    context["working_hours"] = describe_working_hours()
    return render(request, "portal/messages/staff_inbox.html", context)


def _care_team_thread(request, pk):
    thread = selectors.thread_get_for_care_team(user=request.user, pk=pk)
    if thread is None:
        raise Http404
    return thread


@care_team_required
@require_http_methods(["GET", "POST"])
def staff_thread(request, pk):
    thread = _care_team_thread(request, pk)
    if request.method == "POST":
        form = ReplyForm(request.POST)
        if form.is_valid():
            try:
                messaging.thread_message_post(
                    thread=thread,
                    author=request.user,
                    body=form.cleaned_data["body"],
                    form_token=form.cleaned_data["token"],
                )
            except ValidationError as error:
                add_service_errors(form, error)
            except ApplicationError as error:
                messages.error(request, error.message)
                return redirect("portal:staff_inbox")
            else:
                messages.success(request, _("Your answer is sent. The patient is told there is a new message."))
                return redirect("portal:staff_thread", pk=thread.pk)
    else:
        form = ReplyForm(initial={"token": new_form_token()})
        messaging.thread_mark_read(thread=thread, user=request.user)
    context = {
        "thread": thread,
        "thread_messages": list(selectors.message_list_for_thread(thread=thread)),
        "form": form,
        "topic_form": TopicForm(initial={"topic": thread.topic}),
        "waited_hours": selectors.waited_working_hours(thread),
        "hand_over_to": _hand_over_target(thread),
        "alerts": list(thread.patient.safety_alerts.filter(message__thread=thread).order_by("-created_at"))
        if selectors.may_answer_health(request.user)
        else [],
        "now": timezone.now(),
    }
    return render(request, "portal/messages/staff_thread.html", context)


def _hand_over_target(thread):
    """Logistics threads can go to the clinicians; a health thread back to the schedulers unless urgent."""
    if thread.topic == ThreadTopic.LOGISTICS:
        return ThreadTopic.HEALTH
    return None if thread.urgent else ThreadTopic.LOGISTICS


@care_team_required
@require_POST
def staff_thread_topic(request, pk):
    thread = _care_team_thread(request, pk)
    form = TopicForm(request.POST)
    if form.is_valid():
        try:
            thread = messaging.thread_topic_set(thread=thread, topic=form.cleaned_data["topic"], actor=request.user)
        except (ApplicationError, ValidationError) as error:
            messages.error(request, getattr(error, "message", None) or "; ".join(error.messages))
            return redirect("portal:staff_thread", pk=thread.pk)
        if thread.topic == ThreadTopic.HEALTH:
            messages.success(request, _("Handed to the clinicians: a clinician will answer it."))
        else:
            messages.success(request, _("Handed to the schedulers: they will answer it."))
        if not selectors.may_answer(request.user, thread):
            return redirect("portal:staff_inbox")
    return redirect("portal:staff_thread", pk=thread.pk)


@patient_required
@require_GET
def visit_live(request, visit_id):
    """The live status alone, for the visit page's polling (htmx swaps it in place)."""
    visit = visit_get_for_patient(patient=request.user, pk=visit_id)
    if visit is None:
        raise Http404
    return render(request, "portal/_visit_live_body.html", live.live_context(visit))
