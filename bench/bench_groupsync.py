"""Benchmark: group-sync simulation for 10k / 100k / 1M users (a script that prints figures, not a timed test).

    python bench/bench_groupsync.py                 # all three sizes, each in its own process (clean peak memory)
    python bench/bench_groupsync.py --users 100000  # one size
    python bench/bench_groupsync.py --end-to-end    # the whole command against an in-process reference model

The data is synthetic and deterministic (seeded): 10,000 SSO groups mapped many-to-one onto 2,000 Atlan groups,
5 SSO groups per user, so 1M users give 5M IdP memberships and about 5M Atlan memberships. About 10% of users
gain or lose a group, 1% have an email-prefix Atlan username (blocked), 1% are new. Figures: seconds to read each
file, to simulate and to serialise the JSON plan (wall clock, and CPU time of the process), the simulator's CPU
cost per membership (Atlan + IdP memberships), and peak RSS.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ssodiag.diag.groupsync import simulate  # noqa: E402
from ssodiag.diag.groupsync_io import read_atlan, read_idp, read_mappings  # noqa: E402

SSO_GROUPS = 10_000
ATLAN_GROUPS = 2_000
GROUPS_PER_USER = 5
SIZES = (10_000, 100_000, 1_000_000)


def target(sso: int) -> str:
    return f"atlan-{sso % ATLAN_GROUPS}"


def generate(folder: Path, users: int, seed: int = 7) -> int:
    """Write m.csv, a.csv and i.csv; return the number of IdP memberships."""
    rnd = random.Random(seed)
    with (folder / "m.csv").open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(("sso_group", "atlan_group"))
        out.writerows((f"sso-{g}", target(g)) for g in range(SSO_GROUPS))
    memberships = 0
    with (folder / "a.csv").open("w", newline="") as fa, (folder / "i.csv").open("w", newline="") as fi:
        atlan, idp = csv.writer(fa), csv.writer(fi)
        atlan.writerow(("username", "email", "atlan_group"))
        idp.writerow(("username", "email", "sso_group"))
        for n in range(users):
            name, email = f"user{n}@corp.com", f"user{n}@corp.com"
            sso = rnd.sample(range(SSO_GROUPS), GROUPS_PER_USER)
            have = {target(g) for g in sso}
            roll = rnd.random()
            if roll < 0.05:
                have.add(target(rnd.randrange(SSO_GROUPS)))  # a group the IdP no longer grants: remove
            elif roll < 0.10:
                have.discard(target(sso[0]))  # a group the IdP grants but Atlan lacks: add
            atlan_name = f"user{n}" if 0.10 <= roll < 0.11 else name  # email-prefix username: blocked
            if not 0.11 <= roll < 0.12:  # else: a new user, not in Atlan yet
                atlan.writerows((atlan_name, email, g) for g in sorted(have))
            idp.writerows((name, email, f"sso-{g}") for g in sso)
            memberships += len(sso)
    return memberships


def run_one(users: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        memberships = generate(folder, users)
        timings: dict[str, float] = {}
        cpu: dict[str, float] = {}

        def timed(name, func, *args):
            wall, used = time.perf_counter(), time.process_time()
            value = func(*args)
            timings[name], cpu[name] = time.perf_counter() - wall, time.process_time() - used
            return value

        mappings = timed("read_mappings", read_mappings, folder / "m.csv")
        atlan = timed("read_atlan", read_atlan, folder / "a.csv")
        idp = timed("read_idp", read_idp, [folder / "i.csv"])
        plan = timed("simulate", simulate, mappings, atlan, idp)
        size = len(timed("json", lambda: json.dumps(plan.to_dict())))
    atlan_memberships = sum(len(u.groups) for u in atlan.users.values())
    return {
        "users": users, "idp_memberships": memberships, "atlan_memberships": atlan_memberships,
        "mappings": len(mappings.mappings), "changes": len(plan.changes), "blocked": len(plan.blocked),
        "json_bytes": size, **{k: round(v, 2) for k, v in timings.items()},
        **{f"{k}_cpu": round(v, 2) for k, v in cpu.items()},
        "simulate_cpu_us_per_membership": round(cpu["simulate"] / (memberships + atlan_memberships) * 1e6, 3),
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
    }


def reference_model(folder: Path) -> int:
    """The same rules written the plainest way, in this process: each CSV read with the csv module into a dict of
    sets, then per IdP user the mapped Atlan groups wanted against the mapped ones held. Returns the changes."""
    def read(name: str) -> dict[str, set[str]]:
        table: dict[str, set[str]] = {}
        with (folder / name).open(newline="") as fh:
            rows = csv.reader(fh)
            next(rows)
            for key, *_, value in rows:
                table.setdefault(key, set()).add(value)
        return table

    rules, atlan, idp = read("m.csv"), read("a.csv"), read("i.csv")
    mapped = {group for targets in rules.values() for group in targets}
    changes = 0
    for user, sso_groups in idp.items():
        wanted = {group for sso in sso_groups for group in rules.get(sso, ())}
        held = atlan.get(user, set()) & mapped
        changes += len(wanted ^ held)
    return changes


def end_to_end(users: int, repeat: int = 3) -> dict:
    """Best of ``repeat``: `ssodiag groupsync simulate -f json -o plan.json` as a whole process (start-up, reading,
    simulation, redaction, JSON) against the reference model in this process; wall and CPU seconds."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        generate(folder, users)
        command = [sys.executable, "-m", "ssodiag", "groupsync", "simulate", "-m", str(folder / "m.csv"),
                   "-a", str(folder / "a.csv"), "-i", str(folder / "i.csv"), "-f", "json", "-o", str(folder / "p.json")]
        whole, whole_cpu, ref, ref_cpu = [], [], [], []
        for _ in range(repeat):
            before, wall = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
            subprocess.run(command, check=True, capture_output=True)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            whole.append(time.perf_counter() - wall)
            whole_cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
            wall, used = time.perf_counter(), time.process_time()
            changes = reference_model(folder)
            ref.append(time.perf_counter() - wall)
            ref_cpu.append(time.process_time() - used)
    return {"users": users, "changes": changes, "whole_s": min(whole), "whole_cpu_s": min(whole_cpu),
            "reference_s": min(ref), "reference_cpu_s": min(ref_cpu),
            "ratio_cpu": min(whole_cpu) / min(ref_cpu), "ratio_wall": min(whole) / min(ref)}


