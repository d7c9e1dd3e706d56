"""The patient portal: sign-up, profile, intake, questionnaires, the crisis page and the dashboard.

Every view checks who may do it, validates a form, calls one service and redirects or renders.
Records are always looked up through the logged-in patient, so another patient's id finds nothing
(404).
"""

import functools
import logging
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import get_language_from_request
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from concierge.errors import ApplicationError, InvalidState
from concierge.models import Role
from concierge.ratelimit import rate_limit

from . import intake, journey, selectors, services
from .consent import consent_blocks
from .forms import (
    ConsentForm,
    IntakeSectionForm,
    ProfileForm,
    ScreeningForm,
    SignUpConfirmForm,
    SignUpForm,
    screening_steps,
    screening_token,
    step_number,
)
from .instruments import INSTRUMENT_ORDER, INSTRUMENTS, band_label
from .models import Instrument, TriageOutcome, WeightUnit
from .services import weight_for_display
from .triage import patient_message

logger = logging.getLogger(__name__)


def patient_required(view):
    """Logged in, as a patient. Everyone else gets the friendly 403 page."""

    @functools.wraps(view)
    @login_required
    def wrapped(request, *args, **kwargs):
        if not request.user.has_role(Role.PATIENT):
            raise PermissionDenied
        # Dates and times on these pages are shown in the patient's own (visit) time zone.
        request.patient_profile = selectors.profile_get(patient=request.user)
        with timezone.override(patient_zone(request.patient_profile)):
            return view(request, *args, **kwargs)

    return wrapped


def patient_zone(profile):
    try:
        return ZoneInfo(profile.time_zone) if profile and profile.time_zone else ZoneInfo(settings.TIME_ZONE)
    except (KeyError, ValueError):
        return ZoneInfo(settings.TIME_ZONE)


def add_service_errors(form, error, field_map=None):
    """A ValidationError from a service, shown beside the matching fields of the form."""
    field_map = field_map or {}
    if hasattr(error, "error_dict"):
        for field, messages_ in error.message_dict.items():
            name = field_map.get(field, field)
            form.add_error(name if name in form.fields else None, messages_)
    else:
        form.add_error(None, error.messages)


# --- sign-up and profile ------------------------------------------------------------------------


def terms(request):
    return render(request, "patients/terms.html")


