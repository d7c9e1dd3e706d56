from django.urls import path

from . import views

app_name = "nurses"

urlpatterns = [
    path("", views.today, name="today"),
    path("week/", views.week, name="week"),
    path("visits/<oid:pk>/", views.visit_detail, name="visit"),
    path("visits/<oid:pk>/on-my-way/", views.on_my_way, name="on_my_way"),
    path("visits/<oid:pk>/check-in/", views.check_in, name="check_in"),
    path("visits/<oid:pk>/vitals/", views.vitals, name="vitals"),
    path("visits/<oid:pk>/dose/", views.dose, name="dose"),
    path("visits/<oid:pk>/discharge/", views.discharge, name="discharge"),
    path("visits/<oid:pk>/sign/", views.sign, name="sign"),
    path("visits/<oid:pk>/no-show/", views.no_show, name="no_show"),
    path("visits/<oid:pk>/stop/", views.stop, name="stop"),
    path("visits/<oid:pk>/amend/", views.amend, name="amend"),
]
