//! The results pages: `/` lists experiments with their headline result, and
//! `/experiments/{id}` reads like a report: recommendation, SRM and guardrail banners, users
//! per variant and per day, per metric a CI forest plot, the comparisons (users, values, lift,
//! p-values labelled always-valid for sequential experiments, chance to win, CUPED's variance
//! reduction) and the lift of each treatment day by day with its interval band (SVG), then
//! guardrails, sample-size progress and when it was computed ("2 min ago", UTC on hover). Server-rendered
//! HTML with inline CSS and SVG (no external assets: the machines have no internet); it reloads
//! itself every 30 s. Exact figures sit in `data-*` attributes beside the rounded text, so
//! tests and scrapers read the numbers of `ab.results` unchanged.
//!
//! Pages need an admin token like the API: an `Authorization: Bearer` header, or the
//! `ab_token` cookie that a visit with `?token=…` sets (then redirects to the clean URL).

use axum::extract::{Path, Query, State};
use axum::http::header::{COOKIE, LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use ab_core::experiment::{Analysis, MetricKind};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use serde_json::Value;
use std::fmt::Write;

use crate::results::{self, ComparisonSeries, Results, VariantExposures};
use crate::settings::Role;
use crate::state::AppState;
use crate::store::{self, token_digest};

#[derive(Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
}

