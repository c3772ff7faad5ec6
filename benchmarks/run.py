#!/usr/bin/env python3
"""Customer returns, end to end: Odoo core vs OCA rma vs returns_management.

    python3 benchmarks/run.py --quick   # N=20, all paths
    python3 benchmarks/run.py           # warm paths N=20,100,400; click paths 20,100
    python3 benchmarks/run.py --clicks --sizes 20          # the click paths only
    python3 benchmarks/run.py --sizes 20 --paths click_rm --profile

Every path runs on its own fresh database (a clone of a template), in its own
Odoo process. The click paths (click_*) replay what the web client sends for
each click (webclient.py, clicks.py); the others call the ORM on one warm
cursor. See benchmarks/README.md for what each path does and how to read the
output (benchmarks/results/latest.md and latest.json).
"""

import argparse
import ast
import concurrent.futures
import datetime
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_DIR = os.path.dirname(BENCH_DIR)
WORKER = os.path.join(BENCH_DIR, "worker.py")
CLICK_PATHS = [
    "click_core_so",
    "click_core_reversal",
    "click_oca",
    "click_rm",
    "click_rm_auto",
    "click_rm_flow",
]
ALL_PATHS = CLICK_PATHS + [
    "core_so",
    "core_reversal",
    "core_batch",
    "oca_single",
    "oca_batch",
    "rm_single",
    "rm_batch",
    "rm_auto_single",
    "rm_auto_batch",
]
STEPS = ["create", "approve", "receive", "credit"]
PATH_LABELS = {
    "click_core_so": "(a1) core by hand: return wizard + SO credit note",
    "click_core_reversal": "(a2) core by hand: return wizard + invoice reversal",
    "click_oca": "(b) OCA rma_sale, one by one",
    "click_rm": "(c) returns_management, one by one, escalated to a manager",
    "click_rm_auto": "(e) returns_management, one by one, approved by policy",
    "click_rm_flow": "(g) returns_management, one by one, automatic by policy",
    "core_so": "(a1) core: return wizard + SO credit note",
    "core_reversal": "(a2) core: return wizard + invoice reversal",
    "core_batch": "(a3) core by hand in batch (floor)",
    "oca_single": "(b) OCA rma_sale, one by one",
    "oca_batch": "(b) OCA rma_sale, batch",
    "rm_single": "(c) returns_management, one by one",
    "rm_batch": "(d) returns_management, batch",
    "rm_auto_single": "(e) returns_management, approved by policy, one by one",
    "rm_auto_batch": "(f) returns_management, approved by policy, batch",
}
LAYER_OF_PATH = {
    "click_core_so": "core",
    "click_core_reversal": "core",
    "click_oca": "oca",
    "click_rm": "rm",
    "click_rm_auto": "rm",
    "click_rm_flow": "rm",
    "core_so": "core",
    "core_reversal": "core",
    "core_batch": "core",
    "oca_single": "oca",
    "oca_batch": "oca",
    "rm_single": "rm",
    "rm_batch": "rm",
    "rm_auto_single": "rm",
    "rm_auto_batch": "rm",
}
BASE_MODULES = ["sale_stock", "stock_account"]
LAYER_MODULES = {"core": [], "rm": ["returns_management"], "oca": ["rma_sale"]}
OCA_PACKAGES = ["odoo-addon-rma==18.0.*", "odoo-addon-rma-sale==18.0.*"]
# Reference figures of the issue (2 cores, Odoo 18 CE): per return, all steps.
REFERENCE = {
    "core_so": {"queries": 430, "ms": "610"},
    "core_reversal": {"queries": 455, "ms": "-"},
    "oca_single": {"queries": 419, "ms": "620-670"},
    "oca_batch": {"queries": 60, "ms": "110", "n": 400},
}
# Bump to invalidate every cached template (change of setup/seed semantics).
SETUP_VERSION = "1"
DB_PREFIX = "rm_bench_"

_clone_lock = threading.Lock()


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# --- environment ----------------------------------------------------


