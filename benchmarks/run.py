"""Benchmarks of the engine: speed per case, events per case, memory, scale, workers, start-up.

Run ``.venv/bin/python benchmarks/run.py`` (``make bench``) or add ``--quick`` for a short run.
It prints every figure and writes them to ``--out`` (default ``results/bench/engine.json``,
git-ignored; ``benchmarks/reference-results.json`` is a committed reference copy it never writes).

* ladder: the three-level ladder (tests/scenarios/ladder.yaml) in ``sim``, in plain SimPy and
  in Ciw, run in interleaved rounds in one process so that the ratios are measured under the
  same machine load; cases per CPU second and per wall second, and SimPy events per case;
* Fangxing for one year and the synthetic district (1,000,000 households) for one year;
* linearity: cases per CPU second from a 1,000-household community to the district, and the
  time to build the district's hierarchy;
* memory: peak of a 1-year and a 10-year run of Fangxing (and, in full runs, the ladder), each
  in a fresh subprocess: tracemalloc peak during the run, and the process's peak resident set
  (VmHWM); with per-case records too, to show what they cost;
* workers: 10 replications x 5 years of Fangxing with 1 and 2 worker processes (interleaved
  rounds): the speed-up, the CPU seconds each batch used (the parallel overhead, whatever the
  machine's load) and the load average before and after each batch, so a busy machine shows;
* start-up: wall and CPU time of ``sim --help`` and ``sim validate``, and the slowest imports.

Cases per second count every case that arrived (warm-up set to 0 for these runs). CPU time
(``time.process_time``) is the main clock for single-process figures because the machine
may be shared; wall-clock figures are reported beside them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

LADDER = ROOT / "tests" / "scenarios" / "ladder.yaml"
FANGXING = ROOT / "scenarios" / "fangxing.yaml"
DISTRICT = ROOT / "scenarios" / "synthetic_district.yaml"
# The district cut down to one community of 1,000 households: 1 street, 1 community, 3 grids,
# 6 building heads (about 167 households each, as in the district).
SMALL_COMMUNITY = {"households": 1000, "levels.street.per_parent": 1, "levels.community.per_parent": 1,
                   "levels.grid.per_parent": 3, "levels.building.per_parent": 2}
# One Fangxing-sized community of the district (about 40,000 households).
ONE_COMMUNITY = {"households": 40000, "levels.street.per_parent": 1, "levels.community.per_parent": 1}
SEED = 20240426


# --------------------------------------------------------------------------- helpers
def load(path: Path, overrides: dict[str, Any] | None = None):
    """Load a scenario with warm-up 0 (so every arrival counts as a case) plus overrides."""
    from sim.scenario import load_scenario

    return load_scenario(path, {"warmup_days": 0, **(overrides or {})})


def timed(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    """Run fn; return (result, cpu seconds, wall seconds)."""
    c0, w0 = time.process_time(), time.perf_counter()
    out = fn()
    return out, time.process_time() - c0, time.perf_counter() - w0


def sim_cases(scenario, days: float, rep: int = 0) -> tuple[int, float, float]:
    """One sim replication: (cases, cpu s, wall s)."""
    from sim.engine.model import single_run

    rec, cpu, wall = timed(lambda: single_run(scenario, SEED, rep, horizon_days=days))
    return int(rec.metrics["cases_arrived"]), cpu, wall


def sim_events(scenario, days: float) -> dict[str, float]:
    """Events the SimPy environment processes per case, counted by wrapping ``env.step``."""
    from sim.engine.model import Model

    model = Model(scenario, SEED, 0, horizon_days=days)
    env, step, count = model.env, model.env.step, [0]

    def counting_step() -> None:
        count[0] += 1
        step()

    env.step = counting_step  # type: ignore[method-assign]
    rec = model.run()
    cases = rec.metrics["cases_arrived"]
    return {"events": count[0], "cases": cases, "events_per_case": count[0] / cases if cases else float("nan")}


def child_cpu() -> float:
    """CPU seconds used so far by finished child processes (user + system)."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def med(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def rate(cases: list[int], secs: list[float]) -> float:
    """Median of per-round rates."""
    return med([c / s for c, s in zip(cases, secs) if s > 0])


