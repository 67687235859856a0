//! PNG charts of a metrics log ([`crate::log`]): stacked panels over the training step for the
//! loss, the accuracy-like scores and the learning rate, one line per split and metric (spec §7;
//! the reference has no plots, it reports to the console and TensorBoard).
//!
//! Text uses a bundled font (DejaVu Sans, `assets/`, licence beside it), never the system's,
//! so a chart renders the same on every machine. The image is drawn in memory, encoded with
//! `png` and written atomically.

use std::collections::BTreeMap;
use std::io;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::backend::RGBPixel;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::register_font;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde_json::Value;

use crate::log::{read_metrics, LogError, Record};

/// DejaVu Sans 2.37, unmodified; licence in `assets/LICENSE-DejaVu.txt`.
const FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");
/// The family the bundled font is registered as, and the only one we draw with.
const FAMILY: &str = "sans-serif";
/// Series with at most this many points also get a marker per point (so one point shows).
const MARKER_MAX_POINTS: usize = 60;
/// Scores besides the `acc*` keys that share the score panel.
const SCORES: [&str; 4] = ["mcc", "f1", "pearson", "spearman"];
/// Splits in legend order; others follow alphabetically.
const SPLITS: [&str; 4] = ["train", "valid", "dev", "test"];
/// Score keys in legend order; other `acc*` keys follow alphabetically.
const SCORE_ORDER: [&str; 8] = [
    "accuracy",
    "acc_original",
    "acc_shuffled",
    "acc_random",
    "mcc",
    "f1",
    "pearson",
    "spearman",
];
/// Line colours (Tableau 10, grey swapped for black); a panel's series take them in turn.
const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
    RGBColor(31, 31, 31), // Tableau's grey is taken by references
];
/// Colour of reference lines (`majority_rate`).
const REFERENCE: RGBColor = RGBColor(110, 110, 110);

/// Smallest accepted width or height, in pixels.
pub const MIN_SIDE: u32 = 320;
/// Largest accepted width or height, in pixels (the image is held in memory, 3 bytes a pixel).
pub const MAX_SIDE: u32 = 8192;

/// How [`plot_metrics`] draws: the title and the image size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlotOptions {
    /// Title above the panels, e.g. the run name; empty for none.
    pub title: String,
    /// Image width in pixels, in [`MIN_SIDE`]`..=`[`MAX_SIDE`].
    pub width: u32,
    /// Image height in pixels, in [`MIN_SIDE`]`..=`[`MAX_SIDE`].
    pub height: u32,
}

impl Default for PlotOptions {
    /// No title, 1200×900 pixels.
    fn default() -> Self {
        Self {
            title: String::new(),
            width: 1200,
            height: 900,
        }
    }
}

impl PlotOptions {
    /// Default options with `title`.
    pub fn new(title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            ..Self::default()
        }
    }

    /// Sets the image size in pixels.
    pub fn size(mut self, width: u32, height: u32) -> Self {
        self.width = width;
        self.height = height;
        self
    }
}

/// What can go wrong drawing a chart. Every variant names the file concerned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlotError {
    /// The metrics log could not be read (missing file, malformed line).
    #[error(transparent)]
    Log(#[from] LogError),
    /// The log holds no finite loss, score or learning-rate value.
    #[error("{}: no loss, score or learning-rate values to plot", path.display())]
    NoData {
        /// The metrics log.
        path: PathBuf,
    },
    /// [`PlotOptions`] asks for a width or height outside [`MIN_SIDE`]`..=`[`MAX_SIDE`].
    #[error("{}: image size {width}x{height} is outside {MIN_SIDE}..={MAX_SIDE} pixels a side", path.display())]
    Size {
        /// The PNG to be written.
        path: PathBuf,
        /// Requested width.
        width: u32,
        /// Requested height.
        height: u32,
    },
    /// The bundled font could not be loaded (a broken build).
    #[error("{}: the bundled font could not be loaded", path.display())]
    Font {
        /// The PNG to be written.
        path: PathBuf,
    },
    /// Drawing or PNG encoding failed.
    #[error("{}: {message}", path.display())]
    Render {
        /// The PNG to be written.
        path: PathBuf,
        /// What failed.
        message: String,
    },
    /// The PNG could not be written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The PNG (or its temporary file).
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
}

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
    let scale = (f64::from(options.width) / 1200.0)
        .min(f64::from(options.height) / 900.0)
        .clamp(0.5, 4.0);
    render(png, options, |area| {
        draw(area, &options.title, &panels, scale).map_err(|e| e.to_string())
    })
}

