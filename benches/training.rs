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

/// One training step of 784-W-W/2-10 (relu) at batch 32 and 256, on one thread and split over
/// two (`Workspace::threads`, `Adam::update_split` on a model pool): where splitting starts to
/// pay, the scheduler's `SPLIT_MIN_STEP_WORK`.
fn split_step(c: &mut Criterion) {
    let split = synthetic(256, 3);
    let hidden = catalog::parse("relu").unwrap().hidden;
    let mut g = c.benchmark_group("split_step");
    g.sample_size(20);
    g.measurement_time(std::time::Duration::from_secs(3));
    for batch_size in [32, 256] {
        let idx: Vec<usize> = (0..batch_size).collect();
        for w in [128, 256, 384, 512, 1024] {
            let sizes = [784, w, w / 2, 10];
            let work: usize = batch_size * sizes.windows(2).map(|p| p[0] * p[1]).sum::<usize>();
            for threads in [1, 2] {
                let pool = actbench::nn::split::Team::new(threads).unwrap();
                let mut mlp = Mlp::new(&sizes, hidden.clone(), Init::GlorotUniform, 1);
                let mut ws = Workspace::new(&mlp, batch_size).threads(threads);
                let mut adam = Adam::new(AdamConfig::default(), mlp.parameter_count());
                let mut grads = vec![0.0; mlp.parameter_count()];
                let mut batch = Batch::default();
                let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
                let name = format!(
                    "batch{batch_size}/784-{w}-{}-10/{:.1}M/{threads}_threads",
                    w / 2,
                    work as f64 / 1e6
                );
                g.bench_function(name, |b| {
                    b.iter_custom(|iters| {
                        pool.install(|| {
                            let start = std::time::Instant::now();
                            for _ in 0..iters {
                                batch.fill(split.all(), &idx);
                                mlp.forward(&batch, &mut ws, Mode::Train(&mut rng));
                                let (logits, dlogits) = ws.logits_and_grad();
                                let rows = batch_size as f32;
                                softmax_cross_entropy(
                                    logits,
                                    &batch.labels,
                                    10,
                                    Some((dlogits, rows)),
                                );
                                mlp.backward(&batch, &mut ws, &mut grads);
                                adam.update_split(threads, &mut mlp.params, &grads);
                            }
                            start.elapsed()
                        })
                    })
                });
            }
        }
    }
    g.finish();
}

criterion_group!(benches, step, epoch, split_step);
criterion_main!(benches);
