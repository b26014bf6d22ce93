//! Adam as Keras implements it, so that training matches the reference step for step.

use super::AlignedVec;

/// Adam's settings; the defaults are Keras's.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct AdamConfig {
    /// Learning rate.
    pub lr: f32,
    /// Decay of the first-moment (mean) estimate.
    pub beta1: f32,
    /// Decay of the second-moment (uncentred variance) estimate.
    pub beta2: f32,
    /// Added to the root of the second moment (Keras: outside the bias correction).
    pub epsilon: f32,
}

impl Default for AdamConfig {
    fn default() -> Self {
        AdamConfig {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            epsilon: 1e-7,
        }
    }
}

/// The optimizer's state: step count and the two moment estimates, one per parameter.
#[derive(Debug, Clone)]
pub struct Adam {
    /// The settings.
    pub config: AdamConfig,
    /// Steps taken so far (the bias corrections use it).
    pub step: u64,
    m: AlignedVec,
    v: AlignedVec,
}

impl Adam {
    /// Fresh state for `parameters` parameters: zero moments, step 0.
    pub fn new(config: AdamConfig, parameters: usize) -> Self {
        Adam {
            config,
            step: 0,
            m: AlignedVec::zeros(parameters),
            v: AlignedVec::zeros(parameters),
        }
    }

    /// One update of `params` from `grads`.
    pub fn update(&mut self, params: &mut [f32], grads: &[f32]) {
        self.update_split(1, params, grads);
    }

    /// [`Adam::update`] with the parameters cut into blocks, one per thread of the installed
    /// team (at most `threads`; see [`super::split`]): the same result bit for bit.
    pub fn update_split(&mut self, threads: usize, params: &mut [f32], grads: &[f32]) {
        let (step, ms, vs) = self.begin_step();
        step.apply_split(threads, params, ms, vs, grads);
    }

    /// [`Adam::update_split`], replacing each gradient in `grads` with the change subtracted
    /// from its parameter (`step size * m / (sqrt(v) + epsilon)`, the f32 value the update
    /// computed): the diagnostics' step norms then need no square root or division of their
    /// own ([`super::diagnostics::Probe::observe_update`]). The parameters and moments come out
    /// bit for bit as with `update_split`.
    pub fn update_split_reporting(
        &mut self,
        threads: usize,
        params: &mut [f32],
        grads: &mut [f32],
    ) {
        let (step, ms, vs) = self.begin_step();
        let len = params.len();
        assert!(ms.len() == len && vs.len() == len && grads.len() == len);
        // Element by element: any cut gives the same values. Cut as `split::elements` cuts.
        let piece = super::split::element_chunk(threads, len);
        super::split::each_chunk!(
            threads,
            |_, (p, m, v, g): (&mut [f32], &mut [f32], &mut [f32], &mut [f32])| {
                super::cpu::dispatch(
                    #[inline(always)]
                    || step.apply_reporting(p, m, v, g),
                )
            },
            *params => piece,
            *ms => piece,
            *vs => piece,
            *grads => piece,
        );
    }

    /// Both moments, for tests that set or compare them.
    #[cfg(test)]
    pub(crate) fn moments_mut(&mut self) -> (&mut [f32], &mut [f32]) {
        (&mut self.m[..], &mut self.v[..])
    }

    /// Start the next update, to be applied piece by piece (by a kernel that updates weights as
    /// their gradients are summed): the step count advances, and the step's constants come
    /// back with both moment buffers. Every parameter must then go through
    /// [`AdamStep::apply`] exactly once, with its own moments.
    pub fn begin_step(&mut self) -> (AdamStep, &mut [f32], &mut [f32]) {
        let AdamConfig {
            beta1,
            beta2,
            epsilon,
            ..
        } = self.config;
        self.step += 1;
        let (lr_t, one_b1) = (self.step_size(), 1.0 - beta1);
        let step = AdamStep {
            lr_t,
            one_b1,
            one_b2: 1.0 - beta2,
            epsilon,
            // Checked once per step, not per row of `apply_unmoved`.
            keeps_zeros: (0.0..f32::INFINITY).contains(&lr_t)
                && one_b1.is_finite()
                && epsilon > 0.0,
        };
        (step, &mut self.m[..], &mut self.v[..])
    }
}

