"""Email through Django's email framework (EMAIL_BACKEND: SMTP, console or in-memory)."""

import smtplib

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import make_msgid

from .base import SendError


def send_email(*, to, subject, text, html="", attachments=(), message_id=None):
    """Send one email (plain text, HTML alternative, attachments). Returns its Message-ID."""
    msgid = make_msgid(domain="conciergemd")
    headers = {"Message-ID": msgid}
    if message_id is not None:
        # Lets a bounce or a support question be traced back to the outbox row.
        headers["X-ConciergeMD-Message"] = str(message_id)
    email = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [to], headers=headers)
    if html:
        email.attach_alternative(html, "text/html")
    for filename, content, mimetype in attachments:
        email.attach(filename, content, mimetype)
    try:
        email.send(fail_silently=False)
    except smtplib.SMTPRecipientsRefused as exc:
        raise SendError("The mail server refused the address.", permanent=True) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise SendError(f"Mail server error: {exc.__class__.__name__}") from exc
    return msgid
