"""Loading the ZIP table (concierge.ZipCode) from the `zipcodes` package: the migration and the
`zipcodes_load` command share this. Only the loading process ever holds the package's list."""

from collections.abc import Iterator
from typing import Any

BATCH = 5000


def zip_rows() -> Iterator[dict[str, Any]]:
    """Active ZIPs with a position and a time zone, as ZipCode field values."""
    import zipcodes  # imported here: its list is large, and only loading needs it

    for row in zipcodes.list_all():
        if not row.get("active", True) or not row.get("timezone") or not row.get("lat"):
            continue
        yield {
            "zip_code": row["zip_code"],
            "city": row["city"][:100],
            "state": row["state"],
            "lat": float(row["lat"]),  # the dataset stores these as strings
            "lng": float(row["long"]),
            "time_zone": row["timezone"],
        }


def zip_table_load(model: Any) -> int:
    """Replace the rows of `model` (the ZipCode model, or the migration's historical one) with the
    package's ZIPs, in batches. Returns the number of rows. Call inside a transaction."""
    model.objects.all().delete()
    rows = [model(**values) for values in zip_rows()]
    model.objects.bulk_create(rows, batch_size=BATCH)
    return len(rows)