/// [`PlotError::Size`] unless both sides are in [`MIN_SIDE`]`..=`[`MAX_SIDE`].
fn check_size(png: &Path, options: &PlotOptions) -> Result<(), PlotError> {
    let (width, height) = (options.width, options.height);
    if !(MIN_SIDE..=MAX_SIDE).contains(&width) || !(MIN_SIDE..=MAX_SIDE).contains(&height) {
        return Err(PlotError::Size {
            path: png.to_owned(),
            width,
            height,
        });
    }
    Ok(())
}

/// Draws with `paint` on an in-memory image of the options' size (bundled font registered),
/// encodes it as PNG and writes it to `png` atomically.
fn render(
    png: &Path,
    options: &PlotOptions,
    paint: impl FnOnce(&DrawingArea<BitMapBackend<'_, RGBPixel>, Shift>) -> Result<(), String>,
) -> Result<(), PlotError> {
    let (width, height) = (options.width, options.height);
    if !register_bundled_font() {
        return Err(PlotError::Font {
            path: png.to_owned(),
        });
    }
    let render_error = |message: String| PlotError::Render {
        path: png.to_owned(),
        message,
    };
    let mut rgb = vec![0u8; width as usize * height as usize * 3];
    {
        let backend = BitMapBackend::<RGBPixel>::with_buffer_and_format(&mut rgb, (width, height))
            .map_err(|e| render_error(e.to_string()))?;
        paint(&backend.into_drawing_area())
            .map_err(|e| render_error(format!("drawing failed: {e}")))?;
    }
    let bytes = encode_png(&rgb, width, height)
        .map_err(|e| render_error(format!("PNG encoding failed: {e}")))?;
    write_atomic(png, &bytes)
}

/// Registers [`FONT`] with plotters once per process; false if it is unusable.
fn register_bundled_font() -> bool {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    *REGISTERED.get_or_init(|| register_font(FAMILY, FontStyle::Normal, FONT).is_ok())
}

/// The panels of the chart, top to bottom.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum PanelKind {
    Loss,
    Score,
    LearningRate,
}

impl PanelKind {
    fn y_desc(self) -> &'static str {
        match self {
            Self::Loss => "loss",
            Self::Score => "score",
            Self::LearningRate => "learning rate",
        }
    }
}

/// One line of a panel.
#[derive(Debug, Clone, PartialEq)]
struct Series {
    label: String,
    /// `(step, value)`, finite, in log order.
    points: Vec<(f64, f64)>,
    /// Drawn dashed and grey (a baseline such as `majority_rate`).
    reference: bool,
}

#[derive(Debug, Clone, PartialEq)]
struct Panel {
    kind: PanelKind,
    series: Vec<Series>,
}

/// Where a key is drawn: its panel, its rank in the legend and whether it is a reference.
fn classify(key: &str) -> Option<(PanelKind, usize, bool)> {
    match key {
        "loss" => Some((PanelKind::Loss, 0, false)),
        "lr" => Some((PanelKind::LearningRate, 0, false)),
        "majority_rate" => Some((PanelKind::Score, usize::MAX, true)),
        "prior_loss" => Some((PanelKind::Loss, usize::MAX, true)),
        _ if key.starts_with("acc") || SCORES.contains(&key) => {
            let rank = SCORE_ORDER.iter().position(|k| *k == key);
            Some((PanelKind::Score, rank.unwrap_or(SCORE_ORDER.len()), false))
        }
        _ => None,
    }
}

