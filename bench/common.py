"""What the benchmarks share: production settings on a scratch database, and gunicorn on loopback."""

import argparse
import contextlib
import http.client
import multiprocessing
import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def configure(database_url: str, **env: str) -> None:
    """Production settings (HTTPS redirect off on loopback) on `database_url`, migrated, in this process."""
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.prod",
            "DATABASE_URL": database_url,
            "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY") or secrets.token_urlsafe(50),
            "DJANGO_DEBUG": "0",
            "DJANGO_SECURE_SSL_REDIRECT": "0",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_LOG_LEVEL": "WARNING",
            "MPESA_ENV": os.environ.get("MPESA_ENV", "sandbox"),
            **env,
        }
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    # As the deployed build does: production settings serve static files from the collected manifest.
    call_command("collectstatic", interactive=False, verbosity=0)


@contextlib.contextmanager
def gunicorn(port: int):
    """gunicorn with 2 workers x 4 threads, as deployed; yields its base URL once /healthz answers."""
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", "2", "--threads", "4", "--worker-class", "gthread", "--log-level", "warning"],
        cwd=ROOT,
        env=os.environ.copy(),
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                if requests.get(f"{base}/healthz", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=10)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


# ---------------------------------------------------------------------------------------------------------------
# Load and what it costs: keep-alive clients on http.client (a light client leaves the CPUs to the server), and the
# CPU time that gunicorn, PostgreSQL and the clients spent per request, read from /proc. Those figures carry over
# between machines better than latencies do: 2 CPUs serve at most 2,000 / (CPU ms per request) requests a second.

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _process_cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime and stime


