//! The HTTP core shared by the GitHub-like adapters: conditional GETs with an ETag cache, paging
//! through the `Link` header, rate-limit back-off, and the issue JSON both GitHub and Gitea use.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use peerex_engine::command::SyncedState;
use peerex_engine::exchange::types::CloseReason;
use peerex_engine::Timestamp;
use reqwest::header::{HeaderMap, HeaderValue, ETAG, IF_NONE_MATCH, LINK, RETRY_AFTER};
use reqwest::{StatusCode, Url};
use serde::Deserialize;

use crate::clock::Clock;
use crate::error::TrackerError;
use crate::health::TrackerHealth;
use crate::observation::{issue_key, Observation};

/// Request headers of an adapter: the given `Accept` (and any fixed extras) plus, when a token is
/// configured, `Authorization: <scheme> <token>` marked sensitive so it never appears in logs.
/// Also refuses an empty tracker name, which every adapter needs.
pub(crate) fn adapter_headers(
    accept: &'static str,
    extra: &[(&'static str, &'static str)],
    scheme: &str,
    token: Option<&str>,
    tracker_name: &str,
) -> Result<HeaderMap, TrackerError> {
    let mut headers = HeaderMap::new();
    headers.insert(reqwest::header::ACCEPT, HeaderValue::from_static(accept));
    for (name, value) in extra {
        headers.insert(*name, HeaderValue::from_static(value));
    }
    if let Some(token) = token.filter(|t| !t.is_empty()) {
        let mut v = HeaderValue::from_str(&format!("{scheme} {token}")).map_err(|_| {
            TrackerError::InvalidArgument("the token contains characters not allowed in a header".into())
        })?;
        v.set_sensitive(true);
        headers.insert(reqwest::header::AUTHORIZATION, v);
    }
    if tracker_name.is_empty() {
        return Err(TrackerError::InvalidArgument("a tracker needs a name".into()));
    }
    Ok(headers)
}

/// Bodies larger than this are refused (a page of 100 issues is far smaller).
const MAX_BODY: usize = 16 * 1024 * 1024;
/// Pages followed per repository sync, so a looping `Link` header cannot keep us busy forever.
pub(crate) const MAX_PAGES: u32 = 1_000;
/// Back-off when a tracker says "too many requests" without saying for how long.
const DEFAULT_BACKOFF_MS: i64 = 60_000;

pub(crate) struct RestCore {
    client: reqwest::Client,
    base: Url,
    headers: HeaderMap,
    clock: Arc<dyn Clock>,
    state: Mutex<CoreState>,
}

#[derive(Default)]
struct CoreState {
    /// URL -> the last 200 answer with an ETag, replayed on a 304.
    cache: HashMap<String, Cached>,
    health: TrackerHealth,
    /// Issue key -> the newest `updated_at` seen (drops webhook deliveries older than a poll).
    newest_update: HashMap<String, Timestamp>,
    /// Issue key -> (`updated_at`, exact reopen instant) read from its events, so an unchanged
    /// reopened issue costs no further request.
    reopen_memo: HashMap<String, (Option<Timestamp>, Option<Timestamp>)>,
}

struct Cached {
    etag: HeaderValue,
    body: Vec<u8>,
    next: Option<String>,
}

pub(crate) struct Page {
    pub body: Vec<u8>,
    pub next: Option<String>,
    pub not_modified: bool,
}

impl RestCore {
    pub(crate) fn new(base: &str, headers: HeaderMap, clock: Arc<dyn Clock>) -> Result<RestCore, TrackerError> {
        let base = Url::parse(base.trim_end_matches('/'))
            .map_err(|e| TrackerError::InvalidArgument(format!("base URL {base:?}: {e}")))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(TrackerError::InvalidArgument(format!("base URL {base} is not http(s)")));
        }
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .user_agent(concat!("peerex/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| TrackerError::InvalidArgument(format!("HTTP client: {e}")))?;
        Ok(RestCore { client, base, headers, clock, state: Mutex::new(CoreState::default()) })
    }

    pub(crate) fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// `base` + `path` (path starts with '/').
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{}", self.base.as_str().trim_end_matches('/'), path)
    }

