//! The results pages' layout: the page shell with its inline CSS (no external assets: the
//! machines have no internet), escaping, and how figures are written (rounded for people,
//! exact in `data-*` attributes).

use serde_json::Value;

pub(super) const STYLE: &str = r#"
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
svg .point.unsettled { fill: #fff; stroke: var(--accent); stroke-width: 1.5; } svg .point.unsettled.significant { stroke: var(--good); }
svg .point.unsettled.significant.negative { stroke: var(--bad); } svg .unsettled-label { fill: var(--muted); font-size: 10px; }
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

pub(super) fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

pub(super) fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta http-equiv=\"refresh\" content=\"30\"><title>{}</title><style>{STYLE}</style></head>\
         <body><main>{body}</main></body></html>",
        escape(title)
    )
}

pub(super) fn pct(value: Option<f64>) -> String {
    match value {
        Some(v) if v.is_finite() => format!("{:+.2}%", v * 100.0),
        Some(v) if v > 0.0 => "+∞".to_owned(),
        Some(_) => "−∞".to_owned(),
        None => "–".to_owned(),
    }
}

pub(super) fn number(value: &Value) -> String {
    match value.as_f64() {
        Some(v) if v.abs() >= 1000.0 => format!("{v:.0}"),
        Some(v) if v.abs() >= 1.0 => format!("{v:.2}"),
        Some(v) => format!("{v:.4}"),
        None => "–".to_owned(),
    }
}

/// A float8 of a result row: Postgres writes its infinities (one-sided bounds) as strings.
pub(super) fn float(value: &Value) -> Option<f64> {
    match value.as_str() {
        Some("Infinity") => Some(f64::INFINITY),
        Some("-Infinity") => Some(f64::NEG_INFINITY),
        _ => value.as_f64(),
    }
}

/// A bound of an interval of differences, as [`number`] shows values.
pub(super) fn bound(value: f64) -> String {
    match value {
        v if v == f64::INFINITY => "+∞".to_owned(),
        v if v == f64::NEG_INFINITY => "−∞".to_owned(),
        v => number(&Value::from(v)),
    }
}

/// The exact value for a `data-*` attribute ("" when undefined, "inf"/"-inf" for infinities).
pub(super) fn exact(value: &Value) -> String {
    float(value).map(|v| v.to_string()).unwrap_or_default()
}