COLUMNS = ("users", "idp_memberships", "atlan_memberships", "mappings", "changes", "blocked", "read_atlan",
           "read_idp", "simulate", "json", "read_atlan_cpu", "read_idp_cpu", "simulate_cpu",
           "simulate_cpu_us_per_membership", "peak_rss_mib")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, help="one size, in this process (prints one JSON line)")
    parser.add_argument("--end-to-end", action="store_true", help="the whole command against the reference model")
    args = parser.parse_args()
    if args.end_to_end:
        print(f"python {sys.version.split()[0]}; best of 3; CPU = the process's own (steady under load); "
              f"os.getloadavg() at start = {os.getloadavg()[0]:.2f}")
        print("| users | changes | whole command (s) | CPU (s) | reference model (s) | CPU (s) | ratio CPU | ratio wall |")
        print("|---:|---:|---:|---:|---:|---:|---:|---:|")
        for users in (args.users,) if args.users else SIZES:
            r = end_to_end(users)
            print(f"| {users:,} | {r['changes']:,} | {r['whole_s']:.2f} | {r['whole_cpu_s']:.2f} | "
                  f"{r['reference_s']:.2f} | {r['reference_cpu_s']:.2f} | {r['ratio_cpu']:.2f} | "
                  f"{r['ratio_wall']:.2f} |", flush=True)
        return
    if args.users:
        print(json.dumps(run_one(args.users)))
        return
    print(f"python {sys.version.split()[0]}; wall-clock seconds, *_cpu = CPU seconds of this process (steady "
          f"under load from other processes); os.getloadavg() at start = {os.getloadavg()[0]:.2f}")
    print("| " + " | ".join(COLUMNS) + " |")
    print("|" + "---|" * len(COLUMNS))
    for users in SIZES:  # one process per size, so peak RSS is that size's own
        line = subprocess.run([sys.executable, __file__, "--users", str(users)], check=True, capture_output=True,
                              text=True).stdout.strip().splitlines()[-1]
        row = json.loads(line)
        print("| " + " | ".join(str(row[c]) for c in COLUMNS) + " |", flush=True)


if __name__ == "__main__":
    main()
