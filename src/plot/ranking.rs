//! `ranking.png` / `ranking.svg`: each activation's mean with its 95% interval, best at the
//! top, one panel per metric; filled dots are tied with the best, hollow ones are worse.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{DrawResult, Figure, PlotError, padded_range, render};
use crate::ranking::MetricRanking;

/// Draws the rankings of one configuration (one panel per metric) to `out` (.png or .svg).
pub fn plot_ranking(rankings: &[MetricRanking], out: &Path) -> Result<(), PlotError> {
    render(&RankingFigure { rankings }, out)
}

struct RankingFigure<'a> {
    rankings: &'a [MetricRanking],
}

const TIED: RGBColor = RGBColor(31, 119, 180);
const WORSE: RGBColor = RGBColor(150, 150, 150);

impl RankingFigure<'_> {
    fn rows(&self) -> usize {
        self.rankings
            .iter()
            .map(|r| r.entries.len())
            .max()
            .unwrap_or(0)
    }

    fn draw_panel<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        r: &MetricRanking,
    ) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let k = r.entries.len() as i32;
        let bounds = r.entries.iter().flat_map(|e| {
            let (lo, hi) = e.summary.ci.unwrap_or((e.summary.mean, e.summary.mean));
            [lo, hi]
        });
        let (x0, x1) = padded_range(bounds, 0.08);
        // Room on the right for the value labels.
        let x1 = x1 + (x1 - x0) * 0.1;
        let seeds = r.entries.iter().map(|e| e.summary.n).max().unwrap_or(0);
        let caption = format!(
            "{} on {} (mean, 95% interval, {seeds} seeds)",
            capitalised(r.metric.label()),
            crate::data::dataset::title_of(&r.configuration.dataset)
        );
        let names: Vec<String> = r.entries.iter().map(|e| e.activation.clone()).collect();
        // Row i (rank i + 1) sits at y = k - 1 - i, so the best is at the top.
        let label = move |y: &i32| {
            let i = k - 1 - *y;
            usize::try_from(i)
                .ok()
                .and_then(|i| names.get(i).cloned())
                .unwrap_or_default()
        };
        let mut chart = ChartBuilder::on(area)
            .caption(caption, ("sans-serif", 17))
            .margin(10)
            .margin_right(22)
            .x_label_area_size(42)
            .y_label_area_size(92)
            .build_cartesian_2d(x0..x1, -1..k)?;
        chart
            .configure_mesh()
            .x_desc(r.metric.column())
            .y_labels((k + 2) as usize)
            .y_label_formatter(&label)
            .x_labels(6)
            .x_label_formatter(&|x| format!("{x:.4}"))
            .label_style(("sans-serif", 13))
            .axis_desc_style(("sans-serif", 15))
            .bold_line_style(RGBColor(225, 225, 225))
            .light_line_style(RGBColor(245, 245, 245))
            .draw()?;
        // The best one's interval as a shaded column: the others' means are compared with it.
        if let Some((lo, hi)) = r.entries.first().and_then(|e| e.summary.ci) {
            chart.draw_series(std::iter::once(Rectangle::new(
                [(lo, -1), (hi, k)],
                TIED.mix(0.08).filled(),
            )))?;
        }
        for (i, e) in r.entries.iter().enumerate() {
            let y = k - 1 - i as i32;
            let colour = if e.tied_with_best { TIED } else { WORSE };
            let (lo, hi) = e.summary.ci.unwrap_or((e.summary.mean, e.summary.mean));
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(lo, y), (hi, y)],
                colour.stroke_width(2),
            )))?;
            let dot = (e.summary.mean, y);
            if e.tied_with_best {
                chart.draw_series(std::iter::once(Circle::new(dot, 5, colour.filled())))?;
            } else {
                chart.draw_series([
                    Circle::new(dot, 5, WHITE.filled()),
                    Circle::new(dot, 5, colour.stroke_width(2)),
                ])?;
            }
            let note = match e.p_holm_vs_best {
                None => format!("{:.4} best", e.summary.mean),
                Some(_) if e.tied_with_best => format!("{:.4} tied", e.summary.mean),
                Some(_) => format!("{:.4}", e.summary.mean),
            };
            chart.draw_series(std::iter::once(Text::new(
                note,
                (hi, y),
                ("sans-serif", 12).into_font().color(&BLACK),
            )))?;
        }
        Ok(())
    }
}

fn capitalised(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

impl Figure for RankingFigure<'_> {
    fn size(&self) -> (u32, u32) {
        let panels = self.rankings.len().max(1) as u32;
        (560 * panels, 150 + 34 * self.rows() as u32)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE)?;
        let (body, footer) = root.split_vertically(root.dim_in_pixel().1 - 28);
        let panels = body.split_evenly((1, self.rankings.len().max(1)));
        for (panel, r) in panels.iter().zip(self.rankings) {
            self.draw_panel(panel, r)?;
        }
        footer.draw_text(
            "filled: tied with the best (Holm-corrected paired t-test p >= 0.05); hollow: worse; \
             shaded: the best's interval",
            &("sans-serif", 13).into_font().color(&BLACK),
            (14, 6),
        )?;
        Ok(())
    }
}
