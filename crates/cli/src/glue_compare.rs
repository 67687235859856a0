//! `hashformer glue-compare`: models side by side on GLUE over several pre-training runs each,
//! as a Markdown table, JSON and a PNG of the average against the token-embedding parameters.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Args;
use hashformer_glue::{compare, comparison_markdown, ComparedModel, Comparison, GlueResults};
use hashformer_report::{scatter_chart, PlotOptions, ScatterPoint};

use crate::outputs::{file_in, write_files};

/// Arguments of `hashformer glue-compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// `LABEL=DIR`: one run of the model LABEL, DIR a `hashformer glue` output directory
    /// (or its results.json). Repeat a label for its other pre-training runs.
    #[arg(long = "model", required = true, value_parser = crate::args::labelled_path)]
    models: Vec<(String, PathBuf)>,
    /// The label the others are compared with (a "− LABEL" row).
    #[arg(long)]
    baseline: Option<String>,
    /// Title of the chart.
    #[arg(
        long,
        default_value = "GLUE average against token-embedding parameters"
    )]
    title: String,
    /// Where to write comparison.md, comparison.json and comparison.png.
    #[arg(long)]
    out: PathBuf,
}

/// The token-embedding parameters (special-token table included) of the model a run
/// fine-tuned, from the first `TASK/seed-N/best/config.json` under its directory.
fn embedding_parameters(results: &Path, run: &GlueResults) -> Result<Option<usize>> {
    let Some(dir) = results.parent() else {
        return Ok(None);
    };
    for task in &run.tasks {
        for seed in &task.seeds {
            let best = dir
                .join(task.task)
                .join(format!("seed-{}", seed.seed))
                .join("best");
            if best.join(hashformer_model::CONFIG_FILE).is_file() {
                let config = hashformer_model::load_config(&best)
                    .with_context(|| format!("reading {}", best.display()))?;
                return Ok(Some(config.parameters().embeddings.token_and_special()));
            }
        }
    }
    Ok(None)
}

/// The models in the order their labels first appear, each with its runs.
fn load_models(args: &CompareArgs) -> Result<Vec<ComparedModel>> {
    let mut models: Vec<ComparedModel> = Vec::new();
    for (label, dir) in &args.models {
        let path = file_in(dir, "results.json");
        let run = hashformer_glue::merge_results(std::slice::from_ref(&path))?;
        let params = embedding_parameters(&path, &run)?;
        let at = match models.iter().position(|m| &m.label == label) {
            Some(at) => at,
            None => {
                models.push(ComparedModel {
                    label: label.clone(),
                    embedding_parameters: params,
                    runs: Vec::new(),
                });
                models.len() - 1
            }
        };
        let model = &mut models[at];
        if params.is_some()
            && model
                .embedding_parameters
                .is_some_and(|p| Some(p) != params)
        {
            bail!(
                "{}: a model with {} token-embedding parameters, where the earlier runs of \
                 {label} have {}",
                path.display(),
                params.unwrap_or_default(),
                model.embedding_parameters.unwrap_or_default()
            );
        }
        model.embedding_parameters = model.embedding_parameters.or(params);
        model.runs.push(run);
    }
    Ok(models)
}

/// The chart's points: each model with known parameters, its average and range.
fn points(comparison: &Comparison) -> Vec<ScatterPoint> {
    comparison
        .models
        .iter()
        .filter_map(|m| {
            let x = m.embedding_parameters? as f64;
            let a = m.average;
            Some(ScatterPoint {
                label: m.label.clone(),
                x,
                y: a.mean,
                range: (a.n > 1).then_some((a.min, a.max)),
            })
        })
        .collect()
}

/// Runs `hashformer glue-compare`.
///
/// # Errors
/// Unreadable or inconsistent results files, models that cannot be compared, write errors.
pub fn run(args: &CompareArgs) -> Result<()> {
    let models = load_models(args)?;
    let comparison = compare(&models, args.baseline.as_deref())?;
    let markdown = comparison_markdown(&comparison);
    let json = serde_json::to_string_pretty(&comparison)?;
    let files: [(&str, &[u8]); 2] = [
        ("comparison.md", markdown.as_bytes()),
        ("comparison.json", json.as_bytes()),
    ];
    write_files(&args.out, &files)?;
    let png = args.out.join("comparison.png");
    let y_label = format!("average of {} GLUE tasks", comparison.tasks.len());
    let drawn = points(&comparison);
    if drawn.is_empty() {
        eprintln!("no chart: no model's token-embedding parameters are known");
    } else {
        scatter_chart(
            &png,
            &args.title,
            "token-embedding parameters (log scale)",
            &y_label,
            &drawn,
            &PlotOptions::default(),
        )?;
    }
    print!("{markdown}");
    println!("comparison: {}", args.out.join("comparison.md").display());
    Ok(())
}
