"""``python -m bench`` (or ``python bench/run.py``): every raysweep benchmark section in one run.

Each section runs in its own process (clean peak-memory figures, no shared state) and every figure is
a ratio against a reference measured in the same run. Prints a table and writes ``bench/results.json``
atomically. About 8-10 minutes on 2 CPU cores with the packaged MiniLM and the local GoEmotions data.

    python -m bench [--data-dir ../shared/data] [--quick] [--sections train,quality,trial,eval]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import data_dir  # noqa: E402

RESULTS = ROOT / "bench" / "results.json"


def section(module: str, args: list[str], timeout: float) -> dict[str, Any]:
    """Run ``python -m bench.<module> ... --out FILE`` and return its JSON (or the error)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.json"
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", f"bench.{module}", *args, "--out", str(out)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if proc.returncode != 0 or not out.is_file():
            return {"error": f"exit {proc.returncode}: {proc.stderr.strip().splitlines()[-5:]}"}
        result = json.loads(out.read_text())
        result["section_s"] = time.perf_counter() - t0
        return result


def eval_section(data: str, timeout: float, sample: int) -> dict[str, Any]:
    """bench/eval_throughput.py's figures, parsed from its output."""
    t0 = time.perf_counter()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    proc = subprocess.run(
        [sys.executable, "bench/eval_throughput.py", "--data-dir", data, "--sample", str(sample)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    text = proc.stdout
    out: dict[str, Any] = {"section_s": time.perf_counter() - t0, "stdout": text.strip().splitlines()}
    patterns = {
        "embed_texts_per_s": r"fp32, max_length \d+\): (\d+) texts/s",
        "full_embed_s": r"all \d+ texts: ~(\d+) s",
        "metric_s_45k": r"metric step at \d+: ~(\d+) s",
        "metric_vs_embed_45k": r"metric step at \d+: .*ratio ([\d.]+)",
        "metric_vs_embed_test_split": r"test split .*ratio ([\d.]+)",
    }
    for key, pattern in patterns.items():
        m = re.search(pattern, text)
        out[key] = float(m.group(1)) if m else None
    if proc.returncode != 0:
        out["error"] = proc.stderr.strip().splitlines()[-3:]
    return out


def rows(r: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(figure, value, target, met) rows for the table."""
    out: list[tuple[str, str, str, str]] = []

    def add(name: str, value: float | None, fmt: str, target: str = "", ok: bool | None = None) -> None:
        shown = "n/a" if value is None else format(value, fmt)
        out.append((name, shown, target, "" if ok is None else ("yes" if ok else "NO")))

    t = r.get("train", {}).get("step", {})
    if t:
        ra, sps = t["ratios"], t["samples_per_s"]
        add("plain fp32 (SDPA) samples/s [reference]", sps["plain_fp32_sdpa"], ".1f")
        add("plain bf16 eager samples/s", sps["plain_bf16_eager"], ".1f")
        add("raysweep worker step samples/s (bf16 eager)", sps["worker_auto"], ".1f")
        add("worker step / plain loop (bf16, same batches, one forward)", ra["worker_vs_plain_same_precision"], ".3f")
        v = ra["worker_vs_plain_with_vsp_pass"]
        add("worker step / plain loop with the same clean VSP pass", v, ".3f", ">= 0.95", v >= 0.95)
        add("plain step with the clean VSP pass / without", ra["vsp_pass_cost_plain"], ".3f")
        v = ra["worker_fp32_vs_plain_fp32"]
        add("worker step / plain loop (fp32)", v, ".3f", ">= 0.95", v >= 0.95)
        v = ra["length_groups_vs_padded_worker"]
        add(f"worker step, {t['length_chunks']} length groups / padded batch", v, ".2f", "> 1.2", v > 1.2)
        add("step time λ=1 precomputed (with its clean pass) / λ=0", ra["vsp_precomputed_cost_vs_lam0"], ".3f")
        add("step time λ=1 recomputed / λ=0", ra["vsp_recompute_cost_vs_lam0"], ".3f")
        v = ra["bf16_eager_vs_fp32_plain"]
        add("bf16 autocast + eager attn / fp32 plain", v, ".2f", ">= 1.8", v >= 1.8)
        add("bf16 autocast + SDPA / fp32 plain", ra["bf16_sdpa_vs_fp32_plain"], ".2f")
        v = ra["worker_bf16_vs_fp32_plain"]
        add("raysweep worker (bf16) / fp32 plain loop", v, ".2f", ">= 1.8", v >= 1.8)
        add("fused / foreach AdamW, whole step", ra["fused_vs_foreach_adamw_step"], ".3f")
        add("fused / foreach AdamW, optimizer step only", ra["fused_vs_foreach_adamw_optimizer_only"], ".2f")
        ph = t["phases_s_per_step"]["plain_bf16_eager"]
        total = sum(ph.values())
        add("bf16 step share: forward+loss", ph["forward"] / total, ".0%")
        add("bf16 step share: backward", ph["backward"] / total, ".0%")
        add("bf16 step share: optimizer (fused)", ph["optimizer"] / total, ".0%")
    q = r.get("train", {}).get("quality")
    if q:
        add(f"dev P@1 untrained ({q['dev_rows']} dev rows)", q["untrained_dev_p_at_1"], ".3f")
        for prec in ("fp32", "bf16"):
            vals = ", ".join(f"{x:.3f}" for x in q["dev_p_at_1"][prec])
            out.append((f"dev P@1 after {q['steps']} steps, {prec} (seeds {q['seeds']})", vals, "", ""))
        add("dev P@1 bf16 - fp32 (mean)", q["bf16_minus_fp32"], "+.3f", "|d| <= seed spread", q["within_seed_noise"])
        add("seed spread (max range over seeds)", q["seed_spread"], ".3f")
    tr = r.get("trial", {})
    d = tr.get("data")
    if d:
        add(f"prepare cold: tokenise ({d['train_rows']}+{d['dev_rows']} rows), s", d["cold_tokenise_s"], ".2f")
        add("prepare cold: frozen targets, s", d["cold_frozen_targets_s"], ".2f")
        add("frozen targets, full 36,308 train rows (extrap.), s", d["full_train_frozen_targets_s_extrapolated"], ".0f")
        add("prepare again, same process (memory+disk cache), s", d["second_prepare_in_memory_s"], ".2f")
        add("prepare again, fresh tokenise cache (disk hit), s", d["second_prepare_from_disk_s"], ".2f")
        add("second prepare / cold prepare", d["second_vs_cold"], ".3f", "cache hit", d["second_vs_cold"] < 0.2)
        add("share(): one ray.put for all trials, s", d["share_put_s"], ".3f")
    tu = tr.get("tune")
    if tu:
        add(
            "Tune trivial trainable: start + teardown, s [reference]",
            tu["trivial"]["start_s"] + tu["trivial"]["teardown_s"],
            ".2f",
        )
        for key, v in tu.items():
            if key == "trivial":
                continue
            add(f"trial start -> first step, s ({key})", v["startup_s"], ".2f")
            add(f"trial teardown, s ({key})", v["teardown_s"], ".2f")
            s = v["startup_plus_teardown_s"]
            add(f"start + teardown, s ({key})", s, ".2f", "<= 5 s", s <= 5)
        first = next(v for k, v in tu.items() if k != "trivial")
        add("  of which controller + worker group start, s", first["trial_entry_to_worker_entry_s"], ".2f")
        add("  of which worker: model load + setup, s", first["worker_entry_to_first_step_s"], ".2f")
        add("checkpoint report (90 MB weights + optimizer), s", first["checkpoint_report_s"][0], ".2f")
        add("worker peak RSS, MB (1 worker, bf16)", first["worker_peak_rss_mb"], ".0f")
    dd = tr.get("ddp")
    if dd:
        add("in-process worker step samples/s (2 threads)", dd["in_process_samples_per_s"], ".1f")
        add("Ray Train 1 worker samples/s (2 threads)", dd["workers_1"]["samples_per_s"], ".1f")
        v = dd["ray_train_1w_vs_in_process"]
        add("Ray Train 1 worker / in-process step", v, ".3f", ">= 0.95", v >= 0.95)
        add("Ray Train 2 workers (gloo, 1 thread each) samples/s", dd["workers_2"]["samples_per_s"], ".1f")
        add("DDP 2 workers / 1 worker (same 2 cores)", dd["ddp_2w_vs_1w"], ".3f")
        for key, label in (("in_process_cpu", "in-process"), ("workers_1", "1 worker"), ("workers_2", "2 workers")):
            cpu = dd[key] if key == "in_process_cpu" else dd[key]["cpu"]
            add(f"  cores used by others during {label} run (contention)", cpu["other_cores"], ".2f")
        add("worker peak RSS, MB (2 workers)", max(dd["workers_2"]["worker_peak_rss_mb"]), ".0f")
    if "driver_peak_rss_mb_before_in_process_step" in tr:
        add("driver peak RSS, MB (prepare + share + Tune)", tr["driver_peak_rss_mb_before_in_process_step"], ".0f")
    e = r.get("eval")
    if e:
        add("embedding texts/s (MiniLM fp32, eval)", e.get("embed_texts_per_s"), ".0f")
        add("embed all 45,446 texts (extrap.), s", e.get("full_embed_s"), ".0f")
        add("metric step at 45,446 (extrap.), s", e.get("metric_s_45k"), ".0f")
        add("metric time / embedding time, 45k", e.get("metric_vs_embed_45k"), ".2f")
        add("metric time / embedding time, test split", e.get("metric_vs_embed_test_split"), ".2f")
    return out


def table(r: dict[str, Any]) -> str:
    data = [("figure", "value", "target", "met"), *rows(r)]
    widths = [max(len(row[i]) for row in data) for i in range(4)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in data]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=None)
    p.add_argument("--sections", default="train,quality,trial,eval")
    p.add_argument("--quick", action="store_true", help="fewer steps everywhere (a smoke run, ~4 min)")
    p.add_argument("--out", default=str(RESULTS))
    a = p.parse_args(argv)
    data = data_dir(a.data_dir)
    wanted = set(a.sections.split(","))
    t0 = time.perf_counter()
    result: dict[str, Any] = {"started": time.strftime("%Y-%m-%dT%H:%M:%S"), "cpus": os.cpu_count()}
    if wanted & {"train", "quality"}:
        args = ["--data-dir", data]
        args += ["--rounds", "2", "--steps", "2"] if a.quick else ["--rounds", "4", "--steps", "5"]
        if "quality" in wanted:
            args += ["--quality", "--quality-steps", "10" if a.quick else "40"]
        result["train"] = section("train_step", args, timeout=600)
    if "trial" in wanted:
        args = ["--data-dir", data]
        if a.quick:
            args += ["--healths", "default,0.1", "--trial-steps", "3", "--ddp-steps", "6"]
        result["trial"] = section("trial_overhead", args, timeout=600)
    if "eval" in wanted:
        result["eval"] = eval_section(data, timeout=300, sample=256 if a.quick else 512)
    result["wall_s"] = time.perf_counter() - t0
    previous = Path(a.out)
    if wanted != {"train", "quality", "trial", "eval"} and previous.is_file():  # a partial rerun keeps the rest
        result = {**json.loads(previous.read_text()), **{k: v for k, v in result.items() if k != "started"}}
    from raysweep import atomic

    atomic.write_text(a.out, json.dumps(result, indent=1, sort_keys=True, default=float))
    print(table(result))
    errors = {k: v["error"] for k, v in result.items() if isinstance(v, dict) and "error" in v}
    for k, v in errors.items():
        print(f"section {k} failed: {v}", file=sys.stderr)
    print(f"\nwrote {a.out} in {result['wall_s']:.0f} s")
    return result


if __name__ == "__main__":
    main()