const STYLE: &str = r#"
:root { --ink: #1d2430; --muted: #5d6775; --line: #d8dde4; --good: #1a7f37; --bad: #c2362b; --accent: #2f5fd0; --bg: #f6f7f9; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--bg); }
main { max-width: 1240px; margin: 0 auto; padding: 20px 16px 48px; }
h1 { font-size: 1.5rem; margin: 0 0 4px; } h2 { font-size: 1.1rem; margin: 28px 0 10px; }
.meta { color: var(--muted); font-size: .9rem; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 14px 16px; margin: 12px 0; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: .8rem; border: 1px solid var(--line); background: #fff; }
.badge.running { color: var(--good); border-color: var(--good); } .badge.paused { color: #a15c00; border-color: #a15c00; }
.banner { background: #fdecea; border: 1px solid var(--bad); color: var(--bad); border-radius: 10px; padding: 12px 16px; margin: 12px 0; font-weight: 600; }
.decision { font-size: 1.15rem; font-weight: 600; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; background: #fff; font-variant-numeric: tabular-nums; }
th, td { text-align: right; padding: 7px 8px; border-bottom: 1px solid var(--line); white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
td small { display: block; color: var(--muted); font-size: .78rem; } th small { font-weight: 400; text-transform: none; }
th { white-space: normal; vertical-align: bottom; font-size: .8rem; color: var(--muted); font-weight: 600; text-transform: uppercase; letter-spacing: .03em; }
.sig { color: var(--good); font-weight: 600; } .neg.sig { color: var(--bad); }
svg.forest { width: 100%; max-width: 640px; height: auto; display: block; margin-bottom: 8px; }
svg .zero { stroke: var(--muted); stroke-dasharray: 4 3; } svg .ci { stroke: var(--accent); stroke-width: 3; stroke-linecap: round; }
svg .significant .ci { stroke: var(--good); } svg .significant.negative .ci { stroke: var(--bad); }
svg text { font: 12px system-ui, sans-serif; fill: var(--ink); } svg .axis { fill: var(--muted); font-size: 10px; }
.bar { height: 12px; background: #e6e9ee; border-radius: 6px; overflow: hidden; } .bar > span { display: block; height: 100%; background: var(--accent); }
svg.series { width: 100%; max-width: 520px; height: auto; display: block; } svg .band { fill: var(--accent); opacity: .16; }
svg .interval-bar { stroke: var(--accent); stroke-opacity: .3; stroke-width: 6; stroke-linecap: round; }
svg .lift { fill: none; stroke: var(--accent); stroke-width: 2; } svg .point { fill: var(--accent); }
svg .point.significant { fill: var(--good); } svg .point.significant.negative { fill: var(--bad); }
svg.exposures { width: 100%; max-width: 720px; height: auto; display: block; } svg .baseline { stroke: var(--line); }
.series-grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(300px, 1fr)); gap: 4px 24px; margin-top: 6px; }
figure { margin: 0; } figcaption { font-size: .9rem; font-weight: 600; }
.legend span { margin-right: 14px; font-size: .85rem; } .legend i { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 5px; }
.badge.sequential { color: var(--accent); border-color: var(--accent); } td.chance { font-weight: 600; }
time[title] { text-decoration: underline dotted; cursor: help; }
.ok { color: var(--good); } .breach { color: var(--bad); font-weight: 600; }
a { color: var(--accent); }
@media (max-width: 600px) { body { font-size: 14px; } main { padding: 12px 10px 32px; } th, td { padding: 6px 6px; } }
/* On a phone each row of a wide table becomes a block of "label value" lines, so the decision
   figures (lift, interval, p, chance to win) are read, not cut off at the screen's edge. */
@media (max-width: 600px) {
  table.stack, table.stack tbody, table.stack tr, table.stack td { display: block; width: 100%; }
  table.stack tr:first-child { display: none; }
  table.stack tr { border-bottom: 2px solid var(--line); padding: 4px 0; }
  table.stack td { border: 0; padding: 3px 6px; text-align: right; white-space: normal; }
  table.stack td::before { content: attr(data-label); float: left; margin-right: 12px; color: var(--muted); font-size: .78rem; text-transform: uppercase; letter-spacing: .03em; }
}
"#;

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta http-equiv=\"refresh\" content=\"30\"><title>{}</title><style>{STYLE}</style></head>\
         <body><main>{body}</main></body></html>",
        escape(title)
    )
}

fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| pair.trim().strip_prefix("ab_token=").map(str::to_owned))
}

fn bearer_token(headers: &HeaderMap) -> Option<String> {
    headers.get("authorization")?.to_str().ok()?.strip_prefix("Bearer ").map(|t| t.trim().to_owned())
}

/// Answers the request when it is not an authorized page view: sets the cookie from
/// `?token=`, or explains how to sign in.
fn gate(state: &AppState, headers: &HeaderMap, query: &TokenQuery, path: &str) -> Option<Response> {
    let is_admin = |token: &str| state.cache.snapshot().tokens.get(&token_digest(token)) == Some(&Role::Admin);
    if let Some(token) = &query.token {
        if is_admin(token) {
            let cookie = format!("ab_token={token}; Path=/; HttpOnly; SameSite=Strict");
            return Some((StatusCode::SEE_OTHER, [(LOCATION, path.to_owned()), (SET_COOKIE, cookie)]).into_response());
        }
    } else if bearer_token(headers).or_else(|| cookie_token(headers)).is_some_and(|t| is_admin(&t)) {
        return None;
    }
    let form = format!(
        "<h1>pg_ab results</h1><div class=\"card\"><p>These pages need an admin token \
         (<code>ab-gateway token create --role admin</code>).</p>\
         <form method=\"get\" action=\"{}\"><input name=\"token\" type=\"password\" placeholder=\"pgab_admin_…\" size=\"40\"> \
         <button>Open</button></form></div>",
        escape(path)
    );
    Some((StatusCode::UNAUTHORIZED, Html(page("Sign in: pg_ab", &form))).into_response())
}

fn pct(value: Option<f64>) -> String {
    match value {
        Some(v) if v.is_finite() => format!("{:+.2}%", v * 100.0),
        Some(v) if v > 0.0 => "+∞".to_owned(),
        Some(_) => "−∞".to_owned(),
        None => "–".to_owned(),
    }
}

fn number(value: &Value) -> String {
    match value.as_f64() {
        Some(v) if v.abs() >= 1000.0 => format!("{v:.0}"),
        Some(v) if v.abs() >= 1.0 => format!("{v:.2}"),
        Some(v) => format!("{v:.4}"),
        None => "–".to_owned(),
    }
}

/// A float8 of a result row: Postgres writes its infinities (one-sided bounds) as strings.
fn float(value: &Value) -> Option<f64> {
    match value.as_str() {
        Some("Infinity") => Some(f64::INFINITY),
        Some("-Infinity") => Some(f64::NEG_INFINITY),
        _ => value.as_f64(),
    }
}

/// A bound of an interval of differences, as [`number`] shows values.
fn bound(value: f64) -> String {
    match value {
        v if v == f64::INFINITY => "+∞".to_owned(),
        v if v == f64::NEG_INFINITY => "−∞".to_owned(),
        v => number(&Value::from(v)),
    }
}

/// The exact value for a `data-*` attribute ("" when undefined, "inf"/"-inf" for infinities).
fn exact(value: &Value) -> String {
    float(value).map(|v| v.to_string()).unwrap_or_default()
}

/// One row per treatment: a point at the relative lift, its interval (Fieller's, at the row's
/// Holm level: it excludes 0 exactly when the row is significant), a zero line; significant
/// treatments in colour with a ★. An unbounded lift interval (a control mean within noise of 0)
/// is not drawn but said.
fn forest_plot(metric: &str, rows: &[&Value]) -> String {
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

/// "3 min ago": how long before `now` something happened, for people; the exact UTC time
/// goes in the `title` (shown on hover) and `datetime` of the `<time>` element.
fn human_time(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let seconds = (now - at).num_seconds().max(0);
    let ago = match seconds {
        0..=59 => "just now".to_owned(),
        60..=3_599 => format!("{} min ago", seconds / 60),
        3_600..=86_399 => format!("{} h ago", seconds / 3_600),
        _ if seconds < 2 * 86_400 => "1 day ago".to_owned(),
        _ => format!("{} days ago", seconds / 86_400),
    };
    format!("<time datetime=\"{}\" title=\"{}\">{ago}</time>", at.to_rfc3339(), at.format("%Y-%m-%d %H:%M:%S UTC"))
}

/// A timestamp of a row read as JSON (Postgres writes RFC 3339).
fn timestamp(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text).ok().map(|t| t.with_timezone(&Utc))
}

/// A UTC day of the daily series (`YYYY-MM-DD`).
fn day(text: &str) -> Option<NaiveDate> {
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

/// The relative lift of one treatment over time: each day's cumulative lift (as of that day's
/// last refresh) on a line, one point per day, and its interval as a band. The band is the
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
        let class = match (significant, lift < 0.0) {
            (true, true) => "point significant negative",
            (true, false) => "point significant",
            _ => "point",
        };
        let interval = lift_interval(p).map_or("interval unbounded".to_owned(), |(lo, hi)| format!("{} … {}", pct(Some(lo)), pct(Some(hi))));
        let _ = write!(
            svg,
            "<circle class=\"{class}\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"{radius:.1}\" data-day=\"{d}\" data-rel-lift=\"{}\" data-rel-ci-low=\"{}\" data-rel-ci-high=\"{}\" data-significant=\"{significant}\">\
             <title>{d}: {} ({interval}), {} users</title></circle>",
            axis.x(*d),
            y(lift),
            exact(&p["rel_lift"]),
            exact(&p["rel_ci_low"]),
            exact(&p["rel_ci_high"]),
            pct(Some(lift)),
            p["units_control"].as_i64().unwrap_or(0) + p["units_treatment"].as_i64().unwrap_or(0),
        );
    }
    axis.labels(&mut svg, 134.0);
    svg.push_str("</svg>");
    svg
}

