"""Secure messages: a patient writes, the care team answers, the notices carry no content, and who on the
care team may read and answer what."""

import re

import pytest
from django.core import mail

from concierge.opaque import encode as oid
from notifications import content
from notifications.content import forbidden_words_in
from notifications.models import Channel, Message
from patients.models import SafetyAlert
from portal import messaging
from portal import messaging_selectors as selectors
from portal.models import MessageSender, MessageThread, ThreadMessage, ThreadTopic

from .factories import answer, thread_for, token

pytestmark = pytest.mark.django_db

SECRET = "my blood pressure pills make me dizzy"


@pytest.fixture
def sent(django_capture_on_commit_callbacks):
    """Run a block with its after-commit work (the outbox sends) done, like a real request."""

    def run(fn, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)

    return run


def outbox(template):
    return list(Message.objects.filter(template=template).order_by("pk"))


# --- writing and answering ----------------------------------------------------------------------


def test_a_patient_starts_a_thread_from_the_dashboard_and_it_waits_for_the_care_team(
    client, profile, daytime, django_capture_on_commit_callbacks
):
    client.force_login(profile.user)
    page = client.get("/dashboard/")
    assert "Write to your care team" in page.content.decode()

    form = client.get("/dashboard/messages/new/")
    posted_token = form.context["form"].initial["token"]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/dashboard/messages/new/",
            {"topic": "health", "subject": "Dizzy after my visit", "body": SECRET, "token": posted_token},
        )

    thread = MessageThread.objects.get()
    assert response["Location"] == f"/dashboard/messages/{oid(thread.pk)}/"
    assert (thread.patient, thread.topic, thread.subject, thread.urgent) == (
        profile.user,
        "health",
        "Dizzy after my visit",
        False,
    )
    assert thread.waiting_since is not None and thread.answered_at is None
    [message] = thread.messages.all()
    assert (message.sender, message.body, message.danger_words) == (MessageSender.PATIENT, SECRET, [])
    page = client.get(response["Location"]).content.decode()
    assert SECRET in page and "Your care team will answer here" in page

    # The care team's inbox is told, with a neutral subject and a link only.
    [notice] = [m for m in mail.outbox if m.to == ["care@conciergemd.example"]]
    assert notice.subject == "A patient sent a message through the portal"
    assert f"/staff/messages/{oid(thread.pk)}/" in notice.body
    for text in (notice.subject, notice.body):
        assert SECRET not in text and "Dizzy" not in text and "Quinn" not in text and profile.user.email not in text


def test_sending_the_same_form_twice_sends_once(profile, daytime):
    same = token()
    first = messaging.thread_start(patient=profile.user, topic="logistics", subject="Hi", body="Hello", form_token=same)
    again = messaging.thread_start(patient=profile.user, topic="logistics", subject="Hi", body="Hello", form_token=same)
    reply_token = token()
    one = messaging.thread_message_post(thread=first.thread, author=profile.user, body="More", form_token=reply_token)
    two = messaging.thread_message_post(thread=first.thread, author=profile.user, body="More", form_token=reply_token)

    assert again.pk == first.pk and one.pk == two.pk
    assert MessageThread.objects.count() == 1
    assert ThreadMessage.objects.count() == 2
    assert Message.objects.filter(template="staff_alert").count() == 1  # one notice per waiting spell


def test_bad_input_is_refused_beside_the_field_and_what_was_typed_is_kept(client, profile):
    client.force_login(profile.user)
    response = client.post(
        "/dashboard/messages/new/", {"topic": "", "subject": "Can I eat before?", "body": "   ", "token": token()}
    )

    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["topic"] == ["Please choose what it is about."]
    assert form.errors["body"] == ["Please write your message."]
    assert 'value="Can I eat before?"' in response.content.decode()
    assert not MessageThread.objects.exists()


