#!/usr/bin/env bash
# Check stipplr on a CUDA machine and print ONE markdown table at the end (issue 11,
# "Ready for a GPU"). Nothing here needs the internet: the tests, the benchmark, ccvt and
# the training run use files in this checkout and the installed packages only (the
# training photos are scikit-image's bundled ones).
#
#   scripts/gpu_check.sh [--quick] [--full] [--keep DIR]
#
#   (a) tests marked `cuda` (pytest -m cuda; skipped, not failed, without a GPU) and, with
#       --full, a pass/fail count of the whole suite;
#   (b) benchmarks/inference.py --device $DEVICE: images/s at N = 5 000 and 100 000,
#       network batches 1-32, AMP on and off, against the CPU figure at batch 1;
#   (c) ccvt on $DEVICE against ccvt on the CPU (time and quality); "no CUDA backend"
#       when the engine has no `device` option;
#   (d) 200 training steps of $TRAIN_CONFIG (default training/configs/default.toml) with
#       AMP on $DEVICE, in a temporary run folder: steps/s and the loss at start and end.
#
# Environment: DEVICE=cuda (default) | cuda:N | cpu; PYTHON (default: python);
# TRAIN_CONFIG; TRAIN_STEPS (default 200). On a CPU-only machine
# `DEVICE=cpu scripts/gpu_check.sh --quick` runs every part at tiny sizes (ccvt then
# compares its torch-on-CPU path with numpy), so the script itself can be tested there.
# Under 10 minutes on a CUDA machine without --full; logs stay in the work folder printed
# above the table (a temporary folder unless --keep DIR).
set -euo pipefail

QUICK=0
FULL=0
KEEP=""

usage() {
    sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'
}

parse_args() {
    while (($# > 0)); do
        case "$1" in
            --quick) QUICK=1 ;;
            --full) FULL=1 ;;
            --keep)
                KEEP="${2:?--keep needs a folder}"
                shift
                ;;
            -h | --help)
                usage
                exit 0
                ;;
            *)
                echo "gpu_check.sh: error: unknown argument $1 (see --help)" >&2
                exit 2
                ;;
        esac
        shift
    done
}

parse_args "$@"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python}"
DEVICE="${DEVICE:-cuda}"
TRAIN_CONFIG="${TRAIN_CONFIG:-training/configs/default.toml}"
TRAIN_STEPS="${TRAIN_STEPS:-200}"
if [[ -n "$KEEP" ]]; then
    mkdir -p "$KEEP"
    WORK="$(cd "$KEEP" && pwd)"
else
    WORK="$(mktemp -d "${TMPDIR:-/tmp}/gpu_check.XXXXXX")"
fi
ROWS="$WORK/rows.tsv"
: >"$ROWS"
FAILED=0
STARTED=$SECONDS

log() {
    # A progress line on stderr (the table goes to stdout).
    printf '[gpu_check %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2
}

row() {
    # One table row: part, what, result, seconds (tabs and pipes in cells are replaced).
    local cells=("$@") i
    for i in "${!cells[@]}"; do
        cells[i]="${cells[i]//$'\t'/ }"
        cells[i]="${cells[i]//|/\\|}"
    done
    printf '%s\t%s\t%s\t%s\n' "${cells[0]}" "${cells[1]}" "${cells[2]}" "${cells[3]:-}" >>"$ROWS"
}

fail_row() {
    # A failed part: its row says so and names the log; the exit code becomes 1.
    FAILED=1
    row "$1" "$2" "FAILED: $3 (log: $4)" "${5:-}"
}

last_error() {
    # The last line of a log that looks like an error (else its last line), shortened.
    local line
    line="$(grep -E 'Error|error:|Exception|Traceback|Killed|timed out' "$1" | tail -n 1 || true)"
    [[ -n "$line" ]] || line="$(tail -n 1 "$1" 2>/dev/null || true)"
    printf '%s' "${line:0:160}"
}

print_table() {
    # The one table: every row collected, in order.
    local part what result seconds
    echo
    echo "## stipplr GPU check: DEVICE=$DEVICE$([[ $QUICK == 1 ]] && echo ', --quick (tiny sizes)')"
    echo
    echo "| part | what | result | s |"
    echo "|---|---|---|---:|"
    while IFS=$'\t' read -r part what result seconds; do
        echo "| $part | $what | $result | $seconds |"
    done <"$ROWS"
    echo "| total | wall time of this script | $([[ $FAILED == 0 ]] && echo 'all parts ran' || echo 'some parts FAILED') | $((SECONDS - STARTED)) |"
}

