//! The value types of the settings, each built only by its parser: a [`Delay`] is a positive
//! duration of at most a year, a [`TimeOfDay`] is `HH:MM`, a [`ShopZone`] an IANA time zone, a
//! [`CountryCode`] two upper-case letters, and a template name one the renderer knows for its
//! channel. Reading settings (from the admin API or back from the table) goes through these
//! parsers; no code downstream handles an invalid value.

use crate::model::Channel;
use chrono::{Duration, NaiveTime};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// Parses a value of a settings field; the error says what the field must be.
pub trait SettingValue: Sized {
    fn parse_setting(text: &str) -> Result<Self, String>;
    /// A stand-in for a value that did not parse, used only while the settings' other problems
    /// are being collected (see [`super::RecoverySettings::from_json`]); never saved.
    fn placeholder() -> Self;
}

/// What stands in the JSON for a value that did not parse, while collecting further problems.
pub(super) const UNPARSED: &str = "\u{0}reclaim:unparsed";

thread_local! {
    /// Whether [`UNPARSED`] is accepted (as the placeholder) on this thread right now.
    static COLLECTING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `read` with [`UNPARSED`] accepted as a placeholder when `accept` is set. Otherwise
/// [`UNPARSED`] is just another invalid value: the first reading of a document is always strict,
/// and a later one only happens once a problem was found (so the settings are refused anyway).
pub(super) fn reading<T>(accept: bool, read: impl FnOnce() -> T) -> T {
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            COLLECTING.with(|flag| flag.set(false));
        }
    }
    COLLECTING.with(|flag| flag.set(accept));
    let _reset = Reset;
    read()
}

/// Deserialises any [`SettingValue`] from a string, failing with the parser's reason.
fn deserialize_setting<'de, D: Deserializer<'de>, T: SettingValue>(deserializer: D) -> Result<T, D::Error> {
    let text = String::deserialize(deserializer)?;
    if text == UNPARSED && COLLECTING.with(std::cell::Cell::get) {
        return Ok(T::placeholder());
    }
    T::parse_setting(&text).map_err(serde::de::Error::custom)
}

/// A duration as the merchant wrote it (`"30m"`, `"1h"`, `"3days"`; humantime syntax): positive,
/// at most a year. The text is kept so that the settings read back as they were written.
#[derive(Clone, PartialEq, Eq)]
pub struct Delay {
    text: String,
    duration: Duration,
}

impl Delay {
    /// The text as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }
    /// The duration.
    pub fn duration(&self) -> Duration {
        self.duration
    }
}

impl SettingValue for Delay {
    fn parse_setting(text: &str) -> Result<Self, String> {
        let std = humantime::parse_duration(text).map_err(|e| format!("{e} (use e.g. \"30m\", \"1h\", \"3days\")"))?;
        if std.is_zero() {
            return Err("must be longer than zero".into());
        }
        if std > std::time::Duration::from_secs(365 * 24 * 3600) {
            return Err("must be at most a year".into());
        }
        let duration = Duration::from_std(std).map_err(|e| e.to_string())?;
        Ok(Self { text: text.to_owned(), duration })
    }
    fn placeholder() -> Self {
        Self { text: UNPARSED.to_owned(), duration: Duration::hours(1) }
    }
}

impl Delay {
    /// A delay written in the code (defaults, tests); panics if it is not one.
    pub fn known(text: &str) -> Self {
        Self::parse_setting(text).expect("a valid delay")
    }
}

impl fmt::Debug for Delay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Delay({})", self.text)
    }
}

/// A local time of day, written `HH:MM` on the 24-hour clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct TimeOfDay(NaiveTime);

impl TimeOfDay {
    pub fn time(self) -> NaiveTime {
        self.0
    }
}

impl SettingValue for TimeOfDay {
    fn parse_setting(text: &str) -> Result<Self, String> {
        let invalid = || format!("must be a time like \"21:00\", not {text:?}");
        let (hours, minutes) = text.split_once(':').ok_or_else(invalid)?;
        if hours.len() != 2 || minutes.len() != 2 {
            return Err(invalid());
        }
        let (hours, minutes) = (hours.parse().map_err(|_| invalid())?, minutes.parse().map_err(|_| invalid())?);
        NaiveTime::from_hms_opt(hours, minutes, 0).map(Self).ok_or_else(invalid)
    }
    fn placeholder() -> Self {
        Self(NaiveTime::MIN)
    }
}

impl TimeOfDay {
    /// A time written in the code (defaults, tests); panics if it is not `HH:MM`.
    pub fn known(text: &str) -> Self {
        Self::parse_setting(text).expect("a valid time of day")
    }
}

