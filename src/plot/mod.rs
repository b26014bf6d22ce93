//! Charts for a benchmark run: activation shapes, training curves and layer diagnostics, as
//! PNG and SVG.
//!
//! Text is drawn with an embedded font (a DejaVu Sans subset, see `assets/fonts/`) registered
//! with plotters' `ab_glyph` text renderer, so PNGs need no system fonts. The SVG backend
//! writes text as `<text font-family="sans-serif">` elements: the viewer supplies the font.

mod activations;
mod curves;
mod data;
mod layers;
mod ranking;
mod raster;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::backend::{BitMapBackend, RGBPixel, SVGBackend};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::{FontStyle, text_anchor};

pub use activations::{ActivationCurve, plot_activations};
pub use curves::{plot_curves, plot_run};
pub use layers::{plot_layers, plot_run_layers};
pub use ranking::plot_ranking;

use crate::results::read::ReadError;

/// Every failure is one line that names the file involved.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// The run's `epochs.csv` is missing or holds what no run writes (exit 2).
    #[error(transparent)]
    Read(#[from] ReadError),
    /// The chart could not be written (exit 1).
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The chart's file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// Data given to a plotting function that it cannot draw (exit 2).
    #[error("{}: {message}", path.display())]
    BadData {
        /// The chart's file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The output name ends neither in `.png` nor in `.svg` (exit 2).
    #[error("{}: unsupported output format (use a .png or .svg file name)", path.display())]
    UnsupportedFormat {
        /// The chart's file.
        path: PathBuf,
    },
    /// plotters failed (exit 1).
    #[error("{}: drawing failed: {message}", path.display())]
    Draw {
        /// The chart's file.
        path: PathBuf,
        /// plotters' message.
        message: String,
    },
    /// The embedded font did not load (exit 1).
    #[error("embedded font assets/fonts/DejaVuSans.ttf could not be loaded")]
    Font,
}

/// The output format, picked from the file extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Png,
    Svg,
}

impl Format {
    fn of(path: &Path) -> Result<Self, PlotError> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("png") => Ok(Self::Png),
            Some("svg") => Ok(Self::Svg),
            _ => Err(PlotError::UnsupportedFormat {
                path: path.to_owned(),
            }),
        }
    }
}

type DrawResult = Result<(), Box<dyn std::error::Error>>;

/// A chart that can be drawn on any plotters backend, so one drawing routine serves PNG and SVG.
trait Figure {
    fn size(&self) -> (u32, u32);
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static;
}

const FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

/// Registers the embedded font once per process under the generic family names plotters
/// asks for; with the `ab_glyph` feature an unregistered family makes every text draw fail.
fn ensure_font() -> Result<(), PlotError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        ["sans-serif", "serif", "monospace"]
            .iter()
            .all(|family| plotters::style::register_font(family, FontStyle::Normal, FONT).is_ok())
    });
    if ok { Ok(()) } else { Err(PlotError::Font) }
}

/// Draws `figure` in memory and then writes it to `out` atomically (format from the extension).
fn render(figure: &impl Figure, out: &Path) -> Result<(), PlotError> {
    let format = Format::of(out)?;
    ensure_font()?;
    let draw_err = |e: Box<dyn std::error::Error>| PlotError::Draw {
        path: out.to_owned(),
        message: e.to_string(),
    };
    let (w, h) = figure.size();
    let bytes = match format {
        Format::Png => {
            let mut pixels = vec![0u8; w as usize * h as usize * 3];
            {
                let backend =
                    BitMapBackend::<RGBPixel>::with_buffer_and_format(&mut pixels, (w, h))
                        .map_err(|e| draw_err(Box::new(e)))?;
                let root = raster::Raster::new(backend).into_drawing_area();
                figure.draw(&root).map_err(draw_err)?;
                root.present().map_err(|e| draw_err(Box::new(e)))?;
            }
            encode_png(&pixels, (w, h)).map_err(|e| draw_err(Box::new(e)))?
        }
        Format::Svg => {
            let mut svg = String::new();
            {
                let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
                figure.draw(&root).map_err(draw_err)?;
                root.present().map_err(|e| draw_err(Box::new(e)))?;
            }
            svg.into_bytes()
        }
    };
    write_atomically(out, &bytes)
}

fn encode_png(rgb: &[u8], (w, h): (u32, u32)) -> Result<Vec<u8>, png::EncodingError> {
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, w, h);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(rgb)?;
    writer.finish()?;
    Ok(bytes)
}

/// Temp file in the destination folder, then rename: readers never see a half-written chart
/// and a failed run leaves the previous one in place.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), PlotError> {
    crate::results::files::write_atomic(path, bytes).map_err(|source| PlotError::Write {
        path: path.to_owned(),
        source,
    })
}

