"""Text message gateways, picked by settings.SMS_BACKEND (a name below, or a dotted path to a
class of the same shape), all with two methods:

    send(*, to, body, message_id, status_callback="") -> the provider's message id
    sent_record(*, message_id) -> the provider's id if it has the text, "" if it certainly has
        not, None if it cannot tell (asked after a worker died mid-send: services/interrupted.py)

- "twilio": the Twilio SDK. Tests pass a fake `twilio.http.HttpClient` so the SDK's own code runs
  without the network.
- "console": the local run; prints the text (the outbox row keeps it too).
- "memory": tests; texts land in `notifications.gateways.sms.outbox`, like Django's mail.outbox.
"""

import itertools
import json
import os
import threading
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string

from .base import SendError

# Twilio error codes after which trying again cannot help. 21610: the number replied STOP.
# https://www.twilio.com/docs/api/errors
TWILIO_PERMANENT_CODES = {
    21211,  # invalid 'To' number
    21214,  # 'To' number cannot be reached
    21217,  # not a valid phone number
    21401,  # invalid phone number
    21408,  # region not enabled
    21421,  # invalid phone number
    21604,  # 'To' number required
    21606,  # 'From' number cannot send texts
    21610,  # recipient unsubscribed (STOP)
    21612,  # cannot route to this number
    21614,  # not a mobile number
    21617,  # body too long
    21660,  # 'From' number not on this account
}
TWILIO_OPTED_OUT = 21610
TWILIO_RATE_LIMITED = {429, 20429}


class TwilioGateway:
    name = "twilio"
    # Tests replace this with a factory of a fake twilio.http.HttpClient.
    http_client_factory = None
    timeout_seconds = 10

    def __init__(self, http_client=None):
        # The Twilio REST client (and requests) load only in a process that texts through Twilio.
        from twilio.http.http_client import TwilioHttpClient
        from twilio.rest import Client

        if http_client is None and self.http_client_factory is not None:
            http_client = self.http_client_factory()
        if http_client is None:
            http_client = TwilioHttpClient(timeout=self.timeout_seconds)
        self.client = Client(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, http_client=http_client)

    def send(self, *, to, body, message_id, status_callback=""):
        # Loaded with the client above: only where texts go through Twilio.
        import requests
        from twilio.base.exceptions import TwilioException, TwilioRestException

        if not (settings.TWILIO_ACCOUNT_SID and settings.TWILIO_AUTH_TOKEN and settings.TWILIO_FROM_NUMBER):
            raise SendError("Twilio is not configured (TWILIO_* settings).", permanent=True)
        params = {"to": to, "from_": settings.TWILIO_FROM_NUMBER, "body": body}
        if status_callback:
            params["status_callback"] = status_callback
        try:
            sent = self.client.messages.create(**params)
        except TwilioRestException as exc:
            code = exc.code
            if exc.status >= 500 or exc.status in TWILIO_RATE_LIMITED or code in TWILIO_RATE_LIMITED:
                raise SendError(f"Twilio HTTP {exc.status} (code {code})", code=code) from exc
            permanent = code in TWILIO_PERMANENT_CODES or 400 <= exc.status < 500
            raise SendError(f"Twilio HTTP {exc.status} (code {code})", permanent=permanent, code=code) from exc
        except (requests.RequestException, TwilioException, OSError) as exc:
            raise SendError(f"Twilio unreachable: {exc.__class__.__name__}") from exc
        return sent.sid

    def sent_record(self, *, message_id):
        # Twilio answers a text it took with a delivery receipt to our status callback (?m=<row>),
        # which records the row as sent (twilio_hooks.sms_status_record); asked here, it cannot
        # tell a text still on its way from one that never came.
        return None


class ConsoleGateway:
    name = "console"

    def send(self, *, to, body, message_id, status_callback=""):
        print(f"--- text message #{message_id} to {to} ---\n{body}\n---", flush=True)
        return f"console-{uuid.uuid4().hex[:16]}"

    def sent_record(self, *, message_id):
        return None


@dataclass(frozen=True)
class SentSms:
    to: str
    body: str
    message_id: int
    provider_id: str


# What the memory gateway "sent", in order. Cleared before each test (notifications/tests/conftest.py).
outbox: list[SentSms] = []
# Errors the memory gateway raises on its next sends, first in first out (for tests).
failures: list[SendError] = []
_counter = itertools.count(1)
_lock = threading.Lock()


class MemoryGateway:
    name = "memory"

    def send(self, *, to, body, message_id, status_callback=""):
        with _lock:
            if failures:
                raise failures.pop(0)
            sent = SentSms(
                to=to,
                body=body,
                message_id=message_id,
                provider_id=f"SM-memory-{next(_counter)}-{uuid.uuid4().hex[:8]}",
            )
            outbox.append(sent)
            journal = getattr(settings, "SMS_MEMORY_JOURNAL", "")
            if journal:
                # A worker process in the integration test writes here so the test can count sends.
                with open(journal, "a", encoding="utf-8") as fh:
                    fh.write(json.dumps({"message_id": message_id, "to": to, "provider_id": sent.provider_id}) + "\n")
        return sent.provider_id

    def sent_record(self, *, message_id):
        """The memory "provider" keeps everything it took: this process's outbox, and the journal
        another process (a worker) wrote."""
        with _lock:
            for sent in outbox:
                if sent.message_id == message_id:
                    return sent.provider_id
            journal = getattr(settings, "SMS_MEMORY_JOURNAL", "")
            if journal and os.path.exists(journal):
                with open(journal, encoding="utf-8") as fh:
                    for line in fh:
                        entry = json.loads(line)
                        if entry.get("message_id") == message_id:
                            return entry.get("provider_id") or "journal"
        return ""


GATEWAYS = {"twilio": TwilioGateway, "console": ConsoleGateway, "memory": MemoryGateway}


def get_sms_gateway():
    name = settings.SMS_BACKEND
    if "." in name:
        try:
            return import_string(name)()
        except ImportError:
            raise SendError(f"Unknown SMS_BACKEND {name!r}", permanent=True) from None
    try:
        return GATEWAYS[name]()
    except KeyError:
        raise SendError(f"Unknown SMS_BACKEND {name!r}", permanent=True) from None
