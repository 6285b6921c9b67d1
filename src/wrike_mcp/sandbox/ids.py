"""Wrike-looking identifiers.

Classic Wrike v4 ids are the 8-character account id, a 2-character entity marker and 6 base32
characters (`IEAAB2CDKQAAAAAB` is a task); contacts are 8 characters (`KUAAAAAB`). Clients must treat
them as opaque, but looking real keeps the sandbox honest about what clients will receive.
"""

from __future__ import annotations

ACCOUNT_ID = "IEAAB2CD"
BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

# Entity markers as seen in real Wrike ids.
FOLDER = "I4"
TASK = "KQ"
WORKFLOW = "K4"
CUSTOM_STATUS = "JM"
CUSTOM_FIELD = "JU"
COMMENT = "IM"
TIMELOG = "JR"
DEPENDENCY = "IU"
AUDIT = "NQ"
ACCESS_ROLE = "ND"

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
}


def base32(number: int, width: int) -> str:
    chars = []
    for _ in range(width):
        number, digit = divmod(number, 32)
        chars.append(BASE32[digit])
    return "".join(reversed(chars))


def entity_id(marker: str, number: int) -> str:
    return f"{ACCOUNT_ID}{marker}{base32(number, 6)}"


def contact_id(number: int) -> str:
    return f"KUA{base32(number, 5)}"


def permalink(legacy_id: int) -> str:
    return f"https://www.wrike.com/open.htm?id={legacy_id}"
