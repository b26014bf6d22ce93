//! Kernels at the network's shapes: activations on a 32x128 batch, the matrix products of
//! 784-128-64-10 at batch 32 (ours, and ndarray's general_mat_mul for reference), and the large
//! products (`large_products`: a 2048^3 square, the wide dense networks' and the conv net's
//! shapes; throughput in elements/s is FLOP/s, 2 per multiply-add).

use actbench::data::synthetic::synthetic;
use actbench::nn::Batch;
use actbench::nn::catalog;
use actbench::nn::kernels::{self, Strided};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ndarray::{Array2, linalg::general_mat_mul};
use std::hint::black_box;
use std::time::Duration;

fn values(len: usize) -> Vec<f32> {
    (0..len)
        .map(|i| ((i * 7919) % 2000) as f32 / 500.0 - 2.0)
        .collect()
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
    let (w1, b1) = (values(784 * 128), values(128));
    let (w2, b2) = (values(128 * 64), values(64));
    let (w3, b3) = (values(64 * 10), values(10));
    let mut z1 = vec![0.0; 32 * 128];
    let mut g = c.benchmark_group("products_batch32");
    g.bench_function("fill_batch_u8_to_sparse_f32", |b| {
        b.iter(|| batch.fill(black_box(split.all()), &idx))
    });
    g.bench_function("layer1_forward_sparse_32x784x128", |b| {
        b.iter(|| kernels::sparse_forward(black_box(&batch), &w1, &b1, &mut z1))
    });
    let mut dw1 = vec![0.0; 784 * 128];
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
    let w1a = Array2::from_shape_vec((784, 128), w1.clone()).unwrap();
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
    g.finish();
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
    let a = if transposed {
        Strided {
            data: &a,
            row: 1,
            col: m,
        }
    } else {
        Strided {
            data: &a,
            row: k,
            col: 1,
        }
    };
    g.throughput(Throughput::Elements(2 * (m * k * n) as u64));
    g.bench_function(format!("{name}_{m}x{k}x{n}"), |bench| {
        bench.iter(|| kernels::gemm(m, k, n, black_box(a), &b, None, &mut out))
    });
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
    large_case(&mut g, "conv1/kernel_grad", (9, 21632, 32), true);
    g.finish();
}

criterion_group!(
    benches,
    activations,
    products,
    optimizer,
    split_across_threads,
    large_products
);
criterion_main!(benches);
