//! Addresses a shopper can be reached at, as types that cannot hold anything else: an [`Email`]
//! is one RFC 5322 address (parsed by the `email_address` crate, then held to what a recipient
//! field may carry), a [`PhoneE164`] is a valid number in E.164 (parsed and validated by
//! libphonenumber). Both are built only by their parsers, also when read back from storage. A
//! [`WrittenPhone`] is a number as a checkout wrote it, validated into a [`PhoneE164`] only when
//! something needs the number.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::ops::Deref;
use std::str::FromStr;

/// What both address types share: read as text (`Deref<Target = str>`, `AsRef`, `Display`,
/// comparison with text), stored as a string, and redacted in debug output (addresses are
/// personal data).
macro_rules! address_text {
    ($name:ident) => {
        impl Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}(<redacted>)", stringify!($name))
            }
        }

        impl From<$name> for String {
            fn from(address: $name) -> Self {
                address.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
    };
}

/// Why text is not an address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    #[error("not an email address: {0}")]
    Email(&'static str),
    #[error("not a valid phone number")]
    Phone,
}

/// The longest address accepted (RFC 5321's limit on a forward path).
const MAX_EMAIL_LENGTH: usize = 254;

/// One email address: a local part and a domain with a dot, no display name, no comments, no
/// whitespace, control characters or angle brackets, never several addresses; lower-cased.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    /// Parses one address (surrounding whitespace is trimmed; everything else must be an address).
    pub fn parse(raw: &str) -> Result<Self, AddressError> {
        let text = raw.trim();
        if text.is_empty() {
            return Err(AddressError::Email("empty"));
        }
        if text.len() > MAX_EMAIL_LENGTH {
            return Err(AddressError::Email("longer than 254 characters"));
        }
        if text.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(AddressError::Email("contains whitespace or control characters"));
        }
        if text.contains(['<', '>', ',', ';', '"', '(', ')', '\\', '[', ']']) {
            return Err(AddressError::Email("contains characters a recipient address may not carry"));
        }
        let options = email_address::Options::default().without_display_text().without_domain_literal();
        let parsed = email_address::EmailAddress::parse_with_options(text, options)
            .map_err(|_| AddressError::Email("not of the form name@domain"))?;
        if !parsed.domain().contains('.') || parsed.domain().starts_with('.') || parsed.domain().ends_with('.') {
            return Err(AddressError::Email("the domain has no dot"));
        }
        Ok(Self(parsed.as_str().to_lowercase()))
    }

    /// The address as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

address_text!(Email);

impl FromStr for Email {
    type Err = AddressError;
    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        Self::parse(raw)
    }
}

impl TryFrom<String> for Email {
    type Error = AddressError;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

/// A valid phone number in E.164 (`+12125550142`).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PhoneE164(String);

impl PhoneE164 {
    /// Parses a number as written (`+1 (212) 555-0142`, or national with `country`, an ISO 3166
    /// code such as `US`) and keeps it only if libphonenumber says it is valid.
    pub fn parse(raw: &str, country: Option<&str>) -> Result<Self, AddressError> {
        let country = country.and_then(|c| c.parse::<phonenumber::country::Id>().ok());
        let number = phonenumber::parse(country, raw).map_err(|_| AddressError::Phone)?;
        if !phonenumber::is_valid(&number) {
            return Err(AddressError::Phone);
        }
        Ok(Self(number.format().mode(phonenumber::Mode::E164).to_string()))
    }

    /// The number in E.164.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

address_text!(PhoneE164);

impl TryFrom<String> for PhoneE164 {
    type Error = AddressError;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw, None)
    }
}

/// A phone number as a checkout wrote it: the numbers it gave, in order of preference, and the
/// country of the address they came with. It becomes a [`PhoneE164`] through libphonenumber the
/// first time something asks ([`WrittenPhone::e164`]: the first candidate that is a valid number),
/// and only then. Validating a number costs about 5 µs, a third of a webhook's whole hot path;
/// a checkout is rewritten by every `checkouts/update`, while its number is needed only by an SMS
/// step, a contact key without an email, or a time zone that the address does not give.
///
/// Stored as it was written, so a later read validates it the same way; a stored E.164 string
/// (what older records hold) reads back as a one-candidate number.
#[derive(Clone, Serialize, Deserialize)]
#[serde(from = "StoredPhone", into = "StoredPhone")]
pub struct WrittenPhone {
    candidates: Vec<String>,
    country: Option<String>,
    e164: std::sync::OnceLock<Option<PhoneE164>>,
}

impl WrittenPhone {
    /// The longest text kept of one candidate (E.164 has at most 15 digits; a written number
    /// carries spaces, brackets and an extension).
    const MAX_TEXT: usize = 64;
    /// Candidates kept of one checkout.
    const MAX_CANDIDATES: usize = 4;

    /// The non-blank numbers among `candidates`, as written, with the address's `country` (an
    /// ISO 3166 code) for numbers written without `+`. `None` when none is left.
    pub fn written<'a>(candidates: impl IntoIterator<Item = &'a str>, country: Option<&str>) -> Option<Self> {
        let candidates: Vec<String> = candidates
            .into_iter()
            .map(str::trim)
            .filter(|text| !text.is_empty() && text.len() <= Self::MAX_TEXT)
            .take(Self::MAX_CANDIDATES)
            .map(str::to_owned)
            .collect();
        (!candidates.is_empty()).then(|| Self {
            candidates,
            country: country.map(str::to_owned),
            e164: std::sync::OnceLock::new(),
        })
    }

    /// The shopper's number in E.164: the first candidate libphonenumber calls valid.
    pub fn e164(&self) -> Option<&PhoneE164> {
        self.e164
            .get_or_init(|| {
                self.candidates.iter().find_map(|text| PhoneE164::parse(text, self.country.as_deref()).ok())
            })
            .as_ref()
    }
}