def test_an_answer_tells_the_patient_by_text_with_no_content_and_the_patient_reads_it(
    client, profile, clinician, daytime, sent, sms_sent
):
    first = thread_for(profile.user, topic=ThreadTopic.HEALTH, subject="Dizzy", body=SECRET)
    reply = sent(answer, first.thread, clinician, "Lie down and drink water; a clinician will call at 2 PM.")

    thread = MessageThread.objects.get()
    assert thread.waiting_since is None
    assert (thread.answered_by, thread.answered_at) == (clinician, reply.created_at)
    [notice] = outbox("portal_message")
    assert (notice.channel, notice.recipient, notice.status) == (Channel.SMS, profile.user, "sent")
    [text] = sms_sent
    assert text.to == "+12125550143"
    assert text.body == (
        "Hi Pat, you have a new message from ConciergeMD. Log in to read it: http://testserver/dashboard/messages/ "
        "Reply STOP to opt out"
    )

    client.force_login(profile.user)
    listing = client.get("/dashboard/").content.decode()
    assert "You have 1 new answer from your care team." in listing
    page = client.get(f"/dashboard/messages/{oid(thread.pk)}/").content.decode()
    assert "a clinician will call at 2 PM" in page and "Cleo, care team" in page
    assert selectors.unread_count_for_patient(patient=profile.user) == 0


@pytest.mark.parametrize(("threads", "answered"), [(2, 1), (3, 2), (5, 4)])
def test_the_dashboard_counts_every_unread_answer_not_only_the_threads_it_shows(
    client, profile, clinician, daytime, threads, answered
):
    started = [thread_for(profile.user, subject=f"Question {n}") for n in range(threads)]
    for message in started[:answered]:  # with five threads, four answered: more than the three shown
        answer(message.thread, clinician, "Yes, that is fine.")
    client.force_login(profile.user)

    page = client.get("/dashboard/").content.decode()

    assert f"You have {answered} new answer" in page
    assert selectors.unread_count_for_patient(patient=profile.user) == answered


def test_a_patient_without_text_consent_gets_an_email_that_holds_no_content(
    profile, clinician, daytime, sent, sms_sent
):
    profile.sms_opt_in = False
    profile.save()
    first = thread_for(profile.user, topic=ThreadTopic.HEALTH, subject="My dose", body=SECRET)
    sent(answer, first.thread, clinician, "Your dose stays at 0.5 mg/kg; see you Thursday.")

    assert sms_sent == []
    [email] = [m for m in mail.outbox if m.to == [profile.user.email]]
    assert email.subject == "You have a new message from ConciergeMD"
    html = email.alternatives[0][0]
    assert "http://testserver/dashboard/messages/" in email.body and "http://testserver/dashboard/messages/" in html
    for text in (email.subject, email.body, re.sub(r"<[^>]+>", " ", html)):
        assert "0.5" not in text and "Thursday" not in text and "dose" not in text.lower()
        assert forbidden_words_in(text) == []


def test_the_notices_render_without_any_of_the_message_whatever_it_says(profile, clinician, daytime):
    """Rendered exactly as the gateway would send them: the templates never see the message."""
    first = thread_for(profile.user, topic=ThreadTopic.HEALTH, subject="ketamine and PTSD", body=SECRET)
    reply = answer(first.thread, clinician, "Your PHQ-9 score of 87 is lower: the ketamine infusions help.")
    rows = [
        Message(channel=channel, recipient=profile.user, template="portal_message", unique_key=f"x:{channel}")
        for channel in (Channel.SMS, Channel.EMAIL)
    ]
    for row in rows:
        rendered = content.render(row)
        for text in (rendered.subject, rendered.text, re.sub(r"<[^>]+>", " ", rendered.html)):
            assert forbidden_words_in(text) == []
            assert "87" not in text and SECRET not in text and first.thread.subject not in text
    assert Message.objects.get(template="portal_message").context == {}  # nothing of it is even stored
    assert reply.body not in str(Message.objects.values_list("context", "subject", "body").first())