/// The constants of one update ([`Adam::begin_step`]).
#[derive(Debug, Clone, Copy)]
pub struct AdamStep {
    lr_t: f32,
    one_b1: f32,
    one_b2: f32,
    epsilon: f32,
    /// Whether `apply` leaves a weight and its first moment as they are for a zero gradient
    /// on a `+0` first moment: a step size of at least zero and finite, a finite `1 - beta1`
    /// and a positive epsilon ([`Self::apply_unmoved`]).
    keeps_zeros: bool,
}

impl AdamStep {
    /// Update parameters `params` from `grads`, with their moments `ms` and `vs` (all as long
    /// as `params`). Inlined into its caller, so that it runs at the caller's CPU level.
    #[inline(always)]
    pub fn apply(&self, params: &mut [f32], ms: &mut [f32], vs: &mut [f32], grads: &[f32]) {
        for (((p, &g), m), v) in params.iter_mut().zip(grads).zip(ms).zip(vs) {
            self.apply_one(p, g, m, v);
        }
    }

    /// One parameter's update; returns the change subtracted from it.
    #[inline(always)]
    fn apply_one(&self, p: &mut f32, g: f32, m: &mut f32, v: &mut f32) -> f32 {
        *m += (g - *m) * self.one_b1; // first moment: running mean of g
        *v += (g * g - *v) * self.one_b2; // second moment: running mean of g^2
        let change = self.lr_t * *m / (v.sqrt() + self.epsilon);
        *p -= change;
        change
    }

    /// [`Self::apply`], each gradient replaced by the change subtracted from its parameter.
    #[inline(always)]
    pub fn apply_reporting(
        &self,
        params: &mut [f32],
        ms: &mut [f32],
        vs: &mut [f32],
        grads: &mut [f32],
    ) {
        for (((p, g), m), v) in params.iter_mut().zip(grads).zip(ms).zip(vs) {
            *g = self.apply_one(p, *g, m, v);
        }
    }

    /// [`Self::apply`] for a gradient of zeros, when it leaves `params` and `ms` as they are:
    /// every first moment `+0` (never moved: once moved, a moment decays to about 1e-37 and
    /// stays there, its step flushed to zero with the denormals), a finite step size of at
    /// least zero, a finite `1 - beta1` and a positive epsilon. Then only `vs` decays, by the
    /// same expression as in `apply`, without the square root and the division; returns false
    /// (and changes nothing) otherwise. The same bits as `apply`, but for a signalling NaN
    /// among `params`, which `apply` would quieten (arithmetic never makes one).
    #[inline(always)]
    pub fn apply_unmoved(&self, ms: &[f32], vs: &mut [f32]) -> bool {
        if !self.keeps_zeros || ms.iter().fold(0, |acc, m| acc | m.to_bits()) != 0 {
            return false;
        }
        let one_b2 = self.one_b2;
        for v in vs {
            *v += (0.0 * 0.0 - *v) * one_b2;
        }
        true
    }

    /// [`AdamStep::apply`] at the CPU's level, cut into blocks over the installed team (at
    /// most `threads`).
    pub fn apply_split(
        &self,
        threads: usize,
        params: &mut [f32],
        ms: &mut [f32],
        vs: &mut [f32],
        grads: &[f32],
    ) {
        super::split::elements(threads, params, ms, vs, grads, &|params, ms, vs, grads| {
            super::cpu::dispatch(
                #[inline(always)]
                || self.apply(params, ms, vs, grads),
            )
        })
    }
}

impl Adam {
    /// The step size of the current step: bias correction folded into the learning rate,
    /// epsilon outside it (Keras's form).
    fn step_size(&self) -> f32 {
        let AdamConfig {
            lr, beta1, beta2, ..
        } = self.config;
        let t = self.step as f64;
        (lr as f64 * (1.0 - (beta2 as f64).powf(t)).sqrt() / (1.0 - (beta1 as f64).powf(t))) as f32
    }

