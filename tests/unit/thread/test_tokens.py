from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from actors.thread.tokens import estimate_tokens


def test_cjk_and_emoji_count_at_least_a_token_a_character() -> None:
    """/stop's partial output: CJK and emoji are no longer counted at 4 characters a token."""
    assert estimate_tokens("你好世界这是一个测试呀") >= 11
    assert estimate_tokens("こんにちは") >= 5
    assert estimate_tokens("😀🎉🚀") >= 6
    assert estimate_tokens("Hello world, this is a test.") == 10
    assert estimate_tokens("") == 0


@given(st.text(max_size=200))
def test_the_estimate_is_never_below_the_old_rule_nor_above_the_byte_bound(text: str) -> None:
    """Never less than characters / 4, never more than one token per UTF-8 byte."""
    tokens = estimate_tokens(text)
    assert tokens >= len(text) // 4
    assert tokens <= len(text.encode("utf-8", errors="surrogatepass"))
