//! The languages Reclaim writes to shoppers in, and how a shopper's locale picks one.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A language Reclaim's messages come in (the defaults are translated into each, and a
/// merchant's copy is kept per language).
///
/// Read from its code as a string (also as a map key, so a settings error names it in its path).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", try_from = "String")]
pub enum Language {
    En,
    De,
    Fr,
    Es,
    Pt,
    It,
    Nl,
}

impl Language {
    /// Every language, English first.
    pub const ALL: [Language; 7] =
        [Language::En, Language::De, Language::Fr, Language::Es, Language::Pt, Language::It, Language::Nl];

    /// The language's code (ISO 639-1), as settings and locales write it.
    pub fn code(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::De => "de",
            Language::Fr => "fr",
            Language::Es => "es",
            Language::Pt => "pt",
            Language::It => "it",
            Language::Nl => "nl",
        }
    }

    /// The language of a BCP 47 locale as Shopify sends it (`de`, `de-AT`, `pt-BR`, `fr_CA`), if
    /// Reclaim writes in it.
    pub fn of_locale(locale: &str) -> Option<Language> {
        let primary = locale.split(['-', '_']).next().unwrap_or_default();
        Language::ALL.into_iter().find(|language| primary.eq_ignore_ascii_case(language.code()))
    }

    /// The language a shopper is written to in: their locale's, else English.
    pub fn for_shopper(locale: Option<&str>) -> Language {
        locale.and_then(Language::of_locale).unwrap_or(Language::En)
    }
}

impl TryFrom<String> for Language {
    type Error = String;
    fn try_from(code: String) -> Result<Self, String> {
        Language::ALL.into_iter().find(|language| language.code() == code).ok_or_else(|| {
            let codes: Vec<&str> = Language::ALL.iter().map(|language| language.code()).collect();
            format!("{code:?} is not a language Reclaim writes in ({})", codes.join(", "))
        })
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_locale_picks_its_language_and_anything_else_is_english() {
        for (locale, language) in [
            (Some("de"), Language::De),
            (Some("de-AT"), Language::De),
            (Some("DE-de"), Language::De),
            (Some("pt-BR"), Language::Pt),
            (Some("fr_CA"), Language::Fr),
            (Some("nl"), Language::Nl),
            (Some("it-IT"), Language::It),
            (Some("es-419"), Language::Es),
            (Some("ja"), Language::En),
            (Some(""), Language::En),
            (Some("d"), Language::En),
            (None, Language::En),
        ] {
            assert_eq!(Language::for_shopper(locale), language, "{locale:?}");
        }
    }

    #[test]
    fn codes_round_trip_through_serde() {
        for language in Language::ALL {
            let json = serde_json::to_string(&language).unwrap();
            assert_eq!(json, format!("\"{}\"", language.code()));
            assert_eq!(serde_json::from_str::<Language>(&json).unwrap(), language);
        }
    }
}
