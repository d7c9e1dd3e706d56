from django.urls import path

from . import views

app_name = "booking"

urlpatterns = [
    # Public
    path("coverage/", views.coverage, name="coverage"),
    path("coverage/waitlist/", views.waitlist, name="waitlist"),
    path("coverage/waitlist/thanks/", views.waitlist_done, name="waitlist_done"),
    # Booking (patients)
    path("book/", views.book, name="book"),
    path("book/series/", views.series, name="series"),
    path("book/series/change/<int:index>/", views.series_change, name="series_change"),
    path("book/series/<oid:pk>/checkout/", views.series_checkout, name="series_checkout"),
    path("book/<slug:code>/", views.book_days, name="days"),
    path("book/<slug:code>/review/", views.book_review, name="review"),
    path("book/<slug:code>/waitlist/", views.time_waitlist, name="time_waitlist"),
    path("book/<slug:code>/<day:day>/", views.book_times, name="times"),
    # The patient's own visits
    path("visits/", views.visit_list, name="visits"),
    path("visits/<oid:pk>/", views.visit_detail, name="visit"),
    path("visits/<oid:pk>/checkout/", views.checkout, name="checkout"),
    # The waitlist for freed times: an offer, held for the patient (issue 19).
    path("offers/<oid:pk>/", views.offer, name="offer"),
    # Paying for a hold: the payment page (payments) right after the checkout opens the payment.
    path("pay/<oid:visit_id>/", views.pay_visit, name="pay"),
    path("pay/series/<oid:series_id>/", views.pay_series, name="pay_series"),
    path("visits/<oid:pk>/calendar.ics", views.visit_ics, name="visit_ics"),
    # The patient's calendar subscription: the token is the key (calendar apps cannot log in).
    path("calendar/<str:token>/visits.ics", views.calendar_feed, name="calendar_feed"),
    path("visits/calendar/new-address/", views.calendar_feed_reset, name="calendar_feed_reset"),
    path("visits/<oid:pk>/cancel/", views.visit_cancel, name="cancel"),
    path("visits/<oid:pk>/cancel/support/", views.cancel_support, name="cancel_support"),
    path("visits/<oid:pk>/reschedule/", views.visit_reschedule, name="reschedule"),
    path("visits/<oid:pk>/reschedule/<day:day>/", views.visit_reschedule_times, name="reschedule_times"),
]

# Video evaluations (issue 10): the join link for patients and clinicians, the clinicians' list.
from . import telehealth_views  # noqa: E402

urlpatterns += [
    path("visits/<oid:pk>/join/", telehealth_views.visit_join, name="join"),
    path("staff/evaluations/", telehealth_views.evaluations, name="staff_evaluations"),
    path("staff/evaluations/<oid:pk>/join/", telehealth_views.evaluation_join, name="staff_join"),
    path("staff/evaluations/<oid:pk>/link/", telehealth_views.evaluation_link, name="staff_video_link"),
]
