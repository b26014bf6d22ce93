//! Activation functions, each with its analytic derivative and the facts the command line,
//! plots and tests need about it (name, aliases, formula, parameter, kinks), kept together.
//!
//! The set is open: implement [`Activation`] for your own type and hand it to the network as
//! [`Hidden::Fixed`] (see `examples/custom_activation.rs` for a whole training run).
//!
//! ```
//! use actbench::nn::fastmath;
//! use actbench::nn::{Activation, Hidden, Init, Mlp};
//!
//! /// x * tanh(x), a made-up activation.
//! #[derive(Debug)]
//! struct XTanh;
//! impl Activation for XTanh {
//!     fn name(&self) -> String { "xtanh".into() }
//!     // fastmath's tanh, not f32::tanh: a libm call per element keeps the loops over a
//!     // batch from vectorizing (about 3.5x slower per epoch, see README).
//!     #[inline]
//!     fn value(&self, x: f32) -> f32 { x * fastmath::tanh(x) }
//!     // `y` is value(x); functions whose derivative is cheaper from the output can use it.
//!     #[inline]
//!     fn derivative(&self, x: f32, _y: f32) -> f32 {
//!         let t = fastmath::tanh(x);
//!         t + x * (1.0 - t * t)
//!     }
//! }
//!
//! let mlp = Mlp::new(&[4, 8, 3], Hidden::fixed(XTanh), Init::GlorotUniform, 42);
//! assert_eq!(mlp.parameter_count(), 4 * 8 + 8 + 8 * 3 + 3);
//! ```
//!
//! Kinks (relu at 0, hard_tanh at +-1, ...) take the derivative of the piece on the left at the
//! kink itself, like PyTorch and TensorFlow do for relu: relu'(0) = 0, leaky_relu'(0) = alpha.
//!
//! A built-in is one `builtin!` invocation below (its formula, derivative, name, aliases,
//! parameter and kinks), plus its place in the listing order, [`catalog::CATALOG`].
//!
//! [`catalog::CATALOG`]: super::catalog::CATALOG

use super::split;
use num_traits::Float;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::fmt::Debug;
use std::sync::Arc;

/// An element-wise activation function f and its derivative f'.
///
/// Training calls [`forward`](Activation::forward) and [`backward`](Activation::backward) once
/// per layer and batch, through a `dyn Activation`; their default bodies loop over
/// [`value`](Activation::value) and [`derivative`](Activation::derivative). Those defaults are
/// compiled in your crate for your type, so the per-element calls are static and the loops can
/// vectorize, provided that the per-element functions:
///
/// - use [`fastmath`](super::fastmath)'s `exp`, `exp_m1`, `tanh` and `ln_1p_exp_neg_abs`
///   (and this module's [`sigmoid`], [`softplus`], [`normal_cdf`], built on them) rather than
///   `f32::exp`, `f32::tanh` or `f32::ln`: each of those is a call into libm per element, which
///   no loop vectorizes through;
/// - are marked `#[inline]` (cheap insurance: without it the compiler may or may not inline them
///   into the loop, depending on how your crate is split into codegen units);
/// - choose with `if`/`else` between values that are cheap to compute both (the compiler turns
///   that into a select), rather than returning early.
///
/// Override `forward`/`backward` only to do something the element functions cannot express,
/// and keep them element by element: a model on several threads calls them on blocks of a
/// layer's rows.
pub trait Activation: Send + Sync + Debug {
    /// A name for messages and plots (include any parameter, e.g. `leaky_relu:0.1`); the
    /// command line records the name the user typed.
    fn name(&self) -> String;
    /// f(x).
    fn value(&self, x: f32) -> f32;
    /// f'(x); `y` is f(x), for functions whose derivative is cheaper from their output.
    fn derivative(&self, x: f32, y: f32) -> f32;

