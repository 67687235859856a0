//! Labelled points over a logarithmic x axis as PNG, for comparisons such as a score against
//! a parameter count (`hashformer glue-compare`): one marker per point, an optional vertical
//! range (e.g. min–max over runs) and the point's label beside it.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::error::PlotError;
use crate::render::{check_size, draw_legend, render, PlotOptions, FAMILY, PALETTE};

/// One point of [`scatter_chart`].
#[derive(Debug, Clone, PartialEq)]
pub struct ScatterPoint {
    /// Label drawn beside the point and in the legend, e.g. `Proj_MD5`.
    pub label: String,
    /// Position on the logarithmic x axis (must be positive).
    pub x: f64,
    /// Position on the y axis.
    pub y: f64,
    /// The vertical range drawn as an error bar (`low ≤ y ≤ high`), if any.
    pub range: Option<(f64, f64)>,
}

impl ScatterPoint {
    fn usable(&self) -> bool {
        let range_ok = self
            .range
            .is_none_or(|(lo, hi)| lo.is_finite() && hi.is_finite());
        self.x.is_finite() && self.x > 0.0 && self.y.is_finite() && range_ok
    }

    fn low(&self) -> f64 {
        self.range.map_or(self.y, |(lo, _)| lo.min(self.y))
    }

    fn high(&self) -> f64 {
        self.range.map_or(self.y, |(_, hi)| hi.max(self.y))
    }
}

/// Draws `points` over a logarithmic x axis as a PNG at `png` (atomically): each point a
/// filled circle in the palette's order, its range as a vertical bar, its label beside it and
/// in the legend. Points with a non-positive or non-finite x, or a non-finite y or range, are
/// left out.
///
/// # Errors
/// [`PlotError::NoData`] if no point is usable, [`PlotError::Size`], [`PlotError::Font`],
/// [`PlotError::Render`], [`PlotError::Io`] as for [`plot_metrics`](crate::plot_metrics).
pub fn scatter_chart(
    png: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    points: &[ScatterPoint],
    options: &PlotOptions,
) -> Result<(), PlotError> {
    check_size(png, options)?;
    let usable: Vec<&ScatterPoint> = points.iter().filter(|p| p.usable()).collect();
    if usable.is_empty() {
        return Err(PlotError::NoData {
            path: png.to_owned(),
        });
    }
    let bounds = Bounds::of(&usable);
    render(png, options, |area| {
        draw_points(area, title, (x_label, y_label), &usable, &bounds).map_err(|e| e.to_string())
    })
}

/// The axes' ranges: x a factor of 3 beyond the points on either side (room for labels), y 10 %
/// of the span (at least 1) beyond the ranges.
struct Bounds {
    x: (f64, f64),
    y: (f64, f64),
}

impl Bounds {
    fn of(points: &[&ScatterPoint]) -> Self {
        let fold = |f: fn(&ScatterPoint) -> f64, pick: fn(f64, f64) -> f64, start: f64| {
            points.iter().map(|p| f(p)).fold(start, pick)
        };
        let (x_min, x_max) = (
            fold(|p| p.x, f64::min, f64::INFINITY),
            fold(|p| p.x, f64::max, 0.0),
        );
        let (y_min, y_max) = (
            fold(ScatterPoint::low, f64::min, f64::INFINITY),
            fold(ScatterPoint::high, f64::max, f64::NEG_INFINITY),
        );
        let pad = ((y_max - y_min) * 0.1).max(1.0);
        Self {
            x: (x_min / 3.0, x_max * 3.0),
            y: (y_min - pad, y_max + pad),
        }
    }
}

fn short_count(v: f64) -> String {
    match v {
        v if v >= 1e6 => format!("{}M", trim(v / 1e6)),
        v if v >= 1e3 => format!("{}k", trim(v / 1e3)),
        v => trim(v),
    }
}

fn trim(v: f64) -> String {
    let s = format!("{v:.1}");
    s.strip_suffix(".0").map_or(s.clone(), str::to_owned)
}

fn draw_points<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    (x_label, y_label): (&str, &str),
    points: &[&ScatterPoint],
    bounds: &Bounds,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(root)
        .caption(title, (FAMILY, 26))
        .margin(20)
        .x_label_area_size(60)
        .y_label_area_size(80)
        .build_cartesian_2d((bounds.x.0..bounds.x.1).log_scale(), bounds.y.0..bounds.y.1)?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc(y_label)
        .x_label_formatter(&|v| short_count(*v))
        .y_label_formatter(&|v| format!("{v:.1}"))
        .label_style((FAMILY, 15))
        .axis_desc_style((FAMILY, 17))
        .draw()?;
    for (i, p) in points.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        if let Some((lo, hi)) = p.range {
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(p.x, lo), (p.x, hi)],
                color.stroke_width(2),
            )))?;
        }
        chart
            .draw_series(std::iter::once(Circle::new((p.x, p.y), 7, color.filled())))?
            .label(p.label.clone())
            .legend(move |(x, y)| Circle::new((x + 7, y), 6, color.filled()));
        let (px, py) = chart.backend_coord(&(p.x, p.y));
        root.draw(&Text::new(
            p.label.clone(),
            (px + 12, py),
            TextStyle::from((FAMILY, 15))
                .color(&BLACK)
                .pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
    }
    draw_legend(&mut chart, SeriesLabelPosition::LowerRight)?;
    root.present()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(label: &str, x: f64, y: f64, range: Option<(f64, f64)>) -> ScatterPoint {
        ScatterPoint {
            label: label.into(),
            x,
            y,
            range,
        }
    }

    #[test]
    fn scatter_chart_draws_points_and_refuses_unusable_ones() {
        let dir = std::env::temp_dir().join(format!("hashformer-scatter-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let png = dir.join("scatter.png");
        let points = vec![
            point("Proj_MD5", 34_304.0, 61.2, Some((60.1, 62.0))),
            point("BPE", 12_869_376.0, 62.0, None),
        ];
        let options = PlotOptions::default();
        scatter_chart(&png, "GLUE", "parameters", "score", &points, &options).unwrap();
        let bytes = std::fs::read(&png).unwrap();
        assert_eq!(&bytes[1..4], b"PNG");
        let unusable = vec![
            point("zero x", 0.0, 50.0, None),
            point("nan y", 10.0, f64::NAN, None),
            point("bad range", 10.0, 50.0, Some((f64::NAN, 51.0))),
        ];
        let err = scatter_chart(&png, "t", "x", "y", &unusable, &options);
        assert!(matches!(err, Err(PlotError::NoData { .. })));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn bounds_leave_room_around_points_and_ranges() {
        let a = point("a", 100.0, 50.0, Some((48.0, 53.0)));
        let b = point("b", 10_000.0, 60.0, None);
        let bounds = Bounds::of(&[&a, &b]);
        assert!(bounds.x.0 < 100.0 && bounds.x.1 > 10_000.0);
        assert!(bounds.y.0 < 48.0 && bounds.y.1 > 60.0);
        assert_eq!(short_count(34_304.0), "34.3k");
        assert_eq!(short_count(12_000_000.0), "12M");
        assert_eq!(short_count(500.0), "500");
    }
}
