"""The admin's sidebar is drawn once per kind of login (staff/admin/site.py), and is always the
sidebar Django draws for that person on that page: the apps they may open, the page's own app
and model marked, in their language; a change to their permissions or role shows on their next page.
"""

import re

import pytest
from django.contrib.admin import AdminSite, site
from django.contrib.auth.models import Permission
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from booking.tests import factories as bf
from concierge.services import user_set_role
from concierge.tests.factories import UserFactory

from .conftest import logged_in

SIDEBAR = re.compile(r'<button class="sticky toggle-nav-sidebar".*?</nav>', re.S)


def djangos_sidebar(response):
    """What Django's own admin/nav_sidebar.html draws, from Django's own app list, for this request."""
    request = response.wsgi_request
    with translation.override(request.LANGUAGE_CODE):
        apps = AdminSite.get_app_list(site, request)  # the class's method: not the kept one
        return render_to_string("admin/nav_sidebar.html", {"available_apps": apps, "request": request})


def sidebar(response):
    assert response.status_code == 200
    found = SIDEBAR.search(response.content.decode())
    assert found, ("no sidebar on the page", response.wsgi_request.path)
    return found.group(0)


def shown_models(response):
    return re.findall(r'<tr class="model-(\w+)', sidebar(response))


@pytest.mark.parametrize("who", ["superuser", "clinician", "manager", "staff"])
def test_each_login_gets_the_sidebar_django_draws_on_each_page(who, roles):
    visit = bf.VisitFactory()
    user = UserFactory(role="staff" if who == "superuser" else who, is_staff=True, is_superuser=who == "superuser")
    client = logged_in(user)
    pages = [
        reverse("admin:booking_visit_changelist"),
        reverse("admin:booking_visit_change", args=[visit.pk]),
        reverse("admin:patients_patientprofile_changelist"),
    ]
    for url in pages * 2:  # the second time from what was kept
        response = client.get(url)
        assert sidebar(response) == djangos_sidebar(response).strip(), url

    marked = re.findall(r'<tr class="model-(\w+) current-model">', sidebar(client.get(pages[2])))
    assert marked == ["patientprofile"]

    # The index and an app's page (no sidebar) list what Django's app list holds.
    for url, label in ((reverse("admin:index"), None), (reverse("admin:app_list", args=["booking"]), "booking")):
        for _ in range(2):
            response = client.get(url)
            listed = re.findall(r'<th scope="row" id="(\w+-\w+)">', response.content.decode())
            expected = AdminSite.get_app_list(site, response.wsgi_request, label)
            assert listed == [f"{a['app_label']}-{m['object_name'].lower()}" for a in expected for m in a["models"]]


def test_a_spanish_speaking_login_gets_it_in_spanish(roles):
    user = UserFactory(role="manager", is_staff=True, language="es")
    client = logged_in(user)

    response = client.get(reverse("admin:booking_visit_changelist"))

    assert response.wsgi_request.LANGUAGE_CODE == "es"
    assert sidebar(response) == djangos_sidebar(response).strip()
    assert "Empiece a escribir para filtrar" in sidebar(response)


def test_a_new_permission_or_role_shows_on_the_next_page(roles):
    user = UserFactory(role="staff", is_staff=True)
    client = logged_in(user)
    url = reverse("admin:booking_visit_changelist")
    before = shown_models(client.get(url))
    unseen = next(m for m in site._registry if m._meta.model_name not in before)
    assert "visit" in before

    meta = unseen._meta
    user.user_permissions.add(
        Permission.objects.get(codename=f"view_{meta.model_name}", content_type__app_label=meta.app_label)
    )
    assert set(shown_models(client.get(url))) == {*before, meta.model_name}

    user_set_role(user=user, role="manager")
    as_manager = client.get(url)
    assert sidebar(as_manager) == djangos_sidebar(as_manager).strip()

    user.user_permissions.clear()
    user_set_role(user=user, role="staff")
    assert shown_models(client.get(url)) == before


def test_a_page_drawn_after_logging_out_has_no_apps_to_offer(rf):
    """`viewer` of someone not logged in (Django's own logout page has no sidebar; any other page
    drawn for them would list nothing)."""
    from django.contrib.auth.models import AnonymousUser

    from staff.admin.site import viewer

    request = rf.get("/admin/")
    request.user = AnonymousUser()

    assert viewer(request)[0] == ("nobody",)
    assert site.get_app_list(request) == AdminSite.get_app_list(site, request) == []


def test_a_superusers_role_decides_the_clinical_acts_offered(roles):
    """A superuser has every permission, but adding a clearance also asks for the clinician role:
    the list kept for one superuser is not another's, and a role change shows on the next page."""
    add_clearance = reverse("admin:patients_clearance_add")
    doctor = logged_in(UserFactory(role="clinician", is_staff=True, is_superuser=True, email="doc@example.com"))
    desk_user = UserFactory(role="staff", is_staff=True, is_superuser=True, email="desk@example.com")
    desk = logged_in(desk_user)
    url = reverse("admin:booking_visit_changelist")

    assert add_clearance in doctor.get(reverse("admin:index")).content.decode()
    assert add_clearance in sidebar(doctor.get(url))
    index = desk.get(reverse("admin:index")).content.decode()
    assert add_clearance not in index
    page = desk.get(url)
    assert add_clearance not in sidebar(page)
    assert sidebar(page) == djangos_sidebar(page).strip()

    user_set_role(user=desk_user, role="clinician")
    page = desk.get(url)
    assert add_clearance in sidebar(page)
    assert sidebar(page) == djangos_sidebar(page).strip()

    user_set_role(user=desk_user, role="staff")
    assert add_clearance not in desk.get(reverse("admin:index")).content.decode()
