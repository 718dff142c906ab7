"""The court link: where a case goes when it leaves the top level unsettled, and a judge's studio.

Without it such a case is simply "unresolved". With it, each one draws its route from the
``court_link.route`` stream: to court (a lawsuit), to a petition or the hotline, or abandoned,
with shares per severity (and, where given, per category). A judge's studio (Sanjiang's
法官工作室) takes the court-bound cases first for pre-litigation mediation or judicial
confirmation, with its own staff, hours, handling times and settle chances; what it settles is
closed there (``settled_share.studio.<name>``), the rest go to court.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Iterator, Union

from pydantic import Field, NonNegativeFloat, PositiveInt, model_validator

from ..scenario.fields import MIX_TOLERANCE, Distribution, Probability, RosterSpec, Strict
from .base import Hooks, Mechanism, check_per_severity

if TYPE_CHECKING:  # pragma: no cover
    from ..scenario.schema import Scenario
    from .base import DescriptionRow
    from .context import Context, MetricSink

ROUTES = ("court", "petition", "abandoned")


# --------------------------------------------------------------------------- schema
class Routes(Strict):
    """Shares of the cases leaving the top unsettled that go to court, petition (or the hotline), or are dropped."""

    court: Probability
    petition: Probability
    abandoned: Probability

    @model_validator(mode="after")
    def _sum_to_one(self) -> "Routes":
        total = math.fsum((self.court, self.petition, self.abandoned))
        if abs(total - 1.0) > MIX_TOLERANCE:
            raise ValueError(f"court, petition and abandoned must sum to 1, sum to {total:.6g}")
        return self


class Studio(Strict):
    """A judge's studio: pre-litigation mediation or judicial confirmation of court-bound cases."""

    name: str = Field(default="judge", pattern=r"^[A-Za-z0-9_\-]+$")
    staff: PositiveInt
    roster: RosterSpec = "always"
    availability: Probability = 1.0
    share: Probability = 1.0  # of the court-bound cases that accept the studio
    handling: dict[str, Distribution]  # in the scenario's time_unit; 'default' and/or severities
    settle: Union[Probability, dict[str, Probability]]
    cost_per_year: NonNegativeFloat | None = None
    description: str = ""


class CourtLink(Strict):
    """Routes of cases leaving the top level unsettled, per severity ('default' allowed) with
    optional per-category routes that replace them for that category; an optional judge's studio."""

    routes: dict[str, Routes] = Field(min_length=1)
    category_routes: dict[str, Routes] = Field(default_factory=dict)
    studio: Studio | None = None
    description: str = ""


# --------------------------------------------------------------------------- checks and description
def problems(scenario: "Scenario") -> list[str]:
    out: list[str] = []
    link = scenario.court_link
    if link is None:
        return out
    check_per_severity(out, "court_link.routes", link.routes, scenario.severities)
    for cat in link.category_routes:
        if cat not in scenario.categories:
            out.append(f"court_link.category_routes.{cat}: '{cat}' is not a declared category "
                       f"({', '.join(scenario.categories)})")
    if link.studio is not None:
        st = link.studio
        check_per_severity(out, "court_link.studio.handling", st.handling, scenario.severities)
        if isinstance(st.settle, dict):
            check_per_severity(out, "court_link.studio.settle", st.settle, scenario.severities)
        if not any(r.court > 0 for r in [*link.routes.values(), *link.category_routes.values()]):
            out.append("court_link.studio: no route sends cases to court, so the studio would get none")
    return out


def describe(scenario: "Scenario") -> list["DescriptionRow"]:
    link = scenario.court_link
    if link is None:
        return []
    top = scenario.level_names[-1]
    routes = "; ".join(f"{k}: court {r.court:.0%}, petition {r.petition:.0%}, abandoned {r.abandoned:.0%}"
                       for k, r in {**link.routes, **link.category_routes}.items())
    rows: list[DescriptionRow] = [("court link", "", f"after {top}", routes)]
    if link.studio is not None:
        st = link.studio
        rows.append(("studio", st.name, f"after {top} (court-bound)", f"staff {st.staff}; takes {st.share:.0%} of court-bound cases"))
    return rows


def sites(scenario: "Scenario") -> dict[str, str]:
    link = scenario.court_link
    if link is None or link.studio is None:
        return {}
    return {f"studio.{link.studio.name}": scenario.level_names[-1]}


# --------------------------------------------------------------------------- runtime
class CourtLinkRuntime:
    """Routes each case leaving the top unsettled; the judge's studio tries the court-bound ones."""

    def __init__(self, scenario: "Scenario", ctx: "Context"):
        from .desks import DeskRuntime, Partner

        link = scenario.court_link
        assert link is not None
        self.route_u = ctx.uniforms("court_link.route")
        self.table: list[list[tuple[float, float]]] = []  # [severity][category] -> (court, court + petition)
        for s in scenario.severities:
            r_sev = link.routes.get(s, link.routes.get("default"))
            row = []
            for c in scenario.categories:
                r = link.category_routes.get(c, r_sev)
                assert r is not None
                row.append((r.court, r.court + r.petition))
            self.table.append(row)
        self.studio: Any = None
        if link.studio is not None:
            st = link.studio
            top = scenario.level_names[-1]
            partner = Partner(level=top, mode="after", share=st.share, handling=st.handling, settle=st.settle,
                              staff=st.staff, roster=st.roster, availability=st.availability)
            self.studio = DeskRuntime(ctx, scenario, "studio", st.name, partner)
        self.counts = [0, 0, 0]  # court, petition, abandoned (cases arriving after the warm-up)
        self.studio_failed = 0

    def route(self, sev: int, cat: int, counted: bool) -> Iterator[Any]:
        """Send a case that left the top unsettled on its way; the studio that settled it, or None."""
        court, court_or_petition = self.table[sev][cat]
        u = self.route_u.next()
        if u < court:
            studio = self.studio
            if studio is not None and studio.takes(sev, cat):
                if (yield from studio.visit(sev, counted)):
                    return studio
            way = 0
        else:
            way = 1 if u < court_or_petition else 2
        if counted:
            self.counts[way] += 1
        return None

    def hooks(self) -> Hooks:
        return Hooks(exit=self.route, exit_settlers=(self.studio,) if self.studio is not None else ())

    def report(self, sink: "MetricSink", end: float) -> None:
        """Split ``unresolved_share`` by route: the three shares sum to it."""
        unresolved = sink.get("unresolved_share")
        total = sum(self.counts)
        for name, c in zip(ROUTES, self.counts):
            sink.put(f"unresolved_share.{name}", unresolved * c / total if total else unresolved)
        sink.put("cases_to_court", float(self.counts[0]))


COURT_LINK = Mechanism("court_link", (Routes, Studio, CourtLink), used=lambda sc: sc.court_link is not None,
                       problems=problems, describe=describe, runtime=CourtLinkRuntime, settler_kind="studio",
                       sites_of=sites)

__all__ = ["COURT_LINK", "CourtLink", "Routes", "Studio", "ROUTES"]

