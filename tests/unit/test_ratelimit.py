"""Sign-in limits: per account and address, per address loosely, proxies only if trusted."""

from __future__ import annotations

import pytest

from hub_engine.api.ratelimit import PER_ADDRESS, LoginLimiter, client_address, login_keys
from hub_engine.clock import FakeClock

PROXY = ("10.0.0.5",)


@pytest.mark.parametrize(("remote", "forwarded", "trusted", "client"), [
    ("192.0.2.1", None, (), "192.0.2.1"),
    ("192.0.2.1", "203.0.113.9", (), "192.0.2.1"),  # not from a trusted proxy: ignored
    ("10.0.0.5", "203.0.113.9", PROXY, "203.0.113.9"),
    ("10.0.0.5", "1.1.1.1, 203.0.113.9", PROXY, "203.0.113.9"),  # the left part is forgeable
    ("10.0.0.5", "203.0.113.9, 10.0.0.5", PROXY, "203.0.113.9"),
    ("10.0.0.5", None, PROXY, "10.0.0.5"),
])
def test_the_client_address(remote: str, forwarded: str | None, trusted: tuple[str, ...],
                            client: str) -> None:
    assert client_address(remote, forwarded, trusted) == client


def test_an_account_from_one_address_and_an_address_over_all_accounts() -> None:
    clock = FakeClock()
    limiter = LoginLimiter(clock, max_failures=5, window_s=900)
    alice_here, bob_here = login_keys("alice", "a"), login_keys("bob", "a")
    for _ in range(5):
        limiter.failed(*alice_here)
    assert limiter.retry_after_s(*alice_here) > 0
    assert limiter.retry_after_s(*bob_here) == 0  # bob is not locked out by alice's guesser
    assert limiter.retry_after_s(*login_keys("alice", "b")) == 0  # nor alice elsewhere
    for n in range(5 * PER_ADDRESS - 5):
        limiter.failed(*login_keys(f"user{n}", "a"))
    assert limiter.retry_after_s(*login_keys("carol", "a")) > 0  # a spray from one address
    clock.advance(901)
    assert limiter.retry_after_s(*alice_here) == 0
