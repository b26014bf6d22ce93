//! A grid of panels, one per activation, each with the function and its derivative.
//!
//! One panel per activation (rather than two) keeps ~25 activations at a readable 5x5 grid,
//! and puts f and f' on the same axes so their relation is visible at a glance.

use std::path::Path;

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::nn::Hidden;

use super::{DrawResult, Figure, PlotError, finite_runs, padded_range, render};

/// Sampled activation: `values[i] = f(xs[i])`, `derivatives[i] = f'(xs[i])`.
/// `kinks` are x positions where f' jumps (relu at 0).
#[derive(Debug, Clone, PartialEq)]
pub struct ActivationCurve {
    /// The activation's name with its parameter, as drawn in the legend.
    pub name: String,
    /// Sample positions, ascending.
    pub xs: Vec<f64>,
    /// f at each position.
    pub values: Vec<f64>,
    /// f' at each position.
    pub derivatives: Vec<f64>,
    /// Positions where f' jumps.
    pub kinks: Vec<f64>,
}

impl ActivationCurve {
    /// Points sampled over `(lo, hi)` for `actbench plot activations`.
    const POINTS: usize = 601;

    /// `hidden` sampled over `(lo, hi)` in f64: f, f' and the kinks inside the range.
    pub fn sample(name: &str, hidden: &Hidden, (lo, hi): (f64, f64)) -> Self {
        let f = hidden.function();
        let xs: Vec<f64> = (0..Self::POINTS)
            .map(|i| lo + (hi - lo) * i as f64 / (Self::POINTS - 1) as f64)
            .collect();
        ActivationCurve {
            name: name.to_owned(),
            values: xs.iter().map(|&x| f.value_f64(x)).collect(),
            derivatives: xs.iter().map(|&x| f.derivative_f64(x)).collect(),
            kinks: hidden
                .kinks()
                .into_iter()
                .filter(|k| (lo..=hi).contains(k))
                .collect(),
            xs,
        }
    }
}

const PANEL: (u32, u32) = (400, 300);
const HEADER_HEIGHT: u32 = 76;
const MIN_WIDTH: u32 = 800;
const MAX_COLUMNS: usize = 6;

const FUNCTION_COLOUR: RGBColor = RGBColor(31, 119, 180);
const DERIVATIVE_COLOUR: RGBColor = RGBColor(230, 100, 0);
const KINK_COLOUR: RGBColor = RGBColor(120, 120, 120);

/// Draws all curves into `out`; the format follows its extension (`.png` or `.svg`).
pub fn plot_activations(curves: &[ActivationCurve], out: &Path) -> Result<(), PlotError> {
    super::Format::of(out)?;
    let bad = |message: String| PlotError::BadData {
        path: out.to_owned(),
        message,
    };
    if curves.is_empty() {
        return Err(bad("no activation curves to plot".to_owned()));
    }
    for curve in curves {
        validate(curve).map_err(|why| bad(format!("activation `{}`: {why}", curve.name)))?;
    }
    render(&ActivationsFigure::new(curves), out)
}

fn validate(c: &ActivationCurve) -> Result<(), String> {
    let n = c.xs.len();
    if n < 2 {
        return Err(format!("needs at least 2 sample points, got {n}"));
    }
    for (what, len) in [
        ("values", c.values.len()),
        ("derivatives", c.derivatives.len()),
    ] {
        if len != n {
            return Err(format!("{what} has {len} points but xs has {n}"));
        }
    }
    if c.xs.iter().any(|x| !x.is_finite()) || c.xs.windows(2).any(|w| w[0] >= w[1]) {
        return Err("xs must be finite and strictly increasing".to_owned());
    }
    if c.kinks.iter().any(|k| !k.is_finite()) {
        return Err("kinks must be finite".to_owned());
    }
    Ok(())
}

struct ActivationsFigure<'a> {
    curves: &'a [ActivationCurve],
    columns: usize,
    rows: usize,
}

