"""The staff groups of the bank: instructors author their own banks, curators the shared taxonomy."""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission

__all__ = [
    "CURATORS_GROUP",
    "INSTRUCTORS_GROUP",
    "curators_group_ensure",
    "instructors_group_ensure",
]

INSTRUCTORS_GROUP = "Instructors"
CURATORS_GROUP = "Curators"
ACTIONS = ("add", "change", "delete", "view")
# What instructors may do: author their banks and cards; read the shared taxonomy and history.
INSTRUCTOR_AUTHORING = ("bank", "card", "keypoint", "option")
TAXONOMY_MODELS = ("tag", "topic", "source", "sourcesection")


def _group_ensure(name: str, codenames: list[str]) -> Group:
    group, _ = Group.objects.get_or_create(name=name)
    wanted = set(
        Permission.objects.filter(
            content_type__app_label="knowledge", codename__in=codenames
        ).values_list("id", flat=True)
    )
    current = set(group.permissions.values_list("id", flat=True))
    if wanted != current:  # an unchanged group costs two reads, not a rewrite
        group.permissions.set(wanted)
    return group


def instructors_group_ensure() -> Group:
    """Create or refresh the Instructors group: authoring of banks and cards, taxonomy read-only."""
    codenames = [f"{a}_{m}" for m in INSTRUCTOR_AUTHORING for a in ACTIONS]
    codenames += [f"view_{m}" for m in TAXONOMY_MODELS]
    codenames += ["view_cardrevision", "view_cardversion"]
    return _group_ensure(INSTRUCTORS_GROUP, codenames)


def curators_group_ensure() -> Group:
    """Create or refresh the Curators group: every change of topics, sources, sections and tags."""
    codenames = [f"{a}_{m}" for m in TAXONOMY_MODELS for a in ACTIONS]
    codenames += ["curate_taxonomy", "view_taxonomyrevision"]
    return _group_ensure(CURATORS_GROUP, codenames)
