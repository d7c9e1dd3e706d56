"""Who may open what: a patient only their own records (another patient's id is 404), only patients
use the portal, and nobody logged out gets in."""

import pytest

from concierge.opaque import encode as oid
from patients.models import SafetyAlert

from .factories import screening, sent_intake

pytestmark = pytest.mark.django_db

PATIENT_PAGES = [
    "/dashboard/",
    "/dashboard/account/",
    "/profile/",
    "/intake/",
    "/intake/heart/",
    "/intake/review/",
    "/intake/versions/",
    "/questionnaires/",
    "/questionnaires/phq9/",
]


@pytest.fixture
def others_records(other_profile):
    """Olive's records: an intake version and a PHQ-9 with item 9 above 0."""
    intake = sent_intake(other_profile.user)
    phq9 = screening(other_profile.user, "phq9", [0] * 8 + [1])
    return {"intake": intake, "phq9": phq9}


def id_urls(records):
    """Every patients URL that takes an id."""
    return [
        f"/intake/versions/{oid(records['intake'].pk)}/",
        f"/questionnaires/results/{oid(records['phq9'].pk)}/",
        f"/questionnaires/results/{oid(records['phq9'].pk)}/support/",
    ]


def test_every_url_with_an_id_is_404_for_another_patient(client, profile, others_records):
    client.force_login(profile.user)

    for url in id_urls(others_records):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "Olive" not in response.content.decode()


def test_every_url_with_an_id_opens_for_its_own_patient(client, other_profile, others_records):
    client.force_login(other_profile.user)

    for url in id_urls(others_records):
        assert client.get(url).status_code == 200, url


def test_ids_that_do_not_exist_are_404(client, profile):
    client.force_login(profile.user)

    for url in ("/intake/versions/999999/", "/questionnaires/results/999999/", "/questionnaires/nope/"):
        assert client.get(url).status_code == 404, url


def test_the_patients_own_pages_never_show_another_patients_answers(client, profile, others_records):
    client.force_login(profile.user)

    for url in ("/intake/versions/", "/questionnaires/", "/dashboard/"):
        content = client.get(url).content.decode()
        assert f"/intake/versions/{oid(others_records['intake'].pk)}/" not in content
        assert f"/questionnaires/results/{oid(others_records['phq9'].pk)}/" not in content


def test_posting_does_not_reach_another_patients_records(client, profile, others_records, other_profile):
    client.force_login(profile.user)

    client.post("/intake/update/")
    client.post("/intake/discard/")

    assert SafetyAlert.objects.get().patient == other_profile.user
    assert others_records["intake"].patient.intakes.count() == 1


@pytest.mark.parametrize("who", ["nurse", "clinician", "staff_user"])
def test_people_who_are_not_patients_get_403_on_patient_pages(client, request, who):
    client.force_login(request.getfixturevalue(who))

    for url in PATIENT_PAGES:
        assert client.get(url).status_code == 403, url


def test_logged_out_visitors_are_sent_to_log_in(client):
    for url in PATIENT_PAGES:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next="), url


def test_state_changes_refuse_get(client, profile):
    client.force_login(profile.user)

    assert client.get("/intake/update/").status_code == 405
    assert client.get("/intake/discard/").status_code == 405
