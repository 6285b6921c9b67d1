"""Wrike-looking identifiers.

Classic Wrike v4 ids are the 8-character account id, a 2-character entity marker and 6 base32
characters (`IEAAB2CDKQAAAAAB` is a task); contacts are 8 characters (`KUAAAAAB`). Clients must treat
them as opaque, but looking real keeps the sandbox honest about what clients will receive.

Since 2025 Wrike gives new tasks, folders and spaces short mixed-case ids of 12 characters instead
([sample]: a task `MAAAAAEFzzde`, a space `MQAAAAEFzzdO`); a real account holds both kinds. Those two
samples decode as base64 to nine bytes: one kind byte (`0x30` task, `0x31` space) and a 64-bit
big-endian number (4392433502, 4392433486) of the size of today's permalink numbers, sixteen apart as if
tasks and folders shared one sequence. The sandbox builds its short ids that way [assumption]: the number
inside is the entity's legacy id (the one in its permalink), folders and projects share the spaces' kind
byte (a space is a folder in API v4), and the alphabet is base64's URL-safe one (`-`, `_`), since ids
travel in URL paths.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta

ACCOUNT_ID = "IEAAB2CD"
# A second account the seed's people also belong to, chosen at sign-in with `?account=` (the account picker
# of Wrike's sign-in); it shows the same data (docs/FIDELITY.md).
SECOND_ACCOUNT_ID = "IEAAB2CE"
ACCOUNT_IDS = (ACCOUNT_ID, SECOND_ACCOUNT_ID)
BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

# Entity markers as seen in real Wrike ids.
FOLDER = "I4"
TASK = "KQ"
WORKFLOW = "K4"
CUSTOM_STATUS = "JM"
CUSTOM_FIELD = "JU"
COMMENT = "IM"
TIMELOG = "JR"
TIMELOG_CATEGORY = "JS"  # no real category id was seen: an entity id like the others [assumption]
DEPENDENCY = "IU"
AUDIT = "NQ"
ACCESS_ROLE = "ND"
ATTACHMENT = "IY"
APPROVAL = "NU"
BLUEPRINT_FOLDER = "I5"
BLUEPRINT_TASK = "KR"
ASYNC_JOB = "NA"
# Custom item types and request forms: Wrike's ids of these were never seen; classic-shaped ones [assumption].
CUSTOM_ITEM_TYPE = "PY"
REQUEST_FORM = "PF"

ROOT_FOLDER_ID = f"{ACCOUNT_ID}I7777777"
RECYCLE_BIN_ID = f"{ACCOUNT_ID}I7777776"

# Legacy (API v2) numeric ids, also the number in permalinks, start from a believable base per type.
LEGACY_BASE = {
    "ApiV2Account": 3100000,
    "ApiV2User": 5200000,
    "ApiV2Folder": 410000000,
    "ApiV2Task": 520000000,
    "ApiV2Comment": 630000000,
    "ApiV2Attachment": 740000000,
    "ApiV2Timelog": 850000000,
    "ApiV2RequestForm": 960000,  # the number in a form link's `formid=` [assumption: magnitude unknown]
}


# Kind bytes of short (2025-style) ids, from the samples; the folder one covers projects and spaces.
SHORT_TASK = 0x30
SHORT_FOLDER = 0x31
# Wrike switched to short ids on 2025-01-01. The seed is dated relative to the day of the reset, so the
# sandbox places the switch this long before the reset: the same seed entities carry short ids on every
# start, whatever the calendar says. Everything created through the API is newer and gets a short id.
SHORT_IDS_AGE = timedelta(days=100)
# Legacy numbers of entities with short ids come from one sequence for tasks and folders, near the samples'.
SHORT_LEGACY_BASE = 4392400000


def short_id(kind: int, legacy_id: int) -> str:
    """A 2025-style id: base64 (URL-safe) of the kind byte and the 64-bit legacy number, 12 characters."""
    return base64.urlsafe_b64encode(bytes([kind]) + legacy_id.to_bytes(8, "big")).decode("ascii")


def base32(number: int, width: int) -> str:
    chars = []
    for _ in range(width):
        number, digit = divmod(number, 32)
        chars.append(BASE32[digit])
    return "".join(reversed(chars))


def entity_id(marker: str, number: int) -> str:
    return f"{ACCOUNT_ID}{marker}{base32(number, 6)}"


def new_format_id(marker: str, number: int) -> str:
    """A dependency or blueprint id of the format Wrike uses since 2025-07-01, of which it documents only
    the alphabet (letters, digits, `-_:.=`) and the length (up to 256). The shape is the sandbox's own
    [assumption]: every punctuation mark of the alphabet, mixed case, and 56 characters, so a client that
    expects 16 upper-case characters fails here before it fails on a real account."""
    digest = hashlib.sha256(f"{marker}:{number}".encode()).hexdigest()[:24]
    return f"w:{marker.lower()}.{ACCOUNT_ID}:{base32(number, 6)}-{digest}_v2025="


def contact_id(number: int) -> str:
    return f"KUA{base32(number, 5)}"


def permalink(legacy_id: int) -> str:
    return f"https://www.wrike.com/open.htm?id={legacy_id}"
