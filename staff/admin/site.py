"""Hooks the staff pages into the admin site: their URLs (under /admin/, names "admin:staff_...")
and the "needs attention" panel on the admin index."""

from django.urls import NoReverseMatch, path, reverse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy as _

from staff import queues, views


def _url(name, query=""):
    try:
        return reverse(name) + query
    except NoReverseMatch:
        return ""


def index_panel(user):
    """What the admin index shows above the apps: counts of the queues, and the day's pages."""
    links = []
    if user.has_perm("booking.view_visit"):
        links += [
            (_("Today's schedule board"), _url("admin:booking_board")),
            (_("This week"), _url("admin:booking_board_week")),
        ]
    if user.has_perm("booking.change_visit"):
        links.append((_("Book for a patient on the phone"), _url("admin:booking_visit_phone")))
    links.append((_("Everything that needs attention"), _url("admin:staff_queues")))
    if views.may_see_reports(user):
        links.append((_("Reports"), _url("admin:staff_reports")))
    if user.has_perm("auditlog.view_logentry"):
        links.append((_("Audit trail (changes)"), _url("admin:auditlog_logentry_changelist")))
    if user.has_perm("concierge.view_patientrecordview"):
        links.append((_("Who viewed patient records"), _url("admin:concierge_patientrecordview_changelist")))
    return {"counts": queues.queue_counts(user), "links": [(label, url) for label, url in links if url]}


def install(site):
    """Add the staff URLs and the index panel to `site` (the default admin site)."""
    original_get_urls = site.get_urls
    original_index = site.index

    def get_urls():
        return [
            path("queues/", site.admin_view(views.queues_view), name="staff_queues"),
            path("reports/", site.admin_view(views.reports_index), name="staff_reports"),
            path("reports/<slug:slug>/", site.admin_view(views.report_view), name="staff_report"),
            *original_get_urls(),
        ]

    def index(request, extra_context=None):
        extra_context = {"staff_panel": index_panel(request.user), **(extra_context or {})}
        return original_index(request, extra_context)

    original_get_app_list = site.get_app_list

    def get_app_list(request, app_label=None):
        # Made when a page draws it (the sidebar, the index), not on every admin page.
        return SimpleLazyObject(lambda: original_get_app_list(request, app_label))

    site.get_urls = get_urls
    site.index = index
    site.get_app_list = get_app_list