    fn state(&self) -> MutexGuard<'_, CoreState> {
        // A panic elsewhere while holding the lock leaves plain data behind; keep using it.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn health(&self) -> TrackerHealth {
        self.state().health.clone()
    }

    pub(crate) fn record_success(&self, observed_at: Timestamp) {
        let mut st = self.state();
        st.health.last_success = Some(st.health.last_success.map_or(observed_at, |t| t.max(observed_at)));
        st.health.last_failure = None;
    }

    pub(crate) fn record_failure(&self, at: Timestamp, err: &TrackerError) {
        self.state().health.last_failure = Some((at, err.to_string()));
    }

    /// Remembers the newest `updated_at` of each observed issue.
    pub(crate) fn note_updates(&self, observations: &[Observation]) {
        let mut st = self.state();
        for o in observations {
            if let Some(u) = o.updated_at {
                let e = st.newest_update.entry(o.issue.clone()).or_insert(u);
                *e = (*e).max(u);
            }
        }
    }

    /// Whether we have already seen a newer state of this issue than `o` (a late webhook).
    pub(crate) fn is_stale(&self, o: &Observation) -> bool {
        match (o.updated_at, self.state().newest_update.get(&o.issue)) {
            (Some(u), Some(newest)) => u < *newest,
            _ => false,
        }
    }

    /// A conditional GET of one page. Only follows URLs on the tracker's own origin, so the token
    /// never leaves for another host.
    pub(crate) async fn get(&self, url: &str) -> Result<Page, TrackerError> {
        let now = self.now();
        let parsed = Url::parse(url).map_err(|e| TrackerError::BadResponse(format!("bad URL {url:?}: {e}")))?;
        if parsed.origin() != self.base.origin() {
            return Err(TrackerError::BadResponse(format!("refusing to follow {url} off the tracker's host")));
        }
        let cached_etag = {
            let st = self.state();
            if let Some(until) = st.health.rate_limited_until.filter(|u| *u > now) {
                return Err(TrackerError::RateLimited { until });
            }
            st.cache.get(url).map(|c| c.etag.clone())
        };
        let mut req = self.client.get(parsed).headers(self.headers.clone());
        if let Some(etag) = &cached_etag {
            req = req.header(IF_NONE_MATCH, etag.clone());
        }
        let resp = req.send().await.map_err(|e| TrackerError::Unavailable(describe(&e)))?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let limited = rate_limit_until(status, &headers, now);
        self.state().health.rate_limited_until = limited;
        if status == StatusCode::NOT_MODIFIED {
            let st = self.state();
            return match st.cache.get(url) {
                Some(c) => Ok(Page { body: c.body.clone(), next: c.next.clone(), not_modified: true }),
                None => Err(TrackerError::BadResponse(format!("304 for {url} which we never fetched"))),
            };
        }
        if matches!(status, StatusCode::FORBIDDEN | StatusCode::TOO_MANY_REQUESTS) {
            if let Some(until) = limited {
                return Err(TrackerError::RateLimited { until });
            }
        }
        if status.is_server_error() {
            return Err(TrackerError::Unavailable(format!("{url} answered {status}")));
        }
        match status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                return Err(TrackerError::Unauthorized(format!("{url} answered {status}")))
            }
            StatusCode::NOT_FOUND | StatusCode::GONE => {
                return Err(TrackerError::NotFound(format!("{url} answered {status}")))
            }
            s if !s.is_success() => return Err(TrackerError::BadResponse(format!("{url} answered {status}"))),
            _ => {}
        }
        if resp.content_length().is_some_and(|n| n > MAX_BODY as u64) {
            return Err(TrackerError::BadResponse(format!("{url}: body larger than {MAX_BODY} bytes")));
        }
        // Read in chunks so a body without Content-Length cannot grow past the limit either.
        let mut resp = resp;
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| TrackerError::Unavailable(describe(&e)))? {
            if body.len() + chunk.len() > MAX_BODY {
                return Err(TrackerError::BadResponse(format!("{url}: body larger than {MAX_BODY} bytes")));
            }
            body.extend_from_slice(&chunk);
        }
        let next = headers.get(LINK).and_then(|v| v.to_str().ok()).and_then(next_link);
        if let Some(etag) = headers.get(ETAG) {
            self.state()
                .cache
                .insert(url.to_owned(), Cached { etag: etag.clone(), body: body.clone(), next: next.clone() });
        }
        Ok(Page { body, next, not_modified: false })
    }
}