check_device() {
    # Torch, the GPU and the machine; a CUDA device asked for but absent stops the check.
    local out rc=0
    out="$("$PYTHON" - "$DEVICE" <<'PY'
import os, sys
import torch
device = sys.argv[1]
gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no CUDA GPU"
cuda = torch.version.cuda or "none"
load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
print(f"torch {torch.__version__} (CUDA {cuda}), {gpu}, {os.cpu_count()} CPU cores, load {load}")
sys.exit(0 if not device.startswith("cuda") or torch.cuda.is_available() else 3)
PY
    )" || rc=$?
    row "machine" "torch, GPU, CPU cores, load average" "$out" ""
    if ((rc == 3)); then
        fail_row "machine" "DEVICE=$DEVICE" "torch sees no CUDA GPU (use DEVICE=cpu to test the script)" "-"
        return 1
    fi
    ((rc == 0))
}

junit_counts() {
    # "P passed, F failed, E errors, S skipped" from a pytest --junitxml file.
    "$PYTHON" - "$1" <<'PY'
import sys
import xml.etree.ElementTree as ET
suites = ET.parse(sys.argv[1]).getroot()
suites = [suites] if suites.tag == "testsuite" else list(suites)
total = {k: sum(int(s.get(k, 0)) for s in suites) for k in ("tests", "failures", "errors", "skipped")}
passed = total["tests"] - total["failures"] - total["errors"] - total["skipped"]
print(f"{passed} passed, {total['failures']} failed, {total['errors']} errors, "
      f"{total['skipped']} skipped")
PY
}

run_pytest() {
    # pytest with a time limit and a junit file; a row with the counts (no tests: says so).
    local label="$1" limit="$2" name="$3" rc=0 start=$SECONDS counts
    shift 3
    timeout "$limit" "$PYTHON" -m pytest -q -rs -p no:cacheprovider \
        --junitxml="$WORK/$name.xml" "$@" >"$WORK/$name.log" 2>&1 || rc=$?
    if [[ ! -s "$WORK/$name.xml" ]]; then
        fail_row "tests" "$label" "no result (exit $rc: $(last_error "$WORK/$name.log"))" \
            "$WORK/$name.log" "$((SECONDS - start))"
        return 0
    fi
    counts="$(junit_counts "$WORK/$name.xml")"
    if ((rc == 0 || rc == 5)); then
        row "tests" "$label" "$counts$( ((rc == 5)) && echo ' (none selected)')" "$((SECONDS - start))"
    else
        fail_row "tests" "$label" "$counts, exit $rc" "$WORK/$name.log" "$((SECONDS - start))"
    fi
}

part_tests() {
    # (a) the tests marked cuda (they skip without CUDA) and, with --full, the whole suite.
    log "tests: pytest -m cuda"
    run_pytest "pytest -m cuda" 300 pytest-cuda -m cuda
    if ((FULL == 1)); then
        log "tests: the whole suite (--full)"
        run_pytest "whole suite (--full)" 3600 pytest-full
    else
        row "tests" "whole suite" "not run (add --full)" ""
    fi
}

part_inference() {
    # (b) benchmarks/inference.py on DEVICE: one row per (device, N, AMP) and the figure.
    local args=(--device "$DEVICE" --json "$WORK/inference.json" --start-repeats 2)
    local rc=0 start=$SECONDS
    ((QUICK == 1)) && args+=(--quick)
    log "inference: benchmarks/inference.py ${args[*]}"
    timeout 480 "$PYTHON" benchmarks/inference.py "${args[@]}" \
        >"$WORK/inference.md" 2>"$WORK/inference.log" || rc=$?
    if ((rc != 0)); then
        fail_row "inference" "benchmarks/inference.py --device $DEVICE" \
            "exit $rc: $(last_error "$WORK/inference.log")" "$WORK/inference.log" "$((SECONDS - start))"
        return 0
    fi
    "$PYTHON" - "$WORK/inference.json" "$((SECONDS - start))" >>"$ROWS" <<'PY'
import json, sys
res, seconds = json.load(open(sys.argv[1])), sys.argv[2]
rows = []
def cell(r, key):
    if "error" in r:
        return r["error"].split(":")[0]
    return f"{r[key]['images_per_s']:.3g}" if key in r else "-"
cpu = {r["n"]: r for r in res.get("network", []) if r["device"] == "cpu" and r["batch"] == 1
       and "error" not in r}
groups = {}
for r in res.get("network", []):
    groups.setdefault((r["device"], r["n"], r["amp"]), []).append(r)
for (device, n, amp), cells in groups.items():
    amp_text = ("AMP on" if amp else "AMP off") if device.startswith("cuda") else "AMP n/a"
    batches = "/".join(str(r["batch"]) for r in cells)
    net = " / ".join(cell(r, "network") for r in cells)
    full = " / ".join(cell(r, "api") for r in cells)
    text = f"img/s network {net}"
    if any("api" in r for r in cells):
        text += f"; with tone + colours {full}"
    ok = [r for r in cells if "error" not in r]
    if device != "cpu" and n in cpu and ok:
        best = max(r["network"]["images_per_s"] for r in ok)
        ref = cpu[n]["network"]["images_per_s"]
        text += f"; CPU batch 1: {ref:.3g} img/s (best {best / ref:.1f}x)"
    rows.append(("inference", f"{device}, N = {n}, {amp_text}, batch {batches}", text))
fig = res.get("figure")
if fig:
    ccvt = next(r for r in fig["rows"] if r["what"].startswith("ccvt"))
    for r in fig["rows"]:
        what = f"speed figure {fig['size']} N = {fig['n']}: {r['what']}, {r['images']} images"
        text = f"{r['images_per_s']:.3g} img/s, {r['s_per_image']:.3g} s/img"
        if r is not ccvt:
            text += f"; {r['ccvt_cpu_over_this']:.1f}x faster than {ccvt['what']}"
        rows.append(("inference", what, text))
for r in res.get("start", []):
    rows.append(("inference", f"process start: {r['what']}", f"{r['seconds']:.2f} s wall"))
mem = res.get("memory")
if mem:
    gpu = "" if mem["cuda_peak_mb"] is None else f", GPU peak {mem['cuda_peak_mb']:.0f} MB"
    rows.append(("inference", f"N = {mem['n']} on coffee.jpg, {mem['device']}",
                 f"peak RSS {mem['peak_rss_mb']:.0f} MB{gpu}; 2nd call {mem['second_s']:.2f} s"))
meta = res["meta"]
rows.append(("inference", "benchmark load average (1/5/15 min)",
             f"{meta['load_start']} at start, {meta['load_end']} at end"))
for i, (part, what, text) in enumerate(rows):
    print("\t".join((part, what, text.replace("|", "\\|"), seconds if i == len(rows) - 1 else "")))
PY
}

