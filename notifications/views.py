import logging

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from twilio.request_validator import RequestValidator, get_signature_algorithm
from twilio.twiml.messaging_response import MessagingResponse

from . import content, selectors, services
from .forms import OutboxFilterForm
from .gateways.email_files import email_file_for
from .models import MessageStatus

logger = logging.getLogger(__name__)


def twilio_request_is_genuine(request):
    """True when X-Twilio-Signature proves Twilio sent this request with our auth token.

    Twilio signs the URL it was configured with; behind a proxy that is SITE_URL + path, which
    is tried as well as the URL this server saw.
    """
    token = settings.TWILIO_AUTH_TOKEN
    signature = request.headers.get("X-Twilio-Signature", "")
    if not token or not signature:
        return False
    validator = RequestValidator(token)
    algorithm = get_signature_algorithm(request.headers.get("X-Twilio-Webhooks-Signature-Settings", ""))
    urls = {settings.SITE_URL + request.get_full_path(), request.build_absolute_uri()}
    return any(validator.validate(url, request.POST, signature, algorithm=algorithm) for url in urls)


# Twilio cannot send a CSRF token; the signature check is the proof of origin instead.
@csrf_exempt
@require_POST
def twilio_inbound(request):
    """A text from a patient: STOP / START / HELP, answered with TwiML."""
    if not twilio_request_is_genuine(request):
        logger.warning("notifications: inbound text with a missing or bad Twilio signature")
        return HttpResponseForbidden("Invalid signature")
    sid = request.POST.get("MessageSid") or request.POST.get("SmsSid")
    if not sid or not request.POST.get("From"):
        return HttpResponseBadRequest("MessageSid and From are required")
    reply = services.sms_inbound_handle(
        message_sid=sid, from_number=request.POST["From"], body=request.POST.get("Body", "")
    )
    twiml = MessagingResponse()
    if reply:
        twiml.message(reply)
    return HttpResponse(str(twiml), content_type="text/xml")


@csrf_exempt
@require_POST
def twilio_status(request):
    """A delivery receipt for a text we sent."""
    if not twilio_request_is_genuine(request):
        logger.warning("notifications: status callback with a missing or bad Twilio signature")
        return HttpResponseForbidden("Invalid signature")
    sid = request.POST.get("MessageSid") or request.POST.get("SmsSid")
    status = request.POST.get("MessageStatus") or request.POST.get("SmsStatus")
    if not sid or not status:
        return HttpResponseBadRequest("MessageSid and MessageStatus are required")
    message_id = request.GET.get("m", "")
    services.sms_status_record(
        message_id=int(message_id) if message_id.isdigit() else None,
        message_sid=sid,
        status=status,
        error_code=request.POST.get("ErrorCode") or None,
    )
    return HttpResponse(status=204)


def _outbox_email_file(value):
    """The .eml the local run wrote for an outbox row (never a sign-in link's)."""
    if not value.isdigit():
        raise Http404
    message = selectors.message_list_for_outbox(channel=None, status=None).filter(pk=int(value)).first()
    path = email_file_for(int(value)) if message is not None else None
    if path is None or content.is_sensitive(message.template):
        raise Http404
    response = FileResponse(path.open("rb"), content_type="message/rfc822")
    response["Content-Disposition"] = f'attachment; filename="message-{message.pk}.eml"'
    return response


@require_GET
@login_required
def outbox(request):
    """Staff only: every email and text, newest first, with what it says (or will say).

    Except a sensitive message's text (a sign-in link): "hidden: contains a sign-in link".
    """
    if not (request.user.is_staff and request.user.has_perm("notifications.view_message")):
        raise PermissionDenied
    if request.GET.get("email"):
        return _outbox_email_file(request.GET["email"])
    form = OutboxFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    messages = selectors.message_list_for_outbox(
        channel=filters.get("channel") or None, status=filters.get("status") or None
    ).select_related("recipient__patient_profile", "visit__service")
    page = Paginator(messages, 25).get_page(request.GET.get("page"))
    rows = []
    for message in page.object_list:
        subject, text = message.subject, message.body
        if content.is_sensitive(message.template):
            text = str(content.SENSITIVE_HIDDEN)  # a sign-in link: never shown to staff
        elif message.status in (MessageStatus.PENDING, MessageStatus.SENDING) and not text:
            subject, text = content.preview(message)
        rows.append(
            {
                "message": message,
                "subject": subject,
                "text": text,
                "due": content.local_text(message.due_at, message),
                "sent": content.local_text(message.sent_at, message) if message.sent_at else "",
                # The local run writes each email to a file (email_files); sign-in links stay hidden.
                "has_file": message.channel == "email"
                and not content.is_sensitive(message.template)
                and email_file_for(message.pk) is not None,
            }
        )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "notifications/outbox.html",
        {"form": form, "page": page, "rows": rows, "query": query.urlencode(), "sms_backend": settings.SMS_BACKEND},
    )
