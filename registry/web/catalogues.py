"""Keep the pages' gettext catalogues complete: `python -m registry.web.catalogues`.

Extracts every string of the templates and page modules (babel.cfg), merges them into each language's
`messages.po` (keeping the translations there; English is the source language, so its translation is the
text itself), compiles each `messages.mo`, and lists the strings still untranslated. Exit status 1 when any is.
The tests call `missing()` and `stale_mo()` so an incomplete catalogue fails CI.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po, write_po

from registry.web.i18n import DOMAIN, LANGUAGES, LOCALE_DIR

WEB = Path(__file__).parent
KEYWORDS = {"_": None, "gettext": None, "N_": None}


def extracted() -> list[str]:
    """Every msgid in the templates and the page modules, sorted."""
    method_map, options_map = parse_mapping_cfg(io.StringIO((WEB / "babel.cfg").read_text()))
    ids = {msg for _, _, msg, _, _ in extract_from_dir(str(WEB), method_map, options_map, keywords=KEYWORDS)
           if isinstance(msg, str) and msg}
    return sorted(ids)


def po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalog(lang: str) -> Catalog:
    path = po_path(lang)
    if not path.exists():
        return Catalog(locale=lang, domain=DOMAIN)
    with path.open("rb") as f:
        return read_po(f, locale=lang, domain=DOMAIN)


def _translation(cat: Catalog, msgid: str) -> str | tuple[str, ...] | list[str] | None:
    """The catalogue's translation of `msgid`; empty when the catalogue has no such message."""
    message = cat.get(msgid)
    return message.string if message else ""


def missing(lang: str) -> list[str]:
    cat = read_catalog(lang)
    return [m for m in extracted() if not _translation(cat, m)]


def stale_mo(lang: str) -> bool:
    """True when the committed .mo is not the compilation of the .po."""
    mo = po_path(lang).with_suffix(".mo")
    if not mo.exists():
        return True
    with mo.open("rb") as f:
        compiled = {m.id: m.string for m in read_mo(f) if m.id}
    source = {m.id: m.string for m in read_catalog(lang) if m.id and m.string}
    return compiled != source


def update(translations: dict[str, dict[str, str]] | None = None) -> dict[str, list[str]]:
    ids = extracted()
    report = {}
    for lang in LANGUAGES:
        old = read_catalog(lang)
        cat = Catalog(locale=lang, domain=DOMAIN, project="child-case-registry", charset="utf-8", fuzzy=False)
        extra = (translations or {}).get(lang, {})
        for msgid in ids:
            text = msgid if lang == "en" else (extra.get(msgid) or _translation(old, msgid))
            cat.add(msgid, text)
        path = po_path(lang)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as f:
            write_po(f, cat, width=0, omit_header=False, sort_output=True, no_location=True)
        with path.with_suffix(".mo").open("wb") as f:
            write_mo(f, cat)
        report[lang] = [m for m in ids if not _translation(cat, m)]
    return report


def main() -> int:
    report = update()
    for lang, todo in report.items():
        for msgid in todo:
            print(f"{lang}: untranslated: {msgid!r}")
    return 1 if any(report.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
