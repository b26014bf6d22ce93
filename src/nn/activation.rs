//! Activation functions, each with its analytic derivative.
//!
//! The set is open: implement [`Activation`] for your own type and pass it to the network.
//!
//! ```
//! use actbench::nn::{Activation, Hidden, Mlp, Init};
//! use std::sync::Arc;
//!
//! /// x * tanh(x), a made-up activation.
//! #[derive(Debug)]
//! struct XTanh;
//! impl Activation for XTanh {
//!     fn name(&self) -> String { "xtanh".into() }
//!     fn value(&self, x: f32) -> f32 { x * x.tanh() }
//!     // `y` is value(x); functions whose derivative is cheaper from the output can use it.
//!     fn derivative(&self, x: f32, _y: f32) -> f32 { let t = x.tanh(); t + x * (1.0 - t * t) }
//! }
//!
//! let mlp = Mlp::new(&[4, 8, 3], Hidden::Fixed(Arc::new(XTanh)), Init::GlorotUniform, 42);
//! assert_eq!(mlp.parameter_count(), 4 * 8 + 8 + 8 * 3 + 3);
//! ```
//!
//! Kinks (relu at 0, hard_tanh at +-1, ...) take the derivative of the piece on the left at the
//! kink itself, like PyTorch and TensorFlow do for relu: relu'(0) = 0, leaky_relu'(0) = alpha.

use num_traits::Float;
use std::fmt::Debug;
use std::sync::Arc;

/// An element-wise activation function f and its derivative f'.
pub trait Activation: Send + Sync + Debug {
    /// A name for messages and plots (include any parameter, e.g. `leaky_relu:0.1`); the
    /// command line records the name the user typed.
    fn name(&self) -> String;
    /// f(x).
    fn value(&self, x: f32) -> f32;
    /// f'(x); `y` is f(x), for functions whose derivative is cheaper from their output.
    fn derivative(&self, x: f32, y: f32) -> f32;

    /// f in f64, used by gradient checks; defaults to the f32 version.
    fn value_f64(&self, x: f64) -> f64 {
        self.value(x as f32) as f64
    }
    /// f' in f64, used by gradient checks; defaults to the f32 version.
    fn derivative_f64(&self, x: f64) -> f64 {
        let x = x as f32;
        self.derivative(x, self.value(x)) as f64
    }
    /// `y = f(z)` over a slice. Default methods are compiled per implementing type, so the
    /// per-element calls are static and inlined: one dynamic call per slice, not per element.
    fn forward(&self, z: &[f32], y: &mut [f32]) {
        for (y, &z) in y.iter_mut().zip(z) {
            *y = self.value(z);
        }
    }
    /// `g *= f'(z)` over a slice, the incoming gradient times the derivative in one pass.
    fn backward(&self, z: &[f32], y: &[f32], g: &mut [f32]) {
        for ((g, &z), &y) in g.iter_mut().zip(z).zip(y) {
            *g *= self.derivative(z, y);
        }
    }
}

/// Floats the built-ins are written for: f32 for training, f64 for gradient checks.
/// `vexp`, `vexp_m1` and `vtanh` are the functions that vectorize in f32 (see [`fastmath`]);
/// in f64 they are the standard library's.
///
/// [`fastmath`]: super::fastmath
pub trait Real: Float + Debug {
    fn k(v: f64) -> Self;
    fn vexp(self) -> Self;
    fn vexp_m1(self) -> Self;
    fn vtanh(self) -> Self;
    /// ln(1 + e^-|x|), the part of softplus that needs a logarithm.
    fn vln_1p_exp_neg_abs(self) -> Self;
}
impl Real for f32 {
    #[inline(always)]
    fn k(v: f64) -> Self {
        v as f32
    }
    #[inline(always)]
    fn vexp(self) -> Self {
        super::fastmath::exp(self)
    }
    #[inline(always)]
    fn vexp_m1(self) -> Self {
        super::fastmath::exp_m1(self)
    }
    #[inline(always)]
    fn vtanh(self) -> Self {
        super::fastmath::tanh(self)
    }
    #[inline(always)]
    fn vln_1p_exp_neg_abs(self) -> Self {
        super::fastmath::ln_1p_exp_neg_abs(self)
    }
}
impl Real for f64 {
    #[inline(always)]
    fn k(v: f64) -> Self {
        v
    }
    fn vexp(self) -> Self {
        self.exp()
    }
    fn vexp_m1(self) -> Self {
        self.exp_m1()
    }
    fn vtanh(self) -> Self {
        self.tanh()
    }
    fn vln_1p_exp_neg_abs(self) -> Self {
        (-self.abs()).exp().ln_1p()
    }
}

