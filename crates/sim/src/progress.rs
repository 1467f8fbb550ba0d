//! A progress bar on a terminal (runs completed), nothing when stderr is not a terminal (CI,
//! pipes, tests), so logs and captured output stay clean.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

#[derive(Clone)]
pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// A bar of `total` steps, drawn only when stderr is a terminal.
    pub fn for_terminal(total: u64, label: &str) -> Progress {
        if std::io::stderr().is_terminal() {
            let bar = ProgressBar::new(total);
            if let Ok(style) = ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} runs ({elapsed})") {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_message(label.to_owned());
            Progress { bar }
        } else {
            Progress::hidden()
        }
    }

    /// Never draws.
    pub fn hidden() -> Progress {
        Progress { bar: ProgressBar::hidden() }
    }

    pub fn step(&self) {
        self.bar.inc(1);
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }

    pub fn position(&self) -> u64 {
        self.bar.position()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hidden_bar_still_counts() {
        let p = Progress::hidden();
        p.step();
        p.step();
        assert_eq!(p.position(), 2);
        p.finish();
    }
}
