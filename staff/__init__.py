"""Staff pages in Django admin that span apps: the queues, the reports, and the actions on a visit
that reach into payments and notifications. The schedule board is booking's (`booking/board.py`)."""