/// An IANA time zone such as `America/New_York`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShopZone(chrono_tz::Tz);

impl ShopZone {
    pub const UTC: Self = Self(chrono_tz::UTC);
    pub fn tz(self) -> chrono_tz::Tz {
        self.0
    }
}

impl ShopZone {
    /// A zone written in the code (tests); panics if it is not one.
    pub fn known(name: &str) -> Self {
        Self::parse_setting(name).expect("a valid time zone")
    }
}

impl SettingValue for ShopZone {
    fn parse_setting(text: &str) -> Result<Self, String> {
        text.parse().map(Self).map_err(|_| "is not an IANA time zone such as \"America/New_York\"".to_owned())
    }
    fn placeholder() -> Self {
        Self::UTC
    }
}

/// An ISO 3166 alpha-2 country code such as `US`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CountryCode([u8; 2]);

impl CountryCode {
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("two ASCII letters")
    }
}

impl SettingValue for CountryCode {
    fn parse_setting(text: &str) -> Result<Self, String> {
        match text.as_bytes() {
            &[a, b] if a.is_ascii_uppercase() && b.is_ascii_uppercase() => Ok(Self([a, b])),
            _ => Err("must be an ISO 3166 alpha-2 code such as \"US\"".into()),
        }
    }
    fn placeholder() -> Self {
        Self(*b"ZZ")
    }
}

impl CountryCode {
    /// A code written in the code (tests); panics if it is not one.
    pub fn known(text: &str) -> Self {
        Self::parse_setting(text).expect("a valid country code")
    }
}

/// The name of a template the renderer has for channel `C` (0 email, 1 SMS, 2 push).
#[derive(Clone, PartialEq, Eq)]
pub struct TemplateName<const C: u8>(String);

/// An email template's name.
pub type EmailTemplate = TemplateName<0>;
/// An SMS template's name.
pub type SmsTemplate = TemplateName<1>;
/// A push template's name.
pub type PushTemplate = TemplateName<2>;

impl<const C: u8> TemplateName<C> {
    const CHANNEL: Channel = match C {
        0 => Channel::Email,
        1 => Channel::Sms,
        _ => Channel::Push,
    };

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A name the renderer knows; panics otherwise (for the built-in defaults and tests).
    pub fn known(name: &str) -> Self {
        Self::parse_setting(name).expect("a known template")
    }
}

impl<const C: u8> SettingValue for TemplateName<C> {
    fn parse_setting(text: &str) -> Result<Self, String> {
        if crate::render::is_known_template(Self::CHANNEL, text) {
            Ok(Self(text.to_owned()))
        } else {
            Err(format!("{text:?} is not a known {} template", Self::CHANNEL.as_str()))
        }
    }
    fn placeholder() -> Self {
        Self(UNPARSED.to_owned())
    }
}

impl<const C: u8> fmt::Debug for TemplateName<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A piece of message copy as the merchant wrote it: text with `{{ variable }}` placeholders,
/// checked by [`crate::render::copy::check`] (it parses, names only the documented variables and
/// is not too long), so a saved copy always renders.
#[derive(Clone, PartialEq, Eq)]
pub struct CopyText(String);

impl CopyText {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Copy written in the code (defaults, tests); panics if it is not valid.
    pub fn known(text: &str) -> Self {
        Self::parse_setting(text).expect("valid copy")
    }
}

impl SettingValue for CopyText {
    fn parse_setting(text: &str) -> Result<Self, String> {
        crate::render::copy::check(text).map(|()| Self(text.to_owned()))
    }
    fn placeholder() -> Self {
        Self(String::new())
    }
}

impl fmt::Debug for CopyText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

/// Serialises and deserialises each value type as the text it was parsed from.
macro_rules! as_text {
    ($type:ty, $text:expr) => {
        impl Serialize for $type {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let text: &dyn Fn(&Self) -> String = &$text;
                serializer.serialize_str(&text(self))
            }
        }
        impl<'de> Deserialize<'de> for $type {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                deserialize_setting(deserializer)
            }
        }
    };
}

as_text!(Delay, |d: &Delay| d.text.clone());
as_text!(TimeOfDay, |t: &TimeOfDay| t.0.format("%H:%M").to_string());
as_text!(ShopZone, |z: &ShopZone| z.0.name().to_owned());
as_text!(CountryCode, |c: &CountryCode| c.as_str().to_owned());
as_text!(TemplateName<0>, |t: &TemplateName<0>| t.0.clone());
as_text!(TemplateName<1>, |t: &TemplateName<1>| t.0.clone());
as_text!(TemplateName<2>, |t: &TemplateName<2>| t.0.clone());
as_text!(CopyText, |c: &CopyText| c.0.clone());
