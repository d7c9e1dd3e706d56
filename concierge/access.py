"""Who may open each URL of the site: the one table, checked by concierge/tests/test_authorization_matrix.py.

Every URL name in the project has an entry here. A URL added without one fails that test with
its name, and an entry whose URL is gone fails it too, so the table always says what the site
does. Each entry says:

- who may use it: anyone (``PUBLIC``), a payment or SMS provider proving itself with a signature
  (``WEBHOOK``: public, POST only, CSRF-exempt by design), or people of certain roles (``ROLES``);
- the methods the view takes (``GET``, ``POST``);
- what someone logged out gets: sent to the login page, or a status (and why);
- what a logged-in person of another role gets: 403 (the friendly "not for you" page) or 404
  (pages that would tell a stranger something by existing: a nurse's visit, a payment);
- for URLs with an object id, the object (``Owned``): whose it is, and who must get 404 for it
  ("user B"; by default another person of the owner's role). The test builds one for user A
  with the apps' factories and asks for it as user B.

The admin (``/admin/``) is one entry: Django admin's own permission system decides there (staff
only, two-step login, and what each role's group may view: concierge/roles.py).
"""

from dataclasses import dataclass

from .models import Role

PUBLIC = "public"
WEBHOOK = "webhook"
ROLES = "roles"
ADMIN = "admin"

LOGIN = "login"  # a logged-out visitor is sent to the login page with ?next=

ANY_ROLE = frozenset(Role)
PATIENT = frozenset({Role.PATIENT})
NURSE = frozenset({Role.NURSE})
# Everyone who works in admin: the staff inbox and the evaluations list are theirs.
CARE_TEAM = frozenset({Role.STAFF, Role.CLINICIAN, Role.MANAGER})
# Schedulers and managers: roles whose group may view every message (notifications.view_message).
SCHEDULERS = frozenset({Role.STAFF, Role.MANAGER})

GET = ("GET",)
POST = ("POST",)
GET_POST = ("GET", "POST")


@dataclass(frozen=True)
class Owned:
    """The URL's id points at someone's object; the wrong person gets 404, never its contents."""

    kind: str  # what the id points at (the matrix test knows how to build each kind)
    owner: Role | None = None  # "user A", whose it is (None: the entry's one role)
    stranger: Role | None = None  # "user B": another person of this role (None: of the owner's role)
    why: str = ""

    def owner_role(self, rule):
        return self.owner or next(iter(rule.roles))


@dataclass(frozen=True)
class Rule:
    access: str
    roles: frozenset = frozenset()
    methods: tuple = GET
    # What a logged-out visitor gets: LOGIN (sent to log in), or a status (for public pages, 200
    # stands for "it answers": any status below 400 that is not the login page).
    anonymous: str | int = LOGIN
    refused: int | None = None  # what a logged-in person of another role gets (ROLES only): 403 or 404
    owned: Owned | None = None
    why: str = ""

    def allows(self, role):
        return self.access in (PUBLIC, WEBHOOK) or role in self.roles


def public(methods=GET, anonymous=200, why=""):
    return Rule(PUBLIC, ANY_ROLE, methods, anonymous, why=why)


def webhook(refused_unsigned, why):
    """Public, POST only, CSRF-exempt: the signature is the proof of origin. Unsigned: `refused_unsigned`."""
    return Rule(WEBHOOK, ANY_ROLE, POST, refused_unsigned, why=why)


def logged_in(methods=GET, anonymous=LOGIN, why=""):
    return Rule(ROLES, ANY_ROLE, methods, anonymous, why=why)


def patient(methods=GET, owned=None, why=""):
    """The patient portal and booking: `patient_required` answers 403 to other roles."""
    return Rule(ROLES, PATIENT, methods, LOGIN, 403, owned, why)


def patient_payment(methods=GET, owned=None):
    """Payment pages look the object up through the logged-in patient: anyone else finds nothing (404)."""
    why = "login only, then the visit, series or payment is looked up through request.user: other roles find no object"
    return Rule(ROLES, PATIENT, methods, LOGIN, 404, owned, why)


def nurse(methods=GET, owned=None):
    """The nurse's pages: anyone but a nurse with a roster profile gets 404 (nothing to learn)."""
    return Rule(ROLES, NURSE, methods, LOGIN, 404, owned, "nurse_required answers 404, not 403")


def care_team(methods=GET, owned=None, roles=CARE_TEAM, why=""):
    return Rule(ROLES, roles, methods, LOGIN, 403, owned, why)