def load_average() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:  # pragma: no cover
        return []


def say(text: str) -> None:
    print(text, flush=True)


# --------------------------------------------------------------------------- sections
def bench_ladder(quick: bool) -> dict[str, Any]:
    """sim vs plain SimPy vs Ciw on the ladder, interleaved rounds, and events per case."""
    from plain_simpy_ladder import run_ciw, run_simpy

    # Many short interleaved rounds: the median of paired ratios resists a shared machine's noise.
    hours = 20_000.0 if quick else 50_000.0
    ciw_hours = 10_000.0 if quick else 15_000.0
    rounds = 3 if quick else 9
    sc = load(LADDER)
    got: dict[str, dict[str, list[float]]] = {k: {"cases": [], "cpu": [], "wall": []} for k in ("sim", "simpy", "ciw")}
    for r in range(rounds):
        runs = [("simpy", lambda: run_simpy(hours, seed=r + 1).arrived),
                ("sim", lambda: sim_cases(sc, hours / 24.0, rep=r)[0]),
                ("ciw", lambda: run_ciw(ciw_hours, seed=r + 1).arrived)]
        if r % 2:  # alternate the order so neither tool always runs first
            runs.reverse()
        for name, fn in runs:
            n, cpu, wall = timed(fn)
            got[name]["cases"].append(n)
            got[name]["cpu"].append(cpu)
            got[name]["wall"].append(wall)
    out: dict[str, Any] = {"horizon_hours": hours, "ciw_horizon_hours": ciw_hours, "rounds": rounds}
    for name, g in got.items():
        out[name] = {"cases_per_cpu_s": rate(g["cases"], g["cpu"]), "cases_per_wall_s": rate(g["cases"], g["wall"]),
                     "cases_per_round": g["cases"]}
    pair = [(a / b) / (c / d) for a, b, c, d in zip(got["simpy"]["cases"], got["simpy"]["cpu"], got["sim"]["cases"], got["sim"]["cpu"])]
    out["simpy_over_sim_cpu"] = med(pair)
    out["sim_over_simpy_cpu"] = med([1.0 / x for x in pair])
    out["sim_over_ciw_cpu"] = out["sim"]["cases_per_cpu_s"] / out["ciw"]["cases_per_cpu_s"]
    ev_hours = min(hours, 20_000.0)
    out["sim"]["events"] = sim_events(sc, ev_hours / 24.0)
    plain = run_simpy(ev_hours, seed=1, count_events=True)
    out["simpy"]["events"] = {"events": plain.events, "cases": plain.arrived, "events_per_case": plain.events / plain.arrived}
    s, p, c = out["sim"], out["simpy"], out["ciw"]
    say(f"ladder ({hours:,.0f} h, {rounds} interleaved rounds; Ciw {ciw_hours:,.0f} h)")
    say(f"  sim          {s['cases_per_cpu_s']:>9,.0f} cases/CPU-s {s['cases_per_wall_s']:>9,.0f} cases/wall-s"
        f"  {s['events']['events_per_case']:.2f} events/case")
    say(f"  plain SimPy  {p['cases_per_cpu_s']:>9,.0f} cases/CPU-s {p['cases_per_wall_s']:>9,.0f} cases/wall-s"
        f"  {p['events']['events_per_case']:.2f} events/case")
    say(f"  Ciw          {c['cases_per_cpu_s']:>9,.0f} cases/CPU-s {c['cases_per_wall_s']:>9,.0f} cases/wall-s")
    say(f"  sim / plain SimPy = {out['sim_over_simpy_cpu']:.3f} (median of paired rounds; target >= 1.2)"
        f"   sim / Ciw = {out['sim_over_ciw_cpu']:.2f} (target > 1)")
    return out


