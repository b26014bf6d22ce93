//! The whole network against an independent f64 forward pass written from the documented
//! layout (plain loops, no shared code with the network but the activation functions), by
//! central finite differences of the loss for every parameter, with every activation.

use super::*;
use crate::nn::activation::Rrelu;
use crate::nn::catalog::{self, CATALOG};
use crate::nn::loss::softmax_cross_entropy;

/// Mean softmax cross-entropy in f64 of the network `s` with flat `params`; `noise` gives
/// RReLU's per-element slopes per hidden layer (training mode), else its evaluation slope.
fn reference_loss(
    s: &CnnShape,
    params: &[f64],
    hidden: &Hidden,
    x: &[f32],
    labels: &[u8],
    noise: Option<&[Vec<f32>]>,
) -> f64 {
    let rows = labels.len();
    let f = hidden.function();
    let (mut h, mut w, mut c) = (s.height, s.width, s.channels);
    // Channel-major samples to channels-last f64 images.
    let mut a = vec![0.0f64; rows * h * w * c];
    for r in 0..rows {
        for ch in 0..c {
            for y in 0..h {
                for xx in 0..w {
                    a[((r * h + y) * w + xx) * c + ch] = x[((r * c + ch) * h + y) * w + xx] as f64;
                }
            }
        }
    }
    // Slopes come after every weight and bias.
    let mut weights = 0;
    let (mut hh, mut ww, mut cc) = (h, w, c);
    for &fl in &s.filters {
        weights += 9 * cc * fl + fl;
        (hh, ww, cc) = ((hh - 2) / 2, (ww - 2) / 2, fl);
    }
    let mut widths = vec![hh * ww * cc];
    widths.extend(&s.hidden);
    widths.push(s.classes);
    for p in widths.windows(2) {
        weights += p[0] * p[1] + p[1];
    }
    let (mut off, mut slope_off, mut layer) = (0, weights, 0);
    let act = |z: f64, unit: usize, e: usize, layer: usize, slopes: &[f64]| -> f64 {
        match (hidden, noise) {
            (Hidden::Prelu(_), _) => {
                if z > 0.0 {
                    z
                } else {
                    slopes[unit] * z
                }
            }
            (Hidden::Rrelu(_), Some(noise)) => {
                if z > 0.0 {
                    z
                } else {
                    noise[layer][e] as f64 * z
                }
            }
            _ => f.value_f64(z),
        }
    };
    for &fl in &s.filters {
        let kernel = &params[off..off + 9 * c * fl];
        let bias = &params[off + 9 * c * fl..off + 9 * c * fl + fl];
        off += 9 * c * fl + fl;
        let slopes = if matches!(hidden, Hidden::Prelu(_)) {
            slope_off += fl;
            &params[slope_off - fl..slope_off]
        } else {
            &[]
        };
        let (oh, ow) = (h - 2, w - 2);
        let mut z = vec![0.0f64; rows * oh * ow * fl];
        for r in 0..rows {
            for y in 0..oh {
                for xx in 0..ow {
                    for o in 0..fl {
                        let mut sum = bias[o];
                        for ky in 0..3 {
                            for kx in 0..3 {
                                for ch in 0..c {
                                    sum += a[((r * h + y + ky) * w + xx + kx) * c + ch]
                                        * kernel[((ky * 3 + kx) * c + ch) * fl + o];
                                }
                            }
                        }
                        let e = ((r * oh + y) * ow + xx) * fl + o;
                        z[e] = act(sum, o, e, layer, slopes);
                    }
                }
            }
        }
        layer += 1;
        let (ph, pw) = (oh / 2, ow / 2);
        a = vec![0.0; rows * ph * pw * fl];
        for r in 0..rows {
            for y in 0..ph {
                for xx in 0..pw {
                    for o in 0..fl {
                        let at = |dy: usize, dx: usize| {
                            z[((r * oh + 2 * y + dy) * ow + 2 * xx + dx) * fl + o]
                        };
                        a[((r * ph + y) * pw + xx) * fl + o] =
                            at(0, 0).max(at(0, 1)).max(at(1, 0)).max(at(1, 1));
                    }
                }
            }
        }
        (h, w, c) = (ph, pw, fl);
    }
    let last = widths.len() - 2;
    for (l, p) in widths.windows(2).enumerate() {
        let (k, n) = (p[0], p[1]);
        let wm = &params[off..off + k * n];
        let b = &params[off + k * n..off + k * n + n];
        off += k * n + n;
        let mut z = vec![0.0; rows * n];
        for r in 0..rows {
            for j in 0..n {
                z[r * n + j] = b[j] + (0..k).map(|i| a[r * k + i] * wm[i * n + j]).sum::<f64>();
            }
        }
        if l == last {
            a = z;
            break;
        }
        let slopes = if matches!(hidden, Hidden::Prelu(_)) {
            slope_off += n;
            &params[slope_off - n..slope_off]
        } else {
            &[]
        };
        a = z
            .iter()
            .enumerate()
            .map(|(e, &v)| act(v, e % n, e, layer, slopes))
            .collect();
        layer += 1;
    }
    let k = s.classes;
    let mut loss = 0.0;
    for (r, &y) in labels.iter().enumerate() {
        let row = &a[r * k..(r + 1) * k];
        let m = row.iter().cloned().fold(f64::MIN, f64::max);
        let lse = m + row.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
        loss += lse - row[y as usize];
    }
    loss / rows as f64
}

