//! Layer diagnostics by depth: each hidden layer's weight-gradient RMS (log scale), dead-unit
//! fraction and saturated fraction in the last epoch, one colour per activation, so a
//! vanishing gradient or a dying layer shows at a glance. A convolutional network's conv
//! layers (numbered first) are labelled `conv` on a shaded band, its dense layers `dense`.

use std::collections::HashMap;
use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::curves::EpochAxis;
use super::{
    DrawResult, Figure, PlotError, draw_activation_key, finite_runs, render, series_colour,
    tick_label,
};
use crate::results::LayerRow;
use crate::results::read::read_layers;
use crate::results::schema::LayerKind;
use crate::stats::first_seen;

const SIZE: (u32, u32) = (1500, 520);
const LEGEND_WIDTH: u32 = 190;

/// Writes `out_dir/layers.png` and `out_dir/layers.svg`.
pub fn plot_layers(rows: &[LayerRow], out_dir: &Path) -> Result<(), PlotError> {
    let png = out_dir.join("layers.png");
    if rows.is_empty() {
        return Err(PlotError::BadData {
            path: png,
            message: "no layer rows to plot".to_owned(),
        });
    }
    let figure = LayersFigure::new(rows);
    render(&figure, &png)?;
    render(&figure, &out_dir.join("layers.svg"))
}

/// Reads `run_dir/layers.csv` and, if the run has one, draws it next to it. Returns whether it
/// drew (runs from before layers.csv have none).
pub fn plot_run_layers(run_dir: &Path) -> Result<bool, PlotError> {
    match read_layers(run_dir)? {
        Some(rows) => plot_layers(&rows, run_dir).map(|()| true),
        None => Ok(false),
    }
}

/// One activation's figures by layer (1-based), means over its seeds' last epochs.
struct Series {
    activation: String,
    seeds: usize,
    grad_rms: Vec<(f64, f64)>,
    dead: Vec<(f64, f64)>,
    saturated: Vec<(f64, f64)>,
}

struct LayersFigure {
    series: Vec<Series>,
    layers: u32,
    /// Layers 1 to `conv_layers` are conv layers (a cnn's come first); 0 for the dense network.
    conv_layers: u32,
    /// The datasets' titles, joined (`MNIST`; a merged folder may hold several).
    datasets: String,
}

/// Which figure a panel shows.
#[derive(Clone, Copy)]
enum Panel {
    Gradient,
    Dead,
    Saturated,
}

impl Panel {
    fn points(self, s: &Series) -> &[(f64, f64)] {
        match self {
            Panel::Gradient => &s.grad_rms,
            Panel::Dead => &s.dead,
            Panel::Saturated => &s.saturated,
        }
    }
}

impl LayersFigure {
    fn new(rows: &[LayerRow]) -> Self {
        // Each job's last epoch: the state the run ended in.
        let mut last: HashMap<(&str, u64), u32> = HashMap::new();
        for r in rows {
            let e = last.entry((&r.activation, r.seed)).or_default();
            *e = (*e).max(r.epoch);
        }
        let series = first_seen(rows.iter().map(|r| r.activation.as_str()))
            .into_iter()
            .map(|name| {
                let group: Vec<&LayerRow> = rows
                    .iter()
                    .filter(|r| r.activation == name && last[&(name, r.seed)] == r.epoch)
                    .collect();
                let by_layer = |metric: &dyn Fn(&LayerRow) -> Option<f64>| {
                    let mut sums: HashMap<u32, (f64, usize)> = HashMap::new();
                    for r in &group {
                        if let Some(v) = metric(r) {
                            let s = sums.entry(r.layer).or_default();
                            *s = (s.0 + v, s.1 + 1);
                        }
                    }
                    let mut points: Vec<(f64, f64)> = sums
                        .into_iter()
                        .map(|(l, (sum, n))| (f64::from(l), sum / n as f64))
                        .collect();
                    points.sort_by(|a, b| a.0.total_cmp(&b.0));
                    points
                };
                let mut seeds: Vec<u64> = group.iter().map(|r| r.seed).collect();
                seeds.sort_unstable();
                seeds.dedup();
                Series {
                    activation: name.to_owned(),
                    seeds: seeds.len(),
                    grad_rms: by_layer(&|r| r.grad_rms.filter(|g| *g > 0.0)),
                    dead: by_layer(&|r| Some(r.dead_fraction)),
                    saturated: by_layer(&|r| Some(r.saturated_fraction)),
                }
            })
            .collect();
        let layers = rows.iter().map(|r| r.layer).max().unwrap_or(1);
        let conv_layers = rows
            .iter()
            .filter(|r| r.kind == LayerKind::Conv)
            .map(|r| r.layer)
            .max()
            .unwrap_or(0);
        let datasets = first_seen(rows.iter().map(|r| r.dataset.as_str()))
            .iter()
            .map(|d| crate::data::dataset::title_of(d))
            .collect::<Vec<_>>()
            .join(", ");
        Self {
            series,
            layers,
            conv_layers,
            datasets,
        }
    }

    /// A layer's tick label: its number, with its kind when the network has conv layers.
    fn layer_label(&self, x: f64) -> String {
        match self.conv_layers {
            0 => format!("{x:.0}"),
            conv if x <= f64::from(conv) => format!("{x:.0} conv"),
            _ => format!("{x:.0} dense"),
        }
    }