def bench_scenario(label: str, path: Path, days: float, rounds: int, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Cases per second and events per case of one scenario over ``days``."""
    sc = load(path, overrides)
    cases, cpu, wall = [], [], []
    for r in range(rounds):
        n, c, w = sim_cases(sc, days, rep=r)
        cases.append(n)
        cpu.append(c)
        wall.append(w)
    ev = sim_events(sc, days)
    _, setup_cpu, _ = timed(lambda: sim_cases(sc, 1.0))  # a one-day run: the fixed cost of a replication
    out = {"days": days, "cases_per_run": med(cases), "cases_per_cpu_s": rate(cases, cpu),
           "cases_per_wall_s": rate(cases, wall), "events_per_case": ev["events_per_case"], "rounds": rounds,
           "one_day_run_cpu_s": setup_cpu}
    say_rates(label, out)
    return out


def say_rates(label: str, out: dict[str, Any]) -> None:
    """One line of a scenario's rates (as :func:`bench_scenario` and :func:`bench_linearity` report them)."""
    say(f"{label:<42} {out['cases_per_run']:>9,.0f} cases/run {out['cases_per_cpu_s']:>8,.0f} cases/CPU-s "
        f"{out['cases_per_wall_s']:>8,.0f} cases/wall-s {out['events_per_case']:6.2f} events/case  "
        f"(a 1-day run: {out['one_day_run_cpu_s'] * 1e3:.0f} ms CPU)")


LINEARITY = (  # (key, label, overrides, days in a full run, days in a quick run)
    ("community_1000", "district cut to 1,000 households", SMALL_COMMUNITY, 109_500.0, 18_250.0),
    ("community_40000", "district cut to one 40,000-hh community", ONE_COMMUNITY, 2_920.0, 730.0),
    ("district_1y", "synthetic district, 1M households", None, 365.0, 60.0),
)


def bench_linearity(quick: bool) -> dict[str, Any]:
    """Cases per CPU second from a 1,000-household community to the district, taking turns.

    The three runs advance in turns of about 1% of their horizons (``Model.run_in_slices``;
    the pauses change no result), each turn timed on its own, so a shared machine's changing
    speed falls on all three alike instead of on whichever ran during a slow minute. Each small
    one runs a long horizon so that fixed per-run costs do not hide the cost per case. A run's
    CPU time is the sum of its turns, its summary included. ``rounds`` repeats this with other
    replication numbers: reported are each one's median rate, the ratio of the slowest median
    to the fastest, and the rounds' own ratios.
    """
    from sim.engine.model import Model

    rounds, slices = (2, 40) if quick else (5, 100)
    keys = [key for key, _, _, _, _ in LINEARITY]
    scs = {key: load(DISTRICT, ov) for key, _, ov, _, _ in LINEARITY}
    days = {key: (q if quick else f) for key, _, _, f, q in LINEARITY}
    for key in keys:  # a warm-up: the first run of a process imports the engine and starts numpy's threads
        sim_cases(scs[key], 1.0)
    setup = {key: timed(lambda: sim_cases(scs[key], 1.0))[1] for key in keys}  # the fixed cost of a replication
    got: dict[str, dict[str, list[float]]] = {key: {"cases": [], "cpu": [], "wall": []} for key in scs}
    per_round: list[float] = []
    for r in range(rounds):
        runs = {key: Model(scs[key], SEED, r, horizon_days=days[key]).run_in_slices(days[key] * 24.0 / slices) for key in keys}
        cpu = dict.fromkeys(keys, 0.0)
        wall = dict.fromkeys(keys, 0.0)
        cases: dict[str, int] = {}
        turn = 0
        while runs:
            order = keys[turn % len(keys):] + keys[:turn % len(keys)]  # who goes first rotates
            turn += 1
            for key in order:
                if key not in runs:
                    continue
                c0, w0 = time.process_time(), time.perf_counter()
                try:
                    next(runs[key])
                except StopIteration as done:
                    cases[key] = int(done.value.metrics["cases_arrived"])
                    del runs[key]
                cpu[key] += time.process_time() - c0
                wall[key] += time.perf_counter() - w0
        for key in keys:
            got[key]["cases"].append(cases[key])
            got[key]["cpu"].append(cpu[key])
            got[key]["wall"].append(wall[key])
        this = [cases[key] / cpu[key] for key in keys]
        per_round.append(min(this) / max(this))
    out: dict[str, Any] = {"rounds": rounds, "turns_per_run": slices}
    for key, label, _, _, _ in LINEARITY:
        g = got[key]
        ev = sim_events(scs[key], days[key])
        out[key] = {"days": days[key], "cases_per_run": med(g["cases"]), "cases_per_cpu_s": rate(g["cases"], g["cpu"]),
                    "cases_per_wall_s": rate(g["cases"], g["wall"]), "events_per_case": ev["events_per_case"],
                    "rounds": rounds, "one_day_run_cpu_s": setup[key],
                    "cases_per_cpu_s_by_round": [c / t for c, t in zip(g["cases"], g["cpu"])]}
        say_rates(label, out[key])
    medians = [out[key]["cases_per_cpu_s"] for key in keys]
    out["linearity_min_over_max"] = min(medians) / max(medians)
    out["linearity_per_round"] = per_round
    say(f"  linearity ({rounds} rounds, the three runs taking {slices} turns each): slowest / fastest median cases "
        f"per CPU second = {out['linearity_min_over_max']:.2f}; rounds {', '.join(f'{x:.2f}' for x in per_round)} "
        f"(target >= 0.9)")
    return out


def bench_hierarchy(rounds: int = 3) -> dict[str, Any]:
    """Time to build the district's hierarchy (arrays and ancestors; the networkx graph apart)."""
    from sim.hierarchy import build_hierarchy
    from sim.scenario import load_scenario

    sc = load_scenario(DISTRICT)
    build, graph = [], []
    for _ in range(rounds):
        h, _, wall = timed(lambda: build_hierarchy(sc))
        _, _, wall2 = timed(lambda: h.ancestors)
        build.append(wall + wall2)
        _, _, wall3 = timed(lambda: h.graph)
        graph.append(wall3)
    out = {"units": list(h.counts), "build_s": min(build), "graph_s": min(graph)}
    say(f"district hierarchy {h.counts}: built in {out['build_s'] * 1e3:.1f} ms (target < 5 s); "
        f"networkx graph {out['graph_s']:.2f} s")
    return out


def probe(spec: dict[str, Any]) -> dict[str, Any]:
    """Run one replication in this (fresh) process and measure its memory."""
    import tracemalloc

    from sim.engine.model import single_run
    from sim.hierarchy import build_hierarchy

    sc = load(Path(spec["path"]), spec.get("overrides"))
    h = build_hierarchy(sc)
    h.ancestors  # noqa: B018 - built before measuring
    if spec["record"] == "spool":  # import the writer first: its import is a fixed cost, not the run's
        import pandas  # noqa: F401
        import pyarrow.parquet  # noqa: F401
    rss_before = vm_kb("VmRSS") / 1024.0
    if spec["trace"]:
        tracemalloc.start()
    record = spec["record"]
    if record == "spool":  # case rows streamed to part files on disk
        import tempfile

        record = tempfile.mkdtemp(prefix="sim-bench-spool.")
    t = time.process_time()
    rec = single_run(sc, SEED, 0, horizon_days=spec["days"], record_cases=record, hierarchy=h)
    cpu = time.process_time() - t
    if isinstance(record, str):
        import shutil

        shutil.rmtree(record, ignore_errors=True)
    # VmHWM is this process image's peak (ru_maxrss would carry the parent's peak across exec).
    out = {"cases": rec.metrics["cases_arrived"], "cpu_s": cpu, "rss_before_run_mb": rss_before,
           "maxrss_mb": vm_kb("VmHWM") / 1024.0}
    if spec["trace"]:
        out["traced_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    return out


def vm_kb(field: str) -> float:
    """A memory figure of this process from /proc/self/status, in kB (Linux); ru_maxrss elsewhere."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return float(line.split()[1])
    except OSError:  # pragma: no cover - not Linux
        pass
    return float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def run_probe(spec: dict[str, Any]) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--probe", json.dumps(spec)],
                          capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def bench_memory(quick: bool) -> dict[str, Any]:
    """Peak memory of 1-year and 10-year runs, each in a fresh subprocess."""
    subjects = [("fangxing", FANGXING)] + ([] if quick else [("ladder", LADDER)])
    out: dict[str, Any] = {}
    for name, path in subjects:
        variants = [(False, "trace"), (False, "rss")] + ([] if name != "fangxing" else [("spool", "trace")]) + \
            ([] if quick or name != "fangxing" else [(True, "trace")])
        for record, kind in variants:
            tag = f"{name}.{ {False: 'plain', True: 'records', 'spool': 'spooled'}[record] }.{kind}"
            for years in (1, 10):
                out[f"{tag}.{years}y"] = run_probe({"path": str(path), "days": 365.0 * years, "record": record,
                                                    "trace": kind == "trace"})
            a, b = out[f"{tag}.1y"], out[f"{tag}.10y"]
            key = "traced_peak_mb" if kind == "trace" else "maxrss_mb"
            out[f"{tag}.ratio_10y_1y"] = ratio = b[key] / a[key]
            what = {False: "no case records", True: "records in memory", "spool": "records to disk"}[record]
            measure = "tracemalloc peak during the run" if kind == "trace" else "max resident set of the process"
            say(f"memory {name:<8} {what:<17} {measure:<32} 1 y {a[key]:7.2f} MB  10 y {b[key]:7.2f} MB  "
                f"ratio {ratio:.2f}{'' if record is True else ' (target <= 1.2)'}  [{a['cases']:,.0f} / {b['cases']:,.0f} cases"
                + (f"; {a['rss_before_run_mb']:.1f} MB before the run]" if kind == "rss" else "]"))
    return out


def bench_workers(quick: bool) -> dict[str, Any]:
    """Replications per wall second with 1 and 2 local worker processes, interleaved."""
    from sim.experiments.replicate import Task, execute

    sc = load(FANGXING)
    reps, days = (4, 730.0) if quick else (10, 1825.0)
    tasks = [Task(sc, SEED, r, days) for r in range(reps)]
    walls: dict[int, list[float]] = {1: [], 2: []}
    cpus: dict[int, list[float]] = {1: [], 2: []}
    loads = [load_average()]
    for order in ((1, 2), (2, 1)) if quick else ((1, 2), (2, 1), (1, 2)):
        for w in order:
            c0 = child_cpu()
            _, cpu, wall = timed(lambda: execute(tasks, workers=w))
            walls[w].append(wall)
            cpus[w].append(cpu + child_cpu() - c0)
            loads.append(load_average())
    r1, r2 = reps / med(walls[1]), reps / med(walls[2])
    out = {"reps": reps, "days": days, "reps_per_s_1": r1, "reps_per_s_2": r2, "ratio": r2 / r1,
           "walls": {str(k): v for k, v in walls.items()}, "cpu_s": {str(k): v for k, v in cpus.items()},
           "cpu_count": os.cpu_count(), "load_average": load_average(), "load_averages_between_batches": loads}
    say(f"workers: Fangxing {days / 365:.0f} y x {reps} reps: 1 worker {r1:.2f} reps/s, 2 workers {r2:.2f} reps/s, "
        f"ratio {out['ratio']:.2f} (target >= 1.8); CPU s per batch 1 w {med(cpus[1]):.1f}, 2 w {med(cpus[2]):.1f}; "
        f"{os.cpu_count()} CPUs, load (1, 5, 15 min) {loads[0]} -> {out['load_average']}"
        + ("  [busy machine: load above the CPU count]" if loads and max(x[0] for x in loads if x) > (os.cpu_count() or 1) else ""))
    return out


def bench_startup(quick: bool) -> dict[str, Any]:
    """Wall and CPU time of `sim --help` and `sim validate` in fresh processes, and the slowest imports."""
    sim_exe = Path(sys.executable).with_name("sim")
    base = [str(sim_exe)] if sim_exe.exists() else [sys.executable, "-m", "sim.cli"]
    cmds = {"help": base + ["--help"], "validate": base + ["validate", str(FANGXING)]}
    n = 3 if quick else 7
    out: dict[str, Any] = {}
    for name, cmd in cmds.items():
        walls, cpus = [], []
        for _ in range(n):
            c0 = child_cpu()
            _, _, wall = timed(lambda: subprocess.run(cmd, capture_output=True, cwd=ROOT, check=True))
            walls.append(wall)
            cpus.append(child_cpu() - c0)
        out[name] = {"best_wall_s": min(walls), "median_wall_s": med(walls), "best_cpu_s": min(cpus), "median_cpu_s": med(cpus)}
    # Cumulative import times of `sim validate`'s modules (python -X importtime), slowest first.
    code = "import sys; sys.argv=['sim','validate',%r]; from sim.cli import main; main()" % str(FANGXING)
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True, cwd=ROOT)
    rows = []  # (cumulative microseconds, module) of top-level imports (not indented)
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            _, cum, name = line[len("import time:"):].split("|", 2)
            if cum.strip().isdigit() and name[1:] == name[1:].lstrip():
                rows.append((int(cum), name.strip()))
    out["validate_top_imports_us"] = [(name, us) for us, name in sorted(rows, reverse=True)][:8]
    h, v = out["help"], out["validate"]
    say(f"start-up (target < 0.5 s): sim --help wall {h['best_wall_s']:.3f} s best / {h['median_wall_s']:.3f} median, "
        f"CPU {h['best_cpu_s']:.3f} s; sim validate wall {v['best_wall_s']:.3f} s best / {v['median_wall_s']:.3f} median, "
        f"CPU {v['best_cpu_s']:.3f} s")
    say("  slowest top-level imports of validate: " + ", ".join(f"{n} {us / 1e3:.0f} ms" for n, us in out["validate_top_imports_us"][:5]))
    return out


# --------------------------------------------------------------------------- main
SECTIONS = ("ladder", "scenarios", "hierarchy", "memory", "workers", "startup")
# `--only linearity`: the linearity part of "scenarios" alone.


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="short runs (about a minute): rough figures")
    ap.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated sections of {', '.join(SECTIONS)} (or linearity alone)")
    ap.add_argument("--out", default=str(ROOT / "results" / "bench" / "engine.json"), help="JSON file to write")
    ap.add_argument("--probe", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.probe:
        print(json.dumps(probe(json.loads(args.probe))))
        return 0
    only = {s.strip() for s in args.only.split(",") if s.strip()}
    import simpy

    results: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "quick": args.quick,
        "python": platform.python_version(), "simpy": simpy.__version__, "machine": platform.machine(),
        "cpu_count": os.cpu_count(), "load_average_start": load_average(),
    }
    q = args.quick
    if "ladder" in only:
        results["ladder"] = bench_ladder(q)
    if "scenarios" in only:
        say("scenarios (warm-up 0; median of rounds)")
        sc: dict[str, Any] = {}
        sc["fangxing_1y"] = bench_scenario("Fangxing, 1 year", FANGXING, 365.0, 3)
        # Linearity: cost per case from a 1,000-household community to the district (the
        # district's year is one of the three), in interleaved rounds.
        sc.update(bench_linearity(q))
        results["scenarios"] = sc
    elif "linearity" in only:
        say("linearity (warm-up 0; median of rounds)")
        results["scenarios"] = bench_linearity(q)
    if "hierarchy" in only:
        results["hierarchy"] = bench_hierarchy()
    if "memory" in only:
        results["memory"] = bench_memory(q)
    if "workers" in only:
        results["workers"] = bench_workers(q)
    if "startup" in only:
        results["startup"] = bench_startup(q)
    results["load_average_end"] = load_average()
    results["finished"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    from sim.results import atomic_write_json

    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    atomic_write_json(args.out, results)
    say(f"wrote {args.out} (load average {results['load_average_start']} -> {results['load_average_end']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