/// The lift-over-time charts of a metric's treatments, on one vertical scale.
fn lift_over_time_charts(metric: &str, series: &[&ComparisonSeries]) -> String {
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
        "<p class=\"meta\">Over time: each UTC day's cumulative lift and its interval, as of that day's last refresh; \
         a point is coloured where its interval excludes 0.</p><div class=\"series-grid\">",
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
fn exposures_chart(exposures: &[VariantExposures]) -> String {
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

/// A value of a metric: a rate in percent for conversion metrics, else as [`number`].
fn value_text(kind: MetricKind, value: &Value) -> String {
    match (kind, value.as_f64()) {
        (MetricKind::Conversion, Some(rate)) => format!("{:.2}%", rate * 100.0),
        _ => number(value),
    }
}

/// A difference of a metric: percentage points for conversion metrics, else as [`bound`].
fn difference(kind: MetricKind, value: f64) -> String {
    match kind {
        MetricKind::Conversion if value.is_finite() => format!("{:+.2} pp", value * 100.0),
        _ => bound(value),
    }
}

/// An interval of differences, "–" when undefined.
fn interval_text(kind: MetricKind, low: &Value, high: &Value) -> String {
    float(low).zip(float(high)).map_or("–".to_owned(), |(low, high)| format!("{} … {}", difference(kind, low), difference(kind, high)))
}

fn experiment_page(results: &Results, now: DateTime<Utc>) -> String {
    let config = &results.experiment.config;
    let sequential = config.analysis == Analysis::Sequential;
    let mut body = String::new();
    let status = results.experiment.status.as_str();
    let computed = results.computed_at.as_deref().and_then(timestamp);
    let _ = write!(
        body,
        "<p class=\"meta\"><a href=\"/\">All experiments</a></p><h1>{}</h1>\
         <p class=\"meta\"><span class=\"badge {status}\">{status}</span> {analysis} <code>{}</code> · started {} · \
         <span id=\"computed-at\" data-computed-at=\"{}\">computed {}</span></p>",
        escape(if config.name.is_empty() { &config.id } else { &config.name }),
        escape(&config.id),
        results.experiment.started_at.map_or("–".to_owned(), |t| human_time(t, now)),
        escape(results.computed_at.as_deref().unwrap_or("")),
        computed.map_or("not yet (the first refresh runs within 30 s)".to_owned(), |t| human_time(t, now)),
        analysis = if sequential {
            "<span class=\"badge sequential\" id=\"analysis\" data-analysis=\"sequential\" title=\"Always-valid p-values and confidence sequences: \
             the verdict holds whenever it is read, so looking every day does not inflate false positives.\">sequential · safe to peek</span>"
        } else {
            "<span class=\"badge\" id=\"analysis\" data-analysis=\"fixed\" title=\"Fixed-horizon p-values and intervals: \
             decide once, at the planned sample size; deciding at an earlier look inflates false positives.\">fixed horizon</span>"
        },
    );
    if results.srm["mismatch"] == Value::Bool(true) {
        let _ = write!(
            body,
            "<div class=\"banner\" id=\"srm-banner\">Sample ratio mismatch (p = {:.2e}): exposures per variant {} do not match the weights. Do not trust these results until the assignment is fixed.</div>",
            results.srm["p_value"].as_f64().unwrap_or(0.0),
            escape(&results.srm["observed"].to_string())
        );
    }
    let breaches: Vec<String> = results
        .guardrails
        .iter()
        .filter(|g| g["significant_breach"] == Value::Bool(true))
        .map(|g| {
            format!(
                "{} moves {} by {} (tolerated: at most {})",
                escape(g["treatment_id"].as_str().unwrap_or("")),
                escape(g["metric_id"].as_str().unwrap_or("")),
                pct(g["rel_lift"].as_f64()),
                g["threshold"].as_f64().map_or("–".to_owned(), |t| format!("{:.2}%", t * 100.0)),
            )
        })
        .collect();
    if !breaches.is_empty() {
        let _ = write!(
            body,
            "<div class=\"banner\" id=\"guardrail-banner\">Guardrail breached significantly: {}. {}</div>",
            breaches.join("; "),
            if config.auto_pause { "The experiment is paused automatically." } else { "Consider pausing the experiment." }
        );
    }
    let recommendation = &results.recommendation;
    let decision = match recommendation.decision {
        "ship" => format!("Ship <strong>{}</strong>", escape(recommendation.winner.as_deref().unwrap_or(""))),
        "keep_control" => "Keep control: every treatment is worse".to_owned(),
        "do_not_trust" => "Do not decide: the experiment has a problem".to_owned(),
        _ => "No winner yet".to_owned(),
    };
    let _ = write!(
        body,
        "<div class=\"card\" id=\"recommendation\" data-decision=\"{}\"><div class=\"decision\">{decision}</div><div class=\"meta\">confidence {} on {} · {}</div></div>",
        recommendation.decision,
        recommendation.confidence.map_or("–".to_owned(), |c| format!("{:.1}%", c * 100.0)),
        escape(recommendation.primary_metric.as_deref().unwrap_or("–")),
        if recommendation.warnings.is_empty() { "no warnings".to_owned() } else { escape(&recommendation.warnings.join(", ")) },
    );

    // Variants: units and each metric's mean (conversion rate for conversion metrics).
    let _ = write!(body, "<h2>Variants</h2><div class=\"scroll\"><table id=\"variants\" class=\"stack\"><tr><th>variant</th><th>weight</th><th>users</th>");
    for metric in &config.metrics {
        let _ = write!(body, "<th>{}</th>", escape(&metric.id));
    }
    body.push_str("</tr>");
    let observed = results.srm["observed"].as_array();
    for (i, variant) in config.allocation.variants.iter().enumerate() {
        let units = observed.and_then(|o| o.get(i)).and_then(Value::as_i64).unwrap_or(0);
        let _ = write!(
            body,
            "<tr data-variant=\"{v}\"><td data-label=\"variant\">{v}{c}</td><td data-label=\"weight\">{:.0}%</td><td data-label=\"users\" data-units=\"{units}\">{units}</td>",
            variant.weight * 100.0,
            v = escape(&variant.id),
            c = if variant.is_control { " (control)" } else { "" },
        );
        for metric in &config.metrics {
            let row = results.variant_metrics.iter().find(|r| r["variant_id"] == variant.id.as_str() && r["metric_id"] == metric.id.as_str());
            let mean = row.map_or(Value::Null, |r| r["mean"].clone());
            let _ = write!(body, "<td data-label=\"{m}\" data-metric=\"{m}\" data-mean=\"{}\">{}</td>", exact(&mean), value_text(metric.kind, &mean), m = escape(&metric.id));
        }
        body.push_str("</tr>");
    }
    body.push_str("</table></div>");
    let srm_note = match results.srm["p_value"].as_f64() {
        Some(p) if results.srm["mismatch"] == Value::Bool(true) => format!("sample ratio: mismatch, p = {p:.2e}"),
        Some(p) => format!("sample ratio: as weighted (χ² p = {p:.3})"),
        None => "sample ratio: not checked yet".to_owned(),
    };
    let _ = write!(body, "<h2>Users exposed per day</h2><div class=\"card\">{}<p class=\"meta\">{srm_note}</p></div>", exposures_chart(&results.exposures_daily));

    let (p_header, interval_words) = if sequential {
        ("always-valid p", "always-valid intervals (confidence sequences), safe to peek")
    } else {
        ("p", "fixed-horizon intervals")
    };
    for metric in &config.metrics {
        let rows: Vec<&Value> = results.comparisons.iter().filter(|r| r["metric_id"] == metric.id.as_str()).collect();
        let kind = match metric.kind {
            MetricKind::Conversion => "conversion",
            MetricKind::Continuous => "continuous",
        };
        let _ = write!(
            body,
            "<h2>{} <span class=\"meta\">({kind}, relative lift vs control; {interval_words} at each comparison's Holm level, ★ where they exclude 0)</span></h2><div class=\"card\" data-metric=\"{}\">",
            escape(&metric.id),
            escape(&metric.id)
        );
        if rows.is_empty() {
            body.push_str("<p class=\"meta\">No data yet.</p></div>");
            continue;
        }
        body.push_str(&forest_plot(&metric.id, &rows));
        let _ = write!(body, "<div class=\"scroll\"><table class=\"comparisons stack\"><tr><th>treatment</th><th>users <small>c / t</small></th><th>control</th><th>treatment</th><th>diff <small>interval</small></th><th>lift <small>interval</small></th><th>level</th><th>{p_header}</th><th>Holm {p_header}</th><th>chance to win</th></tr>");
        for row in &rows {
            let significant = row["significant"] == Value::Bool(true);
            let negative = row["diff"].as_f64().is_some_and(|d| d < 0.0);
            let _ = write!(
                body,
                "<tr class=\"{cls}\" data-metric=\"{m}\" data-treatment=\"{t}\" data-diff=\"{d}\" data-p-value=\"{p}\" data-holm-p-value=\"{hp}\" data-significant=\"{significant}\" \
                 data-ci-low=\"{cl}\" data-ci-high=\"{ch}\" data-rel-ci-low=\"{rcl}\" data-rel-ci-high=\"{rch}\" data-interval-level=\"{lv}\" data-analysis=\"{an}\" data-chance-to-win=\"{cw}\">\
                 <td data-label=\"treatment\">{t}{star}</td><td data-label=\"users c / t\">{uc} / {ut}</td><td data-label=\"control\">{cv}</td><td data-label=\"treatment\">{tv}</td>\
                 <td data-label=\"diff\">{dn}<small>{diff_interval}</small></td><td data-label=\"lift\">{lift}<small>{lift_interval}</small></td><td data-label=\"level\">{level}</td>\
                 <td data-label=\"{p_header}\">{pn}</td><td data-label=\"Holm {p_header}\">{hpn}</td><td class=\"chance\" data-label=\"chance to win\">{cwn}</td>",
                cls = if significant { if negative { "neg sig" } else { "sig" } } else { "" },
                m = escape(&metric.id),
                t = escape(row["treatment_id"].as_str().unwrap_or("")),
                star = if significant { " ★" } else { "" },
                d = exact(&row["diff"]),
                p = exact(&row["p_value"]),
                hp = exact(&row["holm_p_value"]),
                uc = row["units_control"].as_i64().unwrap_or(0),
                ut = row["units_treatment"].as_i64().unwrap_or(0),
                cv = value_text(metric.kind, &row["control_value"]),
                tv = value_text(metric.kind, &row["treatment_value"]),
                dn = float(&row["diff"]).map_or("–".to_owned(), |d| difference(metric.kind, d)),
                lift = pct(row["rel_lift"].as_f64()),
                cl = exact(&row["ci_low"]),
                ch = exact(&row["ci_high"]),
                rcl = exact(&row["rel_ci_low"]),
                rch = exact(&row["rel_ci_high"]),
                lv = exact(&row["interval_level"]),
                an = escape(row["analysis"].as_str().unwrap_or("")),
                cw = exact(&row["chance_to_win"]),
                diff_interval = interval_text(metric.kind, &row["ci_low"], &row["ci_high"]),
                lift_interval = match float(&row["rel_ci_low"]).zip(float(&row["rel_ci_high"])) {
                    Some((low, high)) => format!("{} … {}", pct(Some(low)), pct(Some(high))),
                    None if row["ci_low"].is_null() => "–".to_owned(),
                    None => "unbounded".to_owned(),
                },
                level = row["interval_level"].as_f64().map_or("–".to_owned(), |l| format!("{:.2}%", l * 100.0)),
                pn = row["p_value"].as_f64().map_or("–".to_owned(), |p| format!("{p:.4}")),
                hpn = row["holm_p_value"].as_f64().map_or("–".to_owned(), |p| format!("{p:.4}")),
                cwn = row["chance_to_win"].as_f64().map_or("–".to_owned(), |c| format!("{:.1}%", c * 100.0)),
            );
            body.push_str("</tr>");
        }
        body.push_str("</table></div>");
        if let Some(days) = metric.covariate_days {
            // A separate estimate beside the verdict: its variance reduction says how much the covariate helped.
            let estimates: Vec<String> = rows
                .iter()
                .map(|row| {
                    format!(
                        "<span data-treatment=\"{t}\" data-variance-reduction=\"{}\">{t}: diff {} ({}), variance reduced by {}</span>",
                        exact(&row["cuped_variance_reduction"]),
                        number(&row["cuped_diff"]),
                        interval_text(metric.kind, &row["cuped_ci_low"], &row["cuped_ci_high"]),
                        row["cuped_variance_reduction"].as_f64().map_or("–".to_owned(), |r| format!("{:.1}%", r * 100.0)),
                        t = escape(row["treatment_id"].as_str().unwrap_or("")),
                    )
                })
                .collect();
            let _ = write!(
                body,
                "<p class=\"meta cuped\">CUPED, with the same metric over the {days} days before exposure as covariate: {}. \
                 A separate estimate, shown beside the verdict and not used for it.</p>",
                estimates.join("; ")
            );
        }
        let series: Vec<&ComparisonSeries> = results.daily.iter().filter(|s| s.metric_id == metric.id).collect();
        body.push_str(&lift_over_time_charts(&metric.id, &series));
        body.push_str("</div>");
    }

    if !results.guardrails.is_empty() {
        body.push_str("<h2>Guardrails</h2><div class=\"card\" id=\"guardrails\"><ul>");
        for g in &results.guardrails {
            let status = match (g["significant_breach"].as_bool(), g["breached"].as_bool()) {
                (Some(true), _) => "<span class=\"breach\">breached (significant)</span>",
                (_, Some(true)) => "<span class=\"breach\">past the threshold, not significant yet</span>",
                _ => "<span class=\"ok\">ok</span>",
            };
            let _ = write!(
                body,
                "<li data-metric=\"{}\" data-treatment=\"{}\" data-breach=\"{}\">{} on {}: {} (tolerated: a {} of at most {}) — {status}</li>",
                escape(g["metric_id"].as_str().unwrap_or("")),
                escape(g["treatment_id"].as_str().unwrap_or("")),
                g["significant_breach"].as_bool().unwrap_or(false),
                escape(g["treatment_id"].as_str().unwrap_or("")),
                escape(g["metric_id"].as_str().unwrap_or("")),
                pct(g["rel_lift"].as_f64()),
                escape(g["bad_direction"].as_str().unwrap_or("")),
                g["threshold"].as_f64().map_or("–".to_owned(), |t| format!("{:.2}%", t * 100.0)),
            );
        }
        body.push_str("</ul></div>");
    }

    if let Some(required) = results.sample_size["required_per_variant"].as_i64() {
        let progress = results.sample_size["progress"].as_f64().unwrap_or(0.0);
        let days_left = match results.sample_size["days_left"].as_i64() {
            Some(0) => "planned size reached".to_owned(),
            Some(d) => format!("about {d} more day{} at the rate so far", if d == 1 { "" } else { "s" }),
            None => "days left unknown until users arrive".to_owned(),
        };
        let running = results.sample_size["days_running"].as_f64().map_or(String::new(), |d| format!(" · running {d:.1} days"));
        let _ = write!(
            body,
            "<h2>Sample size</h2><div class=\"card\" id=\"sample-size\" data-progress=\"{progress}\"><div class=\"bar\"><span style=\"width:{:.1}%\"></span></div>\
             <p class=\"meta\">{} of {required} users in the smallest arm ({:.0}%) · {days_left}{running}</p>{}</div>",
            progress * 100.0,
            results.sample_size["units_smallest_arm"].as_i64().unwrap_or(0),
            progress * 100.0,
            if sequential {
                "<p class=\"meta\">Sequential analysis: a significant result may be acted on at whichever look it appears. The planned size comes from a fixed-horizon calculation; always-valid intervals are wider, so the same effect can need more users to show.</p>"
            } else {
                "<p class=\"meta\">Fixed horizon: read the verdict once the planned size is reached.</p>"
            },
        );
    }
    page(&format!("{}: pg_ab", config.id), &body)
}

pub async fn experiment(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<TokenQuery>,
    headers: HeaderMap,
) -> Response {
    if let Some(response) = gate(&state, &headers, &query, &format!("/experiments/{id}")) {
        return response;
    }
    let loaded = async {
        let client = state.pool.get().await?;
        results::load(&**client, &id).await
    };
    match loaded.await {
        Ok(results) => Html(experiment_page(&results, Utc::now())).into_response(),
        Err(error) => (error.status, Html(page("pg_ab", &format!("<h1>{}</h1><p>{}</p>", error.status, escape(&error.message))))).into_response(),
    }
}

pub async fn index(State(state): State<AppState>, Query(query): Query<TokenQuery>, headers: HeaderMap) -> Response {
    if let Some(response) = gate(&state, &headers, &query, "/") {
        return response;
    }
    let loaded = async {
        let client = state.pool.get().await?;
        let mut rows = Vec::new();
        for experiment in store::list(&**client).await? {
            rows.push(results::load(&**client, &experiment.config.id).await?);
        }
        Ok::<_, crate::error::ApiError>(rows)
    };
    let all = match loaded.await {
        Ok(all) => all,
        Err(error) => return (error.status, Html(page("pg_ab", &escape(&error.message)))).into_response(),
    };
    let mut body = String::from("<h1>Experiments</h1><div class=\"scroll\"><table id=\"experiments\"><tr><th>experiment</th><th>status</th><th>headline</th><th>decision</th></tr>");
    for results in &all {
        let config = &results.experiment.config;
        let primary = results.recommendation.primary_metric.as_deref();
        let best = results
            .comparisons
            .iter()
            .filter(|r| r["metric_id"].as_str() == primary)
            .min_by(|a, b| a["holm_p_value"].as_f64().unwrap_or(1.0).total_cmp(&b["holm_p_value"].as_f64().unwrap_or(1.0)));
        let headline = best.map_or("–".to_owned(), |r| {
            format!("{} {} on {}{}", escape(r["treatment_id"].as_str().unwrap_or("")), pct(r["rel_lift"].as_f64()),
                escape(primary.unwrap_or("")), if r["significant"] == Value::Bool(true) { " ★" } else { "" })
        });
        let status = results.experiment.status.as_str();
        let _ = write!(
            body,
            "<tr data-experiment=\"{id}\"><td><a href=\"/experiments/{id}\">{name}</a></td><td><span class=\"badge {status}\">{status}</span></td><td>{headline}</td><td>{}</td></tr>",
            results.recommendation.decision.replace('_', " "),
            id = escape(&config.id),
            name = escape(if config.name.is_empty() { &config.id } else { &config.name }),
        );
    }
    body.push_str("</table></div>");
    Html(page("Experiments: pg_ab", &body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_as_how_long_ago_with_the_utc_time_on_hover() {
        let now = timestamp("2026-11-29T12:00:00+00:00").unwrap();
        let ago = |text: &str| human_time(timestamp(text).unwrap(), now);
        assert_eq!(
            ago("2026-11-29T11:59:30Z"),
            "<time datetime=\"2026-11-29T11:59:30+00:00\" title=\"2026-11-29 11:59:30 UTC\">just now</time>"
        );
        assert!(ago("2026-11-29T13:58:00+02:00").ends_with(">2 min ago</time>"), "offsets are read");
        assert!(ago("2026-11-29T09:00:00Z").ends_with(">3 h ago</time>"));
        assert!(ago("2026-11-28T11:00:00Z").ends_with(">1 day ago</time>"));
        assert!(ago("2026-11-19T12:00:00Z").ends_with(">10 days ago</time>"));
    }

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
