"""The real Stripe SDK under a fake HTTP client: what we send, what we make of the answers.

No network: the SDK's HTTP client is swapped for one that records each request and answers
like Stripe's API would.
"""

import json
from urllib.parse import parse_qs

import pytest
import stripe

from booking.checkout import checkout_start
from payments.errors import PaymentUnavailable
from payments.gateways import GatewayError, GatewayUnavailable, stripe_gateway
from payments.gateways.types import IntentResult, RefundResult
from payments.models import Payment


class FakeStripeHTTP(stripe.HTTPClient):
    """Answers queued in order; every request is kept for the test to look at."""

    name = "fake"

    def __init__(self, answers):
        super().__init__()
        self.answers = list(answers)
        self.requests = []

    def request(self, method, url, headers, post_data=None, *, _usage=None):
        self.requests.append(
            {"method": method, "url": url, "headers": dict(headers or {}), "data": parse_qs(post_data or "")}
        )
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        status, body = answer
        return json.dumps(body), status, {"Request-Id": "req_test"}

    def request_stream(self, *args, **kwargs):
        raise NotImplementedError

    def close(self):
        pass


def intent_json(**overrides):
    return {
        "id": "pi_3Test",
        "object": "payment_intent",
        "amount": 10000,
        "currency": "usd",
        "status": "requires_payment_method",
        "client_secret": "pi_3Test_secret_abc",
        "metadata": {"payment_id": "1"},
        "latest_charge": None,
        "last_payment_error": None,
        **overrides,
    }


@pytest.fixture
def http(monkeypatch, settings):
    settings.STRIPE_SECRET_KEY = "sk_test_offline"
    monkeypatch.setattr(stripe.HTTPClient, "_sleep_time_seconds", lambda self, n: 0)  # retries without waiting
    holder = {}

    def install(*answers):
        holder["client"] = FakeStripeHTTP(answers)
        monkeypatch.setattr(stripe_gateway, "http_client_factory", lambda: holder["client"])
        return holder["client"]

    return install


def test_create_sends_our_idempotency_key_the_pinned_version_and_cents(http, settings):
    client = http((200, intent_json()))

    result = stripe_gateway.intent_create(
        amount_cents=10000,
        currency="usd",
        idempotency_key="payment-abc",
        description="ConciergeMD visit",
        metadata={"payment_id": 1},
    )

    assert result == IntentResult(
        id="pi_3Test",
        status="requires_payment_method",
        amount_cents=10000,
        currency="usd",
        client_secret="pi_3Test_secret_abc",
        metadata={"payment_id": "1"},
    )
    (sent,) = client.requests
    assert (sent["method"], sent["url"]) == ("post", "https://api.stripe.com/v1/payment_intents")
    assert sent["headers"]["Idempotency-Key"] == "payment-abc"
    assert sent["headers"]["Stripe-Version"] == settings.STRIPE_API_VERSION == "2026-10-28.endive"
    assert sent["headers"]["Authorization"] == "Bearer sk_test_offline"
    assert sent["data"]["amount"] == ["10000"]
    assert sent["data"]["currency"] == ["usd"]
    assert sent["data"]["metadata[payment_id]"] == ["1"]
    assert sent["data"]["description"] == ["ConciergeMD visit"]
    assert sent["data"]["allowed_payment_method_types[0]"] == ["card"]
    assert not any(key.startswith("payment_method_types") for key in sent["data"])  # refused since endive


def test_a_retried_create_carries_the_same_idempotency_key(http):
    client = http((500, {"error": {"type": "api_error", "message": "boom"}}), (200, intent_json()))

    stripe_gateway.intent_create(
        amount_cents=10000, currency="usd", idempotency_key="payment-abc", description="x", metadata={}
    )

    assert [r["headers"]["Idempotency-Key"] for r in client.requests] == ["payment-abc", "payment-abc"]


def test_refund_create_sends_the_refund_rows_key(http):
    client = http(
        (
            200,
            {
                "id": "re_1",
                "object": "refund",
                "amount": 5000,
                "status": "pending",
                "payment_intent": "pi_3Test",
                "metadata": {"refund_row": "7"},
                "failure_reason": None,
            },
        ),
    )

    result = stripe_gateway.refund_create(
        intent_id="pi_3Test", amount_cents=5000, idempotency_key="refund-xyz", metadata={"refund_row": 7}
    )

    assert result == RefundResult(
        id="re_1", status="pending", amount_cents=5000, intent_id="pi_3Test", metadata={"refund_row": "7"}
    )
    (sent,) = client.requests
    assert sent["url"] == "https://api.stripe.com/v1/refunds"
    assert sent["headers"]["Idempotency-Key"] == "refund-xyz"
    assert sent["data"]["payment_intent"] == ["pi_3Test"]
    assert sent["data"]["amount"] == ["5000"]


def test_retrieve_reads_refunds_and_disputes_from_the_latest_charge(http):
    client = http(
        (
            200,
            intent_json(
                status="succeeded",
                latest_charge={
                    "id": "ch_1",
                    "object": "charge",
                    "amount": 10000,
                    "amount_refunded": 2500,
                    "disputed": True,
                },
            ),
        ),
    )

    result = stripe_gateway.intent_retrieve(intent_id="pi_3Test")

    assert (result.status, result.charge_id, result.amount_refunded_cents, result.disputed) == (
        "succeeded",
        "ch_1",
        2500,
        True,
    )
    assert client.requests[0]["url"].startswith("https://api.stripe.com/v1/payment_intents/pi_3Test?")
    assert "expand[0]=latest_charge" in client.requests[0]["url"]


def test_a_refused_request_is_a_gateway_error_with_stripes_message(http):
    http(
        (
            400,
            {
                "error": {
                    "type": "invalid_request_error",
                    "code": "amount_too_large",
                    "message": "Refund amount ($150.00) is greater than charge amount ($100.00)",
                }
            },
        )
    )
    with pytest.raises(GatewayError) as caught:
        stripe_gateway.refund_create(intent_id="pi_3Test", amount_cents=15000, idempotency_key="k", metadata={})
    assert not isinstance(caught.value, GatewayUnavailable)
    assert caught.value.code == "amount_too_large"


@pytest.mark.parametrize(
    "answers",
    [
        [(503, {"error": {"type": "api_error", "message": "down"}})] * 3,
        [(429, {"error": {"type": "rate_limit_error", "message": "slow down"}})],
        [stripe.APIConnectionError("no route", should_retry=False)],
    ],
    ids=["5xx after retries", "rate limited", "no connection"],
)
def test_temporary_failures_are_gateway_unavailable(http, answers):
    http(*answers)
    with pytest.raises(GatewayUnavailable):
        stripe_gateway.intent_retrieve(intent_id="pi_3Test")


def test_payment_start_through_the_sdk_reuses_the_key_after_a_lost_answer(http, settings, held, patient):
    """Stripe made the intent but the answer never reached us; the next try gets the same one."""
    settings.PAYMENT_GATEWAY = "stripe"
    client = http(stripe.APIConnectionError("reset", should_retry=False), (200, intent_json()))

    with pytest.raises(PaymentUnavailable):
        checkout_start(patient=patient, visit=held)
    payment = checkout_start(patient=patient, visit=held)

    assert payment.gateway == "stripe"
    assert payment.intent_id == "pi_3Test"
    assert payment.client_secret == "pi_3Test_secret_abc"
    assert Payment.objects.count() == 1
    keys = [r["headers"]["Idempotency-Key"] for r in client.requests]
    assert keys == [payment.idempotency_key, payment.idempotency_key]
