//! One model split over several threads trains bit-identically to the same model on one
//! thread: the products and Adam are cut by output blocks (see `actbench::nn::split`), so every
//! sum keeps its order. The network is wide enough that every product of a full batch is split
//! (each is above `split::MIN_SPLIT_WORK`), with widths that leave partial tiles and blocks.

use actbench::data::synthetic::synthetic;
use actbench::nn::catalog;
use actbench::nn::split::MIN_SPLIT_WORK;
use actbench::train::{self, Data, TrainConfig};

#[test]
fn any_thread_count_trains_bit_identically() {
    let train_split = synthetic(12 * 32 + 5, 21);
    let val_split = synthetic(100, 22);
    let test_split = synthetic(300, 23);
    let data = Data {
        train: train_split.all(),
        val: Some(val_split.all()),
        test: test_split.all(),
        classes: 10,
        image: (1, 28, 28),
    };
    let cfg = TrainConfig {
        epochs: 2,
        hidden: vec![300, 130],
        ..TrainConfig::default()
    };
    // The smallest split product (32 x 300 x 130) and Adam's parameter count clear the bar.
    const { assert!(32 * 300 * 130 >= MIN_SPLIT_WORK) };
    const { assert!(784 * 300 + 300 * 130 >= MIN_SPLIT_WORK) };
    let pools: Vec<_> = [2, 3]
        .into_iter()
        .map(|t| actbench::nn::split::Team::new(t).unwrap())
        .collect();
    for name in ["relu", "gelu_erf", "prelu", "rrelu"] {
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
