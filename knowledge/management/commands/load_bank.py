from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from knowledge.services import BankLoadError, bank_load


class Command(BaseCommand):
    help = (
        "Validate the question-bank fixtures and apply them (idempotent). A row changed since the "
        "last load (in the admin, by an import) is reported as a conflict and left alone."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "root",
            nargs="?",
            type=Path,
            help="fixtures folder (default: settings.BANK_FIXTURES_DIR)",
        )
        parser.add_argument(
            "--overwrite",
            action="store_true",
            help="apply every fixture, overwriting edits made since the last load",
        )
        parser.add_argument(
            "--force",
            nargs="+",
            default=[],
            metavar="SLUG",
            help="overwrite only these rows (card or topic slugs, source codes, section citations)",
        )

    def handle(
        self,
        *args: Any,
        root: Path | None = None,
        overwrite: bool = False,
        force: list[str] | None = None,
        **options: Any,
    ) -> None:
        try:
            report = bank_load(root, overwrite=overwrite, force=force or ())
        except BankLoadError as exc:
            for error in exc.errors:
                self.stderr.write(str(error))
            raise CommandError(f"{len(exc.errors)} error(s); nothing was loaded") from exc
        for conflict in report.conflicts:
            self.stderr.write(
                f"conflict: {conflict} was changed since the last load; the fixture was not applied "
                "(load_bank --force it to overwrite)"
            )
        self.stdout.write(self.style.SUCCESS(f"Question bank loaded: {report}"))