def psql(sql, db="postgres"):
    return subprocess.run(
        ["psql", "-X", "-q", "-At", "-d", db, "-c", sql],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def db_exists(name):
    return psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'") == "1"


def drop_db(name, data_dir):
    subprocess.run(
        ["dropdb", "--if-exists", "--force", name], check=True, capture_output=True
    )
    shutil.rmtree(os.path.join(data_dir, "filestore", name), ignore_errors=True)


def clone_db(template, name, data_dir):
    drop_db(name, data_dir)
    with (
        _clone_lock
    ):  # CREATE DATABASE ... TEMPLATE refuses concurrent users of the template
        subprocess.run(
            ["createdb", "-T", template, name], check=True, capture_output=True
        )
    src = os.path.join(data_dir, "filestore", template)
    if os.path.isdir(src):
        shutil.copytree(src, os.path.join(data_dir, "filestore", name))


def rename_db(old, new, data_dir):
    psql(f'ALTER DATABASE "{old}" RENAME TO "{new}"')
    src = os.path.join(data_dir, "filestore", old)
    if os.path.isdir(src):
        os.rename(src, os.path.join(data_dir, "filestore", new))


def machine_info():
    info = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "nproc": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
    }
    try:
        with open("/proc/meminfo") as fh:
            kb = int(re.search(r"MemTotal:\s+(\d+)", fh.read()).group(1))
        info["ram_gib"] = round(kb / 1024 / 1024, 1)
        with open("/proc/cpuinfo") as fh:
            m = re.search(r"model name\s*:\s*(.+)", fh.read())
        info["cpu"] = m.group(1).strip() if m else "?"
    except OSError:
        pass
    info["postgresql"] = psql("SHOW server_version")
    out = subprocess.run(
        [sys.executable, "-c", "import odoo.release as r; print(r.version)"],
        capture_output=True,
        text=True,
        cwd=tempfile.gettempdir(),
    )
    info["odoo"] = out.stdout.strip() or "?"
    git = subprocess.run(
        ["git", "-C", REPO_DIR, "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "-C", REPO_DIR, "status", "--porcelain", "--", "returns_management"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    info["returns_management_commit"] = git + ("+uncommitted changes" if dirty else "")
    return info


def loadavg():
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def ensure_oca(target):
    """Install OCA rma + rma_sale 18.0 wheels into `target` (never site-packages)."""
    addons = os.path.join(target, "odoo", "addons")
    if not all(os.path.isdir(os.path.join(addons, m)) for m in ("rma", "rma_sale")):
        log(f"installing {' '.join(OCA_PACKAGES)} into {target} (--no-deps)")
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--no-deps",
                "--target",
                target,
            ]
            + OCA_PACKAGES,
            check=True,
        )
    if os.path.exists(os.path.join(target, "odoo", "__init__.py")):
        raise SystemExit(
            f"{target}/odoo/__init__.py exists: it would shadow Odoo; remove {target}"
        )
    versions = {}
    for module in ("rma", "rma_sale"):
        with open(os.path.join(addons, module, "__manifest__.py")) as fh:
            manifest = eval(fh.read(), {})  # noqa: S307 - a manifest is a dict literal
        if not manifest["version"].startswith("18.0."):
            raise SystemExit(
                f"{module} {manifest['version']} is not an 18.0 release; "
                f"remove {target}"
            )
        extra = [
            d
            for d in manifest.get("depends", [])
            if d not in ("stock_account", "sale_stock", "rma")
        ]
        if extra or manifest.get("external_dependencies"):
            raise SystemExit(
                f"{module} needs {extra} / "
                f"{manifest.get('external_dependencies')}: not handled"
            )
        versions[module] = manifest["version"]
    return addons, versions


# --- templates ------------------------------------------------------


def _hash(*parts):
    h = hashlib.sha1()
    for part in parts:
        h.update(str(part).encode())
    return h.hexdigest()[:10]


def _tree_hash(path):
    h = hashlib.sha1()
    for root, dirs, files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith((".pyc", ".pyo")):
                continue
            full = os.path.join(root, name)
            h.update(os.path.relpath(full, path).encode())
            with open(full, "rb") as fh:
                h.update(fh.read())
    return h.hexdigest()[:10]


def _seed_source_hash():
    """Hash of the seeding code, insensitive to formatting and comments."""
    with open(WORKER) as fh:
        text = fh.read()
    start, end = text.index("# --- seeding"), text.index("# --- measurement")
    return _hash(ast.dump(ast.parse(text[start:end])))