    /// Where f' jumps (relu: `[0.0]`), for plots and for gradient checks, which skip finite
    /// differences across a kink. None by default.
    fn kinks(&self) -> Vec<f64> {
        Vec::new()
    }
    /// The largest |f'(x)| over all x (the supremum where it is only approached, as softplus's
    /// 1), the scale of "saturated" in the layer diagnostics: a pre-activation is saturated
    /// where |f'(z)| < 1% of it. Built-ins state it exactly; the default scans
    /// [`derivative_f64`](Activation::derivative_f64) over x in \[-20, 20\] in steps of 1/256,
    /// so override it when your slope peaks between grid points or beyond that range.
    fn max_slope(&self) -> f64 {
        (-20 * 256..=20 * 256)
            .map(|i| self.derivative_f64(i as f64 / 256.0).abs())
            .filter(|d| d.is_finite())
            .fold(0.0, f64::max)
    }
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
    /// The loop runs compiled for the CPU's vector level (see [`cpu::dispatch`]).
    ///
    /// [`cpu::dispatch`]: super::cpu::dispatch
    #[inline]
    fn forward(&self, z: &[f32], y: &mut [f32]) {
        super::cpu::dispatch(
            #[inline(always)]
            || {
                for (y, &z) in y.iter_mut().zip(z) {
                    *y = self.value(z);
                }
            },
        )
    }
    /// `g *= f'(z)` over a slice, the incoming gradient times the derivative in one pass.
    #[inline]
    fn backward(&self, z: &[f32], y: &[f32], g: &mut [f32]) {
        super::cpu::dispatch(
            #[inline(always)]
            || {
                for ((g, &z), &y) in g.iter_mut().zip(z).zip(y) {
                    *g *= self.derivative(z, y);
                }
            },
        )
    }
}

/// Floats the built-ins are written for: f32 for training, f64 for gradient checks.
/// `vexp`, `vexp_m1`, `vtanh` and `vln_1p_exp_neg_abs` are the functions that vectorize in f32
/// (see [`fastmath`]); in f64 they are the standard library's.
///
/// [`fastmath`]: super::fastmath
pub trait Real: Float + Debug {
    /// The constant `v` in this type.
    fn k(v: f64) -> Self;
    /// e^x.
    fn vexp(self) -> Self;
    /// e^x - 1.
    fn vexp_m1(self) -> Self;
    /// tanh(x).
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

/// An activation written once for any float type: f32 for training, f64 for exact gradient
/// checks. Implementing it gives [`Activation`] (with `value_f64`/`derivative_f64` in true f64).
pub trait Builtin: Send + Sync + Debug + Copy + 'static {
    /// The name, as [`Activation::name`].
    fn label(&self) -> String;
    /// f(x).
    fn f<T: Real>(&self, x: T) -> T;
    /// The derivative; `y` must be `f(x)`.
    fn df<T: Real>(&self, x: T, y: T) -> T;
    /// Where f' jumps, as [`Activation::kinks`].
    fn kinks(&self) -> Vec<f64> {
        Vec::new()
    }
    /// The largest |f'(x)| over all x (its supremum), as [`Activation::max_slope`].
    fn max_slope(&self) -> f64;
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
    fn kinks(&self) -> Vec<f64> {
        Builtin::kinks(self)
    }
    fn max_slope(&self) -> f64 {
        Builtin::max_slope(self)
    }
    fn value_f64(&self, x: f64) -> f64 {
        self.f(x)
    }
    fn derivative_f64(&self, x: f64) -> f64 {
        self.df(x, self.f(x))
    }
}

// ---- what the command line knows about each built-in --------------------------------------------

/// The values a built-in's parameter accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Constraint {
    /// Any finite number.
    Finite,
    /// A finite number above zero.
    Positive,
}

impl Constraint {
    /// `Ok(v)` if `v` is acceptable, else what is wrong with it (without the parameter's name).
    pub fn check(self, v: f32) -> Result<f32, String> {
        match self {
            _ if !v.is_finite() => Err(format!("must be a finite number, got {v}")),
            Constraint::Positive if v <= 0.0 => Err(format!("must be positive, got {v}")),
            _ => Ok(v),
        }
    }
}

/// A built-in's parameter: name, default and constraint.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Param {
    /// Its name in `actbench list` and in messages (`alpha`).
    pub name: &'static str,
    /// The value when the user gives none.
    pub default: f32,
    /// The values it accepts.
    pub constraint: Constraint,
}

