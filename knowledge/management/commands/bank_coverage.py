from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from knowledge.coverage import coverage_markdown, section_coverage
from knowledge.fixture_schema import read_bank


class Command(BaseCommand):
    help = "Print (or --write) the source-section coverage table of the question bank."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--write", action="store_true", help="write fixtures/COVERAGE.md")

    def handle(self, *args: Any, write: bool = False, **options: Any) -> None:
        root = Path(settings.BANK_FIXTURES_DIR)
        data = read_bank(root)
        table = coverage_markdown(data)
        if write:
            (root / "COVERAGE.md").write_text(table, encoding="utf-8")
            self.stdout.write(f"wrote {root / 'COVERAGE.md'}")
        else:
            self.stdout.write(table)
        uncovered = [citation for citation, slugs in section_coverage(data).items() if not slugs]
        if uncovered:
            raise CommandError(f"{len(uncovered)} section(s) have no card: {', '.join(uncovered)}")
