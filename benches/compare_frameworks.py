"""actbench against PyTorch (eager) and JAX (jit) on the same jobs.

Run through benches/compare_frameworks.sh, which makes the Python environment. Every framework
trains the same multilayer perceptron (relu hidden layers, softmax cross-entropy, Glorot-uniform
weights, zero biases, Adam with Keras's constants: lr 1e-3, beta1 0.9, beta2 0.999, epsilon
1e-7) on the real MNIST from $ACTBENCH_DATA_DIR/mnist (the first 48,000 training images, pixels
/ 255; the last 12,000 held out for validation). A timed epoch is the training batches plus one
forward pass over the validation images, as actbench's `seconds` column counts it; JAX runs
each epoch as one jit-compiled `lax.scan` over the batches. Jobs run one
after the other, never two at once; with --rounds R each job's runs repeat R times in turn and
the table shows medians over the rounds. Each figure is the median of epochs 2..N (epoch 1 holds
JAX's compilation and every framework's warm-up).

With --cnn, the job is the tutorial's convolutional network instead (Conv(32, 3x3) relu ->
MaxPool(2) -> Conv(64, 3x3) relu -> MaxPool(2) -> Flatten -> Dense(64) relu -> Dense(10),
Glorot-uniform kernels, zero biases, the same Adam) on Fashion-MNIST from
$ACTBENCH_DATA_DIR/fashion-mnist, batch 32: actbench on 1 and --threads threads beside PyTorch
on --threads threads and JAX (NHWC `lax.conv_general_dilated`, one jit-compiled step per
batch). --cnn-samples N trains on the first N * 0.8 images and
validates on the next N * 0.2 in all three (default 60,000: 48,000 / 12,000).
"""

import argparse
import csv
import functools
import gzip
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ACTBENCH = os.path.join(ROOT, "target", "release", "actbench")
NETWORKS = [[128, 64], [512, 256], [1024, 1024]]
BATCHES = [32, 256]


def load_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def mnist(root, name="mnist", samples=60000):
    d = os.path.join(root, name)
    x = load_idx(os.path.join(d, "train-images-idx3-ubyte.gz")).reshape(-1, 784)[:samples]
    y = load_idx(os.path.join(d, "train-labels-idx1-ubyte.gz"))[:samples]
    x = x.astype(np.float32) / 255.0
    n = int(len(x) * 0.8)  # Keras's validation_split=0.2, as actbench's --val-split
    return (x[:n], y[:n].astype(np.int32)), (x[n:], y[n:].astype(np.int32))


def actbench_cnn(samples, epochs, threads):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "run")
        cmd = [ACTBENCH, "--model", "cnn", "--dataset", "fashion-mnist", "--activations", "relu",
               "--batch-size", "32", "--epochs", str(epochs), "--threads", str(threads),
               "--train-samples", str(samples), "--quiet", "--out", out]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        rows = list(csv.DictReader(open(os.path.join(out, "epochs.csv"))))
        run = json.load(open(os.path.join(out, "run.json")))
    return median_after_first([float(r["seconds"]) for r in rows]), run


def torch_cnn_times(train, val, epochs, threads):
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(42)
    nn = torch.nn
    model = nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(1600, 64), nn.ReLU(), nn.Linear(64, 10),
    )
    for m in model:
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
    kw = dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-7)
    try:
        opt = torch.optim.Adam(model.parameters(), fused=True, **kw)
    except (RuntimeError, TypeError):
        opt = torch.optim.Adam(model.parameters(), **kw)
    loss_fn = nn.CrossEntropyLoss()
    x = torch.from_numpy(train[0]).reshape(-1, 1, 28, 28)
    y = torch.from_numpy(train[1]).long()
    xv = torch.from_numpy(val[0]).reshape(-1, 1, 28, 28)
    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        perm = torch.randperm(len(x))
        for i in range(0, len(x), 32):
            idx = perm[i : i + 32]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
        with torch.no_grad():
            for i in range(0, len(xv), 64):  # actbench's evaluation chunk
                model(xv[i : i + 64]).argmax(1)
        times.append(time.perf_counter() - start)
    return median_after_first(times), f"torch {torch.__version__}"


