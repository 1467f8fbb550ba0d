//! Line charts of the per-day series, averaged over runs, drawn by the program as SVG and PNG.
//!
//! Text is rendered with plotters' `ab_glyph` backend from DejaVu Sans embedded in the binary
//! (the `dejavu` crate), so PNGs get their labels on a machine with no system fonts at all.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;

use crate::scenario::{PlotSpec, RunOutput};

/// The font family every chart uses; registered once from the embedded font.
const FAMILY: &str = "sans-serif";
const SIZE: (u32, u32) = (960, 540);

fn register_font() -> anyhow::Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| register_font_inner(dejavu::sans::regular()));
    if ok {
        Ok(())
    } else {
        anyhow::bail!("the embedded DejaVu Sans font could not be loaded")
    }
}

fn register_font_inner(bytes: &'static [u8]) -> bool {
    plotters::style::register_font(FAMILY, FontStyle::Normal, bytes).is_ok()
}

/// One line: an entity's mean value per day over the runs where it was defined.
#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    pub entity: String,
    pub points: Vec<(f64, f64)>,
}

/// The lines of `spec`: for each entity (in first-emission order, or `spec.entities`' order)
/// and day, the mean of column `spec.column` over runs, leaving out NaN values.
pub fn lines(spec: &PlotSpec, columns: &[String], outputs: &[RunOutput]) -> anyhow::Result<Vec<Line>> {
    let col = columns.iter().position(|c| *c == spec.column).ok_or_else(|| {
        anyhow::anyhow!("plot {:?} wants column {:?}, which the scenario lacks", spec.stem, spec.column)
    })?;
    let mut order: Vec<String> = spec.entities.clone();
    // (entity, day) -> (sum, count)
    let mut acc: BTreeMap<(String, u32), (f64, u32)> = BTreeMap::new();
    for o in outputs {
        for r in &o.rows {
            let wanted = spec.entities.is_empty() || spec.entities.contains(&r.entity);
            let Some(v) = r.values.get(col).copied() else { continue };
            if !wanted {
                continue;
            }
            if !order.contains(&r.entity) {
                order.push(r.entity.clone());
            }
            if v.is_nan() {
                continue;
            }
            let e = acc.entry((r.entity.clone(), r.day)).or_insert((0.0, 0));
            e.0 += v;
            e.1 += 1;
        }
    }
    Ok(order
        .into_iter()
        .map(|entity| {
            let points = acc
                .range((entity.clone(), 0)..=(entity.clone(), u32::MAX))
                .map(|((_, day), (sum, n))| (f64::from(*day), sum / f64::from(*n)))
                .collect();
            Line { entity, points }
        })
        .collect())
}

/// Draws `spec` as `<dir>/<stem>.svg` and `<dir>/<stem>.png`; returns both paths.
pub fn draw(dir: &Path, spec: &PlotSpec, lines: &[Line]) -> anyhow::Result<Vec<PathBuf>> {
    register_font()?;
    let svg = dir.join(format!("{}.svg", spec.stem));
    let png = dir.join(format!("{}.png", spec.stem));
    {
        let root = SVGBackend::new(&svg, SIZE).into_drawing_area();
        chart(&root, spec, lines).map_err(|e| anyhow::anyhow!("drawing {}: {e}", svg.display()))?;
        root.present().map_err(|e| anyhow::anyhow!("writing {}: {e}", svg.display()))?;
    }
    {
        let root = BitMapBackend::new(&png, SIZE).into_drawing_area();
        chart(&root, spec, lines).map_err(|e| anyhow::anyhow!("drawing {}: {e}", png.display()))?;
        root.present().map_err(|e| anyhow::anyhow!("writing {}: {e}", png.display()))?;
    }
    Ok(vec![svg, png])
}

type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// The y value as drawn: log10 on a logarithmic axis (non-positive values cannot be drawn).
fn y_of(spec: &PlotSpec, y: f64) -> Option<f64> {
    if !spec.log_y {
        Some(y)
    } else if y > 0.0 {
        Some(y.log10())
    } else {
        None
    }
}

