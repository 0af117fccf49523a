//! Progress on long work, on stderr: an indicatif bar per platform on a
//! terminal, plain timestamped lines in CI, and on GitHub Actions each
//! platform's build log folded in a `::group::`. One type, three modes, so the
//! stages report without knowing where the words go.

use crate::ci::workflow;
use crate::model::{Platform, ProgressMode};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// What happened to one platform's image.
#[derive(Debug, Clone)]
pub enum PlatformEvent {
    /// The build started on this engine.
    Building {
        engine: String,
    },
    /// A build step started.
    Step(String),
    /// A line the build printed.
    Log(String),
    Built {
        size: u64,
        seconds: f64,
    },
    /// The tag exists already: nothing is built.
    Reused {
        digest: String,
    },
    Pushing {
        done: u64,
        total: u64,
    },
    Pushed {
        digest: String,
        seconds: f64,
    },
    /// The build failed; the error itself is printed once, at the end.
    Failed,
}

#[derive(Clone)]
pub struct Progress {
    inner: Arc<Inner>,
    /// The image of a run of several that this reporter speaks for: its
    /// lines and bars are named by it.
    scope: Option<Arc<str>>,
}

struct Inner {
    mode: ProgressMode,
    started: Instant,
    state: Mutex<State>,
    multi: Option<MultiProgress>,
    /// Set by `finish`: no bar is drawn any more, lines go straight out.
    finished: std::sync::atomic::AtomicBool,
}

#[derive(Default)]
struct State {
    bars: BTreeMap<String, ProgressBar>,
    /// GitHub mode: each platform's log, printed in a group when it ends.
    logs: BTreeMap<String, Vec<String>>,
    /// Plain modes: when push progress was last printed, and at what fraction.
    last_push: BTreeMap<String, (Instant, u64)>,
    /// A capturing reporter keeps its lines here instead of printing them.
    captured: Option<Vec<String>>,
}

impl Progress {
    pub fn new(mode: ProgressMode) -> Self {
        Self::with_sink(mode, false)
    }

    /// A reporter that keeps its lines instead of printing them (tests).
    pub fn capture(mode: ProgressMode) -> Self {
        Self::with_sink(mode, true)
    }

    fn with_sink(mode: ProgressMode, capture: bool) -> Self {
        let multi = (mode == ProgressMode::Tty && !capture)
            .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        let state = State {
            captured: capture.then(Vec::new),
            ..State::default()
        };
        Progress {
            inner: Arc::new(Inner {
                mode,
                started: Instant::now(),
                state: Mutex::new(state),
                multi,
                finished: std::sync::atomic::AtomicBool::new(false),
            }),
            scope: None,
        }
    }

    /// The same reporter, its lines and bars named by one image of a run.
    pub fn scoped(&self, name: &str) -> Progress {
        Progress {
            inner: self.inner.clone(),
            scope: Some(name.into()),
        }
    }

    /// A platform's lane: the platform, after the image's name when scoped.
    fn lane(&self, platform: Platform) -> String {
        match &self.scope {
            Some(name) => format!("{name} {platform}"),
            None => platform.to_string(),
        }
    }

