"""Curated given names (Arabic script, usual spelling with hamza and taa marbuta) by sex.

The shared name data has roles (given/surname) but no sex, so the generator takes its given names from these
lists and only their Latin spellings and frequencies from the data. Order is rough popularity among Syrian and
Egyptian children and parents (most common first); the generator turns it into Zipf-like weights.
"""

from __future__ import annotations

MALE: tuple[str, ...] = (
    "محمد", "أحمد", "محمود", "علي", "عمر", "يوسف", "خالد", "مصطفى", "إبراهيم", "حسن",
    "حسين", "عبد الله", "عبد الرحمن", "كريم", "ياسين", "آدم", "زياد", "أنس", "عمرو", "مازن",
    "طارق", "سامي", "سعيد", "سليمان", "سمير", "شريف", "صلاح", "عادل", "عبد العزيز", "عبد الكريم",
    "عبد الرحيم", "عبد الحميد", "عبد الفتاح", "عبد الناصر", "عبد القادر", "عبد الرزاق", "عبد السلام", "عماد",
    "عيسى", "فادي", "فارس", "فراس", "فؤاد", "قاسم", "كمال", "ماجد", "مالك", "مجدي",
    "مراد", "مروان", "معاذ", "منير", "مهند", "موسى", "نادر", "ناصر", "نبيل", "نزار",
    "هاني", "هشام", "هيثم", "وائل", "وليد", "ياسر", "يحيى", "يزن", "جمال", "جابر",
    "جلال", "حازم", "حامد", "حمزة", "حسام", "خليل", "رامي", "رائد", "رضا", "رياض",
    "زكريا", "زين", "سامر", "سيف", "شادي", "صالح", "صبري", "ضياء", "طه", "عاصم",
    "عامر", "عمار", "عثمان", "عصام", "غسان", "فيصل", "كنان", "لؤي", "ماهر", "محسن",
    "مؤمن", "نور الدين", "هادي", "همام", "أيمن", "أسامة", "أشرف", "إسماعيل", "أمجد", "أنور",
    "إياد", "باسل", "بلال", "بشار", "تامر", "ثائر", "جهاد", "جورج", "حمدي", "خضر",
    "رامز", "ربيع", "رشيد", "سعد", "سلمان", "علاء", "غيث", "قصي", "مجد", "مهدي",
    "إلياس", "مينا", "بيشوي", "أدهم", "أيهم", "راشد", "صهيب", "عدي", "كرم", "مؤيد",
    "نضال", "وسيم", "يامن", "ريان", "إياس", "أوس", "حذيفة", "عز الدين", "صلاح الدين", "سيد",
    "رجب", "شعبان", "رمضان", "فتحي", "ممدوح", "مدحت", "عزت", "جمعة", "حسني", "تيم",
    "بكر", "مصعب", "أكرم", "جميل", "رفعت", "يونس",
)

FEMALE: tuple[str, ...] = (
    "فاطمة", "مريم", "نور", "سارة", "زينب", "عائشة", "خديجة", "ملك", "جنى", "ليلى",
    "هدى", "رنا", "رهف", "ريم", "سلمى", "شهد", "حلا", "لين", "لمى", "مي",
    "منى", "نادية", "هبة", "هند", "ياسمين", "آية", "أسماء", "أمل", "إيمان", "آمنة",
    "بتول", "بشرى", "جميلة", "حنان", "حياة", "دعاء", "دانة", "رانيا", "رحمة", "رغد",
    "رشا", "رقية", "روان", "ريهام", "زهراء", "سعاد", "سناء", "سمر", "سميرة", "سهام",
    "شيماء", "صفاء", "ضحى", "عبير", "علا", "غادة", "فرح", "فريدة", "لبنى", "لمياء",
    "ماجدة", "مروة", "منار", "منة الله", "ميار", "نجلاء", "نرمين", "نسرين", "نهى", "نورا",
    "هالة", "هناء", "وفاء", "يارا", "يسرا", "ولاء", "إسراء", "آلاء", "أميرة", "بسمة",
    "تسنيم", "جود", "حبيبة", "حور", "دينا", "راما", "رزان", "روعة", "زينة", "سجى",
    "شام", "غنى", "لانا", "ليان", "مايا", "ميس", "نغم", "هيا", "وعد", "يمنى",
    "إلهام", "أنوار", "ابتسام", "خلود", "سوزان", "عفاف", "كوثر", "ماريا", "مارينا", "دميانة",
    "فيروز", "نادين", "ندى", "نوال", "هاجر", "وردة", "زهرة", "صابرين", "سحر", "عزة",
    "أسيل", "بيان", "تالا", "جوري", "دارين", "سدرة", "سوسن", "شيرين", "فدوى", "كندة",
    "لارا", "مها", "ميرا", "هيفاء", "أريج", "سماح", "حنين", "نعمة", "هويدا", "ثريا",
    "لينا", "ريما", "رؤى", "سلاف", "إسلام", "رحاب", "عبلة", "فاتن", "نجوى", "مريانا",
    "حسنة",
)