part_ccvt() {
    # (c) ccvt on DEVICE against the CPU: seconds and quality on coffee.jpg.
    local rc=0 start=$SECONDS out
    log "ccvt: against cpu (numpy)"
    out="$(timeout 300 "$PYTHON" - "$DEVICE" "$QUICK" 2>"$WORK/ccvt.log" <<'PY'
import sys, time
import numpy as np
from PIL import Image
from stipplr.engines import get_engine, run_engine
from stipplr.images import load_image
from stipplr.metrics import evaluate
from stipplr.tone import Tone, darkness

device, quick = sys.argv[1], sys.argv[2] == "1"
if "device" not in get_engine("ccvt").options():
    print("ccvt: no CUDA backend (the engine has no device option)")
    sys.exit(0)
other = device if device.startswith("cuda") else "torch-cpu"
n, options = (1000, {"iterations": 30}) if quick else (5000, {})
with Image.open("examples/photos/coffee.jpg") as img:
    img = img.convert("RGB").resize((320, 213) if quick else img.size)
dark = darkness(load_image(np.asarray(img)), Tone())
results = {}
for dev in ("cpu", other):
    if dev.startswith("cuda"):  # CUDA context and kernels warmed up outside the timing
        run_engine("ccvt", dark, 200, seed=1, device=dev, iterations=3)
    tick = time.perf_counter()
    xy = run_engine("ccvt", dark, n, seed=1, device=dev, **options).xy
    results[dev] = (time.perf_counter() - tick, evaluate(dark, xy))
(t_cpu, m_cpu), (t_dev, m_dev) = results["cpu"], results[other]
print(f"N = {n}: cpu {t_cpu:.2f} s, {other} {t_dev:.2f} s ({t_cpu / t_dev:.2f}x); "
      f"PSNR {m_cpu['psnr_db']:.2f} / {m_dev['psnr_db']:.2f} dB, capacity CV "
      f"{m_cpu['capacity_cv']:.3f} / {m_dev['capacity_cv']:.3f}, spacing mean "
      f"{m_cpu['spacing_mean']:.3f} / {m_dev['spacing_mean']:.3f}")
PY
    )" || rc=$?
    if ((rc != 0)); then
        fail_row "ccvt" "ccvt on $DEVICE vs cpu" "exit $rc: $(last_error "$WORK/ccvt.log")" \
            "$WORK/ccvt.log" "$((SECONDS - start))"
    elif [[ "$out" == ccvt:* ]]; then
        row "ccvt" "ccvt on $DEVICE vs cpu" "$out" "$((SECONDS - start))"
    else
        local what="ccvt on $DEVICE vs cpu (numpy)"
        [[ "$DEVICE" == cuda* ]] || what="ccvt torch-cpu (stand-in for CUDA) vs cpu (numpy)"
        row "ccvt" "$what, coffee.jpg" "$out" "$((SECONDS - start))"
    fi
}

