"""A text gateway for the killed-worker test: the provider takes the text, then the worker hangs.

While the file named by HANG_FILE exists, `send` records the text at the "provider" (the memory
gateway's journal) and then sleeps, so that the test can SIGKILL the worker after the text went
and before the worker recorded it: the case the outbox must settle without sending it twice.
"""

import os
import time
from pathlib import Path

from notifications.gateways.sms import MemoryGateway


class HangingAfterSendGateway(MemoryGateway):
    def send(self, **kwargs):
        provider_id = super().send(**kwargs)
        hang = os.environ.get("HANG_FILE", "")
        while hang and Path(hang).exists():
            time.sleep(0.2)
        return provider_id
