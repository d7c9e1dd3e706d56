"""Payment pages: pay an open payment, come back from the card check, see the outcome; the webhook.

Booking's checkout (`booking:pay`) opens the payment for a held visit or series and sends the
patient here. Only the payment's own patient may see or pay it (another id is a 404). The
payment page is the one page whose Content Security Policy lets Stripe's script and frames in.
"""

from collections.abc import Callable
from typing import TypeVar, cast
from zoneinfo import ZoneInfo

from csp.decorators import csp_replace, csp_update
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseBase, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from concierge.errors import TryAgainLater

from . import selectors, services
from .display import balance_words, money, visit_title, visit_when
from .errors import HoldLapsed, PaymentUnavailable
from .forms import FakeCardForm
from .gateways import GatewayError, fake, gateway_for, gateway_name
from .models import Payment, PaymentStatus, RefundReason
from .webhooks import webhook_receive

# Stripe.js and its Payment Element: Stripe's documented origins, added to this page only.
STRIPE_CSP_ADD = {
    "script-src": ["https://js.stripe.com", "https://*.js.stripe.com"],
    "connect-src": ["https://api.stripe.com"],
    "img-src": ["https://*.stripe.com"],
}
# frame-src is 'none' everywhere else; 'none' cannot be combined with origins, so it is replaced.
STRIPE_CSP_FRAMES = {"frame-src": ["https://js.stripe.com", "https://*.js.stripe.com", "https://hooks.stripe.com"]}

View = TypeVar("View", bound=Callable[..., HttpResponseBase])


def stripe_csp(view: View) -> View:
    """The payment page's policy: Stripe's script and frames allowed on this view only.

    django-csp types its decorators for views that take the request alone; the wrapper they
    return passes every argument on, so the view keeps its own signature (hence the cast).
    """
    return cast(View, csp_update(STRIPE_CSP_ADD)(csp_replace(STRIPE_CSP_FRAMES)(view)))


def _visits_of(payment):
    return [a.visit for a in payment.allocations.select_related("visit__service")]


def _pay_url(payment):
    return reverse("payments:pay", args=[payment.pk])


def _balance_cents(payment, visits):
    """The rest of the visits' price after this payment (a deposit's balance), never below 0."""
    return max(sum(v.price_cents for v in visits) - payment.amount_cents, 0)


def _pay_context(request, payment, visits, card_form=None):
    held_until = min(v.hold_expires_at for v in visits if v.hold_expires_at) if visits else None
    tz = visits[0].time_zone if visits else "UTC"
    balance = _balance_cents(payment, visits)
    context = {
        "payment": payment,
        "visits": [
            {
                "title": visit_title(v),
                "when": visit_when(v),
                "amount": money(v.amount_due_cents),
                "price": v.price_cents,
            }
            for v in visits
        ],
        "total": money(payment.amount_cents),
        "has_balance": balance > 0,
        "balance_words": balance_words(balance),
        "held_until": dateformat.format(held_until.astimezone(ZoneInfo(tz)), "g:i A T") if held_until else "",
        "held_until_iso": held_until.isoformat() if held_until else "",
        "gateway": payment.gateway,
        "return_url": request.build_absolute_uri(reverse("payments:return", args=[payment.pk])),
    }
    if payment.gateway == "stripe":
        context["publishable_key"] = settings.STRIPE_PUBLISHABLE_KEY
    else:
        context["card_form"] = card_form or FakeCardForm()
    return context


def _hold_lapsed(visits, now):
    return any(v.hold_expires_at is None or v.hold_expires_at <= now for v in visits)


def _unavailable(request, message, visits=(), status=200):
    context = {"message": message, "visits": [{"title": visit_title(v), "when": visit_when(v)} for v in visits]}
    return render(request, "payments/unavailable.html", context, status=status)


@never_cache
@login_required
@require_GET
@stripe_csp
def pay(request, payment_id):
    """`payments:pay`: the card form for an open payment (booking's checkout sends the patient here)."""
    payment = selectors.payment_get_for_patient(patient=request.user, payment_id=payment_id)
    if payment is None:
        raise Http404
    if not payment.is_open:
        return redirect("payments:status", payment_id=payment.pk)
    visits = _visits_of(payment)
    if _hold_lapsed(visits, timezone.now()):
        return _unavailable(request, HoldLapsed.default_message, visits)
    return pay_page(request, payment)


def pay_page(request, payment):
    """The card form for an open payment (also what booking's checkout shows right after a hold)."""
    visits = _visits_of(payment)
    try:
        payment = services.payment_intent_ensure(payment=payment)
    except (PaymentUnavailable, TryAgainLater) as exc:
        return _unavailable(request, exc.message, status=503)
    return render(request, "payments/pay.html", _pay_context(request, payment, visits))


