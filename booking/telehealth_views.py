"""Video evaluations: the join link (patient and clinician) and the clinicians' list of evaluations.

The video room's address is handed out only by the join views, and only while the server says the
visit can be joined (booking/telehealth.py). The patient reaches only their own visits, a
clinician only the evaluations assigned to them; any other id is 404.
"""

import functools
from datetime import timedelta
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from concierge.errors import ApplicationError
from concierge.models import Role

from . import telehealth
from .templatetags.booking_tags import visit_time
from .views.common import own_visit, patient_required


class VideoLinkForm(forms.Form):
    url = forms.URLField(
        label=gettext_lazy("Video room address"),
        max_length=500,
        assume_scheme="https",
        help_text=gettext_lazy("The full https:// address from the video service."),
    )


def _redirect_to_room(url):
    # An outside address by design (the video service); the server just decided it may be joined.
    response = HttpResponseRedirect(url)
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response


@patient_required
@never_cache
def visit_join(request, pk):
    """The patient's "Join video visit": to the room while it is open, else back to the visit page."""
    visit = own_visit(request, pk)
    try:
        url = telehealth.join_url_for(visit=visit, user=request.user)
    except ApplicationError:
        state = telehealth.join_state(visit=visit)
        if state.status == "early":
            messages.info(
                request,
                _("The video visit opens at %(time)s, %(minutes)s minutes before it starts.")
                % {
                    "time": visit_time(state.opens_at, visit.time_zone),
                    "minutes": settings.TELEHEALTH_JOIN_OPENS_MINUTES,
                },
            )
        else:
            messages.info(request, _("This video visit cannot be joined now. Please call us if you need help."))
        return redirect("booking:visit", pk=visit.pk)
    return _redirect_to_room(url)


# --- the clinicians' side ------------------------------------------------------------------------


def evaluations_required(view):
    @functools.wraps(view)
    @login_required
    def wrapped(request, *args, **kwargs):
        if not telehealth.may_use_evaluations_page(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def _evaluation(request, pk):
    visit = telehealth.evaluation_get_for(user=request.user, pk=pk)
    if visit is None:
        raise Http404
    return visit


def decision_url(visit):
    """The clinician's review screen (patients admin) for this patient, recording against this visit."""
    query = urlencode({"patient": visit.patient_id, "evaluation": visit.pk})
    return reverse("admin:patients_clearance_add") + "?" + query


def _link_form(visit, data=None):
    form = VideoLinkForm(data, prefix=f"v{visit.pk}")
    form.visit_id = visit.pk
    return form


def _evaluations_page(request, bound=None, status=200):
    start = timezone.now() - timedelta(hours=12)
    visits = list(telehealth.evaluation_list_for(user=request.user, day_from=start))
    rows = [
        {
            "visit": visit,
            "join": telehealth.join_state(visit=visit),
            "decisions": list(visit.clearances.all()),
            "decision_url": decision_url(visit),
            # A link typed with a mistake comes back beside its field, as typed.
            "link_form": bound if bound is not None and bound.visit_id == visit.pk else _link_form(visit),
        }
        for visit in visits
    ]
    context = {"rows": rows, "is_clinician": request.user.has_role(Role.CLINICIAN)}
    return render(request, "booking/telehealth/evaluations.html", context, status=status)


@evaluations_required
def evaluations(request):
    """Today's and the coming week's video evaluations, with the join button and the decision link."""
    return _evaluations_page(request)


@evaluations_required
@never_cache
def evaluation_join(request, pk):
    visit = _evaluation(request, pk)
    try:
        url = telehealth.join_url_for(visit=visit, user=request.user)
    except ApplicationError as error:
        messages.info(request, error.message)
        return redirect("booking:staff_evaluations")
    return _redirect_to_room(url)


@evaluations_required
@require_POST
def evaluation_link(request, pk):
    visit = _evaluation(request, pk)
    form = _link_form(visit, request.POST)
    if form.is_valid():
        try:
            telehealth.video_link_set(visit=visit, url=form.cleaned_data["url"], actor=request.user)
        except ValidationError as error:
            form.add_error("url", error.message_dict.get("url", error.messages))
        except ApplicationError as error:
            messages.error(request, error.message)
            return redirect("booking:staff_evaluations")
        else:
            messages.success(request, _("The video link is saved."))
            return redirect("booking:staff_evaluations")
    return _evaluations_page(request, bound=form, status=400)
