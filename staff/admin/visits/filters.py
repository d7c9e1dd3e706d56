"""The visit list's own filters: when (days in the clinic's zone), visits that need a nurse, and
the providers (named in one query)."""

from datetime import datetime, time, timedelta

from django.conf import settings
from django.contrib import admin
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from booking import policy
from booking.availability import zone
from concierge.admin import loose_index_scan
from roster.models import Provider


def clinic_today(now=None):
    return (now or timezone.now()).astimezone(zone(settings.REPORTS_TIME_ZONE)).date()


class WhenFilter(admin.SimpleListFilter):
    """Days in the clinic's zone (REPORTS_TIME_ZONE); each visit's own time is shown in its zone."""

    title = _("when")
    parameter_name = "when"

    def lookups(self, request, model_admin):
        return (
            ("today", _("Today")),
            ("tomorrow", _("Tomorrow")),
            ("next7", _("Next 7 days")),
            ("upcoming", _("From now on")),
            ("past7", _("Past 7 days")),
        )

    def queryset(self, request, queryset):
        tz = zone(settings.REPORTS_TIME_ZONE)
        today = clinic_today()

        def midnight(day):
            return datetime.combine(day, time(0), tzinfo=tz)

        ranges = {
            "today": (midnight(today), midnight(today + timedelta(days=1))),
            "tomorrow": (midnight(today + timedelta(days=1)), midnight(today + timedelta(days=2))),
            "next7": (timezone.now(), midnight(today + timedelta(days=8))),
            "past7": (midnight(today - timedelta(days=7)), timezone.now()),
        }
        if self.value() == "upcoming":
            return queryset.filter(ends_at__gt=timezone.now())
        if self.value() in ranges:
            start, end = ranges[self.value()]
            return queryset.filter(starts_at__gte=start, starts_at__lt=end)
        return queryset


class RiskFilter(admin.SimpleListFilter):
    title = _("needs a nurse")
    parameter_name = "unassigned"

    def lookups(self, request, model_admin):
        return (("yes", _("No nurse assigned")),)

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(provider__isnull=True, status__in=policy.CHANGEABLE_STATUSES)
        return queryset


class ProviderFilter(admin.RelatedOnlyFieldListFilter):
    """The providers who have visits, each named from its login, in one query that does not read
    every visit.

    Django's RelatedOnlyFieldListFilter reads the providers of `SELECT DISTINCT` over every
    visit (more each day), then each one's user to name it (a query per provider). Here the
    providers come from the visits' provider index, one probe per provider
    (`concierge.admin.loose_index_scan`), with their names. The list's own queryset is every
    visit, so that is the same set.
    """

    def __init__(self, field, request, params, model, model_admin, field_path):
        super().__init__(field, request, params, model, model_admin, field_path)
        # The choice for visits with no provider, which Django labels with the empty value ("-").
        self.empty_value_display = _("No nurse assigned")

    def field_choices(self, field, request, model_admin):
        sql, params = loose_index_scan(field, after=None)
        providers = (
            # The SQL names only the model's own table and column (quoted); no value from the request.
            Provider.objects.filter(pk__in=RawSQL(sql, params))  # noqa: S611
            .select_related("user")
            .only("user__first_name", "user__last_name")
        )
        return sorted(((p.pk, str(p)) for p in providers), key=lambda choice: choice[1].lower())
