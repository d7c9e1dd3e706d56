"""Email through Django's email framework (EMAIL_BACKEND: SMTP, console or in-memory)."""

import re
import smtplib
from pathlib import Path

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
        headers[HEADER] = str(message_id)
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


HEADER = "X-ConciergeMD-Message"


def email_sent_record(*, message_id):
    """Whether the mail backend has this outbox row's email: its Message-ID, "" if certainly not,
    None if it cannot tell (SMTP keeps no record we can ask; services/interrupted.py)."""
    from django.core import mail

    backend = settings.EMAIL_BACKEND
    if backend == "django.core.mail.backends.locmem.EmailBackend":
        for email in getattr(mail, "outbox", []):
            if email.extra_headers.get(HEADER) == str(message_id):
                return email.extra_headers.get("Message-ID", "locmem")
        return ""
    folder = getattr(settings, "EMAIL_FILE_PATH", "")
    if folder and ("filebased" in backend or backend.endswith("FileBackend")):
        header = re.compile(rf"^{HEADER}: {int(message_id)}$", re.M)
        for path in sorted(Path(folder).glob("*")):
            if header.search(path.read_text(encoding="utf-8", errors="replace")):
                return "file"
        return ""
    return None