/// Groups the plottable values of `records` into panels; panels without values are left out.
fn panels(records: &[Record]) -> Vec<Panel> {
    // (panel, split rank, split, key rank, key) → points; the BTreeMap fixes the legend order.
    type Key<'a> = (PanelKind, usize, &'a str, usize, &'a str);
    let mut lines: BTreeMap<Key, Vec<(f64, f64)>> = BTreeMap::new();
    for record in records {
        let Some(step) = record.get("step").and_then(Value::as_f64) else {
            continue;
        };
        let split = record.get("split").and_then(Value::as_str).unwrap_or("");
        let split_rank = SPLITS.iter().position(|s| *s == split);
        let split_rank = split_rank.unwrap_or(SPLITS.len());
        for (key, value) in record {
            let (Some((kind, rank, _)), Some(y)) = (classify(key), value.as_f64()) else {
                continue;
            };
            if y.is_finite() {
                let key = (kind, split_rank, split, rank, key.as_str());
                lines.entry(key).or_default().push((step, y));
            }
        }
    }
    let mut panels: Vec<Panel> = Vec::new();
    for ((kind, _, split, _, key), points) in lines {
        let reference = classify(key).is_some_and(|(_, _, reference)| reference);
        let label = match (split, kind) {
            ("", _) => key.to_owned(),
            (_, PanelKind::Score) => format!("{split} {key}"),
            _ if reference => format!("{split} {key}"),
            _ => split.to_owned(),
        };
        let series = Series {
            label,
            points,
            reference,
        };
        match panels.last_mut() {
            Some(panel) if panel.kind == kind => panel.series.push(series),
            _ => panels.push(Panel {
                kind,
                series: vec![series],
            }),
        }
    }
    panels
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
        .y_desc(panel.kind.y_desc())
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

fn encode_png(rgb: &[u8], width: u32, height: u32) -> Result<Vec<u8>, png::EncodingError> {
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(rgb)?;
    writer.finish()?;
    Ok(bytes)
}

/// The workspace's one atomic-write helper, with its error mapped to ours.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), PlotError> {
    hashformer_model::write_atomic(path, bytes).map_err(|e| match e {
        hashformer_model::Error::Io { path, source } => PlotError::Io { path, source },
        other => PlotError::Io {
            path: path.to_owned(),
            source: io::Error::other(other.to_string()),
        },
    })
}

/// One bar series of [`bar_chart`]: a legend label and a value per category (`None`: no bar).
#[derive(Debug, Clone, PartialEq)]
pub struct BarSeries {
    /// Legend label, e.g. `hashformers cpu`.
    pub label: String,
    /// One value per category, in category order.
    pub values: Vec<Option<f64>>,
}

/// Draws grouped vertical bars as a PNG at `png` (atomically): one group per category, one
/// bar per series in the palette's order, each bar labelled with its value, the y axis from 0.
///
/// # Errors
/// [`PlotError::NoData`] if no value is finite and positive, [`PlotError::Size`],
/// [`PlotError::Font`], [`PlotError::Render`], [`PlotError::Io`] as for [`plot_metrics`].
pub fn bar_chart(
    png: &Path,
    title: &str,
    y_label: &str,
    categories: &[String],
    series: &[BarSeries],
    options: &PlotOptions,
) -> Result<(), PlotError> {
    check_size(png, options)?;
    let max = series
        .iter()
        .flat_map(|s| s.values.iter().flatten())
        .copied()
        .filter(|v| v.is_finite() && *v > 0.0)
        .fold(0.0f64, f64::max);
    if max <= 0.0 || categories.is_empty() {
        return Err(PlotError::NoData {
            path: png.to_owned(),
        });
    }
    render(png, options, |area| {
        draw_bars(area, title, y_label, categories, series, max).map_err(|e| e.to_string())
    })
}

fn short_number(v: f64) -> String {
    match v.abs() {
        0.0 => "0".into(),
        a if a >= 1e6 => format!("{:.1}M", v / 1e6),
        a if a >= 1e4 => format!("{:.0}k", v / 1e3),
        a if a >= 1e3 => format!("{:.1}k", v / 1e3),
        a if a >= 10.0 => format!("{v:.0}"),
        a if a >= 1.0 => format!("{v:.1}"),
        _ => format!("{v:.3}"),
    }
}