/// Top of the activation key's first row, below its heading; rows are `KEY_ROW` pixels apart.
const KEY_TOP: i32 = 42;
const KEY_ROW: i32 = 18;

/// Left-anchored black text of `size` points, as every legend here uses.
fn legend_text(size: f64) -> TextStyle<'static> {
    ("sans-serif", size)
        .into_font()
        .color(&BLACK)
        .pos(text_anchor::Pos::new(
            text_anchor::HPos::Left,
            text_anchor::VPos::Center,
        ))
}

/// The activation key of a figure: heading, then one colour swatch (`series_colour(i)`) and name
/// per series. Long lists flow into extra columns rather than below `bottom` (pixels from the
/// area's top); names are drawn at `sizes.0` points in one column, `sizes.1` in several.
fn draw_activation_key<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    names: &[&str],
    bottom: i32,
    sizes: (f64, f64),
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    area.draw(&Text::new(
        "activation",
        (8, KEY_TOP - KEY_ROW),
        legend_text(14.0),
    ))?;
    let per_column = ((bottom - 8 - KEY_TOP) / KEY_ROW).max(1) as usize;
    let columns = names.len().div_ceil(per_column).max(1);
    let column_width = area.dim_in_pixel().0 as i32 / columns as i32;
    let size = if columns == 1 { sizes.0 } else { sizes.1 };
    for (i, name) in names.iter().enumerate() {
        let x = (i / per_column) as i32 * column_width + 8;
        let y = KEY_TOP + (i % per_column) as i32 * KEY_ROW + KEY_ROW / 2;
        area.draw(&PathElement::new(
            vec![(x, y), (x + 22, y)],
            series_colour(i).stroke_width(3),
        ))?;
        area.draw(&Text::new(*name, (x + 28, y), legend_text(size)))?;
    }
    Ok(())
}

/// A distinct colour per series: Tableau 10, then ten darker/brighter extras, then golden-angle
/// hues so that even long activation lists never repeat a colour.
fn series_colour(i: usize) -> RGBColor {
    const PALETTE: [(u8, u8, u8); 20] = [
        (31, 119, 180),
        (255, 127, 14),
        (44, 160, 44),
        (214, 39, 40),
        (148, 103, 189),
        (140, 86, 75),
        (227, 119, 194),
        (127, 127, 127),
        (188, 189, 34),
        (23, 190, 207),
        (0, 0, 128),
        (128, 0, 0),
        (0, 100, 0),
        (255, 0, 255),
        (0, 128, 128),
        (128, 128, 0),
        (70, 240, 240),
        (0, 0, 0),
        (255, 215, 0),
        (160, 82, 45),
    ];
    match PALETTE.get(i) {
        Some(&(r, g, b)) => RGBColor(r, g, b),
        None => {
            let hue = (i as f64 * 0.618_033_988_75).fract();
            let (r, g, b) = HSLColor(hue, 0.65, 0.45).rgb();
            RGBColor(r, g, b)
        }
    }
}

/// Axis ends stay within ±this, so spans, padding and plotters' tick arithmetic stay finite
/// (an infinite axis range makes plotters' tick loop spin forever). Values beyond it (only in
/// hand-made data: the reader refuses them) are drawn off the chart.
const AXIS_LIMIT: f64 = 1e300;

/// Min and max of the finite values, widened so lines do not sit on the frame. Always finite.
fn padded_range(values: impl IntoIterator<Item = f64>, pad: f64) -> (f64, f64) {
    let (lo, hi) = values
        .into_iter()
        .filter(|v| v.is_finite())
        .map(|v| v.clamp(-AXIS_LIMIT, AXIS_LIMIT))
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let span = hi - lo;
    if span <= f64::EPSILON * lo.abs().max(1.0) {
        let half = lo.abs().max(1.0) * 0.5;
        return (lo - half, hi + half);
    }
    (lo - span * pad, hi + span * pad)
}

/// A linear axis's tick label: the value to six decimals, shortest form, and never "-0" (an
/// axis padded below zero put a tick at -0.0 or -1e-17, which plotters labelled "-0.0").
fn tick_label(v: f64) -> String {
    let v = (v * 1e6).round() / 1e6;
    // `+ 0.0` turns -0.0 into 0.0.
    format!("{}", v + 0.0)
}

/// Splits a polyline into runs of finite points, so NaN/inf (e.g. a diverged loss) leave a gap
/// instead of an error or a wild spike.
fn finite_runs(points: &[(f64, f64)]) -> Vec<Vec<(f64, f64)>> {
    let mut runs = Vec::new();
    let mut run = Vec::new();
    for &(x, y) in points {
        if x.is_finite() && y.is_finite() {
            run.push((x, y));
        } else if !run.is_empty() {
            runs.push(std::mem::take(&mut run));
        }
    }
    if !run.is_empty() {
        runs.push(run);
    }
    runs
}
