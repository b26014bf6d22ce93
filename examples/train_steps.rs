//! A fixed amount of training for instruction counting (`benches/instructions.sh`, CI's
//! callgrind gate): `train_steps ACTIVATION [STEPS] [MODEL]` trains the default network
//! (784-128-64-10, batch 32, Keras's Adam, seed 42), or with MODEL `cnn` the tutorial's
//! convolutional network (28x28x1-c32-p-c64-p-d64-10), for STEPS batches (default 200) of
//! synthetic MNIST-shaped data, in one epoch, on one thread, then prints the CPU path the kernels took and a
//! test loss (a checksum of the whole computation). No clocks are read for decisions, so under
//! `valgrind --tool=callgrind` the count of `actbench::train::train` repeats exactly.

use actbench::data::synthetic::synthetic;
use actbench::nn::catalog;
use actbench::train::{self, Data, ModelKind, TrainConfig};

fn main() {
    let mut args = std::env::args().skip(1);
    let name = args.next().unwrap_or_else(|| "relu".into());
    let steps: usize = match args.next().map(|s| s.parse()) {
        None => 200,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => {
            eprintln!("error: STEPS must be a positive integer");
            std::process::exit(2);
        }
    };
    let hidden = match catalog::parse(&name) {
        Ok(choice) => choice.hidden,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    let model = args.next().unwrap_or_else(|| "mlp".into());
    let cfg = match model.as_str() {
        "mlp" => TrainConfig {
            epochs: 1,
            ..TrainConfig::default()
        },
        "cnn" => TrainConfig {
            epochs: 1,
            model: ModelKind::Cnn {
                filters: vec![32, 64],
            },
            hidden: vec![64],
            ..TrainConfig::default()
        },
        _ => {
            eprintln!("error: MODEL must be mlp or cnn, got {model}");
            std::process::exit(2);
        }
    };
    let train_split = synthetic(steps * cfg.batch_size, 7);
    let test_split = synthetic(64, 8);
    let data = Data {
        train: train_split.all(),
        val: None,
        test: test_split.all(),
        classes: 10,
        image: (1, 28, 28),
    };
    let outcome = train::train(&hidden, &data, &cfg, &mut |_| {});
    let test = outcome
        .epochs
        .last()
        .map(|e| e.test.loss)
        .unwrap_or(f64::NAN);
    let cpu = actbench::nn::cpu::level().name();
    println!("model={model} activation={name} steps={steps} cpu={cpu} test_loss={test:.9}");
}
