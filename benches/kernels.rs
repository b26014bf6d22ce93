//! Kernels at the network's shapes: activations on a 32x128 batch, the matrix products of
//! 784-128-64-10 at batch 32 (ours, and ndarray's general_mat_mul for reference), the large
//! products (`large_products`: a 2048^3 square, the wide dense networks' and the conv net's
//! shapes; throughput in elements/s is FLOP/s, 2 per multiply-add), and the first layer's two
//! kernels (sparse, dense) at the datasets' input densities.

use actbench::data::synthetic::synthetic;
use actbench::data::{DataRoot, Dataset, LoadOptions};
use actbench::nn::catalog;
use actbench::nn::kernels::{self, Strided};
use actbench::nn::loss::softmax_cross_entropy;
use actbench::nn::{Adam, AdamConfig, Batch, FirstLayerKernel, Init, Mlp, Mode, Split, Workspace};
use actbench::run::RunData;
use criterion::measurement::{Measurement, ValueFormatter};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ndarray::{Array2, linalg::general_mat_mul};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::hint::black_box;
use std::time::Duration;

fn values(len: usize) -> Vec<f32> {
    (0..len)
        .map(|i| ((i * 7919) % 2000) as f32 / 500.0 - 2.0)
        .collect()
}

/// [`values`] in a cache-line aligned buffer, as the network's own buffers are: with a plain
/// Vec's alignment every 64-byte load of the sparse kernels spanned two lines (the default
/// network's sparse forward product took 21 µs instead of 14 on an Intel Xeon).
fn aligned_values(len: usize) -> actbench::nn::AlignedVec {
    let mut a = actbench::nn::AlignedVec::zeros(len);
    a.copy_from_slice(&values(len));
    a
}

fn activations(c: &mut Criterion) {
    let z = values(32 * 128);
    let mut g = c.benchmark_group("activation_32x128");
    g.throughput(Throughput::Elements(z.len() as u64));
    for name in [
        "relu",
        "leaky_relu",
        "sigmoid",
        "tanh",
        "elu",
        "gelu",
        "custom",
        "swish",
        "mish",
        "gelu_erf",
    ] {
        let act = catalog::parse(name).unwrap().hidden.function();
        let mut y = vec![0.0; z.len()];
        g.bench_function(format!("{name}/forward"), |b| {
            b.iter(|| act.forward(black_box(&z), &mut y))
        });
        act.forward(&z, &mut y);
        let mut grad = values(z.len());
        g.bench_function(format!("{name}/backward"), |b| {
            b.iter(|| act.backward(black_box(&z), black_box(&y), &mut grad))
        });
    }
    g.finish();
}