/// A built-in as the command line knows it. Each built-in defines its own `SPEC`.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    /// The canonical name (`leaky_relu`).
    pub name: &'static str,
    /// Other names accepted for it (`silu` for `swish`); recorded as the user wrote them.
    pub aliases: &'static [&'static str],
    /// The formula, for `actbench list`.
    pub formula: &'static str,
    /// The parameter, if it takes one (`name:param` on the command line).
    pub param: Option<Param>,
    /// Whether it belongs to the reference set the comparison is about.
    pub reference: bool,
    /// Builds it from the parameter's value (the default when none is given; ignored by
    /// built-ins without a parameter).
    pub build: fn(f32) -> Hidden,
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
#[inline(always)]
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
#[inline(always)]
pub fn normal_cdf<T: Real>(x: T) -> T {
    T::k(0.5) * erfc(-x * T::k(std::f64::consts::FRAC_1_SQRT_2))
}

/// Standard normal density.
#[inline(always)]
pub fn normal_pdf<T: Real>(x: T) -> T {
    T::k(0.398_942_280_401_432_7) * (T::k(-0.5) * x * x).vexp()
}

// ---- the built-ins -------------------------------------------------------------------------------

/// Defines a built-in: its struct (a unit struct, or a one-parameter tuple struct), its
/// formula f and derivative df for any [`Real`] (in df, `y` is f(x); in both, the parameter is
/// bound to the given name), its kinks (a `Vec<f64>`; the parameter is bound as f32 there), its
/// max_slope (the supremum of |f'|, an f64; the parameter bound as f32 too) and its `SPEC`.
macro_rules! builtin {
    (
        $(#[$doc:meta])*
        $ty:ident {
            name: $name:literal, aliases: [$($alias:literal),*], formula: $formula:literal,
            reference: $reference:expr, kinks: $kinks:expr,
            max_slope: $max_slope:expr,
            f: |$x:ident| $f:expr,
            df: |$dx:ident, $y:ident| $df:expr $(,)?
        }
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq)]
        pub struct $ty;
        impl $ty {
            /// Its name, aliases, formula and how to build it from the command line.
            pub const SPEC: Spec = Spec {
                name: $name,
                aliases: &[$($alias),*],
                formula: $formula,
                param: None,
                reference: $reference,
                build: |_| Hidden::Fixed(Arc::new($ty)),
            };
        }
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
            fn df<T: Real>(&self, $dx: T, $y: T) -> T {
                $df
            }
            fn kinks(&self) -> Vec<f64> {
                $kinks
            }
            fn max_slope(&self) -> f64 {
                $max_slope
            }
        }
    };
    (
        $(#[$doc:meta])*
        $ty:ident($p:ident: $pname:literal = $default:literal, $constraint:ident) {
            name: $name:literal, aliases: [$($alias:literal),*], formula: $formula:literal,
            reference: $reference:expr, kinks: $kinks:expr,
            max_slope: $max_slope:expr,
            f: |$x:ident| $f:expr,
            df: |$dx:ident, $y:ident| $df:expr $(,)?
        }
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq)]
        pub struct $ty(pub f32);
        impl Default for $ty {
            fn default() -> Self {
                $ty($default)
            }
        }
        impl $ty {
            /// Its name, aliases, formula, parameter and how to build it from the command line.
            pub const SPEC: Spec = Spec {
                name: $name,
                aliases: &[$($alias),*],
                formula: $formula,
                param: Some(Param {
                    name: $pname,
                    default: $default,
                    constraint: Constraint::$constraint,
                }),
                reference: $reference,
                build: |p| Hidden::Fixed(Arc::new($ty(p))),
            };
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
                let $p = T::k(self.0 as f64);
                $f
            }
            #[inline(always)]
            #[allow(unused_variables)]
            fn df<T: Real>(&self, $dx: T, $y: T) -> T {
                let $p = T::k(self.0 as f64);
                $df
            }
            #[allow(unused_variables)]
            fn kinks(&self) -> Vec<f64> {
                let $p = self.0;
                $kinks
            }
            #[allow(unused_variables)]
            fn max_slope(&self) -> f64 {
                let $p = self.0;
                $max_slope
            }
        }
    };
}

