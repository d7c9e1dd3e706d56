"""Spanish date formats: the project's named formats (see concierge/formats/en/formats.py) in
Spanish order, day before month, weekdays and months in lower case as Spanish writes them
("lun 7 dic", "el lunes 7 de diciembre"; a heading that starts with one adds `|capfirst`), and
times as the English pages give them (12-hour, the zone named: the clinic's patients and nurses
read US times). Names not here come from Django's own Spanish formats.
"""

DATETIME_FORMAT = r"j \d\e F \d\e Y, g:i A T"
SHORT_DATETIME_FORMAT = "d/m/Y g:i A T"

# lunes 7 de diciembre (the weekday choices in forms, "Lunes", have their own context:
# pgettext "a day of the week, as a choice")
DAY_FORMAT = r"l j \d\e F"
DAY_YEAR_FORMAT = r"l j \d\e F \d\e Y"
DAY_TIME_FORMAT = r"l j \d\e F, g:i A"
# lun 7 dic
SHORT_DAY_FORMAT = "D j b"
SHORT_DAY_TIME_FORMAT = "D j b, g:i A T"
MESSAGE_DAY_FORMAT = "D j b"
# 7 dic
MONTH_DAY_SHORT_FORMAT = "j b"
MONTH_DAY_TIME_FORMAT = "j b, g:i A T"
# 7 dic 2026
ABBR_DATE_FORMAT = "j b Y"
# 7 de diciembre de 2026
LONG_DATE_FORMAT = r"j \d\e F \d\e Y"
