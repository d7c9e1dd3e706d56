"""Hooks the staff pages into the admin site: their URLs (under /admin/, names "admin:staff_..."),
the "needs attention" panel on the admin index, and the list of apps each login may open,
made once per kind of login instead of on every admin page."""

from django.conf import settings
from django.template.defaultfilters import urlencode
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, path, reverse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from concierge.recent import RecentlyUsed
from staff import queues, views

# App lists by who may see what, and sidebars drawn from them: a handful of kinds of login, each
# sidebar in a few dozen places (the page's app and model are marked). ~20 KB a sidebar.
_kept = RecentlyUsed(256)


def kept_clear() -> None:
    """Forget the app lists and sidebars this process kept (tests: each starts with none)."""
    _kept.clear()


def viewer(request):
    """Everything Django's app list depends on besides the registered admins (fixed once the
    process has started): the login's standing (every admin here decides with the permissions
    and the roles: a superuser has every permission, but a clinical act such as adding a
    clearance also asks for the clinician role, superuser or not), the language its names are
    sorted in, and where its links lead (the URL prefix and configuration).

    A change to someone's permissions or roles changes this, so a kept list is never used for
    them again. Reading the permissions costs nothing new: Django's app list asks for them for
    every model, and they are kept on the login for the request.
    """
    user = request.user
    if not user.is_authenticated:
        standing = ("nobody",)  # a page drawn after logging out: nothing to open
    elif user.is_active and user.is_superuser:
        standing = ("superuser", tuple(sorted(user.roles)))
    else:
        standing = (user.is_active, user.is_staff, tuple(sorted(user.roles)), tuple(sorted(user.get_all_permissions())))
    return (standing, get_language(), get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF)


def nav_sidebar(context):
    """Django's admin sidebar (admin/nav_sidebar.html), drawn once per kind of login, language
    and marked app and model: ~3 ms of template for the ~40 models, and the app list (~6 ms of
    permission checks, URL reversing and sorting by translated names) made once per kind of login."""
    request = context["request"]
    apps = context["available_apps"]
    path_shown = urlencode(request.path)  # what Django's template compares the links with
    marked = tuple(
        url
        for app in apps
        for url in (app["app_url"], *(model.get("admin_url") for model in app["models"]))
        if url and url in path_shown
    )
    return _kept.get_or_make(
        ("sidebar", viewer(request), marked),
        lambda: render_to_string("admin/nav_sidebar.html", {"available_apps": apps, "request": request}),
    )


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
        # Asked for when a page draws it (the sidebar, the index), not on every admin page; the
        # same list for every login that may see the same (`viewer`). Pages only read it.
        return SimpleLazyObject(
            lambda: _kept.get_or_make(
                ("apps", viewer(request), app_label), lambda: original_get_app_list(request, app_label)
            )
        )

    site.get_urls = get_urls
    site.index = index
    site.get_app_list = get_app_list