impl From<PhoneE164> for WrittenPhone {
    fn from(phone: PhoneE164) -> Self {
        Self { candidates: vec![phone.0.clone()], country: None, e164: std::sync::OnceLock::from(Some(phone)) }
    }
}

/// Two written numbers are the same when they are the same number (or neither is one).
impl PartialEq for WrittenPhone {
    fn eq(&self, other: &Self) -> bool {
        self.e164() == other.e164()
    }
}

impl Eq for WrittenPhone {}

impl fmt::Debug for WrittenPhone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WrittenPhone(<redacted>)")
    }
}

/// How a [`WrittenPhone`] is stored: as written, or (older records) one E.164 string.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum StoredPhone {
    Written { written: Vec<String>, country: Option<String> },
    E164(String),
}

impl From<StoredPhone> for WrittenPhone {
    fn from(stored: StoredPhone) -> Self {
        let (candidates, country) = match stored {
            StoredPhone::Written { written, country } => (written, country),
            StoredPhone::E164(text) => (vec![text], None),
        };
        Self { candidates, country, e164: std::sync::OnceLock::new() }
    }
}

impl From<WrittenPhone> for StoredPhone {
    fn from(phone: WrittenPhone) -> Self {
        StoredPhone::Written { written: phone.candidates, country: phone.country }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_email_is_one_plain_address_lower_cased() {
        assert_eq!(Email::parse(" Bob@Example.COM ").unwrap().as_str(), "bob@example.com");
        assert_eq!(
            Email::parse("first.last+tag@sub.example.co.uk").unwrap().as_str(),
            "first.last+tag@sub.example.co.uk"
        );
    }

    #[test]
    fn what_could_inject_headers_or_reach_several_people_is_not_an_email() {
        for hostile in [
            "me@x.co>\r\nBcc: <a@t.test>",
            "me@x.co\r\nBcc: a@t.test",
            "me@x.co\nBcc: a@t.test",
            "a@b.co, c@d.co",
            "a@b.co;c@d.co",
            "Name <a@b.co>",
            "<a@b.co>",
            "\"quoted name\"@b.co",
            "a b@c.co",
            "a@b.co\u{0}",
            "a@[127.0.0.1]",
            "a(comment)@b.co",
            "nobody",
            "@x.com",
            "a@localhost",
            "a@b.",
            "",
        ] {
            assert!(Email::parse(hostile).is_err(), "{hostile:?} was accepted");
        }
        assert!(Email::parse(&format!("{}@example.com", "a".repeat(250))).is_err(), "too long");
    }

    #[test]
    fn stored_addresses_are_parsed_again_when_read() {
        let parsed: Result<Email, _> = serde_json::from_str("\"a@b.co\\r\\nBcc: x@y.co\"");
        assert!(parsed.is_err());
        let email: Email = serde_json::from_str("\"Ada@Example.com\"").unwrap();
        assert_eq!(serde_json::to_string(&email).unwrap(), "\"ada@example.com\"");
    }

    #[test]
    fn phones_are_valid_numbers_in_e164() {
        assert_eq!(PhoneE164::parse("+1 (212) 555-0142", None).unwrap().as_str(), "+12125550142");
        assert_eq!(PhoneE164::parse("(212) 555-0142", Some("US")).unwrap().as_str(), "+12125550142");
        assert_eq!(PhoneE164::parse("030 901820", Some("DE")).unwrap().as_str(), "+4930901820");
        for bad in ["12", "+1 555", "not a number", "+999 1234567"] {
            assert!(PhoneE164::parse(bad, None).is_err(), "{bad}");
        }
    }

    #[test]
    fn debug_output_never_shows_an_address() {
        let email = Email::parse("ada@example.com").unwrap();
        let phone = PhoneE164::parse("+12125550142", None).unwrap();
        assert!(!format!("{email:?} {phone:?}").contains("ada") && !format!("{phone:?}").contains("555"));
    }

    #[test]
    fn a_written_phone_is_validated_only_when_asked_and_stored_as_written() {
        let phone = WrittenPhone::written(["  ", "not a number", "(212) 555-0142"], Some("US")).unwrap();
        assert!(phone.e164.get().is_none(), "nothing validated before it is needed");
        assert_eq!(phone.e164().map(|p| p.as_str()), Some("+12125550142"));
        let stored = serde_json::to_string(&phone).unwrap();
        assert_eq!(stored, r#"{"written":["not a number","(212) 555-0142"],"country":"US"}"#);
        let read: WrittenPhone = serde_json::from_str(&stored).unwrap();
        assert_eq!(read, phone);
        assert!(WrittenPhone::written(["", " "], Some("US")).is_none());
        assert_eq!(format!("{phone:?}"), "WrittenPhone(<redacted>)");
    }

    #[test]
    fn a_stored_e164_string_reads_back_and_equal_numbers_are_equal_however_written() {
        let older: WrittenPhone = serde_json::from_str(r#""+12125550142""#).unwrap();
        let written = WrittenPhone::written(["+1 212-555-0142"], None).unwrap();
        assert_eq!(older, written);
        assert_ne!(older, WrittenPhone::written(["+4930901820"], None).unwrap());
        let known = WrittenPhone::from(PhoneE164::parse("+12125550142", None).unwrap());
        assert_eq!(known.e164().map(|p| p.as_str()), Some("+12125550142"));
        assert_eq!(serde_json::from_str::<WrittenPhone>(&serde_json::to_string(&known).unwrap()).unwrap(), known);
    }
}
