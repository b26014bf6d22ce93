//! One full training step (batch 32, 784-128-64-10) and one epoch on synthetic MNIST-shaped data.

use actbench::data::synthetic::synthetic;
use actbench::nn::Batch;
use actbench::nn::catalog;
use actbench::nn::loss::softmax_cross_entropy;
use actbench::nn::{Adam, AdamConfig, FlushDenormals, Init, Mlp, Mode, Workspace};
use actbench::train::{self, Data, TrainConfig};
use criterion::{Criterion, criterion_group, criterion_main};
use rand::SeedableRng;

fn step(c: &mut Criterion) {
    let _ftz = FlushDenormals::new();
    let split = synthetic(32, 3);
    let mut batch = Batch::default();
    let idx: Vec<usize> = (0..32).collect();
    let mut g = c.benchmark_group("train_step_batch32");
    for name in [
        "relu",
        "sigmoid",
        "tanh",
        "elu",
        "gelu",
        "leaky_relu",
        "prelu",
        "custom",
    ] {
        let hidden = catalog::parse(name).unwrap().hidden;
        let mut mlp = Mlp::new(&[784, 128, 64, 10], hidden, Init::GlorotUniform, 1);
        let mut ws = Workspace::new(&mlp, 32);
        let mut adam = Adam::new(AdamConfig::default(), mlp.parameter_count());
        let mut grads = vec![0.0; mlp.parameter_count()];
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        g.bench_function(name, |b| {
            b.iter(|| {
                batch.fill(split.all(), &idx);
                mlp.forward(&batch, &mut ws, Mode::Train(&mut rng));
                let (logits, dlogits) = ws.logits_and_grad();
                softmax_cross_entropy(logits, &batch.labels, 10, Some((dlogits, 32.0)));
                mlp.backward(&batch, &mut ws, &mut grads);
                adam.update(&mut mlp.params, &grads);
            })
        });
    }
    g.finish();
}

fn epoch(c: &mut Criterion) {
    // 12,000 images: a quarter of MNIST's training epoch, validation on 2,400 more.
    let train_split = synthetic(12_000, 4);
    let val_split = synthetic(2_400, 5);
    let test_split = synthetic(100, 6);
    let data = Data {
        train: train_split.all(),
        val: Some(val_split.all()),
        test: test_split.all(),
        classes: 10,
        image: (1, 28, 28),
    };
    let cfg = TrainConfig {
        epochs: 1,
        ..TrainConfig::default()
    };
    let mut g = c.benchmark_group("epoch_12000_synthetic");
    g.sample_size(10);
    for name in ["relu", "tanh"] {
        let hidden = catalog::parse(name).unwrap().hidden;
        g.bench_function(name, |b| {
            b.iter(|| train::train(&hidden, &data, &cfg, &mut |_| {}))
        });
    }
    g.finish();
}

criterion_group!(benches, step, epoch);
criterion_main!(benches);
