//! Training curves: accuracy and loss per epoch, one colour per activation.

use std::path::Path;

use plotters::coord::Shift;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::coord::types::RangedCoordf64;
use plotters::element::DashedPathElement;
use plotters::prelude::*;

use super::data::{self, Series, Stat};
use super::{
    DrawResult, Figure, PlotError, draw_activation_key, finite_runs, legend_text, padded_range,
    render, series_colour,
};
use crate::results::EpochRow;
use crate::results::read::read_epochs;

const SIZE: (u32, u32) = (1200, 500);
const LEGEND_WIDTH: u32 = 210;
/// Above this many epochs, per-epoch markers would only add clutter.
const MAX_EPOCHS_WITH_MARKERS: u32 = 15;

/// Writes `out_dir/curves.png` and `out_dir/curves.svg`.
pub fn plot_curves(rows: &[EpochRow], out_dir: &Path) -> Result<(), PlotError> {
    let png = out_dir.join("curves.png");
    if rows.is_empty() {
        return Err(PlotError::BadData {
            path: png,
            message: "no epoch rows to plot".to_owned(),
        });
    }
    let figure = CurvesFigure::new(rows);
    render(&figure, &png)?;
    render(&figure, &out_dir.join("curves.svg"))
}

/// Reads `run_dir/epochs.csv` and writes the curves next to it.
pub fn plot_run(run_dir: &Path) -> Result<(), PlotError> {
    let rows = read_epochs(run_dir)?;
    plot_curves(&rows, run_dir)
}

struct CurvesFigure {
    series: Vec<Series>,
    first_epoch: u32,
    last_epoch: u32,
    max_seeds: usize,
    has_val: bool,
    /// The datasets' titles, joined (`MNIST`; a merged folder may hold several).
    datasets: String,
}

/// Which metric a panel shows.
#[derive(Clone, Copy)]
enum Metric {
    Accuracy,
    Loss,
}

impl Metric {
    fn pick(self, s: &Series) -> (&[Stat], &[Stat]) {
        match self {
            Metric::Accuracy => (&s.train_accuracy, &s.val_accuracy),
            Metric::Loss => (&s.train_loss, &s.val_loss),
        }
    }
}

impl CurvesFigure {
    fn new(rows: &[EpochRow]) -> Self {
        let series = data::aggregate(rows);
        let first_epoch = rows.iter().map(|r| r.epoch).min().unwrap_or(1);
        let last_epoch = rows.iter().map(|r| r.epoch).max().unwrap_or(1);
        let max_seeds = series.iter().map(|s| s.seeds).max().unwrap_or(1);
        let has_val = series
            .iter()
            .any(|s| !s.val_accuracy.is_empty() || !s.val_loss.is_empty());
        let datasets = crate::stats::first_seen(rows.iter().map(|r| r.dataset.as_str()))
            .iter()
            .map(|d| crate::data::dataset::title_of(d))
            .collect::<Vec<_>>()
            .join(", ");
        Self {
            datasets,
            series,
            first_epoch,
            last_epoch,
            max_seeds,
            has_val,
        }
    }

    fn title(&self) -> String {
        let n = self.series.len();
        let what = if n == 1 { "activation" } else { "activations" };
        if self.max_seeds > 1 {
            format!(
                "Training curves on {}: {n} {what}, mean ± 1 sd over seeds",
                self.datasets
            )
        } else {
            format!("Training curves on {}: {n} {what}", self.datasets)
        }
    }

