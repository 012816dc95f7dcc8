from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from knowledge.services import BankLoadError, bank_load


class Command(BaseCommand):
    help = "Validate the question-bank fixtures and load them in one transaction (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "root",
            nargs="?",
            type=Path,
            help="fixtures folder (default: settings.BANK_FIXTURES_DIR)",
        )

    def handle(self, *args: Any, root: Path | None = None, **options: Any) -> None:
        try:
            report = bank_load(root)
        except BankLoadError as exc:
            for error in exc.errors:
                self.stderr.write(str(error))
            raise CommandError(f"{len(exc.errors)} error(s); nothing was loaded") from exc
        self.stdout.write(self.style.SUCCESS(f"Question bank loaded: {report}"))
