//! MNIST-shaped synthetic data for benchmarks and tests: 28x28 `u8` images whose lit pixels
//! (about a fifth, like MNIST's) form a class-dependent blob, so a network can learn them.

use crate::nn::Split;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const ROWS: usize = 28;
const COLS: usize = 28;
const PIXELS: usize = ROWS * COLS;
const CLASSES: usize = 10;

/// `n` images with labels `0..10`, deterministic in `seed`.
pub fn synthetic(n: usize, seed: u64) -> Split {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut images = vec![0u8; n * PIXELS];
    let mut labels = Vec::with_capacity(n);
    for image in images.chunks_exact_mut(PIXELS) {
        let label = rng.random_range(0..CLASSES);
        labels.push(label as u8);
        // A blob whose centre depends on the label, plus noise in the middle of the image.
        let (cy, cx) = (6 + (label / 5) * 10, 5 + (label % 5) * 4);
        for y in 4..ROWS - 4 {
            for x in 4..COLS - 4 {
                let d = (y as i32 - cy as i32).pow(2) + (x as i32 - cx as i32).pow(2);
                if d < 30 || rng.random_range(0..100) < 8 {
                    image[y * COLS + x] = rng.random_range(1..=255);
                }
            }
        }
    }
    Split::new(images, labels)
}