def test_several_answers_before_the_patient_reads_make_one_notice(profile, clinician, daytime, sent):
    first = thread_for(profile.user, topic=ThreadTopic.HEALTH)
    sent(answer, first.thread, clinician, "One.")
    sent(answer, first.thread, clinician, "Two.")
    assert len(outbox("portal_message")) == 1

    messaging.thread_mark_read(thread=first.thread, user=profile.user)
    sent(answer, first.thread, clinician, "Three.")
    assert len(outbox("portal_message")) == 2


def test_a_patients_reply_reopens_the_wait_and_tells_the_care_team_again(profile, staff_user, daytime, sent):
    first = sent(thread_for, profile.user)
    sent(answer, first.thread, staff_user)
    sent(
        messaging.thread_message_post,
        thread=first.thread,
        author=profile.user,
        body="Thanks! One more thing.",
        form_token=token(),
    )

    thread = MessageThread.objects.get()
    assert thread.waiting_since is not None
    assert len(outbox("staff_alert")) == 2


# --- who on the care team may read and answer what ---------------------------------------------------


def test_schedulers_answer_logistics_but_never_open_health_threads(client, profile, staff_user, clinician, daytime):
    logistics = thread_for(profile.user, subject="Parking", body="Where should the nurse park?").thread
    health = thread_for(profile.user, topic=ThreadTopic.HEALTH, subject="Nausea", body=SECRET).thread
    client.force_login(staff_user)

    inbox = client.get("/staff/messages/").content.decode()
    assert "Parking" in inbox
    assert "Nausea" not in inbox and SECRET not in inbox
    assert "About the patient's health: for a clinician" in inbox  # listed as waiting, without its subject
    assert client.get(f"/staff/messages/{oid(health.pk)}/").status_code == 404
    assert client.post(f"/staff/messages/{oid(health.pk)}/", {"body": "x", "token": token()}).status_code == 404
    admin_list = client.get("/admin/portal/messagethread/").content.decode()
    assert "Nausea" not in admin_list and "Parking" in admin_list

    response = client.post(f"/staff/messages/{oid(logistics.pk)}/", {"body": "By the side door.", "token": token()})
    assert response.status_code == 302
    assert ThreadMessage.objects.filter(thread=logistics, author=staff_user).exists()
    with pytest.raises(messaging.NotAllowed):
        answer(health, staff_user)


def test_clinicians_read_and_answer_every_thread(client, profile, clinician, daytime):
    logistics = thread_for(profile.user, subject="Parking").thread
    health = thread_for(profile.user, topic=ThreadTopic.HEALTH, subject="Nausea", body=SECRET).thread
    client.force_login(clinician)

    inbox = client.get("/staff/messages/").content.decode()
    assert "Parking" in inbox and "Nausea" in inbox
    page = client.get(f"/staff/messages/{oid(health.pk)}/").content.decode()
    assert SECRET in page
    client.post(f"/staff/messages/{oid(health.pk)}/", {"body": "Call us if it lasts.", "token": token()})
    client.post(f"/staff/messages/{oid(logistics.pk)}/", {"body": "By the side door.", "token": token()})
    assert ThreadMessage.objects.filter(author=clinician).count() == 2


def test_a_superuser_scheduler_still_does_not_answer_health_threads(profile, staff_user, daytime):
    staff_user.is_superuser = True
    staff_user.save()
    health = thread_for(profile.user, topic=ThreadTopic.HEALTH).thread
    assert not selectors.may_answer(staff_user, health)


def test_nurses_patients_and_strangers_never_reach_the_staff_inbox(client, profile, other_profile, nurse, daytime):
    thread = thread_for(profile.user).thread
    urls = ["/staff/messages/", f"/staff/messages/{oid(thread.pk)}/"]
    for user in (nurse, other_profile.user, profile.user):
        client.force_login(user)
        for url in urls:
            assert client.get(url).status_code == 403, (user, url)
        assert client.post(f"/staff/messages/{oid(thread.pk)}/topic/", {"topic": "health"}).status_code == 403
    client.logout()
    for url in urls:
        assert client.get(url)["Location"].startswith("/accounts/login/")


