"""The pages' words: both catalogues complete and compiled, every explanation word translated, the waterfall
adds up."""

from __future__ import annotations

import pytest

from registry.matching.comparisons import COMPARISONS
from registry.matching.explain import _short_title
from registry.web import catalogues, explain_words
from registry.web.i18n import LANGUAGES, Language
from registry.web.waterfall import draw


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_catalogue_translates_every_string_and_its_mo_is_compiled_from_its_po(lang):
    assert catalogues.missing(lang) == [], "run: python -m registry.web.catalogues"
    assert not catalogues.stale_mo(lang), "run: python -m registry.web.catalogues"


def test_every_comparison_and_level_of_the_model_has_words():
    words = set(explain_words.TITLES) | set(explain_words.LEVELS)
    for c in COMPARISONS:
        assert _short_title(c.title) in words
        assert {lv.label for lv in c.levels} <= words


def test_every_rule_of_the_registry_has_words():
    from registry.matching.explain import RULES

    assert set(RULES.values()) <= set(explain_words.RULES)


def test_arabic_pages_use_arabic_indic_digits_and_arabic_words():
    ar = Language("ar")
    assert ar.direction == "rtl" and Language("en").direction == "ltr"
    assert ar.number(1234) == "١٬٢٣٤"
    assert ar.gettext("same name") == "الاسم نفسه"
    assert explain_words.finding_words("same name, a rare name", ar.gettext) == "الاسم نفسه، اسم نادر"


def test_the_waterfall_starts_at_the_prior_and_ends_at_the_final_weight():
    chart = draw(-10.0, [("given name", 9.5), ("family", 6.0), ("date of birth", -2.0)], ("prior", "final"),
                 lambda w: f"{w:+.1f}", False, "")
    prior, given, family, dob, total = chart.bars
    assert prior.kind == "prior" and total.kind == "total" and dob.kind == "against"
    assert given.x == pytest.approx(prior.x)  # the prior ends at its left edge (negative), the name starts there
    assert total.x + total.width == pytest.approx(chart.zero_x + (family.x + family.width - chart.zero_x)
                                                  - (dob.width), abs=0.5)
