"""Coverage (public): do we come to this ZIP code, and if not, the waitlist."""

from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from concierge.ratelimit import rate_limit

from .. import selectors, services
from ..forms import CoverageForm, WaitlistForm


@require_GET
@rate_limit("coverage", per_hour=120, methods=("GET",))
def coverage(request):
    form = CoverageForm(request.GET or None)
    result = None
    waitlist = None
    if form.is_valid():
        result = selectors.coverage_for_zip(zip_code=form.cleaned_data["zip_code"])
        if not result.covered:
            waitlist = WaitlistForm(initial={"zip_code": form.cleaned_data["zip_code"]})
    return render(request, "booking/coverage.html", {"form": form, "result": result, "waitlist": waitlist})


@require_http_methods(["GET", "POST"])
@rate_limit("waitlist", per_hour=20)
def waitlist(request):
    form = WaitlistForm(request.POST or None, initial={"zip_code": request.GET.get("zip_code", "")})
    if request.method == "POST" and form.is_valid():
        services.waitlist_join(
            zip_code=form.cleaned_data["zip_code"],
            email=form.cleaned_data["email"],
            phone=form.cleaned_data["phone"].as_e164 if form.cleaned_data["phone"] else "",
        )
        return redirect("booking:waitlist_done")
    return render(request, "booking/waitlist.html", {"waitlist": form})


@require_GET
def waitlist_done(request):
    return render(request, "booking/waitlist_done.html")