fn products(c: &mut Criterion) {
    let split = synthetic(32, 1);
    let mut batch = Batch::default();
    let idx: Vec<usize> = (0..32).collect();
    batch.fill(split.all(), &idx);
    // The first layer's operands cache-line aligned (see `aligned_values`).
    let (w1, b1) = (aligned_values(784 * 128), values(128));
    let (w2, b2) = (values(128 * 64), values(64));
    let (w3, b3) = (values(64 * 10), values(10));
    let mut z1 = actbench::nn::AlignedVec::zeros(32 * 128);
    let mut g = c.benchmark_group("products_batch32");
    g.bench_function("fill_batch_u8_to_sparse_f32", |b| {
        b.iter(|| batch.fill(black_box(split.all()), &idx))
    });
    g.bench_function("layer1_forward_sparse_32x784x128", |b| {
        b.iter(|| kernels::sparse_forward(black_box(&batch), &w1, &b1, &mut z1))
    });
    let mut dw1 = actbench::nn::AlignedVec::zeros(784 * 128);
    g.bench_function("layer1_weight_grad_sparse_784x32x128", |b| {
        b.iter(|| kernels::sparse_weight_grad(black_box(&batch), &z1, &mut dw1))
    });
    let a1 = values(32 * 128);
    let mut z2 = vec![0.0; 32 * 64];
    g.bench_function("layer2_forward_32x128x64", |b| {
        b.iter(|| {
            kernels::gemm(
                32,
                128,
                64,
                Strided {
                    data: &a1,
                    row: 128,
                    col: 1,
                },
                &w2,
                Some(&b2),
                &mut z2,
            )
        })
    });
    let mut dw2 = vec![0.0; 128 * 64];
    g.bench_function("layer2_weight_grad_128x32x64", |b| {
        b.iter(|| {
            kernels::gemm(
                128,
                32,
                64,
                Strided {
                    data: &a1,
                    row: 1,
                    col: 128,
                },
                &z2,
                None,
                &mut dw2,
            )
        })
    });
    let mut da1 = vec![0.0; 32 * 128];
    g.bench_function("layer2_input_grad_32x64x128", |b| {
        b.iter(|| {
            kernels::gemm(
                32,
                64,
                128,
                Strided {
                    data: &z2,
                    row: 64,
                    col: 1,
                },
                &w2,
                None,
                &mut da1,
            )
        })
    });
    let mut z3 = vec![0.0; 32 * 10];
    g.bench_function("layer3_forward_32x64x10", |b| {
        b.iter(|| {
            kernels::gemm(
                32,
                64,
                10,
                Strided {
                    data: &z2,
                    row: 64,
                    col: 1,
                },
                &w3,
                Some(&b3),
                &mut z3,
            )
        })
    });
    // The same first-layer product, dense, through ndarray (matrixmultiply): what we would use
    // without the sparse kernel.
    let mut x = Array2::<f32>::zeros((32, 784));
    for k in 0..784 {
        let (rows, vals) = batch.column(k);
        for (&r, &v) in rows.iter().zip(vals) {
            x[[r as usize, k]] = v;
        }
    }
    let w1a = Array2::from_shape_vec((784, 128), w1.to_vec()).unwrap();
    let mut z1a = Array2::<f32>::zeros((32, 128));
    g.bench_function("layer1_forward_ndarray_dense_32x784x128", |b| {
        b.iter(|| general_mat_mul(1.0, black_box(&x), &w1a, 0.0, &mut z1a))
    });
    let g1 = Array2::from_shape_vec((32, 128), values(32 * 128)).unwrap();
    let mut dw1a = Array2::<f32>::zeros((784, 128));
    g.bench_function("layer1_weight_grad_ndarray_dense_784x32x128", |b| {
        b.iter(|| general_mat_mul(1.0, &black_box(&x).t(), &g1, 0.0, &mut dw1a))
    });
    g.finish();
}

fn optimizer(c: &mut Criterion) {
    let _ftz = actbench::nn::FlushDenormals::new();
    let n = 784 * 128 + 128 + 128 * 64 + 64 + 64 * 10 + 10;
    let mut params = values(n);
    let grads: Vec<f32> = values(n).iter().map(|g| g * 1e-3).collect();
    let mut adam = actbench::nn::Adam::new(actbench::nn::AdamConfig::default(), n);
    c.bench_function("adam_update_109386", |b| {
        b.iter(|| adam.update(&mut params, black_box(&grads)))
    });
    // The first layer's weight gradient then Adam over its weights, against the one pass that
    // hands each gradient row to Adam as it is summed (what a default training step runs).
    let split = synthetic(32, 1);
    let mut batch = Batch::default();
    batch.fill(split.all(), &(0..32).collect::<Vec<_>>());
    let g1: Vec<f32> = values(32 * 128).iter().map(|g| g * 1e-3).collect();
    let w = 784 * 128;
    let mut dw1 = actbench::nn::AlignedVec::zeros(w);
    let (mut separate, mut fused) = (
        actbench::nn::Adam::new(actbench::nn::AdamConfig::default(), w),
        actbench::nn::Adam::new(actbench::nn::AdamConfig::default(), w),
    );
    let mut group = c.benchmark_group("layer1_gradient_and_adam_784x32x128");
    group.bench_function("gradient_then_adam", |b| {
        b.iter(|| {
            kernels::sparse_weight_grad(black_box(&batch), &g1, &mut dw1);
            separate.update(&mut params[..w], &dw1[..])
        })
    });
    group.bench_function("one_pass", |b| {
        b.iter(|| {
            let (step, m, v) = fused.begin_step();
            let g = black_box(&g1);
            kernels::sparse_weight_grad_adam_split(1, &batch, g, &step, &mut params[..w], m, v)
        })
    });
    group.finish();
}

