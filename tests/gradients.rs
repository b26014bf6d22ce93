//! Every activation's derivative against finite differences (PReLU's and RReLU's on their own
//! code paths), known values, stability, and a whole-network gradient check of backprop against
//! finite differences of an f64 reference.

use actbench::nn::Batch;
use actbench::nn::activation::{Prelu, Rrelu};
use actbench::nn::catalog::{self, CATALOG};
use actbench::nn::loss::softmax_cross_entropy;
use actbench::nn::{Activation, Hidden, Init, Mlp, Mode, Workspace};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::sync::Arc;

/// Every built-in that is a fixed function (PReLU and RReLU have state, and tests of their own
/// below), with the kinks it declares: finite differences across a kink are meaningless, so
/// points closer than 2h to one are skipped (the derivative at the kink follows the left
/// piece, tested below).
fn fixed() -> Vec<(String, Arc<dyn Activation>, Vec<f64>)> {
    CATALOG
        .iter()
        .filter_map(|e| match catalog::parse(e.name).unwrap().hidden {
            Hidden::Fixed(f) => Some((e.name.to_string(), f.clone(), f.kinks())),
            _ => None,
        })
        .collect()
}

/// Forward and backward through the code path training uses, with an incoming gradient of 1:
/// (f(z), f'(z)). PReLU runs with every slope at its initial value, RReLU at evaluation.
fn apply(hidden: &Hidden, z: &[f32]) -> (Vec<f32>, Vec<f32>) {
    let mut y = vec![0.0; z.len()];
    let mut g = vec![1.0; z.len()];
    match hidden {
        Hidden::Fixed(f) => {
            f.forward(z, &mut y);
            f.backward(z, &y, &mut g);
        }
        Hidden::Prelu(p) => {
            let (slopes, mut dslopes) = ([p.init], [0.0]);
            p.forward(z, &slopes, &mut y);
            p.backward(z, &slopes, &mut g, &mut dslopes);
        }
        Hidden::Rrelu(r) => {
            let mut slopes = vec![0.0; z.len()];
            r.draw(None, &mut slopes);
            r.forward(z, &slopes, &mut y);
            r.backward(z, &slopes, &mut g);
        }
    }
    (y, g)
}

fn points() -> Vec<f64> {
    let mut xs: Vec<f64> = (-800..=800).map(|i| i as f64 / 100.0).collect();
    xs.extend([
        0.0, 1e-4, -1e-4, 1e-3, -1e-3, 15.0, -15.0, 30.0, -30.0, 80.0, -80.0,
    ]);
    xs
}

#[test]
fn derivatives_match_central_differences_in_f64() {
    let h = 1e-6;
    let all = fixed();
    assert_eq!(all.len(), CATALOG.len() - 2, "all but prelu and rrelu");
    for (name, act, kinks) in all {
        let mut checked = 0;
        for x in points() {
            if kinks.iter().any(|k| (x - k).abs() < 2.0 * h) {
                continue;
            }
            let fd = (act.value_f64(x + h) - act.value_f64(x - h)) / (2.0 * h);
            let analytic = act.derivative_f64(x);
            let tol = 1e-6 * (1.0 + analytic.abs());
            assert!(
                (fd - analytic).abs() < tol,
                "{name}'({x}): analytic {analytic}, finite difference {fd}"
            );
            checked += 1;
        }
        assert!(checked > 1500, "{name}: only {checked} points checked");
    }
}

/// An incoming gradient that differs per element, so that a backward pass which ignored it,
/// or mixed up elements, would show.
fn incoming(n: usize) -> Vec<f64> {
    (0..n).map(|i| 0.5 + (i as f64 * 0.37).sin()).collect()
}

/// Points off the kink at 0, a row-major batch of 3 columns.
fn leaky_points() -> Vec<f64> {
    (-60..60).map(|i| i as f64 * 0.13 + 0.011).collect()
}

