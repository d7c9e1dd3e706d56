from django import template

from .. import display, selectors

register = template.Library()


@register.filter
def cents(value):
    """{{ payment.amount_cents|cents }} -> "$100.00"."""
    return display.money(value)


@register.filter
def reference(payment):
    return display.reference_html(payment)


@register.filter
def decline_words(message):
    """{{ payment.failure_message|decline_words }}: the decline in the patient's language."""
    return display.decline_words(message or "")


@register.filter
def visit_title(visit):
    return display.visit_title(visit)


@register.filter
def visit_when(visit):
    return display.visit_when(visit)


@register.inclusion_tag("payments/_payments_list.html")
def payments_for_patient(user):
    """The patient's payments section (the dashboard includes `payments/_dashboard_payments.html`)."""
    return {"payments": selectors.payment_list_for_patient(patient=user) if user.is_authenticated else []}


@register.filter
def payment_price(payment):
    """The full price of what a payment paid for (more than the payment when it was a deposit)."""
    return sum(a.visit.price_cents for a in payment.allocations.all())
