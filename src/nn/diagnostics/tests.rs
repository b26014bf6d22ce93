use super::*;
use crate::nn::activation::{Relu, Sigmoid, Tanh};
use crate::nn::catalog;
use crate::nn::loss::softmax_cross_entropy;
use crate::nn::{AdamConfig, Batch, Cnn, CnnShape, CnnWorkspace, Hidden, Init, Mode, Model};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// One training step as `train` takes it: forward, loss head, backward, Adam.
fn step<M: Model>(
    net: &mut M,
    ws: &mut <M as Model>::Workspace,
    adam: &mut Adam,
    grads: &mut [f32],
    batch: &Batch,
) {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    net.forward(batch, ws, Mode::Train(&mut rng));
    let classes = net.classes();
    let (logits, dlogits) = net.logits_and_grad(ws);
    softmax_cross_entropy(
        logits,
        &batch.labels,
        classes,
        Some((dlogits, batch.rows as f32)),
    );
    net.backward(batch, ws, grads);
    adam.update(net.params_mut(), grads);
}

fn random_batch(rng: &mut ChaCha8Rng, rows: usize, features: usize, classes: u8) -> Batch {
    let x: Vec<f32> = (0..rows * features)
        .map(|_| rng.random_range(0.0..1.0))
        .collect();
    let labels: Vec<u8> = (0..rows).map(|_| rng.random_range(0..classes)).collect();
    Batch::from_dense(features, &x, &labels)
}

fn norm(v: &[f32]) -> f64 {
    v.iter().map(|&x| (x as f64).powi(2)).sum::<f64>().sqrt()
}

/// grad_rms, weight_norm and update_ratio against the same figures computed directly from the
/// gradient buffer and the parameters before and after each update (the applied change).
#[test]
fn gradient_and_weight_figures_match_the_buffers() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut mlp = Mlp::new(&[6, 5, 4, 3], Hidden::fixed(Tanh), Init::GlorotUniform, 3);
    let mut ws = Workspace::new(&mlp, 8);
    let mut adam = Adam::new(AdamConfig::default(), mlp.parameter_count());
    let mut grads = vec![0.0f32; mlp.parameter_count()];
    let mut probe = Probe::new(&mlp, 1);
    let (mut want_rms, mut want_ratio) = ([0.0f64; 2], [0.0f64; 2]);
    let steps = 4;
    for _ in 0..steps {
        let batch = random_batch(&mut rng, 8, 6, 3);
        let before = mlp.params.to_vec();
        step(&mut mlp, &mut ws, &mut adam, &mut grads, &batch);
        probe.observe(&mlp, &ws, &grads, &adam);
        for l in 0..2 {
            let r = mlp.weight_range(l);
            want_rms[l] += norm(&grads[r.clone()]) / (r.len() as f64).sqrt() / steps as f64;
            let moved: Vec<f32> = before[r.clone()]
                .iter()
                .zip(&mlp.params[r.clone()])
                .map(|(a, b)| b - a)
                .collect();
            want_ratio[l] += norm(&moved) / norm(&mlp.params[r]) / steps as f64;
        }
    }
    let stats = probe.finish_epoch(&mlp);
    assert_eq!(stats.len(), 2);
    for (l, s) in stats.iter().enumerate() {
        assert_eq!((s.units, s.sampled_batches), ([5, 4][l], steps));
        assert!(
            (s.grad_rms - want_rms[l]).abs() <= 1e-12 * want_rms[l],
            "layer {l}: {} vs {}",
            s.grad_rms,
            want_rms[l]
        );
        let w = norm(&mlp.params[mlp.weight_range(l)]);
        assert!((s.weight_norm - w).abs() <= 1e-12 * w);
        // The recomputed step differs from the applied change only by the rounding of the
        // parameters (half an ulp of each, about 1e-8 of them, against steps of about 1e-3).
        assert!(
            (s.update_ratio - want_ratio[l]).abs() <= 1e-3 * want_ratio[l],
            "layer {l}: {} vs {}",
            s.update_ratio,
            want_ratio[l]
        );
        assert!(s.update_ratio > 0.0);
    }
    // The next epoch starts from nothing.
    let batch = random_batch(&mut rng, 8, 6, 3);
    step(&mut mlp, &mut ws, &mut adam, &mut grads, &batch);
    probe.observe(&mlp, &ws, &grads, &adam);
    assert_eq!(probe.finish_epoch(&mlp)[0].sampled_batches, 1);
}

