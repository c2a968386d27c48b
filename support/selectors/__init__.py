"""Reads for the support console: the search (search.py), the attention list (attention.py) and one payment's page
(payments.py). Every page costs the same number of queries however much data there is."""

from support.selectors.attention import (
    Attention,
    AttentionItem,
    attention_item_listed,
    attention_items,
    unknown_token_callbacks,
)
from support.selectors.menu import AccountMenu, ConsoleAgent, account_menu, console_agent
from support.selectors.payments import PaymentDetail, TimelineEntry, payment_detail, refund_get
from support.selectors.search import (
    SearchFilters,
    SearchPage,
    SearchRow,
    TodayFigures,
    looks_like_phone,
    payment_search,
    payment_search_page,
    support_today,
)

__all__ = [
    "AccountMenu",
    "ConsoleAgent",
    "account_menu",
    "console_agent",
    "Attention",
    "AttentionItem",
    "PaymentDetail",
    "SearchFilters",
    "SearchPage",
    "SearchRow",
    "TimelineEntry",
    "TodayFigures",
    "attention_item_listed",
    "attention_items",
    "looks_like_phone",
    "payment_detail",
    "payment_search",
    "payment_search_page",
    "refund_get",
    "support_today",
    "unknown_token_callbacks",
]
