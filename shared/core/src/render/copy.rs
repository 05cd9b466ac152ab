//! Message copy: the words of each message (an email's subject, greeting, heading, body and
//! button; an SMS's text; a push's title and body) per template and [`Language`], the email
//! layout's own words, and the merchant's copy in their place ([`StepCopy`]).
//!
//! Copy is a small language run by minijinja in a sandbox ([`check`]): `{{ variable }}` with a few
//! text filters and `{% if variable %}`, naming only the documented [`VARIABLES`]; nothing loops,
//! multiplies or joins, so rendering is bounded, and a fuel budget backs that up. What it renders
//! is plain text that the email's layout escapes like any other value, so copy can never add
//! markup to the layout. The variables' types never change, so copy that renders with the example
//! values renders with every cart.
//!
//! The defaults are `templates/copy.json`: every template and the layout in every language.

use super::{Language, RenderError};
use crate::model::Channel;
use crate::rules::{CopyText, StepCopy};
use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// The variables copy may use, with what each holds (shown to merchants beside the editor).
pub const VARIABLES: &[(&str, &str)] = &[
    ("first_name", "the shopper's first name (empty when unknown)"),
    ("shop_name", "your shop's name"),
    ("total", "the cart's total, in the shopper's currency and format"),
    ("item_count", "how many items are in the cart"),
    ("discount_code", "the step's discount code (empty without one)"),
    ("discount_percent", "the discount's percentage (0 without one)"),
];

/// The longest piece of copy, in characters.
pub const MAX_CHARS: usize = 2000;

/// The work one piece of copy may do while rendering (minijinja fuel): far more than any honest
/// copy needs, far less than a loop that would stall a send.
const FUEL: u64 = 2_000;

/// A field of a message's copy. Each channel has its own ([`CopyField::of`]). Read from its
/// name as a string (also as a map key, so a settings error names it in its path).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", try_from = "String")]
pub enum CopyField {
    Subject,
    Greeting,
    Heading,
    Body,
    Button,
    Text,
    Title,
}

impl CopyField {
    /// The fields of `channel`'s copy, in the order an editor shows them.
    pub fn of(channel: Channel) -> &'static [CopyField] {
        use CopyField::*;
        match channel {
            Channel::Email => &[Subject, Greeting, Heading, Body, Button],
            Channel::Sms => &[Text],
            Channel::Push => &[Title, Body],
        }
    }

    /// Whether `channel`'s copy has this field.
    pub fn is_of(self, channel: Channel) -> bool {
        Self::of(channel).contains(&self)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CopyField::Subject => "subject",
            CopyField::Greeting => "greeting",
            CopyField::Heading => "heading",
            CopyField::Body => "body",
            CopyField::Button => "button",
            CopyField::Text => "text",
            CopyField::Title => "title",
        }
    }

    /// `channel`'s fields as a list for people: "subject, greeting, heading, body, button".
    pub fn names_of(channel: Channel) -> String {
        Self::of(channel).iter().map(|field| field.as_str()).collect::<Vec<_>>().join(", ")
    }
}

impl TryFrom<String> for CopyField {
    type Error = String;
    fn try_from(name: String) -> Result<Self, String> {
        use CopyField::*;
        [Subject, Greeting, Heading, Body, Button, Text, Title]
            .into_iter()
            .find(|field| field.as_str() == name)
            .ok_or_else(|| format!("{name:?} is not a copy field"))
    }
}

/// One message's copy: some or all of its channel's fields.
pub type MessageCopy = BTreeMap<CopyField, CopyText>;

/// The words of the email's layout around the copy.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayoutCopy {
    pub quantity: CopyText,
    pub total: CopyText,
    pub discount: CopyText,
    pub why: CopyText,
    pub unsubscribe: CopyText,
    pub stop: CopyText,
}

/// The values copy is rendered with (the documented [`VARIABLES`]).
#[derive(Debug, Clone, Serialize)]
pub struct CopyValues<'a> {
    pub first_name: &'a str,
    pub shop_name: &'a str,
    pub total: String,
    pub item_count: u32,
    pub discount_code: &'a str,
    pub discount_percent: u8,
}

/// The filters copy may apply to a variable (text in, text out).
pub const FILTERS: &[&str] = &["upper", "lower", "title", "capitalize", "trim"];