impl<'a> ActivationsFigure<'a> {
    fn new(curves: &'a [ActivationCurve]) -> Self {
        let n = curves.len();
        let columns = (1..=MAX_COLUMNS)
            .find(|c| c * c >= n)
            .unwrap_or(MAX_COLUMNS);
        Self {
            curves,
            columns,
            rows: n.div_ceil(columns),
        }
    }

    fn draw_key<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let style = ("sans-serif", 15)
            .into_font()
            .color(&BLACK)
            .pos(Pos::new(HPos::Left, VPos::Center));
        let labels = [
            "f(x)",
            "f′(x)",
            "f′ jumps at a kink: ○ one-sided limits, ● value given at the kink",
        ];
        const SAMPLE: i32 = 30;
        const GAP: i32 = 28;
        let widths = labels
            .iter()
            .map(|l| area.estimate_text_size(l, &style).map(|(w, _)| w as i32))
            .collect::<Result<Vec<_>, _>>()?;
        let total: i32 = widths.iter().map(|w| SAMPLE + 6 + w).sum::<i32>() + GAP * 2;
        let (width, height) = area.dim_in_pixel();
        let mut x = ((width as i32 - total) / 2).max(8);
        let y = height as i32 / 2;
        for (k, (label, w)) in labels.iter().zip(widths).enumerate() {
            match k {
                0 => area.draw(&PathElement::new(
                    vec![(x, y), (x + SAMPLE, y)],
                    FUNCTION_COLOUR.stroke_width(2),
                ))?,
                1 => area.draw(&PathElement::new(
                    vec![(x, y), (x + SAMPLE, y)],
                    DERIVATIVE_COLOUR.stroke_width(2),
                ))?,
                _ => {
                    let mid = x + SAMPLE / 2;
                    area.draw(&DashedPathElement::new(
                        vec![(mid, y - 9), (mid, y + 9)],
                        2,
                        3,
                        KINK_COLOUR.stroke_width(1),
                    ))?;
                    area.draw(&Circle::new((mid, y), 4, WHITE.filled()))?;
                    area.draw(&Circle::new((mid, y), 4, DERIVATIVE_COLOUR.stroke_width(2)))?;
                }
            }
            area.draw(&Text::new(*label, (x + SAMPLE + 6, y), style.clone()))?;
            x += SAMPLE + 6 + w + GAP;
        }
        Ok(())
    }
}

fn draw_panel<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, c: &ActivationCurve) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let (x0, x1) = (c.xs[0], c.xs[c.xs.len() - 1]);
    let (y0, y1) = padded_range(c.values.iter().chain(&c.derivatives).copied(), 0.08);
    let mut chart = ChartBuilder::on(area)
        .caption(&c.name, ("sans-serif", 18))
        .margin(8)
        .margin_right(16)
        .x_label_area_size(36)
        .y_label_area_size(54)
        .build_cartesian_2d(x0..x1, y0..y1)?;
    chart
        .configure_mesh()
        .x_desc("x")
        .y_desc("f(x), f′(x)")
        .x_labels(7)
        .y_labels(6)
        .label_style(("sans-serif", 12))
        .axis_desc_style(("sans-serif", 13))
        .bold_line_style(RGBColor(220, 220, 220))
        .light_line_style(RGBColor(244, 244, 244))
        .draw()?;

    // Axes through the origin help read off f(0) and where f' crosses 0.
    let axis = RGBColor(160, 160, 160).stroke_width(1);
    if y0 < 0.0 && 0.0 < y1 {
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(x0, 0.0), (x1, 0.0)],
            axis,
        )))?;
    }
    let kinks: Vec<f64> = c
        .kinks
        .iter()
        .copied()
        .filter(|k| x0 < *k && *k < x1)
        .collect();
    // Skipped when a kink sits at 0 (relu): its dotted marker would vanish under the solid axis.
    if x0 < 0.0 && 0.0 < x1 && !kinks.contains(&0.0) {
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(0.0, y0), (0.0, y1)],
            axis,
        )))?;
    }
    for &k in &kinks {
        chart.draw_series(DashedLineSeries::new(
            vec![(k, y0), (k, y1)],
            2,
            3,
            KINK_COLOUR.stroke_width(1),
        ))?;
    }

    let values: Vec<(f64, f64)> = c.xs.iter().copied().zip(c.values.iter().copied()).collect();
    for run in finite_runs(&values) {
        chart.draw_series(LineSeries::new(run, FUNCTION_COLOUR.stroke_width(2)))?;
    }
    let derivative = DERIVATIVE_COLOUR.stroke_width(2);
    for segment in derivative_segments(&c.xs, &c.derivatives, &kinks) {
        chart.draw_series(LineSeries::new(segment, derivative))?;
    }
    for &k in &kinks {
        let marks = kink_marks(&c.xs, &c.derivatives, k);
        for y in [marks.left, marks.right].into_iter().flatten() {
            chart.draw_series([
                Circle::new((k, y), 4, WHITE.filled()),
                Circle::new((k, y), 4, derivative),
            ])?;
        }
        if let Some(y) = marks.at {
            chart.draw_series(std::iter::once(Circle::new(
                (k, y),
                3,
                DERIVATIVE_COLOUR.filled(),
            )))?;
        }
    }
    Ok(())
}

