#![doc = include_str!("../README.md")]

mod bar_chart;
mod error;
mod format;
mod line_chart;
mod log;
mod panels;
mod render;
mod scatter_chart;
mod stats;

pub use bar_chart::{bar_chart, BarSeries};
pub use error::{LogError, PlotError};
pub use format::group_digits;
pub use line_chart::{plot_metrics, plot_runs};
pub use log::{read_metrics, MetricsLog, Record};
pub use render::{PlotOptions, MAX_SIDE, MIN_SIDE};
pub use scatter_chart::{scatter_chart, ScatterPoint};
pub use stats::median;