/// reqwest's error with its causes (e.g. "connection refused").
fn describe(e: &reqwest::Error) -> String {
    let mut s = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(cause) = src {
        s.push_str(": ");
        s.push_str(&cause.to_string());
        src = cause.source();
    }
    s
}

/// The `rel="next"` target of a `Link` header.
pub(crate) fn next_link(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let mut pieces = part.split(';');
        let target = pieces.next()?.trim();
        let is_next = pieces.any(|p| {
            let p = p.trim();
            p == "rel=\"next\"" || p == "rel=next"
        });
        let url = target.strip_prefix('<')?.strip_suffix('>')?;
        is_next.then(|| url.to_owned())
    })
}

fn header_i64(headers: &HeaderMap, name: &str) -> Option<i64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

/// Until when no request may go out, from GitHub's rate-limit headers: `retry-after` (seconds),
/// else `x-ratelimit-reset` (epoch seconds) once `x-ratelimit-remaining` hit 0. A 403 or 429
/// carrying neither is a plain refusal (403) or a limit of unknown length (429).
pub(crate) fn rate_limit_until(status: StatusCode, headers: &HeaderMap, now: Timestamp) -> Option<Timestamp> {
    let retry_after = headers
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok())
        .map(|s| now.plus_millis(s.max(0).saturating_mul(1_000)));
    // GitHub and Gitea say x-ratelimit-*, GitLab ratelimit-*.
    let remaining = header_i64(headers, "x-ratelimit-remaining").or_else(|| header_i64(headers, "ratelimit-remaining"));
    let exhausted = remaining == Some(0);
    let reset = header_i64(headers, "x-ratelimit-reset")
        .or_else(|| header_i64(headers, "ratelimit-reset"))
        .map(|s| Timestamp(s.saturating_mul(1_000)));
    let limited_answer = matches!(status, StatusCode::FORBIDDEN | StatusCode::TOO_MANY_REQUESTS);
    let until = match (retry_after, exhausted, reset) {
        (Some(t), _, _) if limited_answer => Some(t),
        (_, true, Some(r)) => Some(r),
        _ if status == StatusCode::TOO_MANY_REQUESTS => Some(now.plus_millis(DEFAULT_BACKOFF_MS)),
        _ => None,
    };
    match until {
        // A limited answer always waits a little, even if the reset it names has passed.
        Some(t) if limited_answer => Some(t.max(now.plus_millis(1_000))),
        Some(t) if t > now => Some(t),
        _ => None,
    }
}

/// The issue JSON of GitHub, Gitea/Forgejo (same field names; no `state_reason`) and GitLab
/// (`iid`, state `opened`).
#[derive(Debug, Deserialize)]
pub(crate) struct RawIssue {
    #[serde(alias = "iid")]
    pub number: u64,
    #[serde(default)]
    pub title: String,
    pub state: String,
    #[serde(default)]
    pub state_reason: Option<String>,
    #[serde(default, deserialize_with = "flex_time_opt")]
    pub closed_at: Option<Timestamp>,
    #[serde(default, deserialize_with = "flex_time_opt")]
    pub updated_at: Option<Timestamp>,
    #[serde(default, deserialize_with = "flex_time_opt")]
    pub created_at: Option<Timestamp>,
    /// Present (non-null) on pull requests, which the issues list also returns.
    #[serde(default)]
    pub pull_request: Option<serde_json::Value>,
}