#[test]
fn prelu_derivatives_match_central_differences_on_its_own_path() {
    let prelu = Prelu { init: 0.25 };
    let slopes = [0.1, 0.25, -0.7];
    let z = leaky_points();
    let w = incoming(z.len());
    // The loss sum(w * y), whose gradient is what backward computes from the incoming w.
    let loss = |z: &[f64], a: &[f64]| {
        let mut y = vec![0.0; z.len()];
        prelu.forward(z, a, &mut y);
        y.iter().zip(&w).map(|(y, w)| y * w).sum::<f64>()
    };
    let mut g = w.clone();
    let mut dslopes = [9.0; 3]; // overwritten, not accumulated into
    prelu.backward(&z, &slopes, &mut g, &mut dslopes);
    let h = 1e-6;
    for i in 0..z.len() {
        let (mut plus, mut minus) = (z.clone(), z.clone());
        plus[i] += h;
        minus[i] -= h;
        let fd = (loss(&plus, &slopes) - loss(&minus, &slopes)) / (2.0 * h);
        assert!((g[i] - fd).abs() < 1e-6, "dz[{i}]: {} vs {fd}", g[i]);
    }
    for j in 0..3 {
        let (mut plus, mut minus) = (slopes, slopes);
        plus[j] += h;
        minus[j] -= h;
        let fd = (loss(&z, &plus) - loss(&z, &minus)) / (2.0 * h);
        assert!(fd.abs() > 1.0, "slope {j} matters");
        assert!(
            (dslopes[j] - fd).abs() < 1e-6,
            "da[{j}]: {} vs {fd}",
            dslopes[j]
        );
    }
    // At the kink: the left piece, slope a_j, and z = 0 adds nothing to da_j.
    let (mut g, mut ds) = ([2.0, 2.0, 2.0], [1.0; 3]);
    prelu.backward(&[0.0, 0.0, 0.0], &slopes, &mut g, &mut ds);
    assert_eq!(g, [0.2, 0.5, -1.4]);
    assert_eq!(ds, [0.0; 3]);
}

#[test]
fn rrelu_derivatives_match_central_differences_on_its_own_path() {
    let rrelu = Rrelu::default();
    let z = leaky_points();
    let w = incoming(z.len());
    // Training slopes (one per element) and the evaluation slope, through the same code.
    let mut drawn = vec![0.0f32; z.len()];
    rrelu.draw(Some(&mut ChaCha8Rng::seed_from_u64(5)), &mut drawn);
    let mut mean = vec![0.0f32; z.len()];
    rrelu.draw(None, &mut mean);
    assert!(mean.iter().all(|&a| a == (0.125 + 1.0 / 3.0) / 2.0));
    for slopes in [drawn, mean] {
        let slopes: Vec<f64> = slopes.iter().map(|&a| a as f64).collect();
        let loss = |z: &[f64]| {
            let mut y = vec![0.0; z.len()];
            rrelu.forward(z, &slopes, &mut y);
            y.iter().zip(&w).map(|(y, w)| y * w).sum::<f64>()
        };
        let mut g = w.clone();
        rrelu.backward(&z, &slopes, &mut g);
        let h = 1e-6;
        for i in 0..z.len() {
            let (mut plus, mut minus) = (z.clone(), z.clone());
            plus[i] += h;
            minus[i] -= h;
            let fd = (loss(&plus) - loss(&minus)) / (2.0 * h);
            assert!((g[i] - fd).abs() < 1e-6, "dz[{i}]: {} vs {fd}", g[i]);
        }
        let mut g = [3.0];
        rrelu.backward(&[0.0], &slopes[..1], &mut g);
        assert_eq!(g[0], 3.0 * slopes[0], "the left piece at the kink");
    }
}