@require_http_methods(["GET", "POST"])
@rate_limit("signup", per_hour=20)
def signup(request):
    if request.user.is_authenticated:
        return redirect("home-for-user")
    # The first guess at their language: the header switch's choice, else the browser's Accept-Language.
    form = SignUpForm(request.POST or None, initial={"language": get_language_from_request(request)})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.patient_sign_up(
                email=data["email"],
                password=data["password1"],
                date_of_birth=data["date_of_birth"],
                accepts_terms=data["accept_terms"],
                sms_opt_in=data["sms_opt_in"],
                language=data["language"] or get_language_from_request(request),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            # The same page for a new address and for one with an account (the email differs).
            return redirect("patients:signup_sent")
    return render(request, "patients/signup.html", {"form": form})


def signup_sent(request):
    return render(request, "patients/signup_sent.html", {"hours": settings.SIGNUP_LINK_HOURS})


@require_http_methods(["GET", "POST"])
@rate_limit("signup-confirm", per_hour=20)
def signup_confirm(request, token):
    """The link from the sign-up email: the password again, then the account."""
    if request.user.is_authenticated:
        return redirect("home-for-user")
    if services.sign_up_request_for(token) is None:
        return render(request, "patients/signup_confirm.html", {"expired": True})
    form = SignUpConfirmForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.patient_sign_up_confirm(token=token, password=form.cleaned_data["password"])
        except ValidationError as error:
            add_service_errors(form, error)
        except ApplicationError as error:
            messages.error(request, error.message)
            return redirect("login")
        else:
            login(request, user, backend="concierge.backends.EmailLoginBackend")
            messages.success(request, _("Welcome! Your account is ready. Next, tell us where to find you."))
            return redirect("patients:profile")
    return render(request, "patients/signup_confirm.html", {"form": form})


@patient_required
@require_http_methods(["GET", "POST"])
def profile(request):
    profile = request.patient_profile
    if request.method == "POST":
        form = ProfileForm(request.POST)
        if form.is_valid():
            try:
                services.profile_update(patient=request.user, **form.profile_fields())
            except ValidationError as error:
                add_service_errors(form, error, {"weight_kg": "weight"})
            else:
                messages.success(request, _("Your details are saved."))
                return redirect("portal:dashboard")
    else:
        initial = {}
        if profile is not None:
            initial = {name: getattr(profile, name) for name in services.PROFILE_FIELDS if name != "weight_kg"}
            initial["weight_unit"] = profile.weight_unit or WeightUnit.POUNDS
            initial["weight"] = weight_for_display(profile.weight_kg, initial["weight_unit"])
            for name in ("mobile_phone", "emergency_contact_phone", "support_person_phone"):
                if initial.get(name):
                    initial[name] = initial[name].as_national  # (212) 555-0143, as people write it
            initial = {k: v for k, v in initial.items() if v not in (None, "")}
        initial["language"] = request.user.language
        form = ProfileForm(initial=initial)
    return render(request, "patients/profile.html", {"form": form, "profile": profile})


# --- the dashboard ------------------------------------------------------------------------------


# --- the medical intake ---------------------------------------------------------------------------


def _section_position(section):
    slugs = [s.slug for s in intake.SECTIONS]
    return slugs.index(section.slug)


@patient_required
def intake_start(request):
    """Where "Health questions" leads: the draft where it was left, or the last version sent."""
    draft = selectors.intake_draft_get(patient=request.user)
    latest = selectors.intake_latest_sent(patient=request.user)
    if draft is not None:
        incomplete = intake.first_incomplete_section(draft.answers)
        if incomplete is None:
            return redirect("patients:intake_review")
        return redirect("patients:intake_section", slug=incomplete.slug)
    if latest is None:
        return redirect("patients:intake_section", slug=intake.SECTIONS[0].slug)
    return render(request, "patients/intake_summary.html", _version_context(latest))


@patient_required
@require_POST
def intake_update(request):
    services.intake_draft_start(patient=request.user)
    messages.info(request, _("Change any answer, then send your answers again. Your earlier answers are kept."))
    return redirect("patients:intake_section", slug=intake.SECTIONS[0].slug)


@patient_required
@require_POST
def intake_discard(request):
    services.intake_draft_discard(patient=request.user)
    messages.info(request, _("Your unsent changes were discarded."))
    return redirect("portal:dashboard")


@patient_required
@require_http_methods(["GET", "POST"])
def intake_section(request, slug):
    section = intake.SECTIONS_BY_SLUG.get(slug)
    if section is None:
        raise Http404
    draft = selectors.intake_draft_get(patient=request.user)
    source = draft or selectors.intake_latest_sent(patient=request.user)
    answers = source.answers if source else {}
    position = _section_position(section)

    if request.method == "POST":
        later = request.POST.get("action") == "later"
        form = IntakeSectionForm(request.POST, section=section, draft=later, answers=answers)
        if form.is_valid():
            services.intake_draft_save(patient=request.user, answers=form.answers())
            if later:
                messages.success(request, _("Your answers are saved. Come back to finish them any time."))
                return redirect("portal:dashboard")
            if position + 1 < len(intake.SECTIONS):
                return redirect("patients:intake_section", slug=intake.SECTIONS[position + 1].slug)
            return redirect("patients:intake_review")
    else:
        form = IntakeSectionForm(section=section, answers=answers)
    context = {
        "form": form,
        "section": section,
        "step": position + 1,
        "steps": len(intake.SECTIONS),
        "previous": intake.SECTIONS[position - 1] if position else None,
        "is_revision": draft is not None and selectors.intake_latest_sent(patient=request.user) is not None,
    }
    return render(request, "patients/intake_section.html", context)


@patient_required
@require_http_methods(["GET", "POST"])
def intake_review(request):
    draft = selectors.intake_draft_get(patient=request.user)
    if request.method == "POST":
        try:
            sent = services.intake_submit(patient=request.user)
        except services.IntakeIncomplete as error:
            messages.error(request, error.message)
            slug = error.extra.get("section")
            return redirect("patients:intake_section", slug=slug) if slug else redirect("patients:intake")
        messages.success(request, _("Thank you. Your answers are sent to your care team."))
        return redirect("patients:intake_version", pk=sent.pk)
    if draft is None:
        return redirect("patients:intake")
    missing = {key for section in intake.SECTIONS for key in intake.section_missing(section, draft.answers)}
    context = {
        "draft": draft,
        "sections": intake.answers_for_display(intake.clean_answers(draft.answers)),
        "missing": missing,
        "is_revision": selectors.intake_latest_sent(patient=request.user) is not None,
    }
    return render(request, "patients/intake_review.html", context)


def _version_context(version):
    triage = getattr(version, "triage", None)
    # What the rules said before a clinician looked; once a clinician has decided on these answers,
    # that decision is what stands (the dashboard says what it allows).
    decision = selectors.clearance_latest_for(patient=version.patient)
    reviewed_on = decision.decided_at if decision and decision.decided_at >= version.submitted_at else None
    # Words in these answers that suggest danger: the crisis panel first, and no "nothing stops
    # you booking" beside it while a clinician has not spoken with them.
    safety_alert_open = selectors.intake_alert_open(intake_id=version.pk)
    return {
        "version": version,
        "sections": intake.answers_for_display(version.answers, version.questionnaire_version),
        "safety_alert_open": safety_alert_open,
        "triage_message": patient_message(triage.outcome, triage.fired_rules)
        if triage and not reviewed_on and not safety_alert_open
        else "",
        "reviewed_on": reviewed_on,
        "not_eligible": bool(triage and triage.outcome == TriageOutcome.NOT_ELIGIBLE and not reviewed_on),
        "has_draft": False,
    }


@patient_required
def intake_versions(request):
    versions = selectors.intake_list_for_patient(patient=request.user)
    return render(request, "patients/intake_versions.html", {"versions": versions})


@patient_required
def intake_version(request, pk):
    version = selectors.intake_get_for_patient(patient=request.user, pk=pk)
    if version is None:
        raise Http404
    context = _version_context(version)
    latest = selectors.intake_latest_sent(patient=request.user)
    context["is_latest"] = latest is not None and latest.pk == version.pk
    context["has_draft"] = selectors.intake_draft_get(patient=request.user) is not None
    context["journey"] = journey.journey_for(patient=request.user)
    return render(request, "patients/intake_version.html", context)


# --- symptom questionnaires -----------------------------------------------------------------------


@patient_required
def screenings(request):
    responses = list(selectors.screening_list_for_patient(patient=request.user))
    latest = {}
    for response in responses:
        latest[response.instrument] = response
    rows = [
        {
            "definition": INSTRUMENTS[code],
            "latest": latest.get(code),
            "band": band_label(code, latest[code].band) if code in latest else "",
        }
        for code in INSTRUMENT_ORDER
    ]
    return render(request, "patients/screenings.html", {"rows": rows})


def _next_due(patient, after):
    """The next questionnaire in the usual order the patient has not answered in the last week."""
    journey_due = {d.code for d in journey.journey_for(patient=patient).due_instruments}
    order = list(INSTRUMENT_ORDER)
    for code in order[order.index(after) + 1 :]:
        if code in journey_due:
            return INSTRUMENTS[code]
    return None


@patient_required
@require_http_methods(["GET", "POST"])
def screening_form(request, instrument):
    """A questionnaire a few items a screen, with progress. Answers wait in the session between
    screens (and through a failed send), so a long questionnaire is never one 3,000 px page and
    nothing typed is lost. A post without a step (every item at once) is taken whole."""
    if instrument not in Instrument.values:
        raise Http404
    definition = INSTRUMENTS[instrument]
    steps = screening_steps(definition)
    key = f"screening-draft:{instrument}"
    draft = request.session.get(key) or {}
    fresh_token = None
    if request.method == "POST" and "step" not in request.POST:
        form = ScreeningForm(request.POST, definition=definition)
        step = None
    elif request.method == "POST":
        step = step_number(request.POST.get("step"), steps)
        answers = {name: request.POST[name] for name in steps[step] if request.POST.get(name, "") != ""}
        draft = {**draft, **answers, "token": request.POST.get("token") or draft.get("token", "")}
        request.session[key] = draft
        form = ScreeningForm(draft, definition=definition)
        go = request.POST.get("go", "next")
        if go == "back":
            return redirect(f"{request.path}?step={max(step - 1, 0)}")
        if go == "next" and step < len(steps) - 1:
            form.is_valid()
            if not any(name in form.errors for name in steps[step]):
                return redirect(f"{request.path}?step={step + 1}")
            return _screening_page(request, form, definition, steps, step, fresh_token)
    else:
        if "token" not in draft:
            draft = {**draft, "token": screening_token(instrument)}
            request.session[key] = draft
        step = step_number(request.GET.get("step"), steps)
        form = ScreeningForm(initial=draft, definition=definition)
        return _screening_page(request, form, definition, steps, step, fresh_token)
    if form.is_valid():
        try:
            response = services.screening_submit(
                patient=request.user,
                instrument=instrument,
                item_answers=form.item_answers(),
                difficulty=form.cleaned_data.get("difficulty"),
                form_token=form.form_token(),
                started_at=form.started_at(),
            )
        except ApplicationError as error:
            # Nothing was kept (services.screening_submit): the answers stay on the page to send again.
            form.add_error(None, error.message)
            return _screening_page(request, form, definition, steps, step, fresh_token)
        request.session.pop(key, None)
        if response.needs_safety_review:
            # The very next page is the crisis panel: never carry on silently.
            return redirect("patients:screening_support", pk=response.pk)
        return redirect("patients:screening_result", pk=response.pk)
    if "token" in form.errors:
        fresh_token = screening_token(instrument)
        if step is not None:
            request.session[key] = {**draft, "token": fresh_token}
    if step is not None:  # the first screen with something missing, its answers and the others kept
        step = next((i for i, names in enumerate(steps) if any(n in form.errors for n in names)), step)
    return _screening_page(request, form, definition, steps, step, fresh_token)


def _screening_page(request, form, definition, steps, step, fresh_token):
    shown = set(steps[step]) if step is not None else None
    shown_language = definition.shown_in(translation.get_language())
    with translation.override(shown_language):
        wording = {"title": str(definition.title), "stem": str(definition.stem)}
    context = {
        "form": form,
        "definition": definition,
        "fresh_token": fresh_token,
        "token_value": fresh_token or form["token"].value() or "",
        "step": step,
        "steps": len(steps),
        "item_fields": [
            (number, field)
            for number, field in enumerate(form.item_fields(), start=1)
            if shown is None or field.name in shown
        ],
        "show_difficulty": "difficulty" in form.fields and (shown is None or "difficulty" in shown),
        "last_step": step is None or step == len(steps) - 1,
        "percent": 100 * ((step or 0) + 1) // len(steps),
        "shown_language": shown_language,
        "english_only": shown_language != (translation.get_language() or "en").split("-")[0],
        **wording,
    }
    return render(request, "patients/screening_form.html", context)


def _own_screening(request, pk):
    response = selectors.screening_get_for_patient(patient=request.user, pk=pk)
    if response is None:
        raise Http404
    return response


@patient_required
def screening_result(request, pk):
    response = _own_screening(request, pk)
    context = {
        "response": response,
        "definition": response.definition,
        "band": band_label(response.instrument, response.band),
        "next_definition": _next_due(request.user, response.instrument),
    }
    return render(request, "patients/screening_result.html", context)


@patient_required
def screening_support(request, pk):
    response = _own_screening(request, pk)
    context = {
        "response": response,
        "continue_url": reverse("portal:dashboard"),
    }
    return render(request, "patients/crisis.html", context)


# --- informed consent (issue 15) -------------------------------------------------------------------------


def _consent_shown(document, language=None):
    """The page's text of this version (selectors.consent_text_for: the reader's language, else
    English, said so on the page), as blocks."""
    text = selectors.consent_text_for(document=document, language=language)
    if text is None:
        raise Http404
    return {
        "document": document,
        "text": text,
        "blocks": consent_blocks(text.body),
        "in_other_language": text.language != selectors.reader_language(language),
    }


def consent_text(request):
    """The current consent form, for anyone (the home page links here)."""
    document = selectors.consent_current()
    if document is None:
        raise Http404
    return render(request, "patients/consent.html", _consent_shown(document))


@patient_required
@require_http_methods(["GET", "POST"])
def consent(request):
    document = selectors.consent_current()
    if document is None:
        raise Http404
    shown = _consent_shown(document)
    signature = selectors.consent_signature_for(patient=request.user, document=document)
    form = ConsentForm(request.POST or None)
    changed = _("The consent form has changed. Please read the new version and sign it.")
    if request.method == "POST" and signature is None and not form.is_valid():
        if form.has_error("version") or form.has_error("language"):
            form.add_error(None, changed)
    elif request.method == "POST" and signature is None:
        data = form.cleaned_data
        # The text the patient read: the version and language the page was shown with (hidden
        # fields). A new version since, or a text that does not exist, is not what they read.
        read = selectors.consent_text_for(document=document, language=data["language"])
        try:
            if data["version"] != document.version or read is None or read.language != data["language"]:
                raise InvalidState(changed)
            services.consent_sign(
                patient=request.user,
                text=read,
                typed_name=data["typed_name"],
                agreed=data["agreed"],
                ip_address=request.META.get("REMOTE_ADDR"),
            )
        except ApplicationError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Thank you: your consent is signed. You can now book your infusions."))
            return redirect("booking:book")
    context = {
        **shown,
        "signature": signature,
        "form": form,
        "latest": selectors.consent_signature_latest(patient=request.user),
    }
    return render(request, "patients/consent.html", context)


@patient_required
def consent_download(request):
    """The text the patient signed last (its version, in the language they read it), with their
    signature, as a file."""
    signature = selectors.consent_signature_latest(patient=request.user)
    if signature is None:
        return redirect("patients:consent")  # nothing signed yet: the form to read and sign
    document = signature.document
    text = selectors.consent_text_for(document=document, language=signature.language)
    if text is None:
        raise Http404
    signed_at = timezone.localtime(signature.signed_at)
    lines = [
        text.title,
        _("Version %(v)s") % {"v": document.version},
        "",
        text.body.strip(),
        "",
        _("Signed by typing the name: %(name)s") % {"name": signature.typed_name},
        _("Agreed: %(answer)s") % {"answer": _("Yes") if signature.agreed else _("No")},
        _("Signed at: %(when)s") % {"when": f"{signed_at:%Y-%m-%d %H:%M %Z}"},
        _("From IP address: %(address)s") % {"address": signature.ip_address or "-"},
    ]
    content = "\n".join(lines) + "\n"
    response = HttpResponse(content, content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="consent-{document.version}.txt"'
    response["Cache-Control"] = "no-store"
    return response
