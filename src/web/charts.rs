//! Server-side SVG charts: plain bar charts with a text alternative, no script, no fonts to load (the
//! viewer's own sans-serif is used), so they work on closed networks and print. Each chart is shown next
//! to a data table for screen readers.

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A horizontal bar chart; `None` values (suppressed cells) are drawn as a hatched bar marked `hidden`.
pub fn bars(id: &str, title: &str, data: &[(String, Option<i64>)], hidden: &str) -> String {
    let row = 28;
    let label_w = 150;
    let width = 520;
    let height = 30 + data.len() as i32 * row;
    let max = data.iter().filter_map(|d| d.1).max().unwrap_or(0).max(1) as f64;
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"{id}\" class=\"chart\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-labelledby=\"{id}-title\">\
         <title id=\"{id}-title\">{}</title>",
        esc(title)
    );
    out.push_str("<defs><pattern id=\"hatch\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\"><path d=\"M0 6 L6 0\" stroke=\"#4a4a4a\"/></pattern></defs>");
    for (i, (label, v)) in data.iter().enumerate() {
        let y = 20 + i as i32 * row;
        let (w, text, fill) = match v {
            Some(n) => (((*n as f64 / max) * f64::from(width - label_w - 60)).round() as i32, n.to_string(), "#0b4f8a"),
            None => (12, hidden.to_string(), "url(#hatch)"),
        };
        out.push_str(&format!(
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" font-size=\"13\" font-family=\"sans-serif\" fill=\"#1a1a1a\">{}</text>\
             <rect x=\"{label_w}\" y=\"{}\" width=\"{}\" height=\"18\" fill=\"{fill}\"/>\
             <text x=\"{}\" y=\"{}\" font-size=\"13\" font-family=\"sans-serif\" fill=\"#1a1a1a\">{}</text>",
            label_w - 8,
            y + 14,
            esc(label),
            y,
            w.max(1),
            label_w + w.max(1) + 6,
            y + 14,
            esc(&text)
        ));
    }
    out.push_str("</svg>");
    out
}

/// Stacked horizontal bars (e.g. per step: on time, late, overdue, skipped) with a legend.
pub fn stacked(id: &str, title: &str, series: &[&str], data: &[(String, Vec<i64>)]) -> String {
    const COLOURS: [&str; 4] = ["#1e6b1e", "#f2a900", "#a4161a", "#7a7a7a"];
    let row = 26;
    let label_w = 210;
    let width = 620;
    let height = 50 + data.len() as i32 * row;
    let max = data.iter().map(|d| d.1.iter().sum::<i64>()).max().unwrap_or(0).max(1) as f64;
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"{id}\" class=\"chart\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-labelledby=\"{id}-title\">\
         <title id=\"{id}-title\">{}</title>",
        esc(title)
    );
    for (i, s) in series.iter().enumerate() {
        let x = label_w + i as i32 * 100;
        out.push_str(&format!(
            "<rect x=\"{x}\" y=\"4\" width=\"12\" height=\"12\" fill=\"{}\"/><text x=\"{}\" y=\"15\" font-size=\"12\" font-family=\"sans-serif\">{}</text>",
            COLOURS[i % 4],
            x + 16,
            esc(s)
        ));
    }
    for (i, (label, values)) in data.iter().enumerate() {
        let y = 30 + i as i32 * row;
        out.push_str(&format!(
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" font-size=\"12\" font-family=\"sans-serif\">{}</text>",
            label_w - 8,
            y + 13,
            esc(label)
        ));
        let mut x = label_w;
        for (j, v) in values.iter().enumerate() {
            let w = ((*v as f64 / max) * f64::from(width - label_w - 20)).round() as i32;
            if w > 0 {
                out.push_str(&format!(
                    "<rect x=\"{x}\" y=\"{y}\" width=\"{w}\" height=\"16\" fill=\"{}\"/>",
                    COLOURS[j % 4]
                ));
            }
            x += w;
        }
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn charts_escape_labels_and_mark_suppressed_cells() {
        let svg =
            super::bars("c", "Episodes <by> month", &[("2026-01".into(), Some(4)), ("x & y".into(), None)], "<dolt>");
        assert!(svg.starts_with("<svg") && svg.contains("role=\"img\"") && svg.contains("Episodes &lt;by&gt; month"));
        assert!(svg.contains("x &amp; y") && svg.contains("&lt;dolt&gt;"));
        let s = super::stacked("s", "Steps", &["on time", "late"], &[("police_report".into(), vec![3, 1])]);
        assert_eq!(s.matches("<rect").count(), 2 + 2);
    }
}