/// How a dialect reads a closed issue without a reason.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Dialect {
    pub closed_without_reason: CloseReason,
    /// Where the exact instant of a reopen can be read.
    pub reopens: ReopenSource,
}

/// Where a dialect finds when an open issue was last reopened (its issue object does not say).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ReopenSource {
    /// GitHub: `/repos/{repo}/issues/{n}/events`, entries with `"event": "reopened"`, asked for
    /// issues whose `state_reason` is `reopened`.
    GitHubEvents,
    /// GitLab: `/projects/{repo}/issues/{iid}/resource_state_events`, entries with
    /// `"state": "reopened"`, asked for open issues edited since their creation (GitLab's issue
    /// object has no sign of a past close).
    GitLabStateEvents,
    /// Gitea/Forgejo: `/repos/{repo}/issues/{n}/timeline`, entries with `"type": "reopen"`,
    /// asked for open issues edited since their creation.
    GiteaTimeline,
}

impl RawIssue {
    /// The observation of this issue, or None for a pull request.
    pub(crate) fn observe(
        &self,
        dialect: Dialect,
        repo: &str,
        tracker: &str,
        observed_at: Timestamp,
    ) -> Result<Option<Observation>, TrackerError> {
        if self.pull_request.as_ref().is_some_and(|v| !v.is_null()) {
            return Ok(None);
        }
        let key = issue_key(repo, self.number);
        let (state, reason, changed_at) = match self.state.as_str() {
            // The instant of a reopen is not in the issue object; `updated_at` is the latest it
            // can have been (docs/trackers.md).
            "open" | "opened" => (SyncedState::Open, None, self.updated_at),
            "closed" => {
                let reason = match self.state_reason.as_deref() {
                    Some("completed") => CloseReason::Completed,
                    Some("not_planned") => CloseReason::NotPlanned,
                    Some("duplicate") => CloseReason::Duplicate,
                    None => dialect.closed_without_reason,
                    Some(_) => CloseReason::Unknown,
                };
                (SyncedState::Closed, Some(reason), self.closed_at.or(self.updated_at))
            }
            other => return Err(TrackerError::BadResponse(format!("issue {key} has unknown state {other:?}"))),
        };
        Ok(Some(Observation {
            issue: key,
            tracker: tracker.to_owned(),
            title: self.title.chars().take(500).collect(),
            state,
            reason,
            // The engine refuses a change later than the observation; clocks differ a little.
            changed_at: changed_at.map(|c| c.min(observed_at)),
            observed_at,
            updated_at: self.updated_at,
        }))
    }
}

/// Fetches every page of an issues list starting at `url` and observes each issue once.
pub(crate) async fn fetch_all(
    core: &RestCore,
    dialect: Dialect,
    repo: &str,
    tracker: &str,
    url: String,
) -> Result<crate::observation::SyncResult, TrackerError> {
    let observed_at = core.now();
    let result = async {
        let mut seen = std::collections::HashSet::new();
        let mut observations = Vec::new();
        let (mut pages, mut not_modified) = (0u32, 0u32);
        let mut next = Some(url);
        while let Some(url) = next.take() {
            if pages >= MAX_PAGES {
                return Err(TrackerError::BadResponse(format!("more than {MAX_PAGES} pages")));
            }
            let page = core.get(&url).await?;
            pages += 1;
            not_modified += u32::from(page.not_modified);
            let issues: Vec<RawIssue> = serde_json::from_slice(&page.body)
                .map_err(|e| TrackerError::BadResponse(format!("{url}: not a list of issues: {e}")))?;
            for raw in &issues {
                // Pages can shift while we read them (a new issue pushes one down): keep the first.
                if let Some(mut o) = raw.observe(dialect, repo, tracker, observed_at)? {
                    if seen.insert(o.issue.clone()) {
                        refine_reopen(core, dialect, repo, raw, &mut o).await?;
                        observations.push(o);
                    }
                }
            }
            next = page.next;
        }
        Ok(crate::observation::SyncResult { observed_at, observations, pages, not_modified })
    }
    .await;
    finish(core, observed_at, result)
}

