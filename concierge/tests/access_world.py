"""What the authorization matrix and the CSRF tests share: the URL walk and a small world.

The world is built lazily: a test asks for the people and objects its URL needs, and only those
are made (with the apps' own factories). The clock stands on Monday 2 March 2026, 9:00 in New
York, like the booking and payments tests, so every visit below has a fixed, bookable time.
"""

import re
from datetime import UTC, date, datetime, time, timedelta
from functools import cache, cached_property
from zoneinfo import ZoneInfo

from django.urls import URLPattern, URLResolver, get_resolver, reverse

from concierge.models import Role
from concierge.testing import VerifiedClient

NY = ZoneInfo("America/New_York")
NOW = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
TUESDAY, WEDNESDAY, FRIDAY, NEXT_MONDAY = date(2026, 3, 3), date(2026, 3, 4), date(2026, 3, 6), date(2026, 3, 9)

ROLES = [Role.PATIENT, Role.NURSE, Role.CLINICIAN, Role.STAFF, Role.MANAGER]


def ny(day, hour, minute=0):
    return datetime.combine(day, time(hour, minute), tzinfo=NY).astimezone(UTC)


# --- the URL walk -----------------------------------------------------------------------------


def url_patterns(resolver=None, namespace=None, route=()):
    """Every URL pattern of the project, through the includes: (name, route parts, pattern).

    Names carry their namespaces ("booking:visit"); a pattern without a name is named by its route.
    """
    resolver = resolver or get_resolver()
    for item in resolver.url_patterns:
        if isinstance(item, URLResolver):
            inner = namespace
            if item.namespace:
                inner = f"{namespace}:{item.namespace}" if namespace else item.namespace
            yield from url_patterns(item, inner, (*route, item.pattern))
        elif isinstance(item, URLPattern):
            parts = (*route, item.pattern)
            if item.name:
                name = f"{namespace}:{item.name}" if namespace else item.name
            else:
                name = f"{namespace + ':' if namespace else ''}<unnamed {''.join(str(p) for p in parts)}>"
            yield name, parts, item


def url_kwarg_names(pattern):
    converters = getattr(pattern.pattern, "converters", None)
    if converters is not None:
        return list(converters)
    return list(pattern.pattern.regex.groupindex)


SAMPLE_BY_CONVERTER = {
    "int": "1",
    "path": "1",
    "str": "x",
    "slug": "x",
    "uuid": "00000000-0000-0000-0000-000000000000",
    "oid": "86aycedc2symj",
    "day": "2026-03-04",
}


def sample_path(parts):
    """A path that this pattern resolves, with made-up values for its arguments (for admin URLs)."""
    path = "/"
    for part in parts:
        text = str(part)
        if type(part).__name__ == "RegexPattern":
            text = text.lstrip("^").rstrip("$")
            # (?P<app_label>auth|concierge|...) -> the first label; (?P<url>.*) -> a page that is not there
            text = re.sub(r"\(\?P<\w+>([\w-]+)(?:\|[^)]*)?\)", r"\1", text)
            text = re.sub(r"\(\?P<\w+>[^)]*\)", "no-such-page/", text)
        else:
            text = re.sub(r"<(?:(\w+):)?\w+>", lambda m: SAMPLE_BY_CONVERTER[m.group(1) or "str"], text)
        path += text
    return path


# --- the world --------------------------------------------------------------------------------


