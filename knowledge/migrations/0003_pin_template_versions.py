"""Pin every numeric card to its template's current version, and record what learners see now.

* ``template_version``: numeric cards without one get the version ``compute.templates`` has
  registered as the latest today (which is what they have been drawing), other kinds none;
  migration 0004 then makes the database require it (a separate transaction: PostgreSQL does
  not alter a table with row events of this one pending).
* ``CardVersion``: every published card gets the row of its current version.
* ``fixture_hash``: a card whose latest revision was written by the loader gets the digest of
  that content, so the next load knows it was not edited since; other cards keep "" (unknown),
  and the loader reports a changed fixture for them as a conflict instead of overwriting.

The digests are computed here with a frozen copy of the services' function: a later change
there must not change what this migration wrote.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.db import migrations


def _digest(data: Any) -> str:
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _bilingual(obj: Any, prefix: str) -> dict[str, str]:
    return {"zh": getattr(obj, f"{prefix}_zh"), "en": getattr(obj, f"{prefix}_en")}


def _learner_content(card: Any) -> dict[str, Any]:
    points = card.key_points.order_by("position")
    options = card.options.order_by("position")
    return {
        "kind": card.kind,
        "question": _bilingual(card, "question"),
        "answer": _bilingual(card, "answer"),
        "erratum": _bilingual(card, "erratum"),
        "key_points": [
            {"text": _bilingual(p, "text"), "accept": {"zh": p.accept_zh, "en": p.accept_en}}
            for p in points
        ],
        "options": [
            {
                "text": _bilingual(o, "text"),
                "correct": o.correct,
                "feedback": _bilingual(o, "feedback"),
            }
            for o in options
        ],
        "template": (
            {
                "id": card.template_id,
                "version": card.template_version,
                "constraints": card.constraints or {},
            }
            if card.kind == "numeric"
            else None
        ),
    }


def forwards(apps: Any, schema_editor: Any) -> None:
    from compute.templates import UnknownTemplate, get_template

    Card = apps.get_model("knowledge", "Card")
    CardVersion = apps.get_model("knowledge", "CardVersion")
    CardRevision = apps.get_model("knowledge", "CardRevision")
    Card.objects.exclude(kind="numeric").exclude(template_version=None).update(
        template_version=None
    )
    for card in Card.objects.filter(kind="numeric", template_version=None):
        try:
            card.template_version = get_template(card.template_id).version
        except UnknownTemplate:
            card.template_version = 1  # a broken card stays broken; publishing it is refused
        card.save(update_fields=["template_version"])
    for card in Card.objects.all():
        if card.status == "published":
            content = _learner_content(card)
            CardVersion.objects.create(
                card=card, version=card.version, content=content, content_hash=_digest(content)
            )
        latest = CardRevision.objects.filter(card=card).order_by("-created_at", "-id").first()
        if latest is not None and latest.note == "loaded from fixtures":
            snapshot = dict(latest.snapshot)
            if card.kind == "numeric":
                snapshot["template_version"] = card.template_version
            card.fixture_hash = _digest(snapshot)
            card.save(update_fields=["fixture_hash"])


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0002_card_versions_archive_fixture_hashes")]

    operations = [
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