fn inputs(s: &CnnShape, rows: usize) -> (Vec<f32>, Vec<u8>) {
    let features = s.height * s.width * s.channels;
    let x = (0..rows * features)
        .map(|i| {
            if i % 7 == 3 {
                0.0
            } else {
                ((i * 37 % 101) as f32 / 101.0 + (i as f32 * 0.13).sin()) * 0.7
            }
        })
        .collect();
    let labels = (0..rows).map(|r| ((r * 7 + 2) % s.classes) as u8).collect();
    (x, labels)
}

/// Backprop against finite differences for the parameters `every`-th apart (all for 1).
fn check(s: &CnnShape, rows: usize, names: &[&str], train: bool, every: usize) {
    let (x, labels) = inputs(s, rows);
    let batch = Batch::from_dense(s.height * s.width * s.channels, &x, &labels);
    for name in names {
        let hidden = catalog::parse(name).unwrap().hidden;
        let mut cnn = Cnn::new(s, hidden.clone(), Init::GlorotUniform, 5).unwrap();
        let n = cnn.parameter_count();
        let first_slope = cnn.blocks.first().and_then(|b| b.slopes).unwrap_or(n);
        for (i, a) in cnn.params[first_slope..].iter_mut().enumerate() {
            // Distinct slopes, so that each one matters on its own.
            *a = 0.1 + 0.05 * (i % 9) as f32;
        }
        let mut ws = CnnWorkspace::new(&cnn, rows + 2);
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let mode = if train {
            Mode::Train(&mut rng)
        } else {
            Mode::Eval
        };
        cnn.forward(&batch, &mut ws, mode);
        let noise: Vec<Vec<f32>> = ws
            .blocks
            .iter()
            .map(|b| b.noise.to_vec())
            .chain(ws.dense.iter().map(|d| d.noise.to_vec()))
            .collect();
        let (logits, dlogits) = ws.logits_and_grad();
        let (loss32, _) =
            softmax_cross_entropy(logits, &labels, s.classes, Some((dlogits, rows as f32)));
        let mut grads = vec![f32::NAN; n];
        cnn.backward(&mut ws, &mut grads);

        let p64: Vec<f64> = cnn.params.iter().map(|&v| v as f64).collect();
        let noise = train.then_some(&noise[..]);
        let loss = |p: &[f64]| reference_loss(s, p, &hidden, &x, &labels, noise);
        let base = loss(&p64);
        assert!(
            (base - loss32 / rows as f64).abs() < 1e-5 * (1.0 + base.abs()),
            "{name}: reference loss {base} vs network {}",
            loss32 / rows as f64
        );
        let h = 1e-6;
        let mut checked = 0;
        for i in (0..n).step_by(every) {
            let (mut plus, mut minus) = (p64.clone(), p64.clone());
            plus[i] += h;
            minus[i] -= h;
            let fd = (loss(&plus) - loss(&minus)) / (2.0 * h);
            let g = grads[i] as f64;
            assert!(
                (g - fd).abs() < 2e-4 * (1.0 + fd.abs()) + 1e-5,
                "{name} {}: parameter {i} of {n}: backprop {g}, finite difference {fd}",
                s.describe()
            );
            checked += 1;
        }
        assert!(checked >= n / every, "{name}: {checked} checked");
    }
}

/// Two channels in, odd sizes everywhere (11x12 -> 9x10 -> 4x5 -> 2x3 -> 1x1: pooling drops a
/// column), 3 images (not a multiple of the product's 4-row tile), narrow edge-tile widths.
fn small() -> CnnShape {
    CnnShape {
        height: 11,
        width: 12,
        channels: 2,
        filters: vec![3, 4],
        hidden: vec![5],
        classes: 3,
    }
}

#[test]
fn backprop_matches_finite_differences_for_every_activation() {
    let names: Vec<&str> = CATALOG.iter().map(|e| e.name).collect();
    check(&small(), 3, &names, false, 1);
}

#[test]
fn rrelu_backprop_uses_the_forward_passes_random_slopes() {
    check(&small(), 3, &["rrelu"], true, 1);
}