/// Would splitting one model's work across the two cores pay at batch 32? The two largest
/// pieces of a step, whole on one thread against halves handed to two threads with
/// rayon::join (how a split training step would run them).
fn split_across_threads(c: &mut Criterion) {
    let split = synthetic(32, 1);
    let idx: Vec<usize> = (0..32).collect();
    let (mut whole, mut lo, mut hi) = (Batch::default(), Batch::default(), Batch::default());
    whole.fill(split.all(), &idx);
    lo.fill(split.all(), &idx[..16]);
    hi.fill(split.all(), &idx[16..]);
    let (w1, b1) = (values(784 * 128), values(128));
    let mut z = vec![0.0; 32 * 128];
    let mut g = c.benchmark_group("split_across_threads");
    g.bench_function("layer1_forward/one_thread", |b| {
        b.iter(|| kernels::sparse_forward(black_box(&whole), &w1, &b1, &mut z))
    });
    g.bench_function("layer1_forward/two_threads", |b| {
        b.iter(|| {
            let (zl, zh) = z.split_at_mut(16 * 128);
            rayon::join(
                || kernels::sparse_forward(black_box(&lo), &w1, &b1, zl),
                || kernels::sparse_forward(black_box(&hi), &w1, &b1, zh),
            )
        })
    });
    let n = 784 * 128 + 128 + 128 * 64 + 64 + 64 * 10 + 10;
    let mut params = values(n);
    let grads: Vec<f32> = values(n).iter().map(|g| g * 1e-3).collect();
    let mut adam = actbench::nn::Adam::new(actbench::nn::AdamConfig::default(), n);
    let (mut adam_lo, mut adam_hi) = (
        actbench::nn::Adam::new(actbench::nn::AdamConfig::default(), n / 2),
        actbench::nn::Adam::new(actbench::nn::AdamConfig::default(), n - n / 2),
    );
    g.bench_function("adam/one_thread", |b| {
        b.iter(|| adam.update(&mut params, black_box(&grads)))
    });
    g.bench_function("adam/two_threads", |b| {
        b.iter(|| {
            let (pl, ph) = params.split_at_mut(n / 2);
            let (gl, gh) = grads.split_at(n / 2);
            rayon::join(
                || adam_lo.update(pl, black_box(gl)),
                || adam_hi.update(ph, black_box(gh)),
            )
        })
    });
    // The conv net's products (batch 32) whole and split over a 2-thread team (by output
    // rows), and the wide networks' forward products at batch 32 (by output columns on
    // `avx512`).
    let team = actbench::nn::split::Team::new(2).unwrap();
    for (name, (m, k, n), transposed) in [
        ("dense_1024_1024_b32_forward", (32, 1024, 1024), false),
        ("dense_512_256_b32_forward", (32, 512, 256), false),
        ("conv2_kernel_grad", (288, 3872, 64), true),
        ("conv2_patch_grad", (3872, 64, 288), false),
        ("conv1_kernel_grad", (9, 21632, 32), true),
    ] {
        let a = values(m * k);
        let b = values(k * n);
        let mut out = vec![0.0; m * n];
        let a = operand(&a, m, k, transposed);
        for threads in [1, 2] {
            g.bench_function(format!("{name}/{threads}_threads"), |bench| {
                bench.iter(|| {
                    team.install(|| {
                        kernels::gemm_split(threads, m, k, n, black_box(a), &b, None, &mut out)
                    })
                })
            });
        }
    }
    g.finish();
}

/// `data` as the `m x k` left operand: row-major, or `transposed` (stored `k x m`, read
/// through strides, as the weight and kernel gradients read it).
fn operand(data: &[f32], m: usize, k: usize, transposed: bool) -> Strided<'_> {
    let (row, col) = if transposed { (1, m) } else { (k, 1) };
    Strided { data, row, col }
}

