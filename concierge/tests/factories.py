import factory
from django.contrib.auth.models import Group

from concierge.models import User
from concierge.roles import ADMIN_ROLES

TEST_PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    """`UserFactory(role="nurse")` makes a nurse; staff and clinicians can use the admin site."""

    class Meta:
        model = User
        django_get_or_create = ("email",)
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")

    @factory.post_generation
    def role(obj, create, extracted, **kwargs):
        obj.set_password(TEST_PASSWORD)
        if extracted:
            obj.groups.add(Group.objects.get_or_create(name=extracted)[0])
            obj.is_staff = obj.is_staff or extracted in ADMIN_ROLES
        if create:
            obj.save()