/// Relu units 1, 3 and 4 of the first layer have negative weights and bias: with inputs in
/// [0, 1) they can never fire, get no gradient and stay dead through Adam's updates. The
/// others have positive weights and bias and fire on every sample.
#[test]
fn relu_units_that_cannot_fire_are_exactly_the_dead_ones() {
    let (inputs, width) = (8, 6);
    let dead = [1usize, 3, 4];
    let mut mlp = Mlp::new(
        &[inputs, width, 4, 3],
        Hidden::fixed(Relu),
        Init::GlorotUniform,
        5,
    );
    let r = mlp.weight_range(0);
    let sign = |j: usize| if dead.contains(&j) { -1.0 } else { 1.0 };
    for (i, w) in mlp.params[r.clone()].iter_mut().enumerate() {
        *w = 0.1 * sign(i % width); // row-major inputs x outputs: column i % width
    }
    for (j, b) in mlp.params[r.end..r.end + width].iter_mut().enumerate() {
        *b = 0.1 * sign(j);
    }
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let mut ws = Workspace::new(&mlp, 16);
    let mut adam = Adam::new(AdamConfig::default(), mlp.parameter_count());
    let mut grads = vec![0.0f32; mlp.parameter_count()];
    let mut probe = Probe::new(&mlp, 2);
    for b in 0..10 {
        let batch = random_batch(&mut rng, 16, inputs, 3);
        step(&mut mlp, &mut ws, &mut adam, &mut grads, &batch);
        if probe.samples(b) {
            probe.observe(&mlp, &ws, &grads, &adam);
        }
    }
    assert_eq!(probe.dead_units(0), dead);
    let stats = probe.finish_epoch(&mlp);
    assert_eq!(stats[0].sampled_batches, 5);
    assert_eq!(stats[0].dead_fraction, 0.5);
    // For relu, saturated means z <= 0: exactly the dead units' share of pre-activations.
    assert_eq!(stats[0].saturated_fraction, 0.5);
}

/// A chain of five sigmoid units of width 1, built so that every pre-activation is 0 (input
/// 0.5, weights 1, biases -0.5): each unit's slope is sigmoid'(0) = 1/4 and each unit feeds
/// the next with weight 1. By the chain rule dz_l = dz_(l+1) w_(l+1) sigmoid'(z_l) =
/// dz_(l+1) / 4, and dW_l = y_(l-1) dz_l with y_(l-1) = 0.5 (the input is 0.5 too), so layer
/// l's gradient is 4^(5 - l) times smaller than the last hidden layer's: 1/256 for the first.
#[test]
fn deep_sigmoid_gradient_shrinks_by_the_chain_rule_factor() {
    let depth = 5;
    let mut sizes = vec![1];
    sizes.extend(std::iter::repeat_n(1, depth));
    sizes.push(2);
    let mut mlp = Mlp::new(&sizes, Hidden::fixed(Sigmoid), Init::GlorotUniform, 1);
    for l in 0..depth {
        let r = mlp.weight_range(l);
        mlp.params[r.start] = 1.0;
        mlp.params[r.end] = -0.5;
    }
    let out = mlp.weight_range(depth);
    mlp.params[out.clone()].copy_from_slice(&[1.0, -1.0]);
    mlp.params[out.end..out.end + 2].fill(0.0);
    let batch = Batch::from_dense(1, &[0.5], &[1]);
    let mut ws = Workspace::new(&mlp, 1);
    let mut adam = Adam::new(AdamConfig::default(), mlp.parameter_count());
    let mut grads = vec![0.0f32; mlp.parameter_count()];
    let mut probe = Probe::new(&mlp, 1);
    step(&mut mlp, &mut ws, &mut adam, &mut grads, &batch);
    probe.observe(&mlp, &ws, &grads, &adam);
    let stats = probe.finish_epoch(&mlp);
    let last = stats[depth - 1].grad_rms;
    assert!(last > 1e-3, "{last}");
    for (l, s) in stats.iter().enumerate() {
        let want = last / 4f64.powi((depth - 1 - l) as i32);
        assert!(
            (s.grad_rms - want).abs() <= 1e-6 * want,
            "layer {}: {} vs chain rule {want}",
            l + 1,
            s.grad_rms
        );
        // Every z is 0 (up to fastmath's rounding of sigmoid(0) = 0.5), where sigmoid has its
        // largest slope.
        assert!(s.preact_mean.abs() < 1e-6 && s.preact_std < 1e-6);
        assert_eq!((s.saturated_fraction, s.dead_fraction), (0.0, 0.0));
    }
    assert!((stats[0].grad_rms * 256.0 - last).abs() <= 1e-6 * last);
}