@never_cache
@login_required
@require_GET
def pay_return(request, payment_id):
    """Where the card check sends the patient back (Stripe adds ?payment_intent=...).

    This page and the webhook may arrive together: both call `payment_sync`, which confirms once.
    """
    payment = selectors.payment_get_for_patient(patient=request.user, payment_id=payment_id)
    if payment is None:
        raise Http404
    intent = None
    if payment.intent_id:
        try:
            intent = gateway_for(payment.gateway).intent_retrieve(intent_id=payment.intent_id)
            services.payment_sync(payment=payment, intent=intent, source="return page")
        except (GatewayError, TryAgainLater):
            pass  # the webhook brings the news
        payment.refresh_from_db()
    if payment.status in (PaymentStatus.REQUIRES_PAYMENT, PaymentStatus.FAILED):
        if intent is not None and intent.status in ("succeeded", "processing"):
            # The money is in but our records are busy right now: never show the card form again.
            context = {"payment": payment, "checking": True, "refresh_url": request.get_full_path(), "visits": []}
            return render(request, "payments/status.html", context)
        return redirect(_pay_url(payment))
    return redirect("payments:status", payment_id=payment.pk)


@never_cache
@login_required
@require_GET
def pay_status(request, payment_id):
    payment = selectors.payment_get_for_patient(patient=request.user, payment_id=payment_id)
    if payment is None:
        raise Http404
    if payment.status in (PaymentStatus.REQUIRES_PAYMENT, PaymentStatus.FAILED):
        return redirect(_pay_url(payment))
    visits = _visits_of(payment)
    unfulfilled = payment.refunds.filter(reason_code=RefundReason.UNFULFILLED)
    unfulfilled_ids = {r.visit_id for r in unfulfilled}
    confirmed = [v for v in visits if payment.is_paid and v.pk not in unfulfilled_ids]
    balance = _balance_cents(payment, visits)
    return render(
        request,
        "payments/status.html",
        {
            "payment": payment,
            "amount": money(payment.amount_cents),
            "visits": [
                {"pk": v.pk, "title": visit_title(v), "when": visit_when(v), "status": v.get_status_display()}
                for v in visits
            ],
            "balance_words": balance_words(balance),
            "has_balance": balance > 0,
            "confirmed": bool(confirmed),
            "refunded_unfulfilled": money(sum(r.amount_cents for r in unfulfilled)) if unfulfilled else "",
            "pay_url": _pay_url(payment),
        },
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def fake_pay(request, client_secret):
    """The local test gateway's card check (PAYMENT_GATEWAY=fake only): what Stripe's form does."""
    if gateway_name() != "fake":
        raise Http404
    payment = get_object_or_404(Payment, client_secret=client_secret, patient=request.user, gateway="fake")
    if request.method == "GET":
        return redirect(_pay_url(payment))
    form = FakeCardForm(request.POST)
    if form.is_valid():
        try:
            intent = fake.intent_pay(client_secret=client_secret, card_number=form.cleaned_data["card_number"])
        except GatewayError as exc:
            if exc.code == "incorrect_number":
                form.add_error("card_number", _("Your card number is incorrect."))
            elif exc.code == "payment_intent_unexpected_state":
                # Paid (or cancelled) meanwhile, by "pay" pressed twice: the return page reads the
                # intent and lands on the outcome, as Stripe's page would send the patient back.
                return redirect(reverse("payments:return", args=[payment.pk]))
            else:
                messages.error(request, exc.message)
                return redirect(_pay_url(payment))
        else:
            return redirect(f"{reverse('payments:return', args=[payment.pk])}?payment_intent={intent.id}")
    visits = _visits_of(payment)
    return render(request, "payments/pay.html", _pay_context(request, payment, visits, card_form=form), status=400)


@csrf_exempt
@require_POST
def stripe_webhook(request):
    """`/stripe/webhook/`: Stripe's events, signed. 400 refused, 200 done, 503 try again."""
    result = webhook_receive(payload=request.body, sig_header=request.headers.get("Stripe-Signature"))
    return JsonResponse({"detail": result.detail}, status=result.status)


@login_required
@require_GET
def receipt(request, payment_id):
    """The patient's receipt: what an HSA/FSA claim asks for (provider, tax id, patient, date of
    service, service, amount paid), printable or saved as PDF from the browser."""
    payment = selectors.payment_get_for_patient(patient=request.user, payment_id=payment_id)
    if payment is None:
        raise Http404
    allocations = list(payment.allocations.select_related("visit__service").order_by("visit__starts_at"))
    profile = getattr(request.user, "patient_profile", None)
    refunded = payment.amount_refunded_cents
    return render(
        request,
        "payments/receipt.html",
        {
            "payment": payment,
            "paid": payment.is_paid,  # PAID_STATUSES: refunded in part or in full included
            "patient_name": profile.full_legal_name if profile else request.user.get_full_name(),
            "lines": [
                {
                    "date": visit_when(a.visit),
                    "service": a.visit.service.display_name,
                    # "deposit of $450.00" read as a $450 deposit: the price is the whole, the amount the part.
                    "kind": _("deposit toward %(price)s") % {"price": money(a.visit.price_cents)}
                    if a.amount_cents < a.visit.price_cents
                    else _("paid in full"),
                    "amount": money(a.amount_cents),
                }
                for a in allocations
            ],
            "amount": money(payment.amount_cents),
            "refunded": money(refunded) if refunded else "",
            "net": money(payment.amount_cents - refunded),
            "clinic": {
                "name": settings.CLINIC_LEGAL_NAME,
                "address": settings.CLINIC_ADDRESS,
                "tax_id": settings.CLINIC_TAX_ID,
                "npi": settings.CLINIC_NPI,
                "phone": settings.CLINIC_PHONE,
            },
        },
    )
