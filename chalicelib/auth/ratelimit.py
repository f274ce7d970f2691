"""Login and sign-up limits in Redis.

Sign-in failures are counted three ways, each in a fixed window (15 minutes by default) that starts with
its first attempt:

- per (email, client IP), 5 by default: someone guessing one account from one address is refused for the
  rest of the window, while the owner signing in from anywhere else is not;
- per client IP, 20 by default: one address guessing across many accounts;
- per account from every address, 50 by default: only a distributed guess (many addresses, one account)
  gets this far. Past it there is no flat lock: the next attempt waits 1 s, the one after 2 s, then 4, 8…
  (capped at the window), so a botnet gets about ten more guesses a window and the owner is delayed, not
  locked out.

Every attempt takes its slots *before* the password is checked, in one atomic Lua script, so parallel
guesses cannot slip past a limit. Once a fixed-window count is at its limit every attempt it covers is
refused, the right password included (otherwise the limit would only slow down people who type it wrong),
with the seconds left in the window (HTTP 429, `Retry-After`). A refused attempt counts nowhere: the owner
pressing "sign in" again while an account waits neither lengthens the wait nor uses up their address's
slots. A successful sign-in clears its (email, IP) count and gives back its IP and account slots.
"""

from __future__ import annotations

import hashlib
from typing import Any, cast

import redis

from chalicelib.errors import TooManyRequests

# KEYS: 1 per-IP count, 2 per-(email, IP) count, 3 per-account count, 4 per-account wait ("gate").
# ARGV: 1 per-IP limit, 2 per-(email, IP) limit, 3 per-account ceiling, 4 window seconds.
# Returns 0 when the attempt may go on to the password check, else the seconds to wait.
_ATTEMPT = """
local window = tonumber(ARGV[4])
local wait = 0
for i = 1, 2 do
  if tonumber(redis.call('GET', KEYS[i]) or '0') >= tonumber(ARGV[i]) then
    local ttl = redis.call('TTL', KEYS[i])
    if ttl < 0 then
      redis.call('EXPIRE', KEYS[i], window)
      ttl = window
    end
    wait = math.max(wait, ttl, 1)
  end
end
if wait > 0 then
  return wait
end
local ceiling = tonumber(ARGV[3])
if tonumber(redis.call('GET', KEYS[3]) or '0') >= ceiling then
  local gate = redis.call('PTTL', KEYS[4])
  if gate > 0 then
    return math.ceil(gate / 1000)
  end
end
local failures = 0
for i = 1, 3 do
  failures = redis.call('INCR', KEYS[i])
  redis.call('EXPIRE', KEYS[i], window, 'NX')
end
if failures >= ceiling then
  local delay = window
  if failures - ceiling < 31 then
    delay = math.min(2 ^ (failures - ceiling), window)
  end
  redis.call('SET', KEYS[4], '1', 'EX', string.format('%d', delay))
end
return 0
"""

# KEYS: 1 per-IP count, 2 per-(email, IP) count, 3 per-account count. Gives back the IP and account slots
# this attempt took (never below zero, never creating a key without its window) and clears (email, IP).
_SUCCEEDED = """
redis.call('DEL', KEYS[2])
for _, key in ipairs({KEYS[1], KEYS[3]}) do
  if tonumber(redis.call('GET', key) or '0') > 0 then
    redis.call('DECR', key)
  end
end
return 0
"""


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]


class LoginLimiter:
    def __init__(
        self,
        client: redis.Redis,
        *,
        per_email_ip: int,
        per_ip: int,
        per_account: int,
        window_seconds: int,
    ) -> None:
        self._redis = client
        self._limits = (per_ip, per_email_ip, per_account, window_seconds)
        self._attempt = client.register_script(_ATTEMPT)
        self._succeeded = client.register_script(_SUCCEEDED)

    @staticmethod
    def keys(email: str, ip: str) -> dict[str, str]:
        """The Redis keys of one attempt: `ip`, `email_ip`, `account` (counts) and `account_wait`."""
        account = f"rl:login:acct:{_digest(email)}"
        return {
            "ip": f"rl:login:ip:{_digest(ip)}",
            "email_ip": f"rl:login:emip:{_digest(email + chr(0) + ip)}",
            "account": account,
            "account_wait": account + ":wait",
        }

    def attempt(self, email: str, ip: str) -> None:
        """Take this attempt's slots; `TooManyRequests` with the wait when a limit refuses it."""
        keys = self.keys(email, ip)
        wait = int(
            cast(
                Any,
                self._attempt(
                    keys=[keys["ip"], keys["email_ip"], keys["account"], keys["account_wait"]],
                    args=list(self._limits),
                ),
            )
        )
        if wait > 0:
            raise TooManyRequests(f"too many sign-in attempts; try again in {wait} seconds", retry_after=wait)

    def succeeded(self, email: str, ip: str) -> None:
        keys = self.keys(email, ip)
        self._succeeded(keys=[keys["ip"], keys["email_ip"], keys["account"]])


def take_slots(client: redis.Redis, limits: dict[str, int], window_seconds: int, what: str) -> None:
    """Count one attempt on every key (atomically, in one round trip; a key's window starts with its first
    attempt); `TooManyRequests` naming `what` and the wait when a key is over its limit."""
    pipe = client.pipeline()
    for key in limits:
        pipe.incr(key)
        pipe.expire(key, window_seconds, nx=True)
    counts = cast(list[Any], pipe.execute())[::2]
    for (key, limit), count in zip(limits.items(), counts, strict=True):
        if int(count) > limit:
            ttl = int(cast(Any, client.ttl(key)))
            raise TooManyRequests(f"{what}; try again in {max(1, ttl)} seconds", retry_after=ttl)


def limit_registrations(client: redis.Redis, ip: str, per_ip: int, window_seconds: int) -> None:
    """Accounts created per client IP and window: bounds sign-up spam, argon2 CPU and email probing."""
    key = f"rl:register:ip:{_digest(ip)}"
    take_slots(client, {key: per_ip}, window_seconds, "too many new accounts from this address")