/// Why `text` cannot be used as copy, if it cannot: too long, not a template, a construct copy
/// may not use, a variable that is not documented, or it would not render.
///
/// Copy is a small language on purpose: `{{ variable }}` with any of [`FILTERS`], and
/// `{% if variable %}` / `{% if not variable %}`, `{% elif … %}`, `{% else %}`, `{% endif %}`.
/// Nothing loops, multiplies or joins, so what copy renders is bounded by its own length and the
/// variables' (which the model bounds), and the variables' types never change, so copy that
/// renders with the example values renders with every cart.
pub fn check(text: &str) -> Result<(), String> {
    if text.chars().count() > MAX_CHARS {
        return Err(format!("must be at most {MAX_CHARS} characters"));
    }
    check_constructs(text)?;
    let env = sandbox();
    let template = env.template_from_str(text).map_err(|error| format!("cannot be read: {}", reason(&error)))?;
    let mut unknown: Vec<String> = template
        .undeclared_variables(false)
        .into_iter()
        .filter(|name| !VARIABLES.iter().any(|(known, _)| known == name))
        .collect();
    if !unknown.is_empty() {
        unknown.sort();
        let known: Vec<&str> = VARIABLES.iter().map(|(name, _)| *name).collect();
        return Err(format!("uses {}, which is not one of {}", unknown.join(", "), known.join(", ")));
    }
    for values in [example_values(true), example_values(false)] {
        template.render(&values).map_err(|error| format!("does not render: {}", reason(&error)))?;
    }
    Ok(())
}

/// Refuses any construct outside copy's small language (see [`check`]).
fn check_constructs(text: &str) -> Result<(), String> {
    let name = |word: &str| !word.is_empty() && word.chars().all(|c| c.is_ascii_lowercase() || c == '_');
    let mut rest = text;
    while let Some(start) = rest.find(['{']) {
        let after = &rest[start + 1..];
        let (close, kind) = match after.chars().next() {
            Some('{') => ("}}", "expression"),
            Some('%') => ("%}", "tag"),
            Some('#') => return Err("may not contain comments ({# … #})".into()),
            _ => {
                rest = after;
                continue;
            }
        };
        let inner_start = start + 2;
        let Some(length) = rest[inner_start..].find(close) else {
            return Err(format!("has an unclosed {kind}"));
        };
        let inner = rest[inner_start..inner_start + length].trim().trim_matches('-').trim();
        let allowed = if kind == "expression" {
            let mut parts = inner.split('|').map(str::trim);
            parts.next().is_some_and(name) && parts.all(|filter| FILTERS.contains(&filter))
        } else {
            let words: Vec<&str> = inner.split_whitespace().collect();
            match words.as_slice() {
                ["if" | "elif", variable] | ["if" | "elif", "not", variable] => name(variable),
                ["else"] | ["endif"] => true,
                _ => false,
            }
        };
        if !allowed {
            return Err(format!(
                "may use only {{{{ variable }}}} (with the filters {}) and {{% if variable %}} … {{% endif %}}, not {:?}",
                FILTERS.join(", "),
                &rest[start..inner_start + length + 2]
            ));
        }
        rest = &rest[inner_start + length + 2..];
    }
    Ok(())
}

/// Renders `copy` with `values` in the sandbox.
pub fn render(copy: &CopyText, values: &CopyValues<'_>) -> Result<String, RenderError> {
    Ok(sandbox().render_str(copy.as_str(), values)?)
}

/// The copy of `field` for a message of `template` on `channel` in `language`: the merchant's
/// for the step, else the template's in that language, else the template's in English.
pub fn field<'a>(
    channel: Channel,
    template: &str,
    language: Language,
    step: Option<&'a StepCopy>,
    field: CopyField,
) -> Result<&'a CopyText, RenderError> {
    let own = step.and_then(|copy| copy.get(channel, language)).and_then(|copy| copy.get(&field));
    let by_language =
        defaults().channel(channel).get(template).ok_or_else(|| RenderError::UnknownTemplate(template.to_owned()))?;
    own.or_else(|| by_language.get(&language).and_then(|copy| copy.get(&field)))
        .or_else(|| by_language.get(&Language::En).and_then(|copy| copy.get(&field)))
        .ok_or_else(|| RenderError::UnknownTemplate(format!("{template} has no {}", field.as_str())))
}

/// The email layout's words in `language`.
pub fn layout(language: Language) -> &'static LayoutCopy {
    let layouts = &defaults().layout;
    layouts.get(&language).or_else(|| layouts.get(&Language::En)).expect("the defaults have an English layout")
}

/// The names of `channel`'s templates.
pub fn templates(channel: Channel) -> impl Iterator<Item = &'static str> {
    defaults().channel(channel).keys().map(String::as_str)
}

/// The default copy of every template, per channel and language, and the layout's.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Defaults {
    email: BTreeMap<String, BTreeMap<Language, MessageCopy>>,
    sms: BTreeMap<String, BTreeMap<Language, MessageCopy>>,
    push: BTreeMap<String, BTreeMap<Language, MessageCopy>>,
    layout: BTreeMap<Language, LayoutCopy>,
}

impl Defaults {
    fn channel(&self, channel: Channel) -> &BTreeMap<String, BTreeMap<Language, MessageCopy>> {
        match channel {
            Channel::Email => &self.email,
            Channel::Sms => &self.sms,
            Channel::Push => &self.push,
        }
    }
}

fn defaults() -> &'static Defaults {
    static DEFAULTS: OnceLock<Defaults> = OnceLock::new();
    DEFAULTS.get_or_init(|| {
        serde_json::from_str(include_str!("../../templates/copy.json")).expect("templates/copy.json is valid copy")
    })
}