fn draw_bars<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    y_label: &str,
    categories: &[String],
    series: &[BarSeries],
    max: f64,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let n = categories.len();
    let k = series.len().max(1);
    let mut chart = ChartBuilder::on(root)
        .caption(title, (FAMILY, 26))
        .margin(20)
        .x_label_area_size(50)
        .y_label_area_size(80)
        .build_cartesian_2d(0.0..n as f64, 0.0..max * 1.15)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_label_formatter(&|_| String::new())
        .y_desc(y_label)
        .y_label_formatter(&|v| short_number(*v))
        .label_style((FAMILY, 15))
        .axis_desc_style((FAMILY, 17))
        .draw()?;
    let group = 0.8;
    let bar = group / k as f64;
    for (si, s) in series.iter().enumerate() {
        let color = PALETTE[si % PALETTE.len()];
        let bars: Vec<(f64, f64, f64)> = s
            .values
            .iter()
            .enumerate()
            .filter_map(|(ci, v)| {
                let v = (*v)?;
                (v.is_finite() && v > 0.0).then(|| {
                    let x0 = ci as f64 + (1.0 - group) / 2.0 + si as f64 * bar;
                    (x0, x0 + bar * 0.92, v)
                })
            })
            .collect();
        chart
            .draw_series(
                bars.iter()
                    .map(|&(x0, x1, v)| Rectangle::new([(x0, 0.0), (x1, v)], color.filled())),
            )?
            .label(s.label.clone())
            .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 14, y + 6)], color.filled()));
        chart.draw_series(bars.iter().map(|&(x0, x1, v)| {
            Text::new(
                short_number(v),
                ((x0 + x1) / 2.0, v),
                TextStyle::from((FAMILY, 12))
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Center, VPos::Bottom)),
            )
        }))?;
    }
    // Category names centred under their groups (plotters' own labels fall on round values).
    for (i, name) in categories.iter().enumerate() {
        let (x, y) = chart.backend_coord(&(i as f64 + 0.5, 0.0));
        root.draw(&Text::new(
            name.clone(),
            (x, y + 10),
            TextStyle::from((FAMILY, 16))
                .color(&BLACK)
                .pos(Pos::new(HPos::Center, VPos::Top)),
        ))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .label_font((FAMILY, 15))
        .draw()?;
    root.present()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(lines: &[&str]) -> Vec<Record> {
        lines
            .iter()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// Each panel with its series as (label, points, reference).
    type Layout<'a> = Vec<(PanelKind, Vec<(&'a str, usize, bool)>)>;

    fn layout(panels: &[Panel]) -> Layout<'_> {
        panels
            .iter()
            .map(|p| {
                let series = p.series.iter();
                let series = series.map(|s| (s.label.as_str(), s.points.len(), s.reference));
                (p.kind, series.collect())
            })
            .collect()
    }

    #[test]
    fn groups_keys_into_panels_in_legend_order() {
        let records = records(&[
            r#"{"split":"valid","step":2,"loss":0.5,"accuracy":0.8,"majority_rate":0.6}"#,
            r#"{"split":"train","step":1,"loss":0.7,"acc_random":0.5,"accuracy":0.7,"lr":1e-4}"#,
            r#"{"split":"train","step":2,"loss":null,"accuracy":0.75,"lr":2e-4,"grad_norm":1.0}"#,
            r#"{"split":"dev","step":2,"mcc":0.3,"f1":0.6,"epoch":1}"#,
            r#"{"step":3,"loss":0.4}"#,
        ]);
        assert_eq!(
            layout(&panels(&records)),
            vec![
                (
                    PanelKind::Loss,
                    vec![("train", 1, false), ("valid", 1, false), ("loss", 1, false)]
                ),
                (
                    PanelKind::Score,
                    vec![
                        ("train accuracy", 2, false),
                        ("train acc_random", 1, false),
                        ("valid accuracy", 1, false),
                        ("valid majority_rate", 1, true),
                        ("dev mcc", 1, false),
                        ("dev f1", 1, false),
                    ]
                ),
                (PanelKind::LearningRate, vec![("train", 2, false)]),
            ]
        );
    }

    #[test]
    fn skips_empty_panels_and_non_finite_values() {
        // NaN is logged as null (and serde_json holds no infinities).
        let records = records(&[
            r#"{"split":"train","step":1,"loss":null,"lr":"fast","accuracy":[0.5]}"#,
            r#"{"split":"train","step":2,"loss":0.5}"#,
        ]);
        assert_eq!(
            layout(&panels(&records)),
            vec![(PanelKind::Loss, vec![("train", 1, false)])]
        );
        assert!(panels(&records[..1]).is_empty());
    }

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

    #[test]
    fn bar_chart_draws_groups_and_refuses_empty_data() {
        let dir = std::env::temp_dir().join(format!("hashformer-bars-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let png = dir.join("bars.png");
        let categories = vec!["tiny".to_string(), "small".to_string()];
        let series = vec![
            BarSeries {
                label: "hashformers cpu".into(),
                values: vec![Some(20_000.0), Some(1_500.0)],
            },
            BarSeries {
                label: "PyTorch cpu".into(),
                values: vec![Some(40_000.0), None],
            },
        ];
        bar_chart(
            &png,
            "train step",
            "tokens/s",
            &categories,
            &series,
            &PlotOptions::default(),
        )
        .unwrap();
        let bytes = std::fs::read(&png).unwrap();
        assert_eq!(&bytes[1..4], b"PNG");
        let empty = vec![BarSeries {
            label: "x".into(),
            values: vec![None, Some(f64::NAN)],
        }];
        let err = bar_chart(&png, "t", "y", &categories, &empty, &PlotOptions::default());
        assert!(matches!(err, Err(PlotError::NoData { .. })));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
