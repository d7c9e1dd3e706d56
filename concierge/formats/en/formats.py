"""English date formats with the time zone named: staff read times in the clinic's zone (admin
activates it, concierge.middleware.ClinicTimeZoneMiddleware), and a time is never shown unlabelled.

The named formats below (DAY_FORMAT ...) are the project's own: a date written with month or
weekday names puts its words in each language's order ("Monday, December 7" but "lunes 7 de
diciembre"), so a page asks for the format by name (`{{ day|date:"DAY_FORMAT" }}`,
`formats.date_format(day, "DAY_FORMAT")`) and each language's module says how it reads. Every
name is defined in every language's module (concierge/tests/test_date_formats.py checks it, and
that no page or message writes such a format out in English order itself).
"""

DATETIME_FORMAT = "N j, Y, P T"
SHORT_DATETIME_FORMAT = "m/d/Y P T"
TIME_FORMAT = "P"

# Monday, December 7
DAY_FORMAT = "l, F j"
# Monday, December 7, 2026
DAY_YEAR_FORMAT = "l, F j, Y"
# Monday, December 7, 2:30 PM
DAY_TIME_FORMAT = "l, F j, g:i A"
# Mon, Dec 7
SHORT_DAY_FORMAT = "D, M j"
# Mon Dec 7, 2:30 PM EST (texts and inbox rows: the shortest whole "when")
SHORT_DAY_TIME_FORMAT = "D M j, g:i A T"
# Mon Dec 7 (texts)
MESSAGE_DAY_FORMAT = "D M j"
# Dec 7
MONTH_DAY_SHORT_FORMAT = "M j"
# Dec 7, 2:30 PM EST
MONTH_DAY_TIME_FORMAT = "M j, g:i A T"
# Dec 7, 2026
ABBR_DATE_FORMAT = "M j, Y"
# December 7, 2026
LONG_DATE_FORMAT = "F j, Y"