/// One `m x k x n` product on one thread; `transposed`: `a` is stored `k x m` and read through
/// strides (the weight and kernel gradients).
fn large_case(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    (m, k, n): (usize, usize, usize),
    transposed: bool,
) {
    let a = values(m * k);
    let b = values(k * n);
    let mut out = vec![0.0; m * n];
    let a = operand(&a, m, k, transposed);
    g.throughput(Throughput::Elements(2 * (m * k * n) as u64));
    g.bench_function(format!("{name}_{m}x{k}x{n}"), |bench| {
        bench.iter(|| kernels::gemm(m, k, n, black_box(a), &b, None, &mut out))
    });
    // Shapes `gemm` keeps off the packed path: that path too, to see the rule's choice.
    if m * k * n < kernels::PACKED_MIN_WORK || m.min(k).min(n) < kernels::PACKED_MIN_DIM {
        g.bench_function(format!("{name}_{m}x{k}x{n}/packed"), |bench| {
            bench.iter(|| kernels::gemm_packed(m, k, n, black_box(a), &b, None, &mut out))
        });
    }
}

/// The products of issue #16's large shapes, one thread each.
fn large_products(c: &mut Criterion) {
    let _ftz = actbench::nn::FlushDenormals::new();
    let mut g = c.benchmark_group("large_products");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    large_case(&mut g, "square", (2048, 2048, 2048), false);
    // The second layer of the wide dense networks: forward, weight gradient (the activations
    // read transposed), input gradient (computed as W g^T).
    for (input, output) in [(512, 256), (1024, 1024)] {
        for batch in [32, 256] {
            let net = format!("dense_{input}_{output}_b{batch}");
            large_case(
                &mut g,
                &format!("{net}/forward"),
                (batch, input, output),
                false,
            );
            {
                // Half the batch: one thread's share when two threads split these products by
                // rows (at batch 32 they now split them by columns, read in place on one
                // thread; at batch 256 still by rows).
                large_case(
                    &mut g,
                    &format!("{net}/forward_half"),
                    (batch / 2, input, output),
                    false,
                );
            }
            large_case(
                &mut g,
                &format!("{net}/weight_grad"),
                (input, batch, output),
                true,
            );
            large_case(
                &mut g,
                &format!("{net}/input_grad"),
                (input, output, batch),
                false,
            );
        }
    }
    // The conv net at batch 32: conv2 (32 -> 64 channels on 11x11) and conv1 (1 -> 32 on 26x26).
    large_case(&mut g, "conv2/forward", (3872, 288, 64), false);
    large_case(&mut g, "conv2/kernel_grad", (288, 3872, 64), true);
    large_case(&mut g, "conv2/patch_grad", (3872, 64, 288), false);
    large_case(&mut g, "conv1/forward", (21632, 9, 32), false);
    // One chunk of two images, as the network runs it.
    large_case(&mut g, "conv1/forward_chunk", (1352, 9, 32), false);
    large_case(&mut g, "conv1/kernel_grad", (9, 21632, 32), true);
    g.finish();
}

/// `kernels::transpose` at the backward pass's shapes (`g` and `W g^T` of the wide networks at
/// batch 256, and of the default network at batch 32); `ACTBENCH_CPU` picks the path.
fn transposes(c: &mut Criterion) {
    let mut g = c.benchmark_group("transpose");
    g.warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(1));
    for (rows, cols) in [(256, 512), (512, 256), (256, 1024), (1024, 256), (32, 128)] {
        let m = values(rows * cols);
        let mut out = vec![0.0; rows * cols];
        g.throughput(Throughput::Elements((rows * cols) as u64));
        g.bench_function(format!("{rows}x{cols}"), |b| {
            b.iter(|| kernels::transpose(black_box(&m), rows, cols, &mut out))
        });
    }
    g.finish();
}

