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

mod charts;
mod layout;

use axum::extract::{Path, Query, State};
use axum::http::header::{COOKIE, LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use ab_core::experiment::{Analysis, MetricKind};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;
use std::fmt::Write;

use crate::results::{self, ComparisonSeries, Results};
use crate::settings::Role;
use crate::state::AppState;
use crate::store::{self, token_digest};

use charts::{exposures_chart, forest_plot, lift_over_time_charts};
use layout::{bound, escape, exact, float, number, page, pct};

#[derive(Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
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
}