/// Saturation is judged against each activation's largest slope: a sigmoid unit at z = 6
/// (slope 0.0025 < 1% of 1/4) is saturated, one at z = 4 (0.0177) is not.
#[test]
fn saturation_uses_the_largest_slope() {
    let mut mlp = Mlp::new(&[1, 2, 2], Hidden::fixed(Sigmoid), Init::GlorotUniform, 1);
    let r = mlp.weight_range(0);
    mlp.params[r.clone()].copy_from_slice(&[6.0, 4.0]);
    mlp.params[r.end..r.end + 2].fill(0.0);
    let batch = Batch::from_dense(1, &[1.0], &[0]);
    let mut ws = Workspace::new(&mlp, 1);
    let mut adam = Adam::new(AdamConfig::default(), mlp.parameter_count());
    let mut grads = vec![0.0f32; mlp.parameter_count()];
    let mut probe = Probe::new(&mlp, 1);
    step(&mut mlp, &mut ws, &mut adam, &mut grads, &batch);
    probe.observe(&mlp, &ws, &grads, &adam);
    let s = &probe.finish_epoch(&mlp)[0];
    assert_eq!(s.saturated_fraction, 0.5);
    assert_eq!((s.preact_mean, s.preact_std), (5.0, 1.0));
}

/// 10x10x1 images, conv blocks of `filters`, one hidden dense layer of 5, 3 classes:
/// 10x10 -> conv 8x8 -> pool 4x4 -> conv 2x2 -> pool 1x1 -> 1 x 1 x filters[1] flattened.
fn small_cnn(filters: [usize; 2], hidden: Hidden, seed: u64) -> Cnn {
    let shape = CnnShape {
        height: 10,
        width: 10,
        channels: 1,
        filters: filters.to_vec(),
        hidden: vec![5],
        classes: 3,
    };
    Cnn::new(&shape, hidden, Init::GlorotUniform, seed).unwrap()
}