/// Fetches one issue.
pub(crate) async fn fetch_one(
    core: &RestCore,
    dialect: Dialect,
    repo: &str,
    number: u64,
    tracker: &str,
    url: String,
) -> Result<crate::observation::SyncResult, TrackerError> {
    let observed_at = core.now();
    let result = async {
        let page = core.get(&url).await?;
        let raw: RawIssue = serde_json::from_slice(&page.body)
            .map_err(|e| TrackerError::BadResponse(format!("{url}: not an issue: {e}")))?;
        if raw.number != number {
            return Err(TrackerError::BadResponse(format!("{url} answered issue {}", raw.number)));
        }
        let mut o = raw
            .observe(dialect, repo, tracker, observed_at)?
            .ok_or_else(|| TrackerError::NotFound(format!("{repo}#{number} is a pull request, not an issue")))?;
        refine_reopen(core, dialect, repo, &raw, &mut o).await?;
        Ok(crate::observation::SyncResult {
            observed_at,
            observations: vec![o],
            pages: 1,
            not_modified: u32::from(page.not_modified),
        })
    }
    .await;
    finish(core, observed_at, result)
}

/// One entry of GitHub's issue events (`event`), GitLab's resource state events (`state`) or
/// Gitea's timeline (`type`).
#[derive(Debug, Deserialize)]
struct IssueEvent {
    #[serde(default)]
    event: Option<String>,
    #[serde(default)]
    state: Option<String>,
    /// Gitea's timeline entry kind.
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(deserialize_with = "flex_time")]
    created_at: Timestamp,
}

/// `owner/name` as one URL path segment (GitLab addresses projects by their encoded full path).
pub(crate) fn encode_path(repo: &str) -> String {
    repo.replace('/', "%2F")
}

/// RFC 3339, or GitLab's older webhook format `2013-12-03 17:23:34 UTC`.
pub(crate) fn parse_time(s: &str) -> Result<Timestamp, String> {
    if let Ok(t) = Timestamp::parse(s) {
        return Ok(t);
    }
    chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S UTC")
        .map(|t| Timestamp(t.and_utc().timestamp_millis()))
        .map_err(|_| format!("{s:?} is not a time"))
}

fn flex_time<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
    let s = String::deserialize(d)?;
    parse_time(&s).map_err(serde::de::Error::custom)
}

fn flex_time_opt<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
    match Option::<String>::deserialize(d)? {
        None => Ok(None),
        Some(s) => parse_time(&s).map(Some).map_err(serde::de::Error::custom),
    }
}