/// A built-in activation written once for any float type.
pub trait Builtin: Send + Sync + Debug + Copy + 'static {
    fn label(&self) -> String;
    fn f<T: Real>(&self, x: T) -> T;
    /// The derivative; `y` must be `f(x)`.
    fn df<T: Real>(&self, x: T, y: T) -> T;
}

impl<B: Builtin> Activation for B {
    fn name(&self) -> String {
        self.label()
    }
    #[inline(always)]
    fn value(&self, x: f32) -> f32 {
        self.f(x)
    }
    #[inline(always)]
    fn derivative(&self, x: f32, y: f32) -> f32 {
        self.df(x, y)
    }
    fn value_f64(&self, x: f64) -> f64 {
        self.f(x)
    }
    fn derivative_f64(&self, x: f64) -> f64 {
        self.df(x, self.f(x))
    }
}

// ---- numerically stable building blocks -------------------------------------------------------

/// 1 / (1 + e^-x) without overflow: e^-|x| never exceeds 1.
#[inline(always)]
pub fn sigmoid<T: Real>(x: T) -> T {
    let e = (-x.abs()).vexp();
    let r = T::one() / (T::one() + e);
    if x >= T::zero() { r } else { e * r }
}

/// ln(1 + e^x) = max(x, 0) + ln(1 + e^-|x|).
#[inline(always)]
pub fn softplus<T: Real>(x: T) -> T {
    x.max(T::zero()) + x.vln_1p_exp_neg_abs()
}

/// erfc(x) with fractional error below 1.2e-7 everywhere (Numerical Recipes' `erfcc`).
pub fn erfc<T: Real>(x: T) -> T {
    let z = x.abs();
    let t = T::one() / (T::one() + T::k(0.5) * z);
    let c = [
        -1.26551223,
        1.00002368,
        0.37409196,
        0.09678418,
        -0.18628806,
        0.27886807,
        -1.13520398,
        1.48851587,
        -0.82215223,
        0.17087277,
    ];
    let mut poly = T::k(c[9]);
    for &ci in c[..9].iter().rev() {
        poly = T::k(ci) + t * poly;
    }
    let r = t * (-z * z + poly).vexp();
    if x >= T::zero() { r } else { T::k(2.0) - r }
}

/// Standard normal CDF, Phi(x) = erfc(-x / sqrt 2) / 2, accurate in both tails.
pub fn normal_cdf<T: Real>(x: T) -> T {
    T::k(0.5) * erfc(-x * T::k(std::f64::consts::FRAC_1_SQRT_2))
}

/// Standard normal density.
pub fn normal_pdf<T: Real>(x: T) -> T {
    T::k(0.398_942_280_401_432_7) * (T::k(-0.5) * x * x).vexp()
}

// ---- the built-ins -------------------------------------------------------------------------------

