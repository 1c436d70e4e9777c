"""The "Editors" group: may view everything in the stories app and change stories (the published flag)."""

from django.db import migrations

EDITORS = "Editors"
VIEW_MODELS = ["story", "article", "provider", "topic", "coverage"]


def create_editors(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after all migrations; make sure they exist now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    codenames = [f"view_{model}" for model in VIEW_MODELS] + ["change_story"]
    group, _ = Group.objects.get_or_create(name=EDITORS)
    group.permissions.add(*Permission.objects.filter(content_type__app_label="stories", codename__in=codenames))


def remove_editors(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=EDITORS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("stories", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_editors, remove_editors)]
