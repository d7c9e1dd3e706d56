from django.conf import settings
from django.contrib.auth.models import Group
from django.db import transaction

from .models import Role, User
from .roles import ADMIN_ROLES


@transaction.atomic
def user_create(
    *,
    email: str,
    password: str | None,
    role: str,
    first_name: str = "",
    last_name: str = "",
    is_superuser: bool = False,
    language: str = "",
) -> User:
    """Create a login with one role. Staff and clinicians can use the admin site."""
    user = User(
        email=User.objects.normalize_email(email),
        first_name=first_name,
        last_name=last_name,
        is_staff=role in ADMIN_ROLES or is_superuser,
        is_superuser=is_superuser,
        language=language or settings.LANGUAGE_CODE,
    )
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    user_set_role(user=user, role=role)
    return user


@transaction.atomic
def user_set_role(*, user: User, role: str) -> User:
    group, _ = Group.objects.get_or_create(name=Role(role).value)
    user.groups.remove(*user.groups.filter(name__in=Role.values).exclude(pk=group.pk))
    user.groups.add(group)
    user.is_staff = user.is_superuser or Role(role) in ADMIN_ROLES
    user.save(update_fields=["is_staff"])
    user.__dict__.pop("roles", None)
    return user


def user_language_set(*, user: User, language: str) -> User:
    """The language this person's pages and messages are written in (one of settings.LANGUAGES)."""
    user.language = language
    user.full_clean(exclude=["password"])
    user.save(update_fields=["language"])
    return user
