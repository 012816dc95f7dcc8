from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from knowledge.fixture_schema import validate_fixtures
from knowledge.misconception_links import links_read, links_validate


class Command(BaseCommand):
    help = (
        "Check the question-bank fixtures (cards, taxonomy and the misconception links) and "
        "report every error, without loading anything."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "root",
            nargs="?",
            type=Path,
            help="fixtures folder (default: settings.BANK_FIXTURES_DIR)",
        )

    def handle(self, *args: Any, root: Path | None = None, **options: Any) -> None:
        data, errors = validate_fixtures(root or settings.BANK_FIXTURES_DIR)
        link_errors = links_validate(data)
        for error in [*errors, *link_errors]:
            self.stderr.write(str(error))
        if errors or link_errors:
            raise CommandError(
                f"{len(errors)} error(s) in {len(data.cards)} cards, "
                f"{len(link_errors)} in the misconception links"
            )
        links = links_read(data.root)
        self.stdout.write(
            self.style.SUCCESS(
                f"{len(data.cards)} cards, {len(links)} misconception links, no errors"
            )
        )
