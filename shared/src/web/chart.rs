//! Line charts of a patient's readings, drawn on the server as SVG: no script, no image
//! request, the same on every edge.
//!
//! A chart is a pure function of its readings: [`Chart::html`] gives a `<section>` with a
//! heading, a text summary (latest value, range, count), the SVG (`role="img"`, labelled by
//! its title and the summary; each point a circle whose `<title>` gives its value and date,
//! for hover and screen readers) and, in a `<details>`, the same readings as a table — the
//! accessible alternative. Every text is escaped; numbers and dates are the locale's.
//!
//! Time runs left to right in every locale, Arabic included (a time axis is not mirrored
//! in right-to-left scripts), so the SVG is `direction="ltr"`; its labels are localized.
//!
//! Robustness: no reading gives a localized "no readings" line and no SVG; one reading sits
//! in the middle; equal values get a band around them; a series longer than
//! [`MAX_POINTS`] keeps its latest [`MAX_POINTS`] readings (the chart says so): a patient
//! looks at the recent trend, and a page with its charts (each point a circle with its
//! title plus a table row, about 350 bytes) must stay under 50 KB.

use std::{collections::BTreeMap, fmt::Write as _};

use super::{escape, when};
use crate::i18n::{Arg, locale::Locale, message};

/// The most readings a series draws: the latest ones.
pub const MAX_POINTS: usize = 30;

/// The drawing's size (user units; the SVG scales to its container).
const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 260.0;
/// The plot area inside it: room for the value labels on the left, dates below.
const LEFT: f64 = 64.0;
const RIGHT: f64 = 624.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 220.0;

/// Line colours (contrast ≥ 4.5:1 on white), and a dash pattern so series differ without
/// colour too.
const STYLES: [(&str, &str); 3] = [("#0b5cad", ""), ("#b42318", "6 4"), ("#2f6b2f", "2 3")];

/// One reading: when (seconds since the epoch) and its value, as a number for drawing and
/// as the digits the device sent, for display.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    pub at: i64,
    pub value: f64,
    pub digits: String,
}

impl Reading {
    /// A reading from a JSON number (the Observation's `valueQuantity.value`).
    pub fn from_json(at: i64, value: &serde_json::Value) -> Option<Self> {
        let v = value.as_f64().filter(|v| v.is_finite())?;
        Some(Self {
            at,
            value: v,
            digits: value.to_string(),
        })
    }
}

/// A named line of readings (systolic, diastolic, weight…).
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Its label, as text.
    pub label: String,
    pub readings: Vec<Reading>,
}

/// A chart: its title, unit (as the Observations give it), and series sharing one axis.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    /// A prefix for the ids inside the chart, unique in the page (`[a-z0-9-]`).
    pub id: String,
    pub title: String,
    pub unit: String,
    pub series: Vec<Series>,
}

/// Where a value and a time land in the plot area.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Scale {
    t0: i64,
    t1: i64,
    lo: f64,
    hi: f64,
}

impl Scale {
    fn x(&self, t: i64) -> f64 {
        if self.t1 == self.t0 {
            return f64::midpoint(LEFT, RIGHT);
        }
        // i64 → f64: seconds since the epoch are far below 2^53.
        LEFT + (t - self.t0) as f64 / (self.t1 - self.t0) as f64 * (RIGHT - LEFT)
    }

    fn y(&self, v: f64) -> f64 {
        BOTTOM - (v - self.lo) / (self.hi - self.lo) * (BOTTOM - TOP)
    }
}

/// Round ticks covering `[min, max]`: a step of 1, 2 or 5 × 10ⁿ giving about five ticks,
/// and how many fraction digits the step needs. Equal values get a band of one step.
fn ticks(min: f64, max: f64) -> (Vec<f64>, usize) {
    let span = if max > min {
        max - min
    } else {
        min.abs().max(1.0) / 5.0
    };
    let raw = span / 4.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * magnitude);
    let mut lo = (min / step).floor() * step;
    let mut hi = (max / step).ceil() * step;
    if hi <= lo {
        lo -= step;
        hi += step;
    }
    let digits = if step >= 1.0 {
        0
    } else {
        // step < 1: 0.5 → 1, 0.2 → 1, 0.05 → 2.
        (-step.log10().floor()) as usize
    };
    let n = ((hi - lo) / step).round() as usize;
    ((0..=n).map(|i| lo + i as f64 * step).collect(), digits)
}

fn fmt(v: f64) -> String {
    format!("{v:.1}")
}

