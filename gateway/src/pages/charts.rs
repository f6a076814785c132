//! The results pages' charts, as inline SVG: the forest plot of a metric's treatments, the
//! lift of each treatment over time with its interval, and users first exposed per day.

use chrono::NaiveDate;
use serde_json::Value;
use std::fmt::Write;

use super::layout::{escape, exact, float, pct};
use crate::results::{ComparisonSeries, VariantExposures};

/// One row per treatment: a point at the relative lift, its interval (Fieller's, at the row's
/// Holm level: it excludes 0 exactly when the row is significant), a zero line; significant
/// treatments in colour with a ★. An unbounded lift interval (a control mean within noise of 0)
/// is not drawn but said.
pub(super) fn forest_plot(metric: &str, rows: &[&Value]) -> String {
    let finite = |v: &Value| v.as_f64().filter(|x| x.is_finite());
    let extent = rows
        .iter()
        .flat_map(|r| [float(&r["rel_ci_low"]), float(&r["rel_ci_high"]), finite(&r["rel_lift"])])
        .filter_map(|v| v.filter(|x| x.is_finite()))
        .fold(0.01_f64, |m, v| m.max(v.abs()))
        * 1.1;
    let (left, width, row_height) = (80.0, 290.0, 30.0);
    let x = |v: f64| left + (v.clamp(-extent, extent) + extent) / (2.0 * extent) * width;
    let height = 30.0 + row_height * rows.len() as f64;
    let mut svg = format!(
        "<svg class=\"forest\" viewBox=\"0 0 {} {height}\" role=\"img\" aria-label=\"Relative lift of each treatment on {}, with confidence intervals\" data-metric=\"{}\">",
        left + width + 80.0,
        escape(metric),
        escape(metric)
    );
    let _ = write!(svg, "<line class=\"zero\" x1=\"{0}\" x2=\"{0}\" y1=\"4\" y2=\"{1}\"/>", x(0.0), height - 18.0);
    for (label, value) in [(pct(Some(-extent)), -extent), ("0".to_owned(), 0.0), (pct(Some(extent)), extent)] {
        let _ = write!(svg, "<text class=\"axis\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{label}</text>", x(value), height - 4.0);
    }
    for (i, row) in rows.iter().enumerate() {
        let y = 20.0 + row_height * i as f64;
        let significant = row["significant"] == Value::Bool(true);
        let negative = row["diff"].as_f64().is_some_and(|d| d < 0.0);
        let class = match (significant, negative) {
            (true, true) => "interval significant negative",
            (true, false) => "interval significant",
            _ => "interval",
        };
        let lift = row["rel_lift"].as_f64();
        let interval = float(&row["rel_ci_low"]).zip(float(&row["rel_ci_high"]));
        let line = match interval {
            Some((low, high)) => format!("<line class=\"ci\" x1=\"{}\" x2=\"{}\" y1=\"{y}\" y2=\"{y}\"/>", x(low), x(high)),
            None => format!("<text class=\"axis unbounded\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">interval unbounded</text>", x(0.0), y - 8.0),
        };
        let _ = write!(
            svg,
            "<g class=\"{class}\" data-treatment=\"{t}\" data-rel-lift=\"{rl}\" data-rel-ci-low=\"{lo}\" data-rel-ci-high=\"{hi}\">\
             <text x=\"0\" y=\"{ty}\">{t}{star}</text>{line}\
             <circle cx=\"{cx}\" cy=\"{y}\" r=\"5\" fill=\"currentColor\"/>\
             <text x=\"{lx}\" y=\"{ty}\">{lift_text}</text></g>",
            t = escape(row["treatment_id"].as_str().unwrap_or("")),
            star = if significant { " ★" } else { "" },
            rl = exact(&row["rel_lift"]),
            lo = exact(&row["rel_ci_low"]),
            hi = exact(&row["rel_ci_high"]),
            ty = y + 4.0,
            cx = x(lift.unwrap_or(0.0)),
            lx = left + width + 12.0,
            lift_text = pct(lift),
        );
    }
    svg.push_str("</svg>");
    svg
}

/// A UTC day of the daily series (`YYYY-MM-DD`).
pub(super) fn day(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
}

/// The horizontal axis of the charts over time: one position per UTC day, first to last.
struct DayAxis {
    first: NaiveDate,
    last: NaiveDate,
    left: f64,
    width: f64,
}

impl DayAxis {
    fn new(days: impl IntoIterator<Item = NaiveDate>, left: f64, width: f64) -> Option<Self> {
        let (first, last) = days.into_iter().fold(None, |range: Option<(NaiveDate, NaiveDate)>, d| {
            Some(range.map_or((d, d), |(lo, hi)| (lo.min(d), hi.max(d))))
        })?;
        Some(Self { first, last, left, width })
    }

    fn days(&self) -> i64 {
        (self.last - self.first).num_days() + 1
    }

    /// The centre of `day`'s slot.
    fn x(&self, day: NaiveDate) -> f64 {
        self.left + ((day - self.first).num_days() as f64 + 0.5) / self.days() as f64 * self.width
    }

    /// Day labels under the axis: at most seven, evenly spaced, the first day's always.
    fn labels(&self, svg: &mut String, y: f64) {
        let step = (self.days() + 6) / 7;
        for day in self.first.iter_days().take(self.days() as usize).step_by(step as usize) {
            let _ = write!(svg, "<text class=\"axis\" x=\"{}\" y=\"{y}\" text-anchor=\"middle\">{}</text>", self.x(day), day.format("%b %-d"));
        }
    }
}

/// The least vertical distance between two axis labels (10-unit text) of a chart over time.
const AXIS_LABEL_GAP: f64 = 12.0;

/// A point's relative interval, when bounded.
fn lift_interval(point: &Value) -> Option<(f64, f64)> {
    float(&point["rel_ci_low"]).zip(float(&point["rel_ci_high"])).filter(|(low, high)| low.is_finite() && high.is_finite())
}

/// The relative lift of one treatment over time: each day's cumulative lift (of the users first
/// exposed by the end of that day) on a line, one point per day of data, and its interval as a
/// band. A day not yet settled (ab.results_daily.settled: today, still growing) is a hollow
/// point labelled "so far". The band is the
/// interval the table and the forest plot show for that day, so a point is coloured (significant)
/// exactly where its band excludes 0. `range` is the metric's, shared by its treatments' charts.
fn lift_over_time(metric: &str, series: &ComparisonSeries, axis: &DayAxis, range: (f64, f64)) -> String {
    let (top, height) = (8.0, 104.0);
    let (low, high) = range;
    let y = |v: f64| top + (high - v.clamp(low, high)) / (high - low) * height;
    let right = axis.left + axis.width;
    let mut svg = format!(
        "<svg class=\"series\" viewBox=\"0 0 {} 140\" role=\"img\" aria-label=\"Relative lift of {t} on {m} per day, with its interval\" data-metric=\"{m}\" data-treatment=\"{t}\">",
        right + 8.0,
        m = escape(metric),
        t = escape(&series.treatment_id),
    );
    // A band over each run of days whose interval is bounded: along the upper bounds and back
    // along the lower ones; a lone day (a series of one day, or a day between unbounded ones)
    // gets its interval as a bar, as the forest plot draws it, not a box half a slot wide.
    let points: Vec<(NaiveDate, &Value)> = series.points.iter().filter_map(|p| Some((day(p["day"].as_str()?)?, p))).collect();
    for run in points.split(|(_, p)| lift_interval(p).is_none()).filter(|run| !run.is_empty()) {
        let corner = |(d, p): &(NaiveDate, &Value), upper: bool| {
            let (lo, hi) = lift_interval(p).expect("bounded within a run");
            format!("{:.1},{:.1}", axis.x(*d), y(if upper { hi } else { lo }))
        };
        if let [(d, p)] = run {
            let (lo, hi) = lift_interval(p).expect("bounded within a run");
            let _ = write!(svg, "<line class=\"interval-bar\" x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{:.1}\" y2=\"{:.1}\"/>", y(hi), y(lo), x = axis.x(*d));
            continue;
        }
        let outline: Vec<String> = run.iter().map(|p| corner(p, true)).chain(run.iter().rev().map(|p| corner(p, false))).collect();
        let _ = write!(svg, "<polygon class=\"band\" points=\"{}\"/>", outline.join(" "));
    }
    let _ = write!(svg, "<line class=\"zero\" x1=\"{}\" x2=\"{right}\" y1=\"{y0}\" y2=\"{y0}\"/>", axis.left, y0 = y(0.0));
    // 0, and each end of the range far enough from it that the labels do not overlap.
    let ends = [high, low].into_iter().filter(|v| (y(*v) - y(0.0)).abs() >= AXIS_LABEL_GAP);
    for value in ends.chain([0.0]) {
        let _ = write!(svg, "<text class=\"axis\" x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>", axis.left - 4.0, y(value) + 3.0, pct(Some(value)));
    }
    // Points shrink to fit their day's slot when there are many days (90 days: 3.3 units each).
    let radius = (axis.width / axis.days() as f64 * 0.4).clamp(1.2, 3.5);
    let line: Vec<String> =
        points.iter().filter_map(|(d, p)| Some(format!("{:.1},{:.1}", axis.x(*d), y(p["rel_lift"].as_f64()?)))).collect();
    let _ = write!(svg, "<polyline class=\"lift\" points=\"{}\"/>", line.join(" "));
    for (d, p) in &points {
        let Some(lift) = p["rel_lift"].as_f64() else { continue };
        let significant = p["significant"] == Value::Bool(true);
        let settled = p["settled"] != Value::Bool(false);
        let class = match (significant, lift < 0.0) {
            (true, true) => "point significant negative",
            (true, false) => "point significant",
            _ => "point",
        };
        let (class, so_far) = if settled { (class.to_owned(), "") } else { (format!("{class} unsettled"), " so far (the day is not over)") };
        let interval = lift_interval(p).map_or("interval unbounded".to_owned(), |(lo, hi)| format!("{} … {}", pct(Some(lo)), pct(Some(hi))));
        let (cx, cy) = (axis.x(*d), y(lift));
        let _ = write!(
            svg,
            "<circle class=\"{class}\" cx=\"{cx:.1}\" cy=\"{cy:.1}\" r=\"{radius:.1}\" data-day=\"{d}\" data-rel-lift=\"{}\" data-rel-ci-low=\"{}\" data-rel-ci-high=\"{}\" data-significant=\"{significant}\" data-settled=\"{settled}\">\
             <title>{d}{so_far}: {} ({interval}), {} users</title></circle>",
            exact(&p["rel_lift"]),
            exact(&p["rel_ci_low"]),
            exact(&p["rel_ci_high"]),
            pct(Some(lift)),
            p["units_control"].as_i64().unwrap_or(0) + p["units_treatment"].as_i64().unwrap_or(0),
        );
        if !settled {
            // Above the point, ending at it: the last day is at the chart's right edge.
            let _ = write!(svg, "<text class=\"unsettled-label\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">so far</text>", cx + radius, (cy - radius - 4.0).max(10.0));
        }
    }
    axis.labels(&mut svg, 134.0);
    svg.push_str("</svg>");
    svg
}

/// The lift-over-time charts of a metric's treatments, on one vertical scale.
pub(super) fn lift_over_time_charts(metric: &str, series: &[&ComparisonSeries]) -> String {
    let points = || series.iter().flat_map(|s| s.points.iter());
    let Some(axis) = DayAxis::new(points().filter_map(|p| day(p["day"].as_str()?)), 52.0, 300.0) else {
        return String::new();
    };
    let (low, high) = points()
        .flat_map(|p| [float(&p["rel_ci_low"]), float(&p["rel_ci_high"]), float(&p["rel_lift"])])
        .filter_map(|v| v.filter(|x| x.is_finite()))
        .fold((0.0_f64, 0.0_f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let pad = ((high - low) * 0.08).max(0.005);
    let mut html = String::from(
        "<p class=\"meta\">Over time: each UTC day's lift and its interval over the users first exposed by the end of that day; \
         a point is coloured where its interval excludes 0, and hollow while its day is not over (figures so far).</p><div class=\"series-grid\">",
    );
    for s in series {
        let _ = write!(
            html,
            "<figure><figcaption>{} vs control</figcaption>{}</figure>",
            escape(&s.treatment_id),
            lift_over_time(metric, s, &axis, (low - pad, high + pad))
        );
    }
    html.push_str("</div>");
    html
}

const VARIANT_COLOURS: [&str; 6] = ["#5d6775", "#2f5fd0", "#e07b00", "#8e44ad", "#00838f", "#b0306f"];

/// Users first exposed per UTC day: a bar per variant and day, in the colours of the legend.
pub(super) fn exposures_chart(exposures: &[VariantExposures]) -> String {
    let days = || exposures.iter().flat_map(|v| v.days.iter());
    let Some(axis) = DayAxis::new(days().filter_map(|d| day(&d.day)), 40.0, 580.0) else {
        return "<p class=\"meta\">No exposures yet.</p>".to_owned();
    };
    let most = days().map(|d| d.units).max().unwrap_or(1).max(1) as f64;
    let (top, height) = (8.0, 90.0);
    let slot = axis.width / axis.days() as f64;
    let bar = slot * 0.8 / exposures.len().max(1) as f64;
    let mut svg = format!(
        "<svg class=\"exposures\" id=\"exposures-daily\" viewBox=\"0 0 {} 124\" role=\"img\" aria-label=\"Users first exposed per day and variant\">",
        axis.left + axis.width + 8.0
    );
    for (label, value) in [(most, top), (0.0, top + height)] {
        let _ = write!(svg, "<text class=\"axis\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{label:.0}</text>", axis.left - 4.0, value + 3.0);
    }
    for (i, variant) in exposures.iter().enumerate() {
        for d in &variant.days {
            let Some(day) = day(&d.day) else { continue };
            let h = d.units as f64 / most * height;
            let _ = write!(
                svg,
                "<rect class=\"exposure\" x=\"{:.1}\" y=\"{:.1}\" width=\"{bar:.1}\" height=\"{h:.1}\" fill=\"{}\" data-variant=\"{v}\" data-day=\"{day}\" data-units=\"{u}\"><title>{v}, {day}: {u} users</title></rect>",
                axis.x(day) - slot * 0.4 + bar * i as f64,
                top + height - h,
                VARIANT_COLOURS[i % VARIANT_COLOURS.len()],
                v = escape(&variant.variant_id),
                u = d.units,
            );
        }
    }
    let _ = write!(svg, "<line class=\"baseline\" x1=\"{}\" x2=\"{}\" y1=\"{y}\" y2=\"{y}\"/>", axis.left, axis.left + axis.width, y = top + height);
    axis.labels(&mut svg, 118.0);
    svg.push_str("</svg><p class=\"legend\">");
    for (i, variant) in exposures.iter().enumerate() {
        let _ = write!(
            svg,
            "<span><i style=\"background:{}\"></i>{}</span>",
            VARIANT_COLOURS[i % VARIANT_COLOURS.len()],
            escape(&variant.variant_id)
        );
    }
    svg.push_str("</p>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lift_over_time_has_a_point_per_day_and_a_band_where_the_interval_is_bounded() {
        let points = vec![
            serde_json::json!({"day": "2026-11-01", "rel_lift": 0.1, "rel_ci_low": -0.1, "rel_ci_high": 0.3, "significant": false}),
            serde_json::json!({"day": "2026-11-02", "rel_lift": 0.2, "rel_ci_low": null, "rel_ci_high": null, "significant": false}),
            serde_json::json!({"day": "2026-11-04", "rel_lift": 0.2, "rel_ci_low": 0.05, "rel_ci_high": 0.35, "significant": true}),
        ];
        let series = ComparisonSeries { metric_id: "m".to_owned(), treatment_id: "b".to_owned(), points };
        let svg = lift_over_time_charts("m", &[&series]);
        assert_eq!(svg.matches("<circle class=\"point").count(), 3);
        assert_eq!(svg.matches("<circle class=\"point significant\"").count(), 1);
        // Two bounded runs, one day each (the unbounded day breaks the band): each a bar.
        assert_eq!(svg.matches("<line class=\"interval-bar\"").count(), 2);
        assert_eq!(svg.matches("<polygon class=\"band\"").count(), 0);
        for label in ["Nov 1", "Nov 2", "Nov 3", "Nov 4", "+0.00%"] {
            assert!(svg.contains(&format!(">{label}</text>")), "{label}: {svg}");
        }
        assert!(svg.contains(">+38.60%</text>") && svg.contains(">-13.60%</text>"), "the range with 8% of room: {svg}");
        assert!(!svg.contains("unsettled"), "points without `settled` are settled: {svg}");
    }

    /// Issue 32: the point of a day not yet over is hollow and labelled, the others are not.
    #[test]
    fn a_day_not_yet_settled_is_a_hollow_point_labelled_so_far() {
        let mut two = series(2, 0.02, 0.01);
        two.points[0]["settled"] = Value::Bool(true);
        two.points[1]["settled"] = Value::Bool(false);
        let svg = lift_over_time_charts("m", &[&two]);
        assert_eq!(svg.matches("<circle class=\"point").count(), 2);
        assert_eq!(svg.matches(" unsettled\"").count(), 1, "{svg}");
        let unsettled = &svg[svg.find(" unsettled\"").unwrap()..];
        assert!(unsettled.contains("data-day=\"2026-11-02\"") && unsettled.contains("data-settled=\"false\""), "{svg}");
        assert!(unsettled.contains("<title>2026-11-02 so far (the day is not over): "), "{svg}");
        assert_eq!(svg.matches("<text class=\"unsettled-label\"").count(), 1);
        assert!(svg.contains(">so far</text>"), "{svg}");
        assert!(svg.contains("data-day=\"2026-11-01\" data-rel-lift") && svg.matches("data-settled=\"true\"").count() == 1, "{svg}");
    }

    /// A series of `days` consecutive days from 2026-11-01, the lift drifting around `lift`.
    fn series(days: usize, lift: f64, half_width: f64) -> ComparisonSeries {
        let first = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
        let points = (0..days)
            .map(|i| {
                let l = lift + 0.001 * (i % 5) as f64;
                serde_json::json!({"day": (first + chrono::Days::new(i as u64)).to_string(), "rel_lift": l,
                                   "rel_ci_low": l - half_width, "rel_ci_high": l + half_width, "significant": l - half_width > 0.0})
            })
            .collect();
        ComparisonSeries { metric_id: "m".to_owned(), treatment_id: "b".to_owned(), points }
    }

    /// The (y, text) of the vertical axis' labels and the texts of the horizontal axis' labels.
    fn axis_labels(svg: &str) -> (Vec<(f64, String)>, Vec<String>) {
        let (mut vertical, mut horizontal) = (Vec::new(), Vec::new());
        for (at, _) in svg.match_indices("<text class=\"axis\"") {
            let tag = &svg[at..];
            let text = tag[tag.find('>').unwrap() + 1..tag.find("</text>").unwrap()].to_owned();
            if tag[..tag.find('>').unwrap()].contains("text-anchor=\"end\"") {
                let y = tag[tag.find(" y=\"").unwrap() + 4..].split('"').next().unwrap().parse().unwrap();
                vertical.push((y, text));
            } else {
                horizontal.push(text);
            }
        }
        (vertical, horizontal)
    }

    fn assert_labels_apart(vertical: &[(f64, String)], svg: &str) {
        for (i, (a, text_a)) in vertical.iter().enumerate() {
            for (b, text_b) in &vertical[i + 1..] {
                assert!((a - b).abs() >= AXIS_LABEL_GAP, "{text_a} at {a} overlaps {text_b} at {b}: {svg}");
            }
        }
    }

    /// Issue 32: one day drew a box around its dot and two labels over each other ("+0.00%"
    /// over "-0.62%"); two days and ninety must read as well.
    #[test]
    fn the_lift_over_time_reads_right_with_one_two_and_ninety_days() {
        // One day, its interval above 0: the range's lower end is then a few units below 0's.
        let one = series(1, 0.03, 0.02);
        let svg = lift_over_time_charts("m", &[&one]);
        assert_eq!(svg.matches("<polygon").count(), 0, "no box around a lone day: {svg}");
        assert_eq!(svg.matches("<line class=\"interval-bar\"").count(), 1, "{svg}");
        assert_eq!(svg.matches("<circle class=\"point").count(), 1);
        let (vertical, horizontal) = axis_labels(&svg);
        assert_eq!(horizontal, ["Nov 1"]);
        assert!(vertical.iter().any(|(_, t)| t == "+0.00%"), "{svg}");
        assert_labels_apart(&vertical, &svg);

        let two = series(2, 0.02, 0.01);
        let svg = lift_over_time_charts("m", &[&two]);
        assert_eq!(svg.matches("<polygon class=\"band\"").count(), 1);
        assert_eq!(svg.matches("<circle class=\"point").count(), 2);
        let (vertical, horizontal) = axis_labels(&svg);
        assert_eq!(horizontal, ["Nov 1", "Nov 2"]);
        assert_labels_apart(&vertical, &svg);

        let ninety = series(90, 0.05, 0.02);
        let svg = lift_over_time_charts("m", &[&ninety]);
        assert_eq!(svg.matches("<circle class=\"point").count(), 90);
        let (vertical, horizontal) = axis_labels(&svg);
        assert!(horizontal.len() <= 7 && horizontal[0] == "Nov 1", "{horizontal:?}");
        assert_labels_apart(&vertical, &svg);
        // Points fit their day's slot (300 units over 90 days) instead of covering each other.
        let radius: f64 = svg[svg.find(" r=\"").unwrap() + 4..].split('"').next().unwrap().parse().unwrap();
        assert!(2.0 * radius <= 300.0 / 90.0, "r = {radius}");
    }
}