def jax_cnn_times(train, val, epochs):
    import jax
    import jax.numpy as jnp
    import optax

    key = jax.random.PRNGKey(42)

    def glorot(key, shape, fan_in, fan_out):
        limit = (6.0 / (fan_in + fan_out)) ** 0.5
        return jax.random.uniform(key, shape, jnp.float32, -limit, limit)

    k = jax.random.split(key, 4)
    # Keras's fans for a k x k convolution: k * k * channels in, k * k * channels out.
    params = [
        (glorot(k[0], (3, 3, 1, 32), 9, 9 * 32), jnp.zeros((32,), jnp.float32)),
        (glorot(k[1], (3, 3, 32, 64), 9 * 32, 9 * 64), jnp.zeros((64,), jnp.float32)),
        (glorot(k[2], (1600, 64), 1600, 64), jnp.zeros((64,), jnp.float32)),
        (glorot(k[3], (64, 10), 64, 10), jnp.zeros((10,), jnp.float32)),
    ]
    opt = optax.adam(1e-3, b1=0.9, b2=0.999, eps=1e-7)
    state = opt.init(params)
    dims = ("NHWC", "HWIO", "NHWC")

    def conv_pool(x, w, b):
        x = jax.lax.conv_general_dilated(x, w, (1, 1), "VALID", dimension_numbers=dims)
        x = jax.nn.relu(x + b)
        return jax.lax.reduce_window(x, -jnp.inf, jax.lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")

    def forward(p, x):
        x = conv_pool(x.reshape(-1, 28, 28, 1), *p[0])
        x = conv_pool(x, *p[1]).reshape(x.shape[0], -1)
        x = jax.nn.relu(x @ p[2][0] + p[2][1])
        return x @ p[3][0] + p[3][1]

    def loss(p, x, y):
        return optax.softmax_cross_entropy_with_integer_labels(forward(p, x), y).mean()

    # One jit-compiled step per batch, the usual training loop: the whole epoch as one
    # `lax.scan` (as for the perceptron) ran 167.5 s/epoch against this form's 20-odd, its
    # convolutions inside XLA's loop far slower than in a step of their own.
    @functools.partial(jax.jit, donate_argnums=(0, 1))
    def step(p, s, x, y):
        g = jax.grad(loss)(p, x, y)
        updates, s = opt.update(g, s, p)
        return optax.apply_updates(p, updates), s

    evaluate = jax.jit(lambda p, x: forward(p, x).argmax(1))
    x, y = jnp.asarray(train[0]), jnp.asarray(train[1])
    xv = jnp.asarray(val[0])

    def run_epoch(perm):
        nonlocal params, state
        for i in range(0, len(perm), 32):
            idx = jnp.asarray(perm[i : i + 32])
            params, state = step(params, state, x[idx], y[idx])
        # In chunks of 64, as PyTorch's and actbench's evaluation (the last one shorter).
        jax.block_until_ready([evaluate(params, xv[i : i + 64]) for i in range(0, len(xv), 64)])

    return time_epochs(epochs, len(train[0]), run_epoch), f"jax {jax.__version__}, optax, devices {jax.devices()}"


def cnn_main(args, data_root):
    if not os.path.isdir(os.path.join(data_root, "fashion-mnist")):
        sys.exit("error: set ACTBENCH_DATA_DIR to a folder holding fashion-mnist/")
    train, val = mnist(data_root, "fashion-mnist", args.cnn_samples)
    print(f"load average at start: {load()} ({os.cpu_count()} cores)", flush=True)
    rounds = []
    for r in range(args.rounds):
        # Interleaved: each framework's epochs see the same stretch of machine load in turn.
        a1, _ = actbench_cnn(args.cnn_samples, args.epochs, 1)
        print(f"actbench 1 thread: {a1:.3f} s/epoch (load {load()})", file=sys.stderr, flush=True)
        t, tv = peer("torch-cnn", args.epochs, args.threads, samples=args.cnn_samples)
        print(f"PyTorch {args.threads} threads: {t:.3f} s/epoch (load {load()})", file=sys.stderr, flush=True)
        a2, run2 = actbench_cnn(args.cnn_samples, args.epochs, args.threads)
        print(f"actbench {args.threads} threads: {a2:.3f} s/epoch (load {load()})", file=sys.stderr, flush=True)
        j, jv = peer("jax-cnn", args.epochs, args.threads, samples=args.cnn_samples)
        print(f"JAX: {j:.3f} s/epoch, round {r + 1} ratio {ratio(a1, a2, t, j):.2f} (load {load()})",
              file=sys.stderr, flush=True)
        rounds.append((a1, a2, t, j))
    a1, a2, t, j, cell = summary(rounds)
    print()
    print(f"Tutorial CNN, Fashion-MNIST, {len(train[0])} training + {len(val[0])} validation "
          f"images, batch 32, relu: seconds per epoch (training + validation pass), median of "
          f"epochs 2..{args.epochs}; ratio = the faster peer's time / actbench's best" + (
              f"; {args.rounds} rounds: medians of the rounds, the ratio the median of the "
              f"rounds' ratios (range)." if args.rounds > 1 else "."))
    print()
    print(f"| actbench, 1 thread | actbench, {args.threads} threads | PyTorch, {args.threads} threads | JAX | ratio |")
    print("| --- | --- | --- | --- | --- |")
    print(f"| {a1:.3f} | {a2:.3f} ({run2['parallelism']['mode']}) | {t:.3f} | {j:.3f} | {cell} |")
    print(tv)
    print(jv)
    print(f"load average at end: {load()}")


def peer(kind, epochs, threads, hidden=(), batch=32, samples=60000):
    """One peer's timing in a fresh Python process: PyTorch's and JAX's thread pools outlive
    their jobs (idle, spinning or asleep), and in this process they would share the cores with
    the actbench runs that follow."""
    cmd = [sys.executable, os.path.abspath(__file__), "--peer", kind, "--epochs", str(epochs),
           "--threads", str(threads), "--peer-hidden", ",".join(map(str, hidden)),
           "--peer-batch", str(batch), "--cnn-samples", str(samples)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    return result["seconds"], result["version"]


def peer_main(args, data_root):
    if args.peer in ("torch-cnn", "jax-cnn"):
        train, val = mnist(data_root, "fashion-mnist", args.cnn_samples)
        if args.peer == "torch-cnn":
            t, v = torch_cnn_times(train, val, args.epochs, args.threads)
        else:
            t, v = jax_cnn_times(train, val, args.epochs)
    else:
        train, val = mnist(data_root)
        hidden = [int(h) for h in args.peer_hidden.split(",")]
        run = torch_times if args.peer == "torch" else jax_times
        extra = (args.threads,) if args.peer == "torch" else ()
        t, v = run(train, val, hidden, args.peer_batch, args.epochs, *extra)
    print(json.dumps({"seconds": t, "version": v}))


def ratio(a1, a2, t, j):
    """The faster peer's time over actbench's best."""
    return min(t, j) / min(a1, a2)


def summary(rounds):
    """Medians of the rounds' (actbench 1 thread, actbench T threads, PyTorch, JAX) times, and
    the ratio cell: the median of the rounds' ratios, with their range when there are several."""
    ratios = [ratio(*r) for r in rounds]
    spread = f" ({min(ratios):.2f} to {max(ratios):.2f})" if len(rounds) > 1 else ""
    return (*(statistics.median(col) for col in zip(*rounds)), f"{statistics.median(ratios):.2f}{spread}")


def time_epochs(epochs, n, run_epoch):
    """JAX's epochs timed: `run_epoch(perm)` on a fresh permutation of the `n` training images
    (seeded), each until its results are ready; the median of epochs 2..N."""
    rng = np.random.default_rng(42)
    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        run_epoch(rng.permutation(n))
        times.append(time.perf_counter() - start)
    return median_after_first(times)


def median_after_first(times):
    return statistics.median(times[1:] if len(times) > 1 else times)


def actbench(hidden, batch, epochs, threads):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "run")
        cmd = [ACTBENCH, "--activations", "relu", "--hidden", ",".join(map(str, hidden)),
               "--batch-size", str(batch), "--epochs", str(epochs), "--threads", str(threads),
               "--quiet", "--out", out]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        rows = list(csv.DictReader(open(os.path.join(out, "epochs.csv"))))
        run = json.load(open(os.path.join(out, "run.json")))
    times = [float(r["seconds"]) for r in rows]
    return median_after_first(times), run


def torch_times(train, val, hidden, batch, epochs, threads):
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(42)
    sizes = [784, *hidden, 10]
    layers = []
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        lin = torch.nn.Linear(a, b)
        torch.nn.init.xavier_uniform_(lin.weight)
        torch.nn.init.zeros_(lin.bias)
        layers.append(lin)
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    kw = dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-7)
    try:
        opt = torch.optim.Adam(model.parameters(), fused=True, **kw)
    except (RuntimeError, TypeError):
        opt = torch.optim.Adam(model.parameters(), **kw)
    loss_fn = torch.nn.CrossEntropyLoss()
    x, y = torch.from_numpy(train[0]), torch.from_numpy(train[1]).long()
    xv = torch.from_numpy(val[0])
    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        perm = torch.randperm(len(x))
        for i in range(0, len(x), batch):
            idx = perm[i : i + batch]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
        with torch.no_grad():
            model(xv).argmax(1)
        times.append(time.perf_counter() - start)
    return median_after_first(times), f"torch {torch.__version__}, fused Adam: {'fused' in opt.defaults and opt.defaults['fused']}"