    /// The lines a capturing reporter kept.
    pub fn captured(&self) -> Vec<String> {
        self.lock().captured.clone().unwrap_or_default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// A message about the run as a whole.
    pub fn say(&self, message: &str) {
        let line = match &self.scope {
            Some(name) => self.stamp(&format!("{name}: {message}")),
            None => self.stamp(message),
        };
        let mut state = self.lock();
        emit(&mut state, self.bars(), line);
    }

    /// Runs `work`, saying every `every` that it is still waiting, and gives
    /// up after `limit` with "timed out after N s": a call that never
    /// answers is never silence.
    pub async fn waiting<T>(
        &self,
        what: &str,
        limit: Duration,
        every: Duration,
        work: impl std::future::Future<Output = T>,
    ) -> Result<T, String> {
        let started = tokio::time::Instant::now();
        tokio::pin!(work);
        loop {
            let left = limit.saturating_sub(started.elapsed());
            if left.is_zero() {
                return Err(format!("{what}: timed out after {} s", limit.as_secs()));
            }
            match tokio::time::timeout(left.min(every), &mut work).await {
                Ok(done) => return Ok(done),
                Err(_) if started.elapsed() < limit => self.say(&format!(
                    "still waiting for {what} ({} s)",
                    started.elapsed().as_secs()
                )),
                Err(_) => {}
            }
        }
    }

    /// Stops every bar where it is, so that nothing is drawn over what is
    /// printed next (the summary on stdout, a server's lines).
    pub fn finish(&self) {
        let bars: Vec<ProgressBar> = self.lock().bars.values().cloned().collect();
        for bar in bars {
            if !bar.is_finished() {
                bar.finish();
            }
        }
        if let Some(multi) = &self.inner.multi {
            multi.set_draw_target(ProgressDrawTarget::hidden());
        }
        self.inner
            .finished
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    pub fn platform(&self, platform: Platform, event: PlatformEvent) {
        match self.inner.mode {
            ProgressMode::Tty => self.tty(platform, event),
            ProgressMode::Plain | ProgressMode::GitHub => self.plain(platform, event),
        }
    }

    fn stamp(&self, message: &str) -> String {
        let now = time::OffsetDateTime::now_utc();
        let clock = now
            .format(time::macros::format_description!(
                "[hour]:[minute]:[second]"
            ))
            .unwrap_or_default();
        format!(
            "[{clock} +{:.1}s] {message}",
            self.inner.started.elapsed().as_secs_f64()
        )
    }

    fn plain(&self, platform: Platform, event: PlatformEvent) {
        let github = self.inner.mode == ProgressMode::GitHub;
        let lane = self.lane(platform);
        let mut state = self.lock();
        let line = match event {
            PlatformEvent::Building { engine } => format!("{lane}: building on {engine}"),
            PlatformEvent::Step(step) => {
                if github {
                    state
                        .logs
                        .entry(lane.clone())
                        .or_default()
                        .push(format!("#{step}"));
                }
                format!("{lane}: {step}")
            }
            PlatformEvent::Log(text) => {
                if github {
                    state.logs.entry(lane.clone()).or_default().push(text);
                    return;
                }
                format!("{lane} | {text}")
            }
            PlatformEvent::Built { size, seconds } => {
                self.flush_group(&mut state, &lane, "build log");
                format!(
                    "{lane}: built, {} uncompressed, in {seconds:.1}s",
                    human_bytes(size)
                )
            }
            PlatformEvent::Reused { digest } => {
                format!("{lane}: tag exists, reusing {digest}")
            }
            PlatformEvent::Pushing { done, total } => {
                let now = Instant::now();
                let quarter = (done * 4).checked_div(total).unwrap_or(0);
                let due = match state.last_push.get(&lane) {
                    Some((at, q)) => {
                        quarter > *q || now.duration_since(*at) > Duration::from_secs(5)
                    }
                    None => true,
                };
                if !due {
                    return;
                }
                state.last_push.insert(lane.clone(), (now, quarter));
                format!(
                    "{lane}: pushing {} / {}",
                    human_bytes(done),
                    human_bytes(total)
                )
            }
            PlatformEvent::Pushed { digest, seconds } => {
                format!("{lane}: pushed {digest} in {seconds:.1}s")
            }
            PlatformEvent::Failed => {
                self.flush_group(&mut state, &lane, "build log");
                format!("{lane}: build failed")
            }
        };
        let line = self.stamp(&line);
        emit(&mut state, None, line);
    }

    /// GitHub mode: prints a platform's kept log folded in a group, with
    /// workflow commands stopped, so that nothing a build prints is obeyed.
    fn flush_group(&self, state: &mut State, lane: &str, title: &str) {
        if let Some(lines) = state.logs.remove(lane) {
            let token = uuid::Uuid::new_v4().simple().to_string();
            emit(state, None, workflow::group(&format!("{lane} {title}")));
            emit(state, None, workflow::stop_commands(&token));
            for l in lines {
                emit(state, None, l);
            }
            emit(state, None, workflow::resume(&token));
            emit(state, None, workflow::endgroup());
        }
    }

    /// The bars' display, while it is drawn.
    fn bars(&self) -> Option<&MultiProgress> {
        let finished = self
            .inner
            .finished
            .load(std::sync::atomic::Ordering::SeqCst);
        self.inner.multi.as_ref().filter(|_| !finished)
    }

    fn tty(&self, platform: Platform, event: PlatformEvent) {
        let Some(multi) = self.bars() else {
            // A capturing reporter in tty mode: keep plain lines.
            return self.plain(platform, event);
        };
        let lane = self.lane(platform);
        let mut state = self.lock();
        let bar = state
            .bars
            .entry(lane.clone())
            .or_insert_with(|| {
                let bar = multi.add(ProgressBar::new_spinner());
                bar.set_style(spinner_style());
                bar.set_prefix(lane);
                bar.enable_steady_tick(Duration::from_millis(120));
                bar
            })
            .clone();
        drop(state);
        match event {
            PlatformEvent::Building { engine } => bar.set_message(format!("building on {engine}")),
            PlatformEvent::Step(step) => bar.set_message(step),
            PlatformEvent::Log(_) => {}
            PlatformEvent::Built { size, seconds } => bar.set_message(format!(
                "built, {} uncompressed, in {seconds:.1}s",
                human_bytes(size)
            )),
            // A bar is as wide as the terminal: digests go to the summary,
            // whole, never cut here.
            PlatformEvent::Reused { .. } => bar.finish_with_message("tag exists, reused"),
            PlatformEvent::Pushing { done, total } => {
                if bar.length() != Some(total) {
                    bar.set_style(bytes_style());
                    bar.set_length(total);
                    bar.set_message("pushing");
                }
                bar.set_position(done);
            }
            PlatformEvent::Pushed { seconds, .. } => {
                bar.set_style(spinner_style());
                bar.finish_with_message(format!("pushed in {seconds:.1}s"))
            }
            PlatformEvent::Failed => {
                bar.set_style(spinner_style());
                bar.abandon_with_message("build failed")
            }
        }
    }
}

fn emit(state: &mut State, multi: Option<&MultiProgress>, line: String) {
    if let Some(captured) = &mut state.captured {
        captured.push(line);
        return;
    }
    match multi {
        Some(m) => {
            let _ = m.println(&line);
        }
        None => {
            let _ = writeln!(std::io::stderr().lock(), "{line}");
        }
    }
}

fn spinner_style() -> ProgressStyle {
    ProgressStyle::with_template("{spinner} {prefix:12} {wide_msg}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
}

fn bytes_style() -> ProgressStyle {
    ProgressStyle::with_template(
        "{spinner} {prefix:12} {msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ")
}

/// One timestamped line on stderr, from where no reporter is at hand (an
/// AWS SDK interceptor, a retried HTTP call).
pub fn notice(message: &str) {
    let clock = time::OffsetDateTime::now_utc()
        .format(time::macros::format_description!(
            "[hour]:[minute]:[second]"
        ))
        .unwrap_or_default();
    eprintln!("[{clock}] {message}");
}

pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests;
