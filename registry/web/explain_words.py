"""The words of a pair's explanation, in the page's language.

The matcher names each comparison and its level in English (registry.matching.comparisons); the reviewer
reads them in Arabic or English. Every title and level is listed here so that the catalogues hold them all
(a test checks that each comparison level of the model has an entry).
"""

from __future__ import annotations

from collections.abc import Callable


def N_(message: str) -> str:  # noqa: N802 - the gettext convention: marked for extraction, translated later
    return message


TITLES = (N_("given name"), N_("family"), N_("date of birth"), N_("sex"), N_("national ID"), N_("governorate"),
          N_("given name inside an agreeing family"), N_("how common the father's name is"),
          N_("how common the family name is"), N_("how common the mother's name is"))
LEVELS = (
    N_("a year apart"), N_("a year apart, one side estimated"), N_("all parts differ"), N_("day and month swapped"),
    N_("different"), N_("different known names"), N_("four or more parts agree, none differ"), N_("missing"),
    N_("most parts agree, one differs"), N_("one part agrees, one differs"), N_("nothing to compare"),
    N_("most parts agree, one only similar"), N_("one part agrees, one only similar"),
    N_("the one part compared is only similar"),
    N_("one part agrees, none differ"), N_("same"),
    N_("same date"), N_("same day and month, year off by one"), N_("same day and month, another year"),
    N_("same month, day unknown on one side"),
    N_("same name"), N_("same sound"), N_("same year"), N_("same year, one side knows only the year"),
    N_("similar spelling"), N_("some parts agree, several differ"), N_("three parts agree, none differ"),
    N_("two parts agree, none differ"), N_("the one part compared differs"),
    N_("same name, the family agrees in four parts or more"), N_("same name, the family agrees in three parts"),
    N_("no correction"), N_("the same name"),
)
RARE, COMMON = N_("a rare name"), N_("a common name")
# The registry's rules that hold a probability down (registry.matching.explain.RULES), said in full.
RULES = (
    N_("possible twins or siblings: the given names differ while the family and the date of birth agree, so this "
       "pair is never merged automatically"),
)


def finding_words(finding: str, _: Callable[[str], str]) -> str:
    """'same name, a rare name' -> its translation, part by part."""
    for suffix in (RARE, COMMON):
        if finding.endswith(", " + suffix):
            return _(finding[: -len(suffix) - 2]) + _(", ") + _(suffix)
    return _(finding)


def side_words(weight: float, _: Callable[[str], str]) -> str:
    if abs(weight) < 0.05:
        return _("no evidence either way")
    return _("for") if weight > 0 else _("against")
