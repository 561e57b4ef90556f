"""Features for the linkage index, frequencies, the shipped dictionary and the split."""

import gzip
from importlib import resources

import pytest

from registry.names import (
    NAME_MATCH_THRESHOLD,
    build_frequency_table,
    comparable_form,
    name_similarity,
    ngram_dice,
    unit_frequency,
    unit_keys,
    unit_neighbourhood,
    unit_ngrams,
)
from registry.names.dictionary import load_dictionary
from registry.names.split import is_test_name, split_key


def test_unit_keys_agree_across_scripts_for_a_known_name() -> None:
    arabic, latin = unit_keys("عبد الرحمن"), unit_keys("Abdel Rahman")
    assert arabic["skeleton"] == latin["skeleton"] == "abd-rhmn"
    assert arabic["id"] == latin["id"] == "عبد رحمن"
    assert arabic["normalised"] == "عبد الرحمن" and latin["normalised"] == "abdel rahman"


def test_unit_keys_keep_known_names_with_one_skeleton_apart() -> None:
    assert unit_keys("محمد")["skeleton"] == unit_keys("محمود")["skeleton"]
    assert unit_keys("Mohamed")["id"] != unit_keys("Mahmoud")["id"]
    assert unit_keys("Hassan")["id"] != unit_keys("Hussein")["id"]


def test_unknown_name_has_no_id() -> None:
    assert "id" not in unit_keys("Zrqwx")


@pytest.mark.parametrize("name", ["عبد الرحمن", "محمود", "Mahmoud", "حسين", "Yousef", "Qwerty"])
def test_comparable_form_is_ascii(name: str) -> None:
    form = comparable_form(name)
    assert form and form.isascii()


def test_comparable_form_is_shared_by_spellings_of_a_known_name() -> None:
    assert comparable_form("محمود") == comparable_form("Mahmoud") == comparable_form("Mahmud")
    assert comparable_form("جمال") == comparable_form("Gamal")


def test_ngrams_are_padded_skeleton_bigrams() -> None:
    assert unit_ngrams("Ahmed") == {"^A", "Ah", "hm", "md", "d$"}
    assert unit_ngrams("أحمد") == unit_ngrams("Ahmad")
    with pytest.raises(ValueError):
        unit_ngrams("Ahmed", n=0)


def test_ngram_dice_approximates_similarity() -> None:
    same = ngram_dice(unit_ngrams("يوسف"), unit_ngrams("Youssef"))
    other = ngram_dice(unit_ngrams("يوسف"), unit_ngrams("Ibrahim"))
    assert same == 1.0
    assert other < 0.3
    assert ngram_dice(set(), set()) == 1.0


def test_names_one_typo_apart_share_a_one_letter_out_skeleton_in_either_script() -> None:
    # A letter changed (Ahmad/Ahmaf, الحلبي/الحلني), across scripts (أحمد/Ahmaf), one dropped (Khaled/Kaled).
    for a, b in (("Ahmad", "Ahmaf"), ("الحلبي", "الحلني"), ("أحمد", "Ahmaf"), ("Al-Halabi", "الحلني"),
                 ("Khaled", "Kaled"), ("خالد", "Kaled")):
        assert unit_neighbourhood(a) & unit_neighbourhood(b), (a, b)
    # Two letters apart, in either script: nothing shared.
    for a, b in (("Ahmad", "Ahzaf"), ("أحمد", "Azmaf"), ("الحلبي", "الجلني")):
        assert not unit_neighbourhood(a) & unit_neighbourhood(b), (a, b)
    # Two-letter skeletons are one letter from too many names: no neighbourhood (Ali, علي).
    assert unit_neighbourhood("Ali") == unit_neighbourhood("علي") == set()
    assert unit_keys("Ahmad")["skeleton"] in unit_neighbourhood("Ahmad")


def test_same_known_id_means_a_match() -> None:
    for a, b in [("Abdel Rahman", "عبد الرحمن"), ("Hussein", "حسين"), ("Mahmoud", "محمود")]:
        assert unit_keys(a)["id"] == unit_keys(b)["id"]
        assert name_similarity(a, b) >= 0.95


def test_shipped_frequencies_follow_the_data() -> None:
    assert unit_frequency("احمد") == unit_frequency("Ahmed")
    assert unit_frequency("محمد") > unit_frequency("احمد") > unit_frequency("Zrqwx") > 0.0


def test_frequency_table_from_registry_records() -> None:
    table = build_frequency_table(["Ahmed", "أحمد", "Ahmad", "Hussein", "", "123", "Mohamed Ali"])
    assert table.total == 6
    assert table.relative("احمد") == pytest.approx(3 / 6)
    assert table.relative("Hussein") == pytest.approx(1 / 6)
    assert table.relative("Zaynab") == pytest.approx(1 / 6)  # unseen counts as one


