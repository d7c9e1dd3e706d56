from django.urls import path

from . import views

app_name = "patients"

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("signup/terms/", views.terms, name="terms"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/account/", views.account, name="account"),
    path("profile/", views.profile, name="profile"),
    path("intake/", views.intake_start, name="intake"),
    path("intake/update/", views.intake_update, name="intake_update"),
    path("intake/discard/", views.intake_discard, name="intake_discard"),
    path("intake/review/", views.intake_review, name="intake_review"),
    path("intake/versions/", views.intake_versions, name="intake_versions"),
    path("intake/versions/<int:pk>/", views.intake_version, name="intake_version"),
    path("intake/<slug:slug>/", views.intake_section, name="intake_section"),
    path("questionnaires/", views.screenings, name="screenings"),
    path("questionnaires/results/<int:pk>/", views.screening_result, name="screening_result"),
    path("questionnaires/results/<int:pk>/support/", views.screening_support, name="screening_support"),
    path("questionnaires/<slug:instrument>/", views.screening_form, name="screening"),
]

# The care-team portal (issue 10): secure messages, follow-up check-ins, the staff inbox.
from . import portal_views  # noqa: E402

urlpatterns += [
    path("dashboard/messages/", portal_views.thread_list, name="messages"),
    path("dashboard/messages/new/", portal_views.thread_new, name="message_new"),
    path("dashboard/messages/<int:pk>/", portal_views.thread_detail, name="thread"),
    path("dashboard/messages/<int:pk>/support/", portal_views.thread_support, name="thread_support"),
    path("dashboard/check-in/<int:visit_id>/", portal_views.checkin, name="checkin"),
    path("dashboard/check-in/<int:visit_id>/thanks/", portal_views.checkin_done, name="checkin_done"),
    path("dashboard/check-in/<int:visit_id>/support/", portal_views.checkin_support, name="checkin_support"),
    path("staff/messages/", portal_views.staff_inbox, name="staff_inbox"),
    path("staff/messages/<int:pk>/", portal_views.staff_thread, name="staff_thread"),
    path("staff/messages/<int:pk>/topic/", portal_views.staff_thread_topic, name="staff_thread_topic"),
]

# Data rights (issue 9): download my data, close my account. The patient's own; no ids.
from . import data_rights_views  # noqa: E402

urlpatterns += [
    path("dashboard/account/data/", data_rights_views.data_export, name="data_export"),
    path("dashboard/account/close/", data_rights_views.account_close, name="account_close"),
]
