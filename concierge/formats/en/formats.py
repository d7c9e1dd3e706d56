"""English date formats with the time zone named: staff read times in the clinic's zone (admin
activates it, concierge.middleware.ClinicTimeZoneMiddleware), and a time is never shown unlabelled."""

DATETIME_FORMAT = "N j, Y, P T"
SHORT_DATETIME_FORMAT = "m/d/Y P T"
TIME_FORMAT = "P"
