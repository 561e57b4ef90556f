"""The database file must not contain any plaintext name, date of birth or national ID."""

import datetime as dt
import random

from registry.identity import validate_identity
from registry.identity.national_id import make_egyptian_id
from registry.services.registration import register_child

NAMES = [("فاطمة", "Fatimah"), ("يوسف", "Youssef"), ("خديجة", "Khadija"), ("إبراهيم", "Ibrahim"),
         ("زكريا", "Zakariya"), ("نور الدين", "Noureddine")]


def test_sqlite_file_holds_no_plaintext_identity(sqlite_registry):
    reg = sqlite_registry
    rng = random.Random(7)
    secrets = []
    for i in range(30):
        ar, lat = rng.choice(NAMES)
        born = dt.date(2012, 1, 1) + dt.timedelta(days=rng.randint(0, 3000))
        nid = make_egyptian_id(born, "01", "F", rng.randint(1000, 9999))
        identity = validate_identity({
            "source_ref": f"EG-{i}", "given_name": ar, "father_name": lat, "family_name": "Abou-Zeid",
            "mother_given_name": "هدى", "sex": "F", "date_of_birth": born.isoformat(), "governorate": "EG-C",
            "national_id": nid, "place_of_birth": "Shubra"}, institution="eg-cairo-mss-1")
        register_child(reg, identity)
        # Not the 6-digit date inside the ID: any timestamp's microseconds can spell six digits by chance.
        secrets += [ar, lat, born.isoformat(), born.strftime("%Y%m%d"), nid, "Abou-Zeid", "هدى", "Shubra"]
    reg.db.dispose()  # flush the WAL into the main file
    raw = b"".join(p.read_bytes() for p in reg.settings.home.parent.glob("registry.db*"))
    assert len(raw) > 10_000
    for s in set(secrets):
        for encoding in ("utf-8", "utf-16-le"):
            assert s.encode(encoding) not in raw, f"plaintext found in the database file: {s!r}"