/// The sparse first layer at the wide networks' shapes (784 inputs to 512 or 1024 outputs, batch
/// 32 and 256), real MNIST images when `$ACTBENCH_DATA_DIR` is set (random ones at MNIST's 19%
/// density otherwise), operands cache-line aligned as in training; throughput counts 2 FLOP per
/// non-zero input and output.
fn sparse_wide(c: &mut Criterion) {
    let _ftz = actbench::nn::FlushDenormals::new();
    let split = real_images(Dataset::Mnist).unwrap_or_else(|| random_images(512, 784, 0.19, 9));
    let mut g = c.benchmark_group("sparse_wide");
    g.sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(1));
    for rows in [32, 256] {
        let idx: Vec<usize> = (0..rows).collect();
        let mut batch = Batch::default();
        batch.fill(split.all(), &idx);
        for n in [512, 1024] {
            let w = aligned_values(784 * n);
            let bias = values(n);
            let mut z = actbench::nn::AlignedVec::zeros(rows * n);
            let mut dw = actbench::nn::AlignedVec::zeros(784 * n);
            g.throughput(Throughput::Elements(2 * (batch.row_value.len() * n) as u64));
            g.bench_function(format!("forward_{rows}x784x{n}"), |b| {
                b.iter(|| kernels::sparse_forward(black_box(&batch), &w, &bias, &mut z))
            });
            g.bench_function(format!("weight_grad_784x{rows}x{n}"), |b| {
                b.iter(|| kernels::sparse_weight_grad(black_box(&batch), &z, &mut dw))
            });
        }
    }
    g.finish();
}

/// `n` images of `features` pixels, each pixel lit (1..=255) with probability `density`.
fn random_images(n: usize, features: usize, density: f64, seed: u64) -> Split {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let images = (0..n * features)
        .map(|_| {
            if rng.random_bool(density) {
                rng.random_range(1..=255u8)
            } else {
                0
            }
        })
        .collect();
    Split::new(images, (0..n).map(|i| (i % 10) as u8).collect())
}

/// The real training images of `dataset` from `$ACTBENCH_DATA_DIR`, if it is set.
fn real_images(dataset: Dataset) -> Option<Split> {
    let dir = std::env::var_os("ACTBENCH_DATA_DIR")?;
    let root = DataRoot::resolve(Some(std::path::Path::new(&dir)));
    let opts = LoadOptions {
        verify: false,
        ..LoadOptions::default()
    };
    match RunData::load(dataset, &root, &opts) {
        Ok(data) => Some(data.train),
        Err(e) => panic!("{}: {e}", dataset.name()),
    }
}

/// The calling thread's CPU time, in nanoseconds: unlike wall-clock time it does not count the
/// time other processes hold the core, so the comparison survives a shared machine better.
fn thread_cpu_ns() -> u64 {
    #[repr(C)]
    struct Timespec {
        sec: i64,
        nsec: i64,
    }
    unsafe extern "C" {
        fn clock_gettime(clock: i32, out: *mut Timespec) -> i32;
    }
    const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
    let mut t = Timespec { sec: 0, nsec: 0 };
    // SAFETY: `t` is a valid, writable timespec; the clock id is Linux's.
    let rc = unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut t) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
    t.sec as u64 * 1_000_000_000 + t.nsec as u64
}

/// Criterion measurement: the benchmark thread's CPU time.
struct ThreadCpu;

impl Measurement for ThreadCpu {
    type Intermediate = u64;
    type Value = u64;
    fn start(&self) -> u64 {
        thread_cpu_ns()
    }
    fn end(&self, start: u64) -> u64 {
        thread_cpu_ns() - start
    }
    fn add(&self, a: &u64, b: &u64) -> u64 {
        a + b
    }
    fn zero(&self) -> u64 {
        0
    }
    fn to_f64(&self, value: &u64) -> f64 {
        *value as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        &CpuNanos
    }
}

/// Formats CPU nanoseconds as µs of CPU time.
struct CpuNanos;

impl ValueFormatter for CpuNanos {
    fn scale_values(&self, _typical: f64, values: &mut [f64]) -> &'static str {
        values.iter_mut().for_each(|v| *v /= 1e3);
        "µs cpu"
    }
    fn scale_throughputs(
        &self,
        _typical: f64,
        _t: &Throughput,
        values: &mut [f64],
    ) -> &'static str {
        values.iter_mut().for_each(|v| *v /= 1e3);
        "µs cpu"
    }
    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        "ns cpu"
    }
}