def _processes(matches) -> dict[int, float]:
    """CPU seconds so far of every process whose command line `matches`."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                command = cmdline.read().replace(b"\0", b" ").decode(errors="replace")
            if matches(command):
                found[int(entry)] = _process_cpu_seconds(int(entry))
        except OSError:  # the process ended meanwhile
            continue
    return found


class CpuMeter:
    """CPU time between start() and stop() of the gunicorn serving `port`, of the PostgreSQL backends connected to
    this benchmark's database (their process titles name it), and of this process's finished children (the load
    generator's pool)."""

    def __init__(self, port: int):
        from django.conf import settings

        self.port = port
        self.database = settings.DATABASES["default"]["NAME"]

    def _snapshot(self) -> tuple[dict[int, float], dict[int, float], float]:
        bind = f"127.0.0.1:{self.port}"
        backend = f" {self.database} "
        gunicorn_processes = _processes(lambda command: "gunicorn" in command and bind in command)
        postgres_processes = _processes(lambda command: command.startswith("postgres:") and backend in command)
        times = os.times()
        return gunicorn_processes, postgres_processes, times.children_user + times.children_system

    def start(self) -> None:
        self.before = self._snapshot()

    def stop(self, requests_served: int) -> dict[str, float]:
        """CPU milliseconds per request for gunicorn, PostgreSQL and the clients."""
        after = self._snapshot()

        def spent(kind: int) -> float:
            return sum(seconds - self.before[kind].get(pid, 0.0) for pid, seconds in after[kind].items())

        per_request = 1000 / max(requests_served, 1)
        return {
            "gunicorn_cpu_ms": spent(0) * per_request,
            "postgres_cpu_ms": spent(1) * per_request,
            "clients_cpu_ms": (after[2] - self.before[2]) * per_request,
        }


def _cycling_client(args: tuple[int, list[str], dict, float]) -> tuple[list[float], int]:
    """One client: keep-alive GETs one after another until the deadline, the paths of its list in turn (from the
    first, round again). Latencies in ms, and failures."""
    port, paths, headers, deadline = args
    latencies, errors, sent = [], 0, 0
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    while time.time() < deadline:
        path = paths[sent % len(paths)]
        sent += 1
        started = time.perf_counter()
        try:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            ok = response.status == 200
        except (OSError, http.client.HTTPException):
            ok = False
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        if ok:
            latencies.append((time.perf_counter() - started) * 1000)
        else:
            errors += 1
    conn.close()
    return latencies, errors


def load(port: int, path: str, *, clients: int, seconds: float, headers: dict | None = None) -> dict:
    """`clients` concurrent keep-alive clients on `path` for `seconds`: p50, p95, requests/s, failures, and the
    CPU milliseconds per request that gunicorn, PostgreSQL and the clients spent."""
    headers = headers or {}
    _cycling_client((port, [path], headers, time.time() + 2))  # warm both workers' connections and caches
    deadline = time.time() + seconds
    return _measured(port, _cycling_client, [(port, [path], headers, deadline)] * clients, path, seconds)


def load_cycle(port: int, paths: list[str], *, clients: int, seconds: float, headers: dict | None = None) -> dict:
    """load() over a list of paths, so that a page is asked with different parameters from request to request
    (dates that change, so that each search is computed). Client i sends paths[i], paths[i + clients], ... in
    turn: no two clients send the same path, and a list longer than the requests sent repeats none."""
    headers = headers or {}
    _cycling_client((port, [paths[-1]], headers, time.time() + 2))  # warm both workers' connections and caches
    deadline = time.time() + seconds
    client_args = [(port, paths[i::clients] or paths, headers, deadline) for i in range(clients)]
    return _measured(port, _cycling_client, client_args, paths[0], seconds)


def load_in_turns(
    port: int, plan: dict[str, tuple[list[str], dict]], *, clients: int, seconds: float, turns: int
) -> dict[str, dict]:
    """Each page of `plan` (name: (paths, headers)) under load_cycle()'s load, in `turns` slices of seconds/turns
    taken in turn (/healthz, page 1, page 2, ..., /healthz, page 1, ...), each page's figures summed over its
    slices. On a shared machine whose speed drifts from minute to minute, this puts a page and /healthz in the same
    minutes; one after the other, a page's ratio moved by up to 30% between runs of the same code. Client i's paths
    are split into `turns` parts, one a turn, so no path is sent twice while the list lasts."""
    slice_seconds = seconds / turns
    for paths, headers in plan.values():  # warm both workers' connections and caches
        _cycling_client((port, [paths[-1]], headers, time.time() + 1))
    slices: dict[str, list[dict]] = {name: [] for name in plan}
    for turn in range(turns):
        for name, (paths, headers) in plan.items():
            deadline = time.time() + slice_seconds
            client_args = []
            for i in range(clients):
                own = paths[i::clients] or paths
                part = own[turn * len(own) // turns : (turn + 1) * len(own) // turns] or own
                client_args.append((port, part, headers, deadline))
            slices[name].append(_measured(port, _cycling_client, client_args, name, slice_seconds, raw=True))
    return {name: _summed(parts, seconds) for name, parts in slices.items()}


def _summed(parts: list[dict], seconds: float) -> dict:
    latencies = [latency for part in parts for latency in part["latencies"]]
    requests = len(latencies)
    cpu = {key: sum(part[key] * part["requests"] for part in parts) / requests for key in CPU_KEYS}
    return {
        "requests": requests,
        "errors": sum(part["errors"] for part in parts),
        "rps": requests / seconds,
        "p50_ms": percentile(latencies, 0.50),
        "p95_ms": percentile(latencies, 0.95),
        **cpu,
    }


CPU_KEYS = ("gunicorn_cpu_ms", "postgres_cpu_ms", "clients_cpu_ms")


def _measured(port: int, client, client_args: list, label: str, seconds: float, *, raw: bool = False) -> dict:
    """One load: the figures of the requests it served (with `raw`, their latencies too, for load_in_turns)."""
    meter = CpuMeter(port)
    meter.start()
    with multiprocessing.Pool(len(client_args)) as pool:
        results = pool.map(client, client_args)
    latencies = [latency for result in results for latency in result[0]]
    if not latencies:
        sys.exit(f"no successful request to {label}")
    return {
        "requests": len(latencies),
        "errors": sum(result[1] for result in results),
        "rps": len(latencies) / seconds,
        "p50_ms": percentile(latencies, 0.50),
        "p95_ms": percentile(latencies, 0.95),
        **meter.stop(len(latencies)),
        **({"latencies": latencies} if raw else {}),
    }


def cpu_line(figures: dict) -> str:
    """The CPU cost of one request, and the throughput it allows on this machine's CPUs."""
    total = figures["gunicorn_cpu_ms"] + figures["postgres_cpu_ms"] + figures["clients_cpu_ms"]
    ceiling = (os.cpu_count() or 1) * 1000 / total if total else 0
    return (
        f"CPU per request: gunicorn {figures['gunicorn_cpu_ms']:.1f} ms, "
        f"PostgreSQL {figures['postgres_cpu_ms']:.1f} ms, "
        f"clients {figures['clients_cpu_ms']:.1f} ms (at most {ceiling:.0f} req/s on {os.cpu_count()} CPUs)"
    )


# ---------------------------------------------------------------------------------------------------------------
# What every bench prints: each page beside /healthz from the same run on the same gunicorn. Absolute figures on a
# shared machine move with whatever else it is doing; the ratio of one page to /healthz carries across machines.

BASELINE = "/healthz"


def bench_arguments(description: str, **defaults) -> argparse.ArgumentParser:
    """The options every bench takes: the scratch database, the clients and seconds of load, --json."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--clients", type=int, default=defaults.get("clients", 8))
    parser.add_argument("--seconds", type=float, default=defaults.get("seconds", 20))
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    parser.add_argument(
        "--turns",
        type=int,
        default=defaults.get("turns", 1),
        help="measure /healthz and the pages in this many slices taken in turn (load_in_turns); 1: one after the other",
    )
    return parser


def require_postgres(database_url: str) -> None:
    if not database_url.startswith("postgres"):
        sys.exit("Set DATABASE_URL (or --database-url) to a scratch PostgreSQL database.")


def cpu_ms(figures: dict) -> float:
    """Server CPU of one request: gunicorn and PostgreSQL (the load generator's own CPU left out)."""
    return figures["gunicorn_cpu_ms"] + figures["postgres_cpu_ms"]


def ratio_lines(figures: dict[str, dict], *, targets: dict[str, float] | None = None) -> list[str]:
    """One line a page: requests/s and server CPU per request, each as a ratio to /healthz of the same run
    (`figures` must hold BASELINE), with the page's target ratio of requests/s where one is set."""
    targets = targets or {}
    baseline = figures[BASELINE]
    lines = [f"{'page':<28} {'req/s':>7} {'ratio':>6} {'CPU ms':>7} {'CPU ratio':>9} {'queries':>7}  target"]
    for name, f in figures.items():
        rps_ratio = f["rps"] / baseline["rps"] if baseline["rps"] else 0.0
        cpu_ratio = cpu_ms(baseline) / cpu_ms(f) if cpu_ms(f) else 0.0
        target = targets.get(name)
        verdict = ""
        if target is not None:
            # This bench's clients are Python and spend CPU on each request beside the server, which lifts every
            # requests/s ratio; a load generator that costs nothing (wrk) measures about the CPU ratio instead.
            reached = "reached" if cpu_ratio >= target else "reached by requests/s only"
            verdict = f">= {target:.2f} {reached if rps_ratio >= target else 'NOT reached'}"
        lines.append(
            f"{name:<28} {f['rps']:>7.0f} {rps_ratio:>6.3f} {cpu_ms(f):>7.1f} {cpu_ratio:>9.3f} "
            f"{f.get('queries', ''):>7}  {verdict}"
        )
    lines.append(
        "ratio: requests/s of the page over requests/s of /healthz; CPU ratio: /healthz's server CPU per request "
        "(gunicorn + PostgreSQL) over the page's, about what a load generator that costs nothing measures "
        "(docs/benchmarks.md, Measured with wrk)."
    )
    return lines
