"""Reload the ZIP table from the installed `zipcodes` package (after upgrading it).

The migration loads it once; run this when a new release of the package brings new ZIPs, then
restart the web and worker processes (each keeps a small cache of the ZIPs it looked up).
"""

from django.core.management.base import BaseCommand
from django.db import transaction

from concierge.models import ZipCode
from concierge.zipcodes_data import zip_table_load


class Command(BaseCommand):
    help = "Reload the ZIP code table from the zipcodes package."

    def handle(self, *args, **options):
        with transaction.atomic():
            count = zip_table_load(ZipCode)
        self.stdout.write(self.style.SUCCESS(f"{count} ZIP codes loaded."))
