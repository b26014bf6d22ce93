//! The convolution's algorithm, chosen by measurement: im2col + the register-tiled product
//! against the direct loop, forward and backward, at the tutorial network's two layers
//! (batch 32): 28x28x1 -> 32 filters and 13x13x32 -> 64 filters; and one training step of
//! the whole network.

use actbench::data::synthetic::synthetic;
use actbench::nn::catalog;
use actbench::nn::conv::{self, Conv3x3, InputGrad, direct};
use actbench::nn::loss::softmax_cross_entropy;
use actbench::nn::split::Team;
use actbench::nn::{
    Adam, AdamConfig, Batch, Cnn, CnnShape, CnnWorkspace, FlushDenormals, Init, Mode,
};
use criterion::{Criterion, criterion_group, criterion_main};
use rand::SeedableRng;
use std::hint::black_box;

fn values(len: usize) -> Vec<f32> {
    (0..len)
        .map(|i| ((i * 7919) % 1000) as f32 / 500.0 - 1.0)
        .collect()
}

fn layers(c: &mut Criterion) {
    let rows = 32;
    // The first layer needs no input gradient (its input is the image), the second does.
    for (name, s, needs_dx) in [
        (
            "conv1_28x28x1_to_32",
            Conv3x3 {
                height: 28,
                width: 28,
                in_channels: 1,
                out_channels: 32,
            },
            false,
        ),
        (
            "conv2_13x13x32_to_64",
            Conv3x3 {
                height: 13,
                width: 13,
                in_channels: 32,
                out_channels: 64,
            },
            true,
        ),
    ] {
        let x = values(rows * s.in_size());
        let k = values(s.weights());
        let b = values(s.out_channels);
        let g = values(rows * s.out_size());
        let mut col = vec![0.0; rows * s.out_pixels() * s.patch()];
        let mut dcol = col.clone();
        let mut out = vec![0.0; rows * s.out_size()];
        let (mut dk, mut db, mut kt) = (
            vec![0.0; s.weights()],
            vec![0.0; s.out_channels],
            vec![0.0; s.weights()],
        );
        let mut dx = vec![0.0; x.len()];
        let mut grp = c.benchmark_group(name);
        grp.bench_function("forward_im2col_gemm", |bch| {
            bch.iter(|| conv::forward(&s, rows, black_box(&x), &k, &b, &mut col, &mut out))
        });
        grp.bench_function("forward_direct", |bch| {
            bch.iter(|| direct::forward(&s, rows, black_box(&x), &k, &b, &mut out))
        });
        conv::im2col(&s, rows, &x, &mut col);
        grp.bench_function("backward_im2col_gemm", |bch| {
            bch.iter(|| {
                let input = needs_dx.then_some(InputGrad {
                    dx: &mut dx,
                    dcol: &mut dcol,
                    kernel_t: &mut kt,
                });
                conv::backward(&s, rows, black_box(&col), &k, &g, &mut dk, &mut db, input)
            })
        });
        grp.bench_function("backward_direct", |bch| {
            bch.iter(|| {
                let dx = needs_dx.then_some(&mut dx[..]);
                direct::backward(&s, rows, black_box(&x), &k, &g, &mut dk, &mut db, dx)
            })
        });
        grp.finish();
    }
}

/// One training step of the tutorial's network on 28x28x1 images, batch 32: forward, loss
/// head, backward, Adam; relu, and tanh for an activation with a costlier derivative; relu
/// also split over two threads, as one CNN with the machine to itself runs.
fn step(c: &mut Criterion) {
    let _ftz = FlushDenormals::new();
    let split = synthetic(32, 3);
    let mut batch = Batch::default();
    let idx: Vec<usize> = (0..32).collect();
    let mut g = c.benchmark_group("cnn_train_step_batch32");
    for (name, threads) in [("relu", 1), ("tanh", 1), ("relu", 2)] {
        let team = Team::new(threads).unwrap();
        let hidden = catalog::parse(name).unwrap().hidden;
        let shape = CnnShape::tutorial(28, 28, 1, 10);
        let mut cnn = Cnn::new(&shape, hidden, Init::GlorotUniform, 1).unwrap();
        let mut ws = CnnWorkspace::new(&cnn, 32).threads(threads);
        let mut adam = Adam::new(AdamConfig::default(), cnn.parameter_count());
        let mut grads = vec![0.0; cnn.parameter_count()];
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let id = if threads == 1 {
            name.to_string()
        } else {
            format!("{name}/{threads}_threads")
        };
        g.bench_function(id, |b| {
            b.iter(|| {
                let step = || {
                    batch.fill(split.all(), &idx);
                    cnn.forward(&batch, &mut ws, Mode::Train(&mut rng));
                    let (logits, dlogits) = ws.logits_and_grad();
                    softmax_cross_entropy(logits, &batch.labels, 10, Some((dlogits, 32.0)));
                    cnn.backward(&mut ws, &mut grads);
                    adam.update_split(threads, &mut cnn.params, &grads);
                };
                team.install(step)
            })
        });
    }
    g.finish();
}

criterion_group!(benches, layers, step);
criterion_main!(benches);
