"""Search terms: Han bigrams (and each run's last character), case-folded words, NFKC."""

from __future__ import annotations

from flowdesk.kernel.search_terms import QueryTerm, document_terms, query_terms


def test_han_text_gives_its_neighbour_pairs_and_last_character() -> None:
    assert document_terms(["采购设备"]) == {"采购", "购设", "设备", "备"}
    assert document_terms(["贷"]) == {"贷"}


def test_words_are_case_folded_and_full_width_is_ascii() -> None:
    assert document_terms(["LN-2026-000123 Bakery", "ＡＢＣ１２３"]) == {
        "ln",
        "2026",
        "000123",
        "bakery",
        "abc123",
    }


def test_queries_match_pairs_exactly_and_words_by_prefix() -> None:
    assert query_terms("设备") == [QueryTerm("设备", prefix=False)]
    assert query_terms("设") == [QueryTerm("设", prefix=True)]
    assert query_terms("bak 设备采购") == [
        QueryTerm("bak", prefix=True),
        QueryTerm("设备", prefix=False),
        QueryTerm("备采", prefix=False),
        QueryTerm("采购", prefix=False),
    ]
    assert query_terms("!!! ，。") == []
