"""Numbers as the reader's language writes them: a decimal comma and dot-grouped thousands in
Vietnamese (82,5; 1.234), the English way in English. Files for machines (CSV, XLSX) keep numbers
as numbers and never pass through here."""

from __future__ import annotations

from babel.numbers import format_decimal


def number_text(value: float, locale: str, decimals: int = 1) -> str:
    """`value` with at most `decimals` decimals (trailing zeros dropped)."""
    pattern = "#,##0" + ("." + "#" * decimals if decimals else "")
    return format_decimal(value, format=pattern, locale=locale)


def fixed_text(value: float, locale: str, decimals: int = 1) -> str:
    """`value` with exactly `decimals` decimals, for columns of figures that line up."""
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return format_decimal(value, format=pattern, locale=locale)


def signed_text(value: float, locale: str, decimals: int = 1) -> str:
    """A change with its sign (+1,2 or −0,8 in Vietnamese)."""
    digits = "#,##0" + ("." + "0" * decimals if decimals else "")
    return format_decimal(value, format=f"+{digits};-{digits}", locale=locale)
