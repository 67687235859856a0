//! PNG charts of a metrics log ([`read_metrics`]): stacked panels over the training step for
//! the loss, the accuracy-like scores and the learning rate, one line per split and metric
//! (method §7; the reference has no plots, it reports to the console and TensorBoard); and
//! of several runs' held-out curves side by side ([`plot_runs`]).

use std::ops::Range;
use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::error::PlotError;
use crate::log::read_metrics;
use crate::log::Record;
use crate::panels::{panels, run_panels, Panel, PanelKind};
use crate::render::{check_size, render, PlotOptions, FAMILY, PALETTE, REFERENCE};

/// Series with at most this many points also get a marker per point (so one point shows).
const MARKER_MAX_POINTS: usize = 60;

/// Draws the metrics log `jsonl` as a PNG at `png`, replacing it atomically. Panels, top to
/// bottom, sharing the x axis `step`:
/// 1. **loss**: `"loss"` of each split (`train`, `valid`, `dev` …);
/// 2. **score**: every key starting with `acc` and `mcc`, `f1`, `pearson`, `spearman`, per
///    split, with each split's `majority_rate` as a dashed grey reference (and `prior_loss`,
///    the loss of predicting the class frequencies, the same way in the loss panel);
/// 3. **learning rate**: `"lr"` (logged by the train split).
///
/// A panel without values is left out; `null`, NaN and infinite values are skipped; series of
/// up to 60 points get a marker per point, so a single evaluation still shows.
///
/// # Errors
/// [`PlotError::Size`] for a bad [`PlotOptions`] size, [`PlotError::Log`] if `jsonl` cannot
/// be read, [`PlotError::NoData`] if nothing is plottable, [`PlotError::Render`] or
/// [`PlotError::Font`] if drawing fails, [`PlotError::Io`] if `png` cannot be written.
pub fn plot_metrics(jsonl: &Path, png: &Path, options: &PlotOptions) -> Result<(), PlotError> {
    check_size(png, options)?;
    let panels = panels(&read_metrics(jsonl)?);
    if panels.is_empty() {
        return Err(PlotError::NoData {
            path: jsonl.to_owned(),
        });
    }
    draw_png(png, options, &panels)
}

/// Draws the held-out curves of several runs (each a label and its metrics log's records, as
/// [`read_metrics`] gives them) as a PNG at `png`, replacing it atomically: stacked panels
/// over the step for the held-out (`"valid"`) loss, the accuracy above the run's
/// `majority_rate`, and each `acc_*` recall, one line per run in the same colour in every
/// panel. Used to compare pre-training runs that differ in one thing (e.g. the input layer).
///
/// # Errors
/// [`PlotError::Size`] for a bad [`PlotOptions`] size, [`PlotError::NoData`] (naming `png`)
/// if no run has a held-out value, [`PlotError::Render`] or [`PlotError::Font`] if drawing
/// fails, [`PlotError::Io`] if `png` cannot be written.
pub fn plot_runs(
    runs: &[(String, Vec<Record>)],
    png: &Path,
    options: &PlotOptions,
) -> Result<(), PlotError> {
    check_size(png, options)?;
    let panels = run_panels(runs);
    if panels.is_empty() {
        return Err(PlotError::NoData {
            path: png.to_owned(),
        });
    }
    draw_png(png, options, &panels)
}

/// Draws non-empty `panels` stacked, with the title of `options`, into `png`.
fn draw_png(png: &Path, options: &PlotOptions, panels: &[Panel]) -> Result<(), PlotError> {
    let scale = (f64::from(options.width) / 1200.0)
        .min(f64::from(options.height) / 900.0)
        .clamp(0.5, 4.0);
    render(png, options, |area| {
        draw(area, &options.title, panels, scale).map_err(|e| e.to_string())
    })
}

/// The drawing's result, with the backend's error type.
type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// Sizes in pixels at 1200×900; [`px`] scales them to the image.
const TITLE_FONT: f64 = 26.0;
const LABEL_FONT: f64 = 14.0;
const AXIS_FONT: f64 = 16.0;
const LINE_WIDTH: f64 = 2.0;
/// Legend: row height, line sample length and padding.
const LEGEND_ROW: f64 = 20.0;
const LEGEND_SAMPLE: f64 = 24.0;
const LEGEND_PAD: f64 = 8.0;

