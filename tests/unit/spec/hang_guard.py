"""A guard against hangs (not a speed assertion): a call that has not returned after a bound fails.

In the main thread the bound is a ``SIGALRM`` timer whose handler raises inside the call: that also
stops a regular-expression match, which holds the GIL and would keep a watchdog thread from ever
running. Elsewhere (or without ``setitimer``) the call runs in a daemon thread that is abandoned.
"""

from __future__ import annotations

import os
import signal
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

#: generous: a case must be answered, not answered fast (HANG_GUARD_SECONDS overrides it, e.g. to see
#: quickly that a test fails on code that hangs)
HANG_GUARD_SECONDS = float(os.environ.get("HANG_GUARD_SECONDS", "30"))


class Hung(AssertionError):
    pass


class _Alarm(BaseException):  # not an Exception: the code under test must not swallow it
    pass


def answered(call: Callable[[], Any], seconds: float = HANG_GUARD_SECONDS) -> Any:
    """``call()``'s result, or its exception re-raised; :class:`Hung` when it has not returned in time."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        return _in_thread(call, seconds)

    def on_alarm(signum: int, frame: Any) -> None:
        raise _Alarm

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return call()
    except _Alarm:
        raise Hung(f"no answer within {seconds:g} s") from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _in_thread(call: Callable[[], Any], seconds: float) -> Any:
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = call()
        except BaseException as exc:  # re-raised in the caller's thread
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True, name="hang-guard")
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        raise Hung(f"no answer within {seconds:g} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