/// Which first-layer kernel is faster at which input density: the work that differs between
/// them in a training step (fill the batch from `u8`, the forward product, the weight
/// gradient) for batch 32 into 128 units, and one whole training step of `features`-128-64-10
/// (relu), each kernel right after the other. Synthetic images of chosen densities (pixels lit
/// at random), and MNIST's and Fashion-MNIST's real training images when `ACTBENCH_DATA_DIR`
/// names a data root. Measured in thread CPU time ([`ThreadCpu`]); run it a few times and take
/// the medians of the rounds (the kernels of one case run right after each other).
fn first_layer(c: &mut Criterion<ThreadCpu>) {
    let _ftz = actbench::nn::FlushDenormals::new();
    let mut cases: Vec<(String, Split)> = Vec::new();
    for d in [0.1, 0.2, 0.3, 0.4, 0.5, 0.7, 1.0] {
        cases.push((format!("784_d{d:.2}"), random_images(512, 784, d, 7)));
    }
    for d in [0.5, 1.0] {
        cases.push((format!("3072_d{d:.2}"), random_images(512, 3072, d, 8)));
    }
    for dataset in [Dataset::Mnist, Dataset::FashionMnist] {
        match real_images(dataset) {
            Some(split) => cases.push((dataset.name().to_string(), split)),
            None => eprintln!("ACTBENCH_DATA_DIR not set: no real {} case", dataset.name()),
        }
    }
    let mut g = c.benchmark_group("first_layer");
    g.sample_size(20)
        .warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_millis(1000));
    for (name, split) in &cases {
        let samples = split.all();
        let features = samples.features;
        let density = samples.density();
        let batches: Vec<Vec<usize>> = (0..16)
            .map(|b| {
                (0..32)
                    .map(|r| (b * 977 + r * 131) % samples.len())
                    .collect()
            })
            .collect();
        let (w, bias) = (values(features * 128), values(128));
        let grad = values(32 * 128);
        let mut z = vec![0.0; 32 * 128];
        let mut dw = vec![0.0; features * 128];
        let sizes = [features, 128, 64, 10];
        eprintln!("first_layer/{name}: density {density:.4}");
        for kernel in [FirstLayerKernel::Sparse, FirstLayerKernel::Dense] {
            let mut batch = Batch::new(kernel);
            let mut i = 0;
            g.bench_function(format!("{name}/layer1/{}", kernel.name()), |b| {
                b.iter(|| {
                    i = (i + 1) % batches.len();
                    batch.fill(samples, &batches[i]);
                    match kernel {
                        FirstLayerKernel::Sparse => {
                            kernels::sparse_forward(&batch, &w, &bias, &mut z);
                            kernels::sparse_weight_grad(&batch, black_box(&grad), &mut dw);
                        }
                        FirstLayerKernel::Dense => {
                            let x = Strided {
                                data: &batch.dense,
                                row: features,
                                col: 1,
                            };
                            kernels::gemm(32, features, 128, x, &w, Some(&bias), &mut z);
                            let xt = Strided {
                                data: &batch.dense,
                                row: 1,
                                col: features,
                            };
                            kernels::gemm(features, 32, 128, xt, black_box(&grad), None, &mut dw);
                        }
                    }
                })
            });
            let hidden = catalog::parse("relu").unwrap().hidden;
            let mut mlp = Mlp::new(&sizes, hidden, Init::GlorotUniform, 1);
            let mut ws = Workspace::new(&mlp, 32);
            let mut adam = Adam::new(AdamConfig::default(), mlp.parameter_count());
            let mut grads = vec![0.0; mlp.parameter_count()];
            let mut rng = ChaCha8Rng::seed_from_u64(1);
            g.bench_function(format!("{name}/step/{}", kernel.name()), |b| {
                b.iter(|| {
                    i = (i + 1) % batches.len();
                    batch.fill(samples, &batches[i]);
                    mlp.forward(&batch, &mut ws, Mode::Train(&mut rng));
                    let (logits, dlogits) = ws.logits_and_grad();
                    softmax_cross_entropy(logits, &batch.labels, 10, Some((dlogits, 32.0)));
                    mlp.backward(&batch, &mut ws, &mut grads);
                    adam.update(&mut mlp.params, &grads);
                })
            });
        }
    }
    g.finish();
}

criterion_group!(
    benches,
    activations,
    products,
    optimizer,
    split_across_threads,
    large_products,
    sparse_wide,
    transposes
);
criterion_group! {
    name = cpu_time;
    config = Criterion::default().with_measurement(ThreadCpu);
    targets = first_layer
}
criterion_main!(benches, cpu_time);