/// The CNN's hidden layers are its conv layers (units = channels, weights = the kernel), then
/// its hidden dense layers; grad_rms, weight_norm and update_ratio equal the figures computed
/// directly from the gradient buffer and from the parameters before and after each update.
#[test]
fn cnn_gradient_and_weight_figures_match_the_buffers() {
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let mut cnn = small_cnn([3, 4], Hidden::fixed(Tanh), 3);
    let layers = cnn.probed_layers();
    // Layout: kernel 3x3x1x3 (27) + 3 biases, kernel 3x3x3x4 (108) + 4 biases, dense 4 x 5.
    let want = [
        (LayerKind::Conv, 3, 0..27),
        (LayerKind::Conv, 4, 30..138),
        (LayerKind::Dense, 5, 142..162),
    ];
    let got: Vec<_> = layers
        .iter()
        .map(|p| (p.kind, p.units, p.weights.clone()))
        .collect();
    assert_eq!(got, want);
    let mut ws = CnnWorkspace::new(&cnn, 8);
    let mut adam = Adam::new(AdamConfig::default(), cnn.parameter_count());
    let mut grads = vec![0.0f32; cnn.parameter_count()];
    let mut probe = Probe::new(&cnn, 1);
    let (mut want_rms, mut want_ratio) = ([0.0f64; 3], [0.0f64; 3]);
    let steps = 3;
    for _ in 0..steps {
        let batch = random_batch(&mut rng, 8, 100, 3);
        let before = cnn.params.to_vec();
        step(&mut cnn, &mut ws, &mut adam, &mut grads, &batch);
        probe.observe(&cnn, &ws, &grads, &adam);
        for (l, p) in layers.iter().enumerate() {
            let r = p.weights.clone();
            want_rms[l] += norm(&grads[r.clone()]) / (r.len() as f64).sqrt() / steps as f64;
            let moved: Vec<f32> = before[r.clone()]
                .iter()
                .zip(&cnn.params[r.clone()])
                .map(|(a, b)| b - a)
                .collect();
            want_ratio[l] += norm(&moved) / norm(&cnn.params[r]) / steps as f64;
        }
    }
    let stats = probe.finish_epoch(&cnn);
    assert_eq!(stats.len(), 3);
    for (l, s) in stats.iter().enumerate() {
        assert_eq!(
            (s.kind, s.units, s.sampled_batches),
            (want[l].0, want[l].1, steps)
        );
        assert!(want_rms[l] > 0.0);
        assert!(
            (s.grad_rms - want_rms[l]).abs() <= 1e-12 * want_rms[l],
            "layer {}: {} vs {}",
            l + 1,
            s.grad_rms,
            want_rms[l]
        );
        let w = norm(&cnn.params[layers[l].weights.clone()]);
        assert!((s.weight_norm - w).abs() <= 1e-12 * w);
        assert!(
            (s.update_ratio - want_ratio[l]).abs() <= 1e-3 * want_ratio[l],
            "layer {}: {} vs {}",
            l + 1,
            s.update_ratio,
            want_ratio[l]
        );
        // tanh has no zero derivative; its pre-activations spread around 0.
        assert_eq!(s.dead_fraction, 0.0);
        assert!(s.preact_std > 0.0);
    }
}

/// Conv channels whose kernel and bias are all negative never fire on inputs in [0, 1) (first
/// block: channels 0 and 2 of 4) or on relu's non-negative pooled outputs (second block:
/// channel 1 of 3); they get no gradient and stay dead through Adam's updates. The other
/// channels have positive kernels and biases and fire at every pixel. Under relu exactly
/// those channels are dead, and saturated (slope 0) is exactly their share of pixels; PReLU's
/// and RReLU's leaky pieces keep a slope, so the same channels are neither.
#[test]
fn conv_channels_that_cannot_fire_are_exactly_the_dead_ones() {
    let dead: [&[usize]; 2] = [&[0, 2], &[1]];
    for (name, want_dead, want_saturated) in [
        ("relu", [0.5, 1.0 / 3.0], [0.5, 1.0 / 3.0]),
        ("prelu", [0.0; 2], [0.0; 2]),
        ("rrelu", [0.0; 2], [0.0; 2]),
    ] {
        let hidden = catalog::parse(name).unwrap().hidden;
        let mut cnn = small_cnn([4, 3], hidden, 5);
        let layers = cnn.probed_layers();
        for (p, dead) in layers[..2].iter().zip(dead) {
            let sign = |c: usize| if dead.contains(&c) { -1.0 } else { 1.0 };
            // Kernel 3 x 3 x in x out: entry i feeds output channel i % out; biases follow.
            for (i, w) in cnn.params[p.weights.clone()].iter_mut().enumerate() {
                *w = 0.1 * sign(i % p.units);
            }
            let b = p.weights.end;
            for (c, v) in cnn.params[b..b + p.units].iter_mut().enumerate() {
                *v = 0.1 * sign(c);
            }
        }
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let mut ws = CnnWorkspace::new(&cnn, 6);
        let mut adam = Adam::new(AdamConfig::default(), cnn.parameter_count());
        let mut grads = vec![0.0f32; cnn.parameter_count()];
        let mut probe = Probe::new(&cnn, 2);
        for b in 0..8 {
            let batch = random_batch(&mut rng, 6, 100, 3);
            step(&mut cnn, &mut ws, &mut adam, &mut grads, &batch);
            if probe.samples(b) {
                probe.observe(&cnn, &ws, &grads, &adam);
            }
        }
        for (l, dead) in dead.iter().enumerate() {
            let want: &[usize] = if name == "relu" { dead } else { &[] };
            assert_eq!(probe.dead_units(l), want, "{name} conv layer {}", l + 1);
        }
        let stats = probe.finish_epoch(&cnn);
        for (l, s) in stats[..2].iter().enumerate() {
            assert_eq!(s.sampled_batches, 4);
            assert_eq!(
                (s.dead_fraction, s.saturated_fraction),
                (want_dead[l], want_saturated[l]),
                "{name} conv layer {}",
                l + 1
            );
        }
    }
}

