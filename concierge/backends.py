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
anything): it is compiled once per process, by the ORM, and run with the id
(`concierge.db.kept_statement`).
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import OuterRef

from .db import kept_statement


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
        statement = kept_statement("the login and its roles", _login_with_roles)
        row = statement.run(user_id)
        if row is None:
            return None
        user = model.from_db(connection.alias, statement.field_names, row[:-1])
        user.roles_from(row[-1] or ())
        return user


def _login_with_roles(user_id):
    """The active login with this id and its group names (last column)."""
    from django.contrib.postgres.expressions import ArraySubquery

    model = get_user_model()
    names = ArraySubquery(Group.objects.filter(user=OuterRef("pk")).values("name"))
    fields = [field.attname for field in model._meta.concrete_fields]
    return (
        model._default_manager.filter(pk=user_id, is_active=True)
        .annotate(group_names=names)
        .values_list(*fields, "group_names")
        .order_by()[:1]
    )
