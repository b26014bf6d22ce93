//! Adam as Keras implements it, so that training matches the reference step for step.

use super::AlignedVec;

/// Adam's settings; the defaults are Keras's.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct AdamConfig {
    pub lr: f32,
    pub beta1: f32,
    pub beta2: f32,
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
    pub config: AdamConfig,
    pub step: u64,
    m: AlignedVec,
    v: AlignedVec,
}

impl Adam {
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
        let AdamConfig {
            lr,
            beta1,
            beta2,
            epsilon,
        } = self.config;
        self.step += 1;
        // Bias correction folded into the step size, epsilon outside it (Keras's form).
        let t = self.step as f64;
        let lr_t = (lr as f64 * (1.0 - (beta2 as f64).powf(t)).sqrt()
            / (1.0 - (beta1 as f64).powf(t))) as f32;
        let (one_b1, one_b2) = (1.0 - beta1, 1.0 - beta2);
        for (((p, &g), m), v) in params
            .iter_mut()
            .zip(grads)
            .zip(self.m.iter_mut())
            .zip(self.v.iter_mut())
        {
            *m += (g - *m) * one_b1; // first moment: running mean of g
            *v += (g * g - *v) * one_b2; // second moment: running mean of g^2
            *p -= lr_t * *m / (v.sqrt() + epsilon);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_hand_computed_steps() {
        // Golden values computed by hand (in f64) from Keras's update rule:
        // step 1, g = 0.5: m = 0.05, v = 0.00025, lr_t = 1e-3 * sqrt(0.001) / 0.1,
        // p = 1 - lr_t * 0.05 / (sqrt(0.00025) + 1e-7) = 0.999000006...
        let mut adam = Adam::new(AdamConfig::default(), 1);
        let mut p = [1.0f32];
        adam.update(&mut p, &[0.5]);
        assert!((p[0] as f64 - 0.999_000_006_324_5).abs() < 2e-7, "{}", p[0]);
        // step 2, g = -0.5: the same rule evaluated in f64.
        adam.update(&mut p, &[-0.5]);
        let (m, v) = (0.9 * 0.05 + 0.1 * -0.5, 0.999 * 0.00025 + 0.001 * 0.25);
        let lr_t = 1e-3 * (1.0f64 - 0.999f64.powi(2)).sqrt() / (1.0 - 0.9f64.powi(2));
        let want = 0.999_000_006_324_5 - lr_t * m / (f64::sqrt(v) + 1e-7);
        assert!((p[0] as f64 - want).abs() < 2e-7, "{} vs {want}", p[0]);
        assert_eq!(adam.step, 2);
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
}