    /// The squared L2 norm of the change the last [`update`](Self::update) made to the
    /// parameters in `range`, recomputed from the moments with the same f32 expression
    /// (equal to the applied change up to the rounding of the parameters themselves).
    /// Reads the state only; 0 before the first update. The reference for
    /// [`Self::update_split_reporting`], which hands training's diagnostics those very values.
    pub fn last_step_norm_sq(&self, range: std::ops::Range<usize>) -> f64 {
        if self.step == 0 {
            return 0.0;
        }
        let (lr_t, epsilon) = (self.step_size(), self.config.epsilon);
        let (ms, vs) = (&self.m[range.clone()], &self.v[range]);
        super::cpu::dispatch(
            #[inline(always)]
            || {
                let sq = |m: f32, v: f32| {
                    let d = (lr_t * m / (v.sqrt() + epsilon)) as f64;
                    d * d
                };
                const LANES: usize = super::diagnostics::SUM_LANES;
                let mut acc = [0.0f64; LANES];
                let (mc, vc) = (ms.chunks_exact(LANES), vs.chunks_exact(LANES));
                let tail: f64 = (mc.remainder().iter().zip(vc.remainder()))
                    .map(|(&m, &v)| sq(m, v))
                    .sum();
                for (m4, v4) in mc.zip(vc) {
                    for ((a, &m), &v) in acc.iter_mut().zip(m4).zip(v4) {
                        *a += sq(m, v);
                    }
                }
                acc.iter().sum::<f64>() + tail
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_a_reference_implementation_for_five_steps() {
        // Golden values from a separate implementation: Keras's `Adam.update_step` (Keras 3,
        // epsilon outside the bias correction) written in numpy and run in float64 on these
        // parameters and gradients (a throwaway script, not this code). Gradients of both signs,
        // a zero gradient (the parameter must not move on step 1), and gradients of 1e-7, where
        // epsilon's placement decides the step. Step 1 checked by hand too: m = 0.05,
        // v = 0.00025, lr_t = 1e-3 * sqrt(0.001) / 0.1, 1 - lr_t * 0.05 / (sqrt(v) + 1e-7).
        let grads: [[f32; 4]; 5] = [
            [0.5, -2.0, 1e-7, 0.0],
            [-0.5, -1.0, 1e-7, 4.0],
            [0.25, 3.0, -1e-7, 4.0],
            [0.125, 0.0, 1e-7, -4.0],
            [1.0, -0.01, 1e-7, 0.5],
        ];
        let want: [[f64; 4]; 5] = [
            [
                0.999_000_006_324_515_4,
                -0.499_000_001_581_136_33,
                -3.065_343_003_171_552e-5,
                3.0,
            ],
            [
                0.999_052_637_668_029_3,
                -0.498_067_823_261_151_8,
                -7.345_015_850_414_794e-5,
                2.999_255_863_764_724_4,
            ],
            [
                0.998_877_912_871_033_4,
                -0.498_149_799_989_697_33,
                -8.704_847_294_036_688e-5,
                2.998_397_401_688_974,
            ],
            [
                0.998_641_095_689_047_2,
                -0.498_216_950_337_564_86,
                -1.153_778_366_501_493_9e-4,
                2.998_159_067_262_875_5,
            ],
            [
                0.998_085_585_405_034_4,
                -0.498_272_247_687_072_07,
                -1.552_560_305_209_606_4e-4,
                2.997_918_839_677_766_3,
            ],
        ];
        let mut adam = Adam::new(AdamConfig::default(), 4);
        let mut p = [1.0f32, -0.5, 0.0, 3.0];
        for (step, (g, want)) in grads.iter().zip(&want).enumerate() {
            adam.update(&mut p, g);
            for (i, (&got, &want)) in p.iter().zip(want).enumerate() {
                // The parameters live in f32: each step rounds them (half an ulp) and m, v and
                // lr_t carry f32 rounding too; numpy's float32 run of the same rule strays up to
                // 2 ulps from float64 by step 5. 4 ulps of the parameter's scale allows that and
                // nothing a different rule gives (beta1 = 0.8 moves step 2 by 2e-5 to 6e-5;
                // PyTorch's epsilon placement moves the 1e-7 parameter by ~5e-4 on step 1).
                let tol = 4.0 * f32::EPSILON as f64 * want.abs().max(1.0);
                assert!(
                    (got as f64 - want).abs() <= tol,
                    "step {}, parameter {i}: {got} vs reference {want}",
                    step + 1
                );
            }
        }
        assert_eq!(adam.step, 5);
    }

    #[test]
    fn epsilon_sits_outside_the_bias_correction() {
        // With gradients near epsilon the placement of epsilon dominates: Keras's form gives
        // these values (f64, by hand from the rule above); PyTorch's form would give 0.9995
        // after step 1 and 0.999 after step 2.
        let mut adam = Adam::new(AdamConfig::default(), 1);
        let mut p = [1.0f32];
        adam.update(&mut p, &[1e-7]);
        assert!(
            (p[0] as f64 - 0.999_969_346_569_968_3).abs() < 1e-7,
            "{}",
            p[0]
        );
        adam.update(&mut p, &[1e-7]);
        assert!(
            (p[0] as f64 - 0.999_926_549_841_495_9).abs() < 1e-7,
            "{}",
            p[0]
        );
    }

    #[test]
    fn a_zero_gradient_leaves_zero_first_moments_and_their_weights_as_they_are() {
        // `apply_unmoved` must give what `apply` gives for a gradient of zeros, bit for bit,
        // whenever it takes a row: weights of any sign (zeros, infinities, NaN included) and
        // second moments from zero to large.
        let mut adam = Adam::new(AdamConfig::default(), 8);
        adam.step = 40;
        let (step, _, _) = adam.begin_step();
        let p0 = [
            0.0f32,
            -0.0,
            1.5,
            -2.0e-3,
            f32::INFINITY,
            f32::NAN,
            3.0e30,
            -7.0,
        ];
        let v0 = [0.0f32, 1e-30, 1e-12, 0.5, 3.0, 1e20, 2.0e-7, 1e30];
        let (mut p, mut m, mut v) = (p0, [0.0f32; 8], v0);
        step.apply(&mut p, &mut m, &mut v, &[0.0; 8]);
        let mut v_fast = v0;
        assert!(step.apply_unmoved(&[0.0; 8], &mut v_fast));
        let bits = |x: &[f32]| x.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&p), bits(&p0), "weights moved");
        assert_eq!(bits(&m), bits(&[0.0; 8]), "first moments moved");
        assert_eq!(bits(&v_fast), bits(&v), "second moments decayed otherwise");
        assert_ne!(v_fast, v0, "second moments did not decay");
        // Constants under which `apply` would move a zero (a negative step turns -0 into +0,
        // a zero epsilon makes 0 / 0) are left to `apply`.
        for (lr, beta1, epsilon) in [
            (-1e-3, 0.9, 1e-7),
            (f32::INFINITY, 0.9, 1e-7),
            (f32::NAN, 0.9, 1e-7),
            (1e-3, f32::NEG_INFINITY, 1e-7),
            (1e-3, 0.9, 0.0),
        ] {
            let config = AdamConfig {
                lr,
                beta1,
                epsilon,
                ..AdamConfig::default()
            };
            let mut odd = Adam::new(config, 8);
            let (odd, _, _) = odd.begin_step();
            let mut v = v0;
            assert!(
                !odd.apply_unmoved(&[0.0; 8], &mut v),
                "took lr {lr}, beta1 {beta1}, epsilon {epsilon}"
            );
            assert_eq!(bits(&v), bits(&v0));
        }
        // A first moment that is not +0 (a negative zero included) is left to `apply`, with
        // the second moments untouched.
        for m in [1e-30f32, -0.0] {
            let mut ms = [0.0f32; 8];
            ms[3] = m;
            let mut v = v0;
            assert!(
                !step.apply_unmoved(&ms, &mut v),
                "took a row with m = {m:e}"
            );
            assert_eq!(bits(&v), bits(&v0));
        }
    }
}
