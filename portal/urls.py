from django.urls import path

from . import data_rights_views, views

app_name = "portal"

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/account/", views.account, name="account"),
    # Secure messages and follow-up check-ins (the patient's), the staff inbox (the care team's).
    path("dashboard/messages/", views.thread_list, name="messages"),
    path("dashboard/messages/new/", views.thread_new, name="message_new"),
    path("dashboard/messages/<oid:pk>/", views.thread_detail, name="thread"),
    path("dashboard/messages/<oid:pk>/support/", views.thread_support, name="thread_support"),
    path("dashboard/check-in/<oid:visit_id>/", views.checkin, name="checkin"),
    path("dashboard/check-in/<oid:visit_id>/thanks/", views.checkin_done, name="checkin_done"),
    path("dashboard/check-in/<oid:visit_id>/support/", views.checkin_support, name="checkin_support"),
    path("staff/messages/", views.staff_inbox, name="staff_inbox"),
    path("staff/messages/<oid:pk>/", views.staff_thread, name="staff_thread"),
    path("staff/messages/<oid:pk>/topic/", views.staff_thread_topic, name="staff_thread_topic"),
    # Data rights: download my data, close my account. The patient's own; no ids.
    path("dashboard/account/data/", data_rights_views.data_export, name="data_export"),
    path("dashboard/account/close/", data_rights_views.account_close, name="account_close"),
]
