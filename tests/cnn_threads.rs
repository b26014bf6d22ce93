//! The convolutional network split over several threads trains bit-identically to the same
//! network on one thread: conv layers are cut by images (each image computed alike), products
//! by output rows and Adam by blocks (see `actbench::nn::split`), so every sum keeps its order.
//! The tutorial's network on 28x28 images with full batches of 32 clears the split threshold in
//! both conv layers; a last partial batch (and evaluation chunks) leave partial image chunks.

use actbench::data::synthetic::synthetic;
use actbench::nn::catalog;
use actbench::train::{self, Data, ModelKind, TrainConfig};

#[test]
fn the_cnn_trains_bit_identically_on_any_thread_count() {
    let train_split = synthetic(3 * 32 + 5, 31);
    let val_split = synthetic(40, 32);
    let test_split = synthetic(70, 33);
    let data = Data {
        train: train_split.all(),
        val: Some(val_split.all()),
        test: test_split.all(),
        classes: 10,
        image: (1, 28, 28),
    };
    let cfg = TrainConfig {
        model: ModelKind::Cnn {
            filters: vec![32, 64],
        },
        hidden: vec![64],
        epochs: 2,
        ..TrainConfig::default()
    };
    let pools: Vec<_> = [2, 3]
        .into_iter()
        .map(|t| actbench::nn::split::Team::new(t).unwrap())
        .collect();
    for name in ["relu", "tanh", "prelu", "rrelu"] {
        let hidden = catalog::parse(name).unwrap().hidden;
        let fingerprint = |outcome: train::Outcome| -> Vec<u64> {
            assert_eq!(outcome.epochs.len(), 2, "{name}");
            outcome
                .epochs
                .iter()
                .flat_map(|e| {
                    let val = e.val.expect("validation");
                    [e.train.loss, val.loss, e.test.loss, e.test.accuracy]
                })
                .map(f64::to_bits)
                .collect()
        };
        let one = fingerprint(train::train(&hidden, &data, &cfg, &mut |_| {}));
        for pool in &pools {
            let split = fingerprint(train::train_in(pool, &hidden, &data, &cfg, &mut |_| {}));
            assert_eq!(
                split,
                one,
                "{name} on {} threads differs from one thread",
                pool.threads()
            );
        }
    }
}
