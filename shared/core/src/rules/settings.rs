//! A shop's recovery settings: the steps of the sequence and the policies around them, with
//! defaults (email at 1 h, 24 h and 72 h after the last activity) and validation that names the
//! offending field.

use chrono::Duration;
use serde::{Deserialize, Serialize};

/// One step of the recovery sequence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepSettings {
    pub name: String,
    #[serde(default = "enabled")]
    pub enabled: bool,
    /// Time since the shopper's last activity, e.g. `"1h"`, `"30m"`, `"3days"`, `"5s"`.
    pub delay: String,
    /// The email template to render.
    #[serde(default = "default_template")]
    pub template: String,
}

fn enabled() -> bool {
    true
}

fn default_template() -> String {
    "reminder".to_owned()
}

impl StepSettings {
    /// The step's delay. Validated settings always parse.
    pub fn delay(&self) -> Duration {
        parse_delay(&self.delay).unwrap_or_else(|_| Duration::hours(1))
    }
}

/// The settings of one shop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecoverySettings {
    pub steps: Vec<StepSettings>,
    /// An order within this long after a message counts as recovered, e.g. `"5days"`.
    #[serde(default = "default_attribution")]
    pub attribution_window: String,
    /// No message goes out about a checkout older than this, e.g. `"14days"`.
    #[serde(default = "default_max_age")]
    pub max_sequence_age: String,
}

fn default_attribution() -> String {
    "5days".to_owned()
}

fn default_max_age() -> String {
    "14days".to_owned()
}

impl Default for RecoverySettings {
    fn default() -> Self {
        let step = |name: &str, delay: &str, template: &str| StepSettings {
            name: name.to_owned(),
            enabled: true,
            delay: delay.to_owned(),
            template: template.to_owned(),
        };
        Self {
            steps: vec![
                step("reminder", "1h", "reminder"),
                step("follow-up", "24h", "follow_up"),
                step("last-chance", "72h", "last_chance"),
            ],
            attribution_window: default_attribution(),
            max_sequence_age: default_max_age(),
        }
    }
}

/// One reason settings were refused, with the path of the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[error("{path}: {reason}")]
pub struct SettingsError {
    pub path: String,
    pub reason: String,
}

impl RecoverySettings {
    /// Parses settings from JSON and validates them; every problem is listed.
    pub fn from_json(json: &str) -> Result<Self, Vec<SettingsError>> {
        let settings: Self = serde_json::from_str(json).map_err(|e| {
            vec![SettingsError {
                path: "$".into(),
                reason: e.to_string(),
            }]
        })?;
        settings.validate()?;
        Ok(settings)
    }

    /// Checks every field; returns all problems, not just the first.
    pub fn validate(&self) -> Result<(), Vec<SettingsError>> {
        let mut errors = Vec::new();
        let mut error = |path: String, reason: &str| {
            errors.push(SettingsError {
                path,
                reason: reason.to_owned(),
            })
        };
        if self.steps.is_empty() {
            error("steps".into(), "must have at least one step");
        }
        if self.steps.len() > 10 {
            error("steps".into(), "must have at most 10 steps");
        }
        let mut previous: Option<(usize, Duration)> = None;
        for (index, step) in self.steps.iter().enumerate() {
            if step.name.trim().is_empty() {
                error(format!("steps[{index}].name"), "must not be empty");
            }
            if !crate::render::is_known_template(&step.template) {
                error(
                    format!("steps[{index}].template"),
                    "is not a known template",
                );
            }
            match parse_delay(&step.delay) {
                Err(reason) => error(format!("steps[{index}].delay"), &reason),
                Ok(delay) => {
                    if let Some((before, previous_delay)) = previous.filter(|_| step.enabled)
                        && delay <= previous_delay
                    {
                        error(
                            format!("steps[{index}].delay"),
                            &format!("must be later than steps[{before}].delay"),
                        );
                    }
                    if step.enabled {
                        previous = Some((index, delay));
                    }
                }
            }
        }
        for (path, value) in [
            ("attribution_window", &self.attribution_window),
            ("max_sequence_age", &self.max_sequence_age),
        ] {
            if let Err(reason) = parse_delay(value) {
                error(path.into(), &reason);
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// The enabled steps with their index in [`Self::steps`].
    pub fn enabled_steps(&self) -> impl Iterator<Item = (u32, &StepSettings)> {
        self.steps
            .iter()
            .enumerate()
            .filter(|(_, s)| s.enabled)
            .map(|(i, s)| (i as u32, s))
    }

    /// The attribution window.
    pub fn attribution_window(&self) -> Duration {
        parse_delay(&self.attribution_window).unwrap_or_else(|_| Duration::days(5))
    }

    /// The maximum age of a checkout that may still get messages.
    pub fn max_sequence_age(&self) -> Duration {
        parse_delay(&self.max_sequence_age).unwrap_or_else(|_| Duration::days(14))
    }
}

/// Parses a positive duration such as `"90s"`, `"30m"`, `"1h"`, `"3days"` (humantime syntax).
pub fn parse_delay(text: &str) -> Result<Duration, String> {
    let std = humantime::parse_duration(text)
        .map_err(|e| format!("{e} (use e.g. \"30m\", \"1h\", \"3days\")"))?;
    if std.is_zero() {
        return Err("must be longer than zero".into());
    }
    if std > std::time::Duration::from_secs(365 * 24 * 3600) {
        return Err("must be at most a year".into());
    }
    Duration::from_std(std).map_err(|e| e.to_string())
}
