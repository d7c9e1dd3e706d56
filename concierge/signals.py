"""What the core tells the apps above it (they import concierge; concierge never imports them).

password_reset_requested
    Someone asked to reset the password of an account that exists and may log in.
    Sent (sender: the form class) by concierge.forms.ResetRequestForm.send_mail during the
    request, with `send`. The email is only written there, never sent: no mail server round trip
    in the request tells whether an address has an account.
    Listened to by notifications (services.password_reset_email, connected in
    NotificationsConfig.ready): the email goes through the outbox, as a sensitive message (staff
    never see the link; it is blanked once sent and never sent again).
"""

from django.dispatch import Signal

password_reset_requested = Signal()  # sent with user (User), reset_url (str: a credential; never log it)