/// Widths at the product's full tiles and their edges (17 = 16 + 1 filters, 33 = 2 x 16 + 1
/// units), a 3-channel input, 5 images, two hidden dense layers; a sample of parameters.
#[test]
fn backprop_matches_finite_differences_at_tile_sizes() {
    let s = CnnShape {
        height: 13,
        width: 10,
        channels: 3,
        filters: vec![17, 20],
        hidden: vec![33, 6],
        classes: 10,
    };
    check(&s, 5, &["relu", "tanh", "elu", "prelu"], false, 13);
    check(&s, 5, &["rrelu"], true, 13);
}

#[test]
fn rrelu_draws_slopes_in_its_range_while_training() {
    let s = small();
    let (lower, upper) = (0.125f32, 1.0 / 3.0);
    let cnn = Cnn::new(
        &s,
        Hidden::Rrelu(Rrelu { lower, upper }),
        Init::GlorotUniform,
        1,
    )
    .unwrap();
    let (x, labels) = inputs(&s, 4);
    let batch = Batch::from_dense(s.height * s.width * s.channels, &x, &labels);
    let mut ws = CnnWorkspace::new(&cnn, 4);
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    cnn.forward(&batch, &mut ws, Mode::Train(&mut rng));
    let b = &ws.blocks[0];
    let n = 4 * b.z.len() / ws.capacity;
    let slopes: Vec<f32> = (0..n)
        .filter(|&i| b.z[i] < -1e-2)
        .map(|i| b.y[i] / b.z[i])
        .collect();
    assert!(slopes.len() > 50, "{} negative units", slopes.len());
    assert!(
        slopes
            .iter()
            .all(|&a| a >= lower - 1e-4 && a < upper + 1e-4)
    );
    let spread = slopes.iter().cloned().fold(0.0f32, f32::max)
        - slopes.iter().cloned().fold(1.0f32, f32::min);
    assert!(spread > 0.1, "slopes should vary: {spread}");
    cnn.forward(&batch, &mut ws, Mode::Eval);
    let b = &ws.blocks[0];
    for i in (0..n).filter(|&i| b.z[i] < -1e-2) {
        assert!((b.y[i] / b.z[i] - (lower + upper) / 2.0).abs() < 1e-5);
    }
}

#[test]
fn tutorial_shapes_and_parameter_counts() {
    let mnist = CnnShape::tutorial(28, 28, 1, 10);
    assert_eq!(mnist.flattened(), Ok(1600));
    let cnn = Cnn::new(
        &mnist,
        catalog::parse("relu").unwrap().hidden,
        Init::GlorotUniform,
        1,
    );
    // (9*1*32 + 32) + (9*32*64 + 64) + (1600*64 + 64) + (64*10 + 10), as Keras's summary.
    assert_eq!(cnn.unwrap().parameter_count(), 320 + 18_496 + 102_464 + 650);
    let cifar = CnnShape::tutorial(32, 32, 3, 10);
    assert_eq!(cifar.flattened(), Ok(2304));
    let prelu = Cnn::new(
        &cifar,
        catalog::parse("prelu").unwrap().hidden,
        Init::GlorotUniform,
        1,
    );
    // Plus one slope per conv channel (32 + 64) and per hidden unit (64).
    assert_eq!(
        prelu.unwrap().parameter_count(),
        896 + 18_496 + 147_520 + 650 + 32 + 64 + 64
    );
    assert_eq!(cifar.describe(), "32x32x3-c32-p-c64-p-d64-10");
    let tiny = CnnShape::tutorial(9, 9, 1, 10);
    let err = tiny.blocks().unwrap_err();
    assert!(err.contains("block 2 gets 3x3"), "{err}");
}

#[test]
fn glorot_limits_use_the_kernels_fans() {
    let s = CnnShape::tutorial(28, 28, 1, 10);
    let cnn = Cnn::new(
        &s,
        catalog::parse("relu").unwrap().hidden,
        Init::GlorotUniform,
        3,
    )
    .unwrap();
    // conv1: sqrt(6 / (9 + 288)); conv2: sqrt(6 / (288 + 576)); the draws nearly reach them.
    for (range, limit) in [
        (0..288, (6.0f32 / 297.0).sqrt()),
        (320..320 + 18_432, (6.0f32 / 864.0).sqrt()),
    ] {
        let max = cnn.params[range.clone()]
            .iter()
            .fold(0.0f32, |m, v| m.max(v.abs()));
        assert!(
            max <= limit && max > 0.95 * limit,
            "{range:?}: {max} vs {limit}"
        );
    }
    let biases = [288..320, 18_752..18_816];
    assert!(
        biases
            .iter()
            .all(|r| cnn.params[r.clone()].iter().all(|&b| b == 0.0))
    );
}