def jax_times(train, val, hidden, batch, epochs):
    import jax
    import jax.numpy as jnp
    import optax

    sizes = [784, *hidden, 10]
    key = jax.random.PRNGKey(42)
    params = []
    for a, b in zip(sizes, sizes[1:]):
        key, sub = jax.random.split(key)
        limit = (6.0 / (a + b)) ** 0.5
        params.append((jax.random.uniform(sub, (a, b), jnp.float32, -limit, limit),
                       jnp.zeros((b,), jnp.float32)))
    opt = optax.adam(1e-3, b1=0.9, b2=0.999, eps=1e-7)
    state = opt.init(params)

    def forward(p, x):
        for w, b in p[:-1]:
            x = jax.nn.relu(x @ w + b)
        w, b = p[-1]
        return x @ w + b

    def loss(p, x, y):
        return optax.softmax_cross_entropy_with_integer_labels(forward(p, x), y).mean()

    def step(carry, xy):
        p, s = carry
        l, g = jax.value_and_grad(loss)(p, *xy)
        updates, s = opt.update(g, s, p)
        return (optax.apply_updates(p, updates), s), l

    full = len(train[0]) // batch

    @jax.jit
    def epoch(p, s, x, y, perm):
        idx = perm[: full * batch]
        xb = x[idx].reshape(full, batch, -1)
        yb = y[idx].reshape(full, batch)
        (p, s), losses = jax.lax.scan(step, (p, s), (xb, yb))
        return p, s, losses.mean()

    tail_step = jax.jit(lambda p, s, x, y: step((p, s), (x, y))[0])
    evaluate = jax.jit(lambda p, x: forward(p, x).argmax(1))
    x, y = jnp.asarray(train[0]), jnp.asarray(train[1])
    xv = jnp.asarray(val[0])

    def run_epoch(perm):
        nonlocal params, state
        params, state, _ = epoch(params, state, x, y, jnp.asarray(perm))
        if full * batch < len(train[0]):  # the last, smaller batch, as the others train it
            rest = jnp.asarray(perm[full * batch :])
            params, state = tail_step(params, state, x[rest], y[rest])
        evaluate(params, xv).block_until_ready()

    return time_epochs(epochs, len(train[0]), run_epoch), f"jax {jax.__version__}, optax, devices {jax.devices()}"