/// Draws the title and the stacked panels on `root`, each with its legend in a column on the
/// right (so it never hides a line); `scale` multiplies sizes in pixels.
fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    panels: &[Panel],
    scale: f64,
) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    let area = if title.is_empty() {
        root.clone()
    } else {
        // Our own band rather than `titled`, whose padding is too tight for ab_glyph's
        // baseline at large sizes (the tops of the letters were cut off).
        let band = px(1.8 * TITLE_FONT, scale);
        let (top, rest) = root.split_vertically(band);
        let style = TextStyle::from((FAMILY, px(TITLE_FONT, scale)));
        let centre = (top.dim_in_pixel().0 as i32 / 2, band as i32 / 2);
        top.draw_text(
            title,
            &style.pos(Pos::new(HPos::Center, VPos::Center)),
            centre,
        )?;
        rest
    };
    let font = TextStyle::from((FAMILY, px(LABEL_FONT, scale)));
    let mut label_width = 0;
    for series in panels.iter().flat_map(|p| &p.series) {
        label_width = label_width.max(root.estimate_text_size(&series.label, &font)?.0);
    }
    let (width, _) = area.dim_in_pixel();
    let legend_width = (label_width + px(4.0 * LEGEND_PAD + LEGEND_SAMPLE, scale)).min(width / 3);
    let (charts, legends) = area.split_horizontally(width - legend_width);
    let steps = step_range(panels);
    let chart_cells = charts.split_evenly((panels.len(), 1));
    let legend_cells = legends.split_evenly((panels.len(), 1));
    for (i, panel) in panels.iter().enumerate() {
        let colors = colors(panel);
        let bottom = i + 1 == panels.len();
        draw_panel(
            &chart_cells[i],
            panel,
            &colors,
            steps.clone(),
            bottom,
            scale,
        )?;
        draw_legend(&legend_cells[i], panel, &colors, &font, scale)?;
    }
    root.present()
}

/// One colour per series: the palette in turn, grey for references.
fn colors(panel: &Panel) -> Vec<RGBColor> {
    let mut palette = PALETTE.iter().cycle();
    let mut next = || palette.next().copied().unwrap_or(REFERENCE); // the cycle never ends
    panel
        .series
        .iter()
        .map(|s| if s.reference { REFERENCE } else { next() })
        .collect()
}

fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    panel: &Panel,
    colors: &[RGBColor],
    steps: Range<f64>,
    bottom: bool,
    scale: f64,
) -> DrawResult<DB> {
    let values = value_range(panel);
    let value_label = value_formatter(panel.kind, &values);
    let mut chart = ChartBuilder::on(area)
        .margin(px(8.0, scale))
        .margin_right(px(16.0, scale))
        .x_label_area_size(px(if bottom { 48.0 } else { 28.0 }, scale))
        .y_label_area_size(px(84.0, scale))
        .build_cartesian_2d(steps, values)?;
    let step_label = |v: &f64| {
        // Only whole steps get a label (a short run can put ticks at half steps).
        if (v - v.round()).abs() < 1e-6 {
            format!("{:.0}", v.round())
        } else {
            String::new()
        }
    };
    let mut mesh = chart.configure_mesh();
    mesh.x_label_formatter(&step_label)
        .y_label_formatter(&value_label)
        .y_desc(panel.y_desc.as_str())
        .label_style((FAMILY, px(LABEL_FONT, scale)))
        .axis_desc_style((FAMILY, px(AXIS_FONT, scale)))
        .light_line_style(RGBColor(238, 238, 238));
    if bottom {
        mesh.x_desc("step");
    }
    mesh.draw()?;
    for (series, &color) in panel.series.iter().zip(colors) {
        let style = color.stroke_width(px(LINE_WIDTH, scale));
        let points = series.points.iter().copied();
        if series.reference {
            let (dash, gap) = (px(8.0, scale), px(5.0, scale));
            chart.draw_series(DashedLineSeries::new(points, dash, gap, style))?;
        } else {
            chart.draw_series(LineSeries::new(points, style))?;
        }
        if series.points.len() <= MARKER_MAX_POINTS {
            let radius = px(3.0, scale);
            let dot = |&point| Circle::new(point, radius, color.filled());
            chart.draw_series(series.points.iter().map(dot))?;
        }
    }
    Ok(())
}

/// Tick labels of the value axis: scientific for the learning rate and for values too large
/// or too small for a few decimals, else as many decimals as the range needs.
fn value_formatter(kind: PanelKind, values: &Range<f64>) -> impl Fn(&f64) -> String {
    let magnitude = values.start.abs().max(values.end.abs());
    let scientific = kind == PanelKind::LearningRate || !(1e-3..1e5).contains(&magnitude);
    let decimals = decimals(values.end - values.start);
    move |v: &f64| match (*v == 0.0, scientific) {
        (true, _) => "0".to_owned(),
        (false, true) => format!("{v:.1e}"),
        (false, false) => format!("{v:.decimals$}"),
    }
}

