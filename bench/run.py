"""Närvaro bench: how far one machine goes, ours (batched) against the naive Channels pipeline.

    python bench/run.py --quick        # make bench: both variants at one load, two servers (minutes)
    python bench/run.py --full         # make bench-full: the sweep, the 5-minute target hold, the plot
    python bench/run.py --devices 1000 --viewers 10 --duration 60 --variants batched,naive

Each run starts fresh ASGI server process(es) (Daphne, or uvicorn with --asgi) with
POSITION_PIPELINE set, separate load-generator processes (bench/load.py) with real WebSocket
clients over 127.0.0.1, measures, checks every acked write against the bench database, stops
everything, prints a table and writes JSON to bench/results/. See bench/README.md.
"""

import argparse
import contextlib
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

from server import BENCH_DB, PY, ROOT, Servers, base_url, bench_env, database_prepare, database_reset, psql

RESULTS = ROOT / "bench" / "results"
SOCKETS_PER_GENERATOR = 2500
# New sockets per second over all generators; Daphne drops a handshake not accepted within 5 s.
CONNECTS_PER_S = 150
BASE_PORT = int(os.environ.get("BENCH_PORT", "8790"))


# --- measurements ---------------------------------------------------------------------------------


def merge(hists: list[list[int]]) -> list[int]:
    total = [0] * len(hists[0]) if hists else [0]
    for hist in hists:
        for i, n in enumerate(hist):
            if n:
                total[i] += n
    return total


def percentiles(hist: list[int]) -> dict:
    """p50/p95/p99/max in ms from a 1 ms histogram (the last bucket is 60 s or more)."""
    count = sum(hist)
    if not count:
        return {"n": 0, "p50": None, "p95": None, "p99": None, "max": None}
    out = {"n": count}
    for name, q in (("p50", 0.50), ("p95", 0.95), ("p99", 0.99)):
        rank, seen = math.ceil(q * count), 0
        for ms, n in enumerate(hist):
            seen += n
            if seen >= rank:
                out[name] = ms
                break
    out["max"] = max(ms for ms, n in enumerate(hist) if n)
    return out


def hist_of(samples: list[float]) -> list[int]:
    hist = [0] * 60_001
    for seconds in samples:
        hist[min(max(int(seconds * 1000), 0), 60_000)] += 1
    return hist


def db_count(sql: str) -> int:
    return int(psql(sql, BENCH_DB) or 0)


def count_in(table: str, seqs: list[int]) -> int:
    """How many of `seqs` are rows of `table` (in chunks: psql's command line has a limit)."""
    found = 0
    for i in range(0, len(seqs), 20_000):
        chunk = ",".join(map(str, seqs[i : i + 20_000]))
        with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
            f.write(f"select count(*) from {table} where seq = any('{{{chunk}}}'::bigint[]);")
        try:
            found += _count_file(f.name)
        finally:
            os.unlink(f.name)
    return found


def _count_file(path: str) -> int:
    parsed = urlparse(base_url())
    command = ["psql", "-h", parsed.hostname or "127.0.0.1", "-p", str(parsed.port or 5432), "-qtA"]
    command += ["-U", parsed.username or "postgres", "-d", BENCH_DB, "-f", path]
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = parsed.password
    out = subprocess.run(command, check=True, capture_output=True, text=True, env=env, timeout=120).stdout
    return int(out.strip() or 0)


# --- one run ----------------------------------------------------------------------------------------


def cpu_split(servers: int) -> tuple[str | None, str | None]:
    """(server CPUs, generator CPUs) for taskset: the generators away from the server(s) when the
    machine has a core to spare and BENCH_PIN is not 0; (None, None) otherwise (PostgreSQL, Redis and the
    worker float)."""
    n = os.cpu_count() or 1
    if servers >= n or not shutil.which("taskset") or os.environ.get("BENCH_PIN", "1") == "0":
        return None, None
    return f"0-{servers - 1}", f"{servers}-{n - 1}"


def taskset(cpus: str | None) -> list[str]:
    return ["taskset", "-c", cpus] if cpus else []


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def population(devices: int, viewers: int, partners: int = 0) -> dict:
    subprocess.run(
        [PY, str(ROOT / "bench" / "setup.py"), str(devices), str(viewers), str(partners)],
        check=True,
        env=bench_env(CHANNEL_PREFIX="bench_setup"),
        cwd=ROOT,
        timeout=1800,
    )
    return json.loads((RESULTS / "population.json").read_text())


