//! Training gives bit-identical results on every CPU level this machine can run (see
//! `actbench::nn::cpu`): the levels differ in vector width and tile shapes, never in the order
//! of any sum. One test in its own process, so switching the level races with nothing.

use actbench::data::synthetic::synthetic;
use actbench::nn::catalog;
use actbench::nn::cpu::{self, Level};
use actbench::train::{self, Data, TrainConfig};

#[test]
fn every_available_level_trains_bit_identically() {
    let train_split = synthetic(20 * 32 + 7, 11);
    let test_split = synthetic(300, 12);
    let data = Data {
        train: train_split.all(),
        val: None,
        test: test_split.all(),
        classes: 10,
        image: (1, 28, 28),
    };
    let cfg = TrainConfig {
        epochs: 2,
        hidden: vec![40, 19],
        ..TrainConfig::default()
    };
    let levels: Vec<Level> = Level::ALL.into_iter().filter(|l| l.available()).collect();
    assert!(levels.contains(&Level::Portable));
    println!("levels compared: {levels:?}");
    for name in ["relu", "tanh", "gelu_erf", "mish", "prelu", "elu"] {
        let hidden = catalog::parse(name).unwrap().hidden;
        let fingerprints: Vec<Vec<u64>> = levels
            .iter()
            .map(|&level| {
                cpu::set_level(level);
                let outcome = train::train(&hidden, &data, &cfg, &mut |_| {});
                assert_eq!(outcome.epochs.len(), 2, "{name} on {level:?}");
                outcome
                    .epochs
                    .iter()
                    .flat_map(|e| [e.train.loss, e.test.loss, e.test.accuracy])
                    .map(f64::to_bits)
                    .collect()
            })
            .collect();
        for (level, f) in levels.iter().zip(&fingerprints) {
            assert_eq!(
                f, &fingerprints[0],
                "{name}: {level:?} differs from {:?}",
                levels[0]
            );
        }
    }
}
