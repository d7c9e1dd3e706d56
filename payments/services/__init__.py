"""Money use cases: open a payment for visits, follow the gateway, refund, reconcile.

The money rules (docs/design.md): no confirmed visit without a successful payment, no payment kept
without a visit, nothing charged or refunded twice.

Payments know money, not the visit life cycle (booking, a layer above, owns that):

- Booking's checkout locks the held visits, checks them, and asks `payment_open` for the one
  open payment covering them (one per visit or series, with its own idempotency key), then
  `payment_intent_ensure` outside any transaction for its PaymentIntent. A declined card is
  retried on the same intent.
- `payment_sync` is the one place where the gateway's view of an intent reaches our rows; the
  webhook, the return page and reconciliation all call it. It locks (concierge/locking.py: the
  visits' providers and patients, the visits, then the payment) and moves the status forward
  only. The first sync that sees the money in sends `signals.payment_succeeded`; booking's
  receiver confirms the visits, or hands the money back (`payment_refund_unfulfilled`) when the
  time could not be kept. Then the receipt goes out, once, through the outbox.
- A refund is a row first (with its own idempotency key), sent to the gateway after commit by
  a task; its status then follows the gateway's events (`refund_sync`). Booking decides how
  much of a cancelled visit goes back (booking/policy.py) and records it with `refund_for_visit`.

Gateway calls never happen while we hold row locks: a slow network must not block bookings.

One module per use case (this package re-exports their public functions, so callers keep
writing `from payments import services; services.payment_sync(...)`):

    opening     payment_open, payment_intent_ensure: the open payment for held visits, its intent
    sync        payment_sync: the gateway's view of an intent reaches our rows (and the signal)
    refunds     refund_for_visit, refund_create, payment_refund_unfulfilled, refund_submit,
                refund_reject, refund_sync, visit_paid_allocation
    disputes    payment_dispute_record
    abandon     payment_abandon, visit_payments_cancel_open: payments nobody will finish
    events      webhook_event_handle: the gateway's events, once per event id
    reconcile   payments_reconcile, ReconcileReport: what a lost webhook left, fixed

A name with a leading underscore is for these modules only (a few are shared between them).
"""

from .abandon import payment_abandon, visit_payments_cancel_open
from .disputes import payment_dispute_record
from .events import webhook_event_handle
from .opening import payment_intent_ensure, payment_open
from .reconcile import ReconcileReport, payments_reconcile
from .refunds import (
    payment_refund_unfulfilled,
    refund_create,
    refund_for_visit,
    refund_reject,
    refund_submit,
    refund_sync,
    visit_paid_allocation,
)
from .sync import payment_sync

__all__ = [
    "ReconcileReport",
    "payment_abandon",
    "payment_dispute_record",
    "payment_intent_ensure",
    "payment_open",
    "payment_refund_unfulfilled",
    "payment_sync",
    "payments_reconcile",
    "refund_create",
    "refund_for_visit",
    "refund_reject",
    "refund_submit",
    "refund_sync",
    "visit_paid_allocation",
    "visit_payments_cancel_open",
    "webhook_event_handle",
]
