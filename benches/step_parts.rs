//! The parts of a 784-1024-1024-10 training step at batch 256, each alone, on a team of
//! threads: the three 1024 x 1024 products, the sparse first layer's forward product and weight
//! gradient on 256 real MNIST images, Adam over the network's 1,863,690 parameters, and the
//! validation pass over 12,000 images. Their sum is the least a training epoch can take with
//! these kernels when nothing else in the step (activations, transposes, batch fill, the last
//! layer, loss, hand-offs between threads) takes any time: README, "Beside PyTorch and JAX".
//!
//!   ACTBENCH_DATA_DIR=../shared cargo bench --bench step_parts [-- THREADS [CALLS]]
//!
//! Each figure is the median of CALLS calls (default 150) on THREADS threads (default 2), once
//! warm (the same operands again, as much of them as L1 and L2 keep: not Adam's 30 MB, nor the
//! validation pass's) and once cold (a 64 MB sweep before every call, the operands in L3: a
//! training step reads and writes about 70 MB, so its weights, moments and gradients come from
//! L3).

use actbench::data::{DataRoot, Dataset, LoadOptions};
use actbench::nn::activation::Relu;
use actbench::nn::kernels::{self, Strided};
use actbench::nn::split::Team;
use actbench::nn::{
    Adam, AdamConfig, Batch, FirstLayerKernel, FlushDenormals, Hidden, Init, Mlp, Model,
};
use actbench::run::RunData;
use std::hint::black_box;
use std::time::Instant;

const BATCH: usize = 256;
const WIDTH: usize = 1024;
/// Training steps per epoch counted: the 187 full batches of 48,000 images at batch 256 (the
/// 188th, of 128 images, left out, so that the sum stays a floor).
const STEPS: f64 = 187.0;

fn main() {
    // `cargo bench` adds `--bench`; the rest are ours.
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .map(|a| {
            a.parse()
                .unwrap_or_else(|_| fail(&format!("not a number: {a}")))
        })
        .collect();
    let threads = args.first().copied().unwrap_or(2).max(1);
    let calls = args.get(1).copied().unwrap_or(150).max(1);
    let Some(dir) = std::env::var_os("ACTBENCH_DATA_DIR") else {
        fail("set ACTBENCH_DATA_DIR to a folder holding mnist/");
    };
    let root = DataRoot::resolve(Some(std::path::Path::new(&dir)));
    let opts = LoadOptions {
        verify: false,
        ..LoadOptions::default()
    };
    let data = RunData::load(Dataset::Mnist, &root, &opts)
        .unwrap_or_else(|e| fail(&format!("mnist: {e}")));
    let _ftz = FlushDenormals::new();
    let team = Team::new(threads).unwrap_or_else(|e| fail(&format!("threads: {e}")));
    println!("784-1024-1024-10, batch {BATCH}, {threads} thread(s), medians of {calls} calls");
    team.install(|| {
        for cold in [false, true] {
            parts(&data, threads, calls, cold);
        }
    });
}

fn fail(message: &str) -> ! {
    eprintln!("step_parts: {message}");
    std::process::exit(2)
}

/// Deterministic values of about +-0.04.
fn values(len: usize, seed: u32) -> Vec<f32> {
    (0..len)
        .map(|i| {
            let h = (i as u32).wrapping_mul(2_654_435_761).wrapping_add(seed);
            (h >> 8) as f32 / 2e8 - 0.04
        })
        .collect()
}

/// Median seconds of `calls` calls of `f`, after 5 untimed; with `cold`, a 64 MB sweep before
/// each.
fn median(calls: usize, cold: bool, mut f: impl FnMut()) -> f64 {
    let mut sweep = vec![0u8; if cold { 64 << 20 } else { 0 }];
    for _ in 0..5 {
        f();
    }
    let mut times: Vec<f64> = (0..calls)
        .map(|i| {
            for line in sweep.chunks_mut(64) {
                line[0] = line[0].wrapping_add(i as u8);
            }
            black_box(&mut sweep);
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[calls / 2]
}

fn parts(data: &RunData, threads: usize, calls: usize, cold: bool) {
    println!(
        "{}",
        if cold {
            "cold (operands in L3)"
        } else {
            "warm"
        }
    );
    let (b, k, n) = (BATCH, WIDTH, WIDTH);
    let w = values(k * n, 1);
    let y = values(b * k, 2);
    let g = values(b * n, 3);
    let gt = values(n * b, 4);
    let mut step = 0.0;
    let mut show = |name: &str, seconds: f64, flop: f64| {
        step += seconds;
        let rate = match flop > 0.0 {
            true => format!("  {:6.1} GFLOP/s", flop / seconds / 1e9),
            false => String::new(),
        };
        println!("  {name:38} {:8.1} µs{rate}", seconds * 1e6);
    };
    // The three products as `mlp.rs` computes them: (name, m x kdim x n, `a` read through
    // strides, `b`). One output buffer, as large as the largest.
    let products = [
        ("forward 256x1024x1024", (b, k, n), (&y, k, 1), &w),
        ("weight gradient 1024x256x1024", (k, b, n), (&y, 1, k), &g),
        (
            "input gradient 1024x1024x256 (W g^T)",
            (k, n, b),
            (&w, n, 1),
            &gt,
        ),
    ];
    let mut out = vec![0.0; k * n];
    for (name, (m, kdim, cols), (data, row, col), right) in products {
        let a = Strided { data, row, col };
        let t = median(calls, cold, || {
            kernels::gemm_split(threads, m, kdim, cols, a, right, None, &mut out[..m * cols])
        });
        show(name, t, 2.0 * (m * kdim * cols) as f64);
    }

    let mut batch = Batch::new(FirstLayerKernel::Sparse);
    batch.fill(data.train.all(), &(0..b).collect::<Vec<_>>());
    let sparse = 2.0 * (batch.row_value.len() * n) as f64;
    let (w1, b1) = (values(784 * n, 5), values(n, 6));
    let (mut z1, mut dw1) = (vec![0.0; b * n], vec![0.0; 784 * n]);
    let t = median(calls, cold, || {
        kernels::sparse_forward_split(threads, &batch, &w1, &b1, &mut z1)
    });
    show("sparse forward 256x784x1024", t, sparse);
    let t = median(calls, cold, || {
        kernels::sparse_weight_grad_split(threads, &batch, &g, &mut dw1)
    });
    show("sparse weight gradient 784x256x1024", t, sparse);

    let mlp = Mlp::new(
        &[784, k, n, 10],
        Hidden::fixed(Relu),
        Init::GlorotUniform,
        42,
    );
    let count = mlp.parameter_count();
    let mut params = values(count, 7);
    let grads: Vec<f32> = values(count, 8).iter().map(|v| v * 1e-3).collect();
    let mut adam = Adam::new(AdamConfig::default(), count);
    let t = median(calls, cold, || {
        adam.update_split(threads, &mut params, &grads)
    });
    show(&format!("Adam over {count} parameters"), t, 0.0);

    let mut ws = mlp.workspace_split(Mlp::EVAL_ROWS, threads);
    let mut eval = Batch::new(FirstLayerKernel::Sparse);
    let validation = data.train.range(48_000, 60_000);
    let pass = median(calls.div_ceil(10), cold, || {
        black_box(actbench::train::evaluate(
            &mlp, validation, &mut ws, &mut eval,
        ));
    });
    println!(
        "  sum per step {:.1} µs; x{STEPS} steps + validation pass {:.1} ms = {:.3} s per epoch",
        step * 1e6,
        pass * 1e3,
        step * STEPS + pass
    );
}