class Setup:
    def __init__(self, args, info):
        self.args = args
        self.info = info
        self.data_dir = args.data_dir
        self.addons = {"core": REPO_DIR, "rm": REPO_DIR, "oca": REPO_DIR}
        self.timings = {}

    def addons_path(self, layer):
        return self.addons[layer]

    def odoo_install(self, db, modules, layer):
        cmd = [
            sys.executable,
            "-m",
            "odoo",
            "--config=/dev/null",
            f"--addons-path={self.addons_path(layer)}",
            f"--data-dir={self.data_dir}",
            "-d",
            db,
            "-i",
            ",".join(modules),
            "--without-demo=all",
            "--stop-after-init",
            "--log-level=warn",
        ]
        res = subprocess.run(
            cmd, capture_output=True, text=True, cwd=tempfile.gettempdir()
        )
        errors = [
            l
            for l in res.stderr.splitlines() + res.stdout.splitlines()
            if " ERROR " in l or " CRITICAL " in l
        ]
        if res.returncode or errors:
            raise SystemExit(
                f"installing {modules} on {db} failed:\n"
                + (res.stderr or res.stdout)[-4000:]
            )

    def _cached(self, kind, key, build):
        """Template `rm_bench_tpl_<kind>_<key>`, built by `build(tmp_db)` if missing."""
        name = f"{DB_PREFIX}tpl_{kind}_{key}"
        if self.args.rebuild and db_exists(name):
            drop_db(name, self.data_dir)
        if db_exists(name):
            return name, 0.0
        # drop stale templates of the same kind
        stale = psql(
            "SELECT datname FROM pg_database "
            f"WHERE datname LIKE '{DB_PREFIX}tpl_{kind}_%'"
        ).split()
        for old in stale:
            if old != name:
                drop_db(old, self.data_dir)
        tmp = f"{DB_PREFIX}building_{kind}_{key}"
        drop_db(tmp, self.data_dir)
        t0 = time.perf_counter()
        try:
            build(tmp)
        except BaseException:
            drop_db(tmp, self.data_dir)
            raise
        rename_db(tmp, name, self.data_dir)
        return name, time.perf_counter() - t0

    def base(self):
        key = _hash(SETUP_VERSION, self.info["odoo"], BASE_MODULES)

        def build(db):
            log(
                f"building base template ({', '.join(BASE_MODULES)}, "
                "generic chart of accounts)"
            )
            self.odoo_install(db, BASE_MODULES, "core")

        name, secs = self._cached("base", key, build)
        if secs:
            self.timings["template base"] = round(secs, 1)
        return name, key

    def layer(self, layer, base_name, base_key):
        if layer == "core":
            return base_name, base_key
        if layer == "rm":
            key = _hash(
                base_key, _tree_hash(os.path.join(REPO_DIR, "returns_management"))
            )
        else:
            key = _hash(base_key, self.info.get("oca_versions"))

        def build(db):
            log(f"building {layer} template ({', '.join(LAYER_MODULES[layer])})")
            clone_db(base_name, db, self.data_dir)
            self.odoo_install(db, LAYER_MODULES[layer], layer)

        name, secs = self._cached(layer, key, build)
        if secs:
            self.timings[f"template {layer}"] = round(secs, 1)
        return name, key

    def seeded(self, layer, layer_name, layer_key, n):
        key = _hash(layer_key, n, self.args.warmup, _seed_source_hash())
        kind = f"seed_{layer}_{n}"

        def build(db):
            log(f"seeding {n}+{self.args.warmup} sale orders on the {layer} template")
            clone_db(layer_name, db, self.data_dir)
            result = run_worker(
                ["seed", "--db", db, "--n", str(n + self.args.warmup)],
                self,
                layer,
                f"seed_{layer}_{n}",
            )
            if result.get("error"):
                raise SystemExit(f"seeding {db} failed:\n{result.get('traceback')}")

        name, secs = self._cached(kind, key, build)
        if secs:
            self.timings[f"seed {layer} N={n}"] = round(secs, 1)
        return name


def run_worker(extra, setup, layer, tag):
    fd, out = tempfile.mkstemp(prefix=f"rm_bench_{tag}_", suffix=".json")
    os.close(fd)
    cmd = [
        sys.executable,
        WORKER,
        *extra,
        "--addons-path",
        setup.addons_path(layer),
        "--data-dir",
        setup.data_dir,
        "--out",
        out,
    ]
    res = subprocess.run(cmd, capture_output=True, text=True, cwd=tempfile.gettempdir())
    try:
        with open(out) as fh:
            result = json.load(fh)
    except (OSError, ValueError):
        result = {
            "error": f"worker exited {res.returncode}",
            "traceback": res.stderr[-4000:],
        }
    finally:
        if os.path.exists(out):
            os.unlink(out)
    return result


def measure(setup, path, n, seeded_db):
    layer = LAYER_OF_PATH[path]
    db = f"{DB_PREFIX}{path}_{n}"
    clone_db(seeded_db, db, setup.data_dir)
    args = setup.args
    extra = [
        "measure",
        "--db",
        db,
        "--path",
        path,
        "--n",
        str(n),
        "--warmup",
        str(args.warmup),
        "--step-end",
        args.step_end,
    ]
    if args.profile:
        extra += ["--profile", "--top", str(args.top)]
    load_before = loadavg()
    t0 = time.perf_counter()
    result = run_worker(extra, setup, layer, f"{path}_{n}")
    result["process_s"] = round(time.perf_counter() - t0, 1)
    result["loadavg_before"] = load_before
    result["loadavg_after"] = loadavg()
    result["path"], result["n"] = path, n
    if not args.keep_dbs:
        drop_db(db, setup.data_dir)
    return result


# --- report ---------------------------------------------------------