/// Training's path for a sampled batch (the gradients' norms, then Adam leaving each change in
/// the gradients' buffer, then the rest) gives every figure of [`Probe::observe`] (which
/// recomputes Adam's step from the moments) bit for bit, and the same parameters, on the dense
/// network (one thread and a team of two, enough parameters for Adam to split) and the CNN.
#[test]
fn the_update_left_in_the_gradients_gives_observes_figures_bit_for_bit() {
    // As training runs (its threads, and the team's helpers, flush denormals).
    let _ftz = crate::nn::FlushDenormals::new();
    fn compare<M>(net: M, ws: <M as Model>::Workspace, seed: u64)
    where
        M: Model + Probed<Workspace = <M as Model>::Workspace> + Clone,
        <M as Model>::Workspace: Clone,
    {
        let n = net.parameter_count();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        // Two copies: `observe` after the plain update, and training's path.
        let (mut a, mut b) = (net.clone(), net.clone());
        let (mut ws_a, mut ws_b) = (ws.clone(), ws);
        let mut adam_a = Adam::new(AdamConfig::default(), n);
        let mut adam_b = Adam::new(AdamConfig::default(), n);
        let (mut probe_a, mut probe_b) = (Probe::new(&net, 1), Probe::new(&net, 1));
        let (mut grads_a, mut grads_b) = (vec![0.0f32; n], vec![f32::NAN; n]);
        for _ in 0..3 {
            let batch = random_batch(&mut rng, 8, 100, 3);
            step(&mut a, &mut ws_a, &mut adam_a, &mut grads_a, &batch);
            probe_a.observe(&a, &ws_a, &grads_a, &adam_a);

            let mut noise = ChaCha8Rng::seed_from_u64(0);
            b.forward(&batch, &mut ws_b, Mode::Train(&mut noise));
            let classes = b.classes();
            let (logits, dlogits) = b.logits_and_grad(&mut ws_b);
            softmax_cross_entropy(logits, &batch.labels, classes, Some((dlogits, 8.0)));
            b.backward(&batch, &mut ws_b, &mut grads_b);
            probe_b.take_gradients(&grads_b);
            b.update_reporting(&ws_b, &mut grads_b, &mut adam_b);
            probe_b.observe_update(&b, &ws_b, &grads_b);
        }
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(
            bits(Probed::params(&a)),
            bits(Probed::params(&b)),
            "parameters"
        );
        let (want, got) = (probe_a.finish_epoch(&a), probe_b.finish_epoch(&b));
        assert!(
            want.iter()
                .all(|s| s.update_ratio > 0.0 && s.grad_rms > 0.0)
        );
        assert_eq!(want, got);
    }
    let mlp = Mlp::new(
        &[100, 300, 40, 3],
        Hidden::fixed(Tanh),
        Init::GlorotUniform,
        5,
    );
    assert!(mlp.parameter_count() >= crate::nn::split::MIN_SPLIT_ELEMENTS);
    compare(mlp.clone(), Workspace::new(&mlp, 8), 1);
    let team = crate::nn::split::Team::new(2).unwrap();
    team.install(|| compare(mlp.clone(), Workspace::new(&mlp, 8).threads(2), 2));
    let cnn = small_cnn([3, 4], Hidden::fixed(Relu), 3);
    compare(cnn.clone(), CnnWorkspace::new(&cnn, 8), 3);
}
