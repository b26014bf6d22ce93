//! One model split over several threads trains bit-identically to the same model on one
//! thread: the products and Adam are cut by output blocks (see `actbench::nn::split`), so every
//! sum keeps its order. The network is wide enough that every product of a full batch is split
//! (each is above `split::MIN_SPLIT_WORK`), with widths that leave partial tiles and blocks; at
//! batch 256 the batch fill, the activations, the transposes and the diagnostics' sums are
//! split too.

use actbench::data::synthetic::synthetic;
use actbench::nn::catalog;
use actbench::nn::input::SPLIT_FILL_MIN_ROWS;
use actbench::nn::split::{MIN_SPLIT_ELEMENTS, MIN_SPLIT_WORK};
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
    let configs = [32, 256].map(|batch_size| TrainConfig {
        epochs: 2,
        hidden: vec![300, 130],
        batch_size,
        ..TrainConfig::default()
    });
    // At batch 256 (batches of 256 and 133 rows) the fill splits from 64 rows, the activations
    // and transposes from 2^15 values.
    const { assert!(133 >= SPLIT_FILL_MIN_ROWS && 256 * 300 >= MIN_SPLIT_ELEMENTS) };
    // The smallest split product (32 x 300 x 130) and Adam's parameter count clear the bar.
    const { assert!(32 * 300 * 130 >= MIN_SPLIT_WORK) };
    const { assert!(784 * 300 + 300 * 130 >= MIN_SPLIT_WORK) };
    let pools: Vec<_> = [2, 3]
        .into_iter()
        .map(|t| actbench::nn::split::Team::new(t).unwrap())
        .collect();
    for (name, cfg) in ["relu", "gelu_erf", "prelu", "rrelu"]
        .into_iter()
        .flat_map(|name| configs.iter().map(move |cfg| (name, cfg)))
    {
        let hidden = catalog::parse(name).unwrap().hidden;
        let fingerprint = |outcome: train::Outcome| -> Vec<u64> {
            assert_eq!(outcome.epochs.len(), 2, "{name}");
            outcome
                .epochs
                .iter()
                .flat_map(|e| {
                    let val = e.val.expect("validation");
                    let layers = e.layers.iter().flat_map(|l| {
                        [
                            l.grad_rms,
                            l.weight_norm,
                            l.update_ratio,
                            l.dead_fraction,
                            l.saturated_fraction,
                            l.preact_mean,
                            l.preact_std,
                        ]
                    });
                    [e.train.loss, val.loss, e.test.loss, e.test.accuracy]
                        .into_iter()
                        .chain(layers)
                })
                .map(f64::to_bits)
                .collect()
        };
        let one = fingerprint(train::train(&hidden, &data, cfg, &mut |_| {}));
        for pool in &pools {
            let split = fingerprint(train::train_in(pool, &hidden, &data, cfg, &mut |_| {}));
            assert_eq!(
                split,
                one,
                "{name} at batch {} on {} threads differs from one thread",
                cfg.batch_size,
                pool.threads()
            );
        }
    }
}