/// The environment copy renders in: no templates to include, no globals, strict about unknown
/// names, plain-text output, and a fuel budget.
fn sandbox() -> &'static Environment<'static> {
    static SANDBOX: OnceLock<Environment<'static>> = OnceLock::new();
    SANDBOX.get_or_init(|| {
        // The default filters and tests; its global functions are never reached: `check`
        // refuses any name that is not a documented variable.
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_auto_escape_callback(|_| AutoEscape::None);
        env.set_fuel(Some(FUEL));
        env
    })
}

/// Example values for [`check`]: with a name and a discount, or with neither.
fn example_values(complete: bool) -> CopyValues<'static> {
    CopyValues {
        first_name: if complete { "Alex" } else { "" },
        shop_name: "Shop",
        total: "$89.00".into(),
        item_count: 2,
        discount_code: if complete { "BACK-7Q2X9" } else { "" },
        discount_percent: if complete { 10 } else { 0 },
    }
}

/// A template error's reason, without minijinja's location noise.
fn reason(error: &minijinja::Error) -> String {
    error.detail().map_or_else(|| error.kind().to_string(), str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_has_every_field_in_every_language_and_each_renders() {
        let defaults = defaults();
        for channel in [Channel::Email, Channel::Sms, Channel::Push] {
            for (template, languages) in defaults.channel(channel) {
                for language in Language::ALL {
                    let copy = languages.get(&language).unwrap_or_else(|| panic!("{template} has no {language}"));
                    let mut expected = CopyField::of(channel).to_vec();
                    expected.sort();
                    assert_eq!(copy.keys().copied().collect::<Vec<_>>(), expected, "{template} in {language}");
                    for text in copy.values() {
                        assert!(render(text, &example_values(true)).is_ok(), "{template} {language}: {text:?}");
                    }
                }
            }
        }
        for language in Language::ALL {
            assert!(defaults.layout.contains_key(&language), "the layout in {language}");
            assert!(layout(language).stop.as_str().contains("STOP"), "carriers know STOP ({language})");
        }
    }

    #[test]
    fn copy_names_only_documented_variables() {
        for good in [
            "Hi {{ first_name }}",
            "{% if discount_code %}{{ discount_percent }}% off{% else %}{{ shop_name|upper }}{% endif %}",
            "{%- if not first_name -%}Hello{% elif first_name %}Hi {{first_name|title|trim}}{% endif %}",
            "plain, with { braces } and 100% sure",
            "",
        ] {
            assert_eq!(check(good), Ok(()), "{good}");
        }
        for (bad, expected) in [
            ("{{ password }}", "uses password, which is not one of first_name"),
            ("{{ range(10) }}", "may use only"),
            ("{% for i in range(100000) %}x{% endfor %}", "may use only"),
            ("{{ config }}", "uses config"),
            ("{% include 'email.html' %}", "may use only"),
            ("{{ first_name", "unclosed"),
            ("{{ item_count + 'x' }}", "may use only"),
            ("{% set a = first_name * 25000000 %}{{ a~a~a }}", "may use only"),
            ("{{ shop_name * 40 }}", "may use only"),
            ("{{ first_name[3] }}", "may use only"),
            ("{{ first_name|safe }}", "may use only"),
            ("{# note #}", "comments"),
            ("{% if first_name %}x", "cannot be read"),
        ] {
            let error = check(bad).unwrap_err();
            assert!(error.contains(expected), "{bad}: {error}");
        }
        assert!(check(&"a".repeat(MAX_CHARS + 1)).unwrap_err().contains("at most"));
    }

    #[test]
    fn copy_renders_text_and_never_markup() {
        let values = CopyValues { first_name: "<b>Ada</b>", ..example_values(true) };
        let copy = CopyText::known("Hi {{ first_name|trim }}");
        // Plain text out: the layout escapes it (see the email tests).
        assert_eq!(render(&copy, &values).unwrap(), "Hi <b>Ada</b>");
    }

    #[test]
    fn the_merchants_copy_comes_first_then_the_language_then_english() {
        let mut step = StepCopy::default();
        step.email
            .insert(Language::De, [(CopyField::Subject, CopyText::known("Dein Warenkorb, {{ first_name }}"))].into());
        let subject = |language, step| field(Channel::Email, "reminder", language, step, CopyField::Subject).unwrap();
        assert_eq!(subject(Language::De, Some(&step)).as_str(), "Dein Warenkorb, {{ first_name }}");
        assert_ne!(subject(Language::Fr, Some(&step)).as_str(), subject(Language::En, None).as_str(), "French default");
        let heading = field(Channel::Email, "reminder", Language::De, Some(&step), CopyField::Heading).unwrap();
        assert_ne!(heading.as_str(), subject(Language::En, None).as_str());
        assert!(field(Channel::Email, "nope", Language::En, None, CopyField::Subject).is_err());
    }
}