def run_once(
    pop: dict,
    *,
    variant: str,
    devices: int,
    viewers: int,
    period: float,
    duration: int,
    warmup: int,
    servers: int = 1,
    rare_per_s: float = 1.0,
    profile: str | None = None,
    connect_rate: float = 0.0,
    asgi: str = "daphne",
    scenario: str = "town",
) -> dict:
    """Serve with fresh server process(es), drive the load, check against the database; return the figures.

    `scenario`: "town", everyone in Lysekil's centre (the worst case: every team near every other),
    or "city", a big city on a Friday: teams in ten districts ~2.8 km apart, half the viewers police
    partners (read-only duty map).
    """
    run = "b" + uuid.uuid4().hex[:7]
    ports = [BASE_PORT + i for i in range(servers)]
    server_cpus, generator_cpus = cpu_split(servers)
    print(
        f"\n== {variant}: {devices} devices / {period:g} s, {viewers} viewers, {servers} {asgi}, "
        f"{duration} s, {scenario} (run {run}); server on CPU {server_cpus or 'any'}, "
        f"generators on CPU {generator_cpus or 'any'}; load average {load_average()}",
        flush=True,
    )
    # The same database state for every run (bench/server.py RUN_TABLES), then only this run's
    # teams on shift (the field tick carries every team on shift).
    database_reset()
    subprocess.run(
        [PY, str(ROOT / "bench" / "setup.py"), "--active", str(devices)],
        check=True,
        env=bench_env(CHANNEL_PREFIX=f"bench_{run}_setup"),
        cwd=ROOT,
        timeout=900,
    )
    head = db_count("select coalesce(max(seq), 0) from coordination_event")
    load_before = load_average()
    srv = Servers(ports, variant=variant, prefix=f"bench_{run}", log_dir=RESULTS, asgi=asgi, cpus=server_cpus)
    gens: list[subprocess.Popen] = []
    try:
        time.sleep(2)
        rss_base = srv.rss()
        # Devices of one team go to one generator; devices alternate between the ports.
        device_specs = [dict(d, port=ports[i % servers]) for i, d in enumerate(pop["devices"][:devices])]
        # Each viewer carries its role: what it should see of the devices' messages depends on it.
        watching = [dict(v, role="duty") for v in pop["viewers"][:viewers]]
        if scenario == "city":  # half of them partners, who read the same duty map
            duty = [dict(v, role="duty") for v in pop["viewers"][: viewers - viewers // 2]]
            watching = duty + [dict(p, role="partner") for p in pop.get("partners", [])[: viewers // 2]]
        viewer_specs = [dict(v, port=ports[i % servers]) for i, v in enumerate(watching)]
        n_gen = max(1, math.ceil(len(device_specs) / SOCKETS_PER_GENERATOR))
        per = math.ceil(len(device_specs) / n_gen / 4) * 4
        plans = []
        for g in range(n_gen + 1):  # the last generator holds the viewers alone
            part = device_specs[g * per : (g + 1) * per] if g < n_gen else []
            plans.append(
                {
                    "run": run,
                    "head": head,
                    "period": period,
                    "duration": duration,
                    "warmup": warmup,
                    # The last acks, then a field tick after them (FIELD_POSITION_TICK_S, 10 s).
                    "drain": 30,
                    "watchers": 4 if g < n_gen else 0,
                    "connect_rate": (connect_rate or CONNECTS_PER_S) / (n_gen + 1),
                    "seed": g,
                    "rare_per_s": rare_per_s * len(part) / max(1, len(device_specs)),
                    "devices": part,
                    "viewers": viewer_specs if g == n_gen else [],
                    "districts": 10 if scenario == "city" else 0,
                    "out": str(RESULTS / f"{run}-gen{g}.json"),
                }
            )
        for plan in plans:
            path = RESULTS / f"{run}-plan{len(gens)}.json"
            path.write_text(json.dumps(plan))
            gens.append(
                subprocess.Popen(
                    [*taskset(generator_cpus), PY, str(ROOT / "bench" / "load.py"), str(path)],
                    cwd=ROOT,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                )
            )
        connected = 0
        for gen in gens:
            line = gen.stdout.readline()  # READY n seconds (the generator bounds its own connects)
            if not line.startswith("READY"):
                raise RuntimeError(f"a generator failed before READY: {line!r}")
            connected += int(line.split()[1])
        time.sleep(3)  # idle: every socket connected and said hello, nothing sent yet
        rss_idle = srv.rss()
        start_at = time.time() + 1
        for gen in gens:
            gen.stdin.write(f"GO {start_at}\n")
            gen.stdin.flush()
        time.sleep(max(0.0, start_at + warmup - time.time()))
        gen_ps = [psutil.Process(g.pid) for g in gens]
        cpu0, gen0, t0 = srv.cpu_seconds(), sum(sum(p.cpu_times()[:2]) for p in gen_ps), time.time()
        worker0 = srv.worker_cpu_seconds()
        machine0 = psutil.cpu_times()
        spy = None
        if profile:
            spy = subprocess.Popen(
                [
                    str(Path(PY).parent / "py-spy"),
                    "record",
                    "--pid",
                    str(srv.pids[0]),
                    "--duration",
                    str(max(5, duration - warmup - 5)),
                    "--rate",
                    "50",
                    # gil: only the thread holding the interpreter, i.e. where the CPU goes.
                    *(["--gil"] if profile == "gil" else []),
                    "--format",
                    "raw",
                    "--output",
                    str(RESULTS / f"profile-{variant}-{devices}-{viewers}.txt"),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        rss_peak = 0
        while time.time() < start_at + duration:
            rss_peak = max(rss_peak, srv.rss())
            time.sleep(1)
        window = time.time() - t0
        cpu = (srv.cpu_seconds() - cpu0) / window
        worker_cpu = (srv.worker_cpu_seconds() - worker0) / window
        gen_cpu = (sum(sum(p.cpu_times()[:2]) for p in gen_ps) - gen0) / window
        machine1 = psutil.cpu_times()
        busy = (sum(machine1) - machine1.idle - machine1.iowait) - (sum(machine0) - machine0.idle - machine0.iowait)
        machine_cpu = busy / window
        rss_load = srv.rss()
        alive = srv.alive()
        for gen in gens[:-1]:
            gen.wait(timeout=duration + 240)
        # The device generators are done (last acks in, or their drain ran out): the viewers may go
        # 3 s from now, so an event acked late is not counted lost for want of a viewer.
        with contextlib.suppress(BrokenPipeError):  # the viewers' generator has ended on its own
            gens[-1].stdin.write("DONE\n")
            gens[-1].stdin.flush()
        gens[-1].wait(timeout=duration + 240)
        if spy:
            spy.wait(timeout=120)
    finally:
        for gen in gens:
            if gen.poll() is None:
                gen.kill()
        srv.stop()

    outs = [json.loads(Path(p["out"]).read_text()) for p in plans]
    load_after = load_average()
    return summarise(
        run,
        outs,
        variant=variant,
        devices=devices,
        viewers=viewers,
        period=period,
        duration=duration,
        warmup=warmup,
        servers=servers,
        asgi=asgi,
        scenario=scenario,
        server_cpus=server_cpus,
        generator_cpus=generator_cpus,
        load_average_before=load_before,
        load_average_after=load_after,
        connected=connected,
        rss_base=rss_base,
        rss_idle=rss_idle,
        rss_load=rss_load,
        rss_peak=rss_peak,
        cpu=cpu,
        worker_cpu=worker_cpu,
        gen_cpu=gen_cpu,
        machine_cpu=machine_cpu,
        alive=alive,
    )


# What each viewer role may see of the messages bench/load.py's devices send (coordination.access
# may_see): notes and alerts go to staff, which duty and partner read; load.py's chat goes to the
# sender's team channel, which the duty officer reads and a partner never does (partners never chat).
# tests/test_bench_rare.py checks this table against the access rules and the services' audiences.
RARE_SEEN_BY = {"duty": frozenset({"note", "alert", "chat"}), "partner": frozenset({"note", "alert"})}


def rare_seen(viewers: list[dict], rare_acked: list) -> tuple[list[float], list[float], int, int]:
    """Latencies of notes/alerts and of chat, how many acked messages a viewer should have seen and
    did not, and how many a viewer received that its role may not see (RARE_SEEN_BY).

    `viewers`: load.py's viewer results (role, rare_seen as (seq, received at)); `rare_acked`:
    (kind, seq, sent at) of every acked note, alert and chat.
    """
    rare_lat, chat_lat, lost, leaked = [], [], 0, 0
    for v in viewers:
        seen = dict((seq, t) for seq, t in v["rare_seen"])
        may_see = RARE_SEEN_BY[v.get("role", "duty")]
        for kind, seq, sent_at in rare_acked:
            if kind not in may_see:
                leaked += seq in seen
            elif seq in seen:
                (chat_lat if kind == "chat" else rare_lat).append(seen[seq] - sent_at)
            else:
                lost += 1
    return rare_lat, chat_lat, lost, leaked


def summarise(run: str, outs: list[dict], **meta) -> dict:
    duration, warmup = meta["duration"], meta["warmup"]
    sent = {k: sum(o["sent"][k] for o in outs) for k in outs[0]["sent"]}
    acked = {k: sum(o["acked"][k] for o in outs) for k in outs[0]["acked"]}
    errors: dict[str, int] = {}
    for o in outs:
        for code, n in o["errors"].items():
            errors[code] = errors.get(code, 0) + n
    timeline = [sum(o["ack_timeline"][i] for o in outs) for i in range(len(outs[0]["ack_timeline"]))]
    steady = timeline[warmup:duration]
    sustained = sum(steady) / max(1, len(steady))
    # The worst 10-second window in the steady part: a sustained rate does not sag.
    windows = [sum(steady[i : i + 10]) / 10 for i in range(0, max(1, len(steady) - 9))]
    pos_seqs = [s for o in outs for s in o["pos_seqs"]]
    rows = count_in("coordination_positionreport", pos_seqs)
    rows_run = db_count(f"select count(*) from coordination_positionreport where client_id like '{run}-%'")
    rare_acked = [r for o in outs for r in o["rare_acked"]]
    events_found = count_in("coordination_event", [seq for _, seq, _ in rare_acked])

    viewers = [v for o in outs for v in o["viewers"]]
    stayed = [v for v in viewers if v["stayed"]]
    team_last: dict[str, float] = {}
    for o in outs:
        for team, at in o["team_last_acked"].items():
            team_last[team] = max(team_last.get(team, 0.0), at)
    pos_lost = sum(1 for v in stayed for team, at in team_last.items() if v["seen"].get(team, 0.0) < at - 1e-6)
    # Field devices see positions on the field tick only, and only their own team and the teams near
    # it (docs/protocol.md): a watcher that stayed connected must hold its own team's last acked
    # position, and that of every team it holds, after the final tick (not latency samples: load.py).
    watchers = [w for o in outs for w in o.get("watchers", [])]
    field_lost = sum(
        1
        for w in watchers
        if w["stayed"]
        for team, at in team_last.items()
        if (str(team) in w["seen"] or str(team) == str(w.get("team"))) and w["seen"].get(str(team), 0.0) < at - 1e-6
    )
    tick_teams = [n for w in watchers for n in w.get("teams_per_tick", [])]
    rare_lat, chat_lat, rare_lost, rare_leaked = rare_seen(stayed, rare_acked)
    pos_lat = percentiles(merge([v["pos_hist"] for v in viewers]))
    sockets = meta["connected"]
    result = {
        "run": run,
        **{k: meta[k] for k in ("variant", "devices", "viewers", "period", "duration", "warmup", "servers", "asgi")},
        **{
            k: meta[k]
            for k in ("scenario", "server_cpus", "generator_cpus", "load_average_before", "load_average_after")
        },
        "daphne_connect_timeout_s": float(os.environ.get("BENCH_CONNECT_TIMEOUT", "5")),
        "offered_positions_per_s": meta["devices"] / meta["period"],
        "positions_sent": sent["position"],
        "positions_acked": acked["position"],
        "positions_per_s_sustained": round(sustained, 1),
        "positions_per_s_worst_10s": round(min(windows), 1) if windows else 0,
        "positions_rows_of_acked": rows,
        "positions_rows_of_run": rows_run,
        "ack_latency_ms": percentiles(merge([o["ack_hist"] for o in outs])),
        "position_latency_ms": pos_lat,
        "note_alert_latency_ms": percentiles(hist_of(rare_lat)),
        "chat_latency_ms": percentiles(hist_of(chat_lat)),
        "rare_sent": {k: sent[k] for k in ("note", "alert", "chat")},
        "rare_acked": {k: acked[k] for k in ("note", "alert", "chat")},
        "lost": {
            "acked_not_stored": (len(pos_seqs) - rows) + (len(rare_acked) - events_found),
            "positions_not_seen": pos_lost,
            "notes_alerts_chat_not_seen": rare_lost,
            "field_tick_positions_not_seen": field_lost,
        },
        # Messages a viewer received that its role may not see (a partner given team chat): never any.
        "notes_alerts_chat_seen_by_wrong_role": rare_leaked,
        "field_watchers": len(watchers),
        "field_watchers_stayed": sum(w["stayed"] for w in watchers),
        "field_ticks_per_watcher": round(sum(w["ticks"] for w in watchers) / max(1, len(watchers)), 1),
        "field_tick_mb": round(sum(o.get("field_tick_bytes", 0) for o in outs) / 1e6, 1),
        "field_tick_frames": sum(o.get("field_ticks", 0) for o in outs),
        "field_tick_age_ms": percentiles(merge([o["field_age_hist"] for o in outs if "field_age_hist" in o])),
        "field_tick_teams_max": max(tick_teams, default=0),
        "field_tick_teams_mean": round(sum(tick_teams) / max(1, len(tick_teams)), 1),
        "errors": errors,
        "unanswered": sum(o["unanswered"] for o in outs),
        "connect_failures": sum(o["connect_failures"] for o in outs),
        "device_disconnects": sum(o["device_disconnects"] for o in outs),
        "viewers_stayed": len(stayed),
        "order_violations": sum(v["order_violations"] for v in viewers) + sum(w["order_violations"] for w in watchers),
        "global_out_of_order": sum(v["global_out_of_order"] for v in viewers),
        "resyncs": sum(v["resyncs"] for v in viewers),
        "viewer_frames": sum(v["frames"] for v in viewers),
        "viewer_mb": round(sum(v["bytes"] for v in viewers) / 1e6, 1),
        "device_event_mb": round(sum(o["device_event_bytes"] for o in outs) / 1e6, 1),
        "sockets": sockets,
        "server_cpu_percent": round(meta["cpu"] * 100, 1),
        "worker_cpu_percent": round(meta["worker_cpu"] * 100, 1),
        "generator_cpu_percent": round(meta["gen_cpu"] * 100, 1),
        "machine_cpu_percent": round(meta["machine_cpu"] * 100, 1),
        "server_rss_mb": {
            "base": round(meta["rss_base"] / 2**20, 1),
            "idle": round(meta["rss_idle"] / 2**20, 1),
            "load": round(meta["rss_load"] / 2**20, 1),
            "peak": round(meta["rss_peak"] / 2**20, 1),
        },
        "rss_per_idle_socket_kb": round((meta["rss_idle"] - meta["rss_base"]) / max(1, sockets) / 1024, 1),
        "rss_per_socket_under_load_kb": round((meta["rss_load"] - meta["rss_base"]) / max(1, sockets) / 1024, 1),
        "server_alive": meta["alive"],
    }
    result["lost_total"] = sum(result["lost"].values())
    print(row(result), flush=True)
    age = result["field_tick_age_ms"]
    print(
        f"   field ticks: {result['field_tick_frames']} frames, {result['field_tick_mb']:g} MB to devices; "
        f"{result['field_watchers_stayed']}/{result['field_watchers']} watchers, "
        f"{result['field_ticks_per_watcher']:g} ticks each, teams per tick mean/max "
        f"{result['field_tick_teams_mean']:g}/{result['field_tick_teams_max']}, "
        f"age in a tick p50/p99 {fmt(age, ('p50', 'p99'))} ms; "
        f"lost {result['lost']}; seen by a role that may not see it {rare_leaked}; "
        f"connect failures {result['connect_failures']}; "
        f"worker CPU {result['worker_cpu_percent']:g} %",
        flush=True,
    )
    return result


# --- output -------------------------------------------------------------------------------------


HEADER = (
    "| variant | server | devices | viewers | offered/s | acked/s | worst 10 s | pos p50/p95/p99/max ms "
    "| note+alert p50/p99 ms | lost | order | server CPU % | generators CPU % | machine CPU % | RSS MB "
    "| KB/idle socket | load avg |"
)
RULE = "|" + "---|" * 17


def fmt(p: dict, keys=("p50", "p95", "p99", "max")) -> str:
    return "/".join("-" if p.get(k) is None else str(p[k]) for k in keys)


CITY = " (city)"


def row(r: dict) -> str:
    return (
        f"| {r['variant']}{CITY if r.get('scenario') == 'city' else ''} | {r['servers']} {r['asgi']} "
        f"| {r['devices']} | {r['viewers']} "
        f"| {r['offered_positions_per_s']:g} "
        f"| {r['positions_per_s_sustained']:g} | {r['positions_per_s_worst_10s']:g} "
        f"| {fmt(r['position_latency_ms'])} | {fmt(r['note_alert_latency_ms'], ('p50', 'p99'))} "
        f"| {r['lost_total']} | {r['order_violations']} | {r['server_cpu_percent']:g} "
        f"| {r['generator_cpu_percent']:g} | {r['machine_cpu_percent']:g} "
        f"| {r['server_rss_mb']['load']:g} | {r['rss_per_idle_socket_kb']:g} "
        f"| {r.get('load_average_before', '?').split()[0]} |"
    )


def ratios(results: list[dict]) -> list[dict]:
    """ours/naive for sustained positions/s and p99 at the same load (same devices, viewers, servers)."""
    out = []
    for ours in results:
        if ours["variant"] != "batched":
            continue
        for naive in results:
            keys = ("devices", "viewers", "servers", "period", "asgi", "scenario")
            same = all(naive.get(k) == ours.get(k) for k in keys)
            if naive["variant"] == "naive" and same:
                p99o, p99n = ours["position_latency_ms"]["p99"], naive["position_latency_ms"]["p99"]
                out.append(
                    {
                        "devices": ours["devices"],
                        "viewers": ours["viewers"],
                        "servers": ours["servers"],
                        "asgi": ours["asgi"],
                        "positions_per_s": round(
                            ours["positions_per_s_sustained"] / max(0.1, naive["positions_per_s_sustained"]), 2
                        ),
                        "p99": round(p99o / p99n, 3) if p99o is not None and p99n else None,
                    }
                )
    return out


def best_under_1s(results: list[dict], variant: str, *, asgi: str = "daphne") -> dict | None:
    """The highest sustained positions/s of `variant` on one `asgi` process at p99 < 1 s with nothing lost."""
    ok = [
        r
        for r in results
        if r["variant"] == variant
        and r["servers"] == 1
        and r["asgi"] == asgi
        and r["position_latency_ms"]["p99"] is not None
        and r["position_latency_ms"]["p99"] < 1000
        and r["lost_total"] == 0
    ]
    return max(ok, key=lambda r: r["positions_per_s_sustained"], default=None)


def limited(results: list[dict], variant: str, asgi: str, best: dict) -> bool:
    """Whether `variant` also ran at more devices than its best and missed there: the best is its limit."""
    return any(
        r["variant"] == variant and r["asgi"] == asgi and r["servers"] == 1 and r["devices"] > best["devices"]
        for r in results
    )


def report(results: list[dict], name: str, meta: dict) -> None:
    print("\n" + HEADER + "\n" + RULE)
    for r in results:
        print(row(r))
    rs = ratios(results)
    for r in rs:
        print(
            f"ours/naive at {r['devices']} devices, {r['viewers']} viewers, {r['servers']} {r['asgi']}: "
            f"positions/s x{r['positions_per_s']}, p99 x{r['p99']}"
        )
    capacity = {}  # "variant/asgi" -> the best run on one process at p99 < 1 s with 0 lost
    for asgi in sorted({r["asgi"] for r in results}):
        for variant in ("batched", "naive"):
            if not any(r["variant"] == variant and r["asgi"] == asgi for r in results):
                continue
            best = best_under_1s(results, variant, asgi=asgi)
            capacity[f"{variant}/{asgi}"] = best and {
                "devices": best["devices"],
                "viewers": best["viewers"],
                "positions_per_s": best["positions_per_s_sustained"],
            }
            if best:
                print(
                    f"{variant}: best sustained at p99 < 1 s and 0 lost, one {asgi}: "
                    f"{best['positions_per_s_sustained']:g} positions/s ({best['devices']} devices, "
                    f"{best['viewers']} viewers)"
                )
            else:
                print(f"{variant}: no run on one {asgi} reached p99 < 1 s with 0 lost")
        ours, naive = capacity.get(f"batched/{asgi}"), capacity.get(f"naive/{asgi}")
        if ours and naive and all(limited(results, v, asgi, c) for v, c in (("batched", ours), ("naive", naive))):
            print(
                f"capacity ratio ours/naive on one {asgi} (each at its own p99 < 1 s): "
                f"x{ours['positions_per_s'] / naive['positions_per_s']:.1f}"
            )
        elif ours and naive:
            print(f"capacity ratio on one {asgi}: not bracketed (a variant held every load tried)")
    path = RESULTS / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps({"meta": meta, "results": results, "ratios": rs, "capacity": capacity}, indent=1))
    (RESULTS / f"{name}-latest.json").write_text(path.read_text())
    print(f"written {path.relative_to(ROOT)}")


def plot(results: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (lat, cpu) = plt.subplots(1, 2, figsize=(12, 4.5))
    series: dict[tuple, list] = {}
    for r in results:
        if r["servers"] == 1 and r["duration"] < 200 and "+" not in r["variant"]:
            series.setdefault((r["variant"], r["asgi"], r["viewers"]), []).append(r)
    for (variant, asgi, viewers), rs in sorted(series.items()):
        rs.sort(key=lambda r: r["devices"])
        xs = [r["devices"] for r in rs]
        style = "--" if variant == "naive" else (":" if asgi == "uvicorn" else "-")
        lat.plot(
            xs,
            [r["position_latency_ms"]["p99"] or float("nan") for r in rs],
            style,
            marker="o",
            label=f"{variant} p99, {viewers} viewers, {asgi}",
        )
        cpu.plot(
            xs, [r["server_cpu_percent"] for r in rs], style, marker="o", label=f"{variant}, {viewers} viewers, {asgi}"
        )
    lat.axhline(1000, color="red", linewidth=0.8)
    lat.set(xscale="log", yscale="log", xlabel="devices (1 position / 5 s)", ylabel="device→viewer p99 (ms)")
    cpu.set(xscale="log", xlabel="devices (1 position / 5 s)", ylabel="server CPU (% of one core)")
    lat.legend(fontsize=7)
    cpu.legend(fontsize=7)
    fig.suptitle("Närvaro bench: latency and server CPU against devices")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def machine() -> dict:
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), "?")
    return {"nproc": os.cpu_count(), "cpu": model, "memory_gb": round(psutil.virtual_memory().total / 2**30, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="make bench: a few minutes")
    mode.add_argument(
        "--full", action="store_true", help="make bench-full: the sweep, uvicorn, two processes, the hold, plot"
    )
    parser.add_argument("--devices", default="1000", help="comma-separated device counts")
    parser.add_argument("--viewers", default="10", help="comma-separated viewer counts")
    parser.add_argument("--period", type=float, default=5.0, help="seconds between positions of one device")
    parser.add_argument("--duration", type=int, default=60, help="seconds of load per run")
    parser.add_argument("--warmup", type=int, default=10, help="seconds at the start not measured")
    parser.add_argument("--variants", default="batched,naive")
    parser.add_argument("--servers", default="1", help="comma-separated server process counts (1,2)")
    parser.add_argument("--rare", type=float, default=1.0, help="notes+alerts+chat per second, all devices")
    parser.add_argument(
        "--profile",
        nargs="?",
        const="all",
        choices=["all", "gil"],
        help="py-spy the first server process (raw stacks in results/); gil: only the thread holding the GIL",
    )
    parser.add_argument("--name", default=None)
    parser.add_argument("--asgi", choices=["daphne", "uvicorn"], default="daphne", help="the ASGI server to run")
    parser.add_argument(
        "--city-rare",
        type=float,
        default=0.5,
        help="notes+alerts+chat per second in the city (125 teams: a note every ~8 min per team)",
    )
    parser.add_argument(
        "--scenario", choices=["town", "city"], default="town", help="everyone in one town, or a big city's districts"
    )
    parser.add_argument(
        "--connect-rate", type=float, default=CONNECTS_PER_S, help="new sockets per second over all generators"
    )
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)

    # (variant, devices, viewers, servers, duration, ASGI server, scenario)
    plan: list[tuple[str, int, int, int, int, str, str]] = []
    if args.quick:
        # The 250-device targets against naive, everyone in one town; the big city on a Friday;
        # the two-process point.
        name, d = "quick", 45
        plan = [("batched", 250, 10, 1, d, args.asgi, "town"), ("naive", 250, 10, 1, d, args.asgi, "town")]
        plan += [("batched", 500, 20, 1, d, args.asgi, "city"), ("batched", 500, 10, 2, d, args.asgi, "town")]
    elif args.full:
        name = "full"
        for viewers in (1, 10, 100):
            for devices in (250, 1000, 2500, 5000, 10000):
                for variant in ("batched", "naive"):
                    plan.append((variant, devices, viewers, 1, 60, "daphne", "town"))
        # Is Daphne the limit? The same app under uvicorn, then both scaled out to two processes,
        # then the 5-minute target hold on two uvicorn processes (the cheapest server per socket).
        plan += [("batched", devices, 10, 1, 60, "uvicorn", "town") for devices in (1000, 2500, 5000)]
        plan += [("batched", 5000, 100, 2, 60, "daphne", "town"), ("batched", 5000, 100, 2, 60, "uvicorn", "town")]
        plan += [("batched", 500, 20, 1, 60, "daphne", "city")]
        plan += [("batched", 5000, 100, 1, 300, "daphne", "town"), ("batched", 5000, 100, 2, 300, "uvicorn", "town")]
    else:
        name = args.name or "custom"
        for servers in map(int, args.servers.split(",")):
            for viewers in map(int, args.viewers.split(",")):
                for devices in map(int, args.devices.split(",")):
                    for variant in args.variants.split(","):
                        plan.append((variant, devices, viewers, servers, args.duration, args.asgi, args.scenario))

    database_prepare()
    pop = population(max(p[1] for p in plan), max(p[2] for p in plan), max(p[2] // 2 for p in plan))
    meta = {
        "machine": machine(),
        "period": args.period,
        "warmup": args.warmup,
        "rare_per_s": args.rare,
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "argv": sys.argv[1:],
    }
    print(f"machine: {meta['machine']}")
    results: list[dict] = []
    collapsed: set[tuple] = set()  # (variant, viewers, servers, asgi) past p99 10 s: skip bigger
    for variant, devices, viewers, servers, duration, asgi, scenario in plan:
        if (variant, viewers, servers, asgi) in collapsed and duration < 200:
            print(f"-- skip {variant} {devices} devices / {viewers} viewers: collapsed at a smaller load")
            continue
        try:
            r = run_once(
                pop,
                variant=variant,
                devices=devices,
                viewers=viewers,
                period=args.period,
                duration=duration,
                warmup=args.warmup,
                servers=servers,
                rare_per_s=args.rare if scenario == "town" else args.city_rare,
                profile=args.profile,
                connect_rate=args.connect_rate,
                asgi=asgi,
                scenario=scenario,
            )
        except Exception as error:  # noqa: BLE001 - one failed run must not lose the others' figures
            print(f"!! run failed: {error!r}", flush=True)
            continue
        results.append(r)
        p99 = r["position_latency_ms"]["p99"]
        if p99 is None or p99 > 10_000:
            collapsed.add((variant, viewers, servers, asgi))
    report(results, name, meta)
    if len({r["devices"] for r in results}) > 1:
        plot(results, RESULTS / f"{name}-latest.png")
        print(f"plot: {(RESULTS / f'{name}-latest.png').relative_to(ROOT)}")


if __name__ == "__main__":
    main()
