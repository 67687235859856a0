//! What every chart shares: [`PlotOptions`] (title and image size), the bundled font, the
//! palette, drawing into memory, PNG encoding and the atomic write of the file.
//!
//! Text uses a bundled font (DejaVu Sans, `assets/`, licence beside it), never the system's,
//! so a chart renders the same on every machine. The image is drawn in memory, encoded with
//! `png` and written atomically.

use std::path::Path;
use std::sync::OnceLock;

use plotters::backend::RGBPixel;
use plotters::coord::{CoordTranslate, Shift};
use plotters::prelude::*;
use plotters::style::register_font;

use crate::error::PlotError;
use hashformer_files::write_atomic;

/// DejaVu Sans 2.37, unmodified; licence in `assets/LICENSE-DejaVu.txt`.
const FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");
/// The family the bundled font is registered as, and the only one we draw with.
pub(crate) const FAMILY: &str = "sans-serif";
/// Line colours (Tableau 10, grey swapped for black); a panel's series take them in turn.
pub(crate) const PALETTE: [RGBColor; 10] = [
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
pub(crate) const REFERENCE: RGBColor = RGBColor(110, 110, 110);

/// Smallest accepted width or height, in pixels.
pub const MIN_SIDE: u32 = 320;
/// Largest accepted width or height, in pixels (the image is held in memory, 3 bytes a pixel).
pub const MAX_SIDE: u32 = 8192;

/// How [`plot_metrics`](crate::plot_metrics), [`plot_runs`](crate::plot_runs),
/// [`bar_chart`](crate::bar_chart) and [`scatter_chart`](crate::scatter_chart) draw: the title
/// and the image size.
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

/// [`PlotError::Size`] unless both sides are in [`MIN_SIDE`]`..=`[`MAX_SIDE`].
pub(crate) fn check_size(png: &Path, options: &PlotOptions) -> Result<(), PlotError> {
    let (width, height) = (options.width, options.height);
    if !(MIN_SIDE..=MAX_SIDE).contains(&width) || !(MIN_SIDE..=MAX_SIDE).contains(&height) {
        return Err(PlotError::Size {
            path: png.to_owned(),
            width,
            height,
            min: MIN_SIDE,
            max: MAX_SIDE,
        });
    }
    Ok(())
}

/// Draws with `paint` on an in-memory image of the options' size (bundled font registered),
/// encodes it as PNG and writes it to `png` atomically.
pub(crate) fn render(
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
    write_atomic(png, &bytes).map_err(|source| PlotError::Io {
        path: png.to_owned(),
        source,
    })
}

/// Draws `chart`'s legend at `position` in the style every chart shares: a light box with a
/// black border, labels in the bundled font.
pub(crate) fn draw_legend<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    position: SeriesLabelPosition,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .label_font((FAMILY, 15))
        .draw()
}

/// Registers [`FONT`] with plotters once per process; false if it is unusable.
fn register_bundled_font() -> bool {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    *REGISTERED.get_or_init(|| register_font(FAMILY, FontStyle::Normal, FONT).is_ok())
}

/// `rgb` (8-bit RGB, row by row) as the bytes of a PNG file.
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