/// The legend of a panel: a line sample and the label of each series, top down.
fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    panel: &Panel,
    colors: &[RGBColor],
    font: &TextStyle,
    scale: f64,
) -> DrawResult<DB> {
    let row = px(LEGEND_ROW, scale) as i32;
    let pad = px(LEGEND_PAD, scale) as i32;
    let sample = px(LEGEND_SAMPLE, scale) as i32;
    let font = font.pos(Pos::new(HPos::Left, VPos::Center));
    for (i, (series, &color)) in panel.series.iter().zip(colors).enumerate() {
        let y = pad + row / 2 + row * i as i32;
        let style = color.stroke_width(px(LINE_WIDTH, scale));
        let gap = if series.reference { sample / 3 } else { 0 };
        let left = (pad, y)..(pad + (sample - gap) / 2, y);
        let right = (pad + (sample + gap) / 2, y)..(pad + sample, y);
        for segment in [left, right] {
            area.draw(&PathElement::new([segment.start, segment.end], style))?;
        }
        area.draw(&Text::new(
            series.label.as_str(),
            (2 * pad + sample, y),
            &font,
        ))?;
    }
    Ok(())
}

/// `base` pixels at 1200×900, scaled to the image.
fn px(base: f64, scale: f64) -> u32 {
    // In 1..=400 (base ≤ 100, scale ≤ 4), so the cast is exact.
    (base * scale).round().max(1.0) as u32
}

/// The shared x range: every step with a value, a little padding, never below 0 if no step is.
fn step_range(panels: &[Panel]) -> Range<f64> {
    let steps = panels
        .iter()
        .flat_map(|p| &p.series)
        .flat_map(|s| s.points.iter().map(|&(x, _)| x));
    padded(steps, 0.02)
}

/// The y range of a panel: its values with 5% padding.
fn value_range(panel: &Panel) -> Range<f64> {
    let values = panel
        .series
        .iter()
        .flat_map(|s| s.points.iter().map(|&(_, y)| y));
    padded(values, 0.05)
}

/// `min..max` of finite `values`, padded by `fraction` of the span on each side (by 5% of the
/// value, or 1 around 0, when all values are equal); does not go below 0 if no value does.
fn padded(values: impl Iterator<Item = f64>, fraction: f64) -> Range<f64> {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if lo > hi {
        return 0.0..1.0; // no values (callers only pass non-empty panels)
    }
    // Halves first, so extreme values do not overflow the span.
    let half_span = hi / 2.0 - lo / 2.0;
    let pad = if half_span > 0.0 {
        half_span * (2.0 * fraction)
    } else if lo != 0.0 {
        lo.abs() * 0.05
    } else {
        1.0
    };
    let start = if lo >= 0.0 {
        (lo - pad).max(0.0)
    } else {
        lo - pad
    };
    (start.max(-f64::MAX / 4.0))..((hi + pad).min(f64::MAX / 4.0))
}

/// Decimals that tell ticks apart over a span (0.2 → 2, 2 → 1, 200 → 0).
fn decimals(span: f64) -> usize {
    if !(span.is_finite() && span > 0.0) {
        return 3;
    }
    // In 0..=8 after the clamp, so the cast is exact.
    (1.0 - span.log10().floor()).clamp(0.0, 8.0) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_padded_and_finite() {
        let table: &[(&[f64], f64, Range<f64>)] = &[
            (&[0.0, 100.0], 0.02, 0.0..102.0),
            (&[10.0, 110.0], 0.02, 8.0..112.0),
            (&[5.0], 0.02, 4.75..5.25),
            (&[0.0], 0.05, 0.0..1.0),
            (&[0.5], 0.05, 0.475..0.525),
            (&[-1.0, 1.0], 0.05, -1.1..1.1),
        ];
        for (values, fraction, want) in table {
            let got = padded(values.iter().copied(), *fraction);
            let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
            assert!(
                close(got.start, want.start) && close(got.end, want.end),
                "{values:?}: {got:?}"
            );
        }
        let huge = padded([-f64::MAX, f64::MAX].into_iter(), 0.05);
        assert!(huge.start.is_finite() && huge.end.is_finite() && huge.start < huge.end);
    }

    #[test]
    fn decimals_follow_the_span() {
        for (span, want) in [
            (0.2, 2),
            (2.0, 1),
            (200.0, 0),
            (1e-4, 5),
            (0.0, 3),
            (1e-30, 8),
        ] {
            assert_eq!(decimals(span), want, "{span}");
        }
    }
}
