"""The harder synth mixes (issue 14): year typos on registrations away from home, full-name-only rows, missing
and shifted chain parts, the other country's spelling conventions, Western and Christian names; the held-out
mix has its own seed; the default world is unchanged."""

from collections import Counter

import pytest

from registry.synth import SynthConfig, generate
from registry.synth.curated_names import FOREIGN_FEMALE, FOREIGN_MALE
from registry.synth.generator import HELD_OUT_SEED, MIXES


@pytest.fixture(scope="module")
def hard():
    return generate(4000, seed=3, config=SynthConfig.mix("hard"))


@pytest.fixture(scope="module")
def default():
    return generate(4000, seed=3)


def _tags(result) -> Counter:
    return Counter(t for r in result.records for t in r.noise)


def test_year_typos_come_with_displacement(hard):
    typos = [r for r in hard.records if "dob_year_typo_displaced" in r.noise]
    assert len(typos) > 30
    for r in typos:
        written = r.row["date_of_birth"].translate(str.maketrans("٠١٢٣٤٥٦٧٨٩", "0123456789"))
        assert r.true_date_of_birth[:4] not in written


def test_harder_mix_has_more_missing_shifted_and_full_name_only_rows(hard, default):
    h, d = _tags(hard), _tags(default)
    for tag in ("full_name_only", "no_father", "no_family_name", "shifted_chain"):
        assert h[tag] > 1.4 * d[tag], tag
    assert d["dob_year_typo_displaced"] == 0


def test_foreign_and_christian_names_in_both_scripts(hard, default):
    arabic = set(FOREIGN_MALE) | set(FOREIGN_FEMALE)
    latin = {s for spellings in (*FOREIGN_MALE.values(), *FOREIGN_FEMALE.values()) for s in spellings}
    names = [r.row["given_name"] or (r.row["full_name"] or "").split(" ")[0] for r in hard.records]
    assert sum(n in arabic for n in names) > 20
    assert sum(n in latin for n in names) > 20
    assert not any(r.row["given_name"] in arabic - {"جورج"} for r in default.records)


def test_other_country_spellings_appear(hard, default):
    # Egypt writes عبد as Abdel, Syria mostly as Abdul: the harder mix has more Syrian rows with Abdel.
    def syrian_abdel(result):
        return sum(1 for r in result.records if r.row["institution"].startswith("sy-")
                   for f in ("given_name", "father_name", "grandfather_name") if (r.row[f] or "").startswith("Abdel"))
    assert _tags(hard)["other_country_spelling"] > 100
    assert syrian_abdel(hard) > syrian_abdel(default)


def test_default_mix_is_the_documented_world_and_held_out_has_its_own_seed():
    assert MIXES["default"] == SynthConfig()
    assert MIXES["held-out"] != MIXES["hard"]
    assert HELD_OUT_SEED not in (0, 1, 3, 7, 11, 42)
    with pytest.raises(ValueError):
        SynthConfig.mix("easy")
