"""Admin pages that span apps: the queues and the reports. Hooked into the admin site by `site.py`
(so they sit under /admin/, behind admin's login, two-step login and idle timeout)."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from . import queues, reports
from .forms import ReportRangeForm


def _context(request, title, **extra):
    return {**admin.site.each_context(request), "title": title, **extra}


def queues_view(request):
    """Everything waiting for someone, the queues this person may see (each with its count)."""
    items = queues.queues_for(request.user)
    return TemplateResponse(
        request,
        "admin/staff/queues.html",
        _context(request, _("Needs attention"), queues=items, total=sum(q.count for q in items)),
    )


def may_see_reports(user):
    return user.is_active and user.is_staff and user.has_perm("concierge.view_reports")


def _range(request):
    form = ReportRangeForm(request.GET or None, initial=ReportRangeForm.default_range())
    if request.GET and form.is_valid():
        return form, form.cleaned_data["first_day"], form.cleaned_data["last_day"]
    if request.GET:
        return form, None, None
    default = ReportRangeForm.default_range()
    return ReportRangeForm(initial=default), default["first_day"], default["last_day"]


def reports_index(request):
    if not may_see_reports(request.user):
        raise PermissionDenied
    form, first_day, last_day = _range(request)
    links = []
    if first_day is not None:
        query = f"?first_day={first_day.isoformat()}&last_day={last_day.isoformat()}"
        links = [
            (title, reverse("admin:staff_report", args=[slug]) + query) for slug, title in reports.REPORT_TITLES.items()
        ]
    return TemplateResponse(
        request, "admin/staff/reports.html", _context(request, _("Reports"), form=form, links=links)
    )


def _cells(report, row):
    return [(reports.display_value(v, c.kind), c.kind) for v, c in zip(row, report.columns, strict=True)]


def report_view(request, slug):
    if not may_see_reports(request.user):
        raise PermissionDenied
    if slug not in reports.REPORTS:
        raise Http404
    form, first_day, last_day = _range(request)
    report = None
    if first_day is not None:
        report = reports.report_build(slug=slug, first_day=first_day, last_day=last_day)
        if request.GET.get("export") == "csv":
            response = HttpResponse(report.csv(), content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = (
                f'attachment; filename="conciergemd-{slug}-{first_day.isoformat()}-{last_day.isoformat()}.csv"'
            )
            return response
    title = reports.REPORT_TITLES[slug]
    rows, totals = [], None
    if report is not None:
        rows = [_cells(report, row) for row in report.rows]
        totals = _cells(report, report.totals) if report.totals else None
    csv_url = ""
    if first_day is not None:
        csv_url = f"?first_day={first_day.isoformat()}&last_day={last_day.isoformat()}&export=csv"
    return TemplateResponse(
        request,
        "admin/staff/report.html",
        _context(
            request,
            title,
            form=form,
            report=report,
            rows=rows,
            totals=totals,
            csv_url=csv_url,
            slug=slug,
            first_day=first_day,
            last_day=last_day,
        ),
    )