builtin!(
    /// sigmoid(x) = 1 / (1 + e^-x); sigmoid' = y (1 - y).
    Sigmoid {
        name: "sigmoid", aliases: [], formula: "1 / (1 + e^-x)", reference: true, kinks: vec![],
        max_slope: 0.25,
        f: |x| sigmoid(x),
        df: |x, y| y * (T::one() - y),
    }
);
builtin!(
    /// relu(x) = max(0, x); relu' = 1 for x > 0, else 0.
    Relu {
        name: "relu", aliases: [], formula: "max(0, x)", reference: true, kinks: vec![0.0],
        max_slope: 1.0,
        f: |x| x.max(T::zero()),
        df: |x, y| if x > T::zero() { T::one() } else { T::zero() },
    }
);
builtin!(
    /// leaky_relu(x) = x for x > 0, alpha x otherwise (alpha 0.01); see [`leaky`].
    LeakyRelu(a: "alpha" = 0.01, Finite) {
        name: "leaky_relu", aliases: [], formula: "x if x > 0 else alpha*x", reference: true,
        kinks: if a == 1.0 { vec![] } else { vec![0.0] },
        max_slope: 1f64.max(a.abs() as f64),
        f: |x| leaky(x, a),
        df: |x, y| leaky_slope(x, a),
    }
);
builtin!(
    /// tanh(x); tanh' = 1 - y^2.
    Tanh {
        name: "tanh", aliases: [], formula: "tanh(x)", reference: true, kinks: vec![],
        max_slope: 1.0,
        f: |x| x.vtanh(),
        df: |x, y| T::one() - y * y,
    }
);
builtin!(
    /// elu(x) = x for x > 0, alpha (e^x - 1) otherwise (alpha 1); elu' = y + alpha for x <= 0.
    Elu(a: "alpha" = 1.0, Positive) {
        name: "elu", aliases: [], formula: "x if x > 0 else alpha*(e^x - 1)", reference: true,
        // The slope is continuous at 0 only for alpha = 1.
        kinks: if a == 1.0 { vec![] } else { vec![0.0] },
        max_slope: 1f64.max(a as f64),
        f: |x| if x > T::zero() { x } else { a * x.vexp_m1() },
        df: |x, y| if x > T::zero() { T::one() } else { y + a },
    }
);
builtin!(
    /// The tanh approximation of GELU: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
    Gelu {
        name: "gelu", aliases: [], formula: "0.5x(1 + tanh(sqrt(2/pi)(x + 0.044715x^3)))",
        reference: true, kinks: vec![],
        max_slope: 1.128_993_068_655_481,
        f: |x| {
            let u = T::k(0.797_884_560_802_865_4) * (x + T::k(0.044715) * x * x * x);
            T::k(0.5) * x * (T::one() + u.vtanh())
        },
        df: |x, y| {
            // Beyond |x| = 10 tanh has saturated (to 1 in f64 too) and the derivative is the
            // step; clamping first keeps huge x from computing 0 * inf. Selects, not branches,
            // so that the loop vectorizes.
            let ten = T::k(10.0);
            let xc = x.max(-ten).min(ten);
            let c = T::k(0.797_884_560_802_865_4);
            let t = (c * (xc + T::k(0.044715) * xc * xc * xc)).vtanh();
            let du = c * (T::one() + T::k(3.0 * 0.044715) * xc * xc);
            let d = T::k(0.5) * (T::one() + t) + T::k(0.5) * xc * (T::one() - t * t) * du;
            let step = if x > T::zero() { T::one() } else { T::zero() };
            if x.abs() > ten { step } else { d }
        },
    }
);
builtin!(
    /// Exact GELU: x Phi(x), Phi the standard normal CDF; gelu_erf' = Phi(x) + x phi(x).
    GeluErf {
        name: "gelu_erf", aliases: [], formula: "x * Phi(x), Phi the standard normal CDF",
        reference: true, kinks: vec![],
        max_slope: 1.128_904_145_182_520_8,
        f: |x| x * normal_cdf(x),
        df: |x, y| normal_cdf(x) + x * normal_pdf(x),
    }
);
builtin!(
    /// The reference's own: relu(x) + 0.5 tanh(x); custom' = 1{x > 0} + 0.5 (1 - tanh^2 x).
    Custom {
        name: "custom", aliases: [], formula: "relu(x) + 0.5*tanh(x)", reference: true,
        kinks: vec![0.0],
        max_slope: 1.5,
        f: |x| x.max(T::zero()) + T::k(0.5) * x.vtanh(),
        df: |x, y| {
            let t = x.vtanh();
            let step = if x > T::zero() { T::one() } else { T::zero() };
            step + T::k(0.5) * (T::one() - t * t)
        },
    }
);
builtin!(
    /// swish(x) = x sigmoid(beta x) (beta 1; `silu` is the same function);
    /// swish' = s + beta x s (1 - s), s = sigmoid(beta x).
    Swish(b: "beta" = 1.0, Positive) {
        name: "swish", aliases: ["silu"], formula: "x * sigmoid(beta*x)", reference: false,
        kinks: vec![],
        max_slope: 1.099_839_320_128_528_4,
        f: |x| x * sigmoid(b * x),
        df: |x, y| {
            let bx = b * x;
            let s = sigmoid(bx);
            let d = s + bx * s * (T::one() - s);
            // Beyond |beta x| = 88.8 sigmoid has saturated to 0 or 1 (exactly, in f32) and d is
            // the step; selecting it keeps an overflowing beta x from computing inf * 0.
            let step = if x > T::zero() { T::one() } else { T::zero() };
            if bx.abs() > T::k(88.8) { step } else { d }
        },
    }
);
builtin!(
    /// mish(x) = x tanh(softplus(x)); mish' = tanh(sp) + x sigmoid(x) (1 - tanh^2(sp)).
    /// Both from one exp and one division (see `mish_parts`).
    Mish {
        name: "mish", aliases: [], formula: "x * tanh(softplus(x))", reference: false,
        kinks: vec![],
        max_slope: 1.088_498_161_251_567_2,
        f: |x| x * mish_parts(x).0,
        df: |x, y| {
            let (t, s) = mish_parts(x);
            // Above 20, t is 1 and the second term below 1e-15 of it (but x s, with s
            // computed from the clamped x, would not be).
            if x > T::k(20.0) { T::one() } else { t + x * s }
        },
    }
);