# What each id in a URL points at (Owned.kind).
VISIT = Owned("visit", why="the patient's own confirmed home infusion; another patient's id is 404")
HELD_VISIT = Owned("held_visit", why="a visit the patient holds while paying")
PAST_VISIT = Owned("past_visit", why="the patient's home infusion that ended yesterday (the check-in)")
SERIES = Owned("series", why="infusions the patient holds together")
OFFER = Owned("waitlist_offer", why="a freed time offered to the patient from the waitlist, held for them")
PAYMENT = Owned("payment", why="the patient's open card payment")
PAYMENT_SECRET = Owned("payment_secret", why="the local card page of the patient's payment (client secret)")
INTAKE = Owned("intake_version", why="a sent intake version")
SCREENING = Owned("screening", why="a questionnaire result")
THREAD = Owned("thread", why="the patient's message thread")
NURSE_VISIT = Owned("nurse_visit", why="a visit assigned to this nurse; another nurse's is 404")
EVALUATION = Owned(
    "evaluation",
    owner=Role.CLINICIAN,
    why="a video evaluation assigned to this clinician; another clinician gets 404 (schedulers and "
    "managers, who manage the links, see every one)",
)
CARE_THREAD = Owned(
    "care_thread",
    owner=Role.CLINICIAN,
    stranger=Role.STAFF,
    why="the care team shares patients' threads, except health threads: a scheduler gets 404 for those",
)

NURSE_VISIT_STEP = nurse(GET_POST, NURSE_VISIT)

