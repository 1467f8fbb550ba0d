//! The trackers' adapters (crate `peerex-trackers`) as the server configures them: which kinds
//! it wires, each one's client built from the settings, on the server's clock. Below the
//! shared state that holds them; the sync and webhook driver is the parent module.

use std::sync::Arc;

use peerex_trackers::{GitHub, GitLab, Gitea, Tracker};

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

pub fn github(s: &TrackerSettings, clock: Arc<dyn peerex_trackers::Clock>) -> anyhow::Result<Arc<dyn Tracker>> {
    let mut config = peerex_trackers::github::GitHubConfig {
        token: s.token.clone(),
        webhook_secret: s.webhook_secret.clone(),
        ..Default::default()
    };
    if let Some(url) = &s.base_url {
        config.base_url = url.clone();
    }
    Ok(Arc::new(GitHub::new(config, clock).map_err(|e| anyhow::anyhow!("GitHub tracker: {e}"))?))
}

pub fn gitlab(s: &TrackerSettings, clock: Arc<dyn peerex_trackers::Clock>) -> anyhow::Result<Arc<dyn Tracker>> {
    let mut config = peerex_trackers::gitlab::GitLabConfig {
        token: s.token.clone(),
        webhook_secret: s.webhook_secret.clone(),
        ..Default::default()
    };
    if let Some(url) = &s.base_url {
        config.base_url = url.clone();
    }
    Ok(Arc::new(GitLab::new(config, clock).map_err(|e| anyhow::anyhow!("GitLab tracker: {e}"))?))
}

pub fn gitea(s: &TrackerSettings, clock: Arc<dyn peerex_trackers::Clock>) -> anyhow::Result<Arc<dyn Tracker>> {
    let mut config = peerex_trackers::gitea::GiteaConfig {
        token: s.token.clone(),
        webhook_secret: s.webhook_secret.clone(),
        ..Default::default()
    };
    if let Some(url) = &s.base_url {
        config.base_url = url.clone();
    }
    Ok(Arc::new(Gitea::new(config, clock).map_err(|e| anyhow::anyhow!("Gitea tracker: {e}"))?))
}