impl Chart {
    /// The chart as HTML, its heading an `<h3>`.
    pub fn html(&self, locale: Locale) -> String {
        let t = |id: &str, args: &[(&str, Arg<'_>)]| escape(&message(locale, id, args));
        let id = &self.id;
        let title = escape(&self.title);
        let unit = escape(&self.unit);
        let mut series: Vec<Series> = self
            .series
            .iter()
            .map(|s| {
                let mut readings = s.readings.clone();
                readings.sort_by_key(|r| r.at);
                let capped = readings.len().saturating_sub(MAX_POINTS);
                readings.drain(..capped);
                Series {
                    label: s.label.clone(),
                    readings,
                }
            })
            .collect();
        let capped = self.series.iter().any(|s| s.readings.len() > MAX_POINTS);
        series.retain(|s| !s.readings.is_empty());
        // Without readings there is no unit to name (it comes from the Observations).
        let unit_html = if unit.is_empty() {
            String::new()
        } else {
            format!(r#" <span class="unit">({unit})</span>"#)
        };
        let mut out = format!(
            r#"<section class="chart" aria-labelledby="{id}-h"><h3 id="{id}-h">{title}{unit_html}</h3>"#
        );
        if series.is_empty() {
            let _ = write!(out, "<p>{}</p></section>", t("chart-no-readings", &[]));
            return out;
        }
        // The summary: one sentence per series.
        let mut summary = Vec::new();
        for s in &series {
            let Some(latest) = s.readings.last() else {
                continue;
            };
            let (min, max) = s.readings.iter().fold((latest, latest), |(a, b), r| {
                (
                    if r.value < a.value { r } else { a },
                    if r.value > b.value { r } else { b },
                )
            });
            let latest_v = when::number(locale, &latest.digits);
            let min_v = when::number(locale, &min.digits);
            let max_v = when::number(locale, &max.digits);
            let date = when::date(locale, latest.at);
            summary.push(t(
                "chart-summary",
                &[
                    ("series", Arg::Str(&s.label)),
                    ("latest", Arg::Str(&latest_v)),
                    ("unit", Arg::Str(&self.unit)),
                    ("date", Arg::Str(&date)),
                    ("min", Arg::Str(&min_v)),
                    ("max", Arg::Str(&max_v)),
                    (
                        "count",
                        Arg::Num(i64::try_from(s.readings.len()).unwrap_or(i64::MAX)),
                    ),
                ],
            ));
        }
        if capped {
            summary.push(t("chart-capped", &[("count", Arg::Num(MAX_POINTS as i64))]));
        }
        let _ = write!(out, r#"<p id="{id}-sum">{}</p>"#, summary.join(" "));
        if series.len() > 1 {
            out.push_str(r#"<ul class="legend">"#);
            for (i, s) in series.iter().enumerate() {
                let (colour, dash) = STYLES[i % STYLES.len()];
                let _ = write!(
                    out,
                    r#"<li><svg width="28" height="10" aria-hidden="true" focusable="false"><line x1="0" y1="5" x2="28" y2="5" stroke="{colour}" stroke-width="3" stroke-dasharray="{dash}"/></svg> {}</li>"#,
                    escape(&s.label)
                );
            }
            out.push_str("</ul>");
        }
        out.push_str(&self.svg(locale, &series));
        out.push_str(&self.table(locale, &series));
        out.push_str("</section>");
        out
    }

    fn scale(series: &[Series]) -> (Scale, Vec<f64>, usize) {
        let all = series.iter().flat_map(|s| &s.readings);
        let (mut t0, mut t1) = (i64::MAX, i64::MIN);
        let (mut min, mut max) = (f64::INFINITY, f64::NEG_INFINITY);
        for r in all {
            t0 = t0.min(r.at);
            t1 = t1.max(r.at);
            min = min.min(r.value);
            max = max.max(r.value);
        }
        let (ticks, digits) = ticks(min, max);
        let scale = Scale {
            t0,
            t1,
            lo: ticks[0],
            hi: ticks[ticks.len() - 1],
        };
        (scale, ticks, digits)
    }

    fn svg(&self, locale: Locale, series: &[Series]) -> String {
        let id = &self.id;
        let (scale, ticks, digits) = Self::scale(series);
        let mut s = format!(
            r#"<svg role="img" aria-labelledby="{id}-t {id}-sum" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" direction="ltr" font-size="12" font-family="system-ui,sans-serif"><title id="{id}-t">{}</title>"#,
            escape(&format!("{} ({})", self.title, self.unit))
        );
        // Value axis: grid lines and labels.
        for v in &ticks {
            let y = fmt(scale.y(*v));
            let label = when::number(locale, &format!("{v:.digits$}"));
            let _ = write!(
                s,
                r##"<line x1="{LEFT}" y1="{y}" x2="{RIGHT}" y2="{y}" stroke="#d9e2ec"/><text x="{}" y="{y}" text-anchor="end" dominant-baseline="middle" fill="#52606d">{}</text>"##,
                LEFT - 6.0,
                escape(&label)
            );
        }
        // Time axis: the first and last days (the middle one too when they differ).
        let mut times = vec![scale.t0];
        if scale.t1 != scale.t0 {
            times.push(scale.t0 + (scale.t1 - scale.t0) / 2);
            times.push(scale.t1);
        }
        let anchors = ["start", "middle", "end"];
        for (i, at) in times.iter().enumerate() {
            let anchor = if times.len() == 1 {
                "middle"
            } else {
                anchors[i]
            };
            let _ = write!(
                s,
                r##"<text x="{}" y="{}" text-anchor="{anchor}" fill="#52606d">{}</text>"##,
                fmt(scale.x(*at)),
                BOTTOM + 22.0,
                escape(&when::date(locale, *at))
            );
        }
        let _ = write!(
            s,
            r##"<line x1="{LEFT}" y1="{BOTTOM}" x2="{RIGHT}" y2="{BOTTOM}" stroke="#52606d"/>"##
        );
        for (i, series) in series.iter().enumerate() {
            let (colour, dash) = STYLES[i % STYLES.len()];
            if series.readings.len() > 1 {
                let points: Vec<String> = series
                    .readings
                    .iter()
                    .map(|r| format!("{},{}", fmt(scale.x(r.at)), fmt(scale.y(r.value))))
                    .collect();
                let _ = write!(
                    s,
                    r#"<polyline fill="none" stroke="{colour}" stroke-width="2" stroke-dasharray="{dash}" points="{}"/>"#,
                    points.join(" ")
                );
            }
            for r in &series.readings {
                let value = when::number(locale, &r.digits);
                let date = when::date_time(locale, r.at);
                let label = message(
                    locale,
                    "chart-point",
                    &[
                        ("series", Arg::Str(&series.label)),
                        ("value", Arg::Str(&value)),
                        ("unit", Arg::Str(&self.unit)),
                        ("date", Arg::Str(&date)),
                    ],
                );
                let _ = write!(
                    s,
                    r#"<circle cx="{}" cy="{}" r="3.5" fill="{colour}"><title>{}</title></circle>"#,
                    fmt(scale.x(r.at)),
                    fmt(scale.y(r.value)),
                    escape(&label)
                );
            }
        }
        s.push_str("</svg>");
        s
    }

    /// The readings as a table: one row per time, one column per series.
    fn table(&self, locale: Locale, series: &[Series]) -> String {
        let t = |id: &str| escape(&message(locale, id, &[]));
        let mut rows: BTreeMap<i64, Vec<Option<&str>>> = BTreeMap::new();
        for (i, s) in series.iter().enumerate() {
            for r in &s.readings {
                rows.entry(r.at).or_insert_with(|| vec![None; series.len()])[i] = Some(&r.digits);
            }
        }
        let mut out = format!(
            r#"<details><summary>{}</summary><table><caption>{}</caption><thead><tr><th scope="col">{}</th>"#,
            t("chart-table"),
            escape(&format!("{} ({})", self.title, self.unit)),
            t("chart-when"),
        );
        for s in series {
            let _ = write!(
                out,
                r#"<th scope="col">{} ({})</th>"#,
                escape(&s.label),
                escape(&self.unit)
            );
        }
        out.push_str("</tr></thead><tbody>");
        // Newest first, as people read their history.
        for (at, values) in rows.iter().rev() {
            let _ = write!(
                out,
                r#"<tr><th scope="row">{}</th>"#,
                escape(&when::date_time(locale, *at))
            );
            for v in values {
                let _ = write!(
                    out,
                    r#"<td class="amount">{}</td>"#,
                    v.map(|d| escape(&when::number(locale, d)))
                        .unwrap_or_default()
                );
            }
            out.push_str("</tr>");
        }
        out.push_str("</tbody></table></details>");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(tag: &str) -> Locale {
        Locale::from_tag(tag).unwrap()
    }

    fn r(at: i64, v: f64) -> Reading {
        Reading {
            at,
            value: v,
            digits: v.to_string(),
        }
    }

    fn chart(readings: Vec<Reading>) -> Chart {
        Chart {
            id: "w".into(),
            title: "Weight".into(),
            unit: "kg".into(),
            series: vec![Series {
                label: "Weight".into(),
                readings,
            }],
        }
    }

    #[test]
    fn ticks_are_round_and_cover_the_values() {
        assert_eq!(ticks(62.0, 78.0), (vec![60.0, 65.0, 70.0, 75.0, 80.0], 0));
        let (t, d) = ticks(5.2, 6.1);
        assert_eq!(d, 1);
        assert!(t[0] <= 5.2 && *t.last().unwrap() >= 6.1, "{t:?}");
        // Equal values: a band around them.
        let (t, _) = ticks(70.0, 70.0);
        assert!(t[0] < 70.0 && *t.last().unwrap() > 70.0, "{t:?}");
    }

    #[test]
    fn a_known_series_lands_on_computed_coordinates() {
        // 60 → 80 kg over two days: ticks 60…80, so 60 is the bottom, 80 the top.
        let day = 86_400;
        let html = chart(vec![r(day * 2, 80.0), r(0, 60.0), r(day, 70.0)]).html(l("en"));
        assert!(html.contains(r#"<circle cx="64.0" cy="220.0""#), "{html}");
        assert!(html.contains(r#"<circle cx="344.0" cy="118.0""#), "{html}");
        assert!(html.contains(r#"<circle cx="624.0" cy="16.0""#), "{html}");
        assert!(html.contains(r#"points="64.0,220.0 344.0,118.0 624.0,16.0""#));
        assert!(html.contains(r#"role="img" aria-labelledby="w-t w-sum""#));
        // The summary: latest, range, count.
        let plain = html.replace(['\u{2068}', '\u{2069}'], "");
        assert!(
            plain.contains("<title>Weight: 80 kg, Jan 3, 1970, 00:00 UTC</title>"),
            "{plain}"
        );
        assert!(plain.contains("latest 80 kg"), "{plain}");
        assert!(plain.contains("from 60 to 80"), "{plain}");
        assert!(plain.contains("3 readings"), "{plain}");
        // The table alternative, newest first.
        assert!(plain.contains(r#"<details><summary>"#));
        assert!(plain.find("Jan 3, 1970").unwrap() < plain.rfind("Jan 1, 1970").unwrap());
    }

    #[test]
    fn one_reading_sits_in_the_middle_and_none_says_so() {
        let html = chart(vec![r(1000, 70.0)]).html(l("fr"));
        assert!(html.contains(r#"<circle cx="344.0""#), "{html}");
        assert!(!html.contains("<polyline"));
        let empty = chart(vec![]).html(l("fr"));
        assert!(!empty.contains("<svg"));
        assert!(empty.contains("Aucune mesure"), "{empty}");
        let empty = chart(vec![]).html(l("ar"));
        assert!(!empty.contains("Aucune"), "{empty}");
    }

    #[test]
    fn values_use_the_locales_number_format() {
        let html = chart(vec![r(0, 71.5), r(3600, 72.25)]).html(l("fr"));
        assert!(html.contains("72,25"), "{html}");
        assert!(!html.contains(">72.25<"));
    }

    #[test]
    fn long_series_keep_their_latest_readings() {
        let readings: Vec<Reading> = (0..1000)
            .map(|i| r(i * 60, 70.0 + (i % 7) as f64))
            .collect();
        let html = chart(readings).html(l("en"));
        assert_eq!(html.matches("<circle").count(), MAX_POINTS);
        assert!(
            html.replace(['\u{2068}', '\u{2069}'], "")
                .contains("30 latest"),
            "{html}"
        );
        // A full chart stays near 10 KB: a page's charts (blood pressure, glucose, weight)
        // fit in its 50 KB.
        assert!(html.len() < 12_000, "{}", html.len());
    }

    #[test]
    fn text_is_escaped() {
        let mut c = chart(vec![r(0, 1.0), r(60, 2.0)]);
        c.title = "<script>alert(1)</script>".into();
        c.unit = "\"kg\"".into();
        c.series[0].label = "a&b".into();
        let html = c.html(l("en"));
        assert!(!html.contains("<script>"));
        assert!(html.contains("&lt;script&gt;"));
        assert!(html.contains("&quot;kg&quot;"));
        assert!(html.contains("a&amp;b"));
        assert!(!html.contains("a&b"));
    }

    #[test]
    fn two_series_share_the_axis_and_get_a_legend() {
        let c = Chart {
            id: "bp".into(),
            title: "Blood pressure".into(),
            unit: "mmHg".into(),
            series: vec![
                Series {
                    label: "Systolic".into(),
                    readings: vec![r(0, 120.0), r(60, 130.0)],
                },
                Series {
                    label: "Diastolic".into(),
                    readings: vec![r(0, 80.0), r(60, 85.0)],
                },
            ],
        };
        let html = c.html(l("ar"));
        assert_eq!(html.matches("<polyline").count(), 2);
        assert!(html.contains(r#"class="legend""#));
        assert!(html.contains(r#"direction="ltr""#));
        assert!(html.contains(r#"<th scope="col">Systolic (mmHg)</th>"#));
    }
}