/// With u = e^x and n = u (u + 2) = (1 + u)^2 - 1: tanh(softplus(x)) = n / (n + 2), and
/// sigmoid(x) (1 - tanh^2(softplus(x))) = u / (1 + u) * 4 (1 + u)^2 / (n + 2)^2
/// = 4 u (1 + u) / (n + 2)^2, neither of which cancels. Returns both; x is clamped at 20,
/// above which tanh(softplus(x)) is 1 to f64's precision and u^2 would overflow f32 past 44.
#[inline(always)]
fn mish_parts<T: Real>(x: T) -> (T, T) {
    let u = x.min(T::k(20.0)).vexp();
    let n = u * (u + T::k(2.0));
    let r = T::one() / (n + T::k(2.0));
    (n * r, T::k(4.0) * u * (T::one() + u) * r * r)
}
builtin!(
    /// selu(x) = lambda x for x > 0, lambda alpha (e^x - 1) otherwise, with Klambauer et al.'s
    /// lambda = 1.0507..., alpha = 1.6732... The only built-in whose value overflows f32 at a
    /// finite input: selu(x) = +inf for x above f32::MAX / lambda (about 3.2e38), as the exact
    /// value rounds to.
    Selu {
        name: "selu", aliases: [], formula: "lambda*x if x > 0 else lambda*alpha*(e^x - 1)",
        reference: false, kinks: vec![0.0],
        max_slope: 1.758_099_340_847_376_6,
        f: |x| {
            let (l, a) = (T::k(1.050_700_987_355_480_5), T::k(1.673_263_242_354_377_2));
            if x > T::zero() { l * x } else { l * a * x.vexp_m1() }
        },
        df: |x, y| {
            let (l, a) = (T::k(1.050_700_987_355_480_5), T::k(1.673_263_242_354_377_2));
            if x > T::zero() { l } else { l * a * x.vexp() }
        },
    }
);
builtin!(
    /// celu(x) = max(0, x) + min(0, alpha (e^(x/alpha) - 1)) (alpha 1).
    Celu(a: "alpha" = 1.0, Positive) {
        name: "celu", aliases: [], formula: "max(0, x) + min(0, alpha*(e^(x/alpha) - 1))",
        reference: false, kinks: vec![],
        max_slope: 1.0,
        f: |x| if x > T::zero() { x } else { a * (x / a).vexp_m1() },
        df: |x, y| if x > T::zero() { T::one() } else { (x / a).vexp() },
    }
);
builtin!(
    /// softplus(x) = ln(1 + e^x); softplus' = sigmoid(x).
    Softplus {
        name: "softplus", aliases: [], formula: "ln(1 + e^x)", reference: false, kinks: vec![],
        max_slope: 1.0,
        f: |x| softplus(x),
        df: |x, y| sigmoid(x),
    }
);
builtin!(
    /// softsign(x) = x / (1 + |x|); softsign' = 1 / (1 + |x|)^2.
    Softsign {
        name: "softsign", aliases: [], formula: "x / (1 + |x|)", reference: false, kinks: vec![],
        max_slope: 1.0,
        f: |x| x / (T::one() + x.abs()),
        df: |x, y| {
            let d = T::one() + x.abs();
            T::one() / (d * d)
        },
    }
);
builtin!(
    /// hard_sigmoid(x) = relu6(x + 3) / 6 (Keras 3 and PyTorch); slope 1/6 on (-3, 3).
    HardSigmoid {
        name: "hard_sigmoid", aliases: [], formula: "clip(x/6 + 1/2, 0, 1)", reference: false,
        kinks: vec![-3.0, 3.0],
        max_slope: 1.0 / 6.0,
        f: |x| ((x + T::k(3.0)) / T::k(6.0)).max(T::zero()).min(T::one()),
        df: |x, y| if x > T::k(-3.0) && x <= T::k(3.0) { T::k(1.0 / 6.0) } else { T::zero() },
    }
);
builtin!(
    /// hard_swish(x) = x relu6(x + 3) / 6; hard_swish' = (2x + 3) / 6 on (-3, 3).
    HardSwish {
        name: "hard_swish", aliases: [], formula: "x * clip(x/6 + 1/2, 0, 1)", reference: false,
        kinks: vec![-3.0, 3.0],
        max_slope: 1.5,
        f: |x| x * ((x + T::k(3.0)) / T::k(6.0)).max(T::zero()).min(T::one()),
        df: |x, y| if x <= T::k(-3.0) {
            T::zero()
        } else if x > T::k(3.0) {
            T::one()
        } else {
            (T::k(2.0) * x + T::k(3.0)) / T::k(6.0)
        },
    }
);
builtin!(
    /// relu6(x) = min(max(0, x), 6).
    Relu6 {
        name: "relu6", aliases: [], formula: "min(max(0, x), 6)", reference: false,
        kinks: vec![0.0, 6.0],
        max_slope: 1.0,
        f: |x| x.max(T::zero()).min(T::k(6.0)),
        df: |x, y| if x > T::zero() && x <= T::k(6.0) { T::one() } else { T::zero() },
    }
);
builtin!(
    /// hard_tanh(x) = clip(x, -1, 1).
    HardTanh {
        name: "hard_tanh", aliases: [], formula: "clip(x, -1, 1)", reference: false,
        kinks: vec![-1.0, 1.0],
        max_slope: 1.0,
        f: |x| x.max(-T::one()).min(T::one()),
        df: |x, y| if x > -T::one() && x <= T::one() { T::one() } else { T::zero() },
    }
);
builtin!(
    /// log_sigmoid(x) = -softplus(-x); log_sigmoid' = sigmoid(-x).
    LogSigmoid {
        name: "log_sigmoid", aliases: [], formula: "-ln(1 + e^-x)", reference: false,
        kinks: vec![],
        max_slope: 1.0,
        f: |x| -softplus(-x),
        df: |x, y| sigmoid(-x),
    }
);
builtin!(
    /// tanhshrink(x) = x - tanh(x); tanhshrink' = tanh^2(x).
    Tanhshrink {
        name: "tanhshrink", aliases: [], formula: "x - tanh(x)", reference: false, kinks: vec![],
        max_slope: 1.0,
        f: |x| x - x.vtanh(),
        df: |x, y| {
            let t = x.vtanh();
            t * t
        },
    }
);
builtin!(
    /// linear(x) = x.
    Linear {
        name: "linear", aliases: [], formula: "x", reference: false, kinks: vec![],
        max_slope: 1.0,
        f: |x| x,
        df: |x, y| T::one(),
    }
);

