//! Charts drawn by the server as SVG: a price chart (the chance of a fix over time), a small
//! trend line, depth bars and a pie chart. No script is needed to see them.

use maud::{html, Markup};

/// A step line of `(time ms, value in basis points 0..=10,000)` over `[from, to]`.
pub fn price_chart(points: &[(i64, u32)], from: i64, to: i64, label: &str, class: &str) -> Markup {
    const W: f64 = 600.0;
    const H: f64 = 220.0;
    const L: f64 = 44.0;
    const R: f64 = 8.0;
    const T: f64 = 10.0;
    const B: f64 = 24.0;
    let span = (to - from).max(1) as f64;
    let x = |t: i64| L + ((t - from) as f64 / span).clamp(0.0, 1.0) * (W - L - R);
    let y = |bp: u32| T + (1.0 - f64::from(bp.min(10_000)) / 10_000.0) * (H - T - B);
    // The last price before the window starts the line at the left edge.
    let before = points.iter().rev().find(|(t, _)| *t < from).map(|p| p.1);
    let inside: Vec<&(i64, u32)> = points.iter().filter(|(t, _)| *t >= from && *t <= to).collect();
    let inside = thin(&inside, 400);
    let mut d = String::new();
    let mut last: Option<u32> = before;
    if let Some(b) = before {
        d.push_str(&format!("M{:.1},{:.1}", x(from), y(b)));
    }
    for (t, bp) in inside {
        match last {
            None => d.push_str(&format!("M{:.1},{:.1}", x(t), y(bp))),
            Some(_) => d.push_str(&format!("H{:.1}V{:.1}", x(t), y(bp))),
        }
        last = Some(bp);
    }
    if last.is_some() {
        d.push_str(&format!("H{:.1}", x(to)));
    }
    html! {
        svg class={"chart " (class)} viewBox={"0 0 " (W) " " (H)} role="img" aria-label=(label) {
            @for g in [0u32, 2_500, 5_000, 7_500, 10_000] {
                line class="grid" x1=(L) x2=(W - R) y1=(y(g)) y2=(y(g)) {}
                text class="axis" x=(L - 6.0) y=(y(g) + 4.0) text-anchor="end" { (g / 100) "%" }
            }
            @if d.is_empty() {
                text class="axis" x=(W / 2.0) y=(H / 2.0) text-anchor="middle" { "No trades in this range yet" }
            } @else {
                path class="line" d=(d) {}
                @if let Some(l) = last {
                    line class="now" x1=(L) x2=(W - R) y1=(y(l)) y2=(y(l)) {}
                    circle class="dot" cx=(x(to)) cy=(y(l)) r="4" {}
                    text class="axis last" x=(W - R - 4.0) y=(y(l) - 8.0) text-anchor="end" { "now " (f64::from(l) / 100.0) "%" }
                }
            }
        }
    }
}

/// Keeps at most `n` points (every k-th plus the last), so a long history draws fast.
fn thin(points: &[&(i64, u32)], n: usize) -> Vec<(i64, u32)> {
    if points.len() <= n {
        return points.iter().map(|p| **p).collect();
    }
    let step = points.len().div_ceil(n);
    let mut v: Vec<(i64, u32)> = points.iter().step_by(step).map(|p| **p).collect();
    if let Some(l) = points.last() {
        v.push(**l);
    }
    v
}

/// A small trend line of the last prices (no axes), or nothing without two trades.
pub fn sparkline(prices: &[u32], label: &str) -> Markup {
    if prices.len() < 2 {
        return html! { span class="spark-none" { "–" } };
    }
    let (w, h) = (80.0, 24.0);
    let n = prices.len() as f64 - 1.0;
    let pts: String = prices
        .iter()
        .enumerate()
        .map(|(i, bp)| format!("{:.1},{:.1} ", i as f64 / n * w, 2.0 + (1.0 - f64::from(*bp) / 10_000.0) * (h - 4.0)))
        .collect();
    html! {
        svg class="spark" viewBox="0 0 80 24" width="80" height="24" role="img" aria-label=(label) {
            polyline points=(pts.trim_end()) {}
        }
    }
}

/// A horizontal bar `frac` (0..=1) of the cell wide.
pub fn bar(frac: f64, class: &str) -> Markup {
    let w = (frac.clamp(0.0, 1.0) * 100.0).round();
    html! {
        svg class={"bar " (class)} viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true" {
            rect width=(w) height="10" {}
        }
    }
}

/// A pie chart of labelled shares (each `(label, class, value)`), with its legend.
pub fn pie(slices: &[(String, &str, f64)], label: &str) -> Markup {
    let total: f64 = slices.iter().map(|s| s.2.max(0.0)).sum();
    let mut a0 = -std::f64::consts::FRAC_PI_2;
    let r = 90.0;
    let (cx, cy) = (100.0, 100.0);
    html! {
        figure class="pie" {
            svg viewBox="0 0 200 200" role="img" aria-label=(label) {
                @if total <= 0.0 {
                    circle class="empty" cx=(cx) cy=(cy) r=(r) {}
                } @else {
                    @for (_, class, v) in slices {
                        @let f = v.max(0.0) / total;
                        @if f >= 0.9999 {
                            circle class=(class) cx=(cx) cy=(cy) r=(r) {}
                        } @else if f > 0.0 {
                            @let a1 = a0 + f * std::f64::consts::TAU;
                            @let large = if f > 0.5 { 1 } else { 0 };
                            path class=(class) d=(format!(
                                "M{cx},{cy} L{:.2},{:.2} A{r},{r} 0 {large} 1 {:.2},{:.2} Z",
                                cx + r * a0.cos(), cy + r * a0.sin(), cx + r * a1.cos(), cy + r * a1.sin()
                            )) {}
                            @let () = { a0 = a1; };
                        }
                    }
                }
            }
            figcaption {
                ul class="legend" {
                    @for (name, class, v) in slices {
                        li { span class={"swatch " (class)} aria-hidden="true" {} (name) ": "
                            (if total > 0.0 { format!("{:.0}%", v.max(0.0) / total * 100.0) } else { "0%".into() }) }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_draw_what_they_are_given() {
        let c = price_chart(&[(0, 5_000), (10, 6_000)], 0, 20, "chance", "fixed").into_string();
        assert!(c.contains("<path class=\"line\""), "{c}");
        let empty = price_chart(&[], 0, 20, "chance", "fixed").into_string();
        assert!(empty.contains("No trades in this range yet"));
        assert!(sparkline(&[1, 2, 3], "t").into_string().contains("polyline"));
        assert!(!sparkline(&[1], "t").into_string().contains("polyline"));
        let p = pie(&[("a".into(), "s1", 1.0), ("b".into(), "s2", 3.0)], "pie").into_string();
        assert!(p.contains("25%") && p.contains("75%"), "{p}");
    }
}
