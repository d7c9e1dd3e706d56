from datetime import date
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from .display import money


class FakeCardForm(forms.Form):
    """The local test gateway's card form (Stripe's own form is Stripe's Payment Element)."""

    card_number = forms.CharField(
        label=_("Card number"),
        max_length=23,
        widget=forms.TextInput(
            attrs={"autocomplete": "cc-number", "inputmode": "numeric", "placeholder": "4242 4242 4242 4242"}
        ),
    )
    expiry = forms.CharField(
        label=_("Expiry (MM / YY)"),
        max_length=7,
        widget=forms.TextInput(attrs={"autocomplete": "cc-exp", "inputmode": "numeric", "placeholder": "12 / 30"}),
    )
    cvc = forms.CharField(
        label=_("Security code (CVC)"),
        max_length=4,
        widget=forms.TextInput(attrs={"autocomplete": "cc-csc", "inputmode": "numeric", "placeholder": "123"}),
    )

    def clean_card_number(self):
        digits = "".join(ch for ch in self.cleaned_data["card_number"] if ch.isdigit())
        if not 13 <= len(digits) <= 19 or any(ch not in "0123456789 -" for ch in self.cleaned_data["card_number"]):
            raise forms.ValidationError(_("Enter the card number: 13 to 19 digits."))
        return digits

    def clean_expiry(self):
        value = self.cleaned_data["expiry"].replace(" ", "")
        parts = value.split("/")
        if len(parts) != 2 or not all(p.isdigit() for p in parts) or not 1 <= int(parts[0]) <= 12:
            raise forms.ValidationError(_("Enter the expiry as MM / YY, for example 12 / 30."))
        month, year = int(parts[0]), int(parts[1]) % 100 + 2000
        today = date.today()
        if (year, month) < (today.year, today.month):
            raise forms.ValidationError(_("This card has expired."))
        return f"{month:02d}/{year % 100:02d}"

    def clean_cvc(self):
        value = self.cleaned_data["cvc"].strip()
        if not value.isdigit() or len(value) not in (3, 4):
            raise forms.ValidationError(_("Enter the 3 or 4 digits on the back of the card."))
        return value


class StaffRefundForm(forms.Form):
    amount = forms.DecimalField(
        label=_("Amount to refund (USD)"), min_value=Decimal("0.01"), max_digits=9, decimal_places=2
    )
    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Kept with the refund. Not sent to the patient or to Stripe."),
    )

    def __init__(self, *args, refundable_cents, **kwargs):
        super().__init__(*args, **kwargs)
        self.refundable_cents = refundable_cents
        self.fields["amount"].help_text = _("At most %(amount)s.") % {"amount": money(refundable_cents)}
        if not self.is_bound:
            self.initial.setdefault("amount", Decimal(refundable_cents) / 100)

    def clean_amount(self):
        cents = int((self.cleaned_data["amount"] * 100).to_integral_value())
        if cents > self.refundable_cents:
            raise forms.ValidationError(
                _("At most %(amount)s can still be refunded.") % {"amount": money(self.refundable_cents)}
            )
        return cents

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("Say why you are refunding."))
        return reason