/// RReLU's training slopes are the values `random_range(lower..upper)` draws one by one, one
/// word of the stream each, whatever the lengths they are drawn in: so a block of them can be
/// drawn from its own place in the stream (the split forward pass does).
#[test]
fn rrelu_draws_what_random_range_draws_one_word_each() {
    use rand::Rng;
    for r in [
        Rrelu::default(),
        Rrelu {
            lower: -0.5,
            upper: 2.0,
        },
    ] {
        let mut one_by_one = ChaCha8Rng::seed_from_u64(11);
        let mut bulk = ChaCha8Rng::seed_from_u64(11);
        // Lengths around the internal chunk of 256 words and ChaCha's 64-word buffer.
        for len in [0, 1, 3, 64, 255, 256, 257, 700, 1000] {
            let want: Vec<f32> = (0..len)
                .map(|_| one_by_one.random_range(r.lower..r.upper))
                .collect();
            let mut got = vec![f32::NAN; len];
            r.draw(Some(&mut bulk), &mut got);
            assert_eq!(
                got.iter().map(|s| s.to_bits()).collect::<Vec<_>>(),
                want.iter().map(|s| s.to_bits()).collect::<Vec<_>>(),
                "{len} slopes in [{}, {})",
                r.lower,
                r.upper
            );
            assert_eq!(bulk.get_word_pos(), one_by_one.get_word_pos());
            assert!(got.iter().all(|&s| (r.lower..r.upper).contains(&s)));
        }
        // From the middle of the stream: seeking to a block's first word gives its slopes.
        let start = bulk.get_word_pos();
        let mut all = vec![0.0f32; 500];
        r.draw(Some(&mut bulk), &mut all);
        let mut seeked = ChaCha8Rng::seed_from_u64(11);
        seeked.set_word_pos(start + 123);
        let mut tail = vec![0.0f32; 377];
        r.draw(Some(&mut seeked), &mut tail);
        assert_eq!(tail, all[123..]);
    }
}

/// Slopes from an empty or infinite range are refused, as `random_range` refuses them.
#[test]
fn rrelu_refuses_an_empty_range() {
    for (lower, upper) in [
        (0.25, 0.25),
        (0.5, 0.1),
        (f32::NAN, 1.0),
        (f32::MIN, f32::MAX),
    ] {
        let r = Rrelu { lower, upper };
        let drawn = std::panic::catch_unwind(|| {
            r.draw(Some(&mut ChaCha8Rng::seed_from_u64(1)), &mut [0.0; 4])
        });
        assert!(drawn.is_err(), "[{lower}, {upper})");
        // Evaluation uses the mean and draws nothing.
        r.draw(None, &mut [0.0; 4]);
    }
}

#[test]
fn f32_versions_agree_with_f64() {
    for (name, act, _) in fixed() {
        for x in points() {
            let (v32, v64) = (act.value(x as f32) as f64, act.value_f64(x));
            assert!(
                (v32 - v64).abs() <= 2e-6 * (1.0 + v64.abs()),
                "{name}({x}): f32 {v32} vs f64 {v64}"
            );
            let d32 = act.derivative(x as f32, act.value(x as f32)) as f64;
            let d64 = act.derivative_f64(x);
            assert!(
                (d32 - d64).abs() <= 2e-5 * (1.0 + d64.abs()),
                "{name}'({x}): f32 {d32} vs f64 {d64}"
            );
        }
    }
}

#[test]
fn known_values() {
    let f = |name: &str, x: f32| apply(&catalog::parse(name).unwrap().hidden, &[x]).0[0];
    let close = |a: f32, b: f32, tol: f32| assert!((a - b).abs() <= tol, "{a} vs {b}");
    close(f("sigmoid", 2.0), 0.880_797, 1e-6);
    close(f("tanh", 2.0), 0.964_028, 1e-6);
    close(f("elu", -2.0), -0.864_665, 1e-6);
    close(f("gelu", 2.0), 1.954_598, 1e-5);
    close(f("gelu", -2.0), -0.045_402, 1e-5);
    close(f("gelu_erf", 2.0), 1.9545, 1e-5);
    close(f("leaky_relu", -3.0), -0.03, 1e-7);
    close(f("leaky_relu:0.2", -3.0), -0.6, 1e-7);
    close(f("relu", -3.0), 0.0, 0.0);
    close(f("custom", 1.0), 1.0 + 0.5 * 0.761_594, 1e-6);
    close(f("custom", -1.0), -0.5 * 0.761_594, 1e-6);
    close(f("swish", 1.0), 0.731_059, 1e-6);
    close(f("mish", 1.0), 0.865_098, 1e-6);
    close(f("selu", -1.0), -1.111_330_7, 1e-6);
    close(f("softplus", 0.0), std::f32::consts::LN_2, 1e-7);
    close(f("softsign", 3.0), 0.75, 1e-7);
    close(f("hard_sigmoid", 1.5), 0.75, 1e-7);
    close(f("hard_swish", 1.5), 1.125, 1e-7);
    close(f("relu6", 7.0), 6.0, 0.0);
    close(f("hard_tanh", -2.0), -1.0, 0.0);
    close(f("log_sigmoid", 0.0), -std::f32::consts::LN_2, 1e-7);
    close(f("tanhshrink", 1.0), 1.0 - 0.761_594, 1e-6);
    close(f("celu:2", -2.0), 2.0 * ((-1.0f32).exp() - 1.0), 1e-6);
    close(f("linear", -7.5), -7.5, 0.0);
    // PReLU starts at slope 0.25; RReLU evaluates at the mean slope (1/8 + 1/3) / 2.
    close(f("prelu", -4.0), -1.0, 1e-7);
    close(f("prelu:0.5", -4.0), -2.0, 1e-7);
    close(f("rrelu", -24.0), -24.0 * (0.125 + 1.0 / 3.0) / 2.0, 1e-5);
}

