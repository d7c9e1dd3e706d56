"""What payments announce to the layers above them (docs/architecture.md, "Seams").

payment_succeeded
    Sent by `payment_sync`, inside its transaction and under its locks, the first time a payment
    is seen paid, with `payment` (the locked Payment row). Booking listens
    (`booking.checkout.on_payment_succeeded`): it confirms the visits the payment covers, or hands
    the money back with `payment_refund_unfulfilled` when they cannot be kept. A receiver returns
    a list of notes for the caller's report; an exception rolls the whole sync back (a webhook then
    answers 503 and is delivered again). Sent with `send`, not `send_robust`: money must never be
    recorded as in while its visits were silently left unconfirmed.
"""

from django.dispatch import Signal

payment_succeeded = Signal()
