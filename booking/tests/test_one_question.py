"""The one question (booking/safety.py): every path that books, moves, confirms or starts an infusion
asks it, and a path that skips it cannot be added without a test failing here.

Two kinds of proof: a refusal planted in `infusion_permission_for` stops every path, each with the
time and visit it is about; and the question is asked from a fixed list of places only (the guard,
visit_confirm, the hold services, the nurse's step check), so a new path has to go through one.
"""

import ast
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings

from booking import safety, services
from booking.errors import NotEligible
from booking.models import CancelledBy, Visit, VisitStatus
from booking.tests import factories as f
from booking.tests.conftest import TUESDAY, ny
from concierge.tests.factories import UserFactory
from nurses import services as nursing
from patients.selectors import Eligibility

S = VisitStatus
pytestmark = pytest.mark.django_db
THURSDAY = TUESDAY + timedelta(days=2)

REFUSED = safety.Permission(
    (safety.Reason("test", "Planted refusal (patient words).", "Planted refusal (staff words).", safety=True),)
)


@pytest.fixture
def refuse(monkeypatch):
    """From now on the one question says no; `asked` lists (at, visit id) of every asking."""
    asked = []

    def refusing(*, patient, at=None, visit=None, service=None, now=None):
        asked.append((at, visit.pk if visit is not None else None))
        return REFUSED

    def start():
        monkeypatch.setattr(safety, "infusion_permission_for", refusing)
        return asked

    return start


def test_every_booking_path_asks_and_refuses_with_the_patients_words(cleared, infusion, maya, nyc, refuse, clock):
    held = services.visit_hold(patient=cleared, service=infusion, starts_at=ny(TUESDAY, 10))
    confirmed = services.visit_confirm(
        visit=services.visit_hold(patient=cleared, service=infusion, starts_at=ny(THURSDAY, 10))
    )
    priya = f.ProviderFactory(home_zip="10001")
    nyc.providers.add(priya)
    asked = refuse()
    saturday = ny(TUESDAY + timedelta(days=4), 10)

    paths = {
        "single booking": lambda: services.visit_hold(patient=cleared, service=infusion, starts_at=saturday),
        "staff booking": lambda: services.visit_hold(
            patient=cleared, service=infusion, starts_at=saturday, provider=maya
        ),
        "series": lambda: services.series_hold(patient=cleared, service=infusion, visits=[(saturday, None)]),
        "patient reschedule": lambda: services.visit_reschedule(
            visit=confirmed, starts_at=saturday, by=CancelledBy.PATIENT, actor=cleared
        ),
        "staff reschedule": lambda: services.visit_reschedule(
            visit=confirmed, starts_at=saturday, by=CancelledBy.STAFF
        ),
        "staff reassignment": lambda: services.visit_reassign(visit=confirmed, provider=priya),
        "paying for a live hold": lambda: services.visit_confirm(visit=held),
    }
    for name, path in paths.items():
        asked.clear()
        with pytest.raises(NotEligible, match="Planted refusal"):
            path()
        assert asked, name
    assert Visit.objects.filter(patient=cleared).count() == 2
    assert Visit.objects.get(pk=confirmed.pk).starts_at == ny(THURSDAY, 10)
    assert Visit.objects.get(pk=held.pk).status == S.HELD

    # A hold that ran out and is paid late is taken again through the guard: asked there too.
    clock.shift(timedelta(minutes=11))
    services.visit_holds_expire()
    asked.clear()
    with pytest.raises(NotEligible):
        services.visit_confirm(visit=held)
    assert (ny(TUESDAY, 10), held.pk) in asked


