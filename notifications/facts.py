"""What the outbox reads of records that belong to the apps above it.

A message is about a visit (booking's `Visit`). Notifications sits below booking and never
imports it, not even for type checking (the app graph counts those imports too): this protocol
says which facts of a visit it relies on, and mypy checks that booking's Visit has them wherever
booking hands one over. The clinical record (patients, also below booking) uses it for the same
reason.
"""

from datetime import datetime
from typing import Protocol

from concierge.models import User


class ServiceFacts(Protocol):
    @property
    def is_telehealth(self) -> bool: ...


class VisitFacts(Protocol):
    """A visit, as reminders and notices read it (booking's Visit)."""

    @property
    def pk(self) -> int: ...

    @property
    def starts_at(self) -> datetime: ...

    @property
    def ends_at(self) -> datetime: ...

    @property
    def time_zone(self) -> str: ...

    @property
    def hold_expires_at(self) -> datetime | None: ...

    @property
    def status(self) -> str: ...

    @property
    def patient(self) -> User: ...

    @property
    def patient_id(self) -> int: ...

    @property
    def service(self) -> ServiceFacts: ...