def test_empty_frequency_table_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="empty"):
        build_frequency_table([]).relative("Ahmed")


def test_split_is_by_name_and_stable() -> None:
    assert split_key("الحسن") == split_key("حسن")
    assert split_key("عبد الله") == split_key("عبدالله")
    assert is_test_name("الحسن") == is_test_name("حسن")
    letters = "بتجدرسعفكلمنهوي"
    generated = {a + b + c for a in letters for b in letters for c in letters}
    shares = [is_test_name(name) for name in sorted(generated)]
    assert 0.15 < sum(shares) / len(shares) < 0.25


def _tiny_data(path):
    """A minimal copy of the shared data layout: محمد (test split) and احمد/حسين (train split)."""
    rows = [("محمد", "Mohamed", 40), ("محمد", "Muhammad", 20), ("احمد", "Ahmed", 30), ("احمد", "Ahmad", 10),
            ("حسين", "Hussein", 25)]
    with open(path / "name_units_by_country.tsv", "w", encoding="utf-8") as out:
        out.write("arabic_key\tlatin\tlatin_lang\tcountry\trole\tcount\tsource\n")
        for arabic, latin, count in rows:
            out.write(f"{arabic}\t{latin}\ten\tEG\tgiven\t{count}\twikidata\n")
    (path / "wikidata_ar_en_tokens.tsv").write_text("", encoding="utf-8")
    return path


def test_train_only_dictionary_holds_no_test_split_name(tmp_path) -> None:
    from registry.names.build import build_dictionary
    from registry.names.split import is_train_name

    assert is_test_name("محمد") and not is_test_name("احمد") and not is_test_name("حسين")
    full = build_dictionary(_tiny_data(tmp_path))
    train = build_dictionary(tmp_path, include=is_train_name)
    assert set(full.entries) == {"محمد", "احمد", "حسين"}
    assert set(train.entries) == {"احمد", "حسين"}
    assert train.candidates("mohamed") == () and full.candidates("mohamed")[0][0] == "محمد"


def test_shipped_dictionary_is_built_from_all_data() -> None:
    """The shipped dictionary covers test-split names too (runtime coverage); the benchmark uses its own
    train-only dictionary for held-out figures."""
    dictionary = load_dictionary()
    assert any(is_test_name(name_id) for name_id in dictionary.entries)
    for spelling in ["محمد", "Mohamed", "Muhammad", "Mohammad", "Mhd", "Mohammed"]:
        assert unit_keys(spelling)["id"] == "محمد"
    assert unit_keys("محمود")["id"] == unit_keys("Mahmoud")["id"] == "محمود"


def test_dictionary_can_be_injected_without_leaking(tmp_path) -> None:
    from registry.names.build import build_dictionary
    from registry.names.dictionary import EMPTY_DICTIONARY, active_dictionary, using_dictionary

    train = build_dictionary(_tiny_data(tmp_path))
    shipped_score = name_similarity("Mohamed", "Muhammad")
    assert name_similarity("Hussein", "Hassan", dictionary=train) < NAME_MATCH_THRESHOLD
    with using_dictionary(EMPTY_DICTIONARY):
        assert active_dictionary() is EMPTY_DICTIONARY
        assert "id" not in unit_keys("Mohamed")
    assert active_dictionary() is load_dictionary()
    assert unit_keys("Mohamed")["id"] == "محمد"
    assert name_similarity("Mohamed", "Muhammad") == shipped_score >= 0.95


def test_shipped_data_is_compact_and_has_licences() -> None:
    data = resources.files("registry.names").joinpath("data")
    names = {p.name for p in data.iterdir()}
    assert {"name_ids.tsv.gz", "name_spellings.tsv.gz", "name_units_by_country.LICENSE",
            "name_units_by_country.NOTICES.md", "wikidata_ar_en_tokens.LICENSE"} <= names
    size = sum(p.stat().st_size for p in data.iterdir())  # type: ignore[attr-defined]
    assert size < 3_000_000
    with gzip.open(data.joinpath("name_ids.tsv.gz").open("rb"), "rt", encoding="utf-8") as handle:
        assert handle.readline().startswith("#")


def test_threshold_is_a_probability() -> None:
    assert 0.0 < NAME_MATCH_THRESHOLD < 1.0


def test_curated_entries_need_no_data_evidence() -> None:
    from registry.names.dictionary import make_dictionary

    dictionary = make_dictionary([("x", 5, "x")], [("xx", "x", 6)], curated=True)
    assert dictionary.candidates("mohamed")[0][0] == "محمد"
    assert dictionary.spelling_share("xx", "x") == 1.0 and dictionary.spelling_share("mohamed", "محمد") == 0.0
