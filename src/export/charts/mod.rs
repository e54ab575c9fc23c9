//! Charts drawn with plotters, as SVG and PNG, for any workload: throughput and efficiency
//! vs workers, start costs per model, each metric against a parameter that varies (parent
//! RSS, n), and the same charts overlaid for several runs. Every file is written atomically.
//! `draw` is the plotting engine, `choose` picks a run's charts, `overlay` several runs'.

mod choose;
mod draw;
mod labels;
mod overlay;

pub(crate) use choose::*;
pub use choose::{caption, charts_for};
pub(crate) use draw::*;
pub use draw::{draw, register_fonts};
pub use labels::{run_labels, runs_named, short_cpu};
pub use overlay::overlay_charts;

use crate::results::Measurement;

/// One point with an optional interval (drawn as an error bar).
#[derive(Clone, Copy, Debug)]
pub struct Pt {
    pub x: f64,
    pub y: f64,
    pub lo: Option<f64>,
    pub hi: Option<f64>,
}

impl Pt {
    fn of(x: f64, m: &Measurement) -> Pt {
        Pt {
            x,
            y: m.median,
            lo: Some(m.ci95[0]),
            hi: Some(m.ci95[1]),
        }
    }
}

/// A labelled series: a line through its points, or only points (raw samples).
#[derive(Clone, Debug)]
pub struct Line {
    pub label: String,
    pub points: Vec<Pt>,
    pub dashed: bool,
    pub points_only: bool,
    pub look: Look,
}

/// How a series is told apart from the others: its colour (an index into the palette) and
/// its mark (the shape at its points and the dash of its line). `None`: by its place in the
/// chart. Coinciding series stay visible because their marks differ in shape.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Look {
    pub colour: Option<usize>,
    pub mark: Option<usize>,
}

impl Look {
    /// One colour per model in every chart: its place in the table of models, or for a
    /// study's own model, a place from its name.
    pub fn of_model(model: &str) -> Look {
        Look {
            colour: Some(model_colour(model)),
            mark: None,
        }
    }
}

/// The palette index of a model (see [`Look::of_model`]).
pub fn model_colour(model: &str) -> usize {
    match crate::api::Model::ALL
        .iter()
        .position(|m| m.name() == model)
    {
        Some(i) => i,
        // FNV-1a: the same name, the same colour, on every machine.
        None => {
            let h = model.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
            });
            crate::api::Model::ALL.len() + (h % 3) as usize
        }
    }
}

impl Line {
    /// A dashed reference line through `points` (an ideal, a perfect-scaling level).
    fn guide(label: &str, points: impl Iterator<Item = (f64, f64)>) -> Line {
        Line {
            label: label.into(),
            points: points
                .map(|(x, y)| Pt {
                    x,
                    y,
                    lo: None,
                    hi: None,
                })
                .collect(),
            dashed: true,
            points_only: false,
            look: Look::default(),
        }
    }
}

/// How an axis shows its values.
#[derive(Clone, Copy, Debug)]
pub enum Axis {
    Linear(fn(f64) -> String),
    Log(fn(f64) -> String),
    /// Categories at 0, 1, 2, … named by `Chart::categories`.
    Category,
}

/// How a chart's legend names its series.
#[derive(Clone, Debug, Default)]
pub enum Legend {
    /// One row per line, with its label.
    #[default]
    PerLine,
    /// Overlaid runs: the colours under one heading (each run's short label), the marks under
    /// another (each model): (heading, [(palette or mark index, label)]).
    Grouped {
        colours: (String, Vec<(usize, String)>),
        marks: (String, Vec<(usize, String)>),
    },
}

/// Everything one chart needs.
#[derive(Clone, Debug)]
pub struct Chart {
    pub stem: String,
    pub title: String,
    pub caption: String,
    pub x_desc: String,
    pub y_desc: String,
    pub x: Axis,
    pub y: Axis,
    pub categories: Vec<String>,
    pub lines: Vec<Line>,
    pub legend: Legend,
}
