"""Demo roster, called by `manage.py seed_demo` after the demo users exist (idempotent).

Maya Chen (RN, New York, base 10001), Priya Shah (RN, New York, base 10011), Luis Ortega (RN,
Arizona multistate, base 85004) and the clinician Dana Okafor (licensed in New York and Arizona,
by video). Everyone works Monday to Saturday, 8:00 to 18:00 in their own time zone.
"""

from datetime import date, time

from django.utils import timezone

from concierge.demo import demo_step

from .models import LicenceType, ProviderKind
from .services import licence_save, provider_save, weekly_pattern_set

WORKWEEK = {day: [(time(8), time(18))] for day in range(6)}

ROSTER = [
    # email, kind, home ZIP, mobile, [(state, type, multistate, number)]
    (
        "nurse@demo.conciergemd.example",
        ProviderKind.NURSE,
        "10001",
        "+12125550181",
        [("NY", "RN", False, "NY-RN-552031")],
    ),
    (
        "nurse3@demo.conciergemd.example",
        ProviderKind.NURSE,
        "10011",
        "+12125550182",
        [("NY", "RN", False, "NY-RN-614477")],
    ),
    (
        "nurse2@demo.conciergemd.example",
        ProviderKind.NURSE,
        "85004",
        "+16025550183",
        [("AZ", "RN", True, "AZ-RN-298812")],
    ),
    (
        "clinician@demo.conciergemd.example",
        ProviderKind.CLINICIAN,
        "10001",
        "+12125550184",
        [("NY", LicenceType.MD, False, "NY-MD-301245"), ("AZ", LicenceType.MD, False, "AZ-MD-77410")],
    ),
]


@demo_step(order=10)
def seed(users, lines):
    expires = date(timezone.localdate().year + 3, 12, 31)
    for email, kind, home_zip, phone, licences in ROSTER:
        provider = provider_save(user=users[email], kind=kind, home_zip=home_zip, phone=phone)
        for state, licence_type, multistate, number in licences:
            licence_save(
                provider=provider,
                state=state,
                licence_type=licence_type,
                number=number,
                multistate=multistate,
                expires_on=expires,
                verified_on=date(timezone.localdate().year - 1, 12, 1),
            )
        weekly_pattern_set(provider=provider, hours=WORKWEEK)
    lines.append("  roster: Maya Chen and Priya Shah (New York), Luis Ortega (Phoenix), Dana Okafor (video)")
