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
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group
from django.db import connection
from django.db.models import OuterRef


class EmailLoginBackend(ModelBackend):
    def user_can_authenticate(self, user):
        # For `authenticate` only: whether the login may proceed is the form's decision.
        return True

    def get_user(self, user_id):
        if connection.vendor != "postgresql":
            user = super().get_user(user_id)
            return user if user is not None and user.is_active else None
        from django.contrib.postgres.expressions import ArraySubquery

        names = ArraySubquery(Group.objects.filter(user=OuterRef("pk")).values("name"))
        user = get_user_model()._default_manager.filter(pk=user_id, is_active=True).annotate(group_names=names).first()
        if user is not None:
            user.roles_from(user.group_names)
        return user