def _fmt(x, digits=0):
    if x is None:
        return "-"
    return f"{x:,.{digits}f}"


def _ratio(a, b):
    if not a or not b:
        return None
    return a / b


def _md_header(meta):
    oca = meta.get("oca_versions")
    versions = (
        f"Odoo {meta['odoo']}, PostgreSQL {meta['postgresql']}, "
        f"returns_management {meta['returns_management_commit']}"
    )
    if oca:
        versions += f", OCA rma {oca.get('rma')} / rma_sale {oca.get('rma_sale')}"
    lines = [
        "# Returns benchmark: core vs OCA rma vs returns_management",
        "",
        f"Run {meta['date']} on {meta['nproc']} cores, {meta.get('ram_gib', '?')} GiB "
        f"RAM ({meta.get('cpu', '?')}), {versions}.",
        "",
        f"Command: `{meta['command']}` — sizes {meta['sizes']}"
        + (
            f" (click paths at {meta['click_sizes']})"
            if meta.get("click_sizes")
            else ""
        )
        + ", warm-up "
        f"{meta['warmup']} return(s) per path (not measured), step end "
        f"`{meta['step_end']}`, {meta['jobs']} measurement process(es) at a time, "
        f"total wall time {meta['wall_s']:.0f} s (templates/seeding "
        f"{meta['setup_s']:.0f} s). Load average at start {meta['loadavg_start']}, "
        f"at end {meta['loadavg_end']}.",
    ]
    if meta.get("profile"):
        lines += [
            "",
            "**Profiling was on: wall times include the profiler's stack walks; "
            "query counts are exact.**",
        ]
    return lines


def _queries(x):
    x = round(float(x), 1)
    return _fmt(x, 0 if x.is_integer() else 1)


def _md_main_table(results):
    lines = [
        "",
        "Per return, per step: `wall ms / SQL queries`. `cpu ms` = CPU time of the "
        "Odoo process (not PostgreSQL's), less sensitive to other load on the "
        "machine; `sql ms` = time spent waiting for query results (PostgreSQL, as "
        "seen by the client).",
        "",
        "| path | N | create | approve | receive | credit note + post "
        "| **total ms** | **total queries** | cpu ms | sql ms | checks |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|",
    ]
    for r in results:
        if r["path"] in CLICK_PATHS:
            continue
        label = PATH_LABELS[r["path"]]
        if r.get("error"):
            lines.append(
                f"| {label} | {r['n']} | error: {r['error'][:80]} | | | | | | | | ✗ |"
            )
            continue
        steps = r["steps"]
        cells = [
            f"{_fmt(steps[s]['ms_per_return'])} / "
            f"{_queries(steps[s]['queries_per_return'])}"
            for s in STEPS
        ]
        total = r["total"]
        lines.append(
            f"| {label} | {r['n']} | "
            + " | ".join(cells)
            + f" | **{_fmt(total['ms_per_return'])}**"
            f" | **{_fmt(total['queries_per_return'], 1)}**"
            f" | {_fmt(total['cpu_ms_per_return'])}"
            f" | {_fmt(total.get('sql_ms_per_return'))}"
            f" | {'✓' if r['ok'] else '✗'} |"
        )
    return lines


RATIOS = [
    ("(c)/(a1)", "rm_single", "core_so"),
    ("(c)/(a2)", "rm_single", "core_reversal"),
    ("(c)/(b)", "rm_single", "oca_single"),
    ("(d)/(a1)", "rm_batch", "core_so"),
    ("(d)/(a2)", "rm_batch", "core_reversal"),
    ("(d)/(b batch)", "rm_batch", "oca_batch"),
    ("(d)/(a3)", "rm_batch", "core_batch"),
    ("(b batch)/(a3)", "oca_batch", "core_batch"),
    ("(e)/(c)", "rm_auto_single", "rm_single"),
    ("(f)/(d)", "rm_auto_batch", "rm_batch"),
]


def _md_ratios(by, sizes):
    lines = [
        "",
        "### Ratios, warm cache (total per return; < 1 means returns_management "
        "is cheaper)",
        "",
        "| ratio | N | wall time | SQL queries | cpu time |",
        "|---|---:|---:|---:|---:|",
    ]
    for n in sizes:
        for label, num, den in RATIOS:
            a, b = by.get((num, n)), by.get((den, n))
            if not a or not b:
                continue
            cols = [
                _fmt(_ratio(a["total"][key], b["total"][key]), 2)
                for key in ("ms_per_return", "queries_per_return", "cpu_ms_per_return")
            ]
            lines.append(f"| {label} | {n} | " + " | ".join(cols) + " |")
    return lines


