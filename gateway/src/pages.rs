//! The results pages: `/` lists experiments with their headline result, and
//! `/experiments/{id}` shows one: recommendation, SRM banner, variant table, a CI forest plot
//! per metric (SVG), guardrails, sample-size progress and when it was computed. Server-rendered
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
use serde::Deserialize;
use serde_json::Value;
use std::fmt::Write;

use crate::results::{self, Results};
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
main { max-width: 1080px; margin: 0 auto; padding: 20px 16px 48px; }
h1 { font-size: 1.5rem; margin: 0 0 4px; } h2 { font-size: 1.1rem; margin: 28px 0 10px; }
.meta { color: var(--muted); font-size: .9rem; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 14px 16px; margin: 12px 0; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: .8rem; border: 1px solid var(--line); background: #fff; }
.badge.running { color: var(--good); border-color: var(--good); } .badge.paused { color: #a15c00; border-color: #a15c00; }
.banner { background: #fdecea; border: 1px solid var(--bad); color: var(--bad); border-radius: 10px; padding: 12px 16px; margin: 12px 0; font-weight: 600; }
.decision { font-size: 1.15rem; font-weight: 600; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; background: #fff; font-variant-numeric: tabular-nums; }
th, td { text-align: right; padding: 7px 10px; border-bottom: 1px solid var(--line); white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
th { font-size: .8rem; color: var(--muted); font-weight: 600; text-transform: uppercase; letter-spacing: .03em; }
.sig { color: var(--good); font-weight: 600; } .neg.sig { color: var(--bad); }
svg.forest { width: 100%; max-width: 640px; height: auto; display: block; margin-bottom: 8px; }
svg .zero { stroke: var(--muted); stroke-dasharray: 4 3; } svg .ci { stroke: var(--accent); stroke-width: 3; stroke-linecap: round; }
svg .significant .ci { stroke: var(--good); } svg .significant.negative .ci { stroke: var(--bad); }
svg text { font: 12px system-ui, sans-serif; fill: var(--ink); } svg .axis { fill: var(--muted); font-size: 10px; }
.bar { height: 12px; background: #e6e9ee; border-radius: 6px; overflow: hidden; } .bar > span { display: block; height: 100%; background: var(--accent); }
.ok { color: var(--good); } .breach { color: var(--bad); font-weight: 600; }
a { color: var(--accent); }
@media (max-width: 600px) { body { font-size: 14px; } main { padding: 12px 10px 32px; } th, td { padding: 6px 6px; } }
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

fn experiment_page(results: &Results) -> String {
    let config = &results.experiment.config;
    let mut body = String::new();
    let status = results.experiment.status.as_str();
    let _ = write!(
        body,
        "<p class=\"meta\"><a href=\"/\">All experiments</a></p><h1>{}</h1>\
         <p class=\"meta\"><span class=\"badge {status}\">{status}</span> <code>{}</code> · started {} · \
         <span id=\"computed-at\" data-computed-at=\"{}\">computed {}</span></p>",
        escape(if config.name.is_empty() { &config.id } else { &config.name }),
        escape(&config.id),
        results.experiment.started_at.map_or("–".to_owned(), |t| t.format("%Y-%m-%d %H:%M UTC").to_string()),
        results.computed_at.as_deref().unwrap_or(""),
        results.computed_at.as_deref().map_or("not yet (the first refresh runs within 30 s)".to_owned(), |t| format!("at {}", escape(t))),
    );
    if results.srm["mismatch"] == Value::Bool(true) {
        let _ = write!(
            body,
            "<div class=\"banner\" id=\"srm-banner\">Sample ratio mismatch (p = {:.2e}): exposures per variant {} do not match the weights. Do not trust these results until the assignment is fixed.</div>",
            results.srm["p_value"].as_f64().unwrap_or(0.0),
            escape(&results.srm["observed"].to_string())
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
    let _ = write!(body, "<h2>Variants</h2><div class=\"scroll\"><table id=\"variants\"><tr><th>variant</th><th>weight</th><th>units</th>");
    for metric in &config.metrics {
        let _ = write!(body, "<th>{}</th>", escape(&metric.id));
    }
    body.push_str("</tr>");
    let observed = results.srm["observed"].as_array();
    for (i, variant) in config.allocation.variants.iter().enumerate() {
        let units = observed.and_then(|o| o.get(i)).and_then(Value::as_i64).unwrap_or(0);
        let _ = write!(
            body,
            "<tr data-variant=\"{v}\"><td>{v}{c}</td><td>{:.0}%</td><td data-units=\"{units}\">{units}</td>",
            variant.weight * 100.0,
            v = escape(&variant.id),
            c = if variant.is_control { " (control)" } else { "" },
        );
        for metric in &config.metrics {
            let row = results.variant_metrics.iter().find(|r| r["variant_id"] == variant.id.as_str() && r["metric_id"] == metric.id.as_str());
            let mean = row.map_or(Value::Null, |r| r["mean"].clone());
            let _ = write!(body, "<td data-metric=\"{}\" data-mean=\"{}\">{}</td>", escape(&metric.id), exact(&mean), number(&mean));
        }
        body.push_str("</tr>");
    }
    body.push_str("</table></div>");

    for metric in &config.metrics {
        let rows: Vec<&Value> = results.comparisons.iter().filter(|r| r["metric_id"] == metric.id.as_str()).collect();
        let kind = match metric.kind {
            ab_core::experiment::MetricKind::Conversion => "conversion",
            ab_core::experiment::MetricKind::Continuous => "continuous",
        };
        let _ = write!(body, "<h2>{} <span class=\"meta\">({kind}, relative lift vs control; intervals at each comparison's Holm level, ★ where they exclude 0)</span></h2><div class=\"card\">", escape(&metric.id));
        if rows.is_empty() {
            body.push_str("<p class=\"meta\">No data yet.</p></div>");
            continue;
        }
        body.push_str(&forest_plot(&metric.id, &rows));
        let _ = write!(body, "<div class=\"scroll\"><table class=\"comparisons\"><tr><th>treatment</th><th>control</th><th>treatment</th><th>diff</th><th>diff interval</th><th>lift</th><th>lift interval</th><th>level</th><th>p</th><th>Holm p</th>{}</tr>",
            if metric.covariate_days.is_some() { "<th>CUPED diff</th><th>var. red.</th>" } else { "" });
        for row in &rows {
            let significant = row["significant"] == Value::Bool(true);
            let negative = row["diff"].as_f64().is_some_and(|d| d < 0.0);
            let _ = write!(
                body,
                "<tr class=\"{cls}\" data-metric=\"{m}\" data-treatment=\"{t}\" data-diff=\"{d}\" data-p-value=\"{p}\" data-holm-p-value=\"{hp}\" data-significant=\"{significant}\" \
                 data-ci-low=\"{cl}\" data-ci-high=\"{ch}\" data-rel-ci-low=\"{rcl}\" data-rel-ci-high=\"{rch}\" data-interval-level=\"{lv}\">\
                 <td>{t}{star}</td><td>{cv}</td><td>{tv}</td><td>{dn}</td><td>{diff_interval}</td><td>{lift}</td><td>{lift_interval}</td><td>{level}</td><td>{pn}</td><td>{hpn}</td>",
                cls = if significant { if negative { "neg sig" } else { "sig" } } else { "" },
                m = escape(&metric.id),
                t = escape(row["treatment_id"].as_str().unwrap_or("")),
                star = if significant { " ★" } else { "" },
                d = exact(&row["diff"]),
                p = exact(&row["p_value"]),
                hp = exact(&row["holm_p_value"]),
                cv = number(&row["control_value"]),
                tv = number(&row["treatment_value"]),
                dn = number(&row["diff"]),
                lift = pct(row["rel_lift"].as_f64()),
                cl = exact(&row["ci_low"]),
                ch = exact(&row["ci_high"]),
                rcl = exact(&row["rel_ci_low"]),
                rch = exact(&row["rel_ci_high"]),
                lv = exact(&row["interval_level"]),
                diff_interval = match float(&row["ci_low"]).zip(float(&row["ci_high"])) {
                    Some((low, high)) => format!("{} … {}", bound(low), bound(high)),
                    None => "–".to_owned(),
                },
                lift_interval = match float(&row["rel_ci_low"]).zip(float(&row["rel_ci_high"])) {
                    Some((low, high)) => format!("{} … {}", pct(Some(low)), pct(Some(high))),
                    None if row["ci_low"].is_null() => "–".to_owned(),
                    None => "unbounded".to_owned(),
                },
                level = row["interval_level"].as_f64().map_or("–".to_owned(), |l| format!("{:.2}%", l * 100.0)),
                pn = row["p_value"].as_f64().map_or("–".to_owned(), |p| format!("{p:.4}")),
                hpn = row["holm_p_value"].as_f64().map_or("–".to_owned(), |p| format!("{p:.4}")),
            );
            if metric.covariate_days.is_some() {
                let _ = write!(body, "<td>{}</td><td>{}</td>", number(&row["cuped_diff"]), pct(row["cuped_variance_reduction"].as_f64()));
            }
            body.push_str("</tr>");
        }
        body.push_str("</table></div></div>");
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
        let days_left = results.sample_size["days_left"].as_i64().map_or("unknown".to_owned(), |d| format!("{d} days left"));
        let _ = write!(
            body,
            "<h2>Sample size</h2><div class=\"card\" id=\"sample-size\" data-progress=\"{progress}\"><div class=\"bar\"><span style=\"width:{:.1}%\"></span></div>\
             <p class=\"meta\">{} of {required} users in the smallest arm ({:.0}%) · {days_left}</p></div>",
            progress * 100.0,
            results.sample_size["units_smallest_arm"].as_i64().unwrap_or(0),
            progress * 100.0,
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
        Ok(results) => Html(experiment_page(&results)).into_response(),
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