macro_rules! unit_builtin {
    ($(#[$doc:meta])* $ty:ident, $name:literal, |$x:ident, $y:ident| $f:expr, $df:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq)]
        pub struct $ty;
        impl Builtin for $ty {
            fn label(&self) -> String {
                $name.to_string()
            }
            #[inline(always)]
            fn f<T: Real>(&self, $x: T) -> T {
                $f
            }
            #[inline(always)]
            #[allow(unused_variables)]
            fn df<T: Real>(&self, $x: T, $y: T) -> T {
                $df
            }
        }
    };
}

macro_rules! param_builtin {
    ($(#[$doc:meta])* $ty:ident, $name:literal, $default:expr, |$s:ident, $x:ident, $y:ident| $f:expr, $df:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq)]
        pub struct $ty(pub f32);
        impl Default for $ty {
            fn default() -> Self {
                $ty($default)
            }
        }
        impl Builtin for $ty {
            fn label(&self) -> String {
                if self.0 == $default {
                    $name.to_string()
                } else {
                    format!("{}:{}", $name, self.0)
                }
            }
            #[inline(always)]
            fn f<T: Real>(&self, $x: T) -> T {
                let $s = T::k(self.0 as f64);
                $f
            }
            #[inline(always)]
            #[allow(unused_variables)]
            fn df<T: Real>(&self, $x: T, $y: T) -> T {
                let $s = T::k(self.0 as f64);
                $df
            }
        }
    };
}

unit_builtin!(
    /// sigmoid(x) = 1 / (1 + e^-x); sigmoid' = y (1 - y).
    Sigmoid, "sigmoid", |x, y| sigmoid(x), y * (T::one() - y)
);
unit_builtin!(
    /// relu(x) = max(0, x); relu' = 1 for x > 0, else 0.
    Relu, "relu", |x, y| x.max(T::zero()),
    if x > T::zero() { T::one() } else { T::zero() }
);
unit_builtin!(
    /// tanh(x); tanh' = 1 - y^2.
    Tanh, "tanh", |x, y| x.vtanh(), T::one() - y * y
);
unit_builtin!(
    /// The tanh approximation of GELU: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
    Gelu, "gelu", |x, y| {
        let u = T::k(0.797_884_560_802_865_4) * (x + T::k(0.044715) * x * x * x);
        T::k(0.5) * x * (T::one() + u.vtanh())
    }, {
        // Beyond |x| = 10 tanh has saturated (to 1 in f64 too) and the derivative is the step;
        // clamping first keeps huge x from computing 0 * inf. Selects, not branches, so that the
        // loop vectorizes.
        let ten = T::k(10.0);
        let xc = x.max(-ten).min(ten);
        let c = T::k(0.797_884_560_802_865_4);
        let t = (c * (xc + T::k(0.044715) * xc * xc * xc)).vtanh();
        let du = c * (T::one() + T::k(3.0 * 0.044715) * xc * xc);
        let d = T::k(0.5) * (T::one() + t) + T::k(0.5) * xc * (T::one() - t * t) * du;
        let step = if x > T::zero() { T::one() } else { T::zero() };
        if x.abs() > ten { step } else { d }
    }
);
unit_builtin!(
    /// Exact GELU: x Phi(x), Phi the standard normal CDF; gelu_erf' = Phi(x) + x phi(x).
    GeluErf, "gelu_erf", |x, y| x * normal_cdf(x), normal_cdf(x) + x * normal_pdf(x)
);
unit_builtin!(
    /// The reference's own: relu(x) + 0.5 tanh(x); custom' = [x > 0] + 0.5 (1 - tanh^2 x).
    Custom, "custom", |x, y| x.max(T::zero()) + T::k(0.5) * x.vtanh(), {
        let t = x.vtanh();
        let step = if x > T::zero() { T::one() } else { T::zero() };
        step + T::k(0.5) * (T::one() - t * t)
    }
);
unit_builtin!(
    /// mish(x) = x tanh(softplus(x)); mish' = tanh(sp) + x sigmoid(x) (1 - tanh^2(sp)).
    Mish, "mish", |x, y| x * softplus(x).vtanh(), {
        let t = softplus(x).vtanh();
        t + x * sigmoid(x) * (T::one() - t * t)
    }
);
unit_builtin!(
    /// selu(x) = lambda x for x > 0, lambda alpha (e^x - 1) otherwise, with Klambauer et al.'s
    /// lambda = 1.0507..., alpha = 1.6732...
    Selu, "selu", |x, y| {
        let (l, a) = (T::k(1.050_700_987_355_480_5), T::k(1.673_263_242_354_377_2));
        if x > T::zero() { l * x } else { l * a * x.vexp_m1() }
    }, {
        let (l, a) = (T::k(1.050_700_987_355_480_5), T::k(1.673_263_242_354_377_2));
        if x > T::zero() { l } else { l * a * x.vexp() }
    }
);
unit_builtin!(
    /// softplus(x) = ln(1 + e^x); softplus' = sigmoid(x).
    Softplus, "softplus", |x, y| softplus(x), sigmoid(x)
);
unit_builtin!(
    /// softsign(x) = x / (1 + |x|); softsign' = 1 / (1 + |x|)^2.
    Softsign, "softsign", |x, y| x / (T::one() + x.abs()), {
        let d = T::one() + x.abs();
        T::one() / (d * d)
    }
);
unit_builtin!(
    /// hard_sigmoid(x) = relu6(x + 3) / 6 (Keras 3 and PyTorch); slope 1/6 on (-3, 3).
    HardSigmoid, "hard_sigmoid", |x, y| ((x + T::k(3.0)) / T::k(6.0)).max(T::zero()).min(T::one()),
    if x > T::k(-3.0) && x <= T::k(3.0) { T::k(1.0 / 6.0) } else { T::zero() }
);
unit_builtin!(
    /// hard_swish(x) = x relu6(x + 3) / 6; hard_swish' = (2x + 3) / 6 on (-3, 3).
    HardSwish, "hard_swish", |x, y| x * ((x + T::k(3.0)) / T::k(6.0)).max(T::zero()).min(T::one()),
    if x <= T::k(-3.0) { T::zero() } else if x > T::k(3.0) { T::one() } else { (T::k(2.0) * x + T::k(3.0)) / T::k(6.0) }
);
unit_builtin!(
    /// relu6(x) = min(max(0, x), 6).
    Relu6, "relu6", |x, y| x.max(T::zero()).min(T::k(6.0)),
    if x > T::zero() && x <= T::k(6.0) { T::one() } else { T::zero() }
);
unit_builtin!(
    /// hard_tanh(x) = clip(x, -1, 1).
    HardTanh, "hard_tanh", |x, y| x.max(-T::one()).min(T::one()),
    if x > -T::one() && x <= T::one() { T::one() } else { T::zero() }
);
unit_builtin!(
    /// log_sigmoid(x) = -softplus(-x); log_sigmoid' = sigmoid(-x).
    LogSigmoid, "log_sigmoid", |x, y| -softplus(-x), sigmoid(-x)
);
unit_builtin!(
    /// tanhshrink(x) = x - tanh(x); tanhshrink' = tanh^2(x).
    Tanhshrink, "tanhshrink", |x, y| x - x.vtanh(), {
        let t = x.vtanh();
        t * t
    }
);
unit_builtin!(
    /// linear(x) = x.
    Linear, "linear", |x, y| x, T::one()
);
param_builtin!(
    /// leaky_relu(x) = x for x > 0, alpha x otherwise (alpha 0.01).
    LeakyRelu, "leaky_relu", 0.01, |a, x, y| if x > T::zero() { x } else { a * x },
    if x > T::zero() { T::one() } else { a }
);
param_builtin!(
    /// elu(x) = x for x > 0, alpha (e^x - 1) otherwise (alpha 1); elu' = y + alpha for x <= 0.
    Elu, "elu", 1.0, |a, x, y| if x > T::zero() { x } else { a * x.vexp_m1() },
    if x > T::zero() { T::one() } else { y + a }
);
param_builtin!(
    /// celu(x) = max(0, x) + min(0, alpha (e^(x/alpha) - 1)) (alpha 1).
    Celu, "celu", 1.0, |a, x, y| if x > T::zero() { x } else { a * (x / a).vexp_m1() },
    if x > T::zero() { T::one() } else { (x / a).vexp() }
);
param_builtin!(
    /// swish(x) = x sigmoid(beta x) (beta 1; `silu` is the same function);
    /// swish' = s + beta x s (1 - s), s = sigmoid(beta x).
    Swish, "swish", 1.0, |b, x, y| x * sigmoid(b * x), {
        let s = sigmoid(b * x);
        s + b * x * s * (T::one() - s)
    }
);

// ---- hidden-layer activations, including the ones with state -----------------------------------

/// What the hidden layers apply. Most activations are fixed functions; PReLU learns one slope per
/// hidden unit (trained by Adam with the weights) and RReLU draws a random negative slope per
/// element while training.
#[derive(Debug, Clone)]
pub enum Hidden {
    Fixed(Arc<dyn Activation>),
    /// prelu(x) = x for x > 0, a_j x otherwise, slopes a_j initialised to `init` (0.25).
    Prelu {
        init: f32,
    },
    /// rrelu(x) = x for x > 0, a x otherwise, a ~ U(lower, upper) per element while training,
    /// a = (lower + upper) / 2 at evaluation (1/8 and 1/3 by default, as PyTorch).
    Rrelu {
        lower: f32,
        upper: f32,
    },
}

impl Hidden {
    /// The function as it acts at evaluation time (PReLU at its initial slope), for plots.
    pub fn function(&self) -> Arc<dyn Activation> {
        match self {
            Hidden::Fixed(a) => a.clone(),
            Hidden::Prelu { init } => Arc::new(LeakyRelu(*init)),
            Hidden::Rrelu { lower, upper } => Arc::new(LeakyRelu((lower + upper) / 2.0)),
        }
    }
}
