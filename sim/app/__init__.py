"""The planners' web app (``sim app``): pick scenarios, change staff and demand, run, read and download.

Built on Panel over the public API only (``import sim``); the same page runs in a notebook
(``sim.app.page.build()``). Simulations run in a worker process, so the page stays responsive
and a run can be cancelled.
"""