// ---- the leaky piece, and the activations with state ---------------------------------------------

/// The leaky piece of leaky_relu, prelu and rrelu: x for x > 0, a x otherwise.
#[inline(always)]
pub fn leaky<T: Real>(x: T, a: T) -> T {
    if x > T::zero() { x } else { a * x }
}

/// The leaky piece's derivative in x: 1 for x > 0, a otherwise (the left piece's at the kink).
#[inline(always)]
pub fn leaky_slope<T: Real>(x: T, a: T) -> T {
    if x > T::zero() { T::one() } else { a }
}

/// PReLU: x for x > 0, a_j x otherwise, with one slope a_j per hidden unit learned by the
/// optimizer with the weights (the network keeps the slopes among its parameters).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prelu {
    /// Every slope's initial value.
    pub init: f32,
}

impl Prelu {
    /// Its name, aliases, formula, parameter and how to build it from the command line.
    pub const SPEC: Spec = Spec {
        name: "prelu",
        aliases: &[],
        formula: "x if x > 0 else a_j*x, a_j learned per unit",
        param: Some(Param {
            name: "init",
            default: 0.25,
            constraint: Constraint::Finite,
        }),
        reference: true,
        build: |init| Hidden::Prelu(Prelu { init }),
    };

    /// `y = leaky(z, a_j)` for a row-major `rows x slopes.len()` batch `z`.
    pub fn forward<T: Real>(&self, z: &[T], slopes: &[T], y: &mut [T]) {
        let n = slopes.len();
        for (yr, zr) in y.chunks_exact_mut(n).zip(z.chunks_exact(n)) {
            for ((y, &z), &a) in yr.iter_mut().zip(zr).zip(slopes) {
                *y = leaky(z, a);
            }
        }
    }

