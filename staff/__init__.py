"""The back office in Django admin: the schedule board (board/), the queues, the reports, the roster
check, the clinicians' review and the actions on a visit that reach into payments and
notifications (admin/). The top layer: it may import every other app, and none imports it."""