class World:
    """The people of each role (user A) and one more of each (user B), and their objects."""

    def __init__(self, request):
        self._request = request
        self._clients = {}

    # The shared cast (conftest.py), made only when a test needs them.

    @property
    def _patient(self):
        return self._request.getfixturevalue("patient")

    @property
    def _other_patient(self):
        return self._request.getfixturevalue("other_patient")

    @property
    def _nurse(self):
        return self._request.getfixturevalue("nurse")

    @property
    def _clinician(self):
        return self._request.getfixturevalue("clinician")

    @property
    def _staff(self):
        return self._request.getfixturevalue("staff_user")

    # The roster: a New York area with a nurse and a clinician, an infusion and a video evaluation.

    @cached_property
    def infusion(self):
        from booking.tests import factories as bf

        return bf.ServiceFactory()

    @cached_property
    def evaluation_service(self):
        from booking.tests import factories as bf

        return bf.EvaluationFactory()

    @cached_property
    def nurse_provider(self):
        from booking.tests import factories as bf

        return bf.ProviderFactory(user=self._nurse)

    @cached_property
    def clinician_provider(self):
        from booking.tests import factories as bf

        return bf.clinician_provider(user=self._clinician)

    @cached_property
    def area(self):
        from booking.tests import factories as bf

        return bf.ServiceAreaFactory(
            services=[self.infusion, self.evaluation_service],
            providers=[self.nurse_provider],
        )

    @cached_property
    def plan(self):
        """Pat: a complete profile (10011), a sent intake and an active plan; the area covers her."""
        from nurses.tests import factories as nf

        _area = self.area
        _user, clearance = nf.patient_with_plan(self._patient)
        return clearance

    @cached_property
    def patient_profile(self):
        from patients.tests.factories import PatientProfileFactory

        return PatientProfileFactory(user=self._patient, legal_first_name="Pat")

    @cached_property
    def manager(self):
        from concierge.tests.factories import UserFactory

        return UserFactory(role=Role.MANAGER, email="manager@example.com", first_name="Mona")

    def user(self, role):
        """User A of this role, set up so that the role's pages work for them."""
        if role == Role.PATIENT:
            # A profile; the plan (intake, clearance, the area) only when the page's objects need it.
            _profile = self.patient_profile
            return self._patient
        if role == Role.NURSE:
            _provider = self.nurse_provider
            return self._nurse
        if role == Role.CLINICIAN:
            return self._clinician
        if role == Role.STAFF:
            return self._staff
        if role == Role.MANAGER:
            return self.manager
        raise ValueError(role)

    def stranger(self, role):
        """User B of this role: set up like A, owning nothing of A's."""
        from booking.tests import factories as bf
        from concierge.tests.factories import UserFactory
        from patients.tests.factories import PatientProfileFactory

        if role == Role.PATIENT:
            PatientProfileFactory(user=self._other_patient, legal_first_name="Olive")
            return self._other_patient
        if role == Role.NURSE:
            other = UserFactory(role=Role.NURSE, email="nurse-b@example.com")
            bf.ProviderFactory(user=other)
            return other
        if role == Role.CLINICIAN:
            other = UserFactory(role=Role.CLINICIAN, email="clinician-b@example.com")
            bf.clinician_provider(user=other)
            return other
        if role == Role.STAFF:
            return self._staff
        raise ValueError(role)

    def client(self, user=None, **kwargs):
        """A test client logged in (both steps) as `user`, or logged out; one per person and kind.

        Reused within a test: a request that logs its person out (logout, closing the account)
        leaves the client logged out, so those URLs are the last each person asks for.
        """
        key = (getattr(user, "pk", None), tuple(sorted(kwargs.items())))
        client = self._clients.get(key)
        if client is None:
            client = self._clients[key] = VerifiedClient(**kwargs)
            if user is not None:
                client.force_login(user)
        return client

    # Objects, each belonging to user A of its role. Each returns the value that goes in the URL,
    # and (care threads) the value user B is tried with.

    @cached_property
    def visit(self):
        """Pat's confirmed home infusion with Nia on Wednesday at 10:00 (more than a day ahead)."""
        from nurses.tests import factories as nf

        return nf.visit_for(self.nurse_provider, self._patient, self.plan, ny(WEDNESDAY, 10))

    @cached_property
    def held_visit(self):
        """Pat holds Friday 10:00 (two days after the visit above: the plan's spacing)."""
        from booking import services

        _plan = self.plan
        return services.visit_hold(patient=self.user(Role.PATIENT), service=self.infusion, starts_at=ny(FRIDAY, 10))

    @cached_property
    def series(self):
        from booking import services

        _plan = self.plan
        return services.series_hold(
            patient=self.user(Role.PATIENT), service=self.infusion, visits=[(ny(NEXT_MONDAY, 10), None)]
        )

    @cached_property
    def payment(self):
        from booking.checkout import checkout_start

        return checkout_start(patient=self.user(Role.PATIENT), visit=self.held_visit)

    def object_for(self, kind):
        """(value for user A's URL, value for user B's URL) of an Owned kind (concierge/access.py)."""
        from booking.tests import factories as bf
        from patients import selectors
        from patients.tests.factories import screening
        from portal.models import ThreadTopic
        from portal.tests import factories as portal

        patient = self.user(Role.PATIENT)
        _plan = self.plan
        if kind in ("visit", "nurse_visit"):
            return self.visit.pk, None
        if kind == "held_visit":
            return self.held_visit.pk, None
        if kind == "past_visit":
            return portal.home_visit(patient, provider=self.nurse_provider, clearance=self.plan).pk, None
        if kind == "series":
            return self.series.pk, None
        if kind == "waitlist_offer":
            from booking.models import TimeOffer, TimeWaitlistEntry

            entry = TimeWaitlistEntry.objects.create(
                patient=patient,
                service=self.infusion,
                weekdays="01234",
                parts_of_day="morning,afternoon",
                first_day=TUESDAY,
                last_day=FRIDAY,
            )
            held = self.held_visit
            return TimeOffer.objects.create(
                entry=entry, visit=held, starts_at=held.starts_at, expires_at=held.hold_expires_at
            ).pk, None
        if kind == "payment":
            return self.payment.pk, None
        if kind == "payment_secret":
            return self.payment.client_secret, None
        if kind == "intake_version":
            return selectors.intake_latest_sent(patient=patient).pk, None
        if kind == "screening":
            return screening(patient, "phq9", [0] * 8 + [1]).pk, None
        if kind == "thread":
            return portal.thread_for(patient).thread_id, None
        if kind == "care_thread":
            logistics = portal.thread_for(patient).thread_id
            health = portal.thread_for(patient, subject="After my infusion", topic=ThreadTopic.HEALTH).thread_id
            return logistics, health
        if kind == "evaluation":
            starts_at = ny(TUESDAY, 15)
            visit = bf.VisitFactory(
                patient=patient,
                service=self.evaluation_service,
                provider=self.clinician_provider,
                clearance=None,
                starts_at=starts_at,
                ends_at=starts_at + timedelta(minutes=45),
                video_url="https://meet.example.com/conciergemd-abc",
            )
            return visit.pk, None
        raise LookupError(f"no builder for objects of kind {kind!r}: add one to concierge/tests/access_world.py")

    def sample_kwargs(self, name):
        """Values for the URL arguments that are not someone's object."""
        from patients import intake

        samples = {
            "password_reset_confirm": {"uidb64": "MTIzNDU2", "token": "not-a-real-token"},
            "patients:intake_section": {"slug": intake.SECTIONS[0].slug},
            "patients:signup_confirm": {"token": "not-a-real-token"},
            "patients:screening": {"instrument": "phq9"},
            "booking:series_change": {"index": 0},
            "booking:days": {"code": self.infusion.code},
            "booking:review": {"code": self.infusion.code},
            "booking:time_waitlist": {"code": self.infusion.code},
            "booking:times": {"code": self.infusion.code, "day": WEDNESDAY.isoformat()},
            "booking:reschedule_times": {"day": FRIDAY.isoformat()},
        }
        if name == "booking:calendar_feed":
            from booking.services import calendar_feed_for

            samples[name] = {"token": calendar_feed_for(patient=self.user(Role.PATIENT)).token}
        if name.startswith("booking:") and name not in (
            "booking:coverage",
            "booking:waitlist",
            "booking:waitlist_done",
        ):
            _service = self.infusion  # booking pages need a bookable service to exist (else 404)
        return samples.get(name, {})


