//! A grouped bar chart as a standalone SVG file: per scenario, the best heuristic's mean
//! completion time beside the learned router's. Written by hand so the CLI needs no plotting
//! library.

use std::fmt::Write;

/// One group of bars.
pub struct BarGroup {
    pub label: String,
    /// (series name, value) pairs, drawn left to right.
    pub bars: Vec<(String, f64)>,
}

const COLORS: [&str; 6] = [
    "#8c8c8c", "#b05a2a", "#d9b02b", "#2a7ab0", "#7a3fb0", "#3f9e4d",
];

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Renders `groups` with a y axis in `unit`; every group must have the same series.
pub fn bar_chart(title: &str, unit: &str, groups: &[BarGroup]) -> String {
    let (width, height, left, bottom, top) = (900.0, 420.0, 70.0, 90.0, 50.0);
    let plot_h = height - bottom - top;
    let max = groups
        .iter()
        .flat_map(|g| g.bars.iter().map(|b| b.1))
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::max)
        .max(1e-9)
        * 1.1;
    let group_w = (width - left - 20.0) / groups.len().max(1) as f64;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = write!(
        svg,
        r#"<rect width="100%" height="100%" fill="white"/><text x="{}" y="24" font-size="16" text-anchor="middle">{}</text>"#,
        width / 2.0,
        escape(title)
    );
    for tick in 0..=4 {
        let v = max * f64::from(tick) / 4.0;
        let y = top + plot_h - plot_h * v / max;
        let _ = write!(
            svg,
            r##"<line x1="{left}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#e5e5e5"/><text x="{}" y="{:.1}" text-anchor="end">{v:.1}</text>"##,
            width - 20.0,
            left - 6.0,
            y + 4.0
        );
    }
    let _ = write!(
        svg,
        r#"<text x="16" y="{:.1}" transform="rotate(-90 16 {:.1})" text-anchor="middle">{}</text>"#,
        top + plot_h / 2.0,
        top + plot_h / 2.0,
        escape(unit)
    );
    for (gi, group) in groups.iter().enumerate() {
        let x0 = left + group_w * gi as f64;
        let bar_w = group_w * 0.8 / group.bars.len().max(1) as f64;
        for (bi, (name, value)) in group.bars.iter().enumerate() {
            let v = if value.is_finite() { *value } else { 0.0 };
            let h = plot_h * v / max;
            let x = x0 + group_w * 0.1 + bar_w * bi as f64;
            let _ = write!(
                svg,
                r#"<rect x="{x:.1}" y="{:.1}" width="{:.1}" height="{h:.1}" fill="{}"><title>{}: {v:.3}</title></rect>"#,
                top + plot_h - h,
                bar_w * 0.95,
                COLORS[bi % COLORS.len()],
                escape(name)
            );
        }
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end" transform="rotate(-30 {:.1} {:.1})">{}</text>"#,
            x0 + group_w / 2.0,
            top + plot_h + 16.0,
            x0 + group_w / 2.0,
            top + plot_h + 16.0,
            escape(&group.label)
        );
    }
    if let Some(first) = groups.first() {
        for (bi, (name, _)) in first.bars.iter().enumerate() {
            let x = left + 10.0 + 140.0 * bi as f64;
            let _ = write!(
                svg,
                r#"<rect x="{x}" y="34" width="10" height="10" fill="{}"/><text x="{}" y="43">{}</text>"#,
                COLORS[bi % COLORS.len()],
                x + 14.0,
                escape(name)
            );
        }
    }
    svg.push_str("</svg>\n");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest_value_and_text_is_escaped() {
        let groups = vec![
            BarGroup {
                label: "a<b".into(),
                bars: vec![("best heuristic".into(), 4.0), ("learned".into(), 2.0)],
            },
            BarGroup {
                label: "c".into(),
                bars: vec![("best heuristic".into(), 1.0), ("learned".into(), f64::NAN)],
            },
        ];
        let svg = bar_chart("t", "seconds", &groups);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
        assert!(svg.contains("a&lt;b") && !svg.contains("a<b"));
        assert_eq!(
            svg.matches("<rect x=").count(),
            4 + 2,
            "4 bars and 2 legend keys"
        );
        // The tallest bar (4.0) fills 1/1.1 of the 280-pixel plot height.
        assert!(svg.contains(r#"height="254.5""#), "{svg}");
    }
}