fn chart<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, spec: &PlotSpec, lines: &[Line]) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    let (w, _) = root.dim_in_pixel();
    let (plot_area, legend_area) = root.split_horizontally(w * 4 / 5);

    let drawn: Vec<Vec<(f64, f64)>> =
        lines.iter().map(|l| l.points.iter().filter_map(|&(x, y)| y_of(spec, y).map(|y| (x, y))).collect()).collect();
    let all = drawn.iter().flatten();
    let (mut x0, mut x1, mut y0, mut y1) = (f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY, f64::NEG_INFINITY);
    for &(x, y) in all {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    if !x0.is_finite() {
        (x0, x1, y0, y1) = (0.0, 1.0, 0.0, 1.0);
    }
    if x1 <= x0 {
        x1 = x0 + 1.0;
    }
    // Linear charts of counts and balances read best from zero; leave headroom above.
    if !spec.log_y && y0 > 0.0 {
        y0 = 0.0;
    }
    let pad = if y1 > y0 { (y1 - y0) * 0.05 } else { 1.0 };
    let (y0, y1) = (y0 - if spec.log_y { pad } else { 0.0 }, y1 + pad);

    let mut chart = ChartBuilder::on(&plot_area)
        .caption(&spec.title, (FAMILY, 22))
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(70)
        .build_cartesian_2d(x0..x1, y0..y1)?;
    let log = spec.log_y;
    let y_fmt = move |v: &f64| if log { short(10f64.powf(*v)) } else { short(*v) };
    chart
        .configure_mesh()
        .x_desc("day")
        .y_desc(&spec.y_label)
        .label_style((FAMILY, 14))
        .axis_desc_style((FAMILY, 16))
        .y_label_formatter(&y_fmt)
        .x_label_formatter(&|v| format!("{v:.0}"))
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    for (i, pts) in drawn.iter().enumerate() {
        chart.draw_series(LineSeries::new(pts.iter().copied(), color(i).stroke_width(2)))?;
    }

    // The legend beside the chart, so it never hides a line.
    let top = 60;
    for (i, l) in lines.iter().enumerate() {
        let y = top + 24 * i as i32;
        legend_area.draw(&PathElement::new(vec![(8, y), (36, y)], color(i).stroke_width(3)))?;
        legend_area.draw(&Text::new(l.entity.clone(), (44, y - 8), (FAMILY, 15).into_font()))?;
    }
    Ok(())
}

/// One line of a sweep chart: the mean of a metric at each value of the swept key with the
/// 95% confidence interval, `(x, mean, low, high)`.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepLine {
    pub label: String,
    pub points: Vec<(f64, f64, f64, f64)>,
}

/// A sweep chart: a metric against a swept key. `x_labels` names categorical x positions
/// (0, 1, ...) when the key's values are not numbers.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepChart {
    pub stem: String,
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub x_labels: Option<Vec<String>>,
    pub lines: Vec<SweepLine>,
}

/// Draws `chart` as `<dir>/<stem>.svg` and `<dir>/<stem>.png`; returns both paths.
pub fn draw_sweep(dir: &Path, chart: &SweepChart) -> anyhow::Result<Vec<PathBuf>> {
    register_font()?;
    let svg = dir.join(format!("{}.svg", chart.stem));
    let png = dir.join(format!("{}.png", chart.stem));
    {
        let root = SVGBackend::new(&svg, SIZE).into_drawing_area();
        sweep_chart(&root, chart).map_err(|e| anyhow::anyhow!("drawing {}: {e}", svg.display()))?;
        root.present().map_err(|e| anyhow::anyhow!("writing {}: {e}", svg.display()))?;
    }
    {
        let root = BitMapBackend::new(&png, SIZE).into_drawing_area();
        sweep_chart(&root, chart).map_err(|e| anyhow::anyhow!("drawing {}: {e}", png.display()))?;
        root.present().map_err(|e| anyhow::anyhow!("writing {}: {e}", png.display()))?;
    }
    Ok(vec![svg, png])
}

fn sweep_chart<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, c: &SweepChart) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    let (w, _) = root.dim_in_pixel();
    let (plot_area, legend_area) = root.split_horizontally(w * 4 / 5);
    let pts = c.lines.iter().flat_map(|l| l.points.iter()).filter(|p| p.1.is_finite());
    let (mut x0, mut x1, mut y0, mut y1) = (f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY, f64::NEG_INFINITY);
    for &(x, m, lo, hi) in pts {
        x0 = x0.min(x);
        x1 = x1.max(x);
        for y in [m, lo, hi].into_iter().filter(|y| y.is_finite()) {
            y0 = y0.min(y);
            y1 = y1.max(y);
        }
    }
    if !x0.is_finite() {
        (x0, x1, y0, y1) = (0.0, 1.0, 0.0, 1.0);
    }
    // Room left and right of the first and last value for the error bars.
    let xpad = if x1 > x0 { (x1 - x0) * 0.05 } else { 0.5 };
    let (x0, x1) = (x0 - xpad, x1 + xpad);
    if y0 > 0.0 {
        y0 = 0.0;
    }
    let pad = if y1 > y0 { (y1 - y0) * 0.05 } else { 1.0 };
    let (y0, y1) = (y0 - if y0 < 0.0 { pad } else { 0.0 }, y1 + pad);
    let mut chart = ChartBuilder::on(&plot_area)
        .caption(&c.title, (FAMILY, 20))
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(70)
        .build_cartesian_2d(x0..x1, y0..y1)?;
    let labels = c.x_labels.clone();
    let x_fmt = move |v: &f64| match &labels {
        Some(l) => {
            let i = v.round();
            if (v - i).abs() < 1e-6 && i >= 0.0 {
                l.get(i as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        }
        None => short(*v),
    };
    let n_labels = c.x_labels.as_ref().map_or(10, |l| l.len() * 2 + 1);
    chart
        .configure_mesh()
        .x_desc(&c.x_label)
        .y_desc(&c.y_label)
        .label_style((FAMILY, 14))
        .axis_desc_style((FAMILY, 16))
        .x_labels(n_labels)
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&|v| short(*v))
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    for (i, l) in c.lines.iter().enumerate() {
        let col = color(i);
        let defined: Vec<(f64, f64, f64, f64)> = l.points.iter().copied().filter(|p| p.1.is_finite()).collect();
        chart.draw_series(LineSeries::new(defined.iter().map(|p| (p.0, p.1)), col.stroke_width(2)))?;
        chart.draw_series(defined.iter().map(|p| Circle::new((p.0, p.1), 4, col.filled())))?;
        chart.draw_series(
            defined
                .iter()
                .filter(|p| p.2.is_finite() && p.3.is_finite())
                .map(|p| ErrorBar::new_vertical(p.0, p.2, p.1, p.3, col.stroke_width(2), 10)),
        )?;
    }
    let top = 60;
    for (i, l) in c.lines.iter().enumerate() {
        let y = top + 24 * i as i32;
        legend_area.draw(&PathElement::new(vec![(8, y), (36, y)], color(i).stroke_width(3)))?;
        legend_area.draw(&Text::new(l.label.clone(), (44, y - 8), (FAMILY, 13).into_font()))?;
    }
    legend_area.draw(&Text::new("bars: 95% CI".to_owned(), (8, top - 36), (FAMILY, 13).into_font()))?;
    Ok(())
}

