//! A release's rollout, as asked (`--rollout canary:10:5m`,
//! `linear:20:1m`), and the gates that may stop it: plain values that parse
//! and check themselves.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// How an alias moves from the version it serves to the new one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rollout {
    /// `percent` of the traffic for `hold`, then all of it.
    Canary { percent: u8, hold: Duration },
    /// `percent` more every `every`, until all of it.
    Linear { percent: u8, every: Duration },
}

/// One weight the new version is given, and how long it holds before the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    pub percent: u8,
    pub hold: Duration,
}

impl Rollout {
    /// The weights the new version serves before it serves everything.
    pub fn steps(&self) -> Vec<Step> {
        match *self {
            Rollout::Canary { percent, hold } => vec![Step { percent, hold }],
            Rollout::Linear { percent, every } => (1..)
                .map(|n| u32::from(percent) * n)
                .take_while(|p| *p < 100)
                .map(|p| Step {
                    percent: u8::try_from(p).unwrap_or(99),
                    hold: every,
                })
                .collect(),
        }
    }

    /// How long the whole rollout takes when nothing stops it.
    pub fn total(&self) -> Duration {
        self.steps().iter().map(|s| s.hold).sum()
    }
}

impl fmt::Display for Rollout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rollout::Canary { percent, hold } => {
                write!(f, "canary {percent}% for {}", human(*hold))
            }
            Rollout::Linear { percent, every } => {
                write!(f, "linear {percent}% every {}", human(*every))
            }
        }
    }
}

/// A `--rollout` value that cannot be used; the text says how to write one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "--rollout {given}: {why}. Write canary:PCT:DURATION (PCT% of the traffic for DURATION, \
     then all of it) or linear:PCT:INTERVAL (PCT% more every INTERVAL), with PCT from 1 to 99 \
     and a duration such as 30s, 5m or 1h; e.g. --rollout canary:10:5m"
)]
pub struct RolloutError {
    pub given: String,
    pub why: String,
}

impl FromStr for Rollout {
    type Err = RolloutError;

    fn from_str(given: &str) -> Result<Self, Self::Err> {
        let bad = |why: &str| RolloutError {
            given: given.to_string(),
            why: why.to_string(),
        };
        let parts: Vec<&str> = given.trim().split(':').collect();
        let [kind, percent, time] = parts.as_slice() else {
            return Err(bad("not a rollout"));
        };
        let percent = percent
            .parse::<u8>()
            .ok()
            .filter(|p| (1..=99).contains(p))
            .ok_or_else(|| bad(&format!("{percent} is not a percentage from 1 to 99")))?;
        let time = parse_duration(time)
            .ok_or_else(|| bad(&format!("{time} is not a duration of at least 1s")))?;
        match kind.to_ascii_lowercase().as_str() {
            "canary" => Ok(Rollout::Canary {
                percent,
                hold: time,
            }),
            "linear" => Ok(Rollout::Linear {
                percent,
                every: time,
            }),
            other => Err(bad(&format!("{other} is not a kind of rollout"))),
        }
    }
}

/// `30s`, `5m`, `1h` (a number and its unit), never zero.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let unit = text.chars().last()?;
    let number: u64 = text[..text.len() - unit.len_utf8()].parse().ok()?;
    let seconds = match unit {
        's' => number,
        'm' => number.checked_mul(60)?,
        'h' => number.checked_mul(3_600)?,
        _ => return None,
    };
    // A day at most: a CI job does not outlive it.
    (1..=86_400)
        .contains(&seconds)
        .then(|| Duration::from_secs(seconds))
}

/// A duration as it was written: `90s` → `90s`, `300s` → `5m`.
pub fn human(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3_600 && s.is_multiple_of(3_600) {
        format!("{}h", s / 3_600)
    } else if s >= 60 && s.is_multiple_of(60) {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    }
}

/// What may stop a rollout.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Gates {
    /// CloudWatch alarms (metric or composite) that must not be in ALARM.
    pub alarms: Vec<String>,
    /// The new version's error rate, in percent, above which it is rolled back.
    pub max_error_rate: Option<f64>,
    /// Invocations of the new version below which its error rate is not judged.
    pub min_invocations: u64,
}

impl Gates {
    pub fn is_empty(&self) -> bool {
        self.alarms.is_empty() && self.max_error_rate.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rollouts_parse_and_say_their_steps() {
        let canary: Rollout = "canary:10:5m".parse().unwrap();
        assert_eq!(
            canary.steps(),
            [Step {
                percent: 10,
                hold: Duration::from_secs(300)
            }]
        );
        assert_eq!(canary.to_string(), "canary 10% for 5m");
        let linear: Rollout = "linear:30:20s".parse().unwrap();
        let weights: Vec<u8> = linear.steps().iter().map(|s| s.percent).collect();
        assert_eq!(weights, [30, 60, 90]);
        assert_eq!(linear.total(), Duration::from_secs(60));
        let even: Rollout = "linear:25:1h".parse().unwrap();
        assert_eq!(even.steps().len(), 3, "100% is the promotion, not a step");
        assert_eq!(even.to_string(), "linear 25% every 1h");
    }

    #[test]
    fn a_rollout_out_of_range_or_not_understood_is_refused_with_the_way_to_write_one() {
        for bad in [
            "canary:0:10s",
            "canary:100:10s",
            "linear:30:0s",
            "canary:10:forever",
            "blue-green",
            "canary:10",
            "canary:-5:10s",
            "canary:10:10",
            "ramp:10:10s",
            "canary:10:10s:extra",
        ] {
            let e = bad.parse::<Rollout>().unwrap_err();
            assert!(e.to_string().contains("canary:PCT:DURATION"), "{bad}: {e}");
        }
    }

    #[test]
    fn durations_have_a_unit_and_are_never_zero() {
        assert_eq!(parse_duration("30s"), Some(Duration::from_secs(30)));
        assert_eq!(parse_duration("5m"), Some(Duration::from_secs(300)));
        assert_eq!(parse_duration("1h"), Some(Duration::from_secs(3_600)));
        for bad in [
            "0s",
            "",
            "s",
            "5",
            "5d",
            "1.5m",
            "25h",
            "99999999999999999999h",
        ] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
        assert_eq!(human(Duration::from_secs(90)), "90s");
        assert_eq!(human(Duration::from_secs(7_200)), "2h");
    }
}
