"""Keeping protected health information out of logs and error reports.

The rule is that code never logs personal or clinical data; this module is the net under that
rule. `PHIFilter` sits on every log handler: it drops personal and clinical fields passed as
`extra`, blanks dict arguments with such keys, and masks email addresses, phone numbers, dates
and query strings in the rendered message. `PHISafeExceptionReporterFilter` keeps request data and
local variables out of error reports (mail to admins, debug pages), since a patient's answers
can sit in either.
"""

import logging
import re

from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

REDACTED = "[redacted]"

# Field names whose values are personal or clinical. Matched as substrings of the key.
SENSITIVE_KEYS = (
    # person names (but not "name" alone: Celery and Django log task and view names under it)
    "first_name",
    "last_name",
    "full_name",
    "legal",
    "preferred",
    "patient_name",
    "display_name",
    "support_person",
    "emergency",
    "email",
    "phone",
    "birth",
    "dob",
    "address",
    "street",
    "city",
    "zip",
    "weight",
    "diagnosis",
    "answer",
    "note",
    "medication",
    "allerg",
    "vital",
    "dose",
    "score",
    "body",
    "message",
    "password",
    "token",
    "secret",
)

_PATTERNS = [
    # email addresses
    (re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+"), "[email]"),
    # phone numbers: +1 212 555 0143, (212) 555-0143, 212.555.0143, +12125550143
    (re.compile(r"(?<![\w/])(\+?1[\s.-]?)?\(?\d{3}\)?[\s.-]?\d{3}[\s.-]?\d{4}(?!\d)"), "[phone]"),
    # calendar dates that are not timestamps of the log line itself (dates of birth, visit days)
    (re.compile(r"\b(19|20)\d{2}-\d{2}-\d{2}(?![T\d:])"), "[date]"),
    (re.compile(r"\b\d{1,2}/\d{1,2}/(19|20)?\d{2}\b"), "[date]"),
    # query strings carry what people typed into forms (ZIPs, names)
    (re.compile(r"(\?)[^\s\"']+"), r"\1[query]"),
]

# Standard LogRecord attributes; anything else on a record came from `extra=`.
_RECORD_ATTRS = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


def is_sensitive_key(key):
    key = str(key).lower()
    return any(word in key for word in SENSITIVE_KEYS)


def scrub_text(text):
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def scrub_value(value):
    if isinstance(value, dict):
        return {k: REDACTED if is_sensitive_key(k) else scrub_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(scrub_value(v) for v in value)
    if isinstance(value, str):
        return scrub_text(value)
    return value


class PHIFilter(logging.Filter):
    """Masks personal and clinical data in every record that passes through a handler."""

    def filter(self, record):
        for key in list(vars(record)):
            if key not in _RECORD_ATTRS and is_sensitive_key(key):
                setattr(record, key, REDACTED)
        if record.args:
            record.args = scrub_value(record.args)
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: keep the template, drop the arguments
            message = str(record.msg)
        record.msg = scrub_text(message)
        record.args = ()
        if record.exc_info and not record.exc_text:
            # Exception messages can quote values (a validation error repeating the input).
            record.exc_text = scrub_text(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = scrub_text(record.exc_text)
        return True


class PHISafeExceptionReporterFilter(SafeExceptionReporterFilter):
    """Error reports without request bodies, cookies or local variables."""

    # The clinic's legal name (receipts) may say what it treats ("... Home Infusions"): not in reports.
    hidden_settings = re.compile(SafeExceptionReporterFilter.hidden_settings.pattern + "|CLINIC_LEGAL_NAME", re.I)

    def is_active(self, request):
        return True

    def get_post_parameters(self, request):
        if request is None:
            return {}
        # Even the field names can be clinical ("medications", "diagnosis"): only their number.
        return {REDACTED: f"{len(request.POST)} fields"} if request.POST else {}

    def get_traceback_frame_variables(self, request, tb_frame):
        return [(name, REDACTED) for name in tb_frame.f_locals]

    def get_safe_request_meta(self, request):
        meta = super().get_safe_request_meta(request)
        for key in ("QUERY_STRING", "HTTP_COOKIE", "HTTP_REFERER"):
            if key in meta:
                meta[key] = REDACTED
        return meta


class PHISafeExceptionReporter(ExceptionReporter):
    """Error reports whose request URL, GET and cookie values are masked as well."""

    def get_traceback_data(self):
        data = super().get_traceback_data()
        if "request_insecure_uri" in data:
            data["request_insecure_uri"] = scrub_text(str(data["request_insecure_uri"]))
        for key in ("request_GET_items", "request_COOKIES_items", "request_FILES_items"):
            if key in data:
                data[key] = [(name, REDACTED) for name, _value in data[key]]
        return data
