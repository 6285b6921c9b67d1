"""Reading custom field values for output, the part get_task and get_folder share."""

from __future__ import annotations

from wrike_mcp.tools.custom_fields import FIELD_TEXT_LIMIT, contact_ids, shown_text, value_text


def test_a_contacts_value_is_read_as_comma_separated_ids_or_a_json_list() -> None:
    assert contact_ids("KUAAAAAA, KUBBBBBB,") == ["KUAAAAAA", "KUBBBBBB"]
    assert contact_ids('["KUAAAAAA", "KUBBBBBB"]') == ["KUAAAAAA", "KUBBBBBB"]
    assert contact_ids(" , ") == []


def test_a_contacts_value_that_only_looks_like_json_is_read_as_ids() -> None:
    assert contact_ids("[KUAAAAAA") == ["[KUAAAAAA"]


def test_values_wrike_sends_as_json_other_than_text_are_shown_as_json() -> None:
    assert value_text("12.50") == "12.50"
    assert value_text(None) is None
    assert value_text(True) == "true"
    assert value_text(["KUAAAAAA"]) == '["KUAAAAAA"]'


def test_value_text_is_cleaned_and_cut() -> None:
    assert shown_text("a\u200bb") == ("ab", False)
    text, cut = shown_text("x" * (FIELD_TEXT_LIMIT + 1))
    assert cut and len(text) == FIELD_TEXT_LIMIT + 1 and text.endswith("…")
