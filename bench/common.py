"""Shared helpers of bench/micro, bench/overhead and bench/detection (python3 only)."""
import datetime
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.dirname(BENCH_DIR)


def results_path(kind, suffix, words=()):
    """bench/results/<kind>-[<word>-...]<date><suffix>, creating the directory: the words
    (e.g. a mode) and BENCH_TAG keep two runs of one day from overwriting each other."""
    results = os.path.join(BENCH_DIR, "results")
    os.makedirs(results, exist_ok=True)
    tag = "".join(w + "-" for w in (*words, os.environ.get("BENCH_TAG", "")) if w)
    return os.path.join(results, "%s-%s%s%s" % (kind, tag, datetime.date.today().isoformat(), suffix))


def log(*args):
    import time
    print(time.strftime("%H:%M:%S"), *args, file=sys.stderr, flush=True)


def ensure_packages(packages):
    """apt-get installs the Debian packages whose commands are missing (as root)."""
    missing = [pkg for cmd, pkg in packages if shutil.which(cmd) is None]
    if not missing:
        return
    log("bench: installing", " ".join(missing))
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], check=False, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends"] + missing, check=True, env=env,
                   stdout=subprocess.DEVNULL)


def ensure_build(builddir, targets=None):
    """Configures (release, -Dbench=true) and builds `builddir` when needed (`targets`, default: what the
    benchmarks in bench/ run)."""
    builddir = os.path.abspath(builddir)
    if not os.path.exists(os.path.join(builddir, "build.ninja")):
        ensure_packages([("meson", "meson"), ("ninja", "ninja-build")])
        subprocess.run(["meson", "setup", builddir, SOURCE_DIR, "-Dbench=true", "-Dbuildtype=release"], check=True,
                       stdout=subprocess.DEVNULL)
    else:
        subprocess.run(["meson", "configure", builddir, "-Dbench=true"], check=True, stdout=subprocess.DEVNULL)
    # Only what the benchmarks run, so a half-edited file elsewhere does not stop them.
    if targets is None:
        targets = ["preload/libracetrap.so", "preload/libracetrap_report.so", "detector/racetrap"] + [
            "bench/" + t for t in BENCH_TARGETS]
    subprocess.run(["ninja", "-C", builddir] + targets, check=True, stdout=subprocess.DEVNULL)
    return builddir


BENCH_TARGETS = ["micro_perf", "micro_sync", "micro_tick", "lock_heavy", "task_queue", "cpu_spin", "thread_churn"] + [
    "bench_" + p for p in ["racy_ww_counter", "racy_rw_flag", "racy_wrong_lock", "racy_struct_field", "racy_rare",
                           "racy_cold"]]


def preload_path(builddir):
    return os.path.join(builddir, "preload", "libracetrap.so")


def machine_description():
    model = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem_kib = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal"):
                mem_kib = int(line.split()[1])
    return "nproc {}, {}, {:.0f} GiB RAM, Linux {}".format(os.cpu_count(), model, mem_kib / 2**20, platform.release())


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def racetrap_env(builddir, logdir, extra=None):
    """The environment of a watched run, as `racetrap run` sets it up: the preload, the report prefix and
    (unless BENCH_FAST_COPY=0, for a plain LD_PRELOAD run) glibc's rep movsb/stosb thresholds at their
    maximum (detector/copy_tunables.h: an armed data breakpoint slows rep movsb about 16x)."""
    env = dict(os.environ)
    env["LD_PRELOAD"] = preload_path(builddir)
    env["RACETRAP_LOG_PATH"] = os.path.join(logdir, "racetrap")
    if os.environ.get("BENCH_FAST_COPY", "1") != "0" and "GLIBC_TUNABLES" not in os.environ:
        env["GLIBC_TUNABLES"] = ("glibc.cpu.x86_rep_movsb_threshold=0xffffffffffffffff:"
                                 "glibc.cpu.x86_rep_stosb_threshold=0xffffffffffffffff")
    if extra:
        env.update(extra)
    return env


def fresh_logdir():
    return tempfile.mkdtemp(prefix="racetrap-bench-")


def reports_in(logdir):
    """Distinct races reported into `logdir` (the report files' closing counts)."""
    total = 0
    for name in os.listdir(logdir):
        if name.endswith(".raw"):
            continue
        with open(os.path.join(logdir, name), errors="replace") as f:
            total += f.read().count("WARNING: racetrap: data race")
    return total


def make_input(path, megabytes):
    """Deterministic, moderately compressible text: words from a seeded generator."""
    if os.path.exists(path) and os.path.getsize(path) >= megabytes << 20:
        return
    rng = random.Random(5)
    words = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 10))) for _ in range(20000)]
    with open(path + ".tmp", "w") as f:
        written = 0
        while written < megabytes << 20:
            chunk = "\n".join(" ".join(rng.choices(words, k=12)) + " %d" % rng.randint(0, 10**9) for _ in range(20000))
            f.write(chunk + "\n")
            written += len(chunk) + 1
    os.rename(path + ".tmp", path)


# sort reads this many copies of the big input: sorting 32 MiB takes ~0.15 s of CPU,
# where a process's fixed costs (~1 ms under racetrap, measured on their own by
# bench/overhead's fixed-cost table) and the run-to-run spread (+-5% with
# `perf stat -r 25`, native alone) are as large as the 2% a CPU ratio is held to;
# four copies take ~0.75 s, as pigz does on one.
SORT_COPIES = 4


def cpu_bound_programs(big, mid, tmp):
    """(name, argv) of the CPU-bound programs the overhead, peak-RSS and hot-text scripts run:
    big is the compressors' input, mid a quarter of it (xz, pbzip2), tmp sort's temporary folder."""
    mb = lambda path: os.path.getsize(path) >> 20
    return [
        ("pigz -p 2 (%d MiB)" % mb(big), ["pigz", "-p", "2", "-c", big]),
        ("zstd -T2 -9 (%d MiB)" % mb(big), ["zstd", "-q", "-T2", "-9", "-c", big]),
        ("xz -T2 -2 (%d MiB)" % mb(mid), ["xz", "-T2", "-2", "-c", mid]),
        ("sort --parallel=2 (%d x %d MiB)" % (SORT_COPIES, mb(big)),
         ["env", "LC_ALL=C", "sort", "--parallel=2", "-S", "256M", "-T", tmp] + [big] * SORT_COPIES),
        ("pbzip2 -p2 (%d MiB)" % mb(mid), ["pbzip2", "-p2", "-c", mid]),
    ]


def head(path, megabytes, out):
    if not os.path.exists(out):
        with open(path, "rb") as src, open(out, "wb") as dst:
            dst.write(src.read(megabytes << 20))
    return out
