"""Parse time of numbers typed by people, hostile ones included (``actors.typed_numbers``).

Run: ``.venv/bin/python bench/bench_typed_numbers.py``. For each input, the best and median
per-call time over 7 windows of 2,000 calls, through the parsers the gateway uses (/pay
Stars, /set_margin, /topup amount). ``1e999999999`` used to cost seconds to minutes
(``int(Decimal(raw))``); every input is now refused or read in microseconds.
"""

from __future__ import annotations

import contextlib
import platform
import statistics
import time
from collections.abc import Callable

from actors.billing import payments, policy

INPUTS = {
    "150": "a normal amount",
    "1e999999999": "huge exponent",
    "9" * 10_000: "10,000 digits",
    "0." + "0" * 10_000 + "1": "10,000 decimals",
    "sNaN%": "non-finite",
}
PARSERS: dict[str, Callable[[str], object]] = {
    "/pay": payments.parse_custom_amount,
    "/set_margin": policy.parse_margin,
    "/topup": policy.parse_admin_amount,
}


def per_call(parse: Callable[[str], object], text: str, calls: int = 2_000) -> list[float]:
    windows = []
    for _ in range(7):
        start = time.perf_counter()
        for _ in range(calls):
            with contextlib.suppress(ValueError):
                parse(text)
        windows.append((time.perf_counter() - start) / calls)
    return windows


def main() -> None:
    print(f"# {platform.python_implementation()} {platform.python_version()}")
    print("| parser | input | best us | median us |")
    print("|---|---|---:|---:|")
    for name, parse in PARSERS.items():
        for text, label in INPUTS.items():
            windows = per_call(parse, text)
            best, median = min(windows) * 1e6, statistics.median(windows) * 1e6
            print(f"| {name} | {label} | {best:.2f} | {median:.2f} |")


if __name__ == "__main__":
    main()
