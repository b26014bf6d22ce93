//! The PNG backend: plotters' `BitMapBackend` with two fixes for readable output.
//!
//! * Text: plotters 0.3.7's `ab_glyph` renderer drops each glyph's left side bearing (uneven
//!   letter spacing, "acti vation") and puts the baseline half a font size below the anchor (text
//!   sits high). We rasterise glyphs here at their true pen positions, centring capitals in the
//!   same layout box plotters uses to reserve space, so spacing and alignment agree.
//! * Thick polylines: plotters outlines every segment separately, so a densely sampled curve
//!   gets notched joints. Dropping points within 0.6 px of a straight line first keeps curves
//!   smooth without changing their shape.

use std::sync::OnceLock;

use ab_glyph::{Font, FontRef, ScaleFont, point};
use plotters::backend::{BitMapBackend, RGBPixel};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingBackend, DrawingErrorKind,
    text_anchor::{HPos, VPos},
};

use super::FONT;

type BitMap<'a> = BitMapBackend<'a, RGBPixel>;
type Error = <BitMap<'static> as DrawingBackend>::ErrorType;

pub(super) struct Raster<'a> {
    inner: BitMap<'a>,
}

impl<'a> Raster<'a> {
    pub fn new(inner: BitMap<'a>) -> Self {
        Self { inner }
    }
}

fn font() -> Option<&'static FontRef<'static>> {
    static PARSED: OnceLock<Option<FontRef<'static>>> = OnceLock::new();
    PARSED
        .get_or_init(|| FontRef::try_from_slice(FONT).ok())
        .as_ref()
}

#[derive(Debug, thiserror::Error)]
#[error("embedded font could not be parsed")]
struct BadFont;

impl DrawingBackend for Raster<'_> {
    type ErrorType = Error;

    fn get_size(&self) -> (u32, u32) {
        self.inner.get_size()
    }

    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<Error>> {
        self.inner.ensure_prepared()
    }

    fn present(&mut self) -> Result<(), DrawingErrorKind<Error>> {
        self.inner.present()
    }

    fn draw_pixel(
        &mut self,
        p: BackendCoord,
        c: BackendColor,
    ) -> Result<(), DrawingErrorKind<Error>> {
        self.inner.draw_pixel(p, c)
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Error>> {
        self.inner.draw_line(from, to, style)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Error>> {
        self.inner.draw_rect(upper_left, bottom_right, style, fill)
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Error>> {
        let path: Vec<_> = path.into_iter().collect();
        if style.stroke_width() > 1 {
            self.inner.draw_path(simplify(&path, 0.6), style)
        } else {
            self.inner.draw_path(path, style)
        }
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Error>> {
        self.inner.draw_circle(center, radius, style, fill)
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Error>> {
        self.inner.fill_polygon(vert, style)
    }

    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        size: (u32, u32),
        src: &[u8],
    ) -> Result<(), DrawingErrorKind<Error>> {
        self.inner.blit_bitmap(pos, size, src)
    }

    fn draw_text<S: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<Error>> {
        let colour = style.color();
        if colour.alpha == 0.0 {
            return Ok(());
        }
        let font = font().ok_or_else(|| DrawingErrorKind::FontError(Box::new(BadFont)))?;
        // The same box plotters measured when it laid out the chart around this text.
        let ((x0, y0), (x1, y1)) = style
            .layout_box(text)
            .map_err(|e| DrawingErrorKind::FontError(Box::new(e)))?;
        let (width, height) = ((x1 - x0) as f32, (y1 - y0) as f32);
        let left = match style.anchor().h_pos {
            HPos::Left => 0.0,
            HPos::Center => -width / 2.0,
            HPos::Right => -width,
        };
        let top = match style.anchor().v_pos {
            VPos::Top => 0.0,
            VPos::Center => -height / 2.0,
            VPos::Bottom => -height,
        };
        let scaled = font.as_scaled(style.size() as f32);
        let cap_height = font
            .outline_glyph(scaled.scaled_glyph('H'))
            .map_or(height * 0.75, |g| g.px_bounds().height());
        let baseline = top + (height + cap_height) / 2.0;

        let transform = style.transform();
        let mut result = Ok(());
        let mut pen = left;
        let mut previous = None;
        for c in text.chars() {
            let id = scaled.glyph_id(c);
            if let Some(prev) = previous {
                pen += scaled.kern(prev, id);
            }
            let glyph = id.with_scale_and_position(scaled.scale(), point(pen, baseline));
            if let Some(outline) = font.outline_glyph(glyph) {
                let bounds = outline.px_bounds();
                outline.draw(|x, y, coverage| {
                    let local = (
                        bounds.min.x as i32 + x as i32,
                        bounds.min.y as i32 + y as i32,
                    );
                    let (dx, dy) = transform.transform(local.0, local.1);
                    let shade = BackendColor {
                        alpha: colour.alpha * f64::from(coverage),
                        rgb: colour.rgb,
                    };
                    if result.is_ok() && coverage > 0.0 {
                        result = self.inner.draw_pixel((pos.0 + dx, pos.1 + dy), shade);
                    }
                });
            }
            pen += scaled.h_advance(id);
            previous = Some(id);
        }
        result
    }
}

/// Ramer-Douglas-Peucker: the fewest points that stay within `tolerance` px of the path.
pub(super) fn simplify(path: &[BackendCoord], tolerance: f64) -> Vec<BackendCoord> {
    if path.len() < 3 {
        return path.to_vec();
    }
    let mut keep = vec![false; path.len()];
    keep[0] = true;
    keep[path.len() - 1] = true;
    let mut stack = vec![(0, path.len() - 1)];
    while let Some((a, b)) = stack.pop() {
        let (pa, pb) = (path[a], path[b]);
        let (dx, dy) = (f64::from(pb.0 - pa.0), f64::from(pb.1 - pa.1));
        let length = dx.hypot(dy);
        let distance = |p: BackendCoord| {
            let (px, py) = (f64::from(p.0 - pa.0), f64::from(p.1 - pa.1));
            if length == 0.0 {
                px.hypot(py)
            } else {
                (px * dy - py * dx).abs() / length
            }
        };
        let farthest = (a + 1..b)
            .map(|i| (i, distance(path[i])))
            .max_by(|x, y| x.1.total_cmp(&y.1));
        if let Some((i, _)) = farthest.filter(|&(_, d)| d > tolerance) {
            keep[i] = true;
            stack.push((a, i));
            stack.push((i, b));
        }
    }
    path.iter()
        .zip(keep)
        .filter(|(_, k)| *k)
        .map(|(p, _)| *p)
        .collect()
}
