import logging
import sys

import pytest
from django.test import RequestFactory

from concierge.privacy import PHIFilter, PHISafeExceptionReporter, PHISafeExceptionReporterFilter


def render(record):
    PHIFilter().filter(record)
    return logging.Formatter("%(message)s").format(record)


def make_record(msg, *args, exc_info=None, **extra):
    record = logging.LogRecord("test", logging.INFO, __file__, 1, msg, args, exc_info)
    for key, value in extra.items():
        setattr(record, key, value)
    return record


def test_emails_phones_dates_and_query_strings_are_masked():
    text = render(
        make_record(
            "booked for %s, phone %s, born %s, via GET /coverage/?zip=10001&name=Ann, call (212) 555-0143",
            "ann.smith@example.com",
            "+12125550143",
            "1984-03-02",
        )
    )

    for secret in ("ann.smith@example.com", "+12125550143", "1984-03-02", "zip=10001", "Ann", "555-0143"):
        assert secret not in text
    assert "[email]" in text and "[phone]" in text and "[date]" in text and "?[query]" in text


def test_personal_and_clinical_extra_fields_are_dropped():
    record = make_record("chart saved", patient_name="Ann Smith", diagnosis="PTSD", visit_id=42)

    render(record)

    assert record.patient_name == "[redacted]"
    assert record.diagnosis == "[redacted]"
    assert record.visit_id == 42


def test_dict_arguments_lose_their_sensitive_keys():
    text = render(make_record("payload %s", {"first_name": "Ann", "weight_kg": 82, "status": "confirmed"}))

    assert "Ann" not in text and "82" not in text
    assert "confirmed" in text


def test_exception_text_is_masked_too():
    try:
        raise ValueError("bad phone +12125550143 for ann@example.com")
    except ValueError:
        record = make_record("failed", exc_info=sys.exc_info())

    handler_output = render(record)

    assert "+12125550143" not in handler_output
    assert "ann@example.com" not in handler_output


def test_the_configured_console_handler_filters(caplog):
    from django.conf import settings

    assert settings.LOGGING["handlers"]["console"]["filters"] == ["phi"]
    assert settings.LOGGING["loggers"]["django.server"]["handlers"] == ["console"]


def test_error_reports_leave_out_post_data_and_local_variables(settings):
    settings.DEBUG = False
    request = RequestFactory().post(
        "/intake/?zip=10001", {"legal_first_name": "Ann", "medications": "sertraline", "date_of_birth": "1984-03-02"}
    )
    secret_local = "Ann Smith takes sertraline"  # noqa: F841 (a local variable the report must not show)
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        reporter = PHISafeExceptionReporter(request, *sys.exc_info())
        reporter.filter = PHISafeExceptionReporterFilter()
        text = reporter.get_traceback_text()

    for secret in ("sertraline", "Ann", "1984-03-02", "zip=10001"):
        assert secret not in text


@pytest.mark.django_db
def test_pages_send_the_security_headers(client):
    response = client.get("/")

    assert "camera=()" in response["Permissions-Policy"]
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