def numpy_floats(code, threads):
    """The numbers `code` prints, run in a fresh Python with OpenBLAS on `threads` threads."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
    out = subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True)
    return tuple(float(g) for g in out.stdout.split())


def sgemm(threads):
    code = (
        "import numpy as np, time\n"
        "n = 2048\n"
        "a = np.random.default_rng(1).random((n, n), dtype=np.float32)\n"
        "b = np.random.default_rng(2).random((n, n), dtype=np.float32)\n"
        "a @ b\n"
        "times = sorted((lambda t: (a @ b, time.perf_counter() - t)[1])(time.perf_counter()) for _ in range(10))\n"
        "print(2 * n ** 3 / times[5] / 1e9, 2 * n ** 3 / times[0] / 1e9)\n"
    )
    return numpy_floats(code, threads)  # (median, best) GFLOP/s


def step_shapes(threads):
    """numpy's matmul on the three 1024 x 1024 products of a 784-1024-1024-10 step at batch
    256, as actbench computes them (forward, weight gradient with the activations read
    transposed, input gradient as W g^T), warm, into a preallocated output: medians of 150
    calls in GFLOP/s, beside `cargo bench --bench step_parts`."""
    code = (
        "import numpy as np, time\n"
        "rng = np.random.default_rng(3)\n"
        "def rate(m, k, n, at):\n"
        "    a = rng.random((k, m) if at else (m, k), dtype=np.float32)\n"
        "    a = a.T if at else a\n"
        "    b, c = rng.random((k, n), dtype=np.float32), np.empty((m, n), dtype=np.float32)\n"
        "    for _ in range(5): np.matmul(a, b, out=c)\n"
        "    ts = sorted((lambda t: (np.matmul(a, b, out=c), time.perf_counter() - t)[1])(time.perf_counter()) for _ in range(150))\n"
        "    return 2 * m * k * n / ts[75] / 1e9\n"
        "print(rate(256, 1024, 1024, False), rate(1024, 256, 1024, True), rate(1024, 1024, 256, False))\n"
    )
    return numpy_floats(code, threads)


def load():
    return open("/proc/loadavg").read().split()[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=3, help="epochs per job (median of 2..N)")
    ap.add_argument("--threads", type=int, default=2, help="threads for PyTorch and actbench's second column")
    ap.add_argument("--rounds", type=int, default=1,
                    help="rounds per job (each: actbench on 1 and T threads, PyTorch, JAX); medians over them")
    ap.add_argument("--only", default="", help="comma-separated networks to run, e.g. 128-64,512-256 (sgemm: none, only numpy's sgemm)")
    ap.add_argument("--cnn", action="store_true", help="the tutorial's CNN on Fashion-MNIST instead")
    ap.add_argument("--cnn-samples", type=int, default=60000, help="images before the 20%% validation split")
    ap.add_argument("--peer", choices=["torch", "jax", "torch-cnn", "jax-cnn"], help=argparse.SUPPRESS)
    ap.add_argument("--peer-hidden", default="", help=argparse.SUPPRESS)
    ap.add_argument("--peer-batch", type=int, default=32, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.rounds < 1:
        sys.exit("error: --rounds must be at least 1")
    if args.epochs < 2:
        sys.exit("error: --epochs must be at least 2 (the first epoch is not timed)")
    data_root = os.environ.get("ACTBENCH_DATA_DIR")
    if not data_root or not (args.cnn or os.path.isdir(os.path.join(data_root, "mnist"))):
        sys.exit("error: set ACTBENCH_DATA_DIR to a folder holding mnist/")
    os.environ["ACTBENCH_DATA_DIR"] = data_root
    if args.peer:
        return peer_main(args, data_root)
    if args.cnn:
        return cnn_main(args, data_root)
    networks = [h for h in NETWORKS if not args.only or "-".join(map(str, h)) in args.only.split(",")]
    print(f"load average at start: {load()} ({os.cpu_count()} cores)", flush=True)
    rows, versions, calibration = [], set(), None
    for hidden in networks:
        for batch in BATCHES:
            rounds = []
            for r in range(args.rounds):
                a1, run = actbench(hidden, batch, args.epochs, 1)
                a2, run2 = actbench(hidden, batch, args.epochs, args.threads)
                calibration = run["calibration"]
                t, tv = peer("torch", args.epochs, args.threads, hidden, batch)
                j, jv = peer("jax", args.epochs, args.threads, hidden, batch)
                versions |= {tv, jv}
                rounds.append((a1, a2, t, j))
                print(f"done 784-{'-'.join(map(str, hidden))}-10 batch {batch} round {r + 1}: "
                      f"actbench {a1:.3f}/{a2:.3f}, PyTorch {t:.3f}, JAX {j:.3f} s/epoch, "
                      f"ratio {ratio(a1, a2, t, j):.2f} (load {load()})", file=sys.stderr, flush=True)
            rows.append((hidden, batch, run2["parallelism"]["mode"], rounds))
    if rows:
        print()
        print(f"Seconds per epoch (training + validation pass), median of epochs 2..{args.epochs}; "
              f"PyTorch and JAX on {args.threads} threads; ratio = the faster peer's time / actbench's "
              f"best (above 1: actbench faster)" + (
                  f"; {args.rounds} rounds, each job's four runs one after the other per round: "
                  f"medians of the rounds, the ratio the median of the rounds' ratios (range)."
                  if args.rounds > 1 else "."))
        print()
        print(f"| network | batch | actbench, 1 thread | actbench, {args.threads} threads | PyTorch | JAX | ratio |")
        print("| --- | --- | --- | --- | --- | --- | --- |")
        for hidden, batch, mode, rounds in rows:
            net = f"784-{'-'.join(map(str, hidden))}-10"
            a1, a2, t, j, cell = summary(rounds)
            print(f"| {net} | {batch} | {a1:.3f} | {a2:.3f} ({mode}) | {t:.3f} | {j:.3f} | {cell} |")
        print()
    g1, g2 = sgemm(1), sgemm(2)
    ours = ""
    if calibration:  # none when --only named no network (e.g. --only sgemm)
        ours = (f"; actbench's calibration product ({calibration.get('kernel')}, "
                f"{calibration.get('cpu_path')}): {calibration['gflops']:.1f} GFLOP/s")
    print(f"numpy {np.__version__} sgemm 2048x2048x2048, median (best) of 10: {g1[0]:.1f} ({g1[1]:.1f}) "
          f"GFLOP/s on 1 thread, {g2[0]:.1f} ({g2[1]:.1f}) on 2{ours}")
    f, w, i = step_shapes(args.threads)
    print(f"numpy on the 784-1024-1024-10 batch-256 step's products, {args.threads} threads, median of 150: "
          f"forward 256x1024x1024 {f:.1f}, weight gradient 1024x256x1024 (a transposed) {w:.1f}, "
          f"input gradient 1024x1024x256 {i:.1f} GFLOP/s (actbench's: cargo bench --bench step_parts)")
    for v in sorted(versions):
        print(v)
    print(f"load average at end: {load()}")


if __name__ == "__main__":
    main()