fn color(i: usize) -> RGBColor {
    // Tableau 10: distinguishable, print-friendly.
    const C: [(u8, u8, u8); 10] = [
        (31, 119, 180),
        (255, 127, 14),
        (44, 160, 44),
        (214, 39, 40),
        (148, 103, 189),
        (140, 86, 75),
        (227, 119, 194),
        (127, 127, 127),
        (188, 189, 34),
        (23, 190, 207),
    ];
    let (r, g, b) = C[i % C.len()];
    RGBColor(r, g, b)
}

/// Axis numbers: integers plainly, others with up to 3 decimals.
fn short(v: f64) -> String {
    if v.abs() >= 1e6 || (v != 0.0 && v.abs() < 1e-3) {
        format!("{v:.1e}")
    } else {
        let s = format!("{v:.3}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        if s == "-0" {
            "0".to_owned()
        } else {
            s.to_owned()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Row;

    fn spec(column: &str, entities: &[&str]) -> PlotSpec {
        PlotSpec {
            stem: "t".into(),
            title: "T".into(),
            column: column.into(),
            y_label: "y".into(),
            entities: entities.iter().map(|s| s.to_string()).collect(),
            log_y: false,
        }
    }

    fn run(rows: &[(u32, &str, f64)]) -> RunOutput {
        RunOutput {
            rows: rows.iter().map(|&(day, e, v)| Row { day, entity: e.into(), values: vec![v] }).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn lines_average_over_runs_and_skip_undefined_values() {
        let cols = vec!["x".to_owned()];
        let outs = [run(&[(0, "a", 1.0), (0, "b", 5.0), (1, "a", f64::NAN)]), run(&[(0, "a", 3.0), (1, "a", 4.0)])];
        let l = lines(&spec("x", &[]), &cols, &outs).unwrap();
        assert_eq!(l.len(), 2);
        assert_eq!(l[0], Line { entity: "a".into(), points: vec![(0.0, 2.0), (1.0, 4.0)] });
        assert_eq!(l[1], Line { entity: "b".into(), points: vec![(0.0, 5.0)] });
        let only_b = lines(&spec("x", &["b"]), &cols, &outs).unwrap();
        assert_eq!(only_b.len(), 1);
        assert!(lines(&spec("nope", &[]), &cols, &outs).is_err());
    }

    #[test]
    fn draws_svg_and_png_with_text() {
        let dir = std::env::temp_dir().join(format!("peerex-plot-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let l = vec![Line { entity: "alpha".into(), points: vec![(0.0, 1.0), (1.0, 3.0), (2.0, 2.0)] }];
        let files = draw(&dir, &spec("x", &[]), &l).unwrap();
        let svg = std::fs::read_to_string(&files[0]).unwrap();
        assert!(svg.contains("<svg") && svg.contains("alpha"), "{svg}");
        let png = std::fs::read(&files[1]).unwrap();
        assert_eq!(&png[1..4], b"PNG");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn log_axis_drops_non_positive_values() {
        let mut s = spec("x", &[]);
        s.log_y = true;
        assert_eq!(y_of(&s, 100.0), Some(2.0));
        assert_eq!(y_of(&s, 0.0), None);
        assert_eq!(short(2.0), "2");
        assert_eq!(short(0.125), "0.125");
    }
}
