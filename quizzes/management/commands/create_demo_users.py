from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from knowledge.services import instructors_group_ensure


class Command(BaseCommand):
    help = "Create (or reset) the demo learner and demo instructor and print their credentials."

    def handle(self, *args: Any, **options: Any) -> None:
        user_model = get_user_model()
        password = settings.DEMO_PASSWORD
        learner, _ = user_model.objects.get_or_create(username="learner")
        learner.set_password(password)
        learner.save()
        instructor, _ = user_model.objects.get_or_create(username="instructor")
        instructor.is_staff = True
        instructor.set_password(password)
        instructor.save()
        instructor.groups.add(instructors_group_ensure())
        self.stdout.write("Demo accounts (set DEMO_PASSWORD to change the password):")
        self.stdout.write(f"  learner     username: learner     password: {password}")
        self.stdout.write(
            f"  instructor  username: instructor  password: {password}  (admin: /admin/)"
        )