    fn draw_panel<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        metric: Metric,
    ) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let (caption, y_desc) = match metric {
            Metric::Accuracy => ("Accuracy per epoch", "accuracy"),
            Metric::Loss => ("Loss per epoch", "loss"),
        };
        let bounds = self.series.iter().flat_map(|s| {
            let (train, val) = metric.pick(s);
            train.iter().chain(val).flat_map(|st| {
                let sd = st.sd.unwrap_or(0.0);
                [st.mean - sd, st.mean + sd]
            })
        });
        let (y0, y1) = padded_range(bounds, 0.05);
        let x_axis = EpochAxis::new(self.first_epoch, self.last_epoch);

        let mut chart = ChartBuilder::on(area)
            .caption(caption, ("sans-serif", 17))
            .margin(10)
            .margin_right(18)
            .x_label_area_size(42)
            .y_label_area_size(64)
            .build_cartesian_2d(x_axis, y0..y1)?;
        chart
            .configure_mesh()
            .x_desc("epoch")
            .y_desc(y_desc)
            .x_label_formatter(&|x| format!("{x:.0}"))
            .y_labels(8)
            .label_style(("sans-serif", 13))
            .axis_desc_style(("sans-serif", 15))
            .bold_line_style(RGBColor(220, 220, 220))
            .light_line_style(RGBColor(242, 242, 242))
            .draw()?;

        // Bands first so every mean line stays visible on top of them.
        for (i, s) in self.series.iter().enumerate() {
            let colour = series_colour(i);
            let (train, val) = metric.pick(s);
            for (stats, alpha) in [(train, 0.18), (val, 0.10)] {
                for run in band_runs(stats) {
                    if let [(x, lo, hi)] = run[..] {
                        // A single epoch has no area: show the spread as an error bar.
                        chart.draw_series(std::iter::once(PathElement::new(
                            vec![(x, lo), (x, hi)],
                            colour.mix(0.5).stroke_width(2),
                        )))?;
                        continue;
                    }
                    let outline = run
                        .iter()
                        .map(|&(x, _, hi)| (x, hi))
                        .chain(run.iter().rev().map(|&(x, lo, _)| (x, lo)));
                    chart.draw_series(std::iter::once(Polygon::new(
                        outline.collect::<Vec<_>>(),
                        colour.mix(alpha).filled(),
                    )))?;
                }
            }
        }

        let markers = self.last_epoch - self.first_epoch < MAX_EPOCHS_WITH_MARKERS;
        for (i, s) in self.series.iter().enumerate() {
            let colour = series_colour(i);
            let line = colour.stroke_width(2);
            let (train, val) = metric.pick(s);
            for run in finite_runs(&means(train)) {
                if markers {
                    chart.draw_series(run.iter().map(|&p| Circle::new(p, 3, colour.filled())))?;
                }
                chart.draw_series(LineSeries::new(run, line))?;
            }
            for run in finite_runs(&means(val)) {
                if markers {
                    // Hollow, so validation points differ from training points at a glance.
                    chart.draw_series(run.iter().flat_map(|&p| {
                        [
                            Circle::new(p, 3, WHITE.filled()),
                            Circle::new(p, 3, colour.stroke_width(1)),
                        ]
                    }))?;
                }
                chart.draw_series(DashedLineSeries::new(run, 7, 5, line))?;
            }
        }
        Ok(())
    }

    fn draw_legend<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        const ROW: i32 = 18;
        let height = area.dim_in_pixel().1 as i32;

        // Style key at the bottom: what solid, dashed and shaded mean.
        let mut keys: Vec<(&str, u8)> = vec![("train (solid)", 0)];
        if self.has_val {
            keys.push(("validation (dashed)", 1));
        }
        if self.max_seeds > 1 {
            keys.push(("± 1 sd over seeds", 2));
        }
        let key_top = height - 12 - ROW * keys.len() as i32;
        for (k, &(label, kind)) in keys.iter().enumerate() {
            let y = key_top + ROW * k as i32 + ROW / 2;
            let grey = RGBColor(90, 90, 90);
            match kind {
                0 => area.draw(&PathElement::new(
                    vec![(8, y), (34, y)],
                    grey.stroke_width(2),
                ))?,
                1 => area.draw(&DashedPathElement::new(
                    vec![(8, y), (34, y)],
                    7,
                    5,
                    grey.stroke_width(2),
                ))?,
                _ => area.draw(&Rectangle::new(
                    [(8, y - 6), (34, y + 6)],
                    grey.mix(0.25).filled(),
                ))?,
            }
            area.draw(&Text::new(label, (42, y), legend_text(13.0)))?;
        }

        let names: Vec<&str> = self.series.iter().map(|s| s.activation.as_str()).collect();
        draw_activation_key(area, &names, key_top, (14.0, 12.0))
    }
}

impl Figure for CurvesFigure {
    fn size(&self) -> (u32, u32) {
        SIZE
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE)?;
        let body = root.titled(&self.title(), ("sans-serif", 22))?;
        let (plots, legend) = body.split_horizontally(SIZE.0 - LEGEND_WIDTH);
        let panels = plots.split_evenly((1, 2));
        self.draw_panel(&panels[0], Metric::Accuracy)?;
        self.draw_panel(&panels[1], Metric::Loss)?;
        self.draw_legend(&legend.margin(30, 0, 6, 0))
    }
}

fn means(stats: &[Stat]) -> Vec<(f64, f64)> {
    stats.iter().map(|s| (f64::from(s.epoch), s.mean)).collect()
}

/// Contiguous runs of (epoch, mean - sd, mean + sd) where the band is defined.
fn band_runs(stats: &[Stat]) -> Vec<Vec<(f64, f64, f64)>> {
    let mut runs = Vec::new();
    let mut run = Vec::new();
    for s in stats {
        match s.sd {
            Some(sd) if s.mean.is_finite() && sd.is_finite() => {
                run.push((f64::from(s.epoch), s.mean - sd, s.mean + sd));
            }
            _ if !run.is_empty() => runs.push(std::mem::take(&mut run)),
            _ => {}
        }
    }
    if !run.is_empty() {
        runs.push(run);
    }
    runs
}

/// Epoch x axis: continuous f64 (so lines, dashes and bands can be drawn between epochs) but
/// with ticks and grid lines only at integer epochs. plotters' `with_key_points` on an f64 range
/// loses the f64 label formatter, hence this small `Ranged` of our own.
pub(super) struct EpochAxis {
    inner: RangedCoordf64,
    pub ticks: Vec<f64>,
}

impl EpochAxis {
    pub fn new(first: u32, last: u32) -> Self {
        let (first, last) = (f64::from(first), f64::from(last.max(first)));
        let span = last - first;
        // Small padding so end markers are not cut by the frame; a single epoch gets a unit range.
        let pad = if span == 0.0 { 0.5 } else { span * 0.03 };
        // At most ~10 labelled ticks.
        let step = [1u32, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000]
            .into_iter()
            .map(f64::from)
            .find(|step| span / step <= 10.0)
            .unwrap_or_else(|| (span / 10.0).ceil());
        let mut ticks = vec![first];
        let mut t = (first / step).floor() * step + step;
        while t <= last {
            // Skip a multiple that would crowd the first tick's label.
            if t - first >= step * 0.5 {
                ticks.push(t);
            }
            t += step;
        }
        Self {
            inner: (first - pad..last + pad).into(),
            ticks,
        }
    }
}

impl Ranged for EpochAxis {
    // Labels come from `x_label_formatter`; this only satisfies the mesh's formatter bound.
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.inner.map(value, limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, _hint: Hint) -> Vec<f64> {
        self.ticks.clone()
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.inner.range()
    }
}
