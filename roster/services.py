"""Roster use cases: providers, their licences and their weekly pattern."""

from collections.abc import Mapping, Sequence
from datetime import date, time

from django.db import transaction

from concierge.models import User

from .models import Licence, Provider, WeeklyShift


@transaction.atomic
def provider_save(
    *,
    user: User,
    kind: str,
    home_zip: str,
    max_visits_per_day: int = 4,
    phone: str = "",
    is_active: bool = True,
) -> Provider:
    """Create or update the provider profile of a login (the time zone follows the home ZIP)."""
    provider = Provider.objects.filter(user=user).first() or Provider(user=user)
    provider.kind = kind
    provider.home_zip = home_zip
    provider.max_visits_per_day = max_visits_per_day
    provider.phone = phone
    provider.is_active = is_active
    provider.full_clean()
    provider.save()
    return provider


@transaction.atomic
def licence_save(
    *,
    provider: Provider,
    state: str,
    licence_type: str,
    number: str,
    expires_on: date,
    multistate: bool = False,
    verified_on: date | None = None,
) -> Licence:
    """Add or renew a licence (one per provider, state and type)."""
    licence = Licence.objects.filter(provider=provider, state=state, licence_type=licence_type).first()
    licence = licence or Licence(provider=provider, state=state, licence_type=licence_type)
    licence.number, licence.expires_on, licence.multistate, licence.verified_on = (
        number,
        expires_on,
        multistate,
        verified_on,
    )
    licence.full_clean()
    licence.save()
    return licence


@transaction.atomic
def weekly_pattern_set(*, provider: Provider, hours: Mapping[int, Sequence[tuple[time, time]]]) -> Provider:
    """Replace the weekly pattern: `hours` maps a weekday (Monday 0) to [(start time, end time)]."""
    wanted = {(day, start, end) for day, blocks in hours.items() for start, end in blocks}
    current = {(s.weekday, s.start_time, s.end_time): s for s in provider.weekly_shifts.all()}
    for key, shift in current.items():
        if key not in wanted:
            shift.delete()
    for day, start, end in sorted(wanted - set(current)):
        shift = WeeklyShift(provider=provider, weekday=day, start_time=start, end_time=end)
        shift.full_clean()
        shift.save()
    return provider
