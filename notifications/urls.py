from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("twilio/sms/inbound/", views.twilio_inbound, name="twilio-inbound"),
    path("twilio/sms/status/", views.twilio_status, name="twilio-status"),
    path("outbox/", views.outbox, name="outbox"),
]
