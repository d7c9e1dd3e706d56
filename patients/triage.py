"""Applies the triage rules (patients/triage_rules.py) to a set of intake answers."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from .models import TriageOutcome
from .triage_rules import CLINICIAN_REVIEW, NOT_ELIGIBLE, RULES, Rule

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

RULES_BY_ID = {rule.id: rule for rule in RULES}


class Answers(dict):
    """The intake answers, plus the day they are judged on (for "months since")."""

    def __init__(self, answers: Mapping[str, Any], today: date) -> None:
        super().__init__(answers)
        self.today = today


@dataclass(frozen=True)
class TriageEvaluation:
    outcome: str  # a TriageOutcome value
    fired: tuple[Rule, ...]  # the Rules that fired, in the order of RULES

    @property
    def rule_ids(self) -> list[str]:
        return [rule.id for rule in self.fired]


def triage_evaluate(answers: Mapping[str, Any], *, today: date | None = None) -> TriageEvaluation:
    """Which rules fire for these answers and the outcome: the strictest rule wins."""
    context = Answers(answers, today or timezone.localdate())
    fired = tuple(rule for rule in RULES if rule.condition(context))
    outcomes = {rule.outcome for rule in fired}
    if NOT_ELIGIBLE in outcomes:
        outcome = TriageOutcome.NOT_ELIGIBLE
    elif CLINICIAN_REVIEW in outcomes:
        outcome = TriageOutcome.CLINICIAN_REVIEW
    else:
        outcome = TriageOutcome.ELIGIBLE
    return TriageEvaluation(outcome=outcome.value, fired=fired)


def _removed(answers: Mapping[str, Any]) -> bool:
    """The condition of a rule a later rules version removed: it is only shown, never evaluated."""
    return False


def rules_for_ids(rule_ids: Iterable[str]) -> list[Rule]:
    """Rules for stored ids; an id a later rules version removed still shows, as its id."""
    return [RULES_BY_ID.get(rule_id) or Rule(rule_id, "", "", _removed, rule_id, "") for rule_id in rule_ids]


def _topics(rules: Iterable[Rule], outcome: str) -> list["str | StrPromise"]:
    seen: list[str | StrPromise] = []
    for rule in rules:
        if rule.outcome == outcome and rule.topic and rule.topic not in seen:
            seen.append(rule.topic)
    return seen


def patient_reasons(rules: Iterable[Rule], outcome: str) -> list[str]:
    """The kind reasons of the rules with this outcome, each once, in the order of RULES."""
    seen: list[str] = []
    for rule in rules:
        if rule.outcome == outcome and rule.reason and str(rule.reason) not in seen:
            seen.append(str(rule.reason))
    return seen


def patient_message(outcome: str, rule_ids: Iterable[str]) -> "str | StrPromise":
    """Kind words for the patient about a triage result. Never rule ids, never scores."""
    rules = rules_for_ids(rule_ids)
    if outcome == TriageOutcome.NOT_ELIGIBLE:
        topics = ", ".join(str(t) for t in _topics(rules, NOT_ELIGIBLE))
        return format_lazy(
            _(
                "Thank you for answering so openly. Because of what you told us about {topics}, ketamine "
                "treatment at home is not safe for you right now, so we cannot book an evaluation online. "
                "{reasons} This is about your safety. Please call us: we can talk about what may help, and "
                "if things change you can update your answers."
            ),
            topics=topics,
            reasons=" ".join(patient_reasons(rules, NOT_ELIGIBLE)),
        )
    if outcome == TriageOutcome.CLINICIAN_REVIEW:
        topics = ", ".join(str(t) for t in _topics(rules, CLINICIAN_REVIEW))
        return format_lazy(
            _(
                "Thank you. A few of your answers need a clinician's attention. You can book your evaluation "
                "as usual; your clinician will talk with you about {topics}."
            ),
            topics=topics,
        )
    return _(
        "Thank you. Nothing in your answers stops you booking your evaluation. Your clinician will go through "
        "them with you."
    )
