"""Require a pinned template version on exactly the numeric cards (0003 pinned every row)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0003_pin_template_versions")]

    operations = [
        migrations.AddConstraint(
            model_name="card",
            constraint=models.CheckConstraint(
                condition=(models.Q(kind="numeric") & models.Q(template_version__isnull=False))
                | (~models.Q(kind="numeric") & models.Q(template_version__isnull=True)),
                name="card_template_version_iff_numeric",
            ),
        ),
    ]