    /// Writes `dslopes` (d loss / d a_j: the incoming gradient times z, summed over the rows
    /// where z <= 0), then `g *= leaky_slope(z, a_j)`.
    pub fn backward<T: Real>(&self, z: &[T], slopes: &[T], g: &mut [T], dslopes: &mut [T]) {
        let n = slopes.len();
        dslopes.fill(T::zero());
        for (gr, zr) in g.chunks_exact_mut(n).zip(z.chunks_exact(n)) {
            for (((g, &z), &a), ds) in gr.iter_mut().zip(zr).zip(slopes).zip(dslopes.iter_mut()) {
                if z <= T::zero() {
                    *ds = *ds + *g * z;
                }
                *g = *g * leaky_slope(z, a);
            }
        }
    }
}

/// RReLU: x for x > 0, a x otherwise, with a ~ U(lower, upper) drawn per element while
/// training and a = (lower + upper) / 2 at evaluation (1/8 and 1/3 by default, as PyTorch).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rrelu {
    /// The smallest slope drawn.
    pub lower: f32,
    /// The bound the slopes stay below.
    pub upper: f32,
}

impl Default for Rrelu {
    fn default() -> Self {
        Rrelu {
            lower: 1.0 / 8.0,
            upper: 1.0 / 3.0,
        }
    }
}

impl Rrelu {
    /// Its name, aliases, formula and how to build it from the command line.
    pub const SPEC: Spec = Spec {
        name: "rrelu",
        aliases: &[],
        formula: "x if x > 0 else a*x, a ~ U(1/8, 1/3) in training, mean at eval",
        param: None,
        reference: false,
        build: |_| Hidden::Rrelu(Rrelu::default()),
    };

    /// The slope used at evaluation, the mean of the training distribution.
    pub fn mean_slope(&self) -> f32 {
        (self.lower + self.upper) / 2.0
    }

    /// Fills `slopes` with one slope per element: drawn from `rng` in training, the mean
    /// without one (evaluation). Each slope takes one 32-bit word of `rng`'s stream and is
    /// the value `rng.random_range(lower..upper)` makes of it (rand 0.9), so a block of
    /// slopes can be drawn from its own place in the stream (`ChaCha8Rng::set_word_pos`).
    ///
    /// # Panics
    /// In training, unless `lower < upper` with a finite width (as `random_range` does).
    pub fn draw(&self, rng: Option<&mut ChaCha8Rng>, slopes: &mut [f32]) {
        match rng {
            Some(rng) => {
                assert!(
                    self.lower < self.upper && (self.upper - self.lower).is_finite(),
                    "RReLU's slopes: an empty or infinite range [{}, {})",
                    self.lower,
                    self.upper
                );
                // The words in bulk, then converted in a loop that vectorizes: one
                // `random_range` call per slope took about 5 ns.
                let mut words = [0u32; 256];
                for chunk in slopes.chunks_mut(words.len()) {
                    let words = &mut words[..chunk.len()];
                    rng.fill(words);
                    for (s, &u) in chunk.iter_mut().zip(words.iter()) {
                        *s = self.slope(u);
                    }
                }
            }
            None => slopes.fill(self.mean_slope()),
        }
    }

