"""verify's field-by-field comparison: money exactly as written, every key of both sides, and
only the documented fields set aside."""

from __future__ import annotations

from pathlib import Path

from store_check_support import run

from mockserver.contract.verify import MAY_DIFFER, compare


def fields(store: object, mock: object) -> list[str]:
    return [difference.field for difference in compare(store, mock)]


def test_money_strings_must_match_to_the_digit() -> None:
    assert fields({"amount": "10.00"}, {"amount": "10.00"}) == []
    assert fields({"amount": "10.00"}, {"amount": "10.0"}) == ["amount"]  # Shopify writes two decimals
    assert fields({"amount": "10.00"}, {"amount": 10.0}) == ["amount"]  # a string is not a number


def test_numbers_compare_as_the_decimal_they_spell() -> None:
    assert fields({"total_refund_amount": 105.56}, {"total_refund_amount": 105.56}) == []
    assert fields({"rounding": 0}, {"rounding": 0.0}) == []
    assert fields({"total_refund_amount": 105.56}, {"total_refund_amount": 105.57}) == ["total_refund_amount"]
    assert fields({"offline": False}, {"offline": 0}) == ["offline"]  # a boolean is not a number


def test_missing_and_extra_keys_and_items_are_named() -> None:
    store = {"refund": {"shipping": {"amount": "1.00"}, "refund_line_items": [{"quantity": 1}, {"quantity": 2}]}}
    mock = {"refund": {"duties": [], "refund_line_items": [{"quantity": 1}]}}
    assert fields(store, mock) == ["refund.shipping", "refund.refund_line_items[1]", "refund.duties"]


def test_only_the_documented_fields_may_differ() -> None:
    assert {"created_at", "request_id", "id"} <= MAY_DIFFER
    assert not {"amount", "total_tax", "line_item_id", "parent_id", "order_id", "currency"} & MAY_DIFFER
    assert fields({"id": 1, "created_at": "a", "line_item_id": 5}, {"id": 2, "created_at": "b", "line_item_id": 6}) == [
        "line_item_id"
    ]


def test_an_unreachable_store_is_one_line_and_exit_1(tmp_path: Path) -> None:
    result = run(
        "record",
        "--platform",
        "shopify",
        "--url",
        "http://127.0.0.1:9",
        "--token",
        "t",
        "--orders",
        "1",
        "--out",
        str(tmp_path),
    )
    assert result.exit_code == 1
    assert "cannot read the store at http://127.0.0.1:9: ConnectionError" in result.stderr
