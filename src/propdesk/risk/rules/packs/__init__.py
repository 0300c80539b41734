"""The shipped rule packs: one YAML file per firm plan, named ``<pack id>.yaml``.

This module is the only place that reads pack files, through :mod:`importlib.resources` (so it
works from a wheel or a zip); parsing and validation are :func:`propdesk.risk.rules.pack.parse_pack`.
Custom packs are read by the caller (CLI, service) and passed to ``parse_pack`` as text.
"""

from __future__ import annotations

from importlib import resources

from propdesk.risk.rules.pack import PackError, RulePack, parse_pack

_SUFFIX = ".yaml"


def available_packs() -> list[str]:
    """Ids of the shipped packs, sorted."""
    root = resources.files(__name__)
    return sorted(
        entry.name.removesuffix(_SUFFIX) for entry in root.iterdir() if entry.name.endswith(_SUFFIX)
    )


def load_pack(name: str) -> RulePack:
    """A shipped pack by id, or by ``id@version`` (refused if the shipped version differs)."""
    pack_id, _, version = name.partition("@")
    if pack_id not in available_packs():
        raise PackError(f"unknown rule pack {pack_id!r}; shipped packs: {', '.join(available_packs())}")
    text = resources.files(__name__).joinpath(pack_id + _SUFFIX).read_text(encoding="utf-8")
    pack = parse_pack(text, source=pack_id + _SUFFIX)
    if pack.id != pack_id:
        raise PackError(f"{pack_id}{_SUFFIX}: declares id {pack.id!r}; a pack file is named after its id")
    if version and version != pack.version:
        raise PackError(f"rule pack {pack_id} is shipped at version {pack.version}, not {version}")
    return pack


def load_all() -> dict[str, RulePack]:
    """Every shipped pack by id."""
    return {name: load_pack(name) for name in available_packs()}