impl Figure for ActivationsFigure<'_> {
    fn size(&self) -> (u32, u32) {
        let width = (self.columns as u32 * PANEL.0).max(MIN_WIDTH);
        (width, HEADER_HEIGHT + self.rows as u32 * PANEL.1)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE)?;
        let (header, grid) = root.split_vertically(HEADER_HEIGHT);
        let key = header.titled(
            "Activation functions and their derivatives",
            ("sans-serif", 24),
        )?;
        self.draw_key(&key)?;
        let panels = grid.split_evenly((self.rows, self.columns));
        for (panel, curve) in panels.iter().zip(self.curves) {
            draw_panel(panel, curve)?;
        }
        Ok(())
    }
}

/// Samples closer than this (relative to the x span) to a kink count as "at" the kink.
fn kink_tolerance(xs: &[f64]) -> f64 {
    let span = xs.last().copied().unwrap_or(0.0) - xs.first().copied().unwrap_or(0.0);
    1e-9 * span.abs().max(1.0)
}

/// The derivative as separate polylines: split at every kink (and at non-finite values) so no
/// line joins the two sides of a jump. Samples exactly at a kink belong to neither side.
pub(super) fn derivative_segments(xs: &[f64], ds: &[f64], kinks: &[f64]) -> Vec<Vec<(f64, f64)>> {
    let tol = kink_tolerance(xs);
    let mut segments = Vec::new();
    let mut current: Vec<(f64, f64)> = Vec::new();
    for (&x, &d) in xs.iter().zip(ds) {
        let at_kink = kinks.iter().any(|k| (x - k).abs() <= tol);
        let crosses = current
            .last()
            .is_some_and(|&(px, _)| kinks.iter().any(|&k| px < k && k < x));
        if (at_kink || !d.is_finite() || crosses) && !current.is_empty() {
            segments.push(std::mem::take(&mut current));
        }
        if !at_kink && d.is_finite() {
            current.push((x, d));
        }
    }
    if !current.is_empty() {
        segments.push(current);
    }
    segments
}

/// What to mark at a kink: the nearest samples on each side (approximating the one-sided
/// limits, drawn as open circles) and the value the code returns exactly at the kink, if sampled.
#[derive(Debug, PartialEq)]
pub(super) struct KinkMarks {
    pub left: Option<f64>,
    pub right: Option<f64>,
    pub at: Option<f64>,
}

pub(super) fn kink_marks(xs: &[f64], ds: &[f64], k: f64) -> KinkMarks {
    let tol = kink_tolerance(xs);
    let finite = || xs.iter().zip(ds).filter(|(_, d)| d.is_finite());
    KinkMarks {
        left: finite().rfind(|(x, _)| **x < k - tol).map(|(_, d)| *d),
        right: finite().find(|(x, _)| **x > k + tol).map(|(_, d)| *d),
        at: finite()
            .find(|(x, _)| (**x - k).abs() <= tol)
            .map(|(_, d)| *d),
    }
}