#[test]
fn derivatives_at_kinks_follow_the_left_piece() {
    let d = |name: &str, x: f32| apply(&catalog::parse(name).unwrap().hidden, &[x]).1[0];
    assert_eq!(d("relu", 0.0), 0.0);
    assert_eq!(d("leaky_relu", 0.0), 0.01);
    assert_eq!(d("prelu", 0.0), 0.25);
    assert_eq!(d("rrelu", 0.0), (0.125 + 1.0 / 3.0) / 2.0);
    assert_eq!(d("relu6", 6.0), 1.0);
    assert_eq!(d("relu6", 0.0), 0.0);
    assert_eq!(d("hard_tanh", -1.0), 0.0);
    assert_eq!(d("hard_tanh", 1.0), 1.0);
    assert_eq!(d("hard_sigmoid", -3.0), 0.0);
    assert_eq!(d("hard_sigmoid", 3.0), 1.0 / 6.0);
    assert_eq!(d("custom", 0.0), 0.5);
    assert_eq!(d("elu", 0.0), 1.0);
    assert_eq!(d("elu:2", 0.0), 2.0);
}

/// Every activation, through the training code path, at huge inputs: finite values and
/// derivatives, except where the exact value is beyond f32's range and infinity is the right
/// answer. One built-in has such a value: selu(x) = 1.0507 x exceeds f32::MAX for x above
/// f32::MAX / 1.0507, so selu(f32::MAX) = +inf (its derivative stays lambda). In f64 (the
/// gradient checks' form) every value is finite.
#[test]
fn stable_for_huge_inputs() {
    const SELU_LAMBDA: f32 = 1.050_700_987_355_480_5_f64 as f32;
    let z: Vec<f32> = vec![1e4, -1e4, 1e30, -1e30, f32::MAX, -f32::MAX];
    let mut checked = 0;
    for e in CATALOG {
        let hidden = catalog::parse(e.name).unwrap().hidden;
        let (y, g) = apply(&hidden, &z);
        for (i, &x) in z.iter().enumerate() {
            if e.name == "selu" && x == f32::MAX {
                assert_eq!((y[i], g[i]), (f32::INFINITY, SELU_LAMBDA));
                continue;
            }
            assert!(y[i].is_finite(), "{}({x}) = {}", e.name, y[i]);
            assert!(g[i].is_finite(), "{}'({x}) = {}", e.name, g[i]);
            let f = hidden.function();
            let (v, d) = (f.value_f64(x as f64), f.derivative_f64(x as f64));
            assert!(
                v.is_finite() && d.is_finite(),
                "{} in f64 at {x}: {v} {d}",
                e.name
            );
            checked += 1;
        }
        // Around exp's cut-offs and at 0: no NaN.
        let (y, g) = apply(&hidden, &[88.8, -88.8, 87.4, -87.4, 0.0, -0.0]);
        assert!(
            y.iter().chain(&g).all(|v| !v.is_nan()),
            "{}: {y:?} {g:?}",
            e.name
        );
    }
    assert_eq!(checked, CATALOG.len() * z.len() - 1);
    // Parameters that make an intermediate overflow: swish's beta x.
    for name in ["swish:4", "celu:0.01", "elu:100"] {
        let (y, g) = apply(&catalog::parse(name).unwrap().hidden, &z);
        assert!(
            y.iter().chain(&g).all(|v| v.is_finite()),
            "{name}: {y:?} {g:?}"
        );
    }
}