def _md_reference(by, sizes):
    lines = [
        "",
        "### Against the reference figures (per return, all steps, warm cache)",
        "",
        "| path | N | reference queries | measured queries | reference ms "
        "| measured wall ms | measured cpu ms |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for path, ref in REFERENCE.items():
        for n in sizes:
            r = by.get((path, n))
            if not r or (ref.get("n") and ref["n"] != n):
                continue
            total = r["total"]
            lines.append(
                f"| {PATH_LABELS[path]} | {n} | {ref['queries']} "
                f"| {_fmt(total['queries_per_return'], 1)} | {ref['ms']} "
                f"| {_fmt(total['ms_per_return'])} "
                f"| {_fmt(total['cpu_ms_per_return'])} |"
            )
    return lines


CLICK_RATIOS = [
    ("(c)/(a2) ours / core", "click_rm", "click_core_reversal"),
    ("(c)/(a1) ours / core", "click_rm", "click_core_so"),
    ("(c)/(b) ours / OCA", "click_rm", "click_oca"),
    ("(e)/(a2) ours by policy / core", "click_rm_auto", "click_core_reversal"),
    ("(e)/(b) ours by policy / OCA", "click_rm_auto", "click_oca"),
    ("(g)/(a2) ours, automatic / core", "click_rm_flow", "click_core_reversal"),
    ("(g)/(b) ours, automatic / OCA", "click_rm_flow", "click_oca"),
]
PARTS = ("action", "form", "chatter")


def _md_click_totals(results):
    lines = [
        "",
        "### Whole return, per click path",
        "",
        "Per return: `wall ms / SQL queries` per stage (the clicks of that stage "
        "added up), then the totals.",
        "",
        "| path | N | clicks | requests | create | approve | receive "
        "| credit note + post | **total ms** | **total queries** | cpu ms | sql ms "
        "| checks |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|",
    ]
    for r in results:
        if r["path"] not in CLICK_PATHS:
            continue
        label = PATH_LABELS[r["path"]]
        if r.get("error"):
            lines.append(
                f"| {label} | {r['n']} | error: {r['error'][:80]} "
                "| | | | | | | | | | ✗ |"
            )
            continue
        steps, total = r["steps"], r["total"]
        cells = [
            (
                f"{_fmt(steps[s]['ms_per_return'])} / "
                f"{_queries(steps[s]['queries_per_return'])}"
                if steps[s]["queries_per_return"]
                else "-"
            )
            for s in STEPS
        ]
        lines.append(
            f"| {label} | {r['n']} | {total['clicks']} "
            f"| {_queries(total['requests_per_return'])} | "
            + " | ".join(cells)
            + f" | **{_fmt(total['ms_per_return'])}**"
            f" | **{_fmt(total['queries_per_return'], 1)}**"
            f" | {_fmt(total['cpu_ms_per_return'])}"
            f" | {_fmt(total.get('sql_ms_per_return'))}"
            f" | {'✓' if r['ok'] else '✗'} |"
        )
    return lines


def _md_click_ratios(by, sizes):
    lines = [
        "",
        "### Ratios per click path (whole return; < 1 means returns_management "
        "is cheaper)",
        "",
        "| ratio | N | wall time | SQL queries | cpu time | create + approve "
        "queries | receive queries | credit queries |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]

    def stage_queries(r, stages):
        return sum(r["steps"][s]["queries_per_return"] for s in stages)

    for n in sizes:
        for label, num, den in CLICK_RATIOS:
            a, b = by.get((num, n)), by.get((den, n))
            if not a or not b:
                continue
            cols = [
                _fmt(_ratio(a["total"][key], b["total"][key]), 2)
                for key in ("ms_per_return", "queries_per_return", "cpu_ms_per_return")
            ]
            # core opens its wizard at "create" and creates the receipt at
            # "approve", OCA confirms at "create": only their sum compares
            cols += [
                _fmt(_ratio(stage_queries(a, stages), stage_queries(b, stages)), 2)
                for stages in (("create", "approve"), ("receive",), ("credit",))
            ]
            lines.append(f"| {label} | {n} | " + " | ".join(cols) + " |")
    return lines


def _md_click_detail(results, n):
    lines = [
        "",
        f"### Click by click, N = {n}",
        "",
        "Per return. `queries` splits as action (the button: call_button, and "
        "web_save / onchange / action load where the click has them) + form "
        "(web_read of the form it lands on) + chatter (/mail/thread/data and "
        "/mail/thread/messages).",
        "",
        "| path | stage | click | requests | **queries** | action + form + chatter "
        "| **wall ms** | cpu ms | sql ms |",
        "|---|---|---|---:|---:|---|---:|---:|---:|",
    ]
    for r in results:
        if r["path"] not in CLICK_PATHS or r["n"] != n or r.get("error"):
            continue
        label = PATH_LABELS[r["path"]].split(",")[0]
        for c in r["clicks"]:
            split = " + ".join(
                _queries(c["parts"][p]["queries_per_return"])
                if p in c["parts"]
                else "0"
                for p in PARTS
            )
            lines.append(
                f"| {label} | {c['stage']} | {c['click']} "
                f"| {_queries(c['requests_per_return'])} "
                f"| **{_queries(c['queries_per_return'])}** | {split} "
                f"| **{_fmt(c['ms_per_return'])}** | {_fmt(c['cpu_ms_per_return'])} "
                f"| {_fmt(c['sql_ms_per_return'])} |"
            )
    return lines


def _md_clicks(results, by, meta):
    click_results = [r for r in results if r["path"] in CLICK_PATHS]
    if not click_results:
        return []
    sizes = sorted({r["n"] for r in click_results})
    lines = [
        "",
        "## Per click (what a user waits for)",
        "",
        "Each click of the web client replayed as the browser sends it, as the "
        "admin user (access rules and record rules apply): the button "
        "(`/web/dataset/call_button`, after `web_save` when it is a dialog's "
        "button), then the form it lands on (`web_read` with the form view's "
        "field specification, smart-button counts and x2many lists included), "
        "then its chatter (`/mail/thread/data`: activities, attachments, "
        "followers; `/mail/thread/messages`). Every request is its own "
        "transaction: new cursor, new Environment (empty record cache), COMMIT. "
        "Registry caches (views, access rights, rules) stay warm, as in a "
        "running server. Not replayed: the HTTP layer, `get_views` and action "
        "definitions the browser caches, moving between documents (breadcrumbs, "
        "smart buttons).",
    ]
    lines += _md_click_totals(results)
    lines += _md_click_ratios(by, sizes)
    lines += _md_click_detail(results, max(sizes))
    return lines


BATCH_PATHS = ("core_batch", "rm_batch", "oca_batch")


def _md_batch_floor(by, sizes):
    present = [p for p in BATCH_PATHS if any((p, n) in by for n in sizes)]
    if "rm_batch" not in present or len(present) < 2:
        return []
    lines = [
        "",
        "## Batch floor: N returns in one go",
        "",
        "Per return: `wall ms / SQL queries` (cpu ms in brackets), warm cache, "
        "superuser. (a3) is core's own API used at its cheapest: the N return "
        "wizards created in one call and `_create_return()` on each, one "
        "`button_validate` on all receipts, one reversal wizard on the N invoices, "
        "quantities written on all credit note lines at once, one `action_post`.",
        "",
        "| N | (a3) core batch | (d) returns_management batch "
        "| (b) OCA batch | (d)/(a3) queries | (d)/(a3) wall | (d)/(b) queries "
        "| (d)/(b) wall |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]

    def cell(r):
        if not r:
            return "-"
        t = r["total"]
        return (
            f"{_fmt(t['ms_per_return'])} / {_fmt(t['queries_per_return'], 1)} "
            f"({_fmt(t['cpu_ms_per_return'])})"
        )

    def ratio(a, b, key):
        if not a or not b:
            return "-"
        return _fmt(_ratio(a["total"][key], b["total"][key]), 2)

    for n in sizes:
        core, rm, oca = (by.get((p, n)) for p in BATCH_PATHS)
        if not rm:
            continue
        lines.append(
            f"| {n} | {cell(core)} | {cell(rm)} | {cell(oca)} "
            f"| {ratio(rm, core, 'queries_per_return')} "
            f"| {ratio(rm, core, 'ms_per_return')} "
            f"| {ratio(rm, oca, 'queries_per_return')} "
            f"| {ratio(rm, oca, 'ms_per_return')} |"
        )
    small, large = min(sizes), max(sizes)
    if small != large:
        lines += [
            "",
            f"Flatness, per return at N = {large} / N = {small} (1.00 = flat):",
            "",
            "| path | queries | wall time | cpu time |",
            "|---|---:|---:|---:|",
        ]
        for path in present:
            a, b = by.get((path, large)), by.get((path, small))
            if not a or not b:
                continue
            cols = [
                _fmt(_ratio(a["total"][key], b["total"][key]), 2)
                for key in ("queries_per_return", "ms_per_return", "cpu_ms_per_return")
            ]
            lines.append(f"| {PATH_LABELS[path]} | " + " | ".join(cols) + " |")
    return lines


def _md_checks(results):
    lines = ["", "## Correctness checks", ""]
    for r in results:
        name = f"{r['path']} N={r['n']}"
        if r.get("error"):
            lines.append(f"- **{name}: ERROR** `{r['error']}`")
            continue
        failed = [c for c in r["checks"] if not c["ok"]]
        for c in failed:
            lines.append(f"- **{name}: FAILED** {c['check']}: {c['detail']}")
        if not failed:
            details = "; ".join(c["detail"] for c in r["checks"][1:3])
            lines.append(f"- {name}: all {len(r['checks'])} checks passed ({details})")
    return lines


def _md_profile_step(r, step):
    n = r["n"]
    prof = r["profile"][step]
    queries = prof["queries"] / n
    lines = [
        "",
        f"**{step}** — {_queries(round(queries, 2))} queries per return",
        "",
        "| queries/return | first frame outside the ORM | | queries/return "
        "| innermost returns_management frame |",
        "|---:|---|---|---:|---|",
    ]
    sites, rms = prof["by_site"], prof["by_returns_management_frame"]
    for i in range(max(len(sites), len(rms))):
        site, count = sites[i] if i < len(sites) else ("", 0)
        rm_site, rm_count = rms[i] if i < len(rms) else ("", 0)
        left = f"{_fmt(count / n, 1)} | `{site}`" if site else " | "
        right = f"{_fmt(rm_count / n, 1)} | `{rm_site}`" if rm_site else " | "
        lines.append(f"| {left} | | {right} |")
    by_statement = ", ".join(f"{k} {v / n:.1f}" for k, v in prof["by_statement"][:10])
    lines += ["", f"By statement: {by_statement}"]
    return lines


def _md_profiles(results):
    profiled = [r for r in results if r.get("profile")]
    if not profiled:
        return []
    lines = ["", "## Top query sites (per return)"]
    for r in profiled:
        lines += ["", f"### {PATH_LABELS[r['path']]}, N={r['n']}"]
        for step in r["profile"]:
            lines += _md_profile_step(r, step)
    return lines


def build_markdown(report):
    meta, results = report["meta"], report["results"]
    by = {(r["path"], r["n"]): r for r in results if not r.get("error")}
    lines = _md_header(meta)
    lines += _md_clicks(results, by, meta)
    lines += _md_batch_floor(by, meta["sizes"])
    if any(r["path"] not in CLICK_PATHS for r in results):
        lines += [
            "",
            "## Warm cache (one cursor, superuser, each step ended by "
            f"`{meta['step_end']}`)",
        ]
        lines += _md_main_table(results)
        lines += _md_ratios(by, meta["sizes"])
        lines += _md_reference(by, meta["sizes"])
    lines += _md_checks(results)
    lines += _md_profiles(results)
    lines.append("")
    return "\n".join(lines)


# --- main -----------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="N=20 only")
    parser.add_argument(
        "--sizes", default="20,100,400", help="comma-separated N (default 20,100,400)"
    )
    parser.add_argument(
        "--paths",
        default=None,
        help="comma-separated, default all: " + ",".join(ALL_PATHS),
    )
    parser.add_argument(
        "--clicks",
        action="store_true",
        help="the click paths only (" + ",".join(CLICK_PATHS) + "), at every size",
    )
    parser.add_argument(
        "--click-sizes",
        default=None,
        help="sizes at which the click paths run (default: those of --sizes up "
        "to 100, or the smallest; with --clicks: all of --sizes)",
    )
    parser.add_argument(
        "--out", default=os.path.join(BENCH_DIR, "results"), help="output folder"
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="record the top query sites per step (slows wall time)",
    )
    parser.add_argument(
        "--top",
        type=int,
        default=15,
        help="query sites to keep per step with --profile",
    )
    parser.add_argument(
        "--warmup",
        type=int,
        default=2,
        help="unmeasured returns per path before measuring",
    )
    parser.add_argument(
        "--step-end",
        choices=["precommit", "commit", "flush"],
        default="precommit",
        help="how each step ends: flush + precommit hooks (default), or a real COMMIT "
        "(caches cleared: one request per step), or env.flush_all() only",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=2,
        help="measurement processes at a time (default 2, as many as the "
        "reference machine's cores; 1 = no contention between paths, "
        "cleanest wall times, twice as long)",
    )
    parser.add_argument(
        "--setup-only",
        action="store_true",
        help="build/refresh the template databases and exit",
    )
    parser.add_argument(
        "--rebuild", action="store_true", help="rebuild cached template databases"
    )
    parser.add_argument(
        "--keep-dbs", action="store_true", help="keep each path's database"
    )
    parser.add_argument(
        "--data-dir", default=os.path.join(tempfile.gettempdir(), "rm_bench_data")
    )
    parser.add_argument(
        "--render",
        metavar="JSON",
        help="rebuild the markdown report of a saved latest.json (no measuring)",
    )
    parser.add_argument(
        "--oca-target", default=os.path.join(tempfile.gettempdir(), "oca_rma")
    )
    args = parser.parse_args()
    if args.render:
        with open(args.render) as fh:
            markdown = build_markdown(json.load(fh))
        out = os.path.join(os.path.dirname(os.path.abspath(args.render)), "latest.md")
        with open(out, "w") as fh:
            fh.write(markdown)
        log(f"wrote {out}")
        return 0

    sizes = [20] if args.quick else [int(x) for x in args.sizes.split(",") if x.strip()]
    if args.paths:
        paths = [p.strip() for p in args.paths.split(",") if p.strip()]
    else:
        paths = CLICK_PATHS if args.clicks else ALL_PATHS
    if args.click_sizes:
        click_sizes = [int(x) for x in args.click_sizes.split(",") if x.strip()]
    elif args.clicks:
        click_sizes = sizes
    else:
        click_sizes = [n for n in sizes if n <= 100] or sizes[:1]
    sizes = sorted(set(sizes) | set(click_sizes))
    unknown = set(paths) - set(ALL_PATHS)
    if unknown:
        parser.error(f"unknown paths: {', '.join(sorted(unknown))}")
    paths = [p for p in ALL_PATHS if p in paths]
    os.makedirs(args.out, exist_ok=True)
    os.makedirs(args.data_dir, exist_ok=True)

    t_start = time.perf_counter()
    info = machine_info()
    info["loadavg_start"] = loadavg()
    setup = Setup(args, info)
    layers = sorted({LAYER_OF_PATH[p] for p in paths}, key=["core", "rm", "oca"].index)
    if "oca" in layers:
        oca_addons, info["oca_versions"] = ensure_oca(args.oca_target)
        setup.addons["oca"] = f"{REPO_DIR},{oca_addons}"
    log(
        f"paths {', '.join(paths)}; sizes {sizes}; "
        f"machine {info['nproc']} cores, {info.get('ram_gib')} GiB"
    )

    base_name, base_key = setup.base()
    layer_dbs = {}
    with concurrent.futures.ThreadPoolExecutor(
        max_workers=2
    ) as pool:  # setup is not measured
        futures = {
            layer: pool.submit(setup.layer, layer, base_name, base_key)
            for layer in layers
        }
        for layer, fut in futures.items():
            layer_dbs[layer] = fut.result()
        seed_futures = {
            (layer, n): pool.submit(setup.seeded, layer, *layer_dbs[layer], n)
            for n in sizes
            for layer in layers
        }
        seeded = {k: f.result() for k, f in seed_futures.items()}
    setup_s = time.perf_counter() - t_start
    log(f"templates ready in {setup_s:.0f} s")
    if args.setup_only:
        return 0

    jobs = [
        (path, n)
        for n in sizes
        for path in paths
        if n in click_sizes or path not in CLICK_PATHS
    ]
    # longest first, so that with --jobs 2 every path runs next to another one
    # most of the time and the tail is short
    order = sorted(jobs, key=lambda j: (-j[1], j[0].endswith("_batch"), jobs.index(j)))
    results = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = {
            pool.submit(measure, setup, path, n, seeded[LAYER_OF_PATH[path], n]): (
                path,
                n,
            )
            for path, n in order
        }
        for fut in concurrent.futures.as_completed(futures):
            path, n = futures[fut]
            r = fut.result()
            results[path, n] = r
            if r.get("error"):
                log(f"{path} N={n}: ERROR {r['error']}")
            else:
                log(
                    f"{path} N={n}: {r['total']['ms_per_return']:.0f} ms, "
                    f"{r['total']['queries_per_return']:.1f} queries per return, "
                    f"checks {'ok' if r['ok'] else 'FAILED'} ({r['process_s']} s)"
                )
    info.update(
        {
            "command": "python3 benchmarks/run.py " + " ".join(sys.argv[1:]),
            "sizes": sizes,
            "click_sizes": [
                n for n in click_sizes if any(p in CLICK_PATHS for p in paths)
            ],
            "paths": paths,
            "warmup": args.warmup,
            "step_end": args.step_end,
            "jobs": args.jobs,
            "profile": args.profile,
            "setup_s": round(setup_s, 1),
            "setup_timings_s": setup.timings,
            "wall_s": round(time.perf_counter() - t_start, 1),
            "loadavg_end": loadavg(),
            "reference": REFERENCE,
        }
    )
    report = {"meta": info, "results": [results[j] for j in jobs]}
    with open(os.path.join(args.out, "latest.json"), "w") as fh:
        json.dump(report, fh, indent=1, default=str)
    markdown = build_markdown(report)
    with open(os.path.join(args.out, "latest.md"), "w") as fh:
        fh.write(markdown)
    print(markdown)
    log(
        f"wrote {os.path.join(args.out, 'latest.md')} and latest.json "
        f"in {info['wall_s']:.0f} s"
    )
    failed = [j for j in jobs if results[j].get("error") or not results[j].get("ok")]
    if failed:
        log(f"FAILED: {failed}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
