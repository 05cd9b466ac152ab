//! Addresses a shopper can be reached at, as types that cannot hold anything else: an [`Email`]
//! is one RFC 5322 address (parsed by the `email_address` crate, then held to what a recipient
//! field may carry), a [`PhoneE164`] is a valid number in E.164 (parsed and validated by
//! libphonenumber). Both are built only by their parsers, also when read back from storage.

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
}
