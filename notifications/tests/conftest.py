import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from twilio.http import HttpClient
from twilio.http.response import Response

from notifications.gateways import sms


@pytest.fixture(autouse=True)
def sms_outbox():
    """The memory gateway's outbox, empty at the start of every test (like mail.outbox)."""
    sms.outbox.clear()
    sms.failures.clear()
    yield sms.outbox
    sms.outbox.clear()
    sms.failures.clear()


def local(time_zone, *args):
    """An aware datetime given as local wall time in `time_zone`."""
    return datetime(*args, tzinfo=ZoneInfo(time_zone))


class FakeTwilioHttp(HttpClient):
    """Stands in for Twilio's HTTP client: the real SDK builds the request and reads the answer.

    `responses` are (status, json-dict) pairs answered in order (the last one repeats); an
    Exception instead is raised, like a network error.
    """

    def __init__(self, responses=None):
        super().__init__(logger=None, is_async=False)
        self.responses = list(responses or [(201, None)])
        self.requests = []

    def request(self, method, uri, params=None, data=None, headers=None, auth=None, timeout=None, **kwargs):
        self.requests.append({"method": method, "uri": uri, "data": dict(data or {}), "auth": auth})
        answer = self.responses.pop(0) if len(self.responses) > 1 else self.responses[0]
        if isinstance(answer, Exception):
            raise answer
        status, payload = answer
        if payload is None:
            payload = {
                "sid": f"SM{len(self.requests):032d}",
                "status": "queued",
                "to": (data or {}).get("To"),
                "from": (data or {}).get("From"),
                "body": (data or {}).get("Body"),
                "account_sid": "AC" + "0" * 32,
            }
        return Response(status, json.dumps(payload))


@pytest.fixture
def twilio(settings, monkeypatch):
    """Texts go through the real Twilio SDK, to a fake HTTP client. Returns the client."""
    settings.SMS_BACKEND = "twilio"
    settings.TWILIO_ACCOUNT_SID = "AC" + "0" * 32
    settings.TWILIO_AUTH_TOKEN = "twilio-test-token"
    settings.TWILIO_FROM_NUMBER = "+15005550006"
    fake = FakeTwilioHttp()
    monkeypatch.setattr(sms.TwilioGateway, "http_client_factory", lambda self=None: fake)
    return fake


@pytest.fixture
def tick(django_capture_on_commit_callbacks):
    """One tick of the clock, with what it queues after commit run too (tasks are eager in tests)."""
    from notifications import services

    def run():
        with django_capture_on_commit_callbacks(execute=True):
            return services.messages_dispatch_due()

    return run
