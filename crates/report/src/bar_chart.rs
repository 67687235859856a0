//! Grouped bar charts as PNG, for benchmark reports (`hashformer bench-report`): one group
//! per category, one bar per series.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::error::PlotError;
use crate::render::{check_size, draw_legend, render, PlotOptions, FAMILY, PALETTE};

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
/// [`PlotError::Font`], [`PlotError::Render`], [`PlotError::Io`] as for
/// [`plot_metrics`](crate::plot_metrics).
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
    draw_legend(&mut chart, SeriesLabelPosition::UpperRight)?;
    root.present()
}

#[cfg(test)]
mod tests {
    use super::*;

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
