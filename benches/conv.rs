//! The convolution's algorithm, chosen by measurement: im2col + the register-tiled product
//! against the direct loop, forward and backward, at the tutorial network's two layers
//! (batch 32): 28x28x1 -> 32 filters and 13x13x32 -> 64 filters.

use actbench::nn::conv::{self, Conv3x3, InputGrad, direct};
use criterion::{Criterion, criterion_group, criterion_main};
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

criterion_group!(benches, layers);
criterion_main!(benches);