ACCESS = {
    # --- the site and accounts (concierge) ---------------------------------------------------------
    "home": public(),
    "healthz": public(why="the load balancer's check: database and broker up or down, nothing else"),
    "session-keepalive": logged_in(
        POST, anonymous=401, why="called by the idle-timeout script: answers 401 JSON instead of a login page"
    ),
    "language-switch": public(
        POST, why="the header's language switch: a cookie, and the profile's choice if logged in"
    ),
    "login": public(GET_POST, why="logged-in people are sent on to their page"),
    "logout": public(POST, why="POST only (Django): ends the session and says so"),
    "password_change": logged_in(GET_POST),
    "password_change_done": logged_in(),
    "password_reset": public(GET_POST),
    "password_reset_done": public(),
    "password_reset_confirm": public(GET_POST, why="the emailed link; a wrong token shows 'link no longer valid'"),
    "password_reset_complete": public(),
    # Open to a session that typed only the password (to get through the second step); changing
    # the second step (pair another app, new recovery codes, turn it off) needs the code first.
    "two-factor-setup": logged_in(GET_POST),
    "two-factor-verify": logged_in(GET_POST),
    "two-factor-recovery-codes": logged_in(POST),
    "two-factor-disable": logged_in(POST, why="refused with a message for roles that must keep it"),
    "home-for-user": logged_in(why="where each role lands after logging in"),
    # --- the patient portal (patients) --------------------------------------------------------------
    "patients:signup": public(GET_POST, why="logged-in people are sent on to their page"),
    "patients:terms": public(),
    "patients:signup_sent": public(why="the same page whether the address had an account or not"),
    "patients:signup_confirm": public(GET_POST, why="the emailed link; a wrong token shows 'link no longer valid'"),
    "patients:consent_text": public(),
    "portal:dashboard": patient(),
    "portal:account": patient(),
    "patients:profile": patient(GET_POST),
    "patients:intake": patient(),
    "patients:intake_update": patient(POST),
    "patients:intake_discard": patient(POST),
    "patients:intake_review": patient(GET_POST),
    "patients:intake_versions": patient(),
    "patients:intake_version": patient(owned=INTAKE),
    "patients:intake_section": patient(GET_POST),
    "patients:consent": patient(GET_POST),
    "patients:consent_download": patient(),
    "patients:screenings": patient(),
    "patients:screening_result": patient(owned=SCREENING),
    "patients:screening_support": patient(owned=SCREENING),
    "patients:screening": patient(GET_POST),
    "portal:messages": patient(),
    "portal:message_new": patient(GET_POST),
    "portal:thread": patient(GET_POST, THREAD),
    "portal:thread_support": patient(owned=THREAD),
    "portal:visit_live": patient(owned=VISIT, why="the visit page's live status, polled by htmx"),
    "portal:checkin": patient(GET_POST, PAST_VISIT),
    "portal:checkin_done": patient(owned=PAST_VISIT),
    "portal:checkin_support": patient(owned=PAST_VISIT),
    "portal:data_export": patient(GET_POST, why="GET: what the download holds; POST: the JSON download"),
    "portal:account_close": patient(
        GET_POST, why="right after closing, the now logged-out visitor sees what happened (kept in the session)"
    ),
    "portal:staff_inbox": care_team(why="schedulers, clinicians and managers (patients.answer_*_thread)"),
    "portal:staff_thread": care_team(GET_POST, CARE_THREAD),
    "portal:staff_thread_topic": care_team(POST, CARE_THREAD),
    # --- coverage, booking and the patient's visits (booking) ----------------------------------------
    "booking:coverage": public(),
    "booking:waitlist": public(GET_POST),
    "booking:waitlist_done": public(),
    "booking:book": patient(),
    "booking:series": patient(GET_POST),
    "booking:series_change": patient(GET_POST, why="the index is a place in the proposal kept in the session"),
    "booking:series_checkout": patient(owned=SERIES),
    "booking:days": patient(),
    "booking:review": patient(GET_POST),
    "booking:time_waitlist": patient(GET_POST),
    "booking:offer": patient(GET_POST, OFFER),
    "booking:times": patient(),
    "booking:visits": patient(),
    "booking:visit": patient(owned=VISIT),
    "booking:checkout": patient(owned=HELD_VISIT),
    "booking:pay": patient_payment(owned=HELD_VISIT),
    "booking:pay_series": patient_payment(owned=SERIES),
    "booking:visit_ics": patient(owned=VISIT),
    "booking:calendar_feed": public(
        anonymous=200, why="a calendar app's subscription: no login, the unguessable token is the key (404 otherwise)"
    ),
    "booking:calendar_feed_reset": patient(POST, why="a new feed address; the old one stops working"),
    "booking:cancel": patient(GET_POST, VISIT),
    "booking:cancel_support": patient(owned=VISIT),
    "booking:reschedule": patient(owned=VISIT),
    "booking:reschedule_times": patient(GET_POST, VISIT),
    "booking:join": patient(owned=VISIT),
    "booking:staff_evaluations": care_team(why="clinicians (their own) and staff who manage visits (all)"),
    "booking:staff_join": care_team(owned=EVALUATION),
    "booking:staff_video_link": care_team(POST, EVALUATION),
    # --- payments (payments) -----------------------------------------------------------------
    "payments:pay": patient_payment(owned=PAYMENT),
    "payments:return": patient_payment(owned=PAYMENT),
    "payments:status": patient_payment(owned=PAYMENT),
    "payments:receipt": patient_payment(owned=PAYMENT),
    # Only where PAYMENT_GATEWAY=fake (local run and tests): the fake gateway's card form.
    "payments:fake_pay": patient_payment(GET_POST, PAYMENT_SECRET),
    "payments:webhook": webhook(400, "Stripe's events: Stripe-Signature checked against STRIPE_WEBHOOK_SECRET"),
    # --- the nurse's day (nurses) ----------------------------------------------------------------------
    "nurses:today": nurse(),
    "nurses:week": nurse(),
    "nurses:visit": nurse(owned=NURSE_VISIT),
    "nurses:on_my_way": NURSE_VISIT_STEP,
    "nurses:check_in": NURSE_VISIT_STEP,
    "nurses:vitals": NURSE_VISIT_STEP,
    "nurses:dose": NURSE_VISIT_STEP,
    "nurses:discharge": NURSE_VISIT_STEP,
    "nurses:sign": NURSE_VISIT_STEP,
    "nurses:no_show": NURSE_VISIT_STEP,
    "nurses:stop": NURSE_VISIT_STEP,
    "nurses:amend": NURSE_VISIT_STEP,
    "nurses:override": NURSE_VISIT_STEP,
    # --- messages (notifications) ----------------------------------------------------------------------
    "notifications:twilio-inbound": webhook(403, "texts from patients: X-Twilio-Signature checked"),
    "notifications:twilio-status": webhook(403, "delivery receipts: X-Twilio-Signature checked"),
    "notifications:outbox": care_team(
        roles=SCHEDULERS, why="staff whose group may view messages (clinicians may not: 403)"
    ),
    # --- Django admin, as a whole ---------------------------------------------------------------------
    "admin:*": Rule(ADMIN, frozenset({Role.STAFF, Role.CLINICIAN, Role.MANAGER}), GET_POST, LOGIN, 403),
}

# The only views that skip the CSRF check: providers cannot send our token, they sign instead.
CSRF_EXEMPT = frozenset(name for name, rule in ACCESS.items() if rule.access == WEBHOOK)


def rule_for(name):
    """The entry for a URL name ("booking:visit"); every admin URL shares the "admin:*" entry."""
    if name.split(":", 1)[0] == "admin":
        return ACCESS["admin:*"]
    return ACCESS.get(name)
