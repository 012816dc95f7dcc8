"""The fixture loader: apply ``fixtures/`` to the database without overwriting anyone's edits.

Each loaded row (bank, topic, source, section, card) keeps ``fixture_hash``, the digest of the
content the fixtures last gave it. On the next load a row is

* left alone when its fixture did not change (the common case: one read per table);
* updated when its fixture changed and the row still holds what was last loaded;
* reported as a conflict, and left alone, when the row was changed since (in the admin, by an
  import) — unless the load is told to overwrite it (``overwrite`` or ``force``).

Tags have no fixture of their own: they are part of the cards that name them. The misconception
links (``misconception_links.yaml``) are not edited anywhere else, so the loader simply makes the
``MisconceptionLink`` table match the file: links added, moved or dropped there are added,
re-positioned or deleted here, and an unchanged file writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import Any, TypeVar

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import DatabaseError, IntegrityError, models, transaction

from ..fixture_schema import BankData, FixtureError, read_bank, validate_bank_data
from ..misconception_links import LINKS_FILE, LinkKey, MisconceptionLinksError, links_read
from ..models import Bank, Card, MisconceptionLink, Source, SourceSection, Topic
from .card_rules import card_problems, resolved
from .cards import card_snapshot, write
from .common import CardConflict, content_digest
from .groups import curators_group_ensure, instructors_group_ensure
from .importing import CardLookup, LoadReport, card_input_from_item, card_item_canonical
from .taxonomy import taxonomy_content, taxonomy_save

__all__ = ["LOADER_NOTE", "BankLoadError", "bank_load"]

LOADER_NOTE = "loaded from fixtures"
Row = TypeVar("Row", bound=models.Model)


class BankLoadError(Exception):
    """The fixtures are invalid; nothing was written. ``errors`` lists every problem."""

    def __init__(self, errors: list[FixtureError]) -> None:
        super().__init__(f"{len(errors)} error(s) in the question bank fixtures")
        self.errors = errors


def _bank_owner() -> Any:
    user_model = get_user_model()
    owner = user_model.objects.filter(username=settings.BANK_OWNER).first()
    if owner is None:
        owner = user_model(username=settings.BANK_OWNER, is_staff=True)
        owner.set_unusable_password()
        owner.save()
    groups = [instructors_group_ensure(), curators_group_ensure()]
    present = set(owner.groups.values_list("id", flat=True))
    missing = [group for group in groups if group.pk not in present]
    if missing:  # an unchanged load writes nothing, not even an ignored insert
        owner.groups.add(*missing)
    return owner


def _bank_content(bank: Bank) -> dict[str, Any]:
    return {
        "slug": bank.slug,
        "title": {"zh": bank.title_zh, "en": bank.title_en},
        "description": {"zh": bank.description_zh, "en": bank.description_en},
    }


class _Rows:
    """Apply fixture content to rows of one kind with the fixture-hash rule; count and report."""

    def __init__(self, report: LoadReport, label: str, force_all: bool, force: Collection[str]):
        self.report = report
        self.label = label
        self.force_all = force_all
        self.force = force

    def apply(
        self,
        key: str,
        row: Row | None,
        wanted: Mapping[str, Any],
        content: Callable[[Row], dict[str, Any]],
        build: Callable[[Row | None], Row],
        save: Callable[[Row], Any],
    ) -> Row | None:
        """Bring ``row`` (None: missing) to ``wanted`` if allowed; return the row (None if skipped)."""
        digest = content_digest(dict(wanted))
        if row is not None:
            if row.fixture_hash == digest:  # type: ignore[attr-defined]
                return row
            current = content_digest(content(row))
            if current == digest:  # already what the fixture says: adopt it silently
                type(row)._default_manager.filter(pk=row.pk).update(fixture_hash=digest)
                return row
            untouched = bool(row.fixture_hash) and row.fixture_hash == current  # type: ignore[attr-defined]
            if not (untouched or self.force_all or key in self.force):
                self.report.conflicts.append(f"{self.label} {key}")
                return row
        target = build(row)
        target.fixture_hash = digest  # type: ignore[attr-defined]
        save(target)
        return target


def bank_load(
    root: Path | str | None = None, *, overwrite: bool = False, force: Collection[str] = ()
) -> LoadReport:
    """Validate the fixtures under ``root`` and apply them.

    The banks and taxonomy are written in one transaction, then the cards in another: the
    changed cards' template probes run between the two, outside any transaction. Invalid
    fixtures are refused before anything is written.

    Cards are matched by UUID, the other rows by slug, code or citation. A row changed since the
    last load (in the admin, by an import) is not overwritten but reported in ``conflicts``;
    ``overwrite`` applies every fixture anyway and ``force`` only those of the named card slugs
    (or topic slugs, source codes, section citations). Cards missing from the fixtures are left
    alone. Running the load twice writes nothing the second time. Raise ``BankLoadError`` with
    every problem if the fixtures are invalid; then nothing is written.
    """
    data = read_bank(root or settings.BANK_FIXTURES_DIR)
    errors = validate_bank_data(data)
    links, link_errors = _links_wanted(data)
    if errors or link_errors:
        raise BankLoadError(errors + link_errors)
    report = LoadReport()
    force = set(force)

    def rows(label: str) -> _Rows:
        return _Rows(report, label, overwrite, force)

    try:
        with transaction.atomic():
            owner = _bank_owner()
            banks = _load_banks(data.banks, owner, rows("bank"))
            topics = _load_topics(data.topics, rows("topic"))
            sections = _load_sources(data.sources, rows("source"), rows("section"))
        lookup = CardLookup(banks=banks, topics=topics, sections=sections)
        _load_cards([item for _file, item in data.cards], lookup, report, overwrite, force)
        _load_links(links)
    except (IntegrityError, CardConflict) as exc:
        raise BankLoadError([FixtureError("(database)", "", "", str(exc))]) from exc
    except DatabaseError as exc:
        raise BankLoadError([FixtureError("(database)", "", "", str(exc))]) from exc
    return report


def _links_wanted(data: BankData) -> tuple[dict[LinkKey, list[str]], list[FixtureError]]:
    """Return the links file's links as card UUIDs, or the problems that stop the load.

    A fixtures folder without a links file has no links. A slug that names no card of the
    fixtures or of the database is an error here; ``validate_bank`` checks the rest (kinds, statuses, templates).
    """
    if not (Path(data.root) / LINKS_FILE).is_file():
        return {}, []
    try:
        links = links_read(data.root)
    except MisconceptionLinksError as exc:
        return {}, exc.errors
    uuids = {
        item["slug"]: str(item["uuid"])
        for _file, item in data.cards
        if isinstance(item, Mapping) and "slug" in item and "uuid" in item
    }
    absent = {slug for slugs in links.values() for slug in slugs if slug not in uuids}
    if absent:  # cards dropped from the fixtures are kept in the database, and may be linked
        for slug, card_uuid in Card.objects.filter(slug__in=absent).values_list("slug", "uuid"):
            uuids[slug] = str(card_uuid)
    errors = [
        FixtureError(
            LINKS_FILE, "", f"{template}.{misconception}", f"no card has the slug {slug!r}"
        )
        for (template, misconception), slugs in links.items()
        for slug in slugs
        if slug not in uuids
    ]
    return {
        key: [uuids[slug] for slug in slugs if slug in uuids] for key, slugs in links.items()
    }, errors


def _load_links(links: dict[LinkKey, list[str]]) -> None:
    """Make the MisconceptionLink table hold exactly ``links`` (card UUIDs, in file order)."""
    card_ids = {
        str(card_uuid): pk
        for card_uuid, pk in Card.objects.filter(
            uuid__in={u for uuids in links.values() for u in uuids}
        ).values_list("uuid", "id")
    }
    wanted = {
        (template, misconception, card_ids[uuid_]): position
        for (template, misconception), uuids in links.items()
        for position, uuid_ in enumerate(uuids)
        if uuid_ in card_ids
    }
    stored = {
        (link.template_id, link.misconception_id, link.card_id): link
        for link in MisconceptionLink.objects.all()
    }
    gone = [link.pk for key, link in stored.items() if key not in wanted]
    moved = [
        (link.pk, wanted[key])
        for key, link in stored.items()
        if key in wanted and link.position != wanted[key]
    ]
    new = [
        MisconceptionLink(template_id=t, misconception_id=m, card_id=c, position=position)
        for (t, m, c), position in wanted.items()
        if (t, m, c) not in stored
    ]
    if not (gone or moved or new):
        return
    with transaction.atomic():
        MisconceptionLink.objects.filter(pk__in=gone).delete()
        for pk, position in moved:
            MisconceptionLink.objects.filter(pk=pk).update(position=position)
        MisconceptionLink.objects.bulk_create(new)


def _load_banks(items: list[tuple[str, Any]], owner: Any, rows: _Rows) -> dict[str, Bank]:
    found = {
        bank.slug: bank for bank in Bank.objects.filter(slug__in=[i["slug"] for _f, i in items])
    }

    def build_for(item: Mapping[str, Any]) -> Callable[[Bank | None], Bank]:
        def build(bank: Bank | None) -> Bank:
            bank = bank or Bank(slug=item["slug"], owner=owner)
            bank.title_zh, bank.title_en = item["title"]["zh"], item["title"]["en"]
            bank.description_zh = item["description"]["zh"]
            bank.description_en = item["description"]["en"]
            return bank

        return build

    for _file, item in items:
        wanted = {"slug": item["slug"], "title": item["title"], "description": item["description"]}
        bank = rows.apply(
            item["slug"], found.get(item["slug"]), wanted, _bank_content, build_for(item), Bank.save
        )
        if bank is not None:
            found[bank.slug] = bank
    return found


def _loader_save(row: Any) -> None:
    taxonomy_save(obj=row, user=None, note=LOADER_NOTE)


def _load_topics(items: list[tuple[str, Any]], rows: _Rows) -> dict[str, Topic]:
    found = {topic.slug: topic for topic in Topic.objects.select_related("parent")}
    for position, (_file, item) in enumerate(items):
        parent_slug = item["slug"].rpartition("/")[0] or None
        wanted = {
            "slug": item["slug"],
            "parent": parent_slug,
            "title": item["title"],
            "position": position,
        }

        def build(
            topic: Topic | None, item: Any = item, parent: Any = parent_slug, pos: int = position
        ) -> Topic:
            topic = topic or Topic(slug=item["slug"])
            topic.parent = found.get(parent) if parent else None
            topic.title_zh, topic.title_en = item["title"]["zh"], item["title"]["en"]
            topic.position = pos
            return topic

        topic = rows.apply(
            item["slug"], found.get(item["slug"]), wanted, taxonomy_content, build, _loader_save
        )
        if topic is not None:
            found[topic.slug] = topic
    return found


def _load_sources(
    docs: list[tuple[str, Any]], source_rows: _Rows, section_rows: _Rows
) -> dict[str, SourceSection]:
    sources = {source.code: source for source in Source.objects.all()}
    sections = {
        f"{s.source.code}:{s.section_id}": s for s in SourceSection.objects.select_related("source")
    }
    for _file, doc in docs:

        def build_source(source: Source | None, doc: Any = doc) -> Source:
            source = source or Source(code=doc["id"])
            source.kind = doc.get("kind", Source.Kind.SEED)
            source.file_name = doc.get("file", "")
            source.title_zh, source.title_en = doc["title"]["zh"], doc["title"]["en"]
            source.authors = doc.get("authors", "")
            source.year = doc.get("year")
            source.url = doc.get("url", "")
            return source

        # The fixture's shape of a source is taxonomy_content's, whatever its kind.
        wanted = taxonomy_content(build_source(None))

        source = source_rows.apply(
            doc["id"], sources.get(doc["id"]), wanted, taxonomy_content, build_source, _loader_save
        )
        if source is None:  # cannot happen: apply returns the row it kept or wrote
            continue
        sources[source.code] = source
        for position, item in enumerate(doc["sections"]):
            citation = f"{doc['id']}:{item['id']}"
            wanted_section = {
                "source": doc["id"],
                "id": item["id"],
                "title": item["title"],
                "position": position,
            }

            def build_section(
                section: SourceSection | None,
                item: Any = item,
                pos: int = position,
                src: Source = source,
            ) -> SourceSection:
                section = section or SourceSection(source=src, section_id=item["id"])
                section.title_zh, section.title_en = item["title"]["zh"], item["title"]["en"]
                section.position = pos
                return section

            section = section_rows.apply(
                citation,
                sections.get(citation),
                wanted_section,
                taxonomy_content,
                build_section,
                _loader_save,
            )
            if section is not None:
                sections[citation] = section
    return sections


def _load_cards(
    items: list[dict[str, Any]],
    lookup: CardLookup,
    report: LoadReport,
    overwrite: bool,
    force: Collection[str],
) -> None:
    """Apply card items by the fixture-hash rule; validate the changed ones, then write them."""
    stored = {
        str(card.uuid): card
        for card in Card.objects.filter(uuid__in=[item["uuid"] for item in items]).only(
            "id", "uuid", "slug", "fixture_hash", "template_id", "template_version"
        )
    }
    pending: list[tuple[dict[str, Any], str, Card | None]] = []
    for item in items:
        card = stored.get(item["uuid"])
        digest = content_digest(card_item_canonical(item, card=card))
        if card is not None and card.fixture_hash == digest:
            report.unchanged += 1
        else:
            pending.append((item, digest, card))
    if not pending:
        return
    # Only the cards whose fixture changed are read whole (their current content decides).
    changed = {
        card.pk: card
        for card in Card.objects.filter(pk__in=[c.pk for _i, _d, c in pending if c]).select_related(
            "bank", "topic"
        )
    }
    plan = []
    for item, digest, stub in pending:
        card = changed.get(stub.pk) if stub is not None else None
        if card is not None:
            current = content_digest(card_snapshot(card))
            if current == digest:
                Card.objects.filter(pk=card.pk).update(fixture_hash=digest)
                report.unchanged += 1
                continue
            untouched = bool(card.fixture_hash) and card.fixture_hash == current
            if not (untouched or overwrite or card.slug in force or item["slug"] in force):
                report.conflicts.append(f"card {card.slug}")
                continue
        data = card_input_from_item(item, lookup=lookup)
        problems = card_problems(data=data, card=card)
        if problems:
            raise BankLoadError(
                [
                    FixtureError("(fixtures)", item["slug"], name, message)
                    for name, messages in problems.items()
                    for message in messages
                ]
            )
        plan.append((item, card, data))
    with transaction.atomic():
        for item, card, data in plan:
            write(
                card=card,
                data=resolved(data, card),
                user=None,
                note=LOADER_NOTE,
                card_uuid=item["uuid"],
                from_fixture=True,
            )
            report.created += card is None
            report.updated += card is not None
            report.slugs.append(item["slug"])