// ---- whole-network gradient check ----------------------------------------------------------

/// The network's loss in f64 from flat f64 parameters laid out as `Mlp` documents.
fn reference_loss(
    sizes: &[usize],
    params: &[f64],
    hidden: &Hidden,
    x: &[f64],
    labels: &[u8],
) -> f64 {
    let f = hidden.function();
    let rows = labels.len();
    let mut offset = 0;
    let mut slope_offset = sizes.windows(2).map(|p| p[0] * p[1] + p[1]).sum::<usize>();
    let mut a: Vec<f64> = x.to_vec();
    for (l, pair) in sizes.windows(2).enumerate() {
        let (k, n) = (pair[0], pair[1]);
        let (w, b) = (
            &params[offset..offset + k * n],
            &params[offset + k * n..offset + k * n + n],
        );
        offset += k * n + n;
        let mut z = vec![0.0; rows * n];
        for i in 0..rows {
            for j in 0..n {
                z[i * n + j] = b[j] + (0..k).map(|p| a[i * k + p] * w[p * n + j]).sum::<f64>();
            }
        }
        if l + 2 == sizes.len() {
            a = z;
            break;
        }
        a = match hidden {
            Hidden::Prelu { .. } => {
                let s = &params[slope_offset..slope_offset + n];
                slope_offset += n;
                z.iter()
                    .enumerate()
                    .map(|(idx, &v)| if v > 0.0 { v } else { s[idx % n] * v })
                    .collect()
            }
            _ => z.iter().map(|&v| f.value_f64(v)).collect(),
        };
    }
    let c = *sizes.last().unwrap();
    let mut loss = 0.0;
    for (i, &y) in labels.iter().enumerate() {
        let row = &a[i * c..(i + 1) * c];
        let m = row.iter().cloned().fold(f64::MIN, f64::max);
        let lse = m + row.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
        loss += lse - row[y as usize];
    }
    loss / rows as f64
}

/// Backprop against finite differences of `reference_loss`, for every weight, bias and slope.
///
/// Tolerance. The finite differences are central, in f64, with h = 1e-6: their truncation error
/// is h^2/6 |f'''| ~ 1e-13 and their rounding error eps64 |loss| / h ~ 1e-10 (loss ~ 1), so the
/// reference gradient is good to ~1e-9. What differs is the network under test: its forward
/// and backward passes run in f32, each output a sum whose rounding is a few eps32 (1.2e-7)
/// relative to the terms summed, which are of the gradient's own scale. So the check is
/// |backprop - fd| <= 16 eps32 * (largest |fd| of the network): measured, the worst error over
/// every activation and shape here was 2.6e-7 of that scale (2.2 eps32), 7x inside; a wrong
/// derivative or a dropped term errs by a good fraction of the scale.
fn check_network(sizes: &[usize], rows: usize, names: &[&str]) {
    let features = sizes[0];
    let x: Vec<f32> = (0..rows * features)
        .map(|i| {
            // Zeros as in images; input 1 is dark in every sample and the last sample is all
            // dark, so the sparse kernels' empty row and empty column paths run too.
            let (r, k) = (i / features, i % features);
            if i % 5 == 0 || k == 1 || r == rows - 1 {
                0.0
            } else {
                ((i * 37 % 23) as f32 / 11.0) - 1.0
            }
        })
        .collect();
    let classes = *sizes.last().unwrap();
    let labels: Vec<u8> = (0..rows).map(|r| ((r * 7 + 2) % classes) as u8).collect();
    let batch = Batch::from_dense(sizes[0], &x, &labels);
    let x64: Vec<f64> = x.iter().map(|&v| v as f64).collect();
    let slopes: usize = sizes[1..sizes.len() - 1].iter().sum();
    for name in names {
        let hidden = catalog::parse(name).unwrap().hidden;
        let mut mlp = Mlp::new(sizes, hidden.clone(), Init::GlorotUniform, 7);
        // Biases start at zero; move them off it, so that their gradients mean something and
        // the all-dark sample's first-layer units sit off the kinks of relu and its kind.
        let mut offset = 0;
        for pair in sizes.windows(2) {
            offset += pair[0] * pair[1];
            for (j, b) in mlp.params[offset..offset + pair[1]].iter_mut().enumerate() {
                *b = ((j % 7) as f32 - 3.5) * 0.03;
            }
            offset += pair[1];
        }
        if let Hidden::Prelu { .. } = hidden {
            // Move slopes off their shared initial value so that each one matters on its own.
            let n = mlp.parameter_count();
            for (i, s) in mlp.params[n - slopes..].iter_mut().enumerate() {
                *s = 0.1 + 0.05 * (i % 9) as f32;
            }
        }
        let mut ws = Workspace::new(&mlp, rows);
        mlp.forward(&batch, &mut ws, Mode::Eval);
        let (logits, dlogits) = ws.logits_and_grad();
        softmax_cross_entropy(logits, &labels, classes, Some((dlogits, rows as f32)));
        let mut grads = vec![0.0f32; mlp.parameter_count()];
        mlp.backward(&batch, &mut ws, &mut grads);

        let p64: Vec<f64> = mlp.params.iter().map(|&v| v as f64).collect();
        let h = 1e-6;
        let fds: Vec<f64> = (0..p64.len())
            .map(|i| {
                let (mut plus, mut minus) = (p64.clone(), p64.clone());
                plus[i] += h;
                minus[i] -= h;
                (reference_loss(sizes, &plus, &hidden, &x64, &labels)
                    - reference_loss(sizes, &minus, &hidden, &x64, &labels))
                    / (2.0 * h)
            })
            .collect();
        let scale = fds.iter().fold(0f64, |m, fd| m.max(fd.abs()));
        assert!(scale > 1e-3, "{name} {sizes:?}: gradients vanish ({scale})");
        let tol = 16.0 * f32::EPSILON as f64 * scale;
        for (i, (&g, &fd)) in grads.iter().zip(&fds).enumerate() {
            assert!(
                (g as f64 - fd).abs() <= tol,
                "{name} {sizes:?}: parameter {i}: backprop {g}, finite difference {fd} \
                 (tolerance {tol:e})"
            );
        }
    }
}

