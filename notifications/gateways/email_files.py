"""The local run's email backend: each email is one .eml file, named after its outbox row.

Printing emails to the console buried the server's address under hundreds of lines; a file per
message keeps the console quiet and lets the outbox page (/outbox/) link to what was sent.
"""

import re
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend

HEADER = "X-ConciergeMD-Message"


def email_file_dir() -> Path | None:
    path = getattr(settings, "EMAIL_FILE_PATH", "")
    return Path(path) if path else None


def email_file_for(message_id: int) -> Path | None:
    """The file of the outbox row's email, when the local run wrote one."""
    folder = email_file_dir()
    if folder is None:
        return None
    path = folder / f"message-{int(message_id)}.eml"
    return path if path.is_file() else None


class OutboxFileBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        folder = email_file_dir()
        if folder is None:
            raise ValueError("OutboxFileBackend needs EMAIL_FILE_PATH")
        folder.mkdir(parents=True, exist_ok=True)
        for email in email_messages:
            row = str(email.extra_headers.get(HEADER, ""))
            if re.fullmatch(r"\d+", row):
                name = f"message-{row}.eml"
            else:  # not from the outbox (Django's own mail, e.g. an error report)
                name = f"other-{abs(hash(email.extra_headers.get('Message-ID', ''))) % 10**12}.eml"
            (folder / name).write_bytes(email.message().as_bytes())
        return len(email_messages)
