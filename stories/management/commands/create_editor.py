"""Create or update an editor account: a staff user in the "Editors" group.

    python manage.py create_editor [USERNAME] [--email EMAIL] [--no-input]

The password comes from the DJANGO_EDITOR_PASSWORD environment variable, else
it is asked for twice. An existing user keeps their password when none is given
(an empty answer, or --no-input without the variable).
"""

import getpass
import os

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email
from django.db import transaction

EDITORS = "Editors"
CREDENTIAL_VARIABLE = "DJANGO_EDITOR_PASSWORD"
PROMPT_ATTEMPTS = 3


class Command(BaseCommand):
    help = (
        "Create (or update) an editor: a staff user in the Editors group, who may view everything and "
        f"publish or unpublish stories. The password is read from {CREDENTIAL_VARIABLE} or asked for."
    )

    def add_arguments(self, parser):
        parser.add_argument("username", nargs="?", help="The editor's user name (asked for if left out).")
        parser.add_argument("--email", default=None, help="The editor's email address.")
        parser.add_argument(
            "--no-input",
            "--noinput",
            action="store_false",
            dest="interactive",
            help=f"Ask nothing: the user name is required and the password comes from {CREDENTIAL_VARIABLE}.",
        )

    def handle(self, *args, username, email, interactive, **options):
        User = get_user_model()  # noqa: N806 - a class
        try:
            group = Group.objects.get(name=EDITORS)
        except Group.DoesNotExist:
            raise CommandError(f'The "{EDITORS}" group does not exist: run "python manage.py migrate" first.') from None

        username = (username or "").strip()
        if not username:
            if not interactive:
                raise CommandError("Give a user name (create_editor USERNAME) when using --no-input.")
            username = input("User name: ").strip()
            if not username:
                raise CommandError("A user name is required.")
        if email:
            try:
                validate_email(email)
            except ValidationError:
                raise CommandError(f"Not a valid email address: {email!r}") from None

        user = User._default_manager.filter(**{User.USERNAME_FIELD: username}).first()
        exists = user is not None
        if user is None:
            user = User(**{User.USERNAME_FIELD: username})
        if email:
            user.email = email

        password = self._password(user, exists, interactive)

        with transaction.atomic():
            user.is_staff = True
            user.is_active = True
            if password is not None:
                user.set_password(password)
            user.save()
            user.groups.add(group)

        done = "Updated" if exists else "Created"
        details = ["staff", f"in the {EDITORS} group"]
        details.append("password set" if password is not None else "password unchanged")
        self.stdout.write(self.style.SUCCESS(f"{done} editor {username!r}: {', '.join(details)}."))
        if user.is_superuser:
            self.stdout.write(f"Note: {username!r} is also a superuser, with every permission.")

    def _password(self, user, exists, interactive):
        """The new password, or None to keep an existing user's one."""
        from_env = os.environ.get(CREDENTIAL_VARIABLE)
        if from_env:
            self._validate(from_env, user)
            return from_env
        if not interactive:
            if exists:
                return None
            raise CommandError(f"Set {CREDENTIAL_VARIABLE} to give the new editor a password when using --no-input.")
        hint = " (leave empty to keep the current one)" if exists else ""
        for _attempt in range(PROMPT_ATTEMPTS):
            password = getpass.getpass(f"Password{hint}: ")
            if not password and exists:
                return None
            if not password:
                self.stderr.write("The password cannot be empty.")
                continue
            if getpass.getpass("Password (again): ") != password:
                self.stderr.write("The two passwords differ.")
                continue
            try:
                self._validate(password, user)
            except CommandError as error:
                self.stderr.write(str(error))
                continue
            return password
        raise CommandError("No password set.")

    @staticmethod
    def _validate(password, user):
        try:
            validate_password(password, user)
        except ValidationError as error:
            raise CommandError("Password refused: " + " ".join(error.messages)) from None