/// For a reopened issue, replaces the `updated_at` upper bound by the exact instant of its last
/// reopen, read from the issue's events (all pages; cached with ETags). Without it, a series
/// maturing between the reopen and a later edit would be judged from a state the issue no
/// longer had. A failure here fails the sync: better late than wrong.
async fn refine_reopen(
    core: &RestCore,
    dialect: Dialect,
    repo: &str,
    raw: &RawIssue,
    o: &mut Observation,
) -> Result<(), TrackerError> {
    let path = match dialect.reopens {
        ReopenSource::GitHubEvents if raw.state == "open" && raw.state_reason.as_deref() == Some("reopened") => {
            format!("/repos/{repo}/issues/{}/events?per_page=100", raw.number)
        }
        ReopenSource::GitLabStateEvents if raw.state == "opened" && raw.updated_at != raw.created_at => {
            format!("/projects/{}/issues/{}/resource_state_events?per_page=100", encode_path(repo), raw.number)
        }
        ReopenSource::GiteaTimeline if raw.state == "open" && raw.updated_at != raw.created_at => {
            format!("/repos/{repo}/issues/{}/timeline?limit=50", raw.number)
        }
        _ => return Ok(()),
    };
    if let Some((updated, reopened)) = core.state().reopen_memo.get(&o.issue) {
        if *updated == raw.updated_at {
            if let Some(t) = reopened {
                o.changed_at = Some((*t).min(o.observed_at));
            }
            return Ok(());
        }
    }
    let mut next = Some(core.url(&path));
    let mut last_reopen: Option<Timestamp> = None;
    let mut pages = 0u32;
    while let Some(url) = next.take() {
        pages += 1;
        if pages > MAX_PAGES {
            return Err(TrackerError::BadResponse(format!("more than {MAX_PAGES} pages of events")));
        }
        let page = core.get(&url).await?;
        let events: Vec<IssueEvent> = serde_json::from_slice(&page.body)
            .map_err(|e| TrackerError::BadResponse(format!("{url}: not a list of issue events: {e}")))?;
        let is_reopen = |e: &&IssueEvent| {
            e.event.as_deref() == Some("reopened")
                || e.state.as_deref() == Some("reopened")
                || e.kind.as_deref() == Some("reopen")
        };
        for e in events.iter().filter(is_reopen) {
            last_reopen = Some(last_reopen.map_or(e.created_at, |t| t.max(e.created_at)));
        }
        next = page.next;
    }
    if let Some(t) = last_reopen {
        o.changed_at = Some(t.min(o.observed_at));
    }
    core.state().reopen_memo.insert(o.issue.clone(), (raw.updated_at, last_reopen));
    Ok(())
}

