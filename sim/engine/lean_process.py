"""A SimPy process for cases: started at once, and ended without an event nobody waits for.

``env.process(gen)`` schedules an ``Initialize`` event to take the first step, and a process
that ends schedules itself as an event for anyone waiting on it. For a case both are pure
overhead: it is started by the arrivals process at its arrival time, and nothing ever waits
for a case to end. On the benchmark ladder they were 2 of the 6.4 events per case. A
:class:`CaseProcess` takes its first step inside the arrivals step (at the same simulated
time) and, when it ends with no waiter, is marked processed without being scheduled.

Same results: cases arrive at continuous random times, so nothing else happens at the exact
instant a case starts, and the order of every other event is unchanged (the benchmark smoke
test and the regression runs compare every scenario with and without it). ``_resume`` follows
SimPy 4.1.2's ``Process._resume`` (simpy is pinned), changing only the end of the process.
"""

from __future__ import annotations

from typing import Any

import simpy
from simpy.events import Event, ProcessGenerator


class _Start:
    """What ``_resume`` needs of an event to take a process's first step."""

    _ok = True
    _value = None


_START = _Start()


class CaseProcess(simpy.Process):
    """A process started at once, whose end is an event only if someone waits for it."""

    def __init__(self, env: simpy.Environment, generator: ProcessGenerator):  # noqa: D107 - see class
        if not hasattr(generator, "throw"):
            raise ValueError(f"{generator} is not a generator.")
        self.env = env
        self.callbacks: list[Any] = []
        self._generator = generator
        active = env._active_proc  # the arrivals process, active while it starts the case
        self._resume(_START)  # type: ignore[arg-type]
        env._active_proc = active

    def _resume(self, event: Event) -> None:
        self.env._active_proc = self
        while True:
            try:
                if event._ok:
                    event = self._generator.send(event._value)
                else:
                    event._defused = True
                    exc = type(event._value)(*event._value.args)
                    exc.__cause__ = event._value
                    event = self._generator.throw(exc)
            except StopIteration as e:
                event = None  # type: ignore[assignment]
                self._ok = True
                self._value = e.args[0] if len(e.args) else None
                if self.callbacks:
                    self.env.schedule(self)
                else:  # nobody waits: processed without an event (a later waiter resumes at once)
                    self.callbacks = None  # type: ignore[assignment]
                break
            except BaseException as e:
                event = None  # type: ignore[assignment]
                self._ok = False
                e.__traceback__ = e.__traceback__.tb_next  # type: ignore[union-attr]
                self._value = e
                self.env.schedule(self)  # a failure is always an event: env.run raises it
                break
            try:
                if event.callbacks is not None:
                    event.callbacks.append(self._resume)
                    break
            except AttributeError:
                if hasattr(event, "callbacks"):
                    raise
                raise RuntimeError(f'Invalid yield value "{event}"') from None
        self._target = event
        self.env._active_proc = None