def test_a_scheduler_hands_a_thread_with_clinical_content_to_the_clinicians(
    client, profile, staff_user, clinician, daytime
):
    thread = thread_for(profile.user, subject="Billing", body="Also my mood has been low").thread
    client.force_login(staff_user)

    response = client.post(f"/staff/messages/{oid(thread.pk)}/topic/", {"topic": "health"})

    assert response["Location"] == "/staff/messages/"  # they may no longer open it
    thread.refresh_from_db()
    assert thread.topic == ThreadTopic.HEALTH
    assert client.get(f"/staff/messages/{oid(thread.pk)}/").status_code == 404
    messaging.thread_topic_set(thread=thread, topic=ThreadTopic.LOGISTICS, actor=clinician)
    thread.refresh_from_db()
    assert thread.topic == ThreadTopic.LOGISTICS


# --- a patient sees only their own threads -------------------------------------------------------------


def test_every_message_url_with_an_id_is_404_for_another_patient(client, profile, other_profile, daytime):
    olive = thread_for(other_profile.user, subject="Olive's question", body="Olive writes").thread
    olive.urgent = True
    olive.save()
    client.force_login(profile.user)

    for url in (
        f"/dashboard/messages/{oid(olive.pk)}/",
        f"/dashboard/messages/{oid(olive.pk)}/support/",
        "/dashboard/messages/999999/",
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "Olive" not in response.content.decode()
    assert client.post(f"/dashboard/messages/{oid(olive.pk)}/", {"body": "Hi", "token": token()}).status_code == 404
    assert ThreadMessage.objects.filter(author=profile.user).count() == 0
    for url in ("/dashboard/messages/", "/dashboard/"):
        assert "Olive" not in client.get(url).content.decode()


def test_staff_and_nurses_cannot_use_the_patient_message_pages(client, profile, staff_user, nurse, daytime):
    thread = thread_for(profile.user).thread
    for user in (staff_user, nurse):
        client.force_login(user)
        for url in ("/dashboard/messages/", "/dashboard/messages/new/", f"/dashboard/messages/{oid(thread.pk)}/"):
            assert client.get(url).status_code == 403


# --- the danger-word path ----------------------------------------------------------------------------


def test_a_message_with_danger_words_shows_988_and_911_alerts_the_on_call_clinician_and_holds_infusions(
    client, profile, daytime, django_capture_on_commit_callbacks
):
    client.force_login(profile.user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/dashboard/messages/new/",
            {
                "topic": "logistics",
                "subject": "Invoice",
                "body": "I can\u2019t do this anymore. I want to kill myself.",
                "token": token(),
            },
        )

    thread = MessageThread.objects.get()
    assert response["Location"] == f"/dashboard/messages/{oid(thread.pk)}/support/"
    page = client.get(response["Location"]).content.decode()
    assert 'href="tel:988"' in page and 'href="sms:988"' in page and 'href="tel:911"' in page
    assert "Your message is sent to your care team." in page

    # The thread goes to the clinicians, urgent; the alert holds infusions like the PHQ-9 item 9 path.
    assert (thread.urgent, thread.topic) == (True, ThreadTopic.HEALTH)
    message = thread.messages.get()
    assert message.danger_words == ["kill myself", "end my life"]  # "I can't do this anymore" too
    alert = SafetyAlert.objects.get()
    assert (alert.patient, alert.reason, alert.message, alert.is_open) == (profile.user, "message", message, True)
    assert alert.notified_at is not None
    profile.refresh_from_db()
    assert profile.safety_review_required is True

    # The on-call clinician: at once, a neutral subject, links only, never the words.
    [urgent] = [m for m in mail.outbox if m.to == ["clinician@demo.conciergemd.example"]]
    assert urgent.subject == "Urgent: a patient needs a safety review"
    assert f"/admin/patients/safetyalert/{alert.pk}/change/" in urgent.body
    assert f"/staff/messages/{oid(thread.pk)}/" in urgent.body
    for text in (urgent.subject, urgent.body):
        assert "kill" not in text.lower() and "Invoice" not in text and profile.user.email not in text
    # The dashboard now says a clinician will call, with 988 at hand.
    assert "call or text 988 now" in client.get("/dashboard/").content.decode()


def test_the_on_call_clinician_sees_the_alert_and_the_message_and_resolving_lifts_the_hold(
    client, profile, clinician, daytime
):
    from patients import services

    message = thread_for(profile.user, subject="Help", body="I took too many pills an hour ago")
    alert = SafetyAlert.objects.get()
    client.force_login(clinician)

    alert_page = client.get(f"/admin/patients/safetyalert/{alert.pk}/change/").content.decode()
    assert f"/staff/messages/{oid(message.thread_id)}/" in alert_page
    thread_page = client.get(f"/staff/messages/{oid(message.thread_id)}/").content.decode()
    assert "I took too many pills" in thread_page and "Danger words: overdose" in thread_page
    assert "Urgent" in client.get("/staff/messages/").content.decode()

    services.safety_alert_resolve(alert=alert, clinician=clinician, note="Called; safe with family; ER not needed.")
    profile.refresh_from_db()
    assert profile.safety_review_required is False


def test_the_danger_path_runs_once_for_one_message_and_the_thread_cannot_go_back_to_schedulers(
    profile, clinician, daytime
):
    same = token()
    for _ in range(2):
        messaging.thread_start(
            patient=profile.user, topic="logistics", subject="Chest pain", body="since noon", form_token=same
        )
    assert SafetyAlert.objects.count() == 1
    assert Message.objects.filter(unique_key__startswith="staff-alert:safety-alert:").count() == 1
    thread = MessageThread.objects.get()
    with pytest.raises(messaging.InvalidState):
        messaging.thread_topic_set(thread=thread, topic=ThreadTopic.LOGISTICS, actor=clinician)


def test_ordinary_messages_raise_nothing(profile, daytime):
    for body in ("Can I reschedule to Friday?", "The nurse was lovely, thank you", "Where do I park? Skill level zero"):
        thread_for(profile.user, body=body)
    assert not SafetyAlert.objects.exists()
    assert not MessageThread.objects.filter(urgent=True).exists()


# --- query counts ------------------------------------------------------------------------------------


def test_the_inbox_and_the_patients_list_take_a_fixed_number_of_queries(
    client, profile, other_profile, clinician, daytime, django_assert_max_num_queries
):
    for n in range(3):
        thread_for(profile.user, subject=f"Question {n}")
        answer(thread_for(other_profile.user, subject=f"Other {n}").thread, clinician)
    client.force_login(clinician)
    client.get("/staff/messages/")  # warm the session and permission caches
    with django_assert_max_num_queries(14):
        assert client.get("/staff/messages/").status_code == 200
    for n in range(3, 10):
        thread_for(profile.user, subject=f"Question {n}")
    with django_assert_max_num_queries(14):
        assert client.get("/staff/messages/").status_code == 200

    client.force_login(profile.user)
    client.get("/dashboard/messages/")
    with django_assert_max_num_queries(10):
        assert client.get("/dashboard/messages/").status_code == 200


def test_a_scheduler_is_told_health_conversations_are_for_clinicians(client, profile, staff_user, clinician, daytime):
    from concierge.testing import VerifiedClient

    answered = thread_for(profile.user, subject="About my dose", topic=ThreadTopic.HEALTH).thread
    answer(answered, clinician)
    for user, shown, empty in (
        (clinician, True, "No answered conversations yet."),
        (staff_user, False, "No answered conversations about visits, payments or the account yet"),
    ):
        staff = VerifiedClient()
        staff.force_login(user)
        page = staff.get("/staff/messages/").content.decode()
        assert ("About my dose" in page) is shown, user
        assert (empty in page) is not shown, user
