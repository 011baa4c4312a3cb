//! The SVG chart of snapshot cost against repository size (issue 13): ours, `git status`, the
//! ghost commit and the shadow repository, median ms at each size, both axes logarithmic.

use std::path::Path;

use anyhow::{anyhow, Result};
use plotters::prelude::*;

/// One line of the chart: (files in the repository, median ms) points.
#[derive(Debug, Clone)]
pub struct Series {
    pub name: &'static str,
    pub points: Vec<(f64, f64)>,
}

const COLORS: [RGBColor; 4] = [RED, BLUE, GREEN, MAGENTA];

/// Writes the chart of `series` to `path`.
pub fn write_svg(path: &Path, series: &[Series]) -> Result<()> {
    let points = || series.iter().flat_map(|s| s.points.iter().copied());
    let max_x = points().map(|p| p.0).fold(1.0, f64::max) * 1.5;
    let min_x = points()
        .map(|p| p.0)
        .fold(f64::INFINITY, f64::min)
        .min(max_x)
        / 1.5;
    let max_y = points().map(|p| p.1).fold(1.0, f64::max) * 1.5;
    let min_y = points()
        .map(|p| p.1)
        .fold(f64::INFINITY, f64::min)
        .min(max_y)
        / 1.5;
    let root = SVGBackend::new(path, (800, 500)).into_drawing_area();
    let fail = |e: &dyn std::fmt::Display| anyhow!("cannot draw {}: {e}", path.display());
    root.fill(&WHITE).map_err(|e| fail(&e))?;
    let mut chart = ChartBuilder::on(&root)
        .caption("Snapshot cost against repository size", ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d((min_x..max_x).log_scale(), (min_y..max_y).log_scale())
        .map_err(|e| fail(&e))?;
    chart
        .configure_mesh()
        .x_desc("files in the repository")
        .y_desc("median ms (whole processes)")
        .draw()
        .map_err(|e| fail(&e))?;
    for (line, color) in series.iter().zip(COLORS.iter().cycle()) {
        chart
            .draw_series(LineSeries::new(line.points.iter().copied(), color))
            .map_err(|e| fail(&e))?
            .label(line.name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
        chart
            .draw_series(
                line.points
                    .iter()
                    .map(|&p| Circle::new(p, 3, color.filled())),
            )
            .map_err(|e| fail(&e))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(|e| fail(&e))?;
    root.present().map_err(|e| fail(&e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chart_is_an_svg_with_every_series_named() {
        let dir = tempfile_dir();
        let path = dir.join("chart.svg");
        let series = [
            Series {
                name: "ours",
                points: vec![(1000.0, 12.0), (10_000.0, 30.0)],
            },
            Series {
                name: "git status",
                points: vec![(1000.0, 3.0), (10_000.0, 20.0)],
            },
        ];
        write_svg(&path, &series).expect("chart written");
        let svg = std::fs::read_to_string(&path).expect("chart read");
        assert!(svg.starts_with("<svg"), "{}", &svg[..svg.len().min(80)]);
        assert!(svg.contains("\nours\n") && svg.contains("\ngit status\n"));
        let _ = std::fs::remove_dir_all(dir);
    }

    fn tempfile_dir() -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("xtask-chart-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir
    }
}