#[test]
fn backprop_matches_finite_differences_for_every_activation() {
    let names: Vec<&str> = CATALOG.iter().map(|e| e.name).collect();
    check_network(&[6, 5, 4, 3], 4, &names);
}

/// A network and batch whose products reach every register tile of `src/nn/kernels.rs`,
/// computed from its tile constants so that a change of tiles changes the shapes with it.
/// With today's TR = 4, TC = 16, SC = 64: 9 samples, 12-70-31-10, and (m x n of each product):
///
/// - layer 1 forward, `sparse_forward`, 9 x 70: one SC block and a 6-column rest; an empty row.
/// - layer 1 dW, `sparse_weight_grad`, 12 x 70: the same; an empty column.
/// - layer 2 forward, `gemm`, 9 x 31: TR x TC, 1 x TC (row 9), and the column edge 15 = 8+4+2+1
///   as TR x 8, TR x 4, TR x 2, TR x 1 and 1 x 8, 1 x 4, 1 x 2, 1 x 1.
/// - layer 2 dW, `gemm`, 70 x 31: the same tiles (70 = 17 x TR + 2 single rows).
/// - layer 2 dx, `gemm` with n = batch, 70 x 9: TR x 8, TR x 1, 1 x 8, 1 x 1.
/// - layer 3 forward, 9 x 10: TR and single rows x 8, 2, 1; with fewer than 16 outputs its
///   backward products go the other way round (`mlp.rs`, `NARROW_OUTPUTS`): dW^T 10 x 31 and
///   dx 9 x 31, TR and single rows x TC and the edge 15.
///
/// Every column edge width is reached because TC - 1 is the sum of them all (they halve).
fn tile_shapes() -> (Vec<usize>, usize) {
    use actbench::nn::kernels::{SC, TC, TR};
    let rows = 2 * TR + 1; // two full row tiles and a single row
    let sparse = SC + 6; // a full sparse block and a rest
    let dense = TC + (TC - 1); // a full column tile and every edge width
    (vec![12, sparse, dense, 10], rows)
}

#[test]
fn backprop_matches_finite_differences_at_kernel_tile_sizes() {
    let (sizes, rows) = tile_shapes();
    let names: Vec<&str> = CATALOG.iter().map(|e| e.name).collect();
    check_network(&sizes, rows, &names);
}