OBJECT_KWARGS = ("pk", "visit_id", "series_id", "payment_id", "client_secret")


@cache
def patterns_by_name():
    return {name: pattern for name, _parts, pattern in url_patterns()}


def object_kwarg(name):
    """The argument of this URL that is someone's object, or None."""
    pattern = patterns_by_name().get(name)
    if pattern is None:
        raise LookupError(f"{name} is in the access table but not in the URLs")
    found = [k for k in url_kwarg_names(pattern) if k in OBJECT_KWARGS]
    return found[0] if found else None


def url_for(world, name, value=None):
    """The URL of `name` with its sample arguments and `value` as its object id."""
    from django.urls import NoReverseMatch

    kwargs = world.sample_kwargs(name)
    key = object_kwarg(name)
    if key:
        kwargs[key] = value
    try:
        return reverse(name, kwargs=kwargs)
    except NoReverseMatch as error:
        raise AssertionError(f"{name}: add sample arguments in World.sample_kwargs ({error})") from None


def built_url(world, name, rule):
    """The URL of `name` for user A, and the one user B is tried with (None when it takes no object id)."""
    key = object_kwarg(name)
    if key and rule.owned is None:
        raise AssertionError(f"{name} takes an object id ({key}) but its entry in concierge/access.py has no Owned")
    if rule.owned is None:
        return url_for(world, name), None
    mine, others = world.object_for(rule.owned.kind)
    return url_for(world, name, mine), url_for(world, name, others if others is not None else mine)
