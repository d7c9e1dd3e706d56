"""The row checkbox of every admin list (concierge.admin.action_checkbox) is Django's markup."""

import pytest
from django.contrib import admin
from django.urls import reverse
from django.utils import translation

from booking.models import Visit
from booking.tests import factories as bf
from concierge.admin import DJANGO_ACTION_CHECKBOX, action_checkbox
from concierge.models import User
from concierge.testing import VerifiedClient
from concierge.tests.factories import UserFactory
from notifications.models import Message
from notifications.tests.factories import MessageFactory
from patients.models import PatientProfile
from patients.tests.factories import PatientProfileFactory

pytestmark = pytest.mark.django_db


def test_every_admin_list_uses_the_written_checkbox():
    for model_admin in admin.site._registry.values():
        assert model_admin.action_checkbox.__func__ is action_checkbox, type(model_admin)


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_checkbox_is_the_markup_django_renders_even_for_a_name_with_markup_in_it(language):
    profile = PatientProfileFactory(preferred_name='<b>"Ann" & Co\'s</b>')  # its str is the name
    visit = bf.VisitFactory(patient=profile.user)
    message = MessageFactory(recipient=profile.user)
    assert str(profile) == '<b>"Ann" & Co\'s</b>'
    for model, obj in ((Visit, visit), (Message, message), (PatientProfile, profile), (User, profile.user)):
        model_admin = admin.site._registry[model]
        with translation.override(language):
            assert action_checkbox(model_admin, obj) == DJANGO_ACTION_CHECKBOX(model_admin, obj), model


def test_a_list_offers_a_checkbox_per_row_and_an_action_acts_on_the_ticked_rows():
    superuser = UserFactory(is_staff=True, is_superuser=True)
    failed = MessageFactory(status="failed", last_error="Gateway down")
    MessageFactory(status="sent")
    client = VerifiedClient()
    client.force_login(superuser)
    url = reverse("admin:notifications_message_changelist")

    page = client.get(url).content.decode()
    assert page.count('class="action-select"') == 2
    assert f'name="_selected_action" value="{failed.pk}"' in page

    client.post(url, {"action": "resend", "_selected_action": [failed.pk]})
    failed.refresh_from_db()
    assert failed.status != "failed"  # sent again