def test_every_nurse_step_that_starts_an_infusion_asks(clock, patient, nurse, maya, refuse):
    f.cleared_patient(patient)
    visit = f.VisitFactory(
        patient=patient,
        provider=maya,
        clearance=patient.clearances.get(),
        starts_at=ny(TUESDAY, 10),
        ends_at=ny(TUESDAY, 12),
    )
    clock.move_to(ny(TUESDAY, 9))
    nursing.visit_check_in(
        visit=visit,
        nurse=nurse,
        adult_present=True,
        prep_followed=True,
        baseline=nursing.Vitals(None, 124, 78, 72, 98, 14),
    )
    someone = f.cleared_patient(UserFactory(role="patient"))
    other = f.VisitFactory(patient=someone, provider=maya, starts_at=ny(TUESDAY, 14), ends_at=ny(TUESDAY, 16))
    asked = refuse()

    steps = {
        "on my way": lambda: nursing.visit_on_my_way(visit=other, nurse=nurse),
        "check-in": lambda: nursing.visit_check_in(
            visit=other,
            nurse=nurse,
            adult_present=True,
            prep_followed=True,
            baseline=nursing.Vitals(None, 1, 1, 1, 1, 1),
        ),
        "vitals before the drug": lambda: nursing.vitals_record(
            visit=visit, nurse=nurse, vitals=nursing.Vitals(ny(TUESDAY, 9), 124, 78, 72, 98, 14)
        ),
        "the dose": lambda: nursing.dose_record(
            visit=visit,
            nurse=nurse,
            weight=72,
            weight_unit="kg",
            confirmed_dose_mg=36,
            lot_number="L",
            volume_ml=100,
            started_at=ny(TUESDAY, 9),
        ),
    }
    for name, step in steps.items():
        asked.clear()
        with pytest.raises(nursing.InfusionNotAllowed, match="Planted refusal \\(staff words\\)"):
            step()
        assert asked, name


def test_the_clinical_part_is_built_on_the_clinical_records_own_answer(cleared, monkeypatch):
    """Whatever booking_eligibility_for refuses (a consent not signed, a new rule) is a reason too."""
    from patients import selectors as patient_selectors

    assert safety.infusion_permission_for(patient=cleared).allowed
    monkeypatch.setattr(
        patient_selectors,
        "booking_eligibility_for",
        lambda *, patient, record=None: Eligibility(True, False, "Please sign the updated consent first."),
    )

    permission = safety.infusion_permission_for(patient=cleared)

    assert not permission.allowed and permission.codes == [safety.CLINICAL]
    assert permission.patient_words == "Please sign the updated consent first."


# Where the one question may be asked. Adding a place means adding it here, on purpose: every
# path that books or starts an infusion goes through one of these.
ASKED_IN = {
    ("booking/services/guard.py", "_permission_check"),
    ("booking/services/visits.py", "visit_confirm"),
    ("booking/services/safety_holds.py", "safety_holds_place"),
    ("booking/services/safety_holds.py", "safety_hold_release"),
    ("nurses/services/chart.py", "infusion_step_check"),
}


def _callers(name):
    found = set()
    root = Path(settings.BASE_DIR)
    for path in root.glob("*/**/*.py"):
        relative = path.relative_to(root).as_posix()
        if "/tests/" in relative or relative.startswith((".venv", "bench")) or "/migrations/" in relative:
            continue
        tree = ast.parse(path.read_text())
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef):
                continue
            for node in ast.walk(function):
                if isinstance(node, ast.Call):
                    target = node.func
                    called = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
                    if called == name:
                        found.add((relative, function.name))
    return found


def test_the_question_is_asked_in_the_known_places_only():
    assert _callers("infusion_permission_for") == ASKED_IN


def test_every_chart_step_that_starts_an_infusion_uses_the_step_check():
    # On my way, check-in, vitals and the dose: each asks through the one helper.
    assert {function for _, function in _callers("infusion_step_check")} >= {
        "visit_on_my_way",
        "visit_check_in",
        "vitals_record",
        "_start_check",
    }
    assert ("nurses/services/dose.py", "dose_record") in _callers("_start_check")
    # And every path into a blocking status goes through the guard, which asks.
    assert {function for _, function in _callers("_guard")} == {
        "visit_hold",
        "_take_again",  # a hold that ran out, taken again: visit_confirm and visit_hold_renew
        "visit_reschedule",
        "_series_place",  # series_hold's attempt (series_hold answers a double click with the first series)
    }
    assert {function for _, function in _callers("_take_again")} == {"visit_confirm", "visit_hold_renew"}
    assert {function for _, function in _callers("_series_place")} == {"series_hold"}
