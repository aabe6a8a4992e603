"""The fault-rule engine and throttle bucket the API emulators share (swr_emulator.py,
swr_ee_emulator.py): rules matched against the raw request target, the /_emulator/faults
control endpoint, and a per-account token bucket.  What a faulted answer looks like (a
vendor's 5xx or 429 body) stays in each emulator, passed in as a callback.

Rule: {"type": one of the emulator's types,
       "pattern": regex searched in the raw request target (path?query),
       "method": "GET" (optional), "after": S (let S matches pass first),
       "count": N (default 1, or -1 = forever when "rate" is given),
       "rate": F (fire on a fraction F of the matches, seeded RNG "seed"),
       "delay_ms": ms (slow), "retry_after": "1" (429)}
Built-in kinds: "slow" (answer late; delays of matching slow rules add up), "reset" (close
the connection without answering); "actions" given to Faults are side effects that fire
and let the request go on (e.g. expire_tokens); every other type is a terminal answer
built by the emulator's respond(rule)."""

import random
import re
import time

from emulator_http import Delayed, Resp


class Rule:
    _ids = 0

    def __init__(self, d, types):
        Rule._ids += 1
        self.id = Rule._ids
        self.spec = dict(d)
        self.type = str(d.get("type", "500"))
        if self.type not in types:
            raise ValueError("unknown fault type %r" % self.type)
        self.pattern = d.get("pattern", "") or ""
        self.rx = re.compile(self.pattern)
        self.method = d.get("method")
        self.after = int(d.get("after", 0))
        self.rate = float(d["rate"]) if d.get("rate") is not None else None
        if self.rate is not None and not 0.0 <= self.rate <= 1.0:
            raise ValueError("fault rate must be within [0, 1]")
        # a rate rule without a count keeps firing: a fraction of "once" means little
        self.count = int(d.get("count", -1 if self.rate is not None else 1))
        self.rng = random.Random(d.get("seed", 1))
        self.delay_ms = float(d.get("delay_ms", 0) or 0)
        self.retry_after = d.get("retry_after", "1")
        self.seen = 0
        self.fired = 0

    @property
    def exhausted(self):
        return self.count >= 0 and self.fired >= self.count

    def fires(self, method, target):
        """Count a match and say whether the rule fires for this request."""
        if self.exhausted or (self.method and self.method.upper() != method.upper()):
            return False
        if not self.rx.search(target):
            return False
        self.seen += 1
        if self.seen <= self.after:
            return False
        if self.rate is not None and self.rng.random() >= self.rate:
            return False
        self.fired += 1
        return True

    def to_dict(self):
        d = dict(self.spec)
        d.update({"id": self.id, "seen": self.seen, "fired": self.fired,
                  "remaining": (-1 if self.count < 0 else max(self.count - self.fired, 0))})
        return d


class Faults:
    """The active rules.  types: the terminal types respond(rule) knows, besides the built-in
    "slow" and "reset"; actions: {type: fn()} side effects run when such a rule fires."""

    def __init__(self, types, respond, actions=None):
        self.actions = dict(actions or {})
        self.types = frozenset(types) | {"slow", "reset"} | frozenset(self.actions)
        self.respond = respond
        self.rules = []

    def add(self, spec, replace=False):
        """spec: rule | [rules] | {"rules": [...], "replace": bool} | None -> the new rules."""
        if spec is None:
            return []
        if isinstance(spec, dict) and "rules" in spec:
            replace = replace or bool(spec.get("replace"))
            spec = spec["rules"]
        if isinstance(spec, dict):
            spec = [spec]
        new = [Rule(d, self.types) for d in spec]  # all parsed before any is installed
        if replace:
            self.rules = []
        self.rules.extend(new)
        return new

    def to_list(self):
        return [r.to_dict() for r in self.rules]

    def control(self, method, data):
        """/_emulator/faults: the JSON answer for GET/POST/DELETE, None for other methods."""
        if method == "GET":
            return self.to_list()
        if method == "DELETE":
            self.rules = []
            return {"ok": True}
        if method == "POST":
            return [r.to_dict() for r in self.add(data if data is not None else [])]
        return None

    def run(self, method, target, answer, count_status):
        """Apply the rules to one request: answer() is the emulator's real answer,
        count_status(status) records what was sent.  -> Resp or Delayed."""
        delay = 0.0
        res = None
        for rule in self.rules:
            if not rule.fires(method, target):
                continue
            if rule.type == "slow":
                delay += rule.delay_ms
            elif rule.type in self.actions:
                self.actions[rule.type]()
            else:
                res = Resp(0, [], b"", abort=True) if rule.type == "reset" else self.respond(rule)
                break  # the first terminal rule answers; later rules do not see the request

        def finish():
            r = res if res is not None else answer()
            if not r.abort:
                count_status(r.status)
            return r
        if delay:
            return Delayed(delay / 1000.0, finish)
        return finish()


class Bucket:
    """Token bucket: `rate` requests per second, up to `burst` at once."""

    def __init__(self, rate, burst):
        self.rate = float(rate)
        self.burst = float(burst or rate)
        self.level = self.burst
        self.t = time.monotonic()

    def take(self):
        """0 when a request may pass, else the whole seconds to wait (a Retry-After)."""
        now = time.monotonic()
        self.level = min(self.burst, self.level + (now - self.t) * self.rate)
        self.t = now
        if self.level >= 1.0:
            self.level -= 1.0
            return 0
        return max(1, int((1.0 - self.level) / self.rate + 0.999))


def parse_throttle(s):
    """--throttle ACCOUNT=RATE[/BURST] -> (account, {"rate", "burst"})."""
    acct, _, spec = s.partition("=")
    rate, _, burst = spec.partition("/")
    if not acct or not rate:
        raise ValueError("bad --throttle %r (ACCOUNT=RATE[/BURST])" % s)
    return acct, {"rate": float(rate), "burst": float(burst) if burst else float(rate)}


class Throttles:
    """Per-account buckets, as configured by --throttle and /_emulator/config."""

    def __init__(self, init=None):
        self.conf = {}
        self.buckets = {}
        for acct, spec in (init or {}).items():
            self.set(acct, spec)

    def set(self, acct, spec):
        if spec is None:
            self.conf.pop(acct, None)
            self.buckets.pop(acct, None)
            return
        self.conf[acct] = {"rate": float(spec["rate"]), "burst": float(spec.get("burst") or spec["rate"])}
        self.buckets[acct] = Bucket(self.conf[acct]["rate"], self.conf[acct]["burst"])

    def take(self, acct):
        """0, or the Retry-After seconds when acct is over its rate."""
        b = self.buckets.get(acct)
        return b.take() if b is not None else 0
