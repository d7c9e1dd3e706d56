from django.contrib import admin, messages
from django.contrib.admin.utils import display_for_field
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from concierge.admin import ShownColumnsAdmin
from concierge.errors import ApplicationError

from . import content, services
from .models import InboundSms, Message, MessageStatus, SmsOptOut


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records of what was sent and received: looked at, never edited by hand."""

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]


class TemplateFilter(admin.SimpleListFilter):
    """The message templates the clinic sends (the registry, notifications/content.py).

    Django's filter for a plain field lists its values with a SELECT DISTINCT over every row of the
    outbox, a read that grows with every message ever sent; the registry already knows them.
    """

    title = _("template")
    parameter_name = "template"

    def lookups(self, request, model_admin):
        return [(key, key) for key in sorted(content.TEMPLATES)]

    def queryset(self, request, queryset):
        return queryset.filter(template=self.value()) if self.value() else queryset


@admin.register(Message)
class MessageAdmin(ShownColumnsAdmin, ReadOnlyAdmin):
    list_display = ("id", "channel", "template", "recipient", "status", "due_at", "attempts", "sent_at", "last_error")
    # Not the text or the context (a password reset's holds a sign-in link): the list shows neither.
    list_columns = ("channel", "template", "status", "due_at", "attempts", "sent_at", "last_error", "recipient__email")
    list_filter = ("status", "channel", TemplateFilter)
    # A filtered list says "Show all" rather than counting the whole outbox a second time.
    show_full_result_count = False
    search_fields = ("recipient__email", "to_address", "unique_key", "provider_message_id")
    date_hierarchy = "due_at"
    list_select_related = ("recipient",)
    actions = ["resend", "unknown_went", "unknown_send_again"]
    fieldsets = (
        (None, {"fields": ("channel", "template", "recipient", "to_address", "visit", "status", "last_error")}),
        (_("When"), {"fields": ("due_at", "claimed_at", "attempt_started_at", "sent_at", "delivered_at", "attempts")}),
        (_("What was sent"), {"fields": ("subject", "text_shown")}),
        (
            _("Bookkeeping"),
            {
                "classes": ("collapse",),
                "fields": (
                    "unique_key",
                    "context_shown",
                    "fallback_for",
                    "provider_message_id",
                    "created_at",
                    "updated_at",
                ),
            },
        ),
    )

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), "created_at", "updated_at", "text_shown", "context_shown"]

    # A sensitive message (a password reset) holds a sign-in link in its text and context: never
    # shown. Any other message shows them as the plain read-only fields would.
    def _shown(self, obj, name):
        if content.is_sensitive(obj.template):
            return content.SENSITIVE_HIDDEN
        return display_for_field(getattr(obj, name), Message._meta.get_field(name), self.get_empty_value_display())

    @admin.display(description=_("text"))
    def text_shown(self, obj):
        return self._shown(obj, "body")

    @admin.display(description=_("context"))
    def context_shown(self, obj):
        return self._shown(obj, "context")

    @admin.action(description=_("Send the selected failed messages again"), permissions=["change"])
    def resend(self, request, queryset):
        sensitive = queryset.filter(template__in=content.SENSITIVE_TEMPLATES).count()
        failed = list(queryset.filter(status=MessageStatus.FAILED).exclude(template__in=content.SENSITIVE_TEMPLATES))
        resent, skipped = 0, queryset.count() - len(failed) - sensitive
        for message in failed:
            try:
                services.message_resend(message=message)
                resent += 1
            except ApplicationError:
                skipped += 1  # changed meanwhile (another staff member resent it)
        if resent:
            self.message_user(
                request,
                ngettext("%(n)d message queued again.", "%(n)d messages queued again.", resent) % {"n": resent},
                messages.SUCCESS,
            )
        if sensitive:
            self.message_user(
                request,
                ngettext(
                    "%(n)d message held a sign-in link, so it is never sent again: the person can ask for a new one.",
                    "%(n)d messages held sign-in links, so they are never sent again: people can ask for new ones.",
                    sensitive,
                )
                % {"n": sensitive},
                messages.WARNING,
            )
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "%(n)d message was not failed, so it was left alone.",
                    "%(n)d messages were not failed, so they were left alone.",
                    skipped,
                )
                % {"n": skipped},
                messages.WARNING,
            )

    # "May have gone" (UNKNOWN): the worker died mid-send and the provider could not tell. Never
    # "send again" blindly (that is how a receipt goes twice): staff look at the provider's log and
    # say which it was.
    @admin.action(description=_("May have gone: I checked the provider's log and it went"), permissions=["change"])
    def unknown_went(self, request, queryset):
        self._settle_unknown(request, queryset, went=True)

    @admin.action(
        description=_("May have gone: I checked the provider's log and it did not go; send it again"),
        permissions=["change"],
    )
    def unknown_send_again(self, request, queryset):
        self._settle_unknown(request, queryset, went=False)

    def _settle_unknown(self, request, queryset, *, went):
        done, refused = 0, []
        for message in queryset.filter(status=MessageStatus.UNKNOWN):
            try:
                services.message_unknown_resolve(message=message, went=went)
                done += 1
            except ApplicationError as error:
                refused.append(error.message)
        skipped = queryset.exclude(status=MessageStatus.UNKNOWN).count()
        if done:
            self.message_user(
                request,
                ngettext("%(n)d message settled.", "%(n)d messages settled.", done) % {"n": done},
                messages.SUCCESS,
            )
        for reason in sorted(set(refused)):
            self.message_user(request, reason, messages.WARNING)
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "%(n)d message was not waiting to be checked, so it was left alone.",
                    "%(n)d messages were not waiting to be checked, so they were left alone.",
                    skipped,
                )
                % {"n": skipped},
                messages.WARNING,
            )


@admin.register(SmsOptOut)
class SmsOptOutAdmin(ReadOnlyAdmin):
    list_display = ("phone_number", "is_opted_out", "keyword", "changed_at")
    list_filter = ("is_opted_out",)
    search_fields = ("phone_number",)


@admin.register(InboundSms)
class InboundSmsAdmin(ReadOnlyAdmin):
    list_display = ("received_at", "from_number", "action", "message_sid")
    list_filter = ("action",)
    search_fields = ("from_number", "message_sid")