    /// [`draw`](Self::draw) (and its panics) on the installed team's threads (up to
    /// `threads`, from [`split::MIN_SPLIT_ELEMENTS`] slopes), each block of slopes drawn from
    /// its own place in the stream: the same slopes as one thread drawing them all in order,
    /// and the stream continues after the last.
    pub fn draw_split(&self, threads: usize, rng: Option<&mut ChaCha8Rng>, slopes: &mut [f32]) {
        let Some(rng) = rng else {
            return self.draw(None, slopes);
        };
        let (base, start) = (rng.clone(), rng.get_word_pos());
        split::value_rows(threads, slopes, 1, 16, &|i0, block| {
            let mut rng = base.clone();
            rng.set_word_pos(start + i0 as u128);
            self.draw(Some(&mut rng), block);
        });
        rng.set_word_pos(start + slopes.len() as u128);
    }

    /// The slope rand 0.9's `random_range(lower..upper)` makes of the word `u`: its top 23
    /// bits as a float in [1, 2), minus 1, times the width, plus `lower` (the width, the
    /// product and the sum each rounded, as there: no fused multiply-add).
    #[inline(always)]
    fn slope(&self, u: u32) -> f32 {
        let unit = f32::from_bits((u >> 9) | 1f32.to_bits()) - 1.0;
        unit * (self.upper - self.lower) + self.lower
    }

    /// `y = leaky(z, a)` element by element, with the slopes from [`draw`](Self::draw).
    pub fn forward<T: Real>(&self, z: &[T], slopes: &[T], y: &mut [T]) {
        for ((y, &z), &a) in y.iter_mut().zip(z).zip(slopes) {
            *y = leaky(z, a);
        }
    }

    /// `g *= leaky_slope(z, a)`, with the slopes of the forward pass.
    pub fn backward<T: Real>(&self, z: &[T], slopes: &[T], g: &mut [T]) {
        for ((g, &z), &a) in g.iter_mut().zip(z).zip(slopes) {
            *g = *g * leaky_slope(z, a);
        }
    }
}

// ---- what the hidden layers apply ----------------------------------------------------------------

/// What the hidden layers apply: a fixed function, or one with state (PReLU's learned slopes,
/// RReLU's random ones).
#[derive(Debug, Clone)]
pub enum Hidden {
    /// A fixed function, built-in or yours.
    Fixed(Arc<dyn Activation>),
    /// PReLU; the network holds its slopes.
    Prelu(Prelu),
    /// RReLU; the network's workspace holds the slopes drawn for a batch.
    Rrelu(Rrelu),
}

impl Hidden {
    /// A fixed activation, yours or a built-in: `Hidden::fixed(Relu)`.
    pub fn fixed(a: impl Activation + 'static) -> Hidden {
        Hidden::Fixed(Arc::new(a))
    }

    /// The function as it acts at evaluation time (PReLU at its initial slope), for plots.
    pub fn function(&self) -> Arc<dyn Activation> {
        match self {
            Hidden::Fixed(a) => a.clone(),
            Hidden::Prelu(p) => Arc::new(LeakyRelu(p.init)),
            Hidden::Rrelu(r) => Arc::new(LeakyRelu(r.mean_slope())),
        }
    }

    /// The largest slope of the function as it acts (see [`Activation::max_slope`]): PReLU's
    /// and RReLU's positive piece has slope 1 and their negative slopes start (PReLU) or stay
    /// (RReLU) within 1 in the defaults, so 1 unless PReLU's initial slope is steeper.
    pub fn max_slope(&self) -> f64 {
        match self {
            Hidden::Fixed(a) => a.max_slope(),
            Hidden::Prelu(p) => 1f64.max(p.init.abs() as f64),
            Hidden::Rrelu(r) => 1f64.max(r.upper.abs() as f64),
        }
    }

    /// Where the derivative jumps.
    pub fn kinks(&self) -> Vec<f64> {
        match self {
            Hidden::Fixed(a) => a.kinks(),
            Hidden::Prelu(_) | Hidden::Rrelu(_) => vec![0.0],
        }
    }
}