# Twins are often given paired names; some pairs are near-identical, the hardest negatives for matching.
TWIN_PAIRS: tuple[tuple[str, str], ...] = (
    ("حسن", "حسين"), ("محمد", "أحمد"), ("محمد", "محمود"), ("عمر", "عمرو"), ("عمر", "عمار"),
    ("هدى", "ندى"), ("لين", "لينا"), ("ريم", "ريما"), ("رنا", "رهف"), ("يوسف", "يونس"),
    ("حسن", "حسنة"), ("سامي", "سامر"), ("نور", "نورا"), ("آية", "آلاء"),
)

# Latin spellings for the few curated names the data does not attest (checked by build_name_table.py).
FALLBACK_LATIN: dict[str, tuple[str, ...]] = {
    "دميانة": ("Demiana", "Dimiana", "Damiana"),
    "مريانا": ("Mariana", "Maryana"),
}

# Western and Christian given names for the families the harder mixes draw them for (SynthConfig.foreign_families),
# in Arabic script as Levantine and Egyptian clerks write them, with Latin spellings as written by French-,
# English- and Arabic-schooled clerks. Deliberately wider than the matcher's curated list: some spellings here
# (Antwān as Antwan, Bayar, Elly, Jurjus) are not in registry/names/dictionary.REGIONAL_AND_FOREIGN.
FOREIGN_MALE: dict[str, tuple[str, ...]] = {
    "جورج": ("George", "Georges", "Jorj", "Georg"),
    "أنطوان": ("Antoine", "Antwan", "Antuan", "Anton"),
    "إيلي": ("Elie", "Elly", "Eli", "Ellie"),
    "بيار": ("Pierre", "Bayar", "Biar"),
    "ميشيل": ("Michel", "Mishel", "Michael"),
    "جوزيف": ("Joseph", "Josef", "Jozef", "Youssef"),
    "شربل": ("Charbel", "Sharbel", "Charbil"),
    "طوني": ("Tony", "Toni", "Tonny"),
    "جرجس": ("Girgis", "Guirguis", "Gerges", "Jurjus"),
    "كيرلس": ("Kirollos", "Kerollos", "Cyril", "Kirolos"),
    "أبانوب": ("Abanoub", "Abanob", "Abanoup"),
    "مرقس": ("Morcos", "Markos", "Marcus", "Morkos"),
    "فيليب": ("Philippe", "Philip", "Filib"),
    "نقولا": ("Nicolas", "Nicola", "Nqoula"),
}
FOREIGN_FEMALE: dict[str, tuple[str, ...]] = {
    "ماري": ("Marie", "Mary", "Mari"),
    "كريستين": ("Christine", "Kristine", "Kristin"),
    "نانسي": ("Nancy", "Nansi", "Nanci"),
    "ماريان": ("Marianne", "Mariane", "Maryan"),
    "ريتا": ("Rita", "Reeta"),
    "جوليا": ("Julia", "Giulia", "Jolia"),
    "ناتالي": ("Nathalie", "Natalie", "Nataly"),
    "كاترين": ("Catherine", "Katrin", "Katherine"),
    "إيفون": ("Yvonne", "Ivon", "Evon"),
    "مارلين": ("Marleen", "Marlene", "Marline"),
}
