from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """What a person does here. Each role is a Django group of the same name (see roles.py)."""

    PATIENT = "patient", _("Patient")
    NURSE = "nurse", _("Nurse")
    CLINICIAN = "clinician", _("Clinician")
    # The scheduler: runs visits and rosters in admin, never sees clinical answers.
    STAFF = "staff", _("Scheduler (staff)")
    # Runs the clinic: what schedulers see, plus reports, the audit trail and who viewed records.
    MANAGER = "manager", _("Manager")


class UserManager(BaseUserManager):
    use_in_migrations = True

    @classmethod
    def normalize_email(cls, email):
        # Addresses are compared without case: "Ann@Example.com" and "ann@example.com" are one login.
        return (email or "").strip().lower()

    def get_by_natural_key(self, username):
        return self.get(email__iexact=self.normalize_email(username))

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email), **extra_fields)
        user.set_password(password)
        user.full_clean(exclude=["password"])
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)


class User(AbstractBaseUser, PermissionsMixin):
    """Everyone who logs in: patients, nurses, clinicians and staff. The email is the login."""

    email = models.EmailField(_("email address"), unique=True)
    first_name = models.CharField(_("first name"), max_length=150, blank=True)
    last_name = models.CharField(_("last name"), max_length=150, blank=True)
    is_staff = models.BooleanField(
        _("staff status"),
        default=False,
        help_text=_("Can log in to the admin site."),
    )
    is_active = models.BooleanField(
        _("active"),
        default=True,
        help_text=_("Unselect this instead of deleting accounts: records must be kept."),
    )
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)
    # The language pages and every message sent to this person are written in: chosen at sign-up
    # (the browser's Accept-Language as the first guess) and in the profile.
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE)

    objects = UserManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
        ]

    def __str__(self):
        return self.email

    def clean(self):
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email)

    def get_full_name(self):
        return f"{self.first_name} {self.last_name}".strip() or self.email

    def get_short_name(self):
        return self.first_name or self.email

    @cached_property
    def roles(self):
        """The names of the role groups this user belongs to (one query, then cached)."""
        if not self.pk:
            return frozenset()
        return self.roles_from(self.groups.values_list("name", flat=True))

    def roles_from(self, group_names):
        """Keep the roles among these group names (already read with the login: concierge/backends.py)."""
        role_names = set(Role.values)
        self.__dict__["roles"] = roles = frozenset(n for n in group_names if n in role_names)
        return roles

    def has_role(self, *roles):
        return any(role in self.roles for role in roles)

    @property
    def is_patient(self):
        return self.has_role(Role.PATIENT)

    @property
    def is_nurse(self):
        return self.has_role(Role.NURSE)

    @property
    def is_clinician(self):
        return self.has_role(Role.CLINICIAN)


class PatientRecordView(models.Model):
    """Who opened a patient's record, when, and which part (written by concierge.audit.record_view).

    Changes are in the audit trail (django-auditlog); this is the other half: reading. Rows are
    only ever added.
    """

    viewer = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="patient_records_viewed", verbose_name=_("viewed by")
    )
    patient = models.ForeignKey(User, on_delete=models.PROTECT, related_name="record_views", verbose_name=_("patient"))
    what = models.CharField(_("what was opened"), max_length=120)
    path = models.CharField(_("address"), max_length=300, blank=True)
    viewed_at = models.DateTimeField(_("viewed at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("patient record view")
        verbose_name_plural = _("who viewed patient records")
        ordering = ["-viewed_at", "-id"]
        indexes = [
            models.Index(fields=["patient", "-viewed_at"]),
            # The admin list's filter on what was opened, read from this index (concierge.admin.values_in_use).
            models.Index(fields=["what"]),
        ]
        permissions = [("view_reports", _("Can see the clinic's reports"))]

    def __str__(self):
        return f"{self.viewer} viewed {self.patient} ({self.what})"


class ZipCode(models.Model):
    """A US ZIP code: its state, position and IANA time zone (concierge.geo reads it).

    Reference data, loaded from the `zipcodes` package by a migration and by `manage.py
    zipcodes_load`; never edited by hand. A table instead of the package's list in memory: that
    list cost every web and worker process about 150 MB.
    """

    zip_code = models.CharField(_("ZIP code"), max_length=5, primary_key=True)
    city = models.CharField(_("city"), max_length=100)
    state = models.CharField(_("state"), max_length=2)
    lat = models.FloatField(_("latitude"))
    lng = models.FloatField(_("longitude"))
    time_zone = models.CharField(_("time zone"), max_length=64)

    class Meta:
        # Its migration makes and fills the table; unmanaged, so that `flush` (and tests that
        # empty the database between them) leave this reference data in place.
        managed = False
        db_table = "concierge_zipcode"
        verbose_name = _("ZIP code")
        verbose_name_plural = _("ZIP codes")

    def __str__(self):
        return self.zip_code


class PatientStateChange(models.Model):
    """One committed change of a patient's state (concierge/patient_state.py): written by a
    database trigger on each watched table, never by Python. No foreign key, so that writing it
    locks nothing."""

    id = models.BigAutoField(primary_key=True)
    patient_id = models.BigIntegerField()

    class Meta:
        db_table = "concierge_patientstatechange"
        # A version (count and last id of one person's rows) is read from the index alone.
        indexes = [models.Index(fields=["patient_id", "id"], name="concierge_change_patient_id")]

    def __str__(self):
        return f"change {self.pk} of patient {self.patient_id}"


class PatientStateFolded(models.Model):
    """A patient's older changes, counted (the log folded by patient_state_log_fold)."""

    patient_id = models.BigIntegerField(primary_key=True)
    changes = models.BigIntegerField()

    class Meta:
        db_table = "concierge_patientstatefolded"

    def __str__(self):
        return f"{self.changes} changes of patient {self.patient_id}"