    fn x_desc(&self) -> &'static str {
        match self.conv_layers {
            0 => "hidden layer (1 = next to the input)",
            _ => "hidden layer (1 = next to the input; conv units = channels)",
        }
    }

    /// A light band behind the conv layers, so they stand apart from the dense ones.
    fn shade_conv<DB: DrawingBackend, Y: Ranged<ValueType = f64>>(
        &self,
        chart: &mut ChartContext<'_, DB, Cartesian2d<EpochAxis, Y>>,
    ) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        if self.conv_layers == 0 {
            return Ok(());
        }
        let (x, y) = (chart.x_range(), chart.y_range());
        let right = (f64::from(self.conv_layers) + 0.5).min(x.end);
        chart.draw_series(std::iter::once(Rectangle::new(
            [(x.start, y.start), (right, y.end)],
            RGBColor(244, 246, 252).filled(),
        )))?;
        Ok(())
    }

    fn draw_panel<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        panel: Panel,
    ) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let values = || {
            self.series
                .iter()
                .flat_map(move |s| panel.points(s).iter().map(|p| p.1))
                .filter(|v| v.is_finite())
        };
        let x_axis = || EpochAxis::new(1, self.layers);
        let (caption, y_desc) = match panel {
            Panel::Gradient => ("Weight-gradient RMS (log scale)", "RMS of dL/dW"),
            Panel::Dead => ("Dead units", "fraction of units"),
            Panel::Saturated => ("Saturated pre-activations", "fraction, |f'(z)| < 1% of max"),
        };
        match panel {
            Panel::Gradient => {
                // Whole decades around the data, so the spread between layers and activations
                // fills the panel whatever its size.
                let (lo, hi) = values()
                    .filter(|v| *v > 0.0)
                    .fold((f64::INFINITY, 0.0f64), |(lo, hi), v| {
                        (lo.min(v), hi.max(v))
                    });
                let (lo, hi) = if lo.is_finite() && hi > 0.0 {
                    (
                        lo.log10().floor(),
                        hi.log10().ceil().max(lo.log10().floor() + 1.0),
                    )
                } else {
                    (-6.0, 0.0)
                };
                let (lo, hi) = (10f64.powf(lo.max(-300.0)), 10f64.powf(hi.min(300.0)));
                let mut chart = ChartBuilder::on(area)
                    .caption(caption, ("sans-serif", 17))
                    .margin(10)
                    .margin_right(18)
                    .x_label_area_size(42)
                    .y_label_area_size(70)
                    .build_cartesian_2d(x_axis(), (lo..hi).log_scale())?;
                self.shade_conv(&mut chart)?;
                chart
                    .configure_mesh()
                    .x_desc(self.x_desc())
                    .y_desc(y_desc)
                    .x_label_formatter(&|x| self.layer_label(*x))
                    .y_label_formatter(&|y| format!("{y:.0e}"))
                    .label_style(("sans-serif", 13))
                    .axis_desc_style(("sans-serif", 15))
                    .bold_line_style(RGBColor(220, 220, 220))
                    .light_line_style(RGBColor(242, 242, 242))
                    .draw()?;
                for (i, s) in self.series.iter().enumerate() {
                    let colour = series_colour(i);
                    for run in finite_runs(panel.points(s)) {
                        chart
                            .draw_series(run.iter().map(|&p| Circle::new(p, 3, colour.filled())))?;
                        chart.draw_series(LineSeries::new(run, colour.stroke_width(2)))?;
                    }
                }
            }
            Panel::Dead | Panel::Saturated => {
                // From 0 to a little above the largest value (at least 0.05), so that small
                // fractions are not flattened against a 0..1 axis.
                let hi = values().fold(0.0f64, f64::max);
                let hi = (hi * 1.1).clamp(0.05, 1.05);
                let mut chart = ChartBuilder::on(area)
                    .caption(caption, ("sans-serif", 17))
                    .margin(10)
                    .margin_right(18)
                    .x_label_area_size(42)
                    .y_label_area_size(64)
                    .build_cartesian_2d(x_axis(), -0.02 * hi..hi)?;
                self.shade_conv(&mut chart)?;
                chart
                    .configure_mesh()
                    .x_desc(self.x_desc())
                    .y_desc(y_desc)
                    .x_label_formatter(&|x| self.layer_label(*x))
                    .y_label_formatter(&|y| tick_label(*y))
                    .y_labels(8)
                    .label_style(("sans-serif", 13))
                    .axis_desc_style(("sans-serif", 15))
                    .bold_line_style(RGBColor(220, 220, 220))
                    .light_line_style(RGBColor(242, 242, 242))
                    .draw()?;
                for (i, s) in self.series.iter().enumerate() {
                    let colour = series_colour(i);
                    for run in finite_runs(panel.points(s)) {
                        chart
                            .draw_series(run.iter().map(|&p| Circle::new(p, 3, colour.filled())))?;
                        chart.draw_series(LineSeries::new(run, colour.stroke_width(2)))?;
                    }
                }
            }
        }
        Ok(())
    }

    fn draw_legend<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let names: Vec<&str> = self.series.iter().map(|s| s.activation.as_str()).collect();
        let height = area.dim_in_pixel().1 as i32;
        draw_activation_key(area, &names, height, (13.0, 13.0))
    }

    fn title(&self) -> String {
        let seeds = self.series.iter().map(|s| s.seeds).max().unwrap_or(1);
        let over = if seeds > 1 { ", mean over seeds" } else { "" };
        format!(
            "Hidden layers in the last epoch on {}, by depth{over}",
            self.datasets
        )
    }
}

impl Figure for LayersFigure {
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
        let panels = plots.split_evenly((1, 3));
        self.draw_panel(&panels[0], Panel::Gradient)?;
        self.draw_panel(&panels[1], Panel::Dead)?;
        self.draw_panel(&panels[2], Panel::Saturated)?;
        self.draw_legend(&legend.margin(30, 0, 6, 0))
    }
}
