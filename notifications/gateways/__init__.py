"""Outside systems that carry our messages: text messages (picked by SMS_BACKEND) and email.

Every gateway raises `SendError` on failure, saying whether trying again could help.
"""

from .base import SendError
from .email import email_sent_record, send_email
from .sms import get_sms_gateway

__all__ = ["SendError", "email_sent_record", "get_sms_gateway", "send_email"]
