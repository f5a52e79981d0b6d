"""How much time does the server add to a Spark job?

Runs the word count example N times through the API (POST a run, then watch it
until it succeeds) and N times through raw spark-submit with the same Spark,
Java and loopback settings, alternating the two so that machine noise hits both
alike, and reports the median of each and their ratio (goal: <= 1.05).

    make bench                                   # or:
    .venv/bin/python bench/wordcount_overhead.py --rounds 5

Writes the figures to bench/results/wordcount_overhead.json.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import httpx

from sparkjobs.backends import spark_env
from sparkjobs.config import Settings

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "wordcount"
TOKEN = "bench-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "SPARKJOBS_ADMIN_TOKEN": TOKEN,
        "SPARKJOBS_ALLOWED_SOURCE_DIRS": json.dumps([str(EXAMPLE)]),
    }
    cli = Path(sys.executable).parent / "sparkjobs"
    argv = [str(cli), "serve", "--port", str(port), "--data-dir", str(data_dir)]
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the server did not come up within 30 s")


def through_api(api: httpx.Client) -> float:
    """Seconds from the POST that asks for a run to the run's finish, as the server recorded it.

    The client polls gently (4 times a second) so that it does not compete with
    Spark for the CPU; the figure comes from the server's own timestamps, so the
    polling interval does not add to it.
    """
    posted = time.time()
    run = api.post("/api/v1/jobs/wordcount/runs", json={}).raise_for_status().json()
    for _ in range(600):
        got = api.get(f"/api/v1/runs/{run['id']}").raise_for_status().json()
        if got["state"] == "succeeded":
            return datetime.fromisoformat(got["finished_at"]).timestamp() - posted
        if got["state"] in {"failed", "stopped", "timed_out", "lost"}:
            raise SystemExit(f"run {run['id']} ended {got['state']}: {got['reason']}")
        time.sleep(0.25)
    raise SystemExit("run did not finish within 150 s")


def through_spark_submit(settings: Settings, work: Path) -> float:
    home = spark_env.find_spark_home(settings)
    java = spark_env.find_java(settings)
    env = spark_env.spark_submit_env(settings, home, java, {})
    conf = [a for k, v in spark_env.loopback_conf(settings).items() for a in ("--conf", f"{k}={v}")]
    argv = [str(home / "bin" / "spark-submit"), "--master", "local[*]", *conf]
    argv += [str(EXAMPLE / "wordcount.py"), str(EXAMPLE / "sample.txt")]
    began = time.perf_counter()
    subprocess.run(argv, env=env, cwd=work, check=True, capture_output=True)
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    rounds = parser.parse_args().rounds
    with tempfile.TemporaryDirectory() as tmp:
        data_dir, port = Path(tmp) / "data", free_port()
        settings = Settings(data_dir=Path(tmp) / "raw")
        server = start_server(data_dir, port)
        try:
            api = httpx.Client(
                base_url=f"http://127.0.0.1:{port}",
                headers={"Authorization": f"Bearer {TOKEN}"},
                timeout=30,
            )
            job = {
                "name": "wordcount",
                "source": {"type": "path", "path": str(EXAMPLE / "wordcount.py")},
                "args": [str(EXAMPLE / "sample.txt")],
            }
            api.put("/api/v1/jobs/wordcount", json=job).raise_for_status()
            raw: list[float] = []
            served: list[float] = []
            for i in range(rounds):
                raw.append(through_spark_submit(settings, Path(tmp)))
                served.append(through_api(api))
                print(f"round {i + 1}: spark-submit {raw[-1]:.2f} s, API {served[-1]:.2f} s")
        finally:
            server.terminate()
            server.wait(timeout=30)
    result = {
        "rounds": rounds,
        "spark_submit_median_s": round(statistics.median(raw), 3),
        "api_median_s": round(statistics.median(served), 3),
        "ratio": round(statistics.median(served) / statistics.median(raw), 3),
        "spark_submit_s": [round(x, 3) for x in raw],
        "api_s": [round(x, 3) for x in served],
    }
    out = REPO / "bench" / "results" / "wordcount_overhead.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