train_overrides() {
    # The key=value overrides that make TRAIN_CONFIG run TRAIN_STEPS steps in WORK.
    "$PYTHON" - "$TRAIN_CONFIG" "$TRAIN_STEPS" "$QUICK" "$DEVICE" "$WORK" <<'PY'
import os, sys
from training.config import load_config

path, steps, quick, device, work = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1", *sys.argv[4:]
cfg = load_config(path)
data, val, batch = cfg["data"], cfg.get("val", {}), cfg["train"]["batch_size"]
make = data.get("make")
# Loss at start / end: the first / last epoch's mean, over the same items every epoch. A
# dataset made first (lloydnet: about 2 CPU s an item) gets more epochs of fewer items.
epochs = 2 if quick else 8 if make is not None else 4
items = max(1, steps // epochs) * batch
out = [f"run.dir='{work}/run'", f"train.device='{device}'", "train.amp=true",
       f"train.epochs={epochs}", "train.max_minutes=7"]
if quick:
    out.append("train.threads=1")
if make is not None:  # a dataset made first (lloydnet): a small one in WORK
    out += [f"data.dir='{work}/data'", f"data.make.count={items}", "data.make.val_count=4"]
    if "workers" in data:
        out.append(f"data.workers={1 if quick else min(8, os.cpu_count() or 1)}")
    if quick and "cells" in make:
        out += ["data.make.cells=[16, 24]", "data.make.n_range=[100, 600]"]
else:  # items made on the fly (relaxnet)
    out.append(f"data.count={items}")
    if "val_count" in data:
        out.append("data.val_count=4")
    if quick and "size" in data:
        out += ["data.size=48", "data.points=128"]
if "max_items" in val:
    out.append("val.max_items=4")
if quick and "points" in val:
    out.append("val.points=[200, 400]")
print("\n".join(out))
PY
}

part_train() {
    # (d) TRAIN_STEPS steps of TRAIN_CONFIG with AMP on DEVICE; steps/s and loss from log.csv.
    local rc=0 start=$SECONDS overrides steps="$TRAIN_STEPS" limit=540
    ((QUICK == 1)) && steps=8 && limit=240
    if ! overrides="$(TRAIN_STEPS=$steps train_overrides 2>"$WORK/train.log")"; then
        fail_row "training" "$TRAIN_CONFIG" "$(last_error "$WORK/train.log")" "$WORK/train.log" ""
        return 0
    fi
    local args=()
    mapfile -t args <<<"$overrides"
    log "training: $TRAIN_CONFIG ${args[*]}"
    timeout "$limit" "$PYTHON" -m training.run --config "$TRAIN_CONFIG" "${args[@]}" \
        >>"$WORK/train.log" 2>&1 || rc=$?
    local seconds=$((SECONDS - start))
    if ((rc != 0)) || [[ ! -s "$WORK/run/log.csv" ]]; then
        fail_row "training" "$TRAIN_CONFIG, AMP, $DEVICE" \
            "exit $rc: $(last_error "$WORK/train.log")" "$WORK/train.log" "$seconds"
        return 0
    fi
    "$PYTHON" - "$WORK/run/log.csv" "$TRAIN_CONFIG" "$DEVICE" "$seconds" "${args[@]}" >>"$ROWS" <<'PY'
import csv, sys
from pathlib import Path
from stipplr.tomlfile import read_toml
log, config, device, seconds, *overrides = sys.argv[1:]
rows = list(csv.DictReader(open(log)))
over = dict(o.split("=", 1) for o in overrides)
resolved = read_toml(Path(log).with_name("config.toml"))  # the run's own resolved config
data = resolved["data"]
items = data["make"]["count"] if "make" in data else data["count"]
epochs = len(rows)
steps_per_epoch = int(items) // int(resolved["train"]["batch_size"])  # drop_last batches
first, last = float(rows[0]["train_total"]), float(rows[-1]["train_total"])
minutes = float(rows[-1]["minutes"])
trend = "falling" if last < first else "NOT falling"
amp = "AMP" if device.startswith("cuda") else "AMP requested (the loop uses it on CUDA only)"
what = f"{config} ({resolved['model']['arch']}): {steps_per_epoch * epochs} steps in {epochs} epochs, {amp}, {device}"
text = (f"{steps_per_epoch * epochs / (minutes * 60):.2f} steps/s (training + validation loss "
        f"time, {minutes * 60:.0f} s); loss {first:.5g} (epoch 1 mean) -> {last:.5g} "
        f"(epoch {epochs} mean): {trend}")
print("\t".join(("training", what, text, seconds)))
PY
}

main() {
    log "work folder $WORK"
    if check_device; then
        part_tests
        part_inference
        part_ccvt
        part_train
    fi
    echo "logs and details: $WORK (inference tables: $WORK/inference.md)"
    print_table
    return "$FAILED"
}

main
