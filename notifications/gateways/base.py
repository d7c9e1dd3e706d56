class SendError(Exception):
    """A provider did not take the message.

    `permanent`: trying again will not help (a number that is not a mobile, a number that said
    STOP). Otherwise the failure is transient (a timeout, the provider down) and the message is
    tried again later. `code` is the provider's error code, when there is one.
    """

    def __init__(self, message: str, *, permanent: bool = False, code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.code = code
