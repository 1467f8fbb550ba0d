//! The trackers' adapters (crate `peerex-trackers`) as the server configures them: which kinds
//! it wires, each one's client built from the settings, on the server's clock. Below the
//! shared state that holds them; the sync and webhook driver is the parent module.

use std::sync::Arc;

use peerex_trackers::gitea::GiteaConfig;
use peerex_trackers::github::GitHubConfig;
use peerex_trackers::gitlab::GitLabConfig;
use peerex_trackers::{GitHub, GitLab, Gitea, Tracker, TrackerError};

use crate::settings::{Settings, TrackerSettings};
use crate::shared::Shared;

/// Kept for callers of the GitHub-only wiring: every tracker has the same settings.
pub type GitHubSettings = TrackerSettings;

/// The kinds of trackers the server wires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    GitHub,
    GitLab,
    Gitea,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::GitHub, Kind::GitLab, Kind::Gitea];

    pub fn label(self) -> &'static str {
        match self {
            Kind::GitHub => "GitHub",
            Kind::GitLab => "GitLab",
            Kind::Gitea => "Gitea/Forgejo",
        }
    }

    pub fn settings(self, s: &Settings) -> Option<&TrackerSettings> {
        match self {
            Kind::GitHub => s.github.as_ref(),
            Kind::GitLab => s.gitlab.as_ref(),
            Kind::Gitea => s.gitea.as_ref(),
        }
    }
}

/// The configured trackers' adapters.
#[derive(Clone, Default)]
pub struct Trackers {
    pub github: Option<Arc<dyn Tracker>>,
    pub gitlab: Option<Arc<dyn Tracker>>,
    pub gitea: Option<Arc<dyn Tracker>>,
}

/// The server's clock (a sandbox's moved clock included) as the adapters' clock, so a poll's
/// `observed_at` is on the same clock as the engine's commands.
pub struct ServerClock(pub Arc<Shared>);

impl peerex_trackers::Clock for ServerClock {
    fn now(&self) -> peerex_engine::Timestamp {
        self.0.clock.now()
    }
}

impl Trackers {
    pub fn from_settings(s: &Settings, shared: &Arc<Shared>) -> anyhow::Result<Trackers> {
        let clock: Arc<dyn peerex_trackers::Clock> = Arc::new(ServerClock(shared.clone()));
        Ok(Trackers {
            github: s.github.as_ref().map(|t| github(t, clock.clone())).transpose()?,
            gitlab: s.gitlab.as_ref().map(|t| gitlab(t, clock.clone())).transpose()?,
            gitea: s.gitea.as_ref().map(|t| gitea(t, clock.clone())).transpose()?,
        })
    }

    pub fn get(&self, kind: Kind) -> Option<&Arc<dyn Tracker>> {
        match kind {
            Kind::GitHub => self.github.as_ref(),
            Kind::GitLab => self.gitlab.as_ref(),
            Kind::Gitea => self.gitea.as_ref(),
        }
    }
}

/// The settings' token and webhook secret, and their base URL when set, over an adapter's
/// defaults; `fields` names where those three live in the adapter's own config.
fn adapter<C: Default, T: Tracker + 'static>(
    label: &str,
    s: &TrackerSettings,
    clock: Arc<dyn peerex_trackers::Clock>,
    fields: impl FnOnce(&mut C) -> (&mut Option<String>, &mut Option<String>, &mut String),
    new: impl FnOnce(C, Arc<dyn peerex_trackers::Clock>) -> Result<T, TrackerError>,
) -> anyhow::Result<Arc<dyn Tracker>> {
    let mut config = C::default();
    let (token, webhook_secret, base_url) = fields(&mut config);
    *token = s.token.clone();
    *webhook_secret = s.webhook_secret.clone();
    if let Some(url) = &s.base_url {
        *base_url = url.clone();
    }
    Ok(Arc::new(new(config, clock).map_err(|e| anyhow::anyhow!("{label} tracker: {e}"))?))
}

pub fn github(s: &TrackerSettings, clock: Arc<dyn peerex_trackers::Clock>) -> anyhow::Result<Arc<dyn Tracker>> {
    adapter(
        "GitHub",
        s,
        clock,
        |c: &mut GitHubConfig| (&mut c.token, &mut c.webhook_secret, &mut c.base_url),
        GitHub::new,
    )
}

pub fn gitlab(s: &TrackerSettings, clock: Arc<dyn peerex_trackers::Clock>) -> anyhow::Result<Arc<dyn Tracker>> {
    adapter(
        "GitLab",
        s,
        clock,
        |c: &mut GitLabConfig| (&mut c.token, &mut c.webhook_secret, &mut c.base_url),
        GitLab::new,
    )
}

pub fn gitea(s: &TrackerSettings, clock: Arc<dyn peerex_trackers::Clock>) -> anyhow::Result<Arc<dyn Tracker>> {
    adapter("Gitea", s, clock, |c: &mut GiteaConfig| (&mut c.token, &mut c.webhook_secret, &mut c.base_url), Gitea::new)
}
