"""The password login backend.

Django's ModelBackend refuses an inactive user before the login form sees them, so a patient
who closed their account (portal/data_rights/closing.py) would read "that email and password do not
match", which is untrue and sends them to reset a password they know. Here the right password
for an inactive login still authenticates, and the login form (`EmailLoginForm`, whose
`confirm_login_allowed` rejects inactive users) says "This account is closed. Please call us".
A wrong password gets the usual message, so a closed account is revealed only to someone who
knows its password.

Sessions are another matter: `get_user` keeps refusing inactive users, so every session of a
closed (or deactivated) login ends at its next request, on every device. It reads the login and
its roles in one statement on PostgreSQL (every signed-in page asks for the roles).

That statement is the same on every signed-in request but its user id, and Django compiled it
afresh each time (~1.2 ms, half of what a signed-in request costs before its page reads
anything): it is compiled once per process, by the ORM, and run with the id.
"""

import functools

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import OuterRef

_ID_PLACEHOLDER = -7_412_930_551  # stands for the user id while the statement is compiled


class EmailLoginBackend(ModelBackend):
    def user_can_authenticate(self, user):
        # For `authenticate` only: whether the login may proceed is the form's decision.
        return True

    def get_user(self, user_id):
        if connection.vendor != "postgresql":
            user = super().get_user(user_id)
            return user if user is not None and user.is_active else None
        model = get_user_model()
        try:
            user_id = model._meta.pk.to_python(user_id)
        except ValidationError:
            return None
        sql, params, field_names = _login_statement()
        with connection.cursor() as cursor:
            cursor.execute(sql, [user_id if p == _ID_PLACEHOLDER else p for p in params])
            row = cursor.fetchone()
        if row is None:
            return None
        user = model.from_db(connection.alias, field_names, row[:-1])
        user.roles_from(row[-1] or ())
        return user


@functools.cache
def _login_statement() -> tuple[str, tuple, list[str]]:
    """The active login with this id and its group names (last column), as the ORM compiles it."""
    from django.contrib.postgres.expressions import ArraySubquery

    model = get_user_model()
    field_names = [field.attname for field in model._meta.concrete_fields]
    names = ArraySubquery(Group.objects.filter(user=OuterRef("pk")).values("name"))
    query = (
        model._default_manager.filter(pk=_ID_PLACEHOLDER, is_active=True)
        .annotate(group_names=names)
        .values_list(*field_names, "group_names")
        .order_by()[:1]
        .query
    )
    sql, params = query.sql_with_params()
    if list(params).count(_ID_PLACEHOLDER) != 1:  # the id must be the one parameter it stands for
        raise RuntimeError("the login statement's user id could not be found among its parameters")
    return sql, tuple(params), field_names
