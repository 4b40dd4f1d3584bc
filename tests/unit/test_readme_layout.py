"""The README's layout section names every part of infra/, and names only what exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def layout_section() -> str:
    readme = (ROOT / "README.md").read_text()
    start = readme.index("### Layout")
    end = readme.index("\n## ", start)
    return readme[start:end]


def infra_parts() -> set[str]:
    """``infra/<package>/`` for every package and ``infra/<module>.py`` for every module."""
    infra = ROOT / "infra"
    packages = {f"infra/{p.parent.name}/" for p in infra.glob("*/__init__.py")}
    modules = {f"infra/{p.name}" for p in infra.glob("*.py") if p.name != "__init__.py"}
    return packages | modules


def test_every_infra_package_and_module_is_named_in_the_layout_section() -> None:
    """A package or module added to infra/ must be placed in the README's layout section."""
    section = layout_section()
    missing = sorted(part for part in infra_parts() if f"`{part}`" not in section)
    assert missing == []


def test_every_infra_path_the_layout_section_names_exists() -> None:
    """The layout section names no package or module that is not (or no longer) there."""
    named = set(re.findall(r"`(infra/[a-z_]+(?:/|\.py))`", layout_section()))
    assert named, "the layout section names nothing under infra/"
    assert sorted(named - infra_parts()) == []


def test_the_layout_section_says_how_infra_reads() -> None:
    """Its four groups are there: entry points, one composition root, adapters by
    technology, services by name."""
    section = layout_section()
    for group in (
        "**Entry points.**",
        "**One composition root.**",
        "**Adapters by technology.**",
        "**Services by name.**",
    ):
        assert group in section