fn finish(
    core: &RestCore,
    observed_at: Timestamp,
    result: Result<crate::observation::SyncResult, TrackerError>,
) -> Result<crate::observation::SyncResult, TrackerError> {
    match &result {
        Ok(r) => {
            core.note_updates(&r.observations);
            core.record_success(observed_at);
        }
        Err(e) => core.record_failure(observed_at, e),
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn finds_the_next_link() {
        let l = r#"<https://api.github.com/repositories/1/issues?page=2>; rel="next", <https://api.github.com/repositories/1/issues?page=5>; rel="last""#;
        assert_eq!(next_link(l).as_deref(), Some("https://api.github.com/repositories/1/issues?page=2"));
        let last_only = r#"<https://x/issues?page=1>; rel="first", <https://x/issues?page=4>; rel="prev""#;
        assert_eq!(next_link(last_only), None);
        assert_eq!(next_link("garbage"), None);
    }

    #[test]
    fn reads_rate_limits() {
        let now = Timestamp(1_700_000_000_000);
        let ok = StatusCode::OK;
        let forbidden = StatusCode::FORBIDDEN;
        // Exhausted primary limit: wait for the reset.
        let h = headers(&[("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", "1700000600")]);
        assert_eq!(rate_limit_until(forbidden, &h, now), Some(Timestamp(1_700_000_600_000)));
        assert_eq!(rate_limit_until(ok, &h, now), Some(Timestamp(1_700_000_600_000)));
        // Secondary limit: retry-after wins.
        let h = headers(&[("retry-after", "30"), ("x-ratelimit-remaining", "12")]);
        assert_eq!(rate_limit_until(forbidden, &h, now), Some(now.plus_millis(30_000)));
        assert_eq!(rate_limit_until(ok, &h, now), None);
        // Plenty left, or a plain 403: no limit.
        let h = headers(&[("x-ratelimit-remaining", "4999"), ("x-ratelimit-reset", "1700000600")]);
        assert_eq!(rate_limit_until(ok, &h, now), None);
        assert_eq!(rate_limit_until(forbidden, &HeaderMap::new(), now), None);
        // 429 without headers: a default back-off.
        assert_eq!(
            rate_limit_until(StatusCode::TOO_MANY_REQUESTS, &HeaderMap::new(), now),
            Some(now.plus_millis(60_000))
        );
        // A reset already past on a 200 does not gate anything.
        let h = headers(&[("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", "1600000000")]);
        assert_eq!(rate_limit_until(ok, &h, now), None);
    }

    #[test]
    fn reads_gitlab_times_and_issues() {
        assert_eq!(parse_time("2013-12-03 17:23:34 UTC"), Ok(Timestamp::parse("2013-12-03T17:23:34Z").unwrap()));
        assert_eq!(parse_time("2016-01-04T15:31:51.081Z"), Ok(Timestamp::parse("2016-01-04T15:31:51.081Z").unwrap()));
        assert!(parse_time("yesterday").is_err());
        let gl = Dialect { closed_without_reason: CloseReason::Completed, reopens: ReopenSource::GitLabStateEvents };
        let raw: RawIssue = serde_json::from_str(
            r#"{"id":76,"iid":6,"project_id":8,"title":"t","state":"closed","closed_at":"2026-12-02T00:00:00.000Z","updated_at":"2026-12-02 00:00:00 UTC"}"#,
        )
        .unwrap();
        let o = raw
            .observe(gl, "group/sub/app", "gitlab", Timestamp::parse("2026-12-03T00:00:00Z").unwrap())
            .unwrap()
            .unwrap();
        assert_eq!(
            (o.issue.as_str(), o.state, o.reason),
            ("group/sub/app#6", SyncedState::Closed, Some(CloseReason::Completed))
        );
        let h = headers(&[("ratelimit-remaining", "0"), ("ratelimit-reset", "1700000600")]);
        assert_eq!(
            rate_limit_until(StatusCode::TOO_MANY_REQUESTS, &h, Timestamp(1_700_000_000_000)),
            Some(Timestamp(1_700_000_600_000))
        );
    }

    #[test]
    fn maps_github_issue_states() {
        let gh = Dialect { closed_without_reason: CloseReason::Unknown, reopens: ReopenSource::GitHubEvents };
        let parse = |j: &str| serde_json::from_str::<RawIssue>(j).unwrap();
        let at = Timestamp::parse("2026-12-20T00:00:00Z").unwrap();
        let closed = parse(
            r#"{"number":7,"title":"crash","state":"closed","state_reason":"not_planned","closed_at":"2026-12-10T00:00:00Z","updated_at":"2026-12-11T00:00:00Z","pull_request":null}"#,
        );
        let o = closed.observe(gh, "a/b", "github", at).unwrap().unwrap();
        assert_eq!((o.state, o.reason), (SyncedState::Closed, Some(CloseReason::NotPlanned)));
        assert_eq!(o.changed_at, Some(Timestamp::parse("2026-12-10T00:00:00Z").unwrap()));
        let reopened = parse(
            r#"{"number":8,"title":"x","state":"open","state_reason":"reopened","closed_at":null,"updated_at":"2026-12-12T00:00:00Z"}"#,
        );
        let o = reopened.observe(gh, "a/b", "github", at).unwrap().unwrap();
        assert_eq!((o.state, o.reason), (SyncedState::Open, None));
        assert_eq!(o.changed_at, Some(Timestamp::parse("2026-12-12T00:00:00Z").unwrap()));
        let legacy = parse(
            r#"{"number":9,"title":"x","state":"closed","state_reason":null,"closed_at":"2020-01-01T00:00:00Z"}"#,
        );
        assert_eq!(legacy.observe(gh, "a/b", "github", at).unwrap().unwrap().reason, Some(CloseReason::Unknown));
        let pr = parse(r#"{"number":10,"title":"x","state":"open","pull_request":{"url":"u"}}"#);
        assert!(pr.observe(gh, "a/b", "github", at).unwrap().is_none());
        // A tracker clock slightly ahead of ours: the change is clamped to the observation.
        let ahead = parse(
            r#"{"number":11,"title":"x","state":"closed","state_reason":"completed","closed_at":"2026-12-20T00:00:05Z"}"#,
        );
        assert_eq!(ahead.observe(gh, "a/b", "github", at).unwrap().unwrap().changed_at, Some(at));
        let weird = parse(r#"{"number":12,"title":"x","state":"locked"}"#);
        assert!(weird.observe(gh, "a/b", "github", at).is_err());
    }
}
