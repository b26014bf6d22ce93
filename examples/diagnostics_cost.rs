//! A fixed training workload for instruction counts of the layer diagnostics: one epoch of the
//! default network (784-128-64-10, batch 32) on 4,800 synthetic MNIST-shaped images with 1,200
//! for validation, per activation named on the command line (default: relu,tanh,sigmoid,elu,
//! the default run's). Run it under callgrind and compare the inclusive counts of
//! `Probe::observe` and `Probe::finish_epoch` with that of `train::train` (README, "Layer
//! diagnostics"):
//!
//! ```text
//! cargo build --release --example diagnostics_cost
//! valgrind --tool=callgrind --callgrind-out-file=cg.out target/release/examples/diagnostics_cost
//! callgrind_annotate --inclusive=yes cg.out | grep -E 'train::train|Probe::|train::evaluate'
//! ```

use actbench::data::synthetic::synthetic;
use actbench::nn::catalog;
use actbench::train::{self, Data, TrainConfig};

fn main() {
    let names = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "relu,tanh,sigmoid,elu".into());
    let (train_split, val_split, test_split) =
        (synthetic(4_800, 1), synthetic(1_200, 2), synthetic(10, 3));
    let data = Data {
        train: train_split.all(),
        val: Some(val_split.all()),
        test: test_split.all(),
        classes: 10,
    };
    let cfg = TrainConfig {
        epochs: 1,
        ..TrainConfig::default()
    };
    for choice in catalog::parse_list(&names).expect("activation names") {
        let outcome = train::train(&choice.hidden, &data, &cfg, &mut |_| {});
        let epoch = &outcome.epochs[0];
        println!(
            "{}: {:.3} s, train accuracy {:.4}, layer 1 grad_rms {:.3e}",
            choice.name, epoch.seconds, epoch.train.accuracy, epoch.layers[0].grad_rms
        );
    }
}
