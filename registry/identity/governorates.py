"""Governorates of Syria (14) and Egypt (27), keyed by their ISO 3166-2 codes.

The ISO code is the stable code stored with every record. Egyptian national ID numbers carry their own
two-digit governorate code (the civil registry's), mapped here so the ID can be checked against the record.
"""

from __future__ import annotations

from dataclasses import dataclass

from registry.names.text import clean_text


@dataclass(frozen=True)
class Governorate:
    code: str  # ISO 3166-2
    country: str  # ISO 3166-1 alpha-2
    name_en: str
    name_ar: str
    nid_code: str | None = None  # Egyptian national ID governorate digits


GOVERNORATES: tuple[Governorate, ...] = (
    # Syria
    Governorate("SY-DI", "SY", "Damascus", "دمشق"),
    Governorate("SY-RD", "SY", "Rif Dimashq", "ريف دمشق"),
    Governorate("SY-HL", "SY", "Aleppo", "حلب"),
    Governorate("SY-HM", "SY", "Hama", "حماة"),
    Governorate("SY-HI", "SY", "Homs", "حمص"),
    Governorate("SY-ID", "SY", "Idlib", "إدلب"),
    Governorate("SY-LA", "SY", "Latakia", "اللاذقية"),
    Governorate("SY-TA", "SY", "Tartus", "طرطوس"),
    Governorate("SY-DR", "SY", "Daraa", "درعا"),
    Governorate("SY-SU", "SY", "As-Suwayda", "السويداء"),
    Governorate("SY-QU", "SY", "Quneitra", "القنيطرة"),
    Governorate("SY-DY", "SY", "Deir ez-Zor", "دير الزور"),
    Governorate("SY-HA", "SY", "Al-Hasakah", "الحسكة"),
    Governorate("SY-RA", "SY", "Raqqa", "الرقة"),
    # Egypt
    Governorate("EG-C", "EG", "Cairo", "القاهرة", "01"),
    Governorate("EG-ALX", "EG", "Alexandria", "الإسكندرية", "02"),
    Governorate("EG-PTS", "EG", "Port Said", "بورسعيد", "03"),
    Governorate("EG-SUZ", "EG", "Suez", "السويس", "04"),
    Governorate("EG-DT", "EG", "Damietta", "دمياط", "11"),
    Governorate("EG-DK", "EG", "Dakahlia", "الدقهلية", "12"),
    Governorate("EG-SHR", "EG", "Sharqia", "الشرقية", "13"),
    Governorate("EG-KB", "EG", "Qalyubia", "القليوبية", "14"),
    Governorate("EG-KFS", "EG", "Kafr El Sheikh", "كفر الشيخ", "15"),
    Governorate("EG-GH", "EG", "Gharbia", "الغربية", "16"),
    Governorate("EG-MNF", "EG", "Monufia", "المنوفية", "17"),
    Governorate("EG-BH", "EG", "Beheira", "البحيرة", "18"),
    Governorate("EG-IS", "EG", "Ismailia", "الإسماعيلية", "19"),
    Governorate("EG-GZ", "EG", "Giza", "الجيزة", "21"),
    Governorate("EG-BNS", "EG", "Beni Suef", "بني سويف", "22"),
    Governorate("EG-FYM", "EG", "Faiyum", "الفيوم", "23"),
    Governorate("EG-MN", "EG", "Minya", "المنيا", "24"),
    Governorate("EG-AST", "EG", "Asyut", "أسيوط", "25"),
    Governorate("EG-SHG", "EG", "Sohag", "سوهاج", "26"),
    Governorate("EG-KN", "EG", "Qena", "قنا", "27"),
    Governorate("EG-ASN", "EG", "Aswan", "أسوان", "28"),
    Governorate("EG-LX", "EG", "Luxor", "الأقصر", "29"),
    Governorate("EG-BA", "EG", "Red Sea", "البحر الأحمر", "31"),
    Governorate("EG-WAD", "EG", "New Valley", "الوادي الجديد", "32"),
    Governorate("EG-MT", "EG", "Matrouh", "مطروح", "33"),
    Governorate("EG-SIN", "EG", "North Sinai", "شمال سيناء", "34"),
    Governorate("EG-JS", "EG", "South Sinai", "جنوب سيناء", "35"),
)

BY_CODE = {g.code: g for g in GOVERNORATES}
BY_NID_CODE = {g.nid_code: g for g in GOVERNORATES if g.nid_code}
EGYPT_BORN_ABROAD_NID_CODE = "88"


def _key(text: str) -> str:
    # Loose key for names: case, hyphens, spaces, article and alef forms do not matter.
    t = clean_text(text).lower().replace("-", " ").replace("'", "")
    t = t.translate(str.maketrans("أإآ", "ااا")).replace("ة", "ه")
    return " ".join(w for w in t.split() if w not in {"al", "el", "as", "ad", "ar", "ez"}).replace(" ", "")


_BY_NAME: dict[str, Governorate] = {}
for _g in GOVERNORATES:
    for _n in (_g.name_en, _g.name_ar, _g.code):
        _BY_NAME[_key(_n)] = _g
_BY_NAME.update(
    {
        _key("Aleppo"): BY_CODE["SY-HL"],
        _key("Halab"): BY_CODE["SY-HL"],
        _key("Dimashq"): BY_CODE["SY-DI"],
        _key("Rural Damascus"): BY_CODE["SY-RD"],
        _key("Hassakeh"): BY_CODE["SY-HA"],
        _key("Hasakah"): BY_CODE["SY-HA"],
        _key("Deir Ezzor"): BY_CODE["SY-DY"],
        _key("Deir al-Zor"): BY_CODE["SY-DY"],
        _key("Lattakia"): BY_CODE["SY-LA"],
        _key("Tartous"): BY_CODE["SY-TA"],
        _key("Dara"): BY_CODE["SY-DR"],
        _key("Sweida"): BY_CODE["SY-SU"],
        _key("Suwayda"): BY_CODE["SY-SU"],
        _key("Ar-Raqqah"): BY_CODE["SY-RA"],
        _key("Kalyoubia"): BY_CODE["EG-KB"],
        _key("Qaliubiya"): BY_CODE["EG-KB"],
        _key("Menoufia"): BY_CODE["EG-MNF"],
        _key("Fayoum"): BY_CODE["EG-FYM"],
        _key("Assiut"): BY_CODE["EG-AST"],
        _key("Minia"): BY_CODE["EG-MN"],
        _key("Kafr el-Sheikh"): BY_CODE["EG-KFS"],
        _key("Sharkia"): BY_CODE["EG-SHR"],
        _key("Dakahlia"): BY_CODE["EG-DK"],
        _key("Behera"): BY_CODE["EG-BH"],
    }
)


def find_governorate(value: str) -> Governorate | None:
    """The governorate named by an ISO code, or an English or Arabic name (common spellings)."""
    text = clean_text(value)
    if not text:
        return None
    if text.upper() in BY_CODE:
        return BY_CODE[text.upper()]
    return _BY_NAME.get(_key(text))
